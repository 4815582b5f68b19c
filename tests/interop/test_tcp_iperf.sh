#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# iperf2 against kite: Linux's `iperf -c` runs a 10-second TCP test to
# kite-host's sink on port 5001 and must report a bandwidth; the bytes
# kite-host's sink counted must match iperf's reported transfer to within 1 %
# (iperf rounds to whole or tenth MBytes, MiB), and the connection must end
# with a close, not a reset. No capture.
set -u
. "$(dirname "$0")/lib.sh"
KITE_TCP_SERVICES="iperf" # the TCP services it uses (fits every profile)
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
mbytes=$(echo "$line" | awk '{for (i = 1; i < NF; i++) if ($(i + 1) == "MBytes") print $i}')
log "iperf2 Linux -> kite: $mbytes MBytes, $mbit Mbit/s"
awk -v m="$mbit" 'BEGIN { exit !(m > 0) }' || fail "bandwidth $mbit"
awk -v m="$mbytes" 'BEGIN { exit !(m > 0) }' || fail "iperf transfer '$mbytes' MBytes in: $line"

kite_wait_log '^kite-host: iperf ' 5 || fail "kite-host saw no iperf connection end"
[ "$(grep -c '^kite-host: iperf ' "$KITE_LOG")" -eq 1 ] || fail "expected one iperf connection"
kite_line=$(grep '^kite-host: iperf ' "$KITE_LOG")
log "$kite_line"
kite_bytes=$(echo "$kite_line" | awk '$2 == "iperf" && $4 == "bytes" { print $3 }')
[ -n "$kite_bytes" ] || fail "cannot read the byte count from: $kite_line"
awk -v k="$kite_bytes" -v m="$mbytes" 'BEGIN {
    want = m * 1048576
    d = k - want
    if (d < 0) d = -d
    exit !(k > 0 && d <= want / 100)
}' || fail "kite-host's sink counted $kite_bytes bytes, iperf reported $mbytes MBytes"
kite_stop
[ "$(kite_counter app.tcp_reset)" -eq 0 ] || fail "the iperf connection was reset"
log "PASS"
