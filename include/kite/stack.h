/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stack instance. It owns every pool (storage included), the timers, the
 * random generator, the statistics and every protocol's state; there is no
 * global state anywhere in kite. Allocate it statically or on the heap; its
 * fields are private to kite.
 */
#ifndef KITE_STACK_H
#define KITE_STACK_H

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

#include "kite/arp.h"
#include "kite/err.h"
#include "kite/icmp4.h"
#include "kite/igmp.h"
#include "kite/ipv4.h"
#include "kite/netif.h"
#include "kite/opts.h"
#include "kite/pbuf.h"
#include "kite/pool.h"
#include "kite/raw.h"
#include "kite/stats.h"
#include "kite/tcp_pcb.h"
#include "kite/time.h"
#include "kite/timer.h"
#include "kite/udp.h"

#define KITE_PBUF_STRUCT_SIZE KITE_POOL_ALIGN(sizeof(struct kite_pbuf))

// clang-format off
#if KITE_TCP
#define KITE_POOLS_TCP_(X)                                                                \
    X(TCP_PCB, "tcp_pcb", sizeof(struct kite_tcp_pcb), KITE_TCP_PCB_COUNT)                \
    X(TCP_LOSS, "tcp_loss", sizeof(struct kite_tcp_loss), KITE_TCP_LOSS_COUNT)         \
    X(TCP_LISTEN, "tcp_listen", sizeof(struct kite_tcp_listener), KITE_TCP_LISTEN_COUNT)
#else
#define KITE_POOLS_TCP_(X)
#endif
#if KITE_RAW
#define KITE_POOLS_RAW_(X) X(RAW_PCB, "raw_pcb", sizeof(struct kite_raw_pcb), KITE_RAW_PCB_COUNT)
#else
#define KITE_POOLS_RAW_(X)
#endif
#if KITE_IGMP
#define KITE_POOLS_IGMP_(X)                                                               \
    X(IGMP_GROUP, "igmp_group", sizeof(struct kite_igmp_group), KITE_IGMP_GROUP_COUNT)    \
    X(IGMP_MEMBER, "igmp_member", sizeof(struct kite_igmp_member), KITE_IGMP_MEMBER_COUNT)
#else
#define KITE_POOLS_IGMP_(X)
#endif
/* X(ID, name, block size, block count): every pool of a stack. */
#define KITE_POOLS(X)                                                                     \
    X(PBUF_POOL, "pbuf_pool", KITE_PBUF_STRUCT_SIZE + KITE_PBUF_POOL_BUFSIZE,             \
      KITE_PBUF_POOL_COUNT)                                                               \
    X(PBUF_RAM, "pbuf_ram", KITE_PBUF_STRUCT_SIZE + KITE_PBUF_RAM_BUFSIZE,                \
      KITE_PBUF_RAM_COUNT)                                                                \
    X(PBUF_REF, "pbuf_ref", sizeof(struct kite_pbuf), KITE_PBUF_REF_COUNT)                \
    X(UDP_PCB, "udp_pcb", sizeof(struct kite_udp_pcb), KITE_UDP_PCB_COUNT)                \
    KITE_POOLS_TCP_(X)                                                                    \
    KITE_POOLS_RAW_(X)                                                                    \
    KITE_POOLS_IGMP_(X)

// clang-format on
enum kite_pool_id {
#define KITE_POOL_ID_(id, name, size, count) KITE_POOL_##id,
    KITE_POOLS(KITE_POOL_ID_)
#undef KITE_POOL_ID_
        KITE_POOL__COUNT
};

struct kite_pool_storage {
#define KITE_POOL_MEM_(id, name, size, count)                                                      \
    alignas(2 * sizeof(void *)) uint8_t id[count][KITE_POOL_ALIGN(size)];
    KITE_POOLS(KITE_POOL_MEM_)
#undef KITE_POOL_MEM_
};

typedef void (*kite_l3_input_fn)(struct kite_netif *netif, struct kite_pbuf *p);
struct kite_ip_rx;
struct kite_arp_repr;
typedef void (*kite_proto_input_fn)(struct kite_stack *stack, struct kite_pbuf *p,
                                    const struct kite_ip_rx *rx);
