#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Goodput of a Linux TCP sender through loss and delay, into kite and into
# the Linux kernel, in one run with one impairment ("TCP core hardening",
# docs/benchmarks.md). Four iperf2 runs of $SECONDS_PER_RUN s each:
#
#   Linux CUBIC -> Linux iperf2 server     Linux CUBIC -> kite-host iperf2 sink (5001)
#   Linux BBR   -> Linux iperf2 server     Linux BBR   -> kite-host iperf2 sink
#
# The impairment is the user-space link emulator bench/netem_relay.c (this
# kernel has no sch_netem): $LOSS_PPM ppm seeded loss and $DELAY_MS ms delay
# on the data direction (sender -> receiver), ACKs untouched; the same relay
# binary, options and seed on both paths. Linux -> Linux runs between two
# namespaces (TAP la <-relay-> TAP lb); Linux -> kite between a namespace
# (TAP tk) and kite-host's TAP (packet socket), see scripts/bench-tcp-tap.sh.
# Everything runs in namespaces this script creates and deletes, addresses
# from 192.0.2.0/24 only; every run is bounded by `timeout`.
#
# Usage: scripts/bench-tcp-loss.sh [BUILD_DIR]     (default: build-h3-tput)
# Build first with the max_throughput profile:
#   cmake -S . -B build-h3-tput -DKITE_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
#         -DKITE_PROFILE=max_throughput && cmake --build build-h3-tput -j2
# Environment: SECONDS_PER_RUN (10), LOSS_PPM (10000), DELAY_MS (10),
#   TCP_BUF (524288), KITE_HOST_BIN and RELAY (other kite-host / netem_relay binaries),
#   SMOKE=1 (2 s per run: checks that it completes and prints figures).
# Exit 0 when every measurement ran, 1 on a failure, 77 when it cannot run.

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build-h3-tput}
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
RELAY=${RELAY:-$BUILD/bin/netem_relay}

# shellcheck source=../tests/interop/lib.sh disable=SC1091
. "$ROOT/tests/interop/lib.sh" "${KITE_HOST_BIN:-$BUILD/bin/kite-host}"
# shellcheck source=bench-lib.sh disable=SC1091
. "$ROOT/scripts/bench-lib.sh"

SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
[ -z "${SMOKE:-}" ] || SECONDS_PER_RUN=2
LOSS_PPM=${LOSS_PPM:-10000}
DELAY_MS=${DELAY_MS:-10}
TCP_BUF=${TCP_BUF:-524288}
unset OFFLOAD BUSY_POLL # plain TAP: no offload, no busy polling
declare -A MBIT

linux_to_linux() {
    local a="kloss-$$-la" b="kloss-$$-lb" srv cc
    lossy_linux_pair "$a" "$b"
    srv=$PAIR_SRV
    for cc in cubic bbr; do
        log "Linux $cc -> Linux, $SECONDS_PER_RUN s"
        MBIT[linux.$cc]=$(iperf_mbit "$a" 192.0.2.12 -Z "$cc")
        sed 's/^/    /' "$KITE_DIR/iperf.out"
        result "Linux $cc -> Linux: ${MBIT[linux.$cc]} Mbit/s"
    done
    stop_bg "$srv"
    stop_bg "$RELAY_PID"
}

linux_to_kite() {
    local k="kloss-$$-k" cc
    lossy_kite_setup "$k"
    relay "$KITE_NS" "tap:tk@$k" "pkt:$KITE_IF"
    addr "$k" tk "$KITE_KERNEL_IP"
    for cc in cubic bbr; do
        log "Linux $cc -> kite, $SECONDS_PER_RUN s"
        kite_run
        MBIT[kite.$cc]=$(iperf_mbit "$k" "$KITE_IP" -Z "$cc")
        sed 's/^/    /' "$KITE_DIR/iperf.out"
        kite_stop
        grep -E '^  tcp\.(ooo_queued|ooo_reclaimed|drop_ooo_full|drop_no_mem|rx|tx) ' "$KITE_LOG"
        grep -E '^  (pbuf_pool|pbuf_ram|tcp_loss) +used ' "$KITE_LOG"
        result "Linux $cc -> kite: ${MBIT[kite.$cc]} Mbit/s"
    done
    stop_bg "$RELAY_PID"
}

ratio() {
    awk -v k="$1" -v l="$2" 'BEGIN {
        if (k + 0 > 0 && l + 0 > 0) printf "%.2f", k / l; else print "n/a" }'
}

kite_require iperf ss
[ -x "$RELAY" ] || fail "$RELAY missing: build $BUILD first"
sysctl -n net.ipv4.tcp_available_congestion_control | grep -qw bbr ||
    skip "tcp_bbr not available (modprobe tcp_bbr)"
kite_setup
trap bench_cleanup EXIT
grep -q 'KITE_PROFILE:STRING=max_throughput' "$BUILD/CMakeCache.txt" 2>/dev/null ||
    log "note: $BUILD is not a max_throughput build"
log "kite-host: $KITE_HOST (sha256 $(sha256sum "$KITE_HOST" | cut -c1-12)), TCP buffers $TCP_BUF"
log "impairment: bench/netem_relay -l $LOSS_PPM -d $DELAY_MS -s 1 (loss $((LOSS_PPM / 10000)).$((LOSS_PPM % 10000 / 100)) %, $DELAY_MS ms, data direction only), same for both receivers"

linux_to_linux
linux_to_kite

print_results
printf '\n  %-18s %12s %12s %10s\n' "sender" "into Linux" "into kite" "kite/Linux"
for cc in cubic bbr; do
    printf '  %-18s %12s %12s %10s\n' "Linux $cc" "${MBIT[linux.$cc]}" "${MBIT[kite.$cc]}" \
        "$(ratio "${MBIT[kite.$cc]}" "${MBIT[linux.$cc]}")"
done
echo "  (Mbit/s, iperf2 $SECONDS_PER_RUN s, loss $LOSS_PPM ppm, delay $DELAY_MS ms via netem_relay)"
for v in "${MBIT[@]}"; do
    [ "$v" != failed ] || fail "an iperf run failed"
done
exit 0
