#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Reference model of the user-space flow cache with expiry.

    expiry_model.py TRACE.jsonl > RECORDS.jsonl
    expiry_model.py --self-test

An independent, deliberately plain implementation of the expiry rules, for
differential testing of the C flow cache: both read the same trace (JSON
lines: a config op, then drain, expire and shutdown ops; see
tests/checkers/expiry_traces.py, which writes them) and must emit the same records.

Trace (input), one JSON object a line, no blank lines:
    {"op":"config","idle_timeout_ns":I,"active_timeout_ns":A,
     "end_quiet_ns":Q,"cache_size":N}                      always op 0
    {"op":"drain","now_ns":T,"rows":[ROW,...]}
    {"op":"expire","now_ns":T}
    {"op":"shutdown","now_ns":T}
    {"op":"leave","now_ns":T,"ifindex":i}
    ROW = {"key":KEY,"packets":p>=1,"bytes":b,"first_seen_ns":f,
           "last_seen_ns":l,"tcp_flags":F}   f <= l <= T, F 0..255, a key at
                                             most once in one drain
    KEY = {"ifindex":i,"direction":"ingress"|"egress","ip_version":4|6|0,
           "proto":p,"src":S,"dst":D,"sport":sp,"dport":dp}
An ip_version 0 KEY is an overflow row: src and dst null, proto and ports 0.
Two KEYs are the same flow iff all fields are equal, addresses compared as
parsed addresses.

Output: one JSON line per record, in the order of the ops that emitted them,
and within one op sorted by the canonical key order (two records of one key
in one drain, see FlowCache._sorted, in the order they were evicted):

    {"op_index":k,"key":KEY,"packets":p,"bytes":b,"first_seen_ns":f,
     "last_seen_ns":l,"flow_start_ns":s,"tcp_flags":F,"end_reason":R}

where k is the 0-based index of the op that emitted it (its line number;
the config op is op 0) and R is one of idle, active, end,
lack_of_resources, forced. Addresses are printed as Python's ipaddress
str() prints them.

Canonical key order: (ifindex, direction with ingress first, ip_version,
proto, src, dst, sport, dport), addresses as 16 bytes compared bytewise
(IPv4 as ::ffff:a.b.c.d, null as zeros). Canonical row order: (last_seen,
canonical key order).

