// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * drop_probe: the drop program (sock/flowacct_drop.bpf.c) on its own, to
 * see by hand what it makes of a known drop: UDP datagrams sent to a
 * closed port, which the kernel drops with SKB_DROP_REASON_NO_SOCKET.
 *
 *   drop_probe [--raw] [--wait MS] [--port PORT] [--entries N] IFINDEX COUNT ADDR
 *
 * Loads the BTF-typed tracepoint program (the raw one with --raw) for the
 * network namespace it runs in, watching interface IFINDEX only, sends
 * COUNT datagrams of 100 bytes from one socket to ADDR (IPv4 or IPv6) at
 * PORT (33434 unless given), waits MS ms (200) and prints as JSON the rows
 * of both epochs' tables and each stats key's counters summed over the
 * CPUs. The epoch map is the object's own, so every row is in drops_0,
 * which --entries sizes as user space does (the rest go to table_full).
 * Run it in a namespace of its own: it sees every drop of the host while
 * it runs, and counts those of other namespaces under key 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "flow_drop.h"
#include "flowacct_drop.skel.h"

#define PAYLOAD 100

static const char *const counter_names[] = {
#define COUNTER_NAME(id, name, kind) name,
	FLOW_DROP_COUNTERS(COUNTER_NAME)
#undef COUNTER_NAME
};

static const enum flow_drop_counter_kind counter_kinds[] = {
#define COUNTER_KIND(id, name, kind) kind,
	FLOW_DROP_COUNTERS(COUNTER_KIND)
#undef COUNTER_KIND
};

static struct btf *vmlinux;
static int reason_enum = -1;

/* The running kernel's enum skb_drop_reason, from its BTF. */
static void reasons_load(void)
{
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		fprintf(stderr, "drop_probe: no kernel BTF: %s\n", strerror(errno));
		return;
	}
	reason_enum = btf__find_by_name_kind(vmlinux, "skb_drop_reason", BTF_KIND_ENUM);
}

/* Its value named @name, or 0 if the kernel has none. */
static __u32 reason_value(const char *name)
{
	const struct btf_type *t;
	const struct btf_enum *e;
	int i;

	if (reason_enum < 0)
		return 0;
	t = btf__type_by_id(vmlinux, reason_enum);
	e = btf_enum(t);
	for (i = 0; i < btf_vlen(t); i++, e++)
		if (!strcmp(btf__name_by_offset(vmlinux, e->name_off), name))
			return e->val;
	return 0;
}

static const char *reason_name(__u32 value)
{
	const struct btf_type *t;
	const struct btf_enum *e;
	int i;

	if (reason_enum < 0)
		return "?";
	t = btf__type_by_id(vmlinux, reason_enum);
	e = btf_enum(t);
	for (i = 0; i < btf_vlen(t); i++, e++)
		if ((__u32)e->val == value)
			return btf__name_by_offset(vmlinux, e->name_off);
	return "?";
}

static const char *addr_str(const __u8 a[16], int ip_version, char *buf)
{
	if (ip_version == 4)
		return inet_ntop(AF_INET, a + 12, buf, INET6_ADDRSTRLEN);
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

/* COUNT datagrams to ADDR:PORT; the source port they left from, or -1. */
static int send_udp(const char *addr, int port, int count)
{
	struct sockaddr_storage to = {}, from = {};
	struct sockaddr_in *in4 = (struct sockaddr_in *)&to;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&to;
	socklen_t to_len, from_len = sizeof(from);
	char payload[PAYLOAD];
	int fd, i, sport;

	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		to_len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		to_len = sizeof(*in6);
	} else {
		fprintf(stderr, "drop_probe: not an address: %s\n", addr);
		return -1;
	}
	fd = socket(to.ss_family, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("drop_probe: socket");
		return -1;
	}
	memset(payload, 'x', sizeof(payload));
	for (i = 0; i < count; i++) {
		if (sendto(fd, payload, sizeof(payload), 0, (struct sockaddr *)&to,
			   to_len) != sizeof(payload)) {
			perror("drop_probe: sendto");
			close(fd);
			return -1;
		}
	}
	if (getsockname(fd, (struct sockaddr *)&from, &from_len)) {
		perror("drop_probe: getsockname");
		close(fd);
		return -1;
	}
	sport = ntohs(to.ss_family == AF_INET ? ((struct sockaddr_in *)&from)->sin_port :
						((struct sockaddr_in6 *)&from)->sin6_port);
	close(fd);
	return sport;
}

