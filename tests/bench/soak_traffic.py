#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The churning traffic of tests/bench/soak.sh, and what it sent.

    soak_traffic.py send --src4 A --dst4 B --src6 A6 --dst6 B6 --seconds S
                         [--new-rate R] [--long N] [--long-rate R] [--idle N]
                         [--idle-gap S] [--tcp-rate R] [--rst-every K] [--tcp-port P]
    soak_traffic.py listen --addr B --port P

send, for S seconds, from one raw UDP socket per family (UDP headers
written here, so no flow needs a socket or a port of its own):
  new   R flows a second that each send one datagram and never again
        (IPv4 and IPv6 in turn; source ports 10000-29999, the destination
        port stepping each time they wrap, so no flow repeats for hours)
  long  N flows sending all the time, R datagrams a second each (ports
        40000 + i -> 7): the active timeout cuts their records
  idle  N flows that send one datagram every S seconds (ports 41000 + i ->
        7), past the idle timeout, so each leaves and comes back
and, from a thread of its own, TCP connections to --tcp-port at R a second
that send a few hundred bytes and close with FIN, every K-th with RST
(SO_LINGER 0). Prints one JSON object: per UDP kind the datagrams and their
IP-layer bytes (IPv4 20 + 8 + payload, IPv6 40 + 8 + payload) sent, the
flows started, the TCP connections closed each way, and the errors (a
datagram the kernel refused is not counted as sent, and is an error).

listen: a TCP server on ADDR:PORT that reads every connection to its end,
one thread per connection, until killed.
"""

import argparse
import json
import socket
import struct
import sys
import threading
import time

NEW_SPORT, NEW_SPORTS = 10000, 20000
NEW_DPORT = 1000
LONG_SPORT, IDLE_SPORT, SINK_DPORT = 40000, 41000, 7


def udp_socket(v6, src):
    if v6:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_UDP)
        # The kernel computes the UDP checksum at this offset.
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_CHECKSUM, 6)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
    s.bind((src, 0))
    return s


class Udp:
    def __init__(self, a):
        self.socks = {False: (udp_socket(False, a.src4), a.dst4),
                      True: (udp_socket(True, a.src6), a.dst6)}
        self.sent = {k: {"packets": 0, "bytes": 0, "flows": 0} for k in ("new", "long", "idle")}
        self.errors = []

    def send(self, kind, v6, sport, dport, size):
        sock, dst = self.socks[v6]
        payload = bytes(size)
        # IPv4 without a checksum (0), which UDP over IPv4 allows.
        hdr = struct.pack("!HHHH", sport, dport, 8 + size, 0)
        try:
            sock.sendto(hdr + payload, (dst, 0))
        except OSError as e:
            if len(self.errors) < 20:
                self.errors.append("%s %d>%d: %s" % (kind, sport, dport, e))
            else:
                self.errors[-1] = "(and more)"
            return
        s = self.sent[kind]
        s["packets"] += 1
        s["bytes"] += (40 if v6 else 20) + 8 + size


def tcp_loop(a, stop, out):
    """Connections at --tcp-rate a second until stop is set."""
    n = 0
    t0 = time.monotonic()
    while not stop.is_set():
        due = t0 + n / a.tcp_rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
            continue
        n += 1
        rst = a.rst_every and n % a.rst_every == 0
        try:
            c = socket.create_connection((a.dst4, a.tcp_port), timeout=5)
            c.sendall(bytes(100 + n % 700))
            if rst:
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
            out["rst" if rst else "fin"] += 1
        except OSError as e:
            out["errors"].append("tcp %d: %s" % (n, e))
            if len(out["errors"]) > 20:
                return


def send(a):
    udp = Udp(a)
    tcp = {"fin": 0, "rst": 0, "errors": []}
    stop = threading.Event()
    tcp_thread = None
    if a.tcp_rate > 0:
        tcp_thread = threading.Thread(target=tcp_loop, args=(a, stop, tcp))
        tcp_thread.start()
    t0 = time.monotonic()
    end = t0 + a.seconds
    new = 0
    long_period = 1.0 / a.long_rate if a.long_rate > 0 else None
    long_next = [t0 + i * (long_period or 0) / max(a.long, 1) for i in range(a.long)]
    # The idle flows spread over the gap, so that some leave every second.
    idle_next = [t0 + i * a.idle_gap / max(a.idle, 1) for i in range(a.idle)]
    long_started = set()
    idle_started = set()
    while True:
        now = time.monotonic()
        if now >= end:
            break
        # new flows: as many as are due by now
        due = int((now - t0) * a.new_rate)
        while new < due:
            v6 = bool(new & 1)
            sport = NEW_SPORT + new % NEW_SPORTS
            dport = NEW_DPORT + new // NEW_SPORTS
            udp.send("new", v6, sport, dport, 32 + new % 200)
            udp.sent["new"]["flows"] += 1
            new += 1
        if long_period:
            for i in range(a.long):
                if long_next[i] <= now:
                    udp.send("long", bool(i & 1), LONG_SPORT + i, SINK_DPORT, 500 + 100 * i)
                    long_started.add(i)
                    long_next[i] += long_period
        for i in range(a.idle):
            if idle_next[i] <= now:
                udp.send("idle", bool(i & 1), IDLE_SPORT + i, SINK_DPORT, 64)
                idle_started.add(i)
                idle_next[i] += a.idle_gap
        time.sleep(0.005)
    stop.set()
    if tcp_thread:
        tcp_thread.join()
    udp.sent["long"]["flows"] = len(long_started)
    udp.sent["idle"]["flows"] = len(idle_started)
    json.dump({"seconds": a.seconds, "udp": udp.sent,
               "tcp": {"fin": tcp["fin"], "rst": tcp["rst"]},
               "errors": udp.errors + tcp["errors"]}, sys.stdout)
    print()
    return 0


def listen(a):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((a.addr, a.port))
    srv.listen(256)

    def drain(c):
        try:
            while c.recv(65536):
                pass
        except OSError:
            pass	# the RSTs
        c.close()

    while True:
        c, _ = srv.accept()
        threading.Thread(target=drain, args=(c,), daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("--src4", required=True)
    s.add_argument("--dst4", required=True)
    s.add_argument("--src6", required=True)
    s.add_argument("--dst6", required=True)
    s.add_argument("--seconds", type=float, required=True)
    s.add_argument("--new-rate", type=float, default=500)
    s.add_argument("--long", type=int, default=8)
    s.add_argument("--long-rate", type=float, default=20)
    s.add_argument("--idle", type=int, default=50)
    s.add_argument("--idle-gap", type=float, default=8)
    s.add_argument("--tcp-rate", type=float, default=10)
    s.add_argument("--rst-every", type=int, default=4)
    s.add_argument("--tcp-port", type=int, default=9000)
    l = sub.add_parser("listen")
    l.add_argument("--addr", required=True)
    l.add_argument("--port", type=int, default=9000)
    a = ap.parse_args()
    return send(a) if a.cmd == "send" else listen(a)


if __name__ == "__main__":
    sys.exit(main())
