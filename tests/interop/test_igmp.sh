#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# IGMP and multicast against Linux. Inside the namespace a Linux bridge br0
# (192.0.2.1) runs the multicast querier with short intervals, kt0 (the TAP)
# one of its ports, and snoops: it forwards a group to kt0 only once kite
# has reported it. example_udp_multicast runs on kite (joins 232.10.11.12,
# port 3333, TTL 1, loop on):
#   v3 querier   kite answers the bridge's queries with IGMPv3 reports
#                (state change TO_EX on join, current state IS_EX after a
#                query; tshark checks the capture, no malformed packet); the
#                bridge's mdb lists the group on kt0
#   both ways    python3 on Linux receives kite's "Multicast #N" datagrams
#                from 192.0.2.2 and sends one that kite's example prints
#   filtering    a group kite did not join reaches kite's TAP (the bridge
#                floods it once snooping forgets) and kite counts it dropped
#   v2 querier   with mcast_igmp_version 2 kite falls back to v2 reports
#                (type 0x16, to the group) and leaves with a v2 Leave
set -u
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
kite_require tshark dumpcap bridge "$PY"
BIN=$(dirname "$KITE_HOST")
[ -x "$BIN/example_udp_multicast" ] || fail "$BIN/example_udp_multicast not built"
kite_setup
GROUP=232.10.11.12
CAP=""
CAP_PID=""

# The bridge: querier on, IGMP version $1, queries every 2 s answered within 1 s.
bridge_up() {
    ns ip addr del "$KITE_KERNEL_IP/24" dev "$KITE_IF" 2>/dev/null
    ns ip link add br0 type bridge mcast_snooping 1 mcast_querier 1 mcast_igmp_version "$1" \
        mcast_query_interval 200 mcast_query_response_interval 100 \
        mcast_startup_query_interval 100 mcast_startup_query_count 2 ||
        fail "no bridge with a multicast querier"
    ns ip link set "$KITE_IF" master br0 || fail "kt0 into br0"
    ns ip addr add "$KITE_KERNEL_IP/24" dev br0 || fail "address on br0"
    ns ip link set br0 up || fail "br0 up"
}

# capture NAME: dumpcap on kt0 (what kite sends and receives) into NAME.pcapng.
capture() {
    CAP="$KITE_DIR/$1.pcapng"
    ip netns exec "$KITE_NS" dumpcap -q -i "$KITE_IF" -w "$CAP" >/dev/null 2>&1 &
    CAP_PID=$!
    kite_bg_track "$CAP_PID"
    sleep 1
}

capture_stop() {
    sleep 0.5
    kill -TERM "$CAP_PID" 2>/dev/null
    wait "$CAP_PID" 2>/dev/null
}

# tsh FILTER FIELD: FIELD of each packet of the capture that matches FILTER.
tsh() {
    tshark -r "$CAP" -Y "$1" -T fields -e "$2" 2>>"$KITE_DIR/tshark.err"
}

ex_start() {
    KITE_LOG="$KITE_DIR/example-$1.log"
    shift
    ip netns exec "$KITE_NS" "$BIN/example_udp_multicast" --tap "$KITE_IF" \
        --ipv4 "$KITE_IP/24" --mac "$KITE_MAC" --timeout-ms 700 "$@" >"$KITE_LOG" 2>&1 &
    KITE_PID=$!
    kite_wait_log 'example_net: up on' 5 || fail "example not up"
}

ex_stop() {
    kill -TERM "$KITE_PID" 2>/dev/null || fail "example died"
    for _ in $(seq 1 50); do
        kill -0 "$KITE_PID" 2>/dev/null || break
        sleep 0.1
    done
    wait "$KITE_PID"
    local rc=$?
    KITE_PID=""
    [ "$rc" -eq 0 ] || fail "example exited $rc"
    grep -q '^exit status 0$' "$KITE_LOG" || fail "exit status not 0"
    if grep -q 'still in use after shutdown' "$KITE_LOG"; then fail "leak reported"; fi
}

########## IGMPv3 querier ##########
bridge_up 3
capture v3
ex_start v3
kite_wait_log 'Configured IPV4 Multicast address' 5 || fail "no join"
log "v3: waiting for the bridge's queries and kite's reports"
for _ in $(seq 1 80); do
    ns bridge mdb show dev br0 2>/dev/null | grep -q "port $KITE_IF grp $GROUP" && break
    sleep 0.1
