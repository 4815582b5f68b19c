/* SPDX-License-Identifier: BSD-3-Clause */
/* Library-only half of kite/stack.h: the dispatch tables filled at start-up
 * (DESIGN.md "going up") and the netif event hooks. */
#ifndef KITE_INTERNAL_STACK_H
#define KITE_INTERNAL_STACK_H

#include "kite/stack.h"

/* Pieces of kite_stack_init that live in core/. */
void kite__core_init(struct kite_stack *stack, const struct kite_stack_config *cfg);

/** Ethernet (and IP-level links, by version nibble) hand packets of type up. */
enum kite_err kite__stack_register_ethertype(struct kite_stack *stack, uint16_t type,
                                             kite_l3_input_fn input);
kite_l3_input_fn kite__stack_ethertype_handler(const struct kite_stack *stack, uint16_t type);
/** IP hands packets of proto up; error receives ICMP errors about packets sent with it. */
enum kite_err kite__stack_register_ip_proto(struct kite_stack *stack, uint8_t proto,
                                            kite_proto_input_fn input, kite_proto_error_fn error);
kite_proto_input_fn kite__stack_ip_proto_input(const struct kite_stack *stack, uint8_t proto);
kite_proto_error_fn kite__stack_ip_proto_error(const struct kite_stack *stack, uint8_t proto);
/** Be told about netif changes (see enum kite_netif_event for the order hooks run in). */
enum kite_err kite__stack_register_netif_hook(struct kite_stack *stack, kite_netif_event_fn fn);
void kite__stack_netif_event(struct kite_stack *stack, struct kite_netif *netif,
                             enum kite_netif_event event, uint32_t old);

/* The segment size of the TCP super-segment being sent (KITE_TSO), else 0. */
static inline uint16_t kite__stack_tso_segment(const struct kite_stack *stack)
{
#if KITE_TSO
    return stack->tx_tso_segment;
#else
    (void)stack;
    return 0;
#endif
}

#endif
