/* SPDX-License-Identifier: BSD-3-Clause */
/* TCP receive side fed segment by segment: in-order delivery, delayed ACKs
 * (RFC 1122 4.2.3.2), out-of-order data with SACK blocks (RFC 2018), old
 * duplicates, window edges and zero windows (RFC 9293 3.8.6), sequence
 * wrap-around and PAWS (RFC 7323 5). */
#include "tcp_harness.h"

/* Send len bytes of the pattern at stream offset off (seq = ISN + 1 + off). */
static void send_data(struct th *t, uint32_t isn, uint32_t off, uint16_t len, uint8_t flags)
{
    static uint8_t buf[1600];
    th_fill(buf, len, off);
    th_send_at(t, &t->c, (uint8_t)(KITE_TCP_ACK | flags), isn + 1 + off, t->c.ack, buf, len);
}

static void in_order_data_delivered(void **state)
{
    struct th *t = *state;
    th_establish(t);
    send_data(t, TH_PEER_ISN, 0, 100, KITE_TCP_PSH);
    assert_int_equal(t->recvs, 1);
    assert_int_equal(t->rx_len, 100);
    assert_true(th_rx_matches(t, 0, 100));
    send_data(t, TH_PEER_ISN, 100, 300, KITE_TCP_PSH);
    assert_int_equal(t->rx_len, 400);
    assert_true(th_rx_matches(t, 0, 400));
    /* The second segment forces the ACK (at most every second segment). */
    const struct th_pkt *p = th_expect_ack(t, TH_PEER_ISN + 1 + 400);
    /* All consumed, but receiver SWS avoidance (RFC 1122 4.2.3.3) keeps the
     * right edge until it can move by min(RCV.BUFF / 2, MSS). The SYN-ACK
     * offered at most 65535 bytes (unscaled); a bigger buffer moves the edge
     * now by far more than that. */
    uint32_t edge = th_rcv_edge(th_syn_wnd(TH_RCV_BUF), 400 + TH_RCV_BUF, 400);
    assert_int_equal(p->tcp.window, th_wfield(&t->c, edge - 400));
    assert_int_equal(p->len, 0);
    th_expect_none(t);
    edge = 400 + th_wnd(&t->c, p);
    /* 100 more bytes, read at once: the edge could move by 100 only, so it stays. */
    send_data(t, TH_PEER_ISN, 400, 100, KITE_TCP_PSH);
    assert_int_equal(th_rcv_edge(edge, 500 + TH_RCV_BUF, 500), edge);
    th_advance(t, KITE_TCP_DELACK_MS);
    p = th_expect_ack(t, TH_PEER_ISN + 1 + 500);
    assert_int_equal(p->tcp.window, th_wfield(&t->c, edge - 500));
    th_expect_none(t);
    assert_true(th_rx_matches(t, 0, 500));
    th_cleanup(t);
}

static void delayed_ack_timer(void **state)
{
    struct th *t = *state;
    th_establish(t);
    kite_time_ms t0 = t->stack.now;
    send_data(t, TH_PEER_ISN, 0, 10, KITE_TCP_PSH);
    assert_int_equal(t->rx_len, 10);
    th_expect_none(t); /* RFC 1122 4.2.3.2: delay the ACK */
    th_advance_to(t, t0 + KITE_TCP_DELACK_MS - 1);
    th_expect_none(t);
    th_advance_to(t, t0 + KITE_TCP_DELACK_MS);
    th_expect_ack(t, TH_PEER_ISN + 11);
    th_expect_none(t);
    /* Nothing more is owed: no further ACKs. */
    th_advance(t, 10 * KITE_TCP_DELACK_MS);
    th_expect_none(t);
    th_cleanup(t);
}

