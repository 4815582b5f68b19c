/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 address conflict detection (RFC 5227, KITE_ACD): probe an address
 * before using it, announce it, defend it once, give it up on a second
 * conflict within DEFEND_INTERVAL. docs/acd.md.
 *
 * kite_netif_set_ipv4 takes an address at once, as before; kite_acd_start
 * takes it only after probing finds nobody holding it. The application hears
 * the outcome through the stack's netif callback (kite_stack_set_netif_callback):
 * KITE_NETIF_EV_ADDR_BOUND when the address is in use, KITE_NETIF_EV_ADDR_CONFLICT
 * when another host holds it (while probing, or after a lost defence, in which
 * case the netif's address has been cleared).
 */
#ifndef KITE_ACD_H
#define KITE_ACD_H

#include <stdbool.h>
#include <stdint.h>

#include "kite/err.h"
#include "kite/opts.h"
#include "kite/time.h"
#include "kite/timer.h"

struct kite_netif;

enum kite_acd_state {
    KITE_ACD_OFF = 0, /* not claiming an address */
    KITE_ACD_WAITING, /* before the first probe: PROBE_WAIT or RATE_LIMIT_INTERVAL */
    KITE_ACD_PROBING, /* probes going out; the address is tentative */
    KITE_ACD_BOUND,   /* the address is the netif's, announced and defended */
};

/* Per-netif state (inside struct kite_netif; private to kite). */
struct kite_acd {
    struct kite_timer timer;
    kite_time_ms last_defend; /* when we last defended (bound: DEFEND_INTERVAL before) */
    uint32_t addr;            /* the address probed or held */
    uint32_t gw;
    uint8_t prefix;
    uint8_t state;     /* enum kite_acd_state */
    uint8_t probes;    /* probes sent in this round */
    uint8_t conflicts; /* since an address was last bound (RFC 5227 2.1.1) */
    /* AutoIP's: told after a conflict ended the claim, to pick another address. */
    void (*lost)(struct kite_netif *netif);
};

/**
 * Claim addr/prefix (gateway gw, 0 for none) on an Ethernet netif after
 * RFC 5227 probing. Until KITE_NETIF_EV_ADDR_BOUND the address is tentative:
 * not set on the netif, never a source, never answered for. The netif keeps
 * its current address meanwhile unless it is addr itself, which is taken
 * away until the probes are done. KITE_ERR_ARG on a non-Ethernet netif,
 * KITE_ERR_VAL on an address kite_netif_set_ipv4 would refuse or 0.0.0.0.
 */
enum kite_err kite_acd_start(struct kite_netif *netif, uint32_t addr, unsigned prefix, uint32_t gw);
/** Stop probing or defending; an address already bound stays on the netif, undefended. */
void kite_acd_stop(struct kite_netif *netif);
/** Where the netif's claim stands. */
enum kite_acd_state kite_acd_state(const struct kite_netif *netif);

#endif
