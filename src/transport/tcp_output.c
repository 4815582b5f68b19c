/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/opts.h"
#if KITE_TCP /* the whole file is TCP (KITE_TCP = 0 leaves it out) */
/* TCP output: segment construction, the send loop (windows, Nagle, SWS,
 * congestion and SACK-based recovery), ACKs, RSTs and probes. */
#include <string.h>

#include "kite/byteorder.h"
#include "kite/ipv4.h"
#include "kite/wire/checksum.h"
#include "kite/wire/ipv4.h"
#include "tcp_priv.h"

uint32_t kite__tcp_ts_now(const struct kite_tcp_pcb *pcb)
{
    return (uint32_t)pcb->stack->now + pcb->ts_offset;
}

uint32_t kite__tcp_unsent(const struct kite_tcp_pcb *pcb)
{
    uint32_t sent = pcb->snd_nxt - pcb->snd_una;
    if ((pcb->flags & KITE_TCPF_FIN_SENT) && seq_gt(pcb->snd_nxt, tcp_fin_seq(pcb)))
        sent--;
    return pcb->snd_queued > sent ? pcb->snd_queued - sent : 0;
}

/* The right edge of the window to advertise: never shrinking (RFC 9293
 * 3.8.6.2.2) and opening only by useful amounts (receiver SWS avoidance,
 * RFC 1122 4.2.3.3). */
static uint32_t right_edge(const struct kite_tcp_pcb *pcb)
{
    uint32_t right = pcb->rcv_nxt + kite__tcp_rcv_window(pcb);
    if (seq_lt(right, pcb->rcv_adv))
        return pcb->rcv_adv;
    if (seq_lt(right, pcb->rcv_adv + tcp_sws_threshold(pcb)) && seq_gt(pcb->rcv_adv, pcb->rcv_nxt))
        return pcb->rcv_adv;
    return right;
}

/* The window field for right_edge(); moves rcv_adv along. */
static uint16_t window_field(struct kite_tcp_pcb *pcb, bool syn)
{
    uint32_t right = right_edge(pcb);
    uint32_t field = right - pcb->rcv_nxt;
    uint8_t shift = syn ? 0 : pcb->rcv_wscale; /* RFC 7323 2.2: SYN windows are unscaled */
    field >>= shift;
    if (field > 0xffffu)
        field = 0xffffu;
    uint32_t advertised = pcb->rcv_nxt + (field << shift);
    if (seq_gt(advertised, pcb->rcv_adv))
        pcb->rcv_adv = advertised;
    return (uint16_t)field;
}

static void syn_options(const struct kite_tcp_pcb *pcb, struct kite_tcp_repr *h)
{
    bool passive = pcb->state == KITE_TCP_SYN_RECEIVED;
    h->opts = KITE_TCP_HAS_MSS;
    /* What we can receive: the link's MTU, not the path's (RFC 1191 3.1). */
    h->mss = kite__tcp_link_mss(pcb->stack, pcb->remote_ip.u.v4);
    /* A passive opener answers only the options the peer offered (RFC 7323 1.3, RFC 2018). */
    if (!passive || (pcb->flags & KITE_TCPF_WSCALE)) {
        h->opts |= KITE_TCP_HAS_WSCALE;
        h->wscale = pcb->rcv_wscale;
    }
    if (!passive || (pcb->flags & KITE_TCPF_SACK))
        h->opts |= KITE_TCP_HAS_SACK_PERM;
    if (!passive || (pcb->flags & KITE_TCPF_TS)) {
        h->opts |= KITE_TCP_HAS_TIMESTAMP;
        h->ts_val = kite__tcp_ts_now(pcb);
        h->ts_ecr = pcb->t.ts.recent;
    }
}

static void data_options(const struct kite_tcp_pcb *pcb, struct kite_tcp_repr *h)
{
    uint8_t max_blocks = KITE_TCP_MAX_SACK_BLOCKS;
    if (pcb->flags & KITE_TCPF_TS) {
        h->opts |= KITE_TCP_HAS_TIMESTAMP;
        h->ts_val = kite__tcp_ts_now(pcb);
        h->ts_ecr = pcb->t.ts.recent;
        max_blocks = 3; /* 12 + 2 + 2 + 3 * 8 = 40 bytes of options */
    }
    if ((pcb->flags & KITE_TCPF_SACK) && pcb->ooo != NULL) {
        h->sack_count = kite__tcp_sack_blocks(pcb, h->sack, max_blocks);
        if (h->sack_count > 0)
            h->opts |= KITE_TCP_HAS_SACK;
    }
}

