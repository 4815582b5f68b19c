/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Extra scaffolding for the TCP simulation tests (test_sim_tcp_*.c), on top
 * of tcp_apps.h: static ARP (so a corrupted ARP frame cannot poison a cache
 * and stall a connection for the ARP lifetime), wall-clock measurement,
 * sanitizer detection, a multi-connection server and the end-of-test check
 * that every pool of every stack is back to zero *before* deinit.
 *
 * Include this first: it asks for POSIX (clock_gettime) before any system
 * header is read.
 */
#ifndef KITE_TEST_TCP_SIM_EXTRA_H
#define KITE_TEST_TCP_SIM_EXTRA_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <time.h>

#include "tcp_apps.h"

#include "kite/arp.h"

/* Sanitizer builds run several times slower; big transfers scale down. */
#if defined(__SANITIZE_ADDRESS__)
#define TSX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TSX_ASAN 1
#endif
#endif
#ifndef TSX_ASAN
#define TSX_ASAN 0
#endif

static inline double tsx_wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Every host knows every other host's MAC statically. */
static inline void tsx_static_arp(struct w_world *w)
{
    for (unsigned i = 0; i < w->n; i++) {
        for (unsigned j = 0; j < w->n; j++) {
            if (i == j)
                continue;
            assert_int_equal(kite_arp_add_static(&w->hosts[i]->netif, w->hosts[j]->ip,
                                                 w->hosts[j]->netif.hwaddr),
                             KITE_ERR_OK);
        }
    }
}

static inline void tsx_init(struct w_world *w, unsigned n, struct kite_simlink_config cfg,
                            uint64_t seed)
{
    w_init(w, n, cfg, seed);
    tsx_static_arp(w);
}

/* Every pool of every stack at zero while the stacks are still running. */
static inline void tsx_assert_idle(const struct w_world *w)
{
    for (unsigned i = 0; i < w->n; i++) {
        const struct kite_stack *s = &w->hosts[i]->stack;
        if (kite_stack_pools_in_use(s) != 0) {
            for (int k = 0; k < KITE_POOL__COUNT; k++) {
                const struct kite_pool *pool = kite_stack_pool(s, (enum kite_pool_id)k);
                if (pool->used != 0)
                    fprintf(stderr, "host%u: pool %s has %u blocks in use\n", i, pool->name,
                            pool->used);
            }
        }
        assert_int_equal(kite_stack_pools_in_use(s), 0);
    }
}

/* Number of TCP connections of a stack in a given state (reads the
 * connection table; pcbs bound but not connected are not counted). */
static inline unsigned tsx_count_state(const struct kite_stack *s, enum kite_tcp_state st)
{
    unsigned n = 0;
    for (const struct kite_tcp_pcb *p = kite__tcp_next(s, NULL); p != NULL;
         p = kite__tcp_next(s, p))
        n += kite_tcp_get_state(p) == st;
    if (st == KITE_TCP_LISTEN) /* listeners are a type of their own */
        for (const struct kite_tcp_listener *l = s->tcp.listeners; l != NULL; l = l->next)
            n++;
    return n;
}

/* Print every TCP connection of a stack (for failure diagnostics). */
static inline void tsx_dump(const char *tag, const struct kite_stack *s)
{
    for (const struct kite_tcp_pcb *p = kite__tcp_next(s, NULL); p != NULL;
         p = kite__tcp_next(s, p))
        fprintf(stderr,
                "  %s: %u->%u %s una %u nxt %u max %u wnd %u cwnd %u queued %u "
                "rcv_nxt %u adv %u unread %u ooo %s flags %#x backoff %u timer %u at %u\n",
                tag, p->local_port, p->remote_port, kite_tcp_state_name(kite_tcp_get_state(p)),
                p->snd_una, p->snd_nxt, p->snd_max, p->snd_wnd, p->cwnd, p->snd_queued, p->rcv_nxt,
                p->rcv_adv, p->rcv_unread, p->ooo != NULL ? "yes" : "no", p->flags, p->backoff,
                (unsigned)p->timer_kind, p->deadline);
}

/* Let TIME_WAIT (2 MSL) run out, check every pool is empty, tear down. */
static inline bool tsx_all_idle(void *ctx)
{
    const struct w_world *w = ctx;
    for (unsigned i = 0; i < w->n; i++)
        if (kite_stack_pools_in_use(&w->hosts[i]->stack) != 0)
            return false;
    return true;
}

/* TIME_WAIT lasts 2 MSL, and a retransmitted FIN restarts it (RFC 9293
 * 3.10.7.4): allow two of them before calling anything a leak. */
static inline void tsx_finish(struct w_world *w)
{
    w_run(w, 2 * KITE_TCP_MSL_MS + 2000);
    (void)kite_sim_run_until(&w->sim, w->sim.now + 2 * KITE_TCP_MSL_MS, tsx_all_idle, w);
    tsx_assert_idle(w);
    w_fini(w);
}

static inline void tsx_print_tcp(const char *tag, const struct kite_stack *s)
{
    const struct kite_stats_tcp *t = &s->stats.tcp;
    printf("    %s: tx %u rx %u rexmit %u fast %u rto %u dupack %u sackrec %u ooo %u "
           "ooofull %u badck %u nomem %u persist %u\n",
           tag, t->tx, t->rx, t->retransmits, t->fast_retransmits, t->rto_timeouts, t->dup_acks,
           t->sack_recoveries, t->ooo_queued, t->drop_ooo_full, t->drop_bad_checksum,
           t->drop_no_mem, t->persist_probes);
}

