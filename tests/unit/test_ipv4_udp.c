/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 validation, ICMPv4 echo and errors, UDP demux and output, fed packet by
 * packet through an IP-level netif whose sends are recorded. */
#include <stdlib.h>
#include <string.h>

#include "kite/byteorder.h"
#include "kite/wire/checksum.h"
#include "kite/wire/icmp4.h"
#include "kite/wire/ipv4.h"
#include "kite/wire/udp.h"
#include "testutil.h"

#define US KITE_IP4(192, 0, 2, 2)
#define PEER KITE_IP4(192, 0, 2, 1)
#define FAR KITE_IP4(198, 51, 100, 7)

struct fixture {
    struct kite_stack stack;
    struct kt_capture_if ipif;
    struct kite_udp_pcb *pcb;
    struct kite_pbuf *last_rx;
    struct kite_addr last_src, last_dst;
    uint16_t last_port;
    unsigned rx_count;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    kite_stack_init(&f->stack, NULL);
    kt_capture_add_ip(&f->stack, &f->ipif, "tun0");
    kite_netif_set_ipv4(&f->ipif.netif, US, 24, PEER);
    kite_netif_set_default(&f->stack, &f->ipif.netif);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->last_rx)
        kite_pbuf_free(&f->stack, f->last_rx);
    if (f->pcb)
        kite_udp_remove(f->pcb);
    kt_assert_pools_empty(&f->stack); /* before deinit, which would free a leftover */
    kite_stack_deinit(&f->stack);
    free(f);
    return 0;
}

/* Build an IPv4 packet around payload; returns its length. */

static void recv_cb(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                    const struct kite_addr *src, uint16_t port, const struct kite_addr *dst)
{
    (void)pcb;
    struct fixture *f = arg;
    if (f->last_rx)
        kite_pbuf_free(&f->stack, f->last_rx);
    f->last_rx = p;
    f->last_src = *src;
    f->last_dst = *dst;
    f->last_port = port;
    f->rx_count++;
}

static void bind_pcb(struct fixture *f, uint16_t port)
{
    f->pcb = kite_udp_new(&f->stack);
    assert_non_null(f->pcb);
    assert_int_equal(kite_udp_bind(f->pcb, NULL, port), KITE_ERR_OK);
    kite_udp_recv(f->pcb, recv_cb, f);
}

static void test_echo_reply(void **state)
{
    struct fixture *f = *state;
    uint8_t pkt[1600];
    for (uint16_t len = 0; len <= 1472; len = (uint16_t)(len + 368)) {
        kt_capture_clear(&f->ipif);
        uint16_t n = kt_build_echo(pkt, PEER, US, len);
        kt_inject(&f->stack, &f->ipif.netif, pkt, n);
        assert_int_equal(f->ipif.count, 1);
        struct kt_packet *r = &f->ipif.sent[0];
        struct kite_ipv4_repr ip;
        assert_int_equal(kite_ipv4_parse(r->data, r->len, true, &ip), KITE_ERR_OK);
        assert_int_equal(ip.src, US);
        assert_int_equal(ip.dst, PEER);
        assert_int_equal(r->len, n);
        assert_int_equal(r->data[20], KITE_ICMP4_ECHO_REPLY);
        assert_int_equal(kite_cksum(r->data + 20, (size_t)r->len - 20), 0);
        assert_memory_equal(r->data + 24, pkt + 24, (size_t)n - 24); /* id, seq, data */
    }
}

static void test_broadcast_echo_ignored(void **state)
{
    struct fixture *f = *state;
    uint8_t pkt[100];
    uint16_t n = kt_build_echo(pkt, PEER, KITE_IP4(192, 0, 2, 255), 8);
    kt_inject(&f->stack, &f->ipif.netif, pkt, n);
    assert_int_equal(f->ipif.count, 0);
    assert_int_equal(f->stack.stats.icmp4.drop_broadcast_echo, 1);
}

