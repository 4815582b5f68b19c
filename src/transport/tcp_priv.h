/* SPDX-License-Identifier: BSD-3-Clause */
/* Functions shared by the TCP files (src/transport/tcp_*.c). */
#ifndef KITE_TCP_PRIV_H
#define KITE_TCP_PRIV_H

#include "kite/stack.h"
#include "kite/tcp.h"
#include "kite/tcp_pcb.h"
#include "kite/wire/tcp.h"
#include "kite_internal/ipv4.h"
#include "kite_internal/pbuf.h"
#include "kite_internal/pool.h"
#include "kite_internal/ports.h"
#include "kite_internal/stack.h"
#include "tcp_seq.h"

/* pcb->flags */
#define KITE_TCPF_NODELAY (1u << 0)       /* Nagle off */
#define KITE_TCPF_ACK_NOW (1u << 1)       /* send an ACK at the end of input processing */
#define KITE_TCPF_ACK_DELAYED (1u << 2)   /* an ACK is owed; the delayed-ACK sweep sends it */
#define KITE_TCPF_FIN_QUEUED (1u << 3)    /* close/shutdown asked for a FIN after the data */
#define KITE_TCPF_FIN_SENT (1u << 4)      /* the FIN occupies the sequence number after the data */
#define KITE_TCPF_TS (1u << 5)            /* timestamps negotiated (RFC 7323) */
#define KITE_TCPF_SACK (1u << 6)          /* SACK negotiated (RFC 2018) */
#define KITE_TCPF_WSCALE (1u << 7)        /* window scaling negotiated (RFC 7323) */
#define KITE_TCPF_RX_SHUT (1u << 8)       /* application shut down receiving */
#define KITE_TCPF_CLOSED_BY_APP (1u << 9) /* application called close: free when done */
#define KITE_TCPF_IN_RECOVERY (1u << 10)  /* fast recovery (NewReno or SACK) */
#define KITE_TCPF_RTT_TIMING (1u << 11)   /* timing one segment (no timestamps) */
#define KITE_TCPF_FREE_PENDING (1u << 12) /* freed from a callback: free after input */
#define KITE_TCPF_FIN_RECEIVED (1u << 13)
#define KITE_TCPF_ACCEPTED (1u << 14)          /* the accept callback took it */
#define KITE_TCPF_COOKIE (1u << 15)            /* created from a SYN cookie */
#define KITE_TCPF_CHALLENGE_STARTED (1u << 16) /* challenge holds this second's budget */
#define KITE_TCPF_DATA_SENT (1u << 17)         /* last_data_tx is valid */
#define KITE_TCPF_FULL_SEG (1u << 18)          /* one full-sized segment not yet acknowledged */
#define KITE_TCPF_RTO_3S (1u << 19) /* SYN retransmitted: 3 s RTO until a sample (RFC 6298 5.7) */
#define KITE_TCPF_CUBIC_EPOCH (1u << 20) /* the loss block's CUBIC epoch is running */
#define KITE_TCPF_CHILD (1u << 21)       /* u.listener is set: a child not yet accepted */
#define KITE_TCPF_ECN_WANT (1u << 22)    /* ask for ECN in our SYN (RFC 3168 6.1.1) */
#define KITE_TCPF_ECN (1u << 23)         /* ECN negotiated */
#define KITE_TCPF_ECN_ECE (1u << 24)     /* CE seen: set ECE on ACKs until a CWR arrives */
#define KITE_TCPF_ECN_CWR (1u << 25)     /* window reduced for ECE: set CWR on new data */
#define KITE_TCPF_CORK (1u << 26)        /* TCP_CORK: only full segments (or the FIN) leave */
#define KITE_TCPF_LISTED (1u << 27)      /* in the connection table: demultiplexing finds it */
#define KITE_TCPF_BURST_ACK (1u << 28)   /* listed in tcp.burst_acks (KITE_TCP_ACK_BURST) */

/* The one timer a connection may have pending (they exclude each other:
 * retransmission while something is in flight, persist while the peer's
 * window is shut, keepalive while idle, TIME_WAIT at the end). Delayed ACKs
 * and the poll callback are served by stack-wide sweeps. */
