#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Runs one expiry trace through the C flow cache and the independent model.

    check_expiry.py TRACE.jsonl CACHE_DRIVE

TRACE is what tests/checkers/expiry_traces.py writes. The model
(tests/checkers/expiry_model.py) and libflowacct's cache (through the driver
tests/c/cache_drive.c) must make the same records, op by op: same keys,
counts, times, flags and reasons. Prints the first differences and a summary
of the records by reason; exits 1 on any difference.
"""

import collections
import ipaddress
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def addr_bytes(a):
    """The key's 16 bytes: IPv4 mapped into IPv6, as the programs store it."""
    if a is None:
        return bytes(16)
    ip = ipaddress.ip_address(a)
    if ip.version == 4:
        return bytes(10) + b"\xff\xff" + ip.packed
    return ip.packed


def key_of(k):
    return (k["ifindex"], k["direction"], k["ip_version"], k["proto"],
            addr_bytes(k["src"]), addr_bytes(k["dst"]), k["sport"], k["dport"])


def to_driver(trace):
    out = []
    for line in open(trace):
        o = json.loads(line)
        if o["op"] == "config":
            out.append("config %d %d %d %d" % (o["idle_timeout_ns"], o["active_timeout_ns"],
                                               o["end_quiet_ns"], o["cache_size"]))
        elif o["op"] == "drain":
            out.append("drain %d %d" % (o["now_ns"], len(o["rows"])))
            for r in o["rows"]:
                k = r["key"]
                out.append("row %d %d %d %d %s %s %d %d %d %d %d %d %d" % (
                    k["ifindex"], 0 if k["direction"] == "ingress" else 1,
                    k["ip_version"], k["proto"], addr_bytes(k["src"]).hex(),
                    addr_bytes(k["dst"]).hex(), k["sport"], k["dport"],
                    r["packets"], r["bytes"], r["first_seen_ns"],
                    r["last_seen_ns"], r["tcp_flags"]))
        elif o["op"] == "leave":
            out.append("leave %d %d" % (o["now_ns"], o["ifindex"]))
        else:
            out.append("%s %d" % (o["op"], o["now_ns"]))
    return "\n".join(out) + "\n"


def record_tuple(op, key, r):
    return (op, key, r["packets"], r["bytes"], r["first_seen_ns"], r["last_seen_ns"],
            r["flow_start_ns"], r["tcp_flags"], r["end_reason"])


def main():
    trace, drive = sys.argv[1], sys.argv[2]
    model = subprocess.run([sys.executable, os.path.join(HERE, "expiry_model.py"), trace],
                           check=True, capture_output=True, text=True).stdout
    want = collections.Counter()
    reasons = collections.Counter()
    for line in model.splitlines():
        r = json.loads(line)
        want[record_tuple(r["op_index"], key_of(r["key"]), r)] += 1
        reasons[r["end_reason"]] += 1

    c = subprocess.run([drive], input=to_driver(trace), capture_output=True, text=True)
    if c.returncode:
        print("cache_drive failed: %s" % c.stderr.strip())
        return 1
    got = collections.Counter()
    for line in c.stdout.splitlines():
        f = line.split()
        direction = "ingress" if f[2] == "0" else "egress"
        key = (int(f[1]), direction, int(f[3]), int(f[4]), bytes.fromhex(f[5]),
               bytes.fromhex(f[6]), int(f[7]), int(f[8]))
        r = {"packets": int(f[9]), "bytes": int(f[10]), "first_seen_ns": int(f[11]),
             "last_seen_ns": int(f[12]), "flow_start_ns": int(f[13]),
             "tcp_flags": int(f[14]), "end_reason": f[15]}
        got[record_tuple(int(f[0]), key, r)] += 1

    missing, extra = want - got, got - want
    for what, diff in (("model only", missing), ("cache only", extra)):
        for t in sorted(diff)[:10]:
            print("%s: op %d key %s: %s" % (what, t[0], t[1], t[2:]))
    total = sum(want.values())
    print("%d records from the model (%s), %d from the cache, %d differ" % (
        total, ", ".join("%s %d" % kv for kv in sorted(reasons.items())),
        sum(got.values()), sum(missing.values()) + sum(extra.values())))
    return 1 if missing or extra else 0


if __name__ == "__main__":
    sys.exit(main())