done
ns bridge mdb show dev br0 | grep -q "port $KITE_IF grp $GROUP" ||
    fail "the bridge learned no membership of $GROUP on $KITE_IF"

log "both ways: python3 receives kite's datagrams and sends one kite prints"
ns timeout 20 "$PY" - "$GROUP" <<'PY' || fail "multicast exchange with Linux failed"
import socket, struct, sys, time
group = sys.argv[1]
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
r.bind((group, 3333))
mreq = struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton("192.0.2.1"))
r.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
r.settimeout(10)
data, src = r.recvfrom(256)
if src[0] != "192.0.2.2" or not data.startswith(b"Multicast #"):
    sys.exit("unexpected %r from %r" % (data, src))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("192.0.2.1"))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
for _ in range(3):
    s.sendto(b"hello from linux", (group, 3333))
    time.sleep(0.3)
PY
kite_wait_log 'received 16 bytes from 192.0.2.1' 5 || fail "kite printed no datagram from Linux"
kite_wait_log 'received [0-9]+ bytes from 192.0.2.2' 5 || fail "no looped-back datagram"

log "filtering: a group kite did not join is dropped"
ns "$PY" - <<'PY' || fail "sending to 239.9.9.9 failed"
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("192.0.2.1"))
for _ in range(3):
    s.sendto(b"nobody here", ("239.9.9.9", 3333))
PY
sleep 2.5 # a few more queries and answers
ex_stop
capture_stop
[ "$(tsh 'igmp.type == 0x11 && igmp.version == 3' ip.src | wc -l)" -ge 1 ] ||
    fail "no IGMPv3 query from the bridge seen"
kite_v3="ip.src == $KITE_IP && igmp.type == 0x22 && igmp.maddr == $GROUP"
[ "$(tsh "$kite_v3 && igmp.record_type == 4" frame.number | wc -l)" -ge 1 ] ||
    fail "no TO_EX state-change report from kite"
[ "$(tsh "$kite_v3 && igmp.record_type == 2" frame.number | wc -l)" -ge 1 ] ||
    fail "no IS_EX answer to a query from kite"
[ "$(tsh "$kite_v3 && igmp.record_type == 3" frame.number | wc -l)" -ge 1 ] ||
    fail "no TO_IN({}) when the example left"
[ "$(tsh "ip.src == $KITE_IP && igmp && !(ip.opt.type == 148 && ip.ttl == 1)" frame.number |
    wc -l)" -eq 0 ] || fail "an IGMP message from kite without Router Alert or TTL 1"
[ "$(tsh '_ws.malformed || _ws.expert.severity == error' frame.number | wc -l)" -eq 0 ] ||
    fail "tshark found malformed packets"
# The bridge floods the unregistered group to kt0; kite's socket (bound to
# 0.0.0.0:3333) must not see it: its netif never joined 239.9.9.9.
[ "$(tsh 'ip.dst == 239.9.9.9 && udp.dstport == 3333' frame.number | wc -l)" -ge 1 ] ||
    fail "the datagrams to 239.9.9.9 never reached kt0"
if grep -q 'nobody here' "$KITE_LOG"; then fail "kite delivered a group it did not join"; fi
log "v3: $(tsh "$kite_v3" frame.number | wc -l) reports from kite"

########## IGMPv2 querier ##########
ns ip link del br0
bridge_up 2
capture v2
ex_start v2
kite_wait_log 'Configured IPV4 Multicast address' 5 || fail "no join"
log "v2: waiting for a v2 query and kite's v2 report"
sleep 5
ex_stop
capture_stop
[ "$(tsh 'igmp.type == 0x11 && igmp.version == 2' ip.src | wc -l)" -ge 1 ] ||
    fail "no IGMPv2 query from the bridge seen"
[ "$(tsh "ip.src == $KITE_IP && igmp.type == 0x16 && igmp.maddr == $GROUP && ip.dst == $GROUP" \
    frame.number | wc -l)" -ge 1 ] || fail "no v2 report from kite"
[ "$(tsh "ip.src == $KITE_IP && igmp.type == 0x17 && ip.dst == 224.0.0.2" frame.number |
    wc -l)" -eq 1 ] || fail "no v2 Leave from kite"
[ "$(tsh '_ws.malformed' frame.number | wc -l)" -eq 0 ] || fail "tshark found malformed packets"
log "PASS"
