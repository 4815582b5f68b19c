/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/opts.h"
#if KITE_TCP /* the whole file is TCP (KITE_TCP = 0 leaves it out) */
/* TCP control blocks: allocation, lists, the application API (open, write,
 * close), initial sequence numbers (RFC 6528) and address changes. */
#include <string.h>

#include "kite/ipv4.h"
#include "kite_internal/ports.h"
#include "kite_internal/tcp.h"
#include "kite/siphash.h"
#include "kite/wire/ipv4.h"
#include "tcp_priv.h"

/* RAM targets on 32-bit MCUs (lwIP's pcb is 196 bytes there, without SACK or
 * timestamps): the Cortex-M4 build fails if a change breaks them. */
_Static_assert(sizeof(void *) != 4 || sizeof(struct kite_tcp_pcb) <= (KITE_IPV6 ? 176u : 144u),
               "TCP pcb over its RAM target");
_Static_assert(sizeof(void *) != 4 || sizeof(struct kite_tcp_listener) <= 32u,
               "listening pcb over its RAM target");
/* A keepalive setting's user count never wraps (at 8 bits it did, from 256
 * connections sharing one setting: the set then looked free and was reused). */
_Static_assert((uint64_t)KITE_TCP_PCB_COUNT + KITE_TCP_LISTEN_COUNT <
                   (uint64_t)1 << (8u * sizeof(((struct kite_tcp_keepalive *)0)->users)),
               "keepalive user count (struct kite_tcp_keepalive.users) too narrow");

const char *kite_tcp_state_name(enum kite_tcp_state state)
{
    switch (state) {
#define KITE_TCP_STATE_NAME_(name)                                                                 \
    case KITE_TCP_##name:                                                                          \
        return #name;
        KITE_TCP_STATES(KITE_TCP_STATE_NAME_)
#undef KITE_TCP_STATE_NAME_
    }
    return "?";
}

/* ---- Listeners' demultiplexing ------------------------------------------------ */

/* A walk of the listeners: there are few (KITE_TCP_LISTEN_COUNT), and only a
 * segment no connection takes (a SYN, mostly) comes here. */
struct kite_tcp_listener *kite__tcp_find_listen(struct kite_stack *stack, const struct tcp_seg *seg)
{
    struct kite_tcp_listener *wildcard = NULL;
    for (struct kite_tcp_listener *l = stack->tcp.listeners; l != NULL; l = l->next) {
        if (l->local_port != seg->hdr.dst_port)
            continue;
        if (l->local_ip.u.v4 == seg->dst)
            return l;
        if (kite_addr_is_any(&l->local_ip))
            wildcard = l;
    }
    return wildcard;
}

/* ---- Allocation ------------------------------------------------------------ */

/* The TIME_WAIT pcb that ends first. Each has its 2 MSL timer pending and
 * the timer list is sorted by deadline: the first one on it. */
static struct kite_tcp_pcb *oldest_time_wait(struct kite_stack *stack)
{
    for (uint16_t n = stack->tcp.timers; n != 0;) {
        struct kite_tcp_pcb *pcb = tcp_pcb_at(stack, n);
        if (pcb->state == KITE_TCP_TIME_WAIT)
            return pcb;
        n = pcb->tnext;
    }
    return NULL;
}

/* Bytes in KITE_TCP_BUF_UNIT units, rounded up (callers check the range). */
static uint16_t buf_units(uint32_t bytes)
{
    return (uint16_t)((bytes + KITE_TCP_BUF_UNIT - 1u) / KITE_TCP_BUF_UNIT);
}

struct kite_tcp_pcb *kite__tcp_alloc(struct kite_stack *stack)
{
    struct kite_pool *pool = &stack->pools[KITE_POOL_TCP_PCB];
    struct kite_tcp_pcb *pcb = kite__pool_alloc(pool);
    if (pcb == NULL) {
        /* The seed's advice on peak memory: TIME_WAIT is the cheapest to give up. */
        struct kite_tcp_pcb *tw = oldest_time_wait(stack);
        if (tw == NULL)
            return NULL;
        stack->stats.tcp.tw_recycled++;
        kite__tcp_kill(tw, KITE_ERR_CLOSED); /* a socket still open on it is told */
        pcb = kite__pool_alloc(pool);
        pool->failed--; /* the first try was answered by recycling */
        if (pcb == NULL)
            return NULL;
    }
    pcb->stack = stack;
    pcb->state = KITE_TCP_CLOSED;
    pcb->snd_buf = buf_units(KITE_TCP_SND_BUF);
    pcb->rcv_buf = buf_units(KITE_TCP_RCV_BUF);
    pcb->mss = 536;
    return pcb;
}

struct kite_tcp_pcb *kite_tcp_new(struct kite_stack *stack)
{
    return kite__tcp_alloc(stack);
}

