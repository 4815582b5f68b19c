/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP core hardening, segment by segment: SYN floods and SYN cookies
 * (RFC 4987), and the review findings of the TCP-core issue. Every test here
 * failed on the code before its fix.
 */
#include "../../src/transport/tcp_priv.h" /* white box: cwnd, ssthresh */
#include "tcp_harness.h"

/* Half-open connections from flood_count sources that never complete. */
static void syn_flood(struct th *t, unsigned flood_count, uint16_t dport)
{
    for (unsigned i = 0; i < flood_count; i++) {
        struct th_conn f;
        th_conn_init(&f, (uint16_t)(20000 + i));
        f.peer_ip = KITE_IP4(192, 0, 2, 100 + i % 100);
        f.dport = dport;
        f.seq = 7000u * i;
        th_send_syn(t, &f, KITE_TCP_SYN);
        th_drain(t);
    }
}

/* Reset whatever the flood left half-open, so the test ends with no pcb. */
static void abort_half_open(struct th *t)
{
    for (struct kite_tcp_pcb *pcb = kite__tcp_next(&t->stack, NULL); pcb != NULL;
         pcb = kite__tcp_next(&t->stack, pcb)) {
        if (kite_tcp_get_state(pcb) == KITE_TCP_SYN_RECEIVED)
            kite_tcp_abort(pcb);
    }
    th_drain(t);
}

/* RFC 4987: hundreds of half-open connections from many sources leave every
 * listener answering, and a real client's handshake completes. */
static void syn_flood_leaves_listener_open(void **state)
{
    struct th *t = *state;
    th_listen(t, 4);
    struct kite_tcp_pcb *p2 = kite_tcp_new(&t->stack);
    assert_non_null(p2);
    th_callbacks(t, p2);
    assert_int_equal(kite_tcp_bind(p2, NULL, 81), KITE_ERR_OK);
    struct kite_tcp_listener *l2 = kite_tcp_listen(p2, 4, NULL);
    assert_non_null(l2);
    syn_flood(t, 300, TH_PORT);
    syn_flood(t, 300, 81);
    assert_true(t->stack.stats.tcp.syn_cookies_sent >= 600u - 2u * 4u);
    /* A real client on each port completes its handshake through it all. */
    th_accept_c(t, &t->c);
    struct th_conn c2;
    th_conn_init(&c2, 40001);
    c2.dport = 81;
    th_conn_add(t, &c2);
    th_accept_c(t, &c2);
    assert_int_equal(t->accepts, 2);
    /* ... and still moves data. */
    th_send_c(t, &c2, KITE_TCP_ACK | KITE_TCP_PSH, "hello", 5);
    assert_int_equal(t->rx_len, 5);
    kite_tcp_abort(t->accepted[0]);
    kite_tcp_abort(t->accepted[1]);
    t->pcb = NULL;
    kite_tcp_listener_close(l2);
    abort_half_open(t);
    th_cleanup(t);
}

/* With every pcb holding a half-open connection, a completed cookie
 * handshake takes the place of the one that waited longest. */
static void cookie_ack_evicts_oldest_half_open(void **state)
{
    struct th *t = *state;
    th_listen(t, 255);
    syn_flood(t, KITE_TCP_PCB_COUNT, TH_PORT); /* half-open connections fill the pool */
    assert_int_equal(th_conns_used(t), KITE_TCP_PCB_COUNT);
    th_send_syn(t, &t->c, KITE_TCP_SYN);
    th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK);
    assert_int_equal(t->stack.stats.tcp.syn_cookies_sent, 1);
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_int_equal(t->accepts, 1);
    assert_int_equal(t->stack.stats.tcp.half_open_evicted, 1);
    assert_int_equal(kite_tcp_get_state(t->pcb), KITE_TCP_ESTABLISHED);
    abort_half_open(t);
    th_cleanup(t);
}

/* A listener whose backlog is full, so the next SYN gets a cookie. */
static void fill_backlog(struct th *t)
{
    th_listen(t, 1);
    struct th_conn half;
    th_conn_init(&half, 30000);
    half.peer_ip = KITE_IP4(192, 0, 2, 99);
    th_send_syn(t, &half, KITE_TCP_SYN);
    th_drain(t);
}

