// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The interfaces of this network namespace as they come and go: an
 * rtnetlink socket subscribed to link events (RTM_NEWLINK, RTM_DELLINK), a
 * full link dump to start from and to start over from when the kernel had
 * to drop events (ENOBUFS), and the rule that says which interfaces a
 * daemon wants. No polling: the daemon's loop reads the socket when the
 * kernel has something to say.
 */
#include <errno.h>
#include <fnmatch.h>
#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "tcfilter.h"

/*
 * Room for a burst of events: 500 containers started at once make about
 * 2,000 messages of about 1.5 kB. Past it the kernel drops them and says
 * ENOBUFS, and we start over from a dump, which loses nothing but time.
 */
#define WATCH_RCVBUF (4 << 20)

static bool parse_link(struct nlmsghdr *h, struct fa_link *l)
{
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
	struct rtattr *a;

	if (len < 0)
		return false;
	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	l->new_nsid = -1;
	l->link_nsid = -1;
	for (a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_IFNAME) {
			snprintf(l->name, sizeof(l->name), "%.*s",
				 (int)RTA_PAYLOAD(a), (const char *)RTA_DATA(a));
		} else if (a->rta_type == IFLA_NEW_NETNSID && RTA_PAYLOAD(a) >= sizeof(__s32)) {
			/* Only a move's RTM_DELLINK says where the device went. */
			l->moved = true;
			l->new_nsid = *(__s32 *)RTA_DATA(a);
		} else if (a->rta_type == IFLA_LINK_NETNSID && RTA_PAYLOAD(a) >= sizeof(__s32)) {
			l->link_nsid = *(__s32 *)RTA_DATA(a);
		} else if (a->rta_type == IFLA_NEW_IFINDEX && RTA_PAYLOAD(a) >= sizeof(__s32)) {
			l->moved = true;
			l->new_ifindex = *(__s32 *)RTA_DATA(a);
		}
	}
	return l->ifindex > 0 && l->name[0];
}

struct link_list {
	struct fa_link *l;
	size_t n, cap;
	int err;
};

static void on_link(struct nlmsghdr *h, void *arg)
{
	struct link_list *ll = arg;
	struct fa_link *grown;

	if (ll->err)
		return;
	if (ll->n == ll->cap) {
		ll->cap = ll->cap ? 2 * ll->cap : 64;
		grown = realloc(ll->l, ll->cap * sizeof(*ll->l));
		if (!grown) {
			ll->err = -ENOMEM;
			return;
		}
		ll->l = grown;
	}
	if (parse_link(h, &ll->l[ll->n]))
		ll->n++;
}

int fa_links_list(struct fa_link **list, size_t *n)
{
	struct {
		struct nlmsghdr n;
		struct ifinfomsg i;
	} req = {
		.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		.n.nlmsg_type = RTM_GETLINK,
		.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.n.nlmsg_seq = 1,
		.i.ifi_family = AF_UNSPEC,
	};
	struct link_list ll = {};
	int err;

	err = fa_rtnl_dump(&req, req.n.nlmsg_len, RTM_NEWLINK, on_link, &ll);
	if (!err)
		err = ll.err;
	if (err) {
		free(ll.l);
		return err;
	}
	*list = ll.l;
	*n = ll.n;
	return 0;
}

int fa_ifwatch_open(int rcvbuf)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int fd, sz = rcvbuf ? rcvbuf : WATCH_RCVBUF;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	/* FORCE: past rmem_max, which is a host's tuning, not ours to need. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/*
 * After ENOBUFS, what is queued is older than the dump the caller reads
 * next: thrown away, and at once. A netlink socket the kernel found full
 * is marked congested, and until its queue is empty again every event is
 * dropped, even with room, and without another ENOBUFS: the interfaces
 * made while the daemon takes those of the dump would be lost unsaid.
 */
static void drain(int fd, char *buf, size_t len)
{
	int i;

	/* Bounded: a host making interfaces without end still gets its dump. */
	for (i = 0; i < 65536; i++)
		if (recv(fd, buf, len, 0) < 0 && errno != EINTR && errno != ENOBUFS)
			return;
}

int fa_ifwatch_read(int fd, fa_link_fn *fn, void *ctx)
{
	char buf[32768] __attribute__((aligned(4)));
	struct nlmsghdr *h;
	struct fa_link l;
	int n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == ENOBUFS) {
			drain(fd, buf, sizeof(buf));
			return -ENOBUFS;
		}
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned int)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK)
				continue;
			if (!parse_link(h, &l))
				continue;
			fn(ctx, h->nlmsg_type == RTM_NEWLINK ? FA_LINK_NEW : FA_LINK_DEL, &l);
		}
	}
}

static bool any_match(const char *const *globs, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!fnmatch(globs[i], name, 0))
			return true;
	return false;
}

bool fa_iface_named(const struct fa_iface_match *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nnames; i++)
		if (!strcmp(m->names[i], name))
			return true;
	return false;
}

bool fa_iface_wanted(const struct fa_iface_match *m, const struct fa_link *l)
{
	if (fa_iface_named(m, l->name))
		return true;
	if (any_match(m->exclude, m->nexclude, l->name))
		return false;
	if (m->all && !(l->flags & IFF_LOOPBACK))
		return true;
	return any_match(m->globs, m->nglobs, l->name);
}
