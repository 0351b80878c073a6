#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Checks the figures of a benchmark report (scripts/bench.sh's RESULTS.md).

    check_bench.py RESULTS.md

Every table the report must hold is listed below with its count of rows and
what each column holds. Every cell must then be what its column says: a
number (not nan, inf or empty) in a range wide enough for any machine and
for the smoke run's tiny counts, but narrow enough to catch a broken figure
(0 ns, a negative time, a ratio of 1000). The ranges do not judge the
figures; `make bench` measures. Prints nothing and exits 0 when every cell
passes, else one line per failure on stderr and exits 1.
"""

import math
import re
import sys

# Column kinds: (low, high) bounds exclusive, or a pattern for words.
NUM = {
    "ns": (0, 100000),          # ns per packet (or per call)
    "dns": (-100000, 100000),   # a difference of two ns figures
    "x": (0.1, 20),             # a ratio of two like figures
    "wx": (0.01, 1000),         # a ratio of unlike work (a dump by bpftool)
    "cut": (-20, 1),            # 1 - a ratio over another
    "s": (0, 60),               # seconds one step takes
    "ms": (0, 60000),
    "pos": (0, math.inf),       # a count, rate, size or time above 0
    "cpu": (-1e-9, math.inf),   # CPU seconds: 0.00 at smoke-run counts
    "pct": (0, 100 * 1024),     # CPU %, up to 100 per CPU
    "zero": (-0.5, 0.5),
    "count": (-0.5, math.inf),  # a count that may be 0
    "dcpu": (-1e6, 1e6),        # CPU s over a reference's: noise can make it < 0
    "dx": (-1000, 1000),        # a ratio of two such differences
    "dper": (-1e9, 1e9),        # a difference per interface: noise can make it < 0
}
WORD = {
    "T": r"\S.*",
    "yn": r"yes|no",
    "yn2": r"(yes|no) / (yes|no)",
}

# (heading prefix, which table under it, rows, column kinds[, left out]).
# A kind ending in "?" may be empty, or "-" for a case not run. Rows whose
# first two cells, joined by " / ", match "left out" are cases the bench does
# not run: all "-" after those two cells (sampling every frame on the table
# paths).
LEFT_OUT = r"(update|insert) path / .*, sample 1/1"
TABLES = [
    ("#### Targets", 0, 6, "T T ns ns ns x x ns x x yn2"),
    ("#### flowacct against no epochs", 0, 36, "T T T ns ns x x x cut"),
    ("#### Load-time options", 0, 18, "T T ns ns dns ns dns ns dns"),
    ("#### One shared row", 0, 18, "T T ns ns ns x"),
    ("#### In a program set", 0, 18, "T T ns ns dns x"),
    ("#### XDP, every case", 0, 153, "T T ns ns ns wx wx", LEFT_OUT),
    ("#### TC, every case", 0, 153, "T T ns ns ns wx wx", LEFT_OUT),
    ("#### Program sizes", 0, 9, "T pos pos pos"),
    ("### Against ", 0, 36, "T T T T ns ns ns x x x x cut yn"),
    ("### The default layout against", 0, 6, "T T ns ns ns x T yn"),
    ("### One flow from both CPUs", 0, 4, "T pos ns x? T? pos yn"),
    ("## 2. ", 0, 4, "T s s s wx"),
    ("## 3. ", 0, 10, "T pos pos pos x"),
    ("### TCP throughput", 0, 7, "T pos pos pos x"),
    ("## 4. ", 0, 4, "T T pos pos pos pos"),
    ("## 5. ", 0, 3, "T ns ns? ns?"),
    ("### What the epochs cost", 0, 4, "T T ns ns x x x yn"),
    ("### A flip's wait", 0, 4, "T T pos ms ms ms"),
    ("### Draining an epoch", 0, 6, "T T s s s x"),
    ("### Records", 0, 3, "T s pos"),
    ("### Records", 1, 1, "pos pos cpu pos cpu"),
    ("### Encoding and sending IPFIX", 0, 2, "T pos pos s pos zero"),
    ("### The daemon against softflowd", 0, 3, "T T T cpu cpu wx dcpu? dcpu? dx?"),
    ("## 8. ", 0, 24, "T T pos pos pos pos"),
    ("## 9. ", 0, 5, "T pos pos pos x"),
    ("## 9. ", 1, 5, "T pct pct pct x"),
    ("### The owner lookups", 0, 2, "T ns ns ns ns ns ns"),
    ("### The churn sender", 0, 3, "T pos pos cpu"),
    ("### The daemon under new flows", 0, 4, "T pos? pos? cpu? cpu? cpu? count? count? pos? T? pos? yn"),
    ("## 11. ", 0, 19, "T pos pos dper?"),
    # The daemon on one set: its CPU over a smoke run's 5 s may be no tick.
    ("## 11. ", 1, 19, "T cpu cpu dper?"),
    ("## 11. ", 2, 6, "T pos pos dper?"),
    ("### The hooks against", 0, 6, "T T ns ns x T yn yn"),
    # --drops off runs no drop program: no ns a drop, no runs.
    ("### A flood of drops", 0, 2, "T pos count pos cpu ns? count yn"),
    # Both layouts; --quick leaves out the rows of the programs against themselves.
    ("### The untunnelled mix against", 0, 24, "T T ns ns x T T yn"),
    ("### A tunnelled packet's cost", 0, 4, "T T ns ns ns T"),
]


def tables(path):
    """The report's tables: (heading, index under it, header, rows)."""
    out, heading, count, table = [], "", {}, None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                heading = line
            if line.startswith("|"):
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                if table is None:
                    n = count.get(heading, 0)
                    count[heading] = n + 1
                    table = (heading, n, cells, [])
                    out.append(table)
                elif not re.fullmatch(r":?-+:?", cells[0] or "-"):
                    table[3].append(cells)
            else:
                table = None
    return out


