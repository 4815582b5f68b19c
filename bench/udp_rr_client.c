/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * UDP request/response latency client (plain POSIX sockets, runs on Linux
 * against any UDP echo server), the datagram twin of tcp_rr_client: sends a
 * SIZE-byte datagram, waits for the same bytes back, and repeats COUNT times
 * after WARMUP untimed rounds. Prints min, median, mean, p90, p99 and max
 * round-trip time in microseconds, and the datagrams lost. Used by
 * scripts/bench-vs-lwip.sh against kite-host's and lwip_peer's UDP echo
 * (port 7).
 *
 *   udp_rr_client ADDR PORT [COUNT [SIZE [WARMUP]]]   (defaults 10000 64 1000)
 *
 * A loss must not hang the run: each request waits at most TIMEOUT_MS for
 * its answer, then is sent again as a new request (a late answer to an
 * earlier one is recognised by its sequence number and ignored). A lost
 * round is not timed. The run fails after MAX_TRIES lost tries of one round
 * or when more than MAX_LOSS_PERCENT of the requests were lost.
 *
 * Exit 0 on success, 1 on a socket error, a wrong echo or too many losses,
 * 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rr_stats.h"

#define MAX_SIZE 65507u /* the largest UDP payload over IPv4 */
#define MIN_SIZE 8u     /* room for the sequence number */
#define MAX_COUNT 10000000ul
#define TIMEOUT_MS 200
#define MAX_TRIES 10
#define MAX_LOSS_PERCENT 1

struct rr_state {
    int fd;
    size_t size;
    uint64_t seq; /* of the next request */
    unsigned long lost, stale;
    uint8_t req[MAX_SIZE], resp[MAX_SIZE];
};

static int connect_to(const char *addr, unsigned long port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (fd < 0 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
        connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0) {
        perror("udp_rr_client: connect");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/*
 * await_answer: wait until the answer to the request in s->req arrives
 * (1), TIMEOUT_MS passes (0) or something fails (-1). Answers to earlier
 * requests are dropped.
 */
static int await_answer(struct rr_state *s, double deadline_us)
{
    for (;;) {
        double left_ms = (deadline_us - rr_now_us()) / 1000.0;
        struct pollfd pfd = {.fd = s->fd, .events = POLLIN, .revents = 0};
        ssize_t n;
        int ready;

        if (left_ms <= 0)
            return 0;
        ready = poll(&pfd, 1, (int)left_ms + 1);
        if (ready < 0 && errno != EINTR) {
            perror("udp_rr_client: poll");
            return -1;
        }
        if (ready <= 0)
            continue;
        n = recv(s->fd, s->resp, s->size + 1, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            perror("udp_rr_client: recv"); /* ECONNREFUSED: nothing listens */
            return -1;
        }
        if ((size_t)n == s->size && memcmp(s->req, s->resp, MIN_SIZE) == 0) {
            if (memcmp(s->req, s->resp, s->size) != 0) {
                fprintf(stderr, "udp_rr_client: echo differs from the request\n");
                return -1;
            }
            return 1;
        }
        s->stale++; /* a late answer to a lost try, or a stranger */
    }
}

/* One round: its round-trip time in microseconds, or a negative value. */
static double round_trip(struct rr_state *s)
{
    for (int tries = 0; tries < MAX_TRIES; tries++) {
        double t0;
        int got;

        memcpy(s->req, &s->seq, MIN_SIZE);
        for (size_t k = MIN_SIZE; k < s->size; k++)
            s->req[k] = (uint8_t)(s->seq + k * 31u);
        s->seq++;
        t0 = rr_now_us();
        if (send(s->fd, s->req, s->size, 0) != (ssize_t)s->size) {
            perror("udp_rr_client: send");
            return -1;
        }
        got = await_answer(s, t0 + TIMEOUT_MS * 1000.0);
        if (got < 0)
            return -1;
        if (got > 0)
            return rr_now_us() - t0;
        s->lost++;
    }
    fprintf(stderr, "udp_rr_client: %d tries of one request lost\n", MAX_TRIES);
    return -1;
}

static void report(double *rtt, const struct rr_state *s, unsigned long count)
{
    rr_report("udp_rr_client", rtt, count, s->size);
    printf(", lost %lu, stale %lu\n", s->lost, s->stale);
}

int main(int argc, char **argv)
{
    unsigned long port = argc > 2 ? strtoul(argv[2], NULL, 10) : 0;
    unsigned long count = argc > 3 ? strtoul(argv[3], NULL, 10) : 10000;
    unsigned long size = argc > 4 ? strtoul(argv[4], NULL, 10) : 64;
    unsigned long warmup = argc > 5 ? strtoul(argv[5], NULL, 10) : 1000;
    static struct rr_state s;
    double *rtt;
    int rc = 0;

    if (argc < 3 || argc > 6 || port == 0 || port > 65535 || count == 0 || count > MAX_COUNT ||
        size < MIN_SIZE || size > MAX_SIZE || warmup > MAX_COUNT) {
        fprintf(stderr, "usage: %s ADDR PORT [COUNT [SIZE [WARMUP]]]   (SIZE %u..%u)\n", argv[0],
                MIN_SIZE, MAX_SIZE);
        return 2;
    }
    rtt = calloc(count, sizeof(*rtt));
    if (rtt == NULL)
        return 1;
    s.fd = connect_to(argv[1], port);
    s.size = (size_t)size;
    s.seq = (uint64_t)getpid() << 32; /* another run's late answers do not match */
    if (s.fd < 0) {
        free(rtt);
        return 1;
    }
    for (unsigned long i = 0; rc == 0 && i < warmup + count; i++) {
        double t = round_trip(&s);

        if (t < 0)
            rc = 1;
        else if (i >= warmup)
            rtt[i - warmup] = t;
    }
    if (rc == 0 && s.lost * 100 > (warmup + count) * MAX_LOSS_PERCENT) {
        fprintf(stderr, "udp_rr_client: %lu of %lu requests lost (more than %d %%)\n", s.lost,
                warmup + count + s.lost, MAX_LOSS_PERCENT);
        rc = 1;
    }
    if (rc == 0)
        report(rtt, &s, count);
    close(s.fd);
    free(rtt);
    return rc;
}
