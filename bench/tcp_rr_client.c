/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP request/response latency client (plain POSIX sockets, runs on Linux
 * against any echo server): connects with TCP_NODELAY, sends a SIZE-byte
 * request, waits until all SIZE bytes came back, and repeats COUNT times
 * after WARMUP untimed rounds. Prints min, median, mean, p90, p99 and max
 * round-trip time in microseconds. Used by scripts/bench-tcp-tap.sh against
 * kite-host's TCP echo (port 7).
 *
 *   tcp_rr_client ADDR PORT [COUNT [SIZE [WARMUP]]]   (defaults 10000 64 1000)
 *
 * Exit 0 on success, 1 on a socket error or a wrong echo, 2 on bad usage.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "rr_stats.h"

#define MAX_SIZE 65536u
#define MAX_COUNT 10000000ul
#define IO_TIMEOUT_S 5 /* a lost echo fails the run instead of hanging it */

static int connect_to(const char *addr, unsigned long port)
{
    struct sockaddr_in sa;
    struct timeval tv = {.tv_sec = IO_TIMEOUT_S, .tv_usec = 0};
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (fd < 0 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
        connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0) {
        perror("tcp_rr_client: connect");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* One request and its complete echo; 0 on success. */
static int round_trip(int fd, const uint8_t *req, uint8_t *resp, size_t size)
{
    size_t got = 0;

    if (send(fd, req, size, 0) != (ssize_t)size) {
        perror("tcp_rr_client: send");
        return -1;
    }
    while (got < size) {
        ssize_t n = recv(fd, resp + got, size - got, 0);

        if (n <= 0) {
            perror(n == 0 ? "tcp_rr_client: peer closed" : "tcp_rr_client: recv");
            return -1;
        }
        got += (size_t)n;
    }
    if (memcmp(req, resp, size) != 0) {
        fprintf(stderr, "tcp_rr_client: echo differs from the request\n");
        return -1;
    }
    return 0;
}

static void report(double *rtt, unsigned long count, size_t size)
{
    rr_report("tcp_rr_client", rtt, count, size);
    printf("\n");
}

static int run(int fd, double *rtt, unsigned long count, size_t size, unsigned long warmup)
{
    static uint8_t req[MAX_SIZE], resp[MAX_SIZE];

    for (unsigned long i = 0; i < warmup + count; i++) {
        double t0;

        for (size_t k = 0; k < size; k++)
            req[k] = (uint8_t)(i + k * 31u);
        t0 = rr_now_us();
        if (round_trip(fd, req, resp, size) != 0)
            return -1;
        if (i >= warmup)
            rtt[i - warmup] = rr_now_us() - t0;
    }
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long port = argc > 2 ? strtoul(argv[2], NULL, 10) : 0;
    unsigned long count = argc > 3 ? strtoul(argv[3], NULL, 10) : 10000;
    unsigned long size = argc > 4 ? strtoul(argv[4], NULL, 10) : 64;
    unsigned long warmup = argc > 5 ? strtoul(argv[5], NULL, 10) : 1000;
    double *rtt;
    int fd, rc;

    if (argc < 3 || port == 0 || port > 65535 || count == 0 || count > MAX_COUNT || size == 0 ||
        size > MAX_SIZE || warmup > MAX_COUNT) {
        fprintf(stderr, "usage: %s ADDR PORT [COUNT [SIZE [WARMUP]]]\n", argv[0]);
        return 2;
    }
    rtt = calloc(count, sizeof(*rtt));
    if (rtt == NULL)
        return 1;
    fd = connect_to(argv[1], port);
    if (fd < 0) {
        free(rtt);
        return 1;
    }
    rc = run(fd, rtt, count, (size_t)size, warmup);
    if (rc == 0)
        report(rtt, count, (size_t)size);
    close(fd);
    free(rtt);
    return rc == 0 ? 0 : 1;
}
