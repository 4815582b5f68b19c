/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lwip_peer: lwIP on a TAP device with the services kite-host offers for the
 * benchmarks, so that scripts/bench-vs-lwip.sh measures both stacks with the
 * same Linux programs, on the same TAP device, in the same run. lwIP is
 * Debian's liblwip-dev (lwIP 2.1.3), used through its raw callback API on
 * its tcpip thread; the unix port's tapif driver reads the TAP device on a
 * thread of its own and posts every frame to the tcpip thread's mailbox
 * (bench/lwip_tap.c brings it up).
 *
 *   TCP echo (RFC 862, port 7)   what arrives goes back, TCP_NODELAY; the
 *                                receive window reopens only as the bytes are
 *                                taken into the send buffer (tcp_recved)
 *   iperf2 sink (port 5001)      discards everything (a plain `iperf -c` only
 *                                sends); at the peer's FIN it prints
 *                                "lwip-peer: iperf N bytes in M ms, X Mbit/s"
 *   UDP echo (port 7)            each datagram back to its sender, unicast
 *                                only, never to port 7 or 0 (as kite-host)
 *   ping                         lwIP's ICMP answers echo requests itself
 *   --tcp-send ADDR:PORT:BYTES   connects out and streams BYTES of kite-host's
 *                                /bytes pattern (16-byte lines, line k is k in
 *                                15 lowercase hex digits and '\n'), made as
 *                                apps/kite-host/pattern.c makes it, so that
 *                                both stacks pay the same for their data
 *
 * --tcp-send, what is timed and printed: from connected to every byte
 * acknowledged, "lwip-peer: tcp-send done: A of B bytes acknowledged in M ms,
 * X Mbit/s" (kite-host's line with another prefix), or "... failed: ...".
 * Then FIN, and the program waits for the peer's FIN (the receiver read
 * everything and closed) or LINGER_MS, and exits: 0 when done, 1 when failed.
 * Data is written with TCP_WRITE_FLAG_COPY from the sent callback (Debian's
 * LWIP_NETIF_TX_SINGLE_PBUF makes tcp_write copy anyway, and
 * LWIP_CHECKSUM_ON_COPY computes the checksum while copying).
 *
 *   lwip_peer --tap IFNAME --ipv4 ADDR/PREFIX [--gw ADDR] [--mac MAC]
 *             [--tcp-send ADDR:PORT:BYTES]
 *
 * IFNAME must be an existing TAP device; --mac replaces tapif's fixed
 * 02:12:34:56:78:ab (give kite-host's and the Linux neighbour entry stays
 * right when the two stacks take turns on one address). Prints
 * "lwip-peer: up on IFNAME ADDR/PREFIX mac MAC" once it serves; runs until
 * SIGTERM or SIGINT (then prints its counters and CPU time and exits 0) or,
 * with --tcp-send, until the transfer ended. Exit 2 on bad arguments, 1 on a
 * start-up failure or a failed --tcp-send. Every service connection that
 * makes no progress for IDLE_LIMIT_MS is aborted.
 *
 * The lwIP configuration in effect: Debian's build (its lwipopts.h is the
 * GNU Hurd's, /usr/include/lwip/lwipopts.h; the rest are lwip/opt.h
 * defaults), as the compiler evaluates it here:
 *
 *   TCP       TCP_MSS 1460; TCP_WND 0xFFFF with LWIP_WND_SCALE 1 and
 *             TCP_RCV_SCALE 1 (a window of 64 KiB - 1 at most, whatever the
 *             scaling); TCP_SND_BUF 0xFFFF, TCP_SND_QUEUELEN 180 pbufs,
 *             TCP_SNDLOWAT 32767, TCP_OVERSIZE 1460, TCP_WND_UPDATE_THRESHOLD
 *             5840, TCP_QUEUE_OOSEQ 1, no SACK (LWIP_TCP_SACK_OUT 0), no
 *             timestamps, TCP_TMR_INTERVAL 250 ms (delayed ACKs and the
 *             poll callback run on it), TCP_MAXRTX 12, TCP_SYNMAXRTX 6,
 *             TCP_LISTEN_BACKLOG 0 (the backlog is not enforced), keepalive on
 *   memory    MEM_LIBC_MALLOC 1, MEMP_MEM_MALLOC 1: the heap and every pool
 *             come from malloc(), so MEMP_NUM_TCP_PCB (5), MEMP_NUM_TCP_SEG
 *             (16), MEMP_NUM_UDP_PCB (4), PBUF_POOL_SIZE (16 x 1536 bytes)
 *             and MEM_SIZE (1600) set no limit
 *   threads   NO_SYS 0, LWIP_TCPIP_CORE_LOCKING 1 (this program's start-up
 *             and final report take the core lock; every callback below
 *             runs on the tcpip thread), LWIP_TCPIP_CORE_LOCKING_INPUT 0
 *             (tapif posts each frame to the tcpip thread's mailbox)
 *   link      tapif: one read() or write() per frame through a 1518-byte
 *             buffer, MTU 1500, no virtio-net header (no TSO, no checksum
 *             offload: CHECKSUM_GEN/CHECK_TCP 1), LWIP_NETIF_TX_SINGLE_PBUF 1
 *   other     LWIP_CHECKSUM_ON_COPY 1, ARP_QUEUEING 1, IPv6 on (unused),
 *             LWIP_STATS 0 (hence this program's own counters),
 *             LWIP_RAND() = rand(), seeded at start-up
 *
 * and the PBUF_POOL block size of Debian's build repaired (bench/lwip_tap.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lwip/opt.h"
#include "lwip/ip.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"
#include "lwip/udp.h"
#include "lwip_tap.h"

#define PROG "lwip-peer"
#define ECHO_PORT 7u
#define IPERF_PORT 5001u
#define LISTEN_BACKLOG 4u
#define IDLE_LIMIT_MS 30000u
#define LINGER_MS 2000u  /* --tcp-send: how long to wait for the peer's FIN */
#define POLL_INTERVAL 2u /* tcp_poll, in TCP coarse timer ticks (2 x 500 ms) */
#define SEND_BUF 65535u  /* pattern bytes made per tcp_write at most */
#define MAX_BYTES (1ull << 40)
#define BYTES_LINE 16u

enum service { SVC_ECHO, SVC_SINK, SVC_SEND };

struct peer_conn {
    enum service service;
    struct tcp_pcb *pcb;
    struct pbuf *pending; /* echo: received, not yet taken into the send buffer */
    u16_t pending_off;    /* bytes of pending's first pbuf already taken */
    bool peer_fin;
    bool fin_sent;
    bool done; /* send: every byte acknowledged */
    uint64_t rx_bytes;
    uint64_t queued, acked; /* send */
    u32_t started_ms, last_progress_ms, done_ms;
};

struct peer_options {
    struct lwip_tap_config net;
    bool tcp_send;
    ip4_addr_t send_addr;
    u16_t send_port;
    uint64_t send_bytes;
};

/* Counters; written on the tcpip thread, read by main under the core lock. */
struct peer_counters {
    uint64_t tcp_accepted, tcp_refused, tcp_closed, tcp_reset, tcp_timeouts;
    uint64_t echo_bytes, sink_bytes, sink_sessions;
    uint64_t udp_echoed, udp_echo_failed;
};

/* Programs may have globals (the library may not); lwIP's callbacks get this. */
static struct peer {
    struct peer_options opt;
    struct netif netif;
    struct peer_counters n;
    int send_status; /* -1 running or not asked, 0 done, 1 failed */
} peer = {.send_status = -1};

/* ---- options -------------------------------------------------------------------------------- */

static void usage(FILE *out, int status) __attribute__((noreturn));

static void usage(FILE *out, int status)
{
    fprintf(out, "usage: lwip_peer --tap IFNAME --ipv4 ADDR/PREFIX [--gw ADDR] [--mac MAC]\n"
                 "                 [--tcp-send ADDR:PORT:BYTES]\n"
                 "  lwIP 2.1.3 (Debian's liblwip) on the existing TAP device IFNAME, raw API:\n"
                 "  TCP echo (7), an iperf2 sink (5001), UDP echo (7), ping. --tcp-send streams\n"
                 "  BYTES of kite-host's /bytes pattern to ADDR:PORT, then exits (0 done, 1\n"
                 "  failed). Otherwise runs until SIGTERM/SIGINT, then prints its counters\n"
                 "  and exits 0. Exit 2 on bad arguments.\n");
    exit(status);
}

/* ADDR:PORT:BYTES */
static bool parse_tcp_send(const char *text, struct peer_options *opt)
{
    char addr[INET_ADDRSTRLEN];
    const char *c1 = strchr(text, ':');
    const char *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
    char port[8];
    unsigned long value;
    char *end;

    if (c2 == NULL || (size_t)(c1 - text) >= sizeof(addr) ||
        (size_t)(c2 - c1 - 1) >= sizeof(port)) {
        fprintf(stderr, PROG ": --tcp-send wants ADDR:PORT:BYTES, got '%s'\n", text);
        return false;
    }
    memcpy(addr, text, (size_t)(c1 - text));
    addr[c1 - text] = '\0';
    memcpy(port, c1 + 1, (size_t)(c2 - c1 - 1));
    port[c2 - c1 - 1] = '\0';
    if (!lwip_tap_parse_ip4(PROG, addr, &opt->send_addr) ||
        !lwip_tap_parse_number(PROG, port, 1, 65535, &value))
        return false;
    opt->send_port = (u16_t)value;
    if (c2[1] < '0' || c2[1] > '9') {
        fprintf(stderr, PROG ": bad byte count '%s'\n", c2 + 1);
        return false;
    }
    errno = 0;
    opt->send_bytes = strtoull(c2 + 1, &end, 10);
    if (errno != 0 || *end != '\0' || opt->send_bytes == 0 || opt->send_bytes > MAX_BYTES) {
        fprintf(stderr, PROG ": bad byte count '%s' (1..%llu)\n", c2 + 1, MAX_BYTES);
        return false;
    }
    opt->tcp_send = true;
    return true;
}

static void parse_options(int argc, char **argv, struct peer_options *opt)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok;

        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            usage(stdout, 0);
        if (value == NULL)
            usage(stderr, 2);
        i++;
        if (strcmp(arg, "--tap") == 0) {
            opt->net.tap = value;
            ok = true;
        } else if (strcmp(arg, "--ipv4") == 0) {
            ok = lwip_tap_parse_prefix(PROG, value, &opt->net);
        } else if (strcmp(arg, "--gw") == 0) {
            ok = lwip_tap_parse_ip4(PROG, value, &opt->net.gw);
        } else if (strcmp(arg, "--mac") == 0) {
            ok = lwip_tap_parse_mac(PROG, value, &opt->net);
        } else if (strcmp(arg, "--tcp-send") == 0) {
            ok = parse_tcp_send(value, opt);
        } else {
            fprintf(stderr, PROG ": unknown option '%s'\n", arg);
            ok = false;
        }
        if (!ok)
            usage(stderr, 2);
    }
    if (opt->net.tap == NULL || !opt->net.have_addr)
        usage(stderr, 2);
}

