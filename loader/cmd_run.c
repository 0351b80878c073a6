// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowacct run: the daemon. It attaches each interface that is not attached
 * (or adopts one that is), then every --interval flips the epoch of every
 * interface, waits one RCU grace period for all of them, drains the old
 * tables into its flow cache and writes the records that leave it, as JSON
 * lines and IPFIX, with nothing lost: see lib/daemon.c for why a kill at any
 * moment loses no count. One loop on a timerfd, a signalfd, the control
 * socket and the metrics server; nothing happens in a signal handler.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
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
#include "ipfix.h"

struct ipfix_specs {
	const char *spec[FA_IPFIX_MAX_COLLECTORS];
	size_t n;
};

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
	bool attribution;
	bool retrans;
	bool passive_rtt;
	/* Exports */
	struct ipfix_specs ipfix;
	__u32 ipfix_domain;		/* 0: derived */
	__u32 ipfix_max_message;
	__u64 ipfix_refresh_ms;
	const char *metrics;
	const char *metrics_file;
};

static const struct run_opts defaults_run = {
	.interval_ms = 1000,
	.idle_ms = FA_DEFAULT_IDLE_MS,
	.active_ms = FA_DEFAULT_ACTIVE_MS,
	.quiet_ms = FA_DEFAULT_QUIET_MS,
	.cache_size = FA_DEFAULT_CACHE_SIZE,
	.ingress = -1,
	.shared = -1,
	.snaplen = FLOW_DEFAULT_SNAPLEN,
	.ipfix_max_message = FA_IPFIX_DEFAULT_MESSAGE,
	.ipfix_refresh_ms = FA_IPFIX_DEFAULT_REFRESH_MS,
};

/* --ipfix, once per collector: checked here, resolved before attaching. */
static int parse_ipfix(const char *arg, void *field, char *why, size_t len)
{
	struct ipfix_specs *specs = field;
	struct fa_ipfix_target t;
	int err;

	if (specs->n == FA_IPFIX_MAX_COLLECTORS) {
		snprintf(why, len, "at most %d collectors", FA_IPFIX_MAX_COLLECTORS);
		return -EINVAL;
	}
	err = fa_ipfix_target_parse(arg, &t);
	if (err == -ERANGE) {
		snprintf(why, len, "the port must be 1 to 65535");
		return -EINVAL;
	}
	if (err) {
		snprintf(why, len, "give HOST, HOST:PORT or [IPV6]:PORT (the port defaults to %d)",
			 IPFIX_PORT);
		return -EINVAL;
	}
	specs->spec[specs->n++] = arg;
	return 0;
}

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
	       "write records as JSON lines to FILE ('-': standard output, the default without --ipfix); SIGHUP reopens it"),
	OPTION("ipfix", 0, OPT_FUNC, struct run_opts, ipfix, "HOST[:PORT]",
	       "export records as IPFIX over UDP to a collector (again for more)",
	       .parse = parse_ipfix),
	OPTION("ipfix-domain", 0, OPT_UINT, struct run_opts, ipfix_domain, "N",
	       "IPFIX observation domain of the flow records (default: from the host and the interfaces)",
	       .min = 1, .max = FA_IPFIX_OPTIONS_DOMAIN - 1),
	OPTION("ipfix-max-message", 0, OPT_UINT, struct run_opts, ipfix_max_message, "BYTES",
	       "largest IPFIX message (one UDP datagram)",
	       .min = FA_IPFIX_MIN_MESSAGE, .max = 65527),
	OPTION("ipfix-template-refresh", 0, OPT_SECONDS, struct run_opts, ipfix_refresh_ms, "SEC",
	       "send the IPFIX templates and options again every SEC (and every 100 messages)",
	       .min = 100, .max = 86400ull * 1000),
	OPTION("metrics", 0, OPT_STRING, struct run_opts, metrics, "ADDR:PORT",
	       "serve Prometheus metrics at http://ADDR:PORT/metrics (':PORT': every address)"),
	OPTION("metrics-file", 0, OPT_STRING, struct run_opts, metrics_file, "PATH.prom",
	       "write the metrics to PATH.prom every interval (node_exporter's textfile collector)"),
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
	OPTION("attribution", 0, OPT_FLAG, struct run_opts, attribution, NULL,
	       "attach: note the socket of each locally sent flow"),
	OPTION("retrans", 0, OPT_FLAG, struct run_opts, retrans, NULL,
	       "attach: count TCP retransmissions from sequence numbers"),
	OPTION("passive-rtt", 0, OPT_FLAG, struct run_opts, passive_rtt, NULL,
	       "attach: RTT from TCP timestamps echoed back"),
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
	bool keep_state;		/* the last drain failed: for the next run */
};

