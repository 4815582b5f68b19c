/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/opts.h"
#if KITE_IGMP /* the whole file is IGMP (KITE_IGMP = 0 leaves it out) */
/*
 * IGMP messages (RFC 3376, in the v1 and v2 compatibility modes of RFC 3376
 * 7.2 with RFC 1112 and RFC 2236): query processing, current-state and
 * state-change reports, report suppression in v1/v2, leaves, and the one
 * timer that fires them. The timer is armed only while a report is pending
 * (the querier-present timers are deadlines compared lazily, never fired).
 */
#include <string.h>

#include "kite/stack.h"
#include "kite/wire/igmp.h"
#include "kite/wire/ipv4.h"

#include "kite_internal/igmp.h"
#include "kite_internal/ipv4.h"
#include "kite_internal/ipv4_mcast.h"
#include "kite_internal/stack.h"

#include "igmp_priv.h"

/* A message in one chained pbuf longer than this is not copied to be parsed. */
#define IGMP_SCRATCH 576u
/* RFC 3376 8.2 and 8.3 defaults: Query Interval 125 s, Query Response Interval 10 s. */
#define IGMP_DEFAULT_QQI_S 125u
/* RFC 2236 4: a v1 query's Max Resp Time of 0 stands for 10 s. */
#define IGMP_V1_MAX_RESP_MS 10000u

/* RFC 2113 2.1 Router Alert, value 0 (examine packet). */
static const uint8_t router_alert[KITE_IPV4_OPT_ROUTER_ALERT_LEN] = {KITE_IPV4_OPT_ROUTER_ALERT, 4u,
                                                                     0u, 0u};

static kite_time_ms rand_upto(struct kite_stack *stack, uint32_t max_ms)
{
    return max_ms == 0 ? 0 : kite_random_u32(stack) % (max_ms + 1u);
}

/* A report due at random within max_ms (RFC 3376 5.2, RFC 2236 3), never
 * at time 0, which marks "nothing pending". */
static kite_time_ms due_within(struct kite_stack *stack, uint32_t max_ms)
{
    kite_time_ms due = stack->now + rand_upto(stack, max_ms);
    return due != 0 ? due : 1;
}

/* ---- Sending ---------------------------------------------------------------------------- */

/* RFC 3376 4 and RFC 2236 2: TTL 1, Internetwork Control precedence, Router Alert. */
static bool send_message(struct kite_stack *stack, struct kite_netif *netif, struct kite_pbuf *p,
                         uint32_t dst)
{
    enum kite_err err = kite__ipv4_output_opts(netif, p, netif->ip4.u.v4, dst, KITE_IP_PROTO_IGMP,
                                               1u, 0xc0u, router_alert, sizeof router_alert);
    kite_pbuf_free(stack, p);
    if (err != KITE_ERR_OK)
        return false;
    stack->stats.igmp.tx++;
    return true;
}

/* A v1 or v2 report, or a v2 leave (to 224.0.0.2, RFC 2236 3). */
static void send_v12(struct kite_stack *stack, struct kite_netif *netif, uint8_t type,
                     uint32_t group)
{
    struct kite_pbuf *p =
        kite_pbuf_alloc(stack, (uint16_t)(KITE_LAYER_IP + 4u), KITE_IGMP_HLEN, KITE_PBUF_RAM);
    if (p == NULL) {
        stack->stats.igmp.drop_no_mem++;
        return;
    }
    struct kite_igmp_repr r = {.type = type, .group = group};
    (void)kite_igmp_emit(&r, NULL, p->payload, p->len);
    bool leave = type == KITE_IGMP_TYPE_V2_LEAVE;
    if (!send_message(stack, netif, p, leave ? KITE_IGMP_ALL_ROUTERS : group))
        return;
    if (leave)
        stack->stats.igmp.leaves_sent++;
    else if (type == KITE_IGMP_TYPE_V1_REPORT)
        stack->stats.igmp.reports_v1_sent++;
    else
        stack->stats.igmp.reports_v2_sent++;
}

static void send_v12_report(struct kite_stack *stack, struct kite_igmp_group *g)
{
    unsigned v = kite_igmp_version(g->netif);
    send_v12(stack, g->netif, v == 1 ? KITE_IGMP_TYPE_V1_REPORT : KITE_IGMP_TYPE_V2_REPORT,
             g->addr);
    g->flags |= IGMP_GF_LAST_REPORTER;
}

