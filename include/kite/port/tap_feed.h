/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A driver thread for a TAP netif under a stack thread (host port): it reads
 * frames from the TAP descriptor into buffers of its own, one per mailbox
 * slot, and hands them in with kite_tcpip_input_frame; the stack thread
 * copies each into a pbuf and gives the buffer back. Out of buffers or
 * mailbox slots it leaves frames in the kernel's queue (it never drops one
 * it read) and sleeps until a buffer comes back (an eventfd wakes it).
 * The thread runs with every signal blocked, so the application's threads
 * get them. The examples and kite-run run their TAP devices with it.
 */
#ifndef KITE_PORT_TAP_FEED_H
#define KITE_PORT_TAP_FEED_H

#include <stdbool.h>
#include <stdint.h>

#include "kite/port/tap.h"
#include "kite/tcpip.h"

struct kite_tap_feed;

/** Optional work for the driver thread besides frames (all may be NULL / -1). */
struct kite_tap_feed_hooks {
    int fd;                      /* also watched for input, -1: none */
    void (*readable)(void *ctx); /* fd has input */
    /* after every wake-up, at least every 100 ms; feed is the thread's own
     * (it may run before kite_tap_feed_start has returned it) */
    void (*round)(void *ctx, struct kite_tap_feed *feed);
    void *ctx;
};

struct kite_tap_feed_stats {
    uint32_t frames;    /* handed to the stack */
    uint32_t mbox_full; /* stalls on a full mailbox (the frame waited, not lost) */
    uint32_t drop_mem;  /* the stack had no pbuf for it */
    uint32_t drop_size; /* empty or longer than an Ethernet frame */
    uint32_t errors;    /* read errors */
    uint32_t driven;    /* of frames, those run on drivers' threads (core-lock mode) */
    uint32_t by_stack;  /* of frames, those the stack thread read itself (message mode) */
};

/** Start feeding tap's frames to t (its stack thread running); NULL with
 *  errno set on failure. In message mode with KITE_OS_SPIN_US, the stack
 *  thread also reads the device itself while its mailbox is empty (see
 *  "The stack thread drives" below). */
struct kite_tap_feed *kite_tap_feed_start(struct kite_tap *tap, struct kite_tcpip *t,
                                          const struct kite_tap_feed_hooks *hooks);
/** Stop the thread and free it, once the stack thread has run the frames
 *  already queued (so stop the stack thread after this one, never before). */
void kite_tap_feed_stop(struct kite_tap_feed *f);
/*
 * Drivers (core-lock mode; in message mode these do nothing and
 * kite_tap_feed_drive returns 0). A thread about to wait for what the
 * device will bring (a blocking receive, a send waiting for its ACKs) can
 * read and run the frames itself while it waits, as Linux's busy polling
 * lets a receiving thread run the NIC's queue: the frames it waits for then
 * need no hand-off from the driver thread, and the data it copies out is
 * still in its CPU's cache. One thread reads at a time, so frames run in
 * the order they came. The driver thread stands down (finishes its burst
 * and stops watching the device) between kite_tap_feed_drive_begin and
 * _end, and for 200 us after an end that got what it awaited (the thread
 * is likely back for more soon), until some thread calls
 * kite_tap_feed_sleeping. Call none of these after kite_tap_feed_stop.
 */
void kite_tap_feed_drive_begin(struct kite_tap_feed *f);
/** Read and run one burst on this thread, unless another thread is reading;
 *  the frames read. The caller holds no lock the stack's output takes. */
unsigned kite_tap_feed_drive(struct kite_tap_feed *f);
/** got: the wait ended with what it awaited. */
void kite_tap_feed_drive_end(struct kite_tap_feed *f, bool got);
/** A thread is about to sleep until the stack changes something (in the
 *  kernel, on a descriptor the stack makes ready): the driver thread
 *  watches the device again at once, unless a driver is at work. */
void kite_tap_feed_sleeping(struct kite_tap_feed *f);
/*
 * The stack thread drives (message mode, KITE_OS_SPIN_US > 0): the feed
 * gives its stack thread idle work (kite_tcpip_set_idle). When the thread
 * finds its mailbox empty it reads the device and runs the frames itself,
 * for up to KITE_OS_SPIN_US, as a driver in core-lock mode does, and the
 * driver thread stands down meanwhile (the same lease). A frame then needs
 * no hand-off through the mailbox, and one thread fewer spins. Frames stay
 * in order: the stack thread reads only when no frame the driver thread
 * read is still queued. Counted in stats.by_stack.
 */

/** The counters so far. */
void kite_tap_feed_stats(struct kite_tap_feed *f, struct kite_tap_feed_stats *out);
/** The TAP device failed (poll reported an error on it); the thread goes on
 *  serving the hooks. */
int kite_tap_feed_failed(struct kite_tap_feed *f);

#endif
