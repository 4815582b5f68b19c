/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the TCP header and options parse/emit (RFC 9293 3.1, RFC 7323,
 * RFC 2018): real Linux headers byte for byte, round trips, the option layout,
 * every truncation, every documented rejection, and random mutation checked
 * against a reference reading of include/kite/wire/tcp.h. Inputs live in
 * mallocs of exactly len bytes, so ASan turns any over-read into a failure.
 * Standalone: needs only the src/wire sources and cmocka.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "kite/wire/tcp.h"

#define ITERATIONS 20000
#define MAX_EXTRA 24u
#define WORK_SIZE 128u

#define ALL_SYN_OPTS                                                                               \
    (KITE_TCP_HAS_MSS | KITE_TCP_HAS_WSCALE | KITE_TCP_HAS_SACK_PERM | KITE_TCP_HAS_TIMESTAMP)

/*
 * A Linux SYN as captured (42210 -> 80): data offset 10, window 64240, then
 * MSS 1460, SACK-permitted + timestamps in one 12-byte block, NOP + window
 * scale 7. The checksum is whatever the capture had; emit copies it.
 */
static const uint8_t linux_syn[40] = {0xa4, 0xe2, 0x00, 0x50, 0x6b, 0x8b, 0x45, 0x67, 0x00, 0x00,
                                      0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, 0x1c, 0x46, 0x00, 0x00,
                                      0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x9a, 0x3c,
                                      0x11, 0x22, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07};

/* The ECN-setup SYN-ACK (ECE|SYN|ACK) that answers it, same option layout. */
static const uint8_t linux_synack[40] = {
    0x00, 0x50, 0xa4, 0xe2, 0x0d, 0x3e, 0x9f, 0x01, 0x6b, 0x8b, 0x45, 0x68, 0xa0, 0x52,
    0xfe, 0x88, 0x5a, 0x0b, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
    0x77, 0x01, 0x02, 0x03, 0x9a, 0x3c, 0x11, 0x22, 0x01, 0x03, 0x03, 0x07};

/* A PSH|ACK data segment: NOP NOP timestamps, then 4 bytes of payload. */
static const uint8_t linux_data[36] = {0xa4, 0xe2, 0x00, 0x50, 0x6b, 0x8b, 0x45, 0x68, 0x0d,
                                       0x3e, 0x9f, 0x02, 0x80, 0x18, 0x01, 0xf6, 0x3b, 0x21,
                                       0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x9a, 0x3c, 0x11,
                                       0x40, 0x77, 0x01, 0x02, 0x03, 'k',  'i',  't',  'e'};

/* A duplicate ACK: NOP NOP timestamps, NOP NOP SACK with one block. */
static const uint8_t linux_sack[44] = {
    0xa4, 0xe2, 0x00, 0x50, 0x6b, 0x8b, 0x45, 0x68, 0x0d, 0x3e, 0xa4, 0x22, 0xb0, 0x10, 0x01,
    0xf5, 0x8c, 0x7d, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x9a, 0x3c, 0x11, 0x58, 0x77, 0x01,
    0x02, 0x10, 0x01, 0x01, 0x05, 0x0a, 0x0d, 0x3e, 0xae, 0x62, 0x0d, 0x3e, 0xb8, 0xa2};

static uint8_t *exact_copy(const uint8_t *src, size_t len)
{
    uint8_t *p = malloc(len > 0u ? len : 1u);
    assert_non_null(p);
    if (len > 0u) {
        memcpy(p, src, len);
    }
    return p;
}

/* A parse that fails must leave the repr untouched (docs/wire.md). */
static void assert_all_bytes(const void *obj, size_t size, uint8_t value)
{
    const uint8_t *b = obj;
    for (size_t i = 0; i < size; i++) {
        assert_int_equal(b[i], value);
    }
}

static void assert_repr_equal(const struct kite_tcp_repr *a, const struct kite_tcp_repr *b)
{
    assert_int_equal(a->src_port, b->src_port);
    assert_int_equal(a->dst_port, b->dst_port);
    assert_int_equal(a->seq, b->seq);
    assert_int_equal(a->ack, b->ack);
    assert_int_equal(a->hlen, b->hlen);
    assert_int_equal(a->flags, b->flags);
    assert_int_equal(a->window, b->window);
    assert_int_equal(a->checksum, b->checksum);
    assert_int_equal(a->urgent, b->urgent);
    assert_int_equal(a->opts, b->opts);
    assert_int_equal(a->mss, b->mss);
    assert_int_equal(a->wscale, b->wscale);
    assert_int_equal(a->sack_count, b->sack_count);
    assert_int_equal(a->ts_val, b->ts_val);
    assert_int_equal(a->ts_ecr, b->ts_ecr);
    for (size_t i = 0; i < KITE_TCP_MAX_SACK_BLOCKS; i++) {
        assert_int_equal(a->sack[i].left, b->sack[i].left);
        assert_int_equal(a->sack[i].right, b->sack[i].right);
    }
}

/* Parse bytes from an exact-size copy; on error check the repr is untouched. */
static enum kite_err parse_exact(const uint8_t *bytes, size_t len, struct kite_tcp_repr *out)
{
    uint8_t *p = exact_copy(bytes, len);
    struct kite_tcp_repr r;
    memset(&r, 0xa5, sizeof r);
    enum kite_err err = kite_tcp_parse(p, len, &r);
    if (err != KITE_ERR_OK) {
        assert_all_bytes(&r, sizeof r, 0xa5);
    } else {
        assert_true(r.hlen >= KITE_TCP_HLEN && r.hlen <= len && r.hlen % 4u == 0u);
        *out = r;
    }
    free(p);
    return err;
}

