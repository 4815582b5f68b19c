#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Bulk TCP from kite to Linux over HTTP: curl downloads /bytes/16777216 and
# the SHA-256 matches the pattern computed here; a 4 MiB file from
# --http-root comes back identical; ten 1 MB downloads in a row reuse the
# few pcbs (TIME_WAIT recycling). No capture: 16 MiB would make it huge.
set -u
. "$(dirname "$0")/lib.sh"
KITE_TCP_SERVICES="http" # the TCP services it uses (fits every profile)
kite_require curl python3 sha256sum
kite_setup
mkdir "$KITE_DIR/www" || fail "mkdir"
head -c 4194304 /dev/urandom >"$KITE_DIR/www/blob.bin"
KITE_NO_PCAP=1 kite_start --http-root "$KITE_DIR/www"

# get PATH OUT: download with curl, print "bytes seconds bytes/s".
get() {
    ns timeout 60 curl -sS --fail -o "$2" -w '%{size_download} %{time_total} %{speed_download}' \
        "http://$KITE_IP$1"
}

size=16777216
log "curl /bytes/$size"
stats=$(get "/bytes/$size" "$KITE_DIR/bytes.bin") || fail "curl /bytes/$size failed"
log "downloaded: $stats (bytes, seconds, bytes/s)"
got=$(sha256sum "$KITE_DIR/bytes.bin" | cut -d' ' -f1)
want=$(kite_pattern_sha "$size")
[ "$got" = "$want" ] || fail "SHA-256 $got, expected $want"
rm -f "$KITE_DIR/bytes.bin"

log "curl /blob.bin (4 MiB file from --http-root)"
get /blob.bin "$KITE_DIR/blob.out" >/dev/null || fail "curl /blob.bin failed"
cmp "$KITE_DIR/www/blob.bin" "$KITE_DIR/blob.out" || fail "file download differs"

log "ten 1 MB downloads in a row"
want=$(kite_pattern_sha 1000000)
for i in $(seq 1 10); do
    get /bytes/1000000 "$KITE_DIR/small.bin" >/dev/null || fail "download $i failed"
    got=$(sha256sum "$KITE_DIR/small.bin" | cut -d' ' -f1)
    [ "$got" = "$want" ] || fail "download $i: SHA-256 differs"
done

kite_stop
[ "$(kite_counter app.http_requests)" -eq 12 ] ||
    fail "app.http_requests is $(kite_counter app.http_requests)"
[ "$(kite_counter app.http_errors)" -eq 0 ] || fail "HTTP errors"
[ "$(kite_counter app.tcp_reset)" -eq 0 ] || fail "a connection was reset"
log "PASS"