/* A v3 report being filled with group records (RFC 3376 4.2). */
struct report {
    struct kite_netif *netif;
    struct kite_pbuf *p;
    uint16_t len, cap, nrec;
};

static uint16_t report_cap(const struct kite_netif *netif)
{
    uint32_t room = KITE_PBUF_RAM_BUFSIZE - (KITE_LAYER_IP + KITE_IPV4_OPT_ROUTER_ALERT_LEN);
    uint32_t mtu = (uint32_t)netif->mtu - KITE_IPV4_HLEN - KITE_IPV4_OPT_ROUTER_ALERT_LEN;
    return (uint16_t)(mtu < room ? mtu : room);
}

static void report_flush(struct kite_stack *stack, struct report *r)
{
    if (r->p == NULL)
        return;
    struct kite_pbuf *p = r->p;
    r->p = NULL;
    kite_pbuf_trim(stack, p, r->len);
    struct kite_igmp_repr h = {.type = KITE_IGMP_TYPE_V3_REPORT, .nrec = r->nrec};
    (void)kite_igmp_emit(&h, NULL, p->payload, p->len);
    kite_igmp_fill_checksum(p->payload, r->len);
    if (send_message(stack, r->netif, p, KITE_IGMP_V3_ROUTERS))
        stack->stats.igmp.reports_v3_sent++;
}

/* Add a record, starting a new report when this one is full; false when no buffer. */
static bool report_add(struct kite_stack *stack, struct report *r, uint8_t type, uint32_t group,
                       const uint32_t *srcs, unsigned n)
{
    uint16_t need = (uint16_t)(KITE_IGMP_RECORD_HLEN + n * 4u);
    uint16_t cap = report_cap(r->netif);
    if ((uint32_t)need + KITE_IGMP_HLEN > cap)
        return false; /* cannot happen with a sane MTU and KITE_IGMP_MAX_SOURCES */
    if (r->p != NULL && r->len + need > cap)
        report_flush(stack, r);
    if (r->p == NULL) {
        r->p = kite_pbuf_alloc(stack, (uint16_t)(KITE_LAYER_IP + 4u), cap, KITE_PBUF_RAM);
        if (r->p == NULL) {
            stack->stats.igmp.drop_no_mem++;
            return false;
        }
        r->len = KITE_IGMP_HLEN;
        r->nrec = 0;
    }
    (void)kite_igmp_record_emit(type, group, srcs, (uint16_t)n, r->p->payload + r->len,
                                (size_t)(cap - r->len));
    r->len = (uint16_t)(r->len + need);
    r->nrec++;
    return true;
}

static bool add_current_state(struct kite_stack *stack, struct report *r,
                              const struct kite_igmp_group *g)
{
    uint8_t type =
        g->mode == KITE_IGMP_INCLUDE ? KITE_IGMP_MODE_IS_INCLUDE : KITE_IGMP_MODE_IS_EXCLUDE;
    return report_add(stack, r, type, g->addr, g->src, g->nsrc);
}

/* ---- State-change reports (RFC 3376 5.1) ------------------------------------------------- */

/* A source whose reception changed: reported in the next Robustness reports. */
static void note_change(struct kite_igmp_group *g, uint32_t src, bool block, uint8_t count)
{
    uint8_t v = (uint8_t)(count | (block ? IGMP_CHG_BLOCK : 0u));
    for (unsigned i = 0; i < g->nchg; i++) {
        if (g->chg_src[i] == src) {
            g->chg_left[i] = v;
            return;
        }
    }
    if (g->nchg < KITE_IGMP_MAX_SOURCES) {
        g->chg_src[g->nchg] = src;
        g->chg_left[g->nchg++] = v;
        return;
    }
    g->mode_rtx = count; /* no room to track it: report the whole state instead */
    g->nchg = 0;
}

/* RFC 3376 5.1 table: INCLUDE(A) -> INCLUDE(B) is ALLOW(B-A), BLOCK(A-B);
 * EXCLUDE(A) -> EXCLUDE(B) is ALLOW(A-B), BLOCK(B-A). */
static void diff_sources(struct kite_igmp_group *g, const uint32_t *old_src, uint8_t old_n,
                         uint8_t count)
{
    bool incl = g->mode == KITE_IGMP_INCLUDE;
    for (unsigned i = 0; i < g->nsrc; i++)
        if (!igmp_in_list(old_src, old_n, g->src[i]))
            note_change(g, g->src[i], !incl, count);
    for (unsigned i = 0; i < old_n; i++)
        if (!igmp_in_list(g->src, g->nsrc, old_src[i]))
            note_change(g, old_src[i], incl, count);
}

