/* SPDX-License-Identifier: BSD-3-Clause */
/* TCP segmentation offload on transmit (KITE_TSO). On a netif whose driver
 * cuts super-segments (kite_netif.tso_max), new data leaves as one packet of
 * several segments whose checksum field holds the pseudo-header sum, as
 * Linux GSO and virtio-net expect; retransmissions, a driver that refuses,
 * and a tail that Nagle holds are cut by TCP as before. A build without
 * KITE_TSO runs the same scenarios and expects ordinary segments only. */
#include "tcp_harness.h"

#define TSO_MAX 64000u

/* What the driver saw of the super-segments (kite_netif_tso_segment != 0). */
static struct {
    kite_netif_output_fn inner; /* the harness's capture, for ordinary packets */
    bool refuse;                /* answer super-segments with an error */
    unsigned count, refused;
    uint16_t seg;           /* segment size of the last one */
    uint8_t flags;          /* its TCP flags */
    uint32_t seq, len;      /* its sequence number and payload length */
    uint16_t check, pseudo; /* its checksum field, the pseudo-header sum */
    uint8_t payload[TSO_MAX];
} drv;

static uint8_t pattern[TSO_MAX];

static enum kite_err tso_output(struct kite_netif *netif, struct kite_pbuf *p)
{
    uint16_t seg = kite_netif_tso_segment(netif, p);
    if (seg == 0)
        return drv.inner(netif, p);
    assert_true(p->tot_len > netif->mtu && p->tot_len <= netif->tso_max);
    if (drv.refuse) {
        drv.refused++;
        return KITE_ERR_NETIF;
    }
    static uint8_t pkt[TSO_MAX];
    uint16_t n = kite_pbuf_copy_out(p, pkt, p->tot_len, 0);
    unsigned ihl = 4u * (pkt[0] & 0x0fu), thl = 4u * (pkt[ihl + 12u] >> 4);
    assert_int_equal(kite_get_be16(pkt + 2), n);
    drv.count++;
    drv.seg = seg;
    drv.flags = pkt[ihl + 13u];
    drv.seq = kite_get_be32(pkt + ihl + 4u);
    drv.len = n - ihl - thl;
    drv.check = kite_get_be16(pkt + ihl + 16u);
    drv.pseudo =
        kite_cksum_fold(kite_cksum_pseudo4(TH_US, TH_PEER, KITE_IP_PROTO_TCP, (uint16_t)(n - ihl)));
    memcpy(drv.payload, pkt + ihl + thl, drv.len);
    return KITE_ERR_OK;
}

static int tso_setup(void **state)
{
    th_setup(state);
    struct th *t = *state;
    memset(&drv, 0, sizeof drv);
    drv.inner = t->cif.netif.output;
    t->cif.netif.output = tso_output;
    t->cif.netif.tso_max = TSO_MAX;
    return 0;
}

/* Segments of SMSS bytes a scenario sends at once: the initial window's ten
 * where the pool holds them twice over (the copy queued and the one sent). */
static uint32_t burst_segs(void)
{
    uint32_t n = TH_POOL_SEND_CAP / 2u / TH_SMSS;
    return n < KITE_TCP_INIT_CWND ? n : KITE_TCP_INIT_CWND;
}

/* Accept the default peer with a send buffer for len bytes, write them. */
static void establish_and_write(struct th *t, uint32_t len, bool nodelay)
{
    assert_true(burst_segs() >= 2u);
    th_listen(t, 4);
    uint32_t snd = len > TH_SND_BUF ? len : TH_SND_BUF;
    assert_int_equal(kite_tcp_listener_set_buffers(t->listener, snd, TH_RCV_BUF), KITE_ERR_OK);
    th_accept_c(t, &t->c);
    kite_tcp_set_nodelay(t->pcb, nodelay);
    th_fill(pattern, len, 0);
    assert_int_equal(kite_tcp_write(t->pcb, pattern, (uint16_t)len, KITE_TCP_WRITE_COPY),
                     KITE_ERR_OK);
}

