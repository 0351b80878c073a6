// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * One interface attached as attach and the daemon do it: the attach options
 * checked once, then lock, leftovers, adopt-or-attach, and the one line
 * that says what went wrong and what to try. See attach.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "attach.h"
#include "internal.h"
#include "flowacct.skel.h"

int fa_attach_args_resolve(const struct fa_attach_args *a,
			   struct fa_attach_opts *o, unsigned int *flags,
			   struct fa_err *e)
{
	*flags = 0;
	if (a->xdp_mode && a->ingress == FA_INGRESS_TC)
		return fa_err_set(e, -EINVAL,
				  "--mode is for XDP at ingress; it does not go with --ingress tc");
	*o = (struct fa_attach_opts){
		.ingress = a->xdp_mode ? a->xdp_mode : a->ingress > 0 ? a->ingress : 0,
		.tc_api = a->tc_api,
		.shared = a->shared != 0,
		.max_flows = a->max_flows ? a->max_flows : FLOW_DEFAULT_MAX_FLOWS,
		.sample = { .rate = a->sample_rate, .mode = a->sample_mode,
			    .snaplen = a->snaplen },
		.owners = a->attribution,
		.retrans = a->retrans,
		.passive_rtt = a->passive_rtt,
		.decap = a->decap,
		.vxlan = a->vxlan,
	};
	if (a->shared < 0)
		*flags |= FA_IFACE_ANY_MAP;
	if (!a->max_flows)
		*flags |= FA_IFACE_ANY_MAX_FLOWS;
	if (a->force_memory)
		*flags |= FA_IFACE_ANY_MEMORY;
	return 0;
}

static const char *step_name(enum fa_attach_step step)
{
	switch (step) {
	case FA_STEP_RECORD:	return "pin the attach record";
	case FA_STEP_LOAD:	return "load the BPF programs";
	case FA_STEP_XDP:	return "attach XDP";
	case FA_STEP_SAMPLING:	return "set sampling";
	case FA_STEP_QDISC:	return "create a clsact qdisc";
	case FA_STEP_TC_INGRESS: return "attach the TC ingress program";
	case FA_STEP_TC_EGRESS:	return "attach the TC egress program";
	case FA_STEP_PIN:	return "pin the maps";
	case FA_STEP_DROPS:	return "load the drop program";
	}
	return "attach";
}

/* fa_attach()'s failure as a line, with the hint the driver or size calls for. */
static int attach_error(const struct fa_attach_opts *o, struct fa_iface_result *res,
			int err, struct fa_err *e)
{
	enum fa_attach_step step = res->attach.step;

	if (step == FA_STEP_XDP && err == -EOPNOTSUPP)
		return fa_err_set(e, err, "the driver of '%s' does not support native XDP; try --mode skb or --ingress tc",
				  o->ifname);
	if (step == FA_STEP_XDP && (err == -EEXIST || err == -EBUSY))
		return fa_err_set(e, err, "'%s' has an XDP program that libxdp can't share (attached in another mode, or not through libxdp's dispatcher); --ingress tc leaves it alone",
				  o->ifname);
	if (step == FA_STEP_LOAD && (err == -ENOMEM || err == -E2BIG))
		return fa_err_set(e, err, "can't make two tables of %u flows for '%s': %s; try a smaller --max-flows",
				  o->max_flows, o->ifname, strerror(-err));
	if ((step == FA_STEP_TC_INGRESS || step == FA_STEP_TC_EGRESS) &&
	    o->tc_api == FA_TC_ASK_TCX && err == -EINVAL)
		return fa_err_set(e, err, "can't %s on '%s' with a TCX link: %s (TCX needs Linux 6.6 or later); try --tc-api clsact",
				  step_name(step), o->ifname, strerror(-err));
	res->libbpf_said = true;
	return fa_err_set(e, err, "can't %s on '%s': %s", step_name(step),
			  o->ifname, strerror(-err));
}

__u64 fa_pinned_count_rows(const char *dirname)
{
	static const int tables[] = { FA_PIN_FLOWS_0, FA_PIN_FLOWS_1 };
	__u64 key[32], next[32], n = 0, limit;
	struct bpf_map_info info;
	__u32 len;
	char path[PATH_MAX];
	size_t i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(tables); i++) {
		fa_pin_path(path, sizeof(path), dirname, fa_pin_name(tables[i]));
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
		    info.key_size > sizeof(key)) {
			close(fd);
			continue;
		}
		/* Bounded: a table that changes under us is counted once through. */
		limit = (__u64)info.max_entries * 2;
		if (!bpf_map_get_next_key(fd, NULL, next)) {
			do {
				n++;
				memcpy(key, next, info.key_size);
			} while (--limit && !bpf_map_get_next_key(fd, key, next));
		}
		close(fd);
	}
	return n;
}

