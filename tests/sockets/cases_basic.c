/* SPDX-License-Identifier: BSD-3-Clause */
/* socket, close, EBADF everywhere, bind, listen, getsockname/getpeername. */
#include "suite.h"

static struct kite_sockaddr_in sin_any(uint16_t port)
{
    return S_addr_ip(0, port);
}

/* ---- socket ------------------------------------------------------------------------ */

static void socket_tcp(void **st)
{
    (void)st;
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(S_get_int(fd, KITE_SOL_SOCKET, KITE_SO_TYPE), KITE_SOCK_STREAM);
    S_OK(S_close(fd));
}

static void socket_udp(void **st)
{
    (void)st;
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(S_get_int(fd, KITE_SOL_SOCKET, KITE_SO_TYPE), KITE_SOCK_DGRAM);
    S_OK(S_close(fd));
}

static void socket_tcp_explicit_protocol(void **st)
{
    (void)st;
    int fd = S_socket(KITE_PF_INET, KITE_SOCK_STREAM, KITE_IPPROTO_TCP);
    assert_true(fd >= 0);
    S_OK(S_close(fd));
}

static void socket_udp_explicit_protocol(void **st)
{
    (void)st;
    int fd = S_socket(KITE_PF_INET, KITE_SOCK_DGRAM, KITE_IPPROTO_UDP);
    assert_true(fd >= 0);
    S_OK(S_close(fd));
}

static void socket_unknown_domain(void **st)
{
    (void)st;
    S_FAILS(S_socket(1000, KITE_SOCK_STREAM, 0), EAFNOSUPPORT);
}

static void socket_af_unspec(void **st)
{
    (void)st;
    S_FAILS(S_socket(KITE_AF_UNSPEC, KITE_SOCK_STREAM, 0), EAFNOSUPPORT);
}

static void socket_unknown_type(void **st)
{
    (void)st;
    S_FAILS(S_socket(KITE_AF_INET, 99, 0), EINVAL);
}

static void socket_unknown_type_flags(void **st)
{
    (void)st;
    S_FAILS(S_socket(KITE_AF_INET, KITE_SOCK_STREAM | 0x100, 0), EINVAL);
}

static void socket_stream_with_udp(void **st)
{
    (void)st;
    S_FAILS(S_socket(KITE_AF_INET, KITE_SOCK_STREAM, KITE_IPPROTO_UDP), EPROTONOSUPPORT);
}

static void socket_dgram_with_tcp(void **st)
{
    (void)st;
    S_FAILS(S_socket(KITE_AF_INET, KITE_SOCK_DGRAM, KITE_IPPROTO_TCP), EPROTONOSUPPORT);
}

static void socket_default_blocking(void **st)
{
    (void)st;
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    S_RETURNS(S_fcntl(fd, KITE_F_GETFL, 0), KITE_O_RDWR);
    S_OK(S_close(fd));
}

static void socket_nonblock_flag(void **st)
{
    (void)st;
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_STREAM | KITE_SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    S_RETURNS(S_fcntl(fd, KITE_F_GETFL, 0), KITE_O_RDWR | KITE_O_NONBLOCK);
    int u = S_socket(KITE_AF_INET, KITE_SOCK_DGRAM | KITE_SOCK_NONBLOCK, 0);
    assert_true(u >= 0);
    S_RETURNS(S_fcntl(u, KITE_F_GETFL, 0), KITE_O_RDWR | KITE_O_NONBLOCK);
    S_OK(S_close(fd));
    S_OK(S_close(u));
}

static void socket_cloexec_accepted(void **st)
{
    (void)st;
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_DGRAM | KITE_SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    S_RETURNS(S_fcntl(fd, KITE_F_GETFL, 0), KITE_O_RDWR);
    S_OK(S_close(fd));
}

