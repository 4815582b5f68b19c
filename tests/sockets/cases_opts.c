/* SPDX-License-Identifier: BSD-3-Clause */
/* getsockopt / setsockopt: every option of issue 7, defaults, round trips,
 * effects, unknown options and short lengths. */
#include "kite/byteorder.h"
#include "suite.h"

static int tcp(void)
{
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    assert_true(fd >= 0);
    return fd;
}

static int udp(void)
{
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    return fd;
}

/* A boolean option: off by default, on after 1, any non-zero reads back 1. */
static void bool_roundtrip(int fd, int level, int name)
{
    assert_int_equal(S_get_int(fd, level, name), 0);
    S_set_int(fd, level, name, 1);
    assert_int_equal(S_get_int(fd, level, name), 1);
    S_set_int(fd, level, name, 0);
    assert_int_equal(S_get_int(fd, level, name), 0);
    S_set_int(fd, level, name, 7);
    assert_int_equal(S_get_int(fd, level, name), 1);
}

static void opt_so_reuseaddr(void **st)
{
    (void)st;
    int fd = tcp();
    bool_roundtrip(fd, KITE_SOL_SOCKET, KITE_SO_REUSEADDR);
    S_OK(S_close(fd));
}

static void opt_so_reuseaddr_udp(void **st)
{
    (void)st;
    int fd = udp();
    bool_roundtrip(fd, KITE_SOL_SOCKET, KITE_SO_REUSEADDR);
    S_OK(S_close(fd));
}

static void opt_so_keepalive(void **st)
{
    (void)st;
    int fd = tcp();
    bool_roundtrip(fd, KITE_SOL_SOCKET, KITE_SO_KEEPALIVE);
    S_OK(S_close(fd));
}

