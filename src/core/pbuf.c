/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/pbuf.h"

#include <string.h>

#include "kite/stack.h"

#include "kite_internal/pbuf.h"
#include "kite_internal/pool.h"

#define TRAP_UNLESS(cond)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

static struct kite_pool *pool_of(struct kite_stack *stack, uint8_t type)
{
    switch (type) {
    case KITE_PBUF_POOL:
        return &stack->pools[KITE_POOL_PBUF_POOL];
    case KITE_PBUF_RAM:
        return &stack->pools[KITE_POOL_PBUF_RAM];
    default:
        return &stack->pools[KITE_POOL_PBUF_REF];
    }
}

static uint8_t *buffer_start(const struct kite_pbuf *p)
{
    return (uint8_t *)(uintptr_t)p + KITE_PBUF_STRUCT_SIZE;
}

static struct kite_pbuf *new_pbuf(struct kite_stack *stack, uint8_t type, uint16_t room,
                                  uint16_t len)
{
    struct kite_pbuf *p = kite__pool_alloc(pool_of(stack, type));
    if (p == NULL)
        return NULL;
    p->type = type;
    p->ref = 1;
    p->len = len;
    p->tot_len = len;
    p->payload = type == KITE_PBUF_POOL || type == KITE_PBUF_RAM ? buffer_start(p) + room : NULL;
    return p;
}

static struct kite_pbuf *alloc_pool_chain(struct kite_stack *stack, uint16_t room, uint16_t len)
{
    if (room > KITE_PBUF_POOL_BUFSIZE)
        return NULL;
    uint16_t first = (uint16_t)(KITE_PBUF_POOL_BUFSIZE - room);
    if (first > len)
        first = len;
    struct kite_pbuf *head = new_pbuf(stack, KITE_PBUF_POOL, room, first);
    if (head == NULL)
        return NULL;
    head->tot_len = len;
    struct kite_pbuf *last = head;
    uint16_t left = (uint16_t)(len - first);
    while (left > 0) {
        uint16_t n = left < KITE_PBUF_POOL_BUFSIZE ? left : (uint16_t)KITE_PBUF_POOL_BUFSIZE;
        struct kite_pbuf *q = new_pbuf(stack, KITE_PBUF_POOL, 0, n);
        if (q == NULL) {
            kite_pbuf_free(stack, head);
            return NULL;
        }
        q->tot_len = left;
        last->next = q;
        last = q;
        left = (uint16_t)(left - n);
    }
    return head;
}

static struct kite_pbuf *alloc_once(struct kite_stack *stack, uint16_t header_room, uint16_t len,
                                    enum kite_pbuf_type type);

struct kite_pbuf *kite_pbuf_alloc(struct kite_stack *stack, uint16_t header_room, uint16_t len,
                                  enum kite_pbuf_type type)
{
    struct kite_pbuf *p = alloc_once(stack, header_room, len, type);
    /* Out of blocks: let upper layers give back what they hold only
     * speculatively (out-of-order data), then try once more. */
    if (p == NULL && stack->reclaim != NULL && !stack->reclaiming) {
        stack->reclaiming = true;
        unsigned freed = stack->reclaim(stack);
        stack->reclaiming = false;
        if (freed > 0)
            p = alloc_once(stack, header_room, len, type);
    }
    return p;
}

static struct kite_pbuf *alloc_once(struct kite_stack *stack, uint16_t header_room, uint16_t len,
                                    enum kite_pbuf_type type)
{
    if ((uint32_t)header_room + len > UINT16_MAX)
        return NULL;
    switch (type) {
    case KITE_PBUF_POOL:
        return alloc_pool_chain(stack, header_room, len);
    case KITE_PBUF_RAM:
        if ((uint32_t)header_room + len > KITE_PBUF_RAM_BUFSIZE)
            return NULL;
        return new_pbuf(stack, KITE_PBUF_RAM, header_room, len);
    case KITE_PBUF_REF:
    case KITE_PBUF_ROM:
        return new_pbuf(stack, (uint8_t)type, 0, len);
    }
    return NULL;
}

struct kite_pbuf *kite_pbuf_alloc_ref(struct kite_stack *stack, const void *data, uint16_t len,
                                      enum kite_pbuf_type type)
{
    if (type != KITE_PBUF_REF && type != KITE_PBUF_ROM)
        return NULL;
    struct kite_pbuf *p = new_pbuf(stack, (uint8_t)type, 0, len);
    if (p != NULL)
        p->payload = (uint8_t *)(uintptr_t)data;
    return p;
}

