# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# shellcheck shell=bash
# A daemon that follows a namespace's interfaces as they come and go
# (`run --iface GLOB`): each one's records against tcpdump's capture of it
# (tshark counting) and its own counters line; nothing of it left once it
# is gone; a start that is all or nothing; attach latency.

ALL_TESTS="test_follow_churn test_follow_churn_set test_follow_set_kill9 test_follow_latency test_follow_all_or_nothing test_follow_named
	test_follow_rename test_follow_rename_set test_follow_lost_events test_follow_netns_move test_follow_netns_move_set
	test_follow_stale_run
	test_follow_stale_detach test_follow_stale_set test_follow_stale_files test_follow_config"

# ---- a daemon's namespace and its peers -----------------------------------------

# follow_setup: $NSD, where the daemon runs, with IPv6 off on every interface
# made in it (nothing the kernel sends on its own), and $IND to run in it.
follow_setup() {
	local id
	id=$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')
	FID=$id
	NSD=fa-$id-d
	trap netns_cleanup EXIT
	SCRATCH=$(mktemp -d)
	netns_new_quiet "$NSD"
	IND="nsenter --net=/run/netns/$NSD"
	CAPS=()
}

# peer N NAME: a veth NAME in $NSD, its peer in a namespace of its own,
# 198.51.100.4N+1/30 here and .4N+2 there. The link stays down, without
# addresses, until link_up.
peer() {
	local n=$1 name=$2 ns=fa-$FID-p$1
	netns_new_quiet "$ns"
	ip link add "$name" netns "$NSD" type veth peer name "p$n" netns "$ns"
}

link_up() {
	local n=$1 name=$2 ns=fa-$FID-p$1
	ip -n "$NSD" addr add "198.51.100.$((4 * n + 1))/30" dev "$name"
	ip -n "$ns" addr add "198.51.100.$((4 * n + 2))/30" dev "p$n"
	# Each packet as sent: tcpdump would see GRO's and TSO's trains as one.
	ip netns exec "$ns" ethtool -K "p$n" tso off gso off gro off >/dev/null
	ip netns exec "$NSD" ethtool -K "$name" tso off gso off gro off >/dev/null
	ip -n "$ns" link set "p$n" up
	ip -n "$NSD" link set "$name" up
}

# live NAME: until `status -j` shows NAME attached (or, with LAYOUT=set, a
# member of a program set) and live (10 s at most).
live() {
	local i
	for i in $(seq 100); do
		$IND "$FLOWACCT" status -j 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
l = d["set_members"] if sys.argv[2] == "set" else d["interfaces"]
sys.exit(0 if any(i["iface"] == sys.argv[1] and i["live"] for i in l) else 1)' "$1" "${LAYOUT:-iface}" &&
			return 0
		sleep 0.1
	done
	fail "$1 was not taken within 10 s: $(tail -5 "$SCRATCH/run.log")"
}

# cap_start NAME: tcpdump on NAME, each way, to $SCRATCH/NAME.{in,out}.pcap.
cap_start() {
	local dir f i
	for dir in in out; do
		f=$SCRATCH/$1.$dir.pcap
		$IND tcpdump -i "$1" -Q "$dir" -U -n -s 128 -B 65536 --immediate-mode \
			-w "$f" 2>"$f.log" &
		eval "CAP_${1}_$dir=$!"
		for i in $(seq 50); do
			grep -q "listening on" "$f.log" 2>/dev/null && break
			sleep 0.1
		done
		grep -q "listening on" "$f.log" || fail "tcpdump on $1 did not start"
	done
}

cap_stop() {
	local dir p
	sleep 0.3
	for dir in in out; do
		eval "p=\$CAP_${1}_$dir"
		kill -INT "$p" 2>/dev/null
		wait "$p" 2>/dev/null || true
		grep -q "^0 packets dropped by kernel" "$SCRATCH/$1.$dir.pcap.log" ||
			fail "tcpdump on $1 lost packets: $(cat "$SCRATCH/$1.$dir.pcap.log")"
	done
}

# traffic N NAME: known traffic over NAME both ways: UDP datagrams of known
# sizes out (their sender's account in $SCRATCH/NAME.sent), a TCP transfer
# in, and pings in.
traffic() {
	local n=$1 name=$2 ns=fa-$FID-p$1
	local here=198.51.100.$((4 * n + 1)) there=198.51.100.$((4 * n + 2))
	$IND ping -c 1 -w 5 -q "$there" >/dev/null
	$IND python3 tests/helpers/udp_send.py --src "$here" --dst "$there" --flows 3 \
		--count 40 --size 64,500,1400 --rate 2000 >"$SCRATCH/$name.sent"
	$IND timeout 10 socat -u TCP-LISTEN:5001,reuseaddr OPEN:/dev/null &
	local l=$!
	sleep 0.2
	head -c 200000 /dev/zero | ip netns exec "$ns" timeout 10 socat -u STDIN "TCP:$here:5001"
	wait $l
	ip netns exec "$ns" ping -c 5 -i 0.05 -q "$here" >/dev/null
}

