#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Address conflict detection (RFC 5227 2.4 (b)) against Linux claiming kite's
# address: kite-host --acd holds 192.0.2.2; a gratuitous ARP from the kernel
# side claiming 192.0.2.2 is defended with one announcement; a second one
# within DEFEND_INTERVAL (10 s) makes kite give the address up and say so.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/acd_lib.sh"
kite_require arping ping tshark
kite_setup
kite_start --acd
acd_wait_log "acd: $KITE_IP in use" 15
sleep 3 # let the two announcements go out (ANNOUNCE_INTERVAL 2 s)

log "first claim on $KITE_IP from the kernel side: kite defends"
acd_claim "$KITE_IP"
sleep 1
grep -q 'acd: conflict' "$KITE_LOG" && fail "kite gave the address up at the first conflict"
ns ip neigh flush dev "$KITE_IF"
ns timeout 10 ping -n -c 1 -W 2 "$KITE_IP" >/dev/null || fail "kite stopped answering"

log "second claim within DEFEND_INTERVAL: kite gives $KITE_IP up"
acd_claim "$KITE_IP"
acd_wait_log "acd: conflict: $KITE_IP is held by another host" 5
log "$(grep 'acd: conflict' "$KITE_LOG")"
ns ip neigh flush dev "$KITE_IF"
ns timeout 5 ping -n -c 1 -W 2 "$KITE_IP" >/dev/null 2>&1 && fail "kite still answers for $KITE_IP"

kite_stop
[ "$(kite_counter acd.conflicts_in_use)" = 2 ] ||
    fail "acd.conflicts_in_use $(kite_counter acd.conflicts_in_use)"
[ "$(kite_counter acd.defends_sent)" = 1 ] || fail "acd.defends_sent $(kite_counter acd.defends_sent)"
[ "$(kite_counter acd.addrs_given_up)" = 1 ] ||
    fail "acd.addrs_given_up $(kite_counter acd.addrs_given_up)"

log "capture: two announcements, one defence, nothing from $KITE_IP after giving up"
ann="eth.src == $KITE_MAC && arp.opcode == 1 && arp.src.proto_ipv4 == $KITE_IP"
ann="$ann && arp.dst.proto_ipv4 == $KITE_IP"
[ "$(acd_count "$ann")" = 3 ] || fail "expected 2 announcements and 1 defence from kite"
claims="eth.src != $KITE_MAC && arp.src.proto_ipv4 == $KITE_IP"
[ "$(acd_count "$claims")" = 2 ] || fail "expected the 2 claims in the capture"
last_claim=$(kite_tshark -Y "$claims" -T fields -e frame.time_relative | tail -1)
[ "$(acd_count "eth.src == $KITE_MAC && (ip.src == $KITE_IP || \
arp.src.proto_ipv4 == $KITE_IP) && frame.time_relative > $last_claim")" = 0 ] ||
    fail "kite used $KITE_IP after giving it up"
[ "$(acd_count '_ws.malformed || _ws.expert.severity >= error')" = 0 ] ||
    fail "malformed frames in the capture"
log "PASS"
