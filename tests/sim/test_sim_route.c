/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Three stacks on two simulated links: A on 192.0.2.0/24, B on
 * 198.51.100.0/24, and R, a kite stack with a netif on each, forwarding
 * between them (RFC 1812). R sends 576-byte packets at most onto B's link, so
 * A's TCP (DF set, RFC 1191) learns the path MTU from R's "fragmentation
 * needed" although B offers an MSS of 1460;
 * UDP datagrams A sends larger than that are fragmented by R. Both links lose,
 * duplicate, reorder and corrupt frames; transfers are byte-exact and every
 * pool of the three stacks is back to zero at the end.
 */
#include "tcp_apps.h"

#if KITE_IP_FORWARD
#define A_IP KITE_IP4(192, 0, 2, 10)
#define R1_IP KITE_IP4(192, 0, 2, 1)
#define R2_IP KITE_IP4(198, 51, 100, 1)
#define B_IP KITE_IP4(198, 51, 100, 10)
#define NARROW_MTU 576u

struct rworld {
    struct kite_sim sim;
    struct kite_simlink *l1, *l2;
    struct w_host *a, *r, *b;
    struct kite_netif r2; /* R's netif on B's link */
};

static struct w_host *host_on(struct rworld *w, struct kite_simlink *link, uint8_t id,
                              uint64_t seed)
{
    struct w_host *h = calloc(1, sizeof *h);
    assert_non_null(h);
    struct kite_stack_config cfg = {.seed = seed * 7u + id};
    assert_int_equal(kite_stack_init(&h->stack, &cfg), KITE_ERR_OK);
    const uint8_t mac[6] = {0x02, 0, 0, 0, 0x02, id};
    assert_int_equal(kite_simlink_add_netif(link, &h->stack, &h->netif, "sim0", mac), KITE_ERR_OK);
    kite_sim_add_stack(&w->sim, &h->stack);
    return h;
}

static void rworld_init(struct rworld *w, struct kite_simlink_config faults, uint64_t seed)
{
    memset(w, 0, sizeof *w);
    kite_sim_init(&w->sim, 0);
    faults.seed = seed;
    w->l1 = kite_simlink_new(&faults);
    faults.seed = seed + 1000u;
    w->l2 = kite_simlink_new(&faults);
    kite_sim_add_link(&w->sim, w->l1);
    kite_sim_add_link(&w->sim, w->l2);
    w->a = host_on(w, w->l1, 1, seed);
    w->r = host_on(w, w->l1, 2, seed);
    w->b = host_on(w, w->l2, 3, seed);
    const uint8_t mac[6] = {0x02, 0, 0, 0, 0x02, 4};
    assert_int_equal(kite_simlink_add_netif(w->l2, &w->r->stack, &w->r2, "sim1", mac), KITE_ERR_OK);
    kite_netif_set_ipv4(&w->a->netif, A_IP, 24, R1_IP);
    kite_netif_set_ipv4(&w->r->netif, R1_IP, 24, 0);
    kite_netif_set_ipv4(&w->r2, R2_IP, 24, 0);
    kite_netif_set_ipv4(&w->b->netif, B_IP, 24, R2_IP);
    kite_netif_set_default(&w->a->stack, &w->a->netif);
    kite_netif_set_default(&w->b->stack, &w->b->netif);
    w->r2.mtu = NARROW_MTU; /* B keeps 1500 and offers an MSS of 1460 */
    w->a->ip = A_IP;
    w->b->ip = B_IP;
    kite_ipv4_set_forwarding(&w->r->stack, true);
}

static void rworld_fini(struct rworld *w)
{
    struct w_host *hosts[] = {w->a, w->r, w->b};
    kite_simlink_detach(w->l1, &w->a->netif);
    kite_simlink_detach(w->l1, &w->r->netif);
    kite_simlink_detach(w->l2, &w->r2);
    kite_simlink_detach(w->l2, &w->b->netif);
    kite_netif_remove(&w->r2);
    for (unsigned i = 0; i < 3; i++)
        kite_netif_remove(&hosts[i]->netif);
    for (unsigned i = 0; i < 3; i++)
        kt_assert_pools_empty(&hosts[i]->stack); /* before deinit, which frees leftovers */
    for (unsigned i = 0; i < 3; i++) {
        kite_stack_deinit(&hosts[i]->stack);
        free(hosts[i]);
    }
    kite_simlink_free(w->l1);
    kite_simlink_free(w->l2);
}

static const struct kite_simlink_config faults = {.loss_ppm = 10000,
                                                  .duplicate_ppm = 10000,
                                                  .reorder_ppm = 20000,
                                                  .corrupt_ppm = 2000,
                                                  .delay_ms = 2,
                                                  .jitter_ms = 2,
                                                  .reorder_delay_ms = 6};

