#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# A soak of the daemon: `flowacct run` under churning traffic for a long
# time, and whether it stays flat.
#
#   tests/bench/soak.sh [--seconds S] [--new-rate R] [--out FILE]
#
# (`make soak DURATION=S` runs it.) Two namespaces joined by a veth pair
# (tests/helpers/lib.sh's netns_pair, documentation addresses); `flowacct run`
# on namespace A's end with --interval 1 --idle-timeout 5 --active-timeout 30
# --end-timeout 2, its records as JSON lines to a file. For S seconds (3600)
# tests/bench/soak_traffic.py sends from A: R (400) new one-datagram UDP
# flows a second (IPv4 and IPv6), 8 long UDP flows sending all the time
# (cut by the active timeout), 50 flows that send once every 8 s (each
# leaves idle and comes back), and 10 TCP connections a second to a
# listener in B, one in 4 closed with RST and the others with FIN.
# Meanwhile: `flowacct dump` every 10 s (each must succeed); every 60 s the
# records file is moved away (as log rotation does) and the daemon gets
# SIGHUP, and a row of the table is taken, right after that dump, whose
# request gives the daemon's free heap back (a tick keeps up to 4 MiB of
# it for the next): the daemon's resident memory (VmRSS; its peak, VmHWM,
# is in the summary), open descriptors, the kernel memory of its maps
# (memlock of every map it holds or has pinned, each map once), the size
# of its files under /run/flowacct, the records written so far, its CPU
# seconds (user + system), and the errors so far (dumps that failed, lines
# the daemon wrote to standard error after it started but the one a stop
# writes when it detached the host's socket programs, datagrams the kernel
# refused).
#
# At the end, the traffic stopped and quiet past the idle timeout, a last
# dump and row, SIGTERM (every flow out as a record, then a counters
# line), and the checks:
#  - flat: from minute 5 on, resident memory and descriptors within 2 % of
#    their value at minute 5 (a run too short to have a row after minute
#    5's is not judged, and says so);
#  - the records of each direction add up to the counters line exactly, no
#    lack_of_resources record, no overflow row, no failed insert; each
#    daemon instance's sequence numbers without a gap;
#  - each kind of UDP flow's records add up to what was sent, packets and
#    bytes;
#  - 0 errors.
# Writes the table and the verdict as markdown to FILE (tests/bench/SOAK.md)
# and to standard output; exits 1 if a check failed. Everything it makes is
# removed on exit, failed or not. Needs root and build/flowacct.

set -euo pipefail
cd "$(dirname "$0")/../.."

BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
FA=$BUILD/flowacct
TRAFFIC=tests/bench/soak_traffic.py

SECONDS_RUN=3600 NEW_RATE=400 OUT=tests/bench/SOAK.md
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) SECONDS_RUN=$2; shift ;;
	--new-rate) NEW_RATE=$2; shift ;;
	--out) OUT=$2; shift ;;
	*) sed -n '7p' "$0" | sed 's/^# //' >&2; exit 1 ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || { echo "soak: needs root" >&2; exit 1; }
[ -x "$FA" ] || { echo "soak: $FA is not built: make" >&2; exit 1; }
OUT=$(realpath "$OUT")

IDLE_TIMEOUT=5 ACTIVE_TIMEOUT=30 END_TIMEOUT=2
RUN_OPTS=(--interval 1 --idle-timeout $IDLE_TIMEOUT --active-timeout $ACTIVE_TIMEOUT
	--end-timeout $END_TIMEOUT)

# shellcheck source=tests/helpers/lib.sh
source tests/helpers/lib.sh
netns_pair	# $NSA/$VA (192.0.2.1) <-> $NSB/$VB (192.0.2.2); netns_cleanup on exit
DAEMON= SENDER= LISTENER=
soak_cleanup() {
	local rc=$?
	set +e
	for p in $SENDER $LISTENER $DAEMON; do kill -9 "$p" 2>/dev/null; done
	(exit $rc)
	netns_cleanup
}
trap soak_cleanup EXIT

