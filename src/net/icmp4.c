/* SPDX-License-Identifier: BSD-3-Clause */
/* ICMPv4 (RFC 792, RFC 1122 3.2.2): echo, errors in and out, rate limiting. */
#include "kite/icmp4.h"

#include <string.h>

#include "kite/byteorder.h"
#include "kite/ipv4.h"
#include "kite/stack.h"
#include "kite/wire/checksum.h"
#include "kite/wire/icmp4.h"
#include "kite/wire/ipv4.h"

#include "kite_internal/icmp4.h"
#include "kite_internal/ipv4.h"
#include "kite_internal/pbuf.h"
#include "kite_internal/stack.h"

/* RFC 1812 4.3.2.3: quote as much of the original as fits in 576 bytes. */
#define ICMP4_ERROR_MAX_QUOTE (576u - KITE_IPV4_HLEN - KITE_ICMP4_HLEN)

static void send_error(struct kite_stack *stack, struct kite_pbuf *p, uint8_t type, uint8_t code,
                       uint32_t info);

static void finish_checksum(struct kite_pbuf *p)
{
    p->payload[2] = 0;
    p->payload[3] = 0;
    uint16_t sum = (uint16_t)~kite__pbuf_cksum(p, 0, p->tot_len);
    kite_put_be16(p->payload + 2, sum);
}

static void answer_echo(struct kite_stack *stack, struct kite_pbuf *p, const struct kite_ip_rx *rx,
                        const struct kite_icmp4_repr *icmp)
{
    stack->stats.icmp4.echo_requests++;
    if (rx->broadcast || rx->multicast) {
        /* RFC 1122 3.2.2.6 lets a host ignore broadcast echo; we do (smurf defence). */
        stack->stats.icmp4.drop_broadcast_echo++;
        return;
    }
    /* Reply in place: only the type changes, so update the checksum
     * incrementally (RFC 1624) instead of summing the whole payload again. */
    uint16_t old_word = (uint16_t)(KITE_ICMP4_ECHO_REQUEST << 8 | icmp->code);
    uint16_t new_word = (uint16_t)(KITE_ICMP4_ECHO_REPLY << 8 | icmp->code);
    p->payload[0] = KITE_ICMP4_ECHO_REPLY;
    kite_put_be16(p->payload + 2, kite_cksum_update16(icmp->checksum, old_word, new_word));
    if (kite__ipv4_output(stack, p, rx->dst, rx->src, KITE_IP_PROTO_ICMP, KITE_IPV4_DEFAULT_TTL,
                          rx->tos) == KITE_ERR_OK) {
        stack->stats.icmp4.tx++;
        stack->stats.icmp4.echo_replies_sent++;
    }
}

/* The reply is written in place, so its 8-byte header must be in one pbuf. */
static void answer_echo_contiguous(struct kite_stack *stack, struct kite_pbuf *p,
                                   const struct kite_ip_rx *rx, const struct kite_icmp4_repr *icmp)
{
    if (p->len >= KITE_ICMP4_HLEN) {
        answer_echo(stack, p, rx, icmp);
        return;
    }
    struct kite_pbuf *copy = kite_pbuf_clone(stack, KITE_LAYER_IP, p);
    if (copy == NULL) {
        stack->stats.icmp4.drop_no_mem++;
        return;
    }
    answer_echo(stack, copy, rx, icmp);
    kite_pbuf_free(stack, copy);
}

static void handle_echo_reply(struct kite_stack *stack, struct kite_pbuf *p,
                              const struct kite_ip_rx *rx, const struct kite_icmp4_repr *icmp)
{
    stack->stats.icmp4.echo_replies_rx++;
    if (stack->icmp4.echo_reply == NULL)
        return;
    (void)kite_pbuf_header_remove(p, KITE_ICMP4_HLEN);
    stack->icmp4.echo_reply(stack->icmp4.echo_reply_arg, rx->src, icmp->id, icmp->seq, p);
}

