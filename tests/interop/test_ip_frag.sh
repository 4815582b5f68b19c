#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# IPv4 fragments and path MTU against Linux (RFC 791, RFC 1191):
#  1. Linux `ping -s 8000` to kite: kite reassembles each request and sends
#     its reply in fragments; 8000-byte UDP datagrams through kite's echo,
#     both directions fragmented, byte-exact.
#  2. A 65,507-byte UDP datagram to kite-host's echo: returned whole when the
#     build's reassembly budget holds it (max_throughput), else dropped and
#     counted (the default profile's 32 small pool blocks cannot hold it).
#  3. 65,507-byte datagrams each way through kite-run (a python3 echo
#     server on kite; kite-run is always built with the max_throughput pool).
#  4. Path MTU: kite, a Linux router R1 (the namespace's kernel side), a
#     1280-byte link, a Linux router R2 and a Linux host FAR. TCP both ways
#     through the 1280-byte link: kite learns the MTU from R1's ICMP
#     "fragmentation needed", FAR's kernel from R2's, and the transfers are
#     byte-exact; UDP from kite to FAR is then fragmented to the learned MTU.
set -u
. "$(dirname "$0")/lib.sh"
KITE_TCP_SERVICES="echo" # the TCP services it uses (fits every profile)
. "$(dirname "$0")/kite_run_lib.sh"
kite_require python3 socat tshark ping
kr_require_built
kite_setup

R2_NS="kite-$$-r2"
FAR_NS="kite-$$-far"
FAR_IP=198.51.100.130
cleanup_routers() {
    ip netns del "$R2_NS" 2>/dev/null
    ip netns del "$FAR_NS" 2>/dev/null
}
trap 'rc=$?; cleanup_routers; (exit $rc); kite_teardown' EXIT

kite_start --gw "$KITE_KERNEL_IP"
read -r pbufs bufsize < <(sed -n 's/^kite-host: reassembly \([0-9]*\) pbufs of \([0-9]*\) bytes.*/\1 \2/p' \
    "$KITE_LOG")
[ -n "${pbufs:-}" ] || fail "kite-host printed no reassembly line"

# fits BYTES: whether kite-host can reassemble a datagram of BYTES of IP
# payload arriving in 1500-byte frames (one pool chain per frame).
fits() {
    local frags=$((($1 + 1479) / 1480)) per_frame=$(((1514 + bufsize - 1) / bufsize))
    [ $((frags * per_frame)) -le "$pbufs" ]
}

# udp_echo BYTES [TIMEOUT]: one datagram of BYTES through kite's echo (port 7).
udp_echo() {
    ns timeout 20 python3 - "$KITE_IP" "$1" "${2:-3}" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.settimeout(float(sys.argv[3]))
data = os.urandom(int(sys.argv[2]))
s.sendto(data, (sys.argv[1], 7))
try:
    got = s.recv(70000)
except socket.timeout:
    sys.exit(3)
sys.exit(0 if got == data else "echo differs: %d bytes back" % len(got))
PY
}

log "1. ping -s 8000, 8000-byte UDP echo (reassembly budget: $pbufs pbufs of $bufsize bytes)"
fits 8008 || fail "this build cannot reassemble 8000 bytes ($pbufs x $bufsize): check the profile"
ns ping -c 3 -i 0.3 -W 2 -s 8000 "$KITE_IP" >"$KITE_DIR/ping.txt" || {
    cat "$KITE_DIR/ping.txt"
    fail "ping -s 8000 failed"
}
grep -q '3 received' "$KITE_DIR/ping.txt" || fail "not every 8000-byte ping came back"
for _ in 1 2 3; do
    udp_echo 8000 || fail "8000-byte UDP echo failed"
done

log "2. a 65507-byte UDP datagram to kite-host"
if fits 65515; then
    udp_echo 65507 || fail "65507-byte UDP echo failed"
    big=echoed
else
    udp_echo 65507 1 && fail "a 65507-byte datagram came back from a build that cannot hold it"
    big=dropped
fi
log "65507 bytes: $big"

