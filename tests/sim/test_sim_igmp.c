/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Multicast between kite stacks on a faulty hub, with a querier played by
 * the test (host 0: it sends queries out of its netif and reads every IGMP
 * message the hub brings it from its capture tap, as a router would). Hosts
 * 1 and 2 join G1, host 3 joins G2; host 1 sends numbered datagrams to both
 * groups. Under loss, duplication, reordering and corruption:
 *  - a member hears only its groups' datagrams, never corrupted, and
 *    non-members count them dropped (Ethernet or IP filter);
 *  - the sender hears its own G1 datagrams through loopback, every one;
 *  - the querier learns every membership from v3 reports and sees a leave
 *    (the leaver stops answering and its datagrams stop);
 *  - with a v2 querier the hosts switch to v2, answer with v2 reports, and
 *    suppress each other's reports for a shared group;
 *  - every pool is back to zero.
 */
#include "test_sim_world.h"

#include "kite/byteorder.h"
#include "kite/igmp.h"
#include "kite/wire/ethernet.h"
#include "kite/wire/igmp.h"
#include "kite/wire/ipv4.h"

#define G1 KITE_IP4(239, 1, 1, 1)
#define G2 KITE_IP4(239, 2, 2, 2)
#define PORT 5353
#define ROUNDS 200

static const struct kite_simlink_config faulty = {.loss_ppm = 50000,
                                                  .duplicate_ppm = 20000,
                                                  .reorder_ppm = 20000,
                                                  .corrupt_ppm = 10000,
                                                  .delay_ms = 2,
                                                  .jitter_ms = 3,
                                                  .reorder_delay_ms = 8};

struct member {
    struct kite_udp_pcb *pcb;
    uint32_t group;
    bool got[ROUNDS];
    unsigned unique, bad, wrong_group;
};

/* What the querier learned: when host h last reported a state for group g. */
struct querier {
    kite_time_ms seen[W_MAX_HOSTS][2];
    unsigned v3_reports, v2_reports[W_MAX_HOSTS], leaves_v3;
};

static int group_slot(uint32_t g)
{
    return g == G1 ? 0 : g == G2 ? 1 : -1;
}

static void note_record(struct querier *q, unsigned host, uint8_t type, uint32_t g, uint16_t nsrc,
                        kite_time_ms now)
{
    int slot = group_slot(g);
    if (slot < 0 || host >= W_MAX_HOSTS)
        return;
    bool member =
        type == KITE_IGMP_MODE_IS_EXCLUDE || type == KITE_IGMP_CHANGE_TO_EXCLUDE ||
        ((type == KITE_IGMP_MODE_IS_INCLUDE || type == KITE_IGMP_CHANGE_TO_INCLUDE) && nsrc > 0);
    if (member)
        q->seen[host][slot] = now;
    else if (type == KITE_IGMP_CHANGE_TO_INCLUDE) {
        q->seen[host][slot] = 0;
        q->leaves_v3++;
    }
}

/* The querier's ear: every IGMP message host 0's netif receives. */
static void querier_tap(void *ctx, const struct kite_netif *netif, const struct kite_pbuf *p,
                        enum kite_capture_dir dir)
{
    struct querier *q = ctx;
    uint8_t buf[600];
    if (dir != KITE_CAPTURE_IN || p->tot_len > sizeof buf)
        return;
    uint16_t len = kite_pbuf_copy_out(p, buf, p->tot_len, 0);
    struct kite_ipv4_repr ip;
    struct kite_igmp_repr r;
    if (len < 14 + 20 || kite_get_be16(buf + 12) != KITE_ETHERTYPE_IPV4 ||
        kite_ipv4_parse(buf + 14, len - 14u, true, &ip) != KITE_ERR_OK ||
        ip.proto != KITE_IP_PROTO_IGMP ||
        kite_igmp_parse(buf + 14 + ip.hlen, ip.total_len - ip.hlen, true, &r) != KITE_ERR_OK)
        return; /* corrupted frames are what a router would drop too */
    unsigned host = (ip.src & 0xffu) - 1u;
    kite_time_ms now = kite_stack_now(netif->stack);
    const uint8_t *msg = buf + 14 + ip.hlen;
    if (r.type == KITE_IGMP_TYPE_V2_REPORT && host < W_MAX_HOSTS) {
        q->v2_reports[host]++;
        note_record(q, host, KITE_IGMP_MODE_IS_EXCLUDE, r.group, 0, now);
    }
    if (r.type != KITE_IGMP_TYPE_V3_REPORT)
        return;
    q->v3_reports++;
    size_t off = KITE_IGMP_HLEN;
    for (uint16_t i = 0; i < r.nrec; i++) {
        struct kite_igmp_record rec;
        assert_int_equal(kite_igmp_record_parse(msg + off, r.length - off, &rec), KITE_ERR_OK);
        note_record(q, host, rec.type, rec.group, rec.nsrc, now);
        off += rec.length;
    }
}

