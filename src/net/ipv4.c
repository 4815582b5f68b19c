/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 (RFC 791, RFC 1122 3.2.1): validation, local delivery, routing, output. */
#include "kite/byteorder.h"
#include "kite/ipv4.h"

#include "kite/arp.h"
#include "kite/stack.h"
#include "kite/wire/ethernet.h"
#include "kite/wire/icmp4.h"
#include "kite/wire/ipv4.h"

#include "kite_internal/arp.h"
#include "kite_internal/ipv4.h"
#include "kite_internal/pbuf.h"
#include "kite_internal/stack.h"

static bool netif_has_addr(const struct kite_netif *n)
{
    return !kite_addr_is_any(&n->ip4);
}

bool kite_ipv4_is_local(struct kite_stack *stack, uint32_t ip)
{
    for (struct kite_netif *n = stack->netifs; n != NULL; n = n->next)
        if (netif_has_addr(n) && n->ip4.u.v4 == ip)
            return true;
    return false;
}

static struct kite_netif *find_loopback(struct kite_stack *stack)
{
    for (struct kite_netif *n = stack->netifs; n != NULL; n = n->next)
        if ((n->flags & KITE_NETIF_FLAG_LOOPBACK) && kite_netif_is_up(n))
            return n;
    return NULL;
}

static struct kite_netif *first_up(struct kite_stack *stack)
{
    if (stack->default_netif != NULL && kite_netif_is_up(stack->default_netif))
        return stack->default_netif;
    for (struct kite_netif *n = stack->netifs; n != NULL; n = n->next)
        if (kite_netif_is_up(n) && (n->flags & KITE_NETIF_FLAG_LOOPBACK) == 0)
            return n;
    return NULL;
}

static bool on_link(const struct kite_netif *n, uint32_t dst)
{
    uint32_t mask = n->ip4_mask.u.v4;
    return kite_netif_is_up(n) && netif_has_addr(n) && (dst & mask) == (n->ip4.u.v4 & mask);
}

/* RFC 1812 5.2.4.3: of the netifs whose subnet holds dst, the longest prefix. */
static struct kite_netif *longest_prefix(struct kite_stack *stack, uint32_t dst)
{
    struct kite_netif *best = NULL;
    for (struct kite_netif *n = stack->netifs; n != NULL; n = n->next)
        if (on_link(n, dst) && (best == NULL || n->ip4_mask.u.v4 > best->ip4_mask.u.v4))
            best = n;
    return best;
}

struct kite_netif *kite_ipv4_route(struct kite_stack *stack, uint32_t dst)
{
    if (kite_ip4_is_loopback(dst) || kite_ipv4_is_local(stack, dst))
        return find_loopback(stack);
    if (dst == KITE_IP4_BROADCAST || kite_ip4_is_multicast(dst))
        return first_up(stack);
    struct kite_netif *n = longest_prefix(stack, dst);
    if (n != NULL)
        return n;
    struct kite_netif *def = stack->default_netif;
    return def != NULL && kite_netif_is_up(def) ? def : NULL;
}

/* The up netif whose address is src, if it has a gateway. */
static struct kite_netif *owner_with_gateway(struct kite_stack *stack, uint32_t src)
{
    for (struct kite_netif *n = stack->netifs; n != NULL; n = n->next)
        if (netif_has_addr(n) && n->ip4.u.v4 == src && kite_netif_is_up(n) &&
            (n->flags & KITE_NETIF_FLAG_LOOPBACK) == 0)
            return !kite_addr_is_any(&n->ip4_gw) ? n : NULL;
    return NULL;
}

struct kite_netif *kite_ipv4_route_src(struct kite_stack *stack, uint32_t src, uint32_t dst)
{
    /* Source-based routing (esp-lwip's LWIP_HOOK_IP4_ROUTE_SRC): a datagram
     * from an interface's address to a destination beyond every link leaves
     * through that interface, to its gateway, so a host on two networks
     * answers each through the one it was reached on. */
    struct kite_netif *n = kite_ipv4_route(stack, dst);
    if (src == 0 || dst == KITE_IP4_BROADCAST || kite_ip4_is_multicast(dst) ||
        (n != NULL &&
         (n->ip4.u.v4 == src || on_link(n, dst) || (n->flags & KITE_NETIF_FLAG_LOOPBACK))))
        return n;
    struct kite_netif *owner = owner_with_gateway(stack, src);
    return owner != NULL ? owner : n;
}