enum kite_tcp_timer_kind {
    KITE_TCPT_NONE,
    KITE_TCPT_REXMIT,
    KITE_TCPT_PERSIST,
    KITE_TCPT_KEEPALIVE,
    KITE_TCPT_TIMEWAIT, /* TIME_WAIT, or FIN_WAIT_2 after close */
};

/* A parsed incoming segment. */
struct tcp_seg {
    struct kite_tcp_repr hdr;
    struct kite_pbuf *p; /* payload only (header removed) */
    uint32_t len;        /* payload bytes + SYN + FIN: sequence space used */
    uint16_t data_len;
    uint8_t ecn; /* the IP header's ECN field (RFC 3168 5) */
    uint32_t src, dst;
    struct kite_netif *netif;
};

/* RFC 3168 5: the ECN field of the IP header. */
#define TCP_ECN_ECT0 0x02u
#define TCP_ECN_CE 0x03u
#define TCP_ECN_MASK 0x03u

/* tcp_pcb.c */
struct kite_tcp_pcb *kite__tcp_alloc(struct kite_stack *stack);
void kite__tcp_free(struct kite_tcp_pcb *pcb);
/** Tear the connection down and tell the application through err (if any). */
void kite__tcp_kill(struct kite_tcp_pcb *pcb, enum kite_err err);
void kite__tcp_set_state(struct kite_tcp_pcb *pcb, enum kite_tcp_state state);
uint32_t kite__tcp_isn(struct kite_stack *stack, uint32_t lip, uint16_t lport, uint32_t rip,
                       uint16_t rport);
/** The connection's timestamp clock offset (RFC 7323 7.1), a keyed hash of its tuple, so a
 *  SYN cookie connection finds the offset its SYN-ACK used. */
uint32_t kite__tcp_ts_offset(struct kite_stack *stack, uint32_t lip, uint16_t lport, uint32_t rip,
                             uint16_t rport);
uint8_t kite__tcp_window_scale_for(uint32_t buf);
struct kite_tcp_listener *kite__tcp_find_listen(struct kite_stack *stack,
                                                const struct tcp_seg *seg);
/** Stop using the pcb's keepalive setting. */
void kite__tcp_keepalive_drop(struct kite_tcp_pcb *pcb);
void kite__tcp_init_connection(struct kite_tcp_pcb *pcb, struct kite_netif *netif);
/** The MSS the path to dst allows (its learned path MTU), and the one the
 *  outgoing netif's MTU allows. */
uint16_t kite__tcp_route_mss(struct kite_stack *stack, uint32_t dst);
uint16_t kite__tcp_link_mss(struct kite_stack *stack, uint32_t dst);
uint32_t kite__tcp_rcv_window(const struct kite_tcp_pcb *pcb);
/** Free the pcb unless a caller up the stack still works on it. */
void kite__tcp_release(struct kite_tcp_pcb *pcb);

/* tcp_pmtu.c: ICMP errors, path MTU discovery (RFC 1191, RFC 5927). */
void kite__tcp_icmp_error(struct kite_stack *stack, uint8_t type, uint8_t code, uint32_t info,
                          const uint8_t *orig, uint16_t orig_len);
void kite__tcp_pmtu_init(struct kite_stack *stack);
/** Set the MSS to send with from the peer's (RFC 9293 3.7.1) and the path
 *  MTU, remembering what the path took off so it can grow back. */
void kite__tcp_set_send_mss(struct kite_tcp_pcb *pcb, uint16_t peer_mss);

/* tcp_demux.c: the connection table (a hash of the 4-tuple) and the bound list. */
/** The newest connection with these addresses and ports, NULL if none. */
struct kite_tcp_pcb *kite__tcp_lookup(struct kite_stack *stack, uint32_t lip, uint16_t lport,
                                      uint32_t rip, uint16_t rport);
