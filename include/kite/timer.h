/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * On-demand timers. A timer is embedded in the object that owns it and is
 * linked into the stack's deadline-sorted list only while armed, so an idle
 * stack has no deadline at all (DESIGN.md principle 2).
 */
#ifndef KITE_TIMER_H
#define KITE_TIMER_H

#include <stdbool.h>
#include <stddef.h>

#include "kite/time.h"

struct kite_stack;
struct kite_timer;

typedef void (*kite_timer_fn)(struct kite_stack *stack, struct kite_timer *timer);

struct kite_timer {
    struct kite_timer *next;
    kite_time_ms deadline;
    kite_timer_fn fn;
    bool armed;
};

#define KITE_CONTAINER_OF(ptr, type, member)                                                       \
    ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

void kite_timer_init(struct kite_timer *timer, kite_timer_fn fn);
/** Arm (or re-arm) the timer to fire at an absolute time. */
void kite_timer_arm(struct kite_stack *stack, struct kite_timer *timer, kite_time_ms deadline);
void kite_timer_cancel(struct kite_stack *stack, struct kite_timer *timer);
static inline bool kite_timer_armed(const struct kite_timer *timer)
{
    return timer->armed;
}

#endif
