# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Stale attachments and the files that would pile up: a daemon killed and
# its namespace deleted, an interface deleted under a killed daemon, a
# namespace inode taken by a new namespace (the record's cookie made
# another's), lock and IPFIX state files after attach, detach and a clean
# stop, the lock under contention, and top on an interface deleted under
# it. Expected values come from outside flowacct: the pid the shell
# started, the namespaces and links the test deletes, bpftool's view of
# the pinned maps, the files under /run/flowacct.

ALL_TESTS="test_stale_netns_gone test_stale_iface_gone test_stale_reused_inode
	test_stale_half_made test_stale_files test_stale_top_gone"

# The library's stale-attachment calls (tests/c/stale_drive.c), of the first build.
drive() {
	"${BUILDS%% *}/tests/stale_drive" "$@"
}

# status_of PINS [NS]: status -j's entry of the attachment in /sys/fs/bpf/flowacct/PINS,
# as "stale gone daemon_pid this_netns pins_memory_bytes", run in the host's
# namespace or in NS's.
status_of() {
	local dir=$1 run=()
	[ -z "${2:-}" ] || run=(nsenter --net=/run/netns/"$2")
	"${run[@]}" "$FLOWACCT" -j status | python3 -c '
import json, sys
for i in json.load(sys.stdin)["interfaces"]:
    if i["pins"] == sys.argv[1]:
        print(i["stale"], i["gone"], i["daemon_pid"], i["this_netns"], i["pins_memory_bytes"])
        sys.exit(0)
print("absent")' "$dir"
}

# record_field PINDIR OFFSET: the little-endian u64 at OFFSET of the pinned
# attach record, as bpftool reads it.
record_field() {
	bpftool -j map lookup pinned "$1/state" key 0 0 0 0 | python3 -c '
import json, sys
v = bytes(int(b, 16) for b in json.load(sys.stdin)["value"])
print(int.from_bytes(v[int(sys.argv[1]):int(sys.argv[1]) + 8], "little"))' "$2"
}

