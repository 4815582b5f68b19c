/* SPDX-License-Identifier: BSD-3-Clause */
/* TCP opening handshakes fed segment by segment (RFC 9293 3.5, 3.10.7.2-3):
 * passive and active open, option negotiation, resets while opening, SYN
 * retransmission, simultaneous open and SYN cookies (RFC 4987). */
#include "tcp_harness.h"

/* ---- Passive open ----------------------------------------------------------- */

static void passive_open_answers_offered_options(void **state)
{
    struct th *t = *state;
    t->c.ts = true;
    t->c.syn_wscale = 7;
    th_listen(t, 4);
    th_send_syn(t, &t->c, KITE_TCP_SYN);
    const struct th_pkt *p = th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK);
    assert_int_equal(p->tcp.ack, TH_PEER_ISN + 1);
    assert_int_equal(p->tcp.src_port, TH_PORT);
    assert_int_equal(p->tcp.dst_port, TH_PEER_PORT);
    assert_int_equal(p->ip.src, TH_US);
    assert_int_equal(p->ip.dst, TH_PEER);
    uint8_t want =
        KITE_TCP_HAS_MSS | KITE_TCP_HAS_WSCALE | KITE_TCP_HAS_SACK_PERM | KITE_TCP_HAS_TIMESTAMP;
    assert_int_equal(p->tcp.opts, want);
    assert_int_equal(p->tcp.mss, TH_OUR_MSS); /* RFC 9293 3.7.1: MTU - 40, or KITE_TCP_MSS_MAX */
    assert_true(p->tcp.wscale <= KITE_TCP_MAX_WSCALE);
    assert_int_equal(p->tcp.ts_ecr, 5000); /* echoes the SYN's TSval */
    /* RFC 7323 2.2: a SYN's window is never scaled; the receive buffer, at most 65535. */
    assert_int_equal(p->tcp.window, th_syn_wnd(TH_RCV_BUF));
    assert_int_equal(t->stack.stats.tcp.passive_opens, 1);
    assert_int_equal(t->accepts, 0);
    assert_int_equal(th_pcbs_used(t), 2);

    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_int_equal(t->accepts, 1);
    assert_non_null(t->pcb);
    assert_int_equal(kite_tcp_get_state(t->pcb), KITE_TCP_ESTABLISHED);
    assert_int_equal(t->stack.stats.tcp.established, 1);
    struct kite_addr ip;
    uint16_t port;
    kite_tcp_get_remote(t->pcb, &ip, &port);
    assert_int_equal(ip.u.v4, TH_PEER);
    assert_int_equal(port, TH_PEER_PORT);
    kite_tcp_get_local(t->pcb, &ip, &port);
    assert_int_equal(ip.u.v4, TH_US);
    assert_int_equal(port, TH_PORT);
    th_expect_none(t);

    /* Every later segment carries a timestamp echoing the peer's newest. */
    static const uint8_t msg[] = "hello";
    assert_int_equal(kite_tcp_write(t->pcb, msg, 5, KITE_TCP_WRITE_COPY), KITE_ERR_OK);
    assert_int_equal(kite_tcp_output(t->pcb), KITE_ERR_OK);
    p = th_expect(t, KITE_TCP_ACK | KITE_TCP_PSH);
    assert_true(p->tcp.opts & KITE_TCP_HAS_TIMESTAMP);
    assert_int_equal(p->tcp.ts_ecr, 5001);
    assert_int_equal(p->len, 5);
    assert_memory_equal(p->data, msg, 5);
    th_cleanup(t);
}

