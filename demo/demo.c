/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kite-demo: three kite stacks in one process on a simulated, unreliable
 * Ethernet hub, on virtual time. They resolve each other with ARP, ping each
 * other and exchange UDP with an echo service, recovering losses with
 * application-level retries. A pcap of host 1's interface is written.
 *
 *   kite-demo [--seed N] [capture.pcap]
 *
 * The same seed gives the same run, frame for frame.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kite/kite.h"
#include "kite/port/clock.h"
#include "kite/port/pcap.h"
#include "kite/port/sim.h"

#define N_HOSTS 3
#define PINGS_PER_PAIR 10
#define PING_TRIES 8
#define PING_TIMEOUT_MS 250 /* doubled after each try, up to the cap */
#define PING_TIMEOUT_MAX_MS 1500
#define PING_LEN 56
#define PING_SEQS 1024
#define UDP_COUNT 50
#define UDP_ROUNDS 25
#define UDP_TIMEOUT_MS 150
#define UDP_MAX_LEN 1200
#define ECHO_PORT 7

struct ping_state {
    uint16_t id, next_seq;
    bool answered[PING_SEQS];
    kite_time_ms sent_at[PING_SEQS], rtt[PING_SEQS];
    unsigned bad;
};

struct host {
    struct kite_stack stack;
    struct kite_netif netif;
    uint32_t ip;
    struct ping_state ping;
};

struct pair_result {
    unsigned answered, attempts_lost, recovered, failed;
    kite_time_ms rtt_min, rtt_max, rtt_sum;
};

struct echo_server {
    struct kite_udp_pcb *pcb;
    unsigned echoed;
};

struct udp_client {
    struct host *h;
    struct kite_udp_pcb *pcb;
    uint8_t id;
    bool got[UDP_COUNT];
    unsigned sent, acked, dups, bad;
};

#define TCP_PORT 80
#define TCP_BYTES (256u * 1024u)

/* A download over TCP: host 1 serves TCP_BYTES of a pattern, host 3 fetches them. */
struct tcp_demo {
    struct kite_tcp_listener *listener;
    struct kite_tcp_pcb *server, *client;
    uint32_t queued, received, bad;
    bool done, failed;
    kite_time_ms start, end;
};

struct demo {
    struct kite_sim sim;
    struct tcp_demo tcp;
    struct kite_simlink *link;
    struct host *hosts[N_HOSTS];
    struct pair_result pairs[N_HOSTS][N_HOSTS];
    struct echo_server server;
    struct udp_client clients[N_HOSTS - 1];
};

static uint8_t ping_byte(uint16_t seq, unsigned i)
{
    return (uint8_t)(seq + i * 3u);
}

/* Hook for echo replies: accept only our id and intact data. */
static void on_echo_reply(void *arg, uint32_t src, uint16_t id, uint16_t seq,
                          const struct kite_pbuf *data)
{
    struct host *h = arg;
    struct ping_state *ps = &h->ping;
    uint8_t buf[PING_LEN];
    (void)src;
    if (id != ps->id || seq >= PING_SEQS || ps->answered[seq])
        return;
    bool ok = data->tot_len == PING_LEN && kite_pbuf_copy_out(data, buf, PING_LEN, 0) == PING_LEN;
    for (unsigned i = 0; ok && i < PING_LEN; i++)
        ok = buf[i] == ping_byte(seq, i);
    if (!ok) {
        ps->bad++;
        return;
    }
    ps->answered[seq] = true;
    ps->rtt[seq] = kite_stack_now(&h->stack) - ps->sent_at[seq];
}

struct wait_seq {
    const struct ping_state *ps;
    uint16_t seq;
};

static bool seq_answered(void *ctx)
{
    const struct wait_seq *w = ctx;
    return w->ps->answered[w->seq];
}

/* One ping with retries: every try carries a new sequence number, so a late
 * reply is never mistaken for a fast one. The timeout backs off so that the
 * tries outlast an ARP resolution that gives up (4 requests, 1 s apart). */
