/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/opts.h"
#if KITE_TCP /* the whole file is TCP (KITE_TCP = 0 leaves it out) */
/* The sender's SACK scoreboard and RFC 6675 loss recovery helpers: which
 * octets the peer holds, which are lost (IsLost), how many are in the
 * network (SetPipe) and which hole to retransmit next (NextSeg). */
#include "tcp_priv.h"

#define DUP_THRESH 3u

static void remove_at(struct kite_tcp_loss *L, uint8_t i)
{
    for (uint8_t j = i; j + 1u < L->sacked_count; j++)
        L->sacked[j] = L->sacked[j + 1];
    L->sacked_count--;
}

/* Merge [l, r) into the sorted, disjoint scoreboard. */
static void add_range(struct kite_tcp_loss *L, uint32_t l, uint32_t r)
{
    uint8_t i = 0;
    while (i < L->sacked_count && seq_lt(L->sacked[i].right, l))
        i++;
    /* Absorb every range that touches [l, r). */
    while (i < L->sacked_count && seq_leq(L->sacked[i].left, r)) {
        l = seq_min(l, L->sacked[i].left);
        r = seq_max(r, L->sacked[i].right);
        remove_at(L, i);
    }
    if (L->sacked_count == KITE_TCP_SCOREBOARD) {
        if (i == L->sacked_count)
            return; /* full: forget the highest news, it will be reported again */
        L->sacked_count--;
    }
    for (uint8_t j = L->sacked_count; j > i; j--)
        L->sacked[j] = L->sacked[j - 1];
    L->sacked[i].left = l;
    L->sacked[i].right = r;
    L->sacked_count++;
}

void kite__tcp_sack_update(struct kite_tcp_pcb *pcb, const struct kite_tcp_repr *hdr)
{
    for (uint8_t k = 0; k < hdr->sack_count; k++) {
        uint32_t l = hdr->sack[k].left, r = hdr->sack[k].right;
        /* Only blocks inside what we sent and not yet cumulatively acked count
         * (RFC 2018 5; RFC 6675 5: D-SACKs below SND.UNA are ignored). */
        if (!seq_lt(l, r) || seq_leq(r, pcb->snd_una) || seq_gt(r, pcb->snd_max))
            continue;
        struct kite_tcp_loss *L = kite__tcp_loss(pcb);
        if (L == NULL)
            return; /* no scoreboard: recovery falls back to the timeout */
        add_range(L, seq_max(l, pcb->snd_una), r);
    }
}

void kite__tcp_sack_ack(struct kite_tcp_pcb *pcb)
{
    struct kite_tcp_loss *L = pcb->loss;
    if (L == NULL)
        return;
    while (L->sacked_count > 0 && seq_leq(L->sacked[0].right, pcb->snd_una))
        remove_at(L, 0);
    if (L->sacked_count > 0 && seq_lt(L->sacked[0].left, pcb->snd_una))
        L->sacked[0].left = pcb->snd_una;
    if (pcb->snd_una == pcb->snd_max)
        L->sacked_count = 0;
}

static uint8_t sacked_count(const struct kite_tcp_pcb *pcb)
{
    return pcb->loss != NULL ? pcb->loss->sacked_count : 0;
}

bool kite__tcp_sacked(const struct kite_tcp_pcb *pcb, uint32_t seq, uint32_t *end)
{
    for (uint8_t i = 0; i < sacked_count(pcb); i++) {
        const struct kite_tcp_sacked *s = &pcb->loss->sacked[i];
        if (seq_in(seq, s->left, s->right)) {
            *end = s->right;
            return true;
        }
    }
    return false;
}

uint32_t kite__tcp_sacked_bytes(const struct kite_tcp_pcb *pcb)
{
    uint32_t n = 0;
    for (uint8_t i = 0; i < sacked_count(pcb); i++)
        n += pcb->loss->sacked[i].right - pcb->loss->sacked[i].left;
    return n;
}

/* RFC 6675 4 IsLost(): an octet is lost once DupThresh * SMSS bytes or
 * DupThresh discontiguous blocks above it are SACKed. Every unsacked octet
 * below the returned boundary is lost. */
