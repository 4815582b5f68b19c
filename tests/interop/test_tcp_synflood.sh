#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# SYN flood (RFC 4987) against kite-host with the default profile's pools
# (8 TCP pcbs; kite-host's 5 listeners hold none): 3000 SYNs at 600/s from
# random addresses and ports of 198.51.100.0/24 to ports 9 and 19, never
# completed (kite's SYN-ACKs go to the namespace's kernel, which drops them).
# During the flood an upload to the discard service that was established
# before it must go on, and 20 new connections to each of ports 9, 19 and 7
# must complete, through SYN cookies where the pool or the backlog is full.
set -u
. "$(dirname "$0")/lib.sh"
# Two flooded listeners (discard, chargen) and one left alone (echo); a build
# with two listeners (min_ram) floods discard and leaves chargen alone.
if [ "$KITE_OPT_TCP_LISTEN_COUNT" -ge 3 ]; then
    KITE_TCP_SERVICES="discard,chargen,echo" flooded="9 19" calm=7
else
    KITE_TCP_SERVICES="discard,chargen" flooded=9 calm=19
fi
kite_require /usr/bin/python3 socat ss
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
kite_setup
KITE_NO_PCAP=1 kite_start --gw "$KITE_KERNEL_IP"

log "an upload established before the flood"
head -c 8388608 /dev/urandom >"$KITE_DIR/up.bin"
ns timeout 60 socat -u "OPEN:$KITE_DIR/up.bin" "TCP:$KITE_IP:9" &
upload=$!
kite_bg_track "$upload"
sleep 0.2

for port in $flooded; do
    ip netns exec "$KITE_NS" timeout 15 "$PY" "$ROOT/bench/syn_flood.py" --iface "$KITE_IF" \
        --dst-mac "$KITE_MAC" --dst "$KITE_IP" --dport "$port" --src-net 198.51.100.0/24 \
        --pps 300 --count 1500 --seconds 10 >"$KITE_DIR/flood$port.out" 2>&1 &
    kite_bg_track $!
done
sleep 1
for port in $flooded $calm; do
    out=$(ns timeout 40 "$PY" "$ROOT/bench/tcp_connect_time.py" "$KITE_IP" "$port" --count 20 \
        --timeout 2 --budget 30) || fail "connect client failed: $out"
    log "port $port under flood: $out"
    echo "$out" | grep -q '^connect: 20 tried, 20 ok, 0 failed' || fail "port $port: not every connect completed"
done
wait "$upload" || fail "the established upload failed during the flood"
log "the upload completed"
sleep 6 # let the floods end (bounded by their --seconds)

kite_stop
cookies=$(kite_counter tcp.syn_cookies_sent)
evicted=$(kite_counter tcp.half_open_evicted)
log "SYN cookies sent: $cookies, half-open connections evicted: $evicted"
[ "$cookies" != missing ] && [ "$cookies" -gt 1000 ] || fail "the flood was not answered with SYN cookies"
log "PASS"
