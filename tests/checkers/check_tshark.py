#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Checks `flowacct replay -j` against tshark's own dissection of a capture.

    check_tshark.py CAPTURE ACTUAL.json

tshark, which shares no code with flowacct, gives every packet's addresses,
protocol, ports (ICMP type and code) and IP length; this script adds them up
per one-way flow and compares packets, bytes and TCP flags with flowacct's
rows. Meant for captures without IP fragments (tshark would reassemble or not
dissect them as flowacct counts them). Exits 1 on any difference.

IPv4 with total length 0 (TSO, BIG TCP): tshark presumes the frame's length
for any protocol, flowacct for TCP only (nothing says how long anything else
is); such frames of other protocols must be unaccounted, and the TCP ones
must be what flowacct's ipv4_len_from_frame counted.
"""

import json
import subprocess
import sys

FIELDS = ["frame.number", "ip.src", "ip.dst", "ip.proto", "ip.len",
          "ipv6.src", "ipv6.dst", "ipv6.nxt", "ipv6.plen",
          "tcp.srcport", "tcp.dstport", "tcp.flags",
          "udp.srcport", "udp.dstport", "icmp.type", "icmp.code",
          "icmpv6.type", "icmpv6.code"]
LETTERS = "FSRPAUEC"


def tshark_rows(capture, fields=FIELDS, *prefs):
    """tshark's fields of every frame, as dicts; no reassembly."""
    cmd = ["tshark", "-n", "-r", capture, "-T", "fields", "-E", "separator=|",
           "-E", "occurrence=f", "-o", "ip.defragment:FALSE",
           "-o", "ipv6.defragment:FALSE"]
    for p in prefs:
        cmd += ["-o", p]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [dict(zip(fields, line.split("|"))) for line in out.splitlines()]


def tso_frames(capture):
    """Frames whose IPv4 total length is 0: tshark without its TSO guess."""
    return {v["frame.number"] for v in
            tshark_rows(capture, ["frame.number", "ip.len"], "ip.tso_support:FALSE")
            if v["ip.len"] == "0"}


def tshark_flows(capture):
    """Per-flow [packets, bytes, flags], frames, frames without IP."""
    return tshark_flows_tso(capture)[:3]


def tshark_flows_tso(capture):
    """tshark_flows(), and the IPv4 TCP frames of total length 0 in them."""
    flows, frames, non_ip, tso_tcp = {}, 0, 0, 0
    tso = tso_frames(capture)
    for v in tshark_rows(capture, FIELDS, "ip.tso_support:TRUE"):
        frames += 1
        if v["ip.src"] and v["frame.number"] in tso and v["ip.proto"] != "6":
            non_ip += 1
            continue
        if v["ip.src"]:
            ver, src, dst = 4, v["ip.src"], v["ip.dst"]
            proto, length = int(v["ip.proto"]), int(v["ip.len"])
            tso_tcp += v["frame.number"] in tso
        elif v["ipv6.src"]:
            ver, src, dst = 6, v["ipv6.src"], v["ipv6.dst"]
            proto, length = int(v["ipv6.nxt"]), 40 + int(v["ipv6.plen"])
            # ipv6.nxt names the first header after IPv6; past extension
            # headers (MLD's hop-by-hop), take the layer tshark dissected.
            if proto in (0, 43, 44, 51, 60):
                for field, p in (("tcp.srcport", 6), ("udp.srcport", 17),
                                 ("icmpv6.type", 58)):
                    if v[field]:
                        proto = p
                        break
        else:
            non_ip += 1
            continue
        sport = dport = 0
        flags = 0
        if proto == 6:
            sport, dport = int(v["tcp.srcport"]), int(v["tcp.dstport"])
            flags = int(v["tcp.flags"], 16) & 0xFF
        elif proto == 17:
            sport, dport = int(v["udp.srcport"]), int(v["udp.dstport"])
        elif proto == 1 and ver == 4:
            dport = int(v["icmp.type"]) << 8 | int(v["icmp.code"])
        elif proto == 58 and ver == 6:
            dport = int(v["icmpv6.type"]) << 8 | int(v["icmpv6.code"])
        key = (ver, proto, src, dst, sport, dport)
        f = flows.setdefault(key, [0, 0, 0])
        f[0] += 1
        f[1] += length
        f[2] |= flags
    return flows, frames, non_ip, tso_tcp


def main():
    capture, actual = sys.argv[1], sys.argv[2]
    want, frames, non_ip, tso_tcp = tshark_flows_tso(capture)
    act = json.load(open(actual))
    got = {}
    for r in act["flows"]:
        key = (r["ip_version"], r["proto"], r["src"], r["dst"], r["sport"], r["dport"])
        got[key] = [r["packets"], r["bytes"],
                    sum(1 << LETTERS.index(c) for c in r["tcp_flags"])]
    errors = []
    for k in sorted(set(want) | set(got), key=str):
        if want.get(k) != got.get(k):
            errors.append("flow %s: flowacct %s, tshark %s (packets, bytes, flags)"
                          % (k, got.get(k), want.get(k)))
    if act["counters"]["seen"] != frames:
        errors.append("flowacct saw %d frames, tshark %d" % (act["counters"]["seen"], frames))
    # A frame cut inside its link header is trunc_eth to flowacct and just
    # "no IP" to tshark: compare what was not accounted, whatever the reason.
    c = act["counters"]
    if c["seen"] - c["accounted"] != non_ip:
        errors.append("flowacct left %d frames unaccounted, tshark found %d without IP"
                      % (c["seen"] - c["accounted"], non_ip))
    if c.get("ipv4_len_from_frame", 0) != tso_tcp:
        errors.append("flowacct took %d IPv4 lengths from the frame, tshark %d"
                      % (c.get("ipv4_len_from_frame", 0), tso_tcp))
    for e in errors:
        print(e)
    print("%d flows, %d frames compared with tshark (%d IPv4 TCP of total length 0)"
          % (len(want), frames, tso_tcp))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
