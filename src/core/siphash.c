/* SPDX-License-Identifier: BSD-3-Clause */
/* SipHash-2-4, written from the description in the SipHash paper (2012). */
#include "kite/siphash.h"

static uint64_t rotl(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64u - b));
}

static void sip_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = rotl(v[1], 13) ^ v[0];
    v[0] = rotl(v[0], 32);
    v[2] += v[3];
    v[3] = rotl(v[3], 16) ^ v[2];
    v[0] += v[3];
    v[3] = rotl(v[3], 21) ^ v[0];
    v[2] += v[1];
    v[1] = rotl(v[1], 17) ^ v[2];
    v[2] = rotl(v[2], 32);
}

static uint64_t load_le64(const uint8_t *p, size_t n)
{
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x |= (uint64_t)p[i] << (8 * i);
    return x;
}

static void compress(uint64_t v[4], uint64_t m)
{
    v[3] ^= m;
    sip_round(v);
    sip_round(v);
    v[0] ^= m;
}

uint64_t kite_siphash24(const uint32_t key[4], const void *data, size_t len)
{
    const uint8_t *in = data;
    uint64_t k0 = (uint64_t)key[1] << 32 | key[0];
    uint64_t k1 = (uint64_t)key[3] << 32 | key[2];
    uint64_t v[4] = {k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull,
                     k0 ^ 0x6c7967656e657261ull, k1 ^ 0x7465646279746573ull};
    size_t full = len & ~(size_t)7;
    for (size_t i = 0; i < full; i += 8)
        compress(v, load_le64(in + i, 8));
    uint64_t last = (uint64_t)(len & 0xffu) << 56 | load_le64(in + full, len - full);
    compress(v, last);
    v[2] ^= 0xff;
    for (int i = 0; i < 4; i++)
        sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}
