# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Live accounting on veth pairs between test namespaces: real traffic from
# real programs, checked against what was sent and against tcpdump+tshark.

ALL_TESTS="test_live_percpu_tc test_live_shared_tc test_live_percpu_native
	test_live_shared_native test_live_percpu_skb test_live_shared_skb test_live_gso_segments test_live_jumbo_mtu
	test_live_detach_leaves_nothing test_live_keeps_other_tc_filters
	test_live_kill9 test_live_other_xdp_program test_live_two_interfaces
	test_live_errors test_live_ip_netns_exec test_live_times"

# Nothing of flowacct's on $1 (a device in namespace $2).
assert_clean() {
	if ip -n "$2" link show dev "$1" | grep -q "prog/xdp"; then
		fail "an XDP program is left on $1"
	fi
	assert_tc_clean "$@"
}

# The same, leaving XDP out (another program may be there).
assert_tc_clean() {
	local dev=$1 ns=$2 dir
	if ip netns exec "$ns" tc filter show dev "$dev" egress | grep -q flowacct; then
		fail "a flowacct filter is left on $dev egress"
	fi
	if ip netns exec "$ns" tc filter show dev "$dev" ingress | grep -q flowacct; then
		fail "a flowacct filter is left on $dev ingress"
	fi
	if tcx_progs "$ns" "$dev" | grep -q flowacct; then
		fail "a flowacct TCX link is left on $dev: $(tcx_progs "$ns" "$dev")"
	fi
	dir=$(pin_dir "$ns" "$dev")
	[ ! -e "$dir" ] || fail "pins left in $dir"
}

# Receivers for send_traffic, started before anything is measured.
start_receivers() {
	$INB socat -u UDP-RECV:5000 /dev/null &
	$INA socat -u UDP-RECV:7000 /dev/null &
	$INB socat -u TCP6-LISTEN:8000,reuseaddr,fork /dev/null &
	$INB iperf3 -s -1 -B 192.0.2.2 -p 5201 >/dev/null 2>&1 &
	IPERF_SERVER=$!
	sleep 0.5
}

# Connections close after their clients return (the server's FIN, the
# client's answer): wait until they have, so the capture sees them too.
traffic_settle() {
	timeout 10 tail --pid="$IPERF_SERVER" -f /dev/null || true
	sleep 1
}

# One UDP datagram of $4 bytes from port $2 to $3:$1 of $5's namespace.
udp_send() {
	local dst=$1 sport=$2 dport=$3 size=$4 in=$5
	head -c "$size" /dev/zero | $in socat -u - UDP-SENDTO:"$dst":"$dport",sourceport="$sport"
}

# Traffic from A's side, and in $SCRATCH/expect.json the flows whose packets
# and IP-layer bytes follow from what was sent.
send_traffic() {
	local i
	$INA ping -q -c 5 -s 100 -i 0.1 192.0.2.2 >/dev/null
	$INA ping -q -6 -c 4 -s 200 -i 0.1 2001:db8::2 >/dev/null
	for i in 1 2 3; do udp_send 192.0.2.2 4000 5000 500 "$INA"; done
	for i in 1 2; do udp_send 192.0.2.1 6000 7000 1000 "$INB"; done
	head -c 100000 /dev/urandom | $INA socat -u - TCP6:[2001:db8::2]:8000
	$INA iperf3 -c 192.0.2.2 -p 5201 -n 300K >/dev/null
	traffic_settle
	cat >"$SCRATCH/expect.json" <<-EOF
	[
	 {"direction":"egress","ip_version":4,"proto":1,"src":"192.0.2.1","dst":"192.0.2.2",
	  "sport":0,"dport":2048,"packets":5,"bytes":$((5 * (20 + 8 + 100)))},
	 {"direction":"ingress","ip_version":4,"proto":1,"src":"192.0.2.2","dst":"192.0.2.1",
	  "sport":0,"dport":0,"packets":5,"bytes":$((5 * (20 + 8 + 100)))},
	 {"direction":"egress","ip_version":6,"proto":58,"src":"2001:db8::1","dst":"2001:db8::2",
	  "sport":0,"dport":$((128 << 8)),"packets":4,"bytes":$((4 * (40 + 8 + 200)))},
	 {"direction":"ingress","ip_version":6,"proto":58,"src":"2001:db8::2","dst":"2001:db8::1",
	  "sport":0,"dport":$((129 << 8)),"packets":4,"bytes":$((4 * (40 + 8 + 200)))},
	 {"direction":"egress","ip_version":4,"proto":17,"src":"192.0.2.1","dst":"192.0.2.2",
	  "sport":4000,"dport":5000,"packets":3,"bytes":$((3 * (20 + 8 + 500)))},
	 {"direction":"ingress","ip_version":4,"proto":17,"src":"192.0.2.2","dst":"192.0.2.1",
	  "sport":6000,"dport":7000,"packets":2,"bytes":$((2 * (20 + 8 + 1000)))}
	]
	EOF
}