static void free_send_queue(struct kite_tcp_pcb *pcb)
{
    struct kite_pbuf *p = pcb->snd_queue;
    while (p != NULL) {
        struct kite_pbuf *next = p->next;
        p->next = NULL;
        kite_pbuf_free(pcb->stack, p);
        p = next;
    }
    pcb->snd_queue = NULL;
    pcb->snd_tail = NULL;
    pcb->snd_cur = NULL;
    pcb->snd_queued = 0;
}

/* A listener going away resets its half-open children (nobody would accept
 * them) and detaches the accepted ones. */
static void orphan_children(struct kite_tcp_listener *listener)
{
    struct kite_stack *stack = listener->stack;
    for (struct kite_tcp_pcb *c = kite__tcp_next(stack, NULL); c != NULL;
         c = kite__tcp_next(stack, c)) {
        if ((c->flags & KITE_TCPF_CHILD) && c->u.listener == listener) {
            kite__tcp_reset_peer(c, c->rcv_nxt);
            kite__tcp_set_state(c, KITE_TCP_CLOSED);
            c->flags &= (uint32_t)~KITE_TCPF_CHILD;
            c->u.arg = NULL;
            kite__tcp_release(c);
        }
    }
}

void kite__tcp_free(struct kite_tcp_pcb *pcb)
{
    struct kite_stack *stack = pcb->stack;
    kite__tcp_timer_stop(pcb);
#if KITE_TCP_ACK_BURST
    kite__tcp_burst_forget(pcb);
#endif
    kite__tcp_unlink(pcb);
    if ((pcb->flags & KITE_TCPF_CHILD) && pcb->state == KITE_TCP_SYN_RECEIVED)
        pcb->u.listener->pending--;
    free_send_queue(pcb);
    kite__tcp_ooo_free(pcb);
    kite__tcp_loss_release(pcb);
    kite__tcp_keepalive_drop(pcb);
    kite__pool_free(&stack->pools[KITE_POOL_TCP_PCB], pcb);
}

void kite__tcp_release(struct kite_tcp_pcb *pcb)
{
    if (pcb->busy > 0) {
        kite__tcp_timer_stop(pcb);
        pcb->flags |= KITE_TCPF_FREE_PENDING;
        kite__tcp_unlink(pcb); /* no longer found by demultiplexing */
        return;
    }
    kite__tcp_free(pcb);
}

void kite__tcp_set_state(struct kite_tcp_pcb *pcb, enum kite_tcp_state state)
{
    bool child = (pcb->flags & KITE_TCPF_CHILD) != 0;
    if (pcb->state == KITE_TCP_SYN_RECEIVED && child)
        pcb->u.listener->pending--;
    pcb->state = (uint8_t)state & 15u;
    if (state == KITE_TCP_SYN_RECEIVED && child)
        pcb->u.listener->pending++;
}

void kite__tcp_kill(struct kite_tcp_pcb *pcb, enum kite_err err)
{
    if (pcb->flags & KITE_TCPF_FREE_PENDING)
        return;
    kite_tcp_err_fn fn = TCP_CB(pcb, err);
    /* An unaccepted child is unknown to the application: no callback. */
    bool tell = fn != NULL && !(pcb->flags & KITE_TCPF_CHILD);
    void *arg = tell ? pcb->u.arg : NULL;
    kite__tcp_set_state(pcb, KITE_TCP_CLOSED);
    pcb->busy++;
    if (tell)
        fn(arg, err);
    pcb->busy--;
    kite__tcp_release(pcb);
}

/* ---- Addresses, ports and ISNs --------------------------------------------- */

uint32_t kite__tcp_isn(struct kite_stack *stack, uint32_t lip, uint16_t lport, uint32_t rip,
                       uint16_t rport)
{
    /* RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
     * M a 4 microsecond clock, F a keyed hash (SipHash-2-4). */
    uint32_t tuple[3] = {lip, rip, (uint32_t)lport << 16 | rport};
    uint32_t f = (uint32_t)kite_siphash24(stack->tcp.secret, tuple, sizeof tuple);
    return (uint32_t)(stack->now * 250u) + f;
}

/* A listener or a bound pcb other than self holds port on an address that
 * clashes with ip. */
static bool port_held(struct kite_stack *stack, const struct kite_tcp_pcb *self,
                      const struct kite_addr *ip, uint16_t port)
{
    for (const struct kite_tcp_listener *l = stack->tcp.listeners; l != NULL; l = l->next)
        if (l->local_port == port && kite__local_addrs_clash(&l->local_ip, ip))
            return true;
    for (uint16_t n = stack->tcp.bound; n != 0;) {
        const struct kite_tcp_pcb *pcb = tcp_pcb_at(stack, n);
        if (pcb != self && pcb->local_port == port && kite__local_addrs_clash(&pcb->local_ip, ip))
            return true;
        n = pcb->hnext;
    }
    return false;
}

/* Binding: the port must be free of listeners, bound pcbs and connections.
 * This walks every connection; a bind is not made per connection (an
 * active open without one takes its port through tuple_taken). */
