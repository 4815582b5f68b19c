/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * netconn (docs/api.md). Three kinds of code meet here:
 *  - the calling thread: builds a request, runs its core part through
 *    kite_tcpip_call and, when the request must wait, sleeps on its own
 *    semaphore and tries again when woken;
 *  - the core part (functions ending in _core): runs with the stack to itself;
 *  - the callbacks of the TCP, UDP and raw pcbs, on the stack thread: they queue
 *    what arrived and wake the waiters that want it.
 * A waiter (with its semaphore and timeout timer) lives on the waiting
 * thread's stack and is linked into the netconn only between core parts of
 * one request, so the stack never reaches it after the request returns.
 *
 * Waking does not hand the request back to its thread to try again (one more
 * stack call, two more thread switches in message mode): the stack thread
 * queues the waiter, and before it lets go of the stack it tries the request
 * again itself; the waiting thread is woken once, with the result.
 */
#include "kite/netconn.h"

#include "api_priv.h"

#include <string.h>

#include "kite/pbuf.h"
#include "kite/raw.h"
#include "kite/stack.h"
#include "kite/tcp.h"
#include "kite/tcpip.h"
#include "kite/udp.h"
#include "kite_internal/pbuf.h"

/* c->state */
enum { NC_NEW, NC_BOUND, NC_CONNECTING, NC_CONNECTED, NC_LISTENING, NC_CLOSED };

/* c->flags */
#define NCF_NONBLOCK 0x01u
#define NCF_RX_FIN 0x02u      /* the peer's FIN arrived (TCP) */
#define NCF_CLOSING 0x04u     /* delete/abort under way: every request fails */
#define NCF_TX_SHUT 0x08u     /* shutdown(tx) done */
#define NCF_RX_SHUT 0x10u     /* shutdown(rx) done */
#define NCF_CONN_LOST 0x20u   /* the pcb went away (reset, timeout, abort) */
#define NCF_CONN_UNSEEN 0x40u /* a connect began that no connect call has seen end */

#define NC_CLOSER 0x80u /* a waiter's want: the thread deleting the netconn */

/* UDP and raw netconns queue datagrams (each with its addresses). */
static bool is_dgram(const struct kite_netconn *c)
{
    return c->type != KITE_NETCONN_TCP;
}

/* ---- Waking -------------------------------------------------------------------- */

static struct kite_stack *stack_of(const struct kite_netconn *c);
static struct kite_tcpip *tcpip_of(const struct kite_netconn *c);

static void mark_ready(struct kite_tcpip *t, struct kite_nc_waiter *w)
{
    if (w->queued)
        return;
    w->queued = true;
    w->ready_next = t->ready;
    t->ready = w;
}

/* Off the ready list: its request is complete (and its memory about to go). */
static void unready(struct kite_tcpip *t, struct kite_nc_waiter *w)
{
    if (!w->queued)
        return;
    for (struct kite_nc_waiter **pp = &t->ready; *pp != NULL; pp = &(*pp)->ready_next) {
        if (*pp == w) {
            *pp = w->ready_next;
            break;
        }
    }
    w->queued = false;
}

static void touch(struct kite_netconn *c, bool arrival);
static void report_dirty(struct kite_tcpip *t);

void kite__netconn_run_ready(struct kite_tcpip *t)
{
    struct kite_nc_waiter *w;
    while ((w = t->ready) != NULL) {
        t->ready = w->ready_next;
        w->queued = false;
        w->retry(w->ctx);
    }
    report_dirty(t);
}

static void wake(struct kite_netconn *c, uint8_t events)
{
    touch(c, (events & KITE_NC_READABLE) != 0);
    for (struct kite_nc_waiter *w = c->waiters; w != NULL; w = w->next)
        if (w->want & events)
            mark_ready(tcpip_of(c), w);
}

/* As a delete does for one netconn (close_core): the netconns keep their
 * pcbs, but no thread is left waiting for a stack thread that is gone. */
void kite__netconn_fail_waiters(struct kite_tcpip *t)
{
    for (unsigned i = 0; i < KITE_NETCONN_COUNT; i++) {
        struct kite_netconn *c = &t->netconns.conns[i];
        if (c->waiters != NULL) {
            c->flags |= NCF_CLOSING;
            wake(c, 0xffu);
        }
    }
    kite__netconn_run_ready(t);
}

static void unlink_waiter(struct kite_netconn *c, struct kite_nc_waiter *w)
{
    for (struct kite_nc_waiter **pp = &c->waiters; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    }
    w->next = NULL;
    if (c->flags & NCF_CLOSING)
        wake(c, NC_CLOSER); /* the closer waits for the last one to leave */
}

/* ---- The receive queue: pbuf chains linked through their last pbuf ---------------
 *
 * A chain ends at the pbuf whose tot_len equals its len; its next field then
 * links to the following chain of the queue. Taking a chain off the queue
 * cuts that link again, so every chain handed out is an ordinary packet. */

static struct kite_pbuf *last_of(struct kite_pbuf *p)
{
    while (p->tot_len != p->len)
        p = p->next;
    return p;
}

static void rxq_push(struct kite_netconn *c, struct kite_pbuf *p)
{
    if (c->q.rx.head == NULL)
        c->q.rx.head = p;
    else
        last_of(c->q.rx.tail)->next = p;
    c->q.rx.tail = p;
    c->rx_bytes += p->tot_len;
}

static struct kite_pbuf *rxq_pop(struct kite_netconn *c)
{
    struct kite_pbuf *p = c->q.rx.head;
    if (p == NULL)
        return NULL;
    struct kite_pbuf *end = last_of(p);
    c->q.rx.head = end->next;
    end->next = NULL;
    if (c->q.rx.head == NULL)
        c->q.rx.tail = NULL;
    c->rx_bytes -= p->tot_len;
    return p;
}

static void rxq_free(struct kite_netconn *c, struct kite_stack *stack)
{
    struct kite_pbuf *p;
    while ((p = rxq_pop(c)) != NULL)
        kite_pbuf_free(stack, p);
}

/* Datagrams carry their sender in the header room in front of the payload
 * (where the Ethernet, IP and UDP headers were). */
struct udp_meta {
    struct kite_addr from, to;
    uint16_t port;
};

static struct udp_meta *udp_meta(const struct kite_pbuf *p)
{
    uintptr_t at = ((uintptr_t)p->payload - sizeof(struct udp_meta)) &
                   ~(uintptr_t)(_Alignof(struct udp_meta) - 1u);
    return (struct udp_meta *)at;
}

static bool udp_meta_fits(const struct kite_pbuf *p)
{
    uintptr_t need = (uintptr_t)p->payload - (uintptr_t)udp_meta(p);
    return p->ref == 1 && kite_pbuf_header_room(p) >= need;
}

/* ---- Callbacks (stack thread) ------------------------------------------------------ */

static struct kite_netconn *pool_get(struct kite_tcpip *t);
static void pool_put(struct kite_netconn *c);

static void tcp_recv_cb(void *arg, struct kite_tcp_pcb *pcb, struct kite_pbuf *p)
{
    struct kite_netconn *c = arg;
    (void)pcb;
    if (p == NULL)
        c->flags |= NCF_RX_FIN;
    else
        rxq_push(c, p); /* the window stays closed by it until the reader takes it */
    wake(c, KITE_NC_READABLE);
}

static void tcp_sent_cb(void *arg, struct kite_tcp_pcb *pcb, uint32_t len)
{
    (void)pcb;
    (void)len;
    wake(arg, KITE_NC_WRITABLE);
}

static void tcp_err_cb(void *arg, enum kite_err err)
{
    struct kite_netconn *c = arg;
    c->pcb.any = NULL; /* already freed by the stack */
    c->flags |= NCF_CONN_LOST;
    bool close_wait = (c->flags & NCF_RX_FIN) && !(c->flags & NCF_TX_SHUT);
    if (err == KITE_ERR_RESET && close_wait)
        err = KITE_ERR_CLOSED; /* Linux's tcp_reset: in CLOSE_WAIT the error is EPIPE */
    else if (err == KITE_ERR_CLOSED)
        err = KITE_ERR_OK; /* an orderly end (TIME_WAIT, LAST_ACK) is no error */
    if (err != KITE_ERR_OK)
        c->err = (int8_t)err;
    wake(c, KITE_NC_READABLE | KITE_NC_WRITABLE | KITE_NC_ERROR);
}

static void tcp_connected_cb(void *arg, struct kite_tcp_pcb *pcb)
{
    struct kite_netconn *c = arg;
    (void)pcb;
    c->state = NC_CONNECTED;
    wake(c, KITE_NC_WRITABLE);
}

static const struct kite_tcp_ops conn_ops = {
    .connected = tcp_connected_cb, .recv = tcp_recv_cb, .sent = tcp_sent_cb, .err = tcp_err_cb};

/* Linux's sk_acceptq_is_full: with the accept queue at its backlog, the TCP
 * core drops new SYNs and completing ACKs, so peers wait instead of being
 * reset (net.ipv4.tcp_abort_on_overflow 0). */
static void note_queue_room(struct kite_netconn *l)
{
    kite_tcp_listener_set_full(l->pcb.listener, l->queued >= l->backlog);
}

