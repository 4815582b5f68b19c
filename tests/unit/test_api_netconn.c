/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * netconn over a stack thread (docs/api.md), in whichever threading mode the
 * build selects (KITE_TCPIP_CORE_LOCKING): TCP and UDP over the loopback
 * netif between threads, blocking and non-blocking calls, timeouts on real
 * and on virtual time, and delete from another thread while threads block.
 * Runs under ThreadSanitizer in CI (label "threads").
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kite/netconn.h"
#include "kite/port/loopif.h"
#include "kite/tcpip.h"
#include "kite/udp.h"
#include "testutil.h"

struct fx {
    struct kite_stack stack;
    struct kite_loopif lo;
    struct kite_tcpip tcpip;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(kite_stack_init(&f->stack, NULL), KITE_ERR_OK);
    assert_int_equal(kite_loopif_add(&f->stack, &f->lo), KITE_ERR_OK);
    assert_int_equal(kite_tcpip_start(&f->tcpip, &f->stack, NULL), KITE_ERR_OK);
    *state = f;
    return 0;
}

/* Every pool back to zero once the stack thread is gone, before deinit. */
static int teardown(void **state)
{
    struct fx *f = *state;
    kite_tcpip_stop(&f->tcpip);
    kite_stack_poll(&f->stack, kite_stack_now(&f->stack) + 4u * KITE_TCP_MSL_MS);
    kite_loopif_remove(&f->lo);
    kt_assert_pools_empty(&f->stack);
    kite_stack_deinit(&f->stack);
    free(f);
    return 0;
}

static const struct kite_addr loopback = KITE_ADDR_V4(KITE_IP4(127, 0, 0, 1));

static struct kite_netconn *tcp_listener(struct fx *f, uint16_t port)
{
    enum kite_err err;
    struct kite_netconn *l = kite_netconn_new(&f->tcpip, KITE_NETCONN_TCP, &err);
    assert_non_null(l);
    assert_int_equal(kite_netconn_bind(l, NULL, port), KITE_ERR_OK);
    assert_int_equal(kite_netconn_listen(l, 4), KITE_ERR_OK);
    return l;
}

/* ---- An echo server thread ------------------------------------------------------- */

struct echo {
    struct kite_netconn *listener;
    size_t echoed;
    enum kite_err end;
};

static void *echo_thread(void *arg)
{
    struct echo *e = arg;
    struct kite_netconn *c;
    e->end = kite_netconn_accept(e->listener, &c);
    if (e->end != KITE_ERR_OK)
        return NULL;
    for (;;) {
        struct kite_pbuf *p;
        e->end = kite_netconn_recv(c, &p, NULL, NULL);
        if (e->end != KITE_ERR_OK)
            break;
        uint8_t buf[2048];
        uint16_t n = kite_pbuf_copy_out(p, buf, sizeof buf, 0);
        kite_netconn_free_pbuf(c, p);
        size_t w = 0;
        if (kite_netconn_write(c, buf, n, KITE_NC_COPY, &w) != KITE_ERR_OK || w != n)
            break;
        e->echoed += n;
    }
    (void)kite_netconn_delete(c);
    return NULL;
}

static size_t recv_exactly(struct kite_netconn *c, uint8_t *buf, size_t want)
{
    size_t got = 0;
    while (got < want) {
        struct kite_pbuf *p;
        if (kite_netconn_recv(c, &p, NULL, NULL) != KITE_ERR_OK)
            break;
        uint16_t n = kite_pbuf_copy_out(p, buf + got, (uint16_t)(want - got), 0);
        if (n < p->tot_len) /* more than asked: give the rest back */
            assert_true(false);
        kite_netconn_free_pbuf(c, p);
        got += n;
    }
    return got;
}

static void tcp_echo_between_threads(void **state)
{
    struct fx *f = *state;
    struct echo e = {.listener = tcp_listener(f, 7)};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, echo_thread, &e), 0);
    enum kite_err err;
    struct kite_netconn *c = kite_netconn_new(&f->tcpip, KITE_NETCONN_TCP, &err);
    assert_non_null(c);
    assert_int_equal(kite_netconn_connect(c, &loopback, 7), KITE_ERR_OK);
    static uint8_t out[100000], in[100000];
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = (uint8_t)(i * 13u + (i >> 9));
    for (size_t off = 0; off < sizeof out; off += 1000) {
        size_t w = 0;
        assert_int_equal(kite_netconn_write(c, out + off, 1000, KITE_NC_COPY, &w), KITE_ERR_OK);
        assert_int_equal(w, 1000);
        assert_int_equal(recv_exactly(c, in + off, 1000), 1000);
    }
    assert_memory_equal(in, out, sizeof out);
    assert_int_equal(kite_netconn_delete(c), KITE_ERR_OK);
    pthread_join(th, NULL);
    assert_int_equal(e.echoed, sizeof out);
    assert_int_equal(e.end, KITE_ERR_CLOSED); /* the client's FIN */
    assert_int_equal(kite_netconn_delete(e.listener), KITE_ERR_OK);
}

