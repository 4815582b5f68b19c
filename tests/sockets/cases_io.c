/* SPDX-License-Identifier: BSD-3-Clause */
/* Data: read/readv/write/writev/recv/recvmsg/recvfrom/send/sendmsg/sendto,
 * the MSG_ flags, zero-length datagrams, truncation, EOF, EPIPE and
 * ECONNRESET. */
#include "suite.h"

static int udp(void)
{
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    return fd;
}

/* The peer reset the connection (SO_LINGER 0 close); wait until it arrived. */
static void reset_by_peer(int c, int s)
{
    struct kite_linger l = {1, 0};
    S_OK(S_setsockopt(s, KITE_SOL_SOCKET, KITE_SO_LINGER, &l, sizeof l));
    S_OK(S_close(s));
    assert_true(S_wait_for(c, KITE_POLLERR, 2000) & KITE_POLLERR);
}

/* ---- TCP ------------------------------------------------------------------------------- */

static void tcp_send_recv(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_RETURNS(S_send(c, "hello", 5, 0), 5);
    char buf[16];
    S_recv_all(s, buf, 5);
    assert_memory_equal(buf, "hello", 5);
    S_RETURNS(S_send(s, "world!", 6, 0), 6);
    S_recv_all(c, buf, 6);
    assert_memory_equal(buf, "world!", 6);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void tcp_write_read(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_RETURNS(S_write(c, "abc", 3), 3);
    char buf[8];
    assert_int_equal(S_wait(s, KITE_POLLIN, 2000), KITE_POLLIN);
    S_RETURNS(S_read(s, buf, sizeof buf), 3);
    assert_memory_equal(buf, "abc", 3);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void tcp_writev_readv(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    struct kite_iovec out[3] = {{"ab", 2}, {"", 0}, {"cdefg", 5}};
    S_RETURNS(S_writev(c, out, 3), 7);
    char x[3], y[10];
    struct kite_iovec in[2] = {{x, sizeof x}, {y, sizeof y}};
    S_sleep_ms(50);
    S_RETURNS(S_readv(s, in, 2), 7);
    assert_memory_equal(x, "abc", 3);
    assert_memory_equal(y, "defg", 4);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

/* Gathered and scattered I/O of more than 2 KiB (kite once bounced it
 * through a 2 KiB buffer): writev queues every piece, readv fills one iovec
 * after the other. At most half the smaller of the send and receive buffers
 * (min_ram: 534 bytes). */
#define LARGE_BUF (KITE_TCP_SND_BUF < KITE_TCP_RCV_BUF ? KITE_TCP_SND_BUF : KITE_TCP_RCV_BUF)
#define LARGE_IO (LARGE_BUF >= 4200u ? 2100 : (int)LARGE_BUF / 2 / 3 * 3)
static void tcp_writev_readv_large(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    static char out[LARGE_IO], in[LARGE_IO];
    for (int i = 0; i < LARGE_IO; i++)
        out[i] = (char)('a' + i * 3 / LARGE_IO);
    struct kite_iovec iov[3];
    for (int i = 0; i < 3; i++)
        iov[i] = (struct kite_iovec){out + i * LARGE_IO / 3, LARGE_IO / 3};
    S_RETURNS(S_writev(c, iov, 3), LARGE_IO);
    int n = 0;
    for (int i = 0; i < 200 && n < LARGE_IO; i++) {
        S_sleep_ms(10);
        S_OK(S_ioctl(s, KITE_FIONREAD, &n));
    }
    assert_int_equal(n, LARGE_IO);
    size_t first = LARGE_IO * 2 / 3 + 10; /* the second iovec starts inside the last piece */
    struct kite_iovec rd[2] = {{in, first}, {in + first, sizeof in - first}};
    S_RETURNS(S_readv(s, rd, 2), LARGE_IO);
    assert_memory_equal(in, out, sizeof out);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void tcp_writev_zero_iov(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_RETURNS(S_writev(c, NULL, 0), 0);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void readv_negative_count(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    char b[4];
    struct kite_iovec iov = {b, sizeof b};
    S_FAILS(S_readv(s, &iov, -1), EINVAL);
    S_FAILS(S_writev(c, &iov, -1), EINVAL);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void tcp_sendmsg_recvmsg(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    struct kite_iovec out[2] = {{"head", 4}, {"tail", 4}};
    struct kite_msghdr m = {NULL, 0, out, 2, NULL, 0, 0};
    S_RETURNS(S_sendmsg(c, &m, 0), 8);
    char a[5], b[10];
    struct kite_iovec in[2] = {{a, sizeof a}, {b, sizeof b}};
    struct kite_msghdr r = {NULL, 0, in, 2, NULL, 0, 0x5555};
    S_sleep_ms(50);
    S_RETURNS(S_recvmsg(s, &r, 0), 8);
    assert_memory_equal(a, "headt", 5);
    assert_memory_equal(b, "ail", 3);
    assert_int_equal(r.msg_flags, 0);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

/* TCP: no source address from recvfrom (Linux sets the length to 0). */
static void tcp_recvfrom_no_address(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_RETURNS(S_send(c, "x", 1, 0), 1);
    struct kite_sockaddr_in from;
    kite_socklen_t len = sizeof from;
    char b;
    S_RETURNS(S_recvfrom(s, &b, 1, 0, &from, &len), 1);
    assert_int_equal(len, 0);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void tcp_sendto_connected_ignores_address(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    struct kite_sockaddr_in other = S_addr(S_newport());
    S_RETURNS(S_sendto(c, "y", 1, 0, &other, SIN_LEN), 1);
    char b;
    S_recv_all(s, &b, 1);
    assert_int_equal(b, 'y');
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void tcp_zero_length(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_RETURNS(S_send(c, "", 0, 0), 0);
    S_RETURNS(S_recv(s, NULL, 0, 0), 0);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void tcp_recv_unconnected(void **st)
{
    (void)st;
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    char b;
    S_FAILS(S_recv(fd, &b, 1, 0), ENOTCONN);
    S_FAILS(S_read(fd, &b, 1), ENOTCONN);
    S_OK(S_close(fd));
}

static void tcp_send_unconnected(void **st)
{
    (void)st;
    int fd = S_socket(KITE_AF_INET, KITE_SOCK_STREAM, 0);
    S_FAILS(S_send(fd, "x", 1, KITE_MSG_NOSIGNAL), EPIPE);
    S_OK(S_close(fd));
}

static void tcp_recv_listener(void **st)
{
    (void)st;
    uint16_t port;
    int l = S_listener(&port, 1);
    char b;
    S_FAILS(S_recv(l, &b, 1, 0), ENOTCONN);
    S_FAILS(S_send(l, "x", 1, KITE_MSG_NOSIGNAL), EPIPE);
    S_OK(S_close(l));
}

static void tcp_large_transfer(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    /* both directions at once would need threads; one way, reader after
     * each chunk (within min_ram's 1072-byte send buffer), keeps it in bounds */
    static char out[200000], in[200000];
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = (char)(i * 31 + (i >> 10));
    for (size_t off = 0; off < sizeof out; off += 1000) {
        S_send_all(c, out + off, 1000);
        S_recv_all(s, in + off, 1000);
    }
    assert_memory_equal(in, out, sizeof out);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void tcp_partial_reads(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_RETURNS(S_send(c, "0123456789", 10, 0), 10);
    S_sleep_ms(50);
    char b[4];
    S_RETURNS(S_recv(s, b, 3, 0), 3);
    assert_memory_equal(b, "012", 3);
    S_RETURNS(S_recv(s, b, 4, 0), 4);
    assert_memory_equal(b, "3456", 4);
    S_RETURNS(S_recv(s, b, 4, 0), 3);
    assert_memory_equal(b, "789", 3);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

/* ---- MSG_ flags on TCP ---------------------------------------------------------------- */

static void msg_peek_tcp(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_RETURNS(S_send(c, "peekaboo", 8, 0), 8);
    S_sleep_ms(50);
    char b[8];
    S_RETURNS(S_recv(s, b, 4, KITE_MSG_PEEK), 4);
    assert_memory_equal(b, "peek", 4);
    S_RETURNS(S_recv(s, b, 8, KITE_MSG_PEEK), 8);
    assert_memory_equal(b, "peekaboo", 8);
    S_RETURNS(S_recv(s, b, 8, 0), 8);
    assert_memory_equal(b, "peekaboo", 8);
    S_FAILS(S_recv(s, b, 8, KITE_MSG_DONTWAIT | KITE_MSG_PEEK), EAGAIN);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void msg_peek_after_partial_read(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_RETURNS(S_send(c, "abcdef", 6, 0), 6);
    S_sleep_ms(50);
    char b[8];
    S_RETURNS(S_recv(s, b, 2, 0), 2);
    S_RETURNS(S_recv(s, b, 8, KITE_MSG_PEEK), 4);
    assert_memory_equal(b, "cdef", 4);
    S_RETURNS(S_recv(s, b, 8, 0), 4);
    assert_memory_equal(b, "cdef", 4);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void msg_dontwait_recv(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    char b;
    int64_t t0 = S_now_ms();
    S_FAILS(S_recv(s, &b, 1, KITE_MSG_DONTWAIT), EAGAIN);
    assert_true(S_now_ms() - t0 < 500);
    S_RETURNS(S_fcntl(s, KITE_F_GETFL, 0), KITE_O_RDWR); /* the socket stays blocking */
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void msg_dontwait_send(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    static char big[65536];
    ssize_t r = 0;
    int64_t t0 = S_now_ms();
    for (int i = 0; i < 1000 && r >= 0; i++)
        r = S_send(c, big, sizeof big, KITE_MSG_DONTWAIT);
    assert_int_equal(r, -1);
    assert_int_equal(errno, EAGAIN);
    assert_true(S_now_ms() - t0 < 1500);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void msg_waitall_eof_short(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_RETURNS(S_send(c, "12345", 5, 0), 5);
    S_OK(S_close(c));
    char b[10];
    S_RETURNS(S_recv(s, b, sizeof b, KITE_MSG_WAITALL), 5);
    S_RETURNS(S_recv(s, b, sizeof b, KITE_MSG_WAITALL), 0);
    S_OK(S_close(s));
}

static void msg_waitall_timeout_returns_part(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_set_timeouts(s, 300);
    S_RETURNS(S_send(c, "abc", 3, 0), 3);
    char b[10];
    S_RETURNS(S_recv(s, b, sizeof b, KITE_MSG_WAITALL), 3);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void msg_more_tcp(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_RETURNS(S_send(c, "ab", 2, KITE_MSG_MORE), 2);
    S_RETURNS(S_send(c, "cd", 2, 0), 2);
    char b[4];
    S_RETURNS(S_recv(s, b, 4, KITE_MSG_WAITALL), 4);
    assert_memory_equal(b, "abcd", 4);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

static void msg_nosignal_epipe(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_OK(S_shutdown(c, KITE_SHUT_WR));
    S_FAILS(S_send(c, "x", 1, KITE_MSG_NOSIGNAL), EPIPE);
    S_FAILS(S_send(c, "x", 1, KITE_MSG_NOSIGNAL), EPIPE);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

/* ---- EOF, EPIPE, ECONNRESET ---------------------------------------------------------- */

static void eof_after_fin(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_RETURNS(S_send(s, "last", 4, 0), 4);
    S_OK(S_close(s));
    char b[8];
    S_recv_all(c, b, 4);
    S_RETURNS(S_recv(c, b, sizeof b, 0), 0);
    S_RETURNS(S_read(c, b, sizeof b), 0);
    S_RETURNS(S_recv(c, b, sizeof b, KITE_MSG_DONTWAIT), 0);
    S_OK(S_close(c));
}

static void send_after_peer_fin_succeeds(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_OK(S_shutdown(s, KITE_SHUT_WR)); /* half-closed: it still reads */
    char b;
    S_RETURNS(S_recv(c, &b, 1, 0), 0);
    S_RETURNS(S_send(c, "late", 4, 0), 4);
    char in[4];
    S_recv_all(s, in, 4);
    S_OK(S_close(c));
    S_OK(S_close(s));
}

/* The peer closed; our write draws its RST; the next write fails with EPIPE. */
static void epipe_after_peer_closed(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_OK(S_close(s));
    char b;
    S_RETURNS(S_recv(c, &b, 1, 0), 0);
    S_RETURNS(S_send(c, "x", 1, KITE_MSG_NOSIGNAL), 1);
    assert_true(S_wait_for(c, KITE_POLLERR, 2000) & KITE_POLLERR);
    S_FAILS(S_send(c, "x", 1, KITE_MSG_NOSIGNAL), EPIPE);
    S_FAILS(S_send(c, "x", 1, KITE_MSG_NOSIGNAL), EPIPE);
    S_OK(S_close(c));
}

static void epipe_write_after_peer_closed(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_OK(S_close(s));
    char b;
    S_RETURNS(S_recv(c, &b, 1, 0), 0);
    S_RETURNS(S_write(c, "x", 1), 1);
    assert_true(S_wait_for(c, KITE_POLLERR, 2000) & KITE_POLLERR);
    S_FAILS(S_write(c, "x", 1), EPIPE);
    S_OK(S_close(c));
}

static void econnreset_recv(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    reset_by_peer(c, s);
    char b;
    S_FAILS(S_recv(c, &b, 1, 0), ECONNRESET);
    S_RETURNS(S_recv(c, &b, 1, 0), 0); /* reported once; then the socket is closed */
    S_OK(S_close(c));
}

static void econnreset_send(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    reset_by_peer(c, s);
    S_FAILS(S_send(c, "x", 1, KITE_MSG_NOSIGNAL), ECONNRESET);
    S_FAILS(S_send(c, "x", 1, KITE_MSG_NOSIGNAL), EPIPE);
    S_OK(S_close(c));
}

static void econnreset_so_error(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    reset_by_peer(c, s);
    assert_int_equal(S_get_int(c, KITE_SOL_SOCKET, KITE_SO_ERROR), ECONNRESET);
    assert_int_equal(S_get_int(c, KITE_SOL_SOCKET, KITE_SO_ERROR), 0);
    char b;
    S_RETURNS(S_recv(c, &b, 1, 0), 0);
    S_OK(S_close(c));
}

/* Data that arrived before the RST is still read first, then the error. */
static void econnreset_after_data(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_RETURNS(S_send(s, "lost", 4, 0), 4);
    assert_int_equal(S_wait(c, KITE_POLLIN, 2000), KITE_POLLIN);
    reset_by_peer(c, s);
    char b[8];
    S_RETURNS(S_recv(c, b, sizeof b, 0), 4);
    assert_memory_equal(b, "lost", 4);
    S_FAILS(S_recv(c, b, sizeof b, 0), ECONNRESET);
    S_OK(S_close(c));
}

static void econnreset_getpeername(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    reset_by_peer(c, s);
    struct kite_sockaddr_in p;
    kite_socklen_t len = sizeof p;
    S_FAILS(S_getpeername(c, &p, &len), ENOTCONN);
    S_OK(S_close(c));
}

/* Closing with unread data sends RST, not FIN (RFC 2525): the peer sees ECONNRESET. */
static void close_with_unread_data_resets(void **st)
{
    (void)st;
    int c, s;
    S_tcp_pair(&c, &s);
    S_RETURNS(S_send(c, "unread", 6, 0), 6);
    assert_int_equal(S_wait(s, KITE_POLLIN, 2000), KITE_POLLIN);
    S_OK(S_close(s));
    assert_true(S_wait_for(c, KITE_POLLERR, 2000) & KITE_POLLERR);
    char b;
    S_FAILS(S_recv(c, &b, 1, 0), ECONNRESET);
    S_OK(S_close(c));
}

/* ---- UDP --------------------------------------------------------------------------------- */

static void udp_sendto_recvfrom(void **st)
{
    (void)st;
    int a, b;
    uint16_t ap, bp;
    S_udp_pair(&a, &ap, &b, &bp);
    struct kite_sockaddr_in to = S_addr(bp), from;
    S_RETURNS(S_sendto(a, "dgram", 5, 0, &to, SIN_LEN), 5);
    char buf[16];
    memset(&from, 0, sizeof from);
    kite_socklen_t len = sizeof from;
    S_RETURNS(S_recvfrom(b, buf, sizeof buf, 0, &from, &len), 5);
    assert_memory_equal(buf, "dgram", 5);
    assert_int_equal(len, SIN_LEN);
    assert_int_equal(from.sin_family, KITE_AF_INET);
    assert_int_equal(S_ip(&from), S_LOOPBACK);
    assert_int_equal(S_port(&from), ap);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

static void udp_boundaries_kept(void **st)
{
    (void)st;
    int a, b;
    uint16_t bp;
    S_udp_pair(&a, NULL, &b, &bp);
    struct kite_sockaddr_in to = S_addr(bp);
    S_RETURNS(S_sendto(a, "one", 3, 0, &to, SIN_LEN), 3);
    S_RETURNS(S_sendto(a, "three", 5, 0, &to, SIN_LEN), 5);
    char buf[16];
    S_RETURNS(S_recv(b, buf, sizeof buf, 0), 3);
    S_RETURNS(S_recv(b, buf, sizeof buf, 0), 5);
    assert_memory_equal(buf, "three", 5);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

static void udp_sendmsg_recvmsg(void **st)
{
    (void)st;
    int a, b;
    uint16_t ap, bp;
    S_udp_pair(&a, &ap, &b, &bp);
    struct kite_sockaddr_in to = S_addr(bp), from;
    struct kite_iovec out[2] = {{"ga", 2}, {"ther", 4}};
    struct kite_msghdr m = {&to, SIN_LEN, out, 2, NULL, 0, 0};
    S_RETURNS(S_sendmsg(a, &m, 0), 6);
    char x[4], y[4];
    struct kite_iovec in[2] = {{x, sizeof x}, {y, sizeof y}};
    struct kite_msghdr r = {&from, sizeof from, in, 2, NULL, 0, 0};
    S_RETURNS(S_recvmsg(b, &r, 0), 6);
    assert_memory_equal(x, "gath", 4);
    assert_memory_equal(y, "er", 2);
    assert_int_equal(r.msg_namelen, SIN_LEN);
    assert_int_equal(S_port(&from), ap);
    assert_int_equal(r.msg_flags, 0);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

static void udp_zero_length_datagram(void **st)
{
    (void)st;
    int a, b;
    uint16_t ap, bp;
    S_udp_pair(&a, &ap, &b, &bp);
    struct kite_sockaddr_in to = S_addr(bp), from;
    S_RETURNS(S_sendto(a, "", 0, 0, &to, SIN_LEN), 0);
    S_RETURNS(S_sendto(a, "next", 4, 0, &to, SIN_LEN), 4);
    assert_int_equal(S_wait(b, KITE_POLLIN, 2000), KITE_POLLIN);
    char buf[8];
    kite_socklen_t len = sizeof from;
    S_RETURNS(S_recvfrom(b, buf, sizeof buf, 0, &from, &len), 0);
    assert_int_equal(S_port(&from), ap);
    S_RETURNS(S_recv(b, buf, sizeof buf, 0), 4);
    assert_memory_equal(buf, "next", 4);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

static void udp_zero_length_recvmsg(void **st)
{
    (void)st;
    int a, b;
    uint16_t bp;
    S_udp_pair(&a, NULL, &b, &bp);
    struct kite_sockaddr_in to = S_addr(bp);
    struct kite_msghdr m = {&to, SIN_LEN, NULL, 0, NULL, 0, 0};
    S_RETURNS(S_sendmsg(a, &m, 0), 0);
    char buf[4];
    struct kite_iovec iov = {buf, sizeof buf};
    struct kite_msghdr r = {NULL, 0, &iov, 1, NULL, 0, 0};
    S_RETURNS(S_recvmsg(b, &r, 0), 0);
    assert_int_equal(r.msg_flags, 0);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

static void udp_truncation(void **st)
{
    (void)st;
    int a, b;
    uint16_t bp;
    S_udp_pair(&a, NULL, &b, &bp);
    struct kite_sockaddr_in to = S_addr(bp);
    S_RETURNS(S_sendto(a, "0123456789", 10, 0, &to, SIN_LEN), 10);
    S_RETURNS(S_sendto(a, "xy", 2, 0, &to, SIN_LEN), 2);
    char buf[8];
    S_RETURNS(S_recv(b, buf, 4, 0), 4); /* the rest of the datagram is gone */
    assert_memory_equal(buf, "0123", 4);
    S_RETURNS(S_recv(b, buf, sizeof buf, 0), 2);
    assert_memory_equal(buf, "xy", 2);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

static void udp_truncation_msg_flags(void **st)
{
    (void)st;
    int a, b;
    uint16_t bp;
    S_udp_pair(&a, NULL, &b, &bp);
    struct kite_sockaddr_in to = S_addr(bp);
    S_RETURNS(S_sendto(a, "0123456789", 10, 0, &to, SIN_LEN), 10);
    char buf[4];
    struct kite_iovec iov = {buf, sizeof buf};
    struct kite_msghdr r = {NULL, 0, &iov, 1, NULL, 0, 0};
    S_RETURNS(S_recvmsg(b, &r, 0), 4);
    assert_int_equal(r.msg_flags, KITE_MSG_TRUNC);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

/* MSG_TRUNC asked for: the datagram's real length comes back. */
static void udp_msg_trunc_real_length(void **st)
{
    (void)st;
    int a, b;
    uint16_t bp;
    S_udp_pair(&a, NULL, &b, &bp);
    struct kite_sockaddr_in to = S_addr(bp);
    S_RETURNS(S_sendto(a, "0123456789", 10, 0, &to, SIN_LEN), 10);
    char buf[4];
    S_RETURNS(S_recv(b, buf, sizeof buf, KITE_MSG_TRUNC), 10);
    assert_memory_equal(buf, "0123", 4);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

static void udp_msg_peek(void **st)
{
    (void)st;
    int a, b;
    uint16_t ap, bp;
    S_udp_pair(&a, &ap, &b, &bp);
    struct kite_sockaddr_in to = S_addr(bp), from;
    S_RETURNS(S_sendto(a, "peek", 4, 0, &to, SIN_LEN), 4);
    char buf[8];
    kite_socklen_t len = sizeof from;
    S_RETURNS(S_recvfrom(b, buf, 2, KITE_MSG_PEEK, &from, &len), 2);
    assert_int_equal(S_port(&from), ap);
    S_RETURNS(S_recvfrom(b, buf, sizeof buf, 0, NULL, NULL), 4);
    assert_memory_equal(buf, "peek", 4);
    S_FAILS(S_recv(b, buf, sizeof buf, KITE_MSG_DONTWAIT), EAGAIN);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

static void udp_msg_dontwait(void **st)
{
    (void)st;
    int a, b;
    S_udp_pair(&a, NULL, &b, NULL);
    char buf[4];
    S_FAILS(S_recv(a, buf, sizeof buf, KITE_MSG_DONTWAIT), EAGAIN);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

/* UDP corking: MSG_MORE data waits and goes out with the next send as one datagram. */
static void udp_msg_more_joins(void **st)
{
    (void)st;
    int a, b;
    S_udp_connected(&a, &b);
    S_RETURNS(S_send(a, "ab", 2, KITE_MSG_MORE), 2);
    S_RETURNS(S_send(a, "cd", 2, 0), 2);
    char buf[8];
    S_RETURNS(S_recv(b, buf, sizeof buf, 0), 4);
    assert_memory_equal(buf, "abcd", 4);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

static void udp_send_unconnected(void **st)
{
    (void)st;
    int a = udp();
    S_FAILS(S_send(a, "x", 1, 0), EDESTADDRREQ);
    S_FAILS(S_write(a, "x", 1), EDESTADDRREQ);
    S_OK(S_close(a));
}

static void udp_sendto_port_zero(void **st)
{
    (void)st;
    int a = udp();
    struct kite_sockaddr_in to = S_addr(0);
    S_FAILS(S_sendto(a, "x", 1, 0, &to, SIN_LEN), EINVAL);
    S_OK(S_close(a));
}

static void udp_sendto_short_len(void **st)
{
    (void)st;
    int a = udp();
    struct kite_sockaddr_in to = S_addr(S_newport());
    S_FAILS(S_sendto(a, "x", 1, 0, &to, 8), EINVAL);
    S_OK(S_close(a));
}

static void udp_sendto_wrong_family(void **st)
{
    (void)st;
    int a = udp();
    struct kite_sockaddr_in to = S_addr(S_newport());
    to.sin_family = 10;
    S_FAILS(S_sendto(a, "x", 1, 0, &to, SIN_LEN), EAFNOSUPPORT);
    S_OK(S_close(a));
}

static void udp_sendto_binds_ephemeral(void **st)
{
    (void)st;
    int a, b;
    uint16_t bp;
    S_udp_pair(&a, NULL, &b, &bp);
    int c = udp();
    assert_int_equal(S_local_port(c), 0);
    struct kite_sockaddr_in to = S_addr(bp), from;
    S_RETURNS(S_sendto(c, "x", 1, 0, &to, SIN_LEN), 1);
    uint16_t mine = S_local_port(c);
    assert_int_not_equal(mine, 0);
    char buf[2];
    kite_socklen_t len = sizeof from;
    S_RETURNS(S_recvfrom(b, buf, sizeof buf, 0, &from, &len), 1);
    assert_int_equal(S_port(&from), mine);
    S_OK(S_close(a));
    S_OK(S_close(b));
    S_OK(S_close(c));
}

/* A connected UDP socket only hears its peer. */
static void udp_connected_filters_sources(void **st)
{
    (void)st;
    int a, b;
    uint16_t ap, bp;
    S_udp_pair(&a, &ap, &b, &bp);
    int other = udp();
    struct kite_sockaddr_in to_a = S_addr(ap), to_b = S_addr(bp);
    S_OK(S_connect(b, &to_a, SIN_LEN));
    S_RETURNS(S_sendto(other, "noise", 5, 0, &to_b, SIN_LEN), 5);
    S_RETURNS(S_sendto(a, "peer", 4, 0, &to_b, SIN_LEN), 4);
    char buf[8];
    S_RETURNS(S_recv(b, buf, sizeof buf, 0), 4);
    assert_memory_equal(buf, "peer", 4);
    S_FAILS(S_recv(b, buf, sizeof buf, KITE_MSG_DONTWAIT), EAGAIN);
    S_OK(S_close(a));
    S_OK(S_close(b));
    S_OK(S_close(other));
}

/* A connected UDP socket hears ICMP port unreachable as ECONNREFUSED. */
static void udp_connected_refused(void **st)
{
    (void)st;
    int a = udp();
    S_set_timeouts(a, 2000);
    struct kite_sockaddr_in to = S_addr(S_newport());
    S_OK(S_connect(a, &to, SIN_LEN));
    S_RETURNS(S_send(a, "x", 1, 0), 1);
    char b;
    S_FAILS(S_recv(a, &b, 1, 0), ECONNREFUSED);
    S_OK(S_close(a));
}

static void udp_large_datagram(void **st)
{
    (void)st;
    int a, b;
    uint16_t bp;
    S_udp_pair(&a, NULL, &b, &bp);
    static char out[1400], in[1500];
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = (char)(i ^ 0x5a);
    struct kite_sockaddr_in to = S_addr(bp);
    S_RETURNS(S_sendto(a, out, sizeof out, 0, &to, SIN_LEN), sizeof out);
    S_RETURNS(S_recv(b, in, sizeof in, 0), sizeof out);
    assert_memory_equal(in, out, sizeof out);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

static void udp_read_write_connected(void **st)
{
    (void)st;
    int a, b;
    uint16_t ap, bp;
    S_udp_pair(&a, &ap, &b, &bp);
    struct kite_sockaddr_in to_b = S_addr(bp), to_a = S_addr(ap);
    S_OK(S_connect(a, &to_b, SIN_LEN));
    S_OK(S_connect(b, &to_a, SIN_LEN));
    S_RETURNS(S_write(a, "w", 1), 1);
    char buf[4];
    S_RETURNS(S_read(b, buf, sizeof buf), 1);
    struct kite_iovec iov[2] = {{"v1", 2}, {"v2", 2}};
    S_RETURNS(S_writev(b, iov, 2), 4);
    char x[1], y[5];
    struct kite_iovec in[2] = {{x, 1}, {y, 5}};
    S_RETURNS(S_readv(a, in, 2), 4);
    assert_memory_equal(y, "1v2", 3);
    S_OK(S_close(a));
    S_OK(S_close(b));
}

const struct CMUnitTest cases_io[] = {
    S_CASE(tcp_send_recv),
    S_CASE(tcp_write_read),
    S_CASE(tcp_writev_readv),
    S_CASE(tcp_writev_readv_large),
    S_CASE(tcp_writev_zero_iov),
    S_CASE(readv_negative_count),
    S_CASE(tcp_sendmsg_recvmsg),
    S_CASE(tcp_recvfrom_no_address),
    S_CASE(tcp_sendto_connected_ignores_address),
    S_CASE(tcp_zero_length),
    S_CASE(tcp_recv_unconnected),
    S_CASE(tcp_send_unconnected),
    S_CASE(tcp_recv_listener),
    S_CASE(tcp_large_transfer),
    S_CASE(tcp_partial_reads),
    S_CASE(msg_peek_tcp),
    S_CASE(msg_peek_after_partial_read),
    S_CASE(msg_dontwait_recv),
    S_CASE(msg_dontwait_send),
    S_CASE(msg_waitall_eof_short),
    S_CASE(msg_waitall_timeout_returns_part),
    S_CASE(msg_more_tcp),
    S_CASE(msg_nosignal_epipe),
    S_CASE(eof_after_fin),
    S_CASE(send_after_peer_fin_succeeds),
    S_CASE(epipe_after_peer_closed),
    S_CASE(epipe_write_after_peer_closed),
    S_CASE(econnreset_recv),
    S_CASE(econnreset_send),
    S_CASE(econnreset_so_error),
    S_CASE(econnreset_after_data),
    S_CASE(econnreset_getpeername),
    S_CASE(close_with_unread_data_resets),
    S_CASE(udp_sendto_recvfrom),
    S_CASE(udp_boundaries_kept),
    S_CASE(udp_sendmsg_recvmsg),
    S_CASE(udp_zero_length_datagram),
    S_CASE(udp_zero_length_recvmsg),
    S_CASE(udp_truncation),
    S_CASE(udp_truncation_msg_flags),
    S_CASE(udp_msg_trunc_real_length),
    S_CASE(udp_msg_peek),
    S_CASE(udp_msg_dontwait),
    S_CASE(udp_msg_more_joins),
    S_CASE(udp_send_unconnected),
    S_CASE(udp_sendto_port_zero),
    S_CASE(udp_sendto_short_len),
    S_CASE(udp_sendto_wrong_family),
    S_CASE(udp_sendto_binds_ephemeral),
    S_CASE(udp_connected_filters_sources),
    S_CASE(udp_connected_refused),
    S_CASE(udp_large_datagram),
    S_CASE(udp_read_write_connected),
};
const size_t cases_io_n = sizeof cases_io / sizeof cases_io[0];