# map_ids NAME: the ids of the maps pinned for NAME, to $SCRATCH/NAME.maps
# (with LAYOUT=set, the daemon's program set's).
map_ids() {
	local f out dir
	dir=$(pin_dir "$NSD" "$1")
	[ "${LAYOUT:-iface}" = set ] &&
		dir=$(echo /sys/fs/bpf/flowacct/run-net"$(stat -L -c %i /run/netns/"$NSD")"-*)
	for f in "$dir"/*; do
		# The TCX links pinned beside the maps are not maps.
		out=$(bpftool -j map show pinned "$f" 2>/dev/null) || continue
		echo "$out" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'
	done >"$SCRATCH/$1.maps"
}

# check_stream NAME [ifindex]: NAME's records (split out by records_split.py)
# against its counters line, its sender and tcpdump.
check_stream() {
	local name=$1 f=$SCRATCH/split/$1.json
	[ -s "$f" ] || fail "no record stream of $name"
	python3 tests/checkers/check_records.py "$f" --sent "$SCRATCH/$name.sent" --books \
		--as-dump "$SCRATCH/$name.dump.json"
	python3 tests/checkers/check_live.py "$SCRATCH/$name.dump.json" \
		--in "$SCRATCH/$name.in.pcap" --out "$SCRATCH/$name.out.pcap"
}

# Nothing of the daemon's namespace is left: pins, files, maps.
assert_all_gone() {
	local ino f id
	ino=$(stat -L -c %i /run/netns/"$NSD")
	ls -d /sys/fs/bpf/flowacct/net"$ino"-* /sys/fs/bpf/flowacct/run-net"$ino"-* 2>/dev/null &&
		fail "pins left behind"
	ls /run/flowacct/net"$ino"-* /run/flowacct/run-net"$ino"-* 2>/dev/null &&
		fail "files left under /run/flowacct"
	for f in "$SCRATCH"/*.maps; do
		[ -e "$f" ] || continue
		while read -r id; do
			bpftool map show id "$id" >/dev/null 2>&1 &&
				fail "map $id of ${f##*/} is still in the kernel"
		done <"$f"
	done
	return 0
}

# ---- tests ------------------------------------------------------------------------

# Five interfaces appear one by one under `run --iface 'fq*'`, each carries
# known traffic; one is deleted once quiet, one while its sender runs; two
# more appear; one is renamed out of the pattern and one into it. Per
# interface, the records add up to its counters line and to what tcpdump
# captured on it; nothing of any of them is left afterwards. follow_churn
# ARGS: with the daemon's ARGS.
follow_churn() {
	follow_setup
	local n
	run_start "$NSD" --iface 'fq*' --exclude 'fqx*' --interval 0.2 --idle-timeout 1 "$@"
	for n in 1 2 3 4 5; do
		peer $n fq$n
		live fq$n
		map_ids fq$n
		link_up $n fq$n
		cap_start fq$n
	done
	# fq1 and fq2 quiet, then deleted while the others carry traffic.
	traffic 1 fq1
	traffic 2 fq2
	cap_stop fq1
	cap_stop fq2
	traffic 3 fq3 &
	local t3=$!
	ip -n "$NSD" link del fq1
	# fq5's sender is still sending when fq5 goes.
	$IND python3 tests/helpers/udp_send.py --src 198.51.100.21 --dst 198.51.100.22 \
		--flows 2 --count 2000 --size 100 --rate 1000 >"$SCRATCH/fq5.sent" &
	local s5=$! i
	# Deleted once the sender is sending (a loaded machine may start it late).
	for i in $(seq 50); do
		[ "$(stat -c %s "$SCRATCH/fq5.out.pcap")" -gt 1000 ] && break
		sleep 0.1
	done
	sleep 0.3
	ip -n "$NSD" link del fq5
	wait $s5 || true
	ip -n "$NSD" link del fq2
	wait $t3
	# Two new ones; fqx7 is excluded until renamed; zq8 is not followed
	# until renamed into the pattern.
	peer 6 fq6
	live fq6
	map_ids fq6
	link_up 6 fq6
	cap_start fq6
	traffic 6 fq6
	peer 8 zq8
	peer 7 fqx7
	sleep 0.5
	# Through a file: grep -q may end first and fail a long status with SIGPIPE.
	$IND "$FLOWACCT" status -j >"$SCRATCH/st.json"
	grep -q '"zq8"\|"fqx7"' "$SCRATCH/st.json" && fail "an interface not followed was taken"
	ip -n "$NSD" link set zq8 name fq8
	live fq8
	map_ids fq8
	link_up 8 fq8
	cap_start fq8
	traffic 8 fq8
	traffic 4 fq4
	cap_stop fq4
	# fq4 renamed out of the pattern: it leaves, records and all.
	ip -n "$NSD" link set fq4 name zq4
	sleep 1
	$IND "$FLOWACCT" status -j >"$SCRATCH/st.json"
	grep -q '"zq4"' "$SCRATCH/st.json" && fail "zq4 is still attached after its rename"
	ip -n "$NSD" link set zq4 name fq4b
	live fq4b
	cap_stop fq3
	cap_stop fq6
	cap_stop fq8
	run_stop
	grep -q "'fq4' was renamed 'zq4', which is not followed" "$SCRATCH"/run.1.log ||
		fail "the rename out was not said: $(cat "$SCRATCH"/run.1.log)"
	python3 tests/checkers/records_split.py "$SCRATCH/rec.json" "$SCRATCH/split"
	for n in fq1 fq2 fq3 fq4 fq6 fq8; do
		check_stream $n
	done
	# fq5, deleted mid-traffic: its records add up to its counters line, and
	# to no more than was sent.
	python3 tests/checkers/check_records.py "$SCRATCH/split/fq5.json" --books
	python3 - "$SCRATCH/split/fq5.json" "$SCRATCH/fq5.sent" <<-'EOF'
	import json, sys
	recs = [json.loads(l) for l in open(sys.argv[1])]
	# The datagrams out (the peer's port unreachables come back in).
	got = sum(r["packets"] for r in recs if r.get("type") == "flow" and
	          r["proto"] == 17 and r["direction"] == "egress")
	sent = sum(f["packets"] for f in json.load(open(sys.argv[2]))["flows"])
	assert 0 < got <= sent, "fq5: %d packets in records, %d sent" % (got, sent)
	print("fq5: %d of %d datagrams counted before it was deleted" % (got, sent))
	EOF
	# fq4b (fq4 renamed back in) is a stream of its own: no traffic, no record.
	[ -s "$SCRATCH/split/fq4b.json" ] || fail "fq4b has no counters line"
	grep -q '"fqx7"\|"zq8"' "$SCRATCH/rec.json" && fail "records of an interface not followed"
	ip -n "$NSD" link del fq3
	ip -n "$NSD" link del fq4b
	ip -n "$NSD" link del fq6
	ip -n "$NSD" link del fq8
	assert_all_gone
}

