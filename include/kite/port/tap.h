/* SPDX-License-Identifier: BSD-3-Clause */
/* Linux TAP driver (host port). */
#ifndef KITE_PORT_TAP_H
#define KITE_PORT_TAP_H

#include <stdint.h>

#include "kite/err.h"
#include "kite/netif.h"

struct kite_stack;

struct kite_tap {
    struct kite_netif netif;
    int fd;
    char ifname[16];
    uint32_t rx_no_mem; /* frames dropped because the pool was empty */
    uint32_t rx_errors, tx_errors;
};

/**
 * Open (or create) the TAP device ifname, non-blocking, and add it to stack
 * as an Ethernet netif with the given MAC and MTU 1500, up.
 */
enum kite_err kite_tap_open(struct kite_tap *tap, struct kite_stack *stack, const char *ifname,
                            const uint8_t mac[6]);
/** Read every frame waiting on the device into the stack. Returns frames read. */
unsigned kite_tap_receive(struct kite_tap *tap);
/** Remove the netif and close the device. */
void kite_tap_close(struct kite_tap *tap);

#endif
