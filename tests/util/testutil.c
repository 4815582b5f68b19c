/* SPDX-License-Identifier: BSD-3-Clause */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "kite/byteorder.h"
#include "kite/wire/arp.h"
#include "kite/wire/ethernet.h"
#include "kite/wire/checksum.h"
#include "kite/wire/icmp4.h"
#include "kite/wire/ipv4.h"
#include "kite/wire/udp.h"

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
    struct kite_pbuf *p = kite_pbuf_alloc_rx(stack, len);
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

void kt_end_capture_stack(struct kite_stack *stack, struct kt_capture_if *cif)
{
    kite_netif_remove(&cif->netif);
    kt_assert_pools_empty(stack);
    kite_stack_deinit(stack);
}

uint16_t kt_build_ip(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto,
                     const uint8_t *payload, uint16_t len)
{
    struct kite_ipv4_repr ip = {.total_len = (uint16_t)(20 + len),
                                .ttl = 64,
                                .proto = proto,
                                .src = src,
                                .dst = dst,
                                .id = 7};
    kite_ipv4_emit(&ip, buf, 20);
    memcpy(buf + 20, payload, len);
    return (uint16_t)(20 + len);
}

uint16_t kt_build_udp(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                      const void *data, uint16_t len, bool cksum)
{
    uint8_t udp[1600];
    struct kite_udp_repr u = {.src_port = sport, .dst_port = dport, .length = (uint16_t)(8 + len)};
    kite_udp_emit(&u, udp, 8);
    memcpy(udp + 8, data, len);
    if (cksum) {
        uint32_t sum =
            kite_cksum_pseudo4(src, dst, 17, u.length) + kite_cksum_add(0, udp, u.length);
        uint16_t v = (uint16_t)~kite_cksum_fold(sum);
        kite_put_be16(udp + 6, v ? v : 0xffff);
    }
    return kt_build_ip(buf, src, dst, 17, udp, u.length);
}

uint16_t kt_build_echo(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t len)
{
    uint8_t icmp[1600];
    struct kite_icmp4_repr e = {.type = KITE_ICMP4_ECHO_REQUEST, .id = 0x1234, .seq = 9};
    kite_icmp4_emit(&e, icmp, 8);
    for (uint16_t i = 0; i < len; i++)
        icmp[8 + i] = (uint8_t)i;
    kite_put_be16(icmp + 2, kite_cksum(icmp, 8u + len));
    return kt_build_ip(buf, src, dst, 1, icmp, (uint16_t)(8 + len));
}

void kt_inject_frag_needed(struct kite_stack *stack, struct kite_netif *netif, uint32_t router,
                           uint32_t dst, const struct kt_packet *q, uint16_t mtu)
{
    uint8_t icmp[8 + 28];
    struct kite_icmp4_repr e = {
        .type = KITE_ICMP4_DEST_UNREACH, .code = KITE_ICMP4_UNREACH_FRAG_NEEDED, .seq = mtu};
    (void)kite_icmp4_emit(&e, icmp, 8);
    memcpy(icmp + 8, q->data, 28);
    kite_put_be16(icmp + 2, kite_cksum(icmp, sizeof icmp));
    uint8_t pkt[64];
    uint16_t n = kt_build_ip(pkt, router, dst, KITE_IP_PROTO_ICMP, icmp, (uint16_t)sizeof icmp);
    kt_inject(stack, netif, pkt, n);
}

void kt_inject_arp(struct kite_stack *stack, struct kite_netif *netif, uint16_t op,
                   const uint8_t sha[6], uint32_t spa, uint32_t tpa, const uint8_t eth_dst[6])
{
    uint8_t frame[60] = {0};
    struct kite_eth_repr eth = {.ethertype = KITE_ETHERTYPE_ARP};
    memcpy(eth.dst, eth_dst, 6);
    memcpy(eth.src, sha, 6);
    kite_eth_emit(&eth, frame, sizeof frame);
    struct kite_arp_repr arp = {.op = op, .spa = spa, .tpa = tpa};
    memcpy(arp.sha, sha, 6);
    kite_arp_emit(&arp, frame + 14, sizeof frame - 14);
    kt_inject(stack, netif, frame, sizeof frame);
}

void kt_parse_sent_arp(const struct kt_packet *pkt, struct kite_eth_repr *eth,
                       struct kite_arp_repr *arp)
{
    assert_int_equal(kite_eth_parse(pkt->data, pkt->len, eth), KITE_ERR_OK);
    assert_int_equal(eth->ethertype, KITE_ETHERTYPE_ARP);
    assert_int_equal(kite_arp_parse(pkt->data + 14, pkt->len - 14u, arp), KITE_ERR_OK);
}

void kt_run_until(struct kite_stack *stack, kite_time_ms until)
{
    for (;;) {
        kite_time_ms next = kite_stack_next_deadline(stack);
        if (next == KITE_TIME_NEVER || next > until)
            break;
        kite_stack_poll(stack, next);
    }
    if (kite_stack_now(stack) < until)
        kite_stack_poll(stack, until);
}
