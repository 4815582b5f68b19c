/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Many TCP connections to one echo server (issue 9 "Scale"): a Linux client
 * on plain non-blocking sockets and one epoll set, run against kite-host's
 * TCP echo (port 7) or any other echo server.
 *
 *   conn_scale --hold N --peer IP:PORT [--window K] [--pause SECONDS] [--timeout SECONDS]
 *   conn_scale --rate SECONDS --peer IP:PORT [--parallel P] [--timeout SECONDS]
 *
 * --hold N opens N connections, never more than K (default 128) in the
 * handshake or waiting for their first echo at once, so a listener's
 * backlog is not overrun. On each it sends a 32-byte message that holds the
 * connection's index and the round, and checks the echo byte for byte. Every
 * connection stays open: once all N are established and verified (the count
 * of connections open at once reaches N), it waits --pause seconds (default
 * 0; a test samples the server's memory then, after the line "holding"),
 * runs a second round of echoes on all of them while all are still open (K
 * outstanding at once), then closes them: shutdown(SHUT_WR) and wait for the
 * server's EOF (its FIN after the echo service closed its side), K at once.
 * A connection that fails at any point (refused, reset, closed early, a
 * wrong echo) is counted as failed and never retried, so every connection
 * is accounted for: established + failed to connect = N, and so on for
 * each round. Exit 0 only when all N were verified twice and all N closes
 * completed.
 *
 * --rate SECONDS runs P (default 4) connections in parallel for SECONDS:
 * each connects, sends one 32-byte message, checks the echo, shuts its
 * sending side and waits for the server's EOF, closes, and the slot starts
 * the next connection. It prints the connections completed within SECONDS
 * per second (a connection counts once its close completed) and the median
 * time of one connection's life. Exit 0 when at least one completed and
 * none failed.
 *
 * Output: key=value lines, "conn_scale: ..." (scripts/bench-conn-rate.sh and
 * tests/interop/test_tcp_scale.sh parse them). The client's TIME_WAIT
 * sockets need ports: run it in a namespace with net.ipv4.tcp_tw_reuse=1
 * and a wide net.ipv4.ip_local_port_range (both are per namespace). It
 * raises RLIMIT_NOFILE to its hard limit. Exit 1 on failure, 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG_LEN 32u
#define MAX_HOLD 60000u
#define MAX_EVENTS 1024
#define MAX_SAMPLES 4000000u

enum state {
    S_NEW,
    S_CONNECTING,
    S_ECHO,    /* message sent, waiting for its echo */
    S_OPEN,    /* verified, idle */
    S_CLOSING, /* SHUT_WR sent, waiting for EOF */
    S_DONE,    /* closed cleanly */
    S_FAILED,
};

struct conn {
    int fd;
    uint8_t state;
    uint8_t round;  /* echoes verified */
    uint8_t rx_len; /* bytes of the current echo received */
    uint32_t id;    /* unique per connection (--rate: a running number) */
    uint64_t started_ns;
    uint8_t rx[MSG_LEN];
};

struct client {
    struct sockaddr_in peer;
    int ep;
    struct conn *conns;
    uint32_t n;
    uint32_t window;
    /* Counters. */
    uint32_t established, connect_failed;
    uint32_t verified[3], echo_failed[3];
    uint32_t closed, close_failed, dropped_idle;
    uint32_t open_now, open_peak; /* verified and not closing or failed */
    uint32_t outstanding;         /* in connect, echo or close */
    uint64_t deadline_ns;
    const char *error; /* first error seen, for the report */
    /* --rate */
    uint32_t next_id;
    uint64_t *samples;
    uint32_t nsamples;
};

static uint64_t now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: conn_scale --hold N --peer IP:PORT [--window K] [--pause S] [--timeout S]\n"
            "       conn_scale --rate SECONDS --peer IP:PORT [--parallel P] [--timeout S]\n");
}

