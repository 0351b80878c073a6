/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Queries: what dump, stats and status ask for, as one typed request that
 * the commands build from their options and a daemon receives on its
 * control socket (lib/ctl.c says how it travels); where the answer comes
 * from (a daemon, or the pins); and the pipeline that turns a snapshot
 * into the dump document (filter, group, sort, columns).
 */
#ifndef FLOWACCT_QUERY_H
#define FLOWACCT_QUERY_H

#include <stdio.h>

#include "report.h"

/* The control protocol this build speaks (see lib/ctl.c). */
#define FA_CTL_VERSION 5	/* 5: the tunnel tag in keys; 4: drops on the rows and in the books */

/* What a request asks for. */
enum fa_query_kind {
	FA_QUERY_ROWS,		/* the binary snapshot of one owned interface */
	FA_QUERY_INFO,		/* the daemon's part of status, of one */
	FA_QUERY_DUMP,		/* the dump document */
	FA_QUERY_STATS,		/* the stats document */
	FA_QUERY_STATUS,	/* the status document, with the daemon's parts */
	FA_QUERY_NR_KINDS,
};

/* How dump filters, groups, sorts and shows the rows. */
struct fa_dump_opts {
	int sort;			/* enum fa_sort */
	__u64 top;			/* 0: every row */
	unsigned int group;		/* FA_GROUP_* */
	bool human;
	struct fa_view view;		/* the columns */
	struct fa_prefix src, dst;
	int port;			/* -1: any */
	int proto;			/* -1: any */
	bool biflow;
};

/* dump's defaults: by bytes, no filter. */
extern const struct fa_dump_opts fa_dump_defaults;

struct fa_query {
	enum fa_query_kind kind;
	/* An interface's name, or (rows, info) its pin directory's name;
	 * "" for every interface. */
	char iface[64];
	/* With iface a program set's directory: its member of this ifindex
	 * (0: every member) */
	__u32 member;
	bool json;
	struct fa_dump_opts dump;	/* FA_QUERY_DUMP */
};

/* ---- where the rows come from (query.c) ------------------------------------ */

/*
 * The attachment of @ifname here, for reading; -errno and @e when it is
 * not attached, attached elsewhere, renamed or incomplete.
 */
int fa_open_iface(const char *ifname, struct fa_pinned *p, struct fa_err *e);
/*
 * The attachment of @ifname, or where it is a program set's member its
 * set's pins (*@member set), their state made the member's: its ifindex
 * (the key of its counters in the set's maps), hooks and name.
 */
int fa_open_iface_or_member(const char *ifname, struct fa_pinned *p, bool *member,
			    struct fa_err *e);
/*
 * What @ifname here is attached as: its attachment's state, or a program
 * set member's (its set's, with its ifindex, hooks and name), e.g. to see
 * it go with fa_attached_iface_exists(). 0, or -errno and @e as above.
 */
int fa_iface_state(const char *ifname, struct fa_attach_state *st, struct fa_err *e);
/* Whether the interface @st was attached to still exists here: a deleted
 * interface's pins stay until detached, its tables still. */
bool fa_attached_iface_exists(const struct fa_attach_state *st);
/* Every complete attachment in this network namespace (-ENOENT: none). */
int fa_open_all(struct fa_pinned **ps, size_t *n, struct fa_err *e);
void fa_close_all(struct fa_pinned *ps, size_t n);

/*
 * The rows (or only the counters, for stats) of q->iface, or of every
 * interface attached here: from the daemon that owns one, or from its
 * pins. With @forward (not NULL), when one daemon owns them all it answers
 * the whole query into @forward instead: returns 1. 0 with @s filled, or
 * -errno with @e said.
 */
int fa_snapshot_gather(const struct fa_query *q, struct fa_snapshot *s,
		       FILE *forward, struct fa_err *e);

/*
 * Filters, groups, sorts and prints @s as `flowacct dump` does, into @out;
 * what it can't join is said through @log. 0, or -errno with @e said.
 */
int fa_dump_render(const struct fa_dump_opts *o, struct fa_snapshot *s,
		   struct fa_out *out, const struct fa_log *log, struct fa_err *e);

/* ---- status (status.c) -------------------------------------------------------- */

/* Adds the "daemon" object of the interface whose pins are @dirname. */
typedef void fa_daemon_info_fn(struct fa_out *o, const char *dirname, void *ctx);

/*
 * The status document: every attachment's pins here, with @daemon_info
 * (when not NULL) adding what a daemon knows of the interfaces it owns.
 * 0, or -errno with @e said.
 */
int fa_status_render(struct fa_out *o, fa_daemon_info_fn *daemon_info, void *ctx,
		     struct fa_err *e);
/* A @daemon_info for a client: asks the daemon that owns @dirname, if any. */
void fa_status_ask_daemon(struct fa_out *o, const char *dirname, void *ctx);

#endif /* FLOWACCT_QUERY_H */
