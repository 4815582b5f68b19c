#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# kite-run (docs/kite-run.md): unmodified Debian programs with their AF_INET
# sockets served by kite, against Linux peers, each transfer hash-checked:
#   curl and wget fetching 16 MiB from python3 http.server on Linux, and
#   Linux curl fetching 16 MiB from http.server run under kite-run;
#   nc (netcat-openbsd) and socat as client and server, TCP and UDP, both ways;
#   iperf2 client and server under kite-run against Linux iperf2.
# Each kite-run program's pools are checked at its exit.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kite_run_lib.sh"
kite_require curl wget nc socat iperf python3 tshark
kr_require_built
kite_setup
PY=/usr/bin/python3
WWW="$KITE_DIR/www"
mkdir -p "$WWW"
head -c 16777216 /dev/urandom >"$WWW/f16m"
head -c 1048576 /dev/urandom >"$KITE_DIR/f1m"
SHA16=$(kr_sha "$WWW/f16m")
SHA1=$(kr_sha "$KITE_DIR/f1m")

# linux_bg PORT CMD...: a Linux peer in the namespace; waits until it listens.
linux_bg() {
    local port=$1
    shift
    ip netns exec "$KITE_NS" timeout 120 "$@" >>"$KITE_DIR/linux.log" 2>&1 &
    LINUX_PID=$!
    kite_bg_track "$LINUX_PID"
    for _ in $(seq 1 50); do
        ns ss -ltnu | grep -q "$KITE_KERNEL_IP:$port " && return 0
        sleep 0.1
    done
    fail "Linux peer not listening on $port"
}

same() { # FILE SHA WHAT
    [ "$(kr_sha "$1")" = "$2" ] || fail "$3: the data differs"
    log "$3: data intact (SHA-256)"
}

log "curl and wget under kite-run fetch 16 MiB from Linux's http.server"
linux_bg 8000 "$PY" -m http.server --bind "$KITE_KERNEL_IP" --directory "$WWW" 8000
kr 60 curl curl -sS -o "$KITE_DIR/curl.out" "http://$KITE_KERNEL_IP:8000/f16m" ||
    fail "curl under kite-run failed"
kr_check_pools curl
same "$KITE_DIR/curl.out" "$SHA16" "curl under kite-run"
kr 60 wget wget -q -O "$KITE_DIR/wget.out" "http://$KITE_KERNEL_IP:8000/f16m" ||
    fail "wget under kite-run failed"
kr_check_pools wget
same "$KITE_DIR/wget.out" "$SHA16" "wget under kite-run"

log "--pcap and --stats: a capture tshark reads, counters on stderr at exit"
ns timeout 30 "$KR_RUN" --tap "$KITE_IF" --ipv4 "$KITE_IP/24" --mac "$KITE_MAC" \
    --pcap "$KITE_PCAP" --stats -- curl -sS -o /dev/null "http://$KITE_KERNEL_IP:8000/" \
    2>"$KITE_DIR/stats.err" || fail "curl with --pcap --stats failed"
grep -q '^  tcp.active_opens 1$' "$KITE_DIR/stats.err" || fail "--stats printed no counters"
grep -q '^  tcp_pcb ' "$KITE_DIR/stats.err" || fail "--stats printed no pools"
get=$(kite_tshark -Y 'http.request.method == "GET"' | wc -l)
[ "$get" -eq 1 ] || fail "the capture holds $get HTTP GETs, not 1"
malformed=$(kite_tshark -Y '_ws.malformed || _ws.expert.severity == error' | wc -l)
[ "$malformed" -eq 0 ] || fail "tshark finds $malformed malformed packets in the capture"

log "without the launcher: LD_PRELOAD and KITE_* set by hand"
ns env KITE_TAP="$KITE_IF" KITE_IPV4="$KITE_IP/24" KITE_MAC="$KITE_MAC" \
    LD_PRELOAD="$KR_BIN/../lib/libkite-preload.so" KITE_STATS="$KITE_DIR/preload.stats" \
    timeout 30 wget -q -O "$KITE_DIR/preload.out" "http://$KITE_KERNEL_IP:8000/f16m" ||
    fail "wget with LD_PRELOAD failed"
same "$KITE_DIR/preload.out" "$SHA16" "wget with LD_PRELOAD"
kr_check_pools preload

log "Linux curl fetches 16 MiB from http.server under kite-run"
# (SIGTERM made a clean exit, so kite's exit handler runs and reports)
kr_bg 120 httpd "$PY" -c 'import runpy, signal, sys
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
sys.argv[0] = "http.server"
runpy.run_module("http.server", run_name="__main__")' --bind "$KITE_IP" --directory "$WWW" 8001
kr_wait_port 8001
ns timeout 60 curl -sS -o "$KITE_DIR/linux-curl.out" "http://$KITE_IP:8001/f16m" ||
    fail "Linux curl from http.server under kite-run failed"
same "$KITE_DIR/linux-curl.out" "$SHA16" "http.server under kite-run"
kr_stop httpd

log "nc: kite-run client to a Linux server, 1 MiB"
linux_bg 9000 sh -c "nc -l -N $KITE_KERNEL_IP 9000 >'$KITE_DIR/nc1.out'"
kr 30 nc-client nc -N "$KITE_KERNEL_IP" 9000 <"$KITE_DIR/f1m" || fail "nc client under kite-run"
wait "$LINUX_PID"
same "$KITE_DIR/nc1.out" "$SHA1" "nc client under kite-run"
kr_check_pools nc-client

