/* SPDX-License-Identifier: BSD-3-Clause */
/* ARP for IPv4 over Ethernet (RFC 826). Pure parse/emit. */
#include "kite/wire/arp.h"

#include <string.h>

#include "kite/byteorder.h"

/* RFC 826 "Packet format"; hardware type 1 is Ethernet (IANA ARP parameters). */
#define ARP_HTYPE_ETHERNET 1u
#define ARP_PTYPE_IPV4 0x0800u
#define ARP_HLEN_ETHERNET 6u
#define ARP_PLEN_IPV4 4u

enum kite_err kite_arp_parse(const uint8_t *buf, size_t len, struct kite_arp_repr *repr)
{
    if (len < KITE_ARP_LEN) {
        return KITE_ERR_TRUNCATED;
    }
    /* RFC 826 "Packet Reception": only (Ethernet, IPv4) pairs are ours. */
    if (kite_get_be16(buf) != ARP_HTYPE_ETHERNET || kite_get_be16(buf + 2) != ARP_PTYPE_IPV4 ||
        buf[4] != ARP_HLEN_ETHERNET || buf[5] != ARP_PLEN_IPV4) {
        return KITE_ERR_UNSUPPORTED;
    }
    uint16_t op = kite_get_be16(buf + 6);
    if (op != KITE_ARP_OP_REQUEST && op != KITE_ARP_OP_REPLY) {
        return KITE_ERR_MALFORMED;
    }
    repr->op = op;
    memcpy(repr->sha, buf + 8, 6);
    repr->spa = kite_get_be32(buf + 14);
    memcpy(repr->tha, buf + 18, 6);
    repr->tpa = kite_get_be32(buf + 24);
    return KITE_ERR_OK;
}

enum kite_err kite_arp_emit(const struct kite_arp_repr *repr, uint8_t *buf, size_t len)
{
    if (len < KITE_ARP_LEN) {
        return KITE_ERR_BUF;
    }
    kite_put_be16(buf, ARP_HTYPE_ETHERNET);
    kite_put_be16(buf + 2, ARP_PTYPE_IPV4);
    buf[4] = ARP_HLEN_ETHERNET;
    buf[5] = ARP_PLEN_IPV4;
    kite_put_be16(buf + 6, repr->op);
    memcpy(buf + 8, repr->sha, 6);
    kite_put_be32(buf + 14, repr->spa);
    memcpy(buf + 18, repr->tha, 6);
    kite_put_be32(buf + 24, repr->tpa);
    return KITE_ERR_OK;
}
