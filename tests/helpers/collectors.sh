# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Collectors that flowacct's IPFIX export and Prometheus endpoint are checked
# against, none of them ours: Debian's nfcapd (nfdump 1.7.1), pmacct's
# nfacctd and prometheus 2.42, plus a tcpdump of the export on loopback.
#
# Sourced by a test after tests/helpers/lib.sh. Each start function needs $SCRATCH
# (call `scratch` first), keeps its files and log there, listens on loopback
# only and returns once the collector is up, or fails the test with its log.
# Everything runs in the foreground of its own background process, never as
# a service: the Debian packages may have services of their own on default
# ports (nfcapd 2055, prometheus 9090), which we never touch.
#
# Registers no trap: the test's EXIT trap should call collectors_cleanup
# before removing $SCRATCH, e.g.
#	scratch
#	trap 'collectors_cleanup; rm -rf "$SCRATCH"' EXIT

COLLECTOR_WAIT=${COLLECTOR_WAIT:-10}	# seconds a start or a stop may take
COLLECTOR_NETNS=${COLLECTOR_NETNS:-}	# a network namespace to run them in
COLLECTOR_PIDS=()			# what we started and still run
NFCAPD_PID=""
NFCAPD_PORT=""
NFACCTD_PID=""
NFACCTD_PORT=""
PROMETHEUS_PID=""
LO_CAPTURE_PID=""
LO_CAPTURE_FILE=""

# _ns CMD...: CMD in $COLLECTOR_NETNS if set (its loopback is the one the
# exporter under test, in that namespace too, reaches), else here.
_ns() {
	if [ -n "$COLLECTOR_NETNS" ]; then
		nsenter --net=/run/netns/"$COLLECTOR_NETNS" "$@"
	else
		"$@"
	fi
}

# ---- ports ---------------------------------------------------------------

# Ports already handed out in this test live in a file: callers use
# $(free_udp_port), a subshell, which could not update a variable here.
_free_port() {
	local ss_opt=$1 p
	for _ in $(seq 100); do
		p=$((20000 + SRANDOM % 10000))
		grep -qx "$p" "$SCRATCH/.ports" 2>/dev/null && continue
		# Any socket on the port, listening or not, IPv4 or IPv6.
		[ -z "$(_ns ss -Hn "$ss_opt" "sport = :$p")" ] || continue
		echo "$p" >>"$SCRATCH/.ports"
		echo "$p"
		return 0
	done
	fail "no free port in 20000-29999"
}

# free_udp_port, free_tcp_port: print a random free port in 20000-29999.
free_udp_port() { _free_port -ua; }
free_tcp_port() { _free_port -ta; }

# ---- processes -------------------------------------------------------------

# collector_spawn NAME CMD...: run CMD in the background, output to
# $SCRATCH/NAME.log, its pid in SPAWNED_PID and ended by collectors_cleanup
# if still running then. Call it directly, not in $(...): the pid must be a
# child of the test's shell, to be waited for.
collector_spawn() {
	local name=$1
	shift
	# Without job control bash starts background commands with SIGINT
	# ignored, and python keeps it so: give CMD the default back, so that
	# SIGINT stops every collector gracefully.
	# nsenter enters a network namespace and execs CMD: the pid is CMD's.
	if [ -n "$COLLECTOR_NETNS" ]; then
		(trap - INT; exec nsenter --net=/run/netns/"$COLLECTOR_NETNS" "$@") \
			>"$SCRATCH/$name.log" 2>&1 &
	else
		(trap - INT; exec "$@") >"$SCRATCH/$name.log" 2>&1 &
	fi
	SPAWNED_PID=$!
	COLLECTOR_PIDS+=("$SPAWNED_PID")
}

_forget() {
	local p keep=()
	for p in "${COLLECTOR_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	COLLECTOR_PIDS=("${keep[@]}")
}

# _tree PID: PID and its descendants (nfacctd forks its plugins).
_tree() {
	local c
	echo "$1"
	for c in $(pgrep -P "$1"); do _tree "$c"; done
}