static void test_bad_headers_counted(void **state)
{
    struct fixture *f = *state;
    uint8_t pkt[100];
    struct kite_stats_ipv4 *st = &f->stack.stats.ipv4;
    uint16_t n = kt_build_echo(pkt, PEER, US, 8);
    pkt[10] ^= 0x55; /* header checksum */
    kt_inject(&f->stack, &f->ipif.netif, pkt, n);
    assert_int_equal(st->drop_bad_checksum, 1);
    n = kt_build_echo(pkt, PEER, US, 8);
    kt_inject(&f->stack, &f->ipif.netif, pkt, 15);
    assert_int_equal(st->drop_short, 1);
    kite_put_be16(pkt + 2, 200); /* total length beyond the packet */
    kite_put_be16(pkt + 10, 0);
    kite_put_be16(pkt + 10, kite_cksum(pkt, 20));
    kt_inject(&f->stack, &f->ipif.netif, pkt, n);
    assert_int_equal(st->drop_bad_len, 1);
    n = kt_build_echo(pkt, PEER, US, 8);
    pkt[0] = 0x44; /* IHL 4 */
    kt_inject(&f->stack, &f->ipif.netif, pkt, n);
    assert_int_equal(st->drop_bad_hlen, 1);
#if !KITE_IP_REASSEMBLY /* (with it, fragments are test_ip_frag's) */
    n = kt_build_echo(pkt, PEER, US, 8);
    kite_put_be16(pkt + 6, KITE_IPV4_FLAG_MF);
    kite_put_be16(pkt + 10, 0);
    kite_put_be16(pkt + 10, kite_cksum(pkt, 20));
    kt_inject(&f->stack, &f->ipif.netif, pkt, n);
    assert_int_equal(st->drop_fragment, 1);
#endif
    n = kt_build_echo(pkt, PEER, KITE_IP4(192, 0, 2, 99), 8);
    kt_inject(&f->stack, &f->ipif.netif, pkt, n);
    assert_int_equal(st->drop_not_for_us, 1);
    n = kt_build_echo(pkt, KITE_IP4(224, 0, 0, 1), US, 8);
    kt_inject(&f->stack, &f->ipif.netif, pkt, n);
    assert_int_equal(st->drop_bad_src, 1);
    assert_int_equal(f->ipif.count, 0);
    assert_int_equal(st->delivered, 0);
}

static void test_ip_options_and_padding_accepted(void **state)
{
    struct fixture *f = *state;
    bind_pcb(f, 5000);
    uint8_t plain[100], pkt[120] = {0};
    uint16_t n = kt_build_udp(plain, PEER, US, 1111, 5000, "hello", 5, true);
    /* Re-emit with 4 bytes of options (NOP NOP NOP EOL) and 10 bytes of padding. */
    memcpy(pkt, plain, 20);
    pkt[0] = 0x46;
    memcpy(pkt + 20, "\x01\x01\x01\x00", 4);
    memcpy(pkt + 24, plain + 20, (size_t)n - 20);
    kite_put_be16(pkt + 2, (uint16_t)(n + 4));
    kite_put_be16(pkt + 10, 0);
    kite_put_be16(pkt + 10, kite_cksum(pkt, 24));
    kt_inject(&f->stack, &f->ipif.netif, pkt, (uint16_t)(n + 4 + 10));
    assert_int_equal(f->rx_count, 1);
    assert_int_equal(f->last_rx->tot_len, 5);
    assert_memory_equal(f->last_rx->payload, "hello", 5);
    assert_int_equal(f->last_port, 1111);
    assert_int_equal(f->last_src.u.v4, PEER);
}

static void test_udp_checksums(void **state)
{
    struct fixture *f = *state;
    bind_pcb(f, 7);
    uint8_t pkt[100];
    uint16_t n = kt_build_udp(pkt, PEER, US, 1, 7, "abc", 3, false); /* checksum 0: accepted */
    kt_inject(&f->stack, &f->ipif.netif, pkt, n);
    assert_int_equal(f->rx_count, 1);
    n = kt_build_udp(pkt, PEER, US, 1, 7, "abc", 3, true);
    pkt[n - 1] ^= 1; /* corrupt payload */
    kt_inject(&f->stack, &f->ipif.netif, pkt, n);
    assert_int_equal(f->rx_count, 1);
    assert_int_equal(f->stack.stats.udp.drop_bad_checksum, 1);
    n = kt_build_udp(pkt, PEER, US, 1, 7, "abc", 3, true);
    kite_put_be16(pkt + 24, 200); /* UDP length beyond the IP payload */
    kt_inject(&f->stack, &f->ipif.netif, pkt, n);
    assert_int_equal(f->stack.stats.udp.drop_bad_len, 1);
}

