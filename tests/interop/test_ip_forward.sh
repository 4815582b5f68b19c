#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# kite as an IPv4 router between two Linux hosts (RFC 1812, docs/ipv4.md):
#
#   kernel (test netns) kt0 192.0.2.1 --- kite-host 192.0.2.2 | 198.51.100.2 --- kt1 198.51.100.1 (FAR netns)
#
# kite-host opens both TAP devices in the test's namespace (--forward), then
# kt1 is moved into a namespace of its own, so traffic between the two Linux
# hosts can only go through kite. kite's link to FAR has an MTU of 1280.
#  - ping both ways through kite, the TTL one lower; ping -t 1 draws kite's
#    ICMP Time Exceeded;
#  - TCP both ways (2 MiB each, socat), byte-exact; Linux's DF segments are
#    too big for kite's 1280-byte link, kite answers "fragmentation needed"
#    with its MTU and the kernel learns the path MTU;
#  - a 3000-byte UDP datagram without DF, in the kernel's 1500-byte fragments,
#    is cut again by kite for its 1280-byte link and arrives whole.
set -u
. "$(dirname "$0")/lib.sh"
kite_require python3 socat ping
kite_setup

FAR_NS="kite-$$-fwd-far"
FAR_IP=198.51.100.1
KITE_FAR_IP=198.51.100.2
trap 'rc=$?; ip netns del "$FAR_NS" 2>/dev/null; (exit $rc); kite_teardown' EXIT

ns ip tuntap add dev kt1 mode tap || fail "ip tuntap add kt1"
if [ "$KITE_OPT_IP_FORWARD" = 0 ]; then # (min_ram: a device, not a router)
    kite_expect_refusal "built without KITE_IP_FORWARD" --forward "kt1,$KITE_FAR_IP/24,1280"
    log "PASS"
    exit 0
fi
kite_start --forward "kt1,$KITE_FAR_IP/24,1280"
grep -q '^kite-host: forwarding between kt0 and kt1 (MTU 1280)' "$KITE_LOG" ||
    fail "kite-host did not start forwarding"
ip netns add "$FAR_NS" || fail "netns $FAR_NS"
ns ip link set kt1 netns "$FAR_NS" || fail "move kt1 to $FAR_NS"
far() { ip netns exec "$FAR_NS" "$@"; }
far ip link set lo up
far ip addr add "$FAR_IP/24" dev kt1
far ip link set kt1 up
far ip route add 192.0.2.0/24 via "$KITE_FAR_IP"
ns ip route add 198.51.100.0/24 via "$KITE_IP"

log "ping through kite both ways"
out=$(ns ping -c 3 -i 0.2 -W 2 "$FAR_IP") || fail "ping to FAR through kite: $out"
echo "$out" | grep -q 'ttl=63' || fail "the TTL did not drop by one: $out"
far ping -c 3 -i 0.2 -W 2 192.0.2.1 >/dev/null || fail "ping from FAR through kite"

log "ping -t 1: kite answers Time Exceeded"
out=$(ns ping -c 1 -t 1 -W 2 "$FAR_IP" 2>&1)
echo "$out" | grep -qi "from $KITE_IP.*time to live exceeded" || fail "no time exceeded: $out"

# Before TCP, so the kernel has learned no path MTU yet and sends 1500-byte
# fragments, which kite cuts again for its 1280-byte link.
log "a 3000-byte UDP datagram without DF, fragmented by kite"
far timeout 10 python3 - <<'PY' &
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.1", 9002))
s.settimeout(8)
data, _ = s.recvfrom(4000)
open("/dev/stdout", "w").write("got %d\n" % len(data))
raise SystemExit(0 if data == bytes(range(250)) * 12 else 1)
PY
rx=$!
kite_bg_track "$rx"
sleep 0.3
ns python3 - "$FAR_IP" <<'PY' || fail "UDP send failed"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
IP_MTU_DISCOVER, IP_PMTUDISC_DONT = 10, 0
s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT)
s.sendto(bytes(range(250)) * 12, (sys.argv[1], 9002))
PY
wait "$rx" || fail "FAR did not receive the 3000-byte datagram whole"


size=$((2 * 1024 * 1024))
head -c "$size" /dev/urandom >"$KITE_DIR/a.out"
head -c "$size" /dev/urandom >"$KITE_DIR/b.out"
log "TCP both ways through kite, 2 MiB each"
far timeout 60 socat -u TCP-LISTEN:9000,reuseaddr "OPEN:$KITE_DIR/a.in,creat,trunc" &
sink=$!
kite_bg_track "$sink"
ns timeout 60 socat -u TCP-LISTEN:9001,reuseaddr "OPEN:$KITE_DIR/b.in,creat,trunc" &
sink2=$!
kite_bg_track "$sink2"
sleep 0.3
ns timeout 60 socat -u "OPEN:$KITE_DIR/a.out" "TCP:$FAR_IP:9000" || fail "upload to FAR failed"
far timeout 60 socat -u "OPEN:$KITE_DIR/b.out" "TCP:192.0.2.1:9001" || fail "upload from FAR failed"
wait "$sink" || fail "FAR's sink failed"
wait "$sink2" || fail "the kernel's sink failed"
cmp -s "$KITE_DIR/a.out" "$KITE_DIR/a.in" || fail "TCP to FAR differs"
cmp -s "$KITE_DIR/b.out" "$KITE_DIR/b.in" || fail "TCP from FAR differs"
ns ip route get "$FAR_IP" | grep -q 'mtu 1280' ||
    fail "the kernel learned no path MTU from kite: $(ns ip route get "$FAR_IP")"

kite_stop
[ "$(kite_counter ipv4.forwarded)" -ge 1000 ] || fail "forwarded $(kite_counter ipv4.forwarded)"
[ "$(kite_counter ipv4.drop_fwd_ttl)" -ge 1 ] || fail "no TTL drop counted"
[ "$(kite_counter ipv4.drop_too_big)" -ge 1 ] || fail "no frag-needed counted"
[ "$(kite_counter ipv4.frag_datagrams)" -ge 1 ] || fail "kite cut no datagram"
log "forwarded $(kite_counter ipv4.forwarded) packets"
log "PASS"
