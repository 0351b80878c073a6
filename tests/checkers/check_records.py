#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Checks the records `flowacct run` wrote against what was sent and counted.

    check_records.py RECORDS.json [--sent SENT.json ...] [--books]
                     [--broken-max N] [--as-dump OUT.json] [--reasons R,...]
                     [--only-sent] [--drop-books]

RECORDS is the daemon's JSON lines (from one run or several in turn, a kill
-9 and restart between them). Each record is identified by its instance and
sequence number: a record written twice (after a kill) must be identical to
its first copy and is counted once. A line that is not JSON is a record a
kill cut short; there may be at most --broken-max of them (default 0).

  --sent      JSON from tests/helpers/udp_send.py (or a list of such flows with a
              "direction"): each flow's records must add up to exactly its
              packets and IP-layer bytes.
  --books     the records of each interface and direction, overflow rows
              included, must add up to exactly the accounted packets and
              bytes of the last counters line of that interface.
  --as-dump   writes the records summed per flow as a `flowacct dump -j`
              document (with the counters line's hooks), for check_live.py
              to compare with tcpdump captures.
  --reasons   these end reasons must all appear.
  --drop-books  the drops of each interface's records must add up to the
              drops its last counters line says were attributed, and those
              books to what the drop program saw: seen = attributed + each
              reason a drop was not.
Prints a summary; exits 1 on any difference.
"""

import argparse
import collections
import json
import sys

KEY = ("ifindex", "direction", "ip_version", "proto", "src", "dst", "sport", "dport")
LETTERS = "FSRPAUEC"


def flag_bits(s):
    return sum(1 << LETTERS.index(c) for c in s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("records")
    ap.add_argument("--sent", action="append", default=[])
    ap.add_argument("--books", action="store_true")
    ap.add_argument("--broken-max", type=int, default=0)
    ap.add_argument("--as-dump")
    ap.add_argument("--reasons", default="")
    ap.add_argument("--drop-books", action="store_true")
    a = ap.parse_args()

    errors = []
    seen = {}
    broken = dups = 0
    counters = {}
    flows = collections.defaultdict(lambda: [0, 0, 0, None, None])
    reasons = collections.Counter()
    drops = collections.Counter()
    for line in open(a.records):
        line = line.rstrip("\n")
        if not line:
            continue
        try:
            r = json.loads(line)
        except ValueError:
            broken += 1
            continue
        if r.get("type") == "counters":
            counters[r["ifindex"]] = r
            continue
        if r.get("type") != "flow":
            errors.append("a line of unknown type: %s" % line[:120])
            continue
        ident = (r["instance"], r["seq"])
        if ident in seen:
            if seen[ident] != r:
                errors.append("record %s written twice, differently:\n  %s\n  %s"
                              % (ident, seen[ident], r))
            dups += 1
            continue
        seen[ident] = r
        reasons[r["end_reason"]] += 1
        f = flows[tuple(r[k] for k in KEY)]
        f[0] += r["packets"]
        f[1] += r["bytes"]
        f[2] |= flag_bits(r["tcp_flags"])
        d = r.get("drops")
        if d:
            drops[r["ifindex"]] += d["packets"]
            if sum(d["reasons"].values()) != d["packets"] or d["packets"] <= 0:
                errors.append("drops whose reasons do not add up: %s" % r)
        # A period of drops only (dropped before the hook) is a record too.
        if r["packets"] < 0 or (r["packets"] == 0 and not d):
            errors.append("a record without packets: %s" % r)
    if broken > a.broken_max:
        errors.append("%d lines are not JSON (at most %d allowed)" % (broken, a.broken_max))

    by_flow = collections.defaultdict(lambda: [0, 0])
    for k, v in flows.items():
        by_flow[k[1:]][0] += v[0]
        by_flow[k[1:]][1] += v[1]
    for path in a.sent:
        sent = json.load(open(path))
        for e in sent["flows"] if isinstance(sent, dict) else sent:
            direction = e.get("direction", "egress")
            p, b = by_flow.get((direction, e["ip_version"], e["proto"], e["src"],
                                e["dst"], e["sport"], e["dport"]), (0, 0))
            if p != e["packets"] or b != e["bytes"]:
                errors.append("sent %s %s:%d > %s:%d: %d packets %d bytes; records %d %d"
                              % (direction, e["src"], e["sport"], e["dst"], e["dport"],
                                 e["packets"], e["bytes"], p, b))

    if a.books:
        if not counters:
            errors.append("no counters line")
        for ifindex, c in counters.items():
            hooks = {h["direction"]: h["counters"] for h in c["hooks"]}
            for direction, hc in hooks.items():
                p = sum(v[0] for k, v in flows.items() if k[0] == ifindex and k[1] == direction)
                b = sum(v[1] for k, v in flows.items() if k[0] == ifindex and k[1] == direction)
                if p != hc["accounted"] or b != hc["accounted_bytes"]:
                    errors.append("ifindex %d %s: records hold %d packets %d bytes, counters say %d %d"
                                  % (ifindex, direction, p, b, hc["accounted"],
                                     hc["accounted_bytes"]))

    if a.drop_books:
        for ifindex, c in counters.items():
            books = c.get("drops")
            if not books:
                errors.append("ifindex %d: no drop books in the counters line" % ifindex)
                continue
            others = sum(v for k, v in books.items()
                         if k not in ("seen", "seen_bytes", "attributed"))
            if books["seen"] != books["attributed"] + others:
                errors.append("ifindex %d: drops seen %d != attributed %d + reasons %d"
                              % (ifindex, books["seen"], books["attributed"], others))
            if drops[ifindex] != books["attributed"]:
                errors.append("ifindex %d: records hold %d drops, the books attributed %d"
                              % (ifindex, drops[ifindex], books["attributed"]))

    for want in filter(None, a.reasons.split(",")):
        if not reasons[want]:
            errors.append("no record ended as %s" % want)

    if a.as_dump:
        rows = []
        for k, v in flows.items():
            r = dict(zip(KEY, k))
            r.update(packets=v[0], bytes=v[1], overflow=k[2] == 0,
                     tcp_flags="".join(c for i, c in enumerate(LETTERS) if v[2] >> i & 1))
            rows.append(r)
        hooks = []
        for c in counters.values():
            hooks += c["hooks"]
        json.dump({"flows": rows, "hooks": hooks}, open(a.as_dump, "w"))

    print("%d records (%s), %d written twice, %d broken lines, %d flows"
          % (len(seen), ", ".join("%s %d" % kv for kv in sorted(reasons.items())),
             dups, broken, len(flows)))
    for e in errors[:30]:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
