/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A Linux TCP receiver for the benchmarks (plain POSIX sockets): it takes one
 * connection, reads it with recv() calls of a chosen size until EOF, and
 * prints what arrived and how fast, from the accept (or the connect) to EOF:
 *
 *   tcp_sink: bytes=B seconds=S mbit=X chunk=C reads=R
 *
 * The chunk size is the point: a receiver that reads 8 KiB at a time and one
 * that reads 256 KiB make a sender see different windows and wake-ups
 * (scripts/bench-vs-lwip.sh measures kite and lwIP against both).
 *
 *   tcp_sink --port PORT | --connect ADDR:PORT
 *            [--chunk BYTES] [--expect BYTES] [--rcvbuf BYTES]
 *            [--timeout SECONDS] [--verify-pattern]
 *
 *   --port PORT        listen on PORT (every IPv4 address), accept one
 *                      connection; "tcp_sink: listening on PORT" once listening
 *   --connect ADDR:PORT connect to ADDR:PORT instead (a receiver run under
 *                      kite-run, against a Linux source)
 *   --chunk BYTES      bytes per recv() (default 131072, at most 16 MiB)
 *   --expect BYTES     fail unless exactly BYTES arrived
 *   --rcvbuf BYTES     SO_RCVBUF before listen/connect (the kernel doubles it)
 *   --timeout SECONDS  bound on the accept or connect and on each recv()
 *                      (default 60)
 *   --verify-pattern   check that the stream is kite-host's /bytes pattern
 *                      (16-byte lines, line k is k in 15 lowercase hex digits
 *                      and '\n'); costs receiver CPU, for smoke runs
 *
 * Exit 0 on success, 1 on a socket error, a timeout, a wrong byte count or
 * a pattern mismatch, 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHUNK (16u * 1024u * 1024u)
#define BYTES_LINE 16u

struct sink_options {
    struct sockaddr_in addr; /* --port: where to listen; --connect: the peer */
    bool listen, connect;
    unsigned long chunk;
    unsigned long long expect;
    bool have_expect;
    unsigned long rcvbuf;
    unsigned long timeout_s;
    bool verify;
};

static void usage(void) __attribute__((noreturn));

static void usage(void)
{
    fprintf(stderr, "usage: tcp_sink --port PORT | --connect ADDR:PORT [--chunk BYTES]\n"
                    "                [--expect BYTES] [--rcvbuf BYTES] [--timeout SECONDS]\n"
                    "                [--verify-pattern]\n");
    exit(2);
}

static unsigned long long parse_number(const char *text, unsigned long long min,
                                       unsigned long long max)
{
    char *end;
    unsigned long long value;

    errno = 0;
    value = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || value < min || value > max) {
        fprintf(stderr, "tcp_sink: bad number '%s' (expected %llu..%llu)\n", text, min, max);
        usage();
    }
    return value;
}

static void parse_peer(const char *text, struct sockaddr_in *sa)
{
    char addr[INET_ADDRSTRLEN];
    const char *colon = strrchr(text, ':');
    size_t len = colon != NULL ? (size_t)(colon - text) : sizeof(addr);

    if (len >= sizeof(addr)) {
        fprintf(stderr, "tcp_sink: --connect wants ADDR:PORT, got '%s'\n", text);
        usage();
    }
    memcpy(addr, text, len);
    addr[len] = '\0';
    sa->sin_port = htons((uint16_t)parse_number(colon + 1, 1, 65535));
    if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1) {
        fprintf(stderr, "tcp_sink: bad address '%s'\n", addr);
        usage();
    }
}

static struct sink_options parse_options(int argc, char **argv)
{
    struct sink_options o;

    memset(&o, 0, sizeof(o));
    o.addr.sin_family = AF_INET;
    o.chunk = 131072;
    o.timeout_s = 60;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(arg, "--verify-pattern") == 0) {
            o.verify = true;
            continue;
        }
        if (value == NULL)
            usage();
        i++;
        if (strcmp(arg, "--port") == 0) {
            o.addr.sin_port = htons((uint16_t)parse_number(value, 1, 65535));
            o.addr.sin_addr.s_addr = htonl(INADDR_ANY);
            o.listen = true;
        } else if (strcmp(arg, "--connect") == 0) {
            parse_peer(value, &o.addr);
            o.connect = true;
        } else if (strcmp(arg, "--chunk") == 0) {
            o.chunk = (unsigned long)parse_number(value, 1, MAX_CHUNK);
        } else if (strcmp(arg, "--expect") == 0) {
            o.expect = parse_number(value, 0, 1ull << 50);
            o.have_expect = true;
        } else if (strcmp(arg, "--rcvbuf") == 0) {
            o.rcvbuf = (unsigned long)parse_number(value, 1, 1u << 30);
        } else if (strcmp(arg, "--timeout") == 0) {
            o.timeout_s = (unsigned long)parse_number(value, 1, 86400);
        } else {
            usage();
        }
    }
    if (o.listen == o.connect)
        usage();
    return o;
}

