/* SPDX-License-Identifier: BSD-3-Clause */
/* Library-only half of kite/acd.h: what ARP tells conflict detection. */
#ifndef KITE_INTERNAL_ACD_H
#define KITE_INTERNAL_ACD_H

#include <stdint.h>

#include "kite/acd.h"
#include "kite/stack.h"
#include "kite/wire/arp.h"

#if KITE_ACD
/** Every valid ARP packet on netif, before ARP's own checks (RFC 5227 2.1.1, 2.4). */
void kite__acd_arp_input(struct kite_netif *netif, const struct kite_arp_repr *arp);
/** ARP's netif hook passes its events on (timer set-up, link changes). */
void kite__acd_netif_event(struct kite_netif *netif, enum kite_netif_event event);
/** Start (or restart) a claim; lost is told when a conflict ends it (AutoIP). */
enum kite_err kite__acd_claim(struct kite_netif *netif, uint32_t addr, unsigned prefix, uint32_t gw,
                              void (*lost)(struct kite_netif *netif));
#else
static inline void kite__acd_arp_input(struct kite_netif *netif, const struct kite_arp_repr *arp)
{
    (void)netif;
    (void)arp;
}
static inline void kite__acd_netif_event(struct kite_netif *netif, enum kite_netif_event event)
{
    (void)netif;
    (void)event;
}
#endif

#if KITE_AUTOIP
/** The n-th step of AutoIP's generator and the candidate it gives (RFC 3927 2.1). */
uint32_t kite__autoip_seed(const uint8_t mac[6]);
uint32_t kite__autoip_next(uint32_t *rand);
#endif

/**
 * Send one ARP packet from netif with sender address spa (ARP's sender; 0 for
 * a probe). Counted in stats.arp.tx.
 */
enum kite_err kite__arp_send(struct kite_netif *netif, uint16_t op, const uint8_t eth_dst[6],
                             uint32_t spa, uint32_t tpa);

#endif
