#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Where `flowacct run --ipfix` spends its CPU per record, live.
#
#   tests/bench/profile_run.sh compare [--runs N] [--flows N] [--rate R]
#                                      [--tool perf|strace|none] [--out DIR]
#   tests/bench/profile_run.sh sweep [--seconds S] [--tool perf|none] [--out DIR] RATE...
#   tests/bench/profile_run.sh rss [--flows N] [--out DIR]
#
# compare: section 7 of scripts/bench.sh alone: FLOWS (200000) one-datagram
# UDP flows at RATE (20000) a second from tests/helpers/udp_send.py leave namespace
# A over a veth pair, while `flowacct run --interval 1 --idle-timeout 1
# --max-flows 262144 --ipfix` and softflowd 1.1 (libpcap on the same
# interface) both export IPFIX, each to its own nfcapd. Prints, per run, the
# CPU seconds of both per 100k records (/proc), the BPF programs' run time
# (kernel.bpf_stats_enabled, restored after), and with --tool perf the
# daemon's samples (perf record --call-graph dwarf) sorted into the steps of
# a tick (lib/stream.c) by the functions on their stacks; with --tool strace
# every bpf() call of the daemon with its command, map and time (strace -T),
# summed per command and map. strace slows every syscall: its run gives the
# calls and their share, not the CPU total.
#
# sweep: for each RATE, new one-datagram UDP flows at RATE a second for S
# (20) seconds (trafgen, source and destination ports stepping together, so
# no flow repeats for 4e9 packets), the daemon with `--interval 1
# --idle-timeout 2 --cache-size 1048576 --max-flows 524288 --ipfix` to
# nfcapd: its CPU per second, the records nfcapd stored against the flows
# sent, the lack_of_resources records and the overflow counter.
#
# rss: the daemon of the sweep (idle timeout an hour) with FLOWS (1000000)
# flows in its cache: its RSS against an empty cache, and the memlock of
# every map it holds (the pinned cache, the journal, the epoch tables).
#
# Everything it makes (namespaces, veths, pins, files, the sysctl) is undone
# on exit, failed or not (tests/helpers/lib.sh's netns_cleanup); every child has a
# timeout. Needs root and `make bench-build`.

set -euo pipefail
cd "$(dirname "$0")/../.."

BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
FA=$BUILD/flowacct
LIB=tests/helpers/lib.sh
UDP_SEND=tests/helpers/udp_send.py

MODE=${1:-}
[ $# -gt 0 ] && shift
RUNS=3 FLOWS=200000 RATE=20000 TOOL= SECONDS_SWEEP=20 OUT=
RATES=()
while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=$2; shift ;;
	--flows) FLOWS=$2; shift ;;
	--rate) RATE=$2; shift ;;
	--tool) TOOL=$2; shift ;;
	--seconds) SECONDS_SWEEP=$2; shift ;;
	--out) OUT=$2; shift ;;
	[0-9]*) RATES+=("$1") ;;
	*) MODE=help ;;
	esac
	shift
done
case $MODE in
compare | sweep | rss) ;;
*) sed -n '5,8p' "$0" | sed 's/^# //' >&2; exit 1 ;;
esac
[ "$(id -u)" = 0 ] || { echo "profile_run: needs root" >&2; exit 1; }
[ -x "$FA" ] || { echo "profile_run: $FA is not built: make bench-build" >&2; exit 1; }

# shellcheck source=tests/helpers/lib.sh
source "$LIB"
netns_pair	# $NSA/$VA (192.0.2.1) <-> $NSB/$VB (192.0.2.2), removed on exit
[ -n "$OUT" ] || OUT=$SCRATCH/out
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
BPF_STATS_PREV=
profile_cleanup() {
	local rc=$?
	set +e
	[ -z "$BPF_STATS_PREV" ] || sysctl -qw kernel.bpf_stats_enabled="$BPF_STATS_PREV"
	(exit $rc)
	netns_cleanup
}
trap profile_cleanup EXIT

say() { echo "profile: $*" >&2; }

