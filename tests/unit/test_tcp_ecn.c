/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Explicit Congestion Notification (RFC 3168) fed segment by segment:
 * negotiation on SYN / SYN-ACK (6.1.1), ECT(0) on new data only (6.1.4-6.1.5),
 * CE echoed with ECE until CWR (6.1.3), and the sender's window reduced once
 * per window of data with CWR on its next new segment (6.1.2). With
 * KITE_TCP_ECN 0 the same scripts expect ECN never to be used.
 */
#include "../../src/transport/tcp_priv.h" /* white box: cwnd, ssthresh */
#include "tcp_harness.h"

#define ECT0 0x02u
#define CE 0x03u
#define ECN_SYN (KITE_TCP_ECE | KITE_TCP_CWR)

static uint8_t data[4096];

/* A passive open whose peer asks for ECN (its SYN carries ECE and CWR). */
static struct kite_tcp_pcb *accept_with_ecn(struct th *t)
{
    th_listen(t, 4);
    struct kite_tcp_repr h = th_hdr(&t->c, KITE_TCP_SYN | ECN_SYN, t->c.seq, 0);
    h.opts = KITE_TCP_HAS_MSS;
    h.mss = 200; /* small segments: several fit every profile's buffers */
    th_send_hdr(t, &t->c, &h, NULL, 0);
    t->c.seq++;
    const struct th_pkt *sa =
        th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK | (KITE_TCP_ECN ? KITE_TCP_ECE : 0));
    assert_int_equal(sa->ip.tos & 3u, 0); /* RFC 3168 6.1.1: SYN-ACKs are not ECT */
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_non_null(t->pcb);
    kite_tcp_set_nodelay(t->pcb, true);
    return t->pcb;
}

static void negotiated_on_passive_open(void **state)
{
    struct th *t = *state;
    struct kite_tcp_pcb *pcb = accept_with_ecn(t);
    assert_int_equal((pcb->flags & KITE_TCPF_ECN) != 0, KITE_TCP_ECN);
    /* New data is ECT(0); a pure ACK is not. */
    assert_int_equal(kite_tcp_write(pcb, data, 100, 0), KITE_ERR_OK);
    assert_int_equal(kite_tcp_output(pcb), KITE_ERR_OK);
    const struct th_pkt *p = th_expect(t, KITE_TCP_ACK | KITE_TCP_PSH);
    assert_int_equal(p->ip.tos & 3u, KITE_TCP_ECN ? ECT0 : 0u);
    th_send(t, KITE_TCP_ACK | KITE_TCP_PSH, "hi", 2);
    th_run(t, 1000);
    p = th_expect(t, KITE_TCP_ACK);
    assert_int_equal(p->ip.tos & 3u, 0);
    th_cleanup(t);
}

static void not_used_unless_asked(void **state)
{
    struct th *t = *state;
    th_listen(t, 4);
    th_send_syn(t, &t->c, KITE_TCP_SYN);
    th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK); /* no ECE */
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_int_equal(kite_tcp_write(t->pcb, data, 100, 0), KITE_ERR_OK);
    assert_int_equal(kite_tcp_output(t->pcb), KITE_ERR_OK);
    const struct th_pkt *p = th_expect(t, KITE_TCP_ACK | KITE_TCP_PSH);
    assert_int_equal(p->ip.tos & 3u, 0);
    assert_false(t->pcb->flags & KITE_TCPF_ECN);
    th_cleanup(t);
}

/* RFC 3168 6.1.3: CE is echoed with ECE on every ACK until CWR arrives. */
static void ce_echoed_until_cwr(void **state)
{
    struct th *t = *state;
    accept_with_ecn(t);
    t->c.ip_tos = CE;
    th_send(t, KITE_TCP_ACK | KITE_TCP_PSH, "abc", 3);
    t->c.ip_tos = ECT0;
    const uint8_t ece = KITE_TCP_ECN ? KITE_TCP_ECE : 0;
    if (KITE_TCP_ECN) /* CE is acknowledged at once */
        assert_int_equal(th_expect(t, KITE_TCP_ACK | ece)->tcp.ack, t->c.seq);
    th_send(t, KITE_TCP_ACK | KITE_TCP_PSH, "def", 3);
    th_run(t, 1000);
    th_expect_last_ack(t, t->c.seq);
    assert_int_equal(t->last.tcp.flags, KITE_TCP_ACK | ece); /* still echoing */
    th_send(t, KITE_TCP_ACK | KITE_TCP_PSH | KITE_TCP_CWR, "ghi", 3);
    th_run(t, 1000);
    th_expect_last_ack(t, t->c.seq);
    assert_int_equal(t->last.tcp.flags, KITE_TCP_ACK); /* CWR stops it */
    assert_int_equal(t->stack.stats.tcp.ecn_ce_rx, KITE_TCP_ECN ? 1u : 0u);
    assert_int_equal(t->rx_len, 9);
    th_cleanup(t);
}

/* RFC 3168 6.1.2: ECE halves the window (beta of the congestion control) once
 * per window of data; the next new segment carries CWR. */
