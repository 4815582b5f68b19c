/* SPDX-License-Identifier: BSD-3-Clause */
/* TCP path MTU discovery (RFC 1191 6.4/6.5, RFC 5927 4.1), segment by
 * segment: DF on every segment, an ICMP "fragmentation needed" quoting a
 * segment in flight shrinks the segments and resends, one quoting anything
 * else is ignored, and the MSS grows back when the learned MTU expires. */
#include "tcp_harness.h"

#include "kite/wire/icmp4.h"

static uint8_t pattern[65536];

/* Write len pattern bytes from stream offset off. */
static void write_all(struct th *t, uint32_t off, uint32_t len)
{
    th_fill(pattern, len, off);
    assert_int_equal(kite_tcp_write(t->pcb, pattern, (uint16_t)len, KITE_TCP_WRITE_COPY),
                     KITE_ERR_OK);
    assert_int_equal(kite_tcp_output(t->pcb), KITE_ERR_OK);
}

static void ack_to(struct th *t, uint32_t off)
{
    th_send_at(t, &t->c, KITE_TCP_ACK, t->c.seq, t->c.our_iss + 1 + off, NULL, 0);
}

/* A router's ICMP "fragmentation needed" quoting the captured packet k. */
static void frag_needed(struct th *t, const struct kt_packet *k, uint16_t mtu)
{
    kt_inject_frag_needed(&t->stack, &t->cif.netif, KITE_IP4(192, 0, 2, 254), TH_US, k, mtu);
}

/* Read every segment sent: each must carry DF and at most max bytes; returns
 * the bytes and copies the first packet's raw bytes to first (if not NULL). */
static uint32_t read_segments(struct th *t, uint32_t max, struct kt_packet *first, uint32_t *seq)
{
    uint32_t bytes = 0;
    bool any = false;
    if (first != NULL && t->next < t->cif.count)
        *first = t->cif.sent[t->next];
    while (th_next(t, &t->last)) {
        assert_true(t->last.ip.dont_frag);
        assert_true(t->last.len <= max);
        if (!any && seq != NULL)
            *seq = t->last.tcp.seq;
        any = true;
        bytes += t->last.len;
    }
    return bytes;
}

/* The MSS an MTU leaves, the connection's options taken out. */
static uint32_t mss_for(const struct th *t, uint16_t mtu)
{
    return mtu - 40u - (t->c.ts ? 12u : 0u);
}

#define SMALL_MTU 552u /* KITE_PMTU_MIN: the smallest report TCP takes */

static void shrink_resend_and_grow_back(void **state)
{
    struct th *t = *state;
    th_establish(t);
    kite_tcp_set_nodelay(t->pcb, true);
    uint32_t smss = TH_SMSS;
    uint32_t len = TH_MIN(2u * smss, TH_SND_BUF);
    write_all(t, 0, len);
    struct kt_packet first;
    uint32_t seq = 0;
    assert_int_equal(read_segments(t, smss, &first, &seq), len);
    assert_int_equal(seq, t->c.our_iss + 1);
    frag_needed(t, &first, SMALL_MTU);
    uint32_t small = TH_MIN(smss, mss_for(t, SMALL_MTU));
    assert_int_equal(t->pcb->mss, small);
    assert_int_equal(t->stack.stats.ipv4.pmtu_updates, smss > small ? 1u : 0u);
    /* RFC 1191 6.5: what was in flight goes again, in segments that fit. */
    if (smss > small) {
        uint32_t again = read_segments(t, small, NULL, &seq);
        assert_true(again > 0);
        assert_int_equal(seq, t->c.our_iss + 1);
    }
    ack_to(t, len);
    th_drain(t);
    /* RFC 1191 6.3: the learned MTU expires; segments grow back. */
    th_advance(t, KITE_PMTU_TIMEOUT_MS);
    assert_int_equal(t->stack.stats.ipv4.pmtu_expired, smss > small ? 1u : 0u);
    assert_true(t->pcb->mss >= smss - 7u && t->pcb->mss <= smss);
    th_cleanup(t);
}

/* RFC 5927 4.1: a report quoting a sequence number not in flight is forged
 * or stale; so is one about a connection that does not exist. */
static void report_outside_flight_ignored(void **state)
{
    struct th *t = *state;
    th_establish(t);
    kite_tcp_set_nodelay(t->pcb, true);
    uint32_t smss = TH_SMSS;
    write_all(t, 0, 100);
    struct kt_packet first;
    (void)read_segments(t, smss, &first, NULL);
    struct kt_packet stale = first;
    kite_put_be32(stale.data + 24, t->c.our_iss + 1 + 5000); /* beyond SND.NXT */
    frag_needed(t, &stale, SMALL_MTU);
    struct kt_packet other = first;
    kite_put_be16(other.data + 20, 1); /* no such connection */
    frag_needed(t, &other, SMALL_MTU);
    assert_int_equal(t->stack.stats.ipv4.drop_pmtu_bogus, 2);
    assert_int_equal(t->pcb->mss, smss);
    ack_to(t, 100);
    frag_needed(t, &first, SMALL_MTU); /* acknowledged since: no longer in flight */
    assert_int_equal(t->stack.stats.ipv4.drop_pmtu_bogus, 3);
    assert_int_equal(t->stack.stats.ipv4.pmtu_updates, 0);
    th_cleanup(t);
}

