# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# shellcheck shell=bash
# The fleet a node reports to: three nodes, each a namespace running
# `flowacct run --ipfix` on its own traffic, exporting to one pmacct nfacctd
# whose PostgreSQL plugin writes into a PostgreSQL cluster the test starts
# (initdb in a temporary directory, run as the postgres user, stopped at
# the end). Per node, by exporter address, the SQL sums of packets and
# bytes equal that daemon's counters lines.

ALL_TESTS="test_fleet_pmacct_postgres"

PG_BIN=/usr/lib/postgresql/15/bin
PGDIR=

# pg_start: a cluster of its own, on a Unix socket in $PGDIR only (no TCP),
# trusting local connections; the table nfacctd's pgsql plugin writes, laid
# out for sql_optimize_clauses with the primitives the test aggregates on.
pg_start() {
	[ -x "$PG_BIN/initdb" ] || fail "postgresql-15 is not installed: scripts/deps.sh"
	PGDIR=$(mktemp -d /tmp/fa-pg.XXXXXX)
	chown postgres: "$PGDIR"
	runuser -u postgres -- "$PG_BIN/initdb" -D "$PGDIR/data" -A trust -U postgres \
		>"$SCRATCH/initdb.log" 2>&1 || fail "initdb failed: $(tail -5 "$SCRATCH/initdb.log")"
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w -t 30 \
		-o "-c listen_addresses='' -c unix_socket_directories=$PGDIR" start >/dev/null ||
		fail "postgres did not start: $(tail -5 "$PGDIR/log")"
	psql -h "$PGDIR" -U postgres -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE pmacct" >/dev/null
	psql -h "$PGDIR" -U postgres -d pmacct -qAt -v ON_ERROR_STOP=1 >/dev/null <<-'EOF'
	CREATE TABLE acct (
		peer_ip_src inet NOT NULL DEFAULT '0.0.0.0',
		ip_src inet NOT NULL DEFAULT '0.0.0.0',
		ip_dst inet NOT NULL DEFAULT '0.0.0.0',
		port_src INT NOT NULL DEFAULT 0,
		port_dst INT NOT NULL DEFAULT 0,
		ip_proto SMALLINT NOT NULL DEFAULT 0,
		packets BIGINT NOT NULL,
		bytes BIGINT NOT NULL,
		stamp_inserted timestamp without time zone NOT NULL DEFAULT '0001-01-01 00:00:00',
		stamp_updated timestamp without time zone
	);
	EOF
}

pg_stop() {
	[ -n "$PGDIR" ] || return 0
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1
	rm -rf "$PGDIR"
	PGDIR=
}

# fleet_cleanup: the EXIT trap, keeping the test's status.
fleet_cleanup() {
	local rc=$? pid
	set +e
	for pid in ${NODE_PIDS:-}; do
		kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	collectors_cleanup
	pg_stop
	(exit $rc)
}

