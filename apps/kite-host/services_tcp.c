/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP services on the raw API: echo (RFC 862, port 7), discard (RFC 863,
 * port 9), chargen (RFC 864, port 19), an iperf2-compatible sink (5001),
 * the HTTP server's listener (port 80, http.c) and the --tcp-send client
 * that streams the /bytes pattern to a Linux sink.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "host.h"

#define SERVICE_IDLE_MS 30000u
/* Half-open connections a listener keeps before it answers with SYN cookies
 * (kite-host-scale, built for 10 000 connections, takes 255: the most). */
#ifndef HOST_LISTEN_BACKLOG
#define HOST_LISTEN_BACKLOG 4u
#endif

/* ---- echo ------------------------------------------------------------------ */

/* RFC 862: send back whatever arrives. The bytes wait in the ring until the
 * peer acknowledged the echo; only then is the receive window reopened, so
 * the ring (as big as the receive buffer) can never overflow. */
static void echo_data(struct conn *c, const struct kite_pbuf *p)
{
    uint32_t used = (uint32_t)(c->produced - c->acked);

    if (p->tot_len > c->ring_size - used) {
        c->broken = true; /* the peer overran the window we offered */
        return;
    }
    for (const struct kite_pbuf *q = p; q != NULL; q = q->next) {
        conn_put(c, q->payload, q->len);
    }
}

/* Half-close: echo what is left, then FIN. */
static void finish_tx(struct conn *c)
{
    c->tx_done = true;
}

static const struct conn_ops echo_ops = {.name = "echo", .on_data = echo_data, .on_fin = finish_tx};

/* ---- discard and the iperf2 sink --------------------------------------------- */

static const struct conn_ops discard_ops = {.name = "discard", .on_fin = finish_tx};

/* iperf2's client sends its test settings, then data, then closes; with a
 * plain `iperf -c` it expects nothing back, so the sink is discard with a
 * summary line. */
static void iperf_done(struct conn *c)
{
    kite_time_ms ms = c->host->stack->now - c->started;
    double mbit = ms > 0 ? (double)c->rx_bytes * 8.0 / ((double)ms * 1000.0) : 0.0;

    printf("kite-host: iperf %" PRIu64 " bytes in %" PRIu64 " ms, %.1f Mbit/s\n", c->rx_bytes,
           (uint64_t)ms, mbit);
}

static const struct conn_ops iperf_ops = {
    .name = "iperf", .on_fin = finish_tx, .on_free = iperf_done};

/* ---- chargen ------------------------------------------------------------------- */

/* RFC 864: generate until the peer closes (its FIN or its RST). */
static void chargen_fin(struct conn *c)
{
    c->gen_total = c->produced;
    c->tx_done = true;
}

static const struct conn_ops chargen_ops = {
    .name = "chargen", .on_fin = chargen_fin, .refill = pattern_refill};

/* ---- listeners ------------------------------------------------------------------ */

static struct conn *accept_conn(void *arg, struct kite_tcp_pcb *pcb, const struct conn_ops *ops)
{
    struct host *host = arg;
    struct conn *c = conn_new(host, pcb, ops, SERVICE_IDLE_MS);

    if (c == NULL) {
        host->n.tcp_refused++;
        return NULL;
    }
    host->n.tcp_accepted++;
    return c;
}

static enum kite_err echo_accept(void *arg, struct kite_tcp_pcb *pcb)
{
    struct conn *c = accept_conn(arg, pcb, &echo_ops);

    if (c == NULL) {
        return KITE_ERR_MEM;
    }
    c->hold_rx = true;
    c->min_chunk = 1; /* echo at once, whatever the size */
    kite_tcp_set_nodelay(pcb, true);
    return KITE_ERR_OK;
}

static enum kite_err discard_accept(void *arg, struct kite_tcp_pcb *pcb)
{
    return accept_conn(arg, pcb, &discard_ops) != NULL ? KITE_ERR_OK : KITE_ERR_MEM;
}

static enum kite_err iperf_accept(void *arg, struct kite_tcp_pcb *pcb)
{
    return accept_conn(arg, pcb, &iperf_ops) != NULL ? KITE_ERR_OK : KITE_ERR_MEM;
}

static enum kite_err chargen_accept(void *arg, struct kite_tcp_pcb *pcb)
{
    struct conn *c = accept_conn(arg, pcb, &chargen_ops);

    if (c == NULL) {
        return KITE_ERR_MEM;
    }
    c->gen_kind = GEN_CHARGEN;
    c->gen_total = UINT64_MAX;
    (void)conn_kick(c);
    return KITE_ERR_OK;
}

