# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# shellcheck shell=bash
# Containers named on the rows: from a cgroup path, each runtime's layout
# (against what each runtime documents); from an interface, a veth whose
# peer is in a real podman container's namespace; from a socket, a process
# in a podman container; Kubernetes pods from kubepods cgroups and kubelet's
# log directories. Ids and names against `podman inspect`.

ALL_TESTS="test_containers_paths test_containers_veth test_containers_socket test_containers_kube
	test_containers_forwarded test_containers_nat test_containers_metrics test_containers_late
	test_containers_look_backoff"

NAMES=$PWD/build/tests/container_names

# ---- podman, as this VM runs it ------------------------------------------------

# runc and the cgroupfs driver (crun refuses the hybrid cgroup layout), with
# limits runc can set under it; an image made here from busybox-static (no
# registry is reachable), one per test, removed with its containers.
PODMAN=(podman --runtime runc --cgroup-manager cgroupfs)
CONTAINERS=()
IMAGE=

containers_up() {
	local root
	command -v podman >/dev/null || fail "podman is not installed: scripts/deps.sh"
	[ -x /bin/busybox ] || fail "busybox-static is not installed: scripts/deps.sh"
	trap 'containers_off; netns_cleanup' EXIT
	IMAGE=localhost/flowacct-test-$$:busybox
	root=$(mktemp -d)
	mkdir -p "$root/bin"
	cp /bin/busybox "$root/bin/"
	for a in sh sleep ping nc cat echo; do ln -s busybox "$root/bin/$a"; done
	tar -C "$root" -c . | "${PODMAN[@]}" import -q - "$IMAGE" >/dev/null
	rm -rf "$root"
}

# The EXIT trap: keeps the test's status for netns_cleanup, which exits with it.
containers_off() {
	local rc=$? c
	set +e
	for c in "${CONTAINERS[@]}"; do
		"${PODMAN[@]}" rm -f -t 0 "$c" >/dev/null 2>&1
	done
	[ -z "$IMAGE" ] || "${PODMAN[@]}" rmi -f "$IMAGE" >/dev/null 2>&1
	for pid in ${BG_PIDS:-}; do
		kill "$pid" 2>/dev/null
	done
	[ -z "${SOCKETS:-}" ] || "$FLOWACCT" sockets detach >/dev/null 2>&1
	if [ -n "${CG_DIRS:-}" ]; then
		# Innermost first, once the processes moved in have gone.
		for d in $CG_DIRS; do
			for _ in $(seq 50); do rmdir "$d" 2>/dev/null && break; sleep 0.1; done
		done
	fi
	(exit $rc)
}

# container NAME ARGS...: a container started detached, removed at exit.
container() {
	local name=$1
	shift
	CONTAINERS+=("$name")
	"${PODMAN[@]}" run -d --name "$name" --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
		"$@" >/dev/null || fail "podman run $name failed"
}

inspect() {
	"${PODMAN[@]}" inspect -f "$2" "$1"
}

# check_rows FILE WHERE ID NAME: every JSON row or record of FILE (a dump
# document or JSON lines) for which the Python expression WHERE holds
# (r: the row) names container ID, NAME, podman; at least one does.
check_rows() {
	python3 - "$@" <<-'EOF'
	import json, sys
	path, where, cid, name = sys.argv[1:5]
	text = open(path).read()
	try:
	    rows = json.loads(text)["flows"]
	except ValueError:
	    rows = [json.loads(l) for l in text.splitlines() if l.startswith('{"type":"flow"')]
	rows = [r for r in rows if eval(where)]
	if not rows:
	    sys.exit("%s: no row where %s" % (path, where))
	for r in rows:
	    c = r["container"]
	    want = {"id": cid, "name": name, "runtime": "podman", "pod": None,
	            "namespace": None, "pod_uid": None, "qos": None}
	    if c != want:
	        sys.exit("%s: %s %s:%s > %s:%s: container %s, expected %s" % (
	            path, r.get("direction"), r["src"], r["sport"], r["dst"], r["dport"], c, want))
	print("%s: %d rows name %s (%s)" % (path, len(rows), name, cid[:12]))
	EOF
}

