# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# What a new user hits in the first hour, each a regression test of a defect
# once found: renames, privileges, attach killed or failing at any syscall,
# capture's pipe, lock, detach and duration, error output, limits, the
# version, one interface name in two namespaces, and the attach options
# that attach and run share.

ALL_TESTS="test_lifecycle_rename test_lifecycle_privileges
	test_lifecycle_attach_killed_anywhere test_lifecycle_attach_failing_anywhere
	test_lifecycle_capture test_lifecycle_errors test_lifecycle_same_name_two_netns
	test_lifecycle_attach_options test_lifecycle_run_attach_options"

# kernel_state NS DEV: what is on DEV, as the kernel tells it (not flowacct):
# the XDP program, the qdiscs, the filters of each direction, the TCX
# programs; and the pins.
kernel_state() {
	local ns=$1 dev=$2
	ip -n "$ns" -d link show dev "$dev" | grep -o "prog/xdp.*" | sed 's/ id [0-9]*//g' || true
	ip netns exec "$ns" tc qdisc show dev "$dev" | sed 's/refcnt [0-9]*//'
	for dir in ingress egress; do
		ip netns exec "$ns" tc filter show dev "$dev" $dir | grep -o "flowacct[a-z_]*" || true
	done
	tcx_progs "$ns" "$dev" | sed 's/^/tcx /'
	[ -e "$(pin_dir "$ns" "$dev")" ] && echo "pins" || true
}

# ---- 1. rename ----------------------------------------------------------------

test_lifecycle_rename() {
	netns_pair
	local msg before
	before=$(kernel_state "$NSA" "$VA")
	$INA "$FLOWACCT" attach "$VA" >/dev/null
	$INA ping -q -c 3 -i 0.1 192.0.2.2 >/dev/null
	ip -n "$NSA" link set "$VA" name faren0
	# The attachment follows the interface: status and dump by the new name.
	$INA "$FLOWACCT" status | grep -q "^faren0 " || fail "status lost the renamed interface: $($INA "$FLOWACCT" status)"
	$INA "$FLOWACCT" -j dump faren0 | python3 -c 'import json, sys
d = json.load(sys.stdin)
n = sum(f["packets"] for f in d["flows"] if f["proto"] == 1)
print("ICMP packets after the rename:", n)
sys.exit(n < 6)' || fail "dump lost the flows"
	# The old name is not ours to detach; the new one is, whole.
	msg=$(expect_fail "detach by the old name" $INA "$FLOWACCT" detach "$VA")
	echo "$msg" | grep -q "called 'faren0' now" || fail "$msg"
	[[ $(kernel_state "$NSA" faren0) == *flowacct* ]] || fail "the refused detach removed something"
	$INA "$FLOWACCT" detach faren0 >/dev/null
	ip -n "$NSA" link set faren0 name "$VA"
	[ "$(kernel_state "$NSA" "$VA")" = "$before" ] ||
		fail "detach left: $(kernel_state "$NSA" "$VA")"
}

# ---- 2. privileges --------------------------------------------------------------

test_lifecycle_privileges() {
	netns_pair
	local msg before
	before=$(kernel_state "$NSA" "$VA")
	# Not root, but every capability the kernel asks for: pins are root's.
	msg=$(expect_fail "capabilities without root" $INA setpriv --reuid=65534 --regid=65534 \
		--clear-groups --inh-caps=+bpf,+net_admin,+perfmon \
		--ambient-caps=+bpf,+net_admin,+perfmon "$FLOWACCT" attach "$VA")
	echo "$msg" | grep -q "needs root: uid 0 with CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON (missing: uid 0)" ||
		fail "$msg"
	# Root without CAP_PERFMON (the verifier needs it for these programs;
	# CAP_SYS_ADMIN would stand in for it).
	msg=$(expect_fail "root without CAP_PERFMON" $INA setpriv --inh-caps=-perfmon,-sys_admin \
		--bounding-set=-perfmon,-sys_admin "$FLOWACCT" attach "$VA")
	echo "$msg" | grep -q "missing: CAP_PERFMON" || fail "$msg"
	msg=$(expect_fail "replay unprivileged" setpriv --reuid=65534 --regid=65534 \
		--clear-groups "$FLOWACCT" replay pcaps/basic.pcap)
	echo "$msg" | grep -q "replay needs CAP_BPF" || fail "$msg"
	[ "$(kernel_state "$NSA" "$VA")" = "$before" ] || fail "something was attached"
}

