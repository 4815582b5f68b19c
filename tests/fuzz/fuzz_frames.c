/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness: raw frames and IP packets into a whole stack instance.
 *
 * Each input gets a fresh stack (no state survives between inputs) with an
 * Ethernet netif (192.0.2.2/24) and an IP-level netif (198.51.100.2/24), both
 * discarding what they send, a UDP echo pcb on port 7 and a pcb connected to
 * 192.0.2.1:5000, a TCP listener on port 80 whose connections echo what they
 * receive and close on FIN, and a TCP connection being opened from port 5002
 * to 192.0.2.1:5000 (its SYN is out before the input; 192.0.2.1 is a static
 * ARP entry). The input is either
 *
 *   - a script: the byte 0xfe, then records [op][len hi][len lo][len bytes]
 *     (see enum op; OP_ACD starts address conflict detection or AutoIP on
 *     the Ethernet netif), which must cover the input exactly; or
 *   - anything else: one whole frame, given to the IP netif when it starts
 *     like an IPv4 header (version 4) and to the Ethernet netif otherwise.
 *
 * 0xfe cannot start a frame for us (it is not our MAC, nor broadcast or
 * multicast) nor a valid IPv4 packet, so a raw frame never reads as a script.
 * At the end every TCP connection is aborted, the listener closed and time
 * run forward past 2 MSL (TIME_WAIT and closing connections drain), then every
 * pcb and netif is removed and the stack deinitialised; any pool block still
 * in use is a leak and aborts.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "kite/kite.h"

#define SCRIPT_MAGIC 0xfeu
#define ECHO_PORT 7u
#define LOCAL_PORT 5001u
#define PEER_PORT 5000u
#define TCP_PORT 80u
#define TCP_LOCAL_PORT 5002u
#define TCP_SLOTS KITE_TCP_PCB_COUNT
#define START_TIME 1000000u
#define MAX_POLL_STEP_MS 600000u

enum op {
    OP_ETH_FRAME = 0, /* inject the bytes as a frame on the Ethernet netif */
    OP_IP_PACKET = 1, /* inject the bytes as a packet on the IP netif */
    OP_ADVANCE = 2,   /* advance time by len ms and poll; no bytes follow */
    OP_ETH_POLL = 3,  /* inject on Ethernet, then run the next timer due */
    OP_UDP_SEND = 4,  /* send the bytes from the connected pcb (ARP, queueing) */
    OP_TCP_SEND = 5,  /* write the bytes on the active TCP connection and output */
    OP_TCP_CLOSE = 6, /* close the active TCP connection (graceful) */
    OP_ACD = 7,       /* len even: claim 192.0.2.2 again with ACD probing; odd: start AutoIP */
    OP__COUNT
};

struct fuzz {
    struct kite_stack stack;
    struct kite_netif eth;
    struct kite_netif ip;
    struct kite_udp_pcb *echo;
    struct kite_udp_pcb *conn;
    struct kite_tcp_listener *listener;
    struct kite_tcp_pcb *tcp[TCP_SLOTS]; /* [0]: active open, then accepted; &tcp[i] is the arg */
    kite_time_ms now;
    uint32_t sink; /* sum of every byte sent, so each one is read (ASan) */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Driver transmit: read every byte of the chain, check it, keep nothing. */
static enum kite_err discard_output(struct kite_netif *netif, struct kite_pbuf *p)
{
    struct fuzz *f = netif->driver;
    uint32_t total = 0;

