/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kite on a Linux TAP device for the examples (kite_example_net.h).
 *
 * Three threads touch the stack's world:
 *  - the stack thread (kite_tcpip_start) owns the stack; the TAP netif's
 *    output runs there and writes frames to the TAP descriptor directly;
 *  - the driver thread (kite/port/tap_feed.h) reads frames from the TAP
 *    descriptor and hands them in. It also waits for SIGINT/SIGTERM
 *    (signalfd, a hook of the feed) and, once a stop is asked for, closes
 *    every open socket;
 *  - the example's main thread calls the socket API.
 */
#include "kite_example_net.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "kite/byteorder.h"
#include "kite/addr.h"
#include "kite/port/clock.h"
#include "kite/port/tap.h"
#include "kite/port/tap_feed.h"
#include "kite/stack.h"
#include "kite/tcpip.h"

#define TAG "example_net"

struct kite_example_net {
    struct kite_stack stack;
    struct kite_tap tap;
    struct kite_tcpip tcpip;
    struct kite_sockets socks;
    uint32_t addr, gw;
    unsigned prefix;
    bool stack_ready, tap_open, tcpip_started, sockets_ready;
    struct kite_tap_feed_stats rx; /* the driver's counters, taken when it stops */

    struct kite_tap_feed *feed; /* the driver thread */
    int sigfd;
    atomic_bool stopping;
};

/* ---- Logging ------------------------------------------------------------------------ */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Programs may have globals (the library may not): log time counts from here. */
static uint64_t log_epoch_ms;

void kite_example_log(char level, const char *tag, const char *fmt, ...)
{
    va_list ap;
    FILE *out = level == 'E' ? stderr : stdout;

    if (log_epoch_ms == 0)
        log_epoch_ms = mono_ms();
    fprintf(out, "%c (%" PRIu64 ") %s: ", level, mono_ms() - log_epoch_ms, tag);
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
    fflush(out);
}

/* ---- Command line --------------------------------------------------------------------- */

const char *kite_example_net_usage(void)
{
    return "  --tap IFNAME        TAP device to run on (created if missing)\n"
           "  --ipv4 ADDR/PREFIX  kite's address, e.g. 192.0.2.2/24\n"
           "  --gw ADDR           default gateway (optional)\n"
           "  --mac MAC           kite's MAC (default 02:6b:69:74:65:02)\n";
}

struct net_args {
    const char *tap;
    uint32_t addr, gw;
    unsigned prefix;
    bool have_addr;
    uint8_t mac[6];
};

/* One of our options at argv[i] (value in argv[i + 1]): 1 used, 0 not ours, -1 bad. */
static int take_option(struct net_args *a, const char *opt, const char *val)
{
    bool ok;

    if (strcmp(opt, "--tap") == 0)
        ok = val != NULL && (a->tap = val, true);
    else if (strcmp(opt, "--ipv4") == 0)
        ok = val != NULL && (a->have_addr = kite_ip4_parse_prefix(val, &a->addr, &a->prefix));
    else if (strcmp(opt, "--gw") == 0)
        ok = val != NULL && kite_ip4_parse(val, &a->gw);
    else if (strcmp(opt, "--mac") == 0)
        ok = val != NULL && kite_mac_parse(val, a->mac);
    else
        return 0;
    if (!ok)
        fprintf(stderr, "%s: bad or missing value\n", opt);
    return ok ? 1 : -1;
}

static bool parse_net_args(int *argc, char **argv, struct net_args *a)
{
    static const uint8_t default_mac[6] = {0x02, 0x6b, 0x69, 0x74, 0x65, 0x02};
    int kept = 1;

    memset(a, 0, sizeof *a);
    memcpy(a->mac, default_mac, sizeof a->mac);
    for (int i = 1; i < *argc; i++) {
        int r = take_option(a, argv[i], i + 1 < *argc ? argv[i + 1] : NULL);
        if (r < 0)
            return false;
        if (r > 0)
            i++;
        else
            argv[kept++] = argv[i];
    }
    *argc = kept;
    argv[kept] = NULL;
    if (a->tap == NULL || !a->have_addr) {
        fprintf(stderr, "--tap and --ipv4 are required\n");
        return false;
    }
    return true;
}

/* ---- The driver thread's hooks ------------------------------------------------------ */

