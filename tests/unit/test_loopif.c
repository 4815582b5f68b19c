/* SPDX-License-Identifier: BSD-3-Clause */
/* Loopback netif: ping and UDP to 127.0.0.1 and to our own address. */
#include <stdlib.h>
#include <string.h>

#include "kite/port/loopif.h"
#include "testutil.h"

struct fixture {
    struct kite_stack stack;
    struct kite_loopif lo;
    struct kt_capture_if eth;
    unsigned replies;
    unsigned udp_rx;
    char udp_data[16];
};

static void on_reply(void *arg, uint32_t src, uint16_t id, uint16_t seq,
                     const struct kite_pbuf *data)
{
    (void)src;
    (void)id;
    (void)seq;
    (void)data;
    struct fixture *f = arg;
    f->replies++;
}

static void on_udp(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                   const struct kite_addr *src, uint16_t port, const struct kite_addr *dst)
{
    (void)src;
    (void)port;
    (void)dst;
    struct fixture *f = arg;
    f->udp_rx++;
    kite_pbuf_copy_out(p, f->udp_data, sizeof f->udp_data - 1, 0);
    kite_pbuf_free(pcb->stack, p);
}

static void run(struct fixture *f)
{
    for (int i = 0; i < 10 && kite_stack_next_deadline(&f->stack) <= kite_stack_now(&f->stack); i++)
        kite_stack_poll(&f->stack, kite_stack_now(&f->stack));
}

static void test_loopback_ping_and_udp(void **state)
{
    (void)state;
    struct fixture *f = calloc(1, sizeof *f);
    kite_stack_init(&f->stack, NULL);
    assert_int_equal(kite_loopif_add(&f->stack, &f->lo), KITE_ERR_OK);
    kt_capture_add_ethernet(&f->stack, &f->eth, 1);
    kite_netif_set_ipv4(&f->eth.netif, KITE_IP4(192, 0, 2, 2), 24, 0);
    run(f);
    kt_capture_clear(&f->eth);
    kite_icmp4_set_echo_reply_hook(&f->stack, on_reply, f);
    assert_int_equal(kite_icmp4_send_echo(&f->stack, KITE_IP4(127, 0, 0, 1), 1, 1, "a", 1),
                     KITE_ERR_OK);
    assert_int_equal(kite_icmp4_send_echo(&f->stack, KITE_IP4(192, 0, 2, 2), 1, 2, "b", 1),
                     KITE_ERR_OK);
    assert_int_equal(f->replies, 0); /* nothing re-enters during the send */
    run(f);
    assert_int_equal(f->replies, 2);
    assert_int_equal(f->eth.count, 0); /* none of it left on the wire */

    struct kite_udp_pcb *pcb = kite_udp_new(&f->stack);
    kite_udp_bind(pcb, NULL, 7);
    kite_udp_recv(pcb, on_udp, f);
    struct kite_pbuf *p = kite_pbuf_from_data(&f->stack, KITE_LAYER_TRANSPORT, "loop", 4, true);
    struct kite_addr lo = KITE_ADDR_V4(KITE_IP4(127, 0, 0, 1));
    assert_int_equal(kite_udp_sendto(pcb, p, &lo, 7), KITE_ERR_OK);
    kite_pbuf_free(&f->stack, p);
    run(f);
    assert_int_equal(f->udp_rx, 1);
    assert_string_equal(f->udp_data, "loop");

    /* Queue overflow is refused with an error, not lost silently. */
    unsigned refused = 0;
    for (int i = 0; i < KITE_LOOPIF_QUEUE_LEN + 2; i++) {
        enum kite_err err = kite_icmp4_send_echo(&f->stack, KITE_IP4(127, 0, 0, 1), 1, 3, "c", 1);
        if (err != KITE_ERR_OK) {
            /* the queue (or the RAM pool behind it) is full: refused, never lost */
            assert_int_equal(err, KITE_ERR_MEM);
            refused++;
        } else {
            assert_int_equal(refused, 0); /* once full, it stays full until polled */
        }
    }
    assert_true(refused >= 2);
    assert_int_equal(f->lo.drops, refused);
    kite_loopif_remove(&f->lo); /* frees what is still queued */
    kite_udp_remove(pcb);
    kt_assert_pools_empty(&f->stack); /* before deinit, which would free a leftover */
    kite_stack_deinit(&f->stack);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_loopback_ping_and_udp)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
