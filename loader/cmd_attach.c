// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* flowacct attach / detach / status / set: the programs on live interfaces. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include <inttypes.h>

#include "cmds.h"

/* ---- attach ---------------------------------------------------------------- */

struct attach_opts {
	struct fa_attach_args a;
};

static const struct attach_opts defaults_attach = {
	.a = FA_ATTACH_ARGS_DEFAULTS,
};

static const struct opt attach_options[] = {
	ATTACH_OPTIONS(struct attach_opts, a, ""),
	OPT_END
};

/*
 * libxdp attaches directly, with no dispatcher, when it can't build one and
 * nothing else is attached: then no other XDP program can join while we are
 * there. Say so, with libxdp's own reason.
 */
static void note_no_dispatcher(const char *ifname)
{
	const char *why = cli_log_find("Compatibility check for dispatcher");

	if (!why)
		why = cli_log_find("dispatcher");
	pr_note("note: libxdp's dispatcher is not usable here (%s), so flowacct's XDP program is attached to '%s' directly: no other XDP program can share the interface until detach",
		why ? why : "no reason given", ifname);
}

static void print_attached(const struct fa_attach_result *res)
{
	const struct fa_attach_state *st = &res->state;
	struct fa_out o;
	bool xdp = st->ingress != FA_INGRESS_TC;

	cli_out(&o);
	out_obj_open(&o, NULL);
	out_str(&o, "iface", "flowacct attached to %s: ", st->ifname);
	out_u64(&o, "ifindex", NULL, st->ifindex);
	out_str(&o, "ingress_hook", "ingress at %s", fa_ingress_name(st->ingress));
	out_str(&o, "ingress_reason", " (%s", fa_ingress_reason_name(st->ingress_why));
	if (xdp)
		out_bool(&o, "xdp_dispatcher", NULL, !st->xdp_legacy);
	out_text(&o, "%s", xdp && st->xdp_legacy ? ", direct" :
			   xdp ? ", libxdp dispatcher" : "");
	out_u64(&o, "xdp_prog_id", xdp ? ", prog id %" PRIu64 ")" : NULL,
		st->xdp_prog_id);
	out_u64(&o, "tc_ingress_prog_id", xdp ? NULL : ", prog id %" PRIu64 ")",
		st->tci_prog_id);
	out_u64(&o, "tc_prog_id", ", egress at tc (prog id %" PRIu64 ")", st->tc_prog_id);
	out_str(&o, "map", ", %s map", st->shared_map ? "shared" : "percpu");
	out_u64(&o, "max_flows", ", 2 tables of %" PRIu64 " flows", st->max_flows);
	out_str(&o, "pins", "; pins in " FA_PIN_ROOT "/%s\n", res->dirname);
	out_obj_close(&o);
	out_end(&o);
}

static int do_attach(void *opts, int argc, char **argv)
{
	struct attach_opts *o = opts;
	struct fa_attach_opts ao;
	struct fa_iface_result res;
	struct fa_err e = {};
	unsigned int flags;
	int err;

	(void)argc;
	err = cli_attach_args(&o->a, &ao, &flags);
	if (err)
		return err;
	ao.ifname = argv[0];
	err = fa_iface_attach(&ao, 0, &res, &e);
	if (err) {
		cli_err(&e, res.libbpf_said);
		return err;
	}
	print_attached(&res.attach);
	if (res.attach.state.ingress != FA_INGRESS_TC && res.attach.state.xdp_legacy)
		note_no_dispatcher(ao.ifname);
	fa_lock_release(&res.lock);
	return 0;
}

const struct command cmd_attach = {
	.name = "attach",
	.args = "IFACE",
	.summary = "account IFACE: ingress at XDP or TC, egress at TC, until detach",
	.details = "The ingress hook: TC on virtual devices (veth, virtio_net, tun/tap,\n"
		   "bridges, bonds, macvlan, tunnels) and on drivers without native XDP;\n"
		   "native XDP on other NICs. --ingress or --mode choose it yourself.",
	.opts = attach_options,
	.opts_size = sizeof(struct attach_opts),
	.defaults = &defaults_attach,
	.need = NEED_ROOT | NEED_BPFFS,
	.min_args = 1,
	.max_args = 1,
	.run = do_attach,
};

/* ---- detach ---------------------------------------------------------------- */

