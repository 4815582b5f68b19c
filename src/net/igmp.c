/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/opts.h"
#if KITE_IGMP /* the whole file is IGMP (KITE_IGMP = 0 leaves it out) */
/*
 * Multicast group membership (RFC 3376 3): each owner's filter on a group of
 * a netif (a membership), the netif's merged interface state per group, the
 * reception filters built on them, and the driver's MAC filter hook. The
 * messages and timers are in igmp_proto.c.
 */
#include <string.h>

#include "kite/igmp.h"
#include "kite/stack.h"
#include "kite/wire/ethernet.h"
#include "kite/wire/igmp.h"
#include "kite/wire/ipv4.h"

#include "kite_internal/igmp.h"
#include "kite_internal/ipv4_mcast.h"
#include "kite_internal/pool.h"
#include "kite_internal/stack.h"

#include "igmp_priv.h"

/* ---- Groups ------------------------------------------------------------------------------ */

struct kite_igmp_group *kite__igmp_group_find(struct kite_stack *stack,
                                              const struct kite_netif *netif, uint32_t addr)
{
    for (struct kite_igmp_group *g = stack->igmp.groups; g != NULL; g = g->next)
        if (g->netif == netif && g->addr == addr)
            return g;
    return NULL;
}

/* Another group of netif than skip that maps to the same MAC (RFC 1112 6.4:
 * 32 groups share each). */
static bool mac_shared(struct kite_stack *stack, const struct kite_igmp_group *skip,
                       const struct kite_netif *netif, uint32_t addr)
{
    for (struct kite_igmp_group *g = stack->igmp.groups; g != NULL; g = g->next)
        if (g != skip && g->netif == netif && ((g->addr ^ addr) & 0x007fffffu) == 0)
            return true;
    return false;
}

static void mac_filter(struct kite_netif *netif, uint32_t addr, bool add)
{
    uint8_t mac[6];
    if (netif->igmp.mac_filter == NULL)
        return;
    kite_eth_ip4_multicast_mac(addr, mac);
    netif->igmp.mac_filter(netif, mac, add);
}

static struct kite_igmp_group *group_alloc(struct kite_stack *stack, struct kite_netif *netif,
                                           uint32_t addr)
{
    struct kite_igmp_group *g = kite__pool_alloc(&stack->pools[KITE_POOL_IGMP_GROUP]);
    if (g == NULL)
        return NULL;
    g->netif = netif;
    g->addr = addr;
    g->mode = KITE_IGMP_INCLUDE;
    /* 224.0.0.1's MAC is always on (kite_igmp_set_mac_filter). */
    if (((addr ^ KITE_IGMP_ALL_SYSTEMS) & 0x007fffffu) != 0 && !mac_shared(stack, g, netif, addr))
        mac_filter(netif, addr, true);
    g->next = stack->igmp.groups;
    stack->igmp.groups = g;
    return g;
}

void kite__igmp_group_release(struct kite_stack *stack, struct kite_igmp_group *g)
{
    if (igmp_group_exists(g) || g->mode_rtx > 0 || g->nchg > 0)
        return;
    for (struct kite_igmp_group **pp = &stack->igmp.groups; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == g) {
            *pp = g->next;
            break;
        }
    }
    if (((g->addr ^ KITE_IGMP_ALL_SYSTEMS) & 0x007fffffu) != 0 &&
        !mac_shared(stack, g, g->netif, g->addr))
        mac_filter(g->netif, g->addr, false);
    kite__pool_free(&stack->pools[KITE_POOL_IGMP_GROUP], g);
}

uint8_t kite__igmp_robustness(const struct kite_netif *netif)
{
    return netif->igmp.qrv != 0 ? netif->igmp.qrv : (uint8_t)KITE_IGMP_ROBUSTNESS;
}

/* ---- Memberships and the interface state (RFC 3376 3.1, 3.2) ----------------------------- */

static struct kite_igmp_member *member_find(struct kite_stack *stack, const void *owner,
                                            const struct kite_netif *netif, uint32_t group)
{
    for (struct kite_igmp_member *m = stack->igmp.members; m != NULL; m = m->next)
        if (m->owner == owner && m->netif == netif && m->group == group)
            return m;
    return NULL;
}

struct merged {
    uint8_t mode;
    unsigned n;
    uint32_t src[KITE_IGMP_MAX_SOURCES];
};

/* RFC 3376 3.2: with any EXCLUDE membership the interface is EXCLUDE the
 * intersection of the EXCLUDE lists less every INCLUDE source; otherwise
 * INCLUDE the union of the INCLUDE lists. cand (may be NULL) stands in for
 * skip, owner's old filter. False when the union does not fit a group. */
