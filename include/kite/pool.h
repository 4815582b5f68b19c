/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fixed-size block pools. The storage lives inside struct kite_stack, sized at
 * compile time by opts.h; a pool only threads a free list through it and keeps
 * used / peak / failed counters so "where did my memory go" has an answer.
 */
#ifndef KITE_POOL_H
#define KITE_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kite_pool {
    const char *name;
    uint8_t *base;   /* first block */
    void *free_list; /* singly linked through the blocks themselves */
    uint32_t elem_size;
    uint32_t clear_size; /* bytes zeroed by alloc (packet payloads are not) */
    uint16_t count;
    uint16_t used;
    uint16_t peak;
    uint32_t failed; /* allocations refused because the pool was empty */
};

/** Round a block size up so every block is aligned for any object. */
#define KITE_POOL_ALIGN(sz) (((sz) + sizeof(void *) * 2 - 1) & ~(sizeof(void *) * 2 - 1))

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