static void ping_once(struct demo *d, struct host *from, const struct host *to,
                      struct pair_result *res)
{
    uint8_t data[PING_LEN];
    kite_time_ms timeout = PING_TIMEOUT_MS;
    for (unsigned t = 0; t < PING_TRIES; t++) {
        struct wait_seq w = {&from->ping, from->ping.next_seq++};
        if (w.seq >= PING_SEQS)
            break;
        for (unsigned i = 0; i < PING_LEN; i++)
            data[i] = ping_byte(w.seq, i);
        from->ping.sent_at[w.seq] = d->sim.now;
        (void)kite_icmp4_send_echo(&from->stack, to->ip, from->ping.id, w.seq, data, PING_LEN);
        if (kite_sim_run_until(&d->sim, d->sim.now + timeout, seq_answered, &w)) {
            kite_time_ms rtt = from->ping.rtt[w.seq];
            res->answered++;
            res->recovered += t > 0;
            res->rtt_sum += rtt;
            res->rtt_min = res->answered == 1 || rtt < res->rtt_min ? rtt : res->rtt_min;
            res->rtt_max = rtt > res->rtt_max ? rtt : res->rtt_max;
            return;
        }
        res->attempts_lost++;
        timeout = timeout * 2u < PING_TIMEOUT_MAX_MS ? timeout * 2u : PING_TIMEOUT_MAX_MS;
    }
    res->failed++;
}

static void run_pings(struct demo *d)
{
    for (unsigned i = 0; i < N_HOSTS; i++) {
        for (unsigned j = 0; j < N_HOSTS; j++) {
            if (i == j)
                continue;
            for (unsigned k = 0; k < PINGS_PER_PAIR; k++)
                ping_once(d, d->hosts[i], d->hosts[j], &d->pairs[i][j]);
        }
    }
}

/* ---- UDP echo over the raw API ---------------------------------------- */

static void echo_recv(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                      const struct kite_addr *src, uint16_t src_port, const struct kite_addr *dst)
{
    struct echo_server *srv = arg;
    (void)dst;
    /* The payload goes back as is; its header room takes the new headers. */
    if (kite_udp_sendto(pcb, p, src, src_port) == KITE_ERR_OK)
        srv->echoed++;
    kite_pbuf_free(pcb->stack, p);
}

static uint16_t datagram(uint8_t id, uint16_t seq, uint8_t *buf)
{
    uint16_t len = (uint16_t)(3u + (seq * 211u + id * 17u) % (UDP_MAX_LEN - 2u));
    buf[0] = id;
    buf[1] = (uint8_t)(seq >> 8);
    buf[2] = (uint8_t)seq;
    for (unsigned i = 3; i < len; i++)
        buf[i] = (uint8_t)(i ^ (seq * 7u) ^ id);
    return len;
}

static void client_recv(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                        const struct kite_addr *src, uint16_t src_port, const struct kite_addr *dst)
{
    struct udp_client *c = arg;
    uint8_t got[UDP_MAX_LEN + 1], want[UDP_MAX_LEN];
    (void)src;
    (void)src_port;
    (void)dst;
    uint16_t len = kite_pbuf_copy_out(p, got, sizeof got, 0);
    kite_pbuf_free(pcb->stack, p);
    uint16_t seq = (uint16_t)(len >= 3 ? got[1] << 8 | got[2] : UDP_COUNT);
    if (seq >= UDP_COUNT || got[0] != c->id || len != datagram(c->id, seq, want) ||
        memcmp(got, want, len) != 0) {
        c->bad++;
        return;
    }
    if (c->got[seq])
        c->dups++;
    else
        c->acked++;
    c->got[seq] = true;
}

static void client_send_missing(struct udp_client *c, uint32_t server)
{
    uint8_t buf[UDP_MAX_LEN];
    struct kite_addr dst = KITE_ADDR_V4(server);
    for (uint16_t seq = 0; seq < UDP_COUNT; seq++) {
        if (c->got[seq])
            continue;
        uint16_t len = datagram(c->id, seq, buf);
        struct kite_pbuf *p =
            kite_pbuf_from_data(&c->h->stack, KITE_LAYER_TRANSPORT, buf, len, true);
        if (p == NULL)
            continue; /* out of buffers: the next round sends it */
        (void)kite_udp_sendto(c->pcb, p, &dst, ECHO_PORT);
        kite_pbuf_free(&c->h->stack, p);
        c->sent++;
    }
}

static bool clients_done(void *ctx)
{
    const struct demo *d = ctx;
    for (unsigned i = 0; i < N_HOSTS - 1; i++) {
        if (d->clients[i].acked < UDP_COUNT)
            return false;
    }
    return true;
}

