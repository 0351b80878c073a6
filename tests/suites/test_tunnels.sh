# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Tunnels (--decap inner): generated captures of every encapsulation against
# the generator's tables and tshark's own dissection, and a live VXLAN
# between two namespaces against flowacct on the VXLAN devices themselves
# and tcpdump there.

ALL_TESTS="test_tunnels_replay test_tunnels_vxlan_port test_tunnels_against_tshark
	test_tunnels_live_vxlan test_tunnels_ipfix test_tunnels_drops test_tunnels_upgrade"

# Every hook, both map modes and both compilers: the capture's inner flows,
# tunnels and counters exactly as the generator wrote them.
test_tunnels_replay() {
	scratch
	local b hook map n=0
	for b in $BUILDS; do
		for hook in xdp tc-ingress tc-egress; do
			for map in percpu shared; do
				"$b"/flowacct replay pcaps/tunnels.pcap --decap inner --hook $hook \
					--map $map -j >"$SCRATCH/out.json" ||
					fail "$b: replay --decap inner through $hook ($map) failed"
				python3 tests/checkers/check_replay.py pcaps/tunnels.inner.expected.json \
					"$SCRATCH/out.json" --hook $hook ||
					fail "$b: --decap inner through $hook ($map) does not match"
				n=$((n + 1))
			done
		done
	done
	echo "$n replays matched"
}

# VXLAN on a port of one's own: the outer flow without --vxlan-port, the
# inner one with it; a bad list is refused with one line.
test_tunnels_vxlan_port() {
	scratch
	python3 - "$SCRATCH/vx.pcap" <<-'EOF'
	import sys
	sys.path.insert(0, "scripts")
	import gen_pcaps as g
	c = g.Capture("vx")
	pkt, _ = g.inner4(g.IN_A, g.IN_B, g.UDP, 1000, 2000, 50)
	for port in (4790, 4790, 4789):
	    frame, _ = g.outer4(g.VTEP_A, g.VTEP_B, g.UDP, g.udp(40000, port, g.vxlan(7, g.eth(g.ETH_P_IP, pkt))))
	    c.reason(frame, "x")
	open(sys.argv[1], "wb").write(c.pcap_bytes())
	EOF
	"$FLOWACCT" replay "$SCRATCH/vx.pcap" --decap inner -j >"$SCRATCH/a.json"
	"$FLOWACCT" replay "$SCRATCH/vx.pcap" --decap inner --vxlan-port 4790,9999 -j >"$SCRATCH/b.json"
	python3 - "$SCRATCH/a.json" "$SCRATCH/b.json" <<-'EOF' || fail "--vxlan-port"
	import json, sys
	a, b = (json.load(open(f)) for f in sys.argv[1:])
	def tunnelled(d):
	    return sum(r["packets"] for r in d["flows"] if r["tunnel"])
	assert tunnelled(a) == 1 and a["counters"]["tunnel_decap"] == 1, a
	assert tunnelled(b) == 3 and b["counters"]["tunnel_decap"] == 3, b
	assert all(r["tunnel"] in (None, {"type": "vxlan", "id": 7, "outer_src": "203.0.113.1",
	                                  "outer_dst": "203.0.113.2"}) for r in b["flows"]), b
	EOF
	expect_fail "replay --vxlan-port 0" "give up to 4 UDP ports" \
		"$FLOWACCT" replay "$SCRATCH/vx.pcap" --vxlan-port 0
	expect_fail "replay --vxlan-port, five" "give up to 4 UDP ports" \
		"$FLOWACCT" replay "$SCRATCH/vx.pcap" --vxlan-port 1,2,3,4,5
	expect_fail "replay --decap outer" "decap" \
		"$FLOWACCT" replay "$SCRATCH/vx.pcap" --decap outer
}

