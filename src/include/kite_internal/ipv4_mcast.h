/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 output beside kite__ipv4_output_if: with IP options (IGMP's Router
 * Alert), and to a multicast group with loopback to local members. */
#ifndef KITE_INTERNAL_IPV4_MCAST_H
#define KITE_INTERNAL_IPV4_MCAST_H

#include <stdbool.h>
#include <stdint.h>

#include "kite/err.h"

struct kite_netif;
struct kite_pbuf;

/**
 * Send p to the multicast (or broadcast) dst out of netif with an IPv4
 * header carrying optlen bytes of options (a multiple of 4). dst must need
 * no next hop (a group or a broadcast). p is not consumed.
 */
enum kite_err kite__ipv4_output_opts(struct kite_netif *netif, struct kite_pbuf *p, uint32_t src,
                                     uint32_t dst, uint8_t proto, uint8_t ttl, uint8_t tos,
                                     const uint8_t *opts, uint8_t optlen);

/**
 * Send p to the group dst out of netif; with loop, a copy also comes back
 * in on netif at the next poll when netif is a member of dst for src
 * (IP_MULTICAST_LOOP; RFC 1112 6.3). TTL 0 loops without sending. p is not
 * consumed. Without KITE_IGMP it is kite__ipv4_output_if.
 */
enum kite_err kite__ipv4_output_mcast(struct kite_netif *netif, struct kite_pbuf *p, uint32_t src,
                                      uint32_t dst, uint8_t proto, uint8_t ttl, uint8_t tos,
                                      bool loop);

/** Set up the loopback queue (KITE_IGMP). */
void kite__ipv4_mcast_init(struct kite_stack *stack);
/** Drop looped datagrams still queued for netif (it is going away). */
void kite__ipv4_mcast_loop_purge(struct kite_stack *stack, const struct kite_netif *netif);

#endif
