// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The columns of the flow table: one function per column writes its cell
 * for people and its fields for scripts (the JSON field names are a public
 * interface: replay, dump, top and the daemon's records print the same
 * ones), and one table names them all. Also top's line, made of the same
 * cells.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cells.h"

/* 83.2 s -> "1m23s"; under a minute "8.3s". */
static void duration_str(__u64 ns, char *buf, size_t len)
{
	__u64 s = ns / 1000000000ull;

	if (s < 60)
		snprintf(buf, len, "%.1fs", ns / 1e9);
	else if (s < 3600)
		snprintf(buf, len, "%um%02us", (unsigned int)(s / 60),
			 (unsigned int)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%uh%02um", (unsigned int)(s / 3600),
			 (unsigned int)(s / 60 % 60));
	else
		snprintf(buf, len, "%ud%02uh", (unsigned int)(s / 86400),
			 (unsigned int)(s / 3600 % 24));
}

/* Wall-clock ns -> "20:47:11.204" (UTC). */
static void clock_str(__u64 ns, char *buf, size_t len)
{
	time_t t = ns / 1000000000ull;
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%03u", tm.tm_hour, tm.tm_min,
		 tm.tm_sec, (unsigned int)(ns / 1000000 % 1000));
}

static void col_dir(struct fa_out *o, const struct cell_ctx *c)
{
	out_cell_str(o, "direction", -7, fa_direction_name(c->r->key.direction));
}

static void col_iface(struct fa_out *o, const struct cell_ctx *c)
{
	const char *name = fa_names_get(c->v->names, c->r->key.ifindex);
	char buf[16];

	if (o->json) {
		if (name)
			out_str(o, "iface", NULL, name);
		else
			out_null(o, "iface", NULL, NULL);
		return;
	}
	if (!name) {
		snprintf(buf, sizeof(buf), "if%u", c->r->key.ifindex);
		name = buf;
	}
	out_cell_str(o, NULL, -15, name);
}

static void col_ifindex(struct fa_out *o, const struct cell_ctx *c)
{
	out_cell_u64(o, "ifindex", 7, c->r->key.ifindex);
}

static void col_proto(struct fa_out *o, const struct cell_ctx *c)
{
	const char *pn = fa_proto_name(c->r->key.proto);
	char buf[16];

	if (o->json) {
		out_u64(o, "ip_version", NULL, c->r->key.ip_version);
		out_u64(o, "proto", NULL, c->r->key.proto);
		return;
	}
	if (!fa_flow_row(c->r))
		pn = "-";
	else if (!pn) {
		snprintf(buf, sizeof(buf), "%u", c->r->key.proto);
		pn = buf;
	}
	out_cell_str(o, NULL, -10, pn);
}

static const char *row_label(const struct fa_row *r, bool src)
{
	if (r->kind == FA_ROW_OVERFLOW)
		return src ? "(overflow:" : "table full)";
	return src ? "(exported" : "in records)";
}

static void col_addr(struct fa_out *o, const struct cell_ctx *c, bool src)
{
	const struct flow_key *k = &c->r->key;
	const char *key = src ? "src" : "dst";
	char buf[INET6_ADDRSTRLEN];

	if (!fa_flow_row(c->r)) {
		out_null(o, key, "%s", "");
		if (!o->json)
			out_cell_str(o, NULL, -c->addr_width, row_label(c->r, src));
		return;
	}
	fa_addr_str(k, src ? k->src : k->dst, buf, sizeof(buf));
	out_cell_str(o, key, -c->addr_width, buf);
}

static void col_src(struct fa_out *o, const struct cell_ctx *c)
{
	col_addr(o, c, true);
}

static void col_dst(struct fa_out *o, const struct cell_ctx *c)
{
	col_addr(o, c, false);
}

static void col_port(struct fa_out *o, const struct cell_ctx *c, bool src)
{
	const struct flow_key *k = &c->r->key;
	__u16 p = ntohs(src ? k->sport : k->dport);
	char buf[16];

	if (o->json) {
		out_u64(o, src ? "sport" : "dport", NULL, p);
		return;
	}
	if (fa_flow_row(c->r) && fa_key_is_icmp(k) && !src)
		snprintf(buf, sizeof(buf), "%u/%u", p >> 8, p & 0xff);
	else if (fa_flow_row(c->r) && fa_key_has_ports(k))
		snprintf(buf, sizeof(buf), "%u", p);
	else
		snprintf(buf, sizeof(buf), "-");
	out_cell_str(o, NULL, 7, buf);
}

static void col_sport(struct fa_out *o, const struct cell_ctx *c)
{
	col_port(o, c, true);
}

static void col_dport(struct fa_out *o, const struct cell_ctx *c)
{
	col_port(o, c, false);
}

static void col_flows(struct fa_out *o, const struct cell_ctx *c)
{
	out_cell_u64(o, "flows", 8, c->r->flows);
}

