/* SPDX-License-Identifier: BSD-3-Clause */
/* The TAP driver thread under a stack thread (kite/port/tap_feed.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "kite/port/tap_feed.h"

#include "kite/port/spin.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Frames in flight between the driver thread and the stack thread: as many
 * as the mailbox holds (more could not be queued), at least 8. */
#define RX_BUFS (KITE_TCPIP_MBOX_SIZE > 8 ? KITE_TCPIP_MBOX_SIZE : 8)
/* Larger than any frame we accept, so an oversized one is seen as such. */
#define RX_BUF_SIZE 2048
/* MTU 1500 + Ethernet header + one 802.1Q tag (a TAP device has no FCS). */
#define RX_FRAME_MAX (1500 + 14 + 4)
/* Longest poll() sleep: bounds how often the round hook runs when idle. */
#define POLL_MS 100
/* Core-lock mode: how long the thread stays out of the way after a driver's
 * wait ended with what it awaited (kite_tap_feed_drive_end): a program
 * that just received is usually back for more within that, and drives
 * again; if it is not, the frames wait at most this long in the kernel. */
#define DRIVE_LEASE_US 200
/* Parked with KITE_OS_SPIN_US: the drivers' traffic is bulk above one
 * frame per PARK_BULK_US (sampled every PARK_SAMPLE_US); no spinning then
 * for PARK_CALM_US. */
#define PARK_BULK_US 5u
#define PARK_SAMPLE_US 100u
#define PARK_CALM_US 10000u

struct rx_buf {
    struct kite_tcpip_frame frame;
    struct rx_buf *next; /* free list */
    struct kite_tap_feed *feed;
    uint8_t data[RX_BUF_SIZE];
};

struct kite_tap_feed {
    struct kite_tap *tap;
    struct kite_tcpip *tcpip;
    struct kite_tap_feed_hooks hooks;
    pthread_t thread;
    int wake[2]; /* a byte here ends the thread */
    int refill;  /* eventfd: a buffer came back while the thread was starved */
    atomic_bool starved;
    atomic_int failed;
    struct kite_spin spin;      /* before poll() sleeps (KITE_OS_SPIN_US) */
    struct kite_spin idle_spin; /* the stack thread's, driving (message mode) */

    /* Drivers: program threads that read while they wait (core-lock mode),
     * or the stack thread while its mailbox is empty (message mode). */
    atomic_bool reading;       /* one thread at a time reads and runs a burst */
    atomic_int drivers;        /* threads between drive_begin and drive_end */
    _Atomic uint64_t drove_us; /* when the last one ended with what it awaited */
    atomic_bool parked;        /* this thread sleeps without watching the device */
    int kick;                  /* eventfd: wakes it, a thread went to sleep */
    atomic_uint driven;        /* frames the drivers ran */
    atomic_uint by_stack;      /* frames the stack thread read itself (message mode) */
    uint64_t calm_until_us;    /* no spinning while parked before (its own) */

    pthread_mutex_t lock; /* the free list and the counters */
    struct rx_buf *free_bufs;
    struct rx_buf *unposted; /* read, refused by a full mailbox: posted first (via next) */
    struct kite_tap_feed_stats stats;
    struct rx_buf bufs[RX_BUFS];
};

static struct rx_buf *take_buf(struct kite_tap_feed *f)
{
    pthread_mutex_lock(&f->lock);
    struct rx_buf *b = f->free_bufs;
    if (b != NULL)
        f->free_bufs = b->next;
    pthread_mutex_unlock(&f->lock);
    return b;
}

static void put_buf(struct kite_tap_feed *f, struct rx_buf *b, uint32_t *counter)
{
    pthread_mutex_lock(&f->lock);
    b->next = f->free_bufs;
    f->free_bufs = b;
    if (counter != NULL)
        (*counter)++;
    pthread_mutex_unlock(&f->lock);
}

/* Runs on the stack thread once the frame was copied into a pbuf (or not). */
static void frame_done(void *ctx, struct kite_tcpip_frame *frame, enum kite_err err)
{
    struct rx_buf *b = ctx;
    struct kite_tap_feed *f = b->feed;
    (void)frame;
    put_buf(f, b, err == KITE_ERR_OK ? &f->stats.frames : &f->stats.drop_mem);
    if (atomic_exchange(&f->starved, false))
        (void)eventfd_write(f->refill, 1);
}

