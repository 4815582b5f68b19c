/* SPDX-License-Identifier: BSD-3-Clause */
/* Library-only half of kite/acd.h and kite/autoip.h. */
#ifndef KITE_INTERNAL_ACD_H
#define KITE_INTERNAL_ACD_H

#include <stdint.h>

#include "kite/acd.h"
#include "kite/stack.h"
#include "kite/wire/arp.h"

#if KITE_ACD
/*
 * ARP hands conflict detection every well-formed ARP packet (before its own
 * checks: RFC 5227 2.1.1, 2.4) and its netif events through the stack's
 * acd_input / acd_event, which the first claim sets: a program that never
 * claims an address links none of acd.c.
 */
/** Start (or restart) a claim; lost is told when a conflict ends it (AutoIP). */
enum kite_err kite__acd_claim(struct kite_netif *netif, uint32_t addr, unsigned prefix, uint32_t gw,
                              void (*lost)(struct kite_netif *netif));
#endif

#if KITE_AUTOIP
/** AutoIP's generator: seeded from the MAC, each step one candidate (RFC 3927 2.1). */
uint32_t kite__autoip_seed(const uint8_t mac[6]);
uint32_t kite__autoip_next(uint32_t *rand);
#endif

/**
 * Send one ARP packet from netif with sender address spa (ARP's sender; 0 for
 * a probe) and a zero target MAC. Counted in stats.arp.tx.
 */
enum kite_err kite__arp_send(struct kite_netif *netif, uint16_t op, const uint8_t eth_dst[6],
                             uint32_t spa, uint32_t tpa);

#endif
