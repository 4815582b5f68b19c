/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The socket layer over the simulated lossy link, on virtual time (issue 7).
 *
 * Two stacks A (192.0.2.1) and B (192.0.2.2), each owned by its own stack
 * thread whose clock is the simulation's virtual clock (cfg.clock). Frames
 * go through the simulated links of port/drivers/sim.c, one link per
 * direction so each direction has its own seeded fault generator:
 *
 *   A.netif --link_ab--> sink_b  ~~kite_tcpip_input_frame~~> B's stack thread
 *   B.netif --link_ba--> sink_a  ~~kite_tcpip_input_frame~~> A's stack thread
 *
 * The sinks are netifs of a third stack that only the driver (this test's
 * main thread) touches: kite_simlink_deliver hands a due frame to a sink,
 * the sink's capture tap copies it and posts it to the owning stack thread,
 * so only a stack's own thread ever touches that stack. A's and B's netif
 * output runs on their stack threads and enters the links under one mutex.
 *
 * Virtual time moves only when every application thread is blocked: each
 * application thread announces the blocking socket call it is about to make
 * (socket, readiness it waits for, the virtual time its timeout ends) and is
 * counted as blocked when its netconn has a waiter linked, the readiness is
 * not there and the timeout is not due. The driver then delivers the frames
 * due now, waits until both stack threads have processed them (a call
 * through each mailbox), and, once everyone is blocked, moves the clock to
 * the earliest deadline of both stacks and both links and wakes the stack
 * threads. A timeout therefore ends at exactly its virtual time, whatever
 * the machine's speed.
 *
 * If some thread stays "not blocked" without any progress for a second of
 * real time (a write refused by the pool while the send buffer has room
 * looks ready but waits for an ACK) the driver moves time anyway and counts
 * it; that can only cost determinism of the timing, not correctness.
 *
 * What is exact and what is not: a timeout's end is exact (asserted to the
 * millisecond). A transfer's virtual duration varies a little from run to
 * run with the same seeds (7.0-10.6 s for the 5 % case): within one virtual
 * millisecond the order in which a stack thread meets a frame and an
 * application call is the OS scheduler's, which changes what is sent (one
 * ACK or two), and so which copies the link's generator drops. Hence the
 * checks: byte-exact data (FNV-1a of both ends), losses happened, and a
 * bound on virtual time far above what was measured, far below a stall.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kite/arp.h"
#include "kite/byteorder.h"
#include "kite/port/sim.h"
#include "kite/sockets.h"
#include "kite/stack.h"
#include "kite/tcpip.h"
#include "kite/wire/checksum.h"
#include "testutil.h"

#define START_MS 1000u
#define LIMIT_MS (3600u * 1000u) /* an hour of virtual time at most */
#define MAX_APPS 2
#define FORCE_AFTER_NS 1000000000L /* a second of real time without progress */

struct host {
    struct kite_stack stack;
    struct kite_netif netif;
    struct kite_tcpip tcpip;
    struct kite_sockets socks;
    kite_netif_output_fn sim_output; /* the link's driver output, called under the wire lock */
    uint32_t ip;
    struct world *w;
};

enum { APP_RUNNING, APP_BLOCKING, APP_DONE };

struct app {
    int state;
    struct kite_netconn *conn;
    uint8_t want;
    kite_time_ms until;
};

struct world {
    _Atomic kite_time_ms now;
    pthread_mutex_t wire; /* both links and the sink stack */
    struct kite_simlink *link_ab, *link_ba;
    struct kite_stack sinks;
    struct kite_netif sink_a, sink_b;
    struct host a, b;
    atomic_uint in_flight;  /* frames posted to a stack thread, not yet done */
    atomic_uint mbox_drops; /* frames dropped: the stack thread's mailbox was full */
    pthread_mutex_t apps_lock;
    struct app apps[MAX_APPS];
    unsigned n_apps;
    unsigned long gen;   /* bumped on every application state change */
    unsigned forced;     /* time moved without everyone provably blocked */
    unsigned long steps; /* clock moves */
};

/* ---- virtual clock and the driver's view of application threads ---------------------------- */

static kite_time_ms vclock(void *ctx)
{
    struct world *w = ctx;
    return atomic_load(&w->now);
}

static struct kite_netconn *conn_of(struct host *h, int fd)
{
    return h->socks.socks[fd - KITE_SOCKET_OFFSET].conn;
}

/* The application thread app is about to block on fd waiting for want, at
 * most timeout_ms (0: no timeout). */
