# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# What the kite-run tests share (sourced after lib.sh): programs run under
# kite-run in the test's namespace, as 192.0.2.2 on the TAP device, each
# writing kite's counters and pools at exit to $KITE_DIR/NAME.stats.

KR_BIN=$(dirname "$KITE_HOST")
KR_RUN="$KR_BIN/kite-run"

kr_require_built() {
    [ -x "$KR_RUN" ] || fail "$KR_RUN not built"
    [ -f "$KR_BIN/../lib/libkite-preload.so" ] || fail "libkite-preload.so not built"
}

# kr SECONDS NAME PROGRAM [ARGS...]: run PROGRAM under kite-run, in the foreground.
kr() {
    local t=$1 name=$2
    shift 2
    ns env KITE_STATS="$KITE_DIR/$name.stats" timeout "$t" "$KR_RUN" --tap "$KITE_IF" \
        --ipv4 "$KITE_IP/24" --mac "$KITE_MAC" -- "$@"
}

# kr_bg SECONDS NAME PROGRAM [ARGS...]: the same in the background; KR_PID is
# the `timeout` in front of it, which passes a signal on to the program once
# (--foreground: without it, timeout also signals its whole process group, so
# the program would get a second SIGTERM while its handler is exiting).
kr_bg() {
    local t=$1 name=$2
    shift 2
    ip netns exec "$KITE_NS" env KITE_STATS="$KITE_DIR/$name.stats" \
        timeout --foreground -k 5 "$t" "$KR_RUN" \
        --tap "$KITE_IF" --ipv4 "$KITE_IP/24" --mac "$KITE_MAC" -- "$@" \
        >"$KITE_DIR/$name.log" 2>&1 &
    KR_PID=$!
    kite_bg_track "$KR_PID"
}

# kr_wait_port PORT: until something listens on kite's PORT (5 s).
kr_wait_port() {
    for _ in $(seq 1 50); do
        ns timeout 1 bash -c "exec 3<>/dev/tcp/$KITE_IP/$1" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "nothing listens on $KITE_IP:$1"
}

# kr_wait_log NAME PATTERN SECONDS: until the background program's output matches.
kr_wait_log() {
    kite_wait_file "$KITE_DIR/$1.log" "$2" "$KR_PID" "$3"
}

# kr_stop NAME [SIGNAL]: stop the background program (SIGTERM, or SIGNAL for
# programs that exit cleanly only on another: python3's http.server on INT;
# a program killed by a signal runs no exit handlers, so kite's statistics
# need a clean exit), wait for it, check its pools.
kr_stop() {
    kill -"${2:-TERM}" "$KR_PID" 2>/dev/null
    wait "$KR_PID" 2>/dev/null
    kr_check_pools "$1"
}

# kr_check_pools NAME: at the program's exit every buffer was back and no
# connection still owed its peer anything (pcbs in TIME_WAIT may remain).
kr_check_pools() {
    local stats="$KITE_DIR/$1.stats"
    [ -s "$stats" ] || fail "$1: kite-run wrote no statistics at exit"
    awk '$1 ~ /^pbuf_|^udp_pcb$|^tcp_listen$|^raw_pcb$/ && $3 != 0 { bad = 1; print "  " $0 }
         $1 == "kite-run.tcp_owing" && $2 != 0 { bad = 1; print "  " $0 }
         END { exit bad }' "$stats" || fail "$1: pools not back at exit ($stats)"
}

# kr_sha FILE: its SHA-256.
kr_sha() { sha256sum "$1" | cut -d' ' -f1; }