# tshark's innermost IP and transport layers of each frame, summed per flow,
# against flowacct's inner rows: every tunnelled flow of the capture but the
# fragmented one (tshark reassembles, or without reassembly leaves the later
# fragment without ports) and the tunnel in a tunnel (tshark goes on to the
# innermost, flowacct stops at the first: tunnel_nested counts it).
test_tunnels_against_tshark() {
	scratch
	"$FLOWACCT" replay pcaps/tunnels.pcap --decap inner -j >"$SCRATCH/out.json"
	tshark -r pcaps/tunnels.pcap -d udp.port==8472,vxlan -o ip.defragment:FALSE \
		-T fields -E separator=/t -E occurrence=a -E aggregator=, \
		-e frame.number -e frame.protocols -e ip.src -e ip.dst -e ip.len -e ip.proto \
		-e ipv6.src -e ipv6.dst -e ipv6.plen -e ipv6.nxt -e tcp.srcport -e tcp.dstport \
		-e udp.srcport -e udp.dstport -e icmp.type -e icmp.code \
		-e vxlan.vni -e geneve.vni -e gre.key -e erspan.spanid -e mpls.label \
		>"$SCRATCH/tshark.tsv" 2>"$SCRATCH/tshark.err" ||
		fail "tshark: $(cat "$SCRATCH/tshark.err")"
	python3 - "$SCRATCH/tshark.tsv" "$SCRATCH/out.json" <<-'EOF' || fail "flowacct and tshark disagree"
	import collections, json, sys
	names = ("n", "protos", "ip_src", "ip_dst", "ip_len", "ip_proto", "ip6_src", "ip6_dst",
	         "ip6_plen", "ip6_nxt", "tcp_s", "tcp_d", "udp_s", "udp_d", "icmp_t", "icmp_c",
	         "vni", "gvni", "gre_key", "span", "label")
	def last(v):
	    return v.split(",")[-1] if v else ""
	def first(v):
	    return int(v.split(",")[0], 0) if v else None
	# The tunnel, as tshark sees it: the outer addresses (none over MPLS)
	# and its id: a row is a flow in one tunnel.
	def tunnel_of(f, protos, ips):
	    if "mpls" in protos[:ips[0]]:
	        return (None, None, first(f["label"]))
	    field = "ip" if protos[ips[0]] == "ip" else "ip6"
	    outer = (f[field + "_src"].split(",")[0], f[field + "_dst"].split(",")[0])
	    if "vxlan" in protos:
	        return outer + (first(f["vni"]),)
	    if "geneve" in protos:
	        return outer + (first(f["gvni"]),)
	    if "erspan" in protos:
	        return outer + (first(f["span"]),)
	    if "gre" in protos:
	        return outer + (first(f["gre_key"]),)
	    return outer + (None,)
	tshark = collections.defaultdict(lambda: [0, 0])
	for line in open(sys.argv[1]):
	    f = dict(zip(names, line.rstrip("\n").split("\t")))
	    protos = f["protos"].split(":")
	    ips = [i for i, p in enumerate(protos) if p in ("ip", "ipv6")]
	    if not ips or (len(ips) < 2 and "mpls" not in protos):
	        continue        # not tunnelled, or not as tshark sees it
	    inner = protos[ips[-1]]
	    l4 = [p for p in protos[ips[-1] + 1:] if p in ("tcp", "udp", "icmp", "icmpv6")]
	    l4 = l4[0] if l4 else None
	    proto = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}.get(l4)
	    if inner == "ip":
	        key = (4, proto or int(last(f["ip_proto"])), last(f["ip_src"]), last(f["ip_dst"]))
	        length = int(last(f["ip_len"]))
	    else:
	        key = (6, proto or int(last(f["ip6_nxt"])), last(f["ip6_src"]), last(f["ip6_dst"]))
	        length = 40 + int(last(f["ip6_plen"]))
	    if l4 == "tcp":
	        ports = (int(last(f["tcp_s"])), int(last(f["tcp_d"])))
	    elif l4 == "udp":
	        ports = (int(last(f["udp_s"])), int(last(f["udp_d"])))
	    elif l4 == "icmp":
	        ports = (0, int(last(f["icmp_t"])) << 8 | int(last(f["icmp_c"])))
	    else:
	        ports = (0, 0)
	    t = tshark[key + ports + tunnel_of(f, protos, ips)]
	    t[0] += 1
	    t[1] += length
	out = json.load(open(sys.argv[2]))
	checked = bad = 0
	ours = set()
	for r in out["flows"]:
	    if not r["tunnel"] or r["dport"] == 4789 or r["sport"] == 7000:
	        continue
	    t = r["tunnel"]
	    key = (r["ip_version"], r["proto"], r["src"], r["dst"], r["sport"], r["dport"],
	           t["outer_src"], t["outer_dst"], t["id"])
	    ours.add(key)
	    want = tshark.get(key)
	    checked += 1
	    if want != [r["packets"], r["bytes"]]:
	        bad += 1
	        print("flow %s: flowacct %d packets %d bytes, tshark %s" %
	              (key, r["packets"], r["bytes"], want))
	# And the other way: every inner flow tshark found is one of ours: the
	# fragments and the tunnel in a tunnel aside, as above, and 1 -> 2,
	# the packet inside the tunnels that are none (no VXLAN I flag, GRE's
	# routing bit, Geneve version 1), which tshark opens all the same.
	for key in tshark:
	    if key[4:6] in ((7000, 7001), (0, 0), (9, 9), (1, 2)) or key in ours:
	        continue
	    bad += 1
	    print("tshark's inner flow %s is no row of flowacct's" % (key,))
	print("%d tunnelled flows checked against tshark" % checked)
	sys.exit(1 if bad or checked < 20 else 0)
	EOF
}

