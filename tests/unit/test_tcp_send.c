/* SPDX-License-Identifier: BSD-3-Clause */
/* TCP send side fed segment by segment: MSS and window limits, Nagle
 * (RFC 9293 3.7.4), retransmission timeout and backoff (RFC 6298), fast
 * retransmit (RFC 5681, 6582), SACK-based recovery (RFC 6675), persist
 * probes (RFC 9293 3.8.6.1) and RTT estimation. */
#include "tcp_harness.h"

static uint8_t pattern[16384];

static void write_all(struct th *t, uint32_t off, uint16_t len)
{
    th_fill(pattern, len, off);
    assert_int_equal(kite_tcp_write(t->pcb, pattern, len, KITE_TCP_WRITE_COPY), KITE_ERR_OK);
    assert_int_equal(kite_tcp_output(t->pcb), KITE_ERR_OK);
}

/* The next segment must carry len bytes of the pattern from stream offset off. */
static const struct th_pkt *expect_data(struct th *t, uint32_t off, uint16_t len)
{
    if (!th_next(t, &t->last)) {
        print_error("expected %u bytes at offset %u, nothing sent\n", len, off);
        fail();
    }
    const struct th_pkt *p = &t->last;
    assert_true(p->tcp.flags & KITE_TCP_ACK);
    assert_int_equal(p->tcp.seq, t->c.our_iss + 1 + off);
    assert_int_equal(p->len, len);
    th_fill(pattern, len, off);
    assert_memory_equal(p->data, pattern, len);
    return p;
}

static void ack_to(struct th *t, uint32_t off)
{
    th_send_at(t, &t->c, KITE_TCP_ACK, t->c.seq, t->c.our_iss + 1 + off, NULL, 0);
}

static void ack_sack(struct th *t, uint32_t off, uint8_t n, const uint32_t *blocks)
{
    struct kite_tcp_repr h = th_hdr(&t->c, KITE_TCP_ACK, t->c.seq, t->c.our_iss + 1 + off);
    h.opts |= KITE_TCP_HAS_SACK;
    h.sack_count = n;
    for (uint8_t i = 0; i < n; i++) {
        h.sack[i].left = t->c.our_iss + 1 + blocks[2 * i];
        h.sack[i].right = t->c.our_iss + 1 + blocks[2 * i + 1];
    }
    th_send_hdr(t, &t->c, &h, NULL, 0);
}

/* Listen with a send buffer for n segments of m bytes (the peer offers MSS
 * m) and accept the default peer; returns the send buffer. */
static uint32_t establish_segs(struct th *t, uint32_t n, uint32_t m)
{
    t->c.syn_mss = (uint16_t)m;
    th_listen(t, 4);
    uint32_t snd = n * m > TH_SND_BUF ? n * m : TH_SND_BUF;
    assert_int_equal(kite_tcp_listener_set_buffers(t->listener, snd, TH_RCV_BUF), KITE_ERR_OK);
    th_accept_c(t, &t->c);
    /* Buffer sizes are kept in KITE_TCP_BUF_UNIT units, rounded up. */
    return (snd + KITE_TCP_BUF_UNIT - 1u) / KITE_TCP_BUF_UNIT * KITE_TCP_BUF_UNIT;
}

static void segments_within_mss_and_peer_window(void **state)
{
    struct th *t = *state;
    /* Five and a half segments, the peer's window two segments and 80 bytes. */
    const uint32_t m = TH_SEG_FOR(6u), total = 5u * m + m / 2u;
    t->c.window = (uint16_t)(2u * m + 80u);
    uint32_t snd = establish_segs(t, 6u, m);
    kite_tcp_set_nodelay(t->pcb, true);
    write_all(t, 0, (uint16_t)total);
    expect_data(t, 0, (uint16_t)m);
    expect_data(t, m, (uint16_t)m);
    /* 80 more bytes would fit, but sender SWS avoidance holds them. */
    th_expect_none(t);
    ack_to(t, 2u * m);
    expect_data(t, 2u * m, (uint16_t)m);
    expect_data(t, 3u * m, (uint16_t)m);
    th_expect_none(t);
    assert_int_equal(t->sent_acked, 2u * m);
    /* The peer opens its window: the rest goes, the last with PSH. */
    t->c.window = 60000;
    ack_to(t, 4u * m);
    expect_data(t, 4u * m, (uint16_t)m);
    const struct th_pkt *p = expect_data(t, 5u * m, (uint16_t)(m / 2u));
    assert_true(p->tcp.flags & KITE_TCP_PSH);
    th_expect_none(t);
    ack_to(t, total);
    assert_int_equal(t->sent_acked, total);
    assert_int_equal(kite_tcp_sndbuf(t->pcb), snd);
    th_expect_none(t);
    th_cleanup(t);
}

