/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/opts.h"
#if KITE_TCP /* the whole file is TCP (KITE_TCP = 0 leaves it out) */
/* TCP timers: one kite_timer per connection, armed at the earliest of its
 * deadlines (retransmission, persist, delayed ACK, keepalive, poll,
 * TIME_WAIT), so an idle connection costs no wake-ups. */
#include "tcp_priv.h"

static kite_time_ms earliest(const struct kite_tcp_pcb *pcb)
{
    kite_time_ms t = pcb->rto_at;
    const kite_time_ms others[] = {pcb->persist_at, pcb->delack_at, pcb->keep_at, pcb->poll_at,
                                   pcb->timewait_at};
    for (unsigned i = 0; i < sizeof others / sizeof others[0]; i++)
        if (others[i] < t)
            t = others[i];
    return t;
}

void kite__tcp_timer_update(struct kite_tcp_pcb *pcb)
{
    if (pcb->flags & KITE_TCPF_FREE_PENDING)
        return;
    kite_time_ms t = earliest(pcb);
    if (t == KITE_TIME_NEVER)
        kite_timer_cancel(pcb->stack, &pcb->timer);
    else if (!kite_timer_armed(&pcb->timer) || pcb->timer.deadline != t)
        kite_timer_arm(pcb->stack, &pcb->timer, t);
}

void kite__tcp_rto_restart(struct kite_tcp_pcb *pcb)
{
    uint32_t rto = pcb->rto_ms << pcb->backoff;
    if (rto > KITE_TCP_RTO_MAX_MS || (pcb->backoff > 0 && rto < pcb->rto_ms))
        rto = KITE_TCP_RTO_MAX_MS;
    pcb->rto_at = pcb->stack->now + rto;
    kite__tcp_timer_update(pcb);
}

void kite__tcp_rtt_sample(struct kite_tcp_pcb *pcb, uint32_t rtt_ms)
{
    if (rtt_ms > KITE_TCP_RTO_MAX_MS)
        return; /* nonsense (e.g. a timestamp echo from before a restart) */
    if (pcb->srtt8 == 0) {
        /* RFC 6298 2.2: first measurement. */
        pcb->srtt8 = rtt_ms * 8u + 1u; /* +1 keeps "measured" distinct from 0 */
        pcb->rttvar4 = rtt_ms * 2u;
    } else {
        /* RFC 6298 2.3, alpha = 1/8, beta = 1/4, in scaled integers. */
        int32_t err = (int32_t)rtt_ms - (int32_t)(pcb->srtt8 / 8u);
        pcb->srtt8 = (uint32_t)((int32_t)pcb->srtt8 + err);
        uint32_t abs_err = (uint32_t)(err < 0 ? -err : err);
        pcb->rttvar4 = pcb->rttvar4 - pcb->rttvar4 / 4u + abs_err;
    }
    uint32_t var = pcb->rttvar4 > 1u ? pcb->rttvar4 : 1u; /* G = 1 ms clock */
    uint32_t rto = pcb->srtt8 / 8u + var;
    if (rto < KITE_TCP_RTO_MIN_MS)
        rto = KITE_TCP_RTO_MIN_MS;
    if (rto > KITE_TCP_RTO_MAX_MS)
        rto = KITE_TCP_RTO_MAX_MS;
    pcb->rto_ms = rto;
}

void kite__tcp_enter_time_wait(struct kite_tcp_pcb *pcb)
{
    kite__tcp_set_state(pcb, KITE_TCP_TIME_WAIT);
    /* Nothing more will be sent or delivered: give the buffers back now. */
    kite__tcp_ooo_free(pcb);
    pcb->rto_at = pcb->persist_at = pcb->keep_at = pcb->poll_at = KITE_TIME_NEVER;
    pcb->timewait_at = pcb->stack->now + 2u * KITE_TCP_MSL_MS;
    kite__tcp_timer_update(pcb);
}

