/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP core hardening, segment by segment: SYN floods and SYN cookies
 * (RFC 4987), and the review findings of the TCP-core issue. Every test here
 * failed on the code before its fix.
 */
#include "tcp_harness.h"

/* Half-open connections from flood_count sources that never complete. */
static void syn_flood(struct th *t, unsigned flood_count, uint16_t dport)
{
    for (unsigned i = 0; i < flood_count; i++) {
        struct th_conn f;
        th_conn_init(&f, (uint16_t)(20000 + i));
        f.peer_ip = KITE_IP4(192, 0, 2, 100 + i % 100);
        f.dport = dport;
        f.seq = 7000u * i;
        th_send_syn(t, &f, KITE_TCP_SYN);
        th_drain(t);
    }
}

/* Reset whatever the flood left half-open, so the test ends with no pcb. */
static void abort_half_open(struct th *t)
{
    struct kite_tcp_pcb *pcb = t->stack.tcp.active;
    while (pcb != NULL) {
        struct kite_tcp_pcb *next = pcb->next;
        if (kite_tcp_get_state(pcb) == KITE_TCP_SYN_RECEIVED)
            kite_tcp_abort(pcb);
        pcb = next;
    }
    th_drain(t);
}

/* RFC 4987: hundreds of half-open connections from many sources leave every
 * listener answering, and a real client's handshake completes. */
static void syn_flood_leaves_listener_open(void **state)
{
    struct th *t = *state;
    th_listen(t, 4);
    struct kite_tcp_pcb *l2 = kite_tcp_new(&t->stack);
    assert_non_null(l2);
    th_callbacks(t, l2);
    assert_int_equal(kite_tcp_bind(l2, NULL, 81), KITE_ERR_OK);
    assert_int_equal(kite_tcp_listen(l2, 4), KITE_ERR_OK);
    syn_flood(t, 300, TH_PORT);
    syn_flood(t, 300, 81);
    assert_true(t->stack.stats.tcp.syn_cookies_sent >= 600u - 2u * 4u);
    /* A real client on each port completes its handshake through it all. */
    th_accept_c(t, &t->c);
    struct th_conn c2;
    th_conn_init(&c2, 40001);
    c2.dport = 81;
    th_conn_add(t, &c2);
    th_accept_c(t, &c2);
    assert_int_equal(t->accepts, 2);
    /* ... and still moves data. */
    th_send_c(t, &c2, KITE_TCP_ACK | KITE_TCP_PSH, "hello", 5);
    assert_int_equal(t->rx_len, 5);
    kite_tcp_abort(t->accepted[0]);
    kite_tcp_abort(t->accepted[1]);
    t->pcb = NULL;
    assert_int_equal(kite_tcp_close(l2), KITE_ERR_OK);
    abort_half_open(t);
    th_cleanup(t);
}

/* With every pcb holding a half-open connection, a completed cookie
 * handshake takes the place of the one that waited longest. */
static void cookie_ack_evicts_oldest_half_open(void **state)
{
    struct th *t = *state;
    th_listen(t, 255);
    syn_flood(t, KITE_TCP_PCB_COUNT - 1u, TH_PORT); /* listener + flood fill the pool */
    assert_int_equal(th_pcbs_used(t), KITE_TCP_PCB_COUNT);
    th_send_syn(t, &t->c, KITE_TCP_SYN);
    th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK);
    assert_int_equal(t->stack.stats.tcp.syn_cookies_sent, 1);
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_int_equal(t->accepts, 1);
    assert_int_equal(t->stack.stats.tcp.half_open_evicted, 1);
    assert_int_equal(kite_tcp_get_state(t->pcb), KITE_TCP_ESTABLISHED);
    abort_half_open(t);
    th_cleanup(t);
}

/* A listener whose backlog is full, so the next SYN gets a cookie. */
static void fill_backlog(struct th *t)
{
    th_listen(t, 1);
    struct th_conn half;
    th_conn_init(&half, 30000);
    half.peer_ip = KITE_IP4(192, 0, 2, 99);
    th_send_syn(t, &half, KITE_TCP_SYN);
    th_drain(t);
}

