/* SPDX-License-Identifier: BSD-3-Clause */
/* Transitional: src/transport/tcp_pcb.c still includes this name. The header
 * is kite_internal/ports.h; delete this file once TCP includes that. It lives
 * on the library's private include path only. */
#include "kite_internal/ports.h"