static bool port_taken(struct kite_stack *stack, const struct kite_tcp_pcb *self,
                       const struct kite_addr *ip, uint16_t port)
{
    if (port_held(stack, self, ip, port))
        return true;
    for (const struct kite_tcp_pcb *pcb = kite__tcp_next(stack, NULL); pcb != NULL;
         pcb = kite__tcp_next(stack, pcb)) {
        if (pcb == self || pcb->local_port != port || pcb->state == KITE_TCP_TIME_WAIT)
            continue; /* TIME_WAIT never blocks a bind (SO_REUSEADDR behaviour) */
        if (kite__local_addrs_clash(&pcb->local_ip, ip))
            return true;
    }
    return false;
}

struct port_query {
    struct kite_stack *stack;
    const struct kite_tcp_pcb *pcb;
    const struct kite_addr *ip;
    const struct kite_addr *remote; /* an active open's peer, NULL for a bind */
    uint16_t remote_port;
};

/* An active open's port need only make its four-tuple unique (RFC 6056 2.1,
 * and Linux's connect): one lookup in the connection table, not a walk of
 * every connection. A port a listener or a bound pcb holds is not taken, and
 * a TIME_WAIT connection with the same four-tuple blocks it too. */
static bool tuple_taken(const struct port_query *q, uint16_t port)
{
    return port_held(q->stack, q->pcb, q->ip, port) ||
           kite__tcp_lookup(q->stack, q->ip->u.v4, port, q->remote->u.v4, q->remote_port) != NULL;
}

static bool query_taken(const void *ctx, uint16_t port)
{
    const struct port_query *q = ctx;
    return q->remote != NULL ? tuple_taken(q, port) : port_taken(q->stack, q->pcb, q->ip, port);
}

/* An ephemeral port for pcb on ip, towards remote (NULL: for a bind). */
static uint16_t pick_port(struct kite_stack *stack, const struct kite_tcp_pcb *pcb,
                          const struct kite_addr *ip, const struct kite_addr *remote,
                          uint16_t remote_port)
{
    struct port_query q = {stack, pcb, ip, remote, remote_port};
    return kite__ephemeral_port(&stack->tcp.next_ephemeral, query_taken, &q);
}

enum kite_err kite_tcp_bind(struct kite_tcp_pcb *pcb, const struct kite_addr *ip, uint16_t port)
{
    struct kite_stack *stack = pcb->stack;
    if (pcb->state != KITE_TCP_CLOSED)
        return KITE_ERR_ISCONN;
    struct kite_addr local = ip != NULL ? *ip : KITE_ADDR_ANY4;
    if (!kite_addr_is_any(&local) && !kite_ipv4_is_local(stack, local.u.v4))
        return KITE_ERR_VAL;
    if (port == 0)
        port = pick_port(stack, pcb, &local, NULL, 0);
    if (port == 0 || port_taken(stack, pcb, &local, port))
        return KITE_ERR_INUSE;
    kite__tcp_unlink(pcb); /* bound before */
    pcb->local_ip = local;
    pcb->local_port = port;
    kite__tcp_bound_add(pcb);
    return KITE_ERR_OK;
}

/* ---- Listeners ------------------------------------------------------------- */

static struct kite_tcp_listener *listen_on(struct kite_tcp_pcb *pcb, uint8_t backlog,
                                           enum kite_err *err)
{
    struct kite_stack *stack = pcb->stack;
    if (pcb->state != KITE_TCP_CLOSED || pcb->local_port == 0) {
        *err = pcb->local_port == 0 ? KITE_ERR_NOTCONN : KITE_ERR_ISCONN;
        return NULL;
    }
    struct kite_tcp_listener *l = kite__pool_alloc(&stack->pools[KITE_POOL_TCP_LISTEN]);
    if (l == NULL) {
        *err = KITE_ERR_MEM;
        return NULL;
    }
    l->stack = stack;
    l->ops = pcb->ops;
    l->arg = pcb->u.arg;
    l->local_ip = pcb->local_ip;
    l->local_port = pcb->local_port;
    l->backlog = backlog > 0 ? backlog : 1;
    l->snd_buf = pcb->snd_buf;
    l->rcv_buf = pcb->rcv_buf;
    l->nodelay = (pcb->flags & KITE_TCPF_NODELAY) != 0;
    l->keepalive = pcb->keepalive;
    l->full = 0;
    pcb->keepalive = 0; /* the listener holds the setting now */
    kite__tcp_free(pcb);
    l->next = stack->tcp.listeners;
    stack->tcp.listeners = l;
    *err = KITE_ERR_OK;
    return l;
}

struct kite_tcp_listener *kite_tcp_listen(struct kite_tcp_pcb *pcb, uint8_t backlog,
                                          enum kite_err *err)
{
    enum kite_err ignored;
    return listen_on(pcb, backlog, err != NULL ? err : &ignored);
}

static void keepalive_unref(struct kite_stack *stack, uint8_t set);

