/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/opts.h"
#if KITE_ACD /* the whole file is conflict detection (KITE_ACD = 0 leaves it out) */
/*
 * IPv4 address conflict detection (RFC 5227). A claim waits PROBE_WAIT,
 * sends PROBE_NUM probes PROBE_MIN..PROBE_MAX apart, waits ANNOUNCE_WAIT,
 * then sets the address on the netif; ARP's gratuitous announcements
 * (ANNOUNCE_NUM, ANNOUNCE_INTERVAL: KITE_ARP_GRATUITOUS_*) follow from that,
 * so they are not sent twice. In use, a conflict is defended once; a second
 * one within DEFEND_INTERVAL gives the address up (RFC 5227 2.4 (b)).
 */
#include "kite/acd.h"

#include <string.h>

#include "kite/netif.h"
#include "kite/stack.h"
#include "kite/wire/arp.h"

#include "kite_internal/acd.h"
#include "kite_internal/stack.h"

static const uint8_t broadcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void arp_input(struct kite_netif *netif, const struct kite_arp_repr *arp);
static void netif_event(struct kite_netif *netif, enum kite_netif_event event);

/* A random delay in [lo, hi] ms from the stack's seeded generator. */
static kite_time_ms random_delay(struct kite_stack *stack, uint32_t lo, uint32_t hi)
{
    return lo + kite_random_u32(stack) % (hi - lo + 1u);
}

static void tell(struct kite_netif *netif, enum kite_netif_event event, uint32_t addr)
{
    kite__stack_netif_event(netif->stack, netif, event, addr);
}

/* The claim is over because another host holds the address. */
static void conflict_end(struct kite_netif *netif)
{
    struct kite_acd *acd = &netif->acd;
    uint32_t addr = acd->addr;
    kite_timer_cancel(netif->stack, &acd->timer);
    acd->state = KITE_ACD_OFF;
    if (acd->conflicts < UINT8_MAX)
        acd->conflicts++;
    void (*lost)(struct kite_netif *) = acd->lost;
    acd->lost = NULL;
    tell(netif, KITE_NETIF_EV_ADDR_CONFLICT, addr);
    if (lost != NULL)
        lost(netif);
}

/* Probing is over with no conflict: the address becomes the netif's. */
static void take_address(struct kite_netif *netif)
{
    struct kite_acd *acd = &netif->acd;
    acd->state = KITE_ACD_BOUND;
    acd->conflicts = 0;
    /* As if the last defence were DEFEND_INTERVAL ago (unsigned time wraps
     * consistently), so the first conflict is defended. */
    acd->last_defend = netif->stack->now - KITE_ACD_DEFEND_INTERVAL_MS;
    netif->stack->stats.acd.addrs_bound++;
    /* ADDR_CHANGED makes ARP announce it (RFC 5227 2.3). */
    (void)kite_netif_set_ipv4(netif, acd->addr, acd->prefix, acd->gw);
    tell(netif, KITE_NETIF_EV_ADDR_BOUND, acd->addr);
}

/* RFC 5227 2.1.1: a probe is a request with sender 0.0.0.0, target the address. */
static void send_probe(struct kite_netif *netif)
{
    struct kite_acd *acd = &netif->acd;
    netif->stack->stats.acd.probes_sent++;
    (void)kite__arp_send(netif, KITE_ARP_OP_REQUEST, broadcast_mac, 0, acd->addr);
    acd->probes++;
}

static void timer_fired(struct kite_stack *stack, struct kite_timer *timer)
{
    struct kite_netif *netif = KITE_CONTAINER_OF(timer, struct kite_netif, acd.timer);
    struct kite_acd *acd = &netif->acd;
    if (acd->state != KITE_ACD_WAITING && acd->state != KITE_ACD_PROBING)
        return;
    if (acd->probes == KITE_ACD_PROBE_NUM) {
        take_address(netif); /* ANNOUNCE_WAIT after the last probe passed quietly */
        return;
    }
    acd->state = KITE_ACD_PROBING;
    send_probe(netif);
    kite_time_ms next = acd->probes < KITE_ACD_PROBE_NUM
                            ? random_delay(stack, KITE_ACD_PROBE_MIN_MS, KITE_ACD_PROBE_MAX_MS)
                            : KITE_ACD_ANNOUNCE_WAIT_MS;
    kite_timer_arm(stack, timer, stack->now + next);
}

/* Start a round of probing: PROBE_WAIT first, or RATE_LIMIT_INTERVAL once
 * MAX_CONFLICTS claims have failed (RFC 5227 2.1.1). */
static void begin_round(struct kite_netif *netif)
{
    struct kite_stack *stack = netif->stack;
    struct kite_acd *acd = &netif->acd;
    kite_time_ms wait;
    if (acd->conflicts >= KITE_ACD_MAX_CONFLICTS) {
        stack->stats.acd.rate_limited++;
        wait = KITE_ACD_RATE_LIMIT_INTERVAL_MS;
    } else {
        wait = random_delay(stack, 0, KITE_ACD_PROBE_WAIT_MS);
    }
    acd->state = KITE_ACD_WAITING;
    acd->probes = 0;
    if (kite_netif_is_up(netif))
        kite_timer_arm(stack, &acd->timer, stack->now + wait);
    else
        kite_timer_cancel(stack, &acd->timer); /* kite__acd_netif_event starts it on UP */
}

static bool claim_valid(const struct kite_netif *netif, uint32_t addr, unsigned prefix, uint32_t gw)
{
    if (prefix > 32 || addr == 0 || kite_ip4_is_multicast(addr) || addr == KITE_IP4_BROADCAST)
        return false;
    uint32_t mask = kite_ip4_prefix_mask(prefix);
    (void)netif;
    return gw == 0 || (gw & mask) == (addr & mask);
}

