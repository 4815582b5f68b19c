/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/opts.h"
#if KITE_TCP
/*
 * TCP and ICMP errors: path MTU discovery (RFC 1191 6.4 and 6.5). An ICMP
 * "fragmentation needed" counts only when it quotes a segment this
 * connection has in flight (RFC 5927 4.1); the cache learns the MTU and
 * every connection to that destination shrinks its segments and resends what
 * was lost, without a congestion response (RFC 1191 6.5: the loss was the
 * path's size, not congestion). When the learned MTU expires, connections
 * grow their segments back to what they had negotiated.
 */
#include "kite/byteorder.h"
#include "kite/stack.h"
#include "kite/wire/icmp4.h"
#include "kite/wire/ipv4.h"
#include "kite/wire/tcp.h"

#include "kite_internal/ipv4.h"
#include "tcp_priv.h"
#include "tcp_seq.h"

/* The MSS a path MTU allows, our options (timestamps) taken out. */
static uint16_t mss_for(const struct kite_tcp_pcb *pcb, uint16_t mtu)
{
    uint32_t opts = (pcb->flags & KITE_TCPF_TS) ? 12u : 0u;
    uint32_t mss = mtu - KITE_IPV4_HLEN - KITE_TCP_HLEN - opts;
    return (uint16_t)(mss < 16u ? 16u : mss);
}

/* pmtu_cut8 remembers, in 8-byte units rounded down, what the path MTU took
 * off the negotiated MSS, so growing back never exceeds it. */
static void resize(struct kite_tcp_pcb *pcb, uint16_t mtu)
{
    uint32_t negotiated = pcb->mss + pcb->pmtu_cut8 * 8u;
    uint16_t allowed = mss_for(pcb, mtu);
    uint32_t mss = allowed < negotiated ? allowed : negotiated;
    uint32_t cut = (negotiated - mss) / 8u; /* down: mss + 8 * cut never passes negotiated */
    pcb->pmtu_cut8 = (uint8_t)(cut > 255u ? 255u : cut);
    bool smaller = mss < pcb->mss;
    pcb->mss = (uint16_t)mss;
    if (!smaller || pcb->snd_una == pcb->snd_nxt || pcb->state < KITE_TCP_ESTABLISHED)
        return;
    /* RFC 1191 6.5: resend at once what was sent too big; Karn for the RTT. */
    pcb->flags &= (uint32_t)~KITE_TCPF_RTT_TIMING;
    pcb->snd_nxt = pcb->snd_una;
    (void)kite__tcp_output(pcb);
}

void kite__tcp_set_send_mss(struct kite_tcp_pcb *pcb, uint16_t peer_mss)
{
    uint16_t path = kite__tcp_route_mss(pcb->stack, pcb->remote_ip.u.v4);
    uint16_t link = kite__tcp_link_mss(pcb->stack, pcb->remote_ip.u.v4);
    uint16_t full = peer_mss < link ? peer_mss : link;
    pcb->mss = peer_mss < path ? peer_mss : path;
    uint32_t cut = (uint32_t)(full - pcb->mss) / 8u;
    pcb->pmtu_cut8 = (uint8_t)(cut > 255u ? 255u : cut);
}

static void path_mtu_changed(struct kite_stack *stack, uint32_t dst, uint16_t mtu)
{
    for (struct kite_tcp_pcb *pcb = kite__tcp_next(stack, NULL); pcb != NULL;
         pcb = kite__tcp_next(stack, pcb))
        if (pcb->remote_ip.u.v4 == dst && pcb->state != KITE_TCP_TIME_WAIT)
            resize(pcb, mtu);
}

/* RFC 5927 4.1: the quoted sequence number must be in flight on a connection
 * (SND.UNA to the highest sent, snd_max: after a timeout snd_nxt is lower). */
static bool quote_in_flight(struct kite_stack *stack, const uint8_t *orig, uint16_t len)
{
    unsigned ihl = (orig[0] & 0xfu) * 4u;
    if (len < ihl + 8u)
        return false;
    const uint8_t *th = orig + ihl;
    struct kite_tcp_pcb *pcb = kite__tcp_lookup(stack, kite_get_be32(orig + 12), kite_get_be16(th),
                                                kite_get_be32(orig + 16), kite_get_be16(th + 2));
    uint32_t seq = kite_get_be32(th + 4);
    return pcb != NULL && seq_geq(seq, pcb->snd_una) && seq_lt(seq, pcb->snd_max);
}

void kite__tcp_icmp_error(struct kite_stack *stack, uint8_t type, uint8_t code, uint32_t info,
                          const uint8_t *orig, uint16_t orig_len)
{
    if (type != KITE_ICMP4_DEST_UNREACH || code != KITE_ICMP4_UNREACH_FRAG_NEEDED)
        return; /* RFC 1122 4.2.3.9: the others are soft errors; TCP carries on */
    if (!quote_in_flight(stack, orig, orig_len)) {
        stack->stats.ipv4.drop_pmtu_bogus++;
        return;
    }
    (void)kite__pmtu_update(stack, kite_get_be32(orig + 16), (uint16_t)info,
                            kite_get_be16(orig + 2));
}

void kite__tcp_pmtu_init(struct kite_stack *stack)
{
    kite__pmtu_set_listener(stack, path_mtu_changed);
}
#else
typedef int kite_tcp_pmtu_disabled_; /* ISO C wants a non-empty file */
#endif
