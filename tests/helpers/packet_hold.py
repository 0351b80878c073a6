#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""A packet socket (a capture without a ring, as older tools and some
agents open) on DEV that takes the packets DEV sends and never reads.

    packet_hold.py --dev DEV --ready FILE --go FILE

Its buffer is the smallest the kernel allows, so that it fills at once; each
outgoing packet reaches it as a clone of its own, which the kernel frees as
a drop (PACKET_SOCK_ERROR) once the buffer is full. A classic BPF filter
keeps only outgoing packets (a received packet is shared with the stack,
not cloned: its loss frees nothing). Touches READY once open, waits for GO,
then prints {"drops": N} from PACKET_STATISTICS: the kernel's own count of
what it could not queue.
"""

import argparse
import ctypes
import json
import os
import socket
import struct
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_ATTACH_FILTER = 26
# ld pkttype (SKF_AD_OFF + SKF_AD_PKTTYPE); jeq PACKET_OUTGOING; ret all; ret 0
FILTER = [
    (0x20, 0, 0, 0xfffff004),
    (0x15, 0, 1, 4),
    (0x06, 0, 0, 0xffffffff),
    (0x06, 0, 0, 0),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dev", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--go", required=True)
    a = ap.parse_args()

    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    prog = b"".join(struct.pack("HBBI", *i) for i in FILTER)
    buf = bytearray(prog)
    cbuf = (ctypes.c_char * len(buf)).from_buffer(buf)
    fprog = struct.pack("HL", len(FILTER), ctypes.addressof(cbuf))
    s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
    s.bind((a.dev, ETH_P_ALL))
    # What queued before the filter was on is read away: from here on the
    # statistics are the test's.
    s.setblocking(False)
    try:
        while True:
            s.recv(65536)
    except BlockingIOError:
        pass
    s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)	# reading it resets it
    open(a.ready, "w").close()
    deadline = time.monotonic() + 60
    while not os.path.exists(a.go) and time.monotonic() < deadline:
        time.sleep(0.05)
    packets, drops = struct.unpack("II", s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
    print(json.dumps({"packets": packets, "drops": drops}))


if __name__ == "__main__":
    main()