static enum kite_err tcp_accept_cb(void *arg, struct kite_tcp_pcb *newpcb)
{
    struct kite_netconn *l = arg;
    if (l->queued >= l->backlog || (l->flags & NCF_CLOSING))
        return KITE_ERR_MEM; /* refused (not while full: the core holds those): reset */
    struct kite_netconn *c = pool_get(tcpip_of(l));
    if (c == NULL)
        return KITE_ERR_MEM;
    c->type = KITE_NETCONN_TCP;
    c->state = NC_CONNECTED;
    c->pcb.tcp = newpcb;
    kite_tcp_arg(newpcb, c);
    kite_tcp_set_ops(newpcb, &conn_ops);
    if (l->q.acc.head == NULL)
        l->q.acc.head = c;
    else
        l->q.acc.tail->next = c;
    l->q.acc.tail = c;
    l->queued++;
    note_queue_room(l);
    wake(l, KITE_NC_READABLE);
    return KITE_ERR_OK;
}

static const struct kite_tcp_ops listen_ops = {.accept = tcp_accept_cb};

static void dgram_queue(struct kite_netconn *c, struct kite_stack *stack, struct kite_pbuf *p,
                        const struct kite_addr *src, uint16_t src_port, const struct kite_addr *dst)
{
    if (c->queued >= KITE_NETCONN_UDP_QUEUE) {
        kite_pbuf_free(stack, p); /* a full receive queue drops, as a socket buffer does */
        return;
    }
    if (!udp_meta_fits(p)) {
        struct kite_pbuf *copy = kite_pbuf_clone(stack, 2u * sizeof(struct udp_meta), p);
        kite_pbuf_free(stack, p);
        if (copy == NULL || !udp_meta_fits(copy)) {
            if (copy != NULL)
                kite_pbuf_free(stack, copy);
            return;
        }
        p = copy;
    }
    udp_meta(p)->from = *src;
    udp_meta(p)->to = *dst;
    udp_meta(p)->port = src_port;
    rxq_push(c, p);
    c->queued++;
    wake(c, KITE_NC_READABLE);
}

static void udp_recv_cb(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                        const struct kite_addr *src, uint16_t src_port, const struct kite_addr *dst)
{
    dgram_queue(arg, pcb->stack, p, src, src_port, dst);
}

/* An ICMP error for a datagram sent to the connected peer: pending, as
 * Linux's __udp4_lib_err sets sk_err and reports it (readers, writers and
 * pollers wake; the next recv, send or SO_ERROR takes it). */
static void udp_err_cb(void *arg, struct kite_udp_pcb *pcb, enum kite_err err)
{
    struct kite_netconn *c = arg;
    (void)pcb;
    c->err = (int8_t)err;
    wake(c, KITE_NC_READABLE | KITE_NC_WRITABLE | KITE_NC_ERROR);
}

static const struct kite_udp_ops udp_ops = {.recv = udp_recv_cb, .err = udp_err_cb};

#if KITE_RAW
static void raw_recv_cb(void *arg, struct kite_raw_pcb *pcb, struct kite_pbuf *p,
                        const struct kite_addr *src, const struct kite_addr *dst)
{
    dgram_queue(arg, pcb->stack, p, src, 0, dst);
}
#endif

/* ---- The pool ------------------------------------------------------------------------- */

_Static_assert(KITE_NETCONN_COUNT <= 65535, "a netconn's index is 16 bits");

void kite__netconn_pool_init(struct kite_netconn_pool *pool)
{
    pool->free = NULL;
    for (unsigned i = KITE_NETCONN_COUNT; i > 0; i--) {
        pool->conns[i - 1].next = pool->free;
        pool->conns[i - 1].index = (uint16_t)(i - 1u);
        pool->free = &pool->conns[i - 1];
    }
}

/* The stack thread a netconn belongs to: its array lives in the struct
 * kite_tcpip, so the index finds it (a pointer per netconn saved). */
static struct kite_tcpip *tcpip_of(const struct kite_netconn *c)
{
    uintptr_t first = (uintptr_t)(c - c->index);
    return (struct kite_tcpip *)(first - offsetof(struct kite_tcpip, netconns.conns));
}

static struct kite_netconn *pool_get(struct kite_tcpip *t)
{
    struct kite_netconn *c = t->netconns.free;
    if (c == NULL)
        return NULL;
    t->netconns.free = c->next;
    uint16_t index = c->index;
    memset(c, 0, sizeof *c);
    c->index = index;
    return c;
}

static void unwatch(struct kite_tcpip *t, struct kite_netconn *c);

static void pool_put(struct kite_netconn *c)
{
    struct kite_tcpip *t = tcpip_of(c);
    unwatch(t, c);
    c->type = 0;
    c->next = t->netconns.free;
    t->netconns.free = c;
}

static struct kite_stack *stack_of(const struct kite_netconn *c)
{
    return tcpip_of(c)->stack;
}

/* ---- Requests ---------------------------------------------------------------------------
 *
 * A request runs its core part again until it is done: each try either
 * finishes (done) or leaves the caller's waiter linked to wait for `want`. */

struct request;
typedef enum kite_err (*try_fn)(struct request *r);

/* Which of the netconn's timeouts a request waits with. */
enum { TIMEOUT_NONE, TIMEOUT_RCV, TIMEOUT_SND };

struct request {
    struct kite_netconn *c;
    struct kite_tcpip *t; /* c's stack thread */
    try_fn fn;
    uint8_t want;    /* what it waits for, 0: never waits */
    uint8_t timeout; /* TIMEOUT_*, read in the core at the first try */
    uint32_t ms;     /* how long at most, 0: no limit */
    bool nonblock;   /* the request must not wait (the netconn's or the call's) */
    bool begun;      /* the first try ran */
    bool retried;    /* a try after the first: on the stack thread's own (run_ready) */
    bool waits;      /* the first try left it waiting (read by its thread only) */
    bool done;
    bool timed_out;
    bool armed;   /* the timeout timer is armed */
    bool started; /* close: this request began closing the netconn */
    enum kite_err result;
    struct kite_nc_waiter waiter;
    struct kite_timer timer;
    /* Arguments and results of the particular request. */
    const struct kite_addr *ip;
    uint16_t port;
    const void *data;
    uint8_t *buf;
    size_t len, done_len;
    uint8_t flags;
    struct kite_pbuf *p;
    struct kite_addr *from, *to;
    uint16_t *from_port;
    struct kite_netconn *other;
};

static void request_timeout(struct kite_stack *stack, struct kite_timer *timer)
{
    struct request *r = KITE_CONTAINER_OF(timer, struct request, timer);
    (void)stack;
    r->timed_out = true;
    r->armed = false;
    mark_ready(r->t, &r->waiter);
}

/* The request will not run again: the stack must not keep any part of it. */
static void request_leave(struct request *r)
{
    if (r->armed)
        kite_timer_cancel(stack_of(r->c), &r->timer);
    r->armed = false;
    if (r->waiter.sem != NULL && r->waiter.want != 0)
        unlink_waiter(r->c, &r->waiter);
    unready(r->t, &r->waiter);
    r->done = true;
}

static bool waiter_linked(const struct request *r)
{
    for (const struct kite_nc_waiter *w = r->c->waiters; w != NULL; w = w->next)
        if (w == &r->waiter)
            return true;
    return false;
}

/* Timeouts in 16 bits: milliseconds below 32768, else whole seconds (rounded
 * up, at most 32767 s, about 9 hours) with the top bit set; 0 is none. */
static uint16_t timeout_code(uint32_t ms)
{
    if (ms < 0x8000u)
        return (uint16_t)ms;
    uint32_t s = ms / 1000u + (ms % 1000u != 0);
    return (uint16_t)(0x8000u | (s < 0x7fffu ? s : 0x7fffu));
}

static uint32_t timeout_ms(uint16_t code)
{
    return (code & 0x8000u) ? (code & 0x7fffu) * 1000u : code;
}

uint32_t kite__netconn_timeout(const struct kite_netconn *c, bool rcv)
{
    return timeout_ms(rcv ? c->rcv_timeout : c->snd_timeout);
}

/* What the netconn says about waiting, read with the stack to ourselves
 * (setsockopt may change it from another thread). */
static void request_begin(struct request *r)
{
    struct kite_netconn *c = r->c;
    r->begun = true;
    if ((c->flags & NCF_NONBLOCK) && !(r->want & NC_CLOSER)) /* a delete always waits */
        r->nonblock = true;
    r->ms = r->timeout == TIMEOUT_RCV   ? timeout_ms(c->rcv_timeout)
            : r->timeout == TIMEOUT_SND ? timeout_ms(c->snd_timeout)
                                        : 0;
}

static void report_one(struct kite_tcpip *t, struct kite_netconn *c);

/* What the request changed is reported before its thread sees the result,
 * so a watcher's mirror is never behind the caller (kite-run waits on it). */
static void report_now(struct request *r)
{
    uintptr_t c = (uintptr_t)r->c, first = (uintptr_t)r->t->netconns.conns;
    bool member =
        c >= first && c < first + sizeof r->t->netconns.conns; /* (new's stand-in is not) */
    if (KITE_NETCONN_EVENTS && member)
        report_one(r->t, r->c);
}