/* ---- connections ---------------------------------------------------------------------------- */

static u32_t elapsed_ms(u32_t since)
{
    return sys_now() - since;
}

static double mbit_per_s(uint64_t bytes, u32_t ms)
{
    return ms > 0 ? (double)bytes * 8.0 / ((double)ms * 1000.0) : 0.0;
}

static void conn_free(struct peer_conn *c)
{
    if (c->pending != NULL)
        pbuf_free(c->pending);
    free(c);
}

/* conn_detach: the pcb forgets c (no callback will name it again). */
static void conn_detach(struct peer_conn *c)
{
    tcp_arg(c->pcb, NULL);
    tcp_recv(c->pcb, NULL);
    tcp_sent(c->pcb, NULL);
    tcp_err(c->pcb, NULL);
    tcp_poll(c->pcb, NULL, 0);
}

/*
 * conn_close: close the pcb and free c. A close that fails (no memory for
 * the FIN) becomes an abort: the connection must not outlive its object.
 * Returns what a callback must return then: ERR_ABRT after an abort.
 */
static err_t conn_close(struct peer_conn *c)
{
    err_t result = ERR_OK;

    conn_detach(c);
    if (tcp_close(c->pcb) != ERR_OK) {
        tcp_abort(c->pcb);
        result = ERR_ABRT;
    }
    peer.n.tcp_closed++;
    conn_free(c);
    return result;
}

