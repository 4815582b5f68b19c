/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Descriptors of kite sockets, and the mirror of their readiness
 * (preload.h). A kite socket's descriptor is A, one end of a Unix stream
 * pair; we keep a copy of A and the other end, B. The stack thread reports
 * each change of a socket's readiness (kr_on_events) and the mirror follows:
 *   readable    one byte B -> A while readable; drained from A when not;
 *   writable    A's send buffer is filled (A -> B) while not writable,
 *               B drained when writable again;
 *   end of data the peer's FIN: B shuts for writing (A: EOF, POLLRDHUP);
 *   hung up     gone for good (reset, both ways shut): B shuts for reading
 *               too (A: POLLHUP).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "preload.h"

/* A's send buffer (the kernel doubles it): small, so filling it is cheap,
 * yet roomy enough that the byte a writer's wait leaves in B does not make
 * A unwritable (Unix sockets count each queued buffer's whole size). */
#define A_SNDBUF 8192

static _Atomic(struct kr_sock *) *map; /* by descriptor */
static _Atomic int map_size;           /* read without map_lock (kr_lookup, kr_fd_limit) */
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kr_sock socks[KITE_SOCKET_COUNT];     /* by kite socket number */
static struct kr_sock *by_conn[KITE_NETCONN_COUNT]; /* by netconn index, for the reports */

int kr_fd_limit(void)
{
    return map_size;
}

struct kr_sock *kr_lookup(int fd)
{
    _Atomic(struct kr_sock *) *m = __atomic_load_n(&map, __ATOMIC_ACQUIRE);
    if (m == NULL || fd < 0 || fd >= map_size)
        return NULL;
    return atomic_load_explicit(&m[fd], memory_order_acquire);
}

/* The table, made on first use: as many entries as the descriptor limit,
 * at least 65 536. */
static bool have_map(void)
{
    if (__atomic_load_n(&map, __ATOMIC_ACQUIRE) != NULL)
        return true;
    struct rlimit rl;
    rlim_t n = 65536;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > n)
        n = rl.rlim_cur < (1u << 22) ? rl.rlim_cur : (1u << 22);
    _Atomic(struct kr_sock *) *m = calloc(n, sizeof *m);
    if (m == NULL)
        return false;
    map_size = (int)n;
    __atomic_store_n(&map, m, __ATOMIC_RELEASE);
    return true;
}

static void map_set(int fd, struct kr_sock *s)
{
    atomic_store_explicit(&map[fd], s, memory_order_release);
}

/* ---- The mirror ------------------------------------------------------------------------ */

/* Empty fd's receive queue. A Unix stream receive takes everything queued up
 * to the buffer's size, so a short one means the queue is empty: no extra
 * call to hear EAGAIN (one system call fewer per readiness drop). */
static void drain(int fd)
{
    char buf[4096];
    ssize_t n;
    do
        n = kr_real.recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    while (n == (ssize_t)sizeof buf);
}