/* Send a general query (v3, or v2 with v2) out of host 0 onto the hub. */
static void send_query(struct w_host *h, bool v2)
{
    uint8_t frame[14 + 24 + 12];
    struct kite_eth_repr eth = {.ethertype = KITE_ETHERTYPE_IPV4};
    memcpy(eth.src, h->netif.hwaddr, 6);
    kite_eth_ip4_multicast_mac(KITE_IGMP_ALL_SYSTEMS, eth.dst);
    kite_eth_emit(&eth, frame, 14);
    struct kite_igmp_repr q = {.type = KITE_IGMP_TYPE_QUERY,
                               .version = v2 ? 2 : 3,
                               .max_resp_ds = 20,
                               .qrv = 2,
                               .qqi_s = 2};
    uint16_t qlen = (uint16_t)kite_igmp_emit_len(&q);
    const uint8_t ra[4] = {0x94, 4, 0, 0};
    struct kite_ipv4_repr ip = {.tos = 0xc0,
                                .total_len = (uint16_t)(24 + qlen),
                                .ttl = 1,
                                .proto = KITE_IP_PROTO_IGMP,
                                .src = h->ip,
                                .dst = KITE_IGMP_ALL_SYSTEMS};
    assert_int_equal(kite_ipv4_emit_opts(&ip, ra, 4, frame + 14, 24), KITE_ERR_OK);
    assert_int_equal(kite_igmp_emit(&q, NULL, frame + 38, qlen), KITE_ERR_OK);
    uint16_t len = (uint16_t)(38 + qlen);
    struct kite_pbuf *p = kite_pbuf_alloc(&h->stack, 0, len, KITE_PBUF_RAM);
    assert_non_null(p);
    assert_int_equal(kite_pbuf_copy_in(p, frame, len, 0), KITE_ERR_OK);
    (void)h->netif.output(&h->netif, p);
    kite_pbuf_free(&h->stack, p);
}

static void member_rx(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                      const struct kite_addr *src, uint16_t port, const struct kite_addr *dst)
{
    (void)pcb;
    (void)src;
    (void)port;
    struct member *m = arg;
    uint8_t buf[8];
    uint16_t n = kite_pbuf_copy_out(p, buf, sizeof buf, 0);
    uint32_t seq = n == 8 ? kite_get_be32(buf) : UINT32_MAX;
    if (dst->u.v4 != m->group)
        m->wrong_group++;
    else if (seq >= ROUNDS || kite_get_be32(buf + 4) != (dst->u.v4 ^ seq))
        m->bad++;
    else if (!m->got[seq]) {
        m->got[seq] = true;
        m->unique++;
    }
    kite_pbuf_free(pcb->stack, p);
}

static void member_start(struct member *m, struct w_host *h, uint32_t group)
{
    memset(m, 0, sizeof *m);
    m->group = group;
    m->pcb = kite_udp_new(&h->stack);
    assert_non_null(m->pcb);
    kite_udp_set_flags(m->pcb, KITE_UDP_FLAG_NO_MCAST_ALL, true); /* its own groups only */
    assert_int_equal(kite_udp_bind(m->pcb, NULL, PORT), KITE_ERR_OK);
    kite_udp_recv(m->pcb, member_rx, m);
    const struct kite_addr g = KITE_ADDR_V4(group);
    assert_int_equal(kite_udp_join(m->pcb, &g, NULL), KITE_ERR_OK);
}

static void send_seq(struct w_host *h, struct kite_udp_pcb *pcb, uint32_t group, uint32_t seq)
{
    uint8_t data[8];
    kite_put_be32(data, seq);
    kite_put_be32(data + 4, group ^ seq);
    struct kite_pbuf *p = kite_pbuf_from_data(&h->stack, KITE_LAYER_TRANSPORT, data, 8, true);
    assert_non_null(p);
    const struct kite_addr g = KITE_ADDR_V4(group);
    (void)kite_udp_sendto(pcb, p, &g, PORT);
    kite_pbuf_free(&h->stack, p);
}

