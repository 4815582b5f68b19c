#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Everything kite sent and received, as captured by its own pcap writer, must
# dissect cleanly in Wireshark: no malformed packet, no expert error, every
# IP, UDP and ICMP checksum right. Traffic: ARP, ping (small and 1500-byte),
# UDP echo, discard, and a closed port (ICMP port unreachable).
set -u
. "$(dirname "$0")/lib.sh"
kite_require tshark ping arping socat
tshark -G defaultprefs 2>/dev/null | grep -q 'ip.check_checksum' ||
    skip "this tshark has no ip.check_checksum preference"
kite_setup
kite_start

log "traffic: arping, ping, UDP echo/discard/closed port"
kite_arping 2 >/dev/null 2>&1 || fail "arping failed"
ns timeout 10 ping -n -c 5 -i 0.05 -W 2 "$KITE_IP" >/dev/null || fail "ping failed"
ns timeout 10 ping -n -c 2 -i 0.2 -s 1472 -M "do" -W 2 "$KITE_IP" >/dev/null ||
    fail "big ping failed"
printf 'echo me\n' | ns timeout 10 socat -t 0.5 - "UDP:$KITE_IP:7" >/dev/null ||
    fail "UDP echo failed"
head -c 1472 /dev/urandom | ns timeout 10 socat -b 4096 -t 0.5 - "UDP:$KITE_IP:7" >/dev/null ||
    fail "big UDP echo failed"
printf 'drop me\n' | ns timeout 10 socat -t 0.5 - "UDP:$KITE_IP:9" >/dev/null
printf 'nobody\n' | ns timeout 10 socat -t 0.5 - "UDP:$KITE_IP:4444" >/dev/null 2>&1

kite_stop # flushes and closes the capture
[ -s "$KITE_PCAP" ] || fail "no capture written"

# count FILTER: frames of the capture matching a display filter ("error" if
# tshark fails, which makes every numeric comparison below fail).
count() {
    local out
    out=$(kite_tshark -Y "$1") || {
        echo error
        return
    }
    echo "$out" | grep -c .
}

log "capture: $(count frame) frames"

bad=$(kite_tshark -Y '_ws.malformed || _ws.expert.severity >= error') || fail "tshark failed"
[ -z "$bad" ] || fail "malformed or erroneous frames:
$bad"

experts=$(kite_tshark -q -z expert,error) || fail "tshark failed"
if echo "$experts" | grep -qE '^Errors \([1-9]'; then
    fail "tshark expert errors:
$experts"
fi

# Bad checksums are expert errors already; look for them by name too, so a
# tshark that only warns about them still fails the test.
badsum=$(count 'ip.checksum.status == 0 || udp.checksum.status == 0 || icmp.checksum.status == 0')
[ "$badsum" -eq 0 ] || fail "$badsum frames with a bad checksum"

# The capture must hold what the checks above exercised.
expect() {
    local n
    n=$(count "$2")
    [ "$n" -ge "$1" ] || fail "expected >= $1 frames matching '$2', found $n"
}
expect 2 "arp.opcode == 2 && eth.src == $KITE_MAC"
expect 1 "arp.isgratuitous || arp.isannouncement || (arp.src.proto_ipv4 == $KITE_IP && arp.dst.proto_ipv4 == $KITE_IP)"
expect 7 "icmp.type == 0 && ip.src == $KITE_IP"
expect 2 "icmp.type == 0 && ip.src == $KITE_IP && ip.len == 1500"
expect 2 "udp.srcport == 7 && ip.src == $KITE_IP"
expect 1 "udp.srcport == 7 && ip.src == $KITE_IP && udp.length == 1480"
expect 1 "icmp.type == 3 && icmp.code == 3 && ip.src == $KITE_IP"
[ "$(count "udp.srcport == 9 && ip.src == $KITE_IP")" -eq 0 ] || fail "discard answered"
log "PASS"
