/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kr_probe: what an ordinary Linux program expects of its sockets, checked
 * the same way natively (the kernel is the oracle) and under kite-run, where
 * libkite-preload.so serves the AF_INET sockets (tests/interop/
 * test_kite_run_probe.sh runs it both ways). Plain libc and pthreads: no kite
 * header, so it is exactly the program kite-run must fool.
 *
 * One line per check, "ok NAME" or "FAIL NAME: details"; the exit status is 1
 * if any check failed. Every check makes its own sockets on 127.0.0.1 (ports
 * from bind to port 0) and closes them. A watchdog thread ends the program if
 * one check runs longer than CHECK_LIMIT_MS, so a hang is a FAIL with a name.
 *
 * Where kite-run differs from Linux on purpose (a forked child's kite
 * sockets, socket options kite does not know), the check branches on
 * KITE_TAP, which kite-run sets, and says which branch it took.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK_LIMIT_MS 5000
#define WAIT_MS 1000 /* how long a check waits for something that should come at once */

static bool under_kite; /* KITE_TAP set: running under kite-run */
static char why[512];   /* the failing check's details */

/* Record the reason a check fails; false, so `return bad(...)` ends it. */
static bool bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return false;
}

/* errno's name ("EINTR"), never NULL. */
static const char *ename(int e)
{
    const char *n = strerrorname_np(e);
    return n != NULL ? n : e == 0 ? "no error" : "?";
}

/* For a message: the error's name if the call failed (n < 0), else "no error". */
static const char *what_err(ssize_t n, int err)
{
    return n < 0 ? ename(err) : "no error";
}

/* bad() with errno's name appended (call right after the failing call). */
#define BAD_ERRNO(what) bad("%s: %s", what, ename(errno))

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
}

/* ---- Descriptors a check made: closed after it, whatever happened ---------------------- */

#define MAX_OPEN 32
static int open_fds[MAX_OPEN];
static int n_open;

/* Remember fd (if valid) for closing after the check; returns it. */
static int track(int fd)
{
    if (fd >= 0 && n_open < MAX_OPEN)
        open_fds[n_open++] = fd;
    return fd;
}

/* Close fd now and forget it (so the clean-up does not close a reused number). */
static int untrack_close(int fd)
{
    for (int i = 0; i < n_open; i++)
        if (open_fds[i] == fd) {
            open_fds[i] = open_fds[--n_open];
            break;
        }
    return close(fd);
}

static void close_tracked(void)
{
    while (n_open > 0)
        close(open_fds[--n_open]);
}

/* ---- Sockets ------------------------------------------------------------------------------ */

static struct sockaddr_in loopback(uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static uint16_t port_of(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return 0;
    return ntohs(a.sin_port);
}

/* A socket of type bound to 127.0.0.1 port 0 (listening, for a stream). */
static int bound(int type)
{
    int fd = track(socket(AF_INET, type, 0));
    struct sockaddr_in a = loopback(0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0)
        return -1;
    if (type == SOCK_STREAM && listen(fd, 8) != 0)
        return -1;
    return fd;
}

/* A client connected to the listener's port. */
static int connected_to(int listener)
{
    int fd = track(socket(AF_INET, SOCK_STREAM, 0));
    struct sockaddr_in a = loopback(port_of(listener));
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        return -1;
    return fd;
}

/* A connected loopback TCP pair: client *c, the accepted end *s. */
static bool tcp_pair(int *c, int *s)
{
    int l = bound(SOCK_STREAM);
    if (l < 0)
        return BAD_ERRNO("listener");
    *c = connected_to(l);
    if (*c < 0)
        return BAD_ERRNO("connect");
    *s = track(accept(l, NULL, NULL));
    if (*s < 0)
        return BAD_ERRNO("accept");
    return true;
}

/* A connected TCP pair and a pipe (pipe2 flags), all closed after the check. */
static bool pair_and_pipe(int *c, int *s, int p[2], int flags)
{
    if (!tcp_pair(c, s))
        return false;
    if (pipe2(p, flags) != 0)
        return BAD_ERRNO("pipe");
    track(p[0]), track(p[1]);
    return true;
}

/* Wait up to ms for events on fd; the revents (0: not in time). */
static short wait_for(int fd, short events, int ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    int64_t end = now_ms() + ms;
    for (;;) {
        int left = (int)(end - now_ms());
        int rc = poll(&p, 1, left > 0 ? left : 0);
        if (rc > 0 || (rc == 0 && left <= 0))
            return rc > 0 ? p.revents : 0;
        if (rc < 0 && errno != EINTR)
            return 0;
    }
}

/* Receive exactly len bytes (waiting up to WAIT_MS) and compare them with want. */
static bool recv_exact(int fd, const char *want, size_t len)
{
    char buf[256];
    size_t got = 0;
    if (len > sizeof buf)
        return bad("recv_exact: %zu bytes is more than it holds", len);
    while (got < len) {
        if (!(wait_for(fd, POLLIN, WAIT_MS) & POLLIN))
            return bad("%zu of %zu bytes arrived", got, len);
        ssize_t n = recv(fd, buf + got, len - got, MSG_DONTWAIT);
        if (n <= 0)
            return n == 0 ? bad("EOF after %zu bytes", got) : BAD_ERRNO("recv");
        got += (size_t)n;
    }
    if (memcmp(buf, want, len) != 0)
        return bad("received other bytes than sent");
    return true;
}

/* send all of text on fd, then receive it on peer. */
static bool round_trip(int fd, int peer, const char *text)
{
    size_t len = strlen(text);
    ssize_t n = send(fd, text, len, MSG_NOSIGNAL);
    if (n != (ssize_t)len)
        return n < 0 ? BAD_ERRNO("send") : bad("send took %zd of %zu", n, len);
    return recv_exact(peer, text, len);
}

/* Whether the stream (or pipe) peer has ended: read gives 0 within WAIT_MS.
 * (read, not recv: a pipe is no socket; it cannot block once poll said ready.) */
static bool sees_eof(int peer)
{
    char c;
    return (wait_for(peer, POLLIN, WAIT_MS) & (POLLIN | POLLHUP)) && read(peer, &c, 1) == 0;
}

/* Whether nothing is readable and the stream has not ended (EAGAIN). */
static bool would_block(int fd)
{
    char c;
    return recv(fd, &c, 1, MSG_DONTWAIT) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static bool set_int(int fd, int level, int name, int v)
{
    return setsockopt(fd, level, name, &v, sizeof v) == 0;
}

static bool set_timeo(int fd, int name, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return setsockopt(fd, SOL_SOCKET, name, &tv, sizeof tv) == 0;
}

/* A recv (flags 0) on a socket meant to be non-blocking, with nothing
 * queued: -1 EAGAIN at once. (A 500 ms SO_RCVTIMEO, and the time taken,
 * make a socket that wrongly blocks a failure rather than a hang.) */
static bool recv_eagain_at_once(int fd, const char *what)
{
    char b;
    if (!set_timeo(fd, SO_RCVTIMEO, 500))
        return BAD_ERRNO("SO_RCVTIMEO");
    int64_t t0 = now_ms();
    ssize_t n = recv(fd, &b, 1, 0);
    int err = errno;
    int64_t took = now_ms() - t0;
    (void)set_timeo(fd, SO_RCVTIMEO, 0);
    if (n != -1 || err != EAGAIN || took > 250)
        return bad("recv %s: %zd (%s) after %lld ms, not -1 EAGAIN at once", what, n,
                   what_err(n, err), (long long)took);
    return true;
}

/* ---- 1. epoll ------------------------------------------------------------------------------ */

/* epoll_wait for up to ms, until the set reports every fd in want (n of them)
 * with at least the events asked; the events seen per fd go to got. */
static bool epoll_until(int ep, const int *want, const uint32_t *ev, uint32_t *got, int n, int ms)
{
    int64_t end = now_ms() + ms;
    memset(got, 0, (size_t)n * sizeof *got);
    for (;;) {
        struct epoll_event e[8];
        int left = (int)(end - now_ms()), k = epoll_wait(ep, e, 8, left > 0 ? left : 0);
        for (int i = 0; i < k; i++)
            for (int j = 0; j < n; j++)
                got[j] |= e[i].data.fd == want[j] ? e[i].events : 0;
        bool all = true;
        for (int j = 0; j < n; j++)
            all = all && (got[j] & ev[j]) == ev[j];
        if (all || left <= 0)
            return all;
    }
}

static int epoll_with(int a, uint32_t ea, int b, uint32_t eb)
{
    int ep = track(epoll_create1(EPOLL_CLOEXEC));
    struct epoll_event x = {.events = ea, .data.fd = a}, y = {.events = eb, .data.fd = b};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, a, &x) != 0 || epoll_ctl(ep, EPOLL_CTL_ADD, b, &y))
        return -1;
    return ep;
}

