/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IGMP state machines fed packet by packet on an Ethernet netif whose sends
 * are recorded (RFC 3376 with the v1/v2 compatibility modes, RFC 2236, RFC
 * 1112): state-change reports and their Robustness retransmissions,
 * general, group and group-and-source query responses, the querier-present
 * timers and compatibility switches, v1/v2 report suppression and leaves,
 * the reception filter (MAC and IP, source filters merged per RFC 3376
 * 3.2), the driver's MAC filter hook, multicast loopback and the UDP
 * membership API. Expectations follow the build's options.
 */
#include <stdlib.h>
#include <string.h>

#include "kite/byteorder.h"
#include "kite/igmp.h"
#include "kite/wire/ethernet.h"
#include "kite/wire/igmp.h"
#include "kite/wire/ipv4.h"
#include "kite/wire/udp.h"
#include "testutil.h"

#define US KITE_IP4(192, 0, 2, 2)
#define ROUTER KITE_IP4(192, 0, 2, 1)
#define G1 KITE_IP4(239, 1, 2, 3)
#define G1_ALIAS KITE_IP4(239, 129, 2, 3) /* same MAC as G1 (RFC 1112 6.4) */
#define G2 KITE_IP4(232, 10, 11, 12)
#define S1 KITE_IP4(198, 51, 100, 1)
#define S2 KITE_IP4(198, 51, 100, 2)
#define S3 KITE_IP4(198, 51, 100, 3)
#define PORT 3333
#define ROB KITE_IGMP_ROBUSTNESS

struct sent {
    uint8_t tos, ttl;
    bool router_alert;
    uint32_t dst;
    struct kite_igmp_repr igmp;
    const uint8_t *msg; /* the IGMP message in the capture */
};

struct fixture {
    struct kite_stack stack;
    struct kt_capture_if eth;
    unsigned next; /* first capture not yet looked at */
    int mac_adds, mac_dels;
    uint8_t last_mac[6];
    unsigned rx;
    uint32_t rx_src, rx_dst;
    void *owner_a, *owner_b;
};

static struct fixture *fx;

static void mac_hook(struct kite_netif *netif, const uint8_t mac[6], bool add)
{
    (void)netif;
    if (add)
        fx->mac_adds++;
    else
        fx->mac_dels++;
    memcpy(fx->last_mac, mac, 6);
}

static void start_stack(struct fixture *f, kite_time_ms now)
{
    struct kite_stack_config cfg = {.seed = 7, .now = now};
    kite_stack_init(&f->stack, &cfg);
    kt_capture_add_ethernet(&f->stack, &f->eth, 2);
    kite_netif_set_ipv4(&f->eth.netif, US, 24, 0);
    kite_netif_set_default(&f->stack, &f->eth.netif);
    kite_igmp_set_mac_filter(&f->eth.netif, mac_hook);
    kt_capture_clear(&f->eth); /* gratuitous ARP */
    f->next = 0;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    fx = f;
    start_stack(f, 1000);
    f->owner_a = &f->owner_a;
    f->owner_b = &f->owner_b;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    kite_igmp_leave_all(&f->stack, f->owner_a);
    kite_igmp_leave_all(&f->stack, f->owner_b);
    kite_stack_deinit(&f->stack);
    kt_assert_pools_empty(&f->stack);
    free(f);
    return 0;
}

/* IGMP's own timer (gratuitous ARP runs beside it). */
static bool igmp_idle(const struct fixture *f)
{
    return !kite_timer_armed(&f->stack.igmp.timer);
}

static kite_time_ms igmp_due(const struct fixture *f)
{
    assert_true(kite_timer_armed(&f->stack.igmp.timer));
    return f->stack.igmp.timer.deadline;
}

static void advance(struct fixture *f, kite_time_ms ms)
{
    kite_stack_poll(&f->stack, f->stack.now + ms);
}

/* Run the clock until the stack is idle or limit ms passed. */
static void run_for(struct fixture *f, kite_time_ms limit)
{
    kt_run_until(&f->stack, f->stack.now + limit);
}

/* The next IGMP message sent (skipping ARP), or false when there is none. */
static bool next_sent(struct fixture *f, struct sent *s)
{
    while (f->next < f->eth.count) {
        const struct kt_packet *pkt = &f->eth.sent[f->next++];
        if (kite_get_be16(pkt->data + 12) != KITE_ETHERTYPE_IPV4)
            continue;
        struct kite_ipv4_repr ip;
        const uint8_t *iph = pkt->data + 14;
        assert_int_equal(kite_ipv4_parse(iph, pkt->len - 14u, true, &ip), KITE_ERR_OK);
        if (ip.proto != KITE_IP_PROTO_IGMP)
            continue;
        s->tos = ip.tos;
        s->ttl = ip.ttl;
        s->dst = ip.dst;
        s->router_alert =
            ip.hlen == 24 && iph[20] == 0x94 && iph[21] == 4 && iph[22] == 0 && iph[23] == 0;
        s->msg = iph + ip.hlen;
        assert_int_equal(kite_igmp_parse(s->msg, ip.total_len - ip.hlen, true, &s->igmp),
                         KITE_ERR_OK);
        /* Link destination: the group's MAC (RFC 1112 6.4). */
        uint8_t mac[6];
        kite_eth_ip4_multicast_mac(ip.dst, mac);
        assert_memory_equal(pkt->data, mac, 6);
        /* RFC 3376 4, RFC 2236 2: TTL 1, Internetwork Control, Router Alert. */
        assert_int_equal(s->ttl, 1);
        assert_int_equal(s->tos, 0xc0);
        assert_true(s->router_alert);
        return true;
    }
    return false;
}

