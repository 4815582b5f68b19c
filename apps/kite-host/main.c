/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kite-host: one kite stack on a Linux TAP device. It answers ARP and ping
 * (the core does that), serves UDP echo and discard (services_udp.c), TCP
 * echo, discard, chargen, an iperf2 sink (services_tcp.c) and HTTP (http.c),
 * can stream a byte pattern to a TCP sink (--tcp-send), optionally writes a
 * pcap of everything, and on SIGINT or SIGTERM tears the stack down and
 * prints every counter and pool, failing when a pool block leaked. The
 * interop tests drive it from a network namespace (docs/kite-host.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host.h"
#include "kite/port/clock.h"
#include "kite/port/pcap.h"

/* Longest poll() sleep, so a signal is noticed even if it raced poll(). */
#define MAX_SLEEP_MS 200

/* Set by the signal handler; programs may have globals, the library may not. */
static volatile sig_atomic_t stop_requested;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: kite-host --tap IFNAME --ipv4 ADDR/PREFIX [--gw ADDR] [--mac MAC]\n"
            "                 [--pcap FILE] [--seed N] [--http-root DIR]\n"
            "                 [--tcp-buf BYTES] [--tcp-send ADDR:PORT:BYTES] [--offload]\n"
            "                 [--busy-poll USEC] [--acd] [--forward IFNAME,ADDR/PREFIX[,MTU]]\n"
            "                 [--tcp-services LIST] | --options\n"
            "  Runs a kite stack on the TAP device IFNAME (created if missing):\n"
            "  answers ARP and ping; UDP echo (7) and discard (9); TCP echo (7),\n"
            "  discard (9), chargen (19), HTTP (80: /bytes/N and files of DIR) and\n"
            "  an iperf2 sink (5001). --tcp-send streams BYTES of the /bytes pattern\n"
            "  to ADDR:PORT. --offload lets the kernel pass 64 KiB TCP super-frames\n"
            "  (needs the max_throughput profile's pool). --busy-poll spins on the TAP\n"
            "  for USEC before sleeping (lower latency, more CPU). --acd probes the\n"
            "  address first (RFC 5227), uses it only if nobody holds it, defends it.\n"
            "  --forward adds a second TAP with its address (and MTU) and forwards\n"
            "  IPv4 between the two (RFC 1812). --tcp-services starts only the TCP\n"
            "  services listed (echo,discard,chargen,http,iperf; all, none): a build\n"
            "  with fewer TCP listeners (min_ram: 2) cannot hold all five. --options\n"
            "  prints the build's options as shell assignments (KITE_OPT_*=...).\n"
            "  SIGINT/SIGTERM stop it and "
            "print statistics; exit 0\n"
            "  when no pool block leaked, 1 on a runtime error, a leak or a failed\n"
            "  --tcp-send, 2 on bad arguments.\n");
    /* Told here so scripts can tell without starting anything. */
    fprintf(out, "  --offload: %s in this build (PBUF_POOL %u x %u bytes)\n",
            (uint64_t)KITE_PBUF_POOL_COUNT * KITE_PBUF_POOL_BUFSIZE >= 8u * 65536u ? "available"
                                                                                   : "unavailable",
            (unsigned)KITE_PBUF_POOL_COUNT, (unsigned)KITE_PBUF_POOL_BUFSIZE);
    fprintf(out, "  --offload segments on transmit (KITE_TSO): %s\n", KITE_TSO ? "yes" : "no");
    fprintf(out, "  --busy-poll default in this build (KITE_OS_SPIN_US): %u\n",
            (unsigned)KITE_OS_SPIN_US);
}

static bool parse_seed(const char *text, uint64_t *seed)
{
    char *end;

    errno = 0;
    *seed = (uint64_t)strtoull(text, &end, 0);
    return errno == 0 && end != text && *end == '\0' && text[0] != '-';
}

static bool parse_u64(const char *text, uint64_t max, uint64_t *value)
{
    char *end;

    if (text[0] < '0' || text[0] > '9') {
        return false;
    }
    errno = 0;
    *value = (uint64_t)strtoull(text, &end, 10);
    return errno == 0 && end != text && *end == '\0' && *value <= max;
}

