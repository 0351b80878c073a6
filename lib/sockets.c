// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The socket programs: attached once per host at the cgroup v2 root, with
 * their links and tables pinned under FA_SOCK_PIN_ROOT so that they outlive
 * the command. Also what user space adds to them: the processes of sockets
 * that were there before attach (from /proc). Cgroup ids as paths are
 * cgroups.c's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "flowacct_sock.skel.h"

static const char *const sock_pins[FA_NR_SOCK_PINS] = {
	[FA_SOCK_PIN_SOCKS] = "flow_socks",
	[FA_SOCK_PIN_LISTENERS] = "flow_listeners",
	[FA_SOCK_PIN_SOCKOPS] = "link_sockops",
	[FA_SOCK_PIN_CREATE] = "link_sock_create",
	[FA_SOCK_PIN_BY_RUN] = "by_run",
};

static void sock_pin_path(char *buf, size_t len, int pin)
{
	snprintf(buf, len, "%s/%s", FA_SOCK_PIN_ROOT, sock_pins[pin]);
}

int fa_cgroup2_mount(char *buf, size_t len)
{
	char line[4096], mnt[PATH_MAX], root[PATH_MAX], *sep;
	int err = -ENOENT;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return -errno;
	/*
	 * "id parent maj:min root mountpoint options [optional...] - fstype ...":
	 * the hierarchy's root, not a bind mount of a subtree.
	 */
	while (fgets(line, sizeof(line), f)) {
		sep = strstr(line, " - cgroup2 ");
		if (!sep || sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2 ||
		    strcmp(root, "/"))
			continue;
		snprintf(buf, len, "%s", mnt);
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

/* ---- processes of sockets, from /proc ------------------------------------ */

struct ino_owner {
	__u32 ino;
	__u32 pid;
	char comm[FLOW_COMM_LEN];
};

static int cmp_ino(const void *a, const void *b)
{
	const struct ino_owner *x = a, *y = b;

	if (x->ino != y->ino)
		return x->ino > y->ino ? 1 : -1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

/*
 * Every socket inode an open file of a process points to, with that
 * process (the lowest pid when several share it, as after a fork: the
 * parent). Sorted by inode.
 */
static int proc_socket_owners(struct ino_owner **out, size_t *n)
{
	struct ino_owner *v = NULL, *grown;
	size_t cap = 0, cnt = 0;
	struct dirent *p, *fd;
	char path[320], link[64], comm[FLOW_COMM_LEN];
	unsigned long ino;
	DIR *proc, *fds;
	ssize_t len;
	FILE *f;

	proc = opendir("/proc");
	if (!proc)
		return -errno;
	while ((p = readdir(proc))) {
		int pid = atoi(p->d_name);

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
		comm[strcspn(comm, "\n")] = '\0';
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((fd = readdir(fds))) {
			snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, fd->d_name);
			len = readlink(path, link, sizeof(link) - 1);
			if (len <= 0)
				continue;
			link[len] = '\0';
			if (sscanf(link, "socket:[%lu]", &ino) != 1)
				continue;
			if (cnt == cap) {
				cap = cap ? cap * 2 : 256;
				grown = realloc(v, cap * sizeof(*v));
				if (!grown) {
					closedir(fds);
					closedir(proc);
					free(v);
					return -ENOMEM;
				}
				v = grown;
			}
			v[cnt].ino = ino;
			v[cnt].pid = pid;
			memcpy(v[cnt].comm, comm, sizeof(comm));
			cnt++;
		}
		closedir(fds);
	}
	closedir(proc);
	qsort(v, cnt, sizeof(*v), cmp_ino);
	*out = v;
	*n = cnt;
	return 0;
}

/* The lowest pid holding @ino (sorted by inode, then pid). */
static const struct ino_owner *owner_of(const struct ino_owner *v, size_t n,
					__u32 ino)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (v[mid].ino < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo].ino == ino ? &v[lo] : NULL;
}

/*
 * Whether /proc is to be asked for @s's process: it has only its inode, and
 * is not a TCP socket closed already. The LRU keeps closed ones for their
 * flows' records, thousands on a host of short connections, and a walk of
 * /proc for them would be made at every look until the LRU evicts them;
 * most have no descriptor left to find. (One reset by its peer and still
 * held by its process stays without a process.)
 */
static bool sock_wants_proc(const struct flow_sock *s)
{
	return !s->pid && s->ino &&
	       !(s->proto == IPPROTO_TCP && s->state == FLOW_TCP_STATE_CLOSE);
}

int fa_sockets_fill_procs(int socks_fd, int listeners_fd, const __u64 *cookies,
			  struct flow_sock *socks, size_t nsocks)
{
	struct flow_listen_key lk, *lprev = NULL;
	struct ino_owner *owners = NULL;
	const struct ino_owner *o;
	struct flow_listener l;
	void *own_keys = NULL, *own_vals = NULL;
	size_t n = 0, i;
	int err = 0, filled = 0;
	bool want = false;

	if (!cookies) {
		err = fa_map_read_all(socks_fd, sizeof(__u64), sizeof(struct flow_sock),
				      &own_keys, &own_vals, &nsocks);
		if (err)
			return err;
		cookies = own_keys;
		socks = own_vals;
	}
	for (i = 0; i < nsocks && !want; i++)
		want = sock_wants_proc(&socks[i]);
	/* Listeners are few: looked at one by one. */
	while (!want && listeners_fd >= 0 &&
	       !bpf_map_get_next_key(listeners_fd, lprev, &lk)) {
		lprev = &lk;
		want = !bpf_map_lookup_elem(listeners_fd, &lk, &l) && !l.pid && l.ino;
	}
	if (!want)
		goto out;
	err = proc_socket_owners(&owners, &n);
	if (err)
		goto out;
	for (i = 0; i < nsocks; i++) {
		struct flow_sock s;

		if (!sock_wants_proc(&socks[i]) || !(o = owner_of(owners, n, socks[i].ino)))
			continue;
		s = socks[i];
		s.pid = o->pid;
		memcpy(s.comm, o->comm, sizeof(s.comm));
		/* BPF_EXIST: a socket closed meanwhile stays gone. */
		if (!bpf_map_update_elem(socks_fd, &cookies[i], &s, BPF_EXIST)) {
			socks[i] = s;
			filled++;
		}
	}
	lprev = NULL;
	while (listeners_fd >= 0 && !bpf_map_get_next_key(listeners_fd, lprev, &lk)) {
		lprev = &lk;
		if (bpf_map_lookup_elem(listeners_fd, &lk, &l) || l.pid || !l.ino)
			continue;
		o = owner_of(owners, n, l.ino);
		if (!o)
			continue;
		l.pid = o->pid;
		memcpy(l.comm, o->comm, sizeof(l.comm));
		bpf_map_update_elem(listeners_fd, &lk, &l, BPF_EXIST);
	}
out:
	free(owners);
	free(own_keys);
	free(own_vals);
	return err ? err : filled;
}

/* ---- adopting what was there before -------------------------------------- */

struct ns_list {
	__u64 *ino;
	char (*path)[64];
	size_t n;
};

static int ns_add(struct ns_list *l, const char *path)
{
	struct stat st;
	void *grown;
	size_t i;

	if (stat(path, &st))
		return 0;	/* gone meanwhile */
	for (i = 0; i < l->n; i++)
		if (l->ino[i] == st.st_ino)
			return 0;
	grown = realloc(l->ino, (l->n + 1) * sizeof(*l->ino));
	if (!grown)
		return -ENOMEM;
	l->ino = grown;
	grown = realloc(l->path, (l->n + 1) * sizeof(*l->path));
	if (!grown)
		return -ENOMEM;
	l->path = grown;
	l->ino[l->n] = st.st_ino;
	snprintf(l->path[l->n], sizeof(l->path[0]), "%s", path);
	l->n++;
	return 0;
}

/* Every network namespace a process is in or a name under /run/netns holds. */
static int ns_list_all(struct ns_list *l)
{
	char path[320];
	struct dirent *e;
	DIR *d;
	int err = 0;

	d = opendir("/proc");
	if (!d)
		return -errno;
	while (!err && (e = readdir(d))) {
		if (atoi(e->d_name) <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", e->d_name);
		err = ns_add(l, path);
	}
	closedir(d);
	d = opendir("/run/netns");
	while (!err && d && (e = readdir(d))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) > 40)
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", e->d_name);
		err = ns_add(l, path);
	}
	if (d)
		closedir(d);
	return err;
}

