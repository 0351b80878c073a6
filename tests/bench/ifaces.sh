#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The bench's section 11: one daemon following many interfaces, with churn.
#
#   tests/bench/ifaces.sh [--quick] [--ifaces N] [--minutes M] [--per-minute C]
#                         [--into FILE]
#
# `flowacct run --iface 'bq*'` in a namespace of its own, where veth pairs
# bqK/bpK have both ends (the glob takes bqK only; frames sent out of bpK
# arrive at bqK's ingress). Run twice, the same way, in the same run: a
# reference with one interface, then N (500). Each run:
#
#   1. the daemon starts with none; N pairs appear at once (ip -batch):
#      seconds until `status -j` shows all N live;
#   2. for M minutes (2), C pairs (50) appear and C go per minute, evenly
#      spread (tests/bench/ifaces_drive.py), with light traffic on every
#      interface, and a sender on each new one from its creation: the
#      daemon's CPU, memory, its maps' kernel memory and its files, attach
#      latency, what its log says it took, left and refused, and a counters
#      line for every interface that left (the run fails without one);
#   3. SIGTERM; a new daemon started with the N there: seconds to
#      "running on";
#   4. the same two runs with `run --layout set`: one program set and one
#      pair of tables for all the daemon's interfaces;
#   5. then the same N pairs under one program set through
#      tests/c/set_drive.c: the programs' load once, each interface's join,
#      the set's maps' kernel memory.
#
# Measured through the command, status -j and /proc only, so that it holds
# whatever the daemon does inside. Prints the section (markdown) on
# standard output; --into FILE puts it into FILE in place of the section
# there (or before its "Run time:" line). --quick: 5 interfaces and 5 s of
# churn, the smoke run of scripts/bench.sh --quick. The variables
# IFB_IFACES, IFB_MINUTES and IFB_PER_MINUTE set N, M and C too. Needs
# root and build/flowacct. Everything it makes is removed on exit, failed
# or not.

set -euo pipefail
cd "$(dirname "$0")/../.."

BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
FA=$BUILD/flowacct
N=${IFB_IFACES:-500}
MINUTES=${IFB_MINUTES:-2}
PER_MINUTE=${IFB_PER_MINUTE:-50}
INTO=
QUICK=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--ifaces) N=$2; shift ;;
	--minutes) MINUTES=$2; shift ;;
	--per-minute) PER_MINUTE=$2; shift ;;
	--into) INTO=$2; shift ;;
	*) echo "Usage: tests/bench/ifaces.sh [--quick] [--ifaces N] [--minutes M] [--per-minute C] [--into FILE]" >&2
	   exit 1 ;;
	esac
	shift
done
SECS=$(awk -v m="$MINUTES" 'BEGIN { print m * 60 }')
FRESH=10
[ $QUICK = 0 ] || { N=5 SECS=5 PER_MINUTE=24 FRESH=3; }
# How long a start or a burst may take before the run fails.
LIMIT=$((120 + 2 * N))
[ "$(id -u)" = 0 ] || { echo "tests/bench/ifaces.sh: needs root" >&2; exit 1; }
[ -x "$FA" ] || { echo "tests/bench/ifaces.sh: $FA is not built" >&2; exit 1; }

# shellcheck source=tests/helpers/lib.sh
source tests/helpers/lib.sh
SCRATCH=$(mktemp -d)
NS=fa-$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')-ifb
IN="nsenter --net=/run/netns/$NS"
DPID=
SPID=
ifb_cleanup() {
	local rc=$? i
	set +e
	[ -z "$SPID" ] || kill -TERM "$SPID" 2>/dev/null
	if [ -n "$DPID" ]; then
		kill -TERM "$DPID" 2>/dev/null
		# 500 interfaces' last records take a while; then it is killed
		# with the namespace.
		for i in $(seq 600); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
	fi
	(exit $rc)
	netns_cleanup
}
trap ifb_cleanup EXIT
# Nothing the kernel sends on its own (router solicitations, MLD): the
# frames counted are the driver's.
netns_new_quiet "$NS"
INO=$(stat -L -c %i /run/netns/"$NS")

say() { echo "ifaces: $*" >&2; }
now() { date +%s%N; }
# Seconds to the ms: one interface's `ip -batch` takes about 10 ms.
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }'; }