/* ADDR:PORT:BYTES */
static bool parse_tcp_send(struct options *opt, const char *text)
{
    char addr[32];
    char port[8];
    uint64_t value;
    const char *c1 = strchr(text, ':');
    const char *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;

    if (c2 == NULL || (size_t)(c1 - text) >= sizeof(addr) ||
        (size_t)(c2 - c1 - 1) >= sizeof(port)) {
        return false;
    }
    memcpy(addr, text, (size_t)(c1 - text));
    addr[c1 - text] = '\0';
    memcpy(port, c1 + 1, (size_t)(c2 - c1 - 1));
    port[c2 - c1 - 1] = '\0';
    if (!kite_ip4_parse(addr, &opt->send_addr) || !parse_u64(port, UINT16_MAX, &value) ||
        value == 0) {
        return false;
    }
    opt->send_port = (uint16_t)value;
    opt->tcp_send = true;
    return parse_u64(c2 + 1, UINT64_C(1) << 40, &opt->send_bytes);
}

static bool parse_tcp_buf(struct options *opt, const char *text)
{
    uint64_t value;

    /* At least room for an HTTP response head; at most what scaling allows. */
    if (!parse_u64(text, 1u << 24, &value) || value < 4096u) {
        return false;
    }
    opt->tcp_buf = (uint32_t)value;
    return true;
}

/* "loss=PERCENT,delay=MS", either part optional; PERCENT may have decimals. */
static bool parse_impair(struct options *opt, const char *text)
{
    char buf[64];
    char *save = NULL;

    if (strlen(text) >= sizeof(buf)) {
        return false;
    }
    strcpy(buf, text);
    for (char *kv = strtok_r(buf, ",", &save); kv != NULL; kv = strtok_r(NULL, ",", &save)) {
        char *end;
        double v;
        if (strncmp(kv, "loss=", 5) == 0) {
            v = strtod(kv + 5, &end);
            if (end == kv + 5 || *end != '\0' || !(v >= 0.0 && v <= 100.0)) {
                return false;
            }
            opt->impair_loss_ppm = (uint32_t)(v * 10000.0 + 0.5);
        } else if (strncmp(kv, "delay=", 6) == 0) {
            uint64_t ms;
            if (!parse_u64(kv + 6, 10000, &ms)) {
                return false;
            }
            opt->impair_delay_ms = (uint32_t)ms;
        } else {
            return false;
        }
    }
    opt->impair = true;
    return true;
}

/* --tcp-services echo,discard,chargen,http,iperf | all | none */
static bool parse_tcp_services(struct options *opt, const char *arg)
{
    static const char *const names[L__COUNT] = {
        [L_ECHO] = "echo", [L_DISCARD] = "discard", [L_CHARGEN] = "chargen",
        [L_HTTP] = "http", [L_IPERF] = "iperf",
    };
    opt->tcp_services = 0;
    if (strcmp(arg, "all") == 0) {
        opt->tcp_services = (1u << L__COUNT) - 1u;
        return true;
    }
    if (strcmp(arg, "none") == 0)
        return true;
    for (const char *p = arg; *p != '\0';) {
        size_t n = strcspn(p, ",");
        unsigned i = 0;
        while (i < L__COUNT && !(strlen(names[i]) == n && strncmp(p, names[i], n) == 0))
            i++;
        if (i == L__COUNT)
            return false;
        opt->tcp_services |= 1u << i;
        p += n + (p[n] == ',');
    }
    return true;
}

/* --options: the build's options that tests derive expectations from, as
 * shell assignments (tests/interop/lib.sh evaluates them). */
