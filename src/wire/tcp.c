/* SPDX-License-Identifier: BSD-3-Clause */
/* TCP header and options (RFC 9293 3.1, RFC 7323, RFC 2018). Pure parse/emit;
 * the checksum covers a pseudo header and the payload, so the caller verifies
 * and computes it over the chain. */
#include "kite/wire/tcp.h"

#include <string.h>

#include "kite/byteorder.h"

/* Option lengths on the wire, kind and length octets included. */
#define LEN_MSS 4u        /* RFC 9293 3.2 */
#define LEN_WSCALE 3u     /* RFC 7323 2.2 */
#define LEN_SACK_PERM 2u  /* RFC 2018 2 */
#define LEN_TIMESTAMP 10u /* RFC 7323 3.2 */
#define LEN_SACK_BASE 2u  /* RFC 2018 3: 2 + 8 per block */
#define LEN_SACK_BLOCK 8u

/* RFC 9293 3.1: the data offset is 4 bits of 32-bit words, so at most 40
 * option bytes follow the fixed header. */
#define MAX_OPT_BYTES (KITE_TCP_MAX_HLEN - KITE_TCP_HLEN)

/*
 * Sizes of the option blocks emit writes. Every block is a whole number of
 * 32-bit words, NOP-padded in front, in the order Linux uses: MSS, then
 * SACK-permitted and timestamps, then window scale, then SACK. SACK-permitted
 * shares the timestamp's word of padding ("kind 4, len 2, kind 8, len 10"),
 * so a full SYN takes 20 option bytes, and the 32-bit fields of timestamps
 * and SACK blocks land 4-byte aligned (RFC 7323 appendix A).
 */
#define BLOCK_MSS 4u       /* kind 2, len 4, mss */
#define BLOCK_TS 12u       /* NOP NOP or SACK-permitted, then kind 8, len 10 */
#define BLOCK_SACK_PERM 4u /* NOP NOP kind 4 len 2, without timestamps */
#define BLOCK_WSCALE 4u    /* NOP kind 3 len 3 shift */
#define BLOCK_SACK_BASE 4u /* NOP NOP kind 5 len, then the blocks */

static bool has(const struct kite_tcp_repr *r, unsigned bit)
{
    return (r->opts & bit) != 0u;
}

static void set(struct kite_tcp_repr *r, unsigned bit)
{
    r->opts = (uint8_t)(r->opts | bit);
}

/* RFC 2018 3: n blocks take 2 + 8n bytes, and 40 option bytes hold at most
 * 4; the bound also protects repr->sack. */
static enum kite_err take_sack(const uint8_t *o, size_t olen, struct kite_tcp_repr *r)
{
    if (olen < LEN_SACK_BASE + LEN_SACK_BLOCK || (olen - LEN_SACK_BASE) % LEN_SACK_BLOCK != 0u) {
        return KITE_ERR_MALFORMED;
    }
    size_t n = (olen - LEN_SACK_BASE) / LEN_SACK_BLOCK;
    if (n > KITE_TCP_MAX_SACK_BLOCKS) {
        return KITE_ERR_MALFORMED;
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *b = o + LEN_SACK_BASE + i * LEN_SACK_BLOCK;
        r->sack[i].left = kite_get_be32(b);
        r->sack[i].right = kite_get_be32(b + 4);
    }
    /* A repeated SACK option replaces the earlier one: clear its extra blocks. */
    for (size_t i = n; i < KITE_TCP_MAX_SACK_BLOCKS; i++) {
        r->sack[i].left = 0u;
        r->sack[i].right = 0u;
    }
    r->sack_count = (uint8_t)n;
    set(r, KITE_TCP_HAS_SACK);
    return KITE_ERR_OK;
}

/*
 * Record one option of olen bytes at o (kind, length, data). Known kinds must
 * have their exact length. A repeated option overwrites the earlier one (the
 * last one wins), as no RFC says which to keep. Options are recorded whatever
 * the flags: whether a SYN-only option counts is the caller's decision.
 */
