#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The long differential fuzzing run: several seeds, both map modes, both
# hooks (every frame goes through XDP and TC), both compilers' builds, plus
# a run per map mode with a 64-flow table so that the overflow path is
# fuzzed too. Writes what it
# found to tests/fuzz/RESULTS.md, and any frame the programs and the
# reference disagree on to tests/fuzz/found.pcap (replayable with
# `flowacct replay`). Exits 1 if there was any disagreement.
#
#   scripts/fuzz_long.sh
#   BUILDS=build/clang-19 SEEDS="7 8" FRAMES=1000000 scripts/fuzz_long.sh
#
# Each of BUILDS (default: build build/clang-19, as make test builds them)
# must hold tests/fuzz_diff; run make test or make tests first.
# BUILT_FROM says in RESULTS.md what the binaries were built from (default:
# the commit checked out, and whether the data plane had changes on top).

set -euo pipefail
cd "$(dirname "$0")/.."

BUILDS=${BUILDS:-"build build/clang-19"}
SEEDS=${SEEDS:-"1 2 3 4"}
FRAMES=${FRAMES:-250000}		# per seed and map mode
OVERFLOW_FRAMES=${OVERFLOW_FRAMES:-100000}
OUT=${OUT:-tests/fuzz/RESULTS.md}
FOUND=${FOUND:-tests/fuzz/found.pcap}

if [ "$(id -u)" != 0 ]; then
	echo "fuzz_long.sh: needs root (BPF_PROG_TEST_RUN)" >&2
	exit 1
fi
for b in $BUILDS; do
	[ -x "$b/tests/fuzz_diff" ] || {
		echo "fuzz_long.sh: $b/tests/fuzz_diff is missing: make tests" >&2
		exit 1
	}
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run BUILD NAME ARGS...: one fuzz_diff run, its output and wall time kept
# by NAME.
rc=0
run() {
	local bin=$1/tests/fuzz_diff name=$2 start end
	shift 2
	echo "fuzz_long: $name: $bin $*" >&2
	echo "$bin" >"$work/$name.bin"
	start=$(date +%s%N)
	if ! "$bin" --max-print 5 --pcap "$work/$name.pcap" "$@" >"$work/$name.txt"; then
		rc=1
	fi
	end=$(date +%s%N)
	echo $(((end - start) / 1000000)) >"$work/$name.ms"
	tail -1 "$work/$name.txt" >&2
}

first=${SEEDS%% *}
n=0
for b in $BUILDS; do
	n=$((n + 1))
	for seed in $SEEDS; do
		for map in percpu shared; do
			run "$b" "b$n-seed$seed-$map" --frames "$FRAMES" --seed "$seed" --map $map
		done
	done
	for map in percpu shared; do
		run "$b" "b$n-overflow-$map" --frames "$OVERFLOW_FRAMES" --seed "$first" \
			--map $map --max-flows 64 --check-every 1000
	done
done

mkdir -p "$(dirname "$OUT")"
if [ -z "${BUILT_FROM:-}" ]; then
	BUILT_FROM="commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	if [ -n "$(git status --porcelain -- common xdp tc loader 2>/dev/null)" ]; then
		BUILT_FROM="$BUILT_FROM with uncommitted changes to the data plane"
	fi
fi

python3 - "$work" "$OUT" "$FOUND" "$BUILDS" "$(uname -r)" "$BUILT_FROM" \
	"$(clang --version | head -1) / $(clang-19 --version | head -1)" <<'EOF'
import glob, os, re, sys, time

work, out, found, builds, kernel, built_from, compilers = sys.argv[1:8]
runs = []
for txt in sorted(glob.glob(os.path.join(work, "*.txt")),
                  key=lambda p: (os.path.basename(p)[:2], "overflow" in p, p)):
    name = os.path.basename(txt)[:-4]
    text = open(txt).read()
    head = re.search(r"^fuzz_diff: seed (\d+), map (\w+), max-flows (\d+): (\d+) frames "
                     r"through xdp and tc in ([\d.]+) s", text, re.M)
    last = re.search(r"^(\d+) passed, (\d+) failed$", text, re.M)
    if not head or not last:
        sys.exit("fuzz_long: no summary in %s:\n%s" % (name, text[-2000:]))
    r = {"name": name, "seed": int(head[1]), "map": head[2],
         "max_flows": int(head[3]), "frames": int(head[4]),
         "secs": float(head[5]), "passed": int(last[1]), "failed": int(last[2]),
         "wall": int(open(os.path.join(work, name + ".ms")).read()) / 1000,
         "bin": open(os.path.join(work, name + ".bin")).read().strip()}
    r["verdicts"] = {m[1]: int(m[2]) for m in
                     re.finditer(r"^  ([a-z_0-9]+) +(\d+)$", text, re.M)}
    m = re.search(r"^disagreements: (\d+) \(xdp (\d+), tc (\d+)\)", text, re.M)
    r["disagree"], r["xdp"], r["tc"] = int(m[1]), int(m[2]), int(m[3])
    m = re.search(r"^books: (\d+) checks, (\d+) unbalanced", text, re.M)
    r["books"], r["unbalanced"] = int(m[1]), int(m[2])
    m = re.search(r"^table: (\d+) clears, (\d+) runs into the overflow row", text, re.M)
    r["clears"], r["overflow_runs"] = int(m[1]), int(m[2])
    m = re.search(r"^fragments: (\d+) later ones attributed to their first, (\d+) orphans", text, re.M)
    r["attributed"], r["orphans"] = int(m[1]), int(m[2])
    r["coverage"] = re.search(r"^coverage: (.*)$", text, re.M)[1]
    r["muts"] = {m[1]: int(m[2]) for m in
                 re.finditer(r" ([a-z_0-9]+) (\d+)", re.search(r"^mutations:(.*)$", text, re.M)[1])}
    r["text"] = text
    runs.append(r)

