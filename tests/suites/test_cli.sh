# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The command surface a new user meets first: the version, the defaults in
# --help, how seconds are written, and errors as one line of one shape
# (text on stderr; with -j also {"error": ...} on stdout).

ALL_TESTS="test_cli_version test_cli_help_defaults test_cli_seconds test_cli_errors"

test_cli_version() {
	local release out desc
	# The release as the Makefile has it, and git's description of this
	# checkout (without -dirty: the tree may have changed since the build).
	release=$(sed -n 's/^FLOWACCT_RELEASE := //p' Makefile)
	[ -n "$release" ] || fail "no FLOWACCT_RELEASE in the Makefile"
	out=$("$FLOWACCT" --version)
	echo "$out"
	echo "$out" | grep -qxE "flowacct [0-9]+\.[0-9]+\.[0-9]+( \(.+\))?" || fail "--version: $out"
	case "$out" in "flowacct $release"*) ;; *) fail "not release $release: $out" ;; esac
	if desc=$(git describe --always --tags 2>/dev/null); then
		case "$out" in
		"flowacct $release ($desc)" | "flowacct $release ($desc-dirty)") ;;
		*) fail "not git's description '$desc' (rebuild?): $out" ;;
		esac
	fi
	"$FLOWACCT" -j --version | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert "flowacct " + d["version"] == sys.argv[1], d' "$out" || fail "-j --version"
}

test_cli_help_defaults() {
	local out
	out=$("$FLOWACCT" run --help)
	echo "$out" | grep -E -- '--interval|--map'
	echo "$out" | grep -qE -- '--interval SEC .*\(default: 1 s\)$' || fail "no default of --interval: $out"
	echo "$out" | grep -qE -- '--map shared\|percpu .*\(default: shared\)$' || fail "no default of --map: $out"
	echo "$out" | grep -qE -- '--cache-size N .*\(default: 262144\)$' || fail "no default of --cache-size: $out"
	# No default where there is none (0: off).
	"$FLOWACCT" top --help | grep -E -- '--count N' | grep -vq 'default: 0' || fail "top --count shows 0"
	[ "$("$FLOWACCT" -j run --help)" = null ] || fail "-j run --help: $("$FLOWACCT" -j run --help)"
}

test_cli_seconds() {
	local msg v
	for v in 1e3 0x10 inf nan -1 " 1" 1. "" 0.05; do
		msg=$(expect_fail "--interval '$v'" "$FLOWACCT" top --interval "$v" --help)
		echo "$msg" | grep -qF "as digits with an optional fraction (1, 0.25, .5), not '$v'" ||
			fail "--interval '$v': $msg"
	done
	for v in 1 0.25 .5 3600; do
		"$FLOWACCT" top --interval "$v" --help >/dev/null || fail "--interval '$v' refused"
	done
}

# one_error WHAT CMD...: fails with one line on stderr and, with -j, the
# same text as the one JSON document on stdout.
one_error() {
	local what=$1 out err
	shift
	out=$("$@" 2>"$SCRATCH/err") && fail "$what: succeeded"
	err=$(cat "$SCRATCH/err")
	echo "$err"
	[ "$(grep -c . "$SCRATCH/err")" = 1 ] || fail "$what: stderr is not one line: $err"
	case "$err" in "flowacct: "?*) ;; *) fail "$what: not 'flowacct: ...': $err" ;; esac
	case " $* " in
	*" -j "*)
		python3 -c '
import json, sys
lines = sys.argv[1].splitlines()
assert len(lines) == 1, lines
assert json.loads(lines[0]) == {"error": sys.argv[2][len("flowacct: "):]}, lines' \
			"$out" "$err" || fail "$what: stdout is not the error as JSON: $out"
		;;
	*) [ -z "$out" ] || fail "$what: stdout: $out" ;;
	esac
}

test_cli_errors() {
	scratch
	local j
	for j in "" -j; do
		one_error "unknown command $j" "$FLOWACCT" $j nothing
		one_error "bad enum $j" "$FLOWACCT" $j dump --sort nothing
		one_error "bad column $j" "$FLOWACCT" $j dump -o nothing
		one_error "bad seconds $j" "$FLOWACCT" $j top --interval 1e3
		one_error "missing argument $j" "$FLOWACCT" $j attach
		one_error "option without value $j" "$FLOWACCT" $j dump --top
		one_error "not attached $j" "$FLOWACCT" $j dump fa-none0
	done
}
