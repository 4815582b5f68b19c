/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ping over a raw ICMP socket, as Linux's ping does it with SOCK_RAW: the
 * program builds each echo request itself (type 8, its own identifier,
 * sequence numbers 1..N, a 56-byte payload, the RFC 1071 checksum), sends it
 * with sendto and waits for the matching echo reply with recvfrom and a
 * receive timeout (SO_RCVTIMEO). What a raw socket receives begins with the
 * IPv4 header (IHL * 4 bytes), as on Linux; the ICMP message follows. It
 * prints one line per reply with the round-trip time and exits 0 when every
 * request was answered, 1 otherwise. Only the socket API (kite/sockets.h)
 * touches the network.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kite/sockets.h"
#include "kite_example_net.h"

static const char *TAG = "ping";

#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8
#define ICMP_HDR_LEN 8
#define PING_DATA_LEN 56 /* Linux ping's default: 64 bytes of ICMP */

struct ping_opts {
    const char *host;
    struct kite_in_addr dest;
    int count;
    int timeout_ms; /* per request */
};

/* RFC 1071: the one's complement of the one's complement sum of 16-bit words. */
static uint16_t inet_checksum(const uint8_t *data, size_t len)
{
    uint32_t sum = 0;

    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)data[i] << 8 | data[i + 1];
    if (len % 2 != 0)
        sum += (uint32_t)data[len - 1] << 8;
    while (sum >> 16 != 0)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* An echo request: header, then a payload of a counting pattern. */
static size_t build_request(uint8_t *buf, uint16_t id, uint16_t seq)
{
    buf[0] = ICMP_ECHO_REQUEST;
    buf[1] = 0; /* code */
    put16(buf + 2, 0);
    put16(buf + 4, id);
    put16(buf + 6, seq);
    for (size_t i = 0; i < PING_DATA_LEN; i++)
        buf[ICMP_HDR_LEN + i] = (uint8_t)i;
    put16(buf + 2, inet_checksum(buf, ICMP_HDR_LEN + PING_DATA_LEN));
    return ICMP_HDR_LEN + PING_DATA_LEN;
}

/*
 * Is pkt (IPv4 header first) the reply to request (ICMP, len bytes)? Our own
 * requests, other programs' echoes and other ICMP messages are not.
 */
static bool is_reply(const uint8_t *pkt, size_t n, const uint8_t *request, size_t len,
                     const struct kite_in_addr *from, const struct ping_opts *o)
{
    if (n < 20 || pkt[0] >> 4 != 4)
        return false;
    size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
    if (ihl < 20 || n < ihl + len || pkt[9] != KITE_IPPROTO_ICMP)
        return false;
    const uint8_t *icmp = pkt + ihl;
    if (from->s_addr != o->dest.s_addr || icmp[0] != ICMP_ECHO_REPLY || icmp[1] != 0)
        return false;
    if (memcmp(icmp + 4, request + 4, 4) != 0) /* identifier and sequence number */
        return false;
    if (inet_checksum(icmp, n - ihl) != 0) {
        KITE_LOGW(TAG, "echo reply with a bad checksum, ignored");
        return false;
    }
    if (memcmp(icmp + ICMP_HDR_LEN, request + ICMP_HDR_LEN, len - ICMP_HDR_LEN) != 0) {
        KITE_LOGW(TAG, "echo reply with other data than sent, ignored");
        return false;
    }
    return true;
}

/*
 * Wait until deadline for the reply to request; its IP header's TTL and
 * length go to *ttl and *bytes. False on the timeout or an error (errno).
 */
static bool await_reply(struct kite_sockets *s, int sock, const uint8_t *request, size_t len,
                        const struct ping_opts *o, int64_t deadline, int *ttl, int *bytes)
{
    uint8_t pkt[1500];

    for (;;) {
        int64_t left = deadline - now_us();
        if (left <= 0) {
            errno = EAGAIN; /* what the socket says at its timeout */
            return false;
        }
        struct kite_timeval tv = {.tv_sec = (long)(left / 1000000),
                                  .tv_usec = (long)(left % 1000000)};
        if (kite_setsockopt(s, sock, KITE_SOL_SOCKET, KITE_SO_RCVTIMEO, &tv, sizeof tv) < 0) {
            KITE_LOGE(TAG, "setsockopt(SO_RCVTIMEO) failed: errno %d", errno);
            return false;
        }
        struct kite_sockaddr_in from;
        kite_socklen_t fromlen = sizeof from;
        ssize_t n =
            kite_recvfrom(s, sock, pkt, sizeof pkt, 0, (struct kite_sockaddr *)&from, &fromlen);
        if (n < 0)
            return false; /* errno: EAGAIN for the timeout */
        if (is_reply(pkt, (size_t)n, request, len, &from.sin_addr, o)) {
            *ttl = pkt[8];
            *bytes = (int)((size_t)n - (size_t)(pkt[0] & 0x0f) * 4);
            return true;
        }
    }
}