# _export_pair: netns_pair, with the collectors stopped at the end and
# run in B.
_export_pair() {
	source tests/helpers/collectors.sh
	netns_pair
	trap '_rc=$?; set +e; collectors_cleanup; (exit $_rc); netns_cleanup' EXIT
	COLLECTOR_NETNS=$NSB
}

# _export_run: nfcapd on a free port (EXPORT_PORT), a capture of what goes
# to it, and B's daemon on VB with --decap inner exporting there, with
# flowacct's elements under RFC 5612's enterprise number for documentation.
_export_run() {
	EXPORT_PORT=$(free_udp_port)
	nfcapd_start "$EXPORT_PORT" "$SCRATCH/nfcapd"
	lo_capture_start "$SCRATCH/export.pcap" udp port "$EXPORT_PORT"
	run_start "$NSB" --layout set --iface "$VB" --decap inner --interval 0.2 \
		--idle-timeout 1 --no-sockets --ipfix "127.0.0.1:$EXPORT_PORT" --ipfix-pen 32473
}

# _vxlan NS DEV LOCAL REMOTE ADDR: a VXLAN device vx0 (VNI 42, port 4789)
# over DEV, with ADDR (198.51.100.0/24) on it.
_vxlan() {
	local ns=$1 dev=$2 local=$3 remote=$4 addr=$5
	ip -n "$ns" link add vx0 type vxlan id 42 local "$local" remote "$remote" \
		dstport 4789 dev "$dev"
	quiet_link "$ns" vx0
	ip -n "$ns" addr add "$addr/24" dev vx0
	ip -n "$ns" link set vx0 up
}

# _rows NS DEV OUT: dump -j of DEV's attachment, the rows with a tunnel
# (at the underlay) or all of them (on vx0), as flow -> [packets, bytes].
_rows() {
	nsenter --net=/run/netns/"$1" "$FLOWACCT" dump "$2" -j >"$3.json" ||
		fail "dump $2"
	python3 - "$3.json" "$2" >"$3" <<-'EOF'
	import json, sys
	d = json.load(open(sys.argv[1]))
	out = {}
	for r in d["flows"]:
	    if r["overflow"] or (sys.argv[2] != "vx0" and not r["tunnel"]):
	        continue
	    if sys.argv[2] != "vx0":
	        t = r["tunnel"]
	        assert t["type"] == "vxlan" and t["id"] == 42, t
	        assert {t["outer_src"], t["outer_dst"]} == {"192.0.2.1", "192.0.2.2"}, t
	    k = "%s %s %s %s:%s %s:%s" % (r["direction"], r["ip_version"], r["proto"],
	                                  r["src"], r["sport"], r["dst"], r["dport"])
	    out[k] = [r["packets"], r["bytes"]]
	json.dump(out, sys.stdout, sort_keys=True, indent=0)
	EOF
}

# _rows_both UNDER VX0: _rows of A's underlay and of its vx0, read again
# (for up to 4 s) while a packet is between the two hooks (a TCP close's
# last segments): the rows must then be equal, which the caller checks.
_rows_both() {
	local i
	for i in $(seq 20); do
		_rows "$NSA" "$VA" "$1"
		_rows "$NSA" vx0 "$2"
		cmp -s "$1" "$2" && return 0
		sleep 0.2
	done
}

