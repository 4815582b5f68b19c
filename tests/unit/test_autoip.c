/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 link-local autoconfiguration (RFC 3927) on virtual time: the candidate
 * range and its determinism from the MAC, probing the first candidate,
 * binding a /16, ARP broadcast while link-local (2.5), a new candidate on
 * conflict, rate limiting after MAX_CONFLICTS, stop. In-process only: 169.254/16
 * never goes near a real network in kite's tests (docs/acd.md).
 */
#include <stdlib.h>
#include <string.h>

#include "kite/wire/arp.h"
#include "kite/wire/ethernet.h"
#include "kite_internal/acd.h"
#include "testutil.h"

#define T0 1000u
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x99};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

struct fixture {
    struct kite_stack stack;
    struct kt_capture_if eth;
    unsigned bound_events, conflict_events;
};

static void on_event(void *ctx, struct kite_netif *netif, enum kite_netif_event ev, uint32_t addr)
{
    struct fixture *f = ctx;
    (void)netif;
    (void)addr;
    f->bound_events += ev == KITE_NETIF_EV_ADDR_BOUND;
    f->conflict_events += ev == KITE_NETIF_EV_ADDR_CONFLICT;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct kite_stack_config cfg = {.seed = 3, .now = T0};
    kite_stack_init(&f->stack, &cfg);
    kt_capture_add_ethernet(&f->stack, &f->eth, 1);
    kite_stack_set_netif_callback(&f->stack, on_event, f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    kt_end_capture_stack(&f->stack, &f->eth);
    free(f);
    return 0;
}

static void run_until(struct fixture *f, kite_time_ms until)
{
    kt_run_until(&f->stack, until);
}

static void inject_arp(struct fixture *f, uint16_t op, uint32_t spa, uint32_t tpa)
{
    kt_inject_arp(&f->stack, &f->eth.netif, op, peer_mac, spa, tpa, bcast);
}

static void sent_arp(const struct fixture *f, unsigned i, struct kite_eth_repr *eth,
                     struct kite_arp_repr *arp)
{
    assert_true(i < f->eth.count);
    kt_parse_sent_arp(&f->eth.sent[i], eth, arp);
}

/* The first candidate the netif's MAC gives, and the ones after it. */
static void candidates(const struct fixture *f, uint32_t *out, unsigned n)
{
    uint32_t r = kite__autoip_seed(f->eth.netif.hwaddr);
    for (unsigned i = 0; i < n; i++)
        out[i] = kite__autoip_next(&r);
}

static void test_candidate_range_and_determinism(void **state)
{
    (void)state;
    uint8_t mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
    uint32_t a = kite__autoip_seed(mac), b = kite__autoip_seed(mac);
    bool hit_low = false, hit_high = false;
    for (unsigned i = 0; i < 200000; i++) {
        uint32_t x = kite__autoip_next(&a);
        assert_int_equal(x, kite__autoip_next(&b)); /* same MAC, same sequence */
        assert_in_range(x, KITE_AUTOIP_FIRST, KITE_AUTOIP_LAST);
        assert_true(kite_ip4_is_link_local(x));
        hit_low |= (x >> 8 & 0xffu) == 1;
        hit_high |= (x >> 8 & 0xffu) == 254;
    }
    assert_true(hit_low && hit_high); /* the whole range is reachable */
    /* Different MACs (one bit apart) start at different candidates. */
    uint32_t first[48];
    for (unsigned bit = 0; bit < 48; bit++) {
        uint8_t m[6];
        memcpy(m, mac, 6);
        m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        uint32_t r = kite__autoip_seed(m);
        first[bit] = kite__autoip_next(&r);
    }
    unsigned same = 0;
    for (unsigned i = 0; i < 48; i++)
        for (unsigned j = i + 1; j < 48; j++)
            same += first[i] == first[j];
    assert_true(same <= 1);
}

static void test_start_probes_and_binds(void **state)
{
    struct fixture *f = *state;
    uint32_t cand[1];
    candidates(f, cand, 1);
    assert_int_equal(kite_autoip_start(&f->eth.netif), KITE_ERR_OK);
    assert_int_equal(kite_autoip_start(&f->eth.netif), KITE_ERR_OK); /* already running */
    run_until(f, T0 + 30000);
    assert_int_equal(f->eth.count, KITE_ACD_PROBE_NUM + KITE_ARP_GRATUITOUS_COUNT);
    for (unsigned i = 0; i < f->eth.count; i++) {
        struct kite_eth_repr eth;
        struct kite_arp_repr arp;
        sent_arp(f, i, &eth, &arp);
        assert_memory_equal(eth.dst, bcast, 6);
        assert_int_equal(arp.tpa, cand[0]);
        assert_int_equal(arp.spa, i < KITE_ACD_PROBE_NUM ? 0 : cand[0]);
    }
    assert_true(kite_autoip_bound(&f->eth.netif));
    assert_int_equal(f->bound_events, 1);
    assert_int_equal(f->eth.netif.ip4.u.v4, cand[0]);
    assert_int_equal(f->eth.netif.ip4_mask.u.v4, kite_ip4_prefix_mask(16));
    assert_int_equal(f->eth.netif.ip4_gw.u.v4, 0);
    /* RFC 3927 2.5: an ARP reply from a link-local address goes to broadcast. */
    kt_capture_clear(&f->eth);
    inject_arp(f, KITE_ARP_OP_REQUEST, KITE_IP4(169, 254, 9, 9), cand[0]);
    assert_int_equal(f->eth.count, 1);
    struct kite_eth_repr eth;
    struct kite_arp_repr arp;
    sent_arp(f, 0, &eth, &arp);
    assert_int_equal(arp.op, KITE_ARP_OP_REPLY);
    assert_memory_equal(eth.dst, bcast, 6);
    assert_memory_equal(arp.tha, peer_mac, 6);
    /* Stop: the link-local address goes. */
    kite_autoip_stop(&f->eth.netif);
    assert_false(kite_autoip_bound(&f->eth.netif));
    assert_true(kite_addr_is_any(&f->eth.netif.ip4));
    kite_autoip_stop(&f->eth.netif); /* twice is harmless */
}

/* Same MAC, same first address across restarts (RFC 3927 2.1). */
static void test_restart_picks_same_first(void **state)
{
    struct fixture *f = *state;
    kite_autoip_start(&f->eth.netif);
    run_until(f, T0 + 30000);
    uint32_t first = f->eth.netif.ip4.u.v4;
    kite_autoip_stop(&f->eth.netif);
    kite_autoip_start(&f->eth.netif);
    run_until(f, T0 + 60000);
    assert_int_equal(f->eth.netif.ip4.u.v4, first);
}

static void test_conflict_picks_next_candidate(void **state)
{
    struct fixture *f = *state;
    uint32_t cand[3];
    candidates(f, cand, 3);
    kite_autoip_start(&f->eth.netif);
    run_until(f, T0 + KITE_ACD_PROBE_WAIT_MS);
    assert_int_equal(f->eth.count, 1);
    inject_arp(f, KITE_ARP_OP_REPLY, cand[0], 0); /* someone holds it */
    assert_int_equal(f->conflict_events, 1);
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_WAITING);
    kt_capture_clear(&f->eth);
    run_until(f, kite_stack_now(&f->stack) + KITE_ACD_PROBE_WAIT_MS);
    assert_int_equal(f->eth.count, 1);
    struct kite_eth_repr eth;
    struct kite_arp_repr arp;
    sent_arp(f, 0, &eth, &arp);
    assert_int_equal(arp.spa, 0);
    assert_int_equal(arp.tpa, cand[1]);
    /* And a rival probing for the second one: on to the third. */
    inject_arp(f, KITE_ARP_OP_REQUEST, 0, cand[1]);
    run_until(f, kite_stack_now(&f->stack) + 30000);
    assert_true(kite_autoip_bound(&f->eth.netif));
    assert_int_equal(f->eth.netif.ip4.u.v4, cand[2]);
    assert_int_equal(f->stack.stats.acd.autoip_candidates, 3);
    /* Losing the bound address (defence lost) also moves on. */
    run_until(f, kite_stack_now(&f->stack) + 30000);
    inject_arp(f, KITE_ARP_OP_REQUEST, cand[2], cand[2]);
    inject_arp(f, KITE_ARP_OP_REQUEST, cand[2], cand[2]);
    assert_int_equal(f->stack.stats.acd.addrs_given_up, 1);
    assert_true(kite_addr_is_any(&f->eth.netif.ip4));
    run_until(f, kite_stack_now(&f->stack) + 30000);
    assert_true(kite_autoip_bound(&f->eth.netif));
    uint32_t c[4];
    candidates(f, c, 4);
    assert_int_equal(f->eth.netif.ip4.u.v4, c[3]);
}