static enum kite_err take_option(const uint8_t *o, size_t olen, struct kite_tcp_repr *r)
{
    switch (o[0]) {
    case KITE_TCP_OPT_MSS:
        if (olen != LEN_MSS) {
            return KITE_ERR_MALFORMED;
        }
        r->mss = kite_get_be16(o + 2);
        set(r, KITE_TCP_HAS_MSS);
        return KITE_ERR_OK;
    case KITE_TCP_OPT_WSCALE:
        if (olen != LEN_WSCALE) {
            return KITE_ERR_MALFORMED;
        }
        /* RFC 7323 2.3: a shift above 14 "MUST use 14 instead". */
        r->wscale = o[2] > KITE_TCP_MAX_WSCALE ? (uint8_t)KITE_TCP_MAX_WSCALE : o[2];
        set(r, KITE_TCP_HAS_WSCALE);
        return KITE_ERR_OK;
    case KITE_TCP_OPT_SACK_PERM:
        if (olen != LEN_SACK_PERM) {
            return KITE_ERR_MALFORMED;
        }
        set(r, KITE_TCP_HAS_SACK_PERM);
        return KITE_ERR_OK;
    case KITE_TCP_OPT_TIMESTAMP:
        if (olen != LEN_TIMESTAMP) {
            return KITE_ERR_MALFORMED;
        }
        r->ts_val = kite_get_be32(o + 2);
        r->ts_ecr = kite_get_be32(o + 6);
        set(r, KITE_TCP_HAS_TIMESTAMP);
        return KITE_ERR_OK;
    case KITE_TCP_OPT_SACK:
        return take_sack(o, olen, r);
    default:
        /* RFC 9293 3.1: options a TCP does not implement are ignored. */
        return KITE_ERR_OK;
    }
}

/*
 * RFC 9293 3.1 "Options": EOL ends the list (the rest is padding) and NOP is
 * a single octet; every other kind has a length octet counting kind and
 * length (so at least 2), and the whole option must lie inside the header.
 */
static enum kite_err parse_options(const uint8_t *opt, size_t len, struct kite_tcp_repr *r)
{
    size_t i = 0;

    while (i < len) {
        uint8_t kind = opt[i];
        if (kind == KITE_TCP_OPT_EOL) {
            return KITE_ERR_OK;
        }
        if (kind == KITE_TCP_OPT_NOP) {
            i++;
            continue;
        }
        if (len - i < 2u) {
            return KITE_ERR_MALFORMED; /* no room for the length octet */
        }
        size_t olen = opt[i + 1u];
        if (olen < 2u || olen > len - i) {
            return KITE_ERR_MALFORMED;
        }
        enum kite_err err = take_option(opt + i, olen, r);
        if (err != KITE_ERR_OK) {
            return err;
        }
        i += olen;
    }
    return KITE_ERR_OK;
}

/* The repr is built in a local and copied out only on success, so a failed
 * parse leaves *repr untouched (docs/wire.md). */
enum kite_err kite_tcp_parse(const uint8_t *buf, size_t len, struct kite_tcp_repr *repr)
{
    if (len < KITE_TCP_HLEN) {
        return KITE_ERR_TRUNCATED;
    }
    size_t hlen = (size_t)(buf[12] >> 4) * 4u; /* RFC 9293 3.1: in 32-bit words */
    if (hlen < KITE_TCP_HLEN) {
        return KITE_ERR_MALFORMED;
    }
    if (hlen > len) {
        return KITE_ERR_TRUNCATED;
    }
    struct kite_tcp_repr r;
    memset(&r, 0, sizeof r);
    enum kite_err err = parse_options(buf + KITE_TCP_HLEN, hlen - KITE_TCP_HLEN, &r);
    if (err != KITE_ERR_OK) {
        return err;
    }
    r.src_port = kite_get_be16(buf);
    r.dst_port = kite_get_be16(buf + 2);
    r.seq = kite_get_be32(buf + 4);
    r.ack = kite_get_be32(buf + 8);
    r.hlen = (uint8_t)hlen;
    /* RFC 9293 3.1: the 4 reserved bits of octet 12 are ignored; octet 13
     * holds all eight flags, CWR and ECE (RFC 3168) included. */
    r.flags = buf[13];
    r.window = kite_get_be16(buf + 14);
    r.checksum = kite_get_be16(buf + 16);
    r.urgent = kite_get_be16(buf + 18);
    *repr = r;
    return KITE_ERR_OK;
}

/* Option bytes emit would write, in size_t so that a wild sack_count cannot
 * wrap; every block is a multiple of 4, so the total is too. */
static size_t options_len(const struct kite_tcp_repr *r)
{
    size_t n = 0;
    if (has(r, KITE_TCP_HAS_MSS)) {
        n += BLOCK_MSS;
    }
    if (has(r, KITE_TCP_HAS_TIMESTAMP)) {
        n += BLOCK_TS;
    } else if (has(r, KITE_TCP_HAS_SACK_PERM)) {
        n += BLOCK_SACK_PERM;
    }
    if (has(r, KITE_TCP_HAS_WSCALE)) {
        n += BLOCK_WSCALE;
    }
    if (has(r, KITE_TCP_HAS_SACK)) {
        n += BLOCK_SACK_BASE + (size_t)r->sack_count * LEN_SACK_BLOCK;
    }
    return n;
}

