/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cost of the socket API over the raw API (issue 7), in one process over
 * the loopback netif, in the same run, in the threading mode this program
 * was built with (bench_sockets: the build's mode, message mode by default;
 * bench_sockets_lock: core-lock mode, KITE_TCPIP_CORE_LOCKING=1):
 *
 *  - bulk TCP: N MiB from one connection end to the other. Raw: everything
 *    runs in callbacks on the stack thread (kite_tcp_write with the copy
 *    flag as a socket send does; the receiver copies each segment out into a
 *    buffer, as recv does). Sockets: a sender thread kite_send()s 16 KiB
 *    chunks, a receiver thread kite_recv()s 16 KiB at a time.
 *  - 64-byte round trip: request/response of 64 bytes with TCP_NODELAY.
 *    Raw: the echo and the next request from the recv callbacks. Sockets:
 *    a client thread send + recv(MSG_WAITALL), a server thread the same.
 *
 * Each figure is the best of R runs. The issue's targets (socket bulk at
 * least 85 % of raw, round trip at most 1.3x raw) are printed, never
 * asserted. Also printed: RAM per TCP and UDP socket on this host (socket +
 * netconn + pcb pool block; scripts/bench-socket-sizes.sh prints the same
 * for Cortex-M4).
 *
 *   bench_sockets [-n MiB] [-r round_trips] [-R runs] [--smoke]
 *     defaults: -n 64 -r 20000 -R 3; --smoke: -n 4 -r 500 -R 1
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kite/byteorder.h"
#include "kite/kite.h"
#include "kite/port/loopif.h"
#include "kite/sockets.h"
#include "kite/tcp.h"
#include "kite/tcpip.h"

#define CHUNK 16384u
#define MSG 64u
#define MIB (1024u * 1024u)

