# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# flowacct run's exports, checked with programs we did not write: IPFIX
# decoded by nfcapd/nfdump, pmacct's nfacctd and tshark; the metrics
# scraped by a real Prometheus and checked by promtool. Every collector runs
# in the daemon's namespace, on its loopback, on a port picked free, and is
# stopped by the test (tests/helpers/collectors.sh).

ALL_TESTS="test_export_ipfix test_export_collector_down test_export_restart
	test_export_prometheus test_export_errors"

# _sent_records LOG COLLECTOR: the flow records the daemon said it sent there.
_sent_records() {
	sed -n "s/^flowacct: IPFIX to '$2': \([0-9]*\) flow records in .*/\1/p" "$1"
}

# Known traffic, the same for every export test: UDP datagrams of known
# sizes over 18 flows (IPv4 and IPv6 at once), iperf3 TCP, ping and ping -6.
# A UDP sink in B keeps B from answering with port unreachables.
_traffic() {
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 12 \
		--count 40 --size 64,700,1400 --rate 2000 >"$SCRATCH/sent4.json" &
	local s4=$!
	$INA python3 tests/helpers/udp_send.py --src 2001:db8::1 --dst 2001:db8::2 --flows 6 \
		--count 40 --size 100,1200 --sport 30000 --rate 2000 >"$SCRATCH/sent6.json"
	wait $s4
	$INA iperf3 -c 192.0.2.2 -p 5201 -t 1 -b 20M >/dev/null
	$INA ping -q -c 4 -i 0.2 192.0.2.2 >/dev/null
	$INA ping -q -6 -c 4 -i 0.2 2001:db8::2 >/dev/null
}

# A test's namespaces, its collectors in A (stopped on exit, before the
# namespaces go), neighbours resolved and the sinks running.
_export_setup() {
	source tests/helpers/collectors.sh
	netns_pair
	trap '_rc=$?; set +e; collectors_cleanup; (exit $_rc); netns_cleanup' EXIT
	COLLECTOR_NETNS=$NSA
	warm_up
	_sinks
}

_sinks() {
	# Ended with the namespace, by netns_cleanup: not our jobs to report.
	$INB socat -u UDP6-RECV:9,ipv6only=0 /dev/null & disown
	$INB iperf3 -s -1 -B 192.0.2.2 -p 5201 >/dev/null 2>&1 & disown
	sleep 0.2
}

# ---- IPFIX to nfcapd and nfacctd at once, and the export as tshark sees it -------