static void passive_open_without_options(void **state)
{
    struct th *t = *state;
    t->c.syn_opts = 0; /* no MSS either: 536 is assumed (RFC 9293 3.7.1) */
    th_listen(t, 4);
    th_send_syn(t, &t->c, KITE_TCP_SYN);
    const struct th_pkt *p = th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK);
    assert_int_equal(p->tcp.opts, KITE_TCP_HAS_MSS); /* only MSS: nothing offered */
    assert_int_equal(p->tcp.mss, TH_OUR_MSS);
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_non_null(t->pcb);

    static uint8_t buf[1000];
    th_fill(buf, sizeof buf, 0);
    kite_tcp_set_nodelay(t->pcb, true);
    assert_int_equal(kite_tcp_write(t->pcb, buf, sizeof buf, KITE_TCP_WRITE_COPY), KITE_ERR_OK);
    assert_int_equal(kite_tcp_output(t->pcb), KITE_ERR_OK);
    p = th_expect(t, KITE_TCP_ACK);
    assert_int_equal(p->len, 536);
    assert_int_equal(p->tcp.opts, 0); /* no timestamps, no SACK */
    p = th_expect(t, KITE_TCP_ACK | KITE_TCP_PSH);
    assert_int_equal(p->len, 1000 - 536);
    th_cleanup(t);
}

/* Write len bytes with no delay; they must leave in segments of mss bytes,
 * the last with PSH. */
static void expect_segments(struct th *t, uint16_t len, uint16_t mss)
{
    static uint8_t buf[4000];
    assert_true(len <= sizeof buf);
    th_fill(buf, len, 0);
    kite_tcp_set_nodelay(t->pcb, true);
    assert_int_equal(kite_tcp_write(t->pcb, buf, len, KITE_TCP_WRITE_COPY), KITE_ERR_OK);
    assert_int_equal(kite_tcp_output(t->pcb), KITE_ERR_OK);
    for (uint16_t off = 0; off < len; off = (uint16_t)(off + mss)) {
        uint16_t n = (uint16_t)TH_MIN(mss, len - off);
        const struct th_pkt *p =
            th_expect(t, off + n == len ? KITE_TCP_ACK | KITE_TCP_PSH : KITE_TCP_ACK);
        assert_int_equal(p->len, n);
        assert_memory_equal(p->data, buf + off, n);
    }
    th_expect_none(t);
}

static void passive_open_mss_clamped_to_mtu(void **state)
{
    struct th *t = *state;
    /* An MTU whose MSS is below both the peer's and KITE_TCP_MSS_MAX. */
    const uint16_t mtu = (uint16_t)TH_MIN(1000u, TH_OUR_MSS + 40u - 100u);
    t->cif.netif.mtu = mtu;
    th_listen(t, 4);
    th_send_syn(t, &t->c, KITE_TCP_SYN); /* the peer offers 1460 */
    const struct th_pkt *p = th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK);
    assert_int_equal(p->tcp.mss, mtu - 40);
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_non_null(t->pcb);
    /* Two full segments and 80 bytes, or what the send buffer takes. */
    expect_segments(t, (uint16_t)TH_MIN(2u * (mtu - 40u) + 80u, TH_SND_BUF), (uint16_t)(mtu - 40));
    th_cleanup(t);
}

static void passive_open_small_peer_mss(void **state)
{
    struct th *t = *state;
    t->c.syn_mss = (uint16_t)TH_MIN(600u, TH_OUR_MSS - 100u); /* below ours */
    th_listen(t, 4);
    th_accept_c(t, &t->c);
    expect_segments(t, (uint16_t)TH_MIN(1000u, TH_SND_BUF), t->c.syn_mss);
    th_cleanup(t);
}

static void syn_with_bad_checksum_dropped(void **state)
{
    struct th *t = *state;
    th_listen(t, 4);
    struct kite_tcp_repr h = th_hdr(&t->c, KITE_TCP_SYN, TH_PEER_ISN, 0);
    h.opts = KITE_TCP_HAS_MSS;
    h.mss = 1460;
    uint8_t buf[128];
    uint16_t n = th_build(&t->c, &h, NULL, 0, buf, sizeof buf);
    buf[KITE_IPV4_HLEN + 16] ^= 0x5a;
    th_inject(t, buf, n);
    th_expect_none(t);
    assert_int_equal(t->stack.stats.tcp.drop_bad_checksum, 1);
    assert_int_equal(t->stack.stats.tcp.passive_opens, 0);
    assert_int_equal(th_pcbs_used(t), 1);
    /* A corrupted payload byte is caught the same way. */
    struct kite_tcp_repr d = th_hdr(&t->c, KITE_TCP_SYN, TH_PEER_ISN, 0);
    n = th_build(&t->c, &d, "xyz", 3, buf, sizeof buf);
    buf[n - 1] ^= 1;
    th_inject(t, buf, n);
    th_expect_none(t);
    assert_int_equal(t->stack.stats.tcp.drop_bad_checksum, 2);
    th_cleanup(t);
}