static void request_core(void *arg)
{
    struct request *r = arg;
    struct kite_netconn *c = r->c;
    if (!r->begun)
        request_begin(r);
    enum kite_err err =
        (c->flags & NCF_CLOSING) && !(r->want & NC_CLOSER) ? KITE_ERR_CLOSED : r->fn(r);
    report_now(r);
    if (err != KITE_ERR_WOULDBLOCK || r->nonblock || r->want == 0 || r->timed_out) {
        r->result = err == KITE_ERR_WOULDBLOCK && r->timed_out ? KITE_ERR_TIMEOUT : err;
        request_leave(r);
        return;
    }
    if (!waiter_linked(r)) {
        r->waiter.next = c->waiters;
        c->waiters = &r->waiter;
    }
    if (r->ms > 0 && !r->armed) {
        kite_timer_init(&r->timer, request_timeout);
        kite_timer_arm(stack_of(c), &r->timer, kite_stack_now(stack_of(c)) + r->ms);
        r->armed = true;
    }
}

/* On the stack thread, for a woken waiter: try again; wake its thread only
 * when the request is complete. */
static void request_retry(void *arg)
{
    struct request *r = arg;
    r->retried = true;
    request_core(r);
    if (r->done)
        kite_os_sem_post(r->waiter.sem);
}

static void request_first(void *arg)
{
    struct request *r = arg;
    request_core(r);
    r->waits = !r->done; /* from here on, only the stack thread touches r */
}

static enum kite_err run(struct request *r)
{
    struct kite_os_sem sem;
    enum kite_err err = kite_os_sem_init(&sem, 0);
    if (err != KITE_ERR_OK)
        return err;
    r->waiter.sem = &sem;
    r->waiter.want = r->want;
    r->waiter.retry = request_retry;
    r->waiter.ctx = r;
    err = kite_tcpip_call(r->t, request_first, r);
    if (err == KITE_ERR_OK && r->waits)
        (void)kite_os_sem_wait(&sem, KITE_OS_FOREVER); /* posted once, when complete */
    kite_os_sem_destroy(&sem);
    return err != KITE_ERR_OK ? err : r->result;
}

static void request_init(struct request *r, struct kite_netconn *c, try_fn fn, uint8_t want,
                         uint8_t timeout)
{
    memset(r, 0, sizeof *r);
    r->c = c;
    r->t = tcpip_of(c);
    r->fn = fn;
    r->want = want;
    r->timeout = timeout;
}

/* ---- new / delete ----------------------------------------------------------------------- */

static enum kite_err new_core(struct request *r)
{
    struct kite_netconn *c = r->c; /* a stand-in that carries the type */
    struct kite_netconn *n = pool_get(r->t);
    if (n == NULL)
        return KITE_ERR_MEM;
    n->type = c->type;
    struct kite_stack *stack = r->t->stack;
    if (n->type == KITE_NETCONN_TCP) {
        n->pcb.tcp = kite_tcp_new(stack);
        if (n->pcb.tcp != NULL) {
            kite_tcp_arg(n->pcb.tcp, n);
            kite_tcp_set_ops(n->pcb.tcp, &conn_ops);
        }
    } else if (n->type == KITE_NETCONN_UDP) {
        n->pcb.udp = kite_udp_new(stack);
        if (n->pcb.udp != NULL)
            kite_udp_set_ops(n->pcb.udp, &udp_ops, n);
    } else {
#if KITE_RAW
        n->pcb.raw = kite_raw_new(stack, (uint8_t)r->port); /* the protocol number */
        if (n->pcb.raw != NULL)
            kite_raw_recv(n->pcb.raw, raw_recv_cb, n);
#endif
    }
    if (n->pcb.any == NULL) {
        pool_put(n);
        return KITE_ERR_MEM;
    }
    r->other = n;
    return KITE_ERR_OK;
}

static struct kite_netconn *new_of_type(struct kite_tcpip *t, enum kite_netconn_type type,
                                        uint8_t proto, enum kite_err *err)
{
    struct kite_netconn stand_in = {.type = (uint8_t)type};
    struct request r;
    request_init(&r, &stand_in, new_core, 0, TIMEOUT_NONE);
    r.t = t; /* (the stand-in is no pool member) */
    r.port = proto;
    enum kite_err e = run(&r);
    if (err != NULL)
        *err = e;
    return e == KITE_ERR_OK ? r.other : NULL;
}

struct kite_netconn *kite_netconn_new(struct kite_tcpip *t, enum kite_netconn_type type,
                                      enum kite_err *err)
{
    if (type != KITE_NETCONN_TCP && type != KITE_NETCONN_UDP) {
        if (err != NULL)
            *err = KITE_ERR_VAL; /* raw ones need a protocol: kite_netconn_new_raw */
        return NULL;
    }
    return new_of_type(t, type, 0, err);
}

struct kite_netconn *kite_netconn_new_raw(struct kite_tcpip *t, uint8_t proto, enum kite_err *err)
{
    if (!KITE_RAW) {
        if (err != NULL)
            *err = KITE_ERR_UNSUPPORTED;
        return NULL;
    }
    return new_of_type(t, KITE_NETCONN_RAW, proto, err);
}

/* Free the accepted connections nobody took: reset them. */
static void drop_accept_queue(struct kite_netconn *l)
{
    struct kite_netconn *c;
    while ((c = l->q.acc.head) != NULL) {
        l->q.acc.head = c->next;
        if (c->pcb.tcp != NULL) {
            kite_tcp_set_ops(c->pcb.tcp, NULL);
            kite_tcp_abort(c->pcb.tcp);
        }
        rxq_free(c, stack_of(l));
        pool_put(c);
    }
    l->q.acc.tail = NULL;
    l->queued = 0;
}

static void release_pcb(struct kite_netconn *c, bool reset)
{
    if (c->pcb.any == NULL)
        return;
    if (c->type == KITE_NETCONN_UDP) {
        kite_udp_remove(c->pcb.udp);
    } else if (c->type == KITE_NETCONN_RAW) {
#if KITE_RAW
        kite_raw_remove(c->pcb.raw);
#endif
    } else if (c->state == NC_LISTENING) {
        kite_tcp_listener_close(c->pcb.listener);
    } else {
        kite_tcp_arg(c->pcb.tcp, NULL);
        kite_tcp_set_ops(c->pcb.tcp, NULL);
        if (reset || kite_tcp_close(c->pcb.tcp) != KITE_ERR_OK)
            kite_tcp_abort(c->pcb.tcp); /* close without memory: reset instead */
    }
    c->pcb.any = NULL;
}

static void drop_cork(struct kite_netconn *c);

/* Wakes every other waiter and waits until they have left (close from
 * another thread, DESIGN.md principle 5), then lets go of everything. */
static enum kite_err close_core(struct request *r)
{
    struct kite_netconn *c = r->c;
    if (!r->started) { /* (kite_netconn_cancel may have begun it) */
        c->flags |= NCF_CLOSING;
        r->started = true;
        wake(c, 0xffu & (uint8_t)~NC_CLOSER);
    }
    for (struct kite_nc_waiter *w = c->waiters; w != NULL; w = w->next)
        if (w != &r->waiter)
            return KITE_ERR_WOULDBLOCK;
    /* RFC 2525 2.17, Linux's tcp_close: received data left unread resets
     * the connection, so the peer learns it was not taken. */
    bool unread = c->type == KITE_NETCONN_TCP && c->state != NC_LISTENING && c->rx_bytes > 0;
    if (c->state == NC_LISTENING)
        drop_accept_queue(c);
    else
        rxq_free(c, stack_of(c));
    drop_cork(c);
    release_pcb(c, r->flags != 0 || unread);
    unlink_waiter(c, &r->waiter); /* before the netconn goes back to the pool */
    r->waiter.want = 0;
    pool_put(c);
    return KITE_ERR_OK;
}

static enum kite_err close_netconn(struct kite_netconn *c, bool reset)
{
    struct request r;
    request_init(&r, c, close_core, NC_CLOSER, TIMEOUT_NONE);
    r.flags = reset ? 1u : 0u;
    return run(&r);
}

enum kite_err kite_netconn_delete(struct kite_netconn *c)
{
    return close_netconn(c, false);
}

enum kite_err kite_netconn_abort(struct kite_netconn *c)
{
    return close_netconn(c, true);
}

/* ---- bind / connect / listen / accept ---------------------------------------------------- */

static enum kite_err pending_error(struct kite_netconn *c)
{
    enum kite_err err = (enum kite_err)c->err;
    c->err = KITE_ERR_OK;
    return err;
}

/* Raw pcbs have no ports: bind and connect take the address alone. */
static enum kite_err raw_bind(struct kite_netconn *c, const struct kite_addr *ip)
{
#if KITE_RAW
    return kite_raw_bind(c->pcb.raw, ip);
#else
    (void)c, (void)ip;
    return KITE_ERR_UNSUPPORTED;
#endif
}

static enum kite_err raw_connect(struct kite_netconn *c, const struct kite_addr *ip)
{
#if KITE_RAW
    return kite_raw_connect(c->pcb.raw, ip);
#else
    (void)c, (void)ip;
    return KITE_ERR_UNSUPPORTED;
#endif
}