static void count_cell(struct fa_out *o, const struct cell_ctx *c, const char *name,
		       __u64 v, bool bytes)
{
	char buf[32];

	if (o->json || !c->v->human) {
		out_cell_u64(o, name, bytes ? 14 : 12, v);
		return;
	}
	fa_human(v, bytes ? "B" : "", buf, sizeof(buf));
	out_cell_str(o, NULL, bytes ? 14 : 12, buf);
}

static void col_packets(struct fa_out *o, const struct cell_ctx *c)
{
	count_cell(o, c, "packets", c->r->val.packets, false);
}

static void col_bytes(struct fa_out *o, const struct cell_ctx *c)
{
	count_cell(o, c, "bytes", c->r->val.bytes, true);
}

/* A biflow's other direction (RFC 5103 names its counts reverse*). */
static void col_rpackets(struct fa_out *o, const struct cell_ctx *c)
{
	count_cell(o, c, "reverse_packets", c->rev ? c->rev->packets : 0, false);
}

static void col_rbytes(struct fa_out *o, const struct cell_ctx *c)
{
	count_cell(o, c, "reverse_bytes", c->rev ? c->rev->bytes : 0, true);
}

static void col_flags(struct fa_out *o, const struct cell_ctx *c)
{
	char flags[9];

	fa_tcp_flags_str(c->r->val.tcp_flags, flags);
	out_cell_str(o, "tcp_flags", -8, flags);
}

static void col_time(struct fa_out *o, const struct cell_ctx *c, bool first)
{
	__u64 t = first ? c->r->val.first_seen_ns : c->r->val.last_seen_ns;
	char buf[32];

	if (o->json) {
		out_u64(o, first ? "first_seen_ns" : "last_seen_ns", NULL, t);
		return;
	}
	if (t)
		clock_str(t, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "-");
	out_cell_str(o, NULL, -12, buf);
}

static void col_first(struct fa_out *o, const struct cell_ctx *c)
{
	col_time(o, c, true);
}

static void col_last(struct fa_out *o, const struct cell_ctx *c)
{
	col_time(o, c, false);
}

/* Age, idle and duration are for people: JSON has the times themselves. */
static void col_span(struct fa_out *o, __u64 from, __u64 to)
{
	char buf[32];

	if (o->json)
		return;
	if (from && to >= from)
		duration_str(to - from, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "-");
	out_cell_str(o, NULL, 8, buf);
}

static void col_age(struct fa_out *o, const struct cell_ctx *c)
{
	col_span(o, c->r->val.first_seen_ns, c->v->now_ns);
}

static void col_idle(struct fa_out *o, const struct cell_ctx *c)
{
	col_span(o, c->r->val.last_seen_ns, c->v->now_ns);
}

static void col_duration(struct fa_out *o, const struct cell_ctx *c)
{
	col_span(o, c->r->val.first_seen_ns, c->r->val.last_seen_ns);
}

/* ---- columns from the socket programs and the per-flow maps ------------- */

static const struct flow_sock *ext_sock(const struct cell_ctx *c)
{
	return c->x && (c->x->flags & FA_EXT_SOCK) ? &c->x->sock : NULL;
}

static const struct flow_sock *ext_tcp(const struct cell_ctx *c)
{
	const struct flow_sock *s = ext_sock(c);

	return s && s->proto == IPPROTO_TCP ? s : NULL;
}

/* A text cell: the number, or "-" when it is not known. */
static void opt_u64_cell(struct fa_out *o, int width, bool known, __u64 v)
{
	char buf[24];

	if (known)
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	else
		snprintf(buf, sizeof(buf), "-");
	out_cell_str(o, NULL, width, buf);
}

static void col_cookie(struct fa_out *o, const struct cell_ctx *c)
{
	const struct flow_sock *s = ext_sock(c);
	bool known = c->x && c->x->cookie;

	if (!o->json) {
		opt_u64_cell(o, 10, known, known ? c->x->cookie : 0);
		return;
	}
	if (known)
		out_u64(o, "socket_cookie", NULL, c->x->cookie);
	else
		out_null(o, "socket_cookie", NULL, NULL);
	if (s && s->netns)
		out_u64(o, "netns", NULL, s->netns);
	else
		out_null(o, "netns", NULL, NULL);
}

static void col_process(struct fa_out *o, const struct cell_ctx *c)
{
	const struct flow_sock *s = ext_sock(c);
	char buf[40];

	if (s && !s->pid)
		s = NULL;
	if (o->json) {
		if (!s) {
			out_null(o, "process", NULL, NULL);
			return;
		}
		out_obj_open(o, "process");
		out_u64(o, "pid", NULL, s->pid);
		snprintf(buf, sizeof(buf), "%.*s", FLOW_COMM_LEN, s->comm);
		out_str(o, "comm", NULL, buf);
		out_obj_close(o);
		return;
	}
	if (s)
		snprintf(buf, sizeof(buf), "%.*s[%u]", FLOW_COMM_LEN, s->comm, s->pid);
	else
		snprintf(buf, sizeof(buf), "-");
	out_cell_str(o, NULL, -22, buf);
}

