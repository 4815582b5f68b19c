/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/opts.h"
#if KITE_TCP /* the whole file is TCP (KITE_TCP = 0 leaves it out) */
/* TCP input: validation, demultiplexing, LISTEN and SYN_SENT processing
 * (RFC 9293 3.10.7.2-3) and SYN cookies (RFC 4987 3.6). */
#include <string.h>

#include "kite/ipv4.h"
#include "kite/siphash.h"
#include "kite/wire/checksum.h"
#include "kite/wire/ipv4.h"
#include "tcp_priv.h"

/* ---- Validation ------------------------------------------------------------ */

static bool parse_segment(struct kite_stack *stack, struct kite_pbuf *p,
                          const struct kite_ip_rx *rx, struct tcp_seg *seg)
{
    struct kite_stats_tcp *st = &stack->stats.tcp;
    seg->p = p; /* freed by kite__tcp_input unless the connection takes it */
    if (rx->broadcast || rx->multicast) {
        st->drop_bad_addr++; /* RFC 9293 3.9.1: TCP is unicast only */
        return false;
    }
    uint8_t scratch[KITE_TCP_MAX_HLEN];
    uint16_t n = p->tot_len < KITE_TCP_MAX_HLEN ? p->tot_len : (uint16_t)KITE_TCP_MAX_HLEN;
    const uint8_t *hdr = kite_pbuf_contiguous(p, scratch, n);
    if (p->tot_len < KITE_TCP_HLEN || hdr == NULL) {
        st->drop_short++;
        return false;
    }
    uint32_t sum = kite_cksum_pseudo4(rx->src, rx->dst, KITE_IP_PROTO_TCP, p->tot_len);
    if (kite_cksum_fold(sum + kite__pbuf_cksum(p, 0, p->tot_len)) != 0xffff) {
        st->drop_bad_checksum++;
        return false;
    }
    /* The parser reads only the header (<= n bytes), len is the whole segment. */
    enum kite_err err = kite_tcp_parse(hdr, p->tot_len, &seg->hdr);
    if (err != KITE_ERR_OK) {
        if (err == KITE_ERR_TRUNCATED)
            st->drop_short++;
        else
            st->drop_malformed++;
        return false;
    }
    if (p->len >= seg->hdr.hlen)
        (void)kite_pbuf_header_remove(p, seg->hdr.hlen);
    else /* a header split across pbufs (parsed from the scratch copy) */
        seg->p = p = kite__pbuf_drop_front(stack, p, seg->hdr.hlen);
    seg->data_len = p != NULL ? p->tot_len : 0;
    seg->len = seg->data_len + ((seg->hdr.flags & KITE_TCP_SYN) ? 1u : 0u) +
               ((seg->hdr.flags & KITE_TCP_FIN) ? 1u : 0u);
    seg->ecn = rx->tos & TCP_ECN_MASK;
    seg->src = rx->src;
    seg->dst = rx->dst;
    seg->netif = rx->netif;
    return true;
}

/* ---- Options of a SYN ---------------------------------------------------- */

void kite__tcp_apply_syn_options(struct kite_tcp_pcb *pcb, const struct kite_tcp_repr *hdr)
{
    /* RFC 9293 3.7.1: 536 when the peer sends no MSS; clamp to our route. */
    uint16_t peer_mss = (hdr->opts & KITE_TCP_HAS_MSS) && hdr->mss >= 64 ? hdr->mss : 536;
    kite__tcp_set_send_mss(pcb, peer_mss);
    if (hdr->opts & KITE_TCP_HAS_WSCALE) {
        pcb->flags |= KITE_TCPF_WSCALE;
        pcb->snd_wscale = hdr->wscale & 15u; /* <= 14, RFC 7323 2.3 */
    } else {
        pcb->snd_wscale = 0;
        pcb->rcv_wscale = 0; /* RFC 7323 2.2: both or neither */
    }
    if (hdr->opts & KITE_TCP_HAS_SACK_PERM)
        pcb->flags |= KITE_TCPF_SACK;
    if (hdr->opts & KITE_TCP_HAS_TIMESTAMP) {
        pcb->flags |= KITE_TCPF_TS;
        pcb->t.ts.recent = hdr->ts_val;
        pcb->mss = (uint16_t)(pcb->mss - 12u); /* room for the timestamp option */
    }
    kite__tcp_cc_init(pcb);
}

