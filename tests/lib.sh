# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Helpers for tests/test_*.sh; sourced by tests/run.sh into each test's bash.

# The flowacct binaries under test: the default build and the clang-19 one.
FLOWACCT=${FLOWACCT:-build/flowacct}
BUILDS=${BUILDS:-"build build/clang-19"}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# A scratch directory removed when the test's bash exits.
scratch() {
	SCRATCH=$(mktemp -d)
	trap 'rm -rf "$SCRATCH"' EXIT
}

# expect_fail "what" CMD...: CMD must exit non-zero with a one-line error.
expect_fail() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1 >/dev/null); then
		fail "$what: succeeded: $*"
	fi
	[ -n "$out" ] || fail "$what: no message on stderr"
	[ "$(printf '%s\n' "$out" | grep -c .)" = 1 ] || fail "$what: more than one line: $out"
	echo "$out"
}
