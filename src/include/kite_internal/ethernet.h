/* SPDX-License-Identifier: BSD-3-Clause */
/* Ethernet framing of IP packets and ARP on Ethernet netifs. */
#ifndef KITE_INTERNAL_ETHERNET_H
#define KITE_INTERNAL_ETHERNET_H

#include <stdint.h>

#include "kite/err.h"

struct kite_netif;
struct kite_pbuf;

void kite__ethernet_input(struct kite_netif *netif, struct kite_pbuf *p);
/** Prepend an Ethernet header and transmit; p not consumed, restored on return. */
enum kite_err kite__ethernet_output(struct kite_netif *netif, struct kite_pbuf *p,
                                    const uint8_t dst[6], uint16_t ethertype);

#endif
