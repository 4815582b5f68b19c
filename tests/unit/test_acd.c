/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Address conflict detection (RFC 5227) fed ARP packet by packet on virtual
 * time: the probe schedule, conflicts while probing (a reply, a rival probe),
 * the tentative address, announcements, defending once, giving up, rate
 * limiting, and the application's events. Times derive from the options.
 */
#include <stdlib.h>
#include <string.h>

#include "kite/wire/arp.h"
#include "kite/wire/ethernet.h"
#include "kite_internal/acd.h"
#include "testutil.h"

#define ADDR KITE_IP4(192, 0, 2, 2)
#define PEER_IP KITE_IP4(192, 0, 2, 1)
#define T0 5000u
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x99};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

#define MAX_EVENTS 32
struct fixture {
    struct kite_stack stack;
    struct kt_capture_if eth;
    struct {
        enum kite_netif_event ev;
        uint32_t addr;
        kite_time_ms at;
    } events[MAX_EVENTS];
    unsigned n_events;
    kite_time_ms sent_at[KT_CAPTURE_MAX];
};

static void on_event(void *ctx, struct kite_netif *netif, enum kite_netif_event ev, uint32_t addr)
{
    struct fixture *f = ctx;
    (void)netif;
    if (ev != KITE_NETIF_EV_ADDR_CONFLICT && ev != KITE_NETIF_EV_ADDR_BOUND)
        return;
    assert_true(f->n_events < MAX_EVENTS);
    f->events[f->n_events].ev = ev;
    f->events[f->n_events].addr = addr;
    f->events[f->n_events].at = kite_stack_now(&f->stack);
    f->n_events++;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct kite_stack_config cfg = {.seed = 7, .now = T0};
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

/* Run every timer up to until, noting when each frame went out. */
static void run_until(struct fixture *f, kite_time_ms until)
{
    for (;;) {
        kite_time_ms next = kite_stack_next_deadline(&f->stack);
        if (next == KITE_TIME_NEVER || next > until)
            break;
        unsigned before = f->eth.count;
        kite_stack_poll(&f->stack, next);
        for (unsigned i = before; i < f->eth.count && i < KT_CAPTURE_MAX; i++)
            f->sent_at[i] = next;
    }
    if (kite_stack_now(&f->stack) < until)
        kite_stack_poll(&f->stack, until);
}

static void inject_arp(struct fixture *f, uint16_t op, uint32_t spa, const uint8_t sha[6],
                       uint32_t tpa)
{
    kt_inject_arp(&f->stack, &f->eth.netif, op, sha, spa, tpa, bcast);
}

static void sent_arp(const struct fixture *f, unsigned i, struct kite_eth_repr *eth,
                     struct kite_arp_repr *arp)
{
    assert_true(i < f->eth.count);
    kt_parse_sent_arp(&f->eth.sent[i], eth, arp);
}

/* Frame i is a probe for addr (RFC 5227 2.1.1). */
static void assert_probe(const struct fixture *f, unsigned i, uint32_t addr)
{
    struct kite_eth_repr eth;
    struct kite_arp_repr arp;
    sent_arp(f, i, &eth, &arp);
    assert_memory_equal(eth.dst, bcast, 6);
    assert_int_equal(arp.op, KITE_ARP_OP_REQUEST);
    assert_memory_equal(arp.sha, f->eth.netif.hwaddr, 6);
    assert_int_equal(arp.spa, 0);
    assert_int_equal(arp.tpa, addr);
    static const uint8_t zero[6] = {0};
    assert_memory_equal(arp.tha, zero, 6);
}

/* Frame i is an announcement of addr (RFC 5227 2.3). */
static void assert_announcement(const struct fixture *f, unsigned i, uint32_t addr)
{
    struct kite_eth_repr eth;
    struct kite_arp_repr arp;
    sent_arp(f, i, &eth, &arp);
    assert_memory_equal(eth.dst, bcast, 6);
    assert_int_equal(arp.op, KITE_ARP_OP_REQUEST);
    assert_int_equal(arp.spa, addr);
    assert_int_equal(arp.tpa, addr);
}

static void start(struct fixture *f)
{
    assert_int_equal(kite_acd_start(&f->eth.netif, ADDR, 24, PEER_IP), KITE_ERR_OK);
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_WAITING);
}