/* Most frames read and handed in as one burst: as many as there are
 * buffers (core-lock mode runs a burst under one hold of the lock; TCP
 * acknowledges a burst once, so longer bursts spare the peer ACKs). */
#define BURST RX_BUFS

/* Hand frames in; what a full mailbox refused is kept, in order, for later.
 * false when something was refused. */
static bool post_frames(struct kite_tap_feed *f, struct rx_buf **bufs, unsigned n, bool here)
{
    struct kite_tcpip_frame *frames[BURST] = {0};
    for (unsigned i = 0; i < n; i++)
        frames[i] = &bufs[i]->frame;
    if (here && n > 0) {
        kite_tcpip_run_frames(f->tcpip, frames, n);
        return true;
    }
    unsigned taken = kite_tcpip_input_frames(f->tcpip, frames, n);
    if (taken == n)
        return true;
    for (unsigned i = n; i-- > taken;) { /* (pushed from the back: the list keeps the order) */
        bufs[i]->next = f->unposted;
        f->unposted = bufs[i];
    }
    return false;
}

/* What the mailbox refused before goes first, in bursts; false while it
 * still refuses (post_frames puts the refused back ahead of the rest). */
static bool post_unposted(struct kite_tap_feed *f)
{
    while (f->unposted != NULL) {
        struct rx_buf *bufs[BURST];
        unsigned n = 0;
        for (; f->unposted != NULL && n < BURST; f->unposted = f->unposted->next)
            bufs[n++] = f->unposted;
        if (!post_frames(f, bufs, n, false))
            return false;
    }
    return true;
}

/* One frame from the TAP device into b; false when there is none (or an
 * error, counted), with b given back. */
static bool read_frame(struct kite_tap_feed *f, struct rx_buf *b, bool *more)
{
    ssize_t n = read(f->tap->fd, b->data, sizeof b->data);
    if (n < 0) {
        put_buf(f, b, errno == EAGAIN || errno == EINTR ? NULL : &f->stats.errors);
        *more = false;
        return false;
    }
    if (n == 0 || n > RX_FRAME_MAX) {
        put_buf(f, b, &f->stats.drop_size);
        return false;
    }
    b->frame = (struct kite_tcpip_frame){
        .netif = &f->tap->netif, .data = b->data, .len = (uint16_t)n, .done = frame_done, .ctx = b};
    return true;
}

/* Read what the TAP device holds, a burst at a time, while buffers and
 * mailbox slots last; how many frames were read. The driver thread
 * (give_way) ends its burst early when a program thread begins to drive.
 * here: the stack thread reads (message mode) and runs them at once. */
static unsigned receive(struct kite_tap_feed *f, bool give_way, bool here)
{
    if (!post_unposted(f))
        return 0;
    struct rx_buf *bufs[BURST];
    unsigned n = 0;
    bool more = true;
    while (more && n < BURST && !(give_way && n > 0 && atomic_load(&f->drivers) > 0)) {
        struct rx_buf *b = take_buf(f);
        if (b == NULL)
            break; /* all in flight: the rest waits in the kernel's queue */
        if (read_frame(f, b, &more))
            bufs[n++] = b;
    }
    if (!post_frames(f, bufs, n, here)) {
        pthread_mutex_lock(&f->lock);
        f->stats.mbox_full++; /* counts the stalls; the frames are not lost */
        pthread_mutex_unlock(&f->lock);
    }
    return n;
}

static bool have_buf(struct kite_tap_feed *f)
{
    pthread_mutex_lock(&f->lock);
    bool have = f->free_bufs != NULL;
    pthread_mutex_unlock(&f->lock);
    return have;
}

/* Whether the thread can read now; if not it is marked starved first, and
 * looks again, so a buffer that came back meanwhile is not missed. */
static bool can_read(struct kite_tap_feed *f)
{
    if (f->unposted == NULL && have_buf(f))
        return true;
    atomic_store(&f->starved, true);
    if (f->unposted == NULL && have_buf(f)) {
        atomic_store(&f->starved, false);
        return true;
    }
    return false;
}

struct poll_args {
    struct pollfd *pfd;
    nfds_t count;
    int n; /* poll's answer */
};

