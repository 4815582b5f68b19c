/* SPDX-License-Identifier: BSD-3-Clause */
/* Regression tests for bugs found in review of the core (one test per bug):
 * 127/8 from the wire, unicast IP in link broadcasts, teardown with a loopback
 * netif, pcbs bound to removed netifs, length overflows, ARP corner cases,
 * multicast TTL, /31 links, split ICMP headers. */
#include <stdlib.h>
#include <string.h>

#include "kite/byteorder.h"
#include "kite/port/loopif.h"
#include "kite/wire/arp.h"
#include "kite/wire/checksum.h"
#include "kite/wire/ethernet.h"
#include "kite/wire/icmp4.h"
#include "kite/wire/ipv4.h"
#include "kite/wire/udp.h"
#include "testutil.h"

#define US KITE_IP4(192, 0, 2, 2)
#define PEER KITE_IP4(192, 0, 2, 1)
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x99};
static const uint8_t our_mac[6] = {0x02, 0, 0, 0, 0, 1};
static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static uint16_t eth_wrap(uint8_t *frame, const uint8_t dst[6], const uint8_t src[6], uint16_t type,
                         const uint8_t *pl, uint16_t len)
{
    struct kite_eth_repr e = {.ethertype = type};
    memcpy(e.dst, dst, 6);
    memcpy(e.src, src, 6);
    kite_eth_emit(&e, frame, 14);
    memcpy(frame + 14, pl, len);
    return (uint16_t)(14 + len);
}

static unsigned rx_count;
static struct kite_stack *rx_stack;
static void recv_free(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                      const struct kite_addr *src, uint16_t port, const struct kite_addr *dst)
{
    (void)arg, (void)pcb, (void)src, (void)port, (void)dst;
    rx_count++;
    kite_pbuf_free(rx_stack, p);
}

/* B1: RFC 1122 3.2.1.3(g): 127/8 must not be accepted from the wire. A pcb
 * bound to 127.0.0.1 (a "local only" service) receives a spoofed datagram that
 * arrived on eth0. */
static void test_loopback_dst_from_wire(void **state)
{
    (void)state;
    static struct kite_stack st;
    static struct kt_capture_if eth;
    static struct kite_loopif lo;
    kite_stack_init(&st, NULL);
    rx_stack = &st;
    rx_count = 0;
    kt_capture_add_ethernet(&st, &eth, 1);
    kite_netif_set_ipv4(&eth.netif, US, 24, 0);
    assert_int_equal(kite_loopif_add(&st, &lo), KITE_ERR_OK);
    struct kite_udp_pcb *pcb = kite_udp_new(&st);
    struct kite_addr lo_addr = KITE_ADDR_V4(KITE_IP4(127, 0, 0, 1));
    assert_int_equal(kite_udp_bind(pcb, &lo_addr, 7777), KITE_ERR_OK);
    kite_udp_recv(pcb, recv_free, NULL);
    uint8_t ip[200], frame[220];
    uint16_t n = kt_build_udp(ip, PEER, KITE_IP4(127, 0, 0, 1), 1000, 7777, "evil", 4, true);
    n = eth_wrap(frame, our_mac, peer_mac, KITE_ETHERTYPE_IPV4, ip, n);
    kt_inject(&st, &eth.netif, frame, n);
    kite_udp_remove(pcb);
    kite_loopif_remove(&lo);
    kt_assert_pools_empty(&st);
    kite_stack_deinit(&st);
    assert_int_equal(rx_count, 0);
}

/* B2: RFC 1122 3.2.2 / 3.3.6: no ICMP error about a link-layer broadcast. */
static void test_icmp_error_for_ll_broadcast(void **state)
{
    (void)state;
    static struct kite_stack st;
    static struct kt_capture_if eth;
    kite_stack_init(&st, NULL);
    kt_capture_add_ethernet(&st, &eth, 1);
    kite_netif_set_ipv4(&eth.netif, US, 24, 0);
    kite_arp_add_static(&eth.netif, PEER, peer_mac);
    kt_capture_clear(&eth);
    uint8_t ip[200], frame[220];
    uint16_t n = kt_build_udp(ip, PEER, US, 1000, 9, "x", 1, true); /* closed port */
    n = eth_wrap(frame, bcast_mac, peer_mac, KITE_ETHERTYPE_IPV4, ip, n);
    kt_inject(&st, &eth.netif, frame, n);
    unsigned sent = eth.count;
    kt_assert_pools_empty(&st);
    kite_stack_deinit(&st);
    assert_int_equal(sent, 0);
}

/* B3: kite_stack_deinit() with a loopif still added: the loopif's queue leaks
 * and its timer stays armed in the stack's list. (B3 and B4 test what deinit
 * frees, so they check the pools after it; every other test checks before.) */