static void ack_to_listen_gets_rst(void **state)
{
    struct th *t = *state;
    th_listen(t, 4);
    th_send_at(t, &t->c, KITE_TCP_ACK, 777, 0x12345678u, NULL, 0);
    /* RFC 9293 3.10.7.2: <SEQ=SEG.ACK><CTL=RST>. */
    const struct th_pkt *p = th_expect(t, KITE_TCP_RST);
    assert_int_equal(p->tcp.seq, 0x12345678u);
    assert_int_equal(p->tcp.dst_port, TH_PEER_PORT);
    assert_int_equal(p->len, 0);
    th_expect_none(t);
    /* An ACK carrying data or FIN is answered the same way. */
    th_send_at(t, &t->c, KITE_TCP_ACK | KITE_TCP_FIN, 777, 99, "ab", 2);
    p = th_expect(t, KITE_TCP_RST);
    assert_int_equal(p->tcp.seq, 99);
    assert_int_equal(th_pcbs_used(t), 1);
    assert_int_equal(t->accepts, 0);
    th_cleanup(t);
}

static void rst_to_listen_ignored(void **state)
{
    struct th *t = *state;
    th_listen(t, 4);
    th_send_at(t, &t->c, KITE_TCP_RST, 777, 0, NULL, 0);
    th_send_at(t, &t->c, KITE_TCP_RST | KITE_TCP_ACK, 777, 5, NULL, 0);
    th_expect_none(t);
    assert_int_equal(th_pcbs_used(t), 1);
    assert_int_equal(t->stack.stats.tcp.resets_sent, 0);
    /* Every drop is counted. */
    assert_int_equal(t->stack.stats.tcp.drop_unexpected, 2);
    th_cleanup(t);
}

static void syn_to_closed_port_gets_rst_ack(void **state)
{
    struct th *t = *state;
    th_send_syn(t, &t->c, KITE_TCP_SYN);
    /* RFC 9293 3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
    const struct th_pkt *p = th_expect(t, KITE_TCP_RST | KITE_TCP_ACK);
    assert_int_equal(p->tcp.seq, 0);
    assert_int_equal(p->tcp.ack, TH_PEER_ISN + 1);
    assert_int_equal(p->tcp.window, 0);
    assert_int_equal(t->stack.stats.tcp.drop_no_pcb, 1);
    assert_int_equal(t->stack.stats.tcp.resets_sent, 1);
    /* Data with FIN: SEG.LEN counts both. */
    th_send_at(t, &t->c, KITE_TCP_FIN, 5000, 0, "abcd", 4);
    p = th_expect(t, KITE_TCP_RST | KITE_TCP_ACK);
    assert_int_equal(p->tcp.ack, 5005);
    /* With an ACK: the reset takes its sequence number from it. */
    th_send_at(t, &t->c, KITE_TCP_ACK, 5000, 4242, "abcd", 4);
    p = th_expect(t, KITE_TCP_RST);
    assert_int_equal(p->tcp.seq, 4242);
    /* A reset is never answered. */
    th_send_at(t, &t->c, KITE_TCP_RST, 5000, 0, NULL, 0);
    th_expect_none(t);
    assert_int_equal(th_pcbs_used(t), 0);
}