live_traffic() {
	local mode=$1 map=$2 hook=xdp
	netns_pair
	start_receivers
	if [ "$mode" = tc ]; then
		$INA "$FLOWACCT" attach "$VA" --ingress tc --map "$map"
		hook=tc
	else
		$INA "$FLOWACCT" attach "$VA" --mode "$mode" --map "$map"
	fi
	[ "$mode" = skb ] && hook=xdp-skb
	$INA "$FLOWACCT" -j status | grep -q "\"iface\":\"$VA\".*\"ingress_hook\":\"$hook\".*\"map\":\"$map\".*\"live\":true" ||
		fail "status does not show $VA live in $mode mode with the $map map"
	capture_start "$NSA" "$VA" in "$SCRATCH/in.pcap"
	capture_start "$NSA" "$VA" out "$SCRATCH/out.pcap"
	send_traffic
	capture_stop
	$INA "$FLOWACCT" dump -j >"$SCRATCH/dump.json"
	$INA "$FLOWACCT" dump
	python3 tests/checkers/check_live.py "$SCRATCH/dump.json" --in "$SCRATCH/in.pcap" \
		--out "$SCRATCH/out.pcap" --expect "$SCRATCH/expect.json"
	# ARP is counted as non-IP (checked against the captures above); ND is
	# ICMPv6 135/136 in the flow table.
	grep -q '"proto":58,"src":"2001:db8::1","dst":"ff02::1:ff00:2","sport":0,"dport":34560' \
		"$SCRATCH/dump.json" || fail "no neighbour solicitation row"
	biflow_check
	$INA "$FLOWACCT" detach "$VA"
	assert_clean "$VA" "$NSA"
}

# dump --biflow against the captures: each connection's row holds one
# direction's packets and bytes as tshark counts them, and the other's in
# reverse_*; every one-way flow of the captures is in exactly one row.
biflow_check() {
	$INA "$FLOWACCT" dump -b -j >"$SCRATCH/biflow.json"
	python3 tests/checkers/check_ipfix.py pcap "$SCRATCH/in.pcap" >"$SCRATCH/cap_in.json"
	python3 tests/checkers/check_ipfix.py pcap "$SCRATCH/out.pcap" >"$SCRATCH/cap_out.json"
	python3 - "$SCRATCH/biflow.json" "$SCRATCH/cap_in.json" "$SCRATCH/cap_out.json" <<-'EOF' ||
	import ipaddress, json, sys
	def a(x):
	    return str(ipaddress.ip_address(x))
	cap = {}
	for p in sys.argv[2:]:
	    for r in json.load(open(p))["flows"]:
	        k = (r["proto"], a(r["src"]), a(r["dst"]), r["sport"], r["dport"])
	        cap[k] = (r["packets"], r["bytes"])
	def rev(k):
	    proto, s, d, sp, dp = k
	    if proto in (1, 58):
	        t = {8: 0, 0: 8, 128: 129, 129: 128}.get(dp >> 8)
	        return None if t is None else (proto, d, s, 0, t << 8 | (dp & 0xff))
	    return (proto, d, s, dp, sp)
	def kernel_noise(k):
	    # Neighbour discovery and MLD: the kernel may send them before the
	    # captures start (check_live.py allows as much).
	    return k[0] == 58 and k[4] >> 8 in (130, 131, 132, 133, 134, 135, 136, 143)
	used, bad, pairs = set(), [], 0
	for r in json.load(open(sys.argv[1]))["flows"]:
	    k = (r["proto"], a(r["src"]), a(r["dst"]), r["sport"], r["dport"])
	    if kernel_noise(k):
	        used.add(k)
	        continue
	    if cap.get(k) != (r["packets"], r["bytes"]):
	        bad.append(("forward", k, cap.get(k), (r["packets"], r["bytes"])))
	    used.add(k)
	    rk = rev(k)
	    want = cap.get(rk, (0, 0)) if rk else (0, 0)
	    if want != (r["reverse_packets"], r["reverse_bytes"]):
	        bad.append(("reverse", rk, want, (r["reverse_packets"], r["reverse_bytes"])))
	    if rk in cap:
	        used.add(rk)
	        pairs += 1
	missing = [k for k in cap if k not in used and not kernel_noise(k)]
	print("biflow: %d rows, %d with both directions; differ: %s; not in any row: %s" % (
	    len(used), pairs, bad, missing))
	sys.exit(1 if bad or missing or not pairs else 0)
	EOF
		fail "dump --biflow differs from the captures"
}

