// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * TCX's two system calls, raw, in the layouts of the kernel's UAPI: see
 * tcx.h for why.
 */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "tcx.h"

/* union bpf_attr's link_create as Linux 6.6 has it, tcx member. */
struct tcx_link_create_attr {
	__u32 prog_fd;
	__u32 target_ifindex;
	__u32 attach_type;
	__u32 flags;
	__u32 relative;		/* relative_fd or relative_id */
	__u32 pad;
	__u64 expected_revision;	/* 0: any */
};

/* union bpf_attr's query as Linux 6.6 has it. */
struct tcx_query_attr {
	__u32 target_ifindex;
	__u32 attach_type;
	__u32 query_flags;
	__u32 attach_flags;
	__u64 prog_ids;
	__u32 count;
	__u32 pad;
	__u64 prog_attach_flags;
	__u64 link_ids;
	__u64 link_attach_flags;
	__u64 revision;
};

static int sys_bpf(int cmd, void *attr, unsigned int size)
{
	return syscall(__NR_bpf, cmd, attr, size);
}

static __u32 attach_type(bool egress)
{
	return egress ? FA_BPF_TCX_EGRESS : FA_BPF_TCX_INGRESS;
}

int fa_tcx_query(int ifindex, bool egress, struct fa_tcx_entry *out, int max)
{
	__u32 progs[FA_TCX_MAX], links[FA_TCX_MAX];
	struct tcx_query_attr a;
	int i;

	memset(&a, 0, sizeof(a));
	a.target_ifindex = ifindex;
	a.attach_type = attach_type(egress);
	a.prog_ids = (__u64)(unsigned long)progs;
	a.link_ids = (__u64)(unsigned long)links;
	a.count = FA_TCX_MAX;
	if (sys_bpf(BPF_PROG_QUERY, &a, sizeof(a)))
		return -errno;
	for (i = 0; i < (int)a.count && i < max && i < FA_TCX_MAX; i++) {
		out[i].prog_id = progs[i];
		out[i].link_id = links[i];
	}
	return a.count < FA_TCX_MAX ? (int)a.count : FA_TCX_MAX;
}

bool fa_tcx_supported(int ifindex)
{
	struct fa_tcx_entry e[1];

	return fa_tcx_query(ifindex, true, e, 0) >= 0;
}

int fa_tcx_link_create(int prog_fd, int ifindex, bool egress, __u32 flags,
		       __u32 relative)
{
	struct tcx_link_create_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_fd = prog_fd;
	a.target_ifindex = ifindex;
	a.attach_type = attach_type(egress);
	a.flags = flags;
	a.relative = relative;
	fd = sys_bpf(BPF_LINK_CREATE, &a, sizeof(a));
	return fd < 0 ? -errno : fd;
}