# record_byte PINDIR OFFSET VALUE: one byte of the pinned attach record set.
record_byte() {
	local value
	value=$(bpftool -j map lookup pinned "$1/state" key 0 0 0 0 | python3 -c '
import json, sys
v = bytearray(int(b, 16) for b in json.load(sys.stdin)["value"])
v[int(sys.argv[1])] = int(sys.argv[2])
print(" ".join("%02x" % b for b in v))' "$2" "$3")
	bpftool map update pinned "$1/state" key 0 0 0 0 value hex $value
}

# cookie_set PINDIR COOKIE: the record's netns_cookie (offset 16) made
# COOKIE, through bpftool: as a dead namespace with this inode left it.
cookie_set() {
	local value
	value=$(bpftool -j map lookup pinned "$1/state" key 0 0 0 0 | python3 -c '
import json, sys
v = bytearray(int(b, 16) for b in json.load(sys.stdin)["value"])
v[16:24] = int(sys.argv[1]).to_bytes(8, "little")
print(" ".join("%02x" % b for b in v))' "$2")
	bpftool map update pinned "$1/state" key 0 0 0 0 value hex $value
}

# rows_in PINDIR: entries in both epoch tables, as bpftool dumps them.
rows_in() {
	local n=0 t
	for t in flows_0 flows_1; do
		n=$((n + $(bpftool -j map dump pinned "$1/$t" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')))
	done
	echo $n
}

# daemon NS NAME DEV ARGS...: `flowacct run DEV ARGS` in NS in the
# background, its pid in BG_PID, its messages in $SCRATCH/NAME.log; returns
# once it runs. (run_start's RUN_PID is one daemon; these tests need more.)
daemon() {
	local ns=$1 name=$2
	shift 2
	nsenter --net=/run/netns/"$ns" "$FLOWACCT" run $(layout_arg "$@") "$@" --interval 1 --json /dev/null \
		2>"$SCRATCH/$name.log" &
	BG_PID=$!
	for _ in $(seq 100); do
		grep -q "running on" "$SCRATCH/$name.log" && return 0
		sleep 0.05
	done
	fail "the daemon $name did not start: $(cat "$SCRATCH/$name.log")"
}

# odd_veth NS1 DEV1 NS2 DEV2: a veth pair whose first end has a random index
# in the thousands. Namespace inodes are reused within a second here: a
# test elsewhere whose namespace gets a deleted one's inode then names its
# interfaces net<inode>-if2, if3..., and would meet (and rightly release)
# the stale pins this suite looks at if they had the same name.
odd_veth() {
	ip link add "$2" index $((3000 + RANDOM % 5000)) netns "$1" type veth peer name "$4" netns "$3"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

# A daemon in A killed -9 and A deleted: from the host's namespace and from
# another, its attachment is netns-gone; a daemon's in a living namespace
# is not stale, and its pid shows from outside its namespace.
test_stale_netns_gone() {
	netns_pair
	local nsc=${NSA}c pa pb da db out ino_a ino_b cookie_b f
	netns_new "$nsc"
	veth_link "$NSB" "${VB}2" "$nsc" "${VA}c" 1
	odd_veth "$NSA" "${VA}x" "$NSB" "${VB}x"
	da=$(basename "$(pin_dir "$NSA" "${VA}x")")
	db=$(basename "$(pin_dir "$NSB" "${VB}2")")
	daemon "$NSA" a "${VA}x"
	pa=$BG_PID
	daemon "$NSB" b "${VB}2"
	pb=$BG_PID
	[ "$(status_of "$da")" = "None False $pa False $(status_of "$da" | cut -d' ' -f5)" ] ||
		fail "A's daemon, before: $(status_of "$da")"
	kill -9 $pa
	wait $pa 2>/dev/null || true
	ip netns del "$NSA"
	out=$(status_of "$da")
	[[ $out == "netns-gone True None False "* ]] || fail "A's attachment from the host: $out"
	[ "${out##* }" -gt 1000000 ] || fail "A's pinned memory not shown: $out"
	out=$(status_of "$da" "$nsc")
	[[ $out == "netns-gone True None False "* ]] || fail "A's attachment from C: $out"
	# Living namespace, live daemon: not stale, its pid from outside.
	out=$(status_of "$db")
	[[ $out == "None False $pb False "* ]] || fail "B's attachment from the host: $out"
	[ "${out##* }" -gt 1000000 ] || fail "B's pinned memory not shown: $out"
	out=$("$FLOWACCT" status)
	echo "$out"
	grep -q "^${VA}x .* gone (netns-gone) .* -  " <<<"$out" || fail "text status: no 'gone (netns-gone)' for ${VA}x"
	grep -q "^${VB}2 .* other-netns .* pid $pb " <<<"$out" || fail "text status: B's daemon not shown"
	grep -q "stale: flowacct detach --stale releases them$" <<<"$out" || fail "text status: no hint"
	# A namespace whose only holder is a process's open fd on it lives;
	# once that process is gone, it does not.
	local nsf=${NSA}f hold df
	netns_new "$nsf"
	odd_veth "$nsf" "${VA}f" "$NSB" "${VB}f"
	nsenter --net=/run/netns/"$nsf" "$FLOWACCT" attach "${VA}f" >/dev/null
	df=$(basename "$(pin_dir "$nsf" "${VA}f")")
	sleep 20 7</run/netns/"$nsf" &
	hold=$!
	ip netns del "$nsf"
	out=$(status_of "$df")
	[[ $out == "None False None False "* ]] || fail "a namespace held by an open fd only: $out"
	kill $hold
	wait $hold 2>/dev/null || true
	out=$(status_of "$df")
	[[ $out == "netns-gone True None False "* ]] || fail "its holder gone: $out"
	# The library's list, as the daemon and detach --stale call it.
	out=$(drive list)
	grep -qx "$da netns-gone" <<<"$out" || fail "fa_stale_list: $out"
	grep -qx "$df netns-gone" <<<"$out" || fail "fa_stale_list: $out"
	grep -q "^$db " <<<"$out" && fail "fa_stale_list lists B's: $out"
	ino_a=${da%-if*}; ino_a=${ino_a#net}
	ino_b=${db%-if*}; ino_b=${ino_b#net}
	cookie_b=$(record_field "/sys/fs/bpf/flowacct/$db" 16)
	[ "$(drive alive "$ino_a" 0)" = dead ] || fail "A's namespace called alive"
	[ "$(drive alive "$ino_b" "$cookie_b")" = alive ] || fail "B's namespace called dead"
	[ "$(drive alive "$ino_b" $((cookie_b + 1)))" = dead ] || fail "B's inode with another cookie called alive"
	# Its files: the lock goes when no one holds it; the daemon's files
	# only once the pins are gone. B's, held, all stay.
	for f in lock cache drain; do
		[ -e "/run/flowacct/$da.$f" ] || fail "the killed daemon left no $f file (the test would prove nothing)"
	done
	drive remove-files "$da"
	drive remove-files "$db"
	[ ! -e "/run/flowacct/$da.lock" ] || fail "a lock file no one holds was kept"
	[ -e "/run/flowacct/$da.cache" ] && [ -e "/run/flowacct/$da.drain" ] ||
		fail "a daemon's files removed while its pins are there"
	for f in lock cache drain; do
		[ -e "/run/flowacct/$db.$f" ] || fail "B's $f file removed under B's daemon"
	done
	rm -r "/sys/fs/bpf/flowacct/$da"
	drive remove-files "$da"
	out=$(ls /run/flowacct 2>/dev/null | grep "^$da\." || true)
	[ -z "$out" ] || fail "after the pins went: $out"
	kill $pb
	wait $pb || fail "B's daemon did not stop cleanly"
}

# A daemon killed -9, then its interface deleted, its namespace alive:
# iface-gone, from its namespace and from another.
test_stale_iface_gone() {
	netns_pair
	local nsc=${NSA}c pa da out
	netns_new "$nsc"
	odd_veth "$NSA" "${VA}2" "$nsc" "${VA}c"
	da=$(basename "$(pin_dir "$NSA" "${VA}2")")
	daemon "$NSA" a "${VA}2"
	pa=$BG_PID
	kill -9 $pa
	wait $pa 2>/dev/null || true
	[[ $(status_of "$da") == "None False None False "* ]] ||
		fail "killed, its interface still there: $(status_of "$da")"
	ip -n "$NSA" link del "${VA}2"
	out=$(status_of "$da")
	[[ $out == "iface-gone True None False "* ]] || fail "from the host: $out"
	out=$(status_of "$da" "$NSA")
	[[ $out == "iface-gone True None True "* ]] || fail "from its namespace: $out"
	out=$($INA "$FLOWACCT" status)
	grep -q "^${VA}2 .* gone (iface-gone) " <<<"$out" ||
		fail "text status: $($INA "$FLOWACCT" status)"
	# Another device given the same index is not the interface attached.
	ip -n "$NSA" link add "${VA}9" index "${da##*-if}" type veth peer name "${VA}8"
	out=$(status_of "$da")
	[[ $out == "iface-gone True None False "* ]] || fail "another device at its index: $out"
	# Held (as an attach or detach at work holds it, before it has written
	# who it is): gone, not stale; stale again once let go.
	(
		exec 8<>"/run/flowacct/$da.lock"
		flock -x 8
		exec sleep 20
	) &
	local hold=$!
	for _ in $(seq 100); do
		flock -n -s "/run/flowacct/$da.lock" true || break
		sleep 0.02
	done
	out=$(status_of "$da")
	[[ $out == "None True "* ]] || fail "held: $out"
	kill $hold
	wait $hold 2>/dev/null || true
	out=$(status_of "$da")
	[[ $out == "iface-gone True None False "* ]] || fail "let go: $out"
	# The other attachment of A, on a living interface, is not stale.
	$INA "$FLOWACCT" attach "$VA" >/dev/null
	[[ $(status_of "$(basename "$(pin_dir "$NSA" "$VA")")") == "None False None False "* ]] ||
		fail "a living attachment called stale"
}

# A namespace inode reused: the record made to carry another cookie. It is
# netns-gone, attach releases it saying so and what its tables held, and a
# daemon does not adopt it.
test_stale_reused_inode() {
	netns_pair
	local dir real rows out tc_before
	$INA "$FLOWACCT" attach "$VA" >/dev/null
	dir=$(pin_dir "$NSA" "$VA")
	warm_up
	real=$(record_field "$dir" 16)
	[ "$real" != 0 ] || fail "the kernel gives no netns cookie"
	[[ $(status_of "${dir##*/}") == "None False None False "* ]] || fail "before: $(status_of "${dir##*/}")"
	cookie_set "$dir" $((real + 1))
	out=$(status_of "${dir##*/}")
	[[ $out == "netns-gone True None False "* ]] || fail "another cookie, from the host: $out"
	# Down: no packet (a neighbour solicitation, an MLD report) adds a row
	# between bpftool's count and attach's.
	ip -n "$NSA" link set "$VA" down
	rows=$(rows_in "$dir")
	[ "$rows" -gt 0 ] || fail "no rows to lose"
	out=$($INA "$FLOWACCT" attach "$VA" 2>&1 >/dev/null)
	echo "$out"
	[ "$out" = "flowacct: note: released a stale attachment in $dir ('$VA' of a network namespace that is gone, whose inode number this one got): its tables held $rows rows that were not written" ] ||
		fail "attach over it said: $out"
	[ "$(record_field "$dir" 16)" = "$real" ] || fail "attach kept the other cookie"
	[[ $(status_of "${dir##*/}" "$NSA") == "None False None True "* ]] || fail "after: $(status_of "${dir##*/}" "$NSA")"
	# A daemon: the same, never adopted.
	tc_before=$("$FLOWACCT" -j status | python3 -c '
import json, sys
print([i["tc_prog_id"] for i in json.load(sys.stdin)["interfaces"] if i["pins"] == sys.argv[1]][0])' "${dir##*/}")
	cookie_set "$dir" $((real + 1))
	run_start "$NSA" "$VA" --interval 1
	grep -q "adopted" "$SCRATCH/run.log" && fail "the daemon adopted it: $(cat "$SCRATCH/run.log")"
	[ "$(record_field "$dir" 16)" = "$real" ] || fail "the daemon kept the other cookie"
	out=$("$FLOWACCT" -j status | python3 -c '
import json, sys
print([i["tc_prog_id"] for i in json.load(sys.stdin)["interfaces"] if i["pins"] == sys.argv[1]][0])' "${dir##*/}")
	[ "$out" != "$tc_before" ] || fail "the daemon's programs are the old attachment's ($out)"
	run_stop
}

# A record whose attach never finished (complete, byte 74, cleared as a
# killed attach leaves it) and that no one holds: half-made, listed, and
# attach releases it saying so.
test_stale_half_made() {
	netns_pair
	local dir out
	$INA "$FLOWACCT" attach "$VA" >/dev/null
	dir=$(pin_dir "$NSA" "$VA")
	record_byte "$dir" 74 0
	out=$(status_of "${dir##*/}")
	[[ $out == "half-made False None False "* ]] || fail "from the host: $out"
	grep -qx "${dir##*/} half-made" <<<"$(drive list)" || fail "fa_stale_list: $(drive list)"
	out=$($INA "$FLOWACCT" attach "$VA" 2>&1 >/dev/null)
	[[ $out == "flowacct: note: released a stale attachment in $dir ('$VA', an attach killed before it finished): its tables held "*" rows that were not written" ]] ||
		fail "attach over it said: $out"
	[[ $(status_of "${dir##*/}" "$NSA") == "None False None True "* ]] || fail "after: $(status_of "${dir##*/}" "$NSA")"
}

# Nothing of an interface stays under /run/flowacct once it is released:
# after attach and detach, after a daemon's clean stop (its IPFIX state
# too); a killed daemon's IPFIX state stays for its successor. Two
# attach/detach loops on one interface, and the lock itself hammered by
# three processes, never hold it together.
test_stale_files() {
	netns_pair
	local d i out
	d=$(basename "$(pin_dir "$NSA" "$VA")")
	$INA "$FLOWACCT" attach "$VA" >/dev/null
	[ -e "/run/flowacct/$d.lock" ] || fail "no lock file while attached (the test would prove nothing)"
	$INA "$FLOWACCT" detach "$VA" >/dev/null
	out=$(ls /run/flowacct 2>/dev/null | grep "^$d\." || true)
	[ -z "$out" ] || fail "after detach: $out"
	run_start "$NSA" "$VA" --interval 1 --ipfix 127.0.0.1:4739 --ipfix-domain 1999
	ip -n "$NSA" link set lo up
	[ -e /run/flowacct/ipfix-000007cf-127.0.0.1_4739.state ] || fail "no IPFIX state while running"
	# Another daemon starting leaves a running one's state alone.
	printf 'stal' | dd of=/run/flowacct/ipfix-000007cf-127.0.0.1_4739.state bs=1 seek=28 conv=notrunc status=none
	IPFIX_DOMAINS+=(2000)
	daemon "$NSB" b "$VB" --ipfix 127.0.0.1:4739 --ipfix-domain 2000
	local pb=$BG_PID
	[ "$(dd if=/run/flowacct/ipfix-000007cf-127.0.0.1_4739.state bs=1 skip=28 count=4 status=none)" = stal ] ||
		fail "another daemon's start removed a running one's IPFIX state"
	kill $pb
	wait $pb || fail "B's daemon did not stop cleanly: $(cat "$SCRATCH/b.log")"
	run_stop
	out=$(ls /run/flowacct 2>/dev/null | grep "^$d\.\|^ipfix-000007cf-" || true)
	[ -z "$out" ] || fail "after a clean stop: $out"
	run_start "$NSA" "$VA" --interval 1 --ipfix 127.0.0.1:4739 --ipfix-domain 1999
	run_stop KILL
	[ -e /run/flowacct/ipfix-000007cf-127.0.0.1_4739.state ] || fail "a killed daemon's IPFIX state was removed"
	# A mark in the file's padding (bytes 28-31, which nothing writes): a
	# file removed and made anew (tmpfs may give it the same inode) is zeros.
	printf 'stal' | dd of=/run/flowacct/ipfix-000007cf-127.0.0.1_4739.state bs=1 seek=28 conv=notrunc status=none
	run_start "$NSA" "$VA" --interval 1 --ipfix 127.0.0.1:4739 --ipfix-domain 1999
	[ "$(dd if=/run/flowacct/ipfix-000007cf-127.0.0.1_4739.state bs=1 skip=28 count=4 status=none)" = stal ] ||
		fail "the restarted daemon did not get the killed one's IPFIX state (removed and made anew)"
	run_stop
	out=$(ls /run/flowacct 2>/dev/null | grep "^$d\.\|^ipfix-000007cf-" || true)
	[ -z "$out" ] || fail "after the restarted daemon's clean stop: $out"
	# Two loops on one interface: each command succeeds or is refused for
	# the other's work, never anything else; nothing is left at the end.
	for i in 1 2; do
		(
			for _ in $(seq 8); do
				$INA "$FLOWACCT" attach "$VA" >/dev/null 2>>"$SCRATCH/loop.$i" || true
				$INA "$FLOWACCT" detach "$VA" >/dev/null 2>>"$SCRATCH/loop.$i" || true
			done
		) &
	done
	wait
	out=$(cat "$SCRATCH"/loop.* | grep -v "is already attached\|is not attached\|is in use by attach/detach" || true)
	[ -z "$out" ] || fail "the loops met something else: $out"
	$INA "$FLOWACCT" detach "$VA" >/dev/null 2>&1 || true
	out=$(ls /run/flowacct 2>/dev/null | grep "^$d\." || true)
	[ -z "$out" ] || fail "after the loops: $out"
	[[ $(kernel_state_pins "$NSA" "$VA") == "" ]] || fail "the loops left: $(kernel_state_pins "$NSA" "$VA")"
	"${BUILDS%% *}/tests/lock_hammer" --procs 3 --rounds 1500
}

# What of ours is on DEV of NS: filters, XDP, pins.
kernel_state_pins() {
	ip netns exec "$1" tc filter show dev "$2" ingress | grep -o "flowacct[a-z_]*" || true
	ip netns exec "$1" tc filter show dev "$2" egress | grep -o "flowacct[a-z_]*" || true
	ip -n "$1" -d link show dev "$2" | grep -o "prog/xdp" || true
	[ ! -e "$(pin_dir "$1" "$2")" ] || echo pins
}

# top on an interface deleted under it: one line, non-zero, within its
# interval and a second. Without IFACE it drops the one gone and goes on.
test_stale_top_gone() {
	netns_pair
	local t0 t1 rc=0 lines
	ip link add "${VA}t" netns "$NSA" type veth peer name "${VA}u" netns "$NSB"
	ip -n "$NSA" link set "${VA}t" up
	$INA "$FLOWACCT" attach "$VA" >/dev/null
	$INA "$FLOWACCT" attach "${VA}t" >/dev/null
	$INA "$FLOWACCT" top "$VA" --interval 1 >"$SCRATCH/top.out" 2>"$SCRATCH/top.err" &
	local top=$!
	$INA "$FLOWACCT" top --interval 1 >"$SCRATCH/all.out" 2>"$SCRATCH/all.err" &
	local all=$!
	sleep 2.5
	kill -0 $top || fail "top ended before the interface went: $(cat "$SCRATCH/top.err")"
	t0=$(date +%s%N)
	ip -n "$NSA" link del "$VA"
	wait $top || rc=$?
	t1=$(date +%s%N)
	[ $rc != 0 ] || fail "top exited 0"
	[ $(((t1 - t0) / 1000000)) -le 2000 ] || fail "top took $(((t1 - t0) / 1000000)) ms to end"
	lines=$(cat "$SCRATCH/top.err")
	[ "$lines" = "flowacct: '$VA' is gone: the interface was deleted ('flowacct detach $VA' releases what it held)" ] ||
		fail "top said: $lines"
	sleep 1.5
	kill -0 $all || fail "top of every interface ended: $(cat "$SCRATCH/all.err")"
	grep -q "'$VA' is gone: the interface was deleted; top no longer shows it" "$SCRATCH/all.err" ||
		fail "top of every interface did not say: $(cat "$SCRATCH/all.err")"
	[ "$(grep -c "is gone" "$SCRATCH/all.err")" = 1 ] || fail "said more than once: $(cat "$SCRATCH/all.err")"
	rc=0
	ip -n "$NSA" link del "${VA}t"
	wait $all || rc=$?
	[ $rc != 0 ] || fail "top of every interface exited 0 with all of them gone"
	grep -q "every interface top followed is gone" "$SCRATCH/all.err" || fail "all gone: $(cat "$SCRATCH/all.err")"
}
