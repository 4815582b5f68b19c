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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