/* Linux's encoding: with timestamps the cookie keeps window scale and SACK. */
static void cookie_keeps_wscale_sack_timestamps(void **state)
{
    struct th *t = *state;
    fill_backlog(t);
    t->c.ts = true;
    t->c.syn_wscale = 7;
    th_send_syn(t, &t->c, KITE_TCP_SYN);
    const struct th_pkt *sa = th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK);
    assert_int_equal(t->stack.stats.tcp.syn_cookies_sent, 1);
    assert_true(sa->tcp.opts & KITE_TCP_HAS_TIMESTAMP);
    assert_true(sa->tcp.opts & KITE_TCP_HAS_WSCALE);
    assert_true(sa->tcp.opts & KITE_TCP_HAS_SACK_PERM);
    uint8_t our_shift = sa->tcp.wscale;
    t->c.window = 100; /* scaled by 7: 12800 bytes */
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_int_equal(t->accepts, 1);
    assert_int_equal(t->stack.stats.tcp.syn_cookies_ok, 1);
    /* Window scaling: 4000 bytes (or a full send buffer, more than the
     * unscaled 100) fit the peer's scaled window of 12800. */
    static uint8_t data[4000];
    const uint16_t len = (uint16_t)TH_MIN(sizeof data, TH_SND_BUF);
    th_fill(data, len, 0);
    kite_tcp_set_nodelay(t->pcb, true);
    assert_int_equal(kite_tcp_write(t->pcb, data, len, KITE_TCP_WRITE_COPY), KITE_ERR_OK);
    assert_int_equal(kite_tcp_output(t->pcb), KITE_ERR_OK);
    uint32_t sent = 0;
    struct th_pkt p;
    while (th_next(t, &p)) {
        assert_true(p.tcp.opts & KITE_TCP_HAS_TIMESTAMP); /* timestamps on every segment */
        sent += p.len;
    }
    assert_int_equal(sent, len);
    /* SACK: an out-of-order segment is reported in a SACK block; our window
     * field is scaled by the shift the cookie SYN-ACK announced. */
    th_send_at(t, &t->c, KITE_TCP_ACK, t->c.seq + 100, t->c.ack, "x", 1);
    const struct th_pkt *ack = th_expect(t, KITE_TCP_ACK);
    assert_true(ack->tcp.opts & KITE_TCP_HAS_SACK);
    assert_int_equal(ack->tcp.sack[0].left, t->c.seq + 100);
    assert_true(((uint32_t)ack->tcp.window << our_shift) >= 4096u ||
                ((uint32_t)ack->tcp.window << our_shift) >= KITE_TCP_RCV_BUF / 2u);
    abort_half_open(t);
    th_cleanup(t);
}

/* Without timestamps there is nowhere to keep them: offer neither. */
static void cookie_without_timestamps_offers_no_wscale(void **state)
{
    struct th *t = *state;
    fill_backlog(t);
    t->c.syn_wscale = 7;
    th_send_syn(t, &t->c, KITE_TCP_SYN);
    const struct th_pkt *sa = th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK);
    assert_int_equal(sa->tcp.opts, KITE_TCP_HAS_MSS);
    th_send(t, KITE_TCP_ACK, NULL, 0);
    assert_int_equal(t->accepts, 1);
    abort_half_open(t);
    th_cleanup(t);
}

/* A forged ACK whose TSecr was never ours is no cookie. */
static void cookie_with_foreign_echo_rejected(void **state)
{
    struct th *t = *state;
    fill_backlog(t);
    t->c.ts = true;
    th_send_syn(t, &t->c, KITE_TCP_SYN);
    th_expect(t, KITE_TCP_SYN | KITE_TCP_ACK);
    t->c.ts_ecr += 1000000u; /* an echo from a clock we never had */
    th_send(t, KITE_TCP_ACK, NULL, 0);
    th_expect(t, KITE_TCP_RST);
    assert_int_equal(t->accepts, 0);
    assert_int_equal(t->stack.stats.tcp.drop_bad_cookie, 1);
    abort_half_open(t);
    th_cleanup(t);
}

/* ---- Review findings ------------------------------------------------------- */

