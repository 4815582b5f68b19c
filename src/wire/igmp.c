/* SPDX-License-Identifier: BSD-3-Clause */
/* IGMP messages (RFC 1112, RFC 2236, RFC 3376). Pure parse/emit. */
#include "kite/wire/igmp.h"

#include "kite/byteorder.h"
#include "kite/wire/checksum.h"

uint16_t kite_igmp_code_decode(uint8_t code)
{
    /* RFC 3376 4.1.1: below 128 the value itself, else a floating point
     * number: mant 4 bits, exp 3 bits, value (mant | 0x10) << (exp + 3). */
    if (code < 128u)
        return code;
    unsigned mant = code & 0x0fu, exp = (code >> 4) & 0x07u;
    return (uint16_t)((mant | 0x10u) << (exp + 3u));
}

uint8_t kite_igmp_code_encode(uint16_t value)
{
    if (value < 128u)
        return (uint8_t)value;
    for (unsigned exp = 0; exp < 8u; exp++) {
        unsigned m = (unsigned)value >> (exp + 3u);
        if (m < 32u)
            return (uint8_t)(0x80u | (exp << 4) | (m - 16u));
    }
    return 0xffu; /* 31744, the largest */
}

static enum kite_err parse_query(const uint8_t *buf, size_t len, struct kite_igmp_repr *r)
{
    r->group = kite_get_be32(buf + 4);
    if (len == KITE_IGMP_HLEN) {
        /* RFC 3376 7.1: an 8-byte query with Max Resp 0 is v1, else v2. */
        r->max_resp_ds = buf[1];
        r->version = buf[1] == 0u ? 1u : 2u;
        r->length = KITE_IGMP_HLEN;
        return KITE_ERR_OK;
    }
    if (len < KITE_IGMP_V3_QUERY_HLEN)
        return KITE_ERR_MALFORMED; /* RFC 3376 7.1: 9 to 11 bytes are ignored */
    r->version = 3;
    r->max_resp_ds = kite_igmp_code_decode(buf[1]);
    r->suppress = (buf[8] & 0x08u) != 0u;
    r->qrv = buf[8] & 0x07u;
    r->qqi_s = kite_igmp_code_decode(buf[9]);
    r->nsrc = kite_get_be16(buf + 10);
    size_t need = KITE_IGMP_V3_QUERY_HLEN + (size_t)r->nsrc * 4u;
    if (need > len)
        return KITE_ERR_TRUNCATED;
    r->length = (uint16_t)need; /* RFC 3376 4.1.10: bytes past the sources are ignored */
    return KITE_ERR_OK;
}

enum kite_err kite_igmp_record_parse(const uint8_t *buf, size_t len, struct kite_igmp_record *rec)
{
    if (len < KITE_IGMP_RECORD_HLEN)
        return KITE_ERR_TRUNCATED;
    rec->type = buf[0];
    rec->aux_words = buf[1];
    rec->nsrc = kite_get_be16(buf + 2);
    rec->group = kite_get_be32(buf + 4);
    size_t need = KITE_IGMP_RECORD_HLEN + (size_t)rec->nsrc * 4u + (size_t)rec->aux_words * 4u;
    if (need > len)
        return KITE_ERR_TRUNCATED;
    rec->length = (uint16_t)need;
    return KITE_ERR_OK;
}

uint32_t kite_igmp_record_source(const uint8_t *rec_buf, uint16_t i)
{
    return kite_get_be32(rec_buf + KITE_IGMP_RECORD_HLEN + (size_t)i * 4u);
}

uint32_t kite_igmp_query_source(const uint8_t *buf, uint16_t i)
{
    return kite_get_be32(buf + KITE_IGMP_V3_QUERY_HLEN + (size_t)i * 4u);
}

/* Every record of a v3 report must lie inside the message. */
static enum kite_err parse_report3(const uint8_t *buf, size_t len, struct kite_igmp_repr *r)
{
    r->version = 3;
    r->nrec = kite_get_be16(buf + 6);
    size_t off = KITE_IGMP_HLEN;
    for (uint16_t i = 0; i < r->nrec; i++) {
        struct kite_igmp_record rec;
        enum kite_err err = kite_igmp_record_parse(buf + off, len - off, &rec);
        if (err != KITE_ERR_OK)
            return err;
        off += rec.length;
    }
    r->length = (uint16_t)off;
    return KITE_ERR_OK;
}

