/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP (RFC 826): a cache with aging (RFC 1122 2.3.2.1), request retries, a
 * bounded queue of packets waiting for resolution (RFC 1122 2.3.2.2), static
 * entries and gratuitous announcements (RFC 5227 2.3).
 */
#include "kite/arp.h"

#include <string.h>

#include "kite/autoip.h"
#include "kite/stack.h"
#include "kite/wire/arp.h"
#include "kite/wire/ethernet.h"

#include "kite_internal/acd.h" /* kite__arp_send */
#include "kite_internal/arp.h"
#include "kite_internal/ethernet.h"
#include "kite_internal/netif.h"
#include "kite_internal/stack.h"

static const uint8_t broadcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t zero_mac[6] = {0, 0, 0, 0, 0, 0};

static void arp_timer_fired(struct kite_stack *stack, struct kite_timer *timer);
static void netif_event(struct kite_stack *stack, struct kite_netif *netif,
                        enum kite_netif_event event, uint32_t old);

void kite__arp_init(struct kite_stack *stack)
{
    memset(&stack->arp, 0, sizeof stack->arp);
    kite_timer_init(&stack->arp.timer, arp_timer_fired);
    (void)kite__stack_register_ethertype(stack, KITE_ETHERTYPE_ARP, kite__arp_input);
    (void)kite__stack_register_netif_hook(stack, netif_event);
}

/* Keep the timer armed exactly while some entry can change state by itself. */
static void reschedule(struct kite_stack *stack)
{
    kite_time_ms next = KITE_TIME_NEVER;
    for (int i = 0; i < KITE_ARP_TABLE_SIZE; i++) {
        const struct kite_arp_entry *e = &stack->arp.entries[i];
        if ((e->state == KITE_ARP_PENDING || e->state == KITE_ARP_STABLE) && e->expires < next)
            next = e->expires;
    }
    if (next == KITE_TIME_NEVER)
        kite_timer_cancel(stack, &stack->arp.timer);
    else if (!kite_timer_armed(&stack->arp.timer) || stack->arp.timer.deadline != next)
        kite_timer_arm(stack, &stack->arp.timer, next);
}

static void drop_queue(struct kite_stack *stack, struct kite_arp_entry *e)
{
    for (uint8_t i = 0; i < e->qlen; i++) {
        kite_pbuf_free(stack, e->queue[i]);
        e->queue[i] = NULL;
    }
    e->qlen = 0;
}

static void free_entry(struct kite_stack *stack, struct kite_arp_entry *e)
{
    stack->stats.arp.drop_unresolved += e->qlen;
    drop_queue(stack, e);
    memset(e, 0, sizeof *e);
}

static struct kite_arp_entry *find_entry(struct kite_stack *stack, uint32_t ip,
                                         const struct kite_netif *netif)
{
    for (int i = 0; i < KITE_ARP_TABLE_SIZE; i++) {
        struct kite_arp_entry *e = &stack->arp.entries[i];
        if (e->state != KITE_ARP_FREE && e->ip == ip && (netif == NULL || e->netif == netif))
            return e;
    }
    return NULL;
}

/* A free slot, else the stable entry closest to expiry, else the oldest pending one. */
static struct kite_arp_entry *new_entry(struct kite_stack *stack)
{
    struct kite_arp_entry *victim = NULL;
    for (int i = 0; i < KITE_ARP_TABLE_SIZE; i++) {
        struct kite_arp_entry *e = &stack->arp.entries[i];
        if (e->state == KITE_ARP_FREE)
            return e;
        if (e->state == KITE_ARP_STATIC)
            continue;
        bool better =
            victim == NULL || (e->state == KITE_ARP_STABLE &&
                               (victim->state != KITE_ARP_STABLE || e->expires < victim->expires));
        if (better)
            victim = e;
    }
    if (victim != NULL) {
        stack->stats.arp.cache_evictions++;
        free_entry(stack, victim);
    }
    return victim;
}

