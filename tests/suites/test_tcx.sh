# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# TCX links (Linux 6.6+) for the TC hooks: attached where the kernel has
# them, among other TCX programs and clsact filters without taking their
# packets, pinned so that they outlive the command and a killed daemon,
# and gone, programs and maps with them, at detach, even once the interface
# is gone. The kernel's own answers are the oracle: BPF_PROG_QUERY
# (tests/c/tcx_query.c), tc, bpftool, counting programs of the test's own.

ALL_TESTS="test_tcx_attach test_tcx_ordering test_tcx_clsact test_tcx_kill9
	test_tcx_iface_deleted test_tcx_held_elsewhere"

TCX_COUNTER=$PWD/build/tests/tcx_counter
COUNT_OBJ=$PWD/build/tests/progs/count_len.bpf.o
# The test's datagrams as TC sees them: 14 + 20 + 8 + 333 (count_len.bpf.c).
DGRAM_SIZE=333
DGRAM_LEN=375

# tcx_ids NS DEV DIRECTION: "PROG_ID LINK_ID NAME" lines, in the order they run.
tcx_ids() {
	nsenter --net=/run/netns/"$1" "$TCX_QUERY" "$2" "$3"
}

# status_field DEV KEY: KEY of DEV's attachment in status -j.
status_field() {
	$INA "$FLOWACCT" -j status | python3 -c 'import json, sys
for i in json.load(sys.stdin)["interfaces"]:
    if i["iface"] == sys.argv[1] and i["this_netns"]:
        print(json.dumps(i[sys.argv[2]]).strip("\""))' "$1" "$2"
}

# prog_exists ID: the kernel still has the program (a pin, a link or an fd
# holds it). Freed programs go after an RCU grace period: asked a few times.
prog_gone() {
	local i
	for i in $(seq 30); do
		bpftool prog show id "$1" >/dev/null 2>&1 || return 0
		sleep 0.1
	done
	return 1
}

