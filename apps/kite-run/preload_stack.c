/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kite stack inside the program (docs/kite-run.md): started on the
 * first AF_INET socket from the KITE_* environment that kite-run sets, on
 * a TAP device, with a loopback netif for 127.0.0.0/8. Its threads (the
 * stack thread, the TAP driver) run with every signal blocked, so signals
 * reach the program's threads as they would without kite.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kite/addr.h"
#include "kite/arp.h"
#include "kite/port/clock.h"
#include "kite/port/loopif.h"
#include "kite/port/pcap.h"
#include "kite/port/tap.h"
#include "kite/port/tap_feed.h"
#include "kite/stack.h"
#include "kite/stats.h"
#include "kite/tcp.h"
#include "kite/tcpip.h"
#include "preload.h"

struct kr_state {
    struct kite_stack stack;
    struct kite_tap tap;
    struct kite_loopif lo;
    struct kite_tcpip tcpip;
    struct kite_sockets socks;
    struct kite_tap_feed *feed;
    struct kite_pcap *pcap;
    const char *stats; /* KITE_STATS: "1" (stderr) or a file */
};

struct kr_state *kr;
struct kr_libc kr_real;

static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static bool forked;     /* this is a child of the process that started kite */
static int start_errno; /* set when starting failed: every later socket() fails the same */

/* ---- The C library's functions ---------------------------------------------------------- */