/* One contiguous RAM block when it fits (the usual case: room is exactly the
 * link, IP and this segment's TCP header), else a POOL chain. */
static struct kite_pbuf *alloc_segment(struct kite_stack *stack, uint8_t hlen, uint32_t len)
{
    uint16_t room = (uint16_t)(KITE_LAYER_IP + hlen);
    struct kite_pbuf *p = kite_pbuf_alloc(stack, room, (uint16_t)len, KITE_PBUF_RAM);
    if (p == NULL)
        p = kite_pbuf_alloc(stack, room, (uint16_t)len, KITE_PBUF_POOL);
    return p;
}

/* Copy [offset, offset+len) of the send queue (offset from snd_una) into p.
 * Starts from the cursor left by the previous copy when it lies before
 * offset, so sending a long queue in order is linear, not quadratic. */
static void copy_from_queue(struct kite_tcp_pcb *pcb, struct kite_pbuf *p, uint32_t offset,
                            uint32_t len)
{
    uint16_t at = 0;
    struct kite_pbuf *q = pcb->snd_queue;
    uint32_t q_off = 0;
    if (pcb->snd_cur != NULL && pcb->snd_cur_off <= offset) {
        q = pcb->snd_cur;
        q_off = pcb->snd_cur_off;
    }
    offset -= q_off;
    for (; q != NULL && len > 0; q_off += q->len, q = q->next) {
        pcb->snd_cur = q;
        pcb->snd_cur_off = q_off;
        if (offset >= q->len) {
            offset -= q->len;
            continue;
        }
        uint16_t n = (uint16_t)(q->len - offset);
        if (n > len)
            n = (uint16_t)len;
        (void)kite_pbuf_copy_in(p, q->payload + offset, n, at);
        at = (uint16_t)(at + n);
        len -= n;
        offset = 0;
    }
}

static void finish_header(struct kite_tcp_pcb *pcb, struct kite_pbuf *p, struct kite_tcp_repr *h)
{
    h->hlen = kite_tcp_header_len(h);
    (void)kite_pbuf_header_add(p, h->hlen);
    h->checksum = 0;
    (void)kite_tcp_emit(h, p->payload, p->len);
    uint32_t sum =
        kite_cksum_pseudo4(pcb->local_ip.u.v4, pcb->remote_ip.u.v4, KITE_IP_PROTO_TCP, p->tot_len);
#if KITE_TSO
    if (pcb->stack->tx_tso_segment != 0) {
        /* A super-segment: the driver completes each segment's checksum. */
        kite_put_be16(p->payload + 16, kite_cksum_fold(sum));
        return;
    }
#endif
    sum += kite__pbuf_cksum(p, 0, p->tot_len);
    kite_put_be16(p->payload + 16, (uint16_t)~kite_cksum_fold(sum));
}

#if KITE_TCP_ECN
/* RFC 3168 6.1: the ECN flags of a segment, and ECT(0) on new data only (not
 * on SYNs, pure ACKs or retransmissions, 6.1.4-6.1.5). */
static uint8_t ecn_flags(const struct kite_tcp_pcb *pcb, bool syn, uint32_t seq, uint32_t len,
                         uint8_t *tos)
{
    if (syn) {
        if (pcb->state == KITE_TCP_SYN_SENT)
            return (pcb->flags & KITE_TCPF_ECN_WANT) ? KITE_TCP_ECE | KITE_TCP_CWR : 0;
        return (pcb->flags & KITE_TCPF_ECN) ? KITE_TCP_ECE : 0; /* SYN-ACK */
    }
    if (!(pcb->flags & KITE_TCPF_ECN))
        return 0;
    uint8_t f = (pcb->flags & KITE_TCPF_ECN_ECE) ? KITE_TCP_ECE : 0;
    if (len > 0 && !seq_lt(seq, pcb->snd_max)) {
        *tos = TCP_ECN_ECT0;
        if (pcb->flags & KITE_TCPF_ECN_CWR)
            f |= KITE_TCP_CWR;
    }
    return f;
}
#endif

