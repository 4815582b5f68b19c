/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP unit-test harness: one kite stack with an IP-level netif whose sends
 * are captured, and a scripted peer. Tests build segments field by field
 * (flags, seq, ack, window, options, payload) with correct checksums using
 * the wire emit functions, inject them, and parse every reply the stack sent,
 * on virtual time (kite_stack_poll). Header-only so each test file is one
 * executable.
 *
 * Addresses: the stack is TH_US (192.0.2.2/24), the scripted peer TH_PEER.
 */
#ifndef KITE_TCP_HARNESS_H
#define KITE_TCP_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kite/byteorder.h"
#include "kite/tcp.h"
#include "kite/wire/checksum.h"
#include "kite/wire/ipv4.h"
#include "kite/wire/tcp.h"
#include "testutil.h"

#define TH_US KITE_IP4(192, 0, 2, 2)
#define TH_US2 KITE_IP4(192, 0, 2, 3)
#define TH_PEER KITE_IP4(192, 0, 2, 1)
#define TH_PORT 80
#define TH_PEER_PORT 40000
#define TH_PEER_ISN 1000u
#define TH_MSS 1460u /* the MSS the scripted peer offers */
#define TH_RX_MAX 65536u

/* Sizes from the options (include/kite/opts.h and the profiles), so every
 * test runs in every profile with expectations derived, not excluded. */
#define TH_MTU 1500u /* the capture netif's */
/* The MSS the stack announces for a link MTU (RFC 9293 3.7.1: MTU - 40),
 * capped by KITE_TCP_MSS_MAX. */
#define TH_CAP_MSS(m)                                                                              \
    ((KITE_TCP_MSS_MAX + 0u) != 0u && (m) > (KITE_TCP_MSS_MAX + 0u) ? (KITE_TCP_MSS_MAX + 0u) : (m))
#define TH_OUR_MSS TH_CAP_MSS(TH_MTU - 40u)
/* The segment size both ways with a peer that offers TH_MSS. */
#define TH_SMSS (TH_OUR_MSS < TH_MSS ? TH_OUR_MSS : TH_MSS)
#define TH_SND_BUF (KITE_TCP_SND_BUF + 0u)
#define TH_RCV_BUF (KITE_TCP_RCV_BUF + 0u)
#define TH_MIN(a, b) ((a) < (b) ? (a) : (b))
/* Bytes one connection can queue for sending as far as the pbuf pool goes:
 * the blocks TCP leaves for reception (KITE_TCP_POOL_RESERVE) and one for
 * the frame being received are not for written data. */
#define TH_POOL_SEND_CAP                                                                           \
    ((KITE_PBUF_POOL_COUNT - KITE_TCP_POOL_RESERVE - 1u) * KITE_PBUF_POOL_BUFSIZE)
/* The segment size for a scenario of n segments in flight: the MSS, or less
 * (the scripted peer offers it) where the pool cannot hold n full ones. */
#define TH_SEG_FOR(n) TH_MIN(TH_SMSS, TH_POOL_SEND_CAP / (n))
/* Connections a test may script: every pcb of the pool and a few more. */
#define TH_MAX_CONNS (KITE_TCP_PCB_COUNT + 4 > 12 ? KITE_TCP_PCB_COUNT + 4 : 12)

/* Options a scripted SYN offers (KITE_TCP_HAS_* bits). */
#define TH_OPTS_ALL (KITE_TCP_HAS_MSS | KITE_TCP_HAS_WSCALE | KITE_TCP_HAS_SACK_PERM)

