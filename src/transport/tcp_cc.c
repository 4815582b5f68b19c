/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/opts.h"
#if KITE_TCP /* the whole file is TCP (KITE_TCP = 0 leaves it out) */
/* TCP congestion control: slow start and congestion avoidance (RFC 5681,
 * with appropriate byte counting, RFC 3465), NewReno recovery windows
 * (RFC 6582), and CUBIC (RFC 9438) when KITE_TCP_CUBIC is set. The state
 * that matters only after a loss lives in the connection's loss block. */
#include <string.h>

#include "kite_internal/pool.h"
#include "tcp_priv.h"

/* ---- Loss blocks ---------------------------------------------------------------- */

/* A holder that can give its block up: not recovering, nothing on its
 * scoreboard, past its recovery point. It keeps growing its window as Reno. */
static bool loss_idle(const struct kite_tcp_pcb *pcb)
{
    const struct kite_tcp_loss *l = pcb->loss;
    return !(pcb->flags & KITE_TCPF_IN_RECOVERY) && l->sacked_count == 0 &&
           seq_geq(pcb->snd_una, l->recover);
}

static struct kite_tcp_loss *steal_idle_block(struct kite_stack *stack)
{
    for (struct kite_tcp_pcb *p = kite__tcp_next(stack, NULL); p != NULL;
         p = kite__tcp_next(stack, p)) {
        if (p->loss != NULL && loss_idle(p)) {
            struct kite_tcp_loss *l = p->loss;
            p->loss = NULL;
            p->flags &= (uint32_t)~KITE_TCPF_CUBIC_EPOCH;
            return l;
        }
    }
    return NULL;
}

struct kite_tcp_loss *kite__tcp_loss(struct kite_tcp_pcb *pcb)
{
    if (pcb->loss != NULL)
        return pcb->loss;
    struct kite_stack *stack = pcb->stack;
    struct kite_tcp_loss *l = kite__pool_alloc(&stack->pools[KITE_POOL_TCP_LOSS]);
    if (l == NULL) {
        l = steal_idle_block(stack);
        if (l == NULL) {
            stack->stats.tcp.loss_block_none++;
            return NULL;
        }
        stack->pools[KITE_POOL_TCP_LOSS].failed--; /* answered by taking an idle block */
    }
    memset(l, 0, sizeof *l);
    l->owner = pcb;
    l->recover = pcb->snd_una;
    l->high_rxt = pcb->snd_una;
#if KITE_TCP_CUBIC
    l->cubic_wmax = pcb->cwnd;
#endif
    pcb->loss = l;
    return l;
}

void kite__tcp_loss_release(struct kite_tcp_pcb *pcb)
{
    if (pcb->loss == NULL)
        return;
    kite__pool_free(&pcb->stack->pools[KITE_POOL_TCP_LOSS], pcb->loss);
    pcb->loss = NULL;
}

bool kite__tcp_recovery_allowed(const struct kite_tcp_pcb *pcb)
{
    /* RFC 6582 4.1: one recovery per window of data. */
    return pcb->loss == NULL || seq_geq(pcb->snd_una, pcb->loss->recover);
}

/* ---- Windows ------------------------------------------------------------------------ */

static uint32_t initial_window(const struct kite_tcp_pcb *pcb)
{
    /* RFC 6928: IW = min(10 * MSS, max(2 * MSS, 14600)). */
    uint32_t iw = KITE_TCP_INIT_CWND * pcb->mss;
    uint32_t cap = 2u * pcb->mss > 14600u ? 2u * pcb->mss : 14600u;
    return iw < cap ? iw : cap;
}

void kite__tcp_cc_init(struct kite_tcp_pcb *pcb)
{
    pcb->cwnd = initial_window(pcb);
    pcb->ssthresh = 0x7fffffffu; /* RFC 5681 3.1: arbitrarily high */
    pcb->flags &= (uint32_t)~KITE_TCPF_CUBIC_EPOCH;
}

static uint32_t flight_size(const struct kite_tcp_pcb *pcb)
{
    return pcb->snd_max - pcb->snd_una;
}

#if KITE_TCP_CUBIC
/* Integer cube root (floor), by bisection: no floating point on small MCUs. */
static uint32_t cbrt_u64(uint64_t x)
{
    uint32_t lo = 0, hi = 2097152; /* 2^21: (2^21)^3 = 2^63 */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo + 1u) / 2u;
        if ((uint64_t)mid * mid * mid <= x)
            lo = mid;
        else
            hi = mid - 1u;
    }
    return lo;
}

#define CUBIC_T_MAX_MS ((int64_t)1 << 21)

