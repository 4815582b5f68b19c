#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Connection setup rate, kite against lwIP in the same run, and kite's figure
# for 10 000 connections held at once (issue 9 "Scale", docs/benchmarks.md
# "Scale: 10,000 connections and connection rate"). Everything runs in one
# network namespace this script creates and deletes (tests/interop/lib.sh):
# the kernel at 192.0.2.1 on a TAP device, and on the other end, taking turns
# with the same address and MAC (192.0.2.2):
#
#   A  BUILD/bin/kite-host       kite, raw API, TCP echo on port 7 (the build's profile)
#   B  BUILD/bin/lwip_peer       lwIP 2.1.3 (Debian's liblwip-dev), raw API, TCP echo on 7
#
# Rounds are interleaved, A B A B ...: in each, `conn_scale --rate SECONDS
# --parallel P` runs P connections at a time, each connect, one verified
# 32-byte echo, shutdown and the server's FIN, close; it counts the
# connections completed per second. Both stacks get the same P (lwIP's
# Debian build allocates its pcbs with malloc, so P is not bounded by its
# MEMP_NUM_TCP_PCB of 5; 4 is the default all the same, as a small device's
# would be). Then, once each, HOLD connections open at once (conn_scale
# --hold, as tests/interop/test_tcp_scale.sh does), against
#
#   C  BUILD/bin/kite-host-scale kite-host with pools for 10 240 connections
#   D  BUILD/bin/lwip_peer       as B
#
# timing their establishment, a second echo round on all of them and their
# close, and sampling the server's VmRSS while all are open. The medians,
# kite/lwIP, and kite's RAM per held connection (its pools' peak bytes) are
# printed at the end.
#
# The Linux client's closed sockets sit in TIME_WAIT: the namespace (only it)
# gets net.ipv4.tcp_tw_reuse=1 and the port range 1024-65535.
#
# Usage: scripts/bench-conn-rate.sh [BUILD_DIR]     (default: build)
# Environment: ROUNDS (3), SECONDS_PER_RUN (5), PARALLEL (4), HOLD (10000);
# SMOKE=1: 1 round of 1 s and HOLD 1000, checking that every figure is
# printed, never a rate. Exit 0 when every run printed its figures.

set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
BIN="$BUILD/bin"
ROUNDS=${ROUNDS:-3}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
PARALLEL=${PARALLEL:-4}
HOLD=${HOLD:-10000}
if [ -n "${SMOKE:-}" ]; then
    ROUNDS=1 SECONDS_PER_RUN=1 HOLD=1000
fi

# shellcheck source=../tests/interop/lib.sh disable=SC1091
. "$ROOT/tests/interop/lib.sh" "$BIN/kite-host"
# shellcheck disable=SC2034 # read by lib.sh (log lines, the namespace name)
KITE_TEST=bench-conn-rate
kite_require awk nstat pgrep
for b in kite-host kite-host-scale conn_scale lwip_peer; do
    [ -x "$BIN/$b" ] || fail "$BIN/$b not built (lwip_peer needs liblwip-dev: scripts/install-deps.sh)"
done
kite_setup
LWIP_PID=""
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    local rc=$?
    if [ -n "$CLIENT_PID" ]; then
        kill -TERM "$CLIENT_PID" 2>/dev/null
        wait "$CLIENT_PID" 2>/dev/null
    fi
    if [ -n "$LWIP_PID" ]; then
        kill -TERM "$LWIP_PID" 2>/dev/null
        wait "$LWIP_PID" 2>/dev/null
    fi
    (exit "$rc")
    kite_teardown
}
CLIENT_PID=""
SERVER_PID=""
trap cleanup EXIT
ns sysctl -q -w net.ipv4.ip_local_port_range="1024 65535" || fail "sysctl port range"
ns sysctl -q -w net.ipv4.tcp_tw_reuse=1 || fail "sysctl tcp_tw_reuse"

FIGURES="$KITE_DIR/figures" # lines: WHO VALUE
: >"$FIGURES"

# rate WHO: one conn_scale --rate run against whoever serves 192.0.2.2 now.
# retransmits: the namespace's TcpRetransSegs (absolute; nstat keeps no history).
retransmits() { ns nstat -asz TcpRetransSegs | awk '$1 == "TcpRetransSegs" { print $2 }'; }

rate() {
    local out="$KITE_DIR/rate-$1.out" line before
    before=$(retransmits)
    ns timeout $((SECONDS_PER_RUN + 30)) "$BIN/conn_scale" --rate "$SECONDS_PER_RUN" \
        --peer "$KITE_IP:7" --parallel "$PARALLEL" >"$out" 2>&1 ||
        { cat "$out"; fail "conn_scale --rate against $1 failed"; }
    line=$(grep '^conn_scale: started=' "$out") || { cat "$out"; fail "$1: no figures"; }
    log "$1: ${line#conn_scale: }"
    awk -v w="$1" '{ for (i = 1; i <= NF; i++) { split($i, kv, "=");
        if (kv[1] == "conn_per_s") print w, kv[2]; if (kv[1] == "median_us") print w "-us", kv[2] } }' \
        <<<"$line" >>"$FIGURES"
    echo "$1-retrans $(($(retransmits) - before))" >>"$FIGURES"
}

start_kite() { # [KITE-HOST-ARGS...]
    KITE_NO_PCAP=1 kite_start "$@"
    SERVER_PID=$KITE_PID
}