/* The scripted peer's view of one connection. */
struct th_conn {
    uint32_t peer_ip, our_ip;
    uint16_t sport, dport; /* the peer's port, ours */
    uint32_t seq;          /* the peer's next sequence number */
    uint32_t ack;          /* the next byte the peer expects from us */
    bool synced;           /* ack is valid (our SYN seen) */
    uint32_t our_iss;
    uint16_t window;  /* raw window field the peer sends */
    uint8_t syn_opts; /* KITE_TCP_HAS_* offered in the peer's SYN */
    uint16_t syn_mss;
    uint8_t syn_wscale;
    uint8_t our_wscale; /* the shift of our window fields (0 when not negotiated) */
    bool ts;            /* the peer puts timestamps on every segment */
    uint8_t ip_tos;     /* the IP TOS byte of its packets (ECN in the low two bits) */
    uint32_t ts_val, ts_ecr;
};

/* A segment the stack sent, parsed. */
struct th_pkt {
    struct kite_ipv4_repr ip;
    struct kite_tcp_repr tcp;
    uint16_t len; /* payload bytes */
    uint8_t data[KT_CAPTURE_BYTES];
};

struct th {
    struct kite_stack stack;
    struct kt_capture_if cif;
    unsigned next; /* next captured packet to read */
    struct th_pkt last;

    struct th_conn c; /* the default connection */
    struct th_conn *conns[TH_MAX_CONNS];
    unsigned nconns;

    /* Application side (callbacks record here). */
    struct kite_tcp_listener *listener;
    struct kite_tcp_pcb *pcb; /* last accepted or connected pcb, NULL after err */
    struct kite_tcp_pcb *accepted[TH_MAX_CONNS];
    unsigned accepts, connects, errs, fins, recvs, polls;
    enum kite_err err;
    enum kite_err accept_ret;
    bool hold_window; /* don't call kite_tcp_recved (the window closes) */
    uint32_t unread;
    uint64_t sent_acked;
    uint32_t rx_len;
    uint8_t rx[TH_RX_MAX];
};

/* ---- Application callbacks ----------------------------------------------- */

static inline enum kite_err th_on_accept(void *arg, struct kite_tcp_pcb *newpcb)
{
    struct th *t = arg;
    if (t->accepts < TH_MAX_CONNS)
        t->accepted[t->accepts] = newpcb;
    t->accepts++;
    if (t->accept_ret == KITE_ERR_OK)
        t->pcb = newpcb;
    return t->accept_ret;
}

static inline void th_on_connected(void *arg, struct kite_tcp_pcb *pcb)
{
    struct th *t = arg;
    t->connects++;
    t->pcb = pcb;
}

static inline void th_on_recv(void *arg, struct kite_tcp_pcb *pcb, struct kite_pbuf *p)
{
    struct th *t = arg;
    if (p == NULL) {
        t->fins++;
        return;
    }
    t->recvs++;
    uint16_t n = p->tot_len;
    assert_true(t->rx_len + n <= TH_RX_MAX);
    assert_int_equal(kite_pbuf_copy_out(p, t->rx + t->rx_len, n, 0), n);
    t->rx_len += n;
    kite_pbuf_free(&t->stack, p);
    if (t->hold_window)
        t->unread += n;
    else
        kite_tcp_recved(pcb, n);
}

static inline void th_on_sent(void *arg, struct kite_tcp_pcb *pcb, uint32_t len)
{
    struct th *t = arg;
    (void)pcb;
    t->sent_acked += len;
}

static inline void th_on_err(void *arg, enum kite_err err)
{
    struct th *t = arg;
    t->errs++;
    t->err = err;
    t->pcb = NULL;
}

static inline void th_on_poll(void *arg, struct kite_tcp_pcb *pcb)
{
    struct th *t = arg;
    (void)pcb;
    t->polls++;
}

static const struct kite_tcp_ops th_ops = {.accept = th_on_accept,
                                           .connected = th_on_connected,
                                           .recv = th_on_recv,
                                           .sent = th_on_sent,
                                           .err = th_on_err};

/* The same with the poll callback every 500 ms. */
static const struct kite_tcp_ops th_ops_poll = {.accept = th_on_accept,
                                                .connected = th_on_connected,
                                                .recv = th_on_recv,
                                                .sent = th_on_sent,
                                                .err = th_on_err,
                                                .poll = th_on_poll,
                                                .poll_interval_ms = 500};

