/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/opts.h"
#if KITE_TCP /* the whole file is TCP (KITE_TCP = 0 leaves it out) */
/*
 * The connection table: demultiplexing a segment to its connection in O(1).
 *
 * Every pcb with a remote end (TIME_WAIT included) is on the chain of one
 * bucket, chosen by a keyed hash of its addresses and ports; a lookup walks
 * one chain, about two pcbs long with the default bucket count. A new pcb
 * goes first on its chain, so of two with the same four-tuple (a connection
 * reusing a TIME_WAIT one's) the newer is found, as with the single list of
 * every connection the table replaces (its walk was half of kite's time at
 * 10 000 connections, docs/benchmarks.md "Scale").
 *
 * Chains are doubly linked through pcb numbers (tcp_pcb.h). The first pcb
 * of a chain has as hprev the number of the chain's head, past the pcb
 * numbers: HEAD_TABLE + bucket, or HEAD_BOUND for the list of bound pcbs,
 * which uses the same links. So leaving a chain is O(1) and needs neither
 * the hash nor to know which list the pcb is on: hprev == 0 means none.
 *
 * Walks over every connection (timers' sweeps, statistics, an address going
 * away) go through the pool in block order (kite__tcp_next), guided by
 * KITE_TCPF_LISTED: no link is followed, so the walk survives any pcb being
 * freed on the way.
 */
#include <stddef.h>

#include "kite/siphash.h"
#include "tcp_priv.h"

_Static_assert(KITE_TCP_HASH_BUCKETS > 0 &&
                   (KITE_TCP_HASH_BUCKETS & (KITE_TCP_HASH_BUCKETS - 1u)) == 0,
               "KITE_TCP_HASH_BUCKETS must be a power of two");
_Static_assert((uint32_t)KITE_TCP_PCB_COUNT + KITE_TCP_HASH_BUCKETS + 1u <= 0xffffu,
               "pcb numbers and list heads must fit the 16-bit links (fewer buckets?)");
/* A free block keeps its flags (the pool writes its first two words only), so
 * the walk can tell listed pcbs from free blocks by KITE_TCPF_LISTED. */
_Static_assert(offsetof(struct kite_tcp_pcb, flags) >= sizeof(void *) + sizeof(uintptr_t),
               "pcb flags overlap the pool's free-list words");

#define HEAD_TABLE ((uint32_t)KITE_TCP_PCB_COUNT + 1u) /* bucket 0's head */
#define HEAD_BOUND (HEAD_TABLE + KITE_TCP_HASH_BUCKETS)

/* ---- The hash ------------------------------------------------------------------
 *
 * HalfSipHash-1-3 (Aumasson's 32-bit SipHash with one compression and three
 * finalization rounds), what Linux's hsiphash is on 32-bit targets for its
 * hash tables: a keyed function cheap enough for every segment on a Cortex-M
 * (about 100 cycles for the three words of a four-tuple; SipHash-2-4 in
 * 64-bit arithmetic takes about four times that), and one a peer that does
 * not know the key cannot steer: it cannot pick addresses and ports that
 * pile its connections onto one chain. Its output never leaves the stack,
 * and its key is its own (not the ISN and SYN cookie key). */

static uint32_t rotl32(uint32_t x, unsigned b)
{
    return (x << b) | (x >> (32u - b));
}

static void half_round(uint32_t v[4])
{
    v[0] += v[1];
    v[1] = rotl32(v[1], 5) ^ v[0];
    v[0] = rotl32(v[0], 16);
    v[2] += v[3];
    v[3] = rotl32(v[3], 8) ^ v[2];
    v[0] += v[3];
    v[3] = rotl32(v[3], 7) ^ v[0];
    v[2] += v[1];
    v[1] = rotl32(v[1], 13) ^ v[2];
    v[2] = rotl32(v[2], 16);
}

uint32_t kite__tcp_hash3(const uint32_t key[2], uint32_t a, uint32_t b, uint32_t c)
{
    /* The message is the 12 bytes of a, b and c, each little-endian; the
     * last block holds only the length. */
    uint32_t v[4] = {key[0], key[1], key[0] ^ 0x6c796765u, key[1] ^ 0x74656462u};
    uint32_t m[4] = {a, b, c, 12u << 24};
    for (int i = 0; i < 4; i++) {
        v[3] ^= m[i];
        half_round(v);
        v[0] ^= m[i];
    }
    v[2] ^= 0xffu;
    for (int i = 0; i < 3; i++)
        half_round(v);
    return v[1] ^ v[3];
}

