/* SPDX-License-Identifier: BSD-3-Clause */
/* connect (blocking, non-blocking, refused, EALREADY, EISCONN), accept and
 * accept4, the backlog, shutdown and half-close. */
#include "suite.h"

static int tcp(void)
{
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    assert_true(fd >= 0);
    S_set_timeouts(fd, 2000);
    return fd;
}

/* ---- connect --------------------------------------------------------------------------- */

static void connect_blocking(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 1);
    int c = tcp();
    struct kite_sockaddr_in sa = S_addr(port);
    S_OK(S_connect(c, &sa, SIN_LEN));
    S_RETURNS(S_get_int(c, KITE_SOL_SOCKET, KITE_SO_ERROR), 0);
    int s = S_accept(l, NULL, NULL);
    assert_true(s >= 0);
    S_OK(S_close(s));
    S_OK(S_close(c));
    S_OK(S_close(l));
}

static void connect_refused_blocking(void **st)
{
    (void)st;
    int c = tcp();
    struct kite_sockaddr_in sa = S_addr(S_newport());
    S_FAILS(S_connect(c, &sa, SIN_LEN), ECONNREFUSED);
    S_RETURNS(S_get_int(c, KITE_SOL_SOCKET, KITE_SO_ERROR), 0); /* reported already */
    S_OK(S_close(c));
}

static void connect_refused_nonblocking(void **st)
{
    (void)st;
    int c = tcp();
    S_nonblock(c, true);
    struct kite_sockaddr_in sa = S_addr(S_newport());
    S_FAILS(S_connect(c, &sa, SIN_LEN), EINPROGRESS);
    short r = S_wait_for(c, KITE_POLLOUT, 2000);
    assert_true(r & KITE_POLLOUT);
    assert_true(r & KITE_POLLERR);
    assert_int_equal(S_get_int(c, KITE_SOL_SOCKET, KITE_SO_ERROR), ECONNREFUSED);
    assert_int_equal(S_get_int(c, KITE_SOL_SOCKET, KITE_SO_ERROR), 0); /* read clears it */
    S_FAILS(S_connect(c, &sa, SIN_LEN), ECONNABORTED);                 /* the error was taken */
    S_OK(S_close(c));
}

static void connect_refused_nonblocking_revents(void **st)
{
    (void)st;
    int c = tcp();
    S_nonblock(c, true);
    struct kite_sockaddr_in sa = S_addr(S_newport());
    S_FAILS(S_connect(c, &sa, SIN_LEN), EINPROGRESS);
    assert_true(S_wait_for(c, KITE_POLLOUT, 2000) & KITE_POLLOUT);
    /* Linux: the reset closes both directions: readable, writable, error, hang-up */
    assert_int_equal(S_wait(c, KITE_POLLIN | KITE_POLLOUT, 0),
                     KITE_POLLIN | KITE_POLLOUT | KITE_POLLERR | KITE_POLLHUP);
    S_OK(S_close(c));
}

static void connect_nonblocking_completes(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 1);
    int c = tcp();
    S_nonblock(c, true);
    struct kite_sockaddr_in sa = S_addr(port), p;
    S_FAILS(S_connect(c, &sa, SIN_LEN), EINPROGRESS);
    assert_int_equal(S_wait(c, KITE_POLLOUT, 2000), KITE_POLLOUT);
    assert_int_equal(S_get_int(c, KITE_SOL_SOCKET, KITE_SO_ERROR), 0);
    kite_socklen_t len = sizeof p;
    S_OK(S_getpeername(c, &p, &len));
    assert_int_equal(S_port(&p), port);
    S_OK(S_connect(c, &sa, SIN_LEN)); /* Linux: the first connect after completion says 0 */
    S_FAILS(S_connect(c, &sa, SIN_LEN), EISCONN);
    S_OK(S_close(c));
    S_OK(S_close(l));
}

/* A blocking connect after a non-blocking one began: it waits for the
 * handshake and says 0 (Linux's __inet_stream_connect), then EISCONN. */
static void connect_blocking_after_nonblocking(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 1);
    int c = tcp();
    S_nonblock(c, true);
    struct kite_sockaddr_in sa = S_addr(port);
    S_FAILS(S_connect(c, &sa, SIN_LEN), EINPROGRESS);
    S_nonblock(c, false);
    S_OK(S_connect(c, &sa, SIN_LEN));
    S_FAILS(S_connect(c, &sa, SIN_LEN), EISCONN);
    S_OK(S_close(c));
    S_OK(S_close(l));
}

