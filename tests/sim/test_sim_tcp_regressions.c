/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Regression tests for TCP core bugs found in simulation (both fixed).
 *
 * 1. Pure ACKs below snd_max.
 *
 * A pure ACK must carry the highest sequence number sent (4.4BSD tcp_output
 * uses snd_max for segments without data, SYN or FIN). kite sends it at
 * snd_nxt, which a retransmission timeout pulls back to snd_una; the peer,
 * which already holds those bytes, finds the ACK unacceptable (RFC 9293
 * 3.10.7.4: SEG.SEQ < RCV.NXT) and drops it without looking at its ACK field.
 * When both ends time out together (a bidirectional transfer through an
 * outage) neither learns that its data arrived, and both die of TIMEOUT.
 * Seen as a 16 MiB / 10 % loss transfer dying at 490 s (test_sim_tcp_bulk,
 * before the lead's later output changes moved the seeds).
 *
 * The test watches every segment each host sends (a capture tap) during
 * bidirectional transfers under loss and counts pure ACKs below the highest
 * sequence number already sent. Expected: none.
 */
#include "tcp_sim_extra.h"

#define PURE_ACK_BYTES (1u << 20)

static unsigned old_pure_acks(uint64_t seed)
{
    struct kite_simlink_config cfg = {.delay_ms = 5, .jitter_ms = 5, .loss_ppm = 50000};
    struct w_world w;
    tsx_init(&w, 2, cfg, seed);
    struct tsx_seqmon mon[2] = {{0}};
    for (unsigned i = 0; i < 2; i++)
        kite_netif_set_capture(&w.hosts[i]->netif, tsx_seqmon_tap, &mon[i]);
    struct tcp_server srv = {0};
    struct tcp_app client, server;
    tcp_app_init(&client, PURE_ACK_BYTES, 0x11, 0x22);
    tcp_app_init(&server, PURE_ACK_BYTES, 0x22, 0x11);
    srv.app = &server;
    tcp_server_start(&srv, w.hosts[0], 80, 4);
    tcp_app_connect(&client, w.hosts[1], w.hosts[0]->ip, 80);
    struct tcp_pair_done d = {&client, &server};
    bool done = kite_sim_run_until(&w.sim, 3600000, tcp_pair_finished, &d);
    printf("  seed %llu: pure ACKs below snd_max: server %u, client %u; %s/%s\n",
           (unsigned long long)seed, mon[0].old_acks, mon[1].old_acks,
           client.failed ? kite_err_name(client.err) : "ok",
           server.failed ? kite_err_name(server.err) : "ok");
    for (unsigned i = 0; i < 2; i++)
        kite_netif_set_capture(&w.hosts[i]->netif, NULL, NULL);
    if (client.pcb != NULL)
        kite_tcp_abort(client.pcb);
    if (server.pcb != NULL)
        kite_tcp_abort(server.pcb);
    tsx_listener_close(&srv.listener);
    tsx_finish(&w);
    /* The bug killed both ends with TIMEOUT: the transfer itself must
     * complete, byte-exact, not just be watched. */
    assert_true(done);
    assert_false(client.failed);
    assert_false(server.failed);
    assert_true(client.closed && server.closed);
    assert_int_equal(client.received, PURE_ACK_BYTES);
    assert_int_equal(server.received, PURE_ACK_BYTES);
    assert_int_equal(client.bad_bytes + server.bad_bytes, 0);
    return mon[0].old_acks + mon[1].old_acks;
}

static void test_pure_ack_at_snd_max(void **state)
{
    (void)state;
    unsigned old = 0;
    for (uint64_t seed = 1; seed <= 3; seed++)
        old += old_pure_acks(seed);
    assert_int_equal(old, 0);
}

/*
 * 2. Receive deadlock when out-of-order queues and send queues hold every
 * PBUF_POOL block. Seven connections accepted at once (backlog 1, SYN
 * cookies), each sending 3000 bytes both ways: the server's send queues
 * (6 blocks each) and out-of-order segments (3 blocks per 1514-byte frame,
 * KITE_TCP_OOO_SEGS per connection, no stack-wide cap) take all 32 pool
 * blocks, so the driver can no longer receive anything (rx_no_mem grows):
 * neither the ACKs that would free the send queues nor the retransmissions
 * that would drain the out-of-order queues ever get in, and the stalled
 * connections never complete (3 of 7 do; rx_no_mem 99). Out-of-order data is
 * only an optimisation and may be reneged (RFC 2018 8): free it when the pool
 * runs dry (lwIP's tcp_free_ooseq does this), or cap the out-of-order blocks
 * per stack. Expected: every connection completes.
 *
 * In every profile: as many connections as the server has pcbs besides the
 * listener, each sending more than its share of the whole pool (the figures
 * above are the default build's); the server's pool then peaks at the blocks
 * TCP may take for written data (count - KITE_TCP_POOL_RESERVE).
 */
#define BURST (KITE_TCP_PCB_COUNT - 1) /* every pcb of the server: the listener + BURST */
/* Each way per connection: together more than the whole PBUF_POOL (3000 bytes
 * in the default build, 1.1 times the pool over 7 connections). */
#define POOL_BYTES ((uint64_t)KITE_PBUF_POOL_COUNT * KITE_PBUF_POOL_BUFSIZE)
#define BURST_BYTES                                                                                \
    (POOL_BYTES * 11u / 10u / BURST > 3000u ? POOL_BYTES * 11u / 10u / BURST : 3000u)

static void test_pool_exhaustion_by_ooo(void **state)
{
    (void)state;
    struct w_world w;
    tsx_init(&w, 4, (struct kite_simlink_config){.delay_ms = 1}, 1);
    struct tcp_app sapps[BURST], capps[BURST];
    struct tsx_server srv;
    tsx_server_start(&srv, w.hosts[0], 80, 1, sapps, BURST);
    for (unsigned i = 0; i < BURST; i++) {
        tcp_app_init(&capps[i], BURST_BYTES, 0x40, 0x80);
        tcp_app_init(&sapps[i], BURST_BYTES, 0x80, 0x40);
    }
    for (unsigned i = 0; i < BURST; i++)
        tsx_app_connect(&capps[i], w.hosts[1 + i % 3], w.hosts[0]->ip, 80);
    /* Clients first, then the servers (which may still wait for their last
     * ACK): both ends of every connection must finish. */
    struct tsx_apps clients = {capps, BURST};
    (void)kite_sim_run_until(&w.sim, w.sim.now + 600000, tsx_apps_done, &clients);
    struct tsx_apps servers = {sapps, srv.accepted};
    (void)kite_sim_run_until(&w.sim, w.sim.now + 600000, tsx_apps_done, &servers);
    unsigned ok = 0, server_ok = 0;
    uint64_t bad = 0;
    for (unsigned i = 0; i < BURST; i++) {
        ok += capps[i].closed && capps[i].received == BURST_BYTES;
        server_ok += i < srv.accepted && sapps[i].closed && sapps[i].received == BURST_BYTES;
        bad += capps[i].bad_bytes + (i < srv.accepted ? sapps[i].bad_bytes : 0);
    }
    const struct kite_pool *pool = kite_stack_pool(&w.hosts[0]->stack, KITE_POOL_PBUF_POOL);
    printf("  %u/%u connections completed (%llu bytes each way); server rx_no_mem %u, pbuf pool "
           "peak %u/%u\n",
           ok, BURST, (unsigned long long)BURST_BYTES, kite_simlink_stats(w.link)->rx_no_mem,
           pool->peak, pool->count);
    for (unsigned i = 0; i < BURST; i++) {
        if (capps[i].pcb != NULL)
            kite_tcp_abort(capps[i].pcb);
        if (i < srv.accepted && sapps[i].pcb != NULL)
            kite_tcp_abort(sapps[i].pcb);
    }
    tsx_listener_close(&srv.listener);
    tsx_finish(&w);
    assert_int_equal(ok, BURST);
    assert_int_equal(srv.accepted, BURST);
    assert_int_equal(server_ok, BURST);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pure_ack_at_snd_max),
        cmocka_unit_test(test_pool_exhaustion_by_ooo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
