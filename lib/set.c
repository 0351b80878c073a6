// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A program set: the programs loaded (and verified) once, with one pair of
 * epoch tables, linked to as many interfaces as a daemon follows. The flow
 * key carries the interface, so the tables need nothing per interface; the
 * counters and the overflow rows do, and a set keeps them in hashes keyed
 * by slot and interface (struct flow_slot_key), a row each that is made
 * here before the interface is linked and deleted after it is unlinked and
 * drained. Joining an interface costs three rows and two links: no load, no
 * verification, no table.
 *
 * Links, not attachments: XDP through an XDP link (owned, and not replaced
 * by another's attach), TC through TCX links where the kernel has them and
 * clsact filters where it does not. A link lives as long as its fd (or its
 * pin); the caller keeps the member (and so the fds) for as long as it
 * follows the interface. A clsact filter is no link: it stays until it is
 * removed, which is why a pinned set records it before it exists. A pinned set (fa_set_pin()) pins its links too, beside its
 * maps, and keeps a record of each member, so that it all outlives the
 * process: the programs go on counting while no one holds the set, and
 * the next process adopts it (fa_set_adopt()) or removes it
 * (fa_set_remove()).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "internal.h"
#include "tcfilter.h"
#include "tcx.h"
#include "flowacct.skel.h"

static const char *const hook_names[FA_SET_NR_HOOKS] = {
	[FA_SET_XDP] = "xdp",
	[FA_SET_TC_INGRESS] = "tc_ingress",
	[FA_SET_TC_EGRESS] = "tc_egress",
};

static void set_progs(struct fa_set *s)
{
	fa_progs_map_fds(s->skel, s->fd);
	s->prog[FA_SET_XDP] = bpf_program__fd(s->skel->progs.flowacct_xdp);
	s->prog[FA_SET_TC_INGRESS] = bpf_program__fd(s->skel->progs.flowacct_tc_in);
	s->prog[FA_SET_TC_EGRESS] = bpf_program__fd(s->skel->progs.flowacct_tc);
}

/* "if3_tc_egress": where a pinned set pins a member's link (bpffs refuses
 * names with a dot). */
static void link_path(char *buf, size_t len, const char *dir, int ifindex, int hook)
{
	char name[64];

	snprintf(name, sizeof(name), "if%d_%s", ifindex, hook_names[hook]);
	fa_pin_path(buf, len, dir, name);
}

/* Whether @hook of a member is a link (XDP, TCX) rather than a filter. */
static bool hook_is_link(const struct fa_set_member_rec *r, int hook)
{
	if (hook == FA_SET_XDP)
		return r->ingress != FA_INGRESS_TC;
	if (hook == FA_SET_TC_INGRESS && r->ingress != FA_INGRESS_TC)
		return false;
	return r->tc_api == FA_TC_TCX;
}

static bool hook_used(const struct fa_set_member_rec *r, int hook)
{
	return hook == FA_SET_TC_EGRESS ||
	       (hook == FA_SET_XDP) == (r->ingress != FA_INGRESS_TC);
}

static void rec_of(const struct fa_set_member *m, struct fa_set_member_rec *r, bool linked)
{
	char name[IF_NAMESIZE] = "";
	int i;

	memset(r, 0, sizeof(*r));
	r->ifindex = m->ifindex;
	r->ingress = m->ingress;
	r->tc_api = m->tc_api;
	r->created_qdisc = m->created_qdisc;
	r->linked = linked;
	for (i = 0; i < FA_SET_NR_HOOKS; i++) {
		r->tc_handle[i] = m->tc_handle[i];
		r->tc_priority[i] = m->tc_priority[i];
	}
	r->joined_at = time(NULL);
	if_indextoname(m->ifindex, name);
	snprintf(r->ifname, sizeof(r->ifname), "%s", name);
}

static int rec_write(struct fa_set *s, const struct fa_set_member *m, bool linked)
{
	struct fa_set_member_rec r;
	__u32 k = m->ifindex;

	if (s->members_fd < 0)
		return 0;
	rec_of(m, &r, linked);
	return bpf_map_update_elem(s->members_fd, &k, &r, BPF_ANY) ? -errno : 0;
}

/* Nothing held: what fa_set_close() may be called on. */
static void set_init(struct fa_set *s)
{
	memset(s, 0, sizeof(*s));
	s->members_fd = -1;
	s->lock.fd = -1;
}

int fa_set_open(struct fa_set *s, const struct fa_load_opts *o)
{
	struct fa_load_opts lo = *o;
	int err;

	set_init(s);
	lo.per_iface = true;
	lo.replay = false;
	lo.progs = FA_PROG_XDP | FA_PROG_TC_EGRESS | FA_PROG_TC_INGRESS;
	s->opts = lo;
	err = fa_progs_load(&lo, &s->skel);
	if (err)
		return err;
	set_progs(s);
	/* Interface 0: what arrives where no rows are (see flow_slot_key). */
	err = fa_set_rows_make(s, 0);
	if (err)
		fa_set_close(s);
	return err;
}

void fa_set_close(struct fa_set *s)
{
	if (s->members_fd >= 0)
		close(s->members_fd);
	s->members_fd = -1;
	flowacct_bpf__destroy(s->skel);
	s->skel = NULL;
	fa_lock_release(&s->lock);
}

/* A pinned set is one process's at a time: the next one waits for a kill. */
static int set_lock(struct fa_set *s, const char *dirname)
{
	int holder, holder_kind;

	return fa_lock_take(dirname, FA_LOCK_RUN, &s->lock, &holder, &holder_kind);
}

/* Whether @fd holds a row of @ifindex at slot 0 (-errno if it can't tell). */
static int row_there(int fd, __u32 ifindex, size_t value_size)
{
	struct flow_slot_key k = { .slot = 0, .ifindex = ifindex };
	int ncpus = libbpf_num_possible_cpus(), there;
	void *v;

	if (ncpus < 0)
		return ncpus;
	v = calloc(ncpus, (value_size + 7) & ~(size_t)7);
	if (!v)
		return -ENOMEM;
	there = !bpf_map_lookup_elem(fd, &k, v);
	if (!there && errno != ENOENT)
		there = -errno;
	free(v);
	return there;
}

int fa_set_rows_make(struct fa_set *s, __u32 ifindex)
{
	int err;

	/*
	 * Rows that are there belong to an interface not forgotten yet (its
	 * counts not drained): refused, and left as they are.
	 */
	err = row_there(s->fd[FA_PIN_STATS], ifindex, sizeof(struct flow_stats));
	if (!err)
		err = row_there(s->fd[FA_PIN_OVERFLOW], ifindex, sizeof(struct flow_map_value));
	if (err)
		return err > 0 ? -EEXIST : err;
	err = fa_slot_rows_zero(s->fd[FA_PIN_STATS], ifindex, 0, FLOW_NR_DIRS,
				sizeof(struct flow_stats), BPF_NOEXIST);
	if (!err)
		err = fa_slot_rows_zero(s->fd[FA_PIN_OVERFLOW], ifindex, 0,
					FLOW_NR_OVERFLOW_SLOTS, sizeof(struct flow_map_value),
					BPF_NOEXIST);
	if (err)
		fa_set_forget(s, ifindex);
	return err;
}

int fa_set_forget(struct fa_set *s, __u32 ifindex)
{
	struct flow_slot_key k = { .ifindex = ifindex };
	int err = 0;

	for (k.slot = 0; k.slot < FLOW_NR_DIRS; k.slot++)
		if (bpf_map_delete_elem(s->fd[FA_PIN_STATS], &k) && errno != ENOENT)
			err = -errno;
	for (k.slot = 0; k.slot < FLOW_NR_OVERFLOW_SLOTS; k.slot++)
		if (bpf_map_delete_elem(s->fd[FA_PIN_OVERFLOW], &k) && errno != ENOENT)
			err = -errno;
	return err;
}

/*
 * A pinned set's link is pinned as soon as it exists: a kill before leaves
 * a link that ends with the process, never one no one can find.
 */
static int link_pin(struct fa_set *s, struct fa_set_member *m, int hook)
{
	char path[PATH_MAX];

	if (!s->dir[0])
		return 0;
	link_path(path, sizeof(path), s->dir, m->ifindex, hook);
	return bpf_obj_pin(m->link[hook], path) ? -errno : 0;
}

static int link_xdp(struct fa_set *s, struct fa_set_member *m)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts,
		    .flags = m->ingress == FA_INGRESS_XDP_SKB ? XDP_FLAGS_SKB_MODE :
								 XDP_FLAGS_DRV_MODE);
	int fd;

	fd = bpf_link_create(s->prog[FA_SET_XDP], m->ifindex, BPF_XDP, &opts);
	if (fd < 0)
		return -errno;
	m->link[FA_SET_XDP] = fd;
	return link_pin(s, m, FA_SET_XDP);
}

