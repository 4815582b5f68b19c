/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Linux TAP driver: moves whole Ethernet frames between a kite netif and
 * /dev/net/tun. The device is opened with IFF_NO_PI so every read() returns
 * exactly one frame and every write() sends exactly one. By default there is
 * no virtio-net header, so the kernel hands us frames with complete checksums.
 * With KITE_TAP_OFFLOAD each frame carries a virtio-net header, the device
 * announces checksum offload and TSO, and the kernel may pass TCP segments of
 * up to 64 KiB whose checksum it left partial: the driver completes it, so
 * the stack (and any capture) sees ordinary, valid packets.
 */
#include "kite/port/tap.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kite/byteorder.h"
#include "kite/pbuf.h"
#include "kite/stack.h"
#include "kite/wire/checksum.h"

/* IP MTU of the netif: the Linux default for a TAP device. */
#define TAP_MTU 1500u
/* Largest frame we accept: MTU + Ethernet header + one 802.1Q tag (no FCS on TAP). */
#define TAP_FRAME_MAX (TAP_MTU + 14u + 4u)
/* Read buffer, larger than any frame we accept so oversized ones are seen as such. */
#define TAP_BUF_SIZE 2048u
/* With offload: a virtio-net header and a super-frame of up to 64 KiB. */
#define TAP_VNET_HLEN ((unsigned)sizeof(struct virtio_net_hdr))
#define TAP_GSO_BUF_SIZE (65536u + 64u)
/* pbufs in one chain that writev() sends directly; longer chains are copied
 * (a 64 KiB super-segment from KITE_TSO is about 45 pool blocks). */
#define TAP_MAX_IOV 64
/* Largest IP packet handed to the kernel for segmentation (KITE_TSO): under
 * the 64 KiB IP limit with room for the headers. */
#define TAP_TSO_MAX 64000u
/* Frames read per kite_tap_receive() call: keeps one call bounded under a flood
 * (the descriptor stays readable, so poll() wakes us again at once). */
#define TAP_RX_BURST 256u

static enum kite_err write_frame(struct kite_tap *tap, const struct iovec *iov, int n, size_t total)
{
    ssize_t w;

    do {
        w = writev(tap->fd, iov, n);
    } while (w < 0 && errno == EINTR);
    if (w < 0 || (size_t)w != total) {
        /* EAGAIN: the kernel's queue is full; EIO: the kernel side is down. A
         * lost frame is what a real link does; upper layers retransmit. */
        tap->tx_errors++;
        return KITE_ERR_NETIF;
    }
    return KITE_ERR_OK;
}

/* Long chains are rare (a full frame is at most three pool blocks): flatten. */
static enum kite_err output_copy(struct kite_tap *tap, const struct kite_pbuf *p)
{
    uint8_t buf[TAP_BUF_SIZE];
    struct iovec iov;

    if (p->tot_len > sizeof(buf)) {
        tap->tx_errors++;
        return KITE_ERR_BUF;
    }
    iov.iov_base = buf;
    iov.iov_len = kite_pbuf_copy_out(p, buf, p->tot_len, 0);
    return write_frame(tap, &iov, 1, iov.iov_len);
}

/* The virtio-net header of a frame sent with offload: none asked for, or,
 * for a TCP super-segment (kite_netif_tso_segment), Linux GSO cuts it into
 * segments of seg bytes and completes each one's checksum (the stack left
 * the pseudo-header sum in it). False for a super-segment whose headers are
 * not in its first pbuf. */
static bool vnet_header_for(const struct kite_pbuf *p, uint16_t seg, struct virtio_net_hdr *vnet)
{
    memset(vnet, 0, sizeof *vnet);
    if (seg == 0)
        return true;
    const uint8_t *f = p->payload;
    if (p->len < 14u + 20u)
        return false;
    unsigned l3 = 14u, l4 = l3 + 4u * (f[l3] & 0x0fu);
    if (p->len < l4 + 20u)
        return false;
    unsigned end = l4 + 4u * (f[l4 + 12u] >> 4);
    vnet->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    vnet->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    vnet->gso_size = seg;
    vnet->hdr_len = (uint16_t)end;
    vnet->csum_start = (uint16_t)l4;
    vnet->csum_offset = 16u; /* the TCP checksum field */
    return true;
}

