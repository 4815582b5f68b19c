/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Named counters, per protocol. Every input drop increments exactly one
 * drop_* counter, so "why was my packet dropped" always has an answer.
 * The lists are X-macros so tools can print every counter by name.
 */
#ifndef KITE_STATS_H
#define KITE_STATS_H

#include <stdint.h>

// clang-format off
#define KITE_STATS_ETH(X)                                                      \
    X(rx) X(tx) X(tx_fail) X(drop_short) X(drop_not_for_us) X(drop_unknown_type)   \
    X(drop_netif_down) X(drop_mcast_filtered)

#define KITE_STATS_ARP(X)                                                      \
    X(rx) X(tx) X(requests_sent) X(replies_sent) X(gratuitous_sent) X(replies_rx) \
    X(cache_updates) X(cache_evictions) X(entries_expired) X(queued)          \
    X(drop_malformed) X(drop_unsupported) X(drop_not_for_us) X(drop_bad_sender) \
    X(drop_queue_full) X(drop_unresolved) X(drop_no_entry) X(drop_no_mem)

#define KITE_STATS_IPV4(X)                                                     \
    X(rx) X(tx) X(delivered) X(drop_short) X(drop_bad_version) X(drop_bad_hlen)  \
    X(drop_bad_len) X(drop_bad_checksum) X(drop_bad_src) X(drop_fragment)     \
    X(drop_not_for_us) X(drop_no_proto) X(drop_netif_down) X(drop_no_route)    \
    X(drop_no_mem) X(drop_too_big) X(drop_options) X(drop_martian) X(drop_ll_broadcast) \
    X(tx_fail) X(frag_datagrams) X(frag_sent) X(frag_fail) X(reass_fragments) X(reass_ok)     \
    X(drop_reass_timeout) X(drop_reass_overlap) X(drop_reass_duplicate) X(drop_reass_bad)   \
    X(drop_reass_too_big) X(drop_reass_full) X(drop_reass_evicted) X(pmtu_updates)          \
    X(pmtu_expired) X(pmtu_unchanged) X(drop_pmtu_bogus) X(forwarded) X(drop_fwd_ttl) X(drop_fwd_options) \
    X(drop_mcast_filtered) X(mcast_looped) X(drop_loop_full) X(drop_loop_no_mem)

#define KITE_STATS_ICMP4(X)                                                    \
    X(rx) X(tx) X(echo_requests) X(echo_replies_sent) X(echo_replies_rx) X(errors_rx) \
    X(unreach_sent) X(unreach_rate_limited) X(drop_short) X(drop_bad_checksum) \
    X(drop_unknown_type) X(drop_broadcast_echo) X(drop_no_mem) X(drop_bad_error)

#define KITE_STATS_UDP(X)                                                      \
    X(rx) X(tx) X(delivered) X(drop_short) X(drop_bad_len) X(drop_bad_checksum)  \
    X(drop_no_port) X(drop_broadcast_no_port) X(drop_no_mem) X(icmp_errors_rx) \
    X(tx_fail)

#define KITE_STATS_TCP(X)                                                      \
    X(rx) X(tx) X(retransmits) X(fast_retransmits) X(rto_timeouts) X(active_opens) \
    X(passive_opens) X(established) X(resets_sent) X(resets_rx) X(challenge_acks) \
    X(challenge_acks_limited) X(syn_cookies_sent) X(syn_cookies_ok) X(tw_recycled) X(half_open_evicted) X(idle_restarts) X(loss_block_none) X(ecn_ce_rx) X(ecn_reductions) \
    X(ooo_queued) X(dup_acks) X(sack_recoveries) X(keepalive_drops) X(persist_probes) X(write_blocked) X(ooo_reclaimed) \
    X(drop_short) X(drop_bad_checksum) X(drop_malformed) X(drop_bad_addr) X(drop_no_pcb) \
    X(drop_out_of_window) X(drop_paws) X(drop_bad_ack) X(drop_no_mem) X(drop_ooo_full) \
    X(drop_listen_no_pcb) X(drop_listen_full) X(drop_bad_cookie) X(drop_after_close) X(drop_unexpected)

/* Address conflict detection and AutoIP (RFC 5227, RFC 3927): no drops, the
 * ARP packets go on to ARP's own input. */
#define KITE_STATS_ACD(X)                                                      \
    X(probes_sent) X(conflicts_probing) X(conflicts_in_use) X(defends_sent)    \
    X(addrs_bound) X(addrs_given_up) X(rate_limited) X(autoip_candidates)

#define KITE_STATS_IGMP(X)                                                     \
    X(rx) X(tx) X(queries_v1) X(queries_v2) X(queries_v3) X(reports_rx)          \
    X(reports_suppressed) X(reports_v1_sent) X(reports_v2_sent) X(reports_v3_sent) \
    X(leaves_sent) X(drop_short) X(drop_bad_checksum) X(drop_bad_query)          \
    X(drop_unknown_type) X(drop_no_mem)

#define KITE_STATS_DECLARE_(name) uint32_t name;

struct kite_stats_eth { KITE_STATS_ETH(KITE_STATS_DECLARE_) };
struct kite_stats_arp { KITE_STATS_ARP(KITE_STATS_DECLARE_) };
struct kite_stats_ipv4 { KITE_STATS_IPV4(KITE_STATS_DECLARE_) };
struct kite_stats_icmp4 { KITE_STATS_ICMP4(KITE_STATS_DECLARE_) };
struct kite_stats_udp { KITE_STATS_UDP(KITE_STATS_DECLARE_) };
struct kite_stats_tcp { KITE_STATS_TCP(KITE_STATS_DECLARE_) };
struct kite_stats_acd { KITE_STATS_ACD(KITE_STATS_DECLARE_) };
struct kite_stats_igmp { KITE_STATS_IGMP(KITE_STATS_DECLARE_) };

/* X(group-name, list) over every group, for printing. */
#define KITE_STATS_GROUPS(X)                                                   \
    X(eth, KITE_STATS_ETH) X(arp, KITE_STATS_ARP) X(ipv4, KITE_STATS_IPV4)      \
    X(icmp4, KITE_STATS_ICMP4) X(udp, KITE_STATS_UDP) X(tcp, KITE_STATS_TCP)     \
    X(acd, KITE_STATS_ACD) X(igmp, KITE_STATS_IGMP)

// clang-format on
struct kite_stats {
    struct kite_stats_eth eth;
    struct kite_stats_arp arp;
    struct kite_stats_ipv4 ipv4;
    struct kite_stats_icmp4 icmp4;
    struct kite_stats_udp udp;
    struct kite_stats_tcp tcp;
    struct kite_stats_acd acd;
    struct kite_stats_igmp igmp;
};

struct kite_stack;

/** Call fn once per counter ("ipv4", "drop_bad_checksum", value). */
void kite_stats_foreach(const struct kite_stack *stack,
                        void (*fn)(void *ctx, const char *group, const char *name, uint32_t value),
                        void *ctx);

#endif
