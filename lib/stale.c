// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Which attachments are stale: bpffs is host-wide, so the pins of an
 * interface outlive its network namespace, the interface itself, or an
 * attach killed half-way, and nothing else ever frees what they hold.
 *
 * A network namespace is alive while something holds it: a process in it
 * (/proc/PID/ns/net), an open fd on it (/proc/PID/fd/N reads "net:[INO]"),
 * or an nsfs bind mount (/run/netns/NAME) in our mount namespace
 * (/proc/self/mountinfo). Two things also hold one and are not seen here: a
 * socket's reference alone (a socket whose process moved to another
 * namespace), and a bind mount in another mount namespace. Such a namespace
 * looks dead; the attachment's pins are what is left to it all the same
 * (no process with our lock can be using them), and a verdict is acted on
 * only while no process holds the attachment's lock (attach, detach or a
 * daemon), which fa_stale_why() checks first. Threads other than a
 * process's first are not looked at either: a thread that entered a
 * namespace alone does not keep it alive here.
 *
 * Inode numbers of namespaces are reused within minutes: where the record
 * and the kernel know the namespace's cookie (never reused), a namespace
 * found by the inode counts only if its cookie is the record's.
 *
 * The interface is looked up inside its namespace by a short-lived thread
 * that enters it with setns(2) and ends there: the process's other threads
 * never leave their own.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "attach.h"
#include "internal.h"
#include "tcfilter.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71	/* Linux 5.14; not in Debian 12's glibc headers */
#endif

const char *fa_stale_why_name(int why)
{
	switch (why) {
	case FA_STALE_NETNS_GONE:	return "netns-gone";
	case FA_STALE_IFACE_GONE:	return "iface-gone";
	case FA_STALE_HALF_MADE:	return "half-made";
	}
	return NULL;
}

/* ---- what a namespace holds, seen from inside it ------------------------------ */

struct netns_probe {
	int nsfd;
	const struct fa_attach_state *st;	/* NULL: the cookie only */
	int err;
	__u64 cookie;		/* 0: the kernel does not say */
	bool iface;		/* st->ifindex names a device there */
	char name[IF_NAMESIZE];
	struct fa_live live;
};

static void *probe_thread(void *arg)
{
	struct netns_probe *p = arg;
	socklen_t len = sizeof(p->cookie);
	int fd;

	/* This thread only, and it ends here. */
	if (setns(p->nsfd, CLONE_NEWNET)) {
		p->err = -errno;
		return NULL;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &p->cookie, &len))
			p->cookie = 0;
		close(fd);
	}
	if (!p->st)
		return NULL;
	p->iface = if_indextoname(p->st->ifindex, p->name) != NULL;
	if (p->iface)
		fa_attach_live(p->st, &p->live);
	return NULL;
}

static int netns_probe_run(struct netns_probe *p)
{
	pthread_t t;
	int err;

	err = pthread_create(&t, NULL, probe_thread, p);
	if (err)
		return -err;
	pthread_join(t, NULL);
	return p->err;
}

/* ---- who holds a namespace ------------------------------------------------------ */

/* Opens @path if it is the namespace of inode @ino: its fd, or -1. */
static int open_if_ino(const char *path, __u64 ino)
{
	struct stat st;
	int fd;

	if (stat(path, &st) || st.st_ino != ino)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* It may have changed between the two. */
	if (fstat(fd, &st) || st.st_ino != ino) {
		close(fd);
		return -1;
	}
	return fd;
}