test_live_percpu_tc() { live_traffic tc percpu; }
test_live_shared_tc() { live_traffic tc shared; }
test_live_percpu_native() { live_traffic native percpu; }
test_live_shared_native() { live_traffic native shared; }
test_live_percpu_skb() { live_traffic skb percpu; }
test_live_shared_skb() { live_traffic skb shared; }

# GSO: A sends TCP with TSO; R forwards the GSO frames out of an interface
# without segmentation offload, so the kernel segments them after TC egress.
# flowacct on that interface sees GSO frames; B's capture sees the packets on
# the wire. The two must agree.
test_live_gso_segments() {
	netns_pair	# A <-> B is not used for traffic here; R is in between
	local NSR=${NSA%-a}-r RA=${VA%a}r RB=${VA%a}s INR
	netns_new "$NSR"
	ip link del "$VA" netns "$NSA" 2>/dev/null || ip -n "$NSA" link del "$VA"
	veth_link "$NSA" "$VA" "$NSR" "$RA" 0
	veth_link "$NSR" "$RB" "$NSB" "$VB" 1
	INR="nsenter --net=/run/netns/$NSR"
	ip netns exec "$NSR" sysctl -qw net.ipv4.ip_forward=1
	ip -n "$NSA" route add default via 192.0.2.2
	ip -n "$NSB" route add default via 198.51.100.1
	$INR ethtool -K "$RB" tso off gso off >/dev/null
	$INB ethtool -K "$VB" gro off >/dev/null
	$INB socat -u TCP-LISTEN:9000,reuseaddr /dev/null &
	sleep 0.3
	$INR "$FLOWACCT" attach "$RB"
	# B's view of the wire: its ingress is R's egress, and the reverse.
	capture_start "$NSB" "$VB" in "$SCRATCH/b_in.pcap"
	capture_start "$NSB" "$VB" out "$SCRATCH/b_out.pcap"
	head -c 1000000 /dev/zero | $INA socat -u - TCP:198.51.100.2:9000
	sleep 1
	capture_stop
	$INR "$FLOWACCT" dump -j >"$SCRATCH/dump.json"
	$INR "$FLOWACCT" stats
	python3 tests/checkers/check_live.py "$SCRATCH/dump.json" --in "$SCRATCH/b_out.pcap" \
		--out "$SCRATCH/b_in.pcap"
	python3 -c '
import json, sys
c = [h for h in json.load(open(sys.argv[1]))["hooks"] if h["direction"] == "egress"][0]["counters"]
print("gso_frames", c["gso_frames"], "packets", c["seen"])
assert c["gso_frames"] > 0, "no GSO frame reached TC egress: the test did not test GSO"
assert c["seen"] > c["gso_frames"]' "$SCRATCH/dump.json"
	$INR "$FLOWACCT" detach "$RB"
	assert_clean "$RB" "$NSR"
}

# A 9000-byte MTU: XDP needs multi-buffer support to attach in native mode.
test_live_jumbo_mtu() {
	netns_pair
	ip -n "$NSA" link set "$VA" mtu 9000
	ip -n "$NSB" link set "$VB" mtu 9000
	$INA "$FLOWACCT" attach "$VA" --mode native
	$INA ping -q -c 3 -s 8000 -i 0.1 192.0.2.2 >/dev/null
	$INA "$FLOWACCT" dump -j >"$SCRATCH/dump.json"
	python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))["flows"]
