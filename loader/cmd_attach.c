// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* flowacct attach / detach / status / set: the programs on live interfaces. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include <inttypes.h>

#include "cmds.h"

/* ---- attach ---------------------------------------------------------------- */

struct attach_opts {
	struct fa_attach_args a;
	int drops;		/* enum fa_drops_mode */
};

static const struct attach_opts defaults_attach = {
	.a = FA_ATTACH_ARGS_DEFAULTS,
};

/* No "all": each attachment would book every interface's drops. */
static const struct opt_value attach_drop_modes[] = {
	{ "off", FA_DROPS_OFF }, { "attached", FA_DROPS_ATTACHED }, { NULL, 0 },
};

static const struct opt attach_options[] = {
	ATTACH_OPTIONS(struct attach_opts, a, ""),
	OPTION("drops", 0, OPT_ENUM, struct attach_opts, drops, NULL,
	       "attached: a drop program of its own, the packets the kernel drops on this interface per flow and reason; off (default): none",
	       .values = attach_drop_modes),
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
	out_str(&o, "tc_api", ", TC by %s", fa_tc_api_name(st->tc_api));
	if (st->tc_api == FA_TC_TCX && !xdp)
		out_u64(&o, "tc_ingress_link_id", " (links %" PRIu64, st->tci_link_id);
	if (st->tc_api == FA_TC_TCX)
		out_u64(&o, "tc_link_id", xdp ? " (link %" PRIu64 ")" : ", %" PRIu64 ")",
			st->tc_link_id);
	out_str(&o, "map", ", %s map", st->shared_map ? "shared" : "percpu");
	out_u64(&o, "max_flows", ", 2 tables of %" PRIu64 " flows", st->max_flows);
	out_str(&o, "pins", "; pins in " FA_PIN_ROOT "/%s\n", res->dirname);
	out_obj_close(&o);
	out_end(&o);
}

/* What attach released first: never adopted, never silent. */
static void note_released(const struct fa_iface_result *res)
{
	const char *name = res->released_ifname[0] ? res->released_ifname : "?";

	if (res->released_why == FA_STALE_NETNS_GONE)
		pr_note("note: released a stale attachment in %s/%s ('%s' of a network namespace that is gone, whose inode number this one got): its tables held %llu rows that were not written",
			FA_PIN_ROOT, res->attach.dirname, name,
			(unsigned long long)res->released_rows);
	else if (res->released_why)
		pr_note("note: released a stale attachment in %s/%s (%s%s%s an attach killed before it finished): its tables held %llu rows that were not written",
			FA_PIN_ROOT, res->attach.dirname,
			res->released_ifname[0] ? "'" : "", res->released_ifname,
			res->released_ifname[0] ? "'," : "",
			(unsigned long long)res->released_rows);
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
	ao.drops = o->drops;
	err = fa_iface_attach(&ao, 0, &res, &e);
	if (err) {
		cli_err_bpf(&e, res.libbpf_said);
		return err;
	}
	note_released(&res);
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

struct detach_opts {
	bool stale;
	const char *records;
};

static const struct opt detach_options[] = {
	OPTION("stale", 0, OPT_FLAG, struct detach_opts, stale, NULL,
	       "every attachment whose interface or namespace is gone and that no one holds: its rows out as records, then removed"),
	OPTION("records", 0, OPT_STRING, struct detach_opts, records, "FILE",
	       "with --stale: write their records as JSON lines to FILE (default: standard output)"),
	OPT_END
};

/*
 * The engine does it, as a starting daemon does, with one sink: the
 * records (and a counters line for each) as JSON lines.
 */
static int detach_stale(const struct detach_opts *o)
{
	struct fa_engine_cfg cfg = {
		.interval_ms = 1000,
		.idle_ms = FA_DEFAULT_IDLE_MS,
		.active_ms = FA_DEFAULT_ACTIVE_MS,
		.quiet_ms = FA_DEFAULT_QUIET_MS,
		.cache_size = FA_DEFAULT_CACHE_SIZE,
		.json = o->records ? o->records : "-",
		.wake_fd = -1,
		.log = { .fn = cli_log_line },
	};
	struct fa_err err = {};
	struct fa_engine e;
	int r;

	r = fa_engine_open(&e, &cfg, &err);
	if (!r)
		r = fa_engine_release_stale(&e, &err);
	fa_engine_close(&e);
	if (r < 0)
		return cli_err(&err);
	if (r > 0) {
		pr_err("%d stale attachment%s kept: %s records could not be written", r,
		       r > 1 ? "s were" : " was", r > 1 ? "their" : "its");
		return -EIO;
	}
	return 0;
}

static int do_detach(void *opts, int argc, char **argv)
{
	const struct detach_opts *dopts = opts;
	struct fa_err e = {};
	struct fa_out o;
	int err;

	if (dopts->stale != !argc) {
		pr_err("detach: give IFACE, or --stale");
		return -EINVAL;
	}
	if (dopts->stale)
		return detach_stale(dopts);
	if (dopts->records) {
		pr_err("detach: --records goes with --stale");
		return -EINVAL;
	}
	err = fa_iface_detach(argv[0], &e);
	if (err < 0) {
		cli_err(&e);
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
	.args = "IFACE | --stale",
	.summary = "remove what attach added to IFACE",
	.details = "The programs, the clsact qdisc if attach created it and nothing else\n"
		   "uses it, and the pins; also what a killed attach left.\n"
		   "--stale: every attachment, in any namespace, whose interface or\n"
		   "namespace is gone and that no one holds: its rows out as records,\n"
		   "then everything of it removed.",
	.opts = detach_options,
	.opts_size = sizeof(struct detach_opts),
	.need = NEED_ROOT | NEED_BPFFS_SEEN,
	.min_args = 0,
	.max_args = 1,
	.run = do_detach,
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
