/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lwIP's BSD socket API on a TAP device: the anchor that kite's socket API
 * is measured against, on the same TAP setup, against the same Linux peer,
 * in the same run. lwIP runs as a user of Debian's liblwip-dev (lwIP 2.1.3):
 * its tcpip thread, the unix port's tapif driver (which reads the TAP on a
 * thread of its own and hands frames to tcpip_input), and the socket calls
 * from the main thread. It does one of:
 *
 *   --rtt N --peer IP:PORT    connect with TCP_NODELAY, 100 untimed warm-up
 *                             round trips, then N timed ones of 64 bytes
 *                             (send 64, receive exactly those 64 back):
 *                             "lwip rtt median_us=X p99_us=Y n=N"
 *   --send MIB --peer IP:PORT connect, send MIB MiB in 16 KiB send() calls,
 *                             shut down, close: "lwip send mbit=X bytes=B seconds=S"
 *   --recv --peer IP:PORT     connect, recv() 16 KiB at a time until EOF:
 *                             "lwip recv mbit=X bytes=B seconds=S"
 *
 * and, for all of them: --tap IFNAME (an existing TAP device, required),
 * --ipv4 ADDR/PREFIX (required), --gw ADDR (optional).
 *
 * What is timed. rtt: CLOCK_MONOTONIC around each send + full receive.
 * send: from connect done to close done, where "close done" means
 * shutdown(SHUT_WR), then the peer's EOF seen, then close(): the peer's FIN
 * comes after it has read our FIN, so every byte has been delivered to the
 * peer application, not merely queued in lwIP (a process that exits right
 * after close() would lose up to TCP_SND_BUF of unsent data). recv: from
 * connect done to EOF.
 *
 * Every wait is bounded: connect by IO_TIMEOUT_S (non-blocking connect and
 * lwip_poll), each send and recv by SO_SNDTIMEO/SO_RCVTIMEO of IO_TIMEOUT_S.
 * Any failure (refused, reset, short or wrong data, timeout) prints a message
 * on stderr and exits 1; bad usage exits 2.
 *
 * lwIP is brought up by lwip_tap.c (shared with bench/lwip_peer.c, lwIP's
 * raw API): that file says how tapif is attached to the device (through
 * PRECONFIGURED_TAPIF, after checking that the device exists and is a TAP;
 * tapif's fixed MAC address 02:12:34:56:78:ab, MTU 1500) and repairs a bug
 * of Debian's build that corrupts the heap (PBUF_POOL blocks sized for
 * TCP_MSS 512 and filled for 1460).
 *
 * The lwIP configuration in effect is Debian's build (its lwipopts.h is
 * the GNU Hurd's, installed as /usr/include/lwip/lwipopts.h; the rest are
 * lwip/opt.h defaults), as the compiler evaluates it for the stack's own files:
 *
 *   threads        NO_SYS 0, LWIP_TCPIP_CORE_LOCKING 1 (socket calls run the
 *                  stack under the core lock in the caller's thread; input
 *                  from tapif is still posted to the tcpip thread's mbox,
 *                  LWIP_TCPIP_CORE_LOCKING_INPUT 0), LWIP_NETCONN_SEM_PER_THREAD 0,
 *                  LWIP_NETCONN_FULLDUPLEX 0; mboxes: the unix port's fixed
 *                  128 entries (TCPIP_MBOX_SIZE, DEFAULT_TCP_RECVMBOX_SIZE 0)
 *   sockets        LWIP_COMPAT_SOCKETS 0 (lwip_* names only), LWIP_SOCKET_OFFSET 1,
 *                  the host's <sys/socket.h> types and constants
 *                  (LWIP_SOCKET_EXTERNAL_HEADERS), LWIP_SOCKET_POLL 1,
 *                  LWIP_SOCKET_SELECT 0, NUM_SOCKETS = MEMP_NUM_NETCONN 4,
 *                  LWIP_SO_RCVTIMEO/SNDTIMEO/RCVBUF/LINGER 1
 *   TCP            TCP_MSS 1460, TCP_WND 0xFFFF with LWIP_WND_SCALE 1 and
 *                  TCP_RCV_SCALE 1, TCP_SND_BUF 0xFFFF, TCP_SND_QUEUELEN 180,
 *                  TCP_SNDLOWAT 32767, TCP_SNDQUEUELOWAT 90, TCP_OVERSIZE 1460,
 *                  TCP_WND_UPDATE_THRESHOLD 5840, TCP_QUEUE_OOSEQ 1, no SACK
 *                  (LWIP_TCP_SACK_OUT 0), no timestamps, TCP_TMR_INTERVAL
 *                  250 ms (delayed ACK), TCP_MAXRTX 12, TCP_SYNMAXRTX 6
 *   memory         MEM_LIBC_MALLOC 1 and MEMP_MEM_MALLOC 1: the heap and every
 *                  pool come from malloc(), so MEM_SIZE (1600), PBUF_POOL_SIZE
 *                  (16 x 1536 bytes), MEMP_NUM_TCP_PCB (5) and MEMP_NUM_TCP_SEG
 *                  (16) set no limit; MEM_ALIGNMENT 8
 *   other          LWIP_CHECKSUM_ON_COPY 1, CHECKSUM_GEN/CHECK_TCP 1 (no
 *                  offload), LWIP_NETIF_TX_SINGLE_PBUF 1, ARP_QUEUEING 1,
 *                  IP_FORWARD 1, IPv6 on, LWIP_STATS 0, LWIP_RAND() = rand()
 *                  (seeded by lwip_tap.c so initial sequence numbers and ports
 *                  vary)
 *
 * The same bug makes TCP_MSS (and what derives from it) read 512 in this
 * file after lwip/sockets.h (<netinet/tcp.h> defines it); the library's TCP
 * uses 1460 (its SYN says so).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lwip/opt.h"