test_follow_churn() {
	follow_churn
}

# The same under one program set: every interface linked to the daemon's
# set, its rows in the set's tables, its books in the set's.
test_follow_churn_set() {
	LAYOUT=set follow_churn --layout set
}

# A daemon with one program set killed with kill -9 while kq2 carries
# traffic; kq3 deleted before the next one starts. The next adopts the set
# (its tick finished, kq1 and kq2 taken again) and writes kq3's flows out
# with its counters line; across both, each interface's records add up to
# its counters line, its capture and its sender, and nothing is left.
test_follow_set_kill9() {
	follow_setup
	local n t2 i
	LAYOUT=set
	run_start "$NSD" --iface 'kq*' --interval 0.2 --idle-timeout 1 --layout set
	for n in 1 2 3; do
		peer $n kq$n
		live kq$n
		link_up $n kq$n
		cap_start kq$n
	done
	map_ids kq1
	traffic 1 kq1
	traffic 3 kq3
	traffic 2 kq2 &
	t2=$!
	# Killed once kq2's sender is under way: its links count on meanwhile.
	for i in $(seq 50); do
		[ -s "$SCRATCH/kq2.sent" ] && break
		sleep 0.1
	done
	run_stop KILL
	cap_stop kq3
	ip -n "$NSD" link del kq3
	run_start "$NSD" --iface 'kq*' --interval 0.2 --idle-timeout 1 --layout set
	wait $t2
	cap_stop kq1
	cap_stop kq2
	run_stop
	grep -q "adopted the program set" "$SCRATCH/run.2.log" &&
		grep -q "adopted 'kq2' in the program set" "$SCRATCH/run.2.log" &&
		grep -q "'kq3' (index [0-9]*) left the program set while no daemon ran" \
			"$SCRATCH/run.2.log" || fail "the set was not adopted as it should: $(cat "$SCRATCH/run.2.log")"
	python3 tests/checkers/records_split.py "$SCRATCH/rec.json" "$SCRATCH/split"
	for n in kq1 kq2 kq3; do
		check_stream $n
	done
	ip -n "$NSD" link del kq1
	ip -n "$NSD" link del kq2
	assert_all_gone
}

