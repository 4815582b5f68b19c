/* SPDX-License-Identifier: BSD-3-Clause */
/* The one error type of kite: 0 is success, every failure is negative. */
#ifndef KITE_ERR_H
#define KITE_ERR_H

/* X(name, value, description). The socket layer maps these to errno. */
// clang-format off
#define KITE_ERR_LIST(X)                                                   \
    X(OK, 0, "no error")                                                   \
    X(MEM, -1, "out of memory (a pool is exhausted)")                      \
    X(BUF, -2, "buffer too small")                                         \
    X(TIMEOUT, -3, "timed out")                                            \
    X(ROUTE, -4, "no route to destination")                                \
    X(INPROGRESS, -5, "operation in progress")                             \
    X(VAL, -6, "invalid value")                                            \
    X(WOULDBLOCK, -7, "operation would block")                             \
    X(INUSE, -8, "address in use")                                         \
    X(ALREADY, -9, "already connecting or bound")                          \
    X(ISCONN, -10, "already connected")                                    \
    X(NOTCONN, -11, "not connected")                                       \
    X(NETIF, -12, "network interface error")                               \
    X(ABORTED, -13, "connection aborted")                                  \
    X(RESET, -14, "connection reset")                                      \
    X(CLOSED, -15, "connection closed")                                    \
    X(ARG, -16, "illegal argument")                                        \
    X(TRUNCATED, -17, "input shorter than its headers claim")              \
    X(MALFORMED, -18, "malformed input")                                   \
    X(CHECKSUM, -19, "bad checksum")                                       \
    X(UNSUPPORTED, -20, "unsupported feature or protocol")                 \
    X(UNREACHABLE, -21, "destination unreachable")                         \
    X(NOTFOUND, -22, "not found")                                          \
    X(REFUSED, -23, "connection refused (ICMP port unreachable)")

// clang-format on
enum kite_err {
#define KITE_ERR_ENUM_(name, value, text) KITE_ERR_##name = (value),
    KITE_ERR_LIST(KITE_ERR_ENUM_)
#undef KITE_ERR_ENUM_
};

/** A constant, human-readable description of an error code. */
const char *kite_err_str(enum kite_err err);

/** The short name of an error code ("MEM", "ROUTE", ...). */
const char *kite_err_name(enum kite_err err);

#endif