/* Emit r into an exact-size buffer and check it against want byte for byte. */
static void assert_emits(const struct kite_tcp_repr *r, const uint8_t *want, size_t hlen)
{
    assert_int_equal(kite_tcp_header_len(r), hlen);
    uint8_t *out = malloc(hlen);
    assert_non_null(out);
    assert_int_equal(kite_tcp_emit(r, out, hlen), KITE_ERR_OK);
    assert_memory_equal(out, want, hlen);
    free(out);
}

static void test_linux_syn(void **state)
{
    (void)state;
    struct kite_tcp_repr r;
    assert_int_equal(parse_exact(linux_syn, sizeof linux_syn, &r), KITE_ERR_OK);
    assert_int_equal(r.src_port, 42210);
    assert_int_equal(r.dst_port, 80);
    assert_int_equal(r.seq, 0x6b8b4567u);
    assert_int_equal(r.ack, 0);
    assert_int_equal(r.hlen, 40);
    assert_int_equal(r.flags, KITE_TCP_SYN);
    assert_int_equal(r.window, 64240);
    assert_int_equal(r.checksum, 0x1c46);
    assert_int_equal(r.urgent, 0);
    assert_int_equal(r.opts, ALL_SYN_OPTS);
    assert_int_equal(r.mss, 1460);
    assert_int_equal(r.wscale, 7);
    assert_int_equal(r.ts_val, 0x9a3c1122u);
    assert_int_equal(r.ts_ecr, 0);
    assert_int_equal(r.sack_count, 0);
    assert_emits(&r, linux_syn, sizeof linux_syn);
}

static void test_linux_synack(void **state)
{
    (void)state;
    struct kite_tcp_repr r;
    assert_int_equal(parse_exact(linux_synack, sizeof linux_synack, &r), KITE_ERR_OK);
    assert_int_equal(r.flags, KITE_TCP_SYN | KITE_TCP_ACK | KITE_TCP_ECE);
    assert_int_equal(r.ack, 0x6b8b4568u);
    assert_int_equal(r.window, 65160);
    assert_int_equal(r.opts, ALL_SYN_OPTS);
    assert_int_equal(r.ts_val, 0x77010203u);
    assert_int_equal(r.ts_ecr, 0x9a3c1122u);
    assert_emits(&r, linux_synack, sizeof linux_synack);
}

static void test_linux_data_and_sack(void **state)
{
    (void)state;
    struct kite_tcp_repr r;
    assert_int_equal(parse_exact(linux_data, sizeof linux_data, &r), KITE_ERR_OK);
    assert_int_equal(r.hlen, 32);
    assert_int_equal(r.flags, KITE_TCP_PSH | KITE_TCP_ACK);
    assert_int_equal(r.opts, KITE_TCP_HAS_TIMESTAMP);
    assert_int_equal(r.ts_val, 0x9a3c1140u);
    assert_int_equal(r.ts_ecr, 0x77010203u);
    assert_memory_equal(linux_data + r.hlen, "kite", 4); /* payload follows the header */
    assert_emits(&r, linux_data, 32);

    assert_int_equal(parse_exact(linux_sack, sizeof linux_sack, &r), KITE_ERR_OK);
    assert_int_equal(r.hlen, 44);
    assert_int_equal(r.flags, KITE_TCP_ACK);
    assert_int_equal(r.opts, KITE_TCP_HAS_TIMESTAMP | KITE_TCP_HAS_SACK);
    assert_int_equal(r.sack_count, 1);
    assert_int_equal(r.sack[0].left, 0x0d3eae62u);
    assert_int_equal(r.sack[0].right, 0x0d3eb8a2u);
    assert_emits(&r, linux_sack, sizeof linux_sack);
}

/* Segments a TCP sends, each with the header length emit must give it. */
struct rt_case {
    struct kite_tcp_repr r;
    uint8_t hlen;
};