# The CPU time (user + system, in s) process $1 has used, summed over its
# threads from schedstat, to the nanosecond (as scripts/bench.sh's section
# 7): /proc/PID/stat's clock ticks (10 ms) were 6 % of a run's 0.16 s.
cpu_seconds() {
	cat /proc/"$1"/task/*/schedstat | awk '{ t += $1 } END { printf "%.4f\n", t / 1e9 }'
}

# nfcapd_bg PORT DIR: nfcapd in $NSA on 127.0.0.1:PORT, its pid in NFCAPD.
nfcapd_bg() {
	mkdir -p "$2"
	$INA timeout 900 nfcapd -4 -b 127.0.0.1 -p "$1" -B 4194304 -w "$2" >"$2.log" 2>&1 &
	NFCAPD=$!
	for _ in $(seq 50); do
		$INA ss -Hnul "sport = :$1" | grep . >/dev/null && return 0
		sleep 0.1
	done
	fail "nfcapd did not start: $(cat "$2.log")"
}
nfcapd_flows() {
	nfdump -R "$1" -I 2>/dev/null | sed -n 's/^Flows: //p'
}

# daemon_start LOG ARGS...: flowacct run on $VA, its pid in FA_PID (and
# that of the timeout that runs it, which this shell waits for, in FA_WRAP).
daemon_start() {
	local log=$1
	shift
	$INA timeout 900 "$FA" run --layout iface "$VA" "$@" 2>"$log" &
	FA_WRAP=$!
	for _ in $(seq 200); do
		grep "running on" "$log" >/dev/null 2>&1 && break
		sleep 0.05
	done
	grep "running on" "$log" >/dev/null || fail "run did not start: $(cat "$log")"
	# timeout's child is the daemon.
	FA_PID=$(pgrep -P "$FA_WRAP" -x flowacct) || fail "no daemon under timeout"
	IPFIX_DOMAINS+=($(sed -n 's/.*(domain \([0-9]*\)).*/\1/p' "$log"))
}

# The ids of the programs attached to $VA (TC, TCX or XDP).
prog_ids() {
	$INA bpftool -j net show dev "$VA" | python3 -c '
import json, sys
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("id", "prog_id") and isinstance(v, int):
                print(v)
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(json.load(sys.stdin))' | sort -u
	# bpftool before 7.3 lists no TCX link in `net show`: then the
	# attachment's own word, flowacct status (its *_prog_id fields; status
	# lists every namespace's attachments: ours is the one in this one).
	$INA "$FA" status -j 2>/dev/null | python3 -c '
import json, sys
for a in json.load(sys.stdin).get("interfaces", []):
    if a.get("this_netns") and a.get("iface") == sys.argv[1]:
        for k, v in a.items():
            if k.endswith("prog_id") and isinstance(v, int) and v:
                print(v)' "$VA" | sort -u
}

# prog_stats ID...: "id name run_time_ns run_cnt" for each.
prog_stats() {
	local id
	for id in "$@"; do
		# A program gone since (not ours after all): nothing.
		bpftool -j prog show id "$id" 2>/dev/null | python3 -c '
import json, sys
p = json.load(sys.stdin)
if "id" in p:
    print(p["id"], p.get("name", "?"), p.get("run_time_ns", 0), p.get("run_cnt", 0))' || true
	done
}

# The daemon's map fds and their names, "fd name", from /proc.
map_fds() {
	local pid=$1 f id
	for f in /proc/"$pid"/fdinfo/*; do
		id=$(sed -n 's/^map_id:[[:space:]]*//p' "$f" 2>/dev/null)
		[ -n "$id" ] || continue
		echo "${f##*/} $(bpftool -j map show id "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("name","?"))')"
	done
}

