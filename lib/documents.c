// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The documents: dump's flow table and books, stats, status, top's view of
 * an interval, and the daemon's record and counters lines, for people or
 * for scripts (one JSON object whose field names are a public interface).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cells.h"

static void print_counter_obj(struct fa_out *o, const char *key,
			      const __u64 *c)
{
	int i;

	out_obj_open(o, key);
	for (i = 0; i < FLOW_NR_COUNTERS; i++)
		out_u64(o, fa_counter_name(i), NULL, c[i]);
	out_obj_close(o);
}

void fa_print_counters(struct fa_out *o, const struct fa_hook_stats st[FLOW_NR_DIRS],
		       const struct fa_view *v)
{
	__u64 sum[FLOW_NR_COUNTERS] = {};
	int dir, i;

	if (!o->json) {
		for (dir = 0; dir < FLOW_NR_DIRS; dir++)
			if (st[dir].present)
				fa_books_text(o, dir, v->hook[dir], &st[dir]);
		return;
	}
	for (dir = 0; dir < FLOW_NR_DIRS; dir++)
		for (i = 0; i < FLOW_NR_COUNTERS; i++)
			sum[i] += st[dir].c[i];
	print_counter_obj(o, "counters", sum);
	out_arr_open(o, "hooks");
	for (dir = 0; dir < FLOW_NR_DIRS; dir++) {
		if (!st[dir].present)
			continue;
		out_obj_open(o, NULL);
		out_str(o, "hook", NULL, fa_hook_name(v->hook[dir]));
		out_str(o, "direction", NULL, fa_direction_name(dir));
		print_counter_obj(o, "counters", st[dir].c);
		out_obj_close(o);
	}
	out_arr_close(o);
}

void fa_print_flow_doc(struct fa_out *o, const struct fa_table *t,
		       const struct fa_hook_stats st[FLOW_NR_DIRS],
		       const struct fa_view *v)
{
	out_obj_open(o, NULL);
	fa_rows_print(o, t, v);
	fa_print_counters(o, st, v);
	out_obj_close(o);
	out_end(o);
}

/* ---- stats ----------------------------------------------------------------- */

void fa_print_stats_doc(struct fa_out *o, const struct fa_snapshot *s)
{
	struct fa_view v = {};
	size_t i;

	out_obj_open(o, NULL);
	out_arr_open(o, "interfaces");
	for (i = 0; i < s->nifs; i++) {
		const struct fa_iface_snap *is = &s->ifs[i];

		fa_state_hooks(&is->state, v.hook);
		out_obj_open(o, NULL);
		out_text(o, "%s", i ? "\n" : "");
		out_str(o, "iface", "%s", is->ifname);
		out_u64(o, "ifindex", " (ifindex %" PRIu64 ")\n", is->state.ifindex);
		fa_print_counters(o, is->st, &v);
		if (is->has_drops)
			fa_print_drop_books(o, &is->drops);
		out_obj_close(o);
	}
	out_arr_close(o);
	if (o->json) {
		memcpy(v.hook, s->hook, sizeof(v.hook));
		fa_print_counters(o, s->total, &v);
	}
	if (s->has_drops_elsewhere) {
		out_obj_open(o, "elsewhere");
		out_text(o, "\ndrops on no interface of the program set\n");
		fa_print_drop_books(o, &s->drops_elsewhere);
		out_obj_close(o);
	}
	out_obj_close(o);
	out_end(o);
}

/* ---- status ---------------------------------------------------------------- */

/*
 * What an attachment's and a set member's objects begin with: its name now
 * (null if gone or elsewhere), its name when it was taken (@then_key), its
 * index and namespace.
 */
static void print_status_ids(struct fa_out *o, const char *ifname, const char *then_key,
			     const char *then, __u64 ifindex, __u64 netns, bool here)
{
	if (ifname[0])
		out_str(o, "iface", NULL, ifname);
	else
		out_null(o, "iface", NULL, NULL);
	out_str(o, then_key, NULL, then);
	out_u64(o, "ifindex", NULL, ifindex);
	out_u64(o, "netns", NULL, netns);
	out_bool(o, "this_netns", NULL, here);
}

