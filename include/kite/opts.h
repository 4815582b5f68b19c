/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every kite compile-time option, with its default and a one-line doc.
 *
 * Override any of them from a user kite_config.h (define KITE_HAVE_CONFIG_H and
 * put it on the include path) or with -D on the compiler command line. Options
 * are plain integers; 0 disables a feature.
 */
#ifndef KITE_OPTS_H
#define KITE_OPTS_H

#ifdef KITE_HAVE_CONFIG_H
#include "kite_config.h"
#endif

/* Profiles are option sets (DESIGN.md 7); a user's own settings above win. */
#if defined(KITE_PROFILE_MAX_THROUGHPUT)
#include "kite/profiles/max_throughput.h"
#elif defined(KITE_PROFILE_MIN_RAM)
#include "kite/profiles/min_ram.h"
#endif

/* ---- Protocols -------------------------------------------------------- */

/** Build IPv4 (and ARP, ICMPv4). */
#ifndef KITE_IPV4
#define KITE_IPV4 1
#endif

/** Build IPv6. Not yet implemented: when 0, addresses are 4 bytes. */
#ifndef KITE_IPV6
#define KITE_IPV6 0
#endif

/** Build UDP and its raw callback API. */
#ifndef KITE_UDP
#define KITE_UDP 1
#endif

/** Build raw IP pcbs (kite/raw.h; netconn and SOCK_RAW sockets over them). */
#ifndef KITE_RAW
#define KITE_RAW 1
#endif

/** Number of raw IP pcbs. */
#ifndef KITE_RAW_PCB_COUNT
#define KITE_RAW_PCB_COUNT 4
#endif

/** Build TCP and its raw callback API. */
#ifndef KITE_TCP
#define KITE_TCP 1
#endif

/* ---- Memory pools (all sizes fixed at compile time) ------------------- */

/** Number of PBUF_POOL blocks (received frames, chained for big packets). */
#ifndef KITE_PBUF_POOL_COUNT
#define KITE_PBUF_POOL_COUNT 32
#endif

/** Payload bytes in one PBUF_POOL block (a frame larger than this is chained). */
#ifndef KITE_PBUF_POOL_BUFSIZE
#define KITE_PBUF_POOL_BUFSIZE 592
#endif

/** Number of PBUF_RAM blocks (contiguous buffers built by the stack). */
#ifndef KITE_PBUF_RAM_COUNT
#define KITE_PBUF_RAM_COUNT 12
#endif

/** Largest PBUF_RAM allocation in bytes, headers included (>= link MTU + 18). */
#ifndef KITE_PBUF_RAM_BUFSIZE
#define KITE_PBUF_RAM_BUFSIZE 1536
#endif

/** Number of PBUF_REF/PBUF_ROM headers (payload lives in caller memory). */
#ifndef KITE_PBUF_REF_COUNT
#define KITE_PBUF_REF_COUNT 16
#endif

/** Number of UDP protocol control blocks. */
#ifndef KITE_UDP_PCB_COUNT
#define KITE_UDP_PCB_COUNT 8
#endif

/** Number of TCP protocol control blocks (listening ones included). */
#ifndef KITE_TCP_PCB_COUNT
#define KITE_TCP_PCB_COUNT 8
#endif

/* ---- Link layer ------------------------------------------------------- */

/** Entries in the ARP cache. */
#ifndef KITE_ARP_TABLE_SIZE
#define KITE_ARP_TABLE_SIZE 10
#endif

/** Packets queued per unresolved ARP entry; the oldest is dropped beyond this. */
#ifndef KITE_ARP_QUEUE_LEN
#define KITE_ARP_QUEUE_LEN 3
#endif

/** Lifetime of a dynamic ARP entry in milliseconds (RFC 1122 2.3.2.1 aging). */
#ifndef KITE_ARP_MAX_AGE_MS
#define KITE_ARP_MAX_AGE_MS 300000u
#endif