/* TCP both ways through R: A's segments shrink to the narrow link's MTU. */
static void tcp_through_router_learns_path_mtu(void **state)
{
    (void)state;
    uint64_t bytes = KITE_PBUF_POOL_COUNT >= 256 ? 2u << 20 : 256u << 10;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        struct rworld w;
        rworld_init(&w, faults, seed);
        struct tcp_server srv = {0};
        struct tcp_app client, server;
        tcp_app_init(&client, bytes, 0x31, 0x42);
        tcp_app_init(&server, bytes, 0x42, 0x31);
        srv.app = &server;
        tcp_server_start(&srv, w.b, 80, 4);
        tcp_app_connect(&client, w.a, B_IP, 80);
        struct tcp_pair_done d = {&client, &server};
        assert_true(kite_sim_run_until(&w.sim, w.sim.now + 600000, tcp_pair_finished, &d));
        assert_false(client.failed || server.failed);
        assert_true(client.received == bytes && server.received == bytes);
        assert_true(client.bad_bytes == 0 && server.bad_bytes == 0);
        const struct kite_stats_ipv4 *ra = &w.a->stack.stats.ipv4, *rr = &w.r->stack.stats.ipv4;
        assert_true(ra->pmtu_updates >= 1);
        assert_int_equal(kite_ipv4_path_mtu(&w.a->stack, &w.a->netif, B_IP), NARROW_MTU);
        assert_true(rr->forwarded > 0 && rr->drop_too_big > 0);
        kite_tcp_listener_close(srv.listener);
        kite_sim_run_until(&w.sim, w.sim.now + 120000, w_never, NULL); /* TIME_WAIT ends */
        rworld_fini(&w);
    }
}

struct udp_sink {
    unsigned got, bad;
};

static void sink_recv(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                      const struct kite_addr *src, uint16_t port, const struct kite_addr *dst)
{
    (void)src, (void)port, (void)dst;
    struct udp_sink *s = arg;
    uint8_t buf[1400];
    uint16_t n = kite_pbuf_copy_out(p, buf, sizeof buf, 0);
    bool ok = n == 1400;
    for (unsigned i = 0; ok && i < n; i++)
        ok = buf[i] == (uint8_t)(i * 3u);
    s->got += ok;
    s->bad += !ok;
    kite_pbuf_free(pcb->stack, p);
}

/* UDP without DF: R cuts A's 1400-byte datagrams for the narrow link and B
 * reassembles them (lossless links: every datagram counts). */
static void udp_fragmented_by_router(void **state)
{
    (void)state;
    struct rworld w;
    rworld_init(&w, (struct kite_simlink_config){.delay_ms = 1}, 9);
    struct udp_sink sink = {0};
    struct kite_udp_pcb *rx = kite_udp_new(&w.b->stack);
    assert_int_equal(kite_udp_bind(rx, NULL, 9000), KITE_ERR_OK);
    kite_udp_recv(rx, sink_recv, &sink);
    struct kite_udp_pcb *tx = kite_udp_new(&w.a->stack);
    uint8_t data[1400];
    for (unsigned i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 3u);
    struct kite_addr dst = KITE_ADDR_V4(B_IP);
    for (unsigned i = 0; i < 20; i++) {
        struct kite_pbuf *p =
            kite_pbuf_from_data(&w.a->stack, KITE_LAYER_TRANSPORT, data, sizeof data, true);
        assert_non_null(p);
        (void)kite_udp_sendto(tx, p, &dst, 9000);
        kite_pbuf_free(&w.a->stack, p);
        kite_sim_run_until(&w.sim, w.sim.now + 50, w_never, NULL);
    }
    kite_sim_run_until(&w.sim, w.sim.now + 2000, w_never, NULL);
    assert_int_equal(sink.bad, 0);
    assert_true(sink.got >= 19); /* (the first may wait for ARP twice over) */
    assert_true(w.r->stack.stats.ipv4.frag_datagrams >= 19);
    assert_true(w.b->stack.stats.ipv4.reass_ok >= 19);
    kite_udp_remove(rx);
    kite_udp_remove(tx);
    kite_sim_run_until(&w.sim, w.sim.now + KITE_IP_REASS_TIMEOUT_MS, w_never, NULL);
    rworld_fini(&w);
}

#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
#if KITE_IP_FORWARD && KITE_PMTU
        cmocka_unit_test(tcp_through_router_learns_path_mtu),
#endif
#if KITE_IP_FORWARD && KITE_IP_FRAG && KITE_IP_REASSEMBLY
        cmocka_unit_test(udp_fragmented_by_router),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
