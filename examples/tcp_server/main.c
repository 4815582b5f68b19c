/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP echo server, after ESP-IDF's protocols/sockets/tcp_server: listen on a
 * port (3333), accept one connection at a time, turn TCP keepalive on for it
 * (SO_KEEPALIVE with TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT, by default
 * 5 s, 5 s and 3 probes, the example's Kconfig defaults), send back whatever
 * arrives until the peer closes, then wait for the next. Runs until SIGINT
 * or SIGTERM. Only the socket API (kite/sockets.h) touches the network.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kite/sockets.h"
#include "kite_example_net.h"

static const char *TAG = "example";

struct server_opts {
    int port;
    int keep_idle;     /* s before the first probe */
    int keep_interval; /* s between probes */
    int keep_count;    /* probes unanswered before the connection is dropped */
};

/* The received bytes as a log line (non-printable ones as '.'). */
static void log_received(const char *buf, int len)
{
    char text[129];
    int n = len < (int)sizeof text - 1 ? len : (int)sizeof text - 1;

    for (int i = 0; i < n; i++)
        text[i] = buf[i] >= 0x20 && buf[i] < 0x7f ? buf[i] : '.';
    text[n] = '\0';
    KITE_LOGI(TAG, "Received %d bytes: %s", len, text);
}

/* Echo until the peer closes or an error ends the connection. */
static void echo_connection(struct kite_sockets *s, int sock)
{
    char rx_buffer[128];
    ssize_t len;

    do {
        len = kite_recv(s, sock, rx_buffer, sizeof rx_buffer, 0);
        if (len < 0) {
            KITE_LOGE(TAG, "Error occurred during receiving: errno %d", errno);
        } else if (len == 0) {
            KITE_LOGW(TAG, "Connection closed");
        } else {
            log_received(rx_buffer, (int)len);
            /* send() may take less than it was given: loop until all is out. */
            ssize_t sent = 0;
            while (sent < len) {
                ssize_t n = kite_send(s, sock, rx_buffer + sent, (size_t)(len - sent), 0);
                if (n < 0) {
                    KITE_LOGE(TAG, "Error occurred during sending: errno %d", errno);
                    return;
                }
                sent += n;
            }
        }
    } while (len > 0);
}

static void set_keepalive(struct kite_sockets *s, int sock, const struct server_opts *o)
{
    int on = 1;
    int idle = 0, interval = 0, count = 0;
    kite_socklen_t len = sizeof(int);

    kite_setsockopt(s, sock, KITE_SOL_SOCKET, KITE_SO_KEEPALIVE, &on, sizeof on);
    kite_setsockopt(s, sock, KITE_IPPROTO_TCP, KITE_TCP_KEEPIDLE, &o->keep_idle, sizeof(int));
    kite_setsockopt(s, sock, KITE_IPPROTO_TCP, KITE_TCP_KEEPINTVL, &o->keep_interval, sizeof(int));
    kite_setsockopt(s, sock, KITE_IPPROTO_TCP, KITE_TCP_KEEPCNT, &o->keep_count, sizeof(int));
    /* Read them back, so the log shows what the connection really uses. */
    kite_getsockopt(s, sock, KITE_SOL_SOCKET, KITE_SO_KEEPALIVE, &on, &len);
    len = sizeof(int);
    kite_getsockopt(s, sock, KITE_IPPROTO_TCP, KITE_TCP_KEEPIDLE, &idle, &len);
    len = sizeof(int);
    kite_getsockopt(s, sock, KITE_IPPROTO_TCP, KITE_TCP_KEEPINTVL, &interval, &len);
    len = sizeof(int);
    kite_getsockopt(s, sock, KITE_IPPROTO_TCP, KITE_TCP_KEEPCNT, &count, &len);
    KITE_LOGI(TAG, "Keepalive %s: idle %d s, interval %d s, count %d", on ? "on" : "off", idle,
              interval, count);
}

/* Accept and serve connections one after another; 0 when a stop ended it. */
static int serve(struct kite_example_net *net, int listen_sock, const struct server_opts *o)
{
    struct kite_sockets *s = kite_example_net_sockets(net);

    while (!kite_example_net_stopping(net)) {
        KITE_LOGI(TAG, "Socket listening");
        struct kite_sockaddr_in source_addr;
        kite_socklen_t addr_len = sizeof source_addr;
        int sock = kite_accept(s, listen_sock, (struct kite_sockaddr *)&source_addr, &addr_len);
        if (sock < 0) {
            if (kite_example_net_stopping(net))
                break;
            KITE_LOGE(TAG, "Unable to accept connection: errno %d", errno);
            return 1;
        }
        set_keepalive(s, sock, o);
        char addr_str[16];
        inet_ntop(AF_INET, &source_addr.sin_addr, addr_str, sizeof addr_str);
        KITE_LOGI(TAG, "Socket accepted ip address: %s port %u", addr_str,
                  ntohs(source_addr.sin_port));
        echo_connection(s, sock);
        kite_shutdown(s, sock, KITE_SHUT_RD);
        kite_close(s, sock);
    }
    return 0;
}

static int tcp_server(struct kite_example_net *net, const struct server_opts *o)
{
    struct kite_sockets *s = kite_example_net_sockets(net);
    struct kite_sockaddr_in dest_addr = {
        .sin_family = KITE_AF_INET,
        .sin_port = htons((uint16_t)o->port),
        .sin_addr = {.s_addr = htonl(KITE_INADDR_ANY)},
    };
    int status = 1;

    int listen_sock = kite_socket(s, KITE_AF_INET, KITE_SOCK_STREAM, KITE_IPPROTO_IP);
    if (listen_sock < 0) {
        KITE_LOGE(TAG, "Unable to create socket: errno %d", errno);
        return 1;
    }
    int opt = 1;
    kite_setsockopt(s, listen_sock, KITE_SOL_SOCKET, KITE_SO_REUSEADDR, &opt, sizeof opt);
    KITE_LOGI(TAG, "Socket created");
    if (kite_bind(s, listen_sock, (struct kite_sockaddr *)&dest_addr, sizeof dest_addr) != 0) {
        KITE_LOGE(TAG, "Socket unable to bind: errno %d", errno);
        KITE_LOGE(TAG, "IPPROTO: %d", KITE_AF_INET);
        goto clean_up;
    }
    KITE_LOGI(TAG, "Socket bound, port %d", o->port);
    if (kite_listen(s, listen_sock, 1) != 0) {
        KITE_LOGE(TAG, "Error occurred during listen: errno %d", errno);
        goto clean_up;
    }
    status = serve(net, listen_sock, o);
clean_up:
    kite_close(s, listen_sock);
    return status;
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s --tap IFNAME --ipv4 ADDR/PREFIX [--gw ADDR] [--mac MAC]\n"
            "          [--port N] [--keepidle S] [--keepintvl S] [--keepcnt N]\n%s"
            "  --port N            port to listen on (3333)\n"
            "  --keepidle S        TCP_KEEPIDLE (5)\n"
            "  --keepintvl S       TCP_KEEPINTVL (5)\n"
            "  --keepcnt N         TCP_KEEPCNT (3)\n",
            prog, kite_example_net_usage());
}

static bool parse_args(int argc, char **argv, struct server_opts *o)
{
    *o = (struct server_opts){.port = 3333, .keep_idle = 5, .keep_interval = 5, .keep_count = 3};
    for (int i = 1; i < argc; i += 2) {
        int *field = strcmp(argv[i], "--port") == 0        ? &o->port
                     : strcmp(argv[i], "--keepidle") == 0  ? &o->keep_idle
                     : strcmp(argv[i], "--keepintvl") == 0 ? &o->keep_interval
                     : strcmp(argv[i], "--keepcnt") == 0   ? &o->keep_count
                                                           : NULL;
        if (field == NULL || i + 1 >= argc ||
            (*field = kite_example_int_arg(argv[i + 1], 1, 65535)) < 0)
            return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    struct server_opts o;
    struct kite_example_net *net = kite_example_net_start(&argc, argv);

    if (net == NULL || !parse_args(argc, argv, &o)) {
        usage(argv[0]);
        return net == NULL ? 2 : kite_example_net_stop(net, 2);
    }
    return kite_example_net_stop(net, tcp_server(net, &o));
}
