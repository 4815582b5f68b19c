/* SPDX-License-Identifier: BSD-3-Clause */
/* Blocking calls woken from other threads: data, FIN, RST, close, shutdown.
 * Every blocking call has a timeout, so a case that goes wrong ends. */
#include "suite.h"

struct blocked {
    int fd;
    int delay_ms; /* for helpers that act after a while */
    ssize_t ret;
    int err;
    int64_t took_ms;
    char buf[64];
};

static void *recv_thread(void *arg)
{
    struct blocked *b = arg;
    int64_t t0 = S_now_ms();
    errno = 0;
    b->ret = S_recv(b->fd, b->buf, sizeof b->buf, 0);
    b->err = errno;
    b->took_ms = S_now_ms() - t0;
    return NULL;
}

static void *accept_thread(void *arg)
{
    struct blocked *b = arg;
    int64_t t0 = S_now_ms();
    errno = 0;
    b->ret = S_accept(b->fd, NULL, NULL);
    b->err = errno;
    b->took_ms = S_now_ms() - t0;
    return NULL;
}

static void *poll_thread(void *arg)
{
    struct blocked *b = arg;
    struct kite_pollfd p = {b->fd, KITE_POLLIN, 0};
    errno = 0;
    b->ret = S_poll(&p, 1, 2000);
    b->err = p.revents;
    return NULL;
}

static void *select_thread(void *arg)
{
    struct blocked *b = arg;
    S_fdset r;
    S_FD_ZERO(&r);
    S_FD_SET(b->fd, &r);
    struct kite_timeval tv = {2, 0};
    b->ret = S_select(b->fd + 1, &r, NULL, NULL, &tv);
    b->err = (int)S_FD_ISSET(b->fd, &r);
    return NULL;
}

/* Sends "late" after delay_ms. */
static void *late_sender(void *arg)
{
    struct blocked *b = arg;
    S_sleep_ms(b->delay_ms);
    b->ret = S_send(b->fd, "late", 4, 0);
    return NULL;
}

/* ---- woken by the peer ------------------------------------------------------------------------
 */