#include "lwip/netif.h"
#include "lwip/sockets.h"
#include "lwip_tap.h"

#define IO_TIMEOUT_S 10
#define CHUNK 16384u
#define RTT_SIZE 64u
#define RTT_WARMUP 100ul
#define MIB (1024ull * 1024ull)
#define PROG "lwip_sock_bench"
#define STRINGIFY(x) #x
#define TO_TEXT(x) STRINGIFY(x)

enum bench_mode { MODE_NONE, MODE_RTT, MODE_SEND, MODE_RECV };

struct bench_options {
    enum bench_mode mode;
    unsigned long rounds; /* --rtt */
    unsigned long mib;    /* --send */
    struct lwip_tap_config net;
    struct sockaddr_in peer;
    bool have_peer;
};

/* ---- messages ------------------------------------------------------------------------------- */

static void die(const char *format, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void die(const char *format, ...)
{
    va_list args;

    fputs("lwip_sock_bench: ", stderr);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    exit(1);
}

/* errno_text: strerror, with lwIP's SO_RCVTIMEO/SO_SNDTIMEO expiry spelled out. */
static const char *errno_text(int error)
{
    if (error == EAGAIN || error == EWOULDBLOCK)
        return "timed out (no progress in " TO_TEXT(IO_TIMEOUT_S) " s)";
    return strerror(error);
}

static void usage(void) __attribute__((noreturn));

static void usage(void)
{
    fprintf(stderr, "usage: lwip_sock_bench --tap IFNAME --ipv4 ADDR/PREFIX [--gw ADDR]\n"
                    "                       (--rtt N | --send MIB | --recv) --peer IP:PORT\n");
    exit(2);
}

/* ---- options -------------------------------------------------------------------------------- */

/* parse_number: a whole decimal number in [min, max], or usage(). */
static unsigned long parse_number(const char *text, unsigned long min, unsigned long max)
{
    unsigned long value;

    if (!lwip_tap_parse_number(PROG, text, min, max, &value))
        usage();
    return value;
}

/* parse_peer: IP:PORT into a socket address (the host's struct sockaddr_in, as lwIP uses it). */
static void parse_peer(const char *text, struct sockaddr_in *peer)
{
    char addr[INET_ADDRSTRLEN];
    const char *colon = strrchr(text, ':');
    size_t len;

    len = colon != NULL ? (size_t)(colon - text) : sizeof(addr);
    if (len >= sizeof(addr)) {
        fprintf(stderr, "lwip_sock_bench: --peer wants IP:PORT, got '%s'\n", text);
        usage();
    }
    memcpy(addr, text, len);
    addr[len] = '\0';
    memset(peer, 0, sizeof(*peer));
    peer->sin_family = AF_INET;
    peer->sin_port = htons((uint16_t)parse_number(colon + 1, 1, 65535));
    if (inet_pton(AF_INET, addr, &peer->sin_addr) != 1) {
        fprintf(stderr, "lwip_sock_bench: bad peer address '%s'\n", addr);
        usage();
    }
}

static void set_mode(struct bench_options *options, enum bench_mode mode)
{
    if (options->mode != MODE_NONE) {
        fprintf(stderr, "lwip_sock_bench: give exactly one of --rtt, --send, --recv\n");
        usage();
    }
    options->mode = mode;
}

static struct bench_options parse_options(int argc, char **argv)
{
    struct bench_options options;
    int i;

    memset(&options, 0, sizeof(options));
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--recv") == 0) {
            set_mode(&options, MODE_RECV);
            continue;
        }
        if (value == NULL)
            usage();
        i++;
        if (strcmp(arg, "--rtt") == 0) {
            set_mode(&options, MODE_RTT);
            options.rounds = parse_number(value, 1, 100000000ul);
        } else if (strcmp(arg, "--send") == 0) {
            set_mode(&options, MODE_SEND);
            options.mib = parse_number(value, 1, 1048576ul);
        } else if (strcmp(arg, "--peer") == 0) {
            parse_peer(value, &options.peer);
            options.have_peer = true;
        } else if (strcmp(arg, "--tap") == 0) {
            options.net.tap = value;
        } else if (strcmp(arg, "--ipv4") == 0) {
            if (!lwip_tap_parse_prefix(PROG, value, &options.net))
                usage();
        } else if (strcmp(arg, "--gw") == 0) {
            if (!lwip_tap_parse_ip4(PROG, value, &options.net.gw))
                usage();
        } else {
            usage();
        }
    }
    if (options.mode == MODE_NONE || !options.have_peer || options.net.tap == NULL ||
        !options.net.have_addr)
        usage();
    return options;
}

