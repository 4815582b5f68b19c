#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# kite against lwIP, side by side (issue 9, docs/benchmarks.md "kite against
# lwIP, side by side"): the same measurements of both stacks on one TAP
# device, in one network namespace, with the same addresses (192.0.2.2 and
# kite-host's MAC for both; the kernel's neighbour entry is flushed at every
# change of stack), against the same Linux programs, rounds interleaved: in
# every round each measurement runs for kite, then for lwIP (A B A B ...).
# The namespace is made and deleted by tests/interop/lib.sh (kernel kt0
# 192.0.2.1/24), addresses from 192.0.2.0/24 only; every process is bounded
# by `timeout` or stopped by its own PID.
#
#   kite: kite-host (raw API, the build's profile; max_throughput expected)
#   lwIP: bench/lwip_peer (Debian's lwIP 2.1.3, raw API, the same services;
#         its configuration is documented at the top of bench/lwip_peer.c)
#
#   measure           how                                        figure
#   rx                Linux `iperf -c` (iperf2) -> the stack's     the client's Mbit/s
#                     sink on 5001, SECONDS_PER_RUN
#   tx8, tx256        the stack's --tcp-send TX_MIB of kite-host's the receiver's Mbit/s,
#                     pattern -> bench/tcp_sink reading 8 KiB /   accept to EOF
#                     256 KiB per recv()
#   rtt_tcp, rtt_udp  bench/tcp_rr_client, bench/udp_rr_client:   median, us
#                     64-byte echo on port 7, RR_COUNT round trips
#   ping              ping -c PING_COUNT -i 0.002                  average, us
#   *_cpu             bytes moved per CPU-second of the stack      MB / CPU-s
#                     process (utime + stime of all its threads:
#                     /proc/PID/stat around the iperf run; for a
#                     send, the process's total when it is done:
#                     /proc for kite-host, lwip_peer's own
#                     getrusage line as it exits)
#   tx*_ksh           for a send, the kernel's share (stime) of    %
#                     that CPU
#   tx*_kcpu          bytes per CPU-second of the stime alone:     MB / CPU-s
#                     what a stack doing no work of its own would
#                     reach at best over a plain TAP
#   rx_load           the stack's CPU during the iperf run          % of one core
#   sockets           kite's socket API (bench/bench_sockets_tap,   median us, Mbit/s
#                     message and core-lock builds) against lwIP's
#                     (bench/lwip_sock_bench), as scripts/bench-sockets-tap.sh
#                     runs them: 64-byte round trips to a Linux echo server,
#                     SOCK_MIB sent to a Linux sink, received from a Linux source
#   kite-run          unmodified Linux programs under kite-run against lwIP's
#                     socket API doing the same: tcp_rr_client vs lwip_sock_bench
#                     --rtt (same echo server, same count), iperf -c -l 16K -n
#                     vs lwip_sock_bench --send (16 KiB send()s both; the Linux
#                     tcp_sink's figure for both), tcp_sink --connect (16 KiB
#                     recv()s) vs lwip_sock_bench --recv (same source, both timed
#                     from connected to EOF). lwIP has no kite-run: its socket
#                     API is the nearest thing, and its rtt and recv figures are
#                     those of the "sockets" runs of the same round.
#   offload           kite-host --offload (virtio-net header: TSO/GSO super-frames)
#                     against lwIP's plain TAP figures of the same round (tapif has
#                     no offload): rx, tx8, tx256 and their CPU figures. The TAP
#                     device is made anew after it (the offload setting outlives
#                     kite-host, and tapif cannot read super-frames).
#
# Printed at the end: per measure the median of each stack, the ratio
# kite/lwIP and every round's values, then the same as a markdown table, with
# the date and the commit.
#
# Usage: scripts/bench-vs-lwip.sh [--smoke] [BUILD_DIR]     (default: build-tput)
#   cmake -S . -B build-tput -DKITE_PROFILE=max_throughput -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-tput -j2
# Environment: ROUNDS (5, at least 3), SECONDS_PER_RUN (10), TX_MIB (1024),
#   RR_COUNT (10000), RR_WARMUP (1000), PING_COUNT (1000), SOCK_MIB (64),
#   SOCK_RTTS (5000), TCP_BUF (kite-host --tcp-buf, unset: its default).
#   SMOKE=1 or --smoke: one round of about 2 s per measurement, tcp_sink checks
#   the pattern; it checks that every configuration completes and prints a
#   figure, never a time. KITE_KEEP=1 keeps the logs.
# Exit 0 when every run of every configuration printed its figure, 1 otherwise
# (the table is printed either way).