static int epoll_count_now(int ep)
{
    struct epoll_event e[8];
    return epoll_wait(ep, e, 8, 0);
}

/* Level-triggered: nothing ready reports nothing; data on the socket and the
 * pipe reports both, again and again until read. */
static bool check_epoll_level(void)
{
    int c, s, p[2];
    if (!pair_and_pipe(&c, &s, p, 0))
        return false;
    int ep = epoll_with(s, EPOLLIN, p[0], EPOLLIN);
    if (ep < 0)
        return BAD_ERRNO("epoll set");
    if (epoll_count_now(ep) != 0)
        return bad("events with nothing sent");
    int fds[2] = {s, p[0]};
    uint32_t want[2] = {EPOLLIN, EPOLLIN}, got[2];
    if (send(c, "x", 1, 0) != 1 || write(p[1], "y", 1) != 1)
        return BAD_ERRNO("send/write");
    if (!epoll_until(ep, fds, want, got, 2, WAIT_MS))
        return bad("not both readable: socket %#x pipe %#x", got[0], got[1]);
    if (!epoll_until(ep, fds, want, got, 2, 0))
        return bad("level-triggered readiness not reported again");
    char b[4];
    if (recv(s, b, sizeof b, 0) != 1 || read(p[0], b, sizeof b) != 1)
        return BAD_ERRNO("reading");
    int k = epoll_count_now(ep);
    return k == 0 ? true : bad("%d events after everything was read", k);
}

/* Read fd to EAGAIN (a socket or a non-blocking pipe). */
static bool drain(int fd)
{
    char b[256];
    ssize_t n;
    while ((n = read(fd, b, sizeof b)) > 0)
        ;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* One round of edge-triggered: new data on both gives one edge each, and
 * none again until new data comes. */
static bool et_round(int ep, int c, int s, int pw, int pr, const char *when)
{
    int fds[2] = {s, pr};
    uint32_t want[2] = {EPOLLIN, EPOLLIN}, got[2];
    if (send(c, "ab", 2, 0) != 2 || write(pw, "cd", 2) != 2)
        return BAD_ERRNO("send/write");
    if (!epoll_until(ep, fds, want, got, 2, WAIT_MS))
        return bad("%s: no edge: socket %#x pipe %#x", when, got[0], got[1]);
    int k = epoll_count_now(ep);
    if (k != 0)
        return bad("%s: %d events again without new data", when, k);
    return true;
}

static bool check_epoll_edge(void)
{
    int c, s, p[2];
    if (!pair_and_pipe(&c, &s, p, O_NONBLOCK))
        return false;
    int ep = epoll_with(s, EPOLLIN | EPOLLET, p[0], EPOLLIN | EPOLLET);
    if (ep < 0)
        return BAD_ERRNO("epoll set");
    if (fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK) != 0)
        return BAD_ERRNO("O_NONBLOCK");
    if (!et_round(ep, c, s, p[1], p[0], "first data"))
        return false;
    if (!drain(s) || !drain(p[0]))
        return BAD_ERRNO("reading to EAGAIN");
    if (!et_round(ep, c, s, p[1], p[0], "after reading to EAGAIN"))
        return false;
    /* Linux: every arrival on a socket is an edge, even unread data before it
     * (a program may take one message per edge). Pipes are left out: their
     * wake-ups changed between kernel versions. */
    int fds[1] = {s};
    uint32_t want[1] = {EPOLLIN}, got[1];
    if (send(c, "ef", 2, 0) != 2)
        return BAD_ERRNO("send");
    if (!epoll_until(ep, fds, want, got, 1, WAIT_MS))
        return bad("no edge for data arriving behind unread data");
    return true;
}

/* A connected socket is writable; after the peer's shutdown(SHUT_WR) it is
 * readable (EOF) with EPOLLRDHUP. */
static bool check_epoll_out_rdhup(void)
{
    int c, s, p[2];
    if (!pair_and_pipe(&c, &s, p, 0))
        return false;
    int ep = epoll_with(c, EPOLLOUT, s, EPOLLIN | EPOLLRDHUP);
    if (ep < 0)
        return BAD_ERRNO("epoll set");
    int fds[2] = {c, s};
    uint32_t want[2] = {EPOLLOUT, 0}, got[2];
    if (!epoll_until(ep, fds, want, got, 2, WAIT_MS))
        return bad("connected socket not EPOLLOUT (%#x)", got[0]);
    if (got[1] != 0)
        return bad("peer readable (%#x) before anything was sent", got[1]);
    if (shutdown(c, SHUT_WR) != 0)
        return BAD_ERRNO("shutdown");
    want[1] = EPOLLIN | EPOLLRDHUP;
    if (!epoll_until(ep, fds, want, got, 2, WAIT_MS))
        return bad("after SHUT_WR the peer shows %#x, not EPOLLIN|EPOLLRDHUP", got[1]);
    return sees_eof(s) ? true : bad("recv after the peer's SHUT_WR is not 0");
}

/* A connection gone with an error is EPOLLERR (with EPOLLHUP): a refused
 * non-blocking connect, and a connection reset by its peer. */
static bool check_epoll_err(void)
{
    int l = bound(SOCK_DGRAM); /* a port nobody listens on for TCP... */
    int c = track(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
    struct sockaddr_in sa = loopback(port_of(l)); /* (...as good as any: the UDP one) */
    if (l < 0 || c < 0)
        return BAD_ERRNO("sockets");
    if (connect(c, (struct sockaddr *)&sa, sizeof sa) == 0 || errno != EINPROGRESS)
        return BAD_ERRNO("connect to a closed port did not start");
    int fds[1] = {c};
    uint32_t want[1] = {EPOLLERR | EPOLLHUP}, got[1];
    int ep = track(epoll_create1(EPOLL_CLOEXEC));
    struct epoll_event e = {.events = EPOLLOUT, .data.fd = c};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, c, &e) != 0)
        return BAD_ERRNO("epoll set");
    if (!epoll_until(ep, fds, want, got, 1, WAIT_MS))
        return bad("refused connect shows %#x, not EPOLLERR|EPOLLHUP", got[0]);
    int s, a;
    if (!tcp_pair(&a, &s))
        return false;
    struct linger lg = {1, 0};
    fds[0] = a;
    e = (struct epoll_event){.events = EPOLLIN, .data.fd = a};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, a, &e) != 0 ||
        setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) != 0 || untrack_close(s) != 0)
        return BAD_ERRNO("reset by the peer");
    if (!epoll_until(ep, fds, want, got, 1, WAIT_MS))
        return bad("reset connection shows %#x, not EPOLLERR|EPOLLHUP", got[0]);
    return true;
}

