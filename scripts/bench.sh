#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# make bench: measures flowacct and writes tests/bench/RESULTS.md.
#
#   scripts/bench.sh [--quick] [--out FILE] [--raw FILE]
#
# 1. per-packet cost through BPF_PROG_TEST_RUN (tests/bench/flowbench pkt),
#    with where the time goes (perf) for the XDP program and the minimal one;
# 2. dump of a million flows: flowacct dump -j, dump --top 20, bpftool;
# 3. live rate over a veth pair between two namespaces of our own, trafgen
#    sending small UDP packets over many flows;
# 4. bytes per flow of each map mode (flowbench mem);
# 5. the same traffic through softflowd (a user-space peer) from a pcap.
#
# 6. what the epochs and the daemon cost: a flip's wait, a drain, records;
# 7. the IPFIX export: records encoded and sent per second, and the daemon's
#    CPU per 100k records next to softflowd exporting the same traffic
#    (flows of 1, 10 and 100 datagrams; its process and the host's CPU);
# 10. new flows a second: the daemon under a fixed rate of new flows, every
#    flow's records checked, and the highest rate it holds;
# 11. many interfaces: one daemon following 500 veths that come and go
#    (tests/bench/ifaces.sh, which runs alone too: make bench-ifaces);
# 12. drops: the hooks' mix against the commit before the drop program, and
#    a flood of drops with the drop program and without.
#
# Everything it makes (namespaces, veths, pins, files) is removed on exit,
# failed or not. --quick is the smoke run of `make test`: tiny counts, short
# windows, one round. Needs root, and the builds of `make bench-build`.

set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
CLANG=${CLANG:-clang}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
FA=$BUILD/flowacct
START=$(sed -n 's/^BENCH_START := //p' tests/bench/bench.mk)
SCALE_START=$(sed -n 's/^SCALE_START := //p' tests/bench/bench.mk)
DROPS_START=$(sed -n 's/^DROPS_START := //p' tests/bench/bench.mk)
TUNNELS_START=$(sed -n 's/^TUNNELS_START := //p' tests/bench/bench.mk)
TAG_START=$(sed -n 's/^TAG_START   := //p' tests/bench/bench.mk)
FB=$BUILD/tests/bench/flowbench
OUT=tests/bench/RESULTS.md
RAW=
QUICK=0

while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--out) OUT=$2; shift ;;
	--raw) RAW=$2; shift ;;
	*) echo "Usage: scripts/bench.sh [--quick] [--out FILE] [--raw FILE]" >&2; exit 1 ;;
	esac
	shift
done

if [ "$(id -u)" != 0 ]; then
	echo "scripts/bench.sh: needs root (BPF, network namespaces)" >&2
	exit 1
fi
for f in "$FA" "$FB"; do
	[ -x "$f" ] || { echo "scripts/bench.sh: $f is not built: make bench-build" >&2; exit 1; }
done

if [ $QUICK = 1 ]; then
	ROUNDS=1 DAEMON_ROUNDS=1 DUMP_FLOWS=20000 DUMP_MAX=32768 LIVE_WARMUP=0.2 LIVE_WINDOW=0.5
	PEER_PACKETS=100000 PKT_ARGS=(--quick)
else
	ROUNDS=3 DAEMON_ROUNDS=5 DUMP_FLOWS=1000000 DUMP_MAX=1048576 LIVE_WARMUP=1 LIVE_WINDOW=3
	PEER_PACKETS=500000 PKT_ARGS=()
fi
LIVE_FLOWS=4096
CPUS=$(nproc)
GEN_CPU=$((CPUS - 1))	# trafgen and the receive path; everything else elsewhere

# shellcheck source=tests/helpers/lib.sh
source tests/helpers/lib.sh
netns_pair	# $NSA/$VA (192.0.2.1) <-> $NSB/$VB (192.0.2.2), removed on exit
# The host's socket programs, while section 9 has them attached: theirs to
# undo too, whatever ends the bench.
SOCKETS_OURS=
# kernel.bpf_stats_enabled as it was, while owners_live has it on.
BPF_STATS_PREV=
bench_cleanup() {
	local rc=$?
	set +e
	[ -z "$SOCKETS_OURS" ] || "$FA" sockets detach >/dev/null 2>&1
	[ -z "$BPF_STATS_PREV" ] || sysctl -qw kernel.bpf_stats_enabled="$BPF_STATS_PREV"
	(exit $rc)
	netns_cleanup
}
trap bench_cleanup EXIT

REPORT=$SCRATCH/report.md

say() { echo "bench: $*" >&2; }

# stats V...: "median min max" of the numbers given.
stats() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%s %s %s\n", m, v[1], v[NR] }'
}

# ratio_row FMT DESC BASE VALUE...: a table row of the values' median, min
# and max (printf format FMT) and the median's ratio to BASE.
ratio_row() {
	local fmt=$1 desc=$2 base=$3 m lo hi
	shift 3
	read -r m lo hi < <(stats "$@")
	# shellcheck disable=SC2059
	printf "| %s | $fmt | $fmt | $fmt | %.3f |\n" "$desc" "$m" "$lo" "$hi" \
		"$(awk -v a="$m" -v b="$base" 'BEGIN { print a / b }')"
}

# seconds CMD...: wall time of CMD, its output discarded.
seconds() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }'
}

# ---- the machine -------------------------------------------------------------

