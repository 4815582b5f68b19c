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

#include "bench_wire.h"

#define WIRE_QUEUE_LEN 32u
#define BATCH 8u /* datagrams sent between two drains of the wire */
#define RX_PORT 9000u
#define TX_PORT 9001u
#define DEFAULT_COUNT 2000000ul
#define MAX_PAYLOAD 1024u

struct bench {
    struct kite_stack a, b;
    struct bench_wire_end end_a, end_b;
    struct kite_pbuf *queue_a[WIRE_QUEUE_LEN], *queue_b[WIRE_QUEUE_LEN];
    struct kite_udp_pcb *tx, *rx;
    unsigned long rx_packets, rx_bytes;
    const uint8_t *expect; /* payload being sent */
    uint16_t expect_len;
    unsigned long rx_bad; /* sampled datagrams whose bytes differ */
};

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

static int setup(struct bench *b)
{
    if (kite_stack_init(&b->a, NULL) != KITE_ERR_OK ||
        kite_stack_init(&b->b, NULL) != KITE_ERR_OK) {
        return -1;
    }
    b->end_a.peer = &b->end_b;
    b->end_b.peer = &b->end_a;
    if (bench_wire_add(&b->end_a, &b->a, b->queue_a, WIRE_QUEUE_LEN, 10, 1500) != 0 ||
        bench_wire_add(&b->end_b, &b->b, b->queue_b, WIRE_QUEUE_LEN, 11, 1500) != 0) {
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
        bench_wire_drain(&b->end_b);
        bench_wire_drain(&b->end_a);
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
            bench_wire_drain(&b->end_b);
            bench_wire_drain(&b->end_a);
        }
    }
    bench_wire_drain(&b->end_b);
    bench_wire_drain(&b->end_a);
    secs = seconds_since(&t0);
    printf("%7u %10lu %9.3f %12.0f %10.1f %8lu\n", (unsigned)len, b->rx_packets, secs,
           (double)b->rx_packets / secs, (double)b->rx_bytes * 8.0 / secs / 1e6,
           count - b->rx_packets);
    if (send_errors != 0) {
        printf("        (%lu sends failed)\n", send_errors);
    }
}

static int teardown(struct bench *b)
{
    kite_udp_remove(b->tx);
    kite_udp_remove(b->rx);
    return bench_wire_finish(&b->end_a, &b->end_b);
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
