/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 link-local address autoconfiguration (RFC 3927, KITE_AUTOIP): pick a
 * pseudo-random address in 169.254.1.0 - 169.254.254.255 from a generator
 * seeded with the MAC (so a host tends to get the same address each time),
 * claim it with ACD (kite/acd.h), pick another on conflict (rate limited after
 * KITE_ACD_MAX_CONFLICTS). KITE_NETIF_EV_ADDR_BOUND tells the application the
 * address is in use. Meant for when DHCP fails. docs/acd.md.
 */
#ifndef KITE_AUTOIP_H
#define KITE_AUTOIP_H

#include <stdbool.h>
#include <stdint.h>

#include "kite/err.h"

struct kite_netif;

/* Per-netif state (inside struct kite_netif; private to kite). */
struct kite_autoip {
    uint32_t rand; /* xorshift32 state, seeded from the MAC */
    bool active;
};

/** First and last address AutoIP picks (RFC 3927 2.1). */
#define KITE_AUTOIP_FIRST 0xa9fe0100u /* 169.254.1.0 */
#define KITE_AUTOIP_LAST 0xa9fefeffu  /* 169.254.254.255 */

/** Start claiming a link-local address on an Ethernet netif (KITE_ERR_ARG otherwise). */
enum kite_err kite_autoip_start(struct kite_netif *netif);
/** Stop; the link-local address, if bound, is removed from the netif. */
void kite_autoip_stop(struct kite_netif *netif);
/** True while the netif holds its link-local address (probing done). */
bool kite_autoip_bound(const struct kite_netif *netif);
/** True for 169.254.0.0/16 (RFC 3927). */
static inline bool kite_ip4_is_link_local(uint32_t ip)
{
    return (ip & 0xffff0000u) == 0xa9fe0000u;
}

#endif
