# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# Helpers of the address conflict detection tests (test_acd_*.sh), sourced
# after lib.sh. They hide the difference between the two arping programs
# Debian has: Thomas Habets' (package arping, what install-deps.sh installs)
# and iputils-arping. Only 192.0.2.0/24 is used, inside the test's namespace.

# acd_wait_log PATTERN SECONDS: until kite-host's output has a line matching
# PATTERN (grep -E); fails after SECONDS.
acd_wait_log() {
    local _
    for _ in $(seq 1 $(($2 * 10))); do
        grep -qE "$1" "$KITE_LOG" 2>/dev/null && return 0
        kill -0 "$KITE_PID" 2>/dev/null || fail "kite-host exited while waiting for /$1/"
        sleep 0.1
    done
    fail "no /$1/ in kite-host's output after $2 s"
}

acd_habets() { arping --help 2>&1 | grep -q Habets; }

# acd_dad IP: duplicate address detection from the kernel side, RFC 5227
# probes (sender 0.0.0.0). Exit 0 when some host answered (IP is in use),
# 1 when none did. Prints arping's output.
acd_dad() {
    local rc
    if acd_habets; then
        ns timeout 20 arping -0 -c 3 -w 1 -i "$KITE_IF" "$1"
        rc=$?
        # Habets' arping exits 0 when replies came.
        [ "$rc" -eq 0 ] && return 0
    else
        ns timeout 20 arping -D -c 3 -w 4 -I "$KITE_IF" "$1"
        rc=$?
        # iputils' arping -D exits 1 when the address is taken.
        [ "$rc" -eq 1 ] && return 0
    fi
    return 1
}

# acd_claim IP: one gratuitous ARP request from the kernel side's MAC with
# sender and target IP (RFC 5227 2.3 announcement: another host claiming IP).
# iputils' arping only sends from an address the kernel holds, so IP is put
# on the namespace's side of the TAP for that moment.
acd_claim() {
    if acd_habets; then
        ns timeout 10 arping -U -S "$1" -c 1 -w 1 -i "$KITE_IF" "$1" >/dev/null 2>&1
    else
        ns ip addr add "$1/32" dev "$KITE_IF" || fail "ip addr add $1"
        ns timeout 10 arping -U -c 1 -w 1 -I "$KITE_IF" -s "$1" "$1" >/dev/null 2>&1
        ns ip addr del "$1/32" dev "$KITE_IF" || fail "ip addr del $1"
    fi
    return 0
}

# acd_count FILTER: frames of the capture matching a tshark display filter.
acd_count() {
    local out
    out=$(kite_tshark -Y "$1") || fail "tshark -Y '$1' failed"
    printf '%s\n' "$out" | grep -c .
}
