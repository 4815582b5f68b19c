/* SPDX-License-Identifier: BSD-3-Clause */
/* Library-only half of kite/tcp.h: what the stack calls at start and end. */
#ifndef KITE_INTERNAL_TCP_H
#define KITE_INTERNAL_TCP_H

#include "kite/tcp.h"

struct kite_stack;

void kite__tcp_init(struct kite_stack *stack);
void kite__tcp_deinit(struct kite_stack *stack);

#endif
