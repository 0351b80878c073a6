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
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cli.h"
#include "samplebuf.h"

#define SAMPLE_BUF_PAGES 64	/* per CPU */

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

struct capture_ctx {
	struct fa_sample_writer *w;
	__u64 ts_off;
	__u64 lost;
	__u64 bad;
	__u64 count;
	int write_err;
};

static enum bpf_perf_event_ret on_event(void *ctx, int cpu,
					struct perf_event_header *e)
{
	struct capture_ctx *c = ctx;
	int err;

	(void)cpu;
	if (e->type == PERF_RECORD_LOST) {
		c->lost += ((struct perf_lost *)e)->lost;
	} else if (e->type == PERF_RECORD_SAMPLE) {
		struct perf_sample_raw *s = (struct perf_sample_raw *)e;

		if (c->write_err ||
		    (c->count && fa_sample_writer_count(c->w) >= c->count))
			return LIBBPF_PERF_EVENT_CONT;
		err = fa_sample_writer_write(c->w, s->data, s->size, c->ts_off);
		if (err == -EINVAL)
			c->bad++;
		else if (err)
			c->write_err = err;
	}
	return LIBBPF_PERF_EVENT_CONT;
}

static __u64 lost_in_programs(const struct fa_hook_stats *st)
{
	__u64 n = 0;
	int dir;

	for (dir = 0; dir < FLOW_NR_DIRS; dir++)
		n += st[dir].c[FLOW_C_SAMPLE_FULL] + st[dir].c[FLOW_C_SAMPLE_OTHER] +
		     st[dir].c[FLOW_C_SAMPLE_NO_READER];
	return n;
}

/* Whether the attachment we read is still there (detach unpins it). */
static bool still_attached(const struct fa_pinned *p)
{
	struct fa_attach_state st;
	char path[PATH_MAX];
	int fd, err;

	fa_pin_path(path, sizeof(path), p->dir, fa_pin_name(FA_PIN_STATE));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	err = fa_state_map_read(fd, &st);
	close(fd);
	return !err && st.attached_at == p->state.attached_at;
}

static int capture_loop(struct capture_ctx *c, struct perf_buffer *pb,
			const struct fa_pinned *p, const struct capture_opts *o,
			const char *ifname)
{
	__u64 end = o->duration_ms ? fa_mono_ns() + o->duration_ms * 1000000ull : 0;
	__u64 now, next_check = 0;
	int timeout, err;

	while (!capture_stop) {
		now = fa_mono_ns();
		if (end && now >= end)
			return 0;
		timeout = 100;
		if (end && (end - now) / 1000000 < (__u64)timeout)
			timeout = (end - now + 999999) / 1000000;
		err = perf_buffer__poll(pb, timeout);
		if (err >= 0 || err == -EINTR)
			err = perf_buffer__consume(pb);
		if (err < 0 && err != -EINTR) {
			pr_err("reading the samples of '%s': %s", ifname, strerror(-err));
			return err;
		}
		if (!c->write_err)
			c->write_err = fa_sample_writer_flush(c->w);
		if (c->write_err) {
			pr_err("can't write the samples of '%s' to %s: %s", ifname,
			       strcmp(o->write, "-") ? o->write : "standard output",
			       strerror(-c->write_err));
			return c->write_err;
		}
		if (c->count && fa_sample_writer_count(c->w) >= c->count)
			return 0;
		if (now >= next_check) {
			next_check = now + 200000000ull;
			if (!still_attached(p)) {
				pr_err("'%s' was detached: capture stopped", ifname);
				return -ENOENT;
			}
		}
	}
	return 0;
}

static int do_capture(void *opts, int argc, char **argv)
{
	struct capture_opts *o = opts;
	const char *ifname = argv[0];
	struct fa_hook_stats before[FLOW_NR_DIRS] = {}, after[FLOW_NR_DIRS] = {};
	struct sigaction sa = { .sa_handler = on_signal };
	struct capture_ctx c = { .count = o->count };
	struct flow_sample_config cfg;
	struct perf_buffer *pb = NULL;
	struct fa_pinned p;
	struct fa_lock lock = { -1 };
	int hook[FLOW_NR_DIRS], err, cerr;
	__u64 dropped;

	(void)argc;
	if (!o->write) {
		pr_err("capture needs -w FILE ('-': standard output)");
		return -EINVAL;
	}
	if (cli_open_iface(ifname, &p))
		return -ENOENT;
	err = cli_lock(p.dir, ifname, FA_LOCK_CAPTURE, &lock);
	if (err)
		goto out;
	err = bpf_map_lookup_elem(p.fd[FA_PIN_SAMPLE_CFG], &(__u32){ 0 }, &cfg) ?
		      -errno : 0;
	if (err) {
		pr_err("can't read the sampling settings of '%s': %s", ifname,
		       strerror(-err));
		goto out;
	}
	if (!cfg.rate) {
		pr_err("sampling is off on '%s': turn it on with 'flowacct set %s sample N'",
		       ifname, ifname);
		err = -EINVAL;
		goto out;
	}
	fa_state_hooks(&p.state, hook);
	err = fa_sample_writer_open(&c.w, o->write, o->pcapng, ifname, hook);
	if (err) {
		pr_err("can't write '%s': %s", o->write, strerror(-err));
		goto out;
	}
	c.ts_off = fa_mono_to_wall_offset();
	pb = sample_buffer_open(p.fd[FA_PIN_SAMPLES], SAMPLE_BUF_PAGES, on_event, &c);
	if (!pb) {
		err = -errno;
		pr_err("can't read the sample buffer of '%s': %s", ifname,
		       strerror(errno));
		goto out_close;
	}
	fa_stats_read(p.fd[FA_PIN_STATS], before);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A closed pipe is a write error we report, not a silent death. */
	signal(SIGPIPE, SIG_IGN);

	err = capture_loop(&c, pb, &p, o, ifname);
	/* What is under the wakeup watermark. */
	perf_buffer__consume(pb);
	fa_stats_read(p.fd[FA_PIN_STATS], after);
	dropped = lost_in_programs(after) - lost_in_programs(before);
	if (!err)
		pr_note("%" PRIu64 " samples written to %s, %" PRIu64 " lost (%" PRIu64
			" by the perf buffer, %" PRIu64 " counted by the programs)%s",
			(uint64_t)fa_sample_writer_count(c.w),
			strcmp(o->write, "-") ? o->write : "stdout",
			(uint64_t)(c.lost + dropped), (uint64_t)c.lost,
			(uint64_t)dropped,
			c.bad ? " (some records were malformed)" : "");
	perf_buffer__free(pb);
out_close:
	cerr = fa_sample_writer_close(c.w);
	if (!err && cerr) {
		pr_err("can't write '%s': %s", o->write, strerror(-cerr));
		err = cerr;
	}
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
