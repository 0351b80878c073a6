# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Who and how well: flow rows joined to their socket (cookie, process,
# cgroup), the socket's TCP metrics, and retransmissions counted from the
# packets, against ss, nstat, iperf3 and what the test itself started.

ALL_TESTS="test_sockets_join test_sockets_adopt test_sockets_retrans
	test_sockets_forwarded test_sockets_prtt_reordered test_sockets_rtt test_sockets_run test_sockets_tuple
	test_sockets_errors test_sockets_json test_sockets_daemons"

DROP_OBJ=$PWD/build/tests/progs/drop_segs.bpf.o
DROP_COUNT=5	# tests/progs/drop_segs.bpf.c

# sockets_free: fails if someone else's socket programs are attached (not
# ours to replace or detach); then sets the EXIT trap that detaches ours.
sockets_free() {
	if "$FLOWACCT" sockets status | grep -q 'attached at'; then
		fail "the socket programs are attached already: not ours to replace"
	fi
	trap 'sockets_off; netns_cleanup' EXIT
}

# sockets_on: the host-wide socket programs, detached again at exit with
# everything netns_pair made.
sockets_on() {
	sockets_free
	"$FLOWACCT" sockets attach >/dev/null
}

# The cgroup v2 path of the test's own processes (the root, unless the
# harness runs in a service or session cgroup): what the servers it starts
# without moving them show.
own_cgroup() {
	sed -n 's/^0:://p' /proc/self/cgroup
}

# The EXIT trap: keeps the test's status for netns_cleanup, which exits with it.
sockets_off() {
	local rc=$? pid
	set +e
	for pid in ${BG_PIDS:-}; do
		kill "$pid" 2>/dev/null || true
	done
	"$FLOWACCT" sockets detach >/dev/null 2>&1 || true
	if [ -n "${CG:-}" ]; then
		# Empty once the processes the test moved in have gone.
		for _ in $(seq 50); do rmdir "$CG" 2>/dev/null && break; sleep 0.1; done
		rmdir "$CG_TOP" 2>/dev/null
	fi
	(exit $rc)
}

# ss_json NS: every TCP socket of NS as JSON lines (from ss -tinpe).
ss_json() {
	nsenter --net=/run/netns/"$1" ss -tinpeH | python3 tests/checkers/ss_parse.py
}

# check_iperf3_client PID [CHECK-ARGS...]: A's rows against ss, for the
# iperf3 client PID (in the test's own cgroup), with live socket metrics.
check_iperf3_client() {
	local pid=$1
	shift
	ss_json "$NSA" >"$SCRATCH/ss_a"
	$INA "$FLOWACCT" -j dump >"$SCRATCH/dump_a"
	python3 tests/checkers/check_sockets.py join --dump "$SCRATCH/dump_a" --ss "$SCRATCH/ss_a" \
		--expect "iperf3:$pid:-:$(own_cgroup)" --listeners "" --min-rows 2 --metrics "$@"
}