enum kite_err kite_igmp_parse(const uint8_t *buf, size_t len, bool verify_checksum,
                              struct kite_igmp_repr *repr)
{
    if (len < KITE_IGMP_HLEN)
        return KITE_ERR_TRUNCATED;
    if (len > UINT16_MAX)
        return KITE_ERR_MALFORMED;
    /* RFC 3376 4.1.2: the checksum covers the whole IGMP message. */
    if (verify_checksum && kite_cksum(buf, len) != 0u)
        return KITE_ERR_CHECKSUM;
    *repr = (struct kite_igmp_repr){.type = buf[0], .length = KITE_IGMP_HLEN};
    switch (buf[0]) {
    case KITE_IGMP_TYPE_QUERY:
        return parse_query(buf, len, repr);
    case KITE_IGMP_TYPE_V3_REPORT:
        return parse_report3(buf, len, repr);
    case KITE_IGMP_TYPE_V1_REPORT:
    case KITE_IGMP_TYPE_V2_REPORT:
    case KITE_IGMP_TYPE_V2_LEAVE:
        repr->version = buf[0] == KITE_IGMP_TYPE_V1_REPORT ? 1u : 2u;
        repr->max_resp_ds = buf[1];
        repr->group = kite_get_be32(buf + 4);
        return KITE_ERR_OK;
    default:
        repr->group = kite_get_be32(buf + 4);
        return KITE_ERR_OK;
    }
}

size_t kite_igmp_emit_len(const struct kite_igmp_repr *repr)
{
    if (repr->type == KITE_IGMP_TYPE_QUERY && repr->version == 3)
        return KITE_IGMP_V3_QUERY_HLEN + (size_t)repr->nsrc * 4u;
    return KITE_IGMP_HLEN;
}

static void emit_query3(const struct kite_igmp_repr *r, const uint32_t *srcs, uint8_t *buf)
{
    uint16_t mrt = r->max_resp_ds > 31744u ? 31744u : r->max_resp_ds;
    uint16_t qqi = r->qqi_s > 31744u ? 31744u : r->qqi_s;
    buf[1] = kite_igmp_code_encode(mrt);
    buf[8] = (uint8_t)((r->suppress ? 0x08u : 0u) | (r->qrv & 0x07u));
    buf[9] = kite_igmp_code_encode(qqi);
    kite_put_be16(buf + 10, r->nsrc);
    for (uint16_t i = 0; i < r->nsrc; i++)
        kite_put_be32(buf + KITE_IGMP_V3_QUERY_HLEN + (size_t)i * 4u, srcs[i]);
}

enum kite_err kite_igmp_emit(const struct kite_igmp_repr *repr, const uint32_t *srcs, uint8_t *buf,
                             size_t len)
{
    size_t n = kite_igmp_emit_len(repr);
    if (len < n)
        return KITE_ERR_BUF;
    buf[0] = repr->type;
    buf[1] = 0;
    kite_put_be16(buf + 2, 0);
    kite_put_be32(buf + 4, repr->group);
    switch (repr->type) {
    case KITE_IGMP_TYPE_QUERY:
        if (repr->version == 3) {
            if (repr->nsrc > 0 && srcs == NULL)
                return KITE_ERR_ARG;
            emit_query3(repr, srcs, buf);
        } else {
            buf[1] = repr->max_resp_ds > 255u ? 255u : (uint8_t)repr->max_resp_ds;
        }
        break;
    case KITE_IGMP_TYPE_V3_REPORT:
        kite_put_be32(buf + 4, 0); /* RFC 3376 4.2: reserved fields */
        kite_put_be16(buf + 6, repr->nrec);
        break;
    case KITE_IGMP_TYPE_V1_REPORT:
    case KITE_IGMP_TYPE_V2_REPORT:
    case KITE_IGMP_TYPE_V2_LEAVE:
        break; /* RFC 2236 2.2: Max Resp Time 0 in every non-query */
    default:
        return KITE_ERR_ARG;
    }
    kite_igmp_fill_checksum(buf, n);
    return KITE_ERR_OK;
}

size_t kite_igmp_record_emit(uint8_t type, uint32_t group, const uint32_t *srcs, uint16_t n,
                             uint8_t *buf, size_t len)
{
    size_t need = KITE_IGMP_RECORD_HLEN + (size_t)n * 4u;
    if (len < need)
        return 0;
    buf[0] = type;
    buf[1] = 0; /* RFC 3376 4.2.6: hosts send no auxiliary data */
    kite_put_be16(buf + 2, n);
    kite_put_be32(buf + 4, group);
    for (uint16_t i = 0; i < n; i++)
        kite_put_be32(buf + KITE_IGMP_RECORD_HLEN + (size_t)i * 4u, srcs[i]);
    return need;
}

void kite_igmp_fill_checksum(uint8_t *buf, size_t len)
{
    kite_put_be16(buf + 2, 0);
    kite_put_be16(buf + 2, kite_cksum(buf, len));
}