static void on_signal(void *ctx)
{
    struct kite_example_net *net = ctx;
    struct signalfd_siginfo si;

    if (read(net->sigfd, &si, sizeof si) != (ssize_t)sizeof si)
        return;
    KITE_LOGW(TAG, "%s: stopping", si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
    atomic_store(&net->stopping, true);
}

/* While stopping: close whatever the example has open, so a call blocked in
 * accept or recv returns (EBADF). Repeated each round, in case the example
 * opened a socket after the last sweep. */
static void sweep(struct kite_example_net *net)
{
    for (int fd = KITE_SOCKET_OFFSET; fd < KITE_SOCKET_OFFSET + KITE_SOCKET_COUNT; fd++)
        (void)kite_close(&net->socks, fd); /* EBADF for the free ones */
}

/* After every wake-up of the driver thread: a failed TAP device stops the
 * example; while stopping, sweep. */
static void on_round(void *ctx, struct kite_tap_feed *feed)
{
    struct kite_example_net *net = ctx;
    /* (feed, not net->feed: this may run before the start returned it) */
    if (kite_tap_feed_failed(feed) && !atomic_exchange(&net->stopping, true))
        KITE_LOGE(TAG, "TAP device %s failed", net->tap.ifname);
    if (atomic_load(&net->stopping))
        sweep(net);
}

/* ---- Start and stop ----------------------------------------------------------------------- */

/* SIGINT/SIGTERM reach the driver thread through a signalfd; block them in
 * every thread (the threads started later inherit the mask). */
static int signal_fd(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static struct kite_example_net *net_alloc(void)
{
    /* The stack holds every pool's storage: too big for the C stack. */
    struct kite_example_net *net = calloc(1, sizeof *net);
    if (net == NULL)
        return NULL;
    net->sigfd = -1;
    net->tap.fd = -1;
    return net;
}

static bool open_link(struct kite_example_net *net, const struct net_args *a)
{
    struct kite_stack_config cfg = {
        .seed = mono_ms() ^ ((uint64_t)getpid() << 32), /* new ports and ISNs per run */
        .now = kite_port_now_ms(),
    };
    enum kite_err err = kite_stack_init(&net->stack, &cfg);

    if (err != KITE_ERR_OK) {
        KITE_LOGE(TAG, "stack init: %s", kite_err_str(err));
        return false;
    }
    net->stack_ready = true;
    err = kite_tap_open(&net->tap, &net->stack, a->tap, a->mac);
    if (err != KITE_ERR_OK) {
        KITE_LOGE(TAG, "cannot open TAP %s: %s (%s)", a->tap, kite_err_str(err), strerror(errno));
        return false;
    }
    net->tap_open = true;
    err = kite_netif_set_ipv4(&net->tap.netif, a->addr, a->prefix, a->gw);
    if (err != KITE_ERR_OK) {
        KITE_LOGE(TAG, "cannot set the address: %s", kite_err_str(err));
        return false;
    }
    kite_netif_set_default(&net->stack, &net->tap.netif);
    net->addr = a->addr;
    net->gw = a->gw;
    net->prefix = a->prefix;
    return true;
}

static bool start_threads(struct kite_example_net *net)
{
    enum kite_err err = kite_tcpip_start(&net->tcpip, &net->stack, NULL);

    if (err != KITE_ERR_OK) {
        KITE_LOGE(TAG, "stack thread: %s", kite_err_str(err));
        return false;
    }
    net->tcpip_started = true;
    if (kite_sockets_init(&net->socks, &net->tcpip) != 0) {
        KITE_LOGE(TAG, "socket table: %s", strerror(errno));
        return false;
    }
    net->sockets_ready = true;
    struct kite_tap_feed_hooks hooks = {
        .fd = net->sigfd, .readable = on_signal, .round = on_round, .ctx = net};
    net->feed = kite_tap_feed_start(&net->tap, &net->tcpip, &hooks);
    if (net->feed == NULL) {
        KITE_LOGE(TAG, "driver thread: %s", strerror(errno));
        return false;
    }
    return true;
}

struct kite_example_net *kite_example_net_start(int *argc, char **argv)
{
    struct net_args a;
    char ip[16], gw[16];

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!parse_net_args(argc, argv, &a))
        return NULL;
    struct kite_example_net *net = net_alloc();
    if (net == NULL) {
        perror("calloc");
        return NULL;
    }
    net->sigfd = signal_fd();
    if (net->sigfd < 0) {
        perror("signals");
        (void)kite_example_net_stop(net, 1);
        return NULL;
    }
    if (!open_link(net, &a) || !start_threads(net)) {
        (void)kite_example_net_stop(net, 1);
        return NULL;
    }
    KITE_LOGI(TAG, "up on %s %s/%u gw %s mac %02x:%02x:%02x:%02x:%02x:%02x", net->tap.ifname,
              kite_ip4_format(a.addr, ip, sizeof ip), a.prefix,
              a.gw != 0 ? kite_ip4_format(a.gw, gw, sizeof gw) : "none", a.mac[0], a.mac[1],
              a.mac[2], a.mac[3], a.mac[4], a.mac[5]);
    return net;
}

struct kite_sockets *kite_example_net_sockets(struct kite_example_net *net)
{
    return &net->socks;
}

int kite_example_int_arg(const char *text, int lo, int hi)
{
    char *end;
    long v = strtol(text, &end, 10);
    return end != text && *end == '\0' && v >= lo && v <= hi ? (int)v : -1;
}

uint32_t kite_example_net_ipv4(const struct kite_example_net *net)
{
    return kite_htonl(net->addr);
}

struct kite_tcpip *kite_example_net_tcpip(struct kite_example_net *net)
{
    return &net->tcpip;
}

bool kite_example_net_stopping(const struct kite_example_net *net)
{
    return atomic_load(&net->stopping);
}

bool kite_example_net_sleep(struct kite_example_net *net, unsigned ms)
{
    uint64_t until = mono_ms() + ms;

    /* Short naps: a stop is noticed within 20 ms. */
    while (!kite_example_net_stopping(net)) {
        uint64_t now = mono_ms();
        if (now >= until)
            return true;
        uint64_t nap = until - now < 20u ? until - now : 20u;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)nap * 1000000L};
        nanosleep(&ts, NULL);
    }
    return false;
}