/* Linux's encoding: with timestamps the cookie keeps window scale and SACK. */
static void cookie_keeps_wscale_sack_timestamps(void **state)
{
    struct th *t = *state;
    fill_backlog(t);
    t->c.ts = true;
    t->c.syn_wscale = 7;
    th_send_syn(t, &t->c, KITE_TCP_SYN);
    const struct th_pkt *sa = th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK);
    assert_int_equal(t->stack.stats.tcp.syn_cookies_sent, 1);
    assert_true(sa->tcp.opts & KITE_TCP_HAS_TIMESTAMP);
    assert_true(sa->tcp.opts & KITE_TCP_HAS_WSCALE);
    assert_true(sa->tcp.opts & KITE_TCP_HAS_SACK_PERM);
    uint8_t our_shift = sa->tcp.wscale;
    t->c.window = 100; /* scaled by 7: 12800 bytes */
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_int_equal(t->accepts, 1);
    assert_int_equal(t->stack.stats.tcp.syn_cookies_ok, 1);
    /* Window scaling: 4000 bytes fit the peer's scaled window of 12800. */
    static uint8_t data[4000];
    th_fill(data, sizeof data, 0);
    kite_tcp_set_nodelay(t->pcb, true);
    assert_int_equal(kite_tcp_write(t->pcb, data, sizeof data, KITE_TCP_WRITE_COPY), KITE_ERR_OK);
    assert_int_equal(kite_tcp_output(t->pcb), KITE_ERR_OK);
    uint32_t sent = 0;
    struct th_pkt p;
    while (th_next(t, &p)) {
        assert_true(p.tcp.opts & KITE_TCP_HAS_TIMESTAMP); /* timestamps on every segment */
        sent += p.len;
    }
    assert_int_equal(sent, sizeof data);
    /* SACK: an out-of-order segment is reported in a SACK block; our window
     * field is scaled by the shift the cookie SYN-ACK announced. */
    th_send_at(t, &t->c, KITE_TCP_ACK, t->c.seq + 100, t->c.ack, "x", 1);
    const struct th_pkt *ack = th_expect(t, KITE_TCP_ACK);
    assert_true(ack->tcp.opts & KITE_TCP_HAS_SACK);
    assert_int_equal(ack->tcp.sack[0].left, t->c.seq + 100);
    assert_true(((uint32_t)ack->tcp.window << our_shift) >= 4096u ||
                ((uint32_t)ack->tcp.window << our_shift) >= KITE_TCP_RCV_BUF / 2u);
    abort_half_open(t);
    th_cleanup(t);
}

/* Without timestamps there is nowhere to keep them: offer neither. */
static void cookie_without_timestamps_offers_no_wscale(void **state)
{
    struct th *t = *state;
    fill_backlog(t);
    t->c.syn_wscale = 7;
    th_send_syn(t, &t->c, KITE_TCP_SYN);
    const struct th_pkt *sa = th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK);
    assert_int_equal(sa->tcp.opts, KITE_TCP_HAS_MSS);
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_int_equal(t->accepts, 1);
    abort_half_open(t);
    th_cleanup(t);
}

/* A forged ACK whose TSecr was never ours is no cookie. */
static void cookie_with_foreign_echo_rejected(void **state)
{
    struct th *t = *state;
    fill_backlog(t);
    t->c.ts = true;
    th_send_syn(t, &t->c, KITE_TCP_SYN);
    th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK);
    t->c.ts_ecr += 1000000u; /* an echo from a clock we never had */
    th_send(t, KITE_TCP_ACK, NULL, 0);
    th_expect(t, KITE_TCP_RST);
    assert_int_equal(t->accepts, 0);
    assert_int_equal(t->stack.stats.tcp.drop_bad_cookie, 1);
    abort_half_open(t);
    th_cleanup(t);
}

/* ---- Review findings ------------------------------------------------------- */

/* A reset in LAST_ACK reports RESET; the same state ended by the ACK of our
 * FIN reports CLOSED, so a socket layer can tell ECONNRESET from EOF. */
static void last_ack_ended(struct th *t, bool reset)
{
    th_goto_state(t, KITE_TCP_LAST_ACK);
    if (reset)
        th_send_at(t, &t->c, KITE_TCP_RST, t->c.seq, 0, NULL, 0);
    else
        th_send(t, KITE_TCP_ACK, NULL, 0); /* acknowledges our FIN */
    assert_int_equal(t->errs, 1);
    assert_int_equal(t->err, reset ? KITE_ERR_RESET : KITE_ERR_CLOSED);
    t->pcb = NULL;
    th_cleanup(t);
}

