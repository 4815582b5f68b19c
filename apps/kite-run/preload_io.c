/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Data calls on kite sockets: read, write, recv*, send*, sendfile, and the
 * _FORTIFY_SOURCE variants Debian's programs call. kite is asked without
 * blocking; a call that must block waits in the kernel on the socket's
 * descriptor A (preload.h), then asks again. Every other descriptor goes to
 * the C library untouched.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kite/port/spin.h"
#include "preload.h"

/* kite's types have Linux's layouts (kite/sockets.h): the program's
 * structures are handed over as they are. */
_Static_assert(sizeof(struct kite_msghdr) == sizeof(struct msghdr), "msghdr layout");
_Static_assert(offsetof(struct kite_msghdr, msg_iovlen) == offsetof(struct msghdr, msg_iovlen),
               "msghdr layout");
_Static_assert(offsetof(struct kite_msghdr, msg_flags) == offsetof(struct msghdr, msg_flags),
               "msghdr layout");
_Static_assert(sizeof(struct kite_iovec) == sizeof(struct iovec), "iovec layout");

/* Longest iovec array a call may hand over (Linux's UIO_MAXIOV). */
#define IOV_LIMIT 1024

bool kr_blocking(struct kr_sock *s, int flags)
{
    return !(flags & MSG_DONTWAIT) && !atomic_load(&s->nonblock);
}

static bool socket_readable(void *s)
{
    return (atomic_load(&((struct kr_sock *)s)->events) & KITE_NC_READABLE) != 0;
}

static bool socket_writable(void *s)
{
    return (atomic_load(&((struct kr_sock *)s)->events) & KITE_NC_WRITABLE) != 0;
}

struct awaited {
    bool (*ready)(void *s);
    struct kr_sock *s;
    bool ran; /* frames ran meanwhile */
};

/* Frames read and run on this thread, burst after burst, until the socket
 * is ready or the device has nothing more. */
static bool drive_until_ready(void *ctx)
{
    struct awaited *a = ctx;
    while (kr_drive() > 0) {
        a->ran = true;
        if (a->ready(a->s))
            return true;
    }
    return a->ready(a->s);
}

/* KITE_OS_SPIN_US (50 us in kite-run's max_throughput build): before
 * sleeping in the kernel, wait that long for the socket's readiness while
 * reading and running the TAP device's frames on this thread
 * (kite/port/tap_feed.h, "Drivers"): the answer to a request that is on its
 * way needs no scheduler wake-up, and a stream's next segments no hand-off
 * from the TAP thread. Only a change seen meanwhile ends it early: a
 * readiness already shown when the wait began is stale, and the kernel
 * decides. Each thread backs off on its own (kite/port/spin.h). */
static bool spin_driving(struct kite_spin *spin, bool (*ready)(void *s), struct kr_sock *s)
{
    bool got = false;
    if (KITE_OS_SPIN_US > 0 && !ready(s)) {
        struct awaited a = {ready, s, false};
        kr_drive_begin();
        got = kite_spin_until(spin, drive_until_ready, &a);
        kr_drive_end(got);
        if (!got && a.ran)
            kite_spin_forgive(spin); /* it ran the stack's traffic: worth it */
    }
    if (!got)
        kr_sleeping();
    return got;
}

static bool spin_until_readable(struct kr_sock *s)
{
    static __thread struct kite_spin spin;
    return spin_driving(&spin, socket_readable, s);
}

static bool spin_until_writable(struct kr_sock *s)
{
    static __thread struct kite_spin spin;
    return spin_driving(&spin, socket_writable, s);
}

/* Until A is readable: a peek, so the kernel applies the socket's
 * SO_RCVTIMEO (mirrored on A) and restarts the wait after a signal whose
 * handler has SA_RESTART, as for its own recv. */
int kr_wait_readable(struct kr_sock *s, int fd)
{
    char c;
    if (spin_until_readable(s) || kr_real.recv(fd, &c, 1, MSG_PEEK) >= 0)
        return 0;
    /* Only a signal or the timeout end the wait; anything else (the pair
     * torn down by a close) leaves the answer to kite. */
    return errno == EINTR || errno == EAGAIN ? -1 : 0;
}

/* Until A is writable: a one-byte send, which waits as the kernel's own send
 * does (SO_SNDTIMEO, SA_RESTART); the byte lands in B and is taken out. */
