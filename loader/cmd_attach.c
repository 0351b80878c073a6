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
	int ingress;
	int xdp_mode;
	int shared;
	__u32 max_flows;
	__u32 sample_rate;
	int sample_mode;
	__u32 snaplen;
	bool attribution;
	bool retrans;
	bool passive_rtt;
};

static const struct attach_opts defaults_attach = {
	.max_flows = FLOW_DEFAULT_MAX_FLOWS,
	.snaplen = FLOW_DEFAULT_SNAPLEN,
};

static const struct opt attach_options[] = {
	OPTION("ingress", 0, OPT_ENUM, struct attach_opts, ingress, NULL,
	       "the ingress hook (auto: TC on virtual devices, XDP on NICs that run it)",
	       .values = ingress_hooks),
	OPTION("mode", 0, OPT_ENUM, struct attach_opts, xdp_mode, NULL,
	       "XDP at ingress, native or generic (skb)",
	       .values = xdp_modes),
	OPTION("map", 0, OPT_ENUM, struct attach_opts, shared, NULL,
	       "per-CPU values, or one value updated atomically",
	       .values = map_modes),
	OPTION("max-flows", 0, OPT_UINT, struct attach_opts, max_flows, "N",
	       "flows each of the two epoch tables holds",
	       .min = 1, .max = 1u << 27),
	OPTION("sample", 0, OPT_FUNC, struct attach_opts, sample_rate, "N",
	       "send 1 in N frames to the sample buffer (0: off)",
	       .parse = parse_sample_rate),
	OPTION("sample-mode", 0, OPT_ENUM, struct attach_opts, sample_mode, NULL,
	       "which frames are samples",
	       .values = sample_modes),
	OPTION("snaplen", 0, OPT_FUNC, struct attach_opts, snaplen, "BYTES",
	       "bytes of each sampled frame",
	       .parse = parse_snaplen),
	OPTION("attribution", 0, OPT_FLAG, struct attach_opts, attribution, NULL,
	       "note the socket (cookie, cgroup) of each locally sent flow"),
	OPTION("retrans", 0, OPT_FLAG, struct attach_opts, retrans, NULL,
	       "count TCP retransmissions from sequence numbers"),
	OPTION("passive-rtt", 0, OPT_FLAG, struct attach_opts, passive_rtt, NULL,
	       "RTT from here to the far end, from TCP timestamps echoed back"),
	OPT_END
};

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
	}
	return "attach";
}

static void attach_error(const char *ifname, const struct fa_attach_result *res,
			 const struct attach_opts *o, int err)
{
	if (res->step == FA_STEP_XDP && err == -EOPNOTSUPP)
		pr_err("the driver of '%s' does not support native XDP; try --mode skb or --ingress tc",
		       ifname);
	else if (res->step == FA_STEP_XDP && (err == -EEXIST || err == -EBUSY))
		pr_err("'%s' has an XDP program that libxdp can't share (attached in another mode, or not through libxdp's dispatcher); --ingress tc leaves it alone",
		       ifname);
	else if (res->step == FA_STEP_LOAD && (err == -ENOMEM || err == -E2BIG))
		pr_err("can't make two tables of %u flows for '%s': %s; try a smaller --max-flows",
		       o->max_flows, ifname, strerror(-err));
	else
		pr_err("can't %s on '%s': %s%s", step_name(res->step), ifname,
		       strerror(-err), cli.verbose ? "" : " (-v shows libbpf's log)");
}

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

/* What a killed attach or a dead namespace left under this interface's name. */
static int clear_leftovers(const char *dirname, int ifindex, __u64 cookie)
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
		 * died and whose inode number this one got.
		 */
		err = fa_detach(dirname, l[i].err ? NULL : &l[i].state,
				l[i].err || l[i].state.netns_cookie == cookie ||
						!cookie ? ifindex : 0);
		err = err < 0 ? err : 0;
	}
	free(l);
	if (!err)
		/* Programs of ours no record names. */
		err = fa_detach(NULL, NULL, ifindex);
	return err < 0 ? err : 0;
}

