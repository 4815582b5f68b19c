/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cost of the socket API over the raw API against a real peer (issue 7):
 * kite on a TAP device (examples/common: stack thread plus driver thread),
 * the Linux kernel on the other side, both APIs in one process, rounds
 * interleaved (raw, sockets, raw, sockets...). bench_sockets_tap runs in the
 * build's threading mode (message mode by default), bench_sockets_tap_lock
 * in core-lock mode. scripts/bench-sockets-tap.sh sets up the namespace, the
 * Linux peers and lwIP's socket API beside it (bench/lwip_sock_bench.c).
 *
 *  - rtt:  64-byte request/response to a Linux echo server (--echo), TCP_NODELAY.
 *          Raw: the next request from the recv callback. Sockets: send, then
 *          recv(MSG_WAITALL). Per round: the median of the round trips.
 *  - send: -n MiB to a Linux sink (--sink), from connected until everything
 *          is acknowledged. Raw: kite_tcp_write(COPY) from the sent callback.
 *          Sockets: 16 KiB send()s, then close() with SO_LINGER, which
 *          returns once everything is acknowledged.
 *  - recv: -n MiB from a Linux source (--source) that sends that much and
 *          closes, from connected to EOF. Raw: the recv callback copies each
 *          segment out. Sockets: 16 KiB recv()s.
 *
 * Prints each round, then per measure the median of the rounds and the
 * socket/raw ratio (issue 7: bulk at least 85 %, round trip at most 1.3x).
 *
 *   bench_sockets_tap --tap IF --ipv4 A/P --echo IP:PORT --sink IP:PORT
 *                     --source IP:PORT [-n MiB] [-r round_trips] [-R rounds]
 *                     [--only rtt|send|recv] [--api raw|sockets]   (for profiling)
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kite/kite.h"
#include "kite/tcp.h"
#include "kite/tcp_pcb.h"
#include "kite/tcpip.h"
#include "kite_example_net.h"

#define CHUNK 16384u
#define MSG 64u
#define MIB (1024u * 1024u)
#define RTT_MAX 100000u
#define ROUNDS_MAX 15u

struct peer {
    struct kite_addr ip;
    uint16_t port;
    struct kite_sockaddr_in sa;
};

struct config {
    struct peer echo, sink, source;
    uint64_t bytes;
    unsigned rtts, rounds;
    int only; /* -1: every measure, else the one job (--only, for profiling) */
    int api;  /* 0: both, 1: raw only, 2: sockets only (--api, for profiling) */
};

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static uint8_t data[CHUNK], sink[CHUNK];
static double samples[RTT_MAX];

/* ---- Raw API: everything in callbacks on the stack thread ------------------------------- */

enum job { JOB_RTT, JOB_SEND, JOB_RECV };

struct raw {
    struct kite_tcpip *t;
    const struct peer *peer;
    struct kite_tcp_pcb *pcb;
    enum job job;
    uint64_t total, queued, moved; /* bulk: bytes; moved: acknowledged or received */
    unsigned rtts, done_rtts, got;
    double t0, t1;
    bool failed;
    struct kite_os_sem done;
};

static void raw_finish(struct raw *r, bool failed)
{
    r->t1 = now_us();
    r->failed |= failed;
    if (r->pcb != NULL) {
        kite_tcp_set_ops(r->pcb, NULL);
        if (kite_tcp_close(r->pcb) != KITE_ERR_OK)
            kite_tcp_abort(r->pcb);
        r->pcb = NULL;
    }
    kite_os_sem_post(&r->done);
}

static void raw_fill(struct raw *r)
{
    while (r->queued < r->total) {
        uint64_t left = r->total - r->queued;
        uint32_t n = left < CHUNK ? (uint32_t)left : CHUNK, room = kite_tcp_sndbuf(r->pcb);
        n = n < room ? n : room;
        uint8_t f = KITE_TCP_WRITE_COPY | (n < left ? KITE_TCP_WRITE_MORE : 0u);
        if (n == 0 || kite_tcp_write(r->pcb, data, (uint16_t)n, f) != KITE_ERR_OK)
            break;
        r->queued += n;
    }
    (void)kite_tcp_output(r->pcb);
}