static void test_port_unreachable_and_rate_limit(void **state)
{
    struct fixture *f = *state;
    uint8_t pkt[100];
    uint16_t n = kt_build_udp(pkt, PEER, US, 4444, 9999, "zz", 2, true);
    for (int i = 0; i < KITE_ICMP4_ERROR_BURST + 5; i++)
        kt_inject(&f->stack, &f->ipif.netif, pkt, n);
    assert_int_equal(f->ipif.count, KITE_ICMP4_ERROR_BURST);
    assert_int_equal(f->stack.stats.icmp4.unreach_rate_limited, 5);
    assert_int_equal(f->stack.stats.udp.drop_no_port, KITE_ICMP4_ERROR_BURST + 5);
    struct kt_packet *r = &f->ipif.sent[0];
    assert_int_equal(r->data[20], KITE_ICMP4_DEST_UNREACH);
    assert_int_equal(r->data[21], KITE_ICMP4_UNREACH_PORT);
    assert_int_equal(kite_cksum(r->data + 20, (size_t)r->len - 20), 0);
    assert_memory_equal(r->data + 28, pkt, n); /* the whole offending datagram quoted */
    /* Tokens come back with time. */
    kite_stack_poll(&f->stack, kite_stack_now(&f->stack) + 1000);
    kt_inject(&f->stack, &f->ipif.netif, pkt, n);
    assert_int_equal(f->ipif.count, KITE_ICMP4_ERROR_BURST + 1);
    /* Never for broadcasts. */
    n = kt_build_udp(pkt, PEER, KITE_IP4(255, 255, 255, 255), 4444, 9999, "zz", 2, true);
    kt_inject(&f->stack, &f->ipif.netif, pkt, n);
    assert_int_equal(f->stack.stats.udp.drop_broadcast_no_port, 1);
    assert_int_equal(f->ipif.count, KITE_ICMP4_ERROR_BURST + 1);
}

static void test_unknown_protocol(void **state)
{
    struct fixture *f = *state;
    uint8_t pkt[100];
    uint16_t n = kt_build_ip(pkt, PEER, US, 253, (const uint8_t *)"data", 4);
    kt_inject(&f->stack, &f->ipif.netif, pkt, n);
    assert_int_equal(f->stack.stats.ipv4.drop_no_proto, 1);
    assert_int_equal(f->ipif.count, 1);
    assert_int_equal(f->ipif.sent[0].data[21], KITE_ICMP4_UNREACH_PROTO);
}

static void test_udp_send(void **state)
{
    struct fixture *f = *state;
    bind_pcb(f, 1234);
    struct kite_pbuf *p = kite_pbuf_from_data(&f->stack, KITE_LAYER_TRANSPORT, "payload", 7, true);
    struct kite_addr dst = KITE_ADDR_V4(PEER);
    assert_int_equal(kite_udp_sendto(f->pcb, p, &dst, 53), KITE_ERR_OK);
    assert_int_equal(p->tot_len, 7); /* headers removed again: caller can resend */
    struct kt_packet *r = &f->ipif.sent[0];
    struct kite_ipv4_repr ip;
    struct kite_udp_repr udp;
    assert_int_equal(kite_ipv4_parse(r->data, r->len, true, &ip), KITE_ERR_OK);
    assert_int_equal(kite_udp_parse(r->data + 20, r->len - 20u, &udp), KITE_ERR_OK);
    assert_int_equal(udp.src_port, 1234);
    assert_int_equal(udp.dst_port, 53);
    uint32_t sum =
        kite_cksum_pseudo4(US, PEER, 17, udp.length) + kite_cksum_add(0, r->data + 20, udp.length);
    assert_int_equal(kite_cksum_fold(sum), 0xffff);
    kite_udp_set_flags(f->pcb, KITE_UDP_FLAG_NO_CHECKSUM, true);
    assert_int_equal(kite_udp_sendto(f->pcb, p, &dst, 53), KITE_ERR_OK);
    assert_int_equal(kite_get_be16(f->ipif.sent[1].data + 26), 0);
    /* ROM data gets a separate header pbuf. */
    struct kite_pbuf *rom = kite_pbuf_from_data(&f->stack, 0, "const", 5, false);
    assert_int_equal(kite_udp_sendto(f->pcb, rom, &dst, 53), KITE_ERR_OK);
    assert_int_equal(f->ipif.sent[2].len, 20 + 8 + 5);
    assert_memory_equal(f->ipif.sent[2].data + 28, "const", 5);
    kite_pbuf_free(&f->stack, rom);
    /* Broadcast needs the flag. */
    struct kite_addr bc = KITE_ADDR_V4(KITE_IP4_BROADCAST);
    assert_int_equal(kite_udp_sendto(f->pcb, p, &bc, 67), KITE_ERR_VAL);
    kite_udp_set_flags(f->pcb, KITE_UDP_FLAG_BROADCAST, true);
    assert_int_equal(kite_udp_sendto(f->pcb, p, &bc, 67), KITE_ERR_OK);
    /* Unconnected send fails. */
    assert_int_equal(kite_udp_send(f->pcb, p), KITE_ERR_NOTCONN);
    kite_pbuf_free(&f->stack, p);
}

