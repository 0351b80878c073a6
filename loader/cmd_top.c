// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowacct top: who is using the link right now. Every interval, the rows
 * (from the daemon that owns the interface, or from its tables) against the
 * last ones (lib/rates.c): rates per flow or group, and the totals from the
 * hooks' counters, which are exact whatever happened to the rows. A full
 * screen with ncurses on a terminal; a plain table per interval otherwise.
 */
#include <curses.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "cmds.h"

struct top_opts {
	__u64 interval_ms;
	struct fa_view view;	/* columns added to each line */
	unsigned int group;
	int sort;
	__u64 top;
	__u64 count;
};

static const struct top_opts defaults_top = {
	.interval_ms = 2000,
	.sort = FA_SORT_BYTES,
};

static const struct opt_value top_sorts[] = {
	{ "bytes", FA_SORT_BYTES }, { "packets", FA_SORT_PACKETS }, { NULL, 0 },
};

/* Top's line is its own; -o adds columns after it ('+' is the same). */
static int parse_top_columns(const char *arg, void *field, char *why, size_t len)
{
	return parse_columns(arg + (*arg == '+'), field, why, len);
}

static const struct opt top_options[] = {
	OPTION("interval", 0, OPT_SECONDS, struct top_opts, interval_ms, "SEC",
	       "rates over SEC seconds, the view refreshed as often",
	       .min = 100, .max = 3600 * 1000),
	OPTION("group-by", 'g', OPT_FUNC, struct top_opts, group, "FIELDS",
	       "one row per group: src, dst, sport, dport, proto, iface, direction, process, cgroup",
	       .parse = parse_group),
	OPTION("columns", 'o', OPT_FUNC, struct top_opts, view, "COL,...",
	       "columns added to each line (those of dump -o: process, srtt, ...)",
	       .parse = parse_top_columns),
	OPTION("sort", 0, OPT_ENUM, struct top_opts, sort, NULL,
	       "by bit/s or by packet/s", .values = top_sorts),
	OPTION("top", 'n', OPT_UINT, struct top_opts, top, "N",
	       "at most N rows (default: what fits the screen, or all)",
	       .min = 1, .max = 1000000),
	OPTION("count", 0, OPT_UINT, struct top_opts, count, "N",
	       "not on a terminal: stop after N intervals (default: never)",
	       .min = 1, .max = UINT32_MAX),
	OPT_END
};

/* What the g key steps through. */
static const struct {
	unsigned int group;
	const char *name;
} groupings[] = {
	{ 0, "flow" },
	{ FA_GROUP_SRC, "src" },
	{ FA_GROUP_DST, "dst" },
	{ FA_GROUP_PROTO | FA_GROUP_DPORT, "proto,dport" },
	{ FA_GROUP_IFACE | FA_GROUP_DIR, "iface,direction" },
};

/* One interval's view. */
struct view {
	struct fa_table rows;		/* what each did in the interval */
	struct fa_names names;
	double secs;
	__u64 pkts[FLOW_NR_DIRS], bytes[FLOW_NR_DIRS];
	size_t nflows;			/* before grouping */
	char when[16];
};

struct top {
	const struct top_opts *o;
	struct fa_view view;	/* -o's columns, and the group's own */
	const char *ifname;
	unsigned int group;
	int sort;
	struct fa_snapshot prev;
	__u64 prev_ns;
	bool have_prev;
};

static void view_free(struct view *v)
{
	fa_table_free(&v->rows);
	fa_names_free(&v->names);
	memset(v, 0, sizeof(*v));
}

/* The next interval's view, against the last snapshot; 1 if this was the
 * first snapshot (nothing to compare yet). */
static int sample(struct top *t, struct view *v)
{
	struct fa_snapshot cur = {};
	__u64 now = fa_mono_ns();
	time_t wall = time(NULL);
	int err, dir;

	err = snapshot_gather(t->ifname, &cur);
	if (err)
		return err;
	if (!t->have_prev) {
		t->prev = cur;
		t->prev_ns = now;
		t->have_prev = true;
		return 1;
	}
	view_free(v);
	v->secs = (now - t->prev_ns) / 1e9;
	strftime(v->when, sizeof(v->when), "%H:%M:%S", localtime(&wall));
	for (dir = 0; dir < FLOW_NR_DIRS; dir++) {
		v->pkts[dir] = cur.total[dir].c[FLOW_C_ACCOUNTED] -
			       t->prev.total[dir].c[FLOW_C_ACCOUNTED];
		v->bytes[dir] = cur.total[dir].c[FLOW_C_ACCOUNTED_BYTES] -
				t->prev.total[dir].c[FLOW_C_ACCOUNTED_BYTES];
	}
	err = fa_table_delta(&t->prev.t, &cur.t, &v->rows);
	if (!err && (t->view.ncols || (t->group & (FA_GROUP_PROCESS | FA_GROUP_CGROUP)))) {
		/* The interval's rows joined to their sockets, as dump's are. */
		struct fa_snapshot joined = { .t = v->rows, .ifs = cur.ifs, .nifs = cur.nifs };

		err = fa_enrich(&joined);
		v->rows = joined.t;
	}
	if (!err) {
		v->nflows = v->rows.n;
		if (t->group)
			fa_table_group(&v->rows, t->group);
		fa_table_sort(&v->rows, t->sort);
		/* The names go with the view; the snapshot keeps none. */
		v->names = cur.names;
		memset(&cur.names, 0, sizeof(cur.names));
	}
	fa_snapshot_free(&t->prev);
	t->prev = cur;
	t->prev_ns = now;
	return err;
}

