/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef FLOWACCT_TCFILTER_H
#define FLOWACCT_TCFILTER_H

#include <stdbool.h>
#include <sys/types.h>
#include <linux/types.h>

struct tc_filter_info {
	__u32 handle;
	__u32 priority;
	__u32 prog_id;	/* 0 unless a BPF filter */
	bool is_bpf;
};

int tc_filters_list(int ifindex, bool egress, struct tc_filter_info *out,
		    int max, int *count);

int tc_clsact_exists(int ifindex);

struct nlmsghdr;
/*
 * Sends one RTM_GET* dump request and calls @cb on each answer of @type.
 * An error answer of -EINVAL or -ENOENT (no clsact, no such device side)
 * ends the dump with nothing found rather than an error.
 */
/* A netlink request on @fd (sendmsg: see tcfilter.c). */
ssize_t fa_nl_send(int fd, const void *buf, size_t len);
int fa_rtnl_dump(void *req, __u32 len, __u16 type,
		 void (*cb)(struct nlmsghdr *h, void *arg), void *arg);

#endif