static void ece_reduces_window_once_per_window(void **state)
{
    struct th *t = *state;
    struct kite_tcp_pcb *pcb = accept_with_ecn(t);
    uint32_t seg = pcb->mss;
    assert_int_equal(kite_tcp_write(pcb, data, (uint16_t)(4u * seg), 0), KITE_ERR_OK);
    assert_int_equal(kite_tcp_output(pcb), KITE_ERR_OK);
    th_drain(t);
    uint32_t una = t->c.our_iss + 1;
    uint32_t cwnd = pcb->cwnd;
    th_send_at(t, &t->c, KITE_TCP_ACK | KITE_TCP_ECE, t->c.seq, una + seg, NULL, 0);
    if (!KITE_TCP_ECN) {
        assert_true(pcb->cwnd >= cwnd); /* no ECN: ECE means nothing */
        th_cleanup(t);
        return;
    }
    assert_int_equal(t->stack.stats.tcp.ecn_reductions, 1);
    assert_true(pcb->cwnd < cwnd);
    assert_int_equal(pcb->cwnd, pcb->ssthresh);
    uint32_t reduced = pcb->cwnd;
    /* More ECE in the same window of data: no second reduction. */
    th_send_at(t, &t->c, KITE_TCP_ACK | KITE_TCP_ECE, t->c.seq, una + 2u * seg, NULL, 0);
    assert_int_equal(t->stack.stats.tcp.ecn_reductions, 1);
    assert_true(pcb->cwnd >= reduced);
    /* The next new data segment says CWR, and only that one. */
    th_drain(t);
    assert_int_equal(kite_tcp_write(pcb, data, (uint16_t)seg, 0), KITE_ERR_OK);
    assert_int_equal(kite_tcp_output(pcb), KITE_ERR_OK);
    th_send_at(t, &t->c, KITE_TCP_ACK, t->c.seq, una + 4u * seg, NULL, 0);
    struct th_pkt p;
    unsigned cwr = 0, segs = 0;
    while (th_next(t, &p)) {
        segs += p.len > 0;
        cwr += (p.tcp.flags & KITE_TCP_CWR) != 0;
    }
    assert_true(segs >= 1);
    assert_int_equal(cwr, 1);
    th_cleanup(t);
}

/* RFC 3168 6.1.1: an active open asks with ECE|CWR; a SYN-ACK with ECE
 * alone agrees, one with both set (a reflector) does not. */
static void active_open_negotiation(void **state)
{
    struct th *t = *state;
    for (int reflect = 0; reflect <= 1; reflect++) {
        struct kite_tcp_pcb *pcb = kite_tcp_new(&t->stack);
        th_callbacks(t, pcb);
        assert_int_equal(kite_tcp_set_ecn(pcb, true), KITE_TCP_ECN ? KITE_ERR_OK : KITE_ERR_VAL);
        struct kite_addr peer = KITE_ADDR_V4(TH_PEER);
        th_conn_init(&t->c, (uint16_t)(TH_PEER_PORT + reflect));
        t->c.dport = 0;
        assert_int_equal(kite_tcp_connect(pcb, &peer, (uint16_t)(TH_PEER_PORT + reflect)),
                         KITE_ERR_OK);
        th_expect(t, KITE_TCP_SYN | (KITE_TCP_ECN ? ECN_SYN : 0));
        uint8_t f = KITE_TCP_SYN | KITE_TCP_ACK | KITE_TCP_ECE | (reflect ? KITE_TCP_CWR : 0);
        struct kite_tcp_repr h = th_hdr(&t->c, f, t->c.seq, t->c.ack);
        h.opts = KITE_TCP_HAS_MSS;
        h.mss = 1000;
        th_send_hdr(t, &t->c, &h, NULL, 0);
        t->c.seq++;
        th_expect_ack(t, t->c.seq);
        assert_int_equal((pcb->flags & KITE_TCPF_ECN) != 0, KITE_TCP_ECN && !reflect);
        kite_tcp_abort(pcb);
        th_drain(t);
        t->pcb = NULL;
    }
    th_cleanup(t);
}

/* A SYN cookie keeps ECN in its timestamp (Linux's encoding, bit 5). */
static void cookie_keeps_ecn(void **state)
{
    struct th *t = *state;
    th_listen(t, 1);
    struct th_conn half;
    th_conn_init(&half, 30000);
    half.peer_ip = KITE_IP4(192, 0, 2, 99);
    th_send_syn(t, &half, KITE_TCP_SYN); /* fills the backlog: next SYN gets a cookie */
    th_drain(t);
    t->c.ts = true;
    struct kite_tcp_repr h = th_hdr(&t->c, KITE_TCP_SYN | ECN_SYN, t->c.seq, 0);
    h.opts = KITE_TCP_HAS_MSS | KITE_TCP_HAS_TIMESTAMP;
    h.mss = 1000;
    h.ts_val = t->c.ts_val++;
    th_send_hdr(t, &t->c, &h, NULL, 0);
    t->c.seq++;
    th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK | (KITE_TCP_ECN ? KITE_TCP_ECE : 0));
    assert_int_equal(t->stack.stats.tcp.syn_cookies_sent, 1);
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_int_equal(t->stack.stats.tcp.syn_cookies_ok, 1);
    assert_int_equal((t->pcb->flags & KITE_TCPF_ECN) != 0, KITE_TCP_ECN);
    struct kite_tcp_pcb *pcb = kite__tcp_next(&t->stack, NULL);
    for (; pcb != NULL; pcb = kite__tcp_next(&t->stack, pcb))
        if (kite_tcp_get_state(pcb) == KITE_TCP_SYN_RECEIVED)
            break;
    assert_non_null(pcb);
    kite_tcp_abort(pcb); /* the half-open one */
    th_cleanup(t);
}

TH_TESTS(TH_TEST(cookie_keeps_ecn), TH_TEST(negotiated_on_passive_open),
         TH_TEST(not_used_unless_asked), TH_TEST(ce_echoed_until_cwr),
         TH_TEST(ece_reduces_window_once_per_window), TH_TEST(active_open_negotiation))