static void accept_refused_resets(void **state)
{
    struct th *t = *state;
    th_listen(t, 4);
    t->accept_ret = KITE_ERR_MEM;
    const struct th_pkt *synack = th_open_syn(t, &t->c);
    uint32_t iss = synack->tcp.seq;
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_int_equal(t->accepts, 1);
    const struct th_pkt *p = th_expect(t, KITE_TCP_RST | KITE_TCP_ACK);
    assert_int_equal(p->tcp.seq, iss + 1);
    assert_int_equal(t->errs, 0); /* refused: the application already knows */
    assert_int_equal(th_pcbs_used(t), 1);
    th_cleanup(t);
}

/* As Linux with its accept queue full (tcp_abort_on_overflow 0): while the
 * application says it takes no more, a SYN goes unanswered, and a handshake's
 * last ACK (a cookie's too) is dropped, the connection left half-open; no
 * reset. With room again, the SYN-ACK retransmission draws the ACK anew. */
static void listener_full_drops_and_holds_handshakes(void **state)
{
    struct th *t = *state;
    th_listen(t, 1);
    struct th_conn c2, c3;
    th_conn_init(&c2, TH_PEER_PORT + 1);
    th_conn_init(&c3, TH_PEER_PORT + 2);
    th_conn_add(t, &c2);
    th_conn_add(t, &c3);
    uint32_t iss = th_open_syn(t, &t->c)->tcp.seq; /* a child, half-open */
    th_send_syn(t, &c2, KITE_TCP_SYN);             /* past the backlog: a cookie */
    th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK);
    kite_tcp_listener_set_full(t->listener, true);
    th_send(t, KITE_TCP_ACK, NULL, 0);
    th_send_c(t, &c2, KITE_TCP_ACK, NULL, 0);
    th_send_syn(t, &c3, KITE_TCP_SYN);
    th_expect_none(t); /* no SYN-ACK, no reset */
    assert_int_equal(t->stack.stats.tcp.drop_listen_full, 3);
    assert_int_equal(t->accepts, 0);
    assert_int_equal(th_pcbs_used(t), 2);
    assert_int_equal(kite_tcp_get_state(kite__tcp_next(&t->stack, NULL)), KITE_TCP_SYN_RECEIVED);
    /* Room again: the child's SYN-ACK comes back at its RTO and the peer's
     * ACK completes it; the cookie peer's next segment completes its own. */
    kite_tcp_listener_set_full(t->listener, false);
    th_advance_to(t, KITE_TCP_RTO_INIT_MS);
    const struct th_pkt *p = th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK);
    assert_int_equal(p->tcp.seq, iss);
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_int_equal(t->accepts, 1);
    assert_int_equal(kite_tcp_get_state(t->pcb), KITE_TCP_ESTABLISHED);
    th_send_c(t, &c2, KITE_TCP_ACK | KITE_TCP_PSH, "hi", 2);
    assert_int_equal(t->accepts, 2);
    assert_int_equal(t->stack.stats.tcp.syn_cookies_ok, 1);
    assert_int_equal(t->errs, 0);
    kite_tcp_abort(t->accepted[0]);
    th_cleanup(t);
}

static void syn_received_retransmits_syn_ack_then_gives_up(void **state)
{
    struct th *t = *state;
    th_listen(t, 4);
    const struct th_pkt *p = th_open_syn(t, &t->c);
    uint32_t iss = p->tcp.seq;
    /* A duplicate SYN (our SYN-ACK was lost) is answered with the SYN-ACK again. */
    th_send_at(t, &t->c, KITE_TCP_SYN, TH_PEER_ISN, 0, NULL, 0);
    /* The duplicate SYN (SEQ = IRS < RCV.NXT) is recognised before the
     * acceptability test, which it would fail: the SYN-ACK is sent again, not
     * a bare ACK. */
    p = th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK);
    assert_int_equal(p->tcp.seq, iss);
    assert_int_equal(p->tcp.ack, TH_PEER_ISN + 1);
    th_expect_none(t);
    /* RTO: 1 s, then doubling (RFC 6298 5.5). */
    th_advance_to(t, KITE_TCP_RTO_INIT_MS - 1);
    th_expect_none(t);
    th_advance_to(t, KITE_TCP_RTO_INIT_MS);
    p = th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK);
    assert_int_equal(p->tcp.seq, iss);
    th_advance_to(t, 3 * KITE_TCP_RTO_INIT_MS - 1);
    th_expect_none(t);
    th_advance_to(t, 3 * KITE_TCP_RTO_INIT_MS);
    th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK);
    /* Eventually the half-open child is dropped without telling anyone. */
    th_run(t, 300000);
    assert_int_equal(th_pcbs_used(t), 1);
    assert_int_equal(t->errs, 0);
    assert_int_equal(t->accepts, 0);
    th_drain(t);
    /* The listener still works. */
    th_conn_init(&t->c, TH_PEER_PORT + 1);
    th_accept_c(t, &t->c);
    th_cleanup(t);
}

