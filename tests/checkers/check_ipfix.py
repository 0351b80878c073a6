#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Checks an IPFIX export with decoders that share no code with flowacct.

    check_ipfix.py nfdump DIR          flows nfcapd (nfdump 1.7) stored in DIR
    check_ipfix.py nfacctd OUTFILE     flows pmacct's nfacctd printed (JSON lines)
    check_ipfix.py pcap CAPTURE        flows tshark finds in a traffic capture
    check_ipfix.py records FILE        flowacct run's JSON records, summed alike
    check_ipfix.py tshark CAPTURE --port P [--max-message N] [--strict]
                                       the export itself, as tshark dissects it
    check_ipfix.py compare A.json B.json [--key FIELDS] [--counters C]
    check_ipfix.py drops CAPTURE --port P
                                       each flow record's drops, segment and
                                       enterprise elements, as tshark
                                       dissects them, and the templates'
                                       enterprise numbers

The first three print the same JSON: "flows", one row per key with the number
of flow records ("flows"), packets and bytes summed, and "totals". A key is
proto, src, dst, sport, dport, in_if, out_if, direction; ICMP has sport 0 and
dport type << 8 | code, as flowacct and tests/checkers/check_tshark.py count it. A
missing interface or direction is 0, since nfdump prints 0 for an element
that the exporter left out whenever it has others of the same group. A
record without addresses (flowacct's overflow rows: traffic counted while
its table was full) has src and dst "-" and proto 0.

"compare" sums two such outputs by FIELDS (default: the fields of the key
that both have) and exits 1 if any of COUNTERS (default flows, packets and
bytes) differs. "pcap" counts one row per one-way flow, so compare it to an
exporter's records with --counters packets,bytes: an exporter may split a
flow into several records.

