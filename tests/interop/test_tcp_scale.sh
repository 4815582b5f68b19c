#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Issue 9 "Scale": 10 000 concurrent TCP connections to one kite instance.
# kite-host-scale (kite-host over a copy of the library built for 10 240 TCP
# pcbs, CMakeLists.txt) serves TCP echo on the raw API; bench/conn_scale opens
# 10 000 connections from the namespace's kernel, at most 128 in the
# handshake at once, echoes 32 unique bytes on each and checks them, holds all
# 10 000 open at once, echoes a second round on all of them, then closes each
# (SHUT_WR, the server's FIN). Every connection must be verified twice and
# closed cleanly, kite-host must have accepted and closed exactly 10 000 with
# no reset or timeout, and at its exit every pool must be back to zero.
# Prints the time to establish the 10 000, kite's RAM per connection (the
# pools' peak bytes over the connections held) and kite-host's memory growth
# per connection (its struct conn and echo ring, from VmRSS).
#
# kite-host-scale has its own option set whatever the build's profile, so the
# test takes the same path in every build; test-all.sh runs it once, in the
# default build's interop step. SCALE_CONNS overrides 10000 (by hand only).
set -u
. "$(dirname "$0")/lib.sh"
KITE_TCP_SERVICES="echo" # what it uses (kite-host-scale: its own options, not the build's)
kite_require awk
BIN=$(dirname "$KITE_HOST")
CLIENT=$BIN/conn_scale
[ -x "$BIN/kite-host-scale" ] || fail "$BIN/kite-host-scale not built"
[ -x "$CLIENT" ] || fail "$CLIENT not built"
N=${SCALE_CONNS:-10000}
[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -gt $((N + 64)) ] ||
    skip "the hard descriptor limit $(ulimit -Hn) is below $N connections"
kite_setup
# The client's sockets end in TIME_WAIT: room for them, in this namespace only.
ns sysctl -q -w net.ipv4.ip_local_port_range="1024 65535" || fail "sysctl port range"
ns sysctl -q -w net.ipv4.tcp_tw_reuse=1 || fail "sysctl tcp_tw_reuse"
KITE_HOST=$BIN/kite-host-scale
# 4 KiB buffers per connection (kite-host's smallest): 32-byte echoes.
KITE_NO_PCAP=1 kite_start --tcp-buf 4096

rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$KITE_PID/status"; }
rss_before=$(rss_kib)
log "conn_scale --hold $N"
start=$(date +%s%N)
ns timeout 55 "$CLIENT" --hold "$N" --peer "$KITE_IP:7" --window 128 --pause 1 --timeout 50 \
    >"$KITE_DIR/client.out" 2>&1 &
client=$!
kite_bg_track "$client"
kite_wait_file "$KITE_DIR/client.out" '^conn_scale: holding' "$client" 52 ||
    { cat "$KITE_DIR/client.out"; fail "the client never held its connections"; }
rss_held=$(rss_kib)
wait "$client"
rc=$?
sed 's/^/    /' "$KITE_DIR/client.out"
total_ms=$((($(date +%s%N) - start) / 1000000))
[ "$rc" -eq 0 ] || fail "conn_scale --hold $N exited $rc: not every connection verified twice"
grep -q "^conn_scale: holding open=$N open_peak=$N of $N\$" "$KITE_DIR/client.out" ||
    fail "not all $N connections were open at once"
grep -q "^conn_scale: result=PASS accounted=$N of $N" "$KITE_DIR/client.out" ||
    fail "not every connection accounted for"
kite_stop

for k in app.tcp_accepted app.tcp_closed; do
    [ "$(kite_counter "$k")" = "$N" ] || fail "kite-host $k is $(kite_counter "$k"), expected $N"
done
for k in app.tcp_reset app.tcp_timeouts app.tcp_refused tcp.drop_listen_no_pcb; do
    [ "$(kite_counter "$k")" = 0 ] || fail "kite-host $k is $(kite_counter "$k"), expected 0"
done
log "kite: $(kite_counter tcp.passive_opens) passive opens, $(kite_counter tcp.syn_cookies_ok)" \
    "through SYN cookies, $(kite_counter tcp.retransmits) retransmissions"

# Pool lines: NAME used U peak P failed F of COUNT x SIZE B.
awk -v n="$N" '$1 == "pools:" { on = 1; next }
    on && $2 == "used" { b = $5 * $11; total += $9 * $11
        if ($1 == "tcp_pcb") pcb = b; if ($1 ~ /^pbuf_/) pbuf += b
        if ($1 == "tcp_pcb") size = $11; if ($1 == "tcp_pcb") peak = $5 }
    END {
        if (peak < n) { print "tcp_pcb peak " peak " below " n; exit 1 }
        printf "RAM per connection: %.0f B (tcp_pcb peak %d x %d B + pbuf pools peak %d B, over %d)\n",
            (pcb + pbuf) / n, peak, size, pbuf, n
        printf "kite-host-scale pools: %.1f MiB in all (fixed at build time)\n", total / 1048576
    }' "$KITE_LOG" >"$KITE_DIR/ram.txt" || fail "$(cat "$KITE_DIR/ram.txt")"
while read -r line; do log "$line"; done <"$KITE_DIR/ram.txt"
log "kite-host memory growth while holding: $(((rss_held - rss_before) * 1024 / N)) B per" \
    "connection (VmRSS $rss_before -> $rss_held KiB: struct conn + 4 KiB echo ring each)"
log "$(grep '^conn_scale: established' "$KITE_DIR/client.out" | sed 's/^conn_scale: //')"
log "whole run: $total_ms ms"
log "PASS"
