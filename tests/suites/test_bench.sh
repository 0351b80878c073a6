# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The benchmark, run small (scripts/bench.sh --quick), so that it does not rot:
# every case must have run and given a figure, and every section of the
# report must be there with numbers in it. The figures themselves are not
# judged here; `make bench` measures.

ALL_TESTS="test_bench_quick"

# rows FILE HEADING: the table rows of the section that starts at HEADING.
rows() {
	awk -v h="$2" 'index($0, h) == 1 { on = 1; next } on && /^#/ { exit }
		on && /^\| / && !/^\| (---|hook |workload |table |command |configuration |accountant |function |wait |map |step |records |to |exporter |receiver |build )/' "$1"
}

test_bench_quick() {
	scratch
	local b=${BUILDS%% *} out=$SCRATCH/RESULTS.md raw=$SCRATCH/pkt.tsv n
	[ -x "$b/tests/bench/flowbench" ] ||
		fail "$b/tests/bench/flowbench is not built: make BUILD=$b tests"
	# A guard against a hang, not a time limit: on a VM that ran everything
	# twice as slowly as usual this took about 200 s.
	BUILD=$b timeout 600 bash scripts/bench.sh --quick --out "$out" --raw "$raw" ||
		fail "scripts/bench.sh --quick failed"

	# Every case, every round: 2 hooks x (7 workloads x 16 programs +
	# 2 table paths x 14, sampling every frame being left out there), 3 rounds.
	n=$(awk -F'\t' '$5 > 0' "$raw" | wc -l)
	[ "$n" = 840 ] || fail "$n positive figures of 840 in $raw"
	awk -F'\t' '{ seen[$1 "/" $2 "/" $3]++ } END { for (k in seen) if (seen[k] != 3) exit 1 }' \
		"$raw" || fail "a case did not run in every round"

	for h in "## 1. " "## 2. " "## 3. " "## 4. " "## 5. " "## 6. " "## 7. " "## 8. " "## 9. "; do
		grep "^$h" "$out" >/dev/null || fail "no section '$h' in the report"
	done
	[ "$(rows "$out" "#### Targets" | grep -cE '\| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|')" = 6 ] ||
		fail "the targets table does not have its 6 rows of figures"
	[ "$(rows "$out" "### Against the starting commit" | grep -cE '^\| clang (14|19) \| .* \| [0-9.]+ \| -?[0-9.]+ \| (yes|no) \|$')" = 36 ] ||
		fail "the table against the starting commit does not have its 36 rows"
	[ "$(rows "$out" "#### XDP, every case" | wc -l)" = 144 ] ||
		fail "the XDP table does not have 144 rows"
	[ "$(rows "$out" "#### Load-time options" | grep -cE '\| -?[0-9.]+ \|$')" = 18 ] ||
		fail "the options table does not have its 18 rows of figures"
	[ "$(rows "$out" "## 9. " | grep -cE '\| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|$')" = 10 ] ||
		fail "section 9 does not have its 2 tables of 5 rows"
	[ "$(rows "$out" "### The owner lookups" | grep -cE '\| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|$')" = 2 ] ||
		fail "the owner lookups table does not have its 2 rows"
	[ "$(rows "$out" "#### flowacct against no epochs" | grep -cE '\| [0-9.]+ \| [0-9.]+ \| -?[0-9.]+ \|$')" = 36 ] ||
		fail "the epochs table does not have its 36 rows of figures"
	[ "$(rows "$out" "## 2. " | grep -cE '\| [0-9]+\.[0-9]+ \|')" = 4 ] ||
		fail "the dump table does not have its 4 timed rows"
	[ "$(rows "$out" "### One flow from both CPUs" | grep -cE '\| [1-9][0-9.]* \| [0-9.]+ \| yes \|$')" = 4 ] ||
		fail "the contention table does not have its 4 rows"
	[ "$(rows "$out" "## 8. " | grep -cE '\| [1-9][0-9]* \| [1-9][0-9]* \| [1-9][0-9]* \| [1-9][0-9]* \|$')" = 12 ] ||
		fail "the verifier table does not have its 12 rows (3 programs, 2 compilers, options off and on)"
	[ "$(rows "$out" "## 3. " | grep -cE '\| [1-9][0-9]* \| [0-9]+ \| [0-9]+ \| [0-9.]+ \|$')" = 10 ] ||
		fail "the live table does not have 10 rows with packets received"
	[ "$(rows "$out" "### TCP throughput" | grep -cE '\| [0-9]+\.[0-9]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|$')" = 7 ] ||
		fail "the TCP throughput table does not have its 7 rows"
	[ "$(rows "$out" "## 4. " | grep -cE '\| [1-9][0-9.]* \| [1-9][0-9.]* \|')" = 4 ] ||
		fail "the memory table does not have its 4 rows"
	[ "$(rows "$out" "## 5. " | wc -l)" = 3 ] || fail "the peer table does not have 3 rows"
	[ "$(rows "$out" "### What the epochs cost" | grep -cE '\| (yes|no) \|$')" = 4 ] ||
		fail "the epochs' cost table does not have its 4 rows"
	[ "$(rows "$out" "### A flip's wait" | grep -cE '\| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|$')" = 4 ] ||
		fail "the flip table does not have its 4 rows"
	[ "$(rows "$out" "### Draining an epoch" | grep -cE '\| [0-9.]+ \|$')" = 6 ] ||
		fail "the drain table does not have its 6 rows"
	[ "$(rows "$out" "### Records" | grep -cE '\| [0-9.]+ \|')" = 4 ] ||
		fail "the records tables do not have their 4 rows"
	[ "$(rows "$out" "### Encoding and sending IPFIX" | grep -cE '\| [1-9][0-9]* \| [1-9][0-9]* \| [0-9.]+ \| [1-9][0-9]* \| 0 \|$')" = 2 ] ||
		fail "the IPFIX encoding table does not have its 2 rows"
	[ "$(rows "$out" "### The daemon against softflowd" | grep -cE '\| [1-9][0-9]* \| [0-9.]+ \| [0-9.]+ \|$')" = 2 ] ||
		fail "the export comparison does not have its 2 rows with records"
	sed -n '/^#### Targets/,/^$/p' "$out" | head -4
	tail -1 "$out"
}