static void write_backpressure(void **state)
{
    struct th *t = *state;
    t->c.window = 0;
    th_establish(t);
    uint32_t off = 0;
    while (kite_tcp_sndbuf(t->pcb) > 0) {
        uint32_t n = kite_tcp_sndbuf(t->pcb);
        uint16_t len = (uint16_t)(n < sizeof pattern ? n : sizeof pattern);
        th_fill(pattern, len, off);
        assert_int_equal(kite_tcp_write(t->pcb, pattern, len, KITE_TCP_WRITE_COPY), KITE_ERR_OK);
        off += len;
    }
    assert_int_equal(off, KITE_TCP_SND_BUF);
    /* All or nothing: a full buffer says would-block and takes nothing. */
    assert_int_equal(kite_tcp_write(t->pcb, pattern, 1, KITE_TCP_WRITE_COPY), KITE_ERR_WOULDBLOCK);
    th_cleanup(t);
}

static void nagle_holds_small_segments(void **state)
{
    struct th *t = *state;
    th_establish(t);
    write_all(t, 0, 10);
    expect_data(t, 0, 10); /* nothing in flight: goes at once */
    write_all(t, 10, 10);
    write_all(t, 20, 10);
    th_expect_none(t); /* RFC 9293 3.7.4: hold while data is unacknowledged */
    ack_to(t, 10);
    expect_data(t, 10, 20); /* coalesced */
    th_expect_none(t);
    ack_to(t, 30);
    /* No-delay: small segments go even with data in flight. */
    kite_tcp_set_nodelay(t->pcb, true);
    write_all(t, 30, 10);
    expect_data(t, 30, 10);
    write_all(t, 40, 10);
    expect_data(t, 40, 10);
    ack_to(t, 50);
    th_expect_none(t);
    th_cleanup(t);
}

static void retransmission_timeout_with_backoff(void **state)
{
    struct th *t = *state;
    th_establish(t);
    kite_tcp_set_nodelay(t->pcb, true);
    kite_time_ms t0 = t->stack.now;
    write_all(t, 0, 100);
    expect_data(t, 0, 100);
    kite_time_ms rto = kite_stack_next_deadline(&t->stack) - t0;
    assert_true(rto >= KITE_TCP_RTO_MIN_MS && rto <= KITE_TCP_RTO_INIT_MS);
    th_advance_to(t, t0 + rto - 1);
    th_expect_none(t);
    th_advance_to(t, t0 + rto);
    expect_data(t, 0, 100); /* the same bytes again */
    assert_int_equal(t->stack.stats.tcp.rto_timeouts, 1);
    th_advance_to(t, t0 + rto + 2 * rto - 1);
    th_expect_none(t);
    th_advance_to(t, t0 + 3 * rto);
    expect_data(t, 0, 100);
    th_advance_to(t, t0 + 7 * rto - 1);
    th_expect_none(t);
    th_advance_to(t, t0 + 7 * rto);
    expect_data(t, 0, 100);
    assert_int_equal(t->stack.stats.tcp.rto_timeouts, 3);
    /* The ACK stops the timer. */
    ack_to(t, 100);
    assert_int_equal(t->sent_acked, 100);
    th_run(t, 200000);
    th_expect_none(t);
    assert_non_null(t->pcb);
    th_cleanup(t);
}

static void retransmission_gives_up(void **state)
{
    struct th *t = *state;
    th_establish(t);
    write_all(t, 0, 100);
    expect_data(t, 0, 100);
    th_run(t, 3600u * 1000u);
    unsigned resent = 0;
    struct th_pkt p;
    while (th_next(t, &p)) {
        assert_int_equal(p.len, 100);
        resent++;
    }
    assert_int_equal(resent, KITE_TCP_MAX_RETRIES);
    assert_int_equal(t->errs, 1);
    assert_int_equal(t->err, KITE_ERR_TIMEOUT);
    assert_int_equal(th_pcbs_used(t), 1);
    th_cleanup(t);
}