static int start_udp(struct demo *d)
{
    d->server.pcb = kite_udp_new(&d->hosts[0]->stack);
    if (d->server.pcb == NULL || kite_udp_bind(d->server.pcb, NULL, ECHO_PORT) != KITE_ERR_OK)
        return -1;
    kite_udp_recv(d->server.pcb, echo_recv, &d->server);
    for (unsigned i = 0; i < N_HOSTS - 1; i++) {
        struct udp_client *c = &d->clients[i];
        c->h = d->hosts[i + 1];
        c->id = (uint8_t)(i + 2u);
        c->pcb = kite_udp_new(&c->h->stack);
        if (c->pcb == NULL || kite_udp_bind(c->pcb, NULL, 0) != KITE_ERR_OK)
            return -1;
        kite_udp_recv(c->pcb, client_recv, c);
    }
    return 0;
}

static void run_udp(struct demo *d)
{
    for (unsigned r = 0; r < UDP_ROUNDS && !clients_done(d); r++) {
        for (unsigned i = 0; i < N_HOSTS - 1; i++)
            client_send_missing(&d->clients[i], d->hosts[0]->ip);
        kite_sim_run_until(&d->sim, d->sim.now + UDP_TIMEOUT_MS, clients_done, d);
    }
}

/* ---- set-up, report, tear-down ---------------------------------------- */

static int setup(struct demo *d, uint64_t seed)
{
    const struct kite_simlink_config cfg = {.seed = seed,
                                            .loss_ppm = 100000,
                                            .duplicate_ppm = 20000,
                                            .reorder_ppm = 30000,
                                            .delay_ms = 2,
                                            .jitter_ms = 3,
                                            .reorder_delay_ms = 10};
    kite_sim_init(&d->sim, 0);
    d->link = kite_simlink_new(&cfg);
    if (d->link == NULL)
        return -1;
    kite_sim_add_link(&d->sim, d->link);
    for (unsigned i = 0; i < N_HOSTS; i++) {
        struct host *h = calloc(1, sizeof *h);
        if (h == NULL)
            return -1;
        d->hosts[i] = h;
        const struct kite_stack_config scfg = {.seed = seed * 7919u + i, .now = 0};
        const uint8_t mac[6] = {0x02, 0x6b, 0x69, 0x74, 0x65, (uint8_t)(i + 1u)};
        h->ip = KITE_IP4(192, 0, 2, i + 1u);
        h->ping.id = (uint16_t)(0x4b00u + i);
        if (kite_stack_init(&h->stack, &scfg) != KITE_ERR_OK ||
            kite_simlink_add_netif(d->link, &h->stack, &h->netif, "sim0", mac) != KITE_ERR_OK ||
            kite_netif_set_ipv4(&h->netif, h->ip, 24, 0) != KITE_ERR_OK)
            return -1;
        kite_icmp4_set_echo_reply_hook(&h->stack, on_echo_reply, h);
        kite_sim_add_stack(&d->sim, &h->stack);
    }
    return 0;
}

static void print_pings(const struct demo *d)
{
    char a[16], b[16];
    printf("\nping: %d per pair, %d-byte data, up to %d tries (timeout %d ms doubling to %d)\n",
           PINGS_PER_PAIR, PING_LEN, PING_TRIES, PING_TIMEOUT_MS, PING_TIMEOUT_MAX_MS);
    printf("  %-11s    %-11s  %-20s %8s %5s %9s %6s\n", "from", "to", "rtt min/avg/max ms",
           "answered", "lost", "recovered", "failed");
    for (unsigned i = 0; i < N_HOSTS; i++) {
        for (unsigned j = 0; j < N_HOSTS; j++) {
            const struct pair_result *r = &d->pairs[i][j];
            if (i == j)
                continue;
            char rtt[32] = "-";
            if (r->answered > 0)
                snprintf(rtt, sizeof rtt, "%" PRIu64 " / %.1f / %" PRIu64, r->rtt_min,
                         (double)r->rtt_sum / r->answered, r->rtt_max);
            printf("  %-11s -> %-11s  %-20s %5u/%-2d %5u %9u %6u\n",
                   kite_ip4_format(d->hosts[i]->ip, a, sizeof a),
                   kite_ip4_format(d->hosts[j]->ip, b, sizeof b), rtt, r->answered, PINGS_PER_PAIR,
                   r->attempts_lost, r->recovered, r->failed);
        }
    }
}