struct kite_tcp_pcb *kite__tcp_find_active(struct kite_stack *stack, const struct tcp_seg *seg);
/** Enter the connection table (addresses and ports set, never changed while in it). */
void kite__tcp_table_add(struct kite_tcp_pcb *pcb);
/** Enter the list of bound pcbs (not yet listening or connecting). */
void kite__tcp_bound_add(struct kite_tcp_pcb *pcb);
/** Leave the connection table or the bound list, whichever the pcb is on (O(1)). */
void kite__tcp_unlink(struct kite_tcp_pcb *pcb);
/** Initialise the table and its hash key (after the TCP secret is drawn). */
void kite__tcp_table_init(struct kite_stack *stack);
/** HalfSipHash-1-3 of the 12 bytes of a, b, c (each little-endian) with a 64-bit key. */
uint32_t kite__tcp_hash3(const uint32_t key[2], uint32_t a, uint32_t b, uint32_t c);
/** The table bucket of a four-tuple. */
uint32_t kite__tcp_bucket(const struct kite_stack *stack, uint32_t lip, uint16_t lport,
                          uint32_t rip, uint16_t rport);

/* A pcb by its number (1 + its block in the TCP pool) and back. */
static inline struct kite_tcp_pcb *tcp_pcb_at(const struct kite_stack *stack, uint16_t n)
{
    return (struct kite_tcp_pcb *)(uintptr_t)stack->mem.TCP_PCB[n - 1u];
}

static inline uint16_t tcp_pcb_number(const struct kite_stack *stack,
                                      const struct kite_tcp_pcb *pcb)
{
    size_t offset = (size_t)((const uint8_t *)pcb - stack->mem.TCP_PCB[0]);
    return (uint16_t)(offset / sizeof stack->mem.TCP_PCB[0] + 1u);
}

/* tcp_input.c */
void kite__tcp_input(struct kite_stack *stack, struct kite_pbuf *p, const struct kite_ip_rx *rx);
void kite__tcp_apply_syn_options(struct kite_tcp_pcb *pcb, const struct kite_tcp_repr *hdr);

/* tcp_state.c: segment processing in synchronized states and SYN_RECEIVED. */
void kite__tcp_process(struct kite_tcp_pcb *pcb, struct tcp_seg *seg);
/**
 * The handshake completed: take its RTT sample when measured, reset the
 * retransmission state, enter ESTABLISHED and tell the application (accept
 * callback of the listener, or connected callback of an active open). False
 * when the application refused or closed the connection.
 */
bool kite__tcp_established(struct kite_tcp_pcb *pcb, const struct kite_tcp_repr *hdr,
                           bool measured);

/* tcp_output.c */
enum kite_err kite__tcp_output(struct kite_tcp_pcb *pcb);
enum kite_err kite__tcp_send_ack(struct kite_tcp_pcb *pcb);
enum kite_err kite__tcp_send_syn(struct kite_tcp_pcb *pcb);
/** Send a segment from [seq, seq+len) of the send queue (retransmission or new). */
enum kite_err kite__tcp_send_data(struct kite_tcp_pcb *pcb, uint32_t seq, uint32_t len);
/** A segment with no payload and no connection behind it (RST, cookie SYN-ACK). */
bool kite__tcp_send_bare(struct kite_stack *stack, uint32_t src, uint32_t dst,
                         struct kite_tcp_repr *h);
void kite__tcp_send_rst(struct kite_stack *stack, uint32_t src, uint16_t sport, uint32_t dst,
                        uint16_t dport, uint32_t seq, uint32_t ack, bool with_ack);
void kite__tcp_rst_for(struct kite_stack *stack, const struct tcp_seg *seg);
/** RST (with ACK of ack) to the peer of a connection, at the highest sequence sent. */
void kite__tcp_reset_peer(const struct kite_tcp_pcb *pcb, uint32_t ack);
void kite__tcp_send_keepalive(struct kite_tcp_pcb *pcb);
enum kite_err kite__tcp_send_window_probe(struct kite_tcp_pcb *pcb);
uint32_t kite__tcp_ts_now(const struct kite_tcp_pcb *pcb);
/** Data bytes in the send queue not yet sent. */
uint32_t kite__tcp_unsent(const struct kite_tcp_pcb *pcb);
void kite__tcp_ack_soon(struct kite_tcp_pcb *pcb, bool now);
#if KITE_TCP_ACK_BURST
void kite__tcp_burst_end(struct kite_stack *stack);
void kite__tcp_burst_forget(struct kite_tcp_pcb *pcb);
#endif