/* ---- echo ----------------------------------------------------------------------------------- */

/*
 * echo_flush: take pending bytes into the send buffer (copied), as far as it
 * has room, and reopen the receive window by what was taken. Once the peer
 * closed and everything is taken, close too (c is then freed). Returns what
 * the calling callback returns.
 */
static err_t echo_flush(struct peer_conn *c)
{
    bool wrote = false;

    while (c->pending != NULL) {
        struct pbuf *q = c->pending;
        u16_t left = (u16_t)(q->len - c->pending_off);
        u16_t room = tcp_sndbuf(c->pcb);
        u16_t n = left < room ? left : room;

        if (left > 0) {
            if (n == 0 || tcp_write(c->pcb, (const u8_t *)q->payload + c->pending_off, n,
                                    TCP_WRITE_FLAG_COPY) != ERR_OK)
                break;
            tcp_recved(c->pcb, n);
            c->pending_off = (u16_t)(c->pending_off + n);
            peer.n.echo_bytes += n;
            wrote = true;
            if (n < left)
                break;
        }
        /* q is taken: unlink it (its successor keeps one reference, the chain's). */
        c->pending = q->next;
        if (q->next != NULL)
            pbuf_ref(q->next);
        pbuf_free(q);
        c->pending_off = 0;
    }
    if (wrote)
        tcp_output(c->pcb);
    if (c->peer_fin && c->pending == NULL)
        return conn_close(c);
    return ERR_OK;
}