int kr_wait_writable(struct kr_sock *s, int fd)
{
    if (spin_until_writable(s))
        return 0;
    ssize_t n = kr_real.send(fd, "w", 1, MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return -1;
    if (n > 0)
        kr_after_write_wait(s);
    return 0;
}

/* ---- Receiving --------------------------------------------------------------------------- */

/* Move the iovec array on by n bytes (a copy the caller owns). */
static void iov_advance(struct msghdr *m, size_t n)
{
    while (n > 0 && m->msg_iovlen > 0) {
        size_t step = n < m->msg_iov->iov_len ? n : m->msg_iov->iov_len;
        m->msg_iov->iov_base = (char *)m->msg_iov->iov_base + step;
        m->msg_iov->iov_len -= step;
        n -= step;
        if (m->msg_iov->iov_len == 0) {
            m->msg_iov++;
            m->msg_iovlen--;
        }
    }
}

/* *m becomes msg over a copy of its iovec array in iov (IOV_LIMIT entries),
 * which the call may then move on; false (EMSGSIZE) when it has more. */
static bool iov_own_copy(const struct msghdr *msg, struct msghdr *m, struct iovec *iov)
{
    if (msg->msg_iovlen > IOV_LIMIT) {
        errno = EMSGSIZE;
        return false;
    }
    *m = *msg;
    if (m->msg_iovlen > 0) /* (memcpy from NULL is undefined even for 0 bytes) */
        memcpy(iov, msg->msg_iov, m->msg_iovlen * sizeof *iov);
    m->msg_iov = iov;
    return true;
}

static size_t iov_total(const struct msghdr *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->msg_iovlen; i++)
        n += m->msg_iov[i].iov_len;
    return n;
}

static ssize_t kite_recv_once(struct kr_sock *s, struct msghdr *m, int flags)
{
    kr_txq_begin();
    ssize_t n = kite_recvmsg(kr_sockets(), s->ks, (struct kite_msghdr *)m,
                             (flags & ~MSG_WAITALL) | MSG_DONTWAIT);
    kr_txq_flush();
    return n;
}

/* MSG_WAITALL on a stream: gather until the buffers are full, the stream
 * ends, an error or a signal comes (what came is returned then). */
static ssize_t recv_all(struct kr_sock *s, int fd, struct msghdr *msg, int flags)
{
    struct iovec iov[IOV_LIMIT];
    struct msghdr m;
    if (!iov_own_copy(msg, &m, iov))
        return -1;
    size_t want = iov_total(&m), got = 0;
    bool ended = want == 0;
    while (got < want) {
        ssize_t n = kite_recv_once(s, &m, flags);
        if (n > 0) {
            got += (size_t)n;
            iov_advance(&m, (size_t)n);
            continue;
        }
        ended = n == 0;
        if (n == 0 || errno != EAGAIN || !kr_blocking(s, flags) || kr_wait_readable(s, fd) < 0)
            break;
    }
    msg->msg_flags = m.msg_flags;
    return got > 0 || ended ? (ssize_t)got : -1;
}

static ssize_t recv_msg(struct kr_sock *s, int fd, struct msghdr *msg, int flags)
{
    if (kr_forked_fail())
        return -1;
    if ((flags & MSG_WAITALL) && !(flags & MSG_PEEK) && s->type == SOCK_STREAM &&
        msg->msg_iovlen <= IOV_LIMIT) {
        int saved = errno;
        ssize_t n = recv_all(s, fd, msg, flags);
        if (n >= 0)
            errno = saved;
        return n;
    }
    for (;;) {
        ssize_t n = kite_recv_once(s, msg, flags);
        if (n >= 0 || errno != EAGAIN || !kr_blocking(s, flags))
            return n;
        if (s->type == SOCK_DGRAM && atomic_load(&s->rx_shut))
            return 0; /* Linux: a blocking datagram receive after SHUT_RD ends at once */
        if (kr_wait_readable(s, fd) < 0)
            return -1;
    }
}

static ssize_t recv_buf(struct kr_sock *s, int fd, void *buf, size_t len, int flags,
                        struct sockaddr *from, socklen_t *fromlen)
{
    struct iovec iov = {buf, len};
    struct msghdr m = {
        .msg_name = from, .msg_namelen = fromlen ? *fromlen : 0, .msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n = recv_msg(s, fd, &m, flags);
    if (n >= 0 && fromlen != NULL)
        *fromlen = m.msg_namelen;
    return n;
}

KR_API ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    struct kr_sock *s = kr_lookup(fd);
    return s ? recv_msg(s, fd, msg, flags) : kr_real.recvmsg(fd, msg, flags);
}