static bool querier_knows(const struct querier *q, unsigned host, int slot, kite_time_ms now)
{
    return q->seen[host][slot] != 0 && now - q->seen[host][slot] <= 6000;
}

static void run_seed(uint64_t seed, unsigned *suppressed)
{
    struct w_world w;
    w_init(&w, 4, faulty, seed);
    struct querier q;
    memset(&q, 0, sizeof q);
    kite_netif_set_capture(&w.hosts[0]->netif, querier_tap, &q);
    struct member m1, m2, m3;
    member_start(&m1, w.hosts[1], G1);
    member_start(&m2, w.hosts[2], G1);
    member_start(&m3, w.hosts[3], G2);
    for (uint32_t seq = 0; seq < ROUNDS; seq++) {
        if (seq % 40 == 0)
            send_query(w.hosts[0], false);
        send_seq(w.hosts[1], m1.pcb, G1, seq);
        send_seq(w.hosts[1], m1.pcb, G2, seq);
        w_run(&w, 50);
    }
    w_run(&w, 500);
    /* Loopback has no faults: the sender heard every G1 datagram. */
    assert_int_equal(m1.unique, ROUNDS);
    assert_true(m2.unique > ROUNDS * 8 / 10 && m3.unique > ROUNDS * 8 / 10);
    assert_int_equal(m1.bad + m2.bad + m3.bad, 0);
    assert_int_equal(m1.wrong_group + m2.wrong_group + m3.wrong_group, 0);
    assert_true(w.hosts[2]->stack.stats.eth.drop_mcast_filtered > 0); /* G2 at host 2 */
    assert_true(w.hosts[3]->stack.stats.eth.drop_mcast_filtered > 0); /* G1 at host 3 */
    kite_time_ms now = kite_stack_now(&w.hosts[0]->stack);
    assert_true(querier_knows(&q, 1, 0, now) && querier_knows(&q, 2, 0, now));
    assert_true(querier_knows(&q, 3, 1, now));
    assert_false(q.seen[3][0] != 0 || q.seen[1][1] != 0 || q.seen[2][1] != 0);

    /* Host 2 leaves G1: its datagrams stop; it answers no more queries for it. */
    const struct kite_addr g1 = KITE_ADDR_V4(G1);
    assert_int_equal(kite_udp_leave(m2.pcb, &g1, NULL), KITE_ERR_OK);
    w_run(&w, 3000);
    memset(m2.got, 0, sizeof m2.got);
    m2.unique = 0;
    for (uint32_t seq = 0; seq < 40; seq++) {
        if (seq % 20 == 0)
            send_query(w.hosts[0], false);
        send_seq(w.hosts[1], m1.pcb, G1, seq);
        w_run(&w, 100);
    }
    w_run(&w, 3000);
    assert_int_equal(m2.unique, 0);
    now = kite_stack_now(&w.hosts[0]->stack);
    assert_true(q.seen[2][0] == 0 || now - q.seen[2][0] > 6000);
    assert_true(querier_knows(&q, 1, 0, now));

    /* A v2 querier: v2 reports, and suppression between hosts 1 and 2 (both in G1 again). */
    assert_int_equal(kite_udp_join(m2.pcb, &g1, NULL), KITE_ERR_OK);
    for (int round = 0; round < 10; round++) {
        send_query(w.hosts[0], true);
        w_run(&w, 2500);
    }
    for (unsigned i = 1; i <= 3; i++)
        assert_int_equal(kite_igmp_version(&w.hosts[i]->netif), 2);
    assert_true(q.v2_reports[1] + q.v2_reports[2] > 0 && q.v2_reports[3] > 0);
    *suppressed += w.hosts[1]->stack.stats.igmp.reports_suppressed +
                   w.hosts[2]->stack.stats.igmp.reports_suppressed;

    kite_udp_remove(m1.pcb);
    kite_udp_remove(m2.pcb);
    kite_udp_remove(m3.pcb);
    w_run(&w, 15000); /* leaves and the last retransmissions */
    for (unsigned i = 0; i < 4; i++)
        assert_false(kite_timer_armed(&w.hosts[i]->stack.igmp.timer));
    kite_netif_set_capture(&w.hosts[0]->netif, NULL, NULL);
    w_fini(&w);
}

static void test_multicast_under_faults(void **state)
{
    (void)state;
    unsigned suppressed = 0;
    for (uint64_t seed = 1; seed <= 6; seed++)
        run_seed(seed, &suppressed);
    assert_true(suppressed > 0); /* RFC 2236 3: reports for a shared group were suppressed */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multicast_under_faults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
