// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The programs on a live interface: ingress at XDP (through libxdp, whose
 * dispatcher lets other XDP programs stay) or at TC, egress at TC, both
 * through TCX links where the kernel has them (pinned beside the maps: a
 * link lives as long as its pin) or libbpf's TC API on clsact where it does
 * not (the filter holds the program). The attach record is pinned first and
 * updated after every step, so whatever stops attach, detach (from any later
 * process) knows what to undo, and status what is there.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "internal.h"
#include "flowacct.skel.h"
#include "tcfilter.h"
#include "tcx.h"

#define MAX_FILTERS 64

/*
 * Drivers of virtual devices. On them XDP is the wrong ingress hook: native
 * XDP on a veth turns off its peer's TSO (the peer then sends MTU-sized
 * segments), virtio_net turns off the guest's receive offloads or refuses,
 * and generic XDP sees GRO/GSO super-frames without their segment count. TC
 * keeps the offloads and has gso_segs.
 */
static const char *const virtual_drivers[] = {
	"veth", "virtio_net", "tun", "bridge", "bonding", "team", "macvlan",
	"macvtap", "ipvlan", "ipvtap", "vxlan", "geneve", "gre", "ip_gre",
	"ip6_gre", "ipip", "ip6_tunnel", "sit", "wireguard", "dummy", "vrf",
	"openvswitch", "802.1Q VLAN Support", "ifb", "nlmon", "netkit", "vcan",
	"xfrm", "gtp", "bareudp", "hsr", "macsec",
};

int fa_ingress_auto(const char *driver, int *why)
{
	size_t i;

	if (!driver[0]) {
		/* No driver to ask (loopback, some tunnels): virtual. */
		*why = FA_WHY_VIRTUAL;
		return FA_INGRESS_TC;
	}
	for (i = 0; i < ARRAY_SIZE(virtual_drivers); i++) {
		if (!strcmp(driver, virtual_drivers[i])) {
			*why = FA_WHY_VIRTUAL;
			return FA_INGRESS_TC;
		}
	}
	*why = FA_WHY_NATIVE_XDP;
	return FA_INGRESS_XDP_NATIVE;
}

static int prog_name_by_id(__u32 id, char *name, size_t len)
{
	struct bpf_prog_info info = {};
	__u32 info_len = sizeof(info);
	int fd, err;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &info_len);
	close(fd);
	if (err)
		return -errno;
	snprintf(name, len, "%s", info.name);
	return 0;
}

bool fa_prog_is(__u32 id, const char *want)
{
	char name[BPF_OBJ_NAME_LEN];

	return !prog_name_by_id(id, name, sizeof(name)) && !strcmp(name, want);
}

/* What is attached at XDP on an interface, as xdp_attached() sees it. */
enum xdp_kind {
	XDP_NONE,
	XDP_SINGLE,	/* one program, no dispatcher: libxdp's "legacy" */
	XDP_DISPATCHED,	/* libxdp's dispatcher, or programs in several modes */
};

/*
 * The program at XDP on @ifindex, asked of libbpf: @id and the XDP_FLAGS_*
 * of its mode, for a single program. libxdp is asked only for what a
 * dispatcher holds: libxdp 1.3 (Debian 12's) leaks a descriptor of the
 * attached program at every xdp_multiprog__get_from_ifindex() (fixed in
 * 1.4), and in a daemon each leaked one kept a program and its maps alive
 * after the interface had left.
 */
static enum xdp_kind xdp_attached(int ifindex, __u32 *id, __u32 *flags)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char name[BPF_OBJ_NAME_LEN];

	*id = 0;
	*flags = 0;
	if (bpf_xdp_query(ifindex, 0, &q) || q.attach_mode == XDP_ATTACHED_NONE)
		return XDP_NONE;
	if (q.attach_mode == XDP_ATTACHED_MULTI)
		return XDP_DISPATCHED;
	*id = q.prog_id;
	*flags = q.attach_mode == XDP_ATTACHED_DRV ? XDP_FLAGS_DRV_MODE :
		 q.attach_mode == XDP_ATTACHED_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_HW_MODE;
	if (!prog_name_by_id(*id, name, sizeof(name)) && !strcmp(name, "xdp_dispatcher"))
		return XDP_DISPATCHED;
	return XDP_SINGLE;
}

