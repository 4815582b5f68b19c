/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * BSD sockets over netconn (docs/api.md). A socket number indexes the
 * application's socket table; a call holds the socket (busy) for its whole
 * length, so kite_close can wake the threads blocked on it, wait until they
 * are out, and only then free the netconn. Errors follow Linux's errno.
 */
#include "kite/sockets.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#include "kite/byteorder.h"
#include "kite/igmp.h"
#include "kite/ipv4.h"
#include "kite/pbuf.h"
#include "kite/stack.h"
#include "kite/tcp.h"
#include "kite/tcpip.h"
#include "kite/udp.h"

#include "api_priv.h"

/* kite_socket.opts */
#define SOPT_REUSEADDR 0x01u
#define SOPT_KEEPALIVE 0x02u
#define SOPT_PKTINFO 0x04u
#define SOPT_LINGER0 0x08u /* SO_LINGER on with 0 s: close resets */
#define SOPT_NODELAY 0x20u
#define SOPT_CORK 0x40u

/* What a call on a socket works with. */
struct sock_ref {
    struct kite_sockets *s;
    struct kite_socket *sk;
    struct kite_netconn *c;
};

static int fail(int err)
{
    errno = err;
    return -1;
}

/* ---- errno (Linux's choices) --------------------------------------------------------- */

static int errno_of(enum kite_err err)
{
    switch (err) {
    case KITE_ERR_MEM:
        return ENOMEM;
    case KITE_ERR_BUF:
        return ENOBUFS;
    case KITE_ERR_TIMEOUT:
        return ETIMEDOUT;
    case KITE_ERR_ROUTE:
        return ENETUNREACH;
    case KITE_ERR_INPROGRESS:
        return EINPROGRESS;
    case KITE_ERR_WOULDBLOCK:
        return EAGAIN;
    case KITE_ERR_INUSE:
        return EADDRINUSE;
    case KITE_ERR_ALREADY:
        return EALREADY;
    case KITE_ERR_ISCONN:
        return EISCONN;
    case KITE_ERR_NOTCONN:
        return ENOTCONN;
    case KITE_ERR_NETIF:
        return ENETDOWN;
    case KITE_ERR_ABORTED:
        return ECONNABORTED;
    case KITE_ERR_RESET:
        return ECONNRESET;
    case KITE_ERR_CLOSED:
        return EBADF;
    case KITE_ERR_UNREACHABLE:
        return EHOSTUNREACH;
    case KITE_ERR_REFUSED:
        return ECONNREFUSED;
    case KITE_ERR_UNSUPPORTED:
        return EOPNOTSUPP;
    default:
        return EINVAL;
    }
}

/* ---- The table -------------------------------------------------------------------------- */

int kite_sockets_init(struct kite_sockets *s, struct kite_tcpip *t)
{
    memset(s, 0, sizeof *s);
    s->tcpip = t;
    return kite_os_mutex_init(&s->lock) == KITE_ERR_OK ? 0 : fail(ENOMEM);
}

void kite_sockets_deinit(struct kite_sockets *s)
{
    for (int i = 0; i < KITE_SOCKET_COUNT; i++)
        if (s->socks[i].conn != NULL)
            (void)kite_close(s, KITE_SOCKET_OFFSET + i);
    kite_os_mutex_destroy(&s->lock);
}

#define SOCK_BUSY_MAX 127u /* struct kite_socket's busy counts 7 bits */

/* Take the socket for the length of a call; false (errno EBADF) if none. */
static bool hold(struct kite_sockets *s, int fd, struct sock_ref *ref)
{
    int i = fd - KITE_SOCKET_OFFSET;
    if (i < 0 || i >= KITE_SOCKET_COUNT) {
        errno = EBADF;
        return false;
    }
    kite_os_mutex_lock(&s->lock);
    struct kite_socket *sk = &s->socks[i];
    bool ok = sk->conn != NULL && !sk->closing;
    bool full = ok && sk->busy == SOCK_BUSY_MAX; /* as many calls inside as it counts */
    if (ok && !full) {
        sk->busy++;
        *ref = (struct sock_ref){s, sk, sk->conn};
    }
    kite_os_mutex_unlock(&s->lock);
    if (!ok || full)
        errno = full ? EAGAIN : EBADF;
    return ok && !full;
}

/* close() on it has begun in another thread. */
static bool closing(struct sock_ref *ref)
{
    kite_os_mutex_lock(&ref->s->lock);
    bool c = ref->sk->closing != 0;
    kite_os_mutex_unlock(&ref->s->lock);
    return c;
}

static void release(struct sock_ref *ref)
{
    kite_os_mutex_lock(&ref->s->lock);
    ref->sk->busy--;
    kite_os_mutex_unlock(&ref->s->lock);
}

/* The lowest free socket number (as POSIX asks), held (busy, without a
 * netconn, so no call can use it) until attach or unreserve: the table is
 * checked before a pcb is taken, which may recycle a TIME_WAIT connection. */
static int reserve(struct kite_sockets *s, int type)
{
    int fd = -1;
    kite_os_mutex_lock(&s->lock);
    for (int i = 0; i < KITE_SOCKET_COUNT && fd < 0; i++) {
        if (s->socks[i].conn == NULL && s->socks[i].busy == 0) {
            memset(&s->socks[i], 0, sizeof s->socks[i]);
            s->socks[i].busy = 1;
            s->socks[i].linger_s = -1;
            s->socks[i].keep_idle = 7200; /* Linux's defaults */
            s->socks[i].keep_intvl = 75;
            s->socks[i].keep_cnt = 9;
            s->socks[i].type = (uint8_t)type;
            fd = KITE_SOCKET_OFFSET + i;
        }
    }
    kite_os_mutex_unlock(&s->lock);
    return fd;
}

static void attach(struct kite_sockets *s, int fd, struct kite_netconn *c)
{
    kite_os_mutex_lock(&s->lock);
    s->socks[fd - KITE_SOCKET_OFFSET].conn = c;
    s->socks[fd - KITE_SOCKET_OFFSET].busy = 0;
    kite_os_mutex_unlock(&s->lock);
}

static void unreserve(struct kite_sockets *s, int fd)
{
    kite_os_mutex_lock(&s->lock);
    s->socks[fd - KITE_SOCKET_OFFSET].busy = 0;
    kite_os_mutex_unlock(&s->lock);
}

/* SOCK_RAW takes any IP protocol but 0 and 255 (Linux: IPPROTO_RAW is send-only). */
static struct kite_netconn *new_netconn(struct kite_sockets *s, int base, int protocol,
                                        enum kite_err *err)
{
    *err = KITE_ERR_UNSUPPORTED;
    if (base == KITE_SOCK_RAW) {
        if (protocol <= 0 || protocol >= 255)
            return NULL;
        return kite_netconn_new_raw(s->tcpip, (uint8_t)protocol, err);
    }
    if (base != KITE_SOCK_STREAM && base != KITE_SOCK_DGRAM) {
        *err = KITE_ERR_VAL;
        return NULL;
    }
    bool tcp = base == KITE_SOCK_STREAM;
    if (protocol != 0 && protocol != (tcp ? KITE_IPPROTO_TCP : KITE_IPPROTO_UDP))
        return NULL;
    return kite_netconn_new(s->tcpip, tcp ? KITE_NETCONN_TCP : KITE_NETCONN_UDP, err);
}

int kite_socket(struct kite_sockets *s, int domain, int type, int protocol)
{
    int base = type & ~(KITE_SOCK_NONBLOCK | KITE_SOCK_CLOEXEC);
    if (domain != KITE_AF_INET)
        return fail(EAFNOSUPPORT);
    int fd = reserve(s, base);
    if (fd < 0)
        return fail(EMFILE);
    enum kite_err err;
    struct kite_netconn *c = new_netconn(s, base, protocol, &err);
    if (c == NULL) {
        unreserve(s, fd);
        /* No netconn or pcb left (after recycling TIME_WAIT): the stack-wide
         * pools are kite's system-wide file table. */
        return fail(err == KITE_ERR_VAL           ? EINVAL
                    : err == KITE_ERR_UNSUPPORTED ? EPROTONOSUPPORT
                    : err == KITE_ERR_MEM         ? ENFILE
                                                  : errno_of(err));
    }
    attach(s, fd, c);
    if (type & KITE_SOCK_NONBLOCK)
        kite_netconn_set_nonblocking(c, true);
    return fd;
}

/* Close: refuse new calls, wake the blocked ones, wait until every call is
 * out (busy), then free (esp-lwip's thread-safe close, DESIGN.md 5). */
