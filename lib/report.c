// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The flow table and the counters, for people (one row per flow, then the
 * books) or for scripts (one JSON object whose field names are a public
 * interface: replay, dump and the daemon's control socket print the same
 * ones). Each column is one function that writes its field for both.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libflowacct.h"
#include "out.h"

/* ---- interface names ------------------------------------------------------ */

int fa_names_add(struct fa_names *m, __u32 ifindex, const char *name)
{
	void *grown;

	if (fa_names_get(m, ifindex))
		return 0;
	grown = realloc(m->v, (m->n + 1) * sizeof(*m->v));
	if (!grown)
		return -ENOMEM;
	m->v = grown;
	m->v[m->n].ifindex = ifindex;
	snprintf(m->v[m->n].name, sizeof(m->v[m->n].name), "%s", name);
	m->n++;
	return 0;
}

const char *fa_names_get(const struct fa_names *m, __u32 ifindex)
{
	size_t i;

	for (i = 0; m && i < m->n; i++)
		if (m->v[i].ifindex == ifindex)
			return m->v[i].name;
	return NULL;
}

void fa_names_free(struct fa_names *m)
{
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

const char *fa_hook_name(int hook)
{
	switch (hook) {
	case FA_HOOK_XDP:	return "xdp";
	case FA_HOOK_TC:	return "tc";
	case FA_HOOK_MIXED:	return "xdp+tc";
	default:		return "none";
	}
}

/* ---- cells ----------------------------------------------------------------- */

/* What every column's function gets: the row and what is known around it. */
struct cell_ctx {
	const struct fa_row *r;
	const struct flow_value *rev;	/* a biflow's other direction, or NULL */
	const struct fa_ext *x;		/* what fa_enrich() joined, or NULL */
	const struct fa_view *v;
	int addr_width;
};

static void human(__u64 v, const char *unit, char *buf, size_t len)
{
	fa_human(v, unit, buf, len);
}

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

static bool flow_row(const struct fa_row *r)
{
	return r->kind == FA_ROW_FLOW;
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
	if (!flow_row(c->r))
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

	if (!flow_row(c->r)) {
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
	if (flow_row(c->r) && fa_key_is_icmp(k) && !src)
		snprintf(buf, sizeof(buf), "%u/%u", p >> 8, p & 0xff);
	else if (flow_row(c->r) && fa_key_has_ports(k))
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
	human(v, bytes ? "B" : "", buf, sizeof(buf));
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
	if (x->container[0])
		out_str(o, "container", NULL, x->container);
	else
		out_null(o, "container", NULL, NULL);
	out_obj_close(o);
}

static void col_container(struct fa_out *o, const struct cell_ctx *c)
{
	char buf[13];

	if (o->json)
		return;
	/* The 12-digit short form, as docker ps shows it. */
	snprintf(buf, sizeof(buf), "%.12s", c->x && c->x->container[0] ? c->x->container : "-");
	out_cell_str(o, NULL, -12, buf);
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

#define COL_DEFAULT	(1u << 0)	/* in the table unless -o says otherwise */
#define COL_GROUPED	(1u << 1)	/* in a --group-by table */
#define COL_ADDR	(1u << 2)	/* width from the addresses */
#define COL_BIFLOW	(1u << 3)	/* only in a --biflow table, and there by default */
#define COL_FLOW	(1u << 4)	/* of one flow's socket: not in a grouped table */

static const struct column {
	const char *name;
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
	[FA_COL_CONTAINER] = { "container", "CONTAINER", -12, FA_GROUP_CGROUP, 0, col_container },
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
};

const char *fa_col_names(void)
{
	return "dir, iface, ifindex, proto, src, sport, dst, dport, flows, packets, bytes, rpackets, rbytes, flags, first, last, age, idle, duration, cookie, process, pid, comm, cgroup, container, srtt, rttvar, minrtt, cwnd, state, sretrans, retrans, retrans_bytes, prtt, prtt_min";
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
			if (!strcmp(tok, columns[i].name))
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
 * the grouped key fields and the counts). */
static size_t text_cols(const struct fa_view *v, unsigned char *cols)
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
		if (i == FA_COL_IFINDEX)
			continue;
		if (v->group ? (columns[i].group & v->group) ||
				       (columns[i].flags & COL_GROUPED) :
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
	FA_COL_RETRANS_BYTES, FA_COL_PRTT, FA_COL_PRTT_MIN,
};
_Static_assert(sizeof(json_order) == FA_NR_COLS, "a column is missing from json_order");

/* The JSON fields of a row: every column's, or a grouped row's own. */
static bool json_col(const struct fa_view *v, size_t i)
{
	if ((columns[i].flags & COL_BIFLOW) && !v->biflow)
		return false;
	if (!v->group)
		return i != FA_COL_FLOWS;
	if (columns[i].flags & COL_FLOW)
		return false;
	if (columns[i].group)
		return columns[i].group & v->group;
	return true;
}

static int addr_width(const struct fa_table *t, size_t n)
{
	char buf[INET6_ADDRSTRLEN];
	size_t i, w = 15;

	for (i = 0; i < n; i++) {
		const struct fa_row *r = &t->rows[i];

		if (r->kind != FA_ROW_FLOW || r->key.ip_version != 6)
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

/* ---- JSON rows in one piece -------------------------------------------- */

/*
 * A row with nothing joined to it, in a table neither grouped nor paired,
 * is most rows of a large dump, and all its fields are known in advance:
 * it is formatted here into one buffer and written with one call. Column
 * by column, through the writer's per-key and per-value calls, a row cost
 * about 1 us, most of a million-flow dump. The fields and their order are
 * the columns' (json_order), and tests/table_check holds the two writers
 * to the same bytes.
 */
#define PUT_LIT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)

/* Decimal digits in @v: counted first, so they go straight into place. */
static unsigned int dec_digits(__u64 v)
{
	unsigned int n = 1;

	for (; v >= 10000; v /= 10000)
		n += 4;
	return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

/* Decimal, two digits a step. */
static char *put_dec(char *p, __u64 v)
{
	static const char pairs[] =
		"00010203040506070809101112131415161718192021222324"
		"25262728293031323334353637383940414243444546474849"
		"50515253545556575859606162636465666768697071727374"
		"75767778798081828384858687888990919293949596979899";
	char *end = p + dec_digits(v), *t = end;

	while (v >= 100) {
		t -= 2;
		memcpy(t, pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10) {
		t -= 2;
		memcpy(t, pairs + 2 * v, 2);
	} else {
		*--t = '0' + v;
	}
	return end;
}

static char *put_cstr(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

static char *put_addr_field(char *p, const struct fa_row *r, bool src)
{
	const struct flow_key *k = &r->key;

	if (!flow_row(r))
		return src ? PUT_LIT(p, ",\"src\":null") : PUT_LIT(p, ",\"dst\":null");
	p = src ? PUT_LIT(p, ",\"src\":\"") : PUT_LIT(p, ",\"dst\":\"");
	p = fa_addr_put(k, src ? k->src : k->dst, p);
	*p++ = '"';
	return p;
}

/* A name JSON needs no escape in, as interface names nearly always are. */
static bool plain_name(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == '"' || *s == '\\')
			return false;
	return true;
}

static bool plain_json_row(const struct cell_ctx *c, const char *name)
{
	return !c->v->group && !c->v->biflow && !c->x && !c->v->by_column &&
	       (!name || plain_name(name));
}

static void print_plain_json_row(struct fa_out *o, const struct cell_ctx *c,
				 const char *name)
{
	const struct fa_row *r = c->r;
	char buf[1024], *p = buf;	/* a row is at most about 560 */

	p = PUT_LIT(p, "{\"ifindex\":");
	p = put_dec(p, r->key.ifindex);
	if (name) {
		p = PUT_LIT(p, ",\"iface\":\"");
		p = put_cstr(p, name);
		*p++ = '"';
	} else {
		p = PUT_LIT(p, ",\"iface\":null");
	}
	p = r->key.direction == FLOW_DIR_EGRESS ?
		    PUT_LIT(p, ",\"direction\":\"egress\",\"ip_version\":") :
		    PUT_LIT(p, ",\"direction\":\"ingress\",\"ip_version\":");
	p = put_dec(p, r->key.ip_version);
	p = PUT_LIT(p, ",\"proto\":");
	p = put_dec(p, r->key.proto);
	p = put_addr_field(p, r, true);
	p = put_addr_field(p, r, false);
	p = PUT_LIT(p, ",\"sport\":");
	p = put_dec(p, ntohs(r->key.sport));
	p = PUT_LIT(p, ",\"dport\":");
	p = put_dec(p, ntohs(r->key.dport));
	p = PUT_LIT(p, ",\"packets\":");
	p = put_dec(p, r->val.packets);
	p = PUT_LIT(p, ",\"bytes\":");
	p = put_dec(p, r->val.bytes);
	p = PUT_LIT(p, ",\"first_seen_ns\":");
	p = put_dec(p, r->val.first_seen_ns);
	p = PUT_LIT(p, ",\"last_seen_ns\":");
	p = put_dec(p, r->val.last_seen_ns);
	p = PUT_LIT(p, ",\"tcp_flags\":\"");
	p = fa_tcp_flags_put(r->val.tcp_flags, p);
	p = PUT_LIT(p, "\",\"socket_cookie\":null,\"netns\":null,\"process\":null,"
		       "\"cgroup\":null,\"tcp\":null,\"retrans_segs\":null,"
		       "\"retrans_bytes\":null,\"passive_rtt\":null,\"overflow\":");
	p = r->kind == FA_ROW_OVERFLOW ? PUT_LIT(p, "true") : PUT_LIT(p, "false");
	p = PUT_LIT(p, ",\"exported\":");
	p = r->kind == FA_ROW_EXPORTED ? PUT_LIT(p, "true}") : PUT_LIT(p, "false}");
	out_raw_n(o, NULL, buf, p - buf);
}

static void print_row(struct fa_out *o, const struct cell_ctx *c,
		      const unsigned char *cols, size_t ncols)
{
	size_t i;

	if (o->json) {
		const char *name = fa_names_get(c->v->names, c->r->key.ifindex);

		if (plain_json_row(c, name)) {
			print_plain_json_row(o, c, name);
			return;
		}
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
	if (c->v->group && !flow_row(c->r) &&
	    !(c->v->group & (FA_GROUP_SRC | FA_GROUP_DST)))
		out_text(o, c->r->kind == FA_ROW_OVERFLOW ? " (overflow: table full)" :
							   " (exported in records)");
	out_text(o, "\n");
}

static void print_header(struct fa_out *o, const unsigned char *cols,
			 size_t ncols, int aw)
{
	size_t i;
	int w;

	for (i = 0; i < ncols; i++) {
		w = columns[cols[i]].flags & COL_ADDR ? -aw : columns[cols[i]].width;
		out_text(o, "%*s ", w, columns[cols[i]].header);
	}
	out_text(o, "\n");
}

/*
 * A large table's JSON rows are formatted on two threads: a helper takes
 * some chunks of rows into memory, this thread the rest, and writes all of
 * them out in order. Formatting was most of a million-flow dump;
 * this machine has two CPUs and the client reading the answer needs little.
 * Each chunk is "row,row,...": rows as print_row writes them.
 */
#define CHUNK_ROWS	4096
#define PARALLEL_ROWS	(8 * CHUNK_ROWS)
/*
 * The helper takes 3 chunks of every 5: this thread also writes every
 * chunk to the socket or pipe, which costs about as much as formatting a
 * fifth of them.
 */
#define CYCLE		5
#define HELPER_SHARE	3
#define SLOTS		4

struct chunk {
	struct json_mem text;	/* kept for the helper's next chunk in this slot */
	bool ready;
};

struct row_pool {
	const struct fa_table *t;
	const struct fa_view *v;
	size_t n, nchunks;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct chunk slot[SLOTS];	/* the helper's chunks, in turn */
};

static bool helpers_chunk(size_t k)
{
	return k % CYCLE < HELPER_SHARE;
}

/* Where the helper puts chunk @k, one of its own. */
static struct chunk *slot_of(struct row_pool *p, size_t k)
{
	return &p->slot[(k / CYCLE * HELPER_SHARE + k % CYCLE) % SLOTS];
}

/* The @i-th JSON row, in v->order if there is one. */
static void print_one(struct fa_out *o, const struct fa_table *t,
		      const struct fa_view *v, size_t i)
{
	enum { AHEAD = 8 };	/* rows read at random: fetched ahead */
	struct cell_ctx c = { .v = v };
	size_t r = i;

	if (v->order) {
		r = v->order[i];
		if (i + AHEAD < t->n)
			__builtin_prefetch(&t->rows[v->order[i + AHEAD]]);
	}
	c.r = &t->rows[r];
	c.rev = t->rev ? &t->rev[r] : NULL;
	c.x = fa_row_ext(t, c.r);
	print_row(o, &c, NULL, 0);
}

/*
 * Rows [k * CHUNK_ROWS, ...) into @m as "row,row,..."; false if they did not
 * fit and @m could not grow. Each slot keeps its memory from chunk to chunk:
 * a stream opened for each chunk grew it by copying, which was a third of
 * the formatting.
 */
static bool format_chunk(const struct row_pool *p, size_t k, struct json_mem *m)
{
	size_t i, end = (k + 1) * CHUNK_ROWS < p->n ? (k + 1) * CHUNK_ROWS : p->n;
	struct fa_out o;

	out_init_mem(&o, m);
	json_items_begin(&o.j);
	for (i = k * CHUNK_ROWS; i < end; i++)
		print_one(&o, p->t, p->v, i);
	json_items_end(&o.j);
	return !m->nomem;
}

static void *helper_main(void *arg)
{
	struct row_pool *p = arg;
	struct chunk *s;
	size_t k;

	for (k = 0; k < p->nchunks; k++) {
		if (!helpers_chunk(k))
			continue;
		s = slot_of(p, k);
		pthread_mutex_lock(&p->lock);
		while (s->ready)
			pthread_cond_wait(&p->cond, &p->lock);
		pthread_mutex_unlock(&p->lock);
		/* Without memory, the slot says so: the writer writes it itself. */
		format_chunk(p, k, &s->text);
		pthread_mutex_lock(&p->lock);
		s->ready = true;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

/* The helper's chunk @k, waited for. */
static struct chunk *wait_chunk(struct row_pool *p, size_t k)
{
	struct chunk *s = slot_of(p, k);

	pthread_mutex_lock(&p->lock);
	while (!s->ready)
		pthread_cond_wait(&p->cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
	return s;
}

/* Its slot back to the helper, once written out. */
static void release_chunk(struct row_pool *p, struct chunk *s)
{
	pthread_mutex_lock(&p->lock);
	s->ready = false;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/* Returns -1, having written nothing, if the helper can't start. */
static int print_json_rows_parallel(struct fa_out *o, const struct fa_table *t,
				    const struct fa_view *v, size_t n)
{
	struct row_pool p = { .t = t, .v = v, .n = n,
			      .nchunks = (n + CHUNK_ROWS - 1) / CHUNK_ROWS };
	struct json_mem own = {}, *text;
	struct chunk *s;
	pthread_t helper;
	size_t k, i;
	bool done;

	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.cond, NULL);
	if (pthread_create(&helper, NULL, helper_main, &p)) {
		pthread_cond_destroy(&p.cond);
		pthread_mutex_destroy(&p.lock);
		return -1;
	}
	for (k = 0; k < p.nchunks; k++) {
		s = NULL;
		text = &own;
		if (helpers_chunk(k)) {
			s = wait_chunk(&p, k);
			text = &s->text;
			done = !text->nomem;
		} else {
			done = format_chunk(&p, k, text);
		}
		if (done) {
			/* Items to the writer: it puts the comma between. */
			out_raw_n(o, NULL, text->buf, text->len);
		} else {
			/* No memory for the chunk: its rows straight out. */
			for (i = k * CHUNK_ROWS; i < (k + 1) * CHUNK_ROWS && i < n; i++)
				print_one(o, t, v, i);
		}
		if (s)
			release_chunk(&p, s);
	}
	/* Every chunk was taken: the helper has left its loop. */
	pthread_join(helper, NULL);
	for (k = 0; k < SLOTS; k++)
		free(p.slot[k].text.buf);
	free(own.buf);
	pthread_cond_destroy(&p.cond);
	pthread_mutex_destroy(&p.lock);
	return 0;
}

static void print_flows(struct fa_out *o, const struct fa_table *t,
			const struct fa_view *v)
{
	unsigned char cols[FA_MAX_COLS];
	size_t i, n = t->n, ncols = 0;
	struct cell_ctx c = { .v = v };

	if (v->top && v->top < n)
		n = v->top;
	if (!o->json) {
		ncols = text_cols(v, cols);
		c.addr_width = addr_width(t, n);
		print_header(o, cols, ncols, c.addr_width);
	}
	out_arr_open(o, "flows");
	if (o->json && n >= PARALLEL_ROWS && !print_json_rows_parallel(o, t, v, n)) {
		/* written */
	} else if (o->json) {
		for (i = 0; i < n; i++)
			print_one(o, t, v, i);
	} else {
		for (i = 0; i < n; i++) {
			c.r = &t->rows[i];
			c.rev = t->rev ? &t->rev[i] : NULL;
			c.x = fa_row_ext(t, c.r);
			print_row(o, &c, cols, ncols);
		}
	}
	out_arr_close(o);
	if (n < t->n)
		out_text(o, "(%zu more %s)\n", t->n - n, v->group ? "rows" : "flows");
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

bool fa_books_balance(const struct fa_hook_stats *st)
{
	__u64 reasons = 0;
	int i;

	for (i = 0; i < FLOW_NR_COUNTERS; i++)
		if (fa_counter_kind(i) == FLOW_CK_REASON)
			reasons += st->c[i];
	return st->c[FLOW_C_SEEN] == st->c[FLOW_C_ACCOUNTED] + reasons;
}

/* The books of one hook: seen must equal accounted plus every named reason. */
static void print_hook_text(struct fa_out *o, int dir, int hook,
			    const struct fa_hook_stats *st)
{
	const __u64 *c = st->c;
	__u64 reasons = 0;
	int i;

	for (i = 0; i < FLOW_NR_COUNTERS; i++)
		if (fa_counter_kind(i) == FLOW_CK_REASON)
			reasons += c[i];
	out_text(o, "\n%s %s: seen %" PRIu64 " = accounted %" PRIu64
		 " (%" PRIu64 " bytes) + not accounted %" PRIu64 "%s\n",
		 fa_hook_name(hook), fa_direction_name(dir),
		 (uint64_t)c[FLOW_C_SEEN], (uint64_t)c[FLOW_C_ACCOUNTED],
		 (uint64_t)c[FLOW_C_ACCOUNTED_BYTES], (uint64_t)reasons,
		 fa_books_balance(st) ? "" : "  (DOES NOT ADD UP)");
	for (i = 0; i < FLOW_NR_COUNTERS; i++) {
		if (fa_counter_kind(i) == FLOW_CK_TOTAL || !c[i])
			continue;
		out_text(o, "  %-22s %12" PRIu64 "%s\n", fa_counter_name(i),
			 (uint64_t)c[i],
			 fa_counter_kind(i) == FLOW_CK_REASON ? "  not accounted" : "");
	}
}

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
				print_hook_text(o, dir, v->hook[dir], &st[dir]);
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
	print_flows(o, t, v);
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
		out_obj_close(o);
	}
	out_arr_close(o);
	if (o->json) {
		memcpy(v.hook, s->hook, sizeof(v.hook));
		fa_print_counters(o, s->total, &v);
	}
	out_obj_close(o);
	out_end(o);
}

/* ---- status ---------------------------------------------------------------- */

static void print_status_json(struct fa_out *o, const struct fa_status *s,
			      void (*daemon_info)(struct fa_out *o,
						  const char *dirname, void *ctx),
			      void *ctx)
{
	const struct fa_attach_state *st = &s->pin.state;
	bool xdp = st->ingress == FA_INGRESS_XDP_NATIVE ||
		   st->ingress == FA_INGRESS_XDP_SKB;

	out_obj_open(o, NULL);
	if (s->ifname[0])
		out_str(o, "iface", NULL, s->ifname);
	else
		out_null(o, "iface", NULL, NULL);
	out_str(o, "iface_at_attach", NULL, st->ifname);
	out_u64(o, "ifindex", NULL, st->ifindex);
	out_u64(o, "netns", NULL, st->netns_ino);
	out_bool(o, "this_netns", NULL, s->here);
	out_bool(o, "gone", NULL, s->gone);
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
	out_u64(o, "xdp_prog_id", NULL, st->xdp_prog_id);
	out_u64(o, "tc_prog_id", NULL, st->tc_prog_id);
	out_u64(o, "tc_ingress_prog_id", NULL, st->tci_prog_id);
	out_bool(o, "live", NULL, s->live.ingress && s->live.egress);
	out_bool(o, "live_ingress", NULL, s->live.ingress);
	out_bool(o, "live_egress", NULL, s->live.egress);
	out_u64(o, "attached_at", NULL, st->attached_at);
	out_bool(o, "by_run", NULL, st->by_run);
	if (s->daemon)
		out_u64(o, "daemon_pid", NULL, s->daemon);
	else
		out_null(o, "daemon_pid", NULL, NULL);
	out_obj_open(o, "sampling");
	out_u64(o, "rate", NULL, s->sample.rate);
	out_str(o, "mode", NULL, fa_sample_mode_name(s->sample.mode));
	out_u64(o, "snaplen", NULL, s->sample.snaplen);
	out_obj_close(o);
	if (daemon_info && s->daemon)
		daemon_info(o, s->pin.dirname, ctx);
	out_obj_close(o);
}

static void print_status_text(struct fa_out *o, const struct fa_status *s)
{
	const struct fa_attach_state *st = &s->pin.state;
	char since[32], sampling[48], mem[16], hook[24], daemon[16];
	const char *live, *name = s->ifname[0] ? s->ifname : st->ifname;
	time_t t = st->attached_at;
	struct tm tm;

	if (s->pin.err || !st->complete) {
		out_text(o, "%-16s (%s: run 'flowacct detach %s')\n", name,
			 s->pin.err ? "unreadable record" : "attach did not finish",
			 name);
		return;
	}
	gmtime_r(&t, &tm);
	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (s->sample.rate)
		snprintf(sampling, sizeof(sampling), "1/%u %s snaplen %u",
			 s->sample.rate, fa_sample_mode_name(s->sample.mode),
			 s->sample.snaplen);
	else
		snprintf(sampling, sizeof(sampling), "off");
	human(s->memory, "B", mem, sizeof(mem));
	snprintf(hook, sizeof(hook), "%s%s", fa_ingress_name(st->ingress),
		 st->ingress != FA_INGRESS_TC && st->xdp_legacy ? "/direct" : "");
	if (s->daemon)
		snprintf(daemon, sizeof(daemon), "pid %d", s->daemon);
	else
		snprintf(daemon, sizeof(daemon), "-");
	live = !s->here ? "other-netns" : s->gone ? "gone" :
	       s->live.ingress && s->live.egress ? "yes" : "NO";
	out_text(o, "%-16s %7u %-10s %-6s %9u %8s %-11s %-20s %-9s %s\n", name,
		 st->ifindex, hook, st->shared_map ? "shared" : "percpu",
		 st->max_flows, mem, live, since, daemon, sampling);
}

void fa_print_status_doc(struct fa_out *o, const struct fa_status *st, size_t n,
			 const struct fa_orphan *orph, size_t norph,
			 void (*daemon_info)(struct fa_out *o, const char *dirname,
					     void *ctx),
			 void *ctx)
{
	size_t i;

	out_obj_open(o, NULL);
	out_arr_open(o, "interfaces");
	if (!o->json && !n)
		out_text(o, "no interface is attached\n");
	else if (!o->json)
		out_text(o, "%-16s %7s %-10s %-6s %9s %8s %-11s %-20s %-9s %s\n",
			 "IFACE", "IFINDEX", "INGRESS", "MAP", "MAX-FLOWS",
			 "MEMORY", "LIVE", "SINCE", "DAEMON", "SAMPLING");
	for (i = 0; i < n; i++) {
		if (o->json)
			print_status_json(o, &st[i], daemon_info, ctx);
		else
			print_status_text(o, &st[i]);
	}
	out_arr_close(o);
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
	/* The joined fields, as dump -j has them. */
	static void (*const joined[])(struct fa_out *, const struct cell_ctx *) = {
		col_cookie, col_process, col_cgroup, col_srtt, col_retrans, col_prtt,
	};
	struct cell_ctx c = { .x = x };
	size_t i;
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
	for (i = 0; i < sizeof(joined) / sizeof(joined[0]); i++)
		joined[i](o, &c);
	out_obj_close(o);
}

void fa_print_counters_line(struct fa_out *o, const struct fa_stream *s,
			    const struct fa_hook_stats st[FLOW_NR_DIRS])
{
	struct fa_view v = {};
	int dir;

	fa_state_hooks(&s->p.state, v.hook);
	out_obj_open(o, NULL);
	out_str(o, "type", NULL, "counters");
	print_instance(o, s->rs.instance);
	out_u64(o, "ifindex", NULL, s->p.state.ifindex);
	out_str(o, "iface", NULL, s->ifname);
	out_u64(o, "records", NULL, s->rs.records);
	out_u64(o, "next_seq", NULL, s->rs.next_seq);
	out_obj_open(o, "exported");
	for (dir = 0; dir < FLOW_NR_DIRS; dir++) {
		out_obj_open(o, fa_direction_name(dir));
		out_u64(o, "packets", NULL, s->rs.exported_packets[dir]);
		out_u64(o, "bytes", NULL, s->rs.exported_bytes[dir]);
		out_obj_close(o);
	}
	out_obj_close(o);
	fa_print_counters(o, st, &v);
	out_obj_close(o);
}