/** Time before expiry at which a used entry is refreshed with a unicast request. */
#ifndef KITE_ARP_REFRESH_MS
#define KITE_ARP_REFRESH_MS 15000u
#endif

/** Interval between ARP request retries in milliseconds. */
#ifndef KITE_ARP_RETRY_MS
#define KITE_ARP_RETRY_MS 1000u
#endif

/** ARP requests sent for one address before queued packets are dropped. */
#ifndef KITE_ARP_MAX_TRIES
#define KITE_ARP_MAX_TRIES 4
#endif

/** Gratuitous ARP announcements sent when an address is set (RFC 5227 2.3). */
#ifndef KITE_ARP_GRATUITOUS_COUNT
#define KITE_ARP_GRATUITOUS_COUNT 2
#endif

/** Interval between gratuitous ARP announcements in milliseconds. */
#ifndef KITE_ARP_GRATUITOUS_INTERVAL_MS
#define KITE_ARP_GRATUITOUS_INTERVAL_MS 2000u
#endif

/* ---- Address conflict detection (RFC 5227) and AutoIP (RFC 3927) ------ */
/* Announcements after a successful probe are ARP's gratuitous ones above:
 * KITE_ARP_GRATUITOUS_COUNT / _INTERVAL_MS are RFC 5227's ANNOUNCE_NUM (2)
 * and ANNOUNCE_INTERVAL (2 s). docs/acd.md. */

/** Build address conflict detection (kite/acd.h: kite_acd_start, RFC 5227). */
#ifndef KITE_ACD
#define KITE_ACD 1
#endif

/** RFC 5227 PROBE_WAIT: longest random delay before the first probe (ms). */
#ifndef KITE_ACD_PROBE_WAIT_MS
#define KITE_ACD_PROBE_WAIT_MS 1000u
#endif

/** RFC 5227 PROBE_NUM: probes sent before an address is taken. */
#ifndef KITE_ACD_PROBE_NUM
#define KITE_ACD_PROBE_NUM 3u
#endif

/** RFC 5227 PROBE_MIN: shortest gap between two probes (ms). */
#ifndef KITE_ACD_PROBE_MIN_MS
#define KITE_ACD_PROBE_MIN_MS 1000u
#endif

/** RFC 5227 PROBE_MAX: longest gap between two probes (ms). */
#ifndef KITE_ACD_PROBE_MAX_MS
#define KITE_ACD_PROBE_MAX_MS 2000u
#endif

/** RFC 5227 ANNOUNCE_WAIT: quiet time after the last probe before the address is used (ms). */
#ifndef KITE_ACD_ANNOUNCE_WAIT_MS
#define KITE_ACD_ANNOUNCE_WAIT_MS 2000u
#endif

/** RFC 5227 MAX_CONFLICTS: conflicts after which new probing is rate limited. */
#ifndef KITE_ACD_MAX_CONFLICTS
#define KITE_ACD_MAX_CONFLICTS 10u
#endif

/** RFC 5227 RATE_LIMIT_INTERVAL: delay before probing once MAX_CONFLICTS is reached (ms). */
#ifndef KITE_ACD_RATE_LIMIT_INTERVAL_MS
#define KITE_ACD_RATE_LIMIT_INTERVAL_MS 60000u
#endif

/** RFC 5227 DEFEND_INTERVAL: a second conflict within it gives the address up (ms). */
#ifndef KITE_ACD_DEFEND_INTERVAL_MS
#define KITE_ACD_DEFEND_INTERVAL_MS 10000u
#endif

/** Build IPv4 link-local autoconfiguration (kite/autoip.h, RFC 3927); needs KITE_ACD. */
#ifndef KITE_AUTOIP
#define KITE_AUTOIP 1
#endif

