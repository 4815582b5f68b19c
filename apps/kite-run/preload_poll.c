/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * poll, ppoll, select and pselect over any mix of kite sockets and kernel
 * descriptors. The kernel waits on everything (a kite socket's descriptor
 * is ready when the socket is: preload.h); kite sockets' results are then
 * taken from kite's own report, which also gives what A cannot show
 * (POLLERR, POLLHUP of a socket never connected). A kite socket ready in a
 * way only the report shows makes the kernel call not wait. select runs on
 * ppoll, with Linux's mapping of poll bits to the three sets. epoll needs
 * nothing here: the kernel watches A itself (docs/kite-run.md, what differs).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "preload.h"

/* poll bits a kite socket shows now, for what it asks (POLLERR and POLLHUP
 * always, as Linux). */
static short kite_revents(const struct kr_sock *s, short events)
{
    uint8_t ev = atomic_load(&((struct kr_sock *)s)->events);
    short r = 0;
    if ((events & (POLLIN | POLLRDNORM)) && (ev & KITE_NC_READABLE))
        r |= events & (POLLIN | POLLRDNORM);
    if ((events & (POLLOUT | POLLWRNORM)) && (ev & KITE_NC_WRITABLE))
        r |= events & (POLLOUT | POLLWRNORM);
    if ((events & POLLRDHUP) && (ev & KITE_NC_RDHUP))
        r |= POLLRDHUP;
    if (ev & KITE_NC_ERROR)
        r |= POLLERR;
    if (ev & KITE_NC_HUP)
        r |= POLLHUP;
    return r;
}

static bool any_kite(const struct pollfd *fds, nfds_t n)
{
    for (nfds_t i = 0; i < n; i++)
        if (kr_lookup(fds[i].fd) != NULL)
            return true;
    return false;
}

/* Put kite's answer in place of the kernel's for kite sockets; the count. */
static int merge(struct pollfd *fds, nfds_t n)
{
    int count = 0;
    for (nfds_t i = 0; i < n; i++) {
        struct kr_sock *s = kr_lookup(fds[i].fd);
        if (s != NULL && !(fds[i].revents & POLLNVAL))
            fds[i].revents = kite_revents(s, fds[i].events);
        count += fds[i].revents != 0;
    }
    return count;
}

static bool kite_ready(const struct pollfd *fds, nfds_t n)
{
    for (nfds_t i = 0; i < n; i++) {
        struct kr_sock *s = kr_lookup(fds[i].fd);
        if (s != NULL && kite_revents(s, fds[i].events) != 0)
            return true;
    }
    return false;
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* A forked child has no stack (docs/kite-run.md): its kite sockets are bad
 * descriptors, POLLNVAL at once (select's EBADF), as every other call on
 * them fails with EBADF. Without this the child would spin: A still shows
 * the parent's readiness while the copied report never changes. */
static int poll_forked(struct pollfd *fds, nfds_t n, const sigset_t *mask)
{
    static const struct timespec now = {0, 0};
    int rc = kr_real.ppoll(fds, n, &now, mask);
    if (rc < 0)
        return rc;
    int count = 0;
    for (nfds_t i = 0; i < n; i++) {
        if (kr_lookup(fds[i].fd) != NULL)
            fds[i].revents = POLLNVAL;
        count += fds[i].revents != 0;
    }
    return count;
}

/* ppoll with kite sockets among fds. A kernel answer that kite's report
 * undoes (another thread took the data) waits again for what is left of
 * the timeout. */
static int poll_mixed(struct pollfd *fds, nfds_t n, const struct timespec *timeout,
                      const sigset_t *mask)
{
    if (kr_forked())
        return poll_forked(fds, n, mask);
    int64_t end = timeout ? now_ns() + timeout->tv_sec * 1000000000 + timeout->tv_nsec : 0;
    for (;;) {
        struct timespec left = {0, 0}, *wait = NULL;
        if (timeout != NULL) {
            int64_t ns = end - now_ns();
            if (ns > 0)
                left = (struct timespec){ns / 1000000000, ns % 1000000000};
            wait = &left;
        }
        if (kite_ready(fds, n)) {
            left = (struct timespec){0, 0};
            wait = &left;
        }
        if (wait == NULL || wait->tv_sec > 0 || wait->tv_nsec > 0)
            kr_sleeping();
        int rc = kr_real.ppoll(fds, n, wait, mask);
        if (rc < 0)
            return rc;
        int count = merge(fds, n);
        if (count > 0 || rc == 0 || (wait != NULL && left.tv_sec == 0 && left.tv_nsec == 0))
            return count;
    }
}

KR_API int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *mask)
{
    if (!any_kite(fds, n))
        return kr_real.ppoll(fds, n, timeout, mask);
    return poll_mixed(fds, n, timeout, mask);
}

KR_API int poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
    if (!any_kite(fds, n))
        return kr_real.poll(fds, n, timeout_ms);
    struct timespec t = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000};
    return poll_mixed(fds, n, timeout_ms < 0 ? NULL : &t, NULL);
}

extern void __chk_fail(void) __attribute__((noreturn));

KR_API int __poll_chk(struct pollfd *fds, nfds_t n, int timeout_ms, size_t fdslen)
{
    if (fdslen / sizeof *fds < n)
        __chk_fail();
    return poll(fds, n, timeout_ms);
}

KR_API int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *timeout,
                       const sigset_t *mask, size_t fdslen)
{
    if (fdslen / sizeof *fds < n)
        __chk_fail();
    return ppoll(fds, n, timeout, mask);
}

/* epoll watches A itself; a kite socket added edge-triggered is marked, so
 * the mirror gives it an edge per arrival (preload_fd.c). */