static void print_udp(const struct demo *d)
{
    char a[16];
    printf("\nudp echo: service on 192.0.2.1:%d (raw API), %d datagrams of 3..%d bytes per "
           "client, up to %d rounds of %d ms\n",
           ECHO_PORT, UDP_COUNT, UDP_MAX_LEN, UDP_ROUNDS, UDP_TIMEOUT_MS);
    printf("  %-11s %6s %7s %10s %11s %7s %8s\n", "client", "sent", "echoed", "lost", "duplicates",
           "failed", "corrupt");
    for (unsigned i = 0; i < N_HOSTS - 1; i++) {
        const struct udp_client *c = &d->clients[i];
        printf("  %-11s %6u %7u %10u %11u %7u %8u\n", kite_ip4_format(c->h->ip, a, sizeof a),
               c->sent, c->acked, c->sent - c->acked, c->dups, UDP_COUNT - c->acked, c->bad);
    }
    printf("  server echoed %u datagrams (duplicates on the wire included)\n", d->server.echoed);
}

static void print_link_and_arp(const struct demo *d)
{
    const struct kite_simlink_stats *s = kite_simlink_stats(d->link);
    char a[16];
    printf("\nlink: %u frames sent, %u copies delivered, %u lost, %u duplicated, %u reordered, "
           "%u corrupted, %u refused (no rx buffer)\n",
           s->sent, s->delivered, s->lost, s->duplicated, s->reordered, s->corrupted, s->rx_no_mem);
    printf("\narp:\n  %-11s %9s %8s %10s %8s %7s %11s\n", "host", "requests", "replies",
           "announced", "replies", "queued", "unresolved");
    printf("  %-11s %9s %8s %10s %8s %7s %11s\n", "", "sent", "sent", "", "received", "", "drops");
    for (unsigned i = 0; i < N_HOSTS; i++) {
        const struct kite_stats_arp *st = &d->hosts[i]->stack.stats.arp;
        printf("  %-11s %9u %8u %10u %8u %7u %11u\n", kite_ip4_format(d->hosts[i]->ip, a, sizeof a),
               st->requests_sent, st->replies_sent, st->gratuitous_sent, st->replies_rx, st->queued,
               st->drop_unresolved + st->drop_queue_full);
    }
}

static void print_pools(const struct demo *d)
{
    char a[16];
    printf("\npools (peak / size, failed allocations):\n");
    for (unsigned i = 0; i < N_HOSTS; i++) {
        printf("  %-11s", kite_ip4_format(d->hosts[i]->ip, a, sizeof a));
        for (int id = 0; id < KITE_POOL__COUNT; id++) {
            const struct kite_pool *p = kite_stack_pool(&d->hosts[i]->stack, (enum kite_pool_id)id);
            printf("  %s %u/%u", p->name, (unsigned)p->peak, (unsigned)p->count);
            if (p->failed > 0)
                printf(" (%" PRIu32 " failed)", p->failed);
        }
        printf("\n");
    }
}

/* Tear everything down; returns the number of pool blocks still in use. */
static unsigned teardown(struct demo *d)
{
    unsigned leaked = 0;
    for (unsigned i = 0; i < N_HOSTS - 1; i++) {
        if (d->clients[i].pcb != NULL)
            kite_udp_remove(d->clients[i].pcb);
    }
    if (d->server.pcb != NULL)
        kite_udp_remove(d->server.pcb);
    for (unsigned i = 0; i < N_HOSTS; i++) {
        struct host *h = d->hosts[i];
        if (h == NULL)
            continue;
        if (h->netif.stack != NULL) {
            kite_simlink_detach(d->link, &h->netif);
            kite_netif_remove(&h->netif);
        }
        kite_stack_deinit(&h->stack);
        leaked += kite_stack_pools_in_use(&h->stack);
        free(h);
    }
    kite_simlink_free(d->link);
    return leaked;
}

static int parse_args(int argc, char **argv, uint64_t *seed, const char **path)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            char *end;
            *seed = strtoull(argv[++i], &end, 0);
            if (*end != '\0')
                return -1;
        } else if (argv[i][0] == '-') {
            return -1;
        } else {
            *path = argv[i];
        }
    }
    return 0;
}

