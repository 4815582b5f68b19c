/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lwIP on an existing TAP device (lwip_tap.h): Debian's liblwip-dev (lwIP
 * 2.1.3) brought up the same way for every lwIP peer of the benchmarks.
 *
 * How tapif is told its device (contrib/ports/unix/port/netif/tapif.c of
 * lwIP 2.1.3, low_level_init; the same strings are in Debian's liblwip.so):
 * it opens /dev/net/tun and attaches with TUNSETIFF (IFF_TAP | IFF_NO_PI) to
 * the name in the environment variable PRECONFIGURED_TAPIF, or to the
 * compile-time DEVTAP_DEFAULT_IF "tap0" when the variable is unset; and only
 * when it is unset it runs system("/sbin/ifconfig tap0 inet GW netmask
 * MASK") on the host. So lwip_tap_start sets PRECONFIGURED_TAPIF to the
 * device before the netif is added: tapif then uses that name and runs no
 * command. As TUNSETIFF on a name that does not exist would create a new,
 * unconnected device (we run as root), the device is first checked to exist
 * and be a TAP (/sys/class/net/IFNAME/tun_flags). tapif gives the netif the
 * fixed MAC address 02:12:34:56:78:ab (replaced here when the caller asks
 * for another) and an MTU of 1500; it reads and writes whole frames through
 * a 1518-byte buffer, one read() or write() per frame, without a virtio-net
 * header (so no offload: a TAP device left with TSO on by an earlier user
 * would hand it 64 KiB frames that it truncates).
 *
 * A bug in Debian's build, repaired at start-up (repair_pbuf_pool_size).
 * <netinet/tcp.h> defines TCP_MSS 512 (a BSD leftover), and the Hurd's
 * socket headers that lwip/sockets.h includes pull it in; a file of the
 * library that includes them after lwipopts.h sees TCP_MSS 512, not 1460.
 * memp.c is one of them (the binary shows it): it sizes the PBUF_POOL
 * pool's blocks for PBUF_POOL_BUFSIZE of MSS 512 (616-byte blocks:
 * memp_PBUF_POOL in the library's .rodata holds 0x268), while pbuf.c uses
 * MSS 1460 (pbuf_alloc compares with 0x600 = 1536) and fills a block with up
 * to 1536 bytes. tapif receives every frame into a PBUF_POOL pbuf, so any
 * frame over ~590 bytes overruns the heap: valgrind shows tapif_thread ->
 * pbuf_take writing past "a block of size 616 alloc'd" by pbuf_alloc, and a
 * bulk receive dies in glibc's "malloc assertion failure in sysmalloc". The
 * same mismatch makes TCP_MSS (and what derives from it) read 512 in any
 * program file after lwip/sockets.h; the library's TCP uses 1460 (its SYN
 * says so). This file includes no socket header.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lwip/opt.h"
#include "lwip/pbuf.h"
/*
 * The pool block size pbuf.c allocates for, taken while TCP_MSS is surely
 * lwipopts.h's 1460 (see the top of this file).
 */
enum {
    PBUF_POOL_BLOCK_SIZE =
        LWIP_MEM_ALIGN_SIZE(sizeof(struct pbuf)) + LWIP_MEM_ALIGN_SIZE(PBUF_POOL_BUFSIZE)
};

#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"
#include "netif/tapif.h"

#include "lwip_tap.h"

#define TUN_FLAG_TAP 0x0002u /* IFF_TAP in <linux/if_tun.h> */

static void die(const char *prog, const char *format, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

static void die(const char *prog, const char *format, ...)
{
    va_list args;

    fprintf(stderr, "%s: ", prog);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    exit(1);
}

/* ---- options -------------------------------------------------------------------------------- */

bool lwip_tap_parse_number(const char *prog, const char *text, unsigned long min, unsigned long max,
                           unsigned long *value)
{
    char *end;

    errno = 0;
    *value = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || *value < min ||
        *value > max) {
        fprintf(stderr, "%s: bad number '%s' (expected %lu..%lu)\n", prog, text, min, max);
        return false;
    }
    return true;
}

bool lwip_tap_parse_ip4(const char *prog, const char *text, ip4_addr_t *addr)
{
    struct in_addr in;

    if (inet_pton(AF_INET, text, &in) != 1) {
        fprintf(stderr, "%s: bad IPv4 address '%s'\n", prog, text);
        return false;
    }
    addr->addr = in.s_addr;
    return true;
}

bool lwip_tap_parse_prefix(const char *prog, const char *text, struct lwip_tap_config *config)
{
    char addr[INET_ADDRSTRLEN];
    const char *slash = strchr(text, '/');
    unsigned long prefix;
    size_t len;

    len = slash != NULL ? (size_t)(slash - text) : sizeof(addr);
    if (len >= sizeof(addr)) {
        fprintf(stderr, "%s: --ipv4 wants ADDR/PREFIX, got '%s'\n", prog, text);
        return false;
    }
    memcpy(addr, text, len);
    addr[len] = '\0';
    if (!lwip_tap_parse_ip4(prog, addr, &config->addr) ||
        !lwip_tap_parse_number(prog, slash + 1, 1, 32, &prefix))
        return false;
    config->netmask.addr = htonl((uint32_t)(0xffffffffull << (32 - prefix)));
    config->have_addr = true;
    return true;
}

bool lwip_tap_parse_mac(const char *prog, const char *text, struct lwip_tap_config *config)
{
    unsigned int byte[6];
    char extra;

    if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &byte[0], &byte[1], &byte[2], &byte[3], &byte[4],
               &byte[5], &extra) != 6 ||
        strlen(text) != 17 || (byte[0] & 1u) != 0) {
        fprintf(stderr, "%s: --mac wants a unicast address like 02:00:00:00:00:01, got '%s'\n",
                prog, text);
        return false;
    }
    for (unsigned i = 0; i < 6; i++)
        config->mac[i] = (uint8_t)byte[i];
    config->have_mac = true;
    return true;
}

