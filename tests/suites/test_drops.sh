# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Drops in the books: the packets the kernel drops on a watched interface,
# per flow and per reason, on the daemon's records, against the count the
# kernel or the sender gives (nstat, nft's counter, tc's qdisc statistics,
# tcpdump's own), with tcpdump capturing throughout.

ALL_TESTS="test_drops_no_socket test_drops_rcvbuf test_drops_nft_input
	test_drops_nft_output test_drops_qdisc test_drops_tcp_closed
	test_drops_packet_socket test_drops_modes test_drops_ipfix test_drops_kill9
	test_drops_views test_drops_crash_every_step test_drops_upgrade test_drops_attach"

# nstat_get NS NAME: the kernel's absolute counter NAME in NS (no history).
nstat_get() {
	nsenter --net=/run/netns/"$1" nstat -asz "$2" | awk -v n="$2" '$1 == n { print $2 }'
}

# drops_start NS DEV [ARGS...]: tcpdump on DEV both ways (unless NO_CAPTURE
# is set), then the daemon with the program set (drops on by default)
# following DEV.
drops_start() {
	local ns=$1 dev=$2
	shift 2
	warm_up
	[ -n "${NO_CAPTURE:-}" ] || capture_start "$ns" "$dev" inout "$SCRATCH/$dev.pcap"
	run_start "$ns" --layout set --iface "$dev" --interval 0.2 --idle-timeout 1 \
		--no-sockets "$@"
}

# drops_stop: the daemon and the capture stopped; the records' books,
# packets and drops, against its counters lines.
drops_stop() {
	sleep 0.5
	run_stop
	capture_stop
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --books --drop-books
}

# flow_sum EXPR: packets, bytes and drops (packets, bytes, reasons) of the
# records for which EXPR holds (each once), as one JSON object.
flow_sum() {
	records_where "$SCRATCH/rec.json" "$1" | python3 -c '
import collections, json, sys
s = {"records": 0, "packets": 0, "bytes": 0, "drop_packets": 0, "drop_bytes": 0,
     "reasons": collections.Counter()}
seen = set()
for line in sys.stdin:
    r = json.loads(line)
    # A record written again after a kill is the same record.
    if (r["instance"], r["seq"]) in seen:
        continue
    seen.add((r["instance"], r["seq"]))
    s["records"] += 1
    s["packets"] += r["packets"]
    s["bytes"] += r["bytes"]
    d = r["drops"]
    if d:
        s["drop_packets"] += d["packets"]
        s["drop_bytes"] += d["bytes"]
        s["reasons"].update(d["reasons"])
print(json.dumps(s))'
}

# expect_sum JSON PYTHON-EXPR WHAT: fails with WHAT unless EXPR holds of s.
expect_sum() {
	python3 -c 'import json, sys
s = json.loads(sys.argv[1])
sys.exit(0 if eval(sys.argv[2], {"s": s}) else 1)' "$1" "$2" || fail "$3: $1"
}

# UDP to a port nobody listens on: each datagram is accounted at ingress,
# then dropped by the receive path with NO_SOCKET, which the kernel counts
# as UdpNoPorts. The port-unreachable replies are their own flow.
test_drops_no_socket() {
	netns_pair
	drops_start "$NSB" "$VB" --metrics-file "$SCRATCH/m.prom"
	local before after sum
	before=$(nstat_get "$NSB" UdpNoPorts)
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --count 300 \
		--size 200 --dport 9 --rate 1000 >"$SCRATCH/sent.json"
	sleep 0.3
	after=$(nstat_get "$NSB" UdpNoPorts)
	drops_stop
	sum=$(flow_sum 'r["proto"] == 17 and r["dport"] == 9 and r["direction"] == "ingress"')
	echo "UdpNoPorts $before -> $after; records $sum"
	expect_sum "$sum" 's["packets"] == 300 and s["bytes"] == 300 * 228' "the flow's packets"
	expect_sum "$sum" "s['drop_packets'] == $((after - before)) == 300 and s['drop_bytes'] == 300 * 228 and s['reasons'] == {'NO_SOCKET': 300}" \
		"the flow's drops against UdpNoPorts ($before -> $after)"
	# The replies: a flow of their own, sent, not dropped.
	sum=$(flow_sum 'r["proto"] == 1 and r["direction"] == "egress"')
	expect_sum "$sum" 's["packets"] > 0 and s["drop_packets"] == 0' "the ICMP replies"
	# Prometheus: the records' drops by interface and reason (its last
	# page, written at the stop), promtool's word that it is well formed.
	promtool check metrics <"$SCRATCH/m.prom" || fail "promtool rejects the metrics"
	grep -qx "flowacct_drops_total{iface=\"$VB\",reason=\"NO_SOCKET\"} 300" "$SCRATCH/m.prom" ||
		fail "no flowacct_drops_total of 300: $(grep flowacct_drops "$SCRATCH/m.prom")"
	return 0
}