# _gone PIDS...: none of them runs any more. Not kill -0: it succeeds on a
# zombie, as our own child is until we wait for it.
_gone() {
	local p stat
	for p in "$@"; do
		stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		stat=${stat##*) }	# the state follows "(comm) "
		[ "${stat%% *}" = Z ] || return 1
	done
	return 0
}

# collector_stop NAME PID SIGNAL [SECONDS]: SIGNAL to PID (started by
# collector_spawn NAME), then wait for it and its children to exit; fails
# (after a SIGKILL) if they outlast SECONDS, or if it did not exit 0: a
# collector that failed may not have written everything.
collector_stop() {
	local name=$1 pid=$2 sig=$3 secs=${4:-$COLLECTOR_WAIT} tree rc=0
	mapfile -t tree < <(_tree "$pid")
	kill -"$sig" "$pid" 2>/dev/null || true
	for _ in $(seq $((secs * 10))); do
		_gone "${tree[@]}" && break
		sleep 0.1
	done
	if ! _gone "${tree[@]}"; then
		kill -KILL "${tree[@]}" 2>/dev/null
		wait "$pid" 2>/dev/null || true
		_forget "$pid"
		fail "$name did not stop within ${secs}s on SIG$sig: $(tail -20 "$SCRATCH/$name.log")"
	fi
	wait "$pid" || rc=$?
	_forget "$pid"
	[ $rc = 0 ] || fail "$name exited $rc: $(tail -20 "$SCRATCH/$name.log")"
}

# collector_wait_listen NAME PID udp|tcp PORT: until PID listens on PORT.
collector_wait_listen() {
	local name=$1 pid=$2 proto=$3 port=$4 opt=-Hnulp
	[ "$proto" = udp ] || opt=-Hntlp
	for _ in $(seq $((COLLECTOR_WAIT * 10))); do
		# Its own socket: not merely something else on the port.
		[[ $(_ns ss $opt "sport = :$port") == *"pid=$pid,"* ]] && return 0
		_gone "$pid" && break
		sleep 0.1
	done
	fail "$name is not listening on $proto $port: $(tail -20 "$SCRATCH/$name.log")"
}

# _drain NAME PORT: until the UDP socket on PORT has read all that came in.
# Collectors stop reading when told to stop: datagrams still queued then,
# sent just before, would be lost.
_drain() {
	local name=$1 port=$2
	for _ in $(seq $((COLLECTOR_WAIT * 10))); do
		# "UNCONN RECV-Q SEND-Q ...": nothing waits once Recv-Q is 0.
		[ "$(_ns ss -Hnul "sport = :$port" | awk '{ q += $2 } END { print q + 0 }')" = 0 ] &&
			return 0
		sleep 0.1
	done
	fail "$name did not read its queued datagrams on $port"
}

# collectors_cleanup: end whatever is still running: SIGINT, on which each
# of them (tcpdump, nfcapd, nfacctd, prometheus, python) ends gracefully,
# then SIGKILL after 2 s. For the test's EXIT trap: never fails, so that
# the trap goes on (under set -e) and the test's exit status stays.
collectors_cleanup() {
	local - p tree
	set +e
	for p in "${COLLECTOR_PIDS[@]}"; do
		mapfile -t tree < <(_tree "$p")
		kill -INT "$p" 2>/dev/null
		for _ in $(seq 20); do
			_gone "${tree[@]}" && break
			sleep 0.1
		done
		kill -KILL "${tree[@]}" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	COLLECTOR_PIDS=()
	return 0
}

# ---- tcpdump on loopback -------------------------------------------------

# lo_capture_start FILE FILTER...: tcpdump on lo (where the export goes)
# writing FILE, returns once it captures. --immediate-mode: every packet is
# written as it comes, so none is missing when we stop it right after; a
# 64 MiB buffer (-B, as capture_start's), since a burst of IPFIX messages
# outran the default one on a busy CI run.
lo_capture_start() {
	local file=$1
	shift
	[ -z "$LO_CAPTURE_PID" ] || fail "lo_capture_start: a capture is running"
	LO_CAPTURE_FILE=$file
	collector_spawn tcpdump tcpdump -i lo -n -U -B 65536 --immediate-mode -w "$file" "$@"
	LO_CAPTURE_PID=$SPAWNED_PID
	for _ in $(seq $((COLLECTOR_WAIT * 10))); do
		grep -q "listening on" "$SCRATCH/tcpdump.log" && return 0
		_gone "$LO_CAPTURE_PID" && break
		sleep 0.1
	done
	fail "tcpdump did not start: $(cat "$SCRATCH/tcpdump.log")"
}

# lo_capture_stop: ends the capture; fails if the kernel dropped packets.
lo_capture_stop() {
	sleep 0.2	# packets sent just now may still be on their way
	collector_stop tcpdump "$LO_CAPTURE_PID" INT
	LO_CAPTURE_PID=""
	grep -q "^0 packets dropped by kernel" "$SCRATCH/tcpdump.log" ||
		fail "tcpdump lost packets of $LO_CAPTURE_FILE: $(cat "$SCRATCH/tcpdump.log")"
}

# ---- nfcapd ----------------------------------------------------------------

# nfcapd_start PORT DIR [BIND_ADDR]: nfcapd on UDP PORT of BIND_ADDR
# (127.0.0.1, or ::1 for IPv6), writing its files under DIR. Read them with
# `nfdump -R DIR` or tests/checkers/check_ipfix.py nfdump DIR after nfcapd_stop.
nfcapd_start() {
	local port=$1 dir=$2 bind=${3:-127.0.0.1} family=-4
	[ -z "$NFCAPD_PID" ] || fail "nfcapd_start: nfcapd is running"
	case $bind in *:*) family=-6 ;; esac
	mkdir -p "$dir"
	# No -D: foreground, so that the pid is nfcapd's. Files rotate every
	# 300 s (-t); nfdump -R reads them all.
	collector_spawn nfcapd nfcapd "$family" -b "$bind" -p "$port" -w "$dir"
	NFCAPD_PID=$SPAWNED_PID
	NFCAPD_PORT=$port
	collector_wait_listen nfcapd "$NFCAPD_PID" udp "$port"
}