/* ---- start-up ------------------------------------------------------------------------------- */

/*
 * check_tap_device: the device must already exist here and be a TAP. The
 * kernel lists a tun/tap device's flags in /sys/class/net/NAME/tun_flags
 * (drivers/net/tun.c, tun_flags_show), IFF_TAP among them.
 */
static void check_tap_device(const char *prog, const char *name)
{
    char path[128];
    unsigned int flags = 0;
    FILE *file;
    int matched;

    if (strchr(name, '/') != NULL || strlen(name) >= 16)
        die(prog, "--tap '%s' is not a network interface name", name);
    snprintf(path, sizeof(path), "/sys/class/net/%s/tun_flags", name);
    file = fopen(path, "r");
    if (file == NULL)
        die(prog, "no TAP device '%s' in this network namespace (%s: %s)", name, path,
            strerror(errno));
    matched = fscanf(file, "%x", &flags);
    fclose(file);
    if (matched != 1 || (flags & TUN_FLAG_TAP) == 0)
        die(prog, "'%s' is a TUN device, not a TAP device", name);
}

/*
 * repair_pbuf_pool_size: give the PBUF_POOL pool the block size pbuf.c
 * fills (the bug at the top of this file). With MEMP_MEM_MALLOC every pool
 * block is a malloc() of the size in the pool's descriptor, looked up at each
 * allocation through memp_pools[] (memp.c, do_memp_malloc_pool), so pointing
 * that entry at a descriptor with the right size repairs it; freeing is a
 * plain free(), size-blind. memp_pools[] is const, in the library's RELRO
 * segment: the page is made writable for the one store, then read-only
 * again. A build that is already right is left alone. Must run before
 * tcpip_init(), while no other thread exists.
 */
static void repair_pbuf_pool_size(const char *prog)
{
    static struct memp_desc repaired;
    const struct memp_desc **entry = (const struct memp_desc **)&memp_pools[MEMP_PBUF_POOL];
    long page_size = sysconf(_SC_PAGESIZE);
    void *page;

    if (memp_pools[MEMP_PBUF_POOL]->size >= PBUF_POOL_BLOCK_SIZE)
        return;
    repaired = *memp_pools[MEMP_PBUF_POOL];
    repaired.size = PBUF_POOL_BLOCK_SIZE;
    if (page_size <= 0)
        die(prog, "sysconf(_SC_PAGESIZE) failed");
    page = (void *)((uintptr_t)entry & ~((uintptr_t)page_size - 1));
    if (mprotect(page, (size_t)page_size, PROT_READ | PROT_WRITE) != 0)
        die(prog, "cannot repair lwIP's PBUF_POOL block size: mprotect: %s", strerror(errno));
    *entry = &repaired;
    if (mprotect(page, (size_t)page_size, PROT_READ) != 0)
        die(prog, "mprotect: %s", strerror(errno));
}

/* Runs on the tcpip thread once lwip_init() is done. */
static void tcpip_ready(void *arg)
{
    sys_sem_signal((sys_sem_t *)arg);
}

static void start_tcpip_thread(const char *prog)
{
    sys_sem_t ready;

    if (sys_sem_new(&ready, 0) != ERR_OK)
        die(prog, "sys_sem_new failed");
    tcpip_init(tcpip_ready, &ready);
    if (sys_arch_sem_wait(&ready, LWIP_TAP_START_TIMEOUT_S * 1000u) == SYS_ARCH_TIMEOUT)
        die(prog, "lwIP's tcpip thread did not start within %d s", LWIP_TAP_START_TIMEOUT_S);
    sys_sem_free(&ready);
}

/*
 * add_tap_netif: the TAP netif, up and default. netif_add and friends
 * assert that the caller holds the core lock (LWIP_ASSERT_CORE_LOCKED in
 * Debian's lwipopts.h), hence LOCK_TCPIP_CORE. tapif_init opens the device
 * named by PRECONFIGURED_TAPIF (see the top of this file), sets its fixed
 * MAC address and starts the thread that reads the device; it exits the
 * process itself when it cannot. Another MAC address is set after it and
 * before netif_set_up, which announces the address (gratuitous ARP).
 */
static void add_tap_netif(const char *prog, struct netif *netif,
                          const struct lwip_tap_config *config)
{
    struct netif *added;

    if (setenv("PRECONFIGURED_TAPIF", config->tap, 1) != 0)
        die(prog, "setenv PRECONFIGURED_TAPIF: %s", strerror(errno));
    LOCK_TCPIP_CORE();
    added = netif_add(netif, &config->addr, &config->netmask, &config->gw, NULL, tapif_init,
                      tcpip_input);
    if (added != NULL) {
        if (config->have_mac)
            memcpy(netif->hwaddr, config->mac, sizeof(config->mac));
        netif_set_default(netif);
        netif_set_up(netif);
    }
    UNLOCK_TCPIP_CORE();
    if (added == NULL)
        die(prog, "netif_add on TAP '%s' failed", config->tap);
}

void lwip_tap_start(const char *prog, struct netif *netif, const struct lwip_tap_config *config)
{
    check_tap_device(prog, config->tap);
    repair_pbuf_pool_size(prog);
    /* LWIP_RAND() is rand(): seed it, or every run reuses one ISN and local port. */
    srand((unsigned int)time(NULL) ^ ((unsigned int)getpid() << 16));
    start_tcpip_thread(prog);
    add_tap_netif(prog, netif, config);
}
