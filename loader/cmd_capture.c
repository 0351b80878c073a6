// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowacct capture: the frames an attached interface's programs sample, from
 * its pinned perf buffer to pcap or pcapng. One capture per interface (a
 * second would take the perf buffer's events over), and it stops at the
 * first write error, when the interface is detached, at a count or a time.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct capture_opts {
	const char *write;
	__u64 count;
	__u64 duration_ms;
	int pcapng;
};

static const struct opt capture_options[] = {
	OPTION("write", 'w', OPT_STRING, struct capture_opts, write, "FILE",
	       "where the samples go ('-': standard output)"),
	OPTION("count", 'c', OPT_UINT, struct capture_opts, count, "K",
	       "stop after K samples",
	       .min = 1, .max = ~0ull),
	OPTION("duration", 'd', OPT_SECONDS, struct capture_opts, duration_ms, "SEC",
	       "stop after SEC seconds (fractions allowed)",
	       .min = 1, .max = 86400ull * 365 * 1000),
	OPTION("format", 'f', OPT_ENUM, struct capture_opts, pcapng, NULL,
	       "the file format",
	       .values = formats),
	OPT_END
};

static volatile sig_atomic_t capture_stop;

static void on_signal(int sig)
{
	(void)sig;
	capture_stop = 1;
}

static int do_capture(void *opts, int argc, char **argv)
{
	struct capture_opts *o = opts;
	const char *ifname = argv[0];
	struct sigaction sa = { .sa_handler = on_signal };
	struct fa_capture_opts co = {
		.write = o->write, .pcapng = o->pcapng, .count = o->count,
		.duration_ms = o->duration_ms, .stop = &capture_stop,
	};
	struct fa_capture_result res;
	struct flow_sample_config cfg;
	struct fa_err e = {};
	struct fa_pinned p;
	struct fa_lock lock = { .fd = -1 };
	int err;

	(void)argc;
	if (!o->write) {
		pr_err("capture needs -w FILE ('-': standard output)");
		return -EINVAL;
	}
	if (fa_open_iface_or_member(ifname, &p, &co.member, &e))
		return cli_err(&e);
	err = fa_capture_lock(&p, ifname, co.member, &lock, &e);
	if (err) {
		cli_err(&e);
		goto out;
	}
	err = fa_pinned_sample_get(&p, &cfg);
	if (err) {
		pr_err("can't read the sampling settings of '%s': %s", ifname,
		       strerror(-err));
		goto out;
	}
	if (!cfg.rate) {
		if (co.member)
			pr_err("sampling is off on '%s': its program set's daemon samples with --sample N",
			       ifname);
		else
			pr_err("sampling is off on '%s': turn it on with 'flowacct set %s sample N'",
			       ifname, ifname);
		err = -EINVAL;
		goto out;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A closed pipe is a write error we report, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	err = fa_capture(&p, ifname, &co, &res, &e);
	if (err)
		cli_err(&e);
	else
		pr_note("%" PRIu64 " samples written to %s, %" PRIu64 " lost (%" PRIu64
			" by the perf buffer, %" PRIu64 " counted by the programs)%s",
			(uint64_t)res.written, strcmp(o->write, "-") ? o->write : "stdout",
			(uint64_t)(res.lost_buffer + res.lost_programs),
			(uint64_t)res.lost_buffer, (uint64_t)res.lost_programs,
			res.bad ? " (some records were malformed)" : "");
out:
	fa_lock_release(&lock);
	fa_pinned_close(&p);
	return err;
}

const struct command cmd_capture = {
	.name = "capture",
	.args = "IFACE",
	.summary = "write IFACE's sampled packets to pcap or pcapng",
	.details = "Until Ctrl-C, SIGTERM, --count, --duration, a write error or detach.\n"
		   "Sampling is set with attach --sample or flowacct set.",
	.opts = capture_options,
	.opts_size = sizeof(struct capture_opts),
	.need = NEED_ROOT | NEED_BPFFS_SEEN,
	.min_args = 1,
	.max_args = 1,
	.run = do_capture,
};