/* Creates an iterator of @prog here and reads it to its end. */
static int run_iter(struct bpf_program *prog)
{
	struct bpf_link *link;
	char buf[4096];
	int fd, err = 0;

	link = bpf_program__attach_iter(prog, NULL);
	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
	} else {
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}
	bpf_link__destroy(link);
	return err;
}

/* Runs the adopting iterators in the namespace at @path. */
static int adopt_in(struct flowacct_sock_bpf *skel, const char *path, int home)
{
	int ns, err;

	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return 0;	/* its last process left meanwhile */
	if (setns(ns, CLONE_NEWNET)) {
		err = -errno;
		close(ns);
		return err;
	}
	close(ns);
	/* An iterator walks the namespace current is in when it is created. */
	err = run_iter(skel->progs.flowacct_sock_adopt);
	if (!err)
		err = run_iter(skel->progs.flowacct_sock_adopt_udp);
	if (setns(home, CLONE_NEWNET) && !err)
		err = -errno;
	return err;
}

static int adopt_existing(struct flowacct_sock_bpf *skel, size_t *nns)
{
	struct ns_list l = {};
	size_t i;
	int home, err;

	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		return -errno;
	err = ns_list_all(&l);
	for (i = 0; i < l.n && !err; i++)
		err = adopt_in(skel, l.path[i], home);
	*nns = l.n;
	free(l.ino);
	free(l.path);
	close(home);
	return err;
}

