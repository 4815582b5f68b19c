#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The ESP-IDF socket examples (examples/, built beside kite-host as
# example_*) against Linux peers in the namespace, each on the TAP device kt0:
#   tcp_server   socat and nc as clients, echo byte-exact; the keepalive
#                options read back as set; probes seen on the wire after 5 s
#                idle; SIGTERM while a client is connected
#   tcp_client   against socat TCP-LISTEN ... EXEC:cat; a closed port fails
#                with ECONNREFUSED
#   udp_server   socat UDP clients (text and a 1472-byte binary datagram);
#                the receive timeout renews the socket
#   udp_client   against a socat UDP echo; the "OK: " reply reconnects; a
#                silent server ends in the receive timeout (EAGAIN)
#   udp_multicast joins 232.10.11.12 (port 3333, TTL 1, loop): python3 on
#                Linux receives its datagrams and sends three it prints;
#                it hears its own through IP_MULTICAST_LOOP
#   http_request against python3 -m http.server: body length checked; 404
#   ping         a raw ICMP socket: 5 echo requests answered by the kernel
#                (its Icmp InEchos counts them); an address nobody has ends
#                in the timeout with exit status 1
# Every example must end with exit status 0 and every pool back to zero
# (the helper checks and prints them), servers after SIGTERM.
set -u
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3 # Debian's, for http.server and the small peers
kite_require socat nc tshark dumpcap cmp "$PY"
BIN=$(dirname "$KITE_HOST")
for ex in tcp_server tcp_client udp_server udp_client udp_multicast http_request ping; do
    [ -x "$BIN/example_$ex" ] || fail "$BIN/example_$ex not built"
done
kite_setup
NET=(--tap "$KITE_IF" --ipv4 "$KITE_IP/24" --gw "$KITE_KERNEL_IP" --mac "$KITE_MAC")
RUN=0 # numbers the logs: one per run of an example

# ex_start NAME [ARGS...]: run example_NAME in the namespace in the
# background (KITE_PID, so the EXIT trap kills it), wait until it is up.
ex_start() {
    local name=$1
    shift
    RUN=$((RUN + 1))
    KITE_LOG="$KITE_DIR/$RUN-$name.log"
    ip netns exec "$KITE_NS" "$BIN/example_$name" "${NET[@]}" "$@" >"$KITE_LOG" 2>&1 &
    KITE_PID=$!
    for _ in $(seq 1 50); do
        grep -q 'example_net: up on' "$KITE_LOG" 2>/dev/null && break
        kill -0 "$KITE_PID" 2>/dev/null || fail "example_$name exited during start-up"
        sleep 0.1
    done
    grep -q 'example_net: up on' "$KITE_LOG" || fail "example_$name not up after 5 s"
}

# ex_wait_log REGEX SECONDS: wait until the running example logged REGEX.
ex_wait_log() {
    for _ in $(seq 1 $(($2 * 10))); do
        grep -qE "$1" "$KITE_LOG" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "no '$1' in the log after $2 s"
}

# ex_check_clean: the finished example said exit status 0 with pools empty.
ex_check_clean() {
    grep -q '^pools:' "$KITE_LOG" || fail "no pool report"
    grep -q '^exit status 0$' "$KITE_LOG" || fail "exit status not 0"
    if grep -q 'still in use after shutdown' "$KITE_LOG"; then fail "leak reported"; fi
}

# ex_stop: SIGTERM the running example; it must exit 0 within 5 s.
ex_stop() {
    local rc
    kill -TERM "$KITE_PID" 2>/dev/null || fail "example died before SIGTERM"
    for _ in $(seq 1 50); do
        kill -0 "$KITE_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$KITE_PID" 2>/dev/null && fail "example ignored SIGTERM for 5 s"
    wait "$KITE_PID"
    rc=$?
    KITE_PID=""
    [ "$rc" -eq 0 ] || fail "example exited $rc after SIGTERM"
    ex_check_clean
}