#if KITE_AUTOIP && !KITE_ACD
#error "KITE_AUTOIP needs KITE_ACD"
#endif
#if KITE_ACD_PROBE_NUM < 1 || KITE_ACD_PROBE_MAX_MS < KITE_ACD_PROBE_MIN_MS
#error "KITE_ACD_PROBE_NUM must be >= 1 and KITE_ACD_PROBE_MAX_MS >= KITE_ACD_PROBE_MIN_MS"
#endif

/* ---- IPv4 / ICMPv4 ---------------------------------------------------- */

/** Default TTL of outgoing IPv4 packets (RFC 1700 recommends 64). */
#ifndef KITE_IPV4_DEFAULT_TTL
#define KITE_IPV4_DEFAULT_TTL 64
#endif

/** ICMP errors (e.g. port unreachable) allowed per second, token bucket rate. */
#ifndef KITE_ICMP4_ERROR_RATE
#define KITE_ICMP4_ERROR_RATE 10
#endif

/** ICMP error burst size (token bucket depth). */
#ifndef KITE_ICMP4_ERROR_BURST
#define KITE_ICMP4_ERROR_BURST 10
#endif

/* ---- IPv4 fragments and path MTU (docs/ipv4.md) ------------------------ */

/** Fragment outgoing datagrams larger than the path MTU (RFC 791 2.3, lwIP's
 * IP_FRAG). 0: such a datagram fails with KITE_ERR_BUF (EMSGSIZE). */
#ifndef KITE_IP_FRAG
#define KITE_IP_FRAG 1
#endif

/** Reassemble received fragments (RFC 791 3.2, lwIP's IP_REASSEMBLY).
 * 0: every fragment is dropped and counted (ipv4.drop_fragment). */
#ifndef KITE_IP_REASSEMBLY
#define KITE_IP_REASSEMBLY 1
#endif

/** Datagrams under reassembly at once; a new one evicts the oldest. */
#ifndef KITE_IP_REASS_DATAGRAMS
#define KITE_IP_REASS_DATAGRAMS 2
#endif

/** pbufs that fragments under reassembly may hold together (so fragments can
 * never take every receive buffer); the oldest datagram is given up first. */
#ifndef KITE_IP_REASS_MAX_PBUFS
#define KITE_IP_REASS_MAX_PBUFS (KITE_PBUF_POOL_COUNT * 3u / 4u)
#endif

/** How long a datagram may take to arrive whole, ms (RFC 791's 15 s). */
#ifndef KITE_IP_REASS_TIMEOUT_MS
#define KITE_IP_REASS_TIMEOUT_MS 15000u
#endif

/** Largest reassembled datagram, IP header included (RFC 1122 3.3.2: at
 * least 576; 65535 is the most IPv4 can carry). */
#ifndef KITE_IP_REASS_MAX_SIZE
#define KITE_IP_REASS_MAX_SIZE 65535u
#endif

/** Build IPv4 forwarding between netifs (RFC 1812); a stack forwards only
 * once kite_ipv4_set_forwarding() turns it on. */
#ifndef KITE_IP_FORWARD
#define KITE_IP_FORWARD 1
#endif

/** Path MTU discovery (RFC 1191): TCP sends with DF and follows ICMP
 * "fragmentation needed"; other datagrams are fragmented to the learned MTU. */
#ifndef KITE_PMTU
#define KITE_PMTU 1
#endif

/** The smallest path MTU TCP accepts from an ICMP report (Linux's min_pmtu):
 * a forged report cannot shrink segments below this. */
#ifndef KITE_PMTU_MIN
#define KITE_PMTU_MIN 552u
#endif

/** Destinations whose path MTU is remembered (the least recently updated
 * entry is reused). */
#ifndef KITE_PMTU_ENTRIES
#define KITE_PMTU_ENTRIES 4
#endif

/** A learned path MTU is forgotten after this long, ms, so a larger MTU is
 * found again (RFC 1191 6.3: "no less than 10 minutes"). */
#ifndef KITE_PMTU_TIMEOUT_MS
#define KITE_PMTU_TIMEOUT_MS 600000u
#endif

