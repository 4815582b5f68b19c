/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The zero-delay, lossless Ethernet "wire" of the in-process benchmarks: each
 * end's driver copies every frame it is given into a PBUF_POOL pbuf of the
 * other stack (as a DMA driver would) and queues it; bench_wire_drain() hands
 * queued frames to the stack. Frames that find the queue or the receiving
 * pool full are counted in drops.
 */
#ifndef KITE_BENCH_WIRE_H
#define KITE_BENCH_WIRE_H

#include "kite/kite.h"

struct bench_wire_end {
    struct kite_netif netif;
    struct kite_stack *stack; /* the stack this end delivers into */
    struct bench_wire_end *peer;
    struct kite_pbuf **queue;
    unsigned cap, head, count;
    unsigned long frames, drops;
};

static enum kite_err bench_wire_output(struct kite_netif *netif, struct kite_pbuf *p)
{
    struct bench_wire_end *end = netif->driver;
    struct bench_wire_end *peer = end->peer;
    struct kite_pbuf *copy = NULL;
    uint16_t off = 0;

    if (peer->count < peer->cap)
        copy = kite_pbuf_alloc(peer->stack, 0, p->tot_len, KITE_PBUF_POOL);
    if (copy == NULL) {
        end->drops++;
        return KITE_ERR_MEM;
    }
    for (const struct kite_pbuf *q = p; q != NULL; q = q->next) {
        (void)kite_pbuf_copy_in(copy, q->payload, q->len, off);
        off = (uint16_t)(off + q->len);
    }
    peer->queue[(peer->head + peer->count) % peer->cap] = copy;
    peer->count++;
    end->frames++;
    return KITE_ERR_OK;
}

/* Add end to stack as 192.0.2.<id>/24 with MAC 02:00:00:00:00:<id>, up. */
static int bench_wire_add(struct bench_wire_end *end, struct kite_stack *stack,
                          struct kite_pbuf **queue, unsigned cap, uint8_t id, uint16_t mtu)
{
    const uint8_t mac[KITE_ETH_ADDR_LEN] = {0x02, 0x00, 0x00, 0x00, 0x00, id};
    char name[8] = {'w', (char)('0' + id % 10u), '\0'};

    end->stack = stack;
    end->queue = queue;
    end->cap = cap;
    if (kite_netif_add_ethernet(stack, &end->netif, name, mac, mtu, bench_wire_output, end) !=
        KITE_ERR_OK)
        return -1;
    kite_netif_set_up(&end->netif, true);
    return kite_netif_set_ipv4(&end->netif, KITE_IP4(192, 0, 2, id), 24, 0) == KITE_ERR_OK ? 0 : -1;
}

/* Hand every queued frame to the stack; returns how many. */
static unsigned bench_wire_drain(struct bench_wire_end *end)
{
    unsigned n = 0;
    while (end->count > 0) {
        struct kite_pbuf *p = end->queue[end->head];
        end->head = (end->head + 1) % end->cap;
        end->count--;
        kite_netif_input(&end->netif, p);
        n++;
    }
    return n;
}

/* Free frames still on the wire (they belong to this end's stack's pool). */
static void bench_wire_discard(struct bench_wire_end *end)
{
    while (end->count > 0) {
        kite_pbuf_free(end->stack, end->queue[end->head]);
        end->head = (end->head + 1) % end->cap;
        end->count--;
    }
}

/* Unplug both ends, free what is still on the wire, then deinit both
 * stacks; -1 when a stack still held pool blocks before its deinit (which
 * would free leftovers and hide a leak). */
static inline int bench_wire_finish(struct bench_wire_end *x, struct bench_wire_end *y)
{
    kite_netif_remove(&x->netif);
    kite_netif_remove(&y->netif);
    /* Frames still on the wire belong to the receiving stack's pool. */
    bench_wire_discard(x);
    bench_wire_discard(y);
    unsigned held = kite_stack_pools_in_use(x->stack) + kite_stack_pools_in_use(y->stack);
    kite_stack_deinit(x->stack);
    kite_stack_deinit(y->stack);
    return held == 0 ? 0 : -1;
}

#endif