/** An ICMP error arrived about a packet we sent; orig points at its IP header,
 *  info is the rest of the ICMP header (the next-hop MTU of "fragmentation
 *  needed" in its low 16 bits, RFC 1191 4). */
typedef void (*kite_proto_error_fn)(struct kite_stack *stack, uint8_t type, uint8_t code,
                                    uint32_t info, const uint8_t *orig, uint16_t orig_len);

/*
 * What happened to a netif. old is the IPv4 address the event takes away
 * (ADDR_CHANGED: the previous address, REMOVED: the current one), 0 for the
 * other events. Hooks run in registration order (lower layers register first),
 * except for REMOVED, which runs in reverse so the layers above let go of a
 * netif before the layers below forget it.
 */
enum kite_netif_event {
    KITE_NETIF_EV_ADDR_CHANGED, /* the IPv4 address changed */
    KITE_NETIF_EV_REMOVED,      /* the netif is going away */
    KITE_NETIF_EV_ADDED,        /* the netif was linked into the stack */
    KITE_NETIF_EV_UP,           /* admin and link are both up now */
    KITE_NETIF_EV_DOWN,         /* admin or link went down */
    /* Address conflict detection (kite/acd.h); old is the address concerned. */
    KITE_NETIF_EV_ADDR_CONFLICT, /* another host holds it: not taken, or given up */
    KITE_NETIF_EV_ADDR_BOUND,    /* probing found no conflict: the address is in use */
};
typedef void (*kite_netif_event_fn)(struct kite_stack *stack, struct kite_netif *netif,
                                    enum kite_netif_event event, uint32_t old);
/** The application's view of the same events (kite_stack_set_netif_callback). */
typedef void (*kite_netif_callback_fn)(void *ctx, struct kite_netif *netif,
                                       enum kite_netif_event event, uint32_t addr);

struct kite_stack_config {
    uint64_t seed;    /* random generator seed (ISNs, ports, IP ids) */
    kite_time_ms now; /* the time at start */
};

struct kite_stack {
    kite_time_ms now;
    struct kite_timer *timers; /* armed timers, sorted by deadline */
    uint64_t rand_state;

    struct kite_netif *netifs;
    struct kite_netif *default_netif;
    uint8_t next_netif_index;
    uint16_t ip_id;
#if KITE_IP_FORWARD
    bool ip_forwarding; /* kite_ipv4_set_forwarding */
#endif
#if KITE_TSO
    /* Segment size of the TCP super-segment being sent, 0 for any other
     * packet (kite_netif_tso_segment). */
    uint16_t tx_tso_segment;
#endif

    struct {
        uint16_t type;
        kite_l3_input_fn input;
    } ethertypes[KITE_MAX_ETHERTYPES];
    struct {
        uint8_t proto;
        kite_proto_input_fn input;
        kite_proto_error_fn error;
    } ip_protos[KITE_MAX_IP_PROTOS];

    struct kite_stats stats;
    struct kite_pool pools[KITE_POOL__COUNT];

    struct kite_arp arp;
    struct kite_ip4_reass reass;
    struct kite_pmtu pmtu;
    struct kite_icmp4 icmp4;
    struct kite_udp udp;
#if KITE_TCP
    struct kite_tcp tcp;
#endif
#if KITE_RAW
    struct kite_raw raw;
#endif
#if KITE_IGMP
    struct kite_igmp igmp;
#endif

