/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP GET, after ESP-IDF's protocols/http_request: connect to the server,
 * write a plain HTTP/1.0 request, set a receive timeout (5 s), read the
 * response in small pieces (64 bytes) until the server closes, then count
 * down (10 s) and start again. kite has no DNS yet, so the server is an
 * address literal (--url http://192.0.2.1:8000/path). Where ESP-IDF prints
 * the response, this prints its status line and the body's length (and the
 * Content-Length the server announced). ESP-IDF's loops forever; --count
 * ends it after that many requests (exit 0 when each returned a complete
 * body). Only the socket API (kite/sockets.h) touches the network.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kite/sockets.h"
#include "kite_example_net.h"

static const char *TAG = "example";

struct request_opts {
    char host[16];
    char path[256];
    int port;
    int count;        /* requests; 0: forever */
    int countdown_s;  /* pause between requests */
    int rcvtimeout_s; /* SO_RCVTIMEO */
};

/* What has been read of one response. */
struct response {
    char head[2048]; /* status line and headers, up to the empty line */
    size_t head_len;
    bool head_done;
    unsigned long long body_len;
};

/* Feed n received bytes: the head first, then everything counts as body. */
static void response_feed(struct response *r, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (r->head_done) {
            r->body_len += n - i;
            return;
        }
        if (r->head_len + 1 < sizeof r->head)
            r->head[r->head_len++] = buf[i];
        r->head[r->head_len] = '\0';
        if (r->head_len >= 4 && strcmp(r->head + r->head_len - 4, "\r\n\r\n") == 0)
            r->head_done = true;
    }
}

/* Report the response; true when it is complete (200 and, if announced, the
 * whole Content-Length). */
static bool response_report(const struct response *r)
{
    const char *eol = strstr(r->head, "\r\n");
    long long announced = -1;

    if (!r->head_done || eol == NULL) {
        KITE_LOGE(TAG, "no complete response head");
        return false;
    }
    KITE_LOGI(TAG, "status line: %.*s", (int)(eol - r->head), r->head);
    for (const char *line = eol + 2; *line != '\0'; line = strstr(line, "\r\n") + 2) {
        if (strncasecmp(line, "Content-Length:", 15) == 0)
            announced = strtoll(line + 15, NULL, 10);
    }
    KITE_LOGI(TAG, "body length: %llu bytes (Content-Length %lld)", r->body_len, announced);
    if (announced >= 0 && (unsigned long long)announced != r->body_len) {
        KITE_LOGE(TAG, "body is %llu bytes, the server announced %lld", r->body_len, announced);
        return false;
    }
    return strncmp(r->head, "HTTP/1.", 7) == 0 && strncmp(r->head + 8, " 200", 4) == 0;
}

/* One request; true when it returned a complete body. */
static bool http_get(struct kite_example_net *net, const struct request_opts *o)
{
    struct kite_sockets *s = kite_example_net_sockets(net);
    struct kite_sockaddr_in addr = {.sin_family = KITE_AF_INET,
                                    .sin_port = htons((uint16_t)o->port)};
    struct kite_timeval receiving_timeout = {.tv_sec = o->rcvtimeout_s, .tv_usec = 0};
    static struct response resp;
    char request[512], recv_buf[64];
    ssize_t r;

    inet_pton(AF_INET, o->host, &addr.sin_addr);
    KITE_LOGI(TAG, "Server address (literal, no DNS lookup): IP=%s", o->host);
    int sock = kite_socket(s, KITE_AF_INET, KITE_SOCK_STREAM, 0);
    if (sock < 0) {
        KITE_LOGE(TAG, "... Failed to allocate socket: errno %d", errno);
        return false;
    }
    KITE_LOGI(TAG, "... allocated socket");
    if (kite_connect(s, sock, (struct kite_sockaddr *)&addr, sizeof addr) != 0) {
        KITE_LOGE(TAG, "... socket connect failed errno=%d", errno);
        kite_close(s, sock);
        return false;
    }
    KITE_LOGI(TAG, "... connected");
    int n = snprintf(request, sizeof request,
                     "GET %s HTTP/1.0\r\nHost: %s:%d\r\nUser-Agent: kite/1.0 example\r\n\r\n",
                     o->path, o->host, o->port);
    if (kite_write(s, sock, request, (size_t)n) < 0) {
        KITE_LOGE(TAG, "... socket send failed: errno %d", errno);
        kite_close(s, sock);
        return false;
    }
    KITE_LOGI(TAG, "... socket send success");
    if (kite_setsockopt(s, sock, KITE_SOL_SOCKET, KITE_SO_RCVTIMEO, &receiving_timeout,
                        sizeof receiving_timeout) < 0) {
        KITE_LOGE(TAG, "... failed to set socket receiving timeout: errno %d", errno);
        kite_close(s, sock);
        return false;
    }
    KITE_LOGI(TAG, "... set socket receiving timeout success");
    memset(&resp, 0, sizeof resp);
    do {
        r = kite_read(s, sock, recv_buf, sizeof recv_buf);
        if (r > 0)
            response_feed(&resp, recv_buf, (size_t)r);
    } while (r > 0);
    KITE_LOGI(TAG, "... done reading from socket. Last read return=%d errno=%d.", (int)r,
              r < 0 ? errno : 0);
    kite_close(s, sock);
    return r == 0 && response_report(&resp);
}

