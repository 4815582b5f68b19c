/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * UDP throughput of the stack itself: two stacks in one process joined by a
 * zero-delay, lossless Ethernet "wire". Each frame a stack sends is copied (as
 * a DMA driver would) into a PBUF_POOL pbuf of the other stack and queued; the
 * loop hands queued frames to kite_netif_input(). Stack A sends datagrams of
 * 64 and 1024 payload bytes to a pcb of stack B, and the wall time of the
 * whole path (pbuf copy, UDP/IPv4/Ethernet output, ARP cache, input, checksum
 * checks, delivery) gives packets/s and payload Mbit/s on one core.
 *
 *   bench_udp_pps [datagrams per size]      (default 2000000)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kite/kite.h"

#define WIRE_QUEUE_LEN 32u
#define BATCH 8u /* datagrams sent between two drains of the wire */
#define RX_PORT 9000u
#define TX_PORT 9001u
#define DEFAULT_COUNT 2000000ul
#define MAX_PAYLOAD 1024u

struct wire_end {
    struct kite_netif netif;
    struct wire_end *peer;
    struct kite_pbuf *queue[WIRE_QUEUE_LEN];
    unsigned head, count;
    unsigned long drops; /* queue or peer pool full */
};

struct bench {
    struct kite_stack a, b;
    struct wire_end end_a, end_b;
    struct kite_udp_pcb *tx, *rx;
    unsigned long rx_packets, rx_bytes;
    const uint8_t *expect; /* payload being sent */
    uint16_t expect_len;
    unsigned long rx_bad; /* sampled datagrams whose bytes differ */
};

/* Driver transmit: copy the frame into the peer stack's pool and queue it. */
static enum kite_err wire_output(struct kite_netif *netif, struct kite_pbuf *p)
{
    struct wire_end *end = netif->driver;
    struct wire_end *peer = end->peer;
    struct kite_pbuf *copy;
    uint16_t off = 0;

    if (peer->count == WIRE_QUEUE_LEN) {
        end->drops++;
        return KITE_ERR_MEM;
    }
    copy = kite_pbuf_alloc(peer->netif.stack, 0, p->tot_len, KITE_PBUF_POOL);
    if (copy == NULL) {
        end->drops++;
        return KITE_ERR_MEM;
    }
    for (const struct kite_pbuf *q = p; q != NULL; q = q->next) {
        (void)kite_pbuf_copy_in(copy, q->payload, q->len, off);
        off = (uint16_t)(off + q->len);
    }
    peer->queue[(peer->head + peer->count) % WIRE_QUEUE_LEN] = copy;
    peer->count++;
    return KITE_ERR_OK;
}

/* Hand every queued frame to the stack; returns how many. */
static unsigned drain(struct wire_end *end)
{
    unsigned n = 0;

    while (end->count > 0) {
        struct kite_pbuf *p = end->queue[end->head];

        end->head = (end->head + 1) % WIRE_QUEUE_LEN;
        end->count--;
        kite_netif_input(&end->netif, p);
        n++;
    }
    return n;
}

static void rx_recv(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                    const struct kite_addr *src, uint16_t src_port, const struct kite_addr *dst)
{
    struct bench *b = arg;

    (void)src;
    (void)src_port;
    (void)dst;
    /* Compare one datagram in 1024 byte for byte: cheap proof the path is real. */
    if (b->rx_packets % 1024 == 0) {
        uint8_t copy[MAX_PAYLOAD];

        if (p->tot_len != b->expect_len ||
            kite_pbuf_copy_out(p, copy, p->tot_len, 0) != b->expect_len ||
            memcmp(copy, b->expect, b->expect_len) != 0) {
            b->rx_bad++;
        }
    }
    b->rx_packets++;
    b->rx_bytes += p->tot_len;
    kite_pbuf_free(pcb->stack, p);
}

static int add_end(struct kite_stack *stack, struct wire_end *end, const char *name, uint8_t id)
{
    const uint8_t mac[KITE_ETH_ADDR_LEN] = {0x02, 0x00, 0x00, 0x00, 0x00, id};

    if (kite_netif_add_ethernet(stack, &end->netif, name, mac, 1500, wire_output, end) !=
        KITE_ERR_OK) {
        return -1;
    }
    kite_netif_set_up(&end->netif, true);
    return kite_netif_set_ipv4(&end->netif, KITE_IP4(192, 0, 2, id), 24, 0) == KITE_ERR_OK ? 0 : -1;
}

static int setup(struct bench *b)
{
    if (kite_stack_init(&b->a, NULL) != KITE_ERR_OK ||
        kite_stack_init(&b->b, NULL) != KITE_ERR_OK) {
        return -1;
    }
    b->end_a.peer = &b->end_b;
    b->end_b.peer = &b->end_a;
    if (add_end(&b->a, &b->end_a, "a0", 10) != 0 || add_end(&b->b, &b->end_b, "b0", 11) != 0) {
        return -1;
    }
    b->tx = kite_udp_new(&b->a);
    b->rx = kite_udp_new(&b->b);
    if (b->tx == NULL || b->rx == NULL || kite_udp_bind(b->tx, NULL, TX_PORT) != KITE_ERR_OK ||
        kite_udp_bind(b->rx, NULL, RX_PORT) != KITE_ERR_OK) {
        return -1;
    }
    kite_udp_recv(b->rx, rx_recv, b);
    return 0;
}