static void col_pid(struct fa_out *o, const struct cell_ctx *c)
{
	const struct flow_sock *s = ext_sock(c);

	if (!o->json)
		opt_u64_cell(o, 7, s && s->pid, s ? s->pid : 0);
}

static void col_comm(struct fa_out *o, const struct cell_ctx *c)
{
	const struct flow_sock *s = ext_sock(c);
	char buf[FLOW_COMM_LEN + 1];

	if (o->json)
		return;
	snprintf(buf, sizeof(buf), "%.*s", FLOW_COMM_LEN, s && s->pid ? s->comm : "-");
	out_cell_str(o, NULL, -15, buf);
}

static void col_cgroup(struct fa_out *o, const struct cell_ctx *c)
{
	const struct fa_ext *x = c->x;

	if (!o->json) {
		out_cell_str(o, NULL, -24, x && x->cgroup_path ? x->cgroup_path : "-");
		return;
	}
	if (!x || !x->cgroup_id) {
		out_null(o, "cgroup", NULL, NULL);
		return;
	}
	out_obj_open(o, "cgroup");
	out_u64(o, "id", NULL, x->cgroup_id);
	if (x->cgroup_path)
		out_str(o, "path", NULL, x->cgroup_path);
	else
		out_null(o, "path", NULL, NULL);
	out_obj_close(o);
}

static void str_or_null(struct fa_out *o, const char *key, const char *s)
{
	if (*s)
		out_str(o, key, NULL, s);
	else
		out_null(o, key, NULL, NULL);
}

void fa_print_container(struct fa_out *o, const struct fa_container *ct)
{
	if (!ct) {
		out_null(o, "container", NULL, NULL);
		return;
	}
	out_obj_open(o, "container");
	str_or_null(o, "id", ct->id);
	str_or_null(o, "name", ct->name);
	str_or_null(o, "runtime", ct->runtime);
	str_or_null(o, "pod", ct->pod);
	str_or_null(o, "namespace", ct->ns);
	str_or_null(o, "pod_uid", ct->pod_uid);
	str_or_null(o, "qos", ct->qos);
	out_obj_close(o);
}

/* What a table calls a container: its name, else its id's 12-digit short
 * form (as docker ps shows it), else its pod's. */
const char *fa_container_label(const struct fa_container *ct, char *buf, size_t len)
{
	if (!ct)
		snprintf(buf, len, "-");
	else if (ct->name[0])
		snprintf(buf, len, "%s%s%s", ct->pod, ct->pod[0] ? "/" : "", ct->name);
	else if (ct->id[0])
		snprintf(buf, len, "%s%s%.12s", ct->pod, ct->pod[0] ? "/" : "", ct->id);
	else if (ct->pod[0])
		snprintf(buf, len, "%s", ct->pod);
	else
		snprintf(buf, len, "pod-%.8s", ct->pod_uid);
	return buf;
}

static void col_container(struct fa_out *o, const struct cell_ctx *c)
{
	char buf[sizeof(c->x->container->pod) + sizeof(c->x->container->name) + 2];

	if (o->json) {
		fa_print_container(o, c->x ? c->x->container : NULL);
		return;
	}
	out_cell_str(o, NULL, -20,
		     fa_container_label(c->x ? c->x->container : NULL, buf, sizeof(buf)));
}

static const char *const tcp_states[] = {
	[1] = "ESTABLISHED", [2] = "SYN_SENT", [3] = "SYN_RECV", [4] = "FIN_WAIT1",
	[5] = "FIN_WAIT2", [6] = "TIME_WAIT", [7] = "CLOSE", [8] = "CLOSE_WAIT",
	[9] = "LAST_ACK", [10] = "LISTEN", [11] = "CLOSING", [12] = "NEW_SYN_RECV",
};

static const char *tcp_state_name(__u8 st)
{
	return st < sizeof(tcp_states) / sizeof(tcp_states[0]) && tcp_states[st] ?
		       tcp_states[st] : "UNKNOWN";
}

/* A text cell of microseconds shown as ms, or "-" when not known. */
static void ms_cell(struct fa_out *o, int width, bool known, __u32 us)
{
	char buf[24];

	if (o->json)
		return;
	if (known)
		snprintf(buf, sizeof(buf), "%.3f", us / 1e3);
	else
		snprintf(buf, sizeof(buf), "-");
	out_cell_str(o, NULL, width, buf);
}

/* JSON: the "tcp" object; text: srtt in ms. */
static void col_srtt(struct fa_out *o, const struct cell_ctx *c)
{
	const struct flow_sock *s = ext_tcp(c);

	if (!o->json) {
		ms_cell(o, 9, s, s ? s->srtt_us : 0);
		return;
	}
	if (!s) {
		out_null(o, "tcp", NULL, NULL);
		return;
	}
	out_obj_open(o, "tcp");
	out_u64(o, "srtt_us", NULL, s->srtt_us);
	out_u64(o, "rttvar_us", NULL, s->rttvar_us);
	out_u64(o, "min_rtt_us", NULL, s->min_rtt_us);
	out_u64(o, "cwnd", NULL, s->snd_cwnd);
	out_u64(o, "retrans", NULL, s->total_retrans);
	out_u64(o, "retrans_bytes", NULL, s->bytes_retrans);
	out_u64(o, "bytes_acked", NULL, s->bytes_acked);
	out_u64(o, "bytes_received", NULL, s->bytes_received);
	out_str(o, "state", NULL, tcp_state_name(s->state));
	out_obj_close(o);
}

