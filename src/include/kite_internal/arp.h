/* SPDX-License-Identifier: BSD-3-Clause */
/* Library-only half of kite/arp.h. */
#ifndef KITE_INTERNAL_ARP_H
#define KITE_INTERNAL_ARP_H

#include <stdint.h>

#include "kite/arp.h"

/** Clear the cache and register ARP's ethertype and netif hook. */
void kite__arp_init(struct kite_stack *stack);
void kite__arp_input(struct kite_netif *netif, struct kite_pbuf *p);
/**
 * Send the IPv4 packet p out of netif to next_hop: straight to the driver on
 * an IP-level netif, else to the broadcast or multicast MAC, else to the MAC
 * the ARP cache resolves (queueing a copy while unresolved). p not consumed.
 */
enum kite_err kite__arp_output(struct kite_netif *netif, struct kite_pbuf *p, uint32_t next_hop);
/** Free every entry and its queued packets. */
void kite__arp_flush(struct kite_stack *stack);

#endif