    if (!kite_pbuf_check(p)) {
        abort();
    }
    for (const struct kite_pbuf *q = p; q != NULL; q = q->next) {
        for (uint16_t i = 0; i < q->len; i++) {
            f->sink += q->payload[i];
        }
        total += q->len;
    }
    if (total != p->tot_len) {
        abort();
    }
    return KITE_ERR_OK;
}

static void echo_recv(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                      const struct kite_addr *src, uint16_t src_port, const struct kite_addr *dst)
{
    (void)arg;
    (void)dst;
    (void)kite_udp_sendto(pcb, p, src, src_port);
    kite_pbuf_free(pcb->stack, p);
}

static void drop_recv(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                      const struct kite_addr *src, uint16_t src_port, const struct kite_addr *dst)
{
    (void)arg;
    (void)src;
    (void)src_port;
    (void)dst;
    kite_pbuf_free(pcb->stack, p);
}

/* ---- TCP: an echo service and an active open --------------------------- */

static void tcp_err(void *arg, enum kite_err err)
{
    struct kite_tcp_pcb **slot = arg;

    (void)err;
    *slot = NULL; /* already freed by the stack */
}

static void tcp_echo_recv(void *arg, struct kite_tcp_pcb *pcb, struct kite_pbuf *p)
{
    struct kite_tcp_pcb **slot = arg;
    uint8_t buf[1500];

    if (p == NULL) {
        *slot = NULL;
        (void)kite_tcp_close(pcb); /* freed by the stack when done */
        return;
    }
    uint16_t len = kite_pbuf_copy_out(p, buf, sizeof(buf), 0);
    uint16_t tot = p->tot_len;
    kite_pbuf_free(pcb->stack, p);
    kite_tcp_recved(pcb, tot);
    (void)kite_tcp_write(pcb, buf, len, KITE_TCP_WRITE_COPY); /* may refuse: fine */
    (void)kite_tcp_output(pcb);
}

static void tcp_connected(void *arg, struct kite_tcp_pcb *pcb);

static const struct kite_tcp_ops conn_ops = {
    .connected = tcp_connected, .recv = tcp_echo_recv, .err = tcp_err};

static void tcp_attach(struct fuzz *f, unsigned i, struct kite_tcp_pcb *pcb)
{
    f->tcp[i] = pcb;
    kite_tcp_arg(pcb, &f->tcp[i]);
    kite_tcp_set_ops(pcb, &conn_ops);
}

static enum kite_err tcp_accept(void *arg, struct kite_tcp_pcb *newpcb)
{
    struct fuzz *f = arg;

