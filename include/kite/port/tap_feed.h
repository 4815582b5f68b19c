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
};

/** Start feeding tap's frames to t; NULL with errno set on failure. */
struct kite_tap_feed *kite_tap_feed_start(struct kite_tap *tap, struct kite_tcpip *t,
                                          const struct kite_tap_feed_hooks *hooks);
/** Stop the thread and free it, once the stack thread has run the frames
 *  already queued (so stop the stack thread after this one, never before). */
void kite_tap_feed_stop(struct kite_tap_feed *f);
/** The counters so far. */
void kite_tap_feed_stats(struct kite_tap_feed *f, struct kite_tap_feed_stats *out);
/** The TAP device failed (poll reported an error on it); the thread goes on
 *  serving the hooks. */
int kite_tap_feed_failed(struct kite_tap_feed *f);

#endif