static int do_detach(void *opts, int argc, char **argv)
{
	struct fa_err e = {};
	struct fa_out o;
	int err;

	(void)opts;
	(void)argc;
	err = fa_iface_detach(argv[0], &e);
	if (err < 0) {
		cli_err(&e, false);
		return err;
	}
	cli_out(&o);
	out_obj_open(&o, NULL);
	out_str(&o, "detached", "flowacct detached from %s", argv[0]);
	out_text(&o, "%s\n", err == FA_DETACHED_UNRECORDED ?
			     " (programs no record named)" : "");
	out_obj_close(&o);
	out_end(&o);
	return 0;
}

const struct command cmd_detach = {
	.name = "detach",
	.args = "IFACE",
	.summary = "remove what attach added to IFACE",
	.details = "The programs, the clsact qdisc if attach created it and nothing else\n"
		   "uses it, and the pins; also what a killed attach left.",
	.opts_size = 0,
	.need = NEED_ROOT | NEED_BPFFS_SEEN,
	.min_args = 1,
	.max_args = 1,
	.run = do_detach,
};

/* ---- status ---------------------------------------------------------------- */

static void status_fill(struct fa_status *s, __u64 ino, __u64 cookie)
{
	const struct fa_attach_state *st = &s->pin.state;
	struct fa_ifid id = { st->netns_ino, st->netns_cookie, st->ifindex };
	struct fa_pinned p;

	s->here = st->netns_ino == ino &&
		  (!cookie || !st->netns_cookie || cookie == st->netns_cookie);
	if (!s->here)
		return;
	/* Named even without a record: detach it by that name. */
	s->gone = fa_ifid_name(&id, s->ifname) != 0;
	if (s->pin.err)
		return;
	if (!s->gone)
		fa_attach_live(st, &s->live);
	s->daemon = fa_lock_owner(s->pin.dirname, FA_LOCK_RUN);
	if (fa_pinned_open_dir(s->pin.dirname, &p))
		return;
	bpf_map_lookup_elem(p.fd[FA_PIN_SAMPLE_CFG], &(__u32){ 0 }, &s->sample);
	s->memory = fa_map_memory(p.fd[FA_PIN_FLOWS_0]) +
		    fa_map_memory(p.fd[FA_PIN_FLOWS_1]);
	fa_pinned_close(&p);
}

/* Programs of ours on interfaces here that no record names. */
static size_t find_orphans(const struct fa_status *st, size_t n,
			   struct fa_orphan **out)
{
	struct if_nameindex *ifs, *i;
	struct fa_orphan *l = NULL, *grown;
	struct fa_found f;
	size_t cnt = 0, k;

	*out = NULL;
	ifs = if_nameindex();
	for (i = ifs; i && i->if_index; i++) {
		for (k = 0; k < n; k++)
			if (st[k].here && st[k].pin.state.ifindex == i->if_index)
				break;
		if (k < n)
			continue;
		fa_find_ours(i->if_index, &f);
		if (!f.xdp_id && !f.tc_id && !f.tci_id)
			continue;
		grown = realloc(l, (cnt + 1) * sizeof(*l));
		if (!grown)
			break;
		l = grown;
		snprintf(l[cnt].ifname, sizeof(l[cnt].ifname), "%s", i->if_name);
		l[cnt].ifindex = i->if_index;
		l[cnt].found = f;
		cnt++;
	}
	if (ifs)
		if_freenameindex(ifs);
	*out = l;
	return cnt;
}

