/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/addr.h"

#include <string.h>

/* The IPv4-only build promises 4-byte addresses (smallest RAM). */
_Static_assert(KITE_IPV6 || sizeof(struct kite_addr) == 4, "IPv4-only address must be 4 bytes");

bool kite_addr_equal(const struct kite_addr *a, const struct kite_addr *b)
{
#if KITE_IPV6
    if (a->family != b->family)
        return false;
    if (a->family == KITE_AF_IPV6)
        return memcmp(a->u.v6, b->u.v6, sizeof a->u.v6) == 0;
#endif
    return a->u.v4 == b->u.v4;
}

bool kite_addr_is_any(const struct kite_addr *a)
{
#if KITE_IPV6
    if (a->family == KITE_AF_IPV6) {
        static const uint8_t zero[16];
        return memcmp(a->u.v6, zero, sizeof zero) == 0;
    }
#endif
    return a->u.v4 == 0;
}

/* One decimal octet: 1-3 digits, value <= 255, no leading zeros (avoid octal ambiguity). */
static const char *parse_octet(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    int digits = 0;
    while (*s >= '0' && *s <= '9' && digits < 4) {
        v = v * 10u + (uint32_t)(*s - '0');
        s++;
        digits++;
    }
    if (digits == 0 || digits > 3 || v > 255 || (digits > 1 && s[-digits] == '0'))
        return NULL;
    *out = v;
    return s;
}

bool kite_ip4_parse(const char *text, uint32_t *out)
{
    uint32_t ip = 0;
    const char *s = text;
    for (int i = 0; i < 4; i++) {
        uint32_t octet;
        s = parse_octet(s, &octet);
        if (s == NULL)
            return false;
        ip = ip << 8 | octet;
        if (i < 3 && *s++ != '.')
            return false;
    }
    if (*s != '\0')
        return false;
    *out = ip;
    return true;
}

bool kite_ip4_parse_prefix(const char *text, uint32_t *addr, unsigned *prefix)
{
    char host[16];
    size_t n = 0;
    while (text[n] != '/' && text[n] != '\0' && n < sizeof host - 1) {
        host[n] = text[n];
        n++;
    }
    if (text[n] != '/')
        return false;
    host[n] = '\0';
    uint32_t len;
    const char *end = parse_octet(text + n + 1, &len); /* (a decimal 0-255, no leading zero) */
    if (end == NULL || *end != '\0' || len > 32 || !kite_ip4_parse(host, addr))
        return false;
    *prefix = (unsigned)len;
    return true;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool kite_mac_parse(const char *text, uint8_t mac[6])
{
    uint8_t m[6];
    for (unsigned i = 0; i < 6; i++, text += 3) {
        int hi = hex_digit(text[0]);
        int lo = hi < 0 ? -1 : hex_digit(text[1]);
        if (hi < 0 || lo < 0 || text[2] != (i < 5 ? ':' : '\0'))
            return false;
        m[i] = (uint8_t)(hi << 4 | lo);
    }
    if (m[0] & 1u)
        return false; /* IEEE 802: the group bit */
    for (unsigned i = 0; i < 6; i++)
        mac[i] = m[i];
    return true;
}

static size_t format_u8(char *p, uint32_t v)
{
    char tmp[3];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

char *kite_ip4_format(uint32_t ip, char *buf, size_t len)
{
    char tmp[16];
    size_t n = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        n += format_u8(tmp + n, (ip >> shift) & 0xffu);
        if (shift != 0)
            tmp[n++] = '.';
    }
    tmp[n] = '\0';
    if (len > 0) {
        size_t copy = n < len - 1 ? n : len - 1;
        memcpy(buf, tmp, copy);
        buf[copy] = '\0';
    }
    return buf;
}

char *kite_addr_format(const struct kite_addr *a, char *buf, size_t len)
{
    return kite_ip4_format(a->u.v4, buf, len);
}