static inline void th_callbacks(struct th *t, struct kite_tcp_pcb *pcb)
{
    kite_tcp_arg(pcb, t);
    kite_tcp_set_ops(pcb, &th_ops);
}

/* ---- Fixture ----------------------------------------------------------------- */

static inline void th_conn_init(struct th_conn *c, uint16_t sport)
{
    memset(c, 0, sizeof *c);
    c->peer_ip = TH_PEER;
    c->our_ip = TH_US;
    c->sport = sport;
    c->dport = TH_PORT;
    c->seq = TH_PEER_ISN;
    c->window = 65535;
    c->syn_opts = TH_OPTS_ALL;
    c->syn_mss = TH_MSS;
    c->syn_wscale = 0;
    c->ts_val = 5000;
}

static inline void th_conn_add(struct th *t, struct th_conn *c)
{
    assert_true(t->nconns < TH_MAX_CONNS);
    t->conns[t->nconns++] = c;
}

static inline int th_setup(void **state)
{
    struct th *t = calloc(1, sizeof *t);
    assert_non_null(t);
    struct kite_stack_config cfg = {.seed = 42, .now = 0};
    assert_int_equal(kite_stack_init(&t->stack, &cfg), KITE_ERR_OK);
    kt_capture_add_ip(&t->stack, &t->cif, "tun0");
    assert_int_equal(kite_netif_set_ipv4(&t->cif.netif, TH_US, 24, 0), KITE_ERR_OK);
    kite_netif_set_default(&t->stack, &t->cif.netif);
    th_conn_init(&t->c, TH_PEER_PORT);
    th_conn_add(t, &t->c);
    *state = t;
    return 0;
}

/* TCP objects in use: connections and listeners (a pool each). */
static inline unsigned th_pcbs_used(const struct th *t)
{
    return kite_stack_pool(&t->stack, KITE_POOL_TCP_PCB)->used +
           kite_stack_pool(&t->stack, KITE_POOL_TCP_LISTEN)->used;
}

/* Connection pcbs only (the pool a SYN flood would drain). */
static inline unsigned th_conns_used(const struct th *t)
{
    return kite_stack_pool(&t->stack, KITE_POOL_TCP_PCB)->used;
}

/* Tests end their pcbs themselves (abort, close and TIME_WAIT expiry,
 * listener close). The teardown checks that no TCP object is left and every
 * pool is back to zero *before* kite_stack_deinit, which frees leftovers and
 * would hide a connection that never finished; then that deinit leaves none. */
static inline int th_teardown(void **state)
{
    struct th *t = *state;
    if (th_pcbs_used(t) != 0)
        fprintf(stderr, "th_teardown: %u TCP pcbs/listeners left before deinit\n", th_pcbs_used(t));
    assert_int_equal(th_pcbs_used(t), 0);
    kt_assert_pools_empty(&t->stack);
    kite_stack_deinit(&t->stack);
    kt_assert_pools_empty(&t->stack);
    free(t);
    return 0;
}

static inline void th_advance(struct th *t, kite_time_ms ms)
{
    kite_stack_poll(&t->stack, t->stack.now + ms);
}

static inline void th_advance_to(struct th *t, kite_time_ms when)
{
    kite_stack_poll(&t->stack, when);
}

/* Like a real port: poll at every deadline on the way to now + ms (a single
 * poll fires each due timer once, at the poll's time). */
static inline void th_run(struct th *t, kite_time_ms ms)
{
    kite_time_ms end = t->stack.now + ms;
    for (unsigned guard = 0; guard < 100000; guard++) {
        kite_time_ms d = kite_stack_next_deadline(&t->stack);
        if (d > end)
            break;
        kite_stack_poll(&t->stack, d > t->stack.now ? d : t->stack.now);
    }
    kite_stack_poll(&t->stack, end);
}