static void every_second_full_segment_acked_at_once(void **state)
{
    struct th *t = *state;
    th_establish(t);
    /* The application reads in the recv callback, so it never lags behind
     * (see lagging_reader_...), and the window update of its read rides on
     * input's ACK. Full-size segments are our MSS; as many pairs as the window takes (up to two).
     */
    const uint32_t m = TH_SMSS;
    const uint32_t n = TH_MIN(4u, TH_RCV_BUF / m / 2u * 2u);
    assert_true(n >= 2);
    for (uint32_t i = 0; i < n; i++) {
        send_data(t, TH_PEER_ISN, i * m, (uint16_t)m, i + 1 == n ? KITE_TCP_PSH : 0);
        if (i % 2 == 0)
            th_expect_none(t);
        else
            th_expect_ack(t, TH_PEER_ISN + 1 + (i + 1) * m);
    }
    th_expect_none(t);
    assert_true(th_rx_matches(t, 0, n * m));
    th_cleanup(t);
}

/* An application that reads in the recv callback: the window update its
 * kite_tcp_recved causes must not come on top of the ACK input sends anyway. */
static void reading_in_callback_sends_one_ack(void **state)
{
    struct th *t = *state;
    th_establish(t);
    const uint16_t m = (uint16_t)TH_SMSS;
    send_data(t, TH_PEER_ISN, 0, m, 0);
    /* The right edge moved by a full MSS: a window update may go at once. */
    th_drain(t);
    send_data(t, TH_PEER_ISN, m, m, 0);
    send_data(t, TH_PEER_ISN, 2u * m, m, 0);
    unsigned acks = th_pending(t);
    th_drain(t);
    /* kite_tcp_recved called from inside the recv callback sends no
     * window-update ACK of its own: two full segments draw exactly one ACK,
     * not one per segment, and never two identical ACKs (recved's and
     * input's) that the peer would count as a duplicate ACK. */
    assert_int_equal(acks, 1);
    assert_int_equal(t->rx_len, 3u * m);
    assert_true(th_rx_matches(t, 0, 3u * m));
    th_cleanup(t);
}

static void out_of_order_gets_dup_ack_with_sack(void **state)
{
    struct th *t = *state;
    th_establish(t);
    uint32_t base = TH_PEER_ISN + 1;
    /* Four segments of s bytes, all within the receive window. */
    const uint32_t s = TH_MIN(500u, TH_RCV_BUF / 4u);
    /* Segment 2 arrives before segment 1: immediate duplicate ACK with SACK. */
    send_data(t, TH_PEER_ISN, s, (uint16_t)s, 0);
    assert_int_equal(t->rx_len, 0);
    const struct th_pkt *p = th_expect_ack(t, base);
    assert_true(p->tcp.opts & KITE_TCP_HAS_SACK);
    assert_int_equal(p->tcp.sack_count, 1);
    assert_int_equal(p->tcp.sack[0].left, base + s);
    assert_int_equal(p->tcp.sack[0].right, base + 2u * s);
    /* The window shrinks by what the out-of-order queue holds, the edge stays
     * (or moves by a useful amount from the SYN-ACK's, a buffer over 64 KiB). */
    uint32_t edge = th_rcv_edge(th_syn_wnd(TH_RCV_BUF), TH_RCV_BUF - s, 0);
    assert_int_equal(p->tcp.window, th_wfield(&t->c, edge));
    assert_int_equal(t->stack.stats.tcp.ooo_queued, 1);
    /* Segment 4: a second block, the newest first (RFC 2018 4). */
    send_data(t, TH_PEER_ISN, 3u * s, (uint16_t)s, 0);
    p = th_expect_ack(t, base);
    assert_int_equal(p->tcp.sack_count, 2);
    assert_int_equal(p->tcp.sack[0].left, base + 3u * s);
    assert_int_equal(p->tcp.sack[0].right, base + 4u * s);
    assert_int_equal(p->tcp.sack[1].left, base + s);
    assert_int_equal(p->tcp.sack[1].right, base + 2u * s);
    /* Segment 3 joins the two blocks. */
    send_data(t, TH_PEER_ISN, 2u * s, (uint16_t)s, 0);
    p = th_expect_ack(t, base);
    assert_int_equal(t->rx_len, 0);
    /* The queue is bounded by memory, not a count: three segments fit in every
     * profile's pool (its reserve for reception stays free). */
    {
        assert_int_equal(t->stack.stats.tcp.drop_ooo_full, 0);
        assert_int_equal(p->tcp.sack_count, 1);
        assert_int_equal(p->tcp.sack[0].left, base + s);
        assert_int_equal(p->tcp.sack[0].right, base + 4u * s);
        /* Segment 1 fills the hole: everything delivered in order, ACKed at once. */
        send_data(t, TH_PEER_ISN, 0, (uint16_t)s, 0);
    }
    p = th_expect_ack(t, base + 4u * s);
    assert_false(p->tcp.opts & KITE_TCP_HAS_SACK);
    assert_int_equal(t->rx_len, 4u * s);
    assert_true(th_rx_matches(t, 0, 4u * s));
    th_expect_none(t); /* see reading_in_callback_sends_one_ack: a second, identical ACK */
    th_cleanup(t);
}

