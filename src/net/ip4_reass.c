/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/opts.h"
#if KITE_IP_REASSEMBLY /* the whole file is reassembly (KITE_IP_REASSEMBLY = 0 leaves it out) */
/*
 * IPv4 reassembly (RFC 791 3.2, RFC 815, RFC 1122 3.3.2). A datagram's
 * fragments are kept as the pbufs they arrived in, sorted by offset and
 * linked through a small record written over each fragment's own IP header,
 * which is not needed again: the datagram gets a fresh header when whole.
 *
 * Resources are bounded: KITE_IP_REASS_DATAGRAMS datagrams, at most
 * KITE_IP_REASS_MAX_PBUFS pbufs held together (the oldest datagram is given
 * up to make room), KITE_IP_REASS_TIMEOUT_MS to arrive whole. A fragment that
 * overlaps another, or disagrees with the datagram's known length, gives up
 * the whole datagram (as Linux does since 4.19, and RFC 5722 for IPv6): an
 * exact duplicate (link-layer duplication) is dropped alone.
 */
#include <string.h>

#include "kite/ipv4.h"
#include "kite/stack.h"
#include "kite/wire/icmp4.h"
#include "kite/wire/ipv4.h"

#include "kite_internal/ipv4.h"
#include "kite_internal/timer.h"

#define KITE_REASS_FIRST 0x01u /* the fragment at offset 0 is here */
#define KITE_REASS_LAST 0x02u  /* the fragment without MF is here: data_len known */

/* Written over a held fragment's IP header (at least 20 bytes). */
struct frag_link {
    struct kite_pbuf *next;
    uint16_t start, end; /* data bytes [start, end) of the datagram */
    uint8_t hlen;        /* the fragment's IP header length */
};
_Static_assert(sizeof(struct frag_link) <= KITE_IPV4_HLEN, "a link fits in a spent IP header");
_Static_assert(KITE_IP_REASS_MAX_SIZE <= 65535u, "an IPv4 datagram is at most 65535 bytes");

/* Links are copied in and out: a pbuf's payload may be unaligned. */
static struct frag_link link_of(const struct kite_pbuf *p)
{
    struct frag_link l;
    memcpy(&l, p->payload, sizeof l);
    return l;
}

static void set_link(struct kite_pbuf *p, const struct frag_link *l)
{
    memcpy(p->payload, l, sizeof *l);
}

static uint16_t chain_pbufs(const struct kite_pbuf *p)
{
    uint16_t n = 0;
    for (; p != NULL; p = p->next)
        n++;
    return n;
}

static void free_dgram(struct kite_stack *stack, struct kite_ip4_reass_dgram *d, uint32_t *counter)
{
    struct kite_pbuf *f = d->frags;
    while (f != NULL) {
        struct kite_pbuf *next = link_of(f).next;
        kite_pbuf_free(stack, f);
        f = next;
    }
    if (counter != NULL)
        *counter += d->count;
    stack->reass.pbufs = (uint16_t)(stack->reass.pbufs - d->pbufs);
    memset(d, 0, sizeof *d);
}

static struct kite_ip4_reass_dgram *oldest(struct kite_stack *stack,
                                           const struct kite_ip4_reass_dgram *except)
{
    struct kite_ip4_reass_dgram *best = NULL;
    for (unsigned i = 0; i < KITE_IP_REASS_DATAGRAMS; i++) {
        struct kite_ip4_reass_dgram *d = &stack->reass.dgrams[i];
        if (d->frags != NULL && d != except && (best == NULL || d->deadline < best->deadline))
            best = d;
    }
    return best;
}

static void arm_timer(struct kite_stack *stack)
{
    struct kite_ip4_reass_dgram *d = oldest(stack, NULL);
    if (d == NULL)
        kite_timer_cancel(stack, &stack->reass.timer);
    else if (!kite_timer_armed(&stack->reass.timer) || stack->reass.timer.deadline != d->deadline)
        kite_timer_arm(stack, &stack->reass.timer, d->deadline);
}

static bool same_datagram(const struct kite_ip4_reass_dgram *d, const struct kite_ipv4_repr *ip)
{
    return d->frags != NULL && d->src == ip->src && d->dst == ip->dst && d->id == ip->id &&
           d->proto == ip->proto;
}