static bool polled_something(void *ctx)
{
    struct poll_args *a = ctx;
    a->n = poll(a->pfd, a->count, 0);
    return a->n != 0;
}

/* poll(); after frames came (spin), with KITE_OS_SPIN_US set (max_throughput),
 * first without sleeping for up to that long (kite/port/spin.h), so the next
 * frame of an exchange is taken without a scheduler wake-up (as kite-host's
 * --busy-poll does). */
static int wait_events(struct kite_tap_feed *f, struct pollfd *pfd, nfds_t count, int timeout,
                       bool spin)
{
    struct poll_args a = {pfd, count, 0};
    if (spin && kite_spin_until(&f->spin, polled_something, &a))
        return a.n;
    return poll(pfd, count, timeout);
}

/* ---- Drivers: a waiting thread reads the device itself (core-lock mode) ---- */

/* The right to read and run a burst: frames run in the order read. */
static bool take_reading(struct kite_tap_feed *f)
{
    return !atomic_exchange(&f->reading, true);
}

static void end_reading(struct kite_tap_feed *f)
{
    atomic_store(&f->reading, false);
}

static void driver_begins(struct kite_tap_feed *f)
{
    atomic_fetch_add(&f->drivers, 1);
}

static void driver_ends(struct kite_tap_feed *f, bool got)
{
    if (got)
        atomic_store(&f->drove_us, kite_spin_now_us());
    atomic_fetch_sub(&f->drivers, 1);
}

static void driver_sleeps(struct kite_tap_feed *f)
{
    atomic_store(&f->drove_us, 0);
    if (atomic_load(&f->drivers) == 0 && atomic_load(&f->parked))
        (void)eventfd_write(f->kick, 1);
}

/* One burst read and run on this thread, if it may read now; here: on the
 * stack thread (message mode), which first runs what the mailbox holds. */
static unsigned drive_burst(struct kite_tap_feed *f, bool here)
{
    if (!take_reading(f))
        return 0;
    /* Holding the token, nothing the driver thread read is on its way to the
     * mailbox: an empty mailbox and no refused frames mean none is older. */
    unsigned n = 0;
    if (!(here && kite_tcpip_idle_interrupted(f->tcpip)) && f->unposted == NULL && have_buf(f))
        n = receive(f, false, here);
    if (n > 0)
        atomic_fetch_add(here ? &f->by_stack : &f->driven, n);
    end_reading(f);
    return n;
}

void kite_tap_feed_drive_begin(struct kite_tap_feed *f)
{
    if (KITE_TCPIP_CORE_LOCKING)
        driver_begins(f);
}

void kite_tap_feed_drive_end(struct kite_tap_feed *f, bool got)
{
    if (KITE_TCPIP_CORE_LOCKING)
        driver_ends(f, got);
}

void kite_tap_feed_sleeping(struct kite_tap_feed *f)
{
    if (KITE_TCPIP_CORE_LOCKING)
        driver_sleeps(f);
}

unsigned kite_tap_feed_drive(struct kite_tap_feed *f)
{
    return KITE_TCPIP_CORE_LOCKING ? drive_burst(f, false) : 0;
}

/* ---- The stack thread as the driver (message mode) ---- */

struct idle_try {
    struct kite_tap_feed *f;
    struct kite_tcpip *t;
    unsigned ran;
};

static bool idle_step(void *ctx)
{
    struct idle_try *a = ctx;
    if (kite_tcpip_idle_interrupted(a->t))
        return true;
    a->ran = drive_burst(a->f, true);
    return a->ran > 0 || kite_tcpip_idle_interrupted(a->t);
}

/* The stack thread's idle work (kite_tcpip_set_idle): with KITE_OS_SPIN_US,
 * read the device and run its frames right here until something comes
 * (frames, or an entry in the mailbox), for up to that long, as a program
 * thread drives in core-lock mode. A frame then reaches the stack without
 * the hand-off through the mailbox, and on a VM with two vCPUs one thread
 * fewer spins beside the program's and the peer's. Empty-handed, the stack
 * thread goes to sleep in its mailbox and this thread watches the device. */
static bool stack_idle(void *ctx, struct kite_tcpip *t)
{
    struct kite_tap_feed *f = ctx;
    struct idle_try a = {f, t, 0};
    driver_begins(f);
    bool got = kite_spin_until(&f->idle_spin, idle_step, &a);
    driver_ends(f, a.ran > 0);
    if (!got)
        driver_sleeps(f);
    return a.ran > 0;
}