static void col_rttvar(struct fa_out *o, const struct cell_ctx *c)
{
	const struct flow_sock *s = ext_tcp(c);

	ms_cell(o, 9, s, s ? s->rttvar_us : 0);
}

static void col_minrtt(struct fa_out *o, const struct cell_ctx *c)
{
	const struct flow_sock *s = ext_tcp(c);

	ms_cell(o, 9, s, s ? s->min_rtt_us : 0);
}

static void col_cwnd(struct fa_out *o, const struct cell_ctx *c)
{
	const struct flow_sock *s = ext_tcp(c);

	if (!o->json)
		opt_u64_cell(o, 6, s, s ? s->snd_cwnd : 0);
}

static void col_state(struct fa_out *o, const struct cell_ctx *c)
{
	const struct flow_sock *s = ext_tcp(c);

	if (!o->json)
		out_cell_str(o, NULL, -11, s ? tcp_state_name(s->state) : "-");
}

static void col_sock_retrans(struct fa_out *o, const struct cell_ctx *c)
{
	const struct flow_sock *s = ext_tcp(c);

	if (!o->json)
		opt_u64_cell(o, 8, s, s ? s->total_retrans : 0);
}

/* Packet-level: JSON has both, text the segments. */
static void col_retrans(struct fa_out *o, const struct cell_ctx *c)
{
	bool known = c->x && (c->x->flags & FA_EXT_RETRANS);

	if (!o->json) {
		opt_u64_cell(o, 8, known, known ? c->x->retrans_segs : 0);
		return;
	}
	if (known) {
		out_u64(o, "retrans_segs", NULL, c->x->retrans_segs);
		out_u64(o, "retrans_bytes", NULL, c->x->retrans_bytes);
	} else {
		out_null(o, "retrans_segs", NULL, NULL);
		out_null(o, "retrans_bytes", NULL, NULL);
	}
}

static void col_retrans_bytes(struct fa_out *o, const struct cell_ctx *c)
{
	bool known = c->x && (c->x->flags & FA_EXT_RETRANS);

	if (!o->json)
		opt_u64_cell(o, 13, known, known ? c->x->retrans_bytes : 0);
}

/* Passive RTT: JSON the object, text the smoothed RTT in ms. */
static void col_prtt(struct fa_out *o, const struct cell_ctx *c)
{
	const struct flow_rtt *p = c->x && (c->x->flags & FA_EXT_PRTT) ? &c->x->prtt : NULL;

	if (!o->json) {
		ms_cell(o, 9, p, p ? p->srtt_us : 0);
		return;
	}
	if (!p) {
		out_null(o, "passive_rtt", NULL, NULL);
		return;
	}
	out_obj_open(o, "passive_rtt");
	out_u64(o, "min_us", NULL, p->min_us);
	out_u64(o, "srtt_us", NULL, p->srtt_us);
	out_u64(o, "samples", NULL, p->samples);
	out_obj_close(o);
}

static void col_prtt_min(struct fa_out *o, const struct cell_ctx *c)
{
	const struct flow_rtt *p = c->x && (c->x->flags & FA_EXT_PRTT) ? &c->x->prtt : NULL;

	ms_cell(o, 10, p, p ? p->min_us : 0);
}

/* ---- tunnels ------------------------------------------------------------------ */

/* The tunnel a --decap inner flow came through; grouped by it, the group's. */
static void col_tunnel(struct fa_out *o, const struct cell_ctx *c)
{
	fa_print_tunnel(o, c->r->key.tunnel, c->x);
}

/* ---- drops -------------------------------------------------------------------- */

/* Packets the kernel dropped; JSON: the drops object, reasons and all. */
static void col_drops(struct fa_out *o, const struct cell_ctx *c)
{
	if (o->json) {
		fa_print_drops(o, &c->r->drops);
		return;
	}
	count_cell(o, c, NULL, c->r->drops.packets, false);
}

/* The reason most of its drops had. */
static void col_drop_reason(struct fa_out *o, const struct cell_ctx *c)
{
	const char *name;
	char buf[48];

	/* Grouped by it, the group's (merged rows may lean another way). */
	if (c->v->group & FA_GROUP_DROP_REASON)
		name = c->r->val.pad ? fa_drop_reason_name(c->r->val.pad, buf, sizeof(buf)) : NULL;
	else
		name = fa_drops_top_reason(&c->r->drops, buf, sizeof(buf));
	if (o->json) {
		if (name)
			out_str(o, "drop_reason", NULL, name);
		else
			out_null(o, "drop_reason", NULL, NULL);
		return;
	}
	out_cell_str(o, NULL, -20, name ? name : "-");
}