/* A clsact filter: no link, found again by its handle and priority. */
/*
 * A set's clsact filters sit at a priority of their own, so that they are
 * never taken for `flowacct attach`'s (the kernel's first free one, 49152)
 * or anyone's, and are found again by it.
 */
#define SET_TC_HANDLE	1
#define SET_TC_PRIO	0xfa00

static const char *const prog_names[FA_SET_NR_HOOKS] = {
	[FA_SET_XDP] = "flowacct_xdp",
	[FA_SET_TC_INGRESS] = "flowacct_tc_in",
	[FA_SET_TC_EGRESS] = "flowacct_tc",
};

/*
 * Removes the filter at @handle/@prio of @hook on @ifindex if it runs a
 * program of ours: an index may have been given to another device since
 * the filter was recorded. 0 when it is gone (or was never there).
 */
static int filter_remove(int ifindex, int which, __u32 handle, __u32 prio)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = which == FA_SET_TC_EGRESS ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = prio);
	int err;

	err = bpf_tc_query(&hook, &opts);
	if (err)
		return err == -ENOENT || err == -ENODEV || err == -EINVAL ? 0 : err;
	if (!fa_prog_is(opts.prog_id, prog_names[which]))
		return 0;
	opts.prog_id = 0;
	opts.prog_fd = 0;
	opts.flags = 0;
	err = bpf_tc_detach(&hook, &opts);
	return err == -ENOENT || err == -ENODEV ? 0 : err;
}