/* (dlsym gives an object pointer; POSIX lets it be copied into a function pointer) */
#define RESOLVE(name)                                                                              \
    do {                                                                                           \
        void *sym_ = dlsym(RTLD_NEXT, #name);                                                      \
        memcpy(&kr_real.name, &sym_, sizeof sym_);                                                 \
    } while (0)

static void in_child(void);

__attribute__((constructor)) static void resolve_libc(void)
{
    RESOLVE(socket);
    RESOLVE(close);
    RESOLVE(dup);
    RESOLVE(dup2);
    RESOLVE(dup3);
    RESOLVE(fcntl);
    RESOLVE(ioctl);
    RESOLVE(bind);
    RESOLVE(listen);
    RESOLVE(accept);
    RESOLVE(accept4);
    RESOLVE(connect);
    RESOLVE(shutdown);
    RESOLVE(getsockname);
    RESOLVE(getpeername);
    RESOLVE(getsockopt);
    RESOLVE(setsockopt);
    RESOLVE(read);
    RESOLVE(readv);
    RESOLVE(write);
    RESOLVE(writev);
    RESOLVE(recv);
    RESOLVE(recvfrom);
    RESOLVE(recvmsg);
    RESOLVE(recvmmsg);
    RESOLVE(send);
    RESOLVE(sendto);
    RESOLVE(sendmsg);
    RESOLVE(sendmmsg);
    RESOLVE(sendfile);
    RESOLVE(poll);
    RESOLVE(ppoll);
    RESOLVE(select);
    RESOLVE(pselect);
    RESOLVE(getaddrinfo);
    RESOLVE(epoll_ctl);
    RESOLVE(epoll_wait);
    RESOLVE(epoll_pwait);
    RESOLVE(epoll_pwait2);
    pthread_atfork(NULL, NULL, in_child);
}

/* ---- Configuration from the environment --------------------------------------------------- */

struct kr_config {
    const char *tap;
    uint32_t addr, gw;
    unsigned prefix;
    uint8_t mac[6];
};

static void complain(const char *fmt, const char *arg)
{
    fprintf(stderr, "kite-run: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
}

static bool read_config(struct kr_config *c)
{
    static const uint8_t default_mac[6] = {0x02, 0x6b, 0x69, 0x74, 0x65, 0x02};
    const char *addr = getenv("KITE_IPV4"), *gw = getenv("KITE_GW"), *mac = getenv("KITE_MAC");
    memset(c, 0, sizeof *c);
    memcpy(c->mac, default_mac, sizeof c->mac);
    c->tap = getenv("KITE_TAP");
    if (c->tap == NULL || addr == NULL) {
        complain("%s", "KITE_TAP and KITE_IPV4 must be set (use kite-run)");
        return false;
    }
    if (!kite_ip4_parse_prefix(addr, &c->addr, &c->prefix)) {
        complain("bad KITE_IPV4 %s (ADDR/PREFIX)", addr);
        return false;
    }
    if (gw != NULL && *gw != '\0' && !kite_ip4_parse(gw, &c->gw)) {
        complain("bad KITE_GW %s", gw);
        return false;
    }
    if (mac != NULL && *mac != '\0' && !kite_mac_parse(mac, c->mac)) {
        complain("bad KITE_MAC %s", mac);
        return false;
    }
    return true;
}

/* ---- Bringing the stack up ---------------------------------------------------------------- */

static bool open_links(struct kr_state *s, const struct kr_config *c)
{
    struct kite_stack_config cfg = {
        .seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)s,
        .now = kite_port_now_ms(),
    };
    enum kite_err err = kite_stack_init(&s->stack, &cfg);
    if (err == KITE_ERR_OK)
        err = kite_loopif_add(&s->stack, &s->lo);
    if (err != KITE_ERR_OK) {
        complain("stack: %s", kite_err_str(err));
        return false;
    }
    err = kite_tap_open(&s->tap, &s->stack, c->tap, c->mac);
    if (err != KITE_ERR_OK) {
        fprintf(stderr, "kite-run: cannot open TAP %s: %s (%s)\n", c->tap, kite_err_str(err),
                strerror(errno));
        return false;
    }
    kr_txq_attach(&s->tap);
    err = kite_netif_set_ipv4(&s->tap.netif, c->addr, c->prefix, c->gw);
    if (err != KITE_ERR_OK) {
        complain("address: %s", kite_err_str(err));
        return false;
    }
    kite_netif_set_default(&s->stack, &s->tap.netif);
    const char *pcap = getenv("KITE_PCAP");
    if (pcap != NULL && *pcap != '\0') {
        s->pcap = kite_pcap_open(pcap, &s->tap.netif);
        if (s->pcap == NULL) {
            fprintf(stderr, "kite-run: cannot write %s: %s\n", pcap, strerror(errno));
            return false;
        }
    }
    return true;
}

static void feed_round(void *ctx, struct kite_tap_feed *feed)
{
    (void)ctx;
    (void)feed;
    kr_txq_flush();
    kr_txq_begin();
}

/* (A forked child has no TAP thread to stand down, nor a stack to run.) */
void kr_drive_begin(void)
{
    if (!forked)
        kite_tap_feed_drive_begin(kr->feed);
}

unsigned kr_drive(void)
{
    if (forked)
        return 0;
    kr_txq_begin(); /* its ACKs are written once the lock is let go */
    unsigned n = kite_tap_feed_drive(kr->feed);
    kr_txq_flush();
    return n;
}

void kr_drive_end(bool got)
{
    if (!forked)
        kite_tap_feed_drive_end(kr->feed, got);
}

void kr_sleeping(void)
{
    struct kr_state *s = __atomic_load_n(&kr, __ATOMIC_ACQUIRE);
    if (s != NULL && !forked)
        kite_tap_feed_sleeping(s->feed);
}

static bool start_threads(struct kr_state *s)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the stack thread inherits it */
    enum kite_err err = kite_tcpip_start(&s->tcpip, &s->stack, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != KITE_ERR_OK) {
        complain("stack thread: %s", kite_err_str(err));
        return false;
    }
    kite_tcpip_set_event_fn(&s->tcpip, kr_on_events, s);
    if (kite_sockets_init(&s->socks, &s->tcpip) != 0) {
        complain("socket table: %s", strerror(errno));
        return false;
    }
    /* After each burst the TAP thread writes what the burst sent. */
    struct kite_tap_feed_hooks hooks = {.fd = -1, .round = feed_round};
    s->feed = kite_tap_feed_start(&s->tap, &s->tcpip, &hooks);
    if (s->feed == NULL) {
        complain("driver thread: %s", strerror(errno));
        return false;
    }
    return true;
}

static void print_counter(void *ctx, const char *group, const char *name, uint32_t value)
{
    if (value != 0)
        fprintf(ctx, "  %s.%s %" PRIu32 "\n", group, name, value);
}

