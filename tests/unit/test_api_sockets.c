/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The BSD socket layer over a stack thread and the loopback netif: a TCP
 * exchange between threads, select and poll readiness, options, fcntl and
 * ioctl, non-blocking connect to a closed port, UDP with MSG_TRUNC and
 * IP_PKTINFO, raw IP sockets, and close() from another thread while threads
 * block in recv and accept. (tests/sockets/ holds the suite checked against Linux.)
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kite/byteorder.h"
#include "kite/port/loopif.h"
#include "kite/sockets.h"
#include "kite/tcpip.h"
#include "testutil.h"

struct fx {
    struct kite_stack stack;
    struct kite_loopif lo;
    struct kite_tcpip tcpip;
    struct kite_sockets socks;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(kite_stack_init(&f->stack, NULL), KITE_ERR_OK);
    assert_int_equal(kite_loopif_add(&f->stack, &f->lo), KITE_ERR_OK);
    assert_int_equal(kite_tcpip_start(&f->tcpip, &f->stack, NULL), KITE_ERR_OK);
    assert_int_equal(kite_sockets_init(&f->socks, &f->tcpip), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    kite_sockets_deinit(&f->socks);
    kite_tcpip_stop(&f->tcpip);
    kite_stack_poll(&f->stack, kite_stack_now(&f->stack) + 4u * KITE_TCP_MSL_MS);
    kite_loopif_remove(&f->lo);
    kt_assert_pools_empty(&f->stack);
    kite_stack_deinit(&f->stack);
    free(f);
    return 0;
}

static struct kite_sockaddr_in loop_addr(uint16_t port)
{
    struct kite_sockaddr_in a = {.sin_family = KITE_AF_INET,
                                 .sin_port = kite_htons(port),
                                 .sin_addr = {kite_htonl(KITE_IP4(127, 0, 0, 1))}};
    return a;
}

#define SA(a) ((struct kite_sockaddr *)(void *)&(a))

static int tcp_server(struct fx *f, uint16_t port)
{
    int l = kite_socket(&f->socks, KITE_AF_INET, KITE_SOCK_STREAM, 0);
    assert_true(l >= 0);
    struct kite_sockaddr_in a = loop_addr(port);
    assert_int_equal(kite_bind(&f->socks, l, SA(a), sizeof a), 0);
    assert_int_equal(kite_listen(&f->socks, l, 4), 0);
    return l;
}

static int tcp_client(struct fx *f, uint16_t port)
{
    int c = kite_socket(&f->socks, KITE_AF_INET, KITE_SOCK_STREAM, 0);
    assert_true(c >= 0);
    struct kite_sockaddr_in a = loop_addr(port);
    assert_int_equal(kite_connect(&f->socks, c, SA(a), sizeof a), 0);
    return c;
}

static void tcp_exchange_and_names(void **state)
{
    struct fx *f = *state;
    int l = tcp_server(f, 80);
    int c = tcp_client(f, 80);
    struct kite_sockaddr_in peer;
    kite_socklen_t len = sizeof peer;
    int a = kite_accept(&f->socks, l, SA(peer), &len);
    assert_true(a >= 0);
    assert_int_equal(len, sizeof peer);
    struct kite_sockaddr_in me;
    len = sizeof me;
    assert_int_equal(kite_getsockname(&f->socks, c, SA(me), &len), 0);
    assert_int_equal(me.sin_port, peer.sin_port); /* the server sees the client's port */
    assert_int_equal(kite_write(&f->socks, c, "hello world", 11), 11);
    char buf[32];
    assert_int_equal(kite_recv(&f->socks, a, buf, 5, KITE_MSG_WAITALL), 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(kite_recv(&f->socks, a, buf, 3, KITE_MSG_PEEK), 3);
    int pending = 0;
    assert_int_equal(kite_ioctl(&f->socks, a, KITE_FIONREAD, &pending), 0);
    assert_int_equal(pending, 6);
    assert_int_equal(kite_ioctl(&f->socks, l, KITE_FIONREAD, &pending), -1); /* as Linux */
    assert_int_equal(errno, EINVAL);
    assert_int_equal(kite_read(&f->socks, a, buf, sizeof buf), 6);
    assert_memory_equal(buf, " world", 6);
    /* Half-close: EOF on the other side, F_GETFL says which way is open. */
    assert_int_equal(kite_shutdown(&f->socks, c, KITE_SHUT_WR), 0);
    assert_int_equal(kite_recv(&f->socks, a, buf, sizeof buf, 0), 0);
    assert_int_equal(kite_fcntl(&f->socks, c, KITE_F_GETFL, 0) & 3, KITE_O_RDONLY);
    assert_int_equal(kite_fcntl(&f->socks, a, KITE_F_GETFL, 0) & 3, KITE_O_WRONLY);
    assert_int_equal(kite_close(&f->socks, a), 0);
    assert_int_equal(kite_close(&f->socks, c), 0);
    assert_int_equal(kite_close(&f->socks, l), 0);
    assert_int_equal(kite_close(&f->socks, l), -1);
    assert_int_equal(errno, EBADF);
}

static void select_and_poll_readiness(void **state)
{
    struct fx *f = *state;
    int l = tcp_server(f, 81);
    int c = tcp_client(f, 81);
    int a = kite_accept(&f->socks, l, NULL, NULL);
    assert_true(a >= 0);
    kite_fd_set rd, wr;
    KITE_FD_ZERO(&rd);
    KITE_FD_SET(a, &rd);
    struct kite_timeval tv = {0, 20000};
    assert_int_equal(kite_select(&f->socks, a + 1, &rd, NULL, NULL, &tv), 0); /* nothing yet */
    assert_int_equal(kite_send(&f->socks, c, "x", 1, 0), 1);
    KITE_FD_ZERO(&rd);
    KITE_FD_SET(a, &rd); /* first until the byte is there: c is writable at once */
    assert_int_equal(kite_select(&f->socks, a + 1, &rd, NULL, NULL, NULL), 1);
    KITE_FD_ZERO(&wr);
    KITE_FD_SET(c, &wr);
    int maxfd = a > c ? a : c;
    assert_int_equal(kite_select(&f->socks, maxfd + 1, &rd, &wr, NULL, NULL), 2);
    assert_true(KITE_FD_ISSET(a, &rd));
    assert_true(KITE_FD_ISSET(c, &wr));
    struct kite_pollfd p[3] = {{a, KITE_POLLIN, 0}, {c, KITE_POLLOUT, 0}, {63, KITE_POLLIN, 0}};
    assert_int_equal(kite_poll(&f->socks, p, 3, 1000), 3);
    assert_int_equal(p[0].revents, KITE_POLLIN);
    assert_int_equal(p[1].revents, KITE_POLLOUT);
    assert_int_equal(p[2].revents, KITE_POLLNVAL);
    kite_fd_set bad;
    KITE_FD_ZERO(&bad);
    KITE_FD_SET(9, &bad);
    assert_int_equal(kite_select(&f->socks, 10, &bad, NULL, NULL, &tv), -1);
    assert_int_equal(errno, EBADF);
    (void)kite_close(&f->socks, a);
    (void)kite_close(&f->socks, c);
    (void)kite_close(&f->socks, l);
}

static void options_round_trip(void **state)
{
    struct fx *f = *state;
    int s = kite_socket(&f->socks, KITE_AF_INET, KITE_SOCK_STREAM, 0);
    int one = 1, v = 0;
    kite_socklen_t len = sizeof v;
    assert_int_equal(
        kite_setsockopt(&f->socks, s, KITE_IPPROTO_TCP, KITE_TCP_NODELAY, &one, sizeof one), 0);
    assert_int_equal(kite_getsockopt(&f->socks, s, KITE_IPPROTO_TCP, KITE_TCP_NODELAY, &v, &len),
                     0);
    assert_int_equal(v, 1);
    int idle = 30;
    assert_int_equal(
        kite_setsockopt(&f->socks, s, KITE_IPPROTO_TCP, KITE_TCP_KEEPIDLE, &idle, sizeof idle), 0);
    len = sizeof v;
    assert_int_equal(kite_getsockopt(&f->socks, s, KITE_IPPROTO_TCP, KITE_TCP_KEEPIDLE, &v, &len),
                     0);
    assert_int_equal(v, 30);
    struct kite_timeval tv = {1, 500000}, got;
    assert_int_equal(
        kite_setsockopt(&f->socks, s, KITE_SOL_SOCKET, KITE_SO_RCVTIMEO, &tv, sizeof tv), 0);
    len = sizeof got;
    assert_int_equal(kite_getsockopt(&f->socks, s, KITE_SOL_SOCKET, KITE_SO_RCVTIMEO, &got, &len),
                     0);
    assert_int_equal(got.tv_sec, 1);
    assert_int_equal(got.tv_usec, 500000);
    /* Past 32.767 s a timeout is kept in whole seconds, rounded up. */
    struct kite_timeval longer = {40, 200000};
    assert_int_equal(
        kite_setsockopt(&f->socks, s, KITE_SOL_SOCKET, KITE_SO_SNDTIMEO, &longer, sizeof longer),
        0);
    len = sizeof got;
    assert_int_equal(kite_getsockopt(&f->socks, s, KITE_SOL_SOCKET, KITE_SO_SNDTIMEO, &got, &len),
                     0);
    assert_int_equal(got.tv_sec, 41);
    assert_int_equal(got.tv_usec, 0);
    assert_int_equal(kite_getsockopt(&f->socks, s, KITE_SOL_SOCKET, KITE_SO_RCVTIMEO, &got, &len),
                     0);
    assert_int_equal(got.tv_sec, 1); /* the other one unchanged */
    len = sizeof v;
    assert_int_equal(kite_getsockopt(&f->socks, s, KITE_SOL_SOCKET, KITE_SO_TYPE, &v, &len), 0);
    assert_int_equal(v, KITE_SOCK_STREAM);
    assert_int_equal(kite_getsockopt(&f->socks, s, KITE_SOL_SOCKET, 999, &v, &len), -1);
    assert_int_equal(errno, ENOPROTOOPT);
    assert_int_equal(kite_setsockopt(&f->socks, s, KITE_SOL_SOCKET, KITE_SO_KEEPALIVE, &one, 1),
                     -1);
    assert_int_equal(errno, EINVAL); /* optlen shorter than an int */
    assert_int_equal(kite_fcntl(&f->socks, s, KITE_F_SETFL, KITE_O_NONBLOCK), 0);
    assert_int_equal(kite_fcntl(&f->socks, s, KITE_F_GETFL, 0), KITE_O_RDWR | KITE_O_NONBLOCK);
    (void)kite_close(&f->socks, s);
}

static void nonblocking_connect_refused(void **state)
{
    struct fx *f = *state;
    int c = kite_socket(&f->socks, KITE_AF_INET, KITE_SOCK_STREAM | KITE_SOCK_NONBLOCK, 0);
    struct kite_sockaddr_in a = loop_addr(9);
    assert_int_equal(kite_connect(&f->socks, c, SA(a), sizeof a), -1);
    assert_int_equal(errno, EINPROGRESS);
    struct kite_pollfd p = {c, KITE_POLLOUT, 0};
    assert_int_equal(kite_poll(&f->socks, &p, 1, 5000), 1);
    assert_true(p.revents & KITE_POLLERR);
    int err = 0;
    kite_socklen_t len = sizeof err;
    assert_int_equal(kite_getsockopt(&f->socks, c, KITE_SOL_SOCKET, KITE_SO_ERROR, &err, &len), 0);
    assert_int_equal(err, ECONNREFUSED);
    len = sizeof err;
    assert_int_equal(kite_getsockopt(&f->socks, c, KITE_SOL_SOCKET, KITE_SO_ERROR, &err, &len), 0);
    assert_int_equal(err, 0); /* read once */
    (void)kite_close(&f->socks, c);
}

/* RFC 1122 4.1.3.3, as Linux: ICMP port unreachable for a connected UDP
 * socket's datagram is ECONNREFUSED, for poll (POLLERR), SO_ERROR, recv and
 * send, each taking it once. */
static void udp_connected_refused(void **state)
{
    struct fx *f = *state;
    int u = kite_socket(&f->socks, KITE_AF_INET, KITE_SOCK_DGRAM, 0);
    struct kite_sockaddr_in a = loop_addr(6001);
    assert_int_equal(kite_connect(&f->socks, u, SA(a), sizeof a), 0);
    assert_int_equal(kite_send(&f->socks, u, "x", 1, 0), 1);
    struct kite_pollfd p = {u, KITE_POLLIN, 0};
    assert_int_equal(kite_poll(&f->socks, &p, 1, 5000), 1);
    assert_int_equal(p.revents, KITE_POLLIN | KITE_POLLERR);
    char b;
    assert_int_equal(kite_recv(&f->socks, u, &b, 1, 0), -1);
    assert_int_equal(errno, ECONNREFUSED);
    assert_int_equal(kite_send(&f->socks, u, "x", 1, 0), 1);
    assert_int_equal(kite_poll(&f->socks, &p, 1, 5000), 1);
    int err = 0;
    kite_socklen_t len = sizeof err;
    assert_int_equal(kite_getsockopt(&f->socks, u, KITE_SOL_SOCKET, KITE_SO_ERROR, &err, &len), 0);
    assert_int_equal(err, ECONNREFUSED);
    assert_int_equal(kite_send(&f->socks, u, "x", 1, 0), 1);
    assert_int_equal(kite_poll(&f->socks, &p, 1, 5000), 1);
    assert_int_equal(kite_send(&f->socks, u, "x", 1, 0), -1);
    assert_int_equal(errno, ECONNREFUSED);
    assert_int_equal(kite_recv(&f->socks, u, &b, 1, KITE_MSG_DONTWAIT), -1);
    assert_int_equal(errno, EAGAIN); /* reported once */
    (void)kite_close(&f->socks, u);
}

static void udp_truncation_and_pktinfo(void **state)
{
    struct fx *f = *state;
    int r = kite_socket(&f->socks, KITE_AF_INET, KITE_SOCK_DGRAM, 0);
    int w = kite_socket(&f->socks, KITE_AF_INET, KITE_SOCK_DGRAM, 0);
    struct kite_sockaddr_in a = loop_addr(6000);
    assert_int_equal(kite_bind(&f->socks, r, SA(a), sizeof a), 0);
    int one = 1;
    assert_int_equal(
        kite_setsockopt(&f->socks, r, KITE_IPPROTO_IP, KITE_IP_PKTINFO, &one, sizeof one), 0);
    assert_int_equal(kite_sendto(&f->socks, w, "0123456789", 10, 0, SA(a), sizeof a), 10);
    assert_int_equal(kite_send(&f->socks, w, "x", 1, 0), -1);
    assert_int_equal(errno, EDESTADDRREQ);
    char buf[4];
    uint8_t control[64];
    struct kite_iovec iov = {buf, sizeof buf};
    struct kite_sockaddr_in from;
    struct kite_msghdr msg = {.msg_name = &from,
                              .msg_namelen = sizeof from,
                              .msg_iov = &iov,
                              .msg_iovlen = 1,
                              .msg_control = control,
                              .msg_controllen = sizeof control};
    assert_int_equal(kite_recvmsg(&f->socks, r, &msg, 0), 4);
    assert_true(msg.msg_flags & KITE_MSG_TRUNC);
    assert_memory_equal(buf, "0123", 4);
    /* As Linux: the space used, CMSG_SPACE; the message's own length CMSG_LEN. */
    assert_int_equal(msg.msg_controllen, KITE_CMSG_SPACE(sizeof(struct kite_in_pktinfo)));
    struct kite_cmsghdr *cm = msg.msg_control;
    assert_int_equal(cm->cmsg_len, KITE_CMSG_LEN(sizeof(struct kite_in_pktinfo)));
    assert_int_equal(cm->cmsg_type, KITE_IP_PKTINFO);
    /* Room for less than the data: what fits, and MSG_CTRUNC. */
    assert_int_equal(kite_sendto(&f->socks, w, "ab", 2, 0, SA(a), sizeof a), 2);
    msg.msg_controllen = KITE_CMSG_LEN(4);
    assert_int_equal(kite_recvmsg(&f->socks, r, &msg, 0), 2);
    assert_int_equal(msg.msg_flags, KITE_MSG_CTRUNC);
    assert_int_equal(msg.msg_controllen, KITE_CMSG_LEN(4));
    assert_int_equal(cm->cmsg_len, KITE_CMSG_LEN(4));
    (void)kite_close(&f->socks, r);
    (void)kite_close(&f->socks, w);
}

/* Pieces for the EMSGSIZE case: two must be more than 65 507 bytes, and
 * both must fit the PBUF_POOL blocks at once (max_throughput: they do). */
#define CORK_BIG 36000u
#define CORK_FITS_TWICE                                                                            \
    ((uint32_t)KITE_PBUF_POOL_COUNT * (KITE_PBUF_POOL_BUFSIZE - 128u) >= 3u * CORK_BIG)

/* MSG_MORE on UDP holds pieces back (Linux's corking): one datagram, sent
 * to where the first piece was addressed; too much in all is EMSGSIZE and
 * drops what was held; a close frees what is held (teardown counts pools). */
static void udp_msg_more_corks(void **state)
{
    struct fx *f = *state;
    int r = kite_socket(&f->socks, KITE_AF_INET, KITE_SOCK_DGRAM, 0);
    int w = kite_socket(&f->socks, KITE_AF_INET, KITE_SOCK_DGRAM, 0);
    struct kite_sockaddr_in a = loop_addr(6100), elsewhere = loop_addr(6101);
    assert_int_equal(kite_bind(&f->socks, r, SA(a), sizeof a), 0);
    /* Each held piece takes a RAM pbuf, and the loopback's copy one more:
     * min_ram's 3 allow two pieces. */
    const bool three = KITE_PBUF_RAM_COUNT >= 4;
    assert_int_equal(kite_sendto(&f->socks, w, "ab", 2, KITE_MSG_MORE, SA(a), sizeof a), 2);
    if (three)
        assert_int_equal(kite_sendto(&f->socks, w, "cd", 2, KITE_MSG_MORE, SA(elsewhere), sizeof a),
                         2);
    char buf[16];
    assert_int_equal(kite_recv(&f->socks, r, buf, sizeof buf, KITE_MSG_DONTWAIT), -1);
    assert_int_equal(errno, EAGAIN); /* nothing left yet */
    assert_int_equal(kite_sendto(&f->socks, w, "ef", 2, 0, SA(elsewhere), sizeof a), 2);
    assert_int_equal(kite_recv(&f->socks, r, buf, sizeof buf, 0), three ? 6 : 4);
    assert_memory_equal(buf, three ? "abcdef" : "abef", three ? 6u : 4u);
    static uint8_t big[CORK_BIG];
    if (CORK_FITS_TWICE) {
        /* Over 65 507 bytes in all: EMSGSIZE, and what was held is dropped. */
        assert_int_equal(kite_sendto(&f->socks, w, big, sizeof big, KITE_MSG_MORE, SA(a), sizeof a),
                         (ssize_t)sizeof big);
        assert_int_equal(kite_sendto(&f->socks, w, big, sizeof big, 0, SA(a), sizeof a), -1);
        assert_int_equal(errno, EMSGSIZE);
        assert_int_equal(kite_sendto(&f->socks, w, "g", 1, 0, SA(a), sizeof a), 1);
        assert_int_equal(kite_recv(&f->socks, r, buf, sizeof buf, 0), 1);
        assert_memory_equal(buf, "g", 1);
    } else {
        /* A piece the pools cannot hold fails (ENOMEM) and keeps what was held. */
        assert_int_equal(kite_sendto(&f->socks, w, "g", 1, KITE_MSG_MORE, SA(a), sizeof a), 1);
        assert_int_equal(kite_sendto(&f->socks, w, big, sizeof big, KITE_MSG_MORE, SA(a), sizeof a),
                         -1);
        assert_int_equal(errno, ENOMEM);
        assert_int_equal(kite_sendto(&f->socks, w, "h", 1, 0, SA(a), sizeof a), 1);
        assert_int_equal(kite_recv(&f->socks, r, buf, sizeof buf, 0), 2);
        assert_memory_equal(buf, "gh", 2);
    }
    /* Held at close: freed. */
    assert_int_equal(kite_sendto(&f->socks, w, "h", 1, KITE_MSG_MORE, SA(a), sizeof a), 1);
    (void)kite_close(&f->socks, w);
    (void)kite_close(&f->socks, r);
}

struct blocked {
    struct kite_sockets *s;
    int fd;
    bool accept;
    ssize_t ret;
    int err;
};

static void *blocked_thread(void *arg)
{
    struct blocked *b = arg;
    char buf[8];
    b->ret = b->accept ? kite_accept(b->s, b->fd, NULL, NULL)
                       : kite_recv(b->s, b->fd, buf, sizeof buf, 0);
    b->err = errno;
    return NULL;
}

static void close_wakes_blocked_calls(void **state)
{
    struct fx *f = *state;
    int l = tcp_server(f, 82);
    int c = tcp_client(f, 82);
    int a = kite_accept(&f->socks, l, NULL, NULL);
    struct blocked b[2] = {{&f->socks, a, false, 0, 0}, {&f->socks, l, true, 0, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, blocked_thread, &b[i]), 0);
    struct timespec ms = {0, 50000000};
    nanosleep(&ms, NULL); /* let them block (a late one gets EBADF as well) */
    assert_int_equal(kite_close(&f->socks, a), 0);
    assert_int_equal(kite_close(&f->socks, l), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(b[i].ret, -1);
        assert_int_equal(b[i].err, EBADF);
    }
    (void)kite_close(&f->socks, c);
}

/* SO_LINGER with a positive time: close waits for what was written to be
 * acknowledged; when that takes longer, the connection is reset. */
static void linger_waits_then_resets(void **state)
{
    struct fx *f = *state;
    int l = tcp_server(f, 83);
    int c = tcp_client(f, 83);
    int a = kite_accept(&f->socks, l, NULL, NULL);
    struct kite_linger lg = {1, 5};
    assert_int_equal(kite_setsockopt(&f->socks, c, KITE_SOL_SOCKET, KITE_SO_LINGER, &lg, sizeof lg),
                     0);
    assert_int_equal(kite_write(&f->socks, c, "bye", 3), 3);
    assert_int_equal(kite_close(&f->socks, c), 0); /* acknowledged at once over loopback */
    char buf[8];
    assert_int_equal(kite_recv(&f->socks, a, buf, sizeof buf, KITE_MSG_WAITALL), 3);
    assert_int_equal(kite_recv(&f->socks, a, buf, sizeof buf, 0), 0); /* FIN, not RST */
    (void)kite_close(&f->socks, a);
    /* Now a reader that never reads: its window fills, the rest is never
     * acknowledged, and after 1 s the close resets the connection. */
    c = tcp_client(f, 83);
    a = kite_accept(&f->socks, l, NULL, NULL);
    lg.l_linger = 1;
    assert_int_equal(kite_setsockopt(&f->socks, c, KITE_SOL_SOCKET, KITE_SO_LINGER, &lg, sizeof lg),
                     0);
    static uint8_t big[4u * KITE_TCP_RCV_BUF];
    struct kite_timeval quick = {0, 200000};
    assert_int_equal(
        kite_setsockopt(&f->socks, c, KITE_SOL_SOCKET, KITE_SO_SNDTIMEO, &quick, sizeof quick), 0);
    ssize_t w = kite_send(&f->socks, c, big, sizeof big, 0);
    /* What went in: the reader's window and more, unless the pools (which
     * the unread data pins) run out first, as in min_ram. */
    assert_true(w > (ssize_t)KITE_TCP_RCV_BUF || (w > 0 && KITE_PBUF_RAM_COUNT < 8));
    kite_time_ms t0 = kite_os_now_ms();
    assert_int_equal(kite_close(&f->socks, c), 0);
    assert_true(kite_os_now_ms() - t0 >= 900u);
    struct kite_timeval bound = {3, 0}; /* a lost RST fails the test instead of hanging it */
    assert_int_equal(
        kite_setsockopt(&f->socks, a, KITE_SOL_SOCKET, KITE_SO_RCVTIMEO, &bound, sizeof bound), 0);
    ssize_t got = 0, n;
    while ((n = kite_recv(&f->socks, a, big, sizeof big, 0)) > 0)
        got += n;
    assert_int_equal(n, -1);
    if (KITE_PBUF_RAM_COUNT >= 8) {
        assert_int_equal(errno, ECONNRESET);
        assert_true(got < w); /* the rest was reset */
    } else { /* the unread data pins every buffer: the RST may find none (a lost RST) */
        assert_true(errno == ECONNRESET || errno == EAGAIN);
        assert_true(got <= w);
    }
    (void)kite_close(&f->socks, a);
    (void)kite_close(&f->socks, l);
}

/* Every pbuf block taken (in the core, where pools live) or given back. */
struct hoard {
    struct kite_stack *stack;
    struct kite_pbuf *held[KITE_PBUF_POOL_COUNT + KITE_PBUF_RAM_COUNT];
    unsigned n;
    bool take;
};

static void hoard_core(void *arg)
{
    struct hoard *h = arg;
    if (!h->take) {
        while (h->n > 0)
            kite_pbuf_free(h->stack, h->held[--h->n]);
        return;
    }
    const struct kite_pool *ram = kite_stack_pool(h->stack, KITE_POOL_PBUF_RAM);
    const struct kite_pool *pool = kite_stack_pool(h->stack, KITE_POOL_PBUF_POOL);
    while (ram->used < ram->count)
        h->held[h->n++] = kite_pbuf_alloc(h->stack, 0, 1, KITE_PBUF_RAM);
    while (pool->used < pool->count)
        h->held[h->n++] = kite_pbuf_alloc(h->stack, 0, 1, KITE_PBUF_POOL);
}

struct sender {
    struct kite_sockets *s;
    int fd;
    struct kite_sockaddr_in to;
    ssize_t ret;
    int err;
};

static void *send_thread(void *arg)
{
    struct sender *x = arg;
    x->ret = kite_sendto(x->s, x->fd, "data", 4, 0, SA(x->to), sizeof x->to);
    x->err = errno;
    return NULL;
}

/* Out of buffers: ENOMEM at once (lwIP's way), or with
 * KITE_NETCONN_UDP_SEND_BLOCKS a wait until buffers come back. */
static void udp_send_without_buffers(void **state)
{
    struct fx *f = *state;
    struct sender x = {&f->socks, kite_socket(&f->socks, KITE_AF_INET, KITE_SOCK_DGRAM, 0),
                       loop_addr(7000), 0, 0};
    struct hoard h = {.stack = &f->stack, .take = true};
    assert_int_equal(kite_tcpip_call(&f->tcpip, hoard_core, &h), KITE_ERR_OK);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, send_thread, &x), 0);
    struct timespec ms = {0, 100000000};
    nanosleep(&ms, NULL);
    h.take = false;
    assert_int_equal(kite_tcpip_call(&f->tcpip, hoard_core, &h), KITE_ERR_OK);
    pthread_join(th, NULL);
    if (KITE_NETCONN_UDP_SEND_BLOCKS) {
        assert_int_equal(x.ret, 4);
    } else {
        assert_int_equal(x.ret, -1);
        assert_int_equal(x.err, ENOMEM);
    }
    (void)kite_close(&f->socks, x.fd);
}

