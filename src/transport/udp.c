/* SPDX-License-Identifier: BSD-3-Clause */
/* UDP (RFC 768, RFC 1122 4.1) with a raw callback API. */
#include "kite/udp.h"

#include <string.h>

#include "kite/icmp4.h"
#include "kite/byteorder.h"
#include "kite/ipv4.h"
#include "kite/stack.h"
#include "kite/wire/checksum.h"
#include "kite/wire/icmp4.h"
#include "kite/wire/ipv4.h"
#include "kite/wire/udp.h"

#include "kite_internal/icmp4.h"
#include "kite_internal/igmp.h"
#include "kite_internal/ipv4.h"
#include "kite_internal/ipv4_mcast.h"
#include "kite_internal/pbuf.h"
#include "kite_internal/pool.h"
#include "kite_internal/ports.h"
#include "kite_internal/stack.h"
#include "kite_internal/udp.h"

/* ---- Demultiplexing ---------------------------------------------------- */

/* As Linux's ip_mc_sf_allow: a pcb that joined the group on this netif
 * hears the sources its filter admits; one that did not hears the group when
 * some other member made the netif join it, unless IP_MULTICAST_ALL is off. */
static bool mcast_admits(const struct kite_udp_pcb *pcb, const struct kite_ip_rx *rx)
{
#if KITE_IGMP
    int own = kite_igmp_owner_admits(pcb->stack, pcb, rx->netif, rx->dst, rx->src);
    return own < 0 ? (pcb->flags & KITE_UDP_FLAG_NO_MCAST_ALL) == 0 : own == 1;
#else
    (void)pcb;
    (void)rx;
    return true;
#endif
}

/* How well pcb matches a datagram: -1 no match, higher is more specific. */
static int match_score(const struct kite_udp_pcb *pcb, const struct kite_udp_repr *udp,
                       const struct kite_ip_rx *rx)
{
    if (pcb->local_port != udp->dst_port)
        return -1;
    if (pcb->netif != NULL && pcb->netif != rx->netif)
        return -1;
    int score = 0;
    if (!kite_addr_is_any(&pcb->local_ip)) {
        /* A pcb bound to a unicast address also hears that netif's broadcasts. */
        bool bcast_ok = rx->broadcast && pcb->local_ip.u.v4 == rx->netif->ip4.u.v4;
        if (pcb->local_ip.u.v4 != rx->dst && !bcast_ok)
            return -1;
        score += 1;
    }
    if (pcb->flags & KITE_UDP_FLAG_CONNECTED) {
        if (pcb->remote_ip.u.v4 != rx->src || pcb->remote_port != udp->src_port)
            return -1;
        score += 2;
    }
    if (rx->multicast && !mcast_admits(pcb, rx))
        return -1;
    return score;
}

static struct kite_udp_pcb *find_pcb(struct kite_stack *stack, const struct kite_udp_repr *udp,
                                     const struct kite_ip_rx *rx)
{
    struct kite_udp_pcb *best = NULL;
    int best_score = -1;
    for (struct kite_udp_pcb *pcb = stack->udp.pcbs; pcb != NULL; pcb = pcb->next) {
        int score = match_score(pcb, udp, rx);
        if (score > best_score) {
            best = pcb;
            best_score = score;
        }
    }
    return best;
}

/* ---- Input ------------------------------------------------------------- */

static bool checksum_ok(const struct kite_pbuf *p, const struct kite_udp_repr *udp,
                        const struct kite_ip_rx *rx)
{
    if (udp->checksum == 0)
        return true; /* RFC 768: zero means the sender computed none (IPv4 only) */
    uint32_t sum = kite_cksum_pseudo4(rx->src, rx->dst, KITE_IP_PROTO_UDP, udp->length);
    sum += kite__pbuf_cksum(p, 0, udp->length);
    return kite_cksum_fold(sum) == 0xffff;
}