/* ---- callbacks of every service connection -------------------------------------------------- */

static err_t send_finish(struct peer_conn *c, bool ok, const char *why);
static err_t send_fill(struct peer_conn *c);

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct peer_conn *c = arg;

    if (p != NULL && err != ERR_OK) {
        pbuf_free(p);
        return err;
    }
    c->last_progress_ms = sys_now();
    if (p == NULL) {
        c->peer_fin = true;
        if (c->service == SVC_ECHO)
            return echo_flush(c);
        if (c->service == SVC_SINK) {
            u32_t ms = elapsed_ms(c->started_ms);
            printf(PROG ": iperf %" PRIu64 " bytes in %" PRIu32 " ms, %.1f Mbit/s\n", c->rx_bytes,
                   ms, mbit_per_s(c->rx_bytes, ms));
            return conn_close(c);
        }
        return send_finish(c, c->done, "the peer closed before every byte was acknowledged");
    }
    c->rx_bytes += p->tot_len;
    if (c->service == SVC_ECHO) {
        if (c->pending == NULL)
            c->pending = p;
        else
            pbuf_cat(c->pending, p);
        return echo_flush(c);
    }
    /* The sink, and anything the receiver of --tcp-send says: discarded. */
    if (c->service == SVC_SINK)
        peer.n.sink_bytes += p->tot_len;
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
    struct peer_conn *c = arg;

    /* lwIP freed the pcb already. */
    if (c->service == SVC_SEND) {
        char why[64];
        snprintf(why, sizeof(why), "connection %s (%d)",
                 err == ERR_RST    ? "reset"
                 : err == ERR_ABRT ? "aborted"
                                   : "failed",
                 (int)err);
        c->pcb = NULL;
        (void)send_finish(c, c->done && c->fin_sent, why);
        return;
    }
    peer.n.tcp_reset++;
    conn_free(c);
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    struct peer_conn *c = arg;

    (void)pcb;
    c->last_progress_ms = sys_now();
    if (c->service == SVC_ECHO)
        return echo_flush(c);
    if (c->service == SVC_SEND) {
        c->acked += len;
        return send_fill(c);
    }
    return ERR_OK;
}

static err_t on_poll(void *arg, struct tcp_pcb *pcb)
{
    struct peer_conn *c = arg;

    if (c->service == SVC_SEND && c->done) {
        if (elapsed_ms(c->done_ms) >= LINGER_MS)
            return send_finish(c, true, NULL); /* the peer keeps its side open: enough */
        return ERR_OK;
    }
    if (elapsed_ms(c->last_progress_ms) >= IDLE_LIMIT_MS) {
        peer.n.tcp_timeouts++;
        tcp_abort(pcb); /* on_err frees c */
        return ERR_ABRT;
    }
    if (c->service == SVC_ECHO)
        return echo_flush(c);
    if (c->service == SVC_SEND)
        return send_fill(c);
    return ERR_OK;
}

