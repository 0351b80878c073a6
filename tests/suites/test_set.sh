# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# shellcheck shell=bash
# One program set (lib/set.c) linked to several interfaces: the programs
# loaded once, each interface joined by links alone, and each interface's
# books (its own counters and overflow rows, its rows of the shared tables)
# against tcpdump's capture of it, read with tshark. Unlinked, nothing of
# it is left on the devices. tests/c/set_drive.c drives the set. Pinned, its
# members are read by status, stats and dump as attachments are, and
# detach refuses them (test_set_cli); a daemon on one serves its members'
# rows, as it does an attachment's (test_set_daemon_view), and samples its
# members' frames, captured one member at a time (test_set_sample).

ALL_TESTS="test_set_books test_set_hooks test_set_full test_set_hostile test_set_kill9
	test_set_stream_books test_set_stream_kill9 test_set_cli test_set_daemon_view
	test_set_sample"

SET_DRIVE=${SET_DRIVE:-$PWD/build/tests/set_drive}

# set_setup N: $NSD with interfaces s1..sN, each a veth to a namespace of its
# own, 198.51.100.4i+1/30 here and .4i+2 there. IPv6 off in every namespace
# (nothing the kernel sends on its own: no MLD, no ND), offloads off, so
# that tcpdump sees each packet as it is counted, and every one is the
# test's or the ARP its pings cause.
set_setup() {
	local id n ns
	id=$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')
	NSD=fa-$id-d
	trap netns_cleanup EXIT
	SCRATCH=$(mktemp -d)
	netns_new_quiet "$NSD"
	IND="nsenter --net=/run/netns/$NSD"
	PEERS=()
	for n in $(seq "$1"); do
		ns=fa-$id-p$n
		netns_new_quiet "$ns"
		ip link add "s$n" netns "$NSD" type veth peer name "p$n" netns "$ns"
		ip -n "$NSD" addr add "198.51.100.$((4 * n + 1))/30" dev "s$n"
		ip -n "$ns" addr add "198.51.100.$((4 * n + 2))/30" dev "p$n"
		$IND ethtool -K "s$n" tso off gso off gro off >/dev/null
		ip netns exec "$ns" ethtool -K "p$n" tso off gso off gro off >/dev/null
		ip -n "$ns" link set "p$n" up
		ip -n "$NSD" link set "s$n" up
		PEERS+=("$ns")
	done
}

# set_setup_pinned N I...: set_setup N, $SET_DIR the name of a set's
# directory of this test's own (removed by the trap), and both directions
# of sI captured for each I.
set_setup_pinned() {
	local n=$1 i
	shift
	set_setup "$n"
	SET_DIR=set-fa-$(basename "$NSD")
	SET_DIRS+=("$SET_DIR")
	for i in "$@"; do
		capture_start "$NSD" "s$i" in "$SCRATCH/s$i.in.pcap"
		capture_start "$NSD" "s$i" out "$SCRATCH/s$i.out.pcap"
	done
}

# set_start ARGS... IFACES: set_drive in $NSD, held by a fifo; returns once
# every interface has joined. set_stop closes the fifo and waits.
set_start() {
	rm -f "$SCRATCH/hold"
	mkfifo "$SCRATCH/hold"
	$IND "$SET_DRIVE" "$@" <"$SCRATCH/hold" >"$SCRATCH/set.out" 2>"$SCRATCH/set.err" &
	SET_PID=$!
	exec 9>"$SCRATCH/hold"
	local i
	for i in $(seq 100); do
		grep -q '^ready$' "$SCRATCH/set.out" && break
		kill -0 $SET_PID 2>/dev/null || fail "set_drive: $(cat "$SCRATCH/set.err")"
		sleep 0.1
	done
	grep -q '^ready$' "$SCRATCH/set.out" || fail "set_drive did not get ready"
	cat "$SCRATCH/set.out"
}

set_stop() {
	exec 9>&-
	wait $SET_PID || fail "set_drive: $(cat "$SCRATCH/set.err")"
	grep '^{' "$SCRATCH/set.out"
}

# traffic N: from peer N, pings of two sizes of its own (so that the
# interfaces differ) towards $NSD, and $NSD's pings back.
traffic() {
	local n=$1 ns=${PEERS[$(($1 - 1))]}
	ip netns exec "$ns" ping -q -c $((n + 2)) -i 0.05 -s $((100 * n)) \
		"198.51.100.$((4 * n + 1))" >/dev/null
	$IND ping -q -c $((n + 1)) -i 0.05 -s $((50 * n)) "198.51.100.$((4 * n + 2))" >/dev/null
}

# capture_counts N: sN's two captures read with tshark, into $SCRATCH/sN.want:
# a line "FRAMES IP BYTES" a direction, ingress then egress (IP: the IPv4
# packets, BYTES: the sum of their ip.len).
capture_counts() {
	local d
	for d in in out; do
		tshark -r "$SCRATCH/s$1.$d.pcap" -T fields -e ip.len 2>/dev/null |
			awk '{ f++ } $1 != "" { ip++; split($1, l, ","); b += l[1] }
			     END { print f + 0, ip + 0, b + 0 }'
	done >"$SCRATCH/s$1.want"
}

