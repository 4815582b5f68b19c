/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/opts.h"
#if KITE_AUTOIP /* the whole file is link-local addressing (KITE_AUTOIP = 0 leaves it out) */
/*
 * IPv4 link-local address autoconfiguration (RFC 3927). Candidates come from
 * a generator seeded with the MAC (RFC 3927 2.1: the same host tends to pick
 * the same sequence, different hosts different ones); each is claimed with
 * ACD (RFC 3927 2.2 follows RFC 5227's probing), and a conflict moves on to
 * the next candidate. ACD's conflict count carries over, so after
 * MAX_CONFLICTS a new candidate is probed only once per RATE_LIMIT_INTERVAL
 * (RFC 3927 2.2.1). ARP's broadcast rule for link-local senders (RFC 3927
 * 2.5) lives in arp.c.
 */
#include "kite/autoip.h"

#include "kite/netif.h"
#include "kite/stack.h"

#include "kite_internal/acd.h"

/* Candidates span 169.254.1.0 - 169.254.254.255: 254 * 256 addresses. */
#define CANDIDATES (KITE_AUTOIP_LAST - KITE_AUTOIP_FIRST + 1u)

uint32_t kite__autoip_seed(const uint8_t mac[6])
{
    /* FNV-1a over the MAC: every bit of it moves the seed. */
    uint32_t h = 2166136261u;
    for (int i = 0; i < 6; i++)
        h = (h ^ mac[i]) * 16777619u;
    return h != 0 ? h : 1u; /* xorshift never leaves 0 */
}

uint32_t kite__autoip_next(uint32_t *rand)
{
    uint32_t x = *rand;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *rand = x;
    return KITE_AUTOIP_FIRST + x % CANDIDATES;
}

static void claim_next(struct kite_netif *netif);

/* ACD gave up the candidate (a conflict): try the next one. */
static void lost(struct kite_netif *netif)
{
    if (netif->autoip.active)
        claim_next(netif);
}

static void claim_next(struct kite_netif *netif)
{
    netif->stack->stats.acd.autoip_candidates++;
    uint32_t addr = kite__autoip_next(&netif->autoip.rand);
    /* RFC 3927 2.1: a /16 with no gateway; everything is on the link. */
    (void)kite__acd_claim(netif, addr, 16, 0, lost);
}

enum kite_err kite_autoip_start(struct kite_netif *netif)
{
    if (netif == NULL || netif->stack == NULL || (netif->flags & KITE_NETIF_FLAG_ETHERNET) == 0)
        return KITE_ERR_ARG;
    if (netif->autoip.active)
        return KITE_ERR_OK;
    netif->autoip.active = true;
    netif->autoip.rand = kite__autoip_seed(netif->hwaddr);
    claim_next(netif);
    return KITE_ERR_OK;
}

void kite_autoip_stop(struct kite_netif *netif)
{
    if (!netif->autoip.active)
        return;
    netif->autoip.active = false;
    uint32_t addr = netif->acd.addr;
    kite_acd_stop(netif);
    if (netif->stack != NULL && netif->ip4.u.v4 == addr && kite_ip4_is_link_local(addr))
        (void)kite_netif_set_ipv4(netif, 0, 0, 0);
}

bool kite_autoip_bound(const struct kite_netif *netif)
{
    return netif->autoip.active && netif->acd.state == KITE_ACD_BOUND &&
           kite_ip4_is_link_local(netif->acd.addr);
}

#else
typedef int kite_autoip_disabled_; /* ISO C wants a non-empty file */
#endif /* KITE_AUTOIP */
