/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * BSD sockets over netconn (docs/api.md). Every function is the BSD one with
 * a kite_ prefix and, first, the socket table it works on (there is no
 * hidden global: the application owns its struct kite_sockets). Return values
 * and errno follow Linux: -1 with errno set on failure. Types and constants
 * have kite_ / KITE_ names and Linux's values and layouts, so code written
 * for Linux means the same here; kite/sockets_posix_names.h maps the
 * standard names onto these for firmware without a C library socket layer.
 */
#ifndef KITE_SOCKETS_H
#define KITE_SOCKETS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kite/netconn.h"
#include "kite/opts.h"

struct kite_tcpip;

/* ---- Types (Linux layouts) ------------------------------------------------------ */

typedef uint32_t kite_socklen_t;
typedef uint16_t kite_sa_family_t;

struct kite_sockaddr {
    kite_sa_family_t sa_family;
    char sa_data[14];
};

struct kite_in_addr {
    uint32_t s_addr; /* network byte order */
};

struct kite_sockaddr_in {
    kite_sa_family_t sin_family;
    uint16_t sin_port; /* network byte order */
    struct kite_in_addr sin_addr;
    uint8_t sin_zero[8];
};

struct kite_iovec {
    void *iov_base;
    size_t iov_len;
};

struct kite_msghdr {
    void *msg_name;
    kite_socklen_t msg_namelen;
    struct kite_iovec *msg_iov;
    size_t msg_iovlen;
    void *msg_control;
    size_t msg_controllen;
    int msg_flags;
};

struct kite_cmsghdr {
    size_t cmsg_len;
    int cmsg_level;
    int cmsg_type;
};

/* Control messages laid out as Linux's: the header padded to size_t. */
#define KITE_CMSG_ALIGN(n) (((n) + sizeof(size_t) - 1u) & ~(sizeof(size_t) - 1u))
#define KITE_CMSG_LEN(n) (KITE_CMSG_ALIGN(sizeof(struct kite_cmsghdr)) + (n))
#define KITE_CMSG_SPACE(n) (KITE_CMSG_ALIGN(sizeof(struct kite_cmsghdr)) + KITE_CMSG_ALIGN(n))
#define KITE_CMSG_DATA(c) ((unsigned char *)(c) + KITE_CMSG_ALIGN(sizeof(struct kite_cmsghdr)))

struct kite_in_pktinfo {
    int ipi_ifindex;
    struct kite_in_addr ipi_spec_dst;
    struct kite_in_addr ipi_addr;
};

/* Multicast requests (Linux's struct ip_mreq, ip_mreqn, ip_mreq_source). */
struct kite_ip_mreq {
    struct kite_in_addr imr_multiaddr;
    struct kite_in_addr imr_interface;
};

struct kite_ip_mreqn {
    struct kite_in_addr imr_multiaddr;
    struct kite_in_addr imr_address;
    int imr_ifindex;
};

struct kite_ip_mreq_source {
    struct kite_in_addr imr_multiaddr;
    struct kite_in_addr imr_interface;
    struct kite_in_addr imr_sourceaddr;
};

struct kite_timeval {
    long tv_sec;
    long tv_usec;
};

struct kite_linger {
    int l_onoff;
    int l_linger;
};

struct kite_pollfd {
    int fd;
    short events;
    short revents;
};

/* select: one bit per socket number (KITE_FD_SETSIZE follows the table). */
#define KITE_FD_SETSIZE (KITE_SOCKET_OFFSET + KITE_SOCKET_COUNT)
typedef struct {
    uint8_t bits[(KITE_FD_SETSIZE + 7) / 8];
} kite_fd_set;
#define KITE_FD_ZERO(set) memset((set), 0, sizeof *(set))
#define KITE_FD_BIT(fd) (1u << ((unsigned)(fd) % 8u))
#define KITE_FD_SET(fd, set) ((set)->bits[(unsigned)(fd) / 8u] |= (uint8_t)KITE_FD_BIT(fd))
#define KITE_FD_CLR(fd, set) ((set)->bits[(unsigned)(fd) / 8u] &= (uint8_t)~KITE_FD_BIT(fd))
#define KITE_FD_ISSET(fd, set)                                                                     \
    (((unsigned)(set)->bits[(unsigned)(fd) / 8u] & KITE_FD_BIT(fd)) != 0u)