/* Collect the ALLOW or BLOCK sources still to report, counting one report. */
static unsigned take_changes(struct kite_igmp_group *g, bool block, uint32_t *out)
{
    unsigned n = 0;
    for (unsigned i = 0; i < g->nchg; i++)
        if (((g->chg_left[i] & IGMP_CHG_BLOCK) != 0) == block)
            out[n++] = g->chg_src[i];
    return n;
}

static void count_changes_sent(struct kite_igmp_group *g)
{
    unsigned k = 0;
    for (unsigned i = 0; i < g->nchg; i++) {
        uint8_t left = (uint8_t)((g->chg_left[i] & IGMP_CHG_COUNT) - 1u);
        if (left == 0)
            continue;
        g->chg_src[k] = g->chg_src[i];
        g->chg_left[k++] = (uint8_t)(left | (g->chg_left[i] & IGMP_CHG_BLOCK));
    }
    g->nchg = (uint8_t)k;
}

/* Send g's pending state-change report now (the merged one of RFC 3376 5.1)
 * and schedule the next retransmission. */
static void send_change(struct kite_stack *stack, struct kite_igmp_group *g)
{
    struct report r = {.netif = g->netif};
    bool ok = true;
    if (g->mode_rtx > 0) {
        uint8_t type = g->mode == KITE_IGMP_INCLUDE ? KITE_IGMP_CHANGE_TO_INCLUDE
                                                    : KITE_IGMP_CHANGE_TO_EXCLUDE;
        ok = report_add(stack, &r, type, g->addr, g->src, g->nsrc);
        if (ok)
            g->mode_rtx--;
    } else if (g->nchg > 0) {
        uint32_t allow[KITE_IGMP_MAX_SOURCES], block[KITE_IGMP_MAX_SOURCES];
        unsigned na = take_changes(g, false, allow), nb = take_changes(g, true, block);
        if (na > 0)
            ok = report_add(stack, &r, KITE_IGMP_ALLOW_NEW_SOURCES, g->addr, allow, na);
        if (ok && nb > 0)
            ok = report_add(stack, &r, KITE_IGMP_BLOCK_OLD_SOURCES, g->addr, block, nb);
        if (ok)
            count_changes_sent(g);
    }
    report_flush(stack, &r);
    g->change_due = 0;
    if (g->mode_rtx > 0 || g->nchg > 0) /* RFC 3376 5.1: at random in (0, URI] */
        g->change_due = stack->now + 1u + rand_upto(stack, KITE_IGMP_V3_UNSOLICITED_MS - 1u);
    kite__igmp_group_release(stack, g);
}

/* RFC 2236 3 (and RFC 1112 7.2): a join is reported at once and repeated
 * after a short delay; a leave is sent only by the last reporter, in v2. */
static void v12_changed(struct kite_stack *stack, struct kite_igmp_group *g, bool was, bool is)
{
    if (!was && is) {
        send_v12_report(stack, g);
        g->mode_rtx = (uint8_t)(kite__igmp_robustness(g->netif) - 1u);
        if (g->mode_rtx > 0)
            g->change_due = stack->now + 1u + rand_upto(stack, KITE_IGMP_V2_UNSOLICITED_MS - 1u);
        return;
    }
    if (was && !is) {
        if (kite_igmp_version(g->netif) == 2 && (g->flags & IGMP_GF_LAST_REPORTER))
            send_v12(stack, g->netif, KITE_IGMP_TYPE_V2_LEAVE, g->addr);
        g->report_due = g->change_due = 0;
        g->mode_rtx = g->nchg = g->nq = 0;
        kite__igmp_group_release(stack, g);
    }
}

void kite__igmp_state_changed(struct kite_stack *stack, struct kite_igmp_group *g, uint8_t old_mode,
                              const uint32_t *old_src, uint8_t old_n)
{
    bool was = old_mode == KITE_IGMP_EXCLUDE || old_n > 0;
    bool is = igmp_group_exists(g);
    /* RFC 3376 5: 224.0.0.1 is never reported; a netif that is down reports
     * its groups when it comes up. */
    if (g->addr == KITE_IGMP_ALL_SYSTEMS || !kite_netif_is_up(g->netif)) {
        kite__igmp_group_release(stack, g);
        return;
    }
    if (kite_igmp_version(g->netif) < 3) {
        v12_changed(stack, g, was, is);
        return;
    }
    uint8_t count = kite__igmp_robustness(g->netif);
    if (old_mode != g->mode) {
        g->mode_rtx = count; /* a filter-mode change: TO_IN / TO_EX */
        g->nchg = 0;
    } else {
        diff_sources(g, old_src, old_n, count);
    }
    send_change(stack, g);
}