static void test_deinit_with_loopif(void **state)
{
    (void)state;
    static struct kite_stack st;
    static struct kite_loopif lo;
    kite_stack_init(&st, NULL);
    assert_int_equal(kite_loopif_add(&st, &lo), KITE_ERR_OK);
    struct kite_udp_pcb *pcb = kite_udp_new(&st);
    struct kite_pbuf *p = kite_pbuf_from_data(&st, KITE_LAYER_TRANSPORT, "hi", 2, true);
    struct kite_addr dst = KITE_ADDR_V4(KITE_IP4(127, 0, 0, 1));
    assert_int_equal(kite_udp_sendto(pcb, p, &dst, 9), KITE_ERR_OK);
    kite_pbuf_free(&st, p);
    kite_stack_deinit(&st);
    assert_int_equal(kite_stack_next_deadline(&st), KITE_TIME_NEVER);
    kt_assert_pools_empty(&st);
}

/* B4: unbound UDP pcbs are not freed by kite_stack_deinit. */
static void test_deinit_unbound_pcb(void **state)
{
    (void)state;
    static struct kite_stack st;
    kite_stack_init(&st, NULL);
    (void)kite_udp_new(&st);
    kite_stack_deinit(&st);
    kt_assert_pools_empty(&st);
}

/* B5: pcb->netif dangles after kite_netif_remove: sendto uses a removed netif
 * (netif->stack == NULL) -> NULL dereference / use after free. */
static void test_pcb_bound_to_removed_netif(void **state)
{
    (void)state;
    static struct kite_stack st;
    struct kt_capture_if *eth = calloc(1, sizeof *eth);
    kite_stack_init(&st, NULL);
    kt_capture_add_ethernet(&st, eth, 1);
    kite_netif_set_ipv4(&eth->netif, US, 24, 0);
    kite_arp_add_static(&eth->netif, PEER, peer_mac);
    struct kite_udp_pcb *pcb = kite_udp_new(&st);
    kite_udp_bind_netif(pcb, &eth->netif);
    kite_netif_remove(&eth->netif);
    free(eth); /* the driver owned the netif memory */
    struct kite_pbuf *p = kite_pbuf_from_data(&st, KITE_LAYER_TRANSPORT, "hi", 2, true);
    struct kite_addr dst = KITE_ADDR_V4(PEER);
    enum kite_err err = kite_udp_sendto(pcb, p, &dst, 9); /* ASan: heap-use-after-free */
    kite_pbuf_free(&st, p);
    kite_udp_remove(pcb);
    kt_assert_pools_empty(&st);
    kite_stack_deinit(&st);
    /* The removal unbinds the pcb; with no netif left there is no route. */
    assert_int_equal(err, KITE_ERR_ROUTE);
}

/* B6: kite_icmp4_send_echo(len) truncates 8 + len to 16 bits. */
static void test_echo_len_truncation(void **state)
{
    (void)state;
    static struct kite_stack st;
    static struct kt_capture_if ipif;
    static uint8_t big[65535];
    kite_stack_init(&st, NULL);
    kt_capture_add_ip(&st, &ipif, "tun0");
    kite_netif_set_ipv4(&ipif.netif, US, 24, PEER);
    enum kite_err err = kite_icmp4_send_echo(&st, PEER, 1, 1, big, 65530);
    unsigned sent = ipif.count;
    kt_assert_pools_empty(&st);
    kite_stack_deinit(&st);
    /* 20 + 8 + 65530 does not fit an IPv4 total length: refused, nothing sent
     * (a truncated length would have sent a short packet). */
    assert_int_equal(err, KITE_ERR_VAL);
    assert_int_equal(sent, 0);
}

static void test_own_garp_looped(void **state)
{
    (void)state;
    static struct kite_stack st;
    static struct kt_capture_if eth;
    kite_stack_init(&st, NULL);
    kt_capture_add_ethernet(&st, &eth, 1);
    kite_netif_set_ipv4(&eth.netif, US, 24, 0);
    kite_stack_poll(&st, 0);
    assert_true(eth.count >= 1);
    struct kt_packet garp = eth.sent[0];
    kt_capture_clear(&eth);
    kt_inject(&st, &eth.netif, garp.data, garp.len);
    uint8_t mac[6];
    bool self_entry = kite_arp_lookup(&st, US, mac);
    unsigned sent = eth.count;
    uint32_t replies = st.stats.arp.replies_sent;
    kt_assert_pools_empty(&st);
    kite_stack_deinit(&st);
    assert_false(self_entry);
    assert_int_equal(sent, 0);
    assert_int_equal(replies, 0);
}

