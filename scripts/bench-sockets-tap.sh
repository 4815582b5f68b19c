#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The socket API against the raw API, and against lwIP's socket API, on one
# TAP device against the same Linux peers (issue 7, docs/benchmarks.md
# "Socket API on a TAP device"). Everything runs in a network namespace this
# script creates and deletes (tests/interop/lib.sh), addresses from
# 192.0.2.0/24 only; every process is bounded by `timeout`.
#
# Linux side (192.0.2.1): bench/tcp_echo_server on 7000, a socat sink on
# 7001, a socat source on 7002 that sends MIB MiB per connection and closes.
# Each round runs, one after another on the same TAP device:
#   bench_sockets_tap       kite, message mode: raw API then sockets (192.0.2.2)
#   bench_sockets_tap_lock  kite, core-lock mode: the same
#   lwip_sock_bench         lwIP 2.1.3 (Debian's liblwip-dev), its socket API
#                           (192.0.2.3: another MAC, so another address)
# measuring 64-byte round trips (median), bulk send and bulk receive. The
# medians over the rounds and the ratios are printed at the end, then every
# round's figures.
#
# Usage: scripts/bench-sockets-tap.sh [--smoke] [BUILD_DIR]   (default: build)
# Environment: ROUNDS (5), MIB (64), RTTS (5000). --smoke: 1 round, 4 MiB,
# 300 round trips; it checks that every figure is printed, never a time.
# Exit 0 when every run printed its figures, 1 otherwise.

set -u
SMOKE=""
if [ "${1:-}" = "--smoke" ]; then
    SMOKE=1
    shift
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
BIN="$BUILD/bin"
ROUNDS=${ROUNDS:-5}
MIB=${MIB:-64}
RTTS=${RTTS:-5000}
if [ -n "$SMOKE" ]; then
    ROUNDS=1 MIB=4 RTTS=300
fi

# shellcheck source=../tests/interop/lib.sh disable=SC1091
. "$ROOT/tests/interop/lib.sh" "$BIN/kite-host"
# shellcheck disable=SC2034 # read by lib.sh (log lines, the namespace name)
KITE_TEST=bench-sockets-tap
kite_require socat
for b in bench_sockets_tap bench_sockets_tap_lock lwip_sock_bench tcp_echo_server; do
    [ -x "$BIN/$b" ] || fail "$BIN/$b not built (lwip_sock_bench needs liblwip-dev: scripts/install-deps.sh)"
done
kite_setup

peer() { # PORT CMD...: a Linux peer in the namespace, tracked for the EXIT trap
    local port=$1
    shift
    ip netns exec "$KITE_NS" timeout 3600 "$@" >>"$KITE_DIR/peers.log" 2>&1 &
    kite_bg_track $!
    for _ in $(seq 1 50); do
        ns ss -ltn | grep -q ":$port " && return 0
        sleep 0.1
    done
    fail "no Linux peer listening on $port"
}
peer 7000 "$BIN/tcp_echo_server" 7000
peer 7001 socat -u TCP-LISTEN:7001,reuseaddr,fork OPEN:/dev/null
peer 7002 socat TCP-LISTEN:7002,reuseaddr,fork SYSTEM:"head -c $((MIB * 1048576)) /dev/zero"
PEERS=(--echo 192.0.2.1:7000 --sink 192.0.2.1:7001 --source 192.0.2.1:7002)

FIGURES="$KITE_DIR/figures" # lines: KEY VALUE (KEY: who.measure)
: >"$FIGURES"

# kite BINARY MODE: one round of raw and sockets in one threading mode.
kite() {
    local out="$KITE_DIR/$2.out"
    ip netns exec "$KITE_NS" timeout 600 "$BIN/$1" --tap "$KITE_IF" --ipv4 "$KITE_IP/24" \
        --mac "$KITE_MAC" "${PEERS[@]}" -n "$MIB" -r "$RTTS" -R 1 >"$out" 2>&1 ||
        { cat "$out"; fail "$1 failed"; }
    awk -v m="$2" '$1 == m && ($2 == "rtt" || $2 == "send" || $2 == "recv") {
        print m "-raw." $2, $4; print m "-sockets." $2, $7 }' "$out" >>"$FIGURES"
}

# lwip MEASURE ARGS...: one run of lwIP's socket API.
lwip() {
    local what=$1 out="$KITE_DIR/lwip.out"
    shift
    ip netns exec "$KITE_NS" timeout 600 "$BIN/lwip_sock_bench" --tap "$KITE_IF" \
        --ipv4 192.0.2.3/24 "$@" >"$out" 2>&1 || { cat "$out"; fail "lwip_sock_bench $what failed"; }
    awk -v w="$what" '$1 == "lwip" && $2 == w {
        for (i = 3; i <= NF; i++) { split($i, kv, "=");
            if (kv[1] == "median_us" || kv[1] == "mbit") print "lwip-sockets." w, kv[2] } }' \
        "$out" >>"$FIGURES"
}

for round in $(seq 1 "$ROUNDS"); do
    log "round $round of $ROUNDS"
    kite bench_sockets_tap message
    kite bench_sockets_tap_lock core-lock
    lwip rtt --rtt "$RTTS" --peer 192.0.2.1:7000
    lwip send --send "$MIB" --peer 192.0.2.1:7001
    lwip recv --recv --peer 192.0.2.1:7002
done

median() { # KEY: the median of its values
    awk -v k="$1" '$1 == k { print $2 }' "$FIGURES" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) print "missing";
            else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ok=1
log "medians of $ROUNDS round(s): $MIB MiB bulk, $RTTS x 64-byte round trips, $(date -u +%F)"
printf '%-10s %14s %14s %14s %14s %14s\n' measure message-raw message-sock core-lock-raw core-lock-sock lwip-sock
for m in rtt send recv; do
    row=()
    for who in message-raw message-sockets core-lock-raw core-lock-sockets lwip-sockets; do
        v=$(median "$who.$m")
        [ "$v" = missing ] && ok=0
        row+=("$v")
    done
    printf '%-10s %14s %14s %14s %14s %14s   (%s)\n' "$m" "${row[@]}" \
        "$([ $m = rtt ] && echo "us, median" || echo "Mbit/s")"
    [ "$ok" = 1 ] || continue
    awk -v m="$m" -v mr="${row[0]}" -v ms="${row[1]}" -v lr="${row[2]}" -v ls="${row[3]}" \
        -v lw="${row[4]}" 'BEGIN {
        if (m == "rtt") printf "  sockets/raw: message %.2fx, core-lock %.2fx (target <= 1.3x); " \
            "kite/lwIP sockets: message %.2fx, core-lock %.2fx (lower is better)\n",
            ms / mr, ls / lr, ms / lw, ls / lw
        else printf "  sockets/raw: message %.0f %%, core-lock %.0f %% (target >= 85 %%); " \
            "kite/lwIP sockets: message %.2fx, core-lock %.2fx (higher is better)\n",
            100 * ms / mr, 100 * ls / lr, ms / lw, ls / lw }'
done
# Every round's figure too: a median of few rounds hides a bimodal measure
# (the message-mode round trip, docs/benchmarks.md).
for m in rtt send recv; do
    for who in message-raw message-sockets core-lock-raw core-lock-sockets lwip-sockets; do
        printf 'per round: %-4s %-17s %s\n' "$m" "$who" \
            "$(awk -v k="$who.$m" '$1 == k { printf "%s ", $2 }' "$FIGURES")"
    done
done
[ "$ok" = 1 ] || fail "a figure is missing"