/* ---- 2. poll and select ------------------------------------------------------------------ */

/* poll over {pipe, socket} for reading and a socket for writing. */
static bool check_poll_mixed(void)
{
    int c, s, p[2];
    if (!pair_and_pipe(&c, &s, p, 0))
        return false;
    struct pollfd f[3] = {{p[0], POLLIN, 0}, {s, POLLIN, 0}, {c, POLLOUT, 0}};
    int k = poll(f, 3, 0);
    if (k != 1 || f[0].revents || f[1].revents || f[2].revents != POLLOUT)
        return bad("idle: %d ready (pipe %#x sock %#x out %#x)", k, f[0].revents, f[1].revents,
                   f[2].revents);
    if (write(p[1], "x", 1) != 1 || send(c, "y", 1, 0) != 1)
        return BAD_ERRNO("write/send");
    int64_t end = now_ms() + WAIT_MS;
    do
        k = poll(f, 3, WAIT_MS);
    while (k >= 0 && k < 3 && now_ms() < end);
    if (k != 3 || f[0].revents != POLLIN || f[1].revents != POLLIN)
        return bad("after data: %d ready (pipe %#x sock %#x)", k, f[0].revents, f[1].revents);
    return true;
}

/* Nothing ready: timeout 0 returns 0 at once; 100 ms waits about 100 ms. */
static bool check_poll_timeout(void)
{
    int c, s, p[2];
    if (!pair_and_pipe(&c, &s, p, 0))
        return false;
    struct pollfd f[2] = {{p[0], POLLIN, 0}, {s, POLLIN, 0}};
    if (poll(f, 2, 0) != 0)
        return bad("timeout 0: something ready");
    int64_t t0 = now_ms();
    int k = poll(f, 2, 100);
    int64_t took = now_ms() - t0;
    if (k != 0 || took < 90 || took > 600)
        return bad("timeout 100 ms: returned %d after %lld ms", k, (long long)took);
    return true;
}

/* set = {a, b} (b < 0: only a). */
static void fds_of(fd_set *set, int a, int b)
{
    FD_ZERO(set);
    FD_SET(a, set);
    if (b >= 0)
        FD_SET(b, set);
}

static bool check_select_mixed(void)
{
    int c, s, p[2];
    if (!pair_and_pipe(&c, &s, p, 0))
        return false;
    int nfds = (p[0] > s ? p[0] : s) + 1;
    nfds = nfds > c + 1 ? nfds : c + 1;
    fd_set r, w;
    struct timeval tv = {0, 0};
    fds_of(&r, p[0], s);
    fds_of(&w, c, -1);
    int k = select(nfds, &r, &w, NULL, &tv);
    if (k != 1 || FD_ISSET(p[0], &r) || FD_ISSET(s, &r) || !FD_ISSET(c, &w))
        return bad("idle: %d ready", k);
    if (write(p[1], "x", 1) != 1 || send(c, "y", 1, 0) != 1)
        return BAD_ERRNO("write/send");
    int64_t end = now_ms() + WAIT_MS;
    do {
        tv = (struct timeval){1, 0};
        fds_of(&r, p[0], s);
        fds_of(&w, c, -1);
        k = select(nfds, &r, &w, NULL, &tv);
    } while (k >= 0 && k < 3 && now_ms() < end);
    if (k != 3 || !FD_ISSET(p[0], &r) || !FD_ISSET(s, &r) || !FD_ISSET(c, &w))
        return bad("after data: %d ready", k);
    return true;
}

static bool check_select_timeout(void)
{
    int c, s, p[2];
    if (!pair_and_pipe(&c, &s, p, 0))
        return false;
    int nfds = (p[0] > s ? p[0] : s) + 1;
    fd_set r;
    struct timeval tv = {0, 0};
    fds_of(&r, p[0], s);
    if (select(nfds, &r, NULL, NULL, &tv) != 0)
        return bad("timeout 0: something ready");
    fds_of(&r, p[0], s);
    tv = (struct timeval){0, 100000};
    int64_t t0 = now_ms();
    int k = select(nfds, &r, NULL, NULL, &tv);
    int64_t took = now_ms() - t0;
    if (k != 0 || took < 90 || took > 600)
        return bad("timeout 100 ms: returned %d after %lld ms", k, (long long)took);
    /* Linux's select leaves the time not slept in tv: all of it slept. */
    if (tv.tv_sec != 0 || tv.tv_usec != 0)
        return bad("tv left %lld.%06ld after a full timeout", (long long)tv.tv_sec,
                   (long)tv.tv_usec);
    return true;
}

/* ---- 3. Descriptors: dup*, fcntl, ioctl --------------------------------------------------- */

/* dup: the copy sends; the original closed, the copy still works, and the
 * peer sees EOF only when the copy (the last descriptor) is closed. */
static bool check_dup(void)
{
    int c, s;
    if (!tcp_pair(&c, &s))
        return false;
    int d = track(dup(c));
    if (d < 0)
        return BAD_ERRNO("dup");
    if (!round_trip(d, s, "via dup") || untrack_close(c) != 0)
        return false;
    if (!round_trip(d, s, "after close") || !round_trip(s, d, "and back"))
        return false;
    if (!would_block(s))
        return bad("peer not EAGAIN while a copy is open");
    untrack_close(d);
    return sees_eof(s) ? true : bad("no EOF after the last copy closed");
}

/* dup2 onto a descriptor in use (another connected socket): that socket is
 * closed (its peer sees EOF), the descriptor now is the copy. */
static bool check_dup2_used(void)
{
    int c, s, c2, s2;
    if (!tcp_pair(&c, &s) || !tcp_pair(&c2, &s2))
        return false;
    if (dup2(c, c2) != c2)
        return BAD_ERRNO("dup2");
    if (!sees_eof(s2))
        return bad("the replaced socket's peer saw no EOF");
    untrack_close(c);
    if (!round_trip(c2, s, "via dup2"))
        return false;
    untrack_close(c2);
    return sees_eof(s) ? true : bad("no EOF after the last copy closed");
}

/* dup2 of a pipe onto a socket's descriptor (a redirection): the socket
 * closes (its peer sees EOF) and the descriptor writes into the pipe. */
static bool check_dup2_pipe_onto_socket(void)
{
    int c, s, p[2];
    char b[4] = "";
    if (!pair_and_pipe(&c, &s, p, 0))
        return false;
    if (dup2(p[1], c) != c)
        return BAD_ERRNO("dup2");
    if (!sees_eof(s))
        return bad("the replaced socket's peer saw no EOF");
    if (write(c, "via", 3) != 3 || read(p[0], b, 3) != 3 || memcmp(b, "via", 3) != 0)
        return bad("the descriptor does not write into the pipe");
    return true;
}

static bool cloexec(int fd)
{
    int f = fcntl(fd, F_GETFD);
    return f >= 0 && (f & FD_CLOEXEC);
}

/* dup3 with O_CLOEXEC and fcntl F_DUPFD_CLOEXEC: copies marked close-on-exec
 * (the original not), each one works, EOF after the last. */
static bool check_dup3_dupfd(void)
{
    int c, s, p[2];
    if (!tcp_pair(&c, &s) || pipe(p) != 0)
        return false;
    track(p[0]);
    int d3 = dup3(c, p[1], O_CLOEXEC); /* onto a used fd: the pipe's write end */
    int df = track(fcntl(c, F_DUPFD_CLOEXEC, 0));
    if (d3 != p[1] || df < 0)
        return BAD_ERRNO("dup3/F_DUPFD_CLOEXEC");
    track(d3);
    if (!cloexec(d3) || !cloexec(df) || cloexec(c))
        return bad("FD_CLOEXEC: dup3 %d F_DUPFD_CLOEXEC %d original %d", cloexec(d3), cloexec(df),
                   cloexec(c));
    if (!sees_eof(p[0]))
        return bad("the pipe's write end replaced by dup3 is still open");
    untrack_close(c);
    if (!round_trip(d3, s, "via dup3") || !round_trip(df, s, "via F_DUPFD_CLOEXEC"))
        return false;
    untrack_close(d3);
    if (!would_block(s))
        return bad("closing one of two copies ended the connection");
    if (!round_trip(df, s, "last copy"))
        return false;
    untrack_close(df);
    return sees_eof(s) ? true : bad("no EOF after the last copy closed");
}

