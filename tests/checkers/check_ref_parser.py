#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Checks the fuzzer's reference parser against tshark's own dissection.

    check_ref_parser.py SAMPLE.pcap [EXPECTED.jsonl] [--min-frames N]

SAMPLE.pcap and SAMPLE.pcap.expected.jsonl come from
`fuzz_diff --tshark-sample SAMPLE.pcap`: frames the reference accounted,
with the key and byte count it gave each. tshark shares no code with either
the reference or flowacct; for every frame it must agree on the addresses,
the protocol, the ports (ICMP and ICMPv6 type and code), the TCP flags and
the IP-layer length. The sample holds only frames where tshark's fields mean
what the reference's do: whole frames, no fragments, no IPv6 extension
headers. Exits 1 on any difference.
"""

import argparse
import ipaddress
import json
import sys

from check_tshark import tshark_rows


def num(v, field, base=10):
    """A tshark field as a number; a missing one is a disagreement."""
    s = v.get(field, "")
    if s == "":
        raise ValueError("tshark has no %s" % field)
    return int(s, base)


def addr(v, field):
    s = v.get(field, "")
    if s == "":
        raise ValueError("tshark has no %s" % field)
    return ipaddress.ip_address(s)


def tshark_view(v, want):
    """What tshark says of the fields the reference gave, as the reference
    would have written them."""
    if want["ip_version"] == 4:
        got = {"src": addr(v, "ip.src"), "dst": addr(v, "ip.dst"),
               "proto": num(v, "ip.proto"), "bytes": num(v, "ip.len")}
    else:
        got = {"src": addr(v, "ipv6.src"), "dst": addr(v, "ipv6.dst"),
               "proto": num(v, "ipv6.nxt"), "bytes": 40 + num(v, "ipv6.plen")}
    proto, sport, dport, flags = got["proto"], 0, 0, 0
    if proto == 6:
        sport, dport = num(v, "tcp.srcport"), num(v, "tcp.dstport")
        flags = num(v, "tcp.flags", 16) & 0xFF
    elif proto == 17:
        sport, dport = num(v, "udp.srcport"), num(v, "udp.dstport")
    elif proto == 1 and want["ip_version"] == 4:
        dport = num(v, "icmp.type") << 8 | num(v, "icmp.code")
    elif proto == 58 and want["ip_version"] == 6:
        dport = num(v, "icmpv6.type") << 8 | num(v, "icmpv6.code")
    got.update(sport=sport, dport=dport, tcp_flags=flags)
    return got


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("capture")
    ap.add_argument("expected", nargs="?")
    ap.add_argument("--min-frames", type=int, default=1,
                    help="fail if the sample is smaller (default 1)")
    a = ap.parse_args()

    with open(a.expected or a.capture + ".expected.jsonl") as f:
        want = [json.loads(line) for line in f if line.strip()]
    rows = tshark_rows(a.capture)
    errors = []
    if len(rows) != len(want):
        errors.append("tshark read %d frames, the reference wrote %d"
                      % (len(rows), len(want)))
    for w, v in zip(want, rows):
        ref = {"src": ipaddress.ip_address(w["src"]),
               "dst": ipaddress.ip_address(w["dst"])}
        for k in ("proto", "sport", "dport", "bytes", "tcp_flags"):
            ref[k] = w[k]
        try:
            got = tshark_view(v, w)
        except ValueError as e:
            errors.append("frame %s (fuzz frame %d): %s" % (w["n"], w["frame"], e))
            continue
        if int(v["frame.number"]) != w["n"]:
            errors.append("frame %s: tshark numbers it %s" % (w["n"], v["frame.number"]))
        diff = ["%s: reference %s, tshark %s" % (k, ref[k], got[k])
                for k in ref if ref[k] != got[k]]
        if diff:
            errors.append("frame %s (fuzz frame %d): %s"
                          % (w["n"], w["frame"], "; ".join(diff)))
    for e in errors[:30]:
        print(e)
    if len(errors) > 30:
        print("... and %d more" % (len(errors) - 30))
    if len(want) < a.min_frames:
        errors.append("only %d frames in the sample" % len(want))
        print(errors[-1])
    print("%d sampled frames, %d disagree with tshark" % (len(want), len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
