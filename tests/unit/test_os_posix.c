/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The POSIX OS port (kite/port/os.h): mutexes, semaphores, mailboxes, threads.
 * Labelled "unit" and "threads": it also runs under ThreadSanitizer
 * (docs/testing.md). Every wait has a limit, so a broken port fails instead of
 * hanging. Worker threads never call cmocka (its assertions longjmp on the
 * main thread's stack): they record what they saw, and the main thread checks
 * it after the join. Timed waits are only checked for a lower bound: a loaded
 * machine may wake a thread late, never early.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <unistd.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "kite/port/clock.h"
#include "kite/port/os.h"

/* Long enough never to expire on a loaded machine, short enough to end a hung test. */
#define LONG_WAIT_MS 30000u

/* ---- Mutexes ---------------------------------------------------------------------- */

#define MUTEX_THREADS 4
#define MUTEX_ROUNDS 100000

struct shared_counter {
    struct kite_os_mutex lock;
    unsigned long value;
};

static void count_up(void *arg)
{
    struct shared_counter *c = arg;
    for (int i = 0; i < MUTEX_ROUNDS; i++) {
        kite_os_mutex_lock(&c->lock);
        c->value++; /* a data race (and lost increments) without the mutex */
        kite_os_mutex_unlock(&c->lock);
    }
}

static void test_mutex_excludes(void **state)
{
    (void)state;
    struct shared_counter c = {.value = 0};
    struct kite_os_thread t[MUTEX_THREADS];
    assert_int_equal(kite_os_mutex_init(&c.lock), KITE_ERR_OK);
    for (int i = 0; i < MUTEX_THREADS; i++)
        assert_int_equal(kite_os_thread_start(&t[i], count_up, &c, NULL), KITE_ERR_OK);
    for (int i = 0; i < MUTEX_THREADS; i++)
        kite_os_thread_join(&t[i]);
    assert_int_equal(c.value, (unsigned long)MUTEX_THREADS * MUTEX_ROUNDS);
    kite_os_mutex_destroy(&c.lock);
}

/* ---- Semaphores ------------------------------------------------------------------- */

static void test_sem_counts(void **state)
{
    (void)state;
    struct kite_os_sem s;
    assert_int_equal(kite_os_sem_init(&s, 2), KITE_ERR_OK);
    assert_true(kite_os_sem_wait(&s, 0));
    assert_true(kite_os_sem_wait(&s, 0));
    assert_false(kite_os_sem_wait(&s, 0)); /* the initial count is used up */
    kite_os_sem_post(&s);
    kite_os_sem_post(&s);
    kite_os_sem_post(&s);
    for (int i = 0; i < 3; i++)
        assert_true(kite_os_sem_wait(&s, 0));
    assert_false(kite_os_sem_wait(&s, 0));
    kite_os_sem_destroy(&s);
}

static void test_sem_post_before_wait(void **state)
{
    (void)state;
    struct kite_os_sem s;
    assert_int_equal(kite_os_sem_init(&s, 0), KITE_ERR_OK);
    kite_os_sem_post(&s); /* nobody waits yet: the post is kept */
    assert_true(kite_os_sem_wait(&s, KITE_OS_FOREVER));
    assert_false(kite_os_sem_wait(&s, 0));
    kite_os_sem_post(&s);
    assert_true(kite_os_sem_wait(&s, LONG_WAIT_MS)); /* a timed wait takes it too */
    assert_false(kite_os_sem_wait(&s, 0));
    kite_os_sem_destroy(&s);
}

static void test_sem_timed_wait_expires(void **state)
{
    (void)state;
    struct kite_os_sem s;
    assert_int_equal(kite_os_sem_init(&s, 0), KITE_ERR_OK);
    kite_time_ms start = kite_os_now_ms();
    assert_false(kite_os_sem_wait(&s, 200));
    kite_time_ms waited = kite_os_now_ms() - start;
    /* >= 90 % of the time asked (the clock reads whole milliseconds). No
     * upper bound: a loaded machine may wake the thread late. */
    assert_true(waited >= 180);
    kite_os_sem_destroy(&s);
}

struct delayed_post {
    struct kite_os_sem *sem;
    uint32_t delay_ms;
};

static void post_later(void *arg)
{
    struct delayed_post *d = arg;
    struct kite_os_sem pause;
    /* Sleep on a semaphore nobody posts: the port's own timed wait. */
    kite_os_sem_init(&pause, 0);
    kite_os_sem_wait(&pause, d->delay_ms);
    kite_os_sem_destroy(&pause);
    kite_os_sem_post(d->sem);
}

static void test_sem_wait_woken_by_other_thread(void **state)
{
    (void)state;
    struct kite_os_sem s;
    struct kite_os_thread t;
    struct delayed_post d = {.sem = &s, .delay_ms = 50};
    assert_int_equal(kite_os_sem_init(&s, 0), KITE_ERR_OK);
    assert_int_equal(kite_os_thread_start(&t, post_later, &d, NULL), KITE_ERR_OK);
    kite_time_ms start = kite_os_now_ms();
    assert_true(kite_os_sem_wait(&s, LONG_WAIT_MS)); /* timed */
    /* Woken by the post, not by the timeout and a last look at the count (a
     * lost wake-up); this makes a lost wake-up fail here, not hang below. */
    assert_true(kite_os_now_ms() - start < LONG_WAIT_MS);
    kite_os_thread_join(&t);
    assert_int_equal(kite_os_thread_start(&t, post_later, &d, NULL), KITE_ERR_OK);
    assert_true(kite_os_sem_wait(&s, KITE_OS_FOREVER)); /* untimed */
    kite_os_thread_join(&t);
    assert_false(kite_os_sem_wait(&s, 0));
    kite_os_sem_destroy(&s);
}

/* ---- Mailboxes -------------------------------------------------------------------- */

static void test_mbox_fifo_and_full(void **state)
{
    (void)state;
    void *slots[4];
    int items[12];
    struct kite_os_mbox mb;
    void *msg = NULL;
    int next_in = 0, next_out = 0;
    assert_int_equal(kite_os_mbox_init(&mb, slots, 4), KITE_ERR_OK);
    for (; next_in < 4; next_in++)
        assert_true(kite_os_mbox_trypost(&mb, &items[next_in]));
    assert_false(kite_os_mbox_trypost(&mb, &items[next_in])); /* full */
    /* Take one, put one, many times round the ring: always the oldest first. */
    for (; next_in < 12; next_in++) {
        assert_true(kite_os_mbox_fetch(&mb, &msg, 0));
        assert_ptr_equal(msg, &items[next_out++]);
        if (next_in % 2)
            assert_true(kite_os_mbox_trypost(&mb, &items[next_in]));
        else
            kite_os_mbox_post(&mb, &items[next_in]); /* there is room: no wait */
        assert_false(kite_os_mbox_trypost(&mb, NULL));
    }
    while (next_out < 12) {
        assert_true(kite_os_mbox_fetch(&mb, &msg, KITE_OS_FOREVER));
        assert_ptr_equal(msg, &items[next_out++]);
    }
    assert_false(kite_os_mbox_fetch(&mb, &msg, 0)); /* empty */
    /* A null pointer is a message like any other. */
    assert_true(kite_os_mbox_trypost(&mb, NULL));
    msg = &items[0];
    assert_true(kite_os_mbox_fetch(&mb, &msg, 0));
    assert_null(msg);
    kite_os_mbox_destroy(&mb);
}

static void test_mbox_init_rejects(void **state)
{
    (void)state;
    void *slots[1];
    struct kite_os_mbox mb;
    assert_int_equal(kite_os_mbox_init(&mb, NULL, 4), KITE_ERR_ARG);
    assert_int_equal(kite_os_mbox_init(&mb, slots, 0), KITE_ERR_ARG);
}

static void test_mbox_fetch_timeout(void **state)
{
    (void)state;
    void *slots[2];
    struct kite_os_mbox mb;
    int marker;
    void *msg = &marker;
    assert_int_equal(kite_os_mbox_init(&mb, slots, 2), KITE_ERR_OK);
    assert_false(kite_os_mbox_fetch(&mb, &msg, 0));
    kite_time_ms start = kite_os_now_ms();
    assert_false(kite_os_mbox_fetch(&mb, &msg, 100));
    assert_true(kite_os_now_ms() - start >= 90);
    assert_ptr_equal(msg, &marker); /* untouched on timeout */
    kite_os_mbox_destroy(&mb);
}

struct blocked_poster {
    struct kite_os_mbox *mb;
    void *msg;
    struct kite_os_sem done; /* posted once kite_os_mbox_post returned */
};

static void post_and_report(void *arg)
{
    struct blocked_poster *p = arg;
    kite_os_mbox_post(p->mb, p->msg);
    kite_os_sem_post(&p->done);
}

static void test_mbox_post_waits_for_room(void **state)
{
    (void)state;
    void *slots[1];
    int first, second;
    struct kite_os_mbox mb;
    struct kite_os_thread t;
    struct blocked_poster p = {.mb = &mb, .msg = &second};
    void *msg = NULL;
    assert_int_equal(kite_os_mbox_init(&mb, slots, 1), KITE_ERR_OK);
    assert_int_equal(kite_os_sem_init(&p.done, 0), KITE_ERR_OK);
    kite_os_mbox_post(&mb, &first); /* now full */
    assert_int_equal(kite_os_thread_start(&t, post_and_report, &p, NULL), KITE_ERR_OK);
    /* The poster must still be waiting: a post into a full mailbox returned. */
    assert_false(kite_os_sem_wait(&p.done, 100));
    assert_true(kite_os_mbox_fetch(&mb, &msg, 0));
    assert_ptr_equal(msg, &first);
    assert_true(kite_os_sem_wait(&p.done, LONG_WAIT_MS)); /* the room let it through */
    kite_os_thread_join(&t);
    assert_true(kite_os_mbox_fetch(&mb, &msg, 0));
    assert_ptr_equal(msg, &second);
    assert_false(kite_os_mbox_fetch(&mb, &msg, 0));
    kite_os_sem_destroy(&p.done);
    kite_os_mbox_destroy(&mb);
}

/*
 * 2 producers post MBOX_MESSAGES messages in all (blocking posts into a small
 * mailbox), 2 consumers fetch them; every message must be seen exactly once,
 * and each consumer sees each producer's messages in the order posted.
 * A message is the integer 1 + producer + 2 * sequence cast to a pointer; the
 * null pointer tells a consumer to stop.
 */
#define MBOX_MESSAGES 100000
#define MBOX_PRODUCERS 2
#define MBOX_CONSUMERS 2

struct producer {
    struct kite_os_mbox *mb;
    unsigned id;
};

struct consumer {
    struct kite_os_mbox *mb;
    unsigned char *seen; /* MBOX_MESSAGES counters, this consumer's own */
    long last_seq[MBOX_PRODUCERS];
    unsigned out_of_order, bad, timeouts, count;
};

static void produce(void *arg)
{
    struct producer *p = arg;
    for (unsigned seq = 0; seq < MBOX_MESSAGES / MBOX_PRODUCERS; seq++)
        kite_os_mbox_post(p->mb, (void *)(uintptr_t)(1 + p->id + MBOX_PRODUCERS * seq));
}

static void consume(void *arg)
{
    struct consumer *c = arg;
    for (;;) {
        void *msg;
        if (!kite_os_mbox_fetch(c->mb, &msg, LONG_WAIT_MS)) {
            c->timeouts++;
            return;
        }
        if (msg == NULL)
            return;
        uintptr_t v = (uintptr_t)msg - 1;
        if (v >= MBOX_MESSAGES) {
            c->bad++;
            continue;
        }
        unsigned producer = (unsigned)(v % MBOX_PRODUCERS);
        long seq = (long)(v / MBOX_PRODUCERS);
        if (seq <= c->last_seq[producer])
            c->out_of_order++;
        c->last_seq[producer] = seq;
        if (c->seen[v] < 255)
            c->seen[v]++;
        c->count++;
    }
}

static void test_mbox_producers_consumers(void **state)
{
    (void)state;
    void *slots[8];
    struct kite_os_mbox mb;
    struct producer prod[MBOX_PRODUCERS];
    struct consumer cons[MBOX_CONSUMERS];
    struct kite_os_thread pt[MBOX_PRODUCERS], ct[MBOX_CONSUMERS];
    assert_int_equal(kite_os_mbox_init(&mb, slots, 8), KITE_ERR_OK);
    for (unsigned i = 0; i < MBOX_CONSUMERS; i++) {
        cons[i] = (struct consumer){.mb = &mb, .seen = calloc(MBOX_MESSAGES, 1)};
        assert_non_null(cons[i].seen);
        for (unsigned j = 0; j < MBOX_PRODUCERS; j++)
            cons[i].last_seq[j] = -1;
        assert_int_equal(kite_os_thread_start(&ct[i], consume, &cons[i], NULL), KITE_ERR_OK);
    }
    for (unsigned i = 0; i < MBOX_PRODUCERS; i++) {
        prod[i] = (struct producer){.mb = &mb, .id = i};
        assert_int_equal(kite_os_thread_start(&pt[i], produce, &prod[i], NULL), KITE_ERR_OK);
    }
    for (unsigned i = 0; i < MBOX_PRODUCERS; i++)
        kite_os_thread_join(&pt[i]);
    for (unsigned i = 0; i < MBOX_CONSUMERS; i++)
        kite_os_mbox_post(&mb, NULL); /* one stop message per consumer */
    for (unsigned i = 0; i < MBOX_CONSUMERS; i++)
        kite_os_thread_join(&ct[i]);

    unsigned total = 0;
    for (unsigned i = 0; i < MBOX_CONSUMERS; i++) {
        assert_int_equal(cons[i].timeouts, 0);
        assert_int_equal(cons[i].bad, 0);
        assert_int_equal(cons[i].out_of_order, 0);
        total += cons[i].count;
    }
    assert_int_equal(total, MBOX_MESSAGES);
    for (unsigned v = 0; v < MBOX_MESSAGES; v++) {
        unsigned times = 0;
        for (unsigned i = 0; i < MBOX_CONSUMERS; i++)
            times += cons[i].seen[v];
        if (times != 1)
            fail_msg("message %u seen %u times", v, times);
    }
    assert_false(kite_os_mbox_fetch(&mb, NULL, 0));
    for (unsigned i = 0; i < MBOX_CONSUMERS; i++)
        free(cons[i].seen);
    kite_os_mbox_destroy(&mb);
}

/* ---- Threads ---------------------------------------------------------------------- */

struct thread_probe {
    pthread_t hook_thread, fn_thread;
    int hook_calls, fn_calls, order, hook_order, fn_order;
    size_t stack_size; /* of the running thread, from pthread_getattr_np */
    int policy, priority;
};

static void probe_hook(void *ctx)
{
    struct thread_probe *p = ctx;
    p->hook_thread = pthread_self();
    p->hook_calls++;
    p->hook_order = ++p->order;
}

static void probe_fn(void *arg)
{
    struct thread_probe *p = arg;
    pthread_attr_t a;
    struct sched_param param;
    p->fn_thread = pthread_self();
    p->fn_calls++;
    p->fn_order = ++p->order;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        pthread_attr_getstacksize(&a, &p->stack_size);
        pthread_attr_destroy(&a);
    }
    if (pthread_getschedparam(pthread_self(), &p->policy, &param) == 0)
        p->priority = param.sched_priority;
}

