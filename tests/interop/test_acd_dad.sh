#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Address conflict detection (RFC 5227) against Linux, no conflict: kite-host
# --acd probes 192.0.2.2 (three probes, sender 0.0.0.0), does not answer for
# it while probing, then takes it and announces it; afterwards arping's
# duplicate address detection from the kernel side reports it in use.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/acd_lib.sh"
kite_require arping ping tshark
kite_setup
kite_start --acd

# Probing lasts at least 2 * PROBE_MIN + ANNOUNCE_WAIT = 4 s: the address is
# tentative now, so the kernel's ARP requests for it go unanswered.
log "ping $KITE_IP while kite probes: no answer"
ns timeout 3 ping -n -c 1 -W 1 "$KITE_IP" >/dev/null 2>&1 && fail "kite answered while probing"
grep -q 'acd: .* in use' "$KITE_LOG" && fail "probing ended too early to test the tentative state"

acd_wait_log "acd: $KITE_IP in use" 15
log "$(grep 'acd:' "$KITE_LOG")"
ns timeout 10 ping -n -c 1 -W 2 "$KITE_IP" >/dev/null || fail "ping after probing failed"

log "arping duplicate address detection for $KITE_IP: in use"
out=$(acd_dad "$KITE_IP" 2>&1) || {
    printf '%s\n' "$out" | sed 's/^/    /'
    fail "arping DAD did not see kite holding $KITE_IP"
}
printf '%s\n' "$out" | sed 's/^/    /'
printf '%s\n' "$out" | grep -qi "$KITE_MAC" || fail "the DAD answer is not from $KITE_MAC"
log "arping duplicate address detection for 192.0.2.3: free"
acd_dad 192.0.2.3 >/dev/null 2>&1 && fail "someone answered DAD for 192.0.2.3"

kite_stop
grep -q 'acd: conflict' "$KITE_LOG" && fail "kite-host reported a conflict"
[ "$(kite_counter acd.probes_sent)" = 3 ] || fail "acd.probes_sent $(kite_counter acd.probes_sent)"
[ "$(kite_counter acd.addrs_bound)" = 1 ] || fail "acd.addrs_bound $(kite_counter acd.addrs_bound)"
# The DAD probes are answered, not taken for conflicts (RFC 5227 2.4).
[ "$(kite_counter acd.conflicts_in_use)" = 0 ] || fail "DAD probes counted as conflicts"

log "capture: 3 probes 1-2 s apart, 2 announcements, nothing malformed"
mac="eth.src == $KITE_MAC && arp.opcode == 1"
probes="$mac && arp.src.proto_ipv4 == 0.0.0.0 && arp.dst.proto_ipv4 == $KITE_IP"
[ "$(acd_count "$probes")" = 3 ] || fail "expected 3 probes in the capture"
times=$(kite_tshark -Y "$probes" -T fields -e frame.time_relative) || fail "tshark"
echo "$times" | awk 'NR > 1 { d = $1 - prev; if (d < 0.95 || d > 2.1) bad = 1 } { prev = $1 }
    END { exit bad }' || fail "probe gaps outside PROBE_MIN..PROBE_MAX: $(echo "$times" | tr '\n' ' ')"
ann="$mac && arp.src.proto_ipv4 == $KITE_IP && arp.dst.proto_ipv4 == $KITE_IP"
[ "$(acd_count "$ann")" = 2 ] || fail "expected 2 announcements"
first_ann=$(kite_tshark -Y "$ann" -T fields -e frame.time_relative | head -1)
last_probe=$(echo "$times" | tail -1)
awk -v a="$first_ann" -v p="$last_probe" 'BEGIN { d = a - p; exit !(d >= 1.95 && d < 2.5) }' ||
    fail "first announcement not ANNOUNCE_WAIT after the last probe ($last_probe, $first_ann)"
# Nothing from kite with the address as source before the first announcement.
early="eth.src == $KITE_MAC && (ip.src == $KITE_IP || arp.src.proto_ipv4 == $KITE_IP)"
early="$early && frame.time_relative < $first_ann"
[ "$(acd_count "$early")" = 0 ] || fail "kite used $KITE_IP before probing ended"
[ "$(acd_count '_ws.malformed || _ws.expert.severity >= error')" = 0 ] ||
    fail "malformed frames in the capture"
log "PASS"