static void app_block(struct world *w, unsigned app, struct host *h, int fd, uint8_t want,
                      uint32_t timeout_ms)
{
    pthread_mutex_lock(&w->apps_lock);
    struct app *a = &w->apps[app];
    a->conn = conn_of(h, fd);
    a->want = want;
    a->until = timeout_ms > 0 ? atomic_load(&w->now) + timeout_ms : KITE_TIME_NEVER;
    a->state = APP_BLOCKING;
    w->gen++;
    pthread_mutex_unlock(&w->apps_lock);
}

static void app_state(struct world *w, unsigned app, int state)
{
    pthread_mutex_lock(&w->apps_lock);
    w->apps[app].state = state;
    w->gen++;
    pthread_mutex_unlock(&w->apps_lock);
}

/* ---- the wire ----------------------------------------------------------------------------------
 */

struct posted {
    struct kite_tcpip_frame frame;
    struct world *w;
    uint8_t data[];
};

static void frame_done(void *ctx, struct kite_tcpip_frame *frame, enum kite_err err)
{
    struct posted *p = ctx;
    (void)frame;
    (void)err; /* no pool block: a loss like any other */
    atomic_fetch_sub(&p->w->in_flight, 1u);
    free(p);
}

/* A sink received a frame for host h (driver thread, inside kite_simlink_deliver). */
static void sink_tap(void *ctx, const struct kite_netif *netif, const struct kite_pbuf *p,
                     enum kite_capture_dir dir)
{
    struct host *h = ctx;
    (void)netif;
    if (dir != KITE_CAPTURE_IN)
        return;
    struct posted *post = malloc(sizeof *post + p->tot_len);
    assert_non_null(post);
    post->w = h->w;
    uint16_t len = kite_pbuf_copy_out(p, post->data, p->tot_len, 0);
    post->frame = (struct kite_tcpip_frame){
        .netif = &h->netif, .data = post->data, .len = len, .done = frame_done, .ctx = post};
    /* A full mailbox drops the frame, as a full receive ring does: waiting
     * for it here, with the wire locked, would deadlock against a stack
     * thread sending (locked_output) before it drains its mailbox. */
    atomic_fetch_add(&h->w->in_flight, 1u);
    if (kite_tcpip_input_frame(&h->tcpip, &post->frame) != KITE_ERR_OK) {
        atomic_fetch_add(&h->w->mbox_drops, 1u);
        atomic_fetch_sub(&h->w->in_flight, 1u);
        free(post);
    }
}

/* A's and B's driver output, on their stack threads. */
static enum kite_err locked_output(struct kite_netif *netif, struct kite_pbuf *p)
{
    struct host *h = KITE_CONTAINER_OF(netif, struct host, netif);
    pthread_mutex_lock(&h->w->wire);
    enum kite_err err = h->sim_output(netif, p);
    pthread_mutex_unlock(&h->w->wire);
    return err;
}

/* ---- the driver --------------------------------------------------------------------------------
 */

static void noop(void *ctx)
{
    (void)ctx;
}

struct deadline_q {
    struct kite_stack *stack;
    kite_time_ms at;
};

static void read_deadline(void *ctx)
{
    struct deadline_q *q = ctx;
    q->at = kite_stack_next_deadline(q->stack);
}

static kite_time_ms host_deadline(struct host *h)
{
    struct deadline_q q = {&h->stack, KITE_TIME_NEVER};
    assert_int_equal(kite_tcpip_call(&h->tcpip, read_deadline, &q), KITE_ERR_OK);
    return q.at;
}

/* Deliver what is due now and wait until both stack threads have run it. */
static void settle(struct world *w)
{
    kite_time_ms now = atomic_load(&w->now);
    for (unsigned round = 0; round < 64; round++) {
        pthread_mutex_lock(&w->wire);
        kite_stack_poll(&w->sinks, now);
        kite_simlink_deliver(w->link_ab, now);
        kite_simlink_deliver(w->link_ba, now);
        bool more = kite_simlink_next_deadline(w->link_ab) <= now ||
                    kite_simlink_next_deadline(w->link_ba) <= now;
        pthread_mutex_unlock(&w->wire);
        while (atomic_load(&w->in_flight) != 0) {
            struct timespec ns = {0, 20000};
            nanosleep(&ns, NULL);
        }
        /* Everything posted before these calls has run (one mailbox each). */
        (void)kite_tcpip_call(&w->a.tcpip, noop, NULL);
        (void)kite_tcpip_call(&w->b.tcpip, noop, NULL);
        if (!more)
            return;
    }
}