static void test_bind_rules(void **state)
{
    struct fixture *f = *state;
    bind_pcb(f, 7);
    struct kite_udp_pcb *b = kite_udp_new(&f->stack);
    assert_int_equal(kite_udp_bind(b, NULL, 7), KITE_ERR_INUSE);
    struct kite_addr us = KITE_ADDR_V4(US), other = KITE_ADDR_V4(KITE_IP4(192, 0, 2, 200));
    assert_int_equal(kite_udp_bind(b, &us, 7), KITE_ERR_INUSE);
    assert_int_equal(kite_udp_bind(b, &other, 8), KITE_ERR_VAL);
    assert_int_equal(kite_udp_bind(b, NULL, 0), KITE_ERR_OK);
    assert_true(b->local_port >= KITE_EPHEMERAL_PORT_MIN);
    kite_udp_remove(b);
    /* Pool exhaustion gives NULL, never a crash. */
    struct kite_udp_pcb *all[KITE_UDP_PCB_COUNT];
    int n = 0;
    while ((all[n] = kite_udp_new(&f->stack)) != NULL)
        n++;
    assert_int_equal(n, KITE_UDP_PCB_COUNT - 1);
    while (n-- > 0)
        kite_udp_remove(all[n]);
}

static void count_cb(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                     const struct kite_addr *src, uint16_t port, const struct kite_addr *dst)
{
    (void)src;
    (void)port;
    (void)dst;
    (*(unsigned *)arg)++;
    kite_pbuf_free(pcb->stack, p);
}

/* SO_REUSEADDR: pcbs that both ask share a port; broadcasts reach each of them
 * (KITE_UDP_REUSE_RXTOALL), unicast only the best match. */
static void test_reuseaddr_shares_port(void **state)
{
    struct fixture *f = *state;
    f->pcb = kite_udp_new(&f->stack);
    struct kite_udp_pcb *b = kite_udp_new(&f->stack);
    kite_udp_set_flags(f->pcb, KITE_UDP_FLAG_REUSEADDR, true);
    assert_int_equal(kite_udp_bind(f->pcb, NULL, 68), KITE_ERR_OK);
    assert_int_equal(kite_udp_bind(b, NULL, 68), KITE_ERR_INUSE); /* b did not ask */
    kite_udp_set_flags(b, KITE_UDP_FLAG_REUSEADDR, true);
    assert_int_equal(kite_udp_bind(b, NULL, 68), KITE_ERR_OK);
    unsigned other = 0;
    kite_udp_recv(f->pcb, recv_cb, f);
    kite_udp_recv(b, count_cb, &other);
    uint8_t pkt[100];
    uint16_t n = kt_build_udp(pkt, PEER, KITE_IP4(255, 255, 255, 255), 67, 68, "offer", 5, true);
    kt_inject(&f->stack, &f->ipif.netif, pkt, n);
    assert_int_equal(f->rx_count + other, KITE_UDP_REUSE_RXTOALL ? 2u : 1u);
    n = kt_build_udp(pkt, PEER, US, 67, 68, "unicast", 7, true);
    kt_inject(&f->stack, &f->ipif.netif, pkt, n);
    assert_int_equal(f->rx_count + other, KITE_UDP_REUSE_RXTOALL ? 3u : 2u);
    kite_udp_remove(b);
}

