/* SPDX-License-Identifier: BSD-3-Clause */
/* Library-only half of kite/netif.h. */
#ifndef KITE_INTERNAL_NETIF_H
#define KITE_INTERNAL_NETIF_H

#include "kite/netif.h"

/** Send a finished frame (Ethernet netif) or packet (IP netif) through the driver, with capture. */
enum kite_err kite__netif_transmit(struct kite_netif *netif, struct kite_pbuf *p);

#endif