static void print_status_json(struct fa_out *o, const struct fa_status *s,
			      void (*daemon_info)(struct fa_out *o,
						  const char *dirname, void *ctx),
			      void *ctx)
{
	const struct fa_attach_state *st = &s->pin.state;
	bool xdp = st->ingress == FA_INGRESS_XDP_NATIVE ||
		   st->ingress == FA_INGRESS_XDP_SKB;

	out_obj_open(o, NULL);
	print_status_ids(o, s->ifname, "iface_at_attach", st->ifname, st->ifindex,
			 st->netns_ino, s->here);
	out_bool(o, "gone", NULL, s->gone);
	if (s->stale)
		out_str(o, "stale", NULL, fa_stale_why_name(s->stale));
	else
		out_null(o, "stale", NULL, NULL);
	out_str(o, "pins", NULL, s->pin.dirname);
	out_bool(o, "complete", NULL, st->complete);
	out_str(o, "ingress_hook", NULL, fa_ingress_name(st->ingress));
	out_str(o, "ingress_reason", NULL, fa_ingress_reason_name(st->ingress_why));
	out_str(o, "driver", NULL, st->driver);
	if (xdp)
		out_bool(o, "xdp_dispatcher", NULL, !st->xdp_legacy);
	else
		out_null(o, "xdp_dispatcher", NULL, NULL);
	out_str(o, "map", NULL, st->shared_map ? "shared" : "percpu");
	out_u64(o, "max_flows", NULL, st->max_flows);
	out_u64(o, "tables", NULL, FLOW_NR_EPOCHS);
	out_u64(o, "tables_memory_bytes", NULL, s->memory);
	/* What the library reckons a flow costs (the guard's figure). */
	out_u64(o, "table_bytes_per_flow", NULL,
		st->max_flows ? (s->estimate + st->max_flows / 2) / st->max_flows : 0);
	out_u64(o, "pins_memory_bytes", NULL, s->pins_memory);
	out_u64(o, "run_files_bytes", NULL, s->run_files);
	out_u64(o, "xdp_prog_id", NULL, st->xdp_prog_id);
	out_u64(o, "tc_prog_id", NULL, st->tc_prog_id);
	out_u64(o, "tc_ingress_prog_id", NULL, st->tci_prog_id);
	/* Each TC hook's API, and its TCX link (0: none, clsact). */
	out_str(o, "tc_api", NULL, fa_tc_api_name(st->tc_api));
	out_u64(o, "tc_link_id", NULL, st->tc_api == FA_TC_TCX ? st->tc_link_id : 0);
	if (xdp)
		out_null(o, "tc_ingress_api", NULL, NULL);
	else
		out_str(o, "tc_ingress_api", NULL, fa_tc_api_name(st->tci_api));
	out_u64(o, "tc_ingress_link_id", NULL,
		!xdp && st->tci_api == FA_TC_TCX ? st->tci_link_id : 0);
	out_bool(o, "live", NULL, s->live.ingress && s->live.egress);
	out_bool(o, "live_ingress", NULL, s->live.ingress);
	out_bool(o, "live_egress", NULL, s->live.egress);
	out_u64(o, "attached_at", NULL, st->attached_at);
	out_bool(o, "by_run", NULL, st->by_run);
	if (s->daemon) {
		out_u64(o, "daemon_pid", NULL, s->daemon);
		out_u64(o, "daemon_rss_bytes", NULL, s->daemon_rss);
	} else {
		out_null(o, "daemon_pid", NULL, NULL);
		out_null(o, "daemon_rss_bytes", NULL, NULL);
	}
	out_obj_open(o, "sampling");
	out_u64(o, "rate", NULL, s->sample.rate);
	out_str(o, "mode", NULL, fa_sample_mode_name(s->sample.mode));
	out_u64(o, "snaplen", NULL, s->sample.snaplen);
	out_obj_close(o);
	if (daemon_info && s->daemon)
		daemon_info(o, s->pin.dirname, ctx);
	out_obj_close(o);
}

/* All it holds, below its row: the MEM column counts the flow tables only. */
static void print_status_memory(struct fa_out *o, const struct fa_status *s)
{
	char pins[16], run[16], rss[16];

	fa_human(s->pins_memory, "B", pins, sizeof(pins));
	fa_human(s->run_files, "B", run, sizeof(run));
	fa_human(s->daemon_rss, "B", rss, sizeof(rss));
	out_text(o, "  memory: pinned maps %s, files under %s %s, daemon resident %s\n",
		 pins, FA_RUN_DIR, run, s->daemon ? rss : "-");
}

