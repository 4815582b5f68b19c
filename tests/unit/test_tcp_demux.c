/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP connection table (src/transport/tcp_demux.c): a keyed hash of the
 * four-tuple picks a bucket, each bucket a doubly linked chain. Every test
 * opens as many connections as the profile's pool holds, puts them on one
 * chain where it matters (tuples chosen with the stack's own key: same ports
 * and other addresses, same address and other ports), delivers a segment to
 * each and checks it reached that connection's pcb and no other, takes pcbs
 * out of the middle of chains, and checks the lists' links after each step.
 * TIME_WAIT connections stay findable until they expire; with the pool full,
 * the oldest of them gives way; listeners are found by address and port;
 * active opens take ports that keep their four-tuples apart.
 */
#include "../../src/transport/tcp_priv.h" /* white box: the table and the lists */
#include "tcp_harness.h"

#define N KITE_TCP_PCB_COUNT

/* One connection as the application sees it: what arrived on its pcb. */
struct slot {
    struct th *t;
    struct th_conn c;
    struct kite_tcp_pcb *pcb;
    uint8_t rx[64];
    uint32_t rx_len;
    unsigned errs;
};

static void slot_recv(void *arg, struct kite_tcp_pcb *pcb, struct kite_pbuf *p)
{
    struct slot *s = arg;
    assert_ptr_equal(pcb, s->pcb); /* the segment reached the pcb of its own tuple */
    if (p == NULL)
        return;
    uint16_t n = p->tot_len;
    assert_true(s->rx_len + n <= sizeof s->rx);
    assert_int_equal(kite_pbuf_copy_out(p, s->rx + s->rx_len, n, 0), n);
    s->rx_len += n;
    kite_pbuf_free(&s->t->stack, p);
    kite_tcp_recved(pcb, n);
}

static void slot_err(void *arg, enum kite_err err)
{
    struct slot *s = arg;
    (void)err;
    s->errs++;
    s->pcb = NULL;
}

static const struct kite_tcp_ops slot_ops = {.recv = slot_recv, .err = slot_err};

/* Slots for every pcb and one more (recycling takes a pcb from another). */
struct fix {
    struct slot slots[N + 1];
    unsigned n;
};

static struct fix *fix_new(struct th *t)
{
    struct fix *f = calloc(1, sizeof *f);
    assert_non_null(f);
    for (unsigned i = 0; i < N + 1; i++)
        f->slots[i].t = t;
    return f;
}

/* Take the accepted pcb over from the harness's callbacks. */
static void slot_own(struct slot *s, struct kite_tcp_pcb *pcb)
{
    s->pcb = pcb;
    kite_tcp_arg(pcb, s);
    kite_tcp_set_ops(pcb, &slot_ops);
}

static uint32_t bucket_of(struct th *t, const struct th_conn *c)
{
    return kite__tcp_bucket(&t->stack, c->our_ip, c->dport, c->peer_ip, c->sport);
}

static uint32_t peer_address(unsigned k)
{
    /* TEST-NET-1 past our own addresses, then TEST-NET-2 and -3. */
    if (k < 240)
        return KITE_IP4(192, 0, 2, 10 + k);
    if (k < 490)
        return KITE_IP4(198, 51, 100, 1 + (k - 240));
    return KITE_IP4(203, 0, 113, 1 + (k - 490) % 250);
}

/* Tuple i for one chain: in turn another address with the usual port, and
 * the usual address with another port, each landing in bucket b. */
static void pick_in_bucket(struct th *t, struct th_conn *c, unsigned i, uint32_t b,
                           unsigned *next_addr, uint16_t *next_port)
{
    th_conn_init(c, TH_PEER_PORT);
    if (i % 2 == 0) {
        for (; *next_addr < 740; (*next_addr)++) {
            c->peer_ip = peer_address(*next_addr);
            if (bucket_of(t, c) == b) {
                (*next_addr)++;
                return;
            }
        }
    }
    /* Odd i, or the addresses ran out: ports. */
    c->peer_ip = TH_PEER;
    for (;; (*next_port)++) {
        c->sport = *next_port;
        if (bucket_of(t, c) == b) {
            (*next_port)++;
            return;
        }
    }
}