for d, p in (("egress", 2048), ("ingress", 0)):
    r = [r for r in rows if r["direction"] == d and r["proto"] == 1 and r["dport"] == p]
    assert r and r[0]["packets"] == 3 and r[0]["bytes"] == 3 * 8028, (d, r)
print("3 echo requests and 3 replies of 8028 bytes")' "$SCRATCH/dump.json"
	$INA "$FLOWACCT" detach "$VA"
	assert_clean "$VA" "$NSA"
}

test_live_detach_leaves_nothing() {
	netns_pair
	local before after dir
	before=$(ip netns exec "$NSA" tc qdisc show dev "$VA")
	# The clsact API (TCX links: tests/suites/test_tcx.sh). On a veth,
	# ingress is at TC by default (XDP would turn off the peer's TSO):
	# both hooks are TC filters.
	$INA "$FLOWACCT" attach "$VA" --tc-api clsact
	ip netns exec "$NSA" tc filter show dev "$VA" ingress | grep -q flowacct_tc_in ||
		fail "no TC ingress filter after attach"
	ip netns exec "$NSA" tc filter show dev "$VA" egress | grep -q flowacct_tc ||
		fail "no TC egress filter after attach"
	ip netns exec "$NSA" tc qdisc show dev "$VA" | grep -q clsact || fail "no clsact after attach"
	dir=$(pin_dir "$NSA" "$VA")
	[ -e "$dir/flows_0" ] && [ -e "$dir/flows_1" ] || fail "no pins after attach"
	[ "$(stat -c %a "$dir")" = 700 ] || fail "pin directory not root-only"
	$INA "$FLOWACCT" detach "$VA"
	assert_clean "$VA" "$NSA"
	after=$(ip netns exec "$NSA" tc qdisc show dev "$VA")
	[ "$before" = "$after" ] || fail "qdiscs changed: before '$before', after '$after'"
	[ ! -e /sys/fs/bpf/flowacct ] || [ -n "$(ls /sys/fs/bpf/flowacct)" ] ||
		fail "empty /sys/fs/bpf/flowacct left"
	$INA ping -q -c 1 -W 2 192.0.2.2 >/dev/null || fail "no traffic after detach"
}

# clsact and a filter that were there before: both stay.
test_live_keeps_other_tc_filters() {
	netns_pair
	# This kernel's only classifier may be cls_bpf: the other filter is a
	# BPF one too, built here.
	printf '%s\n' '#include <linux/bpf.h>' '#include <linux/pkt_cls.h>' \
		'__attribute__((section("tc"), used)) int other(struct __sk_buff *s) { return TC_ACT_UNSPEC; }' \
		'__attribute__((section("license"), used)) char l[] = "GPL";' >"$SCRATCH/other.c"
	clang -target bpf -O2 -I/usr/include/"$(gcc -dumpmachine)" -c "$SCRATCH/other.c" \
		-o "$SCRATCH/other.o"
	ip netns exec "$NSA" tc qdisc add dev "$VA" clsact
	ip netns exec "$NSA" tc filter add dev "$VA" egress pref 7 bpf da \
		obj "$SCRATCH/other.o" sec tc
	$INA "$FLOWACCT" attach "$VA"
	$INA ping -q -c 2 -i 0.1 192.0.2.2 >/dev/null
	$INA "$FLOWACCT" dump | grep -q "^egress .* icmp " || fail "no egress accounting next to another filter"
	$INA "$FLOWACCT" detach "$VA"
	ip netns exec "$NSA" tc qdisc show dev "$VA" | grep -q clsact || fail "clsact removed"
	ip netns exec "$NSA" tc filter show dev "$VA" egress | grep -q "other.o:\[tc\]" ||
		fail "the other filter was removed"
	assert_clean "$VA" "$NSA"
}

