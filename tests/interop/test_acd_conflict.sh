#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Address conflict detection (RFC 5227) against Linux holding the address:
# the kernel side of the namespace has 192.0.2.1; kite-host --acd asked to
# take 192.0.2.1 hears the kernel answer its probe, reports the conflict,
# never uses the address, and says so in its counters.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/acd_lib.sh"
kite_require ping tshark
kite_setup
kite_start --acd --ipv4 "$KITE_KERNEL_IP/24"

acd_wait_log "acd: conflict: $KITE_KERNEL_IP is held by another host" 10
log "$(grep 'acd:' "$KITE_LOG")"
# Give a wrongly continued claim time to show itself (it would bind in < 7 s).
sleep 7
grep -q 'acd: .* in use' "$KITE_LOG" && fail "kite took $KITE_KERNEL_IP anyway"
kite_stop
[ "$(kite_counter acd.conflicts_probing)" = 1 ] ||
    fail "acd.conflicts_probing $(kite_counter acd.conflicts_probing)"
[ "$(kite_counter acd.addrs_bound)" = 0 ] || fail "acd.addrs_bound $(kite_counter acd.addrs_bound)"

log "capture: kite probed, the kernel answered, kite never used the address"
probes="eth.src == $KITE_MAC && arp.opcode == 1 && arp.src.proto_ipv4 == 0.0.0.0"
n=$(acd_count "$probes && arp.dst.proto_ipv4 == $KITE_KERNEL_IP")
if [ "$n" -lt 1 ] || [ "$n" -gt 3 ]; then
    fail "expected 1 to 3 probes, got $n"
fi
[ "$(acd_count "eth.src != $KITE_MAC && arp.opcode == 2 && \
arp.src.proto_ipv4 == $KITE_KERNEL_IP")" -ge 1 ] || fail "no reply from the kernel in the capture"
[ "$(acd_count "eth.src == $KITE_MAC && (ip.src == $KITE_KERNEL_IP || \
arp.src.proto_ipv4 == $KITE_KERNEL_IP)")" = 0 ] || fail "kite used $KITE_KERNEL_IP"
[ "$(acd_count '_ws.malformed || _ws.expert.severity >= error')" = 0 ] ||
    fail "malformed frames in the capture"
log "PASS"
