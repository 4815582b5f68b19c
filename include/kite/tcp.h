/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP (RFC 9293) with a raw callback API, in the spirit of lwIP's tcp.h.
 *
 * Callbacks run on the stack's thread, from inside kite_netif_input() or
 * kite_stack_poll(). Every callback receives the user argument set with
 * kite_tcp_arg(). A pcb is freed by the stack after kite_tcp_close() has
 * finished the closing handshake, or at once by kite_tcp_abort(); after an
 * err callback the pcb is already gone.
 */
#ifndef KITE_TCP_H
#define KITE_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "kite/addr.h"
#include "kite/err.h"
#include "kite/opts.h"
#include "kite/time.h"
#include "kite/timer.h"

struct kite_stack;
struct kite_pbuf;
struct kite_netif;
struct kite_tcp_pcb;
struct kite_tcp_listener;

/* RFC 9293 3.3.2 states. */
// clang-format off
#define KITE_TCP_STATES(X)                                                                    \
    X(CLOSED) X(LISTEN) X(SYN_SENT) X(SYN_RECEIVED) X(ESTABLISHED) X(FIN_WAIT_1)            \
    X(FIN_WAIT_2) X(CLOSE_WAIT) X(CLOSING) X(LAST_ACK) X(TIME_WAIT)

// clang-format on
enum kite_tcp_state {
#define KITE_TCP_STATE_ENUM_(name) KITE_TCP_##name,
    KITE_TCP_STATES(KITE_TCP_STATE_ENUM_)
#undef KITE_TCP_STATE_ENUM_
};

const char *kite_tcp_state_name(enum kite_tcp_state state);

/** A connection arrived on a listening pcb. Return KITE_ERR_OK to keep it;
 *  any other value aborts it (the callback must not touch newpcb then): the
 *  peer gets a reset. To make a peer wait instead, as Linux does when its
 *  accept queue is full, use kite_tcp_listener_set_full before it comes. */
typedef enum kite_err (*kite_tcp_accept_fn)(void *arg, struct kite_tcp_pcb *newpcb);
/** An active open completed (err OK). Failures come through the err callback. */
typedef void (*kite_tcp_connected_fn)(void *arg, struct kite_tcp_pcb *pcb);
/**
 * In-order data arrived (p != NULL, owned by the callback: free it), or the
 * peer closed its side (p == NULL, FIN received). Call kite_tcp_recved() once
 * the data is consumed to open the receive window again.
 */
typedef void (*kite_tcp_recv_fn)(void *arg, struct kite_tcp_pcb *pcb, struct kite_pbuf *p);
/** len more bytes were acknowledged (send buffer space freed). */
typedef void (*kite_tcp_sent_fn)(void *arg, struct kite_tcp_pcb *pcb, uint32_t len);
/** The connection died (RESET, TIMEOUT, ABORTED...). The pcb is already freed. */
typedef void (*kite_tcp_err_fn)(void *arg, enum kite_err err);
/** Called every poll interval while the connection exists (for retries, timeouts). */
typedef void (*kite_tcp_poll_fn)(void *arg, struct kite_tcp_pcb *pcb);

/**
 * A connection's callbacks, shared by every connection of one kind: keep the
 * table in constant memory (it is not copied) and give each connection its
 * own argument with kite_tcp_arg(). Any entry may be NULL. Connections a
 * listener accepts start with the listener's table and argument.
 */
struct kite_tcp_ops {
    kite_tcp_accept_fn accept;       /* listeners: a connection arrived */
    kite_tcp_connected_fn connected; /* active opens: the handshake completed */
    kite_tcp_recv_fn recv;
    kite_tcp_sent_fn sent;
    kite_tcp_err_fn err;
    kite_tcp_poll_fn poll;
    uint32_t poll_interval_ms; /* how often poll runs (rounded up to KITE_TCP_POLL_TICK_MS) */
};

/* kite_tcp_write flags. */
#define KITE_TCP_WRITE_COPY 0x01u /* data is volatile: copy it (else referenced until acked) */
#define KITE_TCP_WRITE_MORE 0x02u /* more data follows: don't set PSH, let Nagle coalesce */

/* Allocation and callbacks. */
struct kite_tcp_pcb *kite_tcp_new(struct kite_stack *stack);
void kite_tcp_arg(struct kite_tcp_pcb *pcb, void *arg);
/** Set the callback table (NULL: none). */
void kite_tcp_set_ops(struct kite_tcp_pcb *pcb, const struct kite_tcp_ops *ops);

/* Opening. */
enum kite_err kite_tcp_bind(struct kite_tcp_pcb *pcb, const struct kite_addr *ip, uint16_t port);
/**
 * Turn a bound pcb into a listener with a backlog of half-open connections
 * (SYN cookies past it, RFC 4987). A listener is a small object of its own:
 * on success pcb is freed and the listener returned, keeping pcb's callbacks,
 * argument, buffer sizes and Nagle setting for the connections it accepts. On
 * failure NULL, *err says why (may be NULL) and pcb is untouched.
 */
