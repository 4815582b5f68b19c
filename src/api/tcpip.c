/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stack thread (docs/api.md): one mailbox for API calls and received
 * frames, the stack's timers in between. Mailbox entries are pointers tagged
 * in their low bits, so the mailbox carries no message structures of its own:
 * a call lives on its caller's stack until it is done, a frame in its
 * driver's memory.
 */
#include "kite/tcpip.h"

#include <stdint.h>

#include "kite/netif.h"
#include "kite/pbuf.h"
#include "kite/stack.h"

#define TAG_CALL 0u
#define TAG_FRAME 1u
#define TAG_WAKE 2u
#define TAG_STOP 3u
#define TAG_MASK 3u

/* A call waiting to run on the stack thread. */
struct tcpip_call {
    void (*fn)(void *ctx);
    void *ctx;
    struct kite_os_sem done;
};

static void *tagged(void *p, uintptr_t tag)
{
    return (void *)((uintptr_t)p | tag);
}

static kite_time_ms default_clock(void *ctx)
{
    (void)ctx;
    return kite_os_now_ms();
}

static void core_lock(struct kite_tcpip *t)
{
#if KITE_TCPIP_CORE_LOCKING
    kite_os_mutex_lock(&t->lock);
#else
    (void)t;
#endif
}

static void core_unlock(struct kite_tcpip *t)
{
#if KITE_TCPIP_CORE_LOCKING
    kite_os_mutex_unlock(&t->lock);
#else
    (void)t;
#endif
}

/* ---- The stack thread ------------------------------------------------------- */

static void run_frame(struct kite_tcpip *t, struct kite_tcpip_frame *f)
{
    struct kite_pbuf *p = kite_pbuf_alloc_rx(t->stack, f->len);
    enum kite_err err = KITE_ERR_MEM;
    if (p != NULL) {
        err = kite_pbuf_copy_in(p, f->data, f->len, 0);
        if (err == KITE_ERR_OK)
            kite_netif_input(f->netif, p); /* consumes p */
        else
            kite_pbuf_free(t->stack, p);
    }
    f->done(f->ctx, f, err);
}

/* Runs one mailbox entry; false for the stop request. */
static bool run_entry(struct kite_tcpip *t, void *entry)
{
    uintptr_t tag = (uintptr_t)entry & TAG_MASK;
    void *p = (void *)((uintptr_t)entry & ~(uintptr_t)TAG_MASK);
    switch (tag) {
    case TAG_CALL: {
        struct tcpip_call *c = p;
        t->calls++;
        c->fn(c->ctx);
        kite_os_sem_post(&c->done);
        kite__netconn_flush_output(t); /* while the caller goes on */
        return true;
    }
    case TAG_FRAME:
        run_frame(t, p);
        return true;
    case TAG_WAKE:
        return true;
    default:
        kite__netconn_fail_waiters(t); /* no thread may wait on a stack nobody runs */
        return false;
    }
}

/* How long the thread may sleep: until the next deadline on the real clock;
 * on a replaced (virtual) clock only a message or kite_tcpip_wake moves time. */
static uint32_t sleep_ms(const struct kite_tcpip *t, kite_time_ms now, kite_time_ms deadline)
{
    if (deadline == KITE_TIME_NEVER || t->clock != default_clock)
        return deadline <= now ? 0 : KITE_OS_FOREVER;
    if (deadline <= now)
        return 0;
    kite_time_ms wait = deadline - now;
    return wait < 3600000u ? (uint32_t)wait : 3600000u;
}

/* A burst of frames on the thread that has the stack: one ACK for the
 * burst, the woken waiters served once after it. */
static void run_burst(struct kite_tcpip *t, struct kite_tcpip_frame *const *frames, unsigned n)
{
    kite_stack_poll(t->stack, t->clock(t->clock_ctx));
    kite_stack_burst_begin(t->stack);
    for (unsigned i = 0; i < n; i++)
        run_frame(t, frames[i]);
    kite_stack_burst_end(t->stack);
    kite__netconn_run_ready(t);
}

/* The next mailbox entry, waiting up to ms; false when none came. In
 * message mode the idle work (kite_tcpip_set_idle) runs first: when it ran
 * frames, false at once too, so the loop goes round (clock, timers) before
 * it looks again. */
static bool next_entry(struct kite_tcpip *t, void **entry, uint32_t ms)
{
#if !KITE_TCPIP_CORE_LOCKING
    if (t->idle_fn != NULL && ms != 0) {
        t->stashed = false;
        bool ran = t->idle_fn(t->idle_ctx, t);
        if (t->stashed) {
            *entry = t->stash;
            return true;
        }
        if (ran)
            return false;
    }
#endif
    return kite_os_mbox_fetch(&t->mbox, entry, ms);
}

