/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every kite compile-time option, with its default and a one-line doc.
 *
 * Override any of them from a user kite_config.h (define KITE_HAVE_CONFIG_H and
 * put it on the include path) or with -D on the compiler command line. Options
 * are plain integers; 0 disables a feature.
 */
#ifndef KITE_OPTS_H
#define KITE_OPTS_H

#ifdef KITE_HAVE_CONFIG_H
#include "kite_config.h"
#endif

/* ---- Protocols -------------------------------------------------------- */

/** Build IPv4 (and ARP, ICMPv4). */
#ifndef KITE_IPV4
#define KITE_IPV4 1
#endif

/** Build IPv6. Not yet implemented: when 0, addresses are 4 bytes. */
#ifndef KITE_IPV6
#define KITE_IPV6 0
#endif

/** Build UDP and its raw callback API. */
#ifndef KITE_UDP
#define KITE_UDP 1
#endif

/* ---- Memory pools (all sizes fixed at compile time) ------------------- */

/** Number of PBUF_POOL blocks (received frames, chained for big packets). */
#ifndef KITE_PBUF_POOL_COUNT
#define KITE_PBUF_POOL_COUNT 32
#endif

/** Payload bytes in one PBUF_POOL block (a frame larger than this is chained). */
#ifndef KITE_PBUF_POOL_BUFSIZE
#define KITE_PBUF_POOL_BUFSIZE 592
#endif

/** Number of PBUF_RAM blocks (contiguous buffers built by the stack). */
#ifndef KITE_PBUF_RAM_COUNT
#define KITE_PBUF_RAM_COUNT 12
#endif

/** Largest PBUF_RAM allocation in bytes, headers included (>= link MTU + 18). */
#ifndef KITE_PBUF_RAM_BUFSIZE
#define KITE_PBUF_RAM_BUFSIZE 1536
#endif

/** Number of PBUF_REF/PBUF_ROM headers (payload lives in caller memory). */
#ifndef KITE_PBUF_REF_COUNT
#define KITE_PBUF_REF_COUNT 16
#endif

/** Number of UDP protocol control blocks. */
#ifndef KITE_UDP_PCB_COUNT
#define KITE_UDP_PCB_COUNT 8
#endif

/* ---- Link layer ------------------------------------------------------- */

/** Entries in the ARP cache. */
#ifndef KITE_ARP_TABLE_SIZE
#define KITE_ARP_TABLE_SIZE 10
#endif

/** Packets queued per unresolved ARP entry; the oldest is dropped beyond this. */
#ifndef KITE_ARP_QUEUE_LEN
#define KITE_ARP_QUEUE_LEN 3
#endif

/** Lifetime of a dynamic ARP entry in milliseconds (RFC 1122 2.3.2.1 aging). */
#ifndef KITE_ARP_MAX_AGE_MS
#define KITE_ARP_MAX_AGE_MS 300000u
#endif

/** Time before expiry at which a used entry is refreshed with a unicast request. */
#ifndef KITE_ARP_REFRESH_MS
#define KITE_ARP_REFRESH_MS 15000u
#endif

/** Interval between ARP request retries in milliseconds. */
#ifndef KITE_ARP_RETRY_MS
#define KITE_ARP_RETRY_MS 1000u
#endif

/** ARP requests sent for one address before queued packets are dropped. */
#ifndef KITE_ARP_MAX_TRIES
#define KITE_ARP_MAX_TRIES 4
#endif

/** Gratuitous ARP announcements sent when an address is set (RFC 5227 2.3). */
#ifndef KITE_ARP_GRATUITOUS_COUNT
#define KITE_ARP_GRATUITOUS_COUNT 2
#endif

/** Interval between gratuitous ARP announcements in milliseconds. */
#ifndef KITE_ARP_GRATUITOUS_INTERVAL_MS
#define KITE_ARP_GRATUITOUS_INTERVAL_MS 2000u
#endif

/* ---- IPv4 / ICMPv4 ---------------------------------------------------- */

/** Default TTL of outgoing IPv4 packets (RFC 1700 recommends 64). */
#ifndef KITE_IPV4_DEFAULT_TTL
#define KITE_IPV4_DEFAULT_TTL 64
#endif

/** ICMP errors (e.g. port unreachable) allowed per second, token bucket rate. */
#ifndef KITE_ICMP4_ERROR_RATE
#define KITE_ICMP4_ERROR_RATE 10
#endif

/** ICMP error burst size (token bucket depth). */
#ifndef KITE_ICMP4_ERROR_BURST
#define KITE_ICMP4_ERROR_BURST 10
#endif

/* ---- UDP -------------------------------------------------------------- */

/** First port of the ephemeral range (RFC 6335 8.1.2). */
#ifndef KITE_EPHEMERAL_PORT_MIN
#define KITE_EPHEMERAL_PORT_MIN 49152u
#endif

/** Last port of the ephemeral range. */
#ifndef KITE_EPHEMERAL_PORT_MAX
#define KITE_EPHEMERAL_PORT_MAX 65535u
#endif

/* ---- Interfaces and dispatch ---------------------------------------- */

/** Packets waiting in the loopback netif to come back in. */
#ifndef KITE_LOOPIF_QUEUE_LEN
#define KITE_LOOPIF_QUEUE_LEN 8
#endif

/** Ethertype handlers a stack can register (ARP, IPv4, IPv6, ...). */
#ifndef KITE_MAX_ETHERTYPES
#define KITE_MAX_ETHERTYPES 4
#endif

/** IP protocol handlers a stack can register (ICMP, UDP, TCP, IGMP, ...). */
#ifndef KITE_MAX_IP_PROTOS
#define KITE_MAX_IP_PROTOS 6
#endif

/* ---- Debug / checks --------------------------------------------------- */

/** Check internal invariants (pbuf chains, pool membership) at run time. */
#ifndef KITE_CHECKS
#define KITE_CHECKS 1
#endif

#endif /* KITE_OPTS_H */
