/* SPDX-License-Identifier: BSD-3-Clause */
/* A pcap file writer that taps one netif (host port; uses stdio). */
#ifndef KITE_PORT_PCAP_H
#define KITE_PORT_PCAP_H

#include <stdint.h>

#include "kite/err.h"

struct kite_netif;
struct kite_pcap;

/**
 * Open path for writing and tap netif: every frame it sends or receives is
 * written, timestamped with the stack's clock (virtual time in simulations).
 * Link type is Ethernet (1) for Ethernet netifs, raw IP (101) otherwise.
 * Returns NULL on error (errno set).
 */
struct kite_pcap *kite_pcap_open(const char *path, struct kite_netif *netif);
/** Detach from the netif, flush and close. */
void kite_pcap_close(struct kite_pcap *pcap);
/** Frames written so far. */
uint32_t kite_pcap_count(const struct kite_pcap *pcap);

#endif