/* Netconns of the stack thread not on its free list (after it stopped). */
static unsigned netconns_in_use(const struct kite_example_net *net)
{
    unsigned free_count = 0;
    for (const struct kite_netconn *c = net->tcpip.netconns.free; c != NULL; c = c->next)
        free_count++;
    return KITE_NETCONN_COUNT - free_count;
}

/* Print every pool; returns the blocks still in use. */
static unsigned report_pools(const struct kite_example_net *net)
{
    unsigned in_use = 0;

    printf("pools:\n");
    for (unsigned id = 0; id < (unsigned)KITE_POOL__COUNT; id++) {
        const struct kite_pool *pool = kite_stack_pool(&net->stack, (enum kite_pool_id)id);
        if (pool == NULL)
            continue;
        printf("  %-10s used %u peak %u failed %" PRIu32 " of %u\n", pool->name, pool->used,
               pool->peak, pool->failed, pool->count);
        in_use += pool->used;
    }
    const struct kite_tap_feed_stats *rx = &net->rx;
    printf("rx: frames %" PRIu32 " (read by the stack thread %" PRIu32 ") mbox_full %" PRIu32
           " drop_mem %" PRIu32 " drop_size %" PRIu32 " errors %" PRIu32 "; tx errors %" PRIu32
           "\n",
           rx->frames, rx->by_stack, rx->mbox_full, rx->drop_mem, rx->drop_size, rx->errors,
           net->tap.tx_errors);
    return in_use;
}

/* Stop the threads in the order that lets each finish what the next needs. */
static unsigned stop_threads(struct kite_example_net *net)
{
    unsigned netconns = 0;

    if (net->feed != NULL) {
        /* No more frames come in; frames already queued are still run by
         * the stack thread before it stops. */
        kite_tap_feed_stats(net->feed, &net->rx);
        kite_tap_feed_stop(net->feed);
        net->feed = NULL;
    }
    if (net->sockets_ready) {
        kite_sockets_deinit(&net->socks);
        net->sockets_ready = false;
    }
    if (net->tcpip_started) {
        kite_tcpip_stop(&net->tcpip);
        net->tcpip_started = false;
        netconns = netconns_in_use(net);
    }
    return netconns;
}

int kite_example_net_stop(struct kite_example_net *net, int status)
{
    unsigned netconns = stop_threads(net);
    unsigned in_use = 0;

    if (net->stack_ready) {
        /* Removing the netif lets go of the connections on it; then run the
         * clock past TIME_WAIT (2 MSL) so the stack itself frees every pcb
         * and pbuf: what is left after that was leaked. */
        if (net->tap_open)
            kite_tap_close(&net->tap);
        net->tap_open = false;
        kite_stack_poll(&net->stack, kite_stack_now(&net->stack) + 4u * KITE_TCP_MSL_MS);
        in_use = report_pools(net);
        kite_stack_deinit(&net->stack);
        net->stack_ready = false;
    }
    if (netconns != 0) {
        KITE_LOGE(TAG, "%u netconns still in use after shutdown (leak)", netconns);
        status = 1;
    }
    if (in_use != 0) {
        KITE_LOGE(TAG, "%u pool blocks still in use after shutdown (leak)", in_use);
        status = 1;
    }
    if (net->sigfd >= 0)
        close(net->sigfd);
    free(net);
    printf("exit status %d\n", status);
    return status;
}