/* ---- Building and injecting segments ------------------------------------------ */

/* A header from c with the given flags, seq and ack, and the peer's window
 * and timestamps (if c->ts). */
static inline struct kite_tcp_repr th_hdr(const struct th_conn *c, uint8_t flags, uint32_t seq,
                                          uint32_t ack)
{
    struct kite_tcp_repr h;
    memset(&h, 0, sizeof h);
    h.src_port = c->sport;
    h.dst_port = c->dport;
    h.seq = seq;
    h.ack = (flags & KITE_TCP_ACK) ? ack : 0;
    h.flags = flags;
    h.window = c->window;
    if (c->ts) {
        h.opts |= KITE_TCP_HAS_TIMESTAMP;
        h.ts_val = c->ts_val;
        h.ts_ecr = (flags & KITE_TCP_ACK) ? c->ts_ecr : 0;
    }
    return h;
}

/* Write IPv4 + TCP (h) + data into buf; returns the packet length. */
static inline uint16_t th_build(const struct th_conn *c, const struct kite_tcp_repr *h,
                                const void *data, uint16_t len, uint8_t *buf, size_t cap)
{
    struct kite_tcp_repr r = *h;
    uint8_t hl = kite_tcp_header_len(&r);
    uint16_t tl = (uint16_t)(hl + len);
    assert_true(cap >= (size_t)KITE_IPV4_HLEN + tl);
    uint8_t *tcp = buf + KITE_IPV4_HLEN;
    r.checksum = 0;
    assert_int_equal(kite_tcp_emit(&r, tcp, hl), KITE_ERR_OK);
    if (len > 0 && data != NULL)
        memcpy(tcp + hl, data, len);
    uint32_t sum = kite_cksum_pseudo4(c->peer_ip, c->our_ip, KITE_IP_PROTO_TCP, tl) +
                   kite_cksum_add(0, tcp, tl);
    kite_put_be16(tcp + 16, (uint16_t)~kite_cksum_fold(sum));
    struct kite_ipv4_repr ip = {.total_len = (uint16_t)(KITE_IPV4_HLEN + tl),
                                .ttl = 64,
                                .proto = KITE_IP_PROTO_TCP,
                                .tos = c->ip_tos,
                                .src = c->peer_ip,
                                .dst = c->our_ip,
                                .id = 1};
    assert_int_equal(kite_ipv4_emit(&ip, buf, KITE_IPV4_HLEN), KITE_ERR_OK);
    return (uint16_t)(KITE_IPV4_HLEN + tl);
}

static inline void th_inject(struct th *t, const uint8_t *pkt, uint16_t len)
{
    kt_inject(&t->stack, &t->cif.netif, pkt, len);
}

/* Send exactly h (plus data) from connection c. */
static inline void th_send_hdr(struct th *t, const struct th_conn *c, const struct kite_tcp_repr *h,
                               const void *data, uint16_t len)
{
    uint8_t buf[KITE_IPV4_HLEN + KITE_TCP_MAX_HLEN + 1600];
    th_inject(t, buf, th_build(c, h, data, len, buf, sizeof buf));
}

/* Send a segment with explicit seq/ack; c's sequence state is not touched. */
static inline void th_send_at(struct th *t, struct th_conn *c, uint8_t flags, uint32_t seq,
                              uint32_t ack, const void *data, uint16_t len)
{
    struct kite_tcp_repr h = th_hdr(c, flags, seq, ack);
    th_send_hdr(t, c, &h, data, len);
    if (c->ts)
        c->ts_val++; /* the peer's clock ticks between segments */
}

/* Send the peer's next segment (seq = c->seq, ack = c->ack) and advance c->seq. */
static inline void th_send_c(struct th *t, struct th_conn *c, uint8_t flags, const void *data,
                             uint16_t len)
{
    th_send_at(t, c, flags, c->seq, c->ack, data, len);
    c->seq += len + ((flags & KITE_TCP_SYN) ? 1u : 0u) + ((flags & KITE_TCP_FIN) ? 1u : 0u);
}

