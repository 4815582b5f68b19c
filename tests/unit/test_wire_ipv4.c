/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the IPv4 header parse/emit (RFC 791): round trips, every
 * truncation, every documented rejection, options and padding.
 * Standalone: needs only the src/wire sources and cmocka.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "kite/wire/checksum.h"
#include "kite/wire/ipv4.h"

/* The classic example header: 192.168.0.1 -> 192.168.0.199, UDP, DF,
 * total length 0x73; checksum b861 computed by hand (see test_checksum.c). */
static const uint8_t classic[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                    0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

static uint8_t *exact_copy(const uint8_t *src, size_t len)
{
    uint8_t *p = malloc(len > 0u ? len : 1u);
    assert_non_null(p);
    if (len > 0u) {
        memcpy(p, src, len);
    }
    return p;
}

/* Recompute the header checksum of buf in place (hlen from the IHL field). */
static void fix_checksum(uint8_t *buf)
{
    size_t hlen = (size_t)(buf[0] & 0x0fu) * 4u;
    buf[10] = 0;
    buf[11] = 0;
    uint16_t ck = kite_cksum(buf, hlen);
    buf[10] = (uint8_t)(ck >> 8);
    buf[11] = (uint8_t)ck;
}

/*
 * Build a packet in buf: a 20-byte base header followed by optlen option
 * bytes (a multiple of 4), total length total, zero payload, valid checksum.
 */
static void build(uint8_t *buf, size_t buflen, const uint8_t *opts, size_t optlen, uint16_t total)
{
    assert_true(optlen % 4u == 0u && 20u + optlen <= 60u && buflen >= 20u + optlen);
    memset(buf, 0, buflen);
    memcpy(buf, classic, 20);
    buf[0] = (uint8_t)(0x40u | ((20u + optlen) / 4u));
    buf[2] = (uint8_t)(total >> 8);
    buf[3] = (uint8_t)total;
    if (optlen > 0u) {
        memcpy(buf + 20, opts, optlen);
    }
    fix_checksum(buf);
}

static void assert_repr_equal(const struct kite_ipv4_repr *a, const struct kite_ipv4_repr *b)
{
    assert_int_equal(a->hlen, b->hlen);
    assert_int_equal(a->tos, b->tos);
    assert_int_equal(a->total_len, b->total_len);
    assert_int_equal(a->id, b->id);
    assert_int_equal(a->dont_frag, b->dont_frag);
    assert_int_equal(a->more_frags, b->more_frags);
    assert_int_equal(a->frag_offset, b->frag_offset);
    assert_int_equal(a->ttl, b->ttl);
    assert_int_equal(a->proto, b->proto);
    assert_int_equal(a->src, b->src);
    assert_int_equal(a->dst, b->dst);
}

static void test_parse_classic(void **state)
{
    (void)state;
    uint8_t pkt[0x73];
    memset(pkt, 0, sizeof pkt);
    memcpy(pkt, classic, sizeof classic);
    struct kite_ipv4_repr r;
    assert_int_equal(kite_ipv4_parse(pkt, sizeof pkt, true, &r), KITE_ERR_OK);
    assert_int_equal(r.hlen, 20);
    assert_int_equal(r.tos, 0);
    assert_int_equal(r.total_len, 0x73);
    assert_int_equal(r.id, 0);
    assert_true(r.dont_frag);
    assert_false(r.more_frags);
    assert_int_equal(r.frag_offset, 0);
    assert_false(kite_ipv4_is_fragment(&r));
    assert_int_equal(r.ttl, 64);
    assert_int_equal(r.proto, KITE_IP_PROTO_UDP);
    assert_int_equal(r.src, 0xc0a80001u);
    assert_int_equal(r.dst, 0xc0a800c7u);

    /* Emitting the parsed repr reproduces the bytes, checksum included. */
    uint8_t out[20];
    assert_int_equal(kite_ipv4_emit(&r, out, sizeof out), KITE_ERR_OK);
    assert_memory_equal(out, classic, sizeof classic);
}

static void test_round_trip(void **state)
{
    (void)state;
    static const struct kite_ipv4_repr cases[] = {
        {20, 0x00, 20, 0x0000, false, false, 0, 1, KITE_IP_PROTO_ICMP, 0xc0000201u, 0xc0000202u},
        {20, 0xb8, 1500, 0xbeef, true, false, 0, 64, KITE_IP_PROTO_TCP, 0x0a000001u, 0xe00000fbu},
        {20, 0x02, 576, 0x1234, false, true, 0, 255, KITE_IP_PROTO_UDP, 0xffffffffu, 0},
        {20, 0xff, 65535, 0xffff, false, true, 1480, 2, KITE_IP_PROTO_IGMP, 1u, 2u},
        {20, 0x00, 28, 0x0001, false, false, 65528, 0, 253, 0x7f000001u, 0xc6336401u},
        {20, 0x00, 100, 0x8000, true, true, 8, 128, 0, 0u, 0u},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct kite_ipv4_repr *in = &cases[i];
        uint8_t *buf = malloc(in->total_len);
        assert_non_null(buf);
        memset(buf, 0x77, in->total_len);
        assert_int_equal(kite_ipv4_emit(in, buf, KITE_IPV4_HLEN), KITE_ERR_OK);
        if (in->total_len > KITE_IPV4_HLEN) {
            assert_int_equal(buf[KITE_IPV4_HLEN], 0x77); /* nothing past the header */
        }
        struct kite_ipv4_repr out;
        assert_int_equal(kite_ipv4_parse(buf, in->total_len, true, &out), KITE_ERR_OK);
        assert_repr_equal(in, &out);
        assert_int_equal(kite_ipv4_is_fragment(&out), in->more_frags || in->frag_offset != 0);
        free(buf);
    }
}

static void test_emit_errors(void **state)
{
    (void)state;
    struct kite_ipv4_repr r = {20, 0, 20, 1, false, false, 0, 64, 6, 1u, 2u};
    uint8_t buf[20];
    for (size_t len = 0; len < KITE_IPV4_HLEN; len++) {
        assert_int_equal(kite_ipv4_emit(&r, buf, len), KITE_ERR_BUF);
    }
    /* RFC 791 3.1: the offset travels in 8-octet units. */
    r.frag_offset = 12;
    assert_int_equal(kite_ipv4_emit(&r, buf, sizeof buf), KITE_ERR_ARG);
    r.frag_offset = 16;
    assert_int_equal(kite_ipv4_emit(&r, buf, sizeof buf), KITE_ERR_OK);
    assert_int_equal(buf[6], 0x00);
    assert_int_equal(buf[7], 0x02);
    /* hlen in the repr is ignored: emit always writes IHL 5. */
    r.hlen = 60;
    assert_int_equal(kite_ipv4_emit(&r, buf, sizeof buf), KITE_ERR_OK);
    assert_int_equal(buf[0], 0x45);
}

static void test_fragment_fields(void **state)
{
    (void)state;
    uint8_t buf[20];
    struct kite_ipv4_repr r;
    build(buf, sizeof buf, NULL, 0, 20);
    buf[6] = 0x20; /* MF, offset 1 unit = 8 bytes */
    buf[7] = 0x01;
    fix_checksum(buf);
    assert_int_equal(kite_ipv4_parse(buf, sizeof buf, true, &r), KITE_ERR_OK);
    assert_true(r.more_frags);
    assert_false(r.dont_frag);
    assert_int_equal(r.frag_offset, 8);
    assert_true(kite_ipv4_is_fragment(&r));
    buf[6] = 0x9f; /* reserved bit set (ignored), offset 0x1fff */
    buf[7] = 0xff;
    fix_checksum(buf);
    assert_int_equal(kite_ipv4_parse(buf, sizeof buf, true, &r), KITE_ERR_OK);
    assert_false(r.more_frags);
    assert_false(r.dont_frag);
    assert_int_equal(r.frag_offset, 65528);
}

/* Every strict prefix of a valid packet is TRUNCATED, options or not. */
static void test_truncated_prefixes(void **state)
{
    (void)state;
    static const uint8_t rr[8] = {0x01, 0x07, 0x07, 0x04, 0xc0, 0x00, 0x02, 0x01};
    uint8_t pkt[64];
    for (int with_opts = 0; with_opts < 2; with_opts++) {
        build(pkt, sizeof pkt, rr, with_opts ? sizeof rr : 0u, sizeof pkt);
        struct kite_ipv4_repr r;
        for (size_t len = 0; len < sizeof pkt; len++) {
            uint8_t *p = exact_copy(pkt, len);
            assert_int_equal(kite_ipv4_parse(p, len, true, &r), KITE_ERR_TRUNCATED);
            assert_int_equal(kite_ipv4_parse(p, len, false, &r), KITE_ERR_TRUNCATED);
            free(p);
        }
        uint8_t *p = exact_copy(pkt, sizeof pkt);
        assert_int_equal(kite_ipv4_parse(p, sizeof pkt, true, &r), KITE_ERR_OK);
        assert_int_equal(r.hlen, with_opts ? 28 : 20);
        free(p);
    }
}

static void test_bad_version(void **state)
{
    (void)state;
    uint8_t buf[20];
    struct kite_ipv4_repr r;
    for (unsigned v = 0; v < 16; v++) {
        if (v == 4) {
            continue;
        }
        build(buf, sizeof buf, NULL, 0, 20);
        buf[0] = (uint8_t)(v << 4 | 5u);
        fix_checksum(buf);
        assert_int_equal(kite_ipv4_parse(buf, sizeof buf, true, &r), KITE_ERR_MALFORMED);
        assert_int_equal(kite_ipv4_parse(buf, sizeof buf, false, &r), KITE_ERR_MALFORMED);
    }
}

static void test_bad_ihl(void **state)
{
    (void)state;
    uint8_t buf[60];
    struct kite_ipv4_repr r;
    for (unsigned ihl = 0; ihl < 5; ihl++) {
        build(buf, sizeof buf, NULL, 0, 60);
        buf[0] = (uint8_t)(0x40u | ihl);
        assert_int_equal(kite_ipv4_parse(buf, sizeof buf, false, &r), KITE_ERR_MALFORMED);
    }
    /* IHL 15 (60 bytes) in a 40-byte buffer: the header runs off the end. */
    build(buf, sizeof buf, NULL, 0, 40);
    buf[0] = 0x4f;
    assert_int_equal(kite_ipv4_parse(buf, 40, false, &r), KITE_ERR_TRUNCATED);
    assert_int_equal(kite_ipv4_parse(buf, 59, false, &r), KITE_ERR_TRUNCATED);
}

static void test_bad_total_len(void **state)
{
    (void)state;
    static const uint8_t nops[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    uint8_t buf[100];
    struct kite_ipv4_repr r;
    /* Below the header length (20, or 28 with options). */
    static const uint16_t small[] = {0, 1, 19};
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
        build(buf, sizeof buf, NULL, 0, small[i]);
        assert_int_equal(kite_ipv4_parse(buf, sizeof buf, true, &r), KITE_ERR_MALFORMED);
    }
    build(buf, sizeof buf, nops, sizeof nops, 27);
    assert_int_equal(kite_ipv4_parse(buf, sizeof buf, true, &r), KITE_ERR_MALFORMED);
    build(buf, sizeof buf, nops, sizeof nops, 28);
    assert_int_equal(kite_ipv4_parse(buf, sizeof buf, true, &r), KITE_ERR_OK);
    /* Beyond the buffer. */
    build(buf, sizeof buf, NULL, 0, 101);
    assert_int_equal(kite_ipv4_parse(buf, sizeof buf, true, &r), KITE_ERR_TRUNCATED);
    build(buf, sizeof buf, NULL, 0, 65535);
    assert_int_equal(kite_ipv4_parse(buf, sizeof buf, true, &r), KITE_ERR_TRUNCATED);
}

static void test_padding_beyond_total_len(void **state)
{
    (void)state;
    /* A 20-byte packet in a minimum Ethernet payload of 46 bytes. */
    uint8_t buf[46];
    build(buf, sizeof buf, NULL, 0, 20);
    memset(buf + 20, 0xee, sizeof buf - 20u);
    struct kite_ipv4_repr r;
    assert_int_equal(kite_ipv4_parse(buf, sizeof buf, true, &r), KITE_ERR_OK);
    assert_int_equal(r.total_len, 20);
    assert_int_equal(r.hlen, 20);
}

static void test_bad_checksum(void **state)
{
    (void)state;
    uint8_t buf[0x73];
    memset(buf, 0, sizeof buf);
    memcpy(buf, classic, sizeof classic);
    struct kite_ipv4_repr r;
    buf[11] ^= 0x01u;
    assert_int_equal(kite_ipv4_parse(buf, sizeof buf, true, &r), KITE_ERR_CHECKSUM);
    assert_int_equal(kite_ipv4_parse(buf, sizeof buf, false, &r), KITE_ERR_OK);
    buf[11] ^= 0x01u;
    /* Every single-bit error in the header is caught by something. */
    for (size_t bit = 0; bit < 160; bit++) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_not_equal(kite_ipv4_parse(buf, sizeof buf, true, &r), KITE_ERR_OK);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /* The checksum covers the options too. */
    static const uint8_t nops[4] = {1, 1, 1, 0};
    uint8_t opt[24];
    build(opt, sizeof opt, nops, sizeof nops, 24);
    opt[23] = 1;
    assert_int_equal(kite_ipv4_parse(opt, sizeof opt, true, &r), KITE_ERR_CHECKSUM);
    assert_int_equal(kite_ipv4_parse(opt, sizeof opt, false, &r), KITE_ERR_OK);
    /* A header whose checksum computes to 0x0000 verifies with the field
     * as +0 or as -0 (0xffff): moving the check value into the (zero) id
     * field makes the other words sum to 0xffff. */
    uint8_t z[20];
    build(z, sizeof z, NULL, 0, 20);
    assert_int_equal(z[4] | z[5], 0);
    z[4] = z[10];
    z[5] = z[11];
    fix_checksum(z);
    assert_int_equal(z[10] | z[11], 0);
    assert_int_equal(kite_ipv4_parse(z, sizeof z, true, &r), KITE_ERR_OK);
    z[10] = 0xff;
    z[11] = 0xff;
    assert_int_equal(kite_ipv4_parse(z, sizeof z, true, &r), KITE_ERR_OK);
}

static enum kite_err parse_opts(const uint8_t *opts, size_t optlen, bool verify)
{
    uint8_t buf[60];
    build(buf, sizeof buf, opts, optlen, (uint16_t)(20u + optlen));
    uint8_t *p = exact_copy(buf, 20u + optlen);
    struct kite_ipv4_repr r;
    enum kite_err err = kite_ipv4_parse(p, 20u + optlen, verify, &r);
    if (err == KITE_ERR_OK) {
        assert_int_equal(r.hlen, 20u + optlen);
    }
    free(p);
    return err;
}

static void test_valid_options(void **state)
{
    (void)state;
    /* NOPs, EOL and padding after EOL (not required to be zero). */
    static const uint8_t nop_eol[4] = {1, 1, 0, 0};
    static const uint8_t eol_junk[4] = {0, 0xff, 0x00, 0x07};
    static const uint8_t all_nop[4] = {1, 1, 1, 1};
    /* RFC 791 3.1 record route: type 7, length 7, pointer 4, one slot. */
    static const uint8_t rr[8] = {0x07, 0x07, 0x04, 0, 0, 0, 0, 0x00};
    /* An option that ends exactly at the end of the header, no EOL. */
    static const uint8_t rr_exact[8] = {0x01, 0x07, 0x07, 0x08, 0xc0, 0x00, 0x02, 0x01};
    /* Router alert (RFC 2113, length 4) and a maximal 40-byte option. */
    static const uint8_t ra[4] = {0x94, 0x04, 0x00, 0x00};
    uint8_t big[40];
    memset(big, 0, sizeof big);
    big[0] = 0x07;
    big[1] = 39;
    big[2] = 4;
    uint8_t big40[40];
    memset(big40, 0xab, sizeof big40);
    big40[0] = 0x44; /* timestamp */
    big40[1] = 40;
    for (int v = 0; v < 2; v++) {
        assert_int_equal(parse_opts(nop_eol, sizeof nop_eol, v), KITE_ERR_OK);
        assert_int_equal(parse_opts(eol_junk, sizeof eol_junk, v), KITE_ERR_OK);
        assert_int_equal(parse_opts(all_nop, sizeof all_nop, v), KITE_ERR_OK);
        assert_int_equal(parse_opts(rr, sizeof rr, v), KITE_ERR_OK);
        assert_int_equal(parse_opts(rr_exact, sizeof rr_exact, v), KITE_ERR_OK);
        assert_int_equal(parse_opts(ra, sizeof ra, v), KITE_ERR_OK);
        assert_int_equal(parse_opts(big, sizeof big, v), KITE_ERR_OK);
        assert_int_equal(parse_opts(big40, sizeof big40, v), KITE_ERR_OK);
    }
}

static void test_malformed_options(void **state)
{
    (void)state;
    static const uint8_t len0[4] = {0x07, 0x00, 0x00, 0x00};
    static const uint8_t len1[4] = {0x07, 0x01, 0x00, 0x00};
    static const uint8_t over[4] = {0x07, 0x05, 0x04, 0x00};
    static const uint8_t over_after_nop[8] = {1, 1, 0x94, 0x04, 0x00, 0x00, 0x44, 0x05};
    /* A type octet in the last header byte has no room for its length. */
    static const uint8_t no_len[4] = {1, 1, 1, 0x07};
    static const uint8_t no_len2[4] = {0x94, 0x03, 0x00, 0x83};
    uint8_t huge[40];
    memset(huge, 0, sizeof huge);
    huge[0] = 0x44;
    huge[1] = 41;
    for (int v = 0; v < 2; v++) {
        assert_int_equal(parse_opts(len0, sizeof len0, v), KITE_ERR_MALFORMED);
        assert_int_equal(parse_opts(len1, sizeof len1, v), KITE_ERR_MALFORMED);
        assert_int_equal(parse_opts(over, sizeof over, v), KITE_ERR_MALFORMED);
        assert_int_equal(parse_opts(over_after_nop, sizeof over_after_nop, v), KITE_ERR_MALFORMED);
        assert_int_equal(parse_opts(no_len, sizeof no_len, v), KITE_ERR_MALFORMED);
        assert_int_equal(parse_opts(no_len2, sizeof no_len2, v), KITE_ERR_MALFORMED);
        assert_int_equal(parse_opts(huge, sizeof huge, v), KITE_ERR_MALFORMED);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_classic),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_emit_errors),
        cmocka_unit_test(test_fragment_fields),
        cmocka_unit_test(test_truncated_prefixes),
        cmocka_unit_test(test_bad_version),
        cmocka_unit_test(test_bad_ihl),
        cmocka_unit_test(test_bad_total_len),
        cmocka_unit_test(test_padding_beyond_total_len),
        cmocka_unit_test(test_bad_checksum),
        cmocka_unit_test(test_valid_options),
        cmocka_unit_test(test_malformed_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
