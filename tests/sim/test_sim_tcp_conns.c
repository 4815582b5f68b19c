/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP connection life cycles between simulated stacks: 1,000 short
 * connections in a row (TIME_WAIT recycling), simultaneous open and close
 * (RFC 9293 3.5, figures 8 and 13), connection refused, and a backlog of one
 * under a burst of connects (SYN cookies, RFC 4987). Every test ends with
 * every pool of every stack back to zero before deinit.
 */
#include "tcp_sim_extra.h"

/* ---- 1,000 short connections ---------------------------------------------- */

static void short_connections(struct kite_simlink_config cfg, uint64_t seed, unsigned count)
{
    struct w_world w;
    tsx_init(&w, 2, cfg, seed);
    struct tcp_server srv = {0};
    struct tcp_app client, server;
    tcp_server_start(&srv, w.hosts[0], 80, 4);
    double wall0 = tsx_wall_s();
    kite_time_ms start = w.sim.now;
    for (unsigned i = 0; i < count; i++) {
        /* A 100-byte request, a 300-byte response, then both close. */
        tcp_app_init(&client, 100, (uint8_t)i, (uint8_t)(i + 1u));
        tcp_app_init(&server, 300, (uint8_t)(i + 1u), (uint8_t)i);
        srv.app = &server;
        tcp_app_connect(&client, w.hosts[1], w.hosts[0]->ip, 80);
        struct tcp_pair_done d = {&client, &server};
        /* Generous: a lossy run can back off a lost FIN for tens of seconds. */
        bool done = kite_sim_run_until(&w.sim, w.sim.now + 600000, tcp_pair_finished, &d);
        if (!done || client.failed || server.failed) {
            fprintf(
                stderr,
                "connection %u: done %d client %s rx %llu closed %d server %s rx %llu closed %d\n",
                i, done, kite_err_name(client.err), (unsigned long long)client.received,
                client.closed, kite_err_name(server.err), (unsigned long long)server.received,
                server.closed);
            tsx_dump("server", &w.hosts[0]->stack);
            tsx_dump("client", &w.hosts[1]->stack);
        }
        assert_true(done && !client.failed && !server.failed);
        assert_true(client.received == 300 && server.received == 100);
        assert_true(client.bad_bytes == 0 && server.bad_bytes == 0);
    }
    const struct kite_stats_tcp *sv = &w.hosts[0]->stack.stats.tcp;
    const struct kite_stats_tcp *cl = &w.hosts[1]->stack.stats.tcp;
    printf("  %u connections in %.1f s virtual, wall %.2f s; TIME_WAIT recycled: client %u "
           "server %u; in TIME_WAIT now: client %u server %u; rexmit %u/%u\n",
           count, (double)(w.sim.now - start) / 1000.0, tsx_wall_s() - wall0, cl->tw_recycled,
           sv->tw_recycled, tsx_count_state(&w.hosts[1]->stack, KITE_TCP_TIME_WAIT),
           tsx_count_state(&w.hosts[0]->stack, KITE_TCP_TIME_WAIT), cl->retransmits,
           sv->retransmits);
    assert_int_equal(sv->passive_opens, count);
    assert_int_equal(cl->active_opens, count);
    /* 1,000 connections through 8 pcbs within one 2 MSL: TIME_WAIT was recycled. */
    assert_true(cl->tw_recycled + sv->tw_recycled >= count - 2u * KITE_TCP_PCB_COUNT);
    tsx_listener_close(&srv.listener);
    /* The rest expires: after 2 MSL nothing is left in TIME_WAIT. */
    w_run(&w, 2 * KITE_TCP_MSL_MS + 1000);
    assert_int_equal(tsx_count_state(&w.hosts[0]->stack, KITE_TCP_TIME_WAIT), 0);
    assert_int_equal(tsx_count_state(&w.hosts[1]->stack, KITE_TCP_TIME_WAIT), 0);
    tsx_finish(&w);
}

static void test_thousand_connections(void **state)
{
    (void)state;
    short_connections((struct kite_simlink_config){.delay_ms = 1}, 1, 1000);
}

