/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/opts.h"
#if KITE_TCP /* the whole file is TCP (KITE_TCP = 0 leaves it out) */
/*
 * TCP segment processing in SYN_RECEIVED and the synchronized states,
 * following RFC 9293 3.10.7.4 step by step: sequence check (with PAWS,
 * RFC 7323 5), RST (RFC 5961 3), SYN (RFC 5961 4), ACK (RFC 5961 5, RFC 5681,
 * RFC 6582, RFC 6675), data, FIN.
 */
#include "tcp_priv.h"

/* ---- Challenge ACKs (RFC 5961 7) --------------------------------------------
 *
 * The budget is per connection and drawn at random each second, from
 * [L/2, 3L/2), as Linux does since CVE-2016-5696: one budget shared by every
 * connection let an off-path attacker count the challenge ACKs a victim
 * connection drew and so learn its sequence numbers. */

static bool challenge_allowed(struct kite_tcp_pcb *pcb)
{
    struct kite_stack *stack = pcb->stack;
    uint8_t second = (uint8_t)((stack->now / 1000u) & 15u);
    uint8_t left = pcb->challenge & 15u;
    if (second != pcb->challenge >> 4 || !(pcb->flags & KITE_TCPF_CHALLENGE_STARTED)) {
        uint32_t limit = KITE_TCP_CHALLENGE_ACK_LIMIT;
        uint32_t budget = limit / 2u + (limit > 0 ? kite_random_u32(stack) % limit : 0);
        left = (uint8_t)(budget < 15u ? budget : 15u);
        pcb->flags |= KITE_TCPF_CHALLENGE_STARTED;
    }
    bool allowed = left > 0;
    if (allowed) {
        left--;
        stack->stats.tcp.challenge_acks++;
    } else {
        stack->stats.tcp.challenge_acks_limited++;
    }
    pcb->challenge = (uint8_t)(second << 4 | left);
    return allowed;
}

static void challenge_ack(struct kite_tcp_pcb *pcb)
{
    if (challenge_allowed(pcb))
        pcb->flags |= KITE_TCPF_ACK_NOW;
}

/* ---- 1. Sequence number check -------------------------------------------------- */

static uint32_t advertised_window(const struct kite_tcp_pcb *pcb)
{
    return seq_gt(pcb->rcv_adv, pcb->rcv_nxt) ? pcb->rcv_adv - pcb->rcv_nxt : 0;
}

/* RFC 9293 3.10.7.4 first: the four cases of segment acceptability. */
static bool acceptable(const struct kite_tcp_pcb *pcb, const struct tcp_seg *seg)
{
    uint32_t wnd = advertised_window(pcb);
    uint32_t seq = seg->hdr.seq;
    if (seg->len == 0)
        return wnd == 0 ? seq == pcb->rcv_nxt : seq_in(seq, pcb->rcv_nxt, pcb->rcv_nxt + wnd);
    if (wnd == 0)
        return false;
    return seq_in(seq, pcb->rcv_nxt, pcb->rcv_nxt + wnd) ||
           seq_in(seq + seg->len - 1, pcb->rcv_nxt, pcb->rcv_nxt + wnd);
}

/* RFC 7323 5.3: reject segments carrying a timestamp older than ts_recent. */
static bool paws_reject(const struct kite_tcp_pcb *pcb, const struct tcp_seg *seg)
{
    if (!(pcb->flags & KITE_TCPF_TS) || !(seg->hdr.opts & KITE_TCP_HAS_TIMESTAMP) ||
        (seg->hdr.flags & KITE_TCP_RST))
        return false;
    if (!seq_lt(seg->hdr.ts_val, pcb->t.ts.recent))
        return false;
    /* RFC 7323 5.5: after 24 days idle ts_recent is invalid, accept. */
    return (uint32_t)pcb->stack->now - pcb->last_rx < 24u * 24u * 3600u * 1000u;
}

