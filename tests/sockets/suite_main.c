/* SPDX-License-Identifier: BSD-3-Clause */
/* Runs every case of the suite against the backend linked in.
 * SOCK_FILTER=pattern runs only the matching cases (cmocka's filter). */
#include <stdlib.h>

#include "suite.h"

int main(void)
{
    static struct CMUnitTest all[512];
    const struct {
        const struct CMUnitTest *t;
        size_t n;
    } files[] = {
        {cases_basic, cases_basic_n}, {cases_connect, cases_connect_n},
        {cases_opts, cases_opts_n},   {cases_io, cases_io_n},
        {cases_ready, cases_ready_n}, {cases_threads, cases_threads_n},
    };
    size_t n = 0;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++)
        for (size_t i = 0; i < files[f].n; i++) {
            if (n == sizeof all / sizeof all[0])
                abort();
            all[n++] = files[f].t[i];
        }
    const char *filter = getenv("SOCK_FILTER");
    if (filter && *filter)
        cmocka_set_test_filter(filter);
    char name[64];
    snprintf(name, sizeof name, "sockets_%s", S_backend_name);
    return _cmocka_run_group_tests(name, all, n, NULL, NULL);
}