/* tcp_timers.c */
void kite__tcp_timers_init(struct kite_stack *stack);
void kite__tcp_timers_deinit(struct kite_stack *stack);
/** Make kind the pcb's pending timer, due in ms. */
void kite__tcp_timer_set(struct kite_tcp_pcb *pcb, enum kite_tcp_timer_kind kind, uint32_t ms);
void kite__tcp_timer_stop(struct kite_tcp_pcb *pcb);
/** Nothing in flight: arm keepalive if it applies, else no timer. */
void kite__tcp_timer_idle(struct kite_tcp_pcb *pcb);
/** The current retransmission timeout, before backoff (RFC 6298). */
uint32_t kite__tcp_rto(const struct kite_tcp_pcb *pcb);
void kite__tcp_rto_restart(struct kite_tcp_pcb *pcb);
void kite__tcp_rtt_sample(struct kite_tcp_pcb *pcb, uint32_t rtt_ms);
void kite__tcp_enter_time_wait(struct kite_tcp_pcb *pcb);
/** Owe an ACK: the delayed-ACK sweep sends it within KITE_TCP_DELACK_MS. */
void kite__tcp_delack(struct kite_tcp_pcb *pcb);
/** A pcb has a poll callback: make sure the poll sweep ticks. */
void kite__tcp_poll_start(struct kite_stack *stack);

/* tcp_reass.c */
/** Deliver in-order data / queue out-of-order data; returns true if anything in order was accepted.
 */
void kite__tcp_receive_data(struct kite_tcp_pcb *pcb, struct tcp_seg *seg);
void kite__tcp_ooo_free(struct kite_tcp_pcb *pcb);
/** Bytes held out of order (they count against the window we offer). */
uint32_t kite__tcp_ooo_bytes(const struct kite_tcp_pcb *pcb);
/** Pool pressure: drop every connection's out-of-order data (RFC 2018 8). */
unsigned kite__tcp_reclaim(struct kite_stack *stack);
/** Fill SACK blocks for an outgoing ACK (most recent first); returns the count. */
uint8_t kite__tcp_sack_blocks(const struct kite_tcp_pcb *pcb, struct kite_tcp_sack_block *out,
                              uint8_t max);

/* tcp_sack.c: the sender's scoreboard (RFC 6675). */
void kite__tcp_sack_update(struct kite_tcp_pcb *pcb, const struct kite_tcp_repr *hdr);
void kite__tcp_sack_ack(struct kite_tcp_pcb *pcb);
bool kite__tcp_sacked(const struct kite_tcp_pcb *pcb, uint32_t seq, uint32_t *end);
uint32_t kite__tcp_sacked_bytes(const struct kite_tcp_pcb *pcb);
bool kite__tcp_sack_loss_detected(const struct kite_tcp_pcb *pcb);
uint32_t kite__tcp_pipe(const struct kite_tcp_pcb *pcb);
/** RFC 6675 NextSeg(): a lost hole to retransmit; false if none. */
bool kite__tcp_next_lost(const struct kite_tcp_pcb *pcb, uint32_t *seq, uint32_t *len);
/** RFC 6675 NextSeg() rule 3: an unsacked hole below the highest SACK. */
bool kite__tcp_next_rescue(const struct kite_tcp_pcb *pcb, uint32_t *seq, uint32_t *len);
/** RFC 6675 HighRxt: retransmitted up to seq in this recovery. */
void kite__tcp_set_high_rxt(struct kite_tcp_pcb *pcb, uint32_t seq);

/* tcp_cc.c */
void kite__tcp_cc_init(struct kite_tcp_pcb *pcb);
void kite__tcp_cc_ack(struct kite_tcp_pcb *pcb, uint32_t acked);
/** False when no loss block could hold the recovery state. */
bool kite__tcp_cc_enter_recovery(struct kite_tcp_pcb *pcb);
void kite__tcp_cc_exit_recovery(struct kite_tcp_pcb *pcb);
void kite__tcp_cc_rto(struct kite_tcp_pcb *pcb);
void kite__tcp_cc_idle_restart(struct kite_tcp_pcb *pcb);
/** RFC 3168 6.1.2: an ECE answered by one window reduction per window of data. */
void kite__tcp_cc_ecn(struct kite_tcp_pcb *pcb);
/** The pcb's loss block, taken from the pool (or from an idle holder) if needed. */
struct kite_tcp_loss *kite__tcp_loss(struct kite_tcp_pcb *pcb);
void kite__tcp_loss_release(struct kite_tcp_pcb *pcb);
/** RFC 6582: may a loss start fast recovery (snd_una past the last recover point)? */
bool kite__tcp_recovery_allowed(const struct kite_tcp_pcb *pcb);