test_fleet_pmacct_postgres() {
	source tests/helpers/collectors.sh
	local id i port conf n ns peer sums
	id=$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')
	SCRATCH=$(mktemp -d)
	trap 'fleet_cleanup; netns_cleanup' EXIT
	NODE_PIDS=
	pg_start

	# The collector's namespace, a link to each node's: 198.51.100.4i+1 on
	# node i, .4i+2 on the collector.
	netns_new_quiet "fa-$id-c"
	COLLECTOR_NETNS=fa-$id-c
	for i in 0 1 2; do
		netns_new_quiet "fa-$id-n$i"
		netns_new_quiet "fa-$id-p$i"
		ip link add "fan$id$i" netns "fa-$id-n$i" type veth peer name "fac$id$i" netns "fa-$id-c"
		ip -n "fa-$id-n$i" addr add "198.51.100.$((4 * i + 1))/30" dev "fan$id$i"
		ip -n "fa-$id-c" addr add "198.51.100.$((4 * i + 2))/30" dev "fac$id$i"
		ip -n "fa-$id-n$i" link set "fan$id$i" up
		ip -n "fa-$id-c" link set "fac$id$i" up
		# The node's own traffic: to a peer, 203.0.113.4i+1 and .4i+2.
		veth_link_v4 "fa-$id-n$i" "fat$id$i" "fa-$id-p$i" "fap$id$i" "203.0.113.$((4 * i + 1))" \
			"203.0.113.$((4 * i + 2))"
	done

	port=$(free_udp_port)
	conf=$SCRATCH/nfacctd.conf
	cat >"$conf" <<-EOF
	daemonize: false
	nfacctd_port: $port
	plugins: pgsql
	aggregate: peer_src_ip, src_host, dst_host, src_port, dst_port, proto
	sql_optimize_clauses: true
	sql_host: $PGDIR
	sql_db: pmacct
	sql_user: postgres
	sql_passwd: unused
	sql_table: acct
	sql_refresh_time: 1
	sql_dont_try_update: true
	EOF
	collector_spawn nfacctd nfacctd -f "$conf"
	NFACCTD_PID=$SPAWNED_PID
	NFACCTD_PORT=$port
	collector_wait_listen nfacctd "$NFACCTD_PID" udp "$port"

	for i in 0 1 2; do
		nsenter --net=/run/netns/"fa-$id-n$i" "$(realpath "$FLOWACCT")" run "fat$id$i" \
			--no-sockets --interval 0.2 --idle-timeout 1 --active-timeout 2 \
			--ipfix "198.51.100.$((4 * i + 2)):$port" --json "$SCRATCH/node$i.json" \
			2>"$SCRATCH/node$i.log" &
		NODE_PIDS="$NODE_PIDS $!"
	done
	for i in 0 1 2; do
		for _ in $(seq 100); do
			grep -q "running on" "$SCRATCH/node$i.log" && break
			sleep 0.05
		done
		grep -q "running on" "$SCRATCH/node$i.log" || fail "node $i: $(cat "$SCRATCH/node$i.log")"
	done
	# Different traffic on each: pings and UDP datagrams, counts by node.
	for i in 0 1 2; do
		peer=203.0.113.$((4 * i + 2))
		nsenter --net=/run/netns/"fa-$id-n$i" ping -q -c $((3 + i)) -i 0.1 "$peer" >/dev/null
		for n in $(seq $((5 * (i + 1)))); do
			head -c $((100 * n)) /dev/zero |
				nsenter --net=/run/netns/"fa-$id-n$i" socat -u - UDP4-SENDTO:"$peer":9,sourceport=$((4000 + n))
		done
	done
	# Every flow out, every record sent; then nfacctd's last purge.
	for pid in $NODE_PIDS; do
		kill -TERM "$pid"
		wait "$pid" || fail "a node's daemon exited $?"
	done
	NODE_PIDS=
	sleep 2.5	# two of the plugin's refreshes
	_drain nfacctd "$port"
	collector_stop nfacctd "$NFACCTD_PID" INT
	NFACCTD_PID=

	sums=$(psql -h "$PGDIR" -U postgres -d pmacct -qAt -F ' ' \
		-c "SELECT host(peer_ip_src), sum(packets), sum(bytes) FROM acct GROUP BY 1 ORDER BY 1")
	python3 - "$sums" "$SCRATCH"/node0.json "$SCRATCH"/node1.json "$SCRATCH"/node2.json <<-'EOF' ||
	import json, sys
	got = {l.split()[0]: tuple(int(x) for x in l.split()[1:]) for l in sys.argv[1].splitlines()}
	bad = 0
	for i, path in enumerate(sys.argv[2:]):
	    pk = by = 0
	    for line in open(path):
	        r = json.loads(line)
	        if r["type"] == "counters":
	            for h in r["hooks"]:
	                pk += h["counters"]["accounted"]
	                by += h["counters"]["accounted_bytes"]
	    node = "198.51.100.%d" % (4 * i + 1)
	    sql = got.get(node, (0, 0))
	    print("node %s: counters %d packets %d bytes, PostgreSQL %d packets %d bytes"
	          % (node, pk, by, sql[0], sql[1]))
	    bad += pk == 0 or sql != (pk, by)
	sys.exit(1 if bad or len(got) != 3 else 0)
	EOF
		fail "the SQL sums differ from the daemons' counters"
}

# veth_link_v4 NS1 DEV1 NS2 DEV2 ADDR1 ADDR2: a veth pair, /30 addresses,
# IPv6 off on both ends (nothing the kernel sends on its own).
veth_link_v4() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
	ip -n "$1" addr add "$5/30" dev "$2"
	ip -n "$3" addr add "$6/30" dev "$4"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}