struct bench {
    struct kite_stack stack;
    struct kite_loopif lo;
    struct kite_tcpip tcpip;
    struct kite_sockets socks;
    uint16_t next_port;
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- raw API, on the stack thread ----------------------------------------------------------- */

struct raw {
    struct bench *b;
    struct kite_tcp_listener *listener;
    struct kite_tcp_pcb *client, *server;
    uint64_t total, queued, received;
    unsigned rtt_left, got; /* round trips: to do, bytes of the current answer */
    bool rtt;
    bool failed;
    uint8_t *data, *sink;
    struct kite_os_sem done;
};

static void raw_fill(struct raw *r)
{
    while (r->queued < r->total) {
        uint64_t left = r->total - r->queued;
        uint32_t room = kite_tcp_sndbuf(r->client);
        uint32_t n = left < CHUNK ? (uint32_t)left : CHUNK;
        n = n < room ? n : room;
        if (n == 0)
            break;
        uint8_t f = KITE_TCP_WRITE_COPY | (n < left ? KITE_TCP_WRITE_MORE : 0u);
        if (kite_tcp_write(r->client, r->data + (r->queued % CHUNK), (uint16_t)n, f) != KITE_ERR_OK)
            break;
        r->queued += n;
    }
    (void)kite_tcp_output(r->client);
}

static void raw_send_request(struct raw *r)
{
    r->got = 0;
    if (kite_tcp_write(r->client, r->data, MSG, KITE_TCP_WRITE_COPY) != KITE_ERR_OK)
        r->failed = true;
    (void)kite_tcp_output(r->client);
}

static void raw_client_connected(void *arg, struct kite_tcp_pcb *pcb)
{
    struct raw *r = arg;
    (void)pcb;
    if (r->rtt)
        raw_send_request(r);
    else
        raw_fill(r);
}

static void raw_client_sent(void *arg, struct kite_tcp_pcb *pcb, uint32_t len)
{
    struct raw *r = arg;
    (void)pcb;
    (void)len;
    if (!r->rtt)
        raw_fill(r);
}

static void raw_client_recv(void *arg, struct kite_tcp_pcb *pcb, struct kite_pbuf *p)
{
    struct raw *r = arg;
    if (p == NULL)
        return;
    r->got += p->tot_len;
    kite_tcp_recved(pcb, p->tot_len);
    (void)kite_pbuf_copy_out(p, r->sink, p->tot_len, 0);
    kite_pbuf_free(&r->b->stack, p);
    if (r->got < MSG)
        return;
    if (--r->rtt_left == 0)
        kite_os_sem_post(&r->done);
    else
        raw_send_request(r);
}

static void raw_err(void *arg, enum kite_err err)
{
    struct raw *r = arg;
    (void)err;
    r->failed = true;
    kite_os_sem_post(&r->done);
}

static void raw_server_recv(void *arg, struct kite_tcp_pcb *pcb, struct kite_pbuf *p)
{
    struct raw *r = arg;
    if (p == NULL)
        return;
    uint16_t len = p->tot_len;
    (void)kite_pbuf_copy_out(p, r->sink, len, 0);
    kite_pbuf_free(&r->b->stack, p);
    kite_tcp_recved(pcb, len);
    if (r->rtt) { /* echo it */
        (void)kite_tcp_write(pcb, r->sink, len, KITE_TCP_WRITE_COPY);
        (void)kite_tcp_output(pcb);
        return;
    }
    r->received += len;
    if (r->received == r->total)
        kite_os_sem_post(&r->done);
}

static const struct kite_tcp_ops raw_client_ops = {.connected = raw_client_connected,
                                                   .recv = raw_client_recv,
                                                   .sent = raw_client_sent,
                                                   .err = raw_err};
static const struct kite_tcp_ops raw_server_ops = {.recv = raw_server_recv, .err = raw_err};

static enum kite_err raw_accept(void *arg, struct kite_tcp_pcb *pcb)
{
    struct raw *r = arg;
    r->server = pcb;
    kite_tcp_arg(pcb, r);
    kite_tcp_set_ops(pcb, &raw_server_ops);
    kite_tcp_set_nodelay(pcb, true);
    return KITE_ERR_OK;
}

static const struct kite_tcp_ops raw_listen_ops = {.accept = raw_accept};

static void raw_start(void *arg)
{
    struct raw *r = arg;
    struct kite_stack *stack = &r->b->stack;
    struct kite_addr loopback = KITE_ADDR_V4(KITE_IP4(127, 0, 0, 1));
    uint16_t port = r->b->next_port++;
    struct kite_tcp_pcb *l = kite_tcp_new(stack);
    r->client = kite_tcp_new(stack);
    if (l == NULL || r->client == NULL) {
        r->failed = true;
        return;
    }
    kite_tcp_arg(l, r);
    kite_tcp_set_ops(l, &raw_listen_ops);
    (void)kite_tcp_bind(l, &loopback, port);
    r->listener = kite_tcp_listen(l, 1, NULL);
    if (r->listener == NULL) {
        r->failed = true;
        return;
    }
    kite_tcp_listener_arg(r->listener, r);
    kite_tcp_arg(r->client, r);
    kite_tcp_set_ops(r->client, &raw_client_ops);
    kite_tcp_set_nodelay(r->client, true);
    if (kite_tcp_connect(r->client, &loopback, port) != KITE_ERR_OK)
        r->failed = true;
}

static void raw_stop(void *arg)
{
    struct raw *r = arg;
    if (r->client != NULL) {
        kite_tcp_set_ops(r->client, NULL);
        (void)kite_tcp_close(r->client);
    }
    if (r->server != NULL) {
        kite_tcp_set_ops(r->server, NULL);
        (void)kite_tcp_close(r->server);
    }
    if (r->listener != NULL)
        kite_tcp_listener_close(r->listener);
}

/* Seconds for one raw run (bulk of total bytes, or round_trips round trips). */
static double raw_run(struct bench *b, uint64_t total, unsigned round_trips, uint8_t *data,
                      uint8_t *sink)
{
    struct raw r = {.b = b,
                    .total = total,
                    .rtt = round_trips > 0,
                    .rtt_left = round_trips,
                    .data = data,
                    .sink = sink};
    if (kite_os_sem_init(&r.done, 0) != KITE_ERR_OK)
        return -1;
    double t0 = now_s();
    (void)kite_tcpip_call(&b->tcpip, raw_start, &r);
    if (!r.failed)
        (void)kite_os_sem_wait(&r.done, 120000);
    double t = now_s() - t0;
    (void)kite_tcpip_call(&b->tcpip, raw_stop, &r);
    kite_os_sem_destroy(&r.done);
    return r.failed ? -1 : t;
}

/* ---- sockets ----------------------------------------------------------------------------------
 */

struct sock_peer {
    struct bench *b;
    int listener;
    uint64_t total;
    unsigned round_trips;
    uint8_t *sink;
    bool failed;
    struct kite_os_thread thread;
};

static void set_nodelay(struct bench *b, int fd)
{
    int one = 1;
    (void)kite_setsockopt(&b->socks, fd, KITE_IPPROTO_TCP, KITE_TCP_NODELAY, &one, sizeof one);
}

static void sock_server(void *arg)
{
    struct sock_peer *p = arg;
    struct kite_sockets *s = &p->b->socks;
    int fd = kite_accept(s, p->listener, NULL, NULL);
    if (fd < 0) {
        p->failed = true;
        return;
    }
    set_nodelay(p->b, fd);
    if (p->round_trips > 0) {
        for (unsigned i = 0; i < p->round_trips; i++) {
            if (kite_recv(s, fd, p->sink, MSG, KITE_MSG_WAITALL) != (ssize_t)MSG ||
                kite_send(s, fd, p->sink, MSG, 0) != (ssize_t)MSG) {
                p->failed = true;
                break;
            }
        }
    } else {
        uint64_t got = 0;
        while (got < p->total) {
            ssize_t n = kite_recv(s, fd, p->sink, CHUNK, 0);
            if (n <= 0) {
                p->failed = true;
                break;
            }
            got += (uint64_t)n;
        }
    }
    (void)kite_close(s, fd);
}

static struct kite_sockaddr_in loop_addr(uint16_t port)
{
    struct kite_sockaddr_in a = {.sin_family = KITE_AF_INET,
                                 .sin_port = kite_htons(port),
                                 .sin_addr = {kite_htonl(KITE_IP4(127, 0, 0, 1))}};
    return a;
}

#define SA(a) ((struct kite_sockaddr *)(void *)&(a))

static double sock_run(struct bench *b, uint64_t total, unsigned round_trips, uint8_t *data,
                       uint8_t *sink, uint8_t *sink2)
{
    struct kite_sockets *s = &b->socks;
    struct sock_peer p = {.b = b, .total = total, .round_trips = round_trips, .sink = sink2};
    uint16_t port = b->next_port++;
    struct kite_sockaddr_in a = loop_addr(port);
    p.listener = kite_socket(s, KITE_AF_INET, KITE_SOCK_STREAM, 0);
    int c = kite_socket(s, KITE_AF_INET, KITE_SOCK_STREAM, 0);
    if (p.listener < 0 || c < 0 || kite_bind(s, p.listener, SA(a), sizeof a) != 0 ||
        kite_listen(s, p.listener, 1) != 0)
        return -1;
    struct kite_os_thread_attr attr = {.stack_size = 64u * 1024u};
    if (kite_os_thread_start(&p.thread, sock_server, &p, &attr) != KITE_ERR_OK)
        return -1;
    set_nodelay(b, c);
    bool failed = false;
    double t0 = now_s();
    if (kite_connect(s, c, SA(a), sizeof a) != 0)
        failed = true;
    for (unsigned i = 0; !failed && i < round_trips; i++) {
        if (kite_send(s, c, data, MSG, 0) != (ssize_t)MSG ||
            kite_recv(s, c, sink, MSG, KITE_MSG_WAITALL) != (ssize_t)MSG)
            failed = true;
    }
    for (uint64_t sent = 0; !failed && round_trips == 0 && sent < total;) {
        size_t n = total - sent < CHUNK ? (size_t)(total - sent) : CHUNK;
        ssize_t k = kite_send(s, c, data, n, 0);
        if (k <= 0)
            failed = true;
        else
            sent += (uint64_t)k;
    }
    kite_os_thread_join(&p.thread); /* the receiver has everything */
    double t = now_s() - t0;
    (void)kite_close(s, c);
    (void)kite_close(s, p.listener);
    return failed || p.failed ? -1 : t;
}

/* ---- main -------------------------------------------------------------------------------------
 */

static double best(double a, double b)
{
    return a < 0 ? b : (b < 0 || a < b) ? a : b;
}

static void print_ram(void)
{
    size_t sock = sizeof(struct kite_socket), nc = sizeof(struct kite_netconn);
    size_t tcp = KITE_POOL_ALIGN(sizeof(struct kite_tcp_pcb));
    size_t udp = KITE_POOL_ALIGN(sizeof(struct kite_udp_pcb));
    printf("RAM per socket on this host (%zu-bit): struct kite_socket %zu + struct kite_netconn "
           "%zu = %zu bytes (issue 7 target on Cortex-M4: <= 56)\n",
           8 * sizeof(void *), sock, nc, sock + nc);
    printf("  TCP socket: + tcp pcb block %zu = %zu bytes; UDP socket: + udp pcb block %zu = %zu "
           "bytes\n",
           tcp, sock + nc + tcp, udp, sock + nc + udp);
}

int main(int argc, char **argv)
{
    unsigned mib = 64, round_trips = 20000, runs = 3;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--smoke") == 0) {
            mib = 4;
            round_trips = 500;
            runs = 1;
        } else if (i + 1 < argc && strcmp(argv[i], "-n") == 0) {
            mib = (unsigned)strtoul(argv[++i], NULL, 0);
        } else if (i + 1 < argc && strcmp(argv[i], "-r") == 0) {
            round_trips = (unsigned)strtoul(argv[++i], NULL, 0);
        } else if (i + 1 < argc && strcmp(argv[i], "-R") == 0) {
            runs = (unsigned)strtoul(argv[++i], NULL, 0);
        } else {
            fprintf(stderr, "usage: %s [-n MiB] [-r round_trips] [-R runs] [--smoke]\n", argv[0]);
            return 2;
        }
    }
    if (mib == 0 || round_trips == 0 || runs == 0)
        return 2;
    struct bench *b = calloc(1, sizeof *b);
    uint8_t *data = malloc(CHUNK), *sink = malloc(CHUNK), *sink2 = malloc(CHUNK);
    if (b == NULL || data == NULL || sink == NULL || sink2 == NULL)
        return 1;
    for (unsigned i = 0; i < CHUNK; i++)
        data[i] = (uint8_t)(i * 31u + 7u);
    b->next_port = 6000;
    if (kite_stack_init(&b->stack, NULL) != KITE_ERR_OK ||
        kite_loopif_add(&b->stack, &b->lo) != KITE_ERR_OK ||
        kite_tcpip_start(&b->tcpip, &b->stack, NULL) != KITE_ERR_OK ||
        kite_sockets_init(&b->socks, &b->tcpip) != 0)
        return 1;
    const char *mode = KITE_TCPIP_CORE_LOCKING ? "core-lock" : "message";
    printf("bench_sockets: %s mode, loopback netif, %u MiB bulk, %u x %u-byte round trips, "
           "best of %u\n",
           mode, mib, round_trips, MSG, runs);
    uint64_t total = (uint64_t)mib * MIB;
    double raw_bulk = -1, sock_bulk = -1, raw_rtt = -1, sock_rtt = -1;
    for (unsigned i = 0; i < runs; i++) {
        raw_bulk = best(raw_bulk, raw_run(b, total, 0, data, sink));
        sock_bulk = best(sock_bulk, sock_run(b, total, 0, data, sink, sink2));
        raw_rtt = best(raw_rtt, raw_run(b, 0, round_trips, data, sink));
        sock_rtt = best(sock_rtt, sock_run(b, 0, round_trips, data, sink, sink2));
    }
    int rc = 0;
    if (raw_bulk <= 0 || sock_bulk <= 0 || raw_rtt <= 0 || sock_rtt <= 0) {
        fprintf(stderr, "bench_sockets: a run failed\n");
        rc = 1;
    } else {
        double rb = (double)total * 8 / raw_bulk / 1e6, sb = (double)total * 8 / sock_bulk / 1e6;
        double rr = raw_rtt / round_trips * 1e6, sr = sock_rtt / round_trips * 1e6;
        printf(
            "%-9s bulk raw %8.0f Mbit/s  sockets %8.0f Mbit/s  ratio %5.1f %% (target >= 85 %%)\n",
            mode, rb, sb, 100.0 * sb / rb);
        printf("%-9s rtt  raw %8.1f us      sockets %8.1f us      ratio %5.2fx  (target <= 1.3x)\n",
               mode, rr, sr, sr / rr);
    }
    print_ram();
    kite_sockets_deinit(&b->socks);
    kite_tcpip_stop(&b->tcpip);
    kite_stack_deinit(&b->stack);
    free(data);
    free(sink);
    free(sink2);
    free(b);
    return rc;
}
