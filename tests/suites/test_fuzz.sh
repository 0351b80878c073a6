# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Differential fuzzing: generated and damaged frames through both hooks,
# compared with an independent reference parser (tests/c/ref_parser.c), which
# is itself checked against tshark. Seeds are fixed, so a failure here is
# the same failure on every machine; scripts/fuzz_long.sh runs many more.

ALL_TESTS="test_fuzz_short test_fuzz_overflow test_fuzz_frames_replay
	test_fuzz_ref_vs_tshark test_fuzz_decap"

FUZZ_SEED=${FUZZ_SEED:-20240601}

# The fuzzer of build $1 (the Makefile builds it with the tests).
fuzz_bin() {
	[ -x "$1/tests/fuzz_diff" ] ||
		fail "$1/tests/fuzz_diff is not built: make BUILD=$1 tests"
	FUZZ=$1/tests/fuzz_diff
}

# fuzz_run OUT ARGS...: a run that must end "N passed, 0 failed" and have
# reached every verdict and attributed later fragments to their first (a
# generator that stopped reaching either would pass silently otherwise).
fuzz_run() {
	local out=$1
	shift
	if ! "$@" >"$out"; then
		head -c 20000 "$out"
		fail "disagreements: $*"
	fi
	tail -1 "$out"
	grep -Eq '^[0-9]+ passed, 0 failed$' "$out" || fail "no closing line: $*"
	grep -q '^coverage: all' "$out" || fail "$(grep '^coverage' "$out"): $*"
	grep -Eq '^fragments: [1-9][0-9]* later ones attributed' "$out" ||
		fail "no later fragment found its first: $*"
	grep -Eq ', [1-9][0-9]* jumbograms, [1-9][0-9]* IPv4 of total length 0, [1-9][0-9]* with a bad TCP data offset\)$' "$out" ||
		fail "no accounted jumbogram, IPv4 of total length 0 or bad TCP data offset: $*"
}

# ~100k frames per build through both hooks: 100k with the per-CPU table,
# 50k with the shared one (same parser, different accounting path), and
# 50k with TC ingress in XDP's place.
test_fuzz_short() {
	scratch
	local b
	for b in $BUILDS; do
		fuzz_bin "$b"
		fuzz_run "$SCRATCH/percpu.txt" "$FUZZ" --frames 100000 --seed "$FUZZ_SEED" \
			--map percpu --pcap "$SCRATCH/bad.pcap"
		fuzz_run "$SCRATCH/shared.txt" "$FUZZ" --frames 50000 --seed $((FUZZ_SEED + 1)) \
			--map shared --pcap "$SCRATCH/bad.pcap"
		# The TC ingress program: the same parser behind an skb.
		fuzz_run "$SCRATCH/tcin.txt" "$FUZZ" --frames 50000 --seed $((FUZZ_SEED + 3)) \
			--map percpu --ingress tc --pcap "$SCRATCH/bad.pcap"
		[ ! -e "$SCRATCH/bad.pcap" ] || fail "$b: disagreement frames were written"
	done
}

# A table of 64 flows: once full, new flows go to the overflow row with
# their bytes and count as failed inserts; the fuzzer checks each one.
test_fuzz_overflow() {
	scratch
	local b map
	for b in $BUILDS; do
		fuzz_bin "$b"
		for map in percpu shared; do
			fuzz_run "$SCRATCH/out.txt" "$FUZZ" --frames 20000 --seed "$FUZZ_SEED" \
				--map $map --max-flows 64 --check-every 1000
			grep -Eq '^table: [1-9][0-9]* clears, [1-9][0-9]* runs into the overflow row$' \
				"$SCRATCH/out.txt" || fail "$b ($map): the table never overflowed"
		done
	done
}