    for (unsigned i = 1; i < TCP_SLOTS; i++) {
        if (f->tcp[i] == NULL) {
            tcp_attach(f, i, newpcb);
            return KITE_ERR_OK;
        }
    }
    return KITE_ERR_MEM; /* the stack aborts it */
}

static void tcp_connected(void *arg, struct kite_tcp_pcb *pcb)
{
    static const char hello[] = "GET / HTTP/1.0\r\n\r\n";

    (void)arg;
    (void)kite_tcp_write(pcb, hello, (uint16_t)(sizeof(hello) - 1u), KITE_TCP_WRITE_COPY);
    (void)kite_tcp_output(pcb);
}

static int setup_tcp(struct fuzz *f)
{
    const struct kite_addr peer = KITE_ADDR_V4(KITE_IP4(192, 0, 2, 1));
    struct kite_tcp_pcb *active;

    static const struct kite_tcp_ops listen_ops = {.accept = tcp_accept};
    struct kite_tcp_pcb *pcb = kite_tcp_new(&f->stack);
    if (pcb == NULL || kite_tcp_bind(pcb, NULL, TCP_PORT) != KITE_ERR_OK) {
        return -1;
    }
    kite_tcp_arg(pcb, f);
    kite_tcp_set_ops(pcb, &listen_ops);
    f->listener = kite_tcp_listen(pcb, 2, NULL);
    if (f->listener == NULL) {
        return -1;
    }
    active = kite_tcp_new(&f->stack);
    if (active == NULL || kite_tcp_bind(active, NULL, TCP_LOCAL_PORT) != KITE_ERR_OK) {
        return -1;
    }
    tcp_attach(f, 0, active);
    if (kite_tcp_set_keepalive(active, 5000, 1000, 3) != KITE_ERR_OK) {
        return -1;
    }
    return kite_tcp_connect(active, &peer, PEER_PORT) == KITE_ERR_OK ? 0 : -1;
}

static void tcp_send(struct fuzz *f, const uint8_t *bytes, uint16_t len)
{
    if (f->tcp[0] == NULL) {
        return;
    }
    (void)kite_tcp_write(f->tcp[0], bytes, len, KITE_TCP_WRITE_COPY);
    (void)kite_tcp_output(f->tcp[0]);
}

static void tcp_close_active(struct fuzz *f)
{
    struct kite_tcp_pcb *pcb = f->tcp[0];

    if (pcb != NULL && kite_tcp_close(pcb) == KITE_ERR_OK) {
        f->tcp[0] = NULL;
    }
}

static int setup_netifs(struct fuzz *f)
{
    static const uint8_t mac[KITE_ETH_ADDR_LEN] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
    static const uint8_t peer_mac[KITE_ETH_ADDR_LEN] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

    if (kite_netif_add_ethernet(&f->stack, &f->eth, "eth0", mac, 1500, discard_output, f) !=
        KITE_ERR_OK) {
        return -1;
    }
    kite_netif_set_up(&f->eth, true);
    if (kite_netif_set_ipv4(&f->eth, KITE_IP4(192, 0, 2, 2), 24, KITE_IP4(192, 0, 2, 1)) !=
        KITE_ERR_OK) {
        return -1;
    }
    kite_netif_set_default(&f->stack, &f->eth);
    if (kite_arp_add_static(&f->eth, KITE_IP4(192, 0, 2, 1), peer_mac) != KITE_ERR_OK) {
        return -1;
    }
    if (kite_netif_add_ip(&f->stack, &f->ip, "ip0", 1500, discard_output, f) != KITE_ERR_OK) {
        return -1;
    }
    kite_netif_set_up(&f->ip, true);
    return kite_netif_set_ipv4(&f->ip, KITE_IP4(198, 51, 100, 2), 24, 0) == KITE_ERR_OK ? 0 : -1;
}

static int setup_pcbs(struct fuzz *f)
{
    const struct kite_addr peer = KITE_ADDR_V4(KITE_IP4(192, 0, 2, 1));

    f->echo = kite_udp_new(&f->stack);
    f->conn = kite_udp_new(&f->stack);
    if (f->echo == NULL || f->conn == NULL) {
        return -1;
    }
    if (kite_udp_bind(f->echo, NULL, ECHO_PORT) != KITE_ERR_OK ||
        kite_udp_bind(f->conn, NULL, LOCAL_PORT) != KITE_ERR_OK ||
        kite_udp_connect(f->conn, &peer, PEER_PORT) != KITE_ERR_OK) {
        return -1;
    }
    kite_udp_recv(f->echo, echo_recv, f);
    kite_udp_recv(f->conn, drop_recv, f);
#if KITE_IGMP
    /* Group state for IGMP input to work on: 239.1.2.3 any source, 239.1.2.4
     * from the peer only (a group-and-source query has sources to match). */
    const struct kite_addr group = KITE_ADDR_V4(KITE_IP4(239, 1, 2, 3));
    if (kite_udp_join(f->echo, &group, &f->eth) != KITE_ERR_OK ||
        kite_igmp_source(&f->eth, f->echo, KITE_IP4(239, 1, 2, 4), KITE_IP4(192, 0, 2, 1),
                         KITE_IGMP_INCLUDE, true) != KITE_ERR_OK) {
        return -1;
    }
#endif
    return 0;
}

static struct fuzz *fuzz_new(void)
{
    struct fuzz *f = calloc(1, sizeof(*f));
    const struct kite_stack_config cfg = {.seed = 1, .now = START_TIME};