static enum kite_err send_one(struct bench *b, const uint8_t *payload, uint16_t len)
{
    const struct kite_addr dst = KITE_ADDR_V4(KITE_IP4(192, 0, 2, 11));
    struct kite_pbuf *p = kite_pbuf_from_data(&b->a, KITE_LAYER_TRANSPORT, payload, len, true);
    enum kite_err err;

    if (p == NULL) {
        return KITE_ERR_MEM;
    }
    err = kite_udp_sendto(b->tx, p, &dst, RX_PORT);
    kite_pbuf_free(&b->a, p);
    return err;
}

/* Resolve ARP both ways before timing: the first datagram waits for it. */
static int warm_up(struct bench *b, const uint8_t *payload)
{
    b->expect = payload;
    b->expect_len = 8;
    (void)send_one(b, payload, 8);
    for (int i = 0; i < 16 && b->rx_packets == 0; i++) {
        drain(&b->end_b);
        drain(&b->end_a);
    }
    return b->rx_packets == 1 ? 0 : -1;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void run_size(struct bench *b, const uint8_t *payload, uint16_t len, unsigned long count)
{
    unsigned long send_errors = 0;
    struct timespec t0;
    double secs;

    b->rx_packets = 0;
    b->rx_bytes = 0;
    b->expect = payload;
    b->expect_len = len;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned long i = 0; i < count; i++) {
        if (send_one(b, payload, len) != KITE_ERR_OK) {
            send_errors++;
        }
        if (i % BATCH == BATCH - 1) {
            drain(&b->end_b);
            drain(&b->end_a);
        }
    }
    drain(&b->end_b);
    drain(&b->end_a);
    secs = seconds_since(&t0);
    printf("%7u %10lu %9.3f %12.0f %10.1f %8lu\n", (unsigned)len, b->rx_packets, secs,
           (double)b->rx_packets / secs, (double)b->rx_bytes * 8.0 / secs / 1e6,
           count - b->rx_packets);
    if (send_errors != 0) {
        printf("        (%lu sends failed)\n", send_errors);
    }
}

static void discard_queue(struct wire_end *end, struct kite_stack *stack)
{
    while (end->count > 0) {
        kite_pbuf_free(stack, end->queue[end->head]);
        end->head = (end->head + 1) % WIRE_QUEUE_LEN;
        end->count--;
    }
}

static int teardown(struct bench *b)
{
    kite_udp_remove(b->tx);
    kite_udp_remove(b->rx);
    kite_netif_remove(&b->end_a.netif);
    kite_netif_remove(&b->end_b.netif);
    /* Frames still on the wire belong to the receiving stack's pool. */
    discard_queue(&b->end_a, &b->a);
    discard_queue(&b->end_b, &b->b);
    kite_stack_deinit(&b->a);
    kite_stack_deinit(&b->b);
    return kite_stack_pools_in_use(&b->a) + kite_stack_pools_in_use(&b->b) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    static const uint16_t sizes[] = {64, MAX_PAYLOAD};
    unsigned long count = argc > 1 ? strtoul(argv[1], NULL, 10) : DEFAULT_COUNT;
    struct bench *b = calloc(1, sizeof(*b));
    uint8_t payload[MAX_PAYLOAD];
    int rc = 0;

    if (b == NULL || count == 0) {
        fprintf(stderr, "usage: %s [datagrams per size]\n", argv[0]);
        return 2;
    }
    for (unsigned i = 0; i < sizeof(payload); i++) {
        payload[i] = (uint8_t)(i * 7u);
    }
    if (setup(b) != 0 || warm_up(b, payload) != 0) {
        fprintf(stderr, "bench_udp_pps: setup failed\n");
        return 1;
    }
    printf("kite UDP, stack A -> stack B over a zero-delay lossless Ethernet link, one core\n");
    printf("%7s %10s %9s %12s %10s %8s\n", "payload", "datagrams", "seconds", "pkt/s", "Mbit/s",
           "lost");
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        run_size(b, payload, sizes[i], count);
        if (b->rx_packets != count || b->rx_bad != 0) {
            rc = 1;
        }
    }
    printf("wire drops: a->b %lu, b->a %lu; sampled datagrams corrupted: %lu\n", b->end_a.drops,
           b->end_b.drops, b->rx_bad);
    if (teardown(b) != 0) {
        fprintf(stderr, "bench_udp_pps: pool blocks still in use after teardown\n");
        rc = 1;
    }
    free(b);
    return rc;
}