static double now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int fail(const char *what)
{
    fprintf(stderr, "tcp_sink: %s: %s\n", what, strerror(errno));
    return -1;
}

/* wait_ready: poll fd for events, bounded by the timeout; 0 when ready. */
static int wait_ready(int fd, short events, const struct sink_options *o, const char *what)
{
    struct pollfd pfd = {.fd = fd, .events = events, .revents = 0};
    int n = poll(&pfd, 1, (int)(o->timeout_s * 1000u));

    if (n == 0) {
        fprintf(stderr, "tcp_sink: %s: nothing in %lu s\n", what, o->timeout_s);
        return -1;
    }
    return n < 0 ? fail(what) : 0;
}

static int set_options(int fd, const struct sink_options *o)
{
    int one = 1, size = (int)o->rcvbuf;

    if (o->listen && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
        return fail("SO_REUSEADDR");
    if (o->rcvbuf != 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) != 0)
        return fail("SO_RCVBUF");
    return 0;
}

/* accept_one: listen, print that we do, take one connection; its fd or -1. */
static int accept_one(const struct sink_options *o)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0), fd = -1;

    if (lfd < 0)
        return fail("socket");
    if (set_options(lfd, o) == 0) {
        if (bind(lfd, (const struct sockaddr *)&o->addr, sizeof(o->addr)) != 0 ||
            listen(lfd, 1) != 0) {
            fail("bind/listen");
        } else {
            printf("tcp_sink: listening on %u\n", ntohs(o->addr.sin_port));
            fflush(stdout);
            if (wait_ready(lfd, POLLIN, o, "accept") == 0) {
                fd = accept(lfd, NULL, NULL);
                if (fd < 0)
                    fail("accept");
            }
        }
    }
    close(lfd);
    return fd;
}

/* connect_one: a connection to the peer, the connect bounded; its fd or -1. */
static int connect_one(const struct sink_options *o)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = (time_t)o->timeout_s, .tv_usec = 0};

    if (fd < 0)
        return fail("socket");
    /* SO_SNDTIMEO bounds a blocking connect() (socket(7)). */
    if (set_options(fd, o) != 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
        connect(fd, (const struct sockaddr *)&o->addr, sizeof(o->addr)) != 0) {
        fail("connect");
        close(fd);
        return -1;
    }
    return fd;
}

/* verify: do bytes [offset, offset + n) of the stream follow the pattern? */
static bool verify(const uint8_t *data, size_t n, unsigned long long offset)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        unsigned long long at = offset + i, line = at / BYTES_LINE;
        unsigned col = (unsigned)(at % BYTES_LINE);
        uint8_t want = col == BYTES_LINE - 1u ? (uint8_t)'\n'
                                              : (uint8_t)hex[(line >> (4u * (14u - col))) & 0xfu];
        if (data[i] != want) {
            fprintf(stderr, "tcp_sink: byte %llu is 0x%02x, the pattern has 0x%02x\n", at, data[i],
                    want);
            return false;
        }
    }
    return true;
}

int main(int argc, char **argv)
{
    struct sink_options o = parse_options(argc, argv);
    struct timeval tv = {.tv_sec = (time_t)o.timeout_s, .tv_usec = 0};
    unsigned long long total = 0, reads = 0;
    uint8_t *buf = malloc(o.chunk);
    double start, seconds;
    ssize_t got;
    int fd;

    if (buf == NULL) {
        fprintf(stderr, "tcp_sink: out of memory for a %lu-byte chunk\n", o.chunk);
        return 1;
    }
    fd = o.listen ? accept_one(&o) : connect_one(&o);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
        if (fd >= 0)
            fail("SO_RCVTIMEO");
        free(buf);
        return 1;
    }
    start = now_s();
    while ((got = recv(fd, buf, o.chunk, 0)) > 0) {
        if (o.verify && !verify(buf, (size_t)got, total))
            break;
        total += (unsigned long long)got;
        reads++;
    }
    seconds = now_s() - start;
    if (got < 0)
        fprintf(stderr, "tcp_sink: recv after %llu bytes: %s\n", total,
                errno == EAGAIN ? "timed out" : strerror(errno));
    close(fd);
    free(buf);
    printf("tcp_sink: bytes=%llu seconds=%.3f mbit=%.1f chunk=%lu reads=%llu\n", total, seconds,
           seconds > 0 ? (double)total * 8.0 / seconds / 1e6 : 0.0, o.chunk, reads);
    if (got != 0)
        return 1;
    if (o.have_expect && total != o.expect) {
        fprintf(stderr, "tcp_sink: %llu bytes arrived, %llu expected\n", total, o.expect);
        return 1;
    }
    return 0;
}
