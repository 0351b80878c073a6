// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The Prometheus sink over lib/prom.c and lib/http.c: the daemon's metrics
 * served at http://ADDR:PORT/metrics, and written every interval to a
 * .prom file for node_exporter's textfile collector.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "internal.h"

struct sink_metrics {
	struct fa_engine *e;
	struct fa_engine_sink *self;	/* its write errors */
	struct fa_http *http;
	__u64 log_ns;
};

static void metrics_write(struct fa_engine *e, FILE *f)
{
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
	metrics_write(m->e, f);
	if (fclose(f))
		return -ENOMEM;
	*type = "text/plain; version=0.0.4; charset=utf-8";
	return 0;
}

/* For node_exporter's textfile collector: a whole file or none, never half
 * of one, so a temporary file in the same directory renamed over it. */
static int file_write(struct fa_engine *e)
{
	const char *path = e->cfg.metrics_file;
	char tmp[PATH_MAX];
	FILE *f;
	int err = 0;

	if (!path)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	metrics_write(e, f);
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
	int err = file_write(m->e);

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

	fa_http_close(m->http);
	free(m);
}

static const struct fa_sink_ops metrics_ops = {
	.name = "metrics",
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
	if (file) {
		n = strlen(file);
		if (n < 6 || strcmp(file + n - 5, ".prom"))
			return fa_err_set(err, -EINVAL, "--metrics-file '%s': the name must end in .prom (node_exporter reads only those)",
					  file);
		r = file_write(e);
		if (r)
			return fa_err_set(err, r, "--metrics-file '%s': %s", file, strerror(-r));
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return fa_err_set(err, -ENOMEM, "out of memory");
	m->e = e;
	m->self = sink;
	if (e->cfg.metrics)
		r = open_server(m, e->cfg.metrics, err);
	if (r) {
		free(m);
		return r;
	}
	sink->ops = &metrics_ops;
	sink->priv = m;
	return 0;
}