/* ---- Active open ---------------------------------------------------------------- */

static void active_open(void **state)
{
    struct th *t = *state;
    t->c.ts = true;
    struct kite_tcp_pcb *pcb = th_connect_start(t);
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_SYN_SENT);
    const struct th_pkt *p = th_expect(t, KITE_TCP_SYN);
    assert_int_equal(p->tcp.opts, KITE_TCP_HAS_MSS | KITE_TCP_HAS_WSCALE | KITE_TCP_HAS_SACK_PERM |
                                      KITE_TCP_HAS_TIMESTAMP);
    assert_int_equal(p->tcp.mss, TH_OUR_MSS);
    assert_int_equal(p->tcp.ts_ecr, 0);
    assert_int_equal(p->tcp.dst_port, TH_PEER_PORT);
    assert_true(p->tcp.src_port >= KITE_EPHEMERAL_PORT_MIN);
    assert_int_equal(t->stack.stats.tcp.active_opens, 1);
    uint32_t iss = p->tcp.seq;
    th_expect_none(t);

    th_advance(t, 30); /* a 30 ms round trip */
    th_send_syn(t, &t->c, KITE_TCP_SYN | KITE_TCP_ACK);
    assert_int_equal(t->connects, 1);
    assert_ptr_equal(t->pcb, pcb);
    p = th_expect_ack(t, TH_PEER_ISN + 1);
    assert_int_equal(p->tcp.seq, iss + 1);
    assert_true(p->tcp.opts & KITE_TCP_HAS_TIMESTAMP);
    assert_int_equal(p->tcp.ts_ecr, 5000);
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_ESTABLISHED);
    assert_int_equal(t->stack.stats.tcp.established, 1);
    th_expect_none(t);
    th_cleanup(t);
}

static void active_open_peer_without_options(void **state)
{
    struct th *t = *state;
    t->c.syn_opts = KITE_TCP_HAS_MSS;
    t->c.syn_mss = (uint16_t)TH_MIN(1000u, TH_OUR_MSS - 100u); /* below ours */
    th_connect(t);
    assert_int_equal(t->last.tcp.opts, 0); /* no timestamps: the peer did not offer them */
    static uint8_t buf[1500];
    const uint16_t len = (uint16_t)TH_MIN(sizeof buf, TH_SND_BUF);
    th_fill(buf, len, 0);
    kite_tcp_set_nodelay(t->pcb, true);
    assert_int_equal(kite_tcp_write(t->pcb, buf, len, KITE_TCP_WRITE_COPY), KITE_ERR_OK);
    assert_int_equal(kite_tcp_output(t->pcb), KITE_ERR_OK);
    const struct th_pkt *p = th_expect(t, KITE_TCP_ACK);
    assert_int_equal(p->len, t->c.syn_mss);
    assert_int_equal(p->tcp.opts, 0);
    assert_memory_equal(p->data, buf, t->c.syn_mss);
    th_cleanup(t);
}