/* F_GETFL/F_SETFL O_NONBLOCK: a recv with nothing queued gives EAGAIN; the
 * flag belongs to the open file, so a dup sees it too. */
static bool check_fcntl_nonblock(void)
{
    int c, s;
    if (!tcp_pair(&c, &s))
        return false;
    int fl = fcntl(s, F_GETFL);
    if (fl < 0 || (fl & O_ACCMODE) != O_RDWR || (fl & O_NONBLOCK))
        return bad("F_GETFL of a new socket: %#x", fl);
    if (fcntl(s, F_SETFL, fl | O_NONBLOCK) != 0)
        return BAD_ERRNO("F_SETFL");
    int d = track(dup(s));
    if (d < 0 || !(fcntl(d, F_GETFL) & O_NONBLOCK))
        return bad("the dup does not share O_NONBLOCK");
    if (!recv_eagain_at_once(s, "on O_NONBLOCK"))
        return false;
    if (fcntl(s, F_SETFL, fl) != 0 || (fcntl(s, F_GETFL) & O_NONBLOCK))
        return bad("O_NONBLOCK not cleared");
    return true;
}

/* ioctl FIONBIO sets O_NONBLOCK as F_SETFL does; FIONREAD counts queued bytes. */
static bool check_ioctl(void)
{
    int c, s, on = 1, n = -1;
    if (!tcp_pair(&c, &s))
        return false;
    if (ioctl(s, FIONBIO, &on) != 0)
        return BAD_ERRNO("FIONBIO");
    char b[8];
    if (!recv_eagain_at_once(s, "after FIONBIO"))
        return false;
    if (!(fcntl(s, F_GETFL) & O_NONBLOCK))
        return bad("F_GETFL after FIONBIO: no O_NONBLOCK");
    if (ioctl(s, FIONREAD, &n) != 0 || n != 0)
        return bad("FIONREAD with nothing queued: %d", n);
    if (send(c, "12345", 5, 0) != 5 || !(wait_for(s, POLLIN, WAIT_MS) & POLLIN))
        return bad("5 bytes never arrived");
    if (ioctl(s, FIONREAD, &n) != 0 || n != 5)
        return bad("FIONREAD: %d, not 5", n);
    on = 0;
    if (ioctl(s, FIONBIO, &on) != 0 || (fcntl(s, F_GETFL) & O_NONBLOCK))
        return bad("FIONBIO 0 did not clear O_NONBLOCK");
    return recv(s, b, sizeof b, 0) == 5 ? true : bad("recv after FIONREAD");
}

/* ---- 4. Signals -------------------------------------------------------------------------- */

static volatile sig_atomic_t caught;

static void on_alarm(int sig)
{
    (void)sig;
    caught++;
}

static void handle_alarm(bool restart)
{
    struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = restart ? SA_RESTART : 0};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    caught = 0;
}

/* A helper thread: SIGALRM to the target every 100 ms from 100 ms on (a
 * signal that comes before the call blocks is followed by one that finds it
 * blocked), and at act_ms the action (data, a connection), until stopped.
 * Where the call should end with EINTR, the action at RESCUE_MS ends a call
 * that wrongly goes on, so the check fails instead of hanging. */
#define RESCUE_MS 1500
struct pester {
    pthread_t target, thread;
    atomic_bool stop;
    int act_ms;
    void (*act)(struct pester *);
    int fd;
};

static void *pester_run(void *arg)
{
    struct pester *p = arg;
    int64_t t0 = now_ms(), next_kill = 100;
    bool acted = false;
    while (!atomic_load(&p->stop)) {
        sleep_ms(10);
        int64_t t = now_ms() - t0;
        if (p->act && !acted && t >= p->act_ms) {
            p->act(p);
            acted = true;
        }
        if (t >= next_kill && !atomic_load(&p->stop)) {
            pthread_kill(p->target, SIGALRM);
            next_kill += 100;
        }
    }
    return NULL;
}

/* Install the SIGALRM handler (restart: SA_RESTART) and start the helper. */
static bool pester_start(struct pester *p, bool restart)
{
    sigset_t all, old;
    handle_alarm(restart);
    sigfillset(&all);
    p->target = pthread_self();
    atomic_store(&p->stop, false);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the helper takes none of the signals */
    int rc = pthread_create(&p->thread, NULL, pester_run, p);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc == 0 ? true : bad("pthread_create: %s", strerror(rc));
}

static void pester_stop(struct pester *p)
{
    atomic_store(&p->stop, true);
    pthread_join(p->thread, NULL);
}

/* Blocking recv on s; errno and the time it took. */
static ssize_t timed_recv(int s, char *buf, size_t len, int *err, int64_t *took)
{
    int64_t t0 = now_ms();
    ssize_t n = recv(s, buf, len, 0);
    *err = errno;
    *took = now_ms() - t0;
    return n;
}

static void send_late(struct pester *p)
{
    (void)send(p->fd, "late", 4, MSG_NOSIGNAL);
}

/* A blocking recv on a fresh pair while SIGALRM comes every 100 ms (with
 * or without SA_RESTART) and the peer sends "late" at act_ms; SO_RCVTIMEO
 * first when timeo_ms. What recv returned (4 bytes in b), errno in *err. */
struct pestered {
    char b[8];
    int err;
    int64_t took;
    ssize_t n;
};

static bool pestered_recv(bool restart, int act_ms, int timeo_ms, struct pestered *r)
{
    int c, s;
    struct pester p = {.act = send_late, .act_ms = act_ms};
    if (!tcp_pair(&c, &s))
        return false;
    p.fd = c;
    if (timeo_ms > 0 && !set_timeo(s, SO_RCVTIMEO, timeo_ms))
        return BAD_ERRNO("SO_RCVTIMEO");
    if (!pester_start(&p, restart))
        return false;
    r->n = timed_recv(s, r->b, sizeof r->b, &r->err, &r->took);
    pester_stop(&p);
    return true;
}

/* Without SA_RESTART a signal ends a blocking recv: -1 EINTR. */
static bool check_sig_recv_eintr(void)
{
    struct pestered r;
    if (!pestered_recv(false, RESCUE_MS, 0, &r))
        return false;
    if (r.n != -1 || r.err != EINTR)
        return bad("recv returned %zd (%s), not -1 EINTR", r.n, what_err(r.n, r.err));
    return caught > 0 ? true : bad("handler never ran");
}

/* With SA_RESTART the recv goes on through the signals and returns the data
 * another thread sends at 300 ms. */
static bool check_sig_recv_restart(void)
{
    struct pestered r;
    if (!pestered_recv(true, 300, 0, &r))
        return false;
    if (r.n != 4 || memcmp(r.b, "late", 4) != 0)
        return bad("recv returned %zd (%s), not the 4 bytes", r.n, what_err(r.n, r.err));
    return caught > 0 ? true : bad("handler never ran (recv took %lld ms)", (long long)r.took);
}

/* With SO_RCVTIMEO set, Linux does not restart: a signal gives EINTR even
 * with SA_RESTART (sock_intr_errno). */
