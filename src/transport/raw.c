/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/opts.h"
#if KITE_RAW /* the whole file is raw IP (KITE_RAW = 0 leaves it out) */
/* Raw IPv4 (include/kite/raw.h): copies of packets by protocol number,
 * before the protocol's own handler runs. */
#include "kite/raw.h"

#include <string.h>

#include "kite/stack.h"
#include "kite_internal/ipv4.h"
#include "kite_internal/pbuf.h"
#include "kite_internal/pool.h"
#include "kite_internal/raw.h"

static bool matches(const struct kite_raw_pcb *pcb, const struct kite_ip_rx *rx)
{
    if (pcb->proto != rx->proto)
        return false;
    if (!kite_addr_is_any(&pcb->local_ip) && pcb->local_ip.u.v4 != rx->dst)
        return false;
    return kite_addr_is_any(&pcb->remote_ip) || pcb->remote_ip.u.v4 == rx->src;
}

/* p still holds the IP header (rx->hlen bytes in front of the payload). */
static bool raw_input(struct kite_stack *stack, const struct kite_pbuf *p,
                      const struct kite_ip_rx *rx)
{
    bool taken = false;
    for (struct kite_raw_pcb *pcb = stack->raw.pcbs; pcb != NULL; pcb = pcb->next) {
        if (!matches(pcb, rx) || pcb->recv == NULL)
            continue;
        taken = true;
        struct kite_pbuf *copy = kite_pbuf_clone(stack, KITE_LAYER_LINK, p);
        if (copy == NULL) {
            stack->stats.ipv4.drop_no_mem++;
            continue;
        }
        struct kite_addr src = KITE_ADDR_V4(rx->src), dst = KITE_ADDR_V4(rx->dst);
        pcb->recv(pcb->recv_arg, pcb, copy, &src, &dst);
    }
    return taken;
}

void kite__raw_init(struct kite_stack *stack)
{
    memset(&stack->raw, 0, sizeof stack->raw);
    stack->raw_input = raw_input;
}

struct kite_raw_pcb *kite_raw_new(struct kite_stack *stack, uint8_t proto)
{
    struct kite_raw_pcb *pcb = kite__pool_alloc(&stack->pools[KITE_POOL_RAW_PCB]);
    if (pcb == NULL)
        return NULL;
    pcb->stack = stack;
    pcb->proto = proto;
    pcb->ttl = KITE_IPV4_DEFAULT_TTL;
    pcb->local_ip = KITE_ADDR_ANY4;
    pcb->remote_ip = KITE_ADDR_ANY4;
    pcb->next = stack->raw.pcbs;
    stack->raw.pcbs = pcb;
    return pcb;
}

void kite_raw_remove(struct kite_raw_pcb *pcb)
{
    for (struct kite_raw_pcb **pp = &pcb->stack->raw.pcbs; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == pcb) {
            *pp = pcb->next;
            break;
        }
    }
    kite__pool_free(&pcb->stack->pools[KITE_POOL_RAW_PCB], pcb);
}

enum kite_err kite_raw_bind(struct kite_raw_pcb *pcb, const struct kite_addr *ip)
{
    struct kite_addr local = ip != NULL ? *ip : KITE_ADDR_ANY4;
    if (!kite_addr_is_any(&local) && !kite_ipv4_is_local(pcb->stack, local.u.v4))
        return KITE_ERR_VAL;
    pcb->local_ip = local;
    return KITE_ERR_OK;
}

enum kite_err kite_raw_connect(struct kite_raw_pcb *pcb, const struct kite_addr *ip)
{
    if (ip == NULL)
        return KITE_ERR_ARG;
    pcb->remote_ip = *ip;
    return KITE_ERR_OK;
}

void kite_raw_recv(struct kite_raw_pcb *pcb, kite_raw_recv_fn fn, void *arg)
{
    pcb->recv = fn;
    pcb->recv_arg = arg;
}

enum kite_err kite_raw_sendto(struct kite_raw_pcb *pcb, struct kite_pbuf *p,
                              const struct kite_addr *dst)
{
    const struct kite_addr *to = dst != NULL ? dst : &pcb->remote_ip;
    if (kite_addr_is_any(to))
        return KITE_ERR_NOTCONN;
    uint32_t src = kite_addr_is_any(&pcb->local_ip) ? 0 : pcb->local_ip.u.v4;
    return kite__ipv4_output(pcb->stack, p, src, to->u.v4, pcb->proto, pcb->ttl, pcb->tos);
}
#else
typedef int kite_raw_disabled_; /* ISO C wants a non-empty file */
#endif
