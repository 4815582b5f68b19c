/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libkite-preload.so: kite serving a Linux program's AF_INET sockets from
 * inside its own process (docs/kite-run.md). What its files share.
 *
 * A kite socket is also a real descriptor: one end ("A") of a Unix socket
 * pair whose readiness the stack thread keeps equal to the kite socket's
 * (kite_netconn_watch): A is readable while the kite socket is, writable
 * while it is. So the kernel's select, poll and epoll see kite sockets as
 * they see any other descriptor, and a blocking call waits in the kernel on
 * A, where signals interrupt it (EINTR, SA_RESTART) exactly as Linux's own
 * socket calls. The kite sockets themselves never block.
 */
#ifndef KITE_PRELOAD_H
#define KITE_PRELOAD_H

#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "kite/netconn.h"
#include "kite/sockets.h"

#define KR_API __attribute__((visibility("default")))

/* With _GNU_SOURCE the C library declares address arguments as transparent
 * unions (__SOCKADDR_ARG); our replacements take them so and unwrap them. */
#if defined(__USE_GNU) && !defined(__cplusplus)
#define SOCKADDR_PTR(arg) ((arg).__sockaddr__)
#else
#define SOCKADDR_PTR(arg) (arg)
#endif

/* The C library's own functions, for everything that is not a kite socket. */
struct kr_libc {
    int (*socket)(int, int, int);
    int (*close)(int);
    int (*dup)(int);
    int (*dup2)(int, int);
    int (*dup3)(int, int, int);
    int (*fcntl)(int, int, ...);
    int (*ioctl)(int, unsigned long, ...);
    int (*bind)(int, const struct sockaddr *, socklen_t);
    int (*listen)(int, int);
    int (*accept)(int, struct sockaddr *, socklen_t *);
    int (*accept4)(int, struct sockaddr *, socklen_t *, int);
    int (*connect)(int, const struct sockaddr *, socklen_t);
    int (*shutdown)(int, int);
    int (*getsockname)(int, struct sockaddr *, socklen_t *);
    int (*getpeername)(int, struct sockaddr *, socklen_t *);
    int (*getsockopt)(int, int, int, void *, socklen_t *);
    int (*setsockopt)(int, int, int, const void *, socklen_t);
    ssize_t (*read)(int, void *, size_t);
    ssize_t (*readv)(int, const struct iovec *, int);
    ssize_t (*write)(int, const void *, size_t);
    ssize_t (*writev)(int, const struct iovec *, int);
    ssize_t (*recv)(int, void *, size_t, int);
    ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
    ssize_t (*recvmsg)(int, struct msghdr *, int);
    int (*recvmmsg)(int, struct mmsghdr *, unsigned, int, struct timespec *);
    ssize_t (*send)(int, const void *, size_t, int);
    ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
    ssize_t (*sendmsg)(int, const struct msghdr *, int);
    int (*sendmmsg)(int, struct mmsghdr *, unsigned, int);
    ssize_t (*sendfile)(int, int, off_t *, size_t);
    int (*poll)(struct pollfd *, nfds_t, int);
    int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
    int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
    int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *);
    int (*getaddrinfo)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
    int (*epoll_ctl)(int, int, int, struct epoll_event *);
    int (*epoll_wait)(int, struct epoll_event *, int, int);
    int (*epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
    int (*epoll_pwait2)(int, struct epoll_event *, int, const struct timespec *, const sigset_t *);
};
extern struct kr_libc kr_real;

/* One kite socket, shared by every descriptor dup'ed from it. */
struct kr_sock {
    int ks;               /* its number in the kite socket table */
    int a;                /* our own descriptor of A (the program may close its copies) */
    int b;                /* the other end of the pair, ours only */
    int type;             /* SOCK_STREAM, SOCK_DGRAM */
    int protocol;         /* IPPROTO_TCP, IPPROTO_UDP */
    atomic_uint refs;     /* the program's descriptors that are it */
    atomic_bool nonblock; /* O_NONBLOCK, as the program set it (the file's, so shared) */
    atomic_bool rx_shut;  /* shutdown(SHUT_RD) done */
    atomic_bool edge;     /* in an epoll set edge-triggered: a new edge per arrival */
    atomic_uchar events;  /* KITE_NC_* last reported */
    struct kite_netconn *conn;
    /* The mirror: changed by the stack's reports, under lock (a waiting
     * thread also takes it to clear what its wait left in b). */
    pthread_mutex_t lock;
    bool in, out, rd_shut, hung_up;
};