# pairs FIRST COUNT: pairs bqK/bpK, K from FIRST, both ends up, at once.
pairs() {
	local k
	for k in $(seq "$1" $(($1 + $2 - 1))); do
		echo "link add bq$k type veth peer name bp$k"
		echo "link set bp$k up"
		echo "link set bq$k up"
	done >"$SCRATCH/batch"
	ip -n "$NS" -batch "$SCRATCH/batch"
}

# daemon_start TAG: `flowacct run --iface 'bq*'` in $NS, its log in
# $SCRATCH/TAG.log, records to TAG.json; DPID; seconds to "running on" in
# START_S.
daemon_start() {
	local t0 end
	t0=$(now)
	# A bound, not a figure: here 0.3 s an interface.
	end=$((t0 / 1000000000 + LIMIT))
	LOG=$SCRATCH/$1.log
	$IN "$FA" run --iface 'bq*' "${LAYOUT_ARGS[@]}" --interval 1 \
		--json "$SCRATCH/$1.json" 2>"$LOG" &
	DPID=$!
	while ! grep -q "running on" "$SCRATCH/$1.log"; do
		kill -0 "$DPID" 2>/dev/null || fail "run exited: $(tail -3 "$SCRATCH/$1.log")"
		[ "$(date +%s)" -lt $end ] || fail "run did not start in $LIMIT s"
		sleep 0.05
	done
	START_S=$(since "$t0")
}

# daemon_stop: SIGTERM, exit 0 wanted; seconds in STOP_S.
daemon_stop() {
	local t0 rc=0
	t0=$(now)
	kill -TERM "$DPID"
	wait "$DPID" || rc=$?
	STOP_S=$(since "$t0")
	DPID=
	[ $rc = 0 ] || fail "run exited $rc on SIGTERM"
}

status() { $IN timeout 60 "$FA" status -j; }

# live_bq: how many bq interfaces of $NS status shows live (under a set:
# how many the daemon's log says it linked).
live_bq() {
	if [ "$LAYOUT" = set ]; then
		grep -c "^flowacct: linked 'bq" "$LOG" || true
		return
	fi
	status 2>/dev/null | python3 -c 'import json, sys
print(sum(1 for i in json.load(sys.stdin)["interfaces"]
          if i["this_netns"] and (i["iface"] or "").startswith("bq") and i["live"]))' 2>/dev/null ||
		echo 0
}

# snapshot FILE: what the daemon holds now, as JSON: from status -j, /proc
# and du.
snapshot() {
	status >"$SCRATCH/status.json"
	# One of the two globs matches nothing: du says so, and totals the other.
	{ du -skc /run/flowacct/net"$INO"-* /run/flowacct/run-net"$INO"-* 2>/dev/null || true; } |
		tail -1 | cut -f1 >"$SCRATCH/du"
	python3 - "$DPID" "$SCRATCH/status.json" "$SCRATCH/du" "$LAYOUT" "$LOG" "$INO" >"$1" <<-'PY'
	import glob, json, os, re, subprocess, sys
	pid, st, du = sys.argv[1], json.load(open(sys.argv[2])), int(open(sys.argv[3]).read())
	ours = [i for i in st["interfaces"] if i["this_netns"] and (i["iface"] or "").startswith("bq")]
	if sys.argv[4] == "set":
	    # The set's members: linked and not gone (its log); its pins: the
	    # set's maps, its tables among them.
	    log = open(sys.argv[5]).read()
	    held = (len(re.findall(r"^flowacct: linked 'bq", log, re.M)) -
	            len(re.findall(r"^flowacct: 'bq\d+' is gone", log, re.M)))
	    pins = tables = 0
	    for f in glob.glob("/sys/fs/bpf/flowacct/run-net%s-*/*" % sys.argv[6]):
	        out = subprocess.run(["bpftool", "-j", "map", "show", "pinned", f],
	                             capture_output=True, text=True)
	        if out.returncode:
	            continue	# a link's pin
	        m = json.loads(out.stdout).get("bytes_memlock", 0)
	        pins += m
	        tables += m if os.path.basename(f) in ("flows_0", "flows_1") else 0
	    ours = [{"live": True, "tables_memory_bytes": tables, "pins_memory_bytes": pins,
	             "run_files_bytes": 0}] + [{"live": True, "tables_memory_bytes": 0,
	             "pins_memory_bytes": 0, "run_files_bytes": 0}] * (held - 1)
	# The daemon's map fds, each map once (fdinfo's memlock: the kernel's
	# own accounting), whether they are pinned per interface or not.
	maps = {}
	for fd in os.listdir("/proc/%s/fdinfo" % pid):
	    try:
	        kv = dict(l.split(":", 1) for l in open("/proc/%s/fdinfo/%s" % (pid, fd)) if ":" in l)
	    except OSError:
	        continue
	    if "map_id" in kv and "memlock" in kv:
	        maps[int(kv["map_id"])] = int(kv["memlock"])
	rss = [l.split()[1] for l in open("/proc/%s/status" % pid) if l.startswith("VmRSS:")][0]
	print(json.dumps({
	    "held": len(ours), "live": sum(1 for i in ours if i["live"]),
	    "tables": sum(i["tables_memory_bytes"] for i in ours),
	    "pins": sum(i["pins_memory_bytes"] for i in ours),
	    "run_files": sum(i["run_files_bytes"] for i in ours),
	    "fd_maps": len(maps), "fd_memlock": sum(maps.values()),
	    "fds": len(os.listdir("/proc/%s/fd" % pid)),
	    "rss_kb": int(rss), "du_kb": du}))
	PY
}

