/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * UDP client, after ESP-IDF's protocols/sockets/udp_client: send a message
 * to a server (port 3333), wait for the reply with a receive timeout
 * (SO_RCVTIMEO, 10 s), print it, pause (2 s) and send again. A failed
 * receive (the timeout) closes the socket and starts over with a new one, as
 * does a reply starting with "OK: ". ESP-IDF's loops forever; --count ends
 * it after that many messages (exit 0 when each got its reply, 1 when one
 * did not). Only the socket API (kite/sockets.h) touches the network.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kite/sockets.h"
#include "kite_example_net.h"

static const char *TAG = "example";

struct client_opts {
    const char *host;
    const char *payload;
    int port;
    int count;       /* messages to send; 0: forever */
    int interval_ms; /* pause after each reply */
    int timeout_s;   /* SO_RCVTIMEO */
};

struct progress {
    int sent;
    int failed; /* messages without a reply */
};

static bool more(const struct client_opts *o, const struct progress *p)
{
    return o->count == 0 || p->sent < o->count;
}

/* Send and receive on one socket until an error, the "OK: " reply or the end. */
static void exchange(struct kite_example_net *net, int sock, const struct client_opts *o,
                     struct progress *p)
{
    struct kite_sockets *s = kite_example_net_sockets(net);
    struct kite_sockaddr_in dest_addr = {.sin_family = KITE_AF_INET,
                                         .sin_port = htons((uint16_t)o->port)};
    char rx_buffer[128];

    inet_pton(AF_INET, o->host, &dest_addr.sin_addr);
    while (more(o, p)) {
        ssize_t err = kite_sendto(s, sock, o->payload, strlen(o->payload), 0,
                                  (struct kite_sockaddr *)&dest_addr, sizeof dest_addr);
        p->sent++;
        if (err < 0) {
            KITE_LOGE(TAG, "Error occurred during sending: errno %d", errno);
            p->failed++;
            return;
        }
        KITE_LOGI(TAG, "Message sent");
        struct kite_sockaddr_in source_addr;
        kite_socklen_t socklen = sizeof source_addr;
        ssize_t len = kite_recvfrom(s, sock, rx_buffer, sizeof rx_buffer - 1, 0,
                                    (struct kite_sockaddr *)&source_addr, &socklen);
        if (len < 0) {
            KITE_LOGE(TAG, "recvfrom failed: errno %d", errno);
            p->failed++;
            return;
        }
        rx_buffer[len] = '\0'; /* print what came as text */
        KITE_LOGI(TAG, "Received %d bytes from %s:", (int)len, o->host);
        KITE_LOGI(TAG, "%s", rx_buffer);
        if (strncmp(rx_buffer, "OK: ", 4) == 0) {
            KITE_LOGI(TAG, "Received expected message, reconnecting");
            return;
        }
        if (more(o, p) && !kite_example_net_sleep(net, (unsigned)o->interval_ms))
            return;
    }
}

static int udp_client(struct kite_example_net *net, const struct client_opts *o)
{
    struct kite_sockets *s = kite_example_net_sockets(net);
    struct kite_timeval timeout = {.tv_sec = o->timeout_s, .tv_usec = 0};
    struct progress p = {0, 0};

    while (more(o, &p) && !kite_example_net_stopping(net)) {
        int sock = kite_socket(s, KITE_AF_INET, KITE_SOCK_DGRAM, KITE_IPPROTO_IP);
        if (sock < 0) {
            KITE_LOGE(TAG, "Unable to create socket: errno %d", errno);
            return 1;
        }
        kite_setsockopt(s, sock, KITE_SOL_SOCKET, KITE_SO_RCVTIMEO, &timeout, sizeof timeout);
        KITE_LOGI(TAG, "Socket created, sending to %s:%d", o->host, o->port);
        exchange(net, sock, o, &p);
        if (more(o, &p) && !kite_example_net_stopping(net))
            KITE_LOGE(TAG, "Shutting down socket and restarting...");
        kite_shutdown(s, sock, KITE_SHUT_RD);
        kite_close(s, sock);
    }
    if (kite_example_net_stopping(net))
        return 0; /* a stop ended it, not the network */
    KITE_LOGI(TAG, "%d messages sent, %d without a reply", p.sent, p.failed);
    return p.failed == 0 ? 0 : 1;
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s --tap IFNAME --ipv4 ADDR/PREFIX [--gw ADDR] [--mac MAC]\n"
            "          --host ADDR [--port N] [--count N] [--interval-ms MS]\n"
            "          [--timeout-s S] [--message TEXT]\n%s"
            "  --host ADDR         server's IPv4 address\n"
            "  --port N            server's port (3333)\n"
            "  --count N           messages to send, then exit (0: forever, the default)\n"
            "  --interval-ms MS    pause after each reply (2000)\n"
            "  --timeout-s S       how long to wait for a reply (10)\n"
            "  --message TEXT      what to send (\"Message from kite \")\n",
            prog, kite_example_net_usage());
}

static bool parse_args(int argc, char **argv, struct client_opts *o)
{
    struct kite_in_addr probe;

    *o = (struct client_opts){
        .payload = "Message from kite ", .port = 3333, .interval_ms = 2000, .timeout_s = 10};
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *v = argv[i + 1];
        if (strcmp(argv[i], "--host") == 0)
            o->host = v;
        else if (strcmp(argv[i], "--message") == 0 && v[0] != '\0')
            o->payload = v;
        else if (strcmp(argv[i], "--port") == 0 &&
                 (o->port = kite_example_int_arg(v, 1, 65535)) > 0)
            continue;
        else if (strcmp(argv[i], "--count") == 0 &&
                 (o->count = kite_example_int_arg(v, 0, 1000000)) >= 0)
            continue;
        else if (strcmp(argv[i], "--interval-ms") == 0 &&
                 (o->interval_ms = kite_example_int_arg(v, 0, 3600000)) >= 0)
            continue;
        else if (strcmp(argv[i], "--timeout-s") == 0 &&
                 (o->timeout_s = kite_example_int_arg(v, 1, 3600)) > 0)
            continue;
        else
            return false;
    }
    return argc % 2 == 1 && o->host != NULL && inet_pton(AF_INET, o->host, &probe) == 1;
}

int main(int argc, char **argv)
{
    struct client_opts o;
    struct kite_example_net *net = kite_example_net_start(&argc, argv);

    if (net == NULL || !parse_args(argc, argv, &o)) {
        usage(argv[0]);
        return net == NULL ? 2 : kite_example_net_stop(net, 2);
    }
    return kite_example_net_stop(net, udp_client(net, &o));
}