static bool parse_datagram(struct kite_stack *stack, struct kite_pbuf *p,
                           const struct kite_ip_rx *rx, struct kite_udp_repr *udp)
{
    uint8_t scratch[KITE_UDP_HLEN];
    const uint8_t *hdr = kite_pbuf_contiguous(p, scratch, KITE_UDP_HLEN);
    if (hdr == NULL) {
        stack->stats.udp.drop_short++;
        return false;
    }
    if (kite_udp_parse(hdr, p->tot_len, udp) != KITE_ERR_OK) {
        stack->stats.udp.drop_bad_len++;
        return false;
    }
    kite_pbuf_trim(stack, p, udp->length);
    if (!checksum_ok(p, udp, rx)) {
        stack->stats.udp.drop_bad_checksum++;
        return false;
    }
    return true;
}

static void port_unreachable(struct kite_stack *stack, struct kite_pbuf *p,
                             const struct kite_ip_rx *rx)
{
    if (rx->broadcast || rx->multicast) {
        stack->stats.udp.drop_broadcast_no_port++;
        return;
    }
    stack->stats.udp.drop_no_port++;
    /* RFC 1122 4.1.3.1: port unreachable, quoting the datagram with its IP header. */
    if (kite_pbuf_header_add(p, rx->hlen) == KITE_ERR_OK)
        kite__icmp4_dest_unreach(stack, p, KITE_ICMP4_UNREACH_PORT);
}

static kite_udp_recv_fn recv_fn_of(const struct kite_udp_pcb *pcb)
{
    if (!(pcb->flags & KITE_UDP_FLAG_OPS))
        return pcb->recv;
    return pcb->ops != NULL ? pcb->ops->recv : NULL;
}

/* Hand p (consumed) to pcb's receive callback. */
static void deliver(struct kite_stack *stack, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                    const struct kite_udp_repr *udp, const struct kite_ip_rx *rx)
{
    stack->stats.udp.delivered++;
    kite_udp_recv_fn fn = recv_fn_of(pcb);
    if (fn == NULL) {
        kite_pbuf_free(stack, p);
        return;
    }
    struct kite_addr src = KITE_ADDR_V4(rx->src);
    struct kite_addr dst = KITE_ADDR_V4(rx->dst);
    fn(pcb->recv_arg, pcb, p, &src, udp->src_port, &dst);
}

/* SO_REUSEADDR, CONFIG_LWIP_SO_REUSE_RXTOALL: a broadcast or multicast
 * datagram goes to every pcb sharing the port, each with a copy. */
static void deliver_to_sharers(struct kite_stack *stack, const struct kite_udp_pcb *best,
                               const struct kite_pbuf *p, const struct kite_udp_repr *udp,
                               const struct kite_ip_rx *rx)
{
    for (struct kite_udp_pcb *pcb = stack->udp.pcbs; pcb != NULL; pcb = pcb->next) {
        if (pcb == best || !(pcb->flags & KITE_UDP_FLAG_REUSEADDR) || match_score(pcb, udp, rx) < 0)
            continue;
        struct kite_pbuf *copy = kite_pbuf_clone(stack, KITE_LAYER_TRANSPORT, p);
        if (copy == NULL) {
            stack->stats.udp.drop_no_mem++;
            continue;
        }
        deliver(stack, pcb, copy, udp, rx);
    }
}

static void udp_input(struct kite_stack *stack, struct kite_pbuf *p, const struct kite_ip_rx *rx)
{
    struct kite_udp_repr udp;
    stack->stats.udp.rx++;
    if (!parse_datagram(stack, p, rx, &udp))
        goto drop;
    struct kite_udp_pcb *pcb = find_pcb(stack, &udp, rx);
    if (pcb == NULL) {
        port_unreachable(stack, p, rx);
        goto drop;
    }
    (void)kite_pbuf_header_remove(p, KITE_UDP_HLEN);
    if (KITE_UDP_REUSE_RXTOALL && (rx->broadcast || rx->multicast) &&
        (pcb->flags & KITE_UDP_FLAG_REUSEADDR))
        deliver_to_sharers(stack, pcb, p, &udp, rx);
    deliver(stack, pcb, p, &udp, rx);
    return;
drop:
    kite_pbuf_free(stack, p);
}

/* The error a connected socket reports, as Linux's icmp_err_convert: only
 * the "hard" destination unreachable codes (without IP_RECVERR, Linux's
 * __udp4_lib_err ignores the soft ones); 0 for none. Protocol unreachable
 * and parameter problems, hard on Linux too, are left unreported. */