static int filter_tc(struct fa_set *s, struct fa_set_member *m, int which)
{
	bool egress = which == FA_SET_TC_EGRESS;
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = m->ifindex,
		    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = s->prog[which],
		    .handle = SET_TC_HANDLE, .priority = SET_TC_PRIO);
	int had, err;

	/*
	 * A filter outlives the process: what it will be is recorded before
	 * it exists, and so is a qdisc we make, so that a kill in between
	 * leaves nothing the record does not name.
	 */
	had = tc_clsact_exists(m->ifindex);
	if (had < 0)
		return had;
	if (!had && !m->created_qdisc) {
		m->created_qdisc = true;
		err = rec_write(s, m, false);
		if (err)
			return err;
		err = bpf_tc_hook_create(&hook);
		if (err == -EEXIST)
			m->created_qdisc = false;	/* someone made one meanwhile: theirs */
		else if (err)
			return err;
	}
	m->tc_handle[which] = SET_TC_HANDLE;
	m->tc_priority[which] = SET_TC_PRIO;
	err = rec_write(s, m, false);
	if (!err)
		err = bpf_tc_attach(&hook, &opts);
	if (err) {
		/* -EEXIST: that place is someone else's; nothing of ours there. */
		m->tc_handle[which] = 0;
		m->tc_priority[which] = 0;
	}
	return err;
}

static int link_tc(struct fa_set *s, struct fa_set_member *m, int which)
{
	int fd;

	if (m->tc_api == FA_TC_CLSACT)
		return filter_tc(s, m, which);
	fd = fa_tcx_link_create(s->prog[which], m->ifindex,
				which == FA_SET_TC_EGRESS, 0, 0);
	if (fd < 0)
		return fd;
	m->link[which] = fd;
	return link_pin(s, m, which);
}

