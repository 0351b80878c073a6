#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Compares `flowacct replay -j` output with what the generator expected.

    check_replay.py EXPECTED.json ACTUAL.json --hook xdp|tc-ingress|tc-egress [--max-flows K]

Rows must match exactly (every field), and so must every counter: one the
expectation does not name must be 0. With --max-flows K, the first K flows
to appear get rows and the rest must be in the hook's overflow row. Prints
one line per difference and exits 1 if there is any.
"""

import argparse
import json
import sys

ROW_FIELDS = ("packets", "bytes", "first_seen_ns", "last_seen_ns", "tcp_flags", "tunnel")

# The reasons a seen packet is not accounted (README, "Counters").
REASONS = ("non_ip", "trunc_eth", "trunc_vlan", "vlan_too_deep", "bad_ip_version",
           "trunc_ipv4", "bad_ihl", "bad_ipv4_len", "trunc_ipv6", "bad_ipv6_len",
           "trunc_ipv6_ext", "ipv6_ext_too_many", "trunc_l4", "trunc_tunnel",
           "trunc_mpls", "mpls_too_deep")


def merge_flags(a, b):
    letters = "FSRPAUEC"
    return "".join(c for c in letters if c in a or c in b)


def expected_rows(exp, direction, max_flows):
    rows, over = [], None
    for i, f in enumerate(exp["flows"]):
        if max_flows is None or i < max_flows:
            rows.append(dict(f, ifindex=1, direction=direction, overflow=False,
                             tunnel=f.get("tunnel")))
            continue
        if over is None:
            over = {"ifindex": 1, "direction": direction, "ip_version": 0,
                    "proto": 0, "src": None, "dst": None, "sport": 0,
                    "dport": 0, "packets": 0, "bytes": 0,
                    "first_seen_ns": f["first_seen_ns"],
                    "last_seen_ns": f["last_seen_ns"], "tcp_flags": "",
                    "overflow": True, "tunnel": None}
        over["packets"] += f["packets"]
        over["bytes"] += f["bytes"]
        over["first_seen_ns"] = min(over["first_seen_ns"], f["first_seen_ns"])
        over["last_seen_ns"] = max(over["last_seen_ns"], f["last_seen_ns"])
        over["tcp_flags"] = merge_flags(over["tcp_flags"], f["tcp_flags"])
    if over:
        rows.append(over)
    return rows


def row_key(r):
    tun = r.get("tunnel")
    return (r["overflow"], r["ifindex"], r["direction"], r["ip_version"],
            r["proto"], r["src"] or "", r["dst"] or "", r["sport"], r["dport"],
            tuple(str(tun[k]) for k in ("type", "id", "outer_src", "outer_dst")) if tun else "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("expected")
    ap.add_argument("actual")
    ap.add_argument("--hook", choices=("xdp", "tc-ingress", "tc-egress"), required=True)
    ap.add_argument("--max-flows", type=int)
    a = ap.parse_args()

    exp = json.load(open(a.expected))
    act = json.load(open(a.actual))
    direction = "egress" if a.hook == "tc-egress" else "ingress"
    errors = []

    want = {row_key(r): r for r in expected_rows(exp, direction, a.max_flows)}
    got = {}
    for r in act["flows"]:
        k = row_key(r)
        if k in got:
            errors.append("duplicate row %s" % (k,))
        got[k] = r
    for k in sorted(set(want) | set(got), key=str):
        w, g = want.get(k), got.get(k)
        if not g:
            errors.append("missing row %s: want %s" % (k, {f: w[f] for f in ROW_FIELDS}))
        elif not w:
            errors.append("unexpected row %s: got %s" % (k, {f: g[f] for f in ROW_FIELDS}))
        else:
            for f in ROW_FIELDS:
                if w[f] != g[f]:
                    errors.append("row %s: %s got %s want %s" % (k, f, g[f], w[f]))

    counters = dict(exp["counters"])
    if a.max_flows is not None and len(exp["flows"]) > a.max_flows:
        lost = exp["flows"][a.max_flows:]
        counters["overflow"] = sum(f["packets"] for f in lost)
        counters["insert_fail_full"] = sum(f["packets"] for f in lost)
    for name, value in act["counters"].items():
        if value != counters.get(name, 0):
            errors.append("counter %s: got %d want %d" % (name, value, counters.get(name, 0)))
    for name in counters:
        if name not in act["counters"]:
            errors.append("counter %s missing from the output" % name)

    # Conservation, whatever the expectation: the rows hold what was accounted.
    c = act["counters"]
    if sum(r["packets"] for r in act["flows"]) != c["accounted"]:
        errors.append("rows hold %d packets, accounted says %d" %
                      (sum(r["packets"] for r in act["flows"]), c["accounted"]))
    if sum(r["bytes"] for r in act["flows"]) != c["accounted_bytes"]:
        errors.append("rows hold %d bytes, accounted_bytes says %d" %
                      (sum(r["bytes"] for r in act["flows"]), c["accounted_bytes"]))
    reasons = sum(c[r] for r in REASONS)
    if c["seen"] != c["accounted"] + reasons:
        errors.append("seen %d != accounted %d + reasons %d" % (c["seen"], c["accounted"], reasons))
    if c["seen"] != exp["frames"]:
        errors.append("seen %d, the capture has %d frames" % (c["seen"], exp["frames"]))

    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
