/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/opts.h"
#if KITE_PMTU /* the whole file is path MTU discovery (KITE_PMTU = 0 leaves it out) */
/*
 * Path MTU discovery (RFC 1191), the host's cache. A destination's entry
 * holds the smallest MTU an ICMP "fragmentation needed" reported on its path
 * (validated by the protocol the quoted packet belongs to, RFC 5927 4.1).
 * Entries expire after KITE_PMTU_TIMEOUT_MS, so a larger MTU is tried again
 * (RFC 1191 6.3); TCP is told of every change and resizes its segments.
 */
#include <string.h>

#include "kite/ipv4.h"
#include "kite/stack.h"
#include "kite/wire/ipv4.h"

#include "kite_internal/ipv4.h"
#include "kite_internal/timer.h"

/* RFC 1191 7: plateaus to guess from when an old router reports MTU 0. */
static const uint16_t plateaus[] = {32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68};

/* RFC 1191 5: the largest plateau below the length of the datagram that was too big. */
static uint16_t plateau_below(uint16_t too_big)
{
    for (unsigned i = 0; i < sizeof plateaus / sizeof plateaus[0]; i++)
        if (plateaus[i] < too_big)
            return plateaus[i];
    return 68;
}

static struct kite_pmtu_entry *find(struct kite_stack *stack, uint32_t dst)
{
    for (unsigned i = 0; i < KITE_PMTU_ENTRIES; i++)
        if (stack->pmtu.entries[i].dst == dst)
            return &stack->pmtu.entries[i];
    return NULL;
}

uint16_t kite__pmtu_lookup(struct kite_stack *stack, uint32_t dst)
{
    /* (Every packet asks: the timer runs exactly while an entry exists.) */
    if (!kite_timer_armed(&stack->pmtu.timer))
        return 0;
    struct kite_pmtu_entry *e = dst != 0 ? find(stack, dst) : NULL;
    return e != NULL ? e->mtu : 0;
}

static void arm(struct kite_stack *stack)
{
    kite_time_ms first = KITE_TIME_NEVER;
    for (unsigned i = 0; i < KITE_PMTU_ENTRIES; i++)
        if (stack->pmtu.entries[i].dst != 0 && stack->pmtu.entries[i].expires < first)
            first = stack->pmtu.entries[i].expires;
    if (first == KITE_TIME_NEVER)
        kite_timer_cancel(stack, &stack->pmtu.timer);
    else
        kite_timer_arm(stack, &stack->pmtu.timer, first);
}

static void tell_forgotten(struct kite_stack *stack, uint32_t dst)
{
    struct kite_netif *netif = kite_ipv4_route(stack, dst);
    if (stack->pmtu.changed != NULL && netif != NULL)
        stack->pmtu.changed(stack, dst, netif->mtu);
}

/* A free entry, else the one that expires first (the least recently
 * lowered), whose destination is told its MTU is the link's again. */
static struct kite_pmtu_entry *take_entry(struct kite_stack *stack)
{
    struct kite_pmtu_entry *best = &stack->pmtu.entries[0];
    for (unsigned i = 0; i < KITE_PMTU_ENTRIES; i++) {
        struct kite_pmtu_entry *e = &stack->pmtu.entries[i];
        if (e->dst == 0)
            return e;
        if (e->expires < best->expires)
            best = e;
    }
    uint32_t evicted = best->dst;
    best->dst = 0;
    tell_forgotten(stack, evicted);
    return best;
}

uint16_t kite__pmtu_update(struct kite_stack *stack, uint32_t dst, uint16_t mtu, uint16_t too_big)
{
    struct kite_netif *netif = kite_ipv4_route(stack, dst);
    if (netif == NULL)
        return 0;
    if (mtu == 0)
        mtu = plateau_below(too_big); /* RFC 1191 5: a router of before RFC 1191 */
    if (mtu >= 68 && mtu < KITE_PMTU_MIN)
        mtu = KITE_PMTU_MIN; /* RFC 5927 7: a forged report cannot shrink a path to nothing */
    /* RFC 791: 68 is the floor; a report at or above the size that was sent
     * says nothing true. */
    if (mtu < 68 || (too_big != 0 && mtu >= too_big)) {
        stack->stats.ipv4.drop_pmtu_bogus++;
        return 0;
    }
    /* RFC 1191 6.1: never raised by a report (the rest of a window sent too
     * big brings one report per segment: only the first lowers). */
    if (mtu >= kite_ipv4_path_mtu(stack, netif, dst)) {
        stack->stats.ipv4.pmtu_unchanged++;
        return 0;
    }
    struct kite_pmtu_entry *e = find(stack, dst);
    if (e == NULL)
        e = take_entry(stack);
    e->dst = dst;
    e->mtu = mtu;
    e->expires = stack->now + KITE_PMTU_TIMEOUT_MS;
    stack->stats.ipv4.pmtu_updates++;
    arm(stack);
    if (stack->pmtu.changed != NULL)
        stack->pmtu.changed(stack, dst, mtu);
    return mtu;
}

/* RFC 1191 6.3: forget old reports, so the path's full MTU is tried again. */
static void pmtu_timer_fired(struct kite_stack *stack, struct kite_timer *timer)
{
    (void)timer;
    for (unsigned i = 0; i < KITE_PMTU_ENTRIES; i++) {
        struct kite_pmtu_entry *e = &stack->pmtu.entries[i];
        if (e->dst == 0 || e->expires > stack->now)
            continue;
        uint32_t dst = e->dst;
        memset(e, 0, sizeof *e);
        stack->stats.ipv4.pmtu_expired++;
        arm(stack); /* before TCP sends: lookups of the other entries need it armed */
        tell_forgotten(stack, dst);
    }
    arm(stack);
}

void kite__pmtu_init(struct kite_stack *stack)
{
    memset(&stack->pmtu, 0, sizeof stack->pmtu);
    kite_timer_init(&stack->pmtu.timer, pmtu_timer_fired);
}

void kite__pmtu_flush(struct kite_stack *stack)
{
    kite_timer_cancel(stack, &stack->pmtu.timer);
}

void kite__pmtu_set_listener(struct kite_stack *stack,
                             void (*changed)(struct kite_stack *stack, uint32_t dst, uint16_t mtu))
{
    stack->pmtu.changed = changed;
}
#endif
