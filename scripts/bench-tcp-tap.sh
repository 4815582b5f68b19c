#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# TCP benchmarks of kite-host over a TAP device against the Linux kernel
# (issue 3, docs/benchmarks.md "TCP"). Everything runs in network namespaces
# this script creates and deletes (tests/interop/lib.sh plus a few of its
# own), with addresses from 192.0.2.0/24 only; every load is bounded.
#
#   (a) iperf2 Linux -> kite:   iperf -c 192.0.2.2 -t $SECONDS (kite's sink on 5001)
#   (b) kite -> Linux bulk:     kite-host --tcp-send into a socat sink
#   (c) 64-byte request/response round trips to kite's TCP echo (tcp_rr_client)
#   (d) goodput at $LOSS_PPM loss and $DELAY_MS ms delay on the data direction:
#       Linux -> Linux, Linux -> kite and kite -> Linux through the same
#       user-space link emulator (bench/netem_relay.c; this kernel has no
#       sch_netem, so `tc qdisc ... netem` cannot be used).
#
# Usage: scripts/bench-tcp-tap.sh [BUILD_DIR]     (default: build-tput)
# Build first with the max_throughput profile:
#   cmake -S . -B build-tput -DKITE_PROFILE=max_throughput -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-tput -j2
# Environment: SECONDS_PER_RUN (10), RR_COUNT (10000), SEND_MIB (2048),
#   LOSSY_SEND_MIB (64), LOSS_PPM (10000), DELAY_MS (10), TCP_BUF (524288).
# Exit 0 when every measurement ran, 1 on a failure, 77 when it cannot run.

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build-tput}
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
RR_CLIENT="$BUILD/bin/tcp_rr_client"
RELAY="$BUILD/bin/netem_relay"

# shellcheck source=../tests/interop/lib.sh disable=SC1091
. "$ROOT/tests/interop/lib.sh" "$BUILD/bin/kite-host"
# shellcheck source=bench-lib.sh disable=SC1091
. "$ROOT/scripts/bench-lib.sh"

SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
RR_COUNT=${RR_COUNT:-10000}
SEND_MIB=${SEND_MIB:-2048}
LOSSY_SEND_MIB=${LOSSY_SEND_MIB:-64}
LOSS_PPM=${LOSS_PPM:-10000}
DELAY_MS=${DELAY_MS:-10}
TCP_BUF=${TCP_BUF:-524288}
# OFFLOAD=1: kite-host --offload (TSO super-frames from the kernel, max_throughput build).
OFFLOAD=${OFFLOAD:-}
# BUSY_POLL=USEC: kite-host --busy-poll (spin on the TAP before sleeping).
BUSY_POLL=${BUSY_POLL:-}
SINK_PORT=5002

# kite_send DST_NS MIB LABEL: kite-host --tcp-send MIB into a socat sink in DST_NS.
kite_send() {
    local netns=$1 bytes=$(($2 * 1048576)) label=$3 sink_pid t0 t1 got mbit
    bg "$netns" sh -c "socat -u TCP-LISTEN:$SINK_PORT,reuseaddr - | wc -c >'$KITE_DIR/sink.count'"
    sink_pid=$BG_PID
    wait_for ip netns exec "$netns" sh -c "ss -ltn | grep -q ':$SINK_PORT '" ||
        fail "socat sink not listening"
    t0=$(date +%s.%N)
    kite_run --tcp-send "$KITE_KERNEL_IP:$SINK_PORT:$bytes"
    wait_log '^kite-host: tcp-send (done|failed)' 300 || fail "$label: tcp-send did not finish"
    t1=$(date +%s.%N)
    wait "$sink_pid" 2>/dev/null
    got=$(cat "$KITE_DIR/sink.count" 2>/dev/null || echo 0)
    [ "$got" = "$bytes" ] || fail "$label: sink got $got of $bytes bytes"
    grep '^kite-host: tcp-send' "$KITE_LOG"
    kite_stop
    mbit=$(awk -v b="$bytes" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.0f", b * 8 / (z - a) / 1e6 }')
    result "$label: $2 MiB, kite's clock $(sed -n 's/.* ms, \(.*\) Mbit\/s/\1/p' "$KITE_LOG" |
        head -1) Mbit/s, wall clock incl. start-up $mbit Mbit/s"
}

# ---- (a) (b) (c): plain TAP --------------------------------------------------

bench_plain() {
    local mbit
    log "(a) iperf2 Linux -> kite, $SECONDS_PER_RUN s"
    kite_run
    wait_for ns ping -c 1 -W 1 "$KITE_IP" || fail "kite does not answer ping"
    mbit=$(iperf_mbit "$KITE_NS" "$KITE_IP")
    sed 's/^/    /' "$KITE_DIR/iperf.out"
    result "(a) iperf2 Linux -> kite over TAP: $mbit Mbit/s"

    log "(c) 64-byte request/response to kite's TCP echo, $RR_COUNT round trips"
    ns timeout 120 "$RR_CLIENT" "$KITE_IP" 7 "$RR_COUNT" 64 1000 >"$KITE_DIR/rr.out" ||
        fail "tcp_rr_client failed: $(cat "$KITE_DIR/rr.out")"
    cat "$KITE_DIR/rr.out"
    result "(c) $(sed 's/^tcp_rr_client: //' "$KITE_DIR/rr.out")"
    kite_stop
    grep '^kite-host: iperf' "$KITE_LOG"
    grep -E '^  (tcp\.(retransmits|rx|tx|drop_no_mem|drop_ooo_full)|tap\.rx_no_mem) ' "$KITE_LOG"

    log "(b) kite -> Linux bulk send, $SEND_MIB MiB"
    kite_send "$KITE_NS" "$SEND_MIB" "(b) kite -> Linux over TAP"
}

