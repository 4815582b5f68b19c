/* SPDX-License-Identifier: BSD-3-Clause */
/* Library-only half of kite/pbuf.h: helpers the layers share. */
#ifndef KITE_INTERNAL_PBUF_H
#define KITE_INTERNAL_PBUF_H

#include <stdint.h>

#include "kite/pbuf.h"

/**
 * Expose hlen header bytes in front of p: in place when p has the room, else
 * in a new RAM pbuf (with `room` more bytes free in front) chained before p,
 * which then holds a reference on p. Returns the head to fill, or NULL when
 * out of memory. Undo with kite__pbuf_unprepend() after handing it down.
 */
struct kite_pbuf *kite__pbuf_prepend(struct kite_stack *stack, struct kite_pbuf *p, uint16_t hlen,
                                     uint16_t room);
void kite__pbuf_unprepend(struct kite_stack *stack, struct kite_pbuf *head, struct kite_pbuf *p,
                          uint16_t hlen);
/**
 * Remove n bytes from the front of a packet even across pbuf boundaries; head
 * pbufs that become empty are freed. Returns the new head, NULL when nothing
 * is left.
 */
struct kite_pbuf *kite__pbuf_drop_front(struct kite_stack *stack, struct kite_pbuf *p, uint32_t n);
/**
 * The one's-complement sum (folded, not complemented) of len bytes of the chain
 * starting at offset, odd pbuf boundaries handled (RFC 1071 4.1).
 */
uint16_t kite__pbuf_cksum(const struct kite_pbuf *p, uint16_t offset, uint16_t len);

#endif