/* RFC 1071 sum over an ICMP message (even length here). */
static uint16_t icmp_sum(const uint8_t *b, size_t n)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(b[i] << 8 | b[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)~sum;
}

static ssize_t raw_recv(struct fx *f, int fd, uint8_t *buf, size_t len,
                        struct kite_sockaddr_in *from)
{
    kite_socklen_t flen = sizeof *from;
    return kite_recvfrom(&f->socks, fd, buf, len, 0, SA(*from), &flen);
}

/* SOCK_RAW: an ICMP socket sees its own echo request and the stack's reply,
 * IP header first (as Linux gives them); a protocol no handler serves
 * reaches its raw socket and draws no protocol unreachable. */
static void raw_icmp_and_private_protocol(void **state)
{
    struct fx *f = *state;
    int r = kite_socket(&f->socks, KITE_AF_INET, KITE_SOCK_RAW, KITE_IPPROTO_ICMP);
    if (!KITE_RAW) {
        assert_int_equal(r, -1);
        assert_int_equal(errno, EPROTONOSUPPORT);
        return;
    }
    assert_true(r >= 0);
    assert_int_equal(kite_socket(&f->socks, KITE_AF_INET, KITE_SOCK_RAW, 0), -1);
    assert_int_equal(errno, EPROTONOSUPPORT);
    struct kite_timeval sec = {1, 0};
    assert_int_equal(
        kite_setsockopt(&f->socks, r, KITE_SOL_SOCKET, KITE_SO_RCVTIMEO, &sec, sizeof sec), 0);
    uint8_t echo[12] = {8, 0, 0, 0, 0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g'};
    uint16_t sum = icmp_sum(echo, sizeof echo);
    echo[2] = (uint8_t)(sum >> 8);
    echo[3] = (uint8_t)sum;
    struct kite_sockaddr_in to = loop_addr(0), from;
    assert_int_equal(kite_sendto(&f->socks, r, echo, sizeof echo, 0, SA(to), sizeof to),
                     (ssize_t)sizeof echo);
    uint8_t buf[128];
    unsigned types = 0;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(raw_recv(f, r, buf, sizeof buf, &from), 20 + (ssize_t)sizeof echo);
        assert_int_equal(buf[0], 0x45);
        assert_int_equal(buf[9], KITE_IPPROTO_ICMP);
        assert_memory_equal(buf + 24, echo + 4, sizeof echo - 4); /* id, seq and data kept */
        assert_int_equal(from.sin_addr.s_addr, kite_htonl(KITE_IP4(127, 0, 0, 1)));
        assert_int_equal(from.sin_port, 0);
        types |= 1u << buf[20];
    }
    assert_int_equal(types, (1u << 8) | (1u << 0)); /* the request and its reply */

    int p = kite_socket(&f->socks, KITE_AF_INET, KITE_SOCK_RAW, 253); /* RFC 3692 testing */
    assert_true(p >= 0);
    assert_int_equal(
        kite_setsockopt(&f->socks, p, KITE_SOL_SOCKET, KITE_SO_RCVTIMEO, &sec, sizeof sec), 0);
    assert_int_equal(kite_sendto(&f->socks, p, "hello", 5, 0, SA(to), sizeof to), 5);
    assert_int_equal(raw_recv(f, p, buf, sizeof buf, &from), 25);
    assert_int_equal(buf[9], 253);
    assert_memory_equal(buf + 20, "hello", 5);
    /* No protocol unreachable came back to the ICMP socket. */
    assert_int_equal(kite_recv(&f->socks, r, buf, sizeof buf, KITE_MSG_DONTWAIT), -1);
    assert_int_equal(errno, EAGAIN);
    /* Connected to a peer that is not the sender: the next packet is not ours. */
    struct kite_sockaddr_in other = {.sin_family = KITE_AF_INET,
                                     .sin_addr = {kite_htonl(KITE_IP4(192, 0, 2, 9))}};
    assert_int_equal(kite_connect(&f->socks, p, SA(other), sizeof other), 0);
    int q = kite_socket(&f->socks, KITE_AF_INET, KITE_SOCK_RAW, 253);
    assert_true(q >= 0);
    assert_int_equal(kite_sendto(&f->socks, q, "x", 1, 0, SA(to), sizeof to), 1);
    assert_int_equal(kite_recv(&f->socks, p, buf, sizeof buf, KITE_MSG_DONTWAIT), -1);
    assert_int_equal(errno, EAGAIN);
    (void)kite_close(&f->socks, q);
    (void)kite_close(&f->socks, p);
    (void)kite_close(&f->socks, r);
}