static void out_of_order_without_sack(void **state)
{
    struct th *t = *state;
    t->c.syn_opts = KITE_TCP_HAS_MSS;
    th_establish(t);
    send_data(t, TH_PEER_ISN, 100, 100, 0);
    const struct th_pkt *p = th_expect_ack(t, TH_PEER_ISN + 1);
    assert_false(p->tcp.opts & KITE_TCP_HAS_SACK); /* not negotiated */
    send_data(t, TH_PEER_ISN, 0, 100, 0);
    th_expect_ack(t, TH_PEER_ISN + 201);
    assert_true(th_rx_matches(t, 0, 200));
    th_cleanup(t);
}

static void old_duplicate_acked_not_delivered_twice(void **state)
{
    struct th *t = *state;
    th_establish(t);
    send_data(t, TH_PEER_ISN, 0, 100, 0);
    send_data(t, TH_PEER_ISN, 100, 100, 0);
    th_expect_ack(t, TH_PEER_ISN + 201);
    /* The whole first segment again: an immediate ACK, nothing delivered. */
    send_data(t, TH_PEER_ISN, 0, 100, 0);
    th_expect_ack(t, TH_PEER_ISN + 201);
    assert_int_equal(t->rx_len, 200);
    assert_int_equal(t->recvs, 2);
    assert_int_equal(t->stack.stats.tcp.drop_out_of_window, 1);
    /* Overlapping old and new bytes: only the new ones are delivered. */
    send_data(t, TH_PEER_ISN, 150, 150, 0);
    assert_int_equal(t->rx_len, 300);
    assert_true(th_rx_matches(t, 0, 300));
    /* An old pure ACK is accepted silently (nothing owed but the delayed ACK). */
    th_send_at(t, &t->c, KITE_TCP_ACK, TH_PEER_ISN + 301, t->c.ack, NULL, 0);
    th_advance(t, KITE_TCP_DELACK_MS);
    th_expect_ack(t, TH_PEER_ISN + 301);
    th_expect_none(t);
    th_cleanup(t);
}