static void connect_nonblocking_via_select(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 1);
    int c = tcp();
    S_nonblock(c, true);
    struct kite_sockaddr_in sa = S_addr(port);
    S_FAILS(S_connect(c, &sa, SIN_LEN), EINPROGRESS);
    S_fdset w;
    S_FD_ZERO(&w);
    S_FD_SET(c, &w);
    struct kite_timeval tv = {2, 0};
    S_RETURNS(S_select(c + 1, NULL, &w, NULL, &tv), 1);
    assert_true(S_FD_ISSET(c, &w));
    assert_int_equal(S_get_int(c, KITE_SOL_SOCKET, KITE_SO_ERROR), 0);
    S_OK(S_close(c));
    S_OK(S_close(l));
}

static void connect_isconn(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    struct kite_sockaddr_in sa = S_addr(S_newport());
    S_FAILS(S_connect(c, &sa, SIN_LEN), EISCONN);
    S_FAILS(S_connect(s, &sa, SIN_LEN), EISCONN);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

/* A listener whose accept queue is full drops SYNs: a connect to it stays in
 * progress, and asking again says EALREADY. */
static int full_listener(uint16_t *port, int *first)
{
    int l = S_listener(port, 0); /* Linux queues backlog + 1 = one connection */
    int c = tcp();
    struct kite_sockaddr_in sa = S_addr(*port);
    S_OK(S_connect(c, &sa, SIN_LEN));
    *first = c;
    S_sleep_ms(50);
    return l;
}

static void connect_already(void **st)
{
    (void)st;
    uint16_t port;
    int first;
    int l = full_listener(&port, &first);
    int c = tcp();
    S_nonblock(c, true);
    struct kite_sockaddr_in sa = S_addr(port);
    S_FAILS(S_connect(c, &sa, SIN_LEN), EINPROGRESS);
    assert_int_equal(S_wait(c, KITE_POLLOUT, 200), 0); /* the SYN was dropped */
    S_FAILS(S_connect(c, &sa, SIN_LEN), EALREADY);
    S_OK(S_close(c));
    S_OK(S_close(first));
    S_OK(S_close(l));
}

static void connect_short_len(void **st)
{
    (void)st;
    int c = tcp();
    struct kite_sockaddr_in sa = S_addr(S_newport());
    S_FAILS(S_connect(c, &sa, 8), EINVAL);
    S_OK(S_close(c));
}

static void connect_wrong_family(void **st)
{
    (void)st;
    int c = tcp();
    struct kite_sockaddr_in sa = S_addr(S_newport());
    sa.sin_family = 10;
    S_FAILS(S_connect(c, &sa, SIN_LEN), EAFNOSUPPORT);
    S_OK(S_close(c));
}

static void connect_on_listener(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 1);
    struct kite_sockaddr_in sa = S_addr(S_newport());
    S_FAILS(S_connect(l, &sa, SIN_LEN), EISCONN);
    S_OK(S_close(l));
}

static void connect_binds_local(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 1);
    int c = tcp();
    uint16_t mine = S_newport();
    struct kite_sockaddr_in me = S_addr(mine), sa = S_addr(port), peer;
    S_OK(S_bind(c, &me, SIN_LEN));
    S_OK(S_connect(c, &sa, SIN_LEN));
    kite_socklen_t len = sizeof peer;
    int s = S_accept(l, &peer, &len);
    assert_true(s >= 0);
    assert_int_equal(S_port(&peer), mine);
    S_OK(S_close(s));
    S_OK(S_close(c));
    S_OK(S_close(l));
}

