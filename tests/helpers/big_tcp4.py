#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Sets an interface's IPv4 BIG TCP sizes over rtnetlink, in this namespace.

    big_tcp4.py IFACE SIZE

Sets IFLA_GSO_IPV4_MAX_SIZE and IFLA_GRO_IPV4_MAX_SIZE (Linux 6.3+) to
SIZE: iproute2 6.1 (Debian 12's) has no keywords for them. Exits 1 with
the kernel's error if it refuses them.
"""

import os
import socket
import struct
import sys

RTM_SETLINK = 19
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2
IFLA_GSO_IPV4_MAX_SIZE = 63
IFLA_GRO_IPV4_MAX_SIZE = 64


def u32_attr(kind, value):
    return struct.pack("=HHI", 8, kind, value)


def main():
    ifname, size = sys.argv[1], int(sys.argv[2])
    ifindex = socket.if_nametoindex(ifname)
    body = struct.pack("=BxHiII", socket.AF_UNSPEC, 0, ifindex, 0, 0)
    body += u32_attr(IFLA_GSO_IPV4_MAX_SIZE, size)
    body += u32_attr(IFLA_GRO_IPV4_MAX_SIZE, size)
    msg = struct.pack("=IHHII", 16 + len(body), RTM_SETLINK,
                      NLM_F_REQUEST | NLM_F_ACK, 1, 0) + body
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as s:
        s.sendto(msg, (0, 0))
        reply = s.recv(65536)
    _, kind, _, _, _ = struct.unpack_from("=IHHII", reply)
    err = struct.unpack_from("=i", reply, 16)[0] if kind == NLMSG_ERROR else 0
    if err:
        print("%s: IPv4 BIG TCP sizes refused: %s" % (ifname, os.strerror(-err)),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