static void udp_datagrams_with_sender(void **state)
{
    struct fx *f = *state;
    struct kite_netconn *a = kite_netconn_new(&f->tcpip, KITE_NETCONN_UDP, NULL);
    struct kite_netconn *b = kite_netconn_new(&f->tcpip, KITE_NETCONN_UDP, NULL);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(kite_netconn_bind(a, &loopback, 5000), KITE_ERR_OK);
    assert_int_equal(kite_netconn_bind(b, &loopback, 5001), KITE_ERR_OK);
    assert_int_equal(kite_netconn_sendto(a, "hello", 5, &loopback, 5001), KITE_ERR_OK);
    assert_int_equal(kite_netconn_sendto(a, "", 0, &loopback, 5001), KITE_ERR_OK);
    struct kite_pbuf *p;
    struct kite_addr from;
    uint16_t port = 0;
    assert_int_equal(kite_netconn_recv(b, &p, &from, &port), KITE_ERR_OK);
    assert_int_equal(p->tot_len, 5);
    assert_int_equal(port, 5000);
    assert_true(kite_addr_equal(&from, &loopback));
    kite_netconn_free_pbuf(b, p);
    assert_int_equal(kite_netconn_recv(b, &p, &from, &port), KITE_ERR_OK);
    assert_int_equal(p->tot_len, 0); /* an empty datagram is a datagram */
    kite_netconn_free_pbuf(b, p);
    /* Nothing more: non-blocking says so at once. */
    kite_netconn_set_nonblocking(b, true);
    assert_int_equal(kite_netconn_recv(b, &p, NULL, NULL), KITE_ERR_WOULDBLOCK);
    assert_int_equal(kite_netconn_delete(a), KITE_ERR_OK);
    assert_int_equal(kite_netconn_delete(b), KITE_ERR_OK);
}

/* A driver's burst of frames (kite_tcpip_input_frames), here IP packets for
 * the loopback netif from this thread: all taken, each given back once,
 * the datagrams delivered in order. In core-lock mode this thread ran them
 * itself, before the call returned. */
struct burst_frame {
    struct kite_tcpip_frame frame;
    uint8_t data[64];
};

static void burst_frame_done(void *ctx, struct kite_tcpip_frame *frame, enum kite_err err)
{
    (void)frame;
    assert_int_equal(err, KITE_ERR_OK);
    __atomic_fetch_add((unsigned *)ctx, 1u, __ATOMIC_RELEASE);
}

static void frame_burst_delivered(void **state)
{
    struct fx *f = *state;
    struct kite_netconn *u = kite_netconn_new(&f->tcpip, KITE_NETCONN_UDP, NULL);
    assert_non_null(u);
    assert_int_equal(kite_netconn_bind(u, &loopback, 5050), KITE_ERR_OK);
    static struct burst_frame fr[3]; /* (outlive a failed case's frame) */
    struct kite_tcpip_frame *list[3];
    unsigned done = 0;
    uint32_t lo = KITE_IP4(127, 0, 0, 1);
    for (unsigned i = 0; i < 3; i++) {
        char text = (char)('0' + i);
        uint16_t len = kt_build_udp(fr[i].data, lo, lo, 6000, 5050, &text, 1, true);
        fr[i].frame = (struct kite_tcpip_frame){.netif = &f->lo.netif,
                                                .data = fr[i].data,
                                                .len = len,
                                                .done = burst_frame_done,
                                                .ctx = &done};
        list[i] = &fr[i].frame;
    }
    assert_int_equal(kite_tcpip_input_frames(&f->tcpip, list, 3), 3);
    if (KITE_TCPIP_CORE_LOCKING)
        assert_int_equal(__atomic_load_n(&done, __ATOMIC_ACQUIRE), 3);
    for (unsigned i = 0; i < 3; i++) {
        struct kite_pbuf *p;
        assert_int_equal(kite_netconn_recv(u, &p, NULL, NULL), KITE_ERR_OK);
        uint8_t b = 0;
        kite_pbuf_copy_out(p, &b, 1, 0);
        assert_int_equal(b, '0' + i);
        kite_netconn_free_pbuf(u, p);
    }
    assert_int_equal(__atomic_load_n(&done, __ATOMIC_ACQUIRE), 3); /* (recv ran after them) */
    assert_int_equal(kite_netconn_delete(u), KITE_ERR_OK);
}

/* Linux's inet_shutdown on UDP: ENOTCONN unless connected; then it records
 * the directions: a send fails (EPIPE), datagrams still arrive, poll says
 * readable and, both shut, hung up. */