/* RFC 791 3.2: a datagram is identified by source, destination, protocol
 * and identification. */
static struct kite_ip4_reass_dgram *lookup(struct kite_stack *stack,
                                           const struct kite_ipv4_repr *ip)
{
    for (unsigned i = 0; i < KITE_IP_REASS_DATAGRAMS; i++)
        if (same_datagram(&stack->reass.dgrams[i], ip))
            return &stack->reass.dgrams[i];
    return NULL;
}

/* The datagram this fragment belongs to, or a slot for a new one (the oldest
 * datagram is given up when every slot is taken). */
static struct kite_ip4_reass_dgram *find_dgram(struct kite_stack *stack,
                                               const struct kite_ipv4_repr *ip)
{
    struct kite_ip4_reass_dgram *found = lookup(stack, ip);
    if (found != NULL)
        return found;
    struct kite_ip4_reass_dgram *free_slot = NULL;
    for (unsigned i = 0; i < KITE_IP_REASS_DATAGRAMS && free_slot == NULL; i++)
        if (stack->reass.dgrams[i].frags == NULL)
            free_slot = &stack->reass.dgrams[i];
    if (free_slot == NULL) {
        free_slot = oldest(stack, NULL);
        free_dgram(stack, free_slot, &stack->stats.ipv4.drop_reass_evicted);
    }
    free_slot->src = ip->src;
    free_slot->dst = ip->dst;
    free_slot->id = ip->id;
    free_slot->proto = ip->proto;
    free_slot->deadline = stack->now + KITE_IP_REASS_TIMEOUT_MS;
    return free_slot;
}

/* Make room for n more pbufs by giving up older datagrams; false when d
 * alone would hold too many. */
static bool make_room(struct kite_stack *stack, struct kite_ip4_reass_dgram *d, uint16_t n)
{
    if ((uint32_t)d->pbufs + n > KITE_IP_REASS_MAX_PBUFS)
        return false;
    while ((uint32_t)stack->reass.pbufs + n > KITE_IP_REASS_MAX_PBUFS) {
        struct kite_ip4_reass_dgram *victim = oldest(stack, d);
        if (victim == NULL)
            return false;
        free_dgram(stack, victim, &stack->stats.ipv4.drop_reass_evicted);
    }
    return true;
}

enum verdict { FRAG_KEEP, FRAG_DUPLICATE, FRAG_GIVE_UP_OVERLAP, FRAG_GIVE_UP_BAD };

/* RFC 791 3.2: every fragment but the last carries a multiple of 8 bytes;
 * the last one fixes the datagram's length, which nothing may pass. */
static enum verdict check_length(const struct kite_ip4_reass_dgram *d, const struct frag_link *l,
                                 bool more)
{
    if (l->end == l->start || (more && ((l->end - l->start) & 7u) != 0))
        return FRAG_GIVE_UP_BAD;
    if ((d->flags & KITE_REASS_LAST) && (l->end > d->data_len || (!more && l->end != d->data_len)))
        return FRAG_GIVE_UP_BAD;
    if (!more) {
        for (struct kite_pbuf *f = d->frags; f != NULL; f = link_of(f).next)
            if (link_of(f).end > l->end)
                return FRAG_GIVE_UP_BAD;
    }
    return FRAG_KEEP;
}

/* Find the fragment's predecessor (*prev, NULL: it goes first) and whether it
 * overlaps its neighbours. */
static enum verdict find_place(const struct kite_ip4_reass_dgram *d, const struct frag_link *l,
                               struct kite_pbuf **prev)
{
    struct kite_pbuf *before = NULL;
    struct kite_pbuf *after = d->frags;
    while (after != NULL && link_of(after).start < l->start) {
        before = after;
        after = link_of(after).next;
    }
    *prev = before;
    if (after != NULL) {
        struct frag_link next = link_of(after);
        if (next.start == l->start && next.end == l->end)
            return FRAG_DUPLICATE;
        if (next.start < l->end)
            return FRAG_GIVE_UP_OVERLAP;
    }
    if (before != NULL && link_of(before).end > l->start)
        return FRAG_GIVE_UP_OVERLAP;
    return FRAG_KEEP;
}

