# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Helpers for tests/suites/test_*.sh; sourced by tests/run.sh into each test's bash.

# The flowacct binaries under test: the default build and the clang-19 one.
# The one variable every suite runs the command through; set it in the
# environment to test another binary. Made absolute, as tests run it from
# other directories and through nsenter.
FLOWACCT=${FLOWACCT:-build/flowacct}
case $FLOWACCT in /*) ;; */*) FLOWACCT=$PWD/$FLOWACCT ;; esac
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

# ---- network namespaces for live tests --------------------------------------
#
# netns_pair: two namespaces joined by a veth pair, with 192.0.2.1/24 and
# 2001:db8::1/64 on $VA (in $NSA), .2 and ::2 on $VB (in $NSB). Names are
# random so that tests never meet each other or anything else. Everything is
# removed when the test's bash exits, failed or not: the namespaces (and with
# them the veths and whatever is attached), our pins and our lock files
# (named after each namespace's inode, see pin_dir).
#
# Run flowacct with "$INA flowacct ..." ($INA = nsenter into $NSA): nsenter
# keeps the machine's /sys/fs/bpf, where 'ip netns exec' would not.

NETNS_MADE=()
NETNS_INODES=()
SET_DIRS=()	# program sets a test pinned (test_set.sh), by their directory's name

netns_cleanup() {
	local ns ino p rc=$?
	set +e	# cleanup is best effort, and must not change the verdict
	for ns in "${NETNS_MADE[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	for p in "${SET_DIRS[@]}"; do
		rm -rf /sys/fs/bpf/flowacct/"$p"
		# A killed holder's lock, and its cache and drain files: a
		# failed test's daemon leaves them in /run/flowacct.
		rm -f /run/flowacct/"$p".lock /run/flowacct/"$p".cache \
			/run/flowacct/"$p".cache.tmp /run/flowacct/"$p".drain
	done
	# A namespace this test deleted early gave its inode number back, and
	# the next namespace made on the host (another test's, running at the
	# same time) may have it now: those pins are that test's.
	local taken
	taken=$(stat -L -c %i /run/netns/* 2>/dev/null | sort -u)
	for ino in "${NETNS_INODES[@]}"; do
		echo "$taken" | grep -x "$ino" >/dev/null && continue
		rm -rf /sys/fs/bpf/flowacct/net"$ino"-if* /sys/fs/bpf/flowacct/run-net"$ino"-*
		rm -f /run/flowacct/net"$ino"-if* /run/flowacct/run-net"$ino"-*
	done
	# The control sockets of daemons a test killed (kill -9 leaves them).
	for p in /run/flowacct/run-*.sock; do
		[ -e "$p" ] || continue
		p=${p##*/run-}
		# Gone, or a zombie not reaped yet: dead either way.
		grep -qs '^State:[[:space:]]*[^ZX]' /proc/"${p%.sock}"/status ||
			rm -f /run/flowacct/run-"$p"
	done
	for p in "${IPFIX_DOMAINS[@]}"; do
		rm -f /run/flowacct/ipfix-"$(printf %08x "$p")"-*.state
	done
	# Socket programs a daemon attached, whose daemons were all killed
	# (the kills above take a moment to land: -w): no daemon holds them,
	# so none would detach them. The lock files the daemons keep (they
	# never remove them: one removed under a daemon that opened it would
	# make two locks) go too, once no one holds them.
	# Under the daemons' own locks: the decision's, then no holder's.
	if [ -e /sys/fs/bpf/flowacct-sockets/by_run ]; then
		mkdir -p /run/flowacct
		flock -w 5 /run/flowacct/sockets.decide flock -w 2 -x /run/flowacct/sockets.lock \
			"$FLOWACCT" sockets detach >/dev/null 2>&1
	fi
	if flock -n /run/flowacct/sockets.decide flock -n -x /run/flowacct/sockets.lock true \
		2>/dev/null; then
		rm -f /run/flowacct/sockets.lock /run/flowacct/sockets.decide
	fi
	rmdir /sys/fs/bpf/flowacct /run/flowacct 2>/dev/null
	if [ -n "${SCRATCH:-}" ]; then
		# A small filesystem a test mounted there (a disk to fill).
		awk -v s="$SCRATCH/" 'index($2, s) == 1 { print $2 }' /proc/mounts |
			xargs -r -n1 umount -l
		rm -rf "$SCRATCH"
	fi
	exit $rc
}

