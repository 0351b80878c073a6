// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tcx_query: the programs on one TCX hook of an interface, in the order they
 * run, because Debian 12's bpftool (7.1) predates TCX and shows none.
 *
 *   tcx_query IFINDEX|IFNAME ingress|egress
 *
 * One line a program: "PROG_ID LINK_ID NAME" (LINK_ID 0: attached without a
 * link). Nothing when the hook is empty. Exits 1 when the query fails
 * (no such interface, a kernel without TCX), with the reason on stderr.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "tcx.h"

static void prog_name(__u32 id, char *name, size_t len)
{
	struct bpf_prog_info info = {};
	__u32 info_len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	snprintf(name, len, "?");
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &info_len))
		snprintf(name, len, "%s", info.name);
	close(fd);
}

int main(int argc, char **argv)
{
	struct fa_tcx_entry t[FA_TCX_MAX];
	char name[BPF_OBJ_NAME_LEN], *end;
	int ifindex, n, i;
	bool egress;

	if (argc != 3 || (strcmp(argv[2], "ingress") && strcmp(argv[2], "egress"))) {
		fprintf(stderr, "usage: tcx_query IFINDEX|IFNAME ingress|egress\n");
		return 2;
	}
	egress = !strcmp(argv[2], "egress");
	ifindex = strtol(argv[1], &end, 10);
	if (*end || !ifindex)
		ifindex = if_nametoindex(argv[1]);
	if (!ifindex) {
		fprintf(stderr, "tcx_query: no interface '%s'\n", argv[1]);
		return 1;
	}
	n = fa_tcx_query(ifindex, egress, t, FA_TCX_MAX);
	if (n < 0) {
		fprintf(stderr, "tcx_query: BPF_PROG_QUERY on '%s' %s: %s\n", argv[1],
			argv[2], strerror(-n));
		return 1;
	}
	for (i = 0; i < n; i++) {
		prog_name(t[i].prog_id, name, sizeof(name));
		printf("%u %u %s\n", t[i].prog_id, t[i].link_id, name);
	}
	return 0;
}