static void connect_udp_default_peer(void **st)
{
    (void)st;
    int a, b;
    uint16_t ap, bp;
    S_udp_pair(&a, &ap, &b, &bp);
    struct kite_sockaddr_in to = S_addr(bp), p, from;
    S_OK(S_connect(a, &to, SIN_LEN));
    kite_socklen_t len = sizeof p;
    S_OK(S_getpeername(a, &p, &len));
    assert_int_equal(S_port(&p), bp);
    S_RETURNS(S_send(a, "hi", 2, 0), 2);
    char buf[8];
    len = sizeof from;
    S_RETURNS(S_recvfrom(b, buf, sizeof buf, 0, &from, &len), 2);
    assert_int_equal(S_port(&from), ap);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

static void connect_udp_unspec_dissolves(void **st)
{
    (void)st;
    int a, b;
    uint16_t bp;
    S_udp_pair(&a, NULL, &b, &bp);
    struct kite_sockaddr_in to = S_addr(bp), p;
    S_OK(S_connect(a, &to, SIN_LEN));
    struct kite_sockaddr_in un;
    memset(&un, 0, sizeof un);
    un.sin_family = KITE_AF_UNSPEC;
    S_OK(S_connect(a, &un, SIN_LEN));
    kite_socklen_t len = sizeof p;
    S_FAILS(S_getpeername(a, &p, &len), ENOTCONN);
    S_FAILS(S_send(a, "x", 1, 0), EDESTADDRREQ);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

static void connect_udp_twice_changes_peer(void **st)
{
    (void)st;
    int a, b;
    uint16_t bp;
    S_udp_pair(&a, NULL, &b, &bp);
    uint16_t other = S_newport();
    struct kite_sockaddr_in t1 = S_addr(other), t2 = S_addr(bp), p;
    S_OK(S_connect(a, &t1, SIN_LEN));
    S_OK(S_connect(a, &t2, SIN_LEN));
    kite_socklen_t len = sizeof p;
    S_OK(S_getpeername(a, &p, &len));
    assert_int_equal(S_port(&p), bp);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

/* ---- accept ---------------------------------------------------------------------------- */

static void accept_peer_address(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 1);
    int c = tcp();
    struct kite_sockaddr_in sa = S_addr(port), peer;
    S_OK(S_connect(c, &sa, SIN_LEN));
    memset(&peer, 0, sizeof peer);
    kite_socklen_t len = sizeof peer;
    int s = S_accept(l, &peer, &len);
    assert_true(s >= 0);
    assert_int_equal(len, SIN_LEN);
    assert_int_equal(peer.sin_family, KITE_AF_INET);
    assert_int_equal(S_ip(&peer), S_LOOPBACK);
    assert_int_equal(S_port(&peer), S_local_port(c));
    assert_int_equal(S_local_port(s), port);
    S_OK(S_close(s));
    S_OK(S_close(c));
    S_OK(S_close(l));
}

static void accept_null_address(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 1);
    int c = tcp();
    struct kite_sockaddr_in sa = S_addr(port);
    S_OK(S_connect(c, &sa, SIN_LEN));
    int s = S_accept(l, NULL, NULL);
    assert_true(s >= 0);
    S_OK(S_close(s));
    S_OK(S_close(c));
    S_OK(S_close(l));
}

static void accept_short_len(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 1);
    int c = tcp();
    struct kite_sockaddr_in sa = S_addr(port), peer;
    S_OK(S_connect(c, &sa, SIN_LEN));
    memset(&peer, 0, sizeof peer);
    kite_socklen_t len = 4;
    int s = S_accept(l, &peer, &len);
    assert_true(s >= 0);
    assert_int_equal(len, SIN_LEN);
    assert_int_equal(peer.sin_family, KITE_AF_INET);
    assert_int_equal(peer.sin_addr.s_addr, 0); /* not written */
    S_OK(S_close(s));
    S_OK(S_close(c));
    S_OK(S_close(l));
}

static void accept_not_listening(void **st)
{
    (void)st;
    int fd = tcp();
    S_FAILS(S_accept(fd, NULL, NULL), EINVAL);
    S_OK(S_close(fd));
}

static void accept_udp(void **st)
{
    (void)st;
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_DGRAM, 0);
    S_FAILS(S_accept(fd, NULL, NULL), EOPNOTSUPP);
    S_OK(S_close(fd));
}

static void accept_nonblocking_empty(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 1);
    S_nonblock(l, true);
    S_FAILS(S_accept(l, NULL, NULL), EAGAIN);
    S_OK(S_close(l));
}