static bool sequence_ok(struct kite_tcp_pcb *pcb, struct tcp_seg *seg)
{
    struct kite_stats_tcp *st = &pcb->stack->stats.tcp;
    if (paws_reject(pcb, seg)) {
        st->drop_paws++;
        pcb->flags |= KITE_TCPF_ACK_NOW;
        return false;
    }
    if (acceptable(pcb, seg))
        return true;
    if (advertised_window(pcb) == 0 && seg->hdr.seq == pcb->rcv_nxt) {
        /* RFC 9293: with a zero window still take ACK, URG and RST; drop the data. */
        seg->data_len = 0;
        seg->hdr.flags &= (uint8_t)~KITE_TCP_FIN;
        pcb->flags |= KITE_TCPF_ACK_NOW;
        return true;
    }
    st->drop_out_of_window++;
    if (!(seg->hdr.flags & KITE_TCP_RST))
        pcb->flags |= KITE_TCPF_ACK_NOW; /* a duplicate ACK tells the peer where we are */
    if (pcb->state == KITE_TCP_TIME_WAIT && (seg->hdr.flags & KITE_TCP_FIN))
        kite__tcp_enter_time_wait(pcb); /* its FIN again: our ACK was lost, restart 2MSL */
    return false;
}

/* ---- 2. RST (RFC 5961 3.2) ------------------------------------------------------ */

static void handle_rst(struct kite_tcp_pcb *pcb, const struct tcp_seg *seg)
{
    if (seg->hdr.seq != pcb->rcv_nxt) {
        challenge_ack(pcb); /* in window but not exact: maybe blind, ask */
        return;
    }
    pcb->stack->stats.tcp.resets_rx++;
    if (pcb->state == KITE_TCP_TIME_WAIT)
        return; /* RFC 1337: don't let a reset assassinate TIME_WAIT */
    /* RFC 9293 3.10.7.4: in CLOSING and LAST-ACK too the connection ends by a
     * reset, not by the close handshake: say so (a socket reports ECONNRESET). */
    kite__tcp_kill(pcb, KITE_ERR_RESET);
}

/* ---- 5. ACK ---------------------------------------------------------------------- */

/* RFC 6298 2.2 / RFC 7323 4.1: the handshake gives the first RTT sample,
 * unless the SYN was retransmitted (Karn); then RFC 6298 5.7 asks for a
 * 3 s RTO until data gives a sample. */
static void handshake_rtt(struct kite_tcp_pcb *pcb, const struct kite_tcp_repr *hdr)
{
    if (pcb->backoff > 0) {
        pcb->flags |= KITE_TCPF_RTO_3S;
    } else if ((pcb->flags & KITE_TCPF_TS) && (hdr->opts & KITE_TCP_HAS_TIMESTAMP) &&
               hdr->ts_ecr != 0) {
        kite__tcp_rtt_sample(pcb, kite__tcp_ts_now(pcb) - hdr->ts_ecr);
    } else if (pcb->timer_kind == KITE_TCPT_REXMIT) {
        /* The SYN left one RTO before its (never backed off) deadline. */
        uint32_t sent = pcb->deadline - kite__tcp_rto(pcb);
        kite__tcp_rtt_sample(pcb, (uint32_t)pcb->stack->now - sent);
    }
}

/* A child's handshake completed: hand it to its listener's application. */
static void accept_child(struct kite_tcp_pcb *pcb)
{
    struct kite_tcp_listener *l = pcb->u.listener;
    pcb->flags = (pcb->flags & (uint32_t)~KITE_TCPF_CHILD) | KITE_TCPF_ACCEPTED;
    pcb->u.arg = l->arg;
    kite_tcp_accept_fn accept = l->ops != NULL ? l->ops->accept : NULL;
    /* A listener without an accept callback, or one that refuses: reset. */
    if (accept == NULL || accept(l->arg, pcb) != KITE_ERR_OK) {
        if (!(pcb->flags & KITE_TCPF_FREE_PENDING))
            kite_tcp_abort(pcb);
    }
}

