/* SPDX-License-Identifier: BSD-3-Clause */
/* ICMPv4 header (RFC 792). Pure parse/emit of the fixed 8 bytes; the checksum
 * covers the whole message, so the caller verifies and computes it. */
#include "kite/wire/icmp4.h"

#include "kite/byteorder.h"

enum kite_err kite_icmp4_parse(const uint8_t *buf, size_t len, struct kite_icmp4_repr *repr)
{
    if (len < KITE_ICMP4_HLEN) {
        return KITE_ERR_TRUNCATED;
    }
    /* RFC 792: type, code, checksum, then a 32-bit word whose meaning depends
     * on the type (identifier/sequence for echo, unused or MTU for errors). */
    repr->type = buf[0];
    repr->code = buf[1];
    repr->checksum = kite_get_be16(buf + 2);
    repr->id = kite_get_be16(buf + 4);
    repr->seq = kite_get_be16(buf + 6);
    return KITE_ERR_OK;
}

enum kite_err kite_icmp4_emit(const struct kite_icmp4_repr *repr, uint8_t *buf, size_t len)
{
    if (len < KITE_ICMP4_HLEN) {
        return KITE_ERR_BUF;
    }
    buf[0] = repr->type;
    buf[1] = repr->code;
    kite_put_be16(buf + 2, repr->checksum);
    kite_put_be16(buf + 4, repr->id);
    kite_put_be16(buf + 6, repr->seq);
    return KITE_ERR_OK;
}