static void opt_so_keepalive_connected(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_set_int(c, KITE_SOL_SOCKET, KITE_SO_KEEPALIVE, 1);
    assert_int_equal(S_get_int(c, KITE_SOL_SOCKET, KITE_SO_KEEPALIVE), 1);
    assert_int_equal(S_get_int(s, KITE_SOL_SOCKET, KITE_SO_KEEPALIVE), 0);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void opt_so_broadcast(void **st)
{
    (void)st;
    int fd = udp();
    bool_roundtrip(fd, KITE_SOL_SOCKET, KITE_SO_BROADCAST);
    S_OK(S_close(fd));
}

static void opt_so_acceptconn_udp(void **st)
{
    (void)st;
    int fd = udp();
    assert_int_equal(S_get_int(fd, KITE_SOL_SOCKET, KITE_SO_ACCEPTCONN), 0);
    S_OK(S_close(fd));
}

static void opt_so_acceptconn_readonly(void **st)
{
    (void)st;
    int fd = tcp();
    int v = 1;
    S_FAILS(S_setsockopt(fd, KITE_SOL_SOCKET, KITE_SO_ACCEPTCONN, &v, sizeof v), ENOPROTOOPT);
    S_OK(S_close(fd));
}

static void opt_so_type_readonly(void **st)
{
    (void)st;
    int fd = tcp();
    int v = KITE_SOCK_DGRAM;
    S_FAILS(S_setsockopt(fd, KITE_SOL_SOCKET, KITE_SO_TYPE, &v, sizeof v), ENOPROTOOPT);
    assert_int_equal(S_get_int(fd, KITE_SOL_SOCKET, KITE_SO_TYPE), KITE_SOCK_STREAM);
    S_OK(S_close(fd));
}

static void opt_so_type_accepted(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    assert_int_equal(S_get_int(s, KITE_SOL_SOCKET, KITE_SO_TYPE), KITE_SOCK_STREAM);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

/* Buffers: Linux doubles what is asked (room for its bookkeeping, socket(7));
 * kite reports the TCP buffer itself, and a UDP socket's fixed queue, which
 * setting leaves as it is (DIFFERENCES.md). */
static void buf_roundtrip(int fd, int name, bool tcp)
{
    int before = S_get_int(fd, KITE_SOL_SOCKET, name);
    assert_true(before > 0);
    S_set_int(fd, KITE_SOL_SOCKET, name, 8192);
    int got = S_get_int(fd, KITE_SOL_SOCKET, name);
    if (S_is_kite)
        assert_int_equal(got, tcp ? 8192 : before);
    else
        assert_int_equal(got, 16384);
}

static void opt_so_rcvbuf_tcp(void **st)
{
    (void)st;
    int fd = tcp();
    buf_roundtrip(fd, KITE_SO_RCVBUF, true);
    S_OK(S_close(fd));
}

static void opt_so_sndbuf_tcp(void **st)
{
    (void)st;
    int fd = tcp();
    buf_roundtrip(fd, KITE_SO_SNDBUF, true);
    S_OK(S_close(fd));
}

static void opt_so_rcvbuf_udp(void **st)
{
    (void)st;
    int fd = udp();
    buf_roundtrip(fd, KITE_SO_RCVBUF, false);
    S_OK(S_close(fd));
}

static void opt_so_sndbuf_udp(void **st)
{
    (void)st;
    int fd = udp();
    buf_roundtrip(fd, KITE_SO_SNDBUF, false);
    S_OK(S_close(fd));
}

static void timeo_roundtrip(int name)
{
    int fd = tcp();
    struct kite_timeval tv = {1, 1}, want0 = {0, 0};
    kite_socklen_t len = sizeof tv;
    S_OK(S_getsockopt(fd, KITE_SOL_SOCKET, name, &tv, &len));
    assert_int_equal(len, sizeof tv);
    assert_memory_equal(&tv, &want0, sizeof tv);
    struct kite_timeval set = {1, 500000};
    S_OK(S_setsockopt(fd, KITE_SOL_SOCKET, name, &set, sizeof set));
    len = sizeof tv;
    S_OK(S_getsockopt(fd, KITE_SOL_SOCKET, name, &tv, &len));
    assert_int_equal(tv.tv_sec, 1);
    assert_int_equal(tv.tv_usec, 500000);
    S_OK(S_setsockopt(fd, KITE_SOL_SOCKET, name, &want0, sizeof want0));
    len = sizeof tv;
    S_OK(S_getsockopt(fd, KITE_SOL_SOCKET, name, &tv, &len));
    assert_int_equal(tv.tv_sec, 0);
    assert_int_equal(tv.tv_usec, 0);
    S_OK(S_close(fd));
}

static void opt_so_rcvtimeo(void **st)
{
    (void)st;
    timeo_roundtrip(KITE_SO_RCVTIMEO);
}

static void opt_so_sndtimeo(void **st)
{
    (void)st;
    timeo_roundtrip(KITE_SO_SNDTIMEO);
}

static void opt_timeo_short_len(void **st)
{
    (void)st;
    int fd = tcp();
    struct kite_timeval tv = {1, 0};
    S_FAILS(S_setsockopt(fd, KITE_SOL_SOCKET, KITE_SO_RCVTIMEO, &tv, 8), EINVAL);
    S_FAILS(S_setsockopt(fd, KITE_SOL_SOCKET, KITE_SO_SNDTIMEO, &tv, 8), EINVAL);
    S_OK(S_close(fd));
}

static void opt_timeo_bad_usec(void **st)
{
    (void)st;
    int fd = tcp();
    struct kite_timeval tv = {0, 1000000};
    S_FAILS(S_setsockopt(fd, KITE_SOL_SOCKET, KITE_SO_RCVTIMEO, &tv, sizeof tv), EDOM);
    S_OK(S_close(fd));
}

static void opt_rcvtimeo_effect(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_set_timeouts(c, 300);
    char b;
    int64_t t0 = S_now_ms();
    S_FAILS(S_recv(c, &b, 1, 0), EAGAIN);
    int64_t dt = S_now_ms() - t0;
    assert_true(dt >= 250 && dt < 1500);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void opt_rcvtimeo_udp_effect(void **st)
{
    (void)st;
    int a, b;
    S_udp_pair(&a, NULL, &b, NULL);
    S_set_timeouts(a, 200);
    char buf[4];
    int64_t t0 = S_now_ms();
    S_FAILS(S_recvfrom(a, buf, sizeof buf, 0, NULL, NULL), EAGAIN);
    int64_t dt = S_now_ms() - t0;
    assert_true(dt >= 150 && dt < 1500);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

/* The peer does not read: sending blocks once the buffers are full, then
 * SO_SNDTIMEO ends it with EAGAIN. */
static void opt_sndtimeo_effect(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    static char big[65536];
    S_nonblock(c, true);
    for (int i = 0; i < 10000; i++) {
        ssize_t r = S_send(c, big, sizeof big, 0);
        if (r < 0) {
            assert_int_equal(errno, EAGAIN);
            break;
        }
    }
    S_sleep_ms(50);
    while (S_send(c, big, sizeof big, 0) > 0) /* what the ACKs freed meanwhile */
        ;
    S_nonblock(c, false);
    S_set_timeouts(c, 300);
    /* ACKs may still free a little room: a send that got some bytes in
     * returns them (after the timeout); the one that gets none fails */
    ssize_t r = 0;
    int64_t dt = 0;
    for (int i = 0; i < 10; i++) {
        int64_t t0 = S_now_ms();
        errno = 0;
        r = S_send(c, big, sizeof big, 0);
        dt = S_now_ms() - t0;
        if (r < 0)
            break;
        assert_true(r > 0 && r < (ssize_t)sizeof big);
    }
    assert_int_equal(r, -1);
    assert_int_equal(errno, EAGAIN);
    assert_true(dt >= 250 && dt < 1500);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void opt_so_error_fresh(void **st)
{
    (void)st;
    int fd = tcp();
    assert_int_equal(S_get_int(fd, KITE_SOL_SOCKET, KITE_SO_ERROR), 0);
    int u = udp();
    assert_int_equal(S_get_int(u, KITE_SOL_SOCKET, KITE_SO_ERROR), 0);
    S_OK(S_close(fd));
    S_OK(S_close(u));
}

static void opt_so_error_readonly(void **st)
{
    (void)st;
    int fd = tcp();
    int v = 5;
    S_FAILS(S_setsockopt(fd, KITE_SOL_SOCKET, KITE_SO_ERROR, &v, sizeof v), ENOPROTOOPT);
    S_OK(S_close(fd));
}

static void opt_so_linger_roundtrip(void **st)
{
    (void)st;
    int fd = tcp();
    struct kite_linger l = {9, 9};
    kite_socklen_t len = sizeof l;
    S_OK(S_getsockopt(fd, KITE_SOL_SOCKET, KITE_SO_LINGER, &l, &len));
    assert_int_equal(len, sizeof l);
    assert_int_equal(l.l_onoff, 0);
    assert_int_equal(l.l_linger, 0);
    struct kite_linger set = {1, 5};
    S_OK(S_setsockopt(fd, KITE_SOL_SOCKET, KITE_SO_LINGER, &set, sizeof set));
    len = sizeof l;
    S_OK(S_getsockopt(fd, KITE_SOL_SOCKET, KITE_SO_LINGER, &l, &len));
    assert_int_equal(l.l_onoff, 1);
    assert_int_equal(l.l_linger, 5);
    S_OK(S_close(fd));
}

static void opt_so_linger_short_len(void **st)
{
    (void)st;
    int fd = tcp();
    struct kite_linger set = {1, 5};
    S_FAILS(S_setsockopt(fd, KITE_SOL_SOCKET, KITE_SO_LINGER, &set, 4), EINVAL);
    S_OK(S_close(fd));
}

/* SO_LINGER {1, 0}: close sends RST at once; the peer sees ECONNRESET. */
static void opt_so_linger_zero_resets(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    struct kite_linger set = {1, 0};
    S_OK(S_setsockopt(s, KITE_SOL_SOCKET, KITE_SO_LINGER, &set, sizeof set));
    S_OK(S_close(s));
    char b;
    S_FAILS(S_recv(c, &b, 1, 0), ECONNRESET);
    S_OK(S_close(c));
}

/* A positive linger: close waits for the data to be acknowledged, the peer
 * gets all of it and then EOF. */
static void opt_so_linger_positive_delivers(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    struct kite_linger set = {1, 2};
    S_OK(S_setsockopt(c, KITE_SOL_SOCKET, KITE_SO_LINGER, &set, sizeof set));
    /* One segment: in min_ram the unread data pins buffers the ACKs need. */
    static char out[500], in[500];
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = (char)(i * 7);
    S_send_all(c, out, sizeof out);
    S_OK(S_close(c));
    S_recv_all(s, in, sizeof in);
    assert_memory_equal(in, out, sizeof out);
    char b;
    S_RETURNS(S_recv(s, &b, 1, 0), 0);
    S_OK(S_close(s));
}

/* IP_TOS and IP_TTL on TCP: kite accepts them and keeps the stack's defaults
 * (DIFFERENCES.md); Linux applies them. */
static void opt_ip_tos(void **st)
{
    (void)st;
    int fd = tcp();
    assert_int_equal(S_get_int(fd, KITE_IPPROTO_IP, KITE_IP_TOS), 0);
    S_set_int(fd, KITE_IPPROTO_IP, KITE_IP_TOS, 0x10);
    assert_int_equal(S_get_int(fd, KITE_IPPROTO_IP, KITE_IP_TOS), S_is_kite ? 0 : 0x10);
    S_OK(S_close(fd));
}

static void opt_ip_tos_udp(void **st)
{
    (void)st;
    int fd = udp();
    assert_int_equal(S_get_int(fd, KITE_IPPROTO_IP, KITE_IP_TOS), 0);
    S_set_int(fd, KITE_IPPROTO_IP, KITE_IP_TOS, 0xb8);
    assert_int_equal(S_get_int(fd, KITE_IPPROTO_IP, KITE_IP_TOS), 0xb8);
    S_OK(S_close(fd));
}

/* TCP owns the ECN bits of the TOS byte: Linux keeps them out of IP_TOS. */
static void opt_ip_tos_tcp_ecn_bits(void **st)
{
    (void)st;
    int fd = tcp();
    S_set_int(fd, KITE_IPPROTO_IP, KITE_IP_TOS, 0x13);
    assert_int_equal(S_get_int(fd, KITE_IPPROTO_IP, KITE_IP_TOS), S_is_kite ? 0 : 0x10);
    S_OK(S_close(fd));
}

static void opt_ip_ttl(void **st)
{
    (void)st;
    int fd = udp();
    assert_int_equal(S_get_int(fd, KITE_IPPROTO_IP, KITE_IP_TTL), 64);
    S_set_int(fd, KITE_IPPROTO_IP, KITE_IP_TTL, 10);
    assert_int_equal(S_get_int(fd, KITE_IPPROTO_IP, KITE_IP_TTL), 10);
    S_set_int(fd, KITE_IPPROTO_IP, KITE_IP_TTL, 255);
    assert_int_equal(S_get_int(fd, KITE_IPPROTO_IP, KITE_IP_TTL), 255);
    S_OK(S_close(fd));
}

static void opt_ip_ttl_tcp(void **st)
{
    (void)st;
    int fd = tcp();
    assert_int_equal(S_get_int(fd, KITE_IPPROTO_IP, KITE_IP_TTL), 64);
    S_set_int(fd, KITE_IPPROTO_IP, KITE_IP_TTL, 3);
    assert_int_equal(S_get_int(fd, KITE_IPPROTO_IP, KITE_IP_TTL), S_is_kite ? 64 : 3);
    S_OK(S_close(fd));
}

static void opt_ip_ttl_range(void **st)
{
    (void)st;
    int fd = udp();
    int v = 0;
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_TTL, &v, sizeof v), EINVAL);
    v = 256;
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_TTL, &v, sizeof v), EINVAL);
    v = -1; /* back to the default */
    S_OK(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_TTL, &v, sizeof v));
    assert_int_equal(S_get_int(fd, KITE_IPPROTO_IP, KITE_IP_TTL), 64);
    S_OK(S_close(fd));
}