# shellcheck disable=SC2153 # KITE_IP, KITE_IF, KITE_DIR, ... come from lib.sh
set -u
COMMAND="$0 $*"
SMOKE=${SMOKE:-}
if [ "${1:-}" = "--smoke" ]; then
    SMOKE=1
    shift
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build-tput}
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
[ -d "$BUILD" ] || BUILD="$ROOT/${1:-build-tput}" # a build dir named relative to the repo
BIN="$BUILD/bin"
ROUNDS=${ROUNDS:-5}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
TX_MIB=${TX_MIB:-1024}
RR_COUNT=${RR_COUNT:-10000}
RR_WARMUP=${RR_WARMUP:-1000}
PING_COUNT=${PING_COUNT:-1000}
SOCK_MIB=${SOCK_MIB:-64}
SOCK_RTTS=${SOCK_RTTS:-5000}
if [ -n "$SMOKE" ]; then
    ROUNDS=1 SECONDS_PER_RUN=2 TX_MIB=256 RR_COUNT=2000 RR_WARMUP=200 PING_COUNT=300
    SOCK_MIB=16 SOCK_RTTS=1000
fi
SMALL_CHUNK=8192
LARGE_CHUNK=262144
IPERF_PORT=5001 # the stacks' iperf2 sinks
ECHO_PORT=7     # the stacks' TCP and UDP echo
SINK_PORT=5002  # tcp_sink for the stacks' --tcp-send
RUN_SINK_PORT=5004
LINUX_ECHO=7000 # Linux peers of the socket API runs
LINUX_SINK=7001
LINUX_SOURCE=7002

# shellcheck source=../tests/interop/lib.sh disable=SC1091
. "$ROOT/tests/interop/lib.sh" "$BIN/kite-host"
# shellcheck source=bench-lib.sh disable=SC1091
. "$ROOT/scripts/bench-lib.sh"
# shellcheck disable=SC2034 # read by lib.sh (log lines, the namespace name)
KITE_TEST=bench-vs-lwip
kite_require iperf ping socat ss getconf
[ -n "$SMOKE" ] || [ "$ROUNDS" -ge 3 ] 2>/dev/null || fail "ROUNDS=$ROUNDS: at least 3 (or SMOKE=1)"
for f in kite-host lwip_peer lwip_sock_bench tcp_sink tcp_rr_client udp_rr_client \
    tcp_echo_server bench_sockets_tap bench_sockets_tap_lock kite-run; do
    [ -x "$BIN/$f" ] || fail "$BIN/$f not built: cmake --build $BUILD -j2" \
        "(lwip_peer and lwip_sock_bench need liblwip-dev: scripts/install-deps.sh)"
done
[ -e "$BUILD/lib/libkite-preload.so" ] || fail "$BUILD/lib/libkite-preload.so not built"
"$BIN/kite-host" --help 2>&1 | grep -q -- '--offload: available' ||
    fail "this kite-host refuses --offload: use a max_throughput build (build-tput)"
HZ=$(getconf CLK_TCK)

# Processes (track, stop_pid, cleanup) and medians: bench-rounds.sh.
# shellcheck source=bench-rounds.sh disable=SC1091
. "$ROOT/scripts/bench-rounds.sh"

# ---- Figures and notes ---------------------------------------------------------------------

FIGURES="" # lines: KEY VALUE, KEY = who.measure (kite.rx, lwip.rx, off.rx, sockmsg.rtt, ...)
NOTES=()
FAILURES=0
round=0

note() {
    NOTES+=("round $round: $*")
    log "note: $*"
}

