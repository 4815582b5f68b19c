/* SPDX-License-Identifier: BSD-3-Clause */
/* A keepalive setting shared by many connections (struct kite_tcp_keepalive):
 * its user count follows every pcb that takes it, and a setting in use is
 * never handed to another. CMakeLists.txt also builds this test over a copy
 * of the library with 300 TCP pcbs, where 256 connections share one setting:
 * the count was 8 bits, wrapped to 0 at 256, and the next different setting
 * overwrote the shared one (every one of the 256 then probed after 5 s
 * instead of 60). */
#include <stdlib.h>

#include "testutil.h"
#include "kite/tcp.h"

#define SHARED_MAX 256u

static void shared_setting_counts_every_user(void **state)
{
    (void)state;
    struct kite_stack *s = calloc(1, sizeof *s);
    struct kite_stack_config cfg = {.seed = 1, .now = 0};
    assert_non_null(s);
    assert_int_equal(kite_stack_init(s, &cfg), KITE_ERR_OK);
    /* Every pcb but one (at most 256) shares setting A; the last takes B. */
    unsigned n = KITE_TCP_PCB_COUNT - 1u < SHARED_MAX ? KITE_TCP_PCB_COUNT - 1u : SHARED_MAX;
    struct kite_tcp_pcb **pcbs = calloc(n, sizeof *pcbs);
    assert_non_null(pcbs);
    for (unsigned i = 0; i < n; i++) {
        pcbs[i] = kite_tcp_new(s);
        assert_non_null(pcbs[i]);
        assert_int_equal(kite_tcp_set_keepalive(pcbs[i], 60000, 10000, 5), KITE_ERR_OK);
        assert_int_equal(pcbs[i]->keepalive, pcbs[0]->keepalive);
    }
    const struct kite_tcp_keepalive *a = &s->tcp.keepalives[pcbs[0]->keepalive - 1u];
    assert_int_equal(a->users, n);

    struct kite_tcp_pcb *other = kite_tcp_new(s);
    assert_non_null(other);
    assert_int_equal(kite_tcp_set_keepalive(other, 5000, 1000, 3), KITE_ERR_OK);
    assert_int_not_equal(other->keepalive, pcbs[0]->keepalive);
    assert_int_equal(a->idle_s, 60); /* A is still A */
    assert_int_equal(a->count, 5);
    assert_int_equal(a->users, n);

    for (unsigned i = 0; i < n; i++)
        assert_int_equal(kite_tcp_close(pcbs[i]), KITE_ERR_OK);
    assert_int_equal(a->users, 0);
    assert_int_equal(kite_tcp_close(other), KITE_ERR_OK);
    assert_int_equal(kite_stack_pools_in_use(s), 0);
    kite_stack_deinit(s);
    free(pcbs);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shared_setting_counts_every_user),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