/* ---- rates over an interval (top's view) ------------------------------------- */

/* What the row did over the view's interval, per second: JSON rounded. */
static void rate_cell(struct fa_out *o, const char *key, double per_sec)
{
	char buf[16];

	if (o->json) {
		out_u64(o, key, NULL, (__u64)(per_sec + 0.5));
		return;
	}
	fa_human(per_sec, "", buf, sizeof(buf));
	out_cell_str(o, NULL, 9, buf);
}

static void col_bps(struct fa_out *o, const struct cell_ctx *c)
{
	rate_cell(o, "bits_per_second", c->r->val.bytes * 8 / c->v->rate_secs);
}

static void col_pps(struct fa_out *o, const struct cell_ctx *c)
{
	rate_cell(o, "packets_per_second", c->r->val.packets / c->v->rate_secs);
}

#define COL_DEFAULT	(1u << 0)	/* in the table unless -o says otherwise */
#define COL_GROUPED	(1u << 1)	/* in a --group-by table */
#define COL_ADDR	(1u << 2)	/* width from the addresses */
#define COL_BIFLOW	(1u << 3)	/* only in a --biflow table, and there by default */
#define COL_FLOW	(1u << 4)	/* of one flow's socket: not in a grouped table */
#define COL_RATE	(1u << 5)	/* only over an interval (fa_view.rate_secs) */

/*
 * Every column of the flow table, defined here once: dump's and top's
 * tables, their JSON rows, and the names -o takes are all read from it.
 * The JSON keys are what each column's function writes (json_order says in
 * which order a row has them).
 */
static const struct column {
	const char *name;		/* as -o takes it */
	const char *header;
	int width;			/* of the header; cells pad themselves */
	unsigned int group;		/* FA_GROUP_* it shows, 0: not a key field */
	unsigned int flags;
	void (*emit)(struct fa_out *o, const struct cell_ctx *c);
} columns[FA_NR_COLS] = {
	[FA_COL_DIR] = { "dir", "DIR", -7, FA_GROUP_DIR, COL_DEFAULT, col_dir },
	[FA_COL_IFACE] = { "iface", "IFACE", -15, FA_GROUP_IFACE, COL_DEFAULT, col_iface },
	[FA_COL_IFINDEX] = { "ifindex", "IFINDEX", 7, FA_GROUP_IFACE, 0, col_ifindex },
	[FA_COL_PROTO] = { "proto", "PROTO", -10, FA_GROUP_PROTO, COL_DEFAULT, col_proto },
	[FA_COL_SRC] = { "src", "SRC", 0, FA_GROUP_SRC, COL_DEFAULT | COL_ADDR, col_src },
	[FA_COL_SPORT] = { "sport", "SPORT", 7, FA_GROUP_SPORT, COL_DEFAULT, col_sport },
	[FA_COL_DST] = { "dst", "DST", 0, FA_GROUP_DST, COL_DEFAULT | COL_ADDR, col_dst },
	[FA_COL_DPORT] = { "dport", "DPORT", 7, FA_GROUP_DPORT, COL_DEFAULT, col_dport },
	[FA_COL_FLOWS] = { "flows", "FLOWS", 8, 0, COL_GROUPED, col_flows },
	[FA_COL_PACKETS] = { "packets", "PACKETS", 12, 0, COL_DEFAULT | COL_GROUPED, col_packets },
	[FA_COL_BYTES] = { "bytes", "BYTES", 14, 0, COL_DEFAULT | COL_GROUPED, col_bytes },
	[FA_COL_RPACKETS] = { "rpackets", "RPACKETS", 12, 0, COL_BIFLOW, col_rpackets },
	[FA_COL_RBYTES] = { "rbytes", "RBYTES", 14, 0, COL_BIFLOW, col_rbytes },
	[FA_COL_FLAGS] = { "flags", "FLAGS", -8, 0, COL_DEFAULT, col_flags },
	[FA_COL_FIRST] = { "first", "FIRST", -12, 0, 0, col_first },
	[FA_COL_LAST] = { "last", "LAST", -12, 0, 0, col_last },
	[FA_COL_AGE] = { "age", "AGE", 8, 0, 0, col_age },
	[FA_COL_IDLE] = { "idle", "IDLE", 8, 0, 0, col_idle },
	[FA_COL_DURATION] = { "duration", "DURATION", 8, 0, 0, col_duration },
	[FA_COL_COOKIE] = { "cookie", "COOKIE", 10, 0, COL_FLOW, col_cookie },
	[FA_COL_PROCESS] = { "process", "PROCESS", -22, FA_GROUP_PROCESS, 0, col_process },
	[FA_COL_PID] = { "pid", "PID", 7, FA_GROUP_PROCESS, 0, col_pid },
	[FA_COL_COMM] = { "comm", "COMM", -15, FA_GROUP_PROCESS, 0, col_comm },
	[FA_COL_CGROUP] = { "cgroup", "CGROUP", -24, FA_GROUP_CGROUP, 0, col_cgroup },
	[FA_COL_CONTAINER] = { "container", "CONTAINER", -20,
				 FA_GROUP_CGROUP | FA_GROUP_CONTAINER, 0, col_container },
	[FA_COL_SRTT] = { "srtt", "SRTT-MS", 9, 0, COL_FLOW, col_srtt },
	[FA_COL_RTTVAR] = { "rttvar", "RTTVAR-MS", 9, 0, COL_FLOW, col_rttvar },
	[FA_COL_MINRTT] = { "minrtt", "MINRTT-MS", 9, 0, COL_FLOW, col_minrtt },
	[FA_COL_CWND] = { "cwnd", "CWND", 6, 0, COL_FLOW, col_cwnd },
	[FA_COL_STATE] = { "state", "STATE", -11, 0, COL_FLOW, col_state },
	[FA_COL_SOCK_RETRANS] = { "sretrans", "SRETRANS", 8, 0, COL_FLOW, col_sock_retrans },
	[FA_COL_RETRANS] = { "retrans", "RETRANS", 8, 0, COL_FLOW, col_retrans },
	[FA_COL_RETRANS_BYTES] = { "retrans_bytes", "RETRANS-BYTES", 13, 0, COL_FLOW, col_retrans_bytes },
	[FA_COL_PRTT] = { "prtt", "PRTT-MS", 9, 0, COL_FLOW, col_prtt },
	[FA_COL_PRTT_MIN] = { "prtt_min", "PRTTMIN-MS", 10, 0, COL_FLOW, col_prtt_min },
	[FA_COL_DROPS] = { "drops", "DROPS", 12, 0, 0, col_drops },
	[FA_COL_DROP_REASON] = { "drop_reason", "DROP-REASON", -20, FA_GROUP_DROP_REASON, 0,
				   col_drop_reason },
	[FA_COL_TUNNEL] = { "tunnel", "TUNNEL", -18, FA_GROUP_TUNNEL, 0, col_tunnel },
	[FA_COL_BPS] = { "bps", "BIT/S", 9, 0, COL_RATE, col_bps },
	[FA_COL_PPS] = { "pps", "PKT/S", 9, 0, COL_RATE, col_pps },
};