struct daemon {
	const struct run_opts *o;
	struct owned *ifs;
	size_t n;
	struct fa_sync sync;
	int sfd, tfd, lfd;
	int json_fd;			/* -1: no JSON */
	const char *json_path;
	__u64 json_lines;
	struct fa_ipfix ipfix;
	__u64 ipfix_logged_errors[FA_IPFIX_MAX_COLLECTORS];
	__u64 ipfix_log_ns;
	struct fa_http *http;
	__u64 metrics_log_ns;
	__u64 flips, flip_ns_total, flip_ns_max;
	__u64 last_sink_error_ns;
	struct fa_sink sink;
	__u64 last_request_ns;
	__u64 last_trim_ns;
	bool stop;
};

/*
 * A dump or `top` of a million flows builds arrays of about 150 MB. Left to
 * glibc, each one is a fresh mmap that the kernel zeroes, a sixth of the
 * request's time, on every request. The daemon keeps freed memory in its
 * heap instead, for the next request, and gives it back once requests have
 * stopped for HEAP_KEEP_NS. What a tick freed (the drain's arrays of a
 * burst of flows) is given back then too, at most HEAP_KEEP_NS later, and
 * no tick faults its arrays in afresh more often than that.
 */
#define HEAP_KEEP_NS 10000000000ull

static void heap_keep(void)
{
	mallopt(M_MMAP_MAX, 0);
	mallopt(M_TRIM_THRESHOLD, INT_MAX);
}

static void heap_release_when_idle(struct daemon *d, __u64 now)
{
	if (now - d->last_request_ns >= HEAP_KEEP_NS &&
	    now - d->last_trim_ns >= HEAP_KEEP_NS) {
		malloc_trim(0);
		d->last_trim_ns = now;
	}
}

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

	if (!d->json_path)
		return 0;
	if (!strcmp(d->json_path, "-")) {
		d->json_fd = STDOUT_FILENO;
		return 0;
	}
	fd = open(d->json_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
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
 * nothing it wrote. Then as IPFIX, which never fails the tick: a collector
 * that is down must not hold records back (its losses are counted).
 */
static int write_records(void *ctx, const struct fa_stream *s,
			 const struct fa_record *recs, size_t n, __u64 wall_off)
{
	const struct fa_attach_state *st = &s->p.state;
	bool joined = st->owners || st->retrans || st->passive_rtt;
	int socks_fd = -1, listeners_fd = -1;
	struct daemon *d = ctx;
	struct fa_cgroups cg = {};
	struct fa_ext x;
	struct fa_out o;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f;
	int err;

	if (joined && d->json_fd >= 0)
		fa_sockets_open(&socks_fd, &listeners_fd);
	if (d->json_fd >= 0) {
		f = open_memstream(&buf, &len);
		if (!f) {
			if (socks_fd >= 0)
				close(socks_fd);
			if (listeners_fd >= 0)
				close(listeners_fd);
			return -ENOMEM;
		}
		out_init(&o, f, true);
		for (i = 0; i < n; i++) {
			json_init(&o.j, f);
			if (joined)
				fa_enrich_key(s->p.fd, st, socks_fd, &recs[i].key, &x, &cg);
			fa_print_record(&o, &recs[i], s->ifname, s->rs.instance,
					wall_off, joined ? &x : NULL);
			json_end_line(&o.j);
		}
		fa_cgroups_free(&cg);
		if (socks_fd >= 0)
			close(socks_fd);
		if (listeners_fd >= 0)
			close(listeners_fd);
		fclose(f);
		err = write_all(d->json_fd, buf, len);
		free(buf);
		if (err)
			return err;
		d->json_lines += n;
	}
	if (d->ipfix.n)
		fa_ipfix_export(&d->ipfix, s->rs.instance, recs, n, wall_off);
	/*
	 * A connection that ended (FIN or RST): a later one on its tuple
	 * starts afresh. Not on an idle timeout: a connection in RTO backoff
	 * must keep its highest sequence, or its retransmissions would look
	 * like a first segment.
	 */
	for (i = 0; joined && i < n; i++)
		if (recs[i].end_reason == FA_END_END)
			fa_enrich_forget(s->p.fd, &recs[i].key);
	return 0;
}

static void write_counters(struct daemon *d, struct owned *w)
{
	struct fa_hook_stats st[FLOW_NR_DIRS] = {};
	struct fa_out o;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int dir;

	if (d->json_fd < 0 || fa_stats_read(w->s.p.fd[FA_PIN_STATS], st))
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
		ifname, strcmp(d->json_path, "-") ? d->json_path : "standard output",
		strerror(-err));
}

