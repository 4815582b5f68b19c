/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP protocol control block and the stack-wide TCP state. The layout is
 * public only so that struct kite_stack can hold the pools; every field is
 * private to src/transport/tcp_*.c.
 */
#ifndef KITE_TCP_PCB_H
#define KITE_TCP_PCB_H

#include <stdbool.h>
#include <stdint.h>

#include "kite/addr.h"
#include "kite/opts.h"
#include "kite/tcp.h"
#include "kite/time.h"
#include "kite/timer.h"

struct kite_pbuf;
struct kite_stack;

/* A range of sequence space the peer reported received (RFC 2018), sorted. */
struct kite_tcp_sacked {
    uint32_t left, right;
};

#define KITE_TCP_SCOREBOARD 6

/* What a connection needs only once it has seen loss: the sender's SACK
 * scoreboard (RFC 6675), the recovery point (RFC 6582) and the congestion
 * avoidance state (RFC 3465 byte counting, RFC 9438 CUBIC). Taken from a
 * small pool at the first loss; a connection that finds the pool empty
 * recovers by timeout alone and grows its window as Reno does. */
struct kite_tcp_loss {
    struct kite_tcp_pcb *owner;
    uint32_t recover;     /* RFC 6582: highest sequence number sent when loss was seen */
    uint32_t high_rxt;    /* RFC 6675 HighRxt */
    uint32_t bytes_acked; /* RFC 3465 congestion avoidance counter */
#if KITE_TCP_CUBIC
    uint32_t cubic_wmax, cubic_k_ms, cubic_west, cubic_epoch;
#endif
    uint8_t sacked_count;
    struct kite_tcp_sacked sacked[KITE_TCP_SCOREBOARD];
};

/*
 * A connection. Times are 32-bit wrapping milliseconds, compared like
 * sequence numbers; windows are in units of the window scale. The order
 * packs the fields without holes on 32- and 64-bit targets.
 *
 * The lists a pcb is on are linked by pcb numbers, not pointers: 1 + the
 * pcb's block in the stack's TCP pool, 0 for none (tcp_demux.c). Four
 * 16-bit links take the room of two pointers on a 32-bit target (half of it
 * on a 64-bit one), so the connection table's chains and the timer list are
 * doubly linked, and unlinking is O(1), at no cost per connection.
 */
struct kite_tcp_pcb {
    struct kite_stack *stack;
    const struct kite_tcp_ops *ops;
    union {
        void *arg;                          /* the application's argument */
        struct kite_tcp_listener *listener; /* KITE_TCPF_CHILD: not yet accepted */
    } u;
    struct kite_pbuf *snd_queue; /* bytes from snd_una on: unacknowledged then unsent */
    struct kite_pbuf *snd_tail;  /* last chunk of snd_queue (appends are O(1)) */
    struct kite_pbuf *snd_cur;   /* chunk where the last copy ended (copies are O(1)) */
    struct kite_pbuf *ooo;       /* out-of-order segments, sorted (see tcp_reass.c) */
    struct kite_tcp_loss *loss;  /* NULL until loss is seen */

    struct kite_addr local_ip, remote_ip;
    uint16_t local_port, remote_port;

    /* Send sequence space (RFC 9293 3.3.1). */
    uint32_t snd_una, snd_nxt, snd_max;
    uint32_t snd_cur_off; /* offset from snd_una of snd_cur's first byte */
    uint32_t snd_queued;  /* bytes in snd_queue */
    /* Receive sequence space. */
    uint32_t rcv_nxt;
    uint32_t rcv_adv;    /* right edge of the window we advertised */
    uint32_t rcv_unread; /* delivered to the application, not yet kite_tcp_recved */

    /* Timestamps (RFC 7323) or, without them, one timed segment (RFC 6298). */
    uint32_t ts_offset;
    union {
        struct {
            uint32_t recent, last_ack_sent;
        } ts;
        struct {
            uint32_t seq, start;
        } rtt;
    } t;
    uint32_t srtt8; /* RFC 6298 SRTT * 8 in ms, 0 before the first sample */
    uint32_t cwnd, ssthresh;
    uint32_t deadline;     /* of the pending timer */
    uint32_t last_rx;      /* a segment last arrived (keepalive, RFC 7323 5.5) */
    uint32_t last_data_tx; /* data last left (RFC 5681 4.1) */
    uint32_t flags;        /* KITE_TCPF_* (tcp_priv.h) */

