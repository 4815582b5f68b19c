/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP bulk throughput of the stack itself: two stacks in one process, stack A
 * sends N MiB to stack B over one connection (kite_tcp_write with the copy
 * flag, as a socket send does), B frees each segment and reopens its window
 * at once. Every received byte is compared with what was sent.
 *
 * 1. Lossless: a zero-delay Ethernet "wire" as in bench_udp_pps.c. Each frame
 *    a stack sends is copied (as a DMA driver would) into a PBUF_POOL pbuf of
 *    the other stack and queued; the loop hands queued frames to
 *    kite_netif_input() as fast as it can. The stacks run on a virtual clock
 *    that moves only when both queues are empty and the transfer is not over:
 *    it then jumps to the earliest timer (a delayed ACK, say). So no timer can
 *    fire while frames are moving (no spurious RTO however slow the CPU), and
 *    the wall time is pure protocol work. A non-zero "clock jumps" count means
 *    the transfer had to wait for a timer, which a real link would pay in
 *    milliseconds: it should be 0 or a handful.
 * 2. Lossy: the simulated link of include/kite/port/sim.h (one-way delay,
 *    seeded loss in both directions, ACKs included), on its virtual clock.
 *    Goodput is reported in virtual time (what the protocol achieves on such
 *    a link) and in wall time (CPU cost of simulating it).
 *
 *   bench_tcp_inproc [-n MiB] [-l MiB] [-p loss_ppm] [-d delay_ms] [-m mtu] [-s seed]
 *     -n lossless transfer (default 256), -l lossy transfer (default 64, 0 = skip),
 *     -p loss in parts per million (default 10000 = 1 %), -d one-way delay
 *     (default 1 ms), -m MTU of the lossless wire (default 1500).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kite/kite.h"
#include "kite/port/sim.h"
#include "kite/tcp.h"

#include "bench_wire.h"

#define WIRE_QUEUE_LEN 4096u
#define PATTERN_PERIOD 65521u /* prime: segment boundaries never line up with it */
#define PATTERN_LEN (PATTERN_PERIOD + 65536u)
#define WRITE_CHUNK 16384u /* bytes per kite_tcp_write, like a socket send() */
#define BENCH_PORT 5001u
#define MIB (1024u * 1024u)
#define SIM_LIMIT_MS (3600u * 1000u) /* give up after an hour of virtual time */

#if defined(KITE_PROFILE_MAX_THROUGHPUT)
#define PROFILE_NAME "max_throughput"
#elif defined(KITE_PROFILE_MIN_RAM)
#define PROFILE_NAME "min_ram"
#else
#define PROFILE_NAME "default"
#endif

/* One bulk transfer A -> B and its verification. */
struct flow {
    const uint8_t *pattern;
    struct kite_tcp_pcb *tx, *rx;
    struct kite_tcp_listener *listener;
    uint64_t total, queued, acked, received, bad;
    bool tx_shut, tx_fin_rx, rx_fin, failed;
};

struct result {
    double wall_s, virt_s;
    unsigned long clock_jumps, drops;
    struct kite_stats_tcp tcp_a, tcp_b;
};

/* ---- the application: a bulk sender and a verifying sink ---------------- */

static void flow_fill(struct flow *f)
{
    while (f->tx != NULL && f->queued < f->total) {
        uint64_t left = f->total - f->queued;
        uint32_t room = kite_tcp_sndbuf(f->tx);
        uint32_t n = left < WRITE_CHUNK ? (uint32_t)left : WRITE_CHUNK;
        uint8_t flags = KITE_TCP_WRITE_COPY;

        if (n > room)
            n = room;
        if (n == 0)
            break;
        if (f->queued + n < f->total)
            flags |= KITE_TCP_WRITE_MORE;
        if (kite_tcp_write(f->tx, f->pattern + f->queued % PATTERN_PERIOD, (uint16_t)n, flags) !=
            KITE_ERR_OK)
            break; /* pools full: the next ACK frees them and calls us again */
        f->queued += n;
    }
    if (f->tx == NULL)
        return;
    (void)kite_tcp_output(f->tx);
    if (f->queued == f->total && !f->tx_shut) {
        f->tx_shut = true;
        (void)kite_tcp_shutdown(f->tx, false, true);
    }
}