/* The message of connection id in a round: readable, unique, 32 bytes. */
static void message(uint32_t id, unsigned round, uint8_t out[MSG_LEN])
{
    char text[MSG_LEN + 1];
    int n = snprintf(text, sizeof(text), "conn %010u round %u ", id, round);

    for (unsigned i = (unsigned)n; i < MSG_LEN; i++) {
        text[i] = (char)('a' + (id + i * 7u) % 26u);
    }
    memcpy(out, text, MSG_LEN);
}

static void note_error(struct client *cl, const char *what)
{
    if (cl->error == NULL) {
        cl->error = what;
    }
}

static void fail_conn(struct client *cl, struct conn *c, const char *what)
{
    switch (c->state) {
    case S_CONNECTING:
        cl->connect_failed++;
        cl->outstanding--;
        break;
    case S_ECHO:
        cl->echo_failed[c->round + 1u]++;
        cl->outstanding--;
        if (c->round > 0) {
            cl->open_now--;
        }
        break;
    case S_OPEN:
        cl->dropped_idle++;
        cl->open_now--;
        break;
    case S_CLOSING:
        cl->close_failed++;
        cl->outstanding--;
        break;
    default:
        break;
    }
    note_error(cl, what);
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    c->state = S_FAILED;
}

static bool watch(struct client *cl, struct conn *c, uint32_t events, int op)
{
    struct epoll_event ev = {.events = events, .data.u64 = (uint64_t)(c - cl->conns)};

    return epoll_ctl(cl->ep, op, c->fd, &ev) == 0;
}

/* Start a non-blocking connect; false only for a local failure. */
static bool start_connect(struct client *cl, struct conn *c)
{
    int one = 1;

    c->started_ns = now_ns();
    c->round = 0;
    c->rx_len = 0;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    c->state = S_CONNECTING;
    cl->outstanding++;
    if (c->fd < 0) {
        fail_conn(cl, c, "socket() failed (descriptors?)");
        return false;
    }
    (void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (const struct sockaddr *)&cl->peer, sizeof(cl->peer)) != 0 &&
        errno != EINPROGRESS) {
        fail_conn(cl, c, errno == EADDRNOTAVAIL ? "connect: no local port left" : "connect");
        return false;
    }
    if (!watch(cl, c, EPOLLOUT, EPOLL_CTL_ADD)) {
        fail_conn(cl, c, "epoll_ctl add");
        return false;
    }
    return true;
}

/* Send this round's message (it always fits an empty socket buffer). */
static void send_message(struct client *cl, struct conn *c)
{
    uint8_t msg[MSG_LEN];

    message(c->id, c->round + 1u, msg);
    c->rx_len = 0;
    if (send(c->fd, msg, MSG_LEN, MSG_NOSIGNAL) != (ssize_t)MSG_LEN) {
        c->state = S_ECHO;
        fail_conn(cl, c, "send");
        return;
    }
    c->state = S_ECHO;
    if (!watch(cl, c, EPOLLIN, EPOLL_CTL_MOD)) {
        fail_conn(cl, c, "epoll_ctl mod");
    }
}

static void connected(struct client *cl, struct conn *c)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        fail_conn(cl, c, err == ECONNREFUSED ? "connection refused" : "connect failed");
        return;
    }
    cl->established++;
    send_message(cl, c);
}

/* The echo of the current round: complete and equal, or a failure. */
static void echo_input(struct client *cl, struct conn *c)
{
    uint8_t want[MSG_LEN];
    ssize_t n = recv(c->fd, c->rx + c->rx_len, MSG_LEN - c->rx_len, 0);

    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n <= 0) {
        fail_conn(cl, c, n == 0 ? "closed by the server before the echo" : "reset before the echo");
        return;
    }
    c->rx_len = (uint8_t)(c->rx_len + n);
    if (c->rx_len < MSG_LEN) {
        return;
    }
    message(c->id, c->round + 1u, want);
    if (memcmp(want, c->rx, MSG_LEN) != 0) {
        fail_conn(cl, c, "wrong echo");
        return;
    }
    if (c->round == 0) {
        cl->open_now++;
        if (cl->open_now > cl->open_peak) {
            cl->open_peak = cl->open_now;
        }
    }
    c->round++;
    cl->verified[c->round]++;
    cl->outstanding--;
    c->state = S_OPEN;
}