test_export_ipfix() {
	_export_setup
	local pnf pacct
	pnf=$(free_udp_port)
	pacct=$(free_udp_port)
	nfcapd_start "$pnf" "$SCRATCH/nfcapd"
	# nfacctd over IPv6, to prove that path too.
	nfacctd_start "$pacct" "$SCRATCH/nfacctd.json" ::1
	lo_capture_start "$SCRATCH/export.pcap" udp and "(port $pnf or port $pacct)"
	# Tables of 64 flows: the burst at the end overflows them, so that
	# overflow rows go out too.
	# Templates due again at most exports (every 0.5 s; a tick is 0.2 s).
	run_start "$NSA" "$VA" --interval 0.2 --active-timeout 2 --max-flows 64 \
		--ipfix-template-refresh 0.5 --ipfix "127.0.0.1:$pnf" --ipfix "[::1]:$pacct"
	capture_start "$NSA" "$VA" in "$SCRATCH/in.pcap"
	capture_start "$NSA" "$VA" out "$SCRATCH/out.pcap"
	_traffic
	# 400 flows of one datagram each in about 0.1 s, from ports 50000 up.
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 400 \
		--count 1 --size 32 --sport 50000 --rate 4000 >"$SCRATCH/burst.json"
	sleep 0.5
	capture_stop
	run_stop
	lo_capture_stop
	nfcapd_stop
	nfacctd_stop
	cat "$SCRATCH/run.1.log"

	# flowacct's own records add up to what was sent and to its counters.
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --sent "$SCRATCH/sent4.json" \
		--sent "$SCRATCH/sent6.json" --books
	python3 tests/checkers/check_ipfix.py records "$SCRATCH/rec.json" >"$SCRATCH/records.json"
	# The burst: what its flows' records miss is in the egress overflow rows.
	python3 - "$SCRATCH/records.json" "$SCRATCH/burst.json" <<-'EOF' || fail "the burst"
	import json, sys
	rows = json.load(open(sys.argv[1]))["flows"]
	sent = json.load(open(sys.argv[2]))["flows"]
	mine = [r for r in rows if r["proto"] == 17 and 50000 <= r["sport"] < 50400]
	over = [r for r in rows if r["src"] == "-" and r["direction"] == 1]
	got = [sum(r[c] for r in mine + over) for c in ("packets", "bytes")]
	want = [sum(f[c] for f in sent) for c in ("packets", "bytes")]
	print("burst: %d flows with records, overflow rows %s, sent %s" % (
	    len(mine), [sum(r[c] for r in over) for c in ("packets", "bytes")], want))
	assert over, "the burst overflowed nothing"
	sys.exit(0 if got == want else 1)
	EOF
	python3 tests/checkers/check_ipfix.py nfdump "$SCRATCH/nfcapd" >"$SCRATCH/nfdump.json"
	python3 tests/checkers/check_ipfix.py nfacctd "$SCRATCH/nfacctd.json" >"$SCRATCH/pmacct.json"

	# Every record, every element of its key: both collectors got exactly
	# flowacct's records (interfaces and direction included).
	ipfix_compare "$SCRATCH/records.json" "$SCRATCH/nfdump.json" "nfdump differs from the records" \
		--key proto,src,dst,sport,dport,in_if,out_if,direction
	# nfacctd drops a record without addresses: the overflow rows.
	python3 - "$SCRATCH/records.json" "$SCRATCH/pmacct.json" <<-'EOF'
	import json, sys
	for p in sys.argv[1:]:
	    d = json.load(open(p))
	    d["flows"] = [r for r in d["flows"] if r["src"] != "-"]
	    json.dump(d, open(p + ".addressed", "w"))
	EOF
	ipfix_compare "$SCRATCH/records.json.addressed" "$SCRATCH/pmacct.json.addressed" \
		"nfacctd differs from the records" \
		--key proto,src,dst,sport,dport,in_if,out_if,direction
	python3 - "$SCRATCH/nfdump.json" <<-'EOF' || fail "nfdump's statistics"
	import json, sys
	n = json.load(open(sys.argv[1]))
	st = n["stats"]
	print("nfdump -I:", {k: st[k] for k in ("Flows", "Packets", "Bytes", "Sequence failures")})
	assert st["Sequence failures"] == 0, st
	assert st["Flows"] == n["totals"]["flows"], (st, n["totals"])
	dirs = {r["direction"] for r in n["flows"]}
	assert dirs == {0, 1}, "nfdump shows no direction: %s" % dirs
	assert all((r["in_if"] > 0) != (r["out_if"] > 0) for r in n["flows"]), \
	    "a record with no interface, or both"
	EOF

	# The traffic itself, as tcpdump captured it and tshark counts it: per
	# one-way 5-tuple for what we sent (the burst's flows went partly to
	# overflow rows, which have no 5-tuple), and in all, overflow rows
	# included. Neighbour discovery and MLD, which the kernel sends when it
	# likes (maybe between the attach and the capture's start), are left out.
	python3 tests/checkers/check_ipfix.py pcap "$SCRATCH/in.pcap" >"$SCRATCH/in.json"
	python3 tests/checkers/check_ipfix.py pcap "$SCRATCH/out.pcap" >"$SCRATCH/out.json"
	python3 - "$SCRATCH/nfdump.json" "$SCRATCH/in.json" "$SCRATCH/out.json" <<-'EOF' ||
	import json, sys
	nf = json.load(open(sys.argv[1]))
	cap = [r for p in sys.argv[2:] for r in json.load(open(p))["flows"]]

	def noise(r):
	    return r["proto"] == 58 and r["dport"] >> 8 in (130, 131, 132, 133, 134, 135, 136, 143)

	def ours(r):
	    return r["proto"] in (6, 17, 1, 58) and r["src"] != "-" and \
	        not (r["proto"] == 17 and 50000 <= r["sport"] < 50400) and \
	        not noise(r)

	def per_flow(rows):
	    acc = {}
	    for r in rows:
	        if ours(r):
	            k = (r["proto"], r["src"], r["dst"], r["sport"], r["dport"])
	            a = acc.setdefault(k, [0, 0])
	            a[0] += r["packets"]
	            a[1] += r["bytes"]
	    return acc
	a, b = per_flow(nf["flows"]), per_flow(cap)
	bad = {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)}
	print("per flow: %d flows, %d differ" % (len(a), len(bad)))
	for k, v in list(bad.items())[:10]:
	    print("  ", k, "nfdump", v[0], "capture", v[1])
	tot = [sum(r[c] for r in nf["flows"] if not noise(r)) for c in ("packets", "bytes")]
	ctot = [sum(r[c] for r in cap if not noise(r)) for c in ("packets", "bytes")]
	print("in all: nfdump", tot, "capture", ctot)
	sys.exit(1 if bad or tot != ctot else 0)
	EOF
		fail "nfdump differs from the capture"

	# The export as tshark dissects it, one collector at a time.
	local port sent
	for port in "$pnf" "$pacct"; do
		python3 tests/checkers/check_ipfix.py tshark "$SCRATCH/export.pcap" --port "$port" \
			--max-message 1400 >"$SCRATCH/tshark.$port.json"
		sent=$(_sent_records "$SCRATCH/run.1.log" ".*:$port")
		python3 - "$SCRATCH/tshark.$port.json" "$sent" <<-'EOF' || fail "tshark, port $port"
		import json, sys
		r = json.load(open(sys.argv[1]))
		sent = int(sys.argv[2])
		print({k: r[k] for k in ("messages", "data_records", "data_set_ids",
		                         "largest_udp_payload", "failed", "expert")})
		ok = not r["failed"]
		flows = sum(d["data_records"] - d["options_data_records"]
		            for d in r["domains"].values())
		if flows != sent:
		    print("FAIL: tshark decoded", flows, "flow records, flowacct sent", sent)
		    ok = False
		used = set(r["data_set_ids"])
		for what, ids in (("IPv4", {256, 257, 258, 259}), ("IPv6", {260, 261, 262, 263}),
		                  ("overflow", {264, 265})):
		    if not used & ids:
		        print("FAIL: no", what, "records")
		        ok = False
		if len(r["domains"]) != 2:
		    print("FAIL: want a flow domain and an options domain:", list(r["domains"]))
		    ok = False
		if not ok:
		    print(json.dumps(r, indent=1))
		sys.exit(0 if ok else 1)
		EOF
	done
	assert_nothing_left "$NSA" "$VA"
}

