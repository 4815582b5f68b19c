/* SPDX-License-Identifier: BSD-3-Clause */
/* Closing fed segment by segment (RFC 9293 3.6): active, passive and
 * simultaneous close, half-close, data after close, TIME_WAIT (2 MSL,
 * retransmitted FINs, recycling when pcbs run out) and connections aborted
 * when their address goes away. */
#include "tcp_harness.h"

static void active_close(void **state)
{
    struct th *t = *state;
    struct kite_tcp_pcb *pcb = th_establish(t);
    uint32_t fin_seq = t->c.ack;
    assert_int_equal(kite_tcp_owing_count(&t->stack), 1); /* open */
    assert_int_equal(kite_tcp_close(pcb), KITE_ERR_OK);
    t->pcb = NULL; /* the stack owns it now */
    const struct th_pkt *p = th_expect(t, KITE_TCP_FIN | KITE_TCP_ACK);
    assert_int_equal(p->tcp.seq, fin_seq);
    assert_int_equal(p->tcp.ack, t->c.seq);
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_FIN_WAIT_1);
    assert_int_equal(kite_tcp_owing_count(&t->stack), 1); /* the FIN is not acknowledged */
    /* The FIN is retransmitted like data. */
    kite_time_ms d = kite_stack_next_deadline(&t->stack);
    th_advance_to(t, d);
    p = th_expect(t, KITE_TCP_FIN | KITE_TCP_ACK);
    assert_int_equal(p->tcp.seq, fin_seq);
    /* ACK of the FIN: FIN_WAIT_2. */
    th_send(t, KITE_TCP_ACK, NULL, 0);
    th_expect_none(t);
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_FIN_WAIT_2);
    assert_int_equal(kite_tcp_owing_count(&t->stack), 0); /* nothing more to deliver */
    /* The peer's FIN: ACK at once, TIME_WAIT for 2 MSL. */
    th_advance(t, 1000);
    kite_time_ms t0 = t->stack.now;
    th_send(t, KITE_TCP_FIN | KITE_TCP_ACK, NULL, 0);
    th_expect_ack(t, t->c.seq);
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_TIME_WAIT);
    assert_int_equal(t->fins, 0); /* closed: no recv callback */
    th_advance_to(t, t0 + 2u * KITE_TCP_MSL_MS - 1);
    assert_int_equal(th_pcbs_used(t), 2);
    th_advance_to(t, t0 + 2u * KITE_TCP_MSL_MS);
    assert_int_equal(th_pcbs_used(t), 1);
    assert_int_equal(t->errs, 0);
    th_expect_none(t);
    th_cleanup(t);
}

static void fin_retransmitted_in_time_wait(void **state)
{
    struct th *t = *state;
    struct kite_tcp_pcb *pcb = th_establish(t);
    assert_int_equal(kite_tcp_close(pcb), KITE_ERR_OK);
    t->pcb = NULL;
    th_expect(t, KITE_TCP_FIN | KITE_TCP_ACK);
    th_send(t, KITE_TCP_FIN | KITE_TCP_ACK, NULL, 0);
    th_expect_ack(t, t->c.seq);
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_TIME_WAIT);
    /* Our ACK was lost: the peer's FIN again is ACKed and 2 MSL restarts. */
    th_advance(t, KITE_TCP_MSL_MS);
    kite_time_ms t1 = t->stack.now;
    th_send_at(t, &t->c, KITE_TCP_FIN | KITE_TCP_ACK, t->c.seq - 1, t->c.ack, NULL, 0);
    th_expect_ack(t, t->c.seq);
    /* The retransmitted FIN (SEQ = RCV.NXT - 1) would fail the acceptability
     * test; it must still restart the 2 MSL timeout (RFC 9293 3.10.7.4
     * eighth, TIME-WAIT), not only be ACKed. */
    th_advance_to(t, t1 + 2u * KITE_TCP_MSL_MS - 1);
    assert_int_equal(th_pcbs_used(t), 2);
    th_advance_to(t, t1 + 2u * KITE_TCP_MSL_MS);
    assert_int_equal(th_pcbs_used(t), 1);
    th_cleanup(t);
}

