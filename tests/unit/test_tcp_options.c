/* SPDX-License-Identifier: BSD-3-Clause */
/* Strict validation of TCP headers and options (RFC 9293 3.1, RFC 7323,
 * RFC 2018): malformed option lengths and bad data offsets are dropped and
 * counted, unknown options skipped, unacceptable ACKs answered. */
#include "tcp_harness.h"

/* Inject a segment whose option bytes are given raw; doff in 32-bit words
 * (0: computed from optlen, which must then be a multiple of 4). */
static void inject_raw(struct th *t, uint8_t flags, uint32_t seq, uint32_t ack, const uint8_t *opts,
                       uint8_t optlen, uint8_t doff, const void *data, uint16_t len)
{
    uint8_t buf[KITE_IPV4_HLEN + KITE_TCP_MAX_HLEN + 1600];
    uint8_t *tcp = buf + KITE_IPV4_HLEN;
    struct kite_tcp_repr h = th_hdr(&t->c, flags, seq, ack);
    h.opts = 0;
    assert_int_equal(kite_tcp_emit(&h, tcp, KITE_TCP_HLEN), KITE_ERR_OK);
    if (optlen > 0)
        memcpy(tcp + KITE_TCP_HLEN, opts, optlen);
    if (len > 0)
        memcpy(tcp + KITE_TCP_HLEN + optlen, data, len);
    if (doff == 0)
        doff = (uint8_t)((KITE_TCP_HLEN + optlen) / 4);
    tcp[12] = (uint8_t)(doff << 4);
    uint16_t tl = (uint16_t)(KITE_TCP_HLEN + optlen + len);
    kite_put_be16(tcp + 16, 0);
    uint32_t sum = kite_cksum_pseudo4(t->c.peer_ip, t->c.our_ip, KITE_IP_PROTO_TCP, tl) +
                   kite_cksum_add(0, tcp, tl);
    kite_put_be16(tcp + 16, (uint16_t)~kite_cksum_fold(sum));
    struct kite_ipv4_repr ip = {.total_len = (uint16_t)(KITE_IPV4_HLEN + tl),
                                .ttl = 64,
                                .proto = KITE_IP_PROTO_TCP,
                                .src = t->c.peer_ip,
                                .dst = t->c.our_ip};
    assert_int_equal(kite_ipv4_emit(&ip, buf, KITE_IPV4_HLEN), KITE_ERR_OK);
    th_inject(t, buf, (uint16_t)(KITE_IPV4_HLEN + tl));
}

struct bad_opts {
    const char *what;
    uint8_t len;
    uint8_t bytes[12];
};

static const struct bad_opts malformed[] = {
    {"MSS length 3", 4, {2, 3, 5, 0}},
    {"MSS length 5", 8, {2, 5, 5, 180, 0, 1, 1, 0}},
    {"window scale length 4", 4, {3, 4, 7, 0}},
    {"SACK-permitted length 3", 4, {4, 3, 0, 0}},
    {"timestamps length 9", 12, {1, 1, 8, 9, 0, 0, 0, 1, 0, 0, 0, 0}},
    {"SACK length 6", 8, {5, 6, 0, 0, 0, 1, 0, 0}},
    {"SACK length 9", 12, {1, 1, 5, 9, 0, 0, 0, 1, 0, 0, 0, 2}},
    {"option length 0", 4, {30, 0, 1, 1}},
    {"option length 1", 4, {1, 1, 30, 1}},
    {"option runs past the header", 4, {1, 1, 30, 8}},
    {"length byte missing", 4, {1, 1, 1, 30}},
};
#define N_MALFORMED (sizeof malformed / sizeof malformed[0])

static void malformed_options_dropped_in_listen(void **state)
{
    struct th *t = *state;
    th_listen(t, 4);
    for (size_t i = 0; i < N_MALFORMED; i++) {
        print_message("%s\n", malformed[i].what);
        inject_raw(t, KITE_TCP_SYN, TH_PEER_ISN, 0, malformed[i].bytes, malformed[i].len, 0, NULL,
                   0);
        th_expect_none(t);
        assert_int_equal(t->stack.stats.tcp.drop_malformed, i + 1);
    }
    assert_int_equal(th_pcbs_used(t), 1);
    assert_int_equal(t->stack.stats.tcp.passive_opens, 0);
    th_cleanup(t);
}