static void test_connected_pcb_filters(void **state)
{
    struct fixture *f = *state;
    bind_pcb(f, 6000);
    struct kite_addr peer = KITE_ADDR_V4(PEER);
    assert_int_equal(kite_udp_connect(f->pcb, &peer, 7000), KITE_ERR_OK);
    uint8_t pkt[100];
    uint16_t n = kt_build_udp(pkt, PEER, US, 7001, 6000, "no", 2, true);
    kt_inject(&f->stack, &f->ipif.netif, pkt, n);
    assert_int_equal(f->rx_count, 0);
    n = kt_build_udp(pkt, PEER, US, 7000, 6000, "yes", 3, true);
    kt_inject(&f->stack, &f->ipif.netif, pkt, n);
    assert_int_equal(f->rx_count, 1);
    struct kite_pbuf *p = kite_pbuf_from_data(&f->stack, KITE_LAYER_TRANSPORT, "r", 1, true);
    kt_capture_clear(&f->ipif);
    assert_int_equal(kite_udp_send(f->pcb, p), KITE_ERR_OK);
    assert_int_equal(kite_get_be16(f->ipif.sent[0].data + 22), 7000);
    kite_pbuf_free(&f->stack, p);
}

struct heard {
    unsigned count;
    enum kite_err err;
    struct kite_udp_pcb *pcb;
};

static void err_cb(void *arg, struct kite_udp_pcb *pcb, enum kite_err err)
{
    struct heard *h = arg;
    h->count++;
    h->err = err;
    h->pcb = pcb;
}

static void heard_recv(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                       const struct kite_addr *src, uint16_t port, const struct kite_addr *dst)
{
    (void)arg, (void)src, (void)port, (void)dst;
    kite_pbuf_free(pcb->stack, p);
}

static const struct kite_udp_ops heard_ops = {.recv = heard_recv, .err = err_cb};

/* The peer's answer to the datagram f->ipif.sent[0]: ICMP destination
 * unreachable with code, quoting it whole (RFC 1812 4.3.2.3). */
static void inject_unreachable(struct fixture *f, uint8_t code)
{
    const struct kt_packet *sent = &f->ipif.sent[0];
    uint8_t icmp[8 + 128] = {KITE_ICMP4_DEST_UNREACH, code};
    memcpy(icmp + 8, sent->data, sent->len);
    uint16_t len = (uint16_t)(8u + sent->len);
    kite_put_be16(icmp + 2, kite_cksum(icmp, len));
    uint8_t pkt[200];
    uint16_t n = kt_build_ip(pkt, PEER, US, 1, icmp, len);
    kt_inject(&f->stack, &f->ipif.netif, pkt, n);
}

/* RFC 1122 4.1.3.3: an ICMP port unreachable for a datagram a connected pcb
 * sent reaches its error callback as KITE_ERR_REFUSED; as Linux without
 * IP_RECVERR, an unconnected pcb and soft errors are not told. */