/* Every application thread blocked (or done)? Holds apps_lock throughout,
 * so none changes state (or closes its socket) meanwhile. */
static bool all_blocked(struct world *w, bool *all_done, unsigned long *gen)
{
    bool blocked = true;
    *all_done = true;
    pthread_mutex_lock(&w->apps_lock);
    *gen = w->gen;
    kite_time_ms now = atomic_load(&w->now);
    for (unsigned i = 0; i < w->n_apps && blocked; i++) {
        struct app *a = &w->apps[i];
        if (a->state != APP_DONE)
            *all_done = false;
        if (a->state == APP_RUNNING)
            blocked = false;
        else if (a->state == APP_BLOCKING)
            blocked = now < a->until && kite_netconn_waiting(a->conn) > 0 &&
                      (kite_netconn_events(a->conn) & (a->want | KITE_NC_ERROR)) == 0;
    }
    pthread_mutex_unlock(&w->apps_lock);
    return blocked;
}

static long ns_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000000000L + (t.tv_nsec - t0->tv_nsec);
}

/*
 * Run until every application thread is done and, with idle_too, until
 * nothing is scheduled any more (connections closed, TIME_WAIT over).
 */
static void drive(struct world *w, bool idle_too)
{
    struct timespec stuck_since;
    unsigned long last_gen = 0;
    clock_gettime(CLOCK_MONOTONIC, &stuck_since);
    for (;;) {
        settle(w);
        bool done;
        unsigned long gen;
        if (!all_blocked(w, &done, &gen)) {
            if (gen != last_gen) {
                last_gen = gen;
                clock_gettime(CLOCK_MONOTONIC, &stuck_since);
            }
            if (ns_since(&stuck_since) < FORCE_AFTER_NS) {
                struct timespec ns = {0, 50000};
                nanosleep(&ns, NULL);
                continue;
            }
            w->forced++;
        }
        clock_gettime(CLOCK_MONOTONIC, &stuck_since);
        if (done && !idle_too)
            return;
        kite_time_ms next = host_deadline(&w->a);
        kite_time_ms d = host_deadline(&w->b);
        next = d < next ? d : next;
        pthread_mutex_lock(&w->wire);
        d = kite_simlink_next_deadline(w->link_ab);
        next = d < next ? d : next;
        d = kite_simlink_next_deadline(w->link_ba);
        next = d < next ? d : next;
        d = kite_stack_next_deadline(&w->sinks);
        next = d < next ? d : next;
        pthread_mutex_unlock(&w->wire);
        if (next == KITE_TIME_NEVER) {
            if (done)
                return; /* nothing left to happen */
            fail_msg("every thread blocked and nothing scheduled: a deadlock at %llu ms",
                     (unsigned long long)atomic_load(&w->now));
        }
        assert_true(next < START_MS + LIMIT_MS);
        if (next > atomic_load(&w->now)) {
            atomic_store(&w->now, next);
            w->steps++;
        }
        kite_tcpip_wake(&w->a.tcpip);
        kite_tcpip_wake(&w->b.tcpip);
    }
}

/* ---- set-up and tear-down
 * ------------------------------------------------------------------------ */

static void host_init(struct world *w, struct host *h, unsigned i, struct kite_simlink *out,
                      uint64_t seed)
{
    h->w = w;
    h->ip = KITE_IP4(192, 0, 2, i + 1u);
    struct kite_stack_config scfg = {.seed = seed * 31u + i + 1u, .now = START_MS};
    assert_int_equal(kite_stack_init(&h->stack, &scfg), KITE_ERR_OK);
    const uint8_t mac[6] = {0x02, 0, 0, 0, 0x01, (uint8_t)(i + 1u)};
    assert_int_equal(kite_simlink_add_netif(out, &h->stack, &h->netif, "sim0", mac), KITE_ERR_OK);
    assert_int_equal(kite_netif_set_ipv4(&h->netif, h->ip, 24, 0), KITE_ERR_OK);
    h->sim_output = h->netif.output;
    h->netif.output = locked_output;
}

