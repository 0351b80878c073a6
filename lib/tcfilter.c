// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Lists the tc filters on one clsact direction with an RTM_GETTFILTER dump.
 * libbpf's TC API attaches, queries and detaches one filter it already knows
 * the handle and priority of; detach also needs to find a filter a killed
 * attach never recorded, and to know whether anyone else still uses clsact.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcfilter.h"

static void parse_bpf_options(struct rtattr *opts, struct tc_filter_info *fi)
{
	int len = RTA_PAYLOAD(opts);
	struct rtattr *a;

	for (a = RTA_DATA(opts); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == TCA_BPF_ID && RTA_PAYLOAD(a) >= sizeof(__u32))
			memcpy(&fi->prog_id, RTA_DATA(a), sizeof(__u32));
}

static void parse_filter(struct nlmsghdr *h, struct tc_filter_info *fi)
{
	struct tcmsg *t = NLMSG_DATA(h);
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*t));
	struct rtattr *a;

	memset(fi, 0, sizeof(*fi));
	fi->handle = t->tcm_handle;
	fi->priority = TC_H_MAJ(t->tcm_info) >> 16;
	for (a = (struct rtattr *)((char *)t + NLMSG_ALIGN(sizeof(*t)));
	     RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == TCA_KIND)
			fi->is_bpf = !strcmp(RTA_DATA(a), "bpf");
		else if (a->rta_type == TCA_OPTIONS)
			parse_bpf_options(a, fi);
	}
	if (!fi->is_bpf)
		fi->prog_id = 0;
}

/* See tcfilter.h. */
/*
 * A netlink request, by sendmsg(2): sendto(2) stays the exports' own, so
 * that a fault injected at the Nth sendto is the Nth message sent to a
 * collector, however many lookups (links, namespaces, containers) a tick
 * makes (test_export_restart counts them so).
 */
ssize_t fa_nl_send(int fd, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	return sendmsg(fd, &msg, 0);
}

int fa_rtnl_dump(void *req, __u32 len, __u16 type,
		   void (*cb)(struct nlmsghdr *h, void *arg), void *arg)
{
	char buf[16384] __attribute__((aligned(4)));
	struct nlmsghdr *h;
	int fd, n, err = 0;
	bool done = false;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (fa_nl_send(fd, req, len) < 0) {
		err = -errno;
		goto out;
	}
	while (!done) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			err = -errno;
			break;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned int)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				if (e->error != -EINVAL && e->error != -ENOENT)
					err = e->error;
				done = true;
				break;
			}
			if (h->nlmsg_type == type)
				cb(h, arg);
		}
	}
out:
	close(fd);
	return err;
}

struct filter_list {
	struct tc_filter_info *out;
	int max;
	int *count;
};

static void on_filter(struct nlmsghdr *h, void *arg)
{
	struct filter_list *l = arg;
	struct tc_filter_info fi;

	parse_filter(h, &fi);
	/* The dump lists each priority's classifier itself with handle 0,
	 * then its filters: count only filters. */
	if (!fi.handle)
		return;
	if (*l->count < l->max)
		l->out[*l->count] = fi;
	(*l->count)++;
}

/**
 * tc_filters_list - the filters on @ifindex's clsact @egress or ingress side
 * @out: up to @max filters; @count: how many there are (may exceed @max)
 *
 * A missing clsact qdisc is no error: it has no filters. Returns 0 or -errno.
 */
int tc_filters_list(int ifindex, bool egress, struct tc_filter_info *out,
		    int max, int *count)
{
	struct {
		struct nlmsghdr n;
		struct tcmsg t;
	} req = {
		.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
		.n.nlmsg_type = RTM_GETTFILTER,
		.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.n.nlmsg_seq = 1,
		.t.tcm_family = AF_UNSPEC,
		.t.tcm_ifindex = ifindex,
		.t.tcm_parent = TC_H_MAKE(TC_H_CLSACT, egress ? TC_H_MIN_EGRESS :
							      TC_H_MIN_INGRESS),
	};
	struct filter_list l = { out, max, count };

	*count = 0;
	return fa_rtnl_dump(&req, req.n.nlmsg_len, RTM_NEWTFILTER, on_filter, &l);
}

struct qdisc_find {
	int ifindex;
	bool found;
};

static void on_qdisc(struct nlmsghdr *h, void *arg)
{
	struct qdisc_find *q = arg;
	struct tcmsg *t = NLMSG_DATA(h);
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*t));
	struct rtattr *a;

	if (t->tcm_ifindex != q->ifindex || t->tcm_parent != TC_H_CLSACT)
		return;
	for (a = (struct rtattr *)((char *)t + NLMSG_ALIGN(sizeof(*t)));
	     RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == TCA_KIND && !strcmp(RTA_DATA(a), "clsact"))
			q->found = true;
}

/* Whether @ifindex has a clsact qdisc. Returns 1, 0, or -errno. */
int tc_clsact_exists(int ifindex)
{
	struct {
		struct nlmsghdr n;
		struct tcmsg t;
	} req = {
		.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
		.n.nlmsg_type = RTM_GETQDISC,
		.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.n.nlmsg_seq = 1,
		.t.tcm_family = AF_UNSPEC,
		.t.tcm_ifindex = ifindex,
	};
	struct qdisc_find q = { .ifindex = ifindex };
	int err;

	err = fa_rtnl_dump(&req, req.n.nlmsg_len, RTM_NEWQDISC, on_qdisc, &q);
	return err ? err : q.found;
}