/* ---- IGMP and multicast reception (docs/multicast.md) ------------------ */

/** Build IGMP (v1, v2 and v3 host side: RFC 1112, 2236, 3376) with per-netif
 * group membership, source filters, multicast loopback and the reception
 * filter; 0 leaves it out: every group is then accepted and joins fail. */
#ifndef KITE_IGMP
#define KITE_IGMP 1
#endif

/** Groups the netifs of a stack are members of at once (224.0.0.1, which
 * every netif always is, takes none); a group leaving (RFC 3376 5.1
 * retransmissions) keeps its entry until its last report. */
#ifndef KITE_IGMP_GROUP_COUNT
#define KITE_IGMP_GROUP_COUNT 8
#endif

/** Memberships: one per socket (or raw-API owner), netif and group joined. */
#ifndef KITE_IGMP_MEMBER_COUNT
#define KITE_IGMP_MEMBER_COUNT 8
#endif

/** Sources one membership's filter and one group's merged filter hold
 * (RFC 3376 3.1 source lists; IP_ADD_SOURCE_MEMBERSHIP beyond: ENOBUFS). */
#ifndef KITE_IGMP_MAX_SOURCES
#define KITE_IGMP_MAX_SOURCES 4
#endif

/** Multicast datagrams looped back to local members (IP_MULTICAST_LOOP)
 * waiting for the next poll; more are not looped (ipv4.drop_loop_full). */
#ifndef KITE_IGMP_LOOP_QUEUE_LEN
#define KITE_IGMP_LOOP_QUEUE_LEN 4
#endif

/** Robustness Variable until a v3 querier says otherwise (RFC 3376 8.1). */
#ifndef KITE_IGMP_ROBUSTNESS
#define KITE_IGMP_ROBUSTNESS 2
#endif

/** Unsolicited Report Interval in v3 mode, ms (RFC 3376 8.11: 1 s). */
#ifndef KITE_IGMP_V3_UNSOLICITED_MS
#define KITE_IGMP_V3_UNSOLICITED_MS 1000u
#endif

/** Unsolicited Report Interval in v1/v2 mode, ms (RFC 2236 8.10: 10 s). */
#ifndef KITE_IGMP_V2_UNSOLICITED_MS
#define KITE_IGMP_V2_UNSOLICITED_MS 10000u
#endif

/* ---- UDP -------------------------------------------------------------- */

/** First port of the ephemeral range (RFC 6335 8.1.2). */
#ifndef KITE_EPHEMERAL_PORT_MIN
#define KITE_EPHEMERAL_PORT_MIN 49152u
#endif

/** Last port of the ephemeral range. */
#ifndef KITE_EPHEMERAL_PORT_MAX
#define KITE_EPHEMERAL_PORT_MAX 65535u
#endif

/** Broadcast and multicast datagrams reach every UDP pcb bound to their port
 * with KITE_UDP_FLAG_REUSEADDR (SO_REUSEADDR), not only the best match
 * (ESP-IDF's CONFIG_LWIP_SO_REUSE_RXTOALL). */
#ifndef KITE_UDP_REUSE_RXTOALL
#define KITE_UDP_REUSE_RXTOALL 1
#endif

/* ---- TCP ------------------------------------------------------------- */

/** Default send buffer per connection in bytes (unacknowledged + unsent data). */
#ifndef KITE_TCP_SND_BUF
#define KITE_TCP_SND_BUF 8192u
#endif

/** Default receive buffer (largest window offered) per connection in bytes. */
#ifndef KITE_TCP_RCV_BUF
#define KITE_TCP_RCV_BUF 8192u
#endif

/** Largest MSS TCP advertises and uses, 0 for the route's MTU - 40 (small
 * devices cap it so a segment fits one small buffer, as lwIP's TCP_MSS does). */
#ifndef KITE_TCP_MSS_MAX
#define KITE_TCP_MSS_MAX 0
#endif