# Rows, ss and what the test knows, checked by tests/checkers/check_sockets.py.
test_sockets_join() {
	netns_pair
	sockets_on
	local root cgino cid cgpath
	root=$("$FLOWACCT" -j sockets status | python3 -c 'import json,sys; print(json.load(sys.stdin)["cgroup"])')
	# Laid out as docker's systemd driver names a container's cgroup.
	cid=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	cgpath=/fa-test-$$/docker-$cid.scope
	CG_TOP=$root/fa-test-$$
	CG=$root$cgpath
	mkdir -p "$CG"
	cgino=$(stat -c %i "$CG")
	$INA "$FLOWACCT" attach "$VA" --attribution >/dev/null
	$INB "$FLOWACCT" attach "$VB" --attribution >/dev/null

	# Servers in B: iperf3 (listen()), socat forking servers (IPv4, IPv6):
	# the connections their children serve show the listener.
	# No timeout(1) around them: it would be their parent, and the pids
	# must be theirs. The cleanup ends them (and the namespaces' others).
	$INB iperf3 -s -1 -p 5201 >/dev/null &
	local srv_iperf=$!
	$INB socat TCP4-LISTEN:7000,fork,reuseaddr EXEC:cat &
	local srv_socat4=$!
	$INB socat TCP6-LISTEN:7001,fork,reuseaddr,ipv6only EXEC:cat &
	local srv_socat6=$!
	$INB socat -u UDP4-RECV:7002 OPEN:/dev/null,wronly &
	BG_PIDS="$srv_iperf $srv_socat4 $srv_socat6 $!"
	sleep 0.5
	# Clients in A, moved into $CG first: the sockets are created there.
	sh -c 'echo $$ > "$1"/cgroup.procs; exec nsenter --net=/run/netns/"$2" iperf3 -c 192.0.2.2 -p 5201 -t 3 -b 20M' \
		_ "$CG" "$NSA" >/dev/null &
	local cli_iperf=$!
	printf 'while :; do echo hi; sleep 0.2; done\n' >"$SCRATCH/talk.sh"
	sh -c 'echo $$ > "$1"/cgroup.procs; exec nsenter --net=/run/netns/"$2" socat EXEC:"sh $3" TCP4:192.0.2.2:7000' \
		_ "$CG" "$NSA" "$SCRATCH/talk.sh" >/dev/null &
	local cli_socat4=$!
	sh -c 'echo $$ > "$1"/cgroup.procs; exec nsenter --net=/run/netns/"$2" socat EXEC:"sh $3" TCP6:[2001:db8::2]:7001' \
		_ "$CG" "$NSA" "$SCRATCH/talk.sh" >/dev/null &
	local cli_socat6=$!
	# UDP: its process from cgroup/sock_create, by the cookie TC egress noted.
	sh -c 'echo $$ > "$1"/cgroup.procs; exec nsenter --net=/run/netns/"$2" socat -u EXEC:"sh $3" UDP4:192.0.2.2:7002' \
		_ "$CG" "$NSA" "$SCRATCH/talk.sh" >/dev/null &
	local cli_udp=$!
	BG_PIDS="$BG_PIDS $cli_iperf $cli_socat4 $cli_socat6 $cli_udp"
	sleep 1.5
	ss_json "$NSA" >"$SCRATCH/ss_a"
	ss_json "$NSB" >"$SCRATCH/ss_b"
	$INA "$FLOWACCT" -j dump >"$SCRATCH/dump_a"
	$INB "$FLOWACCT" -j dump >"$SCRATCH/dump_b"
	python3 tests/checkers/check_sockets.py join \
		--dump "$SCRATCH/dump_a" --ss "$SCRATCH/ss_a" \
		--expect "iperf3:$cli_iperf:$cgino:$cgpath:$cid" \
		--expect "socat:$cli_socat4:$cgino:$cgpath:$cid" \
		--expect "socat:$cli_socat6:$cgino:$cgpath:$cid" \
		--udp "7002:socat:$cli_udp:$cgino:$cgpath:$cid" \
		--listeners "" --min-rows 6
	# B's servers are in the test's own cgroup, no container's; their rows
	# name the container from the interface: every process in A, the
	# peer's namespace, is in the container's cgroup.
	python3 tests/checkers/check_sockets.py join \
		--dump "$SCRATCH/dump_b" --ss "$SCRATCH/ss_b" \
		--expect "iperf3:$srv_iperf:-:$(own_cgroup):$cid" \
		--expect "socat:$srv_socat4:-:$(own_cgroup):$cid" \
		--expect "socat:$srv_socat6:-:$(own_cgroup):$cid" \
		--listeners "5201:$srv_iperf 7000:$srv_socat4 7001:$srv_socat6" --min-rows 6
	# Grouped by process, and by cgroup.
	$INA "$FLOWACCT" dump -g process -o process,packets >"$SCRATCH/grouped"
	grep -q "iperf3\[$cli_iperf\]" "$SCRATCH/grouped" || fail "group-by process: $(cat "$SCRATCH/grouped")"
	grep -q "socat\[$cli_socat4\]" "$SCRATCH/grouped" || fail "group-by process: $(cat "$SCRATCH/grouped")"
	$INA "$FLOWACCT" dump -g cgroup -o cgroup,container,flows >"$SCRATCH/grouped"
	grep -q "^$cgpath  *${cid:0:12}  *[1-9][0-9]* *$" "$SCRATCH/grouped" ||
		fail "group-by cgroup: $(cat "$SCRATCH/grouped")"
}

