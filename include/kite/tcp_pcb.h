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

/* pcb->flags */
#define KITE_TCPF_NODELAY 0x0001u       /* Nagle off */
#define KITE_TCPF_ACK_NOW 0x0002u       /* send an ACK at the end of input processing */
#define KITE_TCPF_ACK_DELAYED 0x0004u   /* an ACK is owed, delayed-ACK timer running */
#define KITE_TCPF_FIN_QUEUED 0x0008u    /* close/shutdown asked for a FIN after the data */
#define KITE_TCPF_FIN_SENT 0x0010u      /* the FIN occupies sequence number fin_seq */
#define KITE_TCPF_TS 0x0020u            /* timestamps negotiated (RFC 7323) */
#define KITE_TCPF_SACK 0x0040u          /* SACK negotiated (RFC 2018) */
#define KITE_TCPF_WSCALE 0x0080u        /* window scaling negotiated (RFC 7323) */
#define KITE_TCPF_RX_SHUT 0x0100u       /* application shut down receiving */
#define KITE_TCPF_CLOSED_BY_APP 0x0200u /* application called close: free when done */
#define KITE_TCPF_IN_RECOVERY 0x0400u   /* fast recovery (NewReno or SACK) */
#define KITE_TCPF_RTT_TIMING 0x0800u    /* timing one segment (no timestamps) */
#define KITE_TCPF_FREE_PENDING 0x1000u  /* freed from a callback: free after input */
#define KITE_TCPF_FIN_RECEIVED 0x2000u
#define KITE_TCPF_ACCEPTED 0x4000u           /* the accept callback took it */
#define KITE_TCPF_COOKIE 0x8000u             /* created from a SYN cookie */
#define KITE_TCPF_CHALLENGE_STARTED 0x10000u /* challenge_left holds this second's budget */
#define KITE_TCPF_DATA_SENT 0x20000u         /* last_data_tx is valid */

/* A received out-of-order segment waiting for the hole before it. */
struct kite_tcp_ooo {
    struct kite_pbuf *p; /* payload only */
    uint32_t seq;
    uint16_t stamp; /* arrival order, for the order of SACK blocks */
};

/* A range of sequence space the peer reported received (RFC 2018), sorted. */
struct kite_tcp_sacked {
    uint32_t left, right;
};

#define KITE_TCP_SCOREBOARD 6

struct kite_tcp_pcb {
    struct kite_tcp_pcb *next;
    struct kite_stack *stack;
    uint8_t state;   /* enum kite_tcp_state */
    uint8_t backlog; /* LISTEN: most children in SYN_RECEIVED */
    uint8_t pending; /* LISTEN: children in SYN_RECEIVED now */
    uint8_t dupacks;
    uint8_t challenge_left;   /* challenge ACKs left this second (RFC 5961 7) */
    uint8_t challenge_second; /* the second they are counted in, modulo 256 */
    uint32_t flags;
    uint16_t busy; /* > 0 while input or a timer works on this pcb */

    struct kite_addr local_ip, remote_ip;
    uint16_t local_port, remote_port;
    struct kite_tcp_pcb *listener; /* SYN_RECEIVED child: its listener */

    void *arg;
    kite_tcp_accept_fn accept;
    kite_tcp_connected_fn connected;
    kite_tcp_recv_fn recv;
    kite_tcp_sent_fn sent;
    kite_tcp_err_fn err;
    kite_tcp_poll_fn poll;
    uint32_t poll_interval_ms;

    /* Send sequence space (RFC 9293 3.3.1). */
    uint32_t iss, snd_una, snd_nxt, snd_max;
    uint32_t snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
    uint32_t fin_seq;
    uint16_t mss;     /* payload bytes per segment we send (options excluded) */
    uint16_t rcv_mss; /* MSS we advertised */
    uint8_t snd_wscale, rcv_wscale;
    uint8_t retries; /* consecutive RTO retransmissions */
    uint8_t keep_probes_sent;
    struct kite_pbuf *snd_queue; /* bytes from snd_una on: unacknowledged then unsent */
    struct kite_pbuf *snd_tail;  /* last chunk of snd_queue (appends are O(1)) */
    struct kite_pbuf *snd_cur;   /* chunk where the last copy ended (copies are O(1)) */
    uint32_t snd_cur_off;        /* offset from snd_una of snd_cur's first byte */
    uint32_t snd_queued;         /* bytes in snd_queue */
    uint32_t snd_buf;

    /* Receive sequence space. */
    uint32_t irs, rcv_nxt;
    uint32_t rcv_adv; /* right edge of the window we advertised */
    uint32_t rcv_buf;
    uint32_t rcv_unread; /* delivered to the application, not yet kite_tcp_recved */
    uint32_t ooo_bytes;
    uint16_t ooo_count;
    uint32_t ooo_last_seq; /* most recent out-of-order arrival (first SACK block) */
    uint16_t ooo_stamp;    /* counts out-of-order arrivals */
    uint8_t full_segs_unacked;
    struct kite_tcp_ooo ooo[KITE_TCP_OOO_SEGS];

    /* Timestamps (RFC 7323). */
    uint32_t ts_offset, ts_recent, last_ack_sent;
    kite_time_ms ts_recent_age;

    /* Round-trip time (RFC 6298), in ms scaled: srtt * 8, rttvar * 4. */
    uint32_t srtt8, rttvar4, rto_ms;
    uint32_t rtt_seq;
    kite_time_ms rtt_start;
    uint8_t backoff;

    /* Congestion control (RFC 5681, 6582, 6675, 9438). */
    uint32_t cwnd, ssthresh, recover, high_rxt, bytes_acked;
    uint8_t sacked_count;
    struct kite_tcp_sacked sacked[KITE_TCP_SCOREBOARD];
    uint32_t cubic_wmax, cubic_k_ms, cubic_west;
    kite_time_ms cubic_epoch;

    /* Timers: one kite_timer per pcb, armed at the earliest of these. */
    struct kite_timer timer;
    kite_time_ms rto_at, persist_at, delack_at, keep_at, poll_at, timewait_at;
    uint32_t keep_idle_ms, keep_intvl_ms;
    uint8_t keep_cnt;
    uint8_t persist_backoff;
    kite_time_ms last_rx;  /* for keepalive */
    uint32_t last_data_tx; /* when data last left, in ms mod 2^32 (RFC 5681 4.1) */
};

struct kite_tcp {
    struct kite_tcp_pcb *active;  /* every pcb with a remote end, TIME_WAIT included */
    struct kite_tcp_pcb *listens; /* LISTEN pcbs */
    struct kite_tcp_pcb *bound;   /* bound, not yet listening/connecting */
    uint16_t next_ephemeral;
    uint32_t secret[4]; /* RFC 6528 / RFC 4987 keys */
};

/* Internal. */
void kite__tcp_init(struct kite_stack *stack);
void kite__tcp_deinit(struct kite_stack *stack);

#endif