# From an interface's creation to its first packet counted, under a second:
# a sender in the peer namespace sends a datagram every 5 ms from the moment
# the link exists, each on a source port of its own; the first port in the
# daemon's rows (a member's, from the daemon) says when counting began. With
# the default layout, one program set: a join is links, not a load.
test_follow_latency() {
	follow_setup
	local n
	LAYOUT=set run_start "$NSD" --iface 'lq*' --interval 0.5
	for n in 1 2 3 4 5; do
		netns_new "fa-$FID-p$n"
		python3 - "$NSD" "fa-$FID-p$n" "lq$n" $n "$SCRATCH/lat$n.json" <<-'EOF'
		import json, socket, subprocess, sys, time
		nsd, nsp, name, n, out = sys.argv[1:6]
		n = int(n)
		here, there = "198.51.100.%d" % (4 * n + 1), "198.51.100.%d" % (4 * n + 2)
		t0 = time.monotonic()
		subprocess.run(["ip", "link", "add", name, "netns", nsd, "type", "veth",
		                "peer", "name", "p%d" % n, "netns", nsp], check=True)
		for ns, dev, a in ((nsd, name, here), (nsp, "p%d" % n, there)):
		    subprocess.run(["ip", "-n", ns, "addr", "add", a + "/30", "dev", dev], check=True)
		    subprocess.run(["ip", "-n", ns, "link", "set", dev, "up"], check=True)
		# No ARP: a datagram sent while its neighbour is unresolved would
		# wait in the ARP queue and leave later than it says it was sent.
		mac = json.loads(subprocess.run(["ip", "-j", "-n", nsd, "link", "show", name],
		                                check=True, capture_output=True).stdout)[0]["address"]
		subprocess.run(["ip", "-n", nsp, "neigh", "replace", here, "lladdr", mac,
		                "dev", "p%d" % n, "nud", "permanent"], check=True)
		# The sender lives in the peer's namespace.
		with open("/run/netns/" + nsp) as f:
		    import ctypes
		    ctypes.CDLL(None, use_errno=True).setns(f.fileno(), 0x40000000)
		sent = {}
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		for i in range(300):
		    port = 40000 + i
		    try:
		        s2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		        s2.bind((there, port))
		        s2.sendto(b"x", (here, 9))
		        sent[port] = time.monotonic() - t0
		        s2.close()
		    except OSError:
		        pass
		    time.sleep(0.005)
		json.dump(sent, open(out, "w"))
		EOF
		$IND "$FLOWACCT" dump -j lq$n >"$SCRATCH/lat$n.dump"
		python3 - "$SCRATCH/lat$n.json" "$SCRATCH/lat$n.dump" lq$n <<-'EOF'
		import json, sys
		sent = {int(k): v for k, v in json.load(open(sys.argv[1])).items()}
		rows = json.load(open(sys.argv[2]))["flows"]
		ports = sorted(r["sport"] for r in rows
		               if r["direction"] == "ingress" and r["proto"] == 17 and r["sport"] in sent)
		assert ports, "%s: no datagram counted" % sys.argv[3]
		first = ports[0]
		# Every datagram after the first counted is counted too.
		missing = [p for p in sent if p > first and p not in ports]
		assert not missing, "%s: %d datagrams after the first counted were not" % (sys.argv[3], len(missing))
		lat = sent[first]
		print("%s: first packet counted %.0f ms after the interface was created" % (sys.argv[3], lat * 1000))
		assert lat < 1.0, "%s: %.3f s from creation to the first packet counted" % (sys.argv[3], lat)
		EOF
	done
	run_stop
}

# `run a b` where b does not exist attaches nothing and leaves nothing; one
# that cannot be taken (held by another daemon) undoes the others.
test_follow_all_or_nothing() {
	netns_pair
	ip link add fan1 netns "$NSA" type veth peer name fan2 netns "$NSA"
	expect_fail "a missing interface" $INA "$FLOWACCT" run --layout iface "$VA" nosuch0 --json "$SCRATCH/r.json"
	[ ! -e "$(pin_dir "$NSA" "$VA")" ] || fail "$VA was left attached"
	run_start "$NSA" fan1
	# It says what it attached, then why it stops, then what it undid.
	$INA "$FLOWACCT" run --layout iface "$VA" fan1 --json "$SCRATCH/r2.json" 2>"$SCRATCH/r2.log" &&
		fail "a start with an interface another daemon holds succeeded"
	grep -q "'fan1' is in use by flowacct run" "$SCRATCH/r2.log" ||
		fail "the refusal was not said: $(cat "$SCRATCH/r2.log")"
	grep -q "'$VA' detached again" "$SCRATCH/r2.log" ||
		fail "the undoing was not said: $(cat "$SCRATCH/r2.log")"
	[ ! -e "$(pin_dir "$NSA" "$VA")" ] || fail "$VA was left attached after the refusal"
	$INA tc filter show dev "$VA" egress >"$SCRATCH/f.txt"
	grep -q flowacct "$SCRATCH/f.txt" && fail "a filter was left on $VA"
	run_stop
	expect_fail "no interface at all" $INA "$FLOWACCT" run --layout iface --json "$SCRATCH/r3.json"
	assert_nothing_left "$NSA" "$VA"
}

# A named interface deleted under the daemon leaves with its flows; one made
# again under the same name is a new interface, taken again.
test_follow_named() {
	follow_setup
	peer 1 nq1
	run_start "$NSD" nq1 --interval 0.2
	link_up 1 nq1
	map_ids nq1
	$IND ping -c 3 -i 0.05 -q 198.51.100.6 >/dev/null
	ip -n "$NSD" link del nq1
	ip netns del "fa-$FID-p1"
	peer 1 nq1
	live nq1
	link_up 1 nq1
	$IND ping -c 2 -i 0.05 -q 198.51.100.6 >/dev/null
	sleep 0.5
	# dump answers with the new interface's rows.
	$IND "$FLOWACCT" dump -j nq1 | python3 -c '
import json, sys
rows = json.load(sys.stdin)["flows"]
p = sum(r["packets"] for r in rows if r["proto"] == 1 and r["direction"] == "egress")
assert p == 2, "the new nq1 rows show %d pings out, not 2" % p'
	run_stop
	grep -q "'nq1' is gone" "$SCRATCH"/run.1.log || fail "the deletion was not said"
	python3 - "$SCRATCH/rec.json" <<-'EOF'
	import json, sys
	lines = [json.loads(l) for l in open(sys.argv[1])]
	c = [l for l in lines if l["type"] == "counters"]
	assert len(c) == 2 and c[0]["instance"] != c[1]["instance"], "want two streams: %s" % c
	for k, want in zip(c, (3, 2)):
	    got = sum(r["packets"] for r in lines if r["type"] == "flow" and
	              r["instance"] == k["instance"] and r["proto"] == 1 and r["direction"] == "egress")
	    assert got == want, "stream %s: %d pings out, want %d" % (k["instance"], got, want)
	    assert all(r["end_reason"] == "forced" for r in lines
	               if r["type"] == "flow" and r["instance"] == k["instance"])
	EOF
	ip -n "$NSD" link del nq1
	assert_all_gone
}