static void socket_distinct_numbers(void **st)
{
    (void)st;
    int a = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    int b = S_socket(KITE_AF_INET, KITE_SOCK_DGRAM, 0);
    assert_true(a >= 0 && b >= 0);
    assert_int_not_equal(a, b);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

/* ---- close and EBADF ----------------------------------------------------------------- */

static void close_twice(void **st)
{
    (void)st;
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    S_OK(S_close(fd));
    S_FAILS(S_close(fd), EBADF);
}

static void close_negative(void **st)
{
    (void)st;
    S_FAILS(S_close(-1), EBADF);
}

static void close_out_of_range(void **st)
{
    (void)st;
    S_FAILS(S_close(100000), EBADF);
}

#define EBADF_CASE(name, expr)                                                                     \
    static void ebadf_##name(void **st)                                                            \
    {                                                                                              \
        (void)st;                                                                                  \
        int fd = S_closed_fd();                                                                    \
        struct kite_sockaddr_in a = S_addr(9);                                                     \
        kite_socklen_t len = SIN_LEN;                                                              \
        char buf[8] = {0};                                                                         \
        int v = 1;                                                                                 \
        struct kite_iovec iov = {buf, sizeof buf};                                                 \
        struct kite_msghdr m = {NULL, 0, &iov, 1, NULL, 0, 0};                                     \
        (void)a, (void)len, (void)buf, (void)v, (void)iov, (void)m;                                \
        S_FAILS(expr, EBADF);                                                                      \
    }
EBADF_CASE(bind, S_bind(fd, &a, SIN_LEN))
EBADF_CASE(listen, S_listen(fd, 1))
EBADF_CASE(accept, S_accept(fd, &a, &len))
EBADF_CASE(accept4, S_accept4(fd, &a, &len, KITE_SOCK_NONBLOCK))
EBADF_CASE(connect, S_connect(fd, &a, SIN_LEN))
EBADF_CASE(shutdown, S_shutdown(fd, KITE_SHUT_RDWR))
EBADF_CASE(getsockname, S_getsockname(fd, &a, &len))
EBADF_CASE(getpeername, S_getpeername(fd, &a, &len))
EBADF_CASE(getsockopt, S_getsockopt(fd, KITE_SOL_SOCKET, KITE_SO_TYPE, &v, &len))
EBADF_CASE(setsockopt, S_setsockopt(fd, KITE_SOL_SOCKET, KITE_SO_REUSEADDR, &v, sizeof v))
EBADF_CASE(recv, S_recv(fd, buf, sizeof buf, KITE_MSG_DONTWAIT))
EBADF_CASE(recvfrom, S_recvfrom(fd, buf, sizeof buf, 0, &a, &len))
EBADF_CASE(recvmsg, S_recvmsg(fd, &m, 0))
EBADF_CASE(read, S_read(fd, buf, sizeof buf))
EBADF_CASE(readv, S_readv(fd, &iov, 1))
EBADF_CASE(send, S_send(fd, buf, sizeof buf, 0))
EBADF_CASE(sendto, S_sendto(fd, buf, sizeof buf, 0, &a, SIN_LEN))
EBADF_CASE(sendmsg, S_sendmsg(fd, &m, 0))
EBADF_CASE(write, S_write(fd, buf, sizeof buf))
EBADF_CASE(writev, S_writev(fd, &iov, 1))
EBADF_CASE(fcntl, S_fcntl(fd, KITE_F_GETFL, 0))
EBADF_CASE(ioctl, S_ioctl(fd, KITE_FIONBIO, &v))

/* ---- bind ---------------------------------------------------------------------------- */

static void bind_port0_gets_ephemeral(void **st)
{
    (void)st;
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    struct kite_sockaddr_in a = sin_any(0), got;
    S_OK(S_bind(fd, &a, SIN_LEN));
    kite_socklen_t len = sizeof got;
    S_OK(S_getsockname(fd, &got, &len));
    assert_int_equal(len, SIN_LEN);
    assert_int_equal(got.sin_family, KITE_AF_INET);
    assert_int_equal(S_ip(&got), 0);
    assert_int_not_equal(S_port(&got), 0);
    S_OK(S_close(fd));
}

static void bind_loopback_port(void **st)
{
    (void)st;
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_DGRAM, 0);
    uint16_t port = S_newport();
    struct kite_sockaddr_in a = S_addr(port), got;
    S_OK(S_bind(fd, &a, SIN_LEN));
    kite_socklen_t len = sizeof got;
    S_OK(S_getsockname(fd, &got, &len));
    assert_int_equal(S_ip(&got), S_LOOPBACK);
    assert_int_equal(S_port(&got), port);
    S_OK(S_close(fd));
}

static void bind_twice(void **st)
{
    (void)st;
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    struct kite_sockaddr_in a = S_addr(S_newport()), b = S_addr(S_newport());
    S_OK(S_bind(fd, &a, SIN_LEN));
    S_FAILS(S_bind(fd, &b, SIN_LEN), EINVAL);
    S_OK(S_close(fd));
}

static void bind_twice_udp(void **st)
{
    (void)st;
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_DGRAM, 0);
    struct kite_sockaddr_in a = S_addr(S_newport()), b = S_addr(S_newport());
    S_OK(S_bind(fd, &a, SIN_LEN));
    S_FAILS(S_bind(fd, &b, SIN_LEN), EINVAL);
    S_OK(S_close(fd));
}

