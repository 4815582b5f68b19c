#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A bounded SYN flood for scripts/bench-synflood.sh.

Writes Ethernet frames carrying TCP SYNs (MSS, SACK-permitted, window scale)
straight onto an interface with an AF_PACKET socket, from source addresses
and ports drawn at random *inside one documentation prefix* (198.51.100.0/24
or 192.0.2.0/24; anything else is refused), so no packet can claim to come
from a real host. The handshakes are never completed: nothing answers the
SYN-ACKs. Paced at --pps, stops after --count SYNs or --seconds, whichever
comes first, and prints what it sent. Standard library only.

  syn_flood.py --iface kt0 --dst-mac 02:6b:69:74:65:02 --dst 192.0.2.2 \
               --dport 9 --src-net 198.51.100.0/24 --pps 500 --count 20000 --seconds 60
"""
import argparse
import ipaddress
import random
import signal
import socket
import struct
import sys
import time

ALLOWED = [ipaddress.ip_network("192.0.2.0/24"), ipaddress.ip_network("198.51.100.0/24")]


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac_bytes(text):
    return bytes(int(x, 16) for x in text.split(":"))


def syn_frame(dst_mac, src_mac, src, dst, sport, dport, seq, ip_id):
    # MSS 1460, SACK permitted, timestamps omitted, window scale 7 (like Linux).
    opts = struct.pack("!BBH", 2, 4, 1460) + bytes([4, 2, 1, 3, 3, 7])  # 10 bytes
    opts += b"\0\0"  # pad to 12
    doff = (20 + len(opts)) // 4
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, doff << 4, 0x02, 64240, 0, 0) + opts
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ip_id, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dst_mac + src_mac + b"\x08\x00" + ip + tcp


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iface", required=True)
    ap.add_argument("--dst-mac", required=True)
    ap.add_argument("--src-mac", default="02:00:5e:10:00:01")
    ap.add_argument("--dst", required=True)
    ap.add_argument("--dport", type=int, required=True)
    ap.add_argument("--src-net", default="198.51.100.0/24")
    ap.add_argument("--pps", type=float, default=500.0)
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    net = ipaddress.ip_network(a.src_net)
    if not any(net.subnet_of(n) for n in ALLOWED):
        sys.exit("syn_flood: --src-net must lie inside 192.0.2.0/24 or 198.51.100.0/24")
    if not any(ipaddress.ip_address(a.dst) in n for n in ALLOWED):
        sys.exit("syn_flood: --dst must lie inside 192.0.2.0/24 or 198.51.100.0/24")
    if a.count <= 0 or a.seconds <= 0 or a.seconds > 600 or a.pps <= 0 or a.pps > 100000:
        sys.exit("syn_flood: need 0 < count, 0 < seconds <= 600, 0 < pps <= 100000")
    hosts = [h for h in net.hosts() if h != ipaddress.ip_address(a.dst)]
    rng = random.Random(a.seed)
    dst_mac, src_mac = mac_bytes(a.dst_mac), mac_bytes(a.src_mac)
    dst = socket.inet_aton(a.dst)

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    sent = errors = 0
    start = time.monotonic()
    interval = 1.0 / a.pps
    while sent + errors < a.count and not stop:
        now = time.monotonic()
        if now - start >= a.seconds:
            break
        due = start + (sent + errors) * interval
        if due > now:
            time.sleep(due - now)
        src = socket.inet_aton(str(rng.choice(hosts)))
        frame = syn_frame(dst_mac, src_mac, src, dst, rng.randrange(1024, 65536), a.dport,
                          rng.getrandbits(32), rng.getrandbits(16))
        try:
            s.send(frame)
            sent += 1
        except OSError:
            errors += 1
    t = time.monotonic() - start
    print("syn_flood: %d SYNs (%d send errors) from %s to %s:%d in %.1f s, %.0f/s"
          % (sent, errors, net, a.dst, a.dport, t, sent / t if t > 0 else 0.0), flush=True)


if __name__ == "__main__":
    main()
