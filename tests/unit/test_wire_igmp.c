/* SPDX-License-Identifier: BSD-3-Clause */
/* IGMP wire format (RFC 1112, 2236, 3376): parse/emit round trips for every
 * message, the Max Resp Code / QQIC floating point, truncation at every
 * length, and single-byte mutations (checksum caught; parsing unchecked
 * bytes never reads past the buffer). Also the IPv4 header with options. */
#include <stdlib.h>
#include <string.h>

#include "kite/byteorder.h"
#include "kite/wire/checksum.h"
#include "kite/wire/igmp.h"
#include "kite/wire/ipv4.h"
#include "testutil.h"

static void test_code_float(void **state)
{
    (void)state;
    /* RFC 3376 4.1.1: below 128 the value itself. */
    for (unsigned v = 0; v < 128; v++) {
        assert_int_equal(kite_igmp_code_encode((uint16_t)v), v);
        assert_int_equal(kite_igmp_code_decode((uint8_t)v), v);
    }
    /* 0x80: mant 0, exp 0: 16 << 3 = 128; 0xff: 31 << 10 = 31744. */
    assert_int_equal(kite_igmp_code_decode(0x80), 128);
    assert_int_equal(kite_igmp_code_decode(0xff), 31744);
    /* Every code decodes to a value that encodes back to the same code, and
     * encoding any value gives the largest codable value not above it. */
    for (unsigned c = 128; c < 256; c++)
        assert_int_equal(kite_igmp_code_encode(kite_igmp_code_decode((uint8_t)c)), c);
    for (unsigned v = 128; v <= 40000; v += 7) {
        uint16_t got = kite_igmp_code_decode(kite_igmp_code_encode((uint16_t)v));
        assert_true(got <= v);
        uint8_t c = kite_igmp_code_encode((uint16_t)v);
        if (c != 0xff)
            assert_true(kite_igmp_code_decode((uint8_t)(c + 1)) > v);
    }
}

static void roundtrip8(uint8_t type, uint16_t mrt, uint32_t group, uint8_t version)
{
    uint8_t buf[8];
    struct kite_igmp_repr r = {
        .type = type, .max_resp_ds = mrt, .group = group, .version = version};
    assert_int_equal(kite_igmp_emit(&r, NULL, buf, sizeof buf), KITE_ERR_OK);
    assert_int_equal(kite_cksum(buf, 8), 0);
    struct kite_igmp_repr out;
    assert_int_equal(kite_igmp_parse(buf, 8, true, &out), KITE_ERR_OK);
    assert_int_equal(out.type, type);
    assert_int_equal(out.group, group);
    assert_int_equal(out.version, version);
    assert_int_equal(out.length, 8);
    if (type == KITE_IGMP_TYPE_QUERY)
        assert_int_equal(out.max_resp_ds, mrt);
    else
        assert_int_equal(buf[1], 0); /* RFC 2236 2.2: 0 in non-queries */
}

static void test_v1_v2_roundtrip(void **state)
{
    (void)state;
    roundtrip8(KITE_IGMP_TYPE_QUERY, 0, 0, 1);           /* v1 query: Max Resp 0 */
    roundtrip8(KITE_IGMP_TYPE_QUERY, 100, 0, 2);         /* v2 general query */
    roundtrip8(KITE_IGMP_TYPE_QUERY, 10, 0xef010203, 2); /* v2 group-specific */
    roundtrip8(KITE_IGMP_TYPE_V1_REPORT, 0, 0xef010203, 1);
    roundtrip8(KITE_IGMP_TYPE_V2_REPORT, 0, 0xe00000fb, 2);
    roundtrip8(KITE_IGMP_TYPE_V2_LEAVE, 0, 0xef010203, 2);
    /* A known v2 report: 239.1.2.3, as a capture shows it. */
    const uint8_t wire[8] = {0x16, 0x00, 0xf8, 0xfa, 0xef, 0x01, 0x02, 0x03};
    uint8_t buf[8];
    struct kite_igmp_repr r = {.type = KITE_IGMP_TYPE_V2_REPORT, .group = 0xef010203};
    assert_int_equal(kite_igmp_emit(&r, NULL, buf, sizeof buf), KITE_ERR_OK);
    assert_memory_equal(buf, wire, 8);
}