static inline uint32_t tcp_in_flight(const struct kite_tcp_pcb *pcb)
{
    return pcb->snd_max - pcb->snd_una;
}

/* The peer's window in bytes. */
static inline uint32_t tcp_snd_wnd(const struct kite_tcp_pcb *pcb)
{
    return (uint32_t)pcb->snd_wnd << pcb->snd_wscale;
}

static inline uint32_t tcp_max_snd_wnd(const struct kite_tcp_pcb *pcb)
{
    return (uint32_t)pcb->max_snd_wnd << pcb->snd_wscale;
}

/* Store a window the peer sent (already in its scale, or a SYN's unscaled
 * one, rounded down to our unit). */
static inline void tcp_set_snd_wnd(struct kite_tcp_pcb *pcb, uint32_t bytes)
{
    uint32_t units = bytes >> pcb->snd_wscale;
    pcb->snd_wnd = (uint16_t)(units < 0xffffu ? units : 0xffffu);
    if (pcb->snd_wnd > pcb->max_snd_wnd)
        pcb->max_snd_wnd = pcb->snd_wnd;
}

/* Where the FIN sits once sent (KITE_TCPF_FIN_SENT): it is the last sequence
 * number the connection ever uses. */
static inline uint32_t tcp_fin_seq(const struct kite_tcp_pcb *pcb)
{
    return pcb->snd_max - 1u;
}

/* The application's argument (a child not yet accepted has its listener's). */
static inline void *tcp_arg(const struct kite_tcp_pcb *pcb)
{
    return (pcb->flags & KITE_TCPF_CHILD) ? pcb->u.listener->arg : pcb->u.arg;
}

/* The callbacks, NULL where the table (or the entry) is missing. */
#define TCP_CB(pcb, name) ((pcb)->ops != NULL ? (pcb)->ops->name : NULL)

/* Buffer sizes in bytes. */
static inline uint32_t tcp_snd_buf(const struct kite_tcp_pcb *pcb)
{
    return (uint32_t)pcb->snd_buf * KITE_TCP_BUF_UNIT;
}

static inline uint32_t tcp_rcv_buf(const struct kite_tcp_pcb *pcb)
{
    return (uint32_t)pcb->rcv_buf * KITE_TCP_BUF_UNIT;
}

/* PBUF_POOL blocks kept in-order data leaves free: one, for a write on a
 * connection with nothing queued (tcp_pcb.c queue_copy). Without it a reader
 * that stops to write, on a pool its unread data fills, waits for ever. */
#define TCP_RX_SPARE_BLOCKS 1u

/* Blocks written data leaves free while the connection has data queued:
 * KITE_TCP_POOL_RESERVE, and at least enough for an arriving segment to be
 * kept with TCP_RX_SPARE_BLOCKS left (else two connections writing to each
 * other through small pools drop each other's data for ever). */
#define TCP_TX_RESERVE                                                                             \
    (KITE_TCP_POOL_RESERVE > TCP_RX_SPARE_BLOCKS ? KITE_TCP_POOL_RESERVE : TCP_RX_SPARE_BLOCKS + 1u)

/* The least worth announcing of a window that opens: half the buffer or one
 * MSS, whichever is less (receiver SWS avoidance, RFC 1122 4.2.3.3). */
static inline uint32_t tcp_sws_threshold(const struct kite_tcp_pcb *pcb)
{
    return tcp_rcv_buf(pcb) / 2 < pcb->mss ? tcp_rcv_buf(pcb) / 2 : pcb->mss;
}

/* The connection's keepalive setting, NULL when keepalive is off. */
static inline const struct kite_tcp_keepalive *tcp_keepalive(const struct kite_tcp_pcb *pcb)
{
    return pcb->keepalive != 0 ? &pcb->stack->tcp.keepalives[pcb->keepalive - 1u] : NULL;
}

#endif
