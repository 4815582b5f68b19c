/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Random mutation of valid headers (fixed seed): every parser must give the
 * same verdict as a plain reference reading of its header's documentation,
 * and must never read past the length it is given. Each mutated input lives
 * in a malloc of exactly len bytes, so running under ASan turns any
 * over-read into a failure. Standalone: needs only the src/wire sources.
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
#include "kite/wire/ipv4.h"
#include "kite/wire/udp.h"

#define ITERATIONS 20000
#define MAX_EXTRA 24u
#define WORK_SIZE 128u

struct prng {
    uint32_t s;
};

static uint32_t next(struct prng *r)
{
    uint32_t x = r->s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    r->s = x;
    return x;
}

static size_t below(struct prng *r, size_t n)
{
    return n == 0u ? 0u : next(r) % n;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* Values that sit on the boundaries the parsers check. */
static const uint16_t interesting[] = {
    0,  1,    2,    3,     4,     5,     6,     7,      8,      9,      19,
    20, 21,   24,   27,    28,    40,    48,    59,     60,     61,     64,
    80, 0x45, 0x4f, 0x800, 0x5ff, 0x600, 0x806, 0x7fff, 0x8000, 0xfffe, 0xffff};
#define N_INTERESTING (sizeof interesting / sizeof interesting[0])

/* Apply 1..4 random edits to work[0..tlen) and pick a length around tlen. */
static size_t mutate(struct prng *r, uint8_t *work, size_t tlen)
{
    size_t edits = 1u + below(r, 4);
    for (size_t e = 0; e < edits; e++) {
        size_t at = below(r, tlen);
        uint16_t v = interesting[below(r, N_INTERESTING)];
        switch (below(r, 4)) {
        case 0:
            work[at] ^= (uint8_t)(1u << below(r, 8));
            break;
        case 1:
            work[at] = (uint8_t)next(r);
            break;
        case 2:
            work[at] = (uint8_t)v;
            break;
        default:
            if (at + 1u < tlen) {
                work[at] = (uint8_t)(v >> 8);
                work[at + 1u] = (uint8_t)v;
            }
            break;
        }
    }
    switch (below(r, 4)) {
    case 0:
        return below(r, tlen + 1u);
    case 1:
        for (size_t i = tlen; i < tlen + MAX_EXTRA; i++) {
            work[i] = (uint8_t)next(r);
        }
        return tlen + below(r, MAX_EXTRA + 1u);
    default:
        return tlen;
    }
}

/* A parse that fails must leave the repr untouched (docs/wire.md). */
static void assert_all_bytes(const void *obj, size_t size, uint8_t value)
{
    const uint8_t *b = obj;
    for (size_t i = 0; i < size; i++) {
        assert_int_equal(b[i], value);
    }
}

static uint8_t *exact_copy(const uint8_t *src, size_t len)
{
    uint8_t *p = malloc(len > 0u ? len : 1u);
    assert_non_null(p);
    if (len > 0u) {
        memcpy(p, src, len);
    }
    return p;
}

/* ---- reference verdicts, read straight off the header docs ------------- */

static enum kite_err ref_ipv4_options(const uint8_t *h, size_t hlen)
{
    size_t i = 20;
    for (;;) {
        if (i >= hlen || h[i] == 0u) {
            return KITE_ERR_OK;
        }
        if (h[i] == 1u) {
            i++;
            continue;
        }
        if (i + 1u >= hlen || h[i + 1u] < 2u || i + h[i + 1u] > hlen) {
            return KITE_ERR_MALFORMED;
        }
        i += h[i + 1u];
    }
}

static enum kite_err ref_ipv4(const uint8_t *p, size_t len, bool verify)
{
    if (len < 20u) {
        return KITE_ERR_TRUNCATED;
    }
    size_t hlen = (size_t)(p[0] & 15u) * 4u;
    if (p[0] >> 4 != 4u || hlen < 20u) {
        return KITE_ERR_MALFORMED;
    }
    if (hlen > len) {
        return KITE_ERR_TRUNCATED;
    }
    if (be16(p + 2) < hlen) {
        return KITE_ERR_MALFORMED;
    }
    if (be16(p + 2) > len) {
        return KITE_ERR_TRUNCATED;
    }
    if (verify && kite_cksum(p, hlen) != 0u) {
        return KITE_ERR_CHECKSUM;
    }
    return ref_ipv4_options(p, hlen);
}

static enum kite_err ref_udp(const uint8_t *p, size_t len)
{
    if (len < 8u) {
        return KITE_ERR_TRUNCATED;
    }
    if (be16(p + 4) < 8u) {
        return KITE_ERR_MALFORMED;
    }
    if (be16(p + 4) > len) {
        return KITE_ERR_TRUNCATED;
    }
    return be16(p + 2) == 0u ? KITE_ERR_MALFORMED : KITE_ERR_OK;
}

static enum kite_err ref_arp(const uint8_t *p, size_t len)
{
    if (len < 28u) {
        return KITE_ERR_TRUNCATED;
    }
    if (be16(p) != 1u || be16(p + 2) != 0x0800u || p[4] != 6u || p[5] != 4u) {
        return KITE_ERR_UNSUPPORTED;
    }
    return (be16(p + 6) == 1u || be16(p + 6) == 2u) ? KITE_ERR_OK : KITE_ERR_MALFORMED;
}

/* ---- the runs ----------------------------------------------------------- */

/* IHL 8: NOP, record route with one slot, EOL, padding; total length 48
 * with a UDP header and 8 bytes of data. */
static const uint8_t ip_rr_eol[48] = {
    0x48, 0x00, 0x00, 0x30, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01,
    0xc0, 0x00, 0x02, 0x02, 0x01, 0x07, 0x07, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x04, 0xd2, 0x00, 0x35, 0x00, 0x10, 0x00, 0x00, 'k',  'i',  't',  'e',  'k',  'i',  't',  'e'};
/* Header-only packets whose options end exactly at the end of the buffer,
 * so any option over-read lands outside the allocation. */
static const uint8_t ip_nops[24] = {0x46, 0x00, 0x00, 0x18, 0x00, 0x01, 0x00, 0x00,
                                    0x01, 0x01, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01,
                                    0x0a, 0x00, 0x00, 0x02, 0x01, 0x01, 0x01, 0x01};
static const uint8_t ip_rr_exact[28] = {0x47, 0x00, 0x00, 0x1c, 0x00, 0x02, 0x20, 0x00, 0x01, 0x06,
                                        0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
                                        0x01, 0x07, 0x07, 0x08, 0xc0, 0x00, 0x02, 0x01};
/* IHL 15 and one 40-byte timestamp option filling the whole option area. */
static const uint8_t ip_ts_full[60] = {0x4f, 0x00, 0x00, 0x3c, 0x00, 0x03, 0x00, 0x00,
                                       0x40, 0x01, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01,
                                       0x0a, 0x00, 0x00, 0x02, 0x44, 0x28, 0x05, 0x00};

/* How often each verdict came up, indexed by -err; option failures apart. */
struct verdicts {
    unsigned by_err[32];
    unsigned bad_options;
};

static void check_ipv4_once(const uint8_t *work, size_t len, bool verify, struct verdicts *v)
{
    uint8_t *p = exact_copy(work, len);
    struct kite_ipv4_repr r;
    memset(&r, 0xa5, sizeof r);
    enum kite_err err = kite_ipv4_parse(p, len, verify, &r);
    assert_int_equal(err, ref_ipv4(p, len, verify));
    v->by_err[-(int)err]++;
    if (err == KITE_ERR_MALFORMED && len >= 20u && p[0] >= 0x45u && p[0] <= 0x4fu &&
        be16(p + 2) >= (p[0] & 15u) * 4u) {
        v->bad_options++;
    }
    if (err != KITE_ERR_OK) {
        assert_all_bytes(&r, sizeof r, 0xa5);
    } else {
        /* The repr is a safe map of the buffer: hlen <= total_len <= len. */
        assert_true(r.hlen >= 20u && r.hlen % 4u == 0u && r.hlen <= r.total_len);
        assert_true(r.total_len <= len);
        assert_int_equal(r.frag_offset % 8u, 0);
        (void)kite_cksum(p, r.total_len); /* reads [0, total_len) */
    }
    free(p);
}

static void mutate_ipv4_template(const uint8_t *bytes, size_t tlen, uint32_t seed,
                                 struct verdicts *v)
{
    struct prng rng = {seed};
    uint8_t tmpl[KITE_IPV4_MAX_HLEN + 8u];
    assert_true(tlen <= sizeof tmpl);
    memcpy(tmpl, bytes, tlen);
    size_t hlen = (size_t)(tmpl[0] & 15u) * 4u;
    uint16_t ck = kite_cksum(tmpl, hlen);
    tmpl[10] = (uint8_t)(ck >> 8);
    tmpl[11] = (uint8_t)ck;
    assert_int_equal(ref_ipv4(tmpl, tlen, true), KITE_ERR_OK);
    for (int i = 0; i < ITERATIONS; i++) {
        uint8_t work[WORK_SIZE];
        memcpy(work, tmpl, tlen);
        size_t len = mutate(&rng, work, tlen);
        /* Half the time repair the checksum so the option walk is reached. */
        hlen = (size_t)(work[0] & 15u) * 4u;
        if ((next(&rng) & 1u) != 0u && hlen >= 20u) {
            work[10] = 0;
            work[11] = 0;
            ck = kite_cksum(work, hlen);
            work[10] = (uint8_t)(ck >> 8);
            work[11] = (uint8_t)ck;
        }
        check_ipv4_once(work, len, true, v);
        check_ipv4_once(work, len, false, v);
    }
}

static void test_mutate_ipv4(void **state)
{
    (void)state;
    struct verdicts v;
    memset(&v, 0, sizeof v);
    mutate_ipv4_template(ip_rr_eol, sizeof ip_rr_eol, 0x791u, &v);
    mutate_ipv4_template(ip_nops, sizeof ip_nops, 0x792u, &v);
    mutate_ipv4_template(ip_rr_exact, sizeof ip_rr_exact, 0x793u, &v);
    mutate_ipv4_template(ip_ts_full, sizeof ip_ts_full, 0x794u, &v);
    /* Every verdict must come up often, or the run proves little. */
    assert_true(v.by_err[-KITE_ERR_OK] > ITERATIONS / 5);
    assert_true(v.by_err[-KITE_ERR_TRUNCATED] > ITERATIONS / 10);
    assert_true(v.by_err[-KITE_ERR_MALFORMED] > ITERATIONS / 10);
    assert_true(v.by_err[-KITE_ERR_CHECKSUM] > ITERATIONS / 10);
    assert_true(v.bad_options > ITERATIONS / 50);
    print_message("ipv4: ok %u truncated %u malformed %u (options %u) checksum %u\n",
                  v.by_err[-KITE_ERR_OK], v.by_err[-KITE_ERR_TRUNCATED],
                  v.by_err[-KITE_ERR_MALFORMED], v.bad_options, v.by_err[-KITE_ERR_CHECKSUM]);
}

static void test_mutate_udp(void **state)
{
    (void)state;
    static const uint8_t tmpl[12] = {0x04, 0xd2, 0x00, 0x35, 0x00, 0x0c, 0, 0, 'p', 'i', 'n', 'g'};
    struct prng rng = {768u};
    for (int i = 0; i < ITERATIONS; i++) {
        uint8_t work[WORK_SIZE];
        memcpy(work, tmpl, sizeof tmpl);
        size_t len = mutate(&rng, work, sizeof tmpl);
        uint8_t *p = exact_copy(work, len);
        struct kite_udp_repr r;
        memset(&r, 0xa5, sizeof r);
        enum kite_err err = kite_udp_parse(p, len, &r);
        assert_int_equal(err, ref_udp(p, len));
        if (err != KITE_ERR_OK) {
            assert_all_bytes(&r, sizeof r, 0xa5);
        } else {
            assert_true(r.length >= 8u && r.length <= len && r.dst_port != 0u);
            (void)kite_cksum(p, r.length);
        }
        free(p);
    }
}

static void test_mutate_arp(void **state)
{
    (void)state;
    static const uint8_t tmpl[28] = {0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00,
                                     0x00, 0x00, 0x00, 0x02, 0xc0, 0x00, 0x02, 0x02, 0x02, 0x00,
                                     0x00, 0x00, 0x00, 0x01, 0xc0, 0x00, 0x02, 0x01};
    struct prng rng = {826u};
    for (int i = 0; i < ITERATIONS; i++) {
        uint8_t work[WORK_SIZE];
        memcpy(work, tmpl, sizeof tmpl);
        size_t len = mutate(&rng, work, sizeof tmpl);
        uint8_t *p = exact_copy(work, len);
        struct kite_arp_repr r;
        memset(&r, 0xa5, sizeof r);
        enum kite_err err = kite_arp_parse(p, len, &r);
        assert_int_equal(err, ref_arp(p, len));
        if (err != KITE_ERR_OK) {
            assert_all_bytes(&r, sizeof r, 0xa5);
        } else {
            assert_true(r.op == KITE_ARP_OP_REQUEST || r.op == KITE_ARP_OP_REPLY);
            assert_int_equal(r.spa, (uint32_t)be16(p + 14) << 16 | be16(p + 16));
        }
        free(p);
    }
}

static void test_mutate_eth_icmp(void **state)
{
    (void)state;
    static const uint8_t eth[14] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00};
    static const uint8_t icmp[8] = {0x08, 0x00, 0xf7, 0xfd, 0x00, 0x01, 0x00, 0x01};
    struct prng rng = {792u};
    for (int i = 0; i < ITERATIONS; i++) {
        uint8_t work[WORK_SIZE];
        memcpy(work, eth, sizeof eth);
        size_t len = mutate(&rng, work, sizeof eth);
        uint8_t *p = exact_copy(work, len);
        struct kite_eth_repr er;
        memset(&er, 0xa5, sizeof er);
        enum kite_err want = len < 14u               ? KITE_ERR_TRUNCATED
                             : be16(p + 12) < 0x600u ? KITE_ERR_UNSUPPORTED
                                                     : KITE_ERR_OK;
        assert_int_equal(kite_eth_parse(p, len, &er), want);
        if (want != KITE_ERR_OK) {
            assert_all_bytes(&er, sizeof er, 0xa5);
        }
        free(p);

        memcpy(work, icmp, sizeof icmp);
        len = mutate(&rng, work, sizeof icmp);
        p = exact_copy(work, len);
        struct kite_icmp4_repr ir;
        assert_int_equal(kite_icmp4_parse(p, len, &ir),
                         len < 8u ? KITE_ERR_TRUNCATED : KITE_ERR_OK);
        free(p);
    }
}

/* Parsers must not touch the input at all when len is 0, even via NULL. */
static void test_null_with_zero_len(void **state)
{
    (void)state;
    struct kite_ipv4_repr ip;
    struct kite_udp_repr udp;
    struct kite_arp_repr arp;
    struct kite_eth_repr eth;
    struct kite_icmp4_repr icmp;
    assert_int_equal(kite_ipv4_parse(NULL, 0, true, &ip), KITE_ERR_TRUNCATED);
    assert_int_equal(kite_udp_parse(NULL, 0, &udp), KITE_ERR_TRUNCATED);
    assert_int_equal(kite_arp_parse(NULL, 0, &arp), KITE_ERR_TRUNCATED);
    assert_int_equal(kite_eth_parse(NULL, 0, &eth), KITE_ERR_TRUNCATED);
    assert_int_equal(kite_icmp4_parse(NULL, 0, &icmp), KITE_ERR_TRUNCATED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mutate_ipv4),        cmocka_unit_test(test_mutate_udp),
        cmocka_unit_test(test_mutate_arp),         cmocka_unit_test(test_mutate_eth_icmp),
        cmocka_unit_test(test_null_with_zero_len),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