static bool check_sig_rcvtimeo_eintr(void)
{
    struct pestered r;
    if (!pestered_recv(true, RESCUE_MS, 1000, &r))
        return false;
    if (r.n != -1 || r.err != EINTR || r.took > 900)
        return bad("recv returned %zd (%s) after %lld ms, not -1 EINTR at ~100 ms", r.n,
                   what_err(r.n, r.err), (long long)r.took);
    return true;
}

/* SO_RCVTIMEO alone: -1 EAGAIN after about the timeout. */
static bool check_rcvtimeo_eagain(void)
{
    int c, s, err;
    int64_t took;
    char b[8];
    if (!tcp_pair(&c, &s))
        return false;
    if (!set_timeo(s, SO_RCVTIMEO, 200))
        return BAD_ERRNO("SO_RCVTIMEO");
    ssize_t n = timed_recv(s, b, sizeof b, &err, &took);
    if (n != -1 || err != EAGAIN || took < 190 || took > 800)
        return bad("recv returned %zd (%s) after %lld ms, not -1 EAGAIN at ~200 ms", n,
                   what_err(n, err), (long long)took);
    return true;
}

/* (from the helper thread: its socket is closed by the check's clean-up) */
static void connect_late(struct pester *p)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = loopback(port_of(p->fd));
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        fd = -1;
    }
    if (fd >= 0)
        track(fd); /* (the main thread tracks nothing until it has joined us) */
}

/* Blocking accept without SA_RESTART: -1 EINTR. */
static bool check_sig_accept_eintr(void)
{
    struct pester p = {.act = connect_late, .act_ms = RESCUE_MS};
    int l = bound(SOCK_STREAM);
    if (l < 0)
        return BAD_ERRNO("listener");
    p.fd = l;
    if (!pester_start(&p, false))
        return false;
    int a = accept(l, NULL, NULL), err = errno;
    pester_stop(&p);
    track(a);
    if (a != -1 || err != EINTR)
        return bad("accept returned %d (%s), not -1 EINTR", a, what_err(a, err));
    return true;
}

/* Blocking accept with SA_RESTART: goes on and returns the connection made
 * at 300 ms. */
static bool check_sig_accept_restart(void)
{
    struct pester p = {.act = connect_late, .act_ms = 300};
    int l = bound(SOCK_STREAM);
    if (l < 0)
        return BAD_ERRNO("listener");
    p.fd = l;
    if (!pester_start(&p, true))
        return false;
    int a = accept(l, NULL, NULL), err = errno;
    pester_stop(&p);
    track(a);
    if (a < 0)
        return bad("accept returned -1 (%s), not the connection", ename(err));
    return caught > 0 ? true : bad("handler never ran");
}

/* Linux: a send on a connection the peer reset fails with EPIPE (or
 * ECONNRESET first) and raises SIGPIPE in the sending thread, unless
 * MSG_NOSIGNAL; the signal is caught here. */
static volatile sig_atomic_t pipes;

static void on_pipe(int sig)
{
    (void)sig;
    pipes++;
}

static bool check_sigpipe(void)
{
    int c, s;
    if (!tcp_pair(&c, &s))
        return false;
    struct sigaction sa = {.sa_handler = on_pipe}, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, &old);
    pipes = 0;
    struct linger lg = {1, 0};
    bool ok = setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0 && untrack_close(s) == 0;
    ok = ok && (wait_for(c, POLLERR | POLLHUP, WAIT_MS) & (POLLERR | POLLHUP)) != 0;
    int err = 0;
    for (int i = 0; ok && i < 4 && err != EPIPE; i++) /* ECONNRESET first, then EPIPE */
        err = send(c, "x", 1, MSG_NOSIGNAL) < 0 ? errno : 0;
    sig_atomic_t quiet = pipes;
    ssize_t n = send(c, "y", 1, 0);
    int last = errno;
    sigaction(SIGPIPE, &old, NULL);
    if (!ok)
        return BAD_ERRNO("reset by the peer");
    if (err != EPIPE || quiet != 0)
        return bad("MSG_NOSIGNAL sends: errno %d, %d SIGPIPE", err, (int)quiet);
    if (n != -1 || last != EPIPE || pipes != 1)
        return bad("a plain send gave %zd errno %d and %d SIGPIPE, not EPIPE and 1", n, last,
                   (int)pipes);
    return true;
}

/* ---- 5. fork --------------------------------------------------------------------------- */

static atomic_int child_pid; /* a child to kill if the watchdog ends us */

/* fork, the child's pid remembered for the watchdog. */
static pid_t fork_child(void)
{
    fflush(stdout); /* the child's exit() must not print our buffer again */
    pid_t pid = fork();
    if (pid > 0)
        atomic_store(&child_pid, pid);
    return pid;
}

/* Wait up to ms for the child to exit; a child still running then is killed
 * (it hung) and false is returned. */
static bool reap_child(pid_t pid, int ms, int *status)
{
    int64_t end = now_ms() + ms;
    pid_t r;
    while ((r = waitpid(pid, status, WNOHANG)) == 0 && now_ms() < end)
        sleep_ms(10);
    if (r == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, status, 0);
    }
    atomic_store(&child_pid, 0);
    return r == pid;
}

struct child_report {
    ssize_t sent, got;
    int send_errno, recv_errno;
    short poll_revents; /* poll (1 s at most) for input on the socket */
    int poll_rc;
    int64_t poll_ms;
};

/* In the child: use the inherited socket, report through the pipe, exit. */
static void child_uses_socket(int c, int report_fd)
{
    struct child_report r;
    char b[4];
    struct pollfd pfd = {.fd = c, .events = POLLIN};
    int64_t start = now_ms();
    r.poll_rc = poll(&pfd, 1, 1000);
    r.poll_ms = now_ms() - start;
    r.poll_revents = pfd.revents;
    r.sent = send(c, "c", 1, MSG_NOSIGNAL);
    r.send_errno = errno;
    r.got = recv(c, b, sizeof b, MSG_DONTWAIT);
    r.recv_errno = errno;
    exit(write(report_fd, &r, sizeof r) == sizeof r ? 0 : 3); /* exit(): atexit handlers run */
}

/* What the child should have seen: natively its copy is the same socket;
 * under kite-run its kite sockets fail with EBADF (the stack lives in the
 * parent), while its kernel descriptors (the report pipe) work. */
static bool child_report_ok(const struct child_report *r)
{
    /* Natively the parent's "p" waits in the socket; under kite-run the
     * socket is a bad descriptor in the child: POLLNVAL, at once. */
    short want = under_kite ? POLLNVAL : POLLIN;
    if (r->poll_rc != 1 || r->poll_revents != want || r->poll_ms > 500)
        return bad("child's poll: %d, revents %#x after %lld ms, expected 1, %#x at once",
                   r->poll_rc, (unsigned)r->poll_revents, (long long)r->poll_ms, (unsigned)want);
    if (under_kite &&
        (r->sent != -1 || r->send_errno != EBADF || r->got != -1 || r->recv_errno != EBADF))
        return bad("kite-run child: send %zd (%s) recv %zd (%s), expected -1 EBADF", r->sent,
                   ename(r->send_errno), r->got, ename(r->recv_errno));
    if (!under_kite && (r->sent != 1 || r->got != 1))
        return bad("native child: send %zd (%s) recv %zd (%s), expected 1 and 1", r->sent,
                   ename(r->send_errno), r->got, ename(r->recv_errno));
    return true;
}

