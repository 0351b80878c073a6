/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * TCX (Linux 6.6+): BPF programs on an interface's ingress and egress,
 * attached through links in an ordered list, without a qdisc. Debian 12's
 * headers (Linux 6.1) and libbpf 1.1 know none of it: the constants and the
 * two system calls' layouts are here, from the kernel's UAPI
 * (include/uapi/linux/bpf.h), and the calls are made raw. lib only; the
 * tests' tcx_query and tcx_counter use it too.
 */
#ifndef FLOWACCT_TCX_H
#define FLOWACCT_TCX_H

#include <stdbool.h>
#include <linux/types.h>

/* enum bpf_attach_type: libbpf 1.1's bpf_link_create() passes them through. */
#define FA_BPF_TCX_INGRESS	46
#define FA_BPF_TCX_EGRESS	47
/* The placement flags of BPF_LINK_CREATE (and BPF_PROG_ATTACH). */
#define FA_BPF_F_BEFORE		(1U << 3)
#define FA_BPF_F_AFTER		(1U << 4)
#define FA_BPF_F_ID		(1U << 5)	/* relative is an id, not an fd */
#define FA_BPF_F_LINK		(1U << 13)	/* relative is a link, not a program */
/* What a TCX program returns to let the next one (and clsact) run. */
#define FA_TCX_NEXT		(-1)

/* The most programs one TCX hook holds (the kernel's BPF_MPROG_MAX). */
#define FA_TCX_MAX		64

struct fa_tcx_entry {
	__u32 prog_id;
	__u32 link_id;		/* 0: attached without a link (BPF_PROG_ATTACH) */
};

/*
 * The programs on @ifindex's TCX @egress side, in the order they run:
 * BPF_PROG_QUERY. Return: how many (up to @max in @out), or -errno:
 * -EINVAL from a kernel without TCX.
 */
int fa_tcx_query(int ifindex, bool egress, struct fa_tcx_entry *out, int max);

/* Whether the kernel has TCX: it answers the query on @ifindex. */
bool fa_tcx_supported(int ifindex);

/*
 * A TCX link of @prog_fd on @ifindex: last, or, with FA_BPF_F_BEFORE or
 * FA_BPF_F_AFTER in @flags, next to the program (or, with FA_BPF_F_LINK,
 * link) @relative (an fd, or an id with FA_BPF_F_ID). Return: the link's fd,
 * or -errno.
 */
int fa_tcx_link_create(int prog_fd, int ifindex, bool egress, __u32 flags,
		       __u32 relative);

#endif