# ct_veth NAME DEV N: container NAME (--network none) with a veth moved into
# it, DEV its host end in $NSA, 203.0.113.(4N+1)/30 there and .(4N+2) inside;
# IPv6 off on both ends, so that only what the test sends is counted. Its
# pid in CT_PID.
ct_veth() {
	local name=$1 dev=$2 n=$3
	container "$name" --network none --cap-add NET_RAW "$IMAGE" sleep 120
	CT_PID=$(inspect "$name" '{{.State.Pid}}')
	nsenter -t "$CT_PID" -n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	$INA ip link add "$dev" type veth peer name eth1 netns "$CT_PID"
	ip netns exec "$NSA" sysctl -qw net.ipv6.conf."$dev".disable_ipv6=1
	$INA ip addr add 203.0.113.$((4 * n + 1))/30 dev "$dev"
	$INA ip link set "$dev" up
	nsenter -t "$CT_PID" -n ip addr add 203.0.113.$((4 * n + 2))/30 dev eth1
	nsenter -t "$CT_PID" -n ip link set eth1 up
}

# ct_routed NAME DEV: ct_veth NAME DEV 0, A routing for it: the
# container's default route through A's end, A forwarding.
ct_routed() {
	ct_veth "$1" "$2" 0
	nsenter -t "$CT_PID" -n ip route add default via 203.0.113.1
	ip netns exec "$NSA" sysctl -qw net.ipv4.ip_forward=1
}

# ---- the tests ------------------------------------------------------------------

# Each runtime's cgroup layout, as its documentation gives it, and the names
# from a tree laid out as the runtimes keep their files: docker's
# config.v2.json, containers/storage's containers.json (podman, CRI-O),
# kubelet's /var/log/pods and /var/log/containers. A pod's container that
# kubelet's links do not name (its pod has two) takes the runtime's name;
# docker in docker is the inner one, whose name is in the inner docker's
# files, not the host's.
test_containers_paths() {
	scratch
	local r=$SCRATCH/root a b c d uid=0b6e2c1a-58f4-4f7e-9d3a-2c1b0a9e8f70 out
	a=$(printf 'a%.0s' $(seq 64)) b=$(printf '0123456789abcdef%.0s' 1 2 3 4)
	c=$(printf 'c%.0s' $(seq 64)) d=$(printf 'd%.0s' $(seq 64))
	mkdir -p "$r/var/lib/docker/containers/$b" "$r/var/lib/containers/storage/overlay-containers" \
		"$r/var/log/pods/shop_checkout-7d9f_$uid/api" "$r/var/log/pods/shop_checkout-7d9f_$uid/sidecar" \
		"$r/var/log/containers"
	echo '{"ID":"'"$b"'","Name":"/web-1","State":{"Running":true}}' \
		>"$r/var/lib/docker/containers/$b/config.v2.json"
	echo '[{"id":"'"$c"'","names":["db"],"layer":"x"},{"id":"'"$d"'","names":["k8s_api_checkout"]}]' \
		>"$r/var/lib/containers/storage/overlay-containers/containers.json"
	ln -s "../pods/shop_checkout-7d9f_$uid/api/0.log" \
		"$r/var/log/containers/checkout-7d9f_shop_api-$a.log"
	cat >"$SCRATCH/paths" <<-EOF
	/system.slice/docker-$b.scope
	/docker/$b
	/libpod_parent/libpod-$c
	/machine.slice/libpod-$c.scope
	/machine.slice/libpod-conmon-$c.scope
	/system.slice/crio-$d.scope
	/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid//-/_}.slice/cri-containerd-$a.scope
	/kubepods/besteffort/pod$uid/$a
	/kubepods/pod$uid/$d
	/user.slice/user-0.slice/session-1.scope
	/docker/$b/docker/$c
	/
	EOF
	"$NAMES" "$r" <"$SCRATCH/paths" >"$SCRATCH/got"
	cat >"$SCRATCH/want" <<-EOF
	/system.slice/docker-$b.scope	$b	docker	-	-	web-1	-	-
	/docker/$b	$b	docker	-	-	web-1	-	-
	/libpod_parent/libpod-$c	$c	podman	-	-	db	-	-
	/machine.slice/libpod-$c.scope	$c	podman	-	-	db	-	-
	/machine.slice/libpod-conmon-$c.scope	none
	/system.slice/crio-$d.scope	$d	cri-o	-	-	k8s_api_checkout	-	-
	/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid//-/_}.slice/cri-containerd-$a.scope	$a	containerd	$uid	burstable	api	checkout-7d9f	shop
	/kubepods/besteffort/pod$uid/$a	$a	-	$uid	besteffort	api	checkout-7d9f	shop
	/kubepods/pod$uid/$d	$d	-	$uid	guaranteed	k8s_api_checkout	checkout-7d9f	shop
	/user.slice/user-0.slice/session-1.scope	none
	/docker/$b/docker/$c	$c	docker	-	-	-	-	-
	/	none
	EOF
	out=$(diff "$SCRATCH/want" "$SCRATCH/got") || fail "container_names differs from the layouts: $out"
}