/* ---- Query responses (RFC 3376 5.2) ------------------------------------------------------- */

static void respond_general(struct kite_stack *stack, struct kite_netif *netif)
{
    struct report r = {.netif = netif};
    for (struct kite_igmp_group *g = stack->igmp.groups; g != NULL; g = g->next)
        if (g->netif == netif && igmp_group_exists(g) && g->addr != KITE_IGMP_ALL_SYSTEMS)
            (void)add_current_state(stack, &r, g);
    report_flush(stack, &r);
}

static void respond_group(struct kite_stack *stack, struct kite_igmp_group *g)
{
    uint8_t nq = g->nq;
    g->nq = 0;
    if (!igmp_group_exists(g) || g->addr == KITE_IGMP_ALL_SYSTEMS)
        return;
    if (kite_igmp_version(g->netif) < 3) {
        send_v12_report(stack, g);
        return;
    }
    struct report r = {.netif = g->netif};
    if (nq == 0) {
        (void)add_current_state(stack, &r, g);
    } else {
        /* INCLUDE(A): IS_IN(A*Q); EXCLUDE(A): IS_IN(Q-A); nothing when empty. */
        uint32_t list[KITE_IGMP_MAX_SOURCES];
        unsigned n = 0;
        bool incl = g->mode == KITE_IGMP_INCLUDE;
        for (unsigned i = 0; i < nq; i++)
            if (igmp_in_list(g->src, g->nsrc, g->qsrc[i]) == incl)
                list[n++] = g->qsrc[i];
        if (n > 0)
            (void)report_add(stack, &r, KITE_IGMP_MODE_IS_INCLUDE, g->addr, list, n);
    }
    report_flush(stack, &r);
}

/* ---- The timer ------------------------------------------------------------------------- */

static void take_min(kite_time_ms *min, kite_time_ms t)
{
    if (t != 0 && t < *min)
        *min = t;
}

void kite__igmp_rearm(struct kite_stack *stack)
{
    kite_time_ms min = KITE_TIME_NEVER;
    for (const struct kite_netif *n = stack->netifs; n != NULL; n = n->next)
        take_min(&min, n->igmp.gq_due);
    for (const struct kite_igmp_group *g = stack->igmp.groups; g != NULL; g = g->next) {
        take_min(&min, g->report_due);
        take_min(&min, g->change_due);
    }
    if (min == KITE_TIME_NEVER)
        kite_timer_cancel(stack, &stack->igmp.timer);
    else if (!kite_timer_armed(&stack->igmp.timer) || stack->igmp.timer.deadline != min)
        kite_timer_arm(stack, &stack->igmp.timer, min);
}

/* A due unsolicited v1/v2 report repeat, or v3 state-change retransmission. */
static void change_due(struct kite_stack *stack, struct kite_igmp_group *g)
{
    g->change_due = 0;
    if (kite_igmp_version(g->netif) == 3) {
        send_change(stack, g);
        return;
    }
    if (g->mode_rtx == 0 || !igmp_group_exists(g))
        return;
    send_v12_report(stack, g);
    if (--g->mode_rtx > 0)
        g->change_due = stack->now + 1u + rand_upto(stack, KITE_IGMP_V2_UNSOLICITED_MS - 1u);
}

static void igmp_timer(struct kite_stack *stack, struct kite_timer *timer)
{
    (void)timer;
    kite_time_ms now = stack->now;
    for (struct kite_netif *n = stack->netifs; n != NULL; n = n->next) {
        if (n->igmp.gq_due != 0 && n->igmp.gq_due <= now) {
            n->igmp.gq_due = 0;
            respond_general(stack, n);
        }
    }
    struct kite_igmp_group *g = stack->igmp.groups;
    while (g != NULL) {
        struct kite_igmp_group *next = g->next; /* change_due may free g */
        if (g->report_due != 0 && g->report_due <= now) {
            g->report_due = 0;
            respond_group(stack, g);
        }
        if (g->change_due != 0 && g->change_due <= now)
            change_due(stack, g);
        g = next;
    }
    kite__igmp_rearm(stack);
}

/* ---- Input --------------------------------------------------------------------------------- */

