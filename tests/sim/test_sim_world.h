/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared scaffolding of the simulation tests: a world of hosts on one
 * simulated link (192.0.2.<i+1>/24), a UDP echo server, UDP echo clients
 * and ping with application-level retries. Everything runs on virtual time.
 */
#ifndef KITE_TEST_SIM_WORLD_H
#define KITE_TEST_SIM_WORLD_H

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kite/port/sim.h"

#define W_MAX_HOSTS 6
#define W_PING_MAX 512
#define W_UDP_MAX 128
#define W_ECHO_PORT 7
#define W_PAYLOAD_MAX 1400

struct w_ping {
    uint16_t id;
    uint16_t next_seq;
    unsigned replies, dup_replies, bad_data;
    bool got[W_PING_MAX];
    kite_time_ms sent_at[W_PING_MAX];
    kite_time_ms rtt[W_PING_MAX];
    uint32_t from[W_PING_MAX];
};

struct w_host {
    struct kite_stack stack;
    struct kite_netif netif;
    uint32_t ip;
    struct w_ping ping;
};

struct w_world {
    struct kite_sim sim;
    struct kite_simlink *link;
    struct w_host *hosts[W_MAX_HOSTS];
    unsigned n;
};

static inline uint32_t w_ip(unsigned i)
{
    return KITE_IP4(192, 0, 2, i + 1u);
}

/* Deterministic data of ping number seq. */
static inline uint8_t w_ping_byte(uint16_t seq, unsigned i)
{
    return (uint8_t)(seq * 13u + i * 5u + 1u);
}

static inline void w_ping_hook(void *arg, uint32_t src, uint16_t id, uint16_t seq,
                               const struct kite_pbuf *data)
{
    struct w_host *h = arg;
    struct w_ping *ping = &h->ping;
    if (id != ping->id || seq >= W_PING_MAX)
        return;
    uint8_t buf[64];
    uint16_t len = kite_pbuf_copy_out(data, buf, sizeof buf, 0);
    bool ok = data->tot_len == 32 && len == 32;
    for (unsigned i = 0; ok && i < len; i++)
        ok = buf[i] == w_ping_byte(seq, i);
    if (!ok) {
        ping->bad_data++;
        return;
    }
    if (ping->got[seq]) {
        ping->dup_replies++;
        return;
    }
    ping->got[seq] = true;
    ping->replies++;
    ping->from[seq] = src;
    ping->rtt[seq] = kite_stack_now(&h->stack) - ping->sent_at[seq];
}

static inline void w_init_hosts(struct w_world *w, unsigned n,
                                const struct kite_simlink_config *cfg, uint64_t seed)
{
    memset(w, 0, sizeof *w);
    assert_true(n <= W_MAX_HOSTS);
    kite_sim_init(&w->sim, 0);
    w->link = kite_simlink_new(cfg);
    assert_non_null(w->link);
    kite_sim_add_link(&w->sim, w->link);
    for (unsigned i = 0; i < n; i++) {
        struct w_host *h = calloc(1, sizeof *h);
        assert_non_null(h);
        struct kite_stack_config scfg = {.seed = seed * 31u + i + 1u, .now = 0};
        assert_int_equal(kite_stack_init(&h->stack, &scfg), KITE_ERR_OK);
        const uint8_t mac[6] = {0x02, 0, 0, 0, 0x01, (uint8_t)(i + 1u)};
        assert_int_equal(kite_simlink_add_netif(w->link, &h->stack, &h->netif, "sim0", mac),
                         KITE_ERR_OK);
        h->ip = w_ip(i);
        assert_int_equal(kite_netif_set_ipv4(&h->netif, h->ip, 24, 0), KITE_ERR_OK);
        h->ping.id = (uint16_t)(0x100u + i);
        kite_icmp4_set_echo_reply_hook(&h->stack, w_ping_hook, h);
        kite_sim_add_stack(&w->sim, &h->stack);
        w->hosts[i] = h;
    }
    w->n = n;
}

/* A world whose link has the given faults; the link seed derives from seed. */
static inline void w_init(struct w_world *w, unsigned n, struct kite_simlink_config cfg,
                          uint64_t seed)
{
    cfg.seed = seed;
    w_init_hosts(w, n, &cfg, seed);
}