/* The TCP pcbs in use and the TIME_WAIT ones recycled, read in the core. */
struct tcp_peek {
    struct kite_stack *stack;
    unsigned used;
    uint32_t recycled;
};

static void tcp_peek_core(void *arg)
{
    struct tcp_peek *pk = arg;
    pk->used = kite_stack_pool(pk->stack, KITE_POOL_TCP_PCB)->used;
    pk->recycled = pk->stack->stats.tcp.tw_recycled;
}

static struct tcp_peek tcp_peek(struct fx *f)
{
    struct tcp_peek pk = {.stack = &f->stack};
    assert_int_equal(kite_tcpip_call(&f->tcpip, tcp_peek_core, &pk), KITE_ERR_OK);
    return pk;
}

/* One connection left in TIME_WAIT (the client closed first), no other pcb. */
static void leave_one_time_wait(struct fx *f)
{
    int l = tcp_server(f, 90), c = tcp_client(f, 90);
    int a = kite_accept(&f->socks, l, NULL, NULL);
    assert_int_equal(kite_close(&f->socks, c), 0);
    char b;
    assert_int_equal(kite_recv(&f->socks, a, &b, 1, 0), 0);
    assert_int_equal(kite_close(&f->socks, a), 0);
    assert_int_equal(kite_close(&f->socks, l), 0);
    struct timespec ms = {0, 10000000};
    for (int i = 0; i < 200 && tcp_peek(f).used != 1; i++)
        nanosleep(&ms, NULL); /* the server's LAST_ACK ends on the stack thread */
    assert_int_equal(tcp_peek(f).used, 1);
}

