// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The engine's side of the control socket (the protocol: lib/ctl.c): each
 * request is decoded into a struct fa_query and answered with the same
 * document the command would print, from the daemon's view: flows since
 * they started, plus what already left in records.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine.h"
#include "internal.h"
#include "out.h"

struct fa_engine_iface *fa_engine_find(struct fa_engine *e, const char *name,
				       bool dirname)
{
	struct fa_pin_entry pe;
	size_t i;

	if (!dirname) {
		if (fa_pins_find(name, &pe))
			return NULL;
		name = pe.dirname;
	}
	for (i = 0; i < e->n; i++)
		if (!strcmp(e->ifs[i]->dirname, name))
			return e->ifs[i];
	return NULL;
}

/* A member of the daemon's set, as an attachment of its own would be. */
static void member_state(const struct fa_engine *e, const struct fa_engine_iface *w,
			 struct fa_attach_state *st)
{
	*st = e->setw->s.p.state;
	st->ifindex = w->ifindex;
	st->ingress = w->m.ingress;
	st->tc_api = st->tci_api = w->m.tc_api;
	snprintf(st->ifname, sizeof(st->ifname), "%s", fa_stream_ifname(&e->setw->s, w->ifindex));
}

/*
 * The set's members a query asks for (@ifindex, or all with 0): one read
 * of the set's tables and cache for all of them. -ENOENT if @ifindex is
 * not one.
 */
static int members_snapshot(struct fa_engine *e, __u32 ifindex, bool rows,
			    struct fa_snapshot *s)
{
	struct fa_attach_state *st;
	size_t i, n = 0;
	int err = 0;

	if (!e->setw || !e->setw->open)
		return ifindex ? -ENOENT : 0;
	st = calloc(e->n ? e->n : 1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	for (i = 0; i < e->n; i++)
		if (e->ifs[i]->member && (!ifindex || (__u32)e->ifs[i]->ifindex == ifindex))
			member_state(e, e->ifs[i], &st[n++]);
	/* The whole set asked for: its drops on none of its interfaces too. */
	if (!ifindex && e->setw->s.p.fd[FA_PIN_DROP_STATS] >= 0) {
		s->has_drops_elsewhere = true;
		fa_drop_stats_read(e->setw->s.p.fd[FA_PIN_DROP_STATS], 0, &s->drops_elsewhere);
	}
	if (!n)
		err = ifindex ? -ENOENT : 0;
	else if (rows)
		err = fa_stream_snapshot(&e->setw->s, st, n, s);
	for (i = 0; i < n && !rows && !err; i++)
		err = fa_snapshot_add_iface(s, e->setw->s.p.fd, &st[i], e->setw->s.p.dir);
	free(st);
	return err;
}

/* The snapshot of the interfaces a query names (all if none). */
static int request_snapshot(struct fa_engine *e, const struct fa_query *q,
			    struct fa_snapshot *s, struct fa_err *err)
{
	bool rows = q->kind != FA_QUERY_STATS;
	struct fa_engine_iface *w;
	size_t i;
	int r = 0;