/* ---- sequence numbers of pure ACKs -------------------------------------------
 *
 * Regression watch: pure ACKs must carry the highest sequence number sent.
 * A timeout pulls snd_nxt back to snd_una; an ACK sent from there is below
 * what the peer holds, so it is discarded as old (RFC 9293 3.10.7.4) and,
 * when both ends time out together, neither learns its data arrived (4.4BSD
 * sends pure ACKs at snd_max for this reason). This tap counts such ACKs on
 * a netif that carries one connection. */

struct tsx_seqmon {
    bool have;
    uint32_t max_end; /* highest sequence number sent + 1 */
    unsigned old_acks;
};

static inline uint32_t tsx_be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static inline void tsx_seqmon_tap(void *ctx, const struct kite_netif *netif,
                                  const struct kite_pbuf *p, enum kite_capture_dir dir)
{
    struct tsx_seqmon *m = ctx;
    uint8_t b[128];
    (void)netif;
    uint16_t n = kite_pbuf_copy_out(p, b, sizeof b, 0);
    if (dir != KITE_CAPTURE_OUT || n < 54 || b[12] != 0x08 || b[13] != 0 || b[23] != 6)
        return;
    unsigned ihl = (b[14] & 15u) * 4u;
    const uint8_t *t = b + 14 + ihl;
    if (14u + ihl + 20u > n)
        return;
    unsigned tot = (unsigned)b[16] << 8 | b[17];
    uint8_t flags = t[13];
    uint32_t seq = tsx_be32(t + 4);
    uint32_t len =
        (uint32_t)(tot - ihl - (t[12] >> 4) * 4u) + ((flags & 0x02u) != 0) + ((flags & 0x01u) != 0);
    if (flags & 0x04u)
        return; /* RST */
    if (!m->have) {
        m->have = true;
        m->max_end = seq + len;
    }
    if (len == 0 && (int32_t)(seq - m->max_end) < 0)
        m->old_acks++;
    else if ((int32_t)(seq + len - m->max_end) > 0)
        m->max_end = seq + len;
}

/* ---- a server accepting into an array of apps ---------------------------- */

#define TSX_MAX_CONNS 16

struct tsx_server {
    struct kite_tcp_listener *listener;
    struct tcp_app *apps; /* apps[0..napps) take accepted connections in order */
    unsigned napps, accepted, refused;
};

/* Writes refused for lack of pool blocks are retried from the poll
 * callback: with nothing in flight no sent callback would come. */
#define TSX_POLL_MS 50u

static inline void tsx_app_poll(void *arg, struct kite_tcp_pcb *pcb)
{
    (void)pcb;
    tcp_app_fill(arg);
}

static const struct kite_tcp_ops tsx_app_ops = {.connected = tcp_app_connected,
                                                .recv = tcp_app_recv,
                                                .sent = tcp_app_sent,
                                                .err = tcp_app_err,
                                                .poll = tsx_app_poll,
                                                .poll_interval_ms = TSX_POLL_MS};

static inline void tsx_app_connect(struct tcp_app *a, struct w_host *h, uint32_t dst, uint16_t port)
{
    tcp_app_connect(a, h, dst, port);
    kite_tcp_set_ops(a->pcb, &tsx_app_ops);
}

static inline enum kite_err tsx_server_accept(void *arg, struct kite_tcp_pcb *pcb)
{
    struct tsx_server *s = arg;
    if (s->accepted >= s->napps) {
        s->refused++;
        return KITE_ERR_MEM;
    }
    struct tcp_app *a = &s->apps[s->accepted++];
    tcp_app_attach(a, pcb);
    kite_tcp_set_ops(pcb, &tsx_app_ops);
    a->connected = true;
    tcp_app_fill(a);
    return KITE_ERR_OK;
}

static inline void tsx_server_start(struct tsx_server *s, struct w_host *h, uint16_t port,
                                    uint8_t backlog, struct tcp_app *apps, unsigned napps)
{
    memset(s, 0, sizeof *s);
    s->apps = apps;
    s->napps = napps;
    static const struct kite_tcp_ops ops = {.accept = tsx_server_accept};
    s->listener = tcp_listen_on(h, port, backlog, &ops, s);
}

static inline void tsx_listener_close(struct kite_tcp_listener **listener)
{
    if (*listener != NULL)
        kite_tcp_listener_close(*listener);
    *listener = NULL;
}

/* All apps closed cleanly or failed. */
struct tsx_apps {
    struct tcp_app *apps;
    unsigned n;
};

static inline bool tsx_apps_done(void *ctx)
{
    const struct tsx_apps *d = ctx;
    for (unsigned i = 0; i < d->n; i++) {
        if (!d->apps[i].closed && !d->apps[i].failed)
            return false;
    }
    return true;
}

/* Predicates for kite_sim_run_until. */
static inline bool tsx_app_failed(void *ctx)
{
    return ((const struct tcp_app *)ctx)->failed;
}

static inline bool tsx_app_connected(void *ctx)
{
    const struct tcp_app *a = ctx;
    return a->connected || a->failed;
}

#endif