netns_new() {
	local ns=$1
	ip netns add "$ns"
	NETNS_MADE+=("$ns")
	NETNS_INODES+=("$(stat -L -c %i /run/netns/"$ns")")
	ip -n "$ns" link set lo up
}

# netns_new_quiet NS: a namespace with IPv6 off on every interface made in
# it: nothing the kernel sends on its own (router solicitations, MLD, ND).
netns_new_quiet() {
	netns_new "$1"
	ip netns exec "$1" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 \
		net.ipv6.conf.all.disable_ipv6=1
}

# pin_dir NS DEV: where flowacct pins what it attaches to DEV of NS.
pin_dir() {
	echo "/sys/fs/bpf/flowacct/net$(stat -L -c %i /run/netns/"$1")-if$(ip -n "$1" -o link show dev "$2" | cut -d: -f1)"
}

# Sysctls that keep a link quiet: no router solicitations, no DAD, so every
# packet a test sees is one it sent (plus the ARP and ND those cause).
quiet_link() {
	local ns=$1 dev=$2
	ip netns exec "$ns" sysctl -qw net.ipv6.conf."$dev".router_solicitations=0 \
		net.ipv6.conf."$dev".accept_dad=0 net.ipv6.conf."$dev".accept_ra=0 \
		net.ipv6.conf."$dev".addr_gen_mode=1
}

# veth_link NS1 DEV1 NS2 DEV2 N: a veth pair, 192.0.2.N/24 style addresses
# from the subnet index N (0: 192.0.2.0/24 and 2001:db8::/64, 1: 198.51.100.0/24
# and 2001:db8:1::/64, 2: 203.0.113.0/24 and 2001:db8:2::/64).
veth_link() {
	local ns1=$1 d1=$2 ns2=$3 d2=$4 n=$5
	local v4=(192.0.2 198.51.100 203.0.113)
	ip link add "$d1" netns "$ns1" type veth peer name "$d2" netns "$ns2"
	quiet_link "$ns1" "$d1"
	quiet_link "$ns2" "$d2"
	ip -n "$ns1" addr add "${v4[$n]}.1/24" dev "$d1"
	ip -n "$ns2" addr add "${v4[$n]}.2/24" dev "$d2"
	ip -n "$ns1" addr add "2001:db8:$n::1/64" dev "$d1" nodad
	ip -n "$ns2" addr add "2001:db8:$n::2/64" dev "$d2" nodad
	ip -n "$ns1" link set "$d1" up
	ip -n "$ns2" link set "$d2" up
}

netns_pair() {
	local id
	id=$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')
	NSA=fa-$id-a
	NSB=fa-$id-b
	VA=fa${id}a
	VB=fa${id}b
	trap netns_cleanup EXIT
	SCRATCH=$(mktemp -d)
	netns_new "$NSA"
	netns_new "$NSB"
	veth_link "$NSA" "$VA" "$NSB" "$VB" 0
	INA="nsenter --net=/run/netns/$NSA"
	INB="nsenter --net=/run/netns/$NSB"
	# Offloads off: tcpdump then sees packets as they are on the wire, one
	# by one, which is what flowacct counts.
	$INA ethtool -K "$VA" tso off gso off gro off >/dev/null 2>&1 || true
	$INB ethtool -K "$VB" tso off gso off gro off >/dev/null 2>&1 || true
}

# capture_start NS DEV DIR FILE: tcpdump of one direction (in|out), returns
# once it is capturing. capture_stop ends all captures and waits for them.
CAPTURES=()
capture_start() {
	local ns=$1 dev=$2 dir=$3 file=$4 i
	# --immediate-mode: each packet is handed over as it comes, so none
	# waits in a ring block that is not yet full when the capture stops.
	nsenter --net=/run/netns/"$ns" tcpdump -i "$dev" -Q "$dir" -U -n -s 128 \
		-B 65536 --immediate-mode -w "$file" 2>"$file.log" &
	CAPTURES+=($!)
	CAPTURE_FILES+=("$file")
	for i in $(seq 50); do
		grep -q "listening on" "$file.log" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "tcpdump on $dev did not start: $(cat "$file.log")"
}

CAPTURE_FILES=()
capture_stop() {
	local p f
	sleep 0.3	# let the last packets reach the capture
	for p in "${CAPTURES[@]}"; do kill -INT "$p" 2>/dev/null; done
	for p in "${CAPTURES[@]}"; do wait "$p" 2>/dev/null || true; done
	CAPTURES=()
	# A capture that lost packets is no oracle.
	for f in "${CAPTURE_FILES[@]}"; do
		grep -q "^0 packets dropped by kernel" "$f.log" ||
			fail "tcpdump lost packets: $(cat "$f.log")"
	done
	CAPTURE_FILES=()
}

