/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP client, after ESP-IDF's protocols/sockets/tcp_client: connect to a
 * server (port 3333), then send a message, wait for the reply, print it and
 * pause (2 s), again and again. ESP-IDF's loops forever; --count ends it
 * after that many messages (exit 0 when each got its reply). Only the
 * socket API (kite/sockets.h) touches the network.
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
};

/* Send, receive, print, pause; until count messages went (0) or an error (1). */
static int exchange(struct kite_example_net *net, int sock, const struct client_opts *o)
{
    struct kite_sockets *s = kite_example_net_sockets(net);
    char rx_buffer[128];

    for (int sent = 0; o->count == 0 || sent < o->count; sent++) {
        if (kite_send(s, sock, o->payload, strlen(o->payload), 0) < 0) {
            KITE_LOGE(TAG, "Error occurred during sending: errno %d", errno);
            return 1;
        }
        ssize_t len = kite_recv(s, sock, rx_buffer, sizeof rx_buffer - 1, 0);
        if (len < 0) {
            KITE_LOGE(TAG, "recv failed: errno %d", errno);
            return 1;
        }
        if (len == 0) {
            KITE_LOGE(TAG, "Connection closed by the server");
            return 1;
        }
        rx_buffer[len] = '\0'; /* print what came as text */
        KITE_LOGI(TAG, "Received %d bytes from %s:", (int)len, o->host);
        KITE_LOGI(TAG, "%s", rx_buffer);
        if ((o->count == 0 || sent + 1 < o->count) &&
            !kite_example_net_sleep(net, (unsigned)o->interval_ms))
            return 0;
    }
    return 0;
}

static int tcp_client(struct kite_example_net *net, const struct client_opts *o)
{
    struct kite_sockets *s = kite_example_net_sockets(net);
    struct kite_sockaddr_in dest_addr = {.sin_family = KITE_AF_INET,
                                         .sin_port = htons((uint16_t)o->port)};

    inet_pton(AF_INET, o->host, &dest_addr.sin_addr);
    int sock = kite_socket(s, KITE_AF_INET, KITE_SOCK_STREAM, KITE_IPPROTO_IP);
    if (sock < 0) {
        KITE_LOGE(TAG, "Unable to create socket: errno %d", errno);
        return 1;
    }
    KITE_LOGI(TAG, "Socket created, connecting to %s:%d", o->host, o->port);
    if (kite_connect(s, sock, (struct kite_sockaddr *)&dest_addr, sizeof dest_addr) != 0) {
        KITE_LOGE(TAG, "Socket unable to connect: errno %d", errno);
        kite_close(s, sock);
        return 1;
    }
    KITE_LOGI(TAG, "Successfully connected");
    int status = exchange(net, sock, o);
    if (kite_example_net_stopping(net))
        status = 0; /* a stop ended it, not the network */
    KITE_LOGI(TAG, "Shutting down socket");
    kite_shutdown(s, sock, KITE_SHUT_RD);
    kite_close(s, sock);
    return status;
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s --tap IFNAME --ipv4 ADDR/PREFIX [--gw ADDR] [--mac MAC]\n"
            "          --host ADDR [--port N] [--count N] [--interval-ms MS] [--message TEXT]\n%s"
            "  --host ADDR         server's IPv4 address\n"
            "  --port N            server's port (3333)\n"
            "  --count N           messages to send, then exit (0: forever, the default)\n"
            "  --interval-ms MS    pause after each reply (2000)\n"
            "  --message TEXT      what to send (\"Message from kite \")\n",
            prog, kite_example_net_usage());
}

static bool parse_args(int argc, char **argv, struct client_opts *o)
{
    struct kite_in_addr probe;

    *o = (struct client_opts){.payload = "Message from kite ", .port = 3333, .interval_ms = 2000};
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
    return kite_example_net_stop(net, tcp_client(net, &o));
}
