#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# TCP under 1 % loss and 10 ms delay in each direction, against Linux: curl
# downloads /bytes/N from kite, kite uploads N bytes to a socat sink
# (--tcp-send) and 1 MiB goes through kite's echo, all at once; all three
# must arrive byte-exact. N is 4 MiB (KITE_LOSS_BYTES), so the test takes
# about 10 s: loss-limited TCP does ~0.8 MB/s at a 20 ms RTT. A build whose
# receive buffer is under 8 KiB (min_ram) moves 128 KiB and 64 KiB instead.
#
# The impairment is the kernel's netem on kt0 (and on an ifb for the other
# direction) when the kernel has sch_netem and ifb, else kite-host's own
# --impair shim between the TAP and the stack (same effect on the wire). The
# fallback is expected, not a skip, and whichever is used must be seen to drop
# frames (netem's qdisc drop counters, or kite-host's app.impair_dropped).
#
# kite's capture must show SACK-permitted, window scaling and timestamps in
# the SYNs of both sides, SACK blocks sent by both sides, no malformed
# packet, no expert error and no bad TCP checksum (warnings such as
# "previous segment not captured" are expected under loss). kite's capture
# point is above the --impair shim, so it holds frames that the "wire" then
# lost together with their retransmissions; Wireshark's HTTP body reassembly
# calls such a retransmission after a completed body a "reassembly error",
# so TCP stream reassembly is turned off (TCP analysis stays on).
set -u
. "$(dirname "$0")/lib.sh"
KITE_TCP_SERVICES="echo,http" # the TCP services it uses (fits every profile)
kite_require curl socat python3 sha256sum tshark tc
kite_setup
# A build with windows of a few segments (min_ram: 1 072 bytes, 53 kB/s at
# most over a 20 ms round trip) moves a thirty-second of it.
if [ "$KITE_OPT_TCP_RCV_BUF" -ge 8192 ]; then
    size=${KITE_LOSS_BYTES:-4194304} echo_size=1048576 linger=10
else
    size=${KITE_LOSS_BYTES:-131072} echo_size=65536 linger=50
fi
port=5555

impair=()
netem=0
if ns tc qdisc add dev "$KITE_IF" root netem loss 1% delay 10ms 2>/dev/null &&
    ns ip link add ifb0 type ifb 2>/dev/null && ns ip link set ifb0 up &&
    ns tc qdisc add dev ifb0 root netem loss 1% delay 10ms &&
    ns tc qdisc add dev "$KITE_IF" ingress &&
    ns tc filter add dev "$KITE_IF" parent ffff: protocol all u32 match u32 0 0 \
        action mirred egress redirect dev ifb0; then
    log "impairment: kernel netem loss 1% delay 10ms, both directions (kt0 + ifb0)"
    netem=1
else
    ns tc qdisc del dev "$KITE_IF" root 2>/dev/null
    ns tc qdisc del dev "$KITE_IF" ingress 2>/dev/null
    ns ip link del ifb0 2>/dev/null
    log "impairment: no netem/ifb in this kernel, using kite-host --impair loss=1,delay=10"
    impair=(--impair "loss=1,delay=10")
fi

ns timeout 90 socat -u "TCP-LISTEN:$port,bind=$KITE_KERNEL_IP,reuseaddr" \
    "OPEN:$KITE_DIR/sink.bin,creat,trunc" &
sink=$!
kite_bg_track "$sink"
sleep 0.3
kite_start "${impair[@]}" --tcp-send "$KITE_KERNEL_IP:$port:$size"
start=$(date +%s)

log "at once: curl /bytes/$size, --tcp-send $size to socat, $echo_size bytes through echo"
head -c "$echo_size" /dev/urandom >"$KITE_DIR/echo.out"
ns timeout 60 socat -t "$linger" - "TCP:$KITE_IP:7" <"$KITE_DIR/echo.out" >"$KITE_DIR/echo.in" &
echo_pid=$!
kite_bg_track "$echo_pid"
stats=$(ns timeout 60 curl -sS --fail -o "$KITE_DIR/bytes.bin" \
    -w '%{time_total} s, %{speed_download} bytes/s' "http://$KITE_IP/bytes/$size") ||
    fail "curl failed under loss"
log "download: $stats"
want=$(kite_pattern_sha "$size")
[ "$(sha256sum <"$KITE_DIR/bytes.bin" | cut -d' ' -f1)" = "$want" ] ||
    fail "download differs under loss"
