# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Sampled packets: every Nth, random and hash-based selection, in replay
# (deterministic, on one CPU) and live with flowacct capture.

ALL_TESTS="test_sample_replay_every_nth test_sample_replay_pcapng
	test_sample_replay_random test_sample_replay_hash
	test_sample_live_capture test_sample_live_set test_sample_live_errors"

# Frames N, 2N, 3N, ... of the capture, byte for byte up to the snaplen,
# with their original lengths and times: through both hooks, both maps.
test_sample_replay_every_nth() {
	scratch
	local hook map n
	for hook in xdp tc; do
		for map in percpu shared; do
			for n in 1 7 100; do
				"$FLOWACCT" replay pcaps/mixed.pcap --hook $hook --map $map --sample $n \
					--snaplen 100 -w "$SCRATCH/s.pcap" >/dev/null
				python3 tests/checkers/check_samples.py pcaps/mixed.pcap "$SCRATCH/s.pcap" \
					--every $n --snaplen 100
			done
		done
	done
	# Malformed frames are sampled too, runts and empty frames included;
	# XDP copies a 9000-byte multi-buffer frame whole.
	"$FLOWACCT" replay pcaps/malformed.pcap --sample 1 -w "$SCRATCH/m.pcap" >/dev/null
	python3 tests/checkers/check_samples.py pcaps/malformed.pcap "$SCRATCH/m.pcap" --every 1 --snaplen 256
	"$FLOWACCT" replay pcaps/jumbo.pcap --sample 1 --snaplen 65000 -w "$SCRATCH/j.pcap" >/dev/null
	python3 tests/checkers/check_samples.py pcaps/jumbo.pcap "$SCRATCH/j.pcap" --every 1 --snaplen 65000
	# tcpdump reads what we write.
	[ "$(tcpdump -n -r "$SCRATCH/s.pcap" 2>/dev/null | wc -l)" = 6 ] ||
		fail "tcpdump does not read 6 packets from the every-100th sample"
}

# pcapng: direction, interface and hook, and the flow in a comment.
test_sample_replay_pcapng() {
	scratch
	"$FLOWACCT" replay pcaps/basic.pcap --hook tc --sample 1 --format pcapng \
		-w "$SCRATCH/s.pcapng" >/dev/null
	tshark -r "$SCRATCH/s.pcapng" -T fields -E separator='|' -e frame.number \
		-e frame.p2p_dir -e frame.interface_description -e frame.comment \
		>"$SCRATCH/fields.txt" 2>/dev/null
	cat "$SCRATCH/fields.txt" | head -5
	[ "$(wc -l <"$SCRATCH/fields.txt")" = 54 ] || fail "tshark reads $(wc -l <"$SCRATCH/fields.txt") of 54 packets"
	# Outbound (p2p_dir 0 is "sent" in tshark), the TC egress hook.
	grep -c '^[0-9]*|0|flowacct tc egress hook, ifindex 1|' "$SCRATCH/fields.txt" | grep -qx 54 ||
		fail "direction or interface description missing"
	grep -q '^1|.*|flow tcp 192.0.2.1:40000 > 192.0.2.2:80; tc hook; sampled 1 in 1 (every)$' \
		"$SCRATCH/fields.txt" || fail "flow comment of frame 1"
	grep -q '|flow icmp 192.0.2.1 > 192.0.2.2 type 8 code 0; ' "$SCRATCH/fields.txt" ||
		fail "ICMP flow comment"
	grep -q '|flow not accounted: non_ip; ' "$SCRATCH/fields.txt" || fail "non-IP comment"
	# The bytes, lengths and times, read back through tshark's pcapng reader.
	tshark -r "$SCRATCH/s.pcapng" -F pcap -w "$SCRATCH/back.pcap" 2>/dev/null
	python3 tests/checkers/check_samples.py pcaps/basic.pcap "$SCRATCH/back.pcap" --every 1 --snaplen 256
}

