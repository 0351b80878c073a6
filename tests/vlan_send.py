#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Sends VLAN-tagged UDP frames out of an interface, and says what it sent.

    vlan_send.py --dev DEV --count C [--tags 7 | --tags 100,7] [--ipv6]
                 [--size S] [--sport P]

Each frame is Ethernet, the tags (the first given outermost: 802.1ad when
there are two, 802.1Q for the inner or only one), IPv4 or IPv6, UDP and S
payload bytes, written whole through an AF_PACKET socket, so that the tags
are in the frame as it leaves. A receiver's kernel moves the outer tag into
the skb before TC ingress sees it. Prints one JSON object: the flow as
flowacct names it with its packets and IP-layer bytes.
"""

import argparse
import json
import socket
import struct


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dev", required=True)
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--tags", default="7")
    ap.add_argument("--ipv6", action="store_true")
    ap.add_argument("--size", type=int, default=200)
    ap.add_argument("--sport", type=int, default=43000)
    ap.add_argument("--dport", type=int, default=9)
    a = ap.parse_args()

    tags = [int(t) for t in a.tags.split(",")]
    tpids = [0x88A8] * (len(tags) - 1) + [0x8100]
    if a.ipv6:
        src, dst, family, ethertype = "2001:db8:9::1", "2001:db8:9::2", socket.AF_INET6, 0x86DD
    else:
        src, dst, family, ethertype = "198.51.100.11", "198.51.100.12", socket.AF_INET, 0x0800
    s_raw, d_raw = socket.inet_pton(family, src), socket.inet_pton(family, dst)
    payload = b"v" * a.size
    udp = struct.pack("!HHHH", a.sport, a.dport, 8 + len(payload), 0) + payload
    if a.ipv6:
        ip = struct.pack("!IHBB", 6 << 28, len(udp), 17, 64) + s_raw + d_raw
    else:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                         s_raw, d_raw)
    frame = bytes.fromhex("02aabbccdd12") + bytes.fromhex("02aabbccdd11")
    for tpid, vid in zip(tpids, tags):
        frame += struct.pack("!HH", tpid, vid)
    frame += struct.pack("!H", ethertype) + ip + udp

    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.dev, 0))
    for _ in range(a.count):
        s.send(frame)
    s.close()
    print(json.dumps({"flows": [{"src": src, "dst": dst, "sport": a.sport, "dport": a.dport,
                                 "proto": 17, "packets": a.count,
                                 "bytes": a.count * (len(ip) + len(udp))}]}))


if __name__ == "__main__":
    main()
