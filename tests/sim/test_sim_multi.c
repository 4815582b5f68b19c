/* SPDX-License-Identifier: BSD-3-Clause */
/* Three and more stacks on one hub-like link: every pair, and broadcast. */
#include "test_sim_world.h"

static void test_three_stacks_all_pairs_ping(void **state)
{
    (void)state;
    struct w_world w;
    w_init(&w, 3, (struct kite_simlink_config){.delay_ms = 2, .jitter_ms = 1}, 7);
    for (unsigned i = 0; i < 3; i++) {
        for (unsigned j = 0; j < 3; j++) {
            if (i == j)
                continue;
            kite_time_ms rtt = 0;
            assert_int_equal(w_ping_once(&w, w.hosts[i], w.hosts[j]->ip, 200, 1, &rtt), 0);
            assert_true(rtt >= 4 && rtt <= 12);
        }
    }
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(w.hosts[i]->ping.replies, 2);
        assert_int_equal(w.hosts[i]->ping.bad_data, 0);
        /* Each host answered the two others. */
        assert_int_equal(w.hosts[i]->stack.stats.icmp4.echo_replies_sent, 2);
    }
    w_fini(&w);
}

static void test_three_stacks_udp_echo(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        struct w_world w;
        w_init(&w, 3, (struct kite_simlink_config){.delay_ms = 1, .jitter_ms = 3}, seed);
        struct w_echo_server srv;
        struct w_udp_client c1, c2;
        w_echo_start(&srv, w.hosts[0]);
        w_client_start(&c1, w.hosts[1], 1, w.hosts[0]->ip, 50, W_PAYLOAD_MAX);
        w_client_start(&c2, w.hosts[2], 2, w.hosts[0]->ip, 50, 200);
        struct w_udp_client *cs[] = {&c1, &c2};
        assert_true(w_clients_run(&w, cs, 2, 50, 5));
        assert_int_equal(c1.acked, 50);
        assert_int_equal(c2.acked, 50);
        assert_int_equal(c1.bad + c2.bad + c1.dups + c2.dups, 0);
        /* A hub shows unicast frames to the third host, which drops them. */
        assert_true(w.hosts[2]->stack.stats.eth.drop_not_for_us > 0);
        w_client_stop(&c1);
        w_client_stop(&c2);
        w_echo_stop(&srv);
        w_fini(&w);
    }
}

struct bcast_rx {
    unsigned count;
    uint32_t dst;
    uint32_t src;
    uint8_t data[16];
    uint16_t len;
};

static void bcast_recv(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                       const struct kite_addr *src, uint16_t src_port, const struct kite_addr *dst)
{
    struct bcast_rx *rx = arg;
    (void)src_port;
    rx->count++;
    rx->src = kite_addr_v4(src);
    rx->dst = kite_addr_v4(dst);
    rx->len = kite_pbuf_copy_out(p, rx->data, sizeof rx->data, 0);
    kite_pbuf_free(pcb->stack, p);
}

static void send_bcast(struct w_host *h, struct kite_udp_pcb *pcb, uint32_t dst)
{
    static const char msg[] = "hello, all";
    struct kite_pbuf *p =
        kite_pbuf_from_data(&h->stack, KITE_LAYER_TRANSPORT, msg, sizeof msg, true);
    assert_non_null(p);
    struct kite_addr to = KITE_ADDR_V4(dst);
    assert_int_equal(kite_udp_sendto(pcb, p, &to, 5000), KITE_ERR_OK);
    kite_pbuf_free(&h->stack, p);
}