/* Build and send one segment. Every segment but the first SYN carries an ACK. */
static enum kite_err send_segment(struct kite_tcp_pcb *pcb, uint8_t flags, uint32_t seq,
                                  uint32_t data_off, uint32_t len)
{
    struct kite_stack *stack = pcb->stack;
    bool syn = (flags & KITE_TCP_SYN) != 0;
    if (pcb->state != KITE_TCP_SYN_SENT)
        flags |= KITE_TCP_ACK;
    uint8_t tos = 0;
#if KITE_TCP_ECN
    flags |= ecn_flags(pcb, syn, seq, len, &tos);
#endif
    struct kite_tcp_repr h = {
        .src_port = pcb->local_port, .dst_port = pcb->remote_port, .seq = seq, .flags = flags};
    h.ack = (flags & KITE_TCP_ACK) ? pcb->rcv_nxt : 0;
    h.window = window_field(pcb, syn);
    if (syn)
        syn_options(pcb, &h);
    else
        data_options(pcb, &h);
    struct kite_pbuf *p = alloc_segment(stack, kite_tcp_header_len(&h), len);
    if (p == NULL) {
        stack->stats.tcp.drop_no_mem++;
        return KITE_ERR_MEM;
    }
    if (len > 0)
        copy_from_queue(pcb, p, data_off, len);
    finish_header(pcb, p, &h);
    /* RFC 1191 6.4: DF on every segment of a connection, so the path's MTU is learned. */
    struct kite_ip_tx tx = {.src = pcb->local_ip.u.v4,
                            .dst = pcb->remote_ip.u.v4,
                            .proto = KITE_IP_PROTO_TCP,
                            .ttl = KITE_IPV4_DEFAULT_TTL,
                            .tos = tos,
                            .dont_frag = KITE_PMTU != 0};
    enum kite_err err = kite__ipv4_route_send(stack, p, &tx);
    kite_pbuf_free(stack, p);
    if (err != KITE_ERR_OK)
        return err;
    stack->stats.tcp.tx++;
    if (flags & KITE_TCP_CWR)
        pcb->flags &= (uint32_t)~KITE_TCPF_ECN_CWR;
    if (len > 0) {
        pcb->last_data_tx = (uint32_t)stack->now;
        pcb->flags |= KITE_TCPF_DATA_SENT;
    }
    if (flags & KITE_TCP_ACK) {
        if (pcb->flags & KITE_TCPF_TS)
            pcb->t.ts.last_ack_sent = pcb->rcv_nxt;
        pcb->flags &= (uint32_t) ~(KITE_TCPF_ACK_NOW | KITE_TCPF_ACK_DELAYED);
    }
    return KITE_ERR_OK;
}

enum kite_err kite__tcp_send_syn(struct kite_tcp_pcb *pcb)
{
    /* Until the handshake completes SND.UNA is the ISS. */
    enum kite_err err = send_segment(pcb, KITE_TCP_SYN, pcb->snd_una, 0, 0);
    pcb->snd_nxt = pcb->snd_una + 1;
    pcb->snd_max = seq_max(pcb->snd_max, pcb->snd_nxt);
    return err;
}

enum kite_err kite__tcp_send_ack(struct kite_tcp_pcb *pcb)
{
    /* At the highest sequence number sent (4.4BSD does the same): after a
     * timeout SND.NXT is pulled back, and an ACK below what the peer already
     * holds would be discarded as old (RFC 9293 3.10.7.4). */
    return send_segment(pcb, 0, pcb->snd_max, 0, 0);
}

void kite__tcp_send_keepalive(struct kite_tcp_pcb *pcb)
{
    /* RFC 1122 4.2.3.6: a segment with SEG.SEQ = SND.NXT-1 elicits an ACK. */
    (void)send_segment(pcb, 0, pcb->snd_una - 1, 0, 0);
}

