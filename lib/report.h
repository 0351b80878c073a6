/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libflowacct's reports: the output documents (dump, stats, records) and
 * their columns, and what top shows of an interval (rates.c). They are
 * written through struct fa_out (out.h).
 */
#ifndef FLOWACCT_REPORT_H
#define FLOWACCT_REPORT_H

#include "table.h"

/* ---- output documents (columns.c, rows.c, documents.c, books.c) ------------------------------------------ */

struct fa_out;

/* The columns of the flow table (dump -o, top -o). */
enum fa_col {
	FA_COL_DIR, FA_COL_IFACE, FA_COL_IFINDEX, FA_COL_PROTO, FA_COL_SRC,
	FA_COL_SPORT, FA_COL_DST, FA_COL_DPORT, FA_COL_FLOWS, FA_COL_PACKETS,
	FA_COL_BYTES, FA_COL_RPACKETS, FA_COL_RBYTES, FA_COL_FLAGS, FA_COL_FIRST, FA_COL_LAST, FA_COL_AGE,
	FA_COL_IDLE, FA_COL_DURATION, FA_COL_COOKIE, FA_COL_PROCESS, FA_COL_PID,
	FA_COL_COMM, FA_COL_CGROUP, FA_COL_CONTAINER, FA_COL_SRTT, FA_COL_RTTVAR,
	FA_COL_MINRTT, FA_COL_CWND, FA_COL_STATE, FA_COL_SOCK_RETRANS, FA_COL_RETRANS,
	FA_COL_RETRANS_BYTES, FA_COL_PRTT, FA_COL_PRTT_MIN, FA_COL_DROPS, FA_COL_DROP_REASON,
	FA_COL_TUNNEL,
	FA_COL_BPS, FA_COL_PPS,	/* rates: a view over an interval only */
	FA_NR_COLS,
};

#define FA_MAX_COLS 48

struct fa_view {
	unsigned int group;	/* FA_GROUP_* of a grouped table, or 0 */
	bool human;		/* -H: packets and bytes in k, M, G */
	bool biflow;		/* rows are connections (fa_table_biflow) */
	size_t top;		/* 0: all rows */
	__u64 now_ns;		/* wall clock, for age and idle */
	const struct fa_names *names;
	unsigned char cols[FA_MAX_COLS];	/* text columns, enum fa_col */
	size_t ncols;		/* 0: the default ones */
	int hook[FLOW_NR_DIRS];	/* enum fa_hook of each direction, for names */
	bool by_column;		/* JSON rows column by column (tests compare) */
	const size_t *order;	/* JSON: rows in this order (fa_table_order) */
	double rate_secs;	/* > 0: rows are what flows did in so many seconds */
};

/* Hooks, for the "hook" field of counters. */
enum fa_hook { FA_HOOK_NONE, FA_HOOK_XDP, FA_HOOK_TC, FA_HOOK_MIXED };

/* "dir,iface,src" or "+age,idle" (added to the default ones). */
int fa_cols_parse(const char *s, struct fa_view *v);
/* The names fa_cols_parse() takes, ", " between, into @buf. */
void fa_col_names(char *buf, size_t len);

/* {"flows":[...],"counters":{...},"hooks":[...]}, or the table and books. */
void fa_print_flow_doc(struct fa_out *o, const struct fa_table *t,
		       const struct fa_hook_stats st[FLOW_NR_DIRS],
		       const struct fa_view *v);
/* {"interfaces":[...],"counters":...,"hooks":...}, or each interface's books. */
void fa_print_stats_doc(struct fa_out *o, const struct fa_snapshot *s);

/* One record as a JSON line (no newline): {"type":"flow",...}. */
void fa_print_record(struct fa_out *o, const struct fa_record *r,
		     const char *ifname, __u64 instance, __u64 wall_off,
		     const struct fa_ext *x);

/* ---- local time (clock.c) ----------------------------------------------------- */

/* "20:47:11", the local time of @wall_ns (ns since the epoch). */
void fa_local_hms(__u64 wall_ns, char *buf, size_t len);

/* ---- what flows did over an interval (rates.c) -------------------------------- */

/* One interval of top: what each row did in it, and the hooks' totals. */
struct fa_interval {
	struct fa_table rows;		/* each row's counts over the interval */
	struct fa_names names;
	double secs;			/* the interval's length */
	__u64 wall_ns;			/* its end, ns since the epoch */
	__u64 pkts[FLOW_NR_DIRS], bytes[FLOW_NR_DIRS];	/* the counters' */
	size_t nflows;			/* flow rows, before grouping */
	bool has_drops;			/* the drop program is there */
	__u64 drops;			/* packets it saw dropped over the interval */
};

/* The snapshot an interval is measured from. */
struct fa_rates {
	struct fa_snapshot prev;
	__u64 prev_ns;
	bool have_prev;
};

/*
 * The interval from the last snapshot to @cur (taken at CLOCK_MONOTONIC
 * @now_ns), grouped by @group and sorted by @sort into @iv, rows joined to
 * their sockets (fa_enrich) if @enrich. @cur becomes the next interval's
 * start (the caller no longer frees it). Returns 1 for the first snapshot
 * (no interval yet), 0, or -errno.
 */
int fa_rates_next(struct fa_rates *r, struct fa_snapshot *cur, __u64 now_ns,
		  unsigned int group, enum fa_sort sort, bool enrich,
		  struct fa_interval *iv);
void fa_rates_free(struct fa_rates *r);
void fa_interval_free(struct fa_interval *iv);

/* ---- top's view (columns.c, documents.c) -------------------------------------- */

/*
 * Top's line for row @r of @t (NULL: the header): rates, direction,
 * interface, protocol, "src -> dst" ("*" for what v->group leaves out),
 * then v->cols' cells. @v->rate_secs must be > 0.
 */
void fa_format_rate_line(char *buf, size_t len, const struct fa_table *t,
			 const struct fa_row *r, const struct fa_view *v);

/* "in 20.5M bit/s 2.08k pkt/s   out ...   3 active flows" */
void fa_format_rates_totals(char *buf, size_t len, const struct fa_interval *iv);

/*
 * One interval: in text, when it ended, its totals and the table of top's
 * lines (at most v->top); in JSON one document on one line:
 * {"time_ns", "interval_s", "sort", "group_by", "active_flows",
 *  "totals": {"ingress"|"egress": {"bits_per_second", "packets_per_second"}},
 *  "flows": [dump -j's row objects, with the interval's packets and bytes,
 *            "bits_per_second" and "packets_per_second"]}
 * @group_by is the grouping's name ("flow", "src", "proto,dport", ...).
 */
void fa_print_rates_doc(struct fa_out *o, const struct fa_interval *iv,
			const struct fa_view *v, enum fa_sort sort,
			const char *group_by);

#endif /* FLOWACCT_REPORT_H */