static bool check_fork_child(void)
{
    int c, s, p[2], status;
    struct child_report r;
    if (!pair_and_pipe(&c, &s, p, 0))
        return false;
    if (send(s, "p", 1, 0) != 1 || !(wait_for(c, POLLIN, WAIT_MS) & POLLIN))
        return bad("data for the child never arrived");
    pid_t pid = fork_child();
    if (pid < 0)
        return BAD_ERRNO("fork");
    if (pid == 0)
        child_uses_socket(c, p[1]);
    ssize_t n = wait_for(p[0], POLLIN, 2 * WAIT_MS) ? read(p[0], &r, sizeof r) : -1;
    if (!reap_child(pid, WAIT_MS, &status))
        return bad("the child hung (killed)");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return bad("child status %#x", status);
    if (n != sizeof r)
        return bad("the child's pipe gave %zd bytes", n);
    if (!child_report_ok(&r))
        return false;
    if (!under_kite && !recv_exact(s, "c", 1))
        return false;
    if (under_kite && !would_block(s))
        return bad("the child's failed send reached the peer");
    /* The parent's socket is unharmed by the child's use and exit. */
    return round_trip(c, s, "parent still") && (under_kite ? recv_exact(c, "p", 1) : true);
}

static bool check_fork_exec(void)
{
    int status;
    int c, s;
    if (!tcp_pair(&c, &s)) /* (a kite stack running: the child starts from it) */
        return false;
    pid_t pid = fork_child();
    if (pid < 0)
        return BAD_ERRNO("fork");
    if (pid == 0) {
        execl("/bin/true", "true", (char *)NULL);
        _exit(127);
    }
    if (!reap_child(pid, 2 * WAIT_MS, &status))
        return bad("/bin/true did not exit within 2 s (killed)");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return bad("/bin/true: status %#x", status);
    return round_trip(c, s, "after exec");
}

/* ---- 6. Names ---------------------------------------------------------------------------- */

/* The first AF_INET address of getaddrinfo(node, "80", hints) is 127.0.0.1:80. */
static bool gai_loopback(const char *node, int flags)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM, .ai_flags = flags};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(node, "80", &hints, &res);
    if (rc != 0)
        return bad("getaddrinfo(%s): %s", node, gai_strerror(rc));
    const struct sockaddr_in *a = (const struct sockaddr_in *)res->ai_addr;
    bool ok = res->ai_family == AF_INET && a->sin_addr.s_addr == htonl(INADDR_LOOPBACK) &&
              a->sin_port == htons(80) && res->ai_protocol == IPPROTO_TCP;
    if (!ok)
        bad("getaddrinfo(%s): family %d %s:%u protocol %d", node, res->ai_family,
            inet_ntoa(a->sin_addr), ntohs(a->sin_port), res->ai_protocol);
    freeaddrinfo(res);
    return ok;
}

static bool check_gai_numeric(void)
{
    return gai_loopback("127.0.0.1", AI_NUMERICHOST | AI_NUMERICSERV);
}

/* Whether the kernel has an IPv4 address other than 127.0.0.1: what glibc's
 * AI_ADDRCONFIG asks (__check_pf in sysdeps/unix/sysv/linux/check_pf.c
 * counts every IPv4 address but INADDR_LOOPBACK). */
static bool kernel_has_ipv4(void)
{
    struct ifaddrs *all;
    bool seen = false;
    if (getifaddrs(&all) != 0)
        return true; /* (glibc is pessimistic too: it assumes one) */
    for (struct ifaddrs *i = all; i != NULL; i = i->ifa_next)
        if (i->ifa_addr != NULL && i->ifa_addr->sa_family == AF_INET &&
            ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr != htonl(INADDR_LOOPBACK))
            seen = true;
    freeifaddrs(all);
    return seen;
}

/* AI_ADDRCONFIG, which programs pass by default: localhost resolves. Natively
 * without a kernel IPv4 address (beyond 127.0.0.1) glibc rightly finds no
 * IPv4 answer; kite-run, whose kite has an address, must answer anyway. */
static bool check_gai_localhost(void)
{
    if (under_kite || kernel_has_ipv4())
        return gai_loopback("localhost", AI_ADDRCONFIG);
    struct addrinfo hints = {.ai_family = AF_INET, .ai_flags = AI_ADDRCONFIG}, *res = NULL;
    int rc = getaddrinfo("localhost", "80", &hints, &res);
    if (rc == 0) {
        freeaddrinfo(res);
        return bad("native without an IPv4 address: an answer despite AI_ADDRCONFIG");
    }
    snprintf(why, sizeof why, "(native, no kernel IPv4 address: %s, as glibc should)",
             gai_strerror(rc));
    return true;
}

static bool check_gethostbyname(void)
{
    struct hostent *h = gethostbyname("localhost");
    if (h == NULL)
        return bad("gethostbyname: %s", hstrerror(h_errno));
    struct in_addr a;
    if (h->h_addrtype != AF_INET || h->h_length != 4 || h->h_addr_list[0] == NULL)
        return bad("gethostbyname: type %d length %d", h->h_addrtype, h->h_length);
    memcpy(&a, h->h_addr_list[0], sizeof a);
    return a.s_addr == htonl(INADDR_LOOPBACK) ? true : bad("localhost is %s", inet_ntoa(a));
}

/* ---- 7. Socket options ------------------------------------------------------------------- */

static bool get_flag(int fd, int level, int name)
{
    int v = 0;
    socklen_t len = sizeof v;
    return getsockopt(fd, level, name, &v, &len) == 0 && v != 0;
}

/* SO_REUSEADDR on a listener before bind, TCP_NODELAY and SO_KEEPALIVE on a
 * connection: accepted, read back set, and the connection works. */
static bool check_opts_routine(void)
{
    int l = track(socket(AF_INET, SOCK_STREAM, 0));
    struct sockaddr_in a = loopback(0);
    if (l < 0 || !set_int(l, SOL_SOCKET, SO_REUSEADDR, 1))
        return BAD_ERRNO("SO_REUSEADDR");
    if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 4) != 0)
        return BAD_ERRNO("bind/listen");
    int c = connected_to(l), s = track(accept(l, NULL, NULL));
    if (c < 0 || s < 0)
        return BAD_ERRNO("connect/accept");
    if (!set_int(c, IPPROTO_TCP, TCP_NODELAY, 1) || !set_int(c, SOL_SOCKET, SO_KEEPALIVE, 1))
        return BAD_ERRNO("TCP_NODELAY/SO_KEEPALIVE");
    if (!get_flag(l, SOL_SOCKET, SO_REUSEADDR) || !get_flag(c, IPPROTO_TCP, TCP_NODELAY) ||
        !get_flag(c, SOL_SOCKET, SO_KEEPALIVE))
        return bad("an option reads back unset");
    return round_trip(c, s, "options set");
}

/* An option Linux has and kite does not: natively 0; under kite-run -1
 * ENOPROTOOPT (kite-run's documented answer), never a crash. */
static bool opt_known_or_enoprotoopt(int fd, int level, int name, const void *v, socklen_t len,
                                     const char *what)
{
    errno = 0;
    int rc = setsockopt(fd, level, name, v, len);
    if (!under_kite && rc != 0)
        return bad("native %s: %s", what, ename(errno));
    if (under_kite && (rc != -1 || errno != ENOPROTOOPT))
        return bad("kite-run %s: %d (%s), expected -1 ENOPROTOOPT", what, rc, ename(errno));
    return true;
}

