/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/stack.h"

#include "kite_internal/timer.h"

void kite_timer_init(struct kite_timer *timer, kite_timer_fn fn)
{
    timer->next = NULL;
    timer->deadline = KITE_TIME_NEVER;
    timer->fn = fn;
    timer->armed = false;
}

static void unlink_timer(struct kite_stack *stack, struct kite_timer *timer)
{
    for (struct kite_timer **pp = &stack->timers; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == timer) {
            *pp = timer->next;
            break;
        }
    }
    timer->next = NULL;
    timer->armed = false;
}

void kite_timer_arm(struct kite_stack *stack, struct kite_timer *timer, kite_time_ms deadline)
{
    if (timer->armed)
        unlink_timer(stack, timer);
    timer->deadline = deadline;
    timer->armed = true;
    /* Insert after every timer with an earlier or equal deadline: FIFO among equals. */
    struct kite_timer **pp = &stack->timers;
    while (*pp != NULL && (*pp)->deadline <= deadline)
        pp = &(*pp)->next;
    timer->next = *pp;
    *pp = timer;
}

void kite_timer_cancel(struct kite_stack *stack, struct kite_timer *timer)
{
    if (timer->armed)
        unlink_timer(stack, timer);
}

void kite__timers_run(struct kite_stack *stack, kite_time_ms now)
{
    /* A callback may re-arm its timer at <= now; bound the work per poll so a
     * timer that keeps re-arming itself in the past cannot hang the loop. */
    unsigned budget = 1024;
    while (stack->timers != NULL && stack->timers->deadline <= now && budget-- > 0) {
        struct kite_timer *t = stack->timers;
        stack->timers = t->next;
        t->next = NULL;
        t->armed = false;
        t->fn(stack, t);
    }
}