/* Probe, wait ANNOUNCE_WAIT, bind; returns the time of binding. */
static kite_time_ms start_and_bind(struct fixture *f)
{
    start(f);
    kite_time_ms limit = kite_stack_now(&f->stack) + KITE_ACD_PROBE_WAIT_MS +
                         (KITE_ACD_PROBE_NUM - 1) * KITE_ACD_PROBE_MAX_MS +
                         KITE_ACD_ANNOUNCE_WAIT_MS;
    run_until(f, limit);
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_BOUND);
    assert_int_equal(f->n_events, 1);
    assert_int_equal(f->events[0].ev, KITE_NETIF_EV_ADDR_BOUND);
    return f->events[0].at;
}

static void test_probe_schedule(void **state)
{
    struct fixture *f = *state;
    start(f);
    assert_int_equal(f->eth.count, 0); /* PROBE_WAIT first */
    assert_true(kite_addr_is_any(&f->eth.netif.ip4));
    run_until(f, T0 + 60000);
    /* PROBE_NUM probes, then ANNOUNCE_NUM announcements (ARP's gratuitous ones). */
    assert_int_equal(f->eth.count, KITE_ACD_PROBE_NUM + KITE_ARP_GRATUITOUS_COUNT);
    kite_time_ms prev = T0;
    for (unsigned i = 0; i < KITE_ACD_PROBE_NUM; i++) {
        assert_probe(f, i, ADDR);
        kite_time_ms lo = i == 0 ? 0 : KITE_ACD_PROBE_MIN_MS;
        kite_time_ms hi = i == 0 ? KITE_ACD_PROBE_WAIT_MS : KITE_ACD_PROBE_MAX_MS;
        assert_in_range(f->sent_at[i] - prev, lo, hi);
        prev = f->sent_at[i];
    }
    /* Bound exactly ANNOUNCE_WAIT after the last probe, announced at once. */
    assert_int_equal(f->n_events, 1);
    assert_int_equal(f->events[0].ev, KITE_NETIF_EV_ADDR_BOUND);
    assert_int_equal(f->events[0].addr, ADDR);
    kite_time_ms bound = prev + KITE_ACD_ANNOUNCE_WAIT_MS;
    assert_int_equal(f->events[0].at, bound);
    for (unsigned i = 0; i < KITE_ARP_GRATUITOUS_COUNT; i++) {
        assert_announcement(f, KITE_ACD_PROBE_NUM + i, ADDR);
        assert_int_equal(f->sent_at[KITE_ACD_PROBE_NUM + i],
                         bound + i * KITE_ARP_GRATUITOUS_INTERVAL_MS);
    }
    assert_int_equal(f->eth.netif.ip4.u.v4, ADDR);
    assert_int_equal(f->eth.netif.ip4_mask.u.v4, kite_ip4_prefix_mask(24));
    assert_int_equal(f->eth.netif.ip4_gw.u.v4, PEER_IP);
    assert_int_equal(f->stack.stats.acd.probes_sent, KITE_ACD_PROBE_NUM);
    assert_int_equal(f->stack.stats.acd.addrs_bound, 1);
    /* Bound and announced: an idle stack has no deadline. */
    assert_true(kite_stack_next_deadline(&f->stack) == KITE_TIME_NEVER);
}

