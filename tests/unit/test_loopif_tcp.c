/* SPDX-License-Identifier: BSD-3-Clause */
/* TCP to ourselves over the loopback netif, with the default (small) pools:
 * both directions complete byte-exact, backpressure instead of deadlock. */
#include "../sim/tcp_apps.h"
#include "kite/port/loopif.h"

static void run_until_idle(struct kite_stack *s, kite_time_ms *now, struct tcp_app *a,
                           struct tcp_app *b)
{
    for (int i = 0; i < 1000000 && !(a->closed && b->closed); i++) {
        kite_time_ms d = kite_stack_next_deadline(s);
        if (d == KITE_TIME_NEVER)
            break;
        if (d > *now)
            *now = d;
        kite_stack_poll(s, *now);
    }
}

static void test_tcp_over_loopback(void **state)
{
    (void)state;
    struct kite_stack *s = calloc(1, sizeof *s);
    kite_stack_init(s, NULL);
    struct kite_loopif lo;
    assert_int_equal(kite_loopif_add(s, &lo), KITE_ERR_OK);
    struct tcp_server srv = {0};
    struct tcp_app c, sv;
    tcp_app_init(&c, 300000, 1, 2);
    tcp_app_init(&sv, 300000, 2, 1);
    srv.app = &sv;
    static const struct kite_tcp_ops listen_ops = {.accept = tcp_server_accept};
    struct kite_tcp_pcb *lp = kite_tcp_new(s);
    assert_int_equal(kite_tcp_bind(lp, NULL, 80), KITE_ERR_OK);
    kite_tcp_arg(lp, &srv);
    kite_tcp_set_ops(lp, &listen_ops);
    srv.listener = kite_tcp_listen(lp, 2, NULL);
    assert_non_null(srv.listener);
    struct kite_tcp_pcb *pcb = kite_tcp_new(s);
    tcp_app_attach(&c, pcb);
    struct kite_addr a = KITE_ADDR_V4(KITE_IP4(127, 0, 0, 1));
    assert_int_equal(kite_tcp_connect(pcb, &a, 80), KITE_ERR_OK);
    kite_time_ms now = 0;
    run_until_idle(s, &now, &c, &sv);
    assert_true(c.closed && sv.closed);
    assert_false(c.failed || sv.failed);
    assert_int_equal(c.received, 300000);
    assert_int_equal(sv.received, 300000);
    assert_int_equal(c.bad_bytes + sv.bad_bytes, 0);
#if KITE_PBUF_POOL_COUNT * KITE_PBUF_POOL_BUFSIZE < 2 * 300000
    assert_true(s->stats.tcp.write_blocked > 0); /* the pool reserve pushed back */
#endif
    kite_tcp_listener_close(srv.listener);
    kite_stack_poll(s, now + 2 * KITE_TCP_MSL_MS + 1);
    assert_true(kite_stack_next_deadline(s) == KITE_TIME_NEVER);
    kite_loopif_remove(&lo);
    kt_assert_pools_empty(s); /* before deinit, which would free a leftover pcb */
    kite_stack_deinit(s);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_tcp_over_loopback)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