static bool never(void *ctx)
{
    (void)ctx;
    return false;
}

/* ---- TCP download --------------------------------------------------------- */

static uint8_t tcp_byte(uint32_t i)
{
    return (uint8_t)(i * 31u + (i >> 8));
}

static void tcp_fill(struct tcp_demo *t)
{
    uint8_t buf[1024];
    while (t->server != NULL && t->queued < TCP_BYTES) {
        uint16_t n = (uint16_t)sizeof buf;
        for (uint16_t i = 0; i < n; i++)
            buf[i] = tcp_byte(t->queued + i);
        if (kite_tcp_write(t->server, buf, n, KITE_TCP_WRITE_COPY) != KITE_ERR_OK)
            break; /* send buffer full: the sent callback calls us again */
        t->queued += n;
    }
    if (t->server != NULL && t->queued == TCP_BYTES) {
        (void)kite_tcp_close(t->server); /* FIN after the data; the stack frees it */
        t->server = NULL;
    } else if (t->server != NULL) {
        (void)kite_tcp_output(t->server);
    }
}

static void tcp_sent(void *arg, struct kite_tcp_pcb *pcb, uint32_t len)
{
    (void)pcb;
    (void)len;
    tcp_fill(arg);
}

static void tcp_failed(void *arg, enum kite_err err)
{
    struct tcp_demo *t = arg;
    (void)err;
    t->failed = true;
}

/* The server sends; the listener's table serves its connection too. */
static enum kite_err tcp_accept(void *arg, struct kite_tcp_pcb *pcb);
static const struct kite_tcp_ops server_ops = {
    .accept = tcp_accept, .sent = tcp_sent, .err = tcp_failed};

static enum kite_err tcp_accept(void *arg, struct kite_tcp_pcb *pcb)
{
    struct tcp_demo *t = arg;
    t->server = pcb;
    tcp_fill(t);
    return KITE_ERR_OK;
}

static void tcp_recv(void *arg, struct kite_tcp_pcb *pcb, struct kite_pbuf *p)
{
    struct tcp_demo *t = arg;
    if (p == NULL) { /* the server's FIN: that was everything */
        t->done = true;
        t->end = kite_stack_now(pcb->stack);
        (void)kite_tcp_close(pcb);
        t->client = NULL;
        return;
    }
    for (const struct kite_pbuf *q = p; q != NULL; q = q->next)
        for (uint16_t i = 0; i < q->len; i++)
            t->bad += q->payload[i] != tcp_byte(t->received++);
    kite_tcp_recved(pcb, p->tot_len);
    kite_pbuf_free(pcb->stack, p);
}

static int start_tcp(struct demo *d)
{
    struct tcp_demo *t = &d->tcp;
    struct kite_stack *server = &d->hosts[0]->stack, *client = &d->hosts[N_HOSTS - 1]->stack;
    static const struct kite_tcp_ops client_ops = {.recv = tcp_recv, .err = tcp_failed};
    struct kite_tcp_pcb *pcb = kite_tcp_new(server);
    t->client = kite_tcp_new(client);
    if (pcb == NULL || t->client == NULL || kite_tcp_bind(pcb, NULL, TCP_PORT) != KITE_ERR_OK)
        return -1;
    kite_tcp_arg(pcb, t);
    kite_tcp_set_ops(pcb, &server_ops);
    t->listener = kite_tcp_listen(pcb, 2, NULL);
    if (t->listener == NULL)
        return -1;
    kite_tcp_arg(t->client, t);
    kite_tcp_set_ops(t->client, &client_ops);
    struct kite_addr to = KITE_ADDR_V4(d->hosts[0]->ip);
    t->start = d->sim.now;
    return kite_tcp_connect(t->client, &to, TCP_PORT) == KITE_ERR_OK ? 0 : -1;
}

static bool tcp_finished(void *ctx)
{
    const struct tcp_demo *t = ctx;
    return t->done || t->failed;
}

static void run_tcp(struct demo *d)
{
    if (start_tcp(d) != 0) {
        d->tcp.failed = true;
        return;
    }
    kite_sim_run_until(&d->sim, d->sim.now + 600000, tcp_finished, &d->tcp);
    if (d->tcp.listener != NULL)
        kite_tcp_listener_close(d->tcp.listener);
    d->tcp.listener = NULL;
    /* TIME_WAIT and the last ACKs: let them run out so every pool drains. */
    kite_sim_run_until(&d->sim, d->sim.now + 2 * KITE_TCP_MSL_MS + 5000, never, NULL);
}