static enum kite_err hard_error_of(uint8_t type, uint8_t code)
{
    if (type != KITE_ICMP4_DEST_UNREACH)
        return KITE_ERR_OK;
    switch (code) {
    case KITE_ICMP4_UNREACH_PORT:
        return KITE_ERR_REFUSED; /* RFC 1122 4.1.3.3: ECONNREFUSED */
    case 6:                      /* destination network unknown */
    case 9:                      /* network administratively prohibited */
        return KITE_ERR_ROUTE;
    case 7:  /* destination host unknown */
    case 8:  /* source host isolated */
    case 10: /* host administratively prohibited */
    case 13: /* communication administratively prohibited (RFC 1812) */
    case 14: /* host precedence violation */
    case 15: /* precedence cutoff in effect */
        return KITE_ERR_UNREACHABLE;
    default:
        return KITE_ERR_OK;
    }
}

/* The connected pcb that sent the quoted datagram (Linux's __udp4_lib_lookup
 * with the quote's addresses reversed), or NULL. */
static struct kite_udp_pcb *sender_of(struct kite_stack *stack, const uint8_t *orig,
                                      uint16_t orig_len)
{
    unsigned ihl = (orig[0] & 0xfu) * 4u;
    if (orig_len < ihl + 4u)
        return NULL;
    uint32_t src = kite_get_be32(orig + 12), dst = kite_get_be32(orig + 16);
    uint16_t sport = kite_get_be16(orig + ihl), dport = kite_get_be16(orig + ihl + 2u);
    for (struct kite_udp_pcb *pcb = stack->udp.pcbs; pcb != NULL; pcb = pcb->next) {
        if ((pcb->flags & KITE_UDP_FLAG_CONNECTED) && pcb->local_port == sport &&
            pcb->remote_port == dport && pcb->remote_ip.u.v4 == dst &&
            (kite_addr_is_any(&pcb->local_ip) || pcb->local_ip.u.v4 == src))
            return pcb;
    }
    return NULL;
}

/* RFC 1191 4: a router could not forward a datagram of ours without
 * fragmenting it. Learned only when the quote names a connected pcb's whole
 * 4-tuple (RFC 5927 7: a report about a port that is merely bound is easy
 * to forge, and the cache is shared with TCP). */
static void learn_path_mtu(struct kite_stack *stack, uint32_t info, const uint8_t *orig,
                           uint16_t orig_len)
{
    if (sender_of(stack, orig, orig_len) != NULL)
        (void)kite__pmtu_update(stack, kite_get_be32(orig + 16), (uint16_t)info,
                                kite_get_be16(orig + 2));
}

/* RFC 1122 4.1.3.3: UDP passes ICMP errors up to the application; orig is
 * the quoted IP header and at least 8 bytes after it (icmp4.c checks). */
static void udp_error(struct kite_stack *stack, uint8_t type, uint8_t code, uint32_t info,
                      const uint8_t *orig, uint16_t orig_len)
{
    stack->stats.udp.icmp_errors_rx++;
    if (type == KITE_ICMP4_DEST_UNREACH && code == KITE_ICMP4_UNREACH_FRAG_NEEDED)
        learn_path_mtu(stack, info, orig, orig_len);
    enum kite_err err = hard_error_of(type, code);
    struct kite_udp_pcb *pcb = err != KITE_ERR_OK ? sender_of(stack, orig, orig_len) : NULL;
    if (pcb == NULL || !(pcb->flags & KITE_UDP_FLAG_OPS) || pcb->ops == NULL ||
        pcb->ops->err == NULL)
        return;
    pcb->ops->err(pcb->recv_arg, pcb, err);
}

/* A pcb bound to a netif that goes away falls back to routing. */
static void netif_event(struct kite_stack *stack, struct kite_netif *netif,
                        enum kite_netif_event event, uint32_t old)
{
    (void)old;
    if (event != KITE_NETIF_EV_REMOVED)
        return;
    for (struct kite_udp_pcb *pcb = stack->udp.pcbs; pcb != NULL; pcb = pcb->next)
        if (pcb->netif == netif)
            pcb->netif = NULL;
}