struct kite_pbuf *kite_pbuf_alloc_rx(struct kite_stack *stack, uint16_t len)
{
    struct kite_pbuf *p = kite_pbuf_alloc(stack, 0, len, KITE_PBUF_POOL);
    if (p == NULL && len <= KITE_PBUF_RAM_BUFSIZE)
        p = kite_pbuf_alloc(stack, 0, len, KITE_PBUF_RAM);
    return p;
}

struct kite_pbuf *kite_pbuf_from_data(struct kite_stack *stack, uint16_t header_room,
                                      const void *data, uint16_t len, bool is_volatile)
{
    if (!is_volatile) {
        /* The caller promises the bytes stay unchanged: reference, don't copy. */
        return kite_pbuf_alloc_ref(stack, data, len, KITE_PBUF_ROM);
    }
    enum kite_pbuf_type type =
        (uint32_t)header_room + len <= KITE_PBUF_RAM_BUFSIZE ? KITE_PBUF_RAM : KITE_PBUF_POOL;
    struct kite_pbuf *p = kite_pbuf_alloc(stack, header_room, len, type);
    if (p != NULL && len > 0)
        (void)kite_pbuf_copy_in(p, data, len, 0);
    return p;
}

unsigned kite_pbuf_free(struct kite_stack *stack, struct kite_pbuf *p)
{
    unsigned freed = 0;
    while (p != NULL) {
        TRAP_UNLESS(p->ref > 0);
        if (--p->ref > 0)
            break;
        struct kite_pbuf *next = p->next;
        struct kite_pool *pool = pool_of(stack, p->type);
#if KITE_CHECKS
        /* A pbuf freed into a stack that does not own it would corrupt both. */
        TRAP_UNLESS(kite__pool_owns(pool, p));
#endif
        kite__pool_free(pool, p);
        freed++;
        p = next;
    }
    return freed;
}

void kite_pbuf_ref(struct kite_pbuf *p)
{
    TRAP_UNLESS(p->ref < UINT16_MAX);
    p->ref++;
}

uint16_t kite_pbuf_header_room(const struct kite_pbuf *p)
{
    if (p->type != KITE_PBUF_POOL && p->type != KITE_PBUF_RAM)
        return 0;
    return (uint16_t)(p->payload - buffer_start(p));
}

enum kite_err kite_pbuf_header_add(struct kite_pbuf *p, uint16_t n)
{
    if (n > kite_pbuf_header_room(p) || (uint32_t)p->tot_len + n > UINT16_MAX)
        return KITE_ERR_BUF;
    p->payload -= n;
    p->len = (uint16_t)(p->len + n);
    p->tot_len = (uint16_t)(p->tot_len + n);
    return KITE_ERR_OK;
}

enum kite_err kite_pbuf_header_remove(struct kite_pbuf *p, uint16_t n)
{
    if (n > p->len)
        return KITE_ERR_BUF;
    p->payload += n;
    p->len = (uint16_t)(p->len - n);
    p->tot_len = (uint16_t)(p->tot_len - n);
    return KITE_ERR_OK;
}

void kite_pbuf_cat(struct kite_pbuf *head, struct kite_pbuf *tail)
{
    struct kite_pbuf *q = head;
    for (;;) {
        q->tot_len = (uint16_t)(q->tot_len + tail->tot_len);
        if (q->next == NULL)
            break;
        q = q->next;
    }
    q->next = tail;
}

void kite_pbuf_trim(struct kite_stack *stack, struct kite_pbuf *p, uint16_t new_len)
{
    if (new_len >= p->tot_len)
        return;
    struct kite_pbuf *q = p;
    uint16_t cut = (uint16_t)(p->tot_len - new_len);
    uint16_t rem = new_len;
    while (rem > q->len) {
        q->tot_len = (uint16_t)(q->tot_len - cut);
        rem = (uint16_t)(rem - q->len);
        q = q->next;
    }
    q->len = rem;
    q->tot_len = rem;
    if (q->next != NULL) {
        kite_pbuf_free(stack, q->next);
        q->next = NULL;
    }
}

uint16_t kite_pbuf_copy_out(const struct kite_pbuf *p, void *dst, uint16_t len, uint16_t offset)
{
    uint8_t *out = dst;
    uint16_t copied = 0;
    for (const struct kite_pbuf *q = p; q != NULL && copied < len; q = q->next) {
        if (offset >= q->len) {
            offset = (uint16_t)(offset - q->len);
            continue;
        }
        uint16_t n = (uint16_t)(q->len - offset);
        if (n > len - copied)
            n = (uint16_t)(len - copied);
        memcpy(out + copied, q->payload + offset, n);
        copied = (uint16_t)(copied + n);
        offset = 0;
    }
    return copied;
}