bool kite__tcp_established(struct kite_tcp_pcb *pcb, const struct kite_tcp_repr *hdr, bool measured)
{
    if (measured)
        handshake_rtt(pcb, hdr);
    pcb->backoff = 0;
    kite__tcp_timer_stop(pcb);
    kite__tcp_set_state(pcb, KITE_TCP_ESTABLISHED);
    pcb->stack->stats.tcp.established++;
    pcb->busy++;
    if (pcb->flags & KITE_TCPF_CHILD)
        accept_child(pcb);
    else if (TCP_CB(pcb, connected) != NULL)
        pcb->ops->connected(pcb->u.arg, pcb);
    pcb->busy--;
    return !(pcb->flags & KITE_TCPF_FREE_PENDING);
}

static bool syn_received_ack(struct kite_tcp_pcb *pcb, const struct tcp_seg *seg)
{
    /* Until now SND.UNA is our ISS. */
    if (!seq_in(seg->hdr.ack, pcb->snd_una + 1, pcb->snd_max + 1)) {
        pcb->stack->stats.tcp.drop_bad_ack++;
        kite__tcp_rst_for(pcb->stack, seg);
        return false;
    }
    if ((pcb->flags & KITE_TCPF_CHILD) && pcb->u.listener->full) {
        /* Linux's tcp_check_req on a full accept queue (tcp_abort_on_overflow
         * 0): the ACK is dropped, the connection stays half-open; the SYN-ACK
         * is retransmitted and the peer's next ACK completes it if room. */
        pcb->stack->stats.tcp.drop_listen_full++;
        return false;
    }
    pcb->snd_una++; /* our SYN is acknowledged */
    pcb->max_snd_wnd = 0;
    tcp_set_snd_wnd(pcb, (uint32_t)seg->hdr.window << pcb->snd_wscale);
    return kite__tcp_established(pcb, &seg->hdr, true);
}

static void update_window(struct kite_tcp_pcb *pcb, const struct tcp_seg *seg)
{
    /* RFC 9293 3.10.7.4 takes the window only from the newest segment, kept
     * as SND.WL1/WL2. Newest is judged here without them, as Linux does: an
     * ACK that advances, or a segment no older than what we received (this
     * runs before its data moves RCV.NXT). */
    if (seq_gt(seg->hdr.ack, pcb->snd_una) || seq_geq(seg->hdr.seq, pcb->rcv_nxt))
        tcp_set_snd_wnd(pcb, (uint32_t)seg->hdr.window << pcb->snd_wscale);
}

static void drop_acked_data(struct kite_tcp_pcb *pcb, uint32_t n)
{
    pcb->snd_queued -= n;
    /* The copy cursor counts from snd_una: move it with the queue's front. */
    if (pcb->snd_cur != NULL && pcb->snd_cur_off >= n)
        pcb->snd_cur_off -= n;
    else
        pcb->snd_cur = NULL;
    while (n > 0 && pcb->snd_queue != NULL) {
        struct kite_pbuf *p = pcb->snd_queue;
        if (n < p->len) {
            (void)kite_pbuf_header_remove(p, (uint16_t)n);
            return;
        }
        n -= p->len;
        pcb->snd_queue = p->next;
        p->next = NULL;
        if (pcb->snd_tail == p)
            pcb->snd_tail = NULL;
        kite_pbuf_free(pcb->stack, p);
    }
}

static void take_rtt_sample(struct kite_tcp_pcb *pcb, const struct tcp_seg *seg)
{
    /* RFC 7323 4.1: with timestamps every advancing ACK gives a sample;
     * without, Karn's rule: only the one timed, never retransmitted segment. */
    if ((pcb->flags & KITE_TCPF_TS) && (seg->hdr.opts & KITE_TCP_HAS_TIMESTAMP) &&
        seg->hdr.ts_ecr != 0) {
        kite__tcp_rtt_sample(pcb, kite__tcp_ts_now(pcb) - seg->hdr.ts_ecr);
    } else if ((pcb->flags & KITE_TCPF_RTT_TIMING) && seq_gt(seg->hdr.ack, pcb->t.rtt.seq)) {
        pcb->flags &= (uint32_t)~KITE_TCPF_RTT_TIMING;
        kite__tcp_rtt_sample(pcb, (uint32_t)pcb->stack->now - pcb->t.rtt.start);
    }
}