/* ---- attach, detach, open ------------------------------------------------- */

int fa_sockets_detach(void)
{
	char path[PATH_MAX];
	int i, removed = 0;

	for (i = 0; i < FA_NR_SOCK_PINS; i++) {
		sock_pin_path(path, sizeof(path), i);
		if (!unlink(path))
			removed++;
	}
	rmdir(FA_SOCK_PIN_ROOT);
	return removed;
}

static bool pinned(int pin)
{
	char path[PATH_MAX];

	sock_pin_path(path, sizeof(path), pin);
	return !access(path, F_OK);
}

bool fa_sockets_attached(void)
{
	return pinned(FA_SOCK_PIN_SOCKOPS);
}

/* The lock that makes the decision to attach or detach one daemon's. */
static int decide_lock(void)
{
	int fd = open(FA_SOCK_DECIDE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd >= 0 && flock(fd, LOCK_EX)) {
		close(fd);
		return -1;
	}
	return fd;
}

bool fa_sockets_by_run(void)
{
	return pinned(FA_SOCK_PIN_BY_RUN);
}

/*
 * The mark that a daemon attached them: a pinned map beside their pins,
 * so that it goes where they go (a file under /run could be lost with a
 * mount there while they stay, or stay while they go).
 */
static int pin_by_run(void)
{
	char path[PATH_MAX];
	int fd, err = 0;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "flowacct_by_run", sizeof(__u32), sizeof(__u32),
			    1, NULL);
	if (fd < 0)
		return -errno;
	sock_pin_path(path, sizeof(path), FA_SOCK_PIN_BY_RUN);
	if (bpf_obj_pin(fd, path))
		err = -errno;
	close(fd);
	return err;
}

static int attach(struct fa_sockets_result *res, bool by_run);

int fa_sockets_hold(struct fa_sockets_result *res, bool *attached)
{
	int fd, decide, err = 0;

	*attached = false;
	memset(res, 0, sizeof(*res));
	if (mkdir(FA_RUN_DIR, 0755) && errno != EEXIST)
		return -errno;
	decide = decide_lock();
	if (decide < 0)
		return -errno;
	fd = open(FA_SOCK_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_SH)) {
		err = -errno;
		goto out;
	}
	if (!fa_sockets_attached()) {
		err = attach(res, true);
		*attached = !err;
	}
out:
	close(decide);
	if (err && fd >= 0)
		close(fd);
	return err ? err : fd;
}

bool fa_sockets_release(int fd)
{
	bool detached = false;
	int decide;

	if (fd < 0)
		return false;
	decide = decide_lock();
	/* No other daemon holds them (ours made exclusive), and a daemon
	 * attached them. */
	if (decide >= 0 && !flock(fd, LOCK_EX | LOCK_NB) && fa_sockets_by_run()) {
		fa_sockets_detach();
		detached = true;
	}
	close(fd);
	if (decide >= 0)
		close(decide);
	return detached;
}

static int pin_all(struct flowacct_sock_bpf *skel, struct bpf_link *ops,
		   struct bpf_link *create, bool by_run)
{
	char path[PATH_MAX];
	int err;

