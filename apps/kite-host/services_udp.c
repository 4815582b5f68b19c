/* SPDX-License-Identifier: BSD-3-Clause */
/* UDP services: echo (RFC 862, port 7) and discard (RFC 863, port 9). */
#include <stdio.h>

#include "host.h"

/* RFC 862: send every datagram back to where it came from. */
static void echo_recv(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                      const struct kite_addr *src, uint16_t src_port, const struct kite_addr *dst)
{
    struct host *host = arg;

    /* Answer unicast only: echoing broadcasts invites storms, and an echo
     * sent to another echo service (or to port 0) would never end well. */
    if (kite_addr_equal(dst, &host->tap.netif.ip4) && src_port != HOST_ECHO_PORT && src_port != 0) {
        if (kite_udp_sendto(pcb, p, src, src_port) == KITE_ERR_OK) {
            host->n.echoed++;
        } else {
            host->n.echo_failed++;
        }
    }
    kite_pbuf_free(host->stack, p);
}

/* RFC 863: throw every datagram away, silently. */
static void discard_recv(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                         const struct kite_addr *src, uint16_t src_port,
                         const struct kite_addr *dst)
{
    struct host *host = arg;

    (void)pcb;
    (void)src;
    (void)src_port;
    (void)dst;
    host->n.discarded++;
    kite_pbuf_free(host->stack, p);
}

static struct kite_udp_pcb *serve_udp(struct host *host, uint16_t port, kite_udp_recv_fn fn)
{
    struct kite_udp_pcb *pcb = kite_udp_new(host->stack);
    enum kite_err err;

    if (pcb == NULL) {
        fprintf(stderr, "kite-host: no UDP pcb for port %u\n", port);
        return NULL;
    }
    err = kite_udp_bind(pcb, NULL, port);
    if (err != KITE_ERR_OK) {
        fprintf(stderr, "kite-host: UDP bind %u: %s\n", port, kite_err_str(err));
        kite_udp_remove(pcb);
        return NULL;
    }
    kite_udp_recv(pcb, fn, host);
    return pcb;
}

bool udp_services_start(struct host *host)
{
    host->echo = serve_udp(host, HOST_ECHO_PORT, echo_recv);
    host->discard = serve_udp(host, HOST_DISCARD_PORT, discard_recv);
    return host->echo != NULL && host->discard != NULL;
}

void udp_services_stop(struct host *host)
{
    if (host->echo != NULL) {
        kite_udp_remove(host->echo);
        host->echo = NULL;
    }
    if (host->discard != NULL) {
        kite_udp_remove(host->discard);
        host->discard = NULL;
    }
}
