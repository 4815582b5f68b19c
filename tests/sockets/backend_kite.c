/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The suite over kite: per case a fresh stack with the loopback netif
 * (127.0.0.1/8), its stack thread and a socket table. Teardown closes what is
 * left, stops the thread, lets TIME_WAIT and every other timer run out on a
 * later clock, and checks every pool is back to zero before deinit.
 */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "kite/port/loopif.h"
#include "kite/tcpip.h"
#include "suite.h"
#include "testutil.h"

bool S_is_kite = true;
bool S_kite_run = false;
const char S_backend_name[] = "kite";

struct kite_fx {
    struct kite_stack stack;
    struct kite_loopif lo;
    struct kite_tcpip tcpip;
    struct kite_sockets socks;
};

static struct kite_fx *g;

int S_setup(void **state)
{
    struct kite_fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(kite_stack_init(&f->stack, NULL), KITE_ERR_OK);
    assert_int_equal(kite_loopif_add(&f->stack, &f->lo), KITE_ERR_OK);
    assert_int_equal(kite_tcpip_start(&f->tcpip, &f->stack, NULL), KITE_ERR_OK);
    assert_int_equal(kite_sockets_init(&f->socks, &f->tcpip), 0);
    g = f;
    *state = f;
    alarm(60); /* a hung case kills the run instead of hanging it */
    return 0;
}

int S_teardown(void **state)
{
    struct kite_fx *f = *state;
    kite_sockets_deinit(&f->socks);
    kite_tcpip_stop(&f->tcpip);
    /* TIME_WAIT and the other timers run out on a later clock */
    kite_stack_poll(&f->stack, kite_stack_now(&f->stack) + 4u * KITE_TCP_MSL_MS);
    kite_loopif_remove(&f->lo);
    kt_assert_pools_empty(&f->stack);
    kite_stack_deinit(&f->stack);
    g = NULL;
    free(f);
    alarm(0);
    return 0;
}

#define T (&g->socks)

int S_socket(int d, int t, int p)
{
    return kite_socket(T, d, t, p);
}

int S_bind(int fd, const void *addr, kite_socklen_t len)
{
    return kite_bind(T, fd, addr, len);
}

int S_listen(int fd, int backlog)
{
    return kite_listen(T, fd, backlog);
}

int S_accept(int fd, void *addr, kite_socklen_t *len)
{
    return kite_accept(T, fd, addr, len);
}

int S_accept4(int fd, void *addr, kite_socklen_t *len, int flags)
{
    return kite_accept4(T, fd, addr, len, flags);
}

int S_connect(int fd, const void *addr, kite_socklen_t len)
{
    return kite_connect(T, fd, addr, len);
}

int S_shutdown(int fd, int how)
{
    return kite_shutdown(T, fd, how);
}

int S_close(int fd)
{
    return kite_close(T, fd);
}

int S_getsockname(int fd, void *addr, kite_socklen_t *len)
{
    return kite_getsockname(T, fd, addr, len);
}

int S_getpeername(int fd, void *addr, kite_socklen_t *len)
{
    return kite_getpeername(T, fd, addr, len);
}

int S_getsockopt(int fd, int level, int name, void *val, kite_socklen_t *len)
{
    return kite_getsockopt(T, fd, level, name, val, len);
}

int S_setsockopt(int fd, int level, int name, const void *val, kite_socklen_t len)
{
    return kite_setsockopt(T, fd, level, name, val, len);
}

ssize_t S_recv(int fd, void *buf, size_t len, int flags)
{
    return kite_recv(T, fd, buf, len, flags);
}

ssize_t S_recvfrom(int fd, void *buf, size_t len, int flags, void *from, kite_socklen_t *fromlen)
{
    return kite_recvfrom(T, fd, buf, len, flags, from, fromlen);
}

ssize_t S_recvmsg(int fd, struct kite_msghdr *msg, int flags)
{
    return kite_recvmsg(T, fd, msg, flags);
}

ssize_t S_read(int fd, void *buf, size_t len)
{
    return kite_read(T, fd, buf, len);
}

ssize_t S_readv(int fd, const struct kite_iovec *iov, int iovcnt)
{
    return kite_readv(T, fd, iov, iovcnt);
}

ssize_t S_send(int fd, const void *buf, size_t len, int flags)
{
    return kite_send(T, fd, buf, len, flags);
}

ssize_t S_sendto(int fd, const void *buf, size_t len, int flags, const void *to,
                 kite_socklen_t tolen)
{
    return kite_sendto(T, fd, buf, len, flags, to, tolen);
}

ssize_t S_sendmsg(int fd, const struct kite_msghdr *msg, int flags)
{
    return kite_sendmsg(T, fd, msg, flags);
}

ssize_t S_write(int fd, const void *buf, size_t len)
{
    return kite_write(T, fd, buf, len);
}

ssize_t S_writev(int fd, const struct kite_iovec *iov, int iovcnt)
{
    return kite_writev(T, fd, iov, iovcnt);
}

/* The suite's 1024-bit sets to kite_fd_set (KITE_FD_SETSIZE bits) and back. */
static kite_fd_set *to_kite(const S_fdset *in, kite_fd_set *out)
{
    if (in == NULL)
        return NULL;
    KITE_FD_ZERO(out);
    for (int fd = 0; fd < KITE_FD_SETSIZE; fd++)
        if (S_FD_ISSET(fd, in))
            KITE_FD_SET(fd, out);
    return out;
}

static void from_kite(const kite_fd_set *in, S_fdset *out)
{
    if (out == NULL)
        return;
    S_FD_ZERO(out);
    for (int fd = 0; fd < KITE_FD_SETSIZE; fd++)
        if (KITE_FD_ISSET(fd, in))
            S_FD_SET(fd, out);
}

int S_select(int nfds, S_fdset *rd, S_fdset *wr, S_fdset *ex, struct kite_timeval *timeout)
{
    kite_fd_set r, w, e;
    int n = nfds > KITE_FD_SETSIZE ? KITE_FD_SETSIZE : nfds;
    int ret = kite_select(T, n, to_kite(rd, &r), to_kite(wr, &w), to_kite(ex, &e), timeout);
    int err = errno;
    from_kite(&r, rd);
    from_kite(&w, wr);
    from_kite(&e, ex);
    errno = err;
    return ret;
}

int S_poll(struct kite_pollfd *fds, unsigned nfds, int timeout_ms)
{
    return kite_poll(T, fds, nfds, timeout_ms);
}

int S_fcntl(int fd, int cmd, int val)
{
    return kite_fcntl(T, fd, cmd, val);
}

int S_ioctl(int fd, unsigned long req, void *argp)
{
    return kite_ioctl(T, fd, req, argp);
}