/* RFC 1122 3.2.1.3: which destinations this host accepts on netif. */
static bool accept_destination(struct kite_stack *stack, struct kite_netif *netif, uint32_t dst,
                               struct kite_ip_rx *rx)
{
    rx->broadcast = kite_netif_is_broadcast4(netif, dst);
    rx->multicast = kite_ip4_is_multicast(dst);
    if (rx->broadcast || rx->multicast)
        return true;
    if (netif->flags & KITE_NETIF_FLAG_LOOPBACK)
        return kite_ip4_is_loopback(dst) || kite_ipv4_is_local(stack, dst);
    /* Weak host model (RFC 1122 3.3.4.2): any of our addresses on any netif. */
    return kite_ipv4_is_local(stack, dst);
}

static bool count_parse_error(struct kite_stack *stack, const uint8_t *hdr, uint16_t tot_len,
                              enum kite_err err)
{
    struct kite_stats_ipv4 *st = &stack->stats.ipv4;
    if (tot_len < KITE_IPV4_HLEN)
        st->drop_short++;
    else if (hdr[0] >> 4 != 4)
        st->drop_bad_version++;
    else if ((hdr[0] & 0xfu) < 5)
        st->drop_bad_hlen++;
    else if (err == KITE_ERR_CHECKSUM)
        st->drop_bad_checksum++;
    else if (err == KITE_ERR_MALFORMED && kite_get_be16(hdr + 2) >= (hdr[0] & 0xfu) * 4u)
        st->drop_options++;
    else
        st->drop_bad_len++;
    return false;
}

/* Validate the header; on success p is trimmed to the datagram and repr filled. */
static bool validate(struct kite_stack *stack, struct kite_pbuf *p, struct kite_ipv4_repr *ip)
{
    uint8_t scratch[KITE_IPV4_MAX_HLEN] = {0};
    uint16_t n = p->tot_len < KITE_IPV4_MAX_HLEN ? p->tot_len : (uint16_t)KITE_IPV4_MAX_HLEN;
    const uint8_t *hdr = kite_pbuf_contiguous(p, scratch, n);
    /* hdr holds min(60, tot_len) bytes; the parser reads no more than the
     * header length, which it checks against tot_len, so passing tot_len
     * lets it check total_len against the whole packet. */
    enum kite_err err = p->tot_len < KITE_IPV4_HLEN ? KITE_ERR_TRUNCATED
                                                    : kite_ipv4_parse(hdr, p->tot_len, true, ip);
    if (err != KITE_ERR_OK)
        return count_parse_error(stack, hdr, p->tot_len, err);
    if (p->len < ip->hlen) {
        stack->stats.ipv4.drop_bad_hlen++; /* header split across pbufs: drivers never do this */
        return false;
    }
    kite_pbuf_trim(stack, p, ip->total_len); /* drop link-layer padding */
    return true;
}

static void deliver(struct kite_stack *stack, struct kite_pbuf *p, struct kite_ip_rx *rx)
{
    bool raw = stack->raw_input != NULL && stack->raw_input(stack, p, rx);
    kite_proto_input_fn input = kite__stack_ip_proto_input(stack, rx->proto);
    if (input == NULL && raw) { /* a raw pcb serves this protocol */
        stack->stats.ipv4.delivered++;
        kite_pbuf_free(stack, p);
        return;
    }
    if (input == NULL) {
        stack->stats.ipv4.drop_no_proto++;
        /* ICMP, registered at start-up, answers protocol unreachable. */
        if (stack->ip_unhandled != NULL)
            stack->ip_unhandled(stack, p, rx);
        kite_pbuf_free(stack, p);
        return;
    }
    stack->stats.ipv4.delivered++;
    (void)kite_pbuf_header_remove(p, rx->hlen);
    input(stack, p, rx);
}

/* RFC 1122 3.2.1.3: never a multicast or broadcast source; 127/8 only on
 * loopback; 0.0.0.0 only from a host asking to be configured (to a broadcast
 * or multicast address, as DHCP does). */