static enum kite_err bind_core(struct request *r)
{
    struct kite_netconn *c = r->c;
    if (c->pcb.any == NULL)
        return KITE_ERR_CLOSED;
    if (c->state != NC_NEW)
        return KITE_ERR_ISCONN; /* bound already (sockets: EINVAL) */
    enum kite_err err = c->type == KITE_NETCONN_TCP   ? kite_tcp_bind(c->pcb.tcp, r->ip, r->port)
                        : c->type == KITE_NETCONN_UDP ? kite_udp_bind(c->pcb.udp, r->ip, r->port)
                                                      : raw_bind(c, r->ip);
    if (err == KITE_ERR_OK && c->state == NC_NEW)
        c->state = NC_BOUND;
    return err;
}

enum kite_err kite_netconn_bind(struct kite_netconn *c, const struct kite_addr *ip, uint16_t port)
{
    struct request r;
    request_init(&r, c, bind_core, 0, TIMEOUT_NONE);
    r.ip = ip;
    r.port = port;
    return run(&r);
}

/* Linux's __inet_stream_connect: the first connect call to find the
 * handshake done says 0 (the one that began it, or the next after a
 * non-blocking start), later ones EISCONN; while it runs, a non-blocking
 * call says EALREADY and a blocking one waits for it. */
static enum kite_err tcp_connect_try(struct request *r)
{
    struct kite_netconn *c = r->c;
    if (c->state == NC_CONNECTED) {
        if (!(c->flags & NCF_CONN_UNSEEN))
            return KITE_ERR_ISCONN;
        c->flags &= (uint8_t)~NCF_CONN_UNSEEN;
        return KITE_ERR_OK;
    }
    if (c->flags & NCF_CONN_LOST) { /* it failed: its error, once reported ECONNABORTED */
        enum kite_err err = pending_error(c);
        return err != KITE_ERR_OK ? err : KITE_ERR_ABORTED;
    }
    if (c->state == NC_CONNECTING)
        return r->nonblock ? KITE_ERR_ALREADY : KITE_ERR_WOULDBLOCK;
    if (c->state == NC_LISTENING)
        return KITE_ERR_ISCONN; /* as Linux */
    if (c->pcb.tcp == NULL)
        return KITE_ERR_VAL;
    enum kite_err err = kite_tcp_connect(c->pcb.tcp, r->ip, r->port);
    if (err != KITE_ERR_OK)
        return err;
    c->state = NC_CONNECTING;
    c->flags |= NCF_CONN_UNSEEN;
    return r->nonblock ? KITE_ERR_INPROGRESS : KITE_ERR_WOULDBLOCK;
}

static enum kite_err connect_core(struct request *r)
{
    struct kite_netconn *c = r->c;
    if (c->type == KITE_NETCONN_TCP)
        return tcp_connect_try(r);
    if (c->pcb.any == NULL)
        return KITE_ERR_CLOSED;
    enum kite_err err = c->type == KITE_NETCONN_UDP ? kite_udp_connect(c->pcb.udp, r->ip, r->port)
                                                    : raw_connect(c, r->ip);
    if (err == KITE_ERR_OK)
        c->state = NC_CONNECTED;
    return err;
}

enum kite_err kite_netconn_connect(struct kite_netconn *c, const struct kite_addr *ip,
                                   uint16_t port)
{
    struct request r;
    request_init(&r, c, connect_core, KITE_NC_WRITABLE | KITE_NC_ERROR, TIMEOUT_SND);
    r.ip = ip;
    r.port = port;
    return run(&r);
}

/* Linux's udp_disconnect (connect with AF_UNSPEC): the peer is forgotten,
 * the bound port kept. */
static enum kite_err disconnect_core(struct request *r)
{
    struct kite_netconn *c = r->c;
    if (!is_dgram(c))
        return KITE_ERR_UNSUPPORTED;
    if (c->pcb.any == NULL)
        return KITE_ERR_CLOSED;
    const struct kite_addr any = KITE_ADDR_ANY4; /* a raw pcb: every peer again */
    if (c->type == KITE_NETCONN_UDP)
        kite_udp_disconnect(c->pcb.udp);
    else
        (void)raw_connect(c, &any);
    if (c->state == NC_CONNECTED)
        c->state = NC_BOUND;
    return KITE_ERR_OK;
}

enum kite_err kite_netconn_disconnect(struct kite_netconn *c)
{
    struct request r;
    request_init(&r, c, disconnect_core, 0, TIMEOUT_NONE);
    return run(&r);
}

static enum kite_err listen_core(struct request *r)
{
    struct kite_netconn *c = r->c;
    if (c->type != KITE_NETCONN_TCP || c->pcb.tcp == NULL)
        return KITE_ERR_VAL;
    if (c->state == NC_LISTENING) {
        c->backlog = (uint8_t)r->len; /* a second listen changes the backlog only */
        note_queue_room(c);
        return KITE_ERR_OK;
    }
    if (c->state != NC_BOUND)
        return c->state == NC_NEW ? KITE_ERR_NOTCONN : KITE_ERR_ISCONN;
    enum kite_err err;
    struct kite_tcp_pcb *pcb = c->pcb.tcp;
    kite_tcp_set_ops(pcb, &listen_ops);
    struct kite_tcp_listener *l = kite_tcp_listen(pcb, (uint8_t)r->len, &err);
    if (l == NULL) {
        kite_tcp_set_ops(pcb, &conn_ops);
        return err;
    }
    c->pcb.listener = l;
    c->state = NC_LISTENING;
    c->backlog = (uint8_t)r->len;
    return KITE_ERR_OK;
}

enum kite_err kite_netconn_listen(struct kite_netconn *c, uint8_t backlog)
{
    struct request r;
    request_init(&r, c, listen_core, 0, TIMEOUT_NONE);
    r.len = backlog > 0 ? backlog : 1;
    return run(&r);
}

static enum kite_err accept_core(struct request *r)
{
    struct kite_netconn *l = r->c;
    if (l->state != NC_LISTENING)
        return KITE_ERR_VAL;
    struct kite_netconn *c = l->q.acc.head;
    if (c == NULL)
        return KITE_ERR_WOULDBLOCK;
    l->q.acc.head = c->next;
    if (l->q.acc.head == NULL)
        l->q.acc.tail = NULL;
    c->next = NULL;
    l->queued--;
    note_queue_room(l);
    r->other = c;
    return KITE_ERR_OK;
}

enum kite_err kite_netconn_accept(struct kite_netconn *c, struct kite_netconn **out)
{
    struct request r;
    request_init(&r, c, accept_core, KITE_NC_READABLE, TIMEOUT_RCV);
    enum kite_err err = run(&r);
    *out = err == KITE_ERR_OK ? r.other : NULL;
    return err;
}

/* ---- Receiving ----------------------------------------------------------------------------- */

/* Why a read finds its queue empty: the end of the stream, an error
 * (reported, so cleared), or nothing yet. */
static enum kite_err nothing_to_read(struct kite_netconn *c)
{
    if (c->flags & (NCF_RX_FIN | NCF_RX_SHUT))
        return KITE_ERR_CLOSED; /* end of stream */
    if (c->err != KITE_ERR_OK)
        return pending_error(c);
    if (c->flags & NCF_CONN_LOST)
        return KITE_ERR_CLOSED;
    if (c->type == KITE_NETCONN_TCP && c->state != NC_CONNECTED)
        return KITE_ERR_NOTCONN;
    return KITE_ERR_WOULDBLOCK;
}

static enum kite_err recv_core(struct request *r)
{
    struct kite_netconn *c = r->c;
    if (c->state == NC_LISTENING)
        return KITE_ERR_NOTCONN; /* its queue holds connections, not data */
    if (is_dgram(c) && c->err != KITE_ERR_OK)
        return pending_error(c); /* before queued datagrams: __skb_try_recv_datagram */
    struct kite_pbuf *p = rxq_pop(c);
    if (p != NULL) {
        if (is_dgram(c)) {
            c->queued--;
            if (r->from != NULL)
                *r->from = udp_meta(p)->from;
            if (r->from_port != NULL)
                *r->from_port = udp_meta(p)->port;
            if (r->to != NULL)
                *r->to = udp_meta(p)->to;
        } else if (c->pcb.tcp != NULL) {
            kite_tcp_recved(c->pcb.tcp, p->tot_len); /* the reader took it: reopen the window */
        }
        r->p = p;
        return KITE_ERR_OK;
    }
    return nothing_to_read(c);
}

enum kite_err kite_netconn_recv(struct kite_netconn *c, struct kite_pbuf **p,
                                struct kite_addr *from, uint16_t *port)
{
    return kite_netconn_recv_ex(c, p, from, port, NULL, 0);
}

enum kite_err kite_netconn_recv_ex(struct kite_netconn *c, struct kite_pbuf **p,
                                   struct kite_addr *from, uint16_t *port, struct kite_addr *to,
                                   uint8_t flags)
{
    struct request r;
    request_init(&r, c, recv_core, KITE_NC_READABLE, TIMEOUT_RCV);
    r.from = from;
    r.from_port = port;
    r.to = to;
    if (flags & KITE_NC_DONTWAIT)
        r.nonblock = true;
    enum kite_err err = run(&r);
    *p = err == KITE_ERR_OK ? r.p : NULL;
    return err;
}

