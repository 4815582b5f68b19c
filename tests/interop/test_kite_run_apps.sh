#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# kite-run (docs/kite-run.md) with bigger programs, against Linux peers:
#   a python3 asyncio echo server (epoll) under kite-run serving 200
#   concurrent Linux clients, every echo checked;
#   nginx in single-process mode under kite-run serving a page and a 16 MiB
#   file (sendfile) to the Linux curl, hash-checked;
#   the socket-behaviour suite built as a plain Linux program
#   (sock_suite_linux) under kite-run: every case passes, as in its native
#   kite run (unit/sockets_kite; tests/sockets/DIFFERENCES.md, kite-run).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kite_run_lib.sh"
kite_require curl nginx python3
kr_require_built
[ -x "$KR_BIN/sock_suite_linux" ] || fail "$KR_BIN/sock_suite_linux not built"
kite_setup
PY=/usr/bin/python3
ECHO="$(dirname "$0")/../kite-run/asyncio_echo.py"

log "asyncio: 200 concurrent Linux clients to an epoll echo server under kite-run"
kr_bg 120 asyncio "$PY" "$ECHO" serve "$KITE_IP" 7100
kr_wait_log asyncio "serving .* with EpollSelector" 10 || fail "asyncio server did not start"
ns bash -c "ulimit -n 4096 && timeout 90 $PY '$ECHO' clients $KITE_IP 7100 200" \
    >"$KITE_DIR/clients.log" 2>&1 || fail "asyncio clients: $(cat "$KITE_DIR/clients.log")"
log "  $(tail -1 "$KITE_DIR/clients.log")"
kr_stop asyncio
awk '$1 == "tcp_pcb" && $5 >= 200 { ok = 1 } END { exit !ok }' "$KITE_DIR/asyncio.stats" ||
    fail "asyncio: kite never held 200 connections at once"

log "nginx (daemon off, master_process off) under kite-run"
NGX="$KITE_DIR/nginx"
mkdir -p "$NGX/www" "$NGX/tmp"
echo "hello from nginx over kite" >"$NGX/www/index.html"
head -c 16777216 /dev/urandom >"$NGX/www/f16m"
cat >"$NGX/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
error_log $NGX/error.log warn;
pid $NGX/nginx.pid;
events { use epoll; worker_connections 256; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path $NGX/tmp;
    proxy_temp_path $NGX/tmp;
    fastcgi_temp_path $NGX/tmp;
    uwsgi_temp_path $NGX/tmp;
    scgi_temp_path $NGX/tmp;
    server { listen $KITE_IP:8080; root $NGX/www; }
}
CONF
kr_bg 120 nginx nginx -c "$NGX/nginx.conf" -p "$NGX"
kr_wait_port 8080
page=$(ns timeout 10 curl -sS "http://$KITE_IP:8080/index.html") || fail "nginx: no page"
[ "$page" = "hello from nginx over kite" ] || fail "nginx page was '$page'"
ns timeout 60 curl -sS -o "$KITE_DIR/ngx.out" "http://$KITE_IP:8080/f16m" || fail "nginx: no file"
[ "$(kr_sha "$KITE_DIR/ngx.out")" = "$(kr_sha "$NGX/www/f16m")" ] || fail "nginx: file differs"
log "  page and 16 MiB file intact"
kr_stop nginx
if grep -E '\[(alert|emerg|crit)\]' "$NGX/error.log"; then
    fail "nginx logged the errors above"
fi

log "the socket suite (Linux build) under kite-run"
kr 280 suite "$KR_BIN/sock_suite_linux" >"$KITE_DIR/suite.log" 2>&1
rc=$?
total=$(grep -c '^\[ RUN' "$KITE_DIR/suite.log")
passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$KITE_DIR/suite.log")
log "  $passed of $total cases passed"
if [ "$rc" -ne 0 ] || [ "$total" -lt 150 ] || [ "${passed:-0}" -ne "$total" ]; then
    grep -E 'FAILED|ERROR' "$KITE_DIR/suite.log" | head -20
    fail "socket suite under kite-run (exit $rc)"
fi
kr_check_pools suite
log "kite-run served every program"