static const struct rt_case rt_cases[] = {
    /* SYN, all options; then without timestamps (NOP NOP SACK-permitted). */
    {{.src_port = 49152,
      .dst_port = 443,
      .seq = 1,
      .flags = KITE_TCP_SYN,
      .window = 65535,
      .opts = ALL_SYN_OPTS,
      .mss = 1460,
      .wscale = 14,
      .ts_val = 0xffffffffu},
     40},
    {{.src_port = 1,
      .dst_port = 2,
      .seq = 0xfffffffeu,
      .flags = KITE_TCP_SYN,
      .window = 1024,
      .opts = KITE_TCP_HAS_MSS | KITE_TCP_HAS_WSCALE | KITE_TCP_HAS_SACK_PERM,
      .mss = 536},
     32},
    /* SYN-ACK with ECE, and a minimal one with MSS only. */
    {{.src_port = 80,
      .dst_port = 49152,
      .seq = 0x80000000u,
      .ack = 2,
      .flags = KITE_TCP_SYN | KITE_TCP_ACK | KITE_TCP_ECE,
      .window = 28960,
      .opts = ALL_SYN_OPTS,
      .mss = 1400,
      .wscale = 0,
      .ts_val = 7,
      .ts_ecr = 0xffffffffu},
     40},
    {{.src_port = 7,
      .dst_port = 7,
      .seq = 9,
      .ack = 10,
      .flags = KITE_TCP_SYN | KITE_TCP_ACK,
      .window = 2920,
      .opts = KITE_TCP_HAS_MSS,
      .mss = 0xffff},
     24},
    /* SACK-permitted alone (NOP NOP kind 4 len 2), window scale alone. */
    {{.src_port = 3, .dst_port = 4, .flags = KITE_TCP_SYN, .opts = KITE_TCP_HAS_SACK_PERM}, 24},
    {{.src_port = 3,
      .dst_port = 4,
      .flags = KITE_TCP_SYN,
      .opts = KITE_TCP_HAS_WSCALE,
      .wscale = 9},
     24},
    /* Data with timestamps; a bare RST; every flag bit and field at maximum. */
    {{.src_port = 443,
      .dst_port = 49152,
      .seq = 12345,
      .ack = 67890,
      .flags = KITE_TCP_ACK | KITE_TCP_PSH,
      .window = 501,
      .checksum = 0xbeef,
      .opts = KITE_TCP_HAS_TIMESTAMP,
      .ts_val = 100,
      .ts_ecr = 99},
     32},
    {{.src_port = 5, .dst_port = 6, .seq = 77, .flags = KITE_TCP_RST}, 20},
    {{.src_port = 0xffff,
      .dst_port = 0xffff,
      .seq = 0xffffffffu,
      .ack = 0xffffffffu,
      .flags = 0xff,
      .window = 0xffff,
      .checksum = 0xffff,
      .urgent = 0xffff},
     20},
    /* Data with timestamps and 1..3 SACK blocks (3 is the most that fits). */
    {{.src_port = 10,
      .dst_port = 20,
      .seq = 1000,
      .ack = 2000,
      .flags = KITE_TCP_ACK,
      .window = 100,
      .opts = KITE_TCP_HAS_TIMESTAMP | KITE_TCP_HAS_SACK,
      .ts_val = 1,
      .ts_ecr = 2,
      .sack_count = 1,
      .sack = {{3000, 4000}}},
     44},
    {{.src_port = 10,
      .dst_port = 20,
      .seq = 1000,
      .ack = 2000,
      .flags = KITE_TCP_ACK,
      .window = 100,
      .opts = KITE_TCP_HAS_TIMESTAMP | KITE_TCP_HAS_SACK,
      .ts_val = 1,
      .ts_ecr = 2,
      .sack_count = 2,
      .sack = {{5000, 6000}, {3000, 4000}}},
     52},
    {{.src_port = 10,
      .dst_port = 20,
      .seq = 1000,
      .ack = 2000,
      .flags = KITE_TCP_ACK | KITE_TCP_CWR,
      .window = 100,
      .opts = KITE_TCP_HAS_TIMESTAMP | KITE_TCP_HAS_SACK,
      .ts_val = 1,
      .ts_ecr = 2,
      .sack_count = 3,
      .sack = {{7000, 8000}, {5000, 6000}, {0xfffffff0u, 0x10u}}},
     60},
    /* Four SACK blocks without timestamps. */
    {{.src_port = 10,
      .dst_port = 20,
      .seq = 1000,
      .ack = 2000,
      .flags = KITE_TCP_ACK,
      .window = 100,
      .opts = KITE_TCP_HAS_SACK,
      .sack_count = 4,
      .sack = {{1, 2}, {3, 4}, {5, 6}, {0xffffffffu, 0xffffffffu}}},
     56},
    /* MSS, window scale, SACK-permitted, timestamps and 2 SACK blocks: 40. */
    {{.src_port = 10,
      .dst_port = 20,
      .flags = KITE_TCP_SYN,
      .opts = ALL_SYN_OPTS | KITE_TCP_HAS_SACK,
      .mss = 9000,
      .wscale = 1,
      .ts_val = 3,
      .sack_count = 2,
      .sack = {{1, 2}, {3, 4}}},
     60},
};

static void test_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rt_cases / sizeof rt_cases[0]; i++) {
        struct kite_tcp_repr in = rt_cases[i].r;
        size_t hlen = rt_cases[i].hlen;
        assert_int_equal(kite_tcp_header_len(&in), hlen);
        in.hlen = (uint8_t)hlen; /* emit computes it; parse reports it */
        /* Exactly the header plus 5 payload bytes that emit must not touch. */
        uint8_t *buf = malloc(hlen + 5u);
        assert_non_null(buf);
        memset(buf, 0x77, hlen + 5u);
        assert_int_equal(kite_tcp_emit(&in, buf, hlen), KITE_ERR_OK);
        for (size_t k = hlen; k < hlen + 5u; k++) {
            assert_int_equal(buf[k], 0x77);
        }
        assert_int_equal(buf[12], hlen / 4u << 4);
        struct kite_tcp_repr out;
        assert_int_equal(parse_exact(buf, hlen, &out), KITE_ERR_OK);
        assert_repr_equal(&in, &out);
        assert_int_equal(parse_exact(buf, hlen + 5u, &out), KITE_ERR_OK);
        assert_repr_equal(&in, &out);
        free(buf);
    }
}

