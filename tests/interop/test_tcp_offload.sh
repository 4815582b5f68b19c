#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# TAP offload (kite-host --offload): the kernel hands kite 64 KiB TCP
# super-frames (TSO) with partial checksums that the driver completes, and,
# in a KITE_TSO build, kite hands the kernel 64 KiB super-segments to cut.
# Checks that data through them is byte-exact (16 MiB of random bytes through
# kite's TCP echo, compared by SHA-256), that super-frames were really used,
# and reports iperf2 Linux -> kite throughput, in a kite-host built with the
# max_throughput profile. A build whose pool cannot hold super-frames (the
# default and min_ram profiles) must refuse --offload, clearly: that is what
# the test checks there (kite-host --options says which).
set -u
. "$(dirname "$0")/lib.sh"
kite_require iperf socat sha256sum
iperf -v 2>&1 | grep -q 'iperf version 2' || skip "iperf is not iperf2"
kite_setup
if [ "$KITE_OPT_OFFLOAD" = 0 ]; then # the pool cannot hold super-frames (default, min_ram)
    kite_expect_refusal "--offload needs a PBUF_POOL of at least 512 KiB" --offload
    log "PASS"
    exit 0
fi
KITE_NO_PCAP=1 kite_start --offload

head -c 16777216 /dev/urandom >"$KITE_DIR/in.bin"
log "16 MiB through TCP echo (port 7)"
ns timeout 60 socat -b 65536 "TCP:$KITE_IP:7" - <"$KITE_DIR/in.bin" >"$KITE_DIR/out.bin" ||
    fail "socat echo failed"
in_sha=$(sha256sum <"$KITE_DIR/in.bin" | cut -d' ' -f1)
out_sha=$(sha256sum <"$KITE_DIR/out.bin" | cut -d' ' -f1)
[ "$in_sha" = "$out_sha" ] || fail "echo differs: $in_sha vs $out_sha ($(stat -c %s "$KITE_DIR/out.bin") bytes)"
log "echo byte-exact ($in_sha)"

log "iperf -c $KITE_IP -t 5"
out=$(ns timeout 30 iperf -c "$KITE_IP" -t 5 -f m 2>&1) || fail "iperf failed: $out"
mbit=$(echo "$out" | grep -E 'Mbits/sec' | tail -1 |
    awk '{for (i = 1; i < NF; i++) if ($(i + 1) == "Mbits/sec") print $i}')
[ -n "$mbit" ] || fail "iperf printed no bandwidth: $out"
log "iperf2 Linux -> kite with offload: $mbit Mbit/s"

kite_stop
gso=$(kite_counter tap.rx_gso)
[ "$gso" -gt 0 ] || fail "no super-frame was received (tap.rx_gso = $gso)"
[ "$(kite_counter tap.rx_errors)" -eq 0 ] || fail "tap.rx_errors = $(kite_counter tap.rx_errors)"
[ "$(kite_counter tcp.drop_bad_checksum)" -eq 0 ] || fail "bad TCP checksums"
log "super-frames received: $gso"
# A KITE_TSO build (max_throughput) hands the kernel super-segments to cut;
# any other build sends only MTU-sized frames.
tx_gso=$(kite_counter tap.tx_gso)
if "$KITE_HOST" --help | grep -q -- '--offload segments on transmit (KITE_TSO): yes'; then
    [ "$tx_gso" -gt 0 ] || fail "no super-segment was sent (tap.tx_gso = $tx_gso)"
else
    [ "$tx_gso" -eq 0 ] || fail "super-segments sent without KITE_TSO (tap.tx_gso = $tx_gso)"
fi
[ "$(kite_counter tap.tx_errors)" -eq 0 ] || fail "tap.tx_errors = $(kite_counter tap.tx_errors)"
log "super-segments sent: $tx_gso"
log "PASS"