# failed WHAT: a configuration did not complete or printed no figure.
failed() {
    FAILURES=$((FAILURES + 1))
    note "FAILED: $*"
}

# A value that is not a number (see figure in bench-rounds.sh) fails the run.
no_figure() { failed "$1: no figure"; }

# mb_per_cpu_s BYTES CPU_SECONDS: megabytes (10^6) moved per CPU-second.
mb_per_cpu_s() {
    awk -v b="$1" -v s="$2" 'BEGIN { if (b > 0 && s > 0) printf "%.0f", b / 1e6 / s }'
}

# proc_cpu_s PID: utime + stime of the process, every thread, in seconds (proc(5)).
proc_cpu_s() {
    awk -v hz="$HZ" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat" \
        2>/dev/null
}

# proc_sys_s PID: stime alone: the kernel's work in the stack's system calls.
proc_sys_s() {
    awk -v hz="$HZ" '{ sub(/^.*\) /, ""); printf "%.2f", $13 / hz }' "/proc/$1/stat" 2>/dev/null
}

# percent PART WHOLE
percent() {
    awk -v p="$1" -v w="$2" 'BEGIN { if (p != "" && w > 0) printf "%.0f", 100 * p / w }'
}

# ---- The stacks: kite-host (raw API), kite-host --offload, lwip_peer (lwIP's raw API) -------

SPID="" # the running stack process
SLOG=""
LWIP_LOG=""

# stack_start WHO [ARGS...]: WHO kite, off (kite-host --offload) or lwip, as
# 192.0.2.2 with kite-host's MAC; sets SPID and SLOG. Fails (1) if it does not come up.
stack_start() {
    local who=$1
    shift
    ns ip neigh flush dev "$KITE_IF" 2>/dev/null
    case "$who" in
    lwip)
        LWIP_LOG="$KITE_DIR/lwip-peer.log"
        SLOG=$LWIP_LOG
        ip netns exec "$KITE_NS" "$BIN/lwip_peer" --tap "$KITE_IF" --ipv4 "$KITE_IP/24" \
            --mac "$KITE_MAC" "$@" >"$SLOG" 2>&1 &
        SPID=$!
        track "$SPID"
        kite_wait_file "$SLOG" '^lwip-peer: up on' "$SPID" 5 || {
            failed "lwip_peer did not start: $(tr '\n' ' ' <"$SLOG")"
            stack_stop lwip
            return 1
        }
        ;;
    kite | off)
        # bench-lib.sh's kite_run: no capture, TCP_BUF, OFFLOAD as bench-tcp-tap.sh
        # passes them; it fails the whole run if kite-host does not come up.
        if [ "$who" = off ]; then
            OFFLOAD=1 kite_run "$@"
        else
            OFFLOAD="" kite_run "$@"
        fi
        SPID=$KITE_PID
        SLOG=$KITE_LOG
        ;;
    esac
}

# stack_stop WHO [SECONDS]: stop the stack (after SECONDS for it to end by
# itself); keep its log. A nonzero exit (kite-host: a pool block leaked;
# lwip_peer: a failed --tcp-send) is noted.
stack_stop() {
    [ -n "$SPID" ] || return 0
    stop_pid "$SPID" "${2:-0}"
    [ "$STOP_RC" = 0 ] || note "$1 stack exited $STOP_RC"
    [ "$SPID" = "${KITE_PID:-}" ] && KITE_PID=""
    cat "$SLOG" >>"$KITE_DIR/$1.all.log"
    SPID=""
}

# stack_answers: 192.0.2.2 answers a ping (ARP resolved, the stack is up).
stack_answers() {
    for _ in $(seq 1 25); do
        ns timeout -k 5 2 ping -c 1 -W 1 "$KITE_IP" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}

# ---- Measurements against the stack's own services -----------------------------------------