static void tx_maybe_close(struct flow *f)
{
    if (f->tx != NULL && f->tx_fin_rx && f->acked == f->total) {
        (void)kite_tcp_close(f->tx);
        f->tx = NULL;
    }
}

static void tx_connected(void *arg, struct kite_tcp_pcb *pcb)
{
    (void)pcb;
    flow_fill(arg);
}

static void tx_sent(void *arg, struct kite_tcp_pcb *pcb, uint32_t len)
{
    struct flow *f = arg;

    (void)pcb;
    f->acked += len;
    flow_fill(f);
    tx_maybe_close(f);
}

static void tx_recv(void *arg, struct kite_tcp_pcb *pcb, struct kite_pbuf *p)
{
    struct flow *f = arg;

    if (p != NULL) { /* the sink sends nothing; drop it anyway */
        kite_tcp_recved(pcb, p->tot_len);
        kite_pbuf_free(pcb->stack, p);
        return;
    }
    f->tx_fin_rx = true;
    tx_maybe_close(f);
}

static void tx_err(void *arg, enum kite_err err)
{
    struct flow *f = arg;

    fprintf(stderr, "bench_tcp_inproc: sender error %s\n", kite_err_name(err));
    f->failed = true;
    f->tx = NULL;
}

static void rx_recv(void *arg, struct kite_tcp_pcb *pcb, struct kite_pbuf *p)
{
    struct flow *f = arg;
    uint16_t len;

    if (p == NULL) {
        f->rx_fin = true;
        (void)kite_tcp_close(pcb);
        f->rx = NULL;
        return;
    }
    for (const struct kite_pbuf *q = p; q != NULL; q = q->next) {
        if (memcmp(q->payload, f->pattern + f->received % PATTERN_PERIOD, q->len) != 0)
            f->bad++;
        f->received += q->len;
    }
    len = p->tot_len;
    kite_pbuf_free(pcb->stack, p);
    kite_tcp_recved(pcb, len);
}

static void rx_err(void *arg, enum kite_err err)
{
    struct flow *f = arg;

    fprintf(stderr, "bench_tcp_inproc: receiver error %s\n", kite_err_name(err));
    f->failed = true;
    f->rx = NULL;
}

static enum kite_err rx_accept(void *arg, struct kite_tcp_pcb *pcb)
{
    struct flow *f = arg;

    if (f->rx != NULL)
        return KITE_ERR_MEM; /* one connection only */
    f->rx = pcb;
    return KITE_ERR_OK; /* the listener's table and argument serve it */
}

static bool flow_done(void *ctx)
{
    const struct flow *f = ctx;

    return f->failed || (f->rx_fin && f->received == f->total);
}

static int flow_start(struct flow *f, struct kite_stack *a, struct kite_stack *b, uint32_t b_ip)
{
    const struct kite_addr dst = KITE_ADDR_V4(b_ip);

    static const struct kite_tcp_ops rx_ops = {.accept = rx_accept, .recv = rx_recv, .err = rx_err};
    static const struct kite_tcp_ops tx_ops = {
        .connected = tx_connected, .sent = tx_sent, .recv = tx_recv, .err = tx_err};
    struct kite_tcp_pcb *pcb = kite_tcp_new(b);
    f->tx = kite_tcp_new(a);
    if (pcb == NULL || f->tx == NULL || kite_tcp_bind(pcb, NULL, BENCH_PORT) != KITE_ERR_OK)
        return -1;
    kite_tcp_arg(pcb, f);
    kite_tcp_set_ops(pcb, &rx_ops);
    f->listener = kite_tcp_listen(pcb, 1, NULL);
    if (f->listener == NULL)
        return -1;
    kite_tcp_arg(f->tx, f);
    kite_tcp_set_ops(f->tx, &tx_ops);
    return kite_tcp_connect(f->tx, &dst, BENCH_PORT) == KITE_ERR_OK ? 0 : -1;
}

/* ---- the zero-delay wire ------------------------------------------------ */

struct wire_world {
    struct kite_stack *a, *b;
    struct bench_wire_end end_a, end_b;
    kite_time_ms now;
    unsigned long clock_jumps;
};

static int wire_add(struct kite_stack *s, struct bench_wire_end *end, uint8_t id, uint16_t mtu)
{
    struct kite_pbuf **queue = calloc(WIRE_QUEUE_LEN, sizeof(*queue));
    if (queue == NULL)
        return -1;
    return bench_wire_add(end, s, queue, WIRE_QUEUE_LEN, id, mtu);
}

