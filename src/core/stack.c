/* SPDX-License-Identifier: BSD-3-Clause */
/* The core of a stack instance: clock, timers, random numbers, pools, the
 * protocol dispatch tables and statistics. Knows nothing of protocols. */
#include "kite/stack.h"

#include "kite_internal/pool.h"
#include "kite_internal/stack.h"
#include "kite_internal/timer.h"

#include <string.h>

static const struct {
    const char *name;
    size_t size;
    uint16_t count;
} pool_specs[KITE_POOL__COUNT] = {
#define KITE_POOL_SPEC_(id, name, size, count) {name, KITE_POOL_ALIGN(size), count},
    KITE_POOLS(KITE_POOL_SPEC_)
#undef KITE_POOL_SPEC_
};

static void *pool_storage(struct kite_stack *stack, enum kite_pool_id id)
{
    switch (id) {
#define KITE_POOL_MEMBER_(pid, name, size, count)                                                  \
    case KITE_POOL_##pid:                                                                          \
        return stack->mem.pid;
        KITE_POOLS(KITE_POOL_MEMBER_)
#undef KITE_POOL_MEMBER_
    case KITE_POOL__COUNT:
        break;
    }
    return NULL;
}

void kite__core_init(struct kite_stack *stack, const struct kite_stack_config *cfg)
{
    memset(stack, 0, offsetof(struct kite_stack, mem));
    stack->now = cfg != NULL ? cfg->now : 0;
    stack->rand_state = cfg != NULL ? cfg->seed : 1;
    stack->next_netif_index = 1;
    for (int i = 0; i < KITE_POOL__COUNT; i++) {
        enum kite_pool_id id = (enum kite_pool_id)i;
        kite__pool_init(&stack->pools[i], pool_specs[i].name, pool_storage(stack, id),
                        pool_specs[i].size, pool_specs[i].count);
    }
    /* Packet payloads are always written before they are read: clear headers only. */
    kite__pool_set_clear_size(&stack->pools[KITE_POOL_PBUF_POOL], sizeof(struct kite_pbuf));
    kite__pool_set_clear_size(&stack->pools[KITE_POOL_PBUF_RAM], sizeof(struct kite_pbuf));
    stack->ip_id = (uint16_t)kite_random_u32(stack);
}

void kite_stack_burst_begin(struct kite_stack *stack)
{
#if KITE_TCP_ACK_BURST
    stack->burst_depth++;
#else
    (void)stack;
#endif
}

void kite_stack_burst_end(struct kite_stack *stack)
{
#if KITE_TCP_ACK_BURST
    if (stack->burst_depth > 0 && --stack->burst_depth == 0 && stack->burst_end != NULL)
        stack->burst_end(stack);
#else
    (void)stack;
#endif
}

void kite_stack_poll(struct kite_stack *stack, kite_time_ms now)
{
    /* Time never goes backwards inside the stack, whatever the caller passes. */
    if (now > stack->now)
        stack->now = now;
    kite__timers_run(stack, stack->now);
}

kite_time_ms kite_stack_next_deadline(const struct kite_stack *stack)
{
    return stack->timers != NULL ? stack->timers->deadline : KITE_TIME_NEVER;
}