uint32_t kite__tcp_bucket(const struct kite_stack *stack, uint32_t lip, uint16_t lport,
                          uint32_t rip, uint16_t rport)
{
#if KITE_TCP_HASH_BUCKETS == 1
    (void)stack, (void)lip, (void)lport, (void)rip, (void)rport;
    return 0; /* one chain: nothing to choose */
#else
    uint32_t ports = (uint32_t)lport << 16 | rport;
    return kite__tcp_hash3(stack->tcp.table_key, lip, rip, ports) & (KITE_TCP_HASH_BUCKETS - 1u);
#endif
}

/* ---- Chains ------------------------------------------------------------------ */

/* The link that names the pcb after `at`: a list head or a pcb's hnext. */
static uint16_t *link_after(struct kite_stack *stack, uint16_t at)
{
    if (at < HEAD_TABLE)
        return &tcp_pcb_at(stack, at)->hnext;
    if (at == HEAD_BOUND)
        return &stack->tcp.bound;
    return &stack->tcp.table[at - HEAD_TABLE];
}

static void push(struct kite_stack *stack, uint16_t head, struct kite_tcp_pcb *pcb)
{
    uint16_t *first = link_after(stack, head);
    uint16_t n = tcp_pcb_number(stack, pcb);
    pcb->hnext = *first;
    pcb->hprev = head;
    if (*first != 0)
        tcp_pcb_at(stack, *first)->hprev = n;
    *first = n;
}

void kite__tcp_table_add(struct kite_tcp_pcb *pcb)
{
    struct kite_stack *stack = pcb->stack;
    uint32_t b = kite__tcp_bucket(stack, pcb->local_ip.u.v4, pcb->local_port, pcb->remote_ip.u.v4,
                                  pcb->remote_port);
    push(stack, (uint16_t)(HEAD_TABLE + b), pcb);
    pcb->flags |= KITE_TCPF_LISTED;
}

void kite__tcp_bound_add(struct kite_tcp_pcb *pcb)
{
    push(pcb->stack, (uint16_t)HEAD_BOUND, pcb);
}

void kite__tcp_unlink(struct kite_tcp_pcb *pcb)
{
    struct kite_stack *stack = pcb->stack;
    if (pcb->hprev == 0)
        return; /* on no list */
    *link_after(stack, pcb->hprev) = pcb->hnext;
    if (pcb->hnext != 0)
        tcp_pcb_at(stack, pcb->hnext)->hprev = pcb->hprev;
    pcb->hnext = 0;
    pcb->hprev = 0;
    pcb->flags &= (uint32_t)~KITE_TCPF_LISTED;
}

/* ---- Lookups and walks ----------------------------------------------------------- */

struct kite_tcp_pcb *kite__tcp_lookup(struct kite_stack *stack, uint32_t lip, uint16_t lport,
                                      uint32_t rip, uint16_t rport)
{
    uint16_t n = stack->tcp.table[kite__tcp_bucket(stack, lip, lport, rip, rport)];
    while (n != 0) {
        struct kite_tcp_pcb *pcb = tcp_pcb_at(stack, n);
        if (pcb->local_port == lport && pcb->remote_port == rport && pcb->remote_ip.u.v4 == rip &&
            pcb->local_ip.u.v4 == lip)
            return pcb;
        n = pcb->hnext;
    }
    return NULL;
}

struct kite_tcp_pcb *kite__tcp_find_active(struct kite_stack *stack, const struct tcp_seg *seg)
{
    return kite__tcp_lookup(stack, seg->dst, seg->hdr.dst_port, seg->src, seg->hdr.src_port);
}

struct kite_tcp_pcb *kite__tcp_next(const struct kite_stack *stack, const struct kite_tcp_pcb *pcb)
{
    uint32_t n = pcb != NULL ? tcp_pcb_number(stack, pcb) : 0u;
    while (++n <= KITE_TCP_PCB_COUNT) {
        struct kite_tcp_pcb *next = tcp_pcb_at(stack, (uint16_t)n);
        if (next->flags & KITE_TCPF_LISTED)
            return next;
    }
    return NULL;
}

void kite__tcp_table_init(struct kite_stack *stack)
{
    /* A key of its own, derived from the TCP secret (drawn just before) so
     * the stack's random sequence, and with it every seeded test, is as it was. */
#if KITE_TCP_HASH_BUCKETS > 1
    const uint32_t label[2] = {0x6b746162u, 0x6c65u}; /* "table" */
    uint64_t key = kite_siphash24(stack->tcp.secret, label, sizeof label);
    stack->tcp.table_key[0] = (uint32_t)key;
    stack->tcp.table_key[1] = (uint32_t)(key >> 32);
#endif
    /* The pool's blocks are not zeroed at start-up: no garbage may look listed. */
    for (uint32_t n = 1; n <= KITE_TCP_PCB_COUNT; n++)
        tcp_pcb_at(stack, (uint16_t)n)->flags = 0;
}
#else
typedef int kite_tcp_disabled_; /* ISO C wants a non-empty file */
#endif
