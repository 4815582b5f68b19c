/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite_internal/pool.h"

#include <string.h>

#include "kite/opts.h"

void kite__pool_init(struct kite_pool *pool, const char *name, void *mem, size_t elem_size,
                     uint16_t count)
{
    memset(pool, 0, sizeof *pool);
    pool->name = name;
    pool->base = mem;
    pool->elem_size = (uint32_t)elem_size;
    pool->clear_size = (uint32_t)elem_size;
    pool->count = count;
    /* Thread the free list so the first block is handed out first. */
    for (uint16_t i = count; i > 0; i--) {
        void *block = pool->base + (size_t)(i - 1u) * elem_size;
        memcpy(block, &pool->free_list, sizeof(void *));
        pool->free_list = block;
    }
}

void kite__pool_set_clear_size(struct kite_pool *pool, size_t n)
{
    pool->clear_size = n < pool->elem_size ? (uint32_t)n : pool->elem_size;
    if (pool->clear_size < 2 * sizeof(void *))
        pool->clear_size = 2 * sizeof(void *); /* the free marker must be wiped */
}

/* A freed block carries this in its second word, so a second free is caught
 * in O(1) (KITE_CHECKS). Live objects never hold it there: every pooled type
 * starts with two pointers. */
static uintptr_t free_marker(const struct kite_pool *pool)
{
    return (uintptr_t)pool ^ (uintptr_t)0x6b69746566726565ull; /* "kitefree" */
}

void *kite__pool_alloc(struct kite_pool *pool)
{
    void *block = pool->free_list;
    if (block == NULL) {
        pool->failed++;
        return NULL;
    }
    memcpy(&pool->free_list, block, sizeof(void *));
    memset(block, 0, pool->clear_size);
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

void kite__pool_free(struct kite_pool *pool, void *block)
{
    if (block == NULL)
        return;
    uintptr_t marker = free_marker(pool);
#if KITE_CHECKS
    /* Freeing a foreign block or freeing twice would corrupt the pool. */
    uintptr_t second;
    memcpy(&second, (uint8_t *)block + sizeof(void *), sizeof second);
    if (!kite__pool_owns(pool, block) || second == marker || pool->used == 0)
        __builtin_trap();
#endif
    memcpy((uint8_t *)block + sizeof(void *), &marker, sizeof marker);
    memcpy(block, &pool->free_list, sizeof(void *));
    pool->free_list = block;
    pool->used--;
}
