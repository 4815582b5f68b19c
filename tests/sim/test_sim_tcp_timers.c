/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP timers and failures between simulated stacks: zero window and persist
 * probes (RFC 9293 3.8.6.1) with lost window updates, keepalive timeout
 * (RFC 1122 4.2.3.6) when the peer vanishes, and a peer abort mid-transfer.
 * Every test ends with every pool of every stack back to zero.
 */
#include "tcp_sim_extra.h"

static const struct kite_simlink_config cut_cfg = {.delay_ms = 5, .loss_ppm = 1000000};

/* Client streams to a server whose application stops reading. */
struct zw_world {
    struct w_world w;
    struct tcp_server srv;
    struct tcp_app client, server;
};

static void zw_start(struct zw_world *z, uint64_t seed, uint64_t bytes)
{
    tsx_init(&z->w, 2, (struct kite_simlink_config){.delay_ms = 5}, seed);
    memset(&z->srv, 0, sizeof z->srv);
    tcp_app_init(&z->client, bytes, 0x31, 0);
    tcp_app_init(&z->server, 0, 0, 0x31);
    z->server.hold_window = true; /* received bytes are never kite_tcp_recved */
    z->srv.app = &z->server;
    tcp_server_start(&z->srv, z->w.hosts[0], 80, 4);
    tcp_app_connect(&z->client, z->w.hosts[1], z->w.hosts[0]->ip, 80);
}

static void zero_window(uint64_t seed)
{
    struct zw_world z;
    /* Far more than the receive window (KITE_TCP_RCV_BUF) and the send buffer. */
    const uint64_t bytes = 4u * KITE_TCP_RCV_BUF > 100000u ? 4u * KITE_TCP_RCV_BUF : 100000u;
    zw_start(&z, seed, bytes);
    const struct kite_stats_tcp *ct = &z.w.hosts[1]->stack.stats.tcp;
    /* The window closes after KITE_TCP_RCV_BUF bytes: the sender is stuck. */
    w_run(&z.w, 3000);
    uint64_t stuck_at = z.server.received;
    assert_true(stuck_at > 0 && stuck_at <= KITE_TCP_RCV_BUF);
    uint32_t probes0 = ct->persist_probes;
    w_run(&z.w, 20000);
    assert_int_equal(z.server.received, stuck_at); /* nothing beyond the window */
    uint32_t probes1 = ct->persist_probes;
    assert_true(probes1 > probes0);
    /* Cut the wire: probes (and their answers) are lost, the sender keeps
     * probing with backoff and never gives up on a zero window. */
    kite_simlink_configure(z.w.link, &cut_cfg);
    w_run(&z.w, 30000);
    uint32_t probes2 = ct->persist_probes;
    assert_true(probes2 > probes1);
    /* Release the window while the wire is cut: the window update is lost. */
    kite_tcp_recved(z.server.pcb, z.server.unread);
    z.server.unread = 0;
    z.server.hold_window = false;
    w_run(&z.w, 2000);
    assert_int_equal(z.server.received, stuck_at);
    /* Wire back: only a persist probe can find the open window now. */
    kite_simlink_configure(z.w.link, &(struct kite_simlink_config){.delay_ms = 5});
    struct tcp_pair_done d = {&z.client, &z.server};
    bool done = kite_sim_run_until(&z.w.sim, z.w.sim.now + 300000, tcp_pair_finished, &d);
    printf("  seed %llu: stuck at %llu bytes; persist probes %u -> %u -> %u (cut) -> %u; done at "
           "%.1f s\n",
           (unsigned long long)seed, (unsigned long long)stuck_at, probes0, probes1, probes2,
           ct->persist_probes, (double)z.w.sim.now / 1000.0);
    assert_true(done && !z.client.failed && !z.server.failed);
    assert_true(z.server.received == bytes && z.server.bad_bytes == 0);
    tsx_listener_close(&z.srv.listener);
    tsx_finish(&z.w);
}

static void test_zero_window_persist(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++)
        zero_window(seed);
}

/* ---- keepalive ------------------------------------------------------------ */

#define KA_IDLE 10000u
#define KA_INTVL 1000u
#define KA_CNT 5u

