/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Spinning before a sleep (kite/port/spin.h): a spin ends as soon as what it
 * waits for is there; a spin that ends empty-handed makes its place skip the
 * next 1, 2, 4 ... 64 spins, and one that succeeds ends the back-off. The
 * spin length is set here (whatever the profile), so the test runs alike in
 * every build; 20 ms, so a thread stalled between two looks on a loaded
 * machine still finds what it waits for within the spin.
 */
#define _GNU_SOURCE
#undef KITE_OS_SPIN_US         /* (a build may set its own) */
#define KITE_OS_SPIN_US 20000u /* long: a loaded machine may stall a thread between looks */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kite/port/spin.h"

struct probe {
    unsigned calls;
    unsigned ready_at; /* the call that finds it ready; 0: never */
};

static bool probe_ready(void *ctx)
{
    struct probe *p = ctx;
    p->calls++;
    return p->ready_at != 0 && p->calls >= p->ready_at;
}

/* One spin that never succeeds: false, after about KITE_OS_SPIN_US. */
static bool empty_spin(struct kite_spin *s, uint64_t *took_us, unsigned *calls)
{
    struct probe p = {0, 0};
    uint64_t start = kite_spin_now_us();
    bool got = kite_spin_until(s, probe_ready, &p);
    *took_us = kite_spin_now_us() - start;
    *calls = p.calls;
    return got;
}

static void spin_ends_when_ready(void **state)
{
    (void)state;
    struct kite_spin s = {0, 0};
    struct probe p = {0, 3};
    assert_true(kite_spin_until(&s, probe_ready, &p));
    assert_int_equal(p.calls, 3);
    assert_int_equal(s.skip, 0);
    assert_int_equal(s.backoff, 0);
}

static void empty_spin_lasts_the_spin_time(void **state)
{
    (void)state;
    struct kite_spin s = {0, 0};
    uint64_t took;
    unsigned calls;
    assert_false(empty_spin(&s, &took, &calls));
    assert_true(took >= KITE_OS_SPIN_US); /* (a loaded machine may take longer, never less) */
    assert_true(calls >= 1);
    assert_int_equal(s.backoff, 1);
    assert_int_equal(s.skip, 1);
}

/* After the n-th empty spin in a row the next 2^(n-1) spins (at most 64)
 * return at once without a look. */
static void empty_spins_back_off_doubling_to_64(void **state)
{
    (void)state;
    struct kite_spin s = {0, 0};
    unsigned expect = 1;
    for (int round = 0; round < 9; round++) {
        uint64_t took;
        unsigned calls;
        assert_false(empty_spin(&s, &took, &calls));
        assert_true(calls > 0); /* this one spun */
        assert_int_equal(s.backoff, expect);
        for (unsigned i = 0; i < expect; i++) {
            assert_false(empty_spin(&s, &took, &calls));
            assert_int_equal(calls, 0); /* skipped: not even one look */
        }
        expect = expect * 2 > KITE_SPIN_BACKOFF_MAX ? KITE_SPIN_BACKOFF_MAX : expect * 2;
    }
}

static void a_success_ends_the_back_off(void **state)
{
    (void)state;
    struct kite_spin s = {0, 0};
    uint64_t took;
    unsigned calls;
    assert_false(empty_spin(&s, &took, &calls));
    assert_false(empty_spin(&s, &took, &calls)); /* skipped */
    assert_false(empty_spin(&s, &took, &calls)); /* spun, empty: backoff 2 */
    assert_int_equal(s.backoff, 2);
    s.skip = 0; /* (as if the skips were used up) */
    struct probe p = {0, 1};
    assert_true(kite_spin_until(&s, probe_ready, &p));
    assert_int_equal(s.backoff, 0);
    assert_false(empty_spin(&s, &took, &calls));
    assert_int_equal(s.backoff, 1); /* starts again at one */
}

/* A spin that did useful work without its condition (a driver that ran
 * frames for other sockets) is forgiven: the next spin is not skipped. */
static void a_forgiven_spin_does_not_back_off(void **state)
{
    (void)state;
    struct kite_spin s = {0, 0};
    uint64_t took;
    unsigned calls;
    assert_false(empty_spin(&s, &took, &calls));
    assert_int_equal(s.skip, 1);
    kite_spin_forgive(&s);
    assert_int_equal(s.skip, 0);
    assert_int_equal(s.backoff, 0);
    assert_false(empty_spin(&s, &took, &calls));
    assert_true(calls > 0); /* it looked: not skipped */
    assert_int_equal(s.backoff, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spin_ends_when_ready),
        cmocka_unit_test(empty_spin_lasts_the_spin_time),
        cmocka_unit_test(empty_spins_back_off_doubling_to_64),
        cmocka_unit_test(a_success_ends_the_back_off),
        cmocka_unit_test(a_forgiven_spin_does_not_back_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