static void test_icmp_error_reaches_connected_pcb(void **state)
{
    struct fixture *f = *state;
    struct heard h = {0};
    f->pcb = kite_udp_new(&f->stack);
    kite_udp_set_ops(f->pcb, &heard_ops, &h);
    struct kite_addr peer = KITE_ADDR_V4(PEER);
    assert_int_equal(kite_udp_connect(f->pcb, &peer, 7000), KITE_ERR_OK);
    struct kite_pbuf *p = kite_pbuf_from_data(&f->stack, KITE_LAYER_TRANSPORT, "q", 1, true);
    assert_int_equal(kite_udp_send(f->pcb, p), KITE_ERR_OK);
    inject_unreachable(f, KITE_ICMP4_UNREACH_PORT);
    assert_int_equal(h.count, 1);
    assert_int_equal(h.err, KITE_ERR_REFUSED);
    assert_ptr_equal(h.pcb, f->pcb);
    assert_int_equal(f->stack.stats.udp.icmp_errors_rx, 1);
    inject_unreachable(f, KITE_ICMP4_UNREACH_HOST); /* soft: Linux ignores it too */
    assert_int_equal(h.count, 1);
    inject_unreachable(f, 10); /* host administratively prohibited: hard */
    assert_int_equal(h.err, KITE_ERR_UNREACHABLE);
    /* Datagrams still come through the ops table. */
    uint8_t pkt[100];
    uint16_t n = kt_build_udp(pkt, PEER, US, 7000, f->pcb->local_port, "in", 2, true);
    kt_inject(&f->stack, &f->ipif.netif, pkt, n);
    assert_int_equal(f->stack.stats.udp.delivered, 1);
    /* Connected to another peer, or not at all: the quote matches no one. */
    struct kite_addr other = KITE_ADDR_V4(FAR);
    assert_int_equal(kite_udp_connect(f->pcb, &other, 7000), KITE_ERR_OK);
    inject_unreachable(f, KITE_ICMP4_UNREACH_PORT);
    kite_udp_disconnect(f->pcb);
    inject_unreachable(f, KITE_ICMP4_UNREACH_PORT);
    assert_int_equal(h.count, 2);
    /* A pcb with a plain receive callback has no error callback to call. */
    assert_int_equal(kite_udp_connect(f->pcb, &peer, 7000), KITE_ERR_OK);
    kite_udp_recv(f->pcb, recv_cb, f);
    kite_udp_set_flags(f->pcb, KITE_UDP_FLAG_OPS, true); /* refused: kite_udp_set_ops's own */
    inject_unreachable(f, KITE_ICMP4_UNREACH_PORT);
    assert_int_equal(h.count, 2);
    assert_int_equal(f->stack.stats.udp.icmp_errors_rx, 6);
    kite_pbuf_free(&f->stack, p);
}

static void test_routing_off_subnet_and_no_route(void **state)
{
    struct fixture *f = *state;
    assert_ptr_equal(kite_ipv4_route(&f->stack, FAR), &f->ipif.netif);
    kite_netif_set_default(&f->stack, NULL);
    assert_null(kite_ipv4_route(&f->stack, FAR));
    assert_int_equal(kite_icmp4_send_echo(&f->stack, FAR, 1, 1, NULL, 0), KITE_ERR_ROUTE);
    assert_int_equal(f->stack.stats.ipv4.drop_no_route, 1);
    assert_int_equal(kite_netif_set_ipv4(&f->ipif.netif, US, 24, FAR), KITE_ERR_VAL);
}

static void test_too_big_rejected(void **state)
{
    struct fixture *f = *state;
    bind_pcb(f, 1);
    struct kite_pbuf *p = kite_pbuf_alloc(&f->stack, KITE_LAYER_TRANSPORT, 1473, KITE_PBUF_POOL);
    memset(p->payload, 0, p->len);
    struct kite_addr dst = KITE_ADDR_V4(PEER);
#if KITE_IP_FRAG /* two fragments: 1480 data bytes (UDP header included), then 1 */
    assert_int_equal(kite_udp_sendto(f->pcb, p, &dst, 9), KITE_ERR_OK);
    assert_int_equal(f->ipif.count, 2);
    assert_int_equal(f->ipif.sent[0].len, 1500);
    assert_int_equal(f->ipif.sent[1].len, 21);
    assert_int_equal(f->stack.stats.ipv4.frag_sent, 2);
    kt_capture_clear(&f->ipif);
#else
    assert_int_equal(kite_udp_sendto(f->pcb, p, &dst, 9), KITE_ERR_BUF);
    assert_int_equal(f->stack.stats.ipv4.drop_too_big, 1);
#endif
    kite_pbuf_trim(&f->stack, p, 1472);
    assert_int_equal(kite_udp_sendto(f->pcb, p, &dst, 9), KITE_ERR_OK);
    assert_int_equal(f->ipif.sent[0].len, 1500);
    kite_pbuf_free(&f->stack, p);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_echo_reply),
        T(test_broadcast_echo_ignored),
        T(test_reuseaddr_shares_port),
        T(test_bad_headers_counted),
        T(test_ip_options_and_padding_accepted),
        T(test_udp_checksums),
        T(test_port_unreachable_and_rate_limit),
        T(test_unknown_protocol),
        T(test_udp_send),
        T(test_bind_rules),
        T(test_connected_pcb_filters),
        T(test_icmp_error_reaches_connected_pcb),
        T(test_routing_off_subnet_and_no_route),
        T(test_too_big_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