	if (q->iface[0] && e->setw && !strcmp(q->iface, e->setw->dirname)) {
		r = members_snapshot(e, q->member, rows, s);
		return r == -ENOENT ?
			fa_err_set(err, r, "ifindex %u is not a member of this daemon's program set",
				   q->member) : r;
	}
	if (q->iface[0]) {
		/* A member is asked for by its set and index (member=). */
		w = fa_engine_find(e, q->iface, q->kind == FA_QUERY_ROWS);
		if (!w || w->member)
			return fa_err_set(err, -ENOENT, "'%s' is not an interface this daemon owns",
					  q->iface);
		return rows ? fa_stream_snapshot(&w->s, NULL, 0, s) :
			      fa_snapshot_add_stats(s, &w->s.p);
	}
	for (i = 0; i < e->n && !r; i++)
		if (!e->ifs[i]->member)
			r = rows ? fa_stream_snapshot(&e->ifs[i]->s, NULL, 0, s) :
				   fa_snapshot_add_stats(s, &e->ifs[i]->s.p);
	return r ? r : members_snapshot(e, 0, rows, s);
}

/* Whether the records go out: the ticks' lag, what waits, each sink's errors. */
static void health(struct fa_out *o, const struct fa_engine *e,
		   const struct fa_engine_iface *w)
{
	__u64 lag = fa_engine_tick_lag_ns(e, w), delayed = fa_engine_delayed_records(e, w);
	char sinks[256] = "";
	size_t i, n;

	if (w->last_tick_ns)
		out_u64(o, "last_tick_unix_ms", NULL,
			(w->last_tick_ns + fa_mono_to_wall_offset()) / 1000000);
	else
		out_null(o, "last_tick_unix_ms", NULL, NULL);
	out_u64(o, "tick_lag_ms", NULL, lag / 1000000);
	out_u64(o, "delayed_records", NULL, delayed);
	out_arr_open(o, "sinks");
	for (i = 0; i < e->nsinks; i++) {
		const struct fa_engine_sink *k = &e->sinks[i];

		out_obj_open(o, NULL);
		out_str(o, "sink", NULL, k->ops->name);
		out_u64(o, "write_errors", NULL, k->errors);
		if (k->errors)
			out_str(o, "last_error", NULL, strerror(-k->last_err));
		else
			out_null(o, "last_error", NULL, NULL);
		out_obj_close(o);
		n = strlen(sinks);
		if (k->errors)
			snprintf(sinks + n, sizeof(sinks) - n,
				 ", %s: %llu failed writes (the last: %s)", k->ops->name,
				 (unsigned long long)k->errors, strerror(-k->last_err));
		else
			snprintf(sinks + n, sizeof(sinks) - n, ", %s ok", k->ops->name);
	}
	out_arr_close(o);
	out_text(o, "  daemon: last tick %.1f s ago, %llu records wait%s\n", lag / 1e9,
		 (unsigned long long)delayed, sinks);
}

/* The daemon's part of status: {"pid":...}. */
static void daemon_info(struct fa_out *o, const char *dirname, void *ctx)
{
	struct fa_engine_iface *w = fa_engine_find(ctx, dirname, true);
	struct fa_engine *e = ctx;
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
	out_u64(o, "cache_size", NULL, e->cfg.cache_size);
	out_u64(o, "ticks", NULL, w->s.stats.ticks);
	out_u64(o, "interval_ms", NULL, e->cfg.interval_ms);
	out_bool(o, "detach_on_exit", NULL, w->ours);
	out_obj_open(o, "records_by_reason");
	for (r = FA_END_IDLE; r <= FA_END_LACK_OF_RESOURCES; r++)
		out_u64(o, fa_end_reason_name(r), NULL, w->s.stats.records[r]);
	out_obj_close(o);
	health(o, e, w);
	out_obj_close(o);
}

/* Answers @q into @f: 0, or -errno with @err said. */
static int answer(struct fa_engine *e, const struct fa_query *q, FILE *f,
		  struct fa_err *err)
{
	struct fa_snapshot s = {};
	struct fa_out out;
	int r = 0;

	out_init(&out, f, q->json);
	switch (q->kind) {
	case FA_QUERY_INFO:
		if (!fa_engine_find(e, q->iface, true))
			return fa_err_set(err, -ENOENT, "'%s' is not an interface this daemon owns",
					  q->iface);
		/* JSON for status -j; its text line for status. */
		daemon_info(&out, q->iface, e);
		if (q->json)
			fputc('\n', f);
		return 0;
	case FA_QUERY_STATUS:
		return fa_status_render(&out, daemon_info, e, err);
	default:
		break;
	}
	r = request_snapshot(e, q, &s, err);
	if (!r && q->kind == FA_QUERY_ROWS)
		r = fa_snapshot_encode(&s, f);
	else if (!r && q->kind == FA_QUERY_DUMP)
		r = fa_dump_render(&q->dump, &s, &out, &e->cfg.log, err);
	else if (!r)
		fa_print_stats_doc(&out, &s);
	fa_snapshot_free(&s);
	return r ? fa_err_set(err, r, "the request failed: %s", strerror(-r)) : 0;
}

/* One connection: its request, then the answer or the refusal. */
static void serve_one(struct fa_engine *e, int fd)
{
	char req[4096];
	struct fa_ctl_reply rep;
	struct fa_query q;
	struct fa_err err = {};
	int version, r;

	if (fa_ctl_read_request(fd, req, sizeof(req)))
		return;
	r = fa_query_decode(req, &q, &version, &err);
	if (r == -EPROTO) {
		fa_ctl_refuse(fd, version, err.msg);
		return;
	}
	if (r) {
		fa_ctl_reply(fd, false, err.msg, strlen(err.msg));
		return;
	}
	if (fa_ctl_reply_begin(&rep, fd))
		return;
	r = answer(e, &q, rep.f, &err);
	fa_ctl_reply_end(&rep, !r, err.msg);
}

void fa_engine_serve(struct fa_engine *e)
{
	int fd;

	for (;;) {
		fd = accept4(e->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		serve_one(e, fd);
		fa_engine_request_done(e);
		close(fd);
	}
}