int kite_close(struct kite_sockets *s, int fd)
{
    struct sock_ref ref;
    if (!hold(s, fd, &ref))
        return -1;
    kite_os_mutex_lock(&s->lock);
    ref.sk->closing = 1;
    kite_os_mutex_unlock(&s->lock);
    kite_netconn_cancel(ref.c);
    for (;;) { /* the woken calls leave at once; wait for them */
        kite_os_mutex_lock(&s->lock);
        bool alone = ref.sk->busy == 1;
        kite_os_mutex_unlock(&s->lock);
        if (alone)
            break;
        struct kite_os_sem nap;
        if (kite_os_sem_init(&nap, 0) == KITE_ERR_OK) {
            (void)kite_os_sem_wait(&nap, 1);
            kite_os_sem_destroy(&nap);
        }
    }
    /* SO_LINGER: 0 s resets at once; a positive time waits that long for what
     * was written to be acknowledged, and resets what is left after it. */
    bool reset = (ref.sk->opts & SOPT_LINGER0) != 0;
    if (ref.sk->linger_s > 0 &&
        kite_netconn_drain(ref.c, (uint32_t)ref.sk->linger_s * 1000u) != KITE_ERR_OK)
        reset = true;
    if (reset)
        (void)kite_netconn_abort(ref.c);
    else
        (void)kite_netconn_delete(ref.c);
    kite_os_mutex_lock(&s->lock);
    ref.sk->conn = NULL;
    ref.sk->busy--;
    kite_os_mutex_unlock(&s->lock);
    return 0;
}

/* ---- Addresses ---------------------------------------------------------------------------- */

static int addr_from(const struct kite_sockaddr *a, kite_socklen_t len, struct kite_addr *ip,
                     uint16_t *port)
{
    if (a == NULL || len < sizeof(struct kite_sockaddr_in))
        return EINVAL;
    const struct kite_sockaddr_in *in = (const struct kite_sockaddr_in *)(const void *)a;
    if (in->sin_family != KITE_AF_INET)
        return EAFNOSUPPORT;
    *ip = KITE_ADDR_V4(kite_ntohl(in->sin_addr.s_addr));
    *port = kite_ntohs(in->sin_port);
    return 0;
}

static void addr_to(const struct kite_addr *ip, uint16_t port, struct kite_sockaddr *a,
                    kite_socklen_t *len)
{
    if (a == NULL || len == NULL)
        return;
    struct kite_sockaddr_in in = {.sin_family = KITE_AF_INET,
                                  .sin_port = kite_htons(port),
                                  .sin_addr = {kite_htonl(kite_addr_v4(ip))}};
    size_t n = *len < sizeof in ? *len : sizeof in;
    memcpy(a, &in, n); /* truncated as POSIX says; *len tells the full size */
    *len = sizeof in;
}

int kite_bind(struct kite_sockets *s, int fd, const struct kite_sockaddr *addr, kite_socklen_t len)
{
    struct kite_addr ip;
    uint16_t port;
    struct sock_ref ref;
    if (!hold(s, fd, &ref))
        return -1;
    int e = addr_from(addr, len, &ip, &port);
    if (e == 0) {
        enum kite_err err = kite_netconn_bind(ref.c, kite_addr_is_any(&ip) ? NULL : &ip, port);
        e = err == KITE_ERR_OK       ? 0
            : err == KITE_ERR_VAL    ? EADDRNOTAVAIL
            : err == KITE_ERR_ISCONN ? EINVAL /* already bound */
                                     : errno_of(err);
    }
    release(&ref);
    return e == 0 ? 0 : fail(e);
}

int kite_listen(struct kite_sockets *s, int fd, int backlog)
{
    struct sock_ref ref;
    if (!hold(s, fd, &ref))
        return -1;
    int e = 0;
    if (ref.sk->type != KITE_SOCK_STREAM) {
        e = EOPNOTSUPP;
    } else {
        struct kite_addr ip;
        uint16_t port = 0;
        if (kite_netconn_addr(ref.c, true, &ip, &port) == KITE_ERR_OK && port == 0) {
            enum kite_err err = kite_netconn_bind(ref.c, NULL, 0); /* as Linux: an ephemeral port */
            e = err == KITE_ERR_OK ? 0 : errno_of(err);
        }
        /* Linux's sk_acceptq_is_full: the queue holds backlog + 1; its
         * __sys_listen takes a negative or large backlog as the most. */
        int b = backlog < 0 || backlog > 254 ? 255 : backlog + 1;
        enum kite_err err = e == 0 ? kite_netconn_listen(ref.c, (uint8_t)b) : KITE_ERR_OK;
        if (e == 0 && err != KITE_ERR_OK)
            e = err == KITE_ERR_ISCONN ? EINVAL : errno_of(err);
    }
    release(&ref);
    return e == 0 ? 0 : fail(e);
}

int kite_accept4(struct kite_sockets *s, int fd, struct kite_sockaddr *addr, kite_socklen_t *len,
                 int flags)
{
    if (flags & ~(KITE_SOCK_NONBLOCK | KITE_SOCK_CLOEXEC))
        return fail(EINVAL);
    struct sock_ref ref;
    if (!hold(s, fd, &ref))
        return -1;
    int nfd = reserve(s, KITE_SOCK_STREAM); /* a full table leaves the queue alone */
    if (nfd < 0) {
        release(&ref);
        return fail(EMFILE);
    }
    struct kite_netconn *nc = NULL;
    enum kite_err err =
        ref.sk->type == KITE_SOCK_STREAM ? kite_netconn_accept(ref.c, &nc) : KITE_ERR_UNSUPPORTED;
    release(&ref);
    if (err != KITE_ERR_OK) {
        unreserve(s, nfd);
        return fail(err == KITE_ERR_VAL       ? EINVAL
                    : err == KITE_ERR_TIMEOUT ? EAGAIN
                                              : errno_of(err));
    }
    attach(s, nfd, nc);
    if (flags & KITE_SOCK_NONBLOCK)
        kite_netconn_set_nonblocking(nc, true);
    struct kite_addr ip;
    uint16_t port;
    if (addr != NULL && kite_netconn_addr(nc, false, &ip, &port) == KITE_ERR_OK)
        addr_to(&ip, port, addr, len);
    return nfd;
}

int kite_accept(struct kite_sockets *s, int fd, struct kite_sockaddr *addr, kite_socklen_t *len)
{
    return kite_accept4(s, fd, addr, len, 0);
}

static int connect_errno(enum kite_err err)
{
    switch (err) {
    case KITE_ERR_RESET:
        return ECONNREFUSED; /* a reset answering the SYN */
    case KITE_ERR_TIMEOUT:
        return ETIMEDOUT;
    case KITE_ERR_VAL:
        return EINVAL;
    default:
        return errno_of(err);
    }
}

/* connect with AF_UNSPEC: a datagram socket's association dissolves (Linux's
 * inet_dgram_connect, which needs only the family); a TCP one is refused. */
static bool dissolves(const struct kite_sockaddr *a, kite_socklen_t len)
{
    return a != NULL && len >= sizeof a->sa_family && a->sa_family == KITE_AF_UNSPEC;
}

int kite_connect(struct kite_sockets *s, int fd, const struct kite_sockaddr *addr,
                 kite_socklen_t len)
{
    struct kite_addr ip;
    uint16_t port;
    struct sock_ref ref;
    if (!hold(s, fd, &ref))
        return -1;
    if (ref.sk->type != KITE_SOCK_STREAM && dissolves(addr, len)) {
        enum kite_err err = kite_netconn_disconnect(ref.c);
        release(&ref);
        return err == KITE_ERR_OK ? 0 : fail(errno_of(err));
    }
    int e = addr_from(addr, len, &ip, &port);
    if (e == 0) {
        enum kite_err err = kite_netconn_connect(ref.c, &ip, port);
        if (err == KITE_ERR_TIMEOUT && ref.sk->type == KITE_SOCK_STREAM)
            err = KITE_ERR_INPROGRESS; /* SO_SNDTIMEO ran out: it goes on */
        e = err == KITE_ERR_OK ? 0 : connect_errno(err);
    }
    release(&ref);
    return e == 0 ? 0 : fail(e);
}

int kite_shutdown(struct kite_sockets *s, int fd, int how)
{
    struct sock_ref ref;
    if (!hold(s, fd, &ref))
        return -1;
    int e = 0;
    if (how < KITE_SHUT_RD || how > KITE_SHUT_RDWR) {
        e = EINVAL;
    } else {
        bool rx = how != KITE_SHUT_WR, tx = how != KITE_SHUT_RD;
        enum kite_err err = kite_netconn_shutdown(ref.c, rx, tx);
        e = err == KITE_ERR_OK ? 0 : err == KITE_ERR_NOTCONN ? ENOTCONN : errno_of(err);
    }
    release(&ref);
    return e == 0 ? 0 : fail(e);
}

