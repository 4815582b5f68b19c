#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpus of tests/fuzz/fuzz_frames.c.

Plain struct packing with correct checksums (no scapy). The stack under test
is 192.0.2.2 (MAC 02:00:00:00:00:02) on its Ethernet netif and 198.51.100.2 on
its IP netif; the peer is 192.0.2.1 (MAC 02:00:00:00:00:01). Run it again
after changing the harness; the output is deterministic.

    /usr/bin/python3 tests/fuzz/make_corpus.py [outdir]
"""
import os
import struct
import sys

KITE_MAC = bytes([2, 0, 0, 0, 0, 2])
PEER_MAC = bytes([2, 0, 0, 0, 0, 1])
BROADCAST_MAC = b"\xff" * 6
KITE_IP = bytes([192, 0, 2, 2])
PEER_IP = bytes([192, 0, 2, 1])
SUBNET_BROADCAST = bytes([192, 0, 2, 255])
KITE_IP2 = bytes([198, 51, 100, 2])
PEER_IP2 = bytes([198, 51, 100, 1])

SCRIPT_MAGIC = 0xFE
(OP_ETH_FRAME, OP_IP_PACKET, OP_ADVANCE, OP_ETH_POLL, OP_UDP_SEND, OP_TCP_SEND,
 OP_TCP_CLOSE, OP_ACD) = range(8)
NO_BODY = (OP_ADVANCE, OP_TCP_CLOSE, OP_ACD)
TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def checksum(data):
    """RFC 1071 Internet checksum."""
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ethernet(dst, src, ethertype, payload):
    return dst + src + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, payload, ident=1, flags_frag=0x4000, options=b"", ttl=64):
    """An IPv4 header (RFC 791 3.1) in front of payload; options padded to 4 bytes."""
    options += b"\x00" * (-len(options) % 4)
    ihl = 5 + len(options) // 4
    header = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 4 * ihl + len(payload), ident,
                         flags_frag, ttl, proto, 0, src, dst) + options
    csum = checksum(header)
    return header[:10] + struct.pack("!H", csum) + header[12:] + payload


def udp(src, dst, sport, dport, payload):
    """A UDP datagram (RFC 768) with the pseudo-header checksum."""
    length = 8 + len(payload)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, length)
    header = struct.pack("!HHHH", sport, dport, length, 0)
    csum = checksum(pseudo + header + payload) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, length, csum) + payload


def tcp_options(mss=None, wscale=None, sack_perm=False, ts=None):
    """TCP options (RFC 9293 3.2, RFC 7323, RFC 2018), padded with NOPs to 4 bytes."""
    out = b""
    if mss is not None:
        out += struct.pack("!BBH", 2, 4, mss)
    if sack_perm:
        out += b"\x04\x02"
    if ts is not None:
        out += struct.pack("!BBII", 8, 10, ts[0], ts[1])
    if wscale is not None:
        out += struct.pack("!BBB", 3, 3, wscale)
    return out + b"\x01" * (-len(out) % 4)


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", window=8192, options=b""):
    """A TCP segment with the pseudo-header checksum (RFC 9293 3.1)."""
    hlen = 20 + len(options)
    header = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (hlen // 4) << 4, flags, window,
                         0, 0) + options
    pseudo = src + dst + struct.pack("!BBH", 0, 6, hlen + len(payload))
    csum = checksum(pseudo + header + payload)
    return header[:16] + struct.pack("!H", csum) + header[18:] + payload


def tcp_to_kite(sport, dport, seq, ack, flags, payload=b"", options=b""):
    return to_kite(ipv4(PEER_IP, KITE_IP, 6,
                        tcp(PEER_IP, KITE_IP, sport, dport, seq, ack, flags, payload,
                            options=options)))


def icmp_echo(ident, seq, payload, icmp_type=8):
    header = struct.pack("!BBHHH", icmp_type, 0, 0, ident, seq)
    csum = checksum(header + payload)
    return struct.pack("!BBHHH", icmp_type, 0, csum, ident, seq) + payload


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sha, spa, tha, tpa)


def to_kite(ip_packet):
    return ethernet(KITE_MAC, PEER_MAC, 0x0800, ip_packet)


def udp_to_kite(sport, dport, payload, dst_ip=KITE_IP, dst_mac=KITE_MAC):
    return ethernet(dst_mac, PEER_MAC, 0x0800,
                    ipv4(PEER_IP, dst_ip, 17, udp(PEER_IP, dst_ip, sport, dport, payload)))


def script(*records):
    out = bytes([SCRIPT_MAGIC])
    for op, arg in records:
        if op in NO_BODY:
            out += struct.pack("!BH", op, arg)
        else:
            out += struct.pack("!BH", op, len(arg)) + arg
    return out


def seeds():
    ping = icmp_echo(0x1234, 1, b"kite-ping-payload" * 2)
    udp7 = udp(PEER_IP, KITE_IP, 40000, 7, b"hello, kite")
    arp_request = ethernet(BROADCAST_MAC, PEER_MAC, 0x0806,
                           arp(1, PEER_MAC, PEER_IP, b"\x00" * 6, KITE_IP))
    arp_reply = ethernet(KITE_MAC, PEER_MAC, 0x0806, arp(2, PEER_MAC, PEER_IP, KITE_MAC, KITE_IP))
    big = udp(PEER_IP, KITE_IP, 40000, 7, bytes(range(256)) * 4)
    frag_payload = big[:600]
    yield "arp_request", arp_request
    yield "arp_reply", arp_reply
    yield "icmp_echo", to_kite(ipv4(PEER_IP, KITE_IP, 1, ping))
    yield "udp_echo", to_kite(ipv4(PEER_IP, KITE_IP, 17, udp7))
    yield "udp_connected", udp_to_kite(5000, 5001, b"to the connected pcb")
    yield "udp_closed_port", udp_to_kite(40000, 9999, b"nobody listens")
    yield "udp_broadcast", udp_to_kite(40000, 7, b"everyone", SUBNET_BROADCAST, BROADCAST_MAC)
    yield "udp_big_chained", to_kite(ipv4(PEER_IP, KITE_IP, 17, big))
    # First fragment (MF set, offset 0) and a later one (offset 600/8 = 75).
    yield "fragment_first", to_kite(ipv4(PEER_IP, KITE_IP, 17, frag_payload, 7, 0x2000))
    yield "fragment_last", to_kite(ipv4(PEER_IP, KITE_IP, 17, big[600:], 7, 75))
    # A 3000-byte datagram to the echo port in three fragments, reversed: it
    # is reassembled, and the echo goes out in fragments again.
    whole = udp(PEER_IP, KITE_IP, 40000, 7, bytes(range(250)) * 12)
    pieces = [(0, whole[:1480], 0x2000), (185, whole[1480:2960], 0x2000 | 185),
              (370, whole[2960:], 370)]
    frags = [to_kite(ipv4(PEER_IP, KITE_IP, 17, body, 9, ff)) for _, body, ff in pieces]
    yield "script_fragments_echoed", script(
        (OP_ETH_FRAME, arp_reply), (OP_ETH_FRAME, frags[2]), (OP_ETH_FRAME, frags[1]),
        (OP_ETH_POLL, frags[0]), (OP_ADVANCE, 100))
    # The first two only: the reassembly timer sends ICMP time exceeded.
    yield "script_fragment_timeout", script(
        (OP_ETH_FRAME, arp_reply), (OP_ETH_FRAME, frags[0]), (OP_ETH_FRAME, frags[1]),
        (OP_ADVANCE, 16000), (OP_ETH_POLL, frags[2]))
    # RFC 1191: a router reports MTU 576 for a 1028-byte datagram of the
    # connected pcb (192.0.2.2:5001 -> 192.0.2.1:5000); the next big send
    # is fragmented to it; after ten minutes the learned MTU expires.
    sent = ipv4(KITE_IP, PEER_IP, 17, udp(KITE_IP, PEER_IP, 5001, 5000, bytes(1000)))
    too_big = struct.pack("!BBHHH", 3, 4, 0, 0, 576) + sent[:28]
    too_big = too_big[:2] + struct.pack("!H", checksum(too_big)) + too_big[4:]
    yield "script_path_mtu", script(
        (OP_ETH_FRAME, arp_reply), (OP_UDP_SEND, bytes(1000)),
        (OP_ETH_FRAME, to_kite(ipv4(PEER_IP, KITE_IP, 1, too_big))),
        (OP_UDP_SEND, bytes(1400)), *[(OP_ADVANCE, 60000)] * 10, (OP_UDP_SEND, bytes(1400)))
    # IP options: Router Alert (RFC 2113) then End of Option List.
    yield "ip_options", to_kite(ipv4(PEER_IP, KITE_IP, 1, ping, options=b"\x94\x04\x00\x00"))
    full = to_kite(ipv4(PEER_IP, KITE_IP, 1, ping))
    yield "truncated", full[:14 + 20 + 4]
    yield "ip_netif_udp", ipv4(PEER_IP2, KITE_IP2, 17, udp(PEER_IP2, KITE_IP2, 40000, 7, b"tun"))
    yield "ip_netif_ping", ipv4(PEER_IP2, KITE_IP2, 1, ping)
    yield "script_arp_then_send", script(
        (OP_UDP_SEND, b"queued until ARP resolves"), (OP_ADVANCE, 500),
        (OP_ETH_FRAME, arp_reply), (OP_ETH_POLL, udp_to_kite(5000, 5001, b"reply")),
        (OP_IP_PACKET, ipv4(PEER_IP2, KITE_IP2, 1, ping)))
    yield "script_resolved_echo", script(
        (OP_ETH_FRAME, arp_request), (OP_ETH_FRAME, to_kite(ipv4(PEER_IP, KITE_IP, 1, ping))),
        (OP_ETH_POLL, to_kite(ipv4(PEER_IP, KITE_IP, 17, udp7))), (OP_ADVANCE, 60000))
    yield "script_arp_timeout", script(
        (OP_UDP_SEND, b"one"), (OP_UDP_SEND, b"two"), (OP_UDP_SEND, b"three"),
        (OP_UDP_SEND, b"four"), (OP_ADVANCE, 1000), (OP_ADVANCE, 1000), (OP_ADVANCE, 1000),
        (OP_ADVANCE, 1000), (OP_ADVANCE, 1000), (OP_ETH_POLL, arp_request))
    # TCP: the stack listens on 80 and is opening 5002 -> 192.0.2.1:5000.
    syn_opts = tcp_options(mss=1460, wscale=7, sack_perm=True, ts=(12345, 0))
    syn80 = tcp_to_kite(40000, 80, 1000, 0, TCP_SYN, options=syn_opts)
    yield "tcp_syn_80", syn80
    yield "tcp_syn_80_plain", tcp_to_kite(40001, 80, 7, 0, TCP_SYN, options=tcp_options(mss=536))
    yield "tcp_syn_closed_port", tcp_to_kite(40002, 81, 99, 0, TCP_SYN)
    # A SYN+ACK for the active open: the ACK number cannot match the ISN, so
    # it draws a RST; the fuzzer finds its way from here.
    yield "tcp_synack_5002", tcp_to_kite(5000, 5002, 777, 1, TCP_SYN | TCP_ACK,
                                         options=tcp_options(mss=1400, wscale=2, sack_perm=True,
                                                             ts=(99, 1)))
    yield "tcp_data_no_conn", tcp_to_kite(40000, 80, 1001, 1, TCP_ACK | TCP_PSH, b"hello tcp")
    yield "tcp_rst_5002", tcp_to_kite(5000, 5002, 777, 0, TCP_RST)
    yield "tcp_fin_ack", tcp_to_kite(40000, 80, 1001, 1, TCP_FIN | TCP_ACK)
    bad_opts = b"\x02\x04\x05" + b"\x08\x0a" + b"\x00" * 3  # truncated MSS, short TS
    yield "tcp_bad_options", tcp_to_kite(40003, 80, 5, 0, TCP_SYN, options=bad_opts)
    yield "script_tcp_handshake_data", script(
        (OP_ETH_FRAME, syn80), (OP_ADVANCE, 10),
        (OP_ETH_FRAME, tcp_to_kite(40000, 80, 1001, 1, TCP_ACK)),
        (OP_ETH_FRAME, tcp_to_kite(40000, 80, 1001, 1, TCP_ACK | TCP_PSH, b"echo me")),
        (OP_ADVANCE, 300), (OP_ETH_FRAME, tcp_to_kite(40000, 80, 1008, 1, TCP_FIN | TCP_ACK)),
        (OP_ADVANCE, 1000), (OP_ADVANCE, 60000))
    yield "script_tcp_active", script(
        (OP_TCP_SEND, b"queued before the handshake"),
        (OP_ETH_FRAME, tcp_to_kite(5000, 5002, 777, 1, TCP_SYN | TCP_ACK,
                                   options=tcp_options(mss=1400))),
        (OP_ADVANCE, 1000), (OP_ADVANCE, 2000), (OP_TCP_SEND, b"more data" * 100),
        (OP_ETH_POLL, tcp_to_kite(5000, 5002, 778, 1, TCP_ACK, b"reply")),
        (OP_TCP_CLOSE, 0), (OP_ADVANCE, 4000))
    # Address conflict detection (OP_ACD, len even) and AutoIP (len odd):
    # a probe of another host for the address, its claim, defence and loss.
    probe = ethernet(BROADCAST_MAC, PEER_MAC, 0x0806, arp(1, PEER_MAC, b"\x00" * 4,
                                                           b"\x00" * 6, KITE_IP))
    claim = ethernet(BROADCAST_MAC, PEER_MAC, 0x0806, arp(1, PEER_MAC, KITE_IP,
                                                           b"\x00" * 6, KITE_IP))
    yield "script_acd", script(
        (OP_ACD, 0), (OP_ADVANCE, 1500), (OP_ETH_FRAME, arp_request), (OP_ADVANCE, 9000),
        (OP_ETH_FRAME, probe), (OP_ETH_FRAME, claim), (OP_ADVANCE, 100),
        (OP_ETH_FRAME, claim), (OP_ACD, 0), (OP_ETH_FRAME, probe), (OP_ADVANCE, 60000))
    yield "script_autoip", script(
        (OP_ACD, 1), (OP_ADVANCE, 2500), (OP_ETH_FRAME, probe), (OP_ADVANCE, 10000),
        (OP_ETH_FRAME, claim), (OP_ADVANCE, 60000))
    # IGMP (the fixture's echo pcb joined 239.1.2.3 on eth0, any source, and
    # 239.1.2.4 from 192.0.2.1 only): queries of every version with Router
    # Alert, a group-and-source query, other hosts' reports (v1/v2
    # suppression, v3), a leave, and multicast UDP to a joined group.
    ra = b"\x94\x04\x00\x00"
    group = bytes([239, 1, 2, 3])
    group2 = bytes([239, 1, 2, 4])
    all_systems = bytes([224, 0, 0, 1])

    def mcast_mac(ip):
        return bytes([1, 0, 0x5E, ip[1] & 0x7F, ip[2], ip[3]])

    def igmp(body):
        body = bytearray(body)
        body[2:4] = struct.pack("!H", checksum(bytes(body)))
        return bytes(body)

    def igmp_to(dst, body, src=PEER_IP):
        return ethernet(mcast_mac(dst), PEER_MAC, 0x0800,
                        ipv4(src, dst, 2, igmp(body), options=ra, ttl=1))

    def query3(grp, mrc, srcs=()):
        return struct.pack("!BBH4sBBH", 0x11, mrc, 0, grp, 2, 125, len(srcs)) + b"".join(srcs)

    query_v3 = igmp_to(all_systems, query3(b"\x00" * 4, 100))
    yield "igmp_query_v3_general", query_v3
    yield "igmp_query_v3_group", igmp_to(group, query3(group, 10))
    yield "igmp_query_v3_sources", igmp_to(group2, query3(group2, 10, (PEER_IP, KITE_IP2)))
    yield "igmp_query_v2", igmp_to(all_systems, struct.pack("!BBH4s", 0x11, 100, 0, b"\x00" * 4),
                                   src=bytes(4))
    yield "igmp_query_v1", igmp_to(all_systems, struct.pack("!BBH4s", 0x11, 0, 0, b"\x00" * 4))
    yield "igmp_report_v2", igmp_to(group, struct.pack("!BBH4s", 0x16, 0, 0, group))
    yield "igmp_leave_v2", igmp_to(bytes([224, 0, 0, 2]), struct.pack("!BBH4s", 0x17, 0, 0, group))
    report3 = struct.pack("!BBHHH", 0x22, 0, 0, 0, 2) + struct.pack("!BBH4s", 4, 0, 0, group) + \
        struct.pack("!BBH4s4s", 5, 0, 1, group2, PEER_IP)
    yield "igmp_report_v3", igmp_to(bytes([224, 0, 0, 22]), report3)
    mcast_udp = udp(PEER_IP, group, 40000, 7, b"to the group")
    yield "udp_multicast", ethernet(mcast_mac(group), PEER_MAC, 0x0800,
                                    ipv4(PEER_IP, group, 17, mcast_udp))
    yield "script_igmp_versions", script(
        (OP_ETH_FRAME, query_v3), (OP_ADVANCE, 10000),
        (OP_ETH_FRAME, igmp_to(all_systems, struct.pack("!BBH4s", 0x11, 50, 0, b"\x00" * 4))),
        (OP_ETH_FRAME, igmp_to(group, struct.pack("!BBH4s", 0x16, 0, 0, group))),
        (OP_ADVANCE, 6000), (OP_ETH_POLL, igmp_to(group2, query3(group2, 10, (PEER_IP,)))),
        (OP_ADVANCE, 60000), (OP_ADVANCE, 60000), (OP_ADVANCE, 60000), (OP_ADVANCE, 60000),
        (OP_ADVANCE, 60000), (OP_ETH_FRAME, query_v3), (OP_ADVANCE, 11000))
    yield "script_tcp_timers", script(
        (OP_ADVANCE, 1000), (OP_ADVANCE, 3000), (OP_ETH_POLL, syn80), (OP_ADVANCE, 7000),
        (OP_ETH_POLL, tcp_to_kite(40000, 80, 1001, 0, TCP_RST)), (OP_ADVANCE, 65000))


def parses_as_script(data):
    """Mirror of walk_script() in fuzz_frames.c."""
    if len(data) < 4 or data[0] != SCRIPT_MAGIC:
        return False
    pos = 1
    while pos < len(data):
        if len(data) - pos < 3 or data[pos] > OP_ACD:
            return False
        length = struct.unpack("!H", data[pos + 1:pos + 3])[0]
        body = 0 if data[pos] in NO_BODY else length
        if len(data) - pos - 3 < body:
            return False
        pos += 3 + body
    return True


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "fuzz_frames")
    os.makedirs(outdir, exist_ok=True)
    for name, data in seeds():
        assert parses_as_script(data) == name.startswith("script_"), name
        with open(os.path.join(outdir, name), "wb") as out:
            out.write(data)
        print("%-22s %5d bytes" % (name, len(data)))


if __name__ == "__main__":
    main()
