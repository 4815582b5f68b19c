/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Deterministic byte streams: the /bytes/N pattern (every 16-byte line is
 * unique, so a lost, duplicated or misplaced segment changes the hash and a
 * short script reproduces it) and the RFC 864 character generator.
 *
 * /bytes pattern in Python:  b"".join(b"%015x\n" % k for k in range(n // 16 + 1))[:n]
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "host.h"

#define BYTES_LINE 16u
#define CHARGEN_LINE 74u /* RFC 864: 72 characters, then CR LF */
#define CHARGEN_CHARS 72u
#define CHARGEN_SET 95u /* the printable ASCII characters, 32 to 126 */

static uint8_t bytes_at(uint64_t line, unsigned col)
{
    static const char hex[] = "0123456789abcdef";

    if (col == BYTES_LINE - 1u) {
        return '\n';
    }
    return (uint8_t)hex[(line >> (4u * (14u - col))) & 0xfu];
}

void pattern_bytes(uint8_t *dst, uint64_t offset, uint32_t n)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t line = offset / BYTES_LINE;
    unsigned col = (unsigned)(offset % BYTES_LINE);
    uint32_t i = 0;

    for (; i < n && col != 0; i++) { /* the rest of a partial first line */
        dst[i] = bytes_at(line, col);
        if (++col == BYTES_LINE) {
            col = 0;
            line++;
        }
    }
    /* Whole lines, a bulk sender's hot path: within a run of 256 lines only
     * the last two hex digits change, so each line is the run's text with
     * those two digits written in. */
    uint8_t text[BYTES_LINE];
    for (bool first = true; n - i >= BYTES_LINE; i += BYTES_LINE, line++, first = false) {
        if (first || (line & 0xffu) == 0)
            for (unsigned c = 0; c < BYTES_LINE; c++)
                text[c] = bytes_at(line, c);
        memcpy(dst + i, text, BYTES_LINE);
        dst[i + 13u] = (uint8_t)hex[(line >> 4) & 0xfu];
        dst[i + 14u] = (uint8_t)hex[line & 0xfu];
    }
    for (col = 0; i < n; i++, col++) /* a partial last line */
        dst[i] = bytes_at(line, col);
}

/* RFC 864 suggests 72-character lines of the printing ASCII characters,
 * each line starting one character further along the set. */
static uint8_t chargen_at(uint64_t line, unsigned col)
{
    if (col == CHARGEN_CHARS) {
        return '\r';
    }
    if (col == CHARGEN_CHARS + 1u) {
        return '\n';
    }
    return (uint8_t)(32u + (unsigned)((line + col) % CHARGEN_SET));
}

void pattern_chargen(uint8_t *dst, uint64_t offset, uint32_t n)
{
    uint64_t line = offset / CHARGEN_LINE;
    unsigned col = (unsigned)(offset % CHARGEN_LINE);

    for (uint32_t i = 0; i < n; i++) {
        dst[i] = chargen_at(line, col);
        if (++col == CHARGEN_LINE) {
            col = 0;
            line++;
        }
    }
}

void pattern_refill(struct conn *c)
{
    while (c->produced < c->gen_total) {
        uint8_t *dst;
        uint32_t n = conn_space(c, &dst);
        uint64_t left = c->gen_total - c->produced;
        uint64_t at = c->produced - c->gen_base;

        if (n == 0) {
            return;
        }
        if (n > left) {
            n = (uint32_t)left;
        }
        if (c->gen_kind == GEN_CHARGEN) {
            pattern_chargen(dst, at, n);
        } else {
            pattern_bytes(dst, at, n);
        }
        conn_produce(c, n);
    }
    c->tx_done = true;
}