/** PBUF_POOL blocks that written TCP data may never take (kept for reception). */
#ifndef KITE_TCP_POOL_RESERVE
#define KITE_TCP_POOL_RESERVE (KITE_PBUF_POOL_COUNT / 4u)
#endif

/** Loss blocks (SACK scoreboard, recovery point, CUBIC state), taken by a
 * connection at its first loss; without one it recovers by timeout alone. */
#ifndef KITE_TCP_LOSS_COUNT
#define KITE_TCP_LOSS_COUNT (KITE_TCP_PCB_COUNT / 2u > 0 ? KITE_TCP_PCB_COUNT / 2u : 1u)
#endif

/** Listening pcbs (a small type of their own, not taken from the TCP pcbs). */
#ifndef KITE_TCP_LISTEN_COUNT
#define KITE_TCP_LISTEN_COUNT 6
#endif

/* The smallest power of two >= x, for 1 <= x <= 65536 (bits smeared down). */
#define KITE_SMEAR1_(x) ((x) | ((x) >> 1))
#define KITE_SMEAR2_(x) (KITE_SMEAR1_(x) | (KITE_SMEAR1_(x) >> 2))
#define KITE_SMEAR4_(x) (KITE_SMEAR2_(x) | (KITE_SMEAR2_(x) >> 4))
#define KITE_SMEAR8_(x) (KITE_SMEAR4_(x) | (KITE_SMEAR4_(x) >> 8))
#define KITE_POW2_AT_LEAST_(x) (KITE_SMEAR8_((x)-1u) + 1u)

/** Buckets of the TCP connection table that demultiplexes segments (a power
 * of two, 2 bytes each): the default, the power of two at least half
 * KITE_TCP_PCB_COUNT, keeps chains about two pcbs long when every pcb is used.
 * Up to 8 pcbs (the default and min_ram profiles) one chain and no hash key:
 * a walk of at most 8, and the small profiles keep their RAM. */
#ifndef KITE_TCP_HASH_BUCKETS
#define KITE_TCP_HASH_BUCKETS                                                                      \
    (KITE_TCP_PCB_COUNT > 8 ? KITE_POW2_AT_LEAST_(KITE_TCP_PCB_COUNT / 2u) : 1u)
#endif

/** Granularity of TCP buffer sizes in bytes (a power of two); buffers are at
 * most 65535 units (1 MiB with the default 16). */
#ifndef KITE_TCP_BUF_UNIT
#define KITE_TCP_BUF_UNIT 16u
#endif

/** Distinct keepalive settings (idle, interval, count) in use at once per stack. */
#ifndef KITE_TCP_KEEPALIVE_SETS
#define KITE_TCP_KEEPALIVE_SETS 4
#endif

/** Period of the poll callback sweep in ms (poll intervals are rounded up to it). */
#ifndef KITE_TCP_POLL_TICK_MS
#define KITE_TCP_POLL_TICK_MS 100u
#endif

/** Maximum segment lifetime in ms; TIME_WAIT lasts 2*MSL (RFC 9293 3.4.2). */
#ifndef KITE_TCP_MSL_MS
#define KITE_TCP_MSL_MS 30000u
#endif

/** Smallest retransmission timeout in ms (RFC 6298 says 1 s; Linux uses 200 ms). */
#ifndef KITE_TCP_RTO_MIN_MS
#define KITE_TCP_RTO_MIN_MS 200u
#endif

/** Largest retransmission timeout in ms (RFC 6298 2.5 allows 60 s). */
#ifndef KITE_TCP_RTO_MAX_MS
#define KITE_TCP_RTO_MAX_MS 60000u
#endif

/** Retransmission timeout before the first RTT sample (RFC 6298 2.1). */
#ifndef KITE_TCP_RTO_INIT_MS
#define KITE_TCP_RTO_INIT_MS 1000u
#endif

