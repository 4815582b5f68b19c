/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Raw IPv4 with a callback API (lwIP's raw API, Linux's SOCK_RAW): a pcb for
 * one IP protocol number receives a copy of every packet of that protocol
 * addressed to the stack, IP header included, while the protocol's own
 * handler (ICMP, say) still runs; it sends payloads to which the stack adds
 * the IP header.
 */
#ifndef KITE_RAW_H
#define KITE_RAW_H

#include <stdint.h>

#include "kite/addr.h"
#include "kite/err.h"

struct kite_stack;
struct kite_pbuf;
struct kite_raw_pcb;

/** A packet arrived: p (IP header first) is owned by the callback. */
typedef void (*kite_raw_recv_fn)(void *arg, struct kite_raw_pcb *pcb, struct kite_pbuf *p,
                                 const struct kite_addr *src, const struct kite_addr *dst);

struct kite_raw_pcb {
    struct kite_raw_pcb *next;
    struct kite_stack *stack;
    struct kite_addr local_ip;  /* any = every local address */
    struct kite_addr remote_ip; /* any = every peer (connect narrows it) */
    uint8_t proto;
    uint8_t ttl;
    uint8_t tos;
    kite_raw_recv_fn recv;
    void *recv_arg;
};

struct kite_raw {
    struct kite_raw_pcb *pcbs;
};

/** A pcb for IP protocol proto (1 for ICMP...), or NULL when the pool is empty. */
struct kite_raw_pcb *kite_raw_new(struct kite_stack *stack, uint8_t proto);
void kite_raw_remove(struct kite_raw_pcb *pcb);
/** Receive only packets to ip (NULL or any: all). */
enum kite_err kite_raw_bind(struct kite_raw_pcb *pcb, const struct kite_addr *ip);
/** Receive only packets from ip, and send to it by default. */
enum kite_err kite_raw_connect(struct kite_raw_pcb *pcb, const struct kite_addr *ip);
void kite_raw_recv(struct kite_raw_pcb *pcb, kite_raw_recv_fn fn, void *arg);
/** Send p (the payload after the IP header; the caller keeps it) to dst (NULL:
 *  the connected peer). */
enum kite_err kite_raw_sendto(struct kite_raw_pcb *pcb, struct kite_pbuf *p,
                              const struct kite_addr *dst);

#endif