static void fast_retransmit_after_three_dup_acks(void **state)
{
    struct th *t = *state;
    t->c.syn_opts = KITE_TCP_HAS_MSS; /* NewReno, no SACK */
    const uint32_t m = TH_SEG_FOR(5u);
    establish_segs(t, 5u, m);
    kite_tcp_set_nodelay(t->pcb, true);
    write_all(t, 0, (uint16_t)(5u * m));
    for (uint32_t i = 0; i < 5; i++)
        expect_data(t, i * m, (uint16_t)m);
    ack_to(t, m); /* segment 2 was lost, 3..5 arrive */
    ack_to(t, m);
    ack_to(t, m);
    th_expect_none(t);
    ack_to(t, m); /* third duplicate */
    expect_data(t, m, (uint16_t)m);
    th_expect_none(t);
    assert_int_equal(t->stack.stats.tcp.fast_retransmits, 1);
    assert_int_equal(t->stack.stats.tcp.dup_acks, 3);
    assert_int_equal(t->stack.stats.tcp.rto_timeouts, 0);
    /* Full ACK: recovery ends. */
    ack_to(t, 5u * m);
    assert_int_equal(t->sent_acked, 5u * m);
    th_expect_none(t);
    th_cleanup(t);
}

static void newreno_partial_ack_retransmits_next_hole(void **state)
{
    struct th *t = *state;
    t->c.syn_opts = KITE_TCP_HAS_MSS;
    const uint32_t m = TH_SEG_FOR(6u);
    establish_segs(t, 6u, m);
    kite_tcp_set_nodelay(t->pcb, true);
    write_all(t, 0, (uint16_t)(6u * m));
    th_drain(t);
    for (int i = 0; i < 4; i++)
        ack_to(t, m); /* segments 2 and 4 lost */
    expect_data(t, m, (uint16_t)m);
    th_expect_none(t);
    ack_to(t, 3u * m); /* partial ACK (RFC 6582 3.2 step 5) */
    expect_data(t, 3u * m, (uint16_t)m);
    ack_to(t, 6u * m);
    th_drain(t);
    assert_int_equal(t->sent_acked, 6u * m);
    assert_int_equal(t->stack.stats.tcp.rto_timeouts, 0);
    th_cleanup(t);
}

static void sack_recovery_retransmits_only_holes(void **state)
{
    struct th *t = *state;
    const uint32_t m = TH_SEG_FOR(6u);
    establish_segs(t, 6u, m);
    kite_tcp_set_nodelay(t->pcb, true);
    write_all(t, 0, (uint16_t)(6 * m));
    th_drain(t);
    /* Segments 1 and 3 (0-based) are lost. */
    ack_to(t, m);
    uint32_t b1[] = {2 * m, 3 * m};
    ack_sack(t, m, 1, b1);
    uint32_t b2[] = {4 * m, 5 * m, 2 * m, 3 * m};
    ack_sack(t, m, 2, b2);
    th_expect_none(t);
    uint32_t b3[] = {4 * m, 6 * m, 2 * m, 3 * m};
    ack_sack(t, m, 2, b3); /* third duplicate: segment 1 is lost (RFC 6675 IsLost) */
    expect_data(t, m, (uint16_t)m);
    /* cwnd is now ssthresh = beta x FlightSize (5 segments): 0.5 for NewReno
     * (RFC 5681 eqn. 4), 0.7 for CUBIC (RFC 9438 4.6). Segment 3 is not lost by
     * IsLost, but NextSeg() rule 3 sends it as soon as cwnd - pipe (segments
     * 1 and 3) leaves room for it. */
    const uint32_t beta10 = KITE_TCP_CUBIC ? 7u : 5u;
    const bool room_for_3 = beta10 * 5u * m / 10u >= 3u * m;
    if (room_for_3)
        expect_data(t, 3 * m, (uint16_t)m);
    th_expect_none(t); /* nothing SACKed is resent */
    assert_int_equal(t->stack.stats.tcp.sack_recoveries, 1);
    /* The retransmission arrives: a partial ACK up to the second hole. */
    uint32_t b4[] = {4 * m, 6 * m};
    ack_sack(t, 3 * m, 1, b4);
    /* Segment 3 has just two SACKed segments above it, so it is not "lost" by
     * IsLost(); NextSeg() rule 3 (RFC 6675 4: an unSACKed hole below the
     * highest SACK, when cwnd allows) sends it, not the RTO. */
    if (!room_for_3)
        expect_data(t, 3 * m, (uint16_t)m); /* rule 3, with the room the ACK made */
    th_expect_none(t);
    /* The peer never gets it: the RTO repairs it. */
    th_advance_to(t, kite_stack_next_deadline(&t->stack));
    expect_data(t, 3 * m, (uint16_t)m);
    th_expect_none(t);
    ack_to(t, 6 * m);
    assert_int_equal(t->sent_acked, 6 * m);
    th_expect_none(t);
    th_cleanup(t);
}