/* A driver is at work, or one ended its wait within the lease. */
static bool drivers_active(struct kite_tap_feed *f)
{
    if (atomic_load(&f->drivers) > 0)
        return true;
    uint64_t t = atomic_load(&f->drove_us);
    return t != 0 && kite_spin_now_us() - t < DRIVE_LEASE_US;
}

/* Whether to sleep without watching the device: marked parked first and
 * looked again, so a thread that goes to sleep meanwhile sees the mark and
 * kicks (kite_tap_feed_sleeping). */
static bool park(struct kite_tap_feed *f)
{
    if (!drivers_active(f))
        return false;
    atomic_store(&f->parked, true);
    if (drivers_active(f))
        return true;
    atomic_store(&f->parked, false);
    return false;
}

/* Parked with KITE_OS_SPIN_US (max_throughput), in core-lock mode: spin
 * rather than sleep while the drivers are active and their traffic is
 * light. The frames a driver runs often bring answers for a program on the
 * other CPU, the scheduler sends such a program to an idle CPU, and on a VM
 * a halted vCPU takes tens of microseconds to wake. Under bulk traffic (more than one
 * frame per PARK_BULK_US) a spinning thread would only keep the peer's
 * sender off this CPU: the thread then sleeps, and spins no more for
 * PARK_CALM_US. True with *n when it saw something; false when it should
 * sleep. In message mode the driver is the stack thread, and the program
 * thread waiting for its answer spins already: a third spinner on two
 * vCPUs would only take turns with them. */
static bool spin_parked(struct kite_tap_feed *f, struct pollfd *pfd, nfds_t count, int *n)
{
    uint64_t start = kite_spin_now_us();
    if (KITE_OS_SPIN_US == 0 || !KITE_TCPIP_CORE_LOCKING || start < f->calm_until_us)
        return false;
    uint32_t driven = atomic_load(&f->driven);
    *n = 0;
    while (drivers_active(f)) {
        *n = poll(pfd, count, 0);
        if (*n != 0)
            return true;
        sched_yield();
        uint64_t now = kite_spin_now_us();
        if (now - start >= PARK_SAMPLE_US) {
            if ((atomic_load(&f->driven) - driven) * PARK_BULK_US > now - start) {
                f->calm_until_us = now + PARK_CALM_US;
                return false;
            }
            start = now;
            driven = atomic_load(&f->driven);
        }
    }
    return true;
}

/* Parked: until kicked, the other descriptors, or the lease has passed. */
static int sleep_parked(struct kite_tap_feed *f, struct pollfd *pfd, nfds_t count)
{
    int n;
    if (!spin_parked(f, pfd, count, &n)) {
        struct timespec lease = {.tv_sec = 0, .tv_nsec = DRIVE_LEASE_US * 1000L};
        n = ppoll(pfd, count, &lease, NULL);
    }
    atomic_store(&f->parked, false);
    return n;
}

/* Read a burst unless a driver reads (or is about to). */
static bool receive_unless_driven(struct kite_tap_feed *f)
{
    if (drivers_active(f) || !take_reading(f))
        return false;
    bool got = receive(f, true, false) > 0;
    end_reading(f);
    return got;
}

