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
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from gen_pcaps import (ETH_P_8021AD, ETH_P_8021Q, ETH_P_IP, ETH_P_IPV6, UDP,  # noqa: E402
                       eth_tagged, ipv4, ipv6, udp)


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

    vids = [int(t) for t in a.tags.split(",")]
    tags = list(zip([ETH_P_8021AD] * (len(vids) - 1) + [ETH_P_8021Q], vids))
    datagram = udp(a.sport, a.dport, b"v" * a.size)
    if a.ipv6:
        src, dst = "2001:db8:9::1", "2001:db8:9::2"
        pkt, ethertype = ipv6(src, dst, UDP, datagram), ETH_P_IPV6
    else:
        src, dst = "198.51.100.11", "198.51.100.12"
        pkt, ethertype = ipv4(src, dst, UDP, datagram), ETH_P_IP
    frame = eth_tagged(tags, ethertype, pkt)

    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.dev, 0))
    for _ in range(a.count):
        s.send(frame)
    s.close()
    print(json.dumps({"flows": [{"src": src, "dst": dst, "sport": a.sport, "dport": a.dport,
                                 "proto": 17, "packets": a.count,
                                 "bytes": a.count * len(pkt)}]}))


if __name__ == "__main__":
    main()