/* ---- Multicast options (Linux's numbers and answers) ---------------------------------- */

static struct kite_ip_mreq mreq(uint32_t group, uint32_t ifaddr)
{
    struct kite_ip_mreq m = {{kite_htonl(group)}, {kite_htonl(ifaddr)}};
    return m;
}

#define LO KITE_IP4(127, 0, 0, 1)
#define GRP KITE_IP4(239, 1, 2, 3)

static void opt_ip_multicast_ttl_loop_all(void **st)
{
    (void)st;
    int fd = udp();
    assert_int_equal(S_get_int(fd, KITE_IPPROTO_IP, KITE_IP_MULTICAST_TTL), 1);
    assert_int_equal(S_get_int(fd, KITE_IPPROTO_IP, KITE_IP_MULTICAST_LOOP), 1);
    assert_int_equal(S_get_int(fd, KITE_IPPROTO_IP, KITE_IP_MULTICAST_ALL), 1);
    S_set_int(fd, KITE_IPPROTO_IP, KITE_IP_MULTICAST_TTL, 32);
    assert_int_equal(S_get_int(fd, KITE_IPPROTO_IP, KITE_IP_MULTICAST_TTL), 32);
    int v = 256;
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_MULTICAST_TTL, &v, sizeof v), EINVAL);
    v = -1; /* the default */
    S_OK(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_MULTICAST_TTL, &v, sizeof v));
    assert_int_equal(S_get_int(fd, KITE_IPPROTO_IP, KITE_IP_MULTICAST_TTL), 1);
    uint8_t b = 0; /* one byte is taken too */
    S_OK(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_MULTICAST_LOOP, &b, 1));
    assert_int_equal(S_get_int(fd, KITE_IPPROTO_IP, KITE_IP_MULTICAST_LOOP), 0);
    S_set_int(fd, KITE_IPPROTO_IP, KITE_IP_MULTICAST_LOOP, 5);
    assert_int_equal(S_get_int(fd, KITE_IPPROTO_IP, KITE_IP_MULTICAST_LOOP), 1);
    v = 2;
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_MULTICAST_ALL, &v, sizeof v), EINVAL);
    S_set_int(fd, KITE_IPPROTO_IP, KITE_IP_MULTICAST_ALL, 0);
    assert_int_equal(S_get_int(fd, KITE_IPPROTO_IP, KITE_IP_MULTICAST_ALL), 0);
    S_OK(S_close(fd));
    fd = tcp();
    v = 3;
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_MULTICAST_TTL, &v, sizeof v), EINVAL);
    S_OK(S_close(fd));
}