/* Every link of the connection table, the bound list and the timer list. */
static void check_lists(struct th *t)
{
    struct kite_stack *s = &t->stack;
    unsigned listed = 0, chained = 0, timed_listed = 0;
    for (struct kite_tcp_pcb *pcb = kite__tcp_next(s, NULL); pcb != NULL;
         pcb = kite__tcp_next(s, pcb)) {
        listed++;
        timed_listed += pcb->timer_kind != KITE_TCPT_NONE;
    }
    for (uint32_t b = 0; b < KITE_TCP_HASH_BUCKETS; b++) {
        uint16_t prev = (uint16_t)(KITE_TCP_PCB_COUNT + 1u + b);
        for (uint16_t n = s->tcp.table[b]; n != 0;) {
            struct kite_tcp_pcb *pcb = tcp_pcb_at(s, n);
            assert_int_equal(pcb->hprev, prev);
            assert_true(pcb->flags & KITE_TCPF_LISTED);
            assert_int_equal(kite__tcp_bucket(s, pcb->local_ip.u.v4, pcb->local_port,
                                              pcb->remote_ip.u.v4, pcb->remote_port),
                             b);
            assert_true(++chained <= KITE_TCP_PCB_COUNT);
            prev = n;
            n = pcb->hnext;
        }
    }
    assert_int_equal(chained, listed);
    unsigned bound = 0;
    uint16_t prev = (uint16_t)(KITE_TCP_PCB_COUNT + 1u + KITE_TCP_HASH_BUCKETS);
    for (uint16_t n = s->tcp.bound; n != 0;) {
        struct kite_tcp_pcb *pcb = tcp_pcb_at(s, n);
        assert_int_equal(pcb->hprev, prev);
        assert_false(pcb->flags & KITE_TCPF_LISTED);
        assert_true(++bound <= KITE_TCP_PCB_COUNT);
        prev = n;
        n = pcb->hnext;
    }
    assert_true(listed + bound <= kite_stack_pool(s, KITE_POOL_TCP_PCB)->used);
    /* The timer list: sorted by deadline, doubly linked, its last known. */
    unsigned timed = 0;
    prev = 0;
    for (uint16_t n = s->tcp.timers; n != 0;) {
        struct kite_tcp_pcb *pcb = tcp_pcb_at(s, n);
        assert_int_equal(pcb->tprev, prev);
        assert_int_not_equal(pcb->timer_kind, KITE_TCPT_NONE);
        if (prev != 0)
            assert_true((int32_t)(pcb->deadline - tcp_pcb_at(s, prev)->deadline) >= 0);
        assert_true(++timed <= KITE_TCP_PCB_COUNT);
        prev = n;
        n = pcb->tnext;
    }
    assert_int_equal(s->tcp.timers_last, prev);
    assert_int_equal(timed, timed_listed); /* only connections have timers here */
}

static struct kite_tcp_pcb *lookup(struct th *t, const struct th_conn *c)
{
    return kite__tcp_lookup(&t->stack, c->our_ip, c->dport, c->peer_ip, c->sport);
}

/* A distinct payload per connection and round: "<round>:<index>". */
static uint16_t payload(char *buf, unsigned round, unsigned i)
{
    return (uint16_t)snprintf(buf, 16, "%u:%u", round, i);
}

/* Each live slot's peer sends its payload; each must arrive on its pcb only. */
static void deliver_round(struct th *t, struct fix *f, unsigned round)
{
    for (unsigned i = 0; i < f->n; i++) {
        struct slot *s = &f->slots[i];
        if (s->pcb == NULL)
            continue;
        s->rx_len = 0;
        char buf[16];
        uint16_t len = payload(buf, round, i);
        th_send_c(t, &s->c, KITE_TCP_ACK | KITE_TCP_PSH, buf, len);
        assert_int_equal(s->rx_len, len);
        assert_memory_equal(s->rx, buf, len);
        assert_ptr_equal(lookup(t, &s->c), s->pcb);
    }
    th_drain(t);
    /* Nothing arrived anywhere else. */
    for (unsigned i = 0; i < f->n; i++) {
        struct slot *s = &f->slots[i];
        char buf[16];
        if (s->pcb != NULL)
            assert_int_equal(s->rx_len, payload(buf, round, i));
    }
}

/* The scripted peer knows each slot's connection once (a slot reused for a
 * new tuple keeps its place). */
static void peer_knows(struct th *t, struct th_conn *c)
{
    for (unsigned i = 0; i < t->nconns; i++)
        if (t->conns[i] == c)
            return;
    th_conn_add(t, c);
}

static void accept_slot(struct th *t, struct slot *s)
{
    peer_knows(t, &s->c);
    slot_own(s, th_accept_c(t, &s->c));
}