struct free_req {
    struct kite_stack *stack;
    struct kite_pbuf *p;
};

static void free_core(void *arg)
{
    struct free_req *f = arg;
    kite_pbuf_free(f->stack, f->p);
}

void kite_netconn_free_pbuf(struct kite_netconn *c, struct kite_pbuf *p)
{
    struct free_req f = {stack_of(c), p};
    (void)kite_tcpip_call(tcpip_of(c), free_core, &f);
}

static enum kite_err unrecv_core(struct request *r)
{
    struct kite_netconn *c = r->c;
    struct kite_pbuf *p = r->p;
    last_of(p)->next = c->q.rx.head; /* back in front of the queue */
    c->q.rx.head = p;
    if (c->q.rx.tail == NULL)
        c->q.rx.tail = p;
    c->rx_bytes += p->tot_len;
    if (is_dgram(c))
        c->queued++;
    return KITE_ERR_OK;
}

void kite_netconn_unrecv(struct kite_netconn *c, struct kite_pbuf *p)
{
    struct request r;
    request_init(&r, c, unrecv_core, 0, TIMEOUT_NONE);
    r.p = p;
    if (run(&r) != KITE_ERR_OK)
        kite_netconn_free_pbuf(c, p); /* closing: nobody will read it */
}

/* Copy up to len queued bytes, the queue left as it is. */
static size_t rxq_peek(const struct kite_netconn *c, uint8_t *buf, size_t len)
{
    size_t n = 0;
    for (struct kite_pbuf *p = c->q.rx.head; p != NULL && n < len; p = last_of(p)->next) {
        size_t take = len - n < p->tot_len ? len - n : p->tot_len;
        n += kite_pbuf_copy_out(p, buf + n, (uint16_t)take, 0);
    }
    return n;
}

/* Copy up to len queued bytes and drop them from the queue: whole chains are
 * freed, a chain read in part loses its front. */
static size_t rxq_take(struct kite_netconn *c, uint8_t *buf, size_t len)
{
    size_t n = 0;
    while (c->q.rx.head != NULL && n < len) {
        struct kite_pbuf *p = c->q.rx.head;
        if (len - n >= p->tot_len) {
            n += kite_pbuf_copy_out(p, buf + n, p->tot_len, 0);
            kite_pbuf_free(stack_of(c), rxq_pop(c));
            continue;
        }
        uint16_t take = (uint16_t)(len - n);
        n += kite_pbuf_copy_out(p, buf + n, take, 0);
        struct kite_pbuf *rest = kite__pbuf_drop_front(stack_of(c), p, take); /* in the chain */
        if (c->q.rx.tail == p)
            c->q.rx.tail = rest;
        c->q.rx.head = rest;
        c->rx_bytes -= take;
    }
    return n;
}

static enum kite_err read_core(struct request *r)
{
    struct kite_netconn *c = r->c;
    if (c->state == NC_LISTENING)
        return KITE_ERR_NOTCONN;
    uint8_t *at = r->buf + r->done_len;
    size_t want = r->len - r->done_len;
    if (r->flags & KITE_NC_PEEK) {
        r->done_len = rxq_peek(c, at, want);
    } else {
        size_t n = rxq_take(c, at, want);
        if (n > 0 && c->pcb.tcp != NULL)
            kite_tcp_recved(c->pcb.tcp, (uint32_t)n); /* the reader took it: reopen the window */
        r->done_len += n;
    }
    bool full = r->done_len == r->len; /* (also a read of 0 bytes) */
    bool enough = !(r->flags & KITE_NC_WAITALL) || (r->flags & KITE_NC_PEEK) || r->nonblock;
    if (full || (r->done_len > 0 && enough))
        return KITE_ERR_OK;
    if (r->done_len > 0 && c->q.rx.head == NULL &&
        (c->err != KITE_ERR_OK || (c->flags & (NCF_RX_FIN | NCF_RX_SHUT | NCF_CONN_LOST))))
        return KITE_ERR_OK; /* what came before the end; the error is reported next */
    return r->done_len == 0 ? nothing_to_read(c) : KITE_ERR_WOULDBLOCK;
}

enum kite_err kite_netconn_read(struct kite_netconn *c, void *buf, size_t len, uint8_t flags,
                                size_t *got)
{
    struct request r;
    request_init(&r, c, read_core, KITE_NC_READABLE, TIMEOUT_RCV);
    r.buf = buf;
    r.len = len;
    r.flags = flags;
    if (flags & KITE_NC_DONTWAIT)
        r.nonblock = true;
    enum kite_err err = c->type == KITE_NETCONN_TCP ? run(&r) : KITE_ERR_VAL;
    *got = r.done_len;
    if (err == KITE_ERR_TIMEOUT && r.done_len > 0)
        err = KITE_ERR_OK; /* what came is reported through *got */
    return err;
}

/* ---- Sending ------------------------------------------------------------------------------- */

static enum kite_err write_state(struct kite_netconn *c)
{
    if (c->flags & NCF_CONN_LOST)
        return c->err != KITE_ERR_OK ? pending_error(c) : KITE_ERR_CLOSED;
    if (c->flags & NCF_TX_SHUT)
        return KITE_ERR_CLOSED;
    if (c->state != NC_CONNECTED)
        return KITE_ERR_NOTCONN;
    return KITE_ERR_OK;
}

/* Below this, a refused write waits for ACKs rather than shrinking further. */
#define KITE_TCP_MSS_MIN_WRITE 536u

/* Message mode: a write whose data is all queued lets its caller go before
 * the segments are sent (sending is most of its time), so the caller's next
 * call is already queued when the output is done. Only on the first try,
 * which a call runs (kite__netconn_flush_output follows its completion). */
static bool output_later(struct request *r, struct kite_tcp_pcb *pcb)
{
#if KITE_TCPIP_CORE_LOCKING
    (void)r;
    (void)pcb;
    return false;
#else
    if (r->retried)
        return false;
    kite__netconn_flush_output(r->t); /* (one at a time) */
    r->t->unsent = pcb;
    return true;
#endif
}

void kite__netconn_flush_output(struct kite_tcpip *t)
{
#if !KITE_TCPIP_CORE_LOCKING
    struct kite_tcp_pcb *pcb = t->unsent;
    t->unsent = NULL;
    if (pcb != NULL)
        (void)kite_tcp_output(pcb);
#else
    (void)t;
#endif
}

static enum kite_err write_core(struct request *r)
{
    struct kite_netconn *c = r->c;
    enum kite_err err = write_state(c);
    if (err != KITE_ERR_OK)
        return r->done_len > 0 ? KITE_ERR_OK : err;
    struct kite_tcp_pcb *pcb = c->pcb.tcp;
    uint32_t cap = 0xffffu; /* one kite_tcp_write; halved while the pools refuse it */
    while (r->done_len < r->len) {
        size_t rest = r->len - r->done_len;
        uint32_t room = kite_tcp_sndbuf(pcb);
        uint32_t n = rest < room ? (uint32_t)rest : room;
        n = n < cap ? n : cap;
        if (n == 0)
            break;
        bool more = n < rest || (r->flags & KITE_NC_MORE);
        uint8_t f = (uint8_t)(((r->flags & KITE_NC_COPY) ? KITE_TCP_WRITE_COPY : 0u) |
                              (more ? KITE_TCP_WRITE_MORE : 0u));
        if (kite_tcp_write(pcb, (const uint8_t *)r->data + r->done_len, (uint16_t)n, f) !=
            KITE_ERR_OK) {
            if (n <= KITE_TCP_MSS_MIN_WRITE)
                break; /* the pool pushes back: wait for ACKs to free it */
            cap = n / 2u;
            continue;
        }
        r->done_len += n;
    }
    if (r->done_len == r->len && output_later(r, pcb))
        return KITE_ERR_OK;
    (void)kite_tcp_output(pcb);
    if (r->done_len == r->len)
        return KITE_ERR_OK;
    if (r->nonblock && r->done_len > 0)
        return KITE_ERR_OK; /* a partial write does not block */
    return KITE_ERR_WOULDBLOCK;
}

enum kite_err kite_netconn_write(struct kite_netconn *c, const void *data, size_t len,
                                 uint8_t flags, size_t *written)
{
    struct request r;
    request_init(&r, c, write_core, KITE_NC_WRITABLE, TIMEOUT_SND);
    if (flags & KITE_NC_DONTWAIT)
        r.nonblock = true;
    r.data = data;
    r.len = len;
    r.flags = flags;
    enum kite_err err = c->type == KITE_NETCONN_TCP ? run(&r) : KITE_ERR_VAL;
    if (written != NULL)
        *written = r.done_len;
    if (err == KITE_ERR_TIMEOUT && r.done_len > 0)
        err = KITE_ERR_OK; /* what went is reported through *written */
    return err;
}

