#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# ECN (RFC 3168) against Linux with net.ipv4.tcp_ecn=1 in the namespace.
# nftables in the namespace marks ECT(0) packets CE: 20 % of those to kite,
# 3 % of those from kite. Linux uploads 2 MiB to kite's discard service (kite echoes CE
# with ECE until Linux's CWR), then curl downloads 1 MiB from kite's HTTP
# service (Linux echoes CE, kite reduces its window and sends CWR). Checked in
# kite's counters and in the capture: the SYN-ACK's ECE, ECT(0) on kite's
# data, ECE on its ACKs, CWR on its data, the download byte-exact.
set -u
. "$(dirname "$0")/lib.sh"
KITE_TCP_SERVICES="discard,http" # the TCP services it uses (fits every profile)
kite_require nft curl socat tshark sha256sum python3
kite_setup
ns sysctl -q -w net.ipv4.tcp_ecn=1 || fail "sysctl net.ipv4.tcp_ecn"
ns nft -f - <<NFT || fail "nft ruleset"
table inet ecnmark {
    chain to_kite {
        type filter hook postrouting priority 0;
        oifname "$KITE_IF" ip ecn ect0 numgen random mod 100 < 20 ip ecn set ce
    }
    chain from_kite {
        type filter hook prerouting priority 0;
        iifname "$KITE_IF" ip ecn ect0 numgen random mod 100 < 3 ip ecn set ce
    }
}
NFT
kite_start
size=1048576

# Linux may hand the TAP 64 KiB GSO packets, each marked or not as one: 2 MiB
# at 20 % leaves little chance that none is marked (0.8^32, under 0.1 %).
log "Linux uploads $((2 * size)) bytes to kite's discard service"
head -c "$((2 * size))" /dev/urandom >"$KITE_DIR/up.bin"
ns timeout 30 socat -u "OPEN:$KITE_DIR/up.bin" "TCP:$KITE_IP:9" || fail "upload failed"

log "curl downloads $size bytes from kite"
ns timeout 30 curl -sS --fail -o "$KITE_DIR/down.bin" "http://$KITE_IP/bytes/$size" ||
    fail "download failed"
got=$(sha256sum "$KITE_DIR/down.bin" | cut -d' ' -f1)
[ "$got" = "$(kite_pattern_sha "$size")" ] || fail "download SHA-256 differs"

kite_stop
ce=$(kite_counter tcp.ecn_ce_rx)
red=$(kite_counter tcp.ecn_reductions)
log "kite saw $ce CE-marked segments and reduced its window $red times for ECE"
[ "$ce" != missing ] && [ "$ce" -gt 0 ] || fail "no CE mark reached kite"
[ "$red" != missing ] && [ "$red" -gt 0 ] || fail "kite never answered an ECE"

# count FILTER: packets of the capture that match.
count() { kite_tshark -Y "$1" -T fields -e frame.number | wc -l; }
kite="ip.src == $KITE_IP && tcp"
synack=$(count "$kite && tcp.flags.syn == 1 && tcp.flags.ack == 1 && tcp.flags.ece == 1")
ect=$(count "$kite && tcp.len > 0 && ip.dsfield.ecn == 2")
ece=$(count "$kite && tcp.flags.syn == 0 && tcp.flags.ece == 1")
cwr=$(count "$kite && tcp.len > 0 && tcp.flags.cwr == 1")
linux_cwr=$(count "ip.src == $KITE_KERNEL_IP && tcp.flags.cwr == 1 && tcp.flags.syn == 0")
log "capture: SYN-ACK with ECE $synack, ECT(0) data $ect, ECE on ACKs $ece, CWR on data $cwr," \
    "Linux CWR $linux_cwr"
[ "$synack" -ge 2 ] || fail "kite's SYN-ACKs did not agree to ECN"
[ "$ect" -gt 0 ] || fail "kite's data was not ECT(0)"
[ "$ece" -gt 0 ] || fail "kite never echoed CE with ECE"
[ "$linux_cwr" -gt 0 ] || fail "Linux never answered kite's ECE with CWR"
[ "$cwr" -gt 0 ] || fail "kite never sent CWR after reducing"
bad=$(kite_tshark -Y '_ws.malformed || _ws.expert.severity >= error' | wc -l)
if [ "$bad" -ne 0 ]; then
    # What tshark objects to, and the whole of each such packet: a rare
    # failure here was seen without them (kept for the next one).
    kite_tshark -Y '_ws.malformed || _ws.expert.severity >= error' \
        -T fields -e frame.number -e _ws.expert.message | head -10
    kite_tshark -Y '_ws.malformed || _ws.expert.severity >= error' -V -x | head -150
    fail "$bad malformed packets in the capture"
fi
log "PASS"
