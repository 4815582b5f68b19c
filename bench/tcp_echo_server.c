/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sequential TCP echo server on Linux sockets: the Linux peer of the socket
 * API benchmarks (bench/lwip_sock_bench.c --rtt, and kite's counterpart).
 * It runs in a network namespace on the Linux side of a TAP device.
 *
 *   tcp_echo_server PORT [--count N]
 *
 * Listens on 0.0.0.0:PORT, prints "listening" (flushed) once it does, so a
 * script can wait for that line, then accepts connections one after another
 * on a single thread. Each connection gets TCP_NODELAY (a 64-byte answer
 * must leave at once, not wait for Nagle, RFC 896, or a delayed ACK) and is
 * echoed until the peer's EOF, then closed. With --count N the server exits
 * after N connections; without it, it runs until killed.
 *
 * Every wait on an accepted connection is bounded: a peer silent for
 * IDLE_TIMEOUT_S fails that connection. Exit 0 when every connection was
 * echoed to EOF, 1 if one failed (the server still serves the next ones),
 * 2 on bad usage or when it cannot listen.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define IDLE_TIMEOUT_S 30
#define ECHO_BUF 65536u
#define LISTEN_BACKLOG 16

struct echo_options {
    unsigned short port;
    unsigned long count; /* 0: serve until killed */
};

static void usage(void) __attribute__((noreturn));

static void usage(void)
{
    fprintf(stderr, "usage: tcp_echo_server PORT [--count N]\n");
    exit(2);
}

/* parse_number: a whole decimal number in [min, max], or usage(). */
static unsigned long parse_number(const char *text, unsigned long min, unsigned long max)
{
    char *end;
    unsigned long value;

    errno = 0;
    value = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || value < min || value > max) {
        fprintf(stderr, "tcp_echo_server: bad number '%s' (expected %lu..%lu)\n", text, min, max);
        usage();
    }
    return value;
}

static struct echo_options parse_options(int argc, char **argv)
{
    struct echo_options options = {0, 0};
    int i;

    if (argc < 2)
        usage();
    options.port = (unsigned short)parse_number(argv[1], 1, 65535);
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
            options.count = parse_number(argv[++i], 1, 1000000000ul);
        else
            usage();
    }
    return options;
}

/* listen_on: a listening IPv4 socket on 0.0.0.0:port, or exit 2. */
static int listen_on(unsigned short port)
{
    struct sockaddr_in addr;
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0) {
        perror("tcp_echo_server: socket");
        exit(2);
    }
    /* SO_REUSEADDR: a rerun binds while an earlier connection is in TIME_WAIT. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
        perror("tcp_echo_server: SO_REUSEADDR");
        exit(2);
    }
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        fprintf(stderr, "tcp_echo_server: bind port %u: %s\n", port, strerror(errno));
        exit(2);
    }
    if (listen(fd, LISTEN_BACKLOG) != 0) {
        perror("tcp_echo_server: listen");
        exit(2);
    }
    return fd;
}

/* prepare_connection: TCP_NODELAY and the idle bound on both directions. */
static bool prepare_connection(int fd)
{
    struct timeval idle = {IDLE_TIMEOUT_S, 0};
    int one = 1;

    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof(idle)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &idle, sizeof(idle)) != 0) {
        perror("tcp_echo_server: setsockopt on a connection");
        return false;
    }
    return true;
}

/* send_all: write all len bytes; MSG_NOSIGNAL turns a reset peer into EPIPE, not SIGPIPE. */
static bool send_all(int fd, const unsigned char *data, size_t len)
{
    while (len > 0) {
        ssize_t sent = send(fd, data, len, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent <= 0) {
            fprintf(stderr, "tcp_echo_server: send: %s\n",
                    sent < 0 ? strerror(errno) : "sent nothing");
            return false;
        }
        data += sent;
        len -= (size_t)sent;
    }
    return true;
}

/* echo_until_eof: copy everything received back to the peer; true at a clean EOF. */
static bool echo_until_eof(int fd, unsigned char *buf)
{
    for (;;) {
        ssize_t got = recv(fd, buf, ECHO_BUF, 0);
        if (got == 0)
            return true;
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            fprintf(stderr, "tcp_echo_server: recv: %s\n",
                    errno == EAGAIN ? "peer idle too long" : strerror(errno));
            return false;
        }
        if (!send_all(fd, buf, (size_t)got))
            return false;
    }
}

/* serve_one: accept the next connection and echo it to EOF. */
static bool serve_one(int listen_fd, unsigned char *buf)
{
    bool ok;
    int fd;

    do
        fd = accept(listen_fd, NULL, NULL);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        perror("tcp_echo_server: accept");
        return false;
    }
    ok = prepare_connection(fd) && echo_until_eof(fd, buf);
    close(fd);
    return ok;
}

int main(int argc, char **argv)
{
    struct echo_options options = parse_options(argc, argv);
    static unsigned char buf[ECHO_BUF];
    unsigned long served;
    int listen_fd = listen_on(options.port);
    int status = 0;

    printf("listening\n");
    fflush(stdout);
    for (served = 0; options.count == 0 || served < options.count; served++) {
        if (!serve_one(listen_fd, buf)) {
            fprintf(stderr, "tcp_echo_server: connection %lu failed\n", served + 1);
            status = 1;
        }
    }
    close(listen_fd);
    return status;
}
