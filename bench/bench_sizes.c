/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RAM cost of kite with the options it was built with: the size of the main
 * structures and of every pool. A stack's whole RAM is sizeof(struct
 * kite_stack), pools included; netifs and driver state come on top.
 * scripts/build-cortex-m4.sh prints the same figures for a 32-bit target.
 */
#include <stdio.h>

#include "kite/kite.h"
#include "kite/port/loopif.h"

static void print_structures(void)
{
    printf("%-26s %8s\n", "structure", "bytes");
#define SHOW(type) printf("%-26s %8zu\n", #type, sizeof(type))
    SHOW(struct kite_stack);
    SHOW(struct kite_pool_storage);
    SHOW(struct kite_pbuf);
    SHOW(struct kite_netif);
    SHOW(struct kite_udp_pcb);
#if KITE_TCP
    SHOW(struct kite_tcp_pcb);
    SHOW(struct kite_tcp_listener);
    SHOW(struct kite_tcp_loss);
#endif
    SHOW(struct kite_arp_entry);
    SHOW(struct kite_arp);
    SHOW(struct kite_ip4_reass);
    SHOW(struct kite_pmtu);
#if KITE_ACD
    SHOW(struct kite_acd); /* per netif, inside struct kite_netif */
#endif
#if KITE_AUTOIP
    SHOW(struct kite_autoip); /* per netif, inside struct kite_netif */
#endif
    SHOW(struct kite_stats);
    SHOW(struct kite_timer);
    SHOW(struct kite_loopif);
#if KITE_IGMP
    SHOW(struct kite_igmp);
    SHOW(struct kite_igmp_group);
    SHOW(struct kite_igmp_member);
    SHOW(struct kite_igmp_if);
#endif
#undef SHOW
}

/* One line of the pool table; returns the pool's bytes. */
static unsigned long show_pool(const char *name, unsigned long block, unsigned long count)
{
    printf("%-12s %10lu %6lu %10lu\n", name, block, count, block * count);
    return block * count;
}

static void print_pools(void)
{
    unsigned long total = 0;

    printf("\n%-12s %10s %6s %10s\n", "pool", "block", "count", "bytes");
    /* Same arithmetic as struct kite_pool_storage: blocks rounded by KITE_POOL_ALIGN. */
#define SHOW_POOL(id, name, size, count)                                                           \
    total += show_pool(name, (unsigned long)KITE_POOL_ALIGN(size), (unsigned long)(count));
    KITE_POOLS(SHOW_POOL)
#undef SHOW_POOL
    printf("%-12s %10s %6s %10lu\n", "sum", "", "", total);
    printf("\npool RAM per stack (kite_stack_pool_bytes): %lu bytes\n", kite_stack_pool_bytes());
    printf("stack RAM without pools: %lu bytes\n",
           (unsigned long)sizeof(struct kite_stack) - kite_stack_pool_bytes());
}

int main(void)
{
    printf("kite sizes on this host (%zu-bit pointers), default options\n\n", 8 * sizeof(void *));
    print_structures();
    print_pools();
    return 0;
}
