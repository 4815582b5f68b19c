/* SPDX-License-Identifier: BSD-3-Clause */
/* Library-only half of kite/ipv4.h: what IPv4 tells the transports, and output. */
#ifndef KITE_INTERNAL_IPV4_H
#define KITE_INTERNAL_IPV4_H

#include <stdbool.h>
#include <stdint.h>

#include "kite/ipv4.h"

/** What the IP layer tells a transport about a packet it delivers. */
struct kite_ip_rx {
    struct kite_netif *netif;
    uint32_t src;
    uint32_t dst;
    uint8_t proto;
    uint8_t ttl;
    uint8_t tos;
    uint8_t hlen;   /* IP header bytes in front of p->payload (for ICMP errors) */
    bool broadcast; /* dst was a broadcast address */
    bool multicast;
};

void kite__ipv4_init(struct kite_stack *stack);
/**
 * Prepend an IPv4 header to p and send it through netif (route first with
 * kite_ipv4_route). p is not consumed and is restored before return.
 * src 0 means the netif's address.
 */
enum kite_err kite__ipv4_output_if(struct kite_netif *netif, struct kite_pbuf *p, uint32_t src,
                                   uint32_t dst, uint8_t proto, uint8_t ttl, uint8_t tos);
/** Route and send; p is not consumed. */
enum kite_err kite__ipv4_output(struct kite_stack *stack, struct kite_pbuf *p, uint32_t src,
                                uint32_t dst, uint8_t proto, uint8_t ttl, uint8_t tos);

#endif