# ex_run NAME TIMEOUT [ARGS...]: run a client example to its end; its exit
# status is returned, its output is in $KITE_LOG.
ex_run() {
    local name=$1 limit=$2
    shift 2
    RUN=$((RUN + 1))
    KITE_LOG="$KITE_DIR/$RUN-$name.log"
    ns timeout "$limit" "$BIN/example_$name" "${NET[@]}" "$@" >"$KITE_LOG" 2>&1
}

# bg PEER...: a Linux peer in the namespace, killed by the EXIT trap.
bg() {
    ip netns exec "$KITE_NS" "$@" >>"$KITE_DIR/peers.log" 2>&1 &
    kite_bg_track $!
    BG_PID=$!
}

# bg_stop: end the last peer started with bg.
bg_stop() {
    kill "$BG_PID" 2>/dev/null
    wait "$BG_PID" 2>/dev/null
}

# wait_port PROTO PORT: until a Linux peer listens on PORT in the namespace.
wait_port() {
    for _ in $(seq 1 50); do
        ns ss -Hln"$1" "sport = :$2" | grep -q . && return 0
        sleep 0.1
    done
    fail "nothing listens on $1 port $2"
}

########## tcp_server ##########
log "tcp_server: echo to socat and nc"
ex_start tcp_server
ex_wait_log 'Socket listening' 5
reply=$(printf 'hello kite\n' | ns timeout 10 socat -t 5 - "TCP:$KITE_IP:3333") ||
    fail "socat client failed"
[ "$reply" = "hello kite" ] || fail "tcp_server echo was '$reply'"
grep -q 'Keepalive on: idle 5 s, interval 5 s, count 3' "$KITE_LOG" ||
    fail "keepalive options not as ESP-IDF sets them"
head -c 65536 /dev/urandom >"$KITE_DIR/tcp.bin"
ns timeout 20 socat -t 10 - "TCP:$KITE_IP:3333" <"$KITE_DIR/tcp.bin" >"$KITE_DIR/tcp.out" ||
    fail "socat 64 KiB client failed"
cmp "$KITE_DIR/tcp.bin" "$KITE_DIR/tcp.out" || fail "64 KiB echo differs"
ns timeout 20 nc -N "$KITE_IP" 3333 <"$KITE_DIR/tcp.bin" >"$KITE_DIR/nc.out" ||
    fail "nc client failed"
cmp "$KITE_DIR/tcp.bin" "$KITE_DIR/nc.out" || fail "64 KiB echo to nc differs"

log "tcp_server: keepalive probes after 5 s idle, then SIGTERM with a client connected"
CAP="$KITE_DIR/keepalive.pcap"
bg dumpcap -q -i "$KITE_IF" -a duration:9 -w "$CAP"
sleep 1
ns timeout 20 "$PY" - "$KITE_IP" <<'PY' || fail "idle client failed"
import socket, sys, time
s = socket.create_connection((sys.argv[1], 3333), timeout=5)
s.sendall(b"before idle")
assert s.recv(100) == b"before idle"
time.sleep(7)  # kite's keepalive: first probe after 5 s
s.sendall(b"after idle")
assert s.recv(100) == b"after idle", "connection did not survive the idle time"
PY
wait "$BG_PID" 2>/dev/null
probes=$(tshark -r "$CAP" -Y "ip.src == $KITE_IP && tcp.srcport == 3333 && tcp.analysis.keep_alive" \
    2>/dev/null | wc -l)
log "keepalive probes from kite: $probes"
[ "$probes" -ge 1 ] || fail "no keepalive probe from kite after 5 s idle"
# A client that stays connected: SIGTERM must still end the blocked recv.
bg "$PY" -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], 3333), timeout=5)
s.sendall(b"stay")
s.recv(100)
time.sleep(30)
' "$KITE_IP"
ex_wait_log 'Received 4 bytes: stay' 5
ex_stop
bg_stop
grep -q 'SIGTERM: stopping' "$KITE_LOG" || fail "tcp_server did not log the stop"

