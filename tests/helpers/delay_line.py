#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""A user-space delay line standing in for netem, which this kernel lacks.

    delay_line.py --ns-a NSA --dev-a TAP_A --ns-b NSB --dev-b TAP_B
                  --delay-ms D [--timeout S] [--ready-file PATH]

Creates tap TAP_A in netns NSA and TAP_B in NSB (names under /run/netns) and
forwards every frame read from one to the other D ms after it was read, in
order, so the two namespaces see an L2 link with a one-way delay of D ms and
an RTT of 2D. The caller brings the taps up and gives them addresses; the
taps vanish when this exits (SIGTERM, SIGINT or after --timeout seconds).
At exit one line on stderr gives the frames forwarded each way and the
largest lateness of a frame past its due time (taken when its write returns,
so it includes the kernel's handling of the frame on the far side). Meant for
light traffic (pings, request/response): at a few 10k frames/s Python falls
behind and frames leave late.
"""

import argparse
import collections
import ctypes
import errno
import fcntl
import os
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000
RETRY_S = 0.0002
# Waking from select is late by 0.05-0.8 ms here (a VM), so it is asked to
# wake this early and the rest is spent polling.
SPIN_S = 0.001
READ_BURST = 64
libc = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def open_tap(ns, name):
    # A tap lands in the netns its /dev/net/tun fd was opened in.
    nsfd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        setns(nsfd)
    finally:
        os.close(nsfd)
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


class Direction:
    def __init__(self, src, dst):
        self.src, self.dst = src, dst
        self.queue = collections.deque()  # (due, frame); a fixed delay keeps it sorted
        self.retry_at = 0.0
        self.sent = self.retries = self.dropped = 0

    def next_time(self):
        return max(self.queue[0][0], self.retry_at) if self.queue else None

    def read_all(self, delay):
        # Capped so that a flood on one side cannot hold up due frames.
        for _ in range(READ_BURST):
            try:
                frame = os.read(self.src, 65536 + 4096)
            except BlockingIOError:
                return
            self.queue.append((time.monotonic() + delay, frame))

    def flush(self, now, late):
        while self.queue and self.queue[0][0] <= now and self.retry_at <= now:
            due, frame = self.queue[0]
            try:
                os.write(self.dst, frame)
            except OSError as e:
                if e.errno in (errno.EAGAIN, errno.ENOBUFS):
                    # Transient: keep the frame at the head so order holds.
                    self.retries += 1
                    self.retry_at = now + RETRY_S
                    return late
                # Peer tap down (EIO) or the like: no way to deliver it.
                self.dropped += 1
            else:
                self.sent += 1
                late = max(late, time.monotonic() - due)
            self.queue.popleft()
        return late


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ns-a", required=True)
    ap.add_argument("--dev-a", required=True)
    ap.add_argument("--ns-b", required=True)
    ap.add_argument("--dev-b", required=True)
    ap.add_argument("--delay-ms", type=float, required=True)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--ready-file")
    a = ap.parse_args()
    delay = a.delay_ms / 1000.0

    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    try:
        fa = open_tap(a.ns_a, a.dev_a)
        fb = open_tap(a.ns_b, a.dev_b)
    finally:
        setns(home)
        os.close(home)

    # Signals write to a pipe that select watches, so a stop never lands mid-write.
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)

    if a.ready_file:
        tmp = a.ready_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{os.getpid()}\n")
        os.rename(tmp, a.ready_file)  # the caller never sees a half-written file

    ab, ba = Direction(fa, fb), Direction(fb, fa)
    deadline = time.monotonic() + a.timeout
    late = 0.0
    while True:
        now = time.monotonic()
        late = ab.flush(now, late)
        late = ba.flush(now, late)
        wake = min(t for t in (ab.next_time(), ba.next_time(), deadline) if t is not None)
        if now >= deadline:
            break
        wait = wake - now - (SPIN_S if wake < deadline else 0.0)
        r, _, _ = select.select([fa, fb, wake_r], [], [], max(0.0, wait))
        if wake_r in r:
            break
        if fa in r:
            ab.read_all(delay)
        if fb in r:
            ba.read_all(delay)

    os.close(fa)
    os.close(fb)
    print(f"delay_line: {a.dev_a}->{a.dev_b} {ab.sent} frames, "
          f"{a.dev_b}->{a.dev_a} {ba.sent} frames, max lateness {late * 1000:.3f} ms, "
          f"write retries {ab.retries + ba.retries}, dropped {ab.dropped + ba.dropped}, "
          f"unsent at exit {len(ab.queue) + len(ba.queue)}", file=sys.stderr)


if __name__ == "__main__":
    main()
