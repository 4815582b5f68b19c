/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The socket-behaviour suite, written once and run twice (issue 7): every
 * case calls the S_* backend interface below, with kite_ types and KITE_
 * constants (Linux's values and layouts). backend_kite.c runs them over a
 * kite stack (loopback netif, stack thread, socket table); backend_linux.c
 * over the Linux kernel's own sockets, inside a network namespace
 * (run_linux.sh), so Linux is the oracle. Cases assert return values and
 * errno exactly as Linux produces them; where kite differs on purpose the
 * case says so with `if (S_is_kite)` and a comment, and DIFFERENCES.md
 * lists it.
 */
#ifndef KITE_SOCK_SUITE_H
#define KITE_SOCK_SUITE_H

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include <cmocka.h>

#include "kite/sockets.h"

/* ---- The backend ------------------------------------------------------------------- */

/* S_is_kite: kite serves the sockets, natively or through kite-run (the
 * Linux build of the suite run under kite-run). S_kite_run: through
 * kite-run, which keeps Linux's semantics for what it decides itself
 * (fcntl's access mode, select's sets, close of a descriptor another thread
 * waits on), so cases of kite's own socket API differ there too
 * (S_kite_api). */
extern bool S_is_kite;
extern bool S_kite_run;
#define S_kite_api (S_is_kite && !S_kite_run)
extern const char S_backend_name[];

/** Per case: a fresh stack (kite) or nothing to do (Linux); a watchdog alarm. */
int S_setup(void **state);
/** Per case: close what the case left open; kite: stop, check every pool empty. */
int S_teardown(void **state);

int S_socket(int domain, int type, int protocol);
int S_bind(int fd, const void *addr, kite_socklen_t len);
int S_listen(int fd, int backlog);
int S_accept(int fd, void *addr, kite_socklen_t *len);
int S_accept4(int fd, void *addr, kite_socklen_t *len, int flags);
int S_connect(int fd, const void *addr, kite_socklen_t len);
int S_shutdown(int fd, int how);
int S_close(int fd);
int S_getsockname(int fd, void *addr, kite_socklen_t *len);
int S_getpeername(int fd, void *addr, kite_socklen_t *len);
int S_getsockopt(int fd, int level, int name, void *val, kite_socklen_t *len);
int S_setsockopt(int fd, int level, int name, const void *val, kite_socklen_t len);

ssize_t S_recv(int fd, void *buf, size_t len, int flags);
ssize_t S_recvfrom(int fd, void *buf, size_t len, int flags, void *from, kite_socklen_t *fromlen);
ssize_t S_recvmsg(int fd, struct kite_msghdr *msg, int flags);
ssize_t S_read(int fd, void *buf, size_t len);
ssize_t S_readv(int fd, const struct kite_iovec *iov, int iovcnt);
ssize_t S_send(int fd, const void *buf, size_t len, int flags);
ssize_t S_sendto(int fd, const void *buf, size_t len, int flags, const void *to,
                 kite_socklen_t tolen);
ssize_t S_sendmsg(int fd, const struct kite_msghdr *msg, int flags);
ssize_t S_write(int fd, const void *buf, size_t len);
ssize_t S_writev(int fd, const struct kite_iovec *iov, int iovcnt);

/* select: the suite's own descriptor set (1024 bits, Linux's FD_SETSIZE);
 * the kite backend converts it to a kite_fd_set and back. */
#define S_FD_SETSIZE 1024
typedef struct {
    uint64_t w[S_FD_SETSIZE / 64];
} S_fdset;
#define S_FD_ZERO(set) memset((set), 0, sizeof *(set))
#define S_FD_SET(fd, set) ((set)->w[(fd) / 64] |= (uint64_t)1 << ((fd) % 64))
#define S_FD_ISSET(fd, set) (((set)->w[(fd) / 64] >> ((fd) % 64)) & 1u)
int S_select(int nfds, S_fdset *rd, S_fdset *wr, S_fdset *ex, struct kite_timeval *timeout);
int S_poll(struct kite_pollfd *fds, unsigned nfds, int timeout_ms);
int S_fcntl(int fd, int cmd, int val);
int S_ioctl(int fd, unsigned long req, void *argp);

/* ---- Helpers (helpers.c) ------------------------------------------------------------- */

#define SIN_LEN ((kite_socklen_t)sizeof(struct kite_sockaddr_in))
#define S_LOOPBACK 0x7f000001u

/* Control messages with Linux's layout (the header padded to size_t). */
#define S_CMSG_ALIGN(n) (((n) + sizeof(size_t) - 1) & ~(sizeof(size_t) - 1))
#define S_CMSG_SPACE(n) (S_CMSG_ALIGN(sizeof(struct kite_cmsghdr)) + S_CMSG_ALIGN(n))
#define S_CMSG_LEN(n) (S_CMSG_ALIGN(sizeof(struct kite_cmsghdr)) + (n))
#define S_CMSG_DATA(c) ((unsigned char *)(c) + S_CMSG_ALIGN(sizeof(struct kite_cmsghdr)))

/** 127.0.0.1:port (host order in, network order in the address). */
struct kite_sockaddr_in S_addr(uint16_t port);
struct kite_sockaddr_in S_addr_ip(uint32_t ip, uint16_t port);
/** A port no other case of this run used (listeners, closed ports). */
uint16_t S_newport(void);
/** The port / address (host order) of a sockaddr_in. */
uint16_t S_port(const struct kite_sockaddr_in *a);
uint32_t S_ip(const struct kite_sockaddr_in *a);
/** getsockname's port (asserts success). */
uint16_t S_local_port(int fd);

/** A TCP socket listening on 127.0.0.1:*port (a new port), SO_RCVTIMEO 2 s. */
int S_listener(uint16_t *port, int backlog);
/** A connected TCP pair over 127.0.0.1 (listener closed), timeouts 2 s both ways. */
void S_tcp_pair(int *client, int *server);
/** Two UDP sockets bound to 127.0.0.1 on new ports, SO_RCVTIMEO 2 s. */
void S_udp_pair(int *a, uint16_t *aport, int *b, uint16_t *bport);
/** A UDP pair with *a connected to *b. */
void S_udp_connected(int *a, int *b);
/** SO_RCVTIMEO and SO_SNDTIMEO (asserts success). */
void S_set_timeouts(int fd, int ms);
void S_set_int(int fd, int level, int name, int v);
int S_get_int(int fd, int level, int name);
void S_nonblock(int fd, bool on);

/** poll one fd for up to ms; returns revents (0 on timeout). */
short S_wait(int fd, short events, int ms);
/** poll until (revents & want) or ms passed; returns the last revents. */
short S_wait_for(int fd, short want, int ms);

int64_t S_now_ms(void);
void S_sleep_ms(int ms);

/** Send and receive exactly n bytes (asserts). */
void S_send_all(int fd, const void *buf, size_t n);
void S_recv_all(int fd, void *buf, size_t n);

/** A socket that was open and is closed now (its number is free). */
int S_closed_fd(void);

/** Run fn(arg) on a new thread / join it. */
typedef pthread_t S_thread;
void S_thread_start(S_thread *t, void *(*fn)(void *), void *arg);
void S_thread_join(S_thread *t);

/* ---- Assertions ---------------------------------------------------------------------- */

/** expr must fail with -1 and errno e (names printed on failure). */
#define S_FAILS(expr, e)                                                                           \
    do {                                                                                           \
        errno = 0;                                                                                 \
        long r_ = (long)(expr);                                                                    \
        int e_ = errno;                                                                            \
        if (r_ != -1 || e_ != (e))                                                                 \
            fail_msg("%s: got %ld errno %d (%s), want -1 errno %d (%s)", #expr, r_, e_,            \
                     strerror(e_), (int)(e), strerror(e));                                         \
    } while (0)

/** expr must return v (a failing call prints its errno). */
#define S_RETURNS(expr, v)                                                                         \
    do {                                                                                           \
        errno = 0;                                                                                 \
        long r_ = (long)(expr);                                                                    \
        int e_ = errno;                                                                            \
        if (r_ != (long)(v))                                                                       \
            fail_msg("%s: got %ld errno %d (%s), want %ld", #expr, r_, e_, strerror(e_),           \
                     (long)(v));                                                                   \
    } while (0)

#define S_OK(expr) S_RETURNS(expr, 0)

/** A case: fresh backend around it. */
#define S_CASE(fn) cmocka_unit_test_setup_teardown(fn, S_setup, S_teardown)

/* Every case file exports its table. */
#define S_CASES(name)                                                                              \
    extern const struct CMUnitTest name[];                                                         \
    extern const size_t name##_n;
S_CASES(cases_basic)
S_CASES(cases_connect)
S_CASES(cases_opts)
S_CASES(cases_io)
S_CASES(cases_ready)
S_CASES(cases_threads)

#endif