/* Two claims from different seeds draw different delays, all in their windows. */
static void test_probe_delays_are_random(void **state)
{
    struct fixture *f = *state;
    start(f);
    run_until(f, T0 + KITE_ACD_PROBE_WAIT_MS);
    assert_int_equal(f->eth.count, 1);
    kite_time_ms first = f->sent_at[0];
    kite_acd_stop(&f->eth.netif);
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_OFF);
    /* Stopped: nothing more goes out, no timer is left. */
    run_until(f, T0 + 30000);
    assert_int_equal(f->eth.count, 1);
    assert_true(kite_stack_next_deadline(&f->stack) == KITE_TIME_NEVER);
    bool differs = false;
    for (unsigned k = 0; k < 8 && !differs; k++) {
        kite_time_ms t = kite_stack_now(&f->stack);
        kt_capture_clear(&f->eth);
        start(f);
        run_until(f, t + KITE_ACD_PROBE_WAIT_MS);
        assert_int_equal(f->eth.count, 1);
        differs = f->sent_at[0] - t != first - T0;
        kite_acd_stop(&f->eth.netif);
    }
    assert_true(differs || KITE_ACD_PROBE_WAIT_MS == 0);
}

static void test_conflict_reply_while_probing(void **state)
{
    struct fixture *f = *state;
    start(f);
    run_until(f, T0 + KITE_ACD_PROBE_WAIT_MS);
    assert_int_equal(f->eth.count, 1);
    /* The holder answers the probe (RFC 5227 2.1.1). */
    inject_arp(f, KITE_ARP_OP_REPLY, ADDR, peer_mac, 0);
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_OFF);
    assert_int_equal(f->n_events, 1);
    assert_int_equal(f->events[0].ev, KITE_NETIF_EV_ADDR_CONFLICT);
    assert_int_equal(f->events[0].addr, ADDR);
    assert_int_equal(f->stack.stats.acd.conflicts_probing, 1);
    run_until(f, T0 + 60000);
    assert_int_equal(f->eth.count, 1); /* no more probes, no announcement */
    assert_true(kite_addr_is_any(&f->eth.netif.ip4));
    assert_true(kite_stack_next_deadline(&f->stack) == KITE_TIME_NEVER);
}

/* A conflict during PROBE_WAIT, before any probe, counts too. */
static void test_conflict_announcement_before_first_probe(void **state)
{
    struct fixture *f = *state;
    start(f);
    inject_arp(f, KITE_ARP_OP_REQUEST, ADDR, peer_mac, ADDR);
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_OFF);
    run_until(f, T0 + 60000);
    assert_int_equal(f->eth.count, 0);
    assert_int_equal(f->n_events, 1);
    assert_int_equal(f->events[0].ev, KITE_NETIF_EV_ADDR_CONFLICT);
}

static void test_conflict_rival_probe(void **state)
{
    struct fixture *f = *state;
    start(f);
    run_until(f, T0 + KITE_ACD_PROBE_WAIT_MS + KITE_ACD_PROBE_MAX_MS);
    assert_int_equal(f->eth.count, 2);
    /* Another host's probe for another address is no business of ours. */
    inject_arp(f, KITE_ARP_OP_REQUEST, 0, peer_mac, KITE_IP4(192, 0, 2, 3));
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_PROBING);
    /* Our own probe looped back is not a rival. */
    inject_arp(f, KITE_ARP_OP_REQUEST, 0, f->eth.netif.hwaddr, ADDR);
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_PROBING);
    /* Another host probing for the same address at the same time. */
    inject_arp(f, KITE_ARP_OP_REQUEST, 0, peer_mac, ADDR);
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_OFF);
    assert_int_equal(f->n_events, 1);
    assert_int_equal(f->events[0].ev, KITE_NETIF_EV_ADDR_CONFLICT);
    run_until(f, T0 + 60000);
    assert_int_equal(f->eth.count, 2);
    assert_true(kite_addr_is_any(&f->eth.netif.ip4));
}