# A socket whose small buffer fills while it reads nothing: what does not
# fit is dropped with SOCKET_RCVBUFF (UdpRcvbufErrors); what it then reads
# and those drops are what was sent.
test_drops_rcvbuf() {
	netns_pair
	drops_start "$NSB" "$VB"
	$INB python3 tests/helpers/udp_sink.py --bind 192.0.2.2 --port 7000 --rcvbuf 4096 \
		--ready "$SCRATCH/ready" --go "$SCRATCH/go" >"$SCRATCH/sink.json" &
	local sink=$! before after sum read
	for _ in $(seq 100); do [ -e "$SCRATCH/ready" ] && break; sleep 0.05; done
	before=$(nstat_get "$NSB" UdpRcvbufErrors)
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --count 400 \
		--size 1000 --dport 7000 --rate 4000 >"$SCRATCH/sent.json"
	sleep 0.3
	after=$(nstat_get "$NSB" UdpRcvbufErrors)
	touch "$SCRATCH/go"
	wait $sink
	read=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["read"])' "$SCRATCH/sink.json")
	drops_stop
	sum=$(flow_sum 'r["proto"] == 17 and r["dport"] == 7000')
	echo "UdpRcvbufErrors $before -> $after; read $read; records $sum"
	[ $((after - before)) -gt 0 ] || fail "the buffer never filled: the test shows nothing"
	expect_sum "$sum" "s['packets'] == 400 and s['reasons'] == {'SOCKET_RCVBUFF': $((after - before))}" \
		"the drops against UdpRcvbufErrors"
	expect_sum "$sum" "s['drop_packets'] + $read == 400" "drops + read != sent ($read read)"
}

# nft_counter NS: the packets of the one counter in table inet fa_drops.
nft_counter() {
	ip netns exec "$1" nft -j list table inet fa_drops | python3 -c '
import json, sys
for o in json.load(sys.stdin)["nftables"]:
    for e in o.get("rule", {}).get("expr", []):
        if "counter" in e:
            print(e["counter"]["packets"])'
}

# nft_drop NS HOOK PORT: a rule at HOOK (input, output) in NS dropping UDP
# to PORT, with a counter.
nft_drop() {
	ip netns exec "$1" nft -f - <<-EOF
	table inet fa_drops {
		chain c {
			type filter hook $2 priority 0;
			udp dport $3 counter drop
		}
	}
	EOF
}

# nft_case NS DEV HOOK PORT COUNT: a rule at HOOK in NS dropping UDP to
# PORT, the daemon following DEV, COUNT datagrams of 300 bytes from A to
# PORT; sets NFT_N (the rule's counter) and NFT_SUM (the flow's records).
nft_case() {
	local ns=$1 dev=$2 hook=$3 port=$4 count=$5
	nft_drop "$ns" "$hook" "$port"
	drops_start "$ns" "$dev"
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --count "$count" \
		--size 300 --dport "$port" --rate 1000 >"$SCRATCH/sent.json"
	drops_stop
	NFT_N=$(nft_counter "$ns")
	NFT_SUM=$(flow_sum "r['proto'] == 17 and r['dport'] == $port")
	echo "nft counter $NFT_N; records $NFT_SUM"
}

# A firewall rule at input: accounted at the hook, then dropped, as many as
# the rule's counter says.
test_drops_nft_input() {
	netns_pair
	nft_case "$NSB" "$VB" input 7001 150
	expect_sum "$NFT_SUM" "s['packets'] == 150 and s['reasons'] == {'NETFILTER_DROP': $NFT_N} and $NFT_N == 150" \
		"the drops against the rule's counter ($NFT_N)"
}

