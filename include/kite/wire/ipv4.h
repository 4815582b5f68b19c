/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 header (RFC 791). Pure parse/emit. */
#ifndef KITE_WIRE_IPV4_H
#define KITE_WIRE_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kite/err.h"

#define KITE_IPV4_HLEN 20u
#define KITE_IPV4_MAX_HLEN 60u
#define KITE_IPV4_FLAG_DF 0x4000u
#define KITE_IPV4_FLAG_MF 0x2000u
#define KITE_IPV4_OFFSET_MASK 0x1fffu

#define KITE_IP_PROTO_ICMP 1u
#define KITE_IP_PROTO_IGMP 2u
#define KITE_IP_PROTO_TCP 6u
#define KITE_IP_PROTO_UDP 17u

struct kite_ipv4_repr {
    uint8_t hlen; /* header length in bytes, options included */
    uint8_t tos;
    uint16_t total_len;
    uint16_t id;
    bool dont_frag;
    bool more_frags;
    uint16_t frag_offset; /* in bytes */
    uint8_t ttl;
    uint8_t proto;
    uint32_t src; /* host order */
    uint32_t dst; /* host order */
};

/**
 * Validate and parse an IPv4 header at buf (len bytes available, which may
 * exceed total_len: link padding). Errors: TRUNCATED (len < 20, len < header
 * length, len < total_len), MALFORMED (version != 4, IHL < 5, total_len <
 * header length, malformed options), CHECKSUM (when verify_checksum).
 * Options are walked for well-formedness and otherwise skipped.
 * The parser reads only header bytes (at most min(len, 60)), so for a packet
 * held in a chain, buf may be a contiguous copy of its first min(len, 60)
 * bytes while len is the length of the whole packet.
 * Emit returns KITE_ERR_ARG when frag_offset is not a multiple of 8.
 */
enum kite_err kite_ipv4_parse(const uint8_t *buf, size_t len, bool verify_checksum,
                              struct kite_ipv4_repr *repr);
/** Write a 20-byte header (no options) with its checksum. repr->hlen is ignored. */
enum kite_err kite_ipv4_emit(const struct kite_ipv4_repr *repr, uint8_t *buf, size_t len);

/* RFC 2113 2.1: the Router Alert option (copied, class 0, number 20), value 0. */
#define KITE_IPV4_OPT_ROUTER_ALERT 0x94u
#define KITE_IPV4_OPT_ROUTER_ALERT_LEN 4u

/**
 * Write a header followed by optlen bytes of options (a multiple of 4, at
 * most 40: KITE_ERR_ARG otherwise), IHL and checksum to match. KITE_ERR_BUF
 * when len < 20 + optlen.
 */
enum kite_err kite_ipv4_emit_opts(const struct kite_ipv4_repr *repr, const uint8_t *opts,
                                  size_t optlen, uint8_t *buf, size_t len);

static inline bool kite_ipv4_is_fragment(const struct kite_ipv4_repr *r)
{
    return r->more_frags || r->frag_offset != 0;
}

#endif
