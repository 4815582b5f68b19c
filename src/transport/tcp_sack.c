/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/opts.h"
#if KITE_TCP /* the whole file is TCP (KITE_TCP = 0 leaves it out) */
/* The sender's SACK scoreboard and RFC 6675 loss recovery helpers: which
 * octets the peer holds, which are lost (IsLost), how many are in the
 * network (SetPipe) and which hole to retransmit next (NextSeg). */
#include "tcp_priv.h"

#define DUP_THRESH 3u

static void remove_at(struct kite_tcp_pcb *pcb, uint8_t i)
{
    for (uint8_t j = i; j + 1u < pcb->sacked_count; j++)
        pcb->sacked[j] = pcb->sacked[j + 1];
    pcb->sacked_count--;
}

/* Merge [l, r) into the sorted, disjoint scoreboard. */
static void add_range(struct kite_tcp_pcb *pcb, uint32_t l, uint32_t r)
{
    uint8_t i = 0;
    while (i < pcb->sacked_count && seq_lt(pcb->sacked[i].right, l))
        i++;
    /* Absorb every range that touches [l, r). */
    while (i < pcb->sacked_count && seq_leq(pcb->sacked[i].left, r)) {
        l = seq_min(l, pcb->sacked[i].left);
        r = seq_max(r, pcb->sacked[i].right);
        remove_at(pcb, i);
    }
    if (pcb->sacked_count == KITE_TCP_SCOREBOARD) {
        if (i == pcb->sacked_count)
            return; /* full: forget the highest news, it will be reported again */
        pcb->sacked_count--;
    }
    for (uint8_t j = pcb->sacked_count; j > i; j--)
        pcb->sacked[j] = pcb->sacked[j - 1];
    pcb->sacked[i].left = l;
    pcb->sacked[i].right = r;
    pcb->sacked_count++;
}

void kite__tcp_sack_update(struct kite_tcp_pcb *pcb, const struct kite_tcp_repr *hdr)
{
    for (uint8_t k = 0; k < hdr->sack_count; k++) {
        uint32_t l = hdr->sack[k].left, r = hdr->sack[k].right;
        /* Only blocks inside what we sent and not yet cumulatively acked count
         * (RFC 2018 5; RFC 6675 5: D-SACKs below SND.UNA are ignored). */
        if (!seq_lt(l, r) || seq_leq(r, pcb->snd_una) || seq_gt(r, pcb->snd_max))
            continue;
        add_range(pcb, seq_max(l, pcb->snd_una), r);
    }
}

void kite__tcp_sack_ack(struct kite_tcp_pcb *pcb)
{
    while (pcb->sacked_count > 0 && seq_leq(pcb->sacked[0].right, pcb->snd_una))
        remove_at(pcb, 0);
    if (pcb->sacked_count > 0 && seq_lt(pcb->sacked[0].left, pcb->snd_una))
        pcb->sacked[0].left = pcb->snd_una;
    if (pcb->snd_una == pcb->snd_max)
        pcb->sacked_count = 0;
}

bool kite__tcp_sacked(const struct kite_tcp_pcb *pcb, uint32_t seq, uint32_t *end)
{
    for (uint8_t i = 0; i < pcb->sacked_count; i++) {
        if (seq_in(seq, pcb->sacked[i].left, pcb->sacked[i].right)) {
            *end = pcb->sacked[i].right;
            return true;
        }
    }
    return false;
}

uint32_t kite__tcp_sacked_bytes(const struct kite_tcp_pcb *pcb)
{
    uint32_t n = 0;
    for (uint8_t i = 0; i < pcb->sacked_count; i++)
        n += pcb->sacked[i].right - pcb->sacked[i].left;
    return n;
}

/* RFC 6675 4 IsLost(): an octet is lost once DupThresh * SMSS bytes or
 * DupThresh discontiguous blocks above it are SACKed. Every unsacked octet
 * below the returned boundary is lost. */
static uint32_t lost_boundary(const struct kite_tcp_pcb *pcb)
{
    uint32_t bytes = 0;
    for (uint8_t i = pcb->sacked_count; i > 0; i--) {
        const struct kite_tcp_sacked *s = &pcb->sacked[i - 1];
        bytes += s->right - s->left;
        if (bytes >= DUP_THRESH * pcb->mss || pcb->sacked_count - (i - 1u) >= DUP_THRESH)
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
    for (uint8_t i = 0; i < pcb->sacked_count; i++) {
        uint32_t l = seq_max(pcb->sacked[i].left, from);
        uint32_t r = seq_min(pcb->sacked[i].right, to);
        if (seq_lt(l, r))
            n -= r - l;
    }
    return n;
}

uint32_t kite__tcp_pipe(const struct kite_tcp_pcb *pcb)
{
    /* RFC 6675 4 SetPipe(): unsacked octets not deemed lost, plus lost ones
     * already retransmitted (below HighRxt). */
    uint32_t lost_edge = lost_boundary(pcb);
    uint32_t rxt_edge = seq_min(seq_max(pcb->high_rxt, pcb->snd_una), lost_edge);
    return unsacked_between(pcb, lost_edge, pcb->snd_max) +
           unsacked_between(pcb, pcb->snd_una, rxt_edge);
}

/* The first unsacked octet at or above max(HighRxt, SND.UNA) and below edge. */
static bool first_hole_below(const struct kite_tcp_pcb *pcb, uint32_t lost_edge, uint32_t *seq,
                             uint32_t *len)
{
    uint32_t s = seq_max(pcb->high_rxt, pcb->snd_una);
    while (seq_lt(s, lost_edge)) {
        uint32_t end;
        if (kite__tcp_sacked(pcb, s, &end)) {
            s = end;
            continue;
        }
        uint32_t stop = lost_edge;
        for (uint8_t i = 0; i < pcb->sacked_count; i++)
            if (seq_gt(pcb->sacked[i].left, s))
                stop = seq_min(stop, pcb->sacked[i].left);
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
    if (pcb->sacked_count == 0)
        return false;
    return first_hole_below(pcb, pcb->sacked[pcb->sacked_count - 1].left, seq, len);
}
#else
typedef int kite_tcp_disabled_; /* ISO C wants a non-empty file */
#endif