KR_API int epoll_ctl(int ep, int op, int fd, struct epoll_event *ev)
{
    struct kr_sock *s = kr_lookup(fd);
    int rc = kr_real.epoll_ctl(ep, op, fd, ev);
    if (rc == 0 && s != NULL && ev != NULL && (op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) &&
        (ev->events & EPOLLET))
        atomic_store(&s->edge, true);
    return rc;
}

/* epoll_wait itself is the kernel's; a wait that may sleep first makes sure
 * the TAP thread watches the device (kr_sleeping). */
KR_API int epoll_wait(int ep, struct epoll_event *events, int max, int timeout_ms)
{
    if (timeout_ms != 0)
        kr_sleeping();
    return kr_real.epoll_wait(ep, events, max, timeout_ms);
}

KR_API int epoll_pwait(int ep, struct epoll_event *events, int max, int timeout_ms,
                       const sigset_t *mask)
{
    if (timeout_ms != 0)
        kr_sleeping();
    return kr_real.epoll_pwait(ep, events, max, timeout_ms, mask);
}

KR_API int epoll_pwait2(int ep, struct epoll_event *events, int max, const struct timespec *timeout,
                        const sigset_t *mask)
{
    if (kr_real.epoll_pwait2 == NULL) {
        errno = ENOSYS; /* a C library without it */
        return -1;
    }
    if (timeout == NULL || timeout->tv_sec != 0 || timeout->tv_nsec != 0)
        kr_sleeping();
    return kr_real.epoll_pwait2(ep, events, max, timeout, mask);
}

/* ---- select on ppoll --------------------------------------------------------------------- */

/* Linux's select: readable is POLLIN, POLLHUP or POLLERR; writable POLLOUT
 * or POLLERR; exceptional POLLPRI. */
#define SELECT_IN (POLLIN | POLLRDNORM | POLLHUP | POLLERR)
#define SELECT_OUT (POLLOUT | POLLWRNORM | POLLERR)

static bool sets_have_kite(int nfds, fd_set *rd, fd_set *wr, fd_set *ex)
{
    for (int fd = 0; fd < nfds; fd++)
        if (((rd && FD_ISSET(fd, rd)) || (wr && FD_ISSET(fd, wr)) || (ex && FD_ISSET(fd, ex))) &&
            kr_lookup(fd) != NULL)
            return true;
    return false;
}

static nfds_t sets_to_poll(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct pollfd *p)
{
    nfds_t n = 0;
    for (int fd = 0; fd < nfds; fd++) {
        short ev =
            (short)((rd && FD_ISSET(fd, rd) ? POLLIN : 0) | (wr && FD_ISSET(fd, wr) ? POLLOUT : 0) |
                    (ex && FD_ISSET(fd, ex) ? POLLPRI : 0));
        if (ev != 0)
            p[n++] = (struct pollfd){.fd = fd, .events = ev};
    }
    return n;
}

static int poll_to_sets(const struct pollfd *p, nfds_t n, fd_set *rd, fd_set *wr, fd_set *ex)
{
    int count = 0;
    for (nfds_t i = 0; i < n; i++)
        if (p[i].revents & POLLNVAL) {
            errno = EBADF;
            return -1;
        }
    if (rd)
        FD_ZERO(rd);
    if (wr)
        FD_ZERO(wr);
    if (ex)
        FD_ZERO(ex);
    for (nfds_t i = 0; i < n; i++) {
        short r = p[i].revents;
        if ((p[i].events & POLLIN) && (r & SELECT_IN) && ++count)
            FD_SET(p[i].fd, rd);
        if ((p[i].events & POLLOUT) && (r & SELECT_OUT) && ++count)
            FD_SET(p[i].fd, wr);
        if ((p[i].events & POLLPRI) && (r & POLLPRI) && ++count)
            FD_SET(p[i].fd, ex);
    }
    return count;
}

static int select_mixed(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
                        const struct timespec *timeout, const sigset_t *mask)
{
    struct pollfd p[FD_SETSIZE];
    if (nfds < 0 || nfds > FD_SETSIZE) {
        errno = EINVAL;
        return -1;
    }
    nfds_t n = sets_to_poll(nfds, rd, wr, ex, p);
    int rc = poll_mixed(p, n, timeout, mask);
    return rc < 0 ? rc : poll_to_sets(p, n, rd, wr, ex);
}

KR_API int pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *timeout,
                   const sigset_t *mask)
{
    if (!sets_have_kite(nfds, rd, wr, ex))
        return kr_real.pselect(nfds, rd, wr, ex, timeout, mask);
    if (timeout != NULL &&
        (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000)) {
        errno = EINVAL;
        return -1;
    }
    return select_mixed(nfds, rd, wr, ex, timeout, mask);
}

KR_API int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
    if (!sets_have_kite(nfds, rd, wr, ex))
        return kr_real.select(nfds, rd, wr, ex, tv);
    if (tv == NULL)
        return select_mixed(nfds, rd, wr, ex, NULL, NULL);
    if (tv->tv_sec < 0 || tv->tv_usec < 0) {
        errno = EINVAL; /* as Linux's poll_select_set_timeout */
        return -1;
    }
    int64_t start = now_ns();
    struct timespec t = {tv->tv_sec, tv->tv_usec * 1000};
    int rc = select_mixed(nfds, rd, wr, ex, &t, NULL);
    /* Linux's select leaves the time not slept in *tv. */
    int64_t left = (int64_t)tv->tv_sec * 1000000 + tv->tv_usec - (now_ns() - start) / 1000;
    if (left < 0)
        left = 0;
    tv->tv_sec = left / 1000000;
    tv->tv_usec = left % 1000000;
    return rc;
}