"tshark" reads `tshark -T pdml` with the port decoded as cflow, and checks
RFC 7011 as a collector sees it: every message is IPFIX and fills its UDP
datagram; every Data Set's template came earlier in the same transport
session and observation domain; each message's sequence number is the count
of Data Records (those of Options Templates too, §3.1) sent before it in that
domain, modulo 2^32, starting at 0 (so the capture must start before the
exporter); no message exceeds --max-message; tshark finds nothing malformed
(a Data Set without template counts as malformed there). --strict exits 1 if
any check failed. Exits 2 if a decoder could not be run.
"""

import argparse
import ipaddress
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

# Ways an exporter may count the sequence number of a message, from 0: the
# Data Records sent before it (RFC 7011), or those without Options Data
# Records (what nfdump 1.7 expects), or either including the message's own.
SEQUENCE_MODELS = ("rfc7011", "without_options_records", "with_own_records",
                   "with_own_records_without_options_records")

KEY = ("proto", "src", "dst", "sport", "dport", "in_if", "out_if", "direction")
ICMP = (1, 58)


def die(msg):
    print(f"ipfix_check: {msg}", file=sys.stderr)
    sys.exit(2)


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        die(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def addr(a):
    """One spelling per address, whatever the decoder printed."""
    return str(ipaddress.ip_address(a))


def summed(rows):
    """rows: (key dict, flows, packets, bytes) -> the common JSON shape."""
    acc = {}
    for key, flows, packets, nbytes in rows:
        k = tuple(key[f] for f in KEY if f in key)
        a = acc.setdefault(k, dict(key, flows=0, packets=0, bytes=0))
        a["flows"] += flows
        a["packets"] += packets
        a["bytes"] += nbytes
    flows = [acc[k] for k in sorted(acc, key=lambda k: [str(x) for x in k])]
    totals = {f: sum(r[f] for r in flows) for f in ("flows", "packets", "bytes")}
    return {"flows": flows, "totals": totals}


# ---- nfdump ----------------------------------------------------------------

def nfdump_stats(directory):
    """`nfdump -R DIR -I`: "Name: value" lines (Flows, Packets, Bytes and
    their per-protocol splits, First/Last, Sequence failures, ...)."""
    stats = {}
    for line in run(["nfdump", "-R", directory, "-I"]).splitlines():
        name, sep, value = line.partition(":")
        if sep:
            value = value.strip()
            stats[name.strip()] = int(value) if value.isdigit() else value
    return stats


def nfdump_record(r):
    if r.get("out_packets") or r.get("out_bytes"):
        die("nfdump: a bidirectional record; only one-way flows are summed")
    proto = r["proto"]
    if proto in ICMP:
        sport, dport = 0, r.get("icmp_type", 0) << 8 | r.get("icmp_code", 0)
    else:
        sport, dport = r.get("src_port", 0), r.get("dst_port", 0)
    src = r.get("src4_addr") or r.get("src6_addr")
    dst = r.get("dst4_addr") or r.get("dst6_addr")
    key = {"proto": proto,
           "src": addr(src) if src else "-",
           "dst": addr(dst) if dst else "-",
           "sport": sport, "dport": dport,
           "in_if": r.get("input_snmp", 0), "out_if": r.get("output_snmp", 0),
           "direction": r.get("direction", 0)}
    return key, 1, r["in_packets"], r["in_bytes"]


def nfdump_main(directory):
    names = os.listdir(directory)
    current = [n for n in names if n.startswith("nfcapd.current.")]
    if current:
        die(f"nfdump: {directory} has {current}: nfcapd has not flushed yet")
    if not any(n.startswith("nfcapd.") for n in names):
        # nfdump -R on no files says "Empty file list" and -I crashes.
        out = summed([])
        out["stats"] = {}
        return out
    # nfdump 1.7.1 prints "[\nNo matching flows\n]" for no records: not JSON.
    text = run(["nfdump", "-R", directory, "-o", "json"])
    records = [] if "No matching flows" in text else json.loads(text)
    out = summed(nfdump_record(r) for r in records)
    out["stats"] = nfdump_stats(directory)
    return out


# ---- nfacctd ---------------------------------------------------------------

def nfacctd_record(r):
    """One line of the print plugin as tests/helpers/collectors.sh configures it:
    print_num_protos, and the custom primitives flow_dir (IE 61), icmp4
    (IE 32) and icmp6 (IE 139), which pmacct has no built-in names for."""
    proto = int(r["ip_proto"])
    sport, dport = r["port_src"], r["port_dst"]
    if proto in ICMP:
        # Type and code in IE 32/139; an exporter may put them in the
        # destination port instead (NetFlow v5 style), which pmacct keeps.
        sport, dport = 0, int(r["icmp4" if proto == 1 else "icmp6"]) or dport
    key = {"proto": proto, "src": addr(r["ip_src"]), "dst": addr(r["ip_dst"]),
           "sport": sport, "dport": dport,
           "in_if": r["iface_in"], "out_if": r["iface_out"],
           "direction": int(r["flow_dir"])}
    return key, r["flows"], r["packets"], r["bytes"]


def nfacctd_main(path):
    # print_output_file_append: every purge added its lines; sum them all.
    with open(path) as f:
        return summed(nfacctd_record(json.loads(line))
                      for line in f if line.strip())


# ---- flowacct's own records -------------------------------------------------

def records_main(path):
    """flowacct run --json: "flow" lines; a line that is not JSON (a killed
    daemon's last one) is skipped, and a record seen before (the same
    instance and seq, written again after a kill) counted once, as a reader
    of the file would."""
    rows = []
    seen = set()
    with open(path) as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("type") != "flow" or (r["instance"], r["seq"]) in seen:
                continue
            seen.add((r["instance"], r["seq"]))
            egress = r["direction"] == "egress"
            key = {"proto": r["proto"],
                   "src": addr(r["src"]) if r["src"] else "-",
                   "dst": addr(r["dst"]) if r["dst"] else "-",
                   "sport": r["sport"], "dport": r["dport"],
                   "in_if": 0 if egress else r["ifindex"],
                   "out_if": r["ifindex"] if egress else 0,
                   "direction": 1 if egress else 0}
            rows.append((key, 1, r["packets"], r["bytes"]))
    return summed(rows)


# ---- the traffic itself ----------------------------------------------------

def pcap_main(capture):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.dont_write_bytecode = True     # no __pycache__ in the work tree
    from check_tshark import tshark_flows
    flows, _, _ = tshark_flows(capture)
    return summed(({"proto": proto, "src": addr(src), "dst": addr(dst),
                    "sport": sport, "dport": dport}, 1, v[0], v[1])
                  for (_, proto, src, dst, sport, dport), v in flows.items())


# ---- the export as tshark dissects it --------------------------------------

def field(elem, name):
    """The show= of the first field NAME under elem, or None."""
    f = elem.find(f".//field[@name='{name}']")
    return None if f is None else f.get("show")


def child(elem, name):
    f = elem.find(f"field[@name='{name}']")
    return None if f is None else f.get("show")


class Export:
    """What the checks need, gathered one packet at a time."""

    LIST_MAX = 20   # examples kept of each kind of failure

    def __init__(self, port):
        self.port = port
        self.messages = self.data_records = self.template_records = 0
        self.largest = 0
        self.template_ids = set()
        self.data_set_ids = set()
        self.not_ipfix = []
        self.length_mismatch = []
        self.bad_set_ids = []
        self.undefined = []
        self.malformed = []
        self.expert = {}
        self.domains = {}

    def note(self, lst, item):
        if len(lst) < self.LIST_MAX:
            lst.append(item)

    def packet(self, pkt):
        frame = int(field(pkt, "frame.number"))
        if any(p.get("name") == "_ws.malformed" for p in pkt.iter("proto")):
            self.note(self.malformed, frame)
        for e in pkt.iter("field"):
            if e.get("name") == "_ws.expert":
                # "Expert Info (Warning/Sequence): message"
                kind = e.get("showname", "").partition("(")[2].partition(")")[0]
                self.expert[kind] = self.expert.get(kind, 0) + 1
        if field(pkt, "udp.dstport") != str(self.port):
            return
        self.messages += 1
        payload = int(field(pkt, "udp.length")) - 8
        self.largest = max(self.largest, payload)
        cflow = pkt.find("proto[@name='cflow']")
        if cflow is None or child(cflow, "cflow.version") != "10":
            self.note(self.not_ipfix, frame)
            return
        length = int(child(cflow, "cflow.len"))
        if length != payload:
            self.note(self.length_mismatch,
                      {"frame": frame, "ipfix": length, "udp_payload": payload})
        src = field(pkt, "ip.src") or field(pkt, "ipv6.src")
        dst = field(pkt, "ip.dst") or field(pkt, "ipv6.dst")
        if ":" in src:
            src, dst = f"[{src}]", f"[{dst}]"
        name = (f"{src}:{field(pkt, 'udp.srcport')}>{dst}:{self.port}"
                f"/od={child(cflow, 'cflow.od_id')}")
        dom = self.domains.setdefault(name, {
            "messages": 0, "data_records": 0, "options_records": 0,
            "templates": set(), "options_templates": set(),
            "sequence_errors": 0, "errors": [],
            "models": set(SEQUENCE_MODELS)})
        records = options_records = 0
        for s in cflow.findall("field"):
            set_id = child(s, "cflow.flowset_id")
            if set_id is None:
                continue
            set_id = int(set_id)
            if set_id in (2, 3):
                for t in s.findall("field"):
                    tid = child(t, "cflow.template_id")
                    if tid is not None:
                        self.template_records += 1
                        self.template_ids.add(int(tid))
                        dom["templates"].add(int(tid))
                        if set_id == 3:
                            dom["options_templates"].add(int(tid))
            elif set_id >= 256:
                self.data_set_ids.add(set_id)
                if set_id not in dom["templates"]:
                    self.note(self.undefined,
                              {"frame": frame, "domain": name, "set_id": set_id})
                # tshark names each record "Flow N", Options Data too.
                n = sum(1 for r in s.findall("field")
                        if r.get("show", "").startswith("Flow "))
                records += n
                if set_id in dom["options_templates"]:
                    options_records += n
            else:
                self.note(self.bad_set_ids, {"frame": frame, "set_id": set_id})
        seq = int(child(cflow, "cflow.sequence"))
        want = dom["data_records"] % 2**32
        if seq != want:
            dom["sequence_errors"] += 1
            self.note(dom["errors"], {"frame": frame, "expected": want, "got": seq,
                                      "records_in_message": records})
        # Which ways of counting explain this number, to say precisely how
        # an exporter that fails the check counts.
        before, before_opt = dom["data_records"], dom["options_records"]
        counts = {
            "rfc7011": before,
            "without_options_records": before - before_opt,
            "with_own_records": before + records,
            "with_own_records_without_options_records":
                before + records - before_opt - options_records,
        }
        dom["models"] &= {m for m, c in counts.items() if c % 2**32 == seq}
        dom["messages"] += 1
        dom["data_records"] += records
        dom["options_records"] += options_records
        self.data_records += records

    def report(self, max_message):
        domains = {}
        for name, d in self.domains.items():
            domains[name] = {
                "messages": d["messages"], "data_records": d["data_records"],
                "options_data_records": d["options_records"],
                "template_ids": sorted(d["templates"]),
                "options_template_ids": sorted(d["options_templates"]),
                "sequence_errors": d["sequence_errors"],
                "sequence_error_examples": d["errors"],
                "sequence_models": sorted(d["models"])}
        checks = {
            "has_messages": self.messages > 0,
            "all_ipfix": not self.not_ipfix,
            "lengths": not self.length_mismatch,
            "set_ids_valid": not self.bad_set_ids,
            "templates_before_data": not self.undefined,
            "sequence": all(d["sequence_errors"] == 0 for d in self.domains.values()),
            "not_malformed": not self.malformed,
        }
        if max_message is not None:
            checks["max_message"] = self.largest <= max_message
        return {
            "messages": self.messages,
            "data_records": self.data_records,
            "template_records": self.template_records,
            "template_ids": sorted(self.template_ids),
            "data_set_ids": sorted(self.data_set_ids),
            "largest_udp_payload": self.largest,
            "max_message": max_message,
            "domains": domains,
            "not_ipfix_frames": self.not_ipfix,
            "length_mismatches": self.length_mismatch,
            "bad_set_ids": self.bad_set_ids,
            "data_before_template": self.undefined,
            "malformed_frames": self.malformed,
            "expert": self.expert,
            "checks": checks,
            "failed": [c for c, ok in checks.items() if not ok],
        }


def tshark_main(capture, port, max_message):
    export = Export(port)
    cmd = ["tshark", "-n", "-r", capture, "-d", f"udp.port=={port},cflow", "-T", "pdml"]
    # PDML is large (kilobytes per message): parse it as it comes.
    with tempfile.TemporaryFile(mode="w+") as err:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
        for _, elem in ET.iterparse(p.stdout):
            if elem.tag == "packet":
                export.packet(elem)
                elem.clear()
        if p.wait() != 0:
            err.seek(0)
            die(f"{' '.join(cmd)}: exit {p.returncode}: {err.read().strip()}")
    return export.report(max_message)


# What "drops" prints of each Flow record: tshark's field for each element.
DROP_FIELDS = {"sport": "cflow.srcport", "dport": "cflow.dstport", "packets": "cflow.packets",
               "proto": "cflow.protocol",
               "segment": "cflow.layer2_segment_id",
               "bytes": "cflow.octets", "drop_packets": "cflow.drop_packets",
               "drop_bytes": "cflow.drop_octets",
               "forwarding_status": "cflow.forwarding_status"}


def drops_main(capture, port):
    cmd = ["tshark", "-n", "-r", capture, "-d", f"udp.port=={port},cflow", "-T", "pdml"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        die(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()}")
    flows = []
    pens = set()
    for f in ET.fromstring(p.stdout).iter("field"):
        # The enterprise numbers the templates put elements under.
        if f.get("name") == "cflow.template_ipfix_field_pen":
            pens.add(int(f.get("show")))
        if not f.get("show", "").startswith("Flow "):
            continue
        r = {}
        for k, name in DROP_FIELDS.items():
            e = f.find(f".//field[@name='{name}']")
            if e is not None:
                r[k] = int(e.get("show"))
        for k, names in (("src", ("cflow.srcaddr", "cflow.srcaddrv6")),
                         ("dst", ("cflow.dstaddr", "cflow.dstaddrv6"))):
            for name in names:
                e = f.find(f".//field[@name='{name}']")
                if e is not None:
                    r[k] = e.get("show")
        # forwardingStatus as the byte on the wire: tshark shows its top two
        # bits (the status) and the code below them apart.
        if "forwarding_status" in r:
            for c in ("drop", "forward", "consume", "unknown"):
                e = f.find(f".//field[@name='cflow.forwarding_status_{c}_code']")
                if e is not None:
                    r["forwarding_status"] = r["forwarding_status"] << 6 | int(e.get("show"))
                    break
        # Enterprise-specific elements (tshark knows no names for them):
        # "PEN/type" -> the value's bytes in hex.
        for e in f.iter("field"):
            if e.get("name") == "cflow.enterprise_private_entry":
                m = re.search(r"\(([^)]*)\) Type (\d+):", e.get("showname", ""))
                if m:
                    r.setdefault("enterprise", {})[m.group(2)] = e.get("value")
        if "packets" in r:
            flows.append(r)
    return {"flows": flows, "pens": sorted(pens)}


# ---- compare ---------------------------------------------------------------

def compare_main(a_path, b_path, fields, counters):
    a, b = (json.load(open(p)) for p in (a_path, b_path))
    if fields is None:
        have = [set(r) for r in a["flows"][:1] + b["flows"][:1]]
        fields = [f for f in KEY if all(f in h for h in have)]

    def by_key(out):
        acc = {}
        for r in out["flows"]:
            s = acc.setdefault(tuple(r[f] for f in fields), dict.fromkeys(counters, 0))
            for c in counters:
                s[c] += r[c]
        return acc

    ka, kb = by_key(a), by_key(b)
    diff = {
        "key": fields,
        "counters": counters,
        "only_a": [dict(zip(fields, k), **ka[k]) for k in ka if k not in kb],
        "only_b": [dict(zip(fields, k), **kb[k]) for k in kb if k not in ka],
        "differ": [{"key": dict(zip(fields, k)), "a": ka[k], "b": kb[k]}
                   for k in ka if k in kb and ka[k] != kb[k]],
        "totals": {"a": a["totals"], "b": b["totals"]},
    }
    diff["equal"] = not (diff["only_a"] or diff["only_b"] or diff["differ"])
    return diff


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    sub.add_parser("nfdump").add_argument("dir")
    sub.add_parser("nfacctd").add_argument("outfile")
    sub.add_parser("pcap").add_argument("capture")
    sub.add_parser("records").add_argument("file")
    t = sub.add_parser("tshark")
    t.add_argument("capture")
    t.add_argument("--port", type=int, required=True)
    t.add_argument("--max-message", type=int)
    t.add_argument("--strict", action="store_true")
    d = sub.add_parser("drops")
    d.add_argument("capture")
    d.add_argument("--port", type=int, required=True)
    c = sub.add_parser("compare")
    c.add_argument("a")
    c.add_argument("b")
    c.add_argument("--key", help="comma-separated fields of the key")
    c.add_argument("--counters", default="flows,packets,bytes",
                   help="comma-separated counters that must be equal")
    args = ap.parse_args()

    status = 0
    if args.mode == "nfdump":
        out = nfdump_main(args.dir)
    elif args.mode == "nfacctd":
        out = nfacctd_main(args.outfile)
    elif args.mode == "pcap":
        out = pcap_main(args.capture)
    elif args.mode == "records":
        out = records_main(args.file)
    elif args.mode == "drops":
        out = drops_main(args.capture, args.port)
    elif args.mode == "tshark":
        out = tshark_main(args.capture, args.port, args.max_message)
        status = 1 if args.strict and out["failed"] else 0
    else:
        out = compare_main(args.a, args.b, args.key.split(",") if args.key else None,
                           args.counters.split(","))
        status = 0 if out["equal"] else 1
    json.dump(out, sys.stdout, indent=1)
    print()
    sys.exit(status)


if __name__ == "__main__":
    main()