# A rename within what is followed: the same stream, records and metrics
# under the new name from then on; the metrics of an interface that left
# are gone from the page.
follow_rename() {
	follow_setup
	peer 1 rq1
	peer 2 rq2
	run_start "$NSD" --iface 'rq*' --interval 0.2 --active-timeout 1 --idle-timeout 1 \
		--metrics-file "$SCRATCH/m.prom" "$@"
	live rq1
	live rq2
	link_up 1 rq1
	link_up 2 rq2
	$IND ping -c 4 -i 0.05 -q 198.51.100.6 >/dev/null
	$IND ping -c 2 -i 0.05 -q 198.51.100.10 >/dev/null
	sleep 2.5	# their records out under the old name
	ip -n "$NSD" link set rq1 name rq1b
	$IND ping -c 3 -i 0.05 -q 198.51.100.6 >/dev/null
	ip -n "$NSD" link del rq2
	sleep 2.5
	grep -q 'iface="rq1b"' "$SCRATCH/m.prom" || fail "no metrics under the new name"
	grep -q 'iface="rq1"' "$SCRATCH/m.prom" && fail "metrics under the old name remain"
	grep -q 'iface="rq2"' "$SCRATCH/m.prom" && fail "metrics of the deleted rq2 remain"
	run_stop
	python3 - "$SCRATCH/rec.json" <<-'EOF'
	import json, sys
	lines = [json.loads(l) for l in open(sys.argv[1])]
	pings = lambda name: sum(r["packets"] for r in lines if r["type"] == "flow" and
	                         r["iface"] == name and r["proto"] == 1 and r["direction"] == "egress")
	assert pings("rq1") == 4, "records under rq1: %d pings out, want 4" % pings("rq1")
	assert pings("rq1b") == 3, "records under rq1b: %d pings out, want 3" % pings("rq1b")
	insts = {r["instance"] for r in lines if r["type"] == "flow" and r["iface"] in ("rq1", "rq1b")}
	assert len(insts) == 1, "a rename began another stream: %s" % insts
	EOF
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --books
}

test_follow_rename() {
	follow_rename
}

# The same for members of the daemon's program set: the books name them.
test_follow_rename_set() {
	LAYOUT=set follow_rename --layout set
}

# count_live GLOB: how many interfaces whose name matches GLOB status shows live.
count_live() {
	$IND "$FLOWACCT" status -j | python3 -c '
import fnmatch, json, sys
d = json.load(sys.stdin)
print(sum(1 for i in d["interfaces"] if i["iface"] and i["live"] and fnmatch.fnmatch(i["iface"], sys.argv[1])))' "$1"
}

# per_name WHAT LOG: for eq1..eq16, how many lines of LOG say WHAT of it
# ("attached to '%s'", "'%s': its flows are out"), as "eq1=1 eq2=1 ...".
per_name() {
	local i out=
	for i in $(seq 16); do
		# shellcheck disable=SC2059
		out+="eq$i=$(grep -cF "$(printf "$1" eq$i)" "$2" || true) "
	done
	echo "${out% }"
}

# Bursts of link events larger than the daemon's socket buffer (made small
# for the test): the kernel drops events, says ENOBUFS, and the daemon
# starts over from a full dump. Eight interfaces made while the daemon is
# stopped, then eight more while it takes the first eight from its dump
# (the kernel drops every event for a socket it found full until its queue
# is empty, and says ENOBUFS only once): each of the 16 is taken once. All
# deleted while it is stopped, read from a dump too: each leaves once. One
# take and one leave per name, from the daemon's lines (a daemon also
# releases, at its start, stale attachments other namespaces left: they
# have lines of their own, not counted here).
test_follow_lost_events() {
	follow_setup
	local i n want log lost
	want=$(for i in $(seq 16); do printf 'eq%d=1 ' $i; done)
	want=${want% }
	export FLOWACCT_TEST_LINK_EVENTS_BUFFER=4096
	run_start "$NSD" --iface 'eq*' --interval 0.5 --max-flows 1024 --cache-size 1024
	unset FLOWACCT_TEST_LINK_EVENTS_BUFFER
	log=$SCRATCH/run.$RUN_STARTS.log
	for i in $(seq 16); do
		echo "link add eq$i type veth peer name ep$i"
	done >"$SCRATCH/add.batch"
	kill -STOP "$RUN_PID"
	head -8 "$SCRATCH/add.batch" | ip -n "$NSD" -batch -
	kill -CONT "$RUN_PID"
	# Each take is about 0.3 s: the second burst comes while the first
	# is being taken.
	sleep 0.5
	tail -8 "$SCRATCH/add.batch" | ip -n "$NSD" -batch -
	for i in $(seq 300); do
		n=$(count_live 'eq*')
		[ "$n" = 16 ] && break
		sleep 0.2
	done
	[ "$n" = 16 ] || fail "$n of 16 interfaces taken: $(tail -5 "$log")"
	lost=$(grep -c "interface events were lost" "$log" || true)
	[ "$lost" -ge 1 ] || fail "no events were lost: the test did not test the resync"
	kill -STOP "$RUN_PID"
	for i in $(seq 16); do echo "link del eq$i"; done | ip -n "$NSD" -batch -
	kill -CONT "$RUN_PID"
	for i in $(seq 100); do
		[ "$(per_name "'%s': its flows are out" "$log")" = "$want" ] && break
		sleep 0.2
	done
	# Anything taken again would have had time to be.
	sleep 1
	run_stop
	[ "$(grep -c "interface events were lost" "$log")" -gt "$lost" ] ||
		fail "the deletions were not read from a dump: $(cat "$log")"
	n=$(per_name "attached to '%s'" "$log")
	[ "$n" = "$want" ] || fail "$(cat "$log")
one take per interface wanted; got $n"
	n=$(per_name "'%s': its flows are out and its counters written; its pins and files are removed" \
		"$log")
	[ "$n" = "$want" ] || fail "$(cat "$log")
one leave per interface wanted; got $n"
	assert_all_gone
}