/*
 * Takes program @id off @ifindex's XDP hook in the mode of @flags,
 * replacing exactly it with nothing, so that a program someone attached
 * since stays. 1, or -errno.
 */
static int xdp_single_off(int ifindex, __u32 id, __u32 flags)
{
	int fd = bpf_prog_get_fd_by_id(id), err;
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = fd);

	if (fd < 0)
		return -errno;
	err = bpf_xdp_detach(ifindex, XDP_FLAGS_REPLACE | flags, &opts) ? -errno : 1;
	close(fd);
	return err;
}

/* Our XDP program on @ifindex (recorded id, or any named flowacct_xdp). */
static __u32 xdp_find(int ifindex, __u32 want_id)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	__u32 found = 0, id, flags;

	switch (xdp_attached(ifindex, &id, &flags)) {
	case XDP_NONE:
		return 0;
	case XDP_SINGLE:
		return (want_id ? id == want_id : fa_prog_is(id, FA_XDP_PROG_NAME)) ? id : 0;
	case XDP_DISPATCHED:
		break;
	}
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (libxdp_get_error(mp) || !mp)
		return 0;
	for (p = xdp_multiprog__next_prog(NULL, mp); p && !found;
	     p = xdp_multiprog__next_prog(p, mp)) {
		id = xdp_program__id(p);
		if (want_id ? id == want_id : !strcmp(xdp_program__name(p), FA_XDP_PROG_NAME))
			found = id;
	}
	xdp_multiprog__close(mp);
	return found;
}

/*
 * Removes our XDP program from @ifindex: the one with @prog_id, or if that
 * is 0 (attach died before recording it), any program named flowacct_xdp.
 * Other programs in the dispatcher stay. Returns how many were removed.
 */
static int xdp_remove(int ifindex, __u32 prog_id)
{
	struct xdp_program *p, *targets[16];
	struct xdp_multiprog *mp;
	enum xdp_attach_mode mode;
	__u32 id, flags;
	int n = 0, i, err = 0;

	switch (xdp_attached(ifindex, &id, &flags)) {
	case XDP_NONE:
		return 0;
	case XDP_SINGLE:
		if (prog_id ? id != prog_id : !fa_prog_is(id, FA_XDP_PROG_NAME))
			return 0;
		return xdp_single_off(ifindex, id, flags);
	case XDP_DISPATCHED:
		break;
	}
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (libxdp_get_error(mp) || !mp)
		return 0;
	mode = xdp_multiprog__attach_mode(mp);
	for (p = xdp_multiprog__next_prog(NULL, mp); p && n < 16;
	     p = xdp_multiprog__next_prog(p, mp))
		targets[n++] = p;
	for (i = 0; i < n; i++) {
		p = targets[i];
		if (prog_id ? xdp_program__id(p) != prog_id :
			      strcmp(xdp_program__name(p), FA_XDP_PROG_NAME))
			continue;
		err = xdp_program__detach(p, ifindex, mode, 0);
		err = err ? err : 1;
		break;
	}
	xdp_multiprog__close(mp);
	/*
	 * libxdp could not take it off (its own state is gone with a killed
	 * process, say): exactly our program, if it is the one attached.
	 */
	if (err < 0 && prog_id)
		err = xdp_single_off(ifindex, prog_id, flags);
	return err;
}

/*
 * Removes our filter from @ifindex's clsact side: the one with @prog_id, or
 * any filter running a program named @name. Returns how many were removed.
 */
static int tc_remove(int ifindex, bool egress, __u32 prog_id, const char *name)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	struct tc_filter_info f[MAX_FILTERS];
	int n, i, err, removed = 0;

	err = tc_filters_list(ifindex, egress, f, MAX_FILTERS, &n);
	if (err)
		return err;
	for (i = 0; i < n && i < MAX_FILTERS; i++) {
		if (!f[i].is_bpf)
			continue;
		if (prog_id ? f[i].prog_id != prog_id : !fa_prog_is(f[i].prog_id, name))
			continue;
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = f[i].handle,
				    .priority = f[i].priority);
		err = bpf_tc_detach(&hook, &opts);
		if (err)
			return err;
		removed++;
	}
	return removed;
}