static enum kite_err send_arp_from(struct kite_netif *netif, uint16_t op, const uint8_t eth_dst[6],
                                   const uint8_t tha[6], uint32_t spa, uint32_t tpa)
{
    struct kite_stack *stack = netif->stack;
    struct kite_pbuf *p = kite_pbuf_alloc(stack, KITE_LAYER_LINK, KITE_ARP_LEN, KITE_PBUF_RAM);
    if (p == NULL) {
        stack->stats.arp.drop_no_mem++;
        return KITE_ERR_MEM;
    }
    struct kite_arp_repr arp = {.op = op, .spa = spa, .tpa = tpa};
    memcpy(arp.sha, netif->hwaddr, 6);
    memcpy(arp.tha, tha, 6);
    (void)kite_arp_emit(&arp, p->payload, p->len);
    enum kite_err err = kite__ethernet_output(netif, p, eth_dst, KITE_ETHERTYPE_ARP);
    kite_pbuf_free(stack, p);
    if (err == KITE_ERR_OK)
        stack->stats.arp.tx++;
    return err;
}

static enum kite_err send_arp(struct kite_netif *netif, uint16_t op, const uint8_t eth_dst[6],
                              const uint8_t tha[6], uint32_t tpa)
{
    /* RFC 3927 2.5: while the sender address is link-local, every ARP packet
     * goes to the link broadcast address, so conflicts show up everywhere. */
    if (kite_ip4_is_link_local(netif->ip4.u.v4))
        eth_dst = broadcast_mac;
    return send_arp_from(netif, op, eth_dst, tha, netif->ip4.u.v4, tpa);
}

enum kite_err kite__arp_send(struct kite_netif *netif, uint16_t op, const uint8_t eth_dst[6],
                             uint32_t spa, uint32_t tpa)
{
    return send_arp_from(netif, op, eth_dst, zero_mac, spa, tpa);
}

enum kite_err kite_arp_request(struct kite_netif *netif, uint32_t ip)
{
    if ((netif->flags & KITE_NETIF_FLAG_ETHERNET) == 0)
        return KITE_ERR_ARG;
    netif->stack->stats.arp.requests_sent++;
    return send_arp(netif, KITE_ARP_OP_REQUEST, broadcast_mac, zero_mac, ip);
}

/* ---- Gratuitous announcements (RFC 5227 2.3) ------------------------------ */

static void garp_timer_fired(struct kite_stack *stack, struct kite_timer *timer)
{
    struct kite_netif *netif = KITE_CONTAINER_OF(timer, struct kite_netif, garp_timer);
    if (netif->garp_left == 0 || !kite_netif_is_up(netif) || kite_addr_is_any(&netif->ip4))
        return;
    /* An announcement is a request with sender = target = our address. */
    stack->stats.arp.gratuitous_sent++;
    (void)send_arp(netif, KITE_ARP_OP_REQUEST, broadcast_mac, zero_mac, netif->ip4.u.v4);
    if (--netif->garp_left > 0)
        kite_timer_arm(stack, timer, stack->now + KITE_ARP_GRATUITOUS_INTERVAL_MS);
}

/* Announce a newly usable address: on an Ethernet netif that is up and has one. */
static void announce_soon(struct kite_netif *netif)
{
    if ((netif->flags & KITE_NETIF_FLAG_ETHERNET) == 0 || !kite_netif_is_up(netif) ||
        kite_addr_is_any(&netif->ip4) || KITE_ARP_GRATUITOUS_COUNT == 0)
        return;
    netif->garp_left = KITE_ARP_GRATUITOUS_COUNT;
    kite_timer_arm(netif->stack, &netif->garp_timer, netif->stack->now);
}

static void send_queue(struct kite_stack *stack, struct kite_arp_entry *e)
{
    for (uint8_t i = 0; i < e->qlen; i++) {
        (void)kite__ethernet_output(e->netif, e->queue[i], e->mac, KITE_ETHERTYPE_IPV4);
        kite_pbuf_free(stack, e->queue[i]);
        e->queue[i] = NULL;
    }
    e->qlen = 0;
}