# check_books N: interface sN's line of set_drive against its two captures.
check_books() {
	local n=$1
	capture_counts "$n"
	python3 - "$SCRATCH/set.out" "s$n" "$SCRATCH/s$n.want" <<-'EOF'
	import json, sys
	lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
	b = next(l for l in lines if l.get("iface") == sys.argv[2])
	for d, line in enumerate(open(sys.argv[3])):        # 0 ingress, 1 egress
	    frames, ip, nbytes = map(int, line.split())
	    got = (b["seen"][d], b["accounted"][d], b["row_packets"][d],
	           b["accounted_bytes"][d], b["row_bytes"][d])
	    want = (frames, ip, ip, nbytes, nbytes)
	    print(sys.argv[2], ("ingress", "egress")[d], "seen, accounted, row packets, "
	          "accounted bytes, row bytes:", got, "tcpdump:", want)
	    if got != want:
	        sys.exit("%s %s: the books differ from tcpdump's" % (sys.argv[2], d))
	if not b["balanced"]:
	    sys.exit("%s: seen != accounted + reasons" % sys.argv[2])
	EOF
}

# books N ARGS...: N interfaces under one set (set_drive ARGS), each with
# traffic of its own, captured; each interface's books against its capture;
# nothing counted for no interface; the rows forgotten.
books() {
	local n=$1 i
	shift
	set_setup "$n"
	for i in $(seq "$n"); do
		capture_start "$NSD" "s$i" in "$SCRATCH/s$i.in.pcap"
		capture_start "$NSD" "s$i" out "$SCRATCH/s$i.out.pcap"
	done
	set_start "$@" $(seq -f 's%g' "$n")
	# A join is links and rows, not a load: a few ms, against the load's
	# hundreds (the verifier's).
	awk '/^joined/ { if ($4 > 1000) { print "join of " $2 " took " $4 " ms"; exit 1 } }' \
		"$SCRATCH/set.out" || fail "a join took a second or more"
	for i in $(seq "$n"); do traffic "$i"; done
	capture_stop
	set_stop
	for i in $(seq "$n"); do
		check_books "$i" || fail "s$i: books"
	done
	python3 - "$SCRATCH/set.out" <<-'EOF' || fail "interface 0 or rows left"
	import json, sys
	lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
	zero = next(l for l in lines if l.get("ifindex") == 0)
	if any(zero[k] != [0, 0] for k in ("seen", "accounted", "rows")):
	    sys.exit("counted for no interface: %s" % zero)
	left = next(l for l in lines if "left_rows" in l)
	if (left["left_rows"], left["left_overflow_rows"]) != (2, 4):
	    sys.exit("rows left after forgetting: %s (interface 0's 2 and 4 only)" % left)
	EOF
}

# Three veths, TC ingress (veth's default) and TCX: each interface's books
# are exactly its own capture's.
test_set_books() {
	books 3
	grep -q '^joined s1 [0-9]* [0-9.]* tc tcx$' "$SCRATCH/set.out" || fail "not TC and TCX"
	for i in 1 2 3; do assert_nothing_left "$NSD" "s$i"; done
}

# XDP at ingress and clsact filters at egress: the same books; unlinked,
# no XDP program, filter or clsact qdisc of the set's is left.
test_set_hooks() {
	books 2 --ingress xdp --tc-api clsact
	grep -q '^joined s1 [0-9]* [0-9.]* xdp clsact$' "$SCRATCH/set.out" ||
		fail "not XDP and clsact: $(cat "$SCRATCH/set.out")"
	for i in 1 2; do
		assert_nothing_left "$NSD" "s$i"
		ip -n "$NSD" -d link show dev "s$i" | grep -q 'prog/xdp' &&
			fail "XDP left on s$i"
		ip netns exec "$NSD" tc qdisc show dev "s$i" | grep -q clsact &&
			fail "clsact left on s$i"
	done
	return 0
}