static void rto_fired(struct kite_tcp_pcb *pcb)
{
    struct kite_stack *stack = pcb->stack;
    pcb->rto_at = KITE_TIME_NEVER;
    bool syn = pcb->state == KITE_TCP_SYN_SENT || pcb->state == KITE_TCP_SYN_RECEIVED;
    unsigned limit = syn ? KITE_TCP_SYN_RETRIES : KITE_TCP_MAX_RETRIES;
    if (pcb->retries >= limit) {
        kite__tcp_kill(pcb, KITE_ERR_TIMEOUT); /* RFC 1122 4.2.3.5 R2 */
        return;
    }
    stack->stats.tcp.rto_timeouts++;
    pcb->retries++;
    if (pcb->backoff < 16)
        pcb->backoff++;                            /* RFC 6298 5.5 */
    pcb->flags &= (uint32_t)~KITE_TCPF_RTT_TIMING; /* Karn */
    if (syn) {
        stack->stats.tcp.retransmits++;
        (void)kite__tcp_send_syn(pcb);
        kite__tcp_rto_restart(pcb);
        return;
    }
    kite__tcp_cc_rto(pcb);
    pcb->snd_nxt = pcb->snd_una; /* go back and resend from the first hole */
    (void)kite__tcp_output(pcb);
    if (pcb->rto_at == KITE_TIME_NEVER && pcb->snd_una != pcb->snd_max)
        kite__tcp_rto_restart(pcb);
}

static void persist_fired(struct kite_tcp_pcb *pcb)
{
    pcb->persist_at = KITE_TIME_NEVER;
    (void)kite__tcp_send_window_probe(pcb);
    if (pcb->persist_backoff < 8)
        pcb->persist_backoff++;
    (void)kite__tcp_output(pcb); /* re-arms persist while the window stays shut */
}

static void keepalive_fired(struct kite_tcp_pcb *pcb)
{
    if (pcb->keep_probes_sent >= pcb->keep_cnt) {
        pcb->stack->stats.tcp.keepalive_drops++;
        kite__tcp_kill(pcb, KITE_ERR_TIMEOUT);
        return;
    }
    pcb->keep_probes_sent++;
    kite__tcp_send_keepalive(pcb);
    pcb->keep_at = pcb->stack->now + pcb->keep_intvl_ms;
}

static bool keepalive_applies(const struct kite_tcp_pcb *pcb)
{
    return pcb->state == KITE_TCP_ESTABLISHED || pcb->state == KITE_TCP_CLOSE_WAIT ||
           pcb->state == KITE_TCP_FIN_WAIT_2;
}

static void poll_fired(struct kite_tcp_pcb *pcb)
{
    pcb->poll_at = pcb->stack->now + pcb->poll_interval_ms;
    if (pcb->poll != NULL)
        pcb->poll(pcb->arg, pcb);
}

static void run_due(struct kite_tcp_pcb *pcb, kite_time_ms now)
{
    if (pcb->timewait_at <= now) {
        kite__tcp_kill(pcb, KITE_ERR_CLOSED);
        return;
    }
    if (pcb->rto_at <= now)
        rto_fired(pcb);
    if ((pcb->flags & KITE_TCPF_FREE_PENDING) == 0 && pcb->persist_at <= now)
        persist_fired(pcb);
    if ((pcb->flags & KITE_TCPF_FREE_PENDING) == 0 && pcb->delack_at <= now) {
        pcb->delack_at = KITE_TIME_NEVER;
        if (pcb->flags & KITE_TCPF_ACK_DELAYED)
            (void)kite__tcp_send_ack(pcb);
    }
    if ((pcb->flags & KITE_TCPF_FREE_PENDING) == 0 && pcb->keep_at <= now) {
        if (keepalive_applies(pcb))
            keepalive_fired(pcb);
        else
            pcb->keep_at = now + pcb->keep_idle_ms;
    }
    if ((pcb->flags & KITE_TCPF_FREE_PENDING) == 0 && pcb->poll_at <= now)
        poll_fired(pcb);
}

void kite__tcp_timer_fired(struct kite_stack *stack, struct kite_timer *timer)
{
    struct kite_tcp_pcb *pcb = KITE_CONTAINER_OF(timer, struct kite_tcp_pcb, timer);
    pcb->busy++;
    run_due(pcb, stack->now);
    pcb->busy--;
    if (pcb->flags & KITE_TCPF_FREE_PENDING)
        kite__tcp_free(pcb);
    else
        kite__tcp_timer_update(pcb);
}
#else
typedef int kite_tcp_disabled_; /* ISO C wants a non-empty file */
#endif