ping_avg() { # KEY
    local out="$KITE_DIR/ping.out"
    ns timeout -k 5 $((PING_COUNT / 100 + 30)) ping -q -c "$PING_COUNT" -i 0.002 -W 1 \
        "$KITE_IP" >"$out" 2>&1
    cat "$out" >>"$KITE_DIR/ping.all.log"
    figure "$1" "$(awk -F/ '/^(rtt|round-trip)/ { printf "%.1f", $5 * 1000 }' "$out")"
}

rr_median() { # KEY CLIENT: tcp_rr_client or udp_rr_client against the echo on port 7
    local out="$KITE_DIR/rr.out"
    ns timeout -k 5 120 "$BIN/$2" "$KITE_IP" "$ECHO_PORT" "$RR_COUNT" 64 "$RR_WARMUP" \
        >"$out" 2>&1
    cat "$out" >>"$KITE_DIR/rr.all.log"
    figure "$1" "$(sed -n 's/.* median \([0-9.]*\) .*/\1/p' "$out")"
}

# rx_iperf WHO: iperf2 Linux -> the stack's sink, and the stack's CPU meanwhile.
rx_iperf() {
    local out="$KITE_DIR/iperf.out" c0 c1 bytes bps
    c0=$(proc_cpu_s "$SPID")
    ns timeout -k 5 $((SECONDS_PER_RUN + 30)) iperf -c "$KITE_IP" -p "$IPERF_PORT" \
        -t "$SECONDS_PER_RUN" -y C >"$out" 2>&1
    c1=$(proc_cpu_s "$SPID")
    cat "$out" >>"$KITE_DIR/iperf.all.log"
    # CSV: date,src,sport,dst,dport,id,interval,bytes,bits_per_second
    read -r bytes bps < <(awk -F, 'NF >= 9 { b = $8; r = $9 } END { print b + 0, r + 0 }' "$out")
    figure "$1.rx" "$(awk -v r="$bps" 'BEGIN { if (r > 0) printf "%.0f", r / 1e6 }')"
    figure "$1.rx_cpu" "$(mb_per_cpu_s "$bytes" "$(awk -v a="$c0" -v b="$c1" \
        'BEGIN { print b - a }')")"
    [ "$1" = off ] || figure "$1.rx_load" "$(awk -v a="$c0" -v b="$c1" -v s="$SECONDS_PER_RUN" \
        'BEGIN { if (b > a) printf "%.0f", 100 * (b - a) / s }')"
}

# server_measures WHO: one start of the stack: ping, TCP and UDP round trips,
# then iperf2 Linux -> stack (off: iperf only).
server_measures() {
    local who=$1
    stack_start "$who" || return
    if stack_answers; then
        if [ "$who" != off ]; then
            ping_avg "$who.ping"
            rr_median "$who.rtt_tcp" tcp_rr_client
            rr_median "$who.rtt_udp" udp_rr_client
        fi
        rx_iperf "$who"
    else
        failed "$who does not answer ping"
    fi
    stack_stop "$who"
}