/*
 * Unplug and remove every netif (which drops what waits for ARP), then check
 * that every pool of every stack is back to zero *before* kite_stack_deinit:
 * deinit frees whatever pcbs are left, so checking after it would hide a pcb
 * the test forgot or a connection that never finished. Then free everything.
 */
static inline void w_fini(struct w_world *w)
{
    for (unsigned i = 0; i < w->n; i++) {
        struct w_host *h = w->hosts[i];
        kite_simlink_detach(w->link, &h->netif);
        kite_netif_remove(&h->netif);
    }
    for (unsigned i = 0; i < w->n; i++) {
        if (kite_stack_pools_in_use(&w->hosts[i]->stack) != 0)
            fprintf(stderr, "w_fini: host%u still holds pool blocks before deinit\n", i);
        kt_assert_pools_empty(&w->hosts[i]->stack);
    }
    for (unsigned i = 0; i < w->n; i++) {
        struct w_host *h = w->hosts[i];
        kite_stack_deinit(&h->stack);
        kt_assert_pools_empty(&h->stack);
        free(h);
        w->hosts[i] = NULL;
    }
    kite_simlink_free(w->link);
    w->link = NULL;
}

static inline bool w_never(void *ctx)
{
    (void)ctx;
    return false;
}

/* Run the world for ms of virtual time. */
static inline void w_run(struct w_world *w, kite_time_ms ms)
{
    kite_sim_run_until(&w->sim, w->sim.now + ms, w_never, NULL);
}

/* ---- ping ------------------------------------------------------------- */

struct w_wait_ping {
    struct w_ping *ping;
    uint16_t seq;
};

static inline bool w_ping_done(void *ctx)
{
    const struct w_wait_ping *wp = ctx;
    return wp->ping->got[wp->seq];
}

static inline uint16_t w_ping_send(struct w_host *h, uint32_t dst)
{
    uint8_t data[32];
    uint16_t seq = h->ping.next_seq++;
    assert_true(seq < W_PING_MAX);
    for (unsigned i = 0; i < sizeof data; i++)
        data[i] = w_ping_byte(seq, i);
    h->ping.sent_at[seq] = kite_stack_now(&h->stack);
    /* A send refused for lack of memory is just another loss to retry. */
    (void)kite_icmp4_send_echo(&h->stack, dst, h->ping.id, seq, data, sizeof data);
    return seq;
}

/*
 * One ping with up to tries attempts, each waiting rto. Returns the attempt
 * that got an answer (0 = first) or -1; *rtt receives its round trip.
 */
static inline int w_ping_once(struct w_world *w, struct w_host *h, uint32_t dst, kite_time_ms rto,
                              unsigned tries, kite_time_ms *rtt)
{
    for (unsigned t = 0; t < tries; t++) {
        struct w_wait_ping wp = {&h->ping, w_ping_send(h, dst)};
        if (kite_sim_run_until(&w->sim, w->sim.now + rto, w_ping_done, &wp)) {
            if (rtt != NULL)
                *rtt = h->ping.rtt[wp.seq];
            return (int)t;
        }
    }
    return -1;
}

/* ---- UDP echo --------------------------------------------------------- */

struct w_echo_server {
    struct kite_udp_pcb *pcb;
    unsigned echoed;
};

static inline void w_echo_recv(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                               const struct kite_addr *src, uint16_t src_port,
                               const struct kite_addr *dst)
{
    struct w_echo_server *srv = arg;
    (void)dst;
    if (kite_udp_sendto(pcb, p, src, src_port) == KITE_ERR_OK)
        srv->echoed++;
    kite_pbuf_free(pcb->stack, p);
}

static inline void w_echo_start(struct w_echo_server *srv, struct w_host *h)
{
    memset(srv, 0, sizeof *srv);
    srv->pcb = kite_udp_new(&h->stack);
    assert_non_null(srv->pcb);
    assert_int_equal(kite_udp_bind(srv->pcb, NULL, W_ECHO_PORT), KITE_ERR_OK);
    kite_udp_recv(srv->pcb, w_echo_recv, srv);
}

static inline void w_echo_stop(struct w_echo_server *srv)
{
    kite_udp_remove(srv->pcb);
    srv->pcb = NULL;
}