static void bind_addrinuse_tcp(void **st)
{
    (void)st;
    int a = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    int b = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    struct kite_sockaddr_in sa = S_addr(S_newport());
    S_OK(S_bind(a, &sa, SIN_LEN));
    S_FAILS(S_bind(b, &sa, SIN_LEN), EADDRINUSE);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

static void bind_addrinuse_listening(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 1);
    int b = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    S_set_int(b, KITE_SOL_SOCKET, KITE_SO_REUSEADDR, 1); /* no help against a listener */
    struct kite_sockaddr_in sa = S_addr(port);
    S_FAILS(S_bind(b, &sa, SIN_LEN), EADDRINUSE);
    S_OK(S_close(l));
    S_OK(S_close(b));
}

static void bind_addrinuse_udp(void **st)
{
    (void)st;
    int a = S_socket(KITE_AF_INET, KITE_SOCK_DGRAM, 0);
    int b = S_socket(KITE_AF_INET, KITE_SOCK_DGRAM, 0);
    struct kite_sockaddr_in sa = S_addr(S_newport());
    S_OK(S_bind(a, &sa, SIN_LEN));
    S_FAILS(S_bind(b, &sa, SIN_LEN), EADDRINUSE);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

static void bind_addrinuse_wildcard_vs_specific(void **st)
{
    (void)st;
    int a = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    int b = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    uint16_t port = S_newport();
    struct kite_sockaddr_in any = sin_any(port), lo = S_addr(port);
    S_OK(S_bind(a, &any, SIN_LEN));
    S_FAILS(S_bind(b, &lo, SIN_LEN), EADDRINUSE);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

static void bind_tcp_and_udp_same_port(void **st)
{
    (void)st;
    int t = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    int u = S_socket(KITE_AF_INET, KITE_SOCK_DGRAM, 0);
    struct kite_sockaddr_in sa = S_addr(S_newport());
    S_OK(S_bind(t, &sa, SIN_LEN));
    S_OK(S_bind(u, &sa, SIN_LEN));
    S_OK(S_close(t));
    S_OK(S_close(u));
}

static void bind_port_free_after_close(void **st)
{
    (void)st;
    struct kite_sockaddr_in sa = S_addr(S_newport());
    int a = S_socket(KITE_AF_INET, KITE_SOCK_DGRAM, 0);
    S_OK(S_bind(a, &sa, SIN_LEN));
    S_OK(S_close(a));
    int b = S_socket(KITE_AF_INET, KITE_SOCK_DGRAM, 0);
    S_OK(S_bind(b, &sa, SIN_LEN));
    S_OK(S_close(b));
}

/* The server side closes first and keeps the connection in TIME_WAIT: on
 * Linux a new listener on the port needs SO_REUSEADDR (set on the old
 * listener too: its connections keep its setting into TIME_WAIT). kite lets
 * TIME_WAIT never block a bind (DIFFERENCES.md). */
static void bind_time_wait_needs_reuseaddr(void **st)
{
    (void)st;
    uint16_t port = S_newport();
    struct kite_sockaddr_in sa = S_addr(port);
    int l = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    S_set_int(l, KITE_SOL_SOCKET, KITE_SO_REUSEADDR, 1);
    S_OK(S_bind(l, &sa, SIN_LEN));
    S_OK(S_listen(l, 1));
    S_set_timeouts(l, 2000);
    int c = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    S_set_timeouts(c, 2000);
    S_OK(S_connect(c, &sa, SIN_LEN));
    int s = S_accept(l, NULL, NULL);
    assert_true(s >= 0);
    S_OK(S_close(l));
    S_OK(S_close(s)); /* active close: s goes to TIME_WAIT once c closes too */
    char b;
    S_RETURNS(S_recv(c, &b, 1, 0), 0);
    S_OK(S_close(c));
    S_sleep_ms(100);
    int n = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    if (S_is_kite) {
        S_OK(S_bind(n, &sa, SIN_LEN));
    } else {
        S_FAILS(S_bind(n, &sa, SIN_LEN), EADDRINUSE);
        S_set_int(n, KITE_SOL_SOCKET, KITE_SO_REUSEADDR, 1);
        S_OK(S_bind(n, &sa, SIN_LEN));
    }
    S_OK(S_listen(n, 1));
    S_OK(S_close(n));
}

static void bind_short_len(void **st)
{
    (void)st;
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    struct kite_sockaddr_in sa = S_addr(S_newport());
    S_FAILS(S_bind(fd, &sa, 8), EINVAL);
    S_OK(S_close(fd));
}

static void bind_wrong_family(void **st)
{
    (void)st;
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    struct kite_sockaddr_in sa = S_addr(S_newport());
    sa.sin_family = 10; /* AF_INET6 */
    S_FAILS(S_bind(fd, &sa, SIN_LEN), EAFNOSUPPORT);
    S_OK(S_close(fd));
}

static void bind_foreign_address(void **st)
{
    (void)st;
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_DGRAM, 0);
    struct kite_sockaddr_in sa = S_addr_ip(0x0a010203u, S_newport()); /* 10.1.2.3 */
    S_FAILS(S_bind(fd, &sa, SIN_LEN), EADDRNOTAVAIL);
    S_OK(S_close(fd));
}

/* ---- listen -------------------------------------------------------------------------- */

static void listen_binds_ephemeral(void **st)
{
    (void)st;
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    S_OK(S_listen(fd, 1));
    assert_int_not_equal(S_local_port(fd), 0);
    S_OK(S_close(fd));
}

static void listen_udp(void **st)
{
    (void)st;
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_DGRAM, 0);
    S_FAILS(S_listen(fd, 1), EOPNOTSUPP);
    S_OK(S_close(fd));
}