# tx_run WHO CHUNK KEY: the stack's --tcp-send of TX_MIB into tcp_sink reading
# CHUNK bytes per recv(); the receiver's Mbit/s and the sender's bytes per CPU-second.
tx_run() {
    local who=$1 chunk=$2 key=$3 bytes=$((TX_MIB * 1048576)) out="$KITE_DIR/sink.out"
    local sink_pid cpu="" sys="" prefix=kite-host linger=0 verify=()
    [ "$who" != lwip ] || prefix=lwip-peer linger=10
    [ -z "$SMOKE" ] || verify=(--verify-pattern)
    ip netns exec "$KITE_NS" timeout -k 5 300 "$BIN/tcp_sink" --port "$SINK_PORT" \
        --chunk "$chunk" --expect "$bytes" --timeout 30 "${verify[@]}" >"$out" 2>&1 &
    sink_pid=$!
    track "$sink_pid"
    if ! kite_wait_file "$out" '^tcp_sink: listening' "$sink_pid" 5; then
        failed "$who.$key: tcp_sink did not listen: $(tr '\n' ' ' <"$out")"
        stop_pid "$sink_pid"
        return
    fi
    if stack_start "$who" --tcp-send "$KITE_KERNEL_IP:$SINK_PORT:$bytes"; then
        if kite_wait_file "$SLOG" "^$prefix: tcp-send (done|failed)" "$SPID" 300; then
            grep "^$prefix: tcp-send" "$SLOG" | sed 's/^/    /'
            # kite-host idles on after its transfer: its CPU so far is the transfer's.
            [ "$who" = lwip ] || { cpu=$(proc_cpu_s "$SPID") && sys=$(proc_sys_s "$SPID"); }
        else
            failed "$who.$key: --tcp-send did not finish in 300 s"
        fi
        # lwip_peer exits by itself once the receiver closed (its last lines:
        # counters and CPU time); kite-host is stopped.
        stack_stop "$who" "$linger"
        if [ "$who" = lwip ]; then
            cpu=$(awk '/^lwip-peer: cpu user/ { print $4 + $7 }' "$LWIP_LOG")
            sys=$(awk '/^lwip-peer: cpu user/ { print $7 }' "$LWIP_LOG")
        fi
    fi
    stop_pid "$sink_pid" 30
    cat "$out" >>"$KITE_DIR/sink.all.log"
    if [ "$STOP_RC" != 0 ]; then
        failed "$who.$key: tcp_sink exited $STOP_RC: $(tr '\n' ' ' <"$out")"
        return
    fi
    figure "$who.$key" "$(sed -n 's/^tcp_sink: .* mbit=\([0-9.]*\) .*/\1/p' "$out")"
    figure "$who.${key}_cpu" "$(mb_per_cpu_s "$bytes" "$cpu")"
    # The kernel's share: over a plain TAP each frame's trip through the
    # Linux receiver runs inside the sender's write(), whatever the stack.
    figure "$who.${key}_ksh" "$(percent "$sys" "$cpu")"
    figure "$who.${key}_kcpu" "$(mb_per_cpu_s "$bytes" "$sys")"
}

# ---- Socket API and kite-run (Linux peers on 7000, 7001, 7002) -----------------------------

linux_peer() { # PORT CMD...: a Linux peer in the namespace for the whole run
    local port=$1
    shift
    ip netns exec "$KITE_NS" timeout -k 5 7200 "$@" >>"$KITE_DIR/peers.log" 2>&1 &
    track $!
    wait_for ns sh -c "ss -ltn | grep -q ':$port '" || fail "no Linux peer listening on $port"
}

# sock_kite BINARY WHO: kite's socket API, one round of rtt, send and recv.
sock_kite() {
    local out="$KITE_DIR/$2.out" m
    ns ip neigh flush dev "$KITE_IF" 2>/dev/null
    ns timeout -k 5 600 "$BIN/$1" --tap "$KITE_IF" --ipv4 "$KITE_IP/24" --mac "$KITE_MAC" \
        --echo "$KITE_KERNEL_IP:$LINUX_ECHO" --sink "$KITE_KERNEL_IP:$LINUX_SINK" \
        --source "$KITE_KERNEL_IP:$LINUX_SOURCE" -n "$SOCK_MIB" -r "$SOCK_RTTS" -R 1 \
        >"$out" 2>&1 || note "$1 exited $?: $(tail -3 "$out" | tr '\n' ' ')"
    cat "$out" >>"$KITE_DIR/sockets.all.log"
    for m in rtt send recv; do
        # "MODE MEASURE raw VALUE UNIT sockets VALUE UNIT ...": the sockets figure
        figure "$2.$m" "$(awk -v m="$m" '$1 != "round" && $2 == m && $3 == "raw" { print $7 }' \
            "$out")"
    done
}

# lwip_sock KEY ARGS...: one run of lwip_sock_bench; its figure (median_us or mbit).
lwip_sock() {
    local key=$1 out="$KITE_DIR/lwip-sock.out"
    shift
    ns ip neigh flush dev "$KITE_IF" 2>/dev/null
    ns timeout -k 5 300 "$BIN/lwip_sock_bench" --tap "$KITE_IF" --ipv4 "$KITE_IP/24" "$@" \
        >"$out" 2>&1 || note "lwip_sock_bench $* exited $?: $(tr '\n' ' ' <"$out")"
    cat "$out" >>"$KITE_DIR/sockets.all.log"
    figure "$key" "$(awk '$1 == "lwip" { for (i = 3; i <= NF; i++) { split($i, kv, "=");
        if (kv[1] == "median_us" || kv[1] == "mbit") print kv[2] } }' "$out")"
}