enum kite_err kite_pbuf_copy_in(struct kite_pbuf *p, const void *src, uint16_t len, uint16_t offset)
{
    if ((uint32_t)offset + len > p->tot_len)
        return KITE_ERR_BUF;
    const uint8_t *in = src;
    uint16_t done = 0;
    for (struct kite_pbuf *q = p; q != NULL && done < len; q = q->next) {
        if (offset >= q->len) {
            offset = (uint16_t)(offset - q->len);
            continue;
        }
        if (q->type == KITE_PBUF_ROM)
            return KITE_ERR_ARG;
        uint16_t n = (uint16_t)(q->len - offset);
        if (n > len - done)
            n = (uint16_t)(len - done);
        memcpy(q->payload + offset, in + done, n);
        done = (uint16_t)(done + n);
        offset = 0;
    }
    return KITE_ERR_OK;
}

int kite_pbuf_get_u8(const struct kite_pbuf *p, uint16_t offset)
{
    for (const struct kite_pbuf *q = p; q != NULL; q = q->next) {
        if (offset < q->len)
            return q->payload[offset];
        offset = (uint16_t)(offset - q->len);
    }
    return -1;
}

const uint8_t *kite_pbuf_contiguous(const struct kite_pbuf *p, uint8_t *scratch, uint16_t len)
{
    if (p->len >= len)
        return p->payload;
    if (p->tot_len < len)
        return NULL;
    (void)kite_pbuf_copy_out(p, scratch, len, 0);
    return scratch;
}

struct kite_pbuf *kite_pbuf_clone(struct kite_stack *stack, uint16_t header_room,
                                  const struct kite_pbuf *p)
{
    enum kite_pbuf_type type = (uint32_t)header_room + p->tot_len <= KITE_PBUF_RAM_BUFSIZE
                                   ? KITE_PBUF_RAM
                                   : KITE_PBUF_POOL;
    struct kite_pbuf *c = kite_pbuf_alloc(stack, header_room, p->tot_len, type);
    if (c == NULL)
        return NULL;
    uint16_t off = 0;
    for (const struct kite_pbuf *q = p; q != NULL; q = q->next) {
        (void)kite_pbuf_copy_in(c, q->payload, q->len, off);
        off = (uint16_t)(off + q->len);
    }
    c->flags = p->flags;
    return c;
}

bool kite_pbuf_check(const struct kite_pbuf *p)
{
    for (const struct kite_pbuf *q = p; q != NULL; q = q->next) {
        uint32_t rest = q->next != NULL ? q->next->tot_len : 0;
        if (q->tot_len != q->len + rest || q->ref == 0)
            return false;
    }
    return true;
}

struct kite_pbuf *kite__pbuf_drop_front(struct kite_stack *stack, struct kite_pbuf *p, uint32_t n)
{
    while (p != NULL && n > 0 && n >= p->len) {
        struct kite_pbuf *next = p->next;
        n -= p->len;
        p->next = NULL; /* cut the link so only the head goes */
        kite_pbuf_free(stack, p);
        p = next;
    }
    if (p != NULL && n > 0)
        (void)kite_pbuf_header_remove(p, (uint16_t)n);
    if (p != NULL && p->tot_len == 0) {
        kite_pbuf_free(stack, p);
        return NULL;
    }
    return p;
}

struct kite_pbuf *kite__pbuf_prepend(struct kite_stack *stack, struct kite_pbuf *p, uint16_t hlen,
                                     uint16_t room)
{
    if (kite_pbuf_header_add(p, hlen) == KITE_ERR_OK)
        return p;
    if ((uint32_t)p->tot_len + hlen > UINT16_MAX)
        return NULL;
    struct kite_pbuf *head = kite_pbuf_alloc(stack, room, hlen, KITE_PBUF_RAM);
    if (head == NULL)
        return NULL;
    kite_pbuf_ref(p);
    kite_pbuf_cat(head, p);
    return head;
}

void kite__pbuf_unprepend(struct kite_stack *stack, struct kite_pbuf *head, struct kite_pbuf *p,
                          uint16_t hlen)
{
    if (head == p)
        (void)kite_pbuf_header_remove(p, hlen);
    else
        kite_pbuf_free(stack, head);
}
