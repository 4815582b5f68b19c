/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the link and transport wire formats: Ethernet, ARP, ICMPv4
 * and UDP parse/emit. Standalone: needs only the src/wire sources and cmocka.
 * IPv4 is in test_wire_ipv4.c, random mutation in test_wire_mutate.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "kite/wire/arp.h"
#include "kite/wire/checksum.h"
#include "kite/wire/ethernet.h"
#include "kite/wire/icmp4.h"
#include "kite/wire/udp.h"

/* Copy into a malloc of exactly len bytes so ASan catches any over-read. */
static uint8_t *exact_copy(const uint8_t *src, size_t len)
{
    uint8_t *p = malloc(len > 0u ? len : 1u);
    assert_non_null(p);
    if (len > 0u) {
        memcpy(p, src, len);
    }
    return p;
}

/* ---- Ethernet ---------------------------------------------------------- */

static const uint8_t eth_frame[14] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
                                      0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06};

static void test_eth_parse_known(void **state)
{
    (void)state;
    struct kite_eth_repr r;
    assert_int_equal(kite_eth_parse(eth_frame, sizeof eth_frame, &r), KITE_ERR_OK);
    assert_true(kite_eth_is_broadcast(r.dst));
    assert_true(kite_eth_is_multicast(r.dst));
    assert_false(kite_eth_is_broadcast(r.src));
    assert_false(kite_eth_is_multicast(r.src));
    static const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x01};
    assert_memory_equal(r.src, src, 6);
    assert_int_equal(r.ethertype, KITE_ETHERTYPE_ARP);
}

static void test_eth_round_trip(void **state)
{
    (void)state;
    struct kite_eth_repr in = {.dst = {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb},
                               .src = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee},
                               .ethertype = KITE_ETHERTYPE_IPV6};
    uint8_t buf[KITE_ETH_MIN_FRAME];
    assert_int_equal(kite_eth_emit(&in, buf, sizeof buf), KITE_ERR_OK);
    struct kite_eth_repr out;
    memset(&out, 0, sizeof out);
    /* Header only, and header plus payload/padding. */
    assert_int_equal(kite_eth_parse(buf, KITE_ETH_HLEN, &out), KITE_ERR_OK);
    assert_memory_equal(&in, &out, sizeof in);
    assert_int_equal(kite_eth_parse(buf, sizeof buf, &out), KITE_ERR_OK);
    assert_memory_equal(&in, &out, sizeof in);
}

static void test_eth_truncated(void **state)
{
    (void)state;
    struct kite_eth_repr r;
    assert_int_equal(kite_eth_parse(eth_frame, sizeof eth_frame, &r), KITE_ERR_OK);
    for (size_t len = 0; len < KITE_ETH_HLEN; len++) {
        uint8_t *p = exact_copy(eth_frame, len);
        assert_int_equal(kite_eth_parse(p, len, &r), KITE_ERR_TRUNCATED);
        free(p);
    }
    uint8_t buf[KITE_ETH_HLEN];
    for (size_t len = 0; len < KITE_ETH_HLEN; len++) {
        assert_int_equal(kite_eth_emit(&r, buf, len), KITE_ERR_BUF);
    }
}

static void test_eth_8023_length_unsupported(void **state)
{
    (void)state;
    static const uint16_t types[] = {0x0000, 0x0001, 0x002e, 0x05dc, 0x05dd, 0x05ff};
    uint8_t buf[14];
    struct kite_eth_repr r;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        memcpy(buf, eth_frame, sizeof buf);
        buf[12] = (uint8_t)(types[i] >> 8);
        buf[13] = (uint8_t)types[i];
        assert_int_equal(kite_eth_parse(buf, sizeof buf, &r), KITE_ERR_UNSUPPORTED);
    }
    buf[12] = 0x06;
    buf[13] = 0x00; /* the first EtherType value */
    assert_int_equal(kite_eth_parse(buf, sizeof buf, &r), KITE_ERR_OK);
    assert_int_equal(r.ethertype, 0x0600);
}