static void malformed_options_dropped_when_established(void **state)
{
    struct th *t = *state;
    struct kite_tcp_pcb *pcb = th_establish(t);
    for (size_t i = 0; i < N_MALFORMED; i++) {
        print_message("%s\n", malformed[i].what);
        /* A RST that would otherwise kill the connection, and data. */
        inject_raw(t, KITE_TCP_RST, t->c.seq, 0, malformed[i].bytes, malformed[i].len, 0, NULL, 0);
        inject_raw(t, KITE_TCP_ACK | KITE_TCP_PSH, t->c.seq, t->c.ack, malformed[i].bytes,
                   malformed[i].len, 0, "data", 4);
        th_expect_none(t);
        assert_int_equal(t->stack.stats.tcp.drop_malformed, 2 * (i + 1));
    }
    assert_int_equal(t->errs, 0);
    assert_int_equal(t->rx_len, 0);
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_ESTABLISHED);
    th_cleanup(t);
}

static void bad_data_offset_dropped(void **state)
{
    struct th *t = *state;
    struct kite_tcp_pcb *pcb = th_establish(t);
    /* Data offset below 5 words. */
    inject_raw(t, KITE_TCP_ACK, t->c.seq, t->c.ack, NULL, 0, 4, "abcd", 4);
    assert_int_equal(t->stack.stats.tcp.drop_malformed, 1);
    /* Data offset beyond the segment: 15 words in a 24-byte segment. */
    inject_raw(t, KITE_TCP_ACK, t->c.seq, t->c.ack, NULL, 0, 15, "abcd", 4);
    assert_int_equal(t->stack.stats.tcp.drop_short + t->stack.stats.tcp.drop_malformed, 2);
    /* A segment shorter than a header. */
    uint8_t buf[64];
    struct kite_tcp_repr h = th_hdr(&t->c, KITE_TCP_ACK, t->c.seq, t->c.ack);
    uint16_t n = th_build(&t->c, &h, NULL, 0, buf, sizeof buf);
    struct kite_ipv4_repr ip = {.total_len = (uint16_t)(n - 8),
                                .ttl = 64,
                                .proto = KITE_IP_PROTO_TCP,
                                .src = TH_PEER,
                                .dst = TH_US};
    assert_int_equal(kite_ipv4_emit(&ip, buf, KITE_IPV4_HLEN), KITE_ERR_OK);
    th_inject(t, buf, (uint16_t)(n - 8));
    assert_int_equal(t->stack.stats.tcp.drop_short + t->stack.stats.tcp.drop_malformed, 3);
    th_expect_none(t);
    assert_int_equal(t->rx_len, 0);
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_ESTABLISHED);
    th_cleanup(t);
}

static void unknown_and_padding_options_accepted(void **state)
{
    struct th *t = *state;
    th_establish(t);
    /* An unknown kind with a valid length, NOPs, and EOL padding. */
    static const uint8_t opts[] = {30, 4, 0xde, 0xad, 1, 1, 0, 0};
    inject_raw(t, KITE_TCP_ACK | KITE_TCP_PSH, t->c.seq, t->c.ack, opts, sizeof opts, 0, "hey", 3);
    assert_int_equal(t->rx_len, 3);
    assert_memory_equal(t->rx, "hey", 3);
    assert_int_equal(t->stack.stats.tcp.drop_malformed, 0);
    /* A SYN with an unknown option still opens. */
    struct th_conn c2;
    th_conn_init(&c2, TH_PEER_PORT + 1);
    th_conn_add(t, &c2);
    static const uint8_t syn_opts[] = {2, 4, 0x05, 0xb4, 30, 6, 1, 2, 3, 4, 1, 0};
    struct th_conn save = t->c;
    t->c = c2;
    inject_raw(t, KITE_TCP_SYN, c2.seq, 0, syn_opts, sizeof syn_opts, 0, NULL, 0);
    t->c = save;
    const struct th_pkt *p = th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK);
    assert_int_equal(p->tcp.ack, c2.seq + 1);
    th_send_at(t, &c2, KITE_TCP_RST, c2.seq + 1, 0, NULL, 0); /* drop the half-open child */
    kite_tcp_abort(t->pcb);
    t->pcb = NULL;
    th_cleanup(t);
}