# A veth whose peer is in a podman container's namespace (--network none,
# the peer moved in, as a CNI plugin does): the host end's rows and
# records name the container as podman inspect does, and dump and top
# group by it; a plain veth beside it, whose peer's namespace holds no
# container, names none.
test_containers_veth() {
	netns_pair
	containers_up
	local name=fa-ct-$$ pid cid
	container "$name" --network none --cap-add NET_RAW "$IMAGE" sleep 120
	pid=$(inspect "$name" '{{.State.Pid}}')
	cid=$(inspect "$name" '{{.Id}}')
	$INA ip link add fact$$ type veth peer name eth1 netns "$pid"
	$INA ip addr add 203.0.113.1/24 dev fact$$
	$INA ip link set fact$$ up
	nsenter -t "$pid" -n ip addr add 203.0.113.2/24 dev eth1
	nsenter -t "$pid" -n ip link set eth1 up

	run_start "$NSA" "$VA" fact$$ --layout set --interval 0.2
	# Ten pings over a second and a half: top's interval sees some of them.
	"${PODMAN[@]}" exec "$name" ping -c 10 -i 0.15 -W 1 203.0.113.1 >/dev/null &
	local ping=$!
	$INB ping -c 2 -W 1 192.0.2.1 >/dev/null
	$INA "$FLOWACCT" top --group-by container --interval 0.5 --count 1 | cat >"$SCRATCH/top"
	wait $ping || fail "ping from the container failed"
	$INA "$FLOWACCT" -j dump >"$SCRATCH/dump.json"
	$INA "$FLOWACCT" dump --group-by container >"$SCRATCH/grouped"
	run_stop
	check_rows "$SCRATCH/dump.json" 'r["iface"] == "fact'$$'"' "$cid" "$name"
	check_rows "$SCRATCH/rec.json" 'r["iface"] == "fact'$$'"' "$cid" "$name"
	# Ten echo requests from the container, as ping sent them.
	python3 - "$SCRATCH/rec.json" "$VA" <<-'EOF'
	import json, sys
	recs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"type":"flow"')]
	req = sum(r["packets"] for r in recs if r["proto"] == 1 and r["src"] == "203.0.113.2"
	          and r["direction"] == "ingress" and r["dport"] == 8 << 8)
	if req != 10:
	    sys.exit("echo requests from the container: %d, ping sent 10" % req)
	plain = [r for r in recs if r["iface"] == sys.argv[2]]
	if not plain or any(r["container"] is not None for r in plain):
	    sys.exit("the plain veth's records: %s" % [r["container"] for r in plain])
	EOF
	grep -q " $name *$" "$SCRATCH/grouped" || fail "group-by container: $(cat "$SCRATCH/grouped")"
	grep -q " - *$" "$SCRATCH/grouped" || fail "group-by container, none: $(cat "$SCRATCH/grouped")"
	grep -q " $name *$" "$SCRATCH/top" || fail "top by container: $(cat "$SCRATCH/top")"
}