static void raw_request(struct raw *r)
{
    r->got = 0;
    samples[r->done_rtts] = now_us();
    if (kite_tcp_write(r->pcb, data, MSG, KITE_TCP_WRITE_COPY) != KITE_ERR_OK)
        raw_finish(r, true);
    else
        (void)kite_tcp_output(r->pcb);
}

static void raw_connected(void *arg, struct kite_tcp_pcb *pcb)
{
    struct raw *r = arg;
    (void)pcb;
    r->t0 = now_us();
    if (r->job == JOB_RTT)
        raw_request(r);
    else if (r->job == JOB_SEND)
        raw_fill(r);
}

static void raw_sent(void *arg, struct kite_tcp_pcb *pcb, uint32_t len)
{
    struct raw *r = arg;
    (void)pcb;
    if (r->job != JOB_SEND)
        return;
    r->moved += len;
    if (r->moved == r->total)
        raw_finish(r, false);
    else
        raw_fill(r);
}

static void raw_answer(struct raw *r, uint16_t len)
{
    r->got += len;
    if (r->got < MSG)
        return;
    samples[r->done_rtts] = now_us() - samples[r->done_rtts];
    if (++r->done_rtts == r->rtts)
        raw_finish(r, r->got != MSG);
    else
        raw_request(r);
}

static void raw_recv(void *arg, struct kite_tcp_pcb *pcb, struct kite_pbuf *p)
{
    struct raw *r = arg;
    if (p == NULL) { /* the source's FIN */
        raw_finish(r, r->job != JOB_RECV || r->moved != r->total);
        return;
    }
    uint16_t len = p->tot_len;
    (void)kite_pbuf_copy_out(p, sink, len < CHUNK ? len : CHUNK, 0);
    kite_pbuf_free(pcb->stack, p);
    kite_tcp_recved(pcb, len);
    if (r->job == JOB_RTT)
        raw_answer(r, len);
    else
        r->moved += len;
}

static void raw_err(void *arg, enum kite_err err)
{
    struct raw *r = arg;
    (void)err;
    r->pcb = NULL; /* freed by the stack */
    raw_finish(r, true);
}

static const struct kite_tcp_ops raw_ops = {
    .connected = raw_connected, .recv = raw_recv, .sent = raw_sent, .err = raw_err};

static void raw_start(void *arg)
{
    struct raw *r = arg;
    r->pcb = kite_tcp_new(r->t->stack);
    if (r->pcb == NULL) {
        raw_finish(r, true);
        return;
    }
    kite_tcp_arg(r->pcb, r);
    kite_tcp_set_ops(r->pcb, &raw_ops);
    kite_tcp_set_nodelay(r->pcb, true);
    if (kite_tcp_connect(r->pcb, &r->peer->ip, r->peer->port) != KITE_ERR_OK)
        raw_finish(r, true);
}

/* One raw run; the result in us (rtt: median round trip) or Mbit/s. */
static double raw_run(struct kite_tcpip *t, const struct config *cfg, enum job job)
{
    struct raw r = {.t = t, .job = job, .total = cfg->bytes, .rtts = cfg->rtts};
    r.peer = job == JOB_RTT ? &cfg->echo : job == JOB_SEND ? &cfg->sink : &cfg->source;
    if (kite_os_sem_init(&r.done, 0) != KITE_ERR_OK)
        return -1;
    (void)kite_tcpip_call(t, raw_start, &r);
    bool in_time = kite_os_sem_wait(&r.done, 120000u);
    kite_os_sem_destroy(&r.done);
    if (!in_time || r.failed)
        return -1;
    if (job == JOB_RTT)
        return median(samples, r.rtts);
    return (double)r.total * 8.0 / (r.t1 - r.t0);
}