static void update_entry(struct kite_stack *stack, struct kite_arp_entry *e,
                         struct kite_netif *netif, uint32_t ip, const uint8_t mac[6])
{
    if (e->state == KITE_ARP_STATIC)
        return; /* the user's word wins over the wire */
    stack->stats.arp.cache_updates++;
    e->ip = ip;
    e->netif = netif;
    memcpy(e->mac, mac, 6);
    e->state = KITE_ARP_STABLE;
    e->tries = 0;
    e->expires = stack->now + KITE_ARP_MAX_AGE_MS;
    send_queue(stack, e);
}

static bool sender_is_valid(const struct kite_netif *netif, const struct kite_arp_repr *arp)
{
    if (kite_eth_is_multicast(arp->sha) || memcmp(arp->sha, zero_mac, 6) == 0 ||
        memcmp(arp->sha, netif->hwaddr, 6) == 0)
        return false; /* includes our own announcements looped back */
    if (arp->spa == 0)
        return true; /* an RFC 5227 probe */
    if (kite_ip4_is_multicast(arp->spa) || arp->spa == KITE_IP4_BROADCAST)
        return false;
    /* Someone else claiming our address: not a neighbour to learn from. */
    return arp->spa != netif->ip4.u.v4;
}

static void handle_arp(struct kite_netif *netif, const struct kite_arp_repr *arp)
{
    struct kite_stack *stack = netif->stack;
    uint32_t our_ip = netif->ip4.u.v4;
    bool for_us = our_ip != 0 && arp->tpa == our_ip;
    if (arp->spa != 0) {
        /* RFC 826 "merge": refresh an existing entry; add one only when targeted. */
        struct kite_arp_entry *e = find_entry(stack, arp->spa, netif);
        if (e == NULL && for_us)
            e = new_entry(stack);
        if (e != NULL)
            update_entry(stack, e, netif, arp->spa, arp->sha);
    }
    if (!for_us) {
        stack->stats.arp.drop_not_for_us++;
    } else if (arp->op == KITE_ARP_OP_REQUEST) {
        stack->stats.arp.replies_sent++;
        (void)send_arp(netif, KITE_ARP_OP_REPLY, arp->sha, arp->sha, arp->spa);
    } else {
        stack->stats.arp.replies_rx++;
    }
    reschedule(stack);
}

/* A well-formed packet: conflict detection sees it first (it looks at the
 * very packets ARP refuses to learn from: probes and claims on our address). */
static void checked_input(struct kite_netif *netif, const struct kite_arp_repr *arp)
{
#if KITE_ACD
    if (netif->stack->acd_input != NULL)
        netif->stack->acd_input(netif, arp);
#endif
    if (!sender_is_valid(netif, arp))
        netif->stack->stats.arp.drop_bad_sender++;
    else
        handle_arp(netif, arp);
}

void kite__arp_input(struct kite_netif *netif, struct kite_pbuf *p)
{
    struct kite_stack *stack = netif->stack;
    uint8_t scratch[KITE_ARP_LEN];
    struct kite_arp_repr arp;
    stack->stats.arp.rx++;
    const uint8_t *bytes = kite_pbuf_contiguous(p, scratch, KITE_ARP_LEN);
    enum kite_err err =
        bytes != NULL ? kite_arp_parse(bytes, KITE_ARP_LEN, &arp) : KITE_ERR_TRUNCATED;
    if (err == KITE_ERR_UNSUPPORTED)
        stack->stats.arp.drop_unsupported++;
    else if (err != KITE_ERR_OK)
        stack->stats.arp.drop_malformed++;
    else
        checked_input(netif, &arp);
    kite_pbuf_free(stack, p);
}