static inline void th_send(struct th *t, uint8_t flags, const void *data, uint16_t len)
{
    th_send_c(t, &t->c, flags, data, len);
}

/* The peer's SYN (or SYN-ACK) carrying the options c offers. */
static inline void th_send_syn(struct th *t, struct th_conn *c, uint8_t flags)
{
    struct kite_tcp_repr h = th_hdr(c, flags, c->seq, c->ack);
    h.opts = (uint8_t)(c->syn_opts & ~KITE_TCP_HAS_TIMESTAMP);
    h.mss = c->syn_mss;
    h.wscale = c->syn_wscale;
    if (c->ts) {
        h.opts |= KITE_TCP_HAS_TIMESTAMP;
        h.ts_val = c->ts_val++;
        h.ts_ecr = (flags & KITE_TCP_ACK) ? c->ts_ecr : 0;
    }
    th_send_hdr(t, c, &h, NULL, 0);
    c->seq++;
}

/* ---- Reading what the stack sent ------------------------------------------------ */

static inline struct th_conn *th_conn_of(struct th *t, const struct th_pkt *p)
{
    for (unsigned i = 0; i < t->nconns; i++) {
        struct th_conn *c = t->conns[i];
        if (c->sport == p->tcp.dst_port && (c->dport == p->tcp.src_port || c->dport == 0) &&
            c->peer_ip == p->ip.dst && c->our_ip == p->ip.src)
            return c;
    }
    return NULL;
}

/* The peer takes in what it sees: the timestamp to echo and, for in-order
 * segments, how far it has received. */
static inline void th_peer_learn(struct th *t, const struct th_pkt *p)
{
    struct th_conn *c = th_conn_of(t, p);
    if (c == NULL || (p->tcp.flags & KITE_TCP_RST))
        return;
    if (p->tcp.opts & KITE_TCP_HAS_TIMESTAMP)
        c->ts_ecr = p->tcp.ts_val;
    uint32_t end = p->tcp.seq + p->len + ((p->tcp.flags & KITE_TCP_SYN) ? 1u : 0u) +
                   ((p->tcp.flags & KITE_TCP_FIN) ? 1u : 0u);
    if (p->tcp.flags & KITE_TCP_SYN) {
        /* RFC 7323 2.2: our windows are scaled only when both SYNs offered it. */
        bool both = (p->tcp.opts & KITE_TCP_HAS_WSCALE) && (c->syn_opts & KITE_TCP_HAS_WSCALE);
        c->our_wscale = both ? p->tcp.wscale : 0;
        c->synced = true;
        c->our_iss = p->tcp.seq;
        c->ack = end;
        if (c->dport == 0)
            c->dport = p->tcp.src_port;
        return;
    }
    if (c->synced && (int32_t)(p->tcp.seq - c->ack) <= 0 && (int32_t)(end - c->ack) > 0)
        c->ack = end;
}

/* Parse the next captured packet; false when there is none. Every packet
 * must be a valid IPv4/TCP packet with correct checksums. */
static inline bool th_next(struct th *t, struct th_pkt *out)
{
    if (t->next >= t->cif.count) {
        kt_capture_clear(&t->cif);
        t->next = 0;
        return false;
    }
    assert_int_equal(t->cif.overflow, 0);
    const struct kt_packet *k = &t->cif.sent[t->next++];
    memset(out, 0, sizeof *out);
    assert_int_equal(kite_ipv4_parse(k->data, k->len, true, &out->ip), KITE_ERR_OK);
    assert_int_equal(out->ip.proto, KITE_IP_PROTO_TCP);
    const uint8_t *seg = k->data + out->ip.hlen;
    uint16_t tl = (uint16_t)(out->ip.total_len - out->ip.hlen);
    uint32_t sum = kite_cksum_pseudo4(out->ip.src, out->ip.dst, KITE_IP_PROTO_TCP, tl) +
                   kite_cksum_add(0, seg, tl);
    assert_int_equal(kite_cksum_fold(sum), 0xffff);
    assert_int_equal(kite_tcp_parse(seg, tl, &out->tcp), KITE_ERR_OK);
    out->len = (uint16_t)(tl - out->tcp.hlen);
    memcpy(out->data, seg + out->tcp.hlen, out->len);
    th_peer_learn(t, out);
    return true;
}