# A podman container in A's namespace (--network ns:, which stands in for
# --network host: the host's own namespace carries this machine's session),
# a TCP connection from a process inside it: with the socket programs and
# --attribution, the rows of its flow name the container.
test_containers_socket() {
	netns_pair
	containers_up
	local name=fa-cs-$$ cid
	if "$FLOWACCT" sockets status | grep -q 'attached at'; then
		fail "the socket programs are attached already: not ours to replace"
	fi
	SOCKETS=1
	"$FLOWACCT" sockets attach >/dev/null
	$INB socat -u TCP4-LISTEN:7000,reuseaddr OPEN:/dev/null,wronly &
	BG_PIDS=$!
	sleep 0.3
	run_start "$NSA" "$VA" --layout set --attribution --interval 0.2
	container "$name" --network ns:/run/netns/"$NSA" "$IMAGE" \
		sh -c 'echo hello | nc -w 2 192.0.2.2 7000; sleep 120'
	cid=$(inspect "$name" '{{.Id}}')
	for _ in $(seq 50); do
		$INA "$FLOWACCT" -j dump --port 7000 >"$SCRATCH/dump.json"
		grep -q '"dport":7000' "$SCRATCH/dump.json" && break
		sleep 0.1
	done
	run_stop
	check_rows "$SCRATCH/dump.json" 'r["dport"] == 7000 and r["direction"] == "egress"' "$cid" "$name"
	check_rows "$SCRATCH/rec.json" 'r["dport"] == 7000 and r["direction"] == "egress"' "$cid" "$name"
}