enum kite_err kite__tcp_send_window_probe(struct kite_tcp_pcb *pcb)
{
    pcb->stack->stats.tcp.persist_probes++;
    /* An old sequence number is always answered with the current window. */
    return send_segment(pcb, 0, pcb->snd_una - 1, 0, 0);
}

#if KITE_TCP_ACK_BURST
/* Inside a receive burst the ACK owed for a second segment waits for the
 * burst's end (still owed, so the delayed-ACK sweep bounds the wait): the
 * segments arrived together, and one ACK for all of them spares the peer
 * and us a frame each per two segments. A full list acknowledges at once,
 * and so does a connection whose advertised window is half used up, so the
 * peer never waits for the end of a long burst to send on. */
static bool hold_for_burst(struct kite_tcp_pcb *pcb)
{
    struct kite_tcp *tcp = &pcb->stack->tcp;
    if (pcb->stack->burst_depth == 0 || pcb->rcv_adv - pcb->rcv_nxt < tcp_rcv_buf(pcb) / 2u)
        return false;
    if (pcb->flags & KITE_TCPF_BURST_ACK)
        return true;
    if (tcp->burst_ack_count == KITE_TCP_ACK_BURST)
        return false;
    tcp->burst_acks[tcp->burst_ack_count++] = pcb;
    pcb->flags |= KITE_TCPF_BURST_ACK;
    return true;
}

/* stack->burst_end: send the ACKs held back during the burst. */
void kite__tcp_burst_end(struct kite_stack *stack)
{
    struct kite_tcp *tcp = &stack->tcp;
    for (uint8_t i = 0; i < tcp->burst_ack_count; i++) {
        struct kite_tcp_pcb *pcb = tcp->burst_acks[i];
        pcb->flags &= (uint32_t)~KITE_TCPF_BURST_ACK;
        if (pcb->flags & KITE_TCPF_ACK_DELAYED) {
            pcb->flags |= KITE_TCPF_ACK_NOW;
            (void)kite__tcp_output(pcb);
        }
    }
    tcp->burst_ack_count = 0;
}

/* A pcb being freed leaves the list. */
void kite__tcp_burst_forget(struct kite_tcp_pcb *pcb)
{
    struct kite_tcp *tcp = &pcb->stack->tcp;
    if (!(pcb->flags & KITE_TCPF_BURST_ACK))
        return;
    pcb->flags &= (uint32_t)~KITE_TCPF_BURST_ACK;
    for (uint8_t i = 0; i < tcp->burst_ack_count; i++) {
        if (tcp->burst_acks[i] == pcb) {
            tcp->burst_acks[i] = tcp->burst_acks[--tcp->burst_ack_count];
            return;
        }
    }
}
#endif

/* Whether the ACK owed for a second segment is worth sending now. Not while
 * the application lags behind the stream, the peer has used up half the
 * window, and the ACK could not move the window's right edge: it would let
 * the peer send nothing more and cost both sides a frame. The read that
 * reopens the window (kite_tcp_recved), or the next segment after it, or the
 * delayed-ACK sweep sends it instead, as Linux holds such ACKs for
 * tcp_recvmsg (__tcp_ack_snd_check). */
static bool second_ack_useful(const struct kite_tcp_pcb *pcb)
{
    if (pcb->rcv_unread == 0)
        return true;
    uint32_t remaining = seq_gt(pcb->rcv_adv, pcb->rcv_nxt) ? pcb->rcv_adv - pcb->rcv_nxt : 0;
    return remaining >= tcp_rcv_buf(pcb) / 2u || seq_gt(right_edge(pcb), pcb->rcv_adv);
}

void kite__tcp_ack_soon(struct kite_tcp_pcb *pcb, bool now)
{
    /* RFC 1122 4.2.3.2: an ACK for at least every second segment, so a
     * second one while an ACK is owed is acknowledged at once (at the end
     * of the receive burst with KITE_TCP_ACK_BURST), unless the reader lags. */
    if (now || ((pcb->flags & KITE_TCPF_ACK_DELAYED) && second_ack_useful(pcb))) {
#if KITE_TCP_ACK_BURST
        if (!now && hold_for_burst(pcb))
            return;
#endif
        pcb->flags |= KITE_TCPF_ACK_NOW;
        return;
    }
    /* RFC 9293 3.8.6.3: delay, but not beyond the timeout. */
    kite__tcp_delack(pcb);
}