int fa_set_join(struct fa_set *s, int ifindex, int ingress, int tc_ask,
		struct fa_set_member *m)
{
	int err, i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < FA_SET_NR_HOOKS; i++)
		m->link[i] = -1;
	m->ifindex = ifindex;
	m->ingress = ingress;
	if (!ingress) {
		/* As an attachment chooses: by the driver. */
		char name[IF_NAMESIZE], driver[32] = "";
		int why;

		if (!if_indextoname(ifindex, name))
			return -errno;
		fa_iface_driver(name, driver, sizeof(driver));
		m->ingress = fa_ingress_auto(driver, &why);
	}
	if (tc_ask == FA_TC_ASK_AUTO)
		m->tc_api = fa_tcx_supported(ifindex) ? FA_TC_TCX : FA_TC_CLSACT;
	else
		m->tc_api = tc_ask == FA_TC_ASK_TCX ? FA_TC_TCX : FA_TC_CLSACT;
	/*
	 * Rows first: the first packet the links let in finds its own. Then
	 * the record, saying the join is not done: an adopter undoes what a
	 * kill left of it.
	 */
	err = fa_set_rows_make(s, ifindex);
	if (err)
		return err;
	err = rec_write(s, m, false);
	if (!err && m->ingress != FA_INGRESS_TC) {
		err = link_xdp(s, m);
		/* A driver without native XDP, found by trying: TC, when the
		 * choice was ours (as attach does). */
		if (err == -EOPNOTSUPP && !ingress) {
			m->ingress = FA_INGRESS_TC;
			err = rec_write(s, m, false);
		}
	}
	if (!err && m->ingress == FA_INGRESS_TC)
		err = link_tc(s, m, FA_SET_TC_INGRESS);
	if (!err)
		err = link_tc(s, m, FA_SET_TC_EGRESS);
	if (!err)
		err = rec_write(s, m, true);
	if (err) {
		/*
		 * The rows go at once only if no hook was made: once one was,
		 * a program may still be counting there, and the caller
		 * forgets them after a grace period (and a drain).
		 */
		bool linked = m->link[FA_SET_XDP] >= 0 || m->link[FA_SET_TC_INGRESS] >= 0 ||
			      m->tc_handle[FA_SET_TC_INGRESS];

		fa_set_unlink(s, m);
		if (!linked)
			fa_set_forget(s, ifindex);
	}
	return err;
}

int fa_set_unlink(struct fa_set *s, struct fa_set_member *m)
{
	char path[PATH_MAX];
	__u32 k = m->ifindex;
	int i, err = 0;

	for (i = 0; i < FA_SET_NR_HOOKS; i++) {
		if (m->link[i] >= 0) {
			/* Off the device now, whoever else holds the link. */
			if (bpf_link_detach(m->link[i]) && errno != ENOLINK && !err)
				err = -errno;
			close(m->link[i]);
			m->link[i] = -1;
			if (s->dir[0]) {
				link_path(path, sizeof(path), s->dir, m->ifindex, i);
				unlink(path);
			}
		} else if (m->tc_handle[i]) {
			int r = filter_remove(m->ifindex, i, m->tc_handle[i], m->tc_priority[i]);

			if (r && !err)
				err = r;
			m->tc_handle[i] = 0;
		}
	}
	if (m->created_qdisc && !fa_tc_remove_qdisc(m->ifindex))
		m->created_qdisc = false;
	/* The record last: until it goes, an adopter finds what is left. */
	if (!err && s->members_fd >= 0 && bpf_map_delete_elem(s->members_fd, &k) &&
	    errno != ENOENT)
		err = -errno;
	return err;
}

/* ---- pinned sets ------------------------------------------------------------------- */

/* Removes every file of @dir and @dir itself (bpffs: unpinning). */
static int dir_remove(const char *dir)
{
	char path[PATH_MAX], file[PATH_MAX];
	struct dirent *de;
	DIR *d;

	fa_pin_path(path, sizeof(path), dir, NULL);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		fa_pin_path(file, sizeof(file), dir, de->d_name);
		unlink(file);
	}
	closedir(d);
	return rmdir(path) ? -errno : 0;
}

bool fa_state_netns_self(const struct fa_attach_state *st)
{
	__u64 ino, cookie;

	return !fa_netns_self(&ino, &cookie) && ino == st->netns_ino &&
	       (!cookie || !st->netns_cookie || cookie == st->netns_cookie);
}