# A live VXLAN between two namespaces carrying ping, UDP of known sizes and
# iperf3. In A, the underlay veth is attached with --decap inner and vx0
# without; tcpdump captures vx0. The underlay's inner rows must equal vx0's
# rows, flow by flow, and tcpdump's capture; B's daemon, on its underlay
# with --decap inner, writes records of the same flows, seen the other way.
# Then the same with offloads on: GSO frames of the tunnel at TC egress,
# each segment counted with its own headers, against vx0 again.
test_tunnels_live_vxlan() {
	netns_pair
	warm_up
	_vxlan "$NSA" "$VA" 192.0.2.1 192.0.2.2 198.51.100.1
	_vxlan "$NSB" "$VB" 192.0.2.2 192.0.2.1 198.51.100.2
	$INA ethtool -K vx0 tso off gso off gro off >/dev/null 2>&1 || true
	$INB ethtool -K vx0 tso off gso off gro off >/dev/null 2>&1 || true
	$INA "$FLOWACCT" attach "$VA" --decap inner >/dev/null || fail "attach --decap inner"
	$INA "$FLOWACCT" attach vx0 >/dev/null || fail "attach vx0"
	capture_start "$NSA" vx0 inout "$SCRATCH/vx0.pcap"
	run_start "$NSB" --layout set --iface "$VB" --decap inner --interval 0.2 \
		--idle-timeout 1 --no-sockets
	$INB socat -u UDP-RECV:9999 /dev/null & disown
	$INB iperf3 -s -1 -B 198.51.100.2 -p 5201 >/dev/null 2>&1 & disown
	sleep 0.3
	$INA ping -q -c 5 -i 0.2 198.51.100.2 >/dev/null || fail "ping through the tunnel"
	$INA python3 tests/helpers/udp_send.py --src 198.51.100.1 --dst 198.51.100.2 --flows 4 \
		--count 50 --size 64,700,1300 --dport 9999 --rate 2000 >"$SCRATCH/sent.json"
	run_stop KILL
	run_start "$NSB" --layout set --iface "$VB" --decap inner --interval 0.2 \
		--idle-timeout 1 --no-sockets
	grep -q "adopted the program set" "$SCRATCH/run.log" || fail "the set was not adopted"
	$INA iperf3 -c 198.51.100.2 -p 5201 -t 1 -b 20M >/dev/null || fail "iperf3 through the tunnel"
	sleep 0.5
	capture_stop
	_rows_both "$SCRATCH/under" "$SCRATCH/vx0"
	diff "$SCRATCH/under" "$SCRATCH/vx0" >"$SCRATCH/diff" ||
		fail "the underlay's inner rows differ from vx0's: $(head -20 "$SCRATCH/diff")"
	# tcpdump on vx0, flow by flow (ARP aside: neither accounts it).
	tshark -r "$SCRATCH/vx0.pcap" -Y ip -T fields -e ip.src -e ip.dst -e ip.proto \
		-e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport -e icmp.type \
		-e icmp.code -e ip.len >"$SCRATCH/vx0.tsv"
	python3 - "$SCRATCH/vx0.tsv" "$SCRATCH/vx0" "$SCRATCH/sent.json" <<-'EOF' ||
	import collections, json, sys
	rows = json.load(open(sys.argv[2]))
	cap = collections.Counter()
	capb = collections.Counter()
	for line in open(sys.argv[1]):
	    src, dst, proto, ts, td, us, ud, it, ic, ln = line.rstrip("\n").split("\t")
	    if proto == "1":
	        sp, dp = 0, int(it) << 8 | int(ic)
	    else:
	        sp, dp = int(ts or us), int(td or ud)
	    k = (src, sp, dst, dp, proto)
	    cap[k] += 1
	    capb[k] += int(ln)
	flows = collections.Counter()
	flowb = collections.Counter()
	for k, (p, b) in rows.items():
	    d, v, proto, s, t = k.split()
	    (sa, sp), (da, dp) = s.rsplit(":", 1), t.rsplit(":", 1)
	    key = (sa, int(sp), da, int(dp), proto)
	    flows[key] += p
	    flowb[key] += b
	assert flows == cap and flowb == capb, (flows - cap, cap - flows)
	sent = json.load(open(sys.argv[3]))
	for f in sent["flows"]:
	    k = (f["src"], f["sport"], f["dst"], f["dport"], "17")
	    assert (flows[k], flowb[k]) == (f["packets"], f["bytes"]), (k, flows[k], f)
	print("%d flows, %d packets: the underlay, vx0 and tcpdump agree" % (len(flows), sum(flows.values())))
	EOF
		fail "flowacct and tcpdump on vx0 disagree"
	# B's records: each flow's, the other way round (A's egress is B's ingress).
	run_stop
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --books --broken-max 1 ||
		fail "B's records do not add up to its counters"
	python3 - "$SCRATCH/rec.json" "$SCRATCH/under" <<-'EOF' || fail "B's records differ from A's rows"
	import collections, json, sys
	rec = collections.defaultdict(lambda: [0, 0])
	seen = set()
	for line in open(sys.argv[1]):
	    try:
	        r = json.loads(line)
	    except ValueError:
	        continue        # a line the kill cut short
	    if r.get("type") != "flow" or not r["tunnel"] or (r["instance"], r["seq"]) in seen:
	        continue
	    seen.add((r["instance"], r["seq"]))
	    t = r["tunnel"]
	    assert t["type"] == "vxlan" and t["id"] == 42, t
	    d = "egress" if r["direction"] == "ingress" else "ingress"
	    k = "%s %s %s %s:%s %s:%s" % (d, r["ip_version"], r["proto"], r["src"], r["sport"],
	                                  r["dst"], r["dport"])
	    rec[k][0] += r["packets"]
	    rec[k][1] += r["bytes"]
	rows = json.load(open(sys.argv[2]))
	assert dict(rec) == rows, (dict(rec), rows)
	print("B's records: %d flows as A's rows" % len(rows))
	EOF
	# Grouped by tunnel: one row per tunnel (each way), the tunnelled total.
	$INA "$FLOWACCT" dump "$VA" -j --group-by tunnel >"$SCRATCH/grouped.json"
	python3 - "$SCRATCH/grouped.json" "$SCRATCH/under" <<-'EOF' || fail "dump --group-by tunnel"
	import json, sys
	g = json.load(open(sys.argv[1]))["flows"]
	rows = json.load(open(sys.argv[2]))
	tun = [r for r in g if r["tunnel"]]
	assert len(tun) == 2, tun
	assert sum(r["packets"] for r in tun) == sum(p for p, b in rows.values()), tun
	assert sum(r["flows"] for r in tun) == len(rows), tun
	EOF

	# Offloads on: the tunnel's GSO frames at the underlay's TC egress.
	$INA ethtool -K vx0 tso on gso on >/dev/null 2>&1 || true
	$INA ethtool -K "$VA" tso on gso on tx-udp_tnl-segmentation on >/dev/null 2>&1 || true
	$INA "$FLOWACCT" detach "$VA" >/dev/null
	$INA "$FLOWACCT" detach vx0 >/dev/null
	$INA "$FLOWACCT" attach "$VA" --decap inner >/dev/null || fail "attach again"
	$INA "$FLOWACCT" attach vx0 >/dev/null || fail "attach vx0 again"
	$INB iperf3 -s -1 -B 198.51.100.2 -p 5202 >/dev/null 2>&1 & disown
	sleep 0.2
	$INA iperf3 -c 198.51.100.2 -p 5202 -t 1 >/dev/null || fail "iperf3 with offloads"
	sleep 0.3
	_rows_both "$SCRATCH/under2" "$SCRATCH/vx02"
	diff "$SCRATCH/under2" "$SCRATCH/vx02" >"$SCRATCH/diff2" ||
		fail "with offloads, the underlay's inner rows differ from vx0's: $(head -20 "$SCRATCH/diff2")"
	# Else the kernel segmented before the hook, and this proved nothing new.
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
gso = sum(h["counters"]["gso_frames"] for h in d["hooks"] if h["direction"] == "egress")
print("with offloads: %d GSO frames of the tunnel at the underlay egress" % gso)
sys.exit(0 if gso else 1)' "$SCRATCH/under2.json" || fail "no GSO frame of the tunnel at TC egress"
	$INA "$FLOWACCT" detach "$VA" >/dev/null
	$INA "$FLOWACCT" detach vx0 >/dev/null
}