	if (mkdir(FA_SOCK_PIN_ROOT, 0700) && errno != EEXIST)
		return -errno;
	sock_pin_path(path, sizeof(path), FA_SOCK_PIN_SOCKS);
	err = bpf_map__pin(skel->maps.flow_socks, path);
	sock_pin_path(path, sizeof(path), FA_SOCK_PIN_LISTENERS);
	if (!err)
		err = bpf_map__pin(skel->maps.flow_listeners, path);
	sock_pin_path(path, sizeof(path), FA_SOCK_PIN_CREATE);
	if (!err)
		err = bpf_link__pin(create, path);
	/* A daemon's mark before: killed between the two, they are still
	 * known as a daemon's. */
	if (!err && by_run)
		err = pin_by_run();
	/* Last: its pin is what says "attached". */
	sock_pin_path(path, sizeof(path), FA_SOCK_PIN_SOCKOPS);
	if (!err)
		err = bpf_link__pin(ops, path);
	return err;
}

static int attach(struct fa_sockets_result *res, bool by_run)
{
	struct bpf_link *ops = NULL, *create = NULL;
	struct flowacct_sock_bpf *skel;
	int cg, err;

	memset(res, 0, sizeof(*res));
	if (fa_sockets_attached())
		return -EEXIST;
	fa_sockets_detach();	/* what a killed attach may have left */
	err = fa_cgroup2_mount(res->cgroup_root, sizeof(res->cgroup_root));
	if (err)
		return err;
	cg = open(res->cgroup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		return -errno;
	skel = flowacct_sock_bpf__open_and_load();
	if (!skel) {
		err = -errno;
		res->step = "load";
		goto out;
	}
	res->step = "attach sockops";
	ops = bpf_program__attach_cgroup(skel->progs.flowacct_sockops, cg);
	if (!ops) {
		err = -errno;
		goto out;
	}
	res->step = "attach cgroup/sock_create";
	create = bpf_program__attach_cgroup(skel->progs.flowacct_sock_create, cg);
	if (!create) {
		err = -errno;
		goto out;
	}
	/* Attached first, so that no connection falls between the two. */
	res->step = "adopt existing connections";
	err = adopt_existing(skel, &res->namespaces);
	if (err)
		goto out;
	err = fa_sockets_fill_procs(bpf_map__fd(skel->maps.flow_socks),
				    bpf_map__fd(skel->maps.flow_listeners), NULL, NULL, 0);
	if (err < 0)
		goto out;
	res->procs_filled = err;
	res->step = "pin";
	err = pin_all(skel, ops, create, by_run);
out:
	if (err)
		fa_sockets_detach();
	else
		res->step = NULL;
	bpf_link__destroy(ops);
	bpf_link__destroy(create);
	flowacct_sock_bpf__destroy(skel);
	close(cg);
	return err;
}

int fa_sockets_attach(struct fa_sockets_result *res)
{
	return attach(res, false);
}

int fa_sockets_open(int *socks_fd, int *listeners_fd)
{
	static const __u32 lru[] = { BPF_MAP_TYPE_LRU_HASH };
	char path[PATH_MAX];
	int err;

	*socks_fd = *listeners_fd = -1;
	sock_pin_path(path, sizeof(path), FA_SOCK_PIN_SOCKS);
	*socks_fd = bpf_obj_get(path);
	if (*socks_fd < 0)
		return -errno;
	err = fa_map_check(*socks_fd, lru, 1, sizeof(__u64), sizeof(struct flow_sock));
	sock_pin_path(path, sizeof(path), FA_SOCK_PIN_LISTENERS);
	if (!err) {
		*listeners_fd = bpf_obj_get(path);
		if (*listeners_fd < 0)
			err = -errno;
	}
	if (!err)
		err = fa_map_check(*listeners_fd, lru, 1, sizeof(struct flow_listen_key),
				   sizeof(struct flow_listener));
	if (err) {
		close(*socks_fd);
		if (*listeners_fd >= 0)
			close(*listeners_fd);
		*socks_fd = *listeners_fd = -1;
	}
	return err;
}

/* Keys of a hash map, by walking it: a moment's count, for status. */
static size_t map_count(int fd, size_t key_size)
{
	char key[64], prev[64];
	size_t n = 0;
	void *p = NULL;

	if (key_size > sizeof(key))
		return 0;
	while (!bpf_map_get_next_key(fd, p, key)) {
		memcpy(prev, key, key_size);
		p = prev;
		n++;
	}
	return n;
}

int fa_sockets_count(size_t *sockets, size_t *listeners)
{
	int sfd, lfd, err;

	err = fa_sockets_open(&sfd, &lfd);
	if (err)
		return err;
	*sockets = map_count(sfd, sizeof(__u64));
	*listeners = map_count(lfd, sizeof(struct flow_listen_key));
	close(sfd);
	close(lfd);
	return 0;
}