/* The next ordinary segment carries [off, off + len) of the pattern. */
static void expect_segment(struct th *t, uint32_t off, uint32_t len)
{
    assert_true(th_next(t, &t->last));
    assert_int_equal(t->last.tcp.seq, t->c.our_iss + 1u + off);
    assert_int_equal(t->last.len, len);
    assert_memory_equal(t->last.data, pattern + off, len);
}

/* [0, len) left as ordinary segments of SMSS bytes (the last may be short). */
static void expect_cut(struct th *t, uint32_t len)
{
    for (uint32_t off = 0; off < len; off += TH_SMSS)
        expect_segment(t, off, TH_MIN(TH_SMSS, len - off));
}

/* The last super-segment carried [0, len) with the pseudo-header sum. */
static void expect_super(const struct th *t, uint32_t len)
{
    assert_int_equal(drv.count, 1);
    assert_int_equal(drv.seg, TH_SMSS);
    assert_int_equal(drv.seq, t->c.our_iss + 1u);
    assert_int_equal(drv.len, len);
    assert_int_equal(drv.check, drv.pseudo);
    assert_memory_equal(drv.payload, pattern, len);
}

/* [0, len) of new data left as the build sends it: one super-segment with
 * KITE_TSO, ordinary segments without; nothing else. */
static void expect_new_data(struct th *t, uint32_t len)
{
    if (KITE_TSO)
        expect_super(t, len);
    else
        expect_cut(t, len);
    th_expect_none(t);
}

static void ack_to(struct th *t, uint32_t off)
{
    th_send_at(t, &t->c, KITE_TCP_ACK, t->c.seq, t->c.our_iss + 1u + off, NULL, 0);
}

static void new_data_leaves_as_one_super_segment(void **state)
{
    struct th *t = *state;
    uint32_t len = burst_segs() * TH_SMSS;
    establish_and_write(t, len, false);
    assert_int_equal(kite_tcp_output(t->pcb), KITE_ERR_OK);
    if (KITE_TSO) {
        expect_super(t, len);
        assert_true(drv.flags & KITE_TCP_PSH); /* it empties the queue */
    } else {
        assert_int_equal(drv.count, 0);
        expect_cut(t, len);
    }
    th_expect_none(t);
    ack_to(t, len);
    assert_int_equal(t->sent_acked, len);
    th_cleanup(t);
}

/* RFC 9293 3.7.4: a short tail waits while data is in flight, with or
 * without offload; with no-delay it rides along. */
static void nagle_holds_the_tail_back(void **state)
{
    struct th *t = *state;
    uint32_t whole = (burst_segs() - 1u) * TH_SMSS, len = whole + 100u;
    establish_and_write(t, len, false);
    assert_int_equal(kite_tcp_output(t->pcb), KITE_ERR_OK);
    expect_new_data(t, whole);
    ack_to(t, whole);
    expect_segment(t, whole, 100u);
    th_expect_none(t);
    ack_to(t, len);
    th_cleanup(t);
}

static void no_delay_tail_rides_along(void **state)
{
    struct th *t = *state;
    uint32_t len = (burst_segs() - 1u) * TH_SMSS + 100u;
    establish_and_write(t, len, true);
    assert_int_equal(kite_tcp_output(t->pcb), KITE_ERR_OK);
    expect_new_data(t, len);
    ack_to(t, len);
    th_cleanup(t);
}

/* The FIN goes on the super-segment that ends the stream: Linux GSO keeps
 * it (and PSH) on the last cut only. */
static void fin_rides_on_the_super_segment(void **state)
{
    struct th *t = *state;
    uint32_t len = (burst_segs() - 1u) * TH_SMSS + 100u;
    establish_and_write(t, len, false);
    assert_int_equal(kite_tcp_shutdown(t->pcb, false, true), KITE_ERR_OK);
    if (KITE_TSO) {
        expect_super(t, len);
        assert_int_equal(drv.flags & (KITE_TCP_FIN | KITE_TCP_PSH), KITE_TCP_FIN | KITE_TCP_PSH);
    } else {
        expect_cut(t, len);
        assert_true(t->last.tcp.flags & KITE_TCP_FIN);
    }
    th_expect_none(t);
    ack_to(t, len + 1u);
    th_cleanup(t);
}

