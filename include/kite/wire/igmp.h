/* SPDX-License-Identifier: BSD-3-Clause */
/* IGMP messages (RFC 1112 v1, RFC 2236 v2, RFC 3376 v3). Pure parse/emit. */
#ifndef KITE_WIRE_IGMP_H
#define KITE_WIRE_IGMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kite/err.h"

#define KITE_IGMP_HLEN 8u           /* v1/v2 messages, and the v3 report header */
#define KITE_IGMP_V3_QUERY_HLEN 12u /* RFC 3376 4.1, before the sources */
#define KITE_IGMP_RECORD_HLEN 8u    /* RFC 3376 4.2.4, before the sources */

/* RFC 3376 4: message types. */
#define KITE_IGMP_TYPE_QUERY 0x11u
#define KITE_IGMP_TYPE_V1_REPORT 0x12u
#define KITE_IGMP_TYPE_V2_REPORT 0x16u
#define KITE_IGMP_TYPE_V2_LEAVE 0x17u
#define KITE_IGMP_TYPE_V3_REPORT 0x22u

/* RFC 3376 4.2.12: group record types. */
#define KITE_IGMP_MODE_IS_INCLUDE 1u
#define KITE_IGMP_MODE_IS_EXCLUDE 2u
#define KITE_IGMP_CHANGE_TO_INCLUDE 3u
#define KITE_IGMP_CHANGE_TO_EXCLUDE 4u
#define KITE_IGMP_ALLOW_NEW_SOURCES 5u
#define KITE_IGMP_BLOCK_OLD_SOURCES 6u

/* RFC 3376 4 and 4.2.14: the groups reports and leaves go to. */
#define KITE_IGMP_ALL_SYSTEMS 0xe0000001u /* 224.0.0.1 */
#define KITE_IGMP_ALL_ROUTERS 0xe0000002u /* 224.0.0.2, v2 leaves */
#define KITE_IGMP_V3_ROUTERS 0xe0000016u  /* 224.0.0.22, v3 reports */

/*
 * One IGMP message. For a query, version says which (RFC 3376 7.1: 8 bytes
 * with Max Resp 0 is v1, 8 bytes otherwise v2, 12 or more v3) and
 * max_resp_ds the decoded Max Resp Time in tenths of a second (the v1
 * query's 0 stays 0). v3 query fields: suppress (S flag), qrv, qqi_s
 * (decoded, seconds) and nsrc sources, read with kite_igmp_query_source. A
 * v3 report has nrec group records, read with kite_igmp_record_parse from
 * offset KITE_IGMP_HLEN; its parse has checked that they all fit.
 */
struct kite_igmp_repr {
    uint8_t type;
    uint8_t version;      /* queries: 1, 2 or 3; reports: 1, 2 or 3; leave: 2 */
    uint16_t max_resp_ds; /* tenths of a second */
    uint32_t group;       /* host order; 0 in a general query and a v3 report */
    bool suppress;        /* v3 query: S flag (RFC 3376 4.1.5) */
    uint8_t qrv;          /* v3 query: Querier's Robustness Variable, 0..7 */
    uint16_t qqi_s;       /* v3 query: Querier's Query Interval, seconds */
    uint16_t nsrc;        /* v3 query: sources */
    uint16_t nrec;        /* v3 report: group records */
    uint16_t length;      /* bytes the message covers */
};

/* One group record of a v3 report (RFC 3376 4.2.4). */
struct kite_igmp_record {
    uint8_t type;
    uint8_t aux_words; /* auxiliary data, 32-bit words (ignored, RFC 3376 4.2.6) */
    uint16_t nsrc;
    uint32_t group;  /* host order */
    uint16_t length; /* bytes of the record */
};

/**
 * Validate and parse the IGMP message at buf (len bytes: the IP payload).
 * Errors: TRUNCATED (shorter than 8 bytes, or than a v3 query's or report's
 * sources and records claim), MALFORMED (a query of 9 to 11 bytes, which RFC
 * 3376 7.1 says to ignore), CHECKSUM (when verify_checksum; the sum covers
 * all len bytes, RFC 3376 4.1.2). Unknown types parse as 8-byte messages
 * (RFC 3376 4: ignored by the caller, not malformed).
 */
enum kite_err kite_igmp_parse(const uint8_t *buf, size_t len, bool verify_checksum,
                              struct kite_igmp_repr *repr);
/** Source i (< repr->nsrc) of a parsed v3 query at buf, host order. */
uint32_t kite_igmp_query_source(const uint8_t *buf, uint16_t i);
/**
 * Parse the group record at buf (len bytes left in the report). Errors:
 * TRUNCATED when its sources or auxiliary data run past len.
 */
enum kite_err kite_igmp_record_parse(const uint8_t *buf, size_t len, struct kite_igmp_record *rec);
/** Source i (< rec->nsrc) of a parsed record at buf, host order. */
uint32_t kite_igmp_record_source(const uint8_t *rec_buf, uint16_t i);

/**
 * Write a message: 8 bytes for v1/v2 queries, reports and leaves (the
 * version of a query follows max_resp_ds: 0 writes a v1 query), a v3 query
 * header and repr->nsrc sources from srcs (host order), or the 8-byte header
 * of a v3 report with repr->nrec. The checksum covers what is written; for a
 * v3 report, write the records after it and call kite_igmp_fill_checksum.
 * KITE_ERR_BUF when len is too short, KITE_ERR_ARG for an unknown type.
 */
enum kite_err kite_igmp_emit(const struct kite_igmp_repr *repr, const uint32_t *srcs, uint8_t *buf,
                             size_t len);
/** Bytes kite_igmp_emit writes for repr. */
size_t kite_igmp_emit_len(const struct kite_igmp_repr *repr);
/** Write a group record with n sources (host order); its length, or 0 when len is too short. */
size_t kite_igmp_record_emit(uint8_t type, uint32_t group, const uint32_t *srcs, uint16_t n,
                             uint8_t *buf, size_t len);
/** Recompute the checksum of the len-byte message at buf. */
void kite_igmp_fill_checksum(uint8_t *buf, size_t len);

/** RFC 3376 4.1.1/4.1.7: the value of a Max Resp Code or QQIC. */
uint16_t kite_igmp_code_decode(uint8_t code);
/** The code that carries value (the largest codable value at or below it). */
uint8_t kite_igmp_code_encode(uint16_t value);

#endif
