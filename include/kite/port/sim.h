/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Simulation: any number of stacks joined by simulated Ethernet links, on
 * virtual time, with seeded loss, delay, jitter, duplication, reordering and
 * corruption. Host port (uses malloc for frames in flight).
 */
#ifndef KITE_PORT_SIM_H
#define KITE_PORT_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "kite/err.h"
#include "kite/netif.h"
#include "kite/time.h"

struct kite_stack;

/* Fault probabilities are in parts per million of frames. */
struct kite_simlink_config {
    uint64_t seed;
    uint32_t loss_ppm;
    uint32_t duplicate_ppm;
    uint32_t reorder_ppm; /* a reordered frame is held back reorder_delay_ms */
    uint32_t corrupt_ppm; /* one random bit of the frame is flipped */
    uint32_t delay_ms;    /* base one-way latency */
    uint32_t jitter_ms;   /* uniform extra latency 0..jitter_ms (may reorder) */
    uint32_t reorder_delay_ms;
};

struct kite_simlink_stats {
    uint32_t sent, delivered, lost, duplicated, reordered, corrupted, rx_no_mem;
};

struct kite_simlink;

struct kite_simlink *kite_simlink_new(const struct kite_simlink_config *cfg);
/** Free the link and every frame still in flight. Detach netifs first. */
void kite_simlink_free(struct kite_simlink *link);
/** Change the fault settings (seed kept). */
void kite_simlink_configure(struct kite_simlink *link, const struct kite_simlink_config *cfg);

/**
 * Add netif to stack as an Ethernet netif attached to this link (every frame
 * it sends reaches every other attached netif, as on a hub).
 */
enum kite_err kite_simlink_add_netif(struct kite_simlink *link, struct kite_stack *stack,
                                     struct kite_netif *netif, const char *name,
                                     const uint8_t mac[6]);
/** Detach a netif (frames in flight to it are dropped). Does not remove it from its stack. */
void kite_simlink_detach(struct kite_simlink *link, struct kite_netif *netif);

kite_time_ms kite_simlink_next_deadline(const struct kite_simlink *link);
/** Deliver every frame due at or before now. */
void kite_simlink_deliver(struct kite_simlink *link, kite_time_ms now);
const struct kite_simlink_stats *kite_simlink_stats(const struct kite_simlink *link);

/* A world: stacks and links stepped together on one virtual clock. */
#define KITE_SIM_MAX_STACKS 8
#define KITE_SIM_MAX_LINKS 4

struct kite_sim {
    kite_time_ms now;
    struct kite_stack *stacks[KITE_SIM_MAX_STACKS];
    struct kite_simlink *links[KITE_SIM_MAX_LINKS];
    unsigned n_stacks, n_links;
};

void kite_sim_init(struct kite_sim *sim, kite_time_ms start);
void kite_sim_add_stack(struct kite_sim *sim, struct kite_stack *stack);
void kite_sim_add_link(struct kite_sim *sim, struct kite_simlink *link);
/** Earliest deadline of any stack or link (KITE_TIME_NEVER if all idle). */
kite_time_ms kite_sim_next_deadline(const struct kite_sim *sim);
/**
 * Advance to the next event (not past limit), deliver frames and poll every
 * stack. Returns false when nothing is pending before limit (time set to limit).
 */
bool kite_sim_step(struct kite_sim *sim, kite_time_ms limit);
/** Step until done(ctx) is true or time passes limit; returns done's last value. */
bool kite_sim_run_until(struct kite_sim *sim, kite_time_ms limit, bool (*done)(void *ctx),
                        void *ctx);

#endif