/* The window in bytes a segment the stack sent on c offers (SYNs are unscaled). */
static inline uint32_t th_wnd(const struct th_conn *c, const struct th_pkt *p)
{
    if (p->tcp.flags & KITE_TCP_SYN)
        return p->tcp.window;
    return (uint32_t)p->tcp.window << c->our_wscale;
}

/* The window field the stack writes on c for a window of bytes (RFC 7323 2.3:
 * shifted right, the low bits lost). */
static inline uint16_t th_wfield(const struct th_conn *c, uint32_t bytes)
{
    uint32_t f = bytes >> c->our_wscale;
    return (uint16_t)(f > 0xffffu ? 0xffffu : f);
}

/* Receiver SWS avoidance (RFC 1122 4.2.3.3) as the stack applies it: the
 * right edge it offers moves from adv to right only by at least
 * min(RCV.BUFF / 2, MSS), and never back. Edges and rcv_nxt are stream
 * offsets (bytes after the peer's SYN). */
static inline uint32_t th_rcv_edge(uint32_t adv, uint32_t right, uint32_t rcv_nxt)
{
    uint32_t thr = TH_MIN(TH_RCV_BUF / 2u, TH_OUR_MSS);
    if (right <= adv || (right < adv + thr && adv > rcv_nxt))
        return adv;
    return right;
}

/* The window a SYN or SYN-ACK of ours offers for a receive buffer. */
static inline uint16_t th_syn_wnd(uint32_t rcv_buf)
{
    return (uint16_t)(rcv_buf > 0xffffu ? 0xffffu : rcv_buf);
}

static inline const char *th_flags_str(uint8_t f, char *buf)
{
    static const char names[] = "FSRPAUEC";
    int n = 0;
    for (int i = 0; i < 8; i++)
        if (f & (1u << i))
            buf[n++] = names[i];
    buf[n] = '\0';
    return buf;
}

/* The next packet must exist and carry exactly these flags. */
static inline const struct th_pkt *th_expect(struct th *t, uint8_t flags)
{
    if (!th_next(t, &t->last)) {
        print_error("expected a segment, the stack sent nothing\n");
        fail();
    }
    if (t->last.tcp.flags != flags) {
        char a[9], b[9];
        print_error("expected flags %s, got %s (seq %u ack %u len %u)\n", th_flags_str(flags, a),
                    th_flags_str(t->last.tcp.flags, b), t->last.tcp.seq, t->last.tcp.ack,
                    t->last.len);
        fail();
    }
    return &t->last;
}

/* An ACK (optionally with PSH) acknowledging exactly ack. */
static inline const struct th_pkt *th_expect_ack(struct th *t, uint32_t ack)
{
    const struct th_pkt *p = th_expect(t, KITE_TCP_ACK);
    assert_int_equal(p->tcp.ack, ack);
    return p;
}

/* Read everything sent; the last segment must be an ACK of exactly ack. */
static inline void th_expect_last_ack(struct th *t, uint32_t ack)
{
    unsigned n = 0;
    while (th_next(t, &t->last)) /* a false return leaves t->last alone */
        n++;
    if (n == 0) {
        print_error("expected an ACK of %u, the stack sent nothing\n", ack);
        fail();
    }
    assert_true(t->last.tcp.flags & KITE_TCP_ACK);
    assert_int_equal(t->last.tcp.ack, ack);
}