static unsigned count_sent(struct fixture *f)
{
    struct sent s;
    unsigned n = 0;
    while (next_sent(f, &s))
        n++;
    return n;
}

/* Record rec_i of a v3 report. */
static void record_of(const struct sent *s, unsigned rec_i, struct kite_igmp_record *rec,
                      const uint8_t **rec_buf)
{
    size_t off = KITE_IGMP_HLEN;
    for (unsigned i = 0;; i++) {
        assert_int_equal(kite_igmp_record_parse(s->msg + off, (size_t)s->igmp.length - off, rec),
                         KITE_ERR_OK);
        if (i == rec_i)
            break;
        off += rec->length;
    }
    *rec_buf = s->msg + off;
}

/* The next message is a v3 report with one record of type, group, sources. */
#define expect_v3_record(f, type, group, srcs, n)                                                  \
    expect_v3_record_at(f, type, group, srcs, n, __LINE__)
static void expect_v3_record_at(struct fixture *f, uint8_t type, uint32_t group,
                                const uint32_t *srcs, unsigned n, int line)
{
    struct sent s;
    if (!next_sent(f, &s))
        fail_msg("line %d: no report sent", line);
    assert_int_equal(s.igmp.type, KITE_IGMP_TYPE_V3_REPORT);
    assert_int_equal(s.dst, KITE_IGMP_V3_ROUTERS);
    assert_int_equal(s.igmp.nrec, 1);
    struct kite_igmp_record rec;
    const uint8_t *rb;
    record_of(&s, 0, &rec, &rb);
    assert_int_equal(rec.type, type);
    assert_int_equal(rec.group, group);
    assert_int_equal(rec.nsrc, n);
    for (unsigned i = 0; i < n; i++) {
        bool found = false;
        for (uint16_t k = 0; k < rec.nsrc; k++)
            found = found || kite_igmp_record_source(rb, k) == srcs[i];
        assert_true(found);
    }
}

/* Inject an IGMP message from the router to dst, with Router Alert. */
static void inject_igmp(struct fixture *f, uint32_t dst, const uint8_t *msg, uint16_t len)
{
    uint8_t frame[1600];
    const uint8_t ra[4] = {0x94, 4, 0, 0};
    struct kite_eth_repr eth = {.ethertype = KITE_ETHERTYPE_IPV4, .src = {0x02, 0, 0, 0, 0, 0x01}};
    kite_eth_ip4_multicast_mac(dst, eth.dst);
    kite_eth_emit(&eth, frame, 14);
    struct kite_ipv4_repr ip = {.tos = 0xc0,
                                .total_len = (uint16_t)(24 + len),
                                .ttl = 1,
                                .proto = KITE_IP_PROTO_IGMP,
                                .src = ROUTER,
                                .dst = dst};
    assert_int_equal(kite_ipv4_emit_opts(&ip, ra, 4, frame + 14, 24), KITE_ERR_OK);
    memcpy(frame + 38, msg, len);
    kt_inject(&f->stack, &f->eth.netif, frame, (uint16_t)(38 + len));
}

static void query3(struct fixture *f, uint32_t group, uint16_t mrt_ds, const uint32_t *srcs,
                   uint16_t n, uint8_t qrv)
{
    uint8_t msg[64];
    struct kite_igmp_repr q = {.type = KITE_IGMP_TYPE_QUERY,
                               .version = 3,
                               .max_resp_ds = mrt_ds,
                               .group = group,
                               .qrv = qrv,
                               .qqi_s = 125,
                               .nsrc = n};
    assert_int_equal(kite_igmp_emit(&q, srcs, msg, sizeof msg), KITE_ERR_OK);
    inject_igmp(f, group != 0 ? group : KITE_IGMP_ALL_SYSTEMS, msg,
                (uint16_t)kite_igmp_emit_len(&q));
}

static void query12(struct fixture *f, uint32_t group, uint16_t mrt_ds)
{
    uint8_t msg[8];
    struct kite_igmp_repr q = {.type = KITE_IGMP_TYPE_QUERY, .max_resp_ds = mrt_ds, .group = group};
    assert_int_equal(kite_igmp_emit(&q, NULL, msg, sizeof msg), KITE_ERR_OK);
    inject_igmp(f, group != 0 ? group : KITE_IGMP_ALL_SYSTEMS, msg, 8);
}

static void other_report(struct fixture *f, uint8_t type, uint32_t group)
{
    uint8_t msg[8];
    struct kite_igmp_repr r = {.type = type, .group = group};
    assert_int_equal(kite_igmp_emit(&r, NULL, msg, sizeof msg), KITE_ERR_OK);
    inject_igmp(f, group, msg, 8);
}

/* ---- State-change reports (RFC 3376 5.1) ------------------------------------------------- */

