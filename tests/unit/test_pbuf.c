/* SPDX-License-Identifier: BSD-3-Clause */
/* pbuf and pool invariants: chains, reference counts, header room, exhaustion. */
#include <stdlib.h>
#include <string.h>

#include "kite_internal/pbuf.h"
#include "testutil.h"

static int setup(void **state)
{
    struct kite_stack *s = calloc(1, sizeof *s);
    assert_int_equal(kite_stack_init(s, NULL), KITE_ERR_OK);
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    struct kite_stack *s = *state;
    kt_assert_pools_empty(s);
    kite_stack_deinit(s);
    free(s);
    return 0;
}

static void test_pool_chain_tot_len(void **state)
{
    struct kite_stack *s = *state;
    uint16_t len = KITE_PBUF_POOL_BUFSIZE * 2 + 100;
    struct kite_pbuf *p = kite_pbuf_alloc(s, KITE_LAYER_IP, len, KITE_PBUF_POOL);
    assert_non_null(p);
    assert_int_equal(p->tot_len, len);
    assert_non_null(p->next);
    assert_true(kite_pbuf_check(p));
    assert_int_equal(p->len, KITE_PBUF_POOL_BUFSIZE - KITE_LAYER_IP);
    assert_int_equal(kite_pbuf_header_room(p), KITE_LAYER_IP);
    unsigned n = 0;
    for (struct kite_pbuf *q = p; q; q = q->next)
        n++;
    assert_int_equal(kite_stack_pool(s, KITE_POOL_PBUF_POOL)->used, n);
    assert_int_equal(kite_pbuf_free(s, p), n);
}