static int http_request(struct kite_example_net *net, const struct request_opts *o)
{
    int failed = 0;

    for (int done = 0; o->count == 0 || done < o->count; done++) {
        if (!http_get(net, o))
            failed++;
        if (kite_example_net_stopping(net))
            return 0; /* a stop ended it, not the network */
        if (o->count != 0 && done + 1 == o->count)
            break;
        for (int countdown = o->countdown_s; countdown >= 0; countdown--) {
            KITE_LOGI(TAG, "%d... ", countdown);
            if (!kite_example_net_sleep(net, 1000))
                return 0;
        }
        KITE_LOGI(TAG, "Starting again!");
    }
    return failed == 0 ? 0 : 1;
}

/* http://ADDR[:PORT][/PATH] with ADDR a dotted quad. */
static bool parse_url(const char *url, struct request_opts *o)
{
    struct kite_in_addr probe;
    const char *p = url + 7;

    if (strncmp(url, "http://", 7) != 0)
        return false;
    size_t hlen = strcspn(p, ":/");
    if (hlen == 0 || hlen >= sizeof o->host)
        return false;
    memcpy(o->host, p, hlen);
    o->host[hlen] = '\0';
    p += hlen;
    o->port = 80;
    if (*p == ':') {
        char *end;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || port < 1 || port > 65535)
            return false;
        o->port = (int)port;
        p = end;
    }
    if (*p != '\0' && *p != '/')
        return false;
    snprintf(o->path, sizeof o->path, "%s", *p == '\0' ? "/" : p);
    return strlen(p) < sizeof o->path && inet_pton(AF_INET, o->host, &probe) == 1;
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s --tap IFNAME --ipv4 ADDR/PREFIX [--gw ADDR] [--mac MAC]\n"
            "          --url http://ADDR[:PORT]/PATH [--count N] [--countdown-s S]\n%s"
            "  --url URL           what to get; ADDR is an IPv4 address literal\n"
            "  --count N           requests, then exit (0: forever, the default)\n"
            "  --countdown-s S     countdown between requests (10)\n"
            "  --timeout-s S       receive timeout (5)\n",
            prog, kite_example_net_usage());
}

static bool parse_args(int argc, char **argv, struct request_opts *o)
{
    bool have_url = false;

    memset(o, 0, sizeof *o);
    o->countdown_s = 10;
    o->rcvtimeout_s = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *v = argv[i + 1];
        if (strcmp(argv[i], "--url") == 0 && (have_url = parse_url(v, o)))
            continue;
        else if (strcmp(argv[i], "--count") == 0 &&
                 (o->count = kite_example_int_arg(v, 0, 1000000)) >= 0)
            continue;
        else if (strcmp(argv[i], "--countdown-s") == 0 &&
                 (o->countdown_s = kite_example_int_arg(v, 0, 3600)) >= 0)
            continue;
        else if (strcmp(argv[i], "--timeout-s") == 0 &&
                 (o->rcvtimeout_s = kite_example_int_arg(v, 1, 3600)) > 0)
            continue;
        else
            return false;
    }
    return argc % 2 == 1 && have_url;
}

int main(int argc, char **argv)
{
    struct request_opts o;
    struct kite_example_net *net = kite_example_net_start(&argc, argv);

    if (net == NULL || !parse_args(argc, argv, &o)) {
        usage(argv[0]);
        return net == NULL ? 2 : kite_example_net_stop(net, 2);
    }
    return kite_example_net_stop(net, http_request(net, &o));
}
