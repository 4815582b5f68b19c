/* SPDX-License-Identifier: BSD-3-Clause */
/* UDP header (RFC 768). Pure parse/emit; the checksum covers a pseudo header
 * and the payload, so the caller verifies and computes it over the chain. */
#include "kite/wire/udp.h"

#include "kite/byteorder.h"

enum kite_err kite_udp_parse(const uint8_t *buf, size_t len, struct kite_udp_repr *repr)
{
    if (len < KITE_UDP_HLEN) {
        return KITE_ERR_TRUNCATED;
    }
    uint16_t length = kite_get_be16(buf + 4);
    /* RFC 768: "the minimum value of the length is eight". */
    if (length < KITE_UDP_HLEN) {
        return KITE_ERR_MALFORMED;
    }
    if (len < length) {
        return KITE_ERR_TRUNCATED;
    }
    uint16_t dst_port = kite_get_be16(buf + 2);
    /* Port 0 is reserved (IANA); nothing can listen on it, and the source
     * port may be 0 ("if not used, a value of zero is inserted"). */
    if (dst_port == 0u) {
        return KITE_ERR_MALFORMED;
    }
    repr->src_port = kite_get_be16(buf);
    repr->dst_port = dst_port;
    repr->length = length;
    repr->checksum = kite_get_be16(buf + 6);
    return KITE_ERR_OK;
}

enum kite_err kite_udp_emit(const struct kite_udp_repr *repr, uint8_t *buf, size_t len)
{
    if (len < KITE_UDP_HLEN) {
        return KITE_ERR_BUF;
    }
    kite_put_be16(buf, repr->src_port);
    kite_put_be16(buf + 2, repr->dst_port);
    kite_put_be16(buf + 4, repr->length);
    kite_put_be16(buf + 6, repr->checksum);
    return KITE_ERR_OK;
}