/* SHUT_WR sent: the next read must be the server's EOF. */
static void close_input(struct client *cl, struct conn *c)
{
    uint8_t buf[64];
    ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n != 0) {
        fail_conn(cl, c, n > 0 ? "data after the close" : "reset during the close");
        return;
    }
    close(c->fd);
    c->fd = -1;
    c->state = S_DONE;
    cl->closed++;
    cl->outstanding--;
}

static void start_close(struct client *cl, struct conn *c)
{
    if (shutdown(c->fd, SHUT_WR) != 0) {
        fail_conn(cl, c, "shutdown");
        return;
    }
    cl->open_now--;
    cl->outstanding++;
    c->state = S_CLOSING;
}

static void on_event(struct client *cl, struct conn *c, uint32_t events)
{
    switch (c->state) {
    case S_CONNECTING:
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
            connected(cl, c);
        }
        break;
    case S_ECHO:
        echo_input(cl, c);
        break;
    case S_OPEN: { /* an idle connection must stay quiet */
        uint8_t b;
        ssize_t n = recv(c->fd, &b, 1, MSG_PEEK);
        if (n < 0 && errno == EAGAIN) {
            break;
        }
        fail_conn(cl, c, n == 0 ? "closed by the server while idle" : "reset while idle");
        break;
    }
    case S_CLOSING:
        close_input(cl, c);
        break;
    default:
        break;
    }
}

/* Wait for events up to 50 ms and handle them; false once past the deadline. */
static bool pump(struct client *cl)
{
    struct epoll_event ev[MAX_EVENTS];
    int n = epoll_wait(cl->ep, ev, MAX_EVENTS, 50);

    if (n < 0 && errno != EINTR) {
        perror("conn_scale: epoll_wait");
        exit(1);
    }
    for (int i = 0; i < n; i++) {
        on_event(cl, &cl->conns[ev[i].data.u64], ev[i].events);
    }
    return now_ns() < cl->deadline_ns;
}

static void raise_nofile(uint32_t need)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)need + 16u) {
        fprintf(stderr, "conn_scale: RLIMIT_NOFILE %llu is too small for %u connections\n",
                (unsigned long long)rl.rlim_cur, need);
        exit(2);
    }
}

static double ms_since(uint64_t t0)
{
    return (double)(now_ns() - t0) / 1e6;
}

/* ---- --hold ------------------------------------------------------------------ */

/* Phase 1: connect and verify the first echo, at most window at once. */
static double hold_establish(struct client *cl)
{
    uint64_t t0 = now_ns();
    uint32_t next = 0;

    for (;;) {
        while (next < cl->n && cl->outstanding < cl->window) {
            cl->conns[next].id = next;
            (void)start_connect(cl, &cl->conns[next]);
            next++;
        }
        if (next == cl->n && cl->outstanding == 0) {
            break;
        }
        if (!pump(cl)) {
            note_error(cl, "timeout while connecting");
            break;
        }
    }
    return ms_since(t0);
}

/* Phase 2 (start = send_message) and phase 3 (start = start_close) over every
 * connection in S_OPEN, window at once. */
static double hold_sweep(struct client *cl, void (*start)(struct client *, struct conn *))
{
    uint64_t t0 = now_ns();
    uint32_t next = 0;

    for (;;) {
        while (next < cl->n && cl->outstanding < cl->window) {
            struct conn *c = &cl->conns[next++];
            if (c->state == S_OPEN) {
                if (start == send_message) {
                    cl->outstanding++;
                }
                start(cl, c);
            }
        }
        if (next == cl->n && cl->outstanding == 0) {
            break;
        }
        if (!pump(cl)) {
            note_error(cl, "timeout");
            break;
        }
    }
    return ms_since(t0);
}

