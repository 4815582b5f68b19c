/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The object layouts of the POSIX OS port (kite/port/os.h) on pthreads.
 * Include kite/port/os.h, not this file. Every object is embedded by its
 * owner and initialised in place; nothing is allocated on the heap.
 *
 * Semaphores and mailboxes are a pthread mutex and condition variable(s) on
 * CLOCK_MONOTONIC, so a timed wait does not move when the wall clock is set.
 */
#ifndef KITE_PORT_OS_POSIX_H
#define KITE_PORT_OS_POSIX_H

#include <pthread.h>
#include <stdint.h>

/* Where a thread spins before it sleeps: how it backs off (kite/port/spin.h). */
struct kite_spin {
    uint8_t skip;    /* spins still to skip */
    uint8_t backoff; /* how many the next empty spin makes skip */
};

struct kite_os_mutex {
    pthread_mutex_t lock;
    struct kite_spin spin; /* KITE_OS_SPIN_US: before sleeping on the lock */
};

struct kite_os_sem {
    pthread_mutex_t lock;
    pthread_cond_t posted; /* signalled when count goes up */
    unsigned count;
    struct kite_spin spin; /* KITE_OS_SPIN_US: before a wait */
};

/* A ring of size pointers in the caller's slots: the oldest at head. */
struct kite_os_mbox {
    pthread_mutex_t lock;
    pthread_cond_t not_empty; /* fetchers wait here */
    pthread_cond_t not_full;  /* blocking posters wait here */
    void **slots;
    unsigned size, head, count;
    struct kite_spin spin; /* KITE_OS_SPIN_US: before a fetch sleeps */
};

/* Must stay in place from kite_os_thread_start until kite_os_thread_join
 * returns: the new thread reads fn, arg and the hook from it. */
struct kite_os_thread {
    pthread_t id;
    void (*fn)(void *arg);
    void *arg;
    void (*on_start)(void *ctx);
    void *ctx;
};

#endif