/* Socket table pressure (the seed's CONFIG_LWIP_MAX_SOCKETS): with every
 * pcb in use, a new socket recycles the oldest TIME_WAIT connection; then
 * ENFILE. A full socket table fails with EMFILE and recycles nothing. */
static void table_pressure_recycles_time_wait(void **state)
{
    struct fx *f = *state;
    leave_one_time_wait(f);
    int fds[KITE_SOCKET_COUNT];
    int n = 0;
    while (n < KITE_SOCKET_COUNT && n < KITE_TCP_PCB_COUNT - 1) {
        fds[n] = kite_socket(&f->socks, KITE_AF_INET, KITE_SOCK_STREAM, 0);
        assert_true(fds[n++] >= 0);
    }
    assert_int_equal(tcp_peek(f).recycled, 0);
    if (n < KITE_SOCKET_COUNT) { /* every pcb is taken: the next recycles */
        fds[n] = kite_socket(&f->socks, KITE_AF_INET, KITE_SOCK_STREAM, 0);
        assert_true(fds[n++] >= 0);
        assert_int_equal(tcp_peek(f).recycled, 1);
    }
    int expect = n < KITE_SOCKET_COUNT ? ENFILE : EMFILE;
    assert_int_equal(kite_socket(&f->socks, KITE_AF_INET, KITE_SOCK_STREAM, 0), -1);
    assert_int_equal(errno, expect);
    struct tcp_peek pk = tcp_peek(f);
    assert_int_equal(pk.used, (unsigned)n + (pk.recycled == 0)); /* + TIME_WAIT if kept */
    while (n > 0)
        assert_int_equal(kite_close(&f->socks, fds[--n]), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(tcp_exchange_and_names, setup, teardown),
        cmocka_unit_test_setup_teardown(select_and_poll_readiness, setup, teardown),
        cmocka_unit_test_setup_teardown(options_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(nonblocking_connect_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(udp_truncation_and_pktinfo, setup, teardown),
        cmocka_unit_test_setup_teardown(udp_connected_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(udp_msg_more_corks, setup, teardown),
        cmocka_unit_test_setup_teardown(close_wakes_blocked_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(linger_waits_then_resets, setup, teardown),
        cmocka_unit_test_setup_teardown(udp_send_without_buffers, setup, teardown),
        cmocka_unit_test_setup_teardown(raw_icmp_and_private_protocol, setup, teardown),
        cmocka_unit_test_setup_teardown(table_pressure_recycles_time_wait, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