static int name_of(struct kite_sockets *s, int fd, bool local, struct kite_sockaddr *addr,
                   kite_socklen_t *len)
{
    struct sock_ref ref;
    if (!hold(s, fd, &ref))
        return -1;
    struct kite_addr ip = KITE_ADDR_ANY4;
    uint16_t port = 0;
    enum kite_err err = kite_netconn_addr(ref.c, local, &ip, &port);
    release(&ref);
    if (len == NULL || addr == NULL)
        return fail(EFAULT);
    if (err != KITE_ERR_OK && !(local && err == KITE_ERR_CLOSED))
        return fail(err == KITE_ERR_NOTCONN || err == KITE_ERR_CLOSED ? ENOTCONN : errno_of(err));
    addr_to(&ip, port, addr, len);
    return 0;
}

int kite_getsockname(struct kite_sockets *s, int fd, struct kite_sockaddr *addr,
                     kite_socklen_t *len)
{
    return name_of(s, fd, true, addr, len);
}

int kite_getpeername(struct kite_sockets *s, int fd, struct kite_sockaddr *addr,
                     kite_socklen_t *len)
{
    return name_of(s, fd, false, addr, len);
}

/* ---- Receiving ----------------------------------------------------------------------------- */

static ssize_t recv_errno(enum kite_err err)
{
    switch (err) {
    case KITE_ERR_CLOSED:
        return 0; /* end of stream */
    case KITE_ERR_TIMEOUT:
    case KITE_ERR_WOULDBLOCK:
        return fail(EAGAIN);
    default:
        return fail(errno_of(err));
    }
}

/* TCP: one stack call copies what is queued (WAITALL: waits until buf is full). */
static ssize_t recv_stream(struct sock_ref *ref, uint8_t *buf, size_t len, int flags)
{
    uint8_t f = (uint8_t)(((flags & KITE_MSG_DONTWAIT) ? KITE_NC_DONTWAIT : 0u) |
                          ((flags & KITE_MSG_PEEK) ? KITE_NC_PEEK : 0u) |
                          ((flags & KITE_MSG_WAITALL) ? KITE_NC_WAITALL : 0u));
    size_t got = 0;
    enum kite_err err = kite_netconn_read(ref->c, buf, len, f, &got);
    return err == KITE_ERR_OK ? (ssize_t)got : recv_errno(err);
}

/* IP_PKTINFO as Linux's put_cmsg writes it: the header and as much of the
 * data as fits (MSG_CTRUNC if not all); msg_controllen says the space used,
 * CMSG_SPACE when the buffer has it. */
static void put_pktinfo(struct kite_msghdr *msg, const struct kite_addr *to)
{
    struct kite_in_pktinfo pi = {.ipi_ifindex = 1,
                                 .ipi_spec_dst = {kite_htonl(kite_addr_v4(to))},
                                 .ipi_addr = {kite_htonl(kite_addr_v4(to))}};
    size_t room = msg->msg_controllen, full = KITE_CMSG_LEN(sizeof pi);
    if (msg->msg_control == NULL || room < KITE_CMSG_LEN(0)) {
        msg->msg_flags |= KITE_MSG_CTRUNC;
        msg->msg_controllen = 0;
        return;
    }
    size_t len = room < full ? room : full;
    if (len < full)
        msg->msg_flags |= KITE_MSG_CTRUNC;
    struct kite_cmsghdr cm = {
        .cmsg_len = len, .cmsg_level = KITE_IPPROTO_IP, .cmsg_type = KITE_IP_PKTINFO};
    memcpy(msg->msg_control, &cm, sizeof cm);
    memcpy(KITE_CMSG_DATA(msg->msg_control), &pi, len - KITE_CMSG_LEN(0));
    size_t space = KITE_CMSG_SPACE(sizeof pi);
    msg->msg_controllen = room < space ? room : space;
}

/* UDP: one datagram; the rest of a longer one is lost (MSG_TRUNC). */
static ssize_t recv_dgram(struct sock_ref *ref, uint8_t *buf, size_t len, int flags,
                          struct kite_msghdr *msg, struct kite_addr *from, uint16_t *port)
{
    struct kite_pbuf *p;
    struct kite_addr to;
    uint8_t f = (flags & KITE_MSG_DONTWAIT) ? KITE_NC_DONTWAIT : 0;
    enum kite_err err = kite_netconn_recv_ex(ref->c, &p, from, port, &to, f);
    if (err == KITE_ERR_CLOSED && !closing(ref) && !f && !kite_netconn_is_nonblocking(ref->c))
        return 0; /* shut for reading: a blocking receive ends, as Linux's __skb_recv_udp */
    if (err != KITE_ERR_OK)
        return recv_errno(err == KITE_ERR_CLOSED ? KITE_ERR_WOULDBLOCK : err);
    size_t total = p->tot_len, n = len < total ? len : total;
    (void)kite_pbuf_copy_out(p, buf, (uint16_t)n, 0);
    if (msg != NULL) {
        msg->msg_flags = n < total ? KITE_MSG_TRUNC : 0;
        if (ref->sk->opts & SOPT_PKTINFO)
            put_pktinfo(msg, &to);
        else
            msg->msg_controllen = 0;
    }
    if (flags & KITE_MSG_PEEK)
        kite_netconn_unrecv(ref->c, p);
    else
        kite_netconn_free_pbuf(ref->c, p);
    return (ssize_t)((flags & KITE_MSG_TRUNC) ? total : n);
}

static ssize_t recv_common(struct kite_sockets *s, int fd, void *buf, size_t len, int flags,
                           struct kite_sockaddr *from, kite_socklen_t *fromlen,
                           struct kite_msghdr *msg)
{
    struct sock_ref ref;
    if (!hold(s, fd, &ref))
        return -1;
    ssize_t n;
    if (ref.sk->type == KITE_SOCK_STREAM) {
        n = recv_stream(&ref, buf, len, flags);
        if (msg != NULL) { /* as Linux: no control data, no flags (and no address) */
            msg->msg_controllen = 0;
            msg->msg_flags = 0;
        }
        if (fromlen != NULL)
            *fromlen = 0;
        if (n == 0 && len > 0 && closing(&ref))
            n = fail(EBADF); /* not the peer's EOF: close() from another thread */
    } else {
        struct kite_addr ip = KITE_ADDR_ANY4;
        uint16_t port = 0;
        n = recv_dgram(&ref, buf, len, flags, msg, &ip, &port);
        if (n >= 0)
            addr_to(&ip, port, from, fromlen);
        else if (errno == EAGAIN && closing(&ref))
            n = fail(EBADF); /* close() from another thread woke it */
    }
    release(&ref);
    return n;
}

ssize_t kite_recvfrom(struct kite_sockets *s, int fd, void *buf, size_t len, int flags,
                      struct kite_sockaddr *from, kite_socklen_t *fromlen)
{
    return recv_common(s, fd, buf, len, flags, from, fromlen, NULL);
}

ssize_t kite_recv(struct kite_sockets *s, int fd, void *buf, size_t len, int flags)
{
    return recv_common(s, fd, buf, len, flags, NULL, NULL, NULL);
}

ssize_t kite_read(struct kite_sockets *s, int fd, void *buf, size_t len)
{
    return recv_common(s, fd, buf, len, 0, NULL, NULL, NULL);
}

static int sock_type(struct kite_sockets *s, int fd);

/* A stream fills one iovec after the other; past the first, only with what
 * is there already (a short read ends it, as Linux's). */
static ssize_t recvmsg_stream(struct kite_sockets *s, int fd, struct kite_msghdr *msg, int flags)
{
    size_t total = 0;
    for (size_t i = 0; i < msg->msg_iovlen; i++) {
        struct kite_iovec *v = &msg->msg_iov[i];
        int f = i == 0 || (flags & KITE_MSG_WAITALL) ? flags : flags | KITE_MSG_DONTWAIT;
        ssize_t n = recv_common(s, fd, v->iov_base, v->iov_len, f, NULL, NULL, msg);
        if (n < 0)
            return total > 0 ? (ssize_t)total : -1;
        total += (size_t)n;
        if ((size_t)n < v->iov_len)
            break;
    }
    msg->msg_namelen = 0;
    return (ssize_t)total;
}

/* Scatter reads of datagrams fill one iovec after the other from a bounce buffer. */
#define GATHER_MAX 65536u