static void test_v3_query_roundtrip(void **state)
{
    (void)state;
    const uint32_t srcs[3] = {0xc6336401, 0xc6336402, 0xc6336403};
    struct kite_igmp_repr r = {.type = KITE_IGMP_TYPE_QUERY,
                               .version = 3,
                               .max_resp_ds = 100,
                               .group = 0xef010203,
                               .suppress = true,
                               .qrv = 3,
                               .qqi_s = 125,
                               .nsrc = 3};
    uint8_t buf[64];
    assert_int_equal(kite_igmp_emit_len(&r), 24);
    assert_int_equal(kite_igmp_emit(&r, srcs, buf, 23), KITE_ERR_BUF);
    assert_int_equal(kite_igmp_emit(&r, srcs, buf, sizeof buf), KITE_ERR_OK);
    struct kite_igmp_repr out;
    assert_int_equal(kite_igmp_parse(buf, 24, true, &out), KITE_ERR_OK);
    assert_int_equal(out.version, 3);
    assert_int_equal(out.max_resp_ds, 100);
    assert_int_equal(out.group, 0xef010203);
    assert_true(out.suppress);
    assert_int_equal(out.qrv, 3);
    assert_int_equal(out.qqi_s, 125);
    assert_int_equal(out.nsrc, 3);
    assert_int_equal(out.length, 24);
    for (uint16_t i = 0; i < 3; i++)
        assert_int_equal(kite_igmp_query_source(buf, i), srcs[i]);
    /* A general query of 12 bytes, long Max Resp (floating point): 1000 ds. */
    struct kite_igmp_repr g = {.type = KITE_IGMP_TYPE_QUERY, .version = 3, .max_resp_ds = 1000};
    assert_int_equal(kite_igmp_emit(&g, NULL, buf, sizeof buf), KITE_ERR_OK);
    assert_int_equal(kite_igmp_parse(buf, 12, true, &out), KITE_ERR_OK);
    assert_int_equal(out.max_resp_ds, kite_igmp_code_decode(kite_igmp_code_encode(1000)));
    /* RFC 3376 4.1.10: bytes past the sources are ignored (and summed). */
    memset(buf + 12, 0, 4);
    kite_igmp_fill_checksum(buf, 16);
    assert_int_equal(kite_igmp_parse(buf, 16, true, &out), KITE_ERR_OK);
    assert_int_equal(out.length, 12);
    /* RFC 3376 7.1: 9 to 11 bytes are no query of any version. */
    for (size_t len = 9; len < 12; len++) {
        kite_igmp_fill_checksum(buf, len);
        assert_int_equal(kite_igmp_parse(buf, len, true, &out), KITE_ERR_MALFORMED);
    }
}

/* A v3 report with three records; returns its length. */
static size_t build_report(uint8_t *buf, size_t cap)
{
    const uint32_t a[2] = {0xc6336401, 0xc6336402};
    struct kite_igmp_repr h = {.type = KITE_IGMP_TYPE_V3_REPORT, .nrec = 3};
    assert_int_equal(kite_igmp_emit(&h, NULL, buf, cap), KITE_ERR_OK);
    size_t off = 8;
    off += kite_igmp_record_emit(KITE_IGMP_CHANGE_TO_EXCLUDE, 0xef010203, NULL, 0, buf + off,
                                 cap - off);
    off +=
        kite_igmp_record_emit(KITE_IGMP_ALLOW_NEW_SOURCES, 0xe8000001, a, 2, buf + off, cap - off);
    off += kite_igmp_record_emit(KITE_IGMP_MODE_IS_INCLUDE, 0xe8000002, a + 1, 1, buf + off,
                                 cap - off);
    kite_igmp_fill_checksum(buf, off);
    return off;
}

