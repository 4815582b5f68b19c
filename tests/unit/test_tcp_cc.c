/* SPDX-License-Identifier: BSD-3-Clause */
/* Congestion control on its own, driven through the internal CC interface:
 * slow start, congestion avoidance, the loss response and, when built with
 * KITE_TCP_CUBIC (the max_throughput profile), the shape of CUBIC's window
 * (RFC 9438 4.2: back to W_max after K seconds, concave before, convex after). */
#include <stdlib.h>

#include "../../src/transport/tcp_priv.h"
#include "testutil.h"

#define MSS 1000u
#define RTT_MS 100u

struct cc {
    struct kite_stack *stack;
    struct kite_tcp_pcb *pcb;
};

static int setup(void **state)
{
    struct cc *c = calloc(1, sizeof *c);
    c->stack = calloc(1, sizeof *c->stack);
    kite_stack_init(c->stack, NULL);
    c->pcb = kite_tcp_new(c->stack);
    c->pcb->mss = MSS;
    c->pcb->srtt8 = RTT_MS * 8u;
    kite__tcp_cc_init(c->pcb);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct cc *c = *state;
    kite_tcp_abort(c->pcb);
    /* The pcb and its loss block are back: checked before deinit, which would
     * free a leftover. */
    kt_assert_pools_empty(c->stack);
    kite_stack_deinit(c->stack);
    kt_assert_pools_empty(c->stack);
    free(c->stack);
    free(c);
    return 0;
}

/* One round trip: a whole window acknowledged, one segment per ACK. */
static void round_trip(struct cc *c)
{
    uint32_t window = c->pcb->cwnd;
    c->pcb->snd_max = c->pcb->snd_una + window; /* that much was in flight */
    for (uint32_t done = 0; done < window; done += MSS)
        kite__tcp_cc_ack(c->pcb, MSS);
    c->pcb->snd_una = c->pcb->snd_max;
    kite_stack_poll(c->stack, kite_stack_now(c->stack) + RTT_MS);
}

static void test_initial_window_and_slow_start(void **state)
{
    struct cc *c = *state;
    /* RFC 6928: min(KITE_TCP_INIT_CWND * MSS, max(2 * MSS, 14600)). */
    uint32_t iw = KITE_TCP_INIT_CWND * MSS;
    uint32_t cap = 2u * MSS > 14600u ? 2u * MSS : 14600u;
    uint32_t want = iw < cap ? iw : cap;
    assert_int_equal(c->pcb->cwnd, want);
    round_trip(c);
    assert_int_equal(c->pcb->cwnd, 2u * want); /* doubles per round trip */
}

static void loss_at(struct cc *c, uint32_t window)
{
    c->pcb->cwnd = window;
    c->pcb->snd_max = c->pcb->snd_una + window;
    kite__tcp_cc_enter_recovery(c->pcb);
    kite__tcp_cc_exit_recovery(c->pcb);
}

static void test_loss_response(void **state)
{
    struct cc *c = *state;
    loss_at(c, 100u * MSS);
#if KITE_TCP_CUBIC
    assert_int_equal(c->pcb->ssthresh, 70u * MSS); /* RFC 9438 4.6: beta 0.7 */
#else
    assert_int_equal(c->pcb->ssthresh, 50u * MSS); /* RFC 5681 eqn. 4 */
#endif
    /* RFC 5681 3.1: a timeout leaves one segment. */
    kite__tcp_cc_rto(c->pcb);
    assert_int_equal(c->pcb->cwnd, MSS);
}

static void test_congestion_avoidance_growth(void **state)
{
    struct cc *c = *state;
    loss_at(c, 100u * MSS);
    uint32_t start = c->pcb->cwnd;
    uint32_t w[80];
    for (int i = 0; i < 80; i++) {
        round_trip(c);
        w[i] = c->pcb->cwnd;
    }
    assert_true(w[79] > start);
#if KITE_TCP_CUBIC
    /* K = cbrt(W_max (1 - beta) / C) = cbrt(100 * 0.3 / 0.4) = 4.2 s = 42 RTTs. */
    uint32_t at_k = w[41];
    assert_true(at_k > 90u * MSS && at_k < 110u * MSS);
    /* Concave before K (slowing down), convex after (speeding up). */
    assert_true(w[10] - w[0] > w[35] - w[25]);
    assert_true(w[79] - w[69] > w[55] - w[45]);
#else
    /* Reno: one segment per round trip. */
    for (int i = 1; i < 80; i++)
        assert_int_equal(w[i] - w[i - 1], MSS);
#endif
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_initial_window_and_slow_start),
        T(test_loss_response),
        T(test_congestion_avoidance_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
