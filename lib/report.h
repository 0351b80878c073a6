/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libflowacct's declarations for reports, in files with one job each:
 * cgroup paths (cgroups.c), the columns of the flow table (columns.c),
 * what top shows of an interval (rates.c). Included by libflowacct.h.
 */
#ifndef FLOWACCT_REPORT_H
#define FLOWACCT_REPORT_H

/* ---- cgroup paths (cgroups.c) ------------------------------------------------ */

/* Cgroup v2 ids seen as paths under the mount; zeroed: empty. */
struct fa_cgroups {
	struct fa_cgroup_path {
		__u64 id;
		char *path;
	} *v;
	size_t n, cap;
	__u64 last_scan_ns;	/* a walk at most once a second */
};

/*
 * Cgroup @id as a path under the mount ("/" for the root), or NULL; valid
 * until fa_cgroups_free(@c). @rescan: walk the hierarchy again if the id is
 * not in @c.
 */
const char *fa_cgroup_path(struct fa_cgroups *c, __u64 id, bool rescan);
void fa_cgroups_free(struct fa_cgroups *c);
/* The container id a cgroup path names, if it follows a runtime's layout. */
bool fa_container_id(const char *path, char *out, size_t len);

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