static void print_status_text(struct fa_out *o, const struct fa_status *s,
			      void (*daemon_info)(struct fa_out *o,
						  const char *dirname, void *ctx),
			      void *ctx)
{
	const struct fa_attach_state *st = &s->pin.state;
	char since[32], sampling[48], mem[16], hook[24], daemon[16], stale[24];
	const char *live, *name = s->ifname[0] ? s->ifname : st->ifname;
	time_t t = st->attached_at;
	struct tm tm;

	if (s->pin.err || !st->complete) {
		out_text(o, "%-16s (%s: run 'flowacct detach %s')\n", name,
			 s->pin.err ? "unreadable record" : "attach did not finish",
			 name);
		return;
	}
	if (s->stale)
		snprintf(stale, sizeof(stale), "gone (%s)", fa_stale_why_name(s->stale));
	gmtime_r(&t, &tm);
	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (s->sample.rate)
		snprintf(sampling, sizeof(sampling), "1/%u %s snaplen %u",
			 s->sample.rate, fa_sample_mode_name(s->sample.mode),
			 s->sample.snaplen);
	else
		snprintf(sampling, sizeof(sampling), "off");
	fa_human(s->memory, "B", mem, sizeof(mem));
	snprintf(hook, sizeof(hook), "%s%s", fa_ingress_name(st->ingress),
		 st->ingress != FA_INGRESS_TC && st->xdp_legacy ? "/direct" : "");
	if (s->daemon)
		snprintf(daemon, sizeof(daemon), "pid %d", s->daemon);
	else
		snprintf(daemon, sizeof(daemon), "-");
	live = s->stale ? stale : !s->here ? "other-netns" : s->gone ? "gone" :
	       s->live.ingress && s->live.egress ? "yes" : "NO";
	out_text(o, "%-16s %7u %-10s %-6s %9u %8s %-11s %-20s %-9s %s\n", name,
		 st->ifindex, hook, st->shared_map ? "shared" : "percpu",
		 st->max_flows, mem, live, since, daemon, sampling);
	/* How its TC hooks are attached: of use where detach can reach them. */
	if (s->here && st->tc_api == FA_TC_TCX && st->ingress == FA_INGRESS_TC)
		out_text(o, "  tc: tcx links %u (ingress), %u (egress)\n",
			 st->tci_link_id, st->tc_link_id);
	else if (s->here && st->tc_api == FA_TC_TCX)
		out_text(o, "  tc: tcx link %u (egress)\n", st->tc_link_id);
	else if (s->here)
		out_text(o, "  tc: clsact filters\n");
	print_status_memory(o, s);
	if (daemon_info && s->daemon)
		daemon_info(o, s->pin.dirname, ctx);
}

/* What set @m belongs to, its holder and its hooks, under its row. */
static void print_member_text(struct fa_out *o, const struct fa_member_entry *m,
			      const struct fa_set_entry *set)
{
	const struct fa_set_member_rec *r = &m->rec;
	char since[32], daemon[16];
	time_t t = r->joined_at;
	const char *live;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (m->holder)
		snprintf(daemon, sizeof(daemon), "pid %d", m->holder);
	else
		snprintf(daemon, sizeof(daemon), "-");
	live = !m->here ? "other-netns" : m->gone ? "gone" : m->live ? "yes" : "NO";
	/* The tables are the set's: their size is said once, on the set's line. */
	out_text(o, "%-16s %7u %-10s %-6s %9u %8s %-11s %-20s %-9s %s\n",
		 m->ifname[0] ? m->ifname : r->ifname, r->ifindex,
		 fa_ingress_name(r->ingress), set && set->state.shared_map ? "shared" : "percpu",
		 set ? set->state.max_flows : 0, "(set)", live, since, daemon, "off");
	out_text(o, "  set: %s\n", m->set);
	if (!m->here || m->gone)
		return;
	if (r->tc_api != FA_TC_TCX)
		out_text(o, "  tc: clsact filters%s\n",
			 r->ingress == FA_INGRESS_TC ? "" : "; xdp: link");
	else if (r->ingress == FA_INGRESS_TC)
		out_text(o, "  tc: tcx links %u (ingress), %u (egress)\n",
			 m->link_id[FA_SET_TC_INGRESS], m->link_id[FA_SET_TC_EGRESS]);
	else
		out_text(o, "  tc: tcx link %u (egress); xdp: link %u\n",
			 m->link_id[FA_SET_TC_EGRESS], m->link_id[FA_SET_XDP]);
}

