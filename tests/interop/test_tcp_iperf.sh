#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# iperf2 against kite: Linux's `iperf -c` runs a 10-second TCP test to
# kite-host's sink on port 5001 and must report a bandwidth; kite-host's own
# count of received bytes must match the order of magnitude. No capture.
set -u
. "$(dirname "$0")/lib.sh"
kite_require iperf
iperf -v 2>&1 | grep -q 'iperf version 2' || skip "iperf is not iperf2"
kite_setup
KITE_NO_PCAP=1 kite_start

log "iperf -c $KITE_IP -t 10"
out=$(ns timeout 40 iperf -c "$KITE_IP" -t 10 -f m 2>&1) || fail "iperf failed:
$out"
echo "$out" | sed 's/^/    /'
line=$(echo "$out" | grep -E 'Mbits/sec' | tail -1)
[ -n "$line" ] || fail "iperf printed no bandwidth"
mbit=$(echo "$line" | awk '{for (i = 1; i < NF; i++) if ($(i + 1) == "Mbits/sec") print $i}')
log "iperf2 Linux -> kite: $mbit Mbit/s"
awk -v m="$mbit" 'BEGIN { exit !(m > 0) }' || fail "bandwidth $mbit"

kite_wait_log '^kite-host: iperf ' 5 || fail "kite-host saw no iperf connection end"
log "$(grep '^kite-host: iperf ' "$KITE_LOG")"
kite_stop
[ "$(kite_counter app.tcp_reset)" -eq 0 ] || fail "the iperf connection was reset"
log "PASS"
