/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the examples share: kite on a Linux TAP device, as ESP-IDF's
 * example_connect() brings up Wi-Fi or Ethernet before an example runs.
 *
 *   kite_example_net_start()  stack, TAP netif with the address from the
 *                             command line, stack thread, driver thread,
 *                             socket table;
 *   kite_example_net_stop()   the reverse, then every pool must be empty.
 *
 * The examples themselves use only the socket API (kite/sockets.h) on the
 * table kite_example_net_sockets() returns. SIGINT and SIGTERM ask them to
 * stop: the helper closes every open socket from its own thread (kite's
 * close wakes blocked calls with EBADF), and kite_example_net_stopping()
 * tells the example that this, not a network error, ended its call.
 */
#ifndef KITE_EXAMPLE_NET_H
#define KITE_EXAMPLE_NET_H

#include <stdbool.h>

#include "kite/sockets.h"
#include "kite/tcpip.h"

struct kite_example_net;

/**
 * Bring kite up from the command line: --tap IFNAME --ipv4 ADDR/PREFIX
 * [--gw ADDR] [--mac MAC]. The options it reads are removed from argv
 * (*argc shrinks), so the example parses what is left. NULL on failure,
 * after a message on stderr.
 */
struct kite_example_net *kite_example_net_start(int *argc, char **argv);

/** The socket table the example works on. */
struct kite_sockets *kite_example_net_sockets(struct kite_example_net *net);

/** The stack thread (benchmarks reach the raw API through kite_tcpip_call). */
struct kite_tcpip *kite_example_net_tcpip(struct kite_example_net *net);

/** The netif's IPv4 address, network byte order (what ESP-IDF's examples read from esp_netif). */
uint32_t kite_example_net_ipv4(const struct kite_example_net *net);

/** A stop was asked for (SIGINT, SIGTERM): leave the example's loops. */
bool kite_example_net_stopping(const struct kite_example_net *net);

/** Sleep up to ms (vTaskDelay); false when a stop came first. */
bool kite_example_net_sleep(struct kite_example_net *net, unsigned ms);

/**
 * Tear everything down (driver thread, sockets, stack thread, TAP, stack),
 * print the pools and return the exit status: status when every pool is
 * back to zero, 1 when a block is still in use.
 */
int kite_example_net_stop(struct kite_example_net *net, int status);

/** A decimal argument in [lo, hi]; -1 when it is not one. */
int kite_example_int_arg(const char *text, int lo, int hi);

/** The usage lines of the options kite_example_net_start reads. */
const char *kite_example_net_usage(void);

/** ESP_LOGx-style log line: "I (ms) tag: message". */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void kite_example_log(char level, const char *tag, const char *fmt, ...);

#define KITE_LOGI(...) kite_example_log('I', __VA_ARGS__)
#define KITE_LOGW(...) kite_example_log('W', __VA_ARGS__)
#define KITE_LOGE(...) kite_example_log('E', __VA_ARGS__)

#endif