# one_run TAG COUNT: the run of COUNT interfaces (see the top); its figures
# in $SCRATCH/TAG.fig.json.
one_run() {
	local tag=$1 n=$2 t0 burst_ip live
	say "$n interface(s): a burst after the start"
	daemon_start "$tag"
	t0=$(now)
	pairs 0 "$n"
	burst_ip=$(since "$t0")
	while live=$(live_bq); [ "$live" -lt "$n" ]; do
		kill -0 "$DPID" 2>/dev/null || fail "run exited: $(tail -3 "$SCRATCH/$tag.log")"
		[ "$(date +%s)" -lt $((t0 / 1000000000 + LIMIT)) ] ||
			fail "$live of $n interfaces live after $LIMIT s"
		sleep 0.1
	done
	echo "$(since "$t0") $burst_ip" >"$SCRATCH/$tag.burst"
	say "$n interface(s): $SECS s of churn, $PER_MINUTE a minute each way"
	seq 0 $((n - 1)) | sed 's/^/bq/' >"$SCRATCH/$tag.have"
	$IN python3 tests/bench/ifaces_drive.py --have "$SCRATCH/$tag.have" --first "$n" \
		--per-minute "$PER_MINUTE" --seconds "$SECS" --fresh "$FRESH" --pid "$DPID" \
		--out "$SCRATCH/$tag.drive.json" || fail "ifaces_drive.py failed"
	# A tick for the last ones' counters lines, then what it holds.
	sleep 2
	snapshot "$SCRATCH/$tag.snap.json"
	daemon_stop
	echo "$STOP_S" >"$SCRATCH/$tag.stop"
	say "$n interface(s): a start with them there"
	daemon_start "$tag-start"
	echo "$START_S" >"$SCRATCH/$tag.start"
	daemon_stop
	ip -n "$NS" -o link show | awk -F': ' '$2 ~ /^bq/ { sub(/@.*/, "", $2); print "link del " $2 }' \
		>"$SCRATCH/batch"
	ip -n "$NS" -batch "$SCRATCH/batch"
	python3 - "$SCRATCH" "$tag" "$n" <<-'PY' >"$SCRATCH/$tag.fig.json"
	import json, math, re, statistics, sys
	d, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
	rd = lambda f: open("%s/%s%s" % (d, tag, f)).read()
	drive = json.loads(rd(".drive.json"))
	burst, burst_ip = (float(x) for x in rd(".burst").split())
	stop = float(rd(".stop"))
	log = rd(".log")
	taken = len(re.findall(r"^flowacct: (attached to|adopted|linked) 'bq", log, re.M))
	left = len(re.findall(r"^flowacct: 'bq\d+' is gone", log, re.M))
	refused = len(re.findall(r"^flowacct: can't take 'bq", log, re.M))
	first, counters = {}, set()
	for line in open("%s/%s.json" % (d, tag)):
	    r = json.loads(line)
	    if r["type"] == "counters":
	        counters.add(r["iface"])
	    elif (r["type"] == "flow" and r["direction"] == "ingress" and r["proto"] == 17
	          and r["dport"] == 9 and r["iface"] in drive["created"]):
	        first[r["iface"]] = min(first.get(r["iface"], 1 << 20), r["sport"])
	lat = sorted(drive["created"][i]["sent"][str(p)] for i, p in first.items())
	# Nearest rank.
	pct = lambda q: lat[max(0, math.ceil(q * len(lat)) - 1)] if lat else float("nan")
	gone = drive["deleted"]
	print(json.dumps({
	    "n": n, "start_s": float(rd(".start")), "burst_s": burst, "burst_ip_s": burst_ip,
	    "seconds": drive["seconds"], "cpu_per_min": drive["cpu_s"] * 60 / drive["seconds"],
	    "stop_s": stop, "snap": json.loads(rd(".snap.json")),
	    "created": len(drive["created"]), "deleted": len(gone), "frames": drive["frames"],
	    "lat_n": len(lat), "lat_med": statistics.median(lat) if lat else float("nan"), "lat_p99": pct(0.99), "lat_max": lat[-1] if lat else float("nan"),
	    "taken": taken, "left": left, "refused": refused,
	    "counters_of_left": sum(1 for g in gone if g in counters)}))
	PY
	# Records are never lost: a counters line for every interface that left.
	python3 -c 'import json, sys
f = json.load(open(sys.argv[1]))
sys.exit(f["counters_of_left"] != f["deleted"])' "$SCRATCH/$tag.fig.json" ||
		fail "$tag: an interface that left has no counters line: $(cat "$SCRATCH/$tag.fig.json")"
}