/* kite_netif_output_fn: the caller keeps ownership of p, we never queue it. */
static enum kite_err tap_output(struct kite_netif *netif, struct kite_pbuf *p)
{
    struct kite_tap *tap = netif->driver;
    struct iovec iov[TAP_MAX_IOV + 1];
    struct virtio_net_hdr vnet;
    int n = 0;
    size_t extra = 0;

    if (tap->fd < 0) {
        tap->tx_errors++;
        return KITE_ERR_NETIF;
    }
    if (tap->flags & KITE_TAP_OFFLOAD) {
        uint16_t seg = kite_netif_tso_segment(netif, p);
        if (!vnet_header_for(p, seg, &vnet)) {
            tap->tx_errors++;
            return KITE_ERR_BUF;
        }
        tap->tx_gso += seg != 0;
        iov[n].iov_base = &vnet;
        iov[n].iov_len = sizeof vnet;
        n++;
        extra = sizeof vnet;
    }
    for (const struct kite_pbuf *q = p; q != NULL; q = q->next) {
        if (q->len == 0) {
            continue;
        }
        if (n == TAP_MAX_IOV) {
            return extra == 0 ? output_copy(tap, p) : KITE_ERR_BUF;
        }
        iov[n].iov_base = q->payload;
        iov[n].iov_len = q->len;
        n++;
    }
    return write_frame(tap, iov, n, p->tot_len + extra);
}

/* Attach to (or create) the TAP device named ifname on an open /dev/net/tun. */
static enum kite_err attach(struct kite_tap *tap, const char *ifname)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = (short)(IFF_TAP | IFF_NO_PI);
    if (tap->flags & KITE_TAP_OFFLOAD)
        ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_VNET_HDR);
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    if (ioctl(tap->fd, TUNSETIFF, &ifr) < 0) {
        return KITE_ERR_NETIF;
    }
    if (tap->flags & KITE_TAP_OFFLOAD) {
        int hlen = (int)TAP_VNET_HLEN;
        unsigned long offload = TUN_F_CSUM | TUN_F_TSO4;
        if (ioctl(tap->fd, TUNSETVNETHDRSZ, &hlen) < 0 ||
            ioctl(tap->fd, TUNSETOFFLOAD, offload) < 0)
            return KITE_ERR_NETIF;
    }
    /* The kernel may have completed a name pattern such as "tap%d". */
    memcpy(tap->ifname, ifr.ifr_name, sizeof(tap->ifname));
    tap->ifname[sizeof(tap->ifname) - 1] = '\0';
    return KITE_ERR_OK;
}

enum kite_err kite_tap_open(struct kite_tap *tap, struct kite_stack *stack, const char *ifname,
                            const uint8_t mac[6])
{
    return kite_tap_open_flags(tap, stack, ifname, mac, 0);
}

enum kite_err kite_tap_open_flags(struct kite_tap *tap, struct kite_stack *stack,
                                  const char *ifname, const uint8_t mac[6], unsigned flags)
{
    char name[KITE_NETIF_NAME_LEN];
    enum kite_err err;

    memset(tap, 0, sizeof(*tap));
    tap->fd = -1;
    tap->flags = flags;
    if (ifname == NULL || ifname[0] == '\0' || strlen(ifname) >= IFNAMSIZ) {
        return KITE_ERR_ARG;
    }
    tap->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (tap->fd < 0) {
        return KITE_ERR_NETIF;
    }
    err = attach(tap, ifname);
    if (err == KITE_ERR_OK) {
        /* The netif name is shorter than a Linux interface name: truncate. */
        memcpy(name, tap->ifname, sizeof(name) - 1);
        name[sizeof(name) - 1] = '\0';
        err = kite_netif_add_ethernet(stack, &tap->netif, name, mac, (uint16_t)TAP_MTU, tap_output,
                                      tap);
    }
    if (err != KITE_ERR_OK) {
        int saved = errno;
        close(tap->fd);
        tap->fd = -1;
        errno = saved;
        return err;
    }
    if (flags & KITE_TAP_OFFLOAD)
        tap->netif.tso_max = (uint16_t)TAP_TSO_MAX; /* used by KITE_TSO builds */
    kite_netif_set_up(&tap->netif, true);
    return KITE_ERR_OK;
}

