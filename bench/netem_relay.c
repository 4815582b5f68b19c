/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A user-space stand-in for `tc qdisc ... netem loss X% delay Y ms`, for
 * kernels built without sch_netem: it joins two Ethernet endpoints and
 * forwards every frame between them, dropping frames going from A to B with
 * a seeded probability and delaying them by a fixed time (like netem on A's
 * egress); frames from B to A pass at once (use -b to treat them alike).
 *
 * An endpoint is "tap:NAME" (a TAP device this program creates or attaches
 * to, IFF_NO_PI: the kernel hands it whole, checksummed, unsegmented frames)
 * or "pkt:NAME" (an AF_PACKET socket on an existing interface, e.g. the
 * kernel side of kite-host's TAP). "@NETNS" after the name opens the endpoint
 * inside that network namespace (ip netns name), so the two ends of one
 * relay can live in different namespaces. Stops after -t seconds or on
 * SIGINT/SIGTERM and prints its counters.
 *
 *   netem_relay [-l loss_ppm] [-d delay_ms] [-s seed] [-t seconds] [-b] A B
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FRAME 1518u
#define QUEUE_LEN 16384u /* frames in flight per direction */
#define BURST 64u        /* frames read per wake-up per endpoint */

struct frame {
    uint64_t due_us;
    uint16_t len;
    uint8_t data[MAX_FRAME];
};

struct endpoint {
    int fd;
    bool packet; /* AF_PACKET: skip our own transmissions, write with send() */
    const char *spec;
};

/* Frames travelling from one endpoint to the other. */
struct direction {
    struct endpoint *from, *to;
    struct frame *queue;
    unsigned head, count;
    uint32_t loss_ppm;
    uint64_t delay_us;
    uint64_t rng;
    unsigned long rx, lost, sent, overflow, tx_err, too_big;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static uint64_t now_us(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static uint32_t next_random(uint64_t *s)
{
    /* xorshift64*: plenty for a loss process. */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (uint32_t)((*s * 2685821657736338717ull) >> 32);
}

static int open_tap(const char *name)
{
    struct ifreq ifr;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0)
        return -1;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = (short)(IFF_TAP | IFF_NO_PI);
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int open_packet(const char *name)
{
    struct sockaddr_ll sll;
    const uint16_t all = htons((uint16_t)ETH_P_ALL);
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, all);

    if (fd < 0)
        return -1;
    memset(&sll, 0, sizeof(sll));
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = all;
    sll.sll_ifindex = (int)if_nametoindex(name);
    if (sll.sll_ifindex == 0 || bind(fd, (const struct sockaddr *)&sll, sizeof(sll)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Enter netns (if any), open the endpoint, come back. */
static int open_endpoint(struct endpoint *ep)
{
    char kind[8], name[IFNAMSIZ], ns[64] = "", path[96];
    int home = -1, target = -1, ok;

    if (sscanf(ep->spec, "%7[^:]:%15[^@]@%63s", kind, name, ns) < 2)
        return -1;
    if (ns[0] != '\0') {
        snprintf(path, sizeof(path), "/run/netns/%s", ns);
        home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        target = open(path, O_RDONLY | O_CLOEXEC);
        if (home < 0 || target < 0 || setns(target, CLONE_NEWNET) != 0)
            return -1;
    }
    ep->packet = strcmp(kind, "pkt") == 0;
    ep->fd = ep->packet ? open_packet(name) : strcmp(kind, "tap") == 0 ? open_tap(name) : -1;
    ok = ep->fd >= 0;
    if (home >= 0) {
        ok = setns(home, CLONE_NEWNET) == 0 && ok;
        close(home);
        close(target);
    }
    return ok ? 0 : -1;
}

/* Read one frame; 1 got one, 0 nothing (or skipped), -1 error. */
static int read_frame(struct endpoint *ep, uint8_t *buf, size_t cap, ssize_t *len)
{
    if (ep->packet) {
        struct sockaddr_ll from;
        socklen_t flen = sizeof(from);

        *len = recvfrom(ep->fd, buf, cap, MSG_TRUNC, (struct sockaddr *)&from, &flen);
        if (*len >= 0 && from.sll_pkttype == PACKET_OUTGOING)
            return 0; /* our own write on this interface, or the kernel's */
    } else {
        *len = read(ep->fd, buf, cap);
    }
    if (*len < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    return 1;
}

static void receive(struct direction *d, uint64_t now)
{
    for (unsigned i = 0; i < BURST; i++) {
        struct frame *f = &d->queue[(d->head + d->count) % QUEUE_LEN];
        uint8_t spare[MAX_FRAME];
        uint8_t *buf = d->count < QUEUE_LEN ? f->data : spare;
        ssize_t len;
        int rc = read_frame(d->from, buf, MAX_FRAME, &len);

        if (rc <= 0)
            return;
        d->rx++;
        if ((size_t)len > MAX_FRAME) {
            d->too_big++; /* a GSO frame: turn offloads off on that device */
        } else if (d->loss_ppm > 0 && next_random(&d->rng) % 1000000u < d->loss_ppm) {
            d->lost++;
        } else if (buf == spare) {
            d->overflow++;
        } else {
            f->len = (uint16_t)len;
            f->due_us = now + d->delay_us;
            d->count++;
        }
    }
}

static void transmit(struct direction *d, uint64_t now)
{
    while (d->count > 0 && d->queue[d->head].due_us <= now) {
        const struct frame *f = &d->queue[d->head];
        ssize_t n =
            d->to->packet ? send(d->to->fd, f->data, f->len, 0) : write(d->to->fd, f->data, f->len);

        if (n == (ssize_t)f->len)
            d->sent++;
        else
            d->tx_err++;
        d->head = (d->head + 1) % QUEUE_LEN;
        d->count--;
    }
}

/* Time until the next frame is due, for ppoll (NULL-free: at most 100 ms). */
static struct timespec wait_time(const struct direction d[2], uint64_t now)
{
    uint64_t wait = 100000;
    struct timespec ts;

    for (unsigned i = 0; i < 2; i++) {
        if (d[i].count > 0) {
            uint64_t due = d[i].queue[d[i].head].due_us;
            uint64_t w = due > now ? due - now : 0;

            if (w < wait)
                wait = w;
        }
    }
    ts.tv_sec = (time_t)(wait / 1000000u);
    ts.tv_nsec = (long)(wait % 1000000u) * 1000L;
    return ts;
}

static void run(struct direction d[2], uint64_t end_us)
{
    struct pollfd pfd[2] = {{.fd = d[0].from->fd, .events = POLLIN},
                            {.fd = d[1].from->fd, .events = POLLIN}};

    while (!stop && now_us() < end_us) {
        struct timespec ts = wait_time(d, now_us());
        int n = ppoll(pfd, 2, &ts, NULL);
        uint64_t now = now_us();

        if (n < 0 && errno != EINTR) {
            perror("netem_relay: ppoll");
            return;
        }
        for (unsigned i = 0; i < 2; i++) {
            if (n > 0 && (pfd[i].revents & POLLIN) != 0)
                receive(&d[i], now);
            transmit(&d[i], now);
        }
    }
}

static void report(const struct direction *d, const char *name)
{
    printf("netem_relay %s: rx %lu lost %lu sent %lu overflow %lu tx_err %lu too_big %lu\n", name,
           d->rx, d->lost, d->sent, d->overflow, d->tx_err, d->too_big);
}

int main(int argc, char **argv)
{
    static struct direction d[2];
    struct endpoint ep[2];
    unsigned long loss = 0, delay = 0, seconds = 60, seed = 1;
    bool both = false;
    int c;

    while ((c = getopt(argc, argv, "l:d:s:t:b")) != -1) {
        unsigned long v = optarg != NULL ? strtoul(optarg, NULL, 10) : 0;

        switch (c) {
        case 'l':
            loss = v;
            break;
        case 'd':
            delay = v;
            break;
        case 's':
            seed = v;
            break;
        case 't':
            seconds = v;
            break;
        case 'b':
            both = true;
            break;
        default:
            goto usage;
        }
    }
    if (argc - optind != 2 || loss >= 1000000u || delay > 10000u || seconds == 0)
        goto usage;
    for (unsigned i = 0; i < 2; i++) {
        ep[i].spec = argv[optind + (int)i];
        if (open_endpoint(&ep[i]) != 0) {
            fprintf(stderr, "netem_relay: cannot open %s: %s\n", ep[i].spec, strerror(errno));
            return 1;
        }
    }
    for (unsigned i = 0; i < 2; i++) {
        d[i].from = &ep[i];
        d[i].to = &ep[1 - i];
        d[i].queue = calloc(QUEUE_LEN, sizeof(struct frame));
        d[i].rng = (seed + i) * 0x9e3779b97f4a7c15ull + 1u;
        if (i == 0 || both) {
            d[i].loss_ppm = (uint32_t)loss;
            d[i].delay_us = (uint64_t)delay * 1000u;
        }
        if (d[i].queue == NULL)
            return 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    printf("netem_relay: %s <-> %s, loss %lu ppm, delay %lu ms %s, %lu s\n", ep[0].spec, ep[1].spec,
           loss, delay, both ? "both ways" : "A->B only", seconds);
    fflush(stdout);
    run(d, now_us() + (uint64_t)seconds * 1000000u);
    report(&d[0], "A->B");
    report(&d[1], "B->A");
    return 0;
usage:
    fprintf(stderr,
            "usage: %s [-l loss_ppm] [-d delay_ms] [-s seed] [-t seconds] [-b] "
            "tap:NAME[@NETNS]|pkt:NAME[@NETNS] (twice)\n",
            argv[0]);
    return 2;
}
