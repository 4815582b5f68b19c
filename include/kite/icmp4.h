/* SPDX-License-Identifier: BSD-3-Clause */
/* ICMPv4 (RFC 792): echo, errors, and a hook to receive echo replies (ping). */
#ifndef KITE_ICMP4_H
#define KITE_ICMP4_H

#include <stdint.h>

#include "kite/err.h"
#include "kite/time.h"

struct kite_stack;
struct kite_pbuf;

/** Called for every echo reply received: p holds the echo data (owned by caller of hook: do not
 * free). */
typedef void (*kite_icmp4_echo_reply_fn)(void *arg, uint32_t src, uint16_t id, uint16_t seq,
                                         const struct kite_pbuf *data);

struct kite_icmp4 {
    kite_icmp4_echo_reply_fn echo_reply;
    void *echo_reply_arg;
    /* Token bucket for ICMP errors (RFC 1812 4.3.2.8 rate limiting). */
    uint32_t error_tokens_milli; /* tokens * 1000 */
    kite_time_ms error_last_refill;
};

/** Send an echo request carrying len bytes of data to dst. */
enum kite_err kite_icmp4_send_echo(struct kite_stack *stack, uint32_t dst, uint16_t id,
                                   uint16_t seq, const void *data, uint16_t len);
void kite_icmp4_set_echo_reply_hook(struct kite_stack *stack, kite_icmp4_echo_reply_fn fn,
                                    void *arg);

#endif