static void accept4_nonblock(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 1);
    int c = tcp();
    struct kite_sockaddr_in sa = S_addr(port);
    S_OK(S_connect(c, &sa, SIN_LEN));
    int s = S_accept4(l, NULL, NULL, KITE_SOCK_NONBLOCK);
    assert_true(s >= 0);
    S_RETURNS(S_fcntl(s, KITE_F_GETFL, 0), KITE_O_RDWR | KITE_O_NONBLOCK);
    char b;
    S_FAILS(S_recv(s, &b, 1, 0), EAGAIN);
    S_OK(S_close(s));
    S_OK(S_close(c));
    S_OK(S_close(l));
}

static void accept4_no_flags(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 1);
    int c = tcp();
    struct kite_sockaddr_in sa = S_addr(port);
    S_OK(S_connect(c, &sa, SIN_LEN));
    int s = S_accept4(l, NULL, NULL, 0);
    assert_true(s >= 0);
    S_RETURNS(S_fcntl(s, KITE_F_GETFL, 0), KITE_O_RDWR);
    S_OK(S_close(s));
    S_OK(S_close(c));
    S_OK(S_close(l));
}

static void accept4_bad_flags(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 1);
    S_FAILS(S_accept4(l, NULL, NULL, 0x1), EINVAL);
    S_OK(S_close(l));
}

/* The accepted socket does not inherit O_NONBLOCK from the listener. */
static void accept_does_not_inherit_nonblock(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 1);
    S_nonblock(l, true);
    int c = tcp();
    struct kite_sockaddr_in sa = S_addr(port);
    S_OK(S_connect(c, &sa, SIN_LEN));
    assert_int_equal(S_wait(l, KITE_POLLIN, 2000), KITE_POLLIN);
    int s = S_accept(l, NULL, NULL);
    assert_true(s >= 0);
    S_RETURNS(S_fcntl(s, KITE_F_GETFL, 0), KITE_O_RDWR);
    S_OK(S_close(s));
    S_OK(S_close(c));
    S_OK(S_close(l));
}

static void accept_in_order(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 4);
    int c1 = tcp(), c2 = tcp();
    struct kite_sockaddr_in sa = S_addr(port), peer;
    S_OK(S_connect(c1, &sa, SIN_LEN));
    S_OK(S_connect(c2, &sa, SIN_LEN));
    kite_socklen_t len = sizeof peer;
    int s1 = S_accept(l, &peer, &len);
    assert_int_equal(S_port(&peer), S_local_port(c1));
    len = sizeof peer;
    int s2 = S_accept(l, &peer, &len);
    assert_int_equal(S_port(&peer), S_local_port(c2));
    S_OK(S_close(s1));
    S_OK(S_close(s2));
    S_OK(S_close(c1));
    S_OK(S_close(c2));
    S_OK(S_close(l));
}

static void accept_timeout(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 1);
    S_set_timeouts(l, 200);
    int64_t t0 = S_now_ms();
    S_FAILS(S_accept(l, NULL, NULL), EAGAIN);
    int64_t dt = S_now_ms() - t0;
    assert_true(dt >= 150 && dt < 1500);
    S_OK(S_close(l));
}

/* Data sent before accept is waiting in the accepted socket. */
static void accept_data_before_accept(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 1);
    int c = tcp();
    struct kite_sockaddr_in sa = S_addr(port);
    S_OK(S_connect(c, &sa, SIN_LEN));
    S_RETURNS(S_send(c, "early", 5, 0), 5);
    S_sleep_ms(50);
    int s = S_accept(l, NULL, NULL);
    assert_true(s >= 0);
    S_set_timeouts(s, 2000);
    char buf[8];
    S_recv_all(s, buf, 5);
    assert_memory_equal(buf, "early", 5);
    S_OK(S_close(s));
    S_OK(S_close(c));
    S_OK(S_close(l));
}

/* ---- backlog --------------------------------------------------------------------------- */

/* listen(1): Linux completes backlog + 1 = 2 handshakes and drops the SYNs
 * of the rest, which stay in progress. */