/* Pass an error about one of our packets to the protocol that sent it. */
static void handle_error(struct kite_stack *stack, struct kite_pbuf *p,
                         const struct kite_icmp4_repr *icmp)
{
    uint8_t quote[KITE_IPV4_MAX_HLEN + 8];
    uint16_t len = kite_pbuf_copy_out(p, quote, sizeof quote, KITE_ICMP4_HLEN);
    unsigned ihl = len > 0 ? (quote[0] & 0xfu) * 4u : 0;
    /* RFC 792: the original IP header plus at least 64 bits of its data. */
    if (len < KITE_IPV4_HLEN || quote[0] >> 4 != 4 || ihl < KITE_IPV4_HLEN || len < ihl + 8u) {
        stack->stats.icmp4.drop_bad_error++;
        return;
    }
    stack->stats.icmp4.errors_rx++;
    kite_proto_error_fn error = kite__stack_ip_proto_error(stack, quote[9]);
    if (error != NULL)
        error(stack, icmp->type, icmp->code, (uint32_t)icmp->id << 16 | icmp->seq, quote, len);
}

static void icmp4_input(struct kite_stack *stack, struct kite_pbuf *p, const struct kite_ip_rx *rx)
{
    struct kite_icmp4_repr icmp;
    uint8_t scratch[KITE_ICMP4_HLEN];
    stack->stats.icmp4.rx++;
    const uint8_t *hdr = kite_pbuf_contiguous(p, scratch, KITE_ICMP4_HLEN);
    if (hdr == NULL || kite_icmp4_parse(hdr, KITE_ICMP4_HLEN, &icmp) != KITE_ERR_OK)
        stack->stats.icmp4.drop_short++;
    else if (kite__pbuf_cksum(p, 0, p->tot_len) != 0xffff)
        stack->stats.icmp4.drop_bad_checksum++;
    else if (icmp.type == KITE_ICMP4_ECHO_REQUEST)
        answer_echo_contiguous(stack, p, rx, &icmp);
    else if (icmp.type == KITE_ICMP4_ECHO_REPLY)
        handle_echo_reply(stack, p, rx, &icmp);
    else if (kite_icmp4_is_error(icmp.type))
        handle_error(stack, p, &icmp);
    else
        stack->stats.icmp4.drop_unknown_type++;
    kite_pbuf_free(stack, p);
}

/* RFC 1122 3.2.2.1: protocol unreachable, never about broadcasts. */
static void protocol_unreachable(struct kite_stack *stack, struct kite_pbuf *p,
                                 const struct kite_ip_rx *rx)
{
    if (!rx->broadcast && !rx->multicast)
        kite__icmp4_dest_unreach(stack, p, KITE_ICMP4_UNREACH_PROTO);
}

void kite__icmp4_init(struct kite_stack *stack)
{
    memset(&stack->icmp4, 0, sizeof stack->icmp4);
    stack->icmp4.error_tokens_milli = KITE_ICMP4_ERROR_BURST * 1000u;
    stack->icmp4.error_last_refill = stack->now;
    (void)kite__stack_register_ip_proto(stack, KITE_IP_PROTO_ICMP, icmp4_input, NULL);
    stack->ip_unhandled = protocol_unreachable;
    stack->icmp_error = send_error;
}

void kite_icmp4_set_echo_reply_hook(struct kite_stack *stack, kite_icmp4_echo_reply_fn fn,
                                    void *arg)
{
    stack->icmp4.echo_reply = fn;
    stack->icmp4.echo_reply_arg = arg;
}

enum kite_err kite_icmp4_send_echo(struct kite_stack *stack, uint32_t dst, uint16_t id,
                                   uint16_t seq, const void *data, uint16_t len)
{
    if ((uint32_t)len + KITE_ICMP4_HLEN + KITE_IPV4_HLEN > UINT16_MAX)
        return KITE_ERR_VAL;
    struct kite_pbuf *p =
        kite_pbuf_alloc(stack, KITE_LAYER_IP, (uint16_t)(KITE_ICMP4_HLEN + len), KITE_PBUF_RAM);
    if (p == NULL)
        p = kite_pbuf_alloc(stack, KITE_LAYER_IP, (uint16_t)(KITE_ICMP4_HLEN + len),
                            KITE_PBUF_POOL);
    if (p == NULL) {
        stack->stats.icmp4.drop_no_mem++;
        return KITE_ERR_MEM;
    }
    struct kite_icmp4_repr icmp = {.type = KITE_ICMP4_ECHO_REQUEST, .id = id, .seq = seq};
    (void)kite_icmp4_emit(&icmp, p->payload, p->len);
    if (len > 0)
        (void)kite_pbuf_copy_in(p, data, len, KITE_ICMP4_HLEN);
    finish_checksum(p);
    enum kite_err err =
        kite__ipv4_output(stack, p, 0, dst, KITE_IP_PROTO_ICMP, KITE_IPV4_DEFAULT_TTL, 0);
    if (err == KITE_ERR_OK)
        stack->stats.icmp4.tx++;
    kite_pbuf_free(stack, p);
    return err;
}