static enum kite_err enqueue(struct kite_stack *stack, struct kite_arp_entry *e,
                             const struct kite_pbuf *p)
{
    /* The caller keeps p (and may restore its headers): queue a private copy. */
    struct kite_pbuf *copy = kite_pbuf_clone(stack, KITE_LAYER_LINK, p);
    if (copy == NULL) {
        stack->stats.arp.drop_no_mem++;
        return KITE_ERR_MEM;
    }
    if (e->qlen == KITE_ARP_QUEUE_LEN) {
        /* Bounded queue: the oldest packet gives way to the newest. */
        stack->stats.arp.drop_queue_full++;
        kite_pbuf_free(stack, e->queue[0]);
        memmove(&e->queue[0], &e->queue[1], sizeof(e->queue[0]) * (KITE_ARP_QUEUE_LEN - 1));
        e->qlen--;
    }
    e->queue[e->qlen++] = copy;
    stack->stats.arp.queued++;
    return KITE_ERR_OK;
}

static enum kite_err start_resolution(struct kite_netif *netif, struct kite_pbuf *p,
                                      uint32_t next_hop)
{
    struct kite_stack *stack = netif->stack;
    struct kite_arp_entry *e = new_entry(stack);
    if (e == NULL) {
        stack->stats.arp.drop_no_entry++;
        return KITE_ERR_MEM;
    }
    e->ip = next_hop;
    e->netif = netif;
    e->state = KITE_ARP_PENDING;
    e->tries = 1;
    e->expires = stack->now + KITE_ARP_RETRY_MS;
    enum kite_err err = enqueue(stack, e, p);
    (void)kite_arp_request(netif, next_hop);
    reschedule(stack);
    return err;
}

static enum kite_err output_unicast(struct kite_netif *netif, struct kite_pbuf *p,
                                    uint32_t next_hop)
{
    struct kite_stack *stack = netif->stack;
    struct kite_arp_entry *e = find_entry(stack, next_hop, netif);
    if ((e == NULL || e->state == KITE_ARP_PENDING) && kite__stack_tso_segment(netif->stack) != 0)
        return KITE_ERR_WOULDBLOCK; /* a super-segment is never queued: TCP resends it cut */
    if (e == NULL)
        return start_resolution(netif, p, next_hop);
    if (e->state == KITE_ARP_PENDING)
        return enqueue(stack, e, p);
    if (e->state == KITE_ARP_STABLE && e->tries == 0 &&
        e->expires - stack->now < KITE_ARP_REFRESH_MS) {
        /* In use and about to expire: refresh with a unicast request (RFC 1122 2.3.2.1). */
        e->tries = 1;
        stack->stats.arp.requests_sent++;
        (void)send_arp(netif, KITE_ARP_OP_REQUEST, e->mac, zero_mac, next_hop);
    }
    return kite__ethernet_output(netif, p, e->mac, KITE_ETHERTYPE_IPV4);
}

static void age_entry(struct kite_stack *stack, struct kite_arp_entry *e)
{
    if (e->state == KITE_ARP_STABLE) {
        stack->stats.arp.entries_expired++;
        free_entry(stack, e);
    } else if (e->tries >= KITE_ARP_MAX_TRIES) {
        free_entry(stack, e); /* queued packets counted as drop_unresolved */
    } else {
        e->tries++;
        e->expires = stack->now + KITE_ARP_RETRY_MS;
        (void)kite_arp_request(e->netif, e->ip);
    }
}

static void arp_timer_fired(struct kite_stack *stack, struct kite_timer *timer)
{
    (void)timer;
    for (int i = 0; i < KITE_ARP_TABLE_SIZE; i++) {
        struct kite_arp_entry *e = &stack->arp.entries[i];
        if ((e->state == KITE_ARP_PENDING || e->state == KITE_ARP_STABLE) &&
            e->expires <= stack->now)
            age_entry(stack, e);
    }
    reschedule(stack);
}

/* Drop the entries of netif (static ones too unless keep_static). */
static void forget(struct kite_stack *stack, const struct kite_netif *netif, bool keep_static)
{
    for (int i = 0; i < KITE_ARP_TABLE_SIZE; i++) {
        struct kite_arp_entry *e = &stack->arp.entries[i];
        if (e->state == KITE_ARP_STATIC && keep_static)
            continue;
        if (e->state != KITE_ARP_FREE && e->netif == netif)
            free_entry(stack, e);
    }
    reschedule(stack);
}