ssize_t kite_recvmsg(struct kite_sockets *s, int fd, struct kite_msghdr *msg, int flags)
{
    static_assert(GATHER_MAX >= 65507u, "a whole UDP datagram fits");
    if (msg == NULL || (msg->msg_iovlen > 0 && msg->msg_iov == NULL))
        return fail(EINVAL);
    size_t total = 0;
    for (size_t i = 0; i < msg->msg_iovlen; i++)
        total += msg->msg_iov[i].iov_len;
    if (msg->msg_iovlen == 1) {
        kite_socklen_t nl = msg->msg_namelen;
        ssize_t n = recv_common(s, fd, msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len, flags,
                                msg->msg_name, &nl, msg);
        msg->msg_namelen = nl;
        return n;
    }
    if (!(flags & KITE_MSG_PEEK) && sock_type(s, fd) == KITE_SOCK_STREAM)
        return recvmsg_stream(s, fd, msg, flags);
    uint8_t bounce[2048];
    size_t want = total < sizeof bounce ? total : sizeof bounce;
    kite_socklen_t nl = msg->msg_namelen;
    ssize_t n = recv_common(s, fd, bounce, want, flags, msg->msg_name, &nl, msg);
    msg->msg_namelen = nl;
    size_t off = 0;
    for (size_t i = 0; n > 0 && i < msg->msg_iovlen && off < (size_t)n; i++) {
        size_t k =
            msg->msg_iov[i].iov_len < (size_t)n - off ? msg->msg_iov[i].iov_len : (size_t)n - off;
        memcpy(msg->msg_iov[i].iov_base, bounce + off, k);
        off += k;
    }
    return n;
}

ssize_t kite_readv(struct kite_sockets *s, int fd, const struct kite_iovec *iov, int iovcnt)
{
    if (iovcnt < 0)
        return fail(EINVAL);
    struct kite_msghdr msg = {.msg_iov = (struct kite_iovec *)(uintptr_t)iov,
                              .msg_iovlen = (size_t)iovcnt};
    return kite_recvmsg(s, fd, &msg, 0);
}

/* ---- Sending ------------------------------------------------------------------------------- */

static ssize_t send_stream(struct sock_ref *ref, const void *buf, size_t len, int flags)
{
    uint8_t f = KITE_NC_COPY;
    if (flags & KITE_MSG_MORE)
        f |= KITE_NC_MORE;
    if (flags & KITE_MSG_DONTWAIT)
        f |= KITE_NC_DONTWAIT;
    size_t written = 0;
    enum kite_err err = kite_netconn_write(ref->c, buf, len, f, &written);
    if (written > 0 || len == 0)
        return (ssize_t)written;
    switch (err) {
    case KITE_ERR_NOTCONN: /* as Linux: never connected, or a listener */
    case KITE_ERR_CLOSED:
        return fail(EPIPE); /* no SIGPIPE here: MSG_NOSIGNAL is the only behaviour */
    case KITE_ERR_TIMEOUT:
    case KITE_ERR_WOULDBLOCK:
        return fail(EAGAIN);
    default:
        return fail(errno_of(err));
    }
}

static ssize_t send_dgram(struct sock_ref *ref, const void *buf, size_t len,
                          const struct kite_sockaddr *to, kite_socklen_t tolen, int flags)
{
    struct kite_addr ip;
    uint16_t port = 0;
    if (len > 65507u)
        return fail(EMSGSIZE);
    if (to != NULL) {
        int e = addr_from(to, tolen, &ip, &port);
        if (e != 0)
            return fail(e);
        if (port == 0 && ref->sk->type == KITE_SOCK_DGRAM)
            return fail(EINVAL); /* as Linux: no datagram to port 0 */
    }
    uint8_t f = (flags & KITE_MSG_MORE) ? KITE_NC_MORE : 0u; /* UDP corking, as Linux */
    enum kite_err err =
        kite_netconn_sendto_ex(ref->c, buf, (uint16_t)len, to != NULL ? &ip : NULL, port, f);
    if (err == KITE_ERR_OK)
        return (ssize_t)len;
    if (err == KITE_ERR_BUF)
        return fail(EMSGSIZE); /* what was held, and this, exceed a datagram */
    if (err == KITE_ERR_NOTCONN || (to == NULL && err == KITE_ERR_VAL))
        return fail(EDESTADDRREQ);
    if (err == KITE_ERR_CLOSED && !closing(ref))
        return fail(EPIPE); /* shutdown(SHUT_WR), as Linux's sock_alloc_send_pskb */
    return fail(err == KITE_ERR_MEM ? ENOMEM : err == KITE_ERR_VAL ? EACCES : errno_of(err));
}

ssize_t kite_sendto(struct kite_sockets *s, int fd, const void *buf, size_t len, int flags,
                    const struct kite_sockaddr *to, kite_socklen_t tolen)
{
    struct sock_ref ref;
    if (!hold(s, fd, &ref))
        return -1;
    ssize_t n;
    if (ref.sk->type == KITE_SOCK_STREAM)
        n = send_stream(&ref, buf, len, flags); /* the address is ignored, as Linux does */
    else
        n = send_dgram(&ref, buf, len, to, tolen, flags);
    release(&ref);
    return n;
}

ssize_t kite_send(struct kite_sockets *s, int fd, const void *buf, size_t len, int flags)
{
    return kite_sendto(s, fd, buf, len, flags, NULL, 0);
}

ssize_t kite_write(struct kite_sockets *s, int fd, const void *buf, size_t len)
{
    return kite_sendto(s, fd, buf, len, 0, NULL, 0);
}

static int sock_type(struct kite_sockets *s, int fd)
{
    struct sock_ref ref;
    if (!hold(s, fd, &ref))
        return -1;
    int type = ref.sk->type;
    release(&ref);
    return type;
}

/* A raw socket's pieces are gathered into one packet here (at most 2 KiB). */
static ssize_t sendmsg_gathered(struct kite_sockets *s, int fd, const struct kite_msghdr *msg,
                                int flags)
{
    uint8_t bounce[2048];
    size_t total = 0;
    for (size_t i = 0; i < msg->msg_iovlen; i++) {
        if (total + msg->msg_iov[i].iov_len > sizeof bounce)
            return fail(EMSGSIZE); /* (docs/api.md) */
        memcpy(bounce + total, msg->msg_iov[i].iov_base, msg->msg_iov[i].iov_len);
        total += msg->msg_iov[i].iov_len;
    }
    return kite_sendto(s, fd, bounce, total, flags, msg->msg_name, msg->msg_namelen);
}

/* A stream: small pieces are gathered into one bounce buffer, so headers
 * and the like leave as one segment; a piece too big for what is left of
 * it goes on its own. Everything but the last send carries MSG_MORE. The
 * first send that does not take everything (a non-blocking socket without
 * room) ends the call with what went. */
struct gather {
    struct kite_sockets *s;
    int fd, flags;
    uint8_t buf[2048];
    size_t used, total;
    bool failed; /* a send failed (errno set) */
};

/* Send buf (or the gathered bytes); false when the call ends here. */
static bool gather_send(struct gather *g, const void *data, size_t len, bool more)
{
    ssize_t n =
        kite_sendto(g->s, g->fd, data, len, more ? g->flags | KITE_MSG_MORE : g->flags, NULL, 0);
    if (n < 0) {
        g->failed = true;
        return false;
    }
    g->total += (size_t)n;
    return (size_t)n == len;
}

static ssize_t sendmsg_stream(struct kite_sockets *s, int fd, const struct kite_msghdr *msg,
                              int flags)
{
    struct gather g = {.s = s, .fd = fd, .flags = flags};
    for (size_t i = 0; i < msg->msg_iovlen; i++) {
        const struct kite_iovec *v = &msg->msg_iov[i];
        bool last = i + 1 == msg->msg_iovlen;
        if (g.used + v->iov_len <= sizeof g.buf) {
            memcpy(g.buf + g.used, v->iov_base, v->iov_len);
            g.used += v->iov_len;
            continue;
        }
        if (g.used > 0 && !gather_send(&g, g.buf, g.used, true))
            goto out;
        g.used = 0;
        if (v->iov_len > sizeof g.buf) {
            if (!gather_send(&g, v->iov_base, v->iov_len, !last))
                goto out;
        } else {
            memcpy(g.buf, v->iov_base, v->iov_len);
            g.used = v->iov_len;
        }
    }
    if (g.used > 0 || msg->msg_iovlen == 0)
        (void)gather_send(&g, g.buf, g.used, false);
out:
    return g.failed && g.total == 0 ? -1 : (ssize_t)g.total;
}

/* One iovec goes as it is; a stream gathers (above), a raw socket bounces;
 * UDP puts the pieces in its cork (MSG_MORE): one datagram with the last. */