# set_run TAG COUNT: COUNT pairs, one program set joined to every bq end
# (TC ingress and TCX, as the daemon chooses for a veth): its load, each
# join and its maps' memory, in $SCRATCH/TAG.fig.json.
set_run() {
	local tag=$1 n=$2 i
	say "$n interface(s): one program set"
	pairs 0 "$n"
	mkfifo "$SCRATCH/$tag.hold"
	# shellcheck disable=SC2046
	$IN "$BUILD/tests/set_drive" $(seq -f 'bq%g' 0 $((n - 1))) <"$SCRATCH/$tag.hold" \
		>"$SCRATCH/$tag.set" 2>"$SCRATCH/$tag.set.err" &
	SPID=$!
	exec 8>"$SCRATCH/$tag.hold"
	for i in $(seq $((LIMIT * 10))); do
		grep -q '^ready$' "$SCRATCH/$tag.set" && break
		kill -0 "$SPID" 2>/dev/null || fail "set_drive: $(tail -3 "$SCRATCH/$tag.set.err")"
		sleep 0.1
	done
	grep -q '^ready$' "$SCRATCH/$tag.set" || fail "set_drive: not ready in $LIMIT s"
	exec 8>&-
	wait "$SPID" || fail "set_drive: $(tail -3 "$SCRATCH/$tag.set.err")"
	SPID=
	ip -n "$NS" -o link show | awk -F': ' '$2 ~ /^bq/ { sub(/@.*/, "", $2); print "link del " $2 }' \
		>"$SCRATCH/batch"
	ip -n "$NS" -batch "$SCRATCH/batch"
	python3 - "$SCRATCH/$tag.set" "$n" >"$SCRATCH/$tag.fig.json" <<-'PY'
	import json, math, statistics, sys
	lines = [l.split() for l in open(sys.argv[1])]
	joins = sorted(float(l[3]) for l in lines if l[0] == "joined")
	if len(joins) != int(sys.argv[2]):
	    sys.exit("set_drive joined %d of %s" % (len(joins), sys.argv[2]))
	pct = lambda q: joins[max(0, math.ceil(q * len(joins)) - 1)]
	load = next(float(l[1]) for l in lines if l[0] == "loaded")
	mem = next(l for l in lines if l[0] == "memlock")
	print(json.dumps({"load_ms": load, "join_med": statistics.median(joins),
	                  "join_p99": pct(0.99), "join_max": joins[-1],
	                  "memlock": int(mem[1]), "maps": int(mem[2])}))
	PY
}

when="$(date -u +%Y-%m-%dT%H:%MZ), load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- lib loader common xdp tc 2>/dev/null || commit="$commit with changes"
t_all=$(now)
LAYOUT=iface
LAYOUT_ARGS=(--layout iface --max-flows 4096 --cache-size 4096)
one_run ref 1
one_run big "$N"
# One set for all: its tables and cache sized for all of them, as the
# iface runs' are in all.
LAYOUT=set
LAYOUT_ARGS=(--layout set --max-flows $((4096 * N)) --cache-size $((4096 * N)))
one_run lref 1
one_run lbig "$N"
set_run setref 1
set_run setbig "$N"
python3 - "$SCRATCH/ref.fig.json" "$SCRATCH/big.fig.json" "$commit" "$PER_MINUTE" \
	"$(since "$t_all")" "$QUICK" "$FRESH" "$when" \
	"$SCRATCH/setref.fig.json" "$SCRATCH/setbig.fig.json" \
	"$SCRATCH/lref.fig.json" "$SCRATCH/lbig.fig.json" >"$SCRATCH/section.md" <<-'PY'