/* Payload that fits one segment now: the MSS less the SACK option an ACK
 * would carry (the timestamp option is already out of pcb->mss). */
static uint32_t payload_max(const struct kite_tcp_pcb *pcb)
{
    uint32_t m = pcb->mss;
    if ((pcb->flags & KITE_TCPF_SACK) && pcb->ooo != NULL) {
        struct kite_tcp_sack_block b[KITE_TCP_MAX_SACK_BLOCKS];
        uint8_t n = kite__tcp_sack_blocks(pcb, b, (pcb->flags & KITE_TCPF_TS) ? 3 : 4);
        uint32_t opt = 4u + 8u * n; /* NOP NOP kind len + 8 per block */
        m = m > opt ? m - opt : 1u; /* a tiny MSS still moves one byte */
    }
    return m;
}

/* RFC 6675 5: while in SACK recovery, retransmit holes within cwnd - pipe:
 * lost ones first (rule 1), or any below the highest SACK once there is no
 * new data to send (rule 3). */
static bool sack_retransmit(struct kite_tcp_pcb *pcb, bool rescue)
{
    uint32_t seq, len;
    if (kite__tcp_pipe(pcb) + pcb->mss > pcb->cwnd)
        return false;
    bool found =
        rescue ? kite__tcp_next_rescue(pcb, &seq, &len) : kite__tcp_next_lost(pcb, &seq, &len);
    if (!found)
        return false;
    if (len > payload_max(pcb))
        len = payload_max(pcb);
    if (send_segment(pcb, 0, seq, seq - pcb->snd_una, len) != KITE_ERR_OK)
        return false;
    kite__tcp_set_high_rxt(pcb, seq + len);
    pcb->stack->stats.tcp.retransmits++;
    return true;
}

static uint32_t usable_window(const struct kite_tcp_pcb *pcb)
{
    bool sack_recovery = (pcb->flags & (KITE_TCPF_IN_RECOVERY | KITE_TCPF_SACK)) ==
                         (KITE_TCPF_IN_RECOVERY | KITE_TCPF_SACK);
    uint32_t flight = sack_recovery ? kite__tcp_pipe(pcb) : pcb->snd_nxt - pcb->snd_una;
    uint32_t cwnd_room = pcb->cwnd > flight ? pcb->cwnd - flight : 0;
    uint32_t wnd_edge = pcb->snd_una + tcp_snd_wnd(pcb);
    uint32_t wnd_room = seq_gt(wnd_edge, pcb->snd_nxt) ? wnd_edge - pcb->snd_nxt : 0;
    return cwnd_room < wnd_room ? cwnd_room : wnd_room;
}

/* Nagle (RFC 9293 3.7.4) and sender SWS avoidance (RFC 1122 4.2.3.4). */
static bool hold_small_segment(const struct kite_tcp_pcb *pcb, uint32_t len, uint32_t avail,
                               uint32_t full, bool fin)
{
    if (len >= full || fin)
        return false;
    if (pcb->flags & KITE_TCPF_CORK)
        return true; /* Linux's TCP_CORK: partial segments wait for the uncork */
    if (len < avail) /* window-limited: wait for half the peer's largest window, */
        return len < tcp_max_snd_wnd(pcb) / 2 && pcb->snd_nxt != pcb->snd_una; /* unless idle */
    if (seq_lt(pcb->snd_nxt, pcb->snd_max))
        return false; /* retransmitting after a timeout */
    return (pcb->flags & KITE_TCPF_NODELAY) == 0 && pcb->snd_nxt != pcb->snd_una;
}

/* RFC 5681 4.1: no data sent for longer than one RTO. */
static bool idle_too_long(const struct kite_tcp_pcb *pcb)
{
    return (pcb->flags & KITE_TCPF_DATA_SENT) &&
           (uint32_t)pcb->stack->now - pcb->last_data_tx > kite__tcp_rto(pcb);
}

/* Whether the FIN goes on a segment of len bytes out of avail unsent. */
static bool fin_goes(const struct kite_tcp_pcb *pcb, uint32_t len, uint32_t avail)
{
    return (pcb->flags & KITE_TCPF_FIN_QUEUED) && len == avail &&
           (!(pcb->flags & KITE_TCPF_FIN_SENT) || pcb->snd_nxt + len == tcp_fin_seq(pcb));
}