# Shared tables of 4 flows for two interfaces that have 4 each: the flows
# that find the table full go to their interface's overflow rows, drained
# with the tables, and each interface's books are still its capture's.
test_set_full() {
	books 2 --max-flows 4
	python3 - "$SCRATCH/set.out" <<-'EOF' || fail "no overflow"
	import json, sys
	lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{") and "iface" in l]
	over = {l["iface"]: l["overflow"] for l in lines if l["iface"]}
	print("overflow packets by interface:", over)
	sys.exit(not sum(sum(v) for v in over.values()))
	EOF
}

# An interface whose XDP hook is taken: the join fails with one line and
# leaves nothing of the set on it (its egress link is never made). An
# interface joined twice: the second join is refused and leaves the
# first's rows alone. An interface deleted while the set holds it: the
# links go with it, the unlink copes, the other interface's books stay
# exact and every row of the deleted one is forgotten.
test_set_hostile() {
	set_setup 2
	$IND "$FLOWACCT" attach s1 --ingress xdp
	local out
	out=$(expect_fail "join over XDP" $IND "$SET_DRIVE" --ingress xdp s1)
	echo "$out" | grep -q "can't join 's1'" || fail "not the join's error: $out"
	# The attach's own egress link, and nothing of the set's.
	[ "$(tcx_progs "$NSD" s1 | grep -c flowacct)" = 1 ] ||
		fail "the set left a TCX link on s1: $(tcx_progs "$NSD" s1)"
	$IND "$FLOWACCT" detach s1
	ip -n "$NSD" -d link show dev s1 | grep -q 'prog/xdp' && fail "XDP left on s1"

	capture_start "$NSD" s2 in "$SCRATCH/s2.in.pcap"
	capture_start "$NSD" s2 out "$SCRATCH/s2.out.pcap"
	# s2 joined twice: the second join is refused and takes nothing of
	# the first's rows (its books below are exact).
	set_start --go-on yes s1 s2 s2
	grep -q "can't join 's2': File exists" "$SCRATCH/set.err" ||
		fail "a second join of s2 was not refused: $(cat "$SCRATCH/set.err")"
	traffic 1
	traffic 2
	ip -n "$NSD" link del s1
	traffic 2
	capture_stop
	set_stop
	check_books 2 || fail "s2: books"
	grep -q '"left_rows":2,"left_overflow_rows":4}' "$SCRATCH/set.out" ||
		fail "rows left: $(grep left_rows "$SCRATCH/set.out")"
}

# A pinned set outlives its process: killed with kill -9 while s1 carries
# traffic, its links go on counting with no process; s2 is deleted
# meanwhile. A new process adopts the set (the programs loaded again on
# its maps; a second adopter is refused while it lives): s1 is a member
# again, s2 is not (its links went with its device) and its rows are found
# to be read and forgotten; s3 joins the
# adopted set, through the programs loaded again. Each live interface's
# books over the whole run, across the kill, are its capture's. Then the
# set is removed: no pin, link or map of it is left.
test_set_kill9() {
	local dir ids id pid out
	set_setup_pinned 3 1 3
	dir=$SET_DIR
	set_start --pin "$dir" s1 s2
	ids=$(sed -n 's/^map_ids //p' "$SCRATCH/set.out")
	ip netns exec "${PEERS[0]}" ping -q -c 60 -i 0.02 198.51.100.5 >/dev/null &
	pid=$!
	sleep 0.5
	kill -9 $SET_PID
	wait $SET_PID 2>/dev/null || true
	exec 9>&-
	wait $pid
	# No process holds the set: the links count on.
	traffic 1
	[ -e "/sys/fs/bpf/flowacct/$dir/if$(ip -n "$NSD" -o link show dev s1 | cut -d: -f1)_tc_egress" ] ||
		fail "the link pins did not outlive the process: $(ls "/sys/fs/bpf/flowacct/$dir")"
	traffic 2
	ip -n "$NSD" link del s2
	set_start --adopt "$dir" s3
	grep -q '^member s1 ' "$SCRATCH/set.out" || fail "s1 was not adopted"
	grep -q '^member ' <(grep -v '^member s1 ' "$SCRATCH/set.out") &&
		fail "a member whose device is gone was adopted: $(grep '^member' "$SCRATCH/set.out")"
	grep -q '^orphan ' "$SCRATCH/set.out" || fail "s2's rows were not found"
	# One process at a time: a second adopter is refused while this one lives.
	out=$(expect_fail "a second adopter" $IND "$SET_DRIVE" --adopt "$dir")
	echo "$out" | grep -q "Device or resource busy" || fail "not refused as busy: $out"
	traffic 1
	traffic 3
	capture_stop
	set_stop
	for i in 1 3; do
		check_books "$i" || fail "s$i: books across the kill"
	done
	grep -q '"left_rows":2,"left_overflow_rows":4}' "$SCRATCH/set.out" ||
		fail "rows left: $(grep left_rows "$SCRATCH/set.out")"
	grep -q "^removed $dir 0$" "$SCRATCH/set.out" || fail "not removed: $(tail -1 "$SCRATCH/set.out")"
	[ ! -e "/sys/fs/bpf/flowacct/$dir" ] || fail "pins left: $(ls "/sys/fs/bpf/flowacct/$dir")"
	! ls /run/flowacct/"$dir"* 2>/dev/null || fail "files of the set left under /run/flowacct"
	for i in 1 3; do assert_nothing_left "$NSD" "s$i"; done
	# Maps are freed after a grace period: asked a few times.
	for id in $ids; do
		for i in $(seq 30); do
			bpftool map show id "$id" >/dev/null 2>&1 || break
			sleep 0.1
		done
		bpftool map show id "$id" >/dev/null 2>&1 && fail "map $id of the set is left"
	done
	return 0
}

# ---- a daemon's stream on a pinned set (tests/c/set_stream.c) -------------------

SET_STREAM=${SET_STREAM:-$PWD/build/tests/set_stream}

# stream_start ARGS...: set_stream in $NSD, records to $SCRATCH/rec.json,
# commands through a fifo (stream_cmd); returns once it is ready.
# stream_stop closes the fifo and waits for its end.
stream_start() {
	local bin=$SET_STREAM i
	[ "$1" = --crash ] && { bin=$(dirname "$SET_STREAM")/set_stream-crash; shift; }
	rm -f "$SCRATCH/hold"
	mkfifo "$SCRATCH/hold"
	$IND env FLOWACCT_CRASH_AT="${CRASH_AT:-}" "$bin" "$@" <"$SCRATCH/hold" \
		>>"$SCRATCH/stream.out" 2>"$SCRATCH/stream.err" &
	SET_PID=$!
	exec 9>"$SCRATCH/hold"
	for i in $(seq 100); do
		[ "$(grep -c '^ready$' "$SCRATCH/stream.out")" -ge "${STREAM_READY:-1}" ] && return 0
		kill -0 $SET_PID 2>/dev/null || fail "set_stream: $(cat "$SCRATCH/stream.err")"
		sleep 0.1
	done
	fail "set_stream did not get ready"
}

stream_cmd() {
	echo "$*" >&9
}

stream_stop() {
	exec 9>&-
	wait $SET_PID || fail "set_stream: $(cat "$SCRATCH/stream.err")"
}

# check_stream IFACE...: per interface (sN, by the index it joined with),
# its records in $SCRATCH/rec.json (a record written again after a kill,
# the same instance and sequence number, counted once) against its
# counters line and against tcpdump's captures of it: records, packets and
# bytes per direction; a counters line per interface, and one only.
check_stream() {
	local i d
	for i in "$@"; do
		for d in in out; do
			tshark -r "$SCRATCH/$i.$d.pcap" -T fields -e ip.len >"$SCRATCH/$i.$d.txt" 2>/dev/null
		done
	done
	python3 - "$SCRATCH" "$@" <<-'EOF'
	import collections, json, sys
	scratch, names = sys.argv[1], sys.argv[2:]
	ifx = {}
	for line in open(scratch + "/stream.out"):
	    w = line.split()
	    if w and w[0] == "joined":
	        ifx[w[1]] = int(w[2])
	recs, counters, dup = {}, collections.defaultdict(list), 0
	for line in open(scratch + "/rec.json"):
	    r = json.loads(line)
	    if r["type"] == "counters":
	        counters[r["ifindex"]].append(r)
	        continue
	    k = (r["instance"], r["seq"])
	    if k in recs:
	        dup += 1
	        if recs[k] != r:
	            sys.exit("record %s written again, and not the same: %s, %s" % (k, recs[k], r))
	    recs[k] = r
	print("records", len(recs), "written again after a kill", dup)
	bad = []
	for name in names:
	    x = ifx[name]
	    mine = [r for r in recs.values() if r["ifindex"] == x]
	    # Again after a kill, the same but for the stream's next sequence number.
	    lines = [dict(l, next_seq=0) for l in counters[x]]
	    if not lines or any(l != lines[0] for l in lines):
	        bad.append("%s: counters lines %s" % (name, lines)); continue
	    c = lines[0]
	    if c["records"] != len(mine):
	        bad.append("%s: %d records, its counters line says %d" % (name, len(mine), c["records"]))
	    for d, dname in enumerate(("ingress", "egress")):
	        ip = nbytes = 0
	        for l in open("%s/%s.%s.txt" % (scratch, name, ("in", "out")[d])):
	            if l.strip():
	                ip += 1; nbytes += int(l.split(",")[0])
	        p = sum(r["packets"] for r in mine if r["direction"] == dname)
	        b = sum(r["bytes"] for r in mine if r["direction"] == dname)
	        h = next(h["counters"] for h in c["hooks"] if h["direction"] == dname)
	        e = c["exported"][dname]
	        got = (p, b, h["accounted"], h["accounted_bytes"], e["packets"], e["bytes"])
	        print(name, dname, "records, counters, exported (packets, bytes):", got,
	              "tcpdump:", (ip, nbytes))
	        if got != (ip, nbytes) * 3:
	            bad.append("%s %s: %s, tcpdump %s" % (name, dname, got, (ip, nbytes)))
	if bad:
	    sys.exit("; ".join(bad))
	EOF
}

# One stream for three interfaces of a set: one flip, one wait and one drain
# a tick for all. s2 leaves mid-run: its flows out as forced in its last
# tick, then its counters line, its rows and books gone, while s1 and s3
# count on; s3's records are named as it is renamed. Each interface's
# records add up to its counters line and to its capture.
test_set_stream_books() {
	local dir
	set_setup_pinned 3 1 2 3
	dir=$SET_DIR
	stream_start --pin "$dir" "$SCRATCH/rec.json" s1 s2 s3
	for i in 1 2 3; do traffic "$i"; done
	stream_cmd leave s2
	for i in $(seq 30); do
		grep -q '^left s2$' "$SCRATCH/stream.out" && break
		sleep 0.1
	done
	grep -q '^left s2$' "$SCRATCH/stream.out" || fail "s2 did not leave"
	# Off its device: what it carries now is no one's.
	ip netns exec "${PEERS[1]}" ping -q -c 3 -i 0.05 198.51.100.9 >/dev/null
	stream_cmd rename s3 s3-new
	sleep 0.3
	traffic 1
	traffic 3
	capture_stop
	stream_stop
	# s2's capture holds packets after it left: compared up to the leave.
	check_stream s1 s3 || fail "books"
	python3 - "$SCRATCH/rec.json" <<-'EOF' || fail "names or end reasons"
	import json, sys
	rs = [json.loads(l) for l in open(sys.argv[1])]
	s2 = [r for r in rs if r["type"] == "flow" and r["iface"] == "s2"]
	if not s2 or any(r["end_reason"] != "forced" for r in s2):
	    sys.exit("s2's records: %s" % s2)
	if not any(r["iface"] == "s3-new" for r in rs if r["type"] == "flow"):
	    sys.exit("no record of s3 named as it was renamed")
	EOF
	grep -q "^removed $dir 0$" "$SCRATCH/stream.out" || fail "not removed"
	[ ! -e "/sys/fs/bpf/flowacct/$dir" ] || fail "pins left: $(ls "/sys/fs/bpf/flowacct/$dir")"
	! ls /run/flowacct/"$dir"* 2>/dev/null || fail "files of the set left under /run/flowacct"
	for i in 1 2 3; do assert_nothing_left "$NSD" "s$i"; done
}

# crash_stream POINT [COMMAND]: the crash-point build adopts the set, is
# given COMMAND once ready, and must kill itself at POINT.
crash_stream() {
	local i
	CRASH_AT=$1 STREAM_READY=0 stream_start --crash --interval 100 --timeouts 300,1000 --adopt "$dir" \
		"$SCRATCH/rec.json" || true
	[ -n "${2:-}" ] && stream_cmd "$2"
	for i in $(seq 150); do
		kill -0 $SET_PID 2>/dev/null || break
		sleep 0.1
	done
	exec 9>&-
	if kill -0 $SET_PID 2>/dev/null; then
		kill -9 $SET_PID
		wait $SET_PID 2>/dev/null || true
		fail "set_stream never reached crash point $1: $(cat "$SCRATCH/stream.err")"
	fi
	local rc=0
	wait $SET_PID || rc=$?
	[ $rc = 137 ] || fail "crash point $1: exit $rc, not its kill: $(cat "$SCRATCH/stream.err")"
	echo "killed at $1${2:+ ($2)}"
}

# A kill between every two steps of the set's tick, in the updates of the
# interfaces' books too, while s1 and s3 carry traffic: each next process
# adopts the set and undoes the tick (killed before its commit) or
# finishes it (after). s2 leaves in a tick killed at its commit, s4 in one
# killed between two interfaces' books: the next process finishes each
# leave (rows without a member). The last process stops before its first
# tick. Every record counted once by instance and sequence number, each
# interface's records add up to its counters line and to its capture.
test_set_stream_kill9() {
	local dir point p1 p3 p5
	set_setup_pinned 4 1 2 3 4
	dir=$SET_DIR
	stream_start --interval 100 --timeouts 300,1000 --pin "$dir" "$SCRATCH/rec.json" \
		s1 s2 s3 s4
	for i in 1 2 3 4; do traffic "$i"; done
	kill -9 $SET_PID
	wait $SET_PID 2>/dev/null || true
	exec 9>&-
	ip netns exec "${PEERS[0]}" ping -q -c 1000 -i 0.03 198.51.100.5 >/dev/null &
	p1=$!
	ip netns exec "${PEERS[2]}" ping -q -c 1000 -i 0.03 -s 300 198.51.100.13 >/dev/null &
	p3=$!
	crash_stream committed:1 "leave s2"
	for point in drained:2 merged:2 expired:2 committed:2 written:2; do
		crash_stream "$point"
	done
	crash_stream booked:1 "leave s4"
	for point in booked:2 undone:2 idle:2 save-count:5 rollback:1; do
		# Traffic for the cache to save, whenever the pings above ended.
		if [ "$point" = save-count:5 ]; then
			ip netns exec "${PEERS[0]}" ping -q -c 150 -i 0.02 198.51.100.5 >/dev/null &
			p5=$!
		fi
		crash_stream "$point"
	done
	grep -q '^leaving ' "$SCRATCH/stream.out" || fail "no leave was finished after a kill"
	# The last process is stopped before its first tick, with the table a
	# kill left to drain and the one the links wrote since: both go out.
	STREAM_READY=1 stream_start --interval 60000 --timeouts 300,1000 --adopt "$dir" \
		"$SCRATCH/rec.json"
	wait $p1 $p3 $p5
	capture_stop
	stream_stop
	check_stream s1 s2 s3 s4 >"$SCRATCH/check.txt" || fail "books across the kills: $(cat "$SCRATCH/check.txt")"
	cat "$SCRATCH/check.txt"
	# Killed once its records were out, before the tick's end: written again.
	grep -q "written again after a kill [1-9]" "$SCRATCH/check.txt" ||
		fail "no record written again: the kills were not where records are"
	grep -q "^removed $dir 0$" "$SCRATCH/stream.out" || fail "not removed"
	[ ! -e "/sys/fs/bpf/flowacct/$dir" ] || fail "pins left: $(ls "/sys/fs/bpf/flowacct/$dir")"
	! ls /run/flowacct/"$dir"* 2>/dev/null || fail "files of the set left under /run/flowacct"
}

# ---- the commands on a pinned set's members ------------------------------------------

# check_cli_books N STATS DUMP: interface sN's counters in STATS (stats -j)
# and its rows in DUMP (dump -j) against its two captures: seen every frame,
# accounted and the rows' packets and bytes the IP ones; no row of another
# interface's in a dump of sN alone (DUMP's other interfaces are skipped
# when it is a dump of all: their rows are checked by their own call).
check_cli_books() {
	local n=$1
	capture_counts "$n"
	python3 - "s$n" "$(ip -n "$NSD" -o link show dev "s$n" | cut -d: -f1)" "$2" "$3" \
		"$SCRATCH/s$n.want" "${4:-}" <<-'EOF'
	import json, sys
	name, ifindex, stats, dump, alone = sys.argv[1], int(sys.argv[2]), \
	    json.load(open(sys.argv[3])), json.load(open(sys.argv[4])), sys.argv[6] == "alone"
	st = [i for i in stats["interfaces"] if i["iface"] == name]
	if len(st) != 1:
	    sys.exit("%s: %d entries in stats" % (name, len(st)))
	rows = [r for r in dump["flows"] if r["ifindex"] == ifindex]
	if alone and len(rows) != len(dump["flows"]):
	    sys.exit("%s: the dump has rows of other interfaces: %s" % (name, dump["flows"]))
	if any(r["iface"] != name for r in rows):
	    sys.exit("%s: rows named for another interface: %s" % (name, rows))
	for d, line in enumerate(open(sys.argv[5])):        # 0 ingress, 1 egress
	    frames, ip, nbytes = map(int, line.split())
	    dname = ("ingress", "egress")[d]
	    c = next(h["counters"] for h in st[0]["hooks"] if h["direction"] == dname)
	    mine = [r for r in rows if r["direction"] == dname]
	    got = (c["seen"], c["accounted"], c["accounted_bytes"],
	           sum(r["packets"] for r in mine), sum(r["bytes"] for r in mine))
	    want = (frames, ip, nbytes, ip, nbytes)
	    print(name, dname, "seen, accounted, accounted bytes, row packets, row bytes:",
	          got, "tcpdump:", want)
	    if got != want or not ip:
	        sys.exit("%s %s: stats or dump differ from tcpdump's" % (name, dname))
	EOF
}

# members_views: stats -j and dump -j of s1, of s2 and of all, into
# $SCRATCH; members_views_check checks each against s1's and s2's captures.
members_views() {
	local i
	for i in 1 2; do
		$IND "$FLOWACCT" -j stats "s$i" >"$SCRATCH/stats$i.json"
		$IND "$FLOWACCT" -j dump "s$i" >"$SCRATCH/dump$i.json"
	done
	$IND "$FLOWACCT" -j stats >"$SCRATCH/stats.json"
	$IND "$FLOWACCT" -j dump >"$SCRATCH/dump.json"
}

members_views_check() {
	local i
	for i in 1 2; do
		check_cli_books "$i" "$SCRATCH/stats$i.json" "$SCRATCH/dump$i.json" alone ||
			fail "s$i: stats or dump of it"
		check_cli_books "$i" "$SCRATCH/stats.json" "$SCRATCH/dump.json" ||
			fail "s$i: stats or dump of all"
	done
}

# check_members STATUS DIR PID LIVE: status -j lists s1 and s2 as members of
# DIR, held by PID ("null": by none), live (LIVE true) with the TCX links
# BPF_PROG_QUERY sees on their devices; nothing of them as unrecorded.
check_members() {
	local n d links=""
	for n in 1 2; do
		links+="s$n"
		for d in ingress egress; do
			links+=" $($IND "$TCX_QUERY" "s$n" $d |
				awk -v d=$d '$3 ~ /^flowacct/ { printf "%s %s", d, $2 }')"
		done
		links+=";"
	done
	python3 - "$@" "$links" <<-'EOF'
	import json, sys
	doc, sdir, pid, live, links = json.load(open(sys.argv[1])), sys.argv[2], \
	    json.loads(sys.argv[3]), sys.argv[4] == "true", sys.argv[5]
	if doc["unrecorded"]:
	    sys.exit("members shown as unrecorded programs: %s" % doc["unrecorded"])
	sets = [s for s in doc["sets"] if s["set"] == sdir]
	if len(sets) != 1 or sets[0]["holder_pid"] != pid or sets[0]["members"] != 2:
	    sys.exit("set %s not listed as held by %s with 2 members: %s" % (sdir, pid, doc["sets"]))
	for part in links.split(";")[:-1]:
	    name, *tcx = part.split()
	    m = [m for m in doc["set_members"] if m["iface"] == name and m["set"] == sdir]
	    if len(m) != 1:
	        sys.exit("%s: %d members of that name in %s" % (name, len(m), doc["set_members"]))
	    m = m[0]
	    # tcx_query's: "ingress LINK_ID egress LINK_ID" for our two links.
	    want = dict(zip(tcx[0::2], map(int, tcx[1::2])))
	    got = {"ingress": m["tc_ingress_link_id"], "egress": m["tc_link_id"]}
	    print(name, "holder", m["holder_pid"], "live", m["live"], "links", got, "tcx_query", want)
	    if m["holder_pid"] != pid or m["live"] != live or m["gone"] or not m["this_netns"]:
	        sys.exit("%s: holder, live or gone wrong: %s" % (name, m))
	    if (m["ingress_hook"], m["tc_api"]) != ("tc", "tcx") or (live and got != want):
	        sys.exit("%s: hooks or links differ from BPF_PROG_QUERY's: %s" % (name, m))
	EOF
}

