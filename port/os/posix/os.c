/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The POSIX OS port (kite/port/os.h) on pthreads: mutexes, counting
 * semaphores and bounded mailboxes built from a mutex and condition variables
 * on CLOCK_MONOTONIC, and threads. No heap allocation and no static data: all
 * state lives in the objects the caller embeds (kite/port/os_posix.h).
 */
#include "kite/port/os.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include "kite/port/clock.h"
#include "kite/port/spin.h"

/* pthread_*_init fail for lack of resources (EAGAIN, ENOMEM) or on bad attributes. */
static enum kite_err err_from(int rc)
{
    if (rc == 0)
        return KITE_ERR_OK;
    return rc == EAGAIN || rc == ENOMEM ? KITE_ERR_MEM : KITE_ERR_VAL;
}

/* A condition variable whose timed waits run on CLOCK_MONOTONIC. */
static int cond_init_monotonic(pthread_cond_t *c)
{
    pthread_condattr_t attr;
    int rc = pthread_condattr_init(&attr);
    if (rc != 0)
        return rc;
    rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(c, &attr);
    pthread_condattr_destroy(&attr);
    return rc;
}

/* The absolute CLOCK_MONOTONIC time ms milliseconds from now. */
static void deadline_after(struct timespec *ts, uint32_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(ms / 1000u);
    ts->tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/*
 * Wait on c (m held) for a signal, or until the deadline of a wait of ms
 * milliseconds. False once the deadline has passed (at once when ms is 0):
 * the caller then checks its condition one last time and gives up. Spurious
 * wake-ups return true; the caller's loop re-checks.
 */
static bool cond_wait_ms(pthread_cond_t *c, pthread_mutex_t *m, uint32_t ms,
                         const struct timespec *deadline)
{
    if (ms == KITE_OS_FOREVER) {
        pthread_cond_wait(c, m);
        return true;
    }
    if (ms == 0)
        return false;
    return pthread_cond_timedwait(c, m, deadline) != ETIMEDOUT;
}

/* ---- Mutexes ------------------------------------------------------------------------ */

enum kite_err kite_os_mutex_init(struct kite_os_mutex *m)
{
    if (m == NULL)
        return KITE_ERR_ARG;
    pthread_mutexattr_t attr;
    int rc = pthread_mutexattr_init(&attr);
#if defined(PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP)
    /* KITE_OS_SPIN_US: glibc's adaptive mutex spins a while before sleeping. */
    if (rc == 0 && KITE_OS_SPIN_US > 0)
        rc = pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
    if (rc == 0)
        rc = pthread_mutex_init(&m->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    m->spin = (struct kite_spin){0, 0};
    return err_from(rc);
}

static bool lock_taken(void *m)
{
    return pthread_mutex_trylock(&((struct kite_os_mutex *)m)->lock) == 0;
}

/* KITE_OS_SPIN_US: a lock held by another core is usually free again within
 * microseconds, while sleeping on it costs a futex wake-up (tens of us on a
 * VM's idle vCPU): try for up to that long (kite/port/spin.h) first. */
void kite_os_mutex_lock(struct kite_os_mutex *m)
{
    if (KITE_OS_SPIN_US > 0 && (lock_taken(m) || kite_spin_until(&m->spin, lock_taken, m)))
        return;
    pthread_mutex_lock(&m->lock);
}

void kite_os_mutex_unlock(struct kite_os_mutex *m)
{
    pthread_mutex_unlock(&m->lock);
}

void kite_os_mutex_destroy(struct kite_os_mutex *m)
{
    pthread_mutex_destroy(&m->lock);
}

/* ---- Spinning before a sleep (KITE_OS_SPIN_US, kite/port/spin.h) ------------------------ */

/* *count is changed under a lock elsewhere: read atomically, without it. */
static bool count_nonzero(void *count)
{
    return __atomic_load_n((const unsigned *)count, __ATOMIC_RELAXED) != 0;
}

static void spin_while_zero(struct kite_spin *spin, unsigned *count, uint32_t ms)
{
    if (ms != 0)
        (void)kite_spin_until(spin, count_nonzero, count);
}

/* ---- Counting semaphores ------------------------------------------------------------- */

enum kite_err kite_os_sem_init(struct kite_os_sem *s, unsigned count)
{
    if (s == NULL)
        return KITE_ERR_ARG;
    int rc = pthread_mutex_init(&s->lock, NULL);
    if (rc != 0)
        return err_from(rc);
    rc = cond_init_monotonic(&s->posted);
    if (rc != 0) {
        pthread_mutex_destroy(&s->lock);
        return err_from(rc);
    }
    s->count = count;
    s->spin = (struct kite_spin){0, 0};
    return KITE_ERR_OK;
}

void kite_os_sem_post(struct kite_os_sem *s)
{
    pthread_mutex_lock(&s->lock);
    __atomic_store_n(&s->count, s->count + 1u, __ATOMIC_RELAXED); /* (spinners read it) */
    pthread_cond_signal(&s->posted);
    pthread_mutex_unlock(&s->lock);
}

bool kite_os_sem_wait(struct kite_os_sem *s, uint32_t ms)
{
    struct timespec deadline = {0, 0};
    bool taken = false;
    if (ms != 0 && ms != KITE_OS_FOREVER)
        deadline_after(&deadline, ms);
    spin_while_zero(&s->spin, &s->count, ms);
    pthread_mutex_lock(&s->lock);
    while (s->count == 0 && cond_wait_ms(&s->posted, &s->lock, ms, &deadline))
        ;
    if (s->count > 0) {
        __atomic_store_n(&s->count, s->count - 1u, __ATOMIC_RELAXED);
        taken = true;
    }
    pthread_mutex_unlock(&s->lock);
    return taken;
}

void kite_os_sem_destroy(struct kite_os_sem *s)
{
    pthread_cond_destroy(&s->posted);
    pthread_mutex_destroy(&s->lock);
}

/* ---- Mailboxes ----------------------------------------------------------------------- */

enum kite_err kite_os_mbox_init(struct kite_os_mbox *mb, void **slots, unsigned size)
{
    if (mb == NULL || slots == NULL || size == 0)
        return KITE_ERR_ARG;
    int rc = pthread_mutex_init(&mb->lock, NULL);
    if (rc != 0)
        return err_from(rc);
    rc = cond_init_monotonic(&mb->not_empty);
    if (rc != 0) {
        pthread_mutex_destroy(&mb->lock);
        return err_from(rc);
    }
    rc = cond_init_monotonic(&mb->not_full);
    if (rc != 0) {
        pthread_cond_destroy(&mb->not_empty);
        pthread_mutex_destroy(&mb->lock);
        return err_from(rc);
    }
    mb->slots = slots;
    mb->size = size;
    mb->head = 0;
    mb->count = 0;
    mb->spin = (struct kite_spin){0, 0};
    return KITE_ERR_OK;
}

/* Queue msg behind the others; the lock is held and there is room. */
static void mbox_put(struct kite_os_mbox *mb, void *msg)
{
    mb->slots[(mb->head + mb->count) % mb->size] = msg;
    __atomic_store_n(&mb->count, mb->count + 1u, __ATOMIC_RELAXED); /* (spinners read it) */
    pthread_cond_signal(&mb->not_empty);
}

void kite_os_mbox_post(struct kite_os_mbox *mb, void *msg)
{
    pthread_mutex_lock(&mb->lock);
    while (mb->count == mb->size)
        pthread_cond_wait(&mb->not_full, &mb->lock);
    mbox_put(mb, msg);
    pthread_mutex_unlock(&mb->lock);
}

bool kite_os_mbox_trypost(struct kite_os_mbox *mb, void *msg)
{
    bool room;
    pthread_mutex_lock(&mb->lock);
    room = mb->count < mb->size;
    if (room)
        mbox_put(mb, msg);
    pthread_mutex_unlock(&mb->lock);
    return room;
}

bool kite_os_mbox_fetch(struct kite_os_mbox *mb, void **msg, uint32_t ms)
{
    struct timespec deadline = {0, 0};
    bool got = false;
    if (ms != 0 && ms != KITE_OS_FOREVER)
        deadline_after(&deadline, ms);
    spin_while_zero(&mb->spin, &mb->count, ms);
    pthread_mutex_lock(&mb->lock);
    while (mb->count == 0 && cond_wait_ms(&mb->not_empty, &mb->lock, ms, &deadline))
        ;
    if (mb->count > 0) {
        if (msg != NULL)
            *msg = mb->slots[mb->head];
        mb->head = (mb->head + 1) % mb->size;
        __atomic_store_n(&mb->count, mb->count - 1u, __ATOMIC_RELAXED);
        got = true;
        pthread_cond_signal(&mb->not_full);
    }
    pthread_mutex_unlock(&mb->lock);
    return got;
}

void kite_os_mbox_destroy(struct kite_os_mbox *mb)
{
    pthread_cond_destroy(&mb->not_full);
    pthread_cond_destroy(&mb->not_empty);
    pthread_mutex_destroy(&mb->lock);
}

/* ---- Threads ------------------------------------------------------------------------- */

static void *thread_main(void *p)
{
    struct kite_os_thread *t = p;
    if (t->on_start != NULL)
        t->on_start(t->ctx);
    t->fn(t->arg);
    return NULL;
}

/*
 * Priority: the static priority of the POSIX scheduling policy the calling
 * thread runs under. Under a real-time policy (SCHED_FIFO, SCHED_RR) the new
 * thread gets that policy with the given priority (KITE_ERR_VAL when outside
 * sched_get_priority_min..max of the policy, or when the process may not use
 * it). Under SCHED_OTHER (the default of every Linux process), SCHED_BATCH and
 * SCHED_IDLE the only static priority is 0, so a nonzero priority is ignored
 * and the thread inherits the caller's scheduling, like priority 0.
 */
static int set_priority(pthread_attr_t *pa, int priority)
{
    struct sched_param param;
    int policy, rc;
    if (priority == 0)
        return 0;
    rc = pthread_getschedparam(pthread_self(), &policy, &param);
    if (rc != 0)
        return rc;
    if (policy != SCHED_FIFO && policy != SCHED_RR)
        return 0; /* SCHED_OTHER: ignored */
    if (priority < sched_get_priority_min(policy) || priority > sched_get_priority_max(policy))
        return EINVAL;
    param.sched_priority = priority;
    rc = pthread_attr_setinheritsched(pa, PTHREAD_EXPLICIT_SCHED);
    if (rc == 0)
        rc = pthread_attr_setschedpolicy(pa, policy);
    if (rc == 0)
        rc = pthread_attr_setschedparam(pa, &param);
    return rc;
}

/* stack_size rounded up to PTHREAD_STACK_MIN and to whole pages. */
static int set_stack_size(pthread_attr_t *pa, size_t stack_size)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t min = (size_t)PTHREAD_STACK_MIN;
    if (stack_size == 0)
        return 0;
    if (stack_size < min)
        stack_size = min;
    if (page > 0) {
        size_t p = (size_t)page;
        if (stack_size > SIZE_MAX - (p - 1))
            return EINVAL;
        stack_size = (stack_size + p - 1) / p * p;
    }
    return pthread_attr_setstacksize(pa, stack_size);
}

enum kite_err kite_os_thread_start(struct kite_os_thread *t, void (*fn)(void *arg), void *arg,
                                   const struct kite_os_thread_attr *attr)
{
    pthread_attr_t pa;
    int rc;
    if (t == NULL || fn == NULL)
        return KITE_ERR_ARG;
    t->fn = fn;
    t->arg = arg;
    t->on_start = attr != NULL ? attr->on_start : NULL;
    t->ctx = attr != NULL ? attr->ctx : NULL;
    rc = pthread_attr_init(&pa);
    if (rc != 0)
        return err_from(rc);
    if (attr != NULL) {
        rc = set_stack_size(&pa, attr->stack_size);
        if (rc == 0)
            rc = set_priority(&pa, attr->priority);
    }
    if (rc == 0)
        rc = pthread_create(&t->id, &pa, thread_main, t);
    pthread_attr_destroy(&pa);
    return err_from(rc);
}

void kite_os_thread_join(struct kite_os_thread *t)
{
    pthread_join(t->id, NULL);
}

/* ---- Time ---------------------------------------------------------------------------- */

kite_time_ms kite_os_now_ms(void)
{
    return kite_port_now_ms();
}