The rules. An entry holds flow_start (min first_seen), last_seen (max), the
period (packets, bytes, OR of flags, period_first, period_last of the rows
merged since its last record), period_start (when the active timeout
started counting), flags_all (OR of all its rows' flags), end_pending
(sticky) and touch (a global counter, bumped by every row).
- drain: rows in canonical row order; a known key merges; a new key, if
  the cache holds cache_size entries, first evicts the entry with the
  smallest touch (record lack_of_resources), then is inserted with
  period_start = its first_seen.
- expire: first mark: a TCP entry (proto 6, ip_version 4 or 6) whose
  flags_all has RST becomes end_pending; if its flags_all has FIN and its
  reverse entry (same ifindex, other direction, addresses and ports swapped)
  is cached with FIN in flags_all too, both become end_pending. Then each
  entry takes the first rule that applies: end (end_pending and
  now - last_seen >= Q; leaves), idle (now - last_seen >= I; leaves), active
  (now - period_start >= A; record, then the period is emptied and
  period_start = now, even if it was empty; stays).
- shutdown: every entry leaves with a record forced.
- leave: every entry of interface i (its key's ifindex) leaves with a record
  forced; the others stay as they are.
A record carries the period, flow_start and the reason; an empty period
(packets 0) gives no record.

--self-test runs hand-made traces, each with the records worked out by hand
from the rules, then runs generated traces (tests/checkers/expiry_traces.py) through
the model and checks conservation (expiry_traces.check_records) and that the
cache is empty after the final shutdown. Exits 0 if all pass, 1 otherwise.
"""

import functools
import ipaddress
import json
import sys
from collections import OrderedDict

FIN = 0x01
SYN = 0x02
RST = 0x04
PSH = 0x08
ACK = 0x10
TCP = 6

# Rank of a direction in the canonical key order: ingress sorts first.
DIRECTIONS = {"ingress": 0, "egress": 1}
DIRECTION_NAMES = {rank: name for name, rank in DIRECTIONS.items()}

REASONS = ("idle", "active", "end", "lack_of_resources", "forced")

KEY_FIELDS = ("ifindex", "direction", "ip_version", "proto", "src", "dst",
              "sport", "dport")
KEY_FIELD_SET = frozenset(KEY_FIELDS)
ROW_FIELDS = frozenset(("key", "packets", "bytes", "first_seen_ns",
                        "last_seen_ns", "tcp_flags"))
OP_FIELDS = {
    "config": frozenset(("op", "idle_timeout_ns", "active_timeout_ns",
                         "end_quiet_ns", "cache_size")),
    "drain": frozenset(("op", "now_ns", "rows")),
    "expire": frozenset(("op", "now_ns")),
    "shutdown": frozenset(("op", "now_ns")),
    "leave": frozenset(("op", "now_ns", "ifindex")),
}

NO_ADDRESS = bytes(16)


class TraceError(Exception):
    """The trace breaks its own format; the model refuses to guess."""


def _int(obj, field, lo=0, hi=None):
    """obj[field] as an int in [lo, hi]; bools are not ints here."""
    v = obj.get(field)
    # type() rather than isinstance(): True and False are not counts.
    if type(v) is not int or v < lo or (hi is not None and v > hi):
        raise TraceError("%r missing, not an integer or out of range: %r" % (field, v))
    return v


def _fields(obj, expected, what):
    """Refuse missing and unknown fields: a typo must not pass as a default."""
    if type(obj) is not dict:
        raise TraceError("%s is not an object: %r" % (what, obj))
    if obj.keys() != expected:
        raise TraceError("%s has fields %s, expected %s"
                         % (what, sorted(obj), sorted(expected)))


@functools.lru_cache(maxsize=1 << 16)   # many keys share their addresses
def _address(text, version):
    """An address string as the 16 bytes it is ordered by: IPv4 mapped."""
    if type(text) is not str:
        raise TraceError("address is not a string: %r" % (text,))
    try:
        if version == 4:
            return b"\0" * 10 + b"\xff\xff" + ipaddress.IPv4Address(text).packed
        return ipaddress.IPv6Address(text).packed
    except ValueError as e:
        raise TraceError("bad IPv%d address %r: %s" % (version, text, e))


def parse_key(obj):
    """A trace KEY as its canonical tuple.

    The tuple is the canonical key order itself, (ifindex, direction rank,
    ip_version, proto, src 16 bytes, dst 16 bytes, sport, dport), so it is
    both what entries are looked up by (addresses compared as parsed, not as
    strings) and what rows and records sort by.
    """
    _fields(obj, KEY_FIELD_SET, "key")
    # A trace repeats its keys drain after drain: parse each spelling once.
    # The types are part of the cache key, so that 1 and True stay apart.
    values = tuple(map(obj.__getitem__, KEY_FIELDS))
    try:
        return _parse_key_values(values + tuple(map(type, values)))
    except TypeError:       # an unhashable value (a list, an object)
        raise TraceError("bad key %r" % (obj,))


@functools.lru_cache(maxsize=1 << 16)
def _parse_key_values(values):
    obj = dict(zip(KEY_FIELDS, values))     # the types follow, unused
    ifindex = _int(obj, "ifindex", 0, 2**32 - 1)
    if obj["direction"] not in DIRECTIONS:
        raise TraceError("bad direction %r" % (obj["direction"],))
    version = _int(obj, "ip_version")
    proto = _int(obj, "proto", 0, 255)
    sport = _int(obj, "sport", 0, 65535)
    dport = _int(obj, "dport", 0, 65535)
    if version == 0:
        # The overflow row of a hook: no addresses, protocol or ports.
        if obj["src"] is not None or obj["dst"] is not None or proto or sport or dport:
            raise TraceError("overflow key (ip_version 0) with a flow in it: %r" % (obj,))
        src = dst = NO_ADDRESS
    elif version in (4, 6):
        src = _address(obj["src"], version)
        dst = _address(obj["dst"], version)
    else:
        raise TraceError("bad ip_version %r" % (version,))
    return (ifindex, DIRECTIONS[obj["direction"]], version, proto, src, dst,
            sport, dport)


def reverse_key(key):
    """The other direction of the same conversation on the same interface."""
    ifindex, direction, version, proto, src, dst, sport, dport = key
    return (ifindex, 1 - direction, version, proto, dst, src, dport, sport)


@functools.lru_cache(maxsize=1 << 16)
def _address_text(packed, version):
    if version == 0:
        return None
    if version == 4:
        return str(ipaddress.IPv4Address(packed[12:]))
    return str(ipaddress.IPv6Address(packed))


def key_json(key):
    """A canonical key tuple as the KEY object of a record."""
    ifindex, direction, version, proto, src, dst, sport, dport = key
    return {"ifindex": ifindex, "direction": DIRECTION_NAMES[direction],
            "ip_version": version, "proto": proto,
            "src": _address_text(src, version),
            "dst": _address_text(dst, version),
            "sport": sport, "dport": dport}


def parse_row(obj, now):
    _fields(obj, ROW_FIELDS, "row")
    key = parse_key(obj["key"])
    # Checked inline rather than with _int(): rows are most of a trace.
    values = (obj["packets"], obj["bytes"], obj["first_seen_ns"],
              obj["last_seen_ns"], obj["tcp_flags"])
    packets, nbytes, first, last, flags = values
    if any(type(v) is not int for v in values):
        raise TraceError("row counts, times and flags must be integers: %r" % (obj,))
    if packets < 1 or nbytes < 0 or not 0 <= flags <= 255:
        raise TraceError("row with packets < 1, bytes < 0 or flags > 255: %r" % (obj,))
    if not 0 <= first <= last <= now:
        raise TraceError("row times not first <= last <= now: %d %d %d"
                         % (first, last, now))
    return key, packets, nbytes, first, last, flags


class Entry:
    """One cached flow; the field names are the spec's."""

    __slots__ = ("flow_start", "last_seen", "packets", "bytes", "flags",
                 "period_first", "period_last", "period_start", "flags_all",
                 "end_pending", "touch")

    def __init__(self, packets, nbytes, first, last, flags, touch):
        self.flow_start = first
        self.last_seen = last
        self.packets = packets
        self.bytes = nbytes
        self.flags = flags
        self.period_first = first
        self.period_last = last
        # The active timeout counts from the first packet of the flow.
        self.period_start = first
        self.flags_all = flags
        self.end_pending = False
        self.touch = touch

    def merge(self, packets, nbytes, first, last, flags, touch):
        self.packets += packets
        self.bytes += nbytes
        self.flags |= flags
        self.flags_all |= flags
        # An emptied period (after an active record) starts again at this row.
        self.period_first = first if self.period_first is None else min(self.period_first, first)
        self.period_last = last if self.period_last is None else max(self.period_last, last)
        self.last_seen = max(self.last_seen, last)
        self.flow_start = min(self.flow_start, first)
        self.touch = touch

    def reset_period(self, now):
        self.packets = self.bytes = self.flags = 0
        self.period_first = self.period_last = None
        self.period_start = now


class FlowCache:
    """The cache and its three operations; each returns its records, sorted."""

    def __init__(self, idle_timeout, active_timeout, end_quiet, cache_size):
        if cache_size < 1:
            raise TraceError("cache_size must be at least 1")
        self.idle_timeout = idle_timeout
        self.active_timeout = active_timeout
        self.end_quiet = end_quiet
        self.cache_size = cache_size
        # Entries in increasing touch order (a merge moves its entry to the
        # end), so the least recently touched is the first; the explicit
        # touch numbers are kept too, for check_invariants().
        self.entries = OrderedDict()
        self.counter = 0

    def _record(self, op_index, key, entry, reason):
        """The record of entry's period, or None for an empty period."""
        if entry.packets == 0:
            return None
        return {"op_index": op_index, "key": key, "packets": entry.packets,
                "bytes": entry.bytes, "first_seen_ns": entry.period_first,
                "last_seen_ns": entry.period_last,
                "flow_start_ns": entry.flow_start,
                "tcp_flags": entry.flags, "end_reason": reason}

    @staticmethod
    def _sorted(records):
        # An expire or shutdown emits a key at most once, but a drain can
        # evict the same key twice: its old entry, evicted by an earlier
        # row, then the new entry its own row made, evicted by a later row.
        # The sort is stable, so those two stay in eviction order (the old
        # entry first).
        return sorted((r for r in records if r is not None), key=lambda r: r["key"])

    def drain(self, op_index, rows):
        """rows: parsed (key, packets, bytes, first, last, flags) tuples."""
        records = []
        # Canonical row order: last_seen, then key; ties never depend on
        # the order rows were listed in.
        for key, packets, nbytes, first, last, flags in sorted(
                rows, key=lambda r: (r[4], r[0])):
            self.counter += 1
            entry = self.entries.get(key)
            if entry is not None:
                entry.merge(packets, nbytes, first, last, flags, self.counter)
                self.entries.move_to_end(key)
                continue
            if len(self.entries) >= self.cache_size:
                victim_key, victim = self.entries.popitem(last=False)
                records.append(self._record(op_index, victim_key, victim,
                                            "lack_of_resources"))
            self.entries[key] = Entry(packets, nbytes, first, last, flags,
                                      self.counter)
        return self._sorted(records)

    def _mark(self):
        """Sets end_pending where the TCP conversation is seen to be over."""
        for key, entry in self.entries.items():
            version, proto = key[2], key[3]
            if proto != TCP or version not in (4, 6):
                continue  # overflow rows and other protocols never end
            if entry.flags_all & RST:
                entry.end_pending = True
            if entry.flags_all & FIN:
                reverse = self.entries.get(reverse_key(key))
                if reverse is not None and reverse.flags_all & FIN:
                    entry.end_pending = True
                    reverse.end_pending = True

    def expire(self, op_index, now):
        # All marks first, so that whether an entry ends does not depend on
        # whether its reverse was looked at (and emitted) before it.
        self._mark()
        records = []
        for key, entry in list(self.entries.items()):
            if entry.end_pending and now - entry.last_seen >= self.end_quiet:
                reason = "end"
            elif now - entry.last_seen >= self.idle_timeout:
                reason = "idle"
            elif now - entry.period_start >= self.active_timeout:
                records.append(self._record(op_index, key, entry, "active"))
                entry.reset_period(now)  # even an empty period restarts
                continue
            else:
                continue
            records.append(self._record(op_index, key, entry, reason))
            del self.entries[key]
        return self._sorted(records)

    def shutdown(self, op_index):
        records = [self._record(op_index, key, entry, "forced")
                   for key, entry in self.entries.items()]
        self.entries.clear()
        return self._sorted(records)

    def leave(self, op_index, ifindex):
        gone = [key for key in self.entries if key[0] == ifindex]
        records = [self._record(op_index, key, self.entries.pop(key), "forced")
                   for key in gone]
        return self._sorted(records)

    def check_invariants(self):
        """For the self-test: the LRU order is the smallest-touch order."""
        touches = [e.touch for e in self.entries.values()]
        assert touches == sorted(touches) and len(set(touches)) == len(touches)
        assert len(self.entries) <= self.cache_size
        for e in self.entries.values():
            assert (e.packets == 0) == (e.period_first is None) == (e.period_last is None)


def parse_op(line, index):
    """One trace line as a dict with the op's fields, validated."""
    try:
        op = json.loads(line)
    except ValueError as e:
        raise TraceError("op %d: not JSON: %s" % (index, e))
    if not isinstance(op, dict) or not isinstance(op.get("op"), str) \
            or op["op"] not in OP_FIELDS:
        raise TraceError("op %d: unknown op: %.80s" % (index, line))
    _fields(op, OP_FIELDS[op["op"]], "op %d (%s)" % (index, op["op"]))
    return op


def run_ops(ops, check=False):
    """Runs parsed ops; returns (records in output order, the cache).

    check=True checks the cache's invariants after every op (self-test).
    """
    records = []
    cache = None
    for index, op in enumerate(ops):
        kind = op["op"]
        if (kind == "config") != (index == 0):
            raise TraceError("op %d: the config op must be op 0, and only it" % index)
        if kind == "config":
            cache = FlowCache(_int(op, "idle_timeout_ns"),
                              _int(op, "active_timeout_ns"),
                              _int(op, "end_quiet_ns"),
                              _int(op, "cache_size", 1))
            continue
        now = _int(op, "now_ns")
        if kind == "drain":
            if not isinstance(op["rows"], list):
                raise TraceError("op %d: rows is not a list" % index)
            try:
                rows = [parse_row(r, now) for r in op["rows"]]
            except TraceError as e:
                raise TraceError("op %d: %s" % (index, e))
            if len({r[0] for r in rows}) != len(rows):
                raise TraceError("op %d: a key appears twice in one drain" % index)
            records += cache.drain(index, rows)
        elif kind == "expire":
            records += cache.expire(index, now)
        elif kind == "leave":
            records += cache.leave(index, _int(op, "ifindex"))
        else:
            records += cache.shutdown(index)
        if check:
            cache.check_invariants()
    if cache is None:
        raise TraceError("empty trace: no config op")
    return records, cache


def record_json(record):
    out = dict(record)
    out["key"] = key_json(record["key"])
    return json.dumps(out, separators=(",", ":"))


def read_trace(path):
    with open(path) as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines):
        # op_index is a line number: a blank line would make it ambiguous.
        if not line.strip():
            raise TraceError("line %d is blank" % (i + 1))
    return [parse_op(line, i) for i, line in enumerate(lines)]


def main(argv):
    if len(argv) == 2 and argv[1] == "--self-test":
        return self_test()
    if len(argv) != 2 or argv[1].startswith("-"):
        print("usage: %s TRACE.jsonl > RECORDS.jsonl | --self-test" % argv[0],
              file=sys.stderr)
        return 2
    try:
        records, _ = run_ops(read_trace(argv[1]))
    except (TraceError, OSError) as e:
        print("%s: %s" % (argv[1], e), file=sys.stderr)
        return 1
    out = sys.stdout
    for r in records:
        out.write(record_json(r) + "\n")
    return 0


# ---------------------------------------------------------------------------
# Self-test: small traces with records worked out by hand from the rules.

def K(ifindex, direction, proto, src, dst, sport, dport, version=None):
    """A KEY object; the version follows from the address unless given."""
    if version is None:
        version = 0 if src is None else ipaddress.ip_address(src).version
    return {"ifindex": ifindex, "direction": direction, "ip_version": version,
            "proto": proto, "src": src, "dst": dst, "sport": sport,
            "dport": dport}


def REV(key):
    """The KEY object of the other direction."""
    return dict(key, direction="egress" if key["direction"] == "ingress" else "ingress",
                src=key["dst"], dst=key["src"], sport=key["dport"], dport=key["sport"])


def OVERFLOW(ifindex, direction):
    return K(ifindex, direction, 0, None, None, 0, 0)


def R(key, packets, first, last, flags=0, nbytes=None):
    """A ROW; bytes default to 100 a packet."""
    return {"key": key, "packets": packets,
            "bytes": 100 * packets if nbytes is None else nbytes,
            "first_seen_ns": first, "last_seen_ns": last, "tcp_flags": flags}


def CONFIG(idle, active, quiet, size):
    return {"op": "config", "idle_timeout_ns": idle, "active_timeout_ns": active,
            "end_quiet_ns": quiet, "cache_size": size}


def DRAIN(now, *rows):
    return {"op": "drain", "now_ns": now, "rows": list(rows)}


def EXPIRE(now):
    return {"op": "expire", "now_ns": now}


def SHUTDOWN(now):
    return {"op": "shutdown", "now_ns": now}


def REC(op_index, key, packets, first, last, start, flags, reason, nbytes=None):
    """An expected record, KEY as printed (canonical addresses)."""
    return {"op_index": op_index, "key": key, "packets": packets,
            "bytes": 100 * packets if nbytes is None else nbytes,
            "first_seen_ns": first, "last_seen_ns": last,
            "flow_start_ns": start, "tcp_flags": flags, "end_reason": reason}


A4, B4 = "192.0.2.1", "198.51.100.7"
A6, B6 = "2001:db8::1", "2001:db8::2"
UDP_A = K(2, "egress", 17, A4, B4, 40000, 53)
TCP_A = K(2, "egress", TCP, A4, B4, 40001, 443)   # local client -> server
TCP_B = REV(TCP_A)                                # server -> client, ingress
TCP6_A = K(3, "egress", TCP, A6, B6, 50000, 22)
TCP6_B = REV(TCP6_A)


def self_test_cases():
    """(name, ops, expected records) for each rule."""
    cases = []

    # idle at exactly idle_timeout after last_seen, not one ns before.
    cases.append(("idle at the boundary", [
        CONFIG(100, 1000, 10, 8),
        DRAIN(10, R(UDP_A, 2, 1, 5)),
        EXPIRE(104),
        EXPIRE(105),
        SHUTDOWN(200),
    ], [REC(3, UDP_A, 2, 1, 5, 1, 0, "idle")]))

    # active: period_start is the first packet; after the record the period
    # restarts at the expire's now, flow_start stays; the last period idles.
    cases.append(("active then idle", [
        CONFIG(100, 300, 10, 8),
        DRAIN(50, R(UDP_A, 1, 10, 50)),
        DRAIN(120, R(UDP_A, 2, 60, 120)),
        EXPIRE(120),                     # 110 since period_start: nothing
        DRAIN(200, R(UDP_A, 3, 130, 200)),
        DRAIN(290, R(UDP_A, 4, 210, 290)),
        EXPIRE(309),                     # 299 < 300: nothing
        DRAIN(310, R(UDP_A, 5, 300, 310)),
        EXPIRE(310),                     # 300 >= 300: active
        DRAIN(400, R(UDP_A, 6, 320, 400)),
        EXPIRE(400),                     # 90 since the reset: nothing
        EXPIRE(500),                     # idle; 190 since the reset
        SHUTDOWN(600),
    ], [REC(8, UDP_A, 15, 10, 310, 10, 0, "active"),
        REC(11, UDP_A, 6, 320, 400, 10, 0, "idle")]))

    # An active expiry with an empty period emits nothing but still restarts
    # the period (a later row is measured from that restart); an idle expiry
    # of an empty period emits nothing either, and the entry does leave.
    cases.append(("empty active, then empty idle", [
        CONFIG(200, 50, 10, 8),
        DRAIN(10, R(UDP_A, 1, 0, 10)),
        EXPIRE(60),      # active: record, period_start 60
        EXPIRE(109),     # 49 since 60: nothing
        EXPIRE(110),     # empty period, active: no record, period_start 110
        DRAIN(130, R(UDP_A, 2, 120, 130)),
        EXPIRE(159),     # 49 since 110: nothing (it would be active since 60)
        EXPIRE(160),     # active: record, flow_start still 0
        EXPIRE(210),     # empty period, active: period_start 210
        EXPIRE(330),     # idle (330 - 130), empty: no record, entry leaves
        DRAIN(340, R(UDP_A, 1, 335, 335)),  # so this is a new entry
        SHUTDOWN(350),
    ], [REC(2, UDP_A, 1, 0, 10, 0, 0, "active"),
        REC(7, UDP_A, 2, 120, 130, 0, 0, "active"),
        REC(11, UDP_A, 1, 335, 335, 335, 0, "forced")]))

    # A row merged into an emptied period starts it again at its own
    # first_seen; flow_start is the creation's.
    cases.append(("merge into an emptied period", [
        CONFIG(1000, 50, 10, 8),
        DRAIN(20, R(UDP_A, 1, 5, 20)),
        EXPIRE(55),                      # active
        DRAIN(80, R(UDP_A, 2, 70, 75)),
        SHUTDOWN(90),
    ], [REC(2, UDP_A, 1, 5, 20, 5, 0, "active"),
        REC(4, UDP_A, 2, 70, 75, 5, 0, "forced")]))

    # Rows out of time order within a flow: flow_start and period_first take
    # the minimum, but period_start stays the creating row's first_seen.
    cases.append(("earlier first_seen merged later", [
        CONFIG(1000, 100, 10, 8),
        DRAIN(60, R(UDP_A, 1, 50, 60)),
        DRAIN(70, R(UDP_A, 1, 40, 65)),
        EXPIRE(149),                     # 149 - 50 < 100 (149 - 40 would not be)
        EXPIRE(150),
        SHUTDOWN(160),
    ], [REC(4, UDP_A, 2, 40, 65, 40, 0, "active")]))

    # Ties in last_seen go by key order, not by listing order: ifindex first,
    # then ingress before egress. Cache of 2: the third new key evicts the
    # first inserted, which must be the smallest key.
    k1 = K(1, "egress", 17, A4, B4, 1, 1)
    k2 = K(2, "ingress", 17, A4, B4, 1, 1)
    k3 = K(2, "egress", 17, A4, B4, 1, 1)
    cases.append(("last_seen ties in key order", [
        CONFIG(1000, 1000, 10, 2),
        DRAIN(10, R(k3, 1, 5, 5), R(k1, 2, 5, 5), R(k2, 3, 5, 5)),
        SHUTDOWN(20),
    ], [REC(1, k1, 2, 5, 5, 5, 0, "lack_of_resources"),
        REC(2, k2, 3, 5, 5, 5, 0, "forced"),
        REC(2, k3, 1, 5, 5, 5, 0, "forced")]))

    # Addresses order as bytes, not as text: 9.0.0.1 < 10.0.0.2 and
    # 2001:db8::9 < 2001:db8::10, though both strings sort the other way.
    # A cache of 1 evicts each new key in turn, so which one is left for
    # shutdown shows the order the tied rows were taken in.
    v4a = K(1, "ingress", 17, "10.0.0.2", A4, 7, 7)
    v4b = K(1, "ingress", 17, "9.0.0.1", A4, 7, 7)
    v6a = K(1, "ingress", 17, "2001:db8::10", A6, 7, 7)
    v6b = K(1, "ingress", 17, "2001:db8::9", A6, 7, 7)
    cases.append(("address order is byte order", [
        CONFIG(1000, 1000, 10, 1),
        DRAIN(20, R(v4a, 1, 15, 15), R(v6a, 4, 15, 15), R(v6b, 2, 15, 15),
              R(v4b, 3, 15, 15)),
        SHUTDOWN(30),
    ], [REC(1, v4b, 3, 15, 15, 15, 0, "lack_of_resources"),
        REC(1, v4a, 1, 15, 15, 15, 0, "lack_of_resources"),
        REC(1, v6b, 2, 15, 15, 15, 0, "lack_of_resources"),
        REC(2, v6a, 4, 15, 15, 15, 0, "forced")]))

    # The LRU victim can be an entry touched earlier in the same drain: X is
    # merged (touch 3) before Y is inserted (touch 4), so Z evicts X, with
    # both drains' counts; rows are taken in last_seen order (Z is listed first).
    kx = K(2, "egress", 17, A4, B4, 1000, 53)
    ky = K(2, "egress", 17, A4, B4, 1001, 53)
    kz = K(2, "egress", 17, A4, B4, 1002, 53)
    kw = K(2, "egress", 17, A4, B4, 999, 53)
    cases.append(("evict an entry touched in the same drain", [
        CONFIG(1000, 1000, 10, 2),
        DRAIN(10, R(kx, 1, 1, 2), R(kw, 1, 1, 1)),
        DRAIN(20, R(kz, 4, 16, 17), R(kx, 2, 12, 13), R(ky, 3, 14, 15)),
        SHUTDOWN(30),
    ], [REC(2, kw, 1, 1, 1, 1, 0, "lack_of_resources"),
        REC(2, kx, 3, 1, 13, 1, 0, "lack_of_resources"),
        REC(3, ky, 3, 14, 15, 14, 0, "forced"),
        REC(3, kz, 4, 16, 17, 16, 0, "forced")]))

    # A key can be evicted twice in one drain: its old entry by a row that
    # sorts before the key's own row, then the entry that row made by a
    # later row. Both records, old first, sort before the larger key.
    cases.append(("a key evicted twice in one drain", [
        CONFIG(1000, 1000, 10, 1),
        DRAIN(10, R(kx, 1, 1, 1)),
        DRAIN(20, R(kz, 3, 15, 16), R(kx, 2, 13, 14), R(ky, 1, 12, 12)),
        SHUTDOWN(30),
    ], [REC(2, kx, 1, 1, 1, 1, 0, "lack_of_resources"),
        REC(2, kx, 2, 13, 14, 13, 0, "lack_of_resources"),
        REC(2, ky, 1, 12, 12, 12, 0, "lack_of_resources"),
        REC(3, kz, 3, 15, 16, 15, 0, "forced")]))

    # An evicted entry with an empty period leaves without a record.
    cases.append(("evict an empty period", [
        CONFIG(1000, 10, 5, 1),
        DRAIN(10, R(kx, 1, 1, 2)),
        EXPIRE(11),                      # active: record, empty period
        DRAIN(20, R(ky, 1, 15, 16)),     # evicts kx silently
        SHUTDOWN(30),
    ], [REC(2, kx, 1, 1, 2, 1, 0, "active"),
        REC(4, ky, 1, 15, 16, 15, 0, "forced")]))

    # FIN both ways: both end_pending; each ends end_quiet after its own
    # last_seen, the second even though its reverse has left (sticky).
    cases.append(("FIN in both directions", [
        CONFIG(1000, 1000, 10, 8),
        DRAIN(50, R(TCP_A, 5, 10, 40, SYN | ACK | PSH), R(TCP_B, 4, 11, 41, SYN | ACK)),
        EXPIRE(50),
        DRAIN(100, R(TCP_A, 1, 90, 90, FIN | ACK), R(TCP_B, 2, 92, 95, FIN | ACK)),
        EXPIRE(100),                     # TCP_A quiet for 10: end
        EXPIRE(104),                     # TCP_B quiet for 9: nothing
        EXPIRE(105),
        SHUTDOWN(200),
    ], [REC(4, TCP_A, 6, 10, 90, 10, SYN | ACK | PSH | FIN, "end"),
        REC(6, TCP_B, 6, 11, 95, 11, SYN | ACK | FIN, "end")]))

    # FINs in different drains: marked once both are in; a later final ACK
    # postpones the end (quiet counts from last_seen); flags over the whole
    # flow count, not only the current period (the FIN went out in an
    # active record already).
    cases.append(("FINs in different drains, across an active record", [
        CONFIG(1000, 60, 10, 8),
        DRAIN(50, R(TCP6_A, 3, 10, 45, SYN | FIN | ACK), R(TCP6_B, 2, 12, 44, SYN | ACK)),
        EXPIRE(72),                      # both active (72 - 10, 72 - 12)
        DRAIN(80, R(TCP6_B, 1, 75, 75, FIN | ACK)),
        DRAIN(90, R(TCP6_A, 1, 86, 86, ACK)),
        EXPIRE(90),                      # mark both; B quiet 15: end
        EXPIRE(95),                      # A quiet 9: nothing
        EXPIRE(96),
        SHUTDOWN(200),
    ], [REC(2, TCP6_B, 2, 12, 44, 12, SYN | ACK, "active"),     # ingress first
        REC(2, TCP6_A, 3, 10, 45, 10, SYN | FIN | ACK, "active"),
        REC(5, TCP6_B, 1, 75, 75, 12, FIN | ACK, "end"),
        REC(7, TCP6_A, 1, 86, 86, 10, ACK, "end")]))

    # end_quiet (like idle) counts from the entry's last_seen, not from the
    # period's: a late row (its last_seen older than the entry's) merged
    # after an active record does not make the entry quiet earlier.
    cases.append(("end counts from the entry's last_seen", [
        CONFIG(100, 30, 10, 8),
        DRAIN(50, R(TCP_A, 1, 10, 50, ACK)),
        EXPIRE(50),                      # active; period_start 50
        DRAIN(60, R(TCP_A, 1, 20, 30, RST)),
        EXPIRE(59),                      # 59 - 50 < 10 (59 - 30 would end)
        EXPIRE(60),
        SHUTDOWN(70),
    ], [REC(2, TCP_A, 1, 10, 50, 10, ACK, "active"),
        REC(5, TCP_A, 1, 20, 30, 10, RST, "end")]))

    # A FIN in one direction only (half close) never ends a flow: both
    # sides leave as idle.
    cases.append(("FIN one way only", [
        CONFIG(100, 1000, 10, 8),
        DRAIN(50, R(TCP_A, 2, 10, 40, FIN | ACK), R(TCP_B, 2, 11, 45, ACK | PSH)),
        EXPIRE(60),
        EXPIRE(139),
        EXPIRE(140),
        EXPIRE(145),
        SHUTDOWN(200),
    ], [REC(4, TCP_A, 2, 10, 40, 10, FIN | ACK, "idle"),
        REC(5, TCP_B, 2, 11, 45, 11, ACK | PSH, "idle")]))

    # The FIN rule needs the reverse entry in the cache: TCP_B's FIN comes
    # after TCP_A idled out, so it is a new entry with no reverse and idles.
    cases.append(("FIN after the reverse has left", [
        CONFIG(100, 1000, 10, 8),
        DRAIN(50, R(TCP_A, 1, 40, 40, FIN | ACK)),
        EXPIRE(140),
        DRAIN(150, R(TCP_B, 1, 145, 145, FIN | ACK)),
        EXPIRE(160),
        EXPIRE(245),
        SHUTDOWN(300),
    ], [REC(2, TCP_A, 1, 40, 40, 40, FIN | ACK, "idle"),
        REC(5, TCP_B, 1, 145, 145, 145, FIN | ACK, "idle")]))

    # RST on one side: that side ends; its reverse (FIN only on the RST side
    # does not help it) stays until idle. The RST side keeps receiving rows:
    # end_pending is sticky and waits for end_quiet of quiet.
    cases.append(("RST one side", [
        CONFIG(100, 1000, 10, 8),
        DRAIN(50, R(TCP_B, 1, 40, 40, RST | FIN), R(TCP_A, 3, 10, 45, ACK)),
        EXPIRE(49),                      # B marked, quiet only 9
        DRAIN(55, R(TCP_B, 1, 52, 52, ACK)),
        EXPIRE(61),                      # B quiet 9: nothing
        EXPIRE(62),                      # B ends
        EXPIRE(145),                     # A idles
        SHUTDOWN(200),
    ], [REC(5, TCP_B, 2, 40, 52, 40, RST | FIN | ACK, "end"),
        REC(6, TCP_A, 3, 10, 45, 10, ACK, "idle")]))

    # RST and FIN only count for TCP with addresses: UDP rows carrying
    # those bits, and overflow rows (ip_version 0) with FIN both ways and
    # RST, never end.
    udp_b = REV(UDP_A)
    ov_in, ov_eg = OVERFLOW(2, "ingress"), OVERFLOW(2, "egress")
    cases.append(("no end outside TCP", [
        CONFIG(100, 1000, 10, 8),
        DRAIN(50, R(UDP_A, 1, 40, 40, FIN | RST), R(udp_b, 1, 41, 41, FIN),
              R(ov_in, 9, 30, 42, FIN | RST | ACK), R(ov_eg, 8, 31, 43, FIN | ACK)),
        EXPIRE(100),
        EXPIRE(140),
        SHUTDOWN(142),
    ], [REC(3, UDP_A, 1, 40, 40, 40, FIN | RST, "idle"),
        REC(4, ov_in, 9, 30, 42, 30, FIN | RST | ACK, "forced"),
        REC(4, udp_b, 1, 41, 41, 41, FIN, "forced"),
        REC(4, ov_eg, 8, 31, 43, 31, FIN | ACK, "forced")]))

    # Rule order: end before idle; idle before active; with end_quiet longer
    # than idle_timeout, an end_pending entry idles out first.
    cases.append(("end before idle before active", [
        CONFIG(100, 50, 10, 8),
        DRAIN(20, R(TCP_A, 1, 10, 20, RST), R(UDP_A, 1, 15, 20)),
        EXPIRE(200),
        SHUTDOWN(300),
    ], [REC(2, TCP_A, 1, 10, 20, 10, RST, "end"),
        REC(2, UDP_A, 1, 15, 20, 15, 0, "idle")]))
    cases.append(("idle before end when end_quiet is longer", [
        CONFIG(100, 1000, 150, 8),
        DRAIN(20, R(TCP_A, 1, 10, 20, RST)),
        EXPIRE(119),
        EXPIRE(120),
        SHUTDOWN(300),
    ], [REC(3, TCP_A, 1, 10, 20, 10, RST, "idle")]))

    # A key that comes back after leaving is a new entry (new flow_start),
    # and the same address spelled differently is the same key; records
    # print the canonical spelling.
    spelled = K(3, "egress", TCP, "2001:DB8:0:0:0:0:0:1", "2001:0db8::2", 50000, 22)
    cases.append(("a key returns after leaving", [
        CONFIG(100, 1000, 10, 8),
        DRAIN(10, R(TCP6_A, 1, 5, 10, SYN)),
        DRAIN(20, R(spelled, 1, 15, 15, ACK)),
        EXPIRE(115),
        DRAIN(200, R(spelled, 2, 150, 190, ACK)),
        SHUTDOWN(250),
    ], [REC(3, TCP6_A, 2, 5, 15, 5, SYN | ACK, "idle"),
        REC(5, TCP6_A, 2, 150, 190, 150, ACK, "forced")]))

    # Shutdown: forced for every entry with packets, nothing for an emptied
    # period; the cache ends empty; an expire afterwards finds nothing.
    cases.append(("shutdown", [
        CONFIG(1000, 30, 10, 8),
        DRAIN(20, R(UDP_A, 1, 12, 20), R(TCP_A, 2, 11, 12, ACK)),
        EXPIRE(41),                      # TCP_A active (30), UDP_A not yet (29)
        SHUTDOWN(42),
        EXPIRE(5000),
    ], [REC(2, TCP_A, 2, 11, 12, 11, ACK, "active"),
        REC(3, UDP_A, 1, 12, 20, 12, 0, "forced")]))

    # A drain with more new keys than the cache: each new key past the
    # cache size evicts the oldest, including keys of this very drain.
    many = [K(7, "ingress", 17, "203.0.113.%d" % i, A4, 5353, 5353) for i in range(1, 6)]
    cases.append(("drain larger than the cache", [
        CONFIG(1000, 1000, 10, 2),
        DRAIN(10, *[R(k, 1, i, i) for i, k in enumerate(many)]),
        SHUTDOWN(20),
    ], [REC(1, many[i], 1, i, i, i, 0, "lack_of_resources") for i in range(3)]
       + [REC(2, many[i], 1, i, i, i, 0, "forced") for i in (3, 4)]))

    return cases


def _canonical_record(rec):
    """An expected record with its KEY spelled canonically."""
    out = dict(rec)
    out["key"] = key_json(parse_key(rec["key"]))
    return out


def self_test():
    failures = 0
    cases = self_test_cases()
    for name, ops, expected in cases:
        lines = [json.dumps(op) for op in ops]
        try:
            records, cache = run_ops([parse_op(l, i) for i, l in enumerate(lines)],
                                     check=True)
            got = [json.loads(record_json(r)) for r in records]
        except (TraceError, AssertionError) as e:
            got = "error: %r" % (e,)
            cache = None
        want = [_canonical_record(r) for r in expected]
        # Records per op are sorted by key: compare the lists as they are.
        if got != want or cache is None or cache.entries:
            failures += 1
            print("FAIL: %s" % name, file=sys.stderr)
            print("  want: %s" % json.dumps(want), file=sys.stderr)
            print("  got:  %s" % (got if isinstance(got, str) else json.dumps(got)),
                  file=sys.stderr)

    failures += _self_test_bad_traces()
    failures += _self_test_generated()
    print("%s: %d hand-made cases, %d bad traces, %d generated traces; %d failure(s)"
          % ("FAIL" if failures else "ok", len(cases), BAD_TRACES, len(GENERATED), failures),
          file=sys.stderr)
    return 1 if failures else 0


def _bad_traces():
    """Traces that break the format: the model must refuse them."""
    return [
        [DRAIN(10)],                                           # no config first
        [CONFIG(1, 1, 1, 0)],                                  # no room at all
        [CONFIG(1, 1, 1, 1), CONFIG(1, 1, 1, 1)],              # a second config
        [CONFIG(1, 1, 1, 1), DRAIN(10, R(UDP_A, 1, 5, 11))],   # last > now
        [CONFIG(1, 1, 1, 1), DRAIN(10, R(UDP_A, 1, 7, 6))],    # first > last
        [CONFIG(1, 1, 1, 1), DRAIN(10, R(UDP_A, 0, 5, 6))],    # no packets
        [CONFIG(1, 1, 1, 1), DRAIN(10, R(UDP_A, 1, 5, 6, 256))],
        [CONFIG(1, 1, 1, 1), DRAIN(10, R(UDP_A, 1, 5, 6), R(UDP_A, 1, 7, 8))],
        [CONFIG(1, 1, 1, 1), DRAIN(10, R(dict(UDP_A, src="2001:db8::1"), 1, 5, 6))],
        [CONFIG(1, 1, 1, 1), DRAIN(10, R(dict(UDP_A, ip_version=6), 1, 5, 6))],
        [CONFIG(1, 1, 1, 1), DRAIN(10, R(dict(UDP_A, ip_version=0), 1, 5, 6))],
        [CONFIG(1, 1, 1, 1), DRAIN(10, R(dict(UDP_A, sport=True), 1, 5, 6))],
        [CONFIG(1, 1, 1, 1), DRAIN(10, R(dict(UDP_A, direction="in"), 1, 5, 6))],
        [CONFIG(1, 1, 1, 1), DRAIN(10, dict(R(UDP_A, 1, 5, 6), extra=1))],
        [CONFIG(1, 1, 1, 1), {"op": "expire"}],
        [CONFIG(1, 1, 1, 1), {"op": "flush", "now_ns": 1}],
    ]


BAD_TRACES = len(_bad_traces())


def _self_test_bad_traces():
    failures = 0
    for ops in _bad_traces():
        try:
            run_ops([parse_op(json.dumps(op), i) for i, op in enumerate(ops)])
        except TraceError:
            continue
        failures += 1
        print("FAIL: accepted a bad trace: %s" % json.dumps(ops), file=sys.stderr)
    return failures


# (seed, ops, cache size) of the generated traces the self-test runs.
GENERATED = [(1, 2000, 64), (2, 1000, 16), (3, 1000, 4), (4, 500, 1), (5, 1000, 200)]


def _self_test_generated():
    """Generated traces: nothing lost, cache empty at the end, coverage."""
    import os
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.dont_write_bytecode = True      # leave no __pycache__ in tests/
    import expiry_traces

    # What the typical trace must exercise (expiry_traces.coverage()).
    wanted = ["drains > cache", "empty drains", "rows tied on last_seen",
              "overflow rows", "IPv4 rows", "IPv6 rows", "ifindex 2 rows",
              "ifindex 3 rows", "ifindex 7 rows", "end (egress)", "end (ingress)",
              "end with RST", "TCP idle records with FIN, no RST",
              "overflow records", "keys with several flow starts",
              "keys with 3+ active records"]
    failures = 0
    for seed, nops, size in GENERATED:
        lines = [json.dumps(op) for op in expiry_traces.generate(seed, nops, size)]
        ops = [parse_op(l, i) for i, l in enumerate(lines)]
        records, cache = run_ops(ops, check=True)
        got = [json.loads(record_json(r)) for r in records]
        errors, counts = expiry_traces.check_records(ops, got)
        if cache.entries:
            errors.append("cache not empty after shutdown")
        if size >= 16 and any(counts[r] == 0 for r in REASONS):
            errors.append("not every reason: %s" % dict(counts))
        if (seed, nops, size) == (1, 2000, 64):
            cov = expiry_traces.coverage(ops, got, size)
            errors += ["not covered: %s" % w for w in wanted if not cov[w]]
        for e in errors[:10]:
            print("FAIL: generated seed %d: %s" % (seed, e), file=sys.stderr)
        failures += bool(errors)
    return failures


if __name__ == "__main__":
    sys.exit(main(sys.argv))
