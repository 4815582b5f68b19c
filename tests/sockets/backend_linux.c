/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The oracle: the suite over the Linux kernel's own sockets. kite's types
 * and constants have Linux's values and layouts (checked below), so calls
 * pass through with casts. Run inside a network namespace (run_linux.sh).
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "suite.h"

bool S_is_kite = false;
bool S_kite_run = false;

/* Run under kite-run (docs/kite-run.md): kite serves these calls. */
__attribute__((constructor)) static void detect_kite_run(void)
{
    const char *preload = getenv("LD_PRELOAD");
    S_kite_run = getenv("KITE_TAP") != NULL && preload != NULL &&
                 strstr(preload, "libkite-preload.so") != NULL;
    S_is_kite = S_kite_run;
}
const char S_backend_name[] = "linux";

/* The layouts and values the suite relies on. */
_Static_assert(sizeof(struct kite_sockaddr_in) == sizeof(struct sockaddr_in), "sockaddr_in");
_Static_assert(offsetof(struct kite_sockaddr_in, sin_port) ==
                   offsetof(struct sockaddr_in, sin_port),
               "sin_port");
_Static_assert(offsetof(struct kite_sockaddr_in, sin_addr) ==
                   offsetof(struct sockaddr_in, sin_addr),
               "sin_addr");
_Static_assert(sizeof(struct kite_msghdr) == sizeof(struct msghdr), "msghdr");
_Static_assert(offsetof(struct kite_msghdr, msg_control) == offsetof(struct msghdr, msg_control),
               "msg_control");
_Static_assert(offsetof(struct kite_msghdr, msg_flags) == offsetof(struct msghdr, msg_flags),
               "msg_flags");
_Static_assert(sizeof(struct kite_cmsghdr) == sizeof(struct cmsghdr), "cmsghdr");
_Static_assert(sizeof(struct kite_iovec) == sizeof(struct iovec), "iovec");
_Static_assert(sizeof(struct kite_timeval) == sizeof(struct timeval), "timeval");
_Static_assert(sizeof(struct kite_linger) == sizeof(struct linger), "linger");
_Static_assert(sizeof(struct kite_pollfd) == sizeof(struct pollfd), "pollfd");
_Static_assert(sizeof(struct kite_in_pktinfo) == sizeof(struct in_pktinfo), "in_pktinfo");
_Static_assert(S_FD_SETSIZE == FD_SETSIZE && sizeof(S_fdset) == sizeof(fd_set), "fd_set");
_Static_assert(KITE_SOCK_NONBLOCK == SOCK_NONBLOCK && KITE_O_NONBLOCK == O_NONBLOCK, "nonblock");
_Static_assert(KITE_SO_RCVTIMEO == SO_RCVTIMEO && KITE_SO_SNDTIMEO == SO_SNDTIMEO, "timeo");
_Static_assert(KITE_SO_ACCEPTCONN == SO_ACCEPTCONN && KITE_SO_LINGER == SO_LINGER, "so");
_Static_assert(KITE_IP_PKTINFO == IP_PKTINFO && KITE_TCP_KEEPCNT == TCP_KEEPCNT, "ip/tcp");
_Static_assert(KITE_MSG_MORE == MSG_MORE && KITE_MSG_TRUNC == MSG_TRUNC &&
                   KITE_MSG_WAITALL == MSG_WAITALL && KITE_MSG_NOSIGNAL == MSG_NOSIGNAL,
               "msg");
_Static_assert(KITE_FIONREAD == FIONREAD && KITE_FIONBIO == FIONBIO, "ioctl");
_Static_assert(KITE_POLLNVAL == POLLNVAL && KITE_POLLHUP == POLLHUP, "poll");

/* Sockets a case left open are closed in teardown. */
static uint64_t open_fds[S_FD_SETSIZE / 64];

static int track(int fd)
{
    if (fd >= 0 && fd < S_FD_SETSIZE)
        open_fds[fd / 64] |= (uint64_t)1 << (fd % 64);
    return fd;
}

int S_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN); /* kite has no signals: EPIPE is all either sees */
    alarm(60);                /* a hung case kills the run instead of hanging it */
    return 0;
}

