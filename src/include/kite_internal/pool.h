/* SPDX-License-Identifier: BSD-3-Clause */
/* Library-only half of kite/pool.h: allocation from a stack's pools. */
#ifndef KITE_INTERNAL_POOL_H
#define KITE_INTERNAL_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kite/pool.h"

void kite__pool_init(struct kite_pool *pool, const char *name, void *mem, size_t elem_size,
                     uint16_t count);
/** Zero only the first n bytes of a block on allocation (default: all of it). */
void kite__pool_set_clear_size(struct kite_pool *pool, size_t n);
/** A zero-filled block (see clear_size), or NULL (and failed++) when the pool is empty. */
void *kite__pool_alloc(struct kite_pool *pool);
void kite__pool_free(struct kite_pool *pool, void *block);
/** True when ptr is the start of one of this pool's blocks. */
bool kite__pool_owns(const struct kite_pool *pool, const void *ptr);

#endif