enum kite_err kite__acd_claim(struct kite_netif *netif, uint32_t addr, unsigned prefix, uint32_t gw,
                              void (*lost)(struct kite_netif *netif))
{
    if (netif == NULL || netif->stack == NULL || (netif->flags & KITE_NETIF_FLAG_ETHERNET) == 0)
        return KITE_ERR_ARG;
    if (!claim_valid(netif, addr, prefix, gw))
        return KITE_ERR_VAL;
    struct kite_acd *acd = &netif->acd;
    struct kite_stack *stack = netif->stack;
    stack->acd_input = arp_input;
    stack->acd_event = netif_event;
    if (!kite_timer_armed(&acd->timer))
        kite_timer_init(&acd->timer, timer_fired);
    acd->state = KITE_ACD_OFF; /* so the address change below is not ours to watch */
    if (netif->ip4.u.v4 == addr)
        (void)kite_netif_set_ipv4(netif, 0, 0, 0); /* tentative until probed */
    acd->addr = addr;
    acd->prefix = (uint8_t)prefix;
    acd->gw = gw;
    acd->lost = lost;
    begin_round(netif);
    return KITE_ERR_OK;
}

enum kite_err kite_acd_start(struct kite_netif *netif, uint32_t addr, unsigned prefix, uint32_t gw)
{
    return kite__acd_claim(netif, addr, prefix, gw, NULL);
}

void kite_acd_stop(struct kite_netif *netif)
{
    struct kite_acd *acd = &netif->acd;
    if (netif->stack != NULL)
        kite_timer_cancel(netif->stack, &acd->timer);
    acd->state = KITE_ACD_OFF;
    acd->lost = NULL;
}

enum kite_acd_state kite_acd_state(const struct kite_netif *netif)
{
    return (enum kite_acd_state)netif->acd.state;
}

/* RFC 5227 2.4 (b): defend once; a second conflict within DEFEND_INTERVAL
 * means the other host insists, and the address is given up. */
static void conflict_in_use(struct kite_netif *netif)
{
    struct kite_stack *stack = netif->stack;
    struct kite_acd *acd = &netif->acd;
    stack->stats.acd.conflicts_in_use++;
    if (stack->now - acd->last_defend >= KITE_ACD_DEFEND_INTERVAL_MS) {
        acd->last_defend = stack->now;
        stack->stats.acd.defends_sent++;
        /* An announcement: sender and target our address (RFC 5227 2.3). */
        (void)kite__arp_send(netif, KITE_ARP_OP_REQUEST, broadcast_mac, acd->addr, acd->addr);
        return;
    }
    stack->stats.acd.addrs_given_up++;
    acd->state = KITE_ACD_OFF; /* the address change below is not a user's */
    if (netif->ip4.u.v4 == acd->addr)
        (void)kite_netif_set_ipv4(netif, 0, 0, 0); /* RFC 5227 2.4 (b): cease using it */
    conflict_end(netif);
}

static void arp_input(struct kite_netif *netif, const struct kite_arp_repr *arp)
{
    struct kite_acd *acd = &netif->acd;
    if (acd->state == KITE_ACD_OFF || memcmp(arp->sha, netif->hwaddr, 6) == 0)
        return; /* nothing claimed, or our own packet looped back */
    if (acd->state == KITE_ACD_BOUND) {
        /* RFC 5227 2.4: a packet from another host with our address as sender. */
        if (arp->spa == acd->addr)
            conflict_in_use(netif);
        return;
    }
    /* RFC 5227 2.1.1: while probing, any packet with the address as sender
     * (a reply or an announcement from its holder), or a request for it with
     * sender 0.0.0.0 (another host probing for it at the same time). */
    bool holder = arp->spa == acd->addr;
    bool rival_probe = arp->op == KITE_ARP_OP_REQUEST && arp->spa == 0 && arp->tpa == acd->addr;
    if (holder || rival_probe) {
        netif->stack->stats.acd.conflicts_probing++;
        conflict_end(netif);
    }
}

static void netif_event(struct kite_netif *netif, enum kite_netif_event event)
{
    struct kite_acd *acd = &netif->acd;
    switch (event) {
    case KITE_NETIF_EV_UP:
        /* A claim interrupted by the link going down probes again from the
         * start; so does an address in use (RFC 5227 2.1, RFC 3927 2.2.1:
         * a link that comes up may lead to a network where it is taken). */
        if (acd->state == KITE_ACD_WAITING || acd->state == KITE_ACD_PROBING)
            begin_round(netif);
        else if (acd->state == KITE_ACD_BOUND)
            (void)kite__acd_claim(netif, acd->addr, acd->prefix, acd->gw, acd->lost);
        break;
    case KITE_NETIF_EV_DOWN:
        if (acd->state == KITE_ACD_PROBING)
            acd->state = KITE_ACD_WAITING;
        kite_timer_cancel(netif->stack, &acd->timer);
        break;
    case KITE_NETIF_EV_ADDR_CHANGED:
        /* The user set another address over a bound one: nothing left to defend. */
        if (acd->state == KITE_ACD_BOUND && netif->ip4.u.v4 != acd->addr)
            kite_acd_stop(netif);
        break;
    case KITE_NETIF_EV_REMOVED:
        kite_acd_stop(netif);
        break;
    case KITE_NETIF_EV_ADDED: /* the timer is set up by the first claim */
    case KITE_NETIF_EV_ADDR_CONFLICT:
    case KITE_NETIF_EV_ADDR_BOUND:
        break;
    }
}

#else
typedef int kite_acd_disabled_; /* ISO C wants a non-empty file */
#endif /* KITE_ACD */
