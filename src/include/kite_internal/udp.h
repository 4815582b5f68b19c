/* SPDX-License-Identifier: BSD-3-Clause */
/* Library-only half of kite/udp.h. */
#ifndef KITE_INTERNAL_UDP_H
#define KITE_INTERNAL_UDP_H

#include "kite/udp.h"

void kite__udp_init(struct kite_stack *stack);

#endif