static void opt_ip_multicast_if(void **st)
{
    (void)st;
    int fd = udp();
    struct kite_in_addr a = {kite_htonl(LO)}, got = {1};
    S_OK(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_MULTICAST_IF, &a, sizeof a));
    kite_socklen_t len = sizeof got;
    S_OK(S_getsockopt(fd, KITE_IPPROTO_IP, KITE_IP_MULTICAST_IF, &got, &len));
    assert_int_equal(len, sizeof got);
    assert_int_equal(kite_ntohl(got.s_addr), LO);
    struct kite_in_addr bad = {kite_htonl(KITE_IP4(192, 0, 2, 99))};
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_MULTICAST_IF, &bad, sizeof bad),
            EADDRNOTAVAIL);
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_MULTICAST_IF, &a, 3), EINVAL);
    S_OK(S_close(fd));
}

static void opt_ip_add_drop_membership(void **st)
{
    (void)st;
    int fd = udp();
    struct kite_ip_mreq m = mreq(GRP, LO);
    S_OK(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_ADD_MEMBERSHIP, &m, sizeof m));
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_ADD_MEMBERSHIP, &m, sizeof m), EADDRINUSE);
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_ADD_MEMBERSHIP, &m, 7), EINVAL);
    struct kite_ip_mreq uni = mreq(KITE_IP4(192, 0, 2, 1), LO);
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_ADD_MEMBERSHIP, &uni, sizeof uni), EINVAL);
    struct kite_ip_mreq nodev = mreq(GRP, KITE_IP4(192, 0, 2, 99));
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_ADD_MEMBERSHIP, &nodev, sizeof nodev),
            ENODEV);
    S_OK(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_DROP_MEMBERSHIP, &m, sizeof m));
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_DROP_MEMBERSHIP, &m, sizeof m),
            EADDRNOTAVAIL);
    /* ip_mreqn: by interface index (lo is 1 on Linux; kite's loopback netif too). */
    struct kite_ip_mreqn mn = {{kite_htonl(GRP)}, {0}, 1};
    S_OK(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_ADD_MEMBERSHIP, &mn, sizeof mn));
    S_OK(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_DROP_MEMBERSHIP, &mn, sizeof mn));
    S_OK(S_close(fd));
    fd = tcp();
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_ADD_MEMBERSHIP, &m, sizeof m), EPROTO);
    S_OK(S_close(fd));
}