# IPFIX: the records of flows out of a tunnel carry VXLAN's VNI as
# layer2SegmentId (type 0x01 in its top octet), as tshark dissects the
# export; the same packets as the JSON records, flow by flow; the outer
# flows (the underlay's own ping) without it. With --ipfix-pen (RFC 5612's
# number for documentation, which tshark names), the tunnel's type, id and
# outer addresses in flowacct's elements, as the JSON records have them;
# and nfdump, which knows no such elements, stores those records' packets.
test_tunnels_ipfix() {
	_export_pair
	warm_up
	_vxlan "$NSA" "$VA" 192.0.2.1 192.0.2.2 198.51.100.1
	_vxlan "$NSB" "$VB" 192.0.2.2 192.0.2.1 198.51.100.2
	_export_run
	$INB socat -u UDP-RECV:9999 /dev/null & disown
	$INA ping -q -c 3 -i 0.2 198.51.100.2 >/dev/null || fail "ping through the tunnel"
	$INA ping -q -c 2 -i 0.2 192.0.2.2 >/dev/null
	$INA python3 tests/helpers/udp_send.py --src 198.51.100.1 --dst 198.51.100.2 --flows 3 \
		--count 20 --size 300 --dport 9999 --rate 1000 >/dev/null
	sleep 0.3
	run_stop
	lo_capture_stop
	nfcapd_stop
	python3 tests/checkers/check_ipfix.py drops "$SCRATCH/export.pcap" --port "$EXPORT_PORT" \
		>"$SCRATCH/ipfix.json"
	python3 tests/checkers/check_ipfix.py nfdump "$SCRATCH/nfcapd" >"$SCRATCH/nfdump.json"
	python3 - "$SCRATCH/ipfix.json" "$SCRATCH/rec.json" "$SCRATCH/nfdump.json" <<-'EOF' ||
	import collections, json, sys
	export = json.load(open(sys.argv[1]))
	flows = export["flows"]
	assert export["pens"] == [32473], export["pens"]
	recs = [json.loads(l) for l in open(sys.argv[2])]
	recs = [r for r in recs if r.get("type") == "flow"]
	vni = 1 << 56 | 42
	def tally(rows, tunnelled):
	    acc = collections.Counter()
	    for r in rows:
	        if tunnelled(r):
	            acc[(r["sport"], r["dport"])] += r["packets"]
	    return acc
	got = tally(flows, lambda r: r.get("segment") == vni)
	want = want_pkts = tally(recs, lambda r: r["tunnel"] is not None)
	print("IPFIX, segment %#x: %s; JSON, tunnelled: %s" % (vni, dict(got), dict(want)))
	assert got == want and len(want) >= 4, (got, want)
	assert all(r.get("segment") in (None, vni) for r in flows), flows
	assert any(r.get("segment") is None for r in flows), "no outer flow"
	assert all(r["tunnel"]["id"] == 42 for r in recs if r["tunnel"]), recs
	# flowacct's elements under --ipfix-pen: type, id, outer addresses
	# (IPv4-mapped), each tunnelled record's as its JSON record has them.
	def mapped(a):
	    return "00000000000000000000ffff" + "".join("%02x" % int(x) for x in a.split("."))
	want = collections.Counter((r["sport"], r["dport"], "01", "%016x" % r["tunnel"]["id"],
	                            mapped(r["tunnel"]["outer_src"]), mapped(r["tunnel"]["outer_dst"]))
	                           for r in recs if r["tunnel"])
	got = collections.Counter((r["sport"], r["dport"], r["enterprise"]["1"], r["enterprise"]["2"],
	                           r["enterprise"]["3"], r["enterprise"]["4"])
	                          for r in flows if r.get("segment") == vni)
	print("flowacct's elements: %s" % dict(got))
	assert got == want, (got, want)
	assert all("enterprise" not in r for r in flows if r.get("segment") is None), flows
	# nfdump skips the elements it does not know and stores the rest.
	nf = collections.Counter()
	for r in json.load(open(sys.argv[3]))["flows"]:
	    if r["src"] == "198.51.100.1" and r["dport"] == 9999:
	        nf[(r["sport"], r["dport"])] += r["packets"]
	udp = collections.Counter({k: v for k, v in want_pkts.items() if k[1] == 9999})
	print("nfdump, the tunnelled UDP flows: %s" % dict(nf))
	assert nf == udp and udp, (nf, udp)
	EOF
		fail "the tunnels in IPFIX"
}