/* Whether -o can name column @i: the rates are top's own line. */
static bool selectable(size_t i)
{
	return !(columns[i].flags & COL_RATE);
}
void fa_col_names(char *buf, size_t len)
{
	size_t i, off = 0;

	if (len)
		buf[0] = '\0';
	for (i = 0; i < FA_NR_COLS && off < len; i++)
		if (selectable(i))
			off += snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
					columns[i].name);
}

int fa_cols_parse(const char *s, struct fa_view *v)
{
	char *copy, *tok, *save = NULL;
	bool add = *s == '+';
	size_t i;

	v->ncols = 0;
	if (add) {
		s++;
		for (i = 0; i < FA_NR_COLS; i++)
			if (columns[i].flags & COL_DEFAULT)
				v->cols[v->ncols++] = i;
	}
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < FA_NR_COLS; i++)
			if (selectable(i) && !strcmp(tok, columns[i].name))
				break;
		if (i == FA_NR_COLS || v->ncols == FA_MAX_COLS) {
			free(copy);
			return -EINVAL;
		}
		v->cols[v->ncols++] = i;
	}
	free(copy);
	return v->ncols ? 0 : -EINVAL;
}

/* The text columns: those asked for, or the defaults (for a grouped table,
 * the grouped key fields and the counts). */size_t fa_cells_text_cols(const struct fa_view *v, unsigned char *cols)
{
	size_t i, n = 0;

	if (v->ncols) {
		for (i = 0; i < v->ncols; i++)
			if ((!v->group || (!columns[v->cols[i]].group &&
					   !(columns[v->cols[i]].flags & COL_FLOW)) ||
			     (columns[v->cols[i]].group & v->group)) &&
			    (v->biflow || !(columns[v->cols[i]].flags & COL_BIFLOW)))
				cols[n++] = v->cols[i];
		return n;
	}
	for (i = 0; i < FA_NR_COLS; i++) {
		if (i == FA_COL_IFINDEX || (columns[i].flags & COL_RATE))
			continue;
		/* Grouped by drop reason, the drops are the point. */
		if (v->group ? (columns[i].group & v->group) ||
				       (columns[i].flags & COL_GROUPED) ||
				       (i == FA_COL_DROPS && (v->group & FA_GROUP_DROP_REASON)) :
			       (columns[i].flags & COL_DEFAULT) ||
			       (v->biflow && (columns[i].flags & COL_BIFLOW)))
			cols[n++] = i;
	}
	return n;
}

