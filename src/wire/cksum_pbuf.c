/* SPDX-License-Identifier: BSD-3-Clause */
/* The internet checksum over a pbuf chain (RFC 1071 4.1, odd boundaries swapped). */
#include "kite/pbuf.h"
#include "kite/wire/checksum.h"

#include "kite_internal/pbuf.h"

uint16_t kite__pbuf_cksum(const struct kite_pbuf *p, uint16_t offset, uint16_t len)
{
    uint32_t acc = 0;
    bool odd = false; /* bytes summed so far is odd: the next piece is byte-swapped */
    for (const struct kite_pbuf *q = p; q != NULL && len > 0; q = q->next) {
        if (offset >= q->len) {
            offset = (uint16_t)(offset - q->len);
            continue;
        }
        uint16_t n = (uint16_t)(q->len - offset);
        if (n > len)
            n = len;
        uint32_t part = kite_cksum_fold(kite_cksum_add(0, q->payload + offset, n));
        acc += odd ? kite_cksum_swap(part) : part;
        odd ^= (n & 1u) != 0;
        len = (uint16_t)(len - n);
        offset = 0;
    }
    return kite_cksum_fold(acc);
}