static bool source_is_valid(const struct kite_netif *netif, const struct kite_ipv4_repr *ip)
{
    if (kite_ip4_is_multicast(ip->src) || kite_netif_is_broadcast4(netif, ip->src))
        return false;
    if (kite_ip4_is_loopback(ip->src) && (netif->flags & KITE_NETIF_FLAG_LOOPBACK) == 0)
        return false;
    if (ip->src == 0)
        return ip->dst == KITE_IP4_BROADCAST || kite_ip4_is_multicast(ip->dst) ||
               kite_netif_is_broadcast4(netif, ip->dst);
    return true;
}

static void ipv4_input(struct kite_netif *netif, struct kite_pbuf *p)
{
    struct kite_stack *stack = netif->stack;
    struct kite_ipv4_repr ip;
    struct kite_ip_rx rx = {.netif = netif};
    stack->stats.ipv4.rx++;
    if (!validate(stack, p, &ip))
        goto drop;
    if (!source_is_valid(netif, &ip)) {
        stack->stats.ipv4.drop_bad_src++;
        goto drop;
    }
    if ((netif->flags & KITE_NETIF_FLAG_LOOPBACK) == 0 && kite_ip4_is_loopback(ip.dst)) {
        stack->stats.ipv4.drop_martian++; /* RFC 1122 3.2.1.3 (g): 127/8 never on a wire */
        goto drop;
    }
    if (!accept_destination(stack, netif, ip.dst, &rx)) {
        if (kite__ipv4_forwarding(stack)) {
            kite__ipv4_forward(netif, p, &ip); /* consumes p */
            return;
        }
        stack->stats.ipv4.drop_not_for_us++;
        goto drop;
    }
    if (rx.multicast && stack->mcast_admits != NULL &&
        !stack->mcast_admits(netif, ip.dst, ip.src, ip.proto)) {
        stack->stats.ipv4.drop_mcast_filtered++; /* no member of the group (for src) here */
        goto drop;
    }
    if ((p->flags & (KITE_PBUF_FLAG_LL_BROADCAST | KITE_PBUF_FLAG_LL_MULTICAST)) && !rx.broadcast &&
        !rx.multicast) {
        /* RFC 1122 3.3.6: unicast IP in a link broadcast is discarded. */
        stack->stats.ipv4.drop_ll_broadcast++;
        goto drop;
    }
    if (kite_ipv4_is_fragment(&ip)) {
        p = kite__ip4_reass_input(stack, p, &ip); /* consumes p; the datagram once whole */
        if (p == NULL)
            return;
    }
    rx.src = ip.src;
    rx.dst = ip.dst;
    rx.proto = ip.proto;
    rx.ttl = ip.ttl;
    rx.tos = ip.tos;
    rx.hlen = ip.hlen;
    deliver(stack, p, &rx);
    return;
drop:
    kite_pbuf_free(stack, p);
}

#if !KITE_IP_REASSEMBLY
struct kite_pbuf *kite__ip4_drop_fragment(struct kite_stack *stack, struct kite_pbuf *p)
{
    stack->stats.ipv4.drop_fragment++; /* built without reassembly */
    kite_pbuf_free(stack, p);
    return NULL;
}

unsigned kite_ipv4_reass_pending(const struct kite_stack *stack)
{
    (void)stack;
    return 0;
}
#endif

void kite__ipv4_init(struct kite_stack *stack)
{
    (void)kite__stack_register_ethertype(stack, KITE_ETHERTYPE_IPV4, ipv4_input);
    kite__ip4_reass_init(stack);
    kite__pmtu_init(stack);
}

void kite__ipv4_deinit(struct kite_stack *stack)
{
    kite__ip4_reass_flush(stack);
    kite__pmtu_flush(stack);
}

uint32_t kite__ipv4_next_hop(const struct kite_netif *netif, uint32_t dst)
{
    uint32_t mask = netif->ip4_mask.u.v4;
    if (dst == KITE_IP4_BROADCAST || kite_ip4_is_multicast(dst) ||
        (dst & mask) == (netif->ip4.u.v4 & mask) || kite_addr_is_any(&netif->ip4_gw))
        return dst;
    return netif->ip4_gw.u.v4;
}

uint16_t kite_ipv4_path_mtu(struct kite_stack *stack, const struct kite_netif *netif, uint32_t dst)
{
    uint16_t learned = kite__pmtu_lookup(stack, dst);
    return learned != 0 && learned < netif->mtu ? learned : netif->mtu;
}

