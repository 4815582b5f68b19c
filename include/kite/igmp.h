/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IGMP (v3, RFC 3376, with the v1 and v2 compatibility modes of RFC 1112 and
 * RFC 2236) and multicast group membership per netif (docs/multicast.md).
 *
 * A membership is one owner's (a socket's, a raw-API user's) filter on one
 * group of one netif: IPMulticastListen of RFC 3376 3.1, an INCLUDE or
 * EXCLUDE mode and a source list. The netif's interface state for the group
 * merges every membership (RFC 3376 3.2); it decides which datagrams the
 * netif accepts, and each change of it is reported to the routers.
 */
#ifndef KITE_IGMP_H
#define KITE_IGMP_H

#include <stdbool.h>
#include <stdint.h>

#include "kite/err.h"
#include "kite/opts.h"
#include "kite/time.h"
#include "kite/timer.h"

struct kite_netif;
struct kite_stack;
struct kite_pbuf;

/* RFC 3376 3.1 filter modes (the values of MODE_IS_INCLUDE/EXCLUDE records). */
enum kite_igmp_mode { KITE_IGMP_INCLUDE = 1, KITE_IGMP_EXCLUDE = 2 };

/**
 * A driver's multicast MAC filter: add (or remove) mac from what the
 * hardware accepts. Called once per MAC: when the first group mapping to it
 * is joined on the netif and when the last one is left (several groups share
 * a MAC, RFC 1112 6.4), and for 01:00:5e:00:00:01 (224.0.0.1) when the hook
 * is installed. lwIP calls the same hook igmp_mac_filter.
 */
typedef void (*kite_igmp_mac_filter_fn)(struct kite_netif *netif, const uint8_t mac[6], bool add);

/* Per-netif IGMP state, embedded in struct kite_netif. */
struct kite_igmp_if {
    kite_time_ms v1_until; /* Older Version Querier Present timers (RFC 3376 7.2.1) */
    kite_time_ms v2_until;
    kite_time_ms gq_due; /* interface timer: pending General Query response, 0 none */
    uint16_t qqi_s;      /* Query Interval learned from the querier (RFC 3376 8.2) */
    uint8_t qrv;         /* Robustness Variable learned from the querier (RFC 3376 8.1) */
    kite_igmp_mac_filter_fn mac_filter;
};

/* A group one netif is a member of (pool IGMP_GROUP): its interface state
 * and what it still has to report. */
struct kite_igmp_group {
    struct kite_igmp_group *next;
    struct kite_netif *netif;
    uint32_t addr;
    kite_time_ms report_due; /* group timer: pending query response, 0 none */
    kite_time_ms change_due; /* next state-change report, 0 none */
    uint8_t mode;            /* interface filter mode (enum kite_igmp_mode) */
    uint8_t nsrc;            /* sources of the interface state */
    uint8_t mode_rtx;        /* filter-mode-change reports still to send */
    uint8_t flags;
    uint8_t nq;   /* sources of a pending group-and-source query response */
    uint8_t nchg; /* sources with state-change retransmissions pending */
    uint8_t chg_left[KITE_IGMP_MAX_SOURCES]; /* reports left; bit 7: BLOCK, else ALLOW */
    uint32_t src[KITE_IGMP_MAX_SOURCES];
    uint32_t qsrc[KITE_IGMP_MAX_SOURCES];
    uint32_t chg_src[KITE_IGMP_MAX_SOURCES];
};

/* One owner's filter on one group of one netif (pool IGMP_MEMBER). */
struct kite_igmp_member {
    struct kite_igmp_member *next;
    const void *owner;
    struct kite_netif *netif;
    uint32_t group;
    uint8_t mode; /* enum kite_igmp_mode */
    uint8_t nsrc;
    uint32_t src[KITE_IGMP_MAX_SOURCES];
};

/* A stack's IGMP state. */
struct kite_igmp {
    struct kite_igmp_group *groups;
    struct kite_igmp_member *members;
    struct kite_timer timer; /* armed at the earliest pending report, only then */
    /* Multicast datagrams looped back to local members, delivered as
     * received on their netif from a timer due at once (IP_MULTICAST_LOOP). */
    struct kite_timer loop_timer;
    struct kite_netif *loop_netif[KITE_IGMP_LOOP_QUEUE_LEN];
    struct kite_pbuf *loop_q[KITE_IGMP_LOOP_QUEUE_LEN];
    uint8_t loop_head, loop_count;
};

/**
 * RFC 3376 3.1 IPMulticastListen: set owner's filter on group (224.0.0.0/4,
 * not 224.0.0.1) of netif to mode with srcs (n of them, host order). INCLUDE
 * with no source ends the membership. KITE_ERR_VAL for a bad group or more
 * than KITE_IGMP_MAX_SOURCES sources, KITE_ERR_MEM when a pool is empty or
 * the merged interface state would need more sources than a group holds.
 */
enum kite_err kite_igmp_listen(struct kite_netif *netif, const void *owner, uint32_t group,
                               enum kite_igmp_mode mode, const uint32_t *srcs, unsigned n);
/**
 * The socket calls on top of it, with Linux's answers: join (any source,
 * EXCLUDE {}; KITE_ERR_INUSE when owner is already a member), leave
 * (KITE_ERR_NOTFOUND when it is not), join or leave one source of an
 * INCLUDE membership (IP_ADD/DROP_SOURCE_MEMBERSHIP), block or unblock one
 * source of an EXCLUDE one (IP_BLOCK/UNBLOCK_SOURCE). A source call on a
 * membership of the other mode with sources fails with KITE_ERR_VAL; an
 * empty one switches mode (as Linux: a join then a source join is INCLUDE).
 */
enum kite_err kite_igmp_join(struct kite_netif *netif, const void *owner, uint32_t group);
enum kite_err kite_igmp_leave(struct kite_netif *netif, const void *owner, uint32_t group);
enum kite_err kite_igmp_source(struct kite_netif *netif, const void *owner, uint32_t group,
                               uint32_t src, enum kite_igmp_mode mode, bool add);
/** Drop every membership of owner (a socket closing). */
void kite_igmp_leave_all(struct kite_stack *stack, const void *owner);
/** Owner's filter on group of netif: -1 when owner is no member, else 1 when it admits src, 0 not.
 */
int kite_igmp_owner_admits(struct kite_stack *stack, const void *owner,
                           const struct kite_netif *netif, uint32_t group, uint32_t src);
/** True when netif receives datagrams from src to group (224.0.0.1: always). */
bool kite_igmp_netif_admits(const struct kite_netif *netif, uint32_t group, uint32_t src);
/** Install the driver's MAC filter hook (NULL to remove); calls it for every MAC needed now. */
void kite_igmp_set_mac_filter(struct kite_netif *netif, kite_igmp_mac_filter_fn fn);
/** The compatibility mode netif is in now: 1, 2 or 3 (RFC 3376 7.2.1). */
unsigned kite_igmp_version(const struct kite_netif *netif);

#endif