uint32_t kite_random_u32(struct kite_stack *stack)
{
    /* splitmix64: tiny, full period, good enough for ports and IP ids;
     * TCP ISNs add a keyed hash on top (RFC 6528). */
    uint64_t z = (stack->rand_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

const struct kite_pool *kite_stack_pool(const struct kite_stack *stack, enum kite_pool_id id)
{
    return (unsigned)id < KITE_POOL__COUNT ? &stack->pools[id] : NULL;
}

unsigned kite_stack_pools_in_use(const struct kite_stack *stack)
{
    unsigned used = 0;
    for (int i = 0; i < KITE_POOL__COUNT; i++)
        used += stack->pools[i].used;
    return used;
}

enum kite_err kite__stack_register_ethertype(struct kite_stack *stack, uint16_t type,
                                             kite_l3_input_fn input)
{
    for (int i = 0; i < KITE_MAX_ETHERTYPES; i++) {
        if (stack->ethertypes[i].input == NULL || stack->ethertypes[i].type == type) {
            stack->ethertypes[i].type = type;
            stack->ethertypes[i].input = input;
            return KITE_ERR_OK;
        }
    }
    return KITE_ERR_MEM;
}

kite_l3_input_fn kite__stack_ethertype_handler(const struct kite_stack *stack, uint16_t type)
{
    for (int i = 0; i < KITE_MAX_ETHERTYPES; i++) {
        if (stack->ethertypes[i].input != NULL && stack->ethertypes[i].type == type)
            return stack->ethertypes[i].input;
    }
    return NULL;
}

enum kite_err kite__stack_register_ip_proto(struct kite_stack *stack, uint8_t proto,
                                            kite_proto_input_fn input, kite_proto_error_fn error)
{
    for (int i = 0; i < KITE_MAX_IP_PROTOS; i++) {
        if (stack->ip_protos[i].input == NULL || stack->ip_protos[i].proto == proto) {
            stack->ip_protos[i].proto = proto;
            stack->ip_protos[i].input = input;
            stack->ip_protos[i].error = error;
            return KITE_ERR_OK;
        }
    }
    return KITE_ERR_MEM;
}

kite_proto_input_fn kite__stack_ip_proto_input(const struct kite_stack *stack, uint8_t proto)
{
    for (int i = 0; i < KITE_MAX_IP_PROTOS; i++) {
        if (stack->ip_protos[i].input != NULL && stack->ip_protos[i].proto == proto)
            return stack->ip_protos[i].input;
    }
    return NULL;
}

kite_proto_error_fn kite__stack_ip_proto_error(const struct kite_stack *stack, uint8_t proto)
{
    for (int i = 0; i < KITE_MAX_IP_PROTOS; i++) {
        if (stack->ip_protos[i].input != NULL && stack->ip_protos[i].proto == proto)
            return stack->ip_protos[i].error;
    }
    return NULL;
}

enum kite_err kite__stack_register_netif_hook(struct kite_stack *stack, kite_netif_event_fn fn)
{
    for (int i = 0; i < KITE_MAX_NETIF_HOOKS; i++) {
        if (stack->netif_events[i] == NULL || stack->netif_events[i] == fn) {
            stack->netif_events[i] = fn;
            return KITE_ERR_OK;
        }
    }
    return KITE_ERR_MEM;
}

void kite__stack_netif_event(struct kite_stack *stack, struct kite_netif *netif,
                             enum kite_netif_event event, uint32_t old)
{
    bool reverse = event == KITE_NETIF_EV_REMOVED;
    for (int n = 0; n < KITE_MAX_NETIF_HOOKS; n++) {
        int i = reverse ? KITE_MAX_NETIF_HOOKS - 1 - n : n;
        if (stack->netif_events[i] != NULL)
            stack->netif_events[i](stack, netif, event, old);
    }
    if (stack->netif_callback != NULL)
        stack->netif_callback(stack->netif_callback_ctx, netif, event, old);
}

void kite_stack_set_netif_callback(struct kite_stack *stack, kite_netif_callback_fn fn, void *ctx)
{
    stack->netif_callback = fn;
    stack->netif_callback_ctx = ctx;
}

void kite_stats_foreach(const struct kite_stack *stack,
                        void (*fn)(void *ctx, const char *group, const char *name, uint32_t value),
                        void *ctx)
{
#define KITE_STATS_VISIT_(field) fn(ctx, group, #field, counters->field);
#define KITE_STATS_GROUP_(gname, list)                                                             \
    {                                                                                              \
        const char *group = #gname;                                                                \
        const struct kite_stats_##gname *counters = &stack->stats.gname;                           \
        list(KITE_STATS_VISIT_)                                                                    \
    }
    KITE_STATS_GROUPS(KITE_STATS_GROUP_)
#undef KITE_STATS_GROUP_
#undef KITE_STATS_VISIT_
}