    /* Told about netif changes (ARP, UDP and TCP register at start-up). */
    kite_netif_event_fn netif_events[KITE_MAX_NETIF_HOOKS];
    /* The application's netif callback, told after the hooks. */
    kite_netif_callback_fn netif_callback;
    void *netif_callback_ctx;
#if KITE_ACD
    /* Conflict detection, set by the first claim (so a program that never
     * claims an address links none of it): shown every well-formed ARP
     * packet, and ARP's netif events. */
    void (*acd_input)(struct kite_netif *netif, const struct kite_arp_repr *arp);
    void (*acd_event)(struct kite_netif *netif, enum kite_netif_event event);
#endif
    /* Asked to give pbufs back when a pool runs dry (TCP drops out-of-order
     * data, which RFC 2018 8 allows); returns blocks freed. */
    unsigned (*reclaim)(struct kite_stack *stack);
    bool reclaiming;
#if KITE_TCP_ACK_BURST
    /* Receive bursts (kite_stack_burst_begin/end): nesting depth, and what
     * TCP sends when the outermost one ends (the ACKs it held back). */
    uint8_t burst_depth;
    void (*burst_end)(struct kite_stack *stack);
#endif
    /* Shown every IP packet addressed to the stack before its protocol's
     * handler (raw pcbs take copies); true when a raw pcb took it. */
    bool (*raw_input)(struct kite_stack *stack, const struct kite_pbuf *p,
                      const struct kite_ip_rx *rx);
    /* The multicast reception filter, registered by IGMP (NULL: every group
     * accepted): does netif take datagrams of proto from src to group, and
     * frames to this multicast MAC (Ethernet asks before IPv4 sees them)? */
    bool (*mcast_admits)(const struct kite_netif *netif, uint32_t group, uint32_t src,
                         uint8_t proto);
    bool (*mcast_mac_admits)(const struct kite_netif *netif, const uint8_t mac[6]);
    /* Sends an ICMP error about the IP packet at p->payload (p not consumed):
     * registered by ICMP, used by IP (reassembly timeout, forwarding). */
    void (*icmp_error)(struct kite_stack *stack, struct kite_pbuf *p, uint8_t type, uint8_t code,
                       uint32_t info);
    /* Told about IP packets no protocol took (ICMP answers protocol unreachable). */
    void (*ip_unhandled)(struct kite_stack *stack, struct kite_pbuf *p,
                         const struct kite_ip_rx *rx);

    struct kite_pool_storage mem;
};

/** Initialise a stack (cfg may be NULL: seed 1, time 0). */
enum kite_err kite_stack_init(struct kite_stack *stack, const struct kite_stack_config *cfg);
/** Free everything still queued inside (ARP queues). Netifs must be removed first or are detached.
 */
void kite_stack_deinit(struct kite_stack *stack);

/**
 * A driver hands over frames it read together (one read burst) between these
 * two calls. TCP then sends the ACK that every second segment owes once, at
 * the end, for all of them (KITE_TCP_ACK_BURST; without it the calls do
 * nothing). Calls nest; a driver that never calls them loses nothing.
 */
void kite_stack_burst_begin(struct kite_stack *stack);
void kite_stack_burst_end(struct kite_stack *stack);

/**
 * Tell the application about netif events (address bound or in conflict,
 * up, down, address changed...), on the stack thread, after kite's own
 * layers have seen them. fn NULL removes it.
 */
void kite_stack_set_netif_callback(struct kite_stack *stack, kite_netif_callback_fn fn, void *ctx);

/** Advance the stack's clock to now and run every timer that is due. */
void kite_stack_poll(struct kite_stack *stack, kite_time_ms now);
/** The earliest armed timer, or KITE_TIME_NEVER when the stack is idle. */
kite_time_ms kite_stack_next_deadline(const struct kite_stack *stack);
static inline kite_time_ms kite_stack_now(const struct kite_stack *stack)
{
    return stack->now;
}

/** Next number of the stack's seeded generator (xoshiro-style, not cryptographic). */
uint32_t kite_random_u32(struct kite_stack *stack);

const struct kite_pool *kite_stack_pool(const struct kite_stack *stack, enum kite_pool_id id);
/** Sum of blocks in use over every pool (0 when the stack holds nothing). */
unsigned kite_stack_pools_in_use(const struct kite_stack *stack);
/** Bytes of RAM owned by the pools of one stack. */
static inline unsigned long kite_stack_pool_bytes(void)
{
    return (unsigned long)sizeof(struct kite_pool_storage);
}

#endif