/* RFC 3376 7.2.1: switching to an older version cancels every pending
 * response and retransmission (a netif going down does the same). */
static void cancel_pending(struct kite_stack *stack, struct kite_netif *netif)
{
    netif->igmp.gq_due = 0;
    struct kite_igmp_group *g = stack->igmp.groups;
    while (g != NULL) {
        struct kite_igmp_group *next = g->next;
        if (g->netif == netif) {
            g->report_due = g->change_due = 0;
            g->mode_rtx = g->nchg = g->nq = 0;
            kite__igmp_group_release(stack, g);
        }
        g = next;
    }
}

/* RFC 2236 3: each group queried gets a report after a random delay, a
 * running timer reset only when the new Max Resp Time is shorter than what
 * it has left. */
static void v12_query(struct kite_stack *stack, struct kite_netif *netif, uint32_t group,
                      uint32_t max_ms)
{
    kite_time_ms now = stack->now;
    for (struct kite_igmp_group *g = stack->igmp.groups; g != NULL; g = g->next) {
        if (g->netif != netif || !igmp_group_exists(g) || g->addr == KITE_IGMP_ALL_SYSTEMS ||
            (group != 0 && g->addr != group))
            continue;
        if (g->report_due == 0 || now + max_ms < g->report_due)
            g->report_due = due_within(stack, max_ms);
    }
}

/* RFC 3376 5.2 rules 3 to 5: a group's pending response and queried sources. */
static void v3_group_query(struct kite_igmp_group *g, const uint8_t *buf,
                           const struct kite_igmp_repr *q, kite_time_ms due)
{
    bool pending = g->report_due != 0;
    if (q->nsrc == 0 || (pending && g->nq == 0)) {
        g->nq = 0; /* group-specific: the whole state answers */
    } else {
        if (!pending)
            g->nq = 0;
        for (uint16_t i = 0; i < q->nsrc; i++) {
            uint32_t s = kite_igmp_query_source(buf, i);
            if (igmp_in_list(g->qsrc, g->nq, s))
                continue;
            if (g->nq == KITE_IGMP_MAX_SOURCES) {
                g->nq = 0; /* too many to track: answer with the whole state */
                break;
            }
            g->qsrc[g->nq++] = s;
        }
    }
    if (!pending || due < g->report_due)
        g->report_due = due;
}

static void v3_query(struct kite_stack *stack, struct kite_netif *netif, const uint8_t *buf,
                     const struct kite_igmp_repr *q, uint32_t max_ms)
{
    kite_time_ms due = due_within(stack, max_ms);
    /* Rule 1: a General Query response due sooner covers this one. */
    if (netif->igmp.gq_due != 0 && netif->igmp.gq_due <= due)
        return;
    if (q->group == 0) { /* rule 2 */
        netif->igmp.gq_due = due;
        return;
    }
    struct kite_igmp_group *g = kite__igmp_group_find(stack, netif, q->group);
    if (g != NULL && igmp_group_exists(g))
        v3_group_query(g, buf, q, due);
}

static void handle_query(struct kite_stack *stack, struct kite_netif *netif, const uint8_t *buf,
                         const struct kite_igmp_repr *q, uint32_t dst)
{
    struct kite_igmp_if *ifs = &netif->igmp;
    if ((q->group != 0 && (q->group >> 28) != 0xeu) ||
        (q->group == 0 && dst != KITE_IGMP_ALL_SYSTEMS)) {
        /* RFC 3376 4.1.12: a General Query goes to 224.0.0.1 only. */
        stack->stats.igmp.drop_bad_query++;
        return;
    }
    unsigned before = kite_igmp_version(netif);
    uint32_t max_ms = q->version == 1 ? IGMP_V1_MAX_RESP_MS : (uint32_t)q->max_resp_ds * 100u;
    if (q->version == 3) {
        stack->stats.igmp.queries_v3++;
        if (q->qrv != 0) /* RFC 3376 4.1.6, 4.1.7: adopt the querier's values */
            ifs->qrv = q->qrv;
        if (q->qqi_s != 0)
            ifs->qqi_s = q->qqi_s;
    } else {
        /* RFC 3376 8.12: Older Version Querier Present Timeout. */
        uint32_t qqi = ifs->qqi_s != 0 ? ifs->qqi_s : IGMP_DEFAULT_QQI_S;
        kite_time_ms until =
            stack->now + (kite_time_ms)kite__igmp_robustness(netif) * qqi * 1000u + max_ms;
        if (q->version == 1) {
            stack->stats.igmp.queries_v1++;
            ifs->v1_until = until;
        } else {
            stack->stats.igmp.queries_v2++;
            ifs->v2_until = until;
        }
    }
    if (kite_igmp_version(netif) < before)
        cancel_pending(stack, netif);
    if (kite_igmp_version(netif) < 3)
        v12_query(stack, netif, q->group, max_ms);
    else
        v3_query(stack, netif, buf, q, max_ms);
    kite__igmp_rearm(stack);
}