static bool has_sack(const struct kite_tcp_pcb *pcb)
{
    return (pcb->flags & KITE_TCPF_SACK) != 0;
}

/* RFC 6582 3.2 step 3 / RFC 6675 5: an ACK during recovery. */
static void recovery_ack(struct kite_tcp_pcb *pcb, uint32_t acked)
{
    if (kite__tcp_recovery_allowed(pcb)) { /* past the recovery point */
        kite__tcp_cc_exit_recovery(pcb);
        return;
    }
    if (has_sack(pcb))
        return; /* the output loop retransmits the next hole (NextSeg) */
    /* RFC 6582 3.2 step 5, a partial ACK: retransmit the first unacknowledged
     * segment, deflate cwnd by what was acknowledged and add back one SMSS
     * only when at least that much was. */
    if (kite__tcp_send_data(pcb, pcb->snd_una, pcb->mss) == KITE_ERR_OK)
        pcb->stack->stats.tcp.retransmits++;
    uint32_t w = pcb->cwnd > acked ? pcb->cwnd - acked : 0;
    if (acked >= pcb->mss)
        w += pcb->mss;
    pcb->cwnd = w > pcb->mss ? w : pcb->mss; /* never below one segment */
}

static void fin_acked(struct kite_tcp_pcb *pcb)
{
    switch (pcb->state) {
    case KITE_TCP_FIN_WAIT_1:
        kite__tcp_set_state(pcb, KITE_TCP_FIN_WAIT_2);
        if (pcb->flags & KITE_TCPF_CLOSED_BY_APP) /* don't wait forever for the peer */
            kite__tcp_timer_set(pcb, KITE_TCPT_TIMEWAIT, 2u * KITE_TCP_MSL_MS);
        break;
    case KITE_TCP_CLOSING:
        kite__tcp_enter_time_wait(pcb);
        break;
    case KITE_TCP_LAST_ACK:
        kite__tcp_kill(pcb, KITE_ERR_CLOSED);
        break;
    default:
        break;
    }
}

static void new_ack(struct kite_tcp_pcb *pcb, const struct tcp_seg *seg)
{
    uint32_t acked = seg->hdr.ack - pcb->snd_una;
    bool fin = (pcb->flags & KITE_TCPF_FIN_SENT) && seq_gt(seg->hdr.ack, tcp_fin_seq(pcb));
    uint32_t data = acked - (fin ? 1u : 0u);
    take_rtt_sample(pcb, seg);
    drop_acked_data(pcb, data);
    pcb->snd_una = seg->hdr.ack;
    if (seq_lt(pcb->snd_nxt, pcb->snd_una))
        pcb->snd_nxt = pcb->snd_una;
    pcb->backoff = 0;
    pcb->dupacks = 0;
    kite__tcp_sack_ack(pcb);
    /* RFC 3168 6.1.2: an ECN-Echo ACK never grows the window. */
    bool ece = (pcb->flags & KITE_TCPF_ECN) && (seg->hdr.flags & KITE_TCP_ECE);
    if (pcb->flags & KITE_TCPF_IN_RECOVERY)
        recovery_ack(pcb, acked);
    else if (!ece)
        kite__tcp_cc_ack(pcb, acked);
    if (pcb->snd_una != pcb->snd_max)
        kite__tcp_rto_restart(pcb); /* RFC 6298 5.3 */
    else if (pcb->timer_kind == KITE_TCPT_REXMIT)
        kite__tcp_timer_stop(pcb); /* RFC 6298 5.2; output arms keepalive */
    if (data > 0 && TCP_CB(pcb, sent) != NULL) {
        pcb->busy++;
        pcb->ops->sent(tcp_arg(pcb), pcb, data);
        pcb->busy--;
    }
    if (fin && !(pcb->flags & KITE_TCPF_FREE_PENDING))
        fin_acked(pcb);
}

