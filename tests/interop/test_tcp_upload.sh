#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Bulk TCP from kite to a Linux sink: kite-host --tcp-send connects to socat
# listening in the namespace, streams 16 MiB of the /bytes pattern and
# closes; the file socat wrote must hash to the pattern. No capture.
set -u
. "$(dirname "$0")/lib.sh"
KITE_TCP_SERVICES="none" # the TCP services it uses (fits every profile)
kite_require socat python3 sha256sum
kite_setup
size=16777216
port=5555

ns timeout 90 socat -u "TCP-LISTEN:$port,bind=$KITE_KERNEL_IP,reuseaddr" \
    "OPEN:$KITE_DIR/sink.bin,creat,trunc" &
sink=$!
kite_bg_track "$sink"
sleep 0.3
KITE_NO_PCAP=1 kite_start --tcp-send "$KITE_KERNEL_IP:$port:$size"

log "kite sends $size bytes to socat on $KITE_KERNEL_IP:$port"
kite_wait_log '^kite-host: tcp-send (done|failed)' 60 || fail "tcp-send did not finish in 60 s"
grep '^kite-host: tcp-send' "$KITE_LOG" | while read -r line; do log "$line"; done
grep -q '^kite-host: tcp-send done' "$KITE_LOG" || fail "tcp-send failed"
wait "$sink" || fail "socat sink failed"
got=$(sha256sum "$KITE_DIR/sink.bin" | cut -d' ' -f1)
want=$(kite_pattern_sha "$size")
[ "$got" = "$want" ] || fail "sink SHA-256 $got, expected $want"
rm -f "$KITE_DIR/sink.bin"

kite_stop
log "PASS"