static void udp_shutdown_when_connected(void **state)
{
    struct fx *f = *state;
    struct kite_netconn *a = kite_netconn_new(&f->tcpip, KITE_NETCONN_UDP, NULL);
    struct kite_netconn *b = kite_netconn_new(&f->tcpip, KITE_NETCONN_UDP, NULL);
    assert_int_equal(kite_netconn_bind(a, &loopback, 5010), KITE_ERR_OK);
    assert_int_equal(kite_netconn_bind(b, &loopback, 5011), KITE_ERR_OK);
    assert_int_equal(kite_netconn_shutdown(a, false, true), KITE_ERR_NOTCONN);
    assert_int_equal(kite_netconn_connect(a, &loopback, 5011), KITE_ERR_OK);
    assert_int_equal(kite_netconn_shutdown(a, false, true), KITE_ERR_OK);
    assert_int_equal(kite_netconn_sendto(a, "x", 1, NULL, 0), KITE_ERR_CLOSED);
    assert_int_equal(kite_netconn_events(a) & (KITE_NC_READABLE | KITE_NC_HUP), 0);
    assert_int_equal(kite_netconn_shutdown(a, true, false), KITE_ERR_OK);
    assert_int_equal(kite_netconn_events(a) & (KITE_NC_READABLE | KITE_NC_HUP),
                     KITE_NC_READABLE | KITE_NC_HUP);
    assert_int_equal(kite_netconn_sendto(b, "yy", 2, &loopback, 5010), KITE_ERR_OK);
    for (int i = 0; i < 10000 && kite_netconn_pending(a, false) < 2; i++) {
        struct timespec ms = {0, 1000000}; /* the loopback delivers on the stack thread */
        nanosleep(&ms, NULL);
    }
    struct kite_pbuf *p;
    assert_int_equal(kite_netconn_recv(a, &p, NULL, NULL), KITE_ERR_OK);
    assert_int_equal(p->tot_len, 2);
    kite_netconn_free_pbuf(a, p);
    assert_int_equal(kite_netconn_recv(a, &p, NULL, NULL), KITE_ERR_CLOSED); /* never blocks */
    assert_int_equal(kite_netconn_delete(a), KITE_ERR_OK);
    assert_int_equal(kite_netconn_delete(b), KITE_ERR_OK);
}

/* Linux's udp_disconnect (connect with AF_UNSPEC): no peer, the port kept. */
static void udp_disconnect_keeps_port(void **state)
{
    struct fx *f = *state;
    struct kite_netconn *a = kite_netconn_new(&f->tcpip, KITE_NETCONN_UDP, NULL);
    assert_int_equal(kite_netconn_connect(a, &loopback, 5012), KITE_ERR_OK);
    struct kite_addr ip;
    uint16_t port = 0, mine = 0;
    assert_int_equal(kite_netconn_addr(a, true, &ip, &mine), KITE_ERR_OK);
    assert_int_equal(kite_netconn_disconnect(a), KITE_ERR_OK);
    assert_int_equal(kite_netconn_addr(a, false, &ip, &port), KITE_ERR_NOTCONN);
    assert_int_equal(kite_netconn_sendto(a, "x", 1, NULL, 0), KITE_ERR_NOTCONN);
    assert_int_equal(kite_netconn_addr(a, true, &ip, &port), KITE_ERR_OK);
    assert_int_equal(port, mine);
    struct kite_netconn *t = kite_netconn_new(&f->tcpip, KITE_NETCONN_TCP, NULL);
    assert_int_equal(kite_netconn_disconnect(t), KITE_ERR_UNSUPPORTED);
    assert_int_equal(kite_netconn_delete(t), KITE_ERR_OK);
    assert_int_equal(kite_netconn_delete(a), KITE_ERR_OK);
}

static void wait_for_error(struct kite_netconn *c)
{
    for (int i = 0; i < 5000 && !(kite_netconn_events(c) & KITE_NC_ERROR); i++) {
        struct timespec ms = {0, 1000000}; /* the loopback answers on the stack thread */
        nanosleep(&ms, NULL);
    }
    assert_true(kite_netconn_events(c) & KITE_NC_ERROR);
}

/* RFC 1122 4.1.3.3, as Linux: the port unreachable the stack answers a
 * datagram to a closed port with is a connected netconn's pending error,
 * reported once by the next recv (a blocked one wakes), send or take_error. */
static void udp_connected_refused(void **state)
{
    struct fx *f = *state;
    struct kite_netconn *a = kite_netconn_new(&f->tcpip, KITE_NETCONN_UDP, NULL);
    assert_int_equal(kite_netconn_connect(a, &loopback, 5013), KITE_ERR_OK);
    kite_netconn_set_timeouts(a, 5000, 0);
    assert_int_equal(kite_netconn_sendto(a, "x", 1, NULL, 0), KITE_ERR_OK);
    struct kite_pbuf *p;
    assert_int_equal(kite_netconn_recv(a, &p, NULL, NULL), KITE_ERR_REFUSED);
    kite_netconn_set_nonblocking(a, true);
    assert_int_equal(kite_netconn_recv(a, &p, NULL, NULL), KITE_ERR_WOULDBLOCK); /* taken */
    assert_int_equal(kite_netconn_sendto(a, "x", 1, NULL, 0), KITE_ERR_OK);
    wait_for_error(a);
    assert_int_equal(kite_netconn_events(a) & KITE_NC_READABLE, KITE_NC_READABLE);
    assert_int_equal(kite_netconn_sendto(a, "x", 1, NULL, 0), KITE_ERR_REFUSED); /* not sent */
    assert_int_equal(kite_netconn_take_error(a), KITE_ERR_OK);
    assert_int_equal(kite_netconn_sendto(a, "x", 1, NULL, 0), KITE_ERR_OK);
    wait_for_error(a);
    assert_int_equal(kite_netconn_take_error(a), KITE_ERR_REFUSED);
    /* Unconnected, the same datagram brings no error (Linux: only with IP_RECVERR). */
    assert_int_equal(kite_netconn_disconnect(a), KITE_ERR_OK);
    assert_int_equal(kite_netconn_sendto(a, "x", 1, &loopback, 5013), KITE_ERR_OK);
    struct timespec ms = {0, 20000000};
    nanosleep(&ms, NULL);
    assert_int_equal(kite_netconn_events(a) & KITE_NC_ERROR, 0);
    assert_int_equal(kite_netconn_delete(a), KITE_ERR_OK);
}

