/* SPDX-License-Identifier: BSD-3-Clause */
/* ARP (RFC 826) cache with aging, retries, a bounded wait queue, static entries. */
#ifndef KITE_ARP_H
#define KITE_ARP_H

#include <stdbool.h>
#include <stdint.h>

#include "kite/err.h"
#include "kite/netif.h"
#include "kite/opts.h"
#include "kite/time.h"
#include "kite/timer.h"

enum kite_arp_state {
    KITE_ARP_FREE = 0,
    KITE_ARP_PENDING, /* request sent, packets may wait in queue */
    KITE_ARP_STABLE,  /* resolved, aging */
    KITE_ARP_STATIC,  /* set by the user, never ages */
};

struct kite_arp_entry {
    uint32_t ip;
    struct kite_netif *netif;
    uint8_t mac[KITE_ETH_ADDR_LEN];
    uint8_t state; /* enum kite_arp_state */
    uint8_t tries; /* requests sent while PENDING */
    uint8_t qlen;
    bool used_recently;   /* traffic since the last refresh decision */
    kite_time_ms expires; /* STABLE: end of life; PENDING: next retry */
    struct kite_pbuf *queue[KITE_ARP_QUEUE_LEN];
};

struct kite_arp {
    struct kite_arp_entry entries[KITE_ARP_TABLE_SIZE];
    struct kite_timer timer; /* armed only while a non-static entry exists */
};

/** Add a static entry (never ages; replaces a dynamic one). */
enum kite_err kite_arp_add_static(struct kite_netif *netif, uint32_t ip,
                                  const uint8_t mac[KITE_ETH_ADDR_LEN]);
/** Remove an entry for ip (static or dynamic). */
enum kite_err kite_arp_remove(struct kite_stack *stack, uint32_t ip);
/** Look up a resolved entry; true and mac filled if found. */
bool kite_arp_lookup(struct kite_stack *stack, uint32_t ip, uint8_t mac[KITE_ETH_ADDR_LEN]);
/** Send an ARP request for ip on netif now. */
enum kite_err kite_arp_request(struct kite_netif *netif, uint32_t ip);
/** Packets waiting for an address to resolve (a host lets them go, or
 *  fail, before it exits: kite-run). */
unsigned kite_arp_queued_count(const struct kite_stack *stack);

#endif