static __u32 tc_find(int ifindex, bool egress, const char *name)
{
	struct tc_filter_info f[MAX_FILTERS];
	int n, i;

	if (tc_filters_list(ifindex, egress, f, MAX_FILTERS, &n))
		return 0;
	for (i = 0; i < n && i < MAX_FILTERS; i++)
		if (f[i].is_bpf && fa_prog_is(f[i].prog_id, name))
			return f[i].prog_id;
	return 0;
}

/* Our program on @ifindex's TCX side: the entry with @link_id, or with 0,
 * the first program named @name. 0: none. */
static __u32 tcx_find(int ifindex, bool egress, __u32 link_id, __u32 prog_id,
		      const char *name)
{
	struct fa_tcx_entry t[FA_TCX_MAX];
	int n, i;

	n = fa_tcx_query(ifindex, egress, t, FA_TCX_MAX);
	for (i = 0; i < n; i++) {
		if (link_id ? t[i].link_id == link_id && t[i].prog_id == prog_id :
			      fa_prog_is(t[i].prog_id, name))
			return t[i].prog_id;
	}
	return 0;
}

int fa_find_ours(int ifindex, struct fa_found *f)
{
	f->xdp_id = xdp_find(ifindex, 0);
	f->tc_id = tc_find(ifindex, true, FA_TC_PROG_NAME);
	if (!f->tc_id)
		f->tc_id = tcx_find(ifindex, true, 0, 0, FA_TC_PROG_NAME);
	f->tci_id = tc_find(ifindex, false, FA_TC_IN_PROG_NAME);
	if (!f->tci_id)
		f->tci_id = tcx_find(ifindex, false, 0, 0, FA_TC_IN_PROG_NAME);
	return 0;
}

/* Takes a TCX link off its interface now, whoever else holds it. */
static int tcx_link_off(int fd)
{
	int err = bpf_link_detach(fd) ? -errno : 0;

	/* -ENOLINK: off already (its interface went, or a detach before). */
	return err == -ENOLINK ? 0 : err;
}

/*
 * Takes the TCX link pinned in @dirname for the @egress side off its
 * device, wherever the device is now (a link knows its device, not by a
 * namespace's index). 1: the pin was there; 0: no pin; or -errno.
 */
static int tcx_pin_off(const char *dirname, bool egress)
{
	char path[PATH_MAX];
	int fd, err;

	fa_pin_path(path, sizeof(path), dirname, fa_tcx_pin_name(egress));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	err = tcx_link_off(fd);
	close(fd);
	return err ? err : 1;
}

/*
 * Removes our TCX programs from @ifindex's @egress side: the link pinned as
 * ours in @dirname, and any program named @name on the hook (a killed
 * attach's, whose record does not name it, or one whose pins are gone while
 * someone else holds its link). Each is taken off at once, whoever else
 * holds the link. Returns how many, or -errno. The pins themselves go with
 * the directory (fa_pins_remove).
 */
static int tcx_remove(const char *dirname, int ifindex, bool egress,
		      const char *name)
{
	struct fa_tcx_entry t[FA_TCX_MAX];
	int n, i, fd, err, removed = 0;

	if (dirname) {
		removed = tcx_pin_off(dirname, egress);
		if (removed < 0)
			return removed;
	}
	n = fa_tcx_query(ifindex, egress, t, FA_TCX_MAX);
	if (n == -EINVAL)
		return removed;	/* a kernel without TCX: nothing there */
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		if (!fa_prog_is(t[i].prog_id, name))
			continue;
		if (t[i].link_id) {
			fd = bpf_link_get_fd_by_id(t[i].link_id);
			err = fd < 0 ? -errno : tcx_link_off(fd);
		} else {
			fd = bpf_prog_get_fd_by_id(t[i].prog_id);
			err = fd < 0 ? -errno :
			      bpf_prog_detach2(fd, ifindex, egress ? FA_BPF_TCX_EGRESS :
								     FA_BPF_TCX_INGRESS) ?
					   -errno : 0;
		}
		if (fd >= 0)
			close(fd);
		if (err == -ENOENT)
			continue;	/* gone between the query and now */
		if (err)
			return err;
		removed++;
	}
	return removed;
}