# Drops keyed as the hooks key packets: every frame of the generator's
# tunnels (every encapsulation, the broken ones too) sent to a MAC the
# receiver does not have, so that its kernel drops each one (OTHERHOST,
# and UNHANDLED_PROTO for MPLS, which nothing here routes). With --decap
# inner each inner flow's row has its packets and as many drops, IP-layer
# bytes alike, as the generator's table says; a later inner fragment's
# drop (no ports in it) and an inner packet that is no IP are counted
# under their reasons; and the kernel's counts of the link's drops equal
# the frames sent. The IPFIX export with --ipfix-pen carries each tunnel
# type's own elements, as the generator wrote the tunnels. No capture on
# the receiver: a packet socket there would take the MPLS frames the
# kernel otherwise drops.
test_tunnels_drops() {
	_export_pair
	ip -n "$NSB" link set "$VB" address 02:00:00:00:00:99
	_export_run
	ip -n "$NSB" -s -s -j link show dev "$VB" >"$SCRATCH/link.before"
	$INA python3 tests/helpers/tunnel_send.py --dev "$VA" --count 20 >"$SCRATCH/sent.json" ||
		fail "tunnel_send.py"
	sleep 0.5
	ip -n "$NSB" -s -s -j link show dev "$VB" >"$SCRATCH/link.after"
	run_stop
	lo_capture_stop
	nfcapd_stop
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --books --drop-books ||
		fail "the records' books"
	# Every tunnel type in flowacct's IPFIX elements, as tshark dissects
	# them, against the generator's tunnels: type, id (all ones for none),
	# outer addresses (IPv4-mapped; :: for MPLS).
	python3 tests/checkers/check_ipfix.py drops "$SCRATCH/export.pcap" --port "$EXPORT_PORT" \
		>"$SCRATCH/ipfix.json"
	python3 - "$SCRATCH/ipfix.json" "$SCRATCH/sent.json" <<-'EOF' || fail "the tunnels' IPFIX elements"
	import collections, ipaddress, json, sys
	TYPES = {"vxlan": 1, "geneve": 2, "gre": 3, "erspan": 4, "ipip": 5, "mpls": 6}
	def packed(a):
	    if a is None:
	        return "00" * 16
	    ip = ipaddress.ip_address(a)
	    if ip.version == 4:
	        ip = ipaddress.IPv6Address("::ffff:" + a)
	    return ip.packed.hex()
	want, got = collections.Counter(), collections.Counter()
	for f in json.load(open(sys.argv[2]))["flows"]:
	    t = f["tunnel"]
	    if t:
	        src, dst = (str(ipaddress.ip_address(a)) for a in (f["src"], f["dst"]))
	        want[(src, dst, f["sport"], f["dport"], f["proto"], "%02x" % TYPES[t["type"]],
	              "%016x" % (t["id"] if t["id"] is not None else 2**64 - 1),
	              packed(t["outer_src"]), packed(t["outer_dst"]))] += f["packets"]
	for r in json.load(open(sys.argv[1]))["flows"]:
	    e = r.get("enterprise")
	    if e:
	        src, dst = (str(ipaddress.ip_address(a)) for a in (r["src"], r["dst"]))
	        got[(src, dst, r["sport"], r["dport"], r["proto"], e["1"], e["2"], e["3"], e["4"])] += r["packets"]
	types = {k[5] for k in got}
	print("IPFIX: %d tunnelled flows, types %s" % (len(got), sorted(types)))
	for k in set(want) | set(got):
	    if want[k] != got[k]:
	        print("flow %s: sent %d packets, IPFIX %d" % (k, want[k], got[k]))
	assert want == got and len(types) == 6
	EOF
	python3 - "$SCRATCH/sent.json" "$SCRATCH/rec.json" "$SCRATCH/link.before" \
		"$SCRATCH/link.after" <<-'EOF' || fail "the tunnels' drops"
	import collections, json, sys
	sent = json.load(open(sys.argv[1]))
	lines = [json.loads(l) for l in open(sys.argv[2])]
	got = collections.defaultdict(lambda: [0, 0, 0, 0])
	seen = set()
	for r in lines:
	    if r.get("type") != "flow" or r["direction"] != "ingress" or (r["instance"], r["seq"]) in seen:
	        continue
	    seen.add((r["instance"], r["seq"]))
	    k = (r["ip_version"], r["proto"], r["src"], r["dst"], r["sport"], r["dport"],
	         tuple(sorted(r["tunnel"].items())) if r["tunnel"] else None)
	    d = r["drops"] or {"packets": 0, "bytes": 0}
	    for i, v in enumerate((r["packets"], r["bytes"], d["packets"], d["bytes"])):
	        got[k][i] += v
	bad = 0
	for f in sent["flows"]:
	    k = (f["ip_version"], f["proto"], f["src"], f["dst"], f["sport"], f["dport"],
	         tuple(sorted(f["tunnel"].items())) if f["tunnel"] else None)
	    want = [f["packets"], f["bytes"], f["drops"], f["drop_bytes"]]
	    if got.pop(k, None) != want:
	        print("flow %s: want packets, bytes, drops, drop bytes %s" % (k, want))
	        bad += 1
	# Nothing else came out of a tunnel.
	for k, v in got.items():
	    if k[6]:
	        print("flow %s not sent: %s" % (k, v))
	        bad += 1
	books = [r for r in lines if r.get("type") == "counters"][-1]["drops"]
	for name, n in sent["drop_counters"].items():
	    if books.get(name) != n:
	        print("drop books: %s %s, want %d" % (name, books.get(name), n))
	        bad += 1
	def link(path, key):
	    rx = json.load(open(path))[0]["stats64"]["rx"]
	    return rx.get(key, 0)
	# OTHERHOST's count, and the frames no protocol took (rx_dropped).
	kernel = sum(link(sys.argv[4], k) - link(sys.argv[3], k) for k in ("otherhost", "dropped"))
	print("frames sent %d; the link's otherhost and dropped %d; books %s"
	      % (sent["frames"], kernel, books))
	if kernel != sent["frames"] or books["seen"] < kernel:
	    print("the link's receive statistics before and after:",
	          json.load(open(sys.argv[3]))[0]["stats64"]["rx"], json.load(open(sys.argv[4]))[0]["stats64"]["rx"])
	    bad += 1
	sys.exit(1 if bad else 0)
	EOF
	# The drop program's link is named for how it was loaded: killed and
	# started again the same way, the daemon adopts it; with another VXLAN
	# port, it replaces it.
	local dir
	run_start "$NSB" --layout set --iface "$VB" --decap inner --interval 0.2 --no-sockets
	run_stop KILL
	dir=$(echo /sys/fs/bpf/flowacct/run-net"$(stat -L -c %i /run/netns/"$NSB")"-*)
	: >"$SCRATCH/run.log"
	[ -e "$dir/drop_link_attached-decap" ] || fail "no drop_link_attached-decap in $(ls "$dir")"
	run_start "$NSB" --layout set --iface "$VB" --decap inner --interval 0.2 --no-sockets
	grep -q "by the drop program a killed daemon left" "$SCRATCH/run.log" ||
		fail "the drop program was not adopted"
	run_stop KILL
	: >"$SCRATCH/run.log"
	run_start "$NSB" --layout set --iface "$VB" --decap inner --vxlan-port 4790 \
		--interval 0.2 --no-sockets
	! grep -q "by the drop program a killed daemon left" "$SCRATCH/run.log" ||
		fail "a drop program loaded for other ports was adopted"
	[ "$(cd "$dir" && echo drop_link_*)" = drop_link_attached-decap-4790 ] ||
		fail "drop links: $(cd "$dir" && echo drop_link_*)"
	run_stop
}

