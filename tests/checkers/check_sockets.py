#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Checks for tests/suites/test_sockets.sh, and the small clients it runs.

  join     rows of `flowacct -j dump` against ss (cookie, process) and what
           the test started (pids, cgroup inode and path)
  retrans  a bulk flow's retransmissions against nstat, ss and the
           socket table's kernel counts (iperf3 -J's as a lower bound)
  rtt      a flow's socket RTT against the delay line's 2D and ss
  send     connect, send N bytes, wait until all are acked, hold the socket
           open until told to let go
  pingpong connect, send 100 bytes every T s and read the echo
"""

import argparse
import json
import os
import socket
import struct
import sys
import time
import fcntl

SIOCOUTQ = 0x5411


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def load_rows(path):
    with open(path) as f:
        doc = json.load(f)
    return [r for r in doc["flows"] if r.get("ip_version") and r["proto"] == 6]


def load_ss(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def local_remote(row):
    """The socket's view of a row: (local, lport, remote, rport)."""
    if row["direction"] == "egress":
        return row["src"], row["sport"], row["dst"], row["dport"]
    return row["dst"], row["dport"], row["src"], row["sport"]


def ss_of(row, ss):
    want = local_remote(row)
    for s in ss:
        if (s["local"], s["lport"], s["remote"], s["rport"]) == want:
            return s
    return None


def check_owner(what, r, pid, comm, cg, path, cid):
    if not r["process"] or r["process"]["pid"] != pid or r["process"]["comm"] != comm:
        fail("%s: process %s, expected %s[%d]" % (what, r["process"], comm, pid))
    c = r["cgroup"]
    if not c or (cg is not None and c["id"] != cg) or c["path"] != path:
        fail("%s: cgroup %s, expected id %s path %s" % (what, c, cg, path))
    got = r["container"]["id"] if r["container"] else None
    if got != cid:
        fail("%s: container %s, expected id %s" % (what, r["container"], cid))


def check_udp(a):
    """UDP egress rows to a port: the process that created the socket."""
    with open(a.dump) as f:
        rows = json.load(f)["flows"]
    for spec in a.udp:
        port, comm, pid, cg, path, cid = spec.split(":")
        got = [r for r in rows if r.get("proto") == 17 and r["direction"] == "egress"
               and r["dport"] == int(port)]
        if not got:
            fail("no UDP egress row to port %s" % port)
        for r in got:
            if r["socket_cookie"] is None:
                fail("UDP row to port %s has no socket_cookie" % port)
            check_owner("udp to %s" % port, r, int(pid), comm,
                        None if cg == "-" else int(cg), path, cid or None)


def check_join(a):
    rows, ss = load_rows(a.dump), load_ss(a.ss)
    expect = {}
    for e in a.expect:
        comm, pid, cg, path, *cid = e.split(":")
        expect[int(pid)] = (comm, None if cg == "-" else int(cg), path, cid[0] if cid else None)
    listeners = {int(p): int(pid) for p, pid in (x.split(":") for x in a.listeners.split())}
    matched, seen = 0, set()
    for r in rows:
        s = ss_of(r, ss)
        if not s or "cookie" not in s:
            continue
        what = "%s %s:%d > %s:%d" % (r["direction"], r["src"], r["sport"], r["dst"], r["dport"])
        if r["socket_cookie"] != s["cookie"]:
            fail("%s: socket_cookie %s, ss sk: %d" % (what, r["socket_cookie"], s["cookie"]))
        lport = local_remote(r)[1]
        pid = listeners.get(lport, s.get("pid"))
        if pid not in expect:
            continue    # a socket the test did not start a process for
        check_owner(what, r, pid, *expect[pid])
        if r["netns"] is None:
            fail("%s: no netns" % what)
        if a.metrics:
            t = r["tcp"]
            if not t or t["state"] != "ESTABLISHED" or t["cwnd"] <= 0 or t["srtt_us"] <= 0:
                fail("%s: tcp %s" % (what, t))
        matched += 1
        seen.add(pid)
    if matched < a.min_rows:
        for r in rows:
            print("row", local_remote(r), r["direction"], r["socket_cookie"], r["process"], file=sys.stderr)
        for s in ss:
            print("ss ", s, file=sys.stderr)
        fail("%d rows matched a socket of ss, expected at least %d" % (matched, a.min_rows))
    missing = set(expect) - seen
    if missing:
        fail("no row of pids %s" % sorted(missing))
    check_udp(a)
    print("ok: %d rows, pids %s" % (matched, sorted(seen)))