static void print_rows(int fd, int epoch, int *first)
{
	struct flow_drop_key key, next, *prev = NULL;
	struct flow_drop_value v;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue;
		printf("%s\n    {\"table\": %d, \"src\": \"%s\", \"dst\": \"%s\", "
		       "\"sport\": %u, \"dport\": %u, \"proto\": %u, \"ip_version\": %u, "
		       "\"ifindex\": %u, \"direction\": %u, \"pad\": %u, \"reason\": %u, "
		       "\"reason_name\": \"%s\", \"packets\": %llu, \"bytes\": %llu, "
		       "\"first_seen\": %u, \"last_seen\": %u}",
		       *first ? "" : ",", epoch, addr_str(key.src, key.ip_version, src),
		       addr_str(key.dst, key.ip_version, dst), ntohs(key.sport),
		       ntohs(key.dport), key.proto, key.ip_version, key.ifindex,
		       key.direction, key.pad, key.reason, reason_name(key.reason),
		       (unsigned long long)v.packets, (unsigned long long)v.bytes,
		       v.first_seen, v.last_seen);
		*first = 0;
	}
}

/* Each key's counters summed over the CPUs, and whether they balance. */
static int print_stats(int fd)
{
	int ncpu = libbpf_num_possible_cpus();
	struct flow_drop_stats *per_cpu;
	__u32 key, next, *prev = NULL;
	int first = 1, balanced = 1;

	if (ncpu <= 0)
		return 0;
	per_cpu = calloc(ncpu, sizeof(*per_cpu));
	if (!per_cpu)
		return 0;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct flow_drop_stats sum = {};
		__u64 parts = 0;
		int c, i;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, per_cpu))
			continue;
		for (i = 0; i < ncpu; i++)
			for (c = 0; c < FLOW_NR_DROP_COUNTERS; c++)
				sum.c[c] += per_cpu[i].c[c];
		printf("%s\n    {\"ifindex\": %u", first ? "" : ",", key);
		for (c = 0; c < FLOW_NR_DROP_COUNTERS; c++) {
			printf(", \"%s\": %llu", counter_names[c],
			       (unsigned long long)sum.c[c]);
			if (c == FLOW_DC_ATTRIBUTED || counter_kinds[c] == FLOW_DC_REASON)
				parts += sum.c[c];
		}
		printf(", \"balanced\": %s}", parts == sum.c[FLOW_DC_SEEN] ? "true" : "false");
		balanced &= parts == sum.c[FLOW_DC_SEEN];
		first = 0;
	}
	free(per_cpu);
	return balanced;
}