static void syn_sent_rst_ack_refuses(void **state)
{
    struct th *t = *state;
    th_connect_start(t);
    uint32_t iss = th_expect(t, KITE_TCP_SYN)->tcp.seq;
    /* RST without ACK, and RST with an unacceptable ACK: ignored (RFC 9293 3.10.7.3). */
    th_send_at(t, &t->c, KITE_TCP_RST, 0, 0, NULL, 0);
    th_send_at(t, &t->c, KITE_TCP_RST | KITE_TCP_ACK, 0, iss + 7, NULL, 0);
    th_expect_none(t);
    assert_int_equal(t->errs, 0);
    assert_int_equal(th_pcbs_used(t), 1);
    th_send_at(t, &t->c, KITE_TCP_RST | KITE_TCP_ACK, 0, iss + 1, NULL, 0);
    assert_int_equal(t->errs, 1);
    assert_int_equal(t->err, KITE_ERR_RESET);
    assert_int_equal(t->connects, 0);
    assert_int_equal(th_pcbs_used(t), 0);
    th_expect_none(t);
}

static void syn_sent_bad_ack_gets_rst(void **state)
{
    struct th *t = *state;
    th_connect_start(t);
    uint32_t iss = th_expect(t, KITE_TCP_SYN)->tcp.seq;
    /* SEG.ACK > SND.NXT: <SEQ=SEG.ACK><CTL=RST>, stay in SYN_SENT. */
    th_send_at(t, &t->c, KITE_TCP_SYN | KITE_TCP_ACK, TH_PEER_ISN, iss + 100, NULL, 0);
    const struct th_pkt *p = th_expect(t, KITE_TCP_RST);
    assert_int_equal(p->tcp.seq, iss + 100);
    /* SEG.ACK =< ISS too. */
    th_send_at(t, &t->c, KITE_TCP_ACK, TH_PEER_ISN, iss, NULL, 0);
    p = th_expect(t, KITE_TCP_RST);
    assert_int_equal(p->tcp.seq, iss);
    assert_int_equal(t->stack.stats.tcp.drop_bad_ack, 2);
    assert_non_null(kite__tcp_next(&t->stack, NULL));
    assert_int_equal(kite_tcp_get_state(kite__tcp_next(&t->stack, NULL)), KITE_TCP_SYN_SENT);
    assert_int_equal(t->errs, 0);
    /* The right SYN-ACK still completes the open. */
    th_send_syn(t, &t->c, KITE_TCP_SYN | KITE_TCP_ACK);
    assert_int_equal(t->connects, 1);
    th_expect_ack(t, TH_PEER_ISN + 1);
    th_cleanup(t);
}

static void syn_retransmitted_with_backoff_then_timeout(void **state)
{
    struct th *t = *state;
    th_connect_start(t);
    uint32_t iss = th_expect(t, KITE_TCP_SYN)->tcp.seq;
    kite_time_ms at = 0, rto = KITE_TCP_RTO_INIT_MS;
    for (unsigned i = 0; i < KITE_TCP_SYN_RETRIES; i++) {
        at += rto;
        th_advance_to(t, at - 1);
        th_expect_none(t);
        th_advance_to(t, at);
        const struct th_pkt *p = th_expect(t, KITE_TCP_SYN);
        assert_int_equal(p->tcp.seq, iss);
        assert_int_equal(t->errs, 0);
        rto = rto * 2 > KITE_TCP_RTO_MAX_MS ? KITE_TCP_RTO_MAX_MS : rto * 2;
    }
    at += rto;
    th_advance_to(t, at - 1);
    th_expect_none(t);
    assert_int_equal(t->errs, 0);
    th_advance_to(t, at);
    assert_int_equal(t->errs, 1);
    assert_int_equal(t->err, KITE_ERR_TIMEOUT);
    th_expect_none(t); /* gives up silently */
    assert_int_equal(th_pcbs_used(t), 0);
    assert_int_equal(kite_stack_next_deadline(&t->stack), KITE_TIME_NEVER);
}