machine() {
	local model hv
	model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
	hv=$(lscpu | sed -n 's/^Hypervisor vendor: *//p' | head -1)
	cat <<-EOF
	# flowacct benchmark results

	Written by \`make bench\` (scripts/bench.sh)$([ $QUICK = 1 ] && echo ", --quick: smoke-test counts, not figures") on $(date -u +%Y-%m-%dT%H:%MZ).

	| | |
	|---|---|
	| CPU | $model${hv:+ (virtual machine, $hv hypervisor)} |
	| cores | $CPUS |
	| memory | $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) |
	| kernel | $(uname -r) |
	| BPF compiler | $($CLANG --version | head -1) |
	| user space | $(gcc --version | head -1), libbpf $(pkg-config --modversion libbpf) |
	| load average at start | $(cut -d' ' -f1-3 /proc/loadavg) |

	Figures from a virtual machine with 2 cores: expect a few percent of noise
	between runs; the ratios, each taken within one run, move less than the
	figures.

	EOF
}

# ---- 1. per-packet cost ------------------------------------------------------

per_packet() {
	local raw=${RAW:-$SCRATCH/pkt.tsv}
	say "per-packet cost (BPF_PROG_TEST_RUN)"
	echo "## 1. Per-packet cost"
	echo
	"$FB" pkt "${PKT_ARGS[@]}" --raw "$raw" \
		--baseline "no epochs=$BUILD/tests/bench/flowacct_noepoch.bpf.o"
	PKT_RAW=$raw
}

# This tree's programs built with clang 19 (make test builds them; make
# bench may not have): prints the object's path.
clang19_obj() {
	make --no-print-directory -s BUILD=build/clang-19 CLANG=clang-19 \
		build/clang-19/flowacct.bpf.o >/dev/null 2>&1 || return 1
	echo build/clang-19/flowacct.bpf.o
}

# This tree against BENCH_START, the commit the hot-path work started from
# (tests/bench/bench.mk builds it from git), with each compiler: the mix and the table paths, both
# builds loaded side by side and run in the same interleaved rounds.
against_start() {
	local rounds=9 c raw
	[ $QUICK = 1 ] && rounds=3
	local start
	start=$(git rev-parse --short "$START" 2>/dev/null || echo "$START")
	say "against $start"
	cat <<-EOF
	### Against $start, with clang 14 and clang 19

	This tree and $start, the commit the hot-path work started from
	(built from git by
	tests/bench/bench.mk), each built with clang 14 and with clang 19, loaded side
	by side and run in the same interleaved rounds ($rounds of them; the
	mix, and the insert and update paths, 100k flows). net x: (program - no-op) /
	(minimal - no-op), the median of per-round ratios; cut: 1 - net x
	(now) / net x (start). Targets: on the mix, a cut of at least 25 % and at
	most 1.5 x the minimal; on the insert and update paths, at most 1.25 x
	the minimal. TC ingress runs flowacct_tc_in (flowbench --tc-ingress),
	with the same no-op and minimal programs as TC egress. x minimal, 24-byte
	value: against the minimal accountant doing the same work with a per-CPU
	value as wide as flowacct's (packets, bytes and 8 unused bytes), which
	shows how much of the table paths' ratio is the value's size.

	| compiler | hook | workload | map | minimal | start | now | x minimal (now) | x minimal, 24-byte value | net x (start) | net x (now) | cut | targets met |
	|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|
	EOF
	for c in 14 19; do
		raw=$SCRATCH/start-$c.tsv
		: >"$raw"
		local ours=()
		[ $c = 14 ] || ours=(--ours "$(clang19_obj)")
		for w in 6 7; do
			"$FB" pkt "${PKT_ARGS[@]}" --rounds "$rounds" --only "-1,$w,-1" "${ours[@]}" \
				--baseline "start=build/bench-start/clang-$c.bpf.o" \
				>>"$raw" 2>/dev/null
			"$FB" pkt "${PKT_ARGS[@]}" --rounds "$rounds" --only "1,$w,-1" "${ours[@]}" \
				--tc-ingress --baseline "start=build/bench-start/clang-$c.bpf.o" \
				2>/dev/null | sed 's/^TC\t/TC ingress\t/' >>"$raw"
		done
		python3 - "$raw" "$c" <<-'EOF'
		import collections, statistics, sys
		d = collections.defaultdict(dict)
		for line in open(sys.argv[1]):
		    h, w, v, r, ns = line.rstrip("\n").split("\t")
		    d[(h, w, v)][int(r)] = float(ns)
		def net(h, w, v):
		    n, m, x = d[(h, w, "no-op")], d[(h, w, "minimal (percpu)")], d[(h, w, v)]
		    return statistics.median([(x[r] - n[r]) / (m[r] - n[r]) for r in x])
		def xmin(h, w, v, ref="minimal (percpu)"):
		    m, x = d[(h, w, ref)], d[(h, w, v)]
		    return statistics.median([x[r] / m[r] for r in x])
		for h in ("XDP", "TC", "TC ingress"):
		    for w in ("mix", "insert path", "update path"):
		        for m in ("percpu", "shared"):
		            now, then = "flowacct " + m, "baseline " + m
		            med = lambda v: statistics.median(d[(h, w, v)].values())
		            nn, nt, xm = net(h, w, now), net(h, w, then), xmin(h, w, now)
		            cut = 1 - nn / nt
		            met = (cut >= 0.25 and xm <= 1.5) if w == "mix" else xm <= 1.25
		            xw = xmin(h, w, now, "minimal, 24-byte value (percpu)")
		            print("| clang %s | %s | %s | %s | %.1f | %.1f | %.1f | %.2f | %.2f | %.2f | %.2f | %.3f | %s |" % (
		                sys.argv[2], "TC egress" if h == "TC" else h, w, m, med("minimal (percpu)"), med(then), med(now),
		                xm, xw, nt, nn, cut, "yes" if met else "no"))
		EOF
	done
	echo
}

# mix_against RAW ROUNDS BASELINE [--ours OBJ]: the mix at XDP, TC egress and
# TC ingress through our programs (or OBJ's) and BASELINE's, in the same
# interleaved rounds, flowbench's lines into RAW. Only the four programs
# compared (ours and the baseline's, shared and percpu) run, so that each
# pass of a round runs them a few ms apart; each round keeps the least of
# MIX_BEST_OF passes. On a VM whose programs run up to 1.4 times slower for
# a second or more at a time, a program against itself among every case
# (runs up to a second apart, one pass) gave medians of 9 rounds from 0.97
# to 1.03 and rounds from 0.64 to 1.44; this way, 0.96 to 1.04 over 15
# rounds at worst, mostly within 1.5 % (the tunnels section's "itself").
MIX_BEST_OF=5
[ $QUICK = 0 ] || MIX_BEST_OF=1
mix_against() {
	local raw=$1 rounds=$2 base=$3
	shift 3
	"$FB" pkt "${PKT_ARGS[@]}" --rounds "$rounds" --best-of "$MIX_BEST_OF" \
		--only "-1,6,5+6+15+16" "$@" \
		--baseline "start=$base" >"$raw" 2>/dev/null
	"$FB" pkt "${PKT_ARGS[@]}" --rounds "$rounds" --best-of "$MIX_BEST_OF" \
		--only "1,6,5+6+15+16" "$@" \
		--tc-ingress --baseline "start=$base" \
		2>/dev/null | sed 's/^TC\t/TC ingress\t/' >>"$raw"
}

# The default table layout (shared) against SCALE_START's default (percpu),
# on the mix, with each compiler, in the same interleaved rounds.
against_default() {
	local rounds=5 c raw start
	[ $QUICK = 1 ] && rounds=3
	start=$(git rev-parse --short "$SCALE_START" 2>/dev/null || echo "$SCALE_START")
	say "the default layout against $start"
	cat <<-EOF
	### The default layout against $start

	The mix through this tree's programs with the default \`--map shared\` and with
	\`percpu\`, and through $start's (built from git by tests/bench/bench.mk) with its
	default, \`percpu\`, loaded side by side and run in the same interleaved rounds
	($rounds of them, each the least of $MIX_BEST_OF passes of the four
	programs), with clang 14 and 19. x: the default's ns a packet over
	$start's, per round: median, then min to max. Target: at most 1.1 x.

	| compiler | hook | $start percpu | now shared (default) | now percpu | x | min to max | met |
	|---|---|---:|---:|---:|---:|---:|---|
	EOF
	for c in 14 19; do
		raw=$SCRATCH/default-$c.tsv
		local ours=()
		[ $c = 14 ] || ours=(--ours "$(clang19_obj)")
		mix_against "$raw" "$rounds" "build/scale-start/clang-$c.bpf.o" "${ours[@]}"
		python3 - "$raw" "$c" <<-'EOF'
		import collections, statistics, sys
		d = collections.defaultdict(dict)
		for line in open(sys.argv[1]):
		    h, w, v, r, ns = line.rstrip("\n").split("\t")
		    d[(h, v)][int(r)] = float(ns)
		for h in ("XDP", "TC", "TC ingress"):
		    now, then = d[(h, "flowacct shared")], d[(h, "baseline percpu")]
		    x = [now[r] / then[r] for r in now]
		    med = lambda v: statistics.median(d[(h, v)].values())
		    print("| clang %s | %s | %.1f | %.1f | %.1f | %.2f | %.2f to %.2f | %s |" % (
		        sys.argv[2], "TC egress" if h == "TC" else h, med("baseline percpu"),
		        med("flowacct shared"), med("flowacct percpu"), statistics.median(x),
		        min(x), max(x), "yes" if statistics.median(x) <= 1.1 else "no"))
		EOF
	done
	echo
}

# One flow from both CPUs at once, per map mode: the cost of contention.
contention() {
	local secs=1 rounds=5
	[ $QUICK = 1 ] && secs=0.2 rounds=1
	say "contention (BPF_PROG_TEST_RUN on both CPUs)"
	cat <<-EOF
	### One flow from both CPUs at once

	A thread on each CPU runs the same IPv4 TCP flow through the TC program
	(\`BPF_PROG_TEST_RUN\`, $secs s per case, median of $rounds interleaved
	rounds), against one thread alone: with \`--map shared\` (the default)
	each CPU adds to a row of its own (the CPU in the key's spare bits),
	which user space reads as the flow's one row, with \`percpu\` each to
	its own copy in one row. x one thread: per round, same map; target at
	most 1.25 x for the default. Each case checks that the flow counted
	every packet run.

	EOF
	"$FB" contend --secs "$secs" --rounds "$rounds"
	echo
}

# What the verifier makes of each program, with each compiler.
verifier_table() {
	local objs=("clang 14=$BUILD/flowacct.bpf.o"
		"clang 14, all options=$BUILD/flowacct.bpf.o+owners+retrans+passive_rtt"
		"clang 14, all options and --decap inner=$BUILD/flowacct.bpf.o+owners+retrans+passive_rtt+decap"
		"clang 14, replay with --decap inner=$BUILD/flowacct.bpf.o+replay+decap")
	say "the verifier's statistics"
	if clang19_obj >/dev/null; then
		objs+=("clang 19=build/clang-19/flowacct.bpf.o"
			"clang 19, all options=build/clang-19/flowacct.bpf.o+owners+retrans+passive_rtt"
			"clang 19, all options and --decap inner=build/clang-19/flowacct.bpf.o+owners+retrans+passive_rtt+decap"
			"clang 19, replay with --decap inner=build/clang-19/flowacct.bpf.o+replay+decap")
	fi
	cat <<-EOF
	## 8. The programs as the verifier sees them

	Each program of each build loaded once with the verifier's statistics
	(log level 4): instructions processed (the limit is 1,000,000) and the
	verification time it reports, then the instructions after its rewrites
	and the JITed size (\`bpf_prog_info\`). Growth from one change to the
	next shows here. "All options": loaded with \`--attribution --retrans
	--passive-rtt\`; without them the verifier removes their code. With
	\`--decap inner\` the tunnels' parse is verified too, once, in a global
	function of its own; replay's configuration (lengths from the capture
	record, frames that may be padded) is its costliest.

	EOF
	"$FB" verifier "${objs[@]}"
	echo
}

# figure HOOK WORKLOAD VARIANT: the median of that case from the raw file.
figure() {
	local v
	v=$(awk -F'\t' -v h="$1" -v w="$2" -v p="$3" \
		'$1 == h && $2 == w && $3 == p { print $5 }' "$PKT_RAW")
	# shellcheck disable=SC2086
	stats $v | cut -d' ' -f1
}

# Where the time goes: perf samples on the benchmark's CPU while one case
# runs, split by function and scaled to that case's ns per packet. The test
# run's own loop is in both; the hash lookup (htab_map_hash,
# lookup_nulls_elem_raw, memcmp) is the same work in both.
# profile_case ONLY REPEAT NAME: perf samples on the benchmark's CPU for 2 s
# while case ONLY (flowbench pkt --only) runs; leaves "function<TAB>ns" in
# $SCRATCH/prof-NAME.txt (functions over 1%) and the case's ns in .tsv.
profile_case() {
	local only=$1 repeat=$2 name=$3 pid ns
	"$FB" pkt --rounds 1 --repeat "$repeat" --cpu "$GEN_CPU" --only "$only" \
		>"$SCRATCH/prof-$name.tsv" 2>"$SCRATCH/prof-$name.err" &
	pid=$!
	# Not while it loads: the verifier's time would be in the profile.
	for _ in $(seq 300); do
		grep -q 'loaded, running' "$SCRATCH/prof-$name.err" && break
		sleep 0.1
	done
	sleep 0.2
	perf record -q -C "$GEN_CPU" -e cpu-clock -F 4999 -o "$SCRATCH/perf-$name.data" \
		-- sleep 2 2>/dev/null
	wait $pid
	ns=$(cut -f5 "$SCRATCH/prof-$name.tsv")
	perf report -i "$SCRATCH/perf-$name.data" --no-children --sort sym \
		--stdio -q 2>/dev/null |
		awk -v ns="$ns" '$1 ~ /%$/ { p = $1; sub(/%/, "", p); s = $3;
			sub(/^bpf_prog_[0-9a-f]+_/, "bpf: ", s);
			if (p >= 1) printf "%s\t%.1f\n", s, p * ns / 100 }' \
		>"$SCRATCH/prof-$name.txt"
}

# Where the time goes, per function, for the XDP program against the
# minimal one. Each case must run longer
# than the 3.5 s the profile waits for.
profile() {
	command -v perf >/dev/null || { echo "(perf is not installed: no profile)"; echo; return; }
	say "profile (perf)"
	profile_case 0,0,5 60000000 ours
	profile_case 0,0,1 60000000 min
	cat <<-EOF
	#### Where the time goes: XDP, IPv4 TCP, per function

	perf (cpu-clock samples: this VM has no hardware counters, so
	\`bpftool prog profile\` cannot run) on the benchmark's CPU for 2 s
	while one case runs, each function's share turned into ns of that
	case's figure; functions under 1% left out. BPF programs show as
	"bpf: NAME"; flowacct's global functions are programs of their own. The
	test run's loop (bpf_test_run, __local_bh_enable_ip,
	bpf_test_timer_continue) is the floor; htab_map_hash,
	lookup_nulls_elem_raw, memcmp and __htab_map_lookup_elem are the hash
	lookup both do.

	| function | flowacct percpu, ns | minimal, ns |
	|---|---:|---:|
	EOF
	awk -F'\t' 'FNR == NR { o[$1] = $2; order[++n] = $1; next }
		{ m[$1] = $2; if (!($1 in o)) order[++n] = $1 }
		END { for (i = 1; i <= n; i++) { k = order[i];
			printf "| %s | %s | %s |\n", k, (k in o) ? o[k] : "", (k in m) ? m[k] : "" } }' \
		"$SCRATCH/prof-ours.txt" "$SCRATCH/prof-min.txt"
	echo
	echo "Totals: flowacct $(cut -f5 "$SCRATCH/prof-ours.tsv") ns, minimal $(cut -f5 "$SCRATCH/prof-min.tsv") ns."
	echo
	echo "Sampled packets are read as \`flowacct capture\` reads them: the reader"
	echo "is woken when a quarter of a CPU's buffer is full, not for every"
	echo "sample. (Woken per sample, as libbpf's perf_buffer__new() asks, every"
	echo "perf_event_output raised an irq_work self-IPI, a VM exit under KVM:"
	echo "about 6 µs a sample on this machine.)"
	echo
}

# ---- 2. dump -----------------------------------------------------------------

# rss_mb PID: the resident memory of process PID, in MB.
rss_mb() {
	awk '$1 == "VmRSS:" { printf "%d\n", $2 / 1024 }' /proc/"$1"/status
}

# dump_row WHAT REFERENCE SECONDS...: one row of the dump table.
dump_row() {
	local what=$1 ref=$2 m lo hi
	shift 2
	read -r m lo hi < <(stats "$@")
	printf '| `%s` | %.2f | %.2f | %.2f | %.1f |\n' "$what" "$m" "$lo" "$hi" \
		"$(awk -v a="$m" -v b="$ref" 'BEGIN { print a / b }')"
}

dump_bench() {
	local r ifx pin n json top bpft daemon j b d pid
	say "dump of $DUMP_FLOWS flows"
	$INA "$FA" attach "$VA" --max-flows "$DUMP_MAX" >/dev/null 2>&1
	ifx=$(ip -n "$NSA" -o link show dev "$VA" | cut -d: -f1)
	pin=$(pin_dir "$NSA" "$VA")/flows_0
	"$FB" fill "$pin" "$DUMP_FLOWS" "$ifx"
	# The table must hold what was put in (and what ND or ARP added).
	n=$($INA "$FA" dump --top 1 | sed -nE 's/^\(([0-9]+) more flows\)/\1/p')
	[ "${n:-0}" -ge $((DUMP_FLOWS - 1)) ] ||
		fail "the table holds $((${n:-0} + 1)) flows, not $DUMP_FLOWS"
	json=() top=() bpft=() daemon=()
	for r in $(seq "$ROUNDS"); do
		json+=("$(seconds $INA "$FA" dump -j)")
		top+=("$(seconds $INA "$FA" dump --sort bytes --top 20)")
		bpft+=("$(seconds bpftool map dump pinned "$pin")")
	done
	# The same flows in a daemon's cache: dump asks it, over the control
	# socket, for the rows of its cache and active epoch.
	$INA "$FA" run --layout iface "$VA" --max-flows "$DUMP_MAX" --cache-size $((DUMP_FLOWS * 2)) \
		--idle-timeout 3600 --active-timeout 3600 --json /dev/null 2>"$SCRATCH/run.log" &
	pid=$!
	# Its steady state: every flow drained into the cache, and two ticks
	# since (the first, which takes a million flows in, is seconds long,
	# and a dump waits for a tick in progress).
	local ticks=-1 t
	for r in $(seq 300); do
		# Its own interface: another run on the machine lists its own too.
		read -r n t < <($INA "$FA" status -j 2>/dev/null | python3 -c 'import json, sys
d = [i for i in json.load(sys.stdin)["interfaces"]
     if i["iface"] == sys.argv[1] and i["this_netns"]][0].get("daemon") or {}
print(d.get("cache_flows", 0), d.get("ticks", 0))' "$VA" 2>/dev/null || echo "0 0")
		[ "${n:-0}" -ge "$DUMP_FLOWS" ] && [ $ticks -lt 0 ] && ticks=$t
		[ $ticks -ge 0 ] && [ "$t" -ge $((ticks + 2)) ] && break
		sleep 0.2
	done
	[ $ticks -ge 0 ] ||
		fail "the daemon's cache holds ${n:-0} flows, not $DUMP_FLOWS: $(cat "$SCRATCH/run.log")"
	local rss0 rss1 rss2
	rss0=$(rss_mb "$pid")
	for r in $(seq "$DAEMON_ROUNDS"); do
		daemon+=("$(seconds $INA "$FA" dump -j)")
	done
	rss1=$(rss_mb "$pid")
	# It keeps a series' memory until requests stop for 5 s (REQUEST_SERIES_NS).
	sleep 12
	rss2=$(rss_mb "$pid")
	kill -TERM "$pid"
	wait "$pid" || fail "the daemon failed: $(cat "$SCRATCH/run.log")"
	$INA "$FA" detach "$VA" >/dev/null
	read -r j _ < <(stats "${json[@]}")
	read -r b _ < <(stats "${bpft[@]}")
	read -r d _ < <(stats "${daemon[@]}")
	cat <<-EOF
	## 2. Dump

	$DUMP_FLOWS flows in the table of an attached interface (\`--map percpu\`,
	\`--max-flows $DUMP_MAX\`; flows put in with batch updates by
	\`flowbench fill\`, 7 in 10 IPv4, both directions, counts on both CPUs),
	output to /dev/null. Wall time in seconds, median of $ROUNDS interleaved
	rounds, with min and max. The daemon's row: \`flowacct run\` on the same
	interface, timed $DAEMON_ROUNDS times in a row (the first includes the daemon's first
	use of that much memory) once its cache holds every flow and two ticks
	have passed since (the tick that takes a million flows in lasts seconds,
	and a request waits for a tick in progress); the daemon formats the
	document on two threads.

	| command | median s | min | max | x flowacct dump -j |
	|---|---:|---:|---:|---:|
	EOF
	dump_row "flowacct dump -j" "$j" "${json[@]}"
	dump_row "flowacct dump --sort bytes --top 20" "$j" "${top[@]}"
	dump_row "bpftool map dump pinned .../flows" "$j" "${bpft[@]}"
	dump_row "flowacct dump -j (a daemon's cache)" "$j" "${daemon[@]}"
	echo
	awk -v j="$j" -v b="$b" 'BEGIN {
		x = b / j
		printf "Targets: `flowacct dump -j` under 1 s: %s (%.2f s); at least 5 times faster than bpftool: %s (%.1f times).\n",
			(j < 1) ? "met" : "missed", j, (x >= 5) ? "met" : "missed", x }'
	echo
	awk -v d="$d" 'BEGIN {
		printf "From a daemon'"'"'s cache through the control socket, under 0.5 s: %s (%.2f s); reading the kernel'"'"'s tables is bound by the batch lookup of both epochs'"'"' tables, the first row.\n",
			(d < 0.5) ? "met" : "missed", d }'
	echo
	echo "The daemon's resident memory: $rss0 MB before these requests, $rss1 MB"
	echo "after the last, $rss2 MB 12 s later. Between requests it keeps what a"
	echo "request allocated, so that the next does not fault in and zero fresh"
	echo "memory, and gives it back at the first tick after requests have"
	echo "stopped for 5 s (a request 5 s or more after the one before gives"
	echo "it back at once)."
	echo
}

# ---- 3. live rate ------------------------------------------------------------

rx_packets() {
	ip -n "$NSB" -s -j link show dev "$VB" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'
}

# The receiver's packets per second over the window, after the warmup.
measure_rate() {
	local a b ta tb
	sleep "$LIVE_WARMUP"
	a=$(rx_packets); ta=$(date +%s%N)
	sleep "$LIVE_WINDOW"
	b=$(rx_packets); tb=$(date +%s%N)
	awk -v a="$a" -v b="$b" -v ta="$ta" -v tb="$tb" \
		'BEGIN { printf "%.0f\n", (b - a) / ((tb - ta) / 1e9) }'
}

LIVE_CONFIGS=(none noop rx-minimal rx-percpu rx-shared rx-percpu-sampled rx-tc-percpu
	rx-tc-shared tx-percpu tx-shared)
declare -A LIVE_DESC=(
	[none]="nothing attached"
	[noop]="receiver: a no-op XDP program (the XDP path's floor)"
	[rx-minimal]="receiver: the minimal accountant (XDP)"
	[rx-percpu]="receiver: flowacct --map percpu (XDP ingress)"
	[rx-shared]="receiver: flowacct --map shared (XDP ingress)"
	[rx-percpu-sampled]="receiver: flowacct --map percpu --sample 100 (XDP), capture running"
	[rx-tc-percpu]="receiver: flowacct --map percpu (TC ingress, the default on a veth)"
	[rx-tc-shared]="receiver: flowacct --map shared (TC ingress)"
	[tx-percpu]="sender: flowacct --map percpu (TC egress)"
	[tx-shared]="sender: flowacct --map shared (TC egress)"
)

# live_config CONFIG: attach what CONFIG needs, measure, take it away.
live_config() {
	local c=$1 rate cap=
	case $c in
	noop) $INB "$FB" xdp-attach noop "$VB" ;;
	rx-minimal) $INB "$FB" xdp-attach minimal "$VB" ;;
	rx-percpu) $INB "$FA" attach "$VB" --ingress xdp --map percpu >/dev/null 2>&1 ;;
	rx-shared) $INB "$FA" attach "$VB" --ingress xdp --map shared >/dev/null 2>&1 ;;
	rx-tc-percpu) $INB "$FA" attach "$VB" --ingress tc --map percpu >/dev/null 2>&1 ;;
	rx-tc-shared) $INB "$FA" attach "$VB" --ingress tc --map shared >/dev/null 2>&1 ;;
	rx-percpu-sampled)
		$INB "$FA" attach "$VB" --ingress xdp --map percpu --sample 100 >/dev/null 2>&1
		$INB taskset -c 0 "$FA" capture "$VB" -w /dev/null \
			--duration "$(awk -v a="$LIVE_WARMUP" -v b="$LIVE_WINDOW" 'BEGIN { print int(a + b + 2) }')" \
			>/dev/null 2>&1 &
		cap=$!
		;;
	tx-percpu) $INA "$FA" attach "$VA" --map percpu >/dev/null 2>&1 ;;
	tx-shared) $INA "$FA" attach "$VA" --map shared >/dev/null 2>&1 ;;
	esac
	rate=$(measure_rate)
	case $c in
	noop | rx-minimal) ip -n "$NSB" link set dev "$VB" xdp off ;;
	rx-*)
		$INB "$FA" stats "$VB" -j | grep '"seen":[1-9]' >/dev/null ||
			fail "flowacct on $VB saw nothing"
		[ -z "$cap" ] || { kill "$cap" 2>/dev/null; wait "$cap" 2>/dev/null || true; }
		$INB "$FA" detach "$VB" >/dev/null
		;;
	tx-*)
		$INA "$FA" stats "$VA" -j | grep '"seen":[1-9]' >/dev/null ||
			fail "flowacct on $VA saw nothing"
		$INA "$FA" detach "$VA" >/dev/null
		;;
	esac
	echo "$rate"
}

live_bench() {
	local r c gen base
	declare -A got
	say "live rate (trafgen over veth)"
	# Small UDP packets over LIVE_FLOWS source ports, to a MAC that is not
	# the receiver's: the receiver drops them at the IP layer as not for
	# this host, so the rate is bounded by the veth and XDP path, not by
	# a socket, and flowacct's share shows.
	cat >"$SCRATCH/udp.trafgen" <<-EOF
	{
	  eth(da=02:00:00:00:00:02, sa=02:00:00:00:00:01, type=0x0800),
	  ipv4(saddr=192.0.2.1, daddr=192.0.2.2, ttl=64),
	  udp(sp=dinc(1024, $((1024 + LIVE_FLOWS - 1))), dp=9),
	  fill(0x00, 18)
	}
	EOF
	# One generator for the whole section, on one CPU; veth runs the
	# receive side in softirq on the sending CPU, so that CPU is the limit.
	timeout 900 $INA taskset -c "$GEN_CPU" trafgen -o "$VA" -i "$SCRATCH/udp.trafgen" \
		-P 1 -q --no-sock-mem -C -Q >"$SCRATCH/trafgen.log" 2>&1 &
	gen=$!
	sleep 1
	kill -0 $gen 2>/dev/null || fail "trafgen did not start: $(cat "$SCRATCH/trafgen.log")"
	for r in $(seq "$ROUNDS"); do
		for c in "${LIVE_CONFIGS[@]}"; do
			got[$c]+=" $(live_config "$c")"
		done
		kill -0 $gen 2>/dev/null || fail "trafgen stopped: $(cat "$SCRATCH/trafgen.log")"
	done
	kill $gen 2>/dev/null || true
	wait $gen 2>/dev/null || true
	# shellcheck disable=SC2086
	read -r base _ < <(stats ${got[none]})
	cat <<-EOF
	## 3. Live rate

	trafgen (netsniff-ng) in namespace A sends 60-byte UDP frames over
	$LIVE_FLOWS flows (source ports), from one process on CPU $GEN_CPU, through a
	veth pair to namespace B, through the qdisc path (so TC egress sees them).
	They carry a destination MAC that is not B's, so B drops them at the IP
	layer (not for this host): what limits the rate is the veth and XDP path
	on that one CPU (the receive side runs in softirq on the sending CPU),
	not a socket. Packets per second received at B (its rx counter) over
	${LIVE_WINDOW} s after ${LIVE_WARMUP} s, median of $ROUNDS rounds (every configuration
	once per round), with min and max. The XDP programs attach in native
	mode; a no-op XDP program is the floor of the XDP path (veth switches to
	NAPI when any XDP program is attached). Sampling: 1 in 100, every-Nth,
	with \`flowacct capture -w /dev/null\` reading on the other CPU.

	| configuration | median pps | min | max | x nothing attached |
	|---|---:|---:|---:|---:|
	EOF
	for c in "${LIVE_CONFIGS[@]}"; do
		# shellcheck disable=SC2086
		ratio_row %.0f "${LIVE_DESC[$c]}" "$base" ${got[$c]}
	done
	echo
	# shellcheck disable=SC2086
	awk -v n="$base" -v x="$(stats ${got[noop]} | cut -d' ' -f1)" \
		-v m="$(stats ${got[rx-minimal]} | cut -d' ' -f1)" \
		-v p="$(stats ${got[rx-percpu]} | cut -d' ' -f1)" \
		-v t="$(stats ${got[tx-percpu]} | cut -d' ' -f1)" 'BEGIN {
		printf "Per packet on that CPU: nothing attached %.0f ns; the XDP path with a no-op %+.0f ns; over the no-op, the minimal accountant %+.0f ns and flowacct %+.0f ns (%.2f times the minimal); flowacct at TC %+.0f ns over nothing.\n",
			1e9 / n, 1e9 / x - 1e9 / n, 1e9 / m - 1e9 / x, 1e9 / p - 1e9 / x,
			(1e9 / p - 1e9 / x) / (1e9 / m - 1e9 / x), 1e9 / t - 1e9 / n }'
	echo
	tcp_bench
}

TCP_CONFIGS=(none tc-percpu tc-shared xdp-percpu xdp-shared skb-percpu skb-shared)
declare -A TCP_DESC=(
	[none]="nothing attached"
	[tc-percpu]="flowacct, TC ingress (the default on a veth), percpu"
	[tc-shared]="flowacct, TC ingress, shared"
	[xdp-percpu]="flowacct, XDP native ingress, percpu"
	[xdp-shared]="flowacct, XDP native ingress, shared"
	[skb-percpu]="flowacct, XDP generic (skb) ingress, percpu"
	[skb-shared]="flowacct, XDP generic (skb) ingress, shared"
)

# TCP over the veth with its offloads on, flowacct on the receiving end: what
# each ingress hook costs a container's TCP throughput.
tcp_bench() {
	local r c base secs=2 got_rate
	declare -A got
	# Whole seconds: iperf3 reads -t 0.5 as 0, which is "forever".
	[ $QUICK = 1 ] && secs=1
	$INA ethtool -K "$VA" tso on gso on gro on >/dev/null 2>&1
	$INB ethtool -K "$VB" tso on gso on gro on >/dev/null 2>&1
	$INB iperf3 -s -B 192.0.2.2 -p 5201 -D -I "$SCRATCH/iperf3.pid" >/dev/null
	sleep 0.5
	for r in $(seq "$ROUNDS"); do
		for c in "${TCP_CONFIGS[@]}"; do
			case $c in
			none) ;;
			tc-*) $INB "$FA" attach "$VB" --ingress tc --map "${c#*-}" >/dev/null 2>&1 ;;
			xdp-*) $INB "$FA" attach "$VB" --ingress xdp --map "${c#*-}" >/dev/null 2>&1 ;;
			skb-*) $INB "$FA" attach "$VB" --ingress xdp --mode skb --map "${c#*-}" >/dev/null 2>&1 ;;
			esac
			got_rate=$($INA timeout $((secs + 20)) iperf3 -c 192.0.2.2 -p 5201 \
				-t "$secs" -J |
				python3 -c 'import json, sys
print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))')
			got[$c]+=" $got_rate"
			[ "$c" = none ] || $INB "$FA" detach "$VB" >/dev/null
		done
	done
	kill "$(cat "$SCRATCH/iperf3.pid")"
	$INA ethtool -K "$VA" tso off gso off gro off >/dev/null 2>&1
	$INB ethtool -K "$VB" tso off gso off gro off >/dev/null 2>&1
	# shellcheck disable=SC2086
	read -r base _ < <(stats ${got[none]})
	cat <<-EOF
	### TCP throughput

	iperf3 TCP from A to B over the veth pair with its offloads on (TSO,
	GSO, GRO: a veth's defaults), ${secs} s per run, flowacct attached on B's
	end, median of $ROUNDS rounds. Native XDP on a veth turns off its peer's
	TSO; generic XDP keeps the offloads but sees GRO's merged frames and
	undercounts their segments (README: "Which ingress hook, and what each
	sees").

	| receiver | median Gbit/s | min | max | x nothing attached |
	|---|---:|---:|---:|---:|
	EOF
	for c in "${TCP_CONFIGS[@]}"; do
		# shellcheck disable=SC2086
		ratio_row %.2f "${TCP_DESC[$c]}" "$base" ${got[$c]}
	done
	echo
}

# ---- 6. epochs and the daemon ------------------------------------------------

# The CPU time (user + system, in s) process $1 has used.
cpu_seconds() {
	awk '{ printf "%.2f\n", ($14 + $15) / '"$(getconf CLK_TCK)"' }' /proc/"$1"/stat
}

epochs() {
	local flips=200 flows=1000000 live=200000 mixr=21 pid c0 c1 t0 t1 recs
	[ $QUICK = 1 ] && flips=20 flows=20000 live=5000 mixr=3
	say "epochs: flip, drain, records"
	cat <<-EOF
	## 6. Epochs and the daemon

	### What the epochs cost per packet

	Section 1 ran, in the same interleaved rounds, the same programs built
	without epochs (\`-DFLOW_NO_EPOCHS\`: one table, the epoch never read),
	the "flowacct against no epochs" table there; with 5 rounds its single
	figures move by tens of percent between rounds on this machine. So the
	mix, where the target is (at most 5 % more), is run again alone, $mixr
	rounds, both builds in each round in a new random order:

	| hook | map | flowacct ns | without epochs ns | ratio (median of per-round ratios) | min | max | target met |
	|---|---|---:|---:|---:|---:|---:|---|
	EOF
	"$FB" pkt --rounds "$mixr" --only -1,6,-1 \
		--baseline "no epochs=$BUILD/tests/bench/flowacct_noepoch.bpf.o" \
		>"$SCRATCH/mix.tsv" 2>/dev/null
	python3 - "$SCRATCH/mix.tsv" <<-'EOF'
	import collections, statistics, sys
	d = collections.defaultdict(dict)
	for line in open(sys.argv[1]):
	    h, w, v, r, ns = line.rstrip("\n").split("\t")
	    d[(h, v)][int(r)] = float(ns)
	for h in ("XDP", "TC"):
	    for m in ("percpu", "shared"):
	        a, b = d[(h, "flowacct " + m)], d[(h, "baseline " + m)]
	        ratios = [a[r] / b[r] for r in a]
	        med = statistics.median(ratios)
	        print("| %s | %s | %.1f | %.1f | %.3f | %.2f | %.2f | %s |" % (
	            h, m, statistics.median(a.values()), statistics.median(b.values()),
	            med, min(ratios), max(ratios), "yes" if med <= 1.05 else "no"))
	EOF
	cat <<-EOF

	### A flip's wait

	The time from writing the new epoch index to the end of the wait
	(an update of an ARRAY_OF_MAPS slot of the daemon's own, which returns
	after \`synchronize_rcu()\`), $flips flips back to back, idle and with both
	CPUs running the TC program through BPF_PROG_TEST_RUN without a pause.
	\`membarrier(MEMBARRIER_CMD_GLOBAL)\`, the other documented way to wait for
	a grace period, beside it.

	EOF
	"$FB" flip --flips "$flips"
	cat <<-EOF

	### Draining an epoch

	A table of $flows flows (7 in 10 IPv4, values on both CPUs for percpu),
	read and cleared as the daemon drains it, against a plain batch lookup
	of the same table (what \`dump\` does), and against reading then deleting
	by key; refilled before each, the three in a rotating order, 3 rounds. The
	target: the drain at most 1.3 times the plain lookup.

	EOF
	"$FB" drain --flows "$flows" --rounds 3
	cat <<-EOF

	### Records

	The flow cache and the JSON lines alone, $flows flows: merged into an empty
	cache, all expired at once (idle), written as JSON lines to /dev/null.

	EOF
	"$FB" records --flows "$flows"
	# The daemon live: one record per flow, each flow one datagram.
	: >"$SCRATCH/rec.json"
	$INA ping -q -c 1 -w 5 192.0.2.2 >/dev/null
	$INA "$FA" run --layout iface "$VA" --interval 1 --idle-timeout 1 --max-flows 262144 \
		--json "$SCRATCH/rec.json" 2>"$SCRATCH/run.log" &
	pid=$!
	for t0 in $(seq 100); do
		grep -q "running on" "$SCRATCH/run.log" && break
		sleep 0.05
	done
	c0=$(cpu_seconds $pid)
	t0=$(date +%s%N)
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows "$live" \
		--dports 4 --sport 10000 --count 1 --size 18 >/dev/null
	sleep 2.5	# every flow idle and out
	c1=$(cpu_seconds $pid)
	t1=$(date +%s%N)
	kill -TERM $pid
	wait $pid
	recs=$(grep -c '"type":"flow"' "$SCRATCH/rec.json")
	[ "$recs" -ge "$live" ] || fail "the daemon wrote $recs records for $live flows"
	cat <<-EOF

	The daemon live (\`flowacct run --interval 1 --idle-timeout 1 --max-flows
	262144\` on one end of the veth pair): $live flows of one UDP datagram each, sent as fast as
	tests/helpers/udp_send.py sends, then 2.5 s for them all to leave as idle records.
	The daemon's CPU time is from /proc (10 ms resolution).

	| records written | wall s | daemon CPU s | records per CPU second | CPU s per 100k records |
	|---:|---:|---:|---:|---:|
	EOF
	awk -v r="$recs" -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" 'BEGIN {
		c = c1 - c0; if (c <= 0) c = 0.01
		printf "| %d | %.1f | %.2f | %.0f | %.3f |\n", r, (t1 - t0) / 1e9, c, r / c, c * 100000 / r }'
	echo
}

# ---- 7. export ----------------------------------------------------------------

# nfcapd_bg PORT DIR: nfcapd in $NSA on 127.0.0.1:PORT, its pid in NFCAPD;
# nfcapd_flows DIR: the flow records it stored (after it stopped).
nfcapd_bg() {
	mkdir -p "$2"
	$INA nfcapd -4 -b 127.0.0.1 -p "$1" -B 4194304 -w "$2" >"$2.log" 2>&1 &
	NFCAPD=$!
	for _ in $(seq 50); do
		$INA ss -Hnul "sport = :$1" | grep -q . && return 0
		sleep 0.1
	done
	fail "nfcapd did not start: $(cat "$2.log")"
}
nfcapd_flows() {
	nfdump -R "$1" -I 2>/dev/null | sed -n 's/^Flows: //p'
}

export_bench() {
	local n=1000000 live=200000 fa_pid sf_pid nf_fa nf_sf c0 c1 s0 s1 recs_fa recs_sf dom
	[ $QUICK = 1 ] && n=20000 live=3000
	say "export: IPFIX"
	cat <<-EOF
	## 7. Export

	### Encoding and sending IPFIX

	$n synthetic records (7 in 10 IPv4, 1 in 10 ICMP), handed to the
	exporter (lib/ipfix.c) 1000 at a time as the daemon does, packed into
	messages of at most 1400 bytes and sent: to a UDP socket on loopback
	that is never read (the kernel drops what overflows it: the exporter's
	own cost), and to nfcapd (nfdump 1.7.1, \`-B 4194304\`) on loopback,
	which stores what it keeps up with: a burst this fast overflows its
	socket buffer, as it would any collector's.

	| to | records | messages | seconds | records per second | send errors |
	|---|---:|---:|---:|---:|---:|
	EOF
	printf '| a socket nobody reads '
	$INA "$FB" ipfix --records "$n"
	nfcapd_bg 4739 "$SCRATCH/nf0"
	printf '| nfcapd '
	$INA "$FB" ipfix --records "$n" --to 127.0.0.1:4739
	sleep 1
	kill -TERM $NFCAPD
	wait $NFCAPD || true
	echo
	echo "nfcapd stored $(nfcapd_flows "$SCRATCH/nf0") of the $n records sent to it."

	export_live
}

# proc_cpu PID: the CPU time (user + system, in s) process PID's threads have
# used, to the nanosecond (schedstat), where cpu_seconds counts 10 ms ticks:
# a run of 1000 records costs the daemon a few of those.
proc_cpu() {
	cat /proc/"$1"/task/*/schedstat | awk '{ t += $1 } END { printf "%.4f\n", t / 1e9 }'
}

# host_cpu: the CPU seconds the host has been busy, all CPUs (user, nice,
# system, irq and softirq of /proc/stat): the exporters' softirq work (the
# TC program, AF_PACKET's copy) lands there, in no process's time.
host_cpu() {
	awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" {
		printf "%.2f\n", ($2 + $3 + $4 + $7 + $8) / hz; exit }' /proc/stat
}

# export_run ROUND PACKETS FLOWS WHO: one run of the live comparison, WHO
# (none, fa, sf or both) exporting while FLOWS flows of PACKETS datagrams
# leave A at EXPORT_RATE a second; appends to $SCRATCH/export.tsv: round,
# packets, flows, who, the sender's seconds, host CPU s, then CPU s and records
# stored for flowacct and softflowd ("0 0" for one not running).
export_run() {
	local r=$1 pk=$2 flows=$3 who=$4 fa_pid='' sf_pid='' nf_fa='' nf_sf='' dom
	local c0=0 c1=0 s0=0 s1=0 h0 h1 t0 t1 recs_fa=0 recs_sf=0
	rm -rf "$SCRATCH/nf1" "$SCRATCH/nf2"
	$INA ping -q -c 1 -w 5 192.0.2.2 >/dev/null
	if [ "$who" = fa ] || [ "$who" = both ]; then
		nfcapd_bg 4739 "$SCRATCH/nf1"
		nf_fa=$NFCAPD
		$INA "$FA" run --layout iface "$VA" --interval 1 --idle-timeout 1 --max-flows 262144 \
			--ipfix 127.0.0.1:4739 2>"$SCRATCH/run.log" &
		fa_pid=$!
		for _ in $(seq 100); do
			grep -q "running on" "$SCRATCH/run.log" && break
			sleep 0.05
		done
	fi
	if [ "$who" = sf ] || [ "$who" = both ]; then
		nfcapd_bg 4740 "$SCRATCH/nf2"
		nf_sf=$NFCAPD
		# softflowd 1.1: -d foreground, -c none no control socket,
		# timeouts of 1 s and an expiry pass every second, as the daemon's.
		$INA softflowd -i "$VA" -v 10 -n 127.0.0.1:4740 -d -c none -m 262144 \
			-t udp=1 -t general=1 -t expint=1 -p "$SCRATCH/sf.pid" \
			>"$SCRATCH/sf.log" 2>&1 &
		sf_pid=$!
	fi
	sleep 1
	[ -z "$fa_pid" ] || c0=$(proc_cpu $fa_pid)
	[ -z "$sf_pid" ] || s0=$(proc_cpu $sf_pid)
	h0=$(host_cpu)
	t0=$(date +%s%N)
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 \
		--flows "$flows" --dports 4 --sport 10000 --count "$pk" --by-flow \
		--size 18 --rate "$EXPORT_RATE" >/dev/null
	t1=$(date +%s%N)
	sleep 3	# every flow idle and out of both
	h1=$(host_cpu)
	[ -z "$fa_pid" ] || c1=$(proc_cpu $fa_pid)
	[ -z "$sf_pid" ] || s1=$(proc_cpu $sf_pid)
	if [ -n "$fa_pid" ]; then
		kill -TERM $fa_pid
		wait $fa_pid || true
		# The exporter's sequence numbers, kept for a restart that will not come.
		dom=$(sed -nE 's/.* \(domain ([0-9]+)\).*/\1/p' "$SCRATCH/run.log" | head -1)
		[ -z "$dom" ] || rm -f /run/flowacct/ipfix-"$(printf %08x "$dom")"-*.state
	fi
	if [ -n "$sf_pid" ]; then
		kill -TERM $sf_pid
		wait $sf_pid || true
	fi
	if [ -n "$nf_fa$nf_sf" ]; then
		sleep 0.5
		kill -TERM $nf_fa $nf_sf
		wait $nf_fa $nf_sf || true
	fi
	[ -z "$nf_fa" ] || recs_fa=$(nfcapd_flows "$SCRATCH/nf1")
	[ -z "$nf_sf" ] || recs_sf=$(nfcapd_flows "$SCRATCH/nf2")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$pk" "$flows" "$who" \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')" \
		"$(awk -v a="$h0" -v b="$h1" 'BEGIN { printf "%.2f", b - a }')" \
		"$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.4f", b - a }')" "$recs_fa" \
		"$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.4f", b - a }')" "$recs_sf" \
		>>"$SCRATCH/export.tsv"
}

# The daemon and softflowd, live, on the same traffic, each to its own
# nfcapd: flows of 1, 10 and 100 datagrams, rounds interleaved.
export_live() {
	local rounds=5 r pk i n who
	# 100k datagrams a run, 5 s at 20k a second: tests/helpers/udp_send.py
	# sends about 5k to 15k a second on a loaded 2-CPU VM, so up to 20 s.
	local -A flows=([1]=100000 [10]=10000 [100]=1000)
	local -a order
	EXPORT_RATE=20000
	[ $QUICK = 1 ] && rounds=1 flows=([1]=3000 [10]=300 [100]=30)
	: >"$SCRATCH/export.tsv"
	for r in $(seq "$rounds"); do
		for pk in 1 10 100; do
			# Host CPU (who adds what over nothing) for 1 and 100 only:
			# 10 would add a minute to the section.
			order=(none fa sf both)
			[ "$pk" = 10 ] && order=(both)
			n=${#order[@]}
			for i in $(seq 0 $((n - 1))); do
				who=${order[$(((i + r) % n))]}
				say "export: round $r, $pk-datagram flows, $who"
				export_run "$r" "$pk" "${flows[$pk]}" "$who"
			done
		done
	done
	[ -z "$RAW" ] || cp "$SCRATCH/export.tsv" "${RAW%.*}.export.tsv"
	cat <<-EOF

	### The daemon against softflowd, live

	Flows of 1, 10 and 100 UDP datagrams of 18 bytes
	(tests/helpers/udp_send.py --by-flow: a flow's datagrams back to back,
	$EXPORT_RATE datagrams a second in all, so that each second's records
	fit in a collector's socket buffer) leave namespace A over the veth
	pair, while on that end \`flowacct run --interval 1 --idle-timeout 1
	--max-flows 262144 --ipfix\` and softflowd 1.1 (Debian; libpcap on the
	same interface, \`-v 10 -m 262144 -t udp=1 -t general=1 -t
	expint=1\`) export IPFIX, each to its own nfcapd on loopback. Rounds:
	$rounds; in each, for each flow size, both exporters together, and for
	1 and 100 datagrams also nothing running, only flowacct and only
	softflowd, in an order rotated each round.

	- **Process CPU**: the exporter's own (user + system, summed over its
	  threads from /proc/PID/task/*/schedstat, to the nanosecond), from
	  before the traffic until 3 s after it, when every flow has left
	  both, both running together, per 100k records its
	  nfcapd stored (both directions for flowacct: it accounts ingress
	  too, here the few ICMP errors B sends back).
	- **Host CPU**: the whole machine's busy time over the same window
	  (/proc/stat, all CPUs: user, nice, system, irq, softirq), running
	  alone, less the same traffic's with nothing running in the same
	  round, per 100k records stored: it holds the per-packet work in
	  softirq (flowacct's TC program, AF_PACKET's copy for libpcap),
	  outside either process, and the exporter's nfcapd; and whatever
	  else the machine ran at the time, which the median dampens but
	  does not remove.

	Each cell: median (min to max) over the rounds; the ratios are the
	median of each round's ratio. Records: the median each nfcapd stored.
	softflowd misses the last few hundred to about 1300 datagrams of a
	burst (the last flows sent, even 8 s later; a 3000-flow burst lost
	1290 of them): with the counts of \`make bench\` under 1 % of the
	flows. Its CPU is per record it stored.

	| datagrams a flow | flows, datagrams per s sent | records stored flowacct / softflowd | process CPU s per 100k records, flowacct | softflowd | flowacct / softflowd | host CPU s added per 100k records, flowacct | softflowd | flowacct / softflowd |
	|---|---|---|---:|---:|---:|---:|---:|---:|
	EOF
	python3 - "$SCRATCH/export.tsv" <<-'EOF'
	import collections, statistics, sys
	runs = collections.defaultdict(dict)	# (packets, round) -> who -> run
	for line in open(sys.argv[1]):
	    r, pk, flows, who, wall, host, fa, rfa, sf, rsf = line.split("\t")
	    runs[(int(pk), int(r))][who] = dict(
	        flows=int(flows), pps=int(pk) * int(flows) / float(wall), host=float(host),
	        fa=float(fa), rfa=int(rfa), sf=float(sf), rsf=int(rsf))
	def cell(v):
	    if not v:
	        return "-"
	    return "%.3f (%.3f to %.3f)" % (statistics.median(v), min(v), max(v))
	def per(cpu, recs):
	    # 0 CPU s counts as 1 us, so that a ratio is one.
	    return max(cpu, 1e-6) * 1e5 / max(recs, 1)
	for pk in sorted({k[0] for k in runs}):
	    rounds = [runs[k] for k in sorted(runs) if k[0] == pk]
	    both = [w["both"] for w in rounds]
	    pfa = [per(b["fa"], b["rfa"]) for b in both]
	    psf = [per(b["sf"], b["rsf"]) for b in both]
	    hfa, hsf, hx = [], [], []
	    for w in rounds:
	        if "none" in w:
	            a = (w["fa"]["host"] - w["none"]["host"]) * 1e5 / max(w["fa"]["rfa"], 1)
	            b = (w["sf"]["host"] - w["none"]["host"]) * 1e5 / max(w["sf"]["rsf"], 1)
	            hfa.append(a)
	            hsf.append(b)
	            if b:
	                hx.append(a / b)
	    print("| %d | %d, %.0f | %d / %d | %s | %s | %s | %s | %s | %s |" % (
	        pk, both[0]["flows"], statistics.median(b["pps"] for b in both),
	        statistics.median(b["rfa"] for b in both),
	        statistics.median(b["rsf"] for b in both),
	        cell(pfa), cell(psf), cell([a / b for a, b in zip(pfa, psf)]),
	        cell(hfa), cell(hsf), cell(hx)))
	EOF
	echo
}

# ---- 4. memory ---------------------------------------------------------------

memory() {
	say "memory"
	echo "## 4. Memory"
	echo
	"$FB" mem
	echo
}

# ---- 5. a user-space peer ----------------------------------------------------

peer() {
	local pcap=$SCRATCH/mix.pcap sf fr r s1=() s2=() m lo hi bpf acc
	command -v softflowd >/dev/null || { say "no softflowd: skipping the peer"; return; }
	say "user-space peer (softflowd)"
	"$FB" pcap "$pcap" "$PEER_PACKETS" 4096 128
	for r in $(seq "$ROUNDS"); do
		# -c none: with a control socket, softflowd 1.1 does not exit at
		# the end of the file.
		/usr/bin/time -o "$SCRATCH/sf.time" -f '%U %S' softflowd -r "$pcap" \
			-n 127.0.0.1:9995 -v 9 -d -p "$SCRATCH/sf.pid" -c none \
			>"$SCRATCH/sf.log" 2>&1
		/usr/bin/time -o "$SCRATCH/fr.time" -f '%U %S' "$FA" replay "$pcap" \
			>"$SCRATCH/replay.txt"
		sf=$(tail -1 "$SCRATCH/sf.time")
		fr=$(tail -1 "$SCRATCH/fr.time")
		s1+=("$(awk -v n="$PEER_PACKETS" '{ printf "%.1f\n", ($1 + $2) * 1e9 / n }' <<<"$sf")")
		s2+=("$(awk -v n="$PEER_PACKETS" '{ printf "%.1f\n", ($1 + $2) * 1e9 / n }' <<<"$fr")")
	done
	grep "^xdp ingress: seen $PEER_PACKETS " "$SCRATCH/replay.txt" >/dev/null ||
		fail "replay did not see every packet of the capture"
	# Both must have accounted the same packets: softflowd's per-protocol
	# packet counts add up to flowacct's accounted.
	acc=$(sed -nE 's/^xdp ingress: seen [0-9]+ = accounted ([0-9]+) .*/\1/p' "$SCRATCH/replay.txt")
	[ "$(awk '/^ *[a-z0-9-]+ \([0-9]+\): / { n += $(NF - 2) } END { print n + 0 }' "$SCRATCH/sf.log")" = "$acc" ] ||
		fail "softflowd and flowacct did not account the same packets"
	bpf=$(figure XDP mix "flowacct percpu")
	cat <<-EOF
	## 5. A user-space peer

	The mix of section 1 as a capture: $PEER_PACKETS frames over 4096 flows,
	cut at 128 bytes (original lengths kept). softflowd 1.1 (Debian) reads it
	(\`softflowd -r FILE -v 9 -n 127.0.0.1:9995 -d -c none\`: NetFlow v9 to a port on
	loopback where nothing listens); CPU time (user + system, from
	/usr/bin/time, 10 ms resolution) per packet, median of $ROUNDS rounds.
	softflowd reading a file pays no capture cost; live it would also pay
	for every packet's copy to user space.

	| accountant | CPU ns per packet (median) | min | max |
	|---|---:|---:|---:|
	EOF
	read -r m lo hi < <(stats "${s1[@]}")
	printf '| softflowd, reading the pcap | %s | %s | %s |\n' "$m" "$lo" "$hi"
	read -r m lo hi < <(stats "${s2[@]}")
	printf '| flowacct replay of the pcap (a BPF_PROG_TEST_RUN syscall per packet) | %s | %s | %s |\n' \
		"$m" "$lo" "$hi"
	printf '| flowacct XDP program itself, the mix (section 1, in-kernel time) | %s | | |\n' "$bpf"
	echo
}

# ---- 9. the socket programs and the options, live ----------------------------

# TCP over the veth (offloads on) from A to B: with the host's socket
# programs (sockops with RTT, retransmit and state callbacks on every
# connection) and with flowacct on the sender's interface, options or not.
sockets_bench() {
	local r c base secs=2 out
	declare -A gbps cpu
	local configs=(none sockets flowacct flowacct-all flowacct-all-sockets)
	declare -A desc=(
		[none]="nothing attached"
		[sockets]="socket programs (flowacct sockets attach)"
		[flowacct]="flowacct on A, TC both ways"
		[flowacct-all]="flowacct on A, --attribution --retrans --passive-rtt"
		[flowacct-all-sockets]="both of the last two"
	)
	[ $QUICK = 1 ] && secs=1
	if "$FA" sockets status | grep -q 'attached at'; then
		say "socket programs attached by someone else: section 9 skipped"
		return 0
	fi
	say "socket programs and options, live (iperf3)"
	$INA ethtool -K "$VA" tso on gso on gro on >/dev/null 2>&1
	$INB ethtool -K "$VB" tso on gso on gro on >/dev/null 2>&1
	$INB iperf3 -s -B 192.0.2.2 -p 5201 -D -I "$SCRATCH/iperf3s.pid" >/dev/null
	sleep 0.5
	for r in $(seq "$ROUNDS"); do
		for c in "${configs[@]}"; do
			case $c in
			*sockets*) "$FA" sockets attach >/dev/null && SOCKETS_OURS=1 ;;
			esac
			case $c in
			flowacct) $INA "$FA" attach "$VA" --ingress tc >/dev/null ;;
			flowacct-all*) $INA "$FA" attach "$VA" --ingress tc --attribution \
				--retrans --passive-rtt >/dev/null ;;
			esac
			out=$($INA timeout $((secs + 20)) iperf3 -c 192.0.2.2 -p 5201 -t "$secs" -J |
				python3 -c 'import json, sys
e = json.load(sys.stdin)["end"]
print("%.2f %.1f" % (e["sum_received"]["bits_per_second"] / 1e9,
                     e["cpu_utilization_percent"]["host_total"]))')
			gbps[$c]+=" ${out% *}"
			cpu[$c]+=" ${out#* }"
			case $c in flowacct*) $INA "$FA" detach "$VA" >/dev/null ;; esac
			case $c in *sockets*) "$FA" sockets detach >/dev/null && SOCKETS_OURS= ;; esac
		done
	done
	kill "$(cat "$SCRATCH/iperf3s.pid")"
	$INA ethtool -K "$VA" tso off gso off gro off >/dev/null 2>&1
	$INB ethtool -K "$VB" tso off gso off gro off >/dev/null 2>&1
	cat <<-EOF
	## 9. The socket programs and the options, live

	iperf3 TCP from A to B over the veth pair (offloads on), ${secs} s per
	run, median of $ROUNDS interleaved rounds: Gbit/s received, then the
	sender's CPU (iperf3's host_total, % of one CPU). The socket programs
	run for every connection of the host: sockops' RTT callback once per
	round trip (every ACK that updates the RTT), the retransmit and state
	callbacks as they happen. flowacct's options add their work on A's TC
	egress (data) and ingress (ACKs).

	| configuration | median Gbit/s | min | max | x nothing attached |
	|---|---:|---:|---:|---:|
	EOF
	config_rows %.2f gbps
	cat <<-EOF

	| configuration | sender CPU % (median) | min | max | x nothing attached |
	|---|---:|---:|---:|---:|
	EOF
	config_rows %.1f cpu
	echo
}

# config_rows FMT ARRAY: a row per configuration of sockets_bench's
# associative ARRAY (its rounds' figures), against its "none".
config_rows() {
	local fmt=$1 base c
	local -n figs=$2
	# shellcheck disable=SC2086
	read -r base _ < <(stats ${figs[none]})
	for c in "${configs[@]}"; do
		# shellcheck disable=SC2086
		ratio_row "$fmt" "${desc[$c]}" "$base" ${figs[$c]}
	done
}

# The socket cookie and cgroup lookups of --attribution, live: a real
# socket's first datagram at TC egress inserts a row, and only then are they
# made. The kernel's own run-time statistics of the egress program
# (kernel.bpf_stats_enabled: run_time_ns / run_cnt), with and without the
# option, while one socket per datagram sends; and while one socket sends
# them all (every datagram after the first updates a row: nothing to look up).
owners_live() {
	local n=20000 r c mode id out
	declare -A ns
	[ $QUICK = 1 ] && n=2000
	say "the owner lookups, live (bpf_stats)"
	BPF_STATS_PREV=$(sysctl -n kernel.bpf_stats_enabled)
	sysctl -qw kernel.bpf_stats_enabled=1
	for r in $(seq "$ROUNDS"); do
		for c in plain attribution; do
			for mode in new same; do
				if [ $c = plain ]; then
					$INA "$FA" attach "$VA" --ingress tc >/dev/null
				else
					$INA "$FA" attach "$VA" --ingress tc --attribution >/dev/null
				fi
				id=$($INA "$FA" -j status | python3 -c 'import json, sys
print([i["tc_prog_id"] for i in json.load(sys.stdin)["interfaces"] if i["iface"] == sys.argv[1]][0])' "$VA")
				$INA python3 - "$n" "$mode" <<-'PY'
				import socket, sys
				n, mode = int(sys.argv[1]), sys.argv[2]
				s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
				for i in range(n):
				    if mode == "new":
				        s.close()
				        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
				    s.sendto(b"x" * 18, ("192.0.2.2", 9))
				PY
				out=$(bpftool prog show id "$id" -j |
					python3 -c 'import json, sys; p = json.load(sys.stdin); print("%.1f" % (p["run_time_ns"] / p["run_cnt"]))')
				ns[$c-$mode]+=" $out"
				$INA "$FA" detach "$VA" >/dev/null
			done
		done
	done
	sysctl -qw kernel.bpf_stats_enabled="$BPF_STATS_PREV"
	BPF_STATS_PREV=
	cat <<-EOF
	### The owner lookups of --attribution, live

	flowacct on A (TC both ways), with and without \`--attribution\`; a
	Python sender on A sends $n UDP datagrams to B, each from a new socket
	(a new flow: its row is inserted, and with the option the socket's
	cookie and cgroup are looked up and noted), or all from one socket (one
	row, updated). ns per run of the egress program from the kernel's own
	statistics (kernel.bpf_stats_enabled, run_time_ns / run_cnt, which
	include the statistics' own clock reads), median of $ROUNDS rounds.

	| sender | without, ns | min | max | --attribution, ns | min | max |
	|---|---:|---:|---:|---:|---:|---:|
	EOF
	for mode in new same; do
		# shellcheck disable=SC2086
		read -r a alo ahi < <(stats ${ns[plain-$mode]})
		# shellcheck disable=SC2086
		read -r b blo bhi < <(stats ${ns[attribution-$mode]})
		printf '| %s | %s | %s | %s | %s | %s | %s |\n' \
			"$([ $mode = new ] && echo "a new socket per datagram" || echo "one socket")" \
			"$a" "$alo" "$ahi" "$b" "$blo" "$bhi"
	done
	echo
}

# ---- 10. new flows a second ----------------------------------------------------

CHURN_SEND=$BUILD/tests/churn_send
# The daemon's options of the target; smaller in the smoke run, whose
# seconds go to creating the tables.
CHURN_CACHE=1048576 CHURN_MAX=524288
[ $QUICK = 0 ] || CHURN_CACHE=262144 CHURN_MAX=262144
# The sender on GEN_CPU, where the veth's receive side runs too; the daemon
# on the others.
DAEMON_CPUS=0
[ "$GEN_CPU" -le 1 ] || DAEMON_CPUS=0-$((GEN_CPU - 1))

# churn_daemon LOG ARGS...: `flowacct run $VA` with those options, records
# to $SCRATCH/churn.json, pinned off the sender's CPU; its pid in FA_PID.
churn_daemon() {
	local log=$1
	shift
	: >"$SCRATCH/churn.json"
	$INA taskset -c "$DAEMON_CPUS" "$FA" run --layout iface "$VA" --interval 1 --idle-timeout 2 \
		--cache-size "$CHURN_CACHE" --max-flows "$CHURN_MAX" --json "$SCRATCH/churn.json" \
		"$@" 2>"$log" &
	FA_PID=$!
	for _ in $(seq 200); do
		grep -q "running on" "$log" && return 0
		sleep 0.05
	done
	fail "run did not start: $(cat "$log")"
}

# churn_send FLOWS RATE [FIRST]: churn_send on $VA, pinned to GEN_CPU; its
# JSON line to $SCRATCH/sent.json.
churn_send() {
	$INA taskset -c "$GEN_CPU" timeout 600 "$CHURN_SEND" "$VA" --flows "$1" --rate "$2" \
		--first "${3:-0}" >"$SCRATCH/sent.json" ||
		fail "churn_send failed: $(cat "$SCRATCH/sent.json")"
}

# jfield FILE KEY...: those keys of the JSON object in FILE, space-separated.
jfield() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(str(d[k]) for k in sys.argv[2:]))' "$@"
}

# The daemon's cached flows, from status ("?" when it does not answer in time).
cache_flows() {
	$INA timeout 5 "$FA" status -j 2>/dev/null | python3 -c 'import json, sys
print([i for i in json.load(sys.stdin)["interfaces"] if i["iface"] == sys.argv[1]
       and i["this_netns"]][0]["daemon"]["cache_flows"])' "$VA" 2>/dev/null || echo "?"
}

# churn_rate RATE SECONDS: one row: RATE new flows a second for SECONDS into
# the daemon, every flow checked; "held" when every flow's records equal
# what was sent, no overflow and no lack_of_resources, and the sender
# reached 95 % of RATE. Sets CHURN_HELD (yes or no).
churn_rate() {
	local rate=$1 secs=$2 c0 c1 t0 lag out
	churn_daemon "$SCRATCH/churn.log"
	sleep "$([ $QUICK = 1 ] && echo 0.2 || echo 1)"
	c0=$(cpu_seconds $FA_PID)
	churn_send $((rate * secs)) "$rate"
	t0=$(date +%s%N)
	# Until the cache is empty (idle 2 s, then a tick: 2 to 3 s at best);
	# the smoke run stops the daemon at once (its flows leave as forced).
	lag=
	if [ $QUICK = 0 ]; then
		for _ in $(seq 120); do
			[ "$(cache_flows)" = 0 ] && break
			sleep 0.5
		done
		lag=$(awk -v t="$t0" -v n="$(date +%s%N)" 'BEGIN { printf "%.1f\n", (n - t) / 1e9 }')
	fi
	c1=$(cpu_seconds $FA_PID)
	kill -TERM $FA_PID
	wait $FA_PID || fail "the daemon failed: $(cat "$SCRATCH/churn.log")"
	out=$(python3 tests/checkers/check_churn.py "$SCRATCH/churn.json" --sent "$SCRATCH/sent.json" \
		--json 2>/dev/null) || true
	rm -f "$SCRATCH/churn.json"
	[ -n "$out" ] || fail "check_churn.py gave nothing"
	echo "$out" >"$SCRATCH/check.json"
	# The row, and "yes" or "no" in $SCRATCH/held (one Python: its start
	# through pyenv costs most of a second here).
	python3 - "$SCRATCH/check.json" "$SCRATCH/sent.json" "$rate" "$c0" "$c1" "$lag" \
		"$SCRATCH/held" <<-'PY'
	import json, sys
	c, s = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
	rate, c0, c1 = (float(x) for x in sys.argv[3:6])
	held = "yes" if (c["flows_wrong"] == 0 and c["foreign"] == 0 and c["overflow_packets"] == 0
	                 and c["overflow_rows"] == 0 and c["lack_of_resources"] == 0 and c["books_ok"]
	                 and s["rate"] >= 0.95 * rate) else "no"
	open(sys.argv[7], "w").write(held)
	cpu, secs = c1 - c0, s["seconds"]
	print("| %d | %.0f | %d | %.2f | %.2f | %.2f | %d | %d | %d | %d of %d | %s | %s |" % (
	    rate, secs, s["rate"], s["cpu_s"] / secs, cpu / secs, cpu * 1e6 / max(c["flows"], 1),
	    c["overflow_packets"], c["lack_of_resources"], c["records"], c["flows_exact"],
	    c["flows"], sys.argv[6], held))
	PY
	CHURN_HELD=$(cat "$SCRATCH/held")
	say "churn: $rate flows/s for $secs s: held $CHURN_HELD${lag:+ (cache empty $lag s after the last frame)}"
}

# The sender alone, with flowacct attached and with the daemon running: the
# rate it reaches as fast as it can.
churn_sender_row() {
	local what=$1 flows=$2 first=$3
	churn_send "$flows" 0 "$first"
	# shellcheck disable=SC2046
	printf '| %s | %d | %.0f | %.2f |\n' "$what" "$flows" \
		$(jfield "$SCRATCH/sent.json" rate cpu_s)
}

churn_bench() {
	local secs=20 long=60 search=3 fast=1000000 r lo=0 hi=0 mid rows best= tried=
	[ $QUICK = 1 ] && secs=1 long=1 search=0 fast=50000
	[ -x "$CHURN_SEND" ] || fail "$CHURN_SEND is not built: make bench-build"
	say "new flows a second (churn_send)"
	$INA ping -q -c 1 -w 5 192.0.2.2 >/dev/null
	cat <<-EOF
	## 10. New flows a second

	tests/c/churn_send.c sends one-datagram UDP flows (46 IP-layer bytes),
	each a new flow known from its index, from an AF_PACKET socket on A's end
	of the veth pair through the qdisc, so that TC egress sees every frame,
	in sendmmsg() batches of 64 paced to a rate; B drops them (not its MAC).
	The sender runs on CPU $GEN_CPU (where the veth's receive side runs too),
	\`flowacct run\` on CPU $DAEMON_CPUS. Sender CPU is its own user + system
	time (the frames' way through the stack is most of it).

	### The churn sender

	As fast as it can, once with nothing attached, once with flowacct
	attached and no daemon, once with the daemon running (the options below).

	| on A's end | flows | flows a second | sender CPU s |
	|---|---:|---:|---:|
	EOF
	churn_sender_row "nothing attached" "$fast" 0
	$INA "$FA" attach "$VA" --max-flows "$CHURN_MAX" >/dev/null
	churn_sender_row "flowacct attached, no daemon" "$fast" "$fast"
	$INA "$FA" detach "$VA" >/dev/null
	churn_daemon "$SCRATCH/churn.log"
	churn_sender_row "the daemon running" "$fast" $((2 * fast))
	kill -TERM $FA_PID
	wait $FA_PID || fail "the daemon failed: $(cat "$SCRATCH/churn.log")"
	rm -f "$SCRATCH/churn.json"
	rows=$SCRATCH/churn-rows.md
	: >"$rows"
	for r in 50000 100000 200000; do
		churn_rate $r "$([ $r = 200000 ] && echo "$long" || echo "$secs")" >>"$rows"
		if [ "$CHURN_HELD" = yes ]; then
			lo=$r best=$(tail -1 "$rows")
		fi
	done
	# The lowest rate above the highest held that was not held (0: none).
	for r in 200000 100000 50000; do
		[ $r -gt $lo ] && ! grep -q "^| $r .* yes |$" "$rows" && hi=$r
	done
	# Halfway between the highest held and the lowest not held above it
	# (twice the highest held while none failed), SEARCH times.
	for _ in $(seq "$search"); do
		if [ $hi = 0 ]; then
			mid=$((lo * 2))
		else
			mid=$(((lo + hi) / 2 / 1000 * 1000))
		fi
		[ "$mid" -gt "$lo" ] && { [ $hi = 0 ] || [ "$mid" -lt "$hi" ]; } || break
		churn_rate "$mid" "$secs" >"$SCRATCH/churn-search.md"
		tried+="${tried:+, }$mid: $CHURN_HELD"
		if [ "$CHURN_HELD" = yes ]; then
			lo=$mid best=$(cat "$SCRATCH/churn-search.md")
		else
			hi=$mid
		fi
	done
	cat <<-EOF

	### The daemon under new flows

	\`flowacct run --interval 1 --idle-timeout 2 --cache-size $CHURN_CACHE
	--max-flows $CHURN_MAX --json FILE\` (records to a file on disk, every one
	checked afterwards by tests/checkers/check_churn.py): RATE new flows a
	second for the seconds given ($long s at 200000), then the daemon until
	its cache is empty, then SIGTERM. Daemon CPU: user + system (/proc) from
	before the first frame until the cache is empty, per second of sending
	and per flow. Overflow: packets counted into the overflow row (an epoch
	table full). Exact: flows whose records add up to exactly what was sent.
	Empty after: seconds from the last frame until the cache held no flow
	(idle 2 s, then a tick: 2 to 3 s when the daemon keeps up; not waited
	for in the smoke run). Held: every
	flow exact, no overflow, no lack_of_resources, the records equal the
	counters, and the sender within 5 % of the rate. The last row is the
	highest rate held in a search ($search runs of $secs s between the
	highest held and the lowest not held above; none in the smoke run).

	| asked flows/s | s | sent flows/s | sender CPU s per s | daemon CPU s per s | daemon CPU µs a flow | overflow packets | lack_of_resources | records | flows exact | empty after, s | held |
	|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|
	EOF
	cat "$rows"
	if [ -n "$best" ]; then
		echo "$best" | sed 's/^| /| highest held: /'
	else
		echo "| highest held: none | | | | | | | | | | | no |"
	fi
	echo
	echo "The search's runs (flows a second: held): ${tried:-none}."
	echo
}

# ---- 11. many interfaces -------------------------------------------------------

# A namespace and daemon of its own; with --quick, 5 interfaces.
ifaces_bench() {
	local quick=()
	[ $QUICK = 0 ] || quick=(--quick)
	say "many interfaces (tests/bench/ifaces.sh)"
	BUILD=$BUILD bash tests/bench/ifaces.sh "${quick[@]}"
}

# ---- 12. drops ------------------------------------------------------------------

# The hooks' mix through this tree's programs and DROPS_START's, in the same
# interleaved rounds, with each compiler; and whether their instructions are
# the same at all.
drops_mix() {
	local rounds=9 c raw start same
	[ $QUICK = 1 ] && rounds=3
	start=$(git rev-parse --short "$DROPS_START" 2>/dev/null || echo "$DROPS_START")
	say "the hooks against $start"
	cat <<-EOF
	### The hooks against $start, the commit before the drop program

	The mix through this tree's programs and $start's (built from git by
	tests/bench/bench.mk), both the default layout, loaded side by side and
	run in the same interleaved rounds ($rounds of them, each the least of
	$MIX_BEST_OF passes of the four programs, shared and percpu), with clang
	14 and 19. x: now over $start, per round: median, then min to max. Same
	instructions: the three programs' code in the two objects, disassembled,
	is identical. Target: at most 1.03 x.

	| compiler | hook | $start | now | x | min to max | same instructions | met |
	|---|---|---:|---:|---:|---:|---|---|
	EOF
	for c in 14 19; do
		raw=$SCRATCH/drops-mix-$c.tsv
		local ours=() obj=$BUILD/flowacct.bpf.o
		[ $c = 14 ] || { obj=$(clang19_obj); ours=(--ours "$obj"); }
		same=no
		cmp -s <(llvm-objdump -d --no-show-raw-insn "$obj" | sed -n '/^Disassembly/,$p' |
				grep -v "file format") \
			<(llvm-objdump -d --no-show-raw-insn "build/drops-start/clang-$c.bpf.o" |
				sed -n '/^Disassembly/,$p' | grep -v "file format") && same=yes
		mix_against "$raw" "$rounds" "build/drops-start/clang-$c.bpf.o" "${ours[@]}"
		mix_x_rows "$raw" "clang $c" "$same" 1.03
	done
	echo
}

# mix_x_rows RAW LABEL EXTRA LIMIT [LAYOUT]: a table row per hook from
# mix_against's RAW: "| LABEL | hook | baseline | now | x | min to max |
# EXTRA | met |", met when the median x is at most LIMIT; the programs of
# LAYOUT (shared, the default, or percpu) on both sides.
mix_x_rows() {
	python3 - "$@" <<-'EOF'
	import collections, statistics, sys
	raw, label, extra = sys.argv[1], sys.argv[2], sys.argv[3]
	limit = None if sys.argv[4] == "-" else float(sys.argv[4])
	layout = sys.argv[5] if len(sys.argv) > 5 else "shared"
	d = collections.defaultdict(dict)
	for line in open(raw):
	    h, w, v, r, ns = line.rstrip("\n").split("\t")
	    d[(h, v)][int(r)] = float(ns)
	for h in ("XDP", "TC", "TC ingress"):
	    now, then = d[(h, "flowacct " + layout)], d[(h, "baseline " + layout)]
	    x = [now[r] / then[r] for r in now]
	    med = lambda v: statistics.median(d[(h, v)].values())
	    print("| %s | %s | %.1f | %.1f | %.3f | %.3f to %.3f | %s | %s |" % (
	        label, "TC egress" if h == "TC" else h, med("baseline " + layout),
	        med("flowacct " + layout), statistics.median(x), min(x), max(x), extra,
	        "no target" if limit is None else "yes" if statistics.median(x) <= limit else "no"))
	EOF
}

# drop_prog_stats: "run_time_ns run_cnt" of the drop program (bpf_stats).
drop_prog_stats() {
	bpftool prog show -j | python3 -c 'import json, sys
p = [p for p in json.load(sys.stdin) if p.get("name", "").startswith("flowacct_drop")]
print(sum(x.get("run_time_ns", 0) for x in p), sum(x.get("run_cnt", 0) for x in p))'
}

# drops_flood MODE N: N datagrams of one flow from A to a MAC that is not
# B's, as fast as the sender goes: B's IP layer drops every one (OTHERHOST)
# while a daemon in B follows VB with --drops MODE. One row.
drops_flood() {
	local mode=$1 n=$2 pid h0 h1 s0 s1 c0 c1 log=$SCRATCH/drops-$1.log
	: >"$SCRATCH/drops.json"
	$INB taskset -c "$DAEMON_CPUS" "$FA" run --layout set --iface "$VB" --interval 1 \
		--no-sockets --drops "$mode" --json "$SCRATCH/drops.json" 2>"$log" &
	pid=$!
	for _ in $(seq 200); do grep -q "running on" "$log" && break; sleep 0.05; done
	grep -q "running on" "$log" || fail "run did not start: $(cat "$log")"
	read -r s0 c0 < <(drop_prog_stats)
	h0=$(host_cpu)
	$INA taskset -c "$GEN_CPU" timeout 600 "$CHURN_SEND" "$VA" --flows 1 --count "$n" \
		>"$SCRATCH/sent.json" || fail "churn_send failed: $(cat "$SCRATCH/sent.json")"
	h1=$(host_cpu)
	read -r s1 c1 < <(drop_prog_stats)
	kill -TERM $pid
	wait $pid || fail "the daemon failed: $(cat "$log")"
	python3 - "$SCRATCH/drops.json" "$SCRATCH/sent.json" "$mode" "$h0" "$h1" \
		"$s0" "$s1" "$c0" "$c1" <<-'PY'
	import json, sys
	recs = [json.loads(l) for l in open(sys.argv[1])]
	sent = json.load(open(sys.argv[2]))
	mode = sys.argv[3]
	h0, h1, s0, s1, c0, c1 = (float(x) for x in sys.argv[4:])
	drops = sum(r["drops"]["packets"] for r in recs if r.get("type") == "flow" and r["drops"])
	# What the veth refused (its peer's backlog full) never reached B.
	n = sent["packets"] - sent["failed"]
	per = (s1 - s0) / (c1 - c0) if c1 > c0 else 0
	exact = (drops == n) if mode != "off" else (drops == 0)
	print("| %s | %d | %d | %.0f | %.2f | %s | %d | %s |" % (
	    mode, n, drops, sent["rate"], (h1 - h0) * 1e6 / n,
	    "%.0f" % per if mode != "off" else "-", c1 - c0, "yes" if exact else "no"))
	PY
}

drops_bench() {
	local n=2000000 prev
	[ $QUICK = 1 ] && n=20000
	drops_mix
	say "a flood of drops"
	cat <<-EOF
	### A flood of drops

	$n UDP datagrams of one flow from A, as fast as tests/c/churn_send.c
	sends them, to a MAC that is not B's: B's IP layer drops every one
	(OTHERHOST) after its ingress hook counted it, while a daemon in B
	follows VB with the drop program (\`--drops attached\`) and without
	(\`off\`). Sent: what reached B (the sender's count less what the
	veth refused, its peer's backlog full). Host CPU: all CPUs' busy time over the flood, per million
	datagrams (the sender, the veth, the hooks and the drops: the same work
	but the drop program). ns a drop: the drop program's own time
	(kernel.bpf_stats_enabled), over its runs. Exact: the records' drops
	equal what was sent (none with \`off\`).

	| --drops | sent | drops on records | sender rate | host CPU s per million | ns a drop | program runs | exact |
	|---|---:|---:|---:|---:|---:|---:|---|
	EOF
	prev=$(sysctl -n kernel.bpf_stats_enabled)
	BPF_STATS_PREV=$prev
	sysctl -qw kernel.bpf_stats_enabled=1
	drops_flood off "$n"
	drops_flood attached "$n"
	sysctl -qw kernel.bpf_stats_enabled="$prev"
	BPF_STATS_PREV=
	echo
}

# ---- 13. tunnels ----------------------------------------------------------------

# The untunnelled mix against TUNNELS_START's programs, with --decap off (the
# default) and inner; then the cost of a tunnelled packet: the mix in VXLAN.
tunnels_bench() {
	local rounds=15 c raw start mode a layout
	[ $QUICK = 1 ] && rounds=3
	start=$(git rev-parse --short "$TUNNELS_START" 2>/dev/null || echo "$TUNNELS_START")
	say "tunnels: the untunnelled mix against $start"
	cat <<-EOF
	### The untunnelled mix against $start, the commit before tunnels

	The mix (no tunnel in it) through this tree's programs, with \`--decap
	off\` (the default) and \`--decap inner\`, and through $start's, loaded
	side by side and run in the same interleaved rounds ($rounds of them, each
	the least of $MIX_BEST_OF passes of the four programs), with clang 14 and
	19, in the default layout (shared) and in \`--map percpu\`. x: now over
	$start, per round: median, then min to max. Target: at most 1.03 x.
	The shared layout's rows carry, besides the tunnels, the row of a flow
	for each CPU that came after $start (161f43b, a helper call and two
	stores a packet); percpu tables have no such rows, so their rows are
	the tunnels' cost alone. The rows "itself" are this tree's programs
	against themselves, measured the same way in the same run: how far from
	1 the method's median goes on this machine when nothing differs.

	| compiler | hook | $start | now | x | min to max | --decap, layout | met |
	|---|---|---:|---:|---:|---:|---|---|
	EOF
	for c in 14 19; do
		# Not in --quick (make test's run), whose rounds tell nothing of noise.
		if [ $QUICK = 0 ]; then
			raw=$SCRATCH/tunnels-null-$c.tsv
			local ours=() obj=$BUILD/flowacct.bpf.o
			[ $c = 14 ] || { obj=$(clang19_obj); ours=(--ours "$obj"); }
			mix_against "$raw" "$rounds" "$obj" "${ours[@]}"
			for layout in shared percpu; do
				mix_x_rows "$raw" "clang $c" "itself, $layout" - "$layout"
			done
		fi
		for mode in off inner; do
			raw=$SCRATCH/tunnels-mix-$c-$mode.tsv
			local args=()
			[ $c = 14 ] || args=(--ours "$(clang19_obj)")
			[ $mode = off ] || args+=(--decap)
			mix_against "$raw" "$rounds" "build/tunnels-start/clang-$c.bpf.o" "${args[@]}"
			for layout in shared percpu; do
				mix_x_rows "$raw" "clang $c" "$mode, $layout" 1.03 "$layout"
			done
		done
	done
	echo
	say "tunnels: the mix in VXLAN"
	cat <<-EOF
	### A tunnelled packet's cost

	The same mix, and each of its frames in VXLAN (outer IPv4, UDP 4789,
	VNI 42; BPF_PROG_TEST_RUN, the default layout, $rounds rounds, ns a
	packet, median): without \`--decap\` the outer UDP flow is accounted, with
	\`--decap inner\` the inner packet (the full parse of the outer headers,
	the tunnel's, then the inner packet's, and the tunnel noted per flow).

	| compiler | hook | the mix | in VXLAN, --decap off | in VXLAN, --decap inner | + ns, inner over the mix |
	|---|---|---:|---:|---:|---:|
	EOF
	for c in 14 19; do
		local ours=()
		[ $c = 14 ] || ours=(--ours "$(clang19_obj)")
		for a in plain vxlan decap; do
			local args=()
			[ $a = plain ] || args=(--vxlan)
			[ $a != decap ] || args+=(--decap)
			"$FB" pkt "${PKT_ARGS[@]}" --rounds "$rounds" --only "-1,6,6" "${ours[@]}" \
				"${args[@]}" 2>/dev/null | sed "s/^/$a\t/" >>"$SCRATCH/tunnels-cost-$c.tsv"
		done
		python3 - "$SCRATCH/tunnels-cost-$c.tsv" "$c" <<-'EOF'
		import collections, statistics, sys
		d = collections.defaultdict(list)
		for line in open(sys.argv[1]):
		    a, h, w, v, r, ns = line.rstrip("\n").split("\t")
		    d[(a, h)].append(float(ns))
		for h in ("XDP", "TC"):
		    m = {a: statistics.median(d[(a, h)]) for a in ("plain", "vxlan", "decap")}
		    print("| clang %s | %s | %.1f | %.1f | %.1f | %+.1f |" % (
		        sys.argv[2], "TC egress" if h == "TC" else h, m["plain"], m["vxlan"],
		        m["decap"], m["decap"] - m["plain"]))
		EOF
	done
	echo
	start=$(git rev-parse --short "$TAG_START" 2>/dev/null || echo "$TAG_START")
	say "tunnels: the tunnel's tag, against $start"
	cat <<-EOF
	### The tunnel's tag in the key, against $start

	The mix in VXLAN with \`--decap inner\` through this tree's programs
	(the key's tunnel tag computed for each tunnelled packet, 48-byte keys)
	and through $start's (the commit before: the tunnel's type alone in a
	44-byte key), loaded side by side, in the same interleaved rounds
	($rounds of them, each the least of $MIX_BEST_OF passes), with clang 14
	and 19. x as above: what the tag costs a
	tunnelled packet, with no target of its own.

	| compiler | hook | $start | now | x | min to max | --decap | met |
	|---|---|---:|---:|---:|---:|---|---|
	EOF
	for c in 14 19; do
		raw=$SCRATCH/tunnels-tag-$c.tsv
		local args=(--vxlan --decap --baseline-decap)
		[ $c = 14 ] || args+=(--ours "$(clang19_obj)")
		mix_against "$raw" "$rounds" "build/tag-start/clang-$c.bpf.o" "${args[@]}"
		mix_x_rows "$raw" "clang $c" "inner, in VXLAN" -
	done
	echo
}

# SECTIONS="pkt epochs" runs only those (for working on one); the report is
# then partial. "default" is the default layout against SCALE_START alone
# (part of pkt).
section() {
	case " ${SECTIONS:-pkt contend profile dump live memory peer epochs export verifier sockets churn ifaces drops tunnels} " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

start=$(date +%s)
{
	machine
	! section pkt || per_packet
	! section pkt || against_start
	{ section pkt || section default; } && against_default
	! section contend || contention
	[ $QUICK = 1 ] || ! section profile || profile
	! section dump || dump_bench
	! section live || live_bench
	! section memory || memory
	! section peer || peer
	! section epochs || epochs
	! section export || export_bench
	! section verifier || verifier_table
	! section sockets || sockets_bench
	! section sockets || owners_live
	! section churn || churn_bench
	! section ifaces || ifaces_bench
	! section drops || drops_bench
	! section tunnels || tunnels_bench
	echo "Run time: $(($(date +%s) - start)) s."
} >"$REPORT"
mkdir -p "$(dirname "$OUT")"
cp "$REPORT" "$OUT"
say "wrote $OUT in $(($(date +%s) - start)) s"