static bool merge(struct kite_stack *stack, const struct kite_netif *netif, uint32_t group,
                  const struct kite_igmp_member *skip, const struct kite_igmp_member *cand,
                  struct merged *out)
{
    const struct kite_igmp_member *ms[KITE_IGMP_MEMBER_COUNT + 1];
    unsigned n = 0, n_ex = 0;
    for (const struct kite_igmp_member *m = stack->igmp.members; m != NULL; m = m->next)
        if (m != skip && m->netif == netif && m->group == group && n < KITE_IGMP_MEMBER_COUNT)
            ms[n++] = m;
    if (cand != NULL)
        ms[n++] = cand;
    out->mode = KITE_IGMP_INCLUDE;
    out->n = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct kite_igmp_member *m = ms[i];
        if (m->mode != KITE_IGMP_EXCLUDE)
            continue;
        if (n_ex++ == 0) {
            out->mode = KITE_IGMP_EXCLUDE;
            out->n = m->nsrc;
            memcpy(out->src, m->src, sizeof(uint32_t) * m->nsrc);
            continue;
        }
        unsigned k = 0;
        for (unsigned j = 0; j < out->n; j++)
            if (igmp_in_list(m->src, m->nsrc, out->src[j]))
                out->src[k++] = out->src[j];
        out->n = k;
    }
    for (unsigned i = 0; i < n; i++) {
        const struct kite_igmp_member *m = ms[i];
        if (m->mode != KITE_IGMP_INCLUDE)
            continue;
        if (n_ex > 0) {
            unsigned k = 0;
            for (unsigned j = 0; j < out->n; j++)
                if (!igmp_in_list(m->src, m->nsrc, out->src[j]))
                    out->src[k++] = out->src[j];
            out->n = k;
            continue;
        }
        for (unsigned j = 0; j < m->nsrc; j++) {
            if (igmp_in_list(out->src, out->n, m->src[j]))
                continue;
            if (out->n == KITE_IGMP_MAX_SOURCES)
                return false;
            out->src[out->n++] = m->src[j];
        }
    }
    return true;
}

static void member_unlink(struct kite_stack *stack, struct kite_igmp_member *m)
{
    for (struct kite_igmp_member **pp = &stack->igmp.members; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == m) {
            *pp = m->next;
            break;
        }
    }
    kite__pool_free(&stack->pools[KITE_POOL_IGMP_MEMBER], m);
}

/* Set g's interface state to st and tell the protocol what changed. */
static void apply_state(struct kite_stack *stack, struct kite_igmp_group *g,
                        const struct merged *st)
{
    uint32_t old_src[KITE_IGMP_MAX_SOURCES];
    uint8_t old_mode = g->mode, old_n = g->nsrc;
    memcpy(old_src, g->src, sizeof(uint32_t) * old_n);
    g->mode = st->mode;
    g->nsrc = (uint8_t)st->n;
    memcpy(g->src, st->src, sizeof(uint32_t) * st->n);
    kite__igmp_state_changed(stack, g, old_mode, old_src, old_n);
}

static bool valid_group(uint32_t group)
{
    return (group >> 28) == 0xeu;
}

/* Replace owner's membership by cand (INCLUDE {}: none). */
static enum kite_err set_member(struct kite_netif *netif, const void *owner,
                                const struct kite_igmp_member *cand)
{
    struct kite_stack *stack = netif->stack;
    struct kite_igmp_member *m = member_find(stack, owner, netif, cand->group);
    bool none = cand->mode == KITE_IGMP_INCLUDE && cand->nsrc == 0;
    if (none && m == NULL)
        return KITE_ERR_OK; /* no membership, none wanted: nothing changes */
    struct merged st;
    if (!merge(stack, netif, cand->group, m, none ? NULL : cand, &st))
        return KITE_ERR_MEM;
    struct kite_igmp_group *g = kite__igmp_group_find(stack, netif, cand->group);
    bool new_group = false;
    if (g == NULL && !none) {
        g = group_alloc(stack, netif, cand->group);
        if (g == NULL)
            return KITE_ERR_MEM;
        new_group = true;
    }
    if (m == NULL && !none) {
        m = kite__pool_alloc(&stack->pools[KITE_POOL_IGMP_MEMBER]);
        if (m == NULL) {
            if (new_group)
                kite__igmp_group_release(stack, g);
            return KITE_ERR_MEM;
        }
        m->next = stack->igmp.members;
        stack->igmp.members = m;
    }
    if (none && m != NULL)
        member_unlink(stack, m);
    else if (!none) {
        const void *keep = owner;
        struct kite_igmp_member *next = m->next;
        *m = *cand;
        m->next = next;
        m->owner = keep;
        m->netif = netif;
    }
    if (g != NULL)
        apply_state(stack, g, &st);
    kite__igmp_rearm(stack);
    return KITE_ERR_OK;
}