/* One echo request and its reply: true when the reply came in time. */
static bool ping_once(struct kite_example_net *net, int sock, const struct ping_opts *o,
                      uint16_t id, uint16_t seq)
{
    struct kite_sockets *s = kite_example_net_sockets(net);
    struct kite_sockaddr_in to = {.sin_family = KITE_AF_INET, .sin_addr = o->dest};
    uint8_t request[ICMP_HDR_LEN + PING_DATA_LEN];
    size_t len = build_request(request, id, seq);
    int ttl = 0, bytes = 0;

    int64_t sent = now_us();
    if (kite_sendto(s, sock, request, len, 0, (struct kite_sockaddr *)&to, sizeof to) < 0) {
        KITE_LOGE(TAG, "sendto failed: errno %d", errno);
        return false;
    }
    if (!await_reply(s, sock, request, len, o, sent + (int64_t)o->timeout_ms * 1000, &ttl,
                     &bytes)) {
        if (kite_example_net_stopping(net))
            return false; /* the stop closed the socket */
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            KITE_LOGE(TAG, "recvfrom failed: errno %d", errno);
        KITE_LOGW(TAG, "no reply from %s: icmp_seq=%u", o->host, (unsigned)seq);
        return false;
    }
    int64_t rtt = now_us() - sent;
    KITE_LOGI(TAG, "%d bytes from %s: icmp_seq=%u ttl=%d time=%d.%03d ms", bytes, o->host,
              (unsigned)seq, ttl, (int)(rtt / 1000), (int)(rtt % 1000));
    return true;
}

static int ping(struct kite_example_net *net, const struct ping_opts *o)
{
    struct kite_sockets *s = kite_example_net_sockets(net);
    uint16_t id = (uint16_t)getpid();
    int received = 0, sent = 0;

    int sock = kite_socket(s, KITE_AF_INET, KITE_SOCK_RAW, KITE_IPPROTO_ICMP);
    if (sock < 0) {
        KITE_LOGE(TAG, "Unable to create raw socket: errno %d", errno);
        return 1;
    }
    KITE_LOGI(TAG, "PING %s: %d data bytes, id 0x%04x", o->host, PING_DATA_LEN, (unsigned)id);
    for (int seq = 1; seq <= o->count && !kite_example_net_stopping(net); seq++) {
        sent++;
        if (ping_once(net, sock, o, id, (uint16_t)seq))
            received++;
    }
    kite_close(s, sock);
    if (kite_example_net_stopping(net))
        return 0; /* a stop ended it, not the network */
    KITE_LOGI(TAG, "%d packets transmitted, %d received", sent, received);
    return received == o->count ? 0 : 1;
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s --tap IFNAME --ipv4 ADDR/PREFIX [--gw ADDR] [--mac MAC]\n"
            "          [--count N] [--timeout-ms MS] ADDR\n%s"
            "  --count N           echo requests to send (3)\n"
            "  --timeout-ms MS     how long to wait for each reply (1000)\n"
            "  ADDR                the IPv4 address to ping\n",
            prog, kite_example_net_usage());
}

static bool parse_args(int argc, char **argv, struct ping_opts *o)
{
    *o = (struct ping_opts){.count = 3, .timeout_ms = 1000};
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(argv[i], "--count") == 0 && (o->count = kite_example_int_arg(v, 1, 65535)) > 0)
            i++;
        else if (strcmp(argv[i], "--timeout-ms") == 0 &&
                 (o->timeout_ms = kite_example_int_arg(v, 1, 3600000)) > 0)
            i++;
        else if (argv[i][0] != '-' && o->host == NULL)
            o->host = argv[i];
        else
            return false;
    }
    return o->host != NULL && inet_pton(AF_INET, o->host, &o->dest) == 1;
}

int main(int argc, char **argv)
{
    struct ping_opts o;
    struct kite_example_net *net = kite_example_net_start(&argc, argv);

    if (net == NULL || !parse_args(argc, argv, &o)) {
        usage(argv[0]);
        return net == NULL ? 2 : kite_example_net_stop(net, 2);
    }
    return kite_example_net_stop(net, ping(net, &o));
}
