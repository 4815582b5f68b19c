/* SPDX-License-Identifier: BSD-3-Clause */
/* TCP header and options (RFC 9293 3.1, RFC 7323, RFC 2018). Pure parse/emit;
 * the checksum covers a pseudo header and the payload and is computed by the
 * caller over the chain. */
#ifndef KITE_WIRE_TCP_H
#define KITE_WIRE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kite/err.h"

#define KITE_TCP_HLEN 20u
#define KITE_TCP_MAX_HLEN 60u

#define KITE_TCP_FIN 0x01u
#define KITE_TCP_SYN 0x02u
#define KITE_TCP_RST 0x04u
#define KITE_TCP_PSH 0x08u
#define KITE_TCP_ACK 0x10u
#define KITE_TCP_URG 0x20u
#define KITE_TCP_ECE 0x40u
#define KITE_TCP_CWR 0x80u

#define KITE_TCP_OPT_EOL 0u
#define KITE_TCP_OPT_NOP 1u
#define KITE_TCP_OPT_MSS 2u
#define KITE_TCP_OPT_WSCALE 3u
#define KITE_TCP_OPT_SACK_PERM 4u
#define KITE_TCP_OPT_SACK 5u
#define KITE_TCP_OPT_TIMESTAMP 8u

/* Which options a repr carries (bits of kite_tcp_repr.opts). */
#define KITE_TCP_HAS_MSS 0x01u
#define KITE_TCP_HAS_WSCALE 0x02u
#define KITE_TCP_HAS_SACK_PERM 0x04u
#define KITE_TCP_HAS_TIMESTAMP 0x08u
#define KITE_TCP_HAS_SACK 0x10u

#define KITE_TCP_MAX_SACK_BLOCKS 4u
#define KITE_TCP_MAX_WSCALE 14u /* RFC 7323 2.3 */

struct kite_tcp_sack_block {
    uint32_t left;  /* first sequence number of the block */
    uint32_t right; /* sequence number just past the block */
};

struct kite_tcp_repr {
    uint16_t src_port;
    uint16_t dst_port;
    uint32_t seq;
    uint32_t ack;
    uint8_t hlen; /* header bytes including options (parse output; emit computes it) */
    uint8_t flags;
    uint16_t window; /* raw 16-bit field, before scaling */
    uint16_t checksum;
    uint16_t urgent;
    uint8_t opts; /* KITE_TCP_HAS_* */
    uint16_t mss;
    uint8_t wscale;
    uint8_t sack_count;
    uint32_t ts_val;
    uint32_t ts_ecr;
    struct kite_tcp_sack_block sack[KITE_TCP_MAX_SACK_BLOCKS];
};

/**
 * Parse a segment header of len bytes (header + payload). Errors: TRUNCATED
 * (len < 20 or len < data offset), MALFORMED (data offset < 5, an option whose
 * length byte is missing, < 2 or runs past the header, a known option with the
 * wrong length: MSS 4, window scale 3, SACK-permitted 2, timestamps 10, SACK
 * 2 + 8n with 1 <= n <= 4). Unknown options are skipped. A window scale above
 * 14 is clamped to 14 (RFC 7323 2.3). Payload starts at buf + repr->hlen.
 */
enum kite_err kite_tcp_parse(const uint8_t *buf, size_t len, struct kite_tcp_repr *repr);

/** Header length emit will produce for repr's options (20..60, multiple of 4). */
uint8_t kite_tcp_header_len(const struct kite_tcp_repr *repr);

/**
 * Write the header and the options named in repr->opts (padded with NOP/EOL
 * to a multiple of 4) with repr->checksum as given. KITE_ERR_BUF if len is
 * smaller than kite_tcp_header_len(repr); KITE_ERR_VAL if the options do not
 * fit in 40 bytes.
 */
enum kite_err kite_tcp_emit(const struct kite_tcp_repr *repr, uint8_t *buf, size_t len);

#endif