static void test_join_leave_v3(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->mac_adds, 1); /* 224.0.0.1's MAC when the hook was installed */
    assert_int_equal(kite_igmp_join(&f->eth.netif, f->owner_a, G1), KITE_ERR_OK);
    assert_int_equal(f->mac_adds, 2);
    const uint8_t g1mac[6] = {0x01, 0x00, 0x5e, 0x01, 0x02, 0x03};
    assert_memory_equal(f->last_mac, g1mac, 6);
    /* The first state-change report at once: TO_EX({}). */
    expect_v3_record(f, KITE_IGMP_CHANGE_TO_EXCLUDE, G1, NULL, 0);
    assert_int_equal(count_sent(f), 0);
    /* Robustness - 1 retransmissions, each within (0, 1 s]. */
    for (int i = 1; i < ROB; i++) {
        kite_time_ms due = igmp_due(f);
        assert_true(due > f->stack.now && due <= f->stack.now + KITE_IGMP_V3_UNSOLICITED_MS);
        kite_stack_poll(&f->stack, due);
        expect_v3_record(f, KITE_IGMP_CHANGE_TO_EXCLUDE, G1, NULL, 0);
    }
    /* On-demand timers: nothing pending, no deadline. */
    assert_true(igmp_idle(f));
    assert_int_equal(kite_igmp_join(&f->eth.netif, f->owner_a, G1), KITE_ERR_INUSE);
    /* Leave: TO_IN({}) Robustness times, then the group is gone. */
    assert_int_equal(kite_igmp_leave(&f->eth.netif, f->owner_a, G1), KITE_ERR_OK);
    expect_v3_record(f, KITE_IGMP_CHANGE_TO_INCLUDE, G1, NULL, 0);
    assert_int_equal(f->mac_dels, 0); /* the group entry stays while it reports */
    run_for(f, 10000);
    for (int i = 1; i < ROB; i++)
        expect_v3_record(f, KITE_IGMP_CHANGE_TO_INCLUDE, G1, NULL, 0);
    assert_int_equal(count_sent(f), 0);
    assert_int_equal(f->mac_dels, 1);
    assert_int_equal(kite_stack_pool(&f->stack, KITE_POOL_IGMP_GROUP)->used, 0);
    assert_int_equal(kite_igmp_leave(&f->eth.netif, f->owner_a, G1), KITE_ERR_NOTFOUND);
    assert_true(igmp_idle(f));
}

static void test_querier_robustness(void **state)
{
    struct fixture *f = *state;
    query3(f, 0, 10, NULL, 0, 3); /* QRV 3 */
    assert_int_equal(kite_igmp_join(&f->eth.netif, f->owner_a, G1), KITE_ERR_OK);
    run_for(f, 10000);
    unsigned n = 0;
    struct sent s;
    while (next_sent(f, &s))
        if (s.igmp.type == KITE_IGMP_TYPE_V3_REPORT) {
            struct kite_igmp_record rec;
            const uint8_t *rb;
            record_of(&s, 0, &rec, &rb);
            n += rec.type == KITE_IGMP_CHANGE_TO_EXCLUDE;
        }
    assert_int_equal(n, 3);
}

#if KITE_IGMP_MAX_SOURCES >= 2
/* Source lists: ALLOW / BLOCK, and merging with pending retransmissions. */
static void test_source_changes(void **state)
{
    struct fixture *f = *state;
    struct kite_netif *n = &f->eth.netif;
    const uint32_t s1[1] = {S1}, s2[1] = {S2}, s12[2] = {S1, S2};
    /* INCLUDE {} -> INCLUDE {S1}: ALLOW(S1). */
    assert_int_equal(kite_igmp_source(n, f->owner_a, G1, S1, KITE_IGMP_INCLUDE, true), KITE_ERR_OK);
    expect_v3_record(f, KITE_IGMP_ALLOW_NEW_SOURCES, G1, s1, 1);
    assert_true(kite_igmp_netif_admits(n, G1, S1));
    assert_false(kite_igmp_netif_admits(n, G1, S2));
    /* Before S1's retransmission: add S2. The merged report allows both. */
    assert_int_equal(kite_igmp_source(n, f->owner_a, G1, S2, KITE_IGMP_INCLUDE, true), KITE_ERR_OK);
    expect_v3_record(f, KITE_IGMP_ALLOW_NEW_SOURCES, G1, s12, ROB > 1 ? 2 : 1);
    run_for(f, 5000);
    /* S2 has ROB - 1 more transmissions; S1 had ROB - 2 left. */
    for (int i = 1; i < ROB; i++) {
        struct sent s;
        assert_true(next_sent(f, &s));
    }
    assert_int_equal(count_sent(f), 0);
    /* Drop S1: BLOCK(S1). Errors: again, and on an EXCLUDE call. */
    assert_int_equal(kite_igmp_source(n, f->owner_a, G1, S1, KITE_IGMP_INCLUDE, false),
                     KITE_ERR_OK);
    expect_v3_record(f, KITE_IGMP_BLOCK_OLD_SOURCES, G1, s1, 1);
    assert_int_equal(kite_igmp_source(n, f->owner_a, G1, S1, KITE_IGMP_INCLUDE, false),
                     KITE_ERR_NOTFOUND);
    assert_int_equal(kite_igmp_source(n, f->owner_a, G1, S2, KITE_IGMP_INCLUDE, true),
                     KITE_ERR_INUSE);
    assert_int_equal(kite_igmp_source(n, f->owner_a, G1, S1, KITE_IGMP_EXCLUDE, true),
                     KITE_ERR_VAL);
    run_for(f, 5000);
    kt_capture_clear(&f->eth);
    f->next = 0;
    /* Owner B joins any-source: the interface goes EXCLUDE {} (TO_EX). */
    assert_int_equal(kite_igmp_join(n, f->owner_b, G1), KITE_ERR_OK);
    expect_v3_record(f, KITE_IGMP_CHANGE_TO_EXCLUDE, G1, NULL, 0);
    assert_true(kite_igmp_netif_admits(n, G1, S3));
    /* B blocks S2, which A includes: RFC 3376 3.2 keeps S2 (EXCLUDE {}). */
    assert_int_equal(kite_igmp_source(n, f->owner_b, G1, S2, KITE_IGMP_EXCLUDE, true), KITE_ERR_OK);
    assert_true(kite_igmp_netif_admits(n, G1, S2));
    /* B blocks S1 too, which A does not include: EXCLUDE {S1}, BLOCK(S1). */
    assert_int_equal(kite_igmp_source(n, f->owner_b, G1, S1, KITE_IGMP_EXCLUDE, true), KITE_ERR_OK);
    assert_false(kite_igmp_netif_admits(n, G1, S1));
    assert_true(kite_igmp_netif_admits(n, G1, S2));
    assert_int_equal(kite_igmp_owner_admits(&f->stack, f->owner_b, n, G1, S2), 0);
    assert_int_equal(kite_igmp_owner_admits(&f->stack, f->owner_a, n, G1, S2), 1);
    assert_int_equal(kite_igmp_owner_admits(&f->stack, f->owner_a, n, G2, S2), -1);
    run_for(f, 5000);
    struct sent s;
    bool blocked = false;
    while (next_sent(f, &s)) {
        struct kite_igmp_record rec;
        const uint8_t *rb;
        record_of(&s, 0, &rec, &rb);
        if (rec.type == KITE_IGMP_BLOCK_OLD_SOURCES && rec.nsrc == 1 &&
            kite_igmp_record_source(rb, 0) == S1)
            blocked = true;
    }
    assert_true(blocked);
    (void)s2;
}
#endif