/* Move every queued frame; if none moved, jump the clock to the next timer.
 * Returns false when nothing is queued and no timer is armed (stuck). */
static bool wire_pump(struct wire_world *w)
{
    kite_time_ms next;

    if (bench_wire_drain(&w->end_b) + bench_wire_drain(&w->end_a) > 0)
        return true;
    next = kite_stack_next_deadline(w->a);
    if (kite_stack_next_deadline(w->b) < next)
        next = kite_stack_next_deadline(w->b);
    if (next == KITE_TIME_NEVER)
        return false;
    if (next > w->now)
        w->now = next;
    w->clock_jumps++;
    kite_stack_poll(w->a, w->now);
    kite_stack_poll(w->b, w->now);
    return true;
}

static double wall_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- reports ------------------------------------------------------------ */

static void print_pools(const char *who, const struct kite_stack *s)
{
    printf("  %s pools (peak/count, failed):", who);
    for (unsigned i = 0; i < KITE_POOL__COUNT; i++) {
        const struct kite_pool *p = kite_stack_pool(s, (enum kite_pool_id)i);

        printf(" %s %u/%u %" PRIu32 ";", p->name, (unsigned)p->peak, (unsigned)p->count, p->failed);
    }
    printf("\n");
}

static void print_result(const char *what, uint64_t bytes, const struct result *r)
{
    double bits = (double)bytes * 8.0;

    printf("%-26s %6" PRIu64 " %8.3f %9.1f %8.3f %9.1f %7" PRIu32 " %5" PRIu32 " %4" PRIu32
           " %6lu %6lu\n",
           what, bytes / MIB, r->wall_s, bits / r->wall_s / 1e6, r->virt_s,
           r->virt_s > 0 ? bits / r->virt_s / 1e6 : 0.0, r->tcp_a.retransmits,
           r->tcp_a.fast_retransmits, r->tcp_a.rto_timeouts, r->clock_jumps, r->drops);
    printf("  A: tx %" PRIu32 " segs, rx %" PRIu32 " ACKs, dupacks %" PRIu32
           ", sack recoveries %" PRIu32 "; B: rx %" PRIu32 " segs, tx %" PRIu32
           " ACKs, ooo %" PRIu32 ", drop_no_mem %" PRIu32 "\n",
           r->tcp_a.tx, r->tcp_a.rx, r->tcp_a.dup_acks, r->tcp_a.sack_recoveries, r->tcp_b.rx,
           r->tcp_b.tx, r->tcp_b.ooo_queued, r->tcp_b.drop_no_mem);
}

static int check_flow(const char *what, const struct flow *f)
{
    if (f->failed || f->received != f->total || f->bad != 0) {
        fprintf(stderr,
                "bench_tcp_inproc: %s failed: received %" PRIu64 " of %" PRIu64 ", %" PRIu64
                " bad segments\n",
                what, f->received, f->total, f->bad);
        return -1;
    }
    return 0;
}

/* ---- run 1: lossless wire ----------------------------------------------- */

/* Let both ends finish closing (TIME_WAIT included) on the virtual clock. */
static void wire_wind_down(struct wire_world *w, struct flow *f)
{
    if (f->listener != NULL)
        kite_tcp_listener_close(f->listener);
    f->listener = NULL;
    for (unsigned i = 0; i < 100000 && wire_pump(w); i++) {
    }
}

static int wire_teardown(struct wire_world *w)
{
    unsigned in_use;

    kite_netif_remove(&w->end_a.netif);
    kite_netif_remove(&w->end_b.netif);
    bench_wire_discard(&w->end_a);
    bench_wire_discard(&w->end_b);
    kite_stack_deinit(w->a);
    kite_stack_deinit(w->b);
    in_use = kite_stack_pools_in_use(w->a) + kite_stack_pools_in_use(w->b);
    free(w->end_a.queue);
    free(w->end_b.queue);
    return in_use == 0 ? 0 : -1;
}

