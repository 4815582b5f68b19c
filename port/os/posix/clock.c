/* SPDX-License-Identifier: BSD-3-Clause */
/* The POSIX port's clock: the only place kite reads the time of the host. */
#include "kite/port/clock.h"

#include <time.h>

kite_time_ms kite_port_now_ms(void)
{
    struct timespec ts;
    /* CLOCK_MONOTONIC never jumps when the wall clock is set, so timer
     * deadlines computed from it stay meaningful. */
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (kite_time_ms)ts.tv_sec * 1000u + (kite_time_ms)ts.tv_nsec / 1000000u;
}
