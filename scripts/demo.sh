#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# flowacct's main job, on a fresh machine, without touching its NIC: two
# network namespaces joined by a veth pair (documentation addresses only),
# flowacct attached to one end, a few seconds of varied traffic, then the
# flow table and counters; the daemon, and a flow the kernel dropped with
# its reason; the socket programs; a podman container's rows named; then
# everything removed again.

set -euo pipefail
cd "$(dirname "$0")/.."

FA=$PWD/build/flowacct
id=$(head -c 2 /dev/urandom | od -An -tx1 | tr -d ' \n')
NSA=fa-demo-$id-a NSB=fa-demo-$id-b VA=fademo${id}a VB=fademo${id}b
INA="nsenter --net=/run/netns/$NSA" INB="nsenter --net=/run/netns/$NSB"
INO=
SOCKETS_OURS=
PODMAN=(podman --runtime runc --cgroup-manager cgroupfs)
CT= IMAGE=

cleanup() {
	set +e
	$INA "$FA" detach "$VA" >/dev/null 2>&1
	[ -z "$SOCKETS_OURS" ] || "$FA" sockets detach >/dev/null 2>&1
	[ -z "$CT" ] || "${PODMAN[@]}" rm -f -t 0 "$CT" >/dev/null 2>&1
	[ -z "$IMAGE" ] || "${PODMAN[@]}" rmi -f "$IMAGE" >/dev/null 2>&1
	ip netns pids "$NSA" 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns pids "$NSB" 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	# Pins and locks are named after the namespace's inode.
	[ -n "$INO" ] && rm -rf /sys/fs/bpf/flowacct/net"$INO"-if* /run/flowacct/net"$INO"-if*
	rmdir /sys/fs/bpf/flowacct /run/flowacct 2>/dev/null
	return 0
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Two namespaces, $NSA and $NSB, joined by $VA <-> $VB"
ip netns add "$NSA"
INO=$(stat -L -c %i /run/netns/"$NSA")
ip netns add "$NSB"
ip link add "$VA" netns "$NSA" type veth peer name "$VB" netns "$NSB"
ip -n "$NSA" addr add 192.0.2.1/24 dev "$VA"
ip -n "$NSB" addr add 192.0.2.2/24 dev "$VB"
ip -n "$NSA" addr add 2001:db8::1/64 dev "$VA" nodad
ip -n "$NSB" addr add 2001:db8::2/64 dev "$VB" nodad
for ns in "$NSA" "$NSB"; do ip -n "$ns" link set lo up; done
ip -n "$NSA" link set "$VA" up
ip -n "$NSB" link set "$VB" up

step "flowacct attach $VA"
$INA "$FA" attach "$VA"
$INA "$FA" status

step "Traffic: ping, ping -6, UDP, TCP over IPv4 and IPv6 (iperf3)"
$INB iperf3 -s -B 192.0.2.2 -p 5201 >/dev/null 2>&1 &
$INB iperf3 -s -B 2001:db8::2 -p 5202 >/dev/null 2>&1 &
$INB socat -u UDP-RECV:5353 /dev/null &
sleep 0.5
$INA ping -q -c 5 -i 0.2 -s 56 192.0.2.2 | tail -2
$INA ping -q -6 -c 3 -i 0.2 -s 500 2001:db8::2 | tail -2
for i in 1 2 3; do
	head -c 200 /dev/zero | $INA socat -u - UDP-SENDTO:192.0.2.2:5353,sourceport=5353
done
$INA iperf3 -c 192.0.2.2 -p 5201 -t 2 | grep -E "sender|receiver"
$INA iperf3 -c 2001:db8::2 -p 5202 -n 2M | grep -E "sender|receiver"
sleep 0.5

step "flowacct dump $VA"
$INA "$FA" dump "$VA"

step "flowacct dump --group-by src (per-source totals)"
$INA "$FA" dump --group-by src,direction

step "flowacct stats $VA"
$INA "$FA" stats "$VA"

step "flowacct detach $VA"
$INA "$FA" detach "$VA"
$INA "$FA" status

step "flowacct run $VA: the daemon, records as JSON lines (a few seconds)"
REC=$(mktemp)
trap 'rm -f "$REC"; cleanup' EXIT
$INB iperf3 -s -B 2001:db8::2 -p 5203 -1 >/dev/null 2>&1 &
$INA "$FA" run "$VA" --interval 0.5 --idle-timeout 2 --active-timeout 3 \
	--json "$REC" &
RUN=$!
sleep 1
$INA ping -q -c 6 -i 0.5 192.0.2.2 >/dev/null &
PING=$!
$INA iperf3 -c 2001:db8::2 -p 5203 -t 3 -b 20M | grep -E "sender|receiver"
wait $PING
step "flowacct dump $VA, answered by the daemon (flows since they started)"
$INA "$FA" dump "$VA" -o +age,idle
step "Drops in the books: 20 datagrams from $NSB to a port nobody listens on in $NSA"
$INB python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(20):
    s.sendto(bytes(100), ("192.0.2.1", 9))'
sleep 0.7
$INA "$FA" dump "$VA" --proto udp -o dir,src,sport,dst,dport,packets,drops,drop_reason
sleep 2.5
kill -TERM $RUN
wait $RUN
step "The records (one JSON line each; a few fields of each shown here)"
python3 - "$REC" <<'EOF'
import json, sys
sums = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["type"] == "counters":
        for h in r["hooks"]:
            print("counters, %s: accounted %d packets, %d bytes; the records hold %d packets, %d bytes"
                  % (h["direction"], h["counters"]["accounted"], h["counters"]["accounted_bytes"],
                     *sums.get(h["direction"], (0, 0))))
        continue
    d = sums.setdefault(r["direction"], [0, 0])
    d[0] += r["packets"]
    d[1] += r["bytes"]
    drops = r.get("drops")
    print("seq %3d  %-7s %-6s %-15s %5s > %-15s %5s  %6d pkts %9d bytes  %s%s" % (
        r["seq"], r["direction"],
        {1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6"}.get(r["proto"], r["proto"]),
        r["src"], r["sport"], r["dst"], r["dport"], r["packets"], r["bytes"],
        r["end_reason"], "  dropped %s" % drops["reasons"] if drops else ""))
EOF
$INA "$FA" status

if "$FA" sockets status | grep -q 'not attached'; then
	step "Who and how well: the socket programs, and attach --attribution --retrans --passive-rtt"
	"$FA" sockets attach
	SOCKETS_OURS=1
	$INA "$FA" attach "$VA" --attribution --retrans --passive-rtt >/dev/null
	$INB iperf3 -s -B 192.0.2.2 -p 5204 -1 >/dev/null 2>&1 &
	sleep 0.5
	$INA iperf3 -c 192.0.2.2 -p 5204 -t 2 -b 100M | grep -E "sender|receiver"
	$INA "$FA" dump "$VA" --proto tcp -o dir,src,sport,dst,dport,packets,process,cgroup,state,srtt,sretrans,retrans,prtt_min
	$INA "$FA" detach "$VA" >/dev/null
	"$FA" sockets detach
	SOCKETS_OURS=
fi
if command -v podman >/dev/null && [ -x /bin/busybox ]; then
	step "A container's rows named: a podman container (--network none) with a veth of $NSA moved in"
	# An image made here from busybox-static: no registry is needed.
	IMAGE=localhost/flowacct-demo-$id:busybox
	root=$(mktemp -d)
	mkdir -p "$root/bin"
	cp /bin/busybox "$root/bin/"
	for a in sh sleep ping; do ln -s busybox "$root/bin/$a"; done
	tar -C "$root" -c . | "${PODMAN[@]}" import -q - "$IMAGE" >/dev/null
	rm -rf "$root"
	CT=flowacct-demo-$id
	"${PODMAN[@]}" run -d --name "$CT" --network none --cap-add NET_RAW \
		--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$IMAGE" sleep 60 >/dev/null
	pid=$("${PODMAN[@]}" inspect -f '{{.State.Pid}}' "$CT")
	$INA ip link add vdemo$id type veth peer name eth0 netns "$pid"
	$INA ip addr add 203.0.113.1/24 dev vdemo$id
	$INA ip link set vdemo$id up
	nsenter -t "$pid" -n ip addr add 203.0.113.2/24 dev eth0
	nsenter -t "$pid" -n ip link set eth0 up
	$INA "$FA" attach vdemo$id >/dev/null
	"${PODMAN[@]}" exec "$CT" ping -q -c 4 -i 0.2 203.0.113.1 | tail -2
	echo "podman inspect: $("${PODMAN[@]}" inspect -f '{{.Name}} {{.Id}}' "$CT")"
	$INA "$FA" dump vdemo$id -o dir,proto,src,dst,packets,bytes,container
	$INA "$FA" dump vdemo$id --group-by container
	$INA "$FA" dump vdemo$id -j | python3 -c 'import json, sys
print("container of the first row:", json.load(sys.stdin)["flows"][0]["container"])'
	$INA "$FA" detach vdemo$id >/dev/null
fi

step "Removing the namespaces"
