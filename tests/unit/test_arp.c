/* SPDX-License-Identifier: BSD-3-Clause */
/* ARP cache: replies, learning, queueing, retries, aging, static entries, GARP. */
#include <stdlib.h>
#include <string.h>

#include "kite/byteorder.h"
#include "kite/wire/arp.h"
#include "kite/wire/ethernet.h"
#include "testutil.h"

#define OUR_IP KITE_IP4(192, 0, 2, 2)
#define PEER_IP KITE_IP4(192, 0, 2, 1)
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x99};

struct fixture {
    struct kite_stack stack;
    struct kt_capture_if eth;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    kite_stack_init(&f->stack, NULL);
    kt_capture_add_ethernet(&f->stack, &f->eth, 1);
    assert_int_equal(kite_netif_set_ipv4(&f->eth.netif, OUR_IP, 24, 0), KITE_ERR_OK);
    /* Let the gratuitous announcements go out, then start clean. */
    kite_stack_poll(&f->stack, 10000);
    kite_stack_poll(&f->stack, 20000);
    assert_true(kite_stack_next_deadline(&f->stack) == KITE_TIME_NEVER);
    kt_capture_clear(&f->eth);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    kt_end_capture_stack(&f->stack, &f->eth); /* a block left in a pool is a leak */
    free(f);
    return 0;
}

static void inject_arp(struct fixture *f, uint16_t op, uint32_t spa, const uint8_t sha[6],
                       uint32_t tpa, const uint8_t eth_dst[6])
{
    kt_inject_arp(&f->stack, &f->eth.netif, op, sha, spa, tpa, eth_dst);
}

static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void test_reply_to_request_and_learn(void **state)
{
    struct fixture *f = *state;
    inject_arp(f, KITE_ARP_OP_REQUEST, PEER_IP, peer_mac, OUR_IP, bcast);
    assert_int_equal(f->eth.count, 1);
    struct kite_eth_repr eth;
    struct kite_arp_repr arp;
    kt_parse_sent_arp(&f->eth.sent[0], &eth, &arp);
    assert_int_equal(arp.op, KITE_ARP_OP_REPLY);
    assert_memory_equal(eth.dst, peer_mac, 6);
    assert_memory_equal(arp.sha, f->eth.netif.hwaddr, 6);
    assert_int_equal(arp.spa, OUR_IP);
    assert_int_equal(arp.tpa, PEER_IP);
    uint8_t mac[6];
    assert_true(kite_arp_lookup(&f->stack, PEER_IP, mac));
    assert_memory_equal(mac, peer_mac, 6);
    assert_int_equal(f->stack.stats.arp.replies_sent, 1);
}

static void test_request_for_other_is_ignored(void **state)
{
    struct fixture *f = *state;
    inject_arp(f, KITE_ARP_OP_REQUEST, PEER_IP, peer_mac, KITE_IP4(192, 0, 2, 77), bcast);
    assert_int_equal(f->eth.count, 0);
    uint8_t mac[6];
    assert_false(kite_arp_lookup(&f->stack, PEER_IP, mac));
    assert_int_equal(f->stack.stats.arp.drop_not_for_us, 1);
}

static void test_queue_then_flush_on_reply(void **state)
{
    struct fixture *f = *state;
    for (uint16_t i = 0; i < KITE_ARP_QUEUE_LEN + 2; i++)
        assert_int_equal(kite_icmp4_send_echo(&f->stack, PEER_IP, 1, i, "x", 1), KITE_ERR_OK);
    assert_int_equal(f->eth.count, 1); /* only the ARP request */
    assert_int_equal(f->stack.stats.arp.drop_queue_full, 2);
    assert_int_equal(kite_arp_queued_count(&f->stack), KITE_ARP_QUEUE_LEN);
    inject_arp(f, KITE_ARP_OP_REPLY, PEER_IP, peer_mac, OUR_IP, f->eth.netif.hwaddr);
    assert_int_equal(f->eth.count, 1 + KITE_ARP_QUEUE_LEN);
    assert_int_equal(kite_arp_queued_count(&f->stack), 0);
    for (unsigned i = 1; i < f->eth.count; i++) {
        struct kite_eth_repr eth;
        kite_eth_parse(f->eth.sent[i].data, f->eth.sent[i].len, &eth);
        assert_memory_equal(eth.dst, peer_mac, 6);
        assert_int_equal(eth.ethertype, KITE_ETHERTYPE_IPV4);
        /* The oldest were dropped: the queue holds the newest sequence numbers. */
        uint16_t seq = kite_get_be16(f->eth.sent[i].data + 14 + 20 + 6);
        assert_int_equal(seq, i + 1);
    }
}

