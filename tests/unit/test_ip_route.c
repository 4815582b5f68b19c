/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 over several netifs: longest-prefix routing, source-based routing
 * (a bound socket's datagrams leave through its address's netif) and
 * forwarding between netifs (RFC 1812), packet by packet through IP-level
 * netifs whose sends are recorded. */
#include <stdlib.h>
#include <string.h>

#include "kite/byteorder.h"
#include "kite/wire/checksum.h"
#include "kite/wire/icmp4.h"
#include "kite/wire/ipv4.h"
#include "testutil.h"

/* Two /25 links; FAR_A and FAR_B lie beyond each one's router. */
#define A_US KITE_IP4(192, 0, 2, 2)
#define A_GW KITE_IP4(192, 0, 2, 1)
#define A_HOST KITE_IP4(192, 0, 2, 10)
#define FAR_A KITE_IP4(192, 0, 2, 200)
#define B_US KITE_IP4(198, 51, 100, 2)
#define B_GW KITE_IP4(198, 51, 100, 1)
#define B_HOST KITE_IP4(198, 51, 100, 10)
#define FAR_B KITE_IP4(198, 51, 100, 200)

struct fixture {
    struct kite_stack stack;
    struct kt_capture_if a, b;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    kite_stack_init(&f->stack, NULL);
    kt_capture_add_ip(&f->stack, &f->a, "a0");
    kt_capture_add_ip(&f->stack, &f->b, "b0");
    kite_netif_set_ipv4(&f->a.netif, A_US, 25, A_GW);
    kite_netif_set_ipv4(&f->b.netif, B_US, 25, B_GW);
    kite_netif_set_up(&f->a.netif, true);
    kite_netif_set_up(&f->b.netif, true);
    kite_netif_set_default(&f->stack, &f->a.netif);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    kt_assert_pools_empty(&f->stack);
    kite_stack_deinit(&f->stack);
    free(f);
    return 0;
}

static void longest_prefix_wins(void **state)
{
    struct fixture *f = *state;
    struct kt_capture_if c;
    kt_capture_add_ip(&f->stack, &c, "c0");
    kite_netif_set_ipv4(&c.netif, KITE_IP4(192, 0, 2, 66), 26, 0); /* 192.0.2.64/26 */
    kite_netif_set_up(&c.netif, true);
    /* 192.0.2.70 is in a's /25 and c's /26: the longer prefix wins. */
    assert_ptr_equal(kite_ipv4_route(&f->stack, KITE_IP4(192, 0, 2, 70)), &c.netif);
    assert_ptr_equal(kite_ipv4_route(&f->stack, A_HOST), &f->a.netif);
    assert_ptr_equal(kite_ipv4_route(&f->stack, B_HOST), &f->b.netif);
    assert_ptr_equal(kite_ipv4_route(&f->stack, FAR_B), &f->a.netif); /* the default */
    kite_netif_set_up(&c.netif, false);
    assert_ptr_equal(kite_ipv4_route(&f->stack, KITE_IP4(192, 0, 2, 70)), &f->a.netif);
    kite_netif_remove(&c.netif);
}

/* Indices stay non-zero and unique when netifs come and go past 255 times
 * (IP_MULTICAST_IF names a netif by index; 0 means "routed"). */
static void netif_indices_never_wrap_to_used(void **state)
{
    struct fixture *f = *state;
    static struct kt_capture_if c;
    for (unsigned i = 0; i < 300; i++) {
        kt_capture_add_ip(&f->stack, &c, "c0");
        assert_int_not_equal(c.netif.index, 0);
        assert_int_not_equal(c.netif.index, f->a.netif.index);
        assert_int_not_equal(c.netif.index, f->b.netif.index);
        kite_netif_remove(&c.netif);
    }
}

