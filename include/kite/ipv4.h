/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 input/output and routing over several netifs with a default gateway. */
#ifndef KITE_IPV4_H
#define KITE_IPV4_H

#include <stdbool.h>
#include <stdint.h>

#include "kite/err.h"

struct kite_stack;
struct kite_netif;
struct kite_pbuf;

/**
 * Pick the outgoing netif for dst: the loopback netif for 127/8 and for our
 * own addresses (NULL if no loopback netif was added), else a netif whose
 * subnet holds dst, else the default netif. NULL when nothing matches.
 */
struct kite_netif *kite_ipv4_route(struct kite_stack *stack, uint32_t dst);

/** True if ip is one of the stack's own addresses. */
bool kite_ipv4_is_local(struct kite_stack *stack, uint32_t ip);

#endif