static void test_limits(void **state)
{
    struct fixture *f = *state;
    struct kite_netif *n = &f->eth.netif;
    uint32_t many[KITE_IGMP_MAX_SOURCES + 1];
    for (unsigned i = 0; i <= KITE_IGMP_MAX_SOURCES; i++)
        many[i] = S1 + i;
    assert_int_equal(
        kite_igmp_listen(n, f->owner_a, G1, KITE_IGMP_INCLUDE, many, KITE_IGMP_MAX_SOURCES + 1),
        KITE_ERR_VAL);
    assert_int_equal(kite_igmp_join(n, f->owner_a, KITE_IP4(192, 0, 2, 9)), KITE_ERR_VAL);
    /* The merged INCLUDE union must fit a group: a second owner's extra source does not. */
    assert_int_equal(
        kite_igmp_listen(n, f->owner_a, G1, KITE_IGMP_INCLUDE, many, KITE_IGMP_MAX_SOURCES),
        KITE_ERR_OK);
#if KITE_IGMP_MEMBER_COUNT >= 2
    assert_int_equal(
        kite_igmp_listen(n, f->owner_b, G1, KITE_IGMP_INCLUDE, many + KITE_IGMP_MAX_SOURCES, 1),
        KITE_ERR_MEM);
#endif
    assert_int_equal(kite_igmp_leave(n, f->owner_a, G1), KITE_ERR_OK);
    /* Pools run dry cleanly: one group per join until KITE_IGMP_GROUP_COUNT. */
    unsigned joined = 0;
    enum kite_err err = KITE_ERR_OK;
    while (err == KITE_ERR_OK && joined < 64) {
        err = kite_igmp_join(n, f->owner_a, KITE_IP4(239, 9, 0, joined + 1));
        joined += err == KITE_ERR_OK;
    }
    assert_int_equal(err, KITE_ERR_MEM);
    unsigned lim = KITE_IGMP_GROUP_COUNT < KITE_IGMP_MEMBER_COUNT ? KITE_IGMP_GROUP_COUNT
                                                                  : KITE_IGMP_MEMBER_COUNT;
    /* G1's leaving entry may still hold a group slot while it reports. */
    assert_true(joined == lim || joined == lim - 1);
    kite_igmp_leave_all(&f->stack, f->owner_a);
    run_for(f, 10000);
    assert_int_equal(kite_stack_pool(&f->stack, KITE_POOL_IGMP_GROUP)->used, 0);
    assert_int_equal(kite_stack_pool(&f->stack, KITE_POOL_IGMP_MEMBER)->used, 0);
}

/* The MAC filter hook: once per MAC, replayed when installed late. */
static void test_mac_filter_shared(void **state)
{
    struct fixture *f = *state;
    struct kite_netif *n = &f->eth.netif;
    kite_igmp_set_mac_filter(n, NULL);
    assert_int_equal(kite_igmp_join(n, f->owner_a, G1), KITE_ERR_OK);
#if KITE_IGMP_GROUP_COUNT >= 2
    assert_int_equal(kite_igmp_join(n, f->owner_a, G1_ALIAS), KITE_ERR_OK);
#endif
    f->mac_adds = f->mac_dels = 0;
    kite_igmp_set_mac_filter(n, mac_hook); /* 224.0.0.1's MAC and G1's, once */
    assert_int_equal(f->mac_adds, 2);
    run_for(f, 5000);
    assert_int_equal(kite_igmp_leave(n, f->owner_a, G1), KITE_ERR_OK);
    run_for(f, 5000);
#if KITE_IGMP_GROUP_COUNT >= 2
    assert_int_equal(f->mac_dels, 0); /* the alias still needs the MAC */
    assert_int_equal(kite_igmp_leave(n, f->owner_a, G1_ALIAS), KITE_ERR_OK);
    run_for(f, 5000);
#endif
    assert_int_equal(f->mac_dels, 1);
}

/* ---- Queries (RFC 3376 5.2) --------------------------------------------------------------- */

static void settle(struct fixture *f)
{
    run_for(f, 10000);
    (void)count_sent(f);
}

/* A query answered "at once" at time 0 (a NO_SYS device just booted, or a
 * simulation) is answered: a due time of 0 must not read as "nothing due". */