int status_render(struct fa_out *o,
		  void (*daemon_info)(struct fa_out *o, const char *dirname, void *ctx),
		  void *ctx)
{
	struct fa_pin_entry *l;
	struct fa_status *st;
	struct fa_orphan *orph;
	__u64 ino, cookie;
	size_t i, n, norph;
	int err;

	err = fa_pins_list(&l, &n);
	if (!err)
		err = fa_netns_self(&ino, &cookie);
	if (err) {
		pr_err("can't list %s: %s", FA_PIN_ROOT, strerror(-err));
		return err;
	}
	st = calloc(n ? n : 1, sizeof(*st));
	if (!st) {
		free(l);
		pr_err("out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		st[i].pin = l[i];
		status_fill(&st[i], ino, cookie);
	}
	norph = find_orphans(st, n, &orph);
	fa_print_status_doc(o, st, n, orph, norph, daemon_info, ctx);
	free(orph);
	free(st);
	free(l);
	return 0;
}

/* The part of status a daemon that owns the interface adds: asked for. */
static void ask_daemon_info(struct fa_out *o, const char *dirname, void *ctx)
{
	char req[128], *buf = NULL;
	size_t len = 0;
	bool ok = false;
	int pid = fa_lock_owner(dirname, FA_LOCK_RUN);
	FILE *f;

	(void)ctx;
	f = open_memstream(&buf, &len);
	if (!f)
		return;
	snprintf(req, sizeof(req), "info --pins %s", dirname);
	if (pid && !fa_ctl_call(pid, req, f, &ok) && ok) {
		fclose(f);
		while (len && buf[len - 1] == '\n')
			buf[--len] = '\0';
		out_raw(o, "daemon", buf);
	} else {
		fclose(f);
	}
	free(buf);
}

static int do_status(void *opts, int argc, char **argv)
{
	struct fa_out o;

	(void)opts;
	(void)argc;
	(void)argv;
	cli_out(&o);
	return status_render(&o, cli.json ? ask_daemon_info : NULL, NULL);
}

const struct command cmd_status = {
	.name = "status",
	.summary = "which interfaces are attached, how, and whether it is live",
	.need = NEED_ROOT | NEED_BPFFS_SEEN,
	.max_args = 0,
	.run = do_status,
};

/* ---- set ------------------------------------------------------------------- */

static int do_set(void *opts, int argc, char **argv)
{
	struct flow_sample_config cfg;
	struct fa_pinned p;
	char why[160];
	int i, err, mode;

	(void)opts;
	if (argc < 3 || argc % 2 == 0) {
		pr_err("set takes IFACE and one or more of: sample N, sample-mode every|random|hash, snaplen S");
		return -EINVAL;
	}
	if (cli_open_iface(argv[0], &p))
		return -ENOENT;
	err = fa_pinned_sample_get(&p, &cfg);
	if (err) {
		pr_err("can't read the sampling settings of '%s': %s", argv[0],
		       strerror(-err));
		goto out;
	}
	for (i = 1; i < argc; i += 2) {
		err = -EINVAL;
		why[0] = '\0';
		if (!strcmp(argv[i], "sample")) {
			err = parse_sample_rate(argv[i + 1], &cfg.rate, why, sizeof(why));
		} else if (!strcmp(argv[i], "snaplen")) {
			err = parse_snaplen(argv[i + 1], &cfg.snaplen, why, sizeof(why));
		} else if (!strcmp(argv[i], "sample-mode")) {
			for (mode = 0; sample_modes[mode].name; mode++)
				if (!strcmp(argv[i + 1], sample_modes[mode].name))
					break;
			if (sample_modes[mode].name) {
				cfg.mode = sample_modes[mode].value;
				err = 0;
			} else {
				snprintf(why, sizeof(why), "use every, random or hash");
			}
		} else {
			pr_err("can't set '%s': use sample, sample-mode or snaplen", argv[i]);
			goto out;
		}
		if (err) {
			pr_err("%s can't be '%s': %s", argv[i], argv[i + 1], why);
			goto out;
		}
	}
	err = fa_pinned_sample_set(&p, &cfg);
	if (err) {
		pr_err("can't change the sampling of '%s': %s", argv[0], strerror(-err));
		goto out;
	}
	{
		struct fa_out o;

		cli_out(&o);
		out_obj_open(&o, NULL);
		out_str(&o, "iface", "%s: sampling ", argv[0]);
		out_u64(&o, "rate", cfg.rate ? "1 in %" PRIu64 : "off", cfg.rate);
		out_str(&o, "mode", " (%s)", fa_sample_mode_name(cfg.mode));
		out_u64(&o, "snaplen", ", snaplen %" PRIu64 "\n", cfg.snaplen);
		out_obj_close(&o);
		out_end(&o);
	}
out:
	fa_pinned_close(&p);
	return err;
}

const struct command cmd_set = {
	.name = "set",
	.args = "IFACE SETTING VALUE...",
	.summary = "change sampling on an attached interface, at once",
	.details = "SETTING: sample N (0: off), sample-mode every|random|hash, snaplen S.",
	.need = NEED_ROOT | NEED_BPFFS_SEEN,
	.min_args = 3,
	.max_args = -1,
	.run = do_set,
};
