#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# UDP against Linux sockets: echo (port 7) returns every datagram intact,
# small and large (chained pbufs), discard (port 9) stays silent, and a
# closed port answers with ICMP port unreachable (RFC 1122 4.1.3.1), which
# Linux reports to a connected socket as ECONNREFUSED.
set -u
. "$(dirname "$0")/lib.sh"
kite_require socat python3
kite_setup
kite_start

# udp_send PORT: stdin as one datagram to kite, prints the reply (1 s wait).
udp_send() {
    ns timeout 10 socat -b 4096 -t 1 - "UDP:$KITE_IP:$1"
}

log "echo: one line"
reply=$(printf 'hello kite\n' | udp_send 7)
[ "$reply" = "hello kite" ] || fail "echo reply was '$reply'"

for size in 1400 1472; do
    log "echo: one $size-byte datagram"
    head -c "$size" /dev/urandom >"$KITE_DIR/out.bin"
    udp_send 7 <"$KITE_DIR/out.bin" >"$KITE_DIR/in.bin"
    cmp "$KITE_DIR/out.bin" "$KITE_DIR/in.bin" || fail "$size-byte echo differs"
done

log "echo: 200 datagrams of random sizes, a burst of 16, one without checksum"
ns timeout 20 python3 - "$KITE_IP" <<'PY' || fail "echo series failed"
import os, random, socket, sys
rng = random.Random(7)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2.0)
s.connect((sys.argv[1], 7))
for i in range(200):
    data = os.urandom(rng.randint(0, 1472))
    s.send(data)
    if s.recv(2048) != data:
        sys.exit("datagram %d (%d bytes) came back different" % (i, len(data)))
burst = [os.urandom(rng.randint(1, 1472)) for _ in range(16)]
for data in burst:
    s.send(data)
got = sorted(s.recv(2048) for _ in burst)
if got != sorted(burst):
    sys.exit("burst came back different")
# RFC 768: checksum 0 means "not computed" and must be accepted on IPv4.
SO_NO_CHECK = 11
z = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
z.setsockopt(socket.SOL_SOCKET, SO_NO_CHECK, 1)
z.settimeout(2.0)
z.connect((sys.argv[1], 7))
z.send(b"no checksum")
if z.recv(2048) != b"no checksum":
    sys.exit("datagram without checksum not echoed")
PY

log "discard: no reply on port 9"
reply=$(printf 'into the void\n' | udp_send 9 2>&1)
[ -z "$reply" ] || fail "discard answered: '$reply'"

log "closed port 4444: ICMP port unreachable -> ECONNREFUSED"
err=$( (printf 'anyone?\n'; sleep 0.5; printf 'still?\n') | udp_send 4444 2>&1 >/dev/null)
echo "$err" | grep -q 'Connection refused' || fail "no port unreachable seen: '$err'"

kite_stop
[ "$(kite_counter app.discarded)" -ge 1 ] || fail "app.discarded is 0"
[ "$(kite_counter icmp4.unreach_sent)" -ge 1 ] || fail "icmp4.unreach_sent is 0"
[ "$(kite_counter udp.drop_no_port)" -ge 1 ] || fail "udp.drop_no_port is 0"
[ "$(kite_counter app.echoed)" -ge 220 ] || fail "app.echoed is $(kite_counter app.echoed)"
log "PASS"