# ---- a collector that is down ------------------------------------------------------

test_export_collector_down() {
	_export_setup
	local port sent
	port=$(free_udp_port)
	# Small messages: templates and records split over many.
	run_start "$NSA" "$VA" --interval 0.2 --idle-timeout 1 --ipfix-template-refresh 1 \
		--ipfix-max-message 300 --ipfix "127.0.0.1:$port"
	# Nobody listens: the first messages draw port unreachables.
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 20 \
		--count 10 --rate 100 >"$SCRATCH/down.json"
	sleep 1.5
	grep -q "IPFIX to '127.0.0.1:$port': .* not sent (Connection refused)" "$SCRATCH/run.1.log" ||
		fail "no send error said: $(cat "$SCRATCH/run.1.log")"
	nfcapd_start "$port" "$SCRATCH/nfcapd"
	lo_capture_start "$SCRATCH/export.pcap" udp port "$port"
	sleep 1	# a tick or more: templates again, stale errors read
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 20 \
		--count 10 --sport 40000 --rate 100 >"$SCRATCH/up.json"
	sleep 1.5
	run_stop
	lo_capture_stop
	nfcapd_stop
	cat "$SCRATCH/run.1.log"
	# The capture began mid-stream: only what each message must be alone.
	python3 tests/checkers/check_ipfix.py tshark "$SCRATCH/export.pcap" --port "$port" \
		--max-message 300 >"$SCRATCH/tshark.json"
	python3 - "$SCRATCH/tshark.json" <<-'EOF' || fail "the export after the collector started"
	import json, sys
	r = json.load(open(sys.argv[1]))
	print({k: r["checks"][k] for k in ("all_ipfix", "lengths", "not_malformed", "max_message")})
	sys.exit(0 if all(r["checks"][k] for k in ("has_messages", "all_ipfix", "lengths",
	                                          "not_malformed", "max_message")) else 1)
	EOF

	# Accounting and the JSON records went on as if nothing happened.
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --sent "$SCRATCH/down.json" \
		--sent "$SCRATCH/up.json" --books
	sed -n "s/.*IPFIX to '127.0.0.1:$port': .* \([0-9][0-9]*\) send errors .*/\1/p" \
		"$SCRATCH/run.1.log" >"$SCRATCH/errors"
	[ "$(cat "$SCRATCH/errors")" -gt 0 ] || fail "no send error counted"
	# What was sent once the collector was up arrived, every flow whole.
	python3 tests/checkers/check_ipfix.py nfdump "$SCRATCH/nfcapd" >"$SCRATCH/nfdump.json"
	python3 - "$SCRATCH/nfdump.json" "$SCRATCH/up.json" <<-'EOF' || fail "records after the collector started"
	import json, sys
	nf = json.load(open(sys.argv[1]))
	sent = json.load(open(sys.argv[2]))["flows"]
	got = {}
	for r in nf["flows"]:
	    if r["proto"] == 17 and r["sport"] >= 40000:
	        k = (r["src"], r["dst"], r["sport"], r["dport"])
	        g = got.setdefault(k, [0, 0])
	        g[0] += r["packets"]
	        g[1] += r["bytes"]
	want = {(f["src"], f["dst"], f["sport"], f["dport"]): [f["packets"], f["bytes"]]
	        for f in sent}
	print("flows sent while up: %d, in nfdump: %d" % (len(want), len(got)))
	sys.exit(0 if got == want else 1)
	EOF
}

