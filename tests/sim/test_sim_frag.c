/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 fragments between stacks on a simulated link (RFC 791): the largest
 * UDP datagrams the build's reassembly budget holds (65,507 bytes in the
 * max_throughput profile) cross a lossy, duplicating, reordering and
 * corrupting link, resent by the application until acknowledged, and arrive
 * byte-exact; then a second host floods the receiver with fragments that
 * never complete while the transfer goes on. Reassembly stays within its
 * budget, the receiver keeps answering, and once the flood's fragments time
 * out every pool is back to zero.
 */
#include "test_sim_world.h"

#include "kite/wire/ipv4.h"

#define DATA_PORT 5000
#define ACK_PORT 5001
#define DGRAMS 96u /* at most; fewer of the biggest */
#define DGRAM_MAX 65507u

/* A link MTU whose frames fit one pool block, so the reassembly budget (in
 * pbufs) counts fragments; 1500 when blocks are that big. */
#define SIM_MTU (KITE_PBUF_POOL_BUFSIZE >= 1514u ? 1500u : 576u)
#define FRAG_DATA ((SIM_MTU - 20u) & ~7u)

/* The largest datagram the receiver can hold: budget fragments of FRAG_DATA. */
static uint16_t dgram_len(void)
{
    uint32_t frags = KITE_IP_REASS_MAX_PBUFS - 1u; /* one pbuf spare for a stray fragment */
    uint32_t n = frags * FRAG_DATA - 8u;
    if (n > DGRAM_MAX)
        n = DGRAM_MAX;
    if (n + 20u + 8u > KITE_IP_REASS_MAX_SIZE)
        n = KITE_IP_REASS_MAX_SIZE - 28u;
    return (uint16_t)n;
}

/* Enough datagrams that every fault happens in every profile. */
static unsigned dgram_count(void)
{
    return dgram_len() > 20000u ? 12u : DGRAMS;
}

static uint8_t data_byte(unsigned dgram, unsigned i)
{
    return (uint8_t)(dgram + i * 7u + (i >> 9)); /* byte 0 names the datagram */
}

struct sender {
    struct kite_udp_pcb *pcb;
    uint8_t buf[DGRAM_MAX];
    bool acked[DGRAMS];
    unsigned acks;
};

struct receiver {
    struct kite_udp_pcb *pcb;
    bool got[DGRAMS];
    unsigned delivered, bad, dup;
};

static void sender_ack(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                       const struct kite_addr *src, uint16_t port, const struct kite_addr *dst)
{
    (void)pcb, (void)src, (void)port, (void)dst;
    struct sender *s = arg;
    int k = kite_pbuf_get_u8(p, 0);
    if (k >= 0 && k < (int)dgram_count() && !s->acked[k]) {
        s->acked[k] = true;
        s->acks++;
    }
    kite_pbuf_free(s->pcb->stack, p);
}

static bool datagram_intact(const struct kite_pbuf *p, unsigned k)
{
    uint8_t chunk[512];
    for (unsigned off = 0; off < p->tot_len; off += sizeof chunk) {
        uint16_t n = kite_pbuf_copy_out(p, chunk, sizeof chunk, (uint16_t)off);
        for (unsigned i = 0; i < n; i++)
            if (chunk[i] != data_byte(k, off + i)) {
                return false;
            }
    }
    return p->tot_len == dgram_len();
}

static void receiver_recv(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                          const struct kite_addr *src, uint16_t port, const struct kite_addr *dst)
{
    (void)port, (void)dst;
    struct receiver *r = arg;
    struct kite_stack *stack = pcb->stack;
    int k = kite_pbuf_get_u8(p, 0);
    if (k < 0 || k >= (int)dgram_count() || !datagram_intact(p, (unsigned)k)) {
        r->bad++;
    } else {
        r->dup += r->got[k];
        r->delivered += !r->got[k];
        r->got[k] = true;
        uint8_t ack = (uint8_t)k;
        struct kite_pbuf *a = kite_pbuf_from_data(stack, KITE_LAYER_TRANSPORT, &ack, 1, true);
        if (a != NULL) {
            (void)kite_udp_sendto(pcb, a, src, ACK_PORT);
            kite_pbuf_free(stack, a);
        }
    }
    kite_pbuf_free(stack, p);
}