# Disagreement frames of every run, one capture (pcap records concatenate).
bad = [p for p in sorted(glob.glob(os.path.join(work, "*.pcap"))) if os.path.getsize(p) > 24]
if bad:
    with open(found, "wb") as f:
        for i, p in enumerate(bad):
            data = open(p, "rb").read()
            f.write(data if i == 0 else data[24:])

tot = lambda k: sum(r[k] for r in runs)
L = []
L.append("<!-- SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause -->")
L.append("# Differential fuzzing results\n")
L.append("Written by `scripts/fuzz_long.sh` on %s: kernel %s; builds `%s` "
         "(BPF objects by %s), built from %s.\n" % (
         time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), kernel,
         "`, `".join(builds.split()), compilers, built_from))
L.append("Every frame is generated and damaged by `tests/c/fuzz_diff.c` from a seeded "
         "PRNG, run through **both** the XDP and the TC program with "
         "`BPF_PROG_TEST_RUN` (replay configuration, as `flowacct replay` runs a "
         "record), and checked against the independent reference "
         "`tests/c/ref_parser.c`: verdict, every counter's change, the flow row's "
         "packets, bytes, TCP flags and times, and the books "
         "(seen = accounted + reasons; rows + overflow row = accounted). "
         "The harness keeps its own table of first fragments (README, "
         "\"Fragments\") and sends later fragments of recent datagrams, so "
         "later fragments are checked against the flow of their first.\n")
L.append("## Runs\n")
L.append("| build | seed | map | max flows | frames | hook runs | disagreements (xdp/tc) | "
         "later fragments attributed / orphans | books checks | overflow runs | "
         "fuzz time (s) | µs per frame | wall (s) |")
L.append("| --- | ---: | --- | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |")
for r in runs:
    L.append("| `%s` | %d | %s | %d | %d | %d | %d (%d/%d) | %d / %d | %d | %d | %.2f | %.1f | %.1f |" % (
        os.path.dirname(os.path.dirname(r["bin"])), r["seed"], r["map"], r["max_flows"],
        r["frames"], 2 * r["frames"], r["disagree"], r["xdp"], r["tc"],
        r["attributed"], r["orphans"], r["books"], r["overflow_runs"],
        r["secs"], r["secs"] * 1e6 / r["frames"], r["wall"]))
L.append("| **total** | | | | **%d** | %d | **%d** (%d/%d) | %d / %d | %d | %d | %.2f | %.1f | %.1f |\n" % (
    tot("frames"), 2 * tot("frames"), tot("disagree"), tot("xdp"), tot("tc"),
    tot("attributed"), tot("orphans"), tot("books"), tot("overflow_runs"), tot("secs"),
    tot("secs") * 1e6 / tot("frames"), tot("wall")))
L.append("Seeds: %s. Closing lines: %d passed, %d failed (hook runs plus books "
         "checks). Coverage: %s.\n" % (
    ", ".join(sorted({str(r["seed"]) for r in runs}, key=int)),
    tot("passed"), tot("failed"),
    "every verdict reached in every run" if all(r["coverage"].startswith("all") for r in runs)
    else "; ".join("%s: %s" % (r["name"], r["coverage"]) for r in runs)))

L.append("## Reference verdicts, all runs\n")
L.append("| verdict | frames | share |")
L.append("| --- | ---: | ---: |")
names = list(runs[0]["verdicts"])
frames = tot("frames")
for n in names:
    v = sum(r["verdicts"][n] for r in runs)
    if n == "accounted_bytes":
        L.append("| %s | %d bytes | |" % (n, v))
    else:
        L.append("| %s | %d | %.2f%% |" % (n, v, 100.0 * v / frames))
L.append("")
L.append("## Damage applied, all runs\n")
L.append("Frames carrying each mutation (a frame can carry several; a quarter "
         "are left intact, and 1 in 256 base frames is cut at every offset "
         "through its headers):\n")
L.append("| mutation | frames |")
L.append("| --- | ---: |")
for n in runs[0]["muts"]:
    L.append("| %s | %d |" % (n, sum(r["muts"][n] for r in runs)))
L.append("")
L.append("## Disagreements\n")
if not tot("disagree") and not tot("unbalanced"):
    L.append("None.\n")
else:
    L.append("%d hook runs disagreed, %d books checks did not balance; the frames "
             "are in `%s` (`flowacct replay %s --hook xdp|tc`). First reports:\n"
             % (tot("disagree"), tot("unbalanced"), found, found))
    L.append("```")
    for r in runs:
        for block in re.findall(r"^(DISAGREE.*?)(?=^DISAGREE|^fuzz_diff:|\Z)", r["text"], re.M | re.S)[:3]:
            L.append(block.rstrip())
    L.append("```\n")
open(out, "w").write("\n".join(L))
print("fuzz_long: %d frames, %d disagreements; %s written" % (tot("frames"), tot("disagree"), out))
EOF
exit $rc