# A pinned set of two veths, read by the commands as attachments are: status
# lists both members with the set and its holder's pid (the driver's, from
# the shell) and the links BPF_PROG_QUERY finds; stats and dump of each, and
# of all, against each interface's capture; detach refused in one line, the
# links left counting; after kill -9 the members are still listed, held by
# no process, and one whose device is then deleted is shown gone.
test_set_cli() {
	local dir out n i
	set_setup_pinned 2 1 2
	dir=$SET_DIR
	set_start --pin "$dir" s1 s2
	$IND "$FLOWACCT" -j status >"$SCRATCH/status.json"
	check_members "$SCRATCH/status.json" "$dir" "$SET_PID" true || fail "status of the members"
	$IND "$FLOWACCT" status >"$SCRATCH/status.txt"
	for i in 1 2; do
		grep -A1 "^s$i  " "$SCRATCH/status.txt" | grep "set: $dir\$" >/dev/null ||
			fail "s$i's line does not name its set: $(cat "$SCRATCH/status.txt")"
	done
	# Refused, and nothing undone: the links stay and count what follows.
	out=$(expect_fail "detach of a member" $IND "$FLOWACCT" detach s1)
	[ "$out" = "flowacct: 's1' is linked by the program set '$dir' (held by pid $SET_PID): a member's links are its set's, and only the set's holder unlinks it" ] ||
		fail "not the refusal: $out"
	[ "$(tcx_progs "$NSD" s1 | grep -c flowacct)" = 2 ] ||
		fail "detach took links of s1: $(tcx_progs "$NSD" s1)"
	# Attached alone too, it would be counted twice.
	out=$(expect_fail "attach of a member" $IND "$FLOWACCT" attach s1)
	[ "$out" = "flowacct: 's1' is linked by the program set '$dir' (held by pid $SET_PID): taken again here, its packets would be counted twice" ] ||
		fail "attach: not the refusal: $out"
	out=$(expect_fail "set on a member" $IND "$FLOWACCT" set s1 sample 10)
	echo "$out" | grep "'s1' is a member of the program set '$dir'.*not supported" >/dev/null ||
		fail "set: not said to be a set member: $out"
	# The set's sampling is off (its holder's to set).
	out=$(expect_fail "capture of a member" $IND "$FLOWACCT" capture s1 -w "$SCRATCH/x.pcap")
	[ "$out" = "flowacct: sampling is off on 's1': its program set's daemon samples with --sample N" ] ||
		fail "capture: $out"
	traffic 1
	traffic 2
	capture_stop
	members_views
	members_views_check
	# Each member once in a dump of all: no row but theirs, none twice.
	python3 - "$SCRATCH/dump.json" "$SCRATCH/dump1.json" "$SCRATCH/dump2.json" <<-'EOF' ||
	import json, sys
	key = lambda r: (r["ifindex"], r["direction"], r["src"], r["dst"], r["proto"], r["sport"], r["dport"])
	every = sorted(map(key, json.load(open(sys.argv[1]))["flows"]))
	each = sorted(key(r) for f in sys.argv[2:] for r in json.load(open(f))["flows"])
	if every != each:
	    sys.exit("dump of all %s, the two dumps %s" % (every, each))
	EOF
		fail "the dump of all is not the members' rows once each"
	kill -9 "$SET_PID"
	wait "$SET_PID" 2>/dev/null || true
	exec 9>&-
	$IND "$FLOWACCT" -j status >"$SCRATCH/status.json"
	check_members "$SCRATCH/status.json" "$dir" null true || fail "status after kill -9"
	# While no one holds the set: a member's device deleted (listed, gone),
	# and a member's link unpinned (its last reference: off the device).
	ip -n "$NSD" link del s2
	rm "/sys/fs/bpf/flowacct/$dir/if$(ip -n "$NSD" -o link show dev s1 | cut -d: -f1)_tc_egress"
	for i in $(seq 30); do
		$IND "$TCX_QUERY" s1 egress | grep flowacct >/dev/null || break
		sleep 0.1
	done
	$IND "$FLOWACCT" -j status >"$SCRATCH/status.json"
	python3 - "$SCRATCH/status.json" "$dir" <<-'EOF' || fail "s2 gone and s1 unlinked, not shown so"
	import json, sys
	d = json.load(open(sys.argv[1]))
	m = {x["iface_at_join"]: x for x in d["set_members"] if x["set"] == sys.argv[2]}
	print(m["s2"])
	if m["s2"]["iface"] is not None or not m["s2"]["gone"] or m["s2"]["live"]:
	    sys.exit("s2 is not gone: %s" % m["s2"])
	if m["s1"]["live"] or m["s1"]["gone"] or m["s1"]["tc_link_id"]:
	    sys.exit("s1, its egress link gone, is not said not live: %s" % m["s1"])
	EOF
	$IND "$FLOWACCT" status >"$SCRATCH/status.txt"
	grep -A1 "^s2 .* gone " "$SCRATCH/status.txt" | grep "set: $dir\$" >/dev/null ||
		fail "s2's line does not say gone: $(cat "$SCRATCH/status.txt")"
	grep "^s1 .* NO " "$SCRATCH/status.txt" >/dev/null ||
		fail "s1's line does not say NO: $(cat "$SCRATCH/status.txt")"
	# Removed through an adopter, as the next holder would.
	$IND "$SET_DRIVE" --adopt "$dir" </dev/null >"$SCRATCH/set.out" 2>"$SCRATCH/set.err" ||
		fail "set_drive --adopt: $(cat "$SCRATCH/set.err")"
	grep "^removed $dir 0$" "$SCRATCH/set.out" >/dev/null || fail "not removed: $(cat "$SCRATCH/set.out")"
	$IND "$FLOWACCT" -j status >"$SCRATCH/status.json"
	python3 - "$SCRATCH/status.json" "$dir" <<-'EOF' || fail "the removed set is still listed"
	import json, sys
	d = json.load(open(sys.argv[1]))
	left = [x for x in d["sets"] + d["set_members"] if x["set"] == sys.argv[2]]
	sys.exit("listed: %s" % left if left else 0)
	EOF
	assert_nothing_left "$NSD" s1
}

