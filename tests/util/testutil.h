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

/** Assert every pool of the stack is back to zero blocks in use. */
void kt_assert_pools_empty(const struct kite_stack *stack);

#endif