# kill -9 at any point of attach: the interface still passes traffic, and a
# later attach and detach work and leave nothing behind.
test_live_kill9() {
	netns_pair
	local d pid out n=0
	for d in 0 0.02 0.1 0.3 0.6 1 1.5 0 0.05 0.2 0.45 0.8 1.2 2; do
		n=$((n + 1))
		$INA "$FLOWACCT" attach "$VA" >/dev/null 2>&1 &
		pid=$!
		sleep "$d"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		$INA ping -q -c 1 -W 2 192.0.2.2 >/dev/null || fail "no traffic after kill at ${d}s"
		# Every other round, attach again first: it must work, or say
		# "already attached" if the killed one had finished.
		if [ $((n % 2)) = 0 ] && ! out=$($INA "$FLOWACCT" attach "$VA" 2>&1); then
			echo "$out" | grep -q "already attached" ||
				fail "attach after kill at ${d}s: $out"
			$INA "$FLOWACCT" -j status | grep -q '"live":true' ||
				fail "'already attached' after kill at ${d}s, but not live"
		fi
		# Detach cleans up whatever is there; "not attached" is fine if
		# the kill came before anything was attached.
		$INA "$FLOWACCT" detach "$VA" 2>&1 | grep -v "is not attached" || true
		assert_clean "$VA" "$NSA"
		echo "killed at ${d}s: clean"
	done
}

# Another XDP program was there first (loaded with xdp-loader). flowacct's
# default ingress hook on a veth is TC: it must leave that program alone.
# Asked for XDP: through libxdp's dispatcher both run; where the kernel
# can't run the dispatcher, flowacct must refuse cleanly.
test_live_other_xdp_program() {
	netns_pair
	local other=/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o id_before
	$INA xdp-loader load -m native "$VA" "$other"
	id_before=$(ip -n "$NSA" link show dev "$VA" | grep -o 'prog/xdp id [0-9]*')
	[ -n "$id_before" ] || fail "xdp-loader did not attach"
	$INA "$FLOWACCT" attach "$VA"
	$INA ping -q -c 3 -i 0.1 192.0.2.2 >/dev/null
	$INA "$FLOWACCT" dump | grep -q "^ingress .* icmp " || fail "flowacct at TC saw nothing"
	[ "$(ip -n "$NSA" link show dev "$VA" | grep -o 'prog/xdp id [0-9]*')" = "$id_before" ] ||
		fail "the other XDP program was touched by a TC attach"
	$INA "$FLOWACCT" detach "$VA"
	assert_tc_clean "$VA" "$NSA"
	if $INA xdp-loader status "$VA" | grep -q xdp_dispatcher; then
		echo "libxdp dispatcher available: both programs must run"
		$INA "$FLOWACCT" attach "$VA" --ingress xdp
		$INA ping -q -c 3 -i 0.1 192.0.2.2 >/dev/null
		$INA "$FLOWACCT" dump | grep -q "^ingress .* icmp " || fail "flowacct saw nothing"
		$INA xdp-loader status "$VA" | grep -q xdpfilt_alw_all || fail "other program gone"
		$INA "$FLOWACCT" detach "$VA"
		$INA xdp-loader status "$VA" | grep -q xdpfilt_alw_all ||
			fail "detach removed the other program"
	else
		echo "libxdp dispatcher unavailable on this kernel: flowacct must refuse cleanly"
		expect_fail "attach next to a directly attached program" \
			$INA "$FLOWACCT" attach "$VA" --ingress xdp
		[ "$(ip -n "$NSA" link show dev "$VA" | grep -o 'prog/xdp id [0-9]*')" = "$id_before" ] ||
			fail "the other XDP program was replaced"
		ip netns exec "$NSA" tc qdisc show dev "$VA" | grep -q clsact &&
			fail "half-attached: clsact left"
		[ ! -e "$(pin_dir "$NSA" "$VA")" ] || fail "half-attached: pins left"
		$INA ping -q -c 1 -W 2 192.0.2.2 >/dev/null || fail "no traffic"
	fi
	$INA xdp-loader unload "$VA" --all
}