/* ---- Sockets: the application's own thread ----------------------------------------------- */

static int sock_connect(struct kite_sockets *s, const struct peer *peer)
{
    int fd = kite_socket(s, KITE_AF_INET, KITE_SOCK_STREAM, 0);
    int one = 1;
    if (fd < 0)
        return -1;
    (void)kite_setsockopt(s, fd, KITE_IPPROTO_TCP, KITE_TCP_NODELAY, &one, sizeof one);
    if (kite_connect(s, fd, (const struct kite_sockaddr *)&peer->sa, sizeof peer->sa) != 0) {
        (void)kite_close(s, fd);
        return -1;
    }
    return fd;
}

static double sock_rtt(struct kite_sockets *s, const struct config *cfg)
{
    int fd = sock_connect(s, &cfg->echo);
    bool ok = fd >= 0;
    for (unsigned i = 0; ok && i < cfg->rtts; i++) {
        double t0 = now_us();
        ok = kite_send(s, fd, data, MSG, 0) == (ssize_t)MSG &&
             kite_recv(s, fd, sink, MSG, KITE_MSG_WAITALL) == (ssize_t)MSG;
        samples[i] = now_us() - t0;
    }
    if (fd >= 0)
        (void)kite_close(s, fd);
    return ok ? median(samples, cfg->rtts) : -1;
}

static double sock_send(struct kite_sockets *s, const struct config *cfg)
{
    int fd = sock_connect(s, &cfg->sink);
    if (fd < 0)
        return -1;
    double t0 = now_us();
    bool ok = true;
    for (uint64_t sent = 0; ok && sent < cfg->bytes;) {
        uint64_t left = cfg->bytes - sent;
        ssize_t n = kite_send(s, fd, data, left < CHUNK ? (size_t)left : CHUNK, 0);
        ok = n > 0;
        sent += ok ? (uint64_t)n : 0;
    }
    struct kite_linger lg = {.l_onoff = 1, .l_linger = 60}; /* close waits for the ACKs */
    (void)kite_setsockopt(s, fd, KITE_SOL_SOCKET, KITE_SO_LINGER, &lg, sizeof lg);
    (void)kite_close(s, fd);
    double t1 = now_us();
    return ok ? (double)cfg->bytes * 8.0 / (t1 - t0) : -1;
}

static double sock_recv(struct kite_sockets *s, const struct config *cfg)
{
    int fd = sock_connect(s, &cfg->source);
    if (fd < 0)
        return -1;
    double t0 = now_us();
    uint64_t got = 0;
    ssize_t n;
    while ((n = kite_recv(s, fd, sink, CHUNK, 0)) > 0)
        got += (uint64_t)n;
    double t1 = now_us();
    (void)kite_close(s, fd);
    return n == 0 && got == cfg->bytes ? (double)got * 8.0 / (t1 - t0) : -1;
}

/* ---- Command line and the rounds ------------------------------------------------------- */

static bool parse_peer(const char *text, struct peer *p)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    struct in_addr a;
    if (colon == NULL || (size_t)(colon - text) >= sizeof host)
        return false;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    long port = strtol(colon + 1, NULL, 10);
    if (inet_pton(AF_INET, host, &a) != 1 || port <= 0 || port > 65535)
        return false;
    struct kite_addr ip = KITE_ADDR_V4(ntohl(a.s_addr));
    p->ip = ip;
    p->port = (uint16_t)port;
    p->sa = (struct kite_sockaddr_in){
        .sin_family = KITE_AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = {a.s_addr}};
    return true;
}