static void segment_beyond_window_trimmed_and_zero_window(void **state)
{
    struct th *t = *state;
    th_listen(t, 4);
    assert_int_equal(kite_tcp_listener_set_buffers(t->listener, 4096, 2048), KITE_ERR_OK);
    th_send_syn(t, &t->c, KITE_TCP_SYN);
    const struct th_pkt *p = th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK);
    assert_int_equal(p->tcp.window, 2048);
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_non_null(t->pcb);
    t->hold_window = true;
    send_data(t, TH_PEER_ISN, 0, 1460, 0);
    assert_int_equal(t->rx_len, 1460);
    /* 1460 bytes where only 588 fit: the rest is trimmed (RFC 9293 3.10.7.4). */
    send_data(t, TH_PEER_ISN, 1460, 1460, 0);
    assert_int_equal(t->rx_len, 2048);
    assert_true(th_rx_matches(t, 0, 2048));
    p = th_expect_ack(t, TH_PEER_ISN + 1 + 2048);
    assert_int_equal(p->tcp.window, 0);
    th_expect_none(t);
    /* Zero window: data is dropped, the ACK repeats window 0. */
    send_data(t, TH_PEER_ISN, 2048, 100, 0);
    p = th_expect_ack(t, TH_PEER_ISN + 1 + 2048);
    assert_int_equal(p->tcp.window, 0);
    assert_int_equal(t->rx_len, 2048);
    /* A one-byte zero-window probe, likewise. */
    send_data(t, TH_PEER_ISN, 2048, 1, 0);
    p = th_expect_ack(t, TH_PEER_ISN + 1 + 2048);
    assert_int_equal(p->tcp.window, 0);
    th_expect_none(t);
    assert_int_equal(t->rx_len, 2048);
    /* The application reads a little: not worth announcing (SWS avoidance). */
    kite_tcp_recved(t->pcb, 100);
    th_expect_none(t);
    /* ... then everything: a window update. */
    kite_tcp_recved(t->pcb, 1948);
    p = th_expect_ack(t, TH_PEER_ISN + 1 + 2048);
    assert_int_equal(p->tcp.window, 2048);
    th_expect_none(t);
    /* And data flows again. */
    send_data(t, TH_PEER_ISN, 2048, 100, KITE_TCP_PSH);
    assert_int_equal(t->rx_len, 2148);
    assert_true(th_rx_matches(t, 0, 2148));
    th_cleanup(t);
}

static void window_field_tracks_unread_data(void **state)
{
    struct th *t = *state;
    th_establish(t);
    t->hold_window = true;
    const uint32_t s = TH_MIN(1000u, TH_RCV_BUF / 4u);
    send_data(t, TH_PEER_ISN, 0, (uint16_t)s, 0);
    send_data(t, TH_PEER_ISN, s, (uint16_t)s, 0);
    const struct th_pkt *p = th_expect_ack(t, TH_PEER_ISN + 1 + 2u * s);
    /* Unread data closes the window; the right edge stays where the SYN-ACK put it
     * (RCV.BUFF, or 65535 moved up to it for a buffer over 64 KiB). */
    uint32_t edge = th_rcv_edge(th_syn_wnd(TH_RCV_BUF), TH_RCV_BUF, 2u * s);
    assert_int_equal(edge, TH_RCV_BUF);
    assert_int_equal(p->tcp.window, th_wfield(&t->c, TH_RCV_BUF - 2u * s));
    /* Data beyond the right edge entirely: unacceptable, answered with an ACK. */
    send_data(t, TH_PEER_ISN, 2u * s + TH_RCV_BUF, 10, 0);
    th_expect_ack(t, TH_PEER_ISN + 1 + 2u * s);
    assert_int_equal(t->rx_len, 2u * s);
    kite_tcp_recved(t->pcb, 2u * s);
    /* Reading reopens the window. It is announced at once only if the peer
     * had at most half of the window now open left (as Linux does); with
     * more, it learns of it from the next ACK: here one for an old
     * duplicate, which goes out at once. */
    if (TH_RCV_BUF - 2u * s > TH_RCV_BUF / 2u) {
        th_expect_none(t);
        send_data(t, TH_PEER_ISN, 0, 10, 0);
    }
    p = th_expect_ack(t, TH_PEER_ISN + 1 + 2u * s);
    assert_int_equal(p->tcp.window, th_wfield(&t->c, TH_RCV_BUF));
    th_cleanup(t);
}

/* Accept a connection with a receive buffer of buf bytes (the same in every
 * profile), whose application does not read until told. */
static void accept_lagging(struct th *t, uint32_t buf)
{
    th_listen(t, 4);
    assert_int_equal(kite_tcp_listener_set_buffers(t->listener, 4096, buf), KITE_ERR_OK);
    th_send_syn(t, &t->c, KITE_TCP_SYN);
    th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK);
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_non_null(t->pcb);
    t->hold_window = true;
}