static void print_options(void)
{
    printf("KITE_OPT_RAW=%d\n", KITE_RAW ? 1 : 0);
    printf("KITE_OPT_IP_FORWARD=%d\n", KITE_IP_FORWARD ? 1 : 0);
    printf("KITE_OPT_TCP_LISTEN_COUNT=%u\n", (unsigned)KITE_TCP_LISTEN_COUNT);
    printf("KITE_OPT_TCP_PCB_COUNT=%u\n", (unsigned)KITE_TCP_PCB_COUNT);
    printf("KITE_OPT_UDP_PCB_COUNT=%u\n", (unsigned)KITE_UDP_PCB_COUNT);
    printf("KITE_OPT_PBUF_POOL_COUNT=%u\n", (unsigned)KITE_PBUF_POOL_COUNT);
    printf("KITE_OPT_PBUF_POOL_BUFSIZE=%u\n", (unsigned)KITE_PBUF_POOL_BUFSIZE);
    printf("KITE_OPT_TCP_MSS_MAX=%u\n", (unsigned)KITE_TCP_MSS_MAX);
    printf("KITE_OPT_TCP_RCV_BUF=%u\n", (unsigned)KITE_TCP_RCV_BUF);
    printf("KITE_OPT_TCP_SND_BUF=%u\n", (unsigned)KITE_TCP_SND_BUF);
    printf("KITE_OPT_IP_REASS_DATAGRAMS=%u\n", (unsigned)KITE_IP_REASS_DATAGRAMS);
    printf("KITE_OPT_ARP_TABLE_SIZE=%u\n", (unsigned)KITE_ARP_TABLE_SIZE);
    printf("KITE_OPT_OFFLOAD=%d\n",
           (uint64_t)KITE_PBUF_POOL_COUNT * KITE_PBUF_POOL_BUFSIZE >= 8u * 65536u ? 1 : 0);
}

static bool parse_option(struct options *opt, int c, const char *arg)
{
    switch (c) {
    case 't':
        opt->tap = arg;
        return true;
    case 'a':
        opt->have_addr = true;
        return kite_ip4_parse_prefix(arg, &opt->addr, &opt->prefix);
    case 'g':
        return kite_ip4_parse(arg, &opt->gw);
    case 'm':
        return kite_mac_parse(arg, opt->mac);
    case 'p':
        opt->pcap = arg;
        return true;
    case 's':
        return parse_seed(arg, &opt->seed);
    case 'r':
        opt->http_root = arg;
        return true;
    case 'b':
        return parse_tcp_buf(opt, arg);
    case 'c':
        return parse_tcp_send(opt, arg);
    case 'i':
        return parse_impair(opt, arg);
    case 'o':
        opt->offload = true;
        return true;
    case 'd':
        opt->acd = true;
        return true;
    case 'f':
        return parse_forward(opt, arg);
    case 'S':
        return parse_tcp_services(opt, arg);
    case 'u': {
        uint64_t us;
        if (!parse_u64(arg, 1000000, &us))
            return false;
        opt->busy_poll_us = (uint32_t)us;
        return true;
    }
    default:
        return false;
    }
}

static bool parse_args(int argc, char **argv, struct options *opt)
{
    static const struct option longopts[] = {
        {"tap", required_argument, NULL, 't'},
        {"forward", required_argument, NULL, 'f'},
        {"ipv4", required_argument, NULL, 'a'},
        {"gw", required_argument, NULL, 'g'},
        {"mac", required_argument, NULL, 'm'},
        {"pcap", required_argument, NULL, 'p'},
        {"seed", required_argument, NULL, 's'},
        {"http-root", required_argument, NULL, 'r'},
        {"tcp-buf", required_argument, NULL, 'b'},
        {"tcp-send", required_argument, NULL, 'c'},
        {"impair", required_argument, NULL, 'i'},
        {"offload", no_argument, NULL, 'o'},
        {"busy-poll", required_argument, NULL, 'u'},
        {"acd", no_argument, NULL, 'd'},
        {"tcp-services", required_argument, NULL, 'S'},
        {"options", no_argument, NULL, 'O'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* Locally administered unicast ("kite" in ASCII). */
    static const uint8_t default_mac[KITE_ETH_ADDR_LEN] = {0x02, 0x6b, 0x69, 0x74, 0x65, 0x02};
    int c;

    memset(opt, 0, sizeof(*opt));
    memcpy(opt->mac, default_mac, sizeof(opt->mac));
    opt->tcp_buf = HOST_TCP_BUF_DEFAULT;
    opt->tcp_services = (1u << L__COUNT) - 1u;
    opt->busy_poll_us = KITE_OS_SPIN_US; /* the profile's choice: 50 in max_throughput */
    /* Different ephemeral ports and IP ids per run unless --seed pins them. */
    opt->seed = kite_port_now_ms() ^ ((uint64_t)getpid() << 32);
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            exit(0);
        }
        if (c == 'O') {
            print_options();
            exit(0);
        }
        if (!parse_option(opt, c, optarg)) {
            if (c != '?') {
                fprintf(stderr, "kite-host: bad value: %s\n", optarg);
            }
            return false;
        }
    }
    if (optind != argc || opt->tap == NULL || !opt->have_addr) {
        return false;
    }
    return true;
}