# perf samples of one run into the steps of a tick: the first rule (in
# order: inner steps before the ones that call them) whose functions are on
# a sample's stack, inlined ones included, takes the sample.
perf_steps() {
	perf script -i "$1" -F comm,ip,sym,dso --inline 2>/dev/null | python3 -c '
import collections, re, sys
# A rule: its step, and alternatives, each the names (joined by "+") that
# must all be on the stack; "~name" matches any function containing name.
RULES = [
    ("journal: delete (forget_journal)", ("forget_journal",)),
    ("journal: scan when unknown (empty_journal)", ("empty_journal", "empty_map")),
    ("pinned cache: delete (delete_all in apply_changes)", ("apply_changes+delete_all",)),
    ("pinned cache: update (update_all in apply_changes)", ("apply_changes+update_all",)),
    ("run_state writes (write_run_state)", ("write_run_state",)),
    ("pinned cache: the rest of apply_changes", ("apply_changes",)),
    ("drain (fa_drainfile_drain: batch lookup_and_delete + sum)", ("fa_drainfile_drain",)),
    # The sort of the rows, whose stacks perf often cannot unwind past
    # qsort (libc has no frame pointers), by its own functions too.
    ("merge (fa_cache_merge)", ("fa_cache_merge", "sort_rows", "msort_with_tmp",
                                "cmp_key", "cmp_be64", "cmp_rows_key", "group_of")),
    ("expiry (fa_cache_expire)", ("fa_cache_expire",)),
    ("cache changes list (fa_cache_changes)", ("fa_cache_changes",)),
    ("journal: insert (update_all in do_drain)", ("do_drain+update_all",)),
    ("IPFIX encode + send (sink write)", ("~ipfix",)),
    ("flip + RCU wait (fa_stream_flip, fa_sync_wait)", ("fa_stream_flip", "fa_sync_wait", "fa_epoch_write")),
    ("rest of the tick (do_drain: records, seqs, malloc)", ("do_drain",)),
    ("control socket, metrics, status", ("~ctl", "~prom", "~metrics", "~status")),
]
def has(names, pat):
    if pat.startswith("~"):
        return any(pat[1:] in n for n in names)
    return pat in names
steps = collections.Counter()
ksteps = collections.Counter()
syms = collections.Counter()
chains = collections.Counter()
# Without a PMU (a VM) perf samples on a timer, and a sample taken with
# interrupts off lands where they are enabled again: such leaves say less
# than the function that called them, so those are shown too.
IRQ = re.compile(r"irq_enable|irqrestore|_unlock_irq|__local_bh_enable|restore_fl")
total = 0
def done(stack):
    global total
    if not stack:
        return
    total += 1
    names = [s for s, _ in stack]
    step = None
    for rule, alts in RULES:
        if any(all(has(names, p) for p in alt.split("+")) for alt in alts):
            step = rule
            break
    if step is None:
        outer = [n for n in names if n.startswith(("fa_", "engine", "run_", "cmd_"))]
        step = "other: " + (outer[0] if outer else names[0])
    steps[step] += 1
    leaf, dso = stack[0]
    syms["%s [%s]" % (leaf, dso)] += 1
    if dso == "[kernel.kallsyms]":
        ksteps[step] += 1
        i = 0
        while i + 1 < len(names) and IRQ.search(names[i]):
            i += 1
        chains[" <- ".join(names[i:i + 4])] += 1
stack = []
for line in sys.stdin:
    if not line.strip():
        done(stack)
        stack = []
        continue
    if line[0] not in " \t":
        continue
    m = re.match(r"\s+[0-9a-f]+\s+(\S+?)(\+0x[0-9a-f]+)?\s+\((.*)\)", line)
    if m:
        stack.append((m.group(1), m.group(3).rsplit("/", 1)[-1]))
done(stack)
print("samples %d" % total)
for s, n in steps.most_common():
    print("step\t%.1f%%\t%d\t%.0f%%\t%s" % (100.0 * n / total, n, 100.0 * ksteps[s] / n, s))
for s, n in syms.most_common(25):
    print("sym\t%.1f%%\t%d\t%s" % (100.0 * n / total, n, s))
for s, n in chains.most_common(25):
    print("kstack\t%.1f%%\t%d\t%s" % (100.0 * n / total, n, s))'
}