log "nc: Linux client to a kite-run server, 1 MiB"
kr_bg 30 nc-server sh -c "nc -l -N $KITE_IP 9001 >'$KITE_DIR/nc2.out'"
sleep 1 # (nc -l answers one connection: no port probe)
ns timeout 30 nc -N "$KITE_IP" 9001 <"$KITE_DIR/f1m" || fail "Linux nc to kite-run nc"
wait "$KR_PID" || fail "nc server under kite-run failed"
same "$KITE_DIR/nc2.out" "$SHA1" "nc server under kite-run"
kr_check_pools nc-server

log "nc: UDP both ways"
linux_bg 9100 sh -c "timeout 5 nc -u -l $KITE_KERNEL_IP 9100 >'$KITE_DIR/nc-u1.out'"
echo "udp to linux" | kr 10 nc-udp-client nc -u -q 1 "$KITE_KERNEL_IP" 9100 ||
    fail "nc -u under kite-run"
wait "$LINUX_PID"
grep -qx "udp to linux" "$KITE_DIR/nc-u1.out" || fail "nc -u: Linux got nothing"
kr_bg 10 nc-udp-server sh -c "nc -u -l -W 1 $KITE_IP 9101 >'$KITE_DIR/nc-u2.out'"
sleep 1
echo "udp to kite" | ns timeout 5 nc -u -q 1 "$KITE_IP" 9101
for _ in $(seq 1 30); do
    grep -qx "udp to kite" "$KITE_DIR/nc-u2.out" && break
    sleep 0.1
done
grep -qx "udp to kite" "$KITE_DIR/nc-u2.out" || fail "nc -u -l under kite-run got nothing"
wait "$KR_PID" || fail "nc -u -l -W 1 under kite-run failed"
kr_check_pools nc-udp-server

log "socat: TCP both ways, 1 MiB"
linux_bg 9002 socat -u "TCP-LISTEN:9002,bind=$KITE_KERNEL_IP" "OPEN:$KITE_DIR/socat1.out,creat"
kr 30 socat-client socat -u "OPEN:$KITE_DIR/f1m" "TCP:$KITE_KERNEL_IP:9002" ||
    fail "socat client under kite-run"
wait "$LINUX_PID"
same "$KITE_DIR/socat1.out" "$SHA1" "socat client under kite-run"
kr_check_pools socat-client
kr_bg 30 socat-server socat -u "TCP-LISTEN:9003,bind=$KITE_IP" "OPEN:$KITE_DIR/socat2.out,creat"
sleep 1
ns timeout 30 socat -u "OPEN:$KITE_DIR/f1m" "TCP:$KITE_IP:9003" || fail "Linux socat to kite-run"
wait "$KR_PID" || fail "socat server under kite-run failed"
same "$KITE_DIR/socat2.out" "$SHA1" "socat server under kite-run"
kr_check_pools socat-server

log "socat: UDP both ways"
linux_bg 9102 socat -u "UDP-RECV:9102,bind=$KITE_KERNEL_IP" "OPEN:$KITE_DIR/socat-u1.out,creat"
echo "socat udp to linux" | kr 10 socat-udp-client socat -u - "UDP-SENDTO:$KITE_KERNEL_IP:9102" ||
    fail "socat UDP client under kite-run"
sleep 0.5
grep -qx "socat udp to linux" "$KITE_DIR/socat-u1.out" || fail "socat UDP: Linux got nothing"
kr_check_pools socat-udp-client
kr_bg 10 socat-udp-server socat -T 2 -u "UDP-RECV:9103,bind=$KITE_IP" \
    "OPEN:$KITE_DIR/socat-u2.out,creat"
sleep 1
echo "socat udp to kite" | ns timeout 5 socat -u - "UDP-SENDTO:$KITE_IP:9103"
for _ in $(seq 1 30); do
    grep -qx "socat udp to kite" "$KITE_DIR/socat-u2.out" && break
    sleep 0.1
done
grep -qx "socat udp to kite" "$KITE_DIR/socat-u2.out" || fail "socat UDP-RECV under kite-run got nothing"
wait "$KR_PID" # (-T 2: it ends after 2 s without a datagram)
kr_check_pools socat-udp-server

log "iperf2: kite-run client to Linux iperf -s (3 s)"
linux_bg 5001 iperf -s -B "$KITE_KERNEL_IP" -p 5001
kr 30 iperf-client iperf -c "$KITE_KERNEL_IP" -p 5001 -t 3 >"$KITE_DIR/iperf-c.log" 2>&1 ||
    fail "iperf -c under kite-run failed: $(cat "$KITE_DIR/iperf-c.log")"
grep -q "Bytes" "$KITE_DIR/iperf-c.log" || fail "iperf -c printed no transfer"
log "  $(grep Bytes "$KITE_DIR/iperf-c.log" | tail -1)"
kr_check_pools iperf-client

log "iperf2: Linux iperf -c to iperf -s under kite-run (3 s)"
kr_bg 60 iperf-server iperf -s -B "$KITE_IP" -p 5002
kr_wait_log iperf-server "Server listening" 10 ||
    fail "iperf -s under kite-run did not start"
ns timeout 30 iperf -c "$KITE_IP" -p 5002 -t 3 >"$KITE_DIR/iperf-linux.log" 2>&1 ||
    fail "Linux iperf -c to kite-run failed"
grep -q "Bytes" "$KITE_DIR/iperf-linux.log" || fail "Linux iperf -c printed no transfer"
log "  $(grep Bytes "$KITE_DIR/iperf-linux.log" | tail -1)"
kr_stop iperf-server INT

log "kite-run served every program"