static void test_retries_then_give_up(void **state)
{
    struct fixture *f = *state;
    kite_time_ms t0 = kite_stack_now(&f->stack);
    kite_icmp4_send_echo(&f->stack, PEER_IP, 1, 1, "x", 1);
    for (unsigned i = 1; i <= KITE_ARP_MAX_TRIES + 2; i++)
        kite_stack_poll(&f->stack, t0 + i * KITE_ARP_RETRY_MS);
    assert_int_equal(f->eth.count, KITE_ARP_MAX_TRIES);
    assert_int_equal(f->stack.stats.arp.drop_unresolved, 1);
    assert_true(kite_stack_next_deadline(&f->stack) == KITE_TIME_NEVER);
    kt_assert_pools_empty(&f->stack);
}

static void test_entry_ages_out(void **state)
{
    struct fixture *f = *state;
    kite_time_ms t0 = kite_stack_now(&f->stack);
    inject_arp(f, KITE_ARP_OP_REQUEST, PEER_IP, peer_mac, OUR_IP, bcast);
    assert_int_equal(kite_stack_next_deadline(&f->stack), t0 + KITE_ARP_MAX_AGE_MS);
    kite_stack_poll(&f->stack, t0 + KITE_ARP_MAX_AGE_MS - 1);
    uint8_t mac[6];
    assert_true(kite_arp_lookup(&f->stack, PEER_IP, mac));
    kite_stack_poll(&f->stack, t0 + KITE_ARP_MAX_AGE_MS);
    assert_false(kite_arp_lookup(&f->stack, PEER_IP, mac));
    assert_int_equal(f->stack.stats.arp.entries_expired, 1);
    assert_true(kite_stack_next_deadline(&f->stack) == KITE_TIME_NEVER);
}

static void test_refresh_before_expiry(void **state)
{
    struct fixture *f = *state;
    kite_time_ms t0 = kite_stack_now(&f->stack);
    inject_arp(f, KITE_ARP_OP_REQUEST, PEER_IP, peer_mac, OUR_IP, bcast);
    kt_capture_clear(&f->eth);
    kite_stack_poll(&f->stack, t0 + KITE_ARP_MAX_AGE_MS - KITE_ARP_REFRESH_MS + 1);
    kite_icmp4_send_echo(&f->stack, PEER_IP, 1, 1, "x", 1);
    assert_int_equal(f->eth.count, 2); /* unicast refresh request + the packet */
    struct kite_eth_repr eth;
    struct kite_arp_repr arp;
    kt_parse_sent_arp(&f->eth.sent[0], &eth, &arp);
    assert_memory_equal(eth.dst, peer_mac, 6);
    assert_int_equal(arp.op, KITE_ARP_OP_REQUEST);
}

static void test_static_entry(void **state)
{
    struct fixture *f = *state;
    const uint8_t smac[6] = {0x02, 1, 2, 3, 4, 5};
    assert_int_equal(kite_arp_add_static(&f->eth.netif, PEER_IP, smac), KITE_ERR_OK);
    assert_true(kite_stack_next_deadline(&f->stack) == KITE_TIME_NEVER);
    inject_arp(f, KITE_ARP_OP_REPLY, PEER_IP, peer_mac, OUR_IP, f->eth.netif.hwaddr);
    uint8_t mac[6];
    kite_stack_poll(&f->stack, kite_stack_now(&f->stack) + 10 * KITE_ARP_MAX_AGE_MS);
    assert_true(kite_arp_lookup(&f->stack, PEER_IP, mac));
    assert_memory_equal(mac, smac, 6);
    kite_icmp4_send_echo(&f->stack, PEER_IP, 1, 1, "x", 1);
    struct kite_eth_repr eth;
    kite_eth_parse(f->eth.sent[f->eth.count - 1].data, 14, &eth);
    assert_memory_equal(eth.dst, smac, 6);
    assert_int_equal(kite_arp_remove(&f->stack, PEER_IP), KITE_ERR_OK);
    assert_int_equal(kite_arp_remove(&f->stack, PEER_IP), KITE_ERR_NOTFOUND);
    assert_int_equal(kite_arp_add_static(&f->eth.netif, PEER_IP, bcast), KITE_ERR_ARG);
}

