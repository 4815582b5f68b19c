/* SPDX-License-Identifier: BSD-3-Clause */
/* SipHash-2-4 (Aumasson & Bernstein), a keyed hash for ISNs and SYN cookies. */
#ifndef KITE_SIPHASH_H
#define KITE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/** SipHash-2-4 of len bytes with a 128-bit key (key[0] low word first). */
uint64_t kite_siphash24(const uint32_t key[4], const void *data, size_t len);

#endif
