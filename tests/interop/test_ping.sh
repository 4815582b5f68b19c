#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Linux pings kite: small echoes in a quick burst, then 1500-byte IP packets
# whose frames span several PBUF_POOL blocks (592 bytes each) on receive.
set -u
. "$(dirname "$0")/lib.sh"
kite_require ping
kite_setup
kite_start

# ping_ok COUNT ARGS...: COUNT requests, every one answered with intact data.
ping_ok() {
    local count=$1 out
    shift
    out=$(ns timeout 20 ping -n -c "$count" -W 2 "$@" "$KITE_IP" 2>&1)
    local rc=$?
    echo "$out" | tail -n 2 | sed 's/^/    /'
    [ "$rc" -eq 0 ] || fail "ping $* exited $rc"
    echo "$out" | grep -q "$count packets transmitted, $count received" ||
        fail "ping $*: not every request answered"
    # iputils ping compares the echoed data and reports mismatches.
    if echo "$out" | grep -qiE 'wrong data|truncated|DUP!'; then
        fail "ping $*: corrupt, truncated or duplicate replies"
    fi
}

log "ping -c 20 -i 0.05"
ping_ok 20 -i 0.05
log "ping -c 5 -s 1472 -M do (1500-byte IP packets, no fragmentation)"
ping_ok 5 -s 1472 -M "do" -i 0.2
log "ping -c 5 -s 0 (no echo data at all)"
ping_ok 5 -s 0 -i 0.05
log "ping -c 5 -s 600 (frame just over one pool block)"
ping_ok 5 -s 600 -i 0.05
log "ping -l 16 -c 32 -s 1472 (16 big requests in flight at once)"
ping_ok 32 -l 16 -s 1472 -i 0.2
log "ping -f -c 300 (flood: next request as soon as the reply is back)"
ping_ok 300 -f -w 15

# Linux ignores broadcast echoes by default; kite does too (RFC 1122
# 3.2.2.6 lets a host choose), so nobody answers this one.
log "ping -b to 192.0.2.255 gets no reply"
if ns timeout 10 ping -n -b -c 2 -i 0.2 -W 1 192.0.2.255 >/dev/null 2>&1; then
    fail "someone answered a broadcast ping"
fi

kite_stop
# 20 + 5 + 5 + 5 + 32 + 300 requests, each answered once (ping checked that
# every one came back, without duplicates).
[ "$(kite_counter icmp4.echo_replies_sent)" -eq 367 ] ||
    fail "icmp4.echo_replies_sent is $(kite_counter icmp4.echo_replies_sent), expected 367"
[ "$(kite_counter icmp4.drop_broadcast_echo)" -ge 2 ] ||
    fail "icmp4.drop_broadcast_echo is $(kite_counter icmp4.drop_broadcast_echo)"
log "PASS"