# The same at output, on the sender: dropped before the egress hook, never
# accounted; the records are of drops alone, on the send path.
test_drops_nft_output() {
	netns_pair
	nft_case "$NSA" "$VA" output 7002 120
	expect_sum "$NFT_SUM" "s['packets'] == 0 and s['drop_packets'] == $NFT_N == 120 and s['drop_bytes'] == 120 * 328 and s['reasons'] == {'NETFILTER_DROP': 120}" \
		"output drops against the rule's counter ($NFT_N)"
	records_where "$SCRATCH/rec.json" 'r["dport"] == 7002 and r["direction"] != "egress"' |
		grep -q . && fail "output drops not on the send path"
	return 0
}

# An egress queue that overflows (tbf: this kernel has no netem): the
# datagrams are accounted at TC egress, before the qdisc, and those it
# drops are the qdisc's own count of drops.
test_drops_qdisc() {
	netns_pair
	ip netns exec "$NSA" tc qdisc add dev "$VA" root tbf rate 1mbit burst 10k latency 1ms
	drops_start "$NSA" "$VA"
	local sum n
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --count 600 \
		--size 1200 --dport 7003 >"$SCRATCH/sent.json"
	sleep 0.5
	n=$(ip netns exec "$NSA" tc -s qdisc show dev "$VA" | sed -n 's/.*dropped \([0-9]*\).*/\1/p' | head -1)
	drops_stop
	sum=$(flow_sum 'r["proto"] == 17 and r["dport"] == 7003')
	echo "tbf dropped $n; records $sum"
	[ "${n:-0}" -gt 0 ] || fail "the queue never overflowed: the test shows nothing"
	expect_sum "$sum" "s['packets'] == 600 and s['drop_packets'] == $n and all(k.startswith('QDISC') for k in s['reasons'])" \
		"the drops against the qdisc's ($n)"
}

# TCP to a closed port: each SYN is answered with a reset (TcpOutRsts) and
# dropped with NO_SOCKET.
test_drops_tcp_closed() {
	netns_pair
	drops_start "$NSB" "$VB"
	local before after sum
	before=$(nstat_get "$NSB" TcpOutRsts)
	$INA python3 -c 'import socket
for i in range(20):
    s = socket.socket()
    try:
        s.connect(("192.0.2.2", 7004))
    except ConnectionRefusedError:
        pass
    s.close()'
	sleep 0.3
	after=$(nstat_get "$NSB" TcpOutRsts)
	drops_stop
	sum=$(flow_sum 'r["proto"] == 6 and r["dport"] == 7004')
	echo "TcpOutRsts $before -> $after; records $sum"
	expect_sum "$sum" "s['packets'] == 20 and s['reasons'] == {'NO_SOCKET': $((after - before))} and $((after - before)) == 20" \
		"the SYNs' drops against TcpOutRsts"
}

# A packet socket that cannot keep up (one without a ring, its buffer
# full) on the send path, where each tap gets a clone of the packet: the
# clones it drops are not the packets' drops. They count under
# packet_socket, as many as the socket's own statistics say it lost; the
# flow has none. (On the receive path a tap shares the packet, and so do
# two taps on the send path: a loss then frees nothing, and is no event.)
test_drops_packet_socket() {
	netns_pair
	# The held socket is the capture: a second tap would share the clone
	# with it, and its losses would free nothing.
	NO_CAPTURE=1 drops_start "$NSA" "$VA"
	$INB python3 tests/helpers/udp_sink.py --bind 192.0.2.2 --port 7005 --rcvbuf 4194304 \
		--ready "$SCRATCH/ready" --go "$SCRATCH/go" >"$SCRATCH/sink.json" &
	local sink=$! hold books lost sum
	$INA python3 tests/helpers/packet_hold.py --dev "$VA" --ready "$SCRATCH/held" \
		--go "$SCRATCH/go" >"$SCRATCH/hold.json" &
	hold=$!
	for _ in $(seq 100); do [ -e "$SCRATCH/ready" ] && [ -e "$SCRATCH/held" ] && break; sleep 0.05; done
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --count 500 \
		--size 1000 --dport 7005 --rate 2000 >"$SCRATCH/sent.json"
	sleep 0.3
	books=$($INA "$FLOWACCT" -j stats | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(sum(i["drops"]["packet_socket"] for i in d["interfaces"]))')
	touch "$SCRATCH/go"
	wait $sink $hold
	lost=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["drops"])' "$SCRATCH/hold.json")
	drops_stop
	sum=$(flow_sum 'r["proto"] == 17 and r["dport"] == 7005')
	echo "the packet socket lost $lost; packet_socket $books; records $sum"
	[ "${lost:-0}" -gt 0 ] || fail "the packet socket lost nothing: the test shows nothing"
	[ "$books" = "$lost" ] || fail "packet_socket $books, the packet socket lost $lost"
	expect_sum "$sum" 's["packets"] == 500 and s["drop_packets"] == 0' "the packet socket's losses on the flow"
}