static void test_copy_in_out_across_chain(void **state)
{
    struct kite_stack *s = *state;
    /* Big enough to chain at least two blocks whatever the block size. */
    static uint8_t data[KITE_PBUF_POOL_BUFSIZE + 300], back[sizeof data];
    for (unsigned i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    struct kite_pbuf *p = kite_pbuf_alloc(s, 0, sizeof data, KITE_PBUF_POOL);
    assert_non_null(p);
    assert_int_equal(kite_pbuf_copy_in(p, data, sizeof data, 0), KITE_ERR_OK);
    assert_int_equal(kite_pbuf_copy_out(p, back, sizeof back, 0), sizeof back);
    assert_memory_equal(data, back, sizeof data);
    /* Offsets that straddle pbuf boundaries. */
    assert_int_equal(kite_pbuf_copy_out(p, back, 100, KITE_PBUF_POOL_BUFSIZE - 50), 100);
    assert_memory_equal(back, data + KITE_PBUF_POOL_BUFSIZE - 50, 100);
    uint16_t end = (uint16_t)sizeof data;
    assert_int_equal(kite_pbuf_get_u8(p, end - 100), data[end - 100]);
    assert_int_equal(kite_pbuf_get_u8(p, end), -1);
    assert_int_equal(kite_pbuf_copy_in(p, data, 10, end - 5), KITE_ERR_BUF);
    assert_int_equal(kite_pbuf_copy_out(p, back, 100, end - 50), 50);
    kite_pbuf_free(s, p);
}

static void test_header_add_remove(void **state)
{
    struct kite_stack *s = *state;
    struct kite_pbuf *p = kite_pbuf_alloc(s, KITE_LAYER_TRANSPORT, 10, KITE_PBUF_RAM);
    assert_non_null(p);
    uint8_t *payload = p->payload;
    assert_int_equal(kite_pbuf_header_add(p, 8), KITE_ERR_OK);
    assert_ptr_equal(p->payload, payload - 8);
    assert_int_equal(p->len, 18);
    assert_int_equal(p->tot_len, 18);
    assert_int_equal(kite_pbuf_header_add(p, KITE_LAYER_TRANSPORT), KITE_ERR_BUF);
    assert_int_equal(kite_pbuf_header_remove(p, 8), KITE_ERR_OK);
    assert_ptr_equal(p->payload, payload);
    assert_int_equal(kite_pbuf_header_remove(p, 11), KITE_ERR_BUF);
    kite_pbuf_free(s, p);
}

static void test_ram_too_big_fails(void **state)
{
    struct kite_stack *s = *state;
    assert_null(kite_pbuf_alloc(s, 100, KITE_PBUF_RAM_BUFSIZE, KITE_PBUF_RAM));
    assert_null(kite_pbuf_alloc(s, 60000, 60000, KITE_PBUF_POOL));
}

static void test_refcount(void **state)
{
    struct kite_stack *s = *state;
    struct kite_pbuf *p = kite_pbuf_alloc(s, 0, 10, KITE_PBUF_RAM);
    kite_pbuf_ref(p);
    assert_int_equal(kite_pbuf_free(s, p), 0);
    assert_int_equal(kite_stack_pool(s, KITE_POOL_PBUF_RAM)->used, 1);
    assert_int_equal(kite_pbuf_free(s, p), 1);
}

static void test_cat_and_shared_tail(void **state)
{
    struct kite_stack *s = *state;
    struct kite_pbuf *a = kite_pbuf_alloc(s, 0, 10, KITE_PBUF_RAM);
    struct kite_pbuf *b = kite_pbuf_alloc(s, 0, 20, KITE_PBUF_RAM);
    kite_pbuf_ref(b); /* b is also held elsewhere */
    kite_pbuf_cat(a, b);
    assert_int_equal(a->tot_len, 30);
    assert_true(kite_pbuf_check(a));
    assert_int_equal(kite_pbuf_free(s, a), 1); /* b survives: still referenced */
    assert_int_equal(b->ref, 1);
    assert_int_equal(kite_pbuf_free(s, b), 1);
}

static void test_trim(void **state)
{
    struct kite_stack *s = *state;
    struct kite_pbuf *p = kite_pbuf_alloc(s, 0, KITE_PBUF_POOL_BUFSIZE + 300, KITE_PBUF_POOL);
    unsigned before = kite_stack_pool(s, KITE_POOL_PBUF_POOL)->used;
    kite_pbuf_trim(s, p, 100);
    assert_int_equal(p->tot_len, 100);
    assert_int_equal(p->len, 100);
    assert_null(p->next);
    assert_true(kite_stack_pool(s, KITE_POOL_PBUF_POOL)->used < before);
    assert_true(kite_pbuf_check(p));
    kite_pbuf_trim(s, p, 200); /* growing is a no-op */
    assert_int_equal(p->tot_len, 100);
    kite_pbuf_free(s, p);
    /* Trim inside the second pbuf of a chain. */
    p = kite_pbuf_alloc(s, 0, KITE_PBUF_POOL_BUFSIZE + 300, KITE_PBUF_POOL);
    kite_pbuf_trim(s, p, KITE_PBUF_POOL_BUFSIZE + 10);
    assert_int_equal(p->tot_len, KITE_PBUF_POOL_BUFSIZE + 10);
    assert_int_equal(p->next->len, 10);
    assert_true(kite_pbuf_check(p));
    kite_pbuf_free(s, p);
}

static void test_volatile_flag(void **state)
{
    struct kite_stack *s = *state;
    static const uint8_t rom[4] = {1, 2, 3, 4};
    uint8_t buf[4] = {9, 9, 9, 9};
    struct kite_pbuf *ref = kite_pbuf_from_data(s, KITE_LAYER_TRANSPORT, rom, 4, false);
    assert_int_equal(ref->type, KITE_PBUF_ROM);
    assert_ptr_equal(ref->payload, rom);
    struct kite_pbuf *copy = kite_pbuf_from_data(s, KITE_LAYER_TRANSPORT, buf, 4, true);
    assert_int_equal(copy->type, KITE_PBUF_RAM);
    buf[0] = 0;
    assert_int_equal(kite_pbuf_get_u8(copy, 0), 9);
    assert_int_equal(kite_pbuf_header_room(copy), KITE_LAYER_TRANSPORT);
    assert_int_equal(kite_pbuf_header_add(ref, 1), KITE_ERR_BUF);
    kite_pbuf_free(s, ref);
    kite_pbuf_free(s, copy);
}

static void test_prepend_on_rom_chains_header(void **state)
{
    struct kite_stack *s = *state;
    static const uint8_t rom[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct kite_pbuf *p = kite_pbuf_alloc_ref(s, rom, 8, KITE_PBUF_ROM);
    struct kite_pbuf *head = kite__pbuf_prepend(s, p, 8, KITE_LAYER_IP);
    assert_non_null(head);
    assert_ptr_not_equal(head, p);
    assert_int_equal(head->tot_len, 16);
    assert_int_equal(p->ref, 2);
    kite__pbuf_unprepend(s, head, p, 8);
    assert_int_equal(p->ref, 1);
    kite_pbuf_free(s, p);
}

static void test_pool_exhaustion_counts(void **state)
{
    struct kite_stack *s = *state;
    struct kite_pbuf *held[KITE_PBUF_RAM_COUNT];
    for (int i = 0; i < KITE_PBUF_RAM_COUNT; i++)
        assert_non_null(held[i] = kite_pbuf_alloc(s, 0, 100, KITE_PBUF_RAM));
    const struct kite_pool *pool = kite_stack_pool(s, KITE_POOL_PBUF_RAM);
    assert_null(kite_pbuf_alloc(s, 0, 100, KITE_PBUF_RAM));
    assert_int_equal(pool->failed, 1);
    assert_int_equal(pool->peak, KITE_PBUF_RAM_COUNT);
    for (int i = 0; i < KITE_PBUF_RAM_COUNT; i++)
        kite_pbuf_free(s, held[i]);
    assert_int_equal(pool->used, 0);
    assert_int_equal(pool->peak, KITE_PBUF_RAM_COUNT);
    /* A POOL chain that cannot be completed gives back what it took. */
    enum { KEEP_FREE = 2 };
    static struct kite_pbuf *blocks[KITE_PBUF_POOL_COUNT];
    for (int i = 0; i < KITE_PBUF_POOL_COUNT - KEEP_FREE; i++)
        assert_non_null(blocks[i] = kite_pbuf_alloc(s, 0, 1, KITE_PBUF_POOL));
    assert_null(kite_pbuf_alloc(s, 0, (uint16_t)(KITE_PBUF_POOL_BUFSIZE * (KEEP_FREE + 1)),
                                KITE_PBUF_POOL));
    assert_int_equal(kite_stack_pool(s, KITE_POOL_PBUF_POOL)->used,
                     KITE_PBUF_POOL_COUNT - KEEP_FREE);
    for (int i = 0; i < KITE_PBUF_POOL_COUNT - KEEP_FREE; i++)
        kite_pbuf_free(s, blocks[i]);
}

static void test_contiguous(void **state)
{
    struct kite_stack *s = *state;
    uint8_t scratch[64];
    struct kite_pbuf *a = kite_pbuf_alloc(s, 0, 4, KITE_PBUF_RAM);
    struct kite_pbuf *b = kite_pbuf_alloc(s, 0, 4, KITE_PBUF_RAM);
    memcpy(a->payload, "abcd", 4);
    memcpy(b->payload, "efgh", 4);
    kite_pbuf_cat(a, b);
    const uint8_t *c = kite_pbuf_contiguous(a, scratch, 6);
    assert_ptr_equal(c, scratch);
    assert_memory_equal(c, "abcdef", 6);
    assert_ptr_equal(kite_pbuf_contiguous(a, scratch, 3), a->payload);
    assert_null(kite_pbuf_contiguous(a, scratch, 9));
    kite_pbuf_free(s, a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pool_chain_tot_len, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_in_out_across_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_add_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ram_too_big_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refcount, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cat_and_shared_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_volatile_flag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prepend_on_rom_chains_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool_exhaustion_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contiguous, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