static void world_init(struct world *w, const struct kite_simlink_config *cfg_in, uint64_t seed)
{
    memset(w, 0, sizeof *w);
    atomic_store(&w->now, START_MS);
    pthread_mutex_init(&w->wire, NULL);
    pthread_mutex_init(&w->apps_lock, NULL);
    struct kite_simlink_config cfg = *cfg_in;
    cfg.seed = seed;
    w->link_ab = kite_simlink_new(&cfg);
    cfg.seed = seed ^ 0x5bd1e995u;
    w->link_ba = kite_simlink_new(&cfg);
    assert_non_null(w->link_ab);
    assert_non_null(w->link_ba);
    host_init(w, &w->a, 0, w->link_ab, seed);
    host_init(w, &w->b, 1, w->link_ba, seed);
    /* Static ARP: the sinks' stack must not answer for anyone. */
    const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0x01, 1}, mac_b[6] = {0x02, 0, 0, 0, 0x01, 2};
    assert_int_equal(kite_arp_add_static(&w->a.netif, w->b.ip, mac_b), KITE_ERR_OK);
    assert_int_equal(kite_arp_add_static(&w->b.netif, w->a.ip, mac_a), KITE_ERR_OK);
    struct kite_stack_config scfg = {.seed = seed, .now = START_MS};
    assert_int_equal(kite_stack_init(&w->sinks, &scfg), KITE_ERR_OK);
    const uint8_t sa[6] = {0x02, 0, 0, 0, 0x02, 1}, sb[6] = {0x02, 0, 0, 0, 0x02, 2};
    assert_int_equal(kite_simlink_add_netif(w->link_ba, &w->sinks, &w->sink_a, "sinka", sa),
                     KITE_ERR_OK);
    assert_int_equal(kite_simlink_add_netif(w->link_ab, &w->sinks, &w->sink_b, "sinkb", sb),
                     KITE_ERR_OK);
    kite_netif_set_capture(&w->sink_a, sink_tap, &w->a);
    kite_netif_set_capture(&w->sink_b, sink_tap, &w->b);
    struct kite_tcpip_config tcfg = {.clock = vclock, .clock_ctx = w};
    assert_int_equal(kite_tcpip_start(&w->a.tcpip, &w->a.stack, &tcfg), KITE_ERR_OK);
    assert_int_equal(kite_tcpip_start(&w->b.tcpip, &w->b.stack, &tcfg), KITE_ERR_OK);
    assert_int_equal(kite_sockets_init(&w->a.socks, &w->a.tcpip), 0);
    assert_int_equal(kite_sockets_init(&w->b.socks, &w->b.tcpip), 0);
}

/* Every socket closed: run until nothing is scheduled (TIME_WAIT over), stop
 * the threads, and check every pool before deinit. */
static void world_fini(struct world *w)
{
    kite_sockets_deinit(&w->a.socks);
    kite_sockets_deinit(&w->b.socks);
    w->n_apps = 0;
    drive(w, true);
    kite_tcpip_stop(&w->a.tcpip);
    kite_tcpip_stop(&w->b.tcpip);
    kite_simlink_detach(w->link_ab, &w->a.netif);
    kite_simlink_detach(w->link_ba, &w->b.netif);
    kite_simlink_detach(w->link_ab, &w->sink_b);
    kite_simlink_detach(w->link_ba, &w->sink_a);
    kite_netif_remove(&w->a.netif);
    kite_netif_remove(&w->b.netif);
    kite_netif_remove(&w->sink_a);
    kite_netif_remove(&w->sink_b);
    kt_assert_pools_empty(&w->a.stack);
    kt_assert_pools_empty(&w->b.stack);
    kt_assert_pools_empty(&w->sinks);
    kite_stack_deinit(&w->a.stack);
    kite_stack_deinit(&w->b.stack);
    kite_stack_deinit(&w->sinks);
    kite_simlink_free(w->link_ab);
    kite_simlink_free(w->link_ba);
    pthread_mutex_destroy(&w->wire);
    pthread_mutex_destroy(&w->apps_lock);
}

static struct kite_sockaddr_in addr_of(uint32_t ip, uint16_t port)
{
    struct kite_sockaddr_in a = {
        .sin_family = KITE_AF_INET, .sin_port = kite_htons(port), .sin_addr = {kite_htonl(ip)}};
    return a;
}

#define SA(a) ((struct kite_sockaddr *)(void *)&(a))

/* ---- bulk transfer ------------------------------------------------------------------------------
 */

#define BULK_PORT 5001
#define BULK_BYTES (1024u * 1024u)
#define CHUNK 16384u

static uint8_t pattern(uint64_t i)
{
    return (uint8_t)((i * 2654435761u) >> 13);
}

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3u;
    return h;
}

struct bulk {
    struct world *w;
    int listener;
    uint64_t sent_hash, recv_hash, received;
    kite_time_ms started, finished;
    int err;
};