# ---- 3. attach killed, or failing, at each syscall ---------------------------------

# The syscalls of an attach, in order, one strace line each (pid prefix
# dropped), for `attach $VA ARGS...`; the attach is undone afterwards.
attach_syscalls() {
	$INA strace -f -qq -o "$SCRATCH/attach.strace" "$FLOWACCT" attach "$VA" "$@" >/dev/null
	$INA "$FLOWACCT" detach "$VA" >/dev/null
	sed -E 's/^[0-9]+ +//' "$SCRATCH/attach.strace" | grep -E '^[a-z_0-9]+\('
}

# Points where a kill can leave a different state, as "name occurrence"
# (strace's when= counts every call of that name). A kill closes every
# descriptor, so what lives only in one (a socket, a map or program not yet
# pinned, a link) goes either way: the state outside the process changes
# only at a call that pins, attaches, writes a pinned map or a file, makes
# a directory or talks netlink. The points are just before each such call
# and just after it (the entry of the next call).
kill_points() {
	python3 -c '
import re, sys
def changes(line):
    name = line.split("(", 1)[0]
    if name == "bpf":
        return re.search(r"BPF_(OBJ_PIN|LINK_CREATE|LINK_UPDATE|PROG_ATTACH|"
                         r"MAP_UPDATE_ELEM|MAP_DELETE_ELEM|MAP_UPDATE_BATCH|"
                         r"MAP_DELETE_BATCH)", line) is not None
    if name in ("openat", "open"):
        return "O_CREAT" in line or "O_WRONLY" in line or "O_RDWR" in line
    return name in ("sendto", "sendmsg", "mkdir", "mkdirat", "ftruncate", "write",
                    "pwrite64", "unlink", "unlinkat", "rmdir", "rename", "renameat",
                    "renameat2", "flock", "mount")
lines = [l.strip() for l in sys.stdin if l.strip()]
seen, occ = {}, []
for l in lines:
    name = l.split("(", 1)[0]
    seen[name] = seen.get(name, 0) + 1
    occ.append((name, seen[name]))
done = set()
for i, l in enumerate(lines):
    if not changes(l):
        continue
    for p in occ[i:i + 2]:
        if p not in done:
            done.add(p)
            print(*p)
'
}