/* RFC 3168 6.1.1: a SYN asks for ECN with both ECE and CWR set. */
static bool ecn_requested(const struct kite_tcp_repr *syn)
{
    return KITE_TCP_ECN &&
           (syn->flags & (KITE_TCP_ECE | KITE_TCP_CWR)) == (KITE_TCP_ECE | KITE_TCP_CWR);
}

/* ---- SYN cookies (RFC 4987 3.6) -------------------------------------------
 *
 * The cookie is our ISN: 5 bits of a 64 s clock, 3 bits choosing the MSS,
 * 24 bits of a keyed hash of the tuple, the peer's ISN and the clock. When the
 * peer offers timestamps, the low 6 bits of our SYN-ACK's TSval carry its
 * window scale (4 bits, 15 = none) and SACK-permitted (1 bit), as Linux
 * encodes them; the ACK echoes them back in TSecr, so a cookie connection
 * keeps window scaling, SACK and timestamps. */

static const uint16_t cookie_mss[8] = {216, 536, 1024, 1220, 1360, 1400, 1440, 1460};

#define COOKIE_TS_BITS 6u
#define COOKIE_TS_MASK ((1u << COOKIE_TS_BITS) - 1u)
#define COOKIE_NO_WSCALE 15u
#define COOKIE_SACK 0x10u
#define COOKIE_ECN 0x20u

/* What a valid cookie ACK tells about the handshake. */
struct cookie {
    uint16_t mss;
    bool ts;
    uint8_t wscale; /* the peer's shift, COOKIE_NO_WSCALE without scaling */
    bool sack;
    bool ecn;
};

static uint32_t cookie_hash(struct kite_stack *stack, const struct tcp_seg *seg, uint32_t t,
                            uint32_t peer_isn)
{
    uint32_t in[5] = {seg->src, seg->dst, (uint32_t)seg->hdr.src_port << 16 | seg->hdr.dst_port,
                      peer_isn, t};
    return (uint32_t)kite_siphash24(stack->tcp.secret, in, sizeof in) & 0xffffffu;
}

static uint32_t cookie_time(const struct kite_stack *stack)
{
    return (uint32_t)(stack->now / 64000u); /* 64 s periods, 5 bits on the wire */
}

static uint32_t cookie_ts_now(struct kite_stack *stack, const struct tcp_seg *seg)
{
    return (uint32_t)stack->now +
           kite__tcp_ts_offset(stack, seg->dst, seg->hdr.dst_port, seg->src, seg->hdr.src_port);
}

/* Our TSval with the options in its low bits, never ahead of the clock. */
static uint32_t cookie_tsval(struct kite_stack *stack, const struct tcp_seg *seg)
{
    const struct kite_tcp_repr *syn = &seg->hdr;
    uint32_t bits = (syn->opts & KITE_TCP_HAS_WSCALE) ? syn->wscale : COOKIE_NO_WSCALE;
    if (syn->opts & KITE_TCP_HAS_SACK_PERM)
        bits |= COOKIE_SACK;
    if (ecn_requested(syn))
        bits |= COOKIE_ECN;
    uint32_t now = cookie_ts_now(stack, seg);
    uint32_t v = (now & ~COOKIE_TS_MASK) | bits;
    return seq_gt(v, now) ? v - (1u << COOKIE_TS_BITS) : v;
}

static uint32_t cookie_isn(struct kite_stack *stack, const struct tcp_seg *seg, uint16_t our_mss)
{
    uint16_t mss = (seg->hdr.opts & KITE_TCP_HAS_MSS) ? seg->hdr.mss : 536;
    if (mss > our_mss)
        mss = our_mss;
    uint32_t idx = 0;
    for (uint32_t i = 0; i < 8; i++)
        if (cookie_mss[i] <= mss)
            idx = i;
    uint32_t t = cookie_time(stack) & 31u;
    return t << 27 | idx << 24 | cookie_hash(stack, seg, t, seg->hdr.seq);
}