kite_wait_log '^kite-host: tcp-send (done|failed)' 60 || fail "tcp-send did not finish"
log "$(grep '^kite-host: tcp-send' "$KITE_LOG")"
grep -q '^kite-host: tcp-send done' "$KITE_LOG" || fail "tcp-send failed under loss"
wait "$sink" || fail "socat sink failed"
[ "$(sha256sum <"$KITE_DIR/sink.bin" | cut -d' ' -f1)" = "$want" ] ||
    fail "upload differs under loss"
wait "$echo_pid" || fail "echo client failed"
cmp -s "$KITE_DIR/echo.out" "$KITE_DIR/echo.in" || fail "echo differs under loss"
log "all three byte-exact after $(($(date +%s) - start)) s"
rm -f "$KITE_DIR/bytes.bin" "$KITE_DIR/sink.bin"

# netem_dropped DEV: frames the netem qdisc on DEV dropped (empty if none found).
netem_dropped() {
    ns tc -s qdisc show dev "$1" | awk '
        /^qdisc netem/ { in_netem = 1; next }
        /^qdisc/ { in_netem = 0 }
        in_netem && /dropped/ { sub(/.*dropped /, ""); sub(/,.*/, ""); print; exit }'
}
if [ "$netem" -eq 1 ]; then
    d_out=$(netem_dropped "$KITE_IF")
    d_in=$(netem_dropped ifb0)
    log "netem dropped: $d_out towards kite, $d_in from kite"
    [ -n "$d_out" ] && [ -n "$d_in" ] || fail "no netem drop counters on $KITE_IF/ifb0"
    [ "$d_out" -ge 1 ] && [ "$d_in" -ge 1 ] || fail "netem dropped nothing in one direction"
else
    grep -q '^kite-host: impairment: loss 1.00% delay 10 ms' "$KITE_LOG" ||
        fail "kite-host did not report the --impair shim"
fi

sleep 1 # closing handshakes
kite_stop
if [ "$netem" -eq 0 ]; then
    dropped=$(kite_counter app.impair_dropped)
    log "kite-host --impair dropped $dropped frames"
    [ "$dropped" -ge 1 ] || fail "--impair dropped nothing (app.impair_dropped = $dropped)"
fi
log "kite: $(kite_counter tcp.retransmits) retransmits, $(kite_counter tcp.sack_recoveries)" \
    "SACK recoveries, $(kite_counter tcp.ooo_queued) out-of-order segments queued"
[ "$(kite_counter tcp.retransmits)" -ge 1 ] || fail "no retransmission: was there loss?"

tsopts="-o tcp.check_checksum:TRUE -o tcp.desegment_tcp_streams:FALSE"
# shellcheck disable=SC2086 # $tsopts is meant to split
count() {
    local out
    out=$(kite_tshark $tsopts -Y "$1") || {
        echo error
        return
    }
    echo "$out" | grep -c .
}
expect() {
    local n
    n=$(count "$2")
    log "  $n frames: $2"
    [ "$n" -ge "$1" ] || fail "expected >= $1 frames matching '$2', found $n"
}
log "capture: $(count frame) frames"
# shellcheck disable=SC2086
bad=$(kite_tshark $tsopts -Y '_ws.malformed || _ws.expert.severity >= error') ||
    fail "tshark failed"
[ -z "$bad" ] || fail "malformed or erroneous frames:
$(echo "$bad" | head -20)"
# shellcheck disable=SC2086
badsum=$(kite_tshark $tsopts -Y "($KITE_TCP_BADSUM) || ip.checksum.status == 0") ||
    fail "tshark failed"
[ -z "$badsum" ] || fail "bad checksums in the capture:
$(echo "$badsum" | head -20)"
syn_opts='tcp.options.sack_perm && tcp.options.wscale.multiplier && tcp.options.timestamp.tsval'
expect 3 "tcp.flags.syn == 1 && ip.src == $KITE_IP && $syn_opts"
expect 3 "tcp.flags.syn == 1 && ip.src == $KITE_KERNEL_IP && $syn_opts"
expect 1 "tcp.options.sack_le && ip.src == $KITE_IP"
expect 1 "tcp.options.sack_le && ip.src == $KITE_KERNEL_IP"
expect 100 "tcp.flags.syn == 0 && tcp.options.timestamp.tsval && ip.src == $KITE_IP"
expect 100 "tcp.window_size_scalefactor > 1 && tcp.window_size > 65535"
log "PASS"