import json, sys
r, b = (json.load(open(f)) for f in sys.argv[1:3])
lr, lb = (json.load(open(f)) for f in sys.argv[11:13])
commit, per_min, took, quick = sys.argv[3], sys.argv[4], float(sys.argv[5]), sys.argv[6] == "1"
fresh, when = float(sys.argv[7]), sys.argv[8]
sr, sb = (json.load(open(f)) for f in sys.argv[9:11])
n = b["n"]
mib = lambda x: x / 1048576
def daemon_rows(r, b):
    """The rows of one layout's two runs: 1 interface, then n."""
    per = lambda k: (b[k] - r[k]) / (n - 1)
    rows = []
    def row(what, fmt, rv, bv, pv=None):
        cell = lambda v: "" if v is None else fmt % v
        rows.append("| %s | %s | %s | %s |" % (what, cell(rv), cell(bv), cell(pv)))
    row("start with them there: s to \"running on\"", "%.2f", r["start_s"], b["start_s"], per("start_s"))
    row("a burst after the start: s until all live in status -j", "%.2f", r["burst_s"], b["burst_s"], per("burst_s"))
    # About 0.01 s for one interface: shown to the ms, never as 0.00.
    row("(of which the burst's ip commands, s)", "%.3f", r["burst_ip_s"], b["burst_ip_s"])
    row("daemon CPU s a minute, under churn", "%.2f", r["cpu_per_min"], b["cpu_per_min"], per("cpu_per_min"))
    for k, what in (("rss_kb", "resident memory (VmRSS), MiB"),):
        row(what, "%.1f", r["snap"][k] / 1024, b["snap"][k] / 1024, (b["snap"][k] - r["snap"][k]) / 1024 / (n - 1))
    for k, what in (("pins", "kernel memory of the maps pinned (pins_memory_bytes), MiB"),
                    ("tables", "of which the flow tables (tables_memory_bytes), MiB"),
                    ("fd_memlock", "kernel memory of the daemon's map fds (fdinfo memlock), MiB")):
        row(what, "%.2f", mib(r["snap"][k]), mib(b["snap"][k]), mib(b["snap"][k] - r["snap"][k]) / (n - 1))
    for k, what in (("fd_maps", "maps the daemon holds open"), ("fds", "its open descriptors")):
        row(what, "%d", r["snap"][k], b["snap"][k], (b["snap"][k] - r["snap"][k]) / (n - 1))
    row("files under /run/flowacct (du), MiB", "%.1f", r["snap"]["du_kb"] / 1024, b["snap"]["du_kb"] / 1024,
        (b["snap"]["du_kb"] - r["snap"]["du_kb"]) / 1024 / (n - 1))
    for k, what in (("lat_med", "median"), ("lat_p99", "p99"), ("lat_max", "max")):
        row("attach latency of the new ones, %s, ms" % what, "%.0f", r[k] * 1000, b[k] * 1000)
    row("new ones with a first packet counted, of those made", "%s",
        "%d of %d" % (r["lat_n"], r["created"]), "%d of %d" % (b["lat_n"], b["created"]))
    row("taken / left / refused (the daemon's log)", "%s",
        "%d / %d / %d" % (r["taken"], r["left"], r["refused"]), "%d / %d / %d" % (b["taken"], b["left"], b["refused"]))
    row("counters lines of those that left, of those deleted", "%s",
        "%d of %d" % (r["counters_of_left"], r["deleted"]), "%d of %d" % (b["counters_of_left"], b["deleted"]))
    row("interfaces held at the end (status -j), live", "%s",
        "%d, %d" % (r["snap"]["held"], r["snap"]["live"]), "%d, %d" % (b["snap"]["held"], b["snap"]["live"]))
    row("SIGTERM to exit, s", "%.2f", r["stop_s"], b["stop_s"], per("stop_s"))
    return rows

set_rows = []
def set_row(what, fmt, rv, bv, pv=None):
    cell = lambda v: "" if v is None else fmt % v
    set_rows.append("| %s | %s | %s | %s |" % (what, cell(rv), cell(bv), cell(pv)))
