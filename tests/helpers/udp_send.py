#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Sends UDP datagrams of known sizes over many flows, and says what it sent.

    udp_send.py --src ADDR --dst ADDR --flows N --count C [--size S]
                [--sport BASE] [--dport BASE] [--rate PPS] [--dports K]
                [--by-flow]

Flow i (0 <= i < N) is BASE_SPORT + i % (N / K) -> DST:BASE_DPORT + i // (N / K),
so that K destination ports times N / K source ports make N distinct flows.
Each flow gets C datagrams of S payload bytes (S may be a comma-separated
list, used in turn), round-robin over the flows; with --by-flow, each flow's
C datagrams back to back, one flow after the other, so that a flow of many
datagrams lasts C / PPS seconds, not the whole run. With --rate, datagrams
are paced at PPS in all. Prints one JSON object: the flows as flowacct names
them (src, dst, sport, dport, proto 17, ip_version) with the packets and
IP-layer bytes (IPv4 20 + 8 + S, IPv6 40 + 8 + S) sent. A datagram the
kernel refuses is not counted and is reported.

The datagrams leave one raw socket with UDP headers written here, so that
any number of flows needs no socket, no bind and no port of its own. The
kernel writes the IP header (and, for IPv6, the UDP checksum); IPv4 goes
without a checksum (0), which UDP over IPv4 allows.
"""

import argparse
import ipaddress
import json
import socket
import struct
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--flows", type=int, default=1)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--size", default="100")
    ap.add_argument("--sport", type=int, default=20000)
    ap.add_argument("--dport", type=int, default=9)
    ap.add_argument("--dports", type=int, default=1)
    ap.add_argument("--rate", type=float, default=0)
    ap.add_argument("--by-flow", action="store_true")
    a = ap.parse_args()

    v6 = ipaddress.ip_address(a.dst).version == 6
    hdr = (40 if v6 else 20) + 8
    sizes = [int(x) for x in a.size.split(",")]
    per_port = max(1, a.flows // a.dports)
    if v6:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_UDP)
        # The kernel computes the UDP checksum at this offset.
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_CHECKSUM, 6)
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
    sock.bind((a.src, 0))
    flows = []
    for i in range(a.flows):
        flows.append({"ip_version": 6 if v6 else 4, "proto": 17, "src": a.src,
                      "dst": a.dst, "sport": a.sport + i % per_port,
                      "dport": a.dport + i // per_port, "packets": 0, "bytes": 0})
    refused = 0
    gap = 1.0 / a.rate if a.rate else 0
    start = time.monotonic()
    n = 0
    if a.by_flow:
        order = ((c, f) for f in flows for c in range(a.count))
    else:
        order = ((c, f) for c in range(a.count) for f in flows)
    payloads = [bytes(size) for size in sizes]
    for c, f in order:
        size = sizes[c % len(sizes)]
        if gap:
            delay = start + n * gap - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        n += 1
        udp = struct.pack("!HHHH", f["sport"], f["dport"], 8 + size, 0) + payloads[c % len(sizes)]
        try:
            sock.sendto(udp, (a.dst, 0))
        except OSError:
            refused += 1
            continue
        f["packets"] += 1
        f["bytes"] += hdr + size
    sock.close()
    json.dump({"flows": flows, "refused": refused}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
