/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/opts.h"
#if KITE_TCP /* the whole file is TCP (KITE_TCP = 0 leaves it out) */
/* TCP receive side: trimming to the window, in-order delivery, the
 * out-of-order queue and the SACK blocks that describe it (RFC 2018 4).
 *
 * Out-of-order segments are kept as the pbufs they arrived in, sorted by
 * sequence number and bounded by memory (the window offered and the pbuf
 * pool's reserve), not by a count: each one's bookkeeping lives in the
 * header room in front of its payload, where its Ethernet, IP and TCP
 * headers were, so queueing costs the connection one pointer. */
#include <stdalign.h>
#include <string.h>

#include "kite_internal/pbuf.h"
#include "tcp_priv.h"

struct ooo_meta {
    struct kite_pbuf *next; /* the next segment up */
    uint32_t seq;
    uint16_t stamp; /* arrival order, for the order of SACK blocks */
    /* Kept up to date in the queue's first segment only. */
    uint16_t counter;       /* arrivals so far */
    uint32_t bytes;         /* bytes of the whole queue */
    uint32_t last_seq;      /* the most recent arrival (the first SACK block) */
    struct kite_pbuf *tail; /* the last segment (in-order arrivals append) */
};

static struct ooo_meta *meta_at(const struct kite_pbuf *p)
{
    uintptr_t at = ((uintptr_t)p->payload - sizeof(struct ooo_meta)) &
                   ~(uintptr_t)(alignof(struct ooo_meta) - 1u);
    return (struct ooo_meta *)at;
}

static bool has_room(const struct kite_pbuf *p)
{
    uintptr_t need = (uintptr_t)p->payload - (uintptr_t)meta_at(p);
    return p->ref == 1 && kite_pbuf_header_room(p) >= need;
}

/* A segment without room in front (a header split across pbufs, a shared
 * or referenced buffer) is copied into one that has it. */
static struct kite_pbuf *with_room(struct kite_stack *stack, struct kite_pbuf *p)
{
    if (has_room(p))
        return p;
    struct kite_pbuf *c =
        kite_pbuf_clone(stack, (uint16_t)(sizeof(struct ooo_meta) + alignof(struct ooo_meta)), p);
    kite_pbuf_free(stack, p);
    if (c != NULL && !has_room(c)) {
        kite_pbuf_free(stack, c);
        c = NULL;
    }
    return c;
}

uint32_t kite__tcp_ooo_bytes(const struct kite_tcp_pcb *pcb)
{
    return pcb->ooo != NULL ? meta_at(pcb->ooo)->bytes : 0;
}

static void deliver(struct kite_tcp_pcb *pcb, struct kite_pbuf *p)
{
    uint32_t len = p->tot_len;
    pcb->rcv_nxt += len;
    if (TCP_CB(pcb, recv) == NULL || (pcb->flags & KITE_TCPF_RX_SHUT)) {
        kite_pbuf_free(pcb->stack, p); /* nobody reads: consume at once */
        return;
    }
    pcb->rcv_unread += len;
    pcb->busy++;
    pcb->ops->recv(tcp_arg(pcb), pcb, p);
    pcb->busy--;
}

/* Take the first segment off the queue; the next one becomes the head. */
static struct kite_pbuf *pop_head(struct kite_tcp_pcb *pcb)
{
    struct kite_pbuf *p = pcb->ooo;
    const struct ooo_meta *h = meta_at(p);
    pcb->ooo = h->next;
    if (pcb->ooo != NULL) {
        struct ooo_meta *n = meta_at(pcb->ooo);
        n->counter = h->counter;
        n->bytes = h->bytes - p->tot_len;
        n->last_seq = h->last_seq;
        n->tail = h->tail;
    }
    return p;
}

static void drain_ooo(struct kite_tcp_pcb *pcb)
{
    while (pcb->ooo != NULL && !(pcb->flags & KITE_TCPF_FREE_PENDING) &&
           seq_leq(meta_at(pcb->ooo)->seq, pcb->rcv_nxt)) {
        uint32_t skip = pcb->rcv_nxt - meta_at(pcb->ooo)->seq;
        struct kite_pbuf *p = pop_head(pcb);
        if (skip >= p->tot_len) {
            kite_pbuf_free(pcb->stack, p); /* wholly duplicate by now */
            continue;
        }
        p = kite__pbuf_drop_front(pcb->stack, p, skip);
        if (p != NULL)
            deliver(pcb, p);
    }
}

/* Where seq goes: after *prev (NULL: at the front). Appending is the common
 * case during a loss (everything after the hole), so the tail is tried first. */
static struct kite_pbuf *insert_after(const struct kite_tcp_pcb *pcb, uint32_t seq)
{
    struct kite_pbuf *tail = meta_at(pcb->ooo)->tail;
    if (seq_geq(seq, meta_at(tail)->seq))
        return tail;
    struct kite_pbuf *prev = NULL;
    for (struct kite_pbuf *q = pcb->ooo; q != NULL && seq_leq(meta_at(q)->seq, seq);
         q = meta_at(q)->next)
        prev = q;
    return prev;
}