static void fin_wait_2_does_not_wait_forever(void **state)
{
    struct th *t = *state;
    struct kite_tcp_pcb *pcb = th_establish(t);
    assert_int_equal(kite_tcp_close(pcb), KITE_ERR_OK);
    t->pcb = NULL;
    th_expect(t, KITE_TCP_FIN | KITE_TCP_ACK);
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_FIN_WAIT_2);
    th_run(t, 2u * KITE_TCP_MSL_MS);
    assert_int_equal(th_pcbs_used(t), 1);
    th_cleanup(t);
}

static void passive_close(void **state)
{
    struct th *t = *state;
    struct kite_tcp_pcb *pcb = th_establish(t);
    th_send(t, KITE_TCP_FIN | KITE_TCP_ACK, NULL, 0);
    th_expect_ack(t, t->c.seq); /* a FIN is ACKed at once */
    assert_int_equal(t->fins, 1);
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_CLOSE_WAIT);
    /* We may still send. */
    assert_int_equal(kite_tcp_write(pcb, "bye", 3, KITE_TCP_WRITE_COPY), KITE_ERR_OK);
    assert_int_equal(kite_tcp_output(pcb), KITE_ERR_OK);
    const struct th_pkt *p = th_expect(t, KITE_TCP_ACK | KITE_TCP_PSH);
    assert_int_equal(p->len, 3);
    assert_int_equal(kite_tcp_close(pcb), KITE_ERR_OK);
    t->pcb = NULL;
    p = th_expect(t, KITE_TCP_FIN | KITE_TCP_ACK);
    assert_int_equal(p->tcp.seq + 1, t->c.ack);
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_LAST_ACK);
    /* An ACK of the data only: still LAST_ACK. */
    th_send_at(t, &t->c, KITE_TCP_ACK, t->c.seq, t->c.ack - 1, NULL, 0);
    assert_int_equal(th_pcbs_used(t), 2);
    /* The ACK of our FIN frees it at once, without an err callback. */
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_int_equal(th_pcbs_used(t), 1);
    assert_int_equal(t->errs, 0);
    th_expect_none(t);
    th_cleanup(t);
}

static void simultaneous_close(void **state)
{
    struct th *t = *state;
    struct kite_tcp_pcb *pcb = th_establish(t);
    assert_int_equal(kite_tcp_close(pcb), KITE_ERR_OK);
    t->pcb = NULL;
    th_expect(t, KITE_TCP_FIN | KITE_TCP_ACK);
    /* The peer's FIN crossed ours: it acknowledges only our data. */
    th_send_at(t, &t->c, KITE_TCP_FIN | KITE_TCP_ACK, t->c.seq, t->c.ack - 1, NULL, 0);
    t->c.seq++;
    th_expect_ack(t, t->c.seq);
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_CLOSING);
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_TIME_WAIT);
    th_expect_none(t);
    th_run(t, 2u * KITE_TCP_MSL_MS);
    assert_int_equal(th_pcbs_used(t), 1);
    th_cleanup(t);
}

static void half_close_still_receives(void **state)
{
    struct th *t = *state;
    struct kite_tcp_pcb *pcb = th_establish(t);
    assert_int_equal(kite_tcp_shutdown(pcb, false, true), KITE_ERR_OK);
    th_expect(t, KITE_TCP_FIN | KITE_TCP_ACK);
    /* Writing after shutdown fails: the sending side is closed. */
    assert_int_equal(kite_tcp_write(pcb, "x", 1, KITE_TCP_WRITE_COPY), KITE_ERR_CLOSED);
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_FIN_WAIT_2);
    /* Two full segments (that fill the smallest window), then 80 bytes and FIN. */
    const uint16_t m = (uint16_t)TH_MIN(TH_SMSS, TH_RCV_BUF / 2u);
    static uint8_t buf[2 * TH_MSS + 80];
    th_fill(buf, sizeof buf, 0);
    th_send(t, KITE_TCP_ACK, buf, m);
    th_send(t, KITE_TCP_ACK, buf + m, m);
    th_expect_last_ack(t, t->c.seq);
    assert_int_equal(t->rx_len, 2u * m);
    assert_true(th_rx_matches(t, 0, 2u * m));
    th_send(t, KITE_TCP_FIN | KITE_TCP_ACK | KITE_TCP_PSH, buf + 2 * m, 80);
    th_expect_last_ack(t, t->c.seq);
    assert_int_equal(t->rx_len, 2u * m + 80);
    assert_true(th_rx_matches(t, 0, 2u * m + 80));
    assert_int_equal(t->fins, 1);
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_TIME_WAIT);
    assert_int_equal(kite_tcp_close(pcb), KITE_ERR_OK);
    t->pcb = NULL;
    th_run(t, 2u * KITE_TCP_MSL_MS);
    assert_int_equal(th_pcbs_used(t), 1);
    assert_int_equal(t->errs, 0);
    th_cleanup(t);
}

