/* SPDX-License-Identifier: BSD-3-Clause */
/* What igmp.c (membership, interface state, API) and igmp_proto.c (messages,
 * queries, reports, timers) share. */
#ifndef KITE_NET_IGMP_PRIV_H
#define KITE_NET_IGMP_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "kite/igmp.h"
#include "kite/stack.h"

#define IGMP_GF_LAST_REPORTER 0x01u /* v1/v2: we sent the last report (RFC 2236 3 "flag") */
#define IGMP_CHG_BLOCK 0x80u        /* chg_left: the source is reported in BLOCK, else ALLOW */
#define IGMP_CHG_COUNT 0x7fu

/* A group's interface state has a reception state (RFC 3376 3.2: INCLUDE {}
 * is none): the netif is a member. */
static inline bool igmp_group_exists(const struct kite_igmp_group *g)
{
    return g->mode == KITE_IGMP_EXCLUDE || g->nsrc > 0;
}

static inline bool igmp_in_list(const uint32_t *list, unsigned n, uint32_t a)
{
    for (unsigned i = 0; i < n; i++)
        if (list[i] == a)
            return true;
    return false;
}

struct kite_igmp_group *kite__igmp_group_find(struct kite_stack *stack,
                                              const struct kite_netif *netif, uint32_t addr);
/** Free g once it has no reception state and nothing left to report. */
void kite__igmp_group_release(struct kite_stack *stack, struct kite_igmp_group *g);
/** The Robustness Variable in force on netif. */
uint8_t kite__igmp_robustness(const struct kite_netif *netif);

/* igmp_proto.c */
void kite__igmp_proto_init(struct kite_stack *stack);
/** RFC 3376 5.1: g's interface state changed from (old_mode, old_src[old_n]). */
void kite__igmp_state_changed(struct kite_stack *stack, struct kite_igmp_group *g, uint8_t old_mode,
                              const uint32_t *old_src, uint8_t old_n);
/** Arm the IGMP timer at the earliest pending report, or cancel it. */
void kite__igmp_rearm(struct kite_stack *stack);
/** The netif came up: report every group again; went down: forget pending reports. */
void kite__igmp_netif_up(struct kite_stack *stack, struct kite_netif *netif);
void kite__igmp_netif_down(struct kite_stack *stack, struct kite_netif *netif);

#endif