# ---- a daemon killed and started again ------------------------------------------------

# Killed just after its first message of records went out, in a tick that
# was committed but not finished: the next daemon finishes the tick (its
# records again in the JSON file), but sends none of them to the collector
# again, and numbers its messages on from where the killed one stopped.
# Without the persisted state nfdump would count each of those records twice
# and one sequence failure.
test_export_restart() {
	_export_setup
	local port sender first
	port=$(free_udp_port)
	$INA "$(realpath "$FLOWACCT")" attach "$VA" >/dev/null
	# Which sendto(2) is the first message of records: the daemon's own
	# netlink requests come first, as many as its path takes; then the
	# three copies of the templates and the options, in as many messages
	# as they take. A dry run (no traffic, a collector that reads all, so
	# that no refused send makes it send templates again) counts both.
	local before dry_port dry_sink
	dry_port=$(free_udp_port)
	$INA socat -u UDP-RECV:"$dry_port" /dev/null &
	dry_sink=$!
	$INA timeout -s INT 1 strace -f -qq -e trace=sendto -o "$SCRATCH/dry.strace" \
		"$(realpath "$FLOWACCT")" run --layout iface "$VA" --ipfix "127.0.0.1:$dry_port" \
		--json /dev/null 2>/dev/null || true
	kill $dry_sink
	wait $dry_sink 2>/dev/null || true
	first=$(grep -n "MSG_DONTWAIT|MSG_NOSIGNAL" "$SCRATCH/dry.strace" | head -1 | cut -d: -f1)
	[ -n "$first" ] || fail "the dry run sent no IPFIX: $(cat "$SCRATCH/dry.strace")"
	before=$(grep -c "MSG_DONTWAIT|MSG_NOSIGNAL" "$SCRATCH/dry.strace")
	nfcapd_start "$port" "$SCRATCH/nfcapd"
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 4 \
		--count 300 --size 400 --rate 150 >"$SCRATCH/sent.json" &
	sender=$!
	sleep 0.3
	crash_at sendto delay_exit $((first + before)) --interval 0.1 --active-timeout 0.2 \
		--ipfix "127.0.0.1:$port"
	run_start "$NSA" "$VA" --interval 0.1 --active-timeout 0.2 --ipfix "127.0.0.1:$port"
	wait $sender
	sleep 0.5
	run_stop
	nfcapd_stop
	cat "$SCRATCH/run.$RUN_STARTS.log"
	grep -q "wrote again" "$SCRATCH/run.$RUN_STARTS.log" || fail "no tick was left to finish"
	grep -q "records a killed daemon had sent were not sent again" "$SCRATCH/run.$RUN_STARTS.log" ||
		fail "the finished tick's records were not recognised as sent"
	# Not --books: the attachment stays after the daemon, and a packet may
	# come between its last drain and its counters line.
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --sent "$SCRATCH/sent.json"
	python3 tests/checkers/check_ipfix.py records "$SCRATCH/rec.json" >"$SCRATCH/records.json"
	python3 tests/checkers/check_ipfix.py nfdump "$SCRATCH/nfcapd" >"$SCRATCH/nfdump.json"
	ipfix_compare "$SCRATCH/records.json" "$SCRATCH/nfdump.json" \
		"nfdump differs from the de-duplicated records" \
		--key proto,src,dst,sport,dport,in_if,out_if,direction
	python3 -c 'import json, sys
st = json.load(open(sys.argv[1]))["stats"]
print("nfdump -I: sequence failures", st["Sequence failures"])
sys.exit(st["Sequence failures"] != 0)' "$SCRATCH/nfdump.json" ||
		fail "the restarted daemon did not number on"
	$INA "$(realpath "$FLOWACCT")" detach "$VA" >/dev/null
}