/* A reset in LAST_ACK reports RESET; the same state ended by the ACK of our
 * FIN reports CLOSED, so a socket layer can tell ECONNRESET from EOF. */
static void last_ack_ended(struct th *t, bool reset)
{
    th_goto_state(t, KITE_TCP_LAST_ACK);
    if (reset)
        th_send_at(t, &t->c, KITE_TCP_RST, t->c.seq, 0, NULL, 0);
    else
        th_send(t, KITE_TCP_ACK, NULL, 0); /* acknowledges our FIN */
    assert_int_equal(t->errs, 1);
    assert_int_equal(t->err, reset ? KITE_ERR_RESET : KITE_ERR_CLOSED);
    t->pcb = NULL;
    th_cleanup(t);
}

static void reset_in_last_ack_reports_reset(void **state)
{
    last_ack_ended(*state, true);
}

static void close_in_last_ack_reports_closed(void **state)
{
    last_ack_ended(*state, false);
}

static void reset_in_closing_reports_reset(void **state)
{
    struct th *t = *state;
    th_goto_state(t, KITE_TCP_CLOSING);
    th_send_at(t, &t->c, KITE_TCP_RST, t->c.seq, 0, NULL, 0);
    assert_int_equal(t->errs, 1);
    assert_int_equal(t->err, KITE_ERR_RESET);
    t->pcb = NULL;
    th_cleanup(t);
}

/* RFC 5961 7: the challenge-ACK budget of one connection is its own: a blind
 * attacker who exhausts it learns nothing about another connection's. */
static void challenge_budget_per_connection(void **state)
{
    struct th *t = *state;
    th_listen(t, 4);
    struct kite_tcp_pcb *a = th_accept_c(t, &t->c);
    struct th_conn c2;
    th_conn_init(&c2, TH_PEER_PORT + 1);
    th_conn_add(t, &c2);
    struct kite_tcp_pcb *b = th_accept_c(t, &c2);
    for (unsigned i = 0; i < 3u * KITE_TCP_CHALLENGE_ACK_LIMIT; i++)
        th_send_at(t, &t->c, KITE_TCP_RST, t->c.seq + 1 + i, 0, NULL, 0);
    th_drain(t);
    assert_true(t->stack.stats.tcp.challenge_acks_limited > 0);
    th_send_at(t, &c2, KITE_TCP_RST, c2.seq + 1, 0, NULL, 0);
    th_expect_ack(t, c2.seq); /* b still has its budget */
    kite_tcp_abort(a);
    kite_tcp_abort(b);
    t->pcb = NULL;
    th_cleanup(t);
}

/* The budget is drawn at random: over many connections it is not constant. */
static void challenge_budget_randomised(void **state)
{
    struct th *t = *state;
    th_listen(t, 4);
    unsigned seen_min = 1000, seen_max = 0;
    for (unsigned k = 0; k < 8; k++) {
        struct th_conn c;
        th_conn_init(&c, (uint16_t)(TH_PEER_PORT + 10 + k));
        th_conn_add(t, &c);
        struct kite_tcp_pcb *pcb = th_accept_c(t, &c);
        uint32_t before = t->stack.stats.tcp.challenge_acks;
        for (unsigned i = 0; i < 2u * KITE_TCP_CHALLENGE_ACK_LIMIT; i++)
            th_send_at(t, &c, KITE_TCP_RST, c.seq + 1 + i, 0, NULL, 0);
        th_drain(t);
        unsigned got = t->stack.stats.tcp.challenge_acks - before;
        seen_min = got < seen_min ? got : seen_min;
        seen_max = got > seen_max ? got : seen_max;
        kite_tcp_abort(pcb);
        th_drain(t);
        t->nconns--;
        th_advance(t, 1000);
    }
    t->pcb = NULL;
    assert_true(seen_min >= KITE_TCP_CHALLENGE_ACK_LIMIT / 2u);
    assert_true(seen_max < KITE_TCP_CHALLENGE_ACK_LIMIT / 2u + KITE_TCP_CHALLENGE_ACK_LIMIT);
    assert_true(seen_min < seen_max);
    th_cleanup(t);
}