ssize_t kite_sendmsg(struct kite_sockets *s, int fd, const struct kite_msghdr *msg, int flags)
{
    if (msg == NULL || (msg->msg_iovlen > 0 && msg->msg_iov == NULL))
        return fail(EINVAL);
    int type = sock_type(s, fd);
    if (type < 0)
        return -1;
    if (msg->msg_iovlen == 1)
        return kite_sendto(s, fd, msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len, flags,
                           msg->msg_name, msg->msg_namelen);
    if (type == KITE_SOCK_STREAM)
        return sendmsg_stream(s, fd, msg, flags);
    if (type == KITE_SOCK_RAW || msg->msg_iovlen == 0)
        return sendmsg_gathered(s, fd, msg, flags);
    size_t total = 0;
    for (size_t i = 0; i < msg->msg_iovlen; i++) {
        const struct kite_iovec *v = &msg->msg_iov[i];
        int f = i + 1 < msg->msg_iovlen ? flags | KITE_MSG_MORE : flags;
        ssize_t n = kite_sendto(s, fd, v->iov_base, v->iov_len, f, msg->msg_name, msg->msg_namelen);
        if (n < 0)
            return -1;
        total += (size_t)n;
    }
    return (ssize_t)total;
}

ssize_t kite_writev(struct kite_sockets *s, int fd, const struct kite_iovec *iov, int iovcnt)
{
    if (iovcnt < 0)
        return fail(EINVAL);
    struct kite_msghdr msg = {.msg_iov = (struct kite_iovec *)(uintptr_t)iov,
                              .msg_iovlen = (size_t)iovcnt};
    return kite_sendmsg(s, fd, &msg, 0);
}

/* ---- Options (one core call each: the pcbs are touched with the stack to itself) ----------- */

struct opt_req {
    struct sock_ref *ref;
    int level, name;
    void *val;
    kite_socklen_t *len;
    bool set;
    int err;
};

static int int_in(const struct opt_req *o, int *v)
{
    if (*o->len < sizeof(int))
        return EINVAL;
    memcpy(v, o->val, sizeof(int));
    return 0;
}

static void out(struct opt_req *o, const void *v, size_t size)
{
    size_t n = *o->len < size ? *o->len : size;
    memcpy(o->val, v, n);
    *o->len = (kite_socklen_t)n;
}

static void int_out(struct opt_req *o, int v)
{
    out(o, &v, sizeof v);
}

/* A flag of the socket: set it from the value, or report it. */
static int flag_opt(struct opt_req *o, uint8_t bit)
{
    struct kite_socket *sk = o->ref->sk;
    if (!o->set) {
        int_out(o, (sk->opts & bit) ? 1 : 0);
        return 0;
    }
    int v;
    int e = int_in(o, &v);
    if (e == 0)
        sk->opts = (uint8_t)(v ? (sk->opts | bit) : (sk->opts & ~bit));
    return e;
}

/* The TCP connection pcb (not a listener), NULL when there is none. */
static struct kite_tcp_pcb *tcp_of(const struct opt_req *o)
{
    const struct kite_netconn *c = o->ref->c;
    if (o->ref->sk->type != KITE_SOCK_STREAM || c->pcb.any == NULL || kite__netconn_listening(c))
        return NULL;
    return c->pcb.tcp;
}

static struct kite_udp_pcb *udp_of(const struct opt_req *o)
{
    return o->ref->sk->type == KITE_SOCK_DGRAM ? o->ref->c->pcb.udp : NULL;
}

/* RFC 1122 4.2.3.6 keepalive from SO_KEEPALIVE and the TCP_KEEP* values. */
static int apply_keepalive(struct opt_req *o)
{
    struct kite_socket *sk = o->ref->sk;
    struct kite_tcp_pcb *pcb = tcp_of(o);
    bool on = (sk->opts & SOPT_KEEPALIVE) != 0;
    if (pcb == NULL)
        return 0;
    enum kite_err err = kite_tcp_set_keepalive(pcb, on ? sk->keep_idle * 1000u : 0,
                                               sk->keep_intvl * 1000u, on ? sk->keep_cnt : 0);
    return err == KITE_ERR_OK ? 0 : ENOMEM; /* every keepalive setting of the stack taken */
}

static int timeval_opt(struct opt_req *o)
{
    struct kite_netconn *c = o->ref->c;
    bool rcv = o->name == KITE_SO_RCVTIMEO;
    if (!o->set) {
        uint32_t ms = kite__netconn_timeout(c, rcv);
        struct kite_timeval tv = {(long)(ms / 1000u), (long)(ms % 1000u) * 1000};
        out(o, &tv, sizeof tv);
        return 0;
    }
    struct kite_timeval tv;
    if (*o->len < sizeof tv)
        return EINVAL;
    memcpy(&tv, o->val, sizeof tv);
    if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
        return EDOM; /* Linux's answer to an impossible time */
    uint64_t ms =
        tv.tv_sec < 0 ? 0 : (uint64_t)tv.tv_sec * 1000u + ((uint64_t)tv.tv_usec + 999u) / 1000u;
    uint32_t v = ms > 0x7fffffffu ? 0x7fffffffu : (uint32_t)ms;
    kite__netconn_set_timeouts(c, rcv ? v : kite__netconn_timeout(c, true),
                               rcv ? kite__netconn_timeout(c, false) : v);
    return 0;
}

static int linger_opt(struct opt_req *o)
{
    struct kite_socket *sk = o->ref->sk;
    struct kite_linger l;
    if (!o->set) {
        l.l_onoff = sk->linger_s >= 0;
        l.l_linger = sk->linger_s >= 0 ? sk->linger_s : 0;
        out(o, &l, sizeof l);
        return 0;
    }
    if (*o->len < sizeof l)
        return EINVAL;
    memcpy(&l, o->val, sizeof l);
    int secs = l.l_linger < 0 ? 0 : l.l_linger > 32767 ? 32767 : l.l_linger;
    sk->linger_s = (int16_t)(l.l_onoff ? secs : -1);
    sk->opts =
        (uint8_t)(sk->linger_s == 0 ? (sk->opts | SOPT_LINGER0) : (sk->opts & ~SOPT_LINGER0));
    return 0;
}

/* SO_RCVBUF / SO_SNDBUF: the TCP buffers, settable until the connection
 * opens; what is reported is what the connection has (Linux reports double). */
static int buffer_opt(struct opt_req *o)
{
    struct kite_tcp_pcb *pcb = tcp_of(o);
    bool rcv = o->name == KITE_SO_RCVBUF;
    uint32_t snd = KITE_TCP_SND_BUF, rcvb = KITE_TCP_RCV_BUF;
    if (pcb != NULL)
        kite_tcp_get_buffers(pcb, &snd, &rcvb);
    else if (o->ref->sk->type != KITE_SOCK_STREAM)
        snd = rcvb = KITE_NETCONN_UDP_QUEUE * 1472u; /* the datagrams a socket queues */
    if (!o->set) {
        int_out(o, (int)(rcv ? rcvb : snd));
        return 0;
    }
    int v;
    int e = int_in(o, &v);
    if (e != 0 || pcb == NULL || kite_tcp_get_state(pcb) != KITE_TCP_CLOSED)
        return e; /* UDP, or a connection already open: accepted, unchanged */
    uint32_t b = v < 1072 ? 1072u : (uint32_t)v;
    return kite_tcp_set_buffers(pcb, rcv ? snd : b, rcv ? b : rcvb) == KITE_ERR_OK ? 0 : EINVAL;
}

/* SO_ERROR: a reset answering the SYN is ECONNREFUSED; a pending CLOSED is
 * a reset after the peer's FIN (netconn.c tcp_err_cb), EPIPE. */
static int error_opt(struct opt_req *o)
{
    bool connecting;
    enum kite_err err = kite__netconn_take_error(o->ref->c, &connecting);
    int e = err == KITE_ERR_OK                    ? 0
            : connecting && err == KITE_ERR_RESET ? ECONNREFUSED
            : err == KITE_ERR_CLOSED              ? EPIPE
                                                  : errno_of(err);
    int_out(o, e);
    return 0;
}

static int udp_flag_opt(struct opt_req *o, uint8_t flag)
{
    struct kite_udp_pcb *pcb = udp_of(o);
    if (pcb == NULL) { /* TCP: accepted and meaningless, as on Linux */
        if (!o->set)
            int_out(o, 0);
        return 0;
    }
    if (!o->set) {
        int_out(o, (pcb->flags & flag) ? 1 : 0);
        return 0;
    }
    int v;
    int e = int_in(o, &v);
    if (e == 0)
        kite_udp_set_flags(pcb, flag, v != 0);
    return e;
}

