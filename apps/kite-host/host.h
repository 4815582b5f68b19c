/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kite-host internals shared by its source files: the options, the host
 * (one stack on one TAP device plus its services), the TCP connection object
 * every TCP service is built on, and the deterministic byte patterns.
 */
#ifndef KITE_HOST_H
#define KITE_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "kite/kite.h"
#include "kite/port/tap.h"
#include "kite/tcp.h"

struct kite_pcap;

#define HOST_ECHO_PORT 7u
#define HOST_DISCARD_PORT 9u
#define HOST_CHARGEN_PORT 19u
#define HOST_HTTP_PORT 80u
#define HOST_IPERF_PORT 5001u

/* Default per-connection TCP send and receive buffer (--tcp-buf). */
/* 64 KiB, or the build's own TCP buffer when that is larger (max_throughput). */
#define HOST_TCP_BUF_DEFAULT (KITE_TCP_RCV_BUF > 65536u ? KITE_TCP_RCV_BUF : 65536u)

struct options {
    const char *tap;
    const char *pcap;
    const char *http_root;
    uint32_t addr;
    unsigned prefix;
    uint32_t gw;
    uint8_t mac[KITE_ETH_ADDR_LEN];
    uint64_t seed;
    bool have_addr;
    bool offload;          /* --offload: virtio-net header, TSO super-frames from the kernel */
    uint32_t busy_poll_us; /* --busy-poll: spin this long on the TAP before sleeping */
    uint32_t tcp_buf;
    /* --tcp-send HOST:PORT:BYTES */
    bool tcp_send;
    uint32_t send_addr;
    uint16_t send_port;
    uint64_t send_bytes;
    /* --impair loss=PERCENT,delay=MS */
    bool impair;
    uint32_t impair_loss_ppm;
    uint32_t impair_delay_ms;
    bool acd;              /* --acd: claim the address with RFC 5227 probing first */
    unsigned tcp_services; /* --tcp-services: bit per enum host_listener */
    /* --forward IFNAME,ADDR/PREFIX[,MTU]: a second TAP, forwarding between them */
    const char *fwd_tap; /* NULL, or fwd_name */
    char fwd_name[16];
    uint32_t fwd_addr;
    unsigned fwd_prefix;
    uint16_t fwd_mtu;
};

/* Service counters, printed as app.* in the final report. */
struct host_counters {
    uint32_t echoed, echo_failed, discarded;
    uint32_t tcp_accepted, tcp_refused, tcp_closed, tcp_reset, tcp_timeouts;
    uint32_t http_requests, http_errors;
    uint64_t tcp_rx_bytes, tcp_tx_bytes;
    uint64_t impair_dropped;
};

enum host_listener { L_ECHO, L_DISCARD, L_CHARGEN, L_HTTP, L_IPERF, L__COUNT };

struct conn;
struct impair;

struct host {
    struct kite_stack *stack;
    struct kite_tap tap;
    struct kite_tap fwd; /* --forward's second TAP; fd -1 without it */
    struct kite_pcap *pcap;
    struct kite_udp_pcb *echo;
    struct kite_udp_pcb *discard;
    struct kite_tcp_listener *listeners[L__COUNT];
    struct conn *conns; /* every live TCP connection of the services */
    const struct options *opt;
    struct impair *impair; /* NULL without --impair */
    int http_root_fd;      /* -1 without --http-root */
    int tcp_send_status;   /* -1 running or not asked, 0 done, 1 failed */
    struct host_counters n;
};

/* ---- forward.c ---- */
bool parse_forward(struct options *opt, const char *arg);
bool forward_start(struct host *host);
void forward_stop(struct host *host);

/* ---- impair.c ---- */
bool impair_start(struct host *host);
void impair_stop(struct host *host);
void impair_receive(struct host *host);
void impair_flush(struct host *host);
kite_time_ms impair_next_due(const struct host *host);

/* ---- services_udp.c ---- */
bool udp_services_start(struct host *host);
void udp_services_stop(struct host *host);

/* ---- services_tcp.c ---- */
bool tcp_services_start(struct host *host);
void tcp_services_stop(struct host *host);
bool tcp_send_start(struct host *host);

/* ---- http.c ---- */
enum kite_err http_accept(void *arg, struct kite_tcp_pcb *pcb);