static void listen_twice(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 1);
    S_OK(S_listen(l, 5));
    assert_int_equal(S_local_port(l), port);
    S_OK(S_close(l));
}

static void listen_connected(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_FAILS(S_listen(c, 1), EINVAL);
    S_FAILS(S_listen(s, 1), EINVAL);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void listen_acceptconn(void **st)
{
    (void)st;
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    assert_int_equal(S_get_int(fd, KITE_SOL_SOCKET, KITE_SO_ACCEPTCONN), 0);
    S_OK(S_listen(fd, 1));
    assert_int_equal(S_get_int(fd, KITE_SOL_SOCKET, KITE_SO_ACCEPTCONN), 1);
    S_OK(S_close(fd));
}

/* ---- getsockname / getpeername ------------------------------------------------------- */

static void getsockname_unbound(void **st)
{
    (void)st;
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    struct kite_sockaddr_in got;
    memset(&got, 0xa5, sizeof got);
    kite_socklen_t len = sizeof got;
    S_OK(S_getsockname(fd, &got, &len));
    assert_int_equal(len, SIN_LEN);
    assert_int_equal(got.sin_family, KITE_AF_INET);
    assert_int_equal(S_ip(&got), 0);
    assert_int_equal(S_port(&got), 0);
    S_OK(S_close(fd));
}

static void getsockname_after_connect(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    struct kite_sockaddr_in got;
    kite_socklen_t len = sizeof got;
    S_OK(S_getsockname(c, &got, &len));
    assert_int_equal(len, SIN_LEN);
    assert_int_equal(S_ip(&got), S_LOOPBACK);
    assert_int_not_equal(S_port(&got), 0);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void getsockname_short_len(void **st)
{
    (void)st;
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_DGRAM, 0);
    uint16_t port = S_newport();
    struct kite_sockaddr_in sa = S_addr(port), got;
    S_OK(S_bind(fd, &sa, SIN_LEN));
    memset(&got, 0, sizeof got);
    kite_socklen_t len = 4; /* family and port only */
    S_OK(S_getsockname(fd, &got, &len));
    assert_int_equal(len, SIN_LEN); /* the full length, though only 4 bytes were written */
    assert_int_equal(got.sin_family, KITE_AF_INET);
    assert_int_equal(S_port(&got), port);
    assert_int_equal(got.sin_addr.s_addr, 0);
    S_OK(S_close(fd));
}

static void getpeername_unconnected_tcp(void **st)
{
    (void)st;
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    struct kite_sockaddr_in got;
    kite_socklen_t len = sizeof got;
    S_FAILS(S_getpeername(fd, &got, &len), ENOTCONN);
    S_OK(S_close(fd));
}

static void getpeername_unconnected_udp(void **st)
{
    (void)st;
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_DGRAM, 0);
    struct kite_sockaddr_in got;
    kite_socklen_t len = sizeof got;
    S_FAILS(S_getpeername(fd, &got, &len), ENOTCONN);
    S_OK(S_close(fd));
}

static void getpeername_listener(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 1);
    struct kite_sockaddr_in got;
    kite_socklen_t len = sizeof got;
    S_FAILS(S_getpeername(l, &got, &len), ENOTCONN);
    S_OK(S_close(l));
}

