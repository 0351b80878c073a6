#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Installs what flowacct needs to build, test and demo, from Debian 12's own
# packages. Idempotent: installs only what is missing, and says nothing when
# nothing is. Run as root (make deps, make test and make demo call it).

set -euo pipefail

PACKAGES=(
	# build
	make gcc libc6-dev pkg-config
	clang llvm clang-19		# BPF: clang 14 (default) and 19
	linux-libc-dev			# UAPI headers the BPF programs parse with
	libbpf-dev libxdp-dev libpcap-dev libelf-dev zlib1g-dev
	libmicrohttpd-dev libncurses-dev	# /metrics, flowacct top
	libjson-c-dev			# the container runtimes' files
	libnetfilter-conntrack-dev	# a container's flows through NAT
	bpftool				# skeletons and object linking
	# run
	iproute2 xdp-tools ethtool
	iputils-ping util-linux		# ping; nsenter, setpriv
	# tests
	python3 tcpdump tshark iperf3 socat
	netsniff-ng softflowd linux-perf	# bench: trafgen, a user-space peer, profiles
	nfdump pmacct prometheus	# collectors the exports are checked with
	strace tmux systemd		# kill-injection, top in a terminal, unit checks
	groff-base man-db		# the man page: groff -ww -z -man, man --warnings -l
	podman runc busybox-static	# real containers (an image made locally)
	nftables			# NAT in a test namespace
	postgresql-15			# the fleet test: pmacct's nfacctd into PostgreSQL
)

missing=()
for p in "${PACKAGES[@]}"; do
	[[ $p == \#* ]] && continue
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "scripts/deps.sh: missing packages (${missing[*]}); run as root to install them" >&2
	exit 1
fi
echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