/* Datagram seq of client id: [id][seq hi][seq lo] then a pattern. */
static inline uint16_t w_payload(uint8_t id, uint16_t seq, uint8_t *buf, uint16_t max_len)
{
    uint16_t len = (uint16_t)(3u + (seq * 97u + id * 13u) % (unsigned)(max_len - 2u));
    buf[0] = id;
    buf[1] = (uint8_t)(seq >> 8);
    buf[2] = (uint8_t)seq;
    for (unsigned i = 3; i < len; i++)
        buf[i] = (uint8_t)(i * 7u + seq * 31u + id);
    return len;
}

struct w_udp_client {
    struct w_host *h;
    struct kite_udp_pcb *pcb;
    uint8_t id;
    uint16_t count;
    uint16_t max_len;
    uint32_t server;
    bool got[W_UDP_MAX];
    unsigned sent, echoes, dups, bad, acked;
};

static inline void w_client_recv(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                                 const struct kite_addr *src, uint16_t src_port,
                                 const struct kite_addr *dst)
{
    struct w_udp_client *c = arg;
    uint8_t got[W_PAYLOAD_MAX + 1], want[W_PAYLOAD_MAX];
    (void)dst;
    uint16_t len = kite_pbuf_copy_out(p, got, sizeof got, 0);
    kite_pbuf_free(pcb->stack, p);
    c->echoes++;
    if (kite_addr_v4(src) != c->server || src_port != W_ECHO_PORT || len < 3 || got[0] != c->id) {
        c->bad++;
        return;
    }
    uint16_t seq = (uint16_t)(got[1] << 8 | got[2]);
    if (seq >= c->count || len != w_payload(c->id, seq, want, c->max_len) ||
        memcmp(got, want, len) != 0) {
        c->bad++;
        return;
    }
    if (c->got[seq]) {
        c->dups++;
        return;
    }
    c->got[seq] = true;
    c->acked++;
}

static inline void w_client_start(struct w_udp_client *c, struct w_host *h, uint8_t id,
                                  uint32_t server, uint16_t count, uint16_t max_len)
{
    memset(c, 0, sizeof *c);
    assert_true(count <= W_UDP_MAX && max_len <= W_PAYLOAD_MAX && max_len > 3);
    c->h = h;
    c->id = id;
    c->count = count;
    c->max_len = max_len;
    c->server = server;
    c->pcb = kite_udp_new(&h->stack);
    assert_non_null(c->pcb);
    assert_int_equal(kite_udp_bind(c->pcb, NULL, 0), KITE_ERR_OK);
    kite_udp_recv(c->pcb, w_client_recv, c);
}

static inline void w_client_stop(struct w_udp_client *c)
{
    kite_udp_remove(c->pcb);
    c->pcb = NULL;
}

/* Send every datagram not yet echoed. */
static inline void w_client_send_missing(struct w_udp_client *c)
{
    uint8_t buf[W_PAYLOAD_MAX];
    struct kite_addr dst = KITE_ADDR_V4(c->server);
    for (uint16_t seq = 0; seq < c->count; seq++) {
        if (c->got[seq])
            continue;
        uint16_t len = w_payload(c->id, seq, buf, c->max_len);
        struct kite_pbuf *p =
            kite_pbuf_from_data(&c->h->stack, KITE_LAYER_TRANSPORT, buf, len, true);
        if (p == NULL)
            continue; /* out of buffers: the next round retries */
        (void)kite_udp_sendto(c->pcb, p, &dst, W_ECHO_PORT);
        kite_pbuf_free(&c->h->stack, p);
        c->sent++;
    }
}

struct w_clients {
    struct w_udp_client **c;
    unsigned n;
};

static inline bool w_clients_done(void *ctx)
{
    const struct w_clients *cs = ctx;
    for (unsigned i = 0; i < cs->n; i++) {
        if (cs->c[i]->acked < cs->c[i]->count)
            return false;
    }
    return true;
}

/* Rounds of "send what is missing, wait rto". True when all were echoed. */
static inline bool w_clients_run(struct w_world *w, struct w_udp_client **c, unsigned n,
                                 kite_time_ms rto, unsigned rounds)
{
    struct w_clients cs = {c, n};
    for (unsigned r = 0; r < rounds && !w_clients_done(&cs); r++) {
        for (unsigned i = 0; i < n; i++)
            w_client_send_missing(c[i]);
        kite_sim_run_until(&w->sim, w->sim.now + rto, w_clients_done, &cs);
    }
    return w_clients_done(&cs);
}

#endif
