/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Short frames written after the stack's lock is let go. In core-lock mode
 * a thread that runs the stack (the TAP thread with a burst of frames, a
 * program thread in a receive call) used to write the ACKs and window
 * updates of that run to the TAP device under the lock; the kernel runs the
 * Linux peer's TCP input inside each such write, and the peer's next
 * transmissions too: long work during which no other thread could use the
 * stack. Such a thread now marks its run (kr_txq_begin): the short frames it
 * sends wait in one queue, and it writes them once it has let the lock go
 * (kr_txq_flush).
 *
 * Order on the wire is kept: only the lock's holder adds to the queue, and
 * any frame written at once (data, a frame of another thread, a full queue)
 * first writes what waits. Flushes write under the queue's own lock, so two
 * threads never interleave their frames.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#include "kite/pbuf.h"
#include "kite/port/tap.h"
#include "preload.h"

/* Only frames this short wait (ACKs and window updates, options included):
 * data goes out at once, as the stack sends it. */
#define TXQ_FRAMES 64
#define TXQ_FRAME_MAX 128

struct kr_txq {
    pthread_mutex_t lock; /* the frames; held while they are written */
    atomic_uint count;
    uint16_t len[TXQ_FRAMES];
    uint8_t frame[TXQ_FRAMES][TXQ_FRAME_MAX];
    atomic_uint write_errors;
    kite_netif_output_fn tap_write; /* the TAP driver's own output */
    int tap_fd;
};

/* One TAP device per process (preload.h: the process-wide state). */
static struct kr_txq txq = {.lock = PTHREAD_MUTEX_INITIALIZER, .tap_fd = -1};
static __thread bool txq_on; /* this thread's frames may wait */

/* Under txq.lock. */
static void write_queued(void)
{
    unsigned n = atomic_load(&txq.count);
    if (n == 0)
        return;
    int saved = errno;
    for (unsigned i = 0; i < n; i++) {
        ssize_t w;
        do
            w = kr_real.write(txq.tap_fd, txq.frame[i], txq.len[i]);
        while (w < 0 && errno == EINTR);
        if (w != (ssize_t)txq.len[i])
            atomic_fetch_add(&txq.write_errors, 1); /* a lost frame, as a link loses one */
    }
    atomic_store(&txq.count, 0);
    errno = saved;
}

/* The netif's output, called by the holder of the stack's lock. */
static enum kite_err queue_or_write(struct kite_netif *netif, struct kite_pbuf *p)
{
    pthread_mutex_lock(&txq.lock);
    unsigned n = atomic_load(&txq.count);
    if (txq_on && n < TXQ_FRAMES && p->tot_len <= TXQ_FRAME_MAX) {
        txq.len[n] = (uint16_t)kite_pbuf_copy_out(p, txq.frame[n], p->tot_len, 0);
        atomic_store(&txq.count, n + 1);
        pthread_mutex_unlock(&txq.lock);
        return KITE_ERR_OK;
    }
    write_queued();
    pthread_mutex_unlock(&txq.lock); /* (no one else can queue: we hold the stack) */
    return txq.tap_write(netif, p);
}

void kr_txq_attach(struct kite_tap *tap)
{
    txq.tap_write = tap->netif.output;
    txq.tap_fd = tap->fd;
    tap->netif.output = queue_or_write;
}

void kr_txq_begin(void)
{
    txq_on = true;
}

void kr_txq_flush(void)
{
    txq_on = false;
    if (atomic_load(&txq.count) == 0)
        return;
    pthread_mutex_lock(&txq.lock);
    write_queued();
    pthread_mutex_unlock(&txq.lock);
}

unsigned kr_txq_write_errors(void)
{
    return atomic_load(&txq.write_errors);
}