sockets_round() {
    sock_kite bench_sockets_tap sockmsg
    sock_kite bench_sockets_tap_lock socklock
    lwip_sock socklwip.rtt --rtt "$SOCK_RTTS" --peer "$KITE_KERNEL_IP:$LINUX_ECHO"
    lwip_sock socklwip.send --send "$SOCK_MIB" --peer "$KITE_KERNEL_IP:$LINUX_SINK"
    lwip_sock socklwip.recv --recv --peer "$KITE_KERNEL_IP:$LINUX_SOURCE"
}

# kite_run_prog KEY OUT PROGRAM [ARGS...]: PROGRAM under kite-run, in the foreground.
kite_run_prog() {
    local key=$1 out=$2
    shift 2
    ns ip neigh flush dev "$KITE_IF" 2>/dev/null
    ns timeout -k 5 300 "$BIN/kite-run" --tap "$KITE_IF" --ipv4 "$KITE_IP/24" \
        --mac "$KITE_MAC" -- "$@" >"$out" 2>&1 || note "$key: kite-run $1 exited $?"
    cat "$out" >>"$KITE_DIR/kite-run.all.log"
}

# send_to_sink KEY CMD...: CMD sends SOCK_MIB to a tcp_sink on RUN_SINK_PORT; the sink's figure.
send_to_sink() {
    local key=$1 out="$KITE_DIR/run-sink.out" sink_pid
    shift
    ip netns exec "$KITE_NS" timeout -k 5 300 "$BIN/tcp_sink" --port "$RUN_SINK_PORT" \
        --expect $((SOCK_MIB * 1048576)) --timeout 30 >"$out" 2>&1 &
    sink_pid=$!
    track "$sink_pid"
    if kite_wait_file "$out" '^tcp_sink: listening' "$sink_pid" 5; then
        "$@"
    else
        note "$key: tcp_sink did not listen"
    fi
    stop_pid "$sink_pid" 30
    cat "$out" >>"$KITE_DIR/run-sink.all.log"
    [ "$STOP_RC" = 0 ] || note "$key: tcp_sink exited $STOP_RC: $(tr '\n' ' ' <"$out")"
    figure "$key" "$([ "$STOP_RC" = 0 ] && sed -n 's/^tcp_sink: .* mbit=\([0-9.]*\) .*/\1/p' "$out")"
}

kite_run_round() {
    local out="$KITE_DIR/run.out"
    kite_run_prog run.rtt "$out" "$BIN/tcp_rr_client" "$KITE_KERNEL_IP" "$LINUX_ECHO" \
        "$SOCK_RTTS" 64 100
    figure run.rtt "$(sed -n 's/.* median \([0-9.]*\) .*/\1/p' "$out")"
    kite_run_prog run.recv "$out" "$BIN/tcp_sink" --connect "$KITE_KERNEL_IP:$LINUX_SOURCE" \
        --chunk 16384 --expect $((SOCK_MIB * 1048576)) --timeout 30
    figure run.recv "$(sed -n 's/^tcp_sink: .* mbit=\([0-9.]*\) .*/\1/p' "$out")"
    send_to_sink run.send kite_run_prog run.send "$KITE_DIR/run-iperf.out" \
        iperf -c "$KITE_KERNEL_IP" -p "$RUN_SINK_PORT" -l 16K -n "${SOCK_MIB}M"
    send_to_sink runlwip.send lwip_sock runlwip.self --send "$SOCK_MIB" \
        --peer "$KITE_KERNEL_IP:$RUN_SINK_PORT"
}