static void test_query_at_time_zero(void **state)
{
    struct fixture *f = *state;
    kite_stack_deinit(&f->stack);
    start_stack(f, 0);
    assert_int_equal(kite_igmp_join(&f->eth.netif, f->owner_a, G1), KITE_ERR_OK);
    (void)count_sent(f);         /* the unsolicited report */
    query3(f, 0, 0, NULL, 0, 2); /* Max Resp 0: answer now */
    run_for(f, 20000);
    /* The answer is a current-state record (MODE_IS_EXCLUDE), not one of
     * the join's retransmitted state-change records. */
    struct sent s;
    unsigned current = 0;
    while (next_sent(f, &s)) {
        for (unsigned i = 0; s.igmp.type == KITE_IGMP_TYPE_V3_REPORT && i < s.igmp.nrec; i++) {
            struct kite_igmp_record rec;
            const uint8_t *buf;
            record_of(&s, i, &rec, &buf);
            current += rec.type == KITE_IGMP_MODE_IS_EXCLUDE && rec.group == G1;
        }
    }
    assert_int_equal(current, 1);
}

static void test_general_query_v3(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(kite_igmp_join(&f->eth.netif, f->owner_a, G1), KITE_ERR_OK);
#if KITE_IGMP_GROUP_COUNT >= 2
    assert_int_equal(kite_igmp_join(&f->eth.netif, f->owner_a, G2), KITE_ERR_OK);
#endif
    settle(f);
    kite_time_ms t0 = f->stack.now;
    query3(f, 0, 50, NULL, 0, 2); /* Max Resp 5 s */
    kite_time_ms due = igmp_due(f);
    assert_true(due >= t0 && due <= t0 + 5000);
    /* Rule 1: a group query with a later delay adds nothing. */
    query3(f, G1, 100, NULL, 0, 2);
    run_for(f, 10000);
    /* The general answer: one report, a record per group; the group query's
     * answer only if it fell due sooner (then it went first). */
    struct sent s;
    unsigned reports = 0, full = 0;
    while (next_sent(f, &s)) {
        assert_int_equal(s.igmp.type, KITE_IGMP_TYPE_V3_REPORT);
        reports++;
        for (unsigned i = 0; i < s.igmp.nrec; i++) {
            struct kite_igmp_record rec;
            const uint8_t *rb;
            record_of(&s, i, &rec, &rb);
            assert_int_equal(rec.type, KITE_IGMP_MODE_IS_EXCLUDE);
            assert_int_equal(rec.nsrc, 0);
            assert_true(rec.group == G1 || rec.group == G2);
        }
        full += s.igmp.nrec == (KITE_IGMP_GROUP_COUNT >= 2 ? 2u : 1u);
    }
    assert_true(reports >= 1 && reports <= 2);
    assert_true(full >= 1);
    assert_int_equal(f->stack.stats.igmp.queries_v3, 2);
    /* Max Resp 0: the answer goes at the next poll. */
    query3(f, 0, 0, NULL, 0, 2);
    advance(f, 0);
    assert_true(next_sent(f, &s));
    assert_true(igmp_idle(f));
}

static void test_group_queries_v3(void **state)
{
    struct fixture *f = *state;
    struct kite_netif *n = &f->eth.netif;
    assert_int_equal(kite_igmp_join(n, f->owner_a, G1), KITE_ERR_OK);
    settle(f);
    /* Group-specific: IS_EX({}) for G1 only. A query for a group not joined: nothing. */
    query3(f, G2, 10, NULL, 0, 2);
    query3(f, G1, 10, NULL, 0, 2);
    run_for(f, 2000);
    expect_v3_record(f, KITE_IGMP_MODE_IS_EXCLUDE, G1, NULL, 0);
    assert_int_equal(count_sent(f), 0);
#if KITE_IGMP_MAX_SOURCES >= 2
    /* EXCLUDE {S1}: a query for {S1, S3} is answered IS_IN(Q - A) = {S3}. */
    assert_int_equal(kite_igmp_source(n, f->owner_a, G1, S1, KITE_IGMP_EXCLUDE, true), KITE_ERR_OK);
    settle(f);
    const uint32_t q13[2] = {S1, S3}, s3[1] = {S3};
    query3(f, G1, 10, q13, 2, 2);
    run_for(f, 2000);
    expect_v3_record(f, KITE_IGMP_MODE_IS_INCLUDE, G1, s3, 1);
    /* INCLUDE {S1, S2}: two source queries before the answer merge (rule 5):
     * {S2} then {S3} -> IS_IN(A * Q) = {S2}. */
    assert_int_equal(kite_igmp_leave(n, f->owner_a, G1), KITE_ERR_OK);
    const uint32_t s12[2] = {S1, S2}, s2[1] = {S2};
    assert_int_equal(kite_igmp_listen(n, f->owner_a, G1, KITE_IGMP_INCLUDE, s12, 2), KITE_ERR_OK);
    settle(f);
    query3(f, G1, 50, s2, 1, 2);
    query3(f, G1, 50, s3, 1, 2);
    run_for(f, 6000);
    expect_v3_record(f, KITE_IGMP_MODE_IS_INCLUDE, G1, s2, 1);
    assert_int_equal(count_sent(f), 0);
    /* Rule 4: a group query on top of a pending source query answers the whole state. */
    query3(f, G1, 50, s2, 1, 2);
    query3(f, G1, 50, NULL, 0, 2);
    run_for(f, 6000);
    expect_v3_record(f, KITE_IGMP_MODE_IS_INCLUDE, G1, s12, 2);
    /* A source query none of whose sources we receive: no answer. */
    query3(f, G1, 10, s3, 1, 2);
    run_for(f, 2000);
    assert_int_equal(count_sent(f), 0);
#endif
}

