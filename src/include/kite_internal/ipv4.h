/* SPDX-License-Identifier: BSD-3-Clause */
/* Library-only half of kite/ipv4.h: what IPv4 tells the transports, and output. */
#ifndef KITE_INTERNAL_IPV4_H
#define KITE_INTERNAL_IPV4_H

#include <stdbool.h>
#include <stdint.h>

#include "kite/ipv4.h"
#include "kite/stack.h"

/** What the IP layer tells a transport about a packet it delivers. */
struct kite_ip_rx {
    struct kite_netif *netif;
    uint32_t src;
    uint32_t dst;
    uint8_t proto;
    uint8_t ttl;
    uint8_t tos;
    uint8_t hlen;   /* IP header bytes in front of p->payload (for ICMP errors) */
    bool broadcast; /* dst was a broadcast address */
    bool multicast;
};

/** What a protocol asks of IPv4 for one outgoing datagram. */
struct kite_ip_tx {
    uint32_t src; /* 0: the outgoing netif's address */
    uint32_t dst;
    uint8_t proto;
    uint8_t ttl;
    uint8_t tos;
    bool dont_frag; /* DF (RFC 791): fail with KITE_ERR_BUF rather than fragment */
};

void kite__ipv4_init(struct kite_stack *stack);
/** Free what IPv4 holds (fragments under reassembly, path MTU timer). */
void kite__ipv4_deinit(struct kite_stack *stack);
/** Prepend a header to p and send it through netif, fragmenting when it
 *  exceeds the path MTU and DF is clear. p is not consumed. */
enum kite_err kite__ipv4_send(struct kite_netif *netif, struct kite_pbuf *p,
                              const struct kite_ip_tx *tx);
/** Where a packet to dst goes next through netif: dst on its link (and for
 *  broadcasts and multicasts), else the netif's gateway. */
uint32_t kite__ipv4_next_hop(const struct kite_netif *netif, uint32_t dst);
/** Route, then kite__ipv4_send. */
enum kite_err kite__ipv4_route_send(struct kite_stack *stack, struct kite_pbuf *p,
                                    const struct kite_ip_tx *tx);
/**
 * Prepend an IPv4 header to p and send it through netif (route first with
 * kite_ipv4_route). p is not consumed and is restored before return.
 * src 0 means the netif's address.
 */
enum kite_err kite__ipv4_output_if(struct kite_netif *netif, struct kite_pbuf *p, uint32_t src,
                                   uint32_t dst, uint8_t proto, uint8_t ttl, uint8_t tos);
/** Route and send; p is not consumed. */
enum kite_err kite__ipv4_output(struct kite_stack *stack, struct kite_pbuf *p, uint32_t src,
                                uint32_t dst, uint8_t proto, uint8_t ttl, uint8_t tos);

struct kite_ipv4_repr;

#if KITE_IP_FRAG
/** Send p (the datagram's data, no IP header) as fragments of at most mtu
 *  bytes; ip holds the header fields (id included). p is not consumed. */
enum kite_err kite__ipv4_fragment(struct kite_netif *netif, struct kite_pbuf *p,
                                  struct kite_ipv4_repr *ip, uint16_t mtu, uint32_t next_hop);
#else
static inline enum kite_err kite__ipv4_fragment(struct kite_netif *netif, struct kite_pbuf *p,
                                                struct kite_ipv4_repr *ip, uint16_t mtu,
                                                uint32_t next_hop)
{
    (void)netif, (void)p, (void)ip, (void)mtu, (void)next_hop;
    return KITE_ERR_BUF;
}
#endif

#if KITE_IP_REASSEMBLY
void kite__ip4_reass_init(struct kite_stack *stack);
void kite__ip4_reass_flush(struct kite_stack *stack);
/** Take a fragment addressed to this host (p at its IP header, parsed into
 *  ip; consumed). Returns the whole datagram, header in front and ip
 *  rewritten for it, when this fragment completed it, else NULL. */
struct kite_pbuf *kite__ip4_reass_input(struct kite_stack *stack, struct kite_pbuf *p,
                                        struct kite_ipv4_repr *ip);
#else
static inline void kite__ip4_reass_init(struct kite_stack *stack)
{
    (void)stack;
}
static inline void kite__ip4_reass_flush(struct kite_stack *stack)
{
    (void)stack;
}
struct kite_pbuf *kite__ip4_drop_fragment(struct kite_stack *stack, struct kite_pbuf *p);
static inline struct kite_pbuf *kite__ip4_reass_input(struct kite_stack *stack, struct kite_pbuf *p,
                                                      struct kite_ipv4_repr *ip)
{
    (void)ip;
    return kite__ip4_drop_fragment(stack, p);
}
#endif

#if KITE_IP_FORWARD
/** Forward a packet addressed to another host (p at its IP header, parsed
 *  into ip; consumed). */
void kite__ipv4_forward(struct kite_netif *in, struct kite_pbuf *p, struct kite_ipv4_repr *ip);
static inline bool kite__ipv4_forwarding(const struct kite_stack *stack)
{
    return stack->ip_forwarding;
}
#else
static inline void kite__ipv4_forward(struct kite_netif *in, struct kite_pbuf *p,
                                      struct kite_ipv4_repr *ip)
{
    (void)in, (void)p, (void)ip;
}
static inline bool kite__ipv4_forwarding(const struct kite_stack *stack)
{
    (void)stack;
    return false;
}
#endif

#if KITE_PMTU
void kite__pmtu_init(struct kite_stack *stack);
void kite__pmtu_flush(struct kite_stack *stack);
/** The path MTU learned for dst, 0 when none. */
uint16_t kite__pmtu_lookup(struct kite_stack *stack, uint32_t dst);
/** An ICMP "fragmentation needed" that the quoted packet's protocol found
 *  genuine: the path to dst carries mtu bytes (0: a router older than RFC
 *  1191, guessed from too_big, the quoted packet's length). Returns the new
 *  path MTU, or 0 when the report lowers nothing or is implausible. */
uint16_t kite__pmtu_update(struct kite_stack *stack, uint32_t dst, uint16_t mtu, uint16_t too_big);
/** The protocol told whenever a destination's path MTU changes (TCP). */
void kite__pmtu_set_listener(struct kite_stack *stack,
                             void (*changed)(struct kite_stack *stack, uint32_t dst, uint16_t mtu));
#else
static inline void kite__pmtu_init(struct kite_stack *stack)
{
    (void)stack;
}
static inline void kite__pmtu_flush(struct kite_stack *stack)
{
    (void)stack;
}
static inline uint16_t kite__pmtu_lookup(struct kite_stack *stack, uint32_t dst)
{
    (void)stack, (void)dst;
    return 0;
}
static inline uint16_t kite__pmtu_update(struct kite_stack *stack, uint32_t dst, uint16_t mtu,
                                         uint16_t too_big)
{
    (void)stack, (void)dst, (void)mtu, (void)too_big;
    return 0;
}
static inline void kite__pmtu_set_listener(struct kite_stack *stack,
                                           void (*changed)(struct kite_stack *stack, uint32_t dst,
                                                           uint16_t mtu))
{
    (void)stack, (void)changed;
}
#endif

#endif