# fresh_tap: kt0 made anew (after kite-host --offload: see the top).
fresh_tap() {
    if ! { ns ip link del "$KITE_IF" && ns ip tuntap add dev "$KITE_IF" mode tap &&
        ns ip addr add "$KITE_KERNEL_IP/24" dev "$KITE_IF" && ns ip link set "$KITE_IF" up; }; then
        fail "cannot make $KITE_IF anew"
    fi
}

# ---- Summary -------------------------------------------------------------------------------



# The rows: KITE-KEY|LWIP-KEY|UNIT|BETTER|LABEL
ROWS=(
    "kite.rx|lwip.rx|Mbit/s|higher|iperf2 Linux -> stack"
    "kite.tx8|lwip.tx8|Mbit/s|higher|stack -> Linux bulk, receiver reading 8 KiB"
    "kite.tx256|lwip.tx256|Mbit/s|higher|stack -> Linux bulk, receiver reading 256 KiB"
    "kite.rtt_tcp|lwip.rtt_tcp|us|lower|64-byte TCP echo, median round trip"
    "kite.rtt_udp|lwip.rtt_udp|us|lower|64-byte UDP echo, median round trip"
    "kite.ping|lwip.ping|us|lower|ping average"
    "kite.rx_cpu|lwip.rx_cpu|MB/CPU-s|higher|bytes per CPU-second, Linux -> stack"
    "kite.tx8_cpu|lwip.tx8_cpu|MB/CPU-s|higher|bytes per CPU-second, stack -> Linux (8 KiB reads)"
    "kite.tx256_cpu|lwip.tx256_cpu|MB/CPU-s|higher|bytes per CPU-second, stack -> Linux (256 KiB reads)"
    "kite.tx8_ksh|lwip.tx8_ksh|%|-|the kernel's share of that CPU (8 KiB reads)"
    "kite.tx256_ksh|lwip.tx256_ksh|%|-|the kernel's share of that CPU (256 KiB reads)"
    "kite.tx8_kcpu|lwip.tx8_cpu|MB/CPU-s|higher|kite's kernel CPU alone, vs lwIP's total (8 KiB reads)"
    "kite.tx256_kcpu|lwip.tx256_cpu|MB/CPU-s|higher|kite's kernel CPU alone, vs lwIP's total (256 KiB reads)"
    "kite.rx_load|lwip.rx_load|% core|-|stack CPU during iperf2 Linux -> stack"
    "sockmsg.rtt|socklwip.rtt|us|lower|sockets: 64-byte TCP round trip, kite message mode"
    "socklock.rtt|socklwip.rtt|us|lower|sockets: 64-byte TCP round trip, kite core-lock mode"
    "sockmsg.send|socklwip.send|Mbit/s|higher|sockets: bulk send, kite message mode"
    "socklock.send|socklwip.send|Mbit/s|higher|sockets: bulk send, kite core-lock mode"
    "sockmsg.recv|socklwip.recv|Mbit/s|higher|sockets: bulk receive, kite message mode"
    "socklock.recv|socklwip.recv|Mbit/s|higher|sockets: bulk receive, kite core-lock mode"
    "run.rtt|socklwip.rtt|us|lower|kite-run tcp_rr_client vs lwIP sockets: 64-byte round trip"
    "run.send|runlwip.send|Mbit/s|higher|kite-run iperf -c vs lwIP sockets: bulk send"
    "run.recv|socklwip.recv|Mbit/s|higher|kite-run tcp_sink --connect vs lwIP sockets: bulk receive"
    "off.rx|lwip.rx|Mbit/s|higher|TAP offload (kite only): iperf2 Linux -> stack"
    "off.tx8|lwip.tx8|Mbit/s|higher|TAP offload (kite only): stack -> Linux, 8 KiB reads"
    "off.tx256|lwip.tx256|Mbit/s|higher|TAP offload (kite only): stack -> Linux, 256 KiB reads"
    "off.rx_cpu|lwip.rx_cpu|MB/CPU-s|higher|TAP offload (kite only): bytes per CPU-second, rx"
    "off.tx8_cpu|lwip.tx8_cpu|MB/CPU-s|higher|TAP offload (kite only): bytes per CPU-second, tx 8 KiB"
    "off.tx256_cpu|lwip.tx256_cpu|MB/CPU-s|higher|TAP offload (kite only): bytes per CPU-second, tx 256 KiB"
)