static void test_v3_report_roundtrip(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t len = build_report(buf, sizeof buf);
    assert_int_equal(len, 8 + 8 + 16 + 12);
    struct kite_igmp_repr r;
    assert_int_equal(kite_igmp_parse(buf, len, true, &r), KITE_ERR_OK);
    assert_int_equal(r.type, KITE_IGMP_TYPE_V3_REPORT);
    assert_int_equal(r.nrec, 3);
    assert_int_equal(r.length, len);
    const uint8_t types[3] = {KITE_IGMP_CHANGE_TO_EXCLUDE, KITE_IGMP_ALLOW_NEW_SOURCES,
                              KITE_IGMP_MODE_IS_INCLUDE};
    const uint16_t nsrc[3] = {0, 2, 1};
    size_t off = 8;
    for (int i = 0; i < 3; i++) {
        struct kite_igmp_record rec;
        assert_int_equal(kite_igmp_record_parse(buf + off, len - off, &rec), KITE_ERR_OK);
        assert_int_equal(rec.type, types[i]);
        assert_int_equal(rec.nsrc, nsrc[i]);
        if (i == 1)
            assert_int_equal(kite_igmp_record_source(buf + off, 1), 0xc6336402);
        off += rec.length;
    }
    assert_int_equal(off, len);
    /* A record with auxiliary data is skipped whole (RFC 3376 4.2.6). */
    uint8_t aux[20] = {KITE_IGMP_MODE_IS_EXCLUDE, 2, 0, 0, 0xef, 1, 2, 3};
    struct kite_igmp_record rec;
    assert_int_equal(kite_igmp_record_parse(aux, 16, &rec), KITE_ERR_OK);
    assert_int_equal(rec.length, 16);
    assert_int_equal(kite_igmp_record_parse(aux, 15, &rec), KITE_ERR_TRUNCATED);
    assert_int_equal(kite_igmp_record_emit(1, 0xef010203, NULL, 0, aux, 7), 0);
}

/* Every proper prefix of a valid message fails cleanly; unchecked, no read
 * goes past it (ASan watches the heap copy of exactly that length). */
static void check_truncations(const uint8_t *msg, size_t len, size_t min_ok)
{
    for (size_t n = 0; n < len; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, msg, n);
        struct kite_igmp_repr r;
        enum kite_err err = kite_igmp_parse(copy, n, false, &r);
        if (n < min_ok)
            assert_int_not_equal(err, KITE_ERR_OK);
        if (err == KITE_ERR_OK)
            assert_true(r.length <= n);
        free(copy);
    }
}

static void test_truncation(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t len = build_report(buf, sizeof buf);
    check_truncations(buf, len, len);
    const uint32_t srcs[2] = {1, 2};
    struct kite_igmp_repr q = {.type = KITE_IGMP_TYPE_QUERY, .version = 3, .nsrc = 2};
    assert_int_equal(kite_igmp_emit(&q, srcs, buf, sizeof buf), KITE_ERR_OK);
    check_truncations(buf, 20, 8); /* 8 bytes parse as a v2/v1 query, 12..19 are short */
    uint8_t *copy = malloc(12);
    memcpy(copy, buf, 12);
    struct kite_igmp_repr r;
    assert_int_equal(kite_igmp_parse(copy, 12, false, &r), KITE_ERR_TRUNCATED);
    free(copy);
    struct kite_igmp_repr v2 = {.type = KITE_IGMP_TYPE_V2_REPORT, .group = 0xef000001};
    assert_int_equal(kite_igmp_emit(&v2, NULL, buf, sizeof buf), KITE_ERR_OK);
    check_truncations(buf, 8, 8);
}

/* Flip every bit of every byte: with the checksum on, every change is
 * caught; with it off, parsing never fails on reads and every accessor the
 * parse allows stays in bounds. */
static void mutate_all(const uint8_t *msg, size_t len)
{
    uint8_t *copy = malloc(len);
    for (size_t i = 0; i < len; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            memcpy(copy, msg, len);
            copy[i] ^= (uint8_t)(1u << bit);
            struct kite_igmp_repr r;
            assert_int_equal(kite_igmp_parse(copy, len, true, &r), KITE_ERR_CHECKSUM);
            if (kite_igmp_parse(copy, len, false, &r) != KITE_ERR_OK)
                continue;
            assert_true(r.length <= len);
            if (r.type == KITE_IGMP_TYPE_QUERY && r.version == 3 && r.nsrc > 0)
                (void)kite_igmp_query_source(copy, (uint16_t)(r.nsrc - 1));
            size_t off = KITE_IGMP_HLEN;
            for (uint16_t k = 0; r.type == KITE_IGMP_TYPE_V3_REPORT && k < r.nrec; k++) {
                struct kite_igmp_record rec;
                assert_int_equal(kite_igmp_record_parse(copy + off, len - off, &rec), KITE_ERR_OK);
                if (rec.nsrc > 0)
                    (void)kite_igmp_record_source(copy + off, (uint16_t)(rec.nsrc - 1));
                off += rec.length;
            }
        }
    }
    free(copy);
}