static void *bulk_sender(void *arg)
{
    struct bulk *b = arg;
    struct world *w = b->w;
    struct host *h = &w->a;
    uint8_t *buf = malloc(CHUNK);
    int fd = kite_socket(&h->socks, KITE_AF_INET, KITE_SOCK_STREAM, 0);
    if (buf == NULL || fd < 0) {
        b->err = errno;
        app_state(w, 0, APP_DONE);
        free(buf);
        return NULL;
    }
    struct kite_sockaddr_in to = addr_of(w->b.ip, BULK_PORT);
    app_block(w, 0, h, fd, KITE_NC_WRITABLE, 0);
    int r = kite_connect(&h->socks, fd, SA(to), sizeof to);
    app_state(w, 0, APP_RUNNING);
    b->started = atomic_load(&w->now);
    uint64_t hash = 0xcbf29ce484222325u, off = 0;
    while (r == 0 && off < BULK_BYTES) {
        size_t n = BULK_BYTES - off < CHUNK ? BULK_BYTES - off : CHUNK;
        for (size_t i = 0; i < n; i++)
            buf[i] = pattern(off + i);
        size_t done = 0;
        while (done < n) {
            app_block(w, 0, h, fd, KITE_NC_WRITABLE, 0);
            ssize_t k = kite_send(&h->socks, fd, buf + done, n - done, 0);
            app_state(w, 0, APP_RUNNING);
            if (k <= 0) {
                b->err = errno;
                r = -1;
                break;
            }
            done += (size_t)k;
        }
        hash = fnv1a(hash, buf, done);
        off += done;
    }
    if (r != 0 && b->err == 0)
        b->err = errno;
    b->sent_hash = hash;
    (void)kite_close(&h->socks, fd);
    free(buf);
    app_state(w, 0, APP_DONE);
    return NULL;
}

static void *bulk_receiver(void *arg)
{
    struct bulk *b = arg;
    struct world *w = b->w;
    struct host *h = &w->b;
    uint8_t *buf = malloc(CHUNK);
    app_block(w, 1, h, b->listener, KITE_NC_READABLE, 0);
    int fd = kite_accept(&h->socks, b->listener, NULL, NULL);
    app_state(w, 1, APP_RUNNING);
    uint64_t hash = 0xcbf29ce484222325u;
    while (fd >= 0 && buf != NULL) {
        app_block(w, 1, h, fd, KITE_NC_READABLE, 0);
        ssize_t n = kite_recv(&h->socks, fd, buf, CHUNK, 0);
        app_state(w, 1, APP_RUNNING);
        if (n <= 0) {
            if (n < 0)
                b->err = errno;
            break;
        }
        hash = fnv1a(hash, buf, (size_t)n);
        b->received += (uint64_t)n;
    }
    b->recv_hash = hash;
    b->finished = atomic_load(&w->now);
    if (fd >= 0)
        (void)kite_close(&h->socks, fd);
    free(buf);
    app_state(w, 1, APP_DONE);
    return NULL;
}

static void bulk_case(uint32_t loss_ppm, uint64_t seed)
{
    struct world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    struct kite_simlink_config cfg = {.loss_ppm = loss_ppm,
                                      .duplicate_ppm = 10000,
                                      .reorder_ppm = 10000,
                                      .delay_ms = 5,
                                      .jitter_ms = 2,
                                      .reorder_delay_ms = 10};
    world_init(w, &cfg, seed);
    struct bulk b = {.w = w};
    b.listener = kite_socket(&w->b.socks, KITE_AF_INET, KITE_SOCK_STREAM, 0);
    assert_true(b.listener >= 0);
    struct kite_sockaddr_in any = addr_of(0, BULK_PORT);
    assert_int_equal(kite_bind(&w->b.socks, b.listener, SA(any), sizeof any), 0);
    assert_int_equal(kite_listen(&w->b.socks, b.listener, 1), 0);
    w->n_apps = 2;
    w->apps[0].state = w->apps[1].state = APP_RUNNING;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_t th[2];
    assert_int_equal(pthread_create(&th[0], NULL, bulk_sender, &b), 0);
    assert_int_equal(pthread_create(&th[1], NULL, bulk_receiver, &b), 0);
    drive(w, false);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    double wall = (double)ns_since(&t0) / 1e9;
    double virt = (double)(b.finished - b.started) / 1000.0;
    const struct kite_simlink_stats *ab = kite_simlink_stats(w->link_ab);
    const struct kite_simlink_stats *ba = kite_simlink_stats(w->link_ba);
    printf("bulk %u KiB at %.1f %% loss (seed %llu): %.2f s virtual (%.0f kB/s), %.2f s wall, "
           "%lu clock moves, %u forced; A->B %u sent %u lost %u dup %u reord, "
           "B->A %u sent %u lost; %u dropped at a full mailbox\n",
           BULK_BYTES / 1024u, loss_ppm / 10000.0, (unsigned long long)seed, virt,
           (double)BULK_BYTES / 1000.0 / (virt > 0 ? virt : 1), wall, w->steps, w->forced, ab->sent,
           ab->lost, ab->duplicated, ab->reordered, ba->sent, ba->lost,
           atomic_load(&w->mbox_drops));
    assert_int_equal(b.err, 0);
    assert_int_equal(b.received, BULK_BYTES);
    assert_true(b.recv_hash == b.sent_hash);
    assert_true(ab->lost > 0 || loss_ppm == 0);
    /* A stall or a collapse shows as time: 2.4 s lossless and 7.5-10.6 s at 5 %
     * were measured (8 KiB windows, 10-14 ms round trips). */
    /* The bound scales with the receive window a profile gives (min_ram: 1072 bytes). */
    double window_slack = KITE_TCP_RCV_BUF < 8192u ? 8192.0 / KITE_TCP_RCV_BUF : 1.0;
    assert_true(virt < (loss_ppm == 0 ? 10.0 : 60.0) * window_slack);
    assert_int_equal(kite_close(&w->b.socks, b.listener), 0);
    world_fini(w);
    free(w);
}