static void opt_ip_source_membership(void **st)
{
    (void)st;
    int fd = udp();
    struct kite_ip_mreq_source ms = {
        {kite_htonl(GRP)}, {kite_htonl(LO)}, {kite_htonl(KITE_IP4(198, 51, 100, 1))}};
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_DROP_SOURCE_MEMBERSHIP, &ms, sizeof ms),
            EINVAL); /* no prior join */
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_ADD_SOURCE_MEMBERSHIP, &ms, 8), EINVAL);
    S_OK(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_ADD_SOURCE_MEMBERSHIP, &ms, sizeof ms));
    /* INCLUDE mode: blocking is the other mode. */
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_BLOCK_SOURCE, &ms, sizeof ms), EINVAL);
    S_OK(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_DROP_SOURCE_MEMBERSHIP, &ms, sizeof ms));
    /* The last source gone, the membership is gone. */
    struct kite_ip_mreq m = mreq(GRP, LO);
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_DROP_MEMBERSHIP, &m, sizeof m),
            EADDRNOTAVAIL);
    /* Any-source join, then block and unblock a source. */
    S_OK(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_ADD_MEMBERSHIP, &m, sizeof m));
    S_OK(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_BLOCK_SOURCE, &ms, sizeof ms));
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_ADD_SOURCE_MEMBERSHIP, &ms, sizeof ms),
            EINVAL);
    S_OK(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_UNBLOCK_SOURCE, &ms, sizeof ms));
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_UNBLOCK_SOURCE, &ms, sizeof ms),
            EADDRNOTAVAIL);
    S_OK(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_DROP_MEMBERSHIP, &m, sizeof m));
    S_OK(S_close(fd));
}

static void opt_ip_pktinfo_flag(void **st)
{
    (void)st;
    int fd = udp();
    bool_roundtrip(fd, KITE_IPPROTO_IP, KITE_IP_PKTINFO);
    S_OK(S_close(fd));
}