static void link_segment(struct kite_tcp_pcb *pcb, struct kite_pbuf *p, struct kite_pbuf *prev)
{
    struct ooo_meta *m = meta_at(p);
    if (pcb->ooo == NULL) {
        m->next = NULL;
        m->counter = 0;
        m->bytes = 0;
        m->tail = p;
    } else if (prev == NULL) { /* the new head takes over the queue's totals */
        const struct ooo_meta *old = meta_at(pcb->ooo);
        m->next = pcb->ooo;
        m->counter = old->counter;
        m->bytes = old->bytes;
        m->tail = old->tail;
    } else {
        m->next = meta_at(prev)->next;
        meta_at(prev)->next = p;
        if (m->next == NULL)
            meta_at(pcb->ooo)->tail = p;
    }
    if (prev == NULL)
        pcb->ooo = p;
}

/* Data held out of order must leave the pool its reserve for reception. */
static bool pool_allows(const struct kite_stack *stack)
{
    const struct kite_pool *pool = &stack->pools[KITE_POOL_PBUF_POOL];
    return (uint32_t)(pool->count - pool->used) >= KITE_TCP_POOL_RESERVE;
}

static bool pool_spares(const struct kite_stack *stack)
{
    const struct kite_pool *pool = &stack->pools[KITE_POOL_PBUF_POOL];
    return (uint32_t)(pool->count - pool->used) >= TCP_RX_SPARE_BLOCKS;
}

static void note_arrival(struct kite_tcp_pcb *pcb, struct ooo_meta *m, uint32_t seq)
{
    struct ooo_meta *h = meta_at(pcb->ooo);
    h->counter++;
    h->last_seq = seq;
    m->stamp = h->counter;
}

static void queue_ooo(struct kite_tcp_pcb *pcb, struct kite_pbuf *p, uint32_t seq)
{
    struct kite_stack *stack = pcb->stack;
    struct kite_pbuf *prev = pcb->ooo != NULL ? insert_after(pcb, seq) : NULL;
    if (prev != NULL && meta_at(prev)->seq == seq && prev->tot_len >= p->tot_len) {
        note_arrival(pcb, meta_at(prev), seq); /* reported first again: most recent */
        kite_pbuf_free(stack, p);              /* a duplicate */
        return;
    }
    if (!pool_allows(stack)) {
        kite_pbuf_free(stack, p);
        p = NULL;
    } else {
        p = with_room(stack, p);
    }
    if (p == NULL) {
        stack->stats.tcp.drop_ooo_full++;
        return;
    }
    /* Copying it may have run the pool's reclaim, which empties every queue. */
    prev = pcb->ooo != NULL ? insert_after(pcb, seq) : NULL;
    stack->stats.tcp.ooo_queued++;
    struct ooo_meta *m = meta_at(p);
    m->seq = seq;
    link_segment(pcb, p, prev);
    meta_at(pcb->ooo)->bytes += p->tot_len;
    note_arrival(pcb, m, seq);
}

void kite__tcp_receive_data(struct kite_tcp_pcb *pcb, struct tcp_seg *seg)
{
    struct kite_stack *stack = pcb->stack;
    struct kite_pbuf *p = seg->p;
    uint32_t seq = seg->hdr.seq;
    seg->p = NULL; /* this function owns the data now */
    kite_pbuf_trim(stack, p, seg->data_len);
    if (seq_lt(seq, pcb->rcv_nxt)) {
        p = kite__pbuf_drop_front(stack, p, pcb->rcv_nxt - seq);
        seq = pcb->rcv_nxt;
    }
    /* Keep only what fits in the window we offered. */
    uint32_t edge = seq_gt(pcb->rcv_adv, pcb->rcv_nxt) ? pcb->rcv_adv : pcb->rcv_nxt;
    if (p != NULL && seq_gt(seq + p->tot_len, edge)) {
        uint32_t keep = seq_gt(edge, seq) ? edge - seq : 0;
        if (keep == 0) {
            kite_pbuf_free(stack, p);
            p = NULL;
        } else {
            kite_pbuf_trim(stack, p, (uint16_t)keep);
            /* RFC 9293 3.10.7.4: what lay beyond the window was not
             * acceptable; the peer hears at once where the window ends. */
            pcb->flags |= KITE_TCPF_ACK_NOW;
        }
    }
    if (p == NULL) {
        pcb->flags |= KITE_TCPF_ACK_NOW;
        return;
    }
    if (seq != pcb->rcv_nxt) {
        queue_ooo(pcb, p, seq);
        pcb->flags |= KITE_TCPF_ACK_NOW; /* RFC 5681 4.2: dup ACK at once, with SACK */
        return;
    }
    /* Kept data leaves the pool a block; a frame that found the pool empty
     * came in a RAM block (kite_pbuf_alloc_rx) for its ACK: its data goes.
     * Out-of-order data is given back first (RFC 2018 8): in-order data
     * moves the stream, and out-of-order data holding the pool would
     * otherwise keep out the very segment that fills its hole. */
    if (!pool_spares(stack) && (kite__tcp_reclaim(stack) == 0 || !pool_spares(stack))) {
        stack->stats.tcp.drop_no_mem++; /* not acknowledged: the peer sends it again */
        kite_pbuf_free(stack, p);
        return;
    }
    bool had_ooo = pcb->ooo != NULL;
    deliver(pcb, p);
    drain_ooo(pcb);
    if (!(pcb->flags & KITE_TCPF_FREE_PENDING))
        kite__tcp_ack_soon(pcb, had_ooo); /* filling a hole is acknowledged at once */
}