/*
 * What a killed attach or a dead namespace left under this interface's
 * name: released, and said in @res. -EEXIST: a complete attachment of
 * this namespace is there.
 */
static int clear_leftovers(const char *dirname, int ifindex, __u64 cookie,
			   struct fa_iface_result *res)
{
	struct fa_pin_entry *l;
	size_t i, n;
	int err;

	err = fa_pins_list(&l, &n);
	if (err)
		return err;
	for (i = 0; i < n && !err; i++) {
		if (strcmp(l[i].dirname, dirname))
			continue;
		if (!l[i].err && l[i].state.complete &&
		    (!cookie || !l[i].state.netns_cookie ||
		     l[i].state.netns_cookie == cookie)) {
			err = -EEXIST;
			break;
		}
		/*
		 * Half-made (attach killed), or left by a namespace that
		 * died and whose inode number this one got: never adopted,
		 * released, and what it held said.
		 */
		res->released_why = l[i].err || !l[i].state.complete ?
				    FA_STALE_HALF_MADE : FA_STALE_NETNS_GONE;
		if (!l[i].err)
			snprintf(res->released_ifname, sizeof(res->released_ifname),
				 "%s", l[i].state.ifname);
		res->released_rows = fa_pinned_count_rows(dirname);
		err = fa_detach(dirname, l[i].err ? NULL : &l[i].state,
				l[i].err || l[i].state.netns_cookie == cookie ||
						!cookie ? ifindex : 0);
		err = err < 0 ? err : 0;
		/* A dead daemon's drain and cache files went with it. */
		if (!err)
			fa_run_daemon_files_remove(dirname);
	}
	free(l);
	if (!err)
		/* Programs of ours no record names. */
		err = fa_detach(NULL, NULL, ifindex);
	return err < 0 ? err : 0;
}

/*
 * A daemon takes what is attached if it is what was asked for: 0 (adopted),
 * -ENOENT (nothing to adopt: attach), or the refusal.
 */
static int adopt(const struct fa_attach_opts *o, unsigned int flags,
		 const struct fa_ifid *id, struct fa_iface_result *res,
		 struct fa_err *e)
{
	const struct fa_attach_state *st = &res->attach.state;
	struct fa_pinned p;
	int err;

	err = fa_pinned_open_dir(res->attach.dirname, &p);
	if (err == -EPROTO)
		return fa_err_set(e, err, "'%s' was attached by another version of flowacct (its maps have another layout); detach it with that version",
				  o->ifname);
	if (err)
		return -ENOENT;
	res->attach.state = p.state;
	fa_pinned_close(&p);
	if (st->netns_cookie && id->netns_cookie && st->netns_cookie != id->netns_cookie)
		return -ENOENT;	/* a dead namespace's: cleared */
	if (!(flags & FA_IFACE_ANY_MAP) && o->shared != st->shared_map)
		return fa_err_set(e, -EEXIST, "'%s' is attached with the %s map: run with --map %s, or detach it first",
				  o->ifname, st->shared_map ? "shared" : "percpu",
				  st->shared_map ? "shared" : "percpu");
	if (!(flags & FA_IFACE_ANY_MAX_FLOWS) && o->max_flows != st->max_flows)
		return fa_err_set(e, -EEXIST, "'%s' is attached with --max-flows %u: run with that, or detach it first",
				  o->ifname, st->max_flows);
	if (o->ingress && o->ingress != st->ingress)
		return fa_err_set(e, -EEXIST, "'%s' is attached with ingress at %s: run with that, or detach it first",
				  o->ifname, fa_ingress_name(st->ingress));
	if (o->tc_api != FA_TC_ASK_AUTO &&
	    (o->tc_api == FA_TC_ASK_TCX ? FA_TC_TCX : FA_TC_CLSACT) != st->tc_api)
		return fa_err_set(e, -EEXIST, "'%s' is attached with TC on %s: run with --tc-api %s, or detach it first",
				  o->ifname, fa_tc_api_name(st->tc_api),
				  fa_tc_api_name(st->tc_api));
	res->adopted = true;
	return 0;
}

/*
 * Before anything is made: the maps at their fullest, and what the caller
 * adds, against what the machine has. A kernel that preallocates 100M flows
 * takes minutes in one system call, deaf to signals, to fail for memory.
 */
int fa_attach_guard(const struct fa_attach_opts *o, struct fa_err *e)
{
	struct fa_load_opts lo = {
		.shared = o->shared,
		.max_flows = o->max_flows,
		.owners = o->owners,
		.retrans = o->retrans,
		.passive_rtt = o->passive_rtt,
		.decap = o->decap,
		.vxlan = o->vxlan,
	};
	struct flowacct_bpf *skel;
	__u64 kernel;
	int err;

	err = fa_progs_open(&lo, &skel);
	if (err)
		return 0;	/* the attach says why, the same way */
	kernel = fa_obj_estimate(skel->obj);
	flowacct_bpf__destroy(skel);
	return fa_memory_guard(o->ifname, kernel, o->more_files, o->more_process, e);
}