static void test_thread_hook_and_join(void **state)
{
    (void)state;
    struct thread_probe p = {.order = 0};
    struct kite_os_thread t;
    struct kite_os_thread_attr attr = {.on_start = probe_hook, .ctx = &p};
    assert_int_equal(kite_os_thread_start(&t, probe_fn, &p, &attr), KITE_ERR_OK);
    kite_os_thread_join(&t);
    assert_int_equal(p.hook_calls, 1);
    assert_int_equal(p.fn_calls, 1);
    assert_int_equal(p.hook_order, 1); /* the hook runs first ... */
    assert_int_equal(p.fn_order, 2);
    assert_true(pthread_equal(p.hook_thread, p.fn_thread)); /* ... in the new thread */
    assert_false(pthread_equal(p.hook_thread, pthread_self()));
}

static void test_thread_no_attr(void **state)
{
    (void)state;
    struct thread_probe p = {.order = 0};
    struct kite_os_thread t;
    assert_int_equal(kite_os_thread_start(&t, probe_fn, &p, NULL), KITE_ERR_OK);
    kite_os_thread_join(&t);
    assert_int_equal(p.fn_calls, 1);
    assert_int_equal(p.hook_calls, 0);
}

static void test_thread_stack_size(void **state)
{
    (void)state;
    struct thread_probe p = {.order = 0};
    struct kite_os_thread t;
    pthread_attr_t dflt;
    size_t dflt_size;
    /* glibc may hand a thread a cached stack larger than asked, so only a
     * lower bound can be checked: ask for twice the default (plus a part of
     * a page, rounded up), which a default stack cannot satisfy. */
    assert_int_equal(pthread_getattr_default_np(&dflt), 0);
    assert_int_equal(pthread_attr_getstacksize(&dflt, &dflt_size), 0);
    pthread_attr_destroy(&dflt);
    struct kite_os_thread_attr attr = {.stack_size = 2 * dflt_size + 100};
    assert_int_equal(kite_os_thread_start(&t, probe_fn, &p, &attr), KITE_ERR_OK);
    kite_os_thread_join(&t);
    assert_int_equal(p.fn_calls, 1);
    assert_true(p.stack_size >= attr.stack_size);

    /* Below the minimum: raised to PTHREAD_STACK_MIN, and the thread runs. */
    p = (struct thread_probe){.order = 0};
    attr.stack_size = 1;
    assert_int_equal(kite_os_thread_start(&t, probe_fn, &p, &attr), KITE_ERR_OK);
    kite_os_thread_join(&t);
    assert_int_equal(p.fn_calls, 1);
    assert_true(p.stack_size >= (size_t)PTHREAD_STACK_MIN);
}

