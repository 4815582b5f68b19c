/* SPDX-License-Identifier: BSD-3-Clause */
/* Network interfaces: registration, configuration, input dispatch, transmit. */
#include "kite/netif.h"

#include <string.h>

#include "kite/pbuf.h"
#include "kite/stack.h"
#include "kite/wire/ethernet.h"
#include "kite/wire/ipv4.h"

#include "kite_internal/ethernet.h"
#include "kite_internal/stack.h"

static bool index_in_use(const struct kite_stack *stack, uint8_t index)
{
    for (const struct kite_netif *n = stack->netifs; n != NULL; n = n->next)
        if (n->index == index)
            return true;
    return false;
}

/* The next index after the last given, skipping 0 (which means "no netif",
 * as in IP_MULTICAST_IF) and those still in use: indices stay unique when
 * netifs come and go more than 255 times. */
static uint8_t free_index(struct kite_stack *stack)
{
    uint8_t index = stack->next_netif_index;
    for (unsigned tries = 0; index == 0 || index_in_use(stack, index); tries++) {
        if (tries > 256u)
            return 0; /* 255 netifs: no index left */
        index++;
    }
    stack->next_netif_index = (uint8_t)(index + 1u);
    return index;
}

static enum kite_err add_netif(struct kite_stack *stack, struct kite_netif *netif, const char *name,
                               uint16_t mtu, kite_netif_output_fn output, void *driver,
                               uint8_t flags, const uint8_t *mac)
{
    if (stack == NULL || netif == NULL || output == NULL || name == NULL || mtu < 68 ||
        strlen(name) >= KITE_NETIF_NAME_LEN)
        return KITE_ERR_ARG;
    for (struct kite_netif *n = stack->netifs; n != NULL; n = n->next) {
        if (n == netif || strncmp(n->name, name, KITE_NETIF_NAME_LEN) == 0)
            return KITE_ERR_INUSE;
    }
    memset(netif, 0, sizeof *netif);
    netif->stack = stack;
    strncpy(netif->name, name, KITE_NETIF_NAME_LEN - 1);
    netif->mtu = mtu;
    netif->output = output;
    netif->driver = driver;
    netif->index = free_index(stack);
    if (netif->index == 0)
        return KITE_ERR_MEM;
    netif->flags = flags;
    if (mac != NULL)
        memcpy(netif->hwaddr, mac, KITE_ETH_ADDR_LEN);
    netif->next = stack->netifs;
    stack->netifs = netif;
    kite__stack_netif_event(stack, netif, KITE_NETIF_EV_ADDED, 0);
    return KITE_ERR_OK;
}

enum kite_err kite_netif_add_ethernet(struct kite_stack *stack, struct kite_netif *netif,
                                      const char *name, const uint8_t mac[KITE_ETH_ADDR_LEN],
                                      uint16_t mtu, kite_netif_output_fn output, void *driver)
{
    if (mac == NULL || kite_eth_is_multicast(mac))
        return KITE_ERR_ARG;
    return add_netif(stack, netif, name, mtu, output, driver, KITE_NETIF_FLAG_ETHERNET, mac);
}

enum kite_err kite_netif_add_ip(struct kite_stack *stack, struct kite_netif *netif,
                                const char *name, uint16_t mtu, kite_netif_output_fn output,
                                void *driver)
{
    return add_netif(stack, netif, name, mtu, output, driver, 0, NULL);
}

void kite_netif_remove(struct kite_netif *netif)
{
    struct kite_stack *stack = netif->stack;
    if (stack == NULL)
        return;
    if (netif->driver_remove != NULL)
        netif->driver_remove(netif);
    kite__stack_netif_event(stack, netif, KITE_NETIF_EV_REMOVED, netif->ip4.u.v4);
    for (struct kite_netif **pp = &stack->netifs; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == netif) {
            *pp = netif->next;
            break;
        }
    }
    if (stack->default_netif == netif)
        stack->default_netif = NULL;
    netif->next = NULL;
    netif->stack = NULL;
}

static void set_flag(struct kite_netif *netif, uint8_t flag, bool on)
{
    bool was_up = kite_netif_is_up(netif);
    netif->flags = on ? (uint8_t)(netif->flags | flag) : (uint8_t)(netif->flags & ~flag);
    bool is_up = kite_netif_is_up(netif);
    if (was_up != is_up && netif->stack != NULL)
        kite__stack_netif_event(netif->stack, netif, is_up ? KITE_NETIF_EV_UP : KITE_NETIF_EV_DOWN,
                                0);
}

void kite_netif_set_up(struct kite_netif *netif, bool up)
{
    /* Most drivers have no carrier detection: bringing a netif up marks the
     * link up too; a driver that knows better calls kite_netif_set_link_up. */
    if (up)
        netif->flags |= KITE_NETIF_FLAG_LINK_UP;
    set_flag(netif, KITE_NETIF_FLAG_UP, up);
}

