/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * RFC 1071 2(B): the one's-complement sum is independent of byte order, so
 * the bulk loop adds native-order 32-bit words into a 64-bit accumulator (the
 * carries pile up in the high half and are folded back once at the end) and
 * the folded 16-bit result is byte-swapped once on little-endian hosts.
 * Words are loaded with memcpy, which compiles to a plain load where the CPU
 * allows unaligned access and stays safe where it does not.
 *
 * Accumulator convention: every uint32_t sum handed in or out is the value of
 * the data read as big-endian 16-bit words, so kite_put_be16(field,
 * kite_cksum(...)) stores the right bytes. kite_cksum_add returns a value
 * folded to 16 bits, so callers may add thousands of partial sums with plain
 * '+' before folding without overflowing 32 bits.
 */
#include "kite/wire/checksum.h"

#include <string.h>

/* 64-bit accumulator -> 16 bits with end-around carry (RFC 1071 4.1). */
static uint16_t fold64(uint64_t acc)
{
    acc = (acc & 0xffffffffu) + (acc >> 32); /* <= 0x1fffffffe */
    acc = (acc & 0xffffu) + (acc >> 16);     /* <= 0x2fffe */
    acc = (acc & 0xffffu) + (acc >> 16);     /* <= 0x10000 */
    acc = (acc & 0xffffu) + (acc >> 16);     /* <= 0xffff */
    return (uint16_t)acc;
}

static uint32_t load32(const uint8_t *p)
{
    uint32_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

/* True on little-endian hosts; a constant after optimisation. */
static int host_is_little_endian(void)
{
    const uint16_t probe = 1u;
    uint8_t first;
    memcpy(&first, &probe, 1);
    return first == 1u;
}

/*
 * Native-order one's-complement sum of len bytes, with a trailing partial
 * word padded by zero bytes in memory order (RFC 1071 4.1: "add left-over
 * byte, if any"). Overflows only after 2^32 words (16 GiB), far beyond any
 * packet.
 */
static uint64_t sum_native(const uint8_t *p, size_t len)
{
    uint64_t acc = 0;

    /* RFC 1071 2(C): unrolling keeps loop overhead off the adds. */
    while (len >= 16u) {
        acc += load32(p);
        acc += load32(p + 4);
        acc += load32(p + 8);
        acc += load32(p + 12);
        p += 16;
        len -= 16u;
    }
    while (len >= 4u) {
        acc += load32(p);
        p += 4;
        len -= 4u;
    }
    if (len > 0u) {
        uint8_t tail[4] = {0, 0, 0, 0};
        memcpy(tail, p, len);
        acc += load32(tail);
    }
    return acc;
}

uint32_t kite_cksum_add(uint32_t sum, const void *data, size_t len)
{
    uint16_t part = fold64(sum_native((const uint8_t *)data, len));

    if (host_is_little_endian()) {
        part = (uint16_t)kite_cksum_swap(part); /* RFC 1071 2(B) */
    }
    return fold64((uint64_t)sum + part);
}

uint16_t kite_cksum_fold(uint32_t sum)
{
    return fold64(sum);
}

uint16_t kite_cksum(const void *data, size_t len)
{
    return (uint16_t)~kite_cksum_fold(kite_cksum_add(0, data, len));
}

uint32_t kite_cksum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    /* RFC 768 / RFC 9293 3.1: src, dst, zero, protocol, length as 16-bit words. */
    uint64_t acc =
        (uint64_t)(src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu) + proto + len;
    return fold64(acc);
}

uint16_t kite_cksum_update16(uint16_t cksum, uint16_t old_word, uint16_t new_word)
{
    /* RFC 1624 3, eqn. 3: HC' = ~(~HC + ~m + m'). Eqn. 2 (HC - ~m - m')
     * can yield -0 (0xffff), which a full recomputation over data that is
     * not all zero never produces. */
    uint64_t acc = (uint64_t)(uint16_t)~cksum + (uint16_t)~old_word + new_word;
    return (uint16_t)~fold64(acc);
}