# A connection and a UDP socket that were there before the socket
# programs: adopted, with their process found in /proc, and the
# connection's metrics from then on.
test_sockets_adopt() {
	netns_pair
	sockets_free
	$INB timeout 30 iperf3 -s -1 -p 5201 >/dev/null &
	BG_PIDS=$!
	$INB socat -u UDP4-RECV:7002 OPEN:/dev/null,wronly &
	BG_PIDS="$BG_PIDS $!"
	sleep 0.5
	# Long enough to outlive two loads that each verify their programs
	# (seconds on a slow machine): ss must still see the connection. The
	# cleanup ends it.
	$INA iperf3 -c 192.0.2.2 -p 5201 -t 20 -b 50M >/dev/null &
	local cli=$!
	printf 'while :; do echo hi; sleep 0.2; done\n' >"$SCRATCH/talk.sh"
	$INA socat -u EXEC:"sh $SCRATCH/talk.sh" UDP4:192.0.2.2:7002 >/dev/null &
	local cli_udp=$!
	BG_PIDS="$BG_PIDS $cli $cli_udp"
	sleep 1
	"$FLOWACCT" sockets attach >/dev/null
	$INA "$FLOWACCT" attach "$VA" --attribution >/dev/null
	sleep 1
	$INA "$FLOWACCT" -j dump >"$SCRATCH/dump_0"
	sleep 0.5
	check_iperf3_client "$cli" --udp "7002:socat:$cli_udp:-:$(own_cgroup):"
	# The callbacks were turned on: the metrics moved after the adoption.
	python3 - "$SCRATCH/dump_0" "$SCRATCH/dump_a" <<-'EOF'
	import json, sys
	def acked(path):
	    rows = json.load(open(path))["flows"]
	    return max((r["tcp"]["bytes_acked"] for r in rows if r.get("tcp")), default=0)
	a, b = acked(sys.argv[1]), acked(sys.argv[2])
	if not 0 < a < b:
	    sys.exit("bytes_acked did not move between two dumps: %d, then %d" % (a, b))
	print("ok: bytes_acked %d, then %d" % (a, b))
	EOF
}

# drop_on NS DEV: the test program that drops a few data segments once.
drop_on() {
	ip netns exec "$1" tc qdisc add dev "$2" clsact 2>/dev/null || true
	ip netns exec "$1" tc filter replace dev "$2" ingress pref 1 handle 1 bpf da \
		obj "$DROP_OBJ" sec tc
}

# iperf_port FILE: the client's data port, from its -J output.
iperf_port() {
	python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["start"]["connected"][0]["local_port"])' "$1"
}

nstat_retrans() {
	ip netns exec "$1" nstat -az TcpRetransSegs | awk '$1 == "TcpRetransSegs" { print $2 }'
}

# iperf3_retrans SECS [CHECK-ARGS...]: an iperf3 run from A to B, its
# flow's retransmissions at A's egress against nstat's and iperf3's.
iperf3_retrans() {
	local secs=$1 n0 n1
	shift
	$INB timeout 20 iperf3 -s -1 -p 5201 >/dev/null &
	BG_PIDS="${BG_PIDS:-} $!"
	sleep 0.5
	n0=$(nstat_retrans "$NSA")
	$INA timeout 20 iperf3 -c 192.0.2.2 -p 5201 -t "$secs" -J >"$SCRATCH/iperf"
	n1=$(nstat_retrans "$NSA")
	$INA "$FLOWACCT" -j dump >"$SCRATCH/dump_a"
	python3 tests/checkers/check_sockets.py retrans --dump "$SCRATCH/dump_a" \
		--nstat $((n1 - n0)) --iperf "$SCRATCH/iperf" \
		--sport "$(iperf_port "$SCRATCH/iperf")" "$@"
}