#if KITE_TSO
/* The new data one super-segment may carry on the route's netif, a multiple
 * of the segment size full; 0 where the driver does not segment. */
static uint32_t tso_payload_cap(const struct kite_tcp_pcb *pcb, uint32_t full)
{
    if (pcb->flags & KITE_TCPF_ECN_CWR)
        return 0; /* RFC 3168 6.1.2: CWR goes on one segment, not on every cut */
    const struct kite_netif *netif = kite_ipv4_route(pcb->stack, pcb->remote_ip.u.v4);
    uint32_t headers = KITE_IPV4_HLEN + 60u; /* with the longest TCP header */
    if (netif == NULL || netif->tso_max <= netif->mtu || netif->tso_max < headers + full)
        return 0;
    return (netif->tso_max - headers) / full * full;
}

/* Stretch a full segment of new data at snd_nxt into a super-segment for
 * the driver to cut (KITE_TSO): as many whole segments as the window, the
 * queue and the driver allow, plus the queue's short tail when it would
 * leave at once anyway (no Nagle or cork holds it, or the FIN follows). */
static uint32_t tso_stretch(const struct kite_tcp_pcb *pcb, uint32_t full, uint32_t avail,
                            uint32_t usable)
{
    uint32_t cap = tso_payload_cap(pcb, full);
    uint32_t big = avail < usable ? avail : usable;
    if (big > cap)
        big = cap;
    if (big <= full)
        return full;
    bool tail_goes = (pcb->flags & (KITE_TCPF_NODELAY | KITE_TCPF_CORK)) == KITE_TCPF_NODELAY ||
                     (pcb->flags & KITE_TCPF_FIN_QUEUED);
    return big == avail && tail_goes ? big : big - big % full;
}
#endif

/* Send [seq, seq + len) with the FIN when it goes. With KITE_TSO, len may
 * span several segments of seg bytes: the driver cuts them, or, where it
 * refuses the super-segment, the first segment goes on its own. */
static enum kite_err send_new(struct kite_tcp_pcb *pcb, uint32_t seq, uint32_t *len, uint32_t avail,
                              uint32_t seg)
{
    uint8_t flags = fin_goes(pcb, *len, avail) ? KITE_TCP_FIN : 0;
    if (*len > 0 && *len == avail)
        flags |= KITE_TCP_PSH;
#if KITE_TSO
    if (*len > seg) {
        pcb->stack->tx_tso_segment = (uint16_t)seg;
        enum kite_err err = send_segment(pcb, flags, seq, seq - pcb->snd_una, *len);
        pcb->stack->tx_tso_segment = 0;
        if (err == KITE_ERR_OK)
            return err;
        *len = seg;
        return send_new(pcb, seq, len, avail, seg);
    }
#else
    (void)seg;
#endif
    return send_segment(pcb, flags, seq, seq - pcb->snd_una, *len);
}