# ---- (d): loss and delay -----------------------------------------------------

bench_lossy_linux() {
    local a="kbench-$$-la" b="kbench-$$-lb" srv mbit
    log "(d) Linux -> Linux, loss $LOSS_PPM ppm, delay $DELAY_MS ms, $SECONDS_PER_RUN s"
    lossy_linux_pair "$a" "$b"
    srv=$PAIR_SRV
    for cc in bbr cubic; do
        mbit=$(iperf_mbit "$a" 192.0.2.12 -Z "$cc")
        sed 's/^/    /' "$KITE_DIR/iperf.out"
        result "(d) Linux -> Linux, $LOSS_PPM ppm loss, $DELAY_MS ms, $cc: $mbit Mbit/s"
    done
    stop_bg "$srv"
    stop_bg "$RELAY_PID"
}

# The kernel's own 64-byte round trip over a veth pair (socat echoes through a
# pipe inside one process), for scale: same client, same machine.
bench_rr_linux() {
    local a="kbench-$$-ra" b="kbench-$$-rb" srv
    log "(c) reference: Linux -> Linux echo over veth, $RR_COUNT round trips"
    new_ns "$a"
    new_ns "$b"
    ip -n "$a" link add ra type veth peer name rb netns "$b" || fail "veth"
    ip -n "$a" addr add 192.0.2.21/24 dev ra && ip -n "$a" link set ra up
    ip -n "$b" addr add 192.0.2.22/24 dev rb && ip -n "$b" link set rb up
    bg "$b" socat TCP-LISTEN:7,reuseaddr PIPE
    srv=$BG_PID
    wait_for ip netns exec "$b" sh -c "ss -ltn | grep -q ':7 '" || fail "socat echo not up"
    ip netns exec "$a" timeout 120 "$RR_CLIENT" 192.0.2.22 7 "$RR_COUNT" 64 1000 \
        >"$KITE_DIR/rr.out" || fail "tcp_rr_client failed: $(cat "$KITE_DIR/rr.out")"
    cat "$KITE_DIR/rr.out"
    stop_bg "$srv"
    result "(c) reference, Linux socat echo over veth: $(sed 's/^tcp_rr_client: //' "$KITE_DIR/rr.out")"
}

bench_lossy_kite() {
    local k="kbench-$$-k" mbit
    lossy_kite_setup "$k"
    log "(d) Linux -> kite, loss $LOSS_PPM ppm, delay $DELAY_MS ms, $SECONDS_PER_RUN s"
    relay "$KITE_NS" "tap:tk@$k" "pkt:$KITE_IF"
    addr "$k" tk "$KITE_KERNEL_IP"
    for cc in bbr cubic; do
        kite_run
        mbit=$(iperf_mbit "$k" "$KITE_IP" -Z "$cc")
        sed 's/^/    /' "$KITE_DIR/iperf.out"
        kite_stop
        grep -E '^  tcp\.(ooo_queued|drop_ooo_full|rx|tx) ' "$KITE_LOG"
        result "(d) Linux -> kite, $LOSS_PPM ppm loss, $DELAY_MS ms, $cc: $mbit Mbit/s"
    done
    stop_bg "$RELAY_PID"

    log "(d) kite -> Linux, loss $LOSS_PPM ppm, delay $DELAY_MS ms, $LOSSY_SEND_MIB MiB"
    ip -n "$k" link del tk 2>/dev/null
    relay "$KITE_NS" "pkt:$KITE_IF" "tap:tk@$k"
    addr "$k" tk "$KITE_KERNEL_IP"
    kite_send "$k" "$LOSSY_SEND_MIB" "(d) kite -> Linux, $LOSS_PPM ppm loss, $DELAY_MS ms"
    grep -E '^  tcp\.(retransmits|fast_retransmits|rto_timeouts|sack_recoveries) ' "$KITE_LOG"
    stop_bg "$RELAY_PID"
}

kite_require iperf socat ss
for tool in "$RR_CLIENT" "$RELAY"; do
    [ -x "$tool" ] || fail "$tool missing: build $BUILD first"
done
kite_setup
trap bench_cleanup EXIT
grep -q 'KITE_PROFILE:STRING=max_throughput' "$BUILD/CMakeCache.txt" 2>/dev/null ||
    log "note: $BUILD is not a max_throughput build"
log "kite-host: $KITE_HOST, TCP buffers $TCP_BUF"

bench_plain
bench_rr_linux
bench_lossy_linux
bench_lossy_kite

print_results
exit 0