# An interface moved to another namespace under the daemon, once with TC at
# ingress and once with XDP: the kernel keeps a moved device's XDP program
# and TCX links, so the daemon must take them off itself. Its records are
# what was sent both ways before the move, to the datagram; its counters
# line adds them up; nothing of ours is left on the device in its new
# namespace (tcx_query and ip there), nor its pins, files or maps here.
# netns_move ARGS: with the daemon's ARGS.
netns_move() {
	follow_setup
	local n=0 ingress name ns here there nsm pins ino f i ifx
	for ingress in tc xdp; do
		n=$((n + 1))
		name=mq$n ns=fa-$FID-p$n nsm=fa-$FID-m$n
		here=198.51.100.$((4 * n + 1)) there=198.51.100.$((4 * n + 2))
		netns_new "$nsm"
		peer $n $name
		run_start "$NSD" --iface 'mq*' --interval 0.2 --ingress $ingress "$@"
		live $name
		map_ids $name
		pins=$(pin_dir "$NSD" $name)
		if [ "${LAYOUT:-iface}" = set ]; then
			# A member's pins are its links', in its set's directory.
			ifx=$(ip -n "$NSD" -o link show dev $name | cut -d: -f1)
			pins=$(echo /sys/fs/bpf/flowacct/run-net"$(stat -L -c %i /run/netns/"$NSD")"-*)/if${ifx}_
			ls "$pins"* >/dev/null || fail "no link pinned for $name as $pins*"
		fi
		link_up $n $name
		$IND ping -c 1 -w 5 -q "$there" >/dev/null
		$IND python3 tests/helpers/udp_send.py --src "$here" --dst "$there" --flows 3 \
			--count 20 --size 64,700 --sport 31000 >"$SCRATCH/$name.out.sent"
		ip netns exec "$ns" python3 tests/helpers/udp_send.py --src "$there" --dst "$here" \
			--flows 2 --count 30 --size 200,1200 --sport 32000 |
			python3 -c '
import json, sys
d = json.load(sys.stdin)
for f in d["flows"]:
    f["direction"] = "ingress"
json.dump(d, sys.stdout)' >"$SCRATCH/$name.in.sent"
		ip -n "$NSD" link set $name netns "$nsm"
		for i in $(seq 100); do
			grep -q "'$name': its flows are out" "$SCRATCH/run.$n.log" && break
			sleep 0.1
		done
		grep -q "'$name' was moved to another network namespace" "$SCRATCH/run.$n.log" ||
			fail "the move of $name was not said: $(cat "$SCRATCH/run.$n.log")"
		grep -q "'$name': its flows are out and its counters written; its \(pins and files\|links and rows\) are removed" \
			"$SCRATCH/run.$n.log" || fail "$name did not leave: $(cat "$SCRATCH/run.$n.log")"
		# Nothing of ours on it where it is now.
		tcx_progs "$nsm" $name >"$SCRATCH/$name.tcx"
		grep -q flowacct "$SCRATCH/$name.tcx" &&
			fail "a TCX link of ours stays on $name in its new namespace: $(cat "$SCRATCH/$name.tcx")"
		ip -n "$nsm" -d link show $name >"$SCRATCH/$name.link"
		grep -q "prog/xdp" "$SCRATCH/$name.link" &&
			fail "an XDP program stays on $name in its new namespace: $(cat "$SCRATCH/$name.link")"
		ip netns exec "$nsm" tc filter show dev $name ingress | grep flowacct >/dev/null &&
			fail "a filter of ours stays on $name ingress"
		ip netns exec "$nsm" tc filter show dev $name egress | grep flowacct >/dev/null &&
			fail "a filter of ours stays on $name egress"
		if [ "${LAYOUT:-iface}" = set ]; then
			ls -d "$pins"* 2>/dev/null && fail "the link pins of $name stay"
		else
			[ ! -e "$pins" ] || fail "the pins of $name stay: $(ls "$pins")"
		fi
		ls /run/flowacct/"${pins##*/}".* 2>/dev/null && fail "files of $name stay under /run/flowacct"
		# A map goes with the last program using it, freed after an RCU
		# grace period: a moment, not seconds. (A set's go with the set,
		# at the daemon's stop: assert_all_gone.)
		[ "${LAYOUT:-iface}" = set ] ||
			while read -r i; do
				for f in $(seq 20); do
					bpftool map show id "$i" >/dev/null 2>&1 || break
					sleep 0.1
				done
				bpftool map show id "$i" >/dev/null 2>&1 && fail "map $i of $name is still in the kernel"
			done <"$SCRATCH/$name.maps"
		run_stop
	done
	python3 tests/checkers/records_split.py "$SCRATCH/rec.json" "$SCRATCH/split"
	for name in mq1 mq2; do
		python3 tests/checkers/check_records.py "$SCRATCH/split/$name.json" --books \
			--sent "$SCRATCH/$name.out.sent" --sent "$SCRATCH/$name.in.sent"
		# No datagram but those sent: the UDP in the records is theirs, to the packet.
		python3 - "$SCRATCH/split/$name.json" "$SCRATCH/$name.out.sent" "$SCRATCH/$name.in.sent" <<-'EOF'
		import json, sys
		recs = [json.loads(l) for l in open(sys.argv[1])]
		got = sum(r["packets"] for r in recs if r.get("type") == "flow" and r["proto"] == 17)
		sent = sum(f["packets"] for p in sys.argv[2:] for f in json.load(open(p))["flows"])
		assert got == sent, "%s: %d UDP packets in records, %d sent" % (sys.argv[1], got, sent)
		EOF
	done
	assert_all_gone
}

