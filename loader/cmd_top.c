// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowacct top: who is using the link right now. Every interval, the rows
 * (from the daemon that owns the interface, or from its tables) against the
 * last ones (lib/rates.c): rates per flow or group, and the totals from the
 * hooks' counters, which are exact whatever happened to the rows. A full
 * screen with ncurses on a terminal; a plain table, or with -j a JSON
 * document, per interval otherwise. The line's cells are lib's columns.
 */
#include <curses.h>
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

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
	       "one row per group: src, dst, sport, dport, proto, iface, direction, process, cgroup, container, drop_reason",
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

struct top {
	const struct top_opts *o;
	struct fa_view view;	/* -o's columns, and the group's own */
	const char *ifname;
	struct fa_attach_state st;	/* ifname's attachment, to see it go */
	__u32 gone[64];			/* without IFACE: those said gone */
	size_t ngone;
	unsigned int group;
	int sort;
	struct fa_rates rates;
};

static bool said_gone(const struct top *t, __u32 ifindex)
{
	size_t i;

	for (i = 0; i < t->ngone; i++)
		if (t->gone[i] == ifindex)
			return true;
	return false;
}

/*
 * Without IFACE: an interface deleted since is said once and dropped (its
 * rows, still, out of the view). -ENODEV when every one is gone.
 */
static int drop_gone(struct top *t, struct fa_snapshot *cur)
{
	struct fa_pinned *ps;
	size_t i, k, n, live = 0;

	if (fa_open_all(&ps, &n, &(struct fa_err){}))
		return 0;	/* the snapshot says why, if anything */
	for (i = 0; i < n; i++) {
		const struct fa_attach_state *st = &ps[i].state;

		if (fa_attached_iface_exists(st)) {
			live++;
			continue;
		}
		if (!said_gone(t, st->ifindex) && t->ngone < ARRAY_SIZE(t->gone)) {
			t->gone[t->ngone++] = st->ifindex;
			pr_note("'%s' is gone: the interface was deleted; top no longer shows it",
				st->ifname);
		}
		for (k = 0; k < cur->t.n;)
			if (cur->t.rows[k].key.ifindex == st->ifindex)
				cur->t.rows[k] = cur->t.rows[--cur->t.n];
			else
				k++;
	}
	fa_close_all(ps, n);
	if (n && !live) {
		pr_err("every interface top followed is gone: they were deleted");
		return -ENODEV;
	}
	return 0;
}

/* The next interval into @iv; 1 if this was the first snapshot (nothing
 * to compare yet). */
static int sample(struct top *t, struct fa_interval *iv)
{
	struct fa_snapshot cur = {};
	__u64 now = fa_mono_ns();
	int err;

	/* A deleted interface's tables stay, still: not zeros forever. */
	if (t->ifname && !fa_attached_iface_exists(&t->st)) {
		pr_err("'%s' is gone: the interface was deleted ('flowacct detach %s' releases what it held)",
		       t->ifname, t->ifname);
		return -ENODEV;
	}
	err = snapshot_gather(t->ifname, &cur);
	if (!err && !t->ifname)
		err = drop_gone(t, &cur);
	if (err) {
		fa_snapshot_free(&cur);
		return err;
	}
	return fa_rates_next(&t->rates, &cur, now, t->group, t->sort,
			     t->view.ncols || (t->group & (FA_GROUP_PROCESS | FA_GROUP_CGROUP |
							   FA_GROUP_CONTAINER | FA_GROUP_TUNNEL)),
			     iv);
}

/* ---- lines ------------------------------------------------------------------- */

/* @group's place in groupings[], or ARRAY_SIZE(groupings) (another -g). */
static size_t grouping_at(unsigned int group)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(groupings) && groupings[i].group != group; i++)
		;
	return i;
}

static const char *grouping_name(unsigned int group)
{
	size_t i = grouping_at(group);

	return i < ARRAY_SIZE(groupings) ? groupings[i].name : "fields";
}

static const char *sort_name(const struct top *t)
{
	return t->sort == FA_SORT_PACKETS ? "pkt/s" : "bit/s";
}

/* The view of @iv as top shows it now (the g key changes the grouping). */
static struct fa_view iv_view(const struct top *t, const struct fa_interval *iv)
{
	struct fa_view v = t->view;

	v.group = t->group;
	v.names = &iv->names;
	v.rate_secs = iv->secs;
	v.top = t->o->top;
	return v;
}

/* ---- not a terminal: a table, or with -j a JSON document, per interval ------------- */

static int run_plain(struct top *t)
{
	struct fa_interval iv = {};
	struct fa_view v;
	struct fa_out o;
	__u64 done = 0;
	int err;

	err = sample(t, &iv);
	while (err >= 0) {
		usleep(t->o->interval_ms * 1000);
		err = sample(t, &iv);
		if (err)
			break;
		v = iv_view(t, &iv);
		cli_out(&o);
		fa_print_rates_doc(&o, &iv, &v, t->sort, grouping_name(t->group));
		/* A reader that went away ends us, with no error of ours. */
		if (fflush(stdout) || ferror(stdout))
			break;
		if (t->o->count && ++done == t->o->count)
			break;
	}
	fa_interval_free(&iv);
	return err < 0 ? err : 0;
}

