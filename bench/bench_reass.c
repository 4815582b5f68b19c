/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 fragmentation and reassembly throughput: two stacks in one process on
 * the zero-delay Ethernet wire of bench_wire.h (each frame copied into a pool
 * pbuf of the receiver, as a DMA driver would). Stack A sends UDP datagrams
 * as large as stack B's reassembly budget holds (65,507 bytes in the
 * max_throughput profile) by reference, so A cuts them into fragments that
 * point into the one buffer; B reassembles each and hands it to a pcb, which
 * checks one in 64 byte for byte. Prints datagrams/s and payload Mbit/s on
 * one core, and the RAM the reassembly and path MTU state take in a stack.
 *
 *   bench_reass [datagrams]      (default 20000)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kite/kite.h"

#include "bench_wire.h"

#define WIRE_QUEUE_LEN 64u /* a 65,507-byte datagram is 45 frames */
#define RX_PORT 9000u
#define TX_PORT 9001u
#define DEFAULT_COUNT 20000ul
#define FRAME_DATA 1480u

struct bench {
    struct kite_stack a, b;
    struct bench_wire_end end_a, end_b;
    struct kite_pbuf *queue_a[WIRE_QUEUE_LEN], *queue_b[WIRE_QUEUE_LEN];
    struct kite_udp_pcb *tx, *rx;
    unsigned long rx_packets, rx_bytes, rx_bad;
    uint16_t len;
    uint8_t data[65507];
};

/* The largest datagram B holds: fragments of 1480 bytes, each frame a chain of pool blocks. */
static uint16_t datagram_len(void)
{
    unsigned per_frame = (1514u + KITE_PBUF_POOL_BUFSIZE - 1u) / KITE_PBUF_POOL_BUFSIZE;
    unsigned frags = KITE_IP_REASS_MAX_PBUFS / per_frame;
    unsigned len = frags * FRAME_DATA - 8u;
    return (uint16_t)(len > 65507u ? 65507u : len);
}

static void rx_recv(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                    const struct kite_addr *src, uint16_t src_port, const struct kite_addr *dst)
{
    struct bench *b = arg;
    (void)src, (void)src_port, (void)dst;
    if (b->rx_packets % 64 == 0) {
        static uint8_t copy[65507];
        if (p->tot_len != b->len || kite_pbuf_copy_out(p, copy, p->tot_len, 0) != b->len ||
            memcmp(copy, b->data, b->len) != 0)
            b->rx_bad++;
    }
    b->rx_packets++;
    b->rx_bytes += p->tot_len;
    kite_pbuf_free(pcb->stack, p);
}

static int setup(struct bench *b)
{
    if (kite_stack_init(&b->a, NULL) != KITE_ERR_OK || kite_stack_init(&b->b, NULL) != KITE_ERR_OK)
        return -1;
    b->end_a.peer = &b->end_b;
    b->end_b.peer = &b->end_a;
    if (bench_wire_add(&b->end_a, &b->a, b->queue_a, WIRE_QUEUE_LEN, 10, 1500) != 0 ||
        bench_wire_add(&b->end_b, &b->b, b->queue_b, WIRE_QUEUE_LEN, 11, 1500) != 0)
        return -1;
    b->tx = kite_udp_new(&b->a);
    b->rx = kite_udp_new(&b->b);
    if (b->tx == NULL || b->rx == NULL || kite_udp_bind(b->tx, NULL, TX_PORT) != KITE_ERR_OK ||
        kite_udp_bind(b->rx, NULL, RX_PORT) != KITE_ERR_OK)
        return -1;
    kite_udp_recv(b->rx, rx_recv, b);
    for (unsigned i = 0; i < sizeof b->data; i++)
        b->data[i] = (uint8_t)(i * 7u + (i >> 8));
    return 0;
}

static enum kite_err send_one(struct bench *b, uint16_t len)
{
    const struct kite_addr dst = KITE_ADDR_V4(KITE_IP4(192, 0, 2, 11));
    struct kite_pbuf *p = kite_pbuf_alloc_ref(&b->a, b->data, len, KITE_PBUF_REF);
    if (p == NULL)
        return KITE_ERR_MEM;
    enum kite_err err = kite_udp_sendto(b->tx, p, &dst, RX_PORT);
    kite_pbuf_free(&b->a, p);
    bench_wire_drain(&b->end_b);
    bench_wire_drain(&b->end_a);
    return err;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static int teardown(struct bench *b)
{
    kite_udp_remove(b->tx);
    kite_udp_remove(b->rx);
    return bench_wire_finish(&b->end_a, &b->end_b);
}

int main(int argc, char **argv)
{
    unsigned long count = argc > 1 ? strtoul(argv[1], NULL, 10) : DEFAULT_COUNT;
    struct bench *b = calloc(1, sizeof *b);
    if (b == NULL || count == 0) {
        fprintf(stderr, "usage: %s [datagrams]\n", argv[0]);
        return 2;
    }
    b->len = datagram_len();
    if (setup(b) != 0 || send_one(b, 8) != KITE_ERR_OK) { /* resolves ARP both ways */
        fprintf(stderr, "bench_reass: setup failed\n");
        return 1;
    }
    (void)send_one(b, 8);
    b->rx_packets = b->rx_bytes = b->rx_bad = 0;
    struct timespec t0;
    unsigned long errors = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned long i = 0; i < count; i++)
        errors += send_one(b, b->len) != KITE_ERR_OK;
    double secs = seconds_since(&t0);
    unsigned frags = (b->len + 8u + FRAME_DATA - 1u) / FRAME_DATA;
    printf("kite IPv4 fragmentation + reassembly, stack A -> stack B, zero-delay wire, one core\n");
    printf("datagram %u bytes (%u fragments), %lu sent, %lu reassembled in %.3f s: %.0f "
           "datagrams/s, %.1f Mbit/s of payload\n",
           (unsigned)b->len, frags, count, b->rx_packets, secs, (double)b->rx_packets / secs,
           (double)b->rx_bytes * 8.0 / secs / 1e6);
    printf("state in struct kite_stack: reassembly %zu B (%u datagrams, up to %u pbufs), path "
           "MTU cache %zu B (%u entries)\n",
           sizeof(struct kite_ip4_reass), (unsigned)KITE_IP_REASS_DATAGRAMS,
           (unsigned)KITE_IP_REASS_MAX_PBUFS, sizeof(struct kite_pmtu),
           (unsigned)KITE_PMTU_ENTRIES);
    printf("send errors %lu, wire drops a->b %lu, sampled datagrams corrupted %lu\n", errors,
           b->end_a.drops, b->rx_bad);
    int rc = b->rx_packets == count && b->rx_bad == 0 && errors == 0 ? 0 : 1;
    if (teardown(b) != 0) {
        fprintf(stderr, "bench_reass: pool blocks still in use after teardown\n");
        rc = 1;
    }
    free(b);
    return rc;
}
