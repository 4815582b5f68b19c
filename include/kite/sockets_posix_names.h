/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The standard socket names (socket, bind, struct sockaddr_in, AF_INET,
 * FD_SET, poll...) for firmware whose C library has no socket layer (no VFS),
 * so socket code written for lwIP, ESP-IDF or Linux compiles unchanged.
 * Define KITE_SOCKETS to the application's socket table first, e.g.
 *
 *   extern struct kite_sockets app_sockets;
 *   #define KITE_SOCKETS (&app_sockets)
 *   #include "kite/sockets_posix_names.h"
 *
 * Include it after every system header: read, write and close become the
 * socket calls (as with lwIP's LWIP_POSIX_SOCKETS_IO_NAMES), so it cannot be
 * mixed with file descriptors of the C library.
 */
#ifndef KITE_SOCKETS_POSIX_NAMES_H
#define KITE_SOCKETS_POSIX_NAMES_H

#include "kite/byteorder.h"
#include "kite/sockets.h"

#ifndef KITE_SOCKETS
#error "define KITE_SOCKETS to the application's struct kite_sockets * before this header"
#endif

/* Types. */
#define sockaddr kite_sockaddr
#define sockaddr_in kite_sockaddr_in
#define in_addr kite_in_addr
#define iovec kite_iovec
#define msghdr kite_msghdr
#define cmsghdr kite_cmsghdr
#define in_pktinfo kite_in_pktinfo
#define ip_mreq kite_ip_mreq
#define ip_mreqn kite_ip_mreqn
#define ip_mreq_source kite_ip_mreq_source
#define linger kite_linger
#define pollfd kite_pollfd
#define timeval kite_timeval
#define socklen_t kite_socklen_t
#define sa_family_t kite_sa_family_t
#define fd_set kite_fd_set
#define nfds_t unsigned

/* Constants. */
#define AF_UNSPEC KITE_AF_UNSPEC
#define AF_INET KITE_AF_INET
#define PF_INET KITE_PF_INET
#define INADDR_ANY KITE_INADDR_ANY
#define SOCK_STREAM KITE_SOCK_STREAM
#define SOCK_DGRAM KITE_SOCK_DGRAM
#define SOCK_RAW KITE_SOCK_RAW
#define SOCK_NONBLOCK KITE_SOCK_NONBLOCK
#define SOCK_CLOEXEC KITE_SOCK_CLOEXEC
#define IPPROTO_IP KITE_IPPROTO_IP
#define IPPROTO_ICMP KITE_IPPROTO_ICMP
#define IPPROTO_TCP KITE_IPPROTO_TCP
#define IPPROTO_UDP KITE_IPPROTO_UDP
#define SOL_SOCKET KITE_SOL_SOCKET
#define SO_REUSEADDR KITE_SO_REUSEADDR
#define SO_TYPE KITE_SO_TYPE
#define SO_ERROR KITE_SO_ERROR
#define SO_BROADCAST KITE_SO_BROADCAST
#define SO_SNDBUF KITE_SO_SNDBUF
#define SO_RCVBUF KITE_SO_RCVBUF
#define SO_KEEPALIVE KITE_SO_KEEPALIVE
#define SO_NO_CHECK KITE_SO_NO_CHECK
#define SO_LINGER KITE_SO_LINGER
#define SO_RCVTIMEO KITE_SO_RCVTIMEO
#define SO_SNDTIMEO KITE_SO_SNDTIMEO
#define SO_ACCEPTCONN KITE_SO_ACCEPTCONN
#define IP_TOS KITE_IP_TOS
#define IP_TTL KITE_IP_TTL
#define IP_PKTINFO KITE_IP_PKTINFO
#define IP_MULTICAST_IF KITE_IP_MULTICAST_IF
#define IP_MULTICAST_TTL KITE_IP_MULTICAST_TTL
#define IP_MULTICAST_LOOP KITE_IP_MULTICAST_LOOP
#define IP_ADD_MEMBERSHIP KITE_IP_ADD_MEMBERSHIP
#define IP_DROP_MEMBERSHIP KITE_IP_DROP_MEMBERSHIP
#define IP_UNBLOCK_SOURCE KITE_IP_UNBLOCK_SOURCE
#define IP_BLOCK_SOURCE KITE_IP_BLOCK_SOURCE
#define IP_ADD_SOURCE_MEMBERSHIP KITE_IP_ADD_SOURCE_MEMBERSHIP
#define IP_DROP_SOURCE_MEMBERSHIP KITE_IP_DROP_SOURCE_MEMBERSHIP
#define IP_MULTICAST_ALL KITE_IP_MULTICAST_ALL
#define INADDR_ALLHOSTS_GROUP KITE_INADDR_ALLHOSTS_GROUP
#define TCP_NODELAY KITE_TCP_NODELAY
#define TCP_KEEPIDLE KITE_TCP_KEEPIDLE
#define TCP_KEEPINTVL KITE_TCP_KEEPINTVL
#define TCP_KEEPCNT KITE_TCP_KEEPCNT
#define TCP_KEEPALIVE KITE_TCP_KEEPALIVE
#define MSG_PEEK KITE_MSG_PEEK
#define MSG_TRUNC KITE_MSG_TRUNC
#define MSG_CTRUNC KITE_MSG_CTRUNC
#define CMSG_ALIGN KITE_CMSG_ALIGN
#define CMSG_LEN KITE_CMSG_LEN
#define CMSG_SPACE KITE_CMSG_SPACE
#define CMSG_DATA KITE_CMSG_DATA
#define MSG_DONTWAIT KITE_MSG_DONTWAIT
#define MSG_WAITALL KITE_MSG_WAITALL
#define MSG_NOSIGNAL KITE_MSG_NOSIGNAL
#define MSG_MORE KITE_MSG_MORE
#define SHUT_RD KITE_SHUT_RD
#define SHUT_WR KITE_SHUT_WR
#define SHUT_RDWR KITE_SHUT_RDWR
#define F_GETFL KITE_F_GETFL
#define F_SETFL KITE_F_SETFL
#define O_NONBLOCK KITE_O_NONBLOCK
#define O_NDELAY KITE_O_NDELAY
#define FIONREAD KITE_FIONREAD
#define FIONBIO KITE_FIONBIO
#define POLLIN KITE_POLLIN
#define POLLPRI KITE_POLLPRI
#define POLLOUT KITE_POLLOUT
#define POLLERR KITE_POLLERR
#define POLLHUP KITE_POLLHUP
#define POLLNVAL KITE_POLLNVAL
#define FD_SETSIZE KITE_FD_SETSIZE
#define FD_ZERO KITE_FD_ZERO
#define FD_SET KITE_FD_SET
#define FD_CLR KITE_FD_CLR
#define FD_ISSET KITE_FD_ISSET

/* Byte order. */
#define htonl kite_htonl
#define ntohl kite_ntohl
#define htons kite_htons
#define ntohs kite_ntohs

/* Calls. */
#define socket(d, t, p) kite_socket(KITE_SOCKETS, d, t, p)
#define bind(fd, a, l) kite_bind(KITE_SOCKETS, fd, a, l)
#define listen(fd, b) kite_listen(KITE_SOCKETS, fd, b)
#define accept(fd, a, l) kite_accept(KITE_SOCKETS, fd, a, l)
#define accept4(fd, a, l, f) kite_accept4(KITE_SOCKETS, fd, a, l, f)
#define connect(fd, a, l) kite_connect(KITE_SOCKETS, fd, a, l)
#define shutdown(fd, h) kite_shutdown(KITE_SOCKETS, fd, h)
#define close(fd) kite_close(KITE_SOCKETS, fd)
#define getsockname(fd, a, l) kite_getsockname(KITE_SOCKETS, fd, a, l)
#define getpeername(fd, a, l) kite_getpeername(KITE_SOCKETS, fd, a, l)
#define getsockopt(fd, lv, n, v, l) kite_getsockopt(KITE_SOCKETS, fd, lv, n, v, l)
#define setsockopt(fd, lv, n, v, l) kite_setsockopt(KITE_SOCKETS, fd, lv, n, v, l)
#define recv(fd, b, l, f) kite_recv(KITE_SOCKETS, fd, b, l, f)
#define recvfrom(fd, b, l, f, a, al) kite_recvfrom(KITE_SOCKETS, fd, b, l, f, a, al)
#define recvmsg(fd, m, f) kite_recvmsg(KITE_SOCKETS, fd, m, f)
#define read(fd, b, l) kite_read(KITE_SOCKETS, fd, b, l)
#define readv(fd, v, n) kite_readv(KITE_SOCKETS, fd, v, n)
#define send(fd, b, l, f) kite_send(KITE_SOCKETS, fd, b, l, f)
#define sendto(fd, b, l, f, a, al) kite_sendto(KITE_SOCKETS, fd, b, l, f, a, al)
#define sendmsg(fd, m, f) kite_sendmsg(KITE_SOCKETS, fd, m, f)
#define write(fd, b, l) kite_write(KITE_SOCKETS, fd, b, l)
#define writev(fd, v, n) kite_writev(KITE_SOCKETS, fd, v, n)
#define select(n, r, w, e, t) kite_select(KITE_SOCKETS, n, r, w, e, t)
#define poll(f, n, t) kite_poll(KITE_SOCKETS, f, n, t)
#define fcntl(fd, c, v) kite_fcntl(KITE_SOCKETS, fd, c, v)
#define ioctl(fd, r, a) kite_ioctl(KITE_SOCKETS, fd, r, a)

#endif