/* clsact goes only if we made it and no filter, ours or not, is left on it. */
int fa_tc_remove_qdisc(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	struct tc_filter_info f[1];
	int in, out, err;

	err = tc_filters_list(ifindex, false, f, 0, &in);
	if (!err)
		err = tc_filters_list(ifindex, true, f, 0, &out);
	if (err)
		return err;
	if (in || out)
		return 0;
	err = bpf_tc_hook_destroy(&hook);
	return err == -ENOENT || err == -EINVAL ? 0 : err;
}

int fa_detach(const char *dirname, const struct fa_attach_state *st, int ifindex)
{
	int removed = 0, err;

	if (ifindex) {
		/* Recorded ids first; then by name, for what a killed attach
		 * had attached but not yet recorded. */
		if (st && st->xdp_prog_id) {
			err = xdp_remove(ifindex, st->xdp_prog_id);
			if (err < 0)
				return err;
			removed += err;
		}
		err = xdp_remove(ifindex, 0);
		if (err < 0)
			return err;
		removed += err;
		err = tcx_remove(dirname, ifindex, true, FA_TC_PROG_NAME);
		if (err < 0)
			return err;
		removed += err;
		err = tcx_remove(dirname, ifindex, false, FA_TC_IN_PROG_NAME);
		if (err < 0)
			return err;
		removed += err;
		err = tc_remove(ifindex, true,
				st && st->tc_api == FA_TC_CLSACT ? st->tc_prog_id : 0,
				FA_TC_PROG_NAME);
		if (!err && st && st->tc_api == FA_TC_CLSACT && st->tc_prog_id)
			err = tc_remove(ifindex, true, 0, FA_TC_PROG_NAME);
		if (err < 0)
			return err;
		removed += err;
		err = tc_remove(ifindex, false,
				st && st->tci_api == FA_TC_CLSACT ? st->tci_prog_id : 0,
				FA_TC_IN_PROG_NAME);
		if (!err && st && st->tci_api == FA_TC_CLSACT && st->tci_prog_id)
			err = tc_remove(ifindex, false, 0, FA_TC_IN_PROG_NAME);
		if (err < 0)
			return err;
		removed += err;
		if (st && st->created_qdisc) {
			err = fa_tc_remove_qdisc(ifindex);
			if (err < 0)
				return err;
		}
	}
	/* With the interface gone, the kernel has taken our links off it;
	 * their pins, which go here, were all that held them. */
	if (dirname)
		removed += fa_pins_remove(dirname);
	return removed;
}

struct detach_there {
	int nsfd;
	const struct fa_attach_state *st;
	int ifindex;
	int ret;
};

static void *detach_there_thread(void *arg)
{
	struct detach_there *d = arg;

	/* This thread only, and it ends there: the others stay here. */
	if (setns(d->nsfd, CLONE_NEWNET)) {
		d->ret = -errno;
		return NULL;
	}
	d->ret = fa_detach(NULL, d->st, d->ifindex);
	return NULL;
}

int fa_detach_moved(const char *dirname, const struct fa_attach_state *st, int nsid,
		    int ifindex)
{
	struct fa_attach_state there;
	struct detach_there d = { .st = st, .ifindex = ifindex };
	pthread_t t;
	int removed = 0, err, side;

	for (side = 0; side < 2; side++) {
		err = tcx_pin_off(dirname, side);
		if (err < 0)
			return err;
		removed += err;
	}
	/* Nothing of ours but TCX links (clsact went with the move: the
	 * kernel destroys a moved device's qdiscs). */
	if (st && !st->xdp_prog_id)
		return removed;
	if (nsid < 0 || ifindex <= 0)
		return -ENOENT;
	d.nsfd = fa_netns_open_nsid(nsid);
	if (d.nsfd < 0)
		return d.nsfd;
	if (st) {
		/* Our programs by their recorded ids, at the index it has there. */
		there = *st;
		there.ifindex = ifindex;
		d.st = &there;
	}
	err = pthread_create(&t, NULL, detach_there_thread, &d);
	if (!err)
		pthread_join(t, NULL);
	close(d.nsfd);
	if (err)
		return -err;
	return d.ret < 0 ? d.ret : removed + d.ret;
}