/* Send the first datagram not yet acknowledged (by reference: the raw API's
 * way to send more than the pool holds). One at a time: the receiver's
 * budget holds one datagram of this size. */
static void send_missing(struct sender *s, uint32_t dst_ip)
{
    struct kite_stack *stack = s->pcb->stack;
    struct kite_addr dst = KITE_ADDR_V4(dst_ip);
    uint16_t len = dgram_len();
    for (unsigned k = 0; k < dgram_count(); k++) {
        if (s->acked[k])
            continue;
        for (unsigned i = 0; i < len; i++)
            s->buf[i] = data_byte(k, i);
        struct kite_pbuf *p = kite_pbuf_alloc_ref(stack, s->buf, len, KITE_PBUF_REF);
        assert_non_null(p);
        (void)kite_udp_sendto(s->pcb, p, &dst, DATA_PORT);
        kite_pbuf_free(stack, p);
        return;
    }
}

static void set_mtu(struct w_world *w)
{
    for (unsigned i = 0; i < w->n; i++)
        w->hosts[i]->netif.mtu = SIM_MTU;
}

static void start(struct w_world *w, struct sender *s, struct receiver *r)
{
    memset(r, 0, sizeof *r);
    s->acks = 0;
    memset(s->acked, 0, sizeof s->acked);
    r->pcb = kite_udp_new(&w->hosts[1]->stack);
    assert_int_equal(kite_udp_bind(r->pcb, NULL, DATA_PORT), KITE_ERR_OK);
    kite_udp_recv(r->pcb, receiver_recv, r);
    s->pcb = kite_udp_new(&w->hosts[0]->stack);
    assert_int_equal(kite_udp_bind(s->pcb, NULL, ACK_PORT), KITE_ERR_OK);
    kite_udp_recv(s->pcb, sender_ack, s);
}

static void stop(struct sender *s, struct receiver *r)
{
    kite_udp_remove(s->pcb);
    kite_udp_remove(r->pcb);
}

/* Send, and resend after 300 ms (virtual) without an acknowledgement, until
 * all are acknowledged or rounds run out. */
static bool transfer(struct w_world *w, struct sender *s, unsigned rounds,
                     void (*each_ms)(struct w_world *w, void *ctx), void *ctx)
{
    for (unsigned round = 0; round < rounds && s->acks < dgram_count(); round++) {
        unsigned acks = s->acks;
        send_missing(s, w->hosts[1]->ip);
        for (unsigned ms = 0; ms < 300 && s->acks == acks; ms++) {
            if (each_ms != NULL)
                each_ms(w, ctx);
            w_run(w, 1);
        }
    }
    return s->acks == dgram_count();
}

static const struct kite_simlink_config faults = {.loss_ppm = 3000,
                                                  .duplicate_ppm = 20000,
                                                  .reorder_ppm = 50000,
                                                  .corrupt_ppm = 5000,
                                                  .delay_ms = 2,
                                                  .jitter_ms = 3,
                                                  .reorder_delay_ms = 8};

static void big_datagrams_across_faults(void **state)
{
    (void)state;
    static struct sender s;
    struct receiver r;
    uint32_t lost = 0, reordered = 0, dups = 0, corrupted = 0, bad = 0;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        struct w_world w;
        w_init(&w, 2, faults, seed);
        set_mtu(&w);
        start(&w, &s, &r);
        assert_true(transfer(&w, &s, 200, NULL, NULL));
        assert_int_equal(r.delivered, dgram_count());
        /* A corrupted fragment fails the UDP checksum of its datagram, but
         * two flips of one bit position in one datagram, one each way,
         * cancel in a 16-bit one's complement sum (RFC 1071; the simulated
         * link has no FCS), so a rare bad datagram reaches the application,
         * which does not acknowledge it. Each took two corrupted frames. */
        assert_true(r.bad * 2u <= kite_simlink_stats(w.link)->corrupted);
        bad += r.bad;
        struct kite_stack *b = &w.hosts[1]->stack;
        assert_true(b->stats.ipv4.reass_ok >= dgram_count());
        assert_true(w.hosts[0]->stack.stats.ipv4.frag_datagrams >= dgram_count());
        const struct kite_simlink_stats *st = kite_simlink_stats(w.link);
        lost += st->lost;
        reordered += st->reordered;
        dups += st->duplicated;
        corrupted += st->corrupted;
        stop(&s, &r);
        w_run(&w, KITE_IP_REASS_TIMEOUT_MS); /* what a loss left half-built expires */
        assert_int_equal(kite_ipv4_reass_pending(b), 0);
        w_fini(&w);
    }
    print_message("fragments: %u lost, %u duplicated, %u reordered, %u corrupted; %u bad "
                  "datagrams reached the application\n",
                  (unsigned)lost, (unsigned)dups, (unsigned)reordered, (unsigned)corrupted,
                  (unsigned)bad);
    assert_true(lost > 0 && reordered > 0 && dups > 0 && corrupted > 0); /* they happened */
}