static void send_from(struct fixture *f, uint32_t bind_ip, uint32_t dst)
{
    struct kite_udp_pcb *pcb = kite_udp_new(&f->stack);
    struct kite_addr local = KITE_ADDR_V4(bind_ip);
    assert_int_equal(kite_udp_bind(pcb, bind_ip != 0 ? &local : NULL, 4000), KITE_ERR_OK);
    struct kite_pbuf *p = kite_pbuf_from_data(&f->stack, KITE_LAYER_TRANSPORT, "x", 1, true);
    struct kite_addr to = KITE_ADDR_V4(dst);
    assert_int_equal(kite_udp_sendto(pcb, p, &to, 9), KITE_ERR_OK);
    kite_pbuf_free(&f->stack, p);
    kite_udp_remove(pcb);
}

static uint32_t sent_src(const struct kt_capture_if *c)
{
    assert_true(c->count > 0);
    return kite_get_be32(c->sent[c->count - 1].data + 12);
}

/* esp-lwip's source routing: from b's address, through b, to b's router. */
static void source_routing(void **state)
{
    struct fixture *f = *state;
    send_from(f, B_US, FAR_B);
    assert_int_equal(f->a.count, 0);
    assert_int_equal(f->b.count, 1);
    assert_int_equal(sent_src(&f->b), B_US);
    send_from(f, A_US, FAR_B); /* a's address: a's router */
    assert_int_equal(f->a.count, 1);
    assert_int_equal(sent_src(&f->a), A_US);
    send_from(f, 0, FAR_B); /* unbound: the routing table (the default) */
    assert_int_equal(f->a.count, 2);
    send_from(f, B_US, A_HOST); /* on a's link: b cannot reach it but by routing */
    assert_int_equal(f->a.count, 3);
    /* Without a gateway b reaches only its own link: the table decides. */
    kite_netif_set_ipv4(&f->b.netif, B_US, 25, 0);
    assert_ptr_equal(kite_ipv4_route_src(&f->stack, B_US, FAR_B), &f->a.netif);
    assert_ptr_equal(kite_ipv4_route_src(&f->stack, B_US, B_HOST), &f->b.netif);
}

#if KITE_IP_FORWARD
/* ---- Forwarding ------------------------------------------------------------------------- */

/* A UDP packet from src to dst with ttl and DF, len bytes of data. */
static uint16_t udp_packet(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t ttl, bool df,
                           uint16_t len)
{
    uint8_t data[1600];
    for (unsigned i = 0; i < len; i++)
        data[i] = (uint8_t)i;
    uint16_t n = kt_build_udp(buf, src, dst, 5000, 6000, data, len, true);
    buf[8] = ttl;
    if (df)
        kite_put_be16(buf + 6, KITE_IPV4_FLAG_DF);
    kite_put_be16(buf + 10, 0);
    kite_put_be16(buf + 10, kite_cksum(buf, 20));
    return n;
}

static void parse(const struct kt_packet *k, struct kite_ipv4_repr *ip)
{
    assert_int_equal(kite_ipv4_parse(k->data, k->len, true, ip), KITE_ERR_OK);
}

static void forwarding_off_by_default(void **state)
{
    struct fixture *f = *state;
    uint8_t pkt[1600];
    uint16_t n = udp_packet(pkt, A_HOST, B_HOST, 64, false, 100);
    kt_inject(&f->stack, &f->a.netif, pkt, n);
    assert_int_equal(f->b.count, 0);
    assert_int_equal(f->stack.stats.ipv4.drop_not_for_us, 1);
}