/* ---- conn.c: a TCP connection with a transmit ring -------------------------
 *
 * Outgoing bytes are produced into a ring owned by the connection and handed
 * to the stack by reference (kite_tcp_write without the copy flag), so a bulk
 * sender needs no pbuf pool blocks for its data: the stack copies each
 * segment out of the ring when it sends it. Ring bytes are reused only after
 * the sent callback reports them acknowledged. Since the stack may read them
 * until then, a connection is freed only once everything queued was
 * acknowledged (then kite_tcp_close), or once the stack freed the pcb (err
 * callback, kite_tcp_abort).
 */
struct conn_ops {
    const char *name;
    /* Received data (the callback consumes p's bytes; conn.c frees p). */
    void (*on_data)(struct conn *c, const struct kite_pbuf *p);
    /* The deadline passed (NULL: abort the connection). */
    void (*on_timeout)(struct conn *c);
    /* The peer sent FIN. */
    void (*on_fin)(struct conn *c);
    /* Produce more bytes into the ring (conn_produce); set c->tx_done at the end. */
    void (*refill)(struct conn *c);
    /* Connection is going away: release service resources (files). */
    void (*on_free)(struct conn *c);
    /* An active open completed. */
    void (*on_connected)(struct conn *c);
};

struct conn {
    struct conn *next;
    struct conn **pprev; /* the pointer to this one (host->conns or a next) */
    struct host *host;
    struct kite_tcp_pcb *pcb;
    const struct conn_ops *ops;
    uint8_t *ring;
    uint32_t ring_size;
    uint32_t min_chunk; /* smallest write while earlier data is in flight */
    uint64_t produced, queued, acked;
    uint64_t rx_bytes;
    bool tx_done;  /* nothing more will be produced: FIN after the data */
    bool fin_sent; /* kite_tcp_shutdown(tx) done */
    bool peer_fin; /* the peer's FIN arrived */
    bool hold_rx;  /* echo: reopen the window only when echoed bytes are acked */
    bool broken;   /* a service cannot go on: conn_kick aborts the connection */
    kite_time_ms started, last_progress;
    kite_time_ms deadline; /* KITE_TIME_NEVER or when on_timeout runs */
    uint32_t idle_limit_ms;
    /* Service state. */
    uint64_t gen_base;  /* pattern services: stream offset of pattern byte 0 */
    uint64_t gen_total; /* stream offset where the pattern ends (UINT64_MAX: never) */
    uint8_t gen_kind;   /* enum gen_kind */
    int fd;             /* http: file being served, else -1 */
    uint64_t file_left;
    uint16_t req_len;
    bool req_done;
    char *req; /* http: request header bytes (bounded) */
};

struct conn *conn_new(struct host *host, struct kite_tcp_pcb *pcb, const struct conn_ops *ops,
                      uint32_t idle_limit_ms);
/* Room in the ring for new bytes, contiguous from the write position. */
uint32_t conn_space(const struct conn *c, uint8_t **dst);
/* n bytes were written at the position conn_space returned. */
void conn_produce(struct conn *c, uint32_t n);
/* Copy bytes into the ring (all of them must fit). */
void conn_put(struct conn *c, const void *data, uint32_t n);
/* Produce, queue what the window and buffers allow, close when done.
 * Returns false when c was freed. */
bool conn_kick(struct conn *c);
void conn_abort(struct conn *c);
/* Drop the object but not the pcb (an accept callback refusing the pcb). */
void conn_forget(struct conn *c);
/* Abort every connection (shutdown). */
void conn_abort_all(struct host *host);

/* ---- pattern.c ---- */
enum gen_kind { GEN_NONE, GEN_BYTES, GEN_CHARGEN };
/* Bytes [offset, offset + n) of the /bytes pattern: 16-byte lines, line k is
 * k as 15 lowercase hex digits (zero padded) and '\n'. */
void pattern_bytes(uint8_t *dst, uint64_t offset, uint32_t n);
/* Bytes [offset, offset + n) of the RFC 864 chargen stream: 74-byte lines,
 * line j is the 72 printable characters 32 + (j + c) % 95 and CR LF. */
void pattern_chargen(uint8_t *dst, uint64_t offset, uint32_t n);
/* Produce the connection's pattern (gen_kind) until the ring is full or the
 * stream reached gen_total; then set tx_done. */
void pattern_refill(struct conn *c);

#endif
