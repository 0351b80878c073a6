#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""A UDP socket that holds its datagrams, then reads them all.

    udp_sink.py --bind ADDR --port P --rcvbuf BYTES --ready FILE --go FILE

Binds ADDR:P with SO_RCVBUF BYTES (the kernel doubles it, with a floor),
touches READY, reads nothing until GO exists (the sender is done: what did
not fit in the buffer was dropped, SOCKET_RCVBUFF), then reads every
datagram queued and prints {"read": N, "bytes": B} (B: payload bytes).
"""

import argparse
import json
import os
import socket
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rcvbuf", type=int, default=4096)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--go", required=True)
    a = ap.parse_args()

    family = socket.AF_INET6 if ":" in a.bind else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
    s.bind((a.bind, a.port))
    open(a.ready, "w").close()
    deadline = time.monotonic() + 60
    while not os.path.exists(a.go) and time.monotonic() < deadline:
        time.sleep(0.05)
    s.setblocking(False)
    n = b = 0
    while True:
        try:
            d = s.recv(65536)
        except BlockingIOError:
            break
        n += 1
        b += len(d)
    print(json.dumps({"read": n, "bytes": b}))


if __name__ == "__main__":
    main()
