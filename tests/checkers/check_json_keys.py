#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The key paths of JSON documents, one per line, sorted: "a", "a.b", "a[].c"
(the union over a list's objects). With --type T, FILE holds JSON lines and
only those whose "type" is T count. Tests compare them with key sets written
in the test, so that a document that loses or gains a key is seen."""
import json
import sys


def paths(v, prefix, out):
    if isinstance(v, dict):
        for k, x in v.items():
            p = prefix + "." + k if prefix else k
            out.add(p)
            paths(x, p, out)
    elif isinstance(v, list):
        for x in v:
            paths(x, prefix + "[]", out)


def main():
    args = sys.argv[1:]
    kind = None
    if args[:1] == ["--type"]:
        kind, args = args[1], args[2:]
    out = set()
    with open(args[0]) as f:
        if kind is None:
            paths(json.load(f), "", out)
        else:
            for line in f:
                r = json.loads(line)
                if r.get("type") == kind:
                    paths(r, "", out)
    print("\n".join(sorted(out)))


main()
