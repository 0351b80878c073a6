// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowacct run: the daemon. It attaches each interface that is not attached
 * (or adopts one that is), then every --interval flips the epoch of every
 * interface, waits one RCU grace period for all of them, drains the old
 * tables into its flow cache and writes the records that leave it, as JSON
 * lines, with nothing lost: see lib/daemon.c for why a kill at any moment
 * loses no count. One loop on a timerfd, a signalfd and the control socket;
 * nothing happens in a signal handler.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"

struct run_opts {
	__u64 interval_ms;
	__u64 idle_ms;
	__u64 active_ms;
	__u64 quiet_ms;
	__u32 cache_size;
	const char *json;
	/* Attach options: -1 (or 0) is "as attached, or the default". */
	int ingress;
	int xdp_mode;
	int shared;
	__u32 max_flows;
	__u32 sample_rate;
	int sample_mode;
	__u32 snaplen;
};

static const struct run_opts defaults_run = {
	.interval_ms = 1000,
	.idle_ms = FA_DEFAULT_IDLE_MS,
	.active_ms = FA_DEFAULT_ACTIVE_MS,
	.quiet_ms = FA_DEFAULT_QUIET_MS,
	.cache_size = FA_DEFAULT_CACHE_SIZE,
	.json = "-",
	.ingress = -1,
	.shared = -1,
	.snaplen = FLOW_DEFAULT_SNAPLEN,
};

static const struct opt run_options[] = {
	OPTION("interval", 0, OPT_SECONDS, struct run_opts, interval_ms, "SEC",
	       "flip and drain every SEC seconds (0.05 at least)",
	       .min = 50, .max = 3600 * 1000),
	OPTION("idle-timeout", 0, OPT_SECONDS, struct run_opts, idle_ms, "SEC",
	       "a flow not seen for SEC leaves the cache (idle)",
	       .min = 1, .max = 86400ull * 1000),
	OPTION("active-timeout", 0, OPT_SECONDS, struct run_opts, active_ms, "SEC",
	       "a long flow gets a record every SEC (active)",
	       .min = 1, .max = 86400ull * 1000),
	OPTION("end-timeout", 0, OPT_SECONDS, struct run_opts, quiet_ms, "SEC",
	       "a TCP flow closed (FIN both ways, RST) leaves once quiet for SEC (end)",
	       .min = 0, .max = 3600ull * 1000),
	OPTION("cache-size", 0, OPT_UINT, struct run_opts, cache_size, "N",
	       "flows the cache holds per interface; past it the least recent leave",
	       .min = 1, .max = 1u << 26),
	OPTION("json", 0, OPT_STRING, struct run_opts, json, "FILE",
	       "write records as JSON lines to FILE ('-': standard output); SIGHUP reopens it"),
	OPTION("ingress", 0, OPT_ENUM, struct run_opts, ingress, NULL,
	       "attach: the ingress hook", .values = ingress_hooks),
	OPTION("mode", 0, OPT_ENUM, struct run_opts, xdp_mode, NULL,
	       "attach: XDP at ingress, native or generic", .values = xdp_modes),
	OPTION("map", 0, OPT_ENUM, struct run_opts, shared, NULL,
	       "attach: the map mode", .values = map_modes),
	OPTION("max-flows", 0, OPT_UINT, struct run_opts, max_flows, "N",
	       "attach: flows each epoch table holds", .min = 1, .max = 1u << 27),
	OPTION("sample", 0, OPT_FUNC, struct run_opts, sample_rate, "N",
	       "attach: sample 1 in N frames", .parse = parse_sample_rate),
	OPTION("sample-mode", 0, OPT_ENUM, struct run_opts, sample_mode, NULL,
	       "attach: which frames are samples", .values = sample_modes),
	OPTION("snaplen", 0, OPT_FUNC, struct run_opts, snaplen, "BYTES",
	       "attach: bytes of each sampled frame", .parse = parse_snaplen),
	OPT_END
};

/* One interface under the daemon. */
struct owned {
	char name[FA_IFNAMSIZ];		/* as given */
	char dirname[64];
	struct fa_lock lock;
	struct fa_stream s;
	bool open;
	bool ours;			/* attached by a `run`: detached on exit */
};