static void opt_ip_pktinfo_recvmsg(void **st)
{
    (void)st;
    int a, b;
    uint16_t ap, bp;
    S_udp_pair(&a, &ap, &b, &bp);
    S_set_int(b, KITE_IPPROTO_IP, KITE_IP_PKTINFO, 1);
    struct kite_sockaddr_in to = S_addr(bp), from;
    S_RETURNS(S_sendto(a, "pkt", 3, 0, &to, SIN_LEN), 3);
    char data[16];
    union {
        struct kite_cmsghdr h;
        unsigned char b[64];
    } ctl;
    memset(&ctl, 0xee, sizeof ctl);
    struct kite_iovec iov = {data, sizeof data};
    struct kite_msghdr m = {&from, sizeof from, &iov, 1, ctl.b, sizeof ctl.b, 0x7777};
    S_RETURNS(S_recvmsg(b, &m, 0), 3);
    assert_memory_equal(data, "pkt", 3);
    assert_int_equal(m.msg_flags, 0);
    assert_int_equal(m.msg_namelen, SIN_LEN);
    assert_int_equal(S_port(&from), ap);
    assert_int_equal(m.msg_controllen, S_CMSG_SPACE(sizeof(struct kite_in_pktinfo)));
    assert_int_equal(ctl.h.cmsg_len, S_CMSG_LEN(sizeof(struct kite_in_pktinfo)));
    assert_int_equal(ctl.h.cmsg_level, KITE_IPPROTO_IP);
    assert_int_equal(ctl.h.cmsg_type, KITE_IP_PKTINFO);
    struct kite_in_pktinfo pi;
    memcpy(&pi, S_CMSG_DATA(&ctl.h), sizeof pi);
    assert_int_equal(pi.ipi_ifindex, 1); /* lo */
    struct kite_sockaddr_in dst = S_addr(0);
    assert_int_equal(pi.ipi_addr.s_addr, dst.sin_addr.s_addr);
    assert_int_equal(pi.ipi_spec_dst.s_addr, dst.sin_addr.s_addr);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

static void opt_ip_pktinfo_off_no_control(void **st)
{
    (void)st;
    int a, b;
    uint16_t bp;
    S_udp_pair(&a, NULL, &b, &bp);
    struct kite_sockaddr_in to = S_addr(bp);
    S_RETURNS(S_sendto(a, "pkt", 3, 0, &to, SIN_LEN), 3);
    char data[16];
    unsigned char ctl[64];
    struct kite_iovec iov = {data, sizeof data};
    struct kite_msghdr m = {NULL, 0, &iov, 1, ctl, sizeof ctl, 0};
    S_RETURNS(S_recvmsg(b, &m, 0), 3);
    assert_int_equal(m.msg_controllen, 0);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

static void opt_tcp_nodelay(void **st)
{
    (void)st;
    int fd = tcp();
    bool_roundtrip(fd, KITE_IPPROTO_TCP, KITE_TCP_NODELAY);
    S_OK(S_close(fd));
}

/* TCP_CORK: a partial segment waits (Linux up to 200 ms, kite until the
 * uncork), and the uncork sends it at once. */
static void opt_tcp_cork(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    bool_roundtrip(c, KITE_IPPROTO_TCP, KITE_TCP_CORK);
    S_set_int(c, KITE_IPPROTO_TCP, KITE_TCP_CORK, 1);
    S_RETURNS(S_send(c, "corked", 6, 0), 6);
    S_sleep_ms(80);
    int n = -1;
    S_OK(S_ioctl(s, KITE_FIONREAD, &n));
    assert_int_equal(n, 0); /* held */
    S_set_int(c, KITE_IPPROTO_TCP, KITE_TCP_CORK, 0);
    char buf[6];
    S_recv_all(s, buf, 6);
    assert_memory_equal(buf, "corked", 6);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void opt_tcp_nodelay_connected(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_set_int(c, KITE_IPPROTO_TCP, KITE_TCP_NODELAY, 1);
    assert_int_equal(S_get_int(c, KITE_IPPROTO_TCP, KITE_TCP_NODELAY), 1);
    for (int i = 0; i < 5; i++) { /* small writes go out at once */
        char b = (char)i, r;
        S_RETURNS(S_send(c, &b, 1, 0), 1);
        S_recv_all(s, &r, 1);
        assert_int_equal(r, b);
    }
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void opt_tcp_on_udp(void **st)
{
    (void)st;
    int fd = udp();
    int v = 1;
    kite_socklen_t len = sizeof v;
    S_FAILS(S_getsockopt(fd, KITE_IPPROTO_TCP, KITE_TCP_NODELAY, &v, &len), EOPNOTSUPP);
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_TCP, KITE_TCP_NODELAY, &v, sizeof v), ENOPROTOOPT);
    S_OK(S_close(fd));
}

static void keep_opt(int name, int dflt, int set)
{
    int fd = tcp();
    assert_int_equal(S_get_int(fd, KITE_IPPROTO_TCP, name), dflt);
    S_set_int(fd, KITE_IPPROTO_TCP, name, set);
    assert_int_equal(S_get_int(fd, KITE_IPPROTO_TCP, name), set);
    int v = 0;
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_TCP, name, &v, sizeof v), EINVAL);
    v = -1;
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_TCP, name, &v, sizeof v), EINVAL);
    assert_int_equal(S_get_int(fd, KITE_IPPROTO_TCP, name), set);
    S_OK(S_close(fd));
}

static void opt_tcp_keepidle(void **st)
{
    (void)st;
    keep_opt(KITE_TCP_KEEPIDLE, 7200, 60);
}

static void opt_tcp_keepintvl(void **st)
{
    (void)st;
    keep_opt(KITE_TCP_KEEPINTVL, 75, 5);
}

static void opt_tcp_keepcnt(void **st)
{
    (void)st;
    keep_opt(KITE_TCP_KEEPCNT, 9, 3);
}