static struct peer_conn *conn_new(struct tcp_pcb *pcb, enum service service)
{
    struct peer_conn *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->service = service;
    c->pcb = pcb;
    c->started_ms = c->last_progress_ms = sys_now();
    tcp_arg(pcb, c);
    tcp_recv(pcb, on_recv);
    tcp_sent(pcb, on_sent);
    tcp_err(pcb, on_err);
    tcp_poll(pcb, on_poll, POLL_INTERVAL);
    return c;
}

/* ---- listeners ------------------------------------------------------------------------------ */

static err_t accept_service(struct tcp_pcb *pcb, err_t err, enum service service)
{
    struct peer_conn *c;

    if (err != ERR_OK || pcb == NULL)
        return ERR_VAL;
    c = conn_new(pcb, service);
    if (c == NULL) {
        peer.n.tcp_refused++;
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    peer.n.tcp_accepted++;
    if (service == SVC_ECHO)
        tcp_nagle_disable(pcb); /* echo at once, whatever the size (as kite-host) */
    else
        peer.n.sink_sessions++;
    return ERR_OK;
}

static err_t echo_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    return accept_service(pcb, err, SVC_ECHO);
}

static err_t sink_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    return accept_service(pcb, err, SVC_SINK);
}

static bool listen_on(u16_t port, tcp_accept_fn accept)
{
    struct tcp_pcb *pcb = tcp_new();
    struct tcp_pcb *listener;
    err_t err;

    if (pcb == NULL) {
        fprintf(stderr, PROG ": no TCP pcb for port %u\n", (unsigned)port);
        return false;
    }
    err = tcp_bind(pcb, IP4_ADDR_ANY, port);
    if (err != ERR_OK) {
        fprintf(stderr, PROG ": TCP bind %u: error %d\n", (unsigned)port, (int)err);
        tcp_close(pcb);
        return false;
    }
    listener = tcp_listen_with_backlog_and_err(pcb, LISTEN_BACKLOG, &err);
    if (listener == NULL) {
        fprintf(stderr, PROG ": TCP listen %u: error %d\n", (unsigned)port, (int)err);
        tcp_close(pcb);
        return false;
    }
    tcp_accept(listener, accept);
    return true;
}

/* ---- UDP echo ------------------------------------------------------------------------------- */

/* RFC 862: every datagram back where it came from; unicast to us only, and
 * never to another echo service or port 0 (as kite-host). */
static void udp_echo_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                          u16_t port)
{
    (void)arg;
    if (!ip_current_is_v6() && ip4_addr_cmp(ip4_current_dest_addr(), netif_ip4_addr(&peer.netif)) &&
        port != ECHO_PORT && port != 0) {
        if (udp_sendto(pcb, p, addr, port) == ERR_OK)
            peer.n.udp_echoed++;
        else
            peer.n.udp_echo_failed++;
    }
    pbuf_free(p);
}

static bool udp_echo_start(void)
{
    struct udp_pcb *pcb = udp_new();
    err_t err;

    if (pcb == NULL) {
        fprintf(stderr, PROG ": no UDP pcb\n");
        return false;
    }
    err = udp_bind(pcb, IP4_ADDR_ANY, ECHO_PORT);
    if (err != ERR_OK) {
        fprintf(stderr, PROG ": UDP bind %u: error %d\n", ECHO_PORT, (int)err);
        udp_remove(pcb);
        return false;
    }
    udp_recv(pcb, udp_echo_recv, NULL);
    return true;
}

/* ---- --tcp-send ----------------------------------------------------------------------------- */

/* Character col (0..15) of line `line` of kite-host's /bytes pattern. */
static uint8_t pattern_at(uint64_t line, unsigned col)
{
    static const char hex[] = "0123456789abcdef";

    if (col == BYTES_LINE - 1u)
        return '\n';
    return (uint8_t)hex[(line >> (4u * (14u - col))) & 0xfu];
}

