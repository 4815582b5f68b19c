/* SPDX-License-Identifier: BSD-3-Clause */
/* Loopback netif. Sent packets are queued and come back in from a timer that
 * is due at once, so a send never re-enters the stack's input path. */
#include "kite/port/loopif.h"

#include <string.h>

#include "kite/stack.h"

static enum kite_err loopif_output(struct kite_netif *netif, struct kite_pbuf *p)
{
    struct kite_loopif *lo = KITE_CONTAINER_OF(netif, struct kite_loopif, netif);
    struct kite_stack *stack = netif->stack;
    if (lo->count == KITE_LOOPIF_QUEUE_LEN) {
        lo->drops++;
        return KITE_ERR_MEM;
    }
    /* The caller keeps p and will restore its headers: queue a copy. */
    struct kite_pbuf *copy = kite_pbuf_clone(stack, KITE_LAYER_LINK, p);
    if (copy == NULL) {
        lo->drops++;
        return KITE_ERR_MEM;
    }
    lo->queue[(lo->head + lo->count) % KITE_LOOPIF_QUEUE_LEN] = copy;
    lo->count++;
    if (!kite_timer_armed(&lo->timer))
        kite_timer_arm(stack, &lo->timer, stack->now);
    return KITE_ERR_OK;
}

static void loopif_deliver(struct kite_stack *stack, struct kite_timer *timer)
{
    struct kite_loopif *lo = KITE_CONTAINER_OF(timer, struct kite_loopif, timer);
    /* Deliver only what is queued now; replies queued meanwhile wait a round. */
    uint8_t n = lo->count;
    while (n-- > 0 && lo->count > 0) {
        struct kite_pbuf *p = lo->queue[lo->head];
        lo->queue[lo->head] = NULL;
        lo->head = (uint8_t)((lo->head + 1u) % KITE_LOOPIF_QUEUE_LEN);
        lo->count--;
        kite_netif_input(&lo->netif, p);
    }
    if (lo->count > 0)
        kite_timer_arm(stack, &lo->timer, stack->now);
}

static void loopif_driver_remove(struct kite_netif *netif)
{
    struct kite_loopif *lo = KITE_CONTAINER_OF(netif, struct kite_loopif, netif);
    struct kite_stack *stack = netif->stack;
    kite_timer_cancel(stack, &lo->timer);
    while (lo->count > 0) {
        kite_pbuf_free(stack, lo->queue[lo->head]);
        lo->head = (uint8_t)((lo->head + 1u) % KITE_LOOPIF_QUEUE_LEN);
        lo->count--;
    }
}

enum kite_err kite_loopif_add(struct kite_stack *stack, struct kite_loopif *lo)
{
    memset(lo, 0, sizeof *lo);
    enum kite_err err = kite_netif_add_ip(stack, &lo->netif, "lo", 1500, loopif_output, lo);
    if (err != KITE_ERR_OK)
        return err;
    lo->netif.flags |= KITE_NETIF_FLAG_LOOPBACK;
    lo->netif.driver_remove = loopif_driver_remove;
    kite_timer_init(&lo->timer, loopif_deliver);
    (void)kite_netif_set_ipv4(&lo->netif, KITE_IP4(127, 0, 0, 1), 8, 0);
    kite_netif_set_up(&lo->netif, true);
    return KITE_ERR_OK;
}

void kite_loopif_remove(struct kite_loopif *lo)
{
    if (lo->netif.stack != NULL)
        kite_netif_remove(&lo->netif); /* calls loopif_driver_remove */
}
