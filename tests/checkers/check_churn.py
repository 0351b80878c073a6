#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Checks a churn run's records against what tests/c/churn_send.c sent.

    check_churn.py RECORDS.json --sent SENT.json [--sent ...] [--json]

SENT is churn_send's JSON line: flows FIRST .. FIRST + FLOWS - 1, each
COUNT datagrams of BYTES IP-layer bytes from SRC to DST, flow i on sport
1 + i % 65535 and dport 10000 + i / 65535. Checks, reading the daemon's JSON
lines once (millions of them: each line is matched with a pattern of the
daemon's key order, json.loads only when that fails):

  - every flow sent has records (egress) adding up to exactly its packets
    and bytes, and no record names a flow that was not sent;
  - no overflow row, no lack_of_resources record;
  - the records of each interface and direction add up to the accounted
    packets and bytes of its last counters line, whose overflow and
    insert_fail_* counters are 0, and the flow records in the file are as
    many as the counters lines' "records".

Prints a summary line (with --json, a JSON object of the figures: records,
flows, flows_exact, flows_wrong, foreign, overflow_rows, overflow_packets,
lack_of_resources, books_ok)
and up to 20 differences; exits 1 on any.
"""

import argparse
import array
import collections
import json
import re
import sys

PORTS = 65535
DPORT_BASE = 10000
FLOW = re.compile(
    r'\{"type":"flow","instance":"(\w+)","seq":\d+,"ifindex":(\d+),"iface":"[^"]*",'
    r'"direction":"(\w+)","ip_version":(\d),"proto":(\d+),"src":"([^"]*)","dst":"([^"]*)",'
    r'"sport":(\d+),"dport":(\d+),"packets":(\d+),"bytes":(\d+),.*"end_reason":"(\w+)",'
    r'"overflow":(true|false)')
FAILS = ("overflow", "insert_fail_full", "insert_fail_nomem", "insert_fail_other")


def fields(line):
    """(ifindex, direction, proto, src, dst, sport, dport, packets, bytes,
    end_reason, overflow) of a flow record line, or None for another type."""
    m = FLOW.match(line)
    if m:
        g = m.groups()
        return (int(g[1]), g[2], int(g[4]), g[5], g[6], int(g[7]), int(g[8]),
                int(g[9]), int(g[10]), g[11], g[12] == "true")
    r = json.loads(line)
    if r.get("type") != "flow":
        return r
    return (r["ifindex"], r["direction"], r["proto"], r["src"], r["dst"], r["sport"],
            r["dport"], r["packets"], r["bytes"], r["end_reason"], r["overflow"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("records")
    ap.add_argument("--sent", action="append", required=True)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    senders = []
    for path in a.sent:
        s = json.loads(open(path).read())
        # Packets and bytes per flow index, from 0 at FIRST.
        senders.append((s, array.array("I", bytes(4 * s["flows"])),
                        array.array("Q", bytes(8 * s["flows"]))))
    errors = []
    books = collections.defaultdict(lambda: [0, 0])
    counters = {}
    records = overflow_rows = lack = foreign = 0
    for line in open(a.records):
        if not line.strip():
            continue
        f = fields(line)
        if isinstance(f, dict):
            if f.get("type") == "counters":
                counters[f["ifindex"]] = f
            continue
        records += 1
        ifindex, direction, proto, src, dst, sport, dport, p, b, reason, over = f
        books[(ifindex, direction)][0] += p
        books[(ifindex, direction)][1] += b
        if over:
            overflow_rows += 1
            errors.append("an overflow row: %s" % line.strip()[:200])
            continue
        if reason == "lack_of_resources":
            lack += 1
        if direction != "egress" or proto != 17:
            continue
        i = (dport - DPORT_BASE) * PORTS + sport - 1
        for s, pk, by in senders:
            if (src, dst) == (s["src"], s["dst"]) and 1 <= sport <= PORTS and \
                    0 <= i - s["first"] < s["flows"]:
                pk[i - s["first"]] += p
                by[i - s["first"]] += b
                break
        else:
            foreign += 1
            errors.append("a record of a flow not sent: %s:%d > %s:%d" % (src, sport, dst, dport))
    if lack:
        errors.append("%d lack_of_resources records" % lack)

    flows = exact = 0
    for s, pk, by in senders:
        want_p, want_b = s["count"], s["count"] * s["bytes"]
        flows += s["flows"]
        for j in range(s["flows"]):
            if pk[j] == want_p and by[j] == want_b:
                exact += 1
            elif len(errors) < 1000:
                i = s["first"] + j
                errors.append("flow %d (%s:%d > %s:%d): sent %d packets %d bytes; records %d %d"
                              % (i, s["src"], 1 + i % PORTS, s["dst"], DPORT_BASE + i // PORTS,
                                 want_p, want_b, pk[j], by[j]))

    overflow_packets = sum(h["counters"]["overflow"] for c in counters.values()
                           for h in c["hooks"])
    books_ok = bool(counters)
    if not counters:
        errors.append("no counters line")
    if sum(c["records"] for c in counters.values()) != records:
        books_ok = False
        errors.append("%d flow records in the file, the counters lines say %d"
                      % (records, sum(c["records"] for c in counters.values())))
    for ifindex, c in counters.items():
        for h in c["hooks"]:
            hc, (p, b) = h["counters"], books[(ifindex, h["direction"])]
            if (p, b) != (hc["accounted"], hc["accounted_bytes"]):
                books_ok = False
                errors.append("ifindex %d %s: records hold %d packets %d bytes, counters say %d %d"
                              % (ifindex, h["direction"], p, b, hc["accounted"],
                                 hc["accounted_bytes"]))
            bad = {k: hc[k] for k in FAILS if hc.get(k)}
            if bad:
                books_ok = False
                errors.append("ifindex %d %s: %s" % (ifindex, h["direction"], bad))

    if a.json:
        print(json.dumps({"records": records, "flows": flows, "flows_exact": exact,
                          "flows_wrong": flows - exact, "foreign": foreign,
                          "overflow_rows": overflow_rows, "overflow_packets": overflow_packets,
                          "lack_of_resources": lack,
                          "books_ok": books_ok}))
    else:
        print("%d records; %d flows sent, %d exact; %d overflow rows, %d lack_of_resources; "
              "books %s" % (records, flows, exact, overflow_rows, lack,
                            "add up" if books_ok else "do not add up"))
    for e in errors[:20]:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