static void netif_event(struct kite_stack *stack, struct kite_netif *netif,
                        enum kite_netif_event event, uint32_t old)
{
    (void)old;
#if KITE_ACD
    if (stack->acd_event != NULL)
        stack->acd_event(netif, event);
#endif
    switch (event) {
    case KITE_NETIF_EV_ADDED:
        kite_timer_init(&netif->garp_timer, garp_timer_fired);
        break;
    case KITE_NETIF_EV_UP:
        announce_soon(netif);
        break;
    case KITE_NETIF_EV_DOWN:
        kite_timer_cancel(stack, &netif->garp_timer);
        break;
    case KITE_NETIF_EV_ADDR_CHANGED:
        /* Learned neighbours may belong to the old subnet; the user's entries stay. */
        forget(stack, netif, true);
        announce_soon(netif);
        break;
    case KITE_NETIF_EV_REMOVED:
        kite_timer_cancel(stack, &netif->garp_timer);
        forget(stack, netif, false);
        break;
    case KITE_NETIF_EV_ADDR_CONFLICT:
    case KITE_NETIF_EV_ADDR_BOUND:
        break;
    }
}

void kite__arp_flush(struct kite_stack *stack)
{
    for (int i = 0; i < KITE_ARP_TABLE_SIZE; i++)
        if (stack->arp.entries[i].state != KITE_ARP_FREE)
            free_entry(stack, &stack->arp.entries[i]);
    kite_timer_cancel(stack, &stack->arp.timer);
}

enum kite_err kite_arp_add_static(struct kite_netif *netif, uint32_t ip,
                                  const uint8_t mac[KITE_ETH_ADDR_LEN])
{
    struct kite_stack *stack = netif->stack;
    if (stack == NULL || kite_eth_is_multicast(mac) || ip == 0 || kite_ip4_is_multicast(ip))
        return KITE_ERR_ARG;
    struct kite_arp_entry *e = find_entry(stack, ip, NULL);
    if (e == NULL)
        e = new_entry(stack);
    if (e == NULL)
        return KITE_ERR_MEM;
    e->state = KITE_ARP_PENDING; /* let update_entry take it, then pin it */
    update_entry(stack, e, netif, ip, mac);
    e->state = KITE_ARP_STATIC;
    reschedule(stack);
    return KITE_ERR_OK;
}

enum kite_err kite_arp_remove(struct kite_stack *stack, uint32_t ip)
{
    struct kite_arp_entry *e = find_entry(stack, ip, NULL);
    if (e == NULL)
        return KITE_ERR_NOTFOUND;
    free_entry(stack, e);
    reschedule(stack);
    return KITE_ERR_OK;
}

bool kite_arp_lookup(struct kite_stack *stack, uint32_t ip, uint8_t mac[KITE_ETH_ADDR_LEN])
{
    struct kite_arp_entry *e = find_entry(stack, ip, NULL);
    if (e == NULL || (e->state != KITE_ARP_STABLE && e->state != KITE_ARP_STATIC))
        return false;
    memcpy(mac, e->mac, 6);
    return true;
}

enum kite_err kite__arp_output(struct kite_netif *netif, struct kite_pbuf *p, uint32_t next_hop)
{
    if ((netif->flags & KITE_NETIF_FLAG_ETHERNET) == 0)
        return kite__netif_transmit(netif, p);
    uint8_t mac[6];
    if (kite_netif_is_broadcast4(netif, next_hop)) {
        memset(mac, 0xff, sizeof mac);
    } else if (kite_ip4_is_multicast(next_hop)) {
        kite_eth_ip4_multicast_mac(next_hop, mac);
    } else {
        return output_unicast(netif, p, next_hop);
    }
    return kite__ethernet_output(netif, p, mac, KITE_ETHERTYPE_IPV4);
}

unsigned kite_arp_queued_count(const struct kite_stack *stack)
{
    unsigned n = 0;
    for (unsigned i = 0; i < KITE_ARP_TABLE_SIZE; i++)
        if (stack->arp.entries[i].state == KITE_ARP_PENDING)
            n += stack->arp.entries[i].qlen;
    return n;
}