static void test_eth_ip4_multicast_mac(void **state)
{
    (void)state;
    uint8_t mac[6];
    kite_eth_ip4_multicast_mac(0xe00000fbu, mac); /* 224.0.0.251 (mDNS) */
    static const uint8_t mdns[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};
    assert_memory_equal(mac, mdns, 6);
    kite_eth_ip4_multicast_mac(0xeffffffau, mac); /* 239.255.255.250 (SSDP) */
    static const uint8_t ssdp[6] = {0x01, 0x00, 0x5e, 0x7f, 0xff, 0xfa};
    assert_memory_equal(mac, ssdp, 6);
    /* RFC 1112 6.4: bit 24 of the group is dropped, so these two collide. */
    uint8_t other[6];
    kite_eth_ip4_multicast_mac(0xe0800001u, mac);   /* 224.128.0.1 */
    kite_eth_ip4_multicast_mac(0xe0000001u, other); /* 224.0.0.1 */
    assert_memory_equal(mac, other, 6);
    assert_true(kite_eth_is_multicast(mac));
    assert_false(kite_eth_is_broadcast(mac));
}

/* ---- ARP --------------------------------------------------------------- */

/* Field by field: the struct has padding that parse leaves alone. */
static void assert_arp_equal(const struct kite_arp_repr *a, const struct kite_arp_repr *b)
{
    assert_int_equal(a->op, b->op);
    assert_memory_equal(a->sha, b->sha, 6);
    assert_int_equal(a->spa, b->spa);
    assert_memory_equal(a->tha, b->tha, 6);
    assert_int_equal(a->tpa, b->tpa);
}

/* Who has 192.0.2.2? Tell 192.0.2.1 (02:00:00:00:00:01). */
static const uint8_t arp_request[28] = {0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00,
                                        0x00, 0x00, 0x00, 0x01, 0xc0, 0x00, 0x02, 0x01, 0x00, 0x00,
                                        0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x02};

static void test_arp_parse_known(void **state)
{
    (void)state;
    struct kite_arp_repr r;
    assert_int_equal(kite_arp_parse(arp_request, sizeof arp_request, &r), KITE_ERR_OK);
    assert_int_equal(r.op, KITE_ARP_OP_REQUEST);
    assert_int_equal(r.spa, 0xc0000201u);
    assert_int_equal(r.tpa, 0xc0000202u);
    static const uint8_t sha[6] = {0x02, 0, 0, 0, 0, 0x01};
    static const uint8_t tha[6] = {0, 0, 0, 0, 0, 0};
    assert_memory_equal(r.sha, sha, 6);
    assert_memory_equal(r.tha, tha, 6);

    /* Ethernet pads ARP to 46 bytes; the padding is ignored. */
    uint8_t padded[46];
    memset(padded, 0xa5, sizeof padded);
    memcpy(padded, arp_request, sizeof arp_request);
    struct kite_arp_repr r2;
    assert_int_equal(kite_arp_parse(padded, sizeof padded, &r2), KITE_ERR_OK);
    assert_arp_equal(&r, &r2);
}

static void test_arp_round_trip(void **state)
{
    (void)state;
    struct kite_arp_repr in;
    in.op = KITE_ARP_OP_REPLY;
    memcpy(in.sha, (const uint8_t[6]){0x02, 0x11, 0x22, 0x33, 0x44, 0x55}, 6);
    in.spa = 0xc0000202u;
    memcpy(in.tha, (const uint8_t[6]){0x02, 0, 0, 0, 0, 0x01}, 6);
    in.tpa = 0xc0000201u;
    uint8_t buf[KITE_ARP_LEN];
    assert_int_equal(kite_arp_emit(&in, buf, sizeof buf), KITE_ERR_OK);
    struct kite_arp_repr out;
    assert_int_equal(kite_arp_parse(buf, sizeof buf, &out), KITE_ERR_OK);
    assert_arp_equal(&in, &out);

    /* Emitting the parsed request reproduces its bytes exactly. */
    assert_int_equal(kite_arp_parse(arp_request, sizeof arp_request, &out), KITE_ERR_OK);
    assert_int_equal(kite_arp_emit(&out, buf, sizeof buf), KITE_ERR_OK);
    assert_memory_equal(buf, arp_request, sizeof buf);
}

