/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kite-run: run an unmodified Linux program with its AF_INET sockets served
 * by kite on a TAP device (docs/kite-run.md).
 *
 *   kite-run --tap IFNAME --ipv4 ADDR/PREFIX [--gw ADDR] [--mac MAC]
 *            [--pcap FILE] [--stats] -- PROGRAM [ARGS...]
 *
 * It sets the KITE_* environment the preloaded library reads, puts
 * libkite-preload.so (found beside this program, or in ../lib) first in
 * LD_PRELOAD, and executes PROGRAM.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PRELOAD_NAME "libkite-preload.so"

static void usage(FILE *out)
{
    fprintf(out, "usage: kite-run --tap IFNAME --ipv4 ADDR/PREFIX [--gw ADDR] [--mac MAC]\n"
                 "                [--pcap FILE] [--stats] -- PROGRAM [ARGS...]\n");
}

/* The library beside this program, else in ../lib relative to it. */
static bool find_preload(char *path, size_t size)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return false;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash == NULL)
        return false;
    *slash = '\0';
    const char *where[] = {"", "/../lib"};
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        if (snprintf(path, size, "%s%s/%s", self, where[i], PRELOAD_NAME) < (int)size &&
            access(path, R_OK) == 0)
            return true;
    }
    return false;
}

static bool set(const char *name, const char *value)
{
    if (setenv(name, value, 1) == 0)
        return true;
    perror("setenv");
    return false;
}

/* LD_PRELOAD with the library first (a program may bring its own). */
static bool set_preload(const char *lib)
{
    const char *old = getenv("LD_PRELOAD");
    if (old == NULL || *old == '\0')
        return set("LD_PRELOAD", lib);
    size_t len = strlen(lib) + strlen(old) + 2;
    char *both = malloc(len);
    if (both == NULL)
        return false;
    snprintf(both, len, "%s:%s", lib, old);
    bool ok = set("LD_PRELOAD", both);
    free(both);
    return ok;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"tap", required_argument, NULL, 't'},  {"ipv4", required_argument, NULL, '4'},
        {"gw", required_argument, NULL, 'g'},   {"mac", required_argument, NULL, 'm'},
        {"pcap", required_argument, NULL, 'p'}, {"stats", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    bool ok = true, have_tap = false, have_ip = false;
    int c;
    while (ok && (c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            ok = set("KITE_TAP", optarg), have_tap = true;
            break;
        case '4':
            ok = set("KITE_IPV4", optarg), have_ip = true;
            break;
        case 'g':
            ok = set("KITE_GW", optarg);
            break;
        case 'm':
            ok = set("KITE_MAC", optarg);
            break;
        case 'p':
            ok = set("KITE_PCAP", optarg);
            break;
        case 's':
            ok = set("KITE_STATS", "1");
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!ok)
        return 2;
    if (!have_tap || !have_ip || optind >= argc) {
        usage(stderr);
        return 2;
    }
    char lib[PATH_MAX];
    if (!find_preload(lib, sizeof lib)) {
        fprintf(stderr, "kite-run: %s not found beside kite-run or in ../lib\n", PRELOAD_NAME);
        return 2;
    }
    if (!set_preload(lib))
        return 2;
    execvp(argv[optind], &argv[optind]);
    fprintf(stderr, "kite-run: cannot run %s: %s\n", argv[optind], strerror(errno));
    return 127;
}