static void recv_woken_by_data(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    static struct blocked b; /* outlives a failed case's frame */
    b = (struct blocked){.fd = s};
    S_thread t;
    S_thread_start(&t, recv_thread, &b);
    S_sleep_ms(100);
    S_RETURNS(S_send(c, "wake", 4, 0), 4);
    S_thread_join(&t);
    assert_int_equal(b.ret, 4);
    assert_memory_equal(b.buf, "wake", 4);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void recv_woken_by_fin(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    static struct blocked b; /* outlives a failed case's frame */
    b = (struct blocked){.fd = s};
    S_thread t;
    S_thread_start(&t, recv_thread, &b);
    S_sleep_ms(100);
    S_OK(S_close(c));
    S_thread_join(&t);
    assert_int_equal(b.ret, 0);
    assert_true(b.took_ms < 1500);
    S_OK(S_close(s));
}

static void recv_woken_by_rst(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    static struct blocked b; /* outlives a failed case's frame */
    b = (struct blocked){.fd = s};
    S_thread t;
    S_thread_start(&t, recv_thread, &b);
    S_sleep_ms(100);
    struct kite_linger l = {1, 0};
    S_OK(S_setsockopt(c, KITE_SOL_SOCKET, KITE_SO_LINGER, &l, sizeof l));
    S_OK(S_close(c));
    S_thread_join(&t);
    assert_int_equal(b.ret, -1);
    assert_int_equal(b.err, ECONNRESET);
    assert_true(b.took_ms < 1500);
    S_OK(S_close(s));
}

static void recv_udp_woken_by_datagram(void **st)
{
    (void)st;
    int a, b;
    uint16_t bp;
    S_udp_pair(&a, NULL, &b, &bp);
    static struct blocked bl; /* outlives a failed case's frame */
    bl = (struct blocked){.fd = b};
    S_thread t;
    S_thread_start(&t, recv_thread, &bl);
    S_sleep_ms(100);
    struct kite_sockaddr_in to = S_addr(bp);
    S_RETURNS(S_sendto(a, "dg", 2, 0, &to, SIN_LEN), 2);
    S_thread_join(&t);
    assert_int_equal(bl.ret, 2);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

static void accept_woken_by_connect(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 1);
    static struct blocked b; /* outlives a failed case's frame */
    b = (struct blocked){.fd = l};
    S_thread t;
    S_thread_start(&t, accept_thread, &b);
    S_sleep_ms(100);
    int c = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    S_set_timeouts(c, 2000);
    struct kite_sockaddr_in sa = S_addr(port);
    S_OK(S_connect(c, &sa, SIN_LEN));
    S_thread_join(&t);
    assert_true(b.ret >= 0);
    S_OK(S_close((int)b.ret));
    S_OK(S_close(c));
    S_OK(S_close(l));
}

static void waitall_across_sends(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    static struct blocked b; /* outlives a failed case's frame */
    b = (struct blocked){.fd = c, .delay_ms = 100};
    S_thread t;
    S_RETURNS(S_send(c, "early", 5, 0), 5);
    S_thread_start(&t, late_sender, &b);
    char buf[9];
    S_RETURNS(S_recv(s, buf, sizeof buf, KITE_MSG_WAITALL), 9);
    assert_memory_equal(buf, "earlylate", 9);
    S_thread_join(&t);
    assert_int_equal(b.ret, 4);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void poll_woken_by_data(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    static struct blocked b; /* outlives a failed case's frame */
    b = (struct blocked){.fd = s};
    S_thread t;
    S_thread_start(&t, poll_thread, &b);
    S_sleep_ms(100);
    S_RETURNS(S_send(c, "p", 1, 0), 1);
    S_thread_join(&t);
    assert_int_equal(b.ret, 1);
    assert_int_equal(b.err, KITE_POLLIN);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void select_woken_by_data(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    static struct blocked b; /* outlives a failed case's frame */
    b = (struct blocked){.fd = s};
    S_thread t;
    S_thread_start(&t, select_thread, &b);
    S_sleep_ms(100);
    S_RETURNS(S_send(c, "s", 1, 0), 1);
    S_thread_join(&t);
    assert_int_equal(b.ret, 1);
    assert_int_equal(b.err, 1);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void poll_woken_by_rst(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    static struct blocked b; /* outlives a failed case's frame */
    b = (struct blocked){.fd = s};
    S_thread t;
    S_thread_start(&t, poll_thread, &b);
    S_sleep_ms(100);
    struct kite_linger l = {1, 0};
    S_OK(S_setsockopt(c, KITE_SOL_SOCKET, KITE_SO_LINGER, &l, sizeof l));
    S_OK(S_close(c));
    S_thread_join(&t);
    assert_int_equal(b.ret, 1);
    assert_int_equal(b.err, KITE_POLLIN | KITE_POLLERR | KITE_POLLHUP);
    S_OK(S_close(s));
}

/* ---- flow control ---------------------------------------------------------------------------- */

struct reader {
    int fd;
    size_t want, got;
    int delay_ms;
};

static void *reader_thread(void *arg)
{
    struct reader *r = arg;
    static char sink[16384];
    S_sleep_ms(r->delay_ms);
    while (r->got < r->want) {
        size_t n = r->want - r->got < sizeof sink ? r->want - r->got : sizeof sink;
        ssize_t k = S_recv(r->fd, sink, n, 0);
        if (k <= 0)
            break;
        r->got += (size_t)k;
    }
    return NULL;
}

/* The send buffer is full; a blocking send waits until the reader drains. */
static void send_blocks_until_peer_reads(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    static char big[65536];
    size_t queued = 0;
    S_nonblock(c, true);
    for (int i = 0; i < 10000; i++) {
        ssize_t r = S_send(c, big, sizeof big, 0);
        if (r < 0) {
            assert_int_equal(errno, EAGAIN);
            break;
        }
        queued += (size_t)r;
    }
    S_nonblock(c, false);
    static struct reader rd; /* outlives a failed case's frame */
    rd = (struct reader){.fd = s, .want = queued + sizeof big, .delay_ms = 200};
    S_thread t;
    S_thread_start(&t, reader_thread, &rd);
    int64_t t0 = S_now_ms();
    S_RETURNS(S_send(c, big, sizeof big, 0), sizeof big);
    assert_true(S_now_ms() - t0 >= 150);
    S_thread_join(&t);
    assert_int_equal(rd.got, rd.want);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

struct writer {
    int fd;
    size_t len;
    ssize_t ret;
};

static void *writer_thread(void *arg)
{
    struct writer *w = arg;
    static char out[300000];
    for (size_t i = 0; i < w->len; i++)
        out[i] = (char)(i * 7 + (i >> 12));
    size_t done = 0;
    while (done < w->len) {
        ssize_t r = S_send(w->fd, out + done, w->len - done, KITE_MSG_NOSIGNAL);
        if (r <= 0) {
            w->ret = r;
            return NULL;
        }
        done += (size_t)r;
    }
    w->ret = (ssize_t)done;
    return NULL;
}

static void bulk_between_threads(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    static struct writer w; /* outlives a failed case's frame */
    w = (struct writer){.fd = c, .len = 300000};
    S_thread t;
    S_thread_start(&t, writer_thread, &w);
    static char in[300000];
    S_recv_all(s, in, sizeof in);
    S_thread_join(&t);
    assert_int_equal(w.ret, (ssize_t)w.len);
    for (size_t i = 0; i < sizeof in; i++)
        if (in[i] != (char)(i * 7 + (i >> 12)))
            fail_msg("byte %zu differs", i);
    S_OK(S_close(c));
    char b;
    S_RETURNS(S_recv(s, &b, 1, 0), 0);
    S_OK(S_close(s));
}

/* ---- woken from our side ------------------------------------------------------------------------
 */

/* shutdown(SHUT_RD) from another thread ends a blocked recv with EOF. */
static void recv_woken_by_shutdown_rd(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    static struct blocked b; /* outlives a failed case's frame */
    b = (struct blocked){.fd = s};
    S_thread t;
    S_thread_start(&t, recv_thread, &b);
    S_sleep_ms(100);
    S_OK(S_shutdown(s, KITE_SHUT_RD));
    S_thread_join(&t);
    assert_int_equal(b.ret, 0);
    assert_true(b.took_ms < 1500);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

/* close() while another thread blocks in recv: kite wakes it with EBADF (the
 * thread-safe close esp-lwip promises; under kite-run too, where closing
 * tears down the descriptor pair the thread waits on); Linux leaves it
 * blocked until its timeout (DIFFERENCES.md). */
static void close_while_blocked_in_recv(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_set_timeouts(s, 500);
    static struct blocked b; /* outlives a failed case's frame */
    b = (struct blocked){.fd = s};
    S_thread t;
    S_thread_start(&t, recv_thread, &b);
    S_sleep_ms(100);
    S_OK(S_close(s));
    S_thread_join(&t);
    assert_int_equal(b.ret, -1);
    if (S_is_kite) {
        assert_int_equal(b.err, EBADF);
        assert_true(b.took_ms < 400);
    } else {
        assert_int_equal(b.err, EAGAIN);
        assert_true(b.took_ms >= 450);
    }
    S_OK(S_close(c));
}

/* The same for accept (DIFFERENCES.md). */
static void close_while_blocked_in_accept(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 1);
    S_set_timeouts(l, 500);
    static struct blocked b; /* outlives a failed case's frame */
    b = (struct blocked){.fd = l};
    S_thread t;
    S_thread_start(&t, accept_thread, &b);
    S_sleep_ms(100);
    S_OK(S_close(l));
    S_thread_join(&t);
    assert_int_equal(b.ret, -1);
    if (S_is_kite) {
        assert_int_equal(b.err, EBADF);
        assert_true(b.took_ms < 400);
    } else {
        assert_int_equal(b.err, EAGAIN);
        assert_true(b.took_ms >= 450);
    }
}

/* Linux: shutdown of a listener wakes a blocked accept with EINVAL. */
static void shutdown_listener_wakes_accept(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 1);
    static struct blocked b; /* outlives a failed case's frame */
    b = (struct blocked){.fd = l};
    S_thread t;
    S_thread_start(&t, accept_thread, &b);
    S_sleep_ms(100);
    int r = S_shutdown(l, KITE_SHUT_RDWR);
    S_thread_join(&t); /* before any assertion: the thread uses the listener */
    S_RETURNS(r, 0);
    assert_int_equal(b.ret, -1);
    assert_int_equal(b.err, EINVAL);
    assert_true(b.took_ms < 1500);
    S_OK(S_close(l));
}

static void two_threads_two_sockets(void **st)
{
    (void)st;
    int c1, s1, c2, s2;
    S_tcp_pair(&c1, &s1);
    S_tcp_pair(&c2, &s2);
    static struct blocked b1, b2; /* outlive a failed case's frame */
    b1 = (struct blocked){.fd = s1};
    b2 = (struct blocked){.fd = s2};
    S_thread t1, t2;
    S_thread_start(&t1, recv_thread, &b1);
    S_thread_start(&t2, recv_thread, &b2);
    S_sleep_ms(100);
    S_RETURNS(S_send(c2, "two", 3, 0), 3);
    S_RETURNS(S_send(c1, "one", 3, 0), 3);
    S_thread_join(&t1);
    S_thread_join(&t2);
    assert_int_equal(b1.ret, 3);
    assert_memory_equal(b1.buf, "one", 3);
    assert_int_equal(b2.ret, 3);
    assert_memory_equal(b2.buf, "two", 3);
    S_OK(S_close(c1));
    S_OK(S_close(s1));
    S_OK(S_close(c2));
    S_OK(S_close(s2));
}

const struct CMUnitTest cases_threads[] = {
    S_CASE(recv_woken_by_data),
    S_CASE(recv_woken_by_fin),
    S_CASE(recv_woken_by_rst),
    S_CASE(recv_udp_woken_by_datagram),
    S_CASE(accept_woken_by_connect),
    S_CASE(waitall_across_sends),
    S_CASE(poll_woken_by_data),
    S_CASE(select_woken_by_data),
    S_CASE(poll_woken_by_rst),
    S_CASE(send_blocks_until_peer_reads),
    S_CASE(bulk_between_threads),
    S_CASE(recv_woken_by_shutdown_rd),
    S_CASE(close_while_blocked_in_recv),
    S_CASE(close_while_blocked_in_accept),
    S_CASE(shutdown_listener_wakes_accept),
    S_CASE(two_threads_two_sockets),
};
const size_t cases_threads_n = sizeof cases_threads / sizeof cases_threads[0];
