/* SPDX-License-Identifier: BSD-3-Clause */
/* Time is passed in by the caller: milliseconds on a monotonic clock. */
#ifndef KITE_TIME_H
#define KITE_TIME_H

#include <stdint.h>

/** Milliseconds of a monotonic clock chosen by the port (or virtual time). */
typedef uint64_t kite_time_ms;

/** "No deadline": an idle stack reports this from kite_stack_next_deadline(). */
#define KITE_TIME_NEVER UINT64_MAX

#endif