void kite__udp_init(struct kite_stack *stack)
{
    memset(&stack->udp, 0, sizeof stack->udp);
    stack->udp.next_ephemeral = kite__ephemeral_start(stack);
    (void)kite__stack_register_ip_proto(stack, KITE_IP_PROTO_UDP, udp_input, udp_error);
    (void)kite__stack_register_netif_hook(stack, netif_event);
}

/* ---- PCB management ---------------------------------------------------- */

struct kite_udp_pcb *kite_udp_new(struct kite_stack *stack)
{
    struct kite_udp_pcb *pcb = kite__pool_alloc(&stack->pools[KITE_POOL_UDP_PCB]);
    if (pcb == NULL)
        return NULL;
    pcb->stack = stack;
    pcb->ttl = KITE_IPV4_DEFAULT_TTL;
    pcb->mcast_ttl = 1; /* RFC 1112 6.1: multicast stays on the link by default */
    /* Listed from the start (port 0 matches nothing) so deinit finds every pcb. */
    pcb->next = stack->udp.pcbs;
    stack->udp.pcbs = pcb;
    return pcb;
}

static void unlink_pcb(struct kite_udp_pcb *pcb)
{
    for (struct kite_udp_pcb **pp = &pcb->stack->udp.pcbs; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == pcb) {
            *pp = pcb->next;
            break;
        }
    }
    pcb->next = NULL;
}

void kite_udp_remove(struct kite_udp_pcb *pcb)
{
    if (pcb == NULL)
        return;
#if KITE_IGMP
    kite_igmp_leave_all(pcb->stack, pcb); /* a socket closing drops its memberships */
#endif
    unlink_pcb(pcb);
    kite__pool_free(&pcb->stack->pools[KITE_POOL_UDP_PCB], pcb);
}

static bool port_in_use(struct kite_stack *stack, const struct kite_udp_pcb *self,
                        const struct kite_addr *ip, uint16_t port)
{
    bool share = self != NULL && (self->flags & KITE_UDP_FLAG_REUSEADDR);
    for (struct kite_udp_pcb *pcb = stack->udp.pcbs; pcb != NULL; pcb = pcb->next) {
        if (pcb == self || pcb->local_port != port || !kite__local_addrs_clash(&pcb->local_ip, ip))
            continue;
        if (!(share && (pcb->flags & KITE_UDP_FLAG_REUSEADDR)))
            return true; /* both must ask for it (SO_REUSEADDR on Linux and BSD) */
    }
    return false;
}

struct port_query {
    struct kite_stack *stack;
    const struct kite_udp_pcb *pcb;
    const struct kite_addr *ip;
};

static bool query_in_use(const void *ctx, uint16_t port)
{
    const struct port_query *q = ctx;
    return port_in_use(q->stack, q->pcb, q->ip, port);
}

static uint16_t pick_ephemeral(struct kite_stack *stack, const struct kite_udp_pcb *pcb,
                               const struct kite_addr *ip)
{
    struct port_query q = {stack, pcb, ip};
    return kite__ephemeral_port(&stack->udp.next_ephemeral, query_in_use, &q);
}

enum kite_err kite_udp_bind(struct kite_udp_pcb *pcb, const struct kite_addr *ip, uint16_t port)
{
    struct kite_stack *stack = pcb->stack;
    struct kite_addr local = ip != NULL ? *ip : KITE_ADDR_ANY4;
    if (!kite_addr_is_any(&local) && !kite_ip4_is_multicast(local.u.v4) &&
        !kite_ipv4_is_local(stack, local.u.v4))
        return KITE_ERR_VAL; /* not one of our addresses */
    if (port == 0)
        port = pick_ephemeral(stack, pcb, &local);
    if (port == 0)
        return KITE_ERR_INUSE;
    if (port_in_use(stack, pcb, &local, port))
        return KITE_ERR_INUSE;
    unlink_pcb(pcb);
    pcb->local_ip = local;
    pcb->local_port = port;
    pcb->next = stack->udp.pcbs;
    stack->udp.pcbs = pcb;
    return KITE_ERR_OK;
}

