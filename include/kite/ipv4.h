/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 input/output and routing over several netifs with a default gateway. */
#ifndef KITE_IPV4_H
#define KITE_IPV4_H

#include <stdbool.h>
#include <stdint.h>

#include "kite/err.h"
#include "kite/opts.h"
#include "kite/time.h"
#include "kite/timer.h"

struct kite_stack;
struct kite_netif;
struct kite_pbuf;

/**
 * Pick the outgoing netif for dst: the loopback netif for 127/8 and for our
 * own addresses (NULL if no loopback netif was added), else, of the netifs
 * whose subnet holds dst, the one with the longest prefix, else the default
 * netif. NULL when nothing matches.
 */
struct kite_netif *kite_ipv4_route(struct kite_stack *stack, uint32_t dst);

/**
 * Source-based routing: when dst lies on no netif's subnet and src is the
 * address of an up netif with a gateway, that netif (to its gateway);
 * otherwise kite_ipv4_route(dst). What packets from a bound socket use.
 */
struct kite_netif *kite_ipv4_route_src(struct kite_stack *stack, uint32_t src, uint32_t dst);

/** True if ip is one of the stack's own addresses. */
bool kite_ipv4_is_local(struct kite_stack *stack, uint32_t ip);

/* Reassembly state (RFC 791 3.2; docs/ipv4.md). A datagram's fragments are
 * the received pbufs themselves, linked through their spent IP headers. */
struct kite_ip4_reass_dgram {
    struct kite_pbuf *frags; /* sorted by offset; NULL: slot free */
    kite_time_ms deadline;
    uint32_t src, dst;
    uint16_t id;
    uint16_t data_len; /* the datagram's data bytes, once its last fragment came */
    uint16_t pbufs;    /* pbufs its fragments hold */
    uint16_t count;    /* fragments held */
    uint8_t proto, tos, ttl;
    uint8_t flags; /* KITE_REASS_* (src/net/ip4_reass.c) */
};

struct kite_ip4_reass {
#if KITE_IP_REASSEMBLY
    struct kite_ip4_reass_dgram dgrams[KITE_IP_REASS_DATAGRAMS];
    struct kite_timer timer;
    uint16_t pbufs; /* held by every datagram together */
#else
    uint8_t unused;
#endif
};

/* One learned path MTU (RFC 1191). */
struct kite_pmtu_entry {
    uint32_t dst; /* 0: free */
    uint16_t mtu;
    kite_time_ms expires;
};

struct kite_pmtu {
#if KITE_PMTU
    struct kite_pmtu_entry entries[KITE_PMTU_ENTRIES];
    struct kite_timer timer;
    /* TCP, told when a destination's path MTU changes (registered at start-up). */
    void (*changed)(struct kite_stack *stack, uint32_t dst, uint16_t mtu);
#else
    uint8_t unused;
#endif
};

#if KITE_IP_FORWARD
/** Forward packets addressed to other hosts between netifs (RFC 1812), off
 *  after kite_stack_init. */
void kite_ipv4_set_forwarding(struct kite_stack *stack, bool on);
#endif

/** Datagrams whose fragments are waiting to be reassembled (0 without KITE_IP_REASSEMBLY). */
unsigned kite_ipv4_reass_pending(const struct kite_stack *stack);

/**
 * The MTU of the path to dst through netif: the netif's MTU, or less when
 * ICMP "fragmentation needed" taught a smaller one (KITE_PMTU).
 */
uint16_t kite_ipv4_path_mtu(struct kite_stack *stack, const struct kite_netif *netif, uint32_t dst);

#endif