static void forwards_with_ttl_one_lower(void **state)
{
    struct fixture *f = *state;
    kite_ipv4_set_forwarding(&f->stack, true);
    uint8_t pkt[1600];
    uint16_t n = udp_packet(pkt, A_HOST, B_HOST, 64, false, 100);
    kt_inject(&f->stack, &f->a.netif, pkt, n);
    assert_int_equal(f->b.count, 1);
    struct kite_ipv4_repr ip;
    parse(&f->b.sent[0], &ip); /* the header checksum verifies after the TTL change */
    assert_int_equal(ip.ttl, 63);
    assert_int_equal(ip.src, A_HOST);
    assert_memory_equal(f->b.sent[0].data + 20, pkt + 20, n - 20u); /* the rest untouched */
    assert_int_equal(f->stack.stats.ipv4.forwarded, 1);
    /* To beyond b's router: the same, to the router. */
    n = udp_packet(pkt, A_HOST, FAR_B, 64, false, 100);
    kt_inject(&f->stack, &f->a.netif, pkt, n);
    assert_int_equal(f->b.count, 1); /* default route is a: back out a */
    assert_int_equal(f->a.count, 1);
}

/* RFC 1812 5.3.1: a TTL that would reach zero draws Time Exceeded (code 0). */
static void ttl_exceeded(void **state)
{
    struct fixture *f = *state;
    kite_ipv4_set_forwarding(&f->stack, true);
    uint8_t pkt[1600];
    uint16_t n = udp_packet(pkt, A_HOST, B_HOST, 1, false, 100);
    kt_inject(&f->stack, &f->a.netif, pkt, n);
    assert_int_equal(f->b.count, 0);
    assert_int_equal(f->a.count, 1);
    const uint8_t *e = f->a.sent[0].data;
    assert_int_equal(e[20], KITE_ICMP4_TIME_EXCEEDED);
    assert_int_equal(e[21], 0);
    assert_int_equal(kite_get_be32(e + 12), A_US); /* from the netif facing the sender */
    assert_int_equal(kite_get_be32(e + 16), A_HOST);
    assert_int_equal(f->stack.stats.ipv4.drop_fwd_ttl, 1);
}

/* RFC 1191 4: DF and too big for the next link: "fragmentation needed" with
 * that link's MTU; without DF, fragments that fit. */
static void too_big_for_next_link(void **state)
{
    struct fixture *f = *state;
    kite_ipv4_set_forwarding(&f->stack, true);
    f->b.netif.mtu = 576;
    uint8_t pkt[1600];
    uint16_t n = udp_packet(pkt, A_HOST, B_HOST, 64, true, 1000);
    kt_inject(&f->stack, &f->a.netif, pkt, n);
    assert_int_equal(f->b.count, 0);
    assert_int_equal(f->a.count, 1);
    const uint8_t *e = f->a.sent[0].data;
    assert_int_equal(e[20], KITE_ICMP4_DEST_UNREACH);
    assert_int_equal(e[21], KITE_ICMP4_UNREACH_FRAG_NEEDED);
    assert_int_equal(kite_get_be16(e + 26), 576);
    n = udp_packet(pkt, A_HOST, B_HOST, 64, false, 1000);
    kt_inject(&f->stack, &f->a.netif, pkt, n);
    assert_int_equal(f->b.count, 2);
    struct kite_ipv4_repr p0, p1;
    parse(&f->b.sent[0], &p0);
    parse(&f->b.sent[1], &p1);
    assert_true(p0.more_frags && !p1.more_frags);
    assert_int_equal(p0.ttl, 63);
    assert_int_equal(p1.frag_offset, p0.total_len - 20u);
    assert_true(p0.total_len <= 576 && p1.total_len <= 576);
    assert_int_equal(p0.total_len + p1.total_len - 40u, 1008);
}

/* A fragment cut again keeps its place: offsets from its own, MF on all. */
static void fragment_cut_again(void **state)
{
    struct fixture *f = *state;
    kite_ipv4_set_forwarding(&f->stack, true);
    f->b.netif.mtu = 576;
    uint8_t pkt[1600];
    uint16_t n = udp_packet(pkt, A_HOST, B_HOST, 64, false, 1000);
    kite_put_be16(pkt + 6, KITE_IPV4_FLAG_MF | (1480u / 8u));
    kite_put_be16(pkt + 10, 0);
    kite_put_be16(pkt + 10, kite_cksum(pkt, 20));
    kt_inject(&f->stack, &f->a.netif, pkt, n);
    assert_int_equal(f->b.count, 2);
    struct kite_ipv4_repr p0, p1;
    parse(&f->b.sent[0], &p0);
    parse(&f->b.sent[1], &p1);
    assert_int_equal(p0.frag_offset, 1480);
    assert_int_equal(p1.frag_offset, 1480 + p0.total_len - 20u);
    assert_true(p0.more_frags && p1.more_frags);
}