static struct kite_tcp_listener *listen_on(struct host *host, uint16_t port,
                                           const struct kite_tcp_ops *ops)
{
    struct kite_tcp_listener *l = NULL;
    struct kite_tcp_pcb *pcb = kite_tcp_new(host->stack);
    enum kite_err err;

    if (pcb == NULL) {
        fprintf(stderr, "kite-host: no TCP pcb for port %u\n", port);
        return NULL;
    }
    /* Accepted connections inherit the listener's buffer sizes. */
    err = kite_tcp_set_buffers(pcb, host->opt->tcp_buf, host->opt->tcp_buf);
    if (err == KITE_ERR_OK) {
        err = kite_tcp_bind(pcb, NULL, port);
    }
    if (err == KITE_ERR_OK) {
        kite_tcp_arg(pcb, host);
        kite_tcp_set_ops(pcb, ops);
        l = kite_tcp_listen(pcb, HOST_LISTEN_BACKLOG, &err);
    }
    if (l == NULL) {
        fprintf(stderr, "kite-host: TCP listen %u: %s\n", port, kite_err_str(err));
        (void)kite_tcp_close(pcb);
        return NULL;
    }
    return l;
}

bool tcp_services_start(struct host *host)
{
    /* One callback table per service: only accept differs (a listener's
     * connections get their own table in conn_new). */
    static const struct kite_tcp_ops ops[L__COUNT] = {
        [L_ECHO] = {.accept = echo_accept},       [L_DISCARD] = {.accept = discard_accept},
        [L_CHARGEN] = {.accept = chargen_accept}, [L_HTTP] = {.accept = http_accept},
        [L_IPERF] = {.accept = iperf_accept},
    };
    static const uint16_t ports[L__COUNT] = {
        [L_ECHO] = HOST_ECHO_PORT, [L_DISCARD] = HOST_DISCARD_PORT, [L_CHARGEN] = HOST_CHARGEN_PORT,
        [L_HTTP] = HOST_HTTP_PORT, [L_IPERF] = HOST_IPERF_PORT,
    };

    for (unsigned i = 0; i < L__COUNT; i++) {
        if (!(host->opt->tcp_services & (1u << i)))
            continue; /* not asked for (--tcp-services) */
        host->listeners[i] = listen_on(host, ports[i], &ops[i]);
        if (host->listeners[i] == NULL) {
            return false;
        }
    }
    return true;
}

void tcp_services_stop(struct host *host)
{
    conn_abort_all(host);
    for (unsigned i = 0; i < L__COUNT; i++) {
        if (host->listeners[i] != NULL) {
            kite_tcp_listener_close(host->listeners[i]);
            host->listeners[i] = NULL;
        }
    }
}

/* ---- --tcp-send ------------------------------------------------------------------ */

static void send_done(struct conn *c)
{
    kite_time_ms ms = c->host->stack->now - c->started;
    double mbit = ms > 0 ? (double)c->acked * 8.0 / ((double)ms * 1000.0) : 0.0;
    bool ok = c->fin_sent && c->acked == c->gen_total;

    c->host->tcp_send_status = ok ? 0 : 1;
    printf("kite-host: tcp-send %s: %" PRIu64 " of %" PRIu64 " bytes acknowledged in %" PRIu64
           " ms, %.1f Mbit/s\n",
           ok ? "done" : "failed", c->acked, c->gen_total, (uint64_t)ms, mbit);
}

static void send_connected(struct conn *c)
{
    c->started = c->last_progress = c->host->stack->now;
    (void)conn_kick(c);
}

static const struct conn_ops send_ops = {.name = "tcp-send",
                                         .refill = pattern_refill,
                                         .on_free = send_done,
                                         .on_connected = send_connected};

bool tcp_send_start(struct host *host)
{
    const struct options *opt = host->opt;
    struct kite_addr dst = KITE_ADDR_V4(opt->send_addr);
    struct kite_tcp_pcb *pcb = kite_tcp_new(host->stack);
    struct conn *c;
    enum kite_err err;

    if (pcb == NULL || kite_tcp_set_buffers(pcb, opt->tcp_buf, opt->tcp_buf) != KITE_ERR_OK) {
        fprintf(stderr, "kite-host: tcp-send: no pcb\n");
        return false;
    }
    c = conn_new(host, pcb, &send_ops, SERVICE_IDLE_MS);
    if (c == NULL) {
        (void)kite_tcp_close(pcb);
        return false;
    }
    c->gen_kind = GEN_BYTES;
    c->gen_total = opt->send_bytes;
    host->tcp_send_status = -1;
    err = kite_tcp_connect(pcb, &dst, opt->send_port);
    if (err != KITE_ERR_OK) {
        fprintf(stderr, "kite-host: tcp-send: connect: %s\n", kite_err_str(err));
        conn_abort(c);
        return false;
    }
    return true;
}
