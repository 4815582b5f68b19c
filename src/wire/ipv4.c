/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 header (RFC 791). Pure parse/emit. */
#include "kite/wire/ipv4.h"

#include "kite/byteorder.h"
#include "kite/wire/checksum.h"

/* RFC 791 3.1 option types with no length octet. */
#define IPOPT_EOL 0u
#define IPOPT_NOP 1u

/*
 * RFC 791 3.1 "Options": case 1 is a single octet (EOL, NOP); case 2 is type,
 * length (counting type and length octets, so at least 2) and data. Every
 * option must fit inside the header; after EOL the rest is padding.
 */
static enum kite_err walk_options(const uint8_t *opt, size_t len)
{
    size_t i = 0;

    while (i < len) {
        uint8_t type = opt[i];
        if (type == IPOPT_EOL) {
            return KITE_ERR_OK;
        }
        if (type == IPOPT_NOP) {
            i++;
            continue;
        }
        if (len - i < 2u) {
            return KITE_ERR_MALFORMED; /* no room for the length octet */
        }
        uint8_t olen = opt[i + 1u];
        if (olen < 2u || olen > len - i) {
            return KITE_ERR_MALFORMED;
        }
        i += olen;
    }
    return KITE_ERR_OK;
}

/* The length checks, in the order the header documents them. */
static enum kite_err check_lengths(const uint8_t *buf, size_t len, size_t *hlen_out)
{
    if (len < KITE_IPV4_HLEN) {
        return KITE_ERR_TRUNCATED;
    }
    if ((buf[0] >> 4) != 4u) {
        return KITE_ERR_MALFORMED;
    }
    size_t hlen = (size_t)(buf[0] & 0x0fu) * 4u; /* RFC 791 3.1: IHL in 32-bit words */
    if (hlen < KITE_IPV4_HLEN) {
        return KITE_ERR_MALFORMED;
    }
    if (hlen > len) {
        return KITE_ERR_TRUNCATED;
    }
    size_t total = kite_get_be16(buf + 2);
    if (total < hlen) {
        return KITE_ERR_MALFORMED;
    }
    if (total > len) {
        return KITE_ERR_TRUNCATED;
    }
    *hlen_out = hlen;
    return KITE_ERR_OK;
}

enum kite_err kite_ipv4_parse(const uint8_t *buf, size_t len, bool verify_checksum,
                              struct kite_ipv4_repr *repr)
{
    size_t hlen = 0;
    enum kite_err err = check_lengths(buf, len, &hlen);
    if (err != KITE_ERR_OK) {
        return err;
    }
    /* RFC 791 3.1: the checksum covers the header only, options included.
     * Checked before the options: corruption explains bad options best. */
    if (verify_checksum && kite_cksum(buf, hlen) != 0u) {
        return KITE_ERR_CHECKSUM;
    }
    err = walk_options(buf + KITE_IPV4_HLEN, hlen - KITE_IPV4_HLEN);
    if (err != KITE_ERR_OK) {
        return err;
    }
    uint16_t frag = kite_get_be16(buf + 6);
    repr->hlen = (uint8_t)hlen;
    repr->tos = buf[1];
    repr->total_len = kite_get_be16(buf + 2);
    repr->id = kite_get_be16(buf + 4);
    /* RFC 791 3.1: bit 0 of the flags is reserved; it is ignored here, as
     * most stacks do, rather than dropping the packet. */
    repr->dont_frag = (frag & KITE_IPV4_FLAG_DF) != 0u;
    repr->more_frags = (frag & KITE_IPV4_FLAG_MF) != 0u;
    repr->frag_offset = (uint16_t)((frag & KITE_IPV4_OFFSET_MASK) * 8u); /* 8-octet units */
    repr->ttl = buf[8];
    repr->proto = buf[9];
    repr->src = kite_get_be32(buf + 12);
    repr->dst = kite_get_be32(buf + 16);
    return KITE_ERR_OK;
}

/*
 * KITE_ERR_BUF if len < 20; KITE_ERR_ARG if frag_offset is not a multiple of
 * 8, which the wire cannot carry (RFC 791 3.1: offset in 8-octet units).
 */
enum kite_err kite_ipv4_emit(const struct kite_ipv4_repr *repr, uint8_t *buf, size_t len)
{
    if (len < KITE_IPV4_HLEN) {
        return KITE_ERR_BUF;
    }
    if ((repr->frag_offset & 7u) != 0u) {
        return KITE_ERR_ARG;
    }
    uint16_t frag = (uint16_t)(repr->frag_offset >> 3);
    if (repr->dont_frag) {
        frag = (uint16_t)(frag | KITE_IPV4_FLAG_DF);
    }
    if (repr->more_frags) {
        frag = (uint16_t)(frag | KITE_IPV4_FLAG_MF);
    }
    buf[0] = 0x45u; /* version 4, IHL 5 */
    buf[1] = repr->tos;
    kite_put_be16(buf + 2, repr->total_len);
    kite_put_be16(buf + 4, repr->id);
    kite_put_be16(buf + 6, frag);
    buf[8] = repr->ttl;
    buf[9] = repr->proto;
    kite_put_be16(buf + 10, 0u);
    kite_put_be32(buf + 12, repr->src);
    kite_put_be32(buf + 16, repr->dst);
    kite_put_be16(buf + 10, kite_cksum(buf, KITE_IPV4_HLEN));
    return KITE_ERR_OK;
}

enum kite_err kite_ipv4_emit_opts(const struct kite_ipv4_repr *repr, const uint8_t *opts,
                                  size_t optlen, uint8_t *buf, size_t len)
{
    if ((optlen & 3u) != 0u || optlen > KITE_IPV4_MAX_HLEN - KITE_IPV4_HLEN)
        return KITE_ERR_ARG;
    if (len < KITE_IPV4_HLEN + optlen)
        return KITE_ERR_BUF;
    enum kite_err err = kite_ipv4_emit(repr, buf, len);
    if (err != KITE_ERR_OK)
        return err;
    size_t hlen = KITE_IPV4_HLEN + optlen;
    buf[0] = (uint8_t)(0x40u | (hlen / 4u)); /* RFC 791 3.1: IHL in 32-bit words */
    for (size_t i = 0; i < optlen; i++)
        buf[KITE_IPV4_HLEN + i] = opts[i];
    kite_put_be16(buf + 10, 0u);
    kite_put_be16(buf + 10, kite_cksum(buf, hlen));
    return KITE_ERR_OK;
}