# strace -T lines of bpf() calls, summed per command and map (fd names in
# $2): calls, the time inside them (wall: it includes waits and preemption),
# the elements they processed, the calls that failed with ENOENT.
strace_sum() {
	python3 - "$1" "$2" <<-'EOF'
	import collections, re, sys
	names = dict(l.split(None, 1) for l in open(sys.argv[2]).read().splitlines() if l.strip())
	# per (command, map): calls, seconds, elements, calls that failed ENOENT
	calls = collections.defaultdict(lambda: [0, 0.0, 0, 0])
	other = collections.defaultdict(lambda: [0, 0.0])
	for line in open(sys.argv[1]):
	    t = re.search(r"<([0-9.]+)>\s*$", line)
	    if not t:
	        continue
	    m = re.match(r"(?:\d+\s+)?bpf\((BPF_\w+), (.*)", line)
	    if m:
	        fd = re.search(r"map_fd=(\d+)", m.group(2))
	        k = (m.group(1), names.get(fd.group(1), "fd" + fd.group(1)).strip() if fd else "-")
	        c = calls[k]
	        c[0] += 1
	        c[1] += float(t.group(1))
	        out = re.search(r"=> \{batch=\{count=(\d+)", m.group(2))
	        inp = re.search(r"count=(\d+)", m.group(2))
	        if out:
	            c[2] += int(out.group(1))
	        elif inp and "= 0 <" in line:
	            c[2] += int(inp.group(1))
	        elif not inp:
	            c[2] += 1
	        if "ENOENT" in line:
	            c[3] += 1
	        continue
	    m = re.match(r"(?:\d+\s+)?(\w+)\(", line)
	    if m:
	        other[m.group(1)][0] += 1
	        other[m.group(1)][1] += float(t.group(1))
	for (cmd, name), (n, s, e, f) in sorted(calls.items(), key=lambda x: -x[1][1]):
	    print("bpf\t%s\t%s\t%d\t%.4f\t%d\t%d" % (cmd, name, n, s, e, f))
	for name, (n, s) in sorted(other.items(), key=lambda x: -x[1][1]):
	    print("sys\t%s\t%d\t%.4f" % (name, n, s))
	EOF
}

