# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The ingress hook on the interfaces of real hosts: TC ingress keeps a
# veth's offloads (XDP native turns its peer's TSO off), counts the
# segments of GRO'd and host-GSO frames as the sender sent them, and
# accounts VLAN traffic whose tag the receive path moved into the skb.

ALL_TESTS="test_hooks_auto_choice test_hooks_tc_ingress_throughput
	test_hooks_gro_matches_sender test_hooks_big_tcp test_hooks_big_tcp4
	test_hooks_tap_host_gso test_hooks_vlan"

# offloads_on: what netns_pair turned off, back on (the default of veth).
offloads_on() {
	$INA ethtool -K "$VA" tso on gso on gro on >/dev/null 2>&1
	$INB ethtool -K "$VB" tso on gso on gro on >/dev/null 2>&1
}

# iperf3_gbps: one 1 s TCP run from A to B, its received rate in Gbit/s.
# (iperf3 takes whole seconds: -t 0.5 would be 0, "run forever".)
iperf3_gbps() {
	$INA timeout 30 iperf3 -c 192.0.2.2 -p 5201 -t 1 -J |
		python3 -c 'import json, sys
print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'
}

# The rule: virtual devices get TC ingress, with the reason in status; an
# override is kept; a device without native XDP gets TC too.
test_hooks_auto_choice() {
	netns_pair
	$INA "$FLOWACCT" attach "$VA" >/dev/null
	$INA "$FLOWACCT" -j status | grep -q '"ingress_hook":"tc","ingress_reason":"virtual device","driver":"veth"' ||
		fail "veth: $($INA "$FLOWACCT" -j status)"
	$INA "$FLOWACCT" detach "$VA" >/dev/null
	$INA "$FLOWACCT" attach "$VA" --ingress xdp >/dev/null 2>&1
	$INA "$FLOWACCT" -j status | grep -q '"ingress_hook":"xdp","ingress_reason":"asked"' ||
		fail "override: $($INA "$FLOWACCT" -j status)"
	$INA "$FLOWACCT" detach "$VA" >/dev/null
	ip -n "$NSA" link add fabr0 type bridge
	ip -n "$NSA" link set fabr0 up
	$INA "$FLOWACCT" attach fabr0 >/dev/null
	$INA "$FLOWACCT" -j status | grep -q '"iface":"fabr0".*"ingress_hook":"tc"' ||
		fail "bridge: $($INA "$FLOWACCT" -j status)"
	$INA "$FLOWACCT" detach fabr0 >/dev/null
}

# The receiver's TCP throughput with flowacct's default attach is within 5%
# of nothing attached: medians of 9 interleaved 1 s runs of each. This
# VM's rates drift by more than that for seconds at a time (another guest,
# the host): a set that misses is measured again, up to 3 sets. What the
# test guards against (XDP native on a veth: about a third of the rate)
# misses every one.
throughput_set() {
	local i none=() tc=()
	# In turn first (A B, B A, ...), against drift within the set.
	for i in 1 2 3 4 5 6 7 8 9; do
		if [ $((i % 2)) = 1 ]; then
			none+=("$(iperf3_gbps)")
			$INB "$FLOWACCT" attach "$VB" >/dev/null
			tc+=("$(iperf3_gbps)")
		else
			$INB "$FLOWACCT" attach "$VB" >/dev/null
			tc+=("$(iperf3_gbps)")
			$INB "$FLOWACCT" detach "$VB" >/dev/null
			none+=("$(iperf3_gbps)")
			continue
		fi
		$INB "$FLOWACCT" detach "$VB" >/dev/null
	done
	python3 - "${none[*]}" "${tc[*]}" <<-'EOF'
	import statistics, sys
	none = [float(x) for x in sys.argv[1].split()]
	tc = [float(x) for x in sys.argv[2].split()]
	a, b = statistics.median(none), statistics.median(tc)
	print("Gbit/s, nothing attached:", none, "median", a)
	print("Gbit/s, flowacct (TC ingress):", tc, "median", b, "= %.3f x" % (b / a))
	sys.exit(0 if b >= 0.95 * a else 1)
	EOF
}

test_hooks_tc_ingress_throughput() {
	netns_pair
	offloads_on
	$INB iperf3 -s -B 192.0.2.2 -p 5201 -D -I "$SCRATCH/iperf3.pid" >/dev/null
	sleep 0.5
	local set
	for set in 1 2 3; do
		if throughput_set; then
			kill "$(cat "$SCRATCH/iperf3.pid")"
			return 0
		fi
		echo "set $set missed"
	done
	kill "$(cat "$SCRATCH/iperf3.pid")"
	fail "TC ingress attached cost more than 5% of the TCP rate, 3 sets in a row"
}

