/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the internet checksum (RFC 1071) and its incremental update
 * (RFC 1624). Standalone: needs only src/wire/checksum.c and cmocka.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "kite/wire/checksum.h"

/* A fixed-seed xorshift32: reproducible runs, no libc rand() state. */
static uint32_t prng_next(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

static void prng_fill(uint32_t *state, uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)prng_next(state);
    }
}

/* The textbook RFC 1071 loop, one big-endian 16-bit word at a time, folded
 * as it goes: an independent reference for the word-at-a-time version. */
static uint16_t ref_sum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i += 2) {
        uint32_t hi = (uint32_t)p[i] << 8;
        uint32_t lo = i + 1 < len ? p[i + 1] : 0u;
        sum += hi | lo;
        sum = (sum & 0xffffu) + (sum >> 16);
    }
    return (uint16_t)sum;
}

static void test_fold_edges(void **state)
{
    (void)state;
    assert_int_equal(kite_cksum_fold(0), 0);
    assert_int_equal(kite_cksum_fold(0xffffu), 0xffff);
    assert_int_equal(kite_cksum_fold(0x10000u), 0x0001);
    assert_int_equal(kite_cksum_fold(0x1fffeu), 0xffff);
    assert_int_equal(kite_cksum_fold(0x12345678u), 0x68ac); /* 0x1234 + 0x5678 */
    assert_int_equal(kite_cksum_fold(0xffffffffu), 0xffff);
    assert_int_equal(kite_cksum_fold(0xfffeffffu), 0xfffe); /* 0xfffe + 0xffff */
}

/* RFC 1071 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2. */
static void test_rfc1071_example(void **state)
{
    (void)state;
    static const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(kite_cksum_fold(kite_cksum_add(0, data, sizeof data)), 0xddf2);
    assert_int_equal(kite_cksum(data, sizeof data), 0x220d);
}

/* A classic IPv4 header; its checksum b861 was computed by hand:
 * 4500+0073+0000+4000+4011+c0a8+0001+c0a8+00c7 = 0x2479c -> 0x479e -> ~ = b861. */