compare_run() {
	local r=$1 log=$OUT/run.$r.log nf_fa nf_sf sf_wrap sf_pid tool_pid= c0 c1 s0 s1 ids
	local recs_fa recs_sf dom t0 t1
	rm -rf "$SCRATCH/nf1.$r" "$SCRATCH/nf2.$r"
	nfcapd_bg 4739 "$SCRATCH/nf1.$r"
	nf_fa=$NFCAPD
	nfcapd_bg 4740 "$SCRATCH/nf2.$r"
	nf_sf=$NFCAPD
	$INA ping -q -c 1 -w 5 192.0.2.2 >/dev/null
	daemon_start "$log" --interval 1 --idle-timeout 1 --max-flows 262144 \
		--ipfix 127.0.0.1:4739
	$INA timeout 900 softflowd -i "$VA" -v 10 -n 127.0.0.1:4740 -d -c none -m 262144 \
		-t udp=1 -t general=1 -t expint=1 -p "$SCRATCH/sf.pid" >"$OUT/sf.$r.log" 2>&1 &
	sf_wrap=$!
	sleep 1
	sf_pid=$(pgrep -P "$sf_wrap" -x softflowd) || fail "softflowd did not start"
	# shellcheck disable=SC2207
	ids=($(prog_ids | sort -u))
	[ ${#ids[@]} -gt 0 ] || fail "no program on $VA"
	case $TOOL in
	perf)
		timeout 900 perf record -q -F 1999 -g --call-graph dwarf,16384 \
			-p "$FA_PID" -o "$OUT/perf.$r.data" >/dev/null 2>&1 &
		tool_pid=$!
		;;
	strace)
		map_fds "$FA_PID" >"$OUT/fds.$r"
		timeout 900 strace -f -T -qq -e trace=all -p "$FA_PID" \
			-o "$OUT/strace.$r" 2>/dev/null &
		tool_pid=$!
		;;
	esac
	sleep 1
	prog_stats "${ids[@]}" >"$OUT/bpf0.$r"
	c0=$(cpu_seconds "$FA_PID")
	s0=$(cpu_seconds "$sf_pid")
	t0=$(date +%s%N)
	$INA timeout 600 python3 "$UDP_SEND" --src 192.0.2.1 --dst 192.0.2.2 \
		--flows "$FLOWS" --dports 4 --sport 10000 --count 1 --size 18 \
		--rate "$RATE" >/dev/null
	sleep 3	# every flow idle and out of both
	c1=$(cpu_seconds "$FA_PID")
	s1=$(cpu_seconds "$sf_pid")
	t1=$(date +%s%N)
	prog_stats "${ids[@]}" >"$OUT/bpf1.$r"
	if [ -n "$tool_pid" ]; then
		kill -INT "$tool_pid" 2>/dev/null || true
		wait "$tool_pid" 2>/dev/null || true
	fi
	kill -TERM "$FA_PID" "$sf_pid"
	wait "$FA_WRAP" "$sf_wrap" 2>/dev/null || true
	dom=$(sed -nE 's/.* \(domain ([0-9]+)\).*/\1/p' "$log" | head -1)
	[ -z "$dom" ] || rm -f /run/flowacct/ipfix-"$(printf %08x "$dom")"-*.state
	sleep 1
	kill -TERM "$nf_fa" "$nf_sf" 2>/dev/null || true
	wait "$nf_fa" "$nf_sf" 2>/dev/null || true
	recs_fa=$(nfcapd_flows "$SCRATCH/nf1.$r")
	recs_sf=$(nfcapd_flows "$SCRATCH/nf2.$r")
	awk -v r="$r" -v fa="$recs_fa" -v sf="$recs_sf" -v c0="$c0" -v c1="$c1" \
		-v s0="$s0" -v s1="$s1" -v w="$(((t1 - t0) / 1000000))" 'BEGIN {
		c = c1 - c0; s = s1 - s0
		printf "run %d: wall %.1f s; flowacct %d records, %.4f CPU s, %.4f per 100k (%.3f us a record); softflowd %d records, %.4f CPU s, %.4f per 100k; ratio %.3f\n",
			r, w / 1000, fa, c, c * 1e5 / (fa ? fa : 1), c * 1e6 / (fa ? fa : 1),
			sf, s, s * 1e5 / (sf ? sf : 1), (c / (fa ? fa : 1)) / ((s ? s : 0.01) / (sf ? sf : 1)) }'
	join <(sort "$OUT/bpf0.$r") <(sort "$OUT/bpf1.$r") | awk -v n="$recs_fa" '{
		dt = $6 - $3; dc = $7 - $4	# id name0 time0 cnt0 name1 time1 cnt1
		printf "  bpf prog %s %s: %d runs, %.3f s, %.0f ns a run, %.3f us per record\n",
			$1, $2, dc, dt / 1e9, dc ? dt / dc : 0, n ? dt / 1e3 / n : 0 }'
	case $TOOL in
	perf)
		perf_steps "$OUT/perf.$r.data" >"$OUT/steps.$r"
		awk -v c="$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" -v n="$recs_fa" \
			'$1 == "step" { p = $2 + 0; printf "  step %5.1f%% %6.2f us/record (%4s kernel)  %s\n", p, c * 1e6 * p / 100 / (n ? n : 1), $4, substr($0, index($0, $5)) }
			 $1 == "samples" { print "  perf samples: " $2 }' "$OUT/steps.$r"
		awk '$1 == "sym" { printf "  sym  %6s  %s\n", $2, substr($0, index($0, $4)) }' "$OUT/steps.$r" | head -15
		awk '$1 == "kstack" { printf "  kernel %6s  %s\n", $2, substr($0, index($0, $4)) }' "$OUT/steps.$r" | head -15
		;;
	strace)
		strace_sum "$OUT/strace.$r" "$OUT/fds.$r" >"$OUT/calls.$r"
		awk -v n="$recs_fa" '$1 == "bpf" { printf "  bpf %-32s %-16s %6d calls (%5d ENOENT) %8d elements (%.2f a record) %8.4f s in the call\n", $2, $3, $4, $7, $6, $6 / (n ? n : 1), $5 }
			$1 == "sys" { printf "  sys %-53s %6d calls %8.4f s\n", $2, $3, $4 }' "$OUT/calls.$r" | head -40
		;;
	esac
	echo "  daemon's last lines: $(grep -v "running on" "$log" | tail -3 | tr '\n' ' ')"
}