# Random 1-in-N keeps about 1/N: within 5 standard deviations on 20000.
test_sample_replay_random() {
	scratch
	python3 scripts/gen_pcaps.py --mixed 20000 "$SCRATCH/big.pcap"
	local frames n=10 got
	frames=$(tcpdump -n -r "$SCRATCH/big.pcap" 2>/dev/null | wc -l)
	"$FLOWACCT" replay "$SCRATCH/big.pcap" --sample-mode random --sample $n -w "$SCRATCH/r.pcap" >/dev/null
	python3 tests/checkers/check_samples.py "$SCRATCH/big.pcap" "$SCRATCH/r.pcap" --subset --snaplen 256
	got=$(tcpdump -n -r "$SCRATCH/r.pcap" 2>/dev/null | wc -l)
	python3 -c "
import math, sys
n, p, got = $frames, 1 / $n, $got
mean, sd = n * p, math.sqrt(n * p * (1 - p))
print('sampled %d of %d, expected %.0f +- %.0f' % (got, n, mean, sd))
sys.exit(abs(got - mean) > 5 * sd)" || fail "random sampling far from 1/$n"
}

# Hash-based: the same packets whichever hook takes them, and about 1/N.
test_sample_replay_hash() {
	scratch
	python3 scripts/gen_pcaps.py --mixed 20000 "$SCRATCH/big.pcap"
	"$FLOWACCT" replay "$SCRATCH/big.pcap" --hook xdp --sample-mode hash --sample 8 -w "$SCRATCH/x.pcap" >/dev/null
	"$FLOWACCT" replay "$SCRATCH/big.pcap" --hook tc --sample-mode hash --sample 8 -w "$SCRATCH/t.pcap" >/dev/null
	python3 tests/checkers/check_samples.py "$SCRATCH/big.pcap" "$SCRATCH/x.pcap" --subset --snaplen 256
	cmp <(tcpdump -n -r "$SCRATCH/x.pcap" 2>/dev/null) <(tcpdump -n -r "$SCRATCH/t.pcap" 2>/dev/null) ||
		fail "XDP and TC picked different packets"
	local frames got
	frames=$(tcpdump -n -r "$SCRATCH/big.pcap" 2>/dev/null | wc -l)
	got=$(tcpdump -n -r "$SCRATCH/x.pcap" 2>/dev/null | wc -l)
	python3 -c "
import math, sys
n, got = $frames, $got
print('hash kept %d of %d (1/8 is %.0f)' % (got, n, n / 8))
sys.exit(not (n / 8 * 0.8 < got < n / 8 * 1.2))" || fail "hash sampling far from 1/8"
}

# Decisions a hook made: samples sent plus samples lost, per hook.
sample_decisions() {
	python3 -c '
import json, sys
for h in json.load(open(sys.argv[1]))["hooks"]:
    c = h["counters"]
    print(h["direction"], c["seen"], c["samples"] + c["sample_lost_no_reader"]
          + c["sample_lost_full"] + c["sample_lost_other"], c["samples"])' "$1"
}

test_sample_live_capture() {
	netns_pair
	local n=4 cpus written pid
	cpus=$(nproc)
	$INA "$FLOWACCT" attach "$VA" --sample $n --snaplen 128
	$INA "$FLOWACCT" capture "$VA" -w "$SCRATCH/cap.pcap" 2>"$SCRATCH/cap.log" &
	pid=$!
	sleep 0.5	# the reader is in place before the traffic
	$INA ping -q -c 40 -i 0.02 -s 200 192.0.2.2 >/dev/null
	$INA ping -q -6 -c 20 -i 0.02 2001:db8::2 >/dev/null
	sleep 0.5
	kill -INT $pid
	wait $pid
	cat "$SCRATCH/cap.log"
	$INA "$FLOWACCT" stats -j >"$SCRATCH/stats.json"
	sample_decisions "$SCRATCH/stats.json" | tee "$SCRATCH/dec.txt"
	written=$(sed -n 's/^flowacct: \([0-9]*\) samples written.*/\1/p' "$SCRATCH/cap.log")
	[ "$(tcpdump -n -r "$SCRATCH/cap.pcap" 2>/dev/null | wc -l)" = "$written" ] ||
		fail "tcpdump reads a different number of packets than the $written written"
	# Every sample the programs sent was written, none lost; and the
	# programs decided what N predicts: per CPU, every Nth of what it saw.
	python3 - "$SCRATCH/dec.txt" "$written" $n "$cpus" <<-'EOF'
	import sys
	rows = [l.split() for l in open(sys.argv[1])]
	written, n, cpus = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
	sent = sum(int(r[3]) for r in rows)
	assert sent == written, "programs sent %d samples, capture wrote %d" % (sent, written)
	for d, seen, decided, _ in rows:
	    seen, decided = int(seen), int(decided)
	    assert seen // n - (cpus - 1) <= decided <= seen // n, (d, seen, decided)
	print("%d samples; decisions match every %dth of what each hook saw" % (written, n))
	EOF
	grep -q "0 lost" "$SCRATCH/cap.log" || fail "samples were lost"
	# Standard output, to tcpdump.
	$INA "$FLOWACCT" set "$VA" sample 1
	$INA "$FLOWACCT" capture "$VA" -w - --count 5 2>/dev/null >"$SCRATCH/pipe.pcap" &
	pid=$!
	sleep 0.5
	$INA ping -q -c 10 -i 0.05 192.0.2.2 >/dev/null
	wait $pid
	[ "$(tcpdump -n -r - <"$SCRATCH/pipe.pcap" 2>/dev/null | wc -l)" = 5 ] ||
		fail "capture -w - --count 5 | tcpdump -r - did not give 5 packets"
	$INA "$FLOWACCT" detach "$VA"
}