# tcp_both_ends ADDR IPERF3_ARGS...: one second of iperf3 TCP from A to ADDR
# on B with both ends attached; leaves in SCRATCH the two dumps (a.json,
# b.json), A's TCP counters over the transfer (nstat.json) and B's link
# counters before and after (link0.json, link1.json), for tests/checkers/check_both_ends.py.
tcp_both_ends() {
	local addr=$1
	shift
	$INB iperf3 -s -1 -B "$addr" -p 5201 >/dev/null 2>&1 &
	sleep 0.3
	$INA "$FLOWACCT" attach "$VA" >/dev/null
	$INB "$FLOWACCT" attach "$VB" >/dev/null
	$INA nstat -n
	ip -n "$NSB" -s -j link show "$VB" >"$SCRATCH/link0.json"
	$INA timeout 30 iperf3 -c "$addr" -p 5201 -t 1 "$@" >/dev/null
	sleep 0.5
	$INA nstat -a -j >"$SCRATCH/nstat.json"
	ip -n "$NSB" -s -j link show "$VB" >"$SCRATCH/link1.json"
	$INA "$FLOWACCT" dump -j "$VA" >"$SCRATCH/a.json"
	$INB "$FLOWACCT" dump -j "$VB" >"$SCRATCH/b.json"
	$INA "$FLOWACCT" detach "$VA" >/dev/null
	$INB "$FLOWACCT" detach "$VB" >/dev/null
}

# TCP with the veth's offloads on: B's TC ingress sees GRO's merged frames,
# A's TC egress GSO frames. Both count the segments A's TCP stack says it
# sent (only this test's connections are in A's namespace), and B's ingress
# equals A's egress, flow by flow, apart from what the veth dropped.
test_hooks_gro_matches_sender() {
	netns_pair
	offloads_on
	tcp_both_ends 192.0.2.2
	python3 tests/checkers/check_both_ends.py "$SCRATCH"/{a,b,nstat,link0,link1}.json \
		--src 192.0.2.1 --counter gso_frames || fail "B's ingress differs from A's egress"
}

# big_tcp_pair: a veth pair with offloads on and GSO and GRO sizes of
# 185000 bytes, BIG TCP's.
big_tcp_pair() {
	netns_pair
	offloads_on
	ip -n "$NSA" link set "$VA" gso_max_size 185000 gro_max_size 185000 ||
		fail "the veth takes no BIG TCP sizes"
	ip -n "$NSB" link set "$VB" gso_max_size 185000 gro_max_size 185000
}

# BIG TCP over IPv6: GSO and GRO frames over 64 KiB with payload length 0,
# counted the same way.
test_hooks_big_tcp() {
	big_tcp_pair
	tcp_both_ends 2001:db8:0::2 -6
	python3 tests/checkers/check_both_ends.py "$SCRATCH"/{a,b,nstat,link0,link1}.json \
		--src 2001:db8::1 --counter ipv6_jumbograms || fail "BIG TCP: the counts differ"
}

# IPv4 BIG TCP (6.3+): GSO and GRO frames over 64 KiB with total length 0,
# counted the same way; iproute2 6.1 has no keywords for the sizes
# (tests/helpers/big_tcp4.py). A capture of A's side holds such frames, as a host
# capture of TSO traffic does: its replay equals tshark's dissection per
# flow.
test_hooks_big_tcp4() {
	big_tcp_pair
	$INA python3 tests/helpers/big_tcp4.py "$VA" 185000 || fail "no IPv4 BIG TCP here"
	$INB python3 tests/helpers/big_tcp4.py "$VB" 185000
	(trap - INT; exec $INA tcpdump -i "$VA" -n -s 200 -U -w "$SCRATCH/a.pcap" tcp) \
		>"$SCRATCH/tcpdump.log" 2>&1 &
	local td=$! i
	for i in $(seq 50); do
		grep -q "listening on" "$SCRATCH/tcpdump.log" && break
		sleep 0.1
	done
	tcp_both_ends 192.0.2.2
	kill -INT $td
	wait $td
	python3 tests/checkers/check_both_ends.py "$SCRATCH"/{a,b,nstat,link0,link1}.json \
		--src 192.0.2.1 --counter ipv4_len_from_frame || fail "IPv4 BIG TCP: the counts differ"
	i=$(tshark -n -r "$SCRATCH/a.pcap" -o ip.tso_support:FALSE -T fields -e ip.len \
		2>/dev/null | grep -c '^0$')
	echo "A's capture: $i frames of IPv4 total length 0"
	[ "$i" -gt 0 ] || fail "the capture holds no IPv4 frame of total length 0"
	for i in xdp tc; do
		"$FLOWACCT" replay "$SCRATCH/a.pcap" --hook $i -j >"$SCRATCH/replay.json" ||
			fail "replay through $i"
		python3 tests/checkers/check_tshark.py "$SCRATCH/a.pcap" "$SCRATCH/replay.json" ||
			fail "the capture through $i disagrees with tshark"
	done
}

