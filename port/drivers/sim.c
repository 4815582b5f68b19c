/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Simulated Ethernet links and a virtual-time world (host port).
 *
 * A link behaves like a hub: every frame a netif sends is copied once per
 * other attached netif, and each copy meets its own seeded faults (loss,
 * jitter, reordering, corruption, duplication), as each receiver of a shared
 * medium would. Copies wait in a list sorted by due time until
 * kite_simlink_deliver() hands them to the receiving stack. The fault
 * generator lives in the link, so a run is reproducible from its seed and
 * independent of any other link or stack.
 */
#include "kite/port/sim.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "kite/pbuf.h"
#include "kite/stack.h"

/* Frames delivered by one kite_simlink_deliver() call at most: a pair of
 * stacks answering each other at zero delay must not hang the caller. */
#define SIMLINK_DELIVER_BURST 4096u
/* Rounds of poll + deliver at one instant before time is allowed to move. */
#define SIM_SETTLE_ROUNDS 64u
/* Steps in a row that do not advance time before run_until gives up. */
#define SIM_STUCK_STEPS 1000u

#define PPM 1000000u

struct sim_port {
    struct sim_port *next;
    struct kite_netif *netif;
};

struct sim_frame {
    struct sim_frame *next;
    kite_time_ms due;
    uint64_t seq; /* ties on due keep sending order */
    struct kite_netif *dst;
    uint16_t len;
    uint8_t data[];
};

struct kite_simlink {
    struct kite_simlink_config cfg;
    uint64_t rng;
    uint64_t next_seq;
    struct sim_port *ports;
    struct sim_frame *frames; /* sorted by (due, seq) */
    struct kite_simlink_stats stats;
};

