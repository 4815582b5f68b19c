/* SPDX-License-Identifier: BSD-3-Clause */
/* UDP (RFC 768) with a raw callback API. */
#ifndef KITE_UDP_H
#define KITE_UDP_H

#include <stdbool.h>
#include <stdint.h>

#include "kite/addr.h"
#include "kite/err.h"

struct kite_stack;
struct kite_pbuf;
struct kite_netif;
struct kite_udp_pcb;

/**
 * Receive callback. p holds the UDP payload and is owned by the callback,
 * which must free it with kite_pbuf_free(). src/src_port name the sender,
 * dst the address the datagram was sent to (unicast, broadcast or multicast).
 */
typedef void (*kite_udp_recv_fn)(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                                 const struct kite_addr *src, uint16_t src_port,
                                 const struct kite_addr *dst);

/**
 * An ICMP error came back for a datagram this pcb sent to its connected peer:
 * KITE_ERR_REFUSED for port unreachable (RFC 1122 4.1.3.3), KITE_ERR_ROUTE or
 * KITE_ERR_UNREACHABLE for the other hard errors. As Linux without IP_RECVERR,
 * only connected pcbs hear of errors, and only of those Linux calls hard.
 */
typedef void (*kite_udp_err_fn)(void *arg, struct kite_udp_pcb *pcb, enum kite_err err);

/**
 * A pcb's callbacks (kite_udp_set_ops), shared by every pcb of one kind: keep
 * the table in constant memory (it is not copied). Either entry may be NULL.
 */
struct kite_udp_ops {
    kite_udp_recv_fn recv;
    kite_udp_err_fn err;
};

#define KITE_UDP_FLAG_CONNECTED 0x01u
#define KITE_UDP_FLAG_BROADCAST 0x02u     /* may send to broadcast addresses (SO_BROADCAST) */
#define KITE_UDP_FLAG_NO_CHECKSUM 0x04u   /* send with checksum 0 (RFC 768 allows it on IPv4) */
#define KITE_UDP_FLAG_REUSEADDR 0x08u     /* shares its port with other REUSEADDR pcbs */
#define KITE_UDP_FLAG_OPS 0x10u           /* the callback is an ops table (kite_udp_set_ops) */
#define KITE_UDP_FLAG_NO_MCAST_LOOP 0x20u /* no loop to local members (IP_MULTICAST_LOOP 0) */
#define KITE_UDP_FLAG_NO_MCAST_ALL 0x40u  /* only groups this pcb joined (IP_MULTICAST_ALL 0) */

struct kite_udp_pcb {
    struct kite_udp_pcb *next;
    struct kite_stack *stack;
    struct kite_addr local_ip;  /* any = all local addresses */
    struct kite_addr remote_ip; /* valid when CONNECTED */
    uint16_t local_port;        /* 0 = not bound */
    uint16_t remote_port;
    uint8_t flags;
    uint8_t ttl;
    uint8_t mcast_ttl; /* TTL of datagrams to multicast groups (default 1) */
    uint8_t tos;
    uint8_t mcast_ifindex;    /* netif index multicast goes out of (IP_MULTICAST_IF), 0: routed */
    struct kite_netif *netif; /* bound to one netif, or NULL */
    /* One callback or the other: an error callback costs a pcb no RAM. */
    union {
        kite_udp_recv_fn recv;          /* kite_udp_recv */
        const struct kite_udp_ops *ops; /* kite_udp_set_ops (KITE_UDP_FLAG_OPS set) */
    };
    void *recv_arg; /* the argument of either */
};

struct kite_udp {
    struct kite_udp_pcb *pcbs; /* bound pcbs */
    uint16_t next_ephemeral;
};

/** A new pcb from the stack's pool, or NULL when the pool is exhausted. */
struct kite_udp_pcb *kite_udp_new(struct kite_stack *stack);
/** Unbind and return the pcb to its pool. */
void kite_udp_remove(struct kite_udp_pcb *pcb);

/** Bind to a local address (NULL or any = all) and port (0 = ephemeral). */
enum kite_err kite_udp_bind(struct kite_udp_pcb *pcb, const struct kite_addr *ip, uint16_t port);
/** Only accept datagrams from, and send by default to, ip:port. Binds if needed. */
enum kite_err kite_udp_connect(struct kite_udp_pcb *pcb, const struct kite_addr *ip, uint16_t port);
void kite_udp_disconnect(struct kite_udp_pcb *pcb);
/** Restrict the pcb to one netif (NULL for any). */
void kite_udp_bind_netif(struct kite_udp_pcb *pcb, struct kite_netif *netif);

/** Hand received datagrams to fn(arg, ...) (replaces an ops table). */
void kite_udp_recv(struct kite_udp_pcb *pcb, kite_udp_recv_fn fn, void *arg);
/** Hand datagrams to ops->recv and ICMP errors to ops->err, with arg (NULL ops: none). */
void kite_udp_set_ops(struct kite_udp_pcb *pcb, const struct kite_udp_ops *ops, void *arg);
/** Set or clear flags; CONNECTED and OPS are left to their own calls. */
void kite_udp_set_flags(struct kite_udp_pcb *pcb, uint8_t flags, bool on);

/**
 * Join the multicast group on netif (NULL: the netif the group routes to),
 * any source (RFC 3376 3.1 EXCLUDE {}), as IP_ADD_MEMBERSHIP: the netif then
 * accepts the group and reports it to the routers (IGMP). KITE_ERR_INUSE
 * when already joined there, KITE_ERR_VAL for a non-multicast group,
 * KITE_ERR_ROUTE with no netif, KITE_ERR_MEM when the membership pools are
 * full. Leave: KITE_ERR_NOTFOUND when not joined. kite_udp_remove leaves
 * every group. Source filters: kite_igmp_source with the pcb as owner.
 * Without KITE_IGMP both fail with KITE_ERR_VAL.
 */
enum kite_err kite_udp_join(struct kite_udp_pcb *pcb, const struct kite_addr *group,
                            struct kite_netif *netif);
enum kite_err kite_udp_leave(struct kite_udp_pcb *pcb, const struct kite_addr *group,
                             struct kite_netif *netif);
/** Send multicast out of netif (NULL: where the group routes), as IP_MULTICAST_IF. */
void kite_udp_set_multicast_netif(struct kite_udp_pcb *pcb, struct kite_netif *netif);

/**
 * Send p (the payload; the caller keeps ownership and frees it) to the
 * connected peer, or to dst:port. Headers are prepended in p's header room
 * when there is some, otherwise in a separate header pbuf.
 */
enum kite_err kite_udp_send(struct kite_udp_pcb *pcb, struct kite_pbuf *p);
enum kite_err kite_udp_sendto(struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                              const struct kite_addr *dst, uint16_t port);

#endif
