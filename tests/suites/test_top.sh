# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# flowacct top against traffic of a known rate: iperf3 UDP at -b 20M with
# -l 1200, whose IP-layer rate is 20 Mbit/s x 1228 / 1200 (each datagram's
# UDP and IPv4 headers on top of the payload). On a terminal (tmux: keys
# sent, the screen read back) and through a pipe, with the tables read and
# from a daemon; with -j, one JSON document per interval.

ALL_TESTS="test_top_terminal test_top_pipe test_top_json"

TOP_RATE=20000000
TOP_LEN=1200
TOP_WANT=$((TOP_RATE * (TOP_LEN + 28) / TOP_LEN))

# top_traffic SECONDS: iperf3 UDP from A to B in the background (TOP_PID).
top_traffic() {
	$INB iperf3 -s -1 -B 192.0.2.2 -p 5201 >/dev/null 2>&1 &
	sleep 0.3
	$INA iperf3 -u -c 192.0.2.2 -p 5201 -b "$TOP_RATE" -l "$TOP_LEN" -t "$1" >/dev/null &
	TOP_PID=$!
}

# rate_ok TEXT: the first row naming the iperf3 flow (UDP to 5201, egress)
# shows a bit rate within 10% of TOP_WANT.
rate_ok() {
	python3 - "$TOP_WANT" "$1" <<-'EOF'
	import re, sys
	want = int(sys.argv[1])
	units = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}
	for line in sys.argv[2].splitlines():
	    m = re.match(r"\s*([0-9.]+)([kMG]?)\s+\S+\s+egress\s+\S+\s+udp\s+.*-> 192\.0\.2\.2:5201", line)
	    if m:
	        got = float(m.group(1)) * units[m.group(2)]
	        print("top shows %.0f bit/s, the traffic is %d" % (got, want))
	        sys.exit(0 if abs(got - want) <= want / 10 else 1)
	print("no row of the iperf3 flow in:\n" + sys.argv[2])
	sys.exit(1)
	EOF
}

test_top_terminal() {
	netns_pair
	local screen
	# Global: the EXIT trap runs after this function's locals are gone.
	tm="tmux -L fa-top-$$"
	trap '_rc=$?; set +e; $tm kill-server 2>/dev/null; (exit $_rc); netns_cleanup' EXIT
	warm_up
	$INA "$FLOWACCT" attach "$VA" >/dev/null
	$tm new-session -d -s top -x 150 -y 30 \
		"nsenter --net=/run/netns/$NSA $FLOWACCT top $VA --interval 1; sleep 30"
	top_traffic 6
	sleep 3.5	# steady, and two intervals of it shown
	screen=$($tm capture-pane -p -t top)
	echo "$screen" | head -8
	echo "$screen" | grep -q "by bit/s, per flow" || fail "no title: $screen"
	rate_ok "$screen" || fail "the rate on the screen"
	# g: per source; s: by packets.
	$tm send-keys -t top g s
	sleep 1.5
	screen=$($tm capture-pane -p -t top)
	echo "$screen" | grep -q "by pkt/s, per src" || fail "keys g and s: $screen"
	echo "$screen" | grep -qE '^ *[0-9.]+[kM]? +[0-9.]+[kM]? +\* +\* +\* +192\.0\.2\.1 -> \*' ||
		fail "no row per source: $screen"
	# q: top ends (the session then sleeps; the pane says nothing more).
	$tm send-keys -t top q
	sleep 0.5
	pgrep -f "^$FLOWACCT top $VA" >/dev/null && fail "q did not end top"
	wait $TOP_PID
	$INA "$FLOWACCT" detach "$VA" >/dev/null
}

test_top_pipe() {
	netns_pair
	local out
	warm_up
	# The tables themselves.
	$INA "$FLOWACCT" attach "$VA" >/dev/null
	top_traffic 4
	sleep 0.5
	out=$($INA "$FLOWACCT" top "$VA" --interval 1 --count 2 | cat)
	echo "$out" | tail -4
	[ "$(echo "$out" | grep -c "BIT/S")" = 2 ] || fail "not 2 tables: $out"
	rate_ok "$(echo "$out" | tail -4)" || fail "the rate read from the tables"
	wait $TOP_PID
	$INA "$FLOWACCT" detach "$VA" >/dev/null
	# A daemon's view: records leave every second, the rates go on.
	run_start "$NSA" "$VA" --interval 0.5 --active-timeout 1
	top_traffic 4
	sleep 0.5
	out=$($INA "$FLOWACCT" top "$VA" --interval 1 --count 2 | cat)
	echo "$out" | tail -4
	rate_ok "$(echo "$out" | tail -4)" || fail "the rate read from the daemon"
	wait $TOP_PID
	run_stop
}

# json_rate_ok LINES: each line one JSON document of top's keys; in the last,
# the iperf3 flow (UDP to 5201, egress) at a bit rate within 10% of TOP_WANT.
json_rate_ok() {
	python3 - "$TOP_WANT" "$1" <<-'EOF'
	import json, sys
	want = int(sys.argv[1])
	keys = {"time_ns", "interval_s", "sort", "group_by", "active_flows", "totals", "flows"}
	docs = [json.loads(l) for l in sys.argv[2].split("\n")]
	for d in docs:
	    if set(d) != keys or set(d["totals"]) != {"ingress", "egress", "drops_per_second"}:
	        sys.exit("not top's keys: %s" % sorted(d))
	for f in docs[-1]["flows"]:
	    if f["direction"] == "egress" and f["proto"] == 17 and f["dport"] == 5201 \
	       and f["dst"] == "192.0.2.2":
	        got = f["bits_per_second"]
	        print("top -j shows %d bit/s, the traffic is %d" % (got, want))
	        sys.exit(0 if abs(got - want) <= want / 10 else 1)
	sys.exit("no row of the iperf3 flow in: %s" % docs[-1])
	EOF
}

test_top_json() {
	netns_pair
	local out
	warm_up
	$INA "$FLOWACCT" attach "$VA" >/dev/null
	top_traffic 5
	sleep 0.5
	out=$($INA "$FLOWACCT" -j top "$VA" --interval 1 --count 3 | cat)
	echo "$out" | tail -1 | cut -c1-300
	[ "$(echo "$out" | wc -l)" = 3 ] || fail "not 3 lines: $out"
	json_rate_ok "$out" || fail "the rate in top -j's documents"
	wait $TOP_PID
	$INA "$FLOWACCT" detach "$VA" >/dev/null
}
