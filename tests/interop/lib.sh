# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# Shared setup and teardown for the interop tests. Each test is run by ctest
# as `test_x.sh /path/to/kite-host` and sources this file. The kernel side
# and kite live in a network namespace of their own, created here and deleted
# by an EXIT trap whatever happens; nothing touches the root namespace.
#
#   kernel (netns)  kt0 192.0.2.1/24  <-- TAP -->  kite-host 192.0.2.2/24
#
# Exit codes: 0 pass, 1 fail, 77 skip. A skip is for a developer without root
# only: as root (CI) a missing tool, no /dev/net/tun or a feature this
# kite-host build or the kernel refuses is a failure (skip() exits 1), so a
# broken environment can never pass as "skipped".

KITE_HOST=${1:-}
KITE_TEST=$(basename "$0" .sh)
KITE_NS=""
KITE_PID=""
KITE_DIR=""
KITE_IF=kt0
KITE_KERNEL_IP=192.0.2.1
KITE_IP=192.0.2.2
KITE_MAC=02:6b:69:74:65:02
KITE_PCAP=""
KITE_LOG=""

log() { printf '[%s] %s\n' "$KITE_TEST" "$*"; }

# The build's options (KITE_OPT_*: kite-host --options), so a test derives
# what to expect from them in every profile rather than leaving one out.
if [ -x "$KITE_HOST" ]; then
    eval "$("$KITE_HOST" --options)" || {
        log "FAIL: $KITE_HOST --options"
        exit 1
    }
fi

# The TCP services a test uses (kite-host --tcp-services): a test names the
# ones it needs in KITE_TCP_SERVICES; unnamed, all five when the build holds
# that many listeners, none otherwise (min_ram holds 2).
kite_tcp_services() {
    if [ -n "${KITE_TCP_SERVICES:-}" ]; then
        echo "$KITE_TCP_SERVICES"
    elif [ "${KITE_OPT_TCP_LISTEN_COUNT:-5}" -ge 5 ]; then
        echo all
    else
        echo none
    fi
}

# skip REASON: exit 77 when not root; as root a missing prerequisite fails.
skip() {
    if [ "$(id -u)" -eq 0 ]; then
        log "FAIL: $* (running as root: every prerequisite must be present, no skip)"
        exit 1
    fi
    log "SKIP: $*"
    exit 77
}

fail() {
    log "FAIL: $*"
    exit 1
}

# kite_require TOOL...: skip unless root; as root, fail unless TUN is available
# and every tool is found.
kite_require() {
    if [ -z "$KITE_HOST" ] || [ ! -x "$KITE_HOST" ]; then
        fail "usage: $0 /path/to/kite-host"
    fi
    [ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, TAP devices)"
    [ -c /dev/net/tun ] || skip "/dev/net/tun missing"
    local tool
    for tool in ip timeout "$@"; do
        command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed"
    done
}

# Run a command inside the test's namespace.
ns() { ip netns exec "$KITE_NS" "$@"; }

KITE_BG_PIDS=""

# kite_bg_track PID: a helper process the test started (a sink, a client); the
# EXIT trap kills it by PID if it is still running.
kite_bg_track() { KITE_BG_PIDS="$KITE_BG_PIDS $1"; }

kite_teardown() {
    local rc=$?
    local pid
    if [ -n "$KITE_PID" ] && kill -0 "$KITE_PID" 2>/dev/null; then
        kill -KILL "$KITE_PID" 2>/dev/null
        wait "$KITE_PID" 2>/dev/null
    fi
    # TERM first: a `timeout` wrapper passes it on to its command (KILL would
    # leave the command running as an orphan), then KILL what is left.
    for pid in $KITE_BG_PIDS; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in $KITE_BG_PIDS; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null
        fi
        wait "$pid" 2>/dev/null
    done
    if [ -n "$KITE_NS" ]; then
        ip -n "$KITE_NS" link del "$KITE_IF" 2>/dev/null
        ip netns del "$KITE_NS" 2>/dev/null
    fi
    if [ -n "$KITE_DIR" ]; then
        if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -f "$KITE_LOG" ]; then
            log "kite-host output:"
            sed 's/^/    /' "$KITE_LOG"
        fi
        if [ -n "${KITE_KEEP:-}" ]; then
            log "kept $KITE_DIR"
        else
            rm -rf "$KITE_DIR"
        fi
    fi
    exit "$rc"
}

# Create the namespace and the TAP device, kernel side 192.0.2.1/24 up.
kite_setup() {
    KITE_NS="kite-$$-${KITE_TEST#test_}"
    trap kite_teardown EXIT
    trap 'exit 1' INT TERM HUP
    KITE_DIR=$(mktemp -d "/tmp/kite-interop-$KITE_TEST.XXXXXX") || fail "mktemp"
    KITE_PCAP="$KITE_DIR/kite.pcap"
    KITE_LOG="$KITE_DIR/kite-host.log"
    ip netns add "$KITE_NS" || fail "ip netns add $KITE_NS"
    ns ip link set lo up || fail "lo up"
    ns ip tuntap add dev "$KITE_IF" mode tap || fail "ip tuntap add"
    ns ip addr add "$KITE_KERNEL_IP/24" dev "$KITE_IF" || fail "ip addr add"
    ns ip link set "$KITE_IF" up || fail "ip link set up"
}