static void print_member_json(struct fa_out *o, const struct fa_member_entry *m)
{
	const struct fa_set_member_rec *r = &m->rec;

	out_obj_open(o, NULL);
	print_status_ids(o, m->ifname, "iface_at_join", r->ifname, r->ifindex,
			 m->netns_ino, m->here);
	out_bool(o, "gone", NULL, m->gone);
	out_str(o, "set", NULL, m->set);
	out_str(o, "ingress_hook", NULL, fa_ingress_name(r->ingress));
	out_str(o, "tc_api", NULL, fa_tc_api_name(r->tc_api));
	out_u64(o, "xdp_link_id", NULL, m->link_id[FA_SET_XDP]);
	out_u64(o, "tc_ingress_link_id", NULL, m->link_id[FA_SET_TC_INGRESS]);
	out_u64(o, "tc_link_id", NULL, m->link_id[FA_SET_TC_EGRESS]);
	out_bool(o, "joined", NULL, r->linked);
	out_bool(o, "live", NULL, m->live);
	out_u64(o, "joined_at", NULL, r->joined_at);
	if (m->holder)
		out_u64(o, "holder_pid", NULL, m->holder);
	else
		out_null(o, "holder_pid", NULL, NULL);
	out_obj_close(o);
}

static void print_sets(struct fa_out *o, const struct fa_set_entry *sets, size_t nsets,
		       const struct fa_member_entry *m, size_t nm)
{
	size_t i;

	out_arr_open(o, "sets");
	for (i = 0; i < nsets; i++) {
		const struct fa_set_entry *s = &sets[i];

		out_obj_open(o, NULL);
		out_str(o, "set", "program set %s: ", s->dir);
		out_u64(o, "netns", NULL, s->state.netns_ino);
		out_bool(o, "this_netns", NULL, s->here);
		out_str(o, "map", NULL, s->state.shared_map ? "shared" : "percpu");
		out_u64(o, "max_flows", NULL, s->state.max_flows);
		out_u64(o, "members", "%" PRIu64 " members, ", s->members);
		if (s->holder)
			out_u64(o, "holder_pid", "held by pid %" PRIu64 "\n", s->holder);
		else
			out_null(o, "holder_pid", "%s\n", "held by no process");
		out_obj_close(o);
	}
	out_arr_close(o);
	if (!o->json)
		return;
	out_arr_open(o, "set_members");
	for (i = 0; i < nm; i++)
		print_member_json(o, &m[i]);
	out_arr_close(o);
}

void fa_print_status_doc(struct fa_out *o, const struct fa_status *st, size_t n,
			 const struct fa_orphan *orph, size_t norph,
			 const struct fa_set_entry *sets, size_t nsets,
			 const struct fa_member_entry *m, size_t nm,
			 void (*daemon_info)(struct fa_out *o, const char *dirname,
					     void *ctx),
			 void *ctx)
{
	size_t i, j, stale = 0;

	out_obj_open(o, NULL);
	out_arr_open(o, "interfaces");
	if (!o->json && !n && !nm)
		out_text(o, "no interface is attached\n");
	else if (!o->json)
		out_text(o, "%-16s %7s %-10s %-6s %9s %8s %-11s %-20s %-9s %s\n",
			 "IFACE", "IFINDEX", "INGRESS", "MAP", "MAX-FLOWS",
			 "MEMORY", "LIVE", "SINCE", "DAEMON", "SAMPLING");
	for (i = 0; i < n; i++) {
		if (o->json)
			print_status_json(o, &st[i], daemon_info, ctx);
		else
			print_status_text(o, &st[i], daemon_info, ctx);
		if (st[i].stale)
			stale++;
	}
	/* A set's members as attachments, each naming its set. */
	for (i = 0; !o->json && i < nm; i++) {
		for (j = 0; j < nsets && strcmp(sets[j].dir, m[i].set); j++)
			;
		print_member_text(o, &m[i], j < nsets ? &sets[j] : NULL);
	}
	if (stale)
		out_text(o, "%zu stale: flowacct detach --stale releases them\n", stale);
	out_arr_close(o);
	print_sets(o, sets, nsets, m, nm);
	out_arr_open(o, "unrecorded");
	for (i = 0; i < norph; i++) {
		out_obj_open(o, NULL);
		out_str(o, "iface", "%s", orph[i].ifname);
		out_u64(o, "ifindex", NULL, orph[i].ifindex);
		out_u64(o, "xdp_prog_id", NULL, orph[i].found.xdp_id);
		out_u64(o, "tc_prog_id", NULL, orph[i].found.tc_id);
		out_u64(o, "tc_ingress_prog_id", NULL, orph[i].found.tci_id);
		out_text(o, ": flowacct programs with no record (xdp %u, tc egress %u, tc ingress %u): run 'flowacct detach %s'\n",
			 orph[i].found.xdp_id, orph[i].found.tc_id,
			 orph[i].found.tci_id, orph[i].ifname);
		out_obj_close(o);
	}
	out_arr_close(o);
	out_obj_close(o);
	out_end(o);
}