struct kite_tcp_listener *kite_tcp_listen(struct kite_tcp_pcb *pcb, uint8_t backlog,
                                          enum kite_err *err);
/** Stop listening: half-open connections are reset, accepted ones go on. */
void kite_tcp_listener_close(struct kite_tcp_listener *l);
void kite_tcp_listener_arg(struct kite_tcp_listener *l, void *arg);
/**
 * Say whether the application can take more connections now (full: its
 * accept queue has no room). While full, as Linux with a full accept queue
 * (net.ipv4.tcp_abort_on_overflow 0), new SYNs are dropped unanswered and a
 * handshake's completing ACK is dropped, the connection left half-open: the
 * peers retransmit, and complete once the listener has room again. This is
 * the way to make peers wait; an accept callback that refuses resets them.
 */
void kite_tcp_listener_set_full(struct kite_tcp_listener *l, bool full);
void kite_tcp_listener_get_local(const struct kite_tcp_listener *l, struct kite_addr *ip,
                                 uint16_t *port);
/** Start an active open; ops->connected reports success, ops->err failure. */
enum kite_err kite_tcp_connect(struct kite_tcp_pcb *pcb, const struct kite_addr *ip, uint16_t port);

/* Data. */
/** Queue len bytes; KITE_ERR_WOULDBLOCK when the send buffer or pools are full. */
enum kite_err kite_tcp_write(struct kite_tcp_pcb *pcb, const void *data, uint16_t len,
                             uint8_t flags);
/** Send what can be sent now (kite_tcp_write only queues). */
enum kite_err kite_tcp_output(struct kite_tcp_pcb *pcb);
/** The application consumed len received bytes: reopen the window. */
void kite_tcp_recved(struct kite_tcp_pcb *pcb, uint32_t len);
/** Free bytes in the send buffer. */
uint32_t kite_tcp_sndbuf(const struct kite_tcp_pcb *pcb);

/* Closing. */
/** Graceful close (FIN); the stack frees the pcb when done. KITE_ERR_MEM: retry later. */
enum kite_err kite_tcp_close(struct kite_tcp_pcb *pcb);
/** Half-close: shut down receiving and/or sending. */
enum kite_err kite_tcp_shutdown(struct kite_tcp_pcb *pcb, bool rx, bool tx);
/** Send RST and free the pcb and all its buffers at once. No err callback. */
void kite_tcp_abort(struct kite_tcp_pcb *pcb);

/* Per-connection options. */
void kite_tcp_set_nodelay(struct kite_tcp_pcb *pcb, bool nodelay);
/** Cork (Linux's TCP_CORK): only full-sized segments and the FIN leave until
 *  it is uncorked, which sends what was held. Unlike Linux there is no 200 ms
 *  ceiling: the application uncorks. */
void kite_tcp_set_cork(struct kite_tcp_pcb *pcb, bool cork);
/**
 * Keepalive (RFC 1122 4.2.3.6): probe after idle_ms without a segment from
 * the peer, every interval_ms, give up after count probes (count 0: off).
 * Times are kept in whole seconds, rounded up. A stack holds
 * KITE_TCP_KEEPALIVE_SETS distinct (idle, interval, count) settings at once,
 * shared by the connections that use them: KITE_ERR_MEM when all are taken.
 */
enum kite_err kite_tcp_set_keepalive(struct kite_tcp_pcb *pcb, uint32_t idle_ms,
                                     uint32_t interval_ms, uint8_t count);
/** Ask for ECN (RFC 3168) when this pcb connects (before kite_tcp_connect).
 *  KITE_ERR_VAL when kite was built without it (KITE_TCP_ECN 0). */
enum kite_err kite_tcp_set_ecn(struct kite_tcp_pcb *pcb, bool on);
/** Send/receive buffer sizes in bytes (before connect/listen), rounded up to
 *  KITE_TCP_BUF_UNIT. */
enum kite_err kite_tcp_set_buffers(struct kite_tcp_pcb *pcb, uint32_t snd, uint32_t rcv);
/** The buffer sizes of the connections a listener will accept. */
enum kite_err kite_tcp_listener_set_buffers(struct kite_tcp_listener *l, uint32_t snd,
                                            uint32_t rcv);

/** The send and receive buffer sizes in bytes. */
void kite_tcp_get_buffers(const struct kite_tcp_pcb *pcb, uint32_t *snd, uint32_t *rcv);

enum kite_tcp_state kite_tcp_get_state(const struct kite_tcp_pcb *pcb);
/** Connections that still owe their peer data or a FIN (or are open): what a
 *  host must let run before it exits, as a kernel sends what closed sockets
 *  left behind (kite-run waits for it at exit). TIME_WAIT and FIN_WAIT_2 owe
 *  nothing. */
unsigned kite_tcp_owing_count(const struct kite_stack *stack);
void kite_tcp_get_local(const struct kite_tcp_pcb *pcb, struct kite_addr *ip, uint16_t *port);
void kite_tcp_get_remote(const struct kite_tcp_pcb *pcb, struct kite_addr *ip, uint16_t *port);

#endif