start_lwip() {
    ip netns exec "$KITE_NS" timeout 600 "$BIN/lwip_peer" --tap "$KITE_IF" --ipv4 "$KITE_IP/24" \
        --mac "$KITE_MAC" >"$KITE_DIR/lwip.log" 2>&1 &
    LWIP_PID=$!
    kite_wait_file "$KITE_DIR/lwip.log" '^lwip-peer: up on' "$LWIP_PID" 5 ||
        { cat "$KITE_DIR/lwip.log"; fail "lwip_peer not up"; }
    SERVER_PID=$(pgrep -P "$LWIP_PID" -x lwip_peer) || fail "no lwip_peer under PID $LWIP_PID"
}

stop_lwip() {
    local rc
    kill -TERM "$LWIP_PID"
    wait "$LWIP_PID"
    rc=$?
    LWIP_PID=""
    [ "$rc" -eq 0 ] || { cat "$KITE_DIR/lwip.log"; fail "lwip_peer exited $rc after SIGTERM"; }
}

rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$SERVER_PID/status"; }

# hold WHO: HOLD connections open at once (conn_scale --hold) against the
# server running now; the figures and its memory growth go to FIGURES.
hold() {
    local out="$KITE_DIR/hold-$1.out" before after rc rtx
    before=$(rss_kib)
    rtx=$(retransmits)
    ns timeout 100 "$BIN/conn_scale" --hold "$HOLD" --peer "$KITE_IP:7" --pause 1 --timeout 95 \
        >"$out" 2>&1 &
    CLIENT_PID=$!
    kite_wait_file "$out" '^conn_scale: holding' "$CLIENT_PID" 100 ||
        { cat "$out"; fail "$1: the client never held its connections"; }
    after=$(rss_kib)
    wait "$CLIENT_PID"
    rc=$?
    CLIENT_PID=""
    sed "s/^/    $1: /" "$out"
    [ "$rc" -eq 0 ] || fail "conn_scale --hold $HOLD against $1 exited $rc"
    {
        echo "$1-hold-rss $(((after - before) * 1024 / HOLD))"
        echo "$1-hold-retrans $(($(retransmits) - rtx))"
        awk -v w="$1" '{ for (i = 2; i <= NF; i++) { split($i, kv, "=");
            if (kv[1] == "establish_ms") print w "-hold-ms", kv[2]
            if (kv[1] == "conn_per_s") print w "-hold-rate", kv[2]
            if ($2 ~ /^round2/ && kv[1] == "ms") print w "-hold-round2-ms", kv[2]
            if ($2 ~ /^closed=/ && kv[1] == "ms") print w "-hold-close-ms", kv[2] } }' "$out"
    } >>"$FIGURES"
}

for round in $(seq 1 "$ROUNDS"); do
    log "round $round of $ROUNDS: $SECONDS_PER_RUN s per stack, $PARALLEL connections in parallel"
    start_kite
    rate kite
    kite_stop
    start_lwip
    rate lwip
    stop_lwip
done

log "$HOLD connections held at once: kite-host-scale, then lwip_peer"
# shellcheck disable=SC2034 # read by kite_start (lib.sh)
KITE_HOST=$BIN/kite-host-scale
start_kite --tcp-buf 4096
hold kite
kite_stop
ram=$(awk -v n="$HOLD" '$1 == "pools:" { on = 1; next }
    on && $2 == "used" { if ($1 == "tcp_pcb") { pcb = $5 * $11; size = $11 }
        if ($1 ~ /^pbuf_/) pbuf += $5 * $11 }
    END { printf "%.0f B per connection (tcp_pcb block %d B + pbuf pools peak %d B, over %d)",
        (pcb + pbuf) / n, size, pbuf, n }' "$KITE_LOG")
start_lwip
hold lwip
stop_lwip

median() { # KEY: the median of its values
    awk -v k="$1" '$1 == k { print $2 }' "$FIGURES" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) print "missing";
            else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# row LABEL KEY HOW: kite's and lwIP's medians of KEY and their ratio
# (HOW: "higher" or "lower" is better).
row() {
    local k l
    k=$(median "kite$2")
    l=$(median "lwip$2")
    [ "$k" != missing ] && [ "$l" != missing ] || missing=1
    printf '  %-44s %10s %10s %8s  (%s is better)\n' "$1" "$k" "$l" \
        "$(awk -v a="$k" -v b="$l" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')" "$3"
}

missing=""
log "$(date -u +%F): medians of $ROUNDS round(s) of $SECONDS_PER_RUN s, $PARALLEL in parallel" \
    "(both stacks); the hold once each"
printf '  %-44s %10s %10s %8s\n' measure kite lwIP kite/lwIP
row "connections per second, $PARALLEL in parallel" "" higher
row "one connection's life, median (us)" -us lower
row "  Linux's retransmissions in a run" -retrans lower
row "$HOLD held at once: time to establish (ms)" -hold-ms lower
row "  setup rate while opening them (conn/s)" -hold-rate higher
row "  second echo round on all of them (ms)" -hold-round2-ms lower
row "  closing all of them (ms)" -hold-close-ms lower
row "  Linux's retransmissions in the hold" -hold-retrans lower
printf '  memory while holding %s:\n' "$HOLD"
printf '    kite: %s;\n' "$ram"
printf '      kite-host-scale'"'"'s VmRSS grew %s B per connection: its own struct conn and 4 KiB\n' \
    "$(median kite-hold-rss)"
printf '      echo ring each (the pools are static, resident from the start)\n'
printf '    lwIP: lwip_peer'"'"'s VmRSS grew %s B per connection: lwIP'"'"'s pcb and buffers (malloc'"'"'d)\n' \
    "$(median lwip-hold-rss)"
printf '      and lwip_peer'"'"'s per-connection state\n'
[ -z "$missing" ] || fail "a figure is missing"