static void link_after(struct kite_ip4_reass_dgram *d, struct kite_pbuf *prev, struct kite_pbuf *p,
                       struct frag_link *l)
{
    if (prev == NULL) {
        l->next = d->frags;
        d->frags = p;
    } else {
        struct frag_link pl = link_of(prev);
        l->next = pl.next;
        pl.next = p;
        set_link(prev, &pl);
    }
    set_link(p, l);
}

static bool complete(const struct kite_ip4_reass_dgram *d)
{
    if ((d->flags & (KITE_REASS_FIRST | KITE_REASS_LAST)) != (KITE_REASS_FIRST | KITE_REASS_LAST))
        return false;
    uint16_t covered = 0;
    for (struct kite_pbuf *f = d->frags; f != NULL; f = link_of(f).next) {
        struct frag_link l = link_of(f);
        if (l.start != covered)
            return false;
        covered = l.end;
    }
    return covered == d->data_len;
}

/* Join the fragments' data behind a fresh 20-byte header (RFC 791 3.2: the
 * first fragment's header fields; options are not kept). */
static struct kite_pbuf *assemble(struct kite_stack *stack, struct kite_ip4_reass_dgram *d,
                                  struct kite_ipv4_repr *ip)
{
    struct kite_pbuf *head = NULL;
    for (struct kite_pbuf *f = d->frags; f != NULL;) {
        struct frag_link l = link_of(f);
        (void)kite_pbuf_header_remove(f, l.hlen);
        if (head == NULL)
            head = f;
        else
            kite_pbuf_cat(head, f);
        f = l.next;
    }
    (void)kite_pbuf_header_add(head, KITE_IPV4_HLEN); /* the first fragment's header room */
    *ip = (struct kite_ipv4_repr){
        .hlen = KITE_IPV4_HLEN,
        .tos = d->tos,
        .total_len = (uint16_t)(KITE_IPV4_HLEN + d->data_len),
        .id = d->id,
        .ttl = d->ttl,
        .proto = d->proto,
        .src = d->src,
        .dst = d->dst,
    };
    (void)kite_ipv4_emit(ip, head->payload, head->len);
    stack->reass.pbufs = (uint16_t)(stack->reass.pbufs - d->pbufs);
    stack->stats.ipv4.reass_ok++;
    memset(d, 0, sizeof *d);
    return head;
}

/* Drop p and the whole datagram it belongs to, counting every fragment. */
static void give_up(struct kite_stack *stack, struct kite_ip4_reass_dgram *d, struct kite_pbuf *p,
                    uint32_t *counter)
{
    kite_pbuf_free(stack, p);
    (*counter)++;
    free_dgram(stack, d, counter);
}

/* Take the fragment into d; true when it was kept. */
static bool insert(struct kite_stack *stack, struct kite_ip4_reass_dgram *d, struct kite_pbuf *p,
                   const struct kite_ipv4_repr *ip)
{
    struct kite_stats_ipv4 *st = &stack->stats.ipv4;
    struct frag_link l = {.start = ip->frag_offset,
                          .end = (uint16_t)(ip->frag_offset + ip->total_len - ip->hlen),
                          .hlen = ip->hlen};
    struct kite_pbuf *prev = NULL;
    enum verdict v = check_length(d, &l, ip->more_frags);
    if (v == FRAG_KEEP)
        v = find_place(d, &l, &prev);
    if (v == FRAG_DUPLICATE) {
        st->drop_reass_duplicate++;
        kite_pbuf_free(stack, p);
        return false;
    }
    if (v != FRAG_KEEP) {
        give_up(stack, d, p,
                v == FRAG_GIVE_UP_OVERLAP ? &st->drop_reass_overlap : &st->drop_reass_bad);
        return false;
    }
    uint16_t n = chain_pbufs(p);
    if (!make_room(stack, d, n)) {
        give_up(stack, d, p, &st->drop_reass_full);
        return false;
    }
    link_after(d, prev, p, &l);
    d->pbufs = (uint16_t)(d->pbufs + n);
    d->count++;
    stack->reass.pbufs = (uint16_t)(stack->reass.pbufs + n);
    if (l.start == 0) {
        d->flags |= KITE_REASS_FIRST;
        d->tos = ip->tos;
        d->ttl = ip->ttl;
    }
    if (!ip->more_frags) {
        d->flags |= KITE_REASS_LAST;
        d->data_len = l.end;
    }
    return true;
}