ratio() { # A B
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "missing" || b == "missing" || b == 0) print "-";
        else printf "%.2f", a / b }'
}

summary() {
    local row k l unit better label a b
    echo
    echo "kite against lwIP, $(date -u '+%F %H:%M UTC'), commit $(git -C "$ROOT" rev-parse \
        --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null ||
        echo ' (with uncommitted changes)'), $ROUNDS round(s), medians"
    echo "command: ROUNDS=$ROUNDS SECONDS_PER_RUN=$SECONDS_PER_RUN TX_MIB=$TX_MIB" \
        "RR_COUNT=$RR_COUNT PING_COUNT=$PING_COUNT SOCK_MIB=$SOCK_MIB SOCK_RTTS=$SOCK_RTTS" \
        "SMOKE=${SMOKE:-0} $COMMAND"
    echo "build: $BUILD (profile $(sed -n 's/^KITE_PROFILE:STRING=//p' "$BUILD/CMakeCache.txt" \
        2>/dev/null), $(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD/CMakeCache.txt" \
        2>/dev/null)); lwIP $(dpkg-query -W -f '${Version}' liblwip-dev 2>/dev/null)"
    echo "load: start $LOAD_START; end $(uptime | sed 's/.*load average: //')"
    echo
    printf '%-70s %9s %9s %7s  %-8s %s\n' measure kite lwIP ratio unit "per round: kite | lwIP"
    for row in "${ROWS[@]}"; do
        IFS='|' read -r k l unit better label <<<"$row"
        a=$(median "$k")
        b=$(median "$l")
        [ "$a" != missing ] && [ "$b" != missing ] || FAILURES=$((FAILURES + 1))
        printf '%-70s %9s %9s %7s  %-8s %s | %s\n' "$label" "$a" "$b" "$(ratio "$a" "$b")" \
            "$unit" "$(values "$k")" "$(values "$l")"
    done
    echo
    echo "| measure | unit | kite | lwIP | kite / lwIP | better |"
    echo "|---|---|---:|---:|---:|---|"
    for row in "${ROWS[@]}"; do
        IFS='|' read -r k l unit better label <<<"$row"
        a=$(median "$k")
        b=$(median "$l")
        echo "| $label | $unit | $a | $b | $(ratio "$a" "$b") | $better |"
    done
    echo
    print_notes
}

# ---- Main ----------------------------------------------------------------------------------

rounds_start
log "build $BUILD; $ROUNDS round(s): rx $SECONDS_PER_RUN s, tx $TX_MIB MiB, rtt $RR_COUNT," \
    "ping $PING_COUNT, sockets $SOCK_MIB MiB / $SOCK_RTTS; load $LOAD_START"

linux_peer "$LINUX_ECHO" "$BIN/tcp_echo_server" "$LINUX_ECHO"
linux_peer "$LINUX_SINK" socat -u "TCP-LISTEN:$LINUX_SINK,reuseaddr,fork" OPEN:/dev/null
linux_peer "$LINUX_SOURCE" socat "TCP-LISTEN:$LINUX_SOURCE,reuseaddr,fork" \
    SYSTEM:"head -c $((SOCK_MIB * 1048576)) /dev/zero"

for round in $(seq 1 "$ROUNDS"); do
    log "round $round of $ROUNDS, load $(uptime | sed 's/.*average: //')"
    server_measures kite
    server_measures lwip
    tx_run kite "$SMALL_CHUNK" tx8
    tx_run lwip "$SMALL_CHUNK" tx8
    tx_run kite "$LARGE_CHUNK" tx256
    tx_run lwip "$LARGE_CHUNK" tx256
    sockets_round
    kite_run_round
    server_measures off
    tx_run off "$SMALL_CHUNK" tx8
    tx_run off "$LARGE_CHUNK" tx256
    fresh_tap
done

summary
[ "$FAILURES" = 0 ] || fail "$FAILURES configuration run(s) failed or printed no figure"
exit 0
