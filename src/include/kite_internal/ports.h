/* SPDX-License-Identifier: BSD-3-Clause */
/* Local port bookkeeping shared by UDP and TCP. */
#ifndef KITE_INTERNAL_PORTS_H
#define KITE_INTERNAL_PORTS_H

#include <stdbool.h>
#include <stdint.h>

#include "kite/addr.h"

struct kite_stack;

/** Two local endpoints on one port clash when either address is the wildcard or both match. */
bool kite__local_addrs_clash(const struct kite_addr *a, const struct kite_addr *b);

typedef bool (*kite_port_taken_fn)(const void *ctx, uint16_t port);

/**
 * The next port of the ephemeral range, from *next on, that taken() does not
 * refuse; *next moves past it. 0 when the whole range is taken.
 */
uint16_t kite__ephemeral_port(uint16_t *next, kite_port_taken_fn taken, const void *ctx);

/** RFC 6056 3.3.1: start the ephemeral search at a random point. */
uint16_t kite__ephemeral_start(struct kite_stack *stack);

#endif