/*
 * pattern_bytes: bytes [offset, offset + n) of the pattern, made the way
 * apps/kite-host/pattern.c makes them, so that both senders pay alike for
 * their data: whole lines are copied from the line's text, which changes
 * only in its last two hex digits within a run of 256 lines; partial lines
 * byte by byte.
 */
static void pattern_bytes(uint8_t *dst, uint64_t offset, uint32_t n)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t line = offset / BYTES_LINE;
    unsigned col = (unsigned)(offset % BYTES_LINE);
    uint8_t text[BYTES_LINE];
    bool fresh = true;
    uint32_t i = 0;

    for (; i < n && col != 0; i++) {
        dst[i] = pattern_at(line, col);
        if (++col == BYTES_LINE) {
            col = 0;
            line++;
        }
    }
    for (; n - i >= BYTES_LINE; i += BYTES_LINE, line++) {
        if (fresh || (line & 0xffu) == 0) {
            for (unsigned k = 0; k < BYTES_LINE; k++)
                text[k] = pattern_at(line, k);
            fresh = false;
        }
        memcpy(dst + i, text, BYTES_LINE);
        dst[i + 13u] = (uint8_t)hex[(line >> 4) & 0xfu];
        dst[i + 14u] = (uint8_t)hex[line & 0xfu];
    }
    for (col = 0; i < n; i++, col++)
        dst[i] = pattern_at(line, col);
}

static void report_send(const struct peer_conn *c, bool ok)
{
    u32_t ms = (c->done ? c->done_ms : sys_now()) - c->started_ms;

    printf(PROG ": tcp-send %s: %" PRIu64 " of %" PRIu64 " bytes acknowledged in %" PRIu32
                " ms, %.1f Mbit/s\n",
           ok ? "done" : "failed", c->acked, peer.opt.send_bytes, ms, mbit_per_s(c->acked, ms));
}

/*
 * send_finish: the transfer is over, well or not: close (or forget: on_err
 * already freed the pcb), record the outcome and wake the main thread, which
 * takes the core lock (so this input's output is out) and exits. Returns
 * what the calling callback returns.
 */
static err_t send_finish(struct peer_conn *c, bool ok, const char *why)
{
    err_t result = ERR_OK;

    if (why != NULL && !ok)
        fprintf(stderr, PROG ": tcp-send: %s\n", why);
    if (!c->done || !ok)
        report_send(c, ok);
    if (c->pcb != NULL)
        result = conn_close(c);
    else
        conn_free(c);
    peer.send_status = ok ? 0 : 1;
    kill(getpid(), SIGUSR1);
    return result;
}

/* send_fill: queue pattern bytes as far as the send buffer allows, then FIN. */
static err_t send_fill(struct peer_conn *c)
{
    static uint8_t buf[SEND_BUF];
    uint64_t total = peer.opt.send_bytes;

    while (c->queued < total) {
        u16_t room = tcp_sndbuf(c->pcb);
        uint64_t left = total - c->queued;
        u16_t n = left < room ? (u16_t)left : room;
        err_t err;

        if (n == 0)
            break;
        pattern_bytes(buf, c->queued, n);
        err = tcp_write(c->pcb, buf, n, TCP_WRITE_FLAG_COPY | (n < left ? TCP_WRITE_FLAG_MORE : 0));
        if (err == ERR_MEM)
            break; /* the queue is full: the sent or poll callback comes back */
        if (err != ERR_OK)
            return send_finish(c, false, "tcp_write failed");
        c->queued += n;
    }
    if (c->queued == total && !c->fin_sent && tcp_shutdown(c->pcb, 0, 1) == ERR_OK)
        c->fin_sent = true;
    tcp_output(c->pcb);
    if (c->acked >= total && !c->done) {
        c->done = true;
        c->done_ms = sys_now();
        report_send(c, true);
    }
    return ERR_OK;
}

static err_t send_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct peer_conn *c = arg;

    (void)pcb;
    (void)err; /* always ERR_OK: a failed connect goes to on_err */
    c->started_ms = c->last_progress_ms = sys_now();
    return send_fill(c);
}

