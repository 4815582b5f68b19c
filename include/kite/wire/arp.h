/* SPDX-License-Identifier: BSD-3-Clause */
/* ARP for IPv4 over Ethernet (RFC 826). Pure parse/emit. */
#ifndef KITE_WIRE_ARP_H
#define KITE_WIRE_ARP_H

#include <stddef.h>
#include <stdint.h>

#include "kite/err.h"

#define KITE_ARP_LEN 28u
#define KITE_ARP_OP_REQUEST 1u
#define KITE_ARP_OP_REPLY 2u

struct kite_arp_repr {
    uint16_t op;
    uint8_t sha[6];
    uint32_t spa; /* host order */
    uint8_t tha[6];
    uint32_t tpa; /* host order */
};

/**
 * Parse an ARP packet. KITE_ERR_TRUNCATED if shorter than 28 bytes;
 * KITE_ERR_UNSUPPORTED unless hardware is Ethernet (1, len 6) and protocol is
 * IPv4 (0x0800, len 4); KITE_ERR_MALFORMED for an opcode other than 1 or 2.
 */
enum kite_err kite_arp_parse(const uint8_t *buf, size_t len, struct kite_arp_repr *repr);
/** Write 28 bytes; KITE_ERR_BUF if len < 28. */
enum kite_err kite_arp_emit(const struct kite_arp_repr *repr, uint8_t *buf, size_t len);

#endif