/* RFC 9438 4.2: W_cubic(t) = C * (t - K)^3 + W_max, C = 0.4, in bytes, t in ms. */
static uint32_t cubic_target(const struct kite_tcp_pcb *pcb, const struct kite_tcp_loss *l,
                             uint32_t now)
{
    int64_t t = (int64_t)(int32_t)(now - l->cubic_epoch) - (int64_t)l->cubic_k_ms;
    /* Hours after the epoch t^3 would overflow int64: by 2^21 ms (35 min) the
     * curve is millions of segments past W_max anyway, so saturate there. */
    if (t > CUBIC_T_MAX_MS)
        t = CUBIC_T_MAX_MS;
    else if (t < -CUBIC_T_MAX_MS)
        t = -CUBIC_T_MAX_MS;
    /* C * t^3 with t in ms: 0.4 * t^3 / 1e9 segments. */
    int64_t cube = t * t / 1000 * t / 1000; /* t^3 / 1e6, ms^3 -> scaled */
    int64_t delta_segs = cube * 4 / 10 / 1000;
    int64_t target = (int64_t)l->cubic_wmax + delta_segs * (int64_t)pcb->mss;
    if (target < (int64_t)pcb->mss)
        target = pcb->mss;
    return target > 0x7fffffff ? 0x7fffffffu : (uint32_t)target;
}

static void cubic_epoch_start(struct kite_tcp_pcb *pcb, struct kite_tcp_loss *l, uint32_t now)
{
    l->cubic_epoch = now;
    pcb->flags |= KITE_TCPF_CUBIC_EPOCH;
    if (l->cubic_wmax < pcb->cwnd)
        l->cubic_wmax = pcb->cwnd;
    /* K = cbrt(W_max * (1 - beta) / C) seconds, beta = 0.7. */
    uint64_t segs = l->cubic_wmax / pcb->mss;
    l->cubic_k_ms = cbrt_u64(segs * 3u * 1000000000ull / 4u);
    l->cubic_west = pcb->cwnd; /* W_est starts at the reduced window */
}

static void cubic_avoidance(struct kite_tcp_pcb *pcb, struct kite_tcp_loss *l, uint32_t acked)
{
    uint32_t now = (uint32_t)pcb->stack->now;
    if (!(pcb->flags & KITE_TCPF_CUBIC_EPOCH))
        cubic_epoch_start(pcb, l, now);
    /* RFC 9438 4.3: W_est, what Reno with alpha = 3(1-beta)/(1+beta) = 0.53
     * would have by now; CUBIC is never slower than that. */
    l->cubic_west += (uint32_t)((uint64_t)pcb->mss * 53u * acked / 100u / pcb->cwnd);
    uint32_t target = cubic_target(pcb, l, now + (pcb->srtt8 / 8u));
    if (target < l->cubic_west)
        target = l->cubic_west;
    /* RFC 9438 4.4: (target - cwnd) / cwnd per acknowledged segment. */
    uint32_t step =
        target > pcb->cwnd ? (uint32_t)((uint64_t)(target - pcb->cwnd) * acked / pcb->cwnd) : 0;
    if (step > acked)
        step = acked; /* never faster than slow start */
    pcb->cwnd += step;
}
#endif

/* Congestion avoidance, one SMSS per window of acknowledged bytes. */
static void reno_avoidance(struct kite_tcp_pcb *pcb, uint32_t acked)
{
    struct kite_tcp_loss *l = pcb->loss;
    if (l == NULL) { /* no block to count in: the per-ACK form, RFC 5681 eqn. 3 */
        uint32_t inc = (uint32_t)((uint64_t)pcb->mss * acked / pcb->cwnd);
        pcb->cwnd += inc > 0 ? inc : 1u;
        return;
    }
    l->bytes_acked += acked;
    if (l->bytes_acked >= pcb->cwnd) {
        l->bytes_acked -= pcb->cwnd;
        pcb->cwnd += pcb->mss;
    }
}

void kite__tcp_cc_ack(struct kite_tcp_pcb *pcb, uint32_t acked)
{
    if (pcb->cwnd < pcb->ssthresh) {
        /* Slow start, RFC 3465 with L = 2 SMSS. */
        pcb->cwnd += acked < 2u * pcb->mss ? acked : 2u * pcb->mss;
        return;
    }
#if KITE_TCP_CUBIC
    if (pcb->loss != NULL) {
        cubic_avoidance(pcb, pcb->loss, acked);
        return;
    }
#endif
    reno_avoidance(pcb, acked);
}

