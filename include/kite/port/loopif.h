/* SPDX-License-Identifier: BSD-3-Clause */
/* Loopback netif: packets sent to it come back in on the next poll. */
#ifndef KITE_PORT_LOOPIF_H
#define KITE_PORT_LOOPIF_H

#include "kite/netif.h"
#include "kite/timer.h"

#include "kite/opts.h"

struct kite_loopif {
    struct kite_netif netif;
    struct kite_timer timer; /* armed (due now) while the queue is not empty */
    struct kite_pbuf *queue[KITE_LOOPIF_QUEUE_LEN];
    uint8_t head, count;
    uint32_t drops; /* packets refused because the queue or pool was full */
};

/** Add "lo" with 127.0.0.1/8. Packets to any local address are routed through it. */
enum kite_err kite_loopif_add(struct kite_stack *stack, struct kite_loopif *lo);
/** Remove it, freeing queued packets. */
void kite_loopif_remove(struct kite_loopif *lo);

#endif