static void recv_timeout_real_time(void **state)
{
    struct fx *f = *state;
    struct kite_netconn *u = kite_netconn_new(&f->tcpip, KITE_NETCONN_UDP, NULL);
    assert_int_equal(kite_netconn_bind(u, &loopback, 5002), KITE_ERR_OK);
    kite_netconn_set_timeouts(u, 50, 0);
    kite_time_ms t0 = kite_os_now_ms();
    struct kite_pbuf *p;
    assert_int_equal(kite_netconn_recv(u, &p, NULL, NULL), KITE_ERR_TIMEOUT);
    assert_true(kite_os_now_ms() - t0 >= 45u); /* never an upper bound: CI may be loaded */
    assert_int_equal(kite_netconn_delete(u), KITE_ERR_OK);
}

/* ---- Virtual time ------------------------------------------------------------------ */

struct vclock {
    pthread_mutex_t m;
    kite_time_ms now;
};

static kite_time_ms vclock_now(void *ctx)
{
    struct vclock *v = ctx;
    pthread_mutex_lock(&v->m);
    kite_time_ms t = v->now;
    pthread_mutex_unlock(&v->m);
    return t;
}

struct blocked_recv {
    struct kite_netconn *c;
    enum kite_err err;
};

static void *blocked_recv_thread(void *arg)
{
    struct blocked_recv *b = arg;
    struct kite_pbuf *p;
    b->err = kite_netconn_recv(b->c, &p, NULL, NULL);
    if (b->err == KITE_ERR_OK)
        kite_netconn_free_pbuf(b->c, p);
    return NULL;
}

/* Until n threads block on c (at most 10 s of real time). */
static void wait_for_waiters(struct kite_netconn *c, unsigned n)
{
    for (int i = 0; i < 10000 && kite_netconn_waiting(c) < n; i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    assert_int_equal(kite_netconn_waiting(c), n);
}

static void recv_timeout_virtual_time(void **state)
{
    struct fx *f = *state;
    struct vclock v = {.m = PTHREAD_MUTEX_INITIALIZER, .now = kite_os_now_ms()};
    kite_tcpip_set_clock(&f->tcpip, vclock_now, &v);
    struct kite_netconn *u = kite_netconn_new(&f->tcpip, KITE_NETCONN_UDP, NULL);
    assert_int_equal(kite_netconn_bind(u, &loopback, 5003), KITE_ERR_OK);
    kite_netconn_set_timeouts(u, 3600000, 0); /* an hour of virtual time */
    struct blocked_recv b = {.c = u, .err = KITE_ERR_OK};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, blocked_recv_thread, &b), 0);
    /* Once it blocks, only virtual time can end the wait: an hour of it. */
    wait_for_waiters(u, 1);
    for (int i = 0; i < 20; i++) {
        pthread_mutex_lock(&v.m);
        v.now += 200000;
        pthread_mutex_unlock(&v.m);
        kite_tcpip_wake(&f->tcpip);
    }
    pthread_join(th, NULL);
    assert_int_equal(b.err, KITE_ERR_TIMEOUT);
    assert_int_equal(kite_netconn_delete(u), KITE_ERR_OK);
    kite_tcpip_set_clock(&f->tcpip, NULL, NULL);
}

/* ---- Delete while others block ---------------------------------------------------------- */

static void delete_wakes_blocked_threads(void **state)
{
    struct fx *f = *state;
    struct kite_netconn *u = kite_netconn_new(&f->tcpip, KITE_NETCONN_UDP, NULL);
    assert_int_equal(kite_netconn_bind(u, &loopback, 5004), KITE_ERR_OK);
    struct blocked_recv b[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        b[i].c = u;
        b[i].err = KITE_ERR_OK;
        assert_int_equal(pthread_create(&th[i], NULL, blocked_recv_thread, &b[i]), 0);
    }
    /* All three block before the delete (a netconn is not used after it). */
    wait_for_waiters(u, 3);
    assert_int_equal(kite_netconn_delete(u), KITE_ERR_OK);
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(b[i].err, KITE_ERR_CLOSED);
    }
}

struct blocked_accept {
    struct kite_netconn *l;
    enum kite_err err;
};

static void *blocked_accept_thread(void *arg)
{
    struct blocked_accept *b = arg;
    struct kite_netconn *c = NULL;
    b->err = kite_netconn_accept(b->l, &c);
    if (c != NULL)
        (void)kite_netconn_delete(c);
    return NULL;
}

/* Linux: shutting a listener for writing changes nothing; for reading stops
 * it: a blocked accept wakes with EINVAL and connects are refused. */
