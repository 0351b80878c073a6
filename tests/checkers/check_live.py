#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Checks a live `flowacct dump -j` against tcpdump captures of the interface.

    check_live.py DUMP.json --in IN.pcap --out OUT.pcap [--expect EXPECT.json]
                  [--ifindex N]

IN and OUT are `tcpdump -Q in` / `-Q out` captures of the attached interface
taken while the traffic ran; tshark dissects them (check_tshark.py) and every
flow must have the same packets, bytes and TCP flags in flowacct's ingress
and egress rows. Multicast listener reports and router solicitations that the
kernel sends on its own may fall outside the capture window: for those only,
flowacct may have more. EXPECT lists flows the test sent itself, with the
packets and IP-layer bytes it sent: they must match exactly. The books must
balance per hook, and non-IP frames must match the captures' count.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_tshark import tshark_flows, LETTERS  # noqa: E402

SPONTANEOUS = {(6, 58, 143 << 8), (6, 58, 133 << 8)}  # MLDv2 report, RS


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("--in", dest="cap_in", required=True)
    ap.add_argument("--out", dest="cap_out", required=True)
    ap.add_argument("--expect")
    ap.add_argument("--ifindex", type=int)
    a = ap.parse_args()

    dump = json.load(open(a.dump))
    errors = []
    rows = {"ingress": {}, "egress": {}}
    for r in dump["flows"]:
        if r["overflow"]:
            errors.append("unexpected overflow row %s" % r)
            continue
        if a.ifindex is not None and r["ifindex"] != a.ifindex:
            continue
        key = (r["ip_version"], r["proto"], r["src"], r["dst"], r["sport"], r["dport"])
        rows[r["direction"]][key] = [r["packets"], r["bytes"],
                                     sum(1 << LETTERS.index(c) for c in r["tcp_flags"])]

    hooks = {h["direction"]: h["counters"] for h in dump["hooks"]}
    for direction, cap in (("ingress", a.cap_in), ("egress", a.cap_out)):
        want, frames, non_ip = tshark_flows(cap)
        got = rows[direction]
        for k in sorted(set(want) | set(got), key=str):
            w, g = want.get(k), got.get(k)
            if w == g:
                continue
            if (k[0], k[1], k[5]) in SPONTANEOUS and g and (not w or g[0] >= w[0]):
                print("note: %s %s: flowacct %s, capture %s (sent by the kernel outside the capture)"
                      % (direction, k, g, w))
                continue
            errors.append("%s flow %s: flowacct %s, tcpdump+tshark %s (packets, bytes, flags)"
                          % (direction, k, g, w))
        c = hooks[direction]
        reasons = c["seen"] - c["accounted"]
        if c["non_ip"] != non_ip:
            errors.append("%s: non_ip %d, capture has %d frames without IP"
                          % (direction, c["non_ip"], non_ip))
        if reasons != c["non_ip"]:
            errors.append("%s: %d frames not accounted, %d of them non-IP: %s"
                          % (direction, reasons, c["non_ip"], c))
        if sum(v[0] for v in got.values()) != c["accounted"] and a.ifindex is None:
            errors.append("%s: rows hold %d packets, accounted %d"
                          % (direction, sum(v[0] for v in got.values()), c["accounted"]))
        if sum(v[1] for v in got.values()) != c["accounted_bytes"] and a.ifindex is None:
            errors.append("%s: rows hold %d bytes, accounted_bytes %d"
                          % (direction, sum(v[1] for v in got.values()), c["accounted_bytes"]))
        print("%s: %d flows, %d frames in the capture; flowacct saw %d"
              % (direction, len(want), frames, c["seen"]))

    if a.expect:
        for e in json.load(open(a.expect)):
            key = (e["ip_version"], e["proto"], e["src"], e["dst"], e["sport"], e["dport"])
            g = rows[e["direction"]].get(key)
            if not g or g[0] != e["packets"] or g[1] != e["bytes"]:
                errors.append("sent %s %s: %d packets, %d bytes; flowacct has %s"
                              % (e["direction"], key, e["packets"], e["bytes"], g))
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
