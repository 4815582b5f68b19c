/* SPDX-License-Identifier: BSD-3-Clause */
/* ARP on a simulated link: retries, giving up, and recovering from loss. */
#include "test_sim_world.h"

/* Times at which a netif sent ARP requests for one target. */
struct arp_log {
    uint32_t target;
    unsigned count;
    kite_time_ms at[16];
};

static void arp_tap(void *ctx, const struct kite_netif *netif, const struct kite_pbuf *p,
                    enum kite_capture_dir dir)
{
    struct arp_log *log = ctx;
    uint8_t f[42];
    if (dir != KITE_CAPTURE_OUT || kite_pbuf_copy_out(p, f, sizeof f, 0) != sizeof f)
        return;
    /* Ethernet type 0x0806, ARP opcode 1 (RFC 826), target IP at offset 38. */
    uint32_t tpa = (uint32_t)f[38] << 24 | (uint32_t)f[39] << 16 | (uint32_t)f[40] << 8 | f[41];
    if (f[12] != 0x08 || f[13] != 0x06 || f[20] != 0 || f[21] != 1 || tpa != log->target)
        return;
    if (log->count < 16)
        log->at[log->count] = kite_stack_now(netif->stack);
    log->count++;
}

static void send_udp(struct w_host *h, struct kite_udp_pcb *pcb, uint32_t dst, uint8_t tag)
{
    uint8_t data[20];
    memset(data, tag, sizeof data);
    struct kite_pbuf *p =
        kite_pbuf_from_data(&h->stack, KITE_LAYER_TRANSPORT, data, sizeof data, true);
    assert_non_null(p);
    struct kite_addr to = KITE_ADDR_V4(dst);
    /* Queued behind ARP: the send itself succeeds (or reports the queue). */
    (void)kite_udp_sendto(pcb, p, &to, 9);
    kite_pbuf_free(&h->stack, p);
}

static void test_arp_retries_then_gives_up(void **state)
{
    (void)state;
    struct w_world w;
    w_init(&w, 2, (struct kite_simlink_config){.delay_ms = 1}, 5);
    struct w_host *a = w.hosts[0], *b = w.hosts[1];
    w_run(&w, 10000); /* announcements done */
    const uint32_t absent = KITE_IP4(192, 0, 2, 99);
    struct arp_log log = {.target = absent};
    kite_netif_set_capture(&a->netif, arp_tap, &log);

    struct kite_udp_pcb *pcb = kite_udp_new(&a->stack);
    assert_non_null(pcb);
    const kite_time_ms start = w.sim.now;
    const unsigned n = KITE_ARP_QUEUE_LEN + 2u;
    for (unsigned i = 0; i < n; i++)
        send_udp(a, pcb, absent, (uint8_t)i);
    /* Only the queue's worth waits; the oldest beyond it are dropped. */
    assert_int_equal(a->stack.stats.arp.drop_queue_full, 2);
    /* The pcb and one private copy of each queued datagram. */
    assert_int_equal(kite_stack_pool(&a->stack, KITE_POOL_UDP_PCB)->used, 1);
    assert_int_equal(kite_stack_pools_in_use(&a->stack), 1u + KITE_ARP_QUEUE_LEN);

    w_run(&w, (kite_time_ms)KITE_ARP_RETRY_MS * (KITE_ARP_MAX_TRIES + 2u));
    assert_int_equal(log.count, KITE_ARP_MAX_TRIES);
    for (unsigned i = 0; i < log.count; i++)
        assert_int_equal(log.at[i], start + (kite_time_ms)i * KITE_ARP_RETRY_MS);
    /* The peer saw every request and answered none (not its address). */
    assert_true(b->stack.stats.arp.rx >= KITE_ARP_MAX_TRIES);
    assert_int_equal(b->stack.stats.arp.replies_sent, 0);
    /* Given up: the queued packets were dropped, counted, and freed. */
    assert_int_equal(a->stack.stats.arp.drop_unresolved, KITE_ARP_QUEUE_LEN);
    assert_int_equal(kite_stack_pools_in_use(&a->stack), 1); /* the pcb */
    assert_false(kite_arp_lookup(&a->stack, absent, (uint8_t[6]){0}));

    /* A new packet starts a new resolution. */
    send_udp(a, pcb, absent, 0xee);
    w_run(&w, 10);
    assert_int_equal(log.count, KITE_ARP_MAX_TRIES + 1u);
    w_run(&w, (kite_time_ms)KITE_ARP_RETRY_MS * (KITE_ARP_MAX_TRIES + 2u));
    assert_int_equal(a->stack.stats.arp.drop_unresolved, KITE_ARP_QUEUE_LEN + 1u);

    kite_netif_set_capture(&a->netif, NULL, NULL);
    kite_udp_remove(pcb);
    w_fini(&w);
}

static void test_arp_retry_recovers_lost_request(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        struct w_world w;
        w_init(&w, 2, (struct kite_simlink_config){.delay_ms = 1}, seed);
        struct w_host *a = w.hosts[0], *b = w.hosts[1];
        w_run(&w, 10000);
        /* The wire is cut while the first request goes out. */
        kite_simlink_configure(w.link,
                               &(struct kite_simlink_config){.loss_ppm = 1000000, .delay_ms = 1});
        (void)kite_arp_remove(&a->stack, b->ip);
        (void)kite_arp_remove(&b->stack, a->ip);
        w_ping_send(a, b->ip);
        w_run(&w, KITE_ARP_RETRY_MS / 2u);
        kite_simlink_configure(w.link, &(struct kite_simlink_config){.delay_ms = 1});
        /* The retry resolves, and the ping waiting in the queue goes out. */
        w_run(&w, KITE_ARP_RETRY_MS * 2u);
        assert_int_equal(a->ping.replies, 1);
        assert_int_equal(a->ping.rtt[0], KITE_ARP_RETRY_MS + 4u);
        assert_true(kite_simlink_stats(w.link)->lost >= 1);
        w_fini(&w);
    }
}

static void test_arp_reply_updates_both_caches(void **state)
{
    (void)state;
    struct w_world w;
    w_init(&w, 3, (struct kite_simlink_config){.delay_ms = 1}, 3);
    w_run(&w, 10000);
    struct w_host *a = w.hosts[0], *b = w.hosts[1], *c = w.hosts[2];
    (void)kite_arp_remove(&a->stack, b->ip);
    (void)kite_arp_remove(&b->stack, a->ip);
    assert_int_equal(kite_arp_request(&a->netif, b->ip), KITE_ERR_OK);
    w_run(&w, 10);
    uint8_t mac[6];
    /* RFC 826: the target learns the sender from the request itself. */
    assert_true(kite_arp_lookup(&b->stack, a->ip, mac));
    assert_memory_equal(mac, a->netif.hwaddr, 6);
    assert_true(kite_arp_lookup(&a->stack, b->ip, mac));
    assert_memory_equal(mac, b->netif.hwaddr, 6);
    (void)c;
    w_fini(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arp_retries_then_gives_up),
        cmocka_unit_test(test_arp_retry_recovers_lost_request),
        cmocka_unit_test(test_arp_reply_updates_both_caches),
    };
    return cmocka_run_group_tests(tests, 0, NULL);
}
