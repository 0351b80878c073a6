// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The IPFIX sink over lib/ipfix.c: records to every collector (never
 * failing the tick: a collector that is down must not hold records back,
 * its losses are counted), templates and options with the packets not
 * accounted when due, each collector's troubles said at most once a
 * minute, and what each got said at shutdown.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "internal.h"
#include "ipfix.h"

struct sink_ipfix {
	struct fa_engine *e;
	struct fa_ipfix ipfix;
	__u64 logged_errors[FA_IPFIX_MAX_COLLECTORS];
	__u64 log_ns;
	bool final;		/* the shutdown's last tick went out */
};

#define NOTE(x, ...) fa_log(&(x)->e->cfg.log, FA_LOG_NOTE, __VA_ARGS__)

static int ipfix_records(void *priv, const struct fa_stream *s,
			 const struct fa_record *recs, size_t n, __u64 wall_off)
{
	struct sink_ipfix *x = priv;
	struct flow_tunnel *tuns = NULL;
	size_t i;

	/* Tunnelled flows' tunnels, while they are still noted. */
	for (i = 0; i < n && !tuns; i++)
		if (recs[i].key.tunnel)
			tuns = calloc(n, sizeof(*tuns));
	for (i = 0; tuns && i < n; i++)
		fa_tunnel_of(s->p.fd, &recs[i].key, &tuns[i]);
	fa_ipfix_export(&x->ipfix, s->rs.instance, recs, tuns, n, wall_off);
	free(tuns);
	return 0;
}

/* Each collector's troubles are said at most once a minute. */
static void trouble(struct sink_ipfix *x)
{
	__u64 now = fa_mono_ns();
	size_t i;

	if (x->log_ns && now - x->log_ns < 60000000000ull)
		return;
	for (i = 0; i < x->ipfix.n; i++) {
		const struct fa_ipfix_collector *c = &x->ipfix.c[i];
		__u64 n = c->stats.send_errors - x->logged_errors[i];

		if (!n)
			continue;
		NOTE(x, "IPFIX to '%s': %llu message%s not sent (%s); %llu flow records lost to it so far",
		     c->target.name, (unsigned long long)n, n > 1 ? "s" : "",
		     strerror(c->stats.last_error),
		     (unsigned long long)c->stats.records_not_sent);
		x->logged_errors[i] = c->stats.send_errors;
		x->log_ns = now;
	}
}

/* Templates and options when due, with the packets not accounted so far. */
static void refresh(struct sink_ipfix *x, bool force)
{
	struct fa_ipfix_iface ifs[64];
	struct fa_hook_stats st[FLOW_NR_DIRS];
	struct fa_engine *e = x->e;
	__u64 ignored = 0;
	size_t i, n = 0;
	int dir, c;

	for (i = 0; i < e->n && n < ARRAY_SIZE(ifs); i++) {
		struct fa_engine_iface *w = e->ifs[i];
		const struct fa_stream *s = fa_engine_stream(e, w);

		if (!fa_engine_counting(e, w))
			continue;
		ifs[n].ifindex = w->ifindex;
		ifs[n++].name = fa_stream_ifname(s, w->ifindex);
		/* fa_stats_read() adds: each interface from zero, once. */
		memset(st, 0, sizeof(st));
		if (fa_stats_read(s->p.fd[FA_PIN_STATS], w->ifindex, st))
			continue;
		for (dir = 0; dir < FLOW_NR_DIRS; dir++)
			for (c = 0; c < FLOW_NR_COUNTERS; c++)
				if (fa_counter_kind(c) == FLOW_CK_REASON)
					ignored += st[dir].c[c];
	}
	fa_ipfix_refresh(&x->ipfix, ifs, n, ignored, force);
	trouble(x);
}

static void ipfix_start(void *priv)
{
	refresh(priv, true);
}

static void ipfix_tick(void *priv, bool final)
{
	struct sink_ipfix *x = priv;
	size_t i;

	/* The final totals, to every collector. */
	refresh(x, final);
	x->final = x->final || final;
	for (i = 0; final && i < x->ipfix.n; i++) {
		const struct fa_ipfix_stats *st = &x->ipfix.c[i].stats;
		char skipped[96] = "";

		if (st->skipped)
			snprintf(skipped, sizeof(skipped),
				 "; %llu records a killed daemon had sent were not sent again",
				 (unsigned long long)st->skipped);
		NOTE(x, "IPFIX to '%s': %llu flow records in %llu messages, %llu send errors (%llu records not sent)%s",
		     x->ipfix.c[i].target.name, (unsigned long long)st->records,
		     (unsigned long long)st->messages, (unsigned long long)st->send_errors,
		     (unsigned long long)st->records_not_sent, skipped);
	}
}