static void print_tcp(const struct demo *d)
{
    const struct tcp_demo *t = &d->tcp;
    const struct kite_stats_tcp *s = &d->hosts[0]->stack.stats.tcp;
    double secs = (double)(t->end - t->start) / 1000.0;
    printf("\ntcp download: 192.0.2.%d fetches %u KiB from 192.0.2.1:%d (raw API; SACK, "
           "timestamps and window scaling negotiated)\n",
           N_HOSTS, TCP_BYTES / 1024u, TCP_PORT);
    if (!t->done) {
        printf("  did not complete%s\n", t->failed ? " (connection failed)" : "");
        return;
    }
    printf("  %" PRIu32 " bytes in %.2f s virtual, %.1f kB/s, %" PRIu32 " bytes wrong\n",
           t->received, secs, secs > 0 ? (double)t->received / secs / 1000.0 : 0.0, t->bad);
    printf("  sender: %" PRIu32 " segments, %" PRIu32 " retransmitted (%" PRIu32
           " fast retransmits, %" PRIu32 " timeouts), %" PRIu32 " SACK recoveries\n",
           s->tx, s->retransmits, s->fast_retransmits, s->rto_timeouts, s->sack_recoveries);
}

/* Every ping answered, every datagram echoed, and nothing altered. */
static bool all_done(struct demo *d)
{
    for (unsigned i = 0; i < N_HOSTS; i++) {
        if (d->hosts[i]->ping.bad > 0)
            return false;
        for (unsigned j = 0; j < N_HOSTS; j++) {
            if (d->pairs[i][j].failed > 0)
                return false;
        }
    }
    for (unsigned i = 0; i < N_HOSTS - 1; i++) {
        if (d->clients[i].bad > 0)
            return false;
    }
    if (!d->tcp.done || d->tcp.bad > 0 || d->tcp.received != TCP_BYTES)
        return false;
    return clients_done(d);
}

int main(int argc, char **argv)
{
    const kite_time_ms wall_start = kite_port_now_ms();
    uint64_t seed = 1;
    const char *path = "kite-demo.pcap";
    if (parse_args(argc, argv, &seed, &path) != 0) {
        fprintf(stderr, "usage: %s [--seed N] [capture.pcap]\n", argv[0]);
        return 2;
    }
    struct demo *d = calloc(1, sizeof *d);
    if (d == NULL || setup(d, seed) != 0 || start_udp(d) != 0) {
        fprintf(stderr, "kite-demo: set-up failed\n");
        return 1;
    }
    struct kite_pcap *pcap = kite_pcap_open(path, &d->hosts[0]->netif);
    if (pcap == NULL)
        perror(path);
    printf("kite-demo: %d hosts 192.0.2.1-%d/24 on one simulated hub, seed %" PRIu64 "\n", N_HOSTS,
           N_HOSTS, seed);
    printf("link: 2 ms + 0..3 ms jitter one way, 10%% loss, 2%% duplication, 3%% reordering "
           "(+10 ms)\n");

    run_pings(d);
    run_udp(d);
    /* Let the last frames and duplicates land before counting. */
    kite_sim_run_until(&d->sim, d->sim.now + 200, never, NULL);
    run_tcp(d);

    print_pings(d);
    print_udp(d);
    print_tcp(d);
    print_link_and_arp(d);
    print_pools(d);
    bool complete = all_done(d);
    kite_time_ms end = d->sim.now;
    uint32_t frames = 0;
    if (pcap != NULL) {
        frames = kite_pcap_count(pcap);
        kite_pcap_close(pcap);
        printf("\npcap: %s (%" PRIu32 " frames seen by 192.0.2.1)\n", path, frames);
    }
    unsigned leaked = teardown(d);
    free(d);
    printf("virtual time %" PRIu64 " ms (wall clock %" PRIu64 " ms); all answered intact: %s; "
           "pools back to zero: %s\n",
           end, kite_port_now_ms() - wall_start, complete ? "yes" : "NO",
           leaked == 0 ? "yes" : "NO");
    return leaked == 0 && complete ? 0 : 1;
}
