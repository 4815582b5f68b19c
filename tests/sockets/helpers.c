/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers shared by the cases, written on the S_* interface only. */
#include <stdlib.h>
#include <time.h>

#include "suite.h"

static uint16_t be16(uint16_t v)
{
    const uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    uint16_t r;
    memcpy(&r, b, 2);
    return r;
}

static uint32_t be32(uint32_t v)
{
    const uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    uint32_t r;
    memcpy(&r, b, 4);
    return r;
}

struct kite_sockaddr_in S_addr_ip(uint32_t ip, uint16_t port)
{
    struct kite_sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = KITE_AF_INET;
    a.sin_port = be16(port);
    a.sin_addr.s_addr = be32(ip);
    return a;
}

struct kite_sockaddr_in S_addr(uint16_t port)
{
    return S_addr_ip(S_LOOPBACK, port);
}

uint16_t S_port(const struct kite_sockaddr_in *a)
{
    return be16(a->sin_port);
}

uint32_t S_ip(const struct kite_sockaddr_in *a)
{
    return be32(a->sin_addr.s_addr);
}

uint16_t S_newport(void)
{
    /* Linux keeps TIME_WAIT across cases of one run: never reuse a port. */
    static uint16_t next = 20000;
    return next++;
}

uint16_t S_local_port(int fd)
{
    struct kite_sockaddr_in a;
    kite_socklen_t len = sizeof a;
    S_OK(S_getsockname(fd, &a, &len));
    return S_port(&a);
}

void S_set_int(int fd, int level, int name, int v)
{
    S_OK(S_setsockopt(fd, level, name, &v, sizeof v));
}

int S_get_int(int fd, int level, int name)
{
    int v = -12345;
    kite_socklen_t len = sizeof v;
    S_OK(S_getsockopt(fd, level, name, &v, &len));
    assert_int_equal(len, sizeof v);
    return v;
}

void S_set_timeouts(int fd, int ms)
{
    struct kite_timeval tv = {ms / 1000, (ms % 1000) * 1000L};
    S_OK(S_setsockopt(fd, KITE_SOL_SOCKET, KITE_SO_RCVTIMEO, &tv, sizeof tv));
    S_OK(S_setsockopt(fd, KITE_SOL_SOCKET, KITE_SO_SNDTIMEO, &tv, sizeof tv));
}

void S_nonblock(int fd, bool on)
{
    int fl = S_fcntl(fd, KITE_F_GETFL, 0);
    assert_true(fl >= 0);
    fl = on ? (fl | KITE_O_NONBLOCK) : (fl & ~KITE_O_NONBLOCK);
    S_OK(S_fcntl(fd, KITE_F_SETFL, fl));
}

int S_listener(uint16_t *port, int backlog)
{
    int l = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    assert_true(l >= 0);
    *port = S_newport();
    struct kite_sockaddr_in a = S_addr(*port);
    S_OK(S_bind(l, &a, SIN_LEN));
    S_OK(S_listen(l, backlog));
    S_set_timeouts(l, 2000);
    return l;
}

void S_tcp_pair(int *client, int *server)
{
    uint16_t port;
    int l = S_listener(&port, 4);
    int c = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    assert_true(c >= 0);
    S_set_timeouts(c, 2000);
    struct kite_sockaddr_in a = S_addr(port);
    S_OK(S_connect(c, &a, SIN_LEN));
    int s = S_accept(l, NULL, NULL);
    assert_true(s >= 0);
    S_set_timeouts(s, 2000);
    S_OK(S_close(l));
    *client = c;
    *server = s;
}

void S_udp_pair(int *a, uint16_t *aport, int *b, uint16_t *bport)
{
    int *fds[2] = {a, b};
    uint16_t *ports[2] = {aport, bport};
    for (int i = 0; i < 2; i++) {
        int fd = S_socket(KITE_AF_INET, KITE_SOCK_DGRAM, 0);
        assert_true(fd >= 0);
        uint16_t p = S_newport();
        struct kite_sockaddr_in sa = S_addr(p);
        S_OK(S_bind(fd, &sa, SIN_LEN));
        S_set_timeouts(fd, 2000);
        *fds[i] = fd;
        if (ports[i])
            *ports[i] = p;
    }
}

void S_udp_connected(int *a, int *b)
{
    uint16_t bp;
    S_udp_pair(a, NULL, b, &bp);
    struct kite_sockaddr_in to = S_addr(bp);
    S_OK(S_connect(*a, &to, SIN_LEN));
}

short S_wait(int fd, short events, int ms)
{
    struct kite_pollfd p = {fd, events, 0};
    int n = S_poll(&p, 1, ms);
    assert_true(n >= 0);
    return n ? p.revents : 0;
}

short S_wait_for(int fd, short want, int ms)
{
    int64_t end = S_now_ms() + ms;
    short r = 0;
    for (;;) {
        r = S_wait(fd, want, 50);
        if ((r & want) || S_now_ms() >= end)
            return r;
        if (r) /* something else is ready (POLLIN while waiting for POLLERR): don't spin */
            S_sleep_ms(10);
    }
}

int64_t S_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void S_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void S_send_all(int fd, const void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = S_send(fd, (const char *)buf + done, n - done, KITE_MSG_NOSIGNAL);
        if (r <= 0)
            fail_msg("send: %zd errno %d (%s) after %zu of %zu", r, errno, strerror(errno), done,
                     n);
        done += (size_t)r;
    }
}

void S_recv_all(int fd, void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = S_recv(fd, (char *)buf + done, n - done, 0);
        if (r <= 0)
            fail_msg("recv: %zd errno %d (%s) after %zu of %zu", r, errno, strerror(errno), done,
                     n);
        done += (size_t)r;
    }
}

int S_closed_fd(void)
{
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    assert_true(fd >= 0);
    S_OK(S_close(fd));
    return fd;
}

void S_thread_start(S_thread *t, void *(*fn)(void *), void *arg)
{
    assert_int_equal(pthread_create(t, NULL, fn, arg), 0);
}

void S_thread_join(S_thread *t)
{
    assert_int_equal(pthread_join(*t, NULL), 0);
}