static void test_arp_truncated(void **state)
{
    (void)state;
    struct kite_arp_repr r;
    for (size_t len = 0; len < KITE_ARP_LEN; len++) {
        uint8_t *p = exact_copy(arp_request, len);
        assert_int_equal(kite_arp_parse(p, len, &r), KITE_ERR_TRUNCATED);
        free(p);
    }
    assert_int_equal(kite_arp_parse(arp_request, sizeof arp_request, &r), KITE_ERR_OK);
    uint8_t buf[KITE_ARP_LEN];
    for (size_t len = 0; len < KITE_ARP_LEN; len++) {
        assert_int_equal(kite_arp_emit(&r, buf, len), KITE_ERR_BUF);
    }
}

static enum kite_err arp_with_byte(size_t off, uint8_t value)
{
    uint8_t buf[KITE_ARP_LEN];
    memcpy(buf, arp_request, sizeof buf);
    buf[off] = value;
    struct kite_arp_repr r;
    return kite_arp_parse(buf, sizeof buf, &r);
}

static void test_arp_rejects_garbage(void **state)
{
    (void)state;
    /* htype (bytes 0-1): 6 is IEEE 802, 0x0100 a byte-swapped 1. */
    assert_int_equal(arp_with_byte(1, 6), KITE_ERR_UNSUPPORTED);
    assert_int_equal(arp_with_byte(0, 1), KITE_ERR_UNSUPPORTED);
    /* ptype (bytes 2-3): 0x86dd, 0x0806. */
    assert_int_equal(arp_with_byte(2, 0x86), KITE_ERR_UNSUPPORTED);
    assert_int_equal(arp_with_byte(3, 0x06), KITE_ERR_UNSUPPORTED);
    /* hlen, plen. */
    assert_int_equal(arp_with_byte(4, 8), KITE_ERR_UNSUPPORTED);
    assert_int_equal(arp_with_byte(4, 0), KITE_ERR_UNSUPPORTED);
    assert_int_equal(arp_with_byte(5, 16), KITE_ERR_UNSUPPORTED);
    assert_int_equal(arp_with_byte(5, 0), KITE_ERR_UNSUPPORTED);
    /* op (bytes 6-7): 0, 3 (RARP request), 0x0101. */
    assert_int_equal(arp_with_byte(7, 0), KITE_ERR_MALFORMED);
    assert_int_equal(arp_with_byte(7, 3), KITE_ERR_MALFORMED);
    assert_int_equal(arp_with_byte(6, 1), KITE_ERR_MALFORMED);
    assert_int_equal(arp_with_byte(7, 2), KITE_ERR_OK);
}

/* ---- ICMPv4 ------------------------------------------------------------ */

static void test_icmp4_known_echo(void **state)
{
    (void)state;
    /* Echo request id 1 seq 1, no data: ~(0800 + 0001 + 0001) = f7fd by hand. */
    uint8_t msg[8] = {0x08, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01};
    assert_int_equal(kite_cksum(msg, sizeof msg), 0xf7fd);
    msg[2] = 0xf7;
    msg[3] = 0xfd;
    assert_int_equal(kite_cksum(msg, sizeof msg), 0);
    struct kite_icmp4_repr r;
    assert_int_equal(kite_icmp4_parse(msg, sizeof msg, &r), KITE_ERR_OK);
    assert_int_equal(r.type, KITE_ICMP4_ECHO_REQUEST);
    assert_int_equal(r.code, 0);
    assert_int_equal(r.checksum, 0xf7fd);
    assert_int_equal(r.id, 1);
    assert_int_equal(r.seq, 1);
    assert_false(kite_icmp4_is_error(r.type));
}