static void shutdown_stops_listener(void **state)
{
    struct fx *f = *state;
    struct kite_netconn *l = tcp_listener(f, 5020);
    assert_int_equal(kite_netconn_shutdown(l, false, true), KITE_ERR_OK);
    struct blocked_accept b = {.l = l, .err = KITE_ERR_OK};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, blocked_accept_thread, &b), 0);
    wait_for_waiters(l, 1);
    assert_int_equal(kite_netconn_shutdown(l, true, true), KITE_ERR_OK);
    pthread_join(th, NULL);
    assert_int_equal(b.err, KITE_ERR_VAL);
    assert_true(kite_netconn_events(l) & KITE_NC_HUP);
    struct kite_netconn *c = kite_netconn_new(&f->tcpip, KITE_NETCONN_TCP, NULL);
    assert_int_equal(kite_netconn_connect(c, &loopback, 5020), KITE_ERR_RESET);
    assert_int_equal(kite_netconn_delete(c), KITE_ERR_OK);
    assert_int_equal(kite_netconn_delete(l), KITE_ERR_OK);
}

/* Stopping the stack thread fails a call still blocked (no thread waits
 * forever on a stack nobody runs); the netconn itself stays: with the thread
 * gone the test, owning the stack now, removes its pcb. */
static void stop_fails_blocked_calls(void **state)
{
    struct fx *f = *state;
    struct kite_netconn *u = kite_netconn_new(&f->tcpip, KITE_NETCONN_UDP, NULL);
    assert_int_equal(kite_netconn_bind(u, &loopback, 5005), KITE_ERR_OK);
    struct blocked_recv b = {.c = u, .err = KITE_ERR_OK};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, blocked_recv_thread, &b), 0);
    wait_for_waiters(u, 1);
    kite_tcpip_stop(&f->tcpip);
    pthread_join(th, NULL);
    assert_int_equal(b.err, KITE_ERR_CLOSED);
    assert_null(u->waiters);
    kite_udp_remove(u->pcb.udp);
}

