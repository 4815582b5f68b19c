/* SPDX-License-Identifier: BSD-3-Clause */
/* The pcap writer: a file any reader can parse, one record per frame. */
#include "test_sim_world.h"

#include "kite/port/pcap.h"

struct pcap_rec {
    uint32_t sec, usec, incl, orig;
    uint8_t data[64]; /* the first bytes */
};

struct pcap_file {
    uint32_t magic, snaplen, linktype;
    uint16_t major, minor;
    unsigned count;
    struct pcap_rec rec[256];
};

static uint32_t get_u32(const uint8_t *b)
{
    uint32_t v;
    memcpy(&v, b, 4);
    return v;
}

static uint16_t get_u16(const uint8_t *b)
{
    uint16_t v;
    memcpy(&v, b, 2);
    return v;
}

/* Parse a whole file; fails the test on any truncation. */
static void read_pcap(const char *path, struct pcap_file *pf)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t hdr[24];
    assert_int_equal(fread(hdr, 1, sizeof hdr, f), sizeof hdr);
    memset(pf, 0, sizeof *pf);
    pf->magic = get_u32(hdr);
    pf->major = get_u16(hdr + 4);
    pf->minor = get_u16(hdr + 6);
    pf->snaplen = get_u32(hdr + 16);
    pf->linktype = get_u32(hdr + 20);
    uint8_t rh[16];
    size_t got;
    while ((got = fread(rh, 1, sizeof rh, f)) == sizeof rh) {
        assert_true(pf->count < 256);
        struct pcap_rec *r = &pf->rec[pf->count++];
        r->sec = get_u32(rh);
        r->usec = get_u32(rh + 4);
        r->incl = get_u32(rh + 8);
        r->orig = get_u32(rh + 12);
        assert_true(r->incl <= 65535);
        uint8_t buf[65535];
        assert_int_equal(fread(buf, 1, r->incl, f), r->incl);
        memcpy(r->data, buf, r->incl < 64 ? r->incl : 64);
    }
    assert_int_equal(got, 0); /* no partial record at the end */
    fclose(f);
}

static void test_pcap_ethernet(void **state)
{
    (void)state;
    const char *path = "test_sim_pcap_eth.pcap";
    struct w_world w;
    w_init(&w, 2, (struct kite_simlink_config){.delay_ms = 3}, 1);
    struct w_host *a = w.hosts[0], *b = w.hosts[1];
    w_run(&w, 1500); /* start at a recognisable time: 1.5 s */

    struct kite_pcap *pcap = kite_pcap_open(path, &a->netif);
    assert_non_null(pcap);
    for (int i = 0; i < 4; i++)
        assert_true(w_ping_once(&w, a, b->ip, 100, 1, NULL) == 0);
    uint32_t written = kite_pcap_count(pcap);
    kite_pcap_close(pcap);
    /* Closed: no more records. */
    assert_true(w_ping_once(&w, a, b->ip, 100, 1, NULL) == 0);

    struct pcap_file *pf = calloc(1, sizeof *pf);
    assert_non_null(pf);
    read_pcap(path, pf);
    assert_int_equal(pf->magic, 0xa1b2c3d4u);
    assert_int_equal(pf->major, 2);
    assert_int_equal(pf->minor, 4);
    assert_int_equal(pf->snaplen, 65535);
    assert_int_equal(pf->linktype, 1);
    /* 4 requests + 4 replies, plus any ARP exchange (or announcements). */
    assert_int_equal(pf->count, written);
    assert_true(written >= 8);
    unsigned echo = 0;
    uint64_t prev = 0;
    for (unsigned i = 0; i < pf->count; i++) {
        const struct pcap_rec *r = &pf->rec[i];
        assert_int_equal(r->incl, r->orig);
        assert_true(r->incl >= 14);
        assert_true(r->usec < 1000000);
        uint64_t t = (uint64_t)r->sec * 1000000u + r->usec;
        assert_true(t >= prev && t >= 1500000u);
        prev = t;
        if (r->data[12] != 0x08 || r->data[13] != 0x00 || r->data[23] != 1)
            continue; /* not IPv4 carrying ICMP */
        echo++;
        /* Requests (type 8) leave from a's MAC, replies (0) arrive to it. */
        assert_true(r->data[34] == 8 || r->data[34] == 0);
        const uint8_t *mac = r->data[34] == 8 ? r->data + 6 : r->data;
        assert_memory_equal(mac, a->netif.hwaddr, 6);
    }
    assert_int_equal(echo, 8);
    free(pf);
    remove(path);
    w_fini(&w);
}

static enum kite_err sink_output(struct kite_netif *netif, struct kite_pbuf *p)
{
    (void)netif;
    (void)p;
    return KITE_ERR_OK;
}

static void test_pcap_raw_ip(void **state)
{
    (void)state;
    const char *path = "test_sim_pcap_raw.pcap";
    struct kite_stack *stack = calloc(1, sizeof *stack);
    assert_non_null(stack);
    assert_int_equal(kite_stack_init(stack, &(struct kite_stack_config){.seed = 3, .now = 2500}),
                     KITE_ERR_OK);
    struct kite_netif netif;
    memset(&netif, 0, sizeof netif);
    assert_int_equal(kite_netif_add_ip(stack, &netif, "tun0", 1500, sink_output, NULL),
                     KITE_ERR_OK);
    kite_netif_set_up(&netif, true);
    assert_int_equal(kite_netif_set_ipv4(&netif, KITE_IP4(192, 0, 2, 50), 24, 0), KITE_ERR_OK);

    struct kite_pcap *pcap = kite_pcap_open(path, &netif);
    assert_non_null(pcap);
    struct kite_udp_pcb *pcb = kite_udp_new(stack);
    assert_non_null(pcb);
    uint8_t data[1000];
    memset(data, 0x5a, sizeof data);
    struct kite_pbuf *p = kite_pbuf_from_data(stack, KITE_LAYER_TRANSPORT, data, sizeof data, true);
    assert_non_null(p);
    struct kite_addr dst = KITE_ADDR_V4(KITE_IP4(192, 0, 2, 60));
    assert_int_equal(kite_udp_sendto(pcb, p, &dst, 9), KITE_ERR_OK);
    kite_pbuf_free(stack, p);
    assert_int_equal(kite_pcap_count(pcap), 1);
    kite_pcap_close(pcap);

    struct pcap_file *pf = calloc(1, sizeof *pf);
    assert_non_null(pf);
    read_pcap(path, pf);
    assert_int_equal(pf->linktype, 101);
    assert_int_equal(pf->count, 1);
    assert_int_equal(pf->rec[0].incl, 20 + 8 + sizeof data);
    assert_int_equal(pf->rec[0].data[0], 0x45);
    assert_int_equal(pf->rec[0].sec, 2);
    assert_int_equal(pf->rec[0].usec, 500000);
    free(pf);
    remove(path);

    kite_udp_remove(pcb);
    kite_netif_remove(&netif);
    kt_assert_pools_empty(stack); /* before deinit, which would free a leftover */
    kite_stack_deinit(stack);
    kt_assert_pools_empty(stack);
    free(stack);
}

static void test_pcap_open_fails_cleanly(void **state)
{
    (void)state;
    struct w_world w;
    w_init(&w, 1, (struct kite_simlink_config){0}, 1);
    assert_null(kite_pcap_open("/nonexistent-dir/x.pcap", &w.hosts[0]->netif));
    assert_null(w.hosts[0]->netif.capture);
    w_fini(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcap_ethernet),
        cmocka_unit_test(test_pcap_raw_ip),
        cmocka_unit_test(test_pcap_open_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, 0, NULL);
}
