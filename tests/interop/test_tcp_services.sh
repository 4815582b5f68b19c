#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# kite-host's small TCP services against Linux clients: echo (7) returns a
# line and 300 KB of random bytes intact, chargen (19) streams RFC 864 lines
# until the reader goes away, discard (9) swallows 1 MB, a closed port
# answers with RST (nc -z fails at once), and the HTTP server answers good,
# bad and hostile requests correctly (404, 400 on garbage and path
# traversal, 405, 431, 505, 408 after a stalled request). The capture has
# no malformed packet, no expert error and no bad TCP checksum.
set -u
. "$(dirname "$0")/lib.sh"
kite_require socat nc curl python3 tshark
kite_setup
mkdir -p "$KITE_DIR/www/sub" "$KITE_DIR/outside" || fail "mkdir"
printf 'hello from a file\n' >"$KITE_DIR/www/sub/hello.txt"
printf 'secret\n' >"$KITE_DIR/outside/secret.txt"
ln -s ../outside/secret.txt "$KITE_DIR/www/escape.txt"
# check_capture: nothing malformed, no bad TCP checksum in kite's capture.
check_capture() {
    local bad out n
    bad=$(kite_tshark -o tcp.check_checksum:TRUE -Y '_ws.malformed || _ws.expert.severity >= error') ||
        fail "tshark failed"
    [ -z "$bad" ] || fail "malformed or erroneous frames:
$bad"
    # (tshark's status is checked apart: a failing tshark prints nothing, which
    # must not read as "no bad checksum".)
    out=$(kite_tshark -o tcp.check_checksum:TRUE -Y "$KITE_TCP_BADSUM") || fail "tshark failed"
    n=$(printf '%s' "$out" | grep -c .)
    [ "$n" -eq 0 ] || fail "$n frames with a bad TCP checksum"
}

# Four services; a build with fewer TCP listeners (min_ram: 2) serves echo
# and chargen first, then discard and HTTP from a second kite-host.
if [ "$KITE_OPT_TCP_LISTEN_COUNT" -ge 4 ]; then
    KITE_TCP_SERVICES="echo,chargen,discard,http" split=0
else
    KITE_TCP_SERVICES="echo,chargen" split=1
fi
kite_start --http-root "$KITE_DIR/www"

log "echo: a line, then 300 KB of random bytes"
reply=$(printf 'hello tcp\n' | ns timeout 10 socat -t 2 - "TCP:$KITE_IP:7")
[ "$reply" = "hello tcp" ] || fail "echo reply was '$reply'"
head -c 300000 /dev/urandom >"$KITE_DIR/out.bin"
ns timeout 20 socat -t 5 - "TCP:$KITE_IP:7" <"$KITE_DIR/out.bin" >"$KITE_DIR/in.bin" ||
    fail "echo of 300 KB failed"
cmp "$KITE_DIR/out.bin" "$KITE_DIR/in.bin" || fail "300 KB echo differs"

log "chargen: read 20000 bytes, then close"
ns timeout 10 nc "$KITE_IP" 19 | head -c 20000 >"$KITE_DIR/chargen.txt"
python3 - "$KITE_DIR/chargen.txt" <<'PY' || fail "chargen stream is not RFC 864 lines"
import sys
data = open(sys.argv[1], "rb").read()
want = b"".join(bytes(32 + (j + c) % 95 for c in range(72)) + b"\r\n" for j in range(300))
sys.exit(0 if len(data) == 20000 and data == want[:20000] else 1)
PY

if [ "$split" = 1 ]; then
    kite_stop
    check_capture
    KITE_TCP_SERVICES="discard,http"
    kite_start --http-root "$KITE_DIR/www"
fi

log "discard: 1 MB, no answer"
reply=$(head -c 1000000 /dev/zero | ns timeout 10 socat -t 2 - "TCP:$KITE_IP:9" | wc -c)
[ "$reply" -eq 0 ] || fail "discard answered $reply bytes"

log "closed port 4444: RST, nc -z fails at once"
start=$(date +%s%N)
ns timeout 10 nc -z -w 3 "$KITE_IP" 4444 && fail "nc -z connected to a closed port"
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -lt 1000 ] || fail "nc -z took $ms ms (no RST?)"

