/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lwIP on an existing TAP device: the bring-up shared by the lwIP peers of
 * the benchmarks (bench/lwip_sock_bench.c, lwIP's socket API; bench/lwip_peer.c,
 * lwIP's raw API). lwIP is Debian's liblwip-dev (lwIP 2.1.3) with its unix
 * port: the tcpip thread, and the tapif driver that reads the TAP device on a
 * thread of its own and posts each frame to the tcpip thread. lwip_tap.c
 * says how tapif is attached to the device, and repairs a heap-corrupting
 * PBUF_POOL sizing bug of Debian's build.
 */
#ifndef KITE_BENCH_LWIP_TAP_H
#define KITE_BENCH_LWIP_TAP_H

#include <stdbool.h>
#include <stdint.h>

#include "lwip/ip4_addr.h"
#include "lwip/netif.h"

/* How long start-up may wait for lwIP's tcpip thread. */
#define LWIP_TAP_START_TIMEOUT_S 10

struct lwip_tap_config {
    const char *tap; /* an existing TAP device of this network namespace */
    ip4_addr_t addr, netmask, gw;
    bool have_addr;
    bool have_mac; /* false: tapif's fixed 02:12:34:56:78:ab */
    uint8_t mac[6];
};

/*
 * Option parsers: each returns false after a message "PROG: ..." on stderr,
 * so that the caller can print its usage.
 */

/* lwip_tap_parse_number: a whole decimal number in [min, max]. */
bool lwip_tap_parse_number(const char *prog, const char *text, unsigned long min, unsigned long max,
                           unsigned long *value);
/* lwip_tap_parse_ip4: a dotted quad (lwIP keeps it in network byte order). */
bool lwip_tap_parse_ip4(const char *prog, const char *text, ip4_addr_t *addr);
/* lwip_tap_parse_prefix: ADDR/PREFIX into config->addr and config->netmask. */
bool lwip_tap_parse_prefix(const char *prog, const char *text, struct lwip_tap_config *config);
/* lwip_tap_parse_mac: six colon-separated hex bytes, a unicast address. */
bool lwip_tap_parse_mac(const char *prog, const char *text, struct lwip_tap_config *config);

/*
 * lwip_tap_start: check that config->tap is a TAP device here, repair the
 * PBUF_POOL block size, seed LWIP_RAND() (rand()), start the tcpip thread
 * and add the TAP netif, up and default, with config's addresses (and MAC).
 * On failure it prints "PROG: ..." on stderr and exits 1. Call it once,
 * before any other thread of the program exists.
 */
void lwip_tap_start(const char *prog, struct netif *netif, const struct lwip_tap_config *config);

#endif