enum kite_err kite_igmp_listen(struct kite_netif *netif, const void *owner, uint32_t group,
                               enum kite_igmp_mode mode, const uint32_t *srcs, unsigned n)
{
    if (netif == NULL || netif->stack == NULL || !valid_group(group) || n > KITE_IGMP_MAX_SOURCES ||
        (n > 0 && srcs == NULL) || (mode != KITE_IGMP_INCLUDE && mode != KITE_IGMP_EXCLUDE))
        return KITE_ERR_VAL;
    struct kite_igmp_member cand = {
        .owner = owner, .netif = netif, .group = group, .mode = (uint8_t)mode};
    for (unsigned i = 0; i < n; i++)
        if (!igmp_in_list(cand.src, cand.nsrc, srcs[i]))
            cand.src[cand.nsrc++] = srcs[i];
    return set_member(netif, owner, &cand);
}

enum kite_err kite_igmp_join(struct kite_netif *netif, const void *owner, uint32_t group)
{
    if (netif == NULL || netif->stack == NULL)
        return KITE_ERR_VAL;
    if (member_find(netif->stack, owner, netif, group) != NULL)
        return KITE_ERR_INUSE; /* Linux: EADDRINUSE */
    return kite_igmp_listen(netif, owner, group, KITE_IGMP_EXCLUDE, NULL, 0);
}

enum kite_err kite_igmp_leave(struct kite_netif *netif, const void *owner, uint32_t group)
{
    if (netif == NULL || netif->stack == NULL)
        return KITE_ERR_VAL;
    if (member_find(netif->stack, owner, netif, group) == NULL)
        return KITE_ERR_NOTFOUND; /* Linux: EADDRNOTAVAIL */
    return kite_igmp_listen(netif, owner, group, KITE_IGMP_INCLUDE, NULL, 0);
}

enum kite_err kite_igmp_source(struct kite_netif *netif, const void *owner, uint32_t group,
                               uint32_t src, enum kite_igmp_mode mode, bool add)
{
    if (netif == NULL || netif->stack == NULL || !valid_group(group))
        return KITE_ERR_VAL;
    struct kite_igmp_member *m = member_find(netif->stack, owner, netif, group);
    struct kite_igmp_member cand = {.group = group, .mode = (uint8_t)mode};
    if (m != NULL) {
        if (m->mode != mode && m->nsrc > 0)
            return KITE_ERR_VAL; /* a filter of the other mode (Linux: EINVAL) */
        cand = *m;
        cand.mode = (uint8_t)mode; /* an empty filter may switch mode, as on Linux */
    } else if (!add || mode == KITE_IGMP_EXCLUDE) {
        return KITE_ERR_NOTFOUND; /* no membership to take it from, or to block in */
    }
    bool present = igmp_in_list(cand.src, cand.nsrc, src);
    if (present == add)
        return add ? KITE_ERR_INUSE : KITE_ERR_NOTFOUND;
    if (add) {
        if (cand.nsrc == KITE_IGMP_MAX_SOURCES)
            return KITE_ERR_MEM; /* Linux: ENOBUFS past igmp_max_msf */
        cand.src[cand.nsrc++] = src;
    } else {
        unsigned k = 0;
        for (unsigned i = 0; i < cand.nsrc; i++)
            if (cand.src[i] != src)
                cand.src[k++] = cand.src[i];
        cand.nsrc = (uint8_t)k;
    }
    return set_member(netif, owner, &cand);
}

void kite_igmp_leave_all(struct kite_stack *stack, const void *owner)
{
    struct kite_igmp_member *m = stack->igmp.members;
    while (m != NULL) {
        struct kite_igmp_member *next = m->next;
        if (m->owner == owner)
            (void)kite_igmp_listen(m->netif, owner, m->group, KITE_IGMP_INCLUDE, NULL, 0);
        m = next;
    }
}

/* ---- Filters ------------------------------------------------------------------------------- */

static bool state_admits(uint8_t mode, const uint32_t *list, unsigned n, uint32_t src)
{
    bool listed = igmp_in_list(list, n, src);
    return mode == KITE_IGMP_INCLUDE ? listed : !listed;
}

int kite_igmp_owner_admits(struct kite_stack *stack, const void *owner,
                           const struct kite_netif *netif, uint32_t group, uint32_t src)
{
    const struct kite_igmp_member *m = member_find(stack, owner, netif, group);
    if (m == NULL)
        return -1;
    return state_admits(m->mode, m->src, m->nsrc, src) ? 1 : 0;
}

bool kite_igmp_netif_admits(const struct kite_netif *netif, uint32_t group, uint32_t src)
{
    if (group == KITE_IGMP_ALL_SYSTEMS)
        return true; /* RFC 1112 4: every host is a member of 224.0.0.1 */
    const struct kite_igmp_group *g = kite__igmp_group_find(netif->stack, netif, group);
    return g != NULL && state_admits(g->mode, g->src, g->nsrc, src);
}