/* RFC 5227 2.1.1: the address under probe is not used or answered for. */
static void test_tentative_not_answered(void **state)
{
    struct fixture *f = *state;
    start(f);
    run_until(f, T0 + KITE_ACD_PROBE_WAIT_MS);
    unsigned probes = f->eth.count;
    /* A neighbour asking for the tentative address: no reply, no conflict. */
    inject_arp(f, KITE_ARP_OP_REQUEST, PEER_IP, peer_mac, ADDR);
    assert_int_equal(f->eth.count, probes);
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_PROBING);
    assert_int_equal(f->stack.stats.arp.replies_sent, 0);
    /* An echo request to it: not ours yet, no reply. */
    uint8_t frame[128] = {0};
    struct kite_eth_repr eth = {.ethertype = KITE_ETHERTYPE_IPV4};
    memcpy(eth.dst, f->eth.netif.hwaddr, 6);
    memcpy(eth.src, peer_mac, 6);
    kite_eth_emit(&eth, frame, sizeof frame);
    uint16_t len = kt_build_echo(frame + 14, PEER_IP, ADDR, 16);
    kt_inject(&f->stack, &f->eth.netif, frame, (uint16_t)(14 + len));
    assert_int_equal(f->eth.count, probes);
    assert_int_equal(f->stack.stats.icmp4.echo_replies_sent, 0);
    /* Nothing the stack sends uses it as a source. */
    (void)kite_icmp4_send_echo(&f->stack, PEER_IP, 1, 1, "x", 1);
    for (unsigned i = probes; i < f->eth.count; i++) {
        struct kite_eth_repr e;
        assert_int_equal(kite_eth_parse(f->eth.sent[i].data, f->eth.sent[i].len, &e), KITE_ERR_OK);
        assert_int_not_equal(e.ethertype, KITE_ETHERTYPE_IPV4);
    }
    /* Once bound, the same request is answered. */
    kt_capture_clear(&f->eth);
    run_until(f, T0 + 60000);
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_BOUND);
    kt_capture_clear(&f->eth);
    inject_arp(f, KITE_ARP_OP_REQUEST, PEER_IP, peer_mac, ADDR);
    assert_int_equal(f->eth.count, 1);
    assert_int_equal(f->stack.stats.arp.replies_sent, 1);
}

static void test_defend_once_then_give_up(void **state)
{
    struct fixture *f = *state;
    kite_time_ms bound = start_and_bind(f);
    run_until(f, bound + 5000);
    kt_capture_clear(&f->eth);
    /* Another host announces our address: defend with one announcement. */
    inject_arp(f, KITE_ARP_OP_REQUEST, ADDR, peer_mac, ADDR);
    assert_int_equal(f->eth.count, 1);
    assert_announcement(f, 0, ADDR);
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_BOUND);
    assert_int_equal(f->eth.netif.ip4.u.v4, ADDR);
    assert_int_equal(f->stack.stats.acd.defends_sent, 1);
    assert_int_equal(f->n_events, 1);
    /* It insists within DEFEND_INTERVAL: give the address up. */
    run_until(f, bound + 5000 + KITE_ACD_DEFEND_INTERVAL_MS - 1);
    inject_arp(f, KITE_ARP_OP_REPLY, ADDR, peer_mac, ADDR);
    assert_int_equal(f->eth.count, 1); /* no second defence */
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_OFF);
    assert_true(kite_addr_is_any(&f->eth.netif.ip4));
    assert_int_equal(f->stack.stats.acd.addrs_given_up, 1);
    assert_int_equal(f->stack.stats.acd.conflicts_in_use, 2);
    assert_int_equal(f->n_events, 2);
    assert_int_equal(f->events[1].ev, KITE_NETIF_EV_ADDR_CONFLICT);
    assert_int_equal(f->events[1].addr, ADDR);
    /* The address is gone: requests for it are not answered. */
    inject_arp(f, KITE_ARP_OP_REQUEST, PEER_IP, peer_mac, ADDR);
    assert_int_equal(f->eth.count, 1);
}

