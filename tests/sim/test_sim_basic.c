/* SPDX-License-Identifier: BSD-3-Clause */
/* Two stacks on a lossless simulated link: the world, ARP, ping, UDP echo. */
#include "test_sim_world.h"

static const struct kite_simlink_config lossless = {.delay_ms = 5};

static void test_idle_world_has_no_deadline(void **state)
{
    (void)state;
    struct kite_sim sim;
    kite_sim_init(&sim, 100);
    assert_int_equal(kite_sim_next_deadline(&sim), KITE_TIME_NEVER);
    assert_false(kite_sim_step(&sim, 250));
    assert_int_equal(sim.now, 250);
    assert_false(kite_sim_run_until(&sim, 400, w_never, NULL));
    assert_int_equal(sim.now, 400);
}

static void test_ping_rtt_is_twice_the_delay(void **state)
{
    (void)state;
    struct w_world w;
    w_init(&w, 2, lossless, 1);
    struct w_host *a = w.hosts[0], *b = w.hosts[1];

    /* Let the gratuitous ARP announcements pass. */
    w_run(&w, 10000);
    assert_int_equal(kite_simlink_next_deadline(w.link), KITE_TIME_NEVER);

    /* Unless an announcement already taught a the address, the first ping
     * waits for ARP: request and reply cost one more round trip. */
    uint8_t mac[6];
    bool known = kite_arp_lookup(&a->stack, b->ip, mac);
    kite_time_ms rtt = 0;
    assert_int_equal(w_ping_once(&w, a, b->ip, 100, 1, &rtt), 0);
    assert_int_equal(rtt, known ? 10 : 20);
    assert_true(kite_arp_lookup(&a->stack, b->ip, mac));
    assert_memory_equal(mac, b->netif.hwaddr, 6);

    /* Resolved: exactly request + reply on the wire. */
    for (int i = 0; i < 5; i++) {
        assert_int_equal(w_ping_once(&w, a, b->ip, 100, 1, &rtt), 0);
        assert_int_equal(rtt, 10);
    }
    assert_int_equal(b->stack.stats.icmp4.echo_replies_sent, 6);
    assert_int_equal(a->ping.bad_data, 0);
    assert_int_equal(a->ping.dup_replies, 0);
    w_fini(&w);
}

static void test_udp_echo_lossless(void **state)
{
    (void)state;
    struct w_world w;
    w_init(&w, 2, lossless, 2);
    struct w_echo_server srv;
    struct w_udp_client c;
    w_echo_start(&srv, w.hosts[0]);
    w_client_start(&c, w.hosts[1], 1, w.hosts[0]->ip, 40, W_PAYLOAD_MAX);
    struct w_udp_client *cs[] = {&c};

    /* The ARP queue keeps only the last few datagrams of the first burst
     * while the address resolves; the next round sends the rest. Nothing is
     * lost on the wire, so every datagram is echoed exactly once. */
    assert_true(w_clients_run(&w, cs, 1, 50, 3));
    assert_int_equal(c.bad, 0);
    assert_int_equal(c.dups, 0);
    assert_int_equal(c.acked, 40);
    assert_int_equal(srv.echoed, 40);
    assert_true(w.hosts[1]->stack.stats.arp.drop_queue_full > 0);
    assert_int_equal(kite_simlink_stats(w.link)->lost, 0);

    w_client_stop(&c);
    w_echo_stop(&srv);
    w_fini(&w);
}

static void test_udp_echo_first_round_after_arp(void **state)
{
    (void)state;
    struct w_world w;
    w_init(&w, 2, lossless, 3);
    struct w_echo_server srv;
    struct w_udp_client c;
    w_echo_start(&srv, w.hosts[0]);
    w_client_start(&c, w.hosts[1], 9, w.hosts[0]->ip, 60, 600);
    struct w_udp_client *cs[] = {&c};

    /* Resolve first; then a single burst of 60 is echoed in full. */
    assert_int_equal(w_ping_once(&w, w.hosts[1], w.hosts[0]->ip, 100, 1, NULL), 0);
    assert_true(w_clients_run(&w, cs, 1, 100, 1));
    assert_int_equal(c.sent, 60);
    assert_int_equal(c.acked, 60);
    assert_int_equal(c.bad, 0);

    w_client_stop(&c);
    w_echo_stop(&srv);
    w_fini(&w);
}

static void test_detach_drops_frames_in_flight(void **state)
{
    (void)state;
    struct w_world w;
    w_init(&w, 2, (struct kite_simlink_config){.delay_ms = 50}, 4);
    struct w_host *a = w.hosts[0], *b = w.hosts[1];
    w_run(&w, 10000); /* gratuitous ARP done */
    assert_int_equal(kite_simlink_next_deadline(w.link), KITE_TIME_NEVER);

    w_ping_send(a, b->ip); /* the ARP request is now in flight to b */
    assert_true(kite_simlink_next_deadline(w.link) != KITE_TIME_NEVER);
    kite_simlink_detach(w.link, &b->netif);
    assert_int_equal(kite_simlink_next_deadline(w.link), KITE_TIME_NEVER);
    assert_false(kite_netif_is_up(&b->netif)); /* unplugged: no carrier */
    w_ping_send(b, a->ip);                     /* refused or dropped by b's stack, never sent */
    assert_int_equal(kite_simlink_next_deadline(w.link), KITE_TIME_NEVER);
    w_run(&w, 10000); /* a gives up on ARP */
    assert_int_equal(a->ping.replies, 0);
    w_fini(&w); /* detaching twice is harmless */
}