test_follow_netns_move() {
	netns_move
}

# The same for a member of the daemon's program set: unlinked (its pinned
# links too) by the daemon, its rows forgotten, its flows out.
test_follow_netns_move_set() {
	LAYOUT=set netns_move --layout set
}

# stale_setup: a daemon in a namespace of its own ($NSX) on sx1, known
# datagrams through it, some drained into its cache, some still in its
# tables; kill -9; then the namespace is deleted. Its records so far are in
# $SCRATCH/rec.json, what was sent in $SCRATCH/sx*.sent.
stale_setup() {
	local ino
	follow_setup
	NSX=fa-$FID-x
	netns_new "$NSX"
	netns_new "fa-$FID-y"
	ip link add sx1 netns "$NSX" type veth peer name sy1 netns "fa-$FID-y"
	ip -n "$NSX" addr add 198.51.100.1/30 dev sx1
	ip -n "fa-$FID-y" addr add 198.51.100.2/30 dev sy1
	ip -n "fa-$FID-y" link set sy1 up
	ip -n "$NSX" link set sx1 up
	run_start "$NSX" sx1 --interval 0.2 "$@"
	local x="nsenter --net=/run/netns/$NSX"
	$x ping -c 1 -w 5 -q 198.51.100.2 >/dev/null
	$x python3 tests/helpers/udp_send.py --src 198.51.100.1 --dst 198.51.100.2 --flows 4 \
		--count 50 --size 100,900 --sport 30000 >"$SCRATCH/sx1.sent"
	sleep 0.6	# drained into the cache, where they wait for their timeout
	$x python3 tests/helpers/udp_send.py --src 198.51.100.1 --dst 198.51.100.2 --flows 3 \
		--count 20 --size 300 --sport 31000 >"$SCRATCH/sx2.sent"
	STALE_DIR=$(pin_dir "$NSX" sx1)
	ino=$(stat -L -c %i /run/netns/"$NSX")
	[ "${LAYOUT:-iface}" = set ] && STALE_DIR=$(echo /sys/fs/bpf/flowacct/run-net"$ino"-*)
	for f in "$STALE_DIR"/*; do
		# Link pins (TCX) are not maps: bpftool says so, and they are skipped.
		bpftool -j map show pinned "$f" 2>/dev/null |
			python3 -c 'import json, sys; d = json.load(sys.stdin); "id" in d and print(d["id"])' || true
	done >"$SCRATCH/sx1.maps"
	[ -s "$SCRATCH/sx1.maps" ] || fail "no maps pinned for sx1"
	run_stop KILL
	ip netns del "fa-$FID-y"
	ip netns del "$NSX"
	[ -d "$STALE_DIR" ] || fail "the killed daemon's pins are not there to release"
}

# Nothing of the stale attachment or set is left: pins, files, maps.
stale_gone() {
	local id
	[ ! -e "$STALE_DIR" ] || fail "the stale pins are still there: $(ls "$STALE_DIR")"
	ls /run/flowacct/"${STALE_DIR##*/}"* 2>/dev/null && fail "its files are left under /run/flowacct"
	while read -r id; do
		bpftool map show id "$id" >/dev/null 2>&1 && fail "its map $id is still in the kernel"
	done <"$SCRATCH/sx1.maps"
	return 0
}

# What the killed daemon wrote and what its release wrote add up to what
# was sent, exactly; its counters line is there; nothing of it is left.
stale_check() {
	local released=$1
	grep -q '"type": *"counters".*"iface": *"sx1"' "$released" ||
		fail "no counters line of sx1 in the released records: $(head -c 600 "$released")"
	cat "$SCRATCH/rec.json" "$released" >"$SCRATCH/all.json"
	python3 tests/checkers/check_records.py "$SCRATCH/all.json" --sent "$SCRATCH/sx1.sent" \
		--sent "$SCRATCH/sx2.sent" --books --reasons forced
	stale_gone
}