KR_API ssize_t recvfrom(int fd, void *buf, size_t len, int flags, __SOCKADDR_ARG from_arg,
                        socklen_t *fromlen)
{
    struct sockaddr *from = SOCKADDR_PTR(from_arg);
    struct kr_sock *s = kr_lookup(fd);
    return s ? recv_buf(s, fd, buf, len, flags, from, fromlen)
             : kr_real.recvfrom(fd, buf, len, flags, from, fromlen);
}

KR_API ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    struct kr_sock *s = kr_lookup(fd);
    return s ? recv_buf(s, fd, buf, len, flags, NULL, NULL) : kr_real.recv(fd, buf, len, flags);
}

KR_API ssize_t read(int fd, void *buf, size_t len)
{
    struct kr_sock *s = kr_lookup(fd);
    return s ? recv_buf(s, fd, buf, len, 0, NULL, NULL) : kr_real.read(fd, buf, len);
}

KR_API ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
    struct kr_sock *s = kr_lookup(fd);
    if (s == NULL)
        return kr_real.readv(fd, iov, iovcnt);
    if (iovcnt < 0 || iovcnt > IOV_LIMIT) {
        errno = EINVAL;
        return -1;
    }
    struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};
    return recv_msg(s, fd, &m, 0);
}

KR_API int recvmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags, struct timespec *timeout)
{
    struct kr_sock *s = kr_lookup(fd);
    if (s == NULL)
        return kr_real.recvmmsg(fd, vec, vlen, flags, timeout);
    unsigned i = 0;
    for (; i < vlen; i++) {
        /* Linux: only the first may wait (or none, with MSG_DONTWAIT). */
        int f = i == 0 ? flags & ~MSG_WAITFORONE : (flags & ~MSG_WAITFORONE) | MSG_DONTWAIT;
        ssize_t n = recv_msg(s, fd, &vec[i].msg_hdr, f);
        if (n < 0)
            break;
        vec[i].msg_len = (unsigned)n;
    }
    return i > 0 ? (int)i : -1;
}

/* ---- Sending ----------------------------------------------------------------------------- */

/* Linux sends SIGPIPE to the thread that wrote to a broken stream. */
static ssize_t broken_pipe(int flags)
{
    if (errno == EPIPE && !(flags & MSG_NOSIGNAL)) {
        int saved = errno;
        (void)pthread_kill(pthread_self(), SIGPIPE);
        errno = saved;
    }
    return -1;
}

static ssize_t kite_send_once(struct kr_sock *s, const struct msghdr *m, int flags)
{
    return kite_sendmsg(kr_sockets(), s->ks, (const struct kite_msghdr *)m,
                        flags | MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* A blocking stream send goes on until everything is queued, as Linux's
 * does; a signal or SO_SNDTIMEO ends it with what was sent. */
static ssize_t send_stream(struct kr_sock *s, int fd, const struct msghdr *msg, int flags)
{
    struct iovec iov[IOV_LIMIT];
    struct msghdr m;
    if (!iov_own_copy(msg, &m, iov))
        return -1;
    size_t want = iov_total(&m), sent = 0;
    do {
        ssize_t n = kite_send_once(s, &m, flags);
        if (n > 0) {
            sent += (size_t)n;
            iov_advance(&m, (size_t)n);
            if (!kr_blocking(s, flags))
                break;
            continue;
        }
        if (n == 0)
            break;
        if (errno != EAGAIN || !kr_blocking(s, flags) || kr_wait_writable(s, fd) < 0)
            return sent > 0 ? (ssize_t)sent : broken_pipe(flags);
    } while (sent < want);
    return (ssize_t)sent;
}

static ssize_t send_msg(struct kr_sock *s, int fd, const struct msghdr *msg, int flags)
{
    if (kr_forked_fail())
        return -1;
    if (s->type == SOCK_STREAM)
        return send_stream(s, fd, msg, flags);
    for (;;) {
        ssize_t n = kite_send_once(s, msg, flags);
        if (n >= 0 || errno != EAGAIN || !kr_blocking(s, flags))
            return n;
        if (kr_wait_writable(s, fd) < 0)
            return -1;
    }
}

static ssize_t send_buf(struct kr_sock *s, int fd, const void *buf, size_t len, int flags,
                        const struct sockaddr *to, socklen_t tolen)
{
    struct iovec iov = {(void *)buf, len};
    struct msghdr m = {
        .msg_name = (void *)to, .msg_namelen = tolen, .msg_iov = &iov, .msg_iovlen = 1};
    return send_msg(s, fd, &m, flags);
}

KR_API ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    struct kr_sock *s = kr_lookup(fd);
    return s ? send_msg(s, fd, msg, flags) : kr_real.sendmsg(fd, msg, flags);
}

KR_API ssize_t sendto(int fd, const void *buf, size_t len, int flags, __CONST_SOCKADDR_ARG to_arg,
                      socklen_t tolen)
{
    const struct sockaddr *to = SOCKADDR_PTR(to_arg);
    struct kr_sock *s = kr_lookup(fd);
    return s ? send_buf(s, fd, buf, len, flags, to, tolen)
             : kr_real.sendto(fd, buf, len, flags, to, tolen);
}

KR_API ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    struct kr_sock *s = kr_lookup(fd);
    return s ? send_buf(s, fd, buf, len, flags, NULL, 0) : kr_real.send(fd, buf, len, flags);
}