int fa_set_pin(struct fa_set *s, const char *dirname)
{
	struct fa_attach_state st = {
		.version = FA_ATTACH_STATE_VERSION,
		.attached_at = time(NULL),
		.max_flows = s->opts.max_flows,
		.key_size = flow_key_size(s->opts.decap),
		.value_size = sizeof(struct flow_map_value),
		.shared_map = s->opts.shared,
		.by_run = 1,
		.complete = 1,
		.owners = s->opts.owners,
		.retrans = s->opts.retrans,
		.passive_rtt = s->opts.passive_rtt,
	};
	char path[PATH_MAX];
	int i, fd, err;

	size_t n;

	/* "net...": status and detach would take it for an attachment. */
	if (!strncmp(dirname, "net", 3) || strchr(dirname, '/') || strchr(dirname, '.'))
		return -EINVAL;
	/* Members joined before would be neither recorded nor pinned. */
	err = fa_set_rows_list(s, NULL, 0, &n);
	if (err)
		return err == -E2BIG ? -EBUSY : err;
	err = fa_netns_self(&st.netns_ino, &st.netns_cookie);
	if (!err)
		err = set_lock(s, dirname);
	if (err)
		return err;
	if (mkdir(FA_PIN_ROOT, 0700) && errno != EEXIST)
		err = -errno;
	fa_pin_path(path, sizeof(path), dirname, NULL);
	if (!err && mkdir(path, 0700))
		err = -errno;
	if (err) {
		fa_lock_release(&s->lock);
		return err;
	}
	s->members_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "flowacct_membs", sizeof(__u32),
				       sizeof(struct fa_set_member_rec),
				       FLOW_SET_MAX_IFACES, NULL);
	err = s->members_fd < 0 ? -errno : 0;
	fa_pin_path(path, sizeof(path), dirname, FA_SET_MEMBERS_PIN);
	if (!err && bpf_obj_pin(s->members_fd, path))
		err = -errno;
	for (i = 0; i < FA_NR_PINS && !err; i++) {
		if (i == FA_PIN_STATE || s->fd[i] < 0)
			continue;
		fa_pin_path(path, sizeof(path), dirname, fa_pin_name(i));
		if (bpf_obj_pin(s->fd[i], path))
			err = -errno;
	}
	/* The record last, complete: a set pinned half-way is not adopted. */
	if (!err) {
		fd = fa_state_map_create(&st);
		err = fd < 0 ? fd : 0;
		fa_pin_path(path, sizeof(path), dirname, fa_pin_name(FA_PIN_STATE));
		if (!err && bpf_obj_pin(fd, path))
			err = -errno;
		if (fd >= 0)
			close(fd);
	}
	if (err) {
		dir_remove(dirname);
		if (s->members_fd >= 0)
			close(s->members_fd);
		s->members_fd = -1;
		fa_lock_release(&s->lock);
		return err;
	}
	snprintf(s->dir, sizeof(s->dir), "%s", dirname);
	return 0;
}

/* What a member left on its device: its pinned links detached and
 * unpinned, its filters and the qdisc it made removed. */
static void member_undo(const char *dir, const struct fa_set_member_rec *r, bool devices)
{
	char path[PATH_MAX];
	bool ours = false;
	int i, fd;

	for (i = 0; i < FA_SET_NR_HOOKS; i++) {
		/* A link is its device's, whatever index that has now. */
		link_path(path, sizeof(path), dir, r->ifindex, i);
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			bpf_link_detach(fd);
			close(fd);
		}
		unlink(path);
		/* A filter is found by index: only a program of ours goes. */
		if (devices && r->tc_handle[i]) {
			ours = true;
			filter_remove(r->ifindex, i, r->tc_handle[i], r->tc_priority[i]);
		}
	}
	if (devices && ours && r->created_qdisc)
		fa_tc_remove_qdisc(r->ifindex);
}

/* The device a link is on now: 0 when it is gone, or the link detached;
 * and the link's id (0 if it can't be read). */
static __u32 link_ifindex(int fd, __u32 *id)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	*id = 0;
	/* XDP's and TCX's link info both begin with the ifindex. */
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	*id = info.id;
	return info.xdp.ifindex;
}

/* Whether the filter at @handle/@prio of @hook on @ifindex runs ours. */
static bool filter_ours(int ifindex, int which, __u32 handle, __u32 prio)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = which == FA_SET_TC_EGRESS ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = prio);

	return !bpf_tc_query(&hook, &opts) && fa_prog_is(opts.prog_id, prog_names[which]);
}

/*
 * A member as its record and pins say: 1 when it is whole and on its
 * device, 0 when not (a join cut short, a link detached or its device
 * gone, a filter that is not ours), -errno when it can't tell.
 */
static int member_open(const char *dir, const struct fa_set_member_rec *r,
		       struct fa_set_member *m)
{
	char path[PATH_MAX];
	__u32 id;
	int i;