# Exact, at the sender's TC egress: flowacct's packet-level count against
# the kernel's (nstat, sockops' total_retrans), and bytes against ss's
# bytes_retrans on a socket still open. iperf3's count is a lower bound:
# it looks before the last of its data has left.
test_sockets_retrans() {
	netns_pair
	sockets_on
	local n0 n1
	$INA "$FLOWACCT" attach "$VA" --attribution --retrans >/dev/null
	# No loss first: whatever the veth makes the kernel resend (bulk
	# transfers on a veth retransmit spuriously), no more and no less.
	iperf3_retrans 1
	drop_on "$NSB" "$VB"
	iperf3_retrans 2 --min "$DROP_COUNT"

	# Bytes: a sender that keeps its socket open until ss has looked.
	drop_on "$NSB" "$VB"	# a fresh count: drops again
	$INB timeout 20 socat -u TCP4-LISTEN:5201,reuseaddr OPEN:/dev/null,wronly &
	BG_PIDS="$BG_PIDS $!"
	sleep 0.5
	n0=$(nstat_retrans "$NSA")
	$INA timeout 20 python3 tests/checkers/check_sockets.py send --to 192.0.2.2:5201 \
		--bytes 40000000 --hold "$SCRATCH/held" --release "$SCRATCH/release" &
	BG_PIDS="$BG_PIDS $!"
	for _ in $(seq 100); do [ -e "$SCRATCH/held" ] && break; sleep 0.1; done
	[ -e "$SCRATCH/held" ] || fail "the sender did not finish sending"
	ss_json "$NSA" >"$SCRATCH/ss_a"
	$INA "$FLOWACCT" -j dump >"$SCRATCH/dump_a"
	n1=$(nstat_retrans "$NSA")
	touch "$SCRATCH/release"
	python3 tests/checkers/check_sockets.py retrans --dump "$SCRATCH/dump_a" \
		--nstat $((n1 - n0)) --ss "$SCRATCH/ss_a" --min "$DROP_COUNT" \
		--sport "$(cat "$SCRATCH/held")"
}

# Through a router namespace: no socket, so no process; retransmissions
# still counted, equal to the sender's, and a passive RTT (router to B).
test_sockets_forwarded() {
	netns_pair
	sockets_on
	local NSR=fa-$$-r n0 n1
	netns_new "$NSR"
	# A (192.0.2.1) -- R -- B: re-plumb B behind R on 198.51.100.0/24.
	ip -n "$NSA" link del "$VA"
	veth_link "$NSA" fara "$NSR" farA 0
	veth_link "$NSR" farB "$NSB" farb 1
	ip -n "$NSA" route add 198.51.100.0/24 via 192.0.2.2
	ip -n "$NSB" route add 192.0.2.0/24 via 198.51.100.1
	ip netns exec "$NSR" sysctl -qw net.ipv4.ip_forward=1
	for d in fara:$NSA farA:$NSR farB:$NSR farb:$NSB; do
		ip netns exec "${d#*:}" ethtool -K "${d%%:*}" tso off gso off gro off >/dev/null 2>&1 || true
	done
	nsenter --net=/run/netns/"$NSR" "$FLOWACCT" attach farB --attribution --retrans --passive-rtt >/dev/null
	drop_on "$NSB" farb
	$INB timeout 20 iperf3 -s -1 -p 5201 >/dev/null &
	BG_PIDS=$!
	sleep 0.5
	n0=$(nstat_retrans "$NSA")
	# One CPU sends, so R forwards in order: segments reordered between
	# two CPUs would look like retransmissions to the rule, as to Wireshark.
	$INA timeout 20 taskset -c 0 iperf3 -c 198.51.100.2 -p 5201 -t 2 -b 200M -J >"$SCRATCH/iperf"
	n1=$(nstat_retrans "$NSA")
	nsenter --net=/run/netns/"$NSR" "$FLOWACCT" -j dump >"$SCRATCH/dump_r"
	python3 tests/checkers/check_sockets.py retrans --dump "$SCRATCH/dump_r" \
		--nstat $((n1 - n0)) --iperf "$SCRATCH/iperf" --min "$DROP_COUNT" --forwarded
}

