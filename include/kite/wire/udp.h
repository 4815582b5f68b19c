/* SPDX-License-Identifier: BSD-3-Clause */
/* UDP header (RFC 768). Pure parse/emit; the checksum covers a pseudo header
 * and the payload and is computed by the caller over the chain. */
#ifndef KITE_WIRE_UDP_H
#define KITE_WIRE_UDP_H

#include <stddef.h>
#include <stdint.h>

#include "kite/err.h"

#define KITE_UDP_HLEN 8u

struct kite_udp_repr {
    uint16_t src_port;
    uint16_t dst_port;
    uint16_t length; /* header + payload */
    uint16_t checksum;
};

/**
 * Parse the header of a datagram of len bytes. TRUNCATED if len < 8 or
 * len < length; MALFORMED if length < 8. The destination port 0 is MALFORMED.
 */
enum kite_err kite_udp_parse(const uint8_t *buf, size_t len, struct kite_udp_repr *repr);
/** Write the 8-byte header with repr->checksum as given. */
enum kite_err kite_udp_emit(const struct kite_udp_repr *repr, uint8_t *buf, size_t len);

#endif