/* ---- socket helpers (lwIP's socket API only) ------------------------------------------------ */

static double now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void set_int_option(int fd, int level, int name, int value, const char *what)
{
    if (lwip_setsockopt(fd, level, name, &value, sizeof(value)) != 0)
        die("setsockopt %s: %s", what, strerror(errno));
}

/* set_io_timeouts: bound every blocking send and recv (lwIP: LWIP_SO_SNDTIMEO/RCVTIMEO). */
static void set_io_timeouts(int fd)
{
    struct timeval timeout = {IO_TIMEOUT_S, 0};

    if (lwip_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) != 0 ||
        lwip_setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) != 0)
        die("setsockopt SO_RCVTIMEO/SO_SNDTIMEO: %s", strerror(errno));
}

static void set_blocking(int fd, bool blocking)
{
    if (lwip_fcntl(fd, F_SETFL, blocking ? 0 : O_NONBLOCK) != 0)
        die("fcntl F_SETFL: %s", strerror(errno));
}

/*
 * wait_connected: a non-blocking connect is complete when the socket polls
 * writable; SO_ERROR then tells success from failure (POSIX connect(),
 * "If the connection cannot be established immediately and O_NONBLOCK is set").
 */
static void wait_connected(int fd, const char *peer)
{
    struct pollfd pfd = {fd, POLLOUT, 0};
    socklen_t len = sizeof(int);
    int error = 0;
    int ready = lwip_poll(&pfd, 1, IO_TIMEOUT_S * 1000);

    if (ready < 0)
        die("poll while connecting to %s: %s", peer, strerror(errno));
    if (ready == 0)
        die("connect to %s timed out after %d s", peer, IO_TIMEOUT_S);
    if (lwip_getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0)
        die("getsockopt SO_ERROR: %s", strerror(errno));
    if (error != 0)
        die("connect to %s failed: %s%s", peer, strerror(error),
            error == ECONNRESET ? " (refused: nothing listening?)" : "");
}