static void test_mutation(void **state)
{
    (void)state;
    uint8_t buf[128];
    mutate_all(buf, build_report(buf, sizeof buf));
    const uint32_t srcs[2] = {0xc6336401, 0xc6336402};
    struct kite_igmp_repr q = {.type = KITE_IGMP_TYPE_QUERY, .version = 3, .nsrc = 2, .qrv = 2};
    assert_int_equal(kite_igmp_emit(&q, srcs, buf, sizeof buf), KITE_ERR_OK);
    mutate_all(buf, 20);
    const uint8_t types[5] = {KITE_IGMP_TYPE_QUERY, KITE_IGMP_TYPE_V1_REPORT,
                              KITE_IGMP_TYPE_V2_REPORT, KITE_IGMP_TYPE_V2_LEAVE,
                              KITE_IGMP_TYPE_QUERY};
    for (int i = 0; i < 5; i++) {
        struct kite_igmp_repr m = {
            .type = types[i], .max_resp_ds = i == 4 ? 0 : 50, .group = 0xef010203};
        assert_int_equal(kite_igmp_emit(&m, NULL, buf, sizeof buf), KITE_ERR_OK);
        mutate_all(buf, 8);
    }
}

static void test_emit_errors(void **state)
{
    (void)state;
    uint8_t buf[16];
    struct kite_igmp_repr r = {.type = 0x99};
    assert_int_equal(kite_igmp_emit(&r, NULL, buf, sizeof buf), KITE_ERR_ARG);
    r.type = KITE_IGMP_TYPE_V2_REPORT;
    assert_int_equal(kite_igmp_emit(&r, NULL, buf, 7), KITE_ERR_BUF);
    struct kite_igmp_repr q = {.type = KITE_IGMP_TYPE_QUERY, .version = 3, .nsrc = 1};
    assert_int_equal(kite_igmp_emit(&q, NULL, buf, sizeof buf), KITE_ERR_ARG);
    /* Unknown types parse (8 bytes) for the caller to ignore (RFC 3376 4). */
    uint8_t odd[8] = {0x99, 0, 0, 0, 1, 2, 3, 4};
    kite_igmp_fill_checksum(odd, 8);
    assert_int_equal(kite_igmp_parse(odd, 8, true, &r), KITE_ERR_OK);
    assert_int_equal(r.type, 0x99);
}

/* IPv4 header with the Router Alert option (RFC 2113): emitted and parsed back. */
static void test_ipv4_router_alert(void **state)
{
    (void)state;
    const uint8_t ra[4] = {KITE_IPV4_OPT_ROUTER_ALERT, 4, 0, 0};
    struct kite_ipv4_repr ip = {
        .tos = 0xc0, .total_len = 32, .ttl = 1, .proto = 2, .src = 0xc0000202, .dst = 0xe0000016};
    uint8_t buf[32] = {0};
    assert_int_equal(kite_ipv4_emit_opts(&ip, ra, 4, buf, 23), KITE_ERR_BUF);
    assert_int_equal(kite_ipv4_emit_opts(&ip, ra, 3, buf, 32), KITE_ERR_ARG);
    assert_int_equal(kite_ipv4_emit_opts(&ip, ra, 4, buf, 32), KITE_ERR_OK);
    assert_int_equal(buf[0], 0x46);
    assert_memory_equal(buf + 20, ra, 4);
    struct kite_ipv4_repr out;
    assert_int_equal(kite_ipv4_parse(buf, 32, true, &out), KITE_ERR_OK);
    assert_int_equal(out.hlen, 24);
    assert_int_equal(out.tos, 0xc0);
    assert_int_equal(out.ttl, 1);
    assert_int_equal(out.dst, 0xe0000016);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_code_float),         cmocka_unit_test(test_v1_v2_roundtrip),
        cmocka_unit_test(test_v3_query_roundtrip), cmocka_unit_test(test_v3_report_roundtrip),
        cmocka_unit_test(test_truncation),         cmocka_unit_test(test_mutation),
        cmocka_unit_test(test_emit_errors),        cmocka_unit_test(test_ipv4_router_alert),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
