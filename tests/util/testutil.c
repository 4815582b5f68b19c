/* SPDX-License-Identifier: BSD-3-Clause */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

static enum kite_err capture_output(struct kite_netif *netif, struct kite_pbuf *p)
{
    struct kt_capture_if *cif = KITE_CONTAINER_OF(netif, struct kt_capture_if, netif);
    if (cif->fail_with != KITE_ERR_OK)
        return cif->fail_with;
    if (cif->count >= KT_CAPTURE_MAX || p->tot_len > KT_CAPTURE_BYTES) {
        cif->overflow++;
        return KITE_ERR_OK;
    }
    struct kt_packet *pkt = &cif->sent[cif->count++];
    pkt->len = kite_pbuf_copy_out(p, pkt->data, p->tot_len, 0);
    return KITE_ERR_OK;
}

void kt_capture_add_ethernet(struct kite_stack *stack, struct kt_capture_if *cif, uint8_t id)
{
    const uint8_t mac[6] = {0x02, 0, 0, 0, 0, id};
    char name[8];
    snprintf(name, sizeof name, "eth%u", id);
    memset(cif, 0, sizeof *cif);
    assert_int_equal(
        kite_netif_add_ethernet(stack, &cif->netif, name, mac, 1500, capture_output, cif),
        KITE_ERR_OK);
    kite_netif_set_up(&cif->netif, true);
}

void kt_capture_add_ip(struct kite_stack *stack, struct kt_capture_if *cif, const char *name)
{
    memset(cif, 0, sizeof *cif);
    assert_int_equal(kite_netif_add_ip(stack, &cif->netif, name, 1500, capture_output, cif),
                     KITE_ERR_OK);
    kite_netif_set_up(&cif->netif, true);
}

void kt_capture_clear(struct kt_capture_if *cif)
{
    cif->count = 0;
    cif->overflow = 0;
}

void kt_inject(struct kite_stack *stack, struct kite_netif *netif, const uint8_t *data,
               uint16_t len)
{
    struct kite_pbuf *p = kite_pbuf_alloc(stack, 0, len, KITE_PBUF_POOL);
    assert_non_null(p);
    assert_int_equal(kite_pbuf_copy_in(p, data, len, 0), KITE_ERR_OK);
    kite_netif_input(netif, p);
}

void kt_assert_pools_empty(const struct kite_stack *stack)
{
    for (int i = 0; i < KITE_POOL__COUNT; i++) {
        const struct kite_pool *pool = kite_stack_pool(stack, (enum kite_pool_id)i);
        if (pool->used != 0)
            fprintf(stderr, "pool %s still has %u blocks in use\n", pool->name, pool->used);
        assert_int_equal(pool->used, 0);
    }
}