/* A driver that refuses the super-segment (an ARP miss does) gets the same
 * bytes cut by TCP at once, none lost or reordered. */
static void refused_super_segment_is_cut_by_tcp(void **state)
{
    struct th *t = *state;
    uint32_t len = burst_segs() * TH_SMSS;
    drv.refuse = true;
    establish_and_write(t, len, false);
    assert_int_equal(kite_tcp_output(t->pcb), KITE_ERR_OK);
    expect_cut(t, len);
    th_expect_none(t);
    assert_true(KITE_TSO ? drv.refused > 0 : drv.refused == 0);
    assert_int_equal(drv.count, 0);
    ack_to(t, len);
    assert_int_equal(t->sent_acked, len);
    th_cleanup(t);
}

/* After a timeout the data goes again one segment at a time (RFC 6298 5.4:
 * the earliest unacknowledged segment), not as a new super-segment. */
static void retransmission_is_cut_by_tcp(void **state)
{
    struct th *t = *state;
    uint32_t len = burst_segs() * TH_SMSS;
    establish_and_write(t, len, false);
    assert_int_equal(kite_tcp_output(t->pcb), KITE_ERR_OK);
    expect_new_data(t, len);
    th_run(t, KITE_TCP_RTO_INIT_MS);
    expect_segment(t, 0, TH_SMSS);
    assert_int_equal(drv.count, KITE_TSO ? 1 : 0);
    ack_to(t, len);
    th_cleanup(t);
}

/* While TCP sends a super-segment, only that IPv4 TCP frame is one: an ARP
 * request (the refresh ARP may send on the data's way out) or any other
 * frame gets an ordinary header. White-box: the stack's field is set by hand. */
static void only_the_tcp_frame_is_a_super_segment(void **state)
{
    struct th *t = *state;
    struct kt_capture_if eth;
    kt_capture_add_ethernet(&t->stack, &eth, 7);
    uint8_t frame[60] = {0};
    frame[12] = 0x08; /* IPv4 */
    frame[14] = 0x45;
    frame[14 + 9] = KITE_IP_PROTO_TCP;
    struct kite_pbuf *p = kite_pbuf_from_data(&t->stack, 0, frame, sizeof frame, true);
    assert_non_null(p);
    assert_int_equal(kite_netif_tso_segment(&eth.netif, p), 0); /* nothing being sent */
#if KITE_TSO
    t->stack.tx_tso_segment = 1000;
    assert_int_equal(kite_netif_tso_segment(&eth.netif, p), 1000);
    p->payload[14 + 9] = 17; /* UDP */
    assert_int_equal(kite_netif_tso_segment(&eth.netif, p), 0);
    p->payload[14 + 9] = KITE_IP_PROTO_TCP;
    p->payload[13] = 0x06; /* ARP */
    assert_int_equal(kite_netif_tso_segment(&eth.netif, p), 0);
    p->payload[13] = 0x00;
    p->payload[14] = 0x60; /* not version 4 */
    assert_int_equal(kite_netif_tso_segment(&eth.netif, p), 0);
    t->stack.tx_tso_segment = 0;
#endif
    kite_pbuf_free(&t->stack, p);
    kite_netif_remove(&eth.netif);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(new_data_leaves_as_one_super_segment, tso_setup,
                                        th_teardown),
        cmocka_unit_test_setup_teardown(nagle_holds_the_tail_back, tso_setup, th_teardown),
        cmocka_unit_test_setup_teardown(no_delay_tail_rides_along, tso_setup, th_teardown),
        cmocka_unit_test_setup_teardown(fin_rides_on_the_super_segment, tso_setup, th_teardown),
        cmocka_unit_test_setup_teardown(refused_super_segment_is_cut_by_tcp, tso_setup,
                                        th_teardown),
        cmocka_unit_test_setup_teardown(retransmission_is_cut_by_tcp, tso_setup, th_teardown),
        cmocka_unit_test_setup_teardown(only_the_tcp_frame_is_a_super_segment, tso_setup,
                                        th_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