static void fill(int fd)
{
    static const char junk[4096];
    while (kr_real.send(fd, junk, sizeof junk, MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
        ;
}

/* A connection gone with an error (reset, refused, timed out): Linux's epoll
 * shows EPOLLERR. A Unix socket shows it only when its peer is closed with
 * data unread, so B, given a byte from A, is closed for good: A is then
 * readable, writable, hung up and in error, which is what the connection
 * is. The error itself still comes from kite (SO_ERROR, the next call). */
static bool mirror_dead(struct kr_sock *s, uint8_t ev)
{
    uint8_t dead = KITE_NC_ERROR | KITE_NC_HUP | KITE_NC_RDHUP;
    if (s->type != SOCK_STREAM || (ev & dead) != dead)
        return false;
    (void)kr_real.send(s->a, "e", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    kr_real.close(s->b);
    s->b = -1;
    return true;
}

static void mirror(struct kr_sock *s, uint8_t ev)
{
    if (s->b < 0 || mirror_dead(s, ev))
        return; /* (B is gone: A shows everything at once) */
    bool out = (ev & KITE_NC_WRITABLE) != 0, in = (ev & KITE_NC_READABLE) != 0;
    if (out != s->out) {
        out ? drain(s->b) : fill(s->a);
        s->out = out;
    }
    /* Linux gives an edge-triggered epoll an edge per arrival, not only
     * when the socket turns readable: one more byte is one more edge. */
    bool again = in && s->in && (ev & KITE_NC_ARRIVED) && atomic_load(&s->edge);
    if (!s->rd_shut && (in != s->in || again)) {
        if (in)
            (void)kr_real.send(s->b, "r", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
        else
            drain(s->a);
        s->in = in;
    }
    if (!s->rd_shut && (ev & KITE_NC_RDHUP)) {
        (void)kr_real.shutdown(s->b, SHUT_WR);
        s->rd_shut = true;
    }
    if (!s->hung_up && (ev & KITE_NC_HUP) && (ev & KITE_NC_RDHUP)) {
        (void)kr_real.shutdown(s->b, SHUT_RD); /* both ways: for good */
        s->hung_up = true;
    }
}

/* The stack's report (kite_tcpip_set_event_fn), with the stack to itself. */
void kr_on_events(void *ctx, struct kite_netconn *c, uint8_t events)
{
    (void)ctx;
    struct kr_sock *s = __atomic_load_n(&by_conn[c->index], __ATOMIC_ACQUIRE);
    if (s == NULL)
        return;
    atomic_store(&s->events, events);
    pthread_mutex_lock(&s->lock);
    mirror(s, events);
    pthread_mutex_unlock(&s->lock);
}

/* A writer's wait sent a byte into B; while A should be writable, take it
 * out again (kr_wait_writable). */
void kr_after_write_wait(struct kr_sock *s)
{
    pthread_mutex_lock(&s->lock);
    if (s->out && s->b >= 0)
        drain(s->b);
    pthread_mutex_unlock(&s->lock);
}

/* ---- Descriptors ------------------------------------------------------------------------- */

static bool make_pair(struct kr_sock *s, int flags, int *fd)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return false;
    s->a = kr_real.fcntl(sv[0], F_DUPFD_CLOEXEC, 0);
    if (s->a < 0) {
        kr_real.close(sv[0]);
        kr_real.close(sv[1]);
        return false;
    }
    s->b = sv[1];
    int size = A_SNDBUF;
    (void)kr_real.setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    (void)kr_real.fcntl(s->b, F_SETFL, O_NONBLOCK); /* (A stays blocking: waits happen on it) */
    if (!(flags & SOCK_CLOEXEC))
        (void)kr_real.fcntl(sv[0], F_SETFD, 0);
    *fd = sv[0];
    return true;
}

static void drop_pair(struct kr_sock *s, int fd)
{
    kr_real.close(fd);
    kr_real.close(s->a);
    kr_real.close(s->b);
}

int kr_adopt(int ks, int type, int protocol, int flags)
{
    struct kite_sockets *t = kr_sockets();
    struct kr_sock *s = &socks[ks - KITE_SOCKET_OFFSET];
    int fd = -1, err = EMFILE;
    pthread_mutex_destroy(&s->lock); /* (a no-op for a slot never used) */
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    s->ks = ks;
    s->type = type;
    s->protocol = protocol;
    s->conn = t->socks[ks - KITE_SOCKET_OFFSET].conn;
    s->out = true; /* a new pair: A writable, not readable */
    atomic_store(&s->refs, 1);
    atomic_store(&s->nonblock, (flags & SOCK_NONBLOCK) != 0);
    if (!have_map() || !make_pair(s, flags, &fd)) {
        err = errno == 0 ? EMFILE : errno;
        (void)kite_close(t, ks);
        errno = err;
        return -1;
    }
    if (fd >= map_size) {
        drop_pair(s, fd);
        (void)kite_close(t, ks);
        errno = EMFILE;
        return -1;
    }
    /* (the stack reports nothing on it before the watch below) */
    __atomic_store_n(&by_conn[s->conn->index], s, __ATOMIC_RELEASE);
    map_set(fd, s);
    if (kite_netconn_watch(s->conn, true) != KITE_ERR_OK) {
        map_set(fd, NULL);
        __atomic_store_n(&by_conn[s->conn->index], NULL, __ATOMIC_RELEASE);
        drop_pair(s, fd);
        (void)kite_close(t, ks);
        errno = ENOMEM;
        return -1;
    }
    return fd;
}

int kr_dup_to(struct kr_sock *s, int newfd)
{
    if (newfd < 0)
        return newfd;
    if (newfd >= map_size) { /* (the limit was raised past the table): refuse the copy */
        kr_real.close(newfd);
        errno = EMFILE;
        return -1;
    }
    atomic_fetch_add(&s->refs, 1);
    map_set(newfd, s);
    return newfd;
}

/* fd no longer is s (closed, or replaced by dup2): the last descriptor
 * gone closes the kite socket. */
static void let_go(struct kr_sock *s)
{
    if (atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    int a = s->a, ks = s->ks;
    if (!kr_forked()) {
        (void)kite_netconn_watch(s->conn, false); /* no report after this: s->b stays */
        __atomic_store_n(&by_conn[s->conn->index], NULL, __ATOMIC_RELEASE);
    }
    pthread_mutex_lock(&s->lock);
    int b = s->b;
    pthread_mutex_unlock(&s->lock);
    if (!kr_forked())
        (void)kite_close(kr_sockets(), ks); /* (after it, ks and s may be another socket's) */
    kr_real.close(a);
    if (b >= 0)
        kr_real.close(b);
}

/* Take fd out of the table; the kite socket it was, or NULL. */
static struct kr_sock *unmap(int fd)
{
    pthread_mutex_lock(&map_lock);
    struct kr_sock *s = kr_lookup(fd);
    if (s != NULL)
        map_set(fd, NULL);
    pthread_mutex_unlock(&map_lock);
    return s;
}

int kr_close(int fd)
{
    struct kr_sock *s = unmap(fd);
    int rc = kr_real.close(fd);
    if (s != NULL)
        let_go(s);
    return rc;
}

void kr_replaced(int fd)
{
    struct kr_sock *s = unmap(fd);
    if (s != NULL)
        let_go(s);
}

/* At exit: close what the program left open, as the kernel does for it. */
void kr_close_all(void)
{
    for (int fd = 0; fd < map_size; fd++) {
        struct kr_sock *s = unmap(fd);
        if (s != NULL)
            let_go(s);
    }
}