enum kite_err kite_udp_connect(struct kite_udp_pcb *pcb, const struct kite_addr *ip, uint16_t port)
{
    if (ip == NULL || kite_addr_is_any(ip) || port == 0)
        return KITE_ERR_VAL;
    if (pcb->local_port == 0) {
        enum kite_err err = kite_udp_bind(pcb, NULL, 0);
        if (err != KITE_ERR_OK)
            return err;
    }
    pcb->remote_ip = *ip;
    pcb->remote_port = port;
    pcb->flags |= KITE_UDP_FLAG_CONNECTED;
    return KITE_ERR_OK;
}

void kite_udp_disconnect(struct kite_udp_pcb *pcb)
{
    pcb->remote_ip = KITE_ADDR_ANY4;
    pcb->remote_port = 0;
    pcb->flags &= (uint8_t)~KITE_UDP_FLAG_CONNECTED;
}

void kite_udp_bind_netif(struct kite_udp_pcb *pcb, struct kite_netif *netif)
{
    pcb->netif = netif;
}

void kite_udp_recv(struct kite_udp_pcb *pcb, kite_udp_recv_fn fn, void *arg)
{
    pcb->flags &= (uint8_t)~KITE_UDP_FLAG_OPS;
    pcb->recv = fn;
    pcb->recv_arg = arg;
}

void kite_udp_set_ops(struct kite_udp_pcb *pcb, const struct kite_udp_ops *ops, void *arg)
{
    pcb->flags |= KITE_UDP_FLAG_OPS;
    pcb->ops = ops;
    pcb->recv_arg = arg;
}

void kite_udp_set_flags(struct kite_udp_pcb *pcb, uint8_t flags, bool on)
{
    /* Only connect/disconnect and the callback setters change these. */
    flags &= (uint8_t) ~(KITE_UDP_FLAG_CONNECTED | KITE_UDP_FLAG_OPS);
    pcb->flags = on ? (uint8_t)(pcb->flags | flags) : (uint8_t)(pcb->flags & ~flags);
}

/* ---- Multicast ------------------------------------------------------------------------- */

#if KITE_IGMP
static struct kite_netif *mcast_netif(struct kite_stack *stack, const struct kite_addr *group,
                                      struct kite_netif *netif)
{
    return netif != NULL ? netif : kite_ipv4_route(stack, group->u.v4);
}
#endif

enum kite_err kite_udp_join(struct kite_udp_pcb *pcb, const struct kite_addr *group,
                            struct kite_netif *netif)
{
#if KITE_IGMP
    if (group == NULL || !kite_ip4_is_multicast(group->u.v4))
        return KITE_ERR_VAL;
    netif = mcast_netif(pcb->stack, group, netif);
    return netif == NULL ? KITE_ERR_ROUTE : kite_igmp_join(netif, pcb, group->u.v4);
#else
    (void)pcb, (void)group, (void)netif;
    return KITE_ERR_VAL;
#endif
}

enum kite_err kite_udp_leave(struct kite_udp_pcb *pcb, const struct kite_addr *group,
                             struct kite_netif *netif)
{
#if KITE_IGMP
    if (group == NULL || !kite_ip4_is_multicast(group->u.v4))
        return KITE_ERR_VAL;
    netif = mcast_netif(pcb->stack, group, netif);
    return netif == NULL ? KITE_ERR_ROUTE : kite_igmp_leave(netif, pcb, group->u.v4);
#else
    (void)pcb, (void)group, (void)netif;
    return KITE_ERR_VAL;
#endif
}

void kite_udp_set_multicast_netif(struct kite_udp_pcb *pcb, struct kite_netif *netif)
{
    pcb->mcast_ifindex = netif != NULL ? netif->index : 0;
}

/* The netif a datagram to dst leaves by: the bound one, IP_MULTICAST_IF's
 * for a group, else the route. */
static struct kite_netif *output_netif(struct kite_udp_pcb *pcb, uint32_t dst)
{
    struct kite_stack *stack = pcb->stack;
    if (pcb->netif != NULL)
        return pcb->netif;
    if (kite_ip4_is_multicast(dst) && pcb->mcast_ifindex != 0) {
        for (struct kite_netif *n = stack->netifs; n != NULL; n = n->next)
            if (n->index == pcb->mcast_ifindex)
                return kite_netif_is_up(n) ? n : NULL;
        return NULL;
    }
    /* Source-based routing for a pcb bound to one of our addresses. */
    uint32_t bound = kite_ip4_is_multicast(pcb->local_ip.u.v4) ? 0 : pcb->local_ip.u.v4;
    return kite_ipv4_route_src(stack, bound, dst);
}