int S_teardown(void **state)
{
    (void)state;
    for (int fd = 0; fd < S_FD_SETSIZE; fd++)
        if ((open_fds[fd / 64] >> (fd % 64)) & 1u)
            close(fd);
    memset(open_fds, 0, sizeof open_fds);
    alarm(0);
    return 0;
}

int S_socket(int d, int t, int p)
{
    return track(socket(d, t, p));
}

int S_bind(int fd, const void *addr, kite_socklen_t len)
{
    return bind(fd, (const struct sockaddr *)addr, len);
}

int S_listen(int fd, int backlog)
{
    return listen(fd, backlog);
}

int S_accept(int fd, void *addr, kite_socklen_t *len)
{
    return track(accept(fd, (struct sockaddr *)addr, len));
}

int S_accept4(int fd, void *addr, kite_socklen_t *len, int flags)
{
    return track(accept4(fd, (struct sockaddr *)addr, len, flags));
}

int S_connect(int fd, const void *addr, kite_socklen_t len)
{
    return connect(fd, (const struct sockaddr *)addr, len);
}

int S_shutdown(int fd, int how)
{
    return shutdown(fd, how);
}

int S_close(int fd)
{
    int r = close(fd);
    if (r == 0 && fd >= 0 && fd < S_FD_SETSIZE)
        open_fds[fd / 64] &= ~((uint64_t)1 << (fd % 64));
    return r;
}

int S_getsockname(int fd, void *addr, kite_socklen_t *len)
{
    return getsockname(fd, (struct sockaddr *)addr, len);
}

int S_getpeername(int fd, void *addr, kite_socklen_t *len)
{
    return getpeername(fd, (struct sockaddr *)addr, len);
}

int S_getsockopt(int fd, int level, int name, void *val, kite_socklen_t *len)
{
    return getsockopt(fd, level, name, val, len);
}

int S_setsockopt(int fd, int level, int name, const void *val, kite_socklen_t len)
{
    return setsockopt(fd, level, name, val, len);
}

ssize_t S_recv(int fd, void *buf, size_t len, int flags)
{
    return recv(fd, buf, len, flags);
}

ssize_t S_recvfrom(int fd, void *buf, size_t len, int flags, void *from, kite_socklen_t *fromlen)
{
    return recvfrom(fd, buf, len, flags, (struct sockaddr *)from, fromlen);
}

ssize_t S_recvmsg(int fd, struct kite_msghdr *msg, int flags)
{
    return recvmsg(fd, (struct msghdr *)msg, flags);
}

ssize_t S_read(int fd, void *buf, size_t len)
{
    return read(fd, buf, len);
}

ssize_t S_readv(int fd, const struct kite_iovec *iov, int iovcnt)
{
    return readv(fd, (const struct iovec *)iov, iovcnt);
}

ssize_t S_send(int fd, const void *buf, size_t len, int flags)
{
    return send(fd, buf, len, flags);
}

ssize_t S_sendto(int fd, const void *buf, size_t len, int flags, const void *to,
                 kite_socklen_t tolen)
{
    return sendto(fd, buf, len, flags, (const struct sockaddr *)to, tolen);
}

ssize_t S_sendmsg(int fd, const struct kite_msghdr *msg, int flags)
{
    return sendmsg(fd, (const struct msghdr *)msg, flags);
}

ssize_t S_write(int fd, const void *buf, size_t len)
{
    return write(fd, buf, len);
}

ssize_t S_writev(int fd, const struct kite_iovec *iov, int iovcnt)
{
    return writev(fd, (const struct iovec *)iov, iovcnt);
}

int S_select(int nfds, S_fdset *rd, S_fdset *wr, S_fdset *ex, struct kite_timeval *timeout)
{
    return select(nfds, (fd_set *)rd, (fd_set *)wr, (fd_set *)ex, (struct timeval *)timeout);
}

int S_poll(struct kite_pollfd *fds, unsigned nfds, int timeout_ms)
{
    return poll((struct pollfd *)fds, nfds, timeout_ms);
}

int S_fcntl(int fd, int cmd, int val)
{
    return fcntl(fd, cmd, val);
}

int S_ioctl(int fd, unsigned long req, void *argp)
{
    return ioctl(fd, req, argp);
}