/* A 64 KiB super-frame must fit in the PBUF_POOL with room to spare. */
static bool pool_fits_offload(const struct kite_stack *stack)
{
    const struct kite_pool *pool = kite_stack_pool(stack, KITE_POOL_PBUF_POOL);
    return (uint64_t)pool->count * KITE_PBUF_POOL_BUFSIZE >= 8u * 65536u;
}

/* --acd: say what conflict detection decided (tests grep these lines). */
static void acd_event(void *ctx, struct kite_netif *netif, enum kite_netif_event event,
                      uint32_t addr)
{
    char ip[16];
    (void)ctx;
    (void)netif;
    if (event == KITE_NETIF_EV_ADDR_BOUND) {
        printf("kite-host: acd: %s in use (no conflict)\n", kite_ip4_format(addr, ip, sizeof(ip)));
    } else if (event == KITE_NETIF_EV_ADDR_CONFLICT) {
        printf("kite-host: acd: conflict: %s is held by another host, not used\n",
               kite_ip4_format(addr, ip, sizeof(ip)));
    }
}

static enum kite_err set_address(struct host *host, const struct options *opt)
{
    if (!opt->acd) {
        return kite_netif_set_ipv4(&host->tap.netif, opt->addr, opt->prefix, opt->gw);
    }
    kite_stack_set_netif_callback(host->stack, acd_event, host);
    return kite_acd_start(&host->tap.netif, opt->addr, opt->prefix, opt->gw);
}

static bool open_link(struct host *host, const struct options *opt)
{
    if (opt->offload && !pool_fits_offload(host->stack)) {
        fprintf(stderr, "kite-host: --offload needs a PBUF_POOL of at least 512 KiB "
                        "(build with -DKITE_PROFILE=max_throughput)\n");
        exit(2);
    }
    enum kite_err err = kite_tap_open_flags(&host->tap, host->stack, opt->tap, opt->mac,
                                            opt->offload ? KITE_TAP_OFFLOAD : 0u);

    if (err != KITE_ERR_OK) {
        fprintf(stderr, "kite-host: cannot open TAP %s: %s (%s)\n", opt->tap, kite_err_str(err),
                strerror(errno));
        return false;
    }
    /* Capture before the address is set, so the gratuitous ARPs are in it. */
    if (opt->pcap != NULL) {
        host->pcap = kite_pcap_open(opt->pcap, &host->tap.netif);
        if (host->pcap == NULL) {
            fprintf(stderr, "kite-host: cannot write %s: %s\n", opt->pcap, strerror(errno));
            return false;
        }
    }
    err = set_address(host, opt);
    if (err != KITE_ERR_OK) {
        fprintf(stderr, "kite-host: cannot set address: %s\n", kite_err_str(err));
        return false;
    }
    kite_netif_set_default(host->stack, &host->tap.netif);
    return true;
}

static bool host_start(struct host *host, const struct options *opt)
{
    struct kite_stack_config cfg = {.seed = opt->seed, .now = kite_port_now_ms()};
    enum kite_err err;

    /* The stack holds every pool's storage: far too big for the C stack. */
    host->stack = calloc(1, sizeof(*host->stack));
    if (host->stack == NULL) {
        perror("kite-host: calloc");
        return false;
    }
    err = kite_stack_init(host->stack, &cfg);
    if (err != KITE_ERR_OK) {
        fprintf(stderr, "kite-host: stack init: %s\n", kite_err_str(err));
        free(host->stack);
        host->stack = NULL;
        return false;
    }
    if (!open_link(host, opt)) {
        return false;
    }
    if (opt->fwd_tap != NULL && !forward_start(host)) {
        return false;
    }
    if (opt->impair && !impair_start(host)) {
        return false;
    }
    if (opt->http_root != NULL) {
        host->http_root_fd = open(opt->http_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (host->http_root_fd < 0) {
            fprintf(stderr, "kite-host: --http-root %s: %s\n", opt->http_root, strerror(errno));
            return false;
        }
    }
    if (!udp_services_start(host) || !tcp_services_start(host)) {
        return false;
    }
    return !opt->tcp_send || tcp_send_start(host);
}

/* Undo host_start in reverse order; safe after a partial start. */
static void host_stop(struct host *host)
{
    if (host->stack == NULL) {
        return;
    }
    tcp_services_stop(host);
    udp_services_stop(host);
    if (host->impair != NULL) {
        impair_stop(host);
    }
    if (host->http_root_fd >= 0) {
        close(host->http_root_fd);
        host->http_root_fd = -1;
    }
    if (host->pcap != NULL) {
        printf("pcap: %" PRIu32 " frames\n", kite_pcap_count(host->pcap));
        kite_pcap_close(host->pcap);
        host->pcap = NULL;
    }
    forward_stop(host);
    kite_tap_close(&host->tap);
    kite_stack_deinit(host->stack);
}

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Block the stop signals outside ppoll() so none is lost between the flag
 * check and the sleep; *wait_mask is what ppoll() runs with. */
static bool install_signals(sigset_t *wait_mask)
{
    struct sigaction sa;
    sigset_t block;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0 ||
        sigprocmask(SIG_BLOCK, &block, wait_mask) != 0) {
        perror("kite-host: signals");
        return false;
    }
    sigdelset(wait_mask, SIGINT);
    sigdelset(wait_mask, SIGTERM);
    return true;
}