static void abort_all(struct th *t, struct fix *f)
{
    for (unsigned i = 0; i < f->n; i++)
        if (f->slots[i].pcb != NULL)
            kite_tcp_abort(f->slots[i].pcb);
    t->pcb = NULL;
    th_cleanup(t);
    free(f);
}

/* ---- The hash ----------------------------------------------------------------------- */

/* HalfSipHash-1-3 against a reference implementation of HalfSipHash written
 * from the paper, checked against the published HalfSipHash-2-4 vectors
 * (key 00..07, messages 00..n-1) and run with one and three rounds. */
static void hash_is_halfsiphash_1_3(void **state)
{
    (void)state;
    const uint32_t key[2] = {0x03020100u, 0x07060504u};
    assert_int_equal(kite__tcp_hash3(key, 0x03020100u, 0x07060504u, 0x0b0a0908u), 0x6b28096cu);
    const uint32_t key2[2] = {0x01234567u, 0x89abcdefu};
    assert_int_equal(kite__tcp_hash3(key2, KITE_IP4(192, 0, 2, 1), KITE_IP4(192, 0, 2, 2),
                                     (uint32_t)80u << 16 | 40000u),
                     0xfa9976a4u);
    /* The default bucket count: a power of two, at least half the pcbs
     * (one chain up to 8 pcbs). */
    assert_true((KITE_TCP_HASH_BUCKETS & (KITE_TCP_HASH_BUCKETS - 1u)) == 0);
    assert_true(KITE_TCP_PCB_COUNT <= 8 ? KITE_TCP_HASH_BUCKETS == 1
                                        : 2u * KITE_TCP_HASH_BUCKETS >= KITE_TCP_PCB_COUNT);
    assert_true(KITE_TCP_HASH_BUCKETS == 1 || KITE_TCP_HASH_BUCKETS < KITE_TCP_PCB_COUNT);
}

/* Two stacks with different seeds hash the same tuple with different keys.
 * With one bucket there is no key, and every tuple lands in that bucket. */
static void table_key_is_per_stack(void **state)
{
    struct th *t = *state;
#if KITE_TCP_HASH_BUCKETS == 1
    for (uint32_t i = 0; i < 64; i++)
        assert_int_equal(
            kite__tcp_bucket(&t->stack, TH_US, 80, TH_PEER + i, (uint16_t)(40000u + i)), 0);
#else
    struct kite_stack *other = calloc(1, sizeof *other);
    assert_non_null(other);
    struct kite_stack_config cfg = {.seed = 43, .now = 0};
    assert_int_equal(kite_stack_init(other, &cfg), KITE_ERR_OK);
    assert_memory_not_equal(t->stack.tcp.table_key, other->tcp.table_key,
                            sizeof other->tcp.table_key);
    assert_memory_not_equal(t->stack.tcp.table_key, t->stack.tcp.secret,
                            sizeof t->stack.tcp.table_key);
    kite_stack_deinit(other);
    free(other);
#endif
}

/* ---- One chain holding every connection ------------------------------------------------- */

/* Where the next tuple of a chain is looked for (pick_in_bucket). */
struct chain_fill {
    uint32_t bucket;
    unsigned next_addr;
    uint16_t next_port;
};

/* Listen and accept N connections whose tuples all land in the default
 * connection's bucket; returns that bucket and where to look for more. */
static struct chain_fill fill_one_chain(struct th *t, struct fix *f)
{
    struct chain_fill cf = {bucket_of(t, &t->c), 0, TH_PEER_PORT + 1};
    th_listen(t, 255);
    for (f->n = 0; f->n < N; f->n++) {
        pick_in_bucket(t, &f->slots[f->n].c, f->n, cf.bucket, &cf.next_addr, &cf.next_port);
        accept_slot(t, &f->slots[f->n]);
    }
    return cf;
}