static void test_gratuitous_on_address_set(void **state)
{
    struct fixture *f = *state;
    kite_time_ms t0 = kite_stack_now(&f->stack);
    kite_netif_set_ipv4(&f->eth.netif, KITE_IP4(192, 0, 2, 50), 24, 0);
    kite_stack_poll(&f->stack, t0);
    assert_int_equal(f->eth.count, 1);
    kite_stack_poll(&f->stack, t0 + KITE_ARP_GRATUITOUS_INTERVAL_MS);
    assert_int_equal(f->eth.count, KITE_ARP_GRATUITOUS_COUNT);
    struct kite_eth_repr eth;
    struct kite_arp_repr arp;
    kt_parse_sent_arp(&f->eth.sent[0], &eth, &arp);
    assert_true(kite_eth_is_broadcast(eth.dst));
    assert_int_equal(arp.spa, KITE_IP4(192, 0, 2, 50));
    assert_int_equal(arp.tpa, KITE_IP4(192, 0, 2, 50));
    assert_true(kite_stack_next_deadline(&f->stack) == KITE_TIME_NEVER);
}

static void test_bad_packets_counted(void **state)
{
    struct fixture *f = *state;
    uint8_t frame[60] = {0};
    struct kite_eth_repr eth = {.ethertype = KITE_ETHERTYPE_ARP};
    memset(eth.dst, 0xff, 6);
    memcpy(eth.src, peer_mac, 6);
    kite_eth_emit(&eth, frame, sizeof frame);
    kt_inject(&f->stack, &f->eth.netif, frame, 20); /* truncated */
    assert_int_equal(f->stack.stats.arp.drop_malformed, 1);
    frame[15] = 6; /* htype 6 (IEEE 802) */
    frame[16] = 8;
    frame[18] = 6;
    frame[19] = 4;
    kt_inject(&f->stack, &f->eth.netif, frame, 60);
    assert_int_equal(f->stack.stats.arp.drop_unsupported, 1);
    /* A sender claiming a broadcast MAC is not learned. */
    inject_arp(f, KITE_ARP_OP_REQUEST, PEER_IP, bcast, OUR_IP, bcast);
    assert_int_equal(f->stack.stats.arp.drop_bad_sender, 1);
    assert_int_equal(f->eth.count, 0);
}

static void test_table_full_evicts_oldest(void **state)
{
    struct fixture *f = *state;
    uint8_t mac[6] = {0x02, 0, 0, 0, 1, 0};
    for (uint8_t i = 0; i < KITE_ARP_TABLE_SIZE; i++) {
        mac[5] = i;
        kite_stack_poll(&f->stack, kite_stack_now(&f->stack) + 1);
        inject_arp(f, KITE_ARP_OP_REQUEST, KITE_IP4(192, 0, 2, 100) + i, mac, OUR_IP, bcast);
    }
    kite_icmp4_send_echo(&f->stack, PEER_IP, 1, 1, "x", 1);
    uint8_t out[6];
    assert_false(kite_arp_lookup(&f->stack, KITE_IP4(192, 0, 2, 100), out));
    assert_true(kite_arp_lookup(&f->stack, KITE_IP4(192, 0, 2, 101), out));
    assert_int_equal(f->stack.stats.arp.cache_evictions, 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_reply_to_request_and_learn),
        T(test_request_for_other_is_ignored),
        T(test_queue_then_flush_on_reply),
        T(test_retries_then_give_up),
        T(test_entry_ages_out),
        T(test_refresh_before_expiry),
        T(test_static_entry),
        T(test_gratuitous_on_address_set),
        T(test_bad_packets_counted),
        T(test_table_full_evicts_oldest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