/* Token bucket (RFC 1812 4.3.2.8): KITE_ICMP4_ERROR_RATE per second, bursts allowed. */
static bool error_allowed(struct kite_stack *stack)
{
    struct kite_icmp4 *st = &stack->icmp4;
    uint64_t elapsed = stack->now - st->error_last_refill;
    uint64_t tokens = st->error_tokens_milli + elapsed * KITE_ICMP4_ERROR_RATE;
    if (tokens > KITE_ICMP4_ERROR_BURST * 1000u)
        tokens = KITE_ICMP4_ERROR_BURST * 1000u;
    st->error_last_refill = stack->now;
    if (tokens < 1000u) {
        st->error_tokens_milli = (uint32_t)tokens;
        return false;
    }
    st->error_tokens_milli = (uint32_t)(tokens - 1000u);
    return true;
}

/* RFC 1122 3.2.2: never answer an error, a broadcast or a non-first fragment;
 * about a packet for another host only while forwarding (RFC 1812 4.3.2). */
static bool may_send_error_about(struct kite_stack *stack, const struct kite_pbuf *p,
                                 struct kite_ipv4_repr *orig)
{
    uint8_t scratch[KITE_IPV4_MAX_HLEN];
    uint16_t n = p->tot_len < sizeof scratch ? p->tot_len : (uint16_t)sizeof scratch;
    const uint8_t *hdr = kite_pbuf_contiguous(p, scratch, n);
    if (hdr == NULL || kite_ipv4_parse(hdr, p->tot_len, false, orig) != KITE_ERR_OK)
        return false;
    if (orig->frag_offset != 0 || kite_ip4_is_multicast(orig->dst) ||
        kite_ip4_is_multicast(orig->src) || orig->src == 0 || orig->dst == KITE_IP4_BROADCAST ||
        (!kite__ipv4_forwarding(stack) && !kite_ipv4_is_local(stack, orig->dst)))
        return false;
    if (orig->proto == KITE_IP_PROTO_ICMP) {
        int type = kite_pbuf_get_u8(p, orig->hlen);
        if (type < 0 || kite_icmp4_is_error((uint8_t)type))
            return false;
    }
    return true;
}

/* RFC 792: an error quoting the IP header and the start of p's data; info
 * is the rest of the ICMP header (RFC 1191 4: the next-hop MTU). The source
 * is the address the packet was sent to, or, for a packet being forwarded,
 * the outgoing netif's. */
static void send_error(struct kite_stack *stack, struct kite_pbuf *p, uint8_t type, uint8_t code,
                       uint32_t info)
{
    struct kite_ipv4_repr orig;
    if (!may_send_error_about(stack, p, &orig))
        return;
    if (!error_allowed(stack)) {
        stack->stats.icmp4.unreach_rate_limited++;
        return;
    }
    uint16_t quote =
        p->tot_len < ICMP4_ERROR_MAX_QUOTE ? p->tot_len : (uint16_t)ICMP4_ERROR_MAX_QUOTE;
    struct kite_pbuf *e =
        kite_pbuf_alloc(stack, KITE_LAYER_IP, (uint16_t)(KITE_ICMP4_HLEN + quote), KITE_PBUF_RAM);
    if (e == NULL) {
        stack->stats.icmp4.drop_no_mem++;
        return;
    }
    struct kite_icmp4_repr icmp = {
        .type = type, .code = code, .id = (uint16_t)(info >> 16), .seq = (uint16_t)info};
    (void)kite_icmp4_emit(&icmp, e->payload, e->len);
    (void)kite_pbuf_copy_out(p, e->payload + KITE_ICMP4_HLEN, quote, 0);
    finish_checksum(e);
    uint32_t src = kite_ipv4_is_local(stack, orig.dst) ? orig.dst : 0;
    if (kite__ipv4_output(stack, e, src, orig.src, KITE_IP_PROTO_ICMP, KITE_IPV4_DEFAULT_TTL, 0) ==
        KITE_ERR_OK) {
        stack->stats.icmp4.tx++;
        stack->stats.icmp4.unreach_sent++;
    }
    kite_pbuf_free(stack, e);
}

void kite__icmp4_dest_unreach(struct kite_stack *stack, struct kite_pbuf *p, uint8_t code)
{
    send_error(stack, p, KITE_ICMP4_DEST_UNREACH, code, 0);
}