static void test_header_len(void **state)
{
    (void)state;
    struct kite_tcp_repr r;
    memset(&r, 0, sizeof r);
    assert_int_equal(kite_tcp_header_len(&r), 20);
    r.hlen = 60; /* ignored */
    assert_int_equal(kite_tcp_header_len(&r), 20);
    r.opts = KITE_TCP_HAS_TIMESTAMP | KITE_TCP_HAS_SACK_PERM;
    assert_int_equal(kite_tcp_header_len(&r), 32); /* one shared 12-byte block */
    r.opts = KITE_TCP_HAS_SACK;
    static const uint8_t sack_only[] = {0, 32, 40, 48, 56};
    static const uint8_t sack_ts[] = {0, 44, 52, 60, 60};
    for (uint8_t n = 1; n <= KITE_TCP_MAX_SACK_BLOCKS; n++) {
        r.sack_count = n;
        r.opts = KITE_TCP_HAS_SACK;
        assert_int_equal(kite_tcp_header_len(&r), sack_only[n]);
        r.opts = KITE_TCP_HAS_SACK | KITE_TCP_HAS_TIMESTAMP;
        assert_int_equal(kite_tcp_header_len(&r), sack_ts[n]);
    }
    /* Options that do not fit are clamped to 60; emit refuses them. */
    r.opts = 0xff;
    r.sack_count = 255;
    assert_int_equal(kite_tcp_header_len(&r), 60);
    /* Every combination is a multiple of 4 between 20 and 60. */
    for (unsigned opts = 0; opts < 32u; opts++) {
        for (uint8_t n = 0; n <= KITE_TCP_MAX_SACK_BLOCKS + 1u; n++) {
            r.opts = (uint8_t)opts;
            r.sack_count = n;
            uint8_t h = kite_tcp_header_len(&r);
            assert_true(h >= 20u && h <= 60u && h % 4u == 0u);
        }
    }
}

static void test_emit_errors(void **state)
{
    (void)state;
    uint8_t buf[64];
    /* KITE_ERR_BUF for every length below the header, and nothing written. */
    for (size_t i = 0; i < sizeof rt_cases / sizeof rt_cases[0]; i++) {
        for (size_t len = 0; len < rt_cases[i].hlen; len++) {
            memset(buf, 0x77, sizeof buf);
            assert_int_equal(kite_tcp_emit(&rt_cases[i].r, buf, len), KITE_ERR_BUF);
            assert_all_bytes(buf, sizeof buf, 0x77);
        }
    }
    /* RFC 2018 3: timestamps leave room for 3 SACK blocks, not 4. */
    struct kite_tcp_repr r = rt_cases[11].r;
    assert_int_equal(r.sack_count, 3);
    r.sack_count = 4;
    r.sack[3].left = 1;
    r.sack[3].right = 2;
    memset(buf, 0x77, sizeof buf);
    assert_int_equal(kite_tcp_emit(&r, buf, sizeof buf), KITE_ERR_VAL);
    assert_all_bytes(buf, sizeof buf, 0x77);
    /* A full SYN option set leaves room for 2 blocks. */
    r = rt_cases[13].r;
    r.sack_count = 3;
    assert_int_equal(kite_tcp_emit(&r, buf, sizeof buf), KITE_ERR_VAL);
    /* A SACK option with 0 or 5 blocks cannot be carried. */
    r = rt_cases[12].r;
    r.sack_count = 5;
    assert_int_equal(kite_tcp_emit(&r, buf, sizeof buf), KITE_ERR_VAL);
    r.sack_count = 0;
    assert_int_equal(kite_tcp_emit(&r, buf, sizeof buf), KITE_ERR_VAL);
    /* VAL is checked before BUF. */
    assert_int_equal(kite_tcp_emit(&r, buf, 0), KITE_ERR_VAL);
    assert_all_bytes(buf, sizeof buf, 0x77);
    /* sack_count is ignored without KITE_TCP_HAS_SACK. */
    r.opts = 0;
    r.sack_count = 200;
    assert_int_equal(kite_tcp_emit(&r, buf, 20), KITE_ERR_OK);
    /* repr->hlen is ignored: the data offset follows the options. */
    r.hlen = 60;
    assert_int_equal(kite_tcp_emit(&r, buf, 20), KITE_ERR_OK);
    assert_int_equal(buf[12], 0x50);
}

/* A window scale is written as given, and clamped to 14 when parsed. */
static void test_wscale_clamp(void **state)
{
    (void)state;
    static const uint8_t shifts[] = {0, 13, 14, 15, 16, 200, 255};
    for (size_t i = 0; i < sizeof shifts; i++) {
        struct kite_tcp_repr r;
        memset(&r, 0, sizeof r);
        r.flags = KITE_TCP_SYN;
        r.opts = KITE_TCP_HAS_WSCALE;
        r.wscale = shifts[i];
        uint8_t buf[24];
        assert_int_equal(kite_tcp_emit(&r, buf, sizeof buf), KITE_ERR_OK);
        assert_int_equal(buf[23], shifts[i]);
        struct kite_tcp_repr out;
        assert_int_equal(parse_exact(buf, sizeof buf, &out), KITE_ERR_OK);
        assert_int_equal(out.opts, KITE_TCP_HAS_WSCALE);
        assert_int_equal(out.wscale, shifts[i] > 14u ? 14u : shifts[i]);
    }
}

/* Every prefix shorter than the header is TRUNCATED; longer ones are OK
 * (TCP has no length field: the rest is payload). */
static void test_truncated_prefixes(void **state)
{
    (void)state;
    static const struct {
        const uint8_t *bytes;
        size_t len;
    } pkts[] = {{linux_syn, sizeof linux_syn},
                {linux_synack, sizeof linux_synack},
                {linux_data, sizeof linux_data},
                {linux_sack, sizeof linux_sack}};
    for (size_t i = 0; i < sizeof pkts / sizeof pkts[0]; i++) {
        size_t hlen = (size_t)(pkts[i].bytes[12] >> 4) * 4u;
        struct kite_tcp_repr r;
        for (size_t len = 0; len < hlen; len++) {
            assert_int_equal(parse_exact(pkts[i].bytes, len, &r), KITE_ERR_TRUNCATED);
        }
        for (size_t len = hlen; len <= pkts[i].len; len++) {
            assert_int_equal(parse_exact(pkts[i].bytes, len, &r), KITE_ERR_OK);
            assert_int_equal(r.hlen, hlen);
        }
    }
    struct kite_tcp_repr r;
    assert_int_equal(kite_tcp_parse(NULL, 0, &r), KITE_ERR_TRUNCATED);
}

