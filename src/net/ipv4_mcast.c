/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 output with options and to multicast groups (RFC 1112 6). Kept apart
 * from ipv4.c: IGMP sends with the Router Alert option (RFC 2113, RFC 3376
 * 4), and a datagram a member on this host should hear too is looped back
 * (IP_MULTICAST_LOOP) through a queue drained by a timer due at once, so a
 * send never re-enters the input path.
 */
#include "kite/stack.h"
#include "kite/wire/ethernet.h"
#include "kite/wire/ipv4.h"

#include "kite_internal/arp.h"
#include "kite_internal/ipv4.h"
#include "kite_internal/ipv4_mcast.h"
#include "kite_internal/pbuf.h"
#include "kite_internal/stack.h"

enum kite_err kite__ipv4_output_opts(struct kite_netif *netif, struct kite_pbuf *p, uint32_t src,
                                     uint32_t dst, uint8_t proto, uint8_t ttl, uint8_t tos,
                                     const uint8_t *opts, uint8_t optlen)
{
    struct kite_stack *stack = netif->stack;
    uint16_t hlen = (uint16_t)(KITE_IPV4_HLEN + optlen);
    if ((uint32_t)p->tot_len + hlen > netif->mtu) {
        stack->stats.ipv4.drop_too_big++;
        return KITE_ERR_BUF;
    }
    struct kite_pbuf *head = kite__pbuf_prepend(stack, p, hlen, KITE_PBUF_LINK_HLEN);
    if (head == NULL) {
        stack->stats.ipv4.drop_no_mem++;
        return KITE_ERR_MEM;
    }
    struct kite_ipv4_repr ip = {
        .tos = tos,
        .total_len = head->tot_len,
        .id = stack->ip_id++,
        .ttl = ttl,
        .proto = proto,
        .src = src,
        .dst = dst,
    };
    enum kite_err err = kite_ipv4_emit_opts(&ip, opts, optlen, head->payload, head->len);
    if (err == KITE_ERR_OK)
        err = kite__arp_output(netif, head, dst);
    if (err == KITE_ERR_OK)
        stack->stats.ipv4.tx++;
    else
        stack->stats.ipv4.tx_fail++;
    kite__pbuf_unprepend(stack, head, p, hlen);
    return err;
}

#if KITE_IGMP

static void loop_deliver(struct kite_stack *stack, struct kite_timer *timer)
{
    struct kite_igmp *ig = KITE_CONTAINER_OF(timer, struct kite_igmp, loop_timer);
    kite_l3_input_fn input = kite__stack_ethertype_handler(stack, KITE_ETHERTYPE_IPV4);
    /* Only what is queued now: datagrams looped meanwhile wait a round. */
    uint8_t n = ig->loop_count;
    while (n-- > 0 && ig->loop_count > 0) {
        struct kite_pbuf *p = ig->loop_q[ig->loop_head];
        struct kite_netif *netif = ig->loop_netif[ig->loop_head];
        ig->loop_q[ig->loop_head] = NULL;
        ig->loop_head = (uint8_t)((ig->loop_head + 1u) % KITE_IGMP_LOOP_QUEUE_LEN);
        ig->loop_count--;
        p->flags |= KITE_PBUF_FLAG_LL_MULTICAST;
        if (input != NULL && kite_netif_is_up(netif))
            input(netif, p);
        else
            kite_pbuf_free(stack, p);
    }
    if (ig->loop_count > 0)
        kite_timer_arm(stack, &ig->loop_timer, stack->now);
}

void kite__ipv4_mcast_init(struct kite_stack *stack)
{
    kite_timer_init(&stack->igmp.loop_timer, loop_deliver);
}

