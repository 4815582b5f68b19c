/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Spinning before a sleep (KITE_OS_SPIN_US, host ports): a thread about to
 * sleep until something happens first checks for it without sleeping for up
 * to that long, yielding between checks, because waking a sleeping thread
 * costs tens of microseconds on a VM. That pays while what is awaited comes
 * within the spin. On a machine whose cores are all busy it does not: the
 * spinner holds a CPU that the thread it waits for needs, and every wait
 * costs a scheduler time slice. So each place that spins keeps a struct
 * kite_spin: a spin that ends empty-handed makes that place skip its next
 * spins (1, 2, 4 ... 64 of them) and sleep at once, until a spin succeeds.
 * For the POSIX port's files and host drivers (they need clock_gettime).
 */
#ifndef KITE_PORT_SPIN_H
#define KITE_PORT_SPIN_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "kite/opts.h"
#include "kite/port/os.h" /* struct kite_spin */

#define KITE_SPIN_BACKOFF_MAX 64u

static inline uint64_t kite_spin_now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

/** Call ready(ctx) until it is true or KITE_OS_SPIN_US has passed, yielding
 *  between calls; whether it became true. Skipped (false at once) while s
 *  backs off. s belongs to one thread at a time (its counters are plain
 *  bytes, read and written with relaxed atomics so sharing is merely
 *  imprecise). */
static inline bool kite_spin_until(struct kite_spin *s, bool (*ready)(void *ctx), void *ctx)
{
    if (KITE_OS_SPIN_US == 0)
        return false;
    uint8_t skip = __atomic_load_n(&s->skip, __ATOMIC_RELAXED);
    if (skip > 0) {
        __atomic_store_n(&s->skip, (uint8_t)(skip - 1u), __ATOMIC_RELAXED);
        return false;
    }
    uint64_t end = kite_spin_now_us() + KITE_OS_SPIN_US;
    do {
        if (ready(ctx)) {
            __atomic_store_n(&s->backoff, 0, __ATOMIC_RELAXED);
            return true;
        }
        sched_yield();
    } while (kite_spin_now_us() < end);
    uint8_t b = __atomic_load_n(&s->backoff, __ATOMIC_RELAXED);
    b = b == 0                      ? 1u
        : b < KITE_SPIN_BACKOFF_MAX ? (uint8_t)(b * 2u)
                                    : (uint8_t)KITE_SPIN_BACKOFF_MAX;
    __atomic_store_n(&s->backoff, b, __ATOMIC_RELAXED);
    __atomic_store_n(&s->skip, b, __ATOMIC_RELAXED);
    return false;
}

/** A spin on s that ended without its condition yet did useful work meanwhile
 *  (a driver that ran frames, say): no back-off for it. */
static inline void kite_spin_forgive(struct kite_spin *s)
{
    __atomic_store_n(&s->backoff, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&s->skip, 0, __ATOMIC_RELAXED);
}

#endif