static void backlog_overflow(void **st)
{
    (void)st;
    uint16_t port;
    /* backlog + 1 connections complete (Linux's sk_acceptq_is_full), the next
     * one waits. With backlog 1 that is three clients and two server ends,
     * five TCP pcbs in one kite stack: min_ram has four, so there the same
     * is checked with backlog 0 (two clients, one server end). */
    int backlog = S_is_kite && KITE_TCP_PCB_COUNT < 5 ? 0 : 1;
    int n = backlog + 2;
    int l = S_listener(&port, backlog);
    int c[3];
    struct kite_sockaddr_in sa = S_addr(port);
    for (int i = 0; i < n; i++) {
        c[i] = tcp();
        S_nonblock(c[i], true);
        S_FAILS(S_connect(c[i], &sa, SIN_LEN), EINPROGRESS);
        S_sleep_ms(30);
    }
    S_sleep_ms(200);
    int ready = 0;
    for (int i = 0; i < n; i++) {
        short r = S_wait(c[i], KITE_POLLOUT, 0);
        assert_int_equal(r & KITE_POLLERR, 0); /* not refused: dropped */
        if (r & KITE_POLLOUT)
            ready++;
    }
    assert_int_equal(ready, backlog + 1);
    assert_int_equal(S_wait(c[n - 1], KITE_POLLOUT, 0), 0); /* the last one waits */
    S_nonblock(l, true);
    int s[2] = {-1, -1};
    for (int i = 0; i <= backlog; i++) {
        s[i] = S_accept(l, NULL, NULL);
        assert_true(s[i] >= 0);
    }
    S_FAILS(S_accept(l, NULL, NULL), EAGAIN);
    for (int i = 0; i < n; i++)
        S_OK(S_close(c[i]));
    for (int i = 0; i <= backlog; i++)
        S_OK(S_close(s[i]));
    S_OK(S_close(l));
}

/* Connections queued but never accepted are reset when the listener closes. */
static void listener_close_resets_queued(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 2);
    int c = tcp();
    struct kite_sockaddr_in sa = S_addr(port);
    S_OK(S_connect(c, &sa, SIN_LEN));
    S_sleep_ms(50);
    S_OK(S_close(l));
    char b;
    S_FAILS(S_recv(c, &b, 1, 0), ECONNRESET);
    S_OK(S_close(c));
}

/* After accepting, the queue has room again: a dropped SYN's retry gets in. */
static void backlog_room_after_accept(void **st)
{
    (void)st;
    uint16_t port;
    int first;
    int l = full_listener(&port, &first);
    int s = S_accept(l, NULL, NULL);
    assert_true(s >= 0);
    int c = tcp();
    struct kite_sockaddr_in sa = S_addr(port);
    S_OK(S_connect(c, &sa, SIN_LEN));
    int s2 = S_accept(l, NULL, NULL);
    assert_true(s2 >= 0);
    S_OK(S_close(s2));
    S_OK(S_close(c));
    S_OK(S_close(s));
    S_OK(S_close(first));
    S_OK(S_close(l));
}

/* ---- shutdown -------------------------------------------------------------------------- */