void kite__ipv4_mcast_loop_purge(struct kite_stack *stack, const struct kite_netif *netif)
{
    struct kite_igmp *ig = &stack->igmp;
    for (uint8_t i = 0; i < ig->loop_count; i++) {
        uint8_t k = (uint8_t)((ig->loop_head + i) % KITE_IGMP_LOOP_QUEUE_LEN);
        if (ig->loop_netif[k] == netif || netif == NULL) {
            kite_pbuf_free(stack, ig->loop_q[k]);
            ig->loop_q[k] = NULL;
        }
    }
    /* Compact the ring, dropping the freed slots. */
    uint8_t kept = 0, count = ig->loop_count;
    for (uint8_t i = 0; i < count; i++) {
        uint8_t from = (uint8_t)((ig->loop_head + i) % KITE_IGMP_LOOP_QUEUE_LEN);
        uint8_t to = (uint8_t)((ig->loop_head + kept) % KITE_IGMP_LOOP_QUEUE_LEN);
        if (ig->loop_q[from] == NULL)
            continue;
        ig->loop_q[to] = ig->loop_q[from];
        ig->loop_netif[to] = ig->loop_netif[from];
        kept++;
    }
    ig->loop_count = kept;
    if (kept == 0)
        kite_timer_cancel(stack, &ig->loop_timer);
}

/* Queue a copy of the datagram p (transport header on) with its IP header. */
static void loop_back(struct kite_netif *netif, const struct kite_pbuf *p, uint32_t src,
                      uint32_t dst, uint8_t proto, uint8_t ttl, uint8_t tos)
{
    struct kite_stack *stack = netif->stack;
    struct kite_igmp *ig = &stack->igmp;
    if (ig->loop_count == KITE_IGMP_LOOP_QUEUE_LEN) {
        stack->stats.ipv4.drop_loop_full++;
        return;
    }
    struct kite_pbuf *copy = kite_pbuf_clone(stack, KITE_LAYER_IP, p);
    if (copy == NULL || kite_pbuf_header_add(copy, KITE_IPV4_HLEN) != KITE_ERR_OK) {
        if (copy != NULL)
            kite_pbuf_free(stack, copy);
        stack->stats.ipv4.drop_loop_no_mem++;
        return;
    }
    struct kite_ipv4_repr ip = {.tos = tos,
                                .total_len = copy->tot_len,
                                .id = stack->ip_id,
                                .ttl = ttl,
                                .proto = proto,
                                .src = src,
                                .dst = dst};
    (void)kite_ipv4_emit(&ip, copy->payload, copy->len);
    uint8_t k = (uint8_t)((ig->loop_head + ig->loop_count) % KITE_IGMP_LOOP_QUEUE_LEN);
    ig->loop_q[k] = copy;
    ig->loop_netif[k] = netif;
    ig->loop_count++;
    stack->stats.ipv4.mcast_looped++;
    if (!kite_timer_armed(&ig->loop_timer))
        kite_timer_arm(stack, &ig->loop_timer, stack->now);
}

enum kite_err kite__ipv4_output_mcast(struct kite_netif *netif, struct kite_pbuf *p, uint32_t src,
                                      uint32_t dst, uint8_t proto, uint8_t ttl, uint8_t tos,
                                      bool loop)
{
    struct kite_stack *stack = netif->stack;
    /* RFC 1112 6.3: a member on this host hears the datagram too, unless
     * the sender asked not to (IP_MULTICAST_LOOP 0). A loopback netif
     * brings every packet back by itself. */
    if (loop && (netif->flags & KITE_NETIF_FLAG_LOOPBACK) == 0 && stack->mcast_admits != NULL &&
        stack->mcast_admits(netif, dst, src, proto))
        loop_back(netif, p, src, dst, proto, ttl, tos);
    if (ttl == 0) /* RFC 1112 6.1: TTL 0 stays on this host */
        return KITE_ERR_OK;
    /* The whole datagram was looped; the wire copy is fragmented if need be. */
    return kite__ipv4_output_if(netif, p, src, dst, proto, ttl, tos);
}

#else

void kite__ipv4_mcast_loop_purge(struct kite_stack *stack, const struct kite_netif *netif)
{
    (void)stack;
    (void)netif;
}

enum kite_err kite__ipv4_output_mcast(struct kite_netif *netif, struct kite_pbuf *p, uint32_t src,
                                      uint32_t dst, uint8_t proto, uint8_t ttl, uint8_t tos,
                                      bool loop)
{
    (void)loop;
    return kite__ipv4_output_if(netif, p, src, dst, proto, ttl, tos);
}

#endif