########## tcp_client ##########
log "tcp_client: against socat TCP-LISTEN ... EXEC:cat"
bg socat TCP-LISTEN:3333,bind="$KITE_KERNEL_IP",reuseaddr,fork EXEC:cat
wait_port t 3333
ex_run tcp_client 30 --host "$KITE_KERNEL_IP" --count 3 --interval-ms 200 ||
    fail "tcp_client exited $?"
[ "$(grep -c 'Received 18 bytes from 192.0.2.1:' "$KITE_LOG")" -eq 3 ] ||
    fail "tcp_client did not get 3 replies"
[ "$(grep -c 'example: Message from kite $' "$KITE_LOG")" -eq 3 ] ||
    fail "tcp_client replies differ from what it sent"
ex_check_clean
bg_stop
log "tcp_client: a closed port is ECONNREFUSED (errno 111)"
ex_run tcp_client 30 --host "$KITE_KERNEL_IP" --port 3334 --count 1 && fail "connect succeeded"
grep -q 'Socket unable to connect: errno 111' "$KITE_LOG" || fail "no ECONNREFUSED"
grep -q '^exit status 1$' "$KITE_LOG" || fail "exit status not 1 after refused connect"

########## udp_server ##########
log "udp_server: echo to socat UDP clients"
ex_start udp_server
ex_wait_log 'Waiting for data' 5
reply=$(printf 'hello udp\n' | ns timeout 10 socat -t 2 - "UDP:$KITE_IP:3333") ||
    fail "socat UDP client failed"
[ "$reply" = "hello udp" ] || fail "udp_server echo was '$reply'"
grep -q 'dest ip: 192.0.2.2' "$KITE_LOG" || fail "no IP_PKTINFO destination logged"
head -c 1472 /dev/urandom >"$KITE_DIR/udp.bin"
ns timeout 10 socat -b 2048 -t 2 - "UDP:$KITE_IP:3333" <"$KITE_DIR/udp.bin" >"$KITE_DIR/udp.out" ||
    fail "socat 1472-byte client failed"
cmp "$KITE_DIR/udp.bin" "$KITE_DIR/udp.out" || fail "1472-byte echo differs"
ex_stop
log "udp_server: the receive timeout (1 s) renews the socket"
ex_start udp_server --timeout-s 1
ex_wait_log 'Shutting down socket and restarting' 5
grep -q 'recvfrom failed: errno 11' "$KITE_LOG" || fail "timeout was not EAGAIN"
ex_wait_log 'Waiting for data' 5
sleep 0.2
reply=$(printf 'after renewal\n' | ns timeout 10 socat -t 2 - "UDP:$KITE_IP:3333")
[ "$reply" = "after renewal" ] || fail "no echo after renewal: '$reply'"
ex_stop

########## udp_client ##########
log "udp_client: against a socat UDP echo"
bg socat UDP-RECVFROM:3333,bind="$KITE_KERNEL_IP",fork PIPE
wait_port u 3333
ex_run udp_client 30 --host "$KITE_KERNEL_IP" --count 3 --interval-ms 200 ||
    fail "udp_client exited $?"
[ "$(grep -c 'Received 18 bytes from 192.0.2.1:' "$KITE_LOG")" -eq 3 ] ||
    fail "udp_client did not get 3 replies"
grep -q '3 messages sent, 0 without a reply' "$KITE_LOG" || fail "udp_client summary"
ex_check_clean
bg_stop
log "udp_client: an \"OK: \" reply starts over with a new socket"
bg "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 3335))
for _ in range(2):
    data, peer = s.recvfrom(2048)
    s.sendto(b"OK: " + data, peer)
' "$KITE_KERNEL_IP"
wait_port u 3335
ex_run udp_client 30 --host "$KITE_KERNEL_IP" --port 3335 --count 2 --interval-ms 100 ||
    fail "udp_client (OK: replies) exited $?"