static enum kite_err raw_sendto(struct kite_netconn *c, struct kite_pbuf *p,
                                const struct kite_addr *ip)
{
#if KITE_RAW
    return kite_raw_sendto(c->pcb.raw, p, ip);
#else
    (void)c, (void)p, (void)ip;
    return KITE_ERR_UNSUPPORTED;
#endif
}

/* MSG_MORE on UDP (Linux's corking: udp_sendmsg's pending frame). The held
 * pieces wait in c->cork, the first one's destination in the header room in
 * front of it (port 0: the connected peer); a send without the flag sends
 * them and its own piece as one datagram. */
static void drop_cork(struct kite_netconn *c)
{
    if (c->type == KITE_NETCONN_UDP && c->cork != NULL) {
        kite_pbuf_free(stack_of(c), c->cork);
        c->cork = NULL;
    }
}

static enum kite_err corked_send(struct kite_netconn *c, struct kite_pbuf *p,
                                 const struct kite_addr *ip, uint16_t port, bool more)
{
    if (c->cork == NULL) { /* the first piece: more is set */
        const struct kite_addr any = KITE_ADDR_ANY4;
        udp_meta(p)->to = ip != NULL ? *ip : any;
        udp_meta(p)->port = ip != NULL ? port : 0u;
        c->cork = p;
        return KITE_ERR_OK;
    }
    if ((uint32_t)c->cork->tot_len + p->tot_len > 65507u) {
        kite_pbuf_free(stack_of(c), p);
        drop_cork(c); /* as Linux's udp_flush_pending_frames */
        return KITE_ERR_BUF;
    }
    kite_pbuf_cat(c->cork, p);
    if (more)
        return KITE_ERR_OK;
    struct kite_pbuf *all = c->cork;
    struct udp_meta to = *udp_meta(all); /* (the headers will go where it is) */
    c->cork = NULL;
    enum kite_err err = to.port != 0 ? kite_udp_sendto(c->pcb.udp, all, &to.to, to.port)
                                     : kite_udp_send(c->pcb.udp, all);
    kite_pbuf_free(stack_of(c), all);
    return err;
}

/* The datagram's bytes as a pbuf. One that would need a pool chain is
 * referenced instead of copied: the caller waits until it is sent, the
 * layers below copy what they keep (ARP's queue), and the fragments of a
 * datagram over the MTU then reference it too, so up to 65,507 bytes go out
 * without the pool ever holding them (a held, corked piece is copied). */
static struct kite_pbuf *outgoing_data(struct kite_stack *stack, const struct request *r,
                                       uint16_t room, bool held)
{
    if (!held && (uint32_t)room + r->len > KITE_PBUF_RAM_BUFSIZE)
        return kite_pbuf_alloc_ref(stack, r->data, (uint16_t)r->len, KITE_PBUF_REF);
    return kite_pbuf_from_data(stack, room, r->data, (uint16_t)r->len, true);
}

static enum kite_err sendto_core(struct request *r)
{
    struct kite_netconn *c = r->c;
    if (c->pcb.any == NULL || (c->flags & NCF_TX_SHUT))
        return KITE_ERR_CLOSED; /* shut for sending: Linux's EPIPE */
    if (c->err != KITE_ERR_OK)
        return pending_error(c); /* reported instead of sending: sock_alloc_send_pskb */
    struct kite_stack *stack = stack_of(c);
    bool udp = c->type == KITE_NETCONN_UDP;
    bool more = udp && (r->flags & KITE_NC_MORE);
    uint16_t room = udp ? KITE_LAYER_TRANSPORT : KITE_LAYER_IP;
    if (more && c->cork == NULL)
        room = (uint16_t)(room + 2u * sizeof(struct udp_meta)); /* the destination kept */
    struct kite_pbuf *p = outgoing_data(stack, r, room, more || c->cork != NULL);
    if (p == NULL)
        return KITE_ERR_MEM;
    if (udp && (more || c->cork != NULL))
        return corked_send(c, p, r->ip, r->port, more);
    enum kite_err err;
    if (udp)
        err = r->ip != NULL ? kite_udp_sendto(c->pcb.udp, p, r->ip, r->port)
                            : kite_udp_send(c->pcb.udp, p);
    else
        err = raw_sendto(c, p, r->ip);
    kite_pbuf_free(stack, p);
    return err;
}

static enum kite_err sendto_once(struct kite_netconn *c, const void *data, uint16_t len,
                                 const struct kite_addr *ip, uint16_t port, uint8_t flags,
                                 bool *nonblock, uint32_t *timeout)
{
    struct request r;
    request_init(&r, c, sendto_core, 0, TIMEOUT_SND);
    r.flags = flags;
    r.data = data;
    r.len = len;
    r.ip = ip;
    r.port = port;
    enum kite_err err = run(&r);
    *nonblock = r.nonblock;
    *timeout = r.ms;
    return err;
}

enum kite_err kite_netconn_sendto(struct kite_netconn *c, const void *data, uint16_t len,
                                  const struct kite_addr *ip, uint16_t port)
{
    return kite_netconn_sendto_ex(c, data, len, ip, port, 0);
}

enum kite_err kite_netconn_sendto_ex(struct kite_netconn *c, const void *data, uint16_t len,
                                     const struct kite_addr *ip, uint16_t port, uint8_t flags)
{
    if (!is_dgram(c))
        return KITE_ERR_VAL;
    bool nonblock;
    uint32_t timeout;
    enum kite_err err = sendto_once(c, data, len, ip, port, flags, &nonblock, &timeout);
    if (!KITE_NETCONN_UDP_SEND_BLOCKS || err != KITE_ERR_MEM || nonblock)
        return err; /* ENOMEM at once, as lwIP does by default */
    /* Wait for buffers, retrying every KITE_NETCONN_UDP_RETRY_MS (pools free
     * without an event), up to SO_SNDTIMEO. */
    kite_time_ms start = kite_os_now_ms();
    struct kite_os_sem nap;
    if (kite_os_sem_init(&nap, 0) != KITE_ERR_OK)
        return err;
    while (err == KITE_ERR_MEM) {
        if (timeout != 0 && kite_os_now_ms() - start >= timeout) {
            err = KITE_ERR_WOULDBLOCK;
            break;
        }
        (void)kite_os_sem_wait(&nap, KITE_NETCONN_UDP_RETRY_MS);
        err = sendto_once(c, data, len, ip, port, flags, &nonblock, &timeout);
    }
    kite_os_sem_destroy(&nap);
    return err;
}

/* Linux's inet_shutdown of a listener, for reading: tcp_disconnect stops it
 * (inet_csk_listen_stop resets the connections not yet accepted) and a
 * blocked accept wakes with EINVAL. The netconn keeps no pcb: it can only be
 * closed now (Linux could listen again on the port it keeps). */
static enum kite_err stop_listening(struct kite_netconn *c)
{
    drop_accept_queue(c);
    kite_tcp_listener_close(c->pcb.listener);
    c->pcb.any = NULL;
    c->state = NC_CLOSED;
    c->flags |= NCF_RX_SHUT; /* Linux's poll: a shut listener is readable (accept fails) */
    wake(c, KITE_NC_READABLE | KITE_NC_WRITABLE);
    return KITE_ERR_OK;
}

/* Linux's inet_shutdown: a connected socket records the directions shut (a
 * datagram socket only that: nothing goes on the wire), an unconnected one
 * says ENOTCONN; a listener stops when shut for reading, else is left alone. */
static enum kite_err shutdown_core(struct request *r)
{
    struct kite_netconn *c = r->c;
    bool rx = (r->flags & 1u) != 0, tx = (r->flags & 2u) != 0;
    if (c->state == NC_LISTENING)
        return rx ? stop_listening(c) : KITE_ERR_OK;
    if (c->state != NC_CONNECTED)
        return KITE_ERR_NOTCONN;
    if (rx)
        c->flags |= NCF_RX_SHUT;
    if (tx)
        c->flags |= NCF_TX_SHUT;
    wake(c, KITE_NC_READABLE | KITE_NC_WRITABLE);
    if (is_dgram(c) || c->pcb.tcp == NULL)
        return KITE_ERR_OK;
    return kite_tcp_shutdown(c->pcb.tcp, false, tx);
}

enum kite_err kite_netconn_shutdown(struct kite_netconn *c, bool rx, bool tx)
{
    struct request r;
    request_init(&r, c, shutdown_core, 0, TIMEOUT_NONE);
    r.flags = (uint8_t)((rx ? 1u : 0u) | (tx ? 2u : 0u));
    return run(&r);
}

/* ---- State -------------------------------------------------------------------------------- */

static enum kite_err options_core(struct request *r)
{
    struct kite_netconn *c = r->c;
    if (r->flags & 1u) { /* set */
        c->flags = (uint8_t)((c->flags & ~NCF_NONBLOCK) | (r->port ? NCF_NONBLOCK : 0u));
        if (r->len != SIZE_MAX)
            c->rcv_timeout = timeout_code((uint32_t)r->len);
        if (r->done_len != SIZE_MAX)
            c->snd_timeout = timeout_code((uint32_t)r->done_len);
    }
    r->port = (c->flags & NCF_NONBLOCK) ? 1u : 0u;
    r->len = timeout_ms(c->rcv_timeout);
    r->done_len = timeout_ms(c->snd_timeout);
    return KITE_ERR_OK;
}

