/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/opts.h"
#if KITE_IP_FRAG /* the whole file is fragmentation on output (KITE_IP_FRAG = 0 leaves it out) */
/*
 * IPv4 fragmentation on output (RFC 791 2.3 and 3.2, RFC 1122 3.3.3). Each
 * fragment is a fresh 20-byte header followed by references to the
 * datagram's own bytes, so nothing is copied: the datagram stays the
 * caller's, and a driver or ARP queue that keeps a fragment copies it
 * (kite_netif_output_fn's contract).
 */
#include "kite/ipv4.h"
#include "kite/stack.h"
#include "kite/wire/ipv4.h"

#include "kite_internal/arp.h"
#include "kite_internal/ipv4.h"

/* Where the next fragment's data starts: a pbuf of the datagram and an offset in it. */
struct cursor {
    const struct kite_pbuf *q;
    uint16_t off;
};

/* Chain references to the next n bytes of the datagram behind head. */
static bool reference_data(struct kite_stack *stack, struct kite_pbuf *head, struct cursor *c,
                           uint16_t n)
{
    while (n > 0) {
        while (c->off == c->q->len) {
            c->q = c->q->next;
            c->off = 0;
        }
        uint16_t take = (uint16_t)(c->q->len - c->off) < n ? (uint16_t)(c->q->len - c->off) : n;
        struct kite_pbuf *r =
            kite_pbuf_alloc_ref(stack, c->q->payload + c->off, take, KITE_PBUF_REF);
        if (r == NULL)
            return false;
        kite_pbuf_cat(head, r);
        c->off = (uint16_t)(c->off + take);
        n = (uint16_t)(n - take);
    }
    return true;
}

/* Build and send one fragment of n data bytes at offset. */
static enum kite_err send_fragment(struct kite_netif *netif, struct kite_ipv4_repr *ip,
                                   struct cursor *c, uint16_t offset, uint16_t n, bool more,
                                   uint32_t next_hop)
{
    struct kite_stack *stack = netif->stack;
    struct kite_pbuf *head =
        kite_pbuf_alloc(stack, KITE_PBUF_LINK_HLEN, KITE_IPV4_HLEN, KITE_PBUF_RAM);
    if (head == NULL)
        return KITE_ERR_MEM;
    if (!reference_data(stack, head, c, n)) {
        kite_pbuf_free(stack, head);
        return KITE_ERR_MEM;
    }
    ip->frag_offset = offset;
    ip->more_frags = more;
    ip->total_len = (uint16_t)(KITE_IPV4_HLEN + n);
    (void)kite_ipv4_emit(ip, head->payload, head->len);
    enum kite_err err = kite__arp_output(netif, head, next_hop);
    kite_pbuf_free(stack, head);
    if (err == KITE_ERR_OK)
        stack->stats.ipv4.frag_sent++;
    return err;
}

enum kite_err kite__ipv4_fragment(struct kite_netif *netif, struct kite_pbuf *p,
                                  struct kite_ipv4_repr *ip, uint16_t mtu, uint32_t next_hop)
{
    struct kite_stack *stack = netif->stack;
    /* RFC 791 3.2: every fragment but the last carries a multiple of 8 bytes.
     * A fragment being forwarded is cut again: offsets from its own, and its
     * MF on the last piece. */
    if (mtu < 68u) /* RFC 791: every link carries 68 bytes (a netif's MTU set below it) */
        return KITE_ERR_BUF;
    uint16_t per = (uint16_t)((mtu - KITE_IPV4_HLEN) & ~7u);
    uint16_t base = ip->frag_offset;
    bool more_after = ip->more_frags;
    struct cursor c = {.q = p, .off = 0};
    enum kite_err err = KITE_ERR_OK;
    stack->stats.ipv4.frag_datagrams++;
    for (uint32_t offset = 0; offset < p->tot_len && err == KITE_ERR_OK; offset += per) {
        uint16_t n = (uint16_t)(p->tot_len - offset < per ? p->tot_len - offset : per);
        err = send_fragment(netif, ip, &c, (uint16_t)(base + offset), n,
                            offset + n < p->tot_len || more_after, next_hop);
    }
    if (err != KITE_ERR_OK)
        stack->stats.ipv4.frag_fail++;
    return err;
}
#endif