test_live_two_interfaces() {
	netns_pair
	local VA2=${VA%a}c VB2=${VA%a}d
	veth_link "$NSA" "$VA2" "$NSB" "$VB2" 1
	$INA "$FLOWACCT" attach "$VA"
	$INA "$FLOWACCT" attach "$VA2" --map percpu
	$INA ping -q -c 2 -i 0.1 192.0.2.2 >/dev/null
	$INA ping -q -c 3 -i 0.1 198.51.100.2 >/dev/null
	local if1 if2
	if1=$(ip netns exec "$NSA" cat /sys/class/net/"$VA"/ifindex 2>/dev/null ||
		$INA cat /sys/class/net/"$VA"/ifindex)
	if1=$($INA ip -o link show dev "$VA" | cut -d: -f1)
	if2=$($INA ip -o link show dev "$VA2" | cut -d: -f1)
	# The three at one moment: a packet between them (a late ND or ARP
	# probe) would make the whole differ from its parts, so again until
	# each interface's dump is the same before and after the whole one.
	local try
	for try in 1 2 3 4 5; do
		$INA "$FLOWACCT" dump "$VA" -j >"$SCRATCH/a.json"
		$INA "$FLOWACCT" dump "$VA2" -j >"$SCRATCH/b.json"
		$INA "$FLOWACCT" dump -j >"$SCRATCH/all.json"
		$INA "$FLOWACCT" dump "$VA" -j >"$SCRATCH/a2.json"
		$INA "$FLOWACCT" dump "$VA2" -j >"$SCRATCH/b2.json"
		cmp -s "$SCRATCH/a.json" "$SCRATCH/a2.json" &&
			cmp -s "$SCRATCH/b.json" "$SCRATCH/b2.json" && break
		sleep 0.5
	done
	python3 - "$SCRATCH" "$if1" "$if2" <<-'EOF'
	import json, sys
	d, if1, if2 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
	a, b, al = (json.load(open("%s/%s.json" % (d, n))) for n in ("a", "b", "all"))
	def echo(rows, ifindex, dst):
	    return [r for r in rows if r["ifindex"] == ifindex and r["dst"] == dst and r["dport"] == 2048]
	assert all(r["ifindex"] == if1 for r in a["flows"]), "dump of one interface has another's rows"
	assert all(r["ifindex"] == if2 for r in b["flows"]), "dump of one interface has another's rows"
	assert echo(a["flows"], if1, "192.0.2.2")[0]["packets"] == 2
	assert echo(b["flows"], if2, "198.51.100.2")[0]["packets"] == 3
	assert len(al["flows"]) == len(a["flows"]) + len(b["flows"])
	assert al["counters"]["seen"] == a["counters"]["seen"] + b["counters"]["seen"]
	print("separate and together: ok")
	EOF
	# One of each layout: shared by default, percpu when asked.
	$INA "$FLOWACCT" status | grep -q "^$VA .* shared " || fail "status does not list $VA as shared"
	$INA "$FLOWACCT" status | grep -q "^$VA2 .* percpu " || fail "status does not list $VA2 as percpu"
	$INA "$FLOWACCT" stats "$VA2" | grep -q "^$VA2 (ifindex $if2)" || fail "stats of $VA2"
	$INA "$FLOWACCT" detach "$VA"
	$INA "$FLOWACCT" detach "$VA2"
	assert_clean "$VA" "$NSA"
	assert_clean "$VA2" "$NSA"
}

