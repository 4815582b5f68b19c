/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef KITE_PORT_CLOCK_H
#define KITE_PORT_CLOCK_H

#include "kite/time.h"

/** Milliseconds of CLOCK_MONOTONIC (POSIX port). */
kite_time_ms kite_port_now_ms(void);

#endif