static void peer_half_close_we_keep_sending(void **state)
{
    struct th *t = *state;
    struct kite_tcp_pcb *pcb = th_establish(t);
    th_send(t, KITE_TCP_FIN | KITE_TCP_ACK, NULL, 0);
    th_expect_ack(t, t->c.seq);
    kite_tcp_set_nodelay(pcb, true);
    /* 4000 bytes, or a full send buffer when it is smaller. */
    static uint8_t buf[4000];
    const uint16_t n = (uint16_t)TH_MIN(sizeof buf, TH_SND_BUF);
    th_fill(buf, n, 0);
    assert_int_equal(kite_tcp_write(pcb, buf, n, KITE_TCP_WRITE_COPY), KITE_ERR_OK);
    assert_int_equal(kite_tcp_output(pcb), KITE_ERR_OK);
    uint32_t got = 0;
    struct th_pkt p;
    while (th_next(t, &p)) {
        assert_true(p.len <= TH_SMSS);
        assert_memory_equal(p.data, buf + got, p.len);
        got += p.len;
    }
    assert_int_equal(got, n);
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_int_equal(t->sent_acked, n);
    assert_int_equal(kite_tcp_close(pcb), KITE_ERR_OK);
    t->pcb = NULL;
    th_expect(t, KITE_TCP_FIN | KITE_TCP_ACK);
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_int_equal(th_pcbs_used(t), 1);
    th_cleanup(t);
}

static void data_after_close_gets_rst(void **state)
{
    struct th *t = *state;
    struct kite_tcp_pcb *pcb = th_establish(t);
    assert_int_equal(kite_tcp_close(pcb), KITE_ERR_OK);
    t->pcb = NULL;
    th_expect(t, KITE_TCP_FIN | KITE_TCP_ACK);
    uint32_t snd_nxt = t->c.ack;
    /* Nobody will read this (RFC 9293 3.10.4, RFC 1122 4.2.2.13): reset. */
    th_send(t, KITE_TCP_ACK | KITE_TCP_PSH, "late", 4);
    const struct th_pkt *p = th_expect(t, KITE_TCP_RST | KITE_TCP_ACK);
    assert_int_equal(p->tcp.seq, snd_nxt);
    assert_int_equal(t->stack.stats.tcp.drop_after_close, 1);
    assert_int_equal(th_pcbs_used(t), 1);
    assert_int_equal(t->errs, 0);
    th_expect_none(t);
    th_cleanup(t);
}

static void abort_sends_rst_and_frees(void **state)
{
    struct th *t = *state;
    struct kite_tcp_pcb *pcb = th_establish(t);
    assert_int_equal(kite_tcp_write(pcb, "pending", 7, KITE_TCP_WRITE_COPY), KITE_ERR_OK);
    uint32_t snd_nxt = t->c.ack;
    kite_tcp_abort(pcb);
    t->pcb = NULL;
    const struct th_pkt *p = th_expect(t, KITE_TCP_RST | KITE_TCP_ACK);
    assert_int_equal(p->tcp.seq, snd_nxt);
    assert_int_equal(p->tcp.ack, t->c.seq);
    assert_int_equal(t->errs, 0);
    assert_int_equal(th_pcbs_used(t), 1);
    /* Anything the peer sends now meets a closed port. */
    th_send(t, KITE_TCP_ACK, "x", 1);
    th_expect(t, KITE_TCP_RST);
    th_cleanup(t);
}

/* ---- TIME_WAIT recycling --------------------------------------------------------- */