static bool tc_live(int ifindex, bool egress, __u32 handle, __u32 prio, __u32 id)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = prio);

	return id && !bpf_tc_query(&hook, &opts) && opts.prog_id == id;
}

int fa_attach_live(const struct fa_attach_state *st, struct fa_live *live)
{
	if (st->tc_api == FA_TC_TCX)
		live->egress = st->tc_link_id &&
			       tcx_find(st->ifindex, true, st->tc_link_id,
					st->tc_prog_id, NULL);
	else
		live->egress = tc_live(st->ifindex, true, st->tc_handle,
				       st->tc_priority, st->tc_prog_id);
	if (st->ingress == FA_INGRESS_TC && st->tci_api == FA_TC_TCX)
		live->ingress = st->tci_link_id &&
				tcx_find(st->ifindex, false, st->tci_link_id,
					 st->tci_prog_id, NULL);
	else if (st->ingress == FA_INGRESS_TC)
		live->ingress = tc_live(st->ifindex, false, st->tci_handle,
					st->tci_priority, st->tci_prog_id);
	else
		live->ingress = st->xdp_prog_id &&
				xdp_find(st->ifindex, st->xdp_prog_id) == st->xdp_prog_id;
	return 0;
}

/* ---- attach --------------------------------------------------------------- */

struct attach_ctx {
	struct fa_attach_state st;
	char dirname[64];
	int state_fd;
};

/* Writes the record as it stands; the pinned map is the one detach reads. */
static int record(struct attach_ctx *a)
{
	__u32 zero = 0;

	return bpf_map_update_elem(a->state_fd, &zero, &a->st, BPF_ANY) ? -errno : 0;
}

static int record_create(struct attach_ctx *a)
{
	char path[PATH_MAX];
	int err;

	if (mkdir(FA_PIN_ROOT, 0700) && errno != EEXIST)
		return -errno;
	fa_pin_path(path, sizeof(path), a->dirname, NULL);
	if (mkdir(path, 0700))
		return -errno;
	a->state_fd = fa_state_map_create(&a->st);
	if (a->state_fd < 0)
		return a->state_fd;
	fa_pin_path(path, sizeof(path), a->dirname, fa_pin_name(FA_PIN_STATE));
	err = bpf_obj_pin(a->state_fd, path) ? -errno : 0;
	return err;
}

static int pin_maps(struct attach_ctx *a, struct flowacct_bpf *skel)
{
	char path[PATH_MAX];
	int fd[FA_NR_PINS], i;

	fa_progs_map_fds(skel, fd);
	for (i = 0; i < FA_NR_PINS; i++) {
		if (i == FA_PIN_STATE || fd[i] < 0)
			continue;
		fa_pin_path(path, sizeof(path), a->dirname, fa_pin_name(i));
		if (bpf_obj_pin(fd[i], path))
			return -errno;
	}
	return 0;
}

static int attach_xdp(struct attach_ctx *a, struct flowacct_bpf *skel,
		      struct xdp_program **xp)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, xdp_opts,
			    .prog_name = FA_XDP_PROG_NAME, .obj = skel->obj);
	__u32 id, flags;
	int err;

	/* libxdp loads the whole object (what autoload leaves in it). */
	*xp = xdp_program__create(&xdp_opts);
	err = libxdp_get_error(*xp);
	if (err) {
		*xp = NULL;
		return err;
	}
	err = xdp_program__attach(*xp, a->st.ifindex,
				  a->st.ingress == FA_INGRESS_XDP_SKB ?
					  XDP_MODE_SKB : XDP_MODE_NATIVE, 0);
	if (err)
		return err;
	a->st.xdp_prog_id = xdp_program__id(*xp);
	a->st.xdp_legacy = xdp_attached(a->st.ifindex, &id, &flags) == XDP_SINGLE;
	return 0;
}

static int attach_tc(struct attach_ctx *a, struct bpf_program *prog, bool egress)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = a->st.ifindex,
			    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = bpf_program__fd(prog));
	int err;

	err = bpf_tc_attach(&hook, &opts);
	if (err)
		return err;
	if (egress) {
		a->st.tc_prog_id = opts.prog_id;
		a->st.tc_handle = opts.handle;
		a->st.tc_priority = opts.priority;
	} else {
		a->st.tci_prog_id = opts.prog_id;
		a->st.tci_handle = opts.handle;
		a->st.tci_priority = opts.priority;
	}
	return 0;
}

