/* SPDX-License-Identifier: BSD-3-Clause */
/* One ACK per receive burst (KITE_TCP_ACK_BURST). Between
 * kite_stack_burst_begin and kite_stack_burst_end, the ACK that every second
 * segment owes (RFC 9293 3.8.6.3) waits for the end, unless the advertised
 * window is half used; duplicate ACKs for out-of-order data still go at once
 * (RFC 5681 4.2), and a connection freed during the burst is forgotten. A
 * build without the option acknowledges every second segment as it arrives,
 * burst or not: the same scenarios expect that. */
#include "tcp_harness.h"

/* Segment size: fits every profile's MSS; buffers are multiples of it. */
#define SEG 512u

static uint8_t data[SEG];

/* Accept the default peer with a receive buffer of rcv_segs segments. */
static void establish_rcv(struct th *t, uint32_t rcv_segs)
{
    th_listen(t, 4);
    assert_int_equal(kite_tcp_listener_set_buffers(t->listener, TH_SND_BUF, rcv_segs * SEG),
                     KITE_ERR_OK);
    th_accept_c(t, &t->c);
}

static void send_segs(struct th *t, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        th_fill(data, SEG, t->c.seq);
        th_send(t, KITE_TCP_ACK, data, SEG);
    }
}

static void burst_is_acknowledged_once(void **state)
{
    struct th *t = *state;
    establish_rcv(t, 32);
    uint32_t first = t->c.seq;
    kite_stack_burst_begin(&t->stack);
    send_segs(t, 8);
    if (!KITE_TCP_ACK_BURST)
        for (uint32_t k = 1; k <= 4; k++)
            th_expect_ack(t, first + 2u * k * SEG);
    th_expect_none(t);
    kite_stack_burst_end(&t->stack);
    if (KITE_TCP_ACK_BURST)
        th_expect_ack(t, t->c.seq); /* one for all eight */
    th_expect_none(t);
    /* Outside a burst: every second segment, as always. */
    send_segs(t, 2);
    th_expect_ack(t, t->c.seq);
    th_expect_none(t);
    th_cleanup(t);
}

/* Bursts nest: only the outermost end sends. */
static void nested_bursts_end_once(void **state)
{
    struct th *t = *state;
    establish_rcv(t, 32);
    kite_stack_burst_begin(&t->stack);
    kite_stack_burst_begin(&t->stack);
    send_segs(t, 4);
    kite_stack_burst_end(&t->stack);
    if (KITE_TCP_ACK_BURST)
        th_expect_none(t);
    else
        th_drain(t);
    kite_stack_burst_end(&t->stack);
    if (KITE_TCP_ACK_BURST)
        th_expect_ack(t, t->c.seq);
    th_expect_none(t);
    kite_stack_burst_end(&t->stack); /* an unmatched end does nothing */
    th_expect_none(t);
    th_cleanup(t);
}

/* A hole is reported at once, inside a burst too (RFC 5681 4.2). */
static void out_of_order_is_acknowledged_at_once(void **state)
{
    struct th *t = *state;
    establish_rcv(t, 32);
    kite_stack_burst_begin(&t->stack);
    send_segs(t, 1);
    uint32_t hole = t->c.seq;
    t->c.seq += SEG; /* lost */
    send_segs(t, 1);
    th_expect_ack(t, hole); /* the duplicate ACK, with SACK */
    uint32_t end = t->c.seq;
    t->c.seq = hole;
    send_segs(t, 1); /* fills the hole: acknowledged at once */
    th_expect_ack(t, end);
    kite_stack_burst_end(&t->stack);
    th_expect_none(t);
    th_cleanup(t);
}

/* With half the advertised window used, the ACK goes at once so the peer
 * can send on; the rest of the burst is acknowledged at its end. */
static void half_window_is_acknowledged_at_once(void **state)
{
    struct th *t = *state;
    establish_rcv(t, 4);
    uint32_t first = t->c.seq;
    kite_stack_burst_begin(&t->stack);
    send_segs(t, 4);
    if (KITE_TCP_ACK_BURST) {
        th_expect_ack(t, first + 3u * SEG); /* a quarter left after the third */
        th_expect_none(t);
        kite_stack_burst_end(&t->stack);
        th_expect_ack(t, first + 4u * SEG);
    } else {
        th_expect_ack(t, first + 2u * SEG);
        th_expect_ack(t, first + 4u * SEG);
        kite_stack_burst_end(&t->stack);
    }
    th_expect_none(t);
    th_cleanup(t);
}

/* A connection aborted during the burst is forgotten: the end sends nothing
 * for it, and the pcb can be reused at once. */
static void aborted_connection_leaves_the_burst(void **state)
{
    struct th *t = *state;
    establish_rcv(t, 32);
    kite_stack_burst_begin(&t->stack);
    send_segs(t, 2);
    th_drain(t); /* the ACK, without the option */
    kite_tcp_abort(t->pcb);
    t->pcb = NULL;
    th_expect(t, KITE_TCP_RST | KITE_TCP_ACK);
    kite_stack_burst_end(&t->stack);
    th_expect_none(t);
    th_cleanup(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(burst_is_acknowledged_once, th_setup, th_teardown),
        cmocka_unit_test_setup_teardown(nested_bursts_end_once, th_setup, th_teardown),
        cmocka_unit_test_setup_teardown(out_of_order_is_acknowledged_at_once, th_setup,
                                        th_teardown),
        cmocka_unit_test_setup_teardown(half_window_is_acknowledged_at_once, th_setup, th_teardown),
        cmocka_unit_test_setup_teardown(aborted_connection_leaves_the_burst, th_setup, th_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
