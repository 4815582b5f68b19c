/* SPDX-License-Identifier: BSD-3-Clause */
/* Ethernet II header (IEEE 802.3 clause 3.2.6). Pure parse/emit. */
#include "kite/wire/ethernet.h"

#include <string.h>

#include "kite/byteorder.h"

/* IEEE 802.3 3.2.6: values >= 0x0600 are an EtherType; smaller ones are the
 * length of an 802.3/LLC frame, which kite does not speak. */
#define ETHERTYPE_MIN 0x0600u

enum kite_err kite_eth_parse(const uint8_t *buf, size_t len, struct kite_eth_repr *repr)
{
    if (len < KITE_ETH_HLEN) {
        return KITE_ERR_TRUNCATED;
    }
    uint16_t type = kite_get_be16(buf + 12);
    if (type < ETHERTYPE_MIN) {
        return KITE_ERR_UNSUPPORTED;
    }
    memcpy(repr->dst, buf, 6);
    memcpy(repr->src, buf + 6, 6);
    repr->ethertype = type;
    return KITE_ERR_OK;
}

enum kite_err kite_eth_emit(const struct kite_eth_repr *repr, uint8_t *buf, size_t len)
{
    if (len < KITE_ETH_HLEN) {
        return KITE_ERR_BUF;
    }
    memcpy(buf, repr->dst, 6);
    memcpy(buf + 6, repr->src, 6);
    kite_put_be16(buf + 12, repr->ethertype);
    return KITE_ERR_OK;
}

void kite_eth_ip4_multicast_mac(uint32_t group, uint8_t mac[6])
{
    /* RFC 1112 6.4: 01-00-5E-00-00-00 plus the low-order 23 bits of the group. */
    mac[0] = 0x01u;
    mac[1] = 0x00u;
    mac[2] = 0x5eu;
    mac[3] = (uint8_t)((group >> 16) & 0x7fu);
    mac[4] = (uint8_t)(group >> 8);
    mac[5] = (uint8_t)group;
}