/*
 * A TCX link, last on the hook (programs attached later, or placed after it,
 * run after ours: ours returns TCX_NEXT and lets them, and clsact's
 * filters after all of them). The link ends with this process unless
 * pinned: pinned before it is recorded, so that a kill in between leaves a
 * pin detach removes with the directory, never a link no one can find.
 */
static int attach_tcx(struct attach_ctx *a, struct bpf_program *prog, bool egress)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd, err;

	fd = fa_tcx_link_create(bpf_program__fd(prog), a->st.ifindex, egress, 0, 0);
	if (fd < 0)
		return fd;
	fa_pin_path(path, sizeof(path), a->dirname, fa_tcx_pin_name(egress));
	err = bpf_obj_pin(fd, path) ? -errno : 0;
	if (!err && bpf_obj_get_info_by_fd(fd, &info, &len))
		err = -errno;
	close(fd);
	if (err)
		return err;
	if (egress) {
		a->st.tc_prog_id = info.prog_id;
		a->st.tc_link_id = info.id;
	} else {
		a->st.tci_prog_id = info.prog_id;
		a->st.tci_link_id = info.id;
	}
	return 0;
}

static int make_clsact(struct attach_ctx *a)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = a->st.ifindex,
			    .attach_point = BPF_TC_EGRESS);
	int had, err;

	had = tc_clsact_exists(a->st.ifindex);
	if (had < 0)
		return had;
	if (had)
		return 0;
	/* Recorded before it exists: a kill right after creating it must
	 * still leave detach knowing it was ours. */
	a->st.created_qdisc = 1;
	err = record(a);
	if (err)
		return err;
	err = bpf_tc_hook_create(&hook);
	if (err == -EEXIST) {
		/* Someone made one between our look and ours: theirs. */
		a->st.created_qdisc = 0;
		return record(a);
	}
	return err;
}

static int attach_steps(struct attach_ctx *a, const struct fa_attach_opts *o,
			struct fa_attach_result *res)
{
	struct fa_load_opts lo = {
		.shared = o->shared,
		.max_flows = o->max_flows,
		.progs = FA_PROG_TC_EGRESS,
		.owners = o->owners,
		.retrans = o->retrans,
		.passive_rtt = o->passive_rtt,
		.decap = o->decap,
		.vxlan = o->vxlan,
	};
	bool xdp = a->st.ingress != FA_INGRESS_TC;
	struct xdp_program *xp = NULL;
	struct flowacct_bpf *skel = NULL;
	int err;

	lo.progs |= xdp ? FA_PROG_XDP : FA_PROG_TC_INGRESS;
	res->step = FA_STEP_LOAD;
	err = fa_progs_open(&lo, &skel);
	if (err)
		goto out;
	if (xdp) {
		res->step = FA_STEP_XDP;
		err = attach_xdp(a, skel, &xp);
	} else {
		err = flowacct_bpf__load(skel);
	}
	if (err)
		goto out;
	err = record(a);
	if (err)
		goto out;

	res->step = FA_STEP_SAMPLING;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.flow_sample_cfg),
				&(__u32){ 0 }, &o->sample, BPF_ANY)) {
		err = -errno;
		goto out;
	}
	if (a->st.tc_api == FA_TC_CLSACT || (!xdp && a->st.tci_api == FA_TC_CLSACT)) {
		res->step = FA_STEP_QDISC;
		err = make_clsact(a);
		if (err)
			goto out;
	}
	if (!xdp) {
		res->step = FA_STEP_TC_INGRESS;
		err = a->st.tci_api == FA_TC_TCX ?
			      attach_tcx(a, skel->progs.flowacct_tc_in, false) :
			      attach_tc(a, skel->progs.flowacct_tc_in, false);
		if (!err)
			err = record(a);
		if (err)
			goto out;
	}
	res->step = FA_STEP_TC_EGRESS;
	err = a->st.tc_api == FA_TC_TCX ? attach_tcx(a, skel->progs.flowacct_tc, true) :
					  attach_tc(a, skel->progs.flowacct_tc, true);
	if (!err)
		err = record(a);
	if (err)
		goto out;

	res->step = FA_STEP_PIN;
	err = pin_maps(a, skel);
	if (err)
		goto out;
	/* Its drops, in tables pinned beside the flows', on the same epoch:
	 * a daemon that adopts the attachment drains them with the flows. */
	if (o->drops) {
		struct fa_drop_opts dopts = { .mode = o->drops, .decap = o->decap, .vxlan = o->vxlan };
		int fd[FA_NR_PINS];

		res->step = FA_STEP_DROPS;
		fa_progs_map_fds(skel, fd);
		err = fa_drop_attach_iface(a->dirname, &dopts, fd[FA_PIN_EPOCH], a->st.ifindex);
		if (err)
			goto out;
	}
	a->st.complete = 1;
	err = record(a);
