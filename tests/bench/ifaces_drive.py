# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Interfaces coming and going, and light traffic on each, for the bench's
many-interfaces section (tests/bench/ifaces.sh). Run inside the section's
namespace (nsenter --net=...), as root.

  ifaces_drive.py --have FILE --first K --per-minute C --seconds S
                  [--light L] [--fresh F] [--pid PID] --out FILE

FILE (--have) names the bq interfaces there now, oldest first. For S
seconds, every 60/C s one new pair bqK/bpK appears (K counting up from
--first) and the oldest bq interface goes (ip link del), so that as many
stay as there were. Frames leave bpX by an AF_PACKET socket and arrive at
bqX's ingress, where the daemon counts them; the kernel then drops them
(no address here), and nothing answers.

- Light traffic: one UDP frame per interface every --light seconds (20),
  spread evenly over the interfaces, sport 30000 + the round.
- Attach latency, as test_follow_latency measures it: from just before
  `ip link add` of a new pair, a frame every 5 ms for 2 s then every 50 ms
  until --fresh seconds (10), each from its own source port (40000 up), the
  time each left noted; the first port in the daemon's records says when it
  began to count.
- --pid: the daemon's CPU seconds (user + system) over the S seconds.

Writes one JSON object: per new interface its creation time and each
port's send time (s since its `ip link add`), the interfaces deleted in
order, frames sent, and how long the ip commands took.
"""

import argparse
import json
import os
import queue
import socket
import struct
import subprocess
import threading
import time

FAST, FAST_FOR, SLOW = 0.005, 2.0, 0.05
SRC, DST = "198.51.100.2", "198.51.100.1"


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def frame(sport, dport):
    """An Ethernet frame, IPv4 UDP SRC:sport -> DST:dport, 18 bytes of data."""
    data = b"x" * 18
    udp = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                     socket.inet_aton(SRC), socket.inet_aton(DST))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    # To a locally administered MAC: nobody's, dropped after the hooks.
    return b"\x02\0\0\0\0\x01" + b"\x02\0\0\0\0\x02" + b"\x08\x00" + ip + udp


def ip(*args):
    subprocess.run(["ip"] + list(args), check=True)


class Drive:
    def __init__(self, have, light, fresh_for):
        self.lock = threading.Lock()
        self.live = list(have)          # bq names, oldest first
        self.fresh = {}                 # bq name -> [t0 monotonic, next port]
        self.created = {}
        self.deleted = []
        self.frames = 0
        self.ip_s = []
        self.light = light
        self.fresh_for = fresh_for
        self.stop = threading.Event()
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)

    def send(self, bq, sport, dport):
        try:
            self.sock.sendto(frame(sport, dport), ("bp" + bq[2:], 0))
            self.frames += 1
            return True
        except OSError:
            return False        # not up yet, or gone already

    def latency_sender(self):
        """Every 5 ms: each fresh interface whose next frame is due."""
        while not self.stop.is_set():
            now = time.monotonic()
            with self.lock:
                fresh = list(self.fresh.items())
            for bq, st in fresh:
                t = now - st[0]
                if t > self.fresh_for:
                    with self.lock:
                        del self.fresh[bq]
                    continue
                if st[2] > now:
                    continue
                port = st[1]
                if self.send(bq, port, 9):
                    self.created[bq]["sent"][port] = time.monotonic() - st[0]
                    st[1] += 1
                st[2] = now + (FAST if t < FAST_FOR else SLOW)
            time.sleep(FAST)

    def light_sender(self):
        """One frame per interface every self.light seconds, spread evenly."""
        rnd = 0
        while not self.stop.is_set():
            with self.lock:
                names = list(self.live)
            gap = self.light / max(len(names), 1)
            t = time.monotonic()
            for bq in names:
                if self.stop.is_set():
                    return
                self.send(bq, 30000 + rnd % 10000, 7)
                t += gap
                time.sleep(max(0.0, t - time.monotonic()))
            rnd += 1

    def deleter(self, q):
        while True:
            bq = q.get()
            if bq is None:
                return
            ip("link", "del", bq)
            with self.lock:
                self.deleted.append(bq)

    def add(self, k):
        bq, bp = "bq%d" % k, "bp%d" % k
        t0 = time.monotonic()
        ip("link", "add", bq, "type", "veth", "peer", "name", bp)
        ip("link", "set", bp, "up")
        ip("link", "set", bq, "up")
        self.ip_s.append(time.monotonic() - t0)
        with self.lock:
            self.created[bq] = {"sent": {}}
            self.fresh[bq] = [t0, 40000, 0.0]
            self.live.append(bq)
            return self.live.pop(0)


def cpu_s(pid):
    """Process PID's user + system CPU seconds (0 without a PID)."""
    if not pid:
        return 0.0
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--have", required=True)
    ap.add_argument("--first", type=int, required=True)
    ap.add_argument("--per-minute", type=float, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--light", type=float, default=20.0)
    ap.add_argument("--fresh", type=float, default=10.0)
    ap.add_argument("--pid", type=int)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    have = open(a.have).read().split()
    d = Drive(have, a.light, a.fresh)
    q = queue.Queue()
    threads = [threading.Thread(target=f) for f in (d.latency_sender, d.light_sender)]
    threads.append(threading.Thread(target=d.deleter, args=(q,)))
    for t in threads:
        t.start()
    start, every, k = time.monotonic(), 60.0 / a.per_minute, a.first
    cpu0 = cpu_s(a.pid)
    try:
        while True:
            due = start + (k - a.first + 0.5) * every
            if due >= start + a.seconds:
                break
            time.sleep(max(0.0, due - time.monotonic()))
            q.put(d.add(k))
            k += 1
        # The last ones' latency senders run out their time.
        time.sleep(max(0.0, start + a.seconds - time.monotonic()))
        cpu1, secs = cpu_s(a.pid), time.monotonic() - start
        while d.fresh:
            time.sleep(0.1)
    finally:
        q.put(None)
        d.stop.set()
        for t in threads:
            t.join()
    json.dump({"created": d.created, "deleted": d.deleted, "frames": d.frames,
               "live": d.live, "ip_s": d.ip_s, "seconds": secs, "cpu_s": cpu1 - cpu0},
              open(a.out, "w"))


if __name__ == "__main__":
    main()