say() { echo "soak: $*" >&2; }

REC=$SCRATCH/rec.json
LOG=$SCRATCH/run.log
ROWS=$SCRATCH/rows.tsv
START_UTC=$(date -u +%Y-%m-%dT%H:%M:%SZ)
# The commit that runs, taken now: the tree may move on during an hour.
COMMIT=$(git rev-parse --short=12 HEAD)$(git diff --quiet HEAD -- . || echo '+dirty')

warm_up
$INB python3 $TRAFFIC listen --addr 192.0.2.2 --port 9000 &
LISTENER=$!
for _ in $(seq 50); do
	$INB ss -Hntl "sport = :9000" | grep -q . && break
	sleep 0.1
done

$INA "$FA" run --layout iface "$VA" "${RUN_OPTS[@]}" --json "$REC" 2>"$LOG" &
DAEMON=$!
for _ in $(seq 200); do
	grep -q "running on" "$LOG" 2>/dev/null && break
	kill -0 $DAEMON 2>/dev/null || fail "run exited: $(cat "$LOG")"
	sleep 0.05
done
grep -q "running on" "$LOG" || fail "run did not start: $(cat "$LOG")"
IPFIX_DOMAINS+=($(sed -n 's/.*(domain \([0-9]*\)).*/\1/p' "$LOG"))
LOG_START_LINES=$(wc -l <"$LOG")
PINS=$(pin_dir "$NSA" "$VA")
RUN_FILES=/run/flowacct/$(basename "$PINS")
say "daemon $DAEMON on $VA, pins $PINS"

$INA python3 $TRAFFIC send --src4 192.0.2.1 --dst4 192.0.2.2 --src6 2001:db8::1 \
	--dst6 2001:db8::2 --seconds "$SECONDS_RUN" --new-rate "$NEW_RATE" \
	>"$SCRATCH/sent.json" 2>"$SCRATCH/sent.log" &
SENDER=$!

