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

#endif
