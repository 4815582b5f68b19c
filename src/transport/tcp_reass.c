/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/opts.h"
#if KITE_TCP /* the whole file is TCP (KITE_TCP = 0 leaves it out) */
/* TCP receive side: trimming to the window, in-order delivery, the
 * out-of-order queue (bounded in segments and counted in the window) and the
 * SACK blocks that describe it (RFC 2018 4). */
#include <string.h>

#include "tcp_priv.h"

static void deliver(struct kite_tcp_pcb *pcb, struct kite_pbuf *p)
{
    uint32_t len = p->tot_len;
    pcb->rcv_nxt += len;
    if (pcb->recv == NULL || (pcb->flags & KITE_TCPF_RX_SHUT)) {
        kite_pbuf_free(pcb->stack, p); /* nobody reads: consume at once */
        return;
    }
    pcb->rcv_unread += len;
    pcb->busy++;
    pcb->recv(pcb->arg, pcb, p);
    pcb->busy--;
}

/* The queue is kept sorted by sequence number, so draining takes from the
 * front and SACK ranges come out of one linear pass. */
static void remove_front(struct kite_tcp_pcb *pcb, uint16_t n)
{
    memmove(&pcb->ooo[0], &pcb->ooo[n], sizeof(pcb->ooo[0]) * (size_t)(pcb->ooo_count - n));
    pcb->ooo_count = (uint16_t)(pcb->ooo_count - n);
}

static void drain_ooo(struct kite_tcp_pcb *pcb)
{
    while (pcb->ooo_count > 0 && !(pcb->flags & KITE_TCPF_FREE_PENDING) &&
           seq_leq(pcb->ooo[0].seq, pcb->rcv_nxt)) {
        struct kite_pbuf *p = pcb->ooo[0].p;
        uint32_t skip = pcb->rcv_nxt - pcb->ooo[0].seq;
        pcb->ooo_bytes -= p->tot_len;
        remove_front(pcb, 1);
        if (skip >= p->tot_len) {
            kite_pbuf_free(pcb->stack, p); /* wholly duplicate by now */
            continue;
        }
        p = kite__pbuf_drop_front(pcb->stack, p, skip);
        if (p != NULL)
            deliver(pcb, p);
    }
}

static void queue_ooo(struct kite_tcp_pcb *pcb, struct kite_pbuf *p, uint32_t seq)
{
    uint16_t at = pcb->ooo_count;
    while (at > 0 && seq_gt(pcb->ooo[at - 1].seq, seq))
        at--;
    pcb->ooo_last_seq = seq;
    pcb->ooo_stamp++;
    if (at > 0 && pcb->ooo[at - 1].seq == seq && pcb->ooo[at - 1].p->tot_len >= p->tot_len) {
        pcb->ooo[at - 1].stamp = pcb->ooo_stamp; /* reported first again: most recent */
        kite_pbuf_free(pcb->stack, p);           /* a duplicate */
        return;
    }
    if (pcb->ooo_count >= KITE_TCP_OOO_SEGS) {
        pcb->stack->stats.tcp.drop_ooo_full++;
        kite_pbuf_free(pcb->stack, p);
        return;
    }
    pcb->stack->stats.tcp.ooo_queued++;
    memmove(&pcb->ooo[at + 1], &pcb->ooo[at], sizeof(pcb->ooo[0]) * (size_t)(pcb->ooo_count - at));
    pcb->ooo[at].p = p;
    pcb->ooo[at].seq = seq;
    pcb->ooo[at].stamp = pcb->ooo_stamp;
    pcb->ooo_count++;
    pcb->ooo_bytes += p->tot_len;
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
    bool had_ooo = pcb->ooo_count > 0;
    if (p->tot_len >= pcb->mss)
        pcb->full_segs_unacked++; /* RFC 1122 4.2.3.2: ACK at least every second one */
    deliver(pcb, p);
    drain_ooo(pcb);
    if (!(pcb->flags & KITE_TCPF_FREE_PENDING))
        kite__tcp_ack_soon(pcb, had_ooo); /* filling a hole is acknowledged at once */
}

unsigned kite__tcp_reclaim(struct kite_stack *stack)
{
    unsigned freed = 0;
    for (struct kite_tcp_pcb *pcb = stack->tcp.active; pcb != NULL; pcb = pcb->next) {
        if (pcb->ooo_count == 0)
            continue;
        for (uint16_t i = 0; i < pcb->ooo_count; i++)
            freed += kite_pbuf_free(stack, pcb->ooo[i].p);
        stack->stats.tcp.ooo_reclaimed += pcb->ooo_count;
        pcb->ooo_count = 0;
        pcb->ooo_bytes = 0;
    }
    return freed;
}

void kite__tcp_ooo_free(struct kite_tcp_pcb *pcb)
{
    for (uint16_t i = 0; i < pcb->ooo_count; i++)
        kite_pbuf_free(pcb->stack, pcb->ooo[i].p);
    pcb->ooo_count = 0;
    pcb->ooo_bytes = 0;
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
    for (uint16_t i = 0; i < pcb->ooo_count; i++) {
        const struct kite_tcp_ooo *o = &pcb->ooo[i];
        uint32_t l = o->seq, r = l + o->p->tot_len;
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
    for (uint16_t i = 0; i < n; i++)
        if (seq_in(pcb->ooo_last_seq, ranges[i].b.left, ranges[i].b.right))
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
