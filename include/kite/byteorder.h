/* SPDX-License-Identifier: BSD-3-Clause */
/* Unaligned big-endian loads and stores: the only way wire/ touches bytes. */
#ifndef KITE_BYTEORDER_H
#define KITE_BYTEORDER_H

#include <stdint.h>
#include <string.h>

static inline uint16_t kite_get_be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t kite_get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void kite_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void kite_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Host <-> network order of a value held in memory (sockaddr fields), written
 * through bytes so it needs no knowledge of the host's endianness. */
static inline uint32_t kite_htonl(uint32_t v)
{
    uint8_t b[4];
    uint32_t r;
    kite_put_be32(b, v);
    memcpy(&r, b, sizeof r);
    return r;
}

static inline uint32_t kite_ntohl(uint32_t v)
{
    uint8_t b[4];
    memcpy(b, &v, sizeof b);
    return kite_get_be32(b);
}

static inline uint16_t kite_htons(uint16_t v)
{
    uint8_t b[2];
    uint16_t r;
    kite_put_be16(b, v);
    memcpy(&r, b, sizeof r);
    return r;
}

static inline uint16_t kite_ntohs(uint16_t v)
{
    uint8_t b[2];
    memcpy(b, &v, sizeof b);
    return kite_get_be16(b);
}

#endif