# ---- Prometheus ---------------------------------------------------------------------

# _prom_vs_stats PROMPORT: the hook counters Prometheus scraped equal
# `flowacct stats -j` (which the daemon answers), read before and after the
# query with nothing changed in between; tried again while traffic moves them.
_prom_vs_stats() {
	local pport=$1 try before after out
	for try in 1 2 3 4 5; do
		before=$($INA "$(realpath "$FLOWACCT")" stats -j "$VA")
		sleep 2.5	# a scrape (every second) of the values now
		# The hooks' counters (per interface; not the containers').
		out=$(prom_query "$pport" '{__name__=~"flowacct_.*_total",direction!="",iface!=""}')
		after=$($INA "$(realpath "$FLOWACCT")" stats -j "$VA")
		[ "$before" = "$after" ] || continue
		python3 - "$after" "$out" <<-'EOF'
		import json, sys
		stats = json.loads(sys.argv[1])["interfaces"][0]
		want = {}
		for h in stats["hooks"]:
		    for name, v in h["counters"].items():
		        want[(h["hook"], h["direction"], name)] = v
		names = {"seen": "packets_seen", "accounted": "packets_accounted",
		         "accounted_bytes": "accounted_bytes", "overflow": "overflow_packets",
		         "fragments": "fragments", "frag_orphans": "fragment_orphans",
		         "gso_frames": "gso_frames", "cut_frames": "cut_frames",
		         "ipv6_jumbograms": "ipv6_jumbograms",
		         "tcp_doff_invalid": "tcp_doff_invalid", "samples": "samples",
		         "ipv4_len_from_frame": "ipv4_len_from_frame"}
		got = {}
		for r in json.loads(sys.argv[2])["data"]["result"]:
		    m = r["metric"]
		    assert m["iface"] == stats["iface"], m
		    base = m["__name__"][len("flowacct_"):-len("_total")]
		    reason = m.get("reason")
		    if base == "packets_not_accounted":
		        name = reason
		    elif base == "insert_failures":
		        name = "insert_fail_" + reason
		    elif base == "samples_lost":
		        name = "sample_lost_" + reason
		    elif base == "tunnel_packets":
		        name = "tunnel_" + reason
		    else:
		        name = {v: k for k, v in names.items()}[base]
		    got[(m["hook"], m["direction"], name)] = int(r["value"][1])
		bad = {k: (want.get(k), got.get(k)) for k in set(want) | set(got)
		       if want.get(k) != got.get(k)}
		print("%d counters compared, %d differ" % (len(want), len(bad)), bad)
		seen = sum(v for (h, d, n), v in got.items() if n == "seen")
		assert seen > 0, "nothing seen"
		sys.exit(1 if bad else 0)
		EOF
		return
	done
	fail "the counters never stood still for a scrape"
}

