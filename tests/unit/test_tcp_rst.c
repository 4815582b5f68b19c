/* SPDX-License-Identifier: BSD-3-Clause */
/* Resets and SYNs in every synchronized state (RFC 9293 3.10.7.4 with the
 * RFC 5961 blind-attack mitigations): an RST at exactly RCV.NXT resets, one
 * elsewhere in the window draws a rate-limited challenge ACK, one outside the
 * window is ignored; TIME_WAIT ignores resets (RFC 1337). */
#include "tcp_harness.h"

static const enum kite_tcp_state synchronized[] = {
    KITE_TCP_SYN_RECEIVED, KITE_TCP_ESTABLISHED, KITE_TCP_FIN_WAIT_1, KITE_TCP_FIN_WAIT_2,
    KITE_TCP_CLOSE_WAIT,   KITE_TCP_CLOSING,     KITE_TCP_LAST_ACK,   KITE_TCP_TIME_WAIT,
};
#define N_STATES (sizeof synchronized / sizeof synchronized[0])

/* Fresh harness per state within one cmocka test. */
static struct th *fresh(void **state)
{
    th_teardown(state);
    th_setup(state);
    return *state;
}

/* End a state's run: the listener and, if alive, the connection pcb (in
 * state s) must be all that is left; the connection is aborted, the listener
 * closed. */
static void finish(struct th *t, struct kite_tcp_pcb *pcb, bool alive, enum kite_tcp_state s)
{
    assert_int_equal(th_pcbs_used(t), alive ? 2 : 1);
    if (alive) {
        assert_int_equal(kite_tcp_get_state(pcb), s);
        kite_tcp_abort(pcb);
    }
    t->pcb = NULL;
    th_cleanup(t);
}

/* What an RST at exactly RCV.NXT did in state s: resets the connection, except
 * an unaccepted child (goes quietly) and TIME_WAIT (RFC 1337: no
 * assassination). Returns whether the connection is still there. */
static bool check_exact_rst(struct th *t, struct kite_tcp_pcb *pcb, enum kite_tcp_state s)
{
    switch (s) {
    case KITE_TCP_SYN_RECEIVED: /* an unaccepted child goes quietly */
        assert_int_equal(t->errs, 0);
        assert_int_equal(th_pcbs_used(t), 1);
        return false;
    case KITE_TCP_TIME_WAIT: /* RFC 1337: no assassination */
        assert_int_equal(t->errs, 0);
        assert_int_equal(th_pcbs_used(t), 2);
        assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_TIME_WAIT);
        return true;
    default: /* CLOSING and LAST_ACK too: a reset, not a completed close */
        assert_int_equal(t->errs, 1);
        assert_int_equal(t->err, KITE_ERR_RESET);
        assert_null(t->pcb);
        assert_int_equal(th_pcbs_used(t), 1);
        return false;
    }
}

static void rst_exact_resets_every_state(void **state)
{
    /* A bare RST, and an RST|ACK (acknowledging everything we sent), which is
     * treated the same. */
    static const uint8_t rst_flags[] = {KITE_TCP_RST, KITE_TCP_RST | KITE_TCP_ACK};
    for (size_t f = 0; f < sizeof rst_flags; f++) {
        for (size_t i = 0; i < N_STATES; i++) {
            struct th *t = fresh(state);
            enum kite_tcp_state s = synchronized[i];
            print_message("state %s, flags %#x\n", kite_tcp_state_name(s), rst_flags[f]);
            struct kite_tcp_pcb *pcb = th_goto_state(t, s);
            th_send_at(t, &t->c, rst_flags[f], t->c.seq, t->c.ack, NULL, 0);
            th_expect_none(t); /* a reset is never answered */
            assert_int_equal(t->stack.stats.tcp.challenge_acks, 0);
            finish(t, pcb, check_exact_rst(t, pcb, s), s);
        }
    }
}

static void rst_in_window_challenged_every_state(void **state)
{
    for (size_t i = 0; i < N_STATES; i++) {
        struct th *t = fresh(state);
        enum kite_tcp_state s = synchronized[i];
        print_message("state %s\n", kite_tcp_state_name(s));
        struct kite_tcp_pcb *pcb = th_goto_state(t, s);
        th_send_at(t, &t->c, KITE_TCP_RST, t->c.seq + 100, 0, NULL, 0);
        /* RFC 5961 3.2: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. */
        const struct th_pkt *p = th_expect_ack(t, t->c.seq);
        assert_int_equal(p->tcp.seq, t->c.ack);
        th_expect_none(t);
        assert_int_equal(t->errs, 0);
        assert_int_equal(kite_tcp_get_state(pcb), s);
        assert_int_equal(t->stack.stats.tcp.challenge_acks, 1);
        /* The peer's answer to the challenge: the exact RST, which acts as
         * one always does in that state. */
        th_send_at(t, &t->c, KITE_TCP_RST, t->c.seq, 0, NULL, 0);
        th_expect_none(t);
        assert_int_equal(t->stack.stats.tcp.challenge_acks, 1);
        finish(t, pcb, check_exact_rst(t, pcb, s), s);
    }
}