def check_retrans(a):
    rows = [r for r in load_rows(a.dump) if r["direction"] == "egress" and r["dport"] == 5201]
    if not rows:
        fail("no egress row to port 5201")
    if a.sport:
        rows = [r for r in rows if r["sport"] == a.sport]
        if not rows:
            fail("no egress row from port %d" % a.sport)
    r = max(rows, key=lambda r: r["bytes"])
    got, got_bytes = r["retrans_segs"], r["retrans_bytes"]
    facts = ["flowacct %s segs %s bytes" % (got, got_bytes), "nstat %d" % a.nstat]
    if got is None or got != a.nstat or got < a.min:
        fail("retransmitted segments: " + ", ".join(facts))
    if a.iperf:
        with open(a.iperf) as f:
            ip = json.load(f)["end"]["sum_sent"]["retransmits"]
        facts.append("iperf3 %d" % ip)
        # iperf3 reads tcpi_total_retrans when its timer ends the test;
        # what is still queued then is sent, and may be resent, after it
        # looked. nstat, read after the client exited, is the exact count.
        if ip > got:
            fail("iperf3: " + ", ".join(facts))
    if a.forwarded:
        if r["process"] is not None or r["socket_cookie"] is not None or r["tcp"] is not None:
            fail("forwarded row has a socket: %s" % r)
        p = r["passive_rtt"]
        if not p or not p["samples"] or not p["min_us"]:
            fail("forwarded row has no passive RTT: %s" % p)
        facts.append("passive RTT %s" % p)
    else:
        t = r["tcp"]
        if not t or t["retrans"] != got or t["retrans_bytes"] != got_bytes:
            fail("socket table %s: %s" % (t, ", ".join(facts)))
        facts.append("sockops %d segs %d bytes" % (t["retrans"], t["retrans_bytes"]))
    if a.passive:
        p = r["passive_rtt"]
        if not p or not p["samples"] or not p["min_us"]:
            fail("no passive RTT on the flow: %s" % p)
        facts.append("passive RTT %s" % p)
    if a.ss:
        s = ss_of(r, load_ss(a.ss))
        if not s:
            fail("no ss socket for the flow")
        facts.append("ss %s segs %s bytes" % (s.get("retrans_total"), s.get("bytes_retrans")))
        if s.get("retrans_total", 0) != got or s.get("bytes_retrans", 0) != got_bytes:
            fail("ss: " + ", ".join(facts))
    print("ok: " + ", ".join(facts))