# Which drops: attached (the default) keeps drops on other interfaces off
# the rows, counted as not_watched; all puts them on their interface's rows;
# off loads no drop program.
test_drops_modes() {
	netns_pair
	local sum lo_send='import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(25):
    s.sendto(bytes(50), ("127.0.0.1", 9))'
	drops_start "$NSB" "$VB"
	$INB python3 -c "$lo_send"
	sleep 0.5
	$INB "$FLOWACCT" -j stats >"$SCRATCH/stats.json"
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["elsewhere"]["drops"]["not_watched"] >= 25 else 1)' "$SCRATCH/stats.json" ||
		fail "lo's drops are not counted as not watched: $(cat "$SCRATCH/stats.json")"
	drops_stop
	records_where "$SCRATCH/rec.json" 'r["ifindex"] == 1' | grep -q . && fail "lo has records"
	: >"$SCRATCH/rec.json"
	run_start "$NSB" --layout set --iface "$VB" --interval 0.2 --idle-timeout 1 \
		--no-sockets --drops all
	$INB python3 -c "$lo_send"
	sleep 0.5
	run_stop
	sum=$(flow_sum 'r["ifindex"] == 1 and r["dport"] == 9')
	expect_sum "$sum" "s['drop_packets'] == 25 and s['reasons'] == {'NO_SOCKET': 25}" \
		"--drops all: lo's drops"
	: >"$SCRATCH/rec.json"
	run_start "$NSB" --layout set --iface "$VB" --interval 0.2 --no-sockets --drops off
	grep -q "drops in the books" "$SCRATCH/run.$RUN_STARTS.log" && fail "--drops off loaded the drop program"
	[ ! -e "$(echo /sys/fs/bpf/flowacct/run-net*/drops_0)" ] || fail "--drops off pinned drop tables"
	run_stop
	expect_fail "--drops with --layout iface" $INB "$FLOWACCT" run --layout iface --drops all "$VB"
}