static void window_scale_above_14_clamped(void **state)
{
    struct th *t = *state;
    t->c.syn_wscale = 15; /* RFC 7323 2.3: use 14 */
    t->c.window = 1;
    th_establish(t);
    kite_tcp_set_nodelay(t->pcb, true);
    /* 4000 bytes, or a full send buffer when it is smaller. */
    static uint8_t buf[4000];
    const uint16_t len = (uint16_t)TH_MIN(sizeof buf, TH_SND_BUF);
    th_fill(buf, len, 0);
    /* Window field 1 << 14 = 16384 bytes: all of them may go. */
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_int_equal(kite_tcp_write(t->pcb, buf, len, KITE_TCP_WRITE_COPY), KITE_ERR_OK);
    assert_int_equal(kite_tcp_output(t->pcb), KITE_ERR_OK);
    uint32_t sent = 0;
    struct th_pkt p;
    while (th_next(t, &p))
        sent += p.len;
    assert_int_equal(sent, len);
    th_cleanup(t);
}

static void unacceptable_ack_answered_and_dropped(void **state)
{
    struct th *t = *state;
    struct kite_tcp_pcb *pcb = th_establish(t);
    /* SEG.ACK > SND.NXT: send an ACK, drop the segment (RFC 9293 3.10.7.4). */
    th_send_at(t, &t->c, KITE_TCP_ACK | KITE_TCP_PSH, t->c.seq, t->c.ack + 1000, "zz", 2);
    const struct th_pkt *p = th_expect_ack(t, t->c.seq);
    assert_int_equal(p->tcp.seq, t->c.ack);
    assert_int_equal(t->rx_len, 0);
    assert_int_equal(t->stack.stats.tcp.drop_bad_ack, 1);
    assert_int_equal(t->sent_acked, 0);
    /* A segment without ACK in a synchronized state is dropped. */
    th_send_at(t, &t->c, KITE_TCP_PSH, t->c.seq, 0, "zz", 2);
    assert_int_equal(t->rx_len, 0);
    th_expect_none(t);
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_ESTABLISHED);
    th_cleanup(t);
}

static void header_split_across_pbufs(void **state)
{
    struct th *t = *state;
    struct kite_tcp_pcb *pcb = th_establish(t);
    /* A valid segment whose 32-byte header (timestamps) straddles two pbufs of
     * a chain, as a driver with small buffers could deliver it. */
    uint8_t buf[256];
    struct kite_tcp_repr h = th_hdr(&t->c, KITE_TCP_ACK | KITE_TCP_PSH, t->c.seq, t->c.ack);
    h.opts = KITE_TCP_HAS_TIMESTAMP;
    h.ts_val = 1;
    uint16_t n = th_build(&t->c, &h, "split", 5, buf, sizeof buf);
    const uint16_t first = KITE_IPV4_HLEN + 24;
    struct kite_pbuf *a = kite_pbuf_alloc(&t->stack, 0, first, KITE_PBUF_POOL);
    struct kite_pbuf *b = kite_pbuf_alloc(&t->stack, 0, (uint16_t)(n - first), KITE_PBUF_POOL);
    assert_non_null(a);
    assert_non_null(b);
    memcpy(a->payload, buf, first);
    memcpy(b->payload, buf + first, n - first);
    kite_pbuf_cat(a, b);
    assert_int_equal(a->tot_len, n);
    kite_netif_input(&t->cif.netif, a);
    /* The first pbuf holds less than the TCP header: the header is read from
     * the chain, and the segment is neither counted malformed nor dropped. */
    assert_int_equal(t->stack.stats.tcp.rx, 3); /* the SYN, the ACK and this one */
    assert_int_equal(t->stack.stats.tcp.drop_malformed, 0);
    /* The recv callback freed the data; nothing else holds a block. */
    assert_int_equal(kite_stack_pool(&t->stack, KITE_POOL_PBUF_POOL)->used, 0);
    assert_int_equal(t->rx_len, 5);
    assert_memory_equal(t->rx, "split", 5);
    (void)pcb;
    th_cleanup(t);
    assert_int_equal(kite_stack_pool(&t->stack, KITE_POOL_PBUF_POOL)->used, 0);
}

TH_TESTS(TH_TEST(malformed_options_dropped_in_listen),
         TH_TEST(malformed_options_dropped_when_established), TH_TEST(bad_data_offset_dropped),
         TH_TEST(unknown_and_padding_options_accepted), TH_TEST(window_scale_above_14_clamped),
         TH_TEST(unacceptable_ack_answered_and_dropped), TH_TEST(header_split_across_pbufs))