static void test_short_connections_lossy(void **state)
{
    (void)state;
    struct kite_simlink_config cfg = {.delay_ms = 2,
                                      .jitter_ms = 3,
                                      .loss_ppm = 50000,
                                      .duplicate_ppm = 10000,
                                      .reorder_ppm = 10000,
                                      .reorder_delay_ms = 4};
    for (uint64_t seed = 2; seed <= 3; seed++)
        short_connections(cfg, seed, 200);
}

/* ---- simultaneous open and close -------------------------------------------- */

static void bind_connect(struct tcp_app *a, struct w_host *h, uint16_t lport, uint32_t dst,
                         uint16_t dport)
{
    struct kite_tcp_pcb *pcb = kite_tcp_new(&h->stack);
    assert_non_null(pcb);
    tcp_app_attach(a, pcb);
    assert_int_equal(kite_tcp_bind(pcb, NULL, lport), KITE_ERR_OK);
    struct kite_addr addr = KITE_ADDR_V4(dst);
    assert_int_equal(kite_tcp_connect(pcb, &addr, dport), KITE_ERR_OK);
}

static void simultaneous_open(uint64_t seed, struct kite_simlink_config cfg)
{
    struct w_world w;
    tsx_init(&w, 2, cfg, seed);
    struct tcp_app a, b;
    tcp_app_init(&a, 20000, 0xa, 0xb);
    tcp_app_init(&b, 30000, 0xb, 0xa);
    /* Same virtual instant: each SYN crosses the other on the wire. */
    bind_connect(&a, w.hosts[0], 1000, w.hosts[1]->ip, 2000);
    bind_connect(&b, w.hosts[1], 2000, w.hosts[0]->ip, 1000);
    struct tcp_pair_done d = {&a, &b};
    bool done = kite_sim_run_until(&w.sim, w.sim.now + 120000, tcp_pair_finished, &d);
    const struct kite_stats_tcp *ta = &w.hosts[0]->stack.stats.tcp;
    const struct kite_stats_tcp *tb = &w.hosts[1]->stack.stats.tcp;
    printf("  seed %llu: simultaneous open done in %.3f s, resets %u/%u\n",
           (unsigned long long)seed, (double)w.sim.now / 1000.0, ta->resets_sent, tb->resets_sent);
    assert_true(done && !a.failed && !b.failed);
    assert_true(a.connected && b.connected);
    assert_true(a.received == 30000 && b.received == 20000 && a.bad_bytes + b.bad_bytes == 0);
    assert_int_equal(ta->active_opens, 1);
    assert_int_equal(tb->active_opens, 1);
    assert_int_equal(ta->passive_opens + tb->passive_opens, 0);
    assert_int_equal(ta->resets_sent + tb->resets_sent, 0);
    tsx_finish(&w);
}

static void test_simultaneous_open(void **state)
{
    (void)state;
    simultaneous_open(1, (struct kite_simlink_config){.delay_ms = 5});
    struct kite_simlink_config lossy = {.delay_ms = 5, .jitter_ms = 5, .loss_ppm = 100000};
    for (uint64_t seed = 2; seed <= 4; seed++)
        simultaneous_open(seed, lossy);
}

static bool pair_idle(void *ctx)
{
    struct tcp_pair_done *d = ctx;
    return d->a->connected && d->b->connected && d->a->received == d->b->to_send &&
           d->b->received == d->a->to_send && d->a->acked == d->a->to_send &&
           d->b->acked == d->b->to_send;
}

