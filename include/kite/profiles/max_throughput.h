/* SPDX-License-Identifier: BSD-3-Clause */
/* Profile "max-throughput": big pools and TCP windows for hosts and fast links.
 * Select with -DKITE_PROFILE_MAX_THROUGHPUT (CMake: -DKITE_PROFILE=max_throughput). */
#ifndef KITE_PROFILE_MAX_THROUGHPUT_H
#define KITE_PROFILE_MAX_THROUGHPUT_H
#ifndef KITE_PBUF_POOL_COUNT /* (a build may choose its own: kite-run's) */
#define KITE_PBUF_POOL_COUNT 1024
#endif
#define KITE_PBUF_POOL_BUFSIZE 1536 /* one block per full-size frame */
#define KITE_PBUF_RAM_COUNT 64
#define KITE_PBUF_REF_COUNT 256
#ifndef KITE_TCP_PCB_COUNT /* (a build may choose its own: kite-run's) */
#define KITE_TCP_PCB_COUNT 32
#endif
#define KITE_TCP_SND_BUF (512u * 1024u)
#ifndef KITE_TCP_RCV_BUF /* (a build may choose its own: kite-run's) */
#define KITE_TCP_RCV_BUF (512u * 1024u)
#endif
#define KITE_TCP_DELACK_MS 40u
#define KITE_TCP_CUBIC 1
#define KITE_TCP_ACK_BURST 8 /* one ACK per TAP read burst and connection */
#define KITE_TSO 1           /* TAP offload: 64 KiB super-segments on transmit */
#define KITE_CHECKS 0
#define KITE_IP_REASS_DATAGRAMS 8
#define KITE_PMTU_ENTRIES 16
#ifndef KITE_TCP_LISTEN_COUNT /* (a build may choose its own: kite-run's) */
#define KITE_TCP_LISTEN_COUNT 16
#endif
#define KITE_NETCONN_UDP_SEND_BLOCKS 1 /* a host: wait for buffers rather than fail */
#define KITE_TCP_BUF_UNIT 64u          /* buffers up to 4 MiB */
#define KITE_TCPIP_MBOX_SIZE 256 /* a window of full-size frames queued for the stack thread */
#ifndef KITE_OS_SPIN_US          /* (a build may choose its own) */
#define KITE_OS_SPIN_US 50u      /* a host with spare cores: poll before sleeping (port/os/posix) */
#endif
#define KITE_IGMP_GROUP_COUNT 32 /* a host: many programs' groups (kite-run) */
#define KITE_IGMP_MEMBER_COUNT 64
#define KITE_IGMP_MAX_SOURCES 16
#define KITE_IGMP_LOOP_QUEUE_LEN 16
#endif
