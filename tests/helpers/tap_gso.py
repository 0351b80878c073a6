#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Writes TCP super-frames into a TAP device with a virtio-net header that
asks for host GSO, as a VM's virtio NIC hands the host its TSO frames, and
says what they are on the wire once segmented.

    tap_gso.py --dev TAP [--frames N] [--mss M] [--payload P] [--ipv6]

The device must exist with vnet_hdr (ip tuntap add mode tap vnet_hdr). Each
frame is Ethernet + IPv4 (or IPv6) + TCP + P bytes, with a virtio_net_hdr of
gso_type TCPV4 (TCPV6) and gso_size M: the kernel marks the skb SKB_GSO_DODGY
and leaves gso_segs to be computed. Prints one JSON object: the flow as
flowacct names it, with the packets (ceil(P / M) segments per frame) and the
IP-layer bytes (per segment, its IP and TCP headers and its share of the
payload) the wire would carry.
"""

import argparse
import fcntl
import json
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from gen_pcaps import (ETH_P_IP, ETH_P_IPV6, TCP, csum, eth, ipv4, ipv6,  # noqa: E402
                       tcp)

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFF_VNET_HDR = 0x4000

VIRTIO_NET_HDR_F_NEEDS_CSUM = 1
VIRTIO_NET_HDR_GSO_TCPV4 = 1
VIRTIO_NET_HDR_GSO_TCPV6 = 4


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dev", required=True)
    ap.add_argument("--frames", type=int, default=10)
    ap.add_argument("--mss", type=int, default=1000)
    ap.add_argument("--payload", type=int, default=9500)
    ap.add_argument("--ipv6", action="store_true")
    ap.add_argument("--sport", type=int, default=45000)
    ap.add_argument("--dport", type=int, default=80)
    a = ap.parse_args()

    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", a.dev.encode(),
                                            IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
    if a.ipv6:
        src, dst, family, iphl = "2001:db8:7::1", "2001:db8:7::2", socket.AF_INET6, 40
    else:
        src, dst, family, iphl = "203.0.113.1", "203.0.113.2", socket.AF_INET, 20
    s_raw, d_raw = socket.inet_pton(family, src), socket.inet_pton(family, dst)
    packets = nbytes = 0
    seq = 1000
    for i in range(a.frames):
        payload = bytes((i + j) & 0xFF for j in range(a.payload))
        tcp_len = 20 + len(payload)
        # The checksum left to the host (NEEDS_CSUM): the pseudo-header's
        # sum goes in the field, as a guest's driver leaves it.
        if a.ipv6:
            pseudo = s_raw + d_raw + struct.pack("!IxxxB", tcp_len, 6)
        else:
            pseudo = s_raw + d_raw + struct.pack("!xBH", 6, tcp_len)
        seg = tcp(a.sport, a.dport, 0x18, payload, seq=seq, ack=1)
        seg = seg[:16] + struct.pack("!H", ~csum(pseudo) & 0xFFFF) + seg[18:]
        if a.ipv6:
            frame = eth(ETH_P_IPV6, ipv6(src, dst, TCP, seg))
        else:
            frame = eth(ETH_P_IP, ipv4(src, dst, TCP, seg, ident=i, flags_frag=0x4000))
        l2 = 14
        vnet = struct.pack("<BBHHHH", VIRTIO_NET_HDR_F_NEEDS_CSUM,
                           VIRTIO_NET_HDR_GSO_TCPV6 if a.ipv6 else VIRTIO_NET_HDR_GSO_TCPV4,
                           l2 + iphl + 20, a.mss, l2 + iphl, 16)
        os.write(fd, vnet + frame)
        seq += len(payload)
        full, rest = divmod(len(payload), a.mss)
        segs = full + (1 if rest else 0)
        packets += segs
        nbytes += segs * (iphl + 20) + len(payload)
    os.close(fd)
    print(json.dumps({"flows": [{"src": src, "dst": dst, "sport": a.sport,
                                 "dport": a.dport, "proto": 6,
                                 "ip_version": 6 if a.ipv6 else 4,
                                 "direction": "ingress",
                                 "packets": packets, "bytes": nbytes}]}))


if __name__ == "__main__":
    main()
