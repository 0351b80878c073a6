#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Reorders a TCP timestamp past a passive RTT's hooks, and says when.

    tsval_send.py --dev DEV --peer-netns NAME --peer-dev DEV
                  [--phase reorder|reuse] [--gap S]

Data segments leave this namespace's DEV (192.0.2.1:40001 to 192.0.2.2:7,
through an AF_PACKET socket, so through DEV's TC egress) and the peer's
ACKs leave NAME's DEV (a socket opened in that namespace by the same
process) for DEV's ingress hooks.

reorder (the default): data with TSval 10; S seconds (0.3) later data with
TSval 12, then data with TSval 11, as a segment the network reordered
carries; the echo of 10; data with TSval 12 again; the echo of 12. The one
sample to take is 10's, at least S. The second 12 is not its TSval's
first: the peer had the first one already, and timing the second would
give a sample of next to nothing.

reuse (after reorder): a new connection on the tuple, whose clock is
behind the last one's: a SYN (MSS, SACK permitted, TS: not the layout
data segments have), data with TSval 5, S seconds later its echo. The
sample, at least S, is the new connection's.

Every data segment and ACK has RFC 7323 Appendix A's layout (NOP, NOP,
TS). Prints one JSON object: the flow and the time from the timed segment
to its echo, in microseconds.
"""

import argparse
import ctypes
import json
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from gen_pcaps import ETH_P_IP, MAC_A, MAC_B, TCP, eth, ipv4, tcp  # noqa: E402

CLONE_NEWNET = 0x40000000
A, B, SPORT, DPORT = "192.0.2.1", "192.0.2.2", 40001, 7


def ts_option(tsval, tsecr):
    return b"\x01\x01\x08\x0a" + struct.pack("!II", tsval, tsecr)


def segment(src, dst, sport, dport, flags, tsval, tsecr, seq, ack, payload=b""):
    seg = tcp(sport, dport, flags, payload, seq=seq, ack=ack, options=ts_option(tsval, tsecr))
    return ipv4(src, dst, TCP, seg)


def packet_socket(dev):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((dev, 0))
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dev", required=True)
    ap.add_argument("--peer-netns", required=True)
    ap.add_argument("--peer-dev", required=True)
    ap.add_argument("--phase", choices=("reorder", "reuse"), default="reorder")
    ap.add_argument("--gap", type=float, default=0.3)
    a = ap.parse_args()

    near = packet_socket(a.dev)
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/run/netns/" + a.peer_netns, os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET):
        sys.exit("setns %s: %s" % (a.peer_netns, os.strerror(ctypes.get_errno())))
    os.close(fd)
    far = packet_socket(a.peer_dev)

    data = b"d" * 100
    ack_flags, psh_ack = 0x10, 0x18

    def out(tsval, seq):
        near.send(eth(ETH_P_IP, segment(A, B, SPORT, DPORT, psh_ack, tsval, 5, seq, 1, data),
                      dst=MAC_B, src=MAC_A))

    def echo(tsval, tsecr):
        far.send(eth(ETH_P_IP, segment(B, A, DPORT, SPORT, ack_flags, tsval, tsecr, 1, 301),
                     dst=MAC_A, src=MAC_B))

    t0 = time.monotonic()
    if a.phase == "reorder":
        out(10, 1)
        time.sleep(a.gap)
        out(12, 101)
        out(11, 201)
        echo(100, 10)
        gap_us = int((time.monotonic() - t0) * 1e6)
        out(12, 301)
        echo(101, 12)
    else:
        syn_opts = b"\x02\x04\x05\xb4" + b"\x04\x02" + b"\x08\x0a" + struct.pack("!II", 4, 0)
        near.send(eth(ETH_P_IP, ipv4(A, B, TCP, tcp(SPORT, DPORT, 0x02, seq=1000,
                                                     options=syn_opts)),
                      dst=MAC_B, src=MAC_A))
        t0 = time.monotonic()
        out(5, 1001)
        time.sleep(a.gap)
        echo(200, 5)
        gap_us = int((time.monotonic() - t0) * 1e6)
    print(json.dumps({"src": A, "dst": B, "sport": SPORT, "dport": DPORT, "gap_us": gap_us}))


if __name__ == "__main__":
    main()