/* With the stack to itself: the counters and the pools. */
static void print_stats(void *arg)
{
    FILE *out = arg;
    struct kite_tap_feed_stats rx;
    kite_tap_feed_stats(kr->feed, &rx);
    fprintf(out, "kite-run statistics (counters that are not 0):\n");
    kite_stats_foreach(&kr->stack, print_counter, out);
    fprintf(out, "  tap.rx_frames %" PRIu32 "\n  tap.rx_driven %" PRIu32 "\n", rx.frames,
            rx.driven);
    fprintf(out, "  tap.rx_mbox_full %" PRIu32 "\n", rx.mbox_full);
    fprintf(out, "  tap.tx_errors %" PRIu32 "\n", kr->tap.tx_errors + kr_txq_write_errors());
    /* After the exit's wait: connections that did not finish in time. */
    fprintf(out, "  kite-run.tcp_owing %u\n", kite_tcp_owing_count(&kr->stack));
    fprintf(out, "pools:\n");
    for (unsigned id = 0; id < (unsigned)KITE_POOL__COUNT; id++) {
        const struct kite_pool *pool = kite_stack_pool(&kr->stack, (enum kite_pool_id)id);
        if (pool != NULL)
            fprintf(out, "  %-10s used %u peak %u failed %" PRIu32 " of %u\n", pool->name,
                    pool->used, pool->peak, pool->failed, pool->count);
    }
}

struct owing {
    unsigned count;
};

static void count_owing(void *arg)
{
    ((struct owing *)arg)->count =
        kite_tcp_owing_count(&kr->stack) + kite_arp_queued_count(&kr->stack);
}

/* The kernel goes on sending what a program's sockets hold after it exits;
 * kite lives in the program, so the exit waits (KITE_EXIT_LINGER_MS, 10 s by
 * default) until every connection has delivered its data and FIN, and every
 * datagram waiting for ARP has gone (or failed to resolve). */
static void let_connections_finish(void)
{
    const char *env = getenv("KITE_EXIT_LINGER_MS");
    long ms = env != NULL ? strtol(env, NULL, 10) : 10000;
    kr_close_all();
    for (long waited = 0; waited < ms; waited += 5) {
        struct owing o = {0};
        if (kite_tcpip_call(&kr->tcpip, count_owing, &o) != KITE_ERR_OK || o.count == 0)
            return;
        nanosleep(&(struct timespec){0, 5000000}, NULL);
    }
}

static void print_stats_at_exit(void)
{
    FILE *out = strcmp(kr->stats, "1") == 0 ? stderr : fopen(kr->stats, "w");
    if (out == NULL)
        return;
    (void)kite_tcpip_call(&kr->tcpip, print_stats, out);
    fflush(out);
    if (out != stderr)
        fclose(out);
}

static void at_exit(void)
{
    if (kr == NULL || kr_forked())
        return;
    let_connections_finish();
    if (kr->stats != NULL)
        print_stats_at_exit();
}

static bool start_locked(void)
{
    struct kr_config c;
    if (!read_config(&c))
        return false;
    /* The stack holds every pool's storage: no stack of a thread holds it. */
    struct kr_state *s = calloc(1, sizeof *s);
    if (s == NULL)
        return false;
    s->tap.fd = -1;
    s->stats = getenv("KITE_STATS");
    if (!open_links(s, &c) || !start_threads(s))
        return false; /* (a half-started stack is left as it is: the process cannot use it) */
    __atomic_store_n(&kr, s, __ATOMIC_RELEASE);
    atexit(at_exit);
    return true;
}

bool kr_start(void)
{
    if (__atomic_load_n(&kr, __ATOMIC_ACQUIRE) != NULL)
        return true;
    pthread_mutex_lock(&start_lock);
    bool ok = kr != NULL;
    if (!ok && start_errno == 0) {
        ok = start_locked();
        if (!ok)
            start_errno = EAFNOSUPPORT; /* as a kernel without IPv4 would say */
    }
    pthread_mutex_unlock(&start_lock);
    if (!ok)
        errno = start_errno;
    return ok;
}

struct kite_sockets *kr_sockets(void)
{
    return &kr->socks;
}

bool kr_forked(void)
{
    return forked;
}

bool kr_forked_fail(void)
{
    if (!forked)
        return false;
    errno = KR_FORKED_ERRNO;
    return true;
}

/* The child has no stack thread: its kite sockets fail from now on
 * (KR_FORKED_ERRNO), its other descriptors are untouched. */
static void in_child(void)
{
    forked = true;
}