static void sack_recovery_with_small_segments(void **state)
{
    struct th *t = *state;
    th_establish(t);
    kite_tcp_set_nodelay(t->pcb, true);
    for (uint32_t i = 0; i < 5; i++)
        write_all(t, i * 100, 100);
    th_drain(t);
    /* Segment 0 lost; 1..4 SACKed: three duplicate ACKs but only 400 bytes
     * above the hole, fewer than DupThresh * SMSS. */
    uint32_t b1[] = {100, 200};
    ack_sack(t, 0, 1, b1);
    uint32_t b2[] = {100, 300};
    ack_sack(t, 0, 1, b2);
    uint32_t b3[] = {100, 400};
    ack_sack(t, 0, 1, b3);
    assert_int_equal(t->stack.stats.tcp.dup_acks, 3);
    /* RFC 6675 5 step (4.3) / RFC 5681 3.2: on the third duplicate ACK the
     * first unacknowledged segment MUST be retransmitted, although NextSeg()
     * finds nothing "lost" by IsLost(); the SACKed segments are not resent. */
    expect_data(t, 0, 100);
    th_expect_none(t);
    /* The retransmission arrives: everything is acknowledged. */
    ack_to(t, 500);
    th_expect_none(t);
    assert_int_equal(t->sent_acked, 500);
    th_cleanup(t);
}

static void persist_probes_zero_window(void **state)
{
    struct th *t = *state;
    th_establish(t);
    kite_tcp_set_nodelay(t->pcb, true);
    /* The peer closes its window. */
    t->c.window = 0;
    ack_to(t, 0);
    kite_time_ms t0 = t->stack.now;
    write_all(t, 0, 100);
    th_expect_none(t);
    kite_time_ms first = kite_stack_next_deadline(&t->stack);
    assert_true(first > t0 && first != KITE_TIME_NEVER);
    th_advance_to(t, first - 1);
    th_expect_none(t);
    th_advance_to(t, first);
    /* A probe: an old sequence number, answered with the current window. */
    const struct th_pkt *p = th_expect(t, KITE_TCP_ACK);
    assert_int_equal(p->tcp.seq, t->c.our_iss);
    assert_int_equal(p->len, 0);
    assert_int_equal(t->stack.stats.tcp.persist_probes, 1);
    /* The peer answers, still closed: the next probe backs off. */
    ack_to(t, 0);
    th_expect_none(t);
    kite_time_ms second = kite_stack_next_deadline(&t->stack);
    assert_true(second - t->stack.now >= 2 * (first - t0) - 1);
    th_advance_to(t, second);
    th_expect(t, KITE_TCP_ACK);
    assert_int_equal(t->stack.stats.tcp.persist_probes, 2);
    assert_int_equal(t->errs, 0);
    /* The window opens: the data goes. */
    t->c.window = 65535;
    ack_to(t, 0);
    expect_data(t, 0, 100);
    ack_to(t, 100);
    th_run(t, 100000);
    th_expect_none(t);
    th_cleanup(t);
}

/* The window shuts while data is in flight and the update that reopens it
 * is lost: the retransmission timeout cannot resend into a shut window, so
 * the connection must fall back to probing (RFC 9293 3.8.6.1, RFC 1122
 * 4.2.2.17) rather than time out silently until it gives up. */
static void window_shut_with_data_in_flight_probes(void **state)
{
    struct th *t = *state;
    th_establish(t);
    kite_tcp_set_nodelay(t->pcb, true);
    write_all(t, 0, 100);
    expect_data(t, 0, 100);
    write_all(t, 100, 100);
    expect_data(t, 100, 100);
    t->c.window = 0;
    ack_to(t, 100); /* the first segment taken, the window shut: 100 bytes in flight */
    th_expect_none(t);
    th_advance_to(t, kite_stack_next_deadline(&t->stack)); /* the retransmission timeout */
    th_expect_none(t);                                     /* nothing fits a shut window */
    th_advance_to(t, kite_stack_next_deadline(&t->stack));
    const struct th_pkt *p = th_expect(t, KITE_TCP_ACK); /* a probe */
    assert_int_equal(p->len, 0);
    assert_int_equal(p->tcp.seq, t->c.our_iss + 100u); /* SND.UNA - 1: always answered */
    assert_true(t->stack.stats.tcp.persist_probes >= 1);
    t->c.window = 65535; /* the answer shows the window open: the data goes again */
    ack_to(t, 100);
    expect_data(t, 100, 100);
    ack_to(t, 200);
    th_expect_none(t);
    assert_int_equal(t->errs, 0);
    th_cleanup(t);
}