static void test_defend_again_after_interval(void **state)
{
    struct fixture *f = *state;
    kite_time_ms bound = start_and_bind(f);
    run_until(f, bound + 5000);
    kt_capture_clear(&f->eth);
    inject_arp(f, KITE_ARP_OP_REQUEST, ADDR, peer_mac, ADDR);
    run_until(f, bound + 5000 + KITE_ACD_DEFEND_INTERVAL_MS);
    inject_arp(f, KITE_ARP_OP_REQUEST, ADDR, peer_mac, ADDR);
    assert_int_equal(f->eth.count, 2);
    assert_announcement(f, 1, ADDR);
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_BOUND);
    assert_int_equal(f->stack.stats.acd.defends_sent, 2);
    assert_int_equal(f->n_events, 1);
}

/* RFC 5227 2.4: probes for our address are answered, not conflicts; a reply
 * from another host claiming it is (passive detection). */
static void test_passive_detection_in_use(void **state)
{
    struct fixture *f = *state;
    kite_time_ms bound = start_and_bind(f);
    run_until(f, bound + 30000);
    kt_capture_clear(&f->eth);
    inject_arp(f, KITE_ARP_OP_REQUEST, 0, peer_mac, ADDR);
    assert_int_equal(f->eth.count, 1);
    struct kite_eth_repr eth;
    struct kite_arp_repr arp;
    sent_arp(f, 0, &eth, &arp);
    assert_int_equal(arp.op, KITE_ARP_OP_REPLY);
    assert_int_equal(arp.spa, ADDR);
    assert_int_equal(f->stack.stats.acd.conflicts_in_use, 0);
    /* Our own announcement looped back is not a conflict. */
    inject_arp(f, KITE_ARP_OP_REQUEST, ADDR, f->eth.netif.hwaddr, ADDR);
    assert_int_equal(f->stack.stats.acd.conflicts_in_use, 0);
    inject_arp(f, KITE_ARP_OP_REPLY, ADDR, peer_mac, PEER_IP);
    assert_int_equal(f->stack.stats.acd.conflicts_in_use, 1);
    assert_int_equal(f->stack.stats.acd.defends_sent, 1);
    assert_int_equal(f->eth.count, 2);
    assert_announcement(f, 1, ADDR);
}

/* Each failed claim counts; from MAX_CONFLICTS on, probing waits
 * RATE_LIMIT_INTERVAL instead of PROBE_WAIT (RFC 5227 2.1.1). */
static void test_rate_limit_after_max_conflicts(void **state)
{
    struct fixture *f = *state;
    for (unsigned i = 0; i < KITE_ACD_MAX_CONFLICTS; i++) {
        kite_time_ms t = kite_stack_now(&f->stack);
        kt_capture_clear(&f->eth);
        start(f);
        run_until(f, t + KITE_ACD_PROBE_WAIT_MS);
        assert_int_equal(f->eth.count, 1); /* not rate limited yet */
        inject_arp(f, KITE_ARP_OP_REPLY, ADDR, peer_mac, 0);
        assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_OFF);
    }
    assert_int_equal(f->stack.stats.acd.rate_limited, 0);
    assert_int_equal(f->n_events, KITE_ACD_MAX_CONFLICTS);
    kite_time_ms t = kite_stack_now(&f->stack);
    kt_capture_clear(&f->eth);
    start(f);
    assert_int_equal(f->stack.stats.acd.rate_limited, 1);
    run_until(f, t + KITE_ACD_RATE_LIMIT_INTERVAL_MS - 1);
    assert_int_equal(f->eth.count, 0);
    run_until(f, t + KITE_ACD_RATE_LIMIT_INTERVAL_MS);
    assert_int_equal(f->eth.count, 1);
    assert_probe(f, 0, ADDR);
    /* A success clears the count: the next claim waits PROBE_WAIT again. */
    run_until(f, t + KITE_ACD_RATE_LIMIT_INTERVAL_MS + 60000);
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_BOUND);
    t = kite_stack_now(&f->stack);
    kt_capture_clear(&f->eth);
    assert_int_equal(kite_acd_start(&f->eth.netif, KITE_IP4(192, 0, 2, 9), 24, 0), KITE_ERR_OK);
    run_until(f, t + KITE_ACD_PROBE_WAIT_MS);
    assert_int_equal(f->eth.count, 1);
    assert_int_equal(f->stack.stats.acd.rate_limited, 1);
}