static void bulk_lossless(void **state)
{
    (void)state;
    bulk_case(0, 1);
}

static void bulk_5pct_loss(void **state)
{
    (void)state;
    bulk_case(50000, 7);
}

/* ---- SO_RCVTIMEO on virtual time
 * ------------------------------------------------------------------ */

struct timed {
    struct world *w;
    int listener, udp, tcp, client;
    kite_time_ms t_udp0, t_udp1, t_tcp0, t_tcp1;
    ssize_t r_udp, r_tcp;
    int e_udp, e_tcp;
};

#define UDP_TIMEOUT_MS 2500u
#define TCP_TIMEOUT_MS 1700u

static void set_rcvtimeo(struct kite_sockets *s, int fd, unsigned ms)
{
    struct kite_timeval tv = {(long)(ms / 1000u), (long)(ms % 1000u) * 1000};
    assert_int_equal(kite_setsockopt(s, fd, KITE_SOL_SOCKET, KITE_SO_RCVTIMEO, &tv, sizeof tv), 0);
}

/* App 0, on A: connect over the lossy link (blocking), then done. */
static void *timed_client(void *arg)
{
    struct timed *t = arg;
    struct world *w = t->w;
    struct kite_sockaddr_in to = addr_of(w->b.ip, 6001);
    app_block(w, 0, &w->a, t->client, KITE_NC_WRITABLE, 0);
    int r = kite_connect(&w->a.socks, t->client, SA(to), sizeof to);
    app_state(w, 0, APP_RUNNING);
    if (r != 0)
        t->e_tcp = errno;
    app_state(w, 0, APP_DONE);
    return NULL;
}

/* App 1, on B: accept, then a UDP and a TCP receive that both time out. */
static void *timed_receiver(void *arg)
{
    struct timed *t = arg;
    struct world *w = t->w;
    struct host *h = &w->b;
    char buf[64];
    app_block(w, 1, h, t->listener, KITE_NC_READABLE, 0);
    t->tcp = kite_accept(&h->socks, t->listener, NULL, NULL);
    app_state(w, 1, APP_RUNNING);
    if (t->tcp < 0) {
        t->e_tcp = errno;
        app_state(w, 1, APP_DONE);
        return NULL;
    }
    set_rcvtimeo(&h->socks, t->tcp, TCP_TIMEOUT_MS);
    t->t_udp0 = atomic_load(&w->now);
    app_block(w, 1, h, t->udp, KITE_NC_READABLE, UDP_TIMEOUT_MS);
    t->r_udp = kite_recv(&h->socks, t->udp, buf, sizeof buf, 0);
    t->e_udp = errno;
    app_state(w, 1, APP_RUNNING);
    t->t_udp1 = atomic_load(&w->now);
    t->t_tcp0 = t->t_udp1;
    app_block(w, 1, h, t->tcp, KITE_NC_READABLE, TCP_TIMEOUT_MS);
    t->r_tcp = kite_recv(&h->socks, t->tcp, buf, sizeof buf, 0);
    t->e_tcp = errno;
    app_state(w, 1, APP_RUNNING);
    t->t_tcp1 = atomic_load(&w->now);
    app_state(w, 1, APP_DONE);
    return NULL;
}