/* Free every queued segment; returns the pool blocks given back. */
static unsigned free_queue(struct kite_tcp_pcb *pcb, unsigned *segments)
{
    unsigned freed = 0;
    struct kite_pbuf *p = pcb->ooo;
    pcb->ooo = NULL;
    while (p != NULL) {
        struct kite_pbuf *next = meta_at(p)->next;
        freed += kite_pbuf_free(pcb->stack, p);
        (*segments)++;
        p = next;
    }
    return freed;
}

unsigned kite__tcp_reclaim(struct kite_stack *stack)
{
    unsigned freed = 0, segments = 0;
    for (struct kite_tcp_pcb *pcb = kite__tcp_next(stack, NULL); pcb != NULL;
         pcb = kite__tcp_next(stack, pcb))
        freed += free_queue(pcb, &segments);
    stack->stats.tcp.ooo_reclaimed += segments;
    return freed;
}

void kite__tcp_ooo_free(struct kite_tcp_pcb *pcb)
{
    unsigned segments = 0;
    (void)free_queue(pcb, &segments);
}

/* A merged range of the queue and when it last held the newest arrival. */
struct sack_range {
    struct kite_tcp_sack_block b;
    uint16_t stamp;
};

static bool newer(uint16_t a, uint16_t b)
{
    return (int16_t)(uint16_t)(a - b) > 0;
}

/* Merged, sorted ranges of the queue, in one pass. */
static uint16_t merged_ranges(const struct kite_tcp_pcb *pcb, struct sack_range *out, uint16_t max)
{
    uint16_t n = 0;
    for (const struct kite_pbuf *p = pcb->ooo; p != NULL; p = meta_at(p)->next) {
        const struct ooo_meta *o = meta_at(p);
        uint32_t l = o->seq, r = l + p->tot_len;
        if (n > 0 && seq_leq(l, out[n - 1].b.right)) {
            out[n - 1].b.right = seq_max(out[n - 1].b.right, r);
            if (newer(o->stamp, out[n - 1].stamp))
                out[n - 1].stamp = o->stamp;
            continue;
        }
        if (n == max)
            break;
        out[n].b.left = l;
        out[n].b.right = r;
        out[n].stamp = o->stamp;
        n++;
    }
    return n;
}

/* The not yet taken range that received data most recently. */
static uint16_t most_recent(const struct sack_range *r, const bool *taken, uint16_t n)
{
    uint16_t best = n;
    for (uint16_t i = 0; i < n; i++)
        if (!taken[i] && (best == n || newer(r[i].stamp, r[best].stamp)))
            best = i;
    return best;
}

uint8_t kite__tcp_sack_blocks(const struct kite_tcp_pcb *pcb, struct kite_tcp_sack_block *out,
                              uint8_t max)
{
    /* RFC 2018 4: the first block holds the segment that triggered this ACK
     * (the most recent arrival); the others repeat the most recently
     * reported blocks first, so each block is reported at least three times
     * while the holes stay open. */
    struct sack_range ranges[KITE_TCP_MAX_SACK_BLOCKS * 4];
    bool taken[KITE_TCP_MAX_SACK_BLOCKS * 4] = {false};
    uint16_t n = merged_ranges(pcb, ranges, (uint16_t)(sizeof ranges / sizeof ranges[0]));
    if (n == 0 || max == 0)
        return 0;
    uint16_t first = most_recent(ranges, taken, n);
    uint32_t last = meta_at(pcb->ooo)->last_seq;
    for (uint16_t i = 0; i < n; i++)
        if (seq_in(last, ranges[i].b.left, ranges[i].b.right))
            first = i;
    uint8_t count = 0;
    for (uint16_t i = first; i < n && count < max; i = most_recent(ranges, taken, n)) {
        taken[i] = true;
        out[count++] = ranges[i].b;
    }
    return count;
}
#else
typedef int kite_tcp_disabled_; /* ISO C wants a non-empty file */
#endif