static void enter_recovery(struct kite_tcp_pcb *pcb)
{
    if (!kite__tcp_cc_enter_recovery(pcb))
        return; /* no loss block: the retransmission timer recovers */
    pcb->stack->stats.tcp.fast_retransmits++;
    pcb->flags &= (uint32_t)~KITE_TCPF_RTT_TIMING;
    if (has_sack(pcb)) {
        /* RFC 6675 5 (4.3): retransmit the first segment presumed dropped now,
         * whatever the scoreboard says; NextSeg() drives the rest. */
        pcb->stack->stats.tcp.sack_recoveries++;
        uint32_t seq, len;
        if (kite__tcp_next_rescue(pcb, &seq, &len) && seq == pcb->snd_una) {
            len = len < pcb->mss ? len : pcb->mss; /* only the hole, not what was SACKed */
            if (kite__tcp_send_data(pcb, seq, len) == KITE_ERR_OK) {
                pcb->stack->stats.tcp.retransmits++;
                kite__tcp_set_high_rxt(pcb, seq + len);
            }
        }
        kite__tcp_rto_restart(pcb);
        return;
    }
    /* RFC 6582 3.2 steps 2-3: retransmit the first segment, inflate by 3. */
    if (kite__tcp_send_data(pcb, pcb->snd_una, pcb->mss) == KITE_ERR_OK)
        pcb->stack->stats.tcp.retransmits++;
    pcb->cwnd = pcb->ssthresh + 3u * pcb->mss;
    kite__tcp_rto_restart(pcb);
}

static bool is_dup_ack(const struct kite_tcp_pcb *pcb, const struct tcp_seg *seg, uint32_t wnd)
{
    /* RFC 5681 2: same ACK, no data, no SYN/FIN, same window, data outstanding. */
    return seg->hdr.ack == pcb->snd_una && seg->data_len == 0 &&
           !(seg->hdr.flags & (KITE_TCP_SYN | KITE_TCP_FIN)) && wnd == pcb->snd_wnd &&
           pcb->snd_max != pcb->snd_una;
}

static void dup_ack(struct kite_tcp_pcb *pcb)
{
    pcb->stack->stats.tcp.dup_acks++;
    pcb->dupacks++;
    if (pcb->flags & KITE_TCPF_IN_RECOVERY) {
        if (!has_sack(pcb))
            pcb->cwnd += pcb->mss; /* RFC 6582 3.2 step 4: inflate */
        return;
    }
    bool lost = pcb->dupacks >= 3 || (has_sack(pcb) && kite__tcp_sack_loss_detected(pcb));
    /* RFC 6582 4.1: one recovery per window of data. */
    if (lost && kite__tcp_recovery_allowed(pcb))
        enter_recovery(pcb);
}

/* Returns false when the segment must be dropped. */
static bool handle_ack(struct kite_tcp_pcb *pcb, const struct tcp_seg *seg)
{
    uint32_t ack = seg->hdr.ack;
    if (seq_gt(ack, pcb->snd_max)) {
        pcb->stack->stats.tcp.drop_bad_ack++;
        pcb->flags |= KITE_TCPF_ACK_NOW; /* acks something not yet sent */
        return false;
    }
    if (seq_lt(ack, pcb->snd_una - tcp_max_snd_wnd(pcb))) {
        pcb->stack->stats.tcp.drop_bad_ack++;
        challenge_ack(pcb); /* RFC 5961 5.2: too old to be legitimate */
        return false;
    }
    if (has_sack(pcb) && (seg->hdr.opts & KITE_TCP_HAS_SACK))
        kite__tcp_sack_update(pcb, &seg->hdr);
    uint32_t old_wnd = pcb->snd_wnd;
    if (seq_geq(ack, pcb->snd_una))
        update_window(pcb, seg);
    if (seq_gt(ack, pcb->snd_una))
        new_ack(pcb, seg);
    else if (is_dup_ack(pcb, seg, old_wnd))
        dup_ack(pcb);
    return !(pcb->flags & KITE_TCPF_FREE_PENDING);
}

/* ---- 7/8. Data and FIN -------------------------------------------------------------- */