/* ---- Loss recovery with small segments (fits every profile's buffers) ---- */

#define SMALL_MSS 200u
static uint8_t small_data[5u * SMALL_MSS];

/* An established connection whose peer offered a 200-byte MSS, with five
 * segments of data (referenced, no pool blocks) sent and not acknowledged.
 * Returns the payload per segment. */
static uint32_t five_in_flight(struct th *t, bool timestamps)
{
    t->c.syn_opts = KITE_TCP_HAS_MSS; /* NewReno: no SACK */
    t->c.syn_mss = SMALL_MSS;
    t->c.ts = timestamps;
    th_establish(t);
    kite_tcp_set_nodelay(t->pcb, true);
    uint32_t seg = t->pcb->mss;
    th_fill(small_data, sizeof small_data, 0);
    assert_int_equal(kite_tcp_write(t->pcb, small_data, (uint16_t)(5u * seg), 0), KITE_ERR_OK);
    assert_int_equal(kite_tcp_output(t->pcb), KITE_ERR_OK);
    for (unsigned i = 0; i < 5; i++)
        assert_int_equal(th_expect(t, KITE_TCP_ACK | (i == 4 ? KITE_TCP_PSH : 0))->len, seg);
    return seg;
}

static void ack_at(struct th *t, uint32_t off)
{
    th_send_at(t, &t->c, KITE_TCP_ACK, t->c.seq, t->c.our_iss + 1 + off, NULL, 0);
}

/* RFC 7323 5.3: R3 (record TS.Recent) comes before R4 (process the ACK), so
 * the fast retransmission the third duplicate ACK triggers echoes that ACK's
 * own TSval, not the previous one's. */
static void fast_retransmit_echoes_newest_tsval(void **state)
{
    struct th *t = *state;
    uint32_t seg = five_in_flight(t, true);
    ack_at(t, seg);
    ack_at(t, seg);
    ack_at(t, seg);
    th_expect_none(t);
    uint32_t third = t->c.ts_val;
    ack_at(t, seg); /* the third duplicate */
    const struct th_pkt *p = th_expect(t, KITE_TCP_ACK);
    assert_int_equal(p->tcp.seq, t->c.our_iss + 1 + seg);
    assert_int_equal(p->tcp.ts_ecr, third);
    assert_int_equal(t->stack.stats.tcp.fast_retransmits, 1);
    th_cleanup(t);
}

/* RFC 6582 3.2 step 5: a partial ACK deflates cwnd by the amount acked and
 * adds back one SMSS only when at least one SMSS was acked. */
static void newreno_partial_ack_deflation(void **state)
{
    struct th *t = *state;
    uint32_t seg = five_in_flight(t, false);
    for (int i = 0; i < 4; i++)
        ack_at(t, seg); /* one ACK, three duplicates: segment 2 was lost */
    th_drain(t);
    assert_true(t->pcb->flags & KITE_TCPF_IN_RECOVERY);
    /* A partial ACK of less than one segment: no SMSS added back. */
    uint32_t before = t->pcb->cwnd;
    ack_at(t, seg + 50);
    assert_int_equal(t->pcb->cwnd, before - 50u);
    th_drain(t);
    /* A partial ACK of one segment or more: SMSS added back. */
    before = t->pcb->cwnd;
    ack_at(t, 3u * seg);
    assert_int_equal(t->pcb->cwnd, before - (2u * seg - 50u) + seg);
    th_drain(t);
    ack_at(t, 5u * seg); /* full ACK: recovery ends */
    assert_false(t->pcb->flags & KITE_TCPF_IN_RECOVERY);
    th_cleanup(t);
}

/* RFC 5681 4.1: after more than an RTO without sending, cwnd restarts from
 * no more than the initial window; a shorter pause keeps it. */