# ---- flowacct run under test -------------------------------------------------

# layout_arg ARGS...: "--layout $LAYOUT" (default iface: the suites written
# for a daemon's interfaces attached alone), unless ARGS say a layout or
# LAYOUT is "-" (a flowacct older than layouts).
layout_arg() {
	case " $* " in
	*" --layout "*) ;;
	*) [ "${LAYOUT:-iface}" = - ] || echo "--layout ${LAYOUT:-iface}" ;;
	esac
}

# run_start NS ARGS...: starts `flowacct run` in NS's namespace, records
# appended to $SCRATCH/rec.json, messages to $SCRATCH/run.log (and to a log
# of this start alone); returns once it runs.
RUN_PID=
RUN_STARTS=0
IPFIX_DOMAINS=()
run_start() {
	local ns=$1 i log
	shift
	RUN_STARTS=$((RUN_STARTS + 1))
	log=$SCRATCH/run.$RUN_STARTS.log
	# shellcheck disable=SC2046 # two words, or none
	nsenter --net=/run/netns/"$ns" "$(realpath "$FLOWACCT")" run $(layout_arg "$@") "$@" \
		--json "$SCRATCH/rec.json" 2>"$log" &
	RUN_PID=$!
	for i in $(seq 200); do
		if grep -q "running on" "$log" 2>/dev/null; then
			cat "$log" >>"$SCRATCH/run.log"
			# Its IPFIX numbering, kept under /run: for netns_cleanup.
			IPFIX_DOMAINS+=($(sed -n 's/.*(domain \([0-9]*\)).*/\1/p' "$log"))
			return 0
		fi
		if ! kill -0 $RUN_PID 2>/dev/null; then
			local rc=0
			wait $RUN_PID || rc=$?
			fail "run exited $rc: $(cat "$log")"
		fi
		sleep 0.05
	done
	fail "run did not start: $(cat "$log")"
}

# run_stop [SIGNAL]: stops it; it must exit 0 on SIGTERM.
run_stop() {
	local rc=0
	kill -"${1:-TERM}" $RUN_PID
	wait $RUN_PID || rc=$?
	[ "${1:-TERM}" != TERM ] || [ $rc = 0 ] ||
		fail "run exited $rc on SIGTERM: $(tail -5 "$SCRATCH/run.log")"
	RUN_PID=
}

# Neighbours resolved before the raw sender starts: a datagram sent while
# ARP is pending may be dropped before any hook sees it.
warm_up() {
	# -w: keep asking until one answer (a link just up may miss the first)
	$INA ping -q -c 1 -w 5 192.0.2.2 >/dev/null
	$INA ping -q -6 -c 1 -w 5 2001:db8::2 >/dev/null
}

# tcx_progs NS DEV: the programs on DEV's TCX hooks, one "DIRECTION NAME"
# line each, in the order they run (Debian 12's bpftool cannot show TCX).
TCX_QUERY=$PWD/build/tests/tcx_query
tcx_progs() {
	local dir
	for dir in ingress egress; do
		nsenter --net=/run/netns/"$1" "$TCX_QUERY" "$2" $dir 2>/dev/null |
			awk -v d=$dir '{ print d, $3 }' || true
	done
}

# After a daemon that attached stops: nothing of ours on the interface.
assert_nothing_left() {
	local ns=$1 dev=$2
	tcx_progs "$ns" "$dev" | grep -q flowacct &&
		fail "a flowacct TCX link is left on $dev: $(tcx_progs "$ns" "$dev")"
	ip netns exec "$ns" tc filter show dev "$dev" ingress | grep -q flowacct &&
		fail "a flowacct filter is left on $dev ingress"
	ip netns exec "$ns" tc filter show dev "$dev" egress | grep -q flowacct &&
		fail "a flowacct filter is left on $dev egress"
	[ ! -e "$(pin_dir "$ns" "$dev")" ] || fail "pins left behind"
	return 0
}

# records_where FILE PYTHON-EXPR: the records (dicts r) for which EXPR holds
# (a line a kill cut short is no record).
records_where() {
	python3 - "$1" "$2" <<-'EOF'
	import json, sys
	for line in open(sys.argv[1]):
	    try:
	        r = json.loads(line)
	    except ValueError:
	        continue
	    if r.get("type") == "flow" and eval(sys.argv[2], {"r": r}):
	        print(json.dumps(r))
	EOF
}