# Kubernetes without Kubernetes: a process in a cgroup laid out as the
# kubelet's systemd driver and containerd make one, a kubelet log tree under
# --container-root: its rows name the pod, its namespace and the container.
test_containers_kube() {
	netns_pair
	trap 'containers_off; netns_cleanup' EXIT
	local root uid=7c0ffee0-1234-4abc-8def-0123456789ab cid pod=checkout-5f7b9 top r
	cid=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	if "$FLOWACCT" sockets status | grep -q 'attached at'; then
		fail "the socket programs are attached already: not ours to replace"
	fi
	SOCKETS=1
	"$FLOWACCT" sockets attach >/dev/null
	root=$("$FLOWACCT" -j sockets status | python3 -c 'import json,sys; print(json.load(sys.stdin)["cgroup"])')
	top=$root/kubepods-fa$$.slice
	local pcg=$top/kubepods-fa$$-besteffort.slice/kubepods-besteffort-pod${uid//-/_}.slice
	local ccg=$pcg/cri-containerd-$cid.scope
	mkdir -p "$ccg"
	CG_DIRS="$ccg $pcg ${pcg%/*} $top"
	r=$SCRATCH/root
	mkdir -p "$r/var/log/pods/shop_${pod}_$uid/api" "$r/var/log/pods/shop_${pod}_$uid/cache" \
		"$r/var/log/containers"
	ln -s "../pods/shop_${pod}_$uid/api/0.log" "$r/var/log/containers/${pod}_shop_api-$cid.log"
	$INB socat -u TCP4-LISTEN:7000,reuseaddr OPEN:/dev/null,wronly &
	BG_PIDS=$!
	sleep 0.3
	run_start "$NSA" "$VA" --layout set --attribution --interval 0.2 --container-root "$r"
	sh -c 'echo $$ > "$1"/cgroup.procs; echo hello | exec nsenter --net=/run/netns/"$2" socat -u - TCP4:192.0.2.2:7000' \
		_ "$ccg" "$NSA" || fail "the client in the pod's cgroup failed"
	$INA "$FLOWACCT" -j dump --port 7000 >"$SCRATCH/dump.json"
	run_stop
	python3 - "$SCRATCH/dump.json" "$SCRATCH/rec.json" "$cid" "$uid" "$pod" <<-'EOF'
	import json, sys
	dump, recs, cid, uid, pod = sys.argv[1:6]
	rows = [r for r in json.load(open(dump))["flows"] if r["dport"] == 7000 and r["direction"] == "egress"]
	rows += [r for r in (json.loads(l) for l in open(recs) if l.startswith('{"type":"flow"'))
	         if r["dport"] == 7000 and r["direction"] == "egress"]
	want = {"id": cid, "name": "api", "runtime": "containerd", "pod": pod, "namespace": "shop",
	        "pod_uid": uid, "qos": "besteffort"}
	if len(rows) < 2:
	    sys.exit("rows and records of the connection: %d" % len(rows))
	for r in rows:
	    if r["container"] != want:
	        sys.exit("container %s, expected %s" % (r["container"], want))
	print("%d rows and records name pod %s/%s" % (len(rows), pod, "api"))
	EOF
}

# Forwarded: A routes between a container's veth and its uplink to B; the
# container pings B. Its flows have no socket on the uplink, yet the
# uplink's rows and records of them name the container, as its veth's do;
# B's own traffic on the uplink names none.
test_containers_forwarded() {
	netns_pair
	containers_up
	local name=fa-cf-$$ cid
	ct_routed "$name" fr$$
	cid=$(inspect "$name" '{{.Id}}')
	$INB ip route add 203.0.113.0/30 via 192.0.2.1
	run_start "$NSA" "$VA" fr$$ --layout set --interval 0.2
	sleep 0.3	# the veth's container looked up
	"${PODMAN[@]}" exec "$name" ping -q -c 4 -i 0.2 192.0.2.2 >/dev/null || fail "ping through A"
	$INB ping -q -c 2 -i 0.2 192.0.2.1 >/dev/null
	$INA "$FLOWACCT" -j dump >"$SCRATCH/dump.json"
	run_stop
	for f in dump.json rec.json; do
		check_rows "$SCRATCH/$f" 'r["iface"] == "'"$VA"'" and "203.0.113.2" in (r["src"], r["dst"])' \
			"$cid" "$name"
		check_rows "$SCRATCH/$f" 'r["iface"] == "fr'$$'"' "$cid" "$name"
	done
	python3 - "$SCRATCH/rec.json" "$VA" <<-'EOF'
	import json, sys
	recs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"type":"flow"')]
	up = [r for r in recs if r["iface"] == sys.argv[2]]
	fwd = sum(r["packets"] for r in up if r["src"] == "203.0.113.2" and r["direction"] == "egress")
	if fwd != 4:
	    sys.exit("echo requests forwarded out of the uplink: %d, ping sent 4" % fwd)
	own = [r for r in up if r["src"] == "192.0.2.2" and r["dst"] == "192.0.2.1"]
	if not own or any(r["container"] is not None for r in own):
	    sys.exit("B's own pings on the uplink: %s" % [r["container"] for r in own])
	EOF
}

# Through NAT: A masquerades the container's connections out of its uplink
# (nftables), so the uplink's rows have A's address and another port; the
# conntrack entry pairs the two tuples, and the uplink's rows of the
# connection name the container. A's own connection to B names none.
test_containers_nat() {
	netns_pair
	containers_up
	local name=fa-cn-$$ cid
	ct_routed "$name" fn$$
	cid=$(inspect "$name" '{{.Id}}')
	ip netns exec "$NSA" nft -f - <<-EOF
	table ip fa_nat {
		chain post {
			type nat hook postrouting priority srcnat;
			oifname "$VA" masquerade
		}
	}
	EOF
	$INB socat -u TCP4-LISTEN:7000,reuseaddr,fork OPEN:/dev/null,wronly &
	BG_PIDS=$!
	sleep 0.3
	run_start "$NSA" "$VA" fn$$ --layout set --no-sockets --interval 0.2
	sleep 0.3
	"${PODMAN[@]}" exec "$name" sh -c 'echo hello | nc -w 2 192.0.2.2 7000' ||
		fail "the container's connection through A"
	echo hello | $INA socat -u - TCP4:192.0.2.2:7000,sourceport=7100
	sleep 0.3
	$INA "$FLOWACCT" -j dump >"$SCRATCH/dump.json"
	run_stop
	for f in dump.json rec.json; do
		# A's address on the uplink: only the rewrite says whose.
		check_rows "$SCRATCH/$f" 'r["iface"] == "'"$VA"'" and 7000 in (r["sport"], r["dport"]) and 7100 not in (r["sport"], r["dport"])' \
			"$cid" "$name"
		python3 - "$SCRATCH/$f" "$VA" <<-'EOF' || fail "$f: A's own connection named a container"
		import json, sys
		text = open(sys.argv[1]).read()
		try:
		    rows = json.loads(text)["flows"]
		except ValueError:
		    rows = [json.loads(l) for l in text.splitlines() if l.startswith('{"type":"flow"')]
		own = [r for r in rows if r["iface"] == sys.argv[2] and 7100 in (r["sport"], r["dport"])]
		sys.exit(0 if own and all(r["container"] is None for r in own) else 1)
		EOF
	done
}

# Per-container Prometheus series, scraped by a real Prometheus, with a cap
# of one: the first container gets its series, the second is counted under
# "other" for its life; the first's series go once it is removed (its
# cgroup gone for longer than its flows can stay), and a third takes the
# freed place. Each figure against ping's counts; no counter ever resets.
test_containers_metrics() {
	source tests/helpers/collectors.sh
	netns_pair
	containers_up
	trap '_rc=$?; set +e; collectors_cleanup; containers_off; (exit $_rc); netns_cleanup' EXIT
	COLLECTOR_NETNS=$NSA
	local mport pport a=fa-ma-$$ b=fa-mb-$$ c=fa-mc-$$ out
	mport=$(free_tcp_port)
	pport=$(free_tcp_port)
	run_start "$NSA" --iface "fm$$*" --layout set --interval 0.2 --idle-timeout 0.5 \
		--active-timeout 1 --metrics "127.0.0.1:$mport" --metrics-containers 1
	prometheus_start "$pport" "127.0.0.1:$mport"
	ct_veth "$a" fm$$a 0
	sleep 0.5	# taken, and its container looked up
	"${PODMAN[@]}" exec "$a" ping -q -c 3 -i 0.2 203.0.113.1 >/dev/null || fail "ping from $a"
	sleep 2		# its records out: the cap's one place is its
	ct_veth "$b" fm$$b 1
	sleep 0.5
	"${PODMAN[@]}" exec "$b" ping -q -c 4 -i 0.2 203.0.113.5 >/dev/null || fail "ping from $b"
	sleep 2
	_http_get "http://127.0.0.1:$mport/metrics" >"$SCRATCH/m1.txt" || fail "no /metrics"
	promtool check metrics <"$SCRATCH/m1.txt" || fail "promtool rejects /metrics"
	_prom_series "$SCRATCH/m1.txt" >"$SCRATCH/s1"
	_expect_series "$SCRATCH/s1" "$a ingress 3" "$a egress 3" "other ingress 4" "other egress 4" \
		"containers 1" "others 1"

	# The first goes: its netns with it, and the veth; the second pings on.
	"${PODMAN[@]}" rm -f -t 0 "$a" >/dev/null
	"${PODMAN[@]}" exec "$b" ping -q -c 2 -i 0.2 203.0.113.5 >/dev/null || fail "ping from $b"
	sleep 3.5	# past active + idle + two ticks
	ct_veth "$c" fm$$c 2
	sleep 0.5
	"${PODMAN[@]}" exec "$c" ping -q -c 5 -i 0.2 203.0.113.9 >/dev/null || fail "ping from $c"
	sleep 2
	_http_get "http://127.0.0.1:$mport/metrics" >"$SCRATCH/m2.txt" || fail "no /metrics"
	_prom_series "$SCRATCH/m2.txt" >"$SCRATCH/s2"
	_expect_series "$SCRATCH/s2" "$c ingress 5" "$c egress 5" "other ingress 6" "other egress 6" \
		"containers 1" "others 1"
	grep -q "^$a " "$SCRATCH/s2" && fail "$a's series are still there: $(cat "$SCRATCH/s2")"
	# The id label, as podman inspect gives it.
	grep -q "container=\"$c\",container_id=\"$(inspect "$c" '{{.Id}}')\"" "$SCRATCH/m2.txt" ||
		fail "no series with $c's id: $(grep container_packets "$SCRATCH/m2.txt")"

	# What Prometheus scraped all along: no reset of any series.
	sleep 1.5
	out=$(prom_query "$pport" 'sum(resets(flowacct_container_packets_total[5m])) + sum(resets(flowacct_container_bytes_total[5m]))')
	python3 - "$out" <<-'EOF' || fail "a container counter went backwards: $out"
	import json, sys
	r = json.loads(sys.argv[1])["data"]["result"]
	sys.exit(0 if r and float(r[0]["value"][1]) == 0 else 1)
	EOF
	out=$(prom_query "$pport" 'max_over_time(flowacct_container_packets_total{container="'"$a"'",direction="ingress"}[5m])')
	[[ $out == *'"3"]'* ]] || fail "prometheus never had $a's 3 packets: $out"
	prometheus_stop
	run_stop
}

# _prom_series FILE: "CONTAINER DIRECTION PACKETS" per packets series, and
# "containers N", "others N".
_prom_series() {
	sed -n -e 's/^flowacct_container_packets_total{container="\([^"]*\)".*direction="\([a-z]*\)"} \([0-9]*\)$/\1 \2 \3/p' \
		-e 's/^flowacct_containers \([0-9]*\)$/containers \1/p' \
		-e 's/^flowacct_containers_other_total \([0-9]*\)$/others \1/p' "$1"
}

# _expect_series FILE LINE...: each LINE in FILE.
_expect_series() {
	local f=$1 l
	shift
	for l in "$@"; do
		grep -qx "$l" "$f" || fail "no '$l' in the series: $(tr '\n' ';' <"$f")"
	done
}

# A veth whose peer's namespace holds no process when the daemon takes it,
# a podman container that joins the namespace about 2 s later (--network
# ns:, as a runtime that makes the veth first would): the looks that wait
# longer each time while the namespace is empty still find it within the
# window, and the records of pings from it name the container.
test_containers_late() {
	netns_pair
	containers_up
	local name=fa-late-$$ ns=fa-late-$$ dev=falt$$ t0 cid left
	netns_new_quiet "$ns"
	$INA ip link add "$dev" type veth peer name eth1 netns "$ns"
	ip netns exec "$NSA" sysctl -qw net.ipv6.conf."$dev".disable_ipv6=1
	$INA ip addr add 203.0.113.1/24 dev "$dev"
	$INA ip link set "$dev" up
	ip -n "$ns" addr add 203.0.113.2/24 dev eth1
	ip -n "$ns" link set eth1 up

	run_start "$NSA" "$dev" --layout set --interval 1 --idle-timeout 1
	t0=$(date +%s%N)
	sleep 2
	container "$name" --network ns:/run/netns/"$ns" --cap-add NET_RAW "$IMAGE" sleep 120
	cid=$(inspect "$name" '{{.Id}}')
	echo "the container's process in the namespace after $((($(date +%s%N) - t0) / 1000000)) ms"
	# Past the window's last look (10 s after the first, at the first tick).
	left=$((12000 - ($(date +%s%N) - t0) / 1000000))
	[ $left -le 0 ] || sleep "$((left / 1000)).$(printf %03d $((left % 1000)))"
	"${PODMAN[@]}" exec "$name" ping -c 3 -i 0.2 -W 1 203.0.113.1 >/dev/null ||
		fail "ping from the container failed"
	sleep 2.5
	run_stop
	check_rows "$SCRATCH/rec.json" 'r["iface"] == "'"$dev"'" and r["proto"] == 1' "$cid" "$name"
}

# A veth whose peer's namespace holds no process: the daemon walks /proc for
# its container at 0, 1, 3, 7 and 10 s after its first look (each look
# waits twice as long as the last), not at every tick of the 10 s window.
# strace counts the daemon's opens of /proc over 12 s of 1 s ticks.
test_containers_look_backoff() {
	netns_pair
	local ns=fa-empty-$$ dev=faem$$ looks
	netns_new_quiet "$ns"
	$INA ip link add "$dev" type veth peer name eth1 netns "$ns"
	ip netns exec "$NSA" sysctl -qw net.ipv6.conf."$dev".disable_ipv6=1
	$INA ip link set "$dev" up
	ip -n "$ns" link set eth1 up
	run_start "$NSA" "$dev" --layout iface --interval 1
	timeout 12 strace -qq -e trace=openat -o "$SCRATCH/looks.strace" -p "$RUN_PID" \
		2>/dev/null || true
	run_stop
	looks=$(grep -c 'openat(AT_FDCWD, "/proc", ' "$SCRATCH/looks.strace" || true)
	echo "looks at /proc in 12 s: $looks"
	[ "$looks" -ge 3 ] || fail "only $looks looks for the container in 12 s"
	[ "$looks" -le 6 ] || fail "$looks looks for the container in 12 s: not backing off"
}
