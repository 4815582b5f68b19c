#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# kr_probe (tests/kite-run/kr_probe.c), what ordinary Linux programs expect
# of their sockets (epoll/poll/select over kite sockets and pipes, dup*,
# fcntl, ioctl, signals and SA_RESTART, fork, name resolution, options,
# other families, UDP control data), run twice in the test's namespace:
# natively, where the kernel is the oracle, then under kite-run as
# 192.0.2.2 on the TAP device. Both runs must pass every check. Then, with
# the kernel's address taken off kt0, getaddrinfo(AI_ADDRCONFIG) once more
# both ways: the kernel then finds no IPv4 address (native: no answer) while
# kite-run, which has one, must still answer. kite's counters at exit show
# it served the kite-run run's sockets (not the kernel) and freed its pbufs.
set -u
. "$(dirname "$0")/lib.sh"
kite_require cc
KR_BIN=$(dirname "$KITE_HOST")
KR_RUN="$KR_BIN/kite-run"
KR_SRC="$(cd "$(dirname "$0")/../kite-run" && pwd)/kr_probe.c"
[ -x "$KR_RUN" ] || skip "$KR_RUN not built"
[ -f "$KR_BIN/../lib/libkite-preload.so" ] || skip "libkite-preload.so not built beside it"
[ -f "$KR_SRC" ] || skip "$KR_SRC missing"
kite_setup

PROBE="$KITE_DIR/kr_probe"
cc -Wall -Wextra -O2 -pthread -o "$PROBE" "$KR_SRC" ||
    fail "kr_probe does not compile"

# probe TAG WHAT [COMMAND...] -- [CHECKS...]: run kr_probe (under the
# command before --, if any; all its checks, or those named) in the
# namespace; its output to $KITE_DIR/TAG.log and the test's log; fails the
# test unless every check passed.
probe() {
    local tag=$1 name=$2 rc
    shift 2
    local pre=()
    while [ "$1" != -- ]; do
        pre+=("$1")
        shift
    done
    shift
    log "$name"
    ns timeout 120 "${pre[@]}" "$PROBE" "$@" >"$KITE_DIR/$tag.log" 2>&1
    rc=$?
    sed 's/^/    /' "$KITE_DIR/$tag.log"
    [ "$rc" -eq 0 ] || fail "$name: kr_probe exited $rc"
    grep -q '^FAIL' "$KITE_DIR/$tag.log" && fail "$name: a check failed"
    grep -q '^ok ' "$KITE_DIR/$tag.log" || fail "$name: no check ran"
}

KR=("$KR_RUN" --tap "$KITE_IF" --ipv4 "$KITE_IP/24" --mac "$KITE_MAC")

STATS="$KITE_DIR/kite-run.stats"
probe native "native Linux (the oracle)" --
probe kite-run "under kite-run" env KITE_STATS="$STATS" "${KR[@]}" --

# kr_stat NAME: a counter (or a pool's "used") from kite-run's report at exit, else 0.
kr_stat() {
    awk -v k="$1" '$1 == k { v = ($2 == "used") ? $3 : $2 } END { print v + 0 }' "$STATS"
}
[ -f "$STATS" ] || fail "kite-run wrote no statistics to $STATS"
log "kite: tcp.passive_opens $(kr_stat tcp.passive_opens), udp.delivered $(kr_stat udp.delivered)"
# The TCP checks accept over 20 connections between them, the UDP checks deliver 4 datagrams.
[ "$(kr_stat tcp.passive_opens)" -ge 20 ] || fail "kite accepted too few connections"
[ "$(kr_stat udp.delivered)" -ge 4 ] || fail "kite delivered too few datagrams"
for pool in pbuf_pool pbuf_ram pbuf_ref; do
    [ "$(kr_stat "$pool")" -eq 0 ] || fail "kite's $pool still holds $(kr_stat "$pool") at exit"
done

# The namespace's kernel keeps only 127.0.0.1 (lo): glibc's AI_ADDRCONFIG
# then drops IPv4 answers natively (the probe expects that when it sees no
# such address), and kite-run, whose kite has 192.0.2.2, must not.
ns ip addr flush dev "$KITE_IF" || fail "ip addr flush"
probe native-noaddr "native, no kernel IPv4 address" -- getaddrinfo_localhost_addrconfig
probe kite-run-noaddr "kite-run, no kernel IPv4 address" "${KR[@]}" -- getaddrinfo_localhost_addrconfig \
    getaddrinfo_numeric gethostbyname_localhost
log "PASS"
