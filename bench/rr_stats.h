/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Round-trip timing shared by bench/tcp_rr_client.c and bench/udp_rr_client.c:
 * the clock, and the summary line the benchmark scripts parse
 * ("... median X ...", microseconds).
 */
#ifndef KITE_BENCH_RR_STATS_H
#define KITE_BENCH_RR_STATS_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double rr_now_us(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static inline int rr_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Sort rtt[0..count) and print "NAME: COUNT round trips of SIZE bytes: min
 * median mean p90 p99 max us" with no line end, for the caller to finish. */
static inline void rr_report(const char *name, double *rtt, unsigned long count, size_t size)
{
    double sum = 0;

    qsort(rtt, count, sizeof(*rtt), rr_cmp_double);
    for (unsigned long i = 0; i < count; i++)
        sum += rtt[i];
    printf("%s: %lu round trips of %zu bytes: min %.1f median %.1f mean %.1f "
           "p90 %.1f p99 %.1f max %.1f us",
           name, count, size, rtt[0], rtt[count / 2], sum / (double)count, rtt[count * 90 / 100],
           rtt[count * 99 / 100], rtt[count - 1]);
}

#endif