static bool parse(int argc, char **argv, struct config *cfg)
{
    unsigned have = 0;
    *cfg = (struct config){.bytes = 64ull * MIB, .rtts = 5000, .rounds = 3, .only = -1};
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *o = argv[i], *v = argv[i + 1];
        if (strcmp(o, "--echo") == 0)
            have |= parse_peer(v, &cfg->echo) ? 1u : 0u;
        else if (strcmp(o, "--sink") == 0)
            have |= parse_peer(v, &cfg->sink) ? 2u : 0u;
        else if (strcmp(o, "--source") == 0)
            have |= parse_peer(v, &cfg->source) ? 4u : 0u;
        else if (strcmp(o, "-n") == 0)
            cfg->bytes = strtoull(v, NULL, 10) * MIB;
        else if (strcmp(o, "-r") == 0)
            cfg->rtts = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(o, "-R") == 0)
            cfg->rounds = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(o, "--only") == 0)
            cfg->only = strcmp(v, "rtt") == 0    ? JOB_RTT
                        : strcmp(v, "send") == 0 ? JOB_SEND
                                                 : JOB_RECV;
        else if (strcmp(o, "--api") == 0)
            cfg->api = strcmp(v, "raw") == 0 ? 1 : 2;
        else
            return false;
    }
    return have == 7u && cfg->bytes > 0 && cfg->rtts > 0 && cfg->rtts <= RTT_MAX &&
           cfg->rounds > 0 && cfg->rounds <= ROUNDS_MAX && argc % 2 == 1;
}

static const char *const measure_names[] = {"rtt", "send", "recv"};

int main(int argc, char **argv)
{
    struct kite_example_net *net = kite_example_net_start(&argc, argv);
    struct config cfg;
    if (net == NULL)
        return 2;
    if (!parse(argc, argv, &cfg)) {
        fprintf(stderr,
                "usage: bench_sockets_tap %s --echo IP:PORT --sink IP:PORT "
                "--source IP:PORT [-n MiB] [-r round_trips] [-R rounds]\n",
                kite_example_net_usage());
        return kite_example_net_stop(net, 2);
    }
    const char *mode = KITE_TCPIP_CORE_LOCKING ? "core-lock" : "message";
    struct kite_tcpip *t = kite_example_net_tcpip(net);
    struct kite_sockets *s = kite_example_net_sockets(net);
    memset(data, 'k', sizeof data);
    double raw[3][ROUNDS_MAX], sock[3][ROUNDS_MAX];
    bool ok = true;
    for (unsigned round = 0; ok && round < cfg.rounds; round++) {
        for (unsigned m = 0; ok && m < 3; m++) {
            if (cfg.only >= 0 && m != (unsigned)cfg.only) {
                raw[m][round] = sock[m][round] = 1; /* not measured */
                continue;
            }
            raw[m][round] = cfg.api == 2 ? 1 : raw_run(t, &cfg, (enum job)m);
            sock[m][round] = cfg.api == 1    ? 1
                             : m == JOB_RTT  ? sock_rtt(s, &cfg)
                             : m == JOB_SEND ? sock_send(s, &cfg)
                                             : sock_recv(s, &cfg);
            ok = raw[m][round] > 0 && sock[m][round] > 0;
            printf("round %u %-9s %-4s raw %10.1f sockets %10.1f %s\n", round + 1, mode,
                   measure_names[m], raw[m][round], sock[m][round], m == JOB_RTT ? "us" : "Mbit/s");
            fflush(stdout);
        }
    }
    for (unsigned m = 0; ok && m < 3; m++) {
        double r = median(raw[m], cfg.rounds), k = median(sock[m], cfg.rounds);
        if (m == JOB_RTT)
            printf(
                "%-9s rtt  raw %8.1f us      sockets %8.1f us      ratio %5.2fx (target <= 1.3x)\n",
                mode, r, k, k / r);
        else
            printf("%-9s %-4s raw %8.0f Mbit/s  sockets %8.0f Mbit/s  ratio %5.1f %% (target >= 85 "
                   "%%)\n",
                   mode, measure_names[m], r, k, 100.0 * k / r);
    }
    if (!ok)
        fprintf(stderr, "bench_sockets_tap: a run failed\n");
    return kite_example_net_stop(net, ok ? 0 : 1);
}
