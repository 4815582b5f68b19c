/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The operating system under the sequential APIs (netconn, sockets): threads,
 * mutexes, counting semaphores and mailboxes. A port implements these
 * functions and defines the object layouts in its own header (the POSIX port:
 * kite/port/os_posix.h); the no-OS build has none of them and offers only the
 * raw APIs, driven by the application's own kite_stack_poll loop.
 *
 * Objects are embedded by their owner and initialised in place: the API layer
 * allocates nothing. Every blocking call waits in real time; the sequential
 * APIs never use an OS timeout for a protocol or socket timeout (those run on
 * the stack's own timers), so a test can drive a threaded stack on virtual
 * time (docs/api.md).
 */
#ifndef KITE_PORT_OS_H
#define KITE_PORT_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kite/err.h"
#include "kite/opts.h"
#include "kite/time.h"

#if KITE_OS_POSIX
#include "kite/port/os_posix.h"
#else
#error "the sequential APIs need an OS port: set KITE_OS_POSIX or add one (docs/api.md)"
#endif

/** A wait that never times out. */
#define KITE_OS_FOREVER UINT32_MAX

/* ---- Mutexes (not recursive) -------------------------------------------------- */
enum kite_err kite_os_mutex_init(struct kite_os_mutex *m);
void kite_os_mutex_lock(struct kite_os_mutex *m);
void kite_os_mutex_unlock(struct kite_os_mutex *m);
void kite_os_mutex_destroy(struct kite_os_mutex *m);

/* ---- Counting semaphores ------------------------------------------------------- */
enum kite_err kite_os_sem_init(struct kite_os_sem *s, unsigned count);
void kite_os_sem_post(struct kite_os_sem *s);
/** Wait up to ms milliseconds (KITE_OS_FOREVER: no limit); false on timeout. */
bool kite_os_sem_wait(struct kite_os_sem *s, uint32_t ms);
void kite_os_sem_destroy(struct kite_os_sem *s);

/* ---- Mailboxes: bounded FIFO queues of pointers --------------------------------- */
/** slots (size entries) is the caller's storage for the queued pointers. */
enum kite_err kite_os_mbox_init(struct kite_os_mbox *mb, void **slots, unsigned size);
/** Queue msg, waiting while the mailbox is full. */
void kite_os_mbox_post(struct kite_os_mbox *mb, void *msg);
/** Queue msg if there is room; false when full. */
bool kite_os_mbox_trypost(struct kite_os_mbox *mb, void *msg);
/** Take the oldest message, waiting up to ms; false on timeout. */
bool kite_os_mbox_fetch(struct kite_os_mbox *mb, void **msg, uint32_t ms);
void kite_os_mbox_destroy(struct kite_os_mbox *mb);

/* ---- Threads ---------------------------------------------------------------------- */
struct kite_os_thread_attr {
    size_t stack_size; /* bytes, 0: the OS default */
    int priority;      /* the port's meaning; 0: the OS default */
    /** Called first in the new thread: pin it to a core, rename it... (may be NULL). */
    void (*on_start)(void *ctx);
    void *ctx;
};

enum kite_err kite_os_thread_start(struct kite_os_thread *t, void (*fn)(void *arg), void *arg,
                                   const struct kite_os_thread_attr *attr);
void kite_os_thread_join(struct kite_os_thread *t);

/* ---- Time --------------------------------------------------------------------------- */
/** The port's monotonic clock in ms (the default clock of a stack thread). */
kite_time_ms kite_os_now_ms(void);

#endif