/* The process-wide state: a program has one network, so the library keeps it
 * in one object (the library's core, src/, still has no globals). */
struct kr_state;
extern struct kr_state *kr;

/** Start kite on first use (from the KITE_* environment); false: errno set. */
bool kr_start(void);
/** The kite socket table (kr_start succeeded). */
struct kite_sockets *kr_sockets(void);
/** After fork, in the child: its kite sockets cannot work (docs/kite-run.md). */
bool kr_forked(void);
/** In a forked child: true with errno KR_FORKED_ERRNO (the call on a kite
 *  socket fails); else false. */
bool kr_forked_fail(void);

/* Descriptors (preload_fd.c). */
/** The kite socket behind descriptor fd, or NULL (a kernel descriptor). */
struct kr_sock *kr_lookup(int fd);
/** Make a kite socket (number ks, already non-blocking in kite) into a
 *  descriptor; flags: SOCK_NONBLOCK, SOCK_CLOEXEC. -1 with errno on failure
 *  (the kite socket is closed then). */
int kr_adopt(int ks, int type, int protocol, int flags);
/** fd was a kite socket's descriptor: forget it, close it, and the kite
 *  socket with the last one. */
int kr_close(int fd);
/** Descriptor newfd (just made by the kernel as a copy of one of s's) is s
 *  too: newfd, or -1 (EMFILE, the copy closed) past the table's end. */
int kr_dup_to(struct kr_sock *s, int newfd);
/** The kernel replaced descriptor fd (dup2 onto it): if it was a kite
 *  socket's, forget it (the socket closes with its last descriptor). */
void kr_replaced(int fd);
/** A writer's wait left a byte in b: take it out (while A is to be writable). */
void kr_after_write_wait(struct kr_sock *s);
/** The stack's readiness report (kite_tcpip_set_event_fn). */
void kr_on_events(void *ctx, struct kite_netconn *c, uint8_t events);
/** Close every kite socket still open (at exit). */
void kr_close_all(void);
/** Descriptors the table can hold. */
int kr_fd_limit(void);

/* Waiting in the kernel on A (preload_io.c): 0 when it may be ready now,
 * -1 with errno EINTR (a signal) or EAGAIN (SO_RCVTIMEO/SO_SNDTIMEO). */
int kr_wait_readable(struct kr_sock *s, int fd);
int kr_wait_writable(struct kr_sock *s, int fd);
/** Whether a call with these MSG_* flags may block on s. */
bool kr_blocking(struct kr_sock *s, int flags);

/* A waiting thread reads the TAP device itself (kite/port/tap_feed.h,
 * "Drivers"; preload_stack.c). */
void kr_drive_begin(void);
/** One burst of frames read and run on this thread (0: none, or another
 *  thread is reading). */
unsigned kr_drive(void);
/** got: the wait ended with what it awaited. */
void kr_drive_end(bool got);
/** This thread now sleeps in the kernel, maybe until kite makes a
 *  descriptor ready: the TAP thread must watch the device. */
void kr_sleeping(void);

/* Frames written once the stack's lock is let go (preload_txq.c). */
struct kite_tap;
/** Put the queue in front of tap's output. */
void kr_txq_attach(struct kite_tap *tap);
/** From now on this thread's frames wait in its queue... */
void kr_txq_begin(void);
/** ...until this writes them (errno kept). */
void kr_txq_flush(void);
/** Queued frames the TAP device refused. */
unsigned kr_txq_write_errors(void);

/** errno for an operation on a kite socket in a forked child. */
#define KR_FORKED_ERRNO EBADF

#endif