static inline void th_expect_none(struct th *t)
{
    struct th_pkt p;
    if (th_next(t, &p)) {
        char a[9];
        print_error("expected silence, got %s seq %u ack %u len %u\n", th_flags_str(p.tcp.flags, a),
                    p.tcp.seq, p.tcp.ack, p.len);
        fail();
    }
}

/* Forget everything sent so far (the peer still learns from it). */
static inline void th_drain(struct th *t)
{
    struct th_pkt p;
    while (th_next(t, &p))
        ;
}

static inline unsigned th_pending(const struct th *t)
{
    return t->cif.count - t->next;
}

/* ---- Opening connections ---------------------------------------------------------- */

static inline void th_listen(struct th *t, uint8_t backlog)
{
    struct kite_tcp_pcb *pcb = kite_tcp_new(&t->stack);
    assert_non_null(pcb);
    th_callbacks(t, pcb);
    assert_int_equal(kite_tcp_bind(pcb, NULL, TH_PORT), KITE_ERR_OK);
    enum kite_err err;
    t->listener = kite_tcp_listen(pcb, backlog, &err);
    assert_int_equal(err, KITE_ERR_OK);
    assert_non_null(t->listener);
}

/* Peer SYN -> our SYN-ACK (checked); leaves the child in SYN_RECEIVED. */
static inline const struct th_pkt *th_open_syn(struct th *t, struct th_conn *c)
{
    th_send_syn(t, c, KITE_TCP_SYN);
    const struct th_pkt *p = th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK);
    assert_int_equal(p->tcp.ack, c->seq);
    return p;
}

/* A full passive open on c; returns the accepted pcb. */
static inline struct kite_tcp_pcb *th_accept_c(struct th *t, struct th_conn *c)
{
    unsigned before = t->accepts;
    th_open_syn(t, c);
    th_send_c(t, c, KITE_TCP_ACK, NULL, 0);
    assert_int_equal(t->accepts, before + 1);
    th_expect_none(t);
    assert_non_null(t->pcb);
    assert_int_equal(kite_tcp_get_state(t->pcb), KITE_TCP_ESTABLISHED);
    return t->pcb;
}

/* Listen (backlog 4) and accept the default connection. */
static inline struct kite_tcp_pcb *th_establish(struct th *t)
{
    th_listen(t, 4);
    return th_accept_c(t, &t->c);
}

/* An active open to TH_PEER:TH_PEER_PORT, answered by the scripted peer. */
static inline struct kite_tcp_pcb *th_connect_start(struct th *t)
{
    struct kite_tcp_pcb *pcb = kite_tcp_new(&t->stack);
    assert_non_null(pcb);
    th_callbacks(t, pcb);
    struct kite_addr peer = KITE_ADDR_V4(TH_PEER);
    t->c.dport = 0; /* learned from our SYN */
    assert_int_equal(kite_tcp_connect(pcb, &peer, TH_PEER_PORT), KITE_ERR_OK);
    return pcb;
}

static inline struct kite_tcp_pcb *th_connect(struct th *t)
{
    struct kite_tcp_pcb *pcb = th_connect_start(t);
    th_expect(t, KITE_TCP_SYN);
    th_send_syn(t, &t->c, KITE_TCP_SYN | KITE_TCP_ACK);
    assert_int_equal(t->connects, 1);
    th_expect_ack(t, t->c.seq);
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_ESTABLISHED);
    return pcb;
}

/* Abort the current connection (RST) and close the listener, so the test
 * ends with no pcb. */
static inline void th_cleanup(struct th *t)
{
    if (t->pcb != NULL) {
        kite_tcp_abort(t->pcb);
        t->pcb = NULL;
    }
    if (t->listener != NULL) {
        kite_tcp_listener_close(t->listener);
        t->listener = NULL;
    }
    th_drain(t);
    assert_int_equal(th_pcbs_used(t), 0);
}

