/* SPDX-License-Identifier: BSD-3-Clause */
/* Ephemeral ports (RFC 6335 8.1.2 range, RFC 6056 3.3.1 search). */

#include "kite/stack.h"

#include "kite_internal/ports.h"

#define SPAN ((uint32_t)KITE_EPHEMERAL_PORT_MAX - KITE_EPHEMERAL_PORT_MIN + 1u)

bool kite__local_addrs_clash(const struct kite_addr *a, const struct kite_addr *b)
{
    return kite_addr_is_any(a) || kite_addr_is_any(b) || kite_addr_equal(a, b);
}

uint16_t kite__ephemeral_port(uint16_t *next, kite_port_taken_fn taken, const void *ctx)
{
    for (uint32_t i = 0; i < SPAN; i++) {
        uint16_t port = *next;
        *next = port >= KITE_EPHEMERAL_PORT_MAX ? (uint16_t)KITE_EPHEMERAL_PORT_MIN
                                                : (uint16_t)(port + 1u);
        if (!taken(ctx, port))
            return port;
    }
    return 0;
}

uint16_t kite__ephemeral_start(struct kite_stack *stack)
{
    return (uint16_t)(KITE_EPHEMERAL_PORT_MIN + kite_random_u32(stack) % SPAN);
}