static uint32_t reduced_window(const struct kite_tcp_pcb *pcb)
{
#if KITE_TCP_CUBIC
    uint32_t w = (uint32_t)((uint64_t)flight_size(pcb) * 7u / 10u); /* RFC 9438 4.6 beta 0.7 */
#else
    uint32_t w = flight_size(pcb) / 2u; /* RFC 5681 eqn. 4 */
#endif
    return w > 2u * pcb->mss ? w : 2u * pcb->mss;
}

/* A loss starts a new CUBIC epoch from the window it happened at. */
static void loss_seen(struct kite_tcp_pcb *pcb, struct kite_tcp_loss *l)
{
    pcb->flags &= (uint32_t)~KITE_TCPF_CUBIC_EPOCH;
    l->bytes_acked = 0;
#if KITE_TCP_CUBIC
    l->cubic_wmax = pcb->cwnd;
#endif
}

bool kite__tcp_cc_enter_recovery(struct kite_tcp_pcb *pcb)
{
    struct kite_tcp_loss *l = kite__tcp_loss(pcb);
    if (l == NULL)
        return false; /* no block for the recovery point: the RTO will recover */
    loss_seen(pcb, l);
    l->recover = pcb->snd_max;
    l->high_rxt = pcb->snd_una;
    pcb->ssthresh = reduced_window(pcb);
    pcb->cwnd = pcb->ssthresh;
    pcb->flags |= KITE_TCPF_IN_RECOVERY;
    return true;
}

void kite__tcp_cc_ecn(struct kite_tcp_pcb *pcb)
{
    /* RFC 3168 6.1.2: at most once per window of data, as for a loss, and
     * never while a loss is being recovered (that reduced cwnd already). */
    if ((pcb->flags & KITE_TCPF_IN_RECOVERY) || !kite__tcp_recovery_allowed(pcb))
        return;
    struct kite_tcp_loss *l = kite__tcp_loss(pcb);
    if (l == NULL && (pcb->flags & KITE_TCPF_ECN_CWR))
        return; /* no block for the recovery point: once per CWR sent */
    if (l != NULL) {
        loss_seen(pcb, l);
        l->recover = pcb->snd_max;
    }
    pcb->ssthresh = reduced_window(pcb);
    pcb->cwnd = pcb->ssthresh;
    pcb->flags |= KITE_TCPF_ECN_CWR;
    pcb->stack->stats.tcp.ecn_reductions++;
}

void kite__tcp_cc_exit_recovery(struct kite_tcp_pcb *pcb)
{
    pcb->flags &= (uint32_t)~KITE_TCPF_IN_RECOVERY;
    /* RFC 6582 3.2 step 3 full ACK: min(ssthresh, FlightSize + SMSS). */
    uint32_t w = flight_size(pcb) + pcb->mss;
    pcb->cwnd = pcb->ssthresh < w ? pcb->ssthresh : w;
    pcb->dupacks = 0;
}

void kite__tcp_cc_rto(struct kite_tcp_pcb *pcb)
{
    /* RFC 5681 3.1 eqn. 4 and the loss window of one segment. */
    if (!(pcb->flags & KITE_TCPF_IN_RECOVERY) || pcb->backoff <= 1)
        pcb->ssthresh = reduced_window(pcb);
    struct kite_tcp_loss *l = kite__tcp_loss(pcb);
    if (l != NULL) {
        loss_seen(pcb, l);
        l->recover = pcb->snd_max; /* RFC 6582 4.1: no fast retransmit for these */
        l->high_rxt = pcb->snd_una;
        /* RFC 2018 8: after a timeout forget SACK information; the receiver
         * may have reneged (dropped out-of-order data under memory pressure). */
        l->sacked_count = 0;
    }
    pcb->cwnd = pcb->mss;
    pcb->flags &= (uint32_t)~KITE_TCPF_IN_RECOVERY;
    pcb->dupacks = 0;
}

/* RFC 5681 4.1: after more than an RTO without sending, the ACK clock is
 * gone: start again from no more than the initial window. CUBIC starts a new
 * epoch (RFC 9438 5.8 leaves the idle period out of its curve). */
void kite__tcp_cc_idle_restart(struct kite_tcp_pcb *pcb)
{
    uint32_t iw = initial_window(pcb);
    if (pcb->cwnd > iw)
        pcb->cwnd = iw;
    pcb->flags &= (uint32_t)~KITE_TCPF_CUBIC_EPOCH;
    if (pcb->loss != NULL)
        pcb->loss->bytes_acked = 0;
    pcb->stack->stats.tcp.idle_restarts++;
}
#else
typedef int kite_tcp_disabled_; /* ISO C wants a non-empty file */
#endif