static int run_hold(struct client *cl, double pause_s)
{
    double ms;
    uint64_t until;

    printf("conn_scale: hold n=%u peer=%s:%u window=%u\n", cl->n, inet_ntoa(cl->peer.sin_addr),
           ntohs(cl->peer.sin_port), cl->window);
    ms = hold_establish(cl);
    printf("conn_scale: established=%u connect_failed=%u verified=%u echo_failed=%u "
           "establish_ms=%.0f conn_per_s=%.0f\n",
           cl->established, cl->connect_failed, cl->verified[1], cl->echo_failed[1], ms,
           ms > 0 ? (double)cl->verified[1] * 1000.0 / ms : 0.0);
    printf("conn_scale: holding open=%u open_peak=%u of %u\n", cl->open_now, cl->open_peak, cl->n);
    fflush(stdout);
    until = now_ns() + (uint64_t)(pause_s * 1e9);
    while (now_ns() < until && pump(cl)) {
    }
    ms = hold_sweep(cl, send_message);
    printf("conn_scale: round2 verified=%u echo_failed=%u dropped_idle=%u open=%u ms=%.0f\n",
           cl->verified[2], cl->echo_failed[2], cl->dropped_idle, cl->open_now, ms);
    uint32_t open_before_close = cl->open_now;
    ms = hold_sweep(cl, start_close);
    printf("conn_scale: closed=%u close_failed=%u ms=%.0f\n", cl->closed, cl->close_failed, ms);
    bool ok = cl->verified[1] == cl->n && cl->verified[2] == cl->n && open_before_close == cl->n &&
              cl->open_peak == cl->n && cl->closed == cl->n;
    printf("conn_scale: result=%s accounted=%u of %u%s%s\n", ok ? "PASS" : "FAIL",
           cl->closed + cl->connect_failed + cl->echo_failed[1] + cl->echo_failed[2] +
               cl->dropped_idle + cl->close_failed,
           cl->n, cl->error != NULL ? " first_error=" : "", cl->error != NULL ? cl->error : "");
    return ok ? 0 : 1;
}

/* ---- --rate ------------------------------------------------------------------ */

