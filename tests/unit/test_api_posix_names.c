/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Socket code written with the standard names (socket, struct sockaddr_in,
 * htons, select, close...) compiles unchanged against
 * kite/sockets_posix_names.h and runs over a kite stack thread: the code
 * below the names header is what firmware without a socket layer in its C
 * library would contain.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kite/port/loopif.h"
#include "kite/tcpip.h"
#include "testutil.h"

static struct kite_sockets *app_sockets; /* what KITE_SOCKETS names */
#define KITE_SOCKETS app_sockets
#include "kite/sockets_posix_names.h"

/* ---- Application code, as written for lwIP or Linux ------------------------------- */

static int listen_on(unsigned short port)
{
    int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 1) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void *echo_one(void *arg)
{
    int listener = *(int *)arg;
    int fd = accept(listener, NULL, NULL);
    char buf[64];
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(fd, &rd);
    struct timeval tv = {5, 0};
    if (select(fd + 1, &rd, NULL, NULL, &tv) == 1) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0)
            send(fd, buf, (size_t)n, 0);
    }
    shutdown(fd, SHUT_WR);
    close(fd);
    return NULL;
}

static int ask(unsigned short port, const char *msg, char *reply, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    addr.sin_addr.s_addr = htonl(0x7f000001);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0)
        return -errno;
    write(fd, msg, strlen(msg));
    struct pollfd p = {fd, POLLIN, 0};
    int got = 0;
    while (poll(&p, 1, 5000) == 1) {
        ssize_t n = read(fd, reply + got, cap - (size_t)got);
        if (n <= 0)
            break;
        got += (int)n;
    }
    close(fd);
    return got;
}

/* ---- The harness (kite's own names) ------------------------------------------------ */

static void standard_names_echo(void **state)
{
    (void)state;
    struct kite_stack *stack = calloc(1, sizeof *stack);
    struct kite_loopif *lo = calloc(1, sizeof *lo);
    struct kite_tcpip *t = calloc(1, sizeof *t);
    app_sockets = calloc(1, sizeof *app_sockets);
    assert_int_equal(kite_stack_init(stack, NULL), KITE_ERR_OK);
    assert_int_equal(kite_loopif_add(stack, lo), KITE_ERR_OK);
    assert_int_equal(kite_tcpip_start(t, stack, NULL), KITE_ERR_OK);
    assert_int_equal(kite_sockets_init(app_sockets, t), 0);

    int listener = listen_on(7);
    assert_true(listener >= 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, echo_one, &listener), 0);
    char reply[64] = {0};
    assert_int_equal(ask(7, "ping", reply, sizeof reply), 4);
    assert_string_equal(reply, "ping");
    pthread_join(th, NULL);
    close(listener);

    kite_sockets_deinit(app_sockets);
    kite_tcpip_stop(t);
    kite_stack_poll(stack, kite_stack_now(stack) + 4u * KITE_TCP_MSL_MS);
    kite_loopif_remove(lo);
    kt_assert_pools_empty(stack);
    kite_stack_deinit(stack);
    free(app_sockets);
    free(t);
    free(lo);
    free(stack);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(standard_names_echo)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