/* A peer left with a quarter of the window hears at once that a read
 * reopened it (RFC 1122 4.2.3.3; Linux's rule of the window doubling). An
 * 8 KiB receive buffer, so the test runs alike in every profile. */
static void read_announced_when_the_peer_runs_short(void **state)
{
    struct th *t = *state;
    const uint32_t buf = 8192u, s = 1000u;
    accept_lagging(t, buf);
    uint32_t got = 0;
    while (got + s <= buf * 3u / 4u) {
        send_data(t, TH_PEER_ISN, got, (uint16_t)s, 0);
        got += s;
    }
    th_drain(t);
    assert_int_equal(t->rx_len, got);
    kite_tcp_recved(t->pcb, got);
    const struct th_pkt *p = th_expect_ack(t, TH_PEER_ISN + 1 + got);
    assert_int_equal(p->tcp.window, th_wfield(&t->c, buf));
    th_expect_none(t);
    th_cleanup(t);
}

/* Sends the peer's segment [off, off + len) and expects an ACK for all so far
 * with the given window, or none (window < 0). */
static void segment_then(struct th *t, uint32_t off, uint32_t len, int32_t window)
{
    send_data(t, TH_PEER_ISN, off, (uint16_t)len, 0);
    if (window < 0) {
        th_expect_none(t);
        return;
    }
    const struct th_pkt *p = th_expect_ack(t, TH_PEER_ISN + 1 + off + len);
    assert_int_equal(p->tcp.window, th_wfield(&t->c, (uint32_t)window));
}

/* A reader that lags behind the stream: once the peer has used half the
 * window, the ACK for a second segment that could not move the right edge
 * waits for the delayed-ACK sweep; after a read has made room to announce,
 * the next one goes at once (as Linux's __tcp_ack_snd_check). An 8 KiB
 * buffer, so the test runs alike in every profile. */
static void lagging_reader_acked_when_the_window_can_move(void **state)
{
    struct th *t = *state;
    const uint32_t buf = 8192u, s = 1000u;
    accept_lagging(t, buf);
    /* More than half the window left: every second segment acknowledged. */
    for (uint32_t off = 0; off < 4u * s; off += 2u * s) {
        segment_then(t, off, s, -1);
        segment_then(t, off + s, s, (int32_t)(buf - off - 2u * s));
    }
    /* Less: the ACK would announce the same right edge, so it waits. */
    segment_then(t, 4u * s, s, -1);
    segment_then(t, 5u * s, s, -1);
    th_advance(t, KITE_TCP_DELACK_MS);
    const struct th_pkt *p = th_expect_ack(t, TH_PEER_ISN + 1 + 6u * s);
    assert_int_equal(p->tcp.window, th_wfield(&t->c, buf - 6u * s));
    /* A read of more than an MSS, not announced by itself (the peer still has
     * more than half of the window it opens) ... */
    kite_tcp_recved(t->pcb, 2u * s);
    th_expect_none(t);
    /* ... moves the right edge with the next ACK, which goes at once. */
    segment_then(t, 6u * s, s, -1);
    segment_then(t, 7u * s, s, (int32_t)(buf - 6u * s));
    th_expect_none(t);
    assert_true(th_rx_matches(t, 0, 8u * s));
    th_cleanup(t);
}

/* Takes PBUF_POOL blocks until exactly `left` are free; how many it took. */
static unsigned pool_leave(struct th *t, struct kite_pbuf **held, unsigned max, unsigned left)
{
    const struct kite_pool *pool = kite_stack_pool(&t->stack, KITE_POOL_PBUF_POOL);
    unsigned n = 0;
    while ((unsigned)(pool->count - pool->used) > left) {
        assert_true(n < max);
        held[n] = kite_pbuf_alloc(&t->stack, 0, KITE_PBUF_POOL_BUFSIZE, KITE_PBUF_POOL);
        assert_non_null(held[n]);
        n++;
    }
    assert_int_equal(pool->count - pool->used, left);
    return n;
}