/* SO_RCVTIMEO ends at exactly its virtual time, however slow the machine:
 * virtual time moves only while the receiver is blocked, and to the earliest
 * deadline, which the timeout's own stack timer is at the end. */
static void rcvtimeo_on_virtual_time(void **state)
{
    (void)state;
    struct world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    struct kite_simlink_config cfg = {.loss_ppm = 50000, .delay_ms = 5, .jitter_ms = 2};
    world_init(w, &cfg, 3);
    struct timed t = {.w = w};
    t.listener = kite_socket(&w->b.socks, KITE_AF_INET, KITE_SOCK_STREAM, 0);
    struct kite_sockaddr_in any = addr_of(0, 6001);
    assert_int_equal(kite_bind(&w->b.socks, t.listener, SA(any), sizeof any), 0);
    assert_int_equal(kite_listen(&w->b.socks, t.listener, 1), 0);
    t.udp = kite_socket(&w->b.socks, KITE_AF_INET, KITE_SOCK_DGRAM, 0);
    struct kite_sockaddr_in u = addr_of(0, 6002);
    assert_int_equal(kite_bind(&w->b.socks, t.udp, SA(u), sizeof u), 0);
    set_rcvtimeo(&w->b.socks, t.udp, UDP_TIMEOUT_MS);
    t.client = kite_socket(&w->a.socks, KITE_AF_INET, KITE_SOCK_STREAM, 0);
    assert_true(t.listener >= 0 && t.udp >= 0 && t.client >= 0);
    w->n_apps = 2;
    w->apps[0].state = w->apps[1].state = APP_RUNNING;
    pthread_t th[2];
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(pthread_create(&th[0], NULL, timed_client, &t), 0);
    assert_int_equal(pthread_create(&th[1], NULL, timed_receiver, &t), 0);
    drive(w, false);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    printf("SO_RCVTIMEO: UDP %llu ms, TCP %llu ms of virtual time (set %u, %u), %.3f s wall, "
           "%u forced\n",
           (unsigned long long)(t.t_udp1 - t.t_udp0), (unsigned long long)(t.t_tcp1 - t.t_tcp0),
           UDP_TIMEOUT_MS, TCP_TIMEOUT_MS, (double)ns_since(&t0) / 1e9, w->forced);
    assert_true(t.tcp >= 0);
    assert_int_equal(t.r_udp, -1);
    assert_int_equal(t.e_udp, EAGAIN);
    assert_int_equal(t.r_tcp, -1);
    assert_int_equal(t.e_tcp, EAGAIN);
    assert_int_equal(t.t_udp1 - t.t_udp0, UDP_TIMEOUT_MS);
    assert_int_equal(t.t_tcp1 - t.t_tcp0, TCP_TIMEOUT_MS);
    assert_int_equal(w->forced, 0);
    assert_int_equal(kite_close(&w->b.socks, t.udp), 0);
    assert_int_equal(kite_close(&w->b.socks, t.tcp), 0);
    assert_int_equal(kite_close(&w->a.socks, t.client), 0);
    assert_int_equal(kite_close(&w->b.socks, t.listener), 0);
    world_fini(w);
    free(w);
}

/* ---- Raw IP: ping through a SOCK_RAW socket over the faulty link -----------------------------
 *
 * App 0 on A sends echo requests (RFC 792) built by hand through a raw ICMP
 * socket; B's stack answers them. Each wait for a reply ends at a virtual
 * timeout. Lost, duplicated, reordered and corrupted frames must cost
 * replies, never correctness. A frame corrupted in its IP header is dropped
 * (header checksum); one corrupted behind it still reaches the raw socket, as
 * on Linux (raw delivery comes before the protocol's own checks; ping
 * verifies the ICMP checksum itself), so every reply the checksum rejects
 * must be explained by a corruption on the way back. Without raw IP
 * (KITE_RAW 0, the min_ram profile) the socket is refused instead. */

#define PINGS 40u
#define PING_ID 0x4b49u
#define PING_WAIT_MS 300u

struct pinger {
    struct world *w;
    unsigned replies, dup_replies, bad;
    uint8_t seen[PINGS];
    int err;
};

static size_t echo_request(uint8_t *pkt, uint16_t seq)
{
    memset(pkt, 0, 8);
    pkt[0] = 8; /* echo request */
    pkt[4] = (uint8_t)(PING_ID >> 8);
    pkt[5] = (uint8_t)PING_ID;
    pkt[6] = (uint8_t)(seq >> 8);
    pkt[7] = (uint8_t)seq;
    for (unsigned i = 8; i < 56; i++)
        pkt[i] = (uint8_t)(seq + i);
    uint16_t ck = kite_cksum(pkt, 56);
    pkt[2] = (uint8_t)(ck >> 8);
    pkt[3] = (uint8_t)ck;
    return 56;
}