static void update_ts_recent(struct kite_tcp_pcb *pcb, const struct tcp_seg *seg)
{
    /* RFC 7323 4.3, as Linux applies it: remember the newest timestamp of a
     * segment that starts at or before the point we acknowledged. */
    if ((pcb->flags & KITE_TCPF_TS) && (seg->hdr.opts & KITE_TCP_HAS_TIMESTAMP) &&
        seq_leq(seg->hdr.seq, pcb->t.ts.last_ack_sent) &&
        seq_geq(seg->hdr.ts_val, pcb->t.ts.recent))
        pcb->t.ts.recent = seg->hdr.ts_val;
}

static bool receiving(const struct kite_tcp_pcb *pcb)
{
    return pcb->state == KITE_TCP_ESTABLISHED || pcb->state == KITE_TCP_FIN_WAIT_1 ||
           pcb->state == KITE_TCP_FIN_WAIT_2;
}

static void handle_fin(struct kite_tcp_pcb *pcb)
{
    pcb->rcv_nxt++;
    pcb->flags |= KITE_TCPF_FIN_RECEIVED | KITE_TCPF_ACK_NOW;
    switch (pcb->state) {
    case KITE_TCP_ESTABLISHED:
        kite__tcp_set_state(pcb, KITE_TCP_CLOSE_WAIT);
        break;
    case KITE_TCP_FIN_WAIT_1:
        kite__tcp_set_state(pcb, KITE_TCP_CLOSING); /* simultaneous close */
        break;
    case KITE_TCP_FIN_WAIT_2:
        kite__tcp_enter_time_wait(pcb);
        break;
    default:
        return;
    }
    if (TCP_CB(pcb, recv) != NULL && !(pcb->flags & KITE_TCPF_RX_SHUT)) {
        pcb->busy++;
        pcb->ops->recv(tcp_arg(pcb), pcb, NULL);
        pcb->busy--;
    }
}

static void data_after_close(struct kite_tcp_pcb *pcb, struct tcp_seg *seg)
{
    /* RFC 1122 4.2.2.13 / RFC 9293 3.10.4: nobody will read it: reset. */
    pcb->stack->stats.tcp.drop_after_close++;
    kite__tcp_reset_peer(pcb, seg->hdr.seq + seg->len);
    kite__tcp_kill(pcb, KITE_ERR_RESET);
}

static void handle_data_and_fin(struct kite_tcp_pcb *pcb, struct tcp_seg *seg)
{
    uint32_t fin_seq = seg->hdr.seq + seg->data_len;
    bool fin = (seg->hdr.flags & KITE_TCP_FIN) != 0;
    if (seg->data_len > 0) {
        if (!receiving(pcb))
            return; /* RFC 9293: ignore data after the peer's FIN */
        if ((pcb->flags & KITE_TCPF_CLOSED_BY_APP) && seq_gt(fin_seq, pcb->rcv_nxt)) {
            data_after_close(pcb, seg);
            return;
        }
        kite__tcp_receive_data(pcb, seg);
        if (pcb->flags & KITE_TCPF_FREE_PENDING)
            return;
    }
    if (fin && fin_seq == pcb->rcv_nxt && !(pcb->flags & KITE_TCPF_FIN_RECEIVED))
        handle_fin(pcb);
    else if (fin && pcb->state == KITE_TCP_TIME_WAIT) {
        pcb->flags |= KITE_TCPF_ACK_NOW; /* a retransmitted FIN: ACK, restart 2MSL */
        kite__tcp_enter_time_wait(pcb);
    } else if (fin) {
        pcb->flags |= KITE_TCPF_ACK_NOW; /* out of order: ask again */
    }
}

/* ---- The whole of RFC 9293 3.10.7.4 ------------------------------------------------------ */

static void note_activity(struct kite_tcp_pcb *pcb)
{
    /* Keepalive counts idle time from here (its timer re-arms lazily). */
    pcb->last_rx = (uint32_t)pcb->stack->now;
    if (pcb->timer_kind == KITE_TCPT_KEEPALIVE)
        pcb->backoff = 0; /* the peer answered: no probe outstanding */
}

