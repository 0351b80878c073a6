#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Random but realistic traces for the flow cache's expiry, and a checker.

    expiry_traces.py --seed N --ops M [--cache-size K] > TRACE.jsonl
    expiry_traces.py --seed N --ops M [--cache-size K] --check RECORDS.jsonl
    expiry_traces.py --trace TRACE.jsonl --check RECORDS.jsonl

The first form writes a trace of exactly M ops (M >= 2): the config op, then
drain and expire ops, now and then a leave op (an interface followed no
more: its flows leave, and rows of its index after it are a new
interface's), then a shutdown op. The same seed, ops and cache size
always give the same trace. Default cache size 64; the number of concurrent
conversations, and so the rows per drain, grow with it (about 15 rows a
drain and 15,000 rows in all for --ops 2000 --cache-size 64).

The trace is what a drainer would see on a small host: about one drain a
second, usually followed by an expire at the same time, of conversations on
three interfaces over IPv4 and IPv6 (TCP with handshakes, FIN both ways,
half-closes, RSTs, refused and unanswered SYNs, port reuse; UDP, ICMP echo,
GRE), each a pair of rows (egress A->B and ingress B->A on one ifindex) or,
for asymmetric paths and scans, one row. On top: long flows that span many
drains (active expiry), pauses longer than the idle timeout (the key comes
back as a new entry), bursts of short flows larger than the cache (a scan or
a DNS storm, evicting in the middle of a drain), overflow rows (ip_version 0)
whose flags carry FIN and RST from both directions, last_seen ties, times on
an exact one-second grid so that timeouts are hit to the nanosecond, drainer
stalls longer than the idle timeout, empty drains, and IPv6 addresses written
in non-canonical spellings.

--check RECORDS reads records (of tests/checkers/expiry_model.py, or of the C cache in
the same format) for the trace given by the same arguments, or by --trace,
and checks what must hold whatever the rules' details: per key, the packets
and bytes of all records equal those of all drained rows (nothing lost,
nothing counted twice; as the trace ends with a shutdown, this also means
nothing with packets was left in the cache), the OR of flags and the
extremes of first/last seen agree too, every record comes from an op that
may emit its reason, records are sorted by the canonical key order within an
op, and each record is self-consistent. Prints the number of records of each
reason to stderr; exits 1 on any failure.
"""

import argparse
import collections
import ipaddress
import json
import random
import sys

FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80
TCP, UDP, ICMP, ICMPV6, GRE = 6, 17, 1, 58, 47

SECOND = 1_000_000_000
TICK = SECOND                   # the drainer's nominal period

# Per interface: its own IPv4 and IPv6 address (documentation prefixes).
LOCAL = {2: ("192.0.2.1", "2001:db8:2::1"),
         3: ("198.51.100.1", "2001:db8:3::1"),
         7: ("203.0.113.1", "2001:db8:7::1")}

TCP_SERVICES = [22, 25, 80, 443, 443, 443, 5201, 8080]
UDP_SERVICES = [53, 53, 123, 443, 4789, 5201]

REASONS = ("idle", "active", "end", "lack_of_resources", "forced")
EMITTING = {"drain": {"lack_of_resources"}, "expire": {"idle", "active", "end"},
            "shutdown": {"forced"}, "leave": {"forced"}}


# ---------------------------------------------------------------------------
# Conversations: each is a script of ticks, one dict {key: flags} per tick
# (empty for a silent tick), played one tick per drain.

def key_tuple(ifindex, direction, version, proto, src, dst, sport, dport):
    return (ifindex, direction, version, proto, src, dst, sport, dport)


def overflow_key(ifindex, direction):
    return key_tuple(ifindex, direction, 0, 0, None, None, 0, 0)


class Conversation:
    """One conversation's rows to come, tick by tick."""

    def __init__(self, keys, script, bulk):
        self.keys = keys            # every key its rows use
        self.script = script        # list of {key: flags}
        self.bulk = bulk            # max packets in one row
        self.pos = 0

    def done(self):
        return self.pos >= len(self.script)

    def step(self):
        tick = self.script[self.pos]
        self.pos += 1
        return tick


class Generator:
    def __init__(self, seed, cache_size):
        self.rng = random.Random(seed)
        # Leaves drawn apart, so that the rest of a seed's trace is as it was.
        self.leave_rng = random.Random(seed * 7919 + 1)
        self.cache_size = cache_size
        rng = self.rng
        # Timeouts on the one-second grid most of the time, so that an
        # expire at a drain's time can hit one exactly; sometimes not.
        self.idle = rng.choice([4, 5, 6]) * SECOND
        self.active = rng.choice([10, 12, 15]) * SECOND
        self.quiet = rng.choice([1, 2]) * SECOND
        if rng.random() < 0.3:
            self.idle += rng.randrange(SECOND)
            self.active += rng.randrange(SECOND)
            self.quiet += rng.randrange(SECOND // 2)
        self.idle_ticks = self.idle // TICK
        self.live = []              # conversations being played
        self.busy = set()           # keys of live conversations
        self.retired = []           # (kind, endpoints) of ended TCP/UDP flows, to reuse
        # Enough conversations that their entries, with those lingering
        # until their idle timeout, often overflow the cache.
        self.target = max(2, cache_size // 5)

    # -- keys ---------------------------------------------------------------

    def remote_address(self, version):
        rng = self.rng
        if version == 4:
            net = rng.choice(["192.0.2", "198.51.100", "203.0.113", "10.0.0", "9.9.9"])
            return "%s.%d" % (net, rng.randint(2, 254))
        shape = rng.random()
        if shape < 0.5:
            return str(ipaddress.IPv6Address("2001:db8:%x::%x" % (rng.choice([2, 3, 7]),
                                                                 rng.randint(2, 0x30))))
        if shape < 0.8:
            return str(ipaddress.IPv6Address("2001:db8:%x:%x::%x:%x" % (
                rng.randint(0, 0xffff), rng.randint(0, 0xffff), rng.randint(0, 0xffff),
                rng.randint(0, 0xffff))))
        return str(ipaddress.IPv6Address("2001:db8::%x" % rng.randint(1, 0x20)))

    def endpoints(self):
        """(ifindex, version, local address, remote address)."""
        ifindex = self.rng.choice([2, 2, 3, 7])
        version = 4 if self.rng.random() < 0.6 else 6
        return ifindex, version, LOCAL[ifindex][version == 6], self.remote_address(version)

    @staticmethod
    def pair(ifindex, version, proto, local, remote, lport, rport):
        """The egress row key (local -> remote) and its ingress reverse."""
        return (key_tuple(ifindex, "egress", version, proto, local, remote, lport, rport),
                key_tuple(ifindex, "ingress", version, proto, remote, local, rport, lport))

    # -- scripts ------------------------------------------------------------

    def data_flags(self):
        r = self.rng.random()
        if r < 0.5:
            return ACK | PSH
        if r < 0.97:
            return ACK
        return self.rng.choice([ACK | ECE, ACK | CWR, ACK | PSH | URG])

    def body(self, sides, length, activity, flags):
        """length ticks of data between sides; pauses, some past idle."""
        rng = self.rng
        ticks = []
        while len(ticks) < length:
            if rng.random() < 0.03:
                # A pause: short, or long enough that the entries idle out
                # and come back as new ones.
                gap = rng.choice([rng.randint(1, 3),
                                  rng.randint(self.idle_ticks + 1, self.idle_ticks + 6)])
                ticks += [{}] * gap
            if rng.random() >= activity:
                ticks.append({})
                continue
            tick = {k: flags() for k in sides if rng.random() < 0.85}
            if not tick:
                tick = {sides[0]: flags()}
            ticks.append(tick)
        return ticks

    def body_length(self):
        r = self.rng.random()
        if r < 0.7:
            return self.rng.randint(0, 3)
        if r < 0.95:
            return self.rng.randint(5, 20)
        return self.rng.randint(30, 150)      # long: several active records

    def tcp_script(self, init, resp, oneway):
        """The ticks of one TCP connection; init/resp: the two sides' keys."""
        rng = self.rng
        mode = rng.choices(
            ["fin_both", "fin_one", "rst", "rst_both", "fin_rst", "silent",
             "refused", "unanswered"],
            weights=[40, 8, 10, 2, 4, 8, 6, 4])[0]
        if mode == "refused":
            return [{init: SYN, resp: RST | ACK}]
        if mode == "unanswered":
            return [{init: SYN}, {}, {init: SYN}, {}, {}, {init: SYN}][:rng.randint(1, 6)]
        # The handshake, often with the first data in the same tick.
        hello = {init: SYN | ACK, resp: SYN | ACK}
        if rng.random() < 0.6:
            hello = {init: SYN | ACK | PSH, resp: SYN | ACK | PSH}
        elif rng.random() < 0.3:
            hello = {init: SYN}                # answered in the next tick
        ticks = [hello]
        if len(hello) == 1:
            ticks.append({init: ACK, resp: SYN | ACK})
        ticks += self.body([init, resp], self.body_length(), rng.uniform(0.5, 1.0),
                           self.data_flags)
        closer, other = (init, resp) if rng.random() < 0.5 else (resp, init)
        if mode == "fin_both":
            if rng.random() < 0.5:
                ticks.append({closer: FIN | ACK, other: FIN | ACK | rng.choice([0, PSH])})
            else:
                ticks.append({closer: FIN | ACK, other: ACK})
                ticks += [{}] * rng.choice([0, 0, 1, 3])
                ticks.append({other: FIN | ACK})
            if rng.random() < 0.6:
                ticks.append({closer: ACK})    # the last ACK, a drain later
        elif mode == "fin_one":
            # Half close: the other side goes on sending, then stops
            # without a FIN of its own (or we never see it).
            ticks.append({closer: FIN | ACK})
            ticks += [{other: ACK | PSH, closer: ACK}] * rng.randint(0, 3)
        elif mode == "rst":
            ticks.append({closer: RST | rng.choice([0, ACK])})
        elif mode == "rst_both":
            ticks.append({closer: RST | ACK, other: RST})
        elif mode == "fin_rst":
            ticks.append({closer: FIN | ACK})
            ticks.append({other: RST})
        if oneway:
            # An asymmetric path: only one direction passes this host.
            ticks = [{k: f for k, f in t.items() if k == init} for t in ticks]
        return ticks

    def new_conversation(self):
        """A random conversation whose keys are not in use; None if unlucky."""
        rng = self.rng
        kind = rng.choices(["tcp", "udp", "icmp", "gre"], weights=[70, 18, 9, 3])[0]
        reuse = self.retired and rng.random() < 0.15
        if reuse:
            # The same 5-tuple again (a client reusing its port, a periodic
            # job): keys that come back after leaving the cache, or even
            # while the old entry still waits for end_quiet.
            kind, ends = self.retired[rng.randrange(len(self.retired))]
        else:
            ifindex, version, local, remote = self.endpoints()
        bulk = rng.choice([3, 10, 40, 400, 2000])
        if kind in ("tcp", "udp"):
            proto = TCP if kind == "tcp" else UDP
            if not reuse:
                service = rng.choice(TCP_SERVICES if kind == "tcp" else UDP_SERVICES)
                ephemeral = rng.randint(32768, 60999)
                outbound = rng.random() < 0.7
                lport, rport = (ephemeral, service) if outbound else (service, ephemeral)
                ends = (ifindex, version, local, remote, lport, rport, outbound)
            ifindex, version, local, remote, lport, rport, outbound = ends
            egress, ingress = self.pair(ifindex, version, proto, local, remote, lport, rport)
            init, resp = (egress, ingress) if outbound else (ingress, egress)
            oneway = rng.random() < 0.06
            if kind == "tcp":
                script = self.tcp_script(init, resp, oneway)
            else:
                sides = [init] if oneway else [init, resp]
                script = self.body(sides, max(1, self.body_length()),
                                   rng.uniform(0.3, 1.0), lambda: 0)
            keys = {egress, ingress}
            retire = (kind, ends)
        elif kind == "icmp":
            # Echo: request and reply are different keys (dport is
            # type << 8 | code), not each other's reverse.
            proto = ICMP if version == 4 else ICMPV6
            request, reply = (8 << 8, 0) if version == 4 else (128 << 8, 129 << 8)
            outbound = rng.random() < 0.7
            src, dst = (local, remote) if outbound else (remote, local)
            out_dir, in_dir = ("egress", "ingress") if outbound else ("ingress", "egress")
            ask = key_tuple(ifindex, out_dir, version, proto, src, dst, 0, request)
            answer = key_tuple(ifindex, in_dir, version, proto, dst, src, 0, reply)
            sides = [ask] if rng.random() < 0.1 else [ask, answer]
            script = self.body(sides, max(1, self.body_length()), 0.95, lambda: 0)
            keys = {ask, answer}
            retire, bulk = None, 2
        else:
            egress, ingress = self.pair(ifindex, version, GRE, local, remote, 0, 0)
            script = self.body([egress, ingress], max(1, self.body_length()), 0.9, lambda: 0)
            keys = {egress, ingress}
            retire = None
        if keys & self.busy:
            return None
        conv = Conversation(keys, script, bulk)
        conv.retire = retire
        return conv

    def burst(self):
        """Many one-tick conversations at once: more rows than the cache."""
        rng = self.rng
        count = int(self.cache_size * rng.uniform(1.1, 1.6)) + 3
        ifindex, version, local, remote = self.endpoints()
        kind = rng.choice(["scan_out", "scan_in", "dns"])
        convs = []
        ports = rng.sample(range(1, 65536), count)
        for port in ports:
            if kind == "dns":
                # A resolver storm: one query and its answer per port.
                egress, ingress = self.pair(ifindex, version, UDP, local,
                                            self.remote_address(version), port, 53)
                script = [{egress: 0, ingress: 0}]
                if rng.random() < 0.1:
                    script = [{egress: 0}]
            else:
                scanner_port = rng.randint(32768, 60999)
                if kind == "scan_out":      # this host scans the remote
                    egress, ingress = self.pair(ifindex, version, TCP, local, remote,
                                                scanner_port, port)
                    init, resp = egress, ingress
                else:                       # the remote scans this host
                    egress, ingress = self.pair(ifindex, version, TCP, local, remote,
                                                port, scanner_port)
                    init, resp = ingress, egress
                # A closed port answers RST|ACK (only that side ends); a
                # filtered one does not answer; an open one SYN|ACK, then
                # the scanner's RST.
                script = rng.choice([[{init: SYN, resp: RST | ACK}],
                                     [{init: SYN}],
                                     [{init: SYN | RST, resp: SYN | ACK}]])
            conv = Conversation({egress, ingress}, script, 1)
            conv.retire = None
            if not conv.keys & self.busy:
                convs.append(conv)
                self.busy |= conv.keys
        return convs

    # -- rows and ops -------------------------------------------------------

    def row_counts(self, key, flags, bulk):
        rng = self.rng
        if flags & (SYN | RST) and not flags & PSH:
            packets = rng.choice([1, 1, 1, 2, 3])
        else:
            packets = rng.randint(1, bulk)
        header = 40 if key[2] == 4 else 60
        if key[3] == UDP or key[3] in (ICMP, ICMPV6):
            header -= 12
        nbytes = packets * header + rng.randint(0, packets * (1500 - header))
        return packets, nbytes

    def times(self, packets, start, now, ties):
        """first_seen, last_seen in (start, now]; sometimes a shared last_seen."""
        rng = self.rng
        if rng.random() < 0.3:
            last = rng.choice(ties)
        else:
            last = rng.randint(start + 1, now)
        first = last if packets == 1 else rng.randint(start + 1, last)
        return first, last

    def overflow_rows(self, busy_tick):
        rows = []
        for ifindex in LOCAL:
            for direction in ("ingress", "egress"):
                if self.rng.random() < (0.5 if busy_tick else 0.02):
                    # Everything that found the kernel table full: flags of
                    # many TCP flows, FIN and RST from both directions.
                    flags = 0
                    for f in (ACK, PSH | ACK, SYN, FIN | ACK, RST, 0):
                        if self.rng.random() < 0.3:
                            flags |= f
                    rows.append((overflow_key(ifindex, direction), flags, 200))
        return rows

    def tick_rows(self, start, now):
        """The rows of one drain for the interval (start, now]."""
        rng = self.rng
        burst = rng.random() < 0.012
        if burst:
            self.live += self.burst()
        # Spawn towards the target population.
        want = max(0.0, (self.target - len(self.live)) * 0.3) + 0.3
        for _ in range(int(want) + (rng.random() < want - int(want))):
            conv = self.new_conversation()
            if conv is not None:
                self.live.append(conv)
                self.busy |= conv.keys
        raw = []
        for conv in self.live:
            for key, flags in conv.step().items():
                raw.append((key, flags, conv.bulk))
        raw += self.overflow_rows(burst)
        for conv in [c for c in self.live if c.done()]:
            self.live.remove(conv)
            self.busy -= conv.keys
            if conv.retire is not None:
                self.retired.append(conv.retire)
                self.retired = self.retired[-200:]
        # A few instants shared by several rows: last_seen ties, the drain
        # time itself among them (for exact timeouts on the grid).
        ties = [now] + [rng.randint(start + 1, now) for _ in range(2)]
        rows = []
        for key, flags, bulk in raw:
            packets, nbytes = self.row_counts(key, flags, bulk)
            first, last = self.times(packets, start, now, ties)
            rows.append({"key": self.key_json(key), "packets": packets, "bytes": nbytes,
                         "first_seen_ns": first, "last_seen_ns": last,
                         "tcp_flags": flags})
        rng.shuffle(rows)                # the kernel's map order is no order
        return rows

    def key_json(self, key):
        ifindex, direction, version, proto, src, dst, sport, dport = key
        if version == 6 and self.rng.random() < 0.05:
            # The same address spelled differently must be the same key.
            spell = self.rng.choice([lambda a: ipaddress.IPv6Address(a).exploded,
                                     lambda a: a.upper()])
            src, dst = spell(src), spell(dst)
        return {"ifindex": ifindex, "direction": direction, "ip_version": version,
                "proto": proto, "src": src, "dst": dst, "sport": sport, "dport": dport}

    def ops(self, nops):
        rng = self.rng
        out = [{"op": "config", "idle_timeout_ns": self.idle,
                "active_timeout_ns": self.active, "end_quiet_ns": self.quiet,
                "cache_size": self.cache_size}]
        now = 10**12 + rng.randrange(SECOND)
        last_drain = now - TICK
        on_grid = True
        while len(out) < nops - 1:
            # Stretches of drains exactly one TICK apart (a timer-driven
            # drainer), where a timeout can end exactly on an expire's now,
            # alternate with jittered ones.
            if rng.random() < 0.1:
                on_grid = not on_grid
            if on_grid:
                step = TICK
            else:
                step = TICK + rng.randint(-TICK // 4, TICK // 4)
            if rng.random() < 0.01:
                # A drainer stall: idle timeouts pass between two drains.
                step = rng.randint(self.idle_ticks + 1, 3 * self.idle_ticks) * TICK
            now = last_drain + step
            if rng.random() < 0.02:
                rows = []                      # a quiet second: nothing moved
            else:
                rows = self.tick_rows(last_drain, now)
            out.append({"op": "drain", "now_ns": now, "rows": rows})
            last_drain = now
            r = rng.random()
            # Usually an expire at the drain's time; sometimes a little
            # later, sometimes none, sometimes a second one. All stay within
            # TICK / 2 of the drain, before the next drain (>= 3/4 TICK on).
            if r < 0.85:
                expire_at = now
            elif r < 0.92:
                expire_at = now + rng.randint(1, TICK // 4)
            else:
                expire_at = None
            if expire_at is not None and len(out) < nops - 1:
                out.append({"op": "expire", "now_ns": expire_at})
                if rng.random() < 0.05 and len(out) < nops - 1:
                    out.append({"op": "expire",
                                "now_ns": expire_at + rng.randint(0, TICK // 4)})
            if self.leave_rng.random() < 0.02 and len(out) < nops - 1:
                out.append({"op": "leave", "now_ns": out[-1]["now_ns"],
                            "ifindex": self.leave_rng.choice(sorted(LOCAL))})
        last = max(op.get("now_ns", 0) for op in out)
        out.append({"op": "shutdown", "now_ns": last + rng.randint(0, TICK)})
        return out


def generate(seed, nops, cache_size):
    """The trace for these arguments, as a list of op dicts."""
    if nops < 2:
        raise ValueError("a trace needs at least 2 ops (config and shutdown)")
    return Generator(seed, cache_size).ops(nops)


# ---------------------------------------------------------------------------
# The checker: what any correct cache's records satisfy, whatever the rules.

def canonical_key(key):
    """KEY as its canonical-order tuple (addresses as 16 bytes, v4 mapped)."""
    def packed(a):
        if a is None:
            return bytes(16)
        ip = ipaddress.ip_address(a)
        if ip.version == 4:
            return bytes(10) + b"\xff\xff" + ip.packed
        return ip.packed
    return (key["ifindex"], {"ingress": 0, "egress": 1}[key["direction"]],
            key["ip_version"], key["proto"], packed(key["src"]), packed(key["dst"]),
            key["sport"], key["dport"])


def check_records(ops, records):
    """(errors, records per reason) of records against the trace ops."""
    errors = []
    counts = collections.Counter({r: 0 for r in REASONS})
    rows_sum = collections.defaultdict(lambda: [0, 0, 0, None, None])
    names = {}                  # canonical key -> a KEY object, for messages
    for op in ops:
        for row in op.get("rows", []):
            key = canonical_key(row["key"])
            names.setdefault(key, row["key"])
            s = rows_sum[key]
            s[0] += row["packets"]
            s[1] += row["bytes"]
            s[2] |= row["tcp_flags"]
            s[3] = row["first_seen_ns"] if s[3] is None else min(s[3], row["first_seen_ns"])
            s[4] = row["last_seen_ns"] if s[4] is None else max(s[4], row["last_seen_ns"])
    if ops[-1]["op"] != "shutdown":
        errors.append("the trace does not end with a shutdown")
    recs_sum = collections.defaultdict(lambda: [0, 0, 0, None, None])
    previous = (-1, None)
    for n, rec in enumerate(records):
        where = "record %d (op %s)" % (n, rec.get("op_index"))
        k = rec["op_index"]
        if not 0 < k < len(ops):
            errors.append("%s: no such op" % where)
            continue
        if rec["end_reason"] not in EMITTING[ops[k]["op"]]:
            errors.append("%s: %s from a %s op" % (where, rec["end_reason"], ops[k]["op"]))
        counts[rec["end_reason"]] += 1
        key = canonical_key(rec["key"])
        names.setdefault(key, rec["key"])
        # Equal keys in one op only from a drain: a key whose old entry and
        # new entry are both evicted by the same drain.
        if (k, key) < previous or ((k, key) == previous and ops[k]["op"] != "drain"):
            errors.append("%s: out of order (op, then key)" % where)
        previous = (k, key)
        if rec["key"] != canonical_json_key(rec["key"]):
            errors.append("%s: key not in canonical spelling" % where)
        if not (rec["packets"] >= 1 and rec["flow_start_ns"] <= rec["first_seen_ns"]
                <= rec["last_seen_ns"] <= ops[k]["now_ns"] and 0 <= rec["tcp_flags"] <= 255):
            errors.append("%s: inconsistent: %s" % (where, json.dumps(rec)))
        s = recs_sum[key]
        s[0] += rec["packets"]
        s[1] += rec["bytes"]
        s[2] |= rec["tcp_flags"]
        s[3] = rec["first_seen_ns"] if s[3] is None else min(s[3], rec["first_seen_ns"])
        s[4] = rec["last_seen_ns"] if s[4] is None else max(s[4], rec["last_seen_ns"])
    for key in sorted(set(rows_sum) | set(recs_sum)):
        want, got = rows_sum.get(key), recs_sum.get(key)
        if want != got:
            errors.append("key %s: rows [packets, bytes, flags, first, last] %s, records %s"
                          % (json.dumps(names[key]), want, got))
    return errors, counts


def canonical_json_key(key):
    def spell(a):
        return None if a is None else str(ipaddress.ip_address(a))
    return dict(key, src=spell(key["src"]), dst=spell(key["dst"]))


def coverage(ops, records, cache_size):
    """What the trace and its records exercised, for the report."""
    c = collections.Counter()
    for op in ops:
        rows = op.get("rows", [])
        c["drains"] += op["op"] == "drain"
        c["rows"] += len(rows)
        c["drains > cache"] += len(rows) > cache_size
        c["empty drains"] += op["op"] == "drain" and not rows
        lasts = collections.Counter(r["last_seen_ns"] for r in rows)
        c["rows tied on last_seen"] += sum(n for n in lasts.values() if n > 1)
        for r in rows:
            c["overflow rows"] += r["key"]["ip_version"] == 0
            c["IPv4 rows"] += r["key"]["ip_version"] == 4
            c["IPv6 rows"] += r["key"]["ip_version"] == 6
            c["ifindex %d rows" % r["key"]["ifindex"]] += 1
    starts = collections.defaultdict(set)
    actives = collections.Counter()
    for rec in records:
        key, reason, flags = rec["key"], rec["end_reason"], rec["tcp_flags"]
        starts[canonical_key(key)].add(rec["flow_start_ns"])
        actives[canonical_key(key)] += reason == "active"
        if reason == "end":
            c["end (%s)" % key["direction"]] += 1
            c["end with RST"] += bool(flags & RST)
        tcp = key["proto"] == TCP and key["ip_version"] != 0
        # A FIN that did not end its flow: seen one way only (or its
        # reverse had left the cache).
        c["TCP idle records with FIN, no RST"] += (tcp and reason == "idle"
                                                   and flags & (FIN | RST) == FIN)
        c["overflow records"] += key["ip_version"] == 0
    c["keys with several flow starts"] = sum(len(s) > 1 for s in starts.values())
    c["keys with 3+ active records"] = sum(n >= 3 for n in actives.values())
    return c


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--ops", type=int, default=2000)
    p.add_argument("--cache-size", type=int, default=64)
    p.add_argument("--check", metavar="RECORDS", help="check these records of the trace")
    p.add_argument("--trace", metavar="TRACE", help="with --check: the trace, from a file")
    a = p.parse_args()
    if a.cache_size < 1 or a.ops < 2:
        p.error("--cache-size must be at least 1 and --ops at least 2")
    if a.trace:
        with open(a.trace) as f:
            ops = [json.loads(line) for line in f if line.strip()]
    else:
        ops = generate(a.seed, a.ops, a.cache_size)
    if not a.check:
        if a.trace:
            p.error("--trace only goes with --check")
        out = sys.stdout
        for op in ops:
            out.write(json.dumps(op, separators=(",", ":")) + "\n")
        return 0
    with open(a.check) as f:
        records = [json.loads(line) for line in f if line.strip()]
    errors, counts = check_records(ops, records)
    for e in errors[:20]:
        print(e, file=sys.stderr)
    if len(errors) > 20:
        print("... %d errors in all" % len(errors), file=sys.stderr)
    print("%d records: %s" % (len(records), ", ".join("%s %d" % (r, counts[r]) for r in REASONS)),
          file=sys.stderr)
    cov = coverage(ops, records, ops[0]["cache_size"])
    print("coverage: %s" % ", ".join("%s %d" % kv for kv in sorted(cov.items())),
          file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
