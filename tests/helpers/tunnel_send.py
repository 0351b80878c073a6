#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Sends the generator's tunnels to a receiver that drops them all.

    tunnel_send.py --dev DEV --count C [--interval SEC]

Every frame of scripts/gen_pcaps.py's tunnels() capture that it holds whole
(every encapsulation, broken ones too; not the one the capture cuts), and
two of its own about fragments (extra() below), C times (SEC apart), written
through an AF_PACKET socket out of DEV. Their destination
MAC is the generator's 02:00:00:00:00:02, which the receiver must not have:
its kernel drops each frame, an IP one as OTHERHOST, an MPLS one as
UNHANDLED_PROTO where nothing routes MPLS. Prints one JSON object: the
flows --decap inner makes of them (the generator's table: an inner flow
in each tunnel), each with the packets the hooks count and the drops a drop program keying drops as the
hooks key packets must put on its row; and the drops it must count under
a reason instead (a later inner fragment carries no ports: later_fragment;
an inner packet that cannot be read as IP: unreadable or not_ip).
"""

import argparse
import collections
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import gen_pcaps  # noqa: E402

# The hooks' reason for an inner packet, and the drop program's counter.
DROP_COUNTER = {"trunc_ipv4": "unreadable", "trunc_mpls": "unreadable",
                "mpls_too_deep": "unreadable", "non_ip": "not_ip"}


def flow_key(f):
    t = f.get("tunnel")
    return (f["ip_version"], f["proto"], f["src"], f["dst"], f["sport"], f["dport"],
            tuple(sorted(t.items())) if t else None)


def extra(caps):
    """Two frames the capture has not, either side of the fragments' rule:
    the first fragment of a VXLAN datagram (the outer flow: its tunnel stays
    closed) and VXLAN over IPv6 behind an atomic fragment header (offset 0,
    M clear: no fragment, so the tunnel is opened)."""
    g = gen_pcaps
    pkt, _ = g.inner4(g.IN_A, g.IN_C, g.UDP, 7100, 7101, 40)
    dgram = g.udp(50030, g.VXLAN_PORT, g.vxlan(400, g.eth(g.ETH_P_IP, pkt)))
    first = g.ipv4(g.VTEP_A, g.VTEP_B, g.UDP, dgram[:48], ident=9, flags_frag=0x2000)
    outer = dict(ip_version=4, proto=g.UDP, src=g.VTEP_A, dst=g.VTEP_B, sport=50030,
                 dport=g.VXLAN_PORT, ip_len=len(first), first_frag_id=9)
    caps.frame(g.eth(g.ETH_P_IP, first), outer, outer)
    pkt, f = g.inner4(g.IN_B, g.IN_C, g.UDP, 7200, 7201, 30)
    dgram = g.udp(50031, g.VXLAN_PORT, g.vxlan(401, g.eth(g.ETH_P_IP, pkt)))
    atomic = g.ipv6_chain(g.VTEP6_A, g.VTEP6_B,
                          [lambda nh: (g.ext_frag(nh, 0, False, 11), g.FRAGMENT)], g.UDP, dgram)
    outer = dict(ip_version=6, proto=g.UDP, src=g.VTEP6_A, dst=g.VTEP6_B, sport=50031,
                 dport=g.VXLAN_PORT, ip_len=len(atomic))
    caps.frame(g.eth(g.ETH_P_IPV6, atomic),
               dict(f, tunnel=g.tun_desc("vxlan", 401, g.VTEP6_A, g.VTEP6_B)), outer)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dev", required=True)
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--interval", type=float, default=0)
    a = ap.parse_args()

    # Each frame as the capture gets it, with what --decap inner makes of it.
    frames = []
    frame = gen_pcaps.TunnelCaptures.frame

    def note(self, data, inner, outer, caplen=None):
        frames.append((data, inner, caplen))
        frame(self, data, inner, outer, caplen)

    gen_pcaps.TunnelCaptures.frame = note
    caps = gen_pcaps.tunnels()
    extra(caps)

    later = collections.Counter()
    counters = collections.Counter()
    sent = []
    for data, inner, caplen in frames:
        if caplen is not None and caplen < len(data):
            continue
        sent.append(data)
        if isinstance(inner, str):
            counters[DROP_COUNTER[inner]] += a.count
        elif inner.get("fragment"):
            later[flow_key(inner)] += 1
            counters["later_fragment"] += a.count

    flows = []
    for f in caps.inner.expected()["flows"]:
        k = flow_key(f)
        frag_bytes = sum(d["ip_len"] for _, d, c in frames
                         if not isinstance(d, str) and d.get("fragment") and flow_key(d) == k)
        flows.append({"ip_version": f["ip_version"], "proto": f["proto"], "src": f["src"],
                      "dst": f["dst"], "sport": f["sport"], "dport": f["dport"],
                      "tunnel": f.get("tunnel"), "packets": f["packets"] * a.count,
                      "bytes": f["bytes"] * a.count,
                      "drops": (f["packets"] - later[k]) * a.count,
                      "drop_bytes": (f["bytes"] - frag_bytes) * a.count})

    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.dev, 0))
    for i in range(a.count):
        if i and a.interval:
            time.sleep(a.interval)
        for data in sent:
            s.send(data)
    s.close()
    print(json.dumps({"frames": len(sent) * a.count, "flows": flows,
                      "drop_counters": dict(counters)}))


if __name__ == "__main__":
    main()