# Attached with the defaults on this kernel: TCX links on both sides (a
# veth's ingress is at TC), pinned beside the maps, and no clsact filter
# or qdisc; status says which API and which links, as the kernel has them.
# With XDP at ingress, egress alone is a TCX link. Detach leaves nothing,
# and the programs are freed.
test_tcx_attach() {
	netns_pair
	local dir in eg tc_prog tci_prog
	dir=$(pin_dir "$NSA" "$VA")
	$INA "$FLOWACCT" attach "$VA" --ingress tc
	in=$(tcx_ids "$NSA" "$VA" ingress)
	eg=$(tcx_ids "$NSA" "$VA" egress)
	echo "TCX ingress: $in"
	echo "TCX egress: $eg"
	[ "$(echo "$in" | awk '{ print $3 }')" = flowacct_tc_in ] || fail "ingress: $in"
	[ "$(echo "$eg" | awk '{ print $3 }')" = flowacct_tc ] || fail "egress: $eg"
	[ "$(status_field "$VA" tc_api)" = tcx ] || fail "status: tc_api $(status_field "$VA" tc_api)"
	[ "$(status_field "$VA" tc_ingress_api)" = tcx ] || fail "status: tc_ingress_api"
	[ "$(status_field "$VA" tc_link_id)" = "$(echo "$eg" | awk '{ print $2 }')" ] ||
		fail "status: tc_link_id $(status_field "$VA" tc_link_id), the kernel: $eg"
	[ "$(status_field "$VA" tc_ingress_link_id)" = "$(echo "$in" | awk '{ print $2 }')" ] ||
		fail "status: tc_ingress_link_id $(status_field "$VA" tc_ingress_link_id), the kernel: $in"
	[ "$(status_field "$VA" tc_prog_id)" = "$(echo "$eg" | awk '{ print $1 }')" ] ||
		fail "status: tc_prog_id"
	[ "$(status_field "$VA" live)" = true ] || fail "status: not live"
	$INA "$FLOWACCT" status | grep -q "^  tc: tcx links $(echo "$in" | awk '{ print $2 }') (ingress), $(echo "$eg" | awk '{ print $2 }') (egress)$" ||
		fail "text status: $($INA "$FLOWACCT" status)"
	[ -e "$dir/tcx_ingress" ] && [ -e "$dir/tcx_egress" ] || fail "links not pinned: $(ls "$dir")"
	ip netns exec "$NSA" tc filter show dev "$VA" ingress | grep -q . && fail "a clsact filter on ingress"
	ip netns exec "$NSA" tc filter show dev "$VA" egress | grep -q . && fail "a clsact filter on egress"
	ip netns exec "$NSA" tc qdisc show dev "$VA" | grep -q clsact && fail "clsact made for TCX"
	$INA ping -q -c 3 -i 0.1 192.0.2.2 >/dev/null
	$INA "$FLOWACCT" -j dump "$VA" | python3 -c 'import json, sys
f = json.load(sys.stdin)["flows"]
n = {d: sum(r["packets"] for r in f if r["proto"] == 1 and r["direction"] == d) for d in ("ingress", "egress")}
print("ICMP through the links:", n)
sys.exit(n != {"ingress": 3, "egress": 3})' || fail "the links did not count the pings"
	tc_prog=$(echo "$eg" | awk '{ print $1 }')
	tci_prog=$(echo "$in" | awk '{ print $1 }')
	$INA "$FLOWACCT" detach "$VA" >/dev/null
	[ -z "$(tcx_progs "$NSA" "$VA")" ] || fail "left on TCX: $(tcx_progs "$NSA" "$VA")"
	[ ! -e "$dir" ] || fail "pins left: $(ls "$dir")"
	prog_gone "$tc_prog" && prog_gone "$tci_prog" || fail "the programs outlived detach"

	$INA "$FLOWACCT" attach "$VA" --ingress xdp --mode skb >/dev/null
	[ -z "$(tcx_ids "$NSA" "$VA" ingress)" ] || fail "TCX ingress with XDP: $(tcx_ids "$NSA" "$VA" ingress)"
	tcx_ids "$NSA" "$VA" egress | grep -q " flowacct_tc$" || fail "no TCX egress with XDP ingress"
	[ "$(status_field "$VA" tc_ingress_api)" = null ] || fail "status: tc_ingress_api with XDP"
	$INA "$FLOWACCT" detach "$VA" >/dev/null
	assert_nothing_left "$NSA" "$VA"
}

# counter_start NAME DEV DIRECTION PLACE PROG_ID: a counting TCX program
# (tcx_counter) placed before or after PROG_ID, held until counter_stop.
declare -A COUNTER_PID
counter_start() {
	local name=$1 i
	[ -p "$SCRATCH/hold" ] || { mkfifo "$SCRATCH/hold"; exec 3<>"$SCRATCH/hold"; }
	nsenter --net=/run/netns/"$NSA" "$TCX_COUNTER" "$2" "$3" "$4" "$5" "$DGRAM_LEN" \
		<"$SCRATCH/hold" >"$SCRATCH/$name.out" 2>&1 &
	COUNTER_PID[$name]=$!
	for i in $(seq 50); do
		grep -q "^attached" "$SCRATCH/$name.out" && return 0
		kill -0 "${COUNTER_PID[$name]}" 2>/dev/null || fail "$name: $(cat "$SCRATCH/$name.out")"
		sleep 0.1
	done
	fail "$name did not attach"
}

# counter_stop NAME: stops it; its count is the last line of $SCRATCH/NAME.out.
# (Not in a command substitution: only this shell can wait for it.)
counter_stop() {
	kill -TERM "${COUNTER_PID[$1]}"
	wait "${COUNTER_PID[$1]}" || fail "$1: $(cat "$SCRATCH/$1.out")"
}