/* splitmix64: tiny, full period, and good enough for fault decisions. */
static uint64_t rng_next(struct kite_simlink *link)
{
    uint64_t z = (link->rng += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* True with probability ppm / 1e6. */
static bool rng_chance(struct kite_simlink *link, uint32_t ppm)
{
    if (ppm == 0)
        return false;
    return (uint32_t)((rng_next(link) >> 32) % PPM) < ppm;
}

/* Uniform in 0..max inclusive. */
static uint32_t rng_upto(struct kite_simlink *link, uint32_t max)
{
    if (max == 0)
        return 0;
    return (uint32_t)((rng_next(link) >> 32) % ((uint64_t)max + 1u));
}

struct kite_simlink *kite_simlink_new(const struct kite_simlink_config *cfg)
{
    struct kite_simlink *link = calloc(1, sizeof *link);
    if (link == NULL)
        return NULL;
    if (cfg != NULL)
        link->cfg = *cfg;
    link->rng = link->cfg.seed;
    return link;
}

void kite_simlink_free(struct kite_simlink *link)
{
    if (link == NULL)
        return;
    while (link->frames != NULL) {
        struct sim_frame *f = link->frames;
        link->frames = f->next;
        free(f);
    }
    while (link->ports != NULL) {
        struct sim_port *port = link->ports;
        link->ports = port->next;
        free(port);
    }
    free(link);
}

void kite_simlink_configure(struct kite_simlink *link, const struct kite_simlink_config *cfg)
{
    uint64_t seed = link->cfg.seed;
    link->cfg = *cfg;
    link->cfg.seed = seed;
}

static void frame_insert(struct kite_simlink *link, struct sim_frame *f)
{
    struct sim_frame **pp = &link->frames;
    f->seq = link->next_seq++;
    while (*pp != NULL && (*pp)->due <= f->due)
        pp = &(*pp)->next;
    f->next = *pp;
    *pp = f;
}

static struct sim_frame *frame_new(struct kite_netif *dst, const uint8_t *data, uint16_t len,
                                   kite_time_ms due)
{
    struct sim_frame *f = malloc(sizeof *f + len);
    if (f == NULL)
        return NULL;
    f->next = NULL;
    f->due = due;
    f->dst = dst;
    f->len = len;
    memcpy(f->data, data, len);
    return f;
}

/* One copy of a frame towards one receiver, with that copy's faults. */
static void schedule_copy(struct kite_simlink *link, struct kite_netif *dst, const uint8_t *data,
                          uint16_t len, kite_time_ms now)
{
    if (rng_chance(link, link->cfg.loss_ppm)) {
        link->stats.lost++;
        return;
    }
    unsigned copies = 1;
    if (rng_chance(link, link->cfg.duplicate_ppm)) {
        link->stats.duplicated++;
        copies = 2;
    }
    for (unsigned i = 0; i < copies; i++) {
        kite_time_ms due = now + link->cfg.delay_ms + rng_upto(link, link->cfg.jitter_ms);
        if (rng_chance(link, link->cfg.reorder_ppm)) {
            link->stats.reordered++;
            due += link->cfg.reorder_delay_ms;
        }
        struct sim_frame *f = frame_new(dst, data, len, due);
        if (f == NULL)
            return;
        if (len > 0 && rng_chance(link, link->cfg.corrupt_ppm)) {
            uint32_t bit = rng_upto(link, (uint32_t)len * 8u - 1u);
            f->data[bit / 8u] ^= (uint8_t)(1u << (bit % 8u));
            link->stats.corrupted++;
        }
        frame_insert(link, f);
    }
}

/* Driver transmit. The caller keeps p, so the bytes are copied out now. */
static enum kite_err simlink_output(struct kite_netif *netif, struct kite_pbuf *p)
{
    struct kite_simlink *link = netif->driver;
    if (link == NULL)
        return KITE_ERR_NETIF; /* detached: the cable is out */
    uint16_t len = p->tot_len;
    uint8_t *data = malloc(len > 0 ? len : 1u);
    if (data == NULL)
        return KITE_ERR_MEM;
    len = kite_pbuf_copy_out(p, data, len, 0);
    link->stats.sent++;
    kite_time_ms now = kite_stack_now(netif->stack);
    for (struct sim_port *port = link->ports; port != NULL; port = port->next) {
        if (port->netif != netif)
            schedule_copy(link, port->netif, data, len, now);
    }
    free(data);
    return KITE_ERR_OK;
}

enum kite_err kite_simlink_add_netif(struct kite_simlink *link, struct kite_stack *stack,
                                     struct kite_netif *netif, const char *name,
                                     const uint8_t mac[6])
{
    struct sim_port *port = calloc(1, sizeof *port);
    if (port == NULL)
        return KITE_ERR_MEM;
    enum kite_err err =
        kite_netif_add_ethernet(stack, netif, name, mac, 1500, simlink_output, link);
    if (err != KITE_ERR_OK) {
        free(port);
        return err;
    }
    port->netif = netif;
    port->next = link->ports;
    link->ports = port;
    kite_netif_set_up(netif, true);
    return KITE_ERR_OK;
}

void kite_simlink_detach(struct kite_simlink *link, struct kite_netif *netif)
{
    for (struct sim_port **pp = &link->ports; *pp != NULL; pp = &(*pp)->next) {
        if ((*pp)->netif == netif) {
            struct sim_port *port = *pp;
            *pp = port->next;
            free(port);
            /* Unplugged: no carrier, and no pointer to a link that may be
             * freed before the netif is removed from its stack. */
            netif->driver = NULL;
            if (netif->stack != NULL)
                kite_netif_set_link_up(netif, false);
            break;
        }
    }
    /* The netif may be freed after this: nothing in flight may point at it. */
    struct sim_frame **fp = &link->frames;
    while (*fp != NULL) {
        struct sim_frame *f = *fp;
        if (f->dst == netif) {
            *fp = f->next;
            free(f);
        } else {
            fp = &f->next;
        }
    }
}

kite_time_ms kite_simlink_next_deadline(const struct kite_simlink *link)
{
    return link->frames != NULL ? link->frames->due : KITE_TIME_NEVER;
}

static void deliver_one(struct kite_simlink *link, struct sim_frame *f)
{
    struct kite_stack *stack = f->dst->stack;
    /* A receiving driver fills pool buffers, as real Ethernet drivers do. */
    struct kite_pbuf *p = kite_pbuf_alloc_rx(stack, f->len);
    if (p == NULL) {
        link->stats.rx_no_mem++;
        return;
    }
    if (kite_pbuf_copy_in(p, f->data, f->len, 0) != KITE_ERR_OK) {
        kite_pbuf_free(stack, p);
        link->stats.rx_no_mem++;
        return;
    }
    link->stats.delivered++;
    kite_netif_input(f->dst, p);
}

void kite_simlink_deliver(struct kite_simlink *link, kite_time_ms now)
{
    /* Pop one frame at a time: input may make the receiver send, which
     * inserts new frames (possibly due now) into the list. */
    for (unsigned n = 0; n < SIMLINK_DELIVER_BURST; n++) {
        struct sim_frame *f = link->frames;
        if (f == NULL || f->due > now)
            return;
        link->frames = f->next;
        deliver_one(link, f);
        free(f);
    }
}

const struct kite_simlink_stats *kite_simlink_stats(const struct kite_simlink *link)
{
    return &link->stats;
}

/* ---- World ------------------------------------------------------------ */

void kite_sim_init(struct kite_sim *sim, kite_time_ms start)
{
    memset(sim, 0, sizeof *sim);
    sim->now = start;
}

void kite_sim_add_stack(struct kite_sim *sim, struct kite_stack *stack)
{
    assert(sim->n_stacks < KITE_SIM_MAX_STACKS);
    if (sim->n_stacks >= KITE_SIM_MAX_STACKS)
        return;
    sim->stacks[sim->n_stacks++] = stack;
    /* Bring its clock to the world's so the application sends at sim time. */
    if (kite_stack_now(stack) < sim->now)
        kite_stack_poll(stack, sim->now);
}

void kite_sim_add_link(struct kite_sim *sim, struct kite_simlink *link)
{
    assert(sim->n_links < KITE_SIM_MAX_LINKS);
    if (sim->n_links >= KITE_SIM_MAX_LINKS)
        return;
    sim->links[sim->n_links++] = link;
}

kite_time_ms kite_sim_next_deadline(const struct kite_sim *sim)
{
    kite_time_ms next = KITE_TIME_NEVER;
    for (unsigned i = 0; i < sim->n_stacks; i++) {
        kite_time_ms d = kite_stack_next_deadline(sim->stacks[i]);
        if (d < next)
            next = d;
    }
    for (unsigned i = 0; i < sim->n_links; i++) {
        kite_time_ms d = kite_simlink_next_deadline(sim->links[i]);
        if (d < next)
            next = d;
    }
    return next;
}

static void poll_all(struct kite_sim *sim)
{
    for (unsigned i = 0; i < sim->n_stacks; i++)
        kite_stack_poll(sim->stacks[i], sim->now);
}

/*
 * Run everything due at sim->now. Stacks are polled first so their clocks
 * read now when frames arrive (replies are stamped with the right time);
 * a delivered frame can make a stack send or arm a timer due at this same
 * instant, hence the rounds.
 */
static void settle(struct kite_sim *sim)
{
    for (unsigned round = 0; round < SIM_SETTLE_ROUNDS; round++) {
        poll_all(sim);
        /* The frames due at one instant reach each stack as one receive
         * burst, as a driver's read loop hands them over. */
        for (unsigned i = 0; i < sim->n_stacks; i++)
            kite_stack_burst_begin(sim->stacks[i]);
        for (unsigned i = 0; i < sim->n_links; i++)
            kite_simlink_deliver(sim->links[i], sim->now);
        for (unsigned i = 0; i < sim->n_stacks; i++)
            kite_stack_burst_end(sim->stacks[i]);
        if (kite_sim_next_deadline(sim) > sim->now)
            return;
    }
}

bool kite_sim_step(struct kite_sim *sim, kite_time_ms limit)
{
    kite_time_ms next = kite_sim_next_deadline(sim);
    if (next > limit) {
        if (limit > sim->now)
            sim->now = limit;
        poll_all(sim);
        return false;
    }
    if (next > sim->now)
        sim->now = next;
    settle(sim);
    return true;
}

bool kite_sim_run_until(struct kite_sim *sim, kite_time_ms limit, bool (*done)(void *ctx),
                        void *ctx)
{
    unsigned stuck = 0;
    while (!done(ctx)) {
        kite_time_ms before = sim->now;
        if (!kite_sim_step(sim, limit))
            return done(ctx);
        /* Something due forever at one instant is a livelock: give up. */
        stuck = sim->now == before ? stuck + 1u : 0u;
        if (stuck > SIM_STUCK_STEPS)
            return done(ctx);
    }
    return true;
}