/* B9: echo request from 0.0.0.0 is answered to 0.0.0.0 (RFC 1122 3.2.1.3(a)). */
static void test_echo_reply_to_zero(void **state)
{
    (void)state;
    static struct kite_stack st;
    static struct kt_capture_if ipif;
    kite_stack_init(&st, NULL);
    kt_capture_add_ip(&st, &ipif, "tun0");
    kite_netif_set_ipv4(&ipif.netif, US, 24, PEER);
    kite_netif_set_default(&st, &ipif.netif);
    uint8_t pkt[100];
    uint16_t n = kt_build_echo(pkt, 0, US, 8);
    kt_inject(&st, &ipif.netif, pkt, n);
    unsigned sent = ipif.count;
    kt_assert_pools_empty(&st);
    kite_stack_deinit(&st);
    assert_int_equal(sent, 0);
}

/* B10: multicast UDP defaults to TTL 64 (RFC 1112 6.1: default 1). */
static void test_multicast_ttl(void **state)
{
    (void)state;
    static struct kite_stack st;
    static struct kt_capture_if ipif;
    kite_stack_init(&st, NULL);
    kt_capture_add_ip(&st, &ipif, "tun0");
    kite_netif_set_ipv4(&ipif.netif, US, 24, PEER);
    kite_netif_set_default(&st, &ipif.netif);
    struct kite_udp_pcb *pcb = kite_udp_new(&st);
    struct kite_pbuf *p = kite_pbuf_from_data(&st, KITE_LAYER_TRANSPORT, "hi", 2, true);
    struct kite_addr dst = KITE_ADDR_V4(KITE_IP4(239, 1, 2, 3));
    assert_int_equal(kite_udp_sendto(pcb, p, &dst, 9), KITE_ERR_OK);
    kite_pbuf_free(&st, p);
    assert_int_equal(ipif.count, 1);
    uint8_t ttl = ipif.sent[0].data[8];
    kite_udp_remove(pcb);
    kt_assert_pools_empty(&st);
    kite_stack_deinit(&st);
    assert_int_equal(ttl, 1);
}

/* B11: address change wipes static ARP entries. */
static void test_static_arp_survives_readdress(void **state)
{
    (void)state;
    static struct kite_stack st;
    static struct kt_capture_if eth;
    kite_stack_init(&st, NULL);
    kt_capture_add_ethernet(&st, &eth, 1);
    kite_netif_set_ipv4(&eth.netif, US, 24, 0);
    kite_arp_add_static(&eth.netif, PEER, peer_mac);
    kite_netif_set_ipv4(&eth.netif, KITE_IP4(192, 0, 2, 3), 24, 0); /* DHCP renumber */
    uint8_t mac[6];
    bool still = kite_arp_lookup(&st, PEER, mac);
    kt_assert_pools_empty(&st);
    kite_stack_deinit(&st);
    assert_true(still);
    assert_memory_equal(mac, peer_mac, 6);
}

/* B12: Ethernet MTU near 65535 + ROM payload: tot_len of the frame wraps. */
static int chain_ok = 1;
static unsigned driver_calls;
static enum kite_err check_output(struct kite_netif *netif, struct kite_pbuf *p)
{
    (void)netif;
    driver_calls++;
    chain_ok = kite_pbuf_check(p);
    return KITE_ERR_OK;
}

static void test_eth_tot_len_wrap(void **state)
{
    (void)state;
    static struct kite_stack st;
    static struct kite_netif eth;
    static uint8_t data[65507];
    kite_stack_init(&st, NULL);
    kite_netif_add_ethernet(&st, &eth, "eth0", our_mac, 65535, check_output, NULL);
    kite_netif_set_up(&eth, true);
    kite_netif_set_ipv4(&eth, US, 24, 0);
    kite_arp_add_static(&eth, PEER, peer_mac);
    struct kite_udp_pcb *pcb = kite_udp_new(&st);
    struct kite_pbuf *p = kite_pbuf_from_data(&st, 0, data, sizeof data, false);
    struct kite_addr dst = KITE_ADDR_V4(PEER);
    chain_ok = 1;
    driver_calls = 0;
    enum kite_err err = kite_udp_sendto(pcb, p, &dst, 9);
    kite_pbuf_free(&st, p);
    kite_udp_remove(pcb);
    uint32_t tx_fail = st.stats.udp.tx_fail;
    kt_assert_pools_empty(&st);
    kite_stack_deinit(&st);
    /* The 65535-byte IP packet fits the MTU but its 65549-byte frame cannot be
     * described by a pbuf chain (16-bit tot_len): the headers cannot be
     * prepended, the send is refused and counted, and the driver never sees a
     * wrapped chain (chain_ok alone would pass when the driver is not called). */
    assert_int_equal(err, KITE_ERR_MEM);
    assert_int_equal(tx_fail, 1);
    assert_int_equal(driver_calls, 0);
    assert_true(chain_ok);
}

/* B13: ARP probe (spa 0) received while our netif has no address yet is
 * counted as drop_bad_sender (it is a valid probe). */
