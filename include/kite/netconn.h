/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * netconn: the sequential API over TCP and UDP (after lwIP's), for threads
 * other than the stack thread. Every call runs its part that touches the
 * stack through kite_tcpip_call and blocks, when it must, on a semaphore of
 * the calling thread; timeouts run on the stack's own timers. A netconn may
 * be closed from one thread while others block on it: they return
 * KITE_ERR_CLOSED first, then the close completes (docs/api.md).
 *
 * Received data is handed over as the pbufs it arrived in, without copying:
 * the receiver frees them with kite_netconn_free_pbuf.
 */
#ifndef KITE_NETCONN_H
#define KITE_NETCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kite/addr.h"
#include "kite/err.h"
#include "kite/opts.h"
#include "kite/port/os.h"
#include "kite/timer.h"

struct kite_tcpip;
struct kite_pbuf;
struct kite_tcp_pcb;
struct kite_tcp_listener;
struct kite_udp_pcb;
struct kite_raw_pcb;

enum kite_netconn_type {
    KITE_NETCONN_TCP = 1,
    KITE_NETCONN_UDP = 2,
    KITE_NETCONN_RAW = 3, /* raw IPv4 of one protocol (kite/raw.h; needs KITE_RAW) */
};

/* Readiness, as select and poll see it. */
#define KITE_NC_READABLE 0x01u /* data, a datagram, a connection to accept, EOF or an error */
#define KITE_NC_WRITABLE 0x02u /* room to send (or an error to report) */
#define KITE_NC_ERROR 0x04u    /* an error is pending (SO_ERROR) */
#define KITE_NC_HUP 0x08u      /* TCP hung up: reset, both directions shut, or never connected */
#define KITE_NC_RDHUP 0x10u    /* TCP: the peer's FIN came, or the connection is gone (POLLRDHUP) */
#define KITE_NC_ARRIVED 0x20u  /* reports only: something new came since the last report */

/* kite_netconn_write flags. */
#define KITE_NC_COPY 0x01u     /* copy the data (else it must stay valid until acknowledged) */
#define KITE_NC_MORE 0x02u     /* more follows: hold small segments (MSG_MORE) */
#define KITE_NC_DONTWAIT 0x04u /* this call does not block (MSG_DONTWAIT) */

/* kite_netconn_read flags (with KITE_NC_DONTWAIT). */
#define KITE_NC_PEEK 0x08u    /* copy without taking (MSG_PEEK) */
#define KITE_NC_WAITALL 0x10u /* wait until the buffer is full (MSG_WAITALL) */

/* A thread waiting for readiness on one netconn: lives on that thread's
 * stack, linked into the netconn only while the thread waits (a thread that
 * waits on several netconns, in select or poll, has one per netconn). When
 * what it wants happens, the stack thread queues it on its ready list and,
 * once the event's work is done, runs retry(ctx) for it: the waiting
 * request is tried again right there, and its thread is woken only when the
 * request is complete (api/netconn.c). */
struct kite_nc_waiter {
    struct kite_nc_waiter *next;       /* the netconn's waiters */
    struct kite_nc_waiter *ready_next; /* the stack thread's ready list */
    void (*retry)(void *ctx);
    void *ctx;
    struct kite_os_sem *sem;
    uint8_t want; /* KITE_NC_* */
    bool queued;  /* on the ready list */
};

struct kite_netconn {
    union {
        struct kite_netconn *next; /* the pool's free list, or a listener's accept queue */
        struct kite_pbuf *cork;    /* UDP in use: data held by KITE_NC_MORE (MSG_MORE) */
    };
    union {
        struct kite_tcp_pcb *tcp;
        struct kite_tcp_listener *listener;
        struct kite_udp_pcb *udp;
        struct kite_raw_pcb *raw;
        void *any;
    } pcb;
    union {
        struct {
            struct kite_pbuf *head, *tail; /* received, not yet taken (see api/rxq) */
        } rx;
        struct {
            struct kite_netconn *head, *tail; /* accepted, not yet taken */
        } acc;
    } q;
    struct kite_nc_waiter *waiters;
    uint32_t rx_bytes;    /* queued bytes (FIONREAD) */
    uint16_t rcv_timeout; /* SO_RCVTIMEO, 0 = none (coded: api/netconn.c timeout_code) */
    uint16_t snd_timeout; /* SO_SNDTIMEO, likewise */
    int8_t err;           /* pending enum kite_err, reported once (SO_ERROR) */
    uint8_t type;         /* enum kite_netconn_type */
    uint8_t state;        /* api/netconn.c */
    uint8_t flags;        /* api/netconn.c */
    uint8_t backlog;      /* listeners: most connections waiting to be accepted */
    uint8_t queued;       /* listeners: connections waiting now; UDP, raw: datagrams queued */
    uint16_t index;       /* in its stack thread's array (which finds the thread) */
};

/* The netconns of one stack thread, allocated from a fixed array. */
struct kite_netconn_pool {
    struct kite_netconn conns[KITE_NETCONN_COUNT];
    struct kite_netconn *free;
};

/** A new netconn; NULL with *err set (KITE_ERR_MEM: none left). */
struct kite_netconn *kite_netconn_new(struct kite_tcpip *t, enum kite_netconn_type type,
                                      enum kite_err *err);
/** A raw netconn for IP protocol proto (1: ICMP...): recv gives whole
 *  packets, IP header first; send takes the payload behind the IP header. */
struct kite_netconn *kite_netconn_new_raw(struct kite_tcpip *t, uint8_t proto, enum kite_err *err);
/** Close and free it: the pcb closes gracefully (TCP: FIN after queued data;
 *  a reset if received data is left unread, RFC 2525 2.17, as Linux). */
enum kite_err kite_netconn_delete(struct kite_netconn *c);
/** As delete, but a TCP connection is reset at once (SO_LINGER 0). */
enum kite_err kite_netconn_abort(struct kite_netconn *c);

enum kite_err kite_netconn_bind(struct kite_netconn *c, const struct kite_addr *ip, uint16_t port);
/** TCP: the handshake (KITE_ERR_INPROGRESS when non-blocking); UDP: set the peer. */
enum kite_err kite_netconn_connect(struct kite_netconn *c, const struct kite_addr *ip,
                                   uint16_t port);
/** UDP, raw: forget the connected peer, keep the local address (connect
 *  with AF_UNSPEC); TCP: KITE_ERR_UNSUPPORTED. */
enum kite_err kite_netconn_disconnect(struct kite_netconn *c);
enum kite_err kite_netconn_listen(struct kite_netconn *c, uint8_t backlog);
enum kite_err kite_netconn_accept(struct kite_netconn *c, struct kite_netconn **out);

/**
 * The next received pbuf chain (TCP bytes; UDP one datagram, with its
 * sender in *from / *port when not NULL). KITE_ERR_CLOSED at the peer's FIN
 * (TCP), KITE_ERR_WOULDBLOCK / KITE_ERR_TIMEOUT when nothing came.
 */
enum kite_err kite_netconn_recv(struct kite_netconn *c, struct kite_pbuf **p,
                                struct kite_addr *from, uint16_t *port);
/** recv, also giving the address a UDP datagram was sent to (IP_PKTINFO) and
 *  taking KITE_NC_DONTWAIT in flags. */
enum kite_err kite_netconn_recv_ex(struct kite_netconn *c, struct kite_pbuf **p,
                                   struct kite_addr *from, uint16_t *port, struct kite_addr *to,
                                   uint8_t flags);
/** Bytes queued (FIONREAD); with next_only, the size of the next datagram. */
size_t kite_netconn_pending(struct kite_netconn *c, bool next_only);
/** Wake every thread blocked on it and fail every later request (close begins),
 *  without freeing it: kite_netconn_delete still follows. */
void kite_netconn_cancel(struct kite_netconn *c);
/** Free a pbuf that recv returned (from any thread). */
void kite_netconn_free_pbuf(struct kite_netconn *c, struct kite_pbuf *p);
/** Put back the unread tail of a TCP chain recv returned (MSG_PEEK, partial reads). */
void kite_netconn_unrecv(struct kite_netconn *c, struct kite_pbuf *p);
/**
 * TCP: copy up to len received bytes into buf in one stack call, freeing
 * what was taken and reopening the window by it (the socket layer's recv).
 * flags: KITE_NC_DONTWAIT, KITE_NC_PEEK, KITE_NC_WAITALL. *got says how many
 * came; KITE_ERR_OK when some did (fewer than len only without WAITALL, or
 * at the end of the stream or an error), else as kite_netconn_recv.
 */
enum kite_err kite_netconn_read(struct kite_netconn *c, void *buf, size_t len, uint8_t flags,
                                size_t *got);

/** TCP: queue len bytes; *written says how many went (fewer only when it cannot block). */
enum kite_err kite_netconn_write(struct kite_netconn *c, const void *data, size_t len,
                                 uint8_t flags, size_t *written);
/** UDP: one datagram to ip:port (NULL: the connected peer); raw: one packet
 *  to ip (port unused). */
enum kite_err kite_netconn_sendto(struct kite_netconn *c, const void *data, uint16_t len,
                                  const struct kite_addr *ip, uint16_t port);
/**
 * sendto with flags: KITE_NC_MORE (UDP) holds the data back, and the next
 * send without it sends everything held and its own data as one datagram,
 * to where the first held piece was addressed (MSG_MORE: Linux's UDP
 * corking). More than 65 507 bytes in all is KITE_ERR_BUF (EMSGSIZE), and
 * what was held is dropped.
 */
enum kite_err kite_netconn_sendto_ex(struct kite_netconn *c, const void *data, uint16_t len,
                                     const struct kite_addr *ip, uint16_t port, uint8_t flags);
enum kite_err kite_netconn_shutdown(struct kite_netconn *c, bool rx, bool tx);

void kite_netconn_set_nonblocking(struct kite_netconn *c, bool on);
bool kite_netconn_is_nonblocking(struct kite_netconn *c);
/** Receive and send timeouts in ms, 0 = none (SO_RCVTIMEO, SO_SNDTIMEO). */
void kite_netconn_set_timeouts(struct kite_netconn *c, uint32_t rcv_ms, uint32_t snd_ms);
/** The pending error, cleared (SO_ERROR); KITE_ERR_OK when none. */
enum kite_err kite_netconn_take_error(struct kite_netconn *c);
/** Wait up to ms until everything written was acknowledged (SO_LINGER);
 *  KITE_ERR_TIMEOUT if not. */
enum kite_err kite_netconn_drain(struct kite_netconn *c, uint32_t ms);
/** Threads blocked on it now (a delete wakes them first). */
unsigned kite_netconn_waiting(struct kite_netconn *c);
/** KITE_NC_* readiness now. */
uint8_t kite_netconn_events(struct kite_netconn *c);
/** Local or remote address of the connection. */
enum kite_err kite_netconn_addr(struct kite_netconn *c, bool local, struct kite_addr *ip,
                                uint16_t *port);

/**
 * Wait until one of n netconns is ready for what want[i] asks (select,
 * poll): got[i] receives the readiness; returns how many are ready, 0 on
 * timeout (ms, KITE_OS_FOREVER: none).
 */
unsigned kite_netconn_wait(struct kite_netconn *const *c, const uint8_t *want, uint8_t *got,
                           unsigned n, uint32_t ms);

#if KITE_NETCONN_EVENTS
/** Told, with the stack to itself (on the stack thread, or under the core
 *  lock), that a watched netconn's events changed: events is the new set,
 *  with KITE_NC_ARRIVED when data, a datagram or a connection came since the
 *  last report (reported even when the set is unchanged: an epoll edge per
 *  arrival, as Linux gives). */
typedef void (*kite_netconn_event_fn)(void *ctx, struct kite_netconn *c, uint8_t events);
/** Where a stack thread reports readiness changes (set it before watching). */
void kite_tcpip_set_event_fn(struct kite_tcpip *t, kite_netconn_event_fn fn, void *ctx);
/**
 * Watch c (on) or stop (off). Watching begins with a report of c's events
 * now, made before this returns; after that every change is reported once
 * the work that caused it is done (the call, frame or timer), in order. A
 * deleted netconn is no longer watched.
 */
enum kite_err kite_netconn_watch(struct kite_netconn *c, bool on);
#endif

/* Stack-thread side (api/tcpip.c). */
void kite__netconn_pool_init(struct kite_netconn_pool *pool);
/** Retry every woken waiter; called with the stack to oneself before letting go of it. */
void kite__netconn_run_ready(struct kite_tcpip *t);
/** Message mode, after a call's caller was let go: send what its write left
 *  for later (netconn.c, write_core). */
void kite__netconn_flush_output(struct kite_tcpip *t);
/** The stack thread stops: every blocked request fails (KITE_ERR_CLOSED). */
void kite__netconn_fail_waiters(struct kite_tcpip *t);

#endif