/* ---- lines ------------------------------------------------------------------- */

static void rate(double per_sec, const char *unit, char *buf, size_t len)
{
	fa_human(per_sec, unit, buf, len);
}

static const char *grouping_name(unsigned int group)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(groupings); i++)
		if (groupings[i].group == group)
			return groupings[i].name;
	return "fields";
}

/* "addr:port", "*" for what a group leaves out. */
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

static void row_line(const struct view *v, const struct fa_row *r, unsigned int group,
		     char *buf, size_t len)
{
	char bps[16], pps[16], src[64], dst[64], proto[12];
	const char *pname, *ifname;

	rate(r->val.bytes * 8 / v->secs, "", bps, sizeof(bps));
	rate(r->val.packets / v->secs, "", pps, sizeof(pps));
	if (r->kind == FA_ROW_OVERFLOW) {
		snprintf(buf, len, "%9s %9s %-7s %-12s (overflow: the table was full)",
			 bps, pps, fa_direction_name(r->key.direction),
			 fa_names_get(&v->names, r->key.ifindex));
		return;
	}
	pname = fa_proto_name(r->key.proto);
	if (group && !(group & FA_GROUP_PROTO))
		snprintf(proto, sizeof(proto), "*");
	else if (pname)
		snprintf(proto, sizeof(proto), "%s", pname);
	else
		snprintf(proto, sizeof(proto), "%u", r->key.proto);
	ifname = !group || (group & FA_GROUP_IFACE) ?
		 fa_names_get(&v->names, r->key.ifindex) : "*";
	endpoint(r, group, true, src, sizeof(src));
	endpoint(r, group, false, dst, sizeof(dst));
	snprintf(buf, len, "%9s %9s %-7s %-12s %-6s %s -> %s", bps, pps,
		 !group || (group & FA_GROUP_DIR) ? fa_direction_name(r->key.direction) : "*",
		 ifname ? ifname : "?", proto, src, dst);
	if (group)
		snprintf(buf + strlen(buf), len - strlen(buf), "  (%u flows)", r->flows);
}

/* The cells of -o's columns for row @r (NULL: their headers). */
static void cols_text(const struct top *t, const struct view *v, const struct fa_row *r,
		      char *buf, size_t len)
{
	struct fa_view cols = t->view;

	cols.group = t->group;	/* the grouping now: the g key changes it */
	fa_format_cols(buf, len, &v->rows, r, &cols);
}

/* The line, then the columns -o added. */
static void row_text(const struct top *t, const struct view *v, const struct fa_row *r,
		     char *buf, size_t len)
{
	char cells[256];

	row_line(v, r, t->group, buf, len);
	if (!t->view.ncols)
		return;
	cols_text(t, v, r, cells, sizeof(cells));
	snprintf(buf + strlen(buf), len - strlen(buf), "  %s", cells);
}

static void totals_line(const struct view *v, char *buf, size_t len)
{
	char b[FLOW_NR_DIRS][16], p[FLOW_NR_DIRS][16];
	int dir;

	for (dir = 0; dir < FLOW_NR_DIRS; dir++) {
		rate(v->bytes[dir] * 8 / v->secs, "", b[dir], sizeof(b[dir]));
		rate(v->pkts[dir] / v->secs, "", p[dir], sizeof(p[dir]));
	}
	snprintf(buf, len, "in %s bit/s %s pkt/s   out %s bit/s %s pkt/s   %zu active flows",
		 b[FLOW_DIR_INGRESS], p[FLOW_DIR_INGRESS], b[FLOW_DIR_EGRESS],
		 p[FLOW_DIR_EGRESS], v->nflows);
}

static const char header[] = "    BIT/S     PKT/S DIR     IFACE        PROTO  SOURCE -> DESTINATION";

/* ---- not a terminal: a table per interval ---------------------------------------- */

static int run_plain(struct top *t)
{
	struct view v = {};
	char line[512], cells[256];
	__u64 done = 0;
	size_t i, n;
	int err;

	err = sample(t, &v);
	while (err >= 0) {
		usleep(t->o->interval_ms * 1000);
		err = sample(t, &v);
		if (err)
			break;
		totals_line(&v, line, sizeof(line));
		cols_text(t, &v, NULL, cells, sizeof(cells));
		printf("%s  over %.1f s, by %s, per %s\n%s\n%s%s%s\n", v.when, v.secs,
		       t->sort == FA_SORT_PACKETS ? "pkt/s" : "bit/s",
		       grouping_name(t->group), line, header,
		       t->view.ncols ? "  " : "", cells);
		n = t->o->top && t->o->top < v.rows.n ? t->o->top : v.rows.n;
		for (i = 0; i < n; i++) {
			row_text(t, &v, &v.rows.rows[i], line, sizeof(line));
			printf("%s\n", line);
		}
		printf("\n");
		/* A reader that went away ends us, with no error of ours. */
		if (fflush(stdout) || ferror(stdout))
			break;
		if (t->o->count && ++done == t->o->count)
			break;
	}
	view_free(&v);
	return err < 0 ? err : 0;
}

