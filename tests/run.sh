#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Test runner: sources each tests/suites/test_*.sh (or the files named), which define
# ALL_TESTS and test_* functions, and runs every test in its own bash with
# `set -euo pipefail`, so the first failing command fails the test. A test's
# output is shown only when it fails. After each file, a line with the file's
# count and time (tests/README.md's table of suites comes from these). Ends
# with "N passed, N failed" and a non-zero exit if anything failed.
#
#   tests/run.sh [FILE...]          TESTS="test_a test_b" tests/run.sh FILE

set -u
cd "$(dirname "$0")/.." || exit 1

if [ "$(id -u)" != 0 ]; then
	echo "tests need root (BPF_PROG_TEST_RUN, network namespaces)" >&2
	exit 1
fi

files=("$@")
[ ${#files[@]} -gt 0 ] || files=(tests/suites/test_*.sh)

passed=0
failed=0
failures=()
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

for file in "${files[@]}"; do
	ALL_TESTS=""
	suite_start=$(date +%s%N)
	suite_ran=0
	# shellcheck source=/dev/null
	source "$file"
	all=$(echo $ALL_TESTS)
	for t in ${TESTS:-$all}; do
		case " $all " in *" $t "*) ;; *) continue ;; esac
		if ! declare -F "$t" >/dev/null; then
			echo "FAIL $t: listed in $file but not defined"
			failed=$((failed + 1))
			continue
		fi
		log="$logdir/$t.log"
		start=$(date +%s%N)
		bash -euo pipefail -c 'source tests/helpers/lib.sh; source "$1"; "$2"' \
			_ "$file" "$t" >"$log" 2>&1
		rc=$?
		ms=$((($(date +%s%N) - start) / 1000000))
		suite_ran=$((suite_ran + 1))
		if [ $rc = 0 ]; then
			passed=$((passed + 1))
			printf 'ok   %-44s %4d.%ds\n' "$t" $((ms / 1000)) $((ms % 1000 / 100))
		else
			failed=$((failed + 1))
			failures+=("$t")
			printf 'FAIL %-44s %4d.%ds\n' "$t" $((ms / 1000)) $((ms % 1000 / 100))
			sed 's/^/     | /' "$log" | tail -40
		fi
	done
	ms=$((($(date +%s%N) - suite_start) / 1000000))
	printf -- '---- %-42s %3d tests %5d.%ds\n' "$file" $suite_ran \
		$((ms / 1000)) $((ms % 1000 / 100))
done

[ $failed = 0 ] || echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ $failed = 0 ]