log "4. path MTU through a 1280-byte link"
ip netns add "$R2_NS" || fail "netns $R2_NS"
ip netns add "$FAR_NS" || fail "netns $FAR_NS"
ns ip link add k-r2 type veth peer name r2-k netns "$R2_NS" || fail "veth R1-R2"
ip -n "$R2_NS" link add r2-f type veth peer name f-r2 netns "$FAR_NS" || fail "veth R2-FAR"
ns ip addr add 198.51.100.1/30 dev k-r2
ns ip link set k-r2 mtu 1280 up
ns ip route add 198.51.100.128/25 via 198.51.100.2
ns sysctl -qw net.ipv4.ip_forward=1
ip -n "$R2_NS" link set lo up
ip -n "$R2_NS" addr add 198.51.100.2/30 dev r2-k
ip -n "$R2_NS" link set r2-k mtu 1280 up
ip -n "$R2_NS" addr add 198.51.100.129/25 dev r2-f
ip -n "$R2_NS" link set r2-f up
ip -n "$R2_NS" route add 192.0.2.0/24 via 198.51.100.1
ip netns exec "$R2_NS" sysctl -qw net.ipv4.ip_forward=1
ip -n "$FAR_NS" link set lo up
ip -n "$FAR_NS" addr add "$FAR_IP/25" dev f-r2
ip -n "$FAR_NS" link set f-r2 up
ip -n "$FAR_NS" route add default via 198.51.100.129
ip netns exec "$FAR_NS" ping -c 1 -W 2 "$KITE_IP" >/dev/null || fail "FAR cannot reach kite"

size=$((2 * 1024 * 1024))
head -c "$size" /dev/urandom >"$KITE_DIR/far.out"
log "FAR sends 2 MiB through kite's TCP echo and reads it back"
ip netns exec "$FAR_NS" timeout 60 socat -t 10 - "TCP:$KITE_IP:7" <"$KITE_DIR/far.out" \
    >"$KITE_DIR/far.in" || fail "echo from FAR failed"
cmp -s "$KITE_DIR/far.out" "$KITE_DIR/far.in" || fail "echo through the 1280-byte link differs"
ip -n "$FAR_NS" route get "$KITE_IP" | grep -q 'mtu 1280' ||
    fail "FAR's kernel learned no path MTU: $(ip -n "$FAR_NS" route get "$KITE_IP")"

log "FAR sends a 1400-byte UDP datagram to kite's echo: the reply comes in fragments"
ip netns exec "$FAR_NS" timeout 10 python3 - "$KITE_IP" <<'PY' || fail "UDP echo from FAR failed"
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
data = os.urandom(1400)
s.sendto(data, (sys.argv[1], 7))
sys.exit(0 if s.recv(2048) == data else "UDP echo from FAR differs")
PY

kite_stop
for c in ipv4.reass_ok ipv4.frag_datagrams ipv4.pmtu_updates; do
    [ "$(kite_counter "$c")" -ge 1 ] || fail "$c is $(kite_counter "$c")"
done
[ "$(kite_counter ipv4.reass_ok)" -ge 6 ] || fail "reass_ok $(kite_counter ipv4.reass_ok) < 6"
if [ "$big" = dropped ]; then
    [ "$(kite_counter ipv4.drop_reass_full)" -ge 1 ] || fail "the 65507-byte drop was not counted"
fi
# The capture: kite's TCP segments to FAR shrank to the path MTU, its UDP
# reply to FAR left in fragments of at most 1280 bytes, nothing malformed.
big_tcp=$(kite_tshark -Y "ip.dst == $FAR_IP && tcp.len > 0 && ip.len > 1280" -T fields -e frame.number |
    wc -l)
small_tcp=$(kite_tshark -Y "ip.dst == $FAR_IP && tcp.len > 0 && ip.len <= 1280" -T fields \
    -e frame.number | wc -l)
log "kite's TCP segments to FAR: $big_tcp above 1280 bytes (before the ICMP), $small_tcp within"
[ "$small_tcp" -ge 100 ] || fail "kite never sent within the path MTU"
[ "$big_tcp" -le 64 ] || fail "kite kept sending $big_tcp oversized segments"
frags=$(kite_tshark -Y "ip.dst == $FAR_IP && ip.flags.mf == 1 && ip.len <= 1280" -T fields \
    -e frame.number | wc -l)
[ "$frags" -ge 1 ] || fail "no UDP fragment to FAR within the path MTU"
[ -z "$(kite_tshark -Y _ws.malformed -T fields -e frame.number)" ] || fail "malformed packets"

log "3. 65507-byte datagrams each way through kite-run (python3 echo server on kite)"
kr_bg 40 bigudp python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 9000))
print("ready", flush=True)
for _ in range(3):
    data, peer = s.recvfrom(70000)
    s.sendto(data, peer)
'
kr_wait_log bigudp '^ready' 10 || fail "kite-run echo server not ready"
ns timeout 20 python3 - "$KITE_IP" <<'PY' || fail "65507-byte UDP through kite-run failed"
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.settimeout(3)
for n in (65507, 30000, 65507):
    data = os.urandom(n)
    s.sendto(data, (sys.argv[1], 9000))
    if s.recv(70000) != data:
        sys.exit("%d-byte datagram came back different" % n)
PY
wait "$KR_PID" || fail "kite-run echo server failed: $(cat "$KITE_DIR/bigudp.log")"
kr_check_pools bigudp
log "PASS"