/* A tiny reported MTU is raised to KITE_PMTU_MIN, never below. */
static void tiny_report_floored(void **state)
{
    struct th *t = *state;
    th_establish(t);
    kite_tcp_set_nodelay(t->pcb, true);
    write_all(t, 0, TH_SMSS); /* a full segment, bigger than the floor */
    struct kt_packet first;
    (void)read_segments(t, TH_SMSS, &first, NULL);
    frag_needed(t, &first, 100);
    assert_int_equal(t->pcb->mss, TH_MIN(TH_SMSS, mss_for(t, KITE_PMTU_MIN)));
    ack_to(t, TH_SMSS);
    th_cleanup(t);
}

/* A connection opened while a smaller path MTU is known starts with it, and
 * grows back to the peer's MSS when it expires. */
static void opened_under_learned_mtu_grows_back(void **state)
{
    struct th *t = *state;
    struct kite_tcp_pcb *first = th_establish(t);
    kite_tcp_set_nodelay(first, true);
    write_all(t, 0, TH_SMSS);
    struct kt_packet seg;
    (void)read_segments(t, TH_SMSS, &seg, NULL);
    frag_needed(t, &seg, SMALL_MTU);
    ack_to(t, TH_SMSS);
    th_drain(t);
    static struct th_conn c2;
    th_conn_init(&c2, TH_PEER_PORT + 1);
    th_conn_add(t, &c2);
    /* The SYN-ACK offers what the link receives, not the path's size
     * (RFC 1191 3.1: the MSS option is about receiving). */
    const struct th_pkt *synack = th_open_syn(t, &c2);
    assert_int_equal(synack->tcp.mss, TH_OUR_MSS);
    th_send_c(t, &c2, KITE_TCP_ACK, NULL, 0);
    struct kite_tcp_pcb *second = t->pcb;
    assert_ptr_not_equal(second, first);
    uint32_t small = TH_MIN(TH_SMSS, mss_for(t, SMALL_MTU));
    assert_int_equal(second->mss, small);
    th_advance(t, KITE_PMTU_TIMEOUT_MS);
    assert_true(second->mss >= TH_SMSS - 7u && second->mss <= TH_SMSS);
    kite_tcp_abort(second);
    t->pcb = first;
    th_cleanup(t);
}

/* After a timeout snd_nxt goes back to SND.UNA: a report about a segment
 * sent before it (below snd_max) is still about one in flight. */
static void report_after_timeout_rewind(void **state)
{
    struct th *t = *state;
    th_establish(t);
    kite_tcp_set_nodelay(t->pcb, true);
    uint32_t smss = TH_SMSS;
    write_all(t, 0, TH_MIN(2u * smss, TH_SND_BUF));
    assert_true(t->cif.count - t->next >= 2);
    struct kt_packet second = t->cif.sent[t->next + 1];
    th_drain(t);
    th_advance_to(t, kite_stack_next_deadline(&t->stack)); /* the RTO */
    th_drain(t);
    assert_true(t->pcb->snd_nxt != t->pcb->snd_max);
    frag_needed(t, &second, SMALL_MTU);
    assert_int_equal(t->stack.stats.ipv4.drop_pmtu_bogus, 0);
    assert_int_equal(t->pcb->mss, TH_MIN(smss, mss_for(t, SMALL_MTU)));
    th_cleanup(t);
}

/* A full cache reuses the entry that expires first: its destination's
 * connections are told, and grow back at once. */
static void evicted_entry_grows_mss_back(void **state)
{
    struct th *t = *state;
    th_establish(t);
    kite_tcp_set_nodelay(t->pcb, true);
    write_all(t, 0, TH_SMSS);
    struct kt_packet seg;
    (void)read_segments(t, TH_SMSS, &seg, NULL);
    frag_needed(t, &seg, SMALL_MTU);
    uint32_t small = TH_MIN(TH_SMSS, mss_for(t, SMALL_MTU));
    assert_int_equal(t->pcb->mss, small);
    ack_to(t, TH_SMSS);
    th_drain(t);
    struct kite_udp_pcb *u = kite_udp_new(&t->stack);
    static uint8_t data[1000];
    for (unsigned i = 0; i < KITE_PMTU_ENTRIES; i++) {
        th_advance(t, 10);
        struct kite_addr dst = KITE_ADDR_V4(KITE_IP4(192, 0, 2, 100 + i));
        assert_int_equal(kite_udp_connect(u, &dst, 9), KITE_ERR_OK);
        struct kite_pbuf *p =
            kite_pbuf_from_data(&t->stack, KITE_LAYER_TRANSPORT, data, sizeof data, true);
        assert_int_equal(kite_udp_send(u, p), KITE_ERR_OK);
        kite_pbuf_free(&t->stack, p);
        struct kt_packet sent = t->cif.sent[t->cif.count - 1];
        kt_capture_clear(&t->cif); /* (UDP: not for th_next) */
        t->next = 0;
        frag_needed(t, &sent, 600);
    }
    assert_int_equal(t->stack.stats.ipv4.pmtu_updates, 1u + KITE_PMTU_ENTRIES);
    assert_true(t->pcb->mss >= TH_SMSS - 7u && t->pcb->mss <= TH_SMSS);
    kite_udp_remove(u);
    th_cleanup(t);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, th_setup, th_teardown)
    const struct CMUnitTest tests[] = {
#if KITE_PMTU
        T(shrink_resend_and_grow_back),
        T(report_outside_flight_ignored),
        T(tiny_report_floored),
        T(opened_under_learned_mtu_grows_back),
        T(report_after_timeout_rewind),
        T(evicted_entry_grows_mss_back),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
