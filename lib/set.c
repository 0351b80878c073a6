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
 * clsact filters where it does not. A link lives as long as its fd; the
 * caller keeps the member (and so the fds) for as long as it follows the
 * interface.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "internal.h"
#include "tcx.h"
#include "flowacct.skel.h"

int fa_set_open(struct fa_set *s, const struct fa_load_opts *o)
{
	struct fa_load_opts lo = *o;
	int err;

	memset(s, 0, sizeof(*s));
	lo.per_iface = true;
	lo.replay = false;
	lo.progs = FA_PROG_XDP | FA_PROG_TC_EGRESS | FA_PROG_TC_INGRESS;
	err = fa_progs_load(&lo, &s->skel);
	if (err)
		return err;
	fa_progs_map_fds(s->skel, s->fd);
	s->prog[FA_SET_XDP] = bpf_program__fd(s->skel->progs.flowacct_xdp);
	s->prog[FA_SET_TC_INGRESS] = bpf_program__fd(s->skel->progs.flowacct_tc_in);
	s->prog[FA_SET_TC_EGRESS] = bpf_program__fd(s->skel->progs.flowacct_tc);
	/* Interface 0: what arrives where no rows are (see flow_slot_key). */
	err = fa_set_rows_make(s, 0);
	if (err)
		fa_set_close(s);
	return err;
}

void fa_set_close(struct fa_set *s)
{
	flowacct_bpf__destroy(s->skel);
	s->skel = NULL;
}

int fa_set_rows_make(struct fa_set *s, __u32 ifindex)
{
	int err;

	/* BPF_NOEXIST: an interface whose rows are there was not forgotten. */
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
	return 0;
}

/* A clsact filter: no link, found again by its handle and priority. */
static int filter_tc(struct fa_set *s, struct fa_set_member *m, int which)
{
	bool egress = which == FA_SET_TC_EGRESS;
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = m->ifindex,
		    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = s->prog[which]);
	int err;

	err = bpf_tc_hook_create(&hook);
	if (!err)
		m->created_qdisc = true;
	else if (err != -EEXIST)
		return err;
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		return err;
	m->tc_handle[which] = opts.handle;
	m->tc_priority[which] = opts.priority;
	return 0;
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
	return 0;
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
	/* Rows first: the first packet the links let in finds its own. */
	err = fa_set_rows_make(s, ifindex);
	if (err)
		return err;
	err = m->ingress == FA_INGRESS_TC ? link_tc(s, m, FA_SET_TC_INGRESS) :
					      link_xdp(s, m);
	if (!err)
		err = link_tc(s, m, FA_SET_TC_EGRESS);
	if (err) {
		fa_set_unlink(s, m);
		fa_set_forget(s, ifindex);
	}
	return err;
}

int fa_set_unlink(struct fa_set *s, struct fa_set_member *m)
{
	int i, err = 0;

	(void)s;
	for (i = 0; i < FA_SET_NR_HOOKS; i++) {
		if (m->link[i] >= 0) {
			/* Off the device now, whoever else holds the link. */
			if (bpf_link_detach(m->link[i]) && errno != ENOLINK && !err)
				err = -errno;
			close(m->link[i]);
			m->link[i] = -1;
		} else if (m->tc_handle[i]) {
			LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = m->ifindex,
				    .attach_point = i == FA_SET_TC_EGRESS ? BPF_TC_EGRESS :
									   BPF_TC_INGRESS);
			LIBBPF_OPTS(bpf_tc_opts, opts, .handle = m->tc_handle[i],
				    .priority = m->tc_priority[i]);
			int r = bpf_tc_detach(&hook, &opts);

			if (r && r != -ENOENT && r != -ENODEV && !err)
				err = r;
			m->tc_handle[i] = 0;
		}
	}
	if (m->created_qdisc && !fa_tc_remove_qdisc(m->ifindex))
		m->created_qdisc = false;
	return err;
}