static uint32_t lost_boundary(const struct kite_tcp_pcb *pcb)
{
    uint32_t bytes = 0;
    uint8_t n = sacked_count(pcb);
    for (uint8_t i = n; i > 0; i--) {
        const struct kite_tcp_sacked *s = &pcb->loss->sacked[i - 1];
        bytes += s->right - s->left;
        if (bytes >= DUP_THRESH * pcb->mss || n - (i - 1u) >= DUP_THRESH)
            return s->left;
    }
    return pcb->snd_una;
}

bool kite__tcp_sack_loss_detected(const struct kite_tcp_pcb *pcb)
{
    return lost_boundary(pcb) != pcb->snd_una;
}

/* Unsacked bytes of [from, to). */
static uint32_t unsacked_between(const struct kite_tcp_pcb *pcb, uint32_t from, uint32_t to)
{
    if (!seq_lt(from, to))
        return 0;
    uint32_t n = to - from;
    for (uint8_t i = 0; i < sacked_count(pcb); i++) {
        uint32_t l = seq_max(pcb->loss->sacked[i].left, from);
        uint32_t r = seq_min(pcb->loss->sacked[i].right, to);
        if (seq_lt(l, r))
            n -= r - l;
    }
    return n;
}

/* max(HighRxt, SND.UNA): where retransmission goes on. */
static uint32_t rxt_point(const struct kite_tcp_pcb *pcb)
{
    return pcb->loss != NULL ? seq_max(pcb->loss->high_rxt, pcb->snd_una) : pcb->snd_una;
}

uint32_t kite__tcp_pipe(const struct kite_tcp_pcb *pcb)
{
    /* RFC 6675 4 SetPipe(): unsacked octets not deemed lost, plus lost ones
     * already retransmitted (below HighRxt). */
    uint32_t lost_edge = lost_boundary(pcb);
    uint32_t rxt_edge = seq_min(rxt_point(pcb), lost_edge);
    return unsacked_between(pcb, lost_edge, pcb->snd_max) +
           unsacked_between(pcb, pcb->snd_una, rxt_edge);
}

/* The first unsacked octet at or above max(HighRxt, SND.UNA) and below edge. */
static bool first_hole_below(const struct kite_tcp_pcb *pcb, uint32_t lost_edge, uint32_t *seq,
                             uint32_t *len)
{
    uint32_t s = rxt_point(pcb);
    while (seq_lt(s, lost_edge)) {
        uint32_t end;
        if (kite__tcp_sacked(pcb, s, &end)) {
            s = end;
            continue;
        }
        uint32_t stop = lost_edge;
        for (uint8_t i = 0; i < sacked_count(pcb); i++)
            if (seq_gt(pcb->loss->sacked[i].left, s))
                stop = seq_min(stop, pcb->loss->sacked[i].left);
        *seq = s;
        *len = stop - s;
        return true;
    }
    return false;
}

bool kite__tcp_next_lost(const struct kite_tcp_pcb *pcb, uint32_t *seq, uint32_t *len)
{
    /* RFC 6675 4 NextSeg() rule 1: the first lost, unsacked octet not yet
     * retransmitted in this recovery. */
    return first_hole_below(pcb, lost_boundary(pcb), seq, len);
}

bool kite__tcp_next_rescue(const struct kite_tcp_pcb *pcb, uint32_t *seq, uint32_t *len)
{
    /* RFC 6675 4 NextSeg() rule 3: with no lost octet and no new data to send,
     * any unsacked octet below the highest SACKed one, not yet retransmitted. */
    uint8_t n = sacked_count(pcb);
    if (n == 0)
        return false;
    return first_hole_below(pcb, pcb->loss->sacked[n - 1].left, seq, len);
}

void kite__tcp_set_high_rxt(struct kite_tcp_pcb *pcb, uint32_t seq)
{
    if (pcb->loss != NULL)
        pcb->loss->high_rxt = seq;
}
#else
typedef int kite_tcp_disabled_; /* ISO C wants a non-empty file */
#endif
