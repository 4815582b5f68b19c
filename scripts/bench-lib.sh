# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# Helpers shared by the TAP benchmarks (scripts/bench-tcp-tap.sh,
# scripts/bench-tcp-loss.sh, scripts/bench-synflood.sh). Source it after
# tests/interop/lib.sh, which provides the namespace with kite's TAP
# (KITE_NS, KITE_IF, KITE_IP, KITE_KERNEL_IP, KITE_DIR, KITE_LOG, log, fail,
# kite_stop). Every namespace made here is deleted by bench_cleanup, every
# background process runs under `timeout` and is killed by PID.
#
# Variables read: TCP_BUF, OFFLOAD, BUSY_POLL, SECONDS_PER_RUN, LOSS_PPM,
# DELAY_MS, RELAY (path of netem_relay).

# shellcheck disable=SC2153 # KITE_IF, KITE_IP, KITE_DIR come from lib.sh

EXTRA_NS=()
EXTRA_PIDS=()
RESULTS=()

result() {
    RESULTS+=("$*")
    log "RESULT: $*"
}

print_results() {
    local line
    log "summary:"
    for line in "${RESULTS[@]}"; do
        printf '  %s\n' "$line"
    done
}

# shellcheck disable=SC2317 # called by the EXIT trap
bench_cleanup() {
    local rc=$? pid ns
    for pid in "${EXTRA_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    for ns in "${EXTRA_NS[@]}"; do
        ip netns del "$ns" 2>/dev/null
    done
    (exit "$rc")
    kite_teardown
}

# bg NS CMD...: run CMD in namespace NS in the background (bounded by timeout);
# its PID (the timeout process) is appended to EXTRA_PIDS and put in BG_PID.
bg() {
    local netns=$1
    shift
    ip netns exec "$netns" timeout "${BG_TIMEOUT:-120}" "$@" &
    BG_PID=$!
    EXTRA_PIDS+=("$BG_PID")
}

stop_bg() {
    kill -TERM "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

new_ns() {
    ip netns add "$1" || fail "ip netns add $1"
    EXTRA_NS+=("$1")
    ip -n "$1" link set lo up
}

# wait_for CMD...: retry CMD every 0.1 s for up to 5 s.
wait_for() {
    for _ in $(seq 1 50); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# kite_run ARGS...: like kite_start, without the pcap (it would cost throughput).
kite_run() {
    ip netns exec "$KITE_NS" "$KITE_HOST" --tap "$KITE_IF" --ipv4 "$KITE_IP/24" \
        --mac "$KITE_MAC" --seed 42 ${TCP_BUF:+--tcp-buf "$TCP_BUF"} ${OFFLOAD:+--offload} \
        ${BUSY_POLL:+--busy-poll "$BUSY_POLL"} "$@" \
        >"$KITE_LOG" 2>&1 &
    KITE_PID=$!
    wait_for grep -q '^kite-host: up on' "$KITE_LOG" || fail "kite-host not up after 5 s"
}

# iperf_mbit NS ADDR [IPERF-ARGS...]: iperf2 client for SECONDS_PER_RUN, prints Mbit/s.
iperf_mbit() {
    local netns=$1 dst=$2
    shift 2
    ip netns exec "$netns" timeout $((SECONDS_PER_RUN + 30)) iperf -c "$dst" \
        -t "$SECONDS_PER_RUN" -f m "$@" >"$KITE_DIR/iperf.out" 2>&1
    awk '/Mbits\/sec/ { v = $(NF - 1) } END { print (v == "" ? "failed" : v) }' \
        "$KITE_DIR/iperf.out"
}

# wait_log PATTERN SECONDS: wait until kite's log has a line matching PATTERN.
wait_log() {
    for _ in $(seq 1 $(($2 * 10))); do
        grep -qE "$1" "$KITE_LOG" && return 0
        kill -0 "$KITE_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# relay NS A B: the link emulator between endpoints A and B, run in NS: LOSS_PPM
# loss and DELAY_MS delay on frames from A to B, B to A untouched.
relay() {
    bg "$1" "$RELAY" -l "$LOSS_PPM" -d "$DELAY_MS" -s 1 -t 100 "$2" "$3"
    # shellcheck disable=SC2034 # read by the scripts that source this file
    RELAY_PID=$BG_PID
}

# addr NS IF ADDR: give the kernel endpoint IF (created by the relay) ADDR/24.
addr() {
    wait_for ip -n "$1" link show "$2" || fail "$2 not created in $1"
    ip -n "$1" addr add "$3/24" dev "$2" || fail "addr add $3 on $2"
    ip -n "$1" link set "$2" up || fail "link up $2"
}

# Move the kernel end of kite's link into namespace $1 behind the relay: kite's
# TAP keeps no address and no ARP, so the kernel cannot bypass the relay.
lossy_kite_setup() {
    new_ns "$1"
    ns ip addr flush dev "$KITE_IF"
    ns ip link set "$KITE_IF" arp off
    ns sysctl -q -w "net.ipv6.conf.$KITE_IF.disable_ipv6=1"
}

# lossy_linux_pair A B: Linux namespaces A (192.0.2.11) and B (192.0.2.12)
# joined through the userspace relay, with an iperf2 server in B. Sets
# PAIR_SRV to the server's PID (stop it and RELAY_PID with stop_bg).
lossy_linux_pair() {
    new_ns "$1"
    new_ns "$2"
    relay "$1" "tap:la" "tap:lb@$2"
    addr "$1" la 192.0.2.11
    addr "$2" lb 192.0.2.12
    bg "$2" iperf -s
    PAIR_SRV=$BG_PID
    wait_for ip netns exec "$2" sh -c "ss -ltn | grep -q ':5001 '" || fail "iperf -s not up"
}