/* A stateless SYN-ACK, built from the SYN alone: nothing is kept. */
static void send_cookie(struct kite_stack *stack, const struct kite_tcp_listener *listener,
                        const struct tcp_seg *seg)
{
    const struct kite_tcp_repr *syn = &seg->hdr;
    uint16_t our_mss = kite__tcp_route_mss(stack, seg->src);
    struct kite_tcp_repr h = {.src_port = syn->dst_port,
                              .dst_port = syn->src_port,
                              .seq = cookie_isn(stack, seg, our_mss),
                              .ack = syn->seq + 1,
                              .flags = KITE_TCP_SYN | KITE_TCP_ACK,
                              .opts = KITE_TCP_HAS_MSS,
                              .mss = our_mss};
    /* RFC 7323 2.2: a SYN's window is never scaled. */
    uint32_t rcv_buf = (uint32_t)listener->rcv_buf * KITE_TCP_BUF_UNIT;
    h.window = (uint16_t)(rcv_buf < 0xffffu ? rcv_buf : 0xffffu);
    /* Without timestamps the cookie has no room for the peer's scale or SACK:
     * offer neither (both ends must agree, RFC 7323 2.2). */
    if (syn->opts & KITE_TCP_HAS_TIMESTAMP) {
        h.opts |= KITE_TCP_HAS_TIMESTAMP;
        h.ts_val = cookie_tsval(stack, seg);
        h.ts_ecr = syn->ts_val;
        if (syn->opts & KITE_TCP_HAS_WSCALE) {
            h.opts |= KITE_TCP_HAS_WSCALE;
            h.wscale = kite__tcp_window_scale_for(rcv_buf);
        }
        if (syn->opts & KITE_TCP_HAS_SACK_PERM)
            h.opts |= KITE_TCP_HAS_SACK_PERM;
        if (ecn_requested(syn))
            h.flags |= KITE_TCP_ECE; /* RFC 3168 6.1.1, kept in TSval too */
    }
    if (kite__tcp_send_bare(stack, seg->dst, seg->src, &h))
        stack->stats.tcp.syn_cookies_sent++;
}

/* The options echoed in TSecr; false when the echo cannot be ours. */
static bool cookie_ts_options(struct kite_stack *stack, const struct tcp_seg *seg, struct cookie *c)
{
    uint32_t ecr = seg->hdr.ts_ecr;
    uint32_t age = cookie_ts_now(stack, seg) - ecr;
    if (age > 2u * 64000u) /* from the future or older than the cookie itself */
        return false;
    c->ts = true;
    c->wscale = (uint8_t)(ecr & 15u);
    c->sack = (ecr & COOKIE_SACK) != 0;
    c->ecn = (ecr & COOKIE_ECN) != 0;
    return c->wscale == COOKIE_NO_WSCALE || c->wscale <= KITE_TCP_MAX_WSCALE;
}

/* Decode a cookie ACK; false when the cookie is not valid. */
static bool check_cookie(struct kite_stack *stack, const struct tcp_seg *seg, struct cookie *c)
{
    uint32_t cookie = seg->hdr.ack - 1;
    uint32_t t = cookie >> 27;
    uint32_t now = cookie_time(stack);
    if (t != (now & 31u) && t != ((now - 1u) & 31u))
        return false;
    if ((cookie & 0xffffffu) != cookie_hash(stack, seg, t, seg->hdr.seq - 1))
        return false;
    c->mss = cookie_mss[(cookie >> 24) & 7u];
    c->ts = false;
    c->wscale = COOKIE_NO_WSCALE;
    c->sack = false;
    c->ecn = false;
    if (seg->hdr.opts & KITE_TCP_HAS_TIMESTAMP)
        return cookie_ts_options(stack, seg, c);
    return true;
}

/* ---- LISTEN (RFC 9293 3.10.7.2) ------------------------------------------- */