void kite_netif_set_link_up(struct kite_netif *netif, bool up)
{
    set_flag(netif, KITE_NETIF_FLAG_LINK_UP, up);
}

enum kite_err kite_netif_set_ipv4(struct kite_netif *netif, uint32_t addr, unsigned prefix,
                                  uint32_t gw)
{
    if (prefix > 32 || kite_ip4_is_multicast(addr) || addr == KITE_IP4_BROADCAST)
        return KITE_ERR_VAL;
    uint32_t mask = kite_ip4_prefix_mask(prefix);
    if (gw != 0 && addr != 0 && (gw & mask) != (addr & mask))
        return KITE_ERR_VAL; /* the gateway must be on the link */
    uint32_t old = netif->ip4.u.v4;
    netif->ip4 = KITE_ADDR_V4(addr);
    netif->ip4_mask = KITE_ADDR_V4(mask);
    netif->ip4_gw = KITE_ADDR_V4(gw);
    if (old != addr)
        kite__stack_netif_event(netif->stack, netif, KITE_NETIF_EV_ADDR_CHANGED, old);
    return KITE_ERR_OK;
}

void kite_netif_set_default(struct kite_stack *stack, struct kite_netif *netif)
{
    stack->default_netif = netif;
}

void kite_netif_set_capture(struct kite_netif *netif, kite_capture_fn fn, void *ctx)
{
    netif->capture = fn;
    netif->capture_ctx = ctx;
}

bool kite_netif_is_broadcast4(const struct kite_netif *netif, uint32_t ip)
{
    uint32_t mask = netif->ip4_mask.u.v4;
    if (ip == KITE_IP4_BROADCAST)
        return true;
    /* RFC 1122 3.2.1.3: the directed broadcast of the subnet (host part all
     * ones); RFC 3021: a /31 (or /32) has none. */
    return !kite_addr_is_any(&netif->ip4) && mask != 0 && mask < 0xfffffffeu &&
           (ip & mask) == (netif->ip4.u.v4 & mask) && (ip & ~mask) == ~mask;
}

uint16_t kite_netif_tso_segment(const struct kite_netif *netif, const struct kite_pbuf *p)
{
    uint16_t seg = kite__stack_tso_segment(netif->stack);
    if (seg == 0)
        return 0;
    /* Only the IPv4 TCP packet itself, not a frame sent on its way out. */
    uint16_t l3 = 0;
    if (netif->flags & KITE_NETIF_FLAG_ETHERNET) {
        l3 = KITE_ETH_HLEN;
        if (kite_pbuf_get_u8(p, 12) != (KITE_ETHERTYPE_IPV4 >> 8) ||
            kite_pbuf_get_u8(p, 13) != (KITE_ETHERTYPE_IPV4 & 0xffu))
            return 0;
    }
    bool tcp4 = (kite_pbuf_get_u8(p, l3) >> 4) == 4 &&
                kite_pbuf_get_u8(p, (uint16_t)(l3 + 9u)) == KITE_IP_PROTO_TCP;
    return tcp4 ? seg : 0;
}

struct kite_netif *kite_netif_find(struct kite_stack *stack, const char *name)
{
    for (struct kite_netif *n = stack->netifs; n != NULL; n = n->next) {
        if (strncmp(n->name, name, KITE_NETIF_NAME_LEN) == 0)
            return n;
    }
    return NULL;
}

/* An IP-level link has no header: the version nibble says which protocol. */
static void ip_link_input(struct kite_netif *netif, struct kite_pbuf *p)
{
    struct kite_stack *stack = netif->stack;
    int first = kite_pbuf_get_u8(p, 0);
    uint16_t type = first >> 4 == 4   ? KITE_ETHERTYPE_IPV4
                    : first >> 4 == 6 ? KITE_ETHERTYPE_IPV6
                                      : 0;
    kite_l3_input_fn input = kite__stack_ethertype_handler(stack, type);
    if (input == NULL) {
        stack->stats.ipv4.rx++;
        stack->stats.ipv4.drop_bad_version++;
        kite_pbuf_free(stack, p);
        return;
    }
    input(netif, p);
}

void kite_netif_input(struct kite_netif *netif, struct kite_pbuf *p)
{
    struct kite_stack *stack = netif->stack;
    if (netif->capture != NULL)
        netif->capture(netif->capture_ctx, netif, p, KITE_CAPTURE_IN);
    netif->counters.rx_packets++;
    netif->counters.rx_bytes += p->tot_len;
    if (!kite_netif_is_up(netif)) {
        stack->stats.eth.drop_netif_down++;
        kite_pbuf_free(stack, p);
        return;
    }
    if (netif->flags & KITE_NETIF_FLAG_ETHERNET)
        kite__ethernet_input(netif, p);
    else
        ip_link_input(netif, p);
}
