/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet buffers, after lwIP's design: reference counted, chainable, from
 * fixed pools, with header room reserved so each layer prepends its header
 * without copying.
 *
 *   KITE_PBUF_POOL  payload in fixed-size pool blocks, chained for big packets
 *                   (what drivers use for received frames)
 *   KITE_PBUF_RAM   one contiguous block, header + payload (what the stack
 *                   uses to build packets)
 *   KITE_PBUF_REF   payload in caller memory that may change later: copied
 *                   before it is queued
 *   KITE_PBUF_ROM   payload in caller memory that never changes
 *
 * Invariant of a chain: p->tot_len == p->len + p->next->tot_len, and the last
 * pbuf has tot_len == len. A chain is one packet.
 *
 * Ownership: a function that takes a pbuf "consumes" it when its doc says so;
 * otherwise the caller still owns it and frees it with kite_pbuf_free().
 */
#ifndef KITE_PBUF_H
#define KITE_PBUF_H

#include <stdbool.h>
#include <stdint.h>

#include "kite/err.h"
#include "kite/opts.h"

struct kite_stack;

enum kite_pbuf_type {
    KITE_PBUF_RAM = 0,
    KITE_PBUF_POOL = 1,
    KITE_PBUF_REF = 2,
    KITE_PBUF_ROM = 3,
};

/* Header room per layer, in bytes. Link room is 14 rounded to 16 so the IP
 * header that follows is 4-byte aligned. */
#define KITE_PBUF_LINK_HLEN 16u
#if KITE_IPV6
#define KITE_PBUF_IP_HLEN 40u
#else
#define KITE_PBUF_IP_HLEN 20u
#endif
#define KITE_PBUF_TRANSPORT_HLEN 20u

/* Header room to reserve when allocating a packet at a given layer. */
#define KITE_LAYER_RAW 0u
#define KITE_LAYER_LINK KITE_PBUF_LINK_HLEN
#define KITE_LAYER_IP (KITE_PBUF_LINK_HLEN + KITE_PBUF_IP_HLEN)
#define KITE_LAYER_TRANSPORT (KITE_LAYER_IP + KITE_PBUF_TRANSPORT_HLEN)

struct kite_pbuf {
    struct kite_pbuf *next; /* next pbuf of the same packet */
    uint8_t *payload;
    uint16_t tot_len; /* length of this pbuf and the rest of the chain */
    uint16_t len;     /* length of this pbuf */
    uint8_t type;     /* enum kite_pbuf_type */
    uint8_t flags;
    uint16_t ref;
};

/* Flags a layer may set on the first pbuf of a packet it received. */
#define KITE_PBUF_FLAG_LL_BROADCAST 0x01u /* arrived as link-layer broadcast */
#define KITE_PBUF_FLAG_LL_MULTICAST 0x02u /* arrived as link-layer multicast */

/**
 * Allocate a packet of len payload bytes with header_room bytes free in front.
 * POOL packets larger than one block are chained; RAM packets are one block
 * and fail with NULL when header_room + len exceeds KITE_PBUF_RAM_BUFSIZE.
 * REF/ROM: use kite_pbuf_alloc_ref(). Returns NULL when the pool is empty.
 */
struct kite_pbuf *kite_pbuf_alloc(struct kite_stack *stack, uint16_t header_room, uint16_t len,
                                  enum kite_pbuf_type type);

/**
 * A received frame of len bytes, for a driver: from the POOL, or when the
 * POOL is exhausted, from the RAM pool if it fits one block, so a frame
 * still gets in while received and written data hold the POOL (TCP drops
 * the data of such a frame but acts on its ACK: the ACK that lets a full
 * send queue go on). NULL when neither has room.
 */
struct kite_pbuf *kite_pbuf_alloc_rx(struct kite_stack *stack, uint16_t len);

/** A REF or ROM pbuf pointing at caller memory (no header room). */
struct kite_pbuf *kite_pbuf_alloc_ref(struct kite_stack *stack, const void *data, uint16_t len,
                                      enum kite_pbuf_type type);

/**
 * Wrap application data for sending: when is_volatile the bytes are copied into
 * a PBUF_RAM (or chained PBUF_POOL when large) with header_room in front,
 * otherwise a PBUF_ROM references them and the caller keeps them unchanged
 * until the stack is done with them.
 */
struct kite_pbuf *kite_pbuf_from_data(struct kite_stack *stack, uint16_t header_room,
                                      const void *data, uint16_t len, bool is_volatile);

/** Drop one reference of each pbuf of the chain; returns how many were freed. */
unsigned kite_pbuf_free(struct kite_stack *stack, struct kite_pbuf *p);
/** Take one more reference on the head of a chain. */
void kite_pbuf_ref(struct kite_pbuf *p);

/** Move payload back by n bytes to expose header room. Fails for REF/ROM. */
enum kite_err kite_pbuf_header_add(struct kite_pbuf *p, uint16_t n);
/** Move payload forward by n bytes (n <= p->len). */
enum kite_err kite_pbuf_header_remove(struct kite_pbuf *p, uint16_t n);
/** Bytes free in front of p->payload. */
uint16_t kite_pbuf_header_room(const struct kite_pbuf *p);

/** Append tail to head (head takes ownership of tail's reference). */
void kite_pbuf_cat(struct kite_pbuf *head, struct kite_pbuf *tail);
/** Shrink a packet to new_len bytes, freeing pbufs that are no longer needed. */
void kite_pbuf_trim(struct kite_stack *stack, struct kite_pbuf *p, uint16_t new_len);

/** Copy up to len bytes starting at offset out of the chain; returns bytes copied. */
uint16_t kite_pbuf_copy_out(const struct kite_pbuf *p, void *dst, uint16_t len, uint16_t offset);
/** Copy len bytes into the chain at offset; KITE_ERR_BUF if it does not fit. */
enum kite_err kite_pbuf_copy_in(struct kite_pbuf *p, const void *src, uint16_t len,
                                uint16_t offset);
/** One byte at offset, or -1 past the end. */
int kite_pbuf_get_u8(const struct kite_pbuf *p, uint16_t offset);

/**
 * Return a pointer to the first `len` bytes of the packet, contiguous. If the
 * first pbuf is too short the bytes are copied into scratch (of at least len
 * bytes) and scratch is returned. NULL when the packet is shorter than len.
 */
const uint8_t *kite_pbuf_contiguous(const struct kite_pbuf *p, uint8_t *scratch, uint16_t len);

/** A deep copy of the packet into one PBUF_RAM (or a POOL chain) with header room. */
struct kite_pbuf *kite_pbuf_clone(struct kite_stack *stack, uint16_t header_room,
                                  const struct kite_pbuf *p);

/** Check the chain invariants; false if broken. */
bool kite_pbuf_check(const struct kite_pbuf *p);

#endif