def check_rtt(a):
    rows = [r for r in load_rows(a.dump) if r["direction"] == "egress" and r["dport"] == a.dport]
    if not rows or not rows[0]["tcp"]:
        fail("no egress row to port %d with socket metrics: %s" % (a.dport, rows))
    r, t = rows[0], rows[0]["tcp"]
    s = ss_of(r, load_ss(a.ss))
    if not s or "rtt_ms" not in s:
        fail("no ss socket for the flow")
    two_d = 2 * a.delay_ms * 1000
    facts = "srtt %d us, min %d us, ss rtt %.3f ms minrtt %s ms, 2D %d us" % (
        t["srtt_us"], t["min_rtt_us"], s["rtt_ms"], s.get("minrtt_ms"), two_d)
    if not two_d <= t["min_rtt_us"] <= two_d + 1000:
        fail("min RTT outside [2D, 2D + 1 ms]: " + facts)
    if abs(t["srtt_us"] - two_d) > 0.1 * two_d:
        fail("srtt not within 10% of 2D: " + facts)
    ss_us = s["rtt_ms"] * 1000
    if abs(t["srtt_us"] - ss_us) > max(0.05 * ss_us, 300):
        fail("srtt not within max(5%, 0.3 ms) of ss: " + facts)
    if a.passive:
        p = r["passive_rtt"]
        facts += ", passive %s" % p
        if not p or "minrtt_ms" not in s or abs(p["min_us"] - s["minrtt_ms"] * 1000) > 0.05 * s["minrtt_ms"] * 1000:
            fail("passive RTT's minimum not within 5% of ss's minrtt: " + facts)
    print("ok: " + facts)


def send(a):
    host, port = a.to.rsplit(":", 1)
    sk = socket.create_connection((host, int(port)))
    sk.sendall(b"\0" * a.bytes)
    deadline = time.time() + 15
    # Everything acked: no retransmission can come after ss looks.
    while struct.unpack("i", fcntl.ioctl(sk, SIOCOUTQ, b"\0" * 4))[0] and time.time() < deadline:
        time.sleep(0.01)
    with open(a.hold + ".tmp", "w") as f:
        f.write("%d\n" % sk.getsockname()[1])
    os.rename(a.hold + ".tmp", a.hold)
    while not os.path.exists(a.release) and time.time() < deadline:
        time.sleep(0.05)
    sk.close()


def pingpong(a):
    host, port = a.to.rsplit(":", 1)
    sk = socket.create_connection((host, int(port)))
    sk.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    msg = b"x" * 100
    nxt = time.monotonic()
    for _ in range(a.count):
        sk.sendall(msg)
        got = 0
        while got < len(msg):
            chunk = sk.recv(len(msg) - got)
            if not chunk:
                return
            got += len(chunk)
        nxt += a.every
        time.sleep(max(0, nxt - time.monotonic()))
    sk.close()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    j = sub.add_parser("join")
    j.add_argument("--dump", required=True)
    j.add_argument("--ss", required=True)
    j.add_argument("--expect", action="append", default=[])
    j.add_argument("--listeners", default="")
    j.add_argument("--udp", action="append", default=[],
                   help="PORT:COMM:PID:CGROUP-ID:PATH:CONTAINER of UDP rows sent to PORT")
    j.add_argument("--min-rows", type=int, default=1)
    j.add_argument("--metrics", action="store_true")
    r = sub.add_parser("retrans")
    r.add_argument("--dump", required=True)
    r.add_argument("--nstat", type=int, required=True)
    r.add_argument("--iperf")
    r.add_argument("--ss")
    r.add_argument("--min", type=int, default=0)
    r.add_argument("--forwarded", action="store_true")
    r.add_argument("--sport", type=int, help="the flow's source port")
    r.add_argument("--passive", action="store_true", help="the flow has a passive RTT")
    t = sub.add_parser("rtt")
    t.add_argument("--dump", required=True)
    t.add_argument("--ss", required=True)
    t.add_argument("--delay-ms", type=int, required=True)
    t.add_argument("--dport", type=int, required=True)
    t.add_argument("--passive", action="store_true", help="check passive_rtt too")
    s = sub.add_parser("send")
    s.add_argument("--to", required=True)
    s.add_argument("--bytes", type=int, required=True)
    s.add_argument("--hold", required=True)
    s.add_argument("--release", required=True)
    g = sub.add_parser("pingpong")
    g.add_argument("--to", required=True)
    g.add_argument("--every", type=float, required=True)
    g.add_argument("--count", type=int, required=True)
    a = p.parse_args()
    {"join": check_join, "retrans": check_retrans, "rtt": check_rtt,
     "send": send, "pingpong": pingpong}[a.cmd](a)


main()
