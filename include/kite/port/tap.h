/* SPDX-License-Identifier: BSD-3-Clause */
/* Linux TAP driver (host port). */
#ifndef KITE_PORT_TAP_H
#define KITE_PORT_TAP_H

#include <stdint.h>

#include "kite/err.h"
#include "kite/netif.h"

struct kite_stack;

/* kite_tap_open_flags() flags. */
#define KITE_TAP_OFFLOAD                                                                           \
    0x1u /* virtio-net header: the kernel may send 64 KiB TCP                                      \
            super-frames (TSO) with partial checksums, which                                       \
            the driver completes; one read per 64 KiB. With                                        \
            KITE_TSO, TCP sends the kernel super-segments too */

struct kite_tap {
    struct kite_netif netif;
    int fd;
    unsigned flags;
    uint32_t rx_gso; /* super-frames received (KITE_TAP_OFFLOAD) */
    uint32_t tx_gso; /* TCP super-segments sent for the kernel to cut (KITE_TSO) */
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
/**
 * kite_tap_open() with flags (KITE_TAP_OFFLOAD). Offload needs a pool that can
 * hold a 64 KiB frame (the max_throughput profile): frames that do not fit are
 * dropped and counted in rx_no_mem.
 */
enum kite_err kite_tap_open_flags(struct kite_tap *tap, struct kite_stack *stack,
                                  const char *ifname, const uint8_t mac[6], unsigned flags);
/** Read every frame waiting on the device into the stack. Returns frames read. */
unsigned kite_tap_receive(struct kite_tap *tap);
/** Remove the netif and close the device. */
void kite_tap_close(struct kite_tap *tap);

#endif