static void opt_tcp_keep_connected(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_set_int(c, KITE_SOL_SOCKET, KITE_SO_KEEPALIVE, 1);
    S_set_int(c, KITE_IPPROTO_TCP, KITE_TCP_KEEPIDLE, 30);
    S_set_int(c, KITE_IPPROTO_TCP, KITE_TCP_KEEPINTVL, 4);
    S_set_int(c, KITE_IPPROTO_TCP, KITE_TCP_KEEPCNT, 2);
    assert_int_equal(S_get_int(c, KITE_IPPROTO_TCP, KITE_TCP_KEEPIDLE), 30);
    assert_int_equal(S_get_int(c, KITE_IPPROTO_TCP, KITE_TCP_KEEPINTVL), 4);
    assert_int_equal(S_get_int(c, KITE_IPPROTO_TCP, KITE_TCP_KEEPCNT), 2);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

/* TCP_KEEPALIVE (idle time in ms) is ESP-IDF's; Linux has no such option. */
static void opt_tcp_keepalive_kite_only(void **st)
{
    (void)st;
    int fd = tcp();
    int v = 5000;
    if (S_is_kite) {
        S_OK(S_setsockopt(fd, KITE_IPPROTO_TCP, KITE_TCP_KEEPALIVE, &v, sizeof v));
        assert_int_equal(S_get_int(fd, KITE_IPPROTO_TCP, KITE_TCP_KEEPALIVE), 5000);
        assert_int_equal(S_get_int(fd, KITE_IPPROTO_TCP, KITE_TCP_KEEPIDLE), 5);
    } else {
        S_FAILS(S_setsockopt(fd, KITE_IPPROTO_TCP, KITE_TCP_KEEPALIVE, &v, sizeof v), ENOPROTOOPT);
    }
    S_OK(S_close(fd));
}

static void opt_so_no_check(void **st)
{
    (void)st;
    int fd = udp();
    bool_roundtrip(fd, KITE_SOL_SOCKET, KITE_SO_NO_CHECK);
    S_OK(S_close(fd));
}

static void opt_unknown_socket_level(void **st)
{
    (void)st;
    int fd = tcp();
    int v = 1;
    kite_socklen_t len = sizeof v;
    S_FAILS(S_getsockopt(fd, KITE_SOL_SOCKET, 9999, &v, &len), ENOPROTOOPT);
    S_FAILS(S_setsockopt(fd, KITE_SOL_SOCKET, 9999, &v, sizeof v), ENOPROTOOPT);
    S_OK(S_close(fd));
}

static void opt_unknown_ip_level(void **st)
{
    (void)st;
    int fd = udp();
    int v = 1;
    kite_socklen_t len = sizeof v;
    S_FAILS(S_getsockopt(fd, KITE_IPPROTO_IP, 200, &v, &len), ENOPROTOOPT);
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_IP, 200, &v, sizeof v), ENOPROTOOPT);
    S_OK(S_close(fd));
}

static void opt_unknown_tcp_level(void **st)
{
    (void)st;
    int fd = tcp();
    int v = 1;
    kite_socklen_t len = sizeof v;
    S_FAILS(S_getsockopt(fd, KITE_IPPROTO_TCP, 200, &v, &len), ENOPROTOOPT);
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_TCP, 200, &v, sizeof v), ENOPROTOOPT);
    S_OK(S_close(fd));
}

static void opt_unknown_level(void **st)
{
    (void)st;
    int fd = tcp();
    int v = 1;
    kite_socklen_t len = sizeof v;
    S_FAILS(S_getsockopt(fd, 12345, 1, &v, &len), EOPNOTSUPP);
    S_FAILS(S_setsockopt(fd, 12345, 1, &v, sizeof v), ENOPROTOOPT);
    S_OK(S_close(fd));
}

static void opt_set_short_len(void **st)
{
    (void)st;
    int fd = tcp();
    int v = 1;
    S_FAILS(S_setsockopt(fd, KITE_SOL_SOCKET, KITE_SO_REUSEADDR, &v, 2), EINVAL);
    S_FAILS(S_setsockopt(fd, KITE_SOL_SOCKET, KITE_SO_KEEPALIVE, &v, 0), EINVAL);
    S_FAILS(S_setsockopt(fd, KITE_SOL_SOCKET, KITE_SO_RCVBUF, &v, 3), EINVAL);
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_TCP, KITE_TCP_NODELAY, &v, 2), EINVAL);
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_TCP, KITE_TCP_KEEPIDLE, &v, 2), EINVAL);
    S_FAILS(S_setsockopt(fd, KITE_IPPROTO_IP, KITE_IP_TTL, &v, 0), EINVAL);
    S_OK(S_close(fd));
}

/* getsockopt with a length over the option's: Linux writes and reports the
 * option's own length. */
static void opt_get_long_len(void **st)
{
    (void)st;
    int fd = tcp();
    int v[2] = {-1, -1};
    kite_socklen_t len = sizeof v;
    S_OK(S_getsockopt(fd, KITE_SOL_SOCKET, KITE_SO_TYPE, v, &len));
    assert_int_equal(len, sizeof(int));
    assert_int_equal(v[0], KITE_SOCK_STREAM);
    assert_int_equal(v[1], -1);
    S_OK(S_close(fd));
}

static void opt_get_negative_len(void **st)
{
    (void)st;
    int fd = tcp();
    int v = 0;
    kite_socklen_t len = (kite_socklen_t)-1;
    S_FAILS(S_getsockopt(fd, KITE_SOL_SOCKET, KITE_SO_TYPE, &v, &len), EINVAL);
    S_OK(S_close(fd));
}