test_live_errors() {
	netns_pair
	local msg
	msg=$(expect_fail "missing interface" $INA "$FLOWACCT" attach nope0)
	echo "$msg" | grep -q "no interface 'nope0'" || fail "$msg"
	msg=$(expect_fail "detach unattached" $INA "$FLOWACCT" detach "$VA")
	echo "$msg" | grep -q "is not attached" || fail "$msg"
	msg=$(expect_fail "dump unattached" $INA "$FLOWACCT" dump "$VA")
	echo "$msg" | grep -q "is not attached" || fail "$msg"
	expect_fail "bad mode" $INA "$FLOWACCT" attach "$VA" --mode hw
	expect_fail "bad map" $INA "$FLOWACCT" attach "$VA" --map nope
	expect_fail "bad max-flows" $INA "$FLOWACCT" attach "$VA" --max-flows 0
	assert_clean "$VA" "$NSA"
	msg=$(expect_fail "no privilege" $INA setpriv --reuid=65534 --regid=65534 \
		--clear-groups --inh-caps=-all "$FLOWACCT" attach "$VA")
	echo "$msg" | grep -q "needs root" || fail "$msg"
	assert_clean "$VA" "$NSA"

	$INA "$FLOWACCT" attach "$VA"
	msg=$(expect_fail "second attach" $INA "$FLOWACCT" attach "$VA")
	echo "$msg" | grep -q "already attached" || fail "$msg"
	$INA "$FLOWACCT" -j status | grep -q '"live":true' || fail "second attach broke the first"
	$INA "$FLOWACCT" detach "$VA"

	# A device without native XDP (a bridge): a clear hint, nothing
	# half-attached.
	ip -n "$NSA" link add fabr0 type bridge
	ip -n "$NSA" link set fabr0 up
	msg=$(expect_fail "native XDP on a bridge" $INA "$FLOWACCT" attach fabr0 --mode native)
	echo "$msg" | grep -q "try --mode skb" || fail "$msg"
	assert_clean fabr0 "$NSA"
	if ip netns exec "$NSA" tc qdisc show dev fabr0 | grep -q clsact; then
		fail "clsact left on the bridge"
	fi
	$INA "$FLOWACCT" attach fabr0 --mode skb
	$INA "$FLOWACCT" detach fabr0
	assert_clean fabr0 "$NSA"
}

# 'ip netns exec' gives each command a fresh /sys: a clear error, not an
# empty dump, and nothing attached that later commands could not find.
test_live_ip_netns_exec() {
	netns_pair
	local c msg
	$INA "$FLOWACCT" attach "$VA"
	for c in dump stats status "detach $VA" "attach $VA"; do
		msg=$(expect_fail "ip netns exec $c" ip netns exec "$NSA" "$FLOWACCT" $c)
		echo "$msg" | grep -q "nsenter --net=/run/netns/NAME" || fail "$c: $msg"
	done
	$INA "$FLOWACCT" -j status | grep -q '"live":true' || fail "still attached and live"
	$INA "$FLOWACCT" detach "$VA"
	assert_clean "$VA" "$NSA"
}

# The programs stamp flows with jiffies, which the library turns into
# CLOCK_MONOTONIC and then wall-clock ns: a flow's first and last packets,
# sent at known times, must come out at those times, in a dump of the
# tables and in a daemon's records (a wrong HZ or offset moves them by
# seconds to years). One tick of slack each side, and the clocks' reads.
test_live_times() {
	netns_pair
	$INA "$FLOWACCT" attach "$VA"
	run_start "$NSB" "$VB" --interval 1 --idle-timeout 2
	local t0 t1
	t0=$(date +%s%N)
	$INA ping -q -c 6 -i 0.4 192.0.2.2 >/dev/null
	t1=$(date +%s%N)
	$INA "$FLOWACCT" dump "$VA" -j >"$SCRATCH/dump.json"
	sleep 4
	run_stop
	python3 - "$SCRATCH/dump.json" "$SCRATCH/rec.json" "$t0" "$t1" <<-'EOF'
	import json, sys
	dump, rec, t0, t1 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
	slack = 50_000_000	# a tick at HZ 100 is 10 ms; the clocks' reads
	def check(what, first, last):
	    assert t0 - slack <= first <= t0 + slack, "%s: first %d, sent from %d" % (what, first, t0)
	    assert t1 - slack - 400_000_000 <= last <= t1 + slack, "%s: last %d, sent until %d" % (what, last, t1)
	    assert 1_900_000_000 <= last - first <= 2_100_000_000, "%s: %d ns between 6 pings 0.4 s apart" % (what, last - first)
	rows = [r for r in json.load(open(dump))["flows"]
	        if r.get("proto") == 1 and r.get("direction") == "egress"]
	assert len(rows) == 1, rows
	check("dump", rows[0]["first_seen_ns"], rows[0]["last_seen_ns"])
	recs = [json.loads(l) for l in open(rec)]
	recs = [r for r in recs if r.get("type") == "flow" and r.get("proto") == 1
	        and r.get("direction") == "ingress" and r.get("packets")]
	assert recs, "no ICMP record from the daemon"
	check("run", min(r["first_seen_ns"] for r in recs), max(r["last_seen_ns"] for r in recs))
	EOF
}
