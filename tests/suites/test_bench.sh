# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The benchmark, run small (scripts/bench.sh --quick), so that it does not rot:
# every case must have run in every round and given a figure, every section
# of the report must be there, and every table's figures must be numbers in
# a sane range (tests/checkers/check_bench.py: no 0 ns, nan, inf, negative
# time or empty cell). The figures themselves are not judged here; `make
# bench` measures.

ALL_TESTS="test_bench_quick"

test_bench_quick() {
	scratch
	local b=${BUILDS%% *} out=$SCRATCH/RESULTS.md raw=$SCRATCH/pkt.tsv n
	[ -x "$b/tests/bench/flowbench" ] ||
		fail "$b/tests/bench/flowbench is not built: make BUILD=$b tests"
	# A guard against a hang, not a time limit: on a VM that ran everything
	# twice as slowly as usual this took about 200 s; on one whose test runs
	# of the programs were 4 times slower, over 600.
	BUILD=$b timeout 1500 bash scripts/bench.sh --quick --out "$out" --raw "$raw" ||
		fail "scripts/bench.sh --quick failed"

	# Every case, every round: 2 hooks x (7 workloads x 17 programs +
	# 2 table paths x 15, sampling every frame being left out there), 3 rounds.
	n=$(awk -F'\t' '$5 > 0' "$raw" | wc -l)
	[ "$n" = 894 ] || fail "$n positive figures of 894 in $raw"
	awk -F'\t' '{ seen[$1 "/" $2 "/" $3]++ } END { for (k in seen) if (seen[k] != 3) exit 1 }' \
		"$raw" || fail "a case did not run in every round"

	for h in "## 1. " "## 2. " "## 3. " "## 4. " "## 5. " "## 6. " "## 7. " "## 8. " "## 9. " "## 10. " "## 11. "; do
		grep "^$h" "$out" >/dev/null || fail "no section '$h' in the report"
	done
	# Every table with its rows, every figure a number in a sane range.
	python3 tests/checkers/check_bench.py "$out" || fail "figures out of range in $out"
	sed -n '/^#### Targets/,/^$/p' "$out" | head -4
	tail -1 "$out"
}
