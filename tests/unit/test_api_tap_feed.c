/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TAP driver thread (kite/port/tap_feed.h) over a stack thread, with a
 * SOCK_SEQPACKET socket pair in place of the TAP descriptor: one write, one
 * frame, as a TAP device reads. No device and no privileges are needed.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kite/port/tap_feed.h"
#include "kite/tcpip.h"
#include "kite/udp.h"
#include "testutil.h"

#define FRAMES 4
#define HOLD_MS 200 /* how long the stack thread is kept busy */

struct fixture {
    struct kite_stack stack;
    struct kite_tcpip tcpip;
    struct kite_tap tap;
    int peer;            /* the "wire" end: what is written here, the feed reads */
    atomic_bool hold;    /* the stack thread is kept busy while set */
    atomic_bool holding; /* it is */
};

static enum kite_err no_output(struct kite_netif *netif, struct kite_pbuf *p)
{
    (void)netif;
    (void)p;
    return KITE_ERR_OK;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(kite_stack_init(&f->stack, NULL), KITE_ERR_OK);
    const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 1};
    assert_int_equal(
        kite_netif_add_ethernet(&f->stack, &f->tap.netif, "tap0", mac, 1500, no_output, f),
        KITE_ERR_OK);
    kite_netif_set_up(&f->tap.netif, true);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
    f->tap.fd = sv[0];
    f->peer = sv[1];
    assert_int_equal(kite_tcpip_start(&f->tcpip, &f->stack, NULL), KITE_ERR_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    kite_tcpip_stop(&f->tcpip);
    kite_netif_remove(&f->tap.netif);
    kt_assert_pools_empty(&f->stack);
    kite_stack_deinit(&f->stack);
    close(f->tap.fd);
    close(f->peer);
    free(f);
    return 0;
}

/* A broadcast frame of an ethertype nobody handles: counted and dropped. */
static const uint8_t test_frame[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
                                       0,    0,    0,    0,    2,    0x88, 0xb5};

static void send_frame(struct fixture *f)
{
    assert_int_equal(write(f->peer, test_frame, sizeof test_frame), (ssize_t)sizeof test_frame);
}

