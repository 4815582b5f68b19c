# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash disable=SC2034 # STOP_RC is read by the sourcing scripts
#
# Helpers shared by the benchmarks that run rounds of measurements and print
# medians (scripts/bench-kite-run.sh, scripts/bench-vs-lwip.sh). Source it
# after tests/interop/lib.sh (kite_teardown). The sourcing script keeps its
# figures as lines "KEY VALUE" in the file named by FIGURES.

# ---- Processes: every one started here is known by PID and stopped by it ------------------

LIVE_PIDS=() # background processes started here and not yet reaped

track() { LIVE_PIDS+=("$1"); }

untrack() {
    local keep=() pid
    for pid in "${LIVE_PIDS[@]}"; do
        [ "$pid" = "$1" ] || keep+=("$pid")
    done
    LIVE_PIDS=("${keep[@]}")
}

# stop_pid PID [SECONDS]: wait up to SECONDS (0) for it to end by itself, then
# SIGTERM (a `timeout` wrapper passes it on), up to 5 s, then SIGKILL; reaps it
# and sets STOP_RC to its exit status. (Not called through $(...): a subshell
# can neither wait for the process nor untrack it.)
STOP_RC=0
stop_pid() {
    for _ in $(seq 1 $((${2:-0} * 10))); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -TERM "$1" 2>/dev/null
    for _ in $(seq 1 50); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$1" 2>/dev/null && kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    STOP_RC=$?
    untrack "$1"
}

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    local rc=$? pid
    for pid in "${LIVE_PIDS[@]}"; do
        stop_pid "$pid"
    done
    (exit "$rc")
    kite_teardown # kite-host (KITE_PID), the namespace, the logs
}

# ---- Figures -----------------------------------------------------------------------------

# rounds_start: the namespace (lib.sh), the EXIT trap, an empty FIGURES file
# in it, and LOAD_START, the machine's load before the first round.
rounds_start() {
    kite_setup
    trap cleanup EXIT
    FIGURES="$KITE_DIR/figures"
    : >"$FIGURES"
    LOAD_START=$(uptime | sed 's/.*load average: //')
}

print_notes() {
    local n
    for n in "${NOTES[@]}"; do
        echo "note: $n"
    done
}

# figure KEY VALUE: record VALUE, a number, in FIGURES; for anything else the
# sourcing script's no_figure KEY says what that means (a note or a failure).
figure() {
    if [[ "$2" =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
        echo "$1 $2" >>"$FIGURES"
        log "  $1 = $2"
    else
        no_figure "$1"
    fi
}

median() { # KEY: the median of its values, or "missing"
    awk -v k="$1" '$1 == k { print $2 }' "$FIGURES" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) print "missing";
            else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

values() { # KEY: every round's value, in order
    awk -v k="$1" '$1 == k { printf "%s%s", sep, $2; sep = " " }' "$FIGURES"
}