static void simultaneous_close(uint64_t seed, struct kite_simlink_config cfg)
{
    struct w_world w;
    tsx_init(&w, 2, cfg, seed);
    struct tcp_server srv = {0};
    struct tcp_app client, server;
    /* Some data each way; shut_tx set up front so the apps never send a FIN
     * themselves: the test closes both. */
    tcp_app_init(&client, 5000, 1, 2);
    tcp_app_init(&server, 7000, 2, 1);
    client.shut_tx = server.shut_tx = true;
    srv.app = &server;
    tcp_server_start(&srv, w.hosts[0], 80, 4);
    tcp_app_connect(&client, w.hosts[1], w.hosts[0]->ip, 80);
    struct tcp_pair_done d = {&client, &server};
    assert_true(kite_sim_run_until(&w.sim, w.sim.now + 60000, pair_idle, &d));
    w_run(&w, 1000); /* delayed ACKs out, both idle in ESTABLISHED */
    assert_non_null(client.pcb);
    assert_non_null(server.pcb);
    assert_int_equal(kite_tcp_get_state(client.pcb), KITE_TCP_ESTABLISHED);
    assert_int_equal(kite_tcp_get_state(server.pcb), KITE_TCP_ESTABLISHED);
    /* Both close at the same virtual instant: FIN_WAIT_1 -> CLOSING -> TIME_WAIT. */
    assert_int_equal(kite_tcp_close(client.pcb), KITE_ERR_OK);
    assert_int_equal(kite_tcp_close(server.pcb), KITE_ERR_OK);
    client.pcb = server.pcb = NULL;
    client.closed = server.closed = true;
    tsx_listener_close(&srv.listener);
    /* Well before 2 MSL both must sit in TIME_WAIT (each sent its FIN first). */
    w_run(&w, 20000);
    unsigned tw0 = tsx_count_state(&w.hosts[0]->stack, KITE_TCP_TIME_WAIT);
    unsigned tw1 = tsx_count_state(&w.hosts[1]->stack, KITE_TCP_TIME_WAIT);
    printf("  seed %llu: simultaneous close: TIME_WAIT server %u client %u, resets %u/%u\n",
           (unsigned long long)seed, tw0, tw1, w.hosts[0]->stack.stats.tcp.resets_sent,
           w.hosts[1]->stack.stats.tcp.resets_sent);
    assert_int_equal(tw0, 1);
    assert_int_equal(tw1, 1);
    assert_false(client.failed || server.failed);
    assert_int_equal(w.hosts[0]->stack.stats.tcp.resets_sent, 0);
    assert_int_equal(w.hosts[1]->stack.stats.tcp.resets_sent, 0);
    tsx_finish(&w);
}

static void test_simultaneous_close(void **state)
{
    (void)state;
    simultaneous_close(1, (struct kite_simlink_config){.delay_ms = 5});
    struct kite_simlink_config lossy = {.delay_ms = 5, .jitter_ms = 5, .loss_ppm = 100000};
    for (uint64_t seed = 2; seed <= 4; seed++)
        simultaneous_close(seed, lossy);
}

/* ---- connection refused ----------------------------------------------------- */

static void test_connection_refused(void **state)
{
    (void)state;
    struct w_world w;
    tsx_init(&w, 2, (struct kite_simlink_config){.delay_ms = 3}, 1);
    struct tcp_app client;
    tcp_app_init(&client, 100, 1, 2);
    tcp_app_connect(&client, w.hosts[1], w.hosts[0]->ip, 81); /* nobody listens */
    assert_true(kite_sim_run_until(&w.sim, w.sim.now + 10000, tsx_app_failed, &client));
    printf("  refused after %llu ms (RTT 6 ms)\n", (unsigned long long)w.sim.now);
    assert_int_equal(client.err, KITE_ERR_RESET);
    assert_true(w.sim.now <= 10); /* one round trip, no retries */
    assert_false(client.connected);
    assert_int_equal(w.hosts[0]->stack.stats.tcp.resets_sent, 1);
    tsx_finish(&w);
}

/* ---- backlog of one, many simultaneous connects ----------------------------- */

#define BURST (KITE_TCP_PCB_COUNT - 1) /* every pcb of the server: the listener + BURST */
#ifndef BURST_BYTES
#define BURST_BYTES 1000u
#endif

