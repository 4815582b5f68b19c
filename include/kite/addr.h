/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One address type for IPv4 and IPv6, used by netifs, routing, UDP and the raw
 * API. IPv4 addresses are kept in host byte order (KITE_IP4(192,0,2,1)).
 * In an IPv4-only build (KITE_IPV6 == 0) the type is 4 bytes.
 */
#ifndef KITE_ADDR_H
#define KITE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kite/opts.h"

#define KITE_IP4(a, b, c, d)                                                                       \
    ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

#define KITE_IP4_ANY 0u
#define KITE_IP4_BROADCAST 0xffffffffu

enum kite_addr_family { KITE_AF_IPV4 = 4, KITE_AF_IPV6 = 6 };

#if KITE_IPV6
struct kite_addr {
    union {
        uint32_t v4;
        uint8_t v6[16];
    } u;
    uint8_t family; /* enum kite_addr_family */
};
#define KITE_ADDR_V4(ip) ((struct kite_addr){.u = {.v4 = (ip)}, .family = KITE_AF_IPV4})
static inline bool kite_addr_is_v4(const struct kite_addr *a)
{
    return a->family == KITE_AF_IPV4;
}
#else
struct kite_addr {
    union {
        uint32_t v4;
    } u;
};
#define KITE_ADDR_V4(ip) ((struct kite_addr){.u = {.v4 = (ip)}})
static inline bool kite_addr_is_v4(const struct kite_addr *a)
{
    (void)a;
    return true;
}
#endif

#define KITE_ADDR_ANY4 KITE_ADDR_V4(0)

static inline uint32_t kite_addr_v4(const struct kite_addr *a)
{
    return a->u.v4;
}

/** True when both addresses have the same family and value. */
bool kite_addr_equal(const struct kite_addr *a, const struct kite_addr *b);

/** True for the unspecified address (0.0.0.0 or ::). */
bool kite_addr_is_any(const struct kite_addr *a);

/** Parse dotted-quad "192.0.2.1" into host-order *out. Strict: no leading junk. */
bool kite_ip4_parse(const char *text, uint32_t *out);
/** Parse "192.0.2.2/24" (prefix 0 to 32, decimal) into host-order *addr and *prefix. */
bool kite_ip4_parse_prefix(const char *text, uint32_t *addr, unsigned *prefix);
/** Parse a station MAC "02:6b:69:74:65:02" (six hex pairs, colons, nothing
 *  else); false for a group (multicast) address, which no station has. */
bool kite_mac_parse(const char *text, uint8_t mac[6]);

/** Format host-order IPv4 into buf (at least 16 bytes). Returns buf. */
char *kite_ip4_format(uint32_t ip, char *buf, size_t len);

/** Format any address (v4 dotted quad). Returns buf. */
char *kite_addr_format(const struct kite_addr *a, char *buf, size_t len);

/** Netmask (host order) for a prefix length 0..32. */
static inline uint32_t kite_ip4_prefix_mask(unsigned prefix)
{
    return prefix == 0 ? 0u : prefix >= 32 ? 0xffffffffu : ~((1u << (32u - prefix)) - 1u);
}

static inline bool kite_ip4_is_multicast(uint32_t ip)
{
    return (ip >> 28) == 0xe;
}
static inline bool kite_ip4_is_loopback(uint32_t ip)
{
    return (ip >> 24) == 127;
}

#endif
