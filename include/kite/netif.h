/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Network interfaces. A netif is either an Ethernet link (the driver sends and
 * receives whole frames) or an IP-level link (the driver sends and receives
 * bare IP packets: TUN devices, test harnesses, loopback). The memory of a
 * netif belongs to the caller (usually embedded in the driver's state); the
 * stack links it into its list while it is added.
 */
#ifndef KITE_NETIF_H
#define KITE_NETIF_H

#include <stdbool.h>
#include <stdint.h>

#include "kite/acd.h"
#include "kite/addr.h"
#include "kite/autoip.h"
#include "kite/err.h"
#include "kite/igmp.h"
#include "kite/opts.h"
#include "kite/timer.h"

struct kite_stack;
struct kite_pbuf;
struct kite_netif;

#define KITE_NETIF_FLAG_UP 0x01u       /* administratively up */
#define KITE_NETIF_FLAG_LINK_UP 0x02u  /* carrier present */
#define KITE_NETIF_FLAG_ETHERNET 0x04u /* frames carry an Ethernet header, ARP used */
#define KITE_NETIF_FLAG_LOOPBACK 0x08u /* packets come straight back */

#define KITE_NETIF_NAME_LEN 8
#define KITE_ETH_ADDR_LEN 6

/**
 * Driver transmit: send one frame (Ethernet netif) or one IP packet (IP
 * netif). The caller keeps ownership of p and restores its headers on
 * return, so a driver that queues the packet must copy it (kite_pbuf_clone or
 * kite_pbuf_copy_out); taking a reference is not enough.
 */
typedef enum kite_err (*kite_netif_output_fn)(struct kite_netif *netif, struct kite_pbuf *p);

enum kite_capture_dir { KITE_CAPTURE_IN = 0, KITE_CAPTURE_OUT = 1 };

/** A tap on everything a netif sends and receives (pcap writer, tests). */
typedef void (*kite_capture_fn)(void *ctx, const struct kite_netif *netif,
                                const struct kite_pbuf *p, enum kite_capture_dir dir);

struct kite_netif_counters {
    uint32_t rx_packets, tx_packets, rx_bytes, tx_bytes, tx_errors;
};

struct kite_netif {
    struct kite_netif *next;
    struct kite_stack *stack;
    char name[KITE_NETIF_NAME_LEN];
    uint8_t index; /* 1-based, unique within the stack */
    uint8_t flags;
    uint16_t mtu; /* largest IP packet */
    uint8_t hwaddr[KITE_ETH_ADDR_LEN];
    /* Largest IP packet the driver cuts into MTU-sized TCP segments itself
     * (TCP segmentation offload), 0 when it does not. Set by the driver after
     * adding the netif; used when the stack is built with KITE_TSO. */
    uint16_t tso_max;

    /* IPv4 configuration (0.0.0.0 when unset). */
    struct kite_addr ip4;
    struct kite_addr ip4_mask;
    struct kite_addr ip4_gw;

    kite_netif_output_fn output; /* driver transmit */
    void *driver;                /* driver state */
    /* Called by kite_netif_remove (and so kite_stack_deinit) so the driver can
     * cancel its timers and free what it queued. May be NULL. */
    void (*driver_remove)(struct kite_netif *netif);

    kite_capture_fn capture;
    void *capture_ctx;

    struct kite_netif_counters counters;

    /* ARP's per-netif state (the netif's memory is the caller's, so it lives
     * here): gratuitous announcements still to send (RFC 5227 2.3). */
    struct kite_timer garp_timer;
    uint8_t garp_left;
#if KITE_ACD
    struct kite_acd acd; /* address conflict detection (RFC 5227) */
#endif
#if KITE_AUTOIP
    struct kite_autoip autoip; /* link-local address (RFC 3927) */
#endif
#if KITE_IGMP
    /* IGMP's per-netif state: querier versions, the General Query response
     * timer and the driver's multicast MAC filter (kite/igmp.h). */
    struct kite_igmp_if igmp;
#endif
};

/** Add an Ethernet netif. mac is its hardware address, mtu its IP MTU (1500). */
enum kite_err kite_netif_add_ethernet(struct kite_stack *stack, struct kite_netif *netif,
                                      const char *name, const uint8_t mac[KITE_ETH_ADDR_LEN],
                                      uint16_t mtu, kite_netif_output_fn output, void *driver);

/** Add an IP-level netif: output receives bare IP packets, input takes them. */
enum kite_err kite_netif_add_ip(struct kite_stack *stack, struct kite_netif *netif,
                                const char *name, uint16_t mtu, kite_netif_output_fn output,
                                void *driver);

/** Remove a netif: its ARP entries and queued packets are dropped. */
void kite_netif_remove(struct kite_netif *netif);

/** Bring the netif up (admin and link) or down. */
void kite_netif_set_up(struct kite_netif *netif, bool up);
void kite_netif_set_link_up(struct kite_netif *netif, bool up);
static inline bool kite_netif_is_up(const struct kite_netif *netif)
{
    return (netif->flags & (KITE_NETIF_FLAG_UP | KITE_NETIF_FLAG_LINK_UP)) ==
           (KITE_NETIF_FLAG_UP | KITE_NETIF_FLAG_LINK_UP);
}

/**
 * Set the IPv4 address, prefix length and gateway (0 for none). On an Ethernet
 * netif that is up, gratuitous ARP announcements follow.
 */
enum kite_err kite_netif_set_ipv4(struct kite_netif *netif, uint32_t addr, unsigned prefix,
                                  uint32_t gw);

/** Route packets with no better match through this netif (NULL to clear). */
void kite_netif_set_default(struct kite_stack *stack, struct kite_netif *netif);

/** Install a capture tap (NULL to remove). */
void kite_netif_set_capture(struct kite_netif *netif, kite_capture_fn fn, void *ctx);

/**
 * Hand a received frame (Ethernet netif) or IP packet (IP netif) to the stack.
 * Always consumes p. Uses the time of the last kite_stack_poll().
 */
void kite_netif_input(struct kite_netif *netif, struct kite_pbuf *p);

/** True if ip is a broadcast address on netif: limited, or its subnet's directed one. */
bool kite_netif_is_broadcast4(const struct kite_netif *netif, uint32_t ip);

/**
 * In a driver's output function: the payload size of the TCP segments the
 * driver must cut p into (TCP segmentation offload, KITE_TSO), or 0 for an
 * ordinary frame. Non-zero only for the IPv4 TCP super-segment TCP is sending
 * (up to netif->tso_max bytes; more than one segment, which may still fit the
 * MTU when the peer's MSS is small), never for another frame sent meanwhile
 * (an ARP refresh). Its TCP checksum field holds the pseudo-header sum over
 * the whole packet, as virtio-net's NEEDS_CSUM and Linux GSO expect: each
 * segment's checksum is completed where it is cut.
 */
uint16_t kite_netif_tso_segment(const struct kite_netif *netif, const struct kite_pbuf *p);

/** Find a netif by name, or NULL. */
struct kite_netif *kite_netif_find(struct kite_stack *stack, const char *name);

#endif