static void test_data_offset(void **state)
{
    (void)state;
    uint8_t buf[60];
    memset(buf, 0, sizeof buf);
    memcpy(buf, linux_data, 20);
    struct kite_tcp_repr r;
    /* RFC 9293 3.1: the header is at least 5 words. */
    for (unsigned doff = 0; doff < 5u; doff++) {
        buf[12] = (uint8_t)(doff << 4);
        assert_int_equal(parse_exact(buf, 20, &r), KITE_ERR_MALFORMED);
        assert_int_equal(parse_exact(buf, sizeof buf, &r), KITE_ERR_MALFORMED);
    }
    /* A data offset past the end of the segment. */
    for (unsigned doff = 6; doff < 16u; doff++) {
        buf[12] = (uint8_t)(doff << 4);
        for (size_t len = 20; len < doff * 4u; len++) {
            assert_int_equal(parse_exact(buf, len, &r), KITE_ERR_TRUNCATED);
        }
        assert_int_equal(parse_exact(buf, doff * 4u, &r), KITE_ERR_OK); /* all EOL */
        assert_int_equal(r.hlen, doff * 4u);
        assert_int_equal(r.opts, 0);
    }
    /* The 4 reserved bits are ignored; every flag bit is reported. */
    buf[12] = 0x5f;
    buf[13] = 0xff;
    assert_int_equal(parse_exact(buf, 20, &r), KITE_ERR_OK);
    assert_int_equal(r.hlen, 20);
    assert_int_equal(r.flags, 0xff);
}

/* Parse a header whose options are opts (padded with EOL to a word). */
static enum kite_err parse_opts(const uint8_t *opts, size_t optlen, struct kite_tcp_repr *out)
{
    uint8_t buf[60];
    size_t padded = (optlen + 3u) & ~(size_t)3u;
    assert_true(padded <= 40u);
    memset(buf, 0, sizeof buf);
    memcpy(buf, linux_data, 20);
    buf[12] = (uint8_t)((20u + padded) / 4u << 4);
    memcpy(buf + 20, opts, optlen);
    return parse_exact(buf, 20u + padded, out);
}

#define PARSE_OPTS(o, r) parse_opts((o), sizeof(o), (r))

static void test_malformed_options(void **state)
{
    (void)state;
    struct kite_tcp_repr r;
    /* Length 0 and 1, for an unknown kind and for known ones. */
    static const uint8_t len0[] = {30, 0, 0, 0};
    static const uint8_t len1[] = {30, 1, 0, 0};
    static const uint8_t mss_len0[] = {2, 0, 5, 0xb4};
    static const uint8_t ts_len1[] = {1, 1, 8, 1};
    /* Options that run past the end of the header. */
    static const uint8_t past[] = {30, 5, 0, 0};
    static const uint8_t ts_past[] = {1, 1, 1, 1, 8, 10, 0, 0};
    static const uint8_t past_after_ok[] = {2, 4, 5, 0xb4, 1, 34, 6, 0};
    /* A kind in the last header byte, with no room for its length. */
    static const uint8_t no_len[] = {1, 1, 1, 30};
    static const uint8_t no_len_known[] = {2, 4, 5, 0xb4, 1, 1, 1, 8};
    uint8_t huge[40];
    memset(huge, 0, sizeof huge);
    huge[0] = 30;
    huge[1] = 41;
    assert_int_equal(PARSE_OPTS(len0, &r), KITE_ERR_MALFORMED);
    assert_int_equal(PARSE_OPTS(len1, &r), KITE_ERR_MALFORMED);
    assert_int_equal(PARSE_OPTS(mss_len0, &r), KITE_ERR_MALFORMED);
    assert_int_equal(PARSE_OPTS(ts_len1, &r), KITE_ERR_MALFORMED);
    assert_int_equal(PARSE_OPTS(past, &r), KITE_ERR_MALFORMED);
    assert_int_equal(PARSE_OPTS(ts_past, &r), KITE_ERR_MALFORMED);
    assert_int_equal(PARSE_OPTS(past_after_ok, &r), KITE_ERR_MALFORMED);
    assert_int_equal(PARSE_OPTS(no_len, &r), KITE_ERR_MALFORMED);
    assert_int_equal(PARSE_OPTS(no_len_known, &r), KITE_ERR_MALFORMED);
    assert_int_equal(PARSE_OPTS(huge, &r), KITE_ERR_MALFORMED);
}

