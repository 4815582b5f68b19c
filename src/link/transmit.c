/* SPDX-License-Identifier: BSD-3-Clause */
/* The last step of every send: capture tap, driver, counters. */
#include "kite/netif.h"
#include "kite/pbuf.h"

#include "kite_internal/netif.h"

enum kite_err kite__netif_transmit(struct kite_netif *netif, struct kite_pbuf *p)
{
    if (!kite_netif_is_up(netif))
        return KITE_ERR_NETIF;
    if (netif->capture != NULL)
        netif->capture(netif->capture_ctx, netif, p, KITE_CAPTURE_OUT);
    enum kite_err err = netif->output(netif, p);
    if (err != KITE_ERR_OK) {
        netif->counters.tx_errors++;
        return err;
    }
    netif->counters.tx_packets++;
    netif->counters.tx_bytes += p->tot_len;
    return KITE_ERR_OK;
}
