/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * UDP echo server, after ESP-IDF's protocols/sockets/udp_server: bind a port
 * (3333) with IP_PKTINFO on, receive datagrams with recvmsg (so the address
 * each was sent to is known too), print them and send each back to its
 * sender. As in ESP-IDF, the socket has a receive timeout (10 s): when it
 * expires the socket is closed and a new one bound. Runs until SIGINT or
 * SIGTERM. Only the socket API (kite/sockets.h) touches the network.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kite/sockets.h"
#include "kite_example_net.h"

static const char *TAG = "example";

/* Datagrams up to the largest a 1500-byte MTU carries unfragmented. */
#define RX_BUFFER_SIZE 1472

struct server_opts {
    int port;
    int timeout_s; /* SO_RCVTIMEO */
};

/* The address the datagram was sent to, from its IP_PKTINFO control message. */
static void log_destination(const struct kite_msghdr *msg)
{
    const struct kite_cmsghdr *cm = msg->msg_control;
    struct kite_in_pktinfo info;
    char addr_str[16];

    if (cm == NULL || msg->msg_controllen < sizeof *cm + sizeof info)
        return;
    if (cm->cmsg_level != KITE_IPPROTO_IP || cm->cmsg_type != KITE_IP_PKTINFO)
        return;
    memcpy(&info, cm + 1, sizeof info); /* the data follows the header */
    inet_ntop(AF_INET, &info.ipi_addr, addr_str, sizeof addr_str);
    KITE_LOGI(TAG, "dest ip: %s", addr_str);
}

static void log_datagram(const char *buf, ssize_t len, const struct kite_sockaddr_in *from)
{
    char addr_str[16], text[129];
    size_t n = (size_t)len < sizeof text - 1 ? (size_t)len : sizeof text - 1;

    inet_ntop(AF_INET, &from->sin_addr, addr_str, sizeof addr_str);
    for (size_t i = 0; i < n; i++)
        text[i] = buf[i] >= 0x20 && buf[i] < 0x7f ? buf[i] : '.';
    text[n] = '\0';
    KITE_LOGI(TAG, "Received %d bytes from %s:%u:", (int)len, addr_str, ntohs(from->sin_port));
    KITE_LOGI(TAG, "%s", text);
}

/* Receive and echo until an error or the receive timeout. */
static void echo_datagrams(struct kite_sockets *s, int sock)
{
    char rx_buffer[RX_BUFFER_SIZE];
    alignas(struct kite_cmsghdr)
        uint8_t cmsg_buf[sizeof(struct kite_cmsghdr) + sizeof(struct kite_in_pktinfo)];

    for (;;) {
        struct kite_sockaddr_in source_addr;
        struct kite_iovec iov = {.iov_base = rx_buffer, .iov_len = sizeof rx_buffer};
        struct kite_msghdr msg = {.msg_name = &source_addr,
                                  .msg_namelen = sizeof source_addr,
                                  .msg_iov = &iov,
                                  .msg_iovlen = 1,
                                  .msg_control = cmsg_buf,
                                  .msg_controllen = sizeof cmsg_buf};
        KITE_LOGI(TAG, "Waiting for data");
        ssize_t len = kite_recvmsg(s, sock, &msg, 0);
        if (len < 0) {
            KITE_LOGE(TAG, "recvfrom failed: errno %d", errno);
            return;
        }
        log_datagram(rx_buffer, len, &source_addr);
        log_destination(&msg);
        if (kite_sendto(s, sock, rx_buffer, (size_t)len, 0, (struct kite_sockaddr *)&source_addr,
                        sizeof source_addr) < 0) {
            KITE_LOGE(TAG, "Error occurred during sending: errno %d", errno);
            return;
        }
    }
}

/* A socket bound to the port, with IP_PKTINFO and the receive timeout; -1 on error. */
static int open_socket(struct kite_sockets *s, const struct server_opts *o)
{
    struct kite_sockaddr_in dest_addr = {
        .sin_family = KITE_AF_INET,
        .sin_port = htons((uint16_t)o->port),
        .sin_addr = {.s_addr = htonl(KITE_INADDR_ANY)},
    };
    struct kite_timeval timeout = {.tv_sec = o->timeout_s, .tv_usec = 0};
    int enable = 1;

    int sock = kite_socket(s, KITE_AF_INET, KITE_SOCK_DGRAM, KITE_IPPROTO_IP);
    if (sock < 0) {
        KITE_LOGE(TAG, "Unable to create socket: errno %d", errno);
        return -1;
    }
    KITE_LOGI(TAG, "Socket created");
    kite_setsockopt(s, sock, KITE_IPPROTO_IP, KITE_IP_PKTINFO, &enable, sizeof enable);
    kite_setsockopt(s, sock, KITE_SOL_SOCKET, KITE_SO_RCVTIMEO, &timeout, sizeof timeout);
    if (kite_bind(s, sock, (struct kite_sockaddr *)&dest_addr, sizeof dest_addr) < 0) {
        KITE_LOGE(TAG, "Socket unable to bind: errno %d", errno);
        kite_close(s, sock);
        return -1;
    }
    KITE_LOGI(TAG, "Socket bound, port %d", o->port);
    return sock;
}

static int udp_server(struct kite_example_net *net, const struct server_opts *o)
{
    struct kite_sockets *s = kite_example_net_sockets(net);

    while (!kite_example_net_stopping(net)) {
        int sock = open_socket(s, o);
        if (sock < 0)
            return kite_example_net_stopping(net) ? 0 : 1;
        echo_datagrams(s, sock);
        if (!kite_example_net_stopping(net))
            KITE_LOGE(TAG, "Shutting down socket and restarting...");
        kite_shutdown(s, sock, KITE_SHUT_RD);
        kite_close(s, sock);
    }
    return 0;
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s --tap IFNAME --ipv4 ADDR/PREFIX [--gw ADDR] [--mac MAC]\n"
            "          [--port N] [--timeout-s S]\n%s"
            "  --port N            port to bind (3333)\n"
            "  --timeout-s S       receive timeout before the socket is renewed (10)\n",
            prog, kite_example_net_usage());
}

static bool parse_args(int argc, char **argv, struct server_opts *o)
{
    *o = (struct server_opts){.port = 3333, .timeout_s = 10};
    for (int i = 1; i < argc; i += 2) {
        int *field = strcmp(argv[i], "--port") == 0        ? &o->port
                     : strcmp(argv[i], "--timeout-s") == 0 ? &o->timeout_s
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
    return kite_example_net_stop(net, udp_server(net, &o));
}