/* Each known kind with every wrong length that fits in the header. */
static void test_wrong_option_lengths(void **state)
{
    (void)state;
    static const struct {
        uint8_t kind;
        uint8_t good; /* 0: SACK, 2 + 8n for n in 1..4 */
        uint8_t has;
    } kinds[] = {{KITE_TCP_OPT_MSS, 4, KITE_TCP_HAS_MSS},
                 {KITE_TCP_OPT_WSCALE, 3, KITE_TCP_HAS_WSCALE},
                 {KITE_TCP_OPT_SACK_PERM, 2, KITE_TCP_HAS_SACK_PERM},
                 {KITE_TCP_OPT_TIMESTAMP, 10, KITE_TCP_HAS_TIMESTAMP},
                 {KITE_TCP_OPT_SACK, 0, KITE_TCP_HAS_SACK}};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        for (uint8_t olen = 2; olen <= 40u; olen++) {
            uint8_t opts[40];
            memset(opts, 0x5a, sizeof opts);
            opts[0] = kinds[k].kind;
            opts[1] = olen;
            bool good =
                kinds[k].good != 0u ? olen == kinds[k].good : olen >= 10u && (olen - 2u) % 8u == 0u;
            struct kite_tcp_repr r;
            enum kite_err err = parse_opts(opts, olen, &r);
            assert_int_equal(err, good ? KITE_ERR_OK : KITE_ERR_MALFORMED);
            if (good) {
                assert_int_equal(r.opts, kinds[k].has);
            }
        }
    }
    /* SACK with 0 blocks, 5 blocks (42 bytes cannot fit in 40) and 1.5. */
    uint8_t sack[40];
    memset(sack, 0, sizeof sack);
    sack[0] = KITE_TCP_OPT_SACK;
    struct kite_tcp_repr r;
    static const uint8_t bad[] = {2, 3, 9, 14, 17, 25, 33, 35, 42, 50, 255};
    for (size_t i = 0; i < sizeof bad; i++) {
        sack[1] = bad[i];
        assert_int_equal(parse_opts(sack, sizeof sack, &r), KITE_ERR_MALFORMED);
    }
    sack[1] = 34;
    assert_int_equal(parse_opts(sack, sizeof sack, &r), KITE_ERR_OK);
    assert_int_equal(r.sack_count, 4);
}

static void test_valid_options(void **state)
{
    (void)state;
    struct kite_tcp_repr r;
    /* Unknown kinds (MPTCP 30, fast open 34, experimental 253) are skipped. */
    static const uint8_t unknown[] = {30, 6, 0x00, 0x81, 0xff, 0xff, 2, 4, 0x05, 0xb4, 34,  10,
                                      1,  2, 3,    4,    5,    6,    7, 8, 1,    1,    253, 2};
    assert_int_equal(PARSE_OPTS(unknown, &r), KITE_ERR_OK);
    assert_int_equal(r.opts, KITE_TCP_HAS_MSS);
    assert_int_equal(r.mss, 1460);
    /* EOL ends the list: what follows, even a bad option, is padding. */
    static const uint8_t eol_junk[] = {2, 4, 0x05, 0xb4, 0, 0xff, 0x00, 0x07};
    assert_int_equal(PARSE_OPTS(eol_junk, &r), KITE_ERR_OK);
    assert_int_equal(r.opts, KITE_TCP_HAS_MSS);
    static const uint8_t eol_first[] = {0, 2, 4, 5, 0xb4, 3, 3, 7};
    assert_int_equal(PARSE_OPTS(eol_first, &r), KITE_ERR_OK);
    assert_int_equal(r.opts, 0);
    assert_int_equal(r.mss, 0);
    static const uint8_t nops[] = {1, 1, 1, 1, 1, 1, 1, 1};
    assert_int_equal(PARSE_OPTS(nops, &r), KITE_ERR_OK);
    assert_int_equal(r.opts, 0);
    /* Options packed with no padding, the last ending at the header end. */
    static const uint8_t packed[] = {2, 4, 0x02, 0x18, 3,  3, 6, 4, 2,  8, 10, 0, 0,  0, 1, 0,
                                     0, 0, 2,    5,    10, 0, 0, 0, 10, 0, 0,  0, 20, 1, 1, 1};
    assert_int_equal(PARSE_OPTS(packed, &r), KITE_ERR_OK);
    assert_int_equal(r.opts, ALL_SYN_OPTS | KITE_TCP_HAS_SACK);
    assert_int_equal(r.mss, 536);
    assert_int_equal(r.wscale, 6);
    assert_int_equal(r.ts_val, 1);
    assert_int_equal(r.ts_ecr, 2);
    assert_int_equal(r.sack_count, 1);
    assert_int_equal(r.sack[0].left, 10);
    assert_int_equal(r.sack[0].right, 20);
    static const uint8_t ends_exactly[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  1, 1, 1,
                                           1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  1, 1, 1,
                                           1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 30, 2};
    assert_int_equal(PARSE_OPTS(ends_exactly, &r), KITE_ERR_OK);
    assert_int_equal(r.hlen, 60);
}

/* A repeated option: the last one wins, and a shorter SACK clears the rest. */
static void test_duplicate_options(void **state)
{
    (void)state;
    struct kite_tcp_repr r;
    static const uint8_t dup[] = {2, 4, 0x03, 0xe8, 3, 3, 2, 2, 4, 0x05, 0xb4, 3, 3,
                                  5, 8, 10,   0,    0, 0, 1, 0, 0, 0,    2,    8, 10,
                                  0, 0, 0,    3,    0, 0, 0, 4, 4, 2,    4,    2};
    assert_int_equal(PARSE_OPTS(dup, &r), KITE_ERR_OK);
    assert_int_equal(r.opts, ALL_SYN_OPTS);
    assert_int_equal(r.mss, 1460);
    assert_int_equal(r.wscale, 5);
    assert_int_equal(r.ts_val, 3);
    assert_int_equal(r.ts_ecr, 4);
    static const uint8_t sacks[] = {5, 26, 0, 0, 0, 1, 0, 0, 0, 2,  0, 0, 0, 3, 0, 0, 0, 4,
                                    0, 0,  0, 5, 0, 0, 0, 6, 5, 10, 0, 0, 0, 7, 0, 0, 0, 8};
    assert_int_equal(PARSE_OPTS(sacks, &r), KITE_ERR_OK);
    assert_int_equal(r.opts, KITE_TCP_HAS_SACK);
    assert_int_equal(r.sack_count, 1);
    assert_int_equal(r.sack[0].left, 7);
    assert_int_equal(r.sack[0].right, 8);
    for (size_t i = 1; i < KITE_TCP_MAX_SACK_BLOCKS; i++) {
        assert_int_equal(r.sack[i].left, 0);
        assert_int_equal(r.sack[i].right, 0);
    }
    /* A bad option after good ones still fails the whole parse. */
    static const uint8_t good_then_bad[] = {2, 4, 5, 0xb4, 3, 3, 7, 4, 3, 0, 0, 0};
    memset(&r, 0xa5, sizeof r);
    assert_int_equal(PARSE_OPTS(good_then_bad, &r), KITE_ERR_MALFORMED);
    assert_all_bytes(&r, sizeof r, 0xa5);
}

