/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 fragmentation, reassembly (RFC 791, RFC 815, RFC 1122 3.3.2) and the
 * path MTU cache (RFC 1191), fed fragment by fragment through an IP-level
 * netif whose sends are recorded. Sizes follow the options, so every
 * profile runs every case. */
#include <stdlib.h>
#include <string.h>

#include "kite/byteorder.h"
#include "kite/wire/checksum.h"
#include "kite/wire/icmp4.h"
#include "kite/wire/ipv4.h"
#include "kite/wire/udp.h"
#include "testutil.h"

#define US KITE_IP4(192, 0, 2, 2)
#define PEER KITE_IP4(192, 0, 2, 1)
#define PORT 7000
#define FRAG 64u /* data bytes per fragment in most cases: one pbuf each */
#define DGRAM_MAX 8192u

struct fixture {
    struct kite_stack stack;
    struct kt_capture_if ipif;
    struct kite_udp_pcb *pcb;
    unsigned rx_count;
    uint16_t rx_len;
    uint8_t rx[DGRAM_MAX];
    uint8_t dgram[DGRAM_MAX + 28]; /* the datagram the fragments are cut from */
    uint16_t dgram_len;            /* IP payload bytes (UDP header included) */
};

static void recv_cb(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                    const struct kite_addr *src, uint16_t port, const struct kite_addr *dst)
{
    (void)pcb, (void)src, (void)port, (void)dst;
    struct fixture *f = arg;
    f->rx_count++;
    f->rx_len = kite_pbuf_copy_out(p, f->rx, sizeof f->rx, 0);
    kite_pbuf_free(&f->stack, p);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    kite_stack_init(&f->stack, NULL);
    kt_capture_add_ip(&f->stack, &f->ipif, "tun0");
    kite_netif_set_ipv4(&f->ipif.netif, US, 24, 0);
    kite_netif_set_up(&f->ipif.netif, true);
    f->pcb = kite_udp_new(&f->stack);
    assert_int_equal(kite_udp_bind(f->pcb, NULL, PORT), KITE_ERR_OK);
    kite_udp_recv(f->pcb, recv_cb, f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    kite_udp_remove(f->pcb);
    kt_assert_pools_empty(&f->stack); /* before deinit, which would free a leftover */
    kite_stack_deinit(&f->stack);
    free(f);
    return 0;
}

static uint8_t pattern(unsigned i)
{
    return (uint8_t)(i * 13u + (i >> 8));
}

/* A UDP datagram of len data bytes from PEER to us, kept in f->dgram. */
static void make_dgram(struct fixture *f, uint16_t len)
{
    uint8_t data[DGRAM_MAX];
    for (unsigned i = 0; i < len; i++)
        data[i] = pattern(i);
    struct kite_udp_repr u = {.src_port = 9, .dst_port = PORT, .length = (uint16_t)(8 + len)};
    (void)kite_udp_emit(&u, f->dgram, 8);
    memcpy(f->dgram + 8, data, len);
    uint32_t sum = kite_cksum_pseudo4(PEER, US, KITE_IP_PROTO_UDP, u.length) +
                   kite_cksum_add(0, f->dgram, u.length);
    uint16_t v = (uint16_t)~kite_cksum_fold(sum);
    kite_put_be16(f->dgram + 6, v ? v : 0xffff);
    f->dgram_len = u.length;
}

/* Inject the datagram's bytes [off, off + n) as a fragment with id. */
static void frag_id(struct fixture *f, uint16_t id, uint16_t off, uint16_t n, bool more)
{
    uint8_t pkt[DGRAM_MAX + 20];
    struct kite_ipv4_repr ip = {.total_len = (uint16_t)(20 + n),
                                .id = id,
                                .more_frags = more,
                                .frag_offset = off,
                                .ttl = 64,
                                .proto = KITE_IP_PROTO_UDP,
                                .src = PEER,
                                .dst = US};
    assert_int_equal(kite_ipv4_emit(&ip, pkt, 20), KITE_ERR_OK);
    memcpy(pkt + 20, f->dgram + off, n);
    kt_inject(&f->stack, &f->ipif.netif, pkt, (uint16_t)(20 + n));
}

static void frag(struct fixture *f, uint16_t off, uint16_t n, bool more)
{
    frag_id(f, 7, off, n, more);
}

/* Fragment k of the datagram cut into FRAG-byte pieces (the last may be short). */
static void piece(struct fixture *f, unsigned k)
{
    uint16_t off = (uint16_t)(k * FRAG);
    unsigned left = (unsigned)f->dgram_len - off;
    uint16_t n = (uint16_t)(left < FRAG ? left : FRAG);
    frag(f, off, n, off + n < f->dgram_len);
}

static unsigned pieces(const struct fixture *f)
{
    return (f->dgram_len + FRAG - 1u) / FRAG;
}

static void assert_delivered(const struct fixture *f, uint16_t len)
{
    assert_int_equal(f->rx_count, 1);
    assert_int_equal(f->rx_len, len);
    for (unsigned i = 0; i < len; i++)
        assert_int_equal(f->rx[i], pattern(i));
    assert_int_equal(kite_ipv4_reass_pending(&f->stack), 0);
}

/* The largest datagram these tests reassemble from FRAG-byte fragments:
 * one pbuf per fragment, within the reassembly budget. */
static uint16_t small_dgram_len(void)
{
    unsigned n = KITE_IP_REASS_MAX_PBUFS < 6u ? KITE_IP_REASS_MAX_PBUFS : 6u;
    return (uint16_t)(n * FRAG - 8u - 5u); /* a short last fragment */
}

static void in_order(void **state)
{
    struct fixture *f = *state;
    make_dgram(f, small_dgram_len());
    for (unsigned k = 0; k < pieces(f); k++) {
        assert_int_equal(f->rx_count, 0);
        piece(f, k);
    }
    assert_delivered(f, small_dgram_len());
    assert_int_equal(f->stack.stats.ipv4.reass_ok, 1);
    assert_int_equal(f->stack.stats.ipv4.reass_fragments, pieces(f));
}

static void reverse_order(void **state)
{
    struct fixture *f = *state;
    make_dgram(f, small_dgram_len());
    for (unsigned k = pieces(f); k-- > 0;)
        piece(f, k);
    assert_delivered(f, small_dgram_len());
}

static void duplicate_dropped_alone(void **state)
{
    struct fixture *f = *state;
    make_dgram(f, small_dgram_len());
    piece(f, 1);
    piece(f, 1); /* link-layer duplication */
    piece(f, 0);
    piece(f, 0);
    for (unsigned k = 2; k < pieces(f); k++)
        piece(f, k);
    assert_delivered(f, small_dgram_len());
    assert_int_equal(f->stack.stats.ipv4.drop_reass_duplicate, 2);
}

static void overlap_gives_up_datagram(void **state)
{
    struct fixture *f = *state;
    make_dgram(f, small_dgram_len());
    piece(f, 0);
    frag(f, FRAG / 2u, FRAG, true); /* overlaps the first fragment */
    assert_int_equal(f->stack.stats.ipv4.drop_reass_overlap, 2);
    assert_int_equal(kite_ipv4_reass_pending(&f->stack), 0);
    /* Overlapping the next one from below gives up too. */
    piece(f, 1);
    frag(f, 0, FRAG + 8u, true);
    assert_int_equal(f->stack.stats.ipv4.drop_reass_overlap, 4);
    /* The datagram sent again, whole, arrives. */
    for (unsigned k = 0; k < pieces(f); k++)
        piece(f, k);
    assert_delivered(f, small_dgram_len());
}

static void inconsistent_lengths(void **state)
{
    struct fixture *f = *state;
    make_dgram(f, small_dgram_len());
    struct kite_stats_ipv4 *st = &f->stack.stats.ipv4;
    frag(f, 0, FRAG - 3u, true); /* RFC 791: not a multiple of 8, yet more follow */
    assert_int_equal(st->drop_reass_bad, 1);
    frag(f, FRAG, 16, false);     /* the last: the datagram ends at FRAG + 16 */
    frag(f, FRAG + 16u, 8, true); /* beyond the end */
    assert_int_equal(st->drop_reass_bad, 3);
    frag(f, FRAG, 16, false);
    frag(f, 2 * FRAG, 16, false); /* a second, different end */
    assert_int_equal(st->drop_reass_bad, 5);
    frag(f, 2 * FRAG, 8, true);
    frag(f, FRAG, 8, false); /* an end before data already held */
    assert_int_equal(st->drop_reass_bad, 7);
    assert_int_equal(kite_ipv4_reass_pending(&f->stack), 0);
    assert_int_equal(f->rx_count, 0);
}

static const struct kt_packet *last_sent(const struct fixture *f)
{
    assert_true(f->ipif.count > 0);
    return &f->ipif.sent[f->ipif.count - 1];
}

/* RFC 1122 3.3.2: Time Exceeded code 1 once the first fragment was held. */
static void timeout_sends_time_exceeded(void **state)
{
    struct fixture *f = *state;
    make_dgram(f, small_dgram_len());
    piece(f, 0);
    piece(f, 1); /* the last never comes */
    kite_stack_poll(&f->stack, f->stack.now + KITE_IP_REASS_TIMEOUT_MS - 1);
    assert_int_equal(kite_ipv4_reass_pending(&f->stack), 1);
    assert_int_equal(f->ipif.count, 0);
    kite_stack_poll(&f->stack, f->stack.now + 1);
    assert_int_equal(kite_ipv4_reass_pending(&f->stack), 0);
    assert_int_equal(f->stack.stats.ipv4.drop_reass_timeout, 2);
    assert_int_equal(f->ipif.count, 1);
    const uint8_t *e = last_sent(f)->data;
    assert_int_equal(e[20], KITE_ICMP4_TIME_EXCEEDED);
    assert_int_equal(e[21], 1);
    assert_int_equal(kite_get_be32(e + 16), PEER);
    /* The quote: the first fragment's header (id 7, MF) and its first data bytes. */
    assert_int_equal(kite_get_be16(e + 28 + 4), 7);
    assert_int_equal(kite_get_be16(e + 28 + 6), KITE_IPV4_FLAG_MF);
    assert_memory_equal(e + 48, f->dgram, 8);
    assert_int_equal(kite_stack_next_deadline(&f->stack), KITE_TIME_NEVER);
}

static void timeout_without_first_is_silent(void **state)
{
    struct fixture *f = *state;
    make_dgram(f, small_dgram_len());
    piece(f, 1);
    kite_stack_poll(&f->stack, f->stack.now + KITE_IP_REASS_TIMEOUT_MS);
    assert_int_equal(f->stack.stats.ipv4.drop_reass_timeout, 1);
    assert_int_equal(f->ipif.count, 0);
}

/* Every slot taken: a new datagram gives up the oldest. */
static void datagram_slots_evict_oldest(void **state)
{
    struct fixture *f = *state;
    make_dgram(f, small_dgram_len());
    unsigned slots = KITE_IP_REASS_DATAGRAMS;
    if (slots > KITE_IP_REASS_MAX_PBUFS)
        slots = KITE_IP_REASS_MAX_PBUFS; /* (one pbuf per datagram here) */
    for (unsigned i = 0; i < slots; i++) {
        kite_stack_poll(&f->stack, f->stack.now + 1);
        frag_id(f, (uint16_t)(100 + i), 0, FRAG, true);
    }
    assert_int_equal(kite_ipv4_reass_pending(&f->stack), slots);
    frag_id(f, 99, 0, FRAG, true);
    assert_int_equal(kite_ipv4_reass_pending(&f->stack), slots);
    assert_int_equal(f->stack.stats.ipv4.drop_reass_evicted, 1);
    /* The rest time out. */
    kite_stack_poll(&f->stack, f->stack.now + KITE_IP_REASS_TIMEOUT_MS);
    assert_int_equal(kite_ipv4_reass_pending(&f->stack), 0);
}

/* A datagram that would hold more pbufs than the budget is given up, and it
 * never takes the pbufs another datagram holds. */
static void pbuf_budget(void **state)
{
    struct fixture *f = *state;
    make_dgram(f, small_dgram_len());
    unsigned k = 0;
    while (f->stack.stats.ipv4.drop_reass_full == 0) {
        assert_true(k <= KITE_IP_REASS_MAX_PBUFS);
        frag_id(f, 5, (uint16_t)(8u * k), 8, true); /* one pbuf each */
        k++;
    }
    assert_int_equal(k, KITE_IP_REASS_MAX_PBUFS + 1u);
    assert_int_equal(f->stack.stats.ipv4.drop_reass_full, k);
    assert_int_equal(kite_ipv4_reass_pending(&f->stack), 0);
    /* The stack still reassembles afterwards. */
    for (unsigned i = 0; i < pieces(f); i++)
        piece(f, i);
    assert_delivered(f, small_dgram_len());
}

static void too_big_reassembled_size(void **state)
{
    struct fixture *f = *state;
    make_dgram(f, small_dgram_len());
    piece(f, 0);
    /* RFC 791: the data would end past 65535 - 20 (ping of death). */
    uint16_t last = (uint16_t)((KITE_IP_REASS_MAX_SIZE - 20u) & ~7u);
    uint8_t pkt[64] = {0};
    struct kite_ipv4_repr ip = {.total_len = 20 + 16,
                                .id = 7,
                                .frag_offset = last,
                                .ttl = 64,
                                .proto = KITE_IP_PROTO_UDP,
                                .src = PEER,
                                .dst = US};
    assert_int_equal(kite_ipv4_emit(&ip, pkt, 20), KITE_ERR_OK);
    kt_inject(&f->stack, &f->ipif.netif, pkt, 36);
    assert_int_equal(f->stack.stats.ipv4.drop_reass_too_big, 2); /* it and the held one */
    assert_int_equal(kite_ipv4_reass_pending(&f->stack), 0);
}

/* ---- Fragmentation on output, and a second stack reassembling it ------------------------ */

struct peer {
    struct kite_stack stack;
    struct kt_capture_if ipif;
};

static void sent_fragments_reassemble(void **state)
{
    struct fixture *f = *state;
    struct peer *b = calloc(1, sizeof *b);
    kite_stack_init(&b->stack, NULL);
    kt_capture_add_ip(&b->stack, &b->ipif, "tun1");
    kite_netif_set_ipv4(&b->ipif.netif, PEER, 24, 0);
    kite_netif_set_up(&b->ipif.netif, true);
    b->ipif.netif.mtu = 576; /* a fragment fits one pool block in every profile */
    unsigned per = 576u - 20u;
    unsigned n = KITE_IP_REASS_MAX_PBUFS < 8u ? KITE_IP_REASS_MAX_PBUFS : 8u;
    uint16_t len = (uint16_t)(n * per - 8u - 100u);
    struct kite_udp_pcb *tx = kite_udp_new(&b->stack);
    uint8_t data[DGRAM_MAX];
    for (unsigned i = 0; i < len; i++)
        data[i] = pattern(i);
    struct kite_pbuf *p = kite_pbuf_from_data(&b->stack, KITE_LAYER_TRANSPORT, data, len, true);
    assert_non_null(p);
    struct kite_addr dst = KITE_ADDR_V4(US);
    assert_int_equal(kite_udp_sendto(tx, p, &dst, PORT), KITE_ERR_OK);
    kite_pbuf_free(&b->stack, p);
    assert_int_equal(b->ipif.count, n);
    assert_int_equal(b->stack.stats.ipv4.frag_datagrams, 1);
    for (unsigned i = 0; i < b->ipif.count; i++) { /* fed in reverse */
        const struct kt_packet *q = &b->ipif.sent[b->ipif.count - 1 - i];
        assert_true(q->len <= 576);
        struct kite_ipv4_repr ip;
        assert_int_equal(kite_ipv4_parse(q->data, q->len, true, &ip), KITE_ERR_OK);
        assert_int_equal(ip.frag_offset % 8, 0);
        kt_inject(&f->stack, &f->ipif.netif, q->data, q->len);
    }
    assert_delivered(f, len);
    kite_udp_remove(tx);
    kt_assert_pools_empty(&b->stack);
    kite_stack_deinit(&b->stack);
    free(b);
}

/* ---- Path MTU (RFC 1191) ---------------------------------------------------------------- */

/* An ICMP "fragmentation needed" from a router about packet q, next-hop MTU mtu. */
static void frag_needed(struct fixture *f, const struct kt_packet *q, uint16_t mtu)
{
    kt_inject_frag_needed(&f->stack, &f->ipif.netif, KITE_IP4(192, 0, 2, 254), US, q, mtu);
}

/* Send len bytes to PEER:9 from the pcb, connected there first when connect
 * (only a connected pcb's datagrams teach a path MTU: RFC 5927 7). */
static void send_udp_as(struct fixture *f, uint16_t len, bool connect)
{
    uint8_t data[1400] = {0};
    struct kite_pbuf *p = kite_pbuf_from_data(&f->stack, KITE_LAYER_TRANSPORT, data, len, true);
    assert_non_null(p);
    struct kite_addr dst = KITE_ADDR_V4(PEER);
    if (connect) {
        assert_int_equal(kite_udp_connect(f->pcb, &dst, 9), KITE_ERR_OK);
        assert_int_equal(kite_udp_send(f->pcb, p), KITE_ERR_OK);
    } else {
        assert_int_equal(kite_udp_sendto(f->pcb, p, &dst, 9), KITE_ERR_OK);
    }
    kite_pbuf_free(&f->stack, p);
}

static void send_udp(struct fixture *f, uint16_t len)
{
    send_udp_as(f, len, true);
}

static void udp_follows_learned_mtu(void **state)
{
    struct fixture *f = *state;
    struct kite_stats_ipv4 *st = &f->stack.stats.ipv4;
    uint16_t len = KITE_PBUF_POOL_COUNT * KITE_PBUF_POOL_BUFSIZE > 4000 ? 1000 : 600;
    send_udp(f, len);
    assert_int_equal(f->ipif.count, 1);
    struct kt_packet sent = f->ipif.sent[0];
    frag_needed(f, &sent, 1500); /* not smaller than what was sent: bogus */
    frag_needed(f, &sent, 40);   /* below RFC 791's 68 */
    assert_int_equal(st->drop_pmtu_bogus, 2);
    frag_needed(f, &sent, len);
    frag_needed(f, &sent, (uint16_t)(len + 10u)); /* a second report never raises it */
    assert_int_equal(st->pmtu_unchanged, 1);
    assert_int_equal(kite_ipv4_path_mtu(&f->stack, &f->ipif.netif, PEER), len);
    frag_needed(f, &sent, 576);
    assert_int_equal(st->pmtu_updates, 2);
    assert_int_equal(kite_ipv4_path_mtu(&f->stack, &f->ipif.netif, PEER), 576);
    kt_capture_clear(&f->ipif);
    send_udp(f, len);
    assert_int_equal(f->ipif.count, 2); /* now in fragments that fit 576 */
    assert_true(f->ipif.sent[0].len <= 576);
    /* RFC 1191 6.3: forgotten after the timeout, the full MTU is used again. */
    kite_stack_poll(&f->stack, f->stack.now + KITE_PMTU_TIMEOUT_MS);
    assert_int_equal(st->pmtu_expired, 1);
    assert_int_equal(kite_ipv4_path_mtu(&f->stack, &f->ipif.netif, PEER), 1500);
    kt_capture_clear(&f->ipif);
    send_udp(f, len);
    assert_int_equal(f->ipif.count, 1);
    assert_int_equal(kite_stack_next_deadline(&f->stack), KITE_TIME_NEVER);
}

/* RFC 1191 5: a router of before RFC 1191 reports 0; the next plateau down
 * from the datagram's length is used. */
static void zero_mtu_uses_plateau(void **state)
{
    struct fixture *f = *state;
    uint16_t len = KITE_PBUF_POOL_COUNT * KITE_PBUF_POOL_BUFSIZE > 4000 ? 1400 : 600;
    send_udp(f, len);
    struct kt_packet sent = f->ipif.sent[0];
    frag_needed(f, &sent, 0);
    /* (508 is below KITE_PMTU_MIN: raised to it) */
    assert_int_equal(kite_ipv4_path_mtu(&f->stack, &f->ipif.netif, PEER),
                     len > 1000 ? 1006 : KITE_PMTU_MIN);
}

/* RFC 5927 7: forged reports. One quoting a datagram of a socket that is
 * bound but not connected cannot be checked and teaches nothing; a tiny MTU
 * is raised to KITE_PMTU_MIN, so no report shrinks a path below it. */
static void forged_reports_limited(void **state)
{
    struct fixture *f = *state;
    send_udp_as(f, 600, false);
    struct kt_packet sent = f->ipif.sent[0];
    frag_needed(f, &sent, 576);
    assert_int_equal(f->stack.stats.ipv4.pmtu_updates, 0);
    kt_capture_clear(&f->ipif);
    send_udp(f, 600);
    sent = f->ipif.sent[0];
    frag_needed(f, &sent, 100);
    assert_int_equal(kite_ipv4_path_mtu(&f->stack, &f->ipif.netif, PEER), KITE_PMTU_MIN);
}

/* A report about a datagram no socket of ours sent teaches nothing. */
static void report_about_unknown_sender_ignored(void **state)
{
    struct fixture *f = *state;
    send_udp(f, 600);
    struct kt_packet sent = f->ipif.sent[0];
    kite_put_be16(sent.data + 20, 4444); /* another source port */
    frag_needed(f, &sent, 576);
    assert_int_equal(f->stack.stats.ipv4.pmtu_updates, 0);
    assert_int_equal(kite_ipv4_path_mtu(&f->stack, &f->ipif.netif, PEER), 1500);
}

/* Built without reassembly, every fragment is dropped and counted. */
static void fragments_dropped_without_reassembly(void **state)
{
    struct fixture *f = *state;
    make_dgram(f, 100);
    frag(f, 0, FRAG, true);
    assert_int_equal(f->stack.stats.ipv4.drop_fragment, KITE_IP_REASSEMBLY ? 0u : 1u);
    assert_int_equal(kite_ipv4_reass_pending(&f->stack), KITE_IP_REASSEMBLY ? 1u : 0u);
    kite_stack_poll(&f->stack, f->stack.now + KITE_IP_REASS_TIMEOUT_MS);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(fragments_dropped_without_reassembly),
#if KITE_IP_REASSEMBLY
        T(in_order),
        T(reverse_order),
        T(duplicate_dropped_alone),
        T(overlap_gives_up_datagram),
        T(inconsistent_lengths),
        T(timeout_sends_time_exceeded),
        T(timeout_without_first_is_silent),
        T(datagram_slots_evict_oldest),
        T(pbuf_budget),
        T(too_big_reassembled_size),
#if KITE_IP_FRAG
        T(sent_fragments_reassemble),
#endif
#endif
#if KITE_PMTU && KITE_IP_FRAG
        T(udp_follows_learned_mtu),
        T(zero_mtu_uses_plateau),
        T(report_about_unknown_sender_ignored),
        T(forged_reports_limited),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