static void getpeername_both_ends(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    struct kite_sockaddr_in cs, cp, ss, sp;
    kite_socklen_t len = sizeof cs;
    S_OK(S_getsockname(c, &cs, &len));
    len = sizeof cp;
    S_OK(S_getpeername(c, &cp, &len));
    assert_int_equal(len, SIN_LEN);
    len = sizeof ss;
    S_OK(S_getsockname(s, &ss, &len));
    len = sizeof sp;
    S_OK(S_getpeername(s, &sp, &len));
    assert_int_equal(S_ip(&cp), S_ip(&ss));
    assert_int_equal(S_port(&cp), S_port(&ss));
    assert_int_equal(S_ip(&sp), S_ip(&cs));
    assert_int_equal(S_port(&sp), S_port(&cs));
    assert_int_equal(sp.sin_family, KITE_AF_INET);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void getpeername_after_peer_fin(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_OK(S_close(s));
    char b;
    S_RETURNS(S_recv(c, &b, 1, 0), 0);
    struct kite_sockaddr_in p;
    kite_socklen_t len = sizeof p;
    S_OK(S_getpeername(c, &p, &len)); /* CLOSE_WAIT is still connected */
    assert_int_equal(S_ip(&p), S_LOOPBACK);
    S_OK(S_close(c));
}

const struct CMUnitTest cases_basic[] = {
    S_CASE(socket_tcp),
    S_CASE(socket_udp),
    S_CASE(socket_tcp_explicit_protocol),
    S_CASE(socket_udp_explicit_protocol),
    S_CASE(socket_unknown_domain),
    S_CASE(socket_af_unspec),
    S_CASE(socket_unknown_type),
    S_CASE(socket_unknown_type_flags),
    S_CASE(socket_stream_with_udp),
    S_CASE(socket_dgram_with_tcp),
    S_CASE(socket_default_blocking),
    S_CASE(socket_nonblock_flag),
    S_CASE(socket_cloexec_accepted),
    S_CASE(socket_distinct_numbers),
    S_CASE(close_twice),
    S_CASE(close_negative),
    S_CASE(close_out_of_range),
    S_CASE(ebadf_bind),
    S_CASE(ebadf_listen),
    S_CASE(ebadf_accept),
    S_CASE(ebadf_accept4),
    S_CASE(ebadf_connect),
    S_CASE(ebadf_shutdown),
    S_CASE(ebadf_getsockname),
    S_CASE(ebadf_getpeername),
    S_CASE(ebadf_getsockopt),
    S_CASE(ebadf_setsockopt),
    S_CASE(ebadf_recv),
    S_CASE(ebadf_recvfrom),
    S_CASE(ebadf_recvmsg),
    S_CASE(ebadf_read),
    S_CASE(ebadf_readv),
    S_CASE(ebadf_send),
    S_CASE(ebadf_sendto),
    S_CASE(ebadf_sendmsg),
    S_CASE(ebadf_write),
    S_CASE(ebadf_writev),
    S_CASE(ebadf_fcntl),
    S_CASE(ebadf_ioctl),
    S_CASE(bind_port0_gets_ephemeral),
    S_CASE(bind_loopback_port),
    S_CASE(bind_twice),
    S_CASE(bind_twice_udp),
    S_CASE(bind_addrinuse_tcp),
    S_CASE(bind_addrinuse_listening),
    S_CASE(bind_addrinuse_udp),
    S_CASE(bind_addrinuse_wildcard_vs_specific),
    S_CASE(bind_tcp_and_udp_same_port),
    S_CASE(bind_port_free_after_close),
    S_CASE(bind_time_wait_needs_reuseaddr),
    S_CASE(bind_short_len),
    S_CASE(bind_wrong_family),
    S_CASE(bind_foreign_address),
    S_CASE(listen_binds_ephemeral),
    S_CASE(listen_udp),
    S_CASE(listen_twice),
    S_CASE(listen_connected),
    S_CASE(listen_acceptconn),
    S_CASE(getsockname_unbound),
    S_CASE(getsockname_after_connect),
    S_CASE(getsockname_short_len),
    S_CASE(getpeername_unconnected_tcp),
    S_CASE(getpeername_unconnected_udp),
    S_CASE(getpeername_listener),
    S_CASE(getpeername_both_ends),
    S_CASE(getpeername_after_peer_fin),
};
const size_t cases_basic_n = sizeof cases_basic / sizeof cases_basic[0];