/* ---- v1/v2 compatibility (RFC 3376 7.2, RFC 2236) ----------------------------------------- */

static void test_v2_querier(void **state)
{
    struct fixture *f = *state;
    struct kite_netif *n = &f->eth.netif;
    assert_int_equal(kite_igmp_join(n, f->owner_a, G1), KITE_ERR_OK);
    /* The first TO_EX went; a retransmission is pending (with ROB > 1). */
    struct sent s;
    assert_true(next_sent(f, &s));
    kite_time_ms t0 = f->stack.now;
    query12(f, 0, 50); /* v2 general query, 5 s */
    assert_int_equal(kite_igmp_version(n), 2);
    assert_int_equal(f->stack.stats.igmp.queries_v2, 1);
    /* The pending v3 retransmission is cancelled; a v2 report to the group answers. */
    run_for(f, 6000);
    assert_true(next_sent(f, &s));
    assert_int_equal(s.igmp.type, KITE_IGMP_TYPE_V2_REPORT);
    assert_int_equal(s.dst, G1);
    assert_int_equal(s.igmp.group, G1);
    assert_int_equal(count_sent(f), 0);
    /* Suppression: another member's report before our timer stops ours. */
    kite_time_ms t1 = f->stack.now;
    query12(f, G1, 100);
    assert_false(igmp_idle(f));
    other_report(f, KITE_IGMP_TYPE_V2_REPORT, G1);
    assert_int_equal(f->stack.stats.igmp.reports_suppressed, 1);
    assert_true(igmp_idle(f));
    run_for(f, 11000);
    assert_int_equal(count_sent(f), 0);
    /* Not the last reporter: leaving sends no Leave (RFC 2236 3). */
    assert_int_equal(kite_igmp_leave(n, f->owner_a, G1), KITE_ERR_OK);
    assert_int_equal(count_sent(f), 0);
    assert_int_equal(kite_stack_pool(&f->stack, KITE_POOL_IGMP_GROUP)->used, 0);
    /* Join in v2 mode: an unsolicited v2 report now, ROB - 1 repeats within 10 s. */
    assert_int_equal(kite_igmp_join(n, f->owner_a, G1), KITE_ERR_OK);
    run_for(f, KITE_IGMP_V2_UNSOLICITED_MS * ROB);
    for (int i = 0; i < ROB; i++) {
        assert_true(next_sent(f, &s));
        assert_int_equal(s.igmp.type, KITE_IGMP_TYPE_V2_REPORT);
    }
    /* The last reporter leaves with a Leave to 224.0.0.2. */
    assert_int_equal(kite_igmp_leave(n, f->owner_a, G1), KITE_ERR_OK);
    assert_true(next_sent(f, &s));
    assert_int_equal(s.igmp.type, KITE_IGMP_TYPE_V2_LEAVE);
    assert_int_equal(s.dst, KITE_IGMP_ALL_ROUTERS);
    assert_int_equal(f->stack.stats.igmp.leaves_sent, 1);
    /* RFC 3376 8.12: the v2 querier present timer: Robustness * QI + QRI. */
    (void)t0;
    kite_time_ms until = t1 + (kite_time_ms)ROB * 125000u + 10000u;
    kite_stack_poll(&f->stack, until - 1);
    assert_int_equal(kite_igmp_version(n), 2);
    kite_stack_poll(&f->stack, until);
    assert_int_equal(kite_igmp_version(n), 3);
}

static void test_v1_querier(void **state)
{
    struct fixture *f = *state;
    struct kite_netif *n = &f->eth.netif;
    assert_int_equal(kite_igmp_join(n, f->owner_a, G1), KITE_ERR_OK);
    settle(f);
    query12(f, 0, 50); /* v2 first, then v1: v1 wins */
    query12(f, 0, 0);  /* v1: Max Resp 0 means 10 s */
    assert_int_equal(kite_igmp_version(n), 1);
    assert_int_equal(f->stack.stats.igmp.queries_v1, 1);
    kite_time_ms due = igmp_due(f);
    assert_true(due <= f->stack.now + 5000); /* the v2 query's shorter timer stays */
    run_for(f, 11000);
    struct sent s;
    assert_true(next_sent(f, &s));
    assert_int_equal(s.igmp.type, KITE_IGMP_TYPE_V1_REPORT);
    assert_int_equal(count_sent(f), 0);
    /* v1 has no Leave. */
    assert_int_equal(kite_igmp_leave(n, f->owner_a, G1), KITE_ERR_OK);
    assert_int_equal(count_sent(f), 0);
    /* A v1 report heard suppresses too. */
    assert_int_equal(kite_igmp_join(n, f->owner_a, G1), KITE_ERR_OK);
    run_for(f, 30000);
    (void)count_sent(f);
    query12(f, 0, 0);
    other_report(f, KITE_IGMP_TYPE_V1_REPORT, G1);
    run_for(f, 11000);
    assert_int_equal(count_sent(f), 0);
    /* A v3 query while the v1 querier is present is answered as v1. */
    query3(f, 0, 10, NULL, 0, 2);
    run_for(f, 2000);
    assert_true(next_sent(f, &s));
    assert_int_equal(s.igmp.type, KITE_IGMP_TYPE_V1_REPORT);
    /* v1 timer ends first at its own deadline; then v3. */
    run_for(f, (kite_time_ms)ROB * 125000u + 10000u);
    assert_int_equal(kite_igmp_version(n), 3);
}