# sent_matches DIRECTION DUMP SENT...: each flow a sender script says it
# sent (SENT: {"flows":[...]}, as tap_gso.py and vlan_send.py print) has
# exactly its packets and bytes in DUMP's rows of that direction.
sent_matches() {
	local dir=$1 dump=$2
	shift 2
	python3 - "$dir" "$dump" "$@" <<-'EOF'
	import json, sys
	d = sys.argv[1]
	rows = {(f["src"], f["dst"], f["proto"], f["sport"]): (f["packets"], f["bytes"])
	        for f in json.load(open(sys.argv[2]))["flows"] if f["direction"] == d}
	bad = []
	for p in sys.argv[3:]:
	    f = json.load(open(p))["flows"][0]
	    k = (f["src"], f["dst"], f["proto"], f["sport"])
	    print(d, k, "sent", (f["packets"], f["bytes"]), "flowacct", rows.get(k))
	    if rows.get(k) != (f["packets"], f["bytes"]):
	        bad.append(k)
	sys.exit(1 if bad else 0)
	EOF
}

# A TAP device fed TCP super-frames with a virtio-net header asking for host
# GSO (as a VM hands its TSO frames to the host): TC ingress counts them as
# the segments they become, exactly (tests/helpers/tap_gso.py says what those are).
test_hooks_tap_host_gso() {
	netns_pair
	ip -n "$NSA" tuntap add dev fatap0 mode tap vnet_hdr
	ip -n "$NSA" link set fatap0 up
	$INA "$FLOWACCT" attach fatap0 >/dev/null
	$INA "$FLOWACCT" -j status | grep -q '"iface":"fatap0".*"ingress_hook":"tc"' ||
		fail "a tap does not get TC ingress"
	$INA python3 tests/helpers/tap_gso.py --dev fatap0 --frames 20 --mss 1000 --payload 9500 \
		>"$SCRATCH/v4.json"
	$INA python3 tests/helpers/tap_gso.py --dev fatap0 --frames 10 --mss 1200 --payload 6001 \
		--ipv6 >"$SCRATCH/v6.json"
	$INA "$FLOWACCT" dump -j fatap0 >"$SCRATCH/dump.json"
	sent_matches ingress "$SCRATCH/dump.json" "$SCRATCH/v4.json" "$SCRATCH/v6.json" ||
		fail "host GSO frames miscounted"
	python3 - "$SCRATCH/dump.json" <<-'EOF' || fail "not 30 GSO frames at ingress"
	import json, sys
	gso = [h["counters"]["gso_frames"] for h in json.load(open(sys.argv[1]))["hooks"]
	       if h["direction"] == "ingress"][0]
	print("GSO frames at ingress:", gso)
	sys.exit(0 if gso == 30 else 1)
	EOF
	$INA "$FLOWACCT" detach fatap0 >/dev/null
}

# 802.1Q and 802.1ad over the veth: tagged frames written whole on A leave
# with the tags in the frame (A's TC egress parses them); B's kernel moves
# the outer tag into the skb before TC ingress (so TC sees the frame without
# it, or with only the inner one), while XDP sees them all. Every hook must
# count exactly what was sent. (This kernel has no 8021q module and no VLAN
# filtering bridge, so a tag that stays in skb metadata at egress, as a VLAN
# device with tx offload leaves it, cannot be made here.)
test_hooks_vlan() {
	netns_pair
	local ingress
	for ingress in tc xdp; do
		$INA "$FLOWACCT" attach "$VA" >/dev/null
		$INB "$FLOWACCT" attach "$VB" --ingress $ingress >/dev/null 2>&1
		$INA python3 tests/helpers/vlan_send.py --dev "$VA" --count 30 --tags 7 --size 300 \
			--sport 43001 >"$SCRATCH/q4.json"
		$INA python3 tests/helpers/vlan_send.py --dev "$VA" --count 20 --tags 7 --size 900 \
			--sport 43002 --ipv6 >"$SCRATCH/q6.json"
		$INA python3 tests/helpers/vlan_send.py --dev "$VA" --count 25 --tags 100,7 --size 50 \
			--sport 43003 >"$SCRATCH/qinq.json"
		sleep 0.2
		$INA "$FLOWACCT" dump -j "$VA" >"$SCRATCH/a.json"
		$INB "$FLOWACCT" dump -j "$VB" >"$SCRATCH/b.json"
		sent_matches egress "$SCRATCH/a.json" "$SCRATCH"/q4.json "$SCRATCH"/q6.json \
			"$SCRATCH"/qinq.json || fail "A's TC egress"
		sent_matches ingress "$SCRATCH/b.json" "$SCRATCH"/q4.json "$SCRATCH"/q6.json \
			"$SCRATCH"/qinq.json || fail "B's $ingress ingress"
		$INA "$FLOWACCT" detach "$VA" >/dev/null
		$INB "$FLOWACCT" detach "$VB" >/dev/null
	done
}