int fa_iface_attach(const struct fa_attach_opts *o, unsigned int flags,
		    struct fa_iface_result *res, struct fa_err *e)
{
	struct fa_member_entry m;
	struct fa_ifid id;
	char *dirname = res->attach.dirname;
	int err;

	memset(res, 0, sizeof(*res));
	res->lock.fd = -1;
	err = fa_ifid_by_name(o->ifname, &id);
	if (err == -EINVAL)
		return fa_err_set(e, err, "'%s' is not an interface name", o->ifname);
	if (err)
		return fa_err_set(e, err, "no interface '%s' in this network namespace",
				  o->ifname);
	/* A set's member: never attached alone too. */
	if (!fa_set_member_linked(id.ifindex, NULL, &m))
		return fa_set_member_taken_err(&m, o->ifname, e);
	fa_ifid_dirname(&id, dirname, sizeof(res->attach.dirname));
	err = fa_lock_take_err(dirname, o->ifname,
			       o->by_run ? FA_LOCK_RUN : FA_LOCK_ADMIN, &res->lock, e);
	if (err)
		return err;
	if (flags & FA_IFACE_ADOPT) {
		err = adopt(o, flags, &id, res, e);
		if (err != -ENOENT)
			goto out;
		memset(&res->attach.state, 0, sizeof(res->attach.state));
	}
	err = clear_leftovers(dirname, id.ifindex, id.netns_cookie, res);
	if (err == -EEXIST) {
		fa_err_set(e, err, "'%s' is already attached; see 'flowacct status'",
			   o->ifname);
		goto out;
	}
	if (err) {
		fa_err_set(e, err, "can't clear what an earlier attach left on '%s': %s",
			   o->ifname, strerror(-err));
		goto out;
	}
	if (!(flags & FA_IFACE_ANY_MEMORY)) {
		err = fa_attach_guard(o, e);
		if (err)
			goto out;
	}
	err = fa_attach(o, &res->attach);
	if (err)
		attach_error(o, res, err, e);
out:
	if (err)
		fa_lock_release(&res->lock);
	return err;
}

int fa_iface_detach(const char *ifname, struct fa_err *e)
{
	struct fa_pin_entry pe;
	struct fa_member_entry m;
	struct fa_ifid id;
	struct fa_lock lock;
	char now[FA_IFNAMSIZ];
	int err, ifindex = 0;

	err = fa_pins_find(ifname, &pe);
	if (err == -EINVAL)
		return fa_err_set(e, err, "'%s' is not an interface name", ifname);
	if (err == -EEXIST) {
		id = (struct fa_ifid){ pe.state.netns_ino, pe.state.netns_cookie,
				       pe.state.ifindex };
		fa_ifid_name(&id, now);
		return fa_err_set(e, err, "no interface '%s' here: the one attached as '%s' is called '%s' now; detach '%s'",
				  ifname, ifname, now, now);
	}
	/*
	 * A set's member: its links are the set's (and its programs those of
	 * the set's other members), never detached from here.
	 */
	if (err == -ENOENT && !fa_set_member_find(ifname, &m))
		return fa_set_member_detach_err(&m, ifname, e);
	if (err == -ENOENT) {
		/* No record: programs a killed attach left, found by name. */
		if (fa_ifid_by_name(ifname, &id))
			return fa_err_set(e, -ENODEV, "no interface '%s' in this network namespace",
					  ifname);
		if (fa_detach(NULL, NULL, id.ifindex) > 0)
			return FA_DETACHED_UNRECORDED;
		return fa_err_set(e, -ENOENT, "'%s' is not attached", ifname);
	}
	if (err)
		return fa_err_set(e, err, "can't look for the pins of '%s': %s", ifname,
				  strerror(-err));
	err = fa_lock_take_err(pe.dirname, ifname, FA_LOCK_ADMIN, &lock, e);
	if (err)
		return err;
	/* The interface may be gone: then only the pins are left. */
	id = (struct fa_ifid){ pe.state.netns_ino, pe.state.netns_cookie,
			       pe.state.ifindex };
	if (pe.err || !fa_ifid_name(&id, now))
		ifindex = pe.err ? 0 : (int)pe.state.ifindex;
	if (pe.err && !fa_ifid_by_name(ifname, &id))
		ifindex = id.ifindex;
	err = fa_detach(pe.dirname, pe.err ? NULL : &pe.state, ifindex);
	fa_lock_release(&lock);
	if (err < 0)
		return fa_err_set(e, err, "can't detach from '%s': %s", ifname,
				  strerror(-err));
	if (!err)
		return fa_err_set(e, -ENOENT, "'%s' is not attached", ifname);
	return 0;
}