static int read_only_opt(struct opt_req *o)
{
    if (o->set)
        return ENOPROTOOPT;
    switch (o->name) {
    case KITE_SO_TYPE:
        int_out(o, o->ref->sk->type);
        return 0;
    case KITE_SO_ACCEPTCONN:
        int_out(o, kite__netconn_listening(o->ref->c) ? 1 : 0);
        return 0;
    default:
        return error_opt(o);
    }
}

static int socket_level(struct opt_req *o)
{
    switch (o->name) {
    case KITE_SO_REUSEADDR: { /* TCP: TIME_WAIT never blocks a bind in kite anyway */
        int e = flag_opt(o, SOPT_REUSEADDR);
        if (e == 0 && o->set && udp_of(o) != NULL)
            kite_udp_set_flags(udp_of(o), KITE_UDP_FLAG_REUSEADDR,
                               (o->ref->sk->opts & SOPT_REUSEADDR) != 0);
        return e;
    }
    case KITE_SO_KEEPALIVE: {
        int e = flag_opt(o, SOPT_KEEPALIVE);
        return e == 0 && o->set ? apply_keepalive(o) : e;
    }
    case KITE_SO_BROADCAST:
        return udp_flag_opt(o, KITE_UDP_FLAG_BROADCAST);
    case KITE_SO_NO_CHECK:
        return udp_flag_opt(o, KITE_UDP_FLAG_NO_CHECKSUM);
    case KITE_SO_RCVBUF:
    case KITE_SO_SNDBUF:
        return buffer_opt(o);
    case KITE_SO_RCVTIMEO:
    case KITE_SO_SNDTIMEO:
        return timeval_opt(o);
    case KITE_SO_LINGER:
        return linger_opt(o);
    case KITE_SO_TYPE:
    case KITE_SO_ERROR:
    case KITE_SO_ACCEPTCONN:
        return read_only_opt(o);
    default:
        return ENOPROTOOPT;
    }
}

/* IP_TOS / IP_TTL on a UDP pcb's fields (TCP keeps the stack's defaults). */
static int ip_byte_opt(struct opt_req *o, bool tos)
{
    struct kite_udp_pcb *pcb = udp_of(o);
    uint8_t cur = pcb == NULL ? (tos ? 0u : KITE_IPV4_DEFAULT_TTL) : tos ? pcb->tos : pcb->ttl;
    if (!o->set) {
        int_out(o, cur);
        return 0;
    }
    int v;
    int e = int_in(o, &v);
    if (e == 0 && !tos && v == -1)
        v = KITE_IPV4_DEFAULT_TTL; /* as Linux: -1 is the default */
    if (e != 0 || v < (tos ? 0 : 1) || v > 255)
        return e != 0 ? e : EINVAL;
    if (pcb != NULL) {
        if (tos)
            pcb->tos = (uint8_t)v;
        else
            pcb->ttl = (uint8_t)v;
    }
    return 0;
}

/* ---- Multicast options (docs/multicast.md) --------------------------------------------- */

/* IP_MULTICAST_TTL/LOOP/ALL take an int or, shorter, one byte (Linux's
 * ip_setsockopt), and report a byte when asked with less than an int. */
static int byte_or_int_in(const struct opt_req *o, int *v)
{
    if (*o->len >= sizeof(int))
        return int_in(o, v);
    if (*o->len < 1)
        return EINVAL;
    *v = *(const uint8_t *)o->val;
    return 0;
}

static void byte_or_int_out(struct opt_req *o, int v)
{
    if (*o->len < sizeof(int) && *o->len > 0) {
        uint8_t b = (uint8_t)v;
        out(o, &b, 1);
        return;
    }
    int_out(o, v);
}

static struct kite_stack *stack_of(const struct opt_req *o)
{
    return o->ref->s->tcpip->stack;
}

/* The netif of an ip_mreqn-style request (Linux's ip_mc_find_dev): by index,
 * else by address, else where the group routes. */
static struct kite_netif *mcast_dev(struct kite_stack *stack, uint32_t group, uint32_t addr,
                                    int ifindex)
{
    for (struct kite_netif *n = stack->netifs; n != NULL; n = n->next) {
        if (ifindex != 0 ? n->index == ifindex
                         : addr != 0 && !kite_addr_is_any(&n->ip4) && n->ip4.u.v4 == addr)
            return n;
    }
    return ifindex != 0 || addr != 0 ? NULL : kite_ipv4_route(stack, group);
}

static int mcast_ttl_loop_all(struct opt_req *o, struct kite_udp_pcb *pcb)
{
    uint8_t flag = o->name == KITE_IP_MULTICAST_LOOP ? KITE_UDP_FLAG_NO_MCAST_LOOP
                                                     : KITE_UDP_FLAG_NO_MCAST_ALL;
    if (!o->set) {
        int v = o->name == KITE_IP_MULTICAST_TTL ? (pcb != NULL ? pcb->mcast_ttl : 1)
                : pcb != NULL                    ? (pcb->flags & flag) == 0
                                                 : 1;
        if (o->name == KITE_IP_MULTICAST_ALL)
            int_out(o, v);
        else
            byte_or_int_out(o, v);
        return 0;
    }
    int v;
    int e = byte_or_int_in(o, &v);
    if (e != 0)
        return e;
    if (o->name == KITE_IP_MULTICAST_TTL) {
        if (o->ref->sk->type == KITE_SOCK_STREAM)
            return EINVAL;
        v = v == -1 ? 1 : v; /* as Linux: -1 is the default */
        if (v < 0 || v > 255)
            return EINVAL;
        if (pcb != NULL)
            pcb->mcast_ttl = (uint8_t)v;
        return 0;
    }
    if (o->name == KITE_IP_MULTICAST_ALL && v != 0 && v != 1)
        return EINVAL;
    if (pcb != NULL)
        kite_udp_set_flags(pcb, flag, v == 0);
    return 0;
}

static int mcast_if(struct opt_req *o, struct kite_udp_pcb *pcb)
{
    struct kite_stack *stack = stack_of(o);
    if (!o->set) {
        struct kite_in_addr a = {0};
        for (struct kite_netif *n = stack->netifs; pcb != NULL && n != NULL; n = n->next)
            if (n->index == pcb->mcast_ifindex)
                a.s_addr = kite_htonl(n->ip4.u.v4);
        out(o, &a, sizeof a);
        return 0;
    }
    if (o->ref->sk->type == KITE_SOCK_STREAM)
        return EINVAL;
    struct kite_ip_mreqn m = {0};
    if (*o->len < sizeof(struct kite_in_addr))
        return EINVAL;
    if (*o->len >= sizeof m)
        memcpy(&m, o->val, sizeof m);
    else if (*o->len >= sizeof(struct kite_ip_mreq))
        memcpy(&m, o->val, sizeof(struct kite_ip_mreq));
    else
        memcpy(&m.imr_address, o->val, sizeof m.imr_address);
    uint32_t addr = kite_ntohl(m.imr_address.s_addr);
    struct kite_netif *n = NULL;
    if (m.imr_ifindex != 0 || addr != 0) {
        n = mcast_dev(stack, 0, addr, m.imr_ifindex);
        if (n == NULL)
            return EADDRNOTAVAIL;
    }
    if (pcb != NULL)
        kite_udp_set_multicast_netif(pcb, n);
    return 0;
}

#if KITE_IGMP
/* IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP with an ip_mreq or ip_mreqn. */
static int mcast_membership(struct opt_req *o, struct kite_udp_pcb *pcb)
{
    struct kite_ip_mreqn m = {0};
    if (*o->len < sizeof(struct kite_ip_mreq))
        return EINVAL;
    memcpy(&m, o->val, *o->len >= sizeof m ? sizeof m : sizeof(struct kite_ip_mreq));
    uint32_t group = kite_ntohl(m.imr_multiaddr.s_addr);
    if (!kite_ip4_is_multicast(group))
        return EINVAL;
    struct kite_netif *n =
        mcast_dev(stack_of(o), group, kite_ntohl(m.imr_address.s_addr), m.imr_ifindex);
    if (n == NULL)
        return ENODEV;
    enum kite_err err = o->name == KITE_IP_ADD_MEMBERSHIP ? kite_igmp_join(n, pcb, group)
                                                          : kite_igmp_leave(n, pcb, group);
    return err == KITE_ERR_OK         ? 0
           : err == KITE_ERR_INUSE    ? EADDRINUSE
           : err == KITE_ERR_NOTFOUND ? EADDRNOTAVAIL
           : err == KITE_ERR_MEM      ? ENOBUFS
                                      : EINVAL;
}

