/* SPDX-License-Identifier: BSD-3-Clause */
/* What the socket layer asks of a netconn from inside kite_tcpip_call (with the
 * stack to itself), where the blocking netconn functions cannot be called. */
#ifndef KITE_API_PRIV_H
#define KITE_API_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kite/netconn.h"

#define KITE_NC_SHUT_RX 0x01u /* shutdown(SHUT_RD), or the peer's FIN */
#define KITE_NC_SHUT_TX 0x02u /* shutdown(SHUT_WR) */

bool kite__netconn_listening(const struct kite_netconn *c);
/** The pending error, cleared; *connecting: it ended a connection attempt. */
enum kite_err kite__netconn_take_error(struct kite_netconn *c, bool *connecting);
void kite__netconn_set_timeouts(struct kite_netconn *c, uint32_t rcv_ms, uint32_t snd_ms);
/** SO_RCVTIMEO (rcv) or SO_SNDTIMEO in ms, 0: none. */
uint32_t kite__netconn_timeout(const struct kite_netconn *c, bool rcv);
uint8_t kite__netconn_shut(const struct kite_netconn *c);
/** Bytes queued (FIONREAD), with next_only the next datagram's; 0 on a listener. */
size_t kite__netconn_pending(const struct kite_netconn *c, bool next_only);

/** Its state changed outside a request (socket options): report it to a
 *  watcher (KITE_NETCONN_EVENTS) when the stack is let go. */
void kite__netconn_touch(struct kite_netconn *c);

#endif