static void simultaneous_open(void **state)
{
    struct th *t = *state;
    struct kite_tcp_pcb *pcb = th_connect_start(t);
    uint32_t iss = th_expect(t, KITE_TCP_SYN)->tcp.seq;
    /* Figure 8 of RFC 9293: the peer's SYN crosses ours. */
    th_send_syn(t, &t->c, KITE_TCP_SYN);
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_SYN_RECEIVED);
    const struct th_pkt *p = th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK);
    assert_int_equal(p->tcp.seq, iss);
    assert_int_equal(p->tcp.ack, TH_PEER_ISN + 1);
    assert_int_equal(t->connects, 0);
    /* The peer's SYN-ACK: <SEQ=ISN><ACK=iss+1><CTL=SYN,ACK>. */
    struct kite_tcp_repr h = th_hdr(&t->c, KITE_TCP_SYN | KITE_TCP_ACK, TH_PEER_ISN, iss + 1);
    h.opts = TH_OPTS_ALL;
    h.mss = TH_MSS;
    th_send_hdr(t, &t->c, &h, NULL, 0);
    /* The SYN-ACK in SYN_RECEIVED (SEQ = IRS < RCV.NXT) has its SYN trimmed and
     * its ACK processed (as BSD does), not just answered and dropped: the open
     * completes without another round trip. */
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_ESTABLISHED);
    assert_int_equal(t->connects, 1);
    th_expect_none(t);
    /* A later ACK of our SYN-ACK changes nothing. */
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_ESTABLISHED);
    assert_int_equal(t->connects, 1);
    assert_ptr_equal(t->pcb, pcb);
    /* Data flows. */
    th_send(t, KITE_TCP_ACK | KITE_TCP_PSH, "hi", 2);
    assert_int_equal(t->rx_len, 2);
    th_cleanup(t);
}

static void simultaneous_open_completed_by_ack(void **state)
{
    struct th *t = *state;
    struct kite_tcp_pcb *pcb = th_connect_start(t);
    th_expect(t, KITE_TCP_SYN);
    th_send_syn(t, &t->c, KITE_TCP_SYN);
    th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK);
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_ESTABLISHED);
    assert_int_equal(t->connects, 1);
    th_expect_none(t);
    th_cleanup(t);
}

/* ---- SYN cookies (RFC 4987 3.6) ------------------------------------------------------ */

static void syn_cookie_when_backlog_full(void **state)
{
    struct th *t = *state;
    th_listen(t, 1);
    struct th_conn c2;
    th_conn_init(&c2, TH_PEER_PORT + 1);
    c2.seq = 70000;
    th_conn_add(t, &c2);
    th_open_syn(t, &t->c); /* the first fills the backlog */
    assert_int_equal(th_pcbs_used(t), 2);
    th_send_syn(t, &c2, KITE_TCP_SYN);
    const struct th_pkt *p = th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK);
    assert_int_equal(p->tcp.ack, 70001);
    assert_int_equal(p->tcp.dst_port, TH_PEER_PORT + 1);
    assert_true(p->tcp.opts & KITE_TCP_HAS_MSS);
    assert_int_equal(t->stack.stats.tcp.syn_cookies_sent, 1);
    assert_int_equal(th_pcbs_used(t), 2); /* nothing kept for the cookie */
    uint32_t cookie = p->tcp.seq;

    th_advance(t, 500);
    th_send_c(t, &c2, KITE_TCP_ACK, NULL, 0);
    assert_int_equal(t->stack.stats.tcp.syn_cookies_ok, 1);
    assert_int_equal(t->accepts, 1);
    assert_non_null(t->pcb);
    struct kite_tcp_pcb *cookie_pcb = t->pcb;
    assert_int_equal(kite_tcp_get_state(cookie_pcb), KITE_TCP_ESTABLISHED);
    assert_int_equal(th_pcbs_used(t), 3);

    /* The connection works both ways; the peer speaks first. */
    th_send_c(t, &c2, KITE_TCP_ACK | KITE_TCP_PSH, "ping", 4);
    /* The pcb made from the cookie keeps the window its SYN-ACK offered:
     * data before our first ACK is taken in, not dropped. */
    assert_int_equal(t->rx_len, 4);
    assert_memory_equal(t->rx, "ping", 4);
    assert_int_equal(kite_tcp_write(cookie_pcb, "pong", 4, KITE_TCP_WRITE_COPY), KITE_ERR_OK);
    assert_int_equal(kite_tcp_output(cookie_pcb), KITE_ERR_OK);
    th_drain(t);
    assert_int_equal(c2.ack, cookie + 1 + 4);
    kite_tcp_abort(cookie_pcb);
    t->pcb = NULL;
    th_drain(t);

    /* The first connection completes normally. */
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_int_equal(t->accepts, 2);
    th_cleanup(t);
}