static void ipfix_describe(void *priv, char *buf, size_t len)
{
	struct sink_ipfix *x = priv;
	size_t i, n = 0;

	for (i = 0; i < x->ipfix.n && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%s", i ? ", " : "; IPFIX to ",
			      x->ipfix.c[i].target.name);
	if (n < len)
		snprintf(buf + n, len - n, " (domain %u)", x->ipfix.cfg.domain);
}

/* Whether every interface's records all went out at shutdown: then no
 * numbering is needed to skip what a killed daemon had sent. */
static bool stopped_cleanly(const struct sink_ipfix *x)
{
	size_t i;

	for (i = 0; x->final && i < x->e->n; i++)
		if (x->e->ifs[i]->keep_state)
			return false;
	if (x->final && x->e->setw && x->e->setw->keep_state)
		return false;
	return x->final;
}

static void ipfix_close(void *priv)
{
	struct sink_ipfix *x = priv;

	/* A clean stop leaves no state file; a kill leaves it for the next run. */
	if (stopped_cleanly(x))
		fa_ipfix_remove_state(&x->ipfix);
	x->e->ipfix = NULL;
	fa_ipfix_free(&x->ipfix);
	free(x);
}

static const struct fa_sink_ops ipfix_ops = {
	.name = "ipfix",
	.records = ipfix_records,
	.start = ipfix_start,
	.tick = ipfix_tick,
	.describe = ipfix_describe,
	.close = ipfix_close,
};

/* One collector, resolved, with its socket. */
static int add_collector(struct sink_ipfix *x, const char *spec, struct fa_err *err)
{
	struct fa_ipfix_target t;
	int r;

	r = fa_ipfix_target_parse(spec, &t);
	if (r)
		return fa_err_set(err, r, "--ipfix '%s': give HOST, HOST:PORT or [IPV6]:PORT (the port defaults to %d)",
				  spec, IPFIX_PORT);
	r = fa_ipfix_target_resolve(&t);
	if (r == -ENOENT || r == -EAGAIN)
		return fa_err_set(err, r, "--ipfix '%s': can't resolve '%s'%s", t.name, t.host,
				  r == -EAGAIN ? " (no answer from the resolver)" : "");
	if (r)
		return fa_err_set(err, r, "--ipfix '%s': can't resolve '%s': %s", t.name,
				  t.host, strerror(-r));
	r = fa_ipfix_add(&x->ipfix, &t);
	if (r == -EMSGSIZE)
		return fa_err_set(err, r, "--ipfix '%s': --ipfix-max-message %u does not fit in one UDP datagram over IPv4 (at most 65507)",
				  t.name, x->ipfix.cfg.max_message);
	if (r)
		return fa_err_set(err, r, "--ipfix '%s': %s", t.name, strerror(-r));
	return 0;
}

/* The collectors, resolved, with their sockets: before anything is
 * attached, so that a bad --ipfix leaves nothing behind. */
int fa_sink_ipfix_open(struct fa_engine *e, struct fa_engine_sink *sink, struct fa_err *err)
{
	const struct fa_engine_cfg *c = &e->cfg;
	struct fa_ipfix_cfg cfg = {
		.domain = c->ipfix_domain,
		.max_message = c->ipfix_max_message,
		.refresh_ns = c->ipfix_refresh_ms * 1000000ull,
		.refresh_messages = FA_IPFIX_REFRESH_MESSAGES,
		.active_timeout_s = c->active_ms / 1000 > 65535 ? 65535 : c->active_ms / 1000,
		.idle_timeout_s = c->idle_ms / 1000 > 65535 ? 65535 : c->idle_ms / 1000,
		.pen = c->ipfix_pen,
	};
	struct sink_ipfix *x;
	size_t i;
	int r;

	sink->ops = NULL;
	if (!c->nipfix)
		return 0;
	x = calloc(1, sizeof(*x));
	if (!x)
		return fa_err_set(err, -ENOMEM, "out of memory");
	x->e = e;
	r = fa_ipfix_init(&x->ipfix, &cfg);
	if (r) {
		free(x);
		return fa_err_set(err, r, "can't start the IPFIX export: %s", strerror(-r));
	}
	sink->ops = &ipfix_ops;
	sink->priv = x;
	e->ipfix = &x->ipfix;
	/* Those of daemons that stopped without a successor's need for them. */
	fa_ipfix_remove_stale_states();
	for (i = 0; i < c->nipfix; i++) {
		r = add_collector(x, c->ipfix[i], err);
		if (r) {
			ipfix_close(x);
			sink->ops = NULL;
			return r;
		}
	}
	return 0;
}