# The programs `status -j` names here: the same ids mean nothing was
# reloaded. (Only this namespace's: other tests attach and detach beside it.)
prog_ids() {
	python3 -c 'import json, sys
for i in json.load(sys.stdin)["interfaces"]:
    if i["this_netns"]:
        print(i["iface"], i["xdp_prog_id"], i["tc_ingress_prog_id"], i["tc_prog_id"])'
}

# flowacct set changes N at once, without reloading or losing counts.
test_sample_live_set() {
	netns_pair
	local id1 id2 before after
	$INA "$FLOWACCT" attach "$VA" --sample 0
	id1=$($INA "$FLOWACCT" -j status | prog_ids)
	$INA ping -q -c 10 -i 0.02 192.0.2.2 >/dev/null
	$INA "$FLOWACCT" stats -j >"$SCRATCH/a.json"
	sample_decisions "$SCRATCH/a.json" | awk '$3 != 0 { exit 1 }' || fail "sampled while off"
	$INA "$FLOWACCT" set "$VA" sample 1 snaplen 64
	# From here on every frame is sampled; what came between the first
	# snapshot and set (a neighbour solicitation, say) was not.
	$INA "$FLOWACCT" stats -j >"$SCRATCH/a.json"
	$INA ping -q -c 10 -i 0.02 192.0.2.2 >/dev/null
	$INA "$FLOWACCT" stats -j >"$SCRATCH/b.json"
	sample_decisions "$SCRATCH/b.json"
	# With N = 1 and no reader, every frame since the change is a lost sample.
	python3 -c '
import json, sys
a, b = (json.load(open(f))["counters"] for f in sys.argv[1:3])
new = b["seen"] - a["seen"]
lost = b["sample_lost_no_reader"] - a["sample_lost_no_reader"]
assert new >= 20 and lost == new, (new, lost)
assert b["accounted"] >= a["accounted"] + 20, "counts were lost"
print("%d frames since set, %d samples with no reader" % (new, lost))' "$SCRATCH/a.json" "$SCRATCH/b.json"
	id2=$($INA "$FLOWACCT" -j status | prog_ids)
	[ "$id1" = "$id2" ] || fail "set reloaded the programs: $id1 / $id2"
	$INA "$FLOWACCT" detach "$VA"
}

test_sample_live_errors() {
	netns_pair
	local msg
	msg=$(expect_fail "capture unattached" $INA "$FLOWACCT" capture "$VA" -w "$SCRATCH/x.pcap")
	echo "$msg" | grep -q "is not attached" || fail "$msg"
	$INA "$FLOWACCT" attach "$VA"
	msg=$(expect_fail "capture with sampling off" $INA "$FLOWACCT" capture "$VA" -w "$SCRATCH/x.pcap")
	echo "$msg" | grep -q "sampling is off" || fail "$msg"
	expect_fail "bad N" $INA "$FLOWACCT" set "$VA" sample -1
	expect_fail "bad mode" $INA "$FLOWACCT" set "$VA" sample-mode sometimes
	expect_fail "bad snaplen" $INA "$FLOWACCT" set "$VA" snaplen 70000
	expect_fail "bad key" $INA "$FLOWACCT" set "$VA" colour blue
	expect_fail "set unattached" $INA "$FLOWACCT" set nope0 sample 3
	expect_fail "-w without --sample" "$FLOWACCT" replay pcaps/basic.pcap -w "$SCRATCH/x.pcap"
	$INA "$FLOWACCT" detach "$VA"
}
