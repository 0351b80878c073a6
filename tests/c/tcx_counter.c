// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tcx_counter: a program that counts the packets it sees on one TCX hook
 * and lets them go on (TCX_NEXT), placed before or after a given program
 * with a raw BPF_LINK_CREATE, to show where flowacct's programs run among
 * others' and that they let the others run.
 *
 *   tcx_counter IFNAME ingress|egress before|after|last PROG_ID [LEN]
 *
 * before/after: next to the program with id PROG_ID (BPF_F_BEFORE or
 * BPF_F_AFTER with BPF_F_ID); last: at the end (PROG_ID 0). Once attached
 * it prints "attached PROG_ID LINK_ID" and holds the link; on SIGTERM, or
 * when its standard input ends, it prints the count and exits (the link
 * goes with it). With LEN, only packets of that skb->len are counted (a
 * size the test's sender alone sends: TC sees the Ethernet header on both
 * sides, so LEN is 14 + the IP packet's length). The program is a dozen
 * instructions, built here: an array map's one counter, added to
 * atomically.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "tcx.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

#define INSN(c, d, s, o, i) \
	{ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) }

static int load(int map_fd, __u32 len)
{
	const struct bpf_insn insns[] = {
		/* if (len && skb->len != len) return TCX_NEXT (9 slots on) */
		INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0),
		len ? (struct bpf_insn)INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 9, len) :
		      (struct bpf_insn)INSN(BPF_JMP | BPF_JA, 0, 0, 0, 0),
		/* key = 0; r0 = bpf_map_lookup_elem(map, &key) */
		INSN(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4),
		INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map_fd),
		INSN(0, 0, 0, 0, 0),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
		/* if (r0) __sync_fetch_and_add((__u64 *)r0, 1) */
		INSN(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 2, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1),
		INSN(BPF_STX | BPF_DW | BPF_ATOMIC, BPF_REG_0, BPF_REG_1, 0, BPF_ADD),
		/* return TCX_NEXT */
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, FA_TCX_NEXT),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	char log[4096] = "";
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = sizeof(log),
		    .log_level = 1);
	int fd;

	fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "tcx_counter", "GPL", insns,
			   sizeof(insns) / sizeof(insns[0]), &opts);
	if (fd < 0)
		fprintf(stderr, "tcx_counter: load: %s\n%s", strerror(errno), log);
	return fd;
}

int main(int argc, char **argv)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info), zero = 0, flags = 0, rel, pkt_len = 0;
	struct pollfd p = { .fd = 0, .events = POLLIN };
	int ifindex, map_fd, prog_fd, link_fd;
	__u64 count = 0;
	char buf[256];
	bool egress;

	if (argc == 6)
		pkt_len = strtoul(argv[5], NULL, 10);
	if (argc < 5 || argc > 6 || (strcmp(argv[2], "ingress") && strcmp(argv[2], "egress"))) {
		fprintf(stderr, "usage: tcx_counter IFNAME ingress|egress before|after|last PROG_ID [LEN]\n");
		return 2;
	}
	egress = !strcmp(argv[2], "egress");
	rel = strtoul(argv[4], NULL, 10);
	if (!strcmp(argv[3], "before"))
		flags = FA_BPF_F_BEFORE | FA_BPF_F_ID;
	else if (!strcmp(argv[3], "after"))
		flags = FA_BPF_F_AFTER | FA_BPF_F_ID;
	else if (strcmp(argv[3], "last") || rel) {
		fprintf(stderr, "tcx_counter: before, after, or last with 0\n");
		return 2;
	}
	ifindex = if_nametoindex(argv[1]);
	if (!ifindex) {
		fprintf(stderr, "tcx_counter: no interface '%s'\n", argv[1]);
		return 1;
	}
	map_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "tcx_count", 4, 8, 1, NULL);
	if (map_fd < 0) {
		fprintf(stderr, "tcx_counter: map: %s\n", strerror(errno));
		return 1;
	}
	prog_fd = load(map_fd, pkt_len);
	if (prog_fd < 0)
		return 1;
	link_fd = fa_tcx_link_create(prog_fd, ifindex, egress, flags, rel);
	if (link_fd < 0) {
		fprintf(stderr, "tcx_counter: link on '%s' %s %s %u: %s\n", argv[1],
			argv[2], argv[3], rel, strerror(-link_fd));
		return 1;
	}
	if (bpf_obj_get_info_by_fd(link_fd, &info, &len)) {
		fprintf(stderr, "tcx_counter: link info: %s\n", strerror(errno));
		return 1;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	printf("attached %u %u\n", info.prog_id, info.id);
	fflush(stdout);
	while (!stop) {
		/* Standard input ending (or a closed one) also stops it. */
		if (poll(&p, 1, 200) > 0 && read(0, buf, sizeof(buf)) <= 0)
			break;
	}
	if (bpf_map_lookup_elem(map_fd, &zero, &count)) {
		fprintf(stderr, "tcx_counter: read: %s\n", strerror(errno));
		return 1;
	}
	printf("%llu\n", (unsigned long long)count);
	return 0;
}