static void shutdown_wr_gives_peer_eof(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_OK(S_shutdown(c, KITE_SHUT_WR));
    char b;
    S_RETURNS(S_recv(s, &b, 1, 0), 0);
    S_RETURNS(S_recv(s, &b, 1, 0), 0);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void shutdown_wr_then_send(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_OK(S_shutdown(c, KITE_SHUT_WR));
    S_FAILS(S_send(c, "x", 1, KITE_MSG_NOSIGNAL), EPIPE);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void half_close_other_way_flows(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_RETURNS(S_send(c, "req", 3, 0), 3);
    S_OK(S_shutdown(c, KITE_SHUT_WR));
    char buf[8];
    S_recv_all(s, buf, 3);
    assert_memory_equal(buf, "req", 3);
    S_RETURNS(S_recv(s, buf, sizeof buf, 0), 0);
    S_RETURNS(S_send(s, "reply", 5, 0), 5); /* the other direction still works */
    S_recv_all(c, buf, 5);
    assert_memory_equal(buf, "reply", 5);
    S_OK(S_close(s));
    S_RETURNS(S_recv(c, buf, sizeof buf, 0), 0);
    S_OK(S_close(c));
}

static void shutdown_rd_recv_returns_zero(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_OK(S_shutdown(c, KITE_SHUT_RD));
    char b;
    int64_t t0 = S_now_ms();
    S_RETURNS(S_recv(c, &b, 1, 0), 0); /* at once, no waiting */
    assert_true(S_now_ms() - t0 < 500);
    S_RETURNS(S_send(c, "x", 1, 0), 1); /* sending still works */
    S_recv_all(s, &b, 1);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void shutdown_rdwr(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_OK(S_shutdown(c, KITE_SHUT_RDWR));
    char b;
    S_RETURNS(S_recv(c, &b, 1, 0), 0);
    S_FAILS(S_send(c, "x", 1, KITE_MSG_NOSIGNAL), EPIPE);
    S_RETURNS(S_recv(s, &b, 1, 0), 0);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void shutdown_wr_twice(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_OK(S_shutdown(c, KITE_SHUT_WR));
    S_OK(S_shutdown(c, KITE_SHUT_WR));
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void shutdown_unconnected(void **st)
{
    (void)st;
    int fd = tcp();
    S_FAILS(S_shutdown(fd, KITE_SHUT_RDWR), ENOTCONN);
    S_OK(S_close(fd));
}

static void shutdown_unconnected_udp(void **st)
{
    (void)st;
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_DGRAM, 0);
    S_FAILS(S_shutdown(fd, KITE_SHUT_RDWR), ENOTCONN);
    S_OK(S_close(fd));
}

static void shutdown_bad_how(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_FAILS(S_shutdown(c, 3), EINVAL);
    S_FAILS(S_shutdown(c, -1), EINVAL);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

/* Linux's F_GETFL says O_RDWR whatever was shut down; kite reports the
 * direction left, as lwIP and ESP-IDF do (DIFFERENCES.md). */
static void shutdown_fgetfl_access_mode(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_OK(S_shutdown(c, KITE_SHUT_WR));
    S_OK(S_shutdown(s, KITE_SHUT_RD));
    if (S_kite_api) {
        S_RETURNS(S_fcntl(c, KITE_F_GETFL, 0), KITE_O_RDONLY);
        S_RETURNS(S_fcntl(s, KITE_F_GETFL, 0), KITE_O_WRONLY);
    } else {
        S_RETURNS(S_fcntl(c, KITE_F_GETFL, 0), KITE_O_RDWR);
        S_RETURNS(S_fcntl(s, KITE_F_GETFL, 0), KITE_O_RDWR);
    }
    S_OK(S_close(c));
    S_OK(S_close(s));
}

const struct CMUnitTest cases_connect[] = {
    S_CASE(connect_blocking),
    S_CASE(connect_refused_blocking),
    S_CASE(connect_refused_nonblocking),
    S_CASE(connect_refused_nonblocking_revents),
    S_CASE(connect_nonblocking_completes),
    S_CASE(connect_blocking_after_nonblocking),
    S_CASE(connect_nonblocking_via_select),
    S_CASE(connect_isconn),
    S_CASE(connect_already),
    S_CASE(connect_short_len),
    S_CASE(connect_wrong_family),
    S_CASE(connect_on_listener),
    S_CASE(connect_binds_local),
    S_CASE(connect_udp_default_peer),
    S_CASE(connect_udp_unspec_dissolves),
    S_CASE(connect_udp_twice_changes_peer),
    S_CASE(accept_peer_address),
    S_CASE(accept_null_address),
    S_CASE(accept_short_len),
    S_CASE(accept_not_listening),
    S_CASE(accept_udp),
    S_CASE(accept_nonblocking_empty),
    S_CASE(accept4_nonblock),
    S_CASE(accept4_no_flags),
    S_CASE(accept4_bad_flags),
    S_CASE(accept_does_not_inherit_nonblock),
    S_CASE(accept_in_order),
    S_CASE(accept_timeout),
    S_CASE(accept_data_before_accept),
    S_CASE(backlog_overflow),
    S_CASE(listener_close_resets_queued),
    S_CASE(backlog_room_after_accept),
    S_CASE(shutdown_wr_gives_peer_eof),
    S_CASE(shutdown_wr_then_send),
    S_CASE(half_close_other_way_flows),
    S_CASE(shutdown_rd_recv_returns_zero),
    S_CASE(shutdown_rdwr),
    S_CASE(shutdown_wr_twice),
    S_CASE(shutdown_unconnected),
    S_CASE(shutdown_unconnected_udp),
    S_CASE(shutdown_bad_how),
    S_CASE(shutdown_fgetfl_access_mode),
};
const size_t cases_connect_n = sizeof cases_connect / sizeof cases_connect[0];