/* IPv4's question. IGMP itself passes for any group the netif has an entry
 * for, whatever its source filter (queries come from the querier, which a
 * source list need not name), as in Linux's ip_check_mc_rcu. */
static bool ip_admits(const struct kite_netif *netif, uint32_t group, uint32_t src, uint8_t proto)
{
    if (proto == KITE_IP_PROTO_IGMP && group != KITE_IGMP_ALL_SYSTEMS)
        return kite__igmp_group_find(netif->stack, netif, group) != NULL;
    return kite_igmp_netif_admits(netif, group, src);
}

/* Ethernet's question: a 01:00:5e MAC passes when 224.0.0.1 or a group of
 * the netif maps to it; other multicast MACs are not IGMP's to filter. */
static bool mac_admits(const struct kite_netif *netif, const uint8_t mac[6])
{
    if (mac[0] != 0x01u || mac[1] != 0x00u || mac[2] != 0x5eu || (mac[3] & 0x80u) != 0)
        return true;
    uint32_t low = ((uint32_t)mac[3] << 16) | ((uint32_t)mac[4] << 8) | mac[5];
    if (low == (KITE_IGMP_ALL_SYSTEMS & 0x007fffffu))
        return true;
    for (const struct kite_igmp_group *g = netif->stack->igmp.groups; g != NULL; g = g->next)
        if (g->netif == netif && (g->addr & 0x007fffffu) == low)
            return true;
    return false;
}

void kite_igmp_set_mac_filter(struct kite_netif *netif, kite_igmp_mac_filter_fn fn)
{
    netif->igmp.mac_filter = fn;
    if (fn == NULL || netif->stack == NULL)
        return;
    mac_filter(netif, KITE_IGMP_ALL_SYSTEMS, true);
    struct kite_stack *stack = netif->stack;
    for (struct kite_igmp_group *g = stack->igmp.groups; g != NULL; g = g->next) {
        bool first = true; /* once per MAC: only the first group listed with it */
        for (struct kite_igmp_group *h = stack->igmp.groups; h != g; h = h->next)
            if (h->netif == netif && ((h->addr ^ g->addr) & 0x007fffffu) == 0)
                first = false;
        if (g->netif == netif && first && ((g->addr ^ KITE_IGMP_ALL_SYSTEMS) & 0x007fffffu) != 0)
            mac_filter(netif, g->addr, true);
    }
}

unsigned kite_igmp_version(const struct kite_netif *netif)
{
    kite_time_ms now = netif->stack != NULL ? netif->stack->now : 0;
    if (netif->igmp.v1_until > now)
        return 1;
    if (netif->igmp.v2_until > now)
        return 2;
    return 3;
}

/* ---- Netif events and init ------------------------------------------------------------------ */

static void forget_netif(struct kite_stack *stack, struct kite_netif *netif)
{
    netif->igmp.mac_filter = NULL; /* its driver is gone already (driver_remove ran) */
    struct kite_igmp_member *m = stack->igmp.members;
    while (m != NULL) {
        struct kite_igmp_member *next = m->next;
        if (m->netif == netif)
            member_unlink(stack, m);
        m = next;
    }
    struct kite_igmp_group *g = stack->igmp.groups;
    while (g != NULL) {
        struct kite_igmp_group *next = g->next;
        if (g->netif == netif) {
            g->mode = KITE_IGMP_INCLUDE;
            g->nsrc = g->mode_rtx = g->nchg = 0;
            kite__igmp_group_release(stack, g);
        }
        g = next;
    }
    kite__ipv4_mcast_loop_purge(stack, netif);
}

static void netif_event(struct kite_stack *stack, struct kite_netif *netif,
                        enum kite_netif_event event, uint32_t old)
{
    (void)old;
    switch (event) {
    case KITE_NETIF_EV_REMOVED:
        forget_netif(stack, netif);
        break;
    case KITE_NETIF_EV_UP:
        kite__igmp_netif_up(stack, netif);
        break;
    case KITE_NETIF_EV_DOWN:
        kite__igmp_netif_down(stack, netif);
        break;
    default:
        return;
    }
    kite__igmp_rearm(stack);
}

void kite__igmp_init(struct kite_stack *stack)
{
    memset(&stack->igmp, 0, sizeof stack->igmp);
    kite__ipv4_mcast_init(stack);
    kite__igmp_proto_init(stack);
    stack->mcast_admits = ip_admits;
    stack->mcast_mac_admits = mac_admits;
    (void)kite__stack_register_netif_hook(stack, netif_event);
}
#else
typedef int kite_igmp_disabled_; /* ISO C wants a non-empty file */
#endif