void kite_tcp_listener_close(struct kite_tcp_listener *l)
{
    struct kite_stack *stack = l->stack;
    for (struct kite_tcp_listener **pp = &stack->tcp.listeners; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    }
    orphan_children(l);
    keepalive_unref(stack, l->keepalive);
    kite__pool_free(&stack->pools[KITE_POOL_TCP_LISTEN], l);
}

void kite_tcp_listener_arg(struct kite_tcp_listener *l, void *arg)
{
    l->arg = arg;
}

void kite_tcp_listener_set_full(struct kite_tcp_listener *l, bool full)
{
    l->full = full ? 1u : 0u;
}

void kite_tcp_listener_get_local(const struct kite_tcp_listener *l, struct kite_addr *ip,
                                 uint16_t *port)
{
    *ip = l->local_ip;
    *port = l->local_port;
}

static uint16_t mss_of_mtu(uint16_t mtu)
{
    /* MSS clamped to the route's MTU (RFC 9293 3.7.1, RFC 879). */
    uint16_t mss = (uint16_t)(mtu - KITE_IPV4_HLEN - KITE_TCP_HLEN);
    if (KITE_TCP_MSS_MAX != 0 && mss > KITE_TCP_MSS_MAX)
        mss = KITE_TCP_MSS_MAX;
    return mss;
}

uint16_t kite__tcp_route_mss(struct kite_stack *stack, uint32_t dst)
{
    struct kite_netif *netif = kite_ipv4_route(stack, dst);
    return mss_of_mtu(netif != NULL ? kite_ipv4_path_mtu(stack, netif, dst) : 576);
}

uint16_t kite__tcp_link_mss(struct kite_stack *stack, uint32_t dst)
{
    struct kite_netif *netif = kite_ipv4_route(stack, dst);
    return mss_of_mtu(netif != NULL ? netif->mtu : 576);
}

uint32_t kite__tcp_ts_offset(struct kite_stack *stack, uint32_t lip, uint16_t lport, uint32_t rip,
                             uint16_t rport)
{
    /* The fourth word keeps this hash apart from the ISN's (same key, same tuple). */
    uint32_t tuple[4] = {lip, rip, (uint32_t)lport << 16 | rport, 0x54534f46u};
    return (uint32_t)kite_siphash24(stack->tcp.secret, tuple, sizeof tuple);
}

uint8_t kite__tcp_window_scale_for(uint32_t buf)
{
    uint8_t shift = 0;
    while (shift < KITE_TCP_MAX_WSCALE && (buf >> shift) > 0xffffu)
        shift++;
    return shift;
}

/* Common set-up of a connection's sequence spaces and windows. */
void kite__tcp_init_connection(struct kite_tcp_pcb *pcb, struct kite_netif *netif)
{
    struct kite_stack *stack = pcb->stack;
    (void)netif;
    uint32_t iss = kite__tcp_isn(stack, pcb->local_ip.u.v4, pcb->local_port, pcb->remote_ip.u.v4,
                                 pcb->remote_port);
    pcb->snd_una = pcb->snd_nxt = pcb->snd_max = iss;
    uint16_t route_mss = kite__tcp_route_mss(stack, pcb->remote_ip.u.v4);
    pcb->mss = route_mss < 536 ? route_mss : 536; /* RFC 9293 3.7.1 default */
    pcb->rcv_wscale = kite__tcp_window_scale_for(tcp_rcv_buf(pcb)) & 15u;
    pcb->ts_offset = kite__tcp_ts_offset(stack, pcb->local_ip.u.v4, pcb->local_port,
                                         pcb->remote_ip.u.v4, pcb->remote_port);
    pcb->last_rx = (uint32_t)stack->now;
    kite__tcp_cc_init(pcb);
}

enum kite_err kite_tcp_connect(struct kite_tcp_pcb *pcb, const struct kite_addr *ip, uint16_t port)
{
    struct kite_stack *stack = pcb->stack;
    if (pcb->state != KITE_TCP_CLOSED)
        return pcb->state == KITE_TCP_SYN_SENT ? KITE_ERR_ALREADY : KITE_ERR_ISCONN;
    if (ip == NULL || kite_addr_is_any(ip) || port == 0 || kite_ip4_is_multicast(ip->u.v4) ||
        ip->u.v4 == KITE_IP4_BROADCAST)
        return KITE_ERR_VAL;
    struct kite_netif *netif = kite_ipv4_route(stack, ip->u.v4);
    if (netif == NULL)
        return KITE_ERR_ROUTE;
    if (kite_addr_is_any(&pcb->local_ip))
        pcb->local_ip = kite_ip4_is_loopback(ip->u.v4) || kite_ipv4_is_local(stack, ip->u.v4)
                            ? *ip
                            : netif->ip4;
    if (pcb->local_port == 0)
        pcb->local_port = pick_port(stack, pcb, &pcb->local_ip, ip, port);
    if (pcb->local_port == 0)
        return KITE_ERR_INUSE;
    kite__tcp_unlink(pcb); /* from the bound list */
    pcb->remote_ip = *ip;
    pcb->remote_port = port;
    kite__tcp_init_connection(pcb, netif);
    pcb->state = KITE_TCP_SYN_SENT;
    kite__tcp_table_add(pcb);
    stack->stats.tcp.active_opens++;
    (void)kite__tcp_send_syn(pcb);
    kite__tcp_rto_restart(pcb);
    return KITE_ERR_OK;
}

