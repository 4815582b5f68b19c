/* SPDX-License-Identifier: BSD-3-Clause */
/* Assembles a stack: the only file that names every layer. It fills the
 * dispatch tables at start-up so lower layers never name higher ones. */
#include "kite/stack.h"

#include "kite_internal/arp.h"
#include "kite_internal/icmp4.h"
#include "kite_internal/igmp.h"
#include "kite_internal/ipv4.h"
#include "kite_internal/stack.h"
#include "kite_internal/tcp.h"
#include "kite_internal/raw.h"
#include "kite_internal/udp.h"

enum kite_err kite_stack_init(struct kite_stack *stack, const struct kite_stack_config *cfg)
{
    if (stack == NULL)
        return KITE_ERR_ARG;
    kite__core_init(stack, cfg);
    kite__arp_init(stack);
    kite__ipv4_init(stack);
    kite__icmp4_init(stack);
#if KITE_IGMP
    kite__igmp_init(stack);
#endif
    kite__udp_init(stack);
#if KITE_RAW
    kite__raw_init(stack);
#endif
#if KITE_TCP
    kite__tcp_init(stack);
#endif
    return KITE_ERR_OK;
}

void kite_stack_deinit(struct kite_stack *stack)
{
    while (stack->netifs != NULL)
        kite_netif_remove(stack->netifs);
    kite__ipv4_deinit(stack);
    kite__arp_flush(stack);
    while (stack->udp.pcbs != NULL)
        kite_udp_remove(stack->udp.pcbs);
#if KITE_TCP
    kite__tcp_deinit(stack);
#endif
}