static void test_probe_counter_without_address(void **state)
{
    (void)state;
    static struct kite_stack st;
    static struct kt_capture_if eth;
    kite_stack_init(&st, NULL);
    kt_capture_add_ethernet(&st, &eth, 1);
    uint8_t arp[28], frame[60] = {0};
    struct kite_arp_repr a = {.op = KITE_ARP_OP_REQUEST, .spa = 0, .tpa = PEER};
    memcpy(a.sha, peer_mac, 6);
    kite_arp_emit(&a, arp, sizeof arp);
    eth_wrap(frame, bcast_mac, peer_mac, KITE_ETHERTYPE_ARP, arp, 28);
    kt_inject(&st, &eth.netif, frame, 60);
    uint32_t bad = st.stats.arp.drop_bad_sender;
    kt_assert_pools_empty(&st);
    kite_stack_deinit(&st);
    assert_int_equal(bad, 0);
}

/* B14: on a /31 point-to-point link (RFC 3021) the peer's address is not a
 * broadcast address: its datagrams are delivered, not dropped as bad source. */
static void test_slash31(void **state)
{
    (void)state;
    static struct kite_stack st;
    static struct kt_capture_if ipif;
    kite_stack_init(&st, NULL);
    rx_stack = &st;
    rx_count = 0;
    kt_capture_add_ip(&st, &ipif, "ptp0");
    kite_netif_set_ipv4(&ipif.netif, KITE_IP4(192, 0, 2, 0), 31, 0);
    struct kite_udp_pcb *pcb = kite_udp_new(&st);
    kite_udp_bind(pcb, NULL, 5000);
    kite_udp_recv(pcb, recv_free, NULL);
    uint8_t pkt[100];
    uint16_t n =
        kt_build_udp(pkt, KITE_IP4(192, 0, 2, 1), KITE_IP4(192, 0, 2, 0), 1, 5000, "x", 1, true);
    kt_inject(&st, &ipif.netif, pkt, n);
    uint32_t bad_src = st.stats.ipv4.drop_bad_src;
    kite_udp_remove(pcb);
    kt_assert_pools_empty(&st);
    kite_stack_deinit(&st);
    assert_int_equal(rx_count, 1);
    assert_int_equal(bad_src, 0);
}

/* B16: echo request whose ICMP header is split across pbufs (header-split
 * DMA) gets no reply and is counted as drop_unknown_type. */
static void test_echo_split_header(void **state)
{
    (void)state;
    static struct kite_stack st;
    static struct kt_capture_if ipif;
    kite_stack_init(&st, NULL);
    kt_capture_add_ip(&st, &ipif, "tun0");
    kite_netif_set_ipv4(&ipif.netif, US, 24, PEER);
    uint8_t pkt[100];
    uint16_t n = kt_build_echo(pkt, PEER, US, 16);
    struct kite_pbuf *a = kite_pbuf_alloc(&st, 0, 20, KITE_PBUF_POOL);
    struct kite_pbuf *b = kite_pbuf_alloc(&st, 0, (uint16_t)(n - 20), KITE_PBUF_POOL);
    kite_pbuf_copy_in(a, pkt, 20, 0);
    kite_pbuf_copy_in(b, pkt + 20, (uint16_t)(n - 20), 0);
    kite_pbuf_cat(a, b);
    kite_netif_input(&ipif.netif, a);
    unsigned sent = ipif.count;
    uint32_t unk = st.stats.icmp4.drop_unknown_type;
    kt_assert_pools_empty(&st);
    kite_stack_deinit(&st);
    assert_int_equal(sent, 1);
    assert_int_equal(unk, 0);
    /* The reply: ICMP echo reply (type 0, code 0) back to the peer, with the
     * request's 16 data bytes. */
    struct kite_ipv4_repr ip;
    assert_int_equal(kite_ipv4_parse(ipif.sent[0].data, ipif.sent[0].len, true, &ip), KITE_ERR_OK);
    assert_int_equal(ip.dst, PEER);
    assert_int_equal(ip.total_len, 20 + 8 + 16);
    assert_int_equal(ipif.sent[0].data[20], 0);
    assert_int_equal(ipif.sent[0].data[21], 0);
}

#define T(f) cmocka_unit_test(f)
int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(test_loopback_dst_from_wire),
        T(test_icmp_error_for_ll_broadcast),
        T(test_deinit_with_loopif),
        T(test_deinit_unbound_pcb),
        T(test_pcb_bound_to_removed_netif),
        T(test_echo_len_truncation),
        T(test_own_garp_looped),
        T(test_echo_reply_to_zero),
        T(test_multicast_ttl),
        T(test_static_arp_survives_readdress),
        T(test_eth_tot_len_wrap),
        T(test_probe_counter_without_address),
        T(test_slash31),
        T(test_echo_split_header),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