/* ---- Callbacks and options -------------------------------------------------- */

void kite_tcp_arg(struct kite_tcp_pcb *pcb, void *arg)
{
    pcb->u.arg = arg;
}
void kite_tcp_set_ops(struct kite_tcp_pcb *pcb, const struct kite_tcp_ops *ops)
{
    pcb->ops = ops;
    if (ops != NULL && ops->poll != NULL && ops->poll_interval_ms > 0)
        kite__tcp_poll_start(pcb->stack);
}

void kite_tcp_set_nodelay(struct kite_tcp_pcb *pcb, bool nodelay)
{
    if (nodelay)
        pcb->flags |= KITE_TCPF_NODELAY;
    else
        pcb->flags &= (uint32_t)~KITE_TCPF_NODELAY;
}

void kite_tcp_set_cork(struct kite_tcp_pcb *pcb, bool cork)
{
    if (cork) {
        pcb->flags |= KITE_TCPF_CORK;
        return;
    }
    pcb->flags &= (uint32_t)~KITE_TCPF_CORK;
    (void)kite_tcp_output(pcb); /* what was held goes now, as Linux's uncork pushes it */
}

/* Keepalive times are kept in whole seconds (rounded up), as Linux's
 * TCP_KEEPIDLE and TCP_KEEPINTVL are. */
static uint16_t seconds(uint32_t ms)
{
    uint32_t s = ms / 1000u + (ms % 1000u != 0);
    return (uint16_t)(s < 0xffffu ? s : 0xffffu);
}

/* The settings in use are shared: 1 + the index of an equal or free set. */
static uint8_t keepalive_find(struct kite_stack *stack, const struct kite_tcp_keepalive *want)
{
    struct kite_tcp_keepalive *sets = stack->tcp.keepalives;
    uint8_t free_set = 0;
    for (uint8_t i = 0; i < KITE_TCP_KEEPALIVE_SETS; i++) {
        if (sets[i].users > 0 && sets[i].idle_s == want->idle_s &&
            sets[i].intvl_s == want->intvl_s && sets[i].count == want->count)
            return (uint8_t)(i + 1u);
        if (sets[i].users == 0 && free_set == 0)
            free_set = (uint8_t)(i + 1u);
    }
    if (free_set != 0) {
        sets[free_set - 1u] = *want;
        sets[free_set - 1u].users = 0;
    }
    return free_set;
}

static void keepalive_unref(struct kite_stack *stack, uint8_t set)
{
    if (set != 0)
        stack->tcp.keepalives[set - 1u].users--;
}

void kite__tcp_keepalive_drop(struct kite_tcp_pcb *pcb)
{
    keepalive_unref(pcb->stack, pcb->keepalive);
    pcb->keepalive = 0;
}

enum kite_err kite_tcp_set_keepalive(struct kite_tcp_pcb *pcb, uint32_t idle_ms,
                                     uint32_t interval_ms, uint8_t count)
{
    uint8_t set = 0;
    if (count > 0 && idle_ms > 0) {
        struct kite_tcp_keepalive want = {seconds(idle_ms), seconds(interval_ms), count, 0};
        set = keepalive_find(pcb->stack, &want);
        if (set == 0)
            return KITE_ERR_MEM;
        pcb->stack->tcp.keepalives[set - 1u].users++;
    }
    kite__tcp_keepalive_drop(pcb);
    pcb->keepalive = set;
    bool idle = pcb->snd_una == pcb->snd_max && pcb->snd_queued == 0;
    if (idle && (pcb->timer_kind == KITE_TCPT_NONE || pcb->timer_kind == KITE_TCPT_KEEPALIVE))
        kite__tcp_timer_idle(pcb);
    return KITE_ERR_OK;
}

enum kite_err kite_tcp_set_ecn(struct kite_tcp_pcb *pcb, bool on)
{
    if (!KITE_TCP_ECN)
        return KITE_ERR_VAL;
    if (pcb->state != KITE_TCP_CLOSED)
        return KITE_ERR_ISCONN;
    if (on)
        pcb->flags |= KITE_TCPF_ECN_WANT;
    else
        pcb->flags &= (uint32_t)~KITE_TCPF_ECN_WANT;
    return KITE_ERR_OK;
}

static enum kite_err check_buffers(uint32_t snd, uint32_t rcv)
{
    uint32_t most = 0xffffu * KITE_TCP_BUF_UNIT;
    if (snd < 536 || rcv < 536 || snd > most || rcv > most ||
        rcv > (0xffffu << KITE_TCP_MAX_WSCALE))
        return KITE_ERR_VAL;
    return KITE_ERR_OK;
}