/* A packet with IP options that must be cut is dropped, not stripped of them
 * (RFC 791 3.2 copies some options into every fragment; kite's have none). */
static void options_not_cut(void **state)
{
    struct fixture *f = *state;
    kite_ipv4_set_forwarding(&f->stack, true);
    f->b.netif.mtu = 576;
    uint8_t pkt[1600];
    uint8_t body[1000] = {0};
    uint16_t n = kt_build_ip(pkt + 4, A_HOST, B_HOST, KITE_IP_PROTO_UDP, body, sizeof body);
    memmove(pkt, pkt + 4, 20);
    memcpy(pkt + 20, "\x01\x01\x01\x00", 4); /* NOP NOP NOP EOL */
    pkt[0] = 0x46;
    kite_put_be16(pkt + 2, (uint16_t)(n + 4));
    kite_put_be16(pkt + 10, 0);
    kite_put_be16(pkt + 10, kite_cksum(pkt, 24));
    kt_inject(&f->stack, &f->a.netif, pkt, (uint16_t)(n + 4));
    assert_int_equal(f->b.count, 0);
    assert_int_equal(f->stack.stats.ipv4.drop_fwd_options, 1);
    /* Small enough for the link, it is forwarded, options and all. */
    kite_put_be16(pkt + 2, 24 + 100);
    kite_put_be16(pkt + 10, 0);
    kite_put_be16(pkt + 10, kite_cksum(pkt, 24));
    kt_inject(&f->stack, &f->a.netif, pkt, 124);
    assert_int_equal(f->b.count, 1);
    assert_int_equal(f->b.sent[0].data[0], 0x46);
}

static void never_forwarded(void **state)
{
    struct fixture *f = *state;
    kite_ipv4_set_forwarding(&f->stack, true);
    uint8_t pkt[1600];
    const uint32_t dsts[] = {KITE_IP4(169, 254, 1, 1),     KITE_IP4(198, 51, 100, 127),
                             KITE_IP4(255, 255, 255, 255), KITE_IP4(239, 1, 2, 3),
                             KITE_IP4(240, 0, 0, 1),       KITE_IP4(0, 1, 2, 3)};
    for (unsigned i = 0; i < sizeof dsts / sizeof dsts[0]; i++) {
        uint16_t n = udp_packet(pkt, A_HOST, dsts[i], 64, false, 10);
        kt_inject(&f->stack, &f->a.netif, pkt, n);
    }
    uint16_t n = udp_packet(pkt, KITE_IP4(169, 254, 9, 9), B_HOST, 64, false, 10);
    kt_inject(&f->stack, &f->a.netif, pkt, n);
    n = udp_packet(pkt, B_US, B_HOST, 64, false, 10); /* RFC 1812 5.3.7: our own address */
    kt_inject(&f->stack, &f->a.netif, pkt, n);
    assert_int_equal(f->b.count, 0);
    assert_int_equal(f->stack.stats.ipv4.forwarded, 0);
}

#endif

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(longest_prefix_wins),
        T(netif_indices_never_wrap_to_used),
        T(source_routing),
#if KITE_IP_FORWARD
        T(forwarding_off_by_default),
        T(forwards_with_ttl_one_lower),
        T(ttl_exceeded),
        T(too_big_for_next_link),
#if KITE_IP_FRAG
        T(fragment_cut_again),
        T(options_not_cut),
#endif
        T(never_forwarded),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