/* A deterministic byte pattern for payloads. */
static inline void th_fill(uint8_t *buf, uint32_t len, uint32_t offset)
{
    for (uint32_t i = 0; i < len; i++)
        buf[i] = (uint8_t)((offset + i) * 7u + ((offset + i) >> 8));
}

static inline bool th_rx_matches(const struct th *t, uint32_t offset, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        if (t->rx[offset + i] != (uint8_t)((offset + i) * 7u + ((offset + i) >> 8)))
            return false;
    return true;
}

/* ---- Reaching any synchronized state -------------------------------------------- */

/* Returns the pcb in the requested state. The application keeps its
 * callbacks (it shuts down sending rather than closing) so resets still
 * reach the err callback. */
static inline struct kite_tcp_pcb *th_goto_state(struct th *t, enum kite_tcp_state want)
{
    th_listen(t, 4);
    if (want == KITE_TCP_SYN_RECEIVED) {
        th_open_syn(t, &t->c);
        struct kite_tcp_pcb *child = kite__tcp_next(&t->stack, NULL); /* the only one */
        assert_non_null(child);
        assert_int_equal(kite_tcp_get_state(child), KITE_TCP_SYN_RECEIVED);
        return child;
    }
    struct kite_tcp_pcb *pcb = th_accept_c(t, &t->c);
    uint32_t our_fin_ack = t->c.ack + 1; /* our FIN, once sent, is at c.ack */
    switch (want) {
    case KITE_TCP_ESTABLISHED:
        break;
    case KITE_TCP_FIN_WAIT_1:
    case KITE_TCP_FIN_WAIT_2:
    case KITE_TCP_CLOSING:
    case KITE_TCP_TIME_WAIT:
        assert_int_equal(kite_tcp_shutdown(pcb, false, true), KITE_ERR_OK);
        th_expect(t, KITE_TCP_FIN | KITE_TCP_ACK);
        if (want == KITE_TCP_FIN_WAIT_1)
            break;
        if (want == KITE_TCP_CLOSING) {
            /* The peer's FIN crosses ours: it does not acknowledge it. */
            th_send_at(t, &t->c, KITE_TCP_FIN | KITE_TCP_ACK, t->c.seq, our_fin_ack - 1, NULL, 0);
            t->c.seq++;
            th_expect_ack(t, t->c.seq);
            break;
        }
        th_send(t, KITE_TCP_ACK, NULL, 0);
        th_expect_none(t);
        if (want == KITE_TCP_FIN_WAIT_2)
            break;
        th_send(t, KITE_TCP_FIN | KITE_TCP_ACK, NULL, 0);
        th_expect_ack(t, t->c.seq);
        break;
    case KITE_TCP_CLOSE_WAIT:
    case KITE_TCP_LAST_ACK:
        th_send(t, KITE_TCP_FIN | KITE_TCP_ACK, NULL, 0);
        th_expect_ack(t, t->c.seq);
        assert_int_equal(t->fins, 1);
        if (want == KITE_TCP_CLOSE_WAIT)
            break;
        assert_int_equal(kite_tcp_shutdown(pcb, false, true), KITE_ERR_OK);
        th_expect(t, KITE_TCP_FIN | KITE_TCP_ACK);
        break;
    default:
        fail_msg("state %s not reachable here", kite_tcp_state_name(want));
    }
    assert_int_equal(kite_tcp_get_state(pcb), want);
    th_expect_none(t);
    return pcb;
}

#define TH_TESTS(...)                                                                              \
    int main(void)                                                                                 \
    {                                                                                              \
        const struct CMUnitTest tests[] = {__VA_ARGS__};                                           \
        return cmocka_run_group_tests(tests, NULL, NULL);                                          \
    }
#define TH_TEST(fn) cmocka_unit_test_setup_teardown(fn, th_setup, th_teardown)

#endif