static void test_bad_input(void **state)
{
    struct fixture *f = *state;
    uint8_t msg[16];
    struct kite_igmp_repr q = {.type = KITE_IGMP_TYPE_QUERY, .version = 3, .max_resp_ds = 10};
    assert_int_equal(kite_igmp_emit(&q, NULL, msg, sizeof msg), KITE_ERR_OK);
    msg[3] ^= 1;
    inject_igmp(f, KITE_IGMP_ALL_SYSTEMS, msg, 12);
    assert_int_equal(f->stack.stats.igmp.drop_bad_checksum, 1);
    msg[3] ^= 1;
    kite_igmp_fill_checksum(msg, 10);
    inject_igmp(f, KITE_IGMP_ALL_SYSTEMS, msg, 10); /* 9..11 bytes: RFC 3376 7.1 */
    assert_int_equal(f->stack.stats.igmp.drop_bad_query, 1);
    inject_igmp(f, KITE_IGMP_ALL_SYSTEMS, msg, 5);
    assert_int_equal(f->stack.stats.igmp.drop_short, 1);
    /* A general query to a group address rather than 224.0.0.1 (RFC 3376 4.1.12). */
    assert_int_equal(kite_igmp_join(&f->eth.netif, f->owner_a, G1), KITE_ERR_OK);
    settle(f);
    kite_igmp_fill_checksum(msg, 12);
    inject_igmp(f, G1, msg, 12);
    assert_int_equal(f->stack.stats.igmp.drop_bad_query, 2);
    uint8_t odd[8] = {0x99, 0, 0, 0, 0, 0, 0, 0};
    kite_igmp_fill_checksum(odd, 8);
    inject_igmp(f, KITE_IGMP_ALL_SYSTEMS, odd, 8);
    assert_int_equal(f->stack.stats.igmp.drop_unknown_type, 1);
    assert_true(igmp_idle(f));
    assert_int_equal(count_sent(f), 0);
}

static void test_netif_down_up(void **state)
{
    struct fixture *f = *state;
    struct kite_netif *n = &f->eth.netif;
    assert_int_equal(kite_igmp_join(n, f->owner_a, G1), KITE_ERR_OK);
    (void)count_sent(f);
    kite_netif_set_up(n, false); /* pending retransmissions go */
    assert_true(igmp_idle(f));
    kite_netif_set_up(n, true); /* every group is reported again */
    struct sent s;
    bool seen = false;
    while (next_sent(f, &s))
        seen = seen || s.igmp.type == KITE_IGMP_TYPE_V3_REPORT;
    assert_true(seen);
    /* A listen that asks for no membership by a non-member changes nothing. */
    assert_int_equal(kite_igmp_listen(n, f->owner_b, G1, KITE_IGMP_INCLUDE, NULL, 0), KITE_ERR_OK);
    assert_int_equal(count_sent(f), 0);
    /* Removed, the netif drops its memberships and groups, without calling
     * the driver's MAC filter again (its driver is gone). */
    int dels = f->mac_dels;
    kite_netif_remove(n);
    assert_int_equal(f->mac_dels, dels);
    assert_int_equal(kite_stack_pool(&f->stack, KITE_POOL_IGMP_GROUP)->used, 0);
    assert_int_equal(kite_stack_pool(&f->stack, KITE_POOL_IGMP_MEMBER)->used, 0);
    assert_true(igmp_idle(f));
}

/* ---- Reception filter, loopback, UDP ---------------------------------------------------- */

static void recv_cb(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                    const struct kite_addr *src, uint16_t port, const struct kite_addr *dst)
{
    (void)pcb;
    (void)port;
    unsigned *count = arg;
    (*count)++;
    fx->rx_src = src->u.v4;
    fx->rx_dst = dst->u.v4;
    kite_pbuf_free(&fx->stack, p);
}

static void inject_udp(struct fixture *f, uint32_t src, uint32_t dst)
{
    uint8_t frame[128];
    struct kite_eth_repr eth = {.ethertype = KITE_ETHERTYPE_IPV4, .src = {2, 0, 0, 0, 0, 9}};
    if (dst == KITE_IP4_BROADCAST)
        memset(eth.dst, 0xff, 6);
    else
        kite_eth_ip4_multicast_mac(dst, eth.dst);
    kite_eth_emit(&eth, frame, 14);
    uint16_t len = kt_build_udp(frame + 14, src, dst, 5000, PORT, "hi", 2, true);
    kt_inject(&f->stack, &f->eth.netif, frame, (uint16_t)(14 + len));
}