def number(cell):
    """The figure a cell starts with ("1969912 rows" too), or None."""
    m = re.match(r"-?[0-9.]+(e[+-]?[0-9]+)?", cell)
    try:
        v = float(m.group(0)) if m else None
    except ValueError:
        return None
    return v if v is not None and math.isfinite(v) else None


def check(path):
    errors = []
    found = tables(path)
    for prefix, index, nrows, kinds, *left_out in TABLES:
        kinds = kinds.split()
        match = [t for t in found if t[0].startswith(prefix) and t[1] == index]
        if not match:
            errors.append(f"'{prefix}': no table {index + 1}")
            continue
        heading, _, header, rows = match[0]
        if len(header) != len(kinds):
            errors.append(f"'{heading}': {len(header)} columns, not {len(kinds)}")
            continue
        if len(rows) != nrows:
            errors.append(f"'{heading}': {len(rows)} rows, not {nrows}")
        for row in rows:
            label = " / ".join(row[:2] if kinds[1] == "T" else row[:1])
            if left_out and re.fullmatch(left_out[0], " / ".join(row[:2])):
                if any(c != "-" for c in row[2:]):
                    errors.append(f"'{heading}', row '{label}': a case left out has figures")
                continue
            for col, kind in enumerate(kinds):
                cell = row[col] if col < len(row) else ""
                what = f"'{heading}', row '{label}', '{header[col]}'"
                if kind.endswith("?"):
                    if cell in ("", "-"):
                        continue
                    kind = kind[:-1]
                if kind in WORD:
                    if not re.fullmatch(WORD[kind], cell):
                        errors.append(f"{what}: '{cell}' is not {WORD[kind]}")
                    continue
                lo, hi = NUM[kind]
                v = number(cell)
                if v is None or not lo < v < hi:
                    errors.append(f"{what}: '{cell}' is not a number in ({lo}, {hi})")
    return errors


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    errors = check(sys.argv[1])
    for e in errors:
        print(e, file=sys.stderr)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