/* ---- records ---------------------------------------------------------------- */

static void print_instance(struct fa_out *o, __u64 instance)
{
	char buf[17];

	snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)instance);
	out_str(o, "instance", NULL, buf);
}

void fa_print_record(struct fa_out *o, const struct fa_record *r,
		     const char *ifname, __u64 instance, __u64 wall_off,
		     const struct fa_ext *x)
{
	const struct flow_key *k = &r->key;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], flags[9];
	bool overflow = !k->ip_version;

	out_obj_open(o, NULL);
	out_str(o, "type", NULL, "flow");
	print_instance(o, instance);
	out_u64(o, "seq", NULL, r->seq);
	out_u64(o, "ifindex", NULL, k->ifindex);
	out_str(o, "iface", NULL, ifname);
	out_str(o, "direction", NULL, fa_direction_name(k->direction));
	out_u64(o, "ip_version", NULL, k->ip_version);
	out_u64(o, "proto", NULL, k->proto);
	if (overflow) {
		out_null(o, "src", NULL, NULL);
		out_null(o, "dst", NULL, NULL);
	} else {
		fa_addr_str(k, k->src, src, sizeof(src));
		fa_addr_str(k, k->dst, dst, sizeof(dst));
		out_str(o, "src", NULL, src);
		out_str(o, "dst", NULL, dst);
	}
	out_u64(o, "sport", NULL, ntohs(k->sport));
	out_u64(o, "dport", NULL, ntohs(k->dport));
	out_u64(o, "packets", NULL, r->packets);
	out_u64(o, "bytes", NULL, r->bytes);
	out_u64(o, "first_seen_ns", NULL, r->first_seen_ns + wall_off);
	out_u64(o, "last_seen_ns", NULL, r->last_seen_ns + wall_off);
	out_u64(o, "flow_start_ns", NULL, r->flow_start_ns + wall_off);
	fa_tcp_flags_str(r->tcp_flags, flags);
	out_str(o, "tcp_flags", NULL, flags);
	out_str(o, "end_reason", NULL, fa_end_reason_name(r->end_reason));
	out_bool(o, "overflow", NULL, overflow);
	fa_print_drops(o, &r->drops);
	fa_print_tunnel(o, k->tunnel, x);
	/* The joined fields, as dump -j has them. */
	fa_cells_joined(o, x);
	out_obj_close(o);
}