static void *feed_main(void *arg)
{
    struct kite_tap_feed *f = arg;
    struct pollfd pfd[5] = {
        {.fd = f->tap->fd, .events = POLLIN}, {.fd = f->wake[0], .events = POLLIN},
        {.fd = f->refill, .events = POLLIN},  {.fd = f->hooks.fd, .events = POLLIN},
        {.fd = f->kick, .events = POLLIN},
    };

    bool busy = false; /* frames came in the last round */
    for (;;) {
        /* Starved, leave the frames in the kernel until a buffer comes back
         * (a mailbox full of API calls frees no buffer: look again in 1 ms). */
        bool room = can_read(f);
        bool parked = park(f);
        pfd[0].events = room && !parked ? POLLIN : 0;
        int sleep_ms = !room && f->unposted != NULL ? 1 : POLL_MS;
        int n = parked ? sleep_parked(f, pfd, 5) : wait_events(f, pfd, 5, sleep_ms, busy && room);
        busy = false;
        eventfd_t v;
        if (n > 0 && (pfd[2].revents & POLLIN))
            (void)eventfd_read(f->refill, &v);
        if (n > 0 && (pfd[4].revents & POLLIN))
            (void)eventfd_read(f->kick, &v);
        if (!room && f->unposted != NULL && take_reading(f)) {
            receive(f, true, false); /* post the frames the mailbox refused (message mode) */
            end_reading(f);
        }
        if (n > 0 && (pfd[1].revents & POLLIN))
            return NULL;
        if (n > 0 && (pfd[3].revents & POLLIN) && f->hooks.readable != NULL)
            f->hooks.readable(f->hooks.ctx);
        if (n > 0 && (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL))) {
            atomic_store(&f->failed, 1);
            pfd[0].fd = -1;
        }
        if (n > 0 && (pfd[0].revents & POLLIN))
            busy = receive_unless_driven(f);
        if (f->hooks.round != NULL)
            f->hooks.round(f->hooks.ctx, f);
    }
}

static struct kite_tap_feed *feed_alloc(struct kite_tap *tap, struct kite_tcpip *t,
                                        const struct kite_tap_feed_hooks *hooks)
{
    /* One buffer per mailbox slot: too big for the caller's stack. */
    struct kite_tap_feed *f = calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    f->tap = tap;
    f->tcpip = t;
    f->hooks = hooks != NULL ? *hooks : (struct kite_tap_feed_hooks){.fd = -1};
    f->wake[0] = f->wake[1] = -1;
    pthread_mutex_init(&f->lock, NULL);
    for (int i = 0; i < RX_BUFS; i++) {
        f->bufs[i].feed = f;
        f->bufs[i].next = f->free_bufs;
        f->free_bufs = &f->bufs[i];
    }
    f->refill = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    f->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    return f;
}

static void feed_free(struct kite_tap_feed *f)
{
    int saved = errno;
    for (int i = 0; i < 2; i++)
        if (f->wake[i] >= 0)
            close(f->wake[i]);
    if (f->refill >= 0)
        close(f->refill);
    if (f->kick >= 0)
        close(f->kick);
    pthread_mutex_destroy(&f->lock);
    free(f);
    errno = saved;
}

struct kite_tap_feed *kite_tap_feed_start(struct kite_tap *tap, struct kite_tcpip *t,
                                          const struct kite_tap_feed_hooks *hooks)
{
    struct kite_tap_feed *f = feed_alloc(tap, t, hooks);
    if (f == NULL)
        return NULL;
    if (f->refill < 0 || f->kick < 0 || pipe2(f->wake, O_CLOEXEC) != 0) {
        feed_free(f);
        return NULL;
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the new thread inherits the mask */
    int rc = pthread_create(&f->thread, NULL, feed_main, f);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        errno = rc;
        feed_free(f);
        return NULL;
    }
    if (!KITE_TCPIP_CORE_LOCKING && KITE_OS_SPIN_US > 0)
        kite_tcpip_set_idle(t, stack_idle, f);
    return f;
}

static void no_op(void *ctx)
{
    (void)ctx;
}

void kite_tap_feed_stop(struct kite_tap_feed *f)
{
    if (f == NULL)
        return;
    if (!KITE_TCPIP_CORE_LOCKING && KITE_OS_SPIN_US > 0)
        kite_tcpip_set_idle(f->tcpip, NULL, NULL); /* the stack thread reads no more */
    while (write(f->wake[1], "x", 1) < 0 && errno == EINTR)
        ;
    pthread_join(f->thread, NULL);
    /* Frames still queued in the mailbox live in f->bufs: a call queues
     * behind them, so when it has run the stack thread has given every
     * buffer back and f may go. */
    (void)kite_tcpip_call(f->tcpip, no_op, NULL);
    feed_free(f);
}

void kite_tap_feed_stats(struct kite_tap_feed *f, struct kite_tap_feed_stats *out)
{
    pthread_mutex_lock(&f->lock);
    *out = f->stats;
    pthread_mutex_unlock(&f->lock);
    out->driven = atomic_load(&f->driven);
    out->by_stack = atomic_load(&f->by_stack);
}

int kite_tap_feed_failed(struct kite_tap_feed *f)
{
    return atomic_load(&f->failed);
}