static void usage(void)
{
	fprintf(stderr, "usage: drop_probe [--raw] [--wait MS] [--port PORT] "
			"[--entries N] IFINDEX COUNT ADDR\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct timespec wait = { 0, 200 * 1000000L };
	struct bpf_prog_info info = {};
	__u32 info_len = sizeof(info);
	struct flowacct_drop_bpf *skel;
	int raw = 0, port = 33434, i = 1, err, sport, first = 1, balanced;
	__u32 entries = 0;
	__u32 ifindex, count;
	__u8 one = 1;
	struct stat ns;
	const char *addr;

	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--raw")) {
			raw = 1;
		} else if (!strcmp(argv[i], "--wait") && i + 1 < argc) {
			long ms = atol(argv[++i]);

			wait.tv_sec = ms / 1000;
			wait.tv_nsec = ms % 1000 * 1000000L;
		} else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
			port = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--entries") && i + 1 < argc) {
			entries = strtoul(argv[++i], NULL, 0);
		} else {
			usage();
		}
	}
	if (argc - i != 3)
		usage();
	ifindex = strtoul(argv[i], NULL, 0);
	count = strtoul(argv[i + 1], NULL, 0);
	addr = argv[i + 2];

	if (stat("/proc/self/ns/net", &ns)) {
		perror("drop_probe: /proc/self/ns/net");
		return 1;
	}
	reasons_load();

	skel = flowacct_drop_bpf__open();
	if (!skel) {
		fprintf(stderr, "drop_probe: open: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->drop_cfg.netns_ino = ns.st_ino;
	skel->rodata->drop_cfg.all = 0;
	skel->rodata->drop_cfg.packet_sock_reason = reason_value("SKB_DROP_REASON_PACKET_SOCK_ERROR");
	skel->rodata->drop_cfg.consumed_reason = reason_value("SKB_CONSUMED");
	if (entries && (bpf_map__set_max_entries(skel->maps.drops_0, entries) ||
			bpf_map__set_max_entries(skel->maps.drops_1, entries))) {
		fprintf(stderr, "drop_probe: --entries %u refused\n", entries);
		err = -EINVAL;
		goto out;
	}
	bpf_program__set_autoload(raw ? skel->progs.flowacct_drop_btf :
					skel->progs.flowacct_drop_raw, false);
	err = flowacct_drop_bpf__load(skel);
	if (err) {
		fprintf(stderr, "drop_probe: load: %s\n", strerror(-err));
		goto out;
	}
	err = bpf_map__update_elem(skel->maps.drop_watch, &ifindex, sizeof(ifindex),
				   &one, sizeof(one), BPF_ANY);
	if (err) {
		fprintf(stderr, "drop_probe: drop_watch: %s\n", strerror(-err));
		goto out;
	}
	err = flowacct_drop_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "drop_probe: attach: %s\n", strerror(-err));
		goto out;
	}

	sport = send_udp(addr, port, count);
	if (sport < 0) {
		err = -1;
		goto out;
	}
	nanosleep(&wait, NULL);
	/* Stop counting before reading, so that the rows and books agree. */
	flowacct_drop_bpf__detach(skel);
	if (bpf_obj_get_info_by_fd(bpf_program__fd(raw ? skel->progs.flowacct_drop_raw :
							  skel->progs.flowacct_drop_btf),
				   &info, &info_len))
		memset(&info, 0, sizeof(info));

	printf("{\n  \"program\": \"%s\", \"verified_insns\": %u, \"netns_ino\": %llu, "
	       "\"packet_sock_reason\": %u, \"consumed_reason\": %u,\n"
	       "  \"sent\": {\"count\": %u, \"bytes\": %d, \"dst\": \"%s\", "
	       "\"sport\": %d, \"dport\": %d},\n  \"rows\": [",
	       raw ? "raw_tp" : "tp_btf", info.verified_insns, (unsigned long long)ns.st_ino,
	       skel->rodata->drop_cfg.packet_sock_reason,
	       skel->rodata->drop_cfg.consumed_reason, count, PAYLOAD, addr, sport, port);
	print_rows(bpf_map__fd(skel->maps.drops_0), 0, &first);
	print_rows(bpf_map__fd(skel->maps.drops_1), 1, &first);
	printf("\n  ],\n  \"stats\": [");
	balanced = print_stats(bpf_map__fd(skel->maps.drop_stats));
	printf("\n  ],\n  \"balanced\": %s\n}\n", balanced ? "true" : "false");
	err = balanced ? 0 : 1;
out:
	flowacct_drop_bpf__destroy(skel);
	btf__free(vmlinux);
	return err ? 1 : 0;
}