# The drops in IPFIX, as tshark dissects them and nfdump stores them: a flow
# every packet of which a firewall dropped (forwardingStatus "dropped", ACL
# deny), one a closed port dropped (dropped, for us), one a full socket
# buffer dropped part of (forwarded).
test_drops_ipfix() {
	source tests/helpers/collectors.sh
	netns_pair
	trap '_rc=$?; set +e; collectors_cleanup; (exit $_rc); netns_cleanup' EXIT
	COLLECTOR_NETNS=$NSB
	local port
	port=$(free_udp_port)
	nfcapd_start "$port" "$SCRATCH/nfcapd"
	lo_capture_start "$SCRATCH/export.pcap" udp port "$port"
	nft_drop "$NSB" input 7001
	drops_start "$NSB" "$VB" --ipfix "127.0.0.1:$port"
	$INB python3 tests/helpers/udp_sink.py --bind 192.0.2.2 --port 7000 --rcvbuf 4096 \
		--ready "$SCRATCH/ready" --go "$SCRATCH/go" >"$SCRATCH/sink.json" &
	local sink=$!
	for _ in $(seq 100); do [ -e "$SCRATCH/ready" ] && break; sleep 0.05; done
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --count 100 \
		--size 300 --dport 7001 --rate 2000 >/dev/null
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --count 60 \
		--size 100 --dport 9 --rate 2000 >/dev/null
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --count 300 \
		--size 1000 --dport 7000 --rate 4000 >/dev/null
	sleep 0.3
	touch "$SCRATCH/go"
	wait $sink
	drops_stop
	lo_capture_stop
	nfcapd_stop
	python3 tests/checkers/check_ipfix.py drops "$SCRATCH/export.pcap" --port "$port" \
		>"$SCRATCH/drops.json"
	python3 - "$SCRATCH/drops.json" "$SCRATCH/rec.json" <<-'EOF' || fail "the drops in IPFIX"
	import collections, json, sys
	flows = json.load(open(sys.argv[1]))["flows"]
	recs = [json.loads(l) for l in open(sys.argv[2])]
	recs = [r for r in recs if r.get("type") == "flow"]
	def by_port(rows, f):
	    acc = collections.Counter()
	    for r in rows:
	        acc[r["dport"]] += f(r)
	    return acc
	got = by_port(flows, lambda r: r.get("drop_packets", 0))
	want = by_port(recs, lambda r: r["drops"]["packets"] if r["drops"] else 0)
	gotb = by_port(flows, lambda r: r.get("drop_bytes", 0))
	wantb = by_port(recs, lambda r: r["drops"]["bytes"] if r["drops"] else 0)
	status = {r["dport"]: r.get("forwarding_status") for r in flows if r.get("drop_packets")}
	print("tshark drops", dict(got), "records", dict(want), "status", status)
	ok = got == want and gotb == wantb and got[7001] == 100 and got[9] == 60
	# RFC 7270: 0b10 dropped + 1 ACL deny, + 13 for us; 0b01 forwarded + 0 unknown.
	ok &= status.get(7001) == 129 and status.get(9) == 141 and status.get(7000) == 64
	# A record without drops carries none of the three.
	ok &= all("forwarding_status" not in r for r in flows if not r.get("drop_packets"))
	sys.exit(0 if ok else 1)
	EOF
	python3 tests/checkers/check_ipfix.py nfdump "$SCRATCH/nfcapd" >"$SCRATCH/nfdump.json"
	python3 tests/checkers/check_ipfix.py records "$SCRATCH/rec.json" >"$SCRATCH/records.json"
	ipfix_compare "$SCRATCH/records.json" "$SCRATCH/nfdump.json" "nfdump differs from the records" \
		--key proto,src,dst,sport,dport,in_if,out_if,direction
}

# A daemon killed with kill -9 while drops come: the next one adopts the
# program set, its drop tables and books with it, and no drop is lost or
# counted twice (records written again after the kill are the same
# records, told apart by their sequence numbers).
test_drops_kill9() {
	netns_pair
	drops_start "$NSB" "$VB"
	local before after sum sender
	before=$(nstat_get "$NSB" UdpNoPorts)
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --count 600 \
		--size 100 --dport 9 --rate 400 >"$SCRATCH/sent.json" &
	sender=$!
	sleep 0.7
	run_stop KILL
	sleep 0.3
	run_start "$NSB" --layout set --iface "$VB" --interval 0.2 --idle-timeout 1 --no-sockets
	grep -q "adopted the program set" "$SCRATCH/run.log" || fail "the set was not adopted"
	wait $sender
	sleep 0.3
	after=$(nstat_get "$NSB" UdpNoPorts)
	sleep 0.5
	run_stop
	capture_stop
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --books --drop-books --broken-max 1
	sum=$(flow_sum 'r["proto"] == 17 and r["dport"] == 9')
	echo "UdpNoPorts $before -> $after; records $sum"
	expect_sum "$sum" "s['packets'] == 600 and s['reasons'] == {'NO_SOCKET': $((after - before))} and $((after - before)) == 600" \
		"the drops across a kill -9"
}