	memset(m, 0, sizeof(*m));
	m->ifindex = r->ifindex;
	m->ingress = r->ingress;
	m->tc_api = r->tc_api;
	m->created_qdisc = r->created_qdisc;
	for (i = 0; i < FA_SET_NR_HOOKS; i++) {
		m->link[i] = -1;
		m->tc_handle[i] = r->tc_handle[i];
		m->tc_priority[i] = r->tc_priority[i];
	}
	if (!r->linked)
		return 0;
	for (i = 0; i < FA_SET_NR_HOOKS; i++) {
		if (!hook_used(r, i))
			continue;
		if (!hook_is_link(r, i)) {
			if (!r->tc_handle[i] ||
			    !filter_ours(r->ifindex, i, r->tc_handle[i], r->tc_priority[i]))
				return 0;
			continue;
		}
		link_path(path, sizeof(path), dir, r->ifindex, i);
		m->link[i] = bpf_obj_get(path);
		if (m->link[i] < 0)
			return errno == ENOENT ? 0 : -errno;
		if (link_ifindex(m->link[i], &id) != r->ifindex)
			return 0;
	}
	return 1;
}

int fa_set_member_probe(const char *dir, const struct fa_set_member_rec *r,
			__u32 link_id[FA_SET_NR_HOOKS])
{
	char path[PATH_MAX];
	bool whole = r->linked;
	int i, fd;

	for (i = 0; i < FA_SET_NR_HOOKS; i++) {
		link_id[i] = 0;
		if (!hook_used(r, i))
			continue;
		if (!hook_is_link(r, i)) {
			if (!r->tc_handle[i] ||
			    !filter_ours(r->ifindex, i, r->tc_handle[i], r->tc_priority[i]))
				whole = false;
			continue;
		}
		link_path(path, sizeof(path), dir, r->ifindex, i);
		fd = bpf_obj_get(path);
		if (fd < 0) {
			whole = false;
			continue;
		}
		if (link_ifindex(fd, &link_id[i]) != r->ifindex)
			whole = false;
		close(fd);
	}
	return whole;
}

static void member_close(struct fa_set_member *m)
{
	int i;

	for (i = 0; i < FA_SET_NR_HOOKS; i++) {
		if (m->link[i] >= 0)
			close(m->link[i]);
		m->link[i] = -1;
	}
}