enum kite_err kite_tcp_set_buffers(struct kite_tcp_pcb *pcb, uint32_t snd, uint32_t rcv)
{
    if (pcb->state != KITE_TCP_CLOSED)
        return KITE_ERR_ISCONN;
    enum kite_err err = check_buffers(snd, rcv);
    if (err == KITE_ERR_OK) {
        pcb->snd_buf = buf_units(snd);
        pcb->rcv_buf = buf_units(rcv);
    }
    return err;
}

enum kite_err kite_tcp_listener_set_buffers(struct kite_tcp_listener *l, uint32_t snd, uint32_t rcv)
{
    enum kite_err err = check_buffers(snd, rcv);
    if (err == KITE_ERR_OK) {
        l->snd_buf = buf_units(snd);
        l->rcv_buf = buf_units(rcv);
    }
    return err;
}

void kite_tcp_get_buffers(const struct kite_tcp_pcb *pcb, uint32_t *snd, uint32_t *rcv)
{
    *snd = tcp_snd_buf(pcb);
    *rcv = tcp_rcv_buf(pcb);
}

enum kite_tcp_state kite_tcp_get_state(const struct kite_tcp_pcb *pcb)
{
    return (enum kite_tcp_state)pcb->state;
}

/* Our side still owes the peer something: an open connection, data, or a FIN
 * not yet acknowledged (FIN_WAIT_2 and TIME_WAIT owe nothing more). */
static bool owes_peer(const struct kite_tcp_pcb *pcb)
{
    switch (pcb->state) {
    case KITE_TCP_SYN_RECEIVED:
    case KITE_TCP_ESTABLISHED:
    case KITE_TCP_CLOSE_WAIT:
    case KITE_TCP_FIN_WAIT_1:
    case KITE_TCP_CLOSING:
    case KITE_TCP_LAST_ACK:
        return true;
    default:
        return false;
    }
}

unsigned kite_tcp_owing_count(const struct kite_stack *stack)
{
    unsigned n = 0;
    for (const struct kite_tcp_pcb *pcb = kite__tcp_next(stack, NULL); pcb != NULL;
         pcb = kite__tcp_next(stack, pcb))
        n += owes_peer(pcb);
    return n;
}

void kite_tcp_get_local(const struct kite_tcp_pcb *pcb, struct kite_addr *ip, uint16_t *port)
{
    *ip = pcb->local_ip;
    *port = pcb->local_port;
}

void kite_tcp_get_remote(const struct kite_tcp_pcb *pcb, struct kite_addr *ip, uint16_t *port)
{
    *ip = pcb->remote_ip;
    *port = pcb->remote_port;
}

/* ---- Data ------------------------------------------------------------------- */

uint32_t kite_tcp_sndbuf(const struct kite_tcp_pcb *pcb)
{
    uint32_t buf = tcp_snd_buf(pcb);
    return pcb->snd_queued >= buf ? 0 : buf - pcb->snd_queued;
}

static bool can_send_data(const struct kite_tcp_pcb *pcb)
{
    switch (pcb->state) {
    case KITE_TCP_SYN_SENT:
    case KITE_TCP_SYN_RECEIVED:
    case KITE_TCP_ESTABLISHED:
    case KITE_TCP_CLOSE_WAIT:
        return (pcb->flags & KITE_TCPF_FIN_QUEUED) == 0;
    default:
        return false;
    }
}

static struct kite_pbuf *queue_tail(const struct kite_tcp_pcb *pcb)
{
    return pcb->snd_tail;
}

static uint16_t tailroom(const struct kite_pbuf *p)
{
    if (p->type != KITE_PBUF_POOL || p->ref != 1)
        return 0;
    uint32_t used = (uint32_t)kite_pbuf_header_room(p) + p->len;
    return (uint16_t)(KITE_PBUF_POOL_BUFSIZE - used);
}

static void append_chunk(struct kite_tcp_pcb *pcb, struct kite_pbuf *tail, struct kite_pbuf *p)
{
    if (tail == NULL)
        pcb->snd_queue = p;
    else
        tail->next = p;
    pcb->snd_tail = p;
}

/* Copy into pool blocks, filling the tail block first (small writes coalesce).
 * All or nothing: the blocks needed are checked before anything is copied. */