# crash_at SYSCALL WHEN NTH RUN-ARGS...: `flowacct run $VA RUN-ARGS` in $NSA
# under strace, held at its NTH call of SYSCALL (WHEN: delay_enter, before
# the call; delay_exit, after it returned) and killed -9 there. Records go
# to $SCRATCH/rec.json, as with run_start.
crash_at() {
	local sys=$1 when=$2 nth=$3 pid i log=$SCRATCH/strace.$1.$2.log
	shift 3
	nsenter --net=/run/netns/"$NSA" strace -f -qq -o /dev/null -e trace="$sys" \
		-e inject="$sys":"$when"=8000000:when="$nth" \
		"$(realpath "$FLOWACCT")" run "$VA" $(layout_arg "$@") "$@" --json "$SCRATCH/rec.json" \
		2>"$log" &
	local tracer=$!
	for i in $(seq 100); do
		pid=$(fa_daemon_pid)
		[ -n "$pid" ] && grep -q "running on" "$log" && break
		sleep 0.05
	done
	[ -n "$pid" ] || fail "the daemon under strace did not start: $(cat "$log")"
	# Held there: long enough for a tick to be under way.
	sleep 1.5
	kill -9 "$pid"
	# strace would sit out its delay before it notices.
	kill -9 $tracer 2>/dev/null || true
	wait $tracer 2>/dev/null || true
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	echo "killed at call $nth of $sys ($when)"
}

# old_crash_build DIR: OLD_FA, the crash-point build of an earlier release
# that tests/bench/bench.mk unpacks in DIR (build/*-start/src), built on
# first use (its log in $SCRATCH: after netns_pair).
old_crash_build() {
	local src=$1
	OLD_FA=$src/build/tests/flowacct-crash
	if [ ! -x "$OLD_FA" ]; then
		[ -f "$src/Makefile" ] || fail "no $src (make tests unpacks it)"
		make -s -j2 -C "$src" build/tests/flowacct-crash >"$SCRATCH/make.log" 2>&1 ||
			fail "can't build the release before: $(tail -5 "$SCRATCH/make.log")"
	fi
}

# old_files_are DRAIN CACHE: the files a daemon killed after a drain left
# under /run/flowacct are of versions DRAIN and CACHE, the drain done and
# holding rows (what a conversion must keep).
old_files_are() {
	python3 - "$1" "$2" <<-'EOF' || fail "not the old release's files"
	import glob, struct, sys
	d = open(glob.glob("/run/flowacct/run-net*.drain")[0], "rb").read(40)
	c = open(glob.glob("/run/flowacct/run-net*.cache")[0], "rb").read(8)
	v, state, nrows = struct.unpack("<I", d[4:8])[0], *struct.unpack("<IQ", d[24:28] + d[32:40])
	cv = struct.unpack("<I", c[4:8])[0]
	print("drain file version %d, state %d, %d rows; cache file version %d" % (v, state, nrows, cv))
	sys.exit(0 if v == int(sys.argv[1]) and state == 2 and nrows and cv == int(sys.argv[2]) else 1)
	EOF
}

# crash_point NS POINT BINARY RUN-ARGS...: `BINARY run RUN-ARGS` in NS, a
# build with crash points (FA_CRASH_POINT) that kills itself at POINT
# ("name:nth"); records appended to $SCRATCH/rec.json. Fails unless it
# died there, by its own kill.
crash_point() {
	local ns=$1 point=$2 bin=$3 log=$SCRATCH/crash.$2.log rc=0 pid
	shift 3
	FLOWACCT_CRASH_AT=$point nsenter --net=/run/netns/"$ns" "$bin" run "$@" \
		--json "$SCRATCH/rec.json" 2>"$log" &
	pid=$!
	for _ in $(seq 200); do
		kill -0 $pid 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 $pid 2>/dev/null; then
		kill -9 $pid
		wait $pid 2>/dev/null || true
		fail "the daemon never reached crash point $point: $(cat "$log")"
	fi
	wait $pid || rc=$?
	[ $rc = 137 ] || fail "crash point $point: exit $rc, not its kill: $(cat "$log")"
	echo "killed at $point"
}

# The pid of the daemon that holds $VA's lock, from the lock file (asking
# the daemon itself would wait for one that strace holds).
fa_daemon_pid() {
	local f
	f=/run/flowacct/$(basename "$(pin_dir "$NSA" "$VA")").lock
	[ -s "$f" ] && cut -d' ' -f1 "$f"
	return 0
}