# The kernel memory of the daemon's maps: memlock of each map it holds a
# descriptor of or that is pinned in its pin directory, each map once.
maps_kib() {
	python3 - "$DAEMON" "$PINS" <<-'EOF'
	import glob, json, os, subprocess, sys
	pid, pins = sys.argv[1], sys.argv[2]
	mem = {}
	for f in glob.glob("/proc/%s/fdinfo/*" % pid):
	    try:
	        kv = dict(l.split(":", 1) for l in open(f) if ":" in l)
	    except OSError:
	        continue
	    if "map_id" in kv and "memlock" in kv:
	        mem[int(kv["map_id"])] = int(kv["memlock"])
	for p in glob.glob(os.path.join(pins, "**"), recursive=True):
	    if not os.path.isfile(p):
	        continue
	    r = subprocess.run(["bpftool", "-j", "map", "show", "pinned", p],
	                       capture_output=True, text=True)
	    if r.returncode == 0:
	        m = json.loads(r.stdout)
	        mem[m["id"]] = m.get("bytes_memlock", 0)
	print(sum(mem.values()) // 1024, len(mem))
	EOF
}

ERR_DUMPS=0
# What the daemon wrote to standard error since it started, less the one
# line its stop writes when it was the last daemon to hold the host's
# socket programs.
daemon_said() {
	tail -n +$((LOG_START_LINES + 1)) "$LOG" | grep . |
		grep -v 'socket programs detached: no other daemon uses them$' || true
}
# errors so far: failed dumps + the daemon's messages since it started
errors_now() {
	echo $((ERR_DUMPS + $(daemon_said | grep -c .)))
}

dump_once() {
	if ! $INA "$FA" dump "$VA" -j >/dev/null 2>"$SCRATCH/dump.err"; then
		ERR_DUMPS=$((ERR_DUMPS + 1))
		say "dump failed: $(cat "$SCRATCH/dump.err")"
	fi
}

# Records written so far: those of the files moved away before the last,
# counted once each, and those of the last moved and the current one.
ROTATED_RECORDS=0 PREV_MOVED=/nonexistent
flow_lines() {
	[ -e "$1" ] || { echo 0; return; }
	grep -cE '"type": ?"flow"' "$1" || true
}
records_now() {
	echo $((ROTATED_RECORDS + $(flow_lines "$PREV_MOVED") + $(flow_lines "$REC")))
}

row() {
	local minute=$1 rss anon file fds maps nmaps runk cpu
	# VmRSS, and its parts: the heap and other private memory, and file
	# pages (shared libraries; the daemon's files under /run, or shmem
	# where /run is a tmpfs), which the kernel maps in and drops itself.
	read -r rss anon file < <(awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 }
		/^Rss(File|Shmem):/ { f += $2 } END { print r, a, f }' /proc/$DAEMON/status)
	fds=$(ls /proc/$DAEMON/fd | wc -l)
	read -r maps nmaps < <(maps_kib)
	runk=$(du -kc "$RUN_FILES"* 2>/dev/null | awk 'END { print $1 }')
	cpu=$(awk '{ printf "%.2f", ($14 + $15) / '"$(getconf CLK_TCK)"' }' /proc/$DAEMON/stat)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$minute" "$rss" "$anon" "$file" \
		"$fds" "$maps" "$nmaps" "$runk" "$(records_now)" "$cpu" "$(errors_now)" |
		tee -a "$ROWS" >&2
}

printf 'minute\trss_kib\tanon_kib\tfile_kib\tfds\tmaps_kib\tmaps\trun_kib\trecords\tcpu_s\terrors\n' >"$ROWS"
row 0
T0=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
tick=0
while kill -0 $SENDER 2>/dev/null; do
	tick=$((tick + 1))
	# Every 10 s of the clock, whatever the work above took.
	while [ $(($(date +%s) - T0)) -lt $((tick * 10)) ]; do
		kill -0 $SENDER 2>/dev/null || break 2
		sleep 0.5
	done
	dump_once
	if [ $((tick % 6)) = 0 ]; then
		moved=$SCRATCH/rec.$(printf %04d $((tick / 6))).json
		mv "$REC" "$moved"
		kill -HUP $DAEMON
		# What the daemon wrote between the move and the reopen is in
		# the moved file too: counted when the next row is taken.
		ROTATED_RECORDS=$((ROTATED_RECORDS + $(flow_lines "$PREV_MOVED")))
		PREV_MOVED=$moved
		row $((tick / 6))
	fi
done
wait $SENDER || fail "the sender failed: $(cat "$SCRATCH/sent.log")"
SENDER=
# Quiet past the idle timeout, so that every flow has left before the stop.
sleep $((IDLE_TIMEOUT + 3))
ROTATED_RECORDS=$((ROTATED_RECORDS + $(flow_lines "$PREV_MOVED")))
PREV_MOVED=/nonexistent
# Taken as every row is, after a dump (whose request gives the heap back).
dump_once
row end
HWM=$(awk '/^VmHWM:/ { print $2 }' /proc/$DAEMON/status)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
kill -TERM $DAEMON
rc=0
wait $DAEMON || rc=$?
DAEMON=
[ $rc = 0 ] || say "run exited $rc on SIGTERM: $(tail -5 "$LOG")"
# Its "Killed" notice is bash's own, on this shell's standard error.
{ kill -9 $LISTENER; wait $LISTENER; } 2>/dev/null || true
LISTENER=

# Every records file in the order written.
RECS=($(ls "$SCRATCH"/rec.*.json 2>/dev/null) "$REC")
# What the daemon said after it started, quoted in the verdict when counted.
daemon_said >"$SCRATCH/said"
python3 - "$ROWS" "$SCRATCH/sent.json" "$OUT" "$rc" "$(errors_now)" "$START_UTC" \
	"$SECONDS_RUN" "$NEW_RATE" "$COMMIT" \
	"${RUN_OPTS[*]}" "$LOAD_START / $LOAD_END" "$SCRATCH/said" "$HWM" "${RECS[@]}" <<-'EOF'
import collections, json, os, sys
(rows_path, sent_path, out, rc, errors, start, seconds, new_rate, commit, opts,
 load, said_path, hwm) = sys.argv[1:14]
recs = sys.argv[14:]
said = [l.rstrip("\n") for l in open(said_path)]
rows = [l.rstrip("\n").split("\t") for l in open(rows_path)]
head, rows = rows[0], rows[1:]
sent = json.load(open(sent_path))
problems = []
if int(rc):
    problems.append("the daemon exited %s on SIGTERM" % rc)
if int(errors):
    problems.append("%s errors (failed dumps, daemon messages)%s" % (
        errors, "; the daemon said: " + " / ".join("`%s`" % l for l in said[:5]) if said else ""))
if sent["errors"]:
    problems.append("the sender: %s" % "; ".join(sent["errors"][:5]))

# Records: sums per interface and direction, per UDP kind, reasons, seqs.
books = collections.defaultdict(lambda: [0, 0])
kinds = collections.defaultdict(lambda: [0, 0])
reasons = collections.Counter()
seqs = collections.defaultdict(lambda: [0, None, None])
counters = {}
srcs = ("192.0.2.1", "2001:db8::1")
nrec = broken = tcp_end = 0
size = 0
for path in recs:
    size += os.path.getsize(path)
    for line in open(path):
        try:
            r = json.loads(line)
        except ValueError:
            broken += 1
            continue
        if r.get("type") == "counters":
            counters[r["ifindex"]] = r
            continue
        nrec += 1
        b = books[(r["ifindex"], r["direction"])]
        b[0] += r["packets"]
        b[1] += r["bytes"]
        reasons[r["end_reason"]] += 1
        s = seqs[r["instance"]]
        s[0] += 1
        s[1] = r["seq"] if s[1] is None else min(s[1], r["seq"])
        s[2] = r["seq"] if s[2] is None else max(s[2], r["seq"])
        if r["proto"] == 17 and r["direction"] == "egress" and r["src"] in srcs:
            sp = r["sport"]
            kind = ("new" if 10000 <= sp < 30000 else "long" if 40000 <= sp < 40100
                    else "idle" if 41000 <= sp < 41100 else None)
            if kind:
                kinds[kind][0] += r["packets"]
                kinds[kind][1] += r["bytes"]
        if r["proto"] == 6 and r["end_reason"] == "end":
            tcp_end += 1
if broken:
    problems.append("%d lines are not JSON" % broken)
if not counters:
    problems.append("no counters line")
bad_counters = {}
for ifindex, c in counters.items():
    for h in c["hooks"]:
        hc = h["counters"]
        p, by = books.get((ifindex, h["direction"]), (0, 0))
        if (p, by) != (hc["accounted"], hc["accounted_bytes"]):
            problems.append("ifindex %d %s: records hold %d packets %d bytes, counters %d %d"
                            % (ifindex, h["direction"], p, by, hc["accounted"], hc["accounted_bytes"]))
        for k in ("overflow", "insert_fail_full", "insert_fail_nomem", "insert_fail_other"):
            if hc.get(k):
                bad_counters["%s %s" % (h["direction"], k)] = hc[k]
if bad_counters:
    problems.append("counters: %s" % bad_counters)
if reasons["lack_of_resources"]:
    problems.append("%d lack_of_resources records" % reasons["lack_of_resources"])
for inst, (n, lo, hi) in seqs.items():
    if n != hi - lo + 1:
        problems.append("instance %s: %d records, sequence numbers %d to %d" % (inst, n, lo, hi))
for kind, s in sent["udp"].items():
    got = tuple(kinds[kind])
    if got != (s["packets"], s["bytes"]):
        problems.append("UDP %s: sent %d packets %d bytes, records hold %d %d"
                        % (kind, s["packets"], s["bytes"], got[0], got[1]))
for want in ("idle", "active", "end"):
    if not reasons[want]:
        problems.append("no record ended as %s" % want)

# Flat: from minute 5 on; a run without a row after minute 5's is too
# short to say.
REF_MIN = 5
ref = next((i for i, r in enumerate(rows) if r[0] == str(REF_MIN)), None)
flat = []
if ref is None or ref == len(rows) - 1:
    flat.append("not judged, the run is shorter than %d minutes" % (REF_MIN + 1))
else:
    for col in ("rss_kib", "fds"):
        i = head.index(col)
        base = int(rows[ref][i])
        worst = max(abs(int(r[i]) - base) / base for r in rows[ref:])
        flat.append("%s %.2f %%" % (col, 100 * worst))
        if worst > 0.02:
            problems.append("%s moved %.2f %% from minute %d's %d" % (col, 100 * worst, REF_MIN, base))

mach = ("%s, %d CPUs, kernel %s; load average (1, 5, 15 min) at the start / at the end: %s"
        % (os.uname().nodename, os.cpu_count(), os.uname().release, load))
L = []
L.append("# Soak: `make soak DURATION=%s`" % seconds)
L.append("")
L.append("Written by tests/bench/soak.sh. Commit %s, started %s, %s s of traffic; machine: %s."
         % (commit, start, seconds, mach))
L.append("The daemon: `flowacct run %s --json FILE` (its defaults otherwise)." % opts)
L.append("Traffic a second: %s new one-datagram UDP flows (IPv4 and IPv6 in turn), "
         "8 long UDP flows of 20 datagrams each, 50 flows sending once every 8 s, "
         "10 TCP connections (one in 4 closed with RST). `dump` every 10 s; "
         "every 60 s the records file moved away and SIGHUP." % new_rate)
L.append("")
L.append("| minute | RSS KiB | of it anon / file KiB | fds | maps KiB (maps) | /run KiB | records | CPU s | errors |")
L.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for r in rows:
    d = dict(zip(head, r))
    L.append("| %s | %s | %s / %s | %s | %s (%s) | %s | %s | %s | %s |" % (
        d["minute"], d["rss_kib"], d["anon_kib"], d["file_kib"], d["fds"], d["maps_kib"],
        d["maps"], d["run_kib"], d["records"], d["cpu_s"], d["errors"]))
L.append("")
L.append("Sent: UDP %s; TCP connections %d closed with FIN, %d with RST." % (
    ", ".join("%s %d flows %d packets %d bytes" % (k, v["flows"], v["packets"], v["bytes"])
              for k, v in sent["udp"].items()), sent["tcp"]["fin"], sent["tcp"]["rst"]))
L.append("Records: %d (%s), %d TCP ones ended as `end`; %.0f MB of JSON lines." % (
    nrec, ", ".join("%s %d" % kv for kv in sorted(reasons.items())), tcp_end, size / 1e6))
L.append("Counters at the stop: %s." % "; ".join(
    "%s accounted %d packets %d bytes, records %d %d" % (
        h["direction"], h["counters"]["accounted"], h["counters"]["accounted_bytes"],
        *books.get((c["ifindex"], h["direction"]), (0, 0)))
    for c in counters.values() for h in c["hooks"]))
cpu = float(rows[-1][head.index("cpu_s")])
L.append("The daemon's CPU: %.2f s in all, %.3f s per 100k records." % (
    cpu, cpu * 1e5 / nrec if nrec else 0))
L.append("Largest move from minute %d: %s. Peak resident memory (VmHWM): %s KiB." % (
    REF_MIN, ", ".join(flat), hwm))
L.append("")
if problems:
    L.append("**Result: FAILED**")
    L += ["- " + p for p in problems]
else:
    L.append("**Result: passed** (%s; Σ records = counters; every UDP kind's records = "
             "what was sent; 0 errors)." % (
                 "flat: RSS and descriptors within 2 %% of minute %d's" % REF_MIN
                 if ref is not None and ref < len(rows) - 1 else "flatness not judged: too short"))
text = "\n".join(L) + "\n"
open(out, "w").write(text)
sys.stdout.write(text)
sys.exit(1 if problems else 0)
EOF
