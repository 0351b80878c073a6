// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The Prometheus sink over lib/prom.c and lib/http.c: the daemon's metrics
 * served at http://ADDR:PORT/metrics, and written every interval to a
 * .prom file for node_exporter's textfile collector.
 *
 * Per container, the packets and bytes of the records of its flows, as
 * they leave: a series for each container that exists, up to a cap; the
 * containers past it counted under container="other" for their whole
 * life, so that no series ever goes backwards. A container's series goes
 * once its cgroup has been gone for longer than any of its flows can stay
 * in the cache. The sink is the last one the engine calls and never fails
 * a batch: a batch another sink refused comes again before this one has
 * seen it, and is counted once.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "internal.h"

/* A container's counts; over the cap, only what says it is "other". */
struct ctr_series {
	struct fa_container c;
	__u64 packets[FLOW_NR_DIRS], bytes[FLOW_NR_DIRS];
	__u64 gone_ns;			/* when its cgroup was first missed; 0: there */
	__u64 counted_ns;		/* its last record */
	bool other;
};

/* Dropped packets of an interface's records for one kernel reason. */
struct drop_series {
	__u32 ifindex;
	__u32 reason;
	__u64 packets;
};

struct sink_metrics {
	struct fa_engine *e;
	struct fa_engine_sink *self;	/* its write errors */
	struct fa_http *http;
	__u64 log_ns;
	struct ctr_series **ctrs;
	size_t nctrs, ctrs_cap, nown;	/* nown: those with a series */
	__u64 other_packets[FLOW_NR_DIRS], other_bytes[FLOW_NR_DIRS];
	__u64 others;			/* containers ever put under "other" */
	char cg_root[PATH_MAX];		/* the cgroup v2 mount; "": not known */
	/* Interfaces times reasons: a few hundred at most, kept while the
	 * interface is (a counter must not go backwards), named as it is now. */
	struct drop_series *drops;
	size_t ndrops, drops_cap;
};

static void drops_count(struct sink_metrics *m, __u32 ifindex, __u32 reason, __u64 n)
{
	struct drop_series *grown;
	size_t i;

	if (!n)
		return;
	for (i = 0; i < m->ndrops; i++)
		if (m->drops[i].reason == reason && m->drops[i].ifindex == ifindex)
			break;
	if (i == m->ndrops) {
		if (m->ndrops == m->drops_cap) {
			size_t cap = m->drops_cap ? 2 * m->drops_cap : 16;

			grown = realloc(m->drops, cap * sizeof(*grown));
			if (!grown)
				return;
			m->drops = grown;
			m->drops_cap = cap;
		}
		memset(&m->drops[i], 0, sizeof(m->drops[i]));
		m->drops[i].ifindex = ifindex;
		m->drops[i].reason = reason;
		m->ndrops++;
	}
	m->drops[i].packets += n;
}

static void print_drops(struct sink_metrics *m, FILE *f)
{
	char buf[48], name[IF_NAMESIZE];
	const char *labels[5];
	size_t i, k = 0;

	fa_prom_family(f, "flowacct_drops_total", "counter",
		       "Packets the kernel dropped, of the records of each interface, by the kernel's drop reason (docs/drops.md).");
	for (i = 0; i < m->ndrops; i++) {
		/* An interface gone takes its series with it. */
		if (!if_indextoname(m->drops[i].ifindex, name))
			continue;
		m->drops[k++] = m->drops[i];
		labels[0] = "iface", labels[1] = name;
		labels[2] = "reason";
		labels[3] = fa_drop_reason_name(m->drops[i].reason, buf, sizeof(buf));
		labels[4] = NULL;
		fa_prom_u64(f, "flowacct_drops_total", labels, m->drops[i].packets);
	}
	m->ndrops = k;
}

static const char *ctr_key(const struct fa_container *c)
{
	return c->id[0] ? c->id : c->pod_uid;
}

static struct ctr_series *ctr_get(struct sink_metrics *m, const struct fa_container *c)
{
	struct ctr_series *x, **grown;
	size_t i;

