/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Socket calls on kite sockets, and the descriptor calls that must know
 * them (close, dup*, fcntl, ioctl). socket(AF_INET, SOCK_STREAM or
 * SOCK_DGRAM) makes a kite socket; every other family and type, and every
 * descriptor that is not a kite socket, goes to the C library untouched.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "preload.h"

#define SOCK_TYPE_MASK 0xf

KR_API int socket(int domain, int type, int protocol)
{
    int base = type & SOCK_TYPE_MASK;
    if (domain != AF_INET || (base != SOCK_STREAM && base != SOCK_DGRAM) || kr_forked())
        return kr_real.socket(domain, type, protocol);
    if (!kr_start())
        return -1;
    /* kite's own socket never blocks: blocking happens in the kernel on A.
     * kite checks the type's flags (unknown ones: EINVAL). */
    int ks = kite_socket(kr_sockets(), KITE_AF_INET, type | KITE_SOCK_NONBLOCK, protocol);
    if (ks < 0)
        return -1;
    if (protocol == 0)
        protocol = base == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
    return kr_adopt(ks, base, protocol, type & (SOCK_NONBLOCK | SOCK_CLOEXEC));
}

KR_API int bind(int fd, __CONST_SOCKADDR_ARG addr_arg, socklen_t len)
{
    const struct sockaddr *addr = SOCKADDR_PTR(addr_arg);
    struct kr_sock *s = kr_lookup(fd);
    if (s == NULL)
        return kr_real.bind(fd, addr, len);
    return kr_forked_fail()
               ? -1
               : kite_bind(kr_sockets(), s->ks, (const struct kite_sockaddr *)addr, len);
}

KR_API int listen(int fd, int backlog)
{
    struct kr_sock *s = kr_lookup(fd);
    if (s == NULL)
        return kr_real.listen(fd, backlog);
    return kr_forked_fail() ? -1 : kite_listen(kr_sockets(), s->ks, backlog);
}

KR_API int accept4(int fd, __SOCKADDR_ARG addr_arg, socklen_t *len, int flags)
{
    struct sockaddr *addr = SOCKADDR_PTR(addr_arg);
    struct kr_sock *s = kr_lookup(fd);
    if (s == NULL)
        return kr_real.accept4(fd, addr, len, flags);
    if (kr_forked_fail())
        return -1;
    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) {
        errno = EINVAL;
        return -1;
    }
    for (;;) {
        int ks = kite_accept4(kr_sockets(), s->ks, (struct kite_sockaddr *)addr, len,
                              KITE_SOCK_NONBLOCK);
        if (ks >= 0)
            return kr_adopt(ks, s->type, s->protocol, flags);
        if (errno != EAGAIN || !kr_blocking(s, 0) || kr_wait_readable(s, fd) < 0)
            return -1;
    }
}

KR_API int accept(int fd, __SOCKADDR_ARG addr_arg, socklen_t *len)
{
    struct sockaddr *addr = SOCKADDR_PTR(addr_arg);
    struct kr_sock *s = kr_lookup(fd);
    return s ? accept4(fd, addr, len, 0) : kr_real.accept(fd, addr, len);
}

/* A blocking connect waits until the handshake ends (A turns writable),
 * then asks kite again, which says how it ended (0, or the error) and from
 * then on says EISCONN, as Linux's. */
static int connect_wait(struct kr_sock *s, int fd, const struct sockaddr *addr, socklen_t len)
{
    for (;;) {
        if (kr_wait_writable(s, fd) < 0)
            return -1; /* EINTR (the handshake goes on), or SO_SNDTIMEO: EINPROGRESS below */
        int rc = kite_connect(kr_sockets(), s->ks, (const struct kite_sockaddr *)addr, len);
        if (rc == 0 || errno != EALREADY)
            return rc;
    }
}

KR_API int connect(int fd, __CONST_SOCKADDR_ARG addr_arg, socklen_t len)
{
    const struct sockaddr *addr = SOCKADDR_PTR(addr_arg);
    struct kr_sock *s = kr_lookup(fd);
    if (s == NULL)
        return kr_real.connect(fd, addr, len);
    if (kr_forked_fail())
        return -1;
    int rc = kite_connect(kr_sockets(), s->ks, (const struct kite_sockaddr *)addr, len);
    if (rc == 0 || errno != EINPROGRESS || !kr_blocking(s, 0))
        return rc;
    rc = connect_wait(s, fd, addr, len);
    if (rc < 0 && errno == EAGAIN)
        errno = EINPROGRESS; /* Linux: SO_SNDTIMEO ran out during connect */
    return rc;
}

KR_API int shutdown(int fd, int how)
{
    struct kr_sock *s = kr_lookup(fd);
    if (s == NULL)
        return kr_real.shutdown(fd, how);
    if (kr_forked_fail())
        return -1;
    int rc = kite_shutdown(kr_sockets(), s->ks, how);
    if (rc == 0 && (how == SHUT_RD || how == SHUT_RDWR))
        atomic_store(&s->rx_shut, true);
    return rc;
}

/* getsockname (local) or getpeername. */
static int name_of(int fd, struct sockaddr *addr, socklen_t *len, bool local)
{
    struct kr_sock *s = kr_lookup(fd);
    if (s == NULL)
        return local ? kr_real.getsockname(fd, addr, len) : kr_real.getpeername(fd, addr, len);
    if (kr_forked_fail())
        return -1;
    struct kite_sockaddr *a = (struct kite_sockaddr *)addr;
    return local ? kite_getsockname(kr_sockets(), s->ks, a, len)
                 : kite_getpeername(kr_sockets(), s->ks, a, len);
}