[ "$(grep -c 'Received expected message, reconnecting' "$KITE_LOG")" -eq 2 ] ||
    fail "no reconnect after OK:"
[ "$(grep -c 'Socket created, sending to' "$KITE_LOG")" -eq 2 ] || fail "no second socket"
bg_stop
log "udp_client: a silent server ends in the receive timeout"
bg socat -u UDP-RECV:3336,bind="$KITE_KERNEL_IP" /dev/null
wait_port u 3336
start=$(date +%s%N)
ex_run udp_client 30 --host "$KITE_KERNEL_IP" --port 3336 --count 1 --timeout-s 1 &&
    fail "udp_client succeeded without replies"
ms=$((($(date +%s%N) - start) / 1000000))
grep -q 'recvfrom failed: errno 11' "$KITE_LOG" || fail "no EAGAIN after the timeout"
grep -q '^exit status 1$' "$KITE_LOG" || fail "exit status not 1 after the timeout"
log "timed out and exited after $ms ms"
if [ "$ms" -lt 1000 ] || [ "$ms" -ge 5000 ]; then fail "1 s timeout took $ms ms"; fi
bg_stop

########## udp_multicast ##########
log "udp_multicast: 232.10.11.12:3333 with python3 on Linux, both ways"
MCAST_PEER='
import socket, struct, sys, time
group = "232.10.11.12"
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
r.bind((group, 3333))
r.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton("192.0.2.1")))
r.settimeout(15)
got = 0
while got < 2:
    data, src = r.recvfrom(256)
    if src[0] == "192.0.2.2" and data.startswith(b"Multicast #"):
        got += 1
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("192.0.2.1"))
for _ in range(3):
    s.sendto(b"hello from linux", (group, 3333))
    time.sleep(0.2)
print("mcast peer: got", got)
'
bg "$PY" -c "$MCAST_PEER"
MCAST_PID=$BG_PID
sleep 0.5
ex_run udp_multicast 30 --count 8 --timeout-ms 400 || fail "udp_multicast exited $?"
wait "$MCAST_PID" || fail "the Linux peer did not get kite's multicast datagrams"
grep -q 'received 16 bytes from 192.0.2.1' "$KITE_LOG" ||
    fail "udp_multicast printed no datagram from Linux"
grep -q 'received [0-9]* bytes from 192.0.2.2' "$KITE_LOG" ||
    fail "udp_multicast did not hear its own datagrams (IP_MULTICAST_LOOP)"
ex_check_clean

########## http_request ##########
log "http_request: GET from python3 -m http.server"
mkdir "$KITE_DIR/www" || fail "mkdir"
head -c 200000 /dev/urandom >"$KITE_DIR/www/blob.bin"
bg "$PY" -m http.server 8000 --bind "$KITE_KERNEL_IP" --directory "$KITE_DIR/www"
wait_port t 8000
ex_run http_request 60 --url "http://$KITE_KERNEL_IP:8000/blob.bin" --count 2 --countdown-s 0 ||
    fail "http_request exited $?"
[ "$(grep -c 'status line: HTTP/1.0 200 OK' "$KITE_LOG")" -eq 2 ] || fail "no 200 status line"
[ "$(grep -c 'body length: 200000 bytes (Content-Length 200000)' "$KITE_LOG")" -eq 2 ] ||
    fail "body length not 200000"
grep -q 'done reading from socket. Last read return=0 errno=0' "$KITE_LOG" || fail "no EOF"
ex_check_clean
log "http_request: 404 is a failure"
ex_run http_request 60 --url "http://$KITE_KERNEL_IP:8000/missing" --count 1 &&
    fail "404 counted as success"
grep -q 'status line: HTTP/1.0 404' "$KITE_LOG" || fail "no 404 status line"
grep -q '^pools:' "$KITE_LOG" || fail "no pool report"
if grep -q 'still in use after shutdown' "$KITE_LOG"; then fail "leak reported"; fi
bg_stop