static bool send_start(void)
{
    struct tcp_pcb *pcb = tcp_new();
    struct peer_conn *c;
    ip_addr_t dst;
    err_t err;

    if (pcb == NULL || (c = conn_new(pcb, SVC_SEND)) == NULL) {
        fprintf(stderr, PROG ": tcp-send: no pcb\n");
        if (pcb != NULL)
            tcp_close(pcb);
        return false;
    }
    ip_addr_copy_from_ip4(dst, peer.opt.send_addr);
    err = tcp_connect(pcb, &dst, peer.opt.send_port, send_connected);
    if (err != ERR_OK) {
        fprintf(stderr, PROG ": tcp-send: connect: error %d\n", (int)err);
        conn_detach(c);
        tcp_abort(pcb);
        conn_free(c);
        return false;
    }
    return true;
}

/* ---- main ----------------------------------------------------------------------------------- */

static bool services_start(void)
{
    bool ok =
        listen_on(ECHO_PORT, echo_accept) && listen_on(IPERF_PORT, sink_accept) && udp_echo_start();

    return ok && (!peer.opt.tcp_send || send_start());
}

static void announce(void)
{
    char addr[INET_ADDRSTRLEN];
    const u8_t *m = peer.netif.hwaddr;
    struct in_addr in = {.s_addr = peer.opt.net.addr.addr};
    unsigned prefix = (unsigned)__builtin_popcount(peer.opt.net.netmask.addr);

    inet_ntop(AF_INET, &in, addr, sizeof(addr));
    printf(PROG ": up on %s %s/%u mac %02x:%02x:%02x:%02x:%02x:%02x\n", peer.opt.net.tap, addr,
           prefix, m[0], m[1], m[2], m[3], m[4], m[5]);
}

static double seconds_of(struct timeval t)
{
    return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

/* report: the counters (taken under the core lock) and the process's CPU time, all threads. */
static void report(const struct peer_counters *n)
{
    struct rusage usage;

    printf(PROG ": tcp accepted %" PRIu64 " refused %" PRIu64 " closed %" PRIu64 " reset %" PRIu64
                " timeouts %" PRIu64 "; echo %" PRIu64 " bytes; sink %" PRIu64 " bytes in %" PRIu64
                " connections; udp echoed %" PRIu64 " failed %" PRIu64 "\n",
           n->tcp_accepted, n->tcp_refused, n->tcp_closed, n->tcp_reset, n->tcp_timeouts,
           n->echo_bytes, n->sink_bytes, n->sink_sessions, n->udp_echoed, n->udp_echo_failed);
    if (getrusage(RUSAGE_SELF, &usage) == 0)
        printf(PROG ": cpu user %.3f s system %.3f s\n", seconds_of(usage.ru_utime),
               seconds_of(usage.ru_stime));
}

int main(int argc, char **argv)
{
    struct peer_counters counters;
    sigset_t stop;
    int sig = 0, status;
    bool ok;

    parse_options(argc, argv, &peer.opt);
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* Blocked here, before lwIP's threads exist, so that they inherit the
     * mask and only sigwait() below takes these signals. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGUSR1); /* send_finish: the transfer is over */
    if (pthread_sigmask(SIG_BLOCK, &stop, NULL) != 0) {
        fprintf(stderr, PROG ": pthread_sigmask failed\n");
        return 1;
    }
    lwip_tap_start(PROG, &peer.netif, &peer.opt.net);
    LOCK_TCPIP_CORE();
    ok = services_start();
    UNLOCK_TCPIP_CORE();
    if (!ok)
        return 1;
    announce();
    for (;;) {
        if (sigwait(&stop, &sig) != 0)
            continue;
        if (sig != SIGUSR1)
            break;
        LOCK_TCPIP_CORE();
        status = peer.send_status;
        UNLOCK_TCPIP_CORE();
        if (status >= 0)
            break;
    }
    /* Held to the end: lwIP does nothing more while the process exits. */
    LOCK_TCPIP_CORE();
    counters = peer.n;
    status = peer.opt.tcp_send ? (peer.send_status == 0 ? 0 : 1) : 0;
    if (sig != SIGUSR1 && peer.opt.tcp_send && peer.send_status < 0)
        fprintf(stderr, PROG ": stopped by signal %d before --tcp-send completed\n", sig);
    report(&counters);
    fflush(stdout);
    fflush(stderr);
    _exit(status);
}
