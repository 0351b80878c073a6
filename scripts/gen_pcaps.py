#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Writes the test captures in pcaps/ and, for each, what flowacct must make of it.

Every frame is built here from a description (addresses, ports, payload size,
what is wrong with it), and the expected outcome comes from that description:
the flow it belongs to and its IP-layer length, or the counter that must name
why it is not accounted. Nothing here reads flowacct's output. The output is
deterministic: run it again and the files come out byte for byte the same.

    python3 scripts/gen_pcaps.py [OUTDIR]      (default: pcaps/)
    python3 scripts/gen_pcaps.py --mixed N FILE   (one large mixed capture)

For NAME.pcap, NAME.expected.json holds:
  frames    records in the capture
  flows     one object per flow (no ifindex/direction: those depend on the
            hook), with first_frame, the 1-based record that opened it
  counters  every counter the capture should move; any other must stay 0
"""

import json
import os
import random
import struct
import sys

BASE_TS_NS = 1_700_000_000_000_000_000  # 2023-11-14T22:13:20Z
STEP_NS = 1_000_000  # one frame per millisecond; pcap keeps microseconds

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276
LINKTYPE_NULL = 0

ETH_P_IP, ETH_P_IPV6, ETH_P_ARP = 0x0800, 0x86DD, 0x0806
ETH_P_8021Q, ETH_P_8021AD = 0x8100, 0x88A8

TCP, UDP, ICMP, ICMPV6, GRE, ESP, SCTP, NONXT = 6, 17, 1, 58, 47, 50, 132, 59
HOPOPTS, ROUTING, FRAGMENT, AH, DSTOPTS = 0, 43, 44, 51, 60

FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = (1 << i for i in range(8))
FLAG_LETTERS = "FSRPAUEC"  # bit 0 .. bit 7, as flowacct prints them

# The extension-header walk flowacct documents (IPV6_EXT_MAX_CHAIN).
IPV6_EXT_MAX_CHAIN = 8

MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")


def v4(s):
    return bytes(int(x) for x in s.split("."))


def v6(s):
    import ipaddress
    return ipaddress.IPv6Address(s).packed


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


# ---- headers -------------------------------------------------------------

def eth(ethertype, payload, dst=MAC_B, src=MAC_A):
    return dst + src + struct.pack("!H", ethertype) + payload


def vlan(tpid, vid, inner_type, payload):
    """One tag: what follows the MAC addresses is tpid, tci, inner type."""
    return struct.pack("!HH", tpid, vid) + struct.pack("!H", inner_type) + payload


def eth_tagged(tags, ethertype, payload):
    """tags: list of (tpid, vid), outermost first."""
    body = struct.pack("!H", ethertype) + payload
    for tpid, vid in reversed(tags):
        body = struct.pack("!HH", tpid, vid) + body
    return MAC_B + MAC_A + body


def ipv4(src, dst, proto, payload, options=b"", ident=1, flags_frag=0,
         ttl=64, tot_len=None, ihl=None, version=4):
    hl = 20 + len(options)
    ihl = hl // 4 if ihl is None else ihl
    tot = hl + len(payload) if tot_len is None else tot_len
    hdr = struct.pack("!BBHHHBBH4s4s", (version << 4) | ihl, 0, tot, ident,
                      flags_frag, ttl, proto, 0, v4(src), v4(dst)) + options
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def ipv6(src, dst, nexthdr, payload, plen=None, version=6):
    plen = len(payload) if plen is None else plen
    return struct.pack("!IHBB16s16s", version << 28, plen, nexthdr, 64,
                       v6(src), v6(dst)) + payload


def ext_opts(nexthdr, units=0):
    """Hop-by-hop or destination options: (units + 1) * 8 bytes of padding."""
    n = (units + 1) * 8
    return struct.pack("!BB", nexthdr, units) + b"\x01" + bytes([n - 4]) + b"\0" * (n - 4)


def ext_jumbo(nexthdr, length):
    """RFC 2675: a hop-by-hop header holding only the Jumbo Payload option."""
    return struct.pack("!BBBBI", nexthdr, 0, 0xC2, 4, length)


def udp_jumbo(sport, dport, payload):
    """RFC 2675 section 4: a UDP length of 0; the IPv6 length says."""
    return struct.pack("!HHHH", sport, dport, 0, 0) + payload


def ext_routing(nexthdr):
    return struct.pack("!BBBB", nexthdr, 0, 0, 0) + b"\0" * 4  # type 0, no segments left


def ext_frag(nexthdr, offset, more, ident):
    return struct.pack("!BBHI", nexthdr, 0, (offset << 3) | int(more), ident)


def ext_ah(nexthdr, icv_words=1):
    """AH length is in 4-byte words minus 2; 12 fixed bytes plus the ICV."""
    payload_len = 3 + icv_words - 2
    return struct.pack("!BBHII", nexthdr, payload_len, 0, 0x100, 1) + b"\0" * (4 * icv_words)


def tcp(sport, dport, flags, payload=b"", seq=1, ack=0, doff=None, options=b""):
    hl = 20 + len(options)
    doff = hl // 4 if doff is None else doff
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags,
                       65535, 0, 0) + options + payload


def udp(sport, dport, payload=b""):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def icmp(typ, code, payload=b""):
    body = struct.pack("!BBHHH", typ, code, 0, 0x1234, 1) + payload
    return body[:2] + struct.pack("!H", csum(body)) + body[4:]


def arp():
    return struct.pack("!HHBBH6s4s6s4s", 1, ETH_P_IP, 6, 4, 1, MAC_A,
                       v4("192.0.2.1"), b"\0" * 6, v4("192.0.2.2"))


# ---- captures and their expectations ---------------------------------------

class Capture:
    def __init__(self, name, linktype=LINKTYPE_ETHERNET, snaplen=262144):
        self.name = name
        self.linktype = linktype
        self.snaplen = snaplen
        self.records = []  # (ts_ns, data, orig_len)
        self.flows = {}
        self.first_frags = {}
        self.counters = {"seen": 0, "accounted": 0, "accounted_bytes": 0}

    def _record(self, data, caplen):
        ts = BASE_TS_NS + len(self.records) * STEP_NS
        cap = min(len(data), self.snaplen if caplen is None else caplen)
        self.records.append((ts, data[:cap], len(data)))
        self.counters["seen"] += 1
        if cap < len(data):
            self.count("cut_frames")
        return ts

    def count(self, name, n=1):
        self.counters[name] = self.counters.get(name, 0) + n

    def reason(self, data, name, caplen=None):
        """A frame flowacct must not account, for the reason `name`."""
        self._record(data, caplen)
        self.count(name)

    def flow(self, data, ip_version, proto, src, dst, sport, dport, ip_len,
             tcp_flags=0, fragment=False, caplen=None, first_frag_id=None,
             frag_id=None, frag_proto=None, tunnel=None):
        """A frame flowacct must account: its flow and IP-layer length.

        first_frag_id: this is the first fragment of datagram ID, whose flow
        later fragments take: its ports, and its protocol, which for IPv6
        only the first fragment shows. tunnel: the packet is the inner one of
        this tunnel (a dict as flowacct prints it), which is part of the
        flow: the same inner packet through another tunnel (another type,
        id or outer address) is another flow. fragment with frag_id: a later
        fragment, with the protocol of its IPv4 header or its fragment
        header's next header; it takes the newest first fragment's flow, or
        stays on ports 0 (an orphan) if none was sent. A datagram is its
        addresses, ID and frag_proto (RFC 791, RFC 8200): the IPv4 protocol
        or the fragment header's next header, `proto` unless given.
        """
        datagram = (ip_version, src, dst, proto if frag_proto is None else frag_proto)
        if first_frag_id is not None:
            self.first_frags[datagram + (first_frag_id,)] = (proto, sport, dport)
        if fragment:
            first = self.first_frags.get(datagram + (frag_id,))
            if first is None:
                self.count("frag_orphans")
            else:
                proto, sport, dport = first
        ts = self._record(data, caplen)
        key = (ip_version, proto, src, dst, sport, dport,
               tuple(sorted(tunnel.items())) if tunnel else None)
        f = self.flows.get(key)
        if f is None:
            f = self.flows[key] = {
                "ip_version": ip_version, "proto": proto, "src": src,
                "dst": dst, "sport": sport, "dport": dport, "packets": 0,
                "bytes": 0, "first_seen_ns": ts, "last_seen_ns": ts,
                "flags": 0, "first_frame": len(self.records)}
            if tunnel:
                f["tunnel"] = tunnel
        if tunnel:
            self.count("tunnel_decap")
        f["packets"] += 1
        f["bytes"] += ip_len
        f["last_seen_ns"] = ts
        f["flags"] |= tcp_flags
        self.counters["accounted"] += 1
        self.counters["accounted_bytes"] += ip_len
        if fragment:
            self.count("fragments")

    # Convenience builders that keep frame and expectation together.

    def tcp4(self, src, dst, sport, dport, flags, n=0, tags=(), options=b"", **kw):
        seg = tcp(sport, dport, flags, b"x" * n)
        pkt = ipv4(src, dst, TCP, seg, options=options)
        self.flow(eth_tagged(list(tags), ETH_P_IP, pkt), 4, TCP, src, dst,
                  sport, dport, len(pkt), flags, **kw)

    def udp4(self, src, dst, sport, dport, n=0, tags=(), **kw):
        pkt = ipv4(src, dst, UDP, udp(sport, dport, b"u" * n))
        self.flow(eth_tagged(list(tags), ETH_P_IP, pkt), 4, UDP, src, dst,
                  sport, dport, len(pkt), **kw)

    def icmp4(self, src, dst, typ, code, n=56, **kw):
        pkt = ipv4(src, dst, ICMP, icmp(typ, code, b"p" * n))
        self.flow(eth(ETH_P_IP, pkt), 4, ICMP, src, dst, 0, typ << 8 | code,
                  len(pkt), **kw)

    def tcp6(self, src, dst, sport, dport, flags, n=0, exts=(), **kw):
        pkt = ipv6_chain(src, dst, list(exts), TCP, tcp(sport, dport, flags, b"y" * n))
        self.flow(eth(ETH_P_IPV6, pkt), 6, TCP, src, dst, sport, dport,
                  len(pkt), flags, **kw)

    def udp6(self, src, dst, sport, dport, n=0, exts=(), **kw):
        pkt = ipv6_chain(src, dst, list(exts), UDP, udp(sport, dport, b"w" * n))
        self.flow(eth(ETH_P_IPV6, pkt), 6, UDP, src, dst, sport, dport,
                  len(pkt), **kw)

    def icmp6(self, src, dst, typ, code, n=56, **kw):
        pkt = ipv6(src, dst, ICMPV6, icmp(typ, code, b"q" * n))
        self.flow(eth(ETH_P_IPV6, pkt), 6, ICMPV6, src, dst, 0,
                  typ << 8 | code, len(pkt), **kw)

    # Output.

    def expected(self):
        flows = []
        for f in sorted(self.flows.values(), key=lambda f: f["first_frame"]):
            f = dict(f)
            flags = f.pop("flags")
            f["tcp_flags"] = "".join(c for i, c in enumerate(FLAG_LETTERS)
                                     if flags & (1 << i))
            flows.append(f)
        return {"frames": len(self.records), "flows": flows,
                "counters": dict(sorted(self.counters.items()))}

    def pcap_bytes(self):
        out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, self.snaplen,
                           self.linktype)]
        for ts, data, orig in self.records:
            sec, nsec = divmod(ts, 1_000_000_000)
            out.append(struct.pack("<IIII", sec, nsec // 1000, len(data), orig))
            out.append(data)
        return b"".join(out)

    def pcapng_bytes(self):
        """The same records as pcapng: section, one interface, enhanced packets."""
        def block(btype, body):
            body += b"\0" * (-len(body) % 4)
            n = 12 + len(body)
            return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

        # if_tsresol 9: nanosecond timestamps.
        idb_opts = struct.pack("<HHB3x", 9, 1, 9) + struct.pack("<HH", 0, 0)
        out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)),
               block(1, struct.pack("<HHI", self.linktype, 0, self.snaplen) + idb_opts)]
        for ts, data, orig in self.records:
            out.append(block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF,
                                            len(data), orig) + data))
        return b"".join(out)

    def write(self, outdir, pcapng=False):
        ext = "pcapng" if pcapng else "pcap"
        with open(os.path.join(outdir, "%s.%s" % (self.name, ext)), "wb") as f:
            f.write(self.pcapng_bytes() if pcapng else self.pcap_bytes())
        with open(os.path.join(outdir, self.name + ".expected.json"), "w") as f:
            json.dump(self.expected(), f, indent=1)
            f.write("\n")


def ipv6_chain(src, dst, exts, upper, payload):
    """exts: list of callables nexthdr -> (header bytes, its own type)."""
    body = payload
    nh = upper
    for make in reversed(exts):
        hdr, t = make(nh)
        body = hdr + body
        nh = t
    return ipv6(src, dst, nh, body)


HBH = lambda nh: (ext_opts(nh), HOPOPTS)
DST = lambda nh: (ext_opts(nh, 1), DSTOPTS)
RT = lambda nh: (ext_routing(nh), ROUTING)
FRAG0 = lambda nh: (ext_frag(nh, 0, True, 7), FRAGMENT)
AHDR = lambda nh: (ext_ah(nh), AH)

A4, B4, C4 = "192.0.2.1", "192.0.2.2", "198.51.100.7"
A6, B6 = "2001:db8::1", "2001:db8::2"


# ---- the captures --------------------------------------------------------

def basic():
    """Every case of the parse list, well formed."""
    c = Capture("basic")
    # TCP, both directions, every flag bit somewhere.
    c.tcp4(A4, B4, 40000, 80, SYN)
    c.tcp4(B4, A4, 80, 40000, SYN | ACK)
    c.tcp4(A4, B4, 40000, 80, ACK)
    c.tcp4(A4, B4, 40000, 80, PSH | ACK, n=100)
    c.tcp4(B4, A4, 80, 40000, PSH | ACK, n=1400)
    c.tcp4(A4, B4, 40000, 80, URG | ACK | ECE | CWR, n=1)
    c.tcp4(A4, B4, 40000, 80, FIN | ACK)
    c.tcp4(B4, A4, 80, 40000, RST)
    # UDP, ICMP.
    c.udp4(A4, C4, 5353, 53, n=30)
    c.udp4(C4, A4, 53, 5353, n=120)
    c.icmp4(A4, B4, 8, 0)
    c.icmp4(B4, A4, 0, 0)
    c.icmp4(B4, A4, 3, 3, n=28)
    # IPv4 options (IHL 6 and 15).
    c.tcp4(A4, C4, 1111, 2222, ACK, n=10, options=b"\x01\x01\x01\x00")
    c.udp4(A4, C4, 7, 9, n=5)
    pkt = ipv4(A4, C4, UDP, udp(7, 9, b"z" * 3), options=b"\x01" * 40)
    c.flow(eth(ETH_P_IP, pkt), 4, UDP, A4, C4, 7, 9, len(pkt))
    # VLAN: 802.1Q, and 802.1ad outer + 802.1Q inner.
    c.udp4(A4, B4, 1000, 2000, n=64, tags=[(ETH_P_8021Q, 100)])
    c.udp4(A4, B4, 1000, 2000, n=64, tags=[(ETH_P_8021AD, 10), (ETH_P_8021Q, 100)])
    c.tcp4(A4, B4, 3000, 4000, SYN, tags=[(ETH_P_8021Q, 0)])
    # IPv4 fragments: the first carries the ports, the others go to ports 0.
    data = udp(6000, 7000, b"f" * 2000)
    c.flow(eth(ETH_P_IP, ipv4(A4, B4, UDP, data[:1480], ident=9, flags_frag=0x2000)),
           4, UDP, A4, B4, 6000, 7000, 20 + 1480, first_frag_id=9)
    c.flow(eth(ETH_P_IP, ipv4(A4, B4, UDP, data[1480:], ident=9, flags_frag=1480 // 8)),
           4, UDP, A4, B4, 0, 0, 20 + len(data) - 1480, fragment=True, frag_id=9)
    c.flow(eth(ETH_P_IP, ipv4(A4, B4, TCP, b"t" * 64, ident=10, flags_frag=0x2000 | 100)),
           4, TCP, A4, B4, 0, 0, 20 + 64, fragment=True, frag_id=10)
    # Other protocols: ports 0.
    for proto, body in ((GRE, b"\0\0\x08\x00" + b"g" * 40), (ESP, b"e" * 60),
                        (SCTP, b"s" * 48), (89, b"o" * 40)):
        pkt = ipv4(A4, C4, proto, body)
        c.flow(eth(ETH_P_IP, pkt), 4, proto, A4, C4, 0, 0, len(pkt))
    # ICMP number in IPv6 and ICMPv6 number in IPv4 are just protocols.
    pkt = ipv4(A4, C4, ICMPV6, icmp(128, 0))
    c.flow(eth(ETH_P_IP, pkt), 4, ICMPV6, A4, C4, 0, 0, len(pkt))
    pkt = ipv6(A6, B6, ICMP, icmp(8, 0))
    c.flow(eth(ETH_P_IPV6, pkt), 6, ICMP, A6, B6, 0, 0, len(pkt))
    # IPv6.
    c.tcp6(A6, B6, 50000, 443, SYN)
    c.tcp6(B6, A6, 443, 50000, SYN | ACK)
    c.tcp6(A6, B6, 50000, 443, PSH | ACK, n=500)
    c.udp6(A6, B6, 5000, 5001, n=200)
    c.icmp6(A6, B6, 128, 0)
    c.icmp6(B6, A6, 129, 0)
    c.icmp6("fe80::1", "ff02::1", 134, 0, n=48)
    # Extension headers, each alone and chained up to the walk's limit.
    c.udp6(A6, B6, 1, 2, n=10, exts=[HBH])
    c.udp6(A6, B6, 3, 4, n=10, exts=[RT])
    c.udp6(A6, B6, 5, 6, n=10, exts=[DST])
    c.udp6(A6, B6, 7, 8, n=10, exts=[FRAG0])
    c.tcp6(A6, B6, 9, 10, ACK, n=10, exts=[AHDR])
    c.tcp6(A6, B6, 11, 12, ACK, n=10, exts=[HBH, DST, RT, FRAG0, AHDR, DST])
    c.udp6(A6, B6, 13, 14, n=1, exts=[HBH, DST, RT, DST, RT, DST, AHDR, DST][:IPV6_EXT_MAX_CHAIN])
    # Long options header: 8 units = 72 bytes.
    pkt = ipv6(A6, B6, HOPOPTS, ext_opts(UDP, 8) + udp(15, 16, b"l"))
    c.flow(eth(ETH_P_IPV6, pkt), 6, UDP, A6, B6, 15, 16, len(pkt))
    # IPv6 fragments: later ones keep the protocol, ports 0.
    data = udp(20, 21, b"F" * 3000)
    p1 = ipv6(A6, B6, FRAGMENT, ext_frag(UDP, 0, True, 77) + data[:1448])
    p2 = ipv6(A6, B6, FRAGMENT, ext_frag(UDP, 1448 // 8, False, 77) + data[1448:])
    c.flow(eth(ETH_P_IPV6, p1), 6, UDP, A6, B6, 20, 21, len(p1), first_frag_id=77)
    c.flow(eth(ETH_P_IPV6, p2), 6, UDP, A6, B6, 0, 0, len(p2), fragment=True, frag_id=77)
    p3 = ipv6(A6, B6, HOPOPTS, ext_opts(FRAGMENT) + ext_frag(TCP, 50, True, 78) + b"T" * 80)
    c.flow(eth(ETH_P_IPV6, p3), 6, TCP, A6, B6, 0, 0, len(p3), fragment=True, frag_id=78)
    # No next header, ESP: protocol only.
    pkt = ipv6(A6, B6, NONXT, b"")
    c.flow(eth(ETH_P_IPV6, pkt), 6, NONXT, A6, B6, 0, 0, 40)
    pkt = ipv6(A6, B6, DSTOPTS, ext_opts(ESP) + b"E" * 64)
    c.flow(eth(ETH_P_IPV6, pkt), 6, ESP, A6, B6, 0, 0, len(pkt))
    # Ethernet padding after a short IP datagram is not IP-layer octets.
    pkt = ipv4(A4, B4, UDP, udp(9999, 9998, b"p"))
    c.flow(eth(ETH_P_IP, pkt + b"\0" * 17), 4, UDP, A4, B4, 9999, 9998, len(pkt))
    pkt = ipv6(A6, B6, UDP, udp(9999, 9998, b""))
    c.flow(eth(ETH_P_IPV6, pkt + b"\xee" * 30), 6, UDP, A6, B6, 9999, 9998, len(pkt))
    # Not IP.
    c.reason(eth(ETH_P_ARP, arp()), "non_ip")
    c.reason(eth(ETH_P_8021Q, struct.pack("!HH", 5, ETH_P_ARP) + arp()), "non_ip")
    c.reason(MAC_B + MAC_A + struct.pack("!H", 46) + b"\xaa\xaa\x03" + b"\0" * 43, "non_ip")
    c.reason(eth(0x88CC, b"\0" * 46), "non_ip")
    return c


def malformed():
    """Frames flowacct must refuse, each for a named reason."""
    c = Capture("malformed")
    good4 = ipv4(A4, B4, TCP, tcp(1, 2, ACK, b"d" * 20))
    good6 = ipv6(A6, B6, TCP, tcp(1, 2, ACK, b"d" * 20))
    # Runts and an empty frame.
    c.reason(b"", "trunc_eth")
    c.reason(b"\x02" * 10, "trunc_eth")
    c.reason(eth(ETH_P_IP, b"")[:13], "trunc_eth")
    # Truncated inside each header.
    c.reason(MAC_B + MAC_A + struct.pack("!HH", ETH_P_8021Q, 1), "trunc_vlan")
    c.reason(eth_tagged([(ETH_P_8021AD, 1)], ETH_P_8021Q, b"")[:18 + 2], "trunc_vlan")
    for cut in (0, 1, 10, 19):
        c.reason(eth(ETH_P_IP, good4[:cut]), "trunc_ipv4")
    for cut in (0, 20, 39):
        c.reason(eth(ETH_P_IPV6, good6[:cut]), "trunc_ipv6")
    # A frame cut live inside a header it claims: the length check fires first.
    c.reason(eth(ETH_P_IP, good4[:30]), "bad_ipv4_len")
    c.reason(eth(ETH_P_IPV6, good6[:50]), "bad_ipv6_len")
    # Three tags: one more than the walk.
    c.reason(eth_tagged([(ETH_P_8021AD, 1), (ETH_P_8021Q, 2), (ETH_P_8021Q, 3)],
                        ETH_P_IP, good4), "vlan_too_deep")
    # Version does not match the ethertype.
    c.reason(eth(ETH_P_IP, ipv4(A4, B4, TCP, tcp(1, 2, ACK), version=6)), "bad_ip_version")
    c.reason(eth(ETH_P_IPV6, good4 + b"\0" * 40), "bad_ip_version")
    c.reason(eth(ETH_P_IPV6, ipv6(A6, B6, UDP, udp(1, 2), version=4)), "bad_ip_version")
    # IHL below 5, and options that run past the frame.
    for ihl in (0, 1, 4):
        c.reason(eth(ETH_P_IP, ipv4(A4, B4, UDP, udp(1, 2, b"x" * 30), ihl=ihl)), "bad_ihl")
    c.reason(eth(ETH_P_IP, ipv4(A4, B4, UDP, b"", ihl=15, tot_len=20)), "bad_ipv4_len")
    # Total length smaller than the header, larger than the frame.
    c.reason(eth(ETH_P_IP, ipv4(A4, B4, UDP, udp(1, 2), tot_len=19)), "bad_ipv4_len")
    c.reason(eth(ETH_P_IP, ipv4(A4, B4, UDP, udp(1, 2), tot_len=0)), "bad_ipv4_len")
    c.reason(eth(ETH_P_IP, ipv4(A4, B4, UDP, udp(1, 2), tot_len=29)), "bad_ipv4_len")
    c.reason(eth(ETH_P_IP, ipv4(A4, B4, UDP, udp(1, 2), tot_len=1500)), "bad_ipv4_len")
    c.reason(eth(ETH_P_IP, ipv4(A4, B4, UDP, udp(1, 2), options=b"\x01" * 8, tot_len=24)),
             "bad_ipv4_len")
    # IPv6 payload length larger than the frame.
    c.reason(eth(ETH_P_IPV6, ipv6(A6, B6, UDP, udp(1, 2), plen=9)), "bad_ipv6_len")
    c.reason(eth(ETH_P_IPV6, ipv6(A6, B6, UDP, udp(1, 2), plen=65535)), "bad_ipv6_len")
    # Payload length 0 (RFC 2675): a hop-by-hop header without the Jumbo
    # Payload option, one whose length is under 64 KiB (an error), or longer
    # than the frame; one cut before the option could be read.
    c.reason(eth(ETH_P_IPV6, ipv6(A6, B6, HOPOPTS, ext_opts(UDP) + udp(1, 2), plen=0)),
             "bad_ipv6_len")
    c.reason(eth(ETH_P_IPV6, ipv6(A6, B6, HOPOPTS, ext_jumbo(UDP, 16) + udp(1, 2), plen=0)),
             "bad_ipv6_len")
    c.reason(eth(ETH_P_IPV6, ipv6(A6, B6, HOPOPTS, ext_jumbo(UDP, 70000) + udp(1, 2),
                                  plen=0)), "bad_ipv6_len")
    c.reason(eth(ETH_P_IPV6, ipv6(A6, B6, HOPOPTS, ext_jumbo(UDP, 70000) + udp(1, 2),
                                  plen=0)), "trunc_ipv6_ext", caplen=14 + 44)
    # Extension headers: one more than the walk; cut; longer than the payload.
    chain = [HBH] + [DST, RT] * IPV6_EXT_MAX_CHAIN
    c.reason(eth(ETH_P_IPV6, ipv6_chain(A6, B6, chain[:IPV6_EXT_MAX_CHAIN + 1], UDP,
                                        udp(1, 2))), "ipv6_ext_too_many")
    # A loop: every header names another destination-options header.
    looped = b"".join(ext_opts(DSTOPTS) for _ in range(IPV6_EXT_MAX_CHAIN + 4))
    c.reason(eth(ETH_P_IPV6, ipv6(A6, B6, DSTOPTS, looped)), "ipv6_ext_too_many")
    c.reason(eth(ETH_P_IPV6, ipv6(A6, B6, HOPOPTS, ext_opts(UDP)[:4])), "trunc_ipv6_ext")
    c.reason(eth(ETH_P_IPV6, ipv6(A6, B6, HOPOPTS, ext_opts(UDP, 3)[:16])), "trunc_ipv6_ext")
    c.reason(eth(ETH_P_IPV6, ipv6(A6, B6, FRAGMENT, ext_frag(UDP, 0, True, 1)[:6])),
             "trunc_ipv6_ext")
    c.reason(eth(ETH_P_IPV6, ipv6(A6, B6, AH, ext_ah(TCP, icv_words=3)[:20])), "trunc_ipv6_ext")
    # Transport headers cut by the datagram's own length, or by the frame.
    c.reason(eth(ETH_P_IP, ipv4(A4, B4, TCP, tcp(1, 2, SYN)[:19])), "trunc_l4")
    c.reason(eth(ETH_P_IP, ipv4(A4, B4, UDP, udp(1, 2)[:7])), "trunc_l4")
    c.reason(eth(ETH_P_IP, ipv4(A4, B4, ICMP, icmp(8, 0)[:7])), "trunc_l4")
    c.reason(eth(ETH_P_IPV6, ipv6(A6, B6, ICMPV6, icmp(128, 0)[:4])), "trunc_l4")
    c.reason(eth(ETH_P_IPV6, ipv6(A6, B6, TCP, b"")), "trunc_l4")
    # Total length ends at the IP header; what follows in the frame is padding.
    c.reason(eth(ETH_P_IP, ipv4(A4, B4, UDP, b"", tot_len=20) + udp(1, 2)), "trunc_l4")
    # A first fragment too small for its transport header (RFC 1858).
    c.reason(eth(ETH_P_IP, ipv4(A4, B4, TCP, tcp(1, 2, SYN)[:8], flags_frag=0x2000)),
             "trunc_l4")
    # TCP data offset below 5, or past the datagram: the segment still
    # crossed the link, and its ports are there: accounted, and counted.
    for doff in (4, 0):
        pkt = ipv4(A4, B4, TCP, tcp(1, 2, SYN, doff=doff))
        c.flow(eth(ETH_P_IP, pkt), 4, TCP, A4, B4, 1, 2, len(pkt), SYN)
        c.count("tcp_doff_invalid")
    pkt = ipv6(A6, B6, TCP, tcp(1, 2, SYN, doff=15))
    c.flow(eth(ETH_P_IPV6, pkt), 6, TCP, A6, B6, 1, 2, len(pkt), SYN)
    c.count("tcp_doff_invalid")
    # And one good frame, so the table is not empty.
    c.flow(eth(ETH_P_IP, good4), 4, TCP, A4, B4, 1, 2, len(good4), ACK)
    return c


def snaplen():
    """A capture taken with a 64-byte snaplen: accounted from the IP lengths."""
    c = Capture("snaplen", snaplen=64)
    for i in range(3):
        c.tcp4(A4, B4, 40000, 80, ACK | PSH, n=1400)
    c.udp4(A4, B4, 1, 2, n=20)          # 62 bytes: not cut
    c.udp6(A6, B6, 53, 53, n=500)      # 14 + 40 + 8: the ports are inside 64
    # IPv6 TCP: 14 + 40 + 20 = 74 > 64. The capture lost the ports it needs.
    c.reason(eth(ETH_P_IPV6, ipv6(A6, B6, TCP, tcp(1, 2, ACK, b"a" * 100))), "trunc_l4")
    # A frame cut inside the IPv4 options: the header is not all there.
    c.reason(eth(ETH_P_IP, ipv4(A4, B4, UDP, udp(1, 2, b"x" * 10), options=b"\x01" * 40)),
             "trunc_ipv4")
    # Claims more than the wire had: still malformed, cut or not.
    c.reason(eth(ETH_P_IP, ipv4(A4, B4, UDP, udp(1, 2, b"x" * 100), tot_len=1500)),
             "bad_ipv4_len")
    return c


def cooked(name, linktype):
    """Linux cooked (SLL, SLL2) and raw-IP captures: no Ethernet header."""
    c = Capture(name, linktype=linktype)

    def wrap(ethertype, pkt):
        if linktype == LINKTYPE_LINUX_SLL:
            return struct.pack("!HHH8sH", 0, 1, 6, MAC_A + b"\0\0", ethertype) + pkt
        if linktype == LINKTYPE_LINUX_SLL2:
            return struct.pack("!HHIHBB8s", ethertype, 0, 2, 1, 0, 6, MAC_A + b"\0\0") + pkt
        return pkt

    for i in range(4):
        pkt = ipv4(A4, B4, TCP, tcp(33000, 22, ACK | PSH, b"s" * (48 * i)))
        c.flow(wrap(ETH_P_IP, pkt), 4, TCP, A4, B4, 33000, 22, len(pkt), ACK | PSH)
    pkt = ipv6(A6, B6, UDP, udp(123, 123, b"n" * 48))
    c.flow(wrap(ETH_P_IPV6, pkt), 6, UDP, A6, B6, 123, 123, len(pkt))
    pkt = ipv4(A4, C4, ICMP, icmp(8, 0, b"i" * 56))
    c.flow(wrap(ETH_P_IP, pkt), 4, ICMP, A4, C4, 0, 8 << 8, len(pkt))
    if linktype != LINKTYPE_RAW:
        c.reason(wrap(ETH_P_ARP, arp()), "non_ip")
        c.reason(wrap(ETH_P_IP, b"")[:10], "trunc_eth")  # cut in the pseudo-header
    else:
        c.reason(b"", "trunc_ipv4")
    return c


def v4_frags(src, dst, proto, payload, ident, size):
    """A datagram cut into fragments of `size` bytes: (offset, more, bytes)."""
    out = []
    for off in range(0, len(payload), size):
        out.append((off, off + size < len(payload), payload[off:off + size]))
    return out


def fragments():
    """Fragments in order, out of order, overlapping, orphaned: IPv4, IPv6."""
    c = Capture("fragments")

    def frag4(src, dst, proto, ident, off, more, chunk):
        pkt = ipv4(src, dst, proto, chunk, ident=ident,
                   flags_frag=(0x2000 if more else 0) | off // 8)
        return eth(ETH_P_IP, pkt), 20 + len(chunk)

    def frag6(src, dst, proto, ident, off, more, chunk):
        pkt = ipv6(src, dst, FRAGMENT, ext_frag(proto, off // 8, more, ident) + chunk)
        return eth(ETH_P_IPV6, pkt), len(pkt)

    def send(maker, ver, proto, src, dst, ident, sport, dport, pieces):
        for off, more, chunk in pieces:
            frame, n = maker(src, dst, proto, ident, off, more, chunk)
            if off == 0:
                c.flow(frame, ver, proto, src, dst, sport, dport, n,
                       tcp_flags=ACK | PSH if proto == TCP else 0,
                       first_frag_id=ident if more else None)
            else:
                c.flow(frame, ver, proto, src, dst, 0, 0, n, fragment=True, frag_id=ident)

    for ver, maker, a, b in ((4, frag4, A4, B4), (6, frag6, A6, B6)):
        u = udp(1111, 2222, bytes(range(256)) * 12)           # 3080 bytes
        t = tcp(3333, 4444, ACK | PSH, b"T" * 2500)
        pieces = v4_frags(a, b, UDP, u, 0, 1232)
        send(maker, ver, UDP, a, b, 100, 1111, 2222, pieces)          # in order
        send(maker, ver, UDP, a, b, 101, 1111, 2222, pieces[::-1])    # reversed: orphans
        send(maker, ver, UDP, a, b, 102, 1111, 2222,                  # first, last, middle
             [pieces[0], pieces[2], pieces[1]])
        tp = v4_frags(a, b, TCP, t, 0, 1200)
        send(maker, ver, TCP, a, b, 103, 3333, 4444, tp)
        # Overlapping: a later fragment repeats part of the first's range,
        # and one overlaps another later fragment.
        send(maker, ver, TCP, a, b, 104, 3333, 4444,
             [tp[0], (600, True, t[600:1800]), tp[1], (1600, False, t[1600:])])
        # Lost first fragment: every later one is an orphan.
        send(maker, ver, UDP, a, b, 105, 1111, 2222, pieces[1:])
        # The same ID from another source is another datagram.
        other = v4_frags(a, b, UDP, udp(5555, 6666, b"o" * 3000), 0, 1232)
        send(maker, ver, UDP, C4 if ver == 4 else "2001:db8::7", b, 100, 5555, 6666,
             [other[0]])
        send(maker, ver, UDP, a, b, 100, 1111, 2222, [pieces[1]])
        # A first fragment sent again with other ports: the newest wins.
        u2 = udp(7777, 8888, bytes(range(256)) * 12)
        send(maker, ver, UDP, a, b, 106, 1111, 2222, [pieces[0]])
        send(maker, ver, UDP, a, b, 106, 7777, 8888, [(0, True, u2[:1232])])
        send(maker, ver, UDP, a, b, 106, 1111, 2222, pieces[1:])

    # IPv6 with AH after the fragment header (RFC 8200's order): a later
    # fragment's next header says AH, but it belongs to the first's UDP flow.
    ah = ext_ah(UDP)
    body = ah + udp(1212, 3434, b"a" * 2000)
    for ident, order in ((200, (0, 1)), (201, (1,))):
        for i in order:
            off, chunk = (0, body[:1024]) if i == 0 else (1024, body[1024:])
            pkt = ipv6(A6, B6, FRAGMENT, ext_frag(AH, off // 8, i == 0, ident) + chunk)
            if i == 0:
                c.flow(eth(ETH_P_IPV6, pkt), 6, UDP, A6, B6, 1212, 3434, len(pkt),
                       first_frag_id=ident, frag_proto=AH)
            else:
                c.flow(eth(ETH_P_IPV6, pkt), 6, AH, A6, B6, 0, 0, len(pkt),
                       fragment=True, frag_id=ident)
    return c


def jumbo():
    """9000-byte MTU frames (multi-buffer at XDP, longer than a TC test run),
    and IPv6 jumbograms: RFC 2675's, and BIG TCP's."""
    c = Capture("jumbo")
    c.udp4(A4, B4, 9000, 9001, n=8972)
    c.tcp6(A6, B6, 9002, 9003, ACK, n=8940)
    c.tcp4(A4, B4, 9004, 9005, ACK, n=100)
    # An RFC 2675 jumbogram of 66000 IP-layer bytes, whole (a replay runs
    # up to 17 pages at XDP).
    n = 66000 - 40 - 8 - 8
    pkt = ipv6(A6, B6, HOPOPTS, ext_jumbo(UDP, 8 + 8 + n) + udp_jumbo(9006, 9007, b"j" * n),
               plen=0)
    c.flow(eth(ETH_P_IPV6, pkt), 6, UDP, A6, B6, 9006, 9007, len(pkt))
    c.count("ipv6_jumbograms")
    # BIG TCP as newer kernels hand it to tcpdump: payload length 0, no
    # option; the frame's length stands in.
    n = 69000 - 40 - 20
    pkt = ipv6(A6, B6, TCP, tcp(9008, 9009, ACK, b"t" * n), plen=0)
    c.flow(eth(ETH_P_IPV6, pkt), 6, TCP, A6, B6, 9008, 9009, len(pkt), ACK)
    c.count("ipv6_jumbograms")
    # A 200000-byte jumbogram captured with a 200-byte snaplen (libpcap
    # refuses records longer on the wire than its largest snaplen, 262144).
    n = 200000 - 40 - 8 - 20
    pkt = ipv6(A6, B6, HOPOPTS, ext_jumbo(TCP, 8 + 20 + n) + tcp(9010, 9011, ACK, b"m" * n),
               plen=0)
    c.flow(eth(ETH_P_IPV6, pkt), 6, TCP, A6, B6, 9010, 9011, len(pkt), ACK, caplen=200)
    c.count("ipv6_jumbograms")
    return c


def tso():
    """A host capture of TSO traffic: TCP segments the stack handed the NIC
    whole, IPv4 total length 0 (the NIC writes each segment's), as tshark
    presumes them. Only TCP takes the frame's length; UDP and ICMP with total
    length 0 stay malformed."""
    c = Capture("tso")
    ts_opt = b"\x01\x01\x08\x0a" + struct.pack("!II", 1000, 2000)  # NOP NOP timestamps
    C, S = A4, B4
    c.tcp4(C, S, 49800, 88, SYN)
    c.tcp4(S, C, 88, 49800, SYN | ACK)
    c.tcp4(C, S, 49800, 88, ACK)
    # Super-frames of several sizes, with and without TCP options.
    for n, opts in ((2 * 1460, b""), (5 * 1448, ts_opt), (44 * 1448, ts_opt),
                    (64000, b"")):
        pkt = ipv4(C, S, TCP, tcp(49800, 88, PSH | ACK, b"k" * n, options=opts),
                   tot_len=0)
        c.flow(eth(ETH_P_IP, pkt), 4, TCP, C, S, 49800, 88, len(pkt), PSH | ACK)
        c.count("ipv4_len_from_frame")
        c.tcp4(S, C, 88, 49800, ACK)
    # IPv4 options before TCP, and a VLAN tag.
    pkt = ipv4(C, S, TCP, tcp(49800, 88, ACK, b"o" * 4000), options=b"\x01" * 4, tot_len=0)
    c.flow(eth(ETH_P_IP, pkt), 4, TCP, C, S, 49800, 88, len(pkt), ACK)
    c.count("ipv4_len_from_frame")
    pkt = ipv4(C, S, TCP, tcp(49800, 88, ACK, b"v" * 3000), tot_len=0)
    c.flow(eth_tagged([(ETH_P_8021Q, 7)], ETH_P_IP, pkt), 4, TCP, C, S, 49800, 88,
           len(pkt), ACK)
    c.count("ipv4_len_from_frame")
    # IPv4 BIG TCP: 120000 bytes, captured with a 200-byte snaplen.
    pkt = ipv4(C, S, TCP, tcp(49800, 88, ACK, b"b" * (120000 - 40)), tot_len=0)
    c.flow(eth(ETH_P_IP, pkt), 4, TCP, C, S, 49800, 88, len(pkt), ACK, caplen=200)
    c.count("ipv4_len_from_frame")
    c.tcp4(C, S, 49800, 88, FIN | ACK)
    c.tcp4(S, C, 88, 49800, FIN | ACK)
    c.tcp4(C, S, 49800, 88, ACK)
    # Other protocols with total length 0: nothing says how long they are.
    c.udp4(C, S, 49801, 88, n=100)
    c.reason(eth(ETH_P_IP, ipv4(C, S, UDP, udp(49801, 88, b"u" * 3000), tot_len=0)),
             "bad_ipv4_len")
    c.reason(eth(ETH_P_IP, ipv4(C, S, ICMP, icmp(8, 0, b"i" * 2000), tot_len=0)),
             "bad_ipv4_len")
    return c


def mixed(count=600, seed=1):
    """Real-looking mixed traffic, for the cross-check against tshark."""
    rnd = random.Random(seed)
    c = Capture("mixed")
    hosts4 = ["192.0.2.%d" % i for i in range(10, 20)]
    servers4 = ["198.51.100.%d" % i for i in (1, 2, 3)] + ["203.0.113.9"]
    hosts6 = ["2001:db8:1::%x" % i for i in range(1, 6)]
    servers6 = ["2001:db8:2::%x" % i for i in (1, 2)]
    sessions = []
    while len(c.records) < count:
        kind = rnd.random()
        if kind < 0.45:   # a TCP exchange
            v6 = rnd.random() < 0.3
            cli = rnd.choice(hosts6 if v6 else hosts4)
            srv = rnd.choice(servers6 if v6 else servers4)
            sp, dp = rnd.randint(32768, 60999), rnd.choice([80, 443, 22, 8080])
            send = c.tcp6 if v6 else c.tcp4
            kw = {"tags": [(ETH_P_8021Q, 42)]} if not v6 and rnd.random() >= 0.8 else {}
            send(cli, srv, sp, dp, SYN, **kw)
            send(srv, cli, dp, sp, SYN | ACK, **kw)
            send(cli, srv, sp, dp, ACK, **kw)
            for _ in range(rnd.randint(1, 8)):
                send(cli, srv, sp, dp, PSH | ACK, n=rnd.randint(1, 600), **kw)
                send(srv, cli, dp, sp, PSH | ACK, n=rnd.randint(100, 1440), **kw)
            send(cli, srv, sp, dp, FIN | ACK, **kw)
            send(srv, cli, dp, sp, FIN | ACK, **kw)
            send(cli, srv, sp, dp, ACK, **kw)
        elif kind < 0.75:  # DNS
            if rnd.random() < 0.3:
                cli, srv = rnd.choice(hosts6), servers6[0]
                sp = rnd.randint(1024, 65535)
                c.udp6(cli, srv, sp, 53, n=rnd.randint(20, 60))
                c.udp6(srv, cli, 53, sp, n=rnd.randint(40, 400))
            else:
                cli, srv = rnd.choice(hosts4), servers4[0]
                sp = rnd.randint(1024, 65535)
                c.udp4(cli, srv, sp, 53, n=rnd.randint(20, 60))
                c.udp4(srv, cli, 53, sp, n=rnd.randint(40, 400))
        elif kind < 0.9:   # ping
            if rnd.random() < 0.5:
                a, b = rnd.choice(hosts4), rnd.choice(servers4)
                c.icmp4(a, b, 8, 0)
                c.icmp4(b, a, 0, 0)
            else:
                a, b = rnd.choice(hosts6), rnd.choice(servers6)
                c.icmp6(a, b, 128, 0)
                c.icmp6(b, a, 129, 0)
        else:              # ARP
            c.reason(eth(ETH_P_ARP, arp()), "non_ip")
    return c



# ---- tunnels (--decap inner) ------------------------------------------------

ETH_P_TEB, ETH_P_ERSPAN, ETH_P_ERSPAN3 = 0x6558, 0x88BE, 0x22EB
ETH_P_MPLS_UC, ETH_P_MPLS_MC = 0x8847, 0x8848
IPIP, IPV6_IN = 4, 41
VXLAN_PORT, VXLAN_PORT_LINUX, GENEVE_PORT = 4789, 8472, 6081
MPLS_MAX_DEPTH = 8  # flowacct's documented walk (FLOW_MPLS_MAX_DEPTH)


def vxlan(vni, inner, flags=0x08):
    """RFC 7348: flags (I = 0x08), 3 reserved, VNI, 1 reserved; then Ethernet."""
    return struct.pack("!B3s3sB", flags, b"\0\0\0", vni.to_bytes(3, "big"), 0) + inner


def geneve(vni, proto, inner, opt_words=0, ver=0, opt_len=None):
    """RFC 8926: ver(2) optlen(6), flags, protocol, VNI, reserved, options."""
    ol = opt_words if opt_len is None else opt_len
    opts = b""
    if opt_words:  # one option of class 0x0101, type 1, the rest its data
        opts = struct.pack("!HBB", 0x0101, 1, opt_words - 1) + b"\xab" * (4 * (opt_words - 1))
    return struct.pack("!BBH3sB", (ver << 6) | ol, 0, proto, vni.to_bytes(3, "big"), 0) + opts + inner


def gre(proto, inner, key=None, csum_=False, seq=None, flags_extra=0):
    """RFC 2784 / 2890: C, K and S, each adding a word in that order."""
    flags = flags_extra
    words = b""
    if csum_:
        flags |= 0x8000
        words += struct.pack("!HH", 0, 0)
    if key is not None:
        flags |= 0x2000
        words += struct.pack("!I", key)
    if seq is not None:
        flags |= 0x1000
        words += struct.pack("!I", seq)
    return struct.pack("!HH", flags, proto) + words + inner


def erspan2(session, inner):
    """Type II: ver 1, VLAN, COS/En/T/session (10 bits), reserved, index."""
    return struct.pack("!HHI", (1 << 12) | 10, (3 << 10) | session, 7) + inner


def erspan3(session, inner, subheader=False):
    """Type III: ver 2 ..., timestamp, SGT/P/FT/HW ID/D/Gra/O, [8-byte subheader]."""
    w3 = 0x1234 << 16 | (1 if subheader else 0)
    hdr = struct.pack("!HHII", (2 << 12) | 10, session, 0xDEADBEEF, w3)
    return hdr + (b"\x55" * 8 if subheader else b"") + inner


def mpls(labels, payload, bottom=True):
    """A label stack, outermost first; the last has the bottom-of-stack bit."""
    out = b""
    for i, lbl in enumerate(labels):
        bos = 1 if bottom and i == len(labels) - 1 else 0
        out += struct.pack("!I", lbl << 12 | bos << 8 | 64)
    return out + payload


def tun_desc(typ, tid, osrc, odst):
    return {"type": typ, "id": tid, "outer_src": osrc, "outer_dst": odst}


class TunnelCaptures:
    """One capture, two expectations: with --decap inner (NAME.inner) and off.

    Each frame goes to both: `inner` is what --decap inner must make of it (a
    flow with its tunnel, or a reason), `outer` what flowacct without it
    must (the outer flow, or non_ip for MPLS).
    """

    def __init__(self, name):
        self.inner = Capture(name)
        self.outer = Capture(name)

    def frame(self, data, inner, outer, caplen=None):
        for c, what in ((self.inner, inner), (self.outer, outer)):
            if isinstance(what, str):
                c.reason(data, what, caplen=caplen)
            else:
                c.flow(data, caplen=caplen, **what)

    def count(self, which, name):
        (self.inner if which == "inner" else self.outer).count(name)

    def write(self, outdir):
        self.outer.write(outdir)
        name = self.inner.name
        with open(os.path.join(outdir, name + ".inner.expected.json"), "w") as f:
            json.dump(self.inner.expected(), f, indent=1)
            f.write("\n")


def inner4(src, dst, proto, sport, dport, n, flags=0):
    """An inner IPv4 packet and its flow's fields."""
    if proto == TCP:
        l4 = tcp(sport, dport, flags, b"i" * n)
    elif proto == UDP:
        l4 = udp(sport, dport, b"i" * n)
    else:
        l4 = icmp(sport, dport, b"i" * n)
        sport, dport = 0, sport << 8 | dport
    pkt = ipv4(src, dst, proto, l4)
    return pkt, dict(ip_version=4, proto=proto, src=src, dst=dst, sport=sport,
                     dport=dport, ip_len=len(pkt), tcp_flags=flags)


def inner6(src, dst, proto, sport, dport, n, exts=()):
    l4 = tcp(sport, dport, ACK, b"j" * n) if proto == TCP else udp(sport, dport, b"j" * n)
    pkt = ipv6_chain(src, dst, list(exts), proto, l4)
    return pkt, dict(ip_version=6, proto=proto, src=src, dst=dst, sport=sport,
                     dport=dport, ip_len=len(pkt), tcp_flags=ACK if proto == TCP else 0)


def outer4(src, dst, proto, payload, sport=0, dport=0):
    """An outer IPv4 frame and its flow's fields (decap off)."""
    pkt = ipv4(src, dst, proto, payload)
    return eth(ETH_P_IP, pkt), dict(ip_version=4, proto=proto, src=src, dst=dst,
                                    sport=sport, dport=dport, ip_len=len(pkt))


def outer6(src, dst, proto, payload, sport=0, dport=0):
    pkt = ipv6(src, dst, proto, payload)
    return eth(ETH_P_IPV6, pkt), dict(ip_version=6, proto=proto, src=src, dst=dst,
                                      sport=sport, dport=dport, ip_len=len(pkt))


VTEP_A, VTEP_B, VTEP_C = "203.0.113.1", "203.0.113.2", "203.0.113.3"
VTEP6_A, VTEP6_B = "2001:db8:ff::1", "2001:db8:ff::2"
IN_A, IN_B, IN_C = "198.51.100.10", "198.51.100.20", "198.51.100.30"
IN6_A, IN6_B = "2001:db8:1::a", "2001:db8:1::b"


def tunnels():
    """Every encapsulation --decap inner opens, and the ways each goes wrong."""
    t = TunnelCaptures("tunnels")

    def udp_tun(osrc, odst, sport, dport, payload, inner, tun, v6=False):
        frame, out = (outer6 if v6 else outer4)(osrc, odst, UDP,
                                                 udp(sport, dport, payload), sport, dport)
        t.frame(frame, dict(inner, tunnel=tun), out)

    # VXLAN on both ports, TCP and UDP and ICMP inside, both directions.
    for i in range(3):
        pkt, f = inner4(IN_A, IN_B, TCP, 40000, 80, 100 * i, ACK | (SYN if i == 0 else 0))
        udp_tun(VTEP_A, VTEP_B, 50001, VXLAN_PORT, vxlan(100, eth(ETH_P_IP, pkt)), f,
                tun_desc("vxlan", 100, VTEP_A, VTEP_B))
    pkt, f = inner4(IN_B, IN_A, TCP, 80, 40000, 1400, ACK)
    udp_tun(VTEP_B, VTEP_A, 50002, VXLAN_PORT, vxlan(100, eth(ETH_P_IP, pkt)), f,
            tun_desc("vxlan", 100, VTEP_B, VTEP_A))
    pkt, f = inner4(IN_A, IN_C, ICMP, 8, 0, 56)
    udp_tun(VTEP_A, VTEP_C, 50003, VXLAN_PORT_LINUX, vxlan(1, eth(ETH_P_IP, pkt)), f,
            tun_desc("vxlan", 1, VTEP_A, VTEP_C))
    # Inner VLAN tag and inner IPv6 with extension headers, over an IPv6 underlay.
    pkt, f = inner6(IN6_A, IN6_B, UDP, 5353, 53, 33, exts=(HBH, DST))
    udp_tun(VTEP6_A, VTEP6_B, 50004, VXLAN_PORT,
            vxlan(0xABCDEF, eth_tagged([(ETH_P_8021Q, 7)], ETH_P_IPV6, pkt)), f,
            tun_desc("vxlan", 0xABCDEF, VTEP6_A, VTEP6_B), v6=True)
    # The same inner flow through other tunnels of the type: another VNI
    # between the same VTEPs, the same VNI from another VTEP, both: a row
    # each (the key's tunnel tag).
    for vni, vtep, n in ((101, VTEP_A, 20), (100, VTEP_C, 30), (200, VTEP_C, 10)):
        pkt, f = inner4(IN_A, IN_B, TCP, 40000, 80, n, ACK)
        udp_tun(vtep, VTEP_B, 50005, VXLAN_PORT, vxlan(vni, eth(ETH_P_IP, pkt)), f,
                tun_desc("vxlan", vni, vtep, VTEP_B))
    # Inner fragments: the later one takes the first's ports.
    data = b"F" * 64
    first = ipv4(IN_C, IN_A, UDP, udp(7000, 7001, data)[:40], ident=77, flags_frag=0x2000)
    later = ipv4(IN_C, IN_A, UDP, udp(7000, 7001, data)[40:], ident=77, flags_frag=5)
    tun = tun_desc("vxlan", 300, VTEP_C, VTEP_A)
    for pkt, kw in ((first, dict(first_frag_id=77)), (later, dict(fragment=True, frag_id=77))):
        frame, out = outer4(VTEP_C, VTEP_A, UDP, udp(50006, VXLAN_PORT, vxlan(300, eth(ETH_P_IP, pkt))),
                            50006, VXLAN_PORT)
        t.frame(frame, dict(ip_version=4, proto=UDP, src=IN_C, dst=IN_A, sport=7000,
                            dport=7001, ip_len=len(pkt), tunnel=tun, **kw), out)

    # Geneve: Ethernet inside with options, and IPv4 straight inside.
    pkt, f = inner4(IN_B, IN_C, UDP, 1111, 2222, 200)
    udp_tun(VTEP_B, VTEP_C, 50010, GENEVE_PORT, geneve(5000, ETH_P_TEB, eth(ETH_P_IP, pkt), 3),
            f, tun_desc("geneve", 5000, VTEP_B, VTEP_C))
    pkt, f = inner4(IN_C, IN_B, UDP, 2222, 1111, 20)
    udp_tun(VTEP_C, VTEP_B, 50011, GENEVE_PORT, geneve(5000, ETH_P_IP, pkt), f,
            tun_desc("geneve", 5000, VTEP_C, VTEP_B))

    # GRE: bare, with a key, with checksum, key and sequence; IPv6 and Ethernet inside.
    def gre_tun(osrc, odst, g, inner_fields, tun, v6=False):
        frame, out = (outer6 if v6 else outer4)(osrc, odst, GRE, g)
        t.frame(frame, dict(inner_fields, tunnel=tun), out)

    pkt, f = inner4(IN_A, IN_B, UDP, 3000, 3001, 50)
    gre_tun(VTEP_A, VTEP_B, gre(ETH_P_IP, pkt), f, tun_desc("gre", None, VTEP_A, VTEP_B))
    pkt, f = inner4(IN_A, IN_B, UDP, 3000, 3002, 60)
    gre_tun(VTEP_A, VTEP_B, gre(ETH_P_IP, pkt, key=42), f, tun_desc("gre", 42, VTEP_A, VTEP_B))
    pkt, f = inner6(IN6_A, IN6_B, TCP, 443, 50000, 70)
    gre_tun(VTEP_A, VTEP_B, gre(ETH_P_IPV6, pkt, key=0xFFFFFFFF, csum_=True, seq=9), f,
            tun_desc("gre", 0xFFFFFFFF, VTEP_A, VTEP_B))
    pkt, f = inner4(IN_B, IN_A, TCP, 22, 60000, 90, ACK)
    gre_tun(VTEP6_A, VTEP6_B, gre(ETH_P_TEB, eth(ETH_P_IP, pkt), seq=1), f,
            tun_desc("gre", None, VTEP6_A, VTEP6_B), v6=True)
    # ERSPAN types I, II and III (with and without its subheader).
    pkt, f = inner4(IN_C, IN_A, UDP, 4000, 4001, 10)
    gre_tun(VTEP_A, VTEP_C, gre(ETH_P_ERSPAN, eth(ETH_P_IP, pkt)), f,
            tun_desc("erspan", None, VTEP_A, VTEP_C))
    pkt, f = inner4(IN_C, IN_A, UDP, 4000, 4002, 11)
    gre_tun(VTEP_A, VTEP_C, gre(ETH_P_ERSPAN, erspan2(513, eth(ETH_P_IP, pkt)), seq=3), f,
            tun_desc("erspan", 513, VTEP_A, VTEP_C))
    pkt, f = inner4(IN_C, IN_A, UDP, 4000, 4003, 12)
    gre_tun(VTEP_A, VTEP_C, gre(ETH_P_ERSPAN3, erspan3(1023, eth(ETH_P_IP, pkt)), seq=4), f,
            tun_desc("erspan", 1023, VTEP_A, VTEP_C))
    pkt, f = inner4(IN_C, IN_A, UDP, 4000, 4004, 13)
    gre_tun(VTEP_A, VTEP_C, gre(ETH_P_ERSPAN3, erspan3(2, eth(ETH_P_IP, pkt), True), seq=5), f,
            tun_desc("erspan", 2, VTEP_A, VTEP_C))

    # IP in IP: 4 in 4, 6 in 4, 6 in 6, 4 in 6.
    for outer, osrc, odst, inner, dport, n in (
            (outer4, VTEP_A, VTEP_C, 4, 5001, 30), (outer4, VTEP_A, VTEP_C, 6, 5002, 31),
            (outer6, VTEP6_A, VTEP6_B, 6, 5003, 32), (outer6, VTEP6_A, VTEP6_B, 4, 5004, 33)):
        if inner == 4:
            pkt, f = inner4(IN_A, IN_C, UDP, 5000, dport, n)
        else:
            pkt, f = inner6(IN6_B, IN6_A, UDP, 5000, dport, n)
        frame, out = outer(osrc, odst, IPIP if inner == 4 else IPV6_IN, pkt)
        t.frame(frame, dict(f, tunnel=tun_desc("ipip", None, osrc, odst)), out)

    # MPLS: two labels then IPv4 (unicast), one then IPv6 (multicast).
    pkt, f = inner4(IN_B, IN_C, TCP, 179, 30000, 40, ACK)
    t.frame(eth(ETH_P_MPLS_UC, mpls([16001, 3], pkt)),
            dict(f, tunnel=tun_desc("mpls", 16001, None, None)), "non_ip")
    pkt, f = inner6(IN6_A, IN6_B, UDP, 6000, 6001, 44)
    t.frame(eth(ETH_P_MPLS_MC, mpls([1048575], pkt)),
            dict(f, tunnel=tun_desc("mpls", 1048575, None, None)), "non_ip")

    # What is not a tunnel after all: the outer flow, counted.
    pkt, _ = inner4(IN_A, IN_B, UDP, 1, 2, 0)
    for payload in (vxlan(100, b"")[:4],                    # a VXLAN header cut short
                    vxlan(100, eth(ETH_P_IP, pkt), flags=0)):   # no I flag
        frame, out = outer4(VTEP_A, VTEP_B, UDP, udp(50020, VXLAN_PORT, payload), 50020, VXLAN_PORT)
        t.frame(frame, out, out)
        t.count("inner", "tunnel_undecoded")
    # GRE flags announcing checksum, key and sequence past the datagram.
    g = struct.pack("!HH", 0xB000, ETH_P_IP) + b"\0" * 4
    frame, out = outer4(VTEP_A, VTEP_B, GRE, g)
    t.frame(frame, out, out)
    t.count("inner", "tunnel_undecoded")
    # GRE version 1 (PPTP) and with RFC 1701's routing bit.
    for g in (struct.pack("!HH", 0x2001, 0x880B) + b"\0" * 8, gre(ETH_P_IP, pkt, flags_extra=0x4000)):
        frame, out = outer4(VTEP_A, VTEP_B, GRE, g)
        t.frame(frame, out, out)
        t.count("inner", "tunnel_undecoded")
    # Geneve: an option length past the packet, and version 1.
    for g in (geneve(7, ETH_P_TEB, b"\0" * 8, opt_len=20), geneve(7, ETH_P_TEB, eth(ETH_P_IP, pkt), ver=1)):
        frame, out = outer4(VTEP_A, VTEP_B, UDP, udp(50021, GENEVE_PORT, g), 50021, GENEVE_PORT)
        t.frame(frame, out, out)
        t.count("inner", "tunnel_undecoded")
    # An MPLS stack with no bottom within the walk, one cut short, a pseudowire.
    t.frame(eth(ETH_P_MPLS_UC, mpls([100 + i for i in range(MPLS_MAX_DEPTH)], pkt, bottom=False)),
            "mpls_too_deep", "non_ip")
    t.frame(eth(ETH_P_MPLS_UC, mpls([100, 200], b"", bottom=False)[:6]), "trunc_mpls", "non_ip")
    t.frame(eth(ETH_P_MPLS_UC, mpls([100], b"\0\0\0\0" + eth(ETH_P_IP, pkt))),
            "non_ip", "non_ip")
    # The inner packet follows the outer rules: a cut IPv4 header, ARP.
    frame, out = outer4(VTEP_A, VTEP_B, UDP, udp(50022, VXLAN_PORT, vxlan(5, eth(ETH_P_IP, pkt[:12]))),
                        50022, VXLAN_PORT)
    t.frame(frame, "trunc_ipv4", out)
    frame, out = outer4(VTEP_A, VTEP_B, UDP, udp(50023, VXLAN_PORT, vxlan(5, eth(ETH_P_ARP, arp()))),
                        50023, VXLAN_PORT)
    t.frame(frame, "non_ip", out)
    # A tunnel in the tunnel: the first inner packet is the flow.
    pkt2, _ = inner4(IN_A, IN_B, UDP, 9, 9, 5)
    mid = ipv4(IN_A, IN_C, UDP, udp(60000, VXLAN_PORT, vxlan(9, eth(ETH_P_IP, pkt2))))
    frame, out = outer4(VTEP_A, VTEP_B, UDP, udp(50024, VXLAN_PORT, vxlan(8, eth(ETH_P_IP, mid))),
                        50024, VXLAN_PORT)
    t.frame(frame, dict(ip_version=4, proto=UDP, src=IN_A, dst=IN_C, sport=60000,
                        dport=VXLAN_PORT, ip_len=len(mid),
                        tunnel=tun_desc("vxlan", 8, VTEP_A, VTEP_B)), out)
    t.count("inner", "tunnel_nested")
    # A capture cut inside the VXLAN header: the datagram holds it, the capture not.
    pkt, f = inner4(IN_A, IN_B, UDP, 1, 3, 100)
    frame, out = outer4(VTEP_A, VTEP_B, UDP, udp(50025, VXLAN_PORT, vxlan(5, eth(ETH_P_IP, pkt))),
                        50025, VXLAN_PORT)
    t.frame(frame, "trunc_tunnel", out, caplen=14 + 20 + 8 + 4)
    return t


def unsupported_linktype():
    """A BSD loopback capture: replay must refuse it by name."""
    c = Capture("linktype_null", linktype=LINKTYPE_NULL)
    c.records.append((BASE_TS_NS, struct.pack("<I", 2) + ipv4(A4, B4, UDP, udp(1, 2)), 32))
    return c


def main():
    # --mixed N FILE: only a mixed capture of about N frames (large captures
    # for statistical tests are made when needed, not committed).
    if len(sys.argv) == 4 and sys.argv[1] == "--mixed":
        with open(sys.argv[3], "wb") as f:
            f.write(mixed(count=int(sys.argv[2]), seed=7).pcap_bytes())
        return
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "pcaps")
    os.makedirs(outdir, exist_ok=True)
    for cap in (basic(), malformed(), snaplen(), jumbo(), tso(), mixed(), fragments(),
                cooked("sll", LINKTYPE_LINUX_SLL), cooked("sll2", LINKTYPE_LINUX_SLL2),
                cooked("rawip", LINKTYPE_RAW)):
        cap.write(outdir)
    tunnels().write(outdir)
    b = basic()
    b.name = "basic_ng"
    b.write(outdir, pcapng=True)
    u = unsupported_linktype()
    with open(os.path.join(outdir, u.name + ".pcap"), "wb") as f:
        f.write(u.pcap_bytes())


if __name__ == "__main__":
    main()