/* ---- Output ------------------------------------------------------------ */

static void write_header(struct kite_pbuf *head, const struct kite_udp_pcb *pcb, uint32_t src,
                         uint32_t dst, uint16_t dst_port)
{
    struct kite_udp_repr udp = {
        .src_port = pcb->local_port, .dst_port = dst_port, .length = head->tot_len};
    (void)kite_udp_emit(&udp, head->payload, head->len);
    if (pcb->flags & KITE_UDP_FLAG_NO_CHECKSUM)
        return;
    uint32_t sum = kite_cksum_pseudo4(src, dst, KITE_IP_PROTO_UDP, udp.length);
    sum += kite__pbuf_cksum(head, 0, head->tot_len);
    uint16_t cksum = (uint16_t)~kite_cksum_fold(sum);
    /* RFC 768: a computed zero is sent as all ones (zero means "none"). */
    kite_put_be16(head->payload + 6, cksum == 0 ? 0xffff : cksum);
}

static enum kite_err check_destination(const struct kite_udp_pcb *pcb, struct kite_netif *netif,
                                       uint32_t dst, uint16_t port)
{
    if (dst == 0 || port == 0)
        return KITE_ERR_VAL;
    if (kite_netif_is_broadcast4(netif, dst) && (pcb->flags & KITE_UDP_FLAG_BROADCAST) == 0)
        return KITE_ERR_VAL; /* like SO_BROADCAST: opt in before broadcasting */
    return KITE_ERR_OK;
}

enum kite_err kite_udp_sendto(struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                              const struct kite_addr *dst_addr, uint16_t port)
{
    struct kite_stack *stack = pcb->stack;
    uint32_t dst = dst_addr != NULL ? dst_addr->u.v4 : 0;
    if ((uint32_t)p->tot_len + KITE_UDP_HLEN > UINT16_MAX)
        return KITE_ERR_VAL;
    struct kite_netif *netif = output_netif(pcb, dst);
    if (netif == NULL) {
        stack->stats.udp.tx_fail++;
        return KITE_ERR_ROUTE;
    }
    enum kite_err err = check_destination(pcb, netif, dst, port);
    if (err == KITE_ERR_OK && pcb->local_port == 0)
        err = kite_udp_bind(pcb, NULL, 0);
    if (err != KITE_ERR_OK)
        return err;
    uint32_t src = kite_addr_is_any(&pcb->local_ip) || kite_ip4_is_multicast(pcb->local_ip.u.v4)
                       ? netif->ip4.u.v4
                       : pcb->local_ip.u.v4;
    struct kite_pbuf *head = kite__pbuf_prepend(stack, p, KITE_UDP_HLEN, KITE_LAYER_IP);
    if (head == NULL) {
        stack->stats.udp.tx_fail++;
        return KITE_ERR_MEM;
    }
    write_header(head, pcb, src, dst, port);
    if (kite_ip4_is_multicast(dst))
        err = kite__ipv4_output_mcast(netif, head, src, dst, KITE_IP_PROTO_UDP, pcb->mcast_ttl,
                                      pcb->tos, (pcb->flags & KITE_UDP_FLAG_NO_MCAST_LOOP) == 0);
    else
        err = kite__ipv4_output_if(netif, head, src, dst, KITE_IP_PROTO_UDP, pcb->ttl, pcb->tos);
    if (err == KITE_ERR_OK)
        stack->stats.udp.tx++;
    else
        stack->stats.udp.tx_fail++;
    kite__pbuf_unprepend(stack, head, p, KITE_UDP_HLEN);
    return err;
}

enum kite_err kite_udp_send(struct kite_udp_pcb *pcb, struct kite_pbuf *p)
{
    if ((pcb->flags & KITE_UDP_FLAG_CONNECTED) == 0)
        return KITE_ERR_NOTCONN;
    return kite_udp_sendto(pcb, p, &pcb->remote_ip, pcb->remote_port);
}
