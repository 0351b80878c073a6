// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowacct replay: every frame of a capture through the XDP or TC program
 * with BPF_PROG_TEST_RUN, on private maps, then the flow table and counters.
 */
#include <errno.h>
#include <string.h>

#include "cli.h"

struct replay_opts {
	int hook;		/* enum fa_replay_hook */
	struct fa_attach_args a;	/* the maps and sampling, as attach has them */
	const char *write;	/* -w: where sampled frames go */
	int pcapng;
};

static const struct opt_value replay_hooks[] = {
	{ "xdp", FA_REPLAY_XDP }, { "tc-ingress", FA_REPLAY_TC_INGRESS },
	{ "tc-egress", FA_REPLAY_TC_EGRESS }, { "tc", FA_REPLAY_TC_EGRESS },
	{ NULL, 0 },
};

static const struct replay_opts defaults_replay = {
	.hook = FA_REPLAY_XDP,
	.a = FA_ATTACH_ARGS_DEFAULTS,
};

static const struct opt replay_options[] = {
	OPTION("hook", 0, OPT_ENUM, struct replay_opts, hook, NULL,
	       "the program to run the frames through",
	       .values = replay_hooks),
	ATTACH_TABLE_OPTIONS(struct replay_opts, a, ""),
	ATTACH_DECAP_OPTIONS(struct replay_opts, a, ""),
	OPTION("write", 'w', OPT_STRING, struct replay_opts, write, "OUT",
	       "write the sampled frames here"),
	OPTION("format", 'f', OPT_ENUM, struct replay_opts, pcapng, NULL,
	       "the format of -w's file",
	       .values = formats),
	OPT_END
};

/* The flows and counters, and whether the program saw every frame. */
static int replay_report(struct fa_replay *r)
{
	struct fa_snapshot s = {};
	struct fa_view v = {};
	struct fa_err e = {};
	struct fa_out out;
	__u64 seen;
	int err;

	err = fa_replay_snapshot(r, &s, &e);
	if (err) {
		cli_err(&e);
		return err;
	}
	fa_table_sort(&s.t, FA_SORT_BYTES);
	v.names = &s.names;
	memcpy(v.hook, r->hook, sizeof(v.hook));
	cli_out(&out);
	fa_print_flow_doc(&out, &s.t, s.total, &v);
	seen = s.total[fa_replay_dir(r->o.hook)].c[FLOW_C_SEEN];
	fa_snapshot_free(&s);
	if (seen != r->frames) {
		pr_err("'%s' has %llu frames but the program saw %llu", r->file,
		       (unsigned long long)r->frames, (unsigned long long)seen);
		return -EBADMSG;
	}
	return 0;
}

static int do_replay(void *opts, int argc, char **argv)
{
	struct replay_opts *o = opts;
	struct fa_attach_opts ao;
	struct fa_replay_opts ro = {
		.hook = o->hook, .attach = &ao, .write = o->write,
		.pcapng = o->pcapng,
	};
	struct fa_replay r = {};
	struct fa_err e = {};
	unsigned int flags;
	int err;

	(void)argc;
	err = cli_attach_args(&o->a, &ao, &flags);
	if (err)
		return err;
	if (o->write && !o->a.sample_rate) {
		pr_err("-w writes sampled frames: give --sample N too");
		return -EINVAL;
	}
	if (o->write && !strcmp(o->write, "-") && !cli.json) {
		pr_err("-w - writes the capture to standard output: add -j so the report stays out of it, or write to a file");
		return -EINVAL;
	}
	err = fa_replay_open(&r, argv[0], &ro, &e);
	if (!err)
		err = fa_replay_run(&r, &e);
	if (err)
		cli_err_bpf(&e, r.libbpf_said);
	else
		err = replay_report(&r);
	if (fa_replay_close(&r) && !err) {
		pr_err("can't write '%s'", o->write);
		err = -EIO;
	}
	return err;
}

const struct command cmd_replay = {
	.name = "replay",
	.args = "FILE",
	.summary = "run a capture through the programs (BPF_PROG_TEST_RUN)",
	.details = "Every frame of a pcap or pcapng capture through the XDP (default) or TC\n"
		   "program, on private maps; prints the flows and counters. With --sample N\n"
		   "-w OUT, the frames the program samples go to OUT.",
	.opts = replay_options,
	.opts_size = sizeof(struct replay_opts),
	.defaults = &defaults_replay,
	.need = NEED_BPF,
	.min_args = 1,
	.max_args = 1,
	.run = do_replay,
};