static void cwnd_restarts_after_idle(void **state)
{
    struct th *t = *state;
    uint32_t seg = five_in_flight(t, false);
    ack_at(t, 5u * seg);
    th_drain(t);
    uint32_t iw = t->pcb->cwnd; /* slow start from IW: still IW + acked */
    t->pcb->cwnd = 50u * seg;
    th_advance(t, kite__tcp_rto(t->pcb) / 2u);
    assert_int_equal(kite_tcp_write(t->pcb, small_data, (uint16_t)seg, 0), KITE_ERR_OK);
    assert_int_equal(kite_tcp_output(t->pcb), KITE_ERR_OK);
    assert_int_equal(t->pcb->cwnd, 50u * seg); /* within one RTO: kept */
    ack_at(t, 6u * seg);
    th_drain(t);
    th_advance(t, kite__tcp_rto(t->pcb) + 1000u);
    assert_int_equal(kite_tcp_write(t->pcb, small_data, (uint16_t)seg, 0), KITE_ERR_OK);
    assert_int_equal(kite_tcp_output(t->pcb), KITE_ERR_OK);
    assert_true(t->pcb->cwnd <= iw);
    assert_int_equal(t->stack.stats.tcp.idle_restarts, 1);
    th_drain(t);
    th_cleanup(t);
}

/* The CUBIC curve hours after its epoch (one ACK after a quiet night) must
 * not overflow (UBSan traps on it); the window grows, never faster than
 * slow start. With NewReno the same ACK is plain congestion avoidance. */
static void congestion_avoidance_hours_after_epoch(void **state)
{
    struct th *t = *state;
    uint32_t seg = five_in_flight(t, false);
    ack_at(t, 5u * seg);
    th_drain(t);
    struct kite_tcp_pcb *pcb = t->pcb;
    pcb->snd_max = pcb->snd_una + 10u * seg; /* pretend a window is in flight */
    pcb->cwnd = 40u * seg;
    kite__tcp_cc_enter_recovery(pcb);
    kite__tcp_cc_exit_recovery(pcb);
    pcb->cwnd = pcb->ssthresh;
    kite__tcp_cc_ack(pcb, seg); /* starts the epoch */
    uint32_t before = pcb->cwnd;
    t->stack.now += 10ull * 3600u * 1000u; /* ten hours, no timer in between */
    kite__tcp_cc_ack(pcb, seg);
#if KITE_TCP_CUBIC
    assert_int_equal(pcb->cwnd, before + seg); /* far above W_max: capped at acked */
#else
    assert_true(pcb->cwnd == before || pcb->cwnd == before + seg);
#endif
    pcb->snd_max = pcb->snd_una;
    th_cleanup(t);
}

/* RFC 2018 4: the first SACK block holds the segment that triggered the ACK,
 * the others repeat the most recently reported blocks first (not lowest
 * sequence first). */
static void sack_blocks_most_recent_first(void **state)
{
    struct th *t = *state;
    t->c.syn_opts = TH_OPTS_ALL;
    th_establish(t);
    const uint32_t offs[] = {100, 300, 500}; /* arrival order: low, high, middle */
    const uint32_t order[] = {0, 2, 1};
    const unsigned n = 3; /* bounded by memory: three small segments fit every profile */
    const struct th_pkt *ack = NULL;
    for (unsigned i = 0; i < n; i++) {
        th_send_at(t, &t->c, KITE_TCP_ACK, t->c.seq + offs[order[i]], t->c.ack, "0123456789", 10);
        ack = th_expect(t, KITE_TCP_ACK);
    }
    assert_int_equal(ack->tcp.sack_count, n);
    /* Newest first: the last arrival, then the one before it, ... */
    for (unsigned k = 0; k < n; k++)
        assert_int_equal(ack->tcp.sack[k].left, t->c.seq + offs[order[n - 1 - k]]);
    th_cleanup(t);
}

/* RFC 6093: urgent data is delivered inline, in sequence, like any data;
 * the urgent pointer is accepted and changes nothing else. */
static void urgent_data_delivered_inline(void **state)
{
    struct th *t = *state;
    th_establish(t);
    struct kite_tcp_repr h = th_hdr(&t->c, KITE_TCP_ACK | KITE_TCP_URG, t->c.seq, t->c.ack);
    h.urgent = 3;
    th_send_hdr(t, &t->c, &h, "abc", 3);
    t->c.seq += 3;
    th_send(t, KITE_TCP_ACK | KITE_TCP_PSH, "def", 3);
    assert_int_equal(t->rx_len, 6);
    assert_memory_equal(t->rx, "abcdef", 6);
    th_expect_last_ack(t, t->c.seq);
    th_cleanup(t);
}

