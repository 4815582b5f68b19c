#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# TCP connection setup time to kite-host, unloaded and under a SYN flood
# ("TCP core hardening", docs/benchmarks.md). One namespace holds kite's TAP
# (tests/interop/lib.sh: kernel 192.0.2.1, kite-host 192.0.2.2, default
# profile, gateway 192.0.2.1):
#
#   1. unloaded: bench/tcp_connect_time.py from 192.0.2.1 opens $CONNECTS
#      connections to kite's TCP discard port one after the other (connect
#      timeout $CONNECT_TIMEOUT s) and prints the median and p95 of connect();
#   2. under flood: bench/syn_flood.py writes $FLOOD_PPS SYN/s to the same
#      port onto the TAP (packet socket), from random addresses and ports of
#      198.51.100.0/24 (never outside it; nothing answers kite's SYN-ACKs, the
#      kernel does not forward them), and after $FLOOD_WARMUP s the same client
#      measures again, for at most $CONNECTS connects or $FLOOD_BUDGET s.
#
# Prints both, the flood/unloaded ratio of the medians and p95s, and how many
# connects failed or timed out under the flood. The flood is bounded in count
# and time (syn_flood.py --count/--seconds, under `timeout`); the namespace
# is deleted on exit.
#
# Usage: scripts/bench-synflood.sh [BUILD_DIR]     (default: build-h3)
#   cmake -S . -B build-h3 -DKITE_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
#   cmake --build build-h3 -j2
# Environment: CONNECTS (200), CONNECT_TIMEOUT (1), FLOOD_PPS (500),
#   FLOOD_WARMUP (2), FLOOD_BUDGET (30), PORT (9), KITE_HOST_BIN (another
#   kite-host binary, e.g. a saved one), SMOKE=1 (a few seconds per phase:
#   checks that it completes and prints figures, asserts nothing).
# Exit 0 when both phases ran (whatever the figures), 1 on a failure, 77 when
# it cannot run.

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build-h3}
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
PY=/usr/bin/python3

# shellcheck source=../tests/interop/lib.sh disable=SC1091
. "$ROOT/tests/interop/lib.sh" "${KITE_HOST_BIN:-$BUILD/bin/kite-host}"
# shellcheck source=bench-lib.sh disable=SC1091
. "$ROOT/scripts/bench-lib.sh"

CONNECTS=${CONNECTS:-200}
CONNECT_TIMEOUT=${CONNECT_TIMEOUT:-1}
FLOOD_PPS=${FLOOD_PPS:-500}
FLOOD_WARMUP=${FLOOD_WARMUP:-2}
FLOOD_BUDGET=${FLOOD_BUDGET:-30}
PORT=${PORT:-9}
if [ -n "${SMOKE:-}" ]; then
    CONNECTS=20
    FLOOD_WARMUP=1
    FLOOD_BUDGET=3
fi
unset TCP_BUF OFFLOAD BUSY_POLL # kite-host's defaults
FLOOD_SECONDS=$((FLOOD_WARMUP + FLOOD_BUDGET + CONNECT_TIMEOUT + 5))
FLOOD_COUNT=$((FLOOD_PPS * FLOOD_SECONDS))

# measure LABEL [ARGS...]: run the connect client, keep its line in $KITE_DIR/LABEL.out.
measure() {
    local label=$1
    shift
    ns timeout $((FLOOD_BUDGET + 60)) "$PY" "$ROOT/bench/tcp_connect_time.py" "$KITE_IP" "$PORT" \
        "$@" --count "$CONNECTS" --timeout "$CONNECT_TIMEOUT" --budget "$FLOOD_BUDGET" \
        >"$KITE_DIR/$label.out" 2>&1 || fail "tcp_connect_time.py failed: $(cat "$KITE_DIR/$label.out")"
    cat "$KITE_DIR/$label.out"
}

# field FILE NAME: "median" or "p95" (microseconds) or "failed" from a client line.
field() {
    case $2 in
    median) sed -n 's/.*median \([0-9na/]*\) us.*/\1/p' "$1" ;;
    p95) sed -n 's/.*p95 \([0-9na/]*\) us.*/\1/p' "$1" ;;
    failed) sed -n 's/.* \([0-9]*\) failed.*/\1/p' "$1" ;;
    tried) sed -n 's/^connect: \([0-9]*\) tried.*/\1/p' "$1" ;;
    esac
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'
}

kite_require ss
[ -x "$PY" ] || skip "$PY missing"
kite_setup
trap bench_cleanup EXIT
log "kite-host: $KITE_HOST (sha256 $(sha256sum "$KITE_HOST" | cut -c1-12))"
kite_run --gw "$KITE_KERNEL_IP"
wait_for ns ping -c 1 -W 1 "$KITE_IP" || fail "kite does not answer ping"

log "unloaded: $CONNECTS connects to $KITE_IP:$PORT, timeout $CONNECT_TIMEOUT s"
measure unloaded --warmup 5

log "flood: $FLOOD_PPS SYN/s to $KITE_IP:$PORT from 198.51.100.0/24 (at most $FLOOD_COUNT in $FLOOD_SECONDS s)"
BG_TIMEOUT=$((FLOOD_SECONDS + 10)) bg "$KITE_NS" "$PY" "$ROOT/bench/syn_flood.py" \
    --iface "$KITE_IF" --dst-mac "$KITE_MAC" --dst "$KITE_IP" --dport "$PORT" \
    --src-net 198.51.100.0/24 --pps "$FLOOD_PPS" --count "$FLOOD_COUNT" \
    --seconds "$FLOOD_SECONDS"
flood=$BG_PID
sleep "$FLOOD_WARMUP"
log "under flood: up to $CONNECTS connects or $FLOOD_BUDGET s"
measure flood
stop_bg "$flood"

kite_stop
grep -E '^  tcp\.(passive_opens|syn_cookies_sent|syn_cookies_ok|drop_listen_no_pcb|drop_bad_cookie) ' \
    "$KITE_LOG"
grep -E '^  tcp_pcb ' "$KITE_LOG"

u=$KITE_DIR/unloaded.out f=$KITE_DIR/flood.out
result "unloaded: median $(field "$u" median) us, p95 $(field "$u" p95) us, $(field "$u" failed) of $(field "$u" tried) failed"
result "SYN flood $FLOOD_PPS/s: median $(field "$f" median) us, p95 $(field "$f" p95) us, $(field "$f" failed) of $(field "$f" tried) failed or timed out (${CONNECT_TIMEOUT} s)"
result "flood/unloaded ratio: median $(ratio "$(field "$f" median)" "$(field "$u" median)"), p95 $(ratio "$(field "$f" p95)" "$(field "$u" p95)") (n/a: no connect succeeded; target after hardening: <= 2, no failures)"
print_results
exit 0