    uint16_t snd_wnd, max_snd_wnd; /* in units of 2^snd_wscale bytes */
    uint16_t snd_buf, rcv_buf;     /* in units of KITE_TCP_BUF_UNIT bytes */
    uint16_t rttvar4;              /* RFC 6298 RTTVAR * 4 in ms */
    uint16_t mss;                  /* payload bytes per segment we send (options excluded) */
    uint16_t hnext, hprev;         /* chain of a connection table bucket, or the bound list */
    uint16_t tnext, tprev;         /* the stack's timer list, by deadline */
    uint8_t keepalive;             /* 1 + index of its keepalive setting, 0 = off */
    uint8_t state : 4;             /* enum kite_tcp_state */
    uint8_t timer_kind : 4;        /* enum kite_tcp_timer_kind (tcp_priv.h) */
    uint8_t snd_wscale : 4;
    uint8_t rcv_wscale : 4;
    uint8_t busy;    /* > 0 while input or a timer works on this pcb */
    uint8_t backoff; /* RTO retransmissions, or persist/keepalive probes, in a row */
    uint8_t dupacks;
    uint8_t challenge; /* RFC 5961 7: ACKs left (low 4 bits) in a second (high 4 bits) */
    uint8_t pmtu_cut8; /* MSS the path MTU took off, 8-byte units (tcp_pmtu.c) */
};

/* A listening endpoint: what its connections start with. */
struct kite_tcp_listener {
    struct kite_tcp_listener *next;
    struct kite_stack *stack;
    const struct kite_tcp_ops *ops;
    void *arg;
    struct kite_addr local_ip;
    uint16_t local_port;
    uint8_t backlog;           /* most children in SYN_RECEIVED */
    uint8_t pending;           /* children in SYN_RECEIVED now */
    uint16_t snd_buf, rcv_buf; /* for the children, in KITE_TCP_BUF_UNIT bytes */
    uint8_t nodelay;
    uint8_t keepalive; /* the children's keepalive setting, as kite_tcp_pcb's */
    uint8_t full;      /* the application takes no more now (kite_tcp_listener_set_full) */
};

/* A keepalive setting shared by the connections that use it (every pcb and
 * listener may be a user: 16 bits, tcp_pcb.c checks the pools fit). */
struct kite_tcp_keepalive {
    uint16_t idle_s, intvl_s;
    uint8_t count;
    uint16_t users;
};

struct kite_tcp {
    struct kite_tcp_listener *listeners; /* listening endpoints */
    struct kite_timer timer;             /* armed at the first pcb deadline */
    struct kite_timer delack;            /* sweeps delayed ACKs while any is owed */
    struct kite_timer poll;              /* ticks while any pcb has a poll callback */
    uint32_t poll_ticks;
    uint32_t secret[4]; /* RFC 6528 / RFC 4987 keys */
#if KITE_TCP_HASH_BUCKETS > 1
    uint32_t table_key[2]; /* the connection table's hash key (tcp_demux.c) */
#endif
    uint16_t timers;      /* pcbs with a pending timer, earliest deadline first */
    uint16_t timers_last; /* the last of them (pcb numbers, see struct kite_tcp_pcb) */
    uint16_t bound;       /* bound, not yet listening/connecting */
    uint16_t next_ephemeral;
    /* Every pcb with a remote end, TIME_WAIT included, by a keyed hash of
     * its addresses and ports: the first pcb of each bucket's chain. */
    uint16_t table[KITE_TCP_HASH_BUCKETS];
    struct kite_tcp_keepalive keepalives[KITE_TCP_KEEPALIVE_SETS];
#if KITE_TCP_ACK_BURST
    /* Connections owing an ACK at the end of the receive burst. */
    struct kite_tcp_pcb *burst_acks[KITE_TCP_ACK_BURST];
    uint8_t burst_ack_count;
#endif
};

/**
 * The connection after pcb (NULL: the first) in the stack's connection table,
 * in pool order; NULL after the last. Every pcb with a remote end is in the
 * table until it is freed (or freed once its callers return). The walk may
 * free any pcb on the way: it holds no pointer into the lists. For the TCP
 * files and white-box tests.
 */
struct kite_tcp_pcb *kite__tcp_next(const struct kite_stack *stack, const struct kite_tcp_pcb *pcb);

#endif
