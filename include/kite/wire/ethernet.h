/* SPDX-License-Identifier: BSD-3-Clause */
/* Ethernet II header (IEEE 802.3 clause 3.2.6 type field). Pure parse/emit. */
#ifndef KITE_WIRE_ETHERNET_H
#define KITE_WIRE_ETHERNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kite/err.h"

#define KITE_ETH_HLEN 14u
#define KITE_ETH_MIN_FRAME 60u /* without FCS; shorter frames are padded */
#define KITE_ETHERTYPE_IPV4 0x0800u
#define KITE_ETHERTYPE_ARP 0x0806u
#define KITE_ETHERTYPE_VLAN 0x8100u
#define KITE_ETHERTYPE_IPV6 0x86ddu

struct kite_eth_repr {
    uint8_t dst[6];
    uint8_t src[6];
    uint16_t ethertype;
};

/** Parse the header; KITE_ERR_TRUNCATED if len < 14, KITE_ERR_UNSUPPORTED for 802.3 length frames.
 */
enum kite_err kite_eth_parse(const uint8_t *buf, size_t len, struct kite_eth_repr *repr);
/** Write 14 header bytes; KITE_ERR_BUF if len < 14. */
enum kite_err kite_eth_emit(const struct kite_eth_repr *repr, uint8_t *buf, size_t len);

static inline bool kite_eth_is_broadcast(const uint8_t mac[6])
{
    return (mac[0] & mac[1] & mac[2] & mac[3] & mac[4] & mac[5]) == 0xff;
}
static inline bool kite_eth_is_multicast(const uint8_t mac[6])
{
    return (mac[0] & 1u) != 0;
}

/** The multicast MAC for an IPv4 group (RFC 1112 6.4): 01:00:5e + low 23 bits. */
void kite_eth_ip4_multicast_mac(uint32_t group, uint8_t mac[6]);

#endif