/* Sleep until the stack's next timer (or a held frame is due), but at most
 * MAX_SLEEP_MS. */
static struct timespec sleep_time(const struct host *host)
{
    kite_time_ms deadline = kite_stack_next_deadline(host->stack);
    kite_time_ms now = kite_port_now_ms();
    kite_time_ms ms = MAX_SLEEP_MS;
    struct timespec ts;

    if (host->impair != NULL && impair_next_due(host) < deadline) {
        deadline = impair_next_due(host);
    }
    if (deadline != KITE_TIME_NEVER && deadline < now + MAX_SLEEP_MS) {
        ms = deadline > now ? deadline - now : 0;
    }
    ts.tv_sec = (time_t)(ms / 1000u);
    ts.tv_nsec = (long)(ms % 1000u) * 1000000L;
    return ts;
}

static uint64_t now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

/* --busy-poll: read the TAP without sleeping for up to busy_poll_us, so a
 * request is answered without a scheduler wake-up. True if frames came in. */
static bool busy_wait(struct host *host)
{
    uint32_t budget = host->opt->busy_poll_us;
    if (budget == 0 || host->impair != NULL)
        return false;
    uint64_t start = now_us();
    do {
        kite_stack_poll(host->stack, kite_port_now_ms());
        unsigned frames = kite_tap_receive(&host->tap);
        if (host->fwd.fd >= 0)
            frames += kite_tap_receive(&host->fwd);
        if (frames > 0)
            return true;
    } while (now_us() - start < budget);
    return false;
}