/* Under SCHED_OTHER (how tests run) a nonzero priority is ignored, not an error. */
static void test_thread_priority_sched_other(void **state)
{
    (void)state;
    struct thread_probe p = {.order = 0};
    struct kite_os_thread t;
    struct kite_os_thread_attr attr = {.priority = 5};
    int policy;
    struct sched_param param;
    assert_int_equal(pthread_getschedparam(pthread_self(), &policy, &param), 0);
    if (policy != SCHED_OTHER)
        skip();
    assert_int_equal(kite_os_thread_start(&t, probe_fn, &p, &attr), KITE_ERR_OK);
    kite_os_thread_join(&t);
    assert_int_equal(p.fn_calls, 1);
    assert_int_equal(p.policy, SCHED_OTHER);
    assert_int_equal(p.priority, 0);
}

/* Under SCHED_FIFO the priority is applied (when the process may use SCHED_FIFO). */
struct rt_parent {
    int setsched_rc;
    enum kite_err start_ok, start_too_high;
    struct thread_probe child;
};

static void rt_parent_fn(void *arg)
{
    struct rt_parent *r = arg;
    struct sched_param param = {.sched_priority = sched_get_priority_min(SCHED_FIFO)};
    struct kite_os_thread t;
    r->setsched_rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param);
    if (r->setsched_rc != 0)
        return;
    struct kite_os_thread_attr attr = {.priority = param.sched_priority + 1};
    r->start_ok = kite_os_thread_start(&t, probe_fn, &r->child, &attr);
    if (r->start_ok == KITE_ERR_OK)
        kite_os_thread_join(&t);
    attr.priority = sched_get_priority_max(SCHED_FIFO) + 1;
    r->start_too_high = kite_os_thread_start(&t, probe_fn, &r->child, &attr);
    if (r->start_too_high == KITE_ERR_OK)
        kite_os_thread_join(&t);
}