/* In SYN_RECEIVED a segment carrying the peer's SYN again (SEQ = IRS) is
 * either its retransmitted SYN (our SYN-ACK was lost: resend it) or, after a
 * simultaneous open, its SYN-ACK: drop the SYN's sequence number and go on
 * with the ACK (RFC 9293 figure 8; BSD trims the same way). */
static bool syn_received_dup_syn(struct kite_tcp_pcb *pcb, struct tcp_seg *seg)
{
    if (pcb->state != KITE_TCP_SYN_RECEIVED || !(seg->hdr.flags & KITE_TCP_SYN) ||
        seg->hdr.seq != pcb->rcv_nxt - 1u || (seg->hdr.flags & KITE_TCP_RST))
        return true;
    if (!(seg->hdr.flags & KITE_TCP_ACK)) {
        if ((pcb->flags & KITE_TCPF_TS) && (seg->hdr.opts & KITE_TCP_HAS_TIMESTAMP))
            pcb->t.ts.recent = seg->hdr.ts_val; /* echo this SYN, not the first one */
        (void)kite__tcp_send_syn(pcb);
        return false;
    }
    seg->hdr.seq++;
    seg->hdr.flags &= (uint8_t)~KITE_TCP_SYN;
    seg->len--;
    return true;
}

#if KITE_TCP_ECN
/* RFC 3168 6.1.3: a CE mark is echoed with ECE on every ACK until the sender
 * says with CWR that it reduced its window (a CWR segment can itself carry
 * CE: cleared first, set again). An ECE on an ACK asks us to reduce ours. */
static void ecn_input(struct kite_tcp_pcb *pcb, const struct tcp_seg *seg)
{
    if (!(pcb->flags & KITE_TCPF_ECN))
        return;
    if (seg->hdr.flags & KITE_TCP_CWR)
        pcb->flags &= (uint32_t)~KITE_TCPF_ECN_ECE;
    if (seg->ecn == TCP_ECN_CE && seg->data_len > 0) {
        pcb->stack->stats.tcp.ecn_ce_rx++;
        pcb->flags |= KITE_TCPF_ECN_ECE | KITE_TCPF_ACK_NOW; /* tell the sender soon */
    }
    if ((seg->hdr.flags & KITE_TCP_ECE) && pcb->state != KITE_TCP_SYN_RECEIVED)
        kite__tcp_cc_ecn(pcb);
}
#endif

static bool process_control(struct kite_tcp_pcb *pcb, struct tcp_seg *seg)
{
    if (!syn_received_dup_syn(pcb, seg) || !sequence_ok(pcb, seg))
        return false;
    note_activity(pcb);
    if (seg->hdr.flags & KITE_TCP_RST) {
        handle_rst(pcb, seg);
        return false;
    }
    if (seg->hdr.flags & KITE_TCP_SYN) {
        challenge_ack(pcb); /* RFC 5961 4.2 */
        return false;
    }
    if (!(seg->hdr.flags & KITE_TCP_ACK)) {
        pcb->stack->stats.tcp.drop_unexpected++; /* RFC 9293: "if the ACK bit is off drop" */
        return false;
    }
    /* RFC 7323 5.3 R3 comes before R4's ACK processing, so what that ACK
     * sends (a fast retransmission, new data) echoes this segment's TSval. */
    update_ts_recent(pcb, seg);
    if (pcb->state == KITE_TCP_SYN_RECEIVED && !syn_received_ack(pcb, seg))
        return false;
#if KITE_TCP_ECN
    ecn_input(pcb, seg);
#endif
    return handle_ack(pcb, seg);
}

void kite__tcp_process(struct kite_tcp_pcb *pcb, struct tcp_seg *seg)
{
    if (process_control(pcb, seg))
        handle_data_and_fin(pcb, seg);
    if (!(pcb->flags & KITE_TCPF_FREE_PENDING) && pcb->state != KITE_TCP_CLOSED)
        (void)kite__tcp_output(pcb);
}
#else
typedef int kite_tcp_disabled_; /* ISO C wants a non-empty file */
#endif
