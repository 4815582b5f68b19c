/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP connection object the services share (host.h explains the ring).
 * It turns the raw API's callbacks into one rule, conn_kick(): produce what
 * the ring has room for, queue it by reference, send, and once everything is
 * produced send FIN; free the connection when every byte was acknowledged.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

/* Poll callback period: retries after would-block, idle timeouts. */
#define CONN_POLL_MS 500u

/* O(1): kite-host-scale holds 10 000 connections. */
static void conn_unlink(struct conn *c)
{
    *c->pprev = c->next;
    if (c->next != NULL) {
        c->next->pprev = c->pprev;
    }
}

static void conn_free(struct conn *c)
{
    if (c->ops->on_free != NULL) {
        c->ops->on_free(c);
    }
    conn_unlink(c);
    free(c->ring);
    free(c->req);
    free(c);
}

uint32_t conn_space(const struct conn *c, uint8_t **dst)
{
    uint32_t used = (uint32_t)(c->produced - c->acked);
    uint32_t at = (uint32_t)(c->produced % c->ring_size);
    uint32_t n = c->ring_size - used;

    if (n > c->ring_size - at) {
        n = c->ring_size - at; /* contiguous up to the end of the ring */
    }
    *dst = c->ring + at;
    return n;
}

void conn_produce(struct conn *c, uint32_t n)
{
    c->produced += n;
}

void conn_put(struct conn *c, const void *data, uint32_t n)
{
    const uint8_t *src = data;

    while (n > 0) {
        uint8_t *dst;
        uint32_t room = conn_space(c, &dst);
        if (room > n) {
            room = n;
        }
        memcpy(dst, src, room);
        conn_produce(c, room);
        src += room;
        n -= room;
    }
}

/* Hand ring bytes to the stack by reference, contiguous pieces of at most
 * 64 KiB - 1 (kite_tcp_write's length is 16 bits). */
static void conn_queue(struct conn *c)
{
    while (c->queued < c->produced) {
        uint32_t at = (uint32_t)(c->queued % c->ring_size);
        uint64_t avail = c->produced - c->queued;
        uint32_t room = kite_tcp_sndbuf(c->pcb);
        uint32_t n = c->ring_size - at;

        if (n > avail) {
            n = (uint32_t)avail;
        }
        if (n > UINT16_MAX) {
            n = UINT16_MAX;
        }
        if (n > room) {
            n = room;
        }
        /* Many small references would exhaust the REF pool: while data is in
         * flight, wait until the acknowledgements free a useful chunk. */
        if (n == 0 || (n < c->min_chunk && room < c->min_chunk && c->queued > c->acked)) {
            return;
        }
        if (kite_tcp_write(c->pcb, c->ring + at, (uint16_t)n, 0) != KITE_ERR_OK) {
            return; /* would block: sent or poll callback retries */
        }
        c->queued += n;
    }
}

bool conn_kick(struct conn *c)
{
    if (kite_tcp_get_state(c->pcb) == KITE_TCP_SYN_SENT) {
        return true; /* the connected callback kicks again */
    }
    if (!c->tx_done && !c->broken && c->ops->refill != NULL) {
        c->ops->refill(c);
    }
    if (c->broken) {
        conn_abort(c);
        return false;
    }
    conn_queue(c);
    (void)kite_tcp_output(c->pcb);
    if (c->tx_done && !c->fin_sent && c->queued == c->produced) {
        c->fin_sent = true;
        (void)kite_tcp_shutdown(c->pcb, false, true);
    }
    /* Nothing of the ring is referenced any more: the stack may keep the pcb
     * for the closing handshake, the connection object is done. */
    if (c->fin_sent && c->acked == c->queued) {
        c->host->n.tcp_closed++;
        (void)kite_tcp_close(c->pcb);
        conn_free(c);
        return false;
    }
    return true;
}

void conn_abort(struct conn *c)
{
    kite_tcp_abort(c->pcb);
    conn_free(c);
}

void conn_forget(struct conn *c)
{
    kite_tcp_arg(c->pcb, NULL);
    kite_tcp_set_ops(c->pcb, NULL);
    conn_free(c);
}

