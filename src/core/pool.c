/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/pool.h"

#include "kite/opts.h"

#include <string.h>

void kite__pool_init(struct kite_pool *pool, const char *name, void *mem, size_t elem_size,
                     uint16_t count)
{
    memset(pool, 0, sizeof *pool);
    pool->name = name;
    pool->base = mem;
    pool->elem_size = (uint32_t)elem_size;
    pool->count = count;
    /* Thread the free list so the first block is handed out first. */
    for (uint16_t i = count; i > 0; i--) {
        void *block = pool->base + (size_t)(i - 1u) * elem_size;
        memcpy(block, &pool->free_list, sizeof(void *));
        pool->free_list = block;
    }
}

void *kite__pool_alloc(struct kite_pool *pool)
{
    void *block = pool->free_list;
    if (block == NULL) {
        pool->failed++;
        return NULL;
    }
    memcpy(&pool->free_list, block, sizeof(void *));
    memset(block, 0, pool->elem_size);
    pool->used++;
    if (pool->used > pool->peak)
        pool->peak = pool->used;
    return block;
}

bool kite__pool_owns(const struct kite_pool *pool, const void *ptr)
{
    const uint8_t *p = ptr;
    size_t span = (size_t)pool->elem_size * pool->count;
    if (p < pool->base || p >= pool->base + span)
        return false;
    return (size_t)(p - pool->base) % pool->elem_size == 0;
}

#if KITE_CHECKS
static bool on_free_list(const struct kite_pool *pool, const void *block)
{
    for (void *b = pool->free_list; b != NULL; memcpy(&b, b, sizeof b))
        if (b == block)
            return true;
    return false;
}
#endif

void kite__pool_free(struct kite_pool *pool, void *block)
{
    if (block == NULL)
        return;
#if KITE_CHECKS
    /* Freeing a foreign block or freeing twice would corrupt the pool. */
    if (!kite__pool_owns(pool, block) || on_free_list(pool, block) || pool->used == 0)
        __builtin_trap();
#endif
    memcpy(block, &pool->free_list, sizeof(void *));
    pool->free_list = block;
    pool->used--;
}
