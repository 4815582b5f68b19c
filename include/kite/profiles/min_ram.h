/* SPDX-License-Identifier: BSD-3-Clause */
/* Profile "min-RAM": a few kilobytes of pools, one segment in flight per
 * direction most of the time. Select with -DKITE_PROFILE_MIN_RAM. */
#ifndef KITE_PROFILE_MIN_RAM_H
#define KITE_PROFILE_MIN_RAM_H
#define KITE_PBUF_POOL_COUNT 6
#define KITE_PBUF_POOL_BUFSIZE 592
#define KITE_PBUF_RAM_COUNT 3
#define KITE_PBUF_RAM_BUFSIZE 640 /* one 536-byte segment with its headers */
#define KITE_PBUF_REF_COUNT 4
#define KITE_UDP_PCB_COUNT 4
#define KITE_TCP_PCB_COUNT 4
#define KITE_TCP_SND_BUF 1072u
#define KITE_TCP_RCV_BUF 1072u
#define KITE_TCP_MSS_MAX 536 /* segments fit one small buffer (lwIP's TCP_MSS) */
#define KITE_ARP_TABLE_SIZE 4
#define KITE_ARP_QUEUE_LEN 1
#define KITE_TCP_LISTEN_COUNT 2
#define KITE_TCP_KEEPALIVE_SETS 2
#define KITE_IP_REASS_DATAGRAMS 1
#define KITE_PMTU_ENTRIES 2
#define KITE_IP_FORWARD 0 /* a device, not a router: the code left out */
#define KITE_RAW 0        /* no raw IP: SOCK_RAW fails with EPROTONOSUPPORT */
/* IGMP stays (mDNS, SSDP need a group reported to snooping switches), for
 * two groups of one source each (docs/multicast.md: the bytes it costs). */
#define KITE_IGMP_GROUP_COUNT 2
#define KITE_IGMP_MEMBER_COUNT 2
#define KITE_IGMP_MAX_SOURCES 1
#define KITE_IGMP_LOOP_QUEUE_LEN 1
#endif