static void pool_give_back(struct th *t, struct kite_pbuf **held, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        kite_pbuf_free(&t->stack, held[i]);
}

/* In-order data is kept only while it leaves a pool block free (for a
 * write on a connection with nothing queued); otherwise it is dropped,
 * counted and not acknowledged: the peer sends it again. */
static void data_leaves_the_pool_a_block(void **state)
{
    struct th *t = *state;
    th_establish(t);
    t->hold_window = true;
    struct kite_pbuf *held[KITE_PBUF_POOL_COUNT];
    /* One free: the segment's own block would be the last. */
    unsigned n = pool_leave(t, held, KITE_PBUF_POOL_COUNT, 1);
    send_data(t, TH_PEER_ISN, 0, 100, KITE_TCP_PSH);
    assert_int_equal(t->rx_len, 0);
    assert_int_equal(t->stack.stats.tcp.drop_no_mem, 1);
    th_expect_none(t);
    /* Two free: kept. */
    kite_pbuf_free(&t->stack, held[--n]);
    send_data(t, TH_PEER_ISN, 0, 100, KITE_TCP_PSH);
    assert_int_equal(t->rx_len, 100);
    assert_true(th_rx_matches(t, 0, 100));
    pool_give_back(t, held, n);
    th_advance(t, KITE_TCP_DELACK_MS);
    th_expect_ack(t, TH_PEER_ISN + 1 + 100);
    th_cleanup(t);
}

/* Out-of-order data holding the pool does not keep out the segment that
 * fills its hole: it is given back (RFC 2018 8) and the in-order data kept.
 * Regression: min_ram's kite-host under 1 % loss stalled for good, its
 * pool full of out-of-order echo data, every retransmission of the hole
 * dropped. */
static void in_order_data_reclaims_out_of_order(void **state)
{
    struct th *t = *state;
    th_establish(t);
    t->hold_window = true;
    send_data(t, TH_PEER_ISN, 100, 100, 0); /* a hole at 0 */
    th_drain(t);
    struct kite_pbuf *held[KITE_PBUF_POOL_COUNT];
    unsigned n = pool_leave(t, held, KITE_PBUF_POOL_COUNT, 1);
    send_data(t, TH_PEER_ISN, 0, 100, KITE_TCP_PSH);
    assert_int_equal(t->rx_len, 100);
    assert_true(th_rx_matches(t, 0, 100));
    assert_int_equal(t->stack.stats.tcp.ooo_reclaimed, 1);
    assert_int_equal(t->stack.stats.tcp.drop_no_mem, 0);
    pool_give_back(t, held, n);
    th_drain(t);
    th_cleanup(t);
}

/* A connection with nothing queued may write into the pool's last block:
 * it has no ACK to wait for, and a pool held by unread data would block it
 * for ever (min_ram's tcp_server example stalled echoing 64 KiB). Its ACK
 * still gets in with the pool empty, in a RAM block (kite_pbuf_alloc_rx).
 * With data queued, a write that needs another block waits for that ACK. */
static void empty_queue_writes_into_the_last_block(void **state)
{
    struct th *t = *state;
    th_establish(t);
    struct kite_pbuf *held[KITE_PBUF_POOL_COUNT];
    unsigned n = pool_leave(t, held, KITE_PBUF_POOL_COUNT, 1);
    static uint8_t data[KITE_PBUF_POOL_BUFSIZE];
    assert_int_equal(kite_tcp_write(t->pcb, data, 10, KITE_TCP_WRITE_COPY), KITE_ERR_OK);
    uint16_t big = (uint16_t)TH_MIN(KITE_PBUF_POOL_BUFSIZE, kite_tcp_sndbuf(t->pcb));
    if (big > KITE_PBUF_POOL_BUFSIZE - 10u) /* (more than the first block's room) */
        assert_int_equal(kite_tcp_write(t->pcb, data, big, KITE_TCP_WRITE_COPY),
                         KITE_ERR_WOULDBLOCK);
    assert_int_equal(kite_tcp_output(t->pcb), KITE_ERR_OK);
    const struct th_pkt *p = th_expect(t, KITE_TCP_ACK | KITE_TCP_PSH);
    assert_int_equal(p->len, 10);
    th_send_at(t, &t->c, KITE_TCP_ACK, t->c.seq, t->c.our_iss + 1 + 10, NULL, 0);
    assert_int_equal(t->sent_acked, 10);
    pool_give_back(t, held, n);
    th_drain(t);
    th_cleanup(t);
}