/* ---- A fragment flood from a third host ---------------------------------------------- */

struct flood {
    struct w_host *from;
    uint32_t to_ip;
    uint8_t to_mac[6];
    uint16_t id;
    unsigned sent;
};

/* One fragment that never completes: a first piece with MF of a fresh datagram. */
static void flood_one(struct w_world *w, void *ctx)
{
    (void)w;
    struct flood *f = ctx;
    struct kite_stack *stack = &f->from->stack;
    uint16_t len = 14 + 20 + FRAG_DATA;
    struct kite_pbuf *p = kite_pbuf_alloc(stack, 0, len, KITE_PBUF_POOL);
    if (p == NULL)
        return;
    uint8_t frame[1600] = {0};
    memcpy(frame, f->to_mac, 6);
    memcpy(frame + 6, f->from->netif.hwaddr, 6);
    frame[12] = 0x08;
    struct kite_ipv4_repr ip = {.total_len = (uint16_t)(20 + FRAG_DATA),
                                .id = f->id++,
                                .more_frags = true,
                                .ttl = 64,
                                .proto = KITE_IP_PROTO_UDP,
                                .src = f->from->ip,
                                .dst = f->to_ip};
    (void)kite_ipv4_emit(&ip, frame + 14, 20);
    (void)kite_pbuf_copy_in(p, frame, len, 0);
    if (f->from->netif.output(&f->from->netif, p) == KITE_ERR_OK)
        f->sent++;
    kite_pbuf_free(stack, p);
}

static void flood_every_2ms(struct w_world *w, void *ctx)
{
    if ((w->sim.now & 1u) == 0)
        flood_one(w, ctx);
}

static void transfer_under_fragment_flood(void **state)
{
    (void)state;
    static struct sender s;
    struct receiver r;
    struct w_world w;
    w_init(&w, 3, (struct kite_simlink_config){.delay_ms = 1}, 77);
    set_mtu(&w);
    struct w_host *b = w.hosts[1];
    start(&w, &s, &r);
    struct flood f = {.from = w.hosts[2], .to_ip = b->ip, .id = 1};
    memcpy(f.to_mac, b->netif.hwaddr, 6);
    w_run(&w, 100);
    /* The flood runs while the transfer does; the transfer may lose datagrams
     * to eviction (the flood's are newer), yet resends get through. */
    assert_true(transfer(&w, &s, 300, flood_every_2ms, &f));
    assert_int_equal(r.bad, 0);
    assert_true(f.sent > 100);
    /* The budget held: never more pbufs under reassembly than allowed. */
    const struct kite_stats_ipv4 *st = &b->stack.stats.ipv4;
    assert_true(st->drop_reass_evicted + st->drop_reass_full > 0);
    unsigned answered = 0;
    for (int i = 0; i < 5; i++) {
        flood_one(&w, &f);
        answered += w_ping_once(&w, w.hosts[0], b->ip, 500, 8, NULL) >= 0;
    }
    assert_int_equal(answered, 5); /* the flood took no buffers the stack needs */
    stop(&s, &r);
    w_run(&w, KITE_IP_REASS_TIMEOUT_MS + 10);
    assert_int_equal(kite_ipv4_reass_pending(&b->stack), 0);
    assert_int_equal(kite_stack_pools_in_use(&b->stack), 0);
    w_fini(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#if KITE_IP_FRAG && KITE_IP_REASSEMBLY
        cmocka_unit_test(big_datagrams_across_faults),
        cmocka_unit_test(transfer_under_fragment_flood),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
