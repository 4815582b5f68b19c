/* SPDX-License-Identifier: BSD-3-Clause */
/* TCP between two stacks on a simulated link: transfers verified byte for
 * byte, under loss, reordering, duplication, corruption and delay. */
#include "tcp_apps.h"

static void free_listener(struct tcp_server *s)
{
    if (s->listener != NULL)
        kite_tcp_listener_close(s->listener);
    s->listener = NULL;
}

/* Run a two-way transfer of `bytes` each way; returns virtual ms taken. */
static kite_time_ms transfer(struct kite_simlink_config cfg, uint64_t seed, uint64_t bytes,
                             kite_time_ms limit)
{
    struct w_world w;
    w_init(&w, 2, cfg, seed);
    struct tcp_server srv = {0};
    struct tcp_app client, server;
    tcp_app_init(&client, bytes, 0x11, 0x22);
    tcp_app_init(&server, bytes, 0x22, 0x11);
    srv.app = &server;
    tcp_server_start(&srv, w.hosts[0], 80, 4);
    tcp_app_connect(&client, w.hosts[1], w.hosts[0]->ip, 80);
    struct tcp_pair_done d = {&client, &server};
    kite_time_ms start = w.sim.now;
    bool done = kite_sim_run_until(&w.sim, start + limit, tcp_pair_finished, &d);
    kite_time_ms took = w.sim.now - start;
    if (!done || client.failed || server.failed)
        fprintf(stderr,
                "transfer: done=%d client failed=%d(%s) rx=%llu server failed=%d(%s) rx=%llu\n",
                done, client.failed, kite_err_name(client.err), (unsigned long long)client.received,
                server.failed, kite_err_name(server.err), (unsigned long long)server.received);
    assert_true(done);
    assert_false(client.failed);
    assert_false(server.failed);
    assert_int_equal(client.received, bytes);
    assert_int_equal(server.received, bytes);
    assert_int_equal(client.bad_bytes + server.bad_bytes, 0);
    for (unsigned i = 0; i < 2; i++) {
        const struct kite_stats_tcp *t = &w.hosts[i]->stack.stats.tcp;
        printf(
            "  host%u: %llu ms, tx %u rx %u rexmit %u fast %u rto %u dupacks %u sackrec %u ooo %u "
            "badck %u\n",
            i, (unsigned long long)took, t->tx, t->rx, t->retransmits, t->fast_retransmits,
            t->rto_timeouts, t->dup_acks, t->sack_recoveries, t->ooo_queued, t->drop_bad_checksum);
    }
    /* Let TIME_WAIT run out so every pool drains. */
    free_listener(&srv);
    w_run(&w, 2 * KITE_TCP_MSL_MS + 1000);
    w_fini(&w);
    return took;
}

static void test_tcp_lossless(void **state)
{
    (void)state;
    transfer((struct kite_simlink_config){.delay_ms = 1}, 1, 200000, 60000);
}

static void test_tcp_loss_1pct(void **state)
{
    (void)state;
    struct kite_simlink_config cfg = {.delay_ms = 5, .loss_ppm = 10000};
    transfer(cfg, 2, 200000, 600000);
}

static void test_tcp_faults_10pct(void **state)
{
    (void)state;
    struct kite_simlink_config cfg = {.delay_ms = 10,
                                      .jitter_ms = 5,
                                      .loss_ppm = 100000,
                                      .duplicate_ppm = 20000,
                                      .reorder_ppm = 30000,
                                      .reorder_delay_ms = 15,
                                      .corrupt_ppm = 10000};
    transfer(cfg, 3, 100000, 1200000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_lossless),
        cmocka_unit_test(test_tcp_loss_1pct),
        cmocka_unit_test(test_tcp_faults_10pct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