# jget KEY...: the first value of each KEY anywhere in the JSON on stdin.
jget() {
	python3 -c '
import json, sys
def find(o, k):
    if isinstance(o, dict):
        if k in o:
            return o[k]
        o = list(o.values())
    if isinstance(o, list):
        for v in o:
            r = find(v, k)
            if r is not None:
                return r
    return None
try:
    d = json.load(sys.stdin)
except ValueError:
    sys.exit(1)	# no answer (a daemon too busy to answer in time)
print(" ".join(str(find(d, k)) for k in sys.argv[1:]))' "$@"
}

# trafgen_flows RATE N: N new one-datagram UDP flows at RATE a second out
# of $VA, to a MAC that is not B's (B drops them at the IP layer, no reply).
# Source and destination ports step together: no flow repeats for 4e9.
trafgen_flows() {
	cat >"$SCRATCH/flows.trafgen" <<-EOF
	{
	  eth(da=02:00:00:00:00:02, sa=02:00:00:00:00:01, type=0x0800),
	  ipv4(saddr=192.0.2.1, daddr=192.0.2.2, ttl=64),
	  udp(sp=dinc(1, 65535), dp=dinc(1, 65534)),
	  fill(0x00, 18)
	}
	EOF
	$INA timeout $(($2 / $1 * 3 + 30)) trafgen -o "$VA" -i "$SCRATCH/flows.trafgen" \
		-q --no-sock-mem -Q -b "$1pps" -n "$2" >"$SCRATCH/trafgen.log" 2>&1 ||
		fail "trafgen: $(cat "$SCRATCH/trafgen.log")"
}

# One rate of the sweep: RATE new flows a second for SECONDS_SWEEP s.
sweep_rate() {
	local rate=$1 log=$OUT/sweep.$1.log nf c0 c1 n recs t0 t1 kern info lag prev tool_pid=
	n=$((rate * SECONDS_SWEEP))
	rm -rf "$SCRATCH/nfs.$rate"
	nfcapd_bg 4741 "$SCRATCH/nfs.$rate"
	nf=$NFCAPD
	daemon_start "$log" --interval 1 --idle-timeout 2 --cache-size 1048576 \
		--max-flows 524288 --ipfix 127.0.0.1:4741
	sleep 1
	if [ "$TOOL" = perf ]; then
		timeout 900 perf record -q -F 499 -g --call-graph dwarf,16384 \
			-p "$FA_PID" -o "$OUT/perf.sweep.$rate.data" >/dev/null 2>&1 &
		tool_pid=$!
	fi
	c0=$(cpu_seconds "$FA_PID")
	t0=$(date +%s%N)
	trafgen_flows "$rate" "$n"
	t1=$(date +%s%N)
	# Until every flow has left (idle 2 s, then a tick), or 60 s: a daemon
	# that fell behind catches up here, and how long it takes is reported.
	sleep 3
	prev=
	for lag in $(seq 3 60); do
		info=$($INA timeout 10 "$FA" status -j 2>/dev/null |
			jget records lack_of_resources cache_flows) || info="? ? ?"
		case $info in "$n "* | "$((n + 1)) "* | "$((n + 2)) "*) break ;; esac
		# Short of the flows sent (overflow) but empty and still.
		[ "$info" = "$prev" ] && [ "${info##* }" = 0 ] && break
		prev=$info
		sleep 1
	done
	c1=$(cpu_seconds "$FA_PID")
	kern=$($INA timeout 10 "$FA" stats "$VA" -j 2>/dev/null |
		jget accounted overflow insert_fail_full) || kern="? ? ?"
	if [ -n "$tool_pid" ]; then
		kill -INT "$tool_pid" 2>/dev/null || true
		wait "$tool_pid" 2>/dev/null || true
	fi
	kill -TERM "$FA_PID"
	wait "$FA_WRAP" 2>/dev/null || true
	sleep 1
	kill -TERM "$nf" 2>/dev/null || true
	wait "$nf" 2>/dev/null || true
	recs=$(nfcapd_flows "$SCRATCH/nfs.$rate")
	awk -v r="$rate" -v n="$n" -v w="$(((t1 - t0) / 1000000))" -v c0="$c0" -v c1="$c1" \
		-v recs="$recs" -v k="$kern" -v i="$info" -v lag="$lag" 'BEGIN {
		split(k, kk, " "); split(i, ii, " ")
		printf "rate %d: sent %d in %.1f s (%.0f/s); daemon %.2f CPU s, %.2f CPU s a second of sending, %.2f us a flow; every record out %d s after the last packet (idle 2 s + a tick: 3 at best); kernel accounted %s, overflow %s, insert_fail_full %s; daemon records %s (lack_of_resources %s, cache %s flows at the end); nfcapd stored %d (%+d against sent)\n",
			r, n, w / 1000, n * 1000 / w, c1 - c0, (c1 - c0) * 1000 / w, (c1 - c0) * 1e6 / n,
			lag, kk[1], kk[2], kk[3], ii[1], ii[2], ii[3], recs, recs - n }'
	grep -v "running on\|attached to" "$log" | tail -3 | sed 's/^/  daemon: /'
	if [ -n "$tool_pid" ]; then
		perf_steps "$OUT/perf.sweep.$rate.data" >"$OUT/steps.sweep.$rate"
		awk '$1 == "step" { printf "  step %5.1f%% (%4s kernel)  %s\n", $2, $4, substr($0, index($0, $5)) }
		     $1 == "kstack" { printf "  kernel %6s  %s\n", $2, substr($0, index($0, $4)) }' \
			"$OUT/steps.sweep.$rate" | head -30
	fi
}

