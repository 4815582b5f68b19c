/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/opts.h"
#if KITE_TCP /* the whole file is TCP (KITE_TCP = 0 leaves it out) */
/*
 * TCP timers. A connection has at most one pending timer, a 32-bit deadline
 * and its kind (retransmission, persist, keepalive or TIME_WAIT exclude each
 * other), kept in one list sorted by deadline behind a single stack timer.
 * Delayed ACKs and poll callbacks are served by two stack-wide sweeps that
 * run only while some connection needs them, so an idle stack has no
 * deadline at all.
 */
#include "tcp_priv.h"

/* ---- 32-bit time ------------------------------------------------------------- */

static uint32_t now32(const struct kite_stack *stack)
{
    return (uint32_t)stack->now;
}

/* a before b, on the wrapping clock (deadlines are within 24 days of now). */
static bool time_before(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

/* ---- The deadline list -----------------------------------------------------------
 *
 * Doubly linked through pcb numbers (tcp_pcb.h), its last pcb known: leaving
 * it is O(1), and so is joining it at the end, where a deadline no earlier
 * than any other goes. That is the common case, a retransmission timer
 * restarted by an ACK: most connections share the same timeout, so the one
 * restarted last is due last. Another deadline walks from the front. */

/* Take the pcb (whose timer is pending) off the list. */
static void unlink_timer(struct kite_tcp_pcb *pcb)
{
    struct kite_stack *stack = pcb->stack;
    struct kite_tcp *tcp = &stack->tcp;
    if (pcb->tprev != 0)
        tcp_pcb_at(stack, pcb->tprev)->tnext = pcb->tnext;
    else
        tcp->timers = pcb->tnext;
    if (pcb->tnext != 0)
        tcp_pcb_at(stack, pcb->tnext)->tprev = pcb->tprev;
    else
        tcp->timers_last = pcb->tprev;
    pcb->tnext = 0;
    pcb->tprev = 0;
}

static uint32_t deadline_of(const struct kite_stack *stack, uint16_t n)
{
    return tcp_pcb_at(stack, n)->deadline;
}

/* Put the pcb after every earlier or equal deadline: FIFO among equals. */
static void insert_timer(struct kite_stack *stack, struct kite_tcp_pcb *pcb)
{
    struct kite_tcp *tcp = &stack->tcp;
    uint16_t prev = tcp->timers_last; /* the pcb goes after prev (0: first) */
    if (prev != 0 && time_before(pcb->deadline, deadline_of(stack, prev))) {
        /* Not the latest: stops before the end, the last deadline is later. */
        prev = 0;
        for (uint16_t at = tcp->timers; !time_before(pcb->deadline, deadline_of(stack, at));
             at = tcp_pcb_at(stack, at)->tnext)
            prev = at;
    }
    uint16_t n = tcp_pcb_number(stack, pcb);
    uint16_t next = prev != 0 ? tcp_pcb_at(stack, prev)->tnext : tcp->timers;
    pcb->tprev = prev;
    pcb->tnext = next;
    if (prev != 0)
        tcp_pcb_at(stack, prev)->tnext = n;
    else
        tcp->timers = n;
    if (next != 0)
        tcp_pcb_at(stack, next)->tprev = n;
    else
        tcp->timers_last = n;
}

/* Arm the stack timer at the first deadline of the list (or cancel it). */
static void rearm(struct kite_stack *stack)
{
    struct kite_tcp *tcp = &stack->tcp;
    if (tcp->timers == 0) {
        kite_timer_cancel(stack, &tcp->timer);
        return;
    }
    uint32_t wait = deadline_of(stack, tcp->timers) - now32(stack);
    kite_time_ms at = (int32_t)wait <= 0 ? stack->now : stack->now + wait;
    if (!kite_timer_armed(&tcp->timer) || tcp->timer.deadline != at)
        kite_timer_arm(stack, &tcp->timer, at);
}

void kite__tcp_timer_set(struct kite_tcp_pcb *pcb, enum kite_tcp_timer_kind kind, uint32_t ms)
{
    struct kite_stack *stack = pcb->stack;
    if (pcb->flags & KITE_TCPF_FREE_PENDING)
        return;
    if (pcb->timer_kind != KITE_TCPT_NONE)
        unlink_timer(pcb);
    pcb->timer_kind = (uint8_t)kind & 15u;
    pcb->deadline = now32(stack) + ms;
    insert_timer(stack, pcb);
    rearm(stack);
}

void kite__tcp_timer_stop(struct kite_tcp_pcb *pcb)
{
    if (pcb->timer_kind == KITE_TCPT_NONE)
        return;
    bool first = pcb->tprev == 0;
    unlink_timer(pcb);
    pcb->timer_kind = KITE_TCPT_NONE;
    if (first)
        rearm(pcb->stack);
}

/* ---- RTO (RFC 6298) ------------------------------------------------------------------ */

uint32_t kite__tcp_rto(const struct kite_tcp_pcb *pcb)
{
    uint32_t rto;
    if (pcb->srtt8 == 0) {
        /* RFC 6298 2.1, and 5.7: 3 s after a retransmitted SYN until a sample. */
        rto = (pcb->flags & KITE_TCPF_RTO_3S) ? 3000u : KITE_TCP_RTO_INIT_MS;
    } else {
        uint32_t var = pcb->rttvar4 > 1u ? pcb->rttvar4 : 1u; /* G = 1 ms clock */
        rto = pcb->srtt8 / 8u + var;                          /* RFC 6298 2.3 */
    }
    if (rto < KITE_TCP_RTO_MIN_MS)
        rto = KITE_TCP_RTO_MIN_MS;
    return rto > KITE_TCP_RTO_MAX_MS ? KITE_TCP_RTO_MAX_MS : rto;
}

/* base << shift, at most KITE_TCP_RTO_MAX_MS (RFC 6298 5.5, 2.5). */
static uint32_t backed_off(uint32_t base, uint8_t shift)
{
    if (shift > 16 || (base << shift) > KITE_TCP_RTO_MAX_MS || (base << shift) < base)
        return KITE_TCP_RTO_MAX_MS;
    return base << shift;
}

void kite__tcp_rto_restart(struct kite_tcp_pcb *pcb)
{
    kite__tcp_timer_set(pcb, KITE_TCPT_REXMIT, backed_off(kite__tcp_rto(pcb), pcb->backoff));
}

void kite__tcp_rtt_sample(struct kite_tcp_pcb *pcb, uint32_t rtt_ms)
{
    if (rtt_ms > KITE_TCP_RTO_MAX_MS)
        return; /* nonsense (e.g. a timestamp echo from before a restart) */
    uint32_t var4;
    if (pcb->srtt8 == 0) {
        /* RFC 6298 2.2: first measurement. */
        pcb->srtt8 = rtt_ms * 8u + 1u; /* +1 keeps "measured" distinct from 0 */
        var4 = rtt_ms * 2u;
    } else {
        /* RFC 6298 2.3, alpha = 1/8, beta = 1/4, in scaled integers. */
        int32_t err = (int32_t)rtt_ms - (int32_t)(pcb->srtt8 / 8u);
        pcb->srtt8 = (uint32_t)((int32_t)pcb->srtt8 + err);
        uint32_t abs_err = (uint32_t)(err < 0 ? -err : err);
        var4 = pcb->rttvar4 - pcb->rttvar4 / 4u + abs_err;
    }
    pcb->rttvar4 = (uint16_t)(var4 < 0xffffu ? var4 : 0xffffu);
}

/* ---- Arming by state ------------------------------------------------------------------ */

static bool keepalive_applies(const struct kite_tcp_pcb *pcb)
{
    return pcb->keepalive != 0 &&
           (pcb->state == KITE_TCP_ESTABLISHED || pcb->state == KITE_TCP_CLOSE_WAIT ||
            pcb->state == KITE_TCP_FIN_WAIT_2);
}

void kite__tcp_timer_idle(struct kite_tcp_pcb *pcb)
{
    /* Nothing in flight and no window to probe: keepalive, or nothing. */
    if (pcb->timer_kind == KITE_TCPT_TIMEWAIT)
        return;
    pcb->backoff = 0;
    if (!keepalive_applies(pcb)) {
        kite__tcp_timer_stop(pcb);
        return;
    }
    uint32_t idle = tcp_keepalive(pcb)->idle_s * 1000u;
    uint32_t since = now32(pcb->stack) - pcb->last_rx;
    kite__tcp_timer_set(pcb, KITE_TCPT_KEEPALIVE, since < idle ? idle - since : 0);
}

void kite__tcp_enter_time_wait(struct kite_tcp_pcb *pcb)
{
    kite__tcp_set_state(pcb, KITE_TCP_TIME_WAIT);
    /* Nothing more will be sent or delivered: give the buffers back now. */
    kite__tcp_ooo_free(pcb);
    kite__tcp_timer_set(pcb, KITE_TCPT_TIMEWAIT, 2u * KITE_TCP_MSL_MS);
}

/* ---- What each kind does when due ---------------------------------------------------- */

static void rto_fired(struct kite_tcp_pcb *pcb)
{
    struct kite_stack *stack = pcb->stack;
    bool syn = pcb->state == KITE_TCP_SYN_SENT || pcb->state == KITE_TCP_SYN_RECEIVED;
    unsigned limit = syn ? KITE_TCP_SYN_RETRIES : KITE_TCP_MAX_RETRIES;
    if (pcb->backoff >= limit) {
        kite__tcp_kill(pcb, KITE_ERR_TIMEOUT); /* RFC 1122 4.2.3.5 R2 */
        return;
    }
    stack->stats.tcp.rto_timeouts++;
    pcb->backoff++;                                /* RFC 6298 5.5 */
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
    /* (output may have chosen persist: the window is shut, probe it) */
    if (pcb->timer_kind != KITE_TCPT_REXMIT && pcb->timer_kind != KITE_TCPT_PERSIST &&
        pcb->snd_una != pcb->snd_max)
        kite__tcp_rto_restart(pcb);
}

static void persist_fired(struct kite_tcp_pcb *pcb)
{
    (void)kite__tcp_send_window_probe(pcb);
    if (pcb->backoff < 8)
        pcb->backoff++;
    (void)kite__tcp_output(pcb); /* re-arms persist while the window stays shut */
}

static void keepalive_fired(struct kite_tcp_pcb *pcb)
{
    const struct kite_tcp_keepalive *k = tcp_keepalive(pcb);
    uint32_t since = now32(pcb->stack) - pcb->last_rx;
    uint32_t due = k->idle_s * 1000u + pcb->backoff * (k->intvl_s * 1000u);
    if (since < due) { /* the peer spoke meanwhile: wait from then (RFC 1122 4.2.3.6) */
        kite__tcp_timer_set(pcb, KITE_TCPT_KEEPALIVE, due - since);
        return;
    }
    if (pcb->backoff >= k->count) {
        pcb->stack->stats.tcp.keepalive_drops++;
        kite__tcp_kill(pcb, KITE_ERR_TIMEOUT);
        return;
    }
    pcb->backoff++;
    kite__tcp_send_keepalive(pcb);
    kite__tcp_timer_set(pcb, KITE_TCPT_KEEPALIVE, k->intvl_s * 1000u);
}

static void run(struct kite_tcp_pcb *pcb, enum kite_tcp_timer_kind kind)
{
    switch (kind) {
    case KITE_TCPT_REXMIT:
        rto_fired(pcb);
        break;
    case KITE_TCPT_PERSIST:
        persist_fired(pcb);
        break;
    case KITE_TCPT_KEEPALIVE:
        if (keepalive_applies(pcb))
            keepalive_fired(pcb);
        break;
    case KITE_TCPT_TIMEWAIT:
        kite__tcp_kill(pcb, KITE_ERR_CLOSED);
        break;
    default:
        break;
    }
}

static void deadlines_due(struct kite_stack *stack, struct kite_timer *timer)
{
    (void)timer;
    /* Bounded: a pcb re-armed in the past waits for the next poll. */
    for (unsigned budget = 1024; budget > 0; budget--) {
        if (stack->tcp.timers == 0)
            break;
        struct kite_tcp_pcb *pcb = tcp_pcb_at(stack, stack->tcp.timers);
        if (time_before(now32(stack), pcb->deadline))
            break;
        unlink_timer(pcb);
        enum kite_tcp_timer_kind kind = (enum kite_tcp_timer_kind)pcb->timer_kind;
        pcb->timer_kind = KITE_TCPT_NONE;
        pcb->busy++;
        run(pcb, kind);
        pcb->busy--;
        if (pcb->flags & KITE_TCPF_FREE_PENDING)
            kite__tcp_free(pcb);
    }
    rearm(stack);
}

/* ---- Delayed ACKs (RFC 1122 4.2.3.2) ------------------------------------------------- */

void kite__tcp_delack(struct kite_tcp_pcb *pcb)
{
    struct kite_stack *stack = pcb->stack;
    pcb->flags |= KITE_TCPF_ACK_DELAYED;
    if (!kite_timer_armed(&stack->tcp.delack))
        kite_timer_arm(stack, &stack->tcp.delack, stack->now + KITE_TCP_DELACK_MS);
}

/* Every owed ACK leaves at the sweep: none waits longer than the timeout. */
static void delack_sweep(struct kite_stack *stack, struct kite_timer *timer)
{
    (void)timer;
    bool owed = false;
    for (struct kite_tcp_pcb *pcb = kite__tcp_next(stack, NULL); pcb != NULL;
         pcb = kite__tcp_next(stack, pcb)) {
        if ((pcb->flags & KITE_TCPF_ACK_DELAYED) && kite__tcp_send_ack(pcb) != KITE_ERR_OK)
            owed = true; /* out of buffers: try again at the next sweep */
    }
    if (owed)
        kite_timer_arm(stack, &stack->tcp.delack, stack->now + KITE_TCP_DELACK_MS);
}

/* ---- The poll callback -------------------------------------------------------------- */

void kite__tcp_poll_start(struct kite_stack *stack)
{
    if (!kite_timer_armed(&stack->tcp.poll)) {
        stack->tcp.poll_ticks = 0; /* a single user is polled from now on, in phase */
        kite_timer_arm(stack, &stack->tcp.poll, stack->now + KITE_TCP_POLL_TICK_MS);
    }
}

static bool wants_poll(const struct kite_tcp_pcb *pcb)
{
    return TCP_CB(pcb, poll) != NULL && pcb->ops->poll_interval_ms > 0 &&
           !(pcb->flags & KITE_TCPF_CHILD);
}

/* Every interval (in ticks, rounded up) of the stack's tick count. */
static void poll_one(struct kite_tcp_pcb *pcb, uint32_t tick)
{
    uint32_t every =
        (pcb->ops->poll_interval_ms + KITE_TCP_POLL_TICK_MS - 1u) / KITE_TCP_POLL_TICK_MS;
    if (tick % every != 0)
        return;
    pcb->busy++;
    pcb->ops->poll(pcb->u.arg, pcb);
    pcb->busy--;
}

static void poll_tick(struct kite_stack *stack, struct kite_timer *timer)
{
    bool any = false;
    uint32_t tick = ++stack->tcp.poll_ticks;
    for (struct kite_tcp_pcb *pcb = kite__tcp_next(stack, NULL); pcb != NULL;
         pcb = kite__tcp_next(stack, pcb)) {
        if (wants_poll(pcb)) {
            any = true;
            poll_one(pcb, tick);
            if (pcb->flags & KITE_TCPF_FREE_PENDING)
                kite__tcp_free(pcb);
        }
    }
    /* From its own deadline, so a poll that jumps ahead runs every tick. */
    if (any)
        kite_timer_arm(stack, &stack->tcp.poll, timer->deadline + KITE_TCP_POLL_TICK_MS);
}

void kite__tcp_timers_init(struct kite_stack *stack)
{
    kite_timer_init(&stack->tcp.timer, deadlines_due);
    kite_timer_init(&stack->tcp.delack, delack_sweep);
    kite_timer_init(&stack->tcp.poll, poll_tick);
}

void kite__tcp_timers_deinit(struct kite_stack *stack)
{
    kite_timer_cancel(stack, &stack->tcp.timer);
    kite_timer_cancel(stack, &stack->tcp.delack);
    kite_timer_cancel(stack, &stack->tcp.poll);
}
#else
typedef int kite_tcp_disabled_; /* ISO C wants a non-empty file */
#endif
