/* SPDX-License-Identifier: BSD-3-Clause */
/* Library-only half of kite/raw.h. */
#ifndef KITE_INTERNAL_RAW_H
#define KITE_INTERNAL_RAW_H

#include "kite/raw.h"

void kite__raw_init(struct kite_stack *stack);

#endif