# The daemon's memory with FLOWS flows in its cache: RSS and every map's
# memlock, against the same daemon with an empty cache.
rss_run() {
	local log=$OUT/rss.log pid f id
	daemon_start "$log" --interval 1 --idle-timeout 3600 --active-timeout 3600 \
		--cache-size 1048576 --max-flows 524288 --json /dev/null
	pid=$FA_PID
	sleep 2
	echo "empty cache: $(grep -E '^(VmRSS|RssAnon|RssFile|RssShmem)' /proc/"$pid"/status | tr -s ' \t' ' ' | tr '\n' ' ')"
	trafgen_flows 50000 "$FLOWS"
	sleep 3
	echo "cache: $($INA "$FA" status -j | jget cache_flows) flows"
	echo "full cache: $(grep -E '^(VmRSS|RssAnon|RssFile|RssShmem)' /proc/"$pid"/status | tr -s ' \t' ' ' | tr '\n' ' ')"
	for f in /proc/"$pid"/fdinfo/*; do
		id=$(sed -n 's/^map_id:[[:space:]]*//p' "$f" 2>/dev/null)
		[ -n "$id" ] || continue
		bpftool -j map show id "$id" | python3 -c '
import json, sys
m = json.load(sys.stdin)
print("map %s %s key %d value %d max %d flags %#x memlock %d" % (m.get("name", "?"), m["type"],
      m["bytes_key"], m["bytes_value"], m["max_entries"], m.get("flags", 0), m["bytes_memlock"]))'
	done | sort -u
	# The drain file of our namespace's interface (the rows of an epoch).
	ls -l /run/flowacct/net"${NETNS_INODES[0]}"-* | sed 's/^/  /'
	kill -TERM "$pid"
	wait "$FA_WRAP" 2>/dev/null || true
}

if [ "$MODE" = compare ]; then
	TOOL=${TOOL:-perf}
	command -v softflowd >/dev/null || fail "no softflowd"
	BPF_STATS_PREV=$(sysctl -n kernel.bpf_stats_enabled)
	sysctl -qw kernel.bpf_stats_enabled=1
	say "compare: $RUNS runs, $FLOWS flows at $RATE/s, tool $TOOL, output in $OUT"
	for r in $(seq "$RUNS"); do
		compare_run "$r"
	done
elif [ "$MODE" = rss ]; then
	[ "$FLOWS" != 200000 ] || FLOWS=1000000
	say "rss: the daemon with $FLOWS cached flows"
	rss_run
else
	[ ${#RATES[@]} -gt 0 ] || RATES=(10000 50000 100000 200000)
	TOOL=${TOOL:-none}
	[ "$TOOL" != strace ] || fail "sweep: --tool perf or none"
	say "sweep: ${RATES[*]} new flows a second for $SECONDS_SWEEP s each, output in $OUT"
	for r in "${RATES[@]}"; do
		sweep_rate "$r"
	done
fi