static void test_filter_udp(void **state)
{
    struct fixture *f = *state;
    struct kite_stack *st = &f->stack;
    unsigned rx_a = 0, rx_b = 0;
    struct kite_udp_pcb *a = kite_udp_new(st), *b = kite_udp_new(st);
    kite_udp_recv(a, recv_cb, &rx_a);
    kite_udp_recv(b, recv_cb, &rx_b);
    kite_udp_set_flags(a, KITE_UDP_FLAG_REUSEADDR, true);
    kite_udp_set_flags(b, KITE_UDP_FLAG_REUSEADDR, true);
    assert_int_equal(kite_udp_bind(a, NULL, PORT), KITE_ERR_OK);
    assert_int_equal(kite_udp_bind(b, NULL, PORT), KITE_ERR_OK);
    /* Nobody joined: dropped at the MAC filter, or at IP for a group sharing a MAC. */
    inject_udp(f, S1, G1);
    assert_int_equal(st->stats.eth.drop_mcast_filtered, 1);
    /* 224.0.0.1 and broadcast always come in. */
    inject_udp(f, S1, KITE_IGMP_ALL_SYSTEMS);
    inject_udp(f, S1, KITE_IP4_BROADCAST);
    assert_int_equal(rx_a + rx_b, 2 * (KITE_UDP_REUSE_RXTOALL ? 2 : 1));
    rx_a = rx_b = 0;
    const struct kite_addr g1 = KITE_ADDR_V4(G1);
    assert_int_equal(kite_udp_join(a, &g1, NULL), KITE_ERR_OK);
    assert_int_equal(kite_udp_join(a, &g1, NULL), KITE_ERR_INUSE);
    inject_udp(f, S1, G1_ALIAS);
    assert_int_equal(st->stats.ipv4.drop_mcast_filtered, 1);
    /* Joined by a: a hears it, and b too (IP_MULTICAST_ALL 1, Linux's default). */
    inject_udp(f, S1, G1);
    assert_int_equal(rx_a, 1);
    assert_int_equal(rx_b, KITE_UDP_REUSE_RXTOALL ? 1 : 0);
    assert_int_equal(f->rx_dst, G1);
    kite_udp_set_flags(b, KITE_UDP_FLAG_NO_MCAST_ALL, true);
    inject_udp(f, S1, G1);
    assert_int_equal(rx_a, 2);
    assert_int_equal(rx_b, KITE_UDP_REUSE_RXTOALL ? 1 : 0);
    /* Loopback: b sends to G1; a member here (a) hears it at the next poll. */
    struct kite_pbuf *p = kite_pbuf_from_data(st, KITE_LAYER_TRANSPORT, "loop", 4, true);
    (void)count_sent(f);
    unsigned wire_before = f->eth.count;
    assert_int_equal(kite_udp_sendto(b, p, &g1, PORT), KITE_ERR_OK);
    assert_int_equal(f->eth.count, wire_before + 1); /* and on the wire, TTL 1 */
    assert_int_equal(f->eth.sent[wire_before].data[14 + 8], 1);
    assert_int_equal(rx_a, 2);
    advance(f, 0);
    assert_int_equal(rx_a, 3);
    assert_int_equal(f->rx_src, US);
    assert_int_equal(st->stats.ipv4.mcast_looped, 1);
    /* IP_MULTICAST_LOOP 0: no copy; TTL 0: a copy, nothing on the wire. */
    kite_udp_set_flags(b, KITE_UDP_FLAG_NO_MCAST_LOOP, true);
    assert_int_equal(kite_udp_sendto(b, p, &g1, PORT), KITE_ERR_OK);
    advance(f, 0);
    assert_int_equal(rx_a, 3);
    kite_udp_set_flags(b, KITE_UDP_FLAG_NO_MCAST_LOOP, false);
    b->mcast_ttl = 0;
    wire_before = f->eth.count;
    assert_int_equal(kite_udp_sendto(b, p, &g1, PORT), KITE_ERR_OK);
    assert_int_equal(f->eth.count, wire_before);
    advance(f, 0);
    assert_int_equal(rx_a, 4);
    kite_pbuf_free(st, p);
    /* Closing a pcb leaves its groups (TO_IN({}) follows). */
    (void)count_sent(f);
    kite_udp_remove(a);
    expect_v3_record(f, KITE_IGMP_CHANGE_TO_INCLUDE, G1, NULL, 0);
    run_for(f, 5000);
    inject_udp(f, S1, G1);
    assert_int_equal(st->stats.eth.drop_mcast_filtered, 2);
    kite_udp_remove(b);
    assert_int_equal(kite_stack_pool(st, KITE_POOL_IGMP_MEMBER)->used, 0);
    assert_int_equal(kite_stack_pool(st, KITE_POOL_IGMP_GROUP)->used, 0);
}

/* IP input accepts a Router Alert (and other well-formed options) on any packet. */
static void test_ip_options_accepted(void **state)
{
    struct fixture *f = *state;
    unsigned rx = 0;
    struct kite_udp_pcb *a = kite_udp_new(&f->stack);
    kite_udp_recv(a, recv_cb, &rx);
    assert_int_equal(kite_udp_bind(a, NULL, PORT), KITE_ERR_OK);
    uint8_t frame[128], udp[64];
    struct kite_eth_repr eth = {.ethertype = KITE_ETHERTYPE_IPV4, .src = {2, 0, 0, 0, 0, 9}};
    memcpy(eth.dst, f->eth.netif.hwaddr, 6);
    kite_eth_emit(&eth, frame, 14);
    struct kite_udp_repr u = {.src_port = 5000, .dst_port = PORT, .length = 10};
    kite_udp_emit(&u, udp, 8);
    memcpy(udp + 8, "ok", 2);
    const uint8_t opts[8] = {0x94, 4, 0, 0, 1, 1, 1, 0}; /* RA, NOP, NOP, NOP, EOL */
    struct kite_ipv4_repr ip = {.total_len = 38, .ttl = 64, .proto = 17, .src = ROUTER, .dst = US};
    assert_int_equal(kite_ipv4_emit_opts(&ip, opts, 8, frame + 14, 28), KITE_ERR_OK);
    memcpy(frame + 42, udp, 10);
    kt_inject(&f->stack, &f->eth.netif, frame, 52);
    assert_int_equal(rx, 1);
    kite_udp_remove(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_join_leave_v3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_querier_robustness, setup, teardown),
#if KITE_IGMP_MAX_SOURCES >= 2
        cmocka_unit_test_setup_teardown(test_source_changes, setup, teardown),
#endif
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mac_filter_shared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_at_time_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_general_query_v3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_queries_v3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v2_querier, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v1_querier, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_netif_down_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_udp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ip_options_accepted, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