out:
	xdp_program__close(xp);
	flowacct_bpf__destroy(skel);
	return err;
}

/* The TC API asked for, or with auto, TCX if the kernel has it. */
static __u8 tc_api_choose(int tc_api, int ifindex)
{
	if (tc_api == FA_TC_ASK_AUTO)
		return fa_tcx_supported(ifindex) ? FA_TC_TCX : FA_TC_CLSACT;
	return tc_api == FA_TC_ASK_TCX ? FA_TC_TCX : FA_TC_CLSACT;
}

int fa_attach(const struct fa_attach_opts *o, struct fa_attach_result *res)
{
	struct attach_ctx a = { .state_fd = -1 };
	struct fa_ifid id;
	int err, why = FA_WHY_ASKED;

	memset(res, 0, sizeof(*res));
	err = fa_ifid_by_name(o->ifname, &id);
	if (err)
		return err;
	fa_ifid_dirname(&id, a.dirname, sizeof(a.dirname));
	a.st.version = FA_ATTACH_STATE_VERSION;
	a.st.ifindex = id.ifindex;
	a.st.netns_ino = id.netns_ino;
	a.st.netns_cookie = id.netns_cookie;
	a.st.attached_at = time(NULL);
	a.st.max_flows = o->max_flows;
	a.st.key_size = flow_key_size(o->decap);
	a.st.value_size = sizeof(struct flow_map_value);
	a.st.shared_map = o->shared;
	a.st.owners = o->owners;
	a.st.retrans = o->retrans;
	a.st.passive_rtt = o->passive_rtt;
	a.st.by_run = o->by_run;
	snprintf(a.st.ifname, sizeof(a.st.ifname), "%s", o->ifname);
	fa_iface_driver(o->ifname, a.st.driver, sizeof(a.st.driver));
	a.st.ingress = o->ingress ? o->ingress : fa_ingress_auto(a.st.driver, &why);
	a.st.ingress_why = why;
	/* Recorded before any link exists, as created_qdisc is. */
	a.st.tc_api = tc_api_choose(o->tc_api, id.ifindex);
	if (a.st.ingress == FA_INGRESS_TC)
		a.st.tci_api = a.st.tc_api;

	res->step = FA_STEP_RECORD;
	err = record_create(&a);
	if (!err) {
		err = attach_steps(&a, o, res);
		/*
		 * A driver without native XDP, found by trying: TC is the
		 * hook for it (only when we chose XDP ourselves).
		 */
		if (err == -EOPNOTSUPP && res->step == FA_STEP_XDP && !o->ingress) {
			fa_detach(NULL, &a.st, a.st.ifindex);
			a.st.ingress = FA_INGRESS_TC;
			a.st.ingress_why = FA_WHY_NO_NATIVE;
			a.st.tci_api = a.st.tc_api;
			a.st.xdp_prog_id = 0;
			err = record(&a);
			if (!err)
				err = attach_steps(&a, o, res);
		}
	}
	if (err) {
		/* Everything attach did, and only that, is in the record. */
		fa_detach(a.dirname, &a.st, a.st.ifindex);
	} else {
		res->state = a.st;
		snprintf(res->dirname, sizeof(res->dirname), "%s", a.dirname);
	}
	if (a.state_fd >= 0)
		close(a.state_fd);
	return err;
}