# release_run WHAT [ARGS]: a daemon started in $NSD (following nothing),
# with ARGS, and stopped once running: its log must say WHAT was released;
# its records in $SCRATCH/released.json.
release_run() {
	local what=$1 pid i
	shift
	nsenter --net=/run/netns/"$NSD" "$(realpath "$FLOWACCT")" run --iface 'none*' $(layout_arg "$@") "$@" \
		--json "$SCRATCH/released.json" 2>"$SCRATCH/r2.log" &
	pid=$!
	for i in $(seq 100); do
		grep -q "running on" "$SCRATCH/r2.log" && break
		sleep 0.1
	done
	kill -TERM $pid
	wait $pid || fail "the second daemon failed: $(cat "$SCRATCH/r2.log")"
	grep -q "$what" "$SCRATCH/r2.log" || fail "the release was not said: $(cat "$SCRATCH/r2.log")"
}

# A starting daemon releases what a killed daemon in a deleted namespace left.
test_follow_stale_run() {
	stale_setup
	$IND "$FLOWACCT" status -j >"$SCRATCH/st.json"
	grep -q "\"${STALE_DIR##*/}\"" "$SCRATCH/st.json" ||
		fail "status does not list the stale attachment"
	release_run "is stale"
	stale_check "$SCRATCH/released.json"
}

# The same of a daemon's program set: released by a starting daemon, then
# (another set) by detach --stale.
test_follow_stale_set() {
	LAYOUT=set stale_setup --layout set
	LAYOUT=set
	release_run "program set .* is stale" --layout set
	stale_check "$SCRATCH/released.json"
	rm -f "$SCRATCH/rec.json"
	LAYOUT=set stale_setup --layout set
	$IND "$FLOWACCT" detach --stale --records "$SCRATCH/released2.json" 2>"$SCRATCH/d.log" ||
		fail "detach --stale failed: $(cat "$SCRATCH/d.log")"
	stale_check "$SCRATCH/released2.json"
}

# A stale attachment, then a stale set, whose daemon's files under
# /run/flowacct are gone too (removed, or on a filesystem that went): its
# cache is lost and what its tables hold cannot be written exactly, so a
# starting daemon removes it unwritten and says how many rows its tables
# held (bpftool's count of them); nothing of it is left.
# stale_files ARGS: with the killed daemon's ARGS.
stale_files() {
	local rows id
	# No tick: every row stays in the tables.
	stale_setup --interval 30 "$@"
	rm -f /run/flowacct/"${STALE_DIR##*/}".*
	rows=0
	for id in flows_0 flows_1; do
		rows=$((rows + $(bpftool -j map dump pinned "$STALE_DIR/$id" |
			python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')))
	done
	[ "$rows" -gt 0 ] || fail "nothing in the stale tables to lose"
	release_run "released the stale .*${STALE_DIR##*/}): its daemon's files under /run/flowacct are gone (its cache with them), so its tables' $rows rows could not be written exactly, and were not" "$@"
	stale_gone
}

test_follow_stale_files() {
	stale_files
	LAYOUT=set stale_files --layout set
}

# detach --stale does the same without a daemon.
test_follow_stale_detach() {
	stale_setup
	$IND "$FLOWACCT" detach --stale --records "$SCRATCH/released.json" 2>"$SCRATCH/d.log" ||
		fail "detach --stale failed: $(cat "$SCRATCH/d.log")"
	stale_check "$SCRATCH/released.json"
	# Nothing more to release: no record, no error.
	$IND "$FLOWACCT" detach --stale >"$SCRATCH/again.json"
	[ ! -s "$SCRATCH/again.json" ] || fail "a second detach --stale wrote records"
}

# The configuration file: its options apply; one also given on the command
# line takes the command line's value, a list (--iface) the command line's
# list; a list given in the file only (--exclude) stays. Which interfaces
# are taken (status -j), the flip interval and the records file (the
# daemon's line) say which won. A bad line: one line naming the file and
# the line, and nothing attached.
test_follow_config() {
	follow_setup
	local conf=$SCRATCH/flowacct.conf msg
	cat >"$conf" <<-EOF
	# the file's: replaced, replaced, kept, replaced
	iface = cq*
	interval = 3
	exclude = cr2*
	json = $SCRATCH/file.json
	EOF
	for n in 1 2 3; do peer $n "$(echo cq1 cr1 cr2 | cut -d' ' -f$n)"; done
	run_start "$NSD" --config "$conf" --iface 'cr*' --interval 0.2
	live cr1
	grep -q "a flip every 0.2 s; records to $SCRATCH/rec.json" "$SCRATCH/run.log" ||
		fail "the command line's interval and records file did not win: $(cat "$SCRATCH/run.log")"
	$IND "$FLOWACCT" -j status | python3 -c '
import json, sys
d = json.load(sys.stdin)
taken = sorted(m["iface"] for m in d["set_members"] + d["interfaces"] if m["iface"])
print("taken:", taken)
sys.exit(0 if taken == ["cr1"] else "want cr1 alone: the file'"'"'s --iface replaced, its --exclude kept")' ||
		fail "the interfaces taken"
	run_stop
	[ ! -e "$SCRATCH/file.json" ] || fail "records went to the file's json"
	printf 'interval = 1\nall\n' >"$conf"
	msg=$(expect_fail "a bad line" $IND "$FLOWACCT" run --config "$conf" cr1)
	[ "$msg" = "flowacct: $conf:2: not 'name = value': 'all'" ] || fail "bad line: $msg"
	assert_nothing_left "$NSD" cr1
}