static void test_ipv4_header_example(void **state)
{
    (void)state;
    uint8_t hdr[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                       0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    /* A header carrying its checksum sums to -0, so the check value is 0. */
    assert_int_equal(kite_cksum(hdr, sizeof hdr), 0);
    hdr[10] = 0;
    hdr[11] = 0;
    assert_int_equal(kite_cksum(hdr, sizeof hdr), 0xb861);
    assert_int_equal(kite_cksum_fold(kite_cksum_add(0, hdr, sizeof hdr)), 0x479e);
}

static void test_matches_reference_all_lengths_and_offsets(void **state)
{
    (void)state;
    uint32_t seed = 0x1071u;
    for (size_t len = 0; len <= 300; len++) {
        for (size_t off = 0; off < 8; off++) {
            /* Exactly off + len bytes, so ASan flags any over-read. */
            uint8_t *mem = malloc(off + len > 0u ? off + len : 1u);
            assert_non_null(mem);
            uint8_t *p = mem + off;
            prng_fill(&seed, p, len);
            uint16_t want = ref_sum(p, len);
            assert_int_equal(kite_cksum_fold(kite_cksum_add(0, p, len)), want);
            assert_int_equal(kite_cksum(p, len), (uint16_t)~want);
            free(mem);
        }
    }
}

static void test_all_zero_and_all_ones(void **state)
{
    (void)state;
    uint8_t buf[1501];
    memset(buf, 0, sizeof buf);
    for (size_t len = 0; len <= sizeof buf; len += 7) {
        assert_int_equal(kite_cksum_fold(kite_cksum_add(0, buf, len)), 0);
        assert_int_equal(kite_cksum(buf, len), 0xffff);
    }
    memset(buf, 0xff, sizeof buf);
    assert_int_equal(kite_cksum(buf, 1), 0x00ff); /* ff padded to ff00 */
    for (size_t len = 2; len <= sizeof buf; len += 2) {
        assert_int_equal(kite_cksum_fold(kite_cksum_add(0, buf, len)), 0xffff);
        assert_int_equal(kite_cksum(buf, len), 0x0000);
    }
    for (size_t len = 3; len <= sizeof buf; len += 2) {
        assert_int_equal(kite_cksum_fold(kite_cksum_add(0, buf, len)), ref_sum(buf, len));
    }
}

static void test_large_buffer_and_carry_in(void **state)
{
    (void)state;
    size_t len = 65535u;
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    memset(buf, 0xff, len);
    assert_int_equal(kite_cksum_fold(kite_cksum_add(0, buf, len)), ref_sum(buf, len));
    uint32_t seed = 99u;
    prng_fill(&seed, buf, len);
    assert_int_equal(kite_cksum_fold(kite_cksum_add(0, buf, len)), ref_sum(buf, len));
    /* A huge incoming accumulator must not lose its carry. */
    static const uint8_t ffff[2] = {0xff, 0xff};
    assert_int_equal(kite_cksum_fold(kite_cksum_add(0xffffffffu, ffff, 2)), 0xffff);
    static const uint8_t one[2] = {0x00, 0x01};
    assert_int_equal(kite_cksum_fold(kite_cksum_add(0xffffffffu, one, 2)), 0x0001);
    assert_int_equal(kite_cksum_fold(kite_cksum_add(0xfffeffffu, one, 2)), 0xffff);
    free(buf);
}

/* Partial sums of pieces at odd offsets are swapped, then added (RFC 1071 2(B)). */
static void test_split_pieces_with_swap(void **state)
{
    (void)state;
    uint32_t seed = 0xc0ffeeu;
    uint8_t buf[777];
    for (int iter = 0; iter < 2000; iter++) {
        size_t len = prng_next(&seed) % sizeof buf;
        prng_fill(&seed, buf, len);
        uint32_t acc = 0;
        size_t pos = 0;
        while (pos < len) {
            size_t piece = 1u + prng_next(&seed) % 40u;
            if (piece > len - pos) {
                piece = len - pos;
            }
            uint32_t part = kite_cksum_fold(kite_cksum_add(0, buf + pos, piece));
            acc += (pos & 1u) ? kite_cksum_swap(part) : part;
            pos += piece;
        }
        assert_int_equal(kite_cksum_fold(acc), kite_cksum_fold(kite_cksum_add(0, buf, len)));
    }
}

/* Chaining the accumulator through even-length pieces needs no swap. */
static void test_chain_even_pieces(void **state)
{
    (void)state;
    uint32_t seed = 7u;
    uint8_t buf[512];
    prng_fill(&seed, buf, sizeof buf);
    for (size_t cut = 0; cut <= sizeof buf; cut += 2) {
        uint32_t sum = kite_cksum_add(0, buf, cut);
        sum = kite_cksum_add(sum, buf + cut, sizeof buf - cut);
        assert_int_equal(kite_cksum_fold(sum), ref_sum(buf, sizeof buf));
    }
}

static void test_pseudo4(void **state)
{
    (void)state;
    /* 192.0.2.1 -> 192.0.2.2, UDP, length 8, by hand:
     * c000+0201+c000+0202+0011+0008 = 0x1841c -> 0x841d. */
    uint32_t src = 0xc0000201u;
    uint32_t dst = 0xc0000202u;
    assert_int_equal(kite_cksum_fold(kite_cksum_pseudo4(src, dst, 17, 8)), 0x841d);

    /* Against the same pseudo header laid out in bytes (RFC 768). */
    uint32_t seed = 768u;
    for (int i = 0; i < 1000; i++) {
        src = prng_next(&seed);
        dst = prng_next(&seed);
        uint8_t proto = (uint8_t)prng_next(&seed);
        uint16_t len = (uint16_t)prng_next(&seed);
        uint8_t ph[12] = {(uint8_t)(src >> 24),
                          (uint8_t)(src >> 16),
                          (uint8_t)(src >> 8),
                          (uint8_t)src,
                          (uint8_t)(dst >> 24),
                          (uint8_t)(dst >> 16),
                          (uint8_t)(dst >> 8),
                          (uint8_t)dst,
                          0,
                          proto,
                          (uint8_t)(len >> 8),
                          (uint8_t)len};
        assert_int_equal(kite_cksum_fold(kite_cksum_pseudo4(src, dst, proto, len)),
                         ref_sum(ph, sizeof ph));
    }
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* RFC 1624: updating one word incrementally equals recomputing in full. */
static void test_update16_matches_recompute(void **state)
{
    (void)state;
    uint32_t seed = 1624u;
    uint8_t buf[64];
    prng_fill(&seed, buf, sizeof buf);
    buf[0] = 0x45; /* never mutated: the data can't become all zero (-0 corner) */
    uint16_t ck = kite_cksum(buf, sizeof buf);
    for (int i = 0; i < 20000; i++) {
        size_t w = 1u + prng_next(&seed) % (sizeof buf / 2u - 1u);
        uint32_t r = prng_next(&seed);
        /* Bias towards the edge values 0x0000 and 0xffff. */
        uint16_t nw = (r & 0x30000u) == 0u         ? 0u
                      : (r & 0x30000u) == 0x10000u ? 0xffffu
                                                   : (uint16_t)r;
        uint16_t old = get16(buf + 2 * w);
        buf[2 * w] = (uint8_t)(nw >> 8);
        buf[2 * w + 1] = (uint8_t)nw;
        ck = kite_cksum_update16(ck, old, nw);
        assert_int_equal(ck, kite_cksum(buf, sizeof buf));
    }
}

/* RFC 1624 3 example: eqn. 3 gives 0x0000 where eqn. 2 would give -0. */
static void test_update16_rfc1624_example(void **state)
{
    (void)state;
    /* The sum of all other words is 0xcd7a; one word changes 0x5555 -> 0x3285. */
    uint16_t before = (uint16_t)~kite_cksum_fold(0xcd7au + 0x5555u);
    assert_int_equal(before, 0xdd2f);
    assert_int_equal(kite_cksum_update16(before, 0x5555, 0x3285), 0x0000);
    /* No change, no effect. */
    assert_int_equal(kite_cksum_update16(0x1234, 0xabcd, 0xabcd), 0x1234);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_edges),
        cmocka_unit_test(test_rfc1071_example),
        cmocka_unit_test(test_ipv4_header_example),
        cmocka_unit_test(test_matches_reference_all_lengths_and_offsets),
        cmocka_unit_test(test_all_zero_and_all_ones),
        cmocka_unit_test(test_large_buffer_and_carry_in),
        cmocka_unit_test(test_split_pieces_with_swap),
        cmocka_unit_test(test_chain_even_pieces),
        cmocka_unit_test(test_pseudo4),
        cmocka_unit_test(test_update16_matches_recompute),
        cmocka_unit_test(test_update16_rfc1624_example),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