/* The largest packet this output may send: the path MTU, or the driver's
 * segmentation limit while TCP hands over a super-segment (KITE_TSO). */
static uint32_t ipv4_size_limit(struct kite_netif *netif, uint32_t dst)
{
    if (kite__stack_tso_segment(netif->stack) != 0)
        return netif->tso_max;
    return kite_ipv4_path_mtu(netif->stack, netif, dst);
}

/* RFC 791 2.3: too big for the path: fragments, unless DF forbids it (or
 * fragmentation is built out), then the sender learns KITE_ERR_BUF (EMSGSIZE). */
static enum kite_err send_too_big(struct kite_netif *netif, struct kite_pbuf *p,
                                  struct kite_ipv4_repr *ip, uint32_t limit)
{
    struct kite_stack *stack = netif->stack;
    if (ip->dont_frag || !KITE_IP_FRAG || (uint32_t)p->tot_len + KITE_IPV4_HLEN > UINT16_MAX) {
        stack->stats.ipv4.drop_too_big++;
        return KITE_ERR_BUF;
    }
    enum kite_err err =
        kite__ipv4_fragment(netif, p, ip, (uint16_t)limit, kite__ipv4_next_hop(netif, ip->dst));
    if (err != KITE_ERR_OK)
        stack->stats.ipv4.tx_fail++;
    return err;
}

enum kite_err kite__ipv4_send(struct kite_netif *netif, struct kite_pbuf *p,
                              const struct kite_ip_tx *tx)
{
    struct kite_stack *stack = netif->stack;
    struct kite_ipv4_repr ip = {
        .tos = tx->tos,
        .id = stack->ip_id++,
        .dont_frag = tx->dont_frag,
        .ttl = tx->ttl,
        .proto = tx->proto,
        .src = tx->src != 0 ? tx->src : netif->ip4.u.v4,
        .dst = tx->dst,
    };
    uint32_t limit = ipv4_size_limit(netif, tx->dst);
    if ((uint32_t)p->tot_len + KITE_IPV4_HLEN > limit)
        return send_too_big(netif, p, &ip, limit);
    struct kite_pbuf *head = kite__pbuf_prepend(stack, p, KITE_IPV4_HLEN, KITE_PBUF_LINK_HLEN);
    if (head == NULL) {
        stack->stats.ipv4.drop_no_mem++;
        return KITE_ERR_MEM;
    }
    ip.total_len = head->tot_len;
    (void)kite_ipv4_emit(&ip, head->payload, head->len);
    enum kite_err err = kite__arp_output(netif, head, kite__ipv4_next_hop(netif, tx->dst));
    if (err == KITE_ERR_OK)
        stack->stats.ipv4.tx++;
    else
        stack->stats.ipv4.tx_fail++;
    kite__pbuf_unprepend(stack, head, p, KITE_IPV4_HLEN);
    return err;
}

enum kite_err kite__ipv4_output_if(struct kite_netif *netif, struct kite_pbuf *p, uint32_t src,
                                   uint32_t dst, uint8_t proto, uint8_t ttl, uint8_t tos)
{
    struct kite_ip_tx tx = {.src = src, .dst = dst, .proto = proto, .ttl = ttl, .tos = tos};
    return kite__ipv4_send(netif, p, &tx);
}

enum kite_err kite__ipv4_route_send(struct kite_stack *stack, struct kite_pbuf *p,
                                    const struct kite_ip_tx *tx)
{
    struct kite_netif *netif = kite_ipv4_route_src(stack, tx->src, tx->dst);
    if (netif == NULL) {
        stack->stats.ipv4.drop_no_route++;
        return KITE_ERR_ROUTE;
    }
    return kite__ipv4_send(netif, p, tx);
}

enum kite_err kite__ipv4_output(struct kite_stack *stack, struct kite_pbuf *p, uint32_t src,
                                uint32_t dst, uint8_t proto, uint8_t ttl, uint8_t tos)
{
    struct kite_ip_tx tx = {.src = src, .dst = dst, .proto = proto, .ttl = ttl, .tos = tos};
    return kite__ipv4_route_send(stack, p, &tx);
}