static enum kite_err queue_copy(struct kite_tcp_pcb *pcb, const uint8_t *data, uint16_t len)
{
    struct kite_pbuf *tail = queue_tail(pcb);
    uint16_t first = tail != NULL ? tailroom(tail) : 0;
    if (first > len)
        first = len;
    uint32_t rest = (uint32_t)len - first;
    uint32_t blocks = (rest + KITE_PBUF_POOL_BUFSIZE - 1u) / KITE_PBUF_POOL_BUFSIZE;
    const struct kite_pool *pool = &pcb->stack->pools[KITE_POOL_PBUF_POOL];
    /* Leave a reserve so queued data can never starve reception (and with
     * it the ACKs that would free the queue). A connection with nothing
     * queued has no ACK to wait for: it may take the last blocks (its own
     * ACK still gets in, kite_pbuf_alloc_rx; kept data always leaves one,
     * TCP_RX_SPARE_BLOCKS), so a pool filled by unread data never blocks
     * the writer for ever. */
    uint32_t reserve = pcb->snd_queue == NULL ? 0u : TCP_TX_RESERVE;
    if ((uint32_t)(pool->count - pool->used) < blocks + reserve) {
        pcb->stack->stats.tcp.write_blocked++;
        return KITE_ERR_WOULDBLOCK; /* backpressure, never lost data */
    }
    if (first > 0) {
        memcpy(tail->payload + tail->len, data, first);
        tail->len = (uint16_t)(tail->len + first);
        tail->tot_len = tail->len;
    }
    for (uint16_t done = first; done < len;) {
        uint16_t n = (uint16_t)(len - done);
        if (n > KITE_PBUF_POOL_BUFSIZE)
            n = KITE_PBUF_POOL_BUFSIZE;
        struct kite_pbuf *p = kite_pbuf_alloc(pcb->stack, 0, n, KITE_PBUF_POOL);
        memcpy(p->payload, data + done, n);
        append_chunk(pcb, tail, p);
        tail = p;
        done = (uint16_t)(done + n);
    }
    pcb->snd_queued += len;
    return KITE_ERR_OK;
}

enum kite_err kite_tcp_write(struct kite_tcp_pcb *pcb, const void *data, uint16_t len,
                             uint8_t flags)
{
    if (!can_send_data(pcb))
        return pcb->state == KITE_TCP_CLOSED || pcb->state == KITE_TCP_LISTEN ? KITE_ERR_NOTCONN
                                                                              : KITE_ERR_CLOSED;
    if (len == 0)
        return KITE_ERR_OK;
    if (len > kite_tcp_sndbuf(pcb))
        return KITE_ERR_WOULDBLOCK;
    if (flags & KITE_TCP_WRITE_COPY)
        return queue_copy(pcb, data, len);
    /* Not volatile: reference the caller's bytes until they are acknowledged. */
    struct kite_pbuf *p = kite_pbuf_alloc_ref(pcb->stack, data, len, KITE_PBUF_ROM);
    if (p == NULL)
        return KITE_ERR_WOULDBLOCK;
    append_chunk(pcb, queue_tail(pcb), p);
    pcb->snd_queued += len;
    return KITE_ERR_OK;
}

enum kite_err kite_tcp_output(struct kite_tcp_pcb *pcb)
{
    if (pcb->state == KITE_TCP_SYN_SENT || pcb->state == KITE_TCP_SYN_RECEIVED)
        return KITE_ERR_OK; /* data goes out once established */
    return kite__tcp_output(pcb);
}

uint32_t kite__tcp_rcv_window(const struct kite_tcp_pcb *pcb)
{
    uint32_t used = pcb->rcv_unread + kite__tcp_ooo_bytes(pcb);
    uint32_t buf = tcp_rcv_buf(pcb);
    return used >= buf ? 0 : buf - used;
}

void kite_tcp_recved(struct kite_tcp_pcb *pcb, uint32_t len)
{
    uint32_t before = kite__tcp_rcv_window(pcb);
    pcb->rcv_unread = len > pcb->rcv_unread ? 0 : pcb->rcv_unread - len;
    if (pcb->busy > 0)
        return; /* inside a callback: the ACK that input sends carries the window */
    uint32_t after = kite__tcp_rcv_window(pcb);
    uint32_t threshold = tcp_sws_threshold(pcb);
    /* RFC 1122 4.2.3.3: announce the window when it opened by a useful amount. */
    uint32_t right = pcb->rcv_nxt + after;
    uint32_t remaining = seq_gt(pcb->rcv_adv, pcb->rcv_nxt) ? pcb->rcv_adv - pcb->rcv_nxt : 0;
    if (after > before && after / 2u >= remaining && seq_geq(right, pcb->rcv_adv + threshold) &&
        (pcb->state == KITE_TCP_ESTABLISHED || pcb->state == KITE_TCP_FIN_WAIT_1 ||
         pcb->state == KITE_TCP_FIN_WAIT_2))
        (void)kite__tcp_send_ack(pcb);
}

/* ---- Closing ------------------------------------------------------------------ */

static enum kite_err queue_fin(struct kite_tcp_pcb *pcb)
{
    pcb->flags |= KITE_TCPF_FIN_QUEUED;
    if (pcb->state == KITE_TCP_ESTABLISHED || pcb->state == KITE_TCP_SYN_RECEIVED)
        kite__tcp_set_state(pcb, KITE_TCP_FIN_WAIT_1);
    else if (pcb->state == KITE_TCP_CLOSE_WAIT)
        kite__tcp_set_state(pcb, KITE_TCP_LAST_ACK);
    return kite__tcp_output(pcb);
}