KR_API ssize_t write(int fd, const void *buf, size_t len)
{
    struct kr_sock *s = kr_lookup(fd);
    return s ? send_buf(s, fd, buf, len, 0, NULL, 0) : kr_real.write(fd, buf, len);
}

KR_API ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
    struct kr_sock *s = kr_lookup(fd);
    if (s == NULL)
        return kr_real.writev(fd, iov, iovcnt);
    if (iovcnt < 0 || iovcnt > IOV_LIMIT) {
        errno = EINVAL;
        return -1;
    }
    struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};
    return send_msg(s, fd, &m, 0);
}

KR_API int sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags)
{
    struct kr_sock *s = kr_lookup(fd);
    if (s == NULL)
        return kr_real.sendmmsg(fd, vec, vlen, flags);
    unsigned i = 0;
    for (; i < vlen; i++) {
        ssize_t n = send_msg(s, fd, &vec[i].msg_hdr, flags);
        if (n < 0)
            break;
        vec[i].msg_len = (unsigned)n;
    }
    return i > 0 ? (int)i : -1;
}

/* sendfile to a kite socket: read the file here and send what was read; what
 * the socket did not take is left unread (the offset, or the file position,
 * stays at the first byte not sent), as Linux's sendfile leaves it. */
static ssize_t sendfile_kite(struct kr_sock *s, int out, int in, off_t *offset, size_t count)
{
    char buf[65536];
    size_t total = 0;
    while (total < count) {
        size_t chunk = count - total < sizeof buf ? count - total : sizeof buf;
        ssize_t r = offset ? pread(in, buf, chunk, *offset) : kr_real.read(in, buf, chunk);
        if (r <= 0)
            return total > 0 ? (ssize_t)total : r;
        ssize_t w = send_buf(s, out, buf, (size_t)r, 0, NULL, 0);
        if (w < 0 && !offset)
            (void)lseek(in, -r, SEEK_CUR);
        if (w < 0)
            return total > 0 ? (ssize_t)total : -1;
        if (offset)
            *offset += w;
        else if (w < r)
            (void)lseek(in, w - r, SEEK_CUR);
        total += (size_t)w;
        if (w < r)
            break;
    }
    return (ssize_t)total;
}

KR_API ssize_t sendfile(int out, int in, off_t *offset, size_t count)
{
    struct kr_sock *s = kr_lookup(out);
    return s ? sendfile_kite(s, out, in, offset, count) : kr_real.sendfile(out, in, offset, count);
}

KR_API ssize_t sendfile64(int out, int in, off_t *offset, size_t count)
{
    return sendfile(out, in, offset, count);
}

/* ---- _FORTIFY_SOURCE entry points ------------------------------------------------------- */

extern void __chk_fail(void) __attribute__((noreturn));

KR_API ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
    if (len > buflen)
        __chk_fail();
    return read(fd, buf, len);
}

KR_API ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
    if (len > buflen)
        __chk_fail();
    return recv(fd, buf, len, flags);
}

KR_API ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
                              __SOCKADDR_ARG from, socklen_t *fromlen)
{
    if (len > buflen)
        __chk_fail();
    return recvfrom(fd, buf, len, flags, from, fromlen);
}