static void one_chain_holds_every_connection(void **state)
{
    struct th *t = *state;
    struct fix *f = fix_new(t);
    struct chain_fill cf = fill_one_chain(t, f);
    uint32_t b = cf.bucket;
    check_lists(t);
    /* One chain, every pcb on it, newest first. */
    unsigned len = 0;
    for (uint16_t n = t->stack.tcp.table[b]; n != 0; n = tcp_pcb_at(&t->stack, n)->hnext)
        assert_ptr_equal(tcp_pcb_at(&t->stack, n), f->slots[N - 1 - len++].pcb);
    assert_int_equal(len, N);
    deliver_round(t, f, 1);

    /* Out of the middle of the chain (and its ends): every third from the
     * second, then the first and the last opened. */
    for (unsigned i = 1; i < N; i += 3) {
        kite_tcp_abort(f->slots[i].pcb);
        f->slots[i].pcb = NULL;
        check_lists(t);
        assert_null(lookup(t, &f->slots[i].c));
    }
    if (N > 2) {
        kite_tcp_abort(f->slots[0].pcb);
        f->slots[0].pcb = NULL;
        check_lists(t);
    }
    if (N > 3 && f->slots[N - 1].pcb != NULL) {
        kite_tcp_abort(f->slots[N - 1].pcb);
        f->slots[N - 1].pcb = NULL;
        check_lists(t);
    }
    th_drain(t); /* the resets */
    deliver_round(t, f, 2);
    /* A removed tuple's segment finds no connection: the listener's port
     * answers a stray ACK with a reset (no valid cookie). */
    uint32_t bad_cookie = t->stack.stats.tcp.drop_bad_cookie;
    th_send_c(t, &f->slots[1].c, KITE_TCP_ACK | KITE_TCP_PSH, "x", 1);
    th_expect(t, KITE_TCP_RST);
    assert_int_equal(t->stack.stats.tcp.drop_bad_cookie, bad_cookie + 1);

    /* The freed pcbs go to new connections on the same chain. */
    for (unsigned i = 0; i < N; i++) {
        if (f->slots[i].pcb != NULL)
            continue;
        pick_in_bucket(t, &f->slots[i].c, i, b, &cf.next_addr, &cf.next_port);
        accept_slot(t, &f->slots[i]);
        check_lists(t);
    }
    assert_int_equal(th_conns_used(t), N);
    deliver_round(t, f, 3);
    abort_all(t, f);
    check_lists(t);
}

/* The same with the tuples the hash spreads: ports in a row, alternating
 * between two peer addresses (same ports, other address; same address,
 * other ports). */
static void spread_connections_each_get_their_segments(void **state)
{
    struct th *t = *state;
    struct fix *f = fix_new(t);
    th_listen(t, 255);
    for (f->n = 0; f->n < N; f->n++) {
        struct slot *s = &f->slots[f->n];
        th_conn_init(&s->c, (uint16_t)(TH_PEER_PORT + 1 + f->n / 2));
        s->c.peer_ip = f->n % 2 ? KITE_IP4(192, 0, 2, 77) : TH_PEER;
        accept_slot(t, s);
    }
    check_lists(t);
    deliver_round(t, f, 1);
    for (unsigned i = N / 2; i < N; i += 2) {
        kite_tcp_abort(f->slots[i].pcb);
        f->slots[i].pcb = NULL;
    }
    check_lists(t);
    th_drain(t);
    deliver_round(t, f, 2);
    abort_all(t, f);
}

/* ---- TIME_WAIT ------------------------------------------------------------------------- */

/* Our side closes first: FIN, the peer's FIN, our ACK. The pcb stays (no
 * callbacks, close was called) in TIME_WAIT for 2 MSL. */
static void to_time_wait(struct th *t, struct slot *s)
{
    assert_int_equal(kite_tcp_close(s->pcb), KITE_ERR_OK);
    th_expect(t, KITE_TCP_FIN | KITE_TCP_ACK);
    check_lists(t); /* the FIN's retransmission timer before earlier TIME_WAIT ones */
    th_send_c(t, &s->c, KITE_TCP_FIN | KITE_TCP_ACK, NULL, 0);
    th_expect_ack(t, s->c.seq);
    assert_int_equal(kite_tcp_get_state(s->pcb), KITE_TCP_TIME_WAIT);
    s->pcb = NULL; /* the application let go of it */
}

static unsigned count_state(struct th *t, enum kite_tcp_state st)
{
    unsigned n = 0;
    for (struct kite_tcp_pcb *pcb = kite__tcp_next(&t->stack, NULL); pcb != NULL;
         pcb = kite__tcp_next(&t->stack, pcb))
        n += kite_tcp_get_state(pcb) == st;
    return n;
}