########## ping ##########
# icmp_counter NAME: the kernel's Icmp counter NAME (/proc/net/snmp) in the namespace.
icmp_counter() {
    # shellcheck disable=SC2016 # $1, $i and $col are awk's
    ns awk -v name="$1" '$1 == "Icmp:" {
        if (!col) { for (i = 2; i <= NF; i++) if ($i == name) col = i; next }
        print $col }' /proc/net/snmp
}
if [ "$KITE_OPT_RAW" = 0 ]; then # a build without raw IP (min_ram)
    log "ping: this build has no raw sockets: SOCK_RAW fails with EPROTONOSUPPORT, exit 1"
    ex_run ping 30 --count 1 "$KITE_KERNEL_IP" && fail "ping ran without raw sockets"
    eproto=$("$PY" -c 'import errno; print(errno.EPROTONOSUPPORT)')
    grep -q "Unable to create raw socket: errno $eproto\$" "$KITE_LOG" ||
        fail "no EPROTONOSUPPORT from SOCK_RAW: $(grep -i raw "$KITE_LOG")"
    grep -q '^exit status 1$' "$KITE_LOG" || fail "exit status not 1"
    grep -q '^pools:' "$KITE_LOG" || fail "no pool report"
    if grep -q 'still in use after shutdown' "$KITE_LOG"; then fail "leak reported"; fi
    log "PASS"
    exit 0
fi
log "ping: 5 echo requests to the kernel over a raw ICMP socket"
echos=$(icmp_counter InEchos)
bad=$(($(icmp_counter InErrors) + $(icmp_counter InCsumErrors)))
[ -n "$echos" ] || fail "no Icmp InEchos in /proc/net/snmp"
ex_run ping 30 --count 5 "$KITE_KERNEL_IP" || fail "ping exited $?"
for seq in 1 2 3 4 5; do
    grep -qE "ping: 64 bytes from 192\.0\.2\.1: icmp_seq=$seq ttl=64 time=[0-9]+\.[0-9]{3} ms$" \
        "$KITE_LOG" || fail "no reply line for icmp_seq=$seq"
done
[ "$(grep -c 'ping: 64 bytes from' "$KITE_LOG")" -eq 5 ] || fail "not 5 reply lines"
grep -q '5 packets transmitted, 5 received' "$KITE_LOG" || fail "ping summary"
ex_check_clean
seen=$(($(icmp_counter InEchos) - echos))
log "kernel Icmp InEchos: +$seen"
[ "$seen" -eq 5 ] || fail "the kernel counted $seen echo requests, not 5"
[ "$(($(icmp_counter InErrors) + $(icmp_counter InCsumErrors)))" -eq "$bad" ] ||
    fail "the kernel counted ICMP errors (bad checksums?)"
log "ping: an address nobody has (192.0.2.77) ends in the timeout, exit status 1"
echos=$(icmp_counter InEchos)
start=$(date +%s%N)
ex_run ping 30 --count 2 --timeout-ms 500 192.0.2.77 && fail "ping succeeded without replies"
ms=$((($(date +%s%N) - start) / 1000000))
grep -q '^exit status 1$' "$KITE_LOG" || fail "exit status not 1 without replies"
[ "$(grep -c 'no reply from 192.0.2.77: icmp_seq=[12]$' "$KITE_LOG")" -eq 2 ] ||
    fail "not 2 timeouts logged"
grep -q '2 packets transmitted, 0 received' "$KITE_LOG" || fail "ping summary without replies"
grep -q '^pools:' "$KITE_LOG" || fail "no pool report"
if grep -q 'still in use after shutdown' "$KITE_LOG"; then fail "leak reported"; fi
[ "$(icmp_counter InEchos)" -eq "$echos" ] || fail "echo requests for 192.0.2.77 reached the kernel"
log "2 timeouts of 500 ms took $ms ms"
if [ "$ms" -lt 1000 ] || [ "$ms" -ge 5000 ]; then fail "2 x 500 ms timeouts took $ms ms"; fi

log "PASS"