/* Send the next new (or post-timeout) segment; false when nothing can go. */
static bool send_next(struct kite_tcp_pcb *pcb)
{
    uint32_t end;
    if (seq_lt(pcb->snd_nxt, pcb->snd_max) && kite__tcp_sacked(pcb, pcb->snd_nxt, &end)) {
        pcb->snd_nxt = seq_min(end, pcb->snd_max); /* the peer has it: skip */
        return true;
    }
    uint32_t avail = kite__tcp_unsent(pcb);
    if (avail > 0 && pcb->snd_una == pcb->snd_max && idle_too_long(pcb))
        kite__tcp_cc_idle_restart(pcb);
    uint32_t full = payload_max(pcb);
    uint32_t len = avail < full ? avail : full;
    uint32_t usable = usable_window(pcb);
    if (len > usable)
        len = usable;
    bool want_fin = fin_goes(pcb, len, avail);
    if ((len == 0 && !want_fin) || hold_small_segment(pcb, len, avail, full, want_fin))
        return false;
    uint32_t seq = pcb->snd_nxt;
#if KITE_TSO
    if (len == full && !seq_lt(seq, pcb->snd_max))
        len = tso_stretch(pcb, full, avail, usable);
#endif
    if (send_new(pcb, seq, &len, avail, full) != KITE_ERR_OK) {
        /* Out of buffers below us: the data stays queued; make sure a timer
         * brings us back even if nothing is in flight to be acknowledged. */
        if (pcb->timer_kind != KITE_TCPT_REXMIT)
            kite__tcp_rto_restart(pcb);
        return false;
    }
    if (seq_lt(seq, pcb->snd_max))
        pcb->stack->stats.tcp.retransmits++;
    else if (!(pcb->flags & (KITE_TCPF_TS | KITE_TCPF_RTT_TIMING)) && len > 0) {
        pcb->flags |= KITE_TCPF_RTT_TIMING; /* Karn: time only new data */
        pcb->t.rtt.seq = seq;
        pcb->t.rtt.start = (uint32_t)pcb->stack->now;
    }
    bool fin_sent = fin_goes(pcb, len, avail);
    pcb->snd_nxt = seq + len;
    if (fin_sent) {
        pcb->flags |= KITE_TCPF_FIN_SENT;
        pcb->snd_nxt++;
    }
    pcb->snd_max = seq_max(pcb->snd_max, pcb->snd_nxt);
    if (pcb->timer_kind != KITE_TCPT_REXMIT)
        kite__tcp_rto_restart(pcb);
    return true;
}

static bool may_send_data(const struct kite_tcp_pcb *pcb)
{
    switch (pcb->state) {
    case KITE_TCP_ESTABLISHED:
    case KITE_TCP_CLOSE_WAIT:
    case KITE_TCP_FIN_WAIT_1:
    case KITE_TCP_CLOSING:
    case KITE_TCP_LAST_ACK:
        return true;
    default:
        return false;
    }
}

/* The timer a connection needs after output (RFC 6298 5.1, RFC 9293
 * 3.8.6.1, RFC 1122 4.2.3.6): retransmission while anything is in flight or
 * unsent data could not leave for lack of buffers, persist while the peer's
 * window is shut on waiting data, else keepalive if it is on. Data sent
 * before the window shut and rewound by a timeout counts as waiting, not in
 * flight: retransmission could not send it, and only a probe learns that
 * the window opened again (the update may have been lost). */
static void update_timers(struct kite_tcp_pcb *pcb)
{
    if (pcb->timer_kind == KITE_TCPT_TIMEWAIT || !may_send_data(pcb))
        return;
    uint32_t unsent = kite__tcp_unsent(pcb);
    bool shut = tcp_snd_wnd(pcb) == 0;
    bool idle = pcb->snd_nxt == pcb->snd_una && (pcb->snd_una == pcb->snd_max || shut);
    if (!idle || (unsent > 0 && !shut)) {
        if (pcb->timer_kind != KITE_TCPT_REXMIT)
            kite__tcp_rto_restart(pcb);
    } else if (unsent > 0) { /* a zero window with data waiting: probe it */
        if (pcb->timer_kind != KITE_TCPT_PERSIST) {
            uint32_t t = kite__tcp_rto(pcb) << (pcb->backoff < 8 ? pcb->backoff : 8);
            kite__tcp_timer_set(pcb, KITE_TCPT_PERSIST,
                                t < KITE_TCP_RTO_MAX_MS ? t : KITE_TCP_RTO_MAX_MS);
        }
    } else if (pcb->timer_kind != KITE_TCPT_KEEPALIVE) {
        kite__tcp_timer_idle(pcb);
    }
}

enum kite_err kite__tcp_output(struct kite_tcp_pcb *pcb)
{
    if (may_send_data(pcb)) {
        unsigned budget = 1024; /* bounded work per call */
        bool sack_recovery = (pcb->flags & (KITE_TCPF_IN_RECOVERY | KITE_TCPF_SACK)) ==
                             (KITE_TCPF_IN_RECOVERY | KITE_TCPF_SACK);
        while (budget-- > 0) {
            if (sack_recovery && sack_retransmit(pcb, false))
                continue;
            if (send_next(pcb))
                continue;
            if (!sack_recovery || !sack_retransmit(pcb, true))
                break;
        }
        update_timers(pcb);
    }
    enum kite_err err = KITE_ERR_OK;
    if ((pcb->flags & KITE_TCPF_ACK_NOW) && pcb->state != KITE_TCP_SYN_SENT &&
        pcb->state != KITE_TCP_CLOSED && pcb->state != KITE_TCP_LISTEN)
        err = kite__tcp_send_ack(pcb);
    return err;
}