static void time_wait_recycled_when_pcbs_run_out(void **state)
{
    struct th *t = *state;
    static struct th_conn conns[KITE_TCP_PCB_COUNT + 1];
    th_listen(t, KITE_TCP_PCB_COUNT);
    /* Connection 0 goes to TIME_WAIT (we closed first). */
    struct kite_tcp_pcb *tw = th_accept_c(t, &t->c);
    assert_int_equal(kite_tcp_close(tw), KITE_ERR_OK);
    t->pcb = NULL;
    th_expect(t, KITE_TCP_FIN | KITE_TCP_ACK);
    th_send(t, KITE_TCP_FIN | KITE_TCP_ACK, NULL, 0);
    th_expect_ack(t, t->c.seq);
    assert_int_equal(kite_tcp_get_state(tw), KITE_TCP_TIME_WAIT);
    /* Fill every other pcb with established connections. */
    unsigned n = 0;
    while (th_conns_used(t) < KITE_TCP_PCB_COUNT) {
        th_conn_init(&conns[n], (uint16_t)(TH_PEER_PORT + 1 + n));
        th_conn_add(t, &conns[n]);
        th_accept_c(t, &conns[n]);
        n++;
    }
    assert_int_equal(n, KITE_TCP_PCB_COUNT - 1u); /* the TIME_WAIT pcb holds the last */
    /* One more: the TIME_WAIT pcb is recycled. */
    th_conn_init(&conns[n], (uint16_t)(TH_PEER_PORT + 1 + n));
    th_conn_add(t, &conns[n]);
    th_accept_c(t, &conns[n]);
    assert_int_equal(t->stack.stats.tcp.tw_recycled, 1);
    assert_int_equal(th_conns_used(t), KITE_TCP_PCB_COUNT);
    /* With no TIME_WAIT left, a further SYN gets a SYN cookie (RFC 4987), and
     * its ACK, with no half-open connection to give way, a reset. */
    struct th_conn extra;
    th_conn_init(&extra, TH_PEER_PORT + 100);
    th_conn_add(t, &extra);
    th_send_syn(t, &extra, KITE_TCP_SYN);
    th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK);
    assert_int_equal(t->stack.stats.tcp.syn_cookies_sent, 1);
    th_send_c(t, &extra, KITE_TCP_ACK, NULL, 0);
    th_expect(t, KITE_TCP_RST);
    assert_int_equal(t->stack.stats.tcp.drop_listen_no_pcb, 1);
    assert_int_equal(t->stack.stats.tcp.tw_recycled, 1);
    /* The recycled connection's old peer now meets a closed port. */
    th_send_at(t, &t->c, KITE_TCP_ACK, t->c.seq, t->c.ack, NULL, 0);
    th_expect(t, KITE_TCP_RST);
    for (unsigned i = 1; i <= n + 1; i++)
        kite_tcp_abort(t->accepted[i]);
    t->pcb = NULL;
    th_cleanup(t);
}

/* ---- Address changes ---------------------------------------------------------------- */

static void address_change_aborts_connections(void **state)
{
    struct th *t = *state;
    th_establish(t);
    assert_int_equal(kite_netif_set_ipv4(&t->cif.netif, TH_US2, 24, 0), KITE_ERR_OK);
    assert_int_equal(t->errs, 1);
    assert_int_equal(t->err, KITE_ERR_ABORTED);
    assert_int_equal(th_pcbs_used(t), 1);
    th_drain(t);
    /* The wildcard listener serves the new address. */
    struct th_conn c2;
    th_conn_init(&c2, TH_PEER_PORT + 1);
    c2.our_ip = TH_US2;
    th_conn_add(t, &c2);
    th_accept_c(t, &c2);
    /* The old address is gone: a segment to it is not for us. */
    th_send(t, KITE_TCP_ACK, "x", 1);
    th_expect_none(t);
    th_cleanup(t);
}

static void address_change_aborts_active_open(void **state)
{
    struct th *t = *state;
    th_connect(t);
    assert_int_equal(kite_netif_set_ipv4(&t->cif.netif, TH_US2, 24, 0), KITE_ERR_OK);
    assert_int_equal(t->errs, 1);
    assert_int_equal(t->err, KITE_ERR_ABORTED);
    assert_null(t->pcb);
    /* Its address is gone: freed silently, no reset from it. */
    th_expect_none(t);
    assert_int_equal(th_pcbs_used(t), 0);
}

TH_TESTS(TH_TEST(active_close), TH_TEST(fin_retransmitted_in_time_wait),
         TH_TEST(fin_wait_2_does_not_wait_forever), TH_TEST(passive_close),
         TH_TEST(simultaneous_close), TH_TEST(half_close_still_receives),
         TH_TEST(peer_half_close_we_keep_sending), TH_TEST(data_after_close_gets_rst),
         TH_TEST(abort_sends_rst_and_frees), TH_TEST(time_wait_recycled_when_pcbs_run_out),
         TH_TEST(address_change_aborts_connections), TH_TEST(address_change_aborts_active_open))