/* Hand one frame read from the device to the stack (copied into pool blocks). */
static void deliver(struct kite_tap *tap, const uint8_t *frame, size_t n, size_t max)
{
    struct kite_stack *stack = tap->netif.stack;
    struct kite_pbuf *p;

    if (n == 0 || n > max) {
        tap->rx_errors++;
        return;
    }
    p = kite_pbuf_alloc_rx(stack, (uint16_t)n);
    if (p == NULL) {
        /* The frame was already read out of the kernel, so the device queue
         * keeps draining; dropping it is what a NIC with no free descriptor
         * does. */
        tap->rx_no_mem++;
        return;
    }
    if (kite_pbuf_copy_in(p, frame, (uint16_t)n, 0) != KITE_ERR_OK) {
        tap->rx_errors++;
        kite_pbuf_free(stack, p);
        return;
    }
    kite_netif_input(&tap->netif, p);
}

/* virtio-net header of a received frame: complete a partial checksum
 * (VIRTIO_NET_HDR_F_NEEDS_CSUM: the field holds the pseudo-header sum, the
 * sum from csum_start to the end goes in at csum_start + csum_offset). */
static bool finish_vnet_frame(struct kite_tap *tap, uint8_t *frame, size_t n,
                              const struct virtio_net_hdr *h)
{
    if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE)
        tap->rx_gso++;
    if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
        return true;
    size_t start = h->csum_start, at = (size_t)h->csum_start + h->csum_offset;
    if (start >= n || at + 2u > n) {
        tap->rx_errors++;
        return false;
    }
    uint16_t sum = kite_cksum(frame + start, n - start);
    kite_put_be16(frame + at, sum);
    return true;
}

static void receive_offload(struct kite_tap *tap, uint8_t *buf, size_t n)
{
    struct virtio_net_hdr h;
    if (n < TAP_VNET_HLEN) {
        tap->rx_errors++;
        return;
    }
    memcpy(&h, buf, sizeof h);
    uint8_t *frame = buf + TAP_VNET_HLEN;
    size_t len = n - TAP_VNET_HLEN;
    if (finish_vnet_frame(tap, frame, len, &h))
        deliver(tap, frame, len, UINT16_MAX);
}

unsigned kite_tap_receive(struct kite_tap *tap)
{
    uint8_t small[TAP_BUF_SIZE];
    static_assert(TAP_GSO_BUF_SIZE > TAP_BUF_SIZE, "offload buffer");
    uint8_t big[(TAP_GSO_BUF_SIZE + 7u) & ~7u];
    bool offload = (tap->flags & KITE_TAP_OFFLOAD) != 0;
    uint8_t *buf = offload ? big : small;
    size_t size = offload ? sizeof big : sizeof small;
    unsigned frames = 0;

    kite_stack_burst_begin(tap->netif.stack); /* one ACK per connection for the burst */
    while (tap->fd >= 0 && frames < TAP_RX_BURST) {
        ssize_t n = read(tap->fd, buf, size);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                tap->rx_errors++;
            }
            break;
        }
        frames++;
        if (offload)
            receive_offload(tap, buf, (size_t)n);
        else
            deliver(tap, buf, (size_t)n, TAP_FRAME_MAX);
    }
    kite_stack_burst_end(tap->netif.stack);
    return frames;
}

void kite_tap_close(struct kite_tap *tap)
{
    if (tap->fd < 0) {
        return;
    }
    kite_netif_remove(&tap->netif);
    close(tap->fd);
    tap->fd = -1;
}
