/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * UDP multicast, after ESP-IDF's protocols/sockets/udp_multicast (its IPv4
 * half): a socket bound to the port (3333) joins the group (232.10.11.12)
 * on the netif, with IP_MULTICAST_TTL (1), IP_MULTICAST_IF (the netif's
 * address) and IP_MULTICAST_LOOP (on); then it waits in select() for up to
 * 2 s: a datagram that arrives is printed with its sender, and a wait that
 * ends empty sends "Multicast #N sent by kite" to the group. ESP-IDF's loops
 * forever; --count N stops after N sends (exit 0 when each was sent, 1
 * otherwise). Only the socket API (kite/sockets.h) touches the network.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kite/sockets.h"
#include "kite_example_net.h"

static const char *TAG = "multicast";

struct mcast_opts {
    const char *group;
    int port;
    int ttl;
    int loop;
    int count;      /* sends; 0: forever */
    int timeout_ms; /* select() wait before a send */
};

static int fail_with(struct kite_sockets *s, int sock, const char *what)
{
    KITE_LOGE(TAG, "%s: errno %d", what, errno);
    kite_close(s, sock);
    return -1;
}

/* The multicast options and the membership on the netif with address ifaddr. */
static int configure(struct kite_sockets *s, int sock, const struct mcast_opts *o, uint32_t ifaddr)
{
    uint8_t ttl = (uint8_t)o->ttl, loop = (uint8_t)o->loop;
    struct kite_in_addr iaddr = {.s_addr = ifaddr};
    struct kite_ip_mreq imreq = {.imr_interface = {.s_addr = ifaddr}};

    if (kite_setsockopt(s, sock, KITE_IPPROTO_IP, KITE_IP_MULTICAST_TTL, &ttl, sizeof ttl) < 0)
        return fail_with(s, sock, "Failed to set IP_MULTICAST_TTL");
    if (kite_setsockopt(s, sock, KITE_IPPROTO_IP, KITE_IP_MULTICAST_LOOP, &loop, sizeof loop) < 0)
        return fail_with(s, sock, "Failed to set IP_MULTICAST_LOOP");
    if (kite_setsockopt(s, sock, KITE_IPPROTO_IP, KITE_IP_MULTICAST_IF, &iaddr, sizeof iaddr) < 0)
        return fail_with(s, sock, "Failed to set IP_MULTICAST_IF");
    inet_pton(AF_INET, o->group, &imreq.imr_multiaddr.s_addr);
    KITE_LOGI(TAG, "Configured IPV4 Multicast address %s", o->group);
    if (kite_setsockopt(s, sock, KITE_IPPROTO_IP, KITE_IP_ADD_MEMBERSHIP, &imreq, sizeof imreq) < 0)
        return fail_with(s, sock, "Failed to set IP_ADD_MEMBERSHIP");
    return sock;
}

/* ESP-IDF's create_multicast_ipv4_socket: bind the port, then the options. */
static int create_socket(struct kite_sockets *s, const struct mcast_opts *o, uint32_t ifaddr)
{
    struct kite_sockaddr_in saddr = {.sin_family = KITE_AF_INET,
                                     .sin_port = htons((uint16_t)o->port),
                                     .sin_addr = {.s_addr = htonl(KITE_INADDR_ANY)}};
    int sock = kite_socket(s, KITE_AF_INET, KITE_SOCK_DGRAM, KITE_IPPROTO_IP);
    if (sock < 0) {
        KITE_LOGE(TAG, "Failed to create socket. Error %d", errno);
        return -1;
    }
    if (kite_bind(s, sock, (struct kite_sockaddr *)&saddr, sizeof saddr) < 0)
        return fail_with(s, sock, "Failed to bind socket");
    return configure(s, sock, o, ifaddr);
}

static void print_datagram(struct kite_sockets *s, int sock)
{
    char buf[128], from[16];
    struct kite_sockaddr_in src;
    kite_socklen_t len = sizeof src;
    ssize_t n = kite_recvfrom(s, sock, buf, sizeof buf - 1, 0, (struct kite_sockaddr *)&src, &len);
    if (n < 0) {
        KITE_LOGE(TAG, "multicast recvfrom failed: errno %d", errno);
        return;
    }
    buf[n] = '\0';
    inet_ntop(AF_INET, &src.sin_addr, from, sizeof from);
    KITE_LOGI(TAG, "received %d bytes from %s:", (int)n, from);
    KITE_LOGI(TAG, "%s", buf);
}