static void thread_main(void *arg)
{
    struct kite_tcpip *t = arg;
    for (;;) {
        core_lock(t);
        kite_time_ms now = t->clock(t->clock_ctx);
        kite_stack_poll(t->stack, now);
        kite__netconn_run_ready(t); /* the waiters its timers and input woke */
        kite_time_ms deadline = kite_stack_next_deadline(t->stack);
        t->wait_until = deadline;
        uint32_t ms = sleep_ms(t, now, deadline); /* (it reads t->clock: under the lock) */
        core_unlock(t);
        void *entry;
        if (!next_entry(t, &entry, ms))
            continue; /* a deadline came, or the idle work ran frames */
        core_lock(t);
        /* The entry may have waited long: what it arms counts from now. */
        kite_stack_poll(t->stack, t->clock(t->clock_ctx));
        kite_stack_burst_begin(t->stack);
        bool go_on = run_entry(t, entry);
        /* What queued behind it runs before the woken waiters are retried:
         * a reader then wakes once for a burst of segments, not per frame,
         * and TCP acknowledges the burst once. */
        for (unsigned n = 1; go_on && n < KITE_TCPIP_BATCH; n++) {
            if (!kite_os_mbox_fetch(&t->mbox, &entry, 0))
                break;
            go_on = run_entry(t, entry);
        }
        kite_stack_burst_end(t->stack);
        kite__netconn_run_ready(t);
        core_unlock(t);
        if (!go_on)
            return;
    }
}

enum kite_err kite_tcpip_start(struct kite_tcpip *t, struct kite_stack *stack,
                               const struct kite_tcpip_config *cfg)
{
    t->stack = stack;
    t->clock = cfg != NULL && cfg->clock != NULL ? cfg->clock : default_clock;
    t->clock_ctx = cfg != NULL ? cfg->clock_ctx : NULL;
    t->wait_until = KITE_TIME_NEVER;
    t->ready = NULL;
    t->calls = 0;
#if !KITE_TCPIP_CORE_LOCKING
    t->idle_fn = NULL;
    t->idle_ctx = NULL;
    t->stashed = false;
    t->unsent = NULL;
#endif
    kite__netconn_pool_init(&t->netconns);
    enum kite_err err = kite_os_mbox_init(&t->mbox, t->slots, KITE_TCPIP_MBOX_SIZE);
    if (err != KITE_ERR_OK)
        return err;
#if KITE_TCPIP_CORE_LOCKING
    err = kite_os_mutex_init(&t->lock);
    if (err != KITE_ERR_OK) {
        kite_os_mbox_destroy(&t->mbox);
        return err;
    }
#endif
    struct kite_os_thread_attr attr = {0};
    if (cfg != NULL)
        attr = cfg->thread;
    if (attr.stack_size == 0)
        attr.stack_size = KITE_TCPIP_THREAD_STACK_SIZE;
    err = kite_os_thread_start(&t->thread, thread_main, t, &attr);
    if (err != KITE_ERR_OK) {
#if KITE_TCPIP_CORE_LOCKING
        kite_os_mutex_destroy(&t->lock);
#endif
        kite_os_mbox_destroy(&t->mbox);
        return err;
    }
    t->running = true;
    return KITE_ERR_OK;
}

void kite_tcpip_stop(struct kite_tcpip *t)
{
    if (!t->running)
        return;
    kite_os_mbox_post(&t->mbox, tagged(NULL, TAG_STOP));
    kite_os_thread_join(&t->thread);
    t->running = false;
#if KITE_TCPIP_CORE_LOCKING
    kite_os_mutex_destroy(&t->lock);
#endif
    kite_os_mbox_destroy(&t->mbox);
}

/* ---- Other threads ------------------------------------------------------------- */

#if KITE_TCPIP_CORE_LOCKING
enum kite_err kite_tcpip_call(struct kite_tcpip *t, void (*fn)(void *ctx), void *ctx)
{
    kite_os_mutex_lock(&t->lock);
    /* The stack thread may have slept long: bring the clock (and what is
     * due) up to date, so the timers fn arms count from now. */
    kite_stack_poll(t->stack, t->clock(t->clock_ctx));
    t->calls++;
    fn(ctx);
    kite__netconn_run_ready(t); /* what fn woke, before the stack is let go */
    /* The call may have armed a timer earlier than the thread sleeps towards. */
    bool sooner = kite_stack_next_deadline(t->stack) < t->wait_until;
    kite_os_mutex_unlock(&t->lock);
    if (sooner)
        (void)kite_os_mbox_trypost(&t->mbox, tagged(NULL, TAG_WAKE));
    return KITE_ERR_OK;
}
#else
enum kite_err kite_tcpip_call(struct kite_tcpip *t, void (*fn)(void *ctx), void *ctx)
{
    struct tcpip_call c = {.fn = fn, .ctx = ctx};
    enum kite_err err = kite_os_sem_init(&c.done, 0);
    if (err != KITE_ERR_OK)
        return err; /* fn did not run */
    kite_os_mbox_post(&t->mbox, tagged(&c, TAG_CALL));
    (void)kite_os_sem_wait(&c.done, KITE_OS_FOREVER);
    kite_os_sem_destroy(&c.done);
    return KITE_ERR_OK;
}
#endif