void conn_abort_all(struct host *host)
{
    while (host->conns != NULL) {
        const struct conn *c = host->conns;
        printf("kite-host: aborting %s connection in %s: produced %" PRIu64 " queued %" PRIu64
               " acked %" PRIu64 " received %" PRIu64 "%s%s\n",
               c->ops->name, kite_tcp_state_name(kite_tcp_get_state(c->pcb)), c->produced,
               c->queued, c->acked, c->rx_bytes, c->peer_fin ? ", peer closed" : "",
               c->fin_sent ? ", FIN queued" : "");
        conn_abort(host->conns);
    }
}

static void on_err(void *arg, enum kite_err err)
{
    struct conn *c = arg;

    if (err == KITE_ERR_CLOSED) {
        c->host->n.tcp_closed++;
    } else {
        c->host->n.tcp_reset++;
        printf("kite-host: %s connection failed: %s\n", c->ops->name, kite_err_str(err));
    }
    conn_free(c); /* the stack freed the pcb and its queue: the ring is ours */
}

static void on_recv(void *arg, struct kite_tcp_pcb *pcb, struct kite_pbuf *p)
{
    struct conn *c = arg;
    uint16_t len;

    if (p == NULL) {
        c->peer_fin = true;
        if (c->ops->on_fin != NULL) {
            c->ops->on_fin(c);
        }
        (void)conn_kick(c);
        return;
    }
    len = p->tot_len;
    c->rx_bytes += len;
    c->host->n.tcp_rx_bytes += len;
    c->last_progress = c->host->stack->now;
    if (c->ops->on_data != NULL) {
        c->ops->on_data(c, p);
    }
    kite_pbuf_free(c->host->stack, p);
    if (!c->hold_rx) {
        kite_tcp_recved(pcb, len);
    }
    (void)conn_kick(c);
}

static void on_sent(void *arg, struct kite_tcp_pcb *pcb, uint32_t len)
{
    struct conn *c = arg;

    c->acked += len;
    c->host->n.tcp_tx_bytes += len;
    c->last_progress = c->host->stack->now;
    if (c->hold_rx) {
        kite_tcp_recved(pcb, len); /* echoed bytes left the ring: take more */
    }
    (void)conn_kick(c);
}

static void on_poll(void *arg, struct kite_tcp_pcb *pcb)
{
    struct conn *c = arg;

    (void)pcb;
    if (c->host->stack->now >= c->deadline) {
        c->deadline = KITE_TIME_NEVER;
        if (c->ops->on_timeout == NULL) {
            c->host->n.tcp_timeouts++;
            conn_abort(c);
            return;
        }
        c->ops->on_timeout(c);
    } else if (c->host->stack->now - c->last_progress > c->idle_limit_ms) {
        c->host->n.tcp_timeouts++;
        printf("kite-host: %s connection idle for %u ms, aborted\n", c->ops->name,
               (unsigned)c->idle_limit_ms);
        conn_abort(c);
        return;
    }
    (void)conn_kick(c);
}

static void on_connected(void *arg, struct kite_tcp_pcb *pcb)
{
    struct conn *c = arg;

    (void)pcb;
    if (c->ops->on_connected != NULL)
        c->ops->on_connected(c);
}

/* Every connection of kite-host, whatever its service. */
static const struct kite_tcp_ops conn_tcp_ops = {.connected = on_connected,
                                                 .recv = on_recv,
                                                 .sent = on_sent,
                                                 .err = on_err,
                                                 .poll = on_poll,
                                                 .poll_interval_ms = CONN_POLL_MS};

struct conn *conn_new(struct host *host, struct kite_tcp_pcb *pcb, const struct conn_ops *ops,
                      uint32_t idle_limit_ms)
{
    struct conn *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        return NULL;
    }
    c->ring_size = host->opt->tcp_buf;
    c->ring = malloc(c->ring_size);
    if (c->ring == NULL) {
        free(c);
        return NULL;
    }
    c->host = host;
    c->pcb = pcb;
    c->ops = ops;
    c->fd = -1;
    c->min_chunk = c->ring_size / 8u;
    c->idle_limit_ms = idle_limit_ms;
    c->started = c->last_progress = host->stack->now;
    c->deadline = KITE_TIME_NEVER;
    c->next = host->conns;
    c->pprev = &host->conns;
    if (host->conns != NULL) {
        host->conns->pprev = &c->next;
    }
    host->conns = c;
    kite_tcp_arg(pcb, c);
    kite_tcp_set_ops(pcb, &conn_tcp_ops);
    return c;
}