/* Read (and with set, change) non-blocking mode and the timeouts. */
static void options(struct kite_netconn *c, bool set, uint16_t *nonblock, size_t *rcv, size_t *snd)
{
    struct request r;
    request_init(&r, c, options_core, 0, TIMEOUT_NONE);
    r.flags = set ? 1u : 0u;
    r.port = *nonblock;
    r.len = *rcv;
    r.done_len = *snd;
    (void)run(&r);
    *nonblock = r.port;
    *rcv = r.len;
    *snd = r.done_len;
}

void kite_netconn_set_nonblocking(struct kite_netconn *c, bool on)
{
    uint16_t nb = on ? 1u : 0u;
    size_t keep = SIZE_MAX, keep2 = SIZE_MAX;
    options(c, true, &nb, &keep, &keep2);
}

bool kite_netconn_is_nonblocking(struct kite_netconn *c)
{
    uint16_t nb = 0;
    size_t rcv = 0, snd = 0;
    options(c, false, &nb, &rcv, &snd);
    return nb != 0;
}

void kite_netconn_set_timeouts(struct kite_netconn *c, uint32_t rcv_ms, uint32_t snd_ms)
{
    uint16_t nb = kite_netconn_is_nonblocking(c) ? 1u : 0u;
    size_t rcv = rcv_ms, snd = snd_ms;
    options(c, true, &nb, &rcv, &snd);
}

static enum kite_err take_error_core(struct request *r)
{
    return pending_error(r->c);
}

enum kite_err kite_netconn_take_error(struct kite_netconn *c)
{
    struct request r;
    request_init(&r, c, take_error_core, 0, TIMEOUT_NONE);
    return run(&r);
}

/* POLLHUP as Linux's tcp_poll gives it: the connection is gone, both
 * directions are shut, or it never started (then also writable). */
static uint8_t hang_up_of(const struct kite_netconn *c)
{
    if (is_dgram(c)) /* datagram_poll: both directions shut */
        return (c->flags & NCF_RX_SHUT) && (c->flags & NCF_TX_SHUT) ? KITE_NC_HUP : 0;
    if (c->state == NC_LISTENING)
        return 0;
    if (c->flags & NCF_CONN_LOST)
        return KITE_NC_HUP;
    if (c->state == NC_NEW || c->state == NC_BOUND || c->state == NC_CLOSED)
        return KITE_NC_HUP | KITE_NC_WRITABLE;
    bool both = (c->flags & NCF_RX_FIN) && (c->flags & NCF_TX_SHUT);
    return c->state == NC_CONNECTED && both ? KITE_NC_HUP : 0;
}

/* Readiness now (core). */
static uint8_t events_of(struct kite_netconn *c)
{
    uint8_t ev = 0;
    if (c->err != KITE_ERR_OK)
        ev |= KITE_NC_ERROR | KITE_NC_READABLE | KITE_NC_WRITABLE;
    bool queued = c->state == NC_LISTENING ? c->q.acc.head != NULL : c->q.rx.head != NULL;
    if (queued || (c->flags & (NCF_RX_FIN | NCF_RX_SHUT | NCF_CONN_LOST | NCF_CLOSING)))
        ev |= KITE_NC_READABLE; /* a read would not block */
    if (is_dgram(c))
        ev |= KITE_NC_WRITABLE;
    else if (c->state == NC_CONNECTED && c->pcb.tcp != NULL && kite_tcp_sndbuf(c->pcb.tcp) > 0)
        ev |= KITE_NC_WRITABLE;
    else if (c->flags & (NCF_CONN_LOST | NCF_TX_SHUT))
        ev |= KITE_NC_WRITABLE; /* a write would fail at once */
    if (!is_dgram(c) && (c->flags & (NCF_RX_FIN | NCF_CONN_LOST)))
        ev |= KITE_NC_RDHUP; /* Linux's tcp_poll: RCV_SHUTDOWN */
    return ev | hang_up_of(c);
}

static enum kite_err events_core(struct request *r)
{
    r->flags = events_of(r->c);
    return KITE_ERR_OK;
}

uint8_t kite_netconn_events(struct kite_netconn *c)
{
    struct request r;
    request_init(&r, c, events_core, 0, TIMEOUT_NONE);
    return run(&r) == KITE_ERR_OK ? r.flags : KITE_NC_ERROR;
}

/* ---- Readiness reports (KITE_NETCONN_EVENTS) ----------------------------------------------
 *
 * Per netconn, 16 bits of the stack thread's watch.state: WATCHED, DIRTY
 * (changed since the last report; its index is on watch.dirty), ARRIVED
 * (data, a datagram or a connection came since), UNREPORTED (watching just
 * began) and the events last reported. Whatever changes a netconn's state wakes it (wake)
 * or runs a request on it, so both mark it; the reports go out when the
 * stack is let go (kite__netconn_run_ready) or, for a request's own netconn,
 * before its thread gets the result (report_now). */

#define WATCHED 0x80u
#define DIRTY 0x40u
#define UNREPORTED 0x20u /* watching began: report whatever the events are */
#define ARRIVED 0x100u   /* something came since the last report */
#define LAST_EVENTS 0x1fu

#if KITE_NETCONN_EVENTS
static void report_one(struct kite_tcpip *t, struct kite_netconn *c)
{
    uint16_t *st = &t->watch.state[c->index];
    if (!(*st & WATCHED))
        return;
    uint8_t ev = events_of(c);
    bool changed = (*st & (UNREPORTED | ARRIVED)) || ev != (*st & LAST_EVENTS);
    if (*st & ARRIVED)
        ev |= KITE_NC_ARRIVED;
    *st = (uint16_t)(WATCHED | (ev & LAST_EVENTS)); /* (DIRTY cleared: stale entries skipped) */
    if (changed)
        t->watch.fn(t->watch.ctx, c, ev);
}

static void touch(struct kite_netconn *c, bool arrival)
{
    struct kite_tcpip *t = tcpip_of(c);
    uint16_t *st = &t->watch.state[c->index];
    if (!(*st & WATCHED))
        return;
    if (arrival)
        *st |= ARRIVED;
    if (*st & DIRTY)
        return;
    *st |= DIRTY;
    if (t->watch.ndirty < KITE_NETCONN_COUNT)
        t->watch.dirty[t->watch.ndirty++] = c->index;
    else
        t->watch.overflow = true;
}

static void report_dirty(struct kite_tcpip *t)
{
    for (uint16_t i = 0; i < t->watch.ndirty; i++) {
        uint16_t index = t->watch.dirty[i];
        if (t->watch.state[index] & DIRTY)
            report_one(t, &t->netconns.conns[index]);
    }
    t->watch.ndirty = 0;
    if (!t->watch.overflow)
        return;
    t->watch.overflow = false;
    for (unsigned i = 0; i < KITE_NETCONN_COUNT; i++)
        if (t->watch.state[i] & DIRTY)
            report_one(t, &t->netconns.conns[i]);
}

static void unwatch(struct kite_tcpip *t, struct kite_netconn *c)
{
    t->watch.state[c->index] = 0;
}

void kite__netconn_touch(struct kite_netconn *c)
{
    touch(c, false);
}

void kite_tcpip_set_event_fn(struct kite_tcpip *t, kite_netconn_event_fn fn, void *ctx)
{
    t->watch.fn = fn;
    t->watch.ctx = ctx;
}

static enum kite_err watch_core(struct request *r)
{
    struct kite_netconn *c = r->c;
    if (r->t->watch.fn == NULL)
        return KITE_ERR_ARG; /* no kite_tcpip_set_event_fn yet */
    if (r->flags == 0) {
        unwatch(r->t, c);
        return KITE_ERR_OK;
    }
    /* report_now, right after this, reports the events as they are. */
    r->t->watch.state[c->index] = WATCHED | UNREPORTED;
    return KITE_ERR_OK;
}

enum kite_err kite_netconn_watch(struct kite_netconn *c, bool on)
{
    struct request r;
    request_init(&r, c, watch_core, 0, TIMEOUT_NONE);
    r.flags = on ? 1u : 0u;
    return run(&r);
}
#else
static void report_one(struct kite_tcpip *t, struct kite_netconn *c)
{
    (void)t;
    (void)c;
}
static void touch(struct kite_netconn *c, bool arrival)
{
    (void)c;
    (void)arrival;
}
static void report_dirty(struct kite_tcpip *t)
{
    (void)t;
}
static void unwatch(struct kite_tcpip *t, struct kite_netconn *c)
{
    (void)t;
    (void)c;
}
void kite__netconn_touch(struct kite_netconn *c)
{
    (void)c;
}
#endif

static enum kite_err cancel_core(struct request *r)
{
    struct kite_netconn *c = r->c;
    c->flags |= NCF_CLOSING;
    wake(c, 0xffu & (uint8_t)~NC_CLOSER);
    return KITE_ERR_OK;
}

void kite_netconn_cancel(struct kite_netconn *c)
{
    struct request r;
    request_init(&r, c, cancel_core, 0, TIMEOUT_NONE);
    r.want = NC_CLOSER; /* runs although the netconn is closing */
    r.nonblock = true;
    (void)run(&r);
}

