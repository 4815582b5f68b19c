/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --impair loss=P,delay=MS: a netem stand-in between the TAP device and the
 * stack, for kernels without sch_netem. Every frame, in both directions, is
 * dropped with probability P percent, and the others are held for MS
 * milliseconds (first in, first out, so no reordering). The stack cannot
 * tell: it sees a lossy, slow wire, and so does Linux on the other side.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host.h"

#define IMPAIR_FRAME_MAX 1518u
#define IMPAIR_QUEUE_MAX 4096u /* frames held per direction; beyond, dropped */
#define IMPAIR_RX_BURST 256u

struct frame {
    struct frame *next;
    kite_time_ms due;
    uint16_t len;
    uint8_t data[];
};

struct impair_queue {
    struct frame *head, *tail;
    unsigned count;
};

struct impair {
    uint32_t loss_ppm; /* per million */
    uint32_t delay_ms;
    uint64_t rng;
    kite_netif_output_fn output; /* the TAP driver's */
    struct impair_queue rx, tx;
};

/* xorshift64*: plenty for a loss coin. */
static uint32_t coin(struct impair *im)
{
    im->rng ^= im->rng >> 12;
    im->rng ^= im->rng << 25;
    im->rng ^= im->rng >> 27;
    return (uint32_t)((im->rng * UINT64_C(2685821657736338717)) >> 32) % 1000000u;
}

static bool hold(struct host *host, struct impair_queue *q, const struct kite_pbuf *p)
{
    struct frame *f;

    if (q->count >= IMPAIR_QUEUE_MAX || p->tot_len > IMPAIR_FRAME_MAX) {
        return false;
    }
    f = malloc(sizeof(*f) + p->tot_len);
    if (f == NULL) {
        return false;
    }
    f->next = NULL;
    f->due = host->stack->now + host->impair->delay_ms;
    f->len = kite_pbuf_copy_out(p, f->data, p->tot_len, 0);
    if (q->tail != NULL) {
        q->tail->next = f;
    } else {
        q->head = f;
    }
    q->tail = f;
    q->count++;
    return true;
}

/* Decide a frame's fate: true when it goes on now, false when dropped or held. */
static bool pass(struct host *host, struct impair_queue *q, const struct kite_pbuf *p)
{
    struct impair *im = host->impair;

    if (im->loss_ppm > 0 && coin(im) < im->loss_ppm) {
        host->n.impair_dropped++;
        return false;
    }
    if (im->delay_ms == 0 && q->head == NULL) {
        return true;
    }
    if (!hold(host, q, p)) {
        host->n.impair_dropped++;
    }
    return false;
}

static enum kite_err impair_output(struct kite_netif *netif, struct kite_pbuf *p)
{
    struct host *host = (struct host *)(void *)((char *)netif - offsetof(struct host, tap.netif));

    if (!pass(host, &host->impair->tx, p)) {
        return KITE_ERR_OK; /* lost or delayed on the "wire" */
    }
    return host->impair->output(netif, p);
}

static void deliver(struct host *host, const uint8_t *data, uint16_t len)
{
    struct kite_pbuf *p = kite_pbuf_alloc_rx(host->stack, len);

    if (p == NULL) {
        host->tap.rx_no_mem++;
        return;
    }
    (void)kite_pbuf_copy_in(p, data, len, 0);
    kite_netif_input(&host->tap.netif, p);
}

/* Read every waiting frame (like kite_tap_receive) through the impairment. */
void impair_receive(struct host *host)
{
    uint8_t buf[2048];

    for (unsigned i = 0; i < IMPAIR_RX_BURST; i++) {
        ssize_t n = read(host->tap.fd, buf, sizeof(buf));
        struct kite_pbuf ref;

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0 || (size_t)n > IMPAIR_FRAME_MAX) {
            return;
        }
        /* A stack-less pbuf view of buf, only for pass()/hold(). */
        memset(&ref, 0, sizeof(ref));
        ref.payload = buf;
        ref.len = ref.tot_len = (uint16_t)n;
        if (pass(host, &host->impair->rx, &ref)) {
            deliver(host, buf, (uint16_t)n);
        }
    }
}

/* Release frames whose delay is over. */
void impair_flush(struct host *host)
{
    struct impair *im = host->impair;
    struct impair_queue *queues[2] = {&im->tx, &im->rx};

    for (unsigned i = 0; i < 2; i++) {
        struct impair_queue *q = queues[i];
        while (q->head != NULL && q->head->due <= host->stack->now) {
            struct frame *f = q->head;
            q->head = f->next;
            if (q->head == NULL) {
                q->tail = NULL;
            }
            q->count--;
            if (q == &im->rx) {
                deliver(host, f->data, f->len);
            } else if (write(host->tap.fd, f->data, f->len) != (ssize_t)f->len) {
                host->tap.tx_errors++;
            }
            free(f);
        }
    }
}

kite_time_ms impair_next_due(const struct host *host)
{
    const struct impair *im = host->impair;
    kite_time_ms due = KITE_TIME_NEVER;

    if (im->tx.head != NULL) {
        due = im->tx.head->due;
    }
    if (im->rx.head != NULL && im->rx.head->due < due) {
        due = im->rx.head->due;
    }
    return due;
}

bool impair_start(struct host *host)
{
    const struct options *opt = host->opt;
    struct impair *im = calloc(1, sizeof(*im));

    if (im == NULL) {
        return false;
    }
    im->loss_ppm = opt->impair_loss_ppm;
    im->delay_ms = opt->impair_delay_ms;
    im->rng = opt->seed * UINT64_C(0x9e3779b97f4a7c15) | 1u;
    im->output = host->tap.netif.output;
    host->tap.netif.output = impair_output;
    host->impair = im;
    printf("kite-host: impairment: loss %.2f%% delay %u ms each way\n",
           (double)im->loss_ppm / 10000.0, (unsigned)im->delay_ms);
    return true;
}

void impair_stop(struct host *host)
{
    struct impair *im = host->impair;
    struct impair_queue *queues[2] = {&im->tx, &im->rx};

    for (unsigned i = 0; i < 2; i++) {
        while (queues[i]->head != NULL) {
            struct frame *f = queues[i]->head;
            queues[i]->head = f->next;
            free(f);
        }
    }
    host->tap.netif.output = im->output;
    free(im);
    host->impair = NULL;
}