/* RFC 2236 3: another member's report for a group whose report is pending
 * suppresses ours (v1/v2 mode only: v3 reports are never suppressed). */
static void report_heard(struct kite_stack *stack, struct kite_netif *netif,
                         const struct kite_igmp_repr *r)
{
    stack->stats.igmp.reports_rx++;
    if (r->type == KITE_IGMP_TYPE_V3_REPORT || kite_igmp_version(netif) == 3)
        return;
    struct kite_igmp_group *g = kite__igmp_group_find(stack, netif, r->group);
    if (g == NULL || g->report_due == 0)
        return;
    g->report_due = 0;
    g->flags &= (uint8_t)~IGMP_GF_LAST_REPORTER;
    stack->stats.igmp.reports_suppressed++;
    kite__igmp_rearm(stack);
}

static bool parse_message(struct kite_stack *stack, const uint8_t *buf, uint16_t len,
                          struct kite_igmp_repr *r)
{
    enum kite_err err = kite_igmp_parse(buf, len, true, r);
    if (err == KITE_ERR_OK)
        return true;
    if (err == KITE_ERR_CHECKSUM)
        stack->stats.igmp.drop_bad_checksum++;
    else if (err == KITE_ERR_MALFORMED)
        stack->stats.igmp.drop_bad_query++;
    else
        stack->stats.igmp.drop_short++;
    return false;
}

static void igmp_input(struct kite_stack *stack, struct kite_pbuf *p, const struct kite_ip_rx *rx)
{
    uint8_t scratch[IGMP_SCRATCH];
    struct kite_igmp_repr r;
    stack->stats.igmp.rx++;
    uint16_t len = p->tot_len;
    if (len < KITE_IGMP_HLEN || (len > p->len && len > IGMP_SCRATCH)) {
        stack->stats.igmp.drop_short++; /* (or longer than a chain is copied for) */
        goto done;
    }
    const uint8_t *buf = kite_pbuf_contiguous(p, scratch, len);
    if (buf == NULL || !parse_message(stack, buf, len, &r))
        goto done;
    switch (r.type) {
    case KITE_IGMP_TYPE_QUERY:
        handle_query(stack, rx->netif, buf, &r, rx->dst);
        break;
    case KITE_IGMP_TYPE_V1_REPORT:
    case KITE_IGMP_TYPE_V2_REPORT:
    case KITE_IGMP_TYPE_V3_REPORT:
        report_heard(stack, rx->netif, &r);
        break;
    case KITE_IGMP_TYPE_V2_LEAVE:
        stack->stats.igmp.reports_rx++; /* for routers only */
        break;
    default:
        stack->stats.igmp.drop_unknown_type++; /* RFC 3376 4: ignored */
        break;
    }
done:
    kite_pbuf_free(stack, p);
}

/* ---- Netif up / down, init ---------------------------------------------------------------- */

void kite__igmp_netif_up(struct kite_stack *stack, struct kite_netif *netif)
{
    for (struct kite_igmp_group *g = stack->igmp.groups; g != NULL; g = g->next) {
        if (g->netif != netif || !igmp_group_exists(g) || g->addr == KITE_IGMP_ALL_SYSTEMS)
            continue;
        if (kite_igmp_version(netif) < 3) {
            v12_changed(stack, g, false, true);
        } else {
            g->mode_rtx = kite__igmp_robustness(netif);
            g->nchg = 0;
            send_change(stack, g);
        }
    }
}

void kite__igmp_netif_down(struct kite_stack *stack, struct kite_netif *netif)
{
    cancel_pending(stack, netif);
}

void kite__igmp_proto_init(struct kite_stack *stack)
{
    kite_timer_init(&stack->igmp.timer, igmp_timer);
    (void)kite__stack_register_ip_proto(stack, KITE_IP_PROTO_IGMP, igmp_input, NULL);
}
#else
typedef int kite_igmp_proto_disabled_; /* ISO C wants a non-empty file */
#endif