/* ---- exports ------------------------------------------------------------------ */

/* The collectors, resolved, with their sockets: before anything is attached,
 * so that a bad --ipfix leaves nothing behind. */
static int open_ipfix(struct daemon *d, int argc, char **argv)
{
	const struct run_opts *o = d->o;
	struct fa_ipfix_cfg cfg = {
		.domain = o->ipfix_domain ? o->ipfix_domain :
			  fa_ipfix_default_domain((const char *const *)argv, argc),
		.max_message = o->ipfix_max_message,
		.refresh_ns = o->ipfix_refresh_ms * 1000000ull,
		.refresh_messages = FA_IPFIX_REFRESH_MESSAGES,
		.active_timeout_s = o->active_ms / 1000 > 65535 ? 65535 : o->active_ms / 1000,
		.idle_timeout_s = o->idle_ms / 1000 > 65535 ? 65535 : o->idle_ms / 1000,
	};
	struct fa_ipfix_target t;
	size_t i;
	int err;

	if (!o->ipfix.n)
		return 0;
	err = fa_ipfix_init(&d->ipfix, &cfg);
	if (err) {
		pr_err("can't start the IPFIX export: %s", strerror(-err));
		return err;
	}
	for (i = 0; i < o->ipfix.n; i++) {
		fa_ipfix_target_parse(o->ipfix.spec[i], &t);	/* checked already */
		err = fa_ipfix_target_resolve(&t);
		if (err == -ENOENT || err == -EAGAIN) {
			pr_err("--ipfix '%s': can't resolve '%s'%s", t.name, t.host,
			       err == -EAGAIN ? " (no answer from the resolver)" : "");
			return err;
		}
		if (err) {
			pr_err("--ipfix '%s': can't resolve '%s': %s", t.name, t.host,
			       strerror(-err));
			return err;
		}
		err = fa_ipfix_add(&d->ipfix, &t);
		if (err == -EMSGSIZE) {
			pr_err("--ipfix '%s': --ipfix-max-message %u does not fit in one UDP datagram over IPv4 (at most 65507)",
			       t.name, cfg.max_message);
			return err;
		}
		if (err) {
			pr_err("--ipfix '%s': %s", t.name, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* Each collector's troubles are said at most once a minute. */
static void ipfix_trouble(struct daemon *d)
{
	__u64 now = fa_mono_ns();
	size_t i;

	if (d->ipfix_log_ns && now - d->ipfix_log_ns < 60000000000ull)
		return;
	for (i = 0; i < d->ipfix.n; i++) {
		const struct fa_ipfix_collector *c = &d->ipfix.c[i];
		__u64 n = c->stats.send_errors - d->ipfix_logged_errors[i];

		if (!n)
			continue;
		pr_note("IPFIX to '%s': %llu message%s not sent (%s); %llu flow records lost to it so far",
			c->target.name, (unsigned long long)n, n > 1 ? "s" : "",
			strerror(c->stats.last_error),
			(unsigned long long)c->stats.records_not_sent);
		d->ipfix_logged_errors[i] = c->stats.send_errors;
		d->ipfix_log_ns = now;
	}
}

/* Templates and options when due, with the packets not accounted so far. */
static void ipfix_refresh(struct daemon *d, bool force)
{
	struct fa_ipfix_iface ifs[64];
	struct fa_hook_stats st[FLOW_NR_DIRS];
	__u64 ignored = 0;
	size_t i, n = 0;
	int dir, c;

	if (!d->ipfix.n)
		return;
	for (i = 0; i < d->n && n < ARRAY_SIZE(ifs); i++) {
		struct owned *w = &d->ifs[i];

		if (!w->open)
			continue;
		ifs[n].ifindex = w->s.p.state.ifindex;
		ifs[n++].name = w->s.ifname;
		if (fa_stats_read(w->s.p.fd[FA_PIN_STATS], st))
			continue;
		for (dir = 0; dir < FLOW_NR_DIRS; dir++)
			for (c = 0; c < FLOW_NR_COUNTERS; c++)
				if (fa_counter_kind(c) == FLOW_CK_REASON)
					ignored += st[dir].c[c];
	}
	fa_ipfix_refresh(&d->ipfix, ifs, n, ignored, force);
	ipfix_trouble(d);
}

static void metrics_write(struct daemon *d, FILE *f)
{
	struct fa_metrics_iface *mi = calloc(d->n ? d->n : 1, sizeof(*mi));
	struct fa_metrics m = {
		.ifs = mi, .flips = d->flips, .flip_ns_total = d->flip_ns_total,
		.flip_ns_max = d->flip_ns_max, .json_records = d->json_lines,
		.ipfix = d->ipfix.n ? &d->ipfix : NULL,
	};
	size_t i;

	if (!mi)
		return;
	for (i = 0; i < d->n; i++) {
		struct owned *w = &d->ifs[i];

		if (!w->open)
			continue;
		mi[m.nifs].iface = w->s.ifname;
		fa_state_hooks(&w->s.p.state, mi[m.nifs].hook);
		if (fa_stats_read(w->s.p.fd[FA_PIN_STATS], mi[m.nifs].st))
			continue;
		mi[m.nifs].ss = &w->s.stats;
		mi[m.nifs].cache_flows = fa_cache_count(w->s.cache);
		mi[m.nifs].cache_size = d->o->cache_size;
		mi[m.nifs].table_size = w->s.p.state.max_flows;
		m.nifs++;
	}
	fa_print_metrics(f, &m);
	free(mi);
}

static int metrics_page(void *ctx, const char *url, char **body, size_t *len,
			const char **type)
{
	FILE *f;

	if (strcmp(url, "/metrics"))
		return -ENOENT;
	f = open_memstream(body, len);
	if (!f)
		return -ENOMEM;
	metrics_write(ctx, f);
	if (fclose(f))
		return -ENOMEM;
	*type = "text/plain; version=0.0.4; charset=utf-8";
	return 0;
}

/* For node_exporter's textfile collector: a whole file or none, never half
 * of one, so a temporary file in the same directory renamed over it. */
static int metrics_file_write(struct daemon *d)
{
	char tmp[PATH_MAX];
	FILE *f;
	int err = 0;

	if (!d->o->metrics_file)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", d->o->metrics_file, (int)getpid());
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	metrics_write(d, f);
	if (fflush(f) || fsync(fileno(f)))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, d->o->metrics_file))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static int open_metrics(struct daemon *d)
{
	const char *spec = d->o->metrics, *file = d->o->metrics_file;
	char host[256];
	__u16 port;
	size_t n;
	int err;

	if (file) {
		n = strlen(file);
		if (n < 6 || strcmp(file + n - 5, ".prom")) {
			pr_err("--metrics-file '%s': the name must end in .prom (node_exporter reads only those)",
			       file);
			return -EINVAL;
		}
		err = metrics_file_write(d);
		if (err) {
			pr_err("--metrics-file '%s': %s", file, strerror(-err));
			return err;
		}
	}
	if (!spec)
		return 0;
	err = fa_hostport_parse(spec, host, sizeof(host), &port, 0);
	if (err == -ERANGE) {
		pr_err("--metrics '%s': the port must be 1 to 65535", spec);
		return err;
	}
	if (err) {
		pr_err("--metrics '%s': give ADDR:PORT, [IPV6]:PORT or :PORT (every address)", spec);
		return -EINVAL;
	}
	err = fa_http_open(host, port, metrics_page, d, &d->http);
	if (err == -ENOENT)
		pr_err("--metrics '%s': can't resolve '%s'", spec, host);
	else if (err == -EADDRINUSE)
		pr_err("--metrics '%s': the port is in use", spec);
	else if (err)
		pr_err("--metrics '%s': can't listen: %s", spec, strerror(-err));
	return err;
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
		.owners = o->attribution,
		.retrans = o->retrans,
		.passive_rtt = o->passive_rtt,
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
	ipfix_refresh(d, false);
	err = metrics_file_write(d);
	if (err && fa_mono_ns() - d->metrics_log_ns >= 60000000000ull) {
		d->metrics_log_ns = fa_mono_ns();
		pr_note("can't write %s: %s", d->o->metrics_file, strerror(-err));
	}
	heap_release_when_idle(d, fa_mono_ns());
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
		ok = !dump_render(&dopts, &s, &out);
	else
		fa_print_stats_doc(&out, &s);
	if (c != &cmd_dump)
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
	struct fa_ctl_reply r;
	int fd;
	bool ok;

	for (;;) {
		fd = accept4(d->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		err[0] = '\0';
		if (fa_ctl_read_request(fd, line, sizeof(line)) ||
		    fa_ctl_reply_begin(&r, fd)) {
			close(fd);
			continue;
		}
		ok = answer(d, line, r.f, err, sizeof(err));
		fa_ctl_reply_end(&r, ok, err);
		close(fd);
		d->last_request_ns = fa_mono_ns();
	}
}

/* ---- the loop ------------------------------------------------------------------ */

static int setup(struct daemon *d)
{
	struct itimerspec its = {};
	sigset_t set;
	int err;

	heap_keep();
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
				pr_note("can't reopen %s: %s", d->json_path, strerror(-err));
		} else {
			d->stop = true;
		}
	}
}

static void loop(struct daemon *d)
{
	struct pollfd p[4] = {
		{ .fd = d->sfd, .events = POLLIN },
		{ .fd = d->tfd, .events = POLLIN },
		{ .fd = d->lfd, .events = POLLIN },
		{ .fd = d->http ? fa_http_fd(d->http) : -1, .events = POLLIN },
	};
	__u64 expirations;

	while (!d->stop) {
		/* MHD's connection timeouts are checked on each of its runs, and
		 * the timer runs us at least every interval. */
		if (poll(p, 4, -1) < 0) {
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
		if (d->http)
			fa_http_run(d->http);
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
		w->keep_state = err != 0;
		if (err)
			pr_note("'%s': the last drain failed (%s): what it had is kept for the next run",
				w->name, strerror(-err));
		write_counters(d, w);
	}
	/* The final totals, to every collector, while the state is open. */
	ipfix_refresh(d, true);
	metrics_file_write(d);
	for (i = 0; i < d->ipfix.n; i++) {
		const struct fa_ipfix_stats *st = &d->ipfix.c[i].stats;

		char skipped[96] = "";

		if (st->skipped)
			snprintf(skipped, sizeof(skipped),
				 "; %llu records a killed daemon had sent were not sent again",
				 (unsigned long long)st->skipped);
		pr_note("IPFIX to '%s': %llu flow records in %llu messages, %llu send errors (%llu records not sent)%s",
			d->ipfix.c[i].target.name, (unsigned long long)st->records,
			(unsigned long long)st->messages,
			(unsigned long long)st->send_errors,
			(unsigned long long)st->records_not_sent, skipped);
	}
	for (i = 0; i < d->n; i++) {
		struct owned *w = &d->ifs[i];

		if (!w->open || w->keep_state)
			continue;
		if (w->ours)
			fa_detach(w->dirname, &w->s.p.state, w->s.p.state.ifindex);
		else
			fa_stream_unpin(&w->s, true);
	}
}

/* "running on ...": where everything goes, once. */
static void describe(struct daemon *d, int argc)
{
	char to[1024] = "";
	size_t i, n = 0;

	if (d->json_path)
		n += snprintf(to + n, sizeof(to) - n, "; records to %s",
			      strcmp(d->json_path, "-") ? d->json_path : "standard output");
	for (i = 0; i < d->ipfix.n && n < sizeof(to); i++)
		n += snprintf(to + n, sizeof(to) - n, "%s%s", i ? ", " : "; IPFIX to ",
			      d->ipfix.c[i].target.name);
	if (d->ipfix.n && n < sizeof(to))
		n += snprintf(to + n, sizeof(to) - n, " (domain %u)", d->ipfix.cfg.domain);
	if (d->o->metrics && n < sizeof(to))
		n += snprintf(to + n, sizeof(to) - n, "; metrics at http://%s/metrics",
			      d->o->metrics);
	if (d->o->metrics_file && n < sizeof(to))
		snprintf(to + n, sizeof(to) - n, "; metrics to %s", d->o->metrics_file);
	pr_note("running on %d interface%s, a flip every %.3g s%s", argc,
		argc > 1 ? "s" : "", d->o->interval_ms / 1000.0, to);
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
	/* JSON to standard output unless asked elsewhere, or exporting. */
	d.json_path = d.o->json ? d.o->json : d.o->ipfix.n ? NULL : "-";
	err = open_json(&d);
	if (err) {
		pr_err("can't open '%s' for the records: %s", d.json_path, strerror(-err));
		goto out;
	}
	err = open_ipfix(&d, argc, argv);
	if (!err)
		err = open_metrics(&d);
	if (!err)
		err = setup(&d);
	for (i = 0; !err && i < (size_t)argc; i++) {
		d.n = i + 1;
		err = take_iface(&d, &d.ifs[i]);
		if (!err)
			err = open_stream(&d, &d.ifs[i]);
	}
	if (err)
		goto out_release;
	describe(&d, argc);
	ipfix_refresh(&d, true);
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
	fa_http_close(d.http);
	fa_ipfix_free(&d.ipfix);
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