/* open_connection: a connected TCP socket to the peer, every wait on it bounded. */
static int open_connection(const struct sockaddr_in *peer, bool nodelay)
{
    char name[INET_ADDRSTRLEN + 8];
    char addr[INET_ADDRSTRLEN];
    int fd = lwip_socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        die("lwip_socket: %s", strerror(errno));
    inet_ntop(AF_INET, &peer->sin_addr, addr, sizeof(addr));
    snprintf(name, sizeof(name), "%s:%u", addr, ntohs(peer->sin_port));
    set_io_timeouts(fd);
    if (nodelay)
        set_int_option(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
    set_blocking(fd, false);
    if (lwip_connect(fd, (const struct sockaddr *)peer, sizeof(*peer)) != 0) {
        if (errno != EINPROGRESS)
            die("connect to %s: %s", name, strerror(errno));
        wait_connected(fd, name);
    }
    set_blocking(fd, true);
    return fd;
}

static void send_all(int fd, const unsigned char *data, size_t len)
{
    while (len > 0) {
        ssize_t sent = lwip_send(fd, data, len, 0);
        if (sent <= 0)
            die("send: %s", sent < 0 ? errno_text(errno) : "sent nothing");
        data += sent;
        len -= (size_t)sent;
    }
}

static void recv_exact(int fd, unsigned char *data, size_t len)
{
    while (len > 0) {
        ssize_t got = lwip_recv(fd, data, len, 0);
        if (got == 0)
            die("recv: peer closed with %zu bytes of an answer missing", len);
        if (got < 0)
            die("recv: %s", errno_text(errno));
        data += got;
        len -= (size_t)got;
    }
}

/*
 * finish_connection: send our FIN, wait for the peer's (it has then read
 * everything we sent), close. The peer must send nothing more.
 */
static void finish_connection(int fd)
{
    unsigned char extra;
    ssize_t got;

    if (lwip_shutdown(fd, SHUT_WR) != 0)
        die("shutdown: %s", strerror(errno));
    got = lwip_recv(fd, &extra, 1, 0);
    if (got < 0)
        die("waiting for the peer's EOF: %s", errno_text(errno));
    if (got > 0)
        die("waiting for the peer's EOF: unexpected data");
    if (lwip_close(fd) != 0)
        die("close: %s", strerror(errno));
}

/* ---- the three measurements ----------------------------------------------------------------- */

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* One 64-byte round trip, its bytes marked with the round number, checked on return. */
static double timed_round_trip(int fd, unsigned long round)
{
    unsigned char request[RTT_SIZE], answer[RTT_SIZE];
    double start;

    memset(request, (int)(round & 0xffu), sizeof(request));
    start = now_s();
    send_all(fd, request, sizeof(request));
    recv_exact(fd, answer, sizeof(answer));
    if (memcmp(request, answer, sizeof(answer)) != 0)
        die("round trip %lu: the answer differs from the request", round);
    return (now_s() - start) * 1e6;
}

static void run_rtt(const struct bench_options *options)
{
    double *samples_us = calloc(options->rounds, sizeof(double));
    unsigned long i, p99_index;
    double median;
    int fd;

    if (samples_us == NULL)
        die("out of memory for %lu samples", options->rounds);
    fd = open_connection(&options->peer, true);
    for (i = 0; i < RTT_WARMUP; i++)
        timed_round_trip(fd, i);
    for (i = 0; i < options->rounds; i++)
        samples_us[i] = timed_round_trip(fd, RTT_WARMUP + i);
    finish_connection(fd);
    qsort(samples_us, options->rounds, sizeof(double), compare_doubles);
    median = options->rounds % 2
                 ? samples_us[options->rounds / 2]
                 : (samples_us[options->rounds / 2 - 1] + samples_us[options->rounds / 2]) / 2;
    /* p99 by nearest rank: the ceil(0.99 n)-th smallest sample. */
    p99_index = (options->rounds * 99 + 99) / 100 - 1;
    printf("lwip rtt median_us=%.1f p99_us=%.1f n=%lu\n", median, samples_us[p99_index],
           options->rounds);
    free(samples_us);
}

static void print_throughput(const char *what, unsigned long long bytes, double seconds)
{
    printf("lwip %s mbit=%.1f bytes=%llu seconds=%.3f\n", what,
           seconds > 0 ? (double)bytes * 8 / seconds / 1e6 : 0.0, bytes, seconds);
}

static void run_send(const struct bench_options *options)
{
    static unsigned char chunk[CHUNK];
    unsigned long long total = options->mib * MIB, sent;
    double start;
    int fd = open_connection(&options->peer, false);

    start = now_s();
    for (sent = 0; sent < total; sent += CHUNK)
        send_all(fd, chunk, CHUNK);
    finish_connection(fd);
    print_throughput("send", total, now_s() - start);
}

static void run_recv(const struct bench_options *options)
{
    static unsigned char chunk[CHUNK];
    unsigned long long received = 0;
    double start, seconds;
    ssize_t got;
    int fd = open_connection(&options->peer, false);

    start = now_s();
    while ((got = lwip_recv(fd, chunk, CHUNK, 0)) > 0)
        received += (unsigned long long)got;
    if (got < 0)
        die("recv after %llu bytes: %s", received, errno_text(errno));
    seconds = now_s() - start;
    if (lwip_close(fd) != 0)
        die("close: %s", strerror(errno));
    print_throughput("recv", received, seconds);
}

int main(int argc, char **argv)
{
    struct bench_options options = parse_options(argc, argv);
    static struct netif netif;

    lwip_tap_start(PROG, &netif, &options.net);
    if (options.mode == MODE_RTT)
        run_rtt(&options);
    else if (options.mode == MODE_SEND)
        run_send(&options);
    else
        run_recv(&options);
    fflush(stdout);
    return 0;
}