# attach_tampered WHAT ARGS...: attach with each point of kill_points
# tampered by strace (WHAT: "signal=KILL" or "error=EPERM"); after each,
# status must say what the kernel has, and detach must bring back exactly
# what was there before the attach.
attach_tampered() {
	local what=$1 name n points before after listed has tried=0
	shift
	before=$(kernel_state "$NSA" "$VA")
	points=$(attach_syscalls "$@" | kill_points)
	echo "$(echo "$points" | wc -l) points in an attach $*"
	while read -r name n; do
		tried=$((tried + 1))
		# In a subshell: its shell, not ours, reports the kill.
		( $INA strace -f -qq -o /dev/null -e trace="$name" \
			-e inject="$name:$what:when=$n" "$FLOWACCT" attach "$VA" "$@" \
			>/dev/null 2>"$SCRATCH/attach.err" ) 2>/dev/null || true
		after=$(kernel_state "$NSA" "$VA")
		# status tells the truth: an interface with anything of ours on
		# it is listed (as an attachment, or as unrecorded), and one
		# with nothing is not. (Only this namespace's: the other half
		# of the test runs beside this one, in namespaces of its own.)
		listed=$($INA "$FLOWACCT" -j status | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(sum(i["this_netns"] for i in d["interfaces"]) + len(d["unrecorded"]))')
		has=0
		[ "$after" = "$before" ] || has=1
		if [ "$has" = 1 ] && [ "$listed" = 0 ]; then
			fail "$what at $name #$n: status lists nothing, the kernel has: $after"
		fi
		if [ "$has" = 0 ] && [ "$listed" != 0 ]; then
			fail "$what at $name #$n: status lists $($INA "$FLOWACCT" status), the kernel has nothing"
		fi
		if [ "$listed" != 0 ]; then
			$INA "$FLOWACCT" detach "$VA" >/dev/null 2>"$SCRATCH/detach.err" ||
				fail "$what at $name #$n: detach failed: $(cat "$SCRATCH/detach.err")"
		fi
		after=$(kernel_state "$NSA" "$VA")
		[ "$after" = "$before" ] ||
			fail "$what at $name #$n, then detach: left $after (attach said: $(cat "$SCRATCH/attach.err"))"
	done <<<"$points"
	echo "$tried points, every one told and undone"
}

# both_ingress FUNC: FUNC tc and FUNC xdp at once, each in a subshell with
# a namespace pair of its own (each attach is mostly the verifier, on one
# CPU); both outputs shown, and a failure if either failed.
both_ingress() {
	local dir rc=0 tc xdp
	dir=$(mktemp -d)
	( netns_pair; "$1" tc ) >"$dir/tc.log" 2>&1 &
	tc=$!
	( netns_pair; "$1" xdp ) >"$dir/xdp.log" 2>&1 &
	xdp=$!
	wait $tc || rc=1
	wait $xdp || rc=1
	cat "$dir/tc.log" "$dir/xdp.log"
	rm -rf "$dir"
	[ $rc = 0 ] || fail "$1: see above"
}

killed_anywhere() {
	attach_tampered signal=KILL --ingress "$1"
}

test_lifecycle_attach_killed_anywhere() {
	both_ingress killed_anywhere
}

# An error at a syscall must roll the attach back by itself: nothing left
# for detach to do.
failing_anywhere() {
	local ingress=$1 name n points before tried=0
	before=$(kernel_state "$NSA" "$VA")
	# Not brk: the kernel's brk cannot fail with an error (it returns the
	# old break), and glibc takes an injected -EPERM for a new break,
	# which corrupts its heap.
	points=$(attach_syscalls --ingress "$ingress" | kill_points | grep -v '^brk ')
	while read -r name n; do
		tried=$((tried + 1))
		if $INA strace -f -qq -o /dev/null -e trace="$name" \
			-e inject="$name:error=EPERM:when=$n" "$FLOWACCT" attach "$VA" \
			--ingress "$ingress" >/dev/null 2>"$SCRATCH/attach.err"; then
			# Some calls may fail harmlessly (a probe): then it is
			# attached whole, and detached here.
			$INA "$FLOWACCT" detach "$VA" >/dev/null
		else
			[ "$(grep -c . "$SCRATCH/attach.err")" = 1 ] ||
				fail "EPERM at $name #$n: not one line: $(cat "$SCRATCH/attach.err")"
		fi
		[ "$(kernel_state "$NSA" "$VA")" = "$before" ] ||
			fail "EPERM at $name #$n: left $(kernel_state "$NSA" "$VA") ($(cat "$SCRATCH/attach.err"))"
	done <<<"$points"
	echo "--ingress $ingress: $tried failing syscalls, each rolled back"
}

test_lifecycle_attach_failing_anywhere() {
	both_ingress failing_anywhere
}

# ---- 4-7. capture ---------------------------------------------------------------------

test_lifecycle_capture() {
	netns_pair
	local msg t0 t1 pid rc
	$INA "$FLOWACCT" attach "$VA" --sample 1 >/dev/null
	$INA ping -q -c 400 -i 0.005 192.0.2.2 >/dev/null &
	# A closed pipe: a one-line error at the first failed write, soon.
	rc=0
	timeout 10 $INA "$FLOWACCT" capture "$VA" -w - 2>"$SCRATCH/pipe.err" | head -c 100 >/dev/null ||
		rc=$?
	msg=$(cat "$SCRATCH/pipe.err")
	echo "$msg"
	[ "$(grep -c . "$SCRATCH/pipe.err")" = 1 ] || fail "closed pipe: $msg"
	echo "$msg" | grep -q "Broken pipe" || fail "closed pipe: $msg"
	wait
	# A second capture is refused, naming the first; the first counts
	# every loss.
	$INA "$FLOWACCT" capture "$VA" -w "$SCRATCH/one.pcap" --duration 2 2>"$SCRATCH/one.err" &
	pid=$!
	sleep 0.5
	msg=$(expect_fail "a second capture" $INA "$FLOWACCT" capture "$VA" -w /dev/null)
	echo "$msg" | grep -q "in use by flowacct capture (pid [0-9]*)" || fail "$msg"
	$INA ping -q -c 50 -i 0.01 192.0.2.2 >/dev/null
	wait $pid || fail "the first capture failed: $(cat "$SCRATCH/one.err")"
	cat "$SCRATCH/one.err"
	# 100 frames of the ping (50 out, 50 in), written or counted lost.
	python3 - "$SCRATCH/one.err" "$SCRATCH/one.pcap" <<-'EOF' || fail "samples went missing"
	import re, subprocess, sys
	m = re.search(r"(\d+) samples written .*, (\d+) lost", open(sys.argv[1]).read())
	written, lost = int(m.group(1)), int(m.group(2))
	icmp = subprocess.run(["tshark", "-r", sys.argv[2], "-Y", "icmp"], capture_output=True,
	                      text=True).stdout.count("\n")
	print("written", written, "lost", lost, "ICMP in the file", icmp)
	sys.exit(0 if written + lost >= 100 and icmp + lost >= 100 else 1)
	EOF
	# Fractional durations, kept to.
	t0=$(date +%s%N)
	$INA "$FLOWACCT" capture "$VA" -w /dev/null --duration 0.5 2>/dev/null
	t1=$(date +%s%N)
	python3 -c 'import sys; d = (int(sys.argv[2]) - int(sys.argv[1])) / 1e9
print("--duration 0.5 took %.2f s" % d); sys.exit(not 0.45 <= d <= 0.9)' "$t0" "$t1" ||
		fail "--duration 0.5 not kept"
	# Detached under it: it stops, and says so.
	$INA "$FLOWACCT" capture "$VA" -w /dev/null 2>"$SCRATCH/det.err" &
	pid=$!
	sleep 0.5
	$INA "$FLOWACCT" detach "$VA" >/dev/null
	for _ in $(seq 50); do
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	kill -0 $pid 2>/dev/null && fail "capture went on after the detach"
	wait $pid || true
	grep -q "was detached: capture stopped" "$SCRATCH/det.err" ||
		fail "capture did not say why it stopped: $(cat "$SCRATCH/det.err")"
}

# ---- 8-11. errors ----------------------------------------------------------------------

# Every error is one line on stderr and nothing on stdout; with -j, the
# same line as {"error":...} on stdout too. Success with -j prints JSON.
test_lifecycle_errors() {
	netns_pair
	local msg out
	$INA "$FLOWACCT" attach "$VA" >/dev/null
	_one_error() {
		local what=$1 err
		shift
		out=$("$@" 2>"$SCRATCH/err") && fail "$what: succeeded"
		err=$(cat "$SCRATCH/err")
		[ "$(grep -c . "$SCRATCH/err")" = 1 ] || fail "$what: stderr is not one line: $err"
		echo "$err"
	}
	_one_error "empty group" $INA "$FLOWACCT" dump "$VA" --group-by ""
	[ -z "$out" ] || fail "output with the error: $out"
	_one_error "set without a setting" $INA "$FLOWACCT" set "$VA"
	[ -z "$out" ] || fail "set printed usage on stdout: $out"
	_one_error "status with an argument" $INA "$FLOWACCT" status extra
	[ -z "$out" ] || fail "status printed: $out"
	_one_error "unknown option" $INA "$FLOWACCT" --bogus
	[ -z "$out" ] || fail "usage on stdout: $out"
	_one_error "unknown option, -j" $INA "$FLOWACCT" -j --bogus
	echo "$out" | python3 -c 'import json, sys; assert "error" in json.load(sys.stdin)' ||
		fail "-j: no JSON error: $out"
	_one_error "bad value, -j" $INA "$FLOWACCT" -j dump "$VA" --sort nothing
	echo "$out" | python3 -c 'import json, sys; assert "error" in json.load(sys.stdin)' ||
		fail "-j: no JSON error: $out"
	msg=$(_one_error "largest max-flows" $INA "$FLOWACCT" attach faX9 --max-flows 4294967295)
	echo "$msg" | grep -q "from 1 to 134217728" || fail "$msg"
	# Success with -j says so in JSON.
	out=$($INA "$FLOWACCT" -j set "$VA" sample 0)
	echo "$out" | python3 -c 'import json, sys; assert json.load(sys.stdin)["iface"]' ||
		fail "-j set: $out"
	out=$($INA "$FLOWACCT" -j detach "$VA")
	echo "$out" | python3 -c 'import json, sys; assert json.load(sys.stdin)["detached"]' ||
		fail "-j detach: $out"
	# The version.
	"$FLOWACCT" --version | grep -qE '^flowacct [0-9]' || fail "--version: $("$FLOWACCT" --version)"
	"$FLOWACCT" -j --version | python3 -c 'import json, sys; assert json.load(sys.stdin)["version"]' ||
		fail "-j --version"
}

# ---- 12. one name, two namespaces -------------------------------------------------------

# Container hosts have an eth0 in every namespace: pins are named by the
# namespace and ifindex, so both attach, and each namespace sees its own.
test_lifecycle_same_name_two_netns() {
	netns_pair
	local ns2=${NSA}2
	netns_new "$ns2"
	ip -n "$NSA" link add fadup0 type veth peer name fadup1
	ip -n "$NSA" link set fadup1 netns "$ns2"
	ip -n "$ns2" link set fadup1 name fadup0
	ip -n "$NSA" link set fadup0 up
	ip -n "$ns2" link set fadup0 up
	$INA "$FLOWACCT" attach fadup0 >/dev/null
	nsenter --net=/run/netns/"$ns2" "$FLOWACCT" attach fadup0 >/dev/null
	# Each sees both, its own live, the other's as of another namespace.
	[ "$($INA "$FLOWACCT" status | grep -c '^fadup0 .* yes ')" = 1 ] || fail "A's status"
	[ "$(nsenter --net=/run/netns/"$ns2" "$FLOWACCT" status | grep -c '^fadup0 .* yes ')" = 1 ] || fail "B's status"
	$INA "$FLOWACCT" detach fadup0 >/dev/null
	[ "$(nsenter --net=/run/netns/"$ns2" "$FLOWACCT" status | grep -c '^fadup0 .* yes ')" = 1 ] ||
		fail "detaching A's fadup0 touched the other namespace's"
	nsenter --net=/run/netns/"$ns2" "$FLOWACCT" detach fadup0 >/dev/null
	[[ $(kernel_state "$NSA" fadup0) != *flowacct* ]] || fail "A: left"
	[[ $(kernel_state "$ns2" fadup0) != *flowacct* ]] || fail "B: left"
}

# ---- 13. one set of attach options ------------------------------------------------------

# A device without native XDP in $NSA, for the driver hint: its own
# loopback (the machine has no dummy module).
lo_up() {
	ip -n "$NSA" link set lo up
}

# What attach refuses, and the line it says it with; nothing is left behind.
test_lifecycle_attach_options() {
	netns_pair
	lo_up
	local msg out before
	before=$(kernel_state "$NSA" "$VA")
	msg=$(expect_fail "--mode with --ingress tc" $INA "$FLOWACCT" attach "$VA" --ingress tc --mode skb)
	[ "$msg" = "flowacct: --mode is for XDP at ingress; it does not go with --ingress tc" ] ||
		fail "attach --ingress tc --mode skb: $msg"
	msg=$(expect_fail "native XDP on lo" $INA "$FLOWACCT" attach lo --ingress xdp)
	[ "$msg" = "flowacct: the driver of 'lo' does not support native XDP; try --mode skb or --ingress tc" ] ||
		fail "attach --ingress xdp on lo: $msg"
	[ "$(kernel_state "$NSA" "$VA")" = "$before" ] || fail "a refused attach left: $(kernel_state "$NSA" "$VA")"
	[[ $(kernel_state "$NSA" lo) != *flowacct* && $(kernel_state "$NSA" lo) != *pins* ]] ||
		fail "the failed attach left: $(kernel_state "$NSA" lo)"
	# The same with -j: the error as one JSON document on stdout.
	out=$($INA "$FLOWACCT" -j attach "$VA" --ingress tc --mode skb 2>/dev/null) && fail "-j: succeeded"
	echo "$out" | python3 -c 'import json, sys
assert json.load(sys.stdin) == {"error": "--mode is for XDP at ingress; it does not go with --ingress tc"}' ||
		fail "-j attach --ingress tc --mode skb: $out"
	# detach -j: one JSON document, its one key; also for programs no record names.
	$INA "$FLOWACCT" attach "$VA" >/dev/null
	out=$($INA "$FLOWACCT" -j detach "$VA")
	echo "$out" | python3 -c "import json, sys
assert json.load(sys.stdin) == {'detached': '$VA'}" || fail "-j detach: $out"
	# Filters outlive their pins (TCX links do not: test_tcx.sh).
	$INA "$FLOWACCT" attach "$VA" --tc-api clsact >/dev/null
	rm -r "$(pin_dir "$NSA" "$VA")"
	out=$($INA "$FLOWACCT" -j detach "$VA")
	echo "$out" | python3 -c "import json, sys
assert json.load(sys.stdin) == {'detached': '$VA'}" || fail "-j detach without a record: $out"
	# Without the record, the clsact qdisc is not known to be ours: it stays.
	[[ $(kernel_state "$NSA" "$VA") != *flowacct* ]] || fail "detach left: $(kernel_state "$NSA" "$VA")"
	out=$($INA "$FLOWACCT" -j detach "$VA" 2>/dev/null) && fail "-j detach of nothing: succeeded"
	echo "$out" | python3 -c "import json, sys
assert json.load(sys.stdin) == {'error': \"'$VA' is not attached\"}" || fail "-j detach of nothing: $out"
}

# run takes the same attach options as attach and refuses what attach
# refuses, with the same line, attaching nothing.
test_lifecycle_run_attach_options() {
	netns_pair
	lo_up
	local msg want before
	before=$(kernel_state "$NSA" "$VA")
	want="flowacct: --mode is for XDP at ingress; it does not go with --ingress tc"
	msg=$(expect_fail "run --ingress tc --mode skb" timeout 10 $INA "$FLOWACCT" run --layout iface \
		--ingress tc --mode skb "$VA" --json "$SCRATCH/rec.json")
	[ "$msg" = "$want" ] || fail "run --ingress tc --mode skb: $msg"
	[ "$(kernel_state "$NSA" "$VA")" = "$before" ] || fail "run left: $(kernel_state "$NSA" "$VA")"
	want="flowacct: the driver of 'lo' does not support native XDP; try --mode skb or --ingress tc"
	msg=$(expect_fail "run --ingress xdp on lo" timeout 10 $INA "$FLOWACCT" run --layout iface \
		--ingress xdp lo --json "$SCRATCH/rec.json")
	[ "$msg" = "$want" ] || fail "run --ingress xdp on lo: $msg"
	[[ $(kernel_state "$NSA" lo) != *flowacct* && $(kernel_state "$NSA" lo) != *pins* ]] ||
		fail "the failed run left: $(kernel_state "$NSA" lo)"
}