static int run_wire(struct kite_stack *a, struct kite_stack *b, struct flow *f, uint16_t mtu,
                    const char *what)
{
    struct wire_world w = {.a = a, .b = b};
    struct result res = {0}, *r = &res;
    double t0;
    int rc = 0;

    w.end_a.peer = &w.end_b;
    w.end_b.peer = &w.end_a;
    if (wire_add(a, &w.end_a, 1, mtu) != 0 || wire_add(b, &w.end_b, 2, mtu) != 0)
        return -1;
    t0 = wall_now();
    if (flow_start(f, a, b, KITE_IP4(192, 0, 2, 2)) != 0)
        return -1;
    while (!flow_done(f) && wire_pump(&w)) {
    }
    r->wall_s = wall_now() - t0;
    r->virt_s = (double)w.now / 1000.0;
    r->clock_jumps = w.clock_jumps;
    r->drops = w.end_a.drops + w.end_b.drops;
    r->tcp_a = a->stats.tcp;
    r->tcp_b = b->stats.tcp;
    rc = check_flow("lossless", f);
    print_result(what, f->total, r);
    wire_wind_down(&w, f);
    print_pools("A", a);
    print_pools("B", b);
    if (wire_teardown(&w) != 0) {
        fprintf(stderr, "bench_tcp_inproc: pool blocks in use after the lossless run\n");
        rc = -1;
    }
    return rc;
}

/* ---- run 2: simulated lossy link ----------------------------------------- */

static int sim_add(struct kite_simlink *link, struct kite_sim *sim, struct kite_stack *s,
                   struct kite_netif *netif, uint8_t id)
{
    const uint8_t mac[KITE_ETH_ADDR_LEN] = {0x02, 0x00, 0x00, 0x00, 0x01, id};

    if (kite_simlink_add_netif(link, s, netif, id == 1 ? "a0" : "b0", mac) != KITE_ERR_OK ||
        kite_netif_set_ipv4(netif, KITE_IP4(192, 0, 2, id), 24, 0) != KITE_ERR_OK)
        return -1;
    kite_sim_add_stack(sim, s);
    return 0;
}

static bool idle(void *ctx)
{
    (void)ctx;
    return false;
}

static int sim_teardown(struct kite_simlink *link, struct kite_stack *a, struct kite_stack *b,
                        struct kite_netif *na, struct kite_netif *nb)
{
    unsigned in_use;

    kite_simlink_detach(link, na);
    kite_simlink_detach(link, nb);
    kite_netif_remove(na);
    kite_netif_remove(nb);
    kite_stack_deinit(a);
    kite_stack_deinit(b);
    kite_simlink_free(link);
    in_use = kite_stack_pools_in_use(a) + kite_stack_pools_in_use(b);
    return in_use == 0 ? 0 : -1;
}

static int run_sim(struct kite_stack *a, struct kite_stack *b, struct flow *f,
                   const struct kite_simlink_config *cfg, const char *what)
{
    struct kite_netif na, nb;
    struct kite_simlink *link = kite_simlink_new(cfg);
    struct kite_sim sim;
    struct result res = {0}, *r = &res;
    double t0;
    int rc;

    if (link == NULL)
        return -1;
    kite_sim_init(&sim, 0);
    kite_sim_add_link(&sim, link);
    if (sim_add(link, &sim, a, &na, 1) != 0 || sim_add(link, &sim, b, &nb, 2) != 0)
        return -1;
    t0 = wall_now();
    if (flow_start(f, a, b, KITE_IP4(192, 0, 2, 2)) != 0)
        return -1;
    (void)kite_sim_run_until(&sim, SIM_LIMIT_MS, flow_done, f);
    r->wall_s = wall_now() - t0;
    r->virt_s = (double)sim.now / 1000.0;
    r->drops = kite_simlink_stats(link)->lost;
    r->tcp_a = a->stats.tcp;
    r->tcp_b = b->stats.tcp;
    rc = check_flow("lossy", f);
    print_result(what, f->total, r);
    kite_tcp_listener_close(f->listener);
    (void)kite_sim_run_until(&sim, sim.now + 2u * KITE_TCP_MSL_MS + 1000u, idle, NULL);
    print_pools("A", a);
    print_pools("B", b);
    if (sim_teardown(link, a, b, &na, &nb) != 0) {
        fprintf(stderr, "bench_tcp_inproc: pool blocks in use after the lossy run\n");
        rc = -1;
    }
    return rc;
}

/* ---- main --------------------------------------------------------------- */