# The count of the clsact filter count_len on DEV's DIRECTION, from its
# .bss map (found through the filter's program id).
filter_count() {
	local id map
	id=$(ip netns exec "$NSA" tc filter show dev "$VA" "$1" | grep -o "count_len.* id [0-9]*" |
		grep -o "[0-9]*$")
	map=$(bpftool -j prog show id "$id" | python3 -c 'import json, sys
print(json.load(sys.stdin)["map_ids"][0])')
	bpftool -j map dump id "$map" | python3 -c 'import json, sys
print(int.from_bytes(bytes(int(b, 16) for b in json.load(sys.stdin)[0]["value"]), "little"))'
}

# flowacct among others on both sides: a TCX program placed before it and
# one after it (a raw BPF_LINK_CREATE with BPF_F_BEFORE/BPF_F_AFTER and its
# program's id), and a clsact filter, which runs after every TCX program
# has said TCX_NEXT. Each sees every datagram of a known stream, and
# flowacct counts each exactly: it passes every packet on. Its detach takes
# its own links only.
test_tcx_ordering() {
	netns_pair
	warm_up
	local dir eg_id in_id want name n out=300 back=200
	$INA "$FLOWACCT" attach "$VA" >/dev/null
	eg_id=$(tcx_ids "$NSA" "$VA" egress | awk '$3 == "flowacct_tc" { print $1 }')
	in_id=$(tcx_ids "$NSA" "$VA" ingress | awk '$3 == "flowacct_tc_in" { print $1 }')
	counter_start eg_before "$VA" egress before "$eg_id"
	counter_start eg_after "$VA" egress after "$eg_id"
	counter_start in_before "$VA" ingress before "$in_id"
	counter_start in_after "$VA" ingress after "$in_id"
	ip netns exec "$NSA" tc qdisc add dev "$VA" clsact
	for dir in ingress egress; do
		ip netns exec "$NSA" tc filter add dev "$VA" $dir pref 5 bpf da \
			obj "$COUNT_OBJ" sec tc
	done
	for dir in ingress egress; do
		tcx_ids "$NSA" "$VA" $dir | awk '{ print $3 }' | tr '\n' ' ' >"$SCRATCH/order"
		want="tcx_counter flowacct_tc tcx_counter "
		[ $dir = egress ] || want="tcx_counter flowacct_tc_in tcx_counter "
		echo "TCX $dir: $(cat "$SCRATCH/order")"
		[ "$(cat "$SCRATCH/order")" = "$want" ] || fail "TCX $dir order: $(cat "$SCRATCH/order")"
	done
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 \
		--count $out --size $DGRAM_SIZE --rate 2000 >"$SCRATCH/sent_out.json"
	$INB python3 tests/helpers/udp_send.py --src 192.0.2.2 --dst 192.0.2.1 \
		--count $back --size $DGRAM_SIZE --rate 2000 >"$SCRATCH/sent_back.json"
	sleep 0.3
	$INA "$FLOWACCT" -j dump "$VA" | python3 -c 'import json, sys
f = json.load(sys.stdin)["flows"]
def n(d, src):
    return sum(r["packets"] for r in f if r["direction"] == d and r["src"] == src and r["proto"] == 17)
got = (n("egress", "192.0.2.1"), n("ingress", "192.0.2.2"))
print("flowacct: egress", got[0], "ingress", got[1])
sys.exit(got != (int(sys.argv[1]), int(sys.argv[2])))' $out $back ||
		fail "flowacct's books are not the sender's"
	$INA "$FLOWACCT" detach "$VA" >/dev/null
	# Its own links went; the counters' stayed, in their order.
	for dir in ingress egress; do
		[ "$(tcx_ids "$NSA" "$VA" $dir | awk '{ print $3 }' | tr '\n' ' ')" = "tcx_counter tcx_counter " ] ||
			fail "after detach, TCX $dir: $(tcx_ids "$NSA" "$VA" $dir)"
	done
	ip netns exec "$NSA" tc filter show dev "$VA" egress | grep -q count_len ||
		fail "detach took the clsact filter"
	[ "$(filter_count egress)" = $out ] || fail "the clsact filter saw $(filter_count egress) of $out at egress"
	[ "$(filter_count ingress)" = $back ] || fail "the clsact filter saw $(filter_count ingress) of $back at ingress"
	for name in eg_before eg_after in_before in_after; do
		counter_stop $name
		n=$(tail -1 "$SCRATCH/$name.out")
		want=$out
		[[ $name != in_* ]] || want=$back
		echo "$name: $n of $want"
		[ "$n" = "$want" ] || fail "$name saw $n datagrams of $want"
	done
	echo "clsact filters: egress $out, ingress $back"
}

# The clsact API asked for: filters and a qdisc of ours, no TCX link, and
# detach takes them. A daemon adopts an attachment of either API, unless
# --tc-api names the other: then it refuses in one line.
test_tcx_clsact() {
	netns_pair
	local msg before
	before=$(ip netns exec "$NSA" tc qdisc show dev "$VA")
	$INA "$FLOWACCT" attach "$VA" --tc-api clsact >/dev/null
	ip netns exec "$NSA" tc filter show dev "$VA" ingress | grep -q flowacct_tc_in ||
		fail "no clsact ingress filter"
	ip netns exec "$NSA" tc filter show dev "$VA" egress | grep -q flowacct_tc ||
		fail "no clsact egress filter"
	[ -z "$(tcx_progs "$NSA" "$VA")" ] || fail "TCX with clsact: $(tcx_progs "$NSA" "$VA")"
	[ "$(status_field "$VA" tc_api)" = clsact ] || fail "status: $(status_field "$VA" tc_api)"
	[ "$(status_field "$VA" tc_link_id)" = 0 ] || fail "status: a link id with clsact"
	[ "$(status_field "$VA" live)" = true ] || fail "status: not live"
	$INA "$FLOWACCT" status | grep -q "^  tc: clsact filters$" || fail "text status"
	# (timeout: a run that adopted would run on.)
	msg=$(expect_fail "run --tc-api tcx on a clsact attachment" \
		$INA timeout 10 "$FLOWACCT" run --layout iface "$VA" --tc-api tcx --json /dev/null)
	echo "$msg" | grep -q "'$VA' is attached with TC on clsact: run with --tc-api clsact, or detach it first" ||
		fail "$msg"
	run_start "$NSA" "$VA" --interval 0.1
	grep -q "adopted '$VA'" "$SCRATCH/run.log" || fail "not adopted: $(cat "$SCRATCH/run.log")"
	run_stop
	$INA "$FLOWACCT" detach "$VA" >/dev/null
	assert_nothing_left "$NSA" "$VA"
	[ "$(ip netns exec "$NSA" tc qdisc show dev "$VA")" = "$before" ] || fail "the qdisc stayed"
	# And the other way round.
	$INA "$FLOWACCT" attach "$VA" >/dev/null
	msg=$(expect_fail "run --tc-api clsact on a TCX attachment" \
		$INA timeout 10 "$FLOWACCT" run --layout iface "$VA" --tc-api clsact --json /dev/null)
	echo "$msg" | grep -q "'$VA' is attached with TC on tcx: run with --tc-api tcx" || fail "$msg"
	$INA "$FLOWACCT" detach "$VA" >/dev/null
	assert_nothing_left "$NSA" "$VA"
}

# A daemon on TCX links killed with kill -9: the pinned links keep counting,
# a new daemon adopts them and loses nothing; a second kill, then detach:
# no link, no pin, no program left.
test_tcx_kill9() {
	netns_pair
	warm_up
	local id
	run_start "$NSA" "$VA" --interval 0.1 --active-timeout 0.3 --idle-timeout 1
	grep -q "TC by tcx" "$SCRATCH/run.log" || fail "run did not attach TCX: $(cat "$SCRATCH/run.log")"
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 3 \
		--count 100 --size 200 --rate 500 >"$SCRATCH/sent1.json"
	run_stop KILL
	tcx_progs "$NSA" "$VA" | grep -q "egress flowacct_tc$" || fail "the kill took the links"
	$INA python3 tests/helpers/udp_send.py --src 2001:db8::1 --dst 2001:db8::2 --flows 2 \
		--count 50 --size 300 --sport 30000 --rate 500 >"$SCRATCH/sent2.json"
	run_start "$NSA" "$VA" --interval 0.1 --active-timeout 0.3 --idle-timeout 1
	grep -q "adopted '$VA' (attached by flowacct run)" "$SCRATCH/run.log" ||
		fail "not adopted: $(cat "$SCRATCH/run.log")"
	sleep 0.5
	run_stop
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --sent "$SCRATCH/sent1.json" \
		--sent "$SCRATCH/sent2.json" --books --broken-max 1
	assert_nothing_left "$NSA" "$VA"

	run_start "$NSA" "$VA" --interval 0.1
	id=$(tcx_ids "$NSA" "$VA" egress | awk '$3 == "flowacct_tc" { print $1 }')
	run_stop KILL
	[ -n "$(tcx_progs "$NSA" "$VA")" ] || fail "the second kill took the links"
	$INA "$FLOWACCT" detach "$VA" >/dev/null
	[ -z "$(tcx_progs "$NSA" "$VA")" ] || fail "detach left: $(tcx_progs "$NSA" "$VA")"
	assert_nothing_left "$NSA" "$VA"
	prog_gone "$id" || fail "program $id outlived detach"
}

# The interface deleted under a TCX attachment: the kernel takes the links
# off it, but their pins hold the programs (and the maps) until detach by
# the name it had unpins them.
test_tcx_iface_deleted() {
	netns_pair
	local dir tc_prog tci_prog
	dir=$(pin_dir "$NSA" "$VA")
	$INA "$FLOWACCT" attach "$VA" >/dev/null
	tc_prog=$(status_field "$VA" tc_prog_id)
	tci_prog=$(status_field "$VA" tc_ingress_prog_id)
	ip -n "$NSA" link del "$VA"
	bpftool prog show id "$tc_prog" >/dev/null || fail "the program went with the interface"
	[ -e "$dir/tcx_egress" ] || fail "the link pin went with the interface"
	$INA "$FLOWACCT" status | grep -q "^$VA .* gone " || fail "status: $($INA "$FLOWACCT" status)"
	$INA "$FLOWACCT" detach "$VA" >/dev/null
	[ ! -e "$dir" ] || fail "pins left: $(ls "$dir")"
	prog_gone "$tc_prog" || fail "egress program $tc_prog still held: $(bpftool link | grep -B1 -A2 "prog $tc_prog")"
	prog_gone "$tci_prog" || fail "ingress program $tci_prog still held"
	echo "programs $tc_prog and $tci_prog freed"
}

# Our link held by someone else too (a second pin, as another tool might
# keep it), and our pins and record removed by hand: the programs still
# run, with no record. status lists them as unrecorded, and detach finds
# them by name and takes the link off the interface although the other
# holder keeps the link object.
test_tcx_held_elsewhere() {
	netns_pair
	local lid pid
	HOLD=/sys/fs/bpf/fatcx-hold-$$
	trap 'rc=$?; rm -f "$HOLD"; (exit $rc); netns_cleanup' EXIT
	$INA "$FLOWACCT" attach "$VA" >/dev/null
	lid=$(status_field "$VA" tc_link_id)
	pid=$(status_field "$VA" tc_prog_id)
	bpftool link pin id "$lid" "$HOLD"
	rm -r "$(pin_dir "$NSA" "$VA")"
	tcx_ids "$NSA" "$VA" egress | grep -q "^$pid $lid flowacct_tc$" ||
		fail "the held link is gone: $(tcx_ids "$NSA" "$VA" egress)"
	$INA "$FLOWACCT" -j status | python3 -c 'import json, sys
u = json.load(sys.stdin)["unrecorded"]
sys.exit(not any(o["iface"] == sys.argv[1] and o["tc_prog_id"] == int(sys.argv[2]) for o in u))' \
		"$VA" "$pid" || fail "status does not list the unrecorded link: $($INA "$FLOWACCT" status)"
	$INA "$FLOWACCT" detach "$VA" >/dev/null
	[ -z "$(tcx_progs "$NSA" "$VA")" ] || fail "detach left: $(tcx_progs "$NSA" "$VA")"
	[ -e "$HOLD" ] || fail "the other holder's pin went"
	rm -f "$HOLD"
	prog_gone "$pid" || fail "program $pid outlived its last holder"
}