/* A checksum that folds to zero may arrive as 0xffff: Linux's
 * skb_checksum_help writes it so (CSUM_MANGLED_0), about one frame in
 * 65 536 over a plain TAP device, and in one's complement it equals 0x0000
 * (RFC 1071). Accepted; a wrong checksum is still dropped. */
static void checksum_ffff_is_zero(void **state)
{
    struct th *t = *state;
    th_establish(t);
    struct kite_tcp_repr h = th_hdr(&t->c, KITE_TCP_ACK | KITE_TCP_PSH, TH_PEER_ISN + 1, t->c.ack);
    uint8_t pkt[KITE_IPV4_HLEN + KITE_TCP_MAX_HLEN + 2], word[2] = {0, 0};
    uint16_t len = th_build(&t->c, &h, word, 2, pkt, sizeof pkt);
    uint8_t *cksum = pkt + KITE_IPV4_HLEN + 16;
    kite_put_be16(word, kite_get_be16(cksum)); /* the payload that makes the sum zero */
    len = th_build(&t->c, &h, word, 2, pkt, sizeof pkt);
    assert_int_equal(kite_get_be16(cksum), 0);
    kite_put_be16(cksum, 0x1234);
    th_inject(t, pkt, len);
    assert_int_equal(t->stack.stats.tcp.drop_bad_checksum, 1);
    assert_int_equal(t->rx_len, 0);
    kite_put_be16(cksum, 0xffff);
    th_inject(t, pkt, len);
    assert_int_equal(t->stack.stats.tcp.drop_bad_checksum, 1);
    assert_int_equal(t->rx_len, 2);
    th_drain(t);
    th_cleanup(t);
}

static void peer_sequence_wraps(void **state)
{
    struct th *t = *state;
    const uint32_t isn = 0xfffffff0u;
    t->c.seq = isn;
    th_establish(t);
    /* Out of order across the wrap: the second half (seq 0x00000023) first. */
    send_data(t, isn, 50, 50, 0);
    const struct th_pkt *p = th_expect_ack(t, isn + 1);
    assert_int_equal(p->tcp.sack[0].left, isn + 1 + 50);
    assert_int_equal(p->tcp.sack[0].right, 0x55u);
    send_data(t, isn, 0, 50, 0);
    th_expect_ack(t, 0x55u);
    assert_int_equal(t->rx_len, 100);
    assert_true(th_rx_matches(t, 0, 100));
    /* In order, a segment straddling the wrap again after a stream of data. */
    t->c.seq = 0x55u;
    const uint32_t s = TH_MIN(1000u, (TH_RCV_BUF - 100u) / 4u); /* all within the window */
    const uint32_t total = 100u + 4u * s;
    for (uint32_t off = 100; off < total; off += s)
        send_data(t, isn, off, (uint16_t)s, 0);
    th_drain(t);
    assert_int_equal(t->rx_len, total);
    assert_true(th_rx_matches(t, 0, total));
    /* An old duplicate from before the wrap is still recognised as old. */
    send_data(t, isn, 0, 10, 0);
    th_expect_ack(t, isn + 1 + total);
    assert_int_equal(t->rx_len, total);
    /* FIN after the wrap. */
    th_send_at(t, &t->c, KITE_TCP_ACK | KITE_TCP_FIN, isn + 1 + total, t->c.ack, NULL, 0);
    th_expect_ack(t, isn + 1 + total + 1);
    assert_int_equal(t->fins, 1);
    th_cleanup(t);
}