static bool send_one(struct kite_sockets *s, int sock, const struct mcast_opts *o, int n)
{
    char msg[64];
    struct kite_sockaddr_in to = {.sin_family = KITE_AF_INET, .sin_port = htons((uint16_t)o->port)};
    inet_pton(AF_INET, o->group, &to.sin_addr);
    int len = snprintf(msg, sizeof msg, "Multicast #%d sent by kite\n", n);
    KITE_LOGI(TAG, "Sending to IPV4 multicast address %s:%d...", o->group, o->port);
    if (kite_sendto(s, sock, msg, (size_t)len, 0, (struct kite_sockaddr *)&to, sizeof to) < 0) {
        KITE_LOGE(TAG, "IPV4 sendto failed. errno: %d", errno);
        return false;
    }
    return true;
}

static int mcast_loop(struct kite_example_net *net, const struct mcast_opts *o)
{
    struct kite_sockets *s = kite_example_net_sockets(net);
    int sock = create_socket(s, o, kite_example_net_ipv4(net));
    if (sock < 0)
        return 1;
    int sent = 0, failed = 0;
    while (!kite_example_net_stopping(net) && (o->count == 0 || sent < o->count)) {
        struct kite_timeval tv = {.tv_sec = o->timeout_ms / 1000,
                                  .tv_usec = (o->timeout_ms % 1000) * 1000};
        kite_fd_set rfds;
        KITE_FD_ZERO(&rfds);
        KITE_FD_SET(sock, &rfds);
        int r = kite_select(s, sock + 1, &rfds, NULL, NULL, &tv);
        if (r < 0) {
            KITE_LOGE(TAG, "Select failed: errno %d", errno);
            break;
        }
        if (r > 0 && KITE_FD_ISSET(sock, &rfds)) {
            print_datagram(s, sock);
            continue;
        }
        failed += send_one(s, sock, o, ++sent) ? 0 : 1;
    }
    KITE_LOGE(TAG, "Shutting down socket and restarting...");
    kite_shutdown(s, sock, KITE_SHUT_RDWR);
    kite_close(s, sock);
    return failed == 0 && sent > 0 ? 0 : 1;
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s --tap IFNAME --ipv4 ADDR/PREFIX [--gw ADDR] [--mac MAC]\n"
            "          [--group A.B.C.D] [--port N] [--ttl N] [--loop 0|1] [--count N]\n"
            "          [--timeout-ms MS]\n%s"
            "  --group A.B.C.D     multicast group (232.10.11.12)\n"
            "  --port N            port (3333)\n"
            "  --ttl N             IP_MULTICAST_TTL (1)\n"
            "  --loop 0|1          IP_MULTICAST_LOOP (1)\n"
            "  --count N           stop after N sends (0: run until a signal)\n"
            "  --timeout-ms MS     select() wait before each send (2000)\n",
            prog, kite_example_net_usage());
}

static bool parse_args(int argc, char **argv, struct mcast_opts *o)
{
    *o = (struct mcast_opts){
        .group = "232.10.11.12", .port = 3333, .ttl = 1, .loop = 1, .timeout_ms = 2000};
    for (int i = 1; i + 1 < argc; i += 2) {
        int *field = strcmp(argv[i], "--port") == 0         ? &o->port
                     : strcmp(argv[i], "--ttl") == 0        ? &o->ttl
                     : strcmp(argv[i], "--loop") == 0       ? &o->loop
                     : strcmp(argv[i], "--count") == 0      ? &o->count
                     : strcmp(argv[i], "--timeout-ms") == 0 ? &o->timeout_ms
                                                            : NULL;
        if (strcmp(argv[i], "--group") == 0)
            o->group = argv[i + 1];
        else if (field != NULL)
            *field = atoi(argv[i + 1]);
        else
            return false;
    }
    struct kite_in_addr probe;
    return argc % 2 == 1 && inet_pton(AF_INET, o->group, &probe) == 1 && o->port > 0 &&
           o->port < 65536 && o->ttl >= 0 && o->ttl < 256 && o->timeout_ms > 0;
}

int main(int argc, char **argv)
{
    struct mcast_opts o;
    struct kite_example_net *net = kite_example_net_start(&argc, argv);

    if (net == NULL || !parse_args(argc, argv, &o)) {
        usage(argv[0]);
        return net == NULL ? 2 : kite_example_net_stop(net, 2);
    }
    return kite_example_net_stop(net, mcast_loop(net, &o));
}
