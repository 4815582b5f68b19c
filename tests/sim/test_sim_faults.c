/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Faults on the wire: loss, duplication, reordering and jitter must be
 * absorbed by application retries; corrupted frames must be dropped by the
 * checksums (the simulated link has no Ethernet FCS on purpose) and never
 * reach an application altered.
 */
#include "test_sim_world.h"

static const struct kite_simlink_config lossy = {.loss_ppm = 100000,
                                                 .duplicate_ppm = 50000,
                                                 .reorder_ppm = 50000,
                                                 .delay_ms = 3,
                                                 .jitter_ms = 5,
                                                 .reorder_delay_ms = 12};

static void test_udp_echo_under_loss(void **state)
{
    (void)state;
    unsigned lost = 0, dup = 0, reord = 0;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        struct w_world w;
        w_init(&w, 2, lossy, seed);
        struct w_echo_server srv;
        struct w_udp_client c;
        w_echo_start(&srv, w.hosts[0]);
        w_client_start(&c, w.hosts[1], (uint8_t)seed, w.hosts[0]->ip, 64, W_PAYLOAD_MAX);
        struct w_udp_client *cs[] = {&c};

        assert_true(w_clients_run(&w, cs, 1, 80, 60));
        assert_int_equal(c.acked, 64);
        assert_int_equal(c.bad, 0);
        const struct kite_simlink_stats *st = kite_simlink_stats(w.link);
        lost += st->lost;
        dup += st->duplicated;
        reord += st->reordered;

        w_client_stop(&c);
        w_echo_stop(&srv);
        w_fini(&w);
    }
    /* The faults really happened. */
    assert_true(lost > 0 && dup > 0 && reord > 0);
}

static void test_ping_under_loss(void **state)
{
    (void)state;
    for (uint64_t seed = 20; seed < 26; seed++) {
        struct w_world w;
        w_init(&w, 2, lossy, seed);
        struct w_host *a = w.hosts[0], *b = w.hosts[1];
        unsigned answered = 0;
        for (int i = 0; i < 20; i++) {
            kite_time_ms rtt = 0;
            /* 1.5 s covers an ARP retry when the first request is lost. */
            if (w_ping_once(&w, a, b->ip, 1500, 8, &rtt) >= 0) {
                answered++;
                assert_true(rtt >= 6);
            }
        }
        assert_int_equal(answered, 20);
        assert_int_equal(a->ping.bad_data, 0);
        w_fini(&w);
    }
}

/* Every checksum drop a corrupted frame can cause, on one stack. */
static uint32_t corruption_drops(const struct kite_stack *s)
{
    return s->stats.eth.drop_not_for_us + s->stats.eth.drop_unknown_type + s->stats.eth.drop_short +
           s->stats.ipv4.drop_bad_checksum + s->stats.ipv4.drop_bad_version +
           s->stats.ipv4.drop_bad_hlen + s->stats.ipv4.drop_bad_len +
           s->stats.ipv4.drop_not_for_us + s->stats.udp.drop_bad_checksum +
           s->stats.udp.drop_bad_len + s->stats.icmp4.drop_bad_checksum;
}

/*
 * Static ARP entries keep ARP (which has no checksum) off the wire, so every
 * corrupted frame is an IP packet that a checksum must catch.
 */
static void test_corruption_caught_by_checksums(void **state)
{
    (void)state;
    for (uint64_t seed = 40; seed < 44; seed++) {
        struct w_world w;
        w_init(&w, 2, (struct kite_simlink_config){.delay_ms = 1}, seed);
        struct w_host *a = w.hosts[0], *b = w.hosts[1];
        w_run(&w, 10000); /* announcements done before corruption starts */
        assert_int_equal(kite_arp_add_static(&a->netif, b->ip, b->netif.hwaddr), KITE_ERR_OK);
        assert_int_equal(kite_arp_add_static(&b->netif, a->ip, a->netif.hwaddr), KITE_ERR_OK);
        kite_simlink_configure(w.link,
                               &(struct kite_simlink_config){.corrupt_ppm = 300000, .delay_ms = 1});

        struct w_echo_server srv;
        struct w_udp_client c;
        w_echo_start(&srv, a);
        w_client_start(&c, b, 5, a->ip, 64, W_PAYLOAD_MAX);
        struct w_udp_client *cs[] = {&c};
        assert_true(w_clients_run(&w, cs, 1, 20, 60));
        unsigned pings = 0;
        for (int i = 0; i < 20; i++)
            pings += w_ping_once(&w, b, a->ip, 20, 20, NULL) >= 0;

        assert_int_equal(c.acked, 64);
        assert_int_equal(c.bad, 0);
        assert_int_equal(pings, 20);
        assert_int_equal(b->ping.bad_data, 0);
        const struct kite_simlink_stats *st = kite_simlink_stats(w.link);
        assert_true(st->corrupted > 0);
        /* Corrupted frames were dropped and counted by some layer. Not all
         * of them: a flip in the source MAC or in Ethernet padding is covered
         * by no checksum but alters nothing that is delivered. */
        uint32_t drops = corruption_drops(&a->stack) + corruption_drops(&b->stack);
        assert_true(drops <= st->corrupted);
        assert_true(drops >= st->corrupted / 2u);

        w_client_stop(&c);
        w_echo_stop(&srv);
        w_fini(&w);
    }
}

/* With dynamic ARP a corrupted ARP packet may mislead a cache, which can
 * stall a peer; but nothing altered may ever reach an application. */
static void test_corruption_with_arp_never_delivers_garbage(void **state)
{
    (void)state;
    for (uint64_t seed = 60; seed < 64; seed++) {
        struct w_world w;
        w_init(&w, 3,
               (struct kite_simlink_config){
                   .corrupt_ppm = 200000, .loss_ppm = 20000, .delay_ms = 1, .jitter_ms = 2},
               seed);
        struct w_echo_server srv;
        struct w_udp_client c1, c2;
        w_echo_start(&srv, w.hosts[0]);
        w_client_start(&c1, w.hosts[1], 1, w.hosts[0]->ip, 32, 900);
        w_client_start(&c2, w.hosts[2], 2, w.hosts[0]->ip, 32, 900);
        struct w_udp_client *cs[] = {&c1, &c2};
        (void)w_clients_run(&w, cs, 2, 1500, 20);
        assert_int_equal(c1.bad + c2.bad, 0);
        assert_true(c1.acked + c2.acked > 0);
        assert_true(kite_simlink_stats(w.link)->corrupted > 0);
        w_client_stop(&c1);
        w_client_stop(&c2);
        w_echo_stop(&srv);
        w_fini(&w);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp_echo_under_loss),
        cmocka_unit_test(test_ping_under_loss),
        cmocka_unit_test(test_corruption_caught_by_checksums),
        cmocka_unit_test(test_corruption_with_arp_never_delivers_garbage),
    };
    return cmocka_run_group_tests(tests, 0, NULL);
}
