/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --forward IFNAME,ADDR/PREFIX[,MTU]: a second TAP device as a second netif,
 * and IPv4 forwarding between the two (RFC 1812, docs/ipv4.md), so kite-host
 * is a router that Linux hosts on either side can be tested through.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

bool parse_forward(struct options *opt, const char *arg)
{
    char buf[64];
    if (strlen(arg) >= sizeof buf)
        return false;
    strcpy(buf, arg);
    char *addr = strchr(buf, ',');
    if (addr == NULL || addr == buf)
        return false;
    *addr++ = '\0';
    char *mtu = strchr(addr, ',');
    if (mtu != NULL) {
        *mtu++ = '\0';
        char *end = NULL;
        unsigned long v = strtoul(mtu, &end, 10);
        if (end == mtu || *end != '\0' || v < 576 || v > 1500)
            return false;
        opt->fwd_mtu = (uint16_t)v;
    }
    if (!kite_ip4_parse_prefix(addr, &opt->fwd_addr, &opt->fwd_prefix) ||
        strlen(buf) >= sizeof opt->fwd_name)
        return false;
    strcpy(opt->fwd_name, buf);
    opt->fwd_tap = opt->fwd_name;
    return true;
}

bool forward_start(struct host *host)
{
    const struct options *opt = host->opt;
#if KITE_IP_FORWARD
    uint8_t mac[KITE_ETH_ADDR_LEN];
    memcpy(mac, opt->mac, sizeof mac);
    mac[5] ^= 0x80u; /* the second netif's own address */
    enum kite_err err = kite_tap_open(&host->fwd, host->stack, opt->fwd_tap, mac);
    if (err != KITE_ERR_OK) {
        fprintf(stderr, "kite-host: cannot open TAP %s: %s (%s)\n", opt->fwd_tap, kite_err_str(err),
                strerror(errno));
        return false;
    }
    if (opt->fwd_mtu != 0)
        host->fwd.netif.mtu = opt->fwd_mtu;
    err = kite_netif_set_ipv4(&host->fwd.netif, opt->fwd_addr, opt->fwd_prefix, 0);
    if (err != KITE_ERR_OK) {
        fprintf(stderr, "kite-host: --forward address: %s\n", kite_err_str(err));
        return false;
    }
    kite_ipv4_set_forwarding(host->stack, true);
    printf("kite-host: forwarding between %s and %s (MTU %u)\n", opt->tap, opt->fwd_tap,
           (unsigned)host->fwd.netif.mtu);
    return true;
#else
    (void)opt;
    fprintf(stderr, "kite-host: --forward: built without KITE_IP_FORWARD\n");
    return false;
#endif
}

void forward_stop(struct host *host)
{
    if (host->fwd.fd >= 0)
        kite_tap_close(&host->fwd);
    host->fwd.fd = -1;
}