/* ---- mutation ----------------------------------------------------------- */

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

/* Option kinds and lengths, data offsets, and kind/length pairs. */
static const uint16_t interesting[] = {
    0,      1,      2,      3,      4,      5,      8,      9,      10,     11,     14,
    15,     18,     26,     30,     34,     40,     41,     42,     0x40,   0x50,   0x60,
    0xa0,   0xb0,   0xf0,   0xff,   0x0101, 0x0204, 0x0303, 0x0402, 0x080a, 0x050a, 0x0512,
    0x051a, 0x0522, 0x052a, 0x0502, 0x0103, 0x1e02, 0x0000, 0xffff};
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

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)be16(p) << 16 | be16(p + 2);
}

/* One option, read straight off the header doc; -1 if malformed. */
static int ref_option(const uint8_t *o, size_t n, struct kite_tcp_repr *out)
{
    if (o[0] == 2u && n == 4u) {
        out->opts |= KITE_TCP_HAS_MSS;
        out->mss = be16(o + 2);
    } else if (o[0] == 3u && n == 3u) {
        out->opts |= KITE_TCP_HAS_WSCALE;
        out->wscale = (uint8_t)(o[2] < 14u ? o[2] : 14u);
    } else if (o[0] == 4u && n == 2u) {
        out->opts |= KITE_TCP_HAS_SACK_PERM;
    } else if (o[0] == 8u && n == 10u) {
        out->opts |= KITE_TCP_HAS_TIMESTAMP;
        out->ts_val = be32(o + 2);
        out->ts_ecr = be32(o + 6);
    } else if (o[0] == 5u && (n == 10u || n == 18u || n == 26u || n == 34u)) {
        out->opts |= KITE_TCP_HAS_SACK;
        out->sack_count = (uint8_t)(n / 8u);
        memset(out->sack, 0, sizeof out->sack);
        for (size_t b = 0; b < out->sack_count; b++) {
            out->sack[b].left = be32(o + 2 + 8 * b);
            out->sack[b].right = be32(o + 6 + 8 * b);
        }
    } else if (o[0] >= 2u && o[0] <= 8u && o[0] != 6u && o[0] != 7u) {
        return -1;
    }
    return 0;
}

static enum kite_err ref_tcp(const uint8_t *p, size_t len, struct kite_tcp_repr *out)
{
    if (len < 20u) {
        return KITE_ERR_TRUNCATED;
    }
    size_t hlen = (size_t)(p[12] >> 4) * 4u;
    if (hlen < 20u) {
        return KITE_ERR_MALFORMED;
    }
    if (hlen > len) {
        return KITE_ERR_TRUNCATED;
    }
    memset(out, 0, sizeof *out);
    for (size_t i = 20; i < hlen && p[i] != 0u;) {
        if (p[i] == 1u) {
            i++;
            continue;
        }
        if (i + 1u >= hlen || p[i + 1u] < 2u || i + p[i + 1u] > hlen ||
            ref_option(p + i, p[i + 1u], out) != 0) {
            return KITE_ERR_MALFORMED;
        }
        i += p[i + 1u];
    }
    out->src_port = be16(p);
    out->dst_port = be16(p + 2);
    out->seq = be32(p + 4);
    out->ack = be32(p + 8);
    out->hlen = (uint8_t)hlen;
    out->flags = p[13];
    out->window = be16(p + 14);
    out->checksum = be16(p + 16);
    out->urgent = be16(p + 18);
    return KITE_ERR_OK;
}

/* How often each verdict came up, indexed by -err. */
struct verdicts {
    unsigned by_err[32];
    unsigned bad_options;
    unsigned with_sack;
    unsigned reemit_ok;
    unsigned reemit_val;
};

/* A parsed repr re-emitted in kite's layout parses back to itself, unless
 * the layout needs more than 40 option bytes (KITE_ERR_VAL). */
static void check_reemit(const struct kite_tcp_repr *r, struct verdicts *v)
{
    uint8_t out[KITE_TCP_MAX_HLEN];
    enum kite_err err = kite_tcp_emit(r, out, sizeof out);
    if (err != KITE_ERR_OK) {
        assert_int_equal(err, KITE_ERR_VAL);
        v->reemit_val++;
        return;
    }
    size_t hlen = kite_tcp_header_len(r);
    struct kite_tcp_repr back;
    assert_int_equal(parse_exact(out, hlen, &back), KITE_ERR_OK);
    struct kite_tcp_repr want = *r;
    want.hlen = (uint8_t)hlen;
    assert_repr_equal(&want, &back);
    v->reemit_ok++;
}