/* ---- Constants (Linux values) ----------------------------------------------------- */

#define KITE_AF_UNSPEC 0
#define KITE_AF_INET 2
#define KITE_PF_INET KITE_AF_INET
#define KITE_INADDR_ANY 0u

#define KITE_SOCK_STREAM 1
#define KITE_SOCK_DGRAM 2
#define KITE_SOCK_RAW 3
#define KITE_SOCK_NONBLOCK 04000
#define KITE_SOCK_CLOEXEC 02000000

#define KITE_IPPROTO_IP 0
#define KITE_IPPROTO_ICMP 1
#define KITE_IPPROTO_TCP 6
#define KITE_IPPROTO_UDP 17

#define KITE_SOL_SOCKET 1
#define KITE_SO_REUSEADDR 2
#define KITE_SO_TYPE 3
#define KITE_SO_ERROR 4
#define KITE_SO_BROADCAST 6
#define KITE_SO_SNDBUF 7
#define KITE_SO_RCVBUF 8
#define KITE_SO_KEEPALIVE 9
#define KITE_SO_NO_CHECK 11
#define KITE_SO_LINGER 13
#define KITE_SO_RCVTIMEO 20
#define KITE_SO_SNDTIMEO 21
#define KITE_SO_ACCEPTCONN 30

#define KITE_IP_TOS 1
#define KITE_IP_TTL 2
#define KITE_IP_PKTINFO 8
#define KITE_IP_MULTICAST_IF 32
#define KITE_IP_MULTICAST_TTL 33
#define KITE_IP_MULTICAST_LOOP 34
#define KITE_IP_ADD_MEMBERSHIP 35
#define KITE_IP_DROP_MEMBERSHIP 36
#define KITE_IP_UNBLOCK_SOURCE 37
#define KITE_IP_BLOCK_SOURCE 38
#define KITE_IP_ADD_SOURCE_MEMBERSHIP 39
#define KITE_IP_DROP_SOURCE_MEMBERSHIP 40
#define KITE_IP_MULTICAST_ALL 49
#define KITE_INADDR_ALLHOSTS_GROUP 0xe0000001u

#define KITE_TCP_NODELAY 1
#define KITE_TCP_CORK 3
#define KITE_TCP_KEEPIDLE 4
#define KITE_TCP_KEEPINTVL 5
#define KITE_TCP_KEEPCNT 6
/* ESP-IDF's TCP_KEEPALIVE (idle time in ms). Linux has no such option; the
 * number is one Linux leaves unused, so a Linux build fails it with
 * ENOPROTOOPT as it would any unknown option. */
#define KITE_TCP_KEEPALIVE 0x7001

#define KITE_MSG_PEEK 0x02
#define KITE_MSG_CTRUNC 0x08
#define KITE_MSG_TRUNC 0x20
#define KITE_MSG_DONTWAIT 0x40
#define KITE_MSG_WAITALL 0x100
#define KITE_MSG_NOSIGNAL 0x4000
#define KITE_MSG_MORE 0x8000

#define KITE_SHUT_RD 0
#define KITE_SHUT_WR 1
#define KITE_SHUT_RDWR 2

#define KITE_F_GETFL 3
#define KITE_F_SETFL 4
#define KITE_O_RDONLY 0
#define KITE_O_WRONLY 1
#define KITE_O_RDWR 2
#define KITE_O_NONBLOCK 04000
#define KITE_O_NDELAY KITE_O_NONBLOCK

#define KITE_FIONREAD 0x541B
#define KITE_FIONBIO 0x5421

#define KITE_POLLIN 0x001
#define KITE_POLLPRI 0x002
#define KITE_POLLOUT 0x004
#define KITE_POLLERR 0x008
#define KITE_POLLHUP 0x010
#define KITE_POLLNVAL 0x020

/* ---- The socket table ----------------------------------------------------------------- */

