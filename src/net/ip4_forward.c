/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/opts.h"
#if KITE_IP_FORWARD /* the whole file is forwarding (KITE_IP_FORWARD = 0 leaves it out) */
/*
 * IPv4 forwarding between netifs (RFC 1812 5.2 and 5.3), off until
 * kite_ipv4_set_forwarding() turns it on. A packet addressed to another host
 * leaves through the netif its destination routes to, its TTL one lower; one
 * whose TTL runs out draws ICMP Time Exceeded, one too big for the next link
 * is fragmented, or draws "fragmentation needed" with the next-hop MTU when
 * DF is set (RFC 1191 4). Broadcasts, multicasts and link-local addresses
 * (RFC 3927 2.7) are never forwarded.
 */
#include "kite/byteorder.h"
#include "kite/ipv4.h"
#include "kite/stack.h"
#include "kite/wire/checksum.h"
#include "kite/wire/icmp4.h"
#include "kite/wire/ipv4.h"

#include "kite_internal/arp.h"
#include "kite_internal/ipv4.h"

static bool is_link_local(uint32_t ip)
{
    return (ip & 0xffff0000u) == 0xa9fe0000u; /* 169.254/16 */
}

/* RFC 1812 5.3.7: martians: 0/8, 127/8 and 240/4 either way, our own
 * address as a source. */
static bool is_martian(struct kite_stack *stack, const struct kite_ipv4_repr *ip)
{
    uint32_t s = ip->src >> 24, d = ip->dst >> 24;
    return s == 0 || s == 127 || s >= 240 || d == 0 || d == 127 || d >= 240 ||
           kite_ipv4_is_local(stack, ip->src);
}

/* RFC 1812 5.3.5 and RFC 3927 2.7: what a router keeps to the link. */
static bool may_forward(const struct kite_netif *in, const struct kite_pbuf *p,
                        const struct kite_ipv4_repr *ip)
{
    if (p->flags & (KITE_PBUF_FLAG_LL_BROADCAST | KITE_PBUF_FLAG_LL_MULTICAST))
        return false;
    return ip->dst != KITE_IP4_BROADCAST && !kite_ip4_is_multicast(ip->dst) &&
           !kite_netif_is_broadcast4(in, ip->dst) && !is_link_local(ip->src) &&
           !is_link_local(ip->dst) && !is_martian(in->stack, ip);
}

static void icmp_error(struct kite_stack *stack, struct kite_pbuf *p, uint8_t type, uint8_t code,
                       uint32_t info)
{
    if (stack->icmp_error != NULL)
        stack->icmp_error(stack, p, type, code, info);
}

/* RFC 1812 5.3.1: TTL one lower, the checksum updated in place (RFC 1624). */
static void decrement_ttl(struct kite_pbuf *p)
{
    uint8_t *h = p->payload;
    uint16_t old_word = kite_get_be16(h + 8);
    h[8]--;
    uint16_t sum = kite_cksum_update16(kite_get_be16(h + 10), old_word, kite_get_be16(h + 8));
    kite_put_be16(h + 10, sum);
}

/* Too big for the next link (RFC 1812 5.2.6): fragments, or the sender learns the MTU. */
static void forward_too_big(struct kite_netif *out, struct kite_pbuf *p, struct kite_ipv4_repr *ip,
                            uint32_t next_hop)
{
    struct kite_stack *stack = out->stack;
    if (ip->dont_frag) {
        stack->stats.ipv4.drop_too_big++;
        icmp_error(stack, p, KITE_ICMP4_DEST_UNREACH, KITE_ICMP4_UNREACH_FRAG_NEEDED, out->mtu);
        return;
    }
    if (ip->hlen > KITE_IPV4_HLEN) {
        /* RFC 791 3.2 would copy some options into every fragment: kite's
         * fragments carry none, so such a packet is not cut but dropped. */
        stack->stats.ipv4.drop_fwd_options++;
        return;
    }
    (void)kite_pbuf_header_remove(p, ip->hlen);
    ip->ttl = (uint8_t)(ip->ttl - 1u);
    if (kite__ipv4_fragment(out, p, ip, out->mtu, next_hop) == KITE_ERR_OK)
        stack->stats.ipv4.forwarded++;
}

void kite__ipv4_forward(struct kite_netif *in, struct kite_pbuf *p, struct kite_ipv4_repr *ip)
{
    struct kite_stack *stack = in->stack;
    struct kite_stats_ipv4 *st = &stack->stats.ipv4;
    struct kite_netif *out = NULL;
    if (!may_forward(in, p, ip)) {
        st->drop_not_for_us++;
    } else if (ip->ttl <= 1) {
        st->drop_fwd_ttl++; /* RFC 1812 5.3.1 */
        icmp_error(stack, p, KITE_ICMP4_TIME_EXCEEDED, 0, 0);
    } else if ((out = kite_ipv4_route(stack, ip->dst)) == NULL ||
               (out->flags & KITE_NETIF_FLAG_LOOPBACK)) {
        st->drop_no_route++; /* RFC 1812 5.2.7.1 */
        icmp_error(stack, p, KITE_ICMP4_DEST_UNREACH, KITE_ICMP4_UNREACH_NET, 0);
    } else if (kite_netif_is_broadcast4(out, ip->dst)) {
        st->drop_not_for_us++; /* RFC 2644: directed broadcasts are not forwarded */
    } else {
        uint32_t next_hop = kite__ipv4_next_hop(out, ip->dst);
        if (ip->total_len > out->mtu) {
            forward_too_big(out, p, ip, next_hop);
        } else {
            decrement_ttl(p);
            if (kite__arp_output(out, p, next_hop) == KITE_ERR_OK)
                st->forwarded++;
            else
                st->tx_fail++;
        }
    }
    kite_pbuf_free(stack, p);
}

void kite_ipv4_set_forwarding(struct kite_stack *stack, bool on)
{
    stack->ip_forwarding = on;
}
#else
typedef int kite_ip4_forward_disabled_; /* ISO C wants a non-empty file */
#endif
