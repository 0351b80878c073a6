#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Checks a TCP transfer from A to B as both ends' flowacct counted it.

    check_both_ends.py A.json B.json NSTAT.json LINK0.json LINK1.json --src ADDR --counter NAME

A.json and B.json are `flowacct dump -j` of A's and B's interfaces;
NSTAT.json is `nstat -a -j` of A's namespace over the transfer, LINK0/1.json
`ip -s -j link show` of B's interface before and after. For the TCP flows
from ADDR: A's egress segments are what A's TCP stack says it sent
(TcpOutSegs leaves retransmissions out, TcpRetransSegs has them), B's
ingress equals A's egress flow by flow apart from what the veth says it
dropped, and B's ingress counter NAME moved (the frames the test is about
were there). Exits 1 on any difference.
"""

import argparse
import json
import sys


def tcp_rows(dump, direction, src):
    return {(f["src"], f["dst"], f["sport"], f["dport"]): (f["packets"], f["bytes"])
            for f in dump["flows"]
            if f["proto"] == 6 and f["direction"] == direction and f["src"] == src}


def counter(dump, direction, name):
    return sum(h["counters"][name] for h in dump["hooks"] if h["direction"] == direction)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("nstat")
    ap.add_argument("link0")
    ap.add_argument("link1")
    ap.add_argument("--src", required=True)
    ap.add_argument("--counter", required=True)
    o = ap.parse_args()

    a, b, nstat = (json.load(open(p)) for p in (o.a, o.b, o.nstat))
    drops = [json.load(open(p))[0]["stats64"]["rx"]["dropped"] for p in (o.link0, o.link1)]
    dropped = drops[1] - drops[0]
    stack = nstat["kernel"].get("TcpOutSegs", 0) + nstat["kernel"].get("TcpRetransSegs", 0)
    sent, got = tcp_rows(a, "egress", o.src), tcp_rows(b, "ingress", o.src)
    segs = sum(p for p, _ in sent.values())
    print("A's TcpOutSegs + TcpRetransSegs %d, A egress %d segments, B ingress %d, "
          "veth drops %d, B's %s %d" % (stack, segs, sum(p for p, _ in got.values()),
                                       dropped, o.counter, counter(b, "ingress", o.counter)))
    errors = []
    if counter(b, "ingress", o.counter) == 0:
        errors.append("B's %s did not move: the test shows nothing" % o.counter)
    if segs != stack:
        errors.append("A's egress counted %d segments, its stack sent %d" % (segs, stack))
    for k, s in sorted(sent.items()):
        g = got.get(k)
        if not g or g[0] > s[0] or g[0] + dropped < s[0] or (not dropped and g != s):
            errors.append("flow %s: A egress %s, B ingress %s" % (k, s, g))
    for e in errors:
        print(e)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