static void rtt_measured_rto_adapts(void **state)
{
    struct th *t = *state;
    t->c.syn_opts = KITE_TCP_HAS_MSS;
    struct kite_tcp_pcb *pcb = th_connect_start(t);
    th_expect(t, KITE_TCP_SYN);
    th_advance(t, 100); /* RTT 100 ms */
    th_send_syn(t, &t->c, KITE_TCP_SYN | KITE_TCP_ACK);
    th_expect_ack(t, TH_PEER_ISN + 1);
    assert_ptr_equal(t->pcb, pcb);
    kite_tcp_set_nodelay(pcb, true);
    /* RFC 6298 2.2: SRTT = 100, RTTVAR = 50, RTO = SRTT + 4 RTTVAR = 300. */
    kite_time_ms t0 = t->stack.now;
    write_all(t, 0, 100);
    expect_data(t, 0, 100);
    assert_int_equal(kite_stack_next_deadline(&t->stack) - t0, 300);
    th_advance(t, 100);
    ack_to(t, 100); /* a second 100 ms sample: RTTVAR = 37.5, RTO = 250 */
    t0 = t->stack.now;
    write_all(t, 100, 100);
    expect_data(t, 100, 100);
    kite_time_ms rto = kite_stack_next_deadline(&t->stack) - t0;
    assert_true(rto >= 249 && rto <= 251);
    /* Karn: a retransmitted segment gives no sample; the backed-off RTO stays. */
    th_advance_to(t, t0 + rto);
    expect_data(t, 100, 100);
    th_advance(t, 10);
    ack_to(t, 200);
    t0 = t->stack.now;
    write_all(t, 200, 100);
    expect_data(t, 200, 100);
    kite_time_ms after = kite_stack_next_deadline(&t->stack) - t0;
    assert_true(after >= 249 && after <= 251); /* no bogus 10 ms sample */
    ack_to(t, 300);
    th_cleanup(t);
}

static void rtt_from_timestamps(void **state)
{
    struct th *t = *state;
    t->c.ts = true;
    th_establish(t);
    kite_tcp_set_nodelay(t->pcb, true);
    /* The handshake itself was a 0 ms sample; a 150 ms path stays below the
     * 200 ms minimum RTO, so nothing is retransmitted while we wait. */
    for (int i = 0; i < 8; i++) {
        write_all(t, (uint32_t)i * 10, 10);
        expect_data(t, (uint32_t)i * 10, 10);
        th_advance(t, 150);
        ack_to(t, (uint32_t)(i + 1) * 10);
    }
    kite_time_ms t0 = t->stack.now;
    write_all(t, 80, 10);
    expect_data(t, 80, 10);
    kite_time_ms rto = kite_stack_next_deadline(&t->stack) - t0;
    /* Timestamps gave a sample per ACK: RTO came down from its initial 1 s
     * to about SRTT + 4 RTTVAR, never under the 200 ms floor. */
    assert_true(rto >= KITE_TCP_RTO_MIN_MS && rto < KITE_TCP_RTO_INIT_MS);
    ack_to(t, 90);
    th_cleanup(t);
}

TH_TESTS(TH_TEST(segments_within_mss_and_peer_window), TH_TEST(write_backpressure),
         TH_TEST(nagle_holds_small_segments), TH_TEST(retransmission_timeout_with_backoff),
         TH_TEST(retransmission_gives_up), TH_TEST(fast_retransmit_after_three_dup_acks),
         TH_TEST(newreno_partial_ack_retransmits_next_hole),
         TH_TEST(sack_recovery_retransmits_only_holes), TH_TEST(sack_recovery_with_small_segments),
         TH_TEST(persist_probes_zero_window), TH_TEST(window_shut_with_data_in_flight_probes),
         TH_TEST(rtt_measured_rto_adapts), TH_TEST(rtt_from_timestamps))
