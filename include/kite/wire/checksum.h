/* SPDX-License-Identifier: BSD-3-Clause */
/* The internet checksum (RFC 1071), with incremental update (RFC 1624). */
#ifndef KITE_WIRE_CHECKSUM_H
#define KITE_WIRE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/**
 * Add the bytes of data to a running 32-bit one's-complement accumulator as
 * if they started at an even offset. Chain partial sums of odd-length pieces
 * with kite_cksum_swap().
 */
uint32_t kite_cksum_add(uint32_t sum, const void *data, size_t len);
/** Fold the accumulator to 16 bits (not complemented). */
uint16_t kite_cksum_fold(uint32_t sum);
/** The checksum field value for data: ~fold(add(0, data)). */
uint16_t kite_cksum(const void *data, size_t len);
/** Byte-swap a folded partial sum (for a piece that starts at an odd offset). */
static inline uint32_t kite_cksum_swap(uint32_t folded)
{
    return ((folded & 0xffu) << 8) | ((folded >> 8) & 0xffu);
}
/** Partial sum of the IPv4 pseudo header (RFC 768 / RFC 9293 3.1). Host-order addresses. */
uint32_t kite_cksum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);
/**
 * RFC 1624 eqn. 3: the new checksum field after one 16-bit word of the covered
 * data changed from old_word to new_word.
 */
uint16_t kite_cksum_update16(uint16_t cksum, uint16_t old_word, uint16_t new_word);

#endif