	for (i = 0; i < m->nctrs; i++)
		if (!strcmp(ctr_key(&m->ctrs[i]->c), ctr_key(c)))
			return m->ctrs[i];
	if (m->nctrs == m->ctrs_cap) {
		m->ctrs_cap = m->ctrs_cap ? 2 * m->ctrs_cap : 64;
		grown = realloc(m->ctrs, m->ctrs_cap * sizeof(*m->ctrs));
		if (!grown)
			return NULL;
		m->ctrs = grown;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->c = *c;
	x->other = m->nown >= m->e->cfg.metrics_containers;
	m->nown += !x->other;
	m->others += x->other;
	m->ctrs[m->nctrs++] = x;
	return x;
}

static int metrics_records(void *priv, const struct fa_stream *s,
			   const struct fa_record *recs, size_t n, __u64 wall_off)
{
	const struct fa_container *c, *last = NULL;
	struct sink_metrics *m = priv;
	struct ctr_series *x = NULL;
	struct fa_records_join join;
	struct fa_ext ext;
	size_t i;
	int d;

	(void)wall_off;
	fa_records_join_open(&join, s);
	for (i = 0; i < n; i++) {
		const struct fa_drops *dr = &recs[i].drops;

		if (dr->packets) {
			drops_count(m, recs[i].key.ifindex, dr->reason[0], dr->packets - dr->second);
			drops_count(m, recs[i].key.ifindex, dr->reason[1], dr->second);
		}
		fa_records_join_key(&join, &recs[i].key, &ext);
		/* Not the forwarded join: a routed packet is counted on the
		 * container's interface, once, not again on the uplink. */
		c = ext.container ?: fa_engine_container(m->e, recs[i].key.ifindex);
		if (!c || (!c->id[0] && !c->pod_uid[0]))
			continue;
		/* The records of one interface come in runs: one lookup a run. */
		if (c != last)
			x = ctr_get(m, c);
		last = c;
		d = recs[i].key.direction;
		if (!x || d >= FLOW_NR_DIRS)
			continue;
		x->counted_ns = fa_mono_ns();
		if (x->other) {
			m->other_packets[d] += recs[i].packets;
			m->other_bytes[d] += recs[i].bytes;
		} else {
			x->packets[d] += recs[i].packets;
			x->bytes[d] += recs[i].bytes;
		}
	}
	fa_records_join_close(&join);
	return 0;
}

/*
 * Containers whose cgroup is gone: their series go once no flow of theirs
 * can be left in the cache (the active and idle timeouts, and two ticks
 * for the records to leave).
 */
static void ctrs_sweep(struct sink_metrics *m)
{
	const struct fa_engine_cfg *cfg = &m->e->cfg;
	__u64 now = fa_mono_ns(), grace;
	char path[PATH_MAX + 512];
	struct stat sb;
	size_t i, k = 0;

	grace = (cfg->active_ms + cfg->idle_ms + 2 * cfg->interval_ms) * 1000000ull;
	for (i = 0; i < m->nctrs; i++) {
		struct ctr_series *x = m->ctrs[i];

		snprintf(path, sizeof(path), "%s%s", m->cg_root, x->c.cgroup);
		if (!x->c.cgroup[0] || !m->cg_root[0]) {
			/* No path to look at (too long to keep, or no cgroup
			 * v2 mount): gone once quiet for as long. */
			x->gone_ns = x->counted_ns;
		} else if (!stat(path, &sb)) {
			x->gone_ns = 0;
		} else if (!x->gone_ns) {
			x->gone_ns = now;
		}
		if (x->gone_ns && now - x->gone_ns >= grace) {
			m->nown -= !x->other;
			free(x);
			continue;
		}
		m->ctrs[k++] = x;
	}
	m->nctrs = k;
}

static void ctr_labels(const struct ctr_series *x, int d, const char *labels[11], char *buf,
		       size_t len)
{
	const struct fa_container *c = &x->c;

	/* As a table's cell calls it, so that no two have the same labels. */
	if (c->name[0])
		snprintf(buf, len, "%s", c->name);
	else if (c->id[0])
		snprintf(buf, len, "%.12s", c->id);
	else if (c->pod[0])
		snprintf(buf, len, "%s", c->pod);
	else
		snprintf(buf, len, "pod-%.8s", c->pod_uid);
	labels[0] = "container", labels[1] = buf;
	labels[2] = "container_id", labels[3] = c->id;
	labels[4] = "pod", labels[5] = c->pod;
	labels[6] = "namespace", labels[7] = c->ns;
	labels[8] = "direction", labels[9] = fa_direction_name(d);
	labels[10] = NULL;
}

static void print_ctrs(struct sink_metrics *m, FILE *f)
{
	static const struct ctr_series other = { .c.name = "other" };
	static const char *const family[2] = {
		"flowacct_container_packets_total", "flowacct_container_bytes_total",
	};
	static const char *const help[2] = {
		"Packets of the records of each container's flows (its socket's cgroup's, or its veth's peer namespace's), as they left; past the cap, under container=\"other\".",
		"IP-layer bytes of the same records.",
	};
	const char *labels[11];
	char buf[256];
	size_t i;
	int d, k;

	fa_prom_family(f, "flowacct_containers", "gauge",
		       "Containers with series of their own (at most --metrics-containers).");
	fa_prom_u64(f, "flowacct_containers", NULL, m->nown);
	fa_prom_family(f, "flowacct_containers_other_total", "counter",
		       "Containers counted under container=\"other\" for their life, past the cap.");
	fa_prom_u64(f, "flowacct_containers_other_total", NULL, m->others);
	for (k = 0; k < 2; k++) {
		fa_prom_family(f, family[k], "counter", help[k]);
		for (i = 0; i < m->nctrs; i++) {
			if (m->ctrs[i]->other)
				continue;
			for (d = 0; d < FLOW_NR_DIRS; d++) {
				ctr_labels(m->ctrs[i], d, labels, buf, sizeof(buf));
				fa_prom_u64(f, family[k], labels,
					    k ? m->ctrs[i]->bytes[d] : m->ctrs[i]->packets[d]);
			}
		}
		for (d = 0; d < FLOW_NR_DIRS; d++) {
			ctr_labels(&other, d, labels, buf, sizeof(buf));
			fa_prom_u64(f, family[k], labels, k ? m->other_bytes[d] : m->other_packets[d]);
		}
	}
}

static void metrics_write(struct sink_metrics *sm, FILE *f)
{
	struct fa_engine *e = sm->e;
	struct fa_metrics_iface *mi = calloc(e->n ? e->n : 1, sizeof(*mi));
	struct fa_stream_stats *ss = calloc(e->n ? e->n : 1, sizeof(*ss));
	struct fa_metrics m = {
		.ifs = mi, .flips = e->stats.flips,
		.flip_ns_total = e->stats.flip_ns_total,
		.flip_ns_max = e->stats.flip_ns_max,
		.json_records = e->stats.json_records, .ipfix = e->ipfix,
		.ifaces_taken = e->ifaces_taken, .ifaces_left = e->ifaces_left,
		.ifaces_refused = e->ifaces_refused,
		.sinks = e->sinks, .nsinks = e->nsinks,
	};
	size_t i;

	if (!mi || !ss)
		goto out;
	for (i = 0; i < e->n; i++) {
		struct fa_engine_iface *w = e->ifs[i];
		const struct fa_stream *s = fa_engine_stream(e, w);

		if (!fa_engine_counting(e, w))
			continue;
		mi[m.nifs].iface = fa_stream_ifname(s, w->ifindex);
		fa_ingress_hooks(w->member ? w->m.ingress : s->p.state.ingress, mi[m.nifs].hook);
		if (fa_stats_read(s->p.fd[FA_PIN_STATS], w->ifindex, mi[m.nifs].st))
			continue;
		fa_stream_iface_stats(s, w->ifindex, &ss[m.nifs]);
		mi[m.nifs].ss = &ss[m.nifs];
		mi[m.nifs].cache_flows = fa_cache_count(s->cache);
		mi[m.nifs].cache_size = e->cfg.cache_size;
		mi[m.nifs].table_size = s->p.state.max_flows;
		mi[m.nifs].tick_lag_ns = fa_engine_tick_lag_ns(e, w);
		mi[m.nifs].last_tick_ns = fa_engine_ticker(e, w)->last_tick_ns;
		mi[m.nifs].delayed_records = fa_engine_delayed_records(e, w);
		m.nifs++;
	}
	fa_print_metrics(f, &m);
	print_ctrs(sm, f);
	print_drops(sm, f);
out:
	free(mi);
	free(ss);
}

static int metrics_page(void *ctx, const char *url, char **body, size_t *len,
			const char **type)
{
	struct sink_metrics *m = ctx;
	FILE *f;

	if (strcmp(url, "/metrics"))
		return -ENOENT;
	f = open_memstream(body, len);
	if (!f)
		return -ENOMEM;
	metrics_write(m, f);
	if (fclose(f))
		return -ENOMEM;
	*type = "text/plain; version=0.0.4; charset=utf-8";
	return 0;
}

/* For node_exporter's textfile collector: a whole file or none, never half
 * of one, so a temporary file in the same directory renamed over it. */
static int file_write(struct sink_metrics *m)
{
	const char *path = m->e->cfg.metrics_file;
	char tmp[PATH_MAX];
	FILE *f;
	int err = 0;

	if (!path)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	metrics_write(m, f);
	if (fflush(f) || fsync(fileno(f)))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static void metrics_tick(void *priv, bool final)
{
	struct sink_metrics *m = priv;
	int err;

	ctrs_sweep(m);
	err = file_write(m);

	if (err) {
		m->self->errors++;
		m->self->last_err = err;
	}
	/* Said at most once a minute; the last write, at shutdown, not. */
	if (err && !final && fa_mono_ns() - m->log_ns >= 60000000000ull) {
		m->log_ns = fa_mono_ns();
		fa_log(&m->e->cfg.log, FA_LOG_NOTE, "can't write %s: %s",
		       m->e->cfg.metrics_file, strerror(-err));
	}
}

static int metrics_poll_fd(void *priv)
{
	struct sink_metrics *m = priv;

	return m->http ? fa_http_fd(m->http) : -1;
}

static void metrics_poll_run(void *priv)
{
	struct sink_metrics *m = priv;

	if (m->http)
		fa_http_run(m->http);
}

static void metrics_describe(void *priv, char *buf, size_t len)
{
	const struct fa_engine_cfg *c = &((struct sink_metrics *)priv)->e->cfg;
	size_t n = 0;

	if (c->metrics)
		n = snprintf(buf, len, "; metrics at http://%s/metrics", c->metrics);
	if (c->metrics_file && n < len)
		snprintf(buf + n, len - n, "; metrics to %s", c->metrics_file);
}

static void metrics_close(void *priv)
{
	struct sink_metrics *m = priv;

	size_t i;

	fa_http_close(m->http);
	for (i = 0; i < m->nctrs; i++)
		free(m->ctrs[i]);
	free(m->ctrs);
	free(m->drops);
	free(m);
}

static const struct fa_sink_ops metrics_ops = {
	.name = "metrics",
	.records = metrics_records,
	.tick = metrics_tick,
	.poll_fd = metrics_poll_fd,
	.poll_run = metrics_poll_run,
	.describe = metrics_describe,
	.close = metrics_close,
};

static int open_server(struct sink_metrics *m, const char *spec, struct fa_err *err)
{
	char host[256];
	__u16 port;
	int r;

	r = fa_hostport_parse(spec, host, sizeof(host), &port, 0);
	if (r == -ERANGE)
		return fa_err_set(err, r, "--metrics '%s': the port must be 1 to 65535", spec);
	if (r)
		return fa_err_set(err, -EINVAL, "--metrics '%s': give ADDR:PORT, [IPV6]:PORT or :PORT (every address)",
				  spec);
	r = fa_http_open(host, port, metrics_page, m, &m->http);
	if (r == -ENOENT)
		return fa_err_set(err, r, "--metrics '%s': can't resolve '%s'", spec, host);
	if (r == -EADDRINUSE)
		return fa_err_set(err, r, "--metrics '%s': the port is in use", spec);
	if (r)
		return fa_err_set(err, r, "--metrics '%s': can't listen: %s", spec, strerror(-r));
	return 0;
}

int fa_sink_metrics_open(struct fa_engine *e, struct fa_engine_sink *sink, struct fa_err *err)
{
	const char *file = e->cfg.metrics_file;
	struct sink_metrics *m;
	size_t n;
	int r = 0;

	sink->ops = NULL;
	if (!e->cfg.metrics && !file)
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m)
		return fa_err_set(err, -ENOMEM, "out of memory");
	m->e = e;
	m->self = sink;
	if (fa_cgroup2_mount(m->cg_root, sizeof(m->cg_root)))
		m->cg_root[0] = '\0';
	if (file) {
		n = strlen(file);
		if (n < 6 || strcmp(file + n - 5, ".prom"))
			r = fa_err_set(err, -EINVAL, "--metrics-file '%s': the name must end in .prom (node_exporter reads only those)",
				       file);
		else if ((r = file_write(m)))
			fa_err_set(err, r, "--metrics-file '%s': %s", file, strerror(-r));
	}
	if (!r && e->cfg.metrics)
		r = open_server(m, e->cfg.metrics, err);
	if (r) {
		free(m);
		return r;
	}
	sink->ops = &metrics_ops;
	sink->priv = m;
	return 0;
}