static void reset_in_last_ack_reports_reset(void **state)
{
    last_ack_ended(*state, true);
}

static void close_in_last_ack_reports_closed(void **state)
{
    last_ack_ended(*state, false);
}

static void reset_in_closing_reports_reset(void **state)
{
    struct th *t = *state;
    th_goto_state(t, KITE_TCP_CLOSING);
    th_send_at(t, &t->c, KITE_TCP_RST, t->c.seq, 0, NULL, 0);
    assert_int_equal(t->errs, 1);
    assert_int_equal(t->err, KITE_ERR_RESET);
    t->pcb = NULL;
    th_cleanup(t);
}

/* RFC 5961 7: the challenge-ACK budget of one connection is its own: a blind
 * attacker who exhausts it learns nothing about another connection's. */
static void challenge_budget_per_connection(void **state)
{
    struct th *t = *state;
    th_listen(t, 4);
    struct kite_tcp_pcb *a = th_accept_c(t, &t->c);
    struct th_conn c2;
    th_conn_init(&c2, TH_PEER_PORT + 1);
    th_conn_add(t, &c2);
    struct kite_tcp_pcb *b = th_accept_c(t, &c2);
    for (unsigned i = 0; i < 3u * KITE_TCP_CHALLENGE_ACK_LIMIT; i++)
        th_send_at(t, &t->c, KITE_TCP_RST, t->c.seq + 1 + i, 0, NULL, 0);
    th_drain(t);
    assert_true(t->stack.stats.tcp.challenge_acks_limited > 0);
    th_send_at(t, &c2, KITE_TCP_RST, c2.seq + 1, 0, NULL, 0);
    th_expect_ack(t, c2.seq); /* b still has its budget */
    kite_tcp_abort(a);
    kite_tcp_abort(b);
    t->pcb = NULL;
    th_cleanup(t);
}

/* The budget is drawn at random: over many connections it is not constant. */
static void challenge_budget_randomised(void **state)
{
    struct th *t = *state;
    th_listen(t, 4);
    unsigned seen_min = 1000, seen_max = 0;
    for (unsigned k = 0; k < 8; k++) {
        struct th_conn c;
        th_conn_init(&c, (uint16_t)(TH_PEER_PORT + 10 + k));
        th_conn_add(t, &c);
        struct kite_tcp_pcb *pcb = th_accept_c(t, &c);
        uint32_t before = t->stack.stats.tcp.challenge_acks;
        for (unsigned i = 0; i < 2u * KITE_TCP_CHALLENGE_ACK_LIMIT; i++)
            th_send_at(t, &c, KITE_TCP_RST, c.seq + 1 + i, 0, NULL, 0);
        th_drain(t);
        unsigned got = t->stack.stats.tcp.challenge_acks - before;
        seen_min = got < seen_min ? got : seen_min;
        seen_max = got > seen_max ? got : seen_max;
        kite_tcp_abort(pcb);
        th_drain(t);
        t->nconns--;
        th_advance(t, 1000);
    }
    t->pcb = NULL;
    assert_true(seen_min >= KITE_TCP_CHALLENGE_ACK_LIMIT / 2u);
    assert_true(seen_max < KITE_TCP_CHALLENGE_ACK_LIMIT / 2u + KITE_TCP_CHALLENGE_ACK_LIMIT);
    assert_true(seen_min < seen_max);
    th_cleanup(t);
}

TH_TESTS(TH_TEST(syn_flood_leaves_listener_open), TH_TEST(cookie_ack_evicts_oldest_half_open),
         TH_TEST(cookie_keeps_wscale_sack_timestamps),
         TH_TEST(cookie_without_timestamps_offers_no_wscale),
         TH_TEST(cookie_with_foreign_echo_rejected), TH_TEST(reset_in_last_ack_reports_reset),
         TH_TEST(close_in_last_ack_reports_closed), TH_TEST(reset_in_closing_reports_reset),
         TH_TEST(challenge_budget_per_connection), TH_TEST(challenge_budget_randomised))