# nfcapd_stop: SIGTERM makes nfcapd write out its buffers and rename
# nfcapd.current.PID to its final name; then everything received is on disk.
nfcapd_stop() {
	_drain nfcapd "$NFCAPD_PORT"
	collector_stop nfcapd "$NFCAPD_PID" TERM
	NFCAPD_PID=""
}

# ---- nfacctd -----------------------------------------------------------------

# nfacctd_start PORT OUTFILE [BIND_ADDR]: pmacct's nfacctd on UDP PORT, one
# JSON line per flow key and refresh appended to OUTFILE, every second; sum
# them with tests/checkers/check_ipfix.py nfacctd OUTFILE, which knows these names.
nfacctd_start() {
	local port=$1 out=$2 bind=${3:-127.0.0.1} conf=$SCRATCH/nfacctd.$1.conf
	local prims=$SCRATCH/nfacctd.$1.primitives
	[ -z "$NFACCTD_PID" ] || fail "nfacctd_start: nfacctd is running"
	# pmacct has no primitive for the flow direction or ICMP type/code
	# (its ports are 0 for ICMP): custom ones take them from IEs 61, 32
	# and 139 as the exporter sent them.
	cat >"$prims" <<-EOF
	name=flow_dir	field_type=61	len=1	semantics=u_int
	name=icmp4	field_type=32	len=2	semantics=u_int
	name=icmp6	field_type=139	len=2	semantics=u_int
	EOF
	# The print plugin writes its cache each print_refresh_time and starts
	# anew: append, or each refresh would overwrite the last. The key holds
	# every element that can tell two records apart; "flows" counts them.
	cat >"$conf" <<-EOF
	daemonize: false
	nfacctd_ip: $bind
	nfacctd_port: $port
	aggregate_primitives: $prims
	plugins: print[flows]
	aggregate[flows]: src_host, dst_host, src_port, dst_port, proto, in_iface, out_iface, flow_dir, icmp4, icmp6, flows
	print_output[flows]: json
	print_num_protos[flows]: true
	print_output_file[flows]: $out
	print_output_file_append[flows]: true
	print_write_empty_file[flows]: true
	print_refresh_time[flows]: 1
	EOF
	collector_spawn nfacctd nfacctd -f "$conf"
	NFACCTD_PID=$SPAWNED_PID
	NFACCTD_PORT=$port
	collector_wait_listen nfacctd "$NFACCTD_PID" udp "$port"
}