# The fuzzer runs frames the way `flowacct replay` runs capture records
# (padding, captured and wire lengths): replaying the frames it generated
# must give the counts of its reference, hook by hook.
test_fuzz_frames_replay() {
	scratch
	local b=${BUILDS%% *} hook
	fuzz_bin "$b"
	"$FUZZ" --frames 20000 --seed $((FUZZ_SEED + 2)) \
		--save "$SCRATCH/all.pcap" >"$SCRATCH/out.txt" ||
		fail "fuzz run: $(tail -1 "$SCRATCH/out.txt")"
	for hook in xdp tc-ingress tc-egress; do
		"$b"/flowacct replay "$SCRATCH/all.pcap" --hook $hook -j >"$SCRATCH/$hook.json"
		python3 - "$SCRATCH/out.txt" "$SCRATCH/$hook.json" <<-'EOF' || fail "replay through $hook"
			import json, re, sys
			want = {}
			for line in open(sys.argv[1]):
			    m = re.match(r"^  ([a-z_0-9]+) +(\d+)$", line)
			    if m:
			        want[m.group(1)] = int(m.group(2))
			    m = re.search(r", (\d+) jumbograms, (\d+) IPv4 of total length 0, (\d+) with a bad TCP data offset", line)
			    if m:
			        info = {"ipv6_jumbograms": int(m.group(1)),
			                "ipv4_len_from_frame": int(m.group(2)),
			                "tcp_doff_invalid": int(m.group(3))}
			got = json.load(open(sys.argv[2]))["counters"]
			assert len(want) == 18, "summary lines: %s" % want
			seen = sum(v for k, v in want.items() if k != "accounted_bytes")
			want.update(info)
			bad = {k: (v, got.get(k)) for k, v in want.items() if got.get(k) != v}
			if got["seen"] != seen:
			    bad["seen"] = (seen, got["seen"])
			print("replay counters (reference, replay) that differ:", bad)
			sys.exit(1 if bad else 0)
		EOF
	done
}

# tshark dissects a sample of the frames the reference accounted; it must
# agree on addresses, protocol, ports, ICMP type/code, TCP flags and length.
test_fuzz_ref_vs_tshark() {
	scratch
	local b=${BUILDS%% *}
	fuzz_bin "$b"
	"$FUZZ" --frames 40000 --seed $((FUZZ_SEED + 3)) \
		--tshark-sample "$SCRATCH/sample.pcap" --sample-every 2 >"$SCRATCH/out.txt" ||
		fail "fuzz run: $(tail -1 "$SCRATCH/out.txt")"
	grep '^tshark sample' "$SCRATCH/out.txt"
	python3 tests/checkers/check_ref_parser.py "$SCRATCH/sample.pcap" --min-frames 1000 ||
		fail "the reference disagrees with tshark"
}

# --decap inner: most frames in a tunnel (every encapsulation, broken in the
# tunnels' own ways, a tunnel in a tunnel now and then), through both
# ingress programs and egress, against the reference's ref_parse_decap():
# every verdict reached, the tunnels' three among them, every type opened,
# and each new tunnelled row's tunnel as the program noted it.
test_fuzz_decap() {
	scratch
	local b
	for b in $BUILDS; do
		fuzz_bin "$b"
		fuzz_run "$SCRATCH/decap.txt" "$FUZZ" --frames 60000 --seed $((FUZZ_SEED + 5)) \
			--map percpu --decap --pcap "$SCRATCH/bad.pcap"
		grep -Eq '^tunnels: vxlan [1-9][0-9]*, geneve [1-9][0-9]*, gre [1-9][0-9]*, erspan [1-9][0-9]*, ipip [1-9][0-9]*, mpls [1-9][0-9]*; [1-9][0-9]* nested, [1-9][0-9]* undecoded$' \
			"$SCRATCH/decap.txt" || fail "$b: $(grep '^tunnels' "$SCRATCH/decap.txt")"
		fuzz_run "$SCRATCH/decap-tc.txt" "$FUZZ" --frames 30000 --seed $((FUZZ_SEED + 6)) \
			--map shared --decap --ingress tc --pcap "$SCRATCH/bad.pcap"
		[ ! -e "$SCRATCH/bad.pcap" ] || fail "$b: disagreement frames were written"
	done
}
