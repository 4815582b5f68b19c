/* SPDX-License-Identifier: BSD-3-Clause */
/* TCP receive side: trimming to the window, in-order delivery, the
 * out-of-order queue (bounded in segments and counted in the window) and the
 * SACK blocks that describe it (RFC 2018 4). */
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

static void drain_ooo(struct kite_tcp_pcb *pcb)
{
    bool progress = true;
    while (progress && pcb->ooo_count > 0 && !(pcb->flags & KITE_TCPF_FREE_PENDING)) {
        progress = false;
        for (uint8_t i = 0; i < pcb->ooo_count; i++) {
            struct kite_tcp_ooo *o = &pcb->ooo[i];
            if (seq_gt(o->seq, pcb->rcv_nxt))
                continue;
            struct kite_pbuf *p = o->p;
            uint32_t skip = pcb->rcv_nxt - o->seq;
            pcb->ooo_bytes -= p->tot_len;
            pcb->ooo[i] = pcb->ooo[--pcb->ooo_count];
            if (skip >= p->tot_len) {
                kite_pbuf_free(pcb->stack, p); /* wholly duplicate by now */
            } else {
                p = kite__pbuf_drop_front(pcb->stack, p, skip);
                if (p != NULL)
                    deliver(pcb, p);
            }
            progress = true;
            break;
        }
    }
    if (pcb->ooo_last >= pcb->ooo_count)
        pcb->ooo_last = 0;
}

static void queue_ooo(struct kite_tcp_pcb *pcb, struct kite_pbuf *p, uint32_t seq)
{
    for (uint8_t i = 0; i < pcb->ooo_count; i++) {
        if (pcb->ooo[i].seq == seq && pcb->ooo[i].p->tot_len >= p->tot_len) {
            kite_pbuf_free(pcb->stack, p); /* a duplicate */
            pcb->ooo_last = i;
            return;
        }
    }
    if (pcb->ooo_count >= KITE_TCP_OOO_SEGS) {
        pcb->stack->stats.tcp.drop_ooo_full++;
        kite_pbuf_free(pcb->stack, p);
        return;
    }
    pcb->stack->stats.tcp.ooo_queued++;
    pcb->ooo_last = pcb->ooo_count;
    pcb->ooo[pcb->ooo_count].p = p;
    pcb->ooo[pcb->ooo_count].seq = seq;
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

void kite__tcp_ooo_free(struct kite_tcp_pcb *pcb)
{
    for (uint8_t i = 0; i < pcb->ooo_count; i++)
        kite_pbuf_free(pcb->stack, pcb->ooo[i].p);
    pcb->ooo_count = 0;
    pcb->ooo_bytes = 0;
    pcb->ooo_last = 0;
}

/* The merged range around ooo[i]. */
static struct kite_tcp_sack_block range_of(const struct kite_tcp_pcb *pcb, uint8_t i)
{
    struct kite_tcp_sack_block b = {pcb->ooo[i].seq, pcb->ooo[i].seq + pcb->ooo[i].p->tot_len};
    bool grew = true;
    while (grew) {
        grew = false;
        for (uint8_t j = 0; j < pcb->ooo_count; j++) {
            uint32_t l = pcb->ooo[j].seq, r = l + pcb->ooo[j].p->tot_len;
            if (seq_leq(l, b.right) && seq_geq(r, b.left) &&
                (seq_lt(l, b.left) || seq_gt(r, b.right))) {
                b.left = seq_min(l, b.left);
                b.right = seq_max(r, b.right);
                grew = true;
            }
        }
    }
    return b;
}

static bool already_listed(const struct kite_tcp_sack_block *out, uint8_t n,
                           struct kite_tcp_sack_block b)
{
    for (uint8_t k = 0; k < n; k++)
        if (out[k].left == b.left && out[k].right == b.right)
            return true;
    return false;
}

uint8_t kite__tcp_sack_blocks(const struct kite_tcp_pcb *pcb, struct kite_tcp_sack_block *out,
                              uint8_t max)
{
    /* RFC 2018 4: the first block holds the most recently received segment. */
    uint8_t n = 0;
    if (pcb->ooo_count == 0 || max == 0)
        return 0;
    out[n++] = range_of(pcb, pcb->ooo_last);
    for (uint8_t i = 0; i < pcb->ooo_count && n < max; i++) {
        struct kite_tcp_sack_block b = range_of(pcb, i);
        if (!already_listed(out, n, b))
            out[n++] = b;
    }
    return n;
}