static void test_icmp4_round_trip(void **state)
{
    (void)state;
    /* Frag-needed carries the next-hop MTU in the low 16 bits (RFC 1191). */
    struct kite_icmp4_repr in = {.type = KITE_ICMP4_DEST_UNREACH,
                                 .code = KITE_ICMP4_UNREACH_FRAG_NEEDED,
                                 .checksum = 0xbeef,
                                 .id = 0,
                                 .seq = 1400};
    uint8_t buf[64];
    memset(buf, 0x5a, sizeof buf);
    assert_int_equal(kite_icmp4_emit(&in, buf, sizeof buf), KITE_ERR_OK);
    assert_int_equal(buf[8], 0x5a); /* nothing written past the header */
    static const uint8_t want[8] = {3, 4, 0xbe, 0xef, 0x00, 0x00, 0x05, 0x78};
    assert_memory_equal(buf, want, sizeof want);
    struct kite_icmp4_repr out;
    memset(&out, 0, sizeof out);
    assert_int_equal(kite_icmp4_parse(buf, sizeof buf, &out), KITE_ERR_OK);
    assert_memory_equal(&in, &out, sizeof in);
    assert_true(kite_icmp4_is_error(out.type));
}

static void test_icmp4_truncated(void **state)
{
    (void)state;
    static const uint8_t msg[8] = {0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00};
    struct kite_icmp4_repr r;
    for (size_t len = 0; len < KITE_ICMP4_HLEN; len++) {
        uint8_t *p = exact_copy(msg, len);
        assert_int_equal(kite_icmp4_parse(p, len, &r), KITE_ERR_TRUNCATED);
        free(p);
    }
    assert_int_equal(kite_icmp4_parse(msg, sizeof msg, &r), KITE_ERR_OK);
    uint8_t buf[KITE_ICMP4_HLEN];
    for (size_t len = 0; len < KITE_ICMP4_HLEN; len++) {
        assert_int_equal(kite_icmp4_emit(&r, buf, len), KITE_ERR_BUF);
    }
}

/* ---- UDP --------------------------------------------------------------- */

/* 192.0.2.1:1234 -> 192.0.2.2:53, payload "hi". Checksum by hand:
 * pseudo c000+0201+c000+0202+0011+000a, header 04d2+0035+000a, data 6869
 * = 0x2f197 -> 0xf199 -> ~ = 0x0e66. */
static const uint8_t udp_dgram[10] = {0x04, 0xd2, 0x00, 0x35, 0x00, 0x0a, 0x0e, 0x66, 'h', 'i'};

static void test_udp_known_with_checksum(void **state)
{
    (void)state;
    struct kite_udp_repr r;
    assert_int_equal(kite_udp_parse(udp_dgram, sizeof udp_dgram, &r), KITE_ERR_OK);
    assert_int_equal(r.src_port, 1234);
    assert_int_equal(r.dst_port, 53);
    assert_int_equal(r.length, 10);
    assert_int_equal(r.checksum, 0x0e66);
    /* The caller's verification: pseudo header + datagram folds to -0. */
    uint32_t sum = kite_cksum_pseudo4(0xc0000201u, 0xc0000202u, 17, r.length);
    sum = kite_cksum_add(sum, udp_dgram, r.length);
    assert_int_equal(kite_cksum_fold(sum), 0xffff);
    /* And its computation, with the field zeroed. */
    uint8_t copy[10];
    memcpy(copy, udp_dgram, sizeof copy);
    copy[6] = 0;
    copy[7] = 0;
    sum = kite_cksum_add(kite_cksum_pseudo4(0xc0000201u, 0xc0000202u, 17, 10), copy, 10);
    assert_int_equal((uint16_t)~kite_cksum_fold(sum), 0x0e66);
}

