/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A pcap writer on a netif's capture tap (host port).
 *
 * Classic libpcap format: a 24-byte global header, then per frame a 16-byte
 * record header and the bytes. Fields are written in host byte order; the
 * magic number tells readers which order that is.
 */
#include "kite/port/pcap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kite/netif.h"
#include "kite/pbuf.h"
#include "kite/stack.h"

#define PCAP_MAGIC 0xa1b2c3d4u /* microsecond timestamps */
#define PCAP_VERSION_MAJOR 2u
#define PCAP_VERSION_MINOR 4u
#define PCAP_SNAPLEN 65535u
#define PCAP_LINKTYPE_ETHERNET 1u
#define PCAP_LINKTYPE_RAW 101u /* bare IPv4/IPv6 packets */

struct kite_pcap {
    FILE *file;
    struct kite_netif *netif;
    uint32_t count;
    uint8_t frame[PCAP_SNAPLEN];
};

static void put_u32(uint8_t *out, uint32_t v)
{
    memcpy(out, &v, sizeof v);
}
static void put_u16(uint8_t *out, uint16_t v)
{
    memcpy(out, &v, sizeof v);
}

static int write_global_header(FILE *file, uint32_t linktype)
{
    uint8_t hdr[24];
    put_u32(hdr + 0, PCAP_MAGIC);
    put_u16(hdr + 4, PCAP_VERSION_MAJOR);
    put_u16(hdr + 6, PCAP_VERSION_MINOR);
    put_u32(hdr + 8, 0);  /* thiszone: timestamps are already UTC (or virtual) */
    put_u32(hdr + 12, 0); /* sigfigs */
    put_u32(hdr + 16, PCAP_SNAPLEN);
    put_u32(hdr + 20, linktype);
    return fwrite(hdr, sizeof hdr, 1, file) == 1 ? 0 : -1;
}

static void pcap_tap(void *ctx, const struct kite_netif *netif, const struct kite_pbuf *p,
                     enum kite_capture_dir dir)
{
    struct kite_pcap *pcap = ctx;
    (void)dir; /* classic pcap has no direction field */
    uint16_t len = kite_pbuf_copy_out(p, pcap->frame, p->tot_len, 0);
    kite_time_ms now = kite_stack_now(netif->stack);
    uint8_t rec[16];
    put_u32(rec + 0, (uint32_t)(now / 1000u));
    put_u32(rec + 4, (uint32_t)(now % 1000u) * 1000u);
    put_u32(rec + 8, len);
    put_u32(rec + 12, p->tot_len);
    if (fwrite(rec, sizeof rec, 1, pcap->file) != 1)
        return;
    if (len > 0 && fwrite(pcap->frame, len, 1, pcap->file) != 1)
        return;
    pcap->count++;
}

struct kite_pcap *kite_pcap_open(const char *path, struct kite_netif *netif)
{
    if (path == NULL || netif == NULL) {
        errno = EINVAL;
        return NULL;
    }
    struct kite_pcap *pcap = calloc(1, sizeof *pcap);
    if (pcap == NULL)
        return NULL;
    pcap->file = fopen(path, "wb");
    if (pcap->file == NULL) {
        free(pcap);
        return NULL;
    }
    uint32_t linktype =
        (netif->flags & KITE_NETIF_FLAG_ETHERNET) != 0 ? PCAP_LINKTYPE_ETHERNET : PCAP_LINKTYPE_RAW;
    if (write_global_header(pcap->file, linktype) != 0) {
        int saved = errno;
        fclose(pcap->file);
        free(pcap);
        errno = saved != 0 ? saved : EIO;
        return NULL;
    }
    pcap->netif = netif;
    kite_netif_set_capture(netif, pcap_tap, pcap);
    return pcap;
}

void kite_pcap_close(struct kite_pcap *pcap)
{
    if (pcap == NULL)
        return;
    kite_netif_set_capture(pcap->netif, NULL, NULL);
    fclose(pcap->file);
    free(pcap);
}

uint32_t kite_pcap_count(const struct kite_pcap *pcap)
{
    return pcap->count;
}
