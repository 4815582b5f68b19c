/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared helpers for unit and simulation tests. */
#ifndef KITE_TESTUTIL_H
#define KITE_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "kite/kite.h"
#include "kite/wire/arp.h"
#include "kite/wire/ethernet.h"

/* An IP-level or Ethernet netif whose driver records every packet sent. */
#define KT_CAPTURE_MAX 64
#define KT_CAPTURE_BYTES 2048

struct kt_packet {
    uint16_t len;
    uint8_t data[KT_CAPTURE_BYTES];
};

struct kt_capture_if {
    struct kite_netif netif;
    struct kt_packet sent[KT_CAPTURE_MAX];
    unsigned count;
    unsigned overflow;
    enum kite_err fail_with; /* make the driver return this (OK by default) */
};

/** Add an Ethernet netif with MAC 02:00:00:00:00:<id> whose sends are recorded. */
void kt_capture_add_ethernet(struct kite_stack *stack, struct kt_capture_if *cif, uint8_t id);
/** Add an IP-level netif whose sends are recorded. */
void kt_capture_add_ip(struct kite_stack *stack, struct kt_capture_if *cif, const char *name);
/** Forget recorded packets. */
void kt_capture_clear(struct kt_capture_if *cif);

/** Inject a frame/packet built from bytes into netif (copied into a POOL pbuf). */
void kt_inject(struct kite_stack *stack, struct kite_netif *netif, const uint8_t *data,
               uint16_t len);

/** Write an IPv4 header (TTL 64, id 7) and payload into buf; returns the length. */
uint16_t kt_build_ip(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto,
                     const uint8_t *payload, uint16_t len);
/** An IPv4/UDP datagram; with cksum the UDP checksum is set, else left 0. */
uint16_t kt_build_udp(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                      const void *data, uint16_t len, bool cksum);
/** An IPv4/ICMP echo request (id 0x1234, seq 9) with len bytes 0, 1, 2, ... */
uint16_t kt_build_echo(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t len);

/** Inject, from router to dst, an ICMP "fragmentation needed" (RFC 1191 4)
 *  with next-hop MTU mtu quoting the first 28 bytes of packet q. */
void kt_inject_frag_needed(struct kite_stack *stack, struct kite_netif *netif, uint32_t router,
                           uint32_t dst, const struct kt_packet *q, uint16_t mtu);

/** Inject an ARP packet (RFC 826) from sha/spa about tpa, to eth_dst. */
void kt_inject_arp(struct kite_stack *stack, struct kite_netif *netif, uint16_t op,
                   const uint8_t sha[6], uint32_t spa, uint32_t tpa, const uint8_t eth_dst[6]);
/** Parse a captured frame that must be ARP. */
void kt_parse_sent_arp(const struct kt_packet *pkt, struct kite_eth_repr *eth,
                       struct kite_arp_repr *arp);
/** Poll the stack at every deadline up to until, then at until. */
void kt_run_until(struct kite_stack *stack, kite_time_ms until);

/** Assert every pool of the stack is back to zero blocks in use. */
void kt_assert_pools_empty(const struct kite_stack *stack);
/** A test's end over one capture netif: remove it (which drops what still
 *  waits for ARP), check every pool is back at zero, then deinit the stack. */
void kt_end_capture_stack(struct kite_stack *stack, struct kt_capture_if *cif);

#endif