enum kite_err kite_tcp_shutdown(struct kite_tcp_pcb *pcb, bool rx, bool tx)
{
    if (pcb->state == KITE_TCP_LISTEN || pcb->state == KITE_TCP_CLOSED)
        return KITE_ERR_NOTCONN;
    if (rx)
        pcb->flags |= KITE_TCPF_RX_SHUT;
    if (tx && (pcb->flags & KITE_TCPF_FIN_QUEUED) == 0) {
        if (pcb->state == KITE_TCP_SYN_SENT) {
            kite_tcp_abort(pcb);
            return KITE_ERR_OK;
        }
        return queue_fin(pcb);
    }
    return KITE_ERR_OK;
}

enum kite_err kite_tcp_close(struct kite_tcp_pcb *pcb)
{
    switch (pcb->state) {
    case KITE_TCP_CLOSED:
    case KITE_TCP_LISTEN:
    case KITE_TCP_SYN_SENT:
        kite__tcp_set_state(pcb, KITE_TCP_CLOSED);
        kite__tcp_release(pcb);
        return KITE_ERR_OK;
    default:
        break;
    }
    pcb->flags |= KITE_TCPF_CLOSED_BY_APP | KITE_TCPF_RX_SHUT;
    pcb->ops = NULL; /* the application is done with it: no more callbacks */
    if (pcb->state == KITE_TCP_TIME_WAIT || (pcb->flags & KITE_TCPF_FIN_QUEUED))
        return KITE_ERR_OK;
    enum kite_err err = queue_fin(pcb);
    return err == KITE_ERR_MEM ? KITE_ERR_OK : err; /* the FIN is retried by the timers */
}

void kite_tcp_abort(struct kite_tcp_pcb *pcb)
{
    switch (pcb->state) {
    case KITE_TCP_SYN_RECEIVED:
    case KITE_TCP_ESTABLISHED:
    case KITE_TCP_FIN_WAIT_1:
    case KITE_TCP_FIN_WAIT_2:
    case KITE_TCP_CLOSE_WAIT:
    case KITE_TCP_CLOSING:
    case KITE_TCP_LAST_ACK:
        /* RFC 9293 3.10.5 ABORT: send a reset, forget everything. */
        kite__tcp_reset_peer(pcb, pcb->rcv_nxt);
        break;
    default:
        break;
    }
    pcb->ops = NULL;
    kite__tcp_kill(pcb, KITE_ERR_ABORTED);
}

/* ---- Stack-wide ------------------------------------------------------------------ */

static void netif_event(struct kite_stack *stack, struct kite_netif *netif,
                        enum kite_netif_event event, uint32_t old)
{
    /* Removal and readdressing take an address away; the other events don't. */
    if ((event != KITE_NETIF_EV_ADDR_CHANGED && event != KITE_NETIF_EV_REMOVED) || old == 0)
        return;
    for (struct kite_tcp_listener *l = stack->tcp.listeners; l != NULL; l = l->next)
        if (l->local_ip.u.v4 == old)
            l->local_ip = netif->ip4; /* listeners follow the address, as lwIP does */
    if (KITE_TCP_KEEP_ON_ADDR_CHANGE)
        return;
    for (struct kite_tcp_pcb *pcb = kite__tcp_next(stack, NULL); pcb != NULL;
         pcb = kite__tcp_next(stack, pcb))
        if (pcb->local_ip.u.v4 == old)
            kite__tcp_kill(pcb, KITE_ERR_ABORTED);
}

void kite__tcp_init(struct kite_stack *stack)
{
    memset(&stack->tcp, 0, sizeof stack->tcp);
    for (int i = 0; i < 4; i++)
        stack->tcp.secret[i] = kite_random_u32(stack);
    kite__tcp_table_init(stack);
    stack->tcp.next_ephemeral = kite__ephemeral_start(stack);
    kite__tcp_timers_init(stack);
    (void)kite__stack_register_ip_proto(stack, KITE_IP_PROTO_TCP, kite__tcp_input,
                                        kite__tcp_icmp_error);
    kite__tcp_pmtu_init(stack);
    (void)kite__stack_register_netif_hook(stack, netif_event);
    stack->reclaim = kite__tcp_reclaim;
#if KITE_TCP_ACK_BURST
    stack->burst_end = kite__tcp_burst_end;
#endif
}

void kite__tcp_deinit(struct kite_stack *stack)
{
    for (struct kite_tcp_pcb *pcb = kite__tcp_next(stack, NULL); pcb != NULL;
         pcb = kite__tcp_next(stack, pcb))
        kite__tcp_free(pcb);
    while (stack->tcp.bound != 0)
        kite__tcp_free(tcp_pcb_at(stack, stack->tcp.bound));
    while (stack->tcp.listeners != NULL)
        kite_tcp_listener_close(stack->tcp.listeners);
    kite__tcp_timers_deinit(stack);
}
#else
typedef int kite_tcp_disabled_; /* ISO C wants a non-empty file */
#endif