/* RFC 4987 3.4 "oldest half-open" recycling: the pool is full and a handshake
 * has completed, so the half-open connection that has waited longest (most
 * SYN-ACK retransmissions, then the earliest retransmission due) makes room.
 * A real peer behind it that answers later gets a reset and connects again.
 * Every half-open child has its retransmission pending: the walk is of the
 * timer list, earliest deadline first (O(n), but only with the pool full). */
static bool evict_half_open(struct kite_stack *stack)
{
    struct kite_tcp_pcb *victim = NULL;
    for (uint16_t n = stack->tcp.timers; n != 0;) {
        struct kite_tcp_pcb *pcb = tcp_pcb_at(stack, n);
        if (pcb->state == KITE_TCP_SYN_RECEIVED && (pcb->flags & KITE_TCPF_CHILD) &&
            (victim == NULL || pcb->backoff > victim->backoff))
            victim = pcb;
        n = pcb->tnext;
    }
    if (victim == NULL)
        return false;
    stack->stats.tcp.half_open_evicted++;
    kite__tcp_set_state(victim, KITE_TCP_CLOSED);
    kite__tcp_release(victim);
    return true;
}

static struct kite_tcp_pcb *spawn_child(struct kite_tcp_listener *listener,
                                        const struct tcp_seg *seg, bool may_evict)
{
    struct kite_stack *stack = listener->stack;
    struct kite_tcp_pcb *pcb = kite__tcp_alloc(stack);
    if (pcb == NULL && may_evict && evict_half_open(stack)) {
        pcb = kite__tcp_alloc(stack);
        if (pcb != NULL)
            stack->pools[KITE_POOL_TCP_PCB].failed--; /* answered by eviction */
    }
    if (pcb == NULL)
        return NULL;
    pcb->local_ip = KITE_ADDR_V4(seg->dst);
    pcb->local_port = seg->hdr.dst_port;
    pcb->remote_ip = KITE_ADDR_V4(seg->src);
    pcb->remote_port = seg->hdr.src_port;
    pcb->u.listener = listener;
    pcb->ops = listener->ops;
    pcb->snd_buf = listener->snd_buf;
    pcb->rcv_buf = listener->rcv_buf;
    pcb->flags = (listener->nodelay ? KITE_TCPF_NODELAY : 0u) | KITE_TCPF_CHILD;
    pcb->keepalive = listener->keepalive;
    if (pcb->keepalive != 0)
        stack->tcp.keepalives[pcb->keepalive - 1u].users++;
    kite__tcp_init_connection(pcb, seg->netif);
    kite__tcp_table_add(pcb);
    return pcb;
}

static void start_receiving(struct kite_tcp_pcb *pcb, const struct tcp_seg *seg)
{
    pcb->rcv_nxt = seg->hdr.seq + 1;
    pcb->rcv_adv = pcb->rcv_nxt;
    tcp_set_snd_wnd(pcb, seg->hdr.window); /* RFC 7323 2.2: a SYN's window is never scaled */
}

/* RFC 4987 3.6: past the listener's backlog, or with no pcb to hold the
 * half-open connection, answer with a SYN cookie and keep nothing. With the
 * application's accept queue full, drop the SYN: the peer retransmits it
 * (Linux's tcp_conn_request, sk_acceptq_is_full). */
static void listen_syn(struct kite_tcp_listener *listener, const struct tcp_seg *seg)
{
    struct kite_stack *stack = listener->stack;
    if (listener->full) {
        stack->stats.tcp.drop_listen_full++;
        return;
    }
    struct kite_tcp_pcb *pcb =
        listener->pending < listener->backlog ? spawn_child(listener, seg, false) : NULL;
    if (pcb == NULL) {
        send_cookie(stack, listener, seg);
        return;
    }
    kite__tcp_apply_syn_options(pcb, &seg->hdr);
    if (ecn_requested(&seg->hdr))
        pcb->flags |= KITE_TCPF_ECN; /* RFC 3168 6.1.1: answered with ECE in the SYN-ACK */
    start_receiving(pcb, seg);
    kite__tcp_set_state(pcb, KITE_TCP_SYN_RECEIVED);
    stack->stats.tcp.passive_opens++;
    (void)kite__tcp_send_syn(pcb);
    kite__tcp_rto_restart(pcb);
}