# A TSval reordered past the hooks (tests/helpers/tsval_send.py): TSval 10;
# 0.3 s later 12, then an earlier 11; the echo of 10; 12 again; the echo of
# 12. One sample, 10's: at least the gap. Taking 11 for a new TSval would
# make the second 12 look like its TSval's first, and time the echo of 12
# from it: a second sample of next to nothing. Then a new connection on the
# tuple, its clock behind: a SYN, TSval 5, 0.1 s later its echo. The entry
# starts again at the SYN: one sample, the new one (older than every TSval
# of the last connection, 5 would never count as new).
test_sockets_prtt_reordered() {
	netns_pair
	$INA "$FLOWACCT" attach "$VA" --passive-rtt >/dev/null
	local phase gap
	for phase in reorder:0.3 reuse:0.1; do
		gap=${phase#*:}
		phase=${phase%%:*}
		$INA python3 tests/helpers/tsval_send.py --dev "$VA" --peer-netns "$NSB" \
			--peer-dev "$VB" --phase "$phase" --gap "$gap" >"$SCRATCH/sent"
		$INA "$FLOWACCT" -j dump >"$SCRATCH/dump_a"
		python3 - "$SCRATCH/sent" "$SCRATCH/dump_a" "$phase" "$gap" <<-'EOF'
		import json, sys
		sent = json.load(open(sys.argv[1]))
		phase, gap_us = sys.argv[3], int(float(sys.argv[4]) * 1e6)
		rows = [r for r in json.load(open(sys.argv[2]))["flows"]
		        if r["direction"] == "egress" and r["src"] == sent["src"] and
		        r["dport"] == sent["dport"] and r["sport"] == sent["sport"]]
		if len(rows) != 1:
		    sys.exit("FAIL: %s: %d egress rows of the flow" % (phase, len(rows)))
		p = rows[0]["passive_rtt"]
		if not p or p["samples"] != 1 or not gap_us <= p["min_us"] <= sent["gap_us"]:
		    sys.exit("FAIL: %s: passive RTT %s: one sample, between %d us and the %d us "
		             "from its segment to its echo" % (phase, p, gap_us, sent["gap_us"]))
		print("ok: %s: passive RTT %s, echoed %d us after it was sent" % (phase, p, sent["gap_us"]))
		EOF
	done
}

# RTT through a delay line of D ms each way (no netem here), on a flow
# that sends a little every 50 ms: sockops' srtt and min RTT against 2D and
# against ss sampled at the same moment; the passive RTT's minimum (seen at
# the sender's own interface) against ss's minrtt.
test_sockets_rtt() {
	local D=20 NSC NSD dl
	netns_pair	# for its cleanup and names; the taps get namespaces of their own
	sockets_on
	NSC=fa-$$-c
	NSD=fa-$$-d
	netns_new "$NSC"
	netns_new "$NSD"
	python3 tests/helpers/delay_line.py --ns-a "$NSC" --dev-a fadlc --ns-b "$NSD" --dev-b fadld \
		--delay-ms "$D" --timeout 40 --ready-file "$SCRATCH/ready" 2>"$SCRATCH/dl.err" &
	dl=$!
	BG_PIDS=$dl
	for _ in $(seq 50); do [ -e "$SCRATCH/ready" ] && break; sleep 0.1; done
	[ -e "$SCRATCH/ready" ] || fail "the delay line did not start: $(cat "$SCRATCH/dl.err")"
	ip -n "$NSC" link set fadlc up
	ip -n "$NSD" link set fadld up
	ip -n "$NSC" addr add 203.0.113.1/24 dev fadlc
	ip -n "$NSD" addr add 203.0.113.2/24 dev fadld
	# Fixed neighbours: no ARP round trip in the first RTT sample.
	ip -n "$NSC" neigh replace 203.0.113.2 dev fadlc nud permanent \
		lladdr "$(ip -n "$NSD" -o link show fadld | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)"
	ip -n "$NSD" neigh replace 203.0.113.1 dev fadld nud permanent \
		lladdr "$(ip -n "$NSC" -o link show fadlc | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)"
	nsenter --net=/run/netns/"$NSC" "$FLOWACCT" attach fadlc --attribution --passive-rtt >/dev/null
	ip netns exec "$NSD" timeout 20 socat TCP4-LISTEN:7000,reuseaddr EXEC:cat &
	BG_PIDS="$BG_PIDS $!"
	sleep 0.5
	ip netns exec "$NSC" timeout 20 python3 tests/checkers/check_sockets.py pingpong \
		--to 203.0.113.2:7000 --every 0.05 --count 80 &
	BG_PIDS="$BG_PIDS $!"
	sleep 3
	ss_json "$NSC" >"$SCRATCH/ss_c"
	nsenter --net=/run/netns/"$NSC" "$FLOWACCT" -j dump >"$SCRATCH/dump_c"
	python3 tests/checkers/check_sockets.py rtt --dump "$SCRATCH/dump_c" --ss "$SCRATCH/ss_c" \
		--delay-ms "$D" --dport 7000 --passive
}

# flowacct run: its records and its dump (through the control socket) carry
# the same fields; a flow's final record has its retransmissions.
test_sockets_run() {
	netns_pair
	sockets_on
	local n0 n1 cli
	drop_on "$NSB" "$VB"
	run_start "$NSA" "$VA" --attribution --retrans --passive-rtt --idle-timeout 1 --interval 0.2
	$INB timeout 20 iperf3 -s -1 -p 5201 >/dev/null &
	BG_PIDS=$!
	sleep 0.5
	n0=$(nstat_retrans "$NSA")
	$INA iperf3 -c 192.0.2.2 -p 5201 -t 2 >/dev/null &
	cli=$!
	sleep 1
	check_iperf3_client "$cli"
	wait $cli
	n1=$(nstat_retrans "$NSA")
	sleep 2.5	# past the idle timeout: the flows' final records
	run_stop
	records_where "$SCRATCH/rec.json" 'r["dport"] == 5201 and r["direction"] == "egress"' \
		>"$SCRATCH/recs"
	python3 - "$SCRATCH/recs" "$cli" $((n1 - n0)) <<-'EOF'
	import json, sys
	recs = [json.loads(l) for l in open(sys.argv[1])]
	pid, nstat = int(sys.argv[2]), int(sys.argv[3])
	bulk = max(recs, key=lambda r: r["bytes"])
	final = [r for r in recs if r["sport"] == bulk["sport"]][-1]
	if not final["process"] or final["process"]["pid"] != pid:
	    sys.exit("record's process %s, expected iperf3[%d]" % (final["process"], pid))
	if final["retrans_segs"] != nstat or final["tcp"]["retrans"] != nstat:
	    sys.exit("record: retrans %s, socket %s, nstat %d" % (final["retrans_segs"], final["tcp"], nstat))
	if not final["passive_rtt"]:
	    sys.exit("record without passive RTT")
	print("ok: final record of port %d: retrans %d = nstat, process %s" % (final["sport"], nstat, final["process"]))
	EOF
}

# Without --attribution: TCP rows find their socket by their tuple in the
# interface's namespace (here over IPv6, with passive RTT and retransmissions
# on IPv6 too).
test_sockets_tuple() {
	netns_pair
	sockets_on
	local n0 n1
	$INA "$FLOWACCT" attach "$VA" --retrans --passive-rtt >/dev/null
	drop_on "$NSB" "$VB"
	$INB iperf3 -s -1 -p 5201 >/dev/null &
	local srv=$!
	BG_PIDS=$srv
	sleep 0.5
	n0=$(nstat_retrans "$NSA")
	$INA iperf3 -6 -c 2001:db8::2 -p 5201 -t 2 -J >"$SCRATCH/iperf" &
	local cli=$!
	BG_PIDS="$BG_PIDS $cli"
	sleep 1
	check_iperf3_client "$cli"
	wait $cli
	n1=$(nstat_retrans "$NSA")
	$INA "$FLOWACCT" -j dump >"$SCRATCH/dump_a"
	python3 tests/checkers/check_sockets.py retrans --dump "$SCRATCH/dump_a" \
		--nstat $((n1 - n0)) --iperf "$SCRATCH/iperf" --min "$DROP_COUNT" \
		--sport "$(iperf_port "$SCRATCH/iperf")" --passive
}

# Each misuse: one line, and the state as it was.
test_sockets_errors() {
	if "$FLOWACCT" sockets status | grep -q 'attached at'; then
		fail "the socket programs are attached already: not ours to test with"
	fi
	trap 'sockets_off' EXIT
	expect_fail "detach when not attached" "$FLOWACCT" sockets detach
	expect_fail "a verb that is not one" "$FLOWACCT" sockets bogus
	"$FLOWACCT" sockets attach >/dev/null
	expect_fail "a second attach" "$FLOWACCT" sockets attach
	"$FLOWACCT" sockets status | grep -q 'attached at' || fail "status after the refused attach: $("$FLOWACCT" sockets status)"
	expect_fail "attach without root" setpriv --reuid=65534 --inh-caps=-all "$FLOWACCT" sockets attach
	"$FLOWACCT" sockets detach >/dev/null
	"$FLOWACCT" sockets status | grep -q 'not attached' || fail "status after detach: $("$FLOWACCT" sockets status)"
	[ ! -e /sys/fs/bpf/flowacct-sockets ] || fail "pins left after detach"
	# Unpinned, the links and programs are gone (bpftool names them up
	# to 15 characters).
	bpftool prog show | grep -q 'name flowacct_sock' && fail "a socket program is still loaded"
	return 0
}

# -j: attach, status and detach each print one JSON document with their
# keys; an error is {"error": ...} as every command's is.
test_sockets_json() {
	if "$FLOWACCT" sockets status | grep -q 'attached at'; then
		fail "the socket programs are attached already: not ours to test with"
	fi
	trap 'sockets_off' EXIT
	local out
	out=$("$FLOWACCT" -j sockets attach) || fail "sockets attach -j failed: $out"
	echo "$out" | python3 -c 'import json, sys
d = json.load(sys.stdin)
assert sorted(d) == ["cgroup", "namespaces", "pins", "procs_filled"], d
assert d["pins"] == "/sys/fs/bpf/flowacct-sockets" and d["cgroup"].startswith("/"), d
assert d["namespaces"] >= 1 and d["procs_filled"] >= 0, d' || fail "sockets attach -j: $out"
	out=$("$FLOWACCT" -j sockets status)
	echo "$out" | python3 -c 'import json, sys
d = json.load(sys.stdin)
assert sorted(d) == ["attached", "by_run", "cgroup", "listeners", "sockets"] and d["attached"] \
    and not d["by_run"], d' ||
		fail "sockets status -j: $out"
	out=$("$FLOWACCT" -j sockets attach 2>/dev/null) && fail "a second attach -j succeeded"
	echo "$out" | python3 -c 'import json, sys
d = json.load(sys.stdin)
assert list(d) == ["error"] and "attached already" in d["error"], d' || fail "a second attach -j: $out"
	out=$("$FLOWACCT" -j sockets detach) || fail "sockets detach -j failed: $out"
	echo "$out" | python3 -c 'import json, sys
assert json.load(sys.stdin) == {"detached": True}' || fail "sockets detach -j: $out"
	out=$("$FLOWACCT" -j sockets detach 2>/dev/null) && fail "detach -j when not attached succeeded"
	echo "$out" | python3 -c 'import json, sys
assert json.load(sys.stdin) == {"error": "the socket programs are not attached"}' ||
		fail "sockets detach -j when not attached: $out"
	# Each is one document: python's json.tool takes nothing more.
	"$FLOWACCT" -j sockets attach | python3 -m json.tool >/dev/null || fail "attach -j: not one document"
	"$FLOWACCT" -j sockets detach | python3 -m json.tool >/dev/null || fail "detach -j: not one document"
	# Text stays as it was.
	"$FLOWACCT" sockets attach | grep -q '^socket programs attached at /.*; existing sockets adopted in [0-9]* network namespaces, [0-9]* of them given their process from /proc; pins in /sys/fs/bpf/flowacct-sockets$' ||
		fail "sockets attach: text changed"
	[ "$("$FLOWACCT" sockets detach)" = "socket programs detached" ] || fail "sockets detach: text changed"
}

# The daemons' own use of the socket programs: the first attaches them, the
# others hold them, the last to exit detaches them; one killed holds
# nothing, and the next adopts them; --no-sockets leaves them alone, and
# those attached by hand stay attached.
test_sockets_daemons() {
	netns_pair
	sockets_free
	local a b D
	_attached() { "$FLOWACCT" sockets status | grep -q 'attached at'; }
	_daemon() {	# _daemon NS DEV LOG ARGS...: its pid in D, once it runs
		local ns=$1 dev=$2 log=$3
		shift 3
		nsenter --net=/run/netns/"$ns" "$FLOWACCT" run "$dev" --layout iface --json /dev/null \
			"$@" >/dev/null 2>"$log" &
		D=$!
		BG_PIDS="${BG_PIDS:-} $D"
		for _ in $(seq 400); do
			grep -q "running on" "$log" && return 0
			sleep 0.05
		done
		fail "no start: $(cat "$log")"
	}
	_stop() { kill -TERM "$1"; wait "$1" || fail "daemon $1 exited $?"; }

	_daemon "$NSA" "$VA" "$SCRATCH/a.log"
	a=$D
	grep -q "socket programs attached" "$SCRATCH/a.log" || fail "A did not attach them: $(cat "$SCRATCH/a.log")"
	_attached || fail "not attached under A"
	_daemon "$NSB" "$VB" "$SCRATCH/b.log"
	b=$D
	grep -q "socket programs attached" "$SCRATCH/b.log" && fail "B attached them again"
	_stop "$a"
	_attached || fail "detached under B, when A left"
	grep -q "socket programs detached" "$SCRATCH/a.log" && fail "A said it detached them"
	_stop "$b"
	_attached && fail "still attached after the last daemon"
	grep -q "socket programs detached" "$SCRATCH/b.log" || fail "B did not say it detached them"

	# Killed: they stay, the next one adopts them and detaches them at its end.
	_daemon "$NSA" "$VA" "$SCRATCH/a2.log"
	a=$D
	kill -KILL "$a"
	wait "$a" 2>/dev/null || true
	_attached || fail "gone with the killed daemon"
	_daemon "$NSB" "$VB" "$SCRATCH/b2.log"
	b=$D
	grep -q "socket programs attached" "$SCRATCH/b2.log" && fail "attached again after kill -9"
	_stop "$b"
	_attached && fail "still attached after the daemon that adopted them"

	# --no-sockets: not attached; attached by hand: not a daemon's to detach.
	_daemon "$NSA" "$VA" "$SCRATCH/a3.log" --no-sockets
	a=$D
	_attached && fail "attached under --no-sockets"
	_stop "$a"
	"$FLOWACCT" sockets attach >/dev/null
	_daemon "$NSA" "$VA" "$SCRATCH/a4.log"
	a=$D
	_stop "$a"
	_attached || fail "a daemon detached what was attached by hand"
	"$FLOWACCT" sockets detach >/dev/null
}