/* mountinfo's octal escapes (\040 for a space) undone in place. */
static void unescape(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

static bool is_pid(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/*
 * Every living network namespace we can see, and a path that holds each:
 * read once for a whole list (a dead namespace is only known dead after
 * every fd of every process was looked at).
 */
struct ns_holder {
	__u64 ino;
	char *path;
};

struct fa_netns_set {
	struct ns_holder *v;
	size_t n;
};

static int set_add(struct fa_netns_set *s, __u64 ino, const char *path)
{
	struct ns_holder *grown;

	grown = realloc(s->v, (s->n + 1) * sizeof(*s->v));
	if (!grown)
		return -ENOMEM;
	s->v = grown;
	s->v[s->n].ino = ino;
	s->v[s->n].path = strdup(path);
	if (!s->v[s->n].path)
		return -ENOMEM;
	s->n++;
	return 0;
}

/* "net:[INO]": INO, or 0. */
static __u64 nsfs_ino(const char *link)
{
	unsigned long long ino;

	return sscanf(link, "net:[%llu]", &ino) == 1 ? ino : 0;
}

static int add_bind_mounts(struct fa_netns_set *s)
{
	char line[4096], root[64], mnt[PATH_MAX];
	int err = 0;
	__u64 ino;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return 0;
	while (!err && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*d %*d %*s %63s %4095s", root, mnt) != 2)
			continue;
		ino = nsfs_ino(root);
		if (!ino)
			continue;
		unescape(mnt);
		err = set_add(s, ino, mnt);
	}
	fclose(f);
	return err;
}

/*
 * A process's namespace, and the namespaces its open fds are: "net:[INO]",
 * or, opened through a bind mount, that mount's path (which may be gone):
 * then only the fd's device, nsfs's, says it is a namespace (and any other
 * kind's inode number differs from every network namespace's).
 */
static int add_process(struct fa_netns_set *s, const char *pid, dev_t nsfs)
{
	char path[PATH_MAX], link[PATH_MAX];
	struct dirent *de;
	struct stat st;
	ssize_t n;
	int err = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%s/ns/net", pid);
	if (!stat(path, &st))
		err = set_add(s, st.st_ino, path);
	snprintf(path, sizeof(path), "/proc/%s/fd", pid);
	d = opendir(path);
	if (!d)
		return err;
	while (!err && (de = readdir(d))) {
		snprintf(path, sizeof(path), "/proc/%s/fd/%s", pid, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (nsfs_ino(link))
			err = set_add(s, nsfs_ino(link), path);
		else if (link[0] == '/' && !stat(path, &st) && st.st_dev == nsfs)
			err = set_add(s, st.st_ino, path);
	}
	closedir(d);
	return err;
}

static int cmp_holders(const void *a, const void *b)
{
	const struct ns_holder *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

void fa_netns_set_free(struct fa_netns_set *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		free(s->v[i].path);
	free(s->v);
	free(s);
}

struct fa_netns_set *fa_netns_set_new(void)
{
	struct fa_netns_set *s = calloc(1, sizeof(*s));
	struct dirent *de;
	struct stat self;
	int err;
	DIR *d;

	if (!s)
		return NULL;
	if (stat("/proc/self/ns/net", &self)) {
		free(s);
		return NULL;
	}
	/* Bind mounts first: a path that lasts, where a process may exit. */
	err = add_bind_mounts(s);
	d = opendir("/proc");
	while (!err && d && (de = readdir(d)))
		if (is_pid(de->d_name))
			err = add_process(s, de->d_name, self.st_dev);
	if (d)
		closedir(d);
	if (err) {
		fa_netns_set_free(s);
		return NULL;
	}
	/* By inode; set_open() tries each holder of one in turn. */
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_holders);
	return s;
}

/* An fd on a holder of @ino in @s that still is that namespace, or -1. */
static int set_open(const struct fa_netns_set *s, __u64 ino)
{
	size_t lo = 0, hi = s->n, mid;
	int fd = -1;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (s->v[mid].ino < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* A process may have exited since: the next holder, if any. */
	for (; fd < 0 && lo < s->n && s->v[lo].ino == ino; lo++)
		fd = open_if_ino(s->v[lo].path, ino);
	return fd;
}

/*
 * An fd on the living namespace with inode @ino and, when both are known,
 * cookie @cookie; -ENOENT when nothing holds it. Two living namespaces never
 * share an inode: any holder found is of the only candidate.
 */
static int netns_open(const struct fa_netns_set *s, __u64 ino, __u64 cookie)
{
	struct netns_probe p = {};
	int fd;

	fd = set_open(s, ino);
	if (fd < 0)
		return -ENOENT;
	if (!cookie)
		return fd;
	p.nsfd = fd;
	if (netns_probe_run(&p) || !p.cookie || p.cookie == cookie)
		return fd;	/* alive as far as we can tell */
	close(fd);
	return -ENOENT;		/* another namespace got the dead one's inode */
}

bool fa_netns_alive(__u64 ino, __u64 cookie)
{
	struct fa_netns_set *s = fa_netns_set_new();
	int fd;

	if (!s)
		return true;	/* can't tell: not a verdict */
	fd = netns_open(s, ino, cookie);
	fa_netns_set_free(s);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/*
 * The id this namespace has for the namespace @nsfd (RTM_GETNSID): >= 0;
 * -1 (NETNSA_NSID_NOT_ASSIGNED) if it has none; or -errno.
 */
int fa_netns_nsid(int nsfd)
{
	struct {
		struct nlmsghdr n;
		struct rtgenmsg g;
		char pad[3];	/* the attributes start at NLMSG_ALIGN() of it */
		struct rtattr a;
		__u32 fd;
	} req = {
		.n.nlmsg_len = sizeof(req),
		.n.nlmsg_type = RTM_GETNSID,
		.n.nlmsg_flags = NLM_F_REQUEST,
		.g.rtgen_family = AF_UNSPEC,
		.a.rta_type = NETNSA_FD,
		.a.rta_len = RTA_LENGTH(sizeof(__u32)),
		.fd = (__u32)nsfd,
	};
	char buf[512] __attribute__((aligned(4)));
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	size_t head = NLMSG_ALIGN(sizeof(struct rtgenmsg));
	struct rtattr *a;
	int fd, n, len, id = -EPROTO;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (fa_nl_send(fd, &req, sizeof(req)) < 0 || (n = recv(fd, buf, sizeof(buf), 0)) < 0) {
		id = -errno;
		goto out;
	}
	if (!NLMSG_OK(h, (unsigned int)n))
		goto out;
	if (h->nlmsg_type == NLMSG_ERROR) {
		id = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
		id = id ? id : -EPROTO;
		goto out;
	}
	if (h->nlmsg_type != RTM_NEWNSID)
		goto out;
	len = (int)(h->nlmsg_len - NLMSG_LENGTH(head));
	for (a = (struct rtattr *)((char *)NLMSG_DATA(h) + head); RTA_OK(a, len);
	     a = RTA_NEXT(a, len))
		if (a->rta_type == NETNSA_NSID && RTA_PAYLOAD(a) >= sizeof(__s32))
			id = *(__s32 *)RTA_DATA(a);
out:
	close(fd);
	return id;
}

int fa_netns_open_nsid(int nsid)
{
	struct fa_netns_set *s;
	__u64 tried = 0;
	int fd, found = -ENOENT;
	size_t i;

	if (nsid < 0)
		return -ENOENT;
	s = fa_netns_set_new();
	if (!s)
		return -ENOMEM;
	/* Each namespace once (its holders are side by side): the first
	 * holder that opens. */
	for (i = 0; i < s->n && found < 0; i++) {
		if (s->v[i].ino == tried)
			continue;
		fd = open_if_ino(s->v[i].path, s->v[i].ino);
		if (fd < 0)
			continue;
		tried = s->v[i].ino;
		if (fa_netns_nsid(fd) == nsid)
			found = fd;
		else
			close(fd);
	}
	fa_netns_set_free(s);
	return found;
}

/* ---- the verdict --------------------------------------------------------------- */

int fa_stale_verdict(const struct fa_netns_set *s, const struct fa_pin_entry *pin)
{
	const struct fa_attach_state *st = &pin->state;
	struct netns_probe p = { .st = st };
	int fd, err;

	/* Another version's record is not ours to judge. */
	if (pin->err == -EPROTO)
		return FA_STALE_NONE;
	if (pin->err || !st->complete)
		return FA_STALE_HALF_MADE;
	fd = netns_open(s, st->netns_ino, st->netns_cookie);
	if (fd < 0)
		return FA_STALE_NETNS_GONE;
	p.nsfd = fd;
	err = netns_probe_run(&p);
	close(fd);
	if (err)
		return FA_STALE_NONE;	/* can't look: not a verdict */
	if (!p.iface)
		return FA_STALE_IFACE_GONE;
	/*
	 * The index came back as another device (ip link add ... index N):
	 * neither the name attach saw nor our programs are on it. A renamed
	 * interface keeps our programs.
	 */
	if (strcmp(p.name, st->ifname) && !p.live.ingress && !p.live.egress)
		return FA_STALE_IFACE_GONE;
	return FA_STALE_NONE;
}

int fa_stale_why_in(const struct fa_netns_set *s, const struct fa_pin_entry *pin)
{
	/* attach, detach or a daemon at work: theirs to judge (FA_LOCK_ADMIN
	 * and FA_LOCK_RUN share one file). */
	if (fa_lock_held(pin->dirname, FA_LOCK_ADMIN))
		return FA_STALE_NONE;
	return s ? fa_stale_verdict(s, pin) : FA_STALE_NONE;
}

int fa_stale_why(const struct fa_pin_entry *pin)
{
	struct fa_netns_set *s;
	int why;

	/* Held: no need to read every process. */
	if (fa_lock_held(pin->dirname, FA_LOCK_ADMIN))
		return FA_STALE_NONE;
	s = fa_netns_set_new();
	why = fa_stale_why_in(s, pin);
	fa_netns_set_free(s);
	return why;
}

int fa_stale_list(struct fa_stale **list, size_t *n)
{
	struct fa_pin_entry *l;
	struct fa_stale *out = NULL;
	struct fa_netns_set *s;
	size_t i, cnt, k = 0;
	int err, why;

	*list = NULL;
	*n = 0;
	err = fa_pins_list(&l, &cnt);
	if (err)
		return err;
	s = fa_netns_set_new();
	if (cnt)
		out = calloc(cnt, sizeof(*out));
	if ((cnt && !out) || !s) {
		fa_netns_set_free(s);
		free(out);
		free(l);
		return -ENOMEM;
	}
	for (i = 0; i < cnt; i++) {
		why = fa_stale_why_in(s, &l[i]);
		if (why == FA_STALE_NONE)
			continue;
		out[k].pin = l[i];
		out[k].why = why;
		k++;
	}
	fa_netns_set_free(s);
	free(l);
	*list = out;
	*n = k;
	return 0;
}

/*
 * Program sets (their directories do not begin with "net") whose network
 * namespace is gone and that no process holds: a daemon killed, then its
 * namespace deleted. Their links went with the devices; their tables, cache
 * and books stay until released.
 */
int fa_stale_sets_list(struct fa_stale **list, size_t *n)
{
	struct fa_stale *out;
	struct fa_netns_set *s;
	char (*names)[64];
	size_t cnt, i, k = 0;
	int fd, err;

	*list = NULL;
	*n = 0;
	err = fa_pin_dirs(fa_pin_dir_is_set, &names, &cnt);
	if (err)
		return err;
	s = fa_netns_set_new();
	out = calloc(cnt ? cnt : 1, sizeof(*out));
	if (!s || !out) {
		fa_netns_set_free(s);
		free(out);
		free(names);
		return -ENOMEM;
	}
	for (i = 0; i < cnt; i++) {
		struct fa_stale *st = &out[k];

		memset(st, 0, sizeof(*st));
		st->why = FA_STALE_NETNS_GONE;
		snprintf(st->pin.dirname, sizeof(st->pin.dirname), "%s", names[i]);
		if (fa_state_read(st->pin.dirname, &st->pin.state) ||
		    fa_lock_held(st->pin.dirname, FA_LOCK_ADMIN))
			continue;
		fd = netns_open(s, st->pin.state.netns_ino, st->pin.state.netns_cookie);
		if (fd >= 0) {
			close(fd);
			continue;
		}
		k++;
	}
	fa_netns_set_free(s);
	free(names);
	*list = out;
	*n = k;
	return 0;
}

/* ---- files under FA_RUN_DIR ----------------------------------------------------- */

void fa_run_daemon_files_remove(const char *dirname)
{
	size_t n = strlen(dirname);
	struct dirent *de;
	DIR *d;

	d = opendir(FA_RUN_DIR);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, dirname, n) || de->d_name[n] != '.' ||
		    !strcmp(de->d_name + n, ".lock") ||
		    !strcmp(de->d_name + n, ".capture.lock"))
			continue;
		unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

void fa_run_files_remove(const char *dirname)
{
	struct fa_lock l;
	int holder, kind;

	/*
	 * A daemon's drain and cache files are what its successor finishes
	 * a tick from: kept while the pins they go with are there, or while
	 * anyone holds the lock.
	 */
	if (!fa_pin_dir_exists(dirname) &&
	    !fa_lock_take(dirname, FA_LOCK_ADMIN, &l, &holder, &kind)) {
		fa_run_daemon_files_remove(dirname);
		fa_lock_release(&l);	/* removes the file: the pins are gone */
	}
	fa_lock_file_remove(dirname, FA_LOCK_ADMIN);
	fa_lock_file_remove(dirname, FA_LOCK_CAPTURE);
	fa_ipfix_remove_stale_states();
	rmdir(FA_RUN_DIR);	/* only if nothing else is there */
}