/** Retransmissions of a data segment before the connection is dropped (RFC 1122 R2). */
#ifndef KITE_TCP_MAX_RETRIES
#define KITE_TCP_MAX_RETRIES 12
#endif

/** Retransmissions of a SYN before connect fails (RFC 1122 R2 for SYN: >= 3 min total). */
#ifndef KITE_TCP_SYN_RETRIES
#define KITE_TCP_SYN_RETRIES 6
#endif

/** Delayed ACK timeout in ms (RFC 1122 4.2.3.2: at most 500; RFC 9293: 200). */
/** Connections whose every-second-segment ACK (RFC 9293 3.8.6.3) may wait for
 * the end of a receive burst (kite_stack_burst_begin/end), so one ACK covers
 * all the segments a driver read together; 0 acknowledges every second
 * segment at once. Costs a pointer per entry in the stack. */
#ifndef KITE_TCP_ACK_BURST
#define KITE_TCP_ACK_BURST 0
#endif

#ifndef KITE_TCP_DELACK_MS
#define KITE_TCP_DELACK_MS 40u
#endif

/** Congestion control: 0 = NewReno (RFC 5681/6582), 1 = CUBIC (RFC 9438). */
#ifndef KITE_TCP_CUBIC
#define KITE_TCP_CUBIC 0
#endif

/** Initial congestion window in segments (RFC 6928 allows 10). */
#ifndef KITE_TCP_INIT_CWND
#define KITE_TCP_INIT_CWND 10u
#endif

/** Explicit Congestion Notification (RFC 3168): 1 builds it. Connections a
 * listener accepts use it when the peer asks (as Linux and FreeBSD do by
 * default); an active open asks for it after kite_tcp_set_ecn(pcb, true). */
#ifndef KITE_TCP_ECN
#define KITE_TCP_ECN 1
#endif

/** TCP segmentation offload on transmit: on a netif whose driver segments
 * (kite_netif.tso_max), TCP hands over up to 64 KiB of new data as one
 * super-segment whose checksum holds only the pseudo-header sum; the driver
 * (virtio-net GSO on a Linux TAP) cuts it into MSS-sized segments. 0 leaves
 * it out: a microcontroller MAC rarely segments. */
#ifndef KITE_TSO
#define KITE_TSO 0
#endif

/** Challenge ACKs per connection per second, on average: each second draws from [L/2, 3L/2) (RFC
 * 5961 7). */
#ifndef KITE_TCP_CHALLENGE_ACK_LIMIT
#define KITE_TCP_CHALLENGE_ACK_LIMIT 10u
#endif

/** Keep connections whose local address went away (1) instead of aborting them (0). */
#ifndef KITE_TCP_KEEP_ON_ADDR_CHANGE
#define KITE_TCP_KEEP_ON_ADDR_CHANGE 0
#endif

/** Default keepalive idle time in ms when enabled (RFC 1122 4.2.3.6: >= 2 hours). */
#ifndef KITE_TCP_KEEPIDLE_MS
#define KITE_TCP_KEEPIDLE_MS 7200000u
#endif

/* ---- Interfaces and dispatch ---------------------------------------- */

/** Packets waiting in the loopback netif to come back in. */
#ifndef KITE_LOOPIF_QUEUE_LEN
#define KITE_LOOPIF_QUEUE_LEN 16
#endif

/** Ethertype handlers a stack can register (ARP, IPv4, IPv6, ...). */
#ifndef KITE_MAX_ETHERTYPES
#define KITE_MAX_ETHERTYPES 4
#endif

/** IP protocol handlers a stack can register (ICMP, UDP, TCP, IGMP, ...). */
#ifndef KITE_MAX_IP_PROTOS
#define KITE_MAX_IP_PROTOS 6
#endif

/** Handlers told about netif changes (ARP, UDP, TCP, IGMP, and room for one more). */
#ifndef KITE_MAX_NETIF_HOOKS
#define KITE_MAX_NETIF_HOOKS 5
#endif