/* kite_netif_set_ipv4 keeps its old behaviour: the address at once, no probe. */
static void test_plain_set_ipv4_does_not_probe(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(kite_netif_set_ipv4(&f->eth.netif, ADDR, 24, 0), KITE_ERR_OK);
    assert_int_equal(f->eth.netif.ip4.u.v4, ADDR);
    run_until(f, T0 + 60000);
    assert_int_equal(f->eth.count, KITE_ARP_GRATUITOUS_COUNT);
    assert_int_equal(f->stack.stats.acd.probes_sent, 0);
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_OFF);
    /* Undefended: a claim on it is not answered with a defence. */
    kt_capture_clear(&f->eth);
    inject_arp(f, KITE_ARP_OP_REQUEST, ADDR, peer_mac, ADDR);
    assert_int_equal(f->eth.count, 0);
    assert_int_equal(f->n_events, 0);
    /* Claiming the address the netif already has makes it tentative again. */
    start(f);
    assert_true(kite_addr_is_any(&f->eth.netif.ip4));
    run_until(f, T0 + 120000);
    assert_int_equal(f->eth.netif.ip4.u.v4, ADDR);
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_BOUND);
    /* The user setting another address ends the defence of the old one. */
    assert_int_equal(kite_netif_set_ipv4(&f->eth.netif, KITE_IP4(192, 0, 2, 7), 24, 0),
                     KITE_ERR_OK);
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_OFF);
}

static void test_bad_arguments(void **state)
{
    struct fixture *f = *state;
    struct kt_capture_if ip;
    kt_capture_add_ip(&f->stack, &ip, "ip0");
    assert_int_equal(kite_acd_start(&ip.netif, ADDR, 24, 0), KITE_ERR_ARG);
    kite_netif_remove(&ip.netif);
    assert_int_equal(kite_acd_start(&f->eth.netif, 0, 24, 0), KITE_ERR_VAL);
    assert_int_equal(kite_acd_start(&f->eth.netif, KITE_IP4(224, 0, 0, 1), 24, 0), KITE_ERR_VAL);
    assert_int_equal(kite_acd_start(&f->eth.netif, KITE_IP4_BROADCAST, 24, 0), KITE_ERR_VAL);
    assert_int_equal(kite_acd_start(&f->eth.netif, ADDR, 33, 0), KITE_ERR_VAL);
    assert_int_equal(kite_acd_start(&f->eth.netif, ADDR, 24, KITE_IP4(198, 51, 100, 1)),
                     KITE_ERR_VAL);
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_OFF);
    assert_true(kite_stack_next_deadline(&f->stack) == KITE_TIME_NEVER);
}

/* The link going down stops probing; coming up starts it over. */
static void test_link_down_restarts_probing(void **state)
{
    struct fixture *f = *state;
    start(f);
    run_until(f, T0 + KITE_ACD_PROBE_WAIT_MS);
    assert_int_equal(f->eth.count, 1);
    kite_netif_set_link_up(&f->eth.netif, false);
    assert_true(kite_stack_next_deadline(&f->stack) == KITE_TIME_NEVER);
    run_until(f, T0 + 30000);
    kite_netif_set_link_up(&f->eth.netif, true);
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_WAITING);
    kt_capture_clear(&f->eth);
    run_until(f, T0 + 90000);
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_BOUND);
    assert_int_equal(f->eth.count, KITE_ACD_PROBE_NUM + KITE_ARP_GRATUITOUS_COUNT);
    assert_probe(f, 0, ADDR);
}