# The views: dump's rows (answered by the daemon, from its cache), grouped
# by drop reason, and top's interval, while UDP goes to a closed port.
test_drops_views() {
	netns_pair
	drops_start "$NSB" "$VB"
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --count 200 \
		--size 100 --dport 9 --rate 1000 >/dev/null
	sleep 0.5
	$INB "$FLOWACCT" dump -j >"$SCRATCH/dump.json"
	$INB "$FLOWACCT" dump -j --group-by drop_reason >"$SCRATCH/grouped.json"
	$INB "$FLOWACCT" dump -o +drops,drop_reason >"$SCRATCH/dump.txt"
	$INB "$FLOWACCT" top -j --interval 1 --count 1 >"$SCRATCH/top.json" &
	local top=$!
	sleep 0.3
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --count 300 \
		--size 100 --dport 9 --rate 1000 >/dev/null
	wait $top
	drops_stop
	cat "$SCRATCH/dump.txt"
	grep -q " 200 .*NO_SOCKET" "$SCRATCH/dump.txt" || fail "dump -o +drops,drop_reason"
	python3 - "$SCRATCH/dump.json" "$SCRATCH/grouped.json" "$SCRATCH/top.json" <<-'EOF' ||
	import json, sys
	rows = [r for r in json.load(open(sys.argv[1]))["flows"] if r["dport"] == 9 and r["proto"] == 17]
	assert len(rows) == 1 and rows[0]["drops"] == {"packets": 200, "bytes": 25600,
	                                               "reasons": {"NO_SOCKET": 200}}, rows
	assert rows[0]["drop_reason"] == "NO_SOCKET", rows
	g = {r["drop_reason"]: r for r in json.load(open(sys.argv[2]))["flows"]}
	assert g["NO_SOCKET"]["drops"]["packets"] == 200, g
	assert all(r["drops"] is None for k, r in g.items() if k is None), g
	t = json.loads(open(sys.argv[3]).readline())
	tr = [r for r in t["flows"] if r["dport"] == 9 and r["proto"] == 17]
	print("top:", t["totals"], tr)
	assert t["totals"]["drops_per_second"] > 0, t["totals"]
	# One interval's drops are its packets, but for one at either edge.
	assert tr and 0 < tr[0]["drops"]["packets"] <= 300 and \
	    abs(tr[0]["drops"]["packets"] - tr[0]["packets"]) <= 2, tr
	EOF
		fail "the views' drops"
}

# A kill between every two steps of a tick while drops come, with the
# crash-point build (tests/suites/test_run.sh's test_run_crash_every_step
# does the same without drops): each restart undoes the tick (killed before
# the commit, the drop slots of the cache too) or finishes it (after), and
# adopts the drop program the killed one left. Every drop once.
test_drops_crash_every_step() {
	netns_pair
	warm_up
	local crash point n=0 before after sum sender
	crash=$(realpath "$(dirname "$FLOWACCT")/tests/flowacct-crash")
	[ -x "$crash" ] || fail "no crash-point build at $crash (make tests)"
	# The set made and left behind, linked, its drop program pinned: from
	# here on every packet and drop counts, whichever daemon runs.
	run_start "$NSB" --layout set --iface "$VB" --interval 0.1 --no-sockets
	run_stop KILL
	before=$(nstat_get "$NSB" UdpNoPorts)
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 4 \
		--count 500 --size 100 --dport 9 --rate 250 >"$SCRATCH/sent.json" &
	sender=$!
	sleep 0.3
	for point in drained:2 save-entry:20 save-count:20 merged:2 expired:2 committed:2 \
		written:2 idle:2 save-count:5 rollback:2; do
		# Flows for the cache to save, whenever the first sender ended:
		# a set's daemon takes a second or two to start, each time.
		[ "$point" != save-count:5 ] ||
			$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 \
				--flows 4 --count 100 --size 100 --dport 9 --rate 1000 >/dev/null
		crash_point "$NSB" "$point" "$crash" --layout set --iface "$VB" --interval 0.1 \
			--active-timeout 0.3 --idle-timeout 1 --no-sockets
		n=$((n + 1))
	done
	run_start "$NSB" --layout set --iface "$VB" --interval 0.1 --active-timeout 0.3 \
		--idle-timeout 1 --no-sockets
	wait $sender
	sleep 0.3
	after=$(nstat_get "$NSB" UdpNoPorts)
	sleep 0.5
	run_stop
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --books --drop-books \
		--broken-max $n
	sum=$(flow_sum 'r["proto"] == 17 and r["dport"] == 9')
	echo "UdpNoPorts $before -> $after; records $sum"
	expect_sum "$sum" "s['packets'] == 2400 and s['reasons'] == {'NO_SOCKET': $((after - before))} and $((after - before)) == 2400" \
		"the drops across a kill at every step"
}