# The release before the tunnel's tag in the key (drain file version 5,
# cache file version 2, tables keyed without the tag), killed right after
# a drain under tunnelled traffic that the receiver drops: this one adopts
# its set as it is (the keys without the tag: one row an inner flow and
# tunnel type, as that release kept them), converts both files, and loses
# no packet and no drop. The release is built from git, with its crash
# points, where tests/bench/bench.mk unpacks it (build/tag-start/src).
test_tunnels_upgrade() {
	local log pid rc=0 sender
	netns_pair
	old_crash_build "$PWD/build/tag-start/src"
	ip -n "$NSB" link set "$VB" address 02:00:00:00:00:99
	log=$SCRATCH/old.log
	FLOWACCT_CRASH_AT=drained:30 nsenter --net=/run/netns/"$NSB" "$OLD_FA" run --layout set \
		--iface "$VB" --decap inner --interval 0.2 --idle-timeout 1 --no-sockets \
		--json "$SCRATCH/rec.json" 2>"$log" &
	pid=$!
	for _ in $(seq 100); do grep -q "running on" "$log" && break; sleep 0.05; done
	# A round each 0.05 s, under the 0.2 s tick: every table the old daemon
	# drains has rows (at 0.25 s, one tick in five had none, and a kill at
	# such a drain left no rows to convert).
	$INA python3 tests/helpers/tunnel_send.py --dev "$VA" --count 240 --interval 0.05 \
		>"$SCRATCH/sent.json" &
	sender=$!
	wait $pid || rc=$?
	[ $rc = 137 ] || fail "the old daemon: exit $rc: $(cat "$log")"
	old_files_are 5 2
	run_start "$NSB" --layout set --iface "$VB" --decap inner --interval 0.2 --idle-timeout 1 \
		--no-sockets
	wait $sender || fail "tunnel_send.py"
	sleep 1.5
	run_stop
	python3 tests/checkers/check_records.py "$SCRATCH/rec.json" --books --drop-books ||
		fail "the records' books"
	# Each inner flow and tunnel type: the packets and drops sent.
	python3 - "$SCRATCH/sent.json" "$SCRATCH/rec.json" <<-'EOF' || fail "the tunnels across the upgrade"
	import collections, json, sys
	want, got, seen = collections.Counter(), collections.Counter(), set()
	for f in json.load(open(sys.argv[1]))["flows"]:
	    if f["tunnel"]:
	        k = (f["src"], f["dst"], f["sport"], f["dport"], f["proto"], f["tunnel"]["type"])
	        want[k + ("packets",)] += f["packets"]
	        want[k + ("drops",)] += f["drops"]
	for l in open(sys.argv[2]):
	    r = json.loads(l)
	    if r.get("type") != "flow" or not r["tunnel"] or (r["instance"], r["seq"]) in seen:
	        continue
	    seen.add((r["instance"], r["seq"]))
	    k = (r["src"], r["dst"], r["sport"], r["dport"], r["proto"], r["tunnel"]["type"])
	    got[k + ("packets",)] += r["packets"]
	    got[k + ("drops",)] += (r["drops"] or {"packets": 0})["packets"]
	for k in set(want) | set(got):
	    if want[k] != got[k]:
	        print("%s: sent %d, records %d" % (k, want[k], got[k]))
	print("%d inner flows and types, %d packets" %
	      (len(want) // 2, sum(v for k, v in want.items() if k[-1] == "packets")))
	sys.exit(0 if want == got and want else 1)
	EOF
}
