# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# flowacct run: the epoch drain loses nothing, flows expire by the rules, the
# daemon's views and records add up to what was sent and what was counted,
# and a kill -9 at any moment loses nothing either.

ALL_TESTS="test_run_two_lookup_sites test_run_flip_hammer test_run_flip_needs_the_wait
	test_run_expiry_model test_run_cache_removals test_run_lossless_percpu test_run_lossless_shared
	test_run_churn test_run_quiet_tables test_run_expiry_live test_run_views test_run_kill9
	test_run_crash_points test_run_crash_every_step test_run_run_dir_full test_run_stopped_resize
	test_run_sink_health test_run_memory_guard test_run_term_during_setup test_run_errors test_run_service_unit
	test_run_ticks_wrap test_run_json_keys test_run_grouped_exported
	test_run_upgrade test_run_upgrade_committed test_run_engine_c"

# ---- the lookups ----------------------------------------------------------------

# The verifier inlines a hash lookup only at a call site one map reaches:
# each epoch's table must have a lookup call of its own, in both hooks'
# objects, from both compilers.
test_run_two_lookup_sites() {
	local b obj sites
	for b in $BUILDS; do
		for obj in "$b"/xdp/flowacct_xdp.bpf.o "$b"/tc/flowacct_tc.bpf.o; do
			# The map each lookup call (helper 1) is made on: the last
			# map loaded into r1 before it, or "REG" for a register copy.
			sites=$(llvm-objdump -d --no-show-raw-insn -r "$obj" | awk '
				/R_BPF_64_64/ { m = $NF }
				/r1 = r[0-9]/ { m = "REG" }
				/call 1$/ { print m }')
			echo "$obj: lookups on $(echo $sites)"
			echo "$sites" | grep -qx flows_0 || fail "$obj: no lookup call on flows_0 alone"
			echo "$sites" | grep -qx flows_1 || fail "$obj: no lookup call on flows_1 alone"
			echo "$sites" | grep -qx REG && fail "$obj: a lookup on a map chosen at run time"
		done
	done
	return 0
}

# ---- the flip, hammered through BPF_PROG_TEST_RUN -----------------------------

test_run_flip_hammer() {
	local b m rc
	for b in $BUILDS; do
		for m in percpu shared; do
			rc=0
			"$b"/tests/epoch_hammer --map $m --seconds 2 || rc=$?
			[ $rc = 1 ] && fail "$b: $m: the drain lost counts"
			# Shared: a row on each CPU, read as the flow's one row.
			[ $rc = 3 ] && fail "$b: $m: the flow's rows were not one a CPU, read as one"
			[ $rc = 0 ] || fail "$b: $m: epoch_hammer failed ($rc)"
		done
	done
}

# Without the wait a drain loses counts. In the real program the window is a
# few instructions wide, so the build that widens it shows it (see
# tests/c/epoch_hammer.c); the same build loses nothing with the wait.
test_run_flip_needs_the_wait() {
	local m out try lost rc
	for m in percpu shared; do
		rc=0
		build/tests/epoch_hammer --map $m --seconds 2 --slow || rc=$?
		[ $rc = 1 ] && fail "$m: the slowed program lost counts even with the wait"
		[ $rc = 0 ] || fail "$m: the slowed program: epoch_hammer failed ($rc)"
		lost=0
		# The race needs both CPUs at once: a machine busy with other work
		# can keep it from happening for a few seconds, and on a quiet one
		# a try of 2 s sees it about one time in five or six. Tries end at
		# the first loss.
		for try in $(seq 30); do
			rc=0
			out=$(build/tests/epoch_hammer --map $m --seconds 2 --slow --no-wait) || rc=$?
			if [ $rc != 1 ]; then
				echo "$out (try $try: nothing lost this time)"
				continue
			fi
			echo "$out"
			lost=1
			break
		done
		[ $lost = 1 ] || fail "$m: draining without the wait never lost a count: the test shows nothing"
	done
}

# ---- times: 32-bit ticks across their wrap -----------------------------------------

# A live table's times are the low 32 bits of jiffies, which wrap five
# minutes after boot and every 2^32 ticks after. No test can move the
# kernel's clock, so tests/c/ticks_check.c reads them against clocks on both
# sides of a wrap and compares with 64-bit tick counts of its own.
test_run_ticks_wrap() {
	local b
	for b in $BUILDS; do
		"$b"/tests/ticks_check || fail "$b: 32-bit ticks read wrong"
	done
}

# ---- expiry: the cache against an independent model ---------------------------

test_run_expiry_model() {
	scratch
	python3 tests/checkers/expiry_model.py --self-test >/dev/null || fail "the model's own test"
	local seed size
	for seed in 1 2 3; do
		for size in 4 64; do
			python3 tests/checkers/expiry_traces.py --seed "$seed" --ops 1000 \
				--cache-size "$size" >"$SCRATCH/trace.jsonl"
			python3 tests/checkers/check_expiry.py "$SCRATCH/trace.jsonl" build/tests/cache_drive ||
				fail "seed $seed, cache $size: the cache and the model differ"
		done
	done
}

# A flow merged and expired in one tick was never in the pinned cache: no
# removal may name it (a daemon's delete of it fails, a syscall a key). One
# that a tick persisted must be removed when it expires (cache_drive fails
# on both: a removal of a key never persisted, a copy the cache disagrees with).
test_run_cache_removals() {
	local a=00000000000000000000ffffc0000201 b=00000000000000000000ffffc6336401
	local out
	out=$(printf '%s\n' "config 1000000000 10000000000 1000000000 8" \
		"tick 5000000000 1" \
		"row 1 0 4 17 $a $b 1000 53 1 100 1000000000 1000000000 0" \
		"drain 6000000000 1" \
		"row 1 0 4 17 $b $a 53 1000 1 100 6000000000 6000000000 0" \
		"expire 8000000000" | build/tests/cache_drive) ||
		fail "cache_drive: the removals the cache reports are wrong"
	[ "$(echo "$out" | grep -c ' idle$')" = 2 ] ||
		fail "expected two idle records, got: $out"
}

# ---- a daemon under test ------------------------------------------------------

# ---- lossless under a continuous drain, live ------------------------------------

# A sender of known datagrams on each CPU at once, and iperf3, on $VA while
# the daemon flips 20 times a second. Every UDP flow's records must add up
# to what was sent; every flow's records to what tcpdump captured on the
# same interface (tshark counting); all records to the final counters.
run_lossless() {
	local map=$1
	netns_pair
	warm_up
	$INB iperf3 -s -1 -B 192.0.2.2 -p 5201 >/dev/null 2>&1 &
	# Records every half second too, so that a flow's records add up
	# across many drains.
	run_start "$NSA" "$VA" --interval 0.05 --active-timeout 0.5 --map "$map"
	capture_start "$NSA" "$VA" in "$SCRATCH/in.pcap"
	capture_start "$NSA" "$VA" out "$SCRATCH/out.pcap"
	# The IPv4 flows from both CPUs at once (TC egress runs on the
	# sender's): with `shared` each CPU keeps a row of its own of them.
	taskset -c 0 $INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 \
		--flows 6 --count 400 --size 64,700,1400 --rate 3000 >"$SCRATCH/sent0.json" &
	local s0=$!
	taskset -c 1 $INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 \
		--flows 6 --count 300 --size 64,700 --rate 3000 >"$SCRATCH/sent0b.json" &
	local s0b=$!
	taskset -c 1 $INA python3 tests/helpers/udp_send.py --src 2001:db8::1 --dst 2001:db8::2 \
		--flows 6 --count 400 --size 100,1200 --sport 30000 --rate 3000 \
		>"$SCRATCH/sent1.json" &
	local s1=$!
	# Paced: tshark reads every packet of the captures afterwards.
	$INA iperf3 -c 192.0.2.2 -p 5201 -t 1.5 -b 40M >/dev/null
	wait $s0 $s0b $s1
	sleep 1
	capture_stop
	run_stop
	# Each IPv4 flow as both senders sent it, in all.
	python3 - "$SCRATCH/sent0.json" "$SCRATCH/sent0b.json" >"$SCRATCH/sent0all.json" <<-'EOF'
	import json, sys
	flows = {}
	for path in sys.argv[1:]:
	    for e in json.load(open(path))["flows"]:
	        k = tuple(e[f] for f in ("ip_version", "proto", "src", "dst", "sport", "dport"))
	        if k in flows:
	            flows[k]["packets"] += e["packets"]
	            flows[k]["bytes"] += e["bytes"]
	        else:
	            flows[k] = dict(e)
	assert len(flows) == 6, len(flows)
	json.dump({"flows": list(flows.values())}, sys.stdout)
	EOF
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --sent "$SCRATCH/sent0all.json" \
		--sent "$SCRATCH/sent1.json" --books --as-dump "$SCRATCH/dump.json"
	python3 tests/checkers/check_live.py "$SCRATCH/dump.json" --in "$SCRATCH/in.pcap" \
		--out "$SCRATCH/out.pcap"
	assert_nothing_left "$NSA" "$VA"
}

test_run_lossless_percpu() { run_lossless percpu; }
test_run_lossless_shared() { run_lossless shared; }

# ---- churn ---------------------------------------------------------------------

# Far more flows than a table holds, arriving steadily: 100000 flows over 20 s
# into tables of 1024, drained 10 times a second. No insert may fail, and the
# records must hold every flow with its count.
test_run_churn() {
	netns_pair
	warm_up
	run_start "$NSA" "$VA" --interval 0.1 --max-flows 1024 --idle-timeout 2
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 100000 \
		--dports 2 --sport 10000 --count 1 --size 32 --rate 5000 >"$SCRATCH/sent.json"
	sleep 0.5
	run_stop
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --sent "$SCRATCH/sent.json" \
		--books --reasons idle
	python3 - "$SCRATCH/rec.json" <<-'EOF'
	import json, sys
	c = [json.loads(l) for l in open(sys.argv[1]) if '"counters"' in l][-1]
	for h in c["hooks"]:
	    bad = {k: v for k, v in h["counters"].items()
	           if k in ("overflow", "insert_fail_full", "insert_fail_nomem",
	                    "insert_fail_other") and v}
	    assert not bad, (h["direction"], bad)
	print("no insert failed, nothing in an overflow row")
	EOF
}

# flows_walks SECS: how many times the daemon ($RUN_PID) walked its flow
# tables (flows_0, flows_1: lookup-and-delete batches) in SECS seconds.
# The scan of its descriptors is taken again (up to 10 times) when it finds
# fewer than two: a descriptor opened or closed meanwhile, or a map id
# bpftool could not open at that moment, made a CI run find one.
flows_walks() {
	local fd id fds=() trace=$SCRATCH/walks.strace try
	for try in $(seq 10); do
		fds=()
		for fd in /proc/$RUN_PID/fdinfo/*; do
			id=$(awk '$1 == "map_id:" { print $2 }' "$fd" 2>/dev/null)
			[ -n "$id" ] || continue
			bpftool map show id "$id" 2>/dev/null | grep -qE ' name flows_[01] ' &&
				fds+=("${fd##*/}")
		done
		[ ${#fds[@]} -ge 2 ] && break
		sleep 0.1
	done
	[ ${#fds[@]} -ge 2 ] || fail "the daemon holds ${#fds[@]} flow tables, not 2"
	timeout "$1" strace -qq -f -e trace=bpf -o "$trace" -p "$RUN_PID" 2>/dev/null || true
	grep LOOKUP_AND_DELETE_BATCH "$trace" |
		grep -cE "map_fd=($(IFS='|'; echo "${fds[*]}"))[,}]" || true
}

# A table no packet went into since its last drain is not walked: the hooks'
# accounted counters, summed, say so (a walk reads every bucket whether it
# holds a row or not, 2 to 3 ms a tick at the default size). An idle daemon
# walks none; with a datagram every 0.25 s it walks them; every datagram is
# on its records, the books add up.
test_run_quiet_tables() {
	local layout walks ns
	netns_pair
	# No neighbour discovery or MLD of IPv6 to write rows meanwhile.
	for ns in "$NSA" "$NSB"; do
		nsenter --net=/run/netns/"$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
	done
	$INA ping -q -c 1 -w 5 192.0.2.2 >/dev/null
	for layout in iface set; do
		rm -f "$SCRATCH/rec.json"
		run_start "$NSA" "$VA" --layout $layout --interval 0.2 --idle-timeout 1
		sleep 1
		walks=$(flows_walks 3)
		echo "$layout: idle, 3 s of 0.2 s ticks: $walks walks"
		[ "$walks" = 0 ] || fail "$layout: an idle daemon walked its flow tables $walks times"
		$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 12 \
			--sport 20000 --count 1 --size 40 --rate 4 >"$SCRATCH/sent.json" &
		walks=$(flows_walks 3)
		wait $!
		echo "$layout: a datagram every 0.25 s: $walks walks"
		[ "$walks" -ge 5 ] || fail "$layout: only $walks walks while datagrams came"
		sleep 1.5
		run_stop
		python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --sent "$SCRATCH/sent.json" \
			--books
	done
}

# ---- each end reason, live ------------------------------------------------------

test_run_expiry_live() {
	netns_pair
	warm_up
	$INB socat -u TCP-LISTEN:9000,reuseaddr /dev/null &
	sleep 0.2
	run_start "$NSA" "$VA" --interval 0.1 --idle-timeout 1 --active-timeout 2 \
		--end-timeout 0.5
	# active: one flow for 7 s, a record every 2 s
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --sport 40000 \
		--count 70 --rate 10 >"$SCRATCH/long.json" &
	local long=$!
	# idle: three pings, then nothing
	$INA ping -q -c 3 -i 0.2 192.0.2.2 >/dev/null
	# end: a TCP connection closed both ways, and a refused one (RST)
	head -c 5000 /dev/zero | $INA socat -u - TCP:192.0.2.2:9000
	$INA python3 -c 'import socket
s = socket.socket()
try:
    s.connect(("192.0.2.2", 9001))
except ConnectionRefusedError:
    pass'
	wait $long
	sleep 1.5
	records_where "$SCRATCH/rec.json" 'r["end_reason"] == "idle" and r["proto"] == 1 and r["dport"] == 2048' |
		grep -q . || fail "the pings did not leave as idle"
	records_where "$SCRATCH/rec.json" 'r["end_reason"] == "end" and r["proto"] == 6 and 9000 in (r["sport"], r["dport"])' \
		>"$SCRATCH/fin.json"
	[ "$(wc -l <"$SCRATCH/fin.json")" = 2 ] ||
		fail "the closed connection did not leave as end, both ways: $(cat "$SCRATCH/fin.json")"
	records_where "$SCRATCH/rec.json" 'r["end_reason"] == "end" and r["direction"] == "ingress" and r["sport"] == 9001 and "R" in r["tcp_flags"]' |
		grep -q . || fail "the RST did not end its flow"
	run_stop
	records_where "$SCRATCH/rec.json" 'r["sport"] == 40000' >"$SCRATCH/long_recs.json"
	python3 - "$SCRATCH/long_recs.json" "$SCRATCH/long.json" <<-'EOF'
	import json, sys
	recs = [json.loads(l) for l in open(sys.argv[1])]
	sent = json.load(open(sys.argv[2]))["flows"][0]
	active = [r for r in recs if r["end_reason"] == "active"]
	assert len(active) >= 3, "a 7 s flow with a 2 s active timeout: %d active records" % len(active)
	assert sum(r["packets"] for r in recs) == sent["packets"], (recs, sent)
	assert sum(r["bytes"] for r in recs) == sent["bytes"], (recs, sent)
	# One flow, one start; each record converts the time with the clocks'
	# offset when it is written, which moves by ns (and with NTP).
	starts = [r["flow_start_ns"] for r in recs]
	assert max(starts) - min(starts) < 1000000, "one flow, one start: %s" % starts
	for a, b in zip(recs, recs[1:]):
	    assert a["last_seen_ns"] < b["first_seen_ns"], "periods overlap: %s %s" % (a, b)
	print("%d records (%d active, then %s) add up to the %d packets sent" % (
	    len(recs), len(active), recs[-1]["end_reason"], sent["packets"]))
	EOF
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --books --reasons idle,active,end

	# lack of resources: 100 flows into a cache of 16
	: >"$SCRATCH/rec.json"
	run_start "$NSA" "$VA" --interval 0.1 --cache-size 16
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 100 \
		--count 2 --rate 400 >"$SCRATCH/many.json"
	sleep 0.3
	run_stop
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --sent "$SCRATCH/many.json" \
		--books --reasons lack_of_resources,forced
	[ "$(records_where "$SCRATCH/rec.json" 'r["end_reason"] == "forced"' | wc -l)" -le 16 ] ||
		fail "more than the cache's 16 flows left at shutdown"
}

# ---- the daemon's views ---------------------------------------------------------

# dump and stats while the daemon runs: once traffic is quiet, the rows add
# up to what was sent (flows still in the cache, and what already left in
# records), and the counters are the kernel's.
test_run_views() {
	netns_pair
	warm_up
	run_start "$NSA" "$VA" --interval 0.1 --active-timeout 0.4 --idle-timeout 1
	# Flows that will have left the cache when dump runs (exported) ...
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 3 \
		--count 20 --size 500 --sport 21000 --rate 300 >"$SCRATCH/gone.json"
	sleep 1.6
	# ... and flows still in it, some of their counts already in records.
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 5 \
		--count 40 --size 300 --rate 200 >"$SCRATCH/sent.json"
	sleep 0.3
	$INA "$FLOWACCT" dump -j >"$SCRATCH/dump.json"
	$INA "$FLOWACCT" dump "$VA" >"$SCRATCH/dump.txt"
	$INA "$FLOWACCT" stats -j >"$SCRATCH/stats.json"
	$INA "$FLOWACCT" -j status >"$SCRATCH/status.json"
	cat "$SCRATCH/dump.txt"
	python3 - "$SCRATCH" "$VA" <<-'EOF'
	import json, sys
	d = sys.argv[1]
	dump = json.load(open(d + "/dump.json"))
	stats = json.load(open(d + "/stats.json"))
	sent = json.load(open(d + "/sent.json"))["flows"]
	gone = json.load(open(d + "/gone.json"))["flows"]
	# Other namespaces' attachments are listed too (tests run side by side).
	status = [i for i in json.load(open(d + "/status.json"))["interfaces"]
	          if i["iface"] == sys.argv[2] and i["this_netns"]][0]
	def rows_of(s):
	    return [r for r in dump["flows"] if not r["overflow"] and not r["exported"]
	            and (r["src"], r["sport"], r["dst"], r["dport"]) ==
	            (s["src"], s["sport"], s["dst"], s["dport"])]
	for s in sent:
	    r = rows_of(s)
	    assert len(r) == 1 and r[0]["packets"] == s["packets"] and r[0]["bytes"] == s["bytes"], (s, r)
	for s in gone:
	    assert not rows_of(s), "an idle flow still has a row: %s" % s
	exported = [r for r in dump["flows"] if r["exported"] and r["direction"] == "egress"]
	assert exported and exported[0]["packets"] >= sum(s["packets"] for s in gone), exported
	for h in stats["hooks"]:
	    rows = [r for r in dump["flows"] if r["direction"] == h["direction"]]
	    c = h["counters"]
	    assert sum(r["packets"] for r in rows) == c["accounted"], (h, rows)
	    assert sum(r["bytes"] for r in rows) == c["accounted_bytes"], (h, rows)
	assert dump["counters"] == stats["counters"], "dump and stats disagree"
	assert status["daemon"]["records"] > 0 and status["daemon_pid"], status
	print("dump: the flows in the cache exact, the gone ones in the exported row; "
	      "rows add up to the counters; status shows the daemon")
	EOF
	grep -q "(exported" "$SCRATCH/dump.txt" || fail "the text dump has no exported row"
	local msg pid
	msg=$(expect_fail "second run" $INA "$FLOWACCT" run --layout iface "$VA" --json "$SCRATCH/other.json")
	echo "$msg" | grep -q "in use by flowacct run (pid $RUN_PID)" || fail "$msg"
	msg=$(expect_fail "detach under a daemon" $INA "$FLOWACCT" detach "$VA")
	echo "$msg" | grep -q "pid $RUN_PID" || fail "$msg"
	run_stop
}

# ---- kill -9 at any moment --------------------------------------------------------

# Known traffic for about 12 s while the daemon is killed (SIGKILL) at 20
# random moments, each time started again; then a clean stop. The records,
# each counted once by its instance and sequence number, must add up to
# exactly what was sent, and all of them to the last counters.
test_run_kill9() {
	netns_pair
	warm_up
	local i delay
	run_start "$NSA" "$VA" --interval 0.05 --active-timeout 0.3 --idle-timeout 1
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 8 \
		--count 600 --size 200,900 --rate 400 >"$SCRATCH/sent.json" &
	local sender=$!
	for i in $(seq 20); do
		delay=$(python3 -c 'import random; print(random.uniform(0.05, 0.6))')
		sleep "$delay"
		run_stop KILL
		echo "killed at $i after ${delay}s"
		run_start "$NSA" "$VA" --interval 0.05 --active-timeout 0.3 --idle-timeout 1
	done
	wait $sender
	sleep 0.5
	run_stop
	grep -h "wrote again" "$SCRATCH"/run.*.log || true
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --sent "$SCRATCH/sent.json" \
		--books --broken-max 20
	assert_nothing_left "$NSA" "$VA"
}

# The two moments of a tick random kills rarely hit: after the commit but
# before the records are written, and after they are written but before the
# tick is finished. The test kills the daemon at the first write of records
# (before it, or after it; stderr takes two writes first, adopted and
# running: --no-sockets, or their note would be a third). The daemon
# started next finishes the tick from the journal: the
# records come out, once if the kill came before the write, twice
# (identical, same instance and sequence number) if after; and nothing is
# lost either way.
crash_at_write() {
	# An older binary (LAYOUT=-) has no --no-sockets, and attaches none.
	# shellcheck disable=SC2046 # one word, or none
	crash_at write "$1" 3 --interval 0.1 --active-timeout 0.2 \
		$([ "${LAYOUT:-}" = - ] || echo --no-sockets)
}

test_run_crash_points() {
	netns_pair
	warm_up
	$INA "$FLOWACCT" attach "$VA" >/dev/null
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 4 \
		--count 300 --size 400 --rate 150 >"$SCRATCH/sent.json" &
	local sender=$! out
	sleep 0.3
	crash_at_write delay_enter
	run_start "$NSA" "$VA" --interval 0.1 --active-timeout 0.2
	sleep 0.5
	run_stop
	grep -q "wrote again" "$SCRATCH/run.log" || fail "the tick a kill stopped was not finished"
	crash_at_write delay_exit
	run_start "$NSA" "$VA" --interval 0.1 --active-timeout 0.2
	wait $sender
	sleep 0.5
	run_stop
	out=$(python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --sent "$SCRATCH/sent.json" --books)
	echo "$out"
	echo "$out" | grep -q ", 0 written twice" &&
		fail "a kill after the write, before the tick ended, must give duplicates"
	$INA "$FLOWACCT" detach "$VA" >/dev/null
}

# The crash-point build (lib/internal.h, FA_CRASH_POINT) started on $VA with
# FLOWACCT_CRASH_AT=$1: it must kill itself there.
crash_run() {
	crash_point "$NSA" "$1" "$CRASH_FA" --layout iface "$VA" --interval 0.1 \
		--active-timeout 0.3 --idle-timeout 1
}

# A kill between every two steps of a tick, inside the merge too, where no
# syscall is there for strace to hold the daemon at: the crash-point build
# kills itself at each point in turn while known traffic flows, and the next
# daemon undoes the tick (killed before the commit) or finishes it (after).
# save-count:5 leaves an undo log that the next start is killed in the
# middle of undoing. The records, each counted once by instance and
# sequence number, add up to what was sent.
test_run_crash_every_step() {
	netns_pair
	warm_up
	local point n=0
	CRASH_FA=$(realpath "$(dirname "$FLOWACCT")/tests/flowacct-crash")
	[ -x "$CRASH_FA" ] || fail "no crash-point build at $CRASH_FA (make tests)"
	$INA "$FLOWACCT" attach "$VA" >/dev/null
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 8 \
		--count 900 --size 200,900 --rate 300 >"$SCRATCH/sent.json" &
	local sender=$!
	sleep 0.3
	for point in drained:2 save-entry:20 save-count:20 merged:2 expired:2 committed:2 \
		written:2 undone:2 idle:2 save-count:5 rollback:2; do
		crash_run "$point"
		n=$((n + 1))
	done
	run_start "$NSA" "$VA" --interval 0.1 --active-timeout 0.3 --idle-timeout 1
	wait $sender
	sleep 0.5
	run_stop
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --sent "$SCRATCH/sent.json" \
		--books --broken-max $n
	$INA "$FLOWACCT" detach "$VA" >/dev/null
}

# /run full: the daemon's files there are sparse, and a store into a page
# the filesystem can't give is SIGBUS. In a mount namespace of its own with
# a 2 MB tmpfs on /run/flowacct, a daemon of a 64k-flow cache meets flows
# that need more: each tick fails before it began, with a line saying why,
# and the daemon lives on and stops cleanly. The counts stay in the tables
# (the pinned state says what the next run must finish), and detach removes
# all of it.
# (--force-memory: the guard would refuse it, its files full being more
# than the filesystem has; here it is the ticks that must cope.)
test_run_run_dir_full() {
	netns_pair
	warm_up
	local log=$SCRATCH/full.log pid
	cat >"$SCRATCH/full.sh" <<-EOF
	mkdir -p /run/flowacct
	mount -t tmpfs -o size=2m tmpfs /run/flowacct
	exec nsenter --net=/run/netns/$NSA $FLOWACCT run --layout iface $VA --interval 0.3 --idle-timeout 30 \
		--cache-size 65536 --force-memory --json $SCRATCH/rec.json
	EOF
	unshare -m --propagation private bash "$SCRATCH/full.sh" 2>"$log" &
	pid=$!
	for _ in $(seq 100); do
		grep -q "running on" "$log" && break
		sleep 0.05
	done
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 20000 \
		--dports 2 --sport 10000 --count 1 --size 32 --rate 10000 >/dev/null
	sleep 1
	kill -0 $pid 2>/dev/null || { wait $pid || true; fail "the daemon died: $(cat "$log")"; }
	grep -q "a drain failed (No space left on device)" "$log" ||
		fail "no tick failed for want of space: $(cat "$log")"
	kill -TERM $pid
	wait $pid || fail "run exited $? on SIGTERM: $(tail -3 "$log")"
	grep -q "the last drain failed" "$log" || fail "the stop did not say its drain failed: $(tail -3 "$log")"
	$INA "$FLOWACCT" detach "$VA" >/dev/null
	assert_nothing_left "$NSA" "$VA"
}

# A daemon that stopped cleanly on an interface it did not attach leaves
# run_state STOPPED and no cache file: the next one may ask for another
# --cache-size, and goes on with the same instance and sequence numbers.
test_run_stopped_resize() {
	netns_pair
	warm_up
	local dir
	dir=$(pin_dir "$NSA" "$VA")
	$INA "$FLOWACCT" attach "$VA" >/dev/null
	run_start "$NSA" "$VA" --interval 0.1 --cache-size 1000
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 4 \
		--count 50 --size 300 --rate 400 >"$SCRATCH/sent1.json"
	run_stop
	[ ! -e "/run/flowacct/$(basename "$dir").cache" ] || fail "a cleanly stopped daemon left its cache file"
	run_start "$NSA" "$VA" --interval 0.1 --cache-size 2000
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 4 \
		--count 50 --size 300 --sport 30000 --rate 400 >"$SCRATCH/sent2.json"
	run_stop
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --sent "$SCRATCH/sent1.json" \
		--sent "$SCRATCH/sent2.json" --books
	python3 - "$SCRATCH/rec.json" <<-'EOF'
	import json, sys
	recs = [json.loads(l) for l in open(sys.argv[1]) if '"seq"' in l]
	inst = {r["instance"] for r in recs}
	seqs = sorted(r["seq"] for r in recs)
	assert len(inst) == 1, inst
	assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "sequence numbers not continued"
	print("one instance, %d sequence numbers in a row" % len(seqs))
	EOF
	$INA "$FLOWACCT" detach "$VA" >/dev/null
}

# ---- health and guardrails ----------------------------------------------------------

# A records file on a full filesystem: the ticks stop, and status and the
# metrics say so (lag, records that wait, the sink's errors); once there is
# room the records go out, the recovery is logged, and none is lost or
# written twice.
test_run_sink_health() {
	netns_pair
	warm_up
	local j p
	mkdir "$SCRATCH/small"
	mount -t tmpfs -o size=4m tmpfs "$SCRATCH/small"
	# All but 16 kB taken: no tick's records fit.
	fallocate -l $((4096 * 1024 - 16384)) "$SCRATCH/small/filler"
	ln -s "$SCRATCH/small/rec.json" "$SCRATCH/rec.json"
	run_start "$NSA" "$VA" --interval 0.2 --idle-timeout 1 --metrics-file "$SCRATCH/m.prom"
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 2000 \
		--dports 2 --sport 10000 --count 1 --size 32 --rate 4000 >"$SCRATCH/sent.json"
	sleep 2.5
	$INA "$FLOWACCT" status -j >"$SCRATCH/st1.json"
	cp "$SCRATCH/m.prom" "$SCRATCH/m1.prom"
	$INA "$FLOWACCT" status >"$SCRATCH/st1.txt"
	python3 - "$SCRATCH/st1.json" "$VA" <<-'EOF'
	import json, sys
	d = [i for i in json.load(open(sys.argv[1]))["interfaces"]
	     if i["iface"] == sys.argv[2] and i["this_netns"]][0]["daemon"]
	js = [k for k in d["sinks"] if k["sink"] == "json"][0]
	assert d["delayed_records"] > 0, d
	assert d["tick_lag_ms"] >= 1000, d
	assert js["write_errors"] > 0 and js["last_error"] == "No space left on device", js
	print("stuck: %d records wait, lag %d ms, %d failed writes" %
	      (d["delayed_records"], d["tick_lag_ms"], js["write_errors"]))
	EOF
	grep -q "records wait, json: [0-9]* failed writes (the last: No space left on device)" \
		"$SCRATCH/st1.txt" || fail "status does not say the sink fails: $(cat "$SCRATCH/st1.txt")"
	python3 - "$SCRATCH/m1.prom" "$VA" <<-'EOF'
	import re, sys
	text, iface = open(sys.argv[1]).read(), sys.argv[2]
	def val(series):
	    m = re.search("^" + re.escape(series) + r" (\S+)$", text, re.M)
	    assert m, series + " missing"
	    return float(m.group(1))
	assert val('flowacct_delayed_records{iface="%s"}' % iface) > 0
	assert val('flowacct_tick_lag_seconds{iface="%s"}' % iface) >= 1
	assert val('flowacct_sink_write_errors_total{sink="json"}') > 0
	assert val('flowacct_sink_write_errors_total{sink="metrics"}') == 0
	print("the metrics say it too")
	EOF
	rm "$SCRATCH/small/filler"
	for _ in $(seq 50); do
		grep -q "go out again" "$SCRATCH/run.1.log" && break
		sleep 0.1
	done
	grep -q "the records of '$VA' go out again, after [0-9.]* s and [0-9]* failed writes; none was lost" \
		"$SCRATCH/run.1.log" || fail "no recovery said: $(cat "$SCRATCH/run.1.log")"
	sleep 0.5
	$INA "$FLOWACCT" status -j >"$SCRATCH/st2.json"
	python3 - "$SCRATCH/st2.json" "$VA" <<-'EOF'
	import json, sys
	d = [i for i in json.load(open(sys.argv[1]))["interfaces"]
	     if i["iface"] == sys.argv[2] and i["this_netns"]][0]["daemon"]
	assert d["delayed_records"] == 0 and d["tick_lag_ms"] < 1000, d
	EOF
	run_stop
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --sent "$SCRATCH/sent.json" --books
	python3 - "$SCRATCH/rec.json" <<-'EOF'
	import json, sys
	seqs = [json.loads(l)["seq"] for l in open(sys.argv[1]) if '"seq"' in l]
	assert len(seqs) == len(set(seqs)), "records written twice"
	print("%d records, each once" % len(seqs))
	EOF
	assert_nothing_left "$NSA" "$VA"
}

# What the maps and files would take, full, is known before anything is
# made: the library's figure per flow is the kernel's own within 5 %; what
# is more than the machine has is refused in one line, at once, with
# nothing left, unless --force-memory.
test_run_memory_guard() {
	netns_pair
	local map n avail msg t0
	for map in percpu shared; do
		for n in 1000 65536 100000; do
			$INA "$FLOWACCT" attach "$VA" --map $map --max-flows $n >/dev/null
			$INA "$FLOWACCT" status -j | python3 -c '
import json, sys
i = [i for i in json.load(sys.stdin)["interfaces"] if i["iface"] == sys.argv[1] and i["this_netns"]][0]
kernel = i["tables_memory_bytes"] / i["max_flows"]
ours = i["table_bytes_per_flow"]
assert abs(ours - kernel) <= 0.05 * kernel, (sys.argv[2], i["max_flows"], ours, kernel)
print("%s %d: %d B a flow, the kernel %.1f" % (sys.argv[2], i["max_flows"], ours, kernel))' "$VA" $map ||
				fail "the figure per flow is not the kernel's"
			$INA "$FLOWACCT" detach "$VA" >/dev/null
		done
	done
	avail=$(awk '/^MemAvailable:/ { print $2 * 1024 }' /proc/meminfo)
	# 2^27 flows: 272 B a flow in either layout at the least, both tables.
	if [ "$avail" -lt $(((1 << 27) * 272)) ]; then
		t0=$(date +%s%N)
		# Killed if no guard stops it: the kernel would try to take it all.
		msg=$(expect_fail "more than available" timeout -s KILL 10 $INA "$FLOWACCT" attach "$VA" \
			--max-flows $((1 << 27)))
		echo "$msg" | grep -q "would take up to .* and .* is available: .*--force-memory" || fail "$msg"
		[ $(($(date +%s%N) - t0)) -lt 3000000000 ] || fail "the refusal took over 3 s"
		assert_nothing_left "$NSA" "$VA"
	else
		echo "more than 36 GB available: no attach refused here"
	fi
	# A daemon's files, full, against the free space under /run/flowacct
	# (a tmpfs of 8 MB in a mount namespace of the test's): a cache of 10^6
	# flows is refused; forced, it runs, its sparse file taking pages as
	# flows come.
	cat >"$SCRATCH/small_run.sh" <<-EOF
	mkdir -p /run/flowacct
	mount -t tmpfs -o size=8m tmpfs /run/flowacct
	nsenter --net=/run/netns/$NSA $FLOWACCT run --layout iface $VA --cache-size 1000000 --json /dev/null \
		2>"$SCRATCH/refused.log" && exit 1
	exec nsenter --net=/run/netns/$NSA $FLOWACCT run --layout iface $VA --cache-size 1000000 --force-memory \
		--interval 0.2 --json "$SCRATCH/rec.json"
	EOF
	unshare -m --propagation private bash "$SCRATCH/small_run.sh" 2>"$SCRATCH/forced.log" &
	local pid=$!
	for _ in $(seq 100); do
		grep -q "running on" "$SCRATCH/forced.log" && break
		sleep 0.05
	done
	grep -q "would keep up to .* of files under /run/flowacct and its filesystem has .* free: .*--force-memory" \
		"$SCRATCH/refused.log" || fail "not refused: $(cat "$SCRATCH/refused.log")"
	[ "$(wc -l <"$SCRATCH/refused.log")" = 1 ] || fail "more than a line: $(cat "$SCRATCH/refused.log")"
	grep -q "running on" "$SCRATCH/forced.log" || fail "forced, it did not run: $(cat "$SCRATCH/forced.log")"
	$INA ping -q -c 2 -i 0.1 192.0.2.2 >/dev/null
	kill -TERM $pid
	wait $pid || fail "run exited $? on SIGTERM: $(cat "$SCRATCH/forced.log")"
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --books
	assert_nothing_left "$NSA" "$VA"
}

# SIGTERM while a daemon takes its interfaces (each can take seconds): it
# takes no more, and stops at once, detaching what it attached.
test_run_term_during_setup() {
	netns_pair
	local i devs=() pid log=$SCRATCH/setup.log n
	for i in $(seq 0 15); do
		ip -n "$NSA" link add fs$i type veth peer name fp$i
		ip -n "$NSA" link set fs$i up
		ip -n "$NSA" link set fp$i up
		devs+=(fs$i)
	done
	$INA "$FLOWACCT" run --layout iface "${devs[@]}" --json /dev/null 2>"$log" &
	pid=$!
	for _ in $(seq 200); do
		grep -q "attached to" "$log" && break
		sleep 0.02
	done
	kill -TERM $pid
	wait $pid || fail "run exited $? on SIGTERM during its setup: $(cat "$log")"
	n=$(grep -c "attached to" "$log")
	[ "$n" -lt 16 ] || fail "it took every interface before it stopped: $(cat "$log")"
	echo "stopped after $n of 16 interfaces"
	for i in "${devs[@]}"; do
		assert_nothing_left "$NSA" "$i"
	done
}

# ---- errors ------------------------------------------------------------------------

test_run_errors() {
	netns_pair
	local msg
	expect_fail "no interface" $INA "$FLOWACCT" run --layout iface
	msg=$(expect_fail "missing interface" $INA "$FLOWACCT" run --layout iface nope0)
	echo "$msg" | grep -q "no interface 'nope0'" || fail "$msg"
	msg=$(expect_fail "interval too short" $INA "$FLOWACCT" run --layout iface "$VA" --interval 0.01)
	echo "$msg" | grep -q "interval" || fail "$msg"
	expect_fail "bad json path" $INA "$FLOWACCT" run --layout iface "$VA" --json /nonexistent/dir/x.json
	assert_nothing_left "$NSA" "$VA"

	# Adopting: refused when attached otherwise; left attached on exit.
	$INA "$FLOWACCT" attach "$VA" --map percpu >/dev/null
	msg=$(expect_fail "another map mode" $INA "$FLOWACCT" run --layout iface "$VA" --map shared)
	echo "$msg" | grep -q "attached with the percpu map" || fail "$msg"
	msg=$(expect_fail "another table size" $INA "$FLOWACCT" run --layout iface "$VA" --max-flows 100)
	echo "$msg" | grep -q "max-flows 65536" || fail "$msg"
	run_start "$NSA" "$VA" --interval 0.1
	grep -q "adopted" "$SCRATCH/run.log" || fail "not adopted: $(cat "$SCRATCH/run.log")"
	$INA ping -q -c 2 -i 0.1 192.0.2.2 >/dev/null
	run_stop
	$INA "$FLOWACCT" -j status | grep -q '"live":true' || fail "an adopted attachment went with the daemon"
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --reasons forced
	$INA "$FLOWACCT" detach "$VA" >/dev/null
	assert_nothing_left "$NSA" "$VA"
}

# ---- the service unit ----------------------------------------------------------------

test_run_service_unit() {
	scratch
	sed "s#@FLOWACCT@#$FLOWACCT#g" scripts/flowacct@.service >"$SCRATCH/flowacct@.service"
	cp "$SCRATCH/flowacct@.service" "$SCRATCH/flowacct@veth0.service"
	sed "s#@FLOWACCT@#$FLOWACCT#g" scripts/flowacct.service >"$SCRATCH/flowacct.service"
	cat "$SCRATCH/flowacct@veth0.service"
	SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$SCRATCH/flowacct@veth0.service" \
		"$SCRATCH/flowacct.service" 2>&1 | tee "$SCRATCH/verify.log"
	! grep -v "^$" "$SCRATCH/verify.log" | grep -q . ||
		fail "systemd-analyze verify complains"
	grep -q "^ExecStart=$FLOWACCT run %i " "$SCRATCH/flowacct@.service" || fail "ExecStart"
	grep -q "^ExecStart=$FLOWACCT run --all " "$SCRATCH/flowacct.service" || fail "the host's ExecStart"
}

# ---- the documents' shape ------------------------------------------------------------

# The key paths each document had before the daemon moved into the library,
# written out here: "a.b" a nested key, "a[].b" a key of a list's objects.
# Where a "counters" object sits, COUNTER_KEYS are its keys.
COUNTER_KEYS="accounted accounted_bytes bad_ihl bad_ip_version bad_ipv4_len
	bad_ipv6_len cut_frames frag_orphans fragments gso_frames insert_fail_full
	insert_fail_nomem insert_fail_other ipv4_len_from_frame ipv6_ext_too_many
	ipv6_jumbograms non_ip
	overflow sample_lost_full sample_lost_no_reader sample_lost_other samples seen
	tcp_doff_invalid trunc_eth trunc_ipv4 trunc_ipv6 trunc_ipv6_ext trunc_l4
	trunc_vlan vlan_too_deep mpls_too_deep trunc_mpls trunc_tunnel tunnel_decap
	tunnel_nested tunnel_shared tunnel_undecoded"
HOOKS_KEYS="hooks hooks[].counters hooks[].direction hooks[].hook"
DUMP_KEYS="counters flows flows[].bytes flows[].cgroup flows[].container flows[].direction
	flows[].dport flows[].drop_reason flows[].drops flows[].dst flows[].exported flows[].first_seen_ns flows[].iface
	flows[].ifindex flows[].ip_version flows[].last_seen_ns flows[].netns
	flows[].overflow flows[].packets flows[].passive_rtt flows[].process
	flows[].proto flows[].retrans_bytes flows[].retrans_segs flows[].socket_cookie
	flows[].sport flows[].src flows[].tcp flows[].tcp_flags flows[].tunnel $HOOKS_KEYS"
STATS_KEYS="counters $HOOKS_KEYS interfaces interfaces[].counters interfaces[].hooks
	interfaces[].hooks[].counters interfaces[].hooks[].direction
	interfaces[].hooks[].hook interfaces[].iface interfaces[].ifindex"
STATUS_KEYS="sets set_members interfaces interfaces[].attached_at interfaces[].by_run
	interfaces[].complete interfaces[].daemon interfaces[].daemon.cache_flows
	interfaces[].daemon.cache_size interfaces[].daemon.detach_on_exit
	interfaces[].daemon.instance interfaces[].daemon.interval_ms
	interfaces[].daemon.next_seq interfaces[].daemon.pid interfaces[].daemon.records
	interfaces[].daemon.records_by_reason interfaces[].daemon.records_by_reason.active
	interfaces[].daemon.records_by_reason.end interfaces[].daemon.records_by_reason.forced
	interfaces[].daemon.records_by_reason.idle
	interfaces[].daemon.records_by_reason.lack_of_resources interfaces[].daemon.ticks
	interfaces[].daemon.delayed_records interfaces[].daemon.last_tick_unix_ms
	interfaces[].daemon.sinks interfaces[].daemon.sinks[].last_error
	interfaces[].daemon.sinks[].sink interfaces[].daemon.sinks[].write_errors
	interfaces[].daemon.tick_lag_ms
	interfaces[].daemon_pid interfaces[].daemon_rss_bytes interfaces[].driver interfaces[].gone interfaces[].iface
	interfaces[].iface_at_attach interfaces[].ifindex interfaces[].ingress_hook
	interfaces[].ingress_reason interfaces[].live interfaces[].live_egress
	interfaces[].live_ingress interfaces[].map interfaces[].max_flows
	interfaces[].netns interfaces[].pins interfaces[].pins_memory_bytes
	interfaces[].run_files_bytes interfaces[].sampling interfaces[].stale
	interfaces[].sampling.mode interfaces[].sampling.rate interfaces[].sampling.snaplen
	interfaces[].table_bytes_per_flow interfaces[].tables interfaces[].tables_memory_bytes
	interfaces[].tc_api interfaces[].tc_ingress_api interfaces[].tc_ingress_link_id
	interfaces[].tc_ingress_prog_id interfaces[].tc_link_id
	interfaces[].tc_prog_id interfaces[].this_netns interfaces[].xdp_dispatcher
	interfaces[].xdp_prog_id unrecorded"
FLOW_RECORD_KEYS="bytes cgroup container direction dport drops dst end_reason first_seen_ns
	flow_start_ns iface ifindex instance ip_version last_seen_ns netns overflow
	packets passive_rtt process proto retrans_bytes retrans_segs seq socket_cookie
	sport src tcp tcp_flags tunnel type"
COUNTERS_RECORD_KEYS="counters exported exported.egress exported.egress.bytes
	exported.egress.packets exported.ingress exported.ingress.bytes
	exported.ingress.packets $HOOKS_KEYS iface ifindex instance next_seq records type"

# keys_match WHAT EXPECTED FILE [--type T]: FILE's key paths are EXPECTED's,
# each "X.counters" path followed by X.counters.NAME for every counter.
keys_match() {
	local what=$1 want=$2 file=$3 k c
	shift 3
	for k in $want; do
		echo "$k"
		case $k in
		counters | *.counters)
			for c in $COUNTER_KEYS; do echo "$k.$c"; done ;;
		esac
	done | sort >"$SCRATCH/want.keys"
	python3 tests/checkers/check_json_keys.py "$@" "$file" | sort >"$SCRATCH/got.keys"
	diff "$SCRATCH/want.keys" "$SCRATCH/got.keys" ||
		fail "$what: the keys differ (< expected, > got)"
	echo "$what: $(wc -l <"$SCRATCH/got.keys") key paths as expected"
}

# dump -j, stats -j, status -j (a daemon's answers) and a daemon's records
# keep their keys, nested ones too.
test_run_json_keys() {
	netns_pair
	warm_up
	run_start "$NSA" "$VA" --interval 0.1 --active-timeout 0.4 --idle-timeout 1
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 3 \
		--count 20 --size 500 --sport 21000 --rate 300 >/dev/null
	sleep 1.6
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 2 \
		--count 10 --rate 200 >/dev/null
	$INA "$FLOWACCT" dump -j >"$SCRATCH/dump.json"
	$INA "$FLOWACCT" stats -j >"$SCRATCH/stats.json"
	$INA "$FLOWACCT" -j status >"$SCRATCH/status.all.json"
	run_stop
	# Only this test's interface: others' (tests run side by side) and
	# programs no record names vary.
	python3 - "$SCRATCH/status.all.json" "$VA" >"$SCRATCH/status.json" <<-'EOF'
	import json, sys
	s = json.load(open(sys.argv[1]))
	s["interfaces"] = [i for i in s["interfaces"]
	                   if i["iface"] == sys.argv[2] and i["this_netns"]]
	s["unrecorded"] = []
	# Program sets: other tests', here (test_set_cli checks their keys).
	s["sets"] = s["set_members"] = []
	print(json.dumps(s))
	EOF
	keys_match "dump -j" "$DUMP_KEYS" "$SCRATCH/dump.json"
	keys_match "stats -j" "$STATS_KEYS" "$SCRATCH/stats.json"
	keys_match "status -j" "$STATUS_KEYS" "$SCRATCH/status.json"
	# All it holds: every pinned map (the flow tables among them), its
	# files under /run and the daemon's resident memory.
	python3 - "$SCRATCH/status.json" <<-'EOF' || fail "status memory: $(cat "$SCRATCH/status.json")"
	import json, sys
	i = json.load(open(sys.argv[1]))["interfaces"][0]
	assert i["pins_memory_bytes"] > i["tables_memory_bytes"] > 0
	assert i["run_files_bytes"] > 0 and i["daemon_rss_bytes"] > 0
	EOF
	keys_match "a flow record" "$FLOW_RECORD_KEYS" "$SCRATCH/rec.json" --type flow
	keys_match "a counters record" "$COUNTERS_RECORD_KEYS" "$SCRATCH/rec.json" \
		--type counters
}

# Under a daemon, the totals of what already left in records are rows of
# their own: grouped, they are labelled and add no flow to their group.
# Two requests in a row: the daemon answers each afresh.
test_run_grouped_exported() {
	netns_pair
	warm_up
	run_start "$NSA" "$VA" --interval 0.1 --idle-timeout 1
	# Three flows that will have left as records ...
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 3 \
		--count 20 --size 500 --sport 21000 --rate 300 >/dev/null
	sleep 1.6
	# ... and two still in the cache.
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 2 \
		--count 10 --size 300 --sport 22000 --rate 200 >/dev/null
	$INA "$FLOWACCT" dump -j >"$SCRATCH/dump.json"
	$INA "$FLOWACCT" dump -g direction -j >"$SCRATCH/group.json"
	$INA "$FLOWACCT" dump -g iface,direction -j >"$SCRATCH/group2.json"
	$INA "$FLOWACCT" dump -g iface,direction >"$SCRATCH/group.txt"
	# The rest of a query reaches the daemon too: columns, sort, top, filters.
	$INA "$FLOWACCT" dump "$VA" -o src,dport,packets -s packets -n 1 --dst 192.0.2.2 \
		--port 9 --proto udp >"$SCRATCH/query.txt"
	local msg
	msg=$(expect_fail "biflow and group" $INA "$FLOWACCT" dump -b -g direction)
	echo "$msg" | grep -q "^flowacct: --biflow pairs the two directions" || fail "$msg"
	run_stop
	cat "$SCRATCH/query.txt"
	head -1 "$SCRATCH/query.txt" | grep -q "^SRC *DPORT *PACKETS *$" ||
		fail "the columns asked for did not reach the daemon"
	# (The first three flows may not have left yet on a busy machine.)
	sed -n 3p "$SCRATCH/query.txt" | grep -qx "([0-9] more flows)" ||
		fail "--top 1 did not reach the daemon"
	sed -n 2p "$SCRATCH/query.txt" | grep -Eq "^192.0.2.1 +9 +(10|20) *$" ||
		fail "the filters or the sort did not reach the daemon"
	cat "$SCRATCH/group.txt"
	python3 - "$SCRATCH" <<-'EOF'
	import json, sys
	d = sys.argv[1]
	g = json.load(open(d + "/group.json"))["flows"]
	out = [r for r in g if r["direction"] == "egress" and not r["exported"]]
	assert len(out) == 1 and out[0]["flows"] == 2, "egress: 2 flows in the cache: %s" % g
	ex = [r for r in g if r["exported"]]
	assert ex and all(r["flows"] == 0 for r in ex), "exported totals counted as flows: %s" % ex
	egress_ex = [r for r in ex if r["direction"] == "egress"]
	assert egress_ex and egress_ex[0]["packets"] >= 60, egress_ex
	print("grouped: 2 egress flows, the exported totals labelled and no flow")
	EOF
	grep "^egress" "$SCRATCH/group.txt" | grep -q "(exported in records)" ||
		fail "the text has no labelled exported row"
	[ "$(grep -c "(exported in records)" "$SCRATCH/group.txt")" = \
		"$(python3 -c 'import json,sys; print(sum(r["exported"] for r in json.load(open(sys.argv[1]))["flows"]))' "$SCRATCH/group2.json")" ] ||
		fail "not every exported row is labelled"
}

# ---- upgrading under a running daemon --------------------------------------------------

# The release before the daemon moved into the library, built from git as
# bench.mk builds its baseline; once, into build/ (ignored by git).
PREV_COMMIT=5c258ca
prev_build() {
	local dir=$PWD/build/prev-$PREV_COMMIT
	if [ ! -x "$dir/src/build/flowacct" ]; then
		rm -rf "$dir" && mkdir -p "$dir/src"
		git archive "$PREV_COMMIT" | tar -x -C "$dir/src"
		make -s -C "$dir/src" build/flowacct >"$dir/make.log" 2>&1 ||
			fail "can't build $PREV_COMMIT: $(tail -5 "$dir/make.log")"
	fi
	PREV_FA=$dir/src/build/flowacct
}

# A daemon of the previous release, killed with kill -9 while known traffic
# flows, leaves pinned state (cache, journal, drain file) that the new `run`
# adopts without losing a count. While the old daemon runs, the new client
# and the old one each meet a daemon of another control protocol: one line
# saying so, exit 1, nothing misread.
test_run_upgrade() {
	prev_build
	netns_pair
	warm_up
	local msg new=$FLOWACCT
	FLOWACCT=$PREV_FA LAYOUT=- run_start "$NSA" "$VA" --interval 0.05 --active-timeout 0.3 \
		--idle-timeout 1
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 6 \
		--count 300 --size 200,900 --rate 300 >"$SCRATCH/sent1.json" &
	local sender=$!
	sleep 0.5
	msg=$(expect_fail "a new dump against the old daemon" $INA "$FLOWACCT" dump "$VA")
	echo "$msg" | grep -q "the daemon (pid $RUN_PID) speaks another control protocol (version 1, this flowacct speaks 5): use the flowacct it was started with" ||
		fail "$msg"
	$INA "$FLOWACCT" -j stats >"$SCRATCH/stats.out" 2>&1 && fail "stats -j read the old daemon"
	grep -q '^{"error":"the daemon (pid' "$SCRATCH/stats.out" || fail "$(cat "$SCRATCH/stats.out")"
	sleep 0.3
	run_stop KILL
	echo "the old daemon killed"
	run_start "$NSA" "$VA" --interval 0.05 --active-timeout 0.3 --idle-timeout 1
	grep -q "adopted '$VA' (attached by flowacct run)" "$SCRATCH/run.log" ||
		fail "not adopted: $(cat "$SCRATCH/run.log")"
	# The older default layout stays as it was attached.
	$INA "$FLOWACCT" status | grep -q "^$VA .* percpu " ||
		fail "the adopted attachment changed layout: $($INA "$FLOWACCT" status)"
	# Its stats map has the old version's fewer counters: those it lacks read 0.
	$INA "$FLOWACCT" -j stats "$VA" >"$SCRATCH/stats.json" || fail "stats: $(cat "$SCRATCH/stats.json")"
	python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))["interfaces"][0]["counters"]
sys.exit(0 if c["seen"] > 0 and c["ipv4_len_from_frame"] == 0 else 1)' "$SCRATCH/stats.json" ||
		fail "the old attachment's counters: $(cat "$SCRATCH/stats.json")"
	# The old client against the new daemon: refused, in words it prints.
	$INA "$PREV_FA" dump "$VA" >"$SCRATCH/old.out" 2>&1 && fail "the old dump read the new daemon"
	grep -q "this daemon speaks control protocol version 5" "$SCRATCH/old.out" ||
		fail "the old client: $(cat "$SCRATCH/old.out")"
	wait $sender
	$INA python3 tests/helpers/udp_send.py --src 2001:db8::1 --dst 2001:db8::2 --flows 4 \
		--count 100 --size 100,1200 --sport 30000 --rate 400 >"$SCRATCH/sent2.json"
	sleep 0.5
	run_stop
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --sent "$SCRATCH/sent1.json" \
		--sent "$SCRATCH/sent2.json" --books --broken-max 1
	assert_nothing_left "$NSA" "$VA"
	FLOWACCT=$new
}

# An older daemon killed after a commit, before the tick's records were
# written: its pinned journal holds the tick. The new daemon converts the
# pinned cache and journal into its cache file, writes the records again,
# and leaves none of the older pins.
test_run_upgrade_committed() {
	prev_build
	netns_pair
	warm_up
	local new=$FLOWACCT dir
	dir=$(pin_dir "$NSA" "$VA")
	$INA "$PREV_FA" attach "$VA" >/dev/null
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 4 \
		--count 300 --size 400 --rate 150 >"$SCRATCH/sent.json" &
	local sender=$!
	sleep 0.3
	FLOWACCT=$PREV_FA LAYOUT=- crash_at_write delay_enter
	FLOWACCT=$new
	[ -e "$dir/journal_records" ] || fail "the older daemon left no journal: the test shows nothing"
	run_start "$NSA" "$VA" --interval 0.1 --active-timeout 0.2
	grep -q "wrote again" "$SCRATCH/run.log" || fail "the older daemon's committed tick was not finished"
	for f in cache journal_records journal_changes; do
		[ ! -e "$dir/$f" ] || fail "the older daemon's $f is still pinned"
	done
	[ -e "/run/flowacct/$(basename "$dir").cache" ] || fail "no cache file"
	wait $sender
	sleep 0.5
	run_stop
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --sent "$SCRATCH/sent.json" --books
	$INA "$FLOWACCT" detach "$VA" >/dev/null
	assert_nothing_left "$NSA" "$VA"
	[ ! -e "/run/flowacct/$(basename "$dir").cache" ] || fail "detach left the cache file"
}

# ---- the engine without the command line --------------------------------------------

# tests/c/engine_drive.c runs the daemon engine from C, of each build, until
# SIGTERM: the records of known traffic add up to it and to the counters,
# and the engine's stop leaves nothing attached.
test_run_engine_c() {
	local b i
	netns_pair
	warm_up
	for b in $BUILDS; do
		: >"$SCRATCH/rec.json"
		$INA "$b/tests/engine_drive" "$VA" "$SCRATCH/rec.json" 2>"$SCRATCH/engine.log" &
		local drive=$!
		for i in $(seq 100); do
			grep -q "running on 1 interface" "$SCRATCH/engine.log" && break
			sleep 0.05
		done
		$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 4 \
			--count 100 --size 300,1000 --rate 400 >"$SCRATCH/sent.json"
		sleep 0.3
		kill -TERM $drive
		wait $drive || fail "$b: engine_drive failed: $(cat "$SCRATCH/engine.log")"
		cat "$SCRATCH/engine.log"
		grep -q "attached to '$VA'" "$SCRATCH/engine.log" || fail "$b: not attached"
		python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --sent "$SCRATCH/sent.json" --books
		assert_nothing_left "$NSA" "$VA"
	done
}
