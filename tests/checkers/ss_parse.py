#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""`ss -tinpeH` on stdin, one JSON object per socket on stdout: the oracle
for the socket tests (cookie from sk:, process from users:, tcp_info)."""

import json
import re
import sys


def addr_port(s):
    host, _, port = s.rpartition(":")
    host = host.strip("[]")
    if host.startswith("::ffff:"):
        host = host[7:]
    return host, int(port) if port.isdigit() else 0


def main():
    text = sys.stdin.read()
    # A socket is a line starting with its state, then indented info lines.
    for block in re.split(r"\n(?=\S)", text.strip()):
        if not block:
            continue
        head, *rest = block.split("\n")
        f = head.split()
        if len(f) < 5:
            continue
        local, lport = addr_port(f[3])
        remote, rport = addr_port(f[4])
        s = {"state": f[0], "local": local, "lport": lport, "remote": remote, "rport": rport}
        m = re.search(r'users:\(\("([^"]+)",pid=(\d+)', head)
        if m:
            s["comm"], s["pid"] = m.group(1), int(m.group(2))
        m = re.search(r"\bsk:([0-9a-f]+)", head)
        if m:
            s["cookie"] = int(m.group(1), 16)
        info = " ".join(rest)
        for key, name, conv in (("rtt", "rtt", None), ("minrtt", "minrtt_ms", float),
                                ("cwnd", "cwnd", int), ("bytes_retrans", "bytes_retrans", int),
                                ("retrans", "retrans", None)):
            m = re.search(r"\b%s:(\S+)" % key, info)
            if not m:
                continue
            v = m.group(1)
            if key == "rtt":
                s["rtt_ms"], s["rttvar_ms"] = (float(x) for x in v.split("/"))
            elif key == "retrans":
                s["retrans_total"] = int(v.split("/")[1])
            else:
                s[name] = conv(v)
        print(json.dumps(s))


main()