/* One packet the raw socket gave (IP header first): count it. */
static void take_reply(struct pinger *p, const uint8_t *pkt, size_t n)
{
    size_t ihl = n > 0 ? (size_t)(pkt[0] & 0x0fu) * 4u : 0;
    if (n < ihl + 56 || ihl < 20) {
        p->bad++;
        return;
    }
    const uint8_t *icmp = pkt + ihl;
    if (icmp[0] == 8) /* (our own request is not looped back to us: another host) */
        return;
    unsigned seq = ((unsigned)icmp[6] << 8) | icmp[7];
    unsigned id = ((unsigned)icmp[4] << 8) | icmp[5];
    if (icmp[0] != 0 || id != PING_ID || seq >= PINGS || kite_cksum(icmp, n - ihl) != 0) {
        p->bad++;
        return;
    }
    if (p->seen[seq]++)
        p->dup_replies++;
    else
        p->replies++;
}

static void *pinger(void *arg)
{
    struct pinger *p = arg;
    struct world *w = p->w;
    struct host *h = &w->a;
    int fd = kite_socket(&h->socks, KITE_AF_INET, KITE_SOCK_RAW, KITE_IPPROTO_ICMP);
    if (fd < 0) {
        p->err = errno;
        app_state(w, 0, APP_DONE);
        return NULL;
    }
    set_rcvtimeo(&h->socks, fd, PING_WAIT_MS);
    struct kite_sockaddr_in to = addr_of(w->b.ip, 0);
    uint8_t pkt[128];
    for (uint16_t seq = 0; seq < PINGS; seq++) {
        size_t len = echo_request(pkt, seq);
        if (kite_sendto(&h->socks, fd, pkt, len, 0, SA(to), sizeof to) != (ssize_t)len) {
            p->err = errno;
            break;
        }
        for (;;) { /* until this one's reply, or the wait ends */
            app_block(w, 0, h, fd, KITE_NC_READABLE, PING_WAIT_MS);
            ssize_t n = kite_recv(&h->socks, fd, pkt, sizeof pkt, 0);
            app_state(w, 0, APP_RUNNING);
            if (n < 0)
                break; /* EAGAIN: lost on the way there or back */
            take_reply(p, pkt, (size_t)n);
            if (p->seen[seq])
                break;
        }
    }
    (void)kite_close(&h->socks, fd);
    app_state(w, 0, APP_DONE);
    return NULL;
}

static void raw_ping_faulty_link(void **state)
{
    (void)state;
    struct world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    struct kite_simlink_config cfg = {.loss_ppm = 100000,
                                      .duplicate_ppm = 50000,
                                      .reorder_ppm = 50000,
                                      .corrupt_ppm = 50000,
                                      .delay_ms = 5,
                                      .jitter_ms = 2,
                                      .reorder_delay_ms = 10};
    world_init(w, &cfg, 11);
    struct pinger p = {.w = w};
    w->n_apps = 1;
    w->apps[0].state = APP_RUNNING;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, pinger, &p), 0);
    drive(w, false);
    pthread_join(th, NULL);
    const struct kite_simlink_stats *ab = kite_simlink_stats(w->link_ab);
    const struct kite_simlink_stats *ba = kite_simlink_stats(w->link_ba);
    printf("raw ping: %u of %u replies, %u duplicates, %u bad; A->B %u lost %u corrupted, "
           "B->A %u lost %u corrupted\n",
           p.replies, PINGS, p.dup_replies, p.bad, ab->lost, ab->corrupted, ba->lost,
           ba->corrupted);
    if (!KITE_RAW) {
        assert_int_equal(p.err, EPROTONOSUPPORT);
    } else {
        assert_int_equal(p.err, 0);
        assert_true(p.bad <= ba->corrupted);  /* every bad reply was corrupted on the way */
        assert_true(p.replies < PINGS);       /* the faults cost some */
        assert_true(p.replies >= PINGS / 2u); /* 10 % loss each way: most come back */
        assert_true(ab->lost + ba->lost > 0 && ab->corrupted + ba->corrupted > 0);
    }
    world_fini(w);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rcvtimeo_on_virtual_time),
        cmocka_unit_test(bulk_lossless),
        cmocka_unit_test(bulk_5pct_loss),
        cmocka_unit_test(raw_ping_faulty_link),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