static void backlog_burst(uint64_t seed, struct kite_simlink_config cfg)
{
    struct w_world w;
    tsx_init(&w, 4, cfg, seed);
    struct tcp_app sapps[BURST], capps[BURST];
    struct tsx_server srv;
    tsx_server_start(&srv, w.hosts[0], 80, 1, sapps, BURST);
    for (unsigned i = 0; i < BURST; i++) {
        /* A one-segment request and response: few enough pool blocks that
         * no frame is dropped for memory (a cookie connection whose first
         * data segment is lost while a later one arrives is reset, RFC 4987
         * 3.6; and see test_sim_tcp_regressions.c for 3000 bytes). One
         * pattern for all, as the accept order varies. */
        tcp_app_init(&capps[i], BURST_BYTES, 0x40, 0x80);
        tcp_app_init(&sapps[i], BURST_BYTES, 0x80, 0x40);
    }
    /* All SYNs at the same instant, from three client hosts. */
    for (unsigned i = 0; i < BURST; i++)
        tsx_app_connect(&capps[i], w.hosts[1 + i % 3], w.hosts[0]->ip, 80);
    struct tsx_apps all_c = {capps, BURST};
    bool done = kite_sim_run_until(&w.sim, w.sim.now + 300000, tsx_apps_done, &all_c);
    const struct kite_stats_tcp *t = &w.hosts[0]->stack.stats.tcp;
    printf("  seed %llu: %u connects, backlog 1: accepted %u, cookies sent %u ok %u bad %u, "
           "passive opens %u, %.3f s\n",
           (unsigned long long)seed, BURST, srv.accepted, t->syn_cookies_sent, t->syn_cookies_ok,
           t->drop_bad_cookie, t->passive_opens, (double)w.sim.now / 1000.0);
    if (!done) {
        for (unsigned i = 0; i < BURST; i++)
            fprintf(stderr,
                    "  app %u: client rx %llu acked %llu closed %d failed %d; server rx %llu acked "
                    "%llu closed %d\n",
                    i, (unsigned long long)capps[i].received, (unsigned long long)capps[i].acked,
                    capps[i].closed, capps[i].failed, (unsigned long long)sapps[i].received,
                    (unsigned long long)sapps[i].acked, sapps[i].closed);
        for (unsigned h = 0; h < 4; h++) {
            char tag[8] = {'h', (char)('0' + h), 0};
            tsx_dump(tag, &w.hosts[h]->stack);
        }
    }
    assert_true(done);
    struct tsx_apps all_s = {sapps, BURST};
    assert_true(kite_sim_run_until(&w.sim, w.sim.now + 300000, tsx_apps_done, &all_s));
    assert_int_equal(srv.accepted, BURST);
    assert_true(t->syn_cookies_sent > 0 && t->syn_cookies_ok > 0);
    assert_int_equal(t->drop_bad_cookie, 0);
    assert_int_equal(kite_simlink_stats(w.link)->rx_no_mem, 0);
    for (unsigned i = 0; i < BURST; i++) {
        assert_false(capps[i].failed || sapps[i].failed);
        assert_int_equal(capps[i].received, BURST_BYTES);
        assert_int_equal(sapps[i].received, BURST_BYTES);
        assert_int_equal(capps[i].bad_bytes + sapps[i].bad_bytes, 0);
    }
    for (unsigned h = 0; h < 4; h++)
        assert_int_equal(w.hosts[h]->stack.stats.ipv4.drop_too_big, 0);
    tsx_listener_close(&srv.listener);
    tsx_finish(&w);
}

static void test_backlog_syn_cookies(void **state)
{
    (void)state;
    /* Lossless: under loss a cookie handshake can legitimately be reset. */
    const uint32_t delays[] = {1, 2, 10};
    for (unsigned i = 0; i < 3; i++)
        backlog_burst(i + 1u, (struct kite_simlink_config){.delay_ms = delays[i]});
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thousand_connections), cmocka_unit_test(test_short_connections_lossy),
        cmocka_unit_test(test_simultaneous_open),    cmocka_unit_test(test_simultaneous_close),
        cmocka_unit_test(test_connection_refused),   cmocka_unit_test(test_backlog_syn_cookies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