/* The order of a JSON row's fields: the key, then the counts and times. */
static const unsigned char json_order[] = {
	FA_COL_IFINDEX, FA_COL_IFACE, FA_COL_DIR, FA_COL_PROTO, FA_COL_SRC,
	FA_COL_DST, FA_COL_SPORT, FA_COL_DPORT, FA_COL_FLOWS, FA_COL_PACKETS,
	FA_COL_BYTES, FA_COL_RPACKETS, FA_COL_RBYTES, FA_COL_FIRST, FA_COL_LAST, FA_COL_FLAGS, FA_COL_AGE,
	FA_COL_IDLE, FA_COL_DURATION, FA_COL_COOKIE, FA_COL_PROCESS, FA_COL_PID,
	FA_COL_COMM, FA_COL_CGROUP, FA_COL_CONTAINER, FA_COL_SRTT, FA_COL_RTTVAR,
	FA_COL_MINRTT, FA_COL_CWND, FA_COL_STATE, FA_COL_SOCK_RETRANS, FA_COL_RETRANS,
	FA_COL_RETRANS_BYTES, FA_COL_PRTT, FA_COL_PRTT_MIN, FA_COL_DROPS, FA_COL_DROP_REASON,
	FA_COL_TUNNEL, FA_COL_BPS, FA_COL_PPS,
};
_Static_assert(sizeof(json_order) == FA_NR_COLS, "a column is missing from json_order");

/* The JSON fields of a row: every column's, or a grouped row's own. */
static bool json_col(const struct fa_view *v, size_t i)
{
	if ((columns[i].flags & COL_BIFLOW) && !v->biflow)
		return false;
	if (columns[i].flags & COL_RATE)
		return v->rate_secs > 0;
	if (!v->group)
		return i != FA_COL_FLOWS;
	if (columns[i].flags & COL_FLOW)
		return false;
	if (columns[i].group)
		return columns[i].group & v->group;
	return true;
}
int fa_cells_addr_width(const struct fa_table *t, size_t n)
{
	char buf[INET6_ADDRSTRLEN];
	size_t i, w = 15;

	for (i = 0; i < n; i++) {
		const struct fa_row *r = &t->rows[i];

		if (!fa_flow_row(r) || r->key.ip_version != 6)
			continue;
		fa_addr_str(&r->key, r->key.src, buf, sizeof(buf));
		if (strlen(buf) > w)
			w = strlen(buf);
		fa_addr_str(&r->key, r->key.dst, buf, sizeof(buf));
		if (strlen(buf) > w)
			w = strlen(buf);
	}
	return w;
}
void fa_cells_row(struct fa_out *o, const struct cell_ctx *c,
		  const unsigned char *cols, size_t ncols)
{
	size_t i;

	if (o->json) {
		out_obj_open(o, NULL);
		for (i = 0; i < FA_NR_COLS; i++)
			if (json_col(c->v, json_order[i]))
				columns[json_order[i]].emit(o, c);
		out_bool(o, "overflow", NULL, c->r->kind == FA_ROW_OVERFLOW);
		out_bool(o, "exported", NULL, c->r->kind == FA_ROW_EXPORTED);
		out_obj_close(o);
		return;
	}
	for (i = 0; i < ncols; i++)
		columns[cols[i]].emit(o, c);
	/* Without addresses the label of a row that is not a flow is here. */
	if (c->v->group && !fa_flow_row(c->r) &&
	    !(c->v->group & (FA_GROUP_SRC | FA_GROUP_DST)))
		out_text(o, c->r->kind == FA_ROW_OVERFLOW ? " (overflow: table full)" :
							   " (exported in records)");
	out_text(o, "\n");
}

void fa_cells_header(struct fa_out *o, const unsigned char *cols, size_t ncols,
		     int aw)
{
	size_t i;
	int w;

	for (i = 0; i < ncols; i++) {
		w = columns[cols[i]].flags & COL_ADDR ? -aw : columns[cols[i]].width;
		out_text(o, "%*s ", w, columns[cols[i]].header);
	}
	out_text(o, "\n");
}

void fa_format_cols(char *buf, size_t len, const struct fa_table *t,
		    const struct fa_row *r, const struct fa_view *v)
{
	struct cell_ctx c = { .v = v, .r = r };
	struct fa_out o;
	size_t i;
	FILE *f;

	buf[0] = '\0';
	f = fmemopen(buf, len, "w");
	if (!f)
		return;
	out_init(&o, f, false);
	for (i = 0; i < v->ncols; i++) {
		/* A grouped row has no one socket. */
		if (v->group && (columns[v->cols[i]].flags & COL_FLOW))
			continue;
		if (!r) {
			out_text(&o, "%*s ", columns[v->cols[i]].width,
				 columns[v->cols[i]].header);
			continue;
		}
		c.x = fa_row_ext(t, r);
		columns[v->cols[i]].emit(&o, &c);
	}
	fclose(f);
}

void fa_cells_joined(struct fa_out *o, const struct fa_ext *x)
{
	static void (*const joined[])(struct fa_out *, const struct cell_ctx *) = {
		col_cookie, col_process, col_cgroup, col_container, col_srtt, col_retrans, col_prtt,
	};
	struct cell_ctx c = { .x = x };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(joined); i++)
		joined[i](o, &c);
}

/* ---- top's line ------------------------------------------------------------- */

