/* SPDX-License-Identifier: BSD-3-Clause */
/* TCP timers on virtual time: keepalive (RFC 1122 4.2.3.6) with
 * per-connection idle/interval/count, the poll callback, and an idle
 * connection costing no wake-ups. */
#include "tcp_harness.h"

static void keepalive_probes_then_timeout(void **state)
{
    struct th *t = *state;
    struct kite_tcp_pcb *pcb = th_establish(t);
    kite_time_ms t0 = t->stack.now;
    assert_int_equal(kite_tcp_set_keepalive(pcb, 10000, 1000, 3), KITE_ERR_OK);
    th_advance_to(t, t0 + 10000 - 1);
    th_expect_none(t);
    for (unsigned i = 0; i < 3; i++) {
        th_advance_to(t, t0 + 10000 + i * 1000);
        /* SEG.SEQ = SND.NXT - 1 with no data elicits an ACK. */
        const struct th_pkt *p = th_expect(t, KITE_TCP_ACK);
        assert_int_equal(p->tcp.seq, t->c.ack - 1);
        assert_int_equal(p->tcp.ack, t->c.seq);
        assert_int_equal(p->len, 0);
        th_advance_to(t, t0 + 10000 + i * 1000 + 999);
        th_expect_none(t);
        assert_int_equal(t->errs, 0);
    }
    th_advance_to(t, t0 + 13000);
    assert_int_equal(t->errs, 1);
    assert_int_equal(t->err, KITE_ERR_TIMEOUT);
    assert_int_equal(t->stack.stats.tcp.keepalive_drops, 1);
    assert_int_equal(th_pcbs_used(t), 1);
    th_cleanup(t);
}

static void keepalive_answer_resets(void **state)
{
    struct th *t = *state;
    struct kite_tcp_pcb *pcb = th_establish(t);
    kite_time_ms t0 = t->stack.now;
    assert_int_equal(kite_tcp_set_keepalive(pcb, 10000, 1000, 2), KITE_ERR_OK);
    th_advance_to(t, t0 + 10000);
    th_expect(t, KITE_TCP_ACK);
    th_advance_to(t, t0 + 10500);
    th_send(t, KITE_TCP_ACK, NULL, 0); /* the answer */
    th_advance_to(t, t0 + 11000);
    th_expect_none(t); /* no second probe: the idle time starts again */
    th_advance_to(t, t0 + 20500 - 1);
    th_expect_none(t);
    th_advance_to(t, t0 + 20500);
    th_expect(t, KITE_TCP_ACK);
    /* Data from the peer counts as an answer too. */
    th_advance_to(t, t0 + 21000);
    th_send(t, KITE_TCP_ACK | KITE_TCP_PSH, "x", 1);
    th_run(t, 5000);
    th_drain(t);
    assert_int_equal(t->errs, 0);
    th_advance_to(t, t0 + 31000);
    th_expect(t, KITE_TCP_ACK);
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_ESTABLISHED);
    /* Switched off: no more probes, no deadline left. */
    assert_int_equal(kite_tcp_set_keepalive(pcb, 0, 0, 0), KITE_ERR_OK);
    th_run(t, 100000);
    th_expect_none(t);
    assert_int_equal(kite_stack_next_deadline(&t->stack), KITE_TIME_NEVER);
    th_cleanup(t);
}

static void keepalive_off_by_default_idle_costs_nothing(void **state)
{
    struct th *t = *state;
    th_establish(t);
    /* RFC 1122 4.2.3.6: keepalive is off unless asked for. Nothing is pending. */
    assert_int_equal(kite_stack_next_deadline(&t->stack), KITE_TIME_NEVER);
    th_advance(t, 24u * 3600u * 1000u);
    th_expect_none(t);
    assert_int_equal(kite_tcp_get_state(t->pcb), KITE_TCP_ESTABLISHED);
    th_cleanup(t);
}

static void poll_callback_interval(void **state)
{
    struct th *t = *state;
    struct kite_tcp_pcb *pcb = th_establish(t);
    kite_time_ms t0 = t->stack.now;
    kite_tcp_set_ops(pcb, &th_ops_poll);
    th_advance_to(t, t0 + 499);
    assert_int_equal(t->polls, 0);
    th_advance_to(t, t0 + 500);
    assert_int_equal(t->polls, 1);
    th_advance_to(t, t0 + 1000);
    assert_int_equal(t->polls, 2);
    kite_tcp_set_ops(pcb, &th_ops);
    th_run(t, 5000);
    assert_int_equal(t->polls, 2);
    th_expect_none(t);
    th_cleanup(t);
}

TH_TESTS(TH_TEST(keepalive_probes_then_timeout), TH_TEST(keepalive_answer_resets),
         TH_TEST(keepalive_off_by_default_idle_costs_nothing), TH_TEST(poll_callback_interval))
