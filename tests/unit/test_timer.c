/* SPDX-License-Identifier: BSD-3-Clause */
/* On-demand timers on virtual time. */
#include <stdlib.h>

#include "testutil.h"

struct probe {
    struct kite_timer timer;
    int fired;
    kite_time_ms at;
    int order;
    int *counter;
    bool rearm;
};

static void probe_fired(struct kite_stack *s, struct kite_timer *t)
{
    struct probe *p = KITE_CONTAINER_OF(t, struct probe, timer);
    p->fired++;
    p->at = kite_stack_now(s);
    p->order = ++*p->counter;
    if (p->rearm)
        kite_timer_arm(s, t, kite_stack_now(s) + 10);
}

static void test_idle_stack_has_no_deadline(void **state)
{
    (void)state;
    struct kite_stack *s = calloc(1, sizeof *s);
    kite_stack_init(s, NULL);
    assert_true(kite_stack_next_deadline(s) == KITE_TIME_NEVER);
    kite_stack_poll(s, 123456);
    assert_true(kite_stack_next_deadline(s) == KITE_TIME_NEVER);
    free(s);
}

static void test_order_and_cancel(void **state)
{
    (void)state;
    struct kite_stack *s = calloc(1, sizeof *s);
    struct kite_stack_config cfg = {.seed = 1, .now = 1000};
    kite_stack_init(s, &cfg);
    int counter = 0;
    struct probe a = {.counter = &counter}, b = {.counter = &counter}, c = {.counter = &counter};
    kite_timer_init(&a.timer, probe_fired);
    kite_timer_init(&b.timer, probe_fired);
    kite_timer_init(&c.timer, probe_fired);
    kite_timer_arm(s, &a.timer, 1300);
    kite_timer_arm(s, &b.timer, 1100);
    kite_timer_arm(s, &c.timer, 1200);
    assert_int_equal(kite_stack_next_deadline(s), 1100);
    kite_timer_cancel(s, &c.timer);
    kite_timer_arm(s, &a.timer, 1050); /* re-arm moves it */
    assert_int_equal(kite_stack_next_deadline(s), 1050);
    kite_stack_poll(s, 1099);
    assert_int_equal(a.fired, 1);
    assert_int_equal(a.at, 1099);
    assert_int_equal(b.fired, 0);
    kite_stack_poll(s, 5000);
    assert_int_equal(b.fired, 1);
    assert_int_equal(c.fired, 0);
    assert_true(kite_stack_next_deadline(s) == KITE_TIME_NEVER);
    assert_false(kite_timer_armed(&a.timer));
    free(s);
}

static void test_rearm_from_callback(void **state)
{
    (void)state;
    struct kite_stack *s = calloc(1, sizeof *s);
    kite_stack_init(s, NULL);
    int counter = 0;
    struct probe p = {.counter = &counter, .rearm = true};
    kite_timer_init(&p.timer, probe_fired);
    kite_timer_arm(s, &p.timer, 10);
    kite_stack_poll(s, 10);
    assert_int_equal(p.fired, 1);
    assert_int_equal(kite_stack_next_deadline(s), 20);
    kite_stack_poll(s, 5); /* time never goes backwards */
    assert_int_equal(kite_stack_now(s), 10);
    kite_timer_cancel(s, &p.timer);
    assert_true(kite_stack_next_deadline(s) == KITE_TIME_NEVER);
    free(s);
}

static void test_random_is_seeded(void **state)
{
    (void)state;
    struct kite_stack *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    struct kite_stack_config cfg = {.seed = 42};
    kite_stack_init(a, &cfg);
    kite_stack_init(b, &cfg);
    for (int i = 0; i < 100; i++)
        assert_int_equal(kite_random_u32(a), kite_random_u32(b));
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_stack_has_no_deadline),
        cmocka_unit_test(test_order_and_cancel),
        cmocka_unit_test(test_rearm_from_callback),
        cmocka_unit_test(test_random_is_seeded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