/* RFC 3927 2.2.1: after MAX_CONFLICTS, one candidate per RATE_LIMIT_INTERVAL. */
static void test_rate_limit(void **state)
{
    struct fixture *f = *state;
    uint32_t cand[KITE_ACD_MAX_CONFLICTS + 2];
    candidates(f, cand, KITE_ACD_MAX_CONFLICTS + 2);
    kite_autoip_start(&f->eth.netif);
    for (unsigned i = 0; i < KITE_ACD_MAX_CONFLICTS; i++) {
        kite_time_ms t = kite_stack_now(&f->stack);
        kt_capture_clear(&f->eth);
        run_until(f, t + KITE_ACD_PROBE_WAIT_MS);
        assert_int_equal(f->eth.count, 1);
        struct kite_eth_repr eth;
        struct kite_arp_repr arp;
        sent_arp(f, 0, &eth, &arp);
        assert_int_equal(arp.tpa, cand[i]);
        inject_arp(f, KITE_ARP_OP_REPLY, cand[i], 0);
    }
    assert_int_equal(f->conflict_events, KITE_ACD_MAX_CONFLICTS);
    assert_int_equal(f->stack.stats.acd.rate_limited, 1);
    kite_time_ms t = kite_stack_now(&f->stack);
    kt_capture_clear(&f->eth);
    run_until(f, t + KITE_ACD_RATE_LIMIT_INTERVAL_MS - 1);
    assert_int_equal(f->eth.count, 0);
    run_until(f, t + KITE_ACD_RATE_LIMIT_INTERVAL_MS + 30000);
    assert_true(kite_autoip_bound(&f->eth.netif));
    assert_int_equal(f->eth.netif.ip4.u.v4, cand[KITE_ACD_MAX_CONFLICTS]);
}

static void test_needs_ethernet(void **state)
{
    struct fixture *f = *state;
    struct kt_capture_if ip;
    kt_capture_add_ip(&f->stack, &ip, "ip0");
    assert_int_equal(kite_autoip_start(&ip.netif), KITE_ERR_ARG);
    assert_false(kite_autoip_bound(&ip.netif));
    kite_netif_remove(&ip.netif);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_candidate_range_and_determinism),
        cmocka_unit_test_setup_teardown(test_start_probes_and_binds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_picks_same_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_picks_next_candidate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_needs_ethernet, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