# The release before drops, killed right after a drain (its drain file
# version 4, rows drained and not merged; its cache file version 1): this
# one adopts the set, converts both files and loses nothing. The release
# is built from git, with its crash points, where tests/bench/bench.mk
# unpacks it (build/drops-start/src).
test_drops_upgrade() {
	local log pid rc=0 sender
	netns_pair
	old_crash_build "$PWD/build/drops-start/src"
	warm_up
	log=$SCRATCH/old.log
	$INB socat -u UDP-RECV:7000 /dev/null & disown
	FLOWACCT_CRASH_AT=drained:15 nsenter --net=/run/netns/"$NSA" "$OLD_FA" run --layout set \
		--iface "$VA" --interval 0.2 --idle-timeout 1 --no-sockets \
		--json "$SCRATCH/rec.json" 2>"$log" &
	pid=$!
	for _ in $(seq 100); do grep -q "running on" "$log" && break; sleep 0.05; done
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --flows 5 \
		--count 600 --size 200 --dport 7000 --rate 500 >"$SCRATCH/sent.json" &
	sender=$!
	wait $pid || rc=$?
	[ $rc = 137 ] || fail "the old daemon: exit $rc: $(cat "$log")"
	old_files_are 4 1
	run_start "$NSA" --layout set --iface "$VA" --interval 0.2 --idle-timeout 1 --no-sockets
	wait $sender
	sleep 1.5
	run_stop
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --books --drop-books \
		--sent "$SCRATCH/sent.json"
}

# attach --drops: an attachment with a drop program of its own, its tables
# pinned beside the flows'. dump and stats read them without a daemon; a
# daemon that adopts the attachment drains them with the flows; detach
# removes the program with the rest.
test_drops_attach() {
	netns_pair
	warm_up
	local sum
	$INB "$FLOWACCT" attach "$VB" --drops attached >/dev/null
	[ -e "$(pin_dir "$NSB" "$VB")/drop_link_attached" ] || fail "no drop program pinned"
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --count 40 \
		--size 100 --dport 9 --rate 1000 >/dev/null
	$INB "$FLOWACCT" dump -j "$VB" >"$SCRATCH/dump.json"
	$INB "$FLOWACCT" stats -j "$VB" >"$SCRATCH/stats.json"
	python3 - "$SCRATCH/dump.json" "$SCRATCH/stats.json" <<-'EOF' || fail "attach --drops: dump, stats"
	import json, sys
	rows = [r for r in json.load(open(sys.argv[1]))["flows"] if r["dport"] == 9 and r["proto"] == 17]
	print(rows[0]["packets"], rows[0]["drops"])
	assert rows[0]["packets"] == 40 and rows[0]["drops"]["reasons"] == {"NO_SOCKET": 40}, rows
	d = json.load(open(sys.argv[2]))["interfaces"][0]["drops"]
	assert d["attributed"] == 40 and d["seen"] == 40, d
	EOF
	run_start "$NSB" "$VB" --interval 0.2 --idle-timeout 1
	$INA python3 tests/helpers/udp_send.py --src 192.0.2.1 --dst 192.0.2.2 --count 60 \
		--size 100 --dport 9 --rate 1000 >/dev/null
	sleep 1.5
	run_stop
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --books --drop-books
	sum=$(flow_sum 'r["proto"] == 17 and r["dport"] == 9')
	expect_sum "$sum" "s['packets'] == 100 and s['reasons'] == {'NO_SOCKET': 100}" \
		"the attachment's drops through a daemon"
	$INB "$FLOWACCT" detach "$VB" >/dev/null
	assert_nothing_left "$NSB" "$VB"
	# The kernel may free a tracing link, and so its program, only after an
	# RCU grace period: gone within a few, or it is left.
	for _ in $(seq 50); do
		bpftool prog show | grep -q flowacct_drop || return 0
		sleep 0.1
	done
	fail "a drop program is left"
	return 0
}