static void test_udp_round_trip(void **state)
{
    (void)state;
    struct kite_udp_repr in = {.src_port = 0, .dst_port = 65535, .length = 8, .checksum = 0};
    uint8_t buf[8];
    assert_int_equal(kite_udp_emit(&in, buf, sizeof buf), KITE_ERR_OK);
    struct kite_udp_repr out;
    memset(&out, 0xee, sizeof out);
    assert_int_equal(kite_udp_parse(buf, sizeof buf, &out), KITE_ERR_OK);
    assert_memory_equal(&in, &out, sizeof in);

    in = (struct kite_udp_repr){
        .src_port = 5353, .dst_port = 5353, .length = 1000, .checksum = 0xffff};
    uint8_t big[1200];
    memset(big, 0, sizeof big);
    assert_int_equal(kite_udp_emit(&in, big, sizeof big), KITE_ERR_OK);
    assert_int_equal(kite_udp_parse(big, 1000, &out), KITE_ERR_OK);
    assert_memory_equal(&in, &out, sizeof in);
    /* Bytes beyond the UDP length (IP padding) are allowed. */
    assert_int_equal(kite_udp_parse(big, sizeof big, &out), KITE_ERR_OK);
    assert_int_equal(out.length, 1000);
}

static void test_udp_truncated(void **state)
{
    (void)state;
    struct kite_udp_repr r;
    for (size_t len = 0; len < sizeof udp_dgram; len++) {
        uint8_t *p = exact_copy(udp_dgram, len);
        assert_int_equal(kite_udp_parse(p, len, &r), KITE_ERR_TRUNCATED);
        free(p);
    }
    assert_int_equal(kite_udp_parse(udp_dgram, sizeof udp_dgram, &r), KITE_ERR_OK);
    uint8_t buf[KITE_UDP_HLEN];
    for (size_t len = 0; len < KITE_UDP_HLEN; len++) {
        assert_int_equal(kite_udp_emit(&r, buf, len), KITE_ERR_BUF);
    }
}

static void test_udp_rejects_garbage(void **state)
{
    (void)state;
    uint8_t buf[10];
    struct kite_udp_repr r;
    /* RFC 768: length below the 8-byte header. */
    for (unsigned l = 0; l < 8; l++) {
        memcpy(buf, udp_dgram, sizeof buf);
        buf[5] = (uint8_t)l;
        assert_int_equal(kite_udp_parse(buf, sizeof buf, &r), KITE_ERR_MALFORMED);
    }
    /* Length beyond the buffer. */
    memcpy(buf, udp_dgram, sizeof buf);
    buf[5] = 11;
    assert_int_equal(kite_udp_parse(buf, sizeof buf, &r), KITE_ERR_TRUNCATED);
    buf[4] = 0xff;
    buf[5] = 0xff;
    assert_int_equal(kite_udp_parse(buf, sizeof buf, &r), KITE_ERR_TRUNCATED);
    /* Destination port 0. */
    memcpy(buf, udp_dgram, sizeof buf);
    buf[2] = 0;
    buf[3] = 0;
    assert_int_equal(kite_udp_parse(buf, sizeof buf, &r), KITE_ERR_MALFORMED);
    /* Source port 0 is fine (RFC 768: "optional"). */
    memcpy(buf, udp_dgram, sizeof buf);
    buf[0] = 0;
    buf[1] = 0;
    assert_int_equal(kite_udp_parse(buf, sizeof buf, &r), KITE_ERR_OK);
    assert_int_equal(r.src_port, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eth_parse_known),
        cmocka_unit_test(test_eth_round_trip),
        cmocka_unit_test(test_eth_truncated),
        cmocka_unit_test(test_eth_8023_length_unsupported),
        cmocka_unit_test(test_eth_ip4_multicast_mac),
        cmocka_unit_test(test_arp_parse_known),
        cmocka_unit_test(test_arp_round_trip),
        cmocka_unit_test(test_arp_truncated),
        cmocka_unit_test(test_arp_rejects_garbage),
        cmocka_unit_test(test_icmp4_known_echo),
        cmocka_unit_test(test_icmp4_round_trip),
        cmocka_unit_test(test_icmp4_truncated),
        cmocka_unit_test(test_udp_known_with_checksum),
        cmocka_unit_test(test_udp_round_trip),
        cmocka_unit_test(test_udp_truncated),
        cmocka_unit_test(test_udp_rejects_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