size_t kite__netconn_pending(const struct kite_netconn *c, bool next_only)
{
    if (c->state == NC_LISTENING)
        return 0; /* its queue holds connections, not bytes */
    return next_only && c->q.rx.head != NULL ? c->q.rx.head->tot_len : c->rx_bytes;
}

static enum kite_err pending_core(struct request *r)
{
    r->done_len = kite__netconn_pending(r->c, r->flags != 0);
    return KITE_ERR_OK;
}

size_t kite_netconn_pending(struct kite_netconn *c, bool next_only)
{
    struct request r;
    request_init(&r, c, pending_core, 0, TIMEOUT_NONE);
    r.flags = next_only ? 1u : 0u;
    return run(&r) == KITE_ERR_OK ? r.done_len : 0;
}

/* ---- Waiting on several netconns (select, poll) ------------------------------------------ */

struct multi_wait {
    struct kite_netconn *const *c;
    const uint8_t *want;
    uint8_t *got;
    struct kite_nc_waiter *nodes;
    unsigned n, ready;
    uint32_t ms;
    bool linked, armed, timed_out, done;
    bool waits; /* the first try left it waiting (read by its thread only) */
    struct kite_timer timer;
    struct kite_stack *stack;
    struct kite_tcpip *t;
};

static void multi_timeout(struct kite_stack *stack, struct kite_timer *timer)
{
    struct multi_wait *m = KITE_CONTAINER_OF(timer, struct multi_wait, timer);
    (void)stack;
    m->timed_out = true;
    m->armed = false;
    mark_ready(m->t, &m->nodes[0]);
}

static void multi_leave(struct multi_wait *m)
{
    if (m->armed)
        kite_timer_cancel(m->stack, &m->timer);
    m->armed = false;
    for (unsigned i = 0; m->linked && i < m->n; i++)
        unlink_waiter(m->c[i], &m->nodes[i]);
    for (unsigned i = 0; i < m->n; i++)
        unready(m->t, &m->nodes[i]); /* several may have been woken */
    m->linked = false;
    m->done = true;
}

static void multi_core(void *arg)
{
    struct multi_wait *m = arg;
    m->ready = 0;
    for (unsigned i = 0; i < m->n; i++) {
        m->got[i] = events_of(m->c[i]) & (m->want[i] | KITE_NC_ERROR | KITE_NC_HUP);
        m->ready += m->got[i] != 0;
    }
    if (m->ready > 0 || m->timed_out || m->ms == 0) {
        multi_leave(m);
        return;
    }
    if (!m->linked) {
        for (unsigned i = 0; i < m->n; i++) {
            m->nodes[i].next = m->c[i]->waiters;
            m->c[i]->waiters = &m->nodes[i];
        }
        m->linked = true;
    }
    if (m->ms != KITE_OS_FOREVER && !m->armed) {
        kite_timer_init(&m->timer, multi_timeout);
        kite_timer_arm(m->stack, &m->timer, kite_stack_now(m->stack) + m->ms);
        m->armed = true;
    }
}

/* On the stack thread, for a woken node: look again; wake the thread only
 * when the wait is over. */
static void multi_retry(void *arg)
{
    struct multi_wait *m = arg;
    multi_core(m);
    if (m->done)
        kite_os_sem_post(m->nodes[0].sem);
}

static void multi_first(void *arg)
{
    struct multi_wait *m = arg;
    multi_core(m);
    m->waits = !m->done; /* from here on, only the stack thread touches m */
}

unsigned kite_netconn_wait(struct kite_netconn *const *c, const uint8_t *want, uint8_t *got,
                           unsigned n, uint32_t ms)
{
    struct kite_nc_waiter nodes[KITE_NETCONN_COUNT];
    struct kite_os_sem sem;
    if (n == 0 || n > KITE_NETCONN_COUNT || kite_os_sem_init(&sem, 0) != KITE_ERR_OK)
        return 0;
    struct multi_wait m = {.c = c,
                           .want = want,
                           .got = got,
                           .nodes = nodes,
                           .n = n,
                           .ms = ms,
                           .stack = stack_of(c[0]),
                           .t = tcpip_of(c[0])};
    for (unsigned i = 0; i < n; i++)
        nodes[i] = (struct kite_nc_waiter){.sem = &sem,
                                           .retry = multi_retry,
                                           .ctx = &m,
                                           .want = (uint8_t)(want[i] | KITE_NC_ERROR | NC_CLOSER)};
    if (kite_tcpip_call(m.t, multi_first, &m) == KITE_ERR_OK && m.waits)
        (void)kite_os_sem_wait(&sem, KITE_OS_FOREVER); /* posted once, when it is over */
    kite_os_sem_destroy(&sem);
    return m.ready;
}

/* Everything queued acknowledged (or nothing left to wait for). */
static enum kite_err drain_core(struct request *r)
{
    struct kite_netconn *c = r->c;
    if (c->type != KITE_NETCONN_TCP || c->state != NC_CONNECTED || c->pcb.tcp == NULL)
        return KITE_ERR_OK;
    uint32_t snd, rcv;
    kite_tcp_get_buffers(c->pcb.tcp, &snd, &rcv);
    return kite_tcp_sndbuf(c->pcb.tcp) >= snd ? KITE_ERR_OK : KITE_ERR_WOULDBLOCK;
}

enum kite_err kite_netconn_drain(struct kite_netconn *c, uint32_t ms)
{
    struct request r;
    /* It runs while the netconn closes (NC_CLOSER), before the delete. */
    request_init(&r, c, drain_core, KITE_NC_WRITABLE | KITE_NC_ERROR | NC_CLOSER, TIMEOUT_NONE);
    r.ms = ms;
    r.begun = true; /* blocking, whatever the netconn's mode, for ms */
    return run(&r);
}

static enum kite_err waiting_core(struct request *r)
{
    unsigned n = 0;
    for (const struct kite_nc_waiter *w = r->c->waiters; w != NULL; w = w->next)
        n++;
    r->done_len = n;
    return KITE_ERR_OK;
}

unsigned kite_netconn_waiting(struct kite_netconn *c)
{
    struct request r;
    request_init(&r, c, waiting_core, 0, TIMEOUT_NONE);
    return run(&r) == KITE_ERR_OK ? (unsigned)r.done_len : 0;
}

static enum kite_err addr_core(struct request *r)
{
    struct kite_netconn *c = r->c;
    struct kite_addr *ip = r->from;
    uint16_t *port = r->from_port;
    bool local = r->flags != 0;
    if (c->pcb.any == NULL)
        return KITE_ERR_CLOSED;
    if (c->type == KITE_NETCONN_UDP) {
        *ip = local ? c->pcb.udp->local_ip : c->pcb.udp->remote_ip;
        *port = local ? c->pcb.udp->local_port : c->pcb.udp->remote_port;
        return local || (c->state == NC_CONNECTED) ? KITE_ERR_OK : KITE_ERR_NOTCONN;
    }
#if KITE_RAW
    if (c->type == KITE_NETCONN_RAW) {
        *ip = local ? c->pcb.raw->local_ip : c->pcb.raw->remote_ip;
        *port = 0;
        return local || (c->state == NC_CONNECTED) ? KITE_ERR_OK : KITE_ERR_NOTCONN;
    }
#endif
    if (c->state == NC_LISTENING) {
        if (!local)
            return KITE_ERR_NOTCONN;
        kite_tcp_listener_get_local(c->pcb.listener, ip, port);
        return KITE_ERR_OK;
    }
    if (local)
        kite_tcp_get_local(c->pcb.tcp, ip, port);
    else if (c->state == NC_CONNECTED)
        kite_tcp_get_remote(c->pcb.tcp, ip, port);
    else
        return KITE_ERR_NOTCONN;
    return KITE_ERR_OK;
}

enum kite_err kite_netconn_addr(struct kite_netconn *c, bool local, struct kite_addr *ip,
                                uint16_t *port)
{
    struct request r;
    request_init(&r, c, addr_core, 0, TIMEOUT_NONE);
    r.from = ip;
    r.from_port = port;
    r.flags = local ? 1u : 0u;
    return run(&r);
}

/* ---- For the socket layer, inside kite_tcpip_call (api_priv.h) ----------------------------- */

bool kite__netconn_listening(const struct kite_netconn *c)
{
    return c->state == NC_LISTENING;
}

enum kite_err kite__netconn_take_error(struct kite_netconn *c, bool *connecting)
{
    *connecting = c->state == NC_CONNECTING;
    return pending_error(c);
}

void kite__netconn_set_timeouts(struct kite_netconn *c, uint32_t rcv_ms, uint32_t snd_ms)
{
    c->rcv_timeout = timeout_code(rcv_ms);
    c->snd_timeout = timeout_code(snd_ms);
}

uint8_t kite__netconn_shut(const struct kite_netconn *c)
{
    uint8_t shut = 0;
    if (c->flags & (NCF_RX_SHUT | NCF_RX_FIN))
        shut |= KITE_NC_SHUT_RX;
    if (c->flags & NCF_TX_SHUT)
        shut |= KITE_NC_SHUT_TX;
    return shut;
}