enum kite_err kite__tcp_send_data(struct kite_tcp_pcb *pcb, uint32_t seq, uint32_t len)
{
    uint32_t off = seq - pcb->snd_una;
    if (len > payload_max(pcb))
        len = payload_max(pcb);
    if (off >= pcb->snd_queued)
        len = 0; /* only the FIN is left there */
    else if (len > pcb->snd_queued - off)
        len = pcb->snd_queued - off;
    bool fin = (pcb->flags & KITE_TCPF_FIN_SENT) && seq + len == tcp_fin_seq(pcb);
    uint8_t flags = fin ? KITE_TCP_FIN : 0;
    return send_segment(pcb, flags, seq, seq - pcb->snd_una, len);
}

bool kite__tcp_send_bare(struct kite_stack *stack, uint32_t src, uint32_t dst,
                         struct kite_tcp_repr *h)
{
    h->hlen = kite_tcp_header_len(h);
    struct kite_pbuf *p =
        kite_pbuf_alloc(stack, (uint16_t)(KITE_LAYER_IP + h->hlen), 0, KITE_PBUF_RAM);
    if (p == NULL) {
        stack->stats.tcp.drop_no_mem++;
        return false;
    }
    (void)kite_pbuf_header_add(p, h->hlen);
    h->checksum = 0;
    (void)kite_tcp_emit(h, p->payload, p->len);
    uint32_t sum = kite_cksum_pseudo4(src, dst, KITE_IP_PROTO_TCP, h->hlen) +
                   kite__pbuf_cksum(p, 0, p->tot_len);
    kite_put_be16(p->payload + 16, (uint16_t)~kite_cksum_fold(sum));
    enum kite_err err =
        kite__ipv4_output(stack, p, src, dst, KITE_IP_PROTO_TCP, KITE_IPV4_DEFAULT_TTL, 0);
    kite_pbuf_free(stack, p);
    if (err != KITE_ERR_OK)
        return false;
    stack->stats.tcp.tx++;
    return true;
}

void kite__tcp_send_rst(struct kite_stack *stack, uint32_t src, uint16_t sport, uint32_t dst,
                        uint16_t dport, uint32_t seq, uint32_t ack, bool with_ack)
{
    struct kite_tcp_repr h = {.src_port = sport,
                              .dst_port = dport,
                              .seq = seq,
                              .ack = with_ack ? ack : 0,
                              .flags = (uint8_t)(KITE_TCP_RST | (with_ack ? KITE_TCP_ACK : 0))};
    if (kite__tcp_send_bare(stack, src, dst, &h))
        stack->stats.tcp.resets_sent++;
}

void kite__tcp_reset_peer(const struct kite_tcp_pcb *pcb, uint32_t ack)
{
    kite__tcp_send_rst(pcb->stack, pcb->local_ip.u.v4, pcb->local_port, pcb->remote_ip.u.v4,
                       pcb->remote_port, pcb->snd_max, ack, true);
}

void kite__tcp_rst_for(struct kite_stack *stack, const struct tcp_seg *seg)
{
    /* RFC 9293 3.10.7.1: never answer a reset; take the sequence number from
     * the ACK field if there is one, else acknowledge the segment. */
    if (seg->hdr.flags & KITE_TCP_RST)
        return;
    if (seg->hdr.flags & KITE_TCP_ACK)
        kite__tcp_send_rst(stack, seg->dst, seg->hdr.dst_port, seg->src, seg->hdr.src_port,
                           seg->hdr.ack, 0, false);
    else
        kite__tcp_send_rst(stack, seg->dst, seg->hdr.dst_port, seg->src, seg->hdr.src_port, 0,
                           seg->hdr.seq + seg->len, true);
}
#else
typedef int kite_tcp_disabled_; /* ISO C wants a non-empty file */
#endif