static void test_broadcast_reaches_all_hosts(void **state)
{
    (void)state;
    enum { N = 5 };
    struct w_world w;
    w_init(&w, N, (struct kite_simlink_config){.delay_ms = 1}, 9);
    struct kite_udp_pcb *pcbs[N];
    struct bcast_rx rx[N];
    memset(rx, 0, sizeof rx);
    for (unsigned i = 0; i < N; i++) {
        pcbs[i] = kite_udp_new(&w.hosts[i]->stack);
        assert_non_null(pcbs[i]);
        assert_int_equal(kite_udp_bind(pcbs[i], NULL, 5000), KITE_ERR_OK);
        kite_udp_recv(pcbs[i], bcast_recv, &rx[i]);
    }
    kite_udp_set_flags(pcbs[0], KITE_UDP_FLAG_BROADCAST, true);

    const uint32_t targets[] = {KITE_IP4_BROADCAST, KITE_IP4(192, 0, 2, 255)};
    for (unsigned t = 0; t < 2; t++) {
        send_bcast(w.hosts[0], pcbs[0], targets[t]);
        w_run(&w, 100);
        /* The hub does not send a frame back to its sender. */
        assert_int_equal(rx[0].count, 0);
        for (unsigned i = 1; i < N; i++) {
            assert_int_equal(rx[i].count, t + 1);
            assert_int_equal(rx[i].dst, targets[t]);
            assert_int_equal(rx[i].src, w.hosts[0]->ip);
            assert_int_equal(rx[i].len, sizeof "hello, all");
            assert_string_equal((const char *)rx[i].data, "hello, all");
        }
    }
    /* No ARP is needed for broadcast. */
    assert_int_equal(w.hosts[0]->stack.stats.arp.requests_sent, 0);

    for (unsigned i = 0; i < N; i++)
        kite_udp_remove(pcbs[i]);
    w_fini(&w);
}

static void test_broadcast_needs_flag(void **state)
{
    (void)state;
    struct w_world w;
    w_init(&w, 2, (struct kite_simlink_config){.delay_ms = 1}, 11);
    struct kite_udp_pcb *tx = kite_udp_new(&w.hosts[0]->stack);
    assert_non_null(tx);
    struct kite_pbuf *p =
        kite_pbuf_from_data(&w.hosts[0]->stack, KITE_LAYER_TRANSPORT, "x", 1, true);
    assert_non_null(p);
    struct kite_udp_pcb *rx = kite_udp_new(&w.hosts[1]->stack);
    assert_non_null(rx);
    assert_int_equal(kite_udp_bind(rx, NULL, 5000), KITE_ERR_OK);
    struct bcast_rx got;
    memset(&got, 0, sizeof got);
    kite_udp_recv(rx, bcast_recv, &got);
    /* Like SO_BROADCAST: refused as an invalid argument without the flag, to
     * both the limited and the directed broadcast address, and nothing is sent. */
    const uint32_t targets[] = {KITE_IP4_BROADCAST, KITE_IP4(192, 0, 2, 255)};
    for (unsigned t = 0; t < 2; t++) {
        struct kite_addr to = KITE_ADDR_V4(targets[t]);
        assert_int_equal(kite_udp_sendto(tx, p, &to, 5000), KITE_ERR_VAL);
    }
    w_run(&w, 100);
    assert_int_equal(got.count, 0);
    assert_int_equal(w.hosts[0]->stack.stats.udp.tx, 0);
    /* With the flag the same send goes out and arrives. */
    kite_udp_set_flags(tx, KITE_UDP_FLAG_BROADCAST, true);
    struct kite_addr to = KITE_ADDR_V4(KITE_IP4_BROADCAST);
    assert_int_equal(kite_udp_sendto(tx, p, &to, 5000), KITE_ERR_OK);
    w_run(&w, 100);
    assert_int_equal(got.count, 1);
    kite_pbuf_free(&w.hosts[0]->stack, p);
    kite_udp_remove(tx);
    kite_udp_remove(rx);
    w_fini(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_stacks_all_pairs_ping),
        cmocka_unit_test(test_three_stacks_udp_echo),
        cmocka_unit_test(test_broadcast_reaches_all_hosts),
        cmocka_unit_test(test_broadcast_needs_flag),
    };
    return cmocka_run_group_tests(tests, 0, NULL);
}
