/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP applications for the simulation tests, written against the raw API:
 * each end streams a deterministic byte pattern, checks every byte it
 * receives against the peer's pattern, and closes when both directions are
 * done. Used by tests/sim/test_sim_tcp*.c.
 */
#ifndef KITE_TEST_TCP_APPS_H
#define KITE_TEST_TCP_APPS_H

#include "test_sim_world.h"

#include "kite/tcp.h"

struct tcp_app {
    struct kite_tcp_pcb *pcb;
    uint8_t tx_seed, rx_seed;
    uint64_t to_send, queued, acked;
    uint64_t expect_rx, received, bad_bytes;
    bool connected, fin_received, shut_tx, closed, failed, hold_window;
    enum kite_err err;
    uint32_t unread; /* bytes not yet acknowledged with recved (hold_window) */
    uint64_t hash;   /* FNV-1a of everything received */
};

static inline uint8_t tcp_pattern(uint8_t seed, uint64_t i)
{
    uint32_t x = (uint32_t)(i * 2654435761u) ^ (uint32_t)(i >> 32);
    return (uint8_t)((x >> 13) ^ seed ^ (uint8_t)i);
}

static inline void tcp_app_maybe_close(struct tcp_app *a)
{
    if (a->closed || a->pcb == NULL)
        return;
    if (a->queued == a->to_send && !a->shut_tx) {
        a->shut_tx = true;
        (void)kite_tcp_shutdown(a->pcb, false, true);
    }
    if (a->shut_tx && a->fin_received && a->acked == a->to_send) {
        a->closed = true;
        (void)kite_tcp_close(a->pcb);
        a->pcb = NULL;
    }
}

static inline void tcp_app_fill(struct tcp_app *a)
{
    uint8_t buf[1400];
    while (a->pcb != NULL && a->queued < a->to_send) {
        uint64_t left = a->to_send - a->queued;
        uint32_t room = kite_tcp_sndbuf(a->pcb);
        uint16_t n = (uint16_t)(left < sizeof buf ? left : sizeof buf);
        if (n > room)
            n = (uint16_t)room;
        if (n == 0)
            break;
        for (uint16_t i = 0; i < n; i++)
            buf[i] = tcp_pattern(a->tx_seed, a->queued + i);
        if (kite_tcp_write(a->pcb, buf, n, KITE_TCP_WRITE_COPY) != KITE_ERR_OK)
            break;
        a->queued += n;
    }
    if (a->pcb != NULL)
        (void)kite_tcp_output(a->pcb);
    tcp_app_maybe_close(a);
}

static inline void tcp_app_recv(void *arg, struct kite_tcp_pcb *pcb, struct kite_pbuf *p)
{
    struct tcp_app *a = arg;
    if (p == NULL) {
        a->fin_received = true;
        tcp_app_maybe_close(a);
        return;
    }
    for (const struct kite_pbuf *q = p; q != NULL; q = q->next) {
        for (uint16_t i = 0; i < q->len; i++) {
            uint8_t b = q->payload[i];
            if (b != tcp_pattern(a->rx_seed, a->received))
                a->bad_bytes++;
            a->hash = (a->hash ^ b) * 1099511628211ull;
            a->received++;
        }
    }
    uint16_t len = p->tot_len;
    kite_pbuf_free(pcb->stack, p);
    if (a->hold_window)
        a->unread += len;
    else
        kite_tcp_recved(pcb, len);
}

static inline void tcp_app_sent(void *arg, struct kite_tcp_pcb *pcb, uint32_t len)
{
    (void)pcb;
    struct tcp_app *a = arg;
    a->acked += len;
    tcp_app_fill(a);
}

static inline void tcp_app_err(void *arg, enum kite_err err)
{
    struct tcp_app *a = arg;
    a->failed = true;
    a->err = err;
    a->pcb = NULL;
}

static inline void tcp_app_connected(void *arg, struct kite_tcp_pcb *pcb)
{
    (void)pcb;
    struct tcp_app *a = arg;
    a->connected = true;
    tcp_app_fill(a);
}

static const struct kite_tcp_ops tcp_app_ops = {
    .connected = tcp_app_connected, .recv = tcp_app_recv, .sent = tcp_app_sent, .err = tcp_app_err};

static inline void tcp_app_attach(struct tcp_app *a, struct kite_tcp_pcb *pcb)
{
    a->pcb = pcb;
    kite_tcp_arg(pcb, a);
    kite_tcp_set_ops(pcb, &tcp_app_ops);
}

/* A listener on h:port whose table and argument its connections start with. */
static inline struct kite_tcp_listener *tcp_listen_on(struct w_host *h, uint16_t port,
                                                      uint8_t backlog,
                                                      const struct kite_tcp_ops *ops, void *arg)
{
    struct kite_tcp_pcb *pcb = kite_tcp_new(&h->stack);
    assert_non_null(pcb);
    assert_int_equal(kite_tcp_bind(pcb, NULL, port), KITE_ERR_OK);
    kite_tcp_arg(pcb, arg);
    kite_tcp_set_ops(pcb, ops);
    enum kite_err err;
    struct kite_tcp_listener *l = kite_tcp_listen(pcb, backlog, &err);
    assert_int_equal(err, KITE_ERR_OK);
    assert_non_null(l);
    return l;
}

/* The server side: one listener, accepting into a single tcp_app. */
struct tcp_server {
    struct kite_tcp_listener *listener;
    struct tcp_app *app; /* next accepted connection goes here */
    unsigned accepted;
};

static inline enum kite_err tcp_server_accept(void *arg, struct kite_tcp_pcb *pcb)
{
    struct tcp_server *s = arg;
    s->accepted++;
    if (s->app == NULL)
        return KITE_ERR_MEM;
    tcp_app_attach(s->app, pcb);
    s->app->connected = true;
    tcp_app_fill(s->app);
    return KITE_ERR_OK;
}

static inline void tcp_server_start(struct tcp_server *s, struct w_host *h, uint16_t port,
                                    uint8_t backlog)
{
    static const struct kite_tcp_ops ops = {.accept = tcp_server_accept};
    s->listener = tcp_listen_on(h, port, backlog, &ops, s);
}

static inline void tcp_app_init(struct tcp_app *a, uint64_t to_send, uint8_t tx_seed,
                                uint8_t rx_seed)
{
    memset(a, 0, sizeof *a);
    a->to_send = to_send;
    a->tx_seed = tx_seed;
    a->rx_seed = rx_seed;
    a->hash = 1469598103934665603ull;
}

static inline void tcp_app_connect(struct tcp_app *a, struct w_host *h, uint32_t dst, uint16_t port)
{
    struct kite_tcp_pcb *pcb = kite_tcp_new(&h->stack);
    assert_non_null(pcb);
    tcp_app_attach(a, pcb);
    struct kite_addr addr = KITE_ADDR_V4(dst);
    assert_int_equal(kite_tcp_connect(pcb, &addr, port), KITE_ERR_OK);
}

struct tcp_pair_done {
    struct tcp_app *a, *b;
};

static inline bool tcp_pair_finished(void *ctx)
{
    struct tcp_pair_done *d = ctx;
    bool a_done = d->a->closed || d->a->failed;
    bool b_done = d->b->closed || d->b->failed;
    return a_done && b_done;
}

#endif