static void check_once(const uint8_t *work, size_t len, struct verdicts *v)
{
    uint8_t *p = exact_copy(work, len);
    struct kite_tcp_repr r;
    memset(&r, 0xa5, sizeof r);
    enum kite_err err = kite_tcp_parse(p, len, &r);
    struct kite_tcp_repr want;
    assert_int_equal(err, ref_tcp(p, len, &want));
    v->by_err[-(int)err]++;
    if (err == KITE_ERR_MALFORMED && p[12] >= 0x50u) {
        v->bad_options++;
    }
    if (err != KITE_ERR_OK) {
        assert_all_bytes(&r, sizeof r, 0xa5);
    } else {
        assert_repr_equal(&want, &r);
        assert_true(r.hlen <= len && r.wscale <= KITE_TCP_MAX_WSCALE);
        assert_true(r.sack_count <= KITE_TCP_MAX_SACK_BLOCKS);
        assert_int_equal(r.sack_count != 0u, (r.opts & KITE_TCP_HAS_SACK) != 0u);
        if (r.sack_count != 0u) {
            v->with_sack++;
        }
        check_reemit(&r, v);
    }
    free(p);
}

static void mutate_template(const uint8_t *bytes, size_t tlen, uint32_t seed, struct verdicts *v)
{
    struct prng rng = {seed};
    struct kite_tcp_repr r;
    assert_int_equal(parse_exact(bytes, tlen, &r), KITE_ERR_OK);
    for (int i = 0; i < ITERATIONS; i++) {
        uint8_t work[WORK_SIZE];
        memcpy(work, bytes, tlen);
        check_once(work, mutate(&rng, work, tlen), v);
    }
}

/* Timestamps and 3 SACK blocks: a full 60-byte header, then payload. */
static const uint8_t ts_sack3[64] = {
    0x00, 0x50, 0xa4, 0xe2, 0x0d, 0x3e, 0x9f, 0x02, 0x6b, 0x8b, 0x45, 0x68, 0xf0, 0x10, 0x01, 0xf6,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
    0x01, 0x01, 0x05, 0x1a, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x30, 0x00,
    0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x50, 0x00, 0x00, 0x00, 0x60, 0x00, 'k',  'i',  't',  'e'};
/* Packed options (window scale 20, timestamps, 3 SACK blocks: 39 bytes, then
 * EOL) that kite's own layout cannot re-emit in 40 bytes. */
static const uint8_t packed_60[60] = {
    0x00, 0x50, 0xa4, 0xe2, 0x0d, 0x3e, 0x9f, 0x02, 0x6b, 0x8b, 0x45, 0x68, 0xf0, 0x10, 0x01,
    0xf6, 0x00, 0x00, 0x00, 0x00, 0x03, 0x03, 0x14, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x02, 0x05, 0x1a, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00,
    0x30, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x50, 0x00, 0x00, 0x00, 0x60, 0x00, 0x00};
/* An unknown option, EOL and junk; and a bare header with payload. */
static const uint8_t unknown_eol[28] = {0x00, 0x16, 0x00, 0x17, 0,    0,    0,    1, 0, 0,
                                        0,    0,    0x70, 0x02, 0x10, 0x00, 0,    0, 0, 0,
                                        30,   4,    1,    0xff, 0,    5,    0xff, 2};
static const uint8_t bare[28] = {0x00, 0x16, 0x00, 0x17, 0,    0,    0,   1,  0, 0,
                                 0,    0,    0x50, 0x11, 0x10, 0x00, 0,   0,  0, 0,
                                 'p',  'a',  'y',  'l',  'o',  'a',  'd', '!'};

static void test_mutate(void **state)
{
    (void)state;
    struct verdicts v;
    memset(&v, 0, sizeof v);
    mutate_template(linux_syn, sizeof linux_syn, 9293u, &v);
    mutate_template(linux_sack, sizeof linux_sack, 2018u, &v);
    mutate_template(ts_sack3, sizeof ts_sack3, 7323u, &v);
    mutate_template(packed_60, sizeof packed_60, 1323u, &v);
    mutate_template(unknown_eol, sizeof unknown_eol, 793u, &v);
    mutate_template(bare, sizeof bare, 9000u, &v);
    /* Every verdict must come up often, or the run proves little. */
    assert_true(v.by_err[-KITE_ERR_OK] > ITERATIONS);
    assert_true(v.by_err[-KITE_ERR_TRUNCATED] > ITERATIONS / 2);
    assert_true(v.by_err[-KITE_ERR_MALFORMED] > ITERATIONS / 5);
    assert_true(v.bad_options > ITERATIONS / 10);
    assert_true(v.with_sack > ITERATIONS / 5);
    assert_true(v.reemit_ok > ITERATIONS && v.reemit_val > ITERATIONS / 10);
    print_message("tcp: ok %u truncated %u malformed %u (options %u) sack %u "
                  "re-emit ok %u val %u\n",
                  v.by_err[-KITE_ERR_OK], v.by_err[-KITE_ERR_TRUNCATED],
                  v.by_err[-KITE_ERR_MALFORMED], v.bad_options, v.with_sack, v.reemit_ok,
                  v.reemit_val);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linux_syn),
        cmocka_unit_test(test_linux_synack),
        cmocka_unit_test(test_linux_data_and_sack),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_header_len),
        cmocka_unit_test(test_emit_errors),
        cmocka_unit_test(test_wscale_clamp),
        cmocka_unit_test(test_truncated_prefixes),
        cmocka_unit_test(test_data_offset),
        cmocka_unit_test(test_malformed_options),
        cmocka_unit_test(test_wrong_option_lengths),
        cmocka_unit_test(test_valid_options),
        cmocka_unit_test(test_duplicate_options),
        cmocka_unit_test(test_mutate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