/* RFC 5227 2.1: an address in use is probed again when the link comes back. */
static void test_link_up_reprobes_bound_address(void **state)
{
    struct fixture *f = *state;
    kite_time_ms bound = start_and_bind(f);
    run_until(f, bound + 10000);
    kite_netif_set_link_up(&f->eth.netif, false);
    kite_netif_set_link_up(&f->eth.netif, true);
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_WAITING);
    assert_true(kite_addr_is_any(&f->eth.netif.ip4)); /* tentative again */
    kt_capture_clear(&f->eth);
    run_until(f, bound + 10000 + 60000);
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_BOUND);
    assert_int_equal(f->eth.netif.ip4.u.v4, ADDR);
    assert_probe(f, 0, ADDR);
    assert_int_equal(f->stack.stats.acd.addrs_bound, 2);
}

/* Malformed and foreign ARP input never disturbs a claim. */
static void test_garbage_does_not_conflict(void **state)
{
    struct fixture *f = *state;
    start(f);
    uint8_t frame[60];
    memset(frame, 0, sizeof frame);
    struct kite_eth_repr eth = {.ethertype = KITE_ETHERTYPE_ARP};
    memcpy(eth.dst, bcast, 6);
    memcpy(eth.src, peer_mac, 6);
    kite_eth_emit(&eth, frame, sizeof frame);
    kt_inject(&f->stack, &f->eth.netif, frame, 30); /* truncated */
    frame[15] = 6;                                  /* hardware type 6: unsupported */
    kt_inject(&f->stack, &f->eth.netif, frame, sizeof frame);
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_WAITING);
    assert_int_equal(f->stack.stats.arp.drop_malformed + f->stack.stats.arp.drop_unsupported, 2);
    run_until(f, T0 + 60000);
    assert_int_equal(kite_acd_state(&f->eth.netif), KITE_ACD_BOUND);
}

/* The application's callback sees every netif event, after kite's layers. */
struct all_events {
    unsigned n;
    enum kite_netif_event ev[8];
    uint32_t addr[8];
};

static void record_all(void *ctx, struct kite_netif *netif, enum kite_netif_event ev, uint32_t addr)
{
    struct all_events *a = ctx;
    (void)netif;
    if (a->n < 8) {
        a->ev[a->n] = ev;
        a->addr[a->n] = addr;
    }
    a->n++;
}

static void test_netif_callback_sees_every_event(void **state)
{
    struct fixture *f = *state;
    struct all_events a = {0};
    kite_stack_set_netif_callback(&f->stack, record_all, &a);
    kite_netif_set_link_up(&f->eth.netif, false);
    kite_netif_set_link_up(&f->eth.netif, true);
    assert_int_equal(kite_netif_set_ipv4(&f->eth.netif, ADDR, 24, 0), KITE_ERR_OK);
    assert_int_equal(kite_netif_set_ipv4(&f->eth.netif, PEER_IP, 24, 0), KITE_ERR_OK);
    assert_int_equal(a.n, 4);
    assert_int_equal(a.ev[0], KITE_NETIF_EV_DOWN);
    assert_int_equal(a.ev[1], KITE_NETIF_EV_UP);
    assert_int_equal(a.ev[2], KITE_NETIF_EV_ADDR_CHANGED);
    assert_int_equal(a.addr[2], 0);
    assert_int_equal(a.ev[3], KITE_NETIF_EV_ADDR_CHANGED);
    assert_int_equal(a.addr[3], ADDR); /* the address taken away */
    kite_stack_set_netif_callback(&f->stack, NULL, NULL);
    kite_netif_set_link_up(&f->eth.netif, false);
    assert_int_equal(a.n, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_probe_schedule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_delays_are_random, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_reply_while_probing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_announcement_before_first_probe, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_conflict_rival_probe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tentative_not_answered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_defend_once_then_give_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_defend_again_after_interval, setup, teardown),
        cmocka_unit_test_setup_teardown(test_passive_detection_in_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit_after_max_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_set_ipv4_does_not_probe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_down_restarts_probing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_up_reprobes_bound_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_does_not_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_netif_callback_sees_every_event, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