struct args {
    unsigned long lossless_mib, lossy_mib;
    struct kite_simlink_config sim;
    unsigned long mtu;
};

static int parse_args(int argc, char **argv, struct args *o)
{
    int c;

    while ((c = getopt(argc, argv, "n:l:p:d:m:s:")) != -1) {
        unsigned long v = optarg != NULL ? strtoul(optarg, NULL, 10) : 0;

        switch (c) {
        case 'n':
            o->lossless_mib = v;
            break;
        case 'l':
            o->lossy_mib = v;
            break;
        case 'p':
            o->sim.loss_ppm = (uint32_t)v;
            break;
        case 'd':
            o->sim.delay_ms = (uint32_t)v;
            break;
        case 'm':
            o->mtu = v;
            break;
        case 's':
            o->sim.seed = v;
            break;
        default:
            return -1;
        }
    }
    return o->mtu >= 576 && o->mtu <= 65000 && o->sim.loss_ppm < 1000000u ? 0 : -1;
}

static uint8_t *make_pattern(void)
{
    uint8_t *p = malloc(PATTERN_LEN);

    for (uint32_t i = 0; p != NULL && i < PATTERN_LEN; i++) {
        uint32_t k = i % PATTERN_PERIOD;

        p[i] = (uint8_t)((k * 2654435761u) >> 24 ^ k);
    }
    return p;
}

/* Fresh stacks and a fresh flow for one run. */
static int run_one(const struct args *o, const uint8_t *pattern, bool lossy)
{
    struct kite_stack *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    const struct kite_stack_config ca = {.seed = 11}, cb = {.seed = 22};
    uint64_t bytes = (uint64_t)(lossy ? o->lossy_mib : o->lossless_mib) * MIB;
    struct flow f = {.pattern = pattern, .total = bytes};
    char what[64];
    int rc = -1;

    if (a != NULL && b != NULL && kite_stack_init(a, &ca) == KITE_ERR_OK &&
        kite_stack_init(b, &cb) == KITE_ERR_OK) {
        if (lossy) {
            snprintf(what, sizeof what, "sim %.2f%% loss, %" PRIu32 " ms",
                     (double)o->sim.loss_ppm / 1e4, o->sim.delay_ms);
            rc = run_sim(a, b, &f, &o->sim, what);
        } else {
            snprintf(what, sizeof what, "lossless wire, MTU %lu", o->mtu);
            rc = run_wire(a, b, &f, (uint16_t)o->mtu, what);
        }
    }
    free(a);
    free(b);
    return rc;
}

int main(int argc, char **argv)
{
    struct args o = {.lossless_mib = 256,
                     .lossy_mib = 64,
                     .mtu = 1500,
                     .sim = {.seed = 7, .loss_ppm = 10000, .delay_ms = 1}};
    uint8_t *pattern;
    int rc = 0;

    if (parse_args(argc, argv, &o) != 0) {
        fprintf(stderr,
                "usage: %s [-n MiB] [-l MiB] [-p loss_ppm] [-d delay_ms] [-m mtu] "
                "[-s seed]\n",
                argv[0]);
        return 2;
    }
    pattern = make_pattern();
    if (pattern == NULL)
        return 1;
    printf("kite TCP bulk transfer A -> B, two stacks in one process, one core\n");
    printf("profile %s: snd/rcv buf %u/%u, PBUF_POOL %u x %u, %s\n", PROFILE_NAME,
           (unsigned)KITE_TCP_SND_BUF, (unsigned)KITE_TCP_RCV_BUF, (unsigned)KITE_PBUF_POOL_COUNT,
           (unsigned)KITE_PBUF_POOL_BUFSIZE, KITE_TCP_CUBIC ? "CUBIC" : "NewReno");
    printf("%-26s %6s %8s %9s %8s %9s %7s %5s %4s %6s %6s\n", "link", "MiB", "wall s", "Mbit/s",
           "virt s", "Mbit/s", "rexmit", "fast", "rto", "jumps", "drops");
    printf("%-26s %6s %8s %9s %8s %9s\n", "", "", "", "(wall)", "", "(virt)");
    if (o.lossless_mib > 0 && run_one(&o, pattern, false) != 0)
        rc = 1;
    if (o.lossy_mib > 0 && run_one(&o, pattern, true) != 0)
        rc = 1;
    free(pattern);
    return rc;
}
