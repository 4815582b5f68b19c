/* SPDX-License-Identifier: BSD-3-Clause */
/* ICMPv4 header (RFC 792). Pure parse/emit of the 8-byte header; the checksum
 * covers the whole message and is computed by the caller over the chain. */
#ifndef KITE_WIRE_ICMP4_H
#define KITE_WIRE_ICMP4_H

#include <stddef.h>
#include <stdint.h>

#include "kite/err.h"

#define KITE_ICMP4_HLEN 8u
#define KITE_ICMP4_ECHO_REPLY 0u
#define KITE_ICMP4_DEST_UNREACH 3u
#define KITE_ICMP4_SOURCE_QUENCH 4u
#define KITE_ICMP4_REDIRECT 5u
#define KITE_ICMP4_ECHO_REQUEST 8u
#define KITE_ICMP4_TIME_EXCEEDED 11u
#define KITE_ICMP4_PARAM_PROBLEM 12u

#define KITE_ICMP4_UNREACH_NET 0u
#define KITE_ICMP4_UNREACH_HOST 1u
#define KITE_ICMP4_UNREACH_PROTO 2u
#define KITE_ICMP4_UNREACH_PORT 3u
#define KITE_ICMP4_UNREACH_FRAG_NEEDED 4u

struct kite_icmp4_repr {
    uint8_t type;
    uint8_t code;
    uint16_t checksum;
    /* Echo request/reply: identifier and sequence; other types: rest-of-header
     * word (e.g. next-hop MTU for frag-needed in the low 16 bits). */
    uint16_t id;
    uint16_t seq;
};

/** Parse the 8-byte header; TRUNCATED if len < 8. */
enum kite_err kite_icmp4_parse(const uint8_t *buf, size_t len, struct kite_icmp4_repr *repr);
/** Write the 8-byte header with repr->checksum as given. */
enum kite_err kite_icmp4_emit(const struct kite_icmp4_repr *repr, uint8_t *buf, size_t len);

static inline int kite_icmp4_is_error(uint8_t type)
{
    return type == KITE_ICMP4_DEST_UNREACH || type == KITE_ICMP4_SOURCE_QUENCH ||
           type == KITE_ICMP4_REDIRECT || type == KITE_ICMP4_TIME_EXCEEDED ||
           type == KITE_ICMP4_PARAM_PROBLEM;
}

#endif