static void rst_out_of_window_ignored_every_state(void **state)
{
    for (size_t i = 0; i < N_STATES; i++) {
        struct th *t = fresh(state);
        enum kite_tcp_state s = synchronized[i];
        print_message("state %s\n", kite_tcp_state_name(s));
        struct kite_tcp_pcb *pcb = th_goto_state(t, s);
        th_send_at(t, &t->c, KITE_TCP_RST, t->c.seq + 0x40000000u, 0, NULL, 0);
        th_send_at(t, &t->c, KITE_TCP_RST, t->c.seq - 1, 0, NULL, 0);
        th_send_at(t, &t->c, KITE_TCP_RST | KITE_TCP_ACK, t->c.seq - 1000, t->c.ack, NULL, 0);
        th_expect_none(t);
        assert_int_equal(t->errs, 0);
        assert_int_equal(kite_tcp_get_state(pcb), s);
        assert_int_equal(t->stack.stats.tcp.challenge_acks, 0);
        finish(t, pcb, true, s);
    }
}

/* RFC 5961 7: a per-connection budget drawn from [L/2, 3L/2) each second. */
static void challenge_acks_rate_limited(void **state)
{
    struct th *t = *state;
    struct kite_tcp_pcb *pcb = th_goto_state(t, KITE_TCP_ESTABLISHED);
    const unsigned limit = KITE_TCP_CHALLENGE_ACK_LIMIT, tries = 2u * limit;
    for (unsigned i = 0; i < tries; i++)
        th_send_at(t, &t->c, KITE_TCP_RST, t->c.seq + 1 + i, 0, NULL, 0);
    unsigned acks = 0;
    struct th_pkt p;
    while (th_next(t, &p)) {
        assert_int_equal(p.tcp.flags, KITE_TCP_ACK);
        acks++;
    }
    assert_in_range(acks, limit / 2u, limit / 2u + limit - 1u);
    assert_int_equal(t->stack.stats.tcp.challenge_acks, acks);
    assert_int_equal(t->stack.stats.tcp.challenge_acks_limited, tries - acks);
    /* SYNs share the budget. */
    th_send_at(t, &t->c, KITE_TCP_SYN, t->c.seq + 5, 0, NULL, 0);
    th_expect_none(t);
    /* A new second brings a new budget (RFC 5961 7). */
    th_advance(t, 1000);
    th_send_at(t, &t->c, KITE_TCP_RST, t->c.seq + 1, 0, NULL, 0);
    th_expect_ack(t, t->c.seq);
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_ESTABLISHED);
    assert_int_equal(t->errs, 0);
    th_cleanup(t);
}

static void syn_in_established_challenged(void **state)
{
    struct th *t = *state;
    struct kite_tcp_pcb *pcb = th_goto_state(t, KITE_TCP_ESTABLISHED);
    /* RFC 5961 4.2: any SYN, in window or not, gets a challenge ACK. */
    th_send_at(t, &t->c, KITE_TCP_SYN, t->c.seq + 10, 0, NULL, 0);
    const struct th_pkt *p = th_expect_ack(t, t->c.seq);
    assert_int_equal(p->tcp.seq, t->c.ack);
    th_send_at(t, &t->c, KITE_TCP_SYN, t->c.seq, 0, NULL, 0);
    th_expect_ack(t, t->c.seq);
    th_send_at(t, &t->c, KITE_TCP_SYN | KITE_TCP_ACK, t->c.seq, t->c.ack, NULL, 0);
    th_expect_ack(t, t->c.seq);
    th_expect_none(t);
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_ESTABLISHED);
    assert_int_equal(t->errs, 0);
    assert_int_equal(t->stack.stats.tcp.challenge_acks, 3);
    /* The connection still carries data. */
    th_send(t, KITE_TCP_ACK | KITE_TCP_PSH, "ok", 2);
    assert_int_equal(t->rx_len, 2);
    th_cleanup(t);
}

static void old_ack_beyond_window_challenged(void **state)
{
    struct th *t = *state;
    th_goto_state(t, KITE_TCP_ESTABLISHED);
    /* RFC 5961 5.2: SEG.ACK < SND.UNA - MAX.SND.WND: challenge ACK, drop. */
    th_send_at(t, &t->c, KITE_TCP_ACK | KITE_TCP_PSH, t->c.seq, t->c.ack - 0x20000000u, "x", 1);
    th_expect_ack(t, t->c.seq);
    assert_int_equal(t->rx_len, 0);
    assert_int_equal(t->stack.stats.tcp.drop_bad_ack, 1);
    th_cleanup(t);
}

static void rst_in_time_wait_keeps_it(void **state)
{
    struct th *t = *state;
    struct kite_tcp_pcb *pcb = th_goto_state(t, KITE_TCP_TIME_WAIT);
    assert_int_equal(kite_tcp_close(pcb), KITE_ERR_OK); /* the application lets go */
    t->pcb = NULL;
    kite_time_ms t0 = t->stack.now;
    th_send_at(t, &t->c, KITE_TCP_RST, t->c.seq, 0, NULL, 0);
    th_expect_none(t);
    assert_int_equal(th_pcbs_used(t), 2);
    /* It still expires after 2 MSL. */
    th_advance_to(t, t0 + 2u * KITE_TCP_MSL_MS);
    assert_int_equal(th_pcbs_used(t), 1);
    assert_int_equal(t->errs, 0);
    th_cleanup(t);
}

TH_TESTS(TH_TEST(rst_exact_resets_every_state), TH_TEST(rst_in_window_challenged_every_state),
         TH_TEST(rst_out_of_window_ignored_every_state), TH_TEST(challenge_acks_rate_limited),
         TH_TEST(syn_in_established_challenged), TH_TEST(old_ack_beyond_window_challenged),
         TH_TEST(rst_in_time_wait_keeps_it))