/* The options the cookie SYN-ACK agreed, applied as kite__tcp_apply_syn_options
 * would have from the SYN. */
static void apply_cookie(struct kite_tcp_pcb *pcb, const struct tcp_seg *seg,
                         const struct cookie *c)
{
    kite__tcp_set_send_mss(pcb, c->mss);
    if (c->wscale != COOKIE_NO_WSCALE) {
        pcb->flags |= KITE_TCPF_WSCALE;
        pcb->snd_wscale = c->wscale & 15u;
    } else {
        pcb->snd_wscale = 0;
        pcb->rcv_wscale = 0;
    }
    if (c->sack)
        pcb->flags |= KITE_TCPF_SACK;
    if (c->ecn)
        pcb->flags |= KITE_TCPF_ECN;
    if (c->ts) {
        pcb->flags |= KITE_TCPF_TS;
        pcb->t.ts.recent = seg->hdr.ts_val;
        pcb->mss = (uint16_t)(pcb->mss - 12u);
    }
    kite__tcp_cc_init(pcb);
}

static void listen_cookie_ack(struct kite_tcp_listener *listener, struct tcp_seg *seg)
{
    struct kite_stack *stack = listener->stack;
    struct cookie c;
    if (!check_cookie(stack, seg, &c)) {
        stack->stats.tcp.drop_bad_cookie++;
        kite__tcp_rst_for(stack, seg);
        return;
    }
    if (listener->full) { /* Linux's cookie_v4_check, no room: dropped, the peer waits */
        stack->stats.tcp.drop_listen_full++;
        return;
    }
    struct kite_tcp_pcb *pcb = spawn_child(listener, seg, true);
    if (pcb == NULL) {
        stack->stats.tcp.drop_listen_no_pcb++;
        kite__tcp_rst_for(stack, seg); /* the peer believes it is connected: tell it */
        return;
    }
    stack->stats.tcp.syn_cookies_ok++;
    pcb->flags |= KITE_TCPF_COOKIE;
    pcb->snd_una = pcb->snd_nxt = pcb->snd_max = seg->hdr.ack;
    apply_cookie(pcb, seg, &c);
    struct tcp_seg syn = *seg;
    syn.hdr.seq = seg->hdr.seq - 1;
    start_receiving(pcb, &syn);
    /* The cookie SYN-ACK offered an unscaled window of up to 64 KiB: honour it. */
    pcb->rcv_adv = pcb->rcv_nxt + (tcp_rcv_buf(pcb) < 0xffffu ? tcp_rcv_buf(pcb) : 0xffffu);
    pcb->max_snd_wnd = 0;
    tcp_set_snd_wnd(pcb, (uint32_t)seg->hdr.window << pcb->snd_wscale);
    pcb->busy++;
    /* No round trip to measure: when the cookie SYN-ACK left is not known. */
    bool ok = kite__tcp_established(pcb, &seg->hdr, false);
    pcb->busy--;
    if (ok)
        kite__tcp_process(pcb, seg);
    else if (pcb->flags & KITE_TCPF_FREE_PENDING)
        kite__tcp_free(pcb);
}

static void listen_input(struct kite_tcp_listener *listener, struct tcp_seg *seg)
{
    uint8_t f = seg->hdr.flags;
    if (f & KITE_TCP_RST) {
        listener->stack->stats.tcp.drop_unexpected++; /* RFC 9293 3.10.7.2: ignore */
        return;
    }
    if (f & KITE_TCP_ACK) {
        if ((f & KITE_TCP_SYN) == 0 && (f & KITE_TCP_FIN) == 0)
            listen_cookie_ack(listener, seg);
        else
            kite__tcp_rst_for(listener->stack, seg);
        return;
    }
    if (f & KITE_TCP_SYN)
        listen_syn(listener, seg);
    else
        listener->stack->stats.tcp.drop_unexpected++; /* neither SYN, ACK nor RST */
}