/* IP_ADD/DROP_SOURCE_MEMBERSHIP (INCLUDE), IP_BLOCK/UNBLOCK_SOURCE (EXCLUDE). */
static int mcast_source(struct opt_req *o, struct kite_udp_pcb *pcb)
{
    struct kite_ip_mreq_source m;
    if (*o->len != sizeof m)
        return EINVAL;
    memcpy(&m, o->val, sizeof m);
    uint32_t group = kite_ntohl(m.imr_multiaddr.s_addr), src = kite_ntohl(m.imr_sourceaddr.s_addr);
    if (!kite_ip4_is_multicast(group))
        return EINVAL;
    struct kite_stack *stack = stack_of(o);
    struct kite_netif *n = mcast_dev(stack, group, kite_ntohl(m.imr_interface.s_addr), 0);
    if (n == NULL)
        return ENODEV;
    bool incl =
        o->name == KITE_IP_ADD_SOURCE_MEMBERSHIP || o->name == KITE_IP_DROP_SOURCE_MEMBERSHIP;
    bool add = o->name == KITE_IP_ADD_SOURCE_MEMBERSHIP || o->name == KITE_IP_BLOCK_SOURCE;
    if (kite_igmp_owner_admits(stack, pcb, n, group, src) < 0 &&
        o->name != KITE_IP_ADD_SOURCE_MEMBERSHIP)
        return EINVAL; /* Linux: "must have a prior join" */
    enum kite_err err =
        kite_igmp_source(n, pcb, group, src, incl ? KITE_IGMP_INCLUDE : KITE_IGMP_EXCLUDE, add);
    return err == KITE_ERR_OK                                  ? 0
           : err == KITE_ERR_INUSE || err == KITE_ERR_NOTFOUND ? EADDRNOTAVAIL
           : err == KITE_ERR_MEM                               ? ENOBUFS
                                                               : EINVAL;
}

#endif

static int mcast_opt(struct opt_req *o)
{
    struct kite_udp_pcb *pcb = udp_of(o);
    switch (o->name) {
    case KITE_IP_MULTICAST_TTL:
    case KITE_IP_MULTICAST_LOOP:
    case KITE_IP_MULTICAST_ALL:
        return mcast_ttl_loop_all(o, pcb);
    case KITE_IP_MULTICAST_IF:
        return mcast_if(o, pcb);
    default:
        break;
    }
    /* Memberships: set only; a UDP socket's (Linux: EPROTO on TCP). */
    if (!o->set)
        return ENOPROTOOPT;
    if (o->ref->sk->type == KITE_SOCK_STREAM)
        return EPROTO;
#if KITE_IGMP
    if (pcb == NULL)
        return ENOPROTOOPT; /* raw sockets do not join in kite */
    if (o->name == KITE_IP_ADD_MEMBERSHIP || o->name == KITE_IP_DROP_MEMBERSHIP)
        return mcast_membership(o, pcb);
    return mcast_source(o, pcb);
#else
    return ENOPROTOOPT; /* no IGMP: no memberships */
#endif
}

static int ip_level(struct opt_req *o)
{
    switch (o->name) {
    case KITE_IP_TOS:
    case KITE_IP_TTL:
        return ip_byte_opt(o, o->name == KITE_IP_TOS);
    case KITE_IP_PKTINFO:
        return flag_opt(o, SOPT_PKTINFO);
    case KITE_IP_MULTICAST_IF:
    case KITE_IP_MULTICAST_TTL:
    case KITE_IP_MULTICAST_LOOP:
    case KITE_IP_MULTICAST_ALL:
    case KITE_IP_ADD_MEMBERSHIP:
    case KITE_IP_DROP_MEMBERSHIP:
    case KITE_IP_ADD_SOURCE_MEMBERSHIP:
    case KITE_IP_DROP_SOURCE_MEMBERSHIP:
    case KITE_IP_BLOCK_SOURCE:
    case KITE_IP_UNBLOCK_SOURCE:
        return mcast_opt(o);
    default:
        return ENOPROTOOPT;
    }
}

/* A TCP_KEEP* value: seconds (TCP_KEEPALIVE: ESP-IDF's milliseconds). */
static int keep_opt(struct opt_req *o)
{
    struct kite_socket *sk = o->ref->sk;
    int v = 0;
    if (!o->set) {
        v = o->name == KITE_TCP_KEEPIDLE    ? sk->keep_idle
            : o->name == KITE_TCP_KEEPINTVL ? sk->keep_intvl
            : o->name == KITE_TCP_KEEPCNT   ? sk->keep_cnt
                                            : sk->keep_idle * 1000;
        int_out(o, v);
        return 0;
    }
    int e = int_in(o, &v);
    int most = o->name == KITE_TCP_KEEPCNT ? 127 : o->name == KITE_TCP_KEEPALIVE ? 32767000 : 32767;
    if (e != 0 || v < 1 || v > most)
        return e != 0 ? e : EINVAL;
    if (o->name == KITE_TCP_KEEPIDLE)
        sk->keep_idle = (uint16_t)v;
    else if (o->name == KITE_TCP_KEEPINTVL)
        sk->keep_intvl = (uint16_t)v;
    else if (o->name == KITE_TCP_KEEPCNT)
        sk->keep_cnt = (uint8_t)v;
    else
        sk->keep_idle = (uint16_t)((v + 999) / 1000);
    return apply_keepalive(o);
}

/* A TCP flag the socket remembers and its pcb applies (when it has one). */
static int pcb_flag_opt(struct opt_req *o, uint8_t bit,
                        void (*apply)(struct kite_tcp_pcb *pcb, bool on))
{
    int e = flag_opt(o, bit);
    struct kite_tcp_pcb *pcb = tcp_of(o);
    if (e == 0 && o->set && pcb != NULL)
        apply(pcb, (o->ref->sk->opts & bit) != 0);
    return e;
}

static int tcp_level(struct opt_req *o)
{
    if (o->ref->sk->type != KITE_SOCK_STREAM)
        return o->set ? ENOPROTOOPT : EOPNOTSUPP; /* Linux's two answers */
    switch (o->name) {
    case KITE_TCP_NODELAY:
        return pcb_flag_opt(o, SOPT_NODELAY, kite_tcp_set_nodelay);
    case KITE_TCP_CORK:
        return pcb_flag_opt(o, SOPT_CORK, kite_tcp_set_cork);
    case KITE_TCP_KEEPIDLE:
    case KITE_TCP_KEEPINTVL:
    case KITE_TCP_KEEPCNT:
    case KITE_TCP_KEEPALIVE:
        return keep_opt(o);
    default:
        return ENOPROTOOPT;
    }
}

static void opt_core(void *arg)
{
    struct opt_req *o = arg;
    if (o->level == KITE_SOL_SOCKET)
        o->err = socket_level(o);
    else if (o->level == KITE_IPPROTO_IP)
        o->err = ip_level(o);
    else if (o->level == KITE_IPPROTO_TCP)
        o->err = tcp_level(o);
    else
        o->err = o->set ? ENOPROTOOPT : EOPNOTSUPP; /* Linux's ip_setsockopt / ip_getsockopt */
    kite__netconn_touch(o->ref->c); /* SO_SNDBUF, SO_ERROR... may change its readiness */
}

static int sockopt(struct kite_sockets *s, int fd, int level, int name, void *val,
                   kite_socklen_t *len, bool set)
{
    struct sock_ref ref;
    if (!hold(s, fd, &ref))
        return -1;
    struct opt_req o = {&ref, level, name, val, len, set, 0};
    if (val == NULL || len == NULL)
        o.err = EFAULT;
    else if (*len > (kite_socklen_t)INT32_MAX)
        o.err = EINVAL; /* a negative int, as Linux sees it */
    else if (kite_tcpip_call(s->tcpip, opt_core, &o) != KITE_ERR_OK)
        o.err = ENOMEM;
    release(&ref);
    return o.err == 0 ? 0 : fail(o.err);
}

int kite_getsockopt(struct kite_sockets *s, int fd, int level, int name, void *val,
                    kite_socklen_t *len)
{
    return sockopt(s, fd, level, name, val, len, false);
}

int kite_setsockopt(struct kite_sockets *s, int fd, int level, int name, const void *val,
                    kite_socklen_t len)
{
    kite_socklen_t l = len;
    return sockopt(s, fd, level, name, (void *)(uintptr_t)val, &l, true);
}

/* ---- fcntl, ioctl --------------------------------------------------------------------------- */

struct shut_req {
    struct kite_netconn *c;
    uint8_t shut;
};