/* With no delay, ARP, request and reply all happen at one virtual instant. */
static void test_zero_delay_settles_at_one_instant(void **state)
{
    (void)state;
    struct w_world w;
    w_init(&w, 3, (struct kite_simlink_config){0}, 6);
    w_run(&w, 10000);
    const kite_time_ms start = w.sim.now;
    for (unsigned i = 0; i < 3; i++) {
        for (unsigned j = 0; j < 3; j++) {
            kite_time_ms rtt = 99;
            if (i == j)
                continue;
            assert_int_equal(w_ping_once(&w, w.hosts[i], w.hosts[j]->ip, 10, 1, &rtt), 0);
            assert_int_equal(rtt, 0);
        }
    }
    assert_int_equal(w.sim.now, start);
    w_fini(&w);
}

/* Takes every block of one pool of the stack; how many. */
static unsigned hold_all(struct kite_stack *stack, enum kite_pbuf_type type, uint16_t len,
                         struct kite_pbuf **held, unsigned max)
{
    unsigned n = 0;
    while (n < max && (held[n] = kite_pbuf_alloc(stack, 0, len, type)) != NULL)
        n++;
    assert_null(kite_pbuf_alloc(stack, 0, len, type));
    return n;
}

/* A receiver whose POOL is empty still takes a frame in a RAM block
 * (kite_pbuf_alloc_rx); with no RAM block either, the driver drops it. */
static void test_rx_no_mem_counted(void **state)
{
    (void)state;
    struct w_world w;
    w_init(&w, 2, lossless, 8);
    struct w_host *a = w.hosts[0], *b = w.hosts[1];
    assert_int_equal(w_ping_once(&w, a, b->ip, 100, 1, NULL), 0);

    struct kite_pbuf *pool[KITE_PBUF_POOL_COUNT], *ram[KITE_PBUF_RAM_COUNT];
    unsigned n = hold_all(&b->stack, KITE_PBUF_POOL, 100, pool, KITE_PBUF_POOL_COUNT);
    assert_int_equal(w_ping_once(&w, a, b->ip, 100, 1, NULL), 0);
    assert_int_equal(kite_simlink_stats(w.link)->rx_no_mem, 0);
    unsigned m = hold_all(&b->stack, KITE_PBUF_RAM, 100, ram, KITE_PBUF_RAM_COUNT);
    assert_int_equal(w_ping_once(&w, a, b->ip, 100, 1, NULL), -1);
    assert_int_equal(kite_simlink_stats(w.link)->rx_no_mem, 1);
    for (unsigned i = 0; i < n; i++)
        kite_pbuf_free(&b->stack, pool[i]);
    for (unsigned i = 0; i < m; i++)
        kite_pbuf_free(&b->stack, ram[i]);
    assert_int_equal(w_ping_once(&w, a, b->ip, 100, 1, NULL), 0);
    w_fini(&w);
}

/* The same seed gives the same run, to the millisecond and the frame. */
static void run_lossy(uint64_t seed, struct kite_simlink_stats *stats, kite_time_ms *end,
                      unsigned *sent)
{
    const struct kite_simlink_config cfg = {.loss_ppm = 150000,
                                            .duplicate_ppm = 50000,
                                            .reorder_ppm = 50000,
                                            .delay_ms = 2,
                                            .jitter_ms = 4,
                                            .reorder_delay_ms = 7};
    struct w_world w;
    w_init(&w, 2, cfg, seed);
    struct w_echo_server srv;
    struct w_udp_client c;
    w_echo_start(&srv, w.hosts[0]);
    w_client_start(&c, w.hosts[1], 3, w.hosts[0]->ip, 30, 300);
    struct w_udp_client *cs[] = {&c};
    assert_true(w_clients_run(&w, cs, 1, 60, 100));
    *stats = *kite_simlink_stats(w.link);
    *end = w.sim.now;
    *sent = c.sent;
    w_client_stop(&c);
    w_echo_stop(&srv);
    w_fini(&w);
}

static void test_deterministic_from_seed(void **state)
{
    (void)state;
    for (uint64_t seed = 10; seed < 14; seed++) {
        struct kite_simlink_stats s1, s2;
        kite_time_ms t1, t2;
        unsigned n1, n2;
        run_lossy(seed, &s1, &t1, &n1);
        run_lossy(seed, &s2, &t2, &n2);
        assert_memory_equal(&s1, &s2, sizeof s1);
        assert_int_equal(t1, t2);
        assert_int_equal(n1, n2);
        assert_true(s1.lost > 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_world_has_no_deadline),
        cmocka_unit_test(test_ping_rtt_is_twice_the_delay),
        cmocka_unit_test(test_udp_echo_lossless),
        cmocka_unit_test(test_udp_echo_first_round_after_arp),
        cmocka_unit_test(test_detach_drops_frames_in_flight),
        cmocka_unit_test(test_zero_delay_settles_at_one_instant),
        cmocka_unit_test(test_rx_no_mem_counted),
        cmocka_unit_test(test_deterministic_from_seed),
    };
    return cmocka_run_group_tests(tests, 0, NULL);
}