static void keepalive(uint64_t seed, bool detach)
{
    struct w_world w;
    tsx_init(&w, 2, (struct kite_simlink_config){.delay_ms = 5}, seed);
    struct tcp_server srv = {0};
    struct tcp_app client, server;
    tcp_app_init(&client, 1000, 0x51, 0x52);
    tcp_app_init(&server, 1000, 0x52, 0x51);
    client.shut_tx = server.shut_tx = true; /* stay open, idle, after the data */
    srv.app = &server;
    tcp_server_start(&srv, w.hosts[0], 80, 4);
    tcp_app_connect(&client, w.hosts[1], w.hosts[0]->ip, 80);
    assert_int_equal(kite_tcp_set_keepalive(client.pcb, KA_IDLE, KA_INTVL, KA_CNT), KITE_ERR_OK);
    w_run(&w, 1000);
    assert_true(client.received == 1000 && server.received == 1000);
    /* With the peer present the probes are answered: alive after 3 idle periods. */
    w_run(&w, 3 * KA_IDLE);
    assert_false(client.failed);
    uint32_t tx_alive = w.hosts[1]->stack.stats.tcp.tx;
    /* The peer vanishes. */
    if (detach)
        kite_simlink_detach(w.link, &w.hosts[0]->netif);
    else
        kite_simlink_configure(w.link, &cut_cfg);
    kite_time_ms gone = w.sim.now;
    assert_true(kite_sim_run_until(&w.sim, gone + 10 * KA_IDLE, tsx_app_failed, &client));
    kite_time_ms took = w.sim.now - gone;
    printf("  seed %llu (%s): keepalive gave up %llu ms after the peer vanished "
           "(idle %u + %u x %u), probes sent %u, drops %u\n",
           (unsigned long long)seed, detach ? "detached" : "100% loss", (unsigned long long)took,
           KA_IDLE, KA_CNT, KA_INTVL, w.hosts[1]->stack.stats.tcp.tx - tx_alive,
           w.hosts[1]->stack.stats.tcp.keepalive_drops);
    assert_int_equal(client.err, KITE_ERR_TIMEOUT);
    assert_int_equal(w.hosts[1]->stack.stats.tcp.keepalive_drops, 1);
    /* The last data or probe answer came at most one idle period before the
     * cut; the error comes idle + count * interval after it (+ one RTT). */
    assert_true(took >= KA_CNT * KA_INTVL);
    assert_true(took <= KA_IDLE + (KA_CNT + 1u) * KA_INTVL);
    /* The server never noticed: abort it (its RST goes nowhere). */
    assert_non_null(server.pcb);
    kite_tcp_abort(server.pcb);
    server.pcb = NULL;
    tsx_listener_close(&srv.listener);
    tsx_finish(&w);
}

static void test_keepalive_timeout(void **state)
{
    (void)state;
    keepalive(1, false);
    keepalive(2, true);
    keepalive(3, false);
}

/* ---- peer abort ------------------------------------------------------------ */

static bool received_some(void *ctx)
{
    const struct tcp_pair_done *d = ctx;
    return d->b->received >= 200000 || d->a->failed || d->b->failed;
}

static void peer_abort(uint64_t seed, struct kite_simlink_config cfg, bool client_aborts)
{
    struct w_world w;
    tsx_init(&w, 2, cfg, seed);
    struct tcp_server srv = {0};
    struct tcp_app client, server;
    tcp_app_init(&client, 4u << 20, 0x61, 0x62);
    tcp_app_init(&server, 4u << 20, 0x62, 0x61);
    srv.app = &server;
    tcp_server_start(&srv, w.hosts[0], 80, 4);
    tcp_app_connect(&client, w.hosts[1], w.hosts[0]->ip, 80);
    struct tcp_pair_done d = {&client, &server};
    assert_true(kite_sim_run_until(&w.sim, w.sim.now + 600000, received_some, &d));
    assert_false(client.failed || server.failed);
    struct tcp_app *quitter = client_aborts ? &client : &server;
    struct tcp_app *other = client_aborts ? &server : &client;
    kite_tcp_abort(quitter->pcb); /* RST, every buffer freed at once, no err callback */
    quitter->pcb = NULL;
    /* Nothing of the aborting side is left in its pools right away. */
    const struct kite_stack *qs = &w.hosts[client_aborts ? 1 : 0]->stack;
    assert_int_equal(kite_stack_pool(qs, KITE_POOL_TCP_PCB)->used, 0);
    assert_int_equal(kite_stack_pool(qs, KITE_POOL_TCP_LISTEN)->used, client_aborts ? 0 : 1);
    assert_int_equal(kite_stack_pool(qs, KITE_POOL_PBUF_POOL)->used, 0);
    assert_int_equal(kite_stack_pool(qs, KITE_POOL_PBUF_RAM)->used, 0);
    kite_time_ms t0 = w.sim.now;
    assert_true(kite_sim_run_until(&w.sim, t0 + 120000, tsx_app_failed, other));
    printf("  seed %llu: %s aborted; the other side got %s after %llu ms (rx %llu)\n",
           (unsigned long long)seed, client_aborts ? "client" : "server", kite_err_name(other->err),
           (unsigned long long)(w.sim.now - t0), (unsigned long long)other->received);
    assert_int_equal(other->err, KITE_ERR_RESET);
    assert_false(quitter->failed); /* abort gives no err callback */
    assert_int_equal(client.bad_bytes + server.bad_bytes, 0);
    tsx_listener_close(&srv.listener);
    tsx_finish(&w);
}

static void test_peer_abort(void **state)
{
    (void)state;
    peer_abort(1, (struct kite_simlink_config){.delay_ms = 2}, true);
    peer_abort(2, (struct kite_simlink_config){.delay_ms = 2}, false);
    struct kite_simlink_config lossy = {.delay_ms = 5,
                                        .jitter_ms = 5,
                                        .loss_ppm = 50000,
                                        .reorder_ppm = 10000,
                                        .reorder_delay_ms = 10};
    for (uint64_t seed = 3; seed <= 5; seed++)
        peer_abort(seed, lossy, seed % 2 == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_window_persist),
        cmocka_unit_test(test_keepalive_timeout),
        cmocka_unit_test(test_peer_abort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