/* ---- SYN_SENT (RFC 9293 3.10.7.3) ----------------------------------------- */

static void syn_sent_established(struct kite_tcp_pcb *pcb, const struct tcp_seg *seg)
{
    pcb->snd_una = seg->hdr.ack;
    pcb->flags |= KITE_TCPF_ACK_NOW; /* the third segment of the handshake */
    (void)kite__tcp_established(pcb, &seg->hdr, true);
}
static void syn_sent_input(struct kite_tcp_pcb *pcb, struct tcp_seg *seg)
{
    uint8_t f = seg->hdr.flags;
    /* In SYN_SENT, SND.UNA is the ISS. */
    bool ack_ok = seq_gt(seg->hdr.ack, pcb->snd_una) && seq_leq(seg->hdr.ack, pcb->snd_max);
    if ((f & KITE_TCP_ACK) && !ack_ok) {
        pcb->stack->stats.tcp.drop_bad_ack++;
        kite__tcp_rst_for(pcb->stack, seg);
        return;
    }
    if (f & KITE_TCP_RST) {
        if (f & KITE_TCP_ACK) {
            pcb->stack->stats.tcp.resets_rx++;
            kite__tcp_kill(pcb, KITE_ERR_RESET); /* connection refused */
        } else {
            pcb->stack->stats.tcp.drop_unexpected++; /* RFC 9293 3.10.7.3: no ACK, ignore */
        }
        return;
    }
    if ((f & KITE_TCP_SYN) == 0) {
        pcb->stack->stats.tcp.drop_unexpected++;
        return;
    }
    kite__tcp_apply_syn_options(pcb, &seg->hdr);
    /* RFC 3168 6.1.1: ECN only if we asked and the SYN-ACK has ECE without CWR. */
    if ((pcb->flags & KITE_TCPF_ECN_WANT) && (f & (KITE_TCP_ECE | KITE_TCP_CWR)) == KITE_TCP_ECE)
        pcb->flags |= KITE_TCPF_ECN;
    start_receiving(pcb, seg);
    if (f & KITE_TCP_ACK) {
        syn_sent_established(pcb, seg);
    } else {
        /* Simultaneous open (RFC 9293 figure 7). */
        kite__tcp_set_state(pcb, KITE_TCP_SYN_RECEIVED);
        (void)kite__tcp_send_syn(pcb);
    }
    if (!(pcb->flags & KITE_TCPF_FREE_PENDING))
        (void)kite__tcp_output(pcb);
}

/* ---- Entry point -------------------------------------------------------------- */

static void dispatch(struct kite_stack *stack, struct tcp_seg *seg)
{
    struct kite_tcp_pcb *pcb = kite__tcp_find_active(stack, seg);
    if (pcb != NULL) {
        pcb->busy++;
        if (pcb->state == KITE_TCP_SYN_SENT)
            syn_sent_input(pcb, seg);
        else
            kite__tcp_process(pcb, seg);
        pcb->busy--;
        if (pcb->flags & KITE_TCPF_FREE_PENDING)
            kite__tcp_free(pcb);
        return;
    }
    struct kite_tcp_listener *listener = kite__tcp_find_listen(stack, seg);
    if (listener != NULL) {
        listen_input(listener, seg);
        return;
    }
    stack->stats.tcp.drop_no_pcb++;
    kite__tcp_rst_for(stack, seg); /* RFC 9293 3.10.7.1: CLOSED answers with a reset */
}

void kite__tcp_input(struct kite_stack *stack, struct kite_pbuf *p, const struct kite_ip_rx *rx)
{
    struct tcp_seg seg;
    memset(&seg, 0, sizeof seg);
    stack->stats.tcp.rx++;
    if (parse_segment(stack, p, rx, &seg))
        dispatch(stack, &seg);
    /* Data the connection kept was taken out of seg.p (set to NULL). */
    if (seg.p != NULL)
        kite_pbuf_free(stack, seg.p);
}
#else
typedef int kite_tcp_disabled_; /* ISO C wants a non-empty file */
#endif