static void nonblocking_connect_and_refused(void **state)
{
    struct fx *f = *state;
    struct kite_netconn *c = kite_netconn_new(&f->tcpip, KITE_NETCONN_TCP, NULL);
    kite_netconn_set_nonblocking(c, true);
    /* Nobody listens on 9: the loopback answers with a reset. */
    assert_int_equal(kite_netconn_connect(c, &loopback, 9), KITE_ERR_INPROGRESS);
    for (int i = 0; i < 5000 && !(kite_netconn_events(c) & KITE_NC_ERROR); i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    assert_true(kite_netconn_events(c) & KITE_NC_ERROR);
    assert_int_equal(kite_netconn_take_error(c), KITE_ERR_RESET);
    assert_int_equal(kite_netconn_take_error(c), KITE_ERR_OK);                 /* reported once */
    assert_int_equal(kite_netconn_connect(c, &loopback, 9), KITE_ERR_ABORTED); /* as Linux */
    assert_int_equal(kite_netconn_delete(c), KITE_ERR_OK);
}

/* Linux's __inet_stream_connect: after a non-blocking connect, the first
 * connect call to find the handshake done says OK, later ones ISCONN. */
static void nonblocking_connect_completes(void **state)
{
    struct fx *f = *state;
    struct kite_netconn *l = tcp_listener(f, 5021);
    struct kite_netconn *c = kite_netconn_new(&f->tcpip, KITE_NETCONN_TCP, NULL);
    kite_netconn_set_nonblocking(c, true);
    assert_int_equal(kite_netconn_connect(c, &loopback, 5021), KITE_ERR_INPROGRESS);
    for (int i = 0; i < 5000 && !(kite_netconn_events(c) & KITE_NC_WRITABLE); i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    assert_int_equal(kite_netconn_connect(c, &loopback, 5021), KITE_ERR_OK);
    assert_int_equal(kite_netconn_connect(c, &loopback, 5021), KITE_ERR_ISCONN);
    assert_int_equal(kite_netconn_delete(c), KITE_ERR_OK);
    assert_int_equal(kite_netconn_delete(l), KITE_ERR_OK);
}

/* ---- kite_netconn_read: copies in one stack call ------------------------------------------ */

struct pair {
    struct kite_netconn *listener, *client, *server;
};

static void tcp_pair(struct fx *f, struct pair *p, uint16_t port)
{
    p->listener = tcp_listener(f, port);
    p->client = kite_netconn_new(&f->tcpip, KITE_NETCONN_TCP, NULL);
    assert_non_null(p->client);
    assert_int_equal(kite_netconn_connect(p->client, &loopback, port), KITE_ERR_OK);
    assert_int_equal(kite_netconn_accept(p->listener, &p->server), KITE_ERR_OK);
}

static void pair_delete(struct pair *p)
{
    assert_int_equal(kite_netconn_delete(p->client), KITE_ERR_OK);
    assert_int_equal(kite_netconn_delete(p->server), KITE_ERR_OK);
    assert_int_equal(kite_netconn_delete(p->listener), KITE_ERR_OK);
}

/* Until c holds n unread bytes (at most 10 s). */
static void wait_pending(struct kite_netconn *c, size_t n)
{
    for (int i = 0; i < 10000 && kite_netconn_pending(c, false) < n; i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    assert_int_equal(kite_netconn_pending(c, false), n);
}

static void write_all(struct kite_netconn *c, const uint8_t *data, size_t len)
{
    size_t w = 0;
    assert_int_equal(kite_netconn_write(c, data, len, KITE_NC_COPY, &w), KITE_ERR_OK);
    assert_int_equal(w, len);
}

/* Over the loopback netif each queued chain pins a RAM pbuf (the copy the
 * loopback made), and one more is needed to carry the next segment: with
 * min_ram's 3, two chains can wait unread. */
#define READ_CHAINS (KITE_PBUF_RAM_COUNT >= 4 ? 3u : 2u)

/* In message mode a write lets its caller go before its segments are sent
 * (netconn.c, output_later); they still leave at once, not on a timer: with
 * the clock standing still the peer has them. */
static void a_write_leaves_without_time_passing(void **state)
{
    struct fx *f = *state;
    struct pair p;
    tcp_pair(f, &p, 21);
    struct vclock v = {.m = PTHREAD_MUTEX_INITIALIZER, .now = kite_os_now_ms()};
    kite_tcpip_set_clock(&f->tcpip, vclock_now, &v);
    uint8_t out[100] = {1, 2, 3};
    write_all(p.client, out, sizeof out); /* (one: Nagle would hold a second for the ACK) */
    bool arrived = false;
    for (int i = 0; i < 5000 && !arrived; i++) {
        arrived = kite_netconn_pending(p.server, false) == sizeof out;
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
    kite_tcpip_set_clock(&f->tcpip, NULL, NULL); /* (before any assertion can leave) */
    assert_true(arrived);
    pair_delete(&p);
}

/* Chains queued: a read ends inside the first, a peek spans them all, and
 * the rest comes out whole; the queue is then empty. */
static void read_across_chains(void **state)
{
    struct fx *f = *state;
    struct pair p;
    tcp_pair(f, &p, 20);
    uint8_t out[READ_CHAINS * 100u], in[READ_CHAINS * 100u];
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = (uint8_t)(i * 7u + 1u);
    for (size_t off = 0; off < sizeof out; off += 100) { /* one segment each */
        write_all(p.client, out + off, 100);
        wait_pending(p.server, off + 100);
    }
    size_t got = 0;
    assert_int_equal(kite_netconn_read(p.server, in, 50, 0, &got), KITE_ERR_OK);
    assert_int_equal(got, 50);
    size_t rest = sizeof out - 50;
    assert_int_equal(kite_netconn_read(p.server, in + 50, rest - 10, KITE_NC_PEEK, &got),
                     KITE_ERR_OK);
    assert_int_equal(got, rest - 10); /* from inside the first chain into the last */
    assert_memory_equal(in + 50, out + 50, rest - 10);
    assert_int_equal(kite_netconn_pending(p.server, false), rest); /* a peek takes nothing */
    memset(in + 50, 0, rest);
    assert_int_equal(kite_netconn_read(p.server, in + 50, 1000, 0, &got), KITE_ERR_OK);
    assert_int_equal(got, rest);
    assert_memory_equal(in, out, sizeof out);
    assert_int_equal(kite_netconn_read(p.server, in, 10, KITE_NC_DONTWAIT, &got),
                     KITE_ERR_WOULDBLOCK);
    assert_int_equal(kite_netconn_read(p.server, in, 0, 0, &got), KITE_ERR_OK); /* 0 bytes */
    assert_int_equal(got, 0);
    pair_delete(&p);
}

/* WAITALL gives what came before the peer's FIN, then the end of the stream;
 * and what came before a receive timeout. */
static void read_waitall_ends(void **state)
{
    struct fx *f = *state;
    struct pair p;
    tcp_pair(f, &p, 21);
    uint8_t buf[100] = {0};
    size_t got = 0;
    write_all(p.client, (const uint8_t *)"0123456789", 10);
    wait_pending(p.server, 10);
    kite_netconn_set_timeouts(p.server, 50, 0);
    assert_int_equal(kite_netconn_read(p.server, buf, sizeof buf, KITE_NC_WAITALL, &got),
                     KITE_ERR_OK);
    assert_int_equal(got, 10);
    write_all(p.client, (const uint8_t *)"abc", 3);
    assert_int_equal(kite_netconn_shutdown(p.client, false, true), KITE_ERR_OK);
    assert_int_equal(kite_netconn_read(p.server, buf, sizeof buf, KITE_NC_WAITALL, &got),
                     KITE_ERR_OK);
    assert_int_equal(got, 3);
    assert_memory_equal(buf, "abc", 3);
    assert_int_equal(kite_netconn_read(p.server, buf, sizeof buf, KITE_NC_WAITALL, &got),
                     KITE_ERR_CLOSED);
    assert_int_equal(got, 0);
    pair_delete(&p);
}

struct blocked_read {
    struct kite_netconn *c;
    uint8_t buf[64];
    size_t got;
    enum kite_err err;
};

static void *blocked_read_thread(void *arg)
{
    struct blocked_read *b = arg;
    b->err = kite_netconn_read(b->c, b->buf, sizeof b->buf, 0, &b->got);
    return NULL;
}

struct count_req {
    struct kite_tcpip *t;
    uint32_t calls;
};

static void count_core(void *arg)
{
    struct count_req *c = arg;
    c->calls = c->t->calls;
}

static uint32_t calls_now(struct fx *f)
{
    struct count_req c = {.t = &f->tcpip};
    assert_int_equal(kite_tcpip_call(&f->tcpip, count_core, &c), KITE_ERR_OK);
    return c.calls;
}

/* A blocked read that data wakes is completed by the stack thread: its
 * thread makes no second stack call (docs/api.md "Waking"). */
static void woken_read_takes_no_second_call(void **state)
{
    struct fx *f = *state;
    struct pair p;
    tcp_pair(f, &p, 22);
    struct blocked_read b = {.c = p.server};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, blocked_read_thread, &b), 0);
    wait_for_waiters(p.server, 1);
    uint32_t before = calls_now(f);
    write_all(p.client, (const uint8_t *)"wake up", 7); /* one call */
    pthread_join(th, NULL);
    assert_int_equal(b.err, KITE_ERR_OK);
    assert_int_equal(b.got, 7);
    assert_memory_equal(b.buf, "wake up", 7);
    assert_int_equal(calls_now(f) - before, 2u); /* the write, and this count */
    pair_delete(&p);
}

/* Linux's tcp_reset: a reset in CLOSE_WAIT (the peer's FIN came, ours not
 * sent) is reported as EPIPE (KITE_ERR_CLOSED here), not as a reset. */
static void reset_in_close_wait_is_closed(void **state)
{
    struct fx *f = *state;
    struct pair p;
    tcp_pair(f, &p, 5022);
    assert_int_equal(kite_netconn_delete(p.server), KITE_ERR_OK);
    uint8_t b;
    size_t got = 0, w = 0;
    assert_int_equal(kite_netconn_read(p.client, &b, 1, 0, &got), KITE_ERR_CLOSED); /* FIN */
    assert_int_equal(kite_netconn_write(p.client, "x", 1, KITE_NC_COPY, &w), KITE_ERR_OK);
    for (int i = 0; i < 5000 && !(kite_netconn_events(p.client) & KITE_NC_ERROR); i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    assert_int_equal(kite_netconn_take_error(p.client), KITE_ERR_CLOSED);
    assert_int_equal(kite_netconn_write(p.client, "x", 1, KITE_NC_COPY, &w), KITE_ERR_CLOSED);
    assert_int_equal(kite_netconn_delete(p.client), KITE_ERR_OK);
    assert_int_equal(kite_netconn_delete(p.listener), KITE_ERR_OK);
}

/* RFC 2525 2.17, as Linux: a delete with received data unread resets. */
static void delete_with_unread_data_resets(void **state)
{
    struct fx *f = *state;
    struct pair p;
    tcp_pair(f, &p, 5023);
    write_all(p.client, (const uint8_t *)"unread", 6);
    wait_pending(p.server, 6);
    assert_int_equal(kite_netconn_delete(p.server), KITE_ERR_OK);
    uint8_t b;
    size_t got = 0;
    assert_int_equal(kite_netconn_read(p.client, &b, 1, 0, &got), KITE_ERR_RESET);
    assert_int_equal(kite_netconn_delete(p.client), KITE_ERR_OK);
    assert_int_equal(kite_netconn_delete(p.listener), KITE_ERR_OK);
}

/* ---- Readiness reports (KITE_NETCONN_EVENTS) ----------------------------------------- */

#if KITE_NETCONN_EVENTS
/* What the watcher saw, per netconn: the last report and how many came.
 * Reports run with the stack to themselves; the test reads them under the
 * same stack (kite_tcpip_call), so no lock is needed. */
struct seen {
    struct kite_netconn *conn[4];
    uint8_t last[4];
    unsigned reports[4];
};

static void on_events(void *ctx, struct kite_netconn *c, uint8_t events)
{
    struct seen *s = ctx;
    for (unsigned i = 0; i < 4; i++) {
        if (s->conn[i] == c) {
            s->last[i] = events;
            s->reports[i]++;
        }
    }
}

struct seen_read {
    struct seen *s, copy;
};

static void copy_seen(void *arg)
{
    struct seen_read *r = arg;
    r->copy = *r->s;
}

static struct seen snapshot(struct fx *f, struct seen *s)
{
    struct seen_read r = {.s = s};
    assert_int_equal(kite_tcpip_call(&f->tcpip, copy_seen, &r), KITE_ERR_OK);
    return r.copy;
}

/* Wait (real time, bounded) until netconn i's last report has all of bits. */
static struct seen wait_report(struct fx *f, struct seen *s, unsigned i, uint8_t bits)
{
    struct seen now = snapshot(f, s);
    for (int n = 0; n < 2000 && (now.last[i] & bits) != bits; n++) {
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
        now = snapshot(f, s);
    }
    assert_int_equal(now.last[i] & bits, bits);
    return now;
}

/* Watching reports the events at once; data arriving makes the receiver
 * readable, taking it makes it unreadable again before read returns; the
 * peer's FIN reports RDHUP; a deleted netconn is reported no more. */
static void watch_reports_changes(void **state)
{
    struct fx *f = *state;
    struct seen s = {0};
    kite_tcpip_set_event_fn(&f->tcpip, on_events, &s);
    struct pair p;
    tcp_pair(f, &p, 5031);
    s.conn[0] = p.server;
    s.conn[1] = p.listener;
    assert_int_equal(kite_netconn_watch(p.server, true), KITE_ERR_OK);
    assert_int_equal(kite_netconn_watch(p.listener, true), KITE_ERR_OK);
    struct seen now = snapshot(f, &s);
    assert_int_equal(now.reports[0], 1); /* reported before watch returned */
    assert_int_equal(now.last[0], KITE_NC_WRITABLE);
    assert_int_equal(now.reports[1], 1);
    assert_int_equal(now.last[1], 0); /* a listener with nothing to accept */

    write_all(p.client, (const uint8_t *)"ping", 4);
    now = wait_report(f, &s, 0, KITE_NC_READABLE | KITE_NC_WRITABLE | KITE_NC_ARRIVED);
    /* More data while still readable: the set is the same, yet the arrival
     * is reported (an epoll edge per arrival). */
    unsigned reports = now.reports[0];
    write_all(p.client, (const uint8_t *)"pong", 4);
    wait_pending(p.server, 8);
    now = snapshot(f, &s);
    assert_int_equal(now.reports[0], reports + 1);
    assert_int_equal(now.last[0], KITE_NC_READABLE | KITE_NC_WRITABLE | KITE_NC_ARRIVED);
    uint8_t buf[8];
    size_t got = 0;
    assert_int_equal(kite_netconn_read(p.server, buf, sizeof buf, 0, &got), KITE_ERR_OK);
    assert_int_equal(got, 8);
    now = snapshot(f, &s); /* already told, before read returned */
    assert_int_equal(now.last[0], KITE_NC_WRITABLE);
    unsigned before = now.reports[0];
    assert_int_equal(kite_netconn_pending(p.server, false), 0);
    assert_int_equal(snapshot(f, &s).reports[0], before); /* no change, no report */

    assert_int_equal(kite_netconn_shutdown(p.client, false, true), KITE_ERR_OK);
    now = wait_report(f, &s, 0, KITE_NC_READABLE | KITE_NC_RDHUP);
    assert_int_equal(now.last[0] & KITE_NC_HUP, 0); /* only one direction is shut */

    assert_int_equal(kite_netconn_watch(p.listener, false), KITE_ERR_OK);
    struct kite_netconn *c2 = kite_netconn_new(&f->tcpip, KITE_NETCONN_TCP, NULL);
    assert_non_null(c2);
    assert_int_equal(kite_netconn_connect(c2, &loopback, 5031), KITE_ERR_OK);
    wait_pending(p.listener, 0);                     /* (a stack call: the SYN was handled) */
    assert_int_equal(snapshot(f, &s).reports[1], 1); /* unwatched: nothing new */
    struct kite_netconn *a2 = NULL;
    assert_int_equal(kite_netconn_accept(p.listener, &a2), KITE_ERR_OK);

    before = snapshot(f, &s).reports[0];
    assert_int_equal(kite_netconn_delete(p.server), KITE_ERR_OK);
    assert_int_equal(kite_netconn_delete(p.client), KITE_ERR_OK); /* would change it */
    assert_int_equal(kite_netconn_delete(p.listener), KITE_ERR_OK);
    assert_int_equal(kite_netconn_delete(a2), KITE_ERR_OK);
    assert_int_equal(kite_netconn_delete(c2), KITE_ERR_OK);
    assert_int_equal(snapshot(f, &s).reports[0], before); /* deleted: watched no more */
}

/* Without an event function, watching is refused. */
static void watch_needs_event_fn(void **state)
{
    struct fx *f = *state;
    struct kite_netconn *c = kite_netconn_new(&f->tcpip, KITE_NETCONN_UDP, NULL);
    assert_non_null(c);
    assert_int_equal(kite_netconn_watch(c, true), KITE_ERR_ARG);
    assert_int_equal(kite_netconn_delete(c), KITE_ERR_OK);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(tcp_echo_between_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(udp_datagrams_with_sender, setup, teardown),
        cmocka_unit_test_setup_teardown(frame_burst_delivered, setup, teardown),
        cmocka_unit_test_setup_teardown(udp_shutdown_when_connected, setup, teardown),
        cmocka_unit_test_setup_teardown(udp_disconnect_keeps_port, setup, teardown),
        cmocka_unit_test_setup_teardown(udp_connected_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(recv_timeout_real_time, setup, teardown),
        cmocka_unit_test_setup_teardown(recv_timeout_virtual_time, setup, teardown),
        cmocka_unit_test_setup_teardown(delete_wakes_blocked_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(shutdown_stops_listener, setup, teardown),
        cmocka_unit_test_setup_teardown(nonblocking_connect_and_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(stop_fails_blocked_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(nonblocking_connect_completes, setup, teardown),
        cmocka_unit_test_setup_teardown(a_write_leaves_without_time_passing, setup, teardown),
        cmocka_unit_test_setup_teardown(read_across_chains, setup, teardown),
        cmocka_unit_test_setup_teardown(read_waitall_ends, setup, teardown),
        cmocka_unit_test_setup_teardown(woken_read_takes_no_second_call, setup, teardown),
        cmocka_unit_test_setup_teardown(reset_in_close_wait_is_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(delete_with_unread_data_resets, setup, teardown),
#if KITE_NETCONN_EVENTS
        cmocka_unit_test_setup_teardown(watch_reports_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(watch_needs_event_fn, setup, teardown),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