static void test_thread_priority_realtime(void **state)
{
    (void)state;
    struct rt_parent r = {.setsched_rc = -1};
    struct kite_os_thread t;
    assert_int_equal(kite_os_thread_start(&t, rt_parent_fn, &r, NULL), KITE_ERR_OK);
    kite_os_thread_join(&t);
    if (r.setsched_rc != 0) {
        assert_int_not_equal(geteuid(), 0); /* root (as in CI) must be allowed SCHED_FIFO */
        skip();                             /* not root: no permission for SCHED_FIFO here */
    }
    assert_int_equal(r.start_ok, KITE_ERR_OK);
    assert_int_equal(r.child.fn_calls, 1);
    assert_int_equal(r.child.policy, SCHED_FIFO);
    assert_int_equal(r.child.priority, sched_get_priority_min(SCHED_FIFO) + 1);
    assert_int_equal(r.start_too_high, KITE_ERR_VAL);
}

static void test_thread_start_rejects(void **state)
{
    (void)state;
    struct kite_os_thread t;
    assert_int_equal(kite_os_thread_start(&t, NULL, NULL, NULL), KITE_ERR_ARG);
}

/* ---- Time ------------------------------------------------------------------------- */

static void test_now_is_the_port_clock(void **state)
{
    (void)state;
    kite_time_ms a = kite_port_now_ms();
    kite_time_ms b = kite_os_now_ms();
    kite_time_ms c = kite_port_now_ms();
    assert_true(a <= b && b <= c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mutex_excludes),
        cmocka_unit_test(test_sem_counts),
        cmocka_unit_test(test_sem_post_before_wait),
        cmocka_unit_test(test_sem_timed_wait_expires),
        cmocka_unit_test(test_sem_wait_woken_by_other_thread),
        cmocka_unit_test(test_mbox_fifo_and_full),
        cmocka_unit_test(test_mbox_init_rejects),
        cmocka_unit_test(test_mbox_fetch_timeout),
        cmocka_unit_test(test_mbox_post_waits_for_room),
        cmocka_unit_test(test_mbox_producers_consumers),
        cmocka_unit_test(test_thread_hook_and_join),
        cmocka_unit_test(test_thread_no_attr),
        cmocka_unit_test(test_thread_stack_size),
        cmocka_unit_test(test_thread_priority_sched_other),
        cmocka_unit_test(test_thread_priority_realtime),
        cmocka_unit_test(test_thread_start_rejects),
        cmocka_unit_test(test_now_is_the_port_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
