#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Checks sampled frames against the capture they were sampled from.

    check_samples.py IN.pcap OUT.pcap --every N --snaplen S
    check_samples.py IN.pcap OUT.pcap --subset --snaplen S   (count only)

--every: OUT must hold exactly frames N, 2N, 3N, ... of IN, in order, each
the first S bytes of the frame with its original length and timestamp.
--subset: every frame of OUT must be one of IN's (same bytes, length and
time), in IN's order; prints how many. Reads pcap files itself (only what
the generator and flowacct write: little-endian, micro- or nanosecond).
"""

import argparse
import struct
import sys


def read_pcap(path):
    data = open(path, "rb").read()
    magic = struct.unpack_from("<I", data)[0]
    scale = {0xA1B2C3D4: 1000, 0xA1B23C4D: 1}[magic]
    off, frames = 24, []
    while off < len(data):
        sec, frac, caplen, length = struct.unpack_from("<IIII", data, off)
        frames.append((sec * 1_000_000_000 + frac * scale, data[off + 16:off + 16 + caplen], length))
        off += 16 + caplen
    return frames


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--every", type=int)
    ap.add_argument("--subset", action="store_true")
    ap.add_argument("--snaplen", type=int, required=True)
    a = ap.parse_args()
    src, got = read_pcap(a.inp), read_pcap(a.out)
    want = [(ts, d[:a.snaplen], n) for ts, d, n in src]
    errors = []
    if a.every:
        expect = want[a.every - 1::a.every]
        if len(got) != len(expect):
            errors.append("%d frames sampled, want %d (every %dth of %d)"
                          % (len(got), len(expect), a.every, len(src)))
        for i, (g, w) in enumerate(zip(got, expect)):
            if g != w:
                errors.append("sample %d (frame %d): got len %d/%d ts %d, want len %d/%d ts %d%s"
                              % (i + 1, (i + 1) * a.every, len(g[1]), g[2], g[0], len(w[1]),
                                 w[2], w[0], "" if g[1] == w[1] else ", bytes differ"))
    else:
        j = 0
        for i, g in enumerate(got):
            while j < len(want) and want[j] != g:
                j += 1
            if j == len(want):
                errors.append("sample %d is not a frame of the input (in order)" % (i + 1))
                break
            j += 1
    for e in errors[:20]:
        print(e)
    print("%d of %d frames sampled" % (len(got), len(src)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