static void syn_cookie_forged_ack_gets_rst(void **state)
{
    struct th *t = *state;
    th_listen(t, 1);
    struct th_conn c2;
    th_conn_init(&c2, TH_PEER_PORT + 1);
    th_conn_add(t, &c2);
    th_open_syn(t, &t->c);
    th_send_syn(t, &c2, KITE_TCP_SYN);
    uint32_t cookie = th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK)->tcp.seq;
    /* Wrong ACK number. */
    th_send_at(t, &c2, KITE_TCP_ACK, c2.seq, cookie + 2, NULL, 0);
    const struct th_pkt *p = th_expect(t, KITE_TCP_RST);
    assert_int_equal(p->tcp.seq, cookie + 2);
    /* Right ACK number, wrong sequence number (not the SYN's ISN + 1). */
    th_send_at(t, &c2, KITE_TCP_ACK, c2.seq + 1000, cookie + 1, NULL, 0);
    th_expect(t, KITE_TCP_RST);
    /* Right numbers from another port. */
    struct th_conn c3 = c2;
    c3.sport = TH_PEER_PORT + 2;
    th_send_at(t, &c3, KITE_TCP_ACK, c2.seq, cookie + 1, NULL, 0);
    th_expect(t, KITE_TCP_RST);
    assert_int_equal(t->stack.stats.tcp.drop_bad_cookie, 3);
    assert_int_equal(t->stack.stats.tcp.syn_cookies_ok, 0);
    assert_int_equal(t->accepts, 0);
    assert_int_equal(th_pcbs_used(t), 2);
    /* A cookie expires: after two 64 s periods it is no longer accepted. */
    th_run(t, 3u * 64000u);
    th_drain(t);
    assert_int_equal(th_pcbs_used(t), 1); /* the half-open child gave up meanwhile */
    th_send_at(t, &c2, KITE_TCP_ACK, c2.seq, cookie + 1, NULL, 0);
    th_expect(t, KITE_TCP_RST);
    assert_int_equal(t->stack.stats.tcp.syn_cookies_ok, 0);
    th_cleanup(t);
}

TH_TESTS(TH_TEST(passive_open_answers_offered_options), TH_TEST(passive_open_without_options),
         TH_TEST(passive_open_mss_clamped_to_mtu), TH_TEST(passive_open_small_peer_mss),
         TH_TEST(syn_with_bad_checksum_dropped), TH_TEST(ack_to_listen_gets_rst),
         TH_TEST(rst_to_listen_ignored), TH_TEST(syn_to_closed_port_gets_rst_ack),
         TH_TEST(accept_refused_resets), TH_TEST(listener_full_drops_and_holds_handshakes),
         TH_TEST(syn_received_retransmits_syn_ack_then_gives_up), TH_TEST(active_open),
         TH_TEST(active_open_peer_without_options), TH_TEST(syn_sent_rst_ack_refuses),
         TH_TEST(syn_sent_bad_ack_gets_rst), TH_TEST(syn_retransmitted_with_backoff_then_timeout),
         TH_TEST(simultaneous_open), TH_TEST(simultaneous_open_completed_by_ack),
         TH_TEST(syn_cookie_when_backlog_full), TH_TEST(syn_cookie_forged_ack_gets_rst))