int fa_set_adopt(struct fa_set *s, const char *dirname, struct fa_set_member *m,
		 size_t max, size_t *n, const struct fa_vxlan_ports *vxlan)
{
	struct fa_set_member_rec r;
	__u32 *keys = NULL;
	size_t nkeys = 0, j;
	struct fa_pinned p;
	char path[PATH_MAX];
	struct bpf_map *map;
	const char *name;
	int i, err, vsz;

	set_init(s);
	*n = 0;
	err = set_lock(s, dirname);
	if (err)
		return err;
	err = fa_pinned_open_dir(dirname, &p);
	if (err) {
		fa_lock_release(&s->lock);
		return err;
	}
	/* Its members' indexes and filters mean something only there. */
	if (!fa_state_netns_self(&p.state)) {
		fa_pinned_close(&p);
		fa_lock_release(&s->lock);
		return -EXDEV;
	}
	s->opts = (struct fa_load_opts){
		.shared = p.state.shared_map,
		.max_flows = p.state.max_flows,
		.progs = FA_PROG_XDP | FA_PROG_TC_EGRESS | FA_PROG_TC_INGRESS,
		.owners = p.state.owners,
		.retrans = p.state.retrans,
		.passive_rtt = p.state.passive_rtt,
		.per_iface = true,
		.decap = fa_tunnels_fd(p.fd[FA_PIN_TUNNELS]) >= 0 ? FLOW_DECAP_INNER :
									  FLOW_DECAP_OFF,
	};
	if (vxlan)
		s->opts.vxlan = *vxlan;
	s->opts.keys_untagged = fa_map_key_size(p.fd[FA_PIN_FLOWS_0]) == FLOW_KEY_SIZE_OFF;
	/*
	 * The release before's counters: the programs count no further, and
	 * open no tunnel (their counters are past the end).
	 */
	vsz = p.fd[FA_PIN_STATS] >= 0 ? fa_stats_map_check(p.fd[FA_PIN_STATS]) : 0;
	if (vsz > 0 && (size_t)vsz < sizeof(struct flow_stats)) {
		s->opts.nr_counters = vsz / 8 - 1;
		s->opts.decap = FLOW_DECAP_OFF;
	}
	err = fa_progs_open(&s->opts, &s->skel);
	/* The programs loaded again, on the set's own maps. */
	for (i = 0; i < FA_NR_PINS && !err; i++) {
		if (i == FA_PIN_STATE || p.fd[i] < 0)
			continue;
		name = i == FA_PIN_EPOCH ? ".data.epoch" : fa_pin_name(i);
		map = bpf_object__find_map_by_name(s->skel->obj, name);
		if (map && bpf_map__reuse_fd(map, p.fd[i]))
			err = -errno;
	}
	fa_pinned_close(&p);
	if (!err)
		err = flowacct_bpf__load(s->skel);
	if (!err) {
		set_progs(s);
		fa_pin_path(path, sizeof(path), dirname, FA_SET_MEMBERS_PIN);
		s->members_fd = bpf_obj_get(path);
		err = s->members_fd < 0 ? -errno : 0;
	}
	if (err) {
		fa_set_close(s);
		return err;
	}
	snprintf(s->dir, sizeof(s->dir), "%s", dirname);
	/* The keys first: a member undone is deleted from the map walked. */
	keys = calloc(FLOW_SET_MAX_IFACES, sizeof(*keys));
	if (!keys)
		err = -ENOMEM;
	while (!err && nkeys < FLOW_SET_MAX_IFACES &&
	       !bpf_map_get_next_key(s->members_fd, nkeys ? &keys[nkeys - 1] : NULL,
				     &keys[nkeys]))
		nkeys++;
	for (j = 0; j < nkeys && !err; j++) {
		if (bpf_map_lookup_elem(s->members_fd, &keys[j], &r))
			continue;
		if (*n >= max) {
			err = -E2BIG;
			break;
		}
		err = member_open(dirname, &r, &m[*n]);
		if (err > 0) {
			(*n)++;
			err = 0;
			continue;
		}
		member_close(&m[*n]);
		if (err)
			break;
		/*
		 * A join a kill cut short, or a device gone: undone. Its rows
		 * stay, to be drained and forgotten (fa_set_rows_list()).
		 */
		member_undo(dirname, &r, true);
		bpf_map_delete_elem(s->members_fd, &keys[j]);
	}
	free(keys);
	if (err) {
		for (j = 0; j < *n; j++)
			member_close(&m[j]);
		*n = 0;
		fa_set_close(s);
	}
	return err;
}

int fa_set_remove(const char *dirname)
{
	struct fa_set_member_rec r;
	struct fa_attach_state st;
	struct fa_lock lock;
	char path[PATH_MAX];
	__u32 k, next, *prev = NULL;
	int fd, holder, holder_kind, err;
	bool devices;

	/*
	 * Filters are found by index, which means something only in the set's
	 * namespace: from another (its own deleted, say), only the pins go,
	 * and with them the links.
	 */
	err = fa_lock_take(dirname, FA_LOCK_ADMIN, &lock, &holder, &holder_kind);
	if (err)
		return err;
	devices = !fa_state_read(dirname, &st) && fa_state_netns_self(&st);
	fa_pin_path(path, sizeof(path), dirname, FA_SET_MEMBERS_PIN);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		while (!bpf_map_get_next_key(fd, prev, &next)) {
			k = next;
			prev = &k;
			if (!bpf_map_lookup_elem(fd, &k, &r))
				member_undo(dirname, &r, devices);
		}
		close(fd);
	}
	err = dir_remove(dirname);
	/* Its lock file goes with it, the pins being gone. */
	fa_lock_release(&lock);
	return err;
}

int fa_set_rows_list(const struct fa_set *s, __u32 *ifindex, size_t max, size_t *n)
{
	struct flow_slot_key k, next;
	const void *prev = NULL;

	*n = 0;
	while (!bpf_map_get_next_key(s->fd[FA_PIN_STATS], prev, &next)) {
		k = next;
		prev = &k;
		if (k.slot || !k.ifindex)
			continue;
		if (*n >= max)
			return -E2BIG;
		ifindex[(*n)++] = k.ifindex;
	}
	return 0;
}