# http METHOD PATH: status code of a request made with curl.
http() {
    ns timeout 10 curl -s --path-as-is -o "$KITE_DIR/http.out" -w '%{http_code}' -X "$1" \
        "http://$KITE_IP$2"
}
# raw TEXT: send TEXT as the request, print the response's status line.
raw() {
    printf "$1" | ns timeout 15 socat -t 12 - "TCP:$KITE_IP:80" | head -1 | tr -d '\r'
}
expect_code() {
    local got
    got=$(http "$1" "$2")
    [ "$got" = "$3" ] || fail "$1 $2: status $got, expected $3"
}
log "http: good requests"
expect_code GET /bytes/5 200
[ "$(cat "$KITE_DIR/http.out")" = "00000" ] || fail "/bytes/5 body '$(cat "$KITE_DIR/http.out")'"
expect_code GET /bytes/0 200
expect_code GET /sub/hello.txt 200
cmp -s "$KITE_DIR/www/sub/hello.txt" "$KITE_DIR/http.out" || fail "file body differs"
head=$(ns timeout 10 curl -s -I "http://$KITE_IP/bytes/100" | tr -d '\r')
echo "$head" | grep -q '^Content-Length: 100$' || fail "HEAD: $head"
expect_code GET '/bytes/7?x=1' 200

log "http: bad and hostile requests"
expect_code GET /missing 404
expect_code GET /sub 404
expect_code GET /escape.txt 404
expect_code GET /../outside/secret.txt 400
expect_code GET /sub/../../outside/secret.txt 400
expect_code GET //etc/passwd 400
expect_code GET /bytes/abc 400
expect_code GET /bytes/-1 400
expect_code GET /bytes/99999999999999999999 400
expect_code POST /bytes/5 405
[ "$(raw 'garbage\r\n\r\n')" = "HTTP/1.1 400 Bad Request" ] || fail "garbage not 400"
[ "$(raw 'GET / HTTP/1.1\r\n\r\n')" = "HTTP/1.1 400 Bad Request" ] || fail "no Host not 400"
[ "$(raw 'GET / HTTP/2.0\r\nHost: k\r\n\r\n')" = "HTTP/1.1 505 HTTP Version Not Supported" ] ||
    fail "HTTP/2.0 not 505"
[ "$(raw 'GET / HTTP/1.1\r\nHost: k\r\nBad Name: x\r\n\r\n')" = "HTTP/1.1 400 Bad Request" ] ||
    fail "space in a field name not 400"
[ "$(raw 'GET /\001 HTTP/1.1\r\nHost: k\r\n\r\n')" = "HTTP/1.1 400 Bad Request" ] ||
    fail "control character not 400"
big=$(head -c 5000 /dev/zero | tr '\0' 'a')
[ "$(raw "GET / HTTP/1.1\r\nHost: k\r\nX: $big")" = "HTTP/1.1 431 Request Header Fields Too Large" ] ||
    fail "oversized head not 431"
log "http: a stalled request gets 408 after 10 s"
ns timeout 20 python3 - "$KITE_IP" <<'PY' || fail "stalled request not answered with 408"
import socket, sys, time
s = socket.create_connection((sys.argv[1], 80), timeout=15)
s.sendall(b"GET / HTTP/1.1\r\nHost: k\r\n")  # no blank line: the head never ends
start = time.monotonic()
reply = s.recv(4096)
took = time.monotonic() - start
print("    reply after %.1f s: %r" % (took, reply.split(b"\r\n")[0]))
sys.exit(0 if reply.startswith(b"HTTP/1.1 408 ") and 9 <= took <= 12 else 1)
PY

sleep 1 # let the last closing handshakes finish
kite_stop

check_capture
out=$(kite_tshark -Y "tcp.flags.reset == 1 && ip.src == $KITE_IP && tcp.srcport == 4444") ||
    fail "tshark failed"
n=$(printf '%s' "$out" | grep -c .)
[ "$n" -ge 1 ] || fail "no RST from the closed port in the capture"
[ "$(kite_counter tcp.resets_sent)" -ge 1 ] || fail "tcp.resets_sent is 0"
# One error response per bad request above: 3 x 404, 6 x 400 and 405 through
# curl, then 400, 400, 505, 400, 400, 431 raw, and the 408.
[ "$(kite_counter app.http_errors)" -eq 17 ] ||
    fail "app.http_errors is $(kite_counter app.http_errors), expected 17"
log "PASS"