struct kite_socket {
    struct kite_netconn *conn; /* NULL: free */
    uint16_t keep_idle;        /* TCP_KEEPIDLE, s */
    uint16_t keep_intvl;       /* TCP_KEEPINTVL, s */
    int16_t linger_s;          /* SO_LINGER, -1: off */
    uint8_t keep_cnt;          /* TCP_KEEPCNT */
    uint8_t type;              /* KITE_SOCK_STREAM / _DGRAM / _RAW */
    uint8_t opts;              /* option flags (sockets.c), changed with the stack to itself */
    unsigned busy : 7;         /* threads inside a call on it (close waits for them) */
    unsigned closing : 1;      /* close() has begun; busy and closing: under the table lock */
};

struct kite_sockets {
    struct kite_tcpip *tcpip;
    struct kite_os_mutex lock; /* guards the table: which socket numbers are in use */
    struct kite_socket socks[KITE_SOCKET_COUNT];
};

/** Bind a socket table to a stack thread (started). */
int kite_sockets_init(struct kite_sockets *s, struct kite_tcpip *t);
/** Close whatever is still open. */
void kite_sockets_deinit(struct kite_sockets *s);

int kite_socket(struct kite_sockets *s, int domain, int type, int protocol);
int kite_bind(struct kite_sockets *s, int fd, const struct kite_sockaddr *addr, kite_socklen_t len);
int kite_listen(struct kite_sockets *s, int fd, int backlog);
int kite_accept(struct kite_sockets *s, int fd, struct kite_sockaddr *addr, kite_socklen_t *len);
int kite_accept4(struct kite_sockets *s, int fd, struct kite_sockaddr *addr, kite_socklen_t *len,
                 int flags);
int kite_connect(struct kite_sockets *s, int fd, const struct kite_sockaddr *addr,
                 kite_socklen_t len);
int kite_shutdown(struct kite_sockets *s, int fd, int how);
int kite_close(struct kite_sockets *s, int fd);
int kite_getsockname(struct kite_sockets *s, int fd, struct kite_sockaddr *addr,
                     kite_socklen_t *len);
int kite_getpeername(struct kite_sockets *s, int fd, struct kite_sockaddr *addr,
                     kite_socklen_t *len);
int kite_getsockopt(struct kite_sockets *s, int fd, int level, int name, void *val,
                    kite_socklen_t *len);
int kite_setsockopt(struct kite_sockets *s, int fd, int level, int name, const void *val,
                    kite_socklen_t len);

ssize_t kite_recv(struct kite_sockets *s, int fd, void *buf, size_t len, int flags);
ssize_t kite_recvfrom(struct kite_sockets *s, int fd, void *buf, size_t len, int flags,
                      struct kite_sockaddr *from, kite_socklen_t *fromlen);
ssize_t kite_recvmsg(struct kite_sockets *s, int fd, struct kite_msghdr *msg, int flags);
ssize_t kite_read(struct kite_sockets *s, int fd, void *buf, size_t len);
ssize_t kite_readv(struct kite_sockets *s, int fd, const struct kite_iovec *iov, int iovcnt);
ssize_t kite_send(struct kite_sockets *s, int fd, const void *buf, size_t len, int flags);
ssize_t kite_sendto(struct kite_sockets *s, int fd, const void *buf, size_t len, int flags,
                    const struct kite_sockaddr *to, kite_socklen_t tolen);
ssize_t kite_sendmsg(struct kite_sockets *s, int fd, const struct kite_msghdr *msg, int flags);
ssize_t kite_write(struct kite_sockets *s, int fd, const void *buf, size_t len);
ssize_t kite_writev(struct kite_sockets *s, int fd, const struct kite_iovec *iov, int iovcnt);

int kite_select(struct kite_sockets *s, int nfds, kite_fd_set *rd, kite_fd_set *wr, kite_fd_set *ex,
                struct kite_timeval *timeout);
int kite_poll(struct kite_sockets *s, struct kite_pollfd *fds, unsigned nfds, int timeout_ms);
int kite_fcntl(struct kite_sockets *s, int fd, int cmd, int val);
int kite_ioctl(struct kite_sockets *s, int fd, unsigned long req, void *argp);

#endif