test_export_prometheus() {
	_export_setup
	local mport pport
	mport=$(free_tcp_port)
	pport=$(free_tcp_port)
	run_start "$NSA" "$VA" --interval 0.2 --metrics "127.0.0.1:$mport" \
		--metrics-file "$SCRATCH/flowacct.prom"
	_traffic
	# The exposition, by the format's own checker (the package's promtool).
	_http_get "http://127.0.0.1:$mport/metrics" >"$SCRATCH/metrics.txt" ||
		fail "no /metrics"
	promtool check metrics <"$SCRATCH/metrics.txt" || fail "promtool rejects /metrics"
	promtool check metrics <"$SCRATCH/flowacct.prom" || fail "promtool rejects the .prom file"
	grep -q '^flowacct_packets_seen_total{iface="'"$VA"'",hook="tc",direction="egress"} [1-9]' \
		"$SCRATCH/flowacct.prom" || fail "the .prom file has no counts"
	_http_get "http://127.0.0.1:$mport/nothing" && fail "/nothing answered"
	prometheus_start "$pport" "127.0.0.1:$mport"
	prom_wait "$pport" 'flowacct_packets_seen_total' >/dev/null
	_prom_vs_stats "$pport"
	# The daemon's own figures: records by end reason as status tells them.
	out=$(prom_query "$pport" 'sum(flowacct_records_total)')
	python3 - "$out" "$($INA "$(realpath "$FLOWACCT")" status -j)" <<-'EOF' ||
	import json, sys
	prom = int(json.loads(sys.argv[1])["data"]["result"][0]["value"][1])
	st = json.loads(sys.argv[2])
	recs = sum(a["daemon"]["records"] for a in st["interfaces"] if "daemon" in a)
	print("records: prometheus", prom, "status", recs)
	sys.exit(0 if prom <= recs else 1)	# status is read later: never fewer
	EOF
		fail "records in prometheus and status"
	out=$(prom_query "$pport" 'up{job="target"}')
	[[ $out == *'"value":['*',"1"]'* ]] || fail "target not up: $out"
	prometheus_stop
	run_stop
	# Written at every interval, and last at the end: it holds the final counts.
	grep -q "^flowacct_flips_total [1-9]" "$SCRATCH/flowacct.prom" || fail "no flips in the file"
	ls "$SCRATCH" | grep -q '\.tmp$' && fail "a temporary metrics file is left"
	return 0
}

# ---- bad input ---------------------------------------------------------------------

test_export_errors() {
	netns_pair
	local msg fa
	fa=$(realpath "$FLOWACCT")
	# _refused WHAT PATTERN ARGS...: one line matching PATTERN, nothing attached.
	_refused() {
		local what=$1 pattern=$2
		shift 2
		msg=$(expect_fail "$what" $INA "$fa" run --layout iface "$VA" "$@")
		echo "$msg"
		echo "$msg" | grep -q -- "$pattern" || fail "$what: $msg"
		assert_nothing_left "$NSA" "$VA"
	}
	_refused "unresolvable host" "can't resolve 'no-such-collector.invalid'" \
		--ipfix no-such-collector.invalid
	_refused "port out of range" "port must be 1 to 65535" --ipfix 127.0.0.1:70000
	_refused "port zero" "port must be 1 to 65535" --ipfix 127.0.0.1:0
	_refused "no closing bracket" "give HOST" --ipfix '[2001:db8::1:4739'
	_refused "IPv4 in brackets" "give HOST" --ipfix '[192.0.2.1]:4739'
	_refused "empty port" "give HOST" --ipfix 127.0.0.1:
	_refused "no host" "give HOST" --ipfix :4739
	_refused "junk port" "give HOST" --ipfix 127.0.0.1:47x
	_refused "message too small" "ipfix-max-message" --ipfix 127.0.0.1 --ipfix-max-message 100
	_refused "message over a v4 datagram" "65507" --ipfix 127.0.0.1 --ipfix-max-message 65520
	_refused "too many collectors" "at most 8" $(for i in 1 2 3 4 5 6 7 8 9; do
		echo --ipfix 127.0.0.1:$((4000 + i)); done)
	_refused "metrics without a port" "give ADDR:PORT" --metrics 127.0.0.1
	_refused "metrics port out of range" "port must be 1 to 65535" --metrics 127.0.0.1:99999
	_refused "metrics file name" "must end in .prom" --metrics-file "$SCRATCH/m.txt"
	_refused "metrics file directory" "No such file" --metrics-file "$SCRATCH/nodir/m.prom"
	# A port in use: our own listener in the namespace.
	$INA socat TCP-LISTEN:9464,bind=127.0.0.1 /dev/null &
	local listener=$!
	sleep 0.3
	_refused "metrics port in use" "in use" --metrics 127.0.0.1:9464
	kill $listener
	wait $listener 2>/dev/null || true
}