struct kite_pbuf *kite__ip4_reass_input(struct kite_stack *stack, struct kite_pbuf *p,
                                        struct kite_ipv4_repr *ip)
{
    struct kite_stats_ipv4 *st = &stack->stats.ipv4;
    st->reass_fragments++;
    /* RFC 791 3.1: the datagram's data ends below 65536 - header; a
     * fragment reaching past the configured size can never be delivered. */
    if ((uint32_t)ip->frag_offset + ip->total_len - ip->hlen + KITE_IPV4_HLEN >
        KITE_IP_REASS_MAX_SIZE) {
        struct kite_ip4_reass_dgram *d = lookup(stack, ip);
        kite_pbuf_free(stack, p);
        st->drop_reass_too_big++;
        if (d != NULL)
            free_dgram(stack, d, &st->drop_reass_too_big);
        arm_timer(stack);
        return NULL;
    }
    struct kite_ip4_reass_dgram *d = find_dgram(stack, ip);
    struct kite_pbuf *whole = NULL;
    if (insert(stack, d, p, ip) && complete(d))
        whole = assemble(stack, d, ip);
    arm_timer(stack);
    return whole;
}

/* RFC 1122 3.3.2: when time runs out, the datagram is given up, and "ICMP
 * Time Exceeded" (code 1) is sent if its first fragment had arrived. */
static void expire(struct kite_stack *stack, struct kite_ip4_reass_dgram *d)
{
    struct kite_pbuf *first = d->frags;
    struct frag_link l = link_of(first);
    if ((d->flags & KITE_REASS_FIRST) && stack->icmp_error != NULL) {
        /* Rebuild the first fragment's header to quote it. */
        (void)kite_pbuf_header_remove(first, (uint16_t)(l.hlen - KITE_IPV4_HLEN));
        struct kite_ipv4_repr ip = {
            .tos = d->tos,
            .total_len = (uint16_t)(KITE_IPV4_HLEN + l.end),
            .id = d->id,
            .more_frags = true,
            .ttl = d->ttl,
            .proto = d->proto,
            .src = d->src,
            .dst = d->dst,
        };
        (void)kite_ipv4_emit(&ip, first->payload, first->len);
        stack->icmp_error(stack, first, KITE_ICMP4_TIME_EXCEEDED, 1, 0);
        l.hlen = KITE_IPV4_HLEN;
        set_link(first, &l);
    }
    free_dgram(stack, d, &stack->stats.ipv4.drop_reass_timeout);
}

static void reass_timer_fired(struct kite_stack *stack, struct kite_timer *timer)
{
    (void)timer;
    for (unsigned i = 0; i < KITE_IP_REASS_DATAGRAMS; i++) {
        struct kite_ip4_reass_dgram *d = &stack->reass.dgrams[i];
        if (d->frags != NULL && d->deadline <= stack->now)
            expire(stack, d);
    }
    arm_timer(stack);
}

void kite__ip4_reass_init(struct kite_stack *stack)
{
    memset(&stack->reass, 0, sizeof stack->reass);
    kite_timer_init(&stack->reass.timer, reass_timer_fired);
}

void kite__ip4_reass_flush(struct kite_stack *stack)
{
    for (unsigned i = 0; i < KITE_IP_REASS_DATAGRAMS; i++)
        if (stack->reass.dgrams[i].frags != NULL)
            free_dgram(stack, &stack->reass.dgrams[i], NULL);
    kite_timer_cancel(stack, &stack->reass.timer);
}

unsigned kite_ipv4_reass_pending(const struct kite_stack *stack)
{
    unsigned n = 0;
    for (unsigned i = 0; i < KITE_IP_REASS_DATAGRAMS; i++)
        n += stack->reass.dgrams[i].frags != NULL;
    return n;
}
#endif