static void time_wait_connections_stay_findable(void **state)
{
    struct th *t = *state;
    struct fix *f = fix_new(t);
    (void)fill_one_chain(t, f);
    /* Every other one to TIME_WAIT, on the same chain as the others. */
    unsigned tw = 0;
    for (unsigned i = 0; i < N; i += 2, tw++)
        to_time_wait(t, &f->slots[i]);
    check_lists(t);
    assert_int_equal(count_state(t, KITE_TCP_TIME_WAIT), tw);
    /* A retransmitted FIN reaches its TIME_WAIT pcb, which acknowledges it
     * again (RFC 9293 3.10.7.4) instead of the reset a closed port sends. */
    for (unsigned i = 0; i < N; i += 2) {
        struct slot *s = &f->slots[i];
        struct kite_tcp_pcb *pcb = lookup(t, &s->c);
        assert_non_null(pcb);
        assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_TIME_WAIT);
        th_send_at(t, &s->c, KITE_TCP_FIN | KITE_TCP_ACK, s->c.seq - 1, s->c.ack, NULL, 0);
        th_expect_ack(t, s->c.seq);
    }
    deliver_round(t, f, 1);
    check_lists(t);
    /* 2 MSL later they are gone; the rest still get their segments. */
    th_run(t, 2u * KITE_TCP_MSL_MS + 1000u);
    th_drain(t);
    assert_int_equal(count_state(t, KITE_TCP_TIME_WAIT), 0);
    for (unsigned i = 0; i < N; i += 2)
        assert_null(lookup(t, &f->slots[i].c));
    check_lists(t);
    assert_int_equal(th_conns_used(t), N - tw);
    deliver_round(t, f, 2);
    abort_all(t, f);
}

/* The pool full, some of it in TIME_WAIT: a new connection takes the pcb of
 * the TIME_WAIT connection that ends first (the timer list's first). */
static void full_pool_recycles_the_oldest_time_wait(void **state)
{
    struct th *t = *state;
    struct fix *f = fix_new(t);
    th_listen(t, 255);
    for (f->n = 0; f->n < N; f->n++) {
        struct slot *s = &f->slots[f->n];
        th_conn_init(&s->c, (uint16_t)(TH_PEER_PORT + 1 + f->n));
        accept_slot(t, s);
    }
    /* Up to three in TIME_WAIT, a second apart, newest opened first. */
    unsigned tw = N > 3 ? 3 : N - 1;
    for (unsigned k = 0; k < tw; k++) {
        to_time_wait(t, &f->slots[N - 1 - k]);
        th_advance(t, 1000);
    }
    check_lists(t);
    assert_int_equal(th_conns_used(t), N);
    struct slot *extra = &f->slots[N];
    th_conn_init(&extra->c, TH_PEER_PORT + 1000);
    accept_slot(t, extra);
    f->n = N + 1;
    assert_int_equal(t->stack.stats.tcp.tw_recycled, 1);
    assert_null(lookup(t, &f->slots[N - 1].c)); /* the oldest TIME_WAIT gave way */
    for (unsigned k = 1; k < tw; k++)
        assert_int_equal(kite_tcp_get_state(lookup(t, &f->slots[N - 1 - k].c)), KITE_TCP_TIME_WAIT);
    check_lists(t);
    deliver_round(t, f, 1);
    th_run(t, 2u * KITE_TCP_MSL_MS + 1000u);
    th_drain(t);
    abort_all(t, f);
}

/* ---- Listeners ------------------------------------------------------------------------ */

/* Listeners by port and address (a specific one and a wildcard); a SYN on
 * an existing connection's tuple goes to the connection, not a listener. */