# members_live N: every sI (I <= N) a live member in status -j, within 10 s.
members_live() {
	local i
	for i in $(seq 100); do
		$IND "$FLOWACCT" -j status 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
live = {m["iface"] for m in d["set_members"] if m["live"]}
sys.exit(0 if all("s%d" % i in live for i in range(1, int(sys.argv[1]) + 1)) else 1)' "$1" &&
			return 0
		sleep 0.1
	done
	fail "the members were not live within 10 s: $(cat "$SCRATCH/run.log")"
}

# A daemon on one program set (the default layout) serves its members' rows
# through its control socket as it does an attachment's: its cache (what it
# drained), the tables not yet drained, and a row of what left in records.
# Flows of a first burst have left the cache (idle) when the second one
# runs, so a dump read from the set's tables alone would miss both: dump
# and stats of each member, of all (the whole query answered by the daemon)
# and top of a member, against each member's capture.
test_set_daemon_view() {
	local i pid out
	set_setup_pinned 2 1 2
	$IND "$FLOWACCT" run --iface 's*' --interval 0.2 --idle-timeout 3 \
		--json "$SCRATCH/rec.json" 2>"$SCRATCH/run.log" &
	pid=$!
	members_live 2
	traffic 1
	traffic 2
	sleep 4			# the first burst idle: out in records
	traffic 1
	traffic 2
	sleep 0.5		# drained into the cache, and idle in 2.5 s
	capture_stop
	members_views
	$IND "$FLOWACCT" -j top --interval 0.2 --count 1 s1 >"$SCRATCH/top.json" ||
		fail "top of a member"
	# A second daemon (another set) on a member of the first: refused,
	# its set (made first) removed.
	out=$($IND "$FLOWACCT" run --ipfix-domain 7 s1 --json /dev/null 2>&1) &&
		fail "a second set joined s1: $out"
	echo "$out" | grep "'s1' is linked by the program set 'run-net.*' (held by pid $pid): taken again here, its packets would be counted twice" ||
		fail "a second set's join of s1: $out"
	ls -d /sys/fs/bpf/flowacct/run-net*-d7 2>/dev/null && fail "the refused daemon's set stays"
	members_views_check
	python3 - "$SCRATCH/dump1.json" "$SCRATCH/top.json" <<-'EOF' || fail "exported rows or top"
	import json, sys
	d = json.load(open(sys.argv[1]))
	if not any(r["exported"] for r in d["flows"]):
	    sys.exit("no exported row in the dump: the first burst is not out in records")
	if not any(not r["exported"] and not r["overflow"] for r in d["flows"]):
	    sys.exit("no flow of the cache in the dump: %s" % d["flows"])
	t = json.loads(open(sys.argv[2]).readline())
	print("top:", t["totals"])
	EOF
	kill -TERM "$pid"
	wait "$pid" || fail "run: $(cat "$SCRATCH/run.log")"
	assert_nothing_left "$NSD" s1
	assert_nothing_left "$NSD" s2
}