/* RFC 2018 3: a SACK option carries 1 to 4 blocks, and only 3 fit next to
 * timestamps; the wire cannot carry a SACK option without blocks. */
static bool options_fit(const struct kite_tcp_repr *r)
{
    if (has(r, KITE_TCP_HAS_SACK) &&
        (r->sack_count == 0u || r->sack_count > KITE_TCP_MAX_SACK_BLOCKS)) {
        return false;
    }
    return options_len(r) <= MAX_OPT_BYTES;
}

/* Options that do not fit are clamped to 60, so the result can always size a
 * buffer; kite_tcp_emit then returns KITE_ERR_VAL for them. */
uint8_t kite_tcp_header_len(const struct kite_tcp_repr *repr)
{
    size_t n = options_len(repr);
    if (n > MAX_OPT_BYTES) {
        n = MAX_OPT_BYTES;
    }
    return (uint8_t)(KITE_TCP_HLEN + n);
}

static uint8_t *put4(uint8_t *p, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    p[0] = a;
    p[1] = b;
    p[2] = c;
    p[3] = d;
    return p + 4;
}

static uint8_t *put_sack(const struct kite_tcp_repr *r, uint8_t *p)
{
    uint8_t olen = (uint8_t)(LEN_SACK_BASE + r->sack_count * LEN_SACK_BLOCK);
    p = put4(p, KITE_TCP_OPT_NOP, KITE_TCP_OPT_NOP, KITE_TCP_OPT_SACK, olen);
    for (size_t i = 0; i < r->sack_count; i++) {
        kite_put_be32(p, r->sack[i].left);
        kite_put_be32(p + 4, r->sack[i].right);
        p += LEN_SACK_BLOCK;
    }
    return p;
}

/* The layout of options_len; the NOPs in front of each block are the padding
 * RFC 9293 3.1 asks for, so no EOL is needed. */
static void put_options(const struct kite_tcp_repr *r, uint8_t *p)
{
    if (has(r, KITE_TCP_HAS_MSS)) {
        p = put4(p, KITE_TCP_OPT_MSS, LEN_MSS, (uint8_t)(r->mss >> 8), (uint8_t)r->mss);
    }
    if (has(r, KITE_TCP_HAS_TIMESTAMP)) {
        if (has(r, KITE_TCP_HAS_SACK_PERM)) {
            p = put4(p, KITE_TCP_OPT_SACK_PERM, LEN_SACK_PERM, KITE_TCP_OPT_TIMESTAMP,
                     LEN_TIMESTAMP);
        } else {
            p = put4(p, KITE_TCP_OPT_NOP, KITE_TCP_OPT_NOP, KITE_TCP_OPT_TIMESTAMP, LEN_TIMESTAMP);
        }
        kite_put_be32(p, r->ts_val);
        kite_put_be32(p + 4, r->ts_ecr);
        p += 8;
    } else if (has(r, KITE_TCP_HAS_SACK_PERM)) {
        p = put4(p, KITE_TCP_OPT_NOP, KITE_TCP_OPT_NOP, KITE_TCP_OPT_SACK_PERM, LEN_SACK_PERM);
    }
    if (has(r, KITE_TCP_HAS_WSCALE)) {
        p = put4(p, KITE_TCP_OPT_NOP, KITE_TCP_OPT_WSCALE, LEN_WSCALE, r->wscale);
    }
    if (has(r, KITE_TCP_HAS_SACK)) {
        (void)put_sack(r, p);
    }
}

/*
 * KITE_ERR_VAL (checked first, nothing written) when the options do not fit,
 * then KITE_ERR_BUF when len is below the header length. repr->hlen is
 * ignored; the option values (a window scale above 14 too) are written as
 * given, whatever the flags.
 */
enum kite_err kite_tcp_emit(const struct kite_tcp_repr *repr, uint8_t *buf, size_t len)
{
    if (!options_fit(repr)) {
        return KITE_ERR_VAL;
    }
    size_t hlen = KITE_TCP_HLEN + options_len(repr);
    if (len < hlen) {
        return KITE_ERR_BUF;
    }
    kite_put_be16(buf, repr->src_port);
    kite_put_be16(buf + 2, repr->dst_port);
    kite_put_be32(buf + 4, repr->seq);
    kite_put_be32(buf + 8, repr->ack);
    buf[12] = (uint8_t)((hlen / 4u) << 4); /* data offset; reserved bits 0 */
    buf[13] = repr->flags;
    kite_put_be16(buf + 14, repr->window);
    kite_put_be16(buf + 16, repr->checksum);
    kite_put_be16(buf + 18, repr->urgent);
    put_options(repr, buf + KITE_TCP_HLEN);
    return KITE_ERR_OK;
}