static void shut_core(void *arg)
{
    struct shut_req *r = arg;
    r->shut = kite__netconn_shut(r->c);
}

/* lwIP's (and ESP-IDF's) F_GETFL: the access mode says which directions of a
 * TCP connection are still open. */
static int access_mode(struct sock_ref *ref)
{
    if (ref->sk->type != KITE_SOCK_STREAM)
        return KITE_O_RDWR;
    struct shut_req r = {ref->c, 0};
    (void)kite_tcpip_call(ref->s->tcpip, shut_core, &r);
    if (r.shut & KITE_NC_SHUT_TX)
        return KITE_O_RDONLY;
    return (r.shut & KITE_NC_SHUT_RX) ? KITE_O_WRONLY : KITE_O_RDWR;
}

int kite_fcntl(struct kite_sockets *s, int fd, int cmd, int val)
{
    struct sock_ref ref;
    if (!hold(s, fd, &ref))
        return -1;
    int r = 0;
    if (cmd == KITE_F_GETFL)
        r = access_mode(&ref) | (kite_netconn_is_nonblocking(ref.c) ? KITE_O_NONBLOCK : 0);
    else if (cmd == KITE_F_SETFL)
        kite_netconn_set_nonblocking(ref.c, (val & KITE_O_NONBLOCK) != 0);
    else
        r = fail(EINVAL);
    release(&ref);
    return r;
}

struct fionread_req {
    struct kite_netconn *c;
    bool dgram;
    size_t n;
    int err;
};

/* FIONREAD: the bytes queued (UDP: the next datagram's); Linux's tcp_ioctl
 * refuses it on a listener with EINVAL. */
static void fionread_core(void *arg)
{
    struct fionread_req *r = arg;
    if (kite__netconn_listening(r->c))
        r->err = EINVAL;
    else
        r->n = kite__netconn_pending(r->c, r->dgram);
}

static int fionread(struct sock_ref *ref, void *argp)
{
    struct fionread_req r = {ref->c, ref->sk->type != KITE_SOCK_STREAM, 0, 0};
    if (kite_tcpip_call(ref->s->tcpip, fionread_core, &r) != KITE_ERR_OK)
        return fail(ENOMEM);
    if (r.err != 0)
        return fail(r.err);
    int v = r.n > 0x7fffffff ? 0x7fffffff : (int)r.n;
    memcpy(argp, &v, sizeof v);
    return 0;
}

int kite_ioctl(struct kite_sockets *s, int fd, unsigned long req, void *argp)
{
    struct sock_ref ref;
    if (!hold(s, fd, &ref))
        return -1;
    int r = 0;
    if (argp == NULL) {
        r = fail(EFAULT);
    } else if (req == KITE_FIONREAD) {
        r = fionread(&ref, argp);
    } else if (req == KITE_FIONBIO) {
        int v;
        memcpy(&v, argp, sizeof v);
        kite_netconn_set_nonblocking(ref.c, v != 0);
    } else {
        r = fail(ENOTTY);
    }
    release(&ref);
    return r;
}

/* ---- select, poll ------------------------------------------------------------------------------
 */

/* Wait on up to KITE_SOCKET_COUNT held sockets. */
static unsigned wait_sockets(struct sock_ref *refs, const uint8_t *want, uint8_t *got, unsigned n,
                             uint32_t ms)
{
    struct kite_netconn *conns[KITE_SOCKET_COUNT] = {NULL};
    for (unsigned i = 0; i < n; i++)
        conns[i] = refs[i].c;
    return kite_netconn_wait(conns, want, got, n, ms);
}

static uint32_t timeval_ms(const struct kite_timeval *tv)
{
    if (tv == NULL)
        return KITE_OS_FOREVER;
    uint64_t ms = (uint64_t)tv->tv_sec * 1000u + ((uint64_t)tv->tv_usec + 999u) / 1000u;
    return ms >= KITE_OS_FOREVER ? KITE_OS_FOREVER - 1u : (uint32_t)ms;
}

static void release_all(struct sock_ref *refs, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        release(&refs[i]);
}

int kite_select(struct kite_sockets *s, int nfds, kite_fd_set *rd, kite_fd_set *wr, kite_fd_set *ex,
                struct kite_timeval *timeout)
{
    struct sock_ref refs[KITE_SOCKET_COUNT];
    uint8_t want[KITE_SOCKET_COUNT], got[KITE_SOCKET_COUNT];
    int fds[KITE_SOCKET_COUNT];
    unsigned n = 0;
    if (nfds < 0 || nfds > KITE_FD_SETSIZE ||
        (timeout != NULL && (timeout->tv_sec < 0 || timeout->tv_usec < 0)))
        return fail(EINVAL);
    for (int fd = KITE_SOCKET_OFFSET; fd < nfds; fd++) {
        uint8_t w = (uint8_t)((rd && KITE_FD_ISSET(fd, rd) ? KITE_NC_READABLE : 0u) |
                              (wr && KITE_FD_ISSET(fd, wr) ? KITE_NC_WRITABLE : 0u) |
                              (ex && KITE_FD_ISSET(fd, ex) ? KITE_NC_ERROR : 0u));
        if (w == 0)
            continue;
        if (!hold(s, fd, &refs[n])) {
            release_all(refs, n);
            return -1; /* EBADF */
        }
        want[n] = w;
        fds[n++] = fd;
    }
    uint32_t ms = timeval_ms(timeout);
    if (n > 0)
        (void)wait_sockets(refs, want, got, n, ms);
    else if (ms != 0) { /* nothing to watch: select as a sleep */
        struct kite_os_sem nap;
        if (kite_os_sem_init(&nap, 0) == KITE_ERR_OK) {
            (void)kite_os_sem_wait(&nap, ms);
            kite_os_sem_destroy(&nap);
        }
    }
    release_all(refs, n);
    int count = 0;
    if (rd)
        KITE_FD_ZERO(rd);
    if (wr)
        KITE_FD_ZERO(wr);
    if (ex)
        KITE_FD_ZERO(ex);
    for (unsigned i = 0; i < n; i++) {
        bool readable = (got[i] & (KITE_NC_READABLE | KITE_NC_HUP)) != 0; /* as Linux */
        if (rd && (want[i] & KITE_NC_READABLE) && readable && ++count)
            KITE_FD_SET(fds[i], rd);
        if (wr && (want[i] & got[i] & KITE_NC_WRITABLE) && ++count)
            KITE_FD_SET(fds[i], wr);
        if (ex && (want[i] & got[i] & KITE_NC_ERROR) && ++count)
            KITE_FD_SET(fds[i], ex);
    }
    return count;
}

static short revents_of(short events, uint8_t got)
{
    short r = 0;
    if ((events & KITE_POLLIN) && (got & KITE_NC_READABLE))
        r |= KITE_POLLIN;
    if ((events & KITE_POLLOUT) && (got & KITE_NC_WRITABLE))
        r |= KITE_POLLOUT;
    if (got & KITE_NC_ERROR)
        r |= KITE_POLLERR;
    if (got & KITE_NC_HUP)
        r |= KITE_POLLHUP;
    return r;
}

int kite_poll(struct kite_sockets *s, struct kite_pollfd *fds, unsigned nfds, int timeout_ms)
{
    struct sock_ref refs[KITE_SOCKET_COUNT];
    uint8_t want[KITE_SOCKET_COUNT], got[KITE_SOCKET_COUNT];
    unsigned idx[KITE_SOCKET_COUNT], n = 0;
    int count = 0;
    if (fds == NULL && nfds > 0)
        return fail(EFAULT);
    for (unsigned i = 0; i < nfds; i++) {
        fds[i].revents = 0;
        if (fds[i].fd < 0)
            continue; /* ignored, as POSIX says */
        if (n == KITE_SOCKET_COUNT || !hold(s, fds[i].fd, &refs[n])) {
            fds[i].revents = KITE_POLLNVAL;
            count++;
            continue;
        }
        want[n] = (uint8_t)(((fds[i].events & KITE_POLLIN) ? KITE_NC_READABLE : 0u) |
                            ((fds[i].events & KITE_POLLOUT) ? KITE_NC_WRITABLE : 0u));
        idx[n++] = i;
    }
    uint32_t ms = count > 0 ? 0 : timeout_ms < 0 ? KITE_OS_FOREVER : (uint32_t)timeout_ms;
    if (n > 0)
        (void)wait_sockets(refs, want, got, n, ms);
    release_all(refs, n);
    for (unsigned k = 0; k < n; k++) {
        fds[idx[k]].revents = revents_of(fds[idx[k]].events, got[k]);
        count += fds[idx[k]].revents != 0;
    }
    return count;
}