static void send_frames(struct fixture *f, int n)
{
    for (int i = 0; i < n; i++)
        send_frame(f);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* Until the feed has taken every frame off the wire (bounded: 5 s). */
static void wait_wire_drained(struct fixture *f)
{
    uint8_t b;
    for (int i = 0; i < 5000; i++) {
        if (recv(f->tap.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0)
            return;
        sleep_ms(1);
    }
    fail_msg("the feed read nothing");
}

/* Runs on the stack thread: keeps it busy until released. */
static void busy(void *ctx)
{
    struct fixture *f = ctx;
    atomic_store(&f->holding, true);
    while (atomic_load(&f->hold))
        sleep_ms(1);
}

static void *occupy_stack_thread(void *arg)
{
    struct fixture *f = arg;
    (void)kite_tcpip_call(&f->tcpip, busy, f);
    return NULL;
}

static void *release_later(void *arg)
{
    struct fixture *f = arg;
    sleep_ms(HOLD_MS);
    atomic_store(&f->hold, false);
    return NULL;
}

/* Frames the feed read are still queued for a busy stack thread when the
 * feed is stopped: the stop waits until they ran (they live in the feed's
 * buffers, which it frees). Regression: the feed was freed under them, and
 * the stack thread then read freed memory (a crash in bench_sockets_tap at
 * exit, about one run in 30). */
static void stop_waits_for_queued_frames(void **state)
{
    struct fixture *f = *state;
    struct kite_tap_feed *feed = kite_tap_feed_start(&f->tap, &f->tcpip, NULL);
    assert_non_null(feed);
    atomic_store(&f->hold, true);
    pthread_t occupier, releaser;
    assert_int_equal(pthread_create(&occupier, NULL, occupy_stack_thread, f), 0);
    for (int i = 0; i < 5000 && !atomic_load(&f->holding); i++)
        sleep_ms(1);
    assert_true(atomic_load(&f->holding));
    assert_int_equal(pthread_create(&releaser, NULL, release_later, f), 0);
    send_frames(f, FRAMES);
    wait_wire_drained(f);
    kite_tap_feed_stop(feed);
    /* In message mode the frames waited in the mailbox; in core-lock mode
     * the feed ran them itself, after the busy call let go of the lock. */
    assert_int_equal(f->stack.stats.eth.drop_unknown_type, FRAMES);
    assert_false(atomic_load(&f->hold)); /* stop waited out the busy call */
    pthread_join(occupier, NULL);
    pthread_join(releaser, NULL);
}

/* ---- Drivers (kite_tap_feed_drive*): only core-lock mode has them ---- */

#define LEASE_WAIT_MS 50 /* far past the driver thread's 200 us lease */

struct count {
    struct fixture *f;
    uint32_t frames;
};

static void read_count(void *ctx)
{
    struct count *c = ctx;
    c->frames = c->f->stack.stats.eth.drop_unknown_type;
}

/* Frames the stack has run so far (read with the stack to ourselves). */
static uint32_t frames_run(struct fixture *f)
{
    struct count c = {f, 0};
    assert_int_equal(kite_tcpip_call(&f->tcpip, read_count, &c), KITE_ERR_OK);
    return c.frames;
}

static bool wire_has_frames(struct fixture *f)
{
    uint8_t b;
    return recv(f->tap.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) >= 0;
}

static void wait_frames_run(struct fixture *f, uint32_t want)
{
    for (int i = 0; i < 5000 && frames_run(f) < want; i++)
        sleep_ms(1);
    assert_int_equal(frames_run(f), want);
}

/* A feed with a driver at work, and FRAMES frames on the wire. */
static struct kite_tap_feed *start_driven(struct fixture *f)
{
    struct kite_tap_feed *feed = kite_tap_feed_start(&f->tap, &f->tcpip, NULL);
    assert_non_null(feed);
    kite_tap_feed_drive_begin(feed);
    send_frames(f, FRAMES);
    return feed;
}

/* The driver thread took every frame off the wire and the stack ran them. */
static void stop_when_all_ran(struct fixture *f, struct kite_tap_feed *feed)
{
    wait_wire_drained(f);
    wait_frames_run(f, FRAMES);
    kite_tap_feed_stop(feed);
}

/* A driver reads and runs the frames on its own thread: each call returns
 * the frames it ran, and they have run when it returns. In message mode it
 * runs nothing and the driver thread takes them as always. */
static void a_driver_runs_frames_itself(void **state)
{
    struct fixture *f = *state;
    struct kite_tap_feed *feed = start_driven(f);
    unsigned driven = 0;
    for (int i = 0; i < 5000 && driven < FRAMES && KITE_TCPIP_CORE_LOCKING; i++) {
        unsigned n = kite_tap_feed_drive(feed);
        driven += n;
        if (n > 0)
            assert_int_equal(frames_run(f), driven); /* (run before the call returned) */
        else
            sleep_ms(1);
    }
    assert_int_equal(kite_tap_feed_drive(feed), 0);
    kite_tap_feed_drive_end(feed, true);
    assert_int_equal(driven, KITE_TCPIP_CORE_LOCKING ? FRAMES : 0);
    wait_frames_run(f, FRAMES);
    struct kite_tap_feed_stats st;
    kite_tap_feed_stats(feed, &st);
    assert_int_equal(st.frames, FRAMES);
    assert_int_equal(st.driven, driven);
    kite_tap_feed_stop(feed);
}

/* While a driver waits the driver thread leaves the device alone; once the
 * driver goes to sleep (kite_tap_feed_sleeping) it takes the frames at once. */
static void the_driver_thread_stands_down_for_a_driver(void **state)
{
    struct fixture *f = *state;
    struct kite_tap_feed *feed = start_driven(f);
    sleep_ms(LEASE_WAIT_MS);
    if (KITE_TCPIP_CORE_LOCKING) {
        assert_true(wire_has_frames(f));
        assert_int_equal(frames_run(f), 0);
    }
    kite_tap_feed_drive_end(feed, false);
    kite_tap_feed_sleeping(feed);
    stop_when_all_ran(f, feed);
}

/* A driver that got what it awaited and does not come back: the driver
 * thread resumes by itself once the lease has passed. */
static void the_driver_thread_resumes_after_the_lease(void **state)
{
    struct fixture *f = *state;
    struct kite_tap_feed *feed = start_driven(f);
    kite_tap_feed_drive_end(feed, true);
    stop_when_all_ran(f, feed);
}

#define STRESS_FRAMES 3000
#define STRESS_DRIVERS 3

struct stress {
    struct fixture *f;
    struct kite_tap_feed *feed;
    atomic_bool done;
    atomic_uint driven;
};

/* A program thread's waits, over and over: drive until nothing comes, end
 * (every other wait as if it got its data), sometimes go to sleep. */
static void *stress_driver(void *arg)
{
    struct stress *st = arg;
    for (unsigned round = 0; !atomic_load(&st->done); round++) {
        kite_tap_feed_drive_begin(st->feed);
        unsigned n, got = 0;
        while ((n = kite_tap_feed_drive(st->feed)) > 0)
            got += n;
        atomic_fetch_add(&st->driven, got);
        kite_tap_feed_drive_end(st->feed, round % 2 == 0);
        if (round % 3 == 0) {
            kite_tap_feed_sleeping(st->feed);
            sleep_ms(1);
        }
    }
    return NULL;
}

static void send_frame_retrying(struct fixture *f)
{
    for (int i = 0; i < 5000; i++) {
        if (write(f->peer, test_frame, sizeof test_frame) == (ssize_t)sizeof test_frame)
            return;
        sleep_ms(1); /* the pair's buffer is full: the readers catch up */
    }
    fail_msg("the wire stayed full");
}

/* Drivers and the driver thread take turns under load: every frame runs
 * exactly once, and the counters agree (ThreadSanitizer: no race). */
static void drivers_and_the_driver_thread_share_the_device(void **state)
{
    struct fixture *f = *state;
    struct stress st = {.f = f};
    st.feed = kite_tap_feed_start(&f->tap, &f->tcpip, NULL);
    assert_non_null(st.feed);
    pthread_t drivers[STRESS_DRIVERS];
    for (int i = 0; i < STRESS_DRIVERS; i++)
        assert_int_equal(pthread_create(&drivers[i], NULL, stress_driver, &st), 0);
    for (int i = 0; i < STRESS_FRAMES; i++)
        send_frame_retrying(f);
    wait_wire_drained(f);
    atomic_store(&st.done, true);
    for (int i = 0; i < STRESS_DRIVERS; i++)
        pthread_join(drivers[i], NULL);
    wait_frames_run(f, STRESS_FRAMES);
    struct kite_tap_feed_stats stats;
    kite_tap_feed_stats(st.feed, &stats);
    assert_int_equal(stats.frames, STRESS_FRAMES);
    assert_int_equal(stats.driven, atomic_load(&st.driven));
    if (!KITE_TCPIP_CORE_LOCKING)
        assert_int_equal(atomic_load(&st.driven), 0);
    kite_tap_feed_stop(st.feed);
}

/* ---- The stack thread's idle work (kite_tcpip_set_idle, message mode) ---- */

#define IDLE_LIMIT_MS 5000 /* an idle function that is never interrupted fails */

struct idle_reader {
    struct fixture *f;
    atomic_uint calls, ran;
    atomic_bool on_stack_thread; /* every call ran where the stack thread's calls run */
    atomic_bool overran;         /* one went on IDLE_LIMIT_MS without an interruption */
    pthread_t stack_thread;
};

static void note_thread(void *ctx)
{
    struct idle_reader *r = ctx;
    r->stack_thread = pthread_self();
}

static void idle_frame_done(void *ctx, struct kite_tcpip_frame *frame, enum kite_err err)
{
    (void)ctx;
    (void)frame;
    (void)err;
}

/* Reads the wire itself and runs what it reads, until a call comes. */
static bool read_until_interrupted(void *ctx, struct kite_tcpip *t)
{
    struct idle_reader *r = ctx;
    atomic_fetch_add(&r->calls, 1);
    if (!pthread_equal(pthread_self(), r->stack_thread))
        atomic_store(&r->on_stack_thread, false);
    bool ran = false;
    for (int i = 0; i < IDLE_LIMIT_MS * 10; i++) {
        if (kite_tcpip_idle_interrupted(t))
            return ran;
        uint8_t buf[128];
        ssize_t n = recv(r->f->tap.fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0) {
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
            continue;
        }
        struct kite_tcpip_frame fr = {
            .netif = &r->f->tap.netif, .data = buf, .len = (uint16_t)n, .done = idle_frame_done};
        struct kite_tcpip_frame *frames[1] = {&fr};
        kite_tcpip_run_frames(t, frames, 1);
        atomic_fetch_add(&r->ran, 1);
        ran = true;
    }
    atomic_store(&r->overran, true);
    return ran;
}

/* In message mode the stack thread runs the idle function whenever its
 * mailbox is empty: the frames it reads run there, each call interrupts it
 * (the calls here come back, none waits out IDLE_LIMIT_MS), and once it is
 * removed it runs no more. Core-lock mode has no idle work: nothing runs. */
static void idle_work_runs_on_the_stack_thread(void **state)
{
    struct fixture *f = *state;
    struct idle_reader r = {.f = f};
    atomic_store(&r.on_stack_thread, true);
    if (!KITE_TCPIP_CORE_LOCKING)
        assert_int_equal(kite_tcpip_call(&f->tcpip, note_thread, &r), KITE_ERR_OK);
    kite_tcpip_set_idle(&f->tcpip, read_until_interrupted, &r);
    send_frames(f, FRAMES);
    if (KITE_TCPIP_CORE_LOCKING) {
        sleep_ms(LEASE_WAIT_MS);
        assert_int_equal(frames_run(f), 0);
        assert_int_equal(atomic_load(&r.calls), 0);
    } else {
        wait_frames_run(f, FRAMES); /* each look is a call: it interrupts */
        assert_int_equal(atomic_load(&r.ran), FRAMES);
        assert_true(atomic_load(&r.calls) >= 1); /* (calls ended it: none overran) */
    }
    kite_tcpip_set_idle(&f->tcpip, NULL, NULL);
    unsigned calls = atomic_load(&r.calls);
    send_frames(f, FRAMES);
    sleep_ms(LEASE_WAIT_MS);
    (void)frames_run(f);
    assert_int_equal(atomic_load(&r.calls), calls);
    assert_true(atomic_load(&r.on_stack_thread));
    assert_false(atomic_load(&r.overran));
    while (recv(f->tap.fd, (uint8_t[128]){0}, 128, MSG_DONTWAIT) > 0)
        ; /* (the frames nobody read) */
}

/* ---- The stack thread reads the device (message mode, KITE_OS_SPIN_US) ---- */

#define ORDER_FRAMES 3000
#define ORDER_BURST 10
#define ORDER_PORT 7

struct order {
    uint32_t next, out_of_order, got; /* on the stack thread */
    struct kite_udp_pcb *pcb;
};

static void order_recv(void *arg, struct kite_udp_pcb *pcb, struct kite_pbuf *p,
                       const struct kite_addr *src, uint16_t src_port, const struct kite_addr *dst)
{
    struct order *o = arg;
    (void)pcb, (void)src, (void)src_port, (void)dst;
    uint8_t b[4] = {0};
    (void)kite_pbuf_copy_out(p, b, 4, 0);
    kite_pbuf_free(o->pcb->stack, p);
    uint32_t seq = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    o->out_of_order += seq != o->next;
    o->next = seq + 1u;
    o->got++;
}

struct order_setup {
    struct fixture *f;
    struct order *o;
    bool on;
};

static void order_listen(void *ctx)
{
    struct order_setup *s = ctx;
    if (!s->on) {
        kite_udp_remove(s->o->pcb);
        return;
    }
    assert_int_equal(kite_netif_set_ipv4(&s->f->tap.netif, KITE_IP4(192, 0, 2, 2), 24, 0),
                     KITE_ERR_OK);
    s->o->pcb = kite_udp_new(&s->f->stack);
    assert_non_null(s->o->pcb);
    assert_int_equal(kite_udp_bind(s->o->pcb, NULL, ORDER_PORT), KITE_ERR_OK);
    kite_udp_recv(s->o->pcb, order_recv, s->o);
}

/* An Ethernet frame to the stack's MAC with a UDP datagram carrying seq. */
static void send_numbered(struct fixture *f, uint32_t seq)
{
    uint8_t frame[128] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00};
    uint8_t payload[4] = {(uint8_t)(seq >> 24), (uint8_t)(seq >> 16), (uint8_t)(seq >> 8),
                          (uint8_t)seq};
    uint16_t n = kt_build_udp(frame + 14, KITE_IP4(192, 0, 2, 1), KITE_IP4(192, 0, 2, 2), 1000,
                              ORDER_PORT, payload, sizeof payload, false);
    uint16_t len = (uint16_t)(14u + n < 60u ? 60u : 14u + n);
    for (int i = 0; i < 5000; i++) {
        if (write(f->peer, frame, len) == (ssize_t)len)
            return;
        sleep_ms(1); /* the pair's buffer is full: the readers catch up */
    }
    fail_msg("the wire stayed full");
}

struct order_count {
    struct order *o;
    uint32_t got, out_of_order;
};

static void read_order(void *ctx)
{
    struct order_count *c = ctx;
    c->got = c->o->got;
    c->out_of_order = c->o->out_of_order;
}

/* Bursts with pauses: the stack thread reads some while it idles, the
 * driver thread the rest once it sleeps, and every datagram still arrives
 * once and in order. In core-lock mode, or without spinning, the stack
 * thread reads none. */
static void frames_stay_in_order_when_the_stack_thread_reads(void **state)
{
    struct fixture *f = *state;
    struct order o = {0};
    struct order_setup s = {f, &o, true};
    assert_int_equal(kite_tcpip_call(&f->tcpip, order_listen, &s), KITE_ERR_OK);
    struct kite_tap_feed *feed = kite_tap_feed_start(&f->tap, &f->tcpip, NULL);
    assert_non_null(feed);
    for (uint32_t seq = 0; seq < ORDER_FRAMES; seq++) {
        send_numbered(f, seq);
        if (seq % ORDER_BURST == ORDER_BURST - 1u && seq % 3u == 0u)
            sleep_ms(1); /* the stack thread's spin ends: it sleeps */
    }
    struct order_count c = {&o, 0, 0};
    for (int i = 0; i < 5000 && c.got < ORDER_FRAMES; i++) {
        sleep_ms(1);
        assert_int_equal(kite_tcpip_call(&f->tcpip, read_order, &c), KITE_ERR_OK);
    }
    assert_int_equal(c.got, ORDER_FRAMES);
    assert_int_equal(c.out_of_order, 0);
    struct kite_tap_feed_stats st;
    kite_tap_feed_stats(feed, &st);
    assert_int_equal(st.frames, ORDER_FRAMES);
    assert_int_equal(st.driven, 0);
    if (!KITE_TCPIP_CORE_LOCKING && KITE_OS_SPIN_US > 0) {
        assert_true(st.by_stack > 0);
        assert_true(st.by_stack < ORDER_FRAMES); /* the driver thread read the rest */
    } else {
        assert_int_equal(st.by_stack, 0);
    }
    kite_tap_feed_stop(feed);
    s.on = false;
    assert_int_equal(kite_tcpip_call(&f->tcpip, order_listen, &s), KITE_ERR_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(stop_waits_for_queued_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(a_driver_runs_frames_itself, setup, teardown),
        cmocka_unit_test_setup_teardown(the_driver_thread_stands_down_for_a_driver, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_driver_thread_resumes_after_the_lease, setup, teardown),
        cmocka_unit_test_setup_teardown(drivers_and_the_driver_thread_share_the_device, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(idle_work_runs_on_the_stack_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(frames_stay_in_order_when_the_stack_thread_reads, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