static bool check_opts_unknown(void)
{
    int one = 1, qlen = 5;
    int t = track(socket(AF_INET, SOCK_STREAM, 0)), u = track(socket(AF_INET, SOCK_DGRAM, 0));
    if (t < 0 || u < 0)
        return BAD_ERRNO("socket");
    if (!opt_known_or_enoprotoopt(t, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one, "SO_REUSEPORT") ||
        !opt_known_or_enoprotoopt(t, IPPROTO_TCP, TCP_FASTOPEN, &qlen, sizeof qlen,
                                  "TCP_FASTOPEN") ||
        !opt_known_or_enoprotoopt(t, IPPROTO_IP, IP_RECVERR, &one, sizeof one, "IP_RECVERR") ||
        !opt_known_or_enoprotoopt(t, IPPROTO_TCP, TCP_CONGESTION, "reno", 4, "TCP_CONGESTION") ||
        !opt_known_or_enoprotoopt(u, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one,
                                  "UDP SO_REUSEPORT") ||
        !opt_known_or_enoprotoopt(u, IPPROTO_IP, IP_RECVERR, &one, sizeof one, "UDP IP_RECVERR"))
        return false;
    /* The refused options left the socket usable. */
    struct sockaddr_in a = loopback(0);
    if (bind(t, (struct sockaddr *)&a, sizeof a) != 0 || listen(t, 4) != 0)
        return BAD_ERRNO("bind/listen after the options");
    int c = connected_to(t), s = track(accept(t, NULL, NULL));
    if (c < 0 || s < 0)
        return BAD_ERRNO("connect/accept after the options");
    return round_trip(c, s, "after the options");
}

/* ---- 8. Other families: the kernel's own ------------------------------------------------- */

static int sock_domain(int fd)
{
    int v = -1;
    socklen_t len = sizeof v;
    return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) == 0 ? v : -1;
}

static bool check_unix_pair(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return BAD_ERRNO("socketpair");
    track(sv[0]), track(sv[1]);
    if (sock_domain(sv[0]) != AF_UNIX)
        return bad("SO_DOMAIN %d, not AF_UNIX", sock_domain(sv[0]));
    if (!round_trip(sv[0], sv[1], "unix") || !round_trip(sv[1], sv[0], "back"))
        return false;
    if (shutdown(sv[0], SHUT_WR) != 0)
        return BAD_ERRNO("shutdown");
    return sees_eof(sv[1]) ? true : bad("no EOF after SHUT_WR");
}

/* An AF_INET6 stream over ::1, when the kernel has IPv6 (reported, not
 * failed, when it has not). */
static bool check_inet6(void)
{
    int l = track(socket(AF_INET6, SOCK_STREAM, 0));
    if (l < 0 && errno == EAFNOSUPPORT) {
        snprintf(why, sizeof why, "(no IPv6 in this kernel)");
        return true;
    }
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    socklen_t len = sizeof a;
    if (l < 0 || sock_domain(l) != AF_INET6)
        return bad("socket(AF_INET6): fd %d domain %d", l, sock_domain(l));
    if (bind(l, (struct sockaddr *)&a, sizeof a) != 0) {
        if (errno != EADDRNOTAVAIL)
            return BAD_ERRNO("bind ::1");
        snprintf(why, sizeof why, "(no ::1 here)");
        return true;
    }
    if (listen(l, 4) != 0 || getsockname(l, (struct sockaddr *)&a, &len) != 0)
        return BAD_ERRNO("bind/listen ::1");
    int c = track(socket(AF_INET6, SOCK_STREAM, 0));
    if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a) != 0)
        return BAD_ERRNO("connect ::1");
    int s = track(accept(l, NULL, NULL));
    if (s < 0)
        return BAD_ERRNO("accept ::1");
    return round_trip(c, s, "six") && round_trip(s, c, "back");
}

/* ---- 9. UDP ------------------------------------------------------------------------------ */

/* The IP_PKTINFO of m: to 127.0.0.1, arrived on lo. */
static bool pktinfo_ok(struct msghdr *m)
{
    struct cmsghdr *cm = CMSG_FIRSTHDR(m);
    if (m->msg_flags & MSG_CTRUNC)
        return bad("MSG_CTRUNC");
    if (cm == NULL || cm->cmsg_level != IPPROTO_IP || cm->cmsg_type != IP_PKTINFO ||
        cm->cmsg_len != CMSG_LEN(sizeof(struct in_pktinfo)))
        return bad("no IP_PKTINFO control message");
    struct in_pktinfo pi;
    memcpy(&pi, CMSG_DATA(cm), sizeof pi);
    if (pi.ipi_addr.s_addr != htonl(INADDR_LOOPBACK) ||
        pi.ipi_spec_dst.s_addr != htonl(INADDR_LOOPBACK))
        return bad("pktinfo addresses %#x %#x", ntohl(pi.ipi_addr.s_addr),
                   ntohl(pi.ipi_spec_dst.s_addr));
    unsigned lo = if_nametoindex("lo");
    if (pi.ipi_ifindex <= 0 || (lo != 0 && (unsigned)pi.ipi_ifindex != lo))
        return bad("pktinfo ifindex %d, lo is %u", pi.ipi_ifindex, lo);
    return true;
}

/* sendto one way, recvmsg with IP_PKTINFO; the reply back with plain calls. */
static bool check_udp_pktinfo(void)
{
    int a = bound(SOCK_DGRAM), b = bound(SOCK_DGRAM);
    char buf[64], ctl[CMSG_SPACE(sizeof(struct in_pktinfo)) + 64];
    struct sockaddr_in to = loopback(port_of(b)), from;
    struct iovec iov = {buf, sizeof buf};
    struct msghdr m = {.msg_name = &from,
                       .msg_namelen = sizeof from,
                       .msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = ctl,
                       .msg_controllen = sizeof ctl};
    if (a < 0 || b < 0 || !set_int(b, IPPROTO_IP, IP_PKTINFO, 1))
        return BAD_ERRNO("sockets/IP_PKTINFO");
    if (sendto(a, "ping", 4, 0, (struct sockaddr *)&to, sizeof to) != 4)
        return BAD_ERRNO("sendto");
    if (!(wait_for(b, POLLIN, WAIT_MS) & POLLIN))
        return bad("the datagram never arrived");
    ssize_t n = recvmsg(b, &m, MSG_DONTWAIT);
    if (n != 4 || memcmp(buf, "ping", 4) != 0)
        return n < 0 ? BAD_ERRNO("recvmsg") : bad("recvmsg gave %zd bytes", n);
    if (m.msg_namelen != sizeof from || from.sin_port != htons(port_of(a)) ||
        from.sin_addr.s_addr != htonl(INADDR_LOOPBACK))
        return bad("source %s:%u", inet_ntoa(from.sin_addr), ntohs(from.sin_port));
    if (!pktinfo_ok(&m))
        return false;
    if (sendto(b, "pong", 4, 0, (struct sockaddr *)&from, sizeof from) != 4)
        return BAD_ERRNO("reply");
    return recv_exact(a, "pong", 4);
}

/* sendmmsg sends each message as a datagram; recvmmsg takes them in order,
 * the first waiting (ppoll says when), the rest without (MSG_WAITFORONE). */
static bool check_udp_mmsg(void)
{
    int a = bound(SOCK_DGRAM), b = bound(SOCK_DGRAM);
    struct sockaddr_in to = loopback(port_of(b));
    char out[3][8] = {"one", "two!", "three"}, in[3][16];
    struct iovec ov[3], iv[3];
    struct mmsghdr sm[3], rm[3];
    memset(sm, 0, sizeof sm);
    memset(rm, 0, sizeof rm);
    for (int i = 0; i < 3; i++) {
        ov[i] = (struct iovec){out[i], strlen(out[i])};
        iv[i] = (struct iovec){in[i], sizeof in[i]};
        sm[i].msg_hdr = (struct msghdr){
            .msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &ov[i], .msg_iovlen = 1};
        rm[i].msg_hdr = (struct msghdr){.msg_iov = &iv[i], .msg_iovlen = 1};
    }
    if (a < 0 || b < 0)
        return BAD_ERRNO("sockets");
    if (sendmmsg(a, sm, 3, 0) != 3)
        return BAD_ERRNO("sendmmsg");
    struct pollfd p = {.fd = b, .events = POLLIN};
    struct timespec t = {2, 0};
    if (ppoll(&p, 1, &t, NULL) != 1 || !(p.revents & POLLIN))
        return bad("ppoll: datagrams not readable (%#x)", p.revents);
    int got = 0;
    for (int tries = 0; got < 3 && tries < 50; tries++) {
        int n = recvmmsg(b, rm + got, (unsigned)(3 - got), MSG_WAITFORONE, NULL);
        if (n < 0)
            return BAD_ERRNO("recvmmsg");
        got += n;
    }
    for (int i = 0; i < got; i++)
        if (rm[i].msg_len != strlen(out[i]) || memcmp(in[i], out[i], rm[i].msg_len) != 0)
            return bad("datagram %d: %u bytes, not \"%s\"", i, rm[i].msg_len, out[i]);
    return got == 3 ? true : bad("recvmmsg took %d of 3", got);
}