KR_API int getsockname(int fd, __SOCKADDR_ARG addr, socklen_t *len)
{
    return name_of(fd, SOCKADDR_PTR(addr), len, true);
}

KR_API int getpeername(int fd, __SOCKADDR_ARG addr, socklen_t *len)
{
    return name_of(fd, SOCKADDR_PTR(addr), len, false);
}

/* Options the socket layer leaves to us: what Linux reports about the
 * socket itself. 1: answered here. */
static int own_getsockopt(struct kr_sock *s, int level, int name, void *val, socklen_t *len,
                          int *rc)
{
    int v;
    if (level == SOL_SOCKET && name == SO_DOMAIN)
        v = AF_INET;
    else if (level == SOL_SOCKET && name == SO_PROTOCOL)
        v = s->protocol;
    else
        return 0;
    if (val == NULL || len == NULL || *len < sizeof v) {
        errno = EINVAL;
        *rc = -1;
        return 1;
    }
    memcpy(val, &v, sizeof v);
    *len = sizeof v;
    *rc = 0;
    return 1;
}

KR_API int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    struct kr_sock *s = kr_lookup(fd);
    if (s == NULL)
        return kr_real.getsockopt(fd, level, name, val, len);
    int rc;
    if (kr_forked_fail())
        return -1;
    if (own_getsockopt(s, level, name, val, len, &rc))
        return rc;
    return kite_getsockopt(kr_sockets(), s->ks, level, name, val, len);
}

KR_API int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    struct kr_sock *s = kr_lookup(fd);
    if (s == NULL)
        return kr_real.setsockopt(fd, level, name, val, len);
    if (kr_forked_fail())
        return -1;
    int rc = kite_setsockopt(kr_sockets(), s->ks, level, name, val, len);
    /* The timeouts also go on A, where blocking calls wait. */
    if (rc == 0 && level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO))
        (void)kr_real.setsockopt(fd, level, name, val, len);
    return rc;
}

/* ---- Descriptors ------------------------------------------------------------------------- */

KR_API int close(int fd)
{
    return kr_lookup(fd) ? kr_close(fd) : kr_real.close(fd);
}

KR_API int dup(int fd)
{
    struct kr_sock *s = kr_lookup(fd);
    int n = kr_real.dup(fd);
    return s != NULL ? kr_dup_to(s, n) : n;
}

static int dup_onto(int oldfd, int newfd, int flags, bool three)
{
    struct kr_sock *s = kr_lookup(oldfd);
    if (oldfd == newfd && !three)
        return kr_real.dup2(oldfd, newfd);
    int n = three ? kr_real.dup3(oldfd, newfd, flags) : kr_real.dup2(oldfd, newfd);
    if (n < 0)
        return n;
    kr_replaced(newfd); /* the kernel closed what newfd was */
    return s != NULL ? kr_dup_to(s, n) : n;
}

KR_API int dup2(int oldfd, int newfd)
{
    return dup_onto(oldfd, newfd, 0, false);
}

KR_API int dup3(int oldfd, int newfd, int flags)
{
    return dup_onto(oldfd, newfd, flags, true);
}

/* Linux's F_GETFL for a socket: read-write, and O_NONBLOCK as set. */
static int kite_fcntl_call(struct kr_sock *s, int fd, int cmd, long arg)
{
    switch (cmd) {
    case F_GETFL:
        return O_RDWR | (atomic_load(&s->nonblock) ? O_NONBLOCK : 0);
    case F_SETFL:
        atomic_store(&s->nonblock, (arg & O_NONBLOCK) != 0);
        return 0;
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
        return kr_dup_to(s, kr_real.fcntl(fd, cmd, arg));
    default: /* F_GETFD, F_SETFD...: the descriptor's, the kernel's */
        return kr_real.fcntl(fd, cmd, arg);
    }
}

KR_API int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long); /* (every command's argument fits one; unused ones are ignored) */
    va_end(ap);
    struct kr_sock *s = kr_lookup(fd);
    return s ? kite_fcntl_call(s, fd, cmd, arg) : kr_real.fcntl(fd, cmd, arg);
}

KR_API int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long);
    va_end(ap);
    struct kr_sock *s = kr_lookup(fd);
    return s ? kite_fcntl_call(s, fd, cmd, arg) : kr_real.fcntl(fd, cmd, arg);
}

KR_API int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *argp = va_arg(ap, void *);
    va_end(ap);
    struct kr_sock *s = kr_lookup(fd);
    if (s == NULL)
        return kr_real.ioctl(fd, req, argp);
    if (kr_forked_fail())
        return -1;
    if (req == FIONBIO) {
        if (argp == NULL) {
            errno = EFAULT;
            return -1;
        }
        atomic_store(&s->nonblock, *(const int *)argp != 0);
        return 0;
    }
    return kite_ioctl(kr_sockets(), s->ks, req, argp);
}

/* ---- Names ------------------------------------------------------------------------------ */

/* The C library drops every IPv4 answer under AI_ADDRCONFIG when the kernel
 * has no IPv4 address of its own; kite has one, so the flag is taken off. */
KR_API int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res)
{
    if (hints == NULL || !(hints->ai_flags & AI_ADDRCONFIG))
        return kr_real.getaddrinfo(node, service, hints, res);
    struct addrinfo h = *hints;
    h.ai_flags &= ~AI_ADDRCONFIG;
    return kr_real.getaddrinfo(node, service, &h, res);
}
