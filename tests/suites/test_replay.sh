# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Replay: captures from scripts/gen_pcaps.py through both hooks and both map
# modes, compared exactly with what the generator says they contain.

ALL_TESTS="test_generator_is_deterministic test_replay_captures
	test_replay_overflow test_replay_against_tshark test_replay_table
	test_table_check test_replay_errors test_replay_attach_options test_prog_run"

CAPTURES="basic basic_ng malformed snaplen jumbo tso mixed fragments sll sll2 rawip tunnels"

test_generator_is_deterministic() {
	scratch
	python3 scripts/gen_pcaps.py "$SCRATCH"
	for f in pcaps/*.pcap pcaps/*.pcapng pcaps/*.expected.json; do
		cmp "$f" "$SCRATCH/$(basename "$f")" ||
			fail "$f differs from what scripts/gen_pcaps.py writes"
	done
}

# replay_check BUILD CAPTURE HOOK MAP OUT: one replay, compared exactly;
# writes OUT.result: "ok", or which replay did not match and why.
replay_check() {
	local b=$1 cap=$2 hook=$3 map=$4 out=$5
	if { "$b"/flowacct replay "$(ls pcaps/"$cap".pcap*)" --hook "$hook" --map "$map" \
		-j >"$out.json" &&
		python3 tests/checkers/check_replay.py pcaps/"$cap".expected.json "$out.json" \
			--hook "$hook"; } >"$out.log" 2>&1; then
		echo ok >"$out.result"
	else
		{ echo "$b: $cap through $hook ($map) does not match:"; tail -5 "$out.log"; } \
			>"$out.result"
	fi
}

# Every capture x hook x map mode x compiler, compared exactly: one replay
# per CPU at a time (each is mostly the verifier, on one CPU). Results are
# read from files, not from `wait -n`'s statuses, which once counted a
# failure that no replay had.
test_replay_captures() {
	scratch
	local b cap hook map i n=0 bad=0 cpus
	cpus=$(nproc)
	for b in $BUILDS; do
		for cap in $CAPTURES; do
			for hook in xdp tc-ingress tc-egress; do
				for map in percpu shared; do
					n=$((n + 1))
					replay_check "$b" "$cap" $hook $map "$SCRATCH/$n" &
					[ $((n % cpus)) != 0 ] || wait
				done
			done
		done
	done
	wait
	for i in $(seq "$n"); do
		[ "$(cat "$SCRATCH/$i.result" 2>/dev/null)" = ok ] && continue
		cat "$SCRATCH/$i.result" 2>/dev/null || echo "replay $i left no result"
		bad=$((bad + 1))
	done
	[ $bad = 0 ] || fail "$bad of $n replays did not match"
	echo "$n replays matched"
}

# A table too small for the capture: the flows that do not fit are in the
# overflow row, with every packet and byte, and the failed inserts counted.
test_replay_overflow() {
	scratch
	local hook map k n
	# One flow short of the capture's flows, too: the last one overflows.
	n=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["flows"]))' \
		pcaps/basic.expected.json)
	for k in 1 5 $((n - 1)); do
		for hook in xdp tc-ingress tc-egress; do
			for map in percpu shared; do
				build/flowacct replay pcaps/basic.pcap --max-flows $k \
					--hook $hook --map $map -j >"$SCRATCH/out.json"
				python3 tests/checkers/check_replay.py pcaps/basic.expected.json \
					"$SCRATCH/out.json" --hook $hook --max-flows $k ||
					fail "max-flows $k through $hook ($map)"
			done
		done
	done
	grep -q '"overflow":true' "$SCRATCH/out.json" || fail "no overflow row in JSON"
	build/flowacct replay pcaps/basic.pcap --max-flows 5 | grep -q '(overflow:' ||
		fail "no overflow row in the table"
}

# tshark dissects the capture itself; per-flow packets, bytes and TCP flags
# must be what it says.
test_replay_against_tshark() {
	scratch
	local cap hook
	for cap in mixed tso sll sll2 rawip; do
		for hook in xdp tc; do
			build/flowacct replay pcaps/$cap.pcap --hook $hook -j >"$SCRATCH/out.json"
			python3 tests/checkers/check_tshark.py pcaps/$cap.pcap "$SCRATCH/out.json" ||
				fail "$cap through $hook disagrees with tshark"
		done
	done
}

# The human table: sorted by bytes, ICMP type/code, flags as letters, books.
test_replay_table() {
	scratch
	build/flowacct replay pcaps/basic.pcap >"$SCRATCH/out.txt"
	cat "$SCRATCH/out.txt"
	head -1 "$SCRATCH/out.txt" | grep -q 'PACKETS *BYTES' || fail "no header"
	# Bytes column (field 9 of flow rows) must not increase.
	awk '/^(ingress|egress) /{ if (prev != "" && $9 > prev) bad = 1; prev = $9 }
	     END { exit bad }' "$SCRATCH/out.txt" || fail "rows not sorted by bytes"
	grep -Eq '^ingress +lo +icmp +192\.0\.2\.1 +- +192\.0\.2\.2 +8/0 ' "$SCRATCH/out.txt" ||
		fail "ICMP echo row not shown as type/code 8/0"
	grep -Eq ' FSPAUEC *$' "$SCRATCH/out.txt" || fail "TCP flags not shown as letters"
	grep -q '^xdp ingress: seen 54 = accounted 50 ([0-9]* bytes) + not accounted 4$' \
		"$SCRATCH/out.txt" || fail "books line"
	grep -Eq '^  non_ip +4 +not accounted$' "$SCRATCH/out.txt" || fail "non_ip line"
}

# The table's sort and its JSON writers (tests/c/table_check.c): 100k rows,
# enough for the two-thread writer, against a comparator, printf and
# inet_ntop of the test's own; the one-piece rows against the column
# writer byte for byte; the two-thread output against one thread's; rows
# printed in order through an index against rows sorted in place. Counts
# of any size, and then all small ones, as real tables have.
test_table_check() {
	scratch
	local b run args
	for b in $BUILDS; do
	for run in "1" "2" "3 small"; do
		read -r -a args <<<"$run"
		"$b"/tests/table_check 100000 "${args[0]}" "$SCRATCH" "${args[@]:1}" ||
			fail "$b, seed $run: the sort differs from the reference"
		cmp "$SCRATCH/plain.json" "$SCRATCH/columns.json" ||
			fail "$b, seed $run: the one-piece rows differ from the columns'"
		cmp "$SCRATCH/plain.json" "$SCRATCH/ordered.json" ||
			fail "$b, seed $run: rows printed through an index differ from sorted ones"
		python3 - "$SCRATCH" <<-'EOF'
		import json, sys
		d = sys.argv[1]
		plain = json.load(open(d + "/plain.json"))["flows"]
		top = json.load(open(d + "/top.json"))["flows"]
		want = [l.rstrip("\n").split("\t") for l in open(d + "/expected.tsv")]
		assert len(plain) == len(want), (len(plain), len(want))
		assert top == plain[:len(top)] and len(top) == 4096, "two threads and one differ"
		names = {1: "veth0", 2: 'a"b\\c'}
		for i, (r, w) in enumerate(zip(plain, want)):
		    kind = int(w[13])
		    got = [r["ifindex"], r["direction"], r["ip_version"], r["proto"],
		           r["src"], r["dst"], r["sport"], r["dport"], r["packets"],
		           r["bytes"], r["first_seen_ns"], r["last_seen_ns"],
		           r["overflow"], r["exported"], r["iface"]]
		    exp = [int(w[0]), ["ingress", "egress"][int(w[1])], int(w[2]), int(w[3]),
		           None if w[4] == "-" else w[4], None if w[5] == "-" else w[5],
		           int(w[6]), int(w[7]), int(w[8]), int(w[9]), int(w[10]), int(w[11]),
		           kind == 1, kind == 2, names.get(int(w[0]))]
		    assert got == exp, (i, got, exp)
		    flags = "".join(c for b, c in enumerate("FSRPAUEC") if int(w[12]) >> b & 1)
		    assert r["tcp_flags"] == flags, (i, r["tcp_flags"], flags)
		print("%d rows in the reference order, fields as printf and inet_ntop write them" % len(plain))
		EOF
	done
	done
}

test_replay_errors() {
	scratch
	local msg
	msg=$(expect_fail "missing file" build/flowacct replay "$SCRATCH/nope.pcap")
	echo "$msg" | grep -q "can't read capture" || fail "missing file: $msg"
	msg=$(expect_fail "link type" build/flowacct replay pcaps/linktype_null.pcap)
	echo "$msg" | grep -q "link type NULL (0)" || fail "link type not named: $msg"
	echo "not a capture" >"$SCRATCH/junk.pcap"
	expect_fail "junk file" build/flowacct replay "$SCRATCH/junk.pcap"
	head -c 100 pcaps/basic.pcap >"$SCRATCH/cut.pcap"
	msg=$(expect_fail "cut file" build/flowacct replay "$SCRATCH/cut.pcap")
	echo "$msg" | grep -q "after frame" || fail "cut file: $msg"
	expect_fail "bad hook" build/flowacct replay pcaps/basic.pcap --hook nope
	expect_fail "bad map" build/flowacct replay pcaps/basic.pcap --map nope
	expect_fail "bad max-flows" build/flowacct replay pcaps/basic.pcap --max-flows -1
	expect_fail "zero max-flows" build/flowacct replay pcaps/basic.pcap --max-flows 0
	expect_fail "unknown command" build/flowacct frobnicate
	# In JSON mode the error is also a JSON object on stdout.
	build/flowacct -j replay pcaps/linktype_null.pcap 2>/dev/null >"$SCRATCH/err.json" &&
		fail "link type error exited 0"
	python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; assert "link type" in e' \
		"$SCRATCH/err.json" || fail "JSON error object"
}

# replay takes its map and sampling options from the rows attach has: each
# bad value is refused by both with the same line, and a good one has the
# same effect (--max-flows is the table size whatever the command).
test_replay_attach_options() {
	scratch
	local a r bad
	while read -r bad; do
		# shellcheck disable=SC2086 # the option and its value
		a=$(expect_fail "attach $bad" build/flowacct attach fanone0 $bad)
		# shellcheck disable=SC2086
		r=$(expect_fail "replay $bad" build/flowacct replay pcaps/basic.pcap $bad)
		[ "$a" = "$r" ] || fail "$bad: attach says '$a', replay '$r'"
	done <<-EOF
		--map nope
		--max-flows 0
		--max-flows 134217729
		--sample -1
		--sample-mode nope
		--snaplen 0
		--snaplen 65001
	EOF
	# The hook is replay's own option: attach's are not replay's.
	expect_fail "replay --ingress" build/flowacct replay pcaps/basic.pcap --ingress tc >/dev/null
	expect_fail "replay --mode" build/flowacct replay pcaps/basic.pcap --mode skb >/dev/null
	# A table of 2 flows holds 2 of basic.pcap's flows; the rest overflow.
	build/flowacct -j replay pcaps/basic.pcap --max-flows 2 --map shared >"$SCRATCH/r.json" ||
		fail "replay --max-flows 2 failed"
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
rows = [f for f in d["flows"] if not f["overflow"]]
over = [f for f in d["flows"] if f["overflow"]]
assert len(rows) == 2 and over and over[0]["packets"] > 0, d["flows"]' "$SCRATCH/r.json" ||
		fail "--max-flows 2 did not size the table: $(head -c 600 "$SCRATCH/r.json")"
}

# Hand-built frames: GSO, BIG TCP, multi-buffer, live length checks.
test_prog_run() {
	local b
	for b in $BUILDS; do
		"$b"/tests/prog_test | tail -1
		"$b"/tests/prog_test >/dev/null || fail "$b/tests/prog_test"
	done
}
