/* SPDX-License-Identifier: BSD-3-Clause */
/* Library-only half of kite/timer.h. */
#ifndef KITE_INTERNAL_TIMER_H
#define KITE_INTERNAL_TIMER_H

#include "kite/timer.h"

/** Fire every timer whose deadline is <= now, in deadline order. */
void kite__timers_run(struct kite_stack *stack, kite_time_ms now);

#endif
