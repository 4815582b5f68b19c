/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stack thread: the one thread that owns a stack in a threaded build
 * (docs/api.md). It waits on one mailbox for API calls and received frames
 * and runs the stack's timers in between. Other threads reach the stack only
 * through kite_tcpip_call (the netconn and socket layers do), which runs a
 * function with the stack to itself:
 *
 *  - message mode (KITE_TCPIP_CORE_LOCKING 0): the call is posted to the
 *    mailbox and runs on the stack thread; the caller waits for it;
 *  - core-lock mode (KITE_TCPIP_CORE_LOCKING 1): the caller takes the stack's
 *    one mutex and runs the function itself; the stack thread takes the same
 *    mutex around input and timers.
 *
 * Protocol code takes no lock in either mode (DESIGN.md principle 5).
 */
#ifndef KITE_TCPIP_H
#define KITE_TCPIP_H

#include <stdbool.h>
#include <stdint.h>

#include "kite/err.h"
#include "kite/netconn.h"
#include "kite/opts.h"
#include "kite/port/os.h"
#include "kite/time.h"

struct kite_stack;
struct kite_netif;
struct kite_pbuf;
struct kite_tcp_pcb;

/** The stack's clock (virtual time in simulations): ms, never going back. */
typedef kite_time_ms (*kite_tcpip_clock_fn)(void *ctx);

struct kite_tcpip_config {
    struct kite_os_thread_attr thread; /* stack size, priority, affinity hook */
    kite_tcpip_clock_fn clock;         /* NULL: kite_os_now_ms */
    void *clock_ctx;
};

/**
 * A frame a driver hands in (kite_tcpip_input_frame). The driver keeps the
 * buffer until done(ctx, frame, err) runs on the stack thread, by which time
 * the bytes were copied into a pbuf and handed to the netif.
 */
struct kite_tcpip_frame {
    struct kite_netif *netif;
    const uint8_t *data;
    uint16_t len;
    void (*done)(void *ctx, struct kite_tcpip_frame *frame, enum kite_err err);
    void *ctx;
};

struct kite_tcpip {
    struct kite_stack *stack;
    struct kite_os_mbox mbox;
    void *slots[KITE_TCPIP_MBOX_SIZE];
    struct kite_os_thread thread;
#if KITE_TCPIP_CORE_LOCKING
    struct kite_os_mutex lock;
#endif
    kite_tcpip_clock_fn clock;
    void *clock_ctx;
    kite_time_ms wait_until; /* the deadline the stack thread sleeps towards */
    bool running;
    struct kite_netconn_pool netconns;
    struct kite_nc_waiter *ready; /* woken waiters to retry (api/netconn.c) */
    uint32_t calls;               /* kite_tcpip_call runs served (a statistic) */
#if !KITE_TCPIP_CORE_LOCKING
    bool (*idle_fn)(void *ctx, struct kite_tcpip *t); /* kite_tcpip_set_idle */
    void *idle_ctx;
    void *stash;                 /* an entry fetched by kite_tcpip_idle_interrupted */
    bool stashed;                /* stash holds one, to run next */
    struct kite_tcp_pcb *unsent; /* a write's output, once its caller was let go */
#endif
#if KITE_NETCONN_EVENTS
    struct {
        kite_netconn_event_fn fn;
        void *ctx;
        uint16_t state[KITE_NETCONN_COUNT]; /* per netconn: watched, dirty, arrived, last events */
        uint16_t dirty[KITE_NETCONN_COUNT]; /* indices of dirty netconns */
        uint16_t ndirty;
        bool overflow; /* the list ran out: look at every watched netconn */
    } watch;
#endif
};

/** Start the stack thread for stack (initialised, netifs added). */
enum kite_err kite_tcpip_start(struct kite_tcpip *t, struct kite_stack *stack,
                               const struct kite_tcpip_config *cfg);
/** Stop the thread and wait for it; the stack stays as it is (then deinit it).
 *  A thread still blocked in a netconn or socket call returns KITE_ERR_CLOSED
 *  (EBADF); close every netconn before stopping, none can be closed after. */
void kite_tcpip_stop(struct kite_tcpip *t);

/** Run fn(ctx) with the stack to itself, from any thread but the stack thread
 *  (callbacks already run there and call the stack directly). */
enum kite_err kite_tcpip_call(struct kite_tcpip *t, void (*fn)(void *ctx), void *ctx);

/**
 * Hand a received frame to the stack from a driver thread: queued on the
 * mailbox (KITE_ERR_WOULDBLOCK when it is full: drop or retry), copied into
 * a pbuf on the stack thread, then frame->done is called.
 */
enum kite_err kite_tcpip_input_frame(struct kite_tcpip *t, struct kite_tcpip_frame *frame);
/**
 * A burst of frames: how many were taken, in order (the rest found the
 * mailbox full). In core-lock mode the calling thread runs them all at once,
 * under one hold of the lock (every done is called before this returns), so
 * the caller must hold no lock the stack's output takes.
 */
unsigned kite_tcpip_input_frames(struct kite_tcpip *t, struct kite_tcpip_frame *const *frames,
                                 unsigned n);

/**
 * Message mode: work for the stack thread while its mailbox is empty,
 * before it sleeps there. A host driver sets fn to read its device on the
 * stack thread and run the frames at once (kite_tcpip_run_frames), which
 * spares each frame the hand-off through the mailbox, as Linux's busy
 * polling lets a waiting thread run a NIC's queue (kite/port/tap_feed.h).
 * fn(ctx, t) runs on the stack thread, returns whether it ran frames, and
 * returns soon once kite_tcpip_idle_interrupted is true. Set (or, with fn
 * NULL, removed) from any thread but the stack thread; when this returns,
 * the old function is not running and will not run again. Core-lock mode
 * has no idle work (there the program's threads drive): this does nothing.
 */
void kite_tcpip_set_idle(struct kite_tcpip *t, bool (*fn)(void *ctx, struct kite_tcpip *t),
                         void *ctx);
/** In the idle function: whether an entry came to the mailbox (the function
 *  should then return; the entry runs next). */
bool kite_tcpip_idle_interrupted(struct kite_tcpip *t);
/** In the idle function (message mode): run frames now, as one burst, on
 *  the stack thread; every done has been called when this returns. Before
 *  it, the function makes sure no older frame waits in the mailbox (its own
 *  device's frames must run in the order they came). */
void kite_tcpip_run_frames(struct kite_tcpip *t, struct kite_tcpip_frame *const *frames,
                           unsigned n);

/** Replace the clock (virtual time); the stack thread re-reads it at once. */
void kite_tcpip_set_clock(struct kite_tcpip *t, kite_tcpip_clock_fn clock, void *ctx);
/** The clock moved (virtual time): let the stack thread run what is due. */
void kite_tcpip_wake(struct kite_tcpip *t);

#endif
