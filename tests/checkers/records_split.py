#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Splits a daemon's records by the interface they came from.

    records_split.py RECORDS.json OUTDIR

Each attachment a daemon took has a record stream of its own (its
"instance"), ended by its counters line; the interfaces of a daemon's
program set share one instance, and each one's stream is its records
(by interface index) up to its counters line (an index taken again later
is another interface's stream). Writes OUTDIR/IFACE.json for each
counters line's interface (the name it had when the line was written: a
renamed interface's records are filed under its last name), with every
flow record of that stream and the counters line, for check_records.py
and check_live.py. Prints one line per stream: IFACE IFINDEX RECORDS.
Exits 1 if a flow record belongs to no counters line, or two streams end
under one name.
"""

import collections
import json
import os
import sys


def main():
    path, out = sys.argv[1], sys.argv[2]
    open_streams = collections.defaultdict(list)
    streams = []
    for line in open(path):
        if not line.strip():
            continue
        r = json.loads(line)
        if r.get("type") == "counters":
            key = (r["instance"], r["ifindex"])
            streams.append((r, open_streams.pop(key, [])))
        elif r.get("type") == "flow":
            open_streams[(r["instance"], r["ifindex"])].append(r)
    bad = 0
    for (inst, ifindex), recs in open_streams.items():
        print("records of instance %s, index %s (%s) have no counters line"
              % (inst, ifindex, recs[0].get("iface")))
        bad = 1
    names = collections.Counter(c["iface"] for c, _ in streams)
    for name, n in names.items():
        if n > 1:
            print("%d streams end under the name %s" % (n, name))
            bad = 1
    os.makedirs(out, exist_ok=True)
    for c, recs in sorted(streams, key=lambda s: s[0]["iface"]):
        with open(os.path.join(out, c["iface"] + ".json"), "w") as f:
            for r in recs:
                f.write(json.dumps(r) + "\n")
            f.write(json.dumps(c) + "\n")
        print(c["iface"], c["ifindex"], len(recs))
    return bad


if __name__ == "__main__":
    sys.exit(main())
