/* SPDX-License-Identifier: BSD-3-Clause */
/* Ethernet II framing (RFC 894 for IPv4 over Ethernet). */

#include <string.h>

#include "kite/stack.h"
#include "kite/wire/ethernet.h"

#include "kite_internal/ethernet.h"
#include "kite_internal/netif.h"
#include "kite_internal/pbuf.h"
#include "kite_internal/stack.h"

static bool frame_is_for_us(const struct kite_netif *netif, const uint8_t dst[6])
{
    return memcmp(dst, netif->hwaddr, 6) == 0 || kite_eth_is_multicast(dst);
}

void kite__ethernet_input(struct kite_netif *netif, struct kite_pbuf *p)
{
    struct kite_stack *stack = netif->stack;
    struct kite_eth_repr eth;
    stack->stats.eth.rx++;
    if (p->len < KITE_ETH_HLEN || kite_eth_parse(p->payload, p->len, &eth) != KITE_ERR_OK) {
        stack->stats.eth.drop_short++;
        goto drop;
    }
    if (!frame_is_for_us(netif, eth.dst)) {
        stack->stats.eth.drop_not_for_us++;
        goto drop;
    }
    if (kite_eth_is_multicast(eth.dst) && !kite_eth_is_broadcast(eth.dst) &&
        stack->mcast_mac_admits != NULL && !stack->mcast_mac_admits(netif, eth.dst)) {
        stack->stats.eth.drop_mcast_filtered++; /* a group no one here joined (IGMP) */
        goto drop;
    }
    kite_l3_input_fn input = kite__stack_ethertype_handler(stack, eth.ethertype);
    if (input == NULL) {
        stack->stats.eth.drop_unknown_type++;
        goto drop;
    }
    if (kite_eth_is_broadcast(eth.dst))
        p->flags |= KITE_PBUF_FLAG_LL_BROADCAST;
    else if (kite_eth_is_multicast(eth.dst))
        p->flags |= KITE_PBUF_FLAG_LL_MULTICAST;
    (void)kite_pbuf_header_remove(p, KITE_ETH_HLEN);
    input(netif, p);
    return;
drop:
    kite_pbuf_free(stack, p);
}

enum kite_err kite__ethernet_output(struct kite_netif *netif, struct kite_pbuf *p,
                                    const uint8_t dst[6], uint16_t ethertype)
{
    struct kite_stack *stack = netif->stack;
    struct kite_pbuf *head = kite__pbuf_prepend(stack, p, KITE_ETH_HLEN, 2);
    if (head == NULL) {
        stack->stats.eth.tx_fail++;
        return KITE_ERR_MEM;
    }
    struct kite_eth_repr eth = {.ethertype = ethertype};
    memcpy(eth.dst, dst, 6);
    memcpy(eth.src, netif->hwaddr, 6);
    (void)kite_eth_emit(&eth, head->payload, head->len);
    enum kite_err err = kite__netif_transmit(netif, head);
    if (err == KITE_ERR_OK)
        stack->stats.eth.tx++;
    else
        stack->stats.eth.tx_fail++;
    kite__pbuf_unprepend(stack, head, p, KITE_ETH_HLEN);
    return err;
}