/* ---- Sequential APIs (src/api/, docs/api.md) ---------------------------- */

/** The OS port under the sequential APIs: 1 for POSIX threads (the build sets
 * it for the host libraries; the portable core never needs it). */
#ifndef KITE_OS_POSIX
#define KITE_OS_POSIX 0
#endif

/** 1: callers take the stack's mutex and run API operations themselves
 * (core locking); 0: they post them to the stack thread's mailbox. */
#ifndef KITE_TCPIP_CORE_LOCKING
#define KITE_TCPIP_CORE_LOCKING 0
#endif

/** Entries of the stack thread's mailbox (API calls and received frames;
 * CONFIG_LWIP_TCPIP_RECVMBOX_SIZE). */
#ifndef KITE_TCPIP_MBOX_SIZE
#define KITE_TCPIP_MBOX_SIZE 32
#endif

/** Mailbox entries (frames, calls) the stack thread runs in a row, when
 * they are queued, before it retries the requests they woke: a burst of
 * segments then wakes a blocked reader once (api/tcpip.c). */
#ifndef KITE_TCPIP_BATCH
#define KITE_TCPIP_BATCH 16u
#endif

/** Stack size of the stack thread in bytes (TCPIP_TASK_STACK_SIZE). */
#ifndef KITE_TCPIP_THREAD_STACK_SIZE
#define KITE_TCPIP_THREAD_STACK_SIZE 16384u
#endif

/** OS port: how long a thread about to sleep on a semaphore or mailbox first
 * polls it, in microseconds (0: never). On a host with spare cores a short
 * spin saves the wake-up latency of each thread hand-off (tens of
 * microseconds on a VM); on a single-core device it only burns time. */
#ifndef KITE_OS_SPIN_US
#define KITE_OS_SPIN_US 0u
#endif

/** Readiness reports (kite_tcpip_set_event_fn, kite_netconn_watch): the stack
 * thread tells a callback whenever a watched netconn's KITE_NC_* events
 * change, as lwIP's netconn event callback does for its select. kite-run
 * mirrors socket readiness into kernel descriptors with it. Costs four bytes
 * per netconn in the stack thread's struct (none in the netconn). */
#ifndef KITE_NETCONN_EVENTS
#define KITE_NETCONN_EVENTS 1
#endif

/** netconns of one stack thread (sockets included: one netconn each). */
#ifndef KITE_NETCONN_COUNT
#define KITE_NETCONN_COUNT 16
#endif

/** Datagrams a UDP netconn queues before it drops (its receive buffer). */
#ifndef KITE_NETCONN_UDP_QUEUE
#define KITE_NETCONN_UDP_QUEUE 8
#endif

/** 1: a UDP send that finds no buffer waits for one (up to SO_SNDTIMEO,
 * retrying every KITE_NETCONN_UDP_RETRY_MS) instead of failing with ENOMEM. */
#ifndef KITE_NETCONN_UDP_SEND_BLOCKS
#define KITE_NETCONN_UDP_SEND_BLOCKS 0
#endif

/** How often a blocked UDP send tries again, ms. */
#ifndef KITE_NETCONN_UDP_RETRY_MS
#define KITE_NETCONN_UDP_RETRY_MS 10u
#endif

/** Sockets of a socket table (CONFIG_LWIP_MAX_SOCKETS); at most KITE_NETCONN_COUNT. */
#ifndef KITE_SOCKET_COUNT
#define KITE_SOCKET_COUNT 10
#endif

/** The first socket number (LWIP_SOCKET_OFFSET). */
#ifndef KITE_SOCKET_OFFSET
#define KITE_SOCKET_OFFSET 0
#endif

/* ---- Debug / checks --------------------------------------------------- */

/** Check internal invariants (pbuf chains, pool membership) at run time. */
#ifndef KITE_CHECKS
#define KITE_CHECKS 1
#endif

#endif /* KITE_OPTS_H */