/* pselect with a signal mask: a blocked signal does not end the wait, the
 * timeout does; data ends it at once. */
static bool check_pselect(void)
{
    int a = bound(SOCK_DGRAM), b = bound(SOCK_DGRAM);
    struct sockaddr_in to = loopback(port_of(b));
    if (a < 0 || b < 0)
        return BAD_ERRNO("sockets");
    fd_set r;
    FD_ZERO(&r);
    FD_SET(b, &r);
    sigset_t mask;
    sigfillset(&mask);
    struct timespec t = {0, 100000000};
    int64_t start = now_ms();
    if (pselect(b + 1, &r, NULL, NULL, &t, &mask) != 0)
        return BAD_ERRNO("pselect with nothing to read");
    if (now_ms() - start < 90)
        return bad("pselect returned after %lld ms, not 100", (long long)(now_ms() - start));
    if (sendto(a, "x", 1, 0, (struct sockaddr *)&to, sizeof to) != 1)
        return BAD_ERRNO("sendto");
    FD_SET(b, &r);
    t = (struct timespec){2, 0};
    if (pselect(b + 1, &r, NULL, NULL, &t, &mask) != 1 || !FD_ISSET(b, &r))
        return bad("pselect: the datagram did not make the socket readable");
    return true;
}

/* A 0-length datagram is a datagram: readable, FIONREAD 0, recv returns 0
 * with its source, and the next datagram stays separate. */
static bool check_udp_empty(void)
{
    int a = bound(SOCK_DGRAM), b = bound(SOCK_DGRAM), n = -1;
    struct sockaddr_in to = loopback(port_of(b)), from = {0};
    socklen_t len = sizeof from;
    char buf[16];
    if (a < 0 || b < 0 || sendto(a, "", 0, 0, (struct sockaddr *)&to, sizeof to) != 0)
        return BAD_ERRNO("sendto of 0 bytes");
    if (!(wait_for(b, POLLIN, WAIT_MS) & POLLIN))
        return bad("the empty datagram does not make the socket readable");
    if (ioctl(b, FIONREAD, &n) != 0 || n != 0)
        return bad("FIONREAD %d, not 0", n);
    if (sendto(a, "next", 4, 0, (struct sockaddr *)&to, sizeof to) != 4)
        return BAD_ERRNO("sendto");
    ssize_t r = recvfrom(b, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &len);
    if (r != 0 || from.sin_port != htons(port_of(a)))
        return bad("recvfrom: %zd bytes from port %u", r, ntohs(from.sin_port));
    return recv_exact(b, "next", 4);
}

/* ---- The driver -------------------------------------------------------------------------- */

struct check {
    const char *name;
    bool (*fn)(void);
};

static const struct check checks[] = {
    {"epoll_level", check_epoll_level},
    {"epoll_edge", check_epoll_edge},
    {"epoll_out_rdhup", check_epoll_out_rdhup},
    {"epoll_err", check_epoll_err},
    {"udp_mmsg_ppoll", check_udp_mmsg},
    {"pselect_mask", check_pselect},
    {"poll_mixed", check_poll_mixed},
    {"poll_timeout", check_poll_timeout},
    {"select_mixed", check_select_mixed},
    {"select_timeout", check_select_timeout},
    {"dup", check_dup},
    {"dup2_onto_used", check_dup2_used},
    {"dup2_pipe_onto_socket", check_dup2_pipe_onto_socket},
    {"dup3_dupfd_cloexec", check_dup3_dupfd},
    {"fcntl_nonblock", check_fcntl_nonblock},
    {"ioctl_fionbio_fionread", check_ioctl},
    {"signal_recv_eintr", check_sig_recv_eintr},
    {"signal_recv_restart", check_sig_recv_restart},
    {"signal_rcvtimeo_eintr", check_sig_rcvtimeo_eintr},
    {"rcvtimeo_eagain", check_rcvtimeo_eagain},
    {"signal_accept_eintr", check_sig_accept_eintr},
    {"signal_accept_restart", check_sig_accept_restart},
    {"sigpipe", check_sigpipe},
    {"fork_child_sockets", check_fork_child},
    {"fork_exec_true", check_fork_exec},
    {"getaddrinfo_numeric", check_gai_numeric},
    {"getaddrinfo_localhost_addrconfig", check_gai_localhost},
    {"gethostbyname_localhost", check_gethostbyname},
    {"options_routine", check_opts_routine},
    {"options_unknown", check_opts_unknown},
    {"unix_socketpair", check_unix_pair},
    {"inet6_socket", check_inet6},
    {"udp_pktinfo", check_udp_pktinfo},
    {"udp_empty_datagram", check_udp_empty},
};

static _Atomic(const char *) running; /* the check the watchdog watches */
static atomic_llong running_since;

/* A check that hangs ends the program with its name (exit 2). */
static void *watchdog(void *arg)
{
    (void)arg;
    for (;;) {
        sleep_ms(100);
        const char *name = atomic_load(&running);
        if (name != NULL && now_ms() - atomic_load(&running_since) > CHECK_LIMIT_MS) {
            pid_t child = atomic_load(&child_pid);
            if (child > 0)
                kill(child, SIGKILL); /* (no orphan left behind) */
            /* (dprintf: the hung thread may hold stdout's lock) */
            dprintf(STDOUT_FILENO, "FAIL %s: still running after %d ms (watchdog)\n", name,
                    CHECK_LIMIT_MS);
            _exit(2);
        }
    }
    return NULL;
}

static void start_watchdog(void)
{
    pthread_t t;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* signals are for the checks' thread */
    if (pthread_create(&t, NULL, watchdog, NULL) == 0)
        pthread_detach(t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static bool run(const struct check *c)
{
    why[0] = '\0';
    atomic_store(&running_since, now_ms());
    atomic_store(&running, c->name);
    bool ok = c->fn();
    atomic_store(&running, NULL);
    close_tracked();
    signal(SIGALRM, SIG_IGN); /* (a helper's late signal must not kill us) */
    if (ok)
        printf("ok %s%s%s\n", c->name, why[0] ? " " : "", why);
    else
        printf("FAIL %s: %s\n", c->name, why);
    fflush(stdout);
    return ok;
}

int main(int argc, char **argv)
{
    const char *tap = getenv("KITE_TAP");
    int failed = 0, ran = 0;
    under_kite = tap != NULL;
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("# kr_probe: %s\n", under_kite ? "under kite-run (KITE_TAP set)" : "native Linux");
    signal(SIGPIPE, SIG_IGN);
    start_watchdog();
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        /* Arguments, if any, name the checks to run (for reproducing one). */
        bool chosen = argc < 2;
        for (int j = 1; j < argc; j++)
            chosen = chosen || strcmp(argv[j], checks[i].name) == 0;
        if (chosen) {
            ran++;
            failed += !run(&checks[i]);
        }
    }
    printf("# %d of %d checks failed\n", failed, ran);
    return failed != 0 || ran == 0;
}