struct daemon {
	const struct run_opts *o;
	struct owned *ifs;
	size_t n;
	struct fa_sync sync;
	int sfd, tfd, lfd;
	int json_fd;
	__u64 json_lines;
	__u64 flips, flip_ns_total, flip_ns_max;
	__u64 last_sink_error_ns;
	struct fa_sink sink;
	bool stop;
};

/* ---- records out ----------------------------------------------------------- */

/*
 * The records file, appended to. A daemon killed in the middle of a write
 * may have left a line without its end: end it, so that it stands alone
 * (readers skip a line that is not JSON; its record comes again whole, from
 * the journal, with the same instance and sequence number).
 */
static int open_json(struct daemon *d)
{
	char last;
	int fd;

	if (!strcmp(d->o->json, "-")) {
		d->json_fd = STDOUT_FILENO;
		return 0;
	}
	fd = open(d->o->json, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	if (pread(fd, &last, 1, lseek(fd, 0, SEEK_END) - 1) == 1 && last != '\n' &&
	    write(fd, "\n", 1) != 1) {
		close(fd);
		return -errno;
	}
	if (d->json_fd > STDOUT_FILENO)
		close(d->json_fd);
	d->json_fd = fd;
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * Records as JSON lines, written to the kernel (one write for the batch)
 * before the stream may clear what they came from: a killed daemon loses
 * nothing it wrote.
 */
static int write_records(void *ctx, const struct fa_stream *s,
			 const struct fa_record *recs, size_t n, __u64 wall_off)
{
	struct daemon *d = ctx;
	struct fa_out o;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f;
	int err;

	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	out_init(&o, f, true);
	for (i = 0; i < n; i++) {
		json_init(&o.j, f);
		fa_print_record(&o, &recs[i], s->ifname, s->rs.instance, wall_off);
		json_end_line(&o.j);
	}
	fclose(f);
	err = write_all(d->json_fd, buf, len);
	free(buf);
	if (!err)
		d->json_lines += n;
	return err;
}

static void write_counters(struct daemon *d, struct owned *w)
{
	struct fa_hook_stats st[FLOW_NR_DIRS] = {};
	struct fa_out o;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int dir;

	if (fa_stats_read(w->s.p.fd[FA_PIN_STATS], st))
		return;
	for (dir = 0; dir < FLOW_NR_DIRS; dir++)
		st[dir].present = true;
	f = open_memstream(&buf, &len);
	if (!f)
		return;
	out_init(&o, f, true);
	fa_print_counters_line(&o, &w->s, st);
	json_end_line(&o.j);
	fclose(f);
	if (write_all(d->json_fd, buf, len))
		pr_note("can't write the counters of '%s'", w->name);
	free(buf);
}

/* A sink that keeps failing is said once a minute, not every tick. */
static void sink_trouble(struct daemon *d, const char *ifname, int err)
{
	__u64 now = fa_mono_ns();

	if (d->last_sink_error_ns && now - d->last_sink_error_ns < 60000000000ull)
		return;
	d->last_sink_error_ns = now;
	pr_note("can't write the records of '%s' to %s: %s; they wait in the journal",
		ifname, strcmp(d->o->json, "-") ? d->o->json : "standard output",
		strerror(-err));
}

/* ---- interfaces --------------------------------------------------------------- */

static const char *map_name(int shared)
{
	return shared ? "shared" : "percpu";
}

/* Adopts what is attached, if it is what was asked for; attaches if not. */
static int take_iface(struct daemon *d, struct owned *w)
{
	const struct run_opts *o = d->o;
	struct fa_attach_opts ao = {
		.ifname = w->name,
		.ingress = o->xdp_mode ? o->xdp_mode : o->ingress > 0 ? o->ingress : 0,
		.shared = o->shared > 0,
		.max_flows = o->max_flows ? o->max_flows : FLOW_DEFAULT_MAX_FLOWS,
		.sample = { .rate = o->sample_rate, .mode = o->sample_mode,
			    .snaplen = o->snaplen },
		.by_run = true,
	};
	struct fa_attach_result res;
	struct fa_pinned p;
	struct fa_ifid id;
	int err;

	err = fa_ifid_by_name(w->name, &id);
	if (err) {
		pr_err(err == -EINVAL ? "'%s' is not an interface name" :
					"no interface '%s' in this network namespace",
		       w->name);
		return err;
	}
	fa_ifid_dirname(&id, w->dirname, sizeof(w->dirname));
	err = cli_lock(w->dirname, w->name, FA_LOCK_RUN, &w->lock);
	if (err)
		return err;
	err = fa_pinned_open_dir(w->dirname, &p);
	if (!err) {
		const struct fa_attach_state *st = &p.state;

		fa_pinned_close(&p);
		if (st->netns_cookie && id.netns_cookie &&
		    st->netns_cookie != id.netns_cookie) {
			err = -ENOENT;	/* a dead namespace's: clear it */
		} else if (o->shared >= 0 && o->shared != st->shared_map) {
			pr_err("'%s' is attached with the %s map: run with --map %s, or detach it first",
			       w->name, map_name(st->shared_map), map_name(st->shared_map));
			return -EEXIST;
		} else if (o->max_flows && o->max_flows != st->max_flows) {
			pr_err("'%s' is attached with --max-flows %u: run with that, or detach it first",
			       w->name, st->max_flows);
			return -EEXIST;
		} else if ((ao.ingress && ao.ingress != st->ingress)) {
			pr_err("'%s' is attached with ingress at %s: run with that, or detach it first",
			       w->name, fa_ingress_name(st->ingress));
			return -EEXIST;
		} else {
			/* Ours if a `run` attached it, even one that was killed. */
			w->ours = st->by_run;
			pr_note("adopted '%s' (attached %s)", w->name,
				st->by_run ? "by flowacct run" : "by flowacct attach");
			return 0;
		}
	}
	if (err == -EPROTO) {
		pr_err("'%s' was attached by another version of flowacct (its maps have another layout); detach it with that version",
		       w->name);
		return err;
	}
	/* Nothing, or what a killed attach left: clear it, then attach. */
	err = fa_detach(w->dirname, NULL, id.ifindex);
	if (err < 0) {
		pr_err("can't clear what an earlier attach left on '%s': %s", w->name,
		       strerror(-err));
		return err;
	}
	err = fa_attach(&ao, &res);
	if (err) {
		pr_err("can't attach to '%s': %s", w->name, strerror(-err));
		return err;
	}
	w->ours = true;
	pr_note("attached to '%s': ingress at %s, %s map, 2 tables of %u flows",
		w->name, fa_ingress_name(res.state.ingress),
		map_name(res.state.shared_map), res.state.max_flows);
	return 0;
}

static int open_stream(struct daemon *d, struct owned *w)
{
	struct fa_cache_cfg cfg = {
		.idle_ns = d->o->idle_ms * 1000000ull,
		.active_ns = d->o->active_ms * 1000000ull,
		.quiet_ns = d->o->quiet_ms * 1000000ull,
		.size = d->o->cache_size,
	};
	int err;

	err = fa_stream_open(&w->s, w->dirname, &cfg, &d->sink);
	if (err == -ERANGE)
		pr_err("'%s' holds the cache of a daemon that was killed, of another --cache-size: run with the size it had until it has stopped cleanly once",
		       w->name);
	else if (err)
		pr_err("can't open the daemon's state of '%s': %s", w->name,
		       strerror(-err));
	w->open = !err;
	if (!err && w->s.stats.replayed)
		pr_note("'%s': wrote again the %llu records of a tick a killed daemon had not finished",
			w->name, (unsigned long long)w->s.stats.replayed);
	return err;
}

/* ---- the tick ----------------------------------------------------------------- */

static void tick(struct daemon *d, bool flush)
{
	__u64 t0, t1, now;
	size_t i;
	int err;

	for (i = 0; i < d->n; i++) {
		err = fa_stream_flip(&d->ifs[i].s);
		if (err)
			pr_note("can't flip the epoch of '%s': %s", d->ifs[i].name,
				strerror(-err));
	}
	t0 = fa_mono_ns();
	err = fa_sync_wait(&d->sync);
	t1 = fa_mono_ns();
	if (err) {
		/* Without the wait a drain could lose counts: not this tick. */
		pr_note("can't wait for an RCU grace period: %s", strerror(-err));
		return;
	}
	d->flips++;
	d->flip_ns_total += t1 - t0;
	if (t1 - t0 > d->flip_ns_max)
		d->flip_ns_max = t1 - t0;
	now = fa_mono_ns();
	for (i = 0; i < d->n; i++) {
		struct owned *w = &d->ifs[i];

		err = fa_stream_drain(&w->s, now, flush, &d->sink);
		if (!err)
			continue;
		if (w->s.rs.phase == FA_PHASE_COMMITTED) {
			sink_trouble(d, w->name, err);
			continue;
		}
		/*
		 * Not committed: the cache in memory may be past what is
		 * pinned. Start over from the pinned state, which the tables
		 * still complete.
		 */
		pr_note("'%s': a drain failed (%s); reloading its state", w->name,
			strerror(-err));
		fa_stream_close(&w->s);
		w->open = false;
		if (open_stream(d, w))
			d->stop = true;
	}
}

/* ---- the control socket ------------------------------------------------------- */

static struct owned *find_owned(struct daemon *d, const char *name, bool dirname)
{
	struct fa_pin_entry e;
	size_t i;

	if (!dirname) {
		if (fa_pins_find(name, &e))
			return NULL;
		name = e.dirname;
	}
	for (i = 0; i < d->n; i++)
		if (!strcmp(d->ifs[i].dirname, name))
			return &d->ifs[i];
	return NULL;
}

/* The snapshot of the interfaces a request names (all if none). */
static int request_snapshot(struct daemon *d, const char *name, bool dirname,
			    bool rows, struct fa_snapshot *s)
{
	struct owned *w;
	size_t i;
	int err = 0;

	if (name) {
		w = find_owned(d, name, dirname);
		if (!w) {
			pr_err("'%s' is not an interface this daemon owns", name);
			return -ENOENT;
		}
		return rows ? fa_stream_snapshot(&w->s, s) :
			      fa_snapshot_add_stats(s, &w->s.p);
	}
	for (i = 0; i < d->n && !err; i++)
		err = rows ? fa_stream_snapshot(&d->ifs[i].s, s) :
			     fa_snapshot_add_stats(s, &d->ifs[i].s.p);
	return err;
}

static void daemon_info(struct fa_out *o, const char *dirname, void *ctx)
{
	struct owned *w = find_owned(ctx, dirname, true);
	struct daemon *d = ctx;
	char inst[17];
	int r;

	if (!w)
		return;
	snprintf(inst, sizeof(inst), "%016llx", (unsigned long long)w->s.rs.instance);
	out_obj_open(o, o->j.depth ? "daemon" : NULL);
	out_u64(o, "pid", NULL, getpid());
	out_str(o, "instance", NULL, inst);
	out_u64(o, "next_seq", NULL, w->s.rs.next_seq);
	out_u64(o, "records", NULL, w->s.rs.records);
	out_u64(o, "cache_flows", NULL, fa_cache_count(w->s.cache));
	out_u64(o, "cache_size", NULL, d->o->cache_size);
	out_u64(o, "ticks", NULL, w->s.stats.ticks);
	out_u64(o, "interval_ms", NULL, d->o->interval_ms);
	out_bool(o, "detach_on_exit", NULL, w->ours);
	out_obj_open(o, "records_by_reason");
	for (r = FA_END_IDLE; r <= FA_END_LACK_OF_RESOURCES; r++)
		out_u64(o, fa_end_reason_name(r), NULL, w->s.stats.records[r]);
	out_obj_close(o);
	out_obj_close(o);
}

/* Answers one request, into @f; false with the error in @err. */
static bool answer(struct daemon *d, char *line, FILE *f, char *err, size_t len)
{
	const struct command *c = NULL;
	char *words[64], *save = NULL, *w;
	struct fa_snapshot s = {};
	struct dump_opts dopts;
	struct fa_out out;
	bool help, json = cli.json, ok = false;
	char **pos = NULL;
	int n = 0, npos, e;

	for (w = strtok_r(line, " ", &save); w && n < 63; w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	words[n] = NULL;
	if (!n) {
		snprintf(err, len, "empty request");
		return false;
	}
	cli.err_buf = err;
	cli.err_len = len;
	cli.json = false;
	if (!strcmp(words[0], "rows") && n == 3 && !strcmp(words[1], "--pins")) {
		ok = !request_snapshot(d, words[2], true, true, &s) &&
		     !fa_snapshot_encode(&s, f);
		goto out;
	}
	if (!strcmp(words[0], "info") && n == 3 && !strcmp(words[1], "--pins")) {
		/* The daemon's part of status: {"pid":...}. */
		ok = find_owned(d, words[2], true) != NULL;
		if (ok) {
			out_init(&out, f, true);
			daemon_info(&out, words[2], d);
			fputc('\n', f);
		} else {
			pr_err("'%s' is not an interface this daemon owns", words[2]);
		}
		goto out;
	}
	if (!strcmp(words[0], "dump") || !strcmp(words[0], "stats"))
		c = !strcmp(words[0], "dump") ? &cmd_dump : &cmd_stats;
	if (!strcmp(words[0], "status")) {
		c = &cmd_status;
	} else if (!c) {
		pr_err("can't answer '%s': ask dump, stats or status", words[0]);
		goto out;
	}
	memcpy(&dopts, c->defaults ? c->defaults : &dopts,
	       c->defaults ? sizeof(dopts) : 0);
	if (cli_parse(c, n, words, &dopts, &npos, &pos, &help))
		goto out;
	if (npos > c->max_args) {
		pr_err("%s: unexpected argument '%s'", c->name, pos[c->max_args]);
		goto out;
	}
	out_init(&out, f, cli.json);
	if (c == &cmd_status) {
		ok = !status_render(&out, daemon_info, d);
		goto out;
	}
	e = request_snapshot(d, npos ? pos[0] : NULL, false, c == &cmd_dump, &s);
	if (e)
		goto out;
	if (c == &cmd_dump)
		dump_render(&dopts, &s, &out);
	else
		fa_print_stats_doc(&out, &s);
	ok = true;
out:
	free(pos);
	fa_snapshot_free(&s);
	cli.json = json;
	cli.err_buf = NULL;
	if (!ok && !err[0])
		snprintf(err, len, "the request failed");
	return ok;
}

static void serve(struct daemon *d)
{
	char line[4096], err[1024];
	char *body = NULL;
	size_t len = 0;
	FILE *f;
	int fd;
	bool ok;

	for (;;) {
		fd = accept4(d->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		err[0] = '\0';
		if (fa_ctl_read_request(fd, line, sizeof(line))) {
			close(fd);
			continue;
		}
		f = open_memstream(&body, &len);
		if (!f) {
			close(fd);
			continue;
		}
		ok = answer(d, line, f, err, sizeof(err));
		fclose(f);
		if (ok)
			fa_ctl_reply(fd, true, body, len);
		else
			fa_ctl_reply(fd, false, err, strlen(err));
		free(body);
		body = NULL;
		close(fd);
	}
}

/* ---- the loop ------------------------------------------------------------------ */

static int setup(struct daemon *d)
{
	struct itimerspec its = {};
	sigset_t set;
	int err;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	/* A closed output is an error we count and say, not a death. */
	signal(SIGPIPE, SIG_IGN);
	d->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	d->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->sfd < 0 || d->tfd < 0)
		return -errno;
	its.it_interval.tv_sec = d->o->interval_ms / 1000;
	its.it_interval.tv_nsec = d->o->interval_ms % 1000 * 1000000;
	its.it_value = its.it_interval;
	if (timerfd_settime(d->tfd, 0, &its, NULL))
		return -errno;
	d->lfd = fa_ctl_listen(getpid());
	if (d->lfd < 0) {
		err = d->lfd;
		pr_err("can't make the control socket under %s: %s", FA_RUN_DIR,
		       strerror(-err));
		return err;
	}
	err = fa_sync_open(&d->sync);
	if (err)
		pr_err("can't make the map whose update waits for programs: %s",
		       strerror(-err));
	return err;
}

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;
	int err;

	while (read(d->sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			/* Log rotation: the file was moved away; write a new one. */
			err = open_json(d);
			if (err)
				pr_note("can't reopen %s: %s", d->o->json, strerror(-err));
		} else {
			d->stop = true;
		}
	}
}

static void loop(struct daemon *d)
{
	struct pollfd p[3] = {
		{ .fd = d->sfd, .events = POLLIN },
		{ .fd = d->tfd, .events = POLLIN },
		{ .fd = d->lfd, .events = POLLIN },
	};
	__u64 expirations;

	while (!d->stop) {
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			pr_note("poll: %s", strerror(errno));
			break;
		}
		if (p[0].revents)
			on_signal(d);
		if (d->stop)
			break;
		if (p[1].revents && read(d->tfd, &expirations, sizeof(expirations)) > 0)
			tick(d, false);
		if (p[2].revents)
			serve(d);
	}
}

/*
 * Shutdown loses nothing: what we attached is detached first and a grace
 * period lets the last program runs end, so that nothing more is counted;
 * then the last flip and drain, every flow out as forced, and per interface
 * a counters line that the records add up to.
 */
static void shutdown_all(struct daemon *d)
{
	__u64 now;
	size_t i;
	int err;

	for (i = 0; i < d->n; i++) {
		struct owned *w = &d->ifs[i];

		if (w->open && w->ours) {
			err = fa_detach(NULL, &w->s.p.state, w->s.p.state.ifindex);
			if (err < 0)
				pr_note("can't detach from '%s': %s", w->name,
					strerror(-err));
		}
	}
	fa_sync_wait(&d->sync);
	tick(d, false);
	now = fa_mono_ns();
	for (i = 0; i < d->n; i++) {
		struct owned *w = &d->ifs[i];

		if (!w->open)
			continue;
		/* Detached: the table flipped to has no writer left. */
		if (w->ours)
			err = fa_stream_drain_other(&w->s, now, true, &d->sink);
		else
			err = fa_stream_drain(&w->s, now, true, &d->sink);
		if (err)
			pr_note("'%s': the last drain failed (%s): what it had is kept for the next run",
				w->name, strerror(-err));
		write_counters(d, w);
		if (w->ours && !err)
			fa_detach(w->dirname, &w->s.p.state, w->s.p.state.ifindex);
		else if (!err)
			fa_stream_unpin(&w->s, true);
	}
}

static int do_run(void *opts, int argc, char **argv)
{
	struct daemon d = { .o = opts, .sfd = -1, .tfd = -1, .lfd = -1, .json_fd = -1 };
	size_t i;
	int err;

	d.sync.outer_fd = d.sync.inner_fd = -1;
	d.sink.write = write_records;
	d.sink.ctx = &d;
	d.ifs = calloc(argc, sizeof(*d.ifs));
	if (!d.ifs)
		return -ENOMEM;
	for (i = 0; i < (size_t)argc; i++) {
		d.ifs[i].lock.fd = -1;
		snprintf(d.ifs[i].name, sizeof(d.ifs[i].name), "%s", argv[i]);
	}
	err = open_json(&d);
	if (err) {
		pr_err("can't open '%s' for the records: %s", d.o->json, strerror(-err));
		goto out;
	}
	err = setup(&d);
	for (i = 0; !err && i < (size_t)argc; i++) {
		d.n = i + 1;
		err = take_iface(&d, &d.ifs[i]);
		if (!err)
			err = open_stream(&d, &d.ifs[i]);
	}
	if (err)
		goto out_release;
	pr_note("running on %d interface%s, a flip every %.3g s; records to %s",
		argc, argc > 1 ? "s" : "", d.o->interval_ms / 1000.0,
		strcmp(d.o->json, "-") ? d.o->json : "standard output");
	loop(&d);
	shutdown_all(&d);
out_release:
	for (i = 0; i < d.n; i++) {
		/* An attach we made but could not run with goes again. */
		if (err && d.ifs[i].ours && !d.ifs[i].open)
			fa_detach(d.ifs[i].dirname, NULL, 0);
		if (d.ifs[i].open)
			fa_stream_close(&d.ifs[i].s);
		fa_lock_release(&d.ifs[i].lock);
	}
out:
	if (d.lfd >= 0) {
		close(d.lfd);
		fa_ctl_unlink(getpid());
	}
	if (d.sfd >= 0)
		close(d.sfd);
	if (d.tfd >= 0)
		close(d.tfd);
	fa_sync_close(&d.sync);
	if (d.json_fd > STDOUT_FILENO)
		close(d.json_fd);
	free(d.ifs);
	return err;
}

const struct command cmd_run = {
	.name = "run",
	.args = "IFACE...",
	.summary = "the daemon: account IFACEs, expire flows, write records",
	.details = "Attaches each interface that is not attached (adopts one that is), and\n"
		   "every --interval drains its tables into a flow cache whose records\n"
		   "(idle, active, end, lack_of_resources, forced) go out as JSON lines.\n"
		   "SIGTERM or SIGINT: every flow out, a counters line per interface, exit.",
	.opts = run_options,
	.opts_size = sizeof(struct run_opts),
	.defaults = &defaults_run,
	.need = NEED_ROOT | NEED_BPFFS,
	.min_args = 1,
	.max_args = 64,
	.run = do_run,
};