static void rate_start(struct client *cl, struct conn *c)
{
    c->id = cl->next_id++;
    (void)start_connect(cl, c);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Move every slot on: a verified echo closes, a finished close records its
 * time and (while running) starts the next connection. */
static void rate_step(struct client *cl, bool running, uint64_t end_ns, uint32_t *in_time)
{
    for (uint32_t i = 0; i < cl->n; i++) {
        struct conn *c = &cl->conns[i];
        if (c->state == S_OPEN) {
            start_close(cl, c);
        }
        if (c->state == S_DONE || c->state == S_FAILED) {
            if (c->state == S_DONE) {
                uint64_t t = now_ns();
                if (t <= end_ns) {
                    (*in_time)++;
                }
                if (cl->nsamples < MAX_SAMPLES) {
                    cl->samples[cl->nsamples++] = t - c->started_ns;
                }
            }
            c->state = S_NEW;
        }
        if (c->state == S_NEW && running) {
            rate_start(cl, c);
        }
    }
}

static int run_rate(struct client *cl, double seconds)
{
    uint64_t t0 = now_ns();
    uint64_t end_ns = t0 + (uint64_t)(seconds * 1e9);
    uint32_t in_time = 0;

    cl->samples = calloc(MAX_SAMPLES, sizeof(*cl->samples));
    if (cl->samples == NULL) {
        perror("conn_scale: calloc");
        return 1;
    }
    printf("conn_scale: rate seconds=%.1f peer=%s:%u parallel=%u\n", seconds,
           inet_ntoa(cl->peer.sin_addr), ntohs(cl->peer.sin_port), cl->n);
    while (now_ns() < end_ns) {
        rate_step(cl, true, end_ns, &in_time);
        if (!pump(cl)) {
            break;
        }
    }
    /* Let the connections in progress finish (not counted in the rate). */
    while (cl->outstanding > 0 && pump(cl)) {
        rate_step(cl, false, end_ns, &in_time);
    }
    rate_step(cl, false, end_ns, &in_time);
    for (uint32_t i = 0; i < cl->n; i++) {
        if (cl->conns[i].state != S_NEW) {
            fail_conn(cl, &cl->conns[i], "unfinished at the deadline");
        }
    }
    uint32_t failed = cl->connect_failed + cl->echo_failed[1] + cl->close_failed;
    double median_us = 0;
    if (cl->nsamples > 0) {
        qsort(cl->samples, cl->nsamples, sizeof(*cl->samples), cmp_u64);
        median_us = (double)cl->samples[cl->nsamples / 2u] / 1e3;
    }
    printf("conn_scale: started=%u completed=%u verified=%u failed=%u in_time=%u "
           "conn_per_s=%.0f median_us=%.0f%s%s\n",
           cl->next_id, cl->closed, cl->verified[1], failed, in_time, (double)in_time / seconds,
           median_us, cl->error != NULL ? " first_error=" : "", cl->error != NULL ? cl->error : "");
    free(cl->samples);
    return cl->closed > 0 && failed == 0 ? 0 : 1;
}

/* ---- main ---------------------------------------------------------------------- */

static bool parse_peer(const char *text, struct sockaddr_in *sa)
{
    char addr[64];
    const char *colon = strrchr(text, ':');
    char *end;
    unsigned long port;

    if (colon == NULL || (size_t)(colon - text) >= sizeof(addr)) {
        return false;
    }
    memcpy(addr, text, (size_t)(colon - text));
    addr[colon - text] = '\0';
    port = strtoul(colon + 1, &end, 10);
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    return *end == '\0' && port > 0 && port <= 65535 &&
           inet_pton(AF_INET, addr, &sa->sin_addr) == 1;
}

static bool parse_num(const char *text, double max, double *out)
{
    char *end;

    *out = strtod(text, &end);
    return end != text && *end == '\0' && *out >= 0 && *out <= max;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"hold", required_argument, NULL, 'H'},
        {"rate", required_argument, NULL, 'R'},
        {"peer", required_argument, NULL, 'p'},
        {"window", required_argument, NULL, 'w'},
        {"parallel", required_argument, NULL, 'P'},
        {"pause", required_argument, NULL, 's'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct client cl;
    double hold = 0, rate = 0, window = 128, parallel = 4, pause_s = 0, timeout = 120, v;
    bool have_peer = false;
    int c;

    memset(&cl, 0, sizeof(cl));
    setvbuf(stdout, NULL, _IOLBF, 0);
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'H':
            ok = parse_num(optarg, MAX_HOLD, &hold) && hold >= 1;
            break;
        case 'R':
            ok = parse_num(optarg, 3600, &rate) && rate > 0;
            break;
        case 'p':
            ok = have_peer = parse_peer(optarg, &cl.peer);
            break;
        case 'w':
            ok = parse_num(optarg, 65535, &window) && window >= 1;
            break;
        case 'P':
            ok = parse_num(optarg, 4096, &parallel) && parallel >= 1;
            break;
        case 's':
            ok = parse_num(optarg, 3600, &pause_s);
            break;
        case 't':
            ok = parse_num(optarg, 86400, &timeout) && timeout > 0;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            ok = false;
        }
        if (!ok) {
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || !have_peer || (hold > 0) == (rate > 0)) {
        usage(stderr);
        return 2;
    }
    cl.n = (uint32_t)(hold > 0 ? hold : parallel);
    cl.window = (uint32_t)window;
    if (rate > 0) {
        cl.window = cl.n;
        v = rate + 10.0; /* the run, then time for the last ones to finish */
        timeout = timeout < v ? timeout : v;
    }
    raise_nofile(cl.n);
    cl.conns = calloc(cl.n, sizeof(*cl.conns));
    cl.ep = epoll_create1(EPOLL_CLOEXEC);
    if (cl.conns == NULL || cl.ep < 0) {
        perror("conn_scale: setup");
        return 1;
    }
    for (uint32_t i = 0; i < cl.n; i++) {
        cl.conns[i].fd = -1;
    }
    cl.deadline_ns = now_ns() + (uint64_t)(timeout * 1e9);
    int rc = hold > 0 ? run_hold(&cl, pause_s) : run_rate(&cl, rate);
    for (uint32_t i = 0; i < cl.n; i++) {
        if (cl.conns[i].fd >= 0) {
            close(cl.conns[i].fd);
        }
    }
    close(cl.ep);
    free(cl.conns);
    return rc;
}