/* ---- a terminal: the full screen -------------------------------------------------- */

static void draw(const struct top *t, const struct view *v, bool paused)
{
	char line[512];
	size_t i, n, room;
	int rows = LINES;

	erase();
	attron(A_BOLD);
	mvprintw(0, 0, "flowacct top  %s  every %.1f s  by %s, per %s%s",
		 t->ifname ? t->ifname : "(all)", t->o->interval_ms / 1000.0,
		 t->sort == FA_SORT_PACKETS ? "pkt/s" : "bit/s",
		 grouping_name(t->group), paused ? "  [paused]" : "");
	attroff(A_BOLD);
	mvprintw(1, 0, "keys: s sort  g group  p pause  q quit");
	if (!v->secs) {
		mvprintw(3, 0, "waiting for the first interval...");
		refresh();
		return;
	}
	totals_line(v, line, sizeof(line));
	mvprintw(2, 0, "%s  %s", v->when, line);
	attron(A_REVERSE);
	snprintf(line, sizeof(line), "%s  ", header);
	cols_text(t, v, NULL, line + strlen(line), sizeof(line) - strlen(line));
	mvprintw(4, 0, "%-*.*s", COLS, COLS, line);
	attroff(A_REVERSE);
	room = rows > 5 ? rows - 5 : 0;
	n = v->rows.n < room ? v->rows.n : room;
	if (t->o->top && t->o->top < n)
		n = t->o->top;
	for (i = 0; i < n; i++) {
		row_text(t, v, &v->rows.rows[i], line, sizeof(line));
		mvprintw(5 + i, 0, "%.*s", COLS, line);
	}
	refresh();
}

static size_t next_grouping(unsigned int group)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(groupings); i++)
		if (groupings[i].group == group)
			return (i + 1) % ARRAY_SIZE(groupings);
	return 0;
}

static int run_screen(struct top *t)
{
	struct view v = {};
	__u64 due;
	bool paused = false, quit = false;
	int err, ch, wait_ms;

	err = sample(t, &v);
	if (err < 0)
		return err;
	initscr();
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	draw(t, &v, paused);
	due = fa_mono_ns() + t->o->interval_ms * 1000000ull;
	while (!quit) {
		wait_ms = (int)((due - fa_mono_ns()) / 1000000);
		timeout(wait_ms > 0 ? wait_ms : 0);
		ch = getch();
		switch (ch) {
		case 'q':
		case 'Q':
			quit = true;
			continue;
		case 's':
			t->sort = t->sort == FA_SORT_BYTES ? FA_SORT_PACKETS : FA_SORT_BYTES;
			fa_table_sort(&v.rows, t->sort);
			break;
		case 'g':
			/* Takes effect at the next interval: the rows here are
			 * grouped already. */
			t->group = groupings[next_grouping(t->group)].group;
			break;
		case 'p':
			paused = !paused;
			break;
		}
		if (ch == ERR || fa_mono_ns() >= due) {
			due += t->o->interval_ms * 1000000ull;
			if (!paused) {
				err = sample(t, &v);
				if (err < 0)
					break;
			}
		}
		draw(t, &v, paused);
	}
	endwin();
	view_free(&v);
	return err < 0 ? err : 0;
}

static int do_top(void *opts, int argc, char **argv)
{
	struct top t = { .o = opts, .ifname = argc ? argv[0] : NULL };
	int err;

	t.group = t.o->group;
	t.sort = t.o->sort;
	t.view = t.o->view;
	/* A group by process or cgroup shows who, after the line. */
	if ((t.group & FA_GROUP_PROCESS) && t.view.ncols < FA_MAX_COLS)
		t.view.cols[t.view.ncols++] = FA_COL_PROCESS;
	if ((t.group & FA_GROUP_CGROUP) && t.view.ncols < FA_MAX_COLS)
		t.view.cols[t.view.ncols++] = FA_COL_CGROUP;
	err = isatty(STDOUT_FILENO) && isatty(STDIN_FILENO) && !cli.json ?
	      run_screen(&t) : run_plain(&t);
	fa_snapshot_free(&t.prev);
	return err;
}

const struct command cmd_top = {
	.name = "top",
	.args = "[IFACE]",
	.summary = "live rates per flow or group, refreshed every interval",
	.details = "On a terminal: keys s (sort by bit/s or pkt/s), g (grouping), p (pause),\n"
		   "q (quit). Otherwise a plain table per interval. Rates are IP-layer bits\n"
		   "and packets per second; the totals come from the hooks' counters.",
	.opts = top_options,
	.opts_size = sizeof(struct top_opts),
	.defaults = &defaults_top,
	.need = NEED_ROOT | NEED_BPFFS_SEEN,
	.max_args = 1,
	.run = do_top,
};
