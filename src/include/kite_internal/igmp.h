/* SPDX-License-Identifier: BSD-3-Clause */
/* Library-only half of kite/igmp.h. */
#ifndef KITE_INTERNAL_IGMP_H
#define KITE_INTERNAL_IGMP_H

#include "kite/igmp.h"

/** Register IGMP's protocol handler, netif hook and the multicast filters. */
void kite__igmp_init(struct kite_stack *stack);

#endif