static void listeners_and_connections_are_told_apart(void **state)
{
    struct th *t = *state;
    struct fix *f = fix_new(t);
    th_listen(t, 4); /* 192.0.2.2:80 on the wildcard address */
    struct kite_tcp_pcb *p = kite_tcp_new(&t->stack);
    assert_non_null(p);
    th_callbacks(t, p);
    struct kite_addr us = KITE_ADDR_V4(TH_US);
    assert_int_equal(kite_tcp_bind(p, &us, 81), KITE_ERR_OK);
    check_lists(t); /* bound, not listed */
    struct kite_tcp_listener *l81 = kite_tcp_listen(p, 4, NULL);
    assert_non_null(l81);

    struct slot *a = &f->slots[0], *c81 = &f->slots[1];
    th_conn_init(&a->c, TH_PEER_PORT + 1);
    accept_slot(t, a);
    f->n = 1;
    if (N > 1) {
        th_conn_init(&c81->c, TH_PEER_PORT + 1); /* the same peer port, our other port */
        c81->c.dport = 81;
        accept_slot(t, c81);
        struct kite_addr ip;
        uint16_t port;
        kite_tcp_get_local(c81->pcb, &ip, &port);
        assert_int_equal(port, 81);
        f->n = 2;
    }
    check_lists(t);
    /* No listener on 82: a reset. */
    struct th_conn none;
    th_conn_init(&none, TH_PEER_PORT + 2);
    none.dport = 82;
    th_conn_add(t, &none);
    th_send_syn(t, &none, KITE_TCP_SYN);
    th_expect(t, KITE_TCP_RST | KITE_TCP_ACK);
    /* A SYN on a's tuple: a's pcb answers with a challenge ACK (RFC 5961 4),
     * no new child, no SYN-ACK. */
    unsigned accepts = t->accepts;
    th_send_at(t, &a->c, KITE_TCP_SYN, a->c.seq + 1000u, 0, NULL, 0);
    th_expect_ack(t, a->c.seq);
    assert_int_equal(t->accepts, accepts);
    assert_int_equal(th_conns_used(t), f->n);
    deliver_round(t, f, 1);
    kite_tcp_listener_close(l81);
    abort_all(t, f);
}

/* ---- Active opens ------------------------------------------------------------------------- */

static void connect_slot(struct th *t, struct slot *s, uint32_t peer, uint16_t port)
{
    th_conn_init(&s->c, port);
    s->c.peer_ip = peer;
    s->c.dport = 0; /* learned from our SYN */
    peer_knows(t, &s->c);
    struct kite_tcp_pcb *pcb = kite_tcp_new(&t->stack);
    assert_non_null(pcb);
    th_callbacks(t, pcb);
    struct kite_addr ip = KITE_ADDR_V4(peer);
    assert_int_equal(kite_tcp_connect(pcb, &ip, port), KITE_ERR_OK);
    th_expect(t, KITE_TCP_SYN);
    th_send_syn(t, &s->c, KITE_TCP_SYN | KITE_TCP_ACK);
    th_expect_ack(t, s->c.seq);
    assert_int_equal(kite_tcp_get_state(pcb), KITE_TCP_ESTABLISHED);
    slot_own(s, pcb);
}

/* An active open's ephemeral port need only keep its four-tuple unique: the
 * port of a connection to one peer serves a connection to another, not a
 * second one to the same peer and port, and never a bind. */
static void active_opens_keep_tuples_apart(void **state)
{
    struct th *t = *state;
    struct fix *f = fix_new(t);
    const uint32_t peer_a = TH_PEER, peer_b = KITE_IP4(192, 0, 2, 77);
    connect_slot(t, &f->slots[0], peer_a, 7000);
    f->n = 1;
    uint16_t port = f->slots[0].c.dport;
    if (N >= 3) {
        t->stack.tcp.next_ephemeral = port; /* white box: the search starts there */
        connect_slot(t, &f->slots[1], peer_b, 7000);
        assert_int_equal(f->slots[1].c.dport, port); /* shared: another peer */
        t->stack.tcp.next_ephemeral = port;
        connect_slot(t, &f->slots[2], peer_a, 7000);
        assert_int_not_equal(f->slots[2].c.dport, port); /* the same peer and port: not */
        f->n = 3;
    }
    check_lists(t);
    deliver_round(t, f, 1);
    /* A bind to the port in use is refused (it walks every connection). */
    struct kite_tcp_pcb *p = kite_tcp_new(&t->stack);
    if (p != NULL) {
        assert_int_equal(kite_tcp_bind(p, NULL, port), KITE_ERR_INUSE);
        assert_int_equal(kite_tcp_close(p), KITE_ERR_OK);
    }
    /* The connections fill the rest of the pool, each to its own port. */
    for (; f->n < N; f->n++)
        connect_slot(t, &f->slots[f->n], peer_a, (uint16_t)(7001 + f->n));
    check_lists(t);
    deliver_round(t, f, 2);
    abort_all(t, f);
}

TH_TESTS(cmocka_unit_test(hash_is_halfsiphash_1_3), TH_TEST(table_key_is_per_stack),
         TH_TEST(one_chain_holds_every_connection),
         TH_TEST(spread_connections_each_get_their_segments),
         TH_TEST(time_wait_connections_stay_findable),
         TH_TEST(full_pool_recycles_the_oldest_time_wait),
         TH_TEST(listeners_and_connections_are_told_apart), TH_TEST(active_opens_keep_tuples_apart))