/* "addr:port" of one end, "*" for what the grouping leaves out. */
static void endpoint(const struct fa_row *r, unsigned int group, bool src,
		     char *buf, size_t len)
{
	const struct flow_key *k = &r->key;
	unsigned int abit = src ? FA_GROUP_SRC : FA_GROUP_DST;
	unsigned int pbit = src ? FA_GROUP_SPORT : FA_GROUP_DPORT;
	bool icmp = fa_key_is_icmp(k);
	char a[INET6_ADDRSTRLEN] = "*";
	__u16 port = ntohs(src ? k->sport : k->dport);

	if (!group || (group & abit))
		fa_addr_str(k, src ? k->src : k->dst, a, sizeof(a));
	if (group && !(group & pbit)) {
		snprintf(buf, len, "%s", a);
	} else if (icmp && !src) {
		snprintf(buf, len, "%s %u/%u", a, port >> 8, port & 0xff);
	} else if (icmp || (!port && k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP)) {
		snprintf(buf, len, "%s", a);
	} else {
		snprintf(buf, len, k->ip_version == 6 && (!group || (group & abit)) ?
			 "[%s]:%u" : "%s:%u", a, port);
	}
}

/* A key field's cell: "*" where the grouping leaves it out. */
static void key_cell(struct fa_out *o, const struct fa_view *v, unsigned int bit,
		     int width, const char *s)
{
	out_cell_str(o, NULL, width, !v->group || (v->group & bit) ? s : "*");
}

static void rate_line(struct fa_out *o, const struct cell_ctx *c)
{
	const struct fa_row *r = c->r;
	const char *ifname = fa_names_get(c->v->names, r->key.ifindex);
	const char *pname = fa_proto_name(r->key.proto);
	char src[64], dst[64], proto[12];

	columns[FA_COL_BPS].emit(o, c);
	columns[FA_COL_PPS].emit(o, c);
	if (r->kind == FA_ROW_OVERFLOW) {
		out_cell_str(o, NULL, -7, fa_direction_name(r->key.direction));
		out_cell_str(o, NULL, -12, ifname ? ifname : "?");
		out_text(o, "(overflow: the table was full)");
		return;
	}
	if (pname)
		snprintf(proto, sizeof(proto), "%s", pname);
	else
		snprintf(proto, sizeof(proto), "%u", r->key.proto);
	key_cell(o, c->v, FA_GROUP_DIR, -7, fa_direction_name(r->key.direction));
	key_cell(o, c->v, FA_GROUP_IFACE, -12, ifname ? ifname : "?");
	key_cell(o, c->v, FA_GROUP_PROTO, -6, proto);
	endpoint(r, c->v->group, true, src, sizeof(src));
	endpoint(r, c->v->group, false, dst, sizeof(dst));
	out_text(o, "%s -> %s", src, dst);
	if (c->v->group)
		out_text(o, "  (%u flows)", r->flows);
}

void fa_format_rate_line(char *buf, size_t len, const struct fa_table *t,
			 const struct fa_row *r, const struct fa_view *v)
{
	struct cell_ctx c = { .v = v, .r = r };
	size_t used;
	struct fa_out o;
	FILE *f;

	buf[0] = '\0';
	f = fmemopen(buf, len, "w");
	if (!f)
		return;
	out_init(&o, f, false);
	if (r)
		rate_line(&o, &c);
	else
		out_text(&o, "%*s %*s %-7s %-12s %-6s SOURCE -> DESTINATION",
			 columns[FA_COL_BPS].width, columns[FA_COL_BPS].header,
			 columns[FA_COL_PPS].width, columns[FA_COL_PPS].header,
			 "DIR", "IFACE", "PROTO");
	fclose(f);
	if (!v->ncols)
		return;
	used = strlen(buf);
	if (used + 2 < len) {
		memcpy(buf + used, "  ", 3);
		fa_format_cols(buf + used + 2, len - used - 2, t, r, v);
	}
}

void fa_format_rates_totals(char *buf, size_t len, const struct fa_interval *iv)
{
	char b[FLOW_NR_DIRS][16], p[FLOW_NR_DIRS][16], d[16];
	size_t n;
	int dir;

	for (dir = 0; dir < FLOW_NR_DIRS; dir++) {
		fa_human(iv->bytes[dir] * 8 / iv->secs, "", b[dir], sizeof(b[dir]));
		fa_human(iv->pkts[dir] / iv->secs, "", p[dir], sizeof(p[dir]));
	}
	n = snprintf(buf, len, "in %s bit/s %s pkt/s   out %s bit/s %s pkt/s   %zu active flows",
		     b[FLOW_DIR_INGRESS], p[FLOW_DIR_INGRESS], b[FLOW_DIR_EGRESS],
		     p[FLOW_DIR_EGRESS], iv->nflows);
	if (iv->has_drops && n < len) {
		fa_human(iv->drops / iv->secs, "", d, sizeof(d));
		snprintf(buf + n, len - n, "   %s drop/s", d);
	}
}