/* ---- a terminal: the full screen -------------------------------------------------- */

static void draw(const struct top *t, const struct fa_interval *iv, bool paused)
{
	struct fa_view v = iv_view(t, iv);
	char line[512], at[16];
	size_t i, n, room;
	int rows = LINES;

	erase();
	attron(A_BOLD);
	mvprintw(0, 0, "flowacct top  %s  every %.1f s  by %s, per %s%s",
		 t->ifname ? t->ifname : "(all)", t->o->interval_ms / 1000.0,
		 sort_name(t), grouping_name(t->group), paused ? "  [paused]" : "");
	attroff(A_BOLD);
	mvprintw(1, 0, "keys: s sort  g group  p pause  q quit");
	if (!iv->secs) {
		mvprintw(3, 0, "waiting for the first interval...");
		refresh();
		return;
	}
	fa_local_hms(iv->wall_ns, at, sizeof(at));
	fa_format_rates_totals(line, sizeof(line), iv);
	mvprintw(2, 0, "%s  %s", at, line);
	attron(A_REVERSE);
	fa_format_rate_line(line, sizeof(line), &iv->rows, NULL, &v);
	mvprintw(4, 0, "%-*.*s", COLS, COLS, line);
	attroff(A_REVERSE);
	room = rows > 5 ? rows - 5 : 0;
	n = iv->rows.n < room ? iv->rows.n : room;
	if (v.top && v.top < n)
		n = v.top;
	for (i = 0; i < n; i++) {
		fa_format_rate_line(line, sizeof(line), &iv->rows, &iv->rows.rows[i], &v);
		mvprintw(5 + i, 0, "%.*s", COLS, line);
	}
	refresh();
}

static int run_screen(struct top *t)
{
	struct fa_interval v = {};
	__u64 due;
	size_t i;
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
			i = grouping_at(t->group) + 1;
			t->group = groupings[i < ARRAY_SIZE(groupings) ? i : 0].group;
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
	fa_interval_free(&v);
	return err < 0 ? err : 0;
}

static int do_top(void *opts, int argc, char **argv)
{
	struct top t = { .o = opts, .ifname = argc ? argv[0] : NULL };
	struct fa_err e = {};
	int err;

	if (t.ifname && fa_iface_state(t.ifname, &t.st, &e))
		return cli_err(&e);
	t.group = t.o->group;
	t.sort = t.o->sort;
	t.view = t.o->view;
	/* A group by process or cgroup shows who, after the line. */
	if ((t.group & FA_GROUP_PROCESS) && t.view.ncols < FA_MAX_COLS)
		t.view.cols[t.view.ncols++] = FA_COL_PROCESS;
	if ((t.group & FA_GROUP_CGROUP) && t.view.ncols < FA_MAX_COLS)
		t.view.cols[t.view.ncols++] = FA_COL_CGROUP;
	if ((t.group & FA_GROUP_CONTAINER) && t.view.ncols < FA_MAX_COLS)
		t.view.cols[t.view.ncols++] = FA_COL_CONTAINER;
	if ((t.group & FA_GROUP_DROP_REASON) && t.view.ncols + 1 < FA_MAX_COLS) {
		t.view.cols[t.view.ncols++] = FA_COL_DROP_REASON;
		t.view.cols[t.view.ncols++] = FA_COL_DROPS;
	}
	err = isatty(STDOUT_FILENO) && isatty(STDIN_FILENO) && !cli.json ?
	      run_screen(&t) : run_plain(&t);
	fa_rates_free(&t.rates);
	return err;
}

const struct command cmd_top = {
	.name = "top",
	.args = "[IFACE]",
	.summary = "live rates per flow or group, refreshed every interval",
	.details = "On a terminal: keys s (sort by bit/s or pkt/s), g (grouping), p (pause),\n"
		   "q (quit). Otherwise a plain table per interval; with -j one JSON document\n"
		   "per interval, one per line: time_ns, interval_s, sort (bytes|packets),\n"
		   "group_by (flow, src, ..., or fields), active_flows, totals (ingress and\n"
		   "egress: bits_per_second, packets_per_second; drops_per_second, null\n"
		   "without the drop program) and flows (dump -j's rows,\n"
		   "packets and bytes over the interval, with bits_per_second and\n"
		   "packets_per_second). Rates are IP-layer bits and packets per second; the\n"
		   "totals come from the hooks' counters.",
	.opts = top_options,
	.opts_size = sizeof(struct top_opts),
	.defaults = &defaults_top,
	.need = NEED_ROOT | NEED_BPFFS_SEEN,
	.max_args = 1,
	.run = do_top,
};