# kite_start [EXTRA-ARGS...]: run kite-host in the namespace, wait until up.
# shellcheck disable=SC2120 # extra arguments are optional
kite_start() {
    # Not through ns(): a backgrounded function is a subshell, and $! would
    # name it rather than kite-host. A backgrounded simple command is exec'd,
    # and so is the command of `ip netns exec`, so $! is kite-host itself.
    # KITE_NO_PCAP=1: no capture (bulk transfers would make it huge).
    local pcap=(--pcap "$KITE_PCAP")
    [ -z "${KITE_NO_PCAP:-}" ] || pcap=()
    ip netns exec "$KITE_NS" "$KITE_HOST" --tap "$KITE_IF" --ipv4 "$KITE_IP/24" \
        --mac "$KITE_MAC" "${pcap[@]}" --seed 42 --tcp-services "$(kite_tcp_services)" \
        "$@" >"$KITE_LOG" 2>&1 &
    KITE_PID=$!
    for _ in $(seq 1 50); do
        grep -q '^kite-host: up on' "$KITE_LOG" 2>/dev/null && break
        kill -0 "$KITE_PID" 2>/dev/null || fail "kite-host exited during start-up"
        sleep 0.1
    done
    grep -q '^kite-host: up on' "$KITE_LOG" || fail "kite-host not up after 5 s"
    tr '\0' ' ' <"/proc/$KITE_PID/cmdline" | grep -q -- "--tap $KITE_IF " ||
        fail "PID $KITE_PID is not kite-host"
    log "$(grep '^kite-host: up on' "$KITE_LOG")"
}

# kite_expect_refusal MESSAGE [EXTRA-ARGS...]: a feature this build leaves
# out (KITE_OPT_*) is refused at start-up, with MESSAGE, and nothing runs.
kite_expect_refusal() {
    local message=$1 out="$KITE_DIR/refused.log"
    shift
    if ip netns exec "$KITE_NS" timeout 10 "$KITE_HOST" --tap "$KITE_IF" --ipv4 "$KITE_IP/24" \
        --mac "$KITE_MAC" --tcp-services none "$@" >"$out" 2>&1; then
        fail "kite-host ran with $* although this build leaves it out"
    fi
    grep -qF -- "$message" "$out" || fail "kite-host refused $* without saying '$message':
$(cat "$out")"
    log "refused as expected: $(grep -F -- "$message" "$out" | head -1)"
}

# Stop kite-host with SIGTERM; fail unless it exits 0 (every pool back to zero).
kite_stop() {
    local rc
    kill -TERM "$KITE_PID" 2>/dev/null || fail "kite-host died before SIGTERM"
    for _ in $(seq 1 50); do
        kill -0 "$KITE_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$KITE_PID" 2>/dev/null && fail "kite-host ignored SIGTERM for 5 s"
    wait "$KITE_PID"
    rc=$?
    KITE_PID=""
    [ "$rc" -eq 0 ] || fail "kite-host exited $rc after SIGTERM"
    grep -q '^pools:' "$KITE_LOG" || fail "kite-host printed no pool report"
    log "kite-host stopped cleanly, pools back to zero"
}

# kite_counter GROUP.NAME: a counter from kite-host's final report (after kite_stop).
kite_counter() {
    awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print "missing" }' \
        "$KITE_LOG"
}

# Run arping for COUNT requests at kite; handles both arping implementations.
kite_arping() {
    local count=$1
    if arping --help 2>&1 | grep -q Habets; then
        ns timeout 20 arping -c "$count" -i "$KITE_IF" "$KITE_IP"
    else
        ns timeout 20 arping -c "$count" -w 10 -I "$KITE_IF" "$KITE_IP"
    fi
}

# A display filter for TCP checksums tshark calls bad, less one it is wrong
# about: the kernel's skb_checksum_help writes a sum that folds to zero as
# 0xffff (CSUM_MANGLED_0), which one's complement equals 0x0000 and every
# TCP (kite's included) accepts. Such a frame turns up about once in 65 536;
# kite never sends one (its sums of non-zero data never fold to zero).
# shellcheck disable=SC2034 # used by the tests that source this file
KITE_TCP_BADSUM="tcp.checksum.status == 0 && !(tcp.checksum == 0xffff && ip.src == $KITE_KERNEL_IP)"

# tshark over the capture with checksum validation on (ICMP is always checked).
# Its complaint about running as root is dropped; real errors go to stderr and
# the exit status is tshark's. Thrift is off: its heuristic takes random test
# payloads for Thrift messages and calls them malformed (a max_throughput run
# of test_tcp_ecn failed on that).
kite_tshark() {
    local rc
    tshark -r "$KITE_PCAP" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE \
        --disable-protocol thrift "$@" 2>"$KITE_DIR/tshark.err"
    rc=$?
    grep -v '^Running as user' "$KITE_DIR/tshark.err" >&2
    return "$rc"
}

# kite_pattern N: write the first N bytes of kite-host's /bytes pattern (and
# --tcp-send stream) to stdout: 16-byte lines, line k is k in 15 lowercase hex
# digits and a newline (apps/kite-host/pattern.c).
kite_pattern() {
    python3 -c '
import sys
n = int(sys.argv[1])
sys.stdout.buffer.write(b"".join(b"%015x\n" % k for k in range(n // 16 + 1))[:n])
' "$1"
}

# kite_pattern_sha N: the SHA-256 of kite_pattern N.
kite_pattern_sha() {
    kite_pattern "$1" | sha256sum | cut -d' ' -f1
}

# kite_wait_log REGEX SECONDS: wait until kite-host's output matches REGEX.
kite_wait_log() {
    kite_wait_file "$KITE_LOG" "$1" "$KITE_PID" "$2"
}

# kite_wait_file FILE REGEX PID SECONDS: until FILE has a line matching REGEX,
# while PID lives; 1 when it died or the time ran out.
kite_wait_file() {
    for _ in $(seq 1 $(($4 * 10))); do
        grep -qE "$2" "$1" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