static int do_attach(void *opts, int argc, char **argv)
{
	struct attach_opts *o = opts;
	const char *ifname = argv[0];
	struct fa_attach_opts ao = {
		.ifname = ifname,
		.ingress = o->ingress,
		.shared = o->shared,
		.max_flows = o->max_flows,
		.sample = { .rate = o->sample_rate, .mode = o->sample_mode,
			    .snaplen = o->snaplen },
		.owners = o->attribution,
		.retrans = o->retrans,
		.passive_rtt = o->passive_rtt,
	};
	struct fa_attach_result res;
	char dirname[64];
	struct fa_ifid id;
	struct fa_lock lock;
	int err;

	(void)argc;
	if (o->xdp_mode) {
		if (o->ingress == FA_INGRESS_TC) {
			pr_err("--mode is for XDP at ingress; it does not go with --ingress tc");
			return -EINVAL;
		}
		ao.ingress = o->xdp_mode;
	}
	err = fa_ifid_by_name(ifname, &id);
	if (err == -EINVAL) {
		pr_err("'%s' is not an interface name", ifname);
		return err;
	}
	if (err) {
		pr_err("no interface '%s' in this network namespace", ifname);
		return err;
	}
	fa_ifid_dirname(&id, dirname, sizeof(dirname));
	err = cli_lock(dirname, ifname, FA_LOCK_ADMIN, &lock);
	if (err)
		return err;
	err = clear_leftovers(dirname, id.ifindex, id.netns_cookie);
	if (err == -EEXIST) {
		pr_err("'%s' is already attached; see 'flowacct status'", ifname);
		goto out;
	}
	if (err) {
		pr_err("can't clear what an earlier attach left on '%s': %s",
		       ifname, strerror(-err));
		goto out;
	}
	err = fa_attach(&ao, &res);
	if (err) {
		attach_error(ifname, &res, o, err);
		goto out;
	}
	print_attached(&res);
	if (res.state.ingress != FA_INGRESS_TC && res.state.xdp_legacy)
		note_no_dispatcher(ifname);
out:
	fa_lock_release(&lock);
	return err;
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
	const char *ifname = argv[0];
	struct fa_pin_entry e;
	struct fa_ifid id;
	struct fa_lock lock;
	char now[FA_IFNAMSIZ];
	int err, ifindex = 0;

	(void)opts;
	(void)argc;
	err = fa_pins_find(ifname, &e);
	if (err == -EINVAL) {
		pr_err("'%s' is not an interface name", ifname);
		return err;
	}
	if (err == -EEXIST) {
		id = (struct fa_ifid){ e.state.netns_ino, e.state.netns_cookie,
				       e.state.ifindex };
		fa_ifid_name(&id, now);
		pr_err("no interface '%s' here: the one attached as '%s' is called '%s' now; detach '%s'",
		       ifname, ifname, now, now);
		return err;
	}
	if (err == -ENOENT) {
		/* No record: programs a killed attach left, found by name. */
		if (fa_ifid_by_name(ifname, &id)) {
			pr_err("no interface '%s' in this network namespace", ifname);
			return -ENODEV;
		}
		err = fa_detach(NULL, NULL, id.ifindex);
		if (err > 0) {
			if (!cli.json)
				printf("flowacct detached from %s (programs no record named)\n",
				       ifname);
			return 0;
		}
		pr_err("'%s' is not attached", ifname);
		return -ENOENT;
	}
	if (err) {
		pr_err("can't look for the pins of '%s': %s", ifname, strerror(-err));
		return err;
	}
	err = cli_lock(e.dirname, ifname, FA_LOCK_ADMIN, &lock);
	if (err)
		return err;
	/* The interface may be gone: then only the pins are left. */
	id = (struct fa_ifid){ e.state.netns_ino, e.state.netns_cookie,
			       e.state.ifindex };
	if (e.err || !fa_ifid_name(&id, now))
		ifindex = e.err ? 0 : (int)e.state.ifindex;
	if (e.err && !fa_ifid_by_name(ifname, &id))
		ifindex = id.ifindex;
	err = fa_detach(e.dirname, e.err ? NULL : &e.state, ifindex);
	fa_lock_release(&lock);
	if (err < 0) {
		pr_err("can't detach from '%s': %s", ifname, strerror(-err));
		return err;
	}
	if (!err) {
		pr_err("'%s' is not attached", ifname);
		return -ENOENT;
	}
	if (cli.json)
		printf("{\"detached\":\"%s\"}\n", ifname);
	else
		printf("flowacct detached from %s\n", ifname);
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

/* ---- set ------------------------------------------------------------------- */

static int do_set(void *opts, int argc, char **argv)
{
	struct flow_sample_config cfg;
	struct fa_pinned p;
	char why[160];
	__u32 zero = 0;
	int i, err, mode;

	(void)opts;
	if (argc < 3 || argc % 2 == 0) {
		pr_err("set takes IFACE and one or more of: sample N, sample-mode every|random|hash, snaplen S");
		return -EINVAL;
	}
	if (cli_open_iface(argv[0], &p))
		return -ENOENT;
	err = bpf_map_lookup_elem(p.fd[FA_PIN_SAMPLE_CFG], &zero, &cfg) ? -errno : 0;
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
	/*
	 * The programs read each field once per packet: one racing this update
	 * may see, field by field, old or new values, all of them valid.
	 */
	err = bpf_map_update_elem(p.fd[FA_PIN_SAMPLE_CFG], &zero, &cfg, BPF_EXIST) ?
		      -errno : 0;
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