void fa_print_counters_line(struct fa_out *o, const struct fa_stream *s, __u32 ifindex,
			    const struct fa_hook_stats st[FLOW_NR_DIRS])
{
	struct fa_iface_books b = {};
	struct fa_view v = {};
	int dir;

	fa_stream_iface_books(s, ifindex, &b);
	fa_ingress_hooks(s->set && b.ingress ? (int)b.ingress : s->p.state.ingress, v.hook);
	out_obj_open(o, NULL);
	out_str(o, "type", NULL, "counters");
	print_instance(o, s->rs.instance);
	out_u64(o, "ifindex", NULL, ifindex);
	out_str(o, "iface", NULL, fa_stream_ifname(s, ifindex));
	out_u64(o, "records", NULL, b.records);
	out_u64(o, "next_seq", NULL, s->rs.next_seq);
	out_obj_open(o, "exported");
	for (dir = 0; dir < FLOW_NR_DIRS; dir++) {
		out_obj_open(o, fa_direction_name(dir));
		out_u64(o, "packets", NULL, b.exported_packets[dir]);
		out_u64(o, "bytes", NULL, b.exported_bytes[dir]);
		out_obj_close(o);
	}
	out_obj_close(o);
	fa_print_counters(o, st, &v);
	if (s->p.fd[FA_PIN_DROP_STATS] >= 0) {
		struct flow_drop_stats d;

		fa_drop_stats_read(s->p.fd[FA_PIN_DROP_STATS], ifindex, &d);
		fa_print_drop_books(o, &d);
	}
	out_obj_close(o);
}

int fa_counters_line(const struct fa_stream *s, __u32 ifindex, char **buf, size_t *len)
{
	struct fa_hook_stats st[FLOW_NR_DIRS] = {};
	struct fa_out o;
	FILE *f;
	int dir, err;

	*buf = NULL;
	*len = 0;
	err = fa_stats_read(s->p.fd[FA_PIN_STATS], ifindex, st);
	if (err)
		return err;
	for (dir = 0; dir < FLOW_NR_DIRS; dir++)
		st[dir].present = true;
	f = open_memstream(buf, len);
	if (!f)
		return -errno;
	out_init(&o, f, true);
	fa_print_counters_line(&o, s, ifindex, st);
	json_end_line(&o.j);
	if (fclose(f)) {
		free(*buf);
		*buf = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* ---- top's intervals ----------------------------------------------------------- */

/* The text of an interval: when, the totals, the table of rows. */
static void print_rates_text(struct fa_out *o, const struct fa_interval *iv,
			     const struct fa_view *v, enum fa_sort sort,
			     const char *group_by)
{
	char line[512], at[16];
	size_t i, n;

	fa_local_hms(iv->wall_ns, at, sizeof(at));
	fa_format_rates_totals(line, sizeof(line), iv);
	out_text(o, "%s  over %.1f s, by %s, per %s\n%s\n", at, iv->secs,
		 sort == FA_SORT_PACKETS ? "pkt/s" : "bit/s", group_by, line);
	fa_format_rate_line(line, sizeof(line), &iv->rows, NULL, v);
	out_text(o, "%s\n", line);
	n = v->top && v->top < iv->rows.n ? v->top : iv->rows.n;
	for (i = 0; i < n; i++) {
		fa_format_rate_line(line, sizeof(line), &iv->rows, &iv->rows.rows[i], v);
		out_text(o, "%s\n", line);
	}
	out_text(o, "\n");
}

void fa_print_rates_doc(struct fa_out *o, const struct fa_interval *iv,
			const struct fa_view *v, enum fa_sort sort,
			const char *group_by)
{
	int dir;

	if (!o->json) {
		print_rates_text(o, iv, v, sort, group_by);
		out_end(o);
		return;
	}
	out_obj_open(o, NULL);
	out_u64(o, "time_ns", NULL, iv->wall_ns);
	out_double(o, "interval_s", NULL, iv->secs);
	out_str(o, "sort", NULL, sort == FA_SORT_PACKETS ? "packets" : "bytes");
	out_str(o, "group_by", NULL, group_by);
	out_u64(o, "active_flows", NULL, iv->nflows);
	out_obj_open(o, "totals");
	for (dir = 0; dir < FLOW_NR_DIRS; dir++) {
		out_obj_open(o, fa_direction_name(dir));
		out_u64(o, "bits_per_second", NULL,
			(__u64)(iv->bytes[dir] * 8 / iv->secs + 0.5));
		out_u64(o, "packets_per_second", NULL,
			(__u64)(iv->pkts[dir] / iv->secs + 0.5));
		out_obj_close(o);
	}
	if (iv->has_drops)
		out_u64(o, "drops_per_second", NULL, (__u64)(iv->drops / iv->secs + 0.5));
	else
		out_null(o, "drops_per_second", NULL, NULL);
	out_obj_close(o);
	fa_rows_print(o, &iv->rows, v);
	out_obj_close(o);
	out_end(o);
}