static int run(struct host *host, const sigset_t *wait_mask)
{
    struct pollfd fds[2] = {{.fd = host->tap.fd, .events = POLLIN, .revents = 0},
                            {.fd = host->fwd.fd, .events = POLLIN, .revents = 0}};
    static const struct timespec no_wait = {0, 0};

    while (!stop_requested) {
        /* After busy frames, ppoll() only lets pending stop signals in. */
        struct timespec ts = busy_wait(host) ? no_wait : sleep_time(host);
        int n = ppoll(fds, host->fwd.fd >= 0 ? 2 : 1, &ts, wait_mask);
        if (n < 0 && errno != EINTR) {
            perror("kite-host: ppoll");
            return 1;
        }
        /* Advance the clock first: received frames are stamped with the
         * time of the last kite_stack_poll(). */
        kite_stack_poll(host->stack, kite_port_now_ms());
        if (host->impair != NULL) {
            impair_flush(host);
        }
        if (n > 0 && (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
            fprintf(stderr, "kite-host: TAP device %s failed\n", host->tap.ifname);
            return 1;
        }
        if (n > 0 && (fds[0].revents & POLLIN) != 0) {
            if (host->impair != NULL) {
                impair_receive(host);
            } else {
                kite_tap_receive(&host->tap);
            }
        }
        if (n > 0 && host->fwd.fd >= 0 && (fds[1].revents & POLLIN) != 0) {
            kite_tap_receive(&host->fwd);
        }
    }
    return 0;
}

static void print_counter(void *ctx, const char *group, const char *name, uint32_t value)
{
    fprintf(ctx, "  %s.%s %" PRIu32 "\n", group, name, value);
}

static void report_app(const struct host_counters *n)
{
    const struct {
        const char *name;
        uint64_t value;
    } rows[] = {
        {"echoed", n->echoed},
        {"echo_failed", n->echo_failed},
        {"discarded", n->discarded},
        {"tcp_accepted", n->tcp_accepted},
        {"tcp_refused", n->tcp_refused},
        {"tcp_closed", n->tcp_closed},
        {"tcp_reset", n->tcp_reset},
        {"tcp_timeouts", n->tcp_timeouts},
        {"tcp_rx_bytes", n->tcp_rx_bytes},
        {"tcp_tx_bytes", n->tcp_tx_bytes},
        {"http_requests", n->http_requests},
        {"http_errors", n->http_errors},
        {"impair_dropped", n->impair_dropped},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        printf("  app.%s %" PRIu64 "\n", rows[i].name, rows[i].value);
    }
}

/* Print every counter and pool; returns the pool blocks still in use. */
static unsigned report(const struct host *host)
{
    unsigned in_use = 0;

    printf("statistics:\n");
    kite_stats_foreach(host->stack, print_counter, stdout);
    printf("  tap.rx_no_mem %" PRIu32 "\n  tap.rx_errors %" PRIu32 "\n  tap.tx_errors %" PRIu32
           "\n  tap.rx_gso %" PRIu32 "\n  tap.tx_gso %" PRIu32 "\n",
           host->tap.rx_no_mem, host->tap.rx_errors, host->tap.tx_errors, host->tap.rx_gso,
           host->tap.tx_gso);
    report_app(&host->n);
    printf("pools:\n");
    for (unsigned id = 0; id < (unsigned)KITE_POOL__COUNT; id++) {
        const struct kite_pool *pool = kite_stack_pool(host->stack, (enum kite_pool_id)id);
        if (pool == NULL) {
            continue;
        }
        printf("  %-10s used %u peak %u failed %" PRIu32 " of %u x %" PRIu32 " B\n", pool->name,
               pool->used, pool->peak, pool->failed, pool->count, pool->elem_size);
        in_use += pool->used;
    }
    return in_use;
}

static void announce(const struct host *host, const struct options *opt)
{
    char ip[16];
    const uint8_t *m = host->tap.netif.hwaddr;

    printf("kite-host: up on %s %s/%u mac %02x:%02x:%02x:%02x:%02x:%02x seed %" PRIu64 "\n",
           host->tap.ifname, kite_ip4_format(opt->addr, ip, sizeof(ip)), opt->prefix, m[0], m[1],
           m[2], m[3], m[4], m[5], opt->seed);
    /* What the tests size their fragment cases by (tests/interop/test_ip_frag.sh). */
    printf("kite-host: reassembly %u pbufs of %u bytes, %u datagrams, up to %u bytes\n",
           KITE_IP_REASSEMBLY ? (unsigned)KITE_IP_REASS_MAX_PBUFS : 0u,
           (unsigned)KITE_PBUF_POOL_BUFSIZE, (unsigned)KITE_IP_REASS_DATAGRAMS,
           KITE_IP_REASSEMBLY ? (unsigned)KITE_IP_REASS_MAX_SIZE : 0u);
}

int main(int argc, char **argv)
{
    struct options opt;
    struct host host;
    sigset_t wait_mask;
    int status = 1;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!parse_args(argc, argv, &opt)) {
        usage(stderr);
        return 2;
    }
    memset(&host, 0, sizeof(host));
    host.tap.fd = -1;
    host.fwd.fd = -1;
    host.http_root_fd = -1;
    host.tcp_send_status = -1;
    host.opt = &opt;
    if (install_signals(&wait_mask) && host_start(&host, &opt)) {
        announce(&host, &opt);
        status = run(&host, &wait_mask);
        if (status == 0 && opt.tcp_send && host.tcp_send_status != 0) {
            fprintf(stderr, "kite-host: --tcp-send did not complete\n");
            status = 1;
        }
    }
    host_stop(&host);
    if (host.stack != NULL) {
        unsigned in_use = report(&host);
        if (in_use != 0) {
            fprintf(stderr, "kite-host: %u pool blocks still in use after shutdown (leak)\n",
                    in_use);
            status = 1;
        }
        free(host.stack);
    }
    return status;
}