# A daemon on a program set sampling every frame (--sample 1): a capture of
# s1 writes s1's frames, each one tcpdump saw on it and no frame of s2's,
# none lost; s1's counters say as many samples. The capture stops, saying
# so, when s1 leaves the set (deleted).
test_set_sample() {
	local pid cap written out i
	set_setup_pinned 2 1 2
	$IND "$FLOWACCT" run --iface 's*' --sample 1 --json "$SCRATCH/rec.json" \
		2>"$SCRATCH/run.log" &
	pid=$!
	members_live 2
	$IND "$FLOWACCT" capture s1 -w "$SCRATCH/c1.pcap" 2>"$SCRATCH/cap.log" &
	cap=$!
	sleep 0.5	# the reader in place before the traffic
	out=$(expect_fail "a second capture of the set" $IND "$FLOWACCT" capture s2 -w "$SCRATCH/c2.pcap")
	echo "$out" | grep "'s2' shares the sample buffer of its program set '.*' with a capture that runs (pid $cap)" ||
		fail "the second capture's refusal: $out"
	traffic 1
	traffic 2
	sleep 0.3
	capture_stop
	$IND "$FLOWACCT" -j stats s1 >"$SCRATCH/stats1.json"
	kill -INT "$cap"
	wait "$cap" || fail "capture: $(cat "$SCRATCH/cap.log")"
	cat "$SCRATCH/cap.log"
	grep -q " 0 lost" "$SCRATCH/cap.log" || fail "samples were lost"
	written=$(sed -n 's/^flowacct: \([0-9]*\) samples written.*/\1/p' "$SCRATCH/cap.log")
	python3 - "$SCRATCH" "$written" "$SCRATCH/stats1.json" <<-'EOF' || fail "s1's samples"
	import json, subprocess, sys
	d, written = sys.argv[1], int(sys.argv[2])
	def frames(f, *fields):
	    out = subprocess.run(["tshark", "-r", f, "-T", "fields"] + sum((["-e", x] for x in fields), []),
	                         capture_output=True, text=True, check=True).stdout
	    return [l for l in out.split("\n") if l]
	want = len(frames(d + "/s1.in.pcap", "frame.len")) + len(frames(d + "/s1.out.pcap", "frame.len"))
	got = frames(d + "/c1.pcap", "ip.src", "ip.dst")
	st = json.load(open(sys.argv[3]))["interfaces"][0]
	samples = sum(h["counters"]["samples"] for h in st["hooks"])
	print("samples written", written, "in the file", len(got), "s1's counters", samples,
	      "tcpdump on s1", want)
	if not (written == len(got) == samples == want):
	    sys.exit("s1's samples differ")
	others = [l for l in got if not all(a.startswith("198.51.100.") and 4 <= int(a.split(".")[3]) <= 7
	                                    for a in l.split("\t") if a)]
	if others:
	    sys.exit("frames of another interface in s1's capture: %s" % others)
	EOF
	# A capture of a member that leaves stops, and says why.
	$IND "$FLOWACCT" capture s2 -w "$SCRATCH/c2.pcap" 2>"$SCRATCH/cap2.log" &
	cap=$!
	sleep 0.5
	ip -n "$NSD" link del s2
	for i in $(seq 50); do
		kill -0 "$cap" 2>/dev/null || break
		sleep 0.1
	done
	wait "$cap" && fail "the capture of a member that left did not fail"
	grep "'s2' was unlinked from its program set: capture stopped" "$SCRATCH/cap2.log" ||
		fail "the capture did not say why it stopped: $(cat "$SCRATCH/cap2.log")"
	kill -TERM "$pid"
	wait "$pid" || fail "run: $(cat "$SCRATCH/run.log")"
	assert_nothing_left "$NSD" s1
}