/* SO_REUSEADDR on both: two UDP sockets share a port (Linux). */
static void opt_reuseaddr_udp_shared_port(void **st)
{
    (void)st;
    int a = udp(), b = udp();
    S_set_int(a, KITE_SOL_SOCKET, KITE_SO_REUSEADDR, 1);
    S_set_int(b, KITE_SOL_SOCKET, KITE_SO_REUSEADDR, 1);
    struct kite_sockaddr_in sa = S_addr(S_newport());
    S_OK(S_bind(a, &sa, SIN_LEN));
    S_OK(S_bind(b, &sa, SIN_LEN));
    S_OK(S_close(a));
    S_OK(S_close(b));
}

static void opt_reuseaddr_needs_both(void **st)
{
    (void)st;
    int a = udp(), b = udp();
    S_set_int(b, KITE_SOL_SOCKET, KITE_SO_REUSEADDR, 1);
    struct kite_sockaddr_in sa = S_addr(S_newport());
    S_OK(S_bind(a, &sa, SIN_LEN));
    S_FAILS(S_bind(b, &sa, SIN_LEN), EADDRINUSE);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

static void opt_broadcast_needed(void **st)
{
    (void)st;
    int a = udp();
    struct kite_sockaddr_in bc = S_addr_ip(0x7fffffffu, S_newport()) /* 127.255.255.255 */;
    S_FAILS(S_sendto(a, "x", 1, 0, &bc, SIN_LEN), EACCES);
    S_OK(S_close(a));
}

const struct CMUnitTest cases_opts[] = {
    S_CASE(opt_so_reuseaddr),
    S_CASE(opt_so_reuseaddr_udp),
    S_CASE(opt_so_keepalive),
    S_CASE(opt_so_keepalive_connected),
    S_CASE(opt_so_broadcast),
    S_CASE(opt_so_acceptconn_udp),
    S_CASE(opt_so_acceptconn_readonly),
    S_CASE(opt_so_type_readonly),
    S_CASE(opt_so_type_accepted),
    S_CASE(opt_so_rcvbuf_tcp),
    S_CASE(opt_so_sndbuf_tcp),
    S_CASE(opt_so_rcvbuf_udp),
    S_CASE(opt_so_sndbuf_udp),
    S_CASE(opt_so_rcvtimeo),
    S_CASE(opt_so_sndtimeo),
    S_CASE(opt_timeo_short_len),
    S_CASE(opt_timeo_bad_usec),
    S_CASE(opt_rcvtimeo_effect),
    S_CASE(opt_rcvtimeo_udp_effect),
    S_CASE(opt_sndtimeo_effect),
    S_CASE(opt_so_error_fresh),
    S_CASE(opt_so_error_readonly),
    S_CASE(opt_so_linger_roundtrip),
    S_CASE(opt_so_linger_short_len),
    S_CASE(opt_so_linger_zero_resets),
    S_CASE(opt_so_linger_positive_delivers),
    S_CASE(opt_ip_tos),
    S_CASE(opt_ip_tos_udp),
    S_CASE(opt_ip_tos_tcp_ecn_bits),
    S_CASE(opt_ip_ttl),
    S_CASE(opt_ip_ttl_tcp),
    S_CASE(opt_ip_ttl_range),
    S_CASE(opt_ip_multicast_ttl_loop_all),
    S_CASE(opt_ip_multicast_if),
    S_CASE(opt_ip_add_drop_membership),
    S_CASE(opt_ip_source_membership),
    S_CASE(opt_ip_pktinfo_flag),
    S_CASE(opt_ip_pktinfo_recvmsg),
    S_CASE(opt_ip_pktinfo_off_no_control),
    S_CASE(opt_tcp_nodelay),
    S_CASE(opt_tcp_nodelay_connected),
    S_CASE(opt_tcp_cork),
    S_CASE(opt_tcp_on_udp),
    S_CASE(opt_tcp_keepidle),
    S_CASE(opt_tcp_keepintvl),
    S_CASE(opt_tcp_keepcnt),
    S_CASE(opt_tcp_keep_connected),
    S_CASE(opt_tcp_keepalive_kite_only),
    S_CASE(opt_so_no_check),
    S_CASE(opt_unknown_socket_level),
    S_CASE(opt_unknown_ip_level),
    S_CASE(opt_unknown_tcp_level),
    S_CASE(opt_unknown_level),
    S_CASE(opt_set_short_len),
    S_CASE(opt_get_long_len),
    S_CASE(opt_get_negative_len),
    S_CASE(opt_reuseaddr_udp_shared_port),
    S_CASE(opt_reuseaddr_needs_both),
    S_CASE(opt_broadcast_needed),
};
const size_t cases_opts_n = sizeof cases_opts / sizeof cases_opts[0];