set_row("the programs' load and verification, once, ms", "%.0f", sr["load_ms"], sb["load_ms"])
for k, what in (("join_med", "median"), ("join_p99", "p99"), ("join_max", "max")):
    set_row("join of an interface (rows and links), %s, ms" % what, "%.1f", sr[k], sb[k])
set_row("kernel memory of the set's maps (fdinfo memlock), MiB", "%.2f", mib(sr["memlock"]),
        mib(sb["memlock"]), mib(sb["memlock"] - sr["memlock"]) / (n - 1))
set_row("maps the set holds", "%d", sr["maps"], sb["maps"])
minutes = b["seconds"] / 60
import textwrap
head = """One `flowacct run --iface 'bq*' --max-flows 4096 --cache-size 4096
--interval 1 --json FILE` in a namespace of its own, where veth pairs bqK/bpK
have both ends; frames sent out of bpK (an AF_PACKET socket) arrive at
bqK's ingress. tests/bench/ifaces.sh%s on %s; flowacct of %s.
Twice, the same way: with one interface (the reference), then %d. Each: the daemon started with
none, then the interfaces made at once (`ip -batch`), until `status -j`
shows all live; then %.1f minutes (%.0f s) with %s pairs a minute appearing
and as many going (the oldest), evenly spread (tests/bench/ifaces_drive.py),
one UDP frame every 20 s on every interface, and on each new one a frame
every 5 ms from just before its `ip link add` (every 50 ms after 2 s, until
%.0f s); then SIGTERM, and a new daemon started with them there. With one
interface the churn is the same, so each new one replaces the one before
and lives %.1f s.

CPU: user + system (/proc/PID/stat) over the churn. Memory, maps and files:
at its end. Attach latency: from `ip link add` to the first frame counted
(the lowest source port in the records), as test_follow_latency measures
it. Per interface: the difference over %d. The run fails if an interface
that left has no counters line."""
head %= (" --quick (smoke-test counts, not figures)" if quick else "", when, commit,
         n, minutes, b["seconds"], per_min, fresh, 60.0 / float(per_min), n - 1)
print("## 11. Many interfaces\n")
# Each paragraph filled again: the figures in it vary in width.
for para in head.split("\n\n"):
    print(textwrap.fill(para.replace("\n", " "), 76, break_on_hyphens=False) + "\n")
print("| | 1 interface | %d interfaces | per interface |\n|---|---:|---:|---:|" % n)
print("\n".join(daemon_rows(r, b)))
print()
print(textwrap.fill("The same two runs with `run --layout set --max-flows %d --cache-size %d`: "
      "one program set, one pair of tables and one cache for all the daemon's "
      "interfaces, sized for all of them as the runs above are in all. Its "
      "interfaces are counted from its log (linked, gone), its kernel memory "
      "from the set's pinned maps." % (4096 * n, 4096 * n), 76, break_on_hyphens=False) + "\n")
print("| | 1 interface | %d interfaces | per interface |\n|---|---:|---:|---:|" % n)
print("\n".join(daemon_rows(lr, lb)))
print()
print(textwrap.fill("The same interfaces under one program set driven alone (lib/set.c, "
      "through tests/c/set_drive.c): the programs loaded once "
      "with the default tables (65536 flows, shared by every interface), then "
      "each interface joined: its counters and overflow rows made, its TC "
      "ingress and egress linked (TCX).", 76, break_on_hyphens=False) + "\n")
print("| | 1 interface | %d interfaces | per interface |\n|---|---:|---:|---:|" % n)
print("\n".join(set_rows))
print("\nSection run time: %.0f s.\n" % took)
PY
if [ -n "$INTO" ]; then
	python3 - "$INTO" "$SCRATCH/section.md" <<-'PY'
	import re, sys
	path, new = sys.argv[1], open(sys.argv[2]).read()
	text = open(path).read()
	m = re.search(r"^## 11\. .*?(?=^## |^Run time:|\Z)", text, re.M | re.S)
	if m:
	    text = text[:m.start()] + new + text[m.end():]
	else:
	    m = re.search(r"^Run time:", text, re.M)
	    at = m.start() if m else len(text)
	    text = text[:at] + new + text[at:]
	open(path, "w").write(text)
	PY
	say "wrote section 11 into $INTO"
else
	cat "$SCRATCH/section.md"
fi