    if (f == NULL) {
        abort();
    }
    f->now = START_TIME;
    if (kite_stack_init(&f->stack, &cfg) != KITE_ERR_OK || setup_netifs(f) != 0 ||
        setup_pcbs(f) != 0 || setup_tcp(f) != 0) {
        abort(); /* the fixture itself must always work */
    }
    return f;
}

/* Abort every connection, close the listener, let time drain the rest. */
static void tcp_teardown(struct fuzz *f)
{
    kite_time_ms end;

    for (unsigned i = 0; i < TCP_SLOTS; i++) {
        if (f->tcp[i] != NULL) {
            struct kite_tcp_pcb *pcb = f->tcp[i];
            f->tcp[i] = NULL;
            kite_tcp_abort(pcb);
        }
    }
    kite_tcp_listener_close(f->listener);
    f->listener = NULL;
    /* Past 2 MSL and any retransmission backoff; bounded in steps. */
    end = f->now + 2u * KITE_TCP_MSL_MS + 20u * KITE_TCP_RTO_MAX_MS;
    for (unsigned steps = 0; steps < 4096 && f->now < end; steps++) {
        kite_time_ms deadline = kite_stack_next_deadline(&f->stack);
        if (deadline == KITE_TIME_NEVER) {
            break;
        }
        f->now = deadline > f->now ? deadline : f->now + 1u;
        kite_stack_poll(&f->stack, f->now);
    }
}

static void fuzz_free(struct fuzz *f)
{
    tcp_teardown(f);
    kite_udp_remove(f->echo);
    kite_udp_remove(f->conn);
    kite_netif_remove(&f->eth);
    kite_netif_remove(&f->ip);
    /* Checked before deinit, which frees whatever is left and would hide a
     * leaked pbuf or a connection that never finished. */
    if (kite_stack_pools_in_use(&f->stack) != 0) {
        abort(); /* a pbuf or pcb leaked */
    }
    kite_stack_deinit(&f->stack);
    if (kite_stack_pools_in_use(&f->stack) != 0) {
        abort();
    }
    free(f);
}

static void inject(struct fuzz *f, struct kite_netif *netif, const uint8_t *bytes, size_t len)
{
    struct kite_pbuf *p;

    if (len > UINT16_MAX) {
        return;
    }
    p = kite_pbuf_alloc(&f->stack, 0, (uint16_t)len, KITE_PBUF_POOL);
    if (p == NULL) {
        return; /* larger than the whole pool: a driver would drop it too */
    }
    if (kite_pbuf_copy_in(p, bytes, (uint16_t)len, 0) != KITE_ERR_OK) {
        abort();
    }
    kite_netif_input(netif, p);
}

/* Run the earliest timer (bounded, so an always-armed timer cannot stall). */
static void poll_next(struct fuzz *f)
{
    kite_time_ms deadline = kite_stack_next_deadline(&f->stack);

    if (deadline == KITE_TIME_NEVER) {
        return;
    }
    if (deadline > f->now) {
        f->now = deadline - f->now > MAX_POLL_STEP_MS ? f->now + MAX_POLL_STEP_MS : deadline;
    }
    kite_stack_poll(&f->stack, f->now);
}

static void udp_send(struct fuzz *f, const uint8_t *bytes, uint16_t len)
{
    struct kite_pbuf *p = kite_pbuf_from_data(&f->stack, KITE_LAYER_TRANSPORT, bytes, len, true);

    if (p == NULL) {
        return;
    }
    (void)kite_udp_send(f->conn, p);
    kite_pbuf_free(&f->stack, p);
}

static void run_record(struct fuzz *f, uint8_t op, const uint8_t *bytes, uint16_t len)
{
    switch (op) {
    case OP_ETH_FRAME:
        inject(f, &f->eth, bytes, len);
        break;
    case OP_IP_PACKET:
        inject(f, &f->ip, bytes, len);
        break;
    case OP_ADVANCE:
        f->now += len;
        kite_stack_poll(&f->stack, f->now);
        break;
    case OP_ETH_POLL:
        inject(f, &f->eth, bytes, len);
        poll_next(f);
        break;
    case OP_UDP_SEND:
        udp_send(f, bytes, len);
        break;
    case OP_TCP_SEND:
        tcp_send(f, bytes, len);
        break;
    case OP_ACD:
        /* Conflict detection then sees every ARP frame that follows. */
        if (len % 2 == 0)
            (void)kite_acd_start(&f->eth, KITE_IP4(192, 0, 2, 2), 24, 0);
        else
            (void)kite_autoip_start(&f->eth);
        break;
    default:
        tcp_close_active(f);
        break;
    }
}

/* Walk the records; run them only when run is true. False if it is not a script. */
static bool walk_script(struct fuzz *f, const uint8_t *data, size_t size, bool run)
{
    size_t pos = 1;

    if (size < 4 || data[0] != SCRIPT_MAGIC) {
        return false;
    }
    while (pos < size) {
        uint8_t op;
        uint16_t len;
        size_t body;

        if (size - pos < 3 || data[pos] >= OP__COUNT) {
            return false;
        }
        op = data[pos];
        len = (uint16_t)((unsigned)data[pos + 1] << 8 | data[pos + 2]);
        body = op == OP_ADVANCE || op == OP_TCP_CLOSE || op == OP_ACD ? 0 : len;
        if (size - pos - 3 < body) {
            return false;
        }
        if (run) {
            run_record(f, op, data + pos + 3, len);
        }
        pos += 3 + body;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz *f = fuzz_new();

    if (walk_script(f, data, size, false)) {
        (void)walk_script(f, data, size, true);
    } else {
        inject(f, size > 0 && (data[0] >> 4) == 4 ? &f->ip : &f->eth, data, size);
        poll_next(f);
    }
    fuzz_free(f);
    return 0;
}