/* An out-of-order segment whose TCP header straddles two pbufs (so its data
 * has no header room in front and is copied into a RAM pbuf when queued). */
static void inject_split(struct th *t, uint32_t offset, const char *data, uint16_t len)
{
    uint8_t buf[256];
    struct kite_tcp_repr h = th_hdr(&t->c, KITE_TCP_ACK, t->c.seq + offset, t->c.ack);
    uint16_t n = th_build(&t->c, &h, data, len, buf, sizeof buf);
    const uint16_t first = KITE_IPV4_HLEN + 10;
    struct kite_pbuf *a = kite_pbuf_alloc(&t->stack, 0, first, KITE_PBUF_POOL);
    struct kite_pbuf *b = kite_pbuf_alloc(&t->stack, 0, (uint16_t)(n - first), KITE_PBUF_POOL);
    assert_non_null(a);
    assert_non_null(b);
    memcpy(a->payload, buf, first);
    memcpy(b->payload, buf + first, n - first);
    kite_pbuf_cat(a, b);
    kite_netif_input(&t->cif.netif, a);
}

/* Copying a segment into a buffer with header room can find the pool empty
 * and run the reclaim, which empties the out-of-order queue: the segment must
 * then be queued alone, not linked after one that was just freed. */
static void ooo_copy_survives_reclaim(void **state)
{
    struct th *t = *state;
    th_establish(t);
    inject_split(t, 100, "aaaa", 4); /* copied into a RAM pbuf */
    th_expect_ack(t, t->c.seq);
    /* Take every RAM block left, without failing an allocation. */
    const struct kite_pool *ram = kite_stack_pool(&t->stack, KITE_POOL_PBUF_RAM);
    struct kite_pbuf *held[KITE_PBUF_RAM_COUNT];
    unsigned n = 0;
    while (ram->used < ram->count)
        held[n++] = kite_pbuf_alloc(&t->stack, 0, 1, KITE_PBUF_RAM);
    inject_split(t, 200, "bbbb", 4); /* its copy runs the reclaim, which frees "aaaa" */
    /* ... and the ACK it owes finds no RAM block either: a second reclaim gives
     * "bbbb" back too (RFC 2018 8 lets a receiver renege). */
    assert_int_equal(t->stack.stats.tcp.ooo_reclaimed, 2);
    for (unsigned i = 0; i < n; i++)
        kite_pbuf_free(&t->stack, held[i]);
    th_drain(t);
    /* The queue is consistent: the peer sends everything again, in order. */
    static uint8_t data[204];
    memset(data, 'x', sizeof data);
    memcpy(data + 100, "aaaa", 4);
    memcpy(data + 200, "bbbb", 4);
    th_send(t, KITE_TCP_ACK | KITE_TCP_PSH, data, sizeof data);
    assert_int_equal(t->rx_len, sizeof data);
    assert_memory_equal(t->rx, data, sizeof data);
    th_run(t, 1000); /* the delayed ACK */
    th_expect_last_ack(t, t->c.seq);
    th_cleanup(t);
}

TH_TESTS(TH_TEST(syn_flood_leaves_listener_open), TH_TEST(cookie_ack_evicts_oldest_half_open),
         TH_TEST(cookie_keeps_wscale_sack_timestamps),
         TH_TEST(cookie_without_timestamps_offers_no_wscale),
         TH_TEST(cookie_with_foreign_echo_rejected), TH_TEST(reset_in_last_ack_reports_reset),
         TH_TEST(close_in_last_ack_reports_closed), TH_TEST(reset_in_closing_reports_reset),
         TH_TEST(challenge_budget_per_connection), TH_TEST(challenge_budget_randomised),
         TH_TEST(fast_retransmit_echoes_newest_tsval), TH_TEST(newreno_partial_ack_deflation),
         TH_TEST(cwnd_restarts_after_idle), TH_TEST(congestion_avoidance_hours_after_epoch),
         TH_TEST(sack_blocks_most_recent_first), TH_TEST(urgent_data_delivered_inline),
         TH_TEST(ooo_copy_survives_reclaim))