# nfacctd_stop: SIGINT, pmacct's graceful stop: the core stops reading and
# the print plugin purges its cache to OUTFILE before they exit.
nfacctd_stop() {
	_drain nfacctd "$NFACCTD_PORT"
	collector_stop nfacctd "$NFACCTD_PID" INT
	NFACCTD_PID=""
}

# ---- prometheus --------------------------------------------------------------

# _http_get URL: print the body; non-zero on any error or a non-2xx answer.
_http_get() {
	_ns python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$1" 2>/dev/null
}

# prometheus_start PORT TARGET_HOSTPORT: prometheus scraping
# http://TARGET_HOSTPORT/metrics every second (job "target"), its web and API
# on 127.0.0.1:PORT, storage under $SCRATCH. Returns once /-/ready answers;
# the first scrape comes some 5 s later (prometheus hands new targets to the
# scraper at most every 5 s): wait for data with prom_wait.
prometheus_start() {
	local port=$1 target=$2 conf=$SCRATCH/prometheus.$1.yml
	[ -z "$PROMETHEUS_PID" ] || fail "prometheus_start: prometheus is running"
	cat >"$conf" <<-EOF
	global:
	  scrape_interval: 1s
	  scrape_timeout: 1s
	  evaluation_interval: 1s
	scrape_configs:
	  - job_name: target
	    static_configs:
	      - targets: ['$target']
	EOF
	collector_spawn prometheus prometheus --config.file="$conf" \
		--storage.tsdb.path="$SCRATCH/prometheus.$port" \
		--web.listen-address="127.0.0.1:$port"
	PROMETHEUS_PID=$SPAWNED_PID
	for _ in $(seq $((COLLECTOR_WAIT * 10))); do
		_http_get "http://127.0.0.1:$port/-/ready" >/dev/null && return 0
		_gone "$PROMETHEUS_PID" && break
		sleep 0.1
	done
	fail "prometheus not ready on $port: $(tail -20 "$SCRATCH/prometheus.log")"
}

# prometheus_stop: SIGTERM, its graceful stop (the unit allows it 20 s).
prometheus_stop() {
	collector_stop prometheus "$PROMETHEUS_PID" TERM 20
	PROMETHEUS_PID=""
}

# prom_query PORT 'EXPR': print the JSON answer of /api/v1/query for EXPR
# now; fails unless its status is "success".
prom_query() {
	local out
	out=$(_ns python3 -c 'import sys, urllib.error, urllib.parse, urllib.request
url = "http://127.0.0.1:%s/api/v1/query?%s" % (sys.argv[1],
      urllib.parse.urlencode({"query": sys.argv[2]}))
try:
    body = urllib.request.urlopen(url, timeout=5).read()
except urllib.error.HTTPError as e:
    body = e.read()     # a bad query answers 400 with the error in JSON
sys.stdout.write(body.decode())' "$1" "$2") || fail "prom_query $2: no answer from port $1"
	case $out in
	*'"status":"success"'*) echo "$out" ;;
	*) fail "prom_query $2: $out" ;;
	esac
}

# prom_wait PORT 'EXPR' [SECONDS]: prom_query until EXPR has a sample (the
# first scrapes take a while), then print that answer.
prom_wait() {
	local port=$1 expr=$2 secs=${3:-20} out
	for _ in $(seq $((secs * 5))); do
		# $(...) does not inherit set -e: check, or "" would pass below.
		out=$(prom_query "$port" "$expr") || fail "prom_wait: $expr"
		case $out in
		*'"result":[]'*) sleep 0.2 ;;
		*) echo "$out"; return 0 ;;
		esac
	done
	fail "prom_wait: no sample of $expr within ${secs}s"
}

# ---- checks ------------------------------------------------------------------

# ipfix_compare A B WHAT [ARGS...]: tests/checkers/check_ipfix.py compare A B ARGS,
# or fail with WHAT and the difference.
ipfix_compare() {
	local a=$1 b=$2 what=$3
	shift 3
	python3 tests/checkers/check_ipfix.py compare "$a" "$b" "$@" >"$SCRATCH/compare.json" ||
		fail "$what: $(cat "$SCRATCH/compare.json")"
}
