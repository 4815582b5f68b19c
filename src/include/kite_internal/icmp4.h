/* SPDX-License-Identifier: BSD-3-Clause */
/* Library-only half of kite/icmp4.h. */
#ifndef KITE_INTERNAL_ICMP4_H
#define KITE_INTERNAL_ICMP4_H

#include <stdint.h>

#include "kite/icmp4.h"

void kite__icmp4_init(struct kite_stack *stack);
/** Send a destination-unreachable error about the IP packet whose IP header
 *  starts at p->payload (p not consumed). Rate limited. */
void kite__icmp4_dest_unreach(struct kite_stack *stack, struct kite_pbuf *p, uint8_t code);

#endif