enum kite_err kite_tcpip_input_frame(struct kite_tcpip *t, struct kite_tcpip_frame *frame)
{
    return kite_os_mbox_trypost(&t->mbox, tagged(frame, TAG_FRAME)) ? KITE_ERR_OK
                                                                    : KITE_ERR_WOULDBLOCK;
}

#if KITE_TCPIP_CORE_LOCKING
/* Core-lock mode: the driver's thread runs the frames itself, all under one
 * hold of the lock, as a caller runs its call (no hand-off to the stack
 * thread, no mailbox slot). */
unsigned kite_tcpip_input_frames(struct kite_tcpip *t, struct kite_tcpip_frame *const *frames,
                                 unsigned n)
{
    if (n == 0)
        return 0;
    kite_os_mutex_lock(&t->lock);
    run_burst(t, frames, n);
    bool sooner = kite_stack_next_deadline(t->stack) < t->wait_until;
    kite_os_mutex_unlock(&t->lock);
    if (sooner)
        (void)kite_os_mbox_trypost(&t->mbox, tagged(NULL, TAG_WAKE));
    return n;
}
#else
unsigned kite_tcpip_input_frames(struct kite_tcpip *t, struct kite_tcpip_frame *const *frames,
                                 unsigned n)
{
    unsigned i = 0;
    while (i < n && kite_os_mbox_trypost(&t->mbox, tagged(frames[i], TAG_FRAME)))
        i++;
    return i;
}
#endif

/* ---- Idle work (message mode) ------------------------------------------------ */

#if KITE_TCPIP_CORE_LOCKING
void kite_tcpip_set_idle(struct kite_tcpip *t, bool (*fn)(void *ctx, struct kite_tcpip *t),
                         void *ctx)
{
    (void)t;
    (void)fn;
    (void)ctx;
}

bool kite_tcpip_idle_interrupted(struct kite_tcpip *t)
{
    (void)t;
    return true;
}

void kite_tcpip_run_frames(struct kite_tcpip *t, struct kite_tcpip_frame *const *frames, unsigned n)
{
    (void)kite_tcpip_input_frames(t, frames, n);
}
#else
struct idle_change {
    struct kite_tcpip *t;
    bool (*fn)(void *ctx, struct kite_tcpip *t);
    void *ctx;
};

static void change_idle(void *arg)
{
    struct idle_change *c = arg;
    c->t->idle_fn = c->fn;
    c->t->idle_ctx = c->ctx;
}

void kite_tcpip_set_idle(struct kite_tcpip *t, bool (*fn)(void *ctx, struct kite_tcpip *t),
                         void *ctx)
{
    struct idle_change c = {t, fn, ctx};
    (void)kite_tcpip_call(t, change_idle, &c); /* on the stack thread: never mid-idle */
}

bool kite_tcpip_idle_interrupted(struct kite_tcpip *t)
{
    if (!t->stashed)
        t->stashed = kite_os_mbox_fetch(&t->mbox, &t->stash, 0);
    return t->stashed;
}

void kite_tcpip_run_frames(struct kite_tcpip *t, struct kite_tcpip_frame *const *frames, unsigned n)
{
    run_burst(t, frames, n);
}
#endif

struct clock_change {
    struct kite_tcpip *t;
    kite_tcpip_clock_fn clock;
    void *ctx;
};

static void change_clock(void *arg)
{
    struct clock_change *c = arg;
    c->t->clock = c->clock != NULL ? c->clock : default_clock;
    c->t->clock_ctx = c->ctx;
}

void kite_tcpip_set_clock(struct kite_tcpip *t, kite_tcpip_clock_fn clock, void *ctx)
{
    struct clock_change c = {t, clock, ctx};
    (void)kite_tcpip_call(t, change_clock, &c);
    kite_tcpip_wake(t);
}

void kite_tcpip_wake(struct kite_tcpip *t)
{
    (void)kite_os_mbox_trypost(&t->mbox, tagged(NULL, TAG_WAKE));
}