static void paws_drops_old_timestamp(void **state)
{
    struct th *t = *state;
    t->c.ts = true;
    th_establish(t);
    send_data(t, TH_PEER_ISN, 0, 100, 0);
    th_advance(t, KITE_TCP_DELACK_MS);
    const struct th_pkt *p = th_expect_ack(t, TH_PEER_ISN + 101);
    assert_true(p->tcp.opts & KITE_TCP_HAS_TIMESTAMP);
    assert_int_equal(p->tcp.ts_ecr, t->c.ts_val - 1);
    /* A segment whose TSval is older than TS.Recent: dropped, ACKed (RFC 7323 5.3). */
    uint32_t now_ts = t->c.ts_val;
    t->c.ts_val = now_ts - 100;
    send_data(t, TH_PEER_ISN, 100, 100, 0);
    assert_int_equal(t->stack.stats.tcp.drop_paws, 1);
    assert_int_equal(t->rx_len, 100);
    p = th_expect_ack(t, TH_PEER_ISN + 101);
    assert_int_equal(p->tcp.ts_ecr, now_ts - 1); /* TS.Recent unchanged */
    /* The same data with a current timestamp is taken. */
    t->c.ts_val = now_ts;
    send_data(t, TH_PEER_ISN, 100, 100, 0);
    assert_int_equal(t->rx_len, 200);
    /* A timestamp wrapped around 2^31 ahead is "older" too. */
    t->c.ts_val = now_ts + 0x80000001u;
    send_data(t, TH_PEER_ISN, 200, 100, 0);
    assert_int_equal(t->stack.stats.tcp.drop_paws, 2);
    assert_int_equal(t->rx_len, 200);
    th_drain(t);
    /* An RST is not subject to PAWS (RFC 7323 5.3 R1). */
    t->c.ts_val = now_ts - 1000;
    th_send_at(t, &t->c, KITE_TCP_RST, TH_PEER_ISN + 201, 0, NULL, 0);
    assert_int_equal(t->errs, 1);
    assert_int_equal(t->err, KITE_ERR_RESET);
    assert_int_equal(th_pcbs_used(t), 1);
    th_cleanup(t);
}

static void data_in_third_ack_of_handshake(void **state)
{
    struct th *t = *state;
    th_listen(t, 4);
    th_open_syn(t, &t->c);
    static uint8_t buf[300];
    th_fill(buf, sizeof buf, 0);
    th_send(t, KITE_TCP_ACK | KITE_TCP_PSH, buf, sizeof buf);
    assert_int_equal(t->accepts, 1);
    assert_int_equal(t->rx_len, 300);
    assert_true(th_rx_matches(t, 0, 300));
    th_advance(t, KITE_TCP_DELACK_MS);
    th_expect_ack(t, TH_PEER_ISN + 301);
    th_cleanup(t);
}

TH_TESTS(TH_TEST(in_order_data_delivered), TH_TEST(delayed_ack_timer),
         TH_TEST(every_second_full_segment_acked_at_once),
         TH_TEST(reading_in_callback_sends_one_ack), TH_TEST(out_of_order_gets_dup_ack_with_sack),
         TH_TEST(out_of_order_without_sack), TH_TEST(old_duplicate_acked_not_delivered_twice),
         TH_TEST(segment_beyond_window_trimmed_and_zero_window),
         TH_TEST(window_field_tracks_unread_data), TH_TEST(read_announced_when_the_peer_runs_short),
         TH_TEST(lagging_reader_acked_when_the_window_can_move),
         TH_TEST(data_leaves_the_pool_a_block), TH_TEST(in_order_data_reclaims_out_of_order),
         TH_TEST(empty_queue_writes_into_the_last_block), TH_TEST(checksum_ffff_is_zero),
         TH_TEST(peer_sequence_wraps), TH_TEST(paws_drops_old_timestamp),
         TH_TEST(data_in_third_ack_of_handshake))
