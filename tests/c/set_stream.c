// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * set_stream: a daemon's stream of records (lib/stream.c) on one pinned
 * program set (lib/set.c): one flip, one wait and one drain a tick for
 * every member, records named per interface, an interface that leaves
 * flushed in its last tick with its own counters line; for test_set.sh.
 *
 *   set_stream [--tc-api API] [--interval MS] [--timeouts ACTIVE,IDLE]
 *              [--cache-size N] (--pin NAME | --adopt NAME) RECORDS IFNAME...
 *
 * Pins a new set as NAME (or adopts the one pinned as NAME), joins each
 * IFNAME, names it in the stream's books, prints "ready" and ticks every MS
 * (100), the cache's timeouts ACTIVE and IDLE ms (1800 s, 15 s), appending records and counters lines, JSON as `flowacct run
 * --json` writes them, to the file RECORDS. Standard input takes commands:
 *   "leave IFNAME": unlinked at once, its flows out as forced in the next
 *                   tick, then its counters line, its rows and books gone
 *                   ("left IFNAME" once done);
 *   "rename IFNAME NEW": its records are named NEW from the next tick.
 * At its end (EOF, SIGTERM) every member leaves in one last tick with every
 * flow, each gets its counters line, and the set is removed ("removed NAME
 * ERR"). Adopted, interfaces whose rows wait without a member (a leave a
 * kill cut short) leave in the first tick. Built with the crash points
 * (set_stream-crash), FLOWACCT_CRASH_AT=POINT:N kills it at the Nth time a
 * tick passes POINT.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* White-box: the stream (fa_stream_*) is the engine's, declared in internal.h. */
#include "internal.h"
#include "out.h"
#include "report.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

struct driver {
	struct fa_set set;
	struct fa_stream s;
	struct fa_sync sync;
	struct fa_set_member m[FLOW_SET_MAX_IFACES];
	size_t n;
	__u32 leave[FLOW_SET_MAX_IFACES + 1];
	size_t nleave;
	int out;			/* the records file */
};

static int lib_quiet(enum fa_lib_level level, const char *fmt, va_list ap)
{
	if (level != FA_LIB_WARN || strstr(fmt, "skipping unrecognized data section"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* One write per batch, as the JSON sink does. */
static int write_out(int fd, const char *buf, size_t len)
{
	ssize_t w;

	while (len) {
		w = write(fd, buf, len);
		if (w < 0)
			return -errno;
		buf += w;
		len -= w;
	}
	return 0;
}

static int records(void *ctx, const struct fa_stream *s, const struct fa_record *recs,
		   size_t n, __u64 wall_off)
{
	struct driver *d = ctx;
	struct fa_out o;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f;
	int err;

	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	out_init(&o, f, true);
	for (i = 0; i < n; i++) {
		json_init(&o.j, f);
		fa_print_record(&o, &recs[i], fa_stream_ifname(s, recs[i].key.ifindex),
				s->rs.instance, wall_off, NULL);
		json_end_line(&o.j);
	}
	fclose(f);
	err = write_out(d->out, buf, len);
	free(buf);
	return err;
}

static void counters(struct driver *d, __u32 ifindex)
{
	char *buf;
	size_t len;

	if (!fa_counters_line(&d->s, ifindex, &buf, &len))
		write_out(d->out, buf, len);
	free(buf);
}

static int member_by_name(const struct driver *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (!strcmp(fa_stream_ifname(&d->s, d->m[i].ifindex), name))
			return i;
	return -1;
}

/* Off its device now; its flows leave in the next tick. */
static void member_leave(struct driver *d, size_t i)
{
	int err = fa_set_unlink(&d->set, &d->m[i]);

	if (err)
		fprintf(stderr, "set_stream: can't unlink %d: %s\n", d->m[i].ifindex,
			strerror(-err));
	d->leave[d->nleave++] = d->m[i].ifindex;
	d->m[i] = d->m[--d->n];
}

/*
 * One tick: flip, wait, drain every member's rows with the leaving ones'
 * flows out (the last: both tables, every flow out); then, once committed and written, each leaving one's counters
 * line, rows and books gone.
 */
static int tick(struct driver *d, bool last)
{
	const struct fa_sink sink = { records, d };
	size_t i;
	int err;

	/* The last: every member unlinked, nothing writes either table. */
	err = last ? 0 : fa_stream_flip(&d->s);
	if (!err)
		err = fa_sync_wait(&d->sync);
	d->s.leave = d->leave;
	d->s.nleave = d->nleave;
	if (!err)
		err = last ? fa_stream_drain_other(&d->s, fa_mono_ns(), true, &sink) :
			     fa_stream_drain(&d->s, fa_mono_ns(), false, &sink);
	d->s.leave = NULL;
	d->s.nleave = 0;
	if (err)
		return err;
	for (i = 0; i < d->nleave; i++) {
		printf("left %s\n", fa_stream_ifname(&d->s, d->leave[i]));
		counters(d, d->leave[i]);
		fa_set_forget(&d->set, d->leave[i]);
		fa_stream_iface_forget(&d->s, d->leave[i]);
	}
	d->nleave = 0;
	fflush(stdout);
	return 0;
}

static void command(struct driver *d, char *line)
{
	char a[IF_NAMESIZE + 1], b[IF_NAMESIZE + 1];
	int i;

	if (sscanf(line, "leave %16s", a) == 1) {
		i = member_by_name(d, a);
		if (i >= 0)
			member_leave(d, i);
		else
			fprintf(stderr, "set_stream: no member '%s'\n", a);
	} else if (sscanf(line, "rename %16s %16s", a, b) == 2) {
		i = member_by_name(d, a);
		if (i >= 0)
			fa_stream_iface_name(&d->s, d->m[i].ifindex, b);
	}
}

int main(int argc, char **argv)
{
	static struct driver d;
	struct fa_load_opts lo = { .shared = true, .max_flows = 65536 };
	struct fa_cache_cfg cc = {
		.idle_ns = 15000000000ull, .active_ns = 1800000000000ull, .size = 65536,
	};
	const struct fa_sink sink = { records, &d };
	const char *pin = NULL, *adopt = NULL, *rec;
	int tc_ask = FA_TC_ASK_AUTO, first = 1, err, i, interval = 100;
	const __u32 *rows;
	char buf[512], dir[64];
	size_t nrows, j, k, used = 0;

	for (; first + 1 < argc && argv[first][0] == '-'; first += 2) {
		if (!strcmp(argv[first], "--tc-api"))
			tc_ask = !strcmp(argv[first + 1], "tcx") ? FA_TC_ASK_TCX :
				 !strcmp(argv[first + 1], "clsact") ? FA_TC_ASK_CLSACT :
								     FA_TC_ASK_AUTO;
		else if (!strcmp(argv[first], "--interval"))
			interval = atoi(argv[first + 1]);
		else if (!strcmp(argv[first], "--timeouts"))
			/* "ACTIVE,IDLE" in ms */
			sscanf(argv[first + 1], "%llu,%llu", &cc.active_ns, &cc.idle_ns),
			cc.active_ns *= 1000000, cc.idle_ns *= 1000000;
		else if (!strcmp(argv[first], "--cache-size"))
			cc.size = strtoul(argv[first + 1], NULL, 0);
		else if (!strcmp(argv[first], "--pin"))
			pin = argv[first + 1];
		else if (!strcmp(argv[first], "--adopt"))
			adopt = argv[first + 1];
	}
	if (first >= argc || !(pin || adopt)) {
		fprintf(stderr, "usage: set_stream [--tc-api API] [--interval MS] [--timeouts ACTIVE,IDLE] [--cache-size N] (--pin NAME | --adopt NAME) RECORDS IFNAME...\n");
		return 2;
	}
	rec = argv[first++];
	fa_lib_print_set(lib_quiet, lib_quiet);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	/* bpffs mounted where it is not, as the command does. */
	if (fa_bpffs_prepare(true)) {
		fprintf(stderr, "%s: can't mount bpffs\n", argv[0]);
		return 1;
	}
	d.out = open(rec, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (d.out < 0 || fa_sync_open(&d.sync)) {
		fprintf(stderr, "set_stream: can't open '%s' or make the grace-period map\n", rec);
		return 1;
	}
	err = adopt ? fa_set_adopt(&d.set, adopt, d.m, FLOW_SET_MAX_IFACES, &d.n, NULL) :
		      fa_set_open(&d.set, &lo);
	if (!err && pin)
		err = fa_set_pin(&d.set, pin);
	if (err) {
		fprintf(stderr, "set_stream: can't %s the set: %s\n", adopt ? "adopt" : "make",
			strerror(-err));
		return 1;
	}
	/* A killed stream's tick is finished here: its records again. */
	err = fa_stream_open(&d.s, d.set.dir, &cc, &sink);
	if (err) {
		fprintf(stderr, "set_stream: can't open the stream: %s\n", strerror(-err));
		return 1;
	}
	for (i = 0; i < (int)d.n; i++)
		printf("member %s %d\n", fa_stream_ifname(&d.s, d.m[i].ifindex), d.m[i].ifindex);
	/* Rows without a member: a leave a kill cut short, finished now. */
	err = fa_stream_rows_of(&d.s, &rows, &nrows);
	for (j = 0; !err && j < nrows; j++) {
		for (k = 0; k < d.n && (__u32)d.m[k].ifindex != rows[j]; k++)
			;
		if (rows[j] && k == d.n) {
			d.leave[d.nleave++] = rows[j];
			printf("leaving %u\n", rows[j]);
		}
	}
	for (i = first; i < argc && !err; i++) {
		int ifindex = if_nametoindex(argv[i]);

		if (!ifindex) {
			fprintf(stderr, "set_stream: no interface '%s'\n", argv[i]);
			return 1;
		}
		/* Named first: a record of it can't be written before. */
		err = fa_stream_iface_name(&d.s, ifindex, argv[i]);
		if (!err)
			err = fa_set_join(&d.set, ifindex, 0, tc_ask, &d.m[d.n]);
		if (err) {
			fprintf(stderr, "set_stream: can't join '%s': %s\n", argv[i],
				strerror(-err));
			return 1;
		}
		printf("joined %s %d %s\n", argv[i], ifindex, fa_tc_api_name(d.m[d.n].tc_api));
		d.n++;
	}
	printf("ready\n");
	fflush(stdout);

	while (!stop) {
		struct pollfd p = { .fd = 0, .events = POLLIN };
		char *nl;
		ssize_t r;

		if (poll(&p, 1, interval) <= 0) {
			err = tick(&d, false);
			if (err) {
				fprintf(stderr, "set_stream: a tick failed: %s\n", strerror(-err));
				return 1;
			}
			continue;
		}
		r = read(0, buf + used, sizeof(buf) - used - 1);
		if (r <= 0)
			break;
		used += r;
		buf[used] = '\0';
		while ((nl = strchr(buf, '\n'))) {
			*nl = '\0';
			command(&d, buf);
			memmove(buf, nl + 1, used - (nl + 1 - buf) + 1);
			used -= nl + 1 - buf;
		}
	}
	/* The end: every member leaves, every flow out. */
	while (d.n)
		member_leave(&d, 0);
	err = tick(&d, true);
	if (err) {
		fprintf(stderr, "set_stream: the last tick failed: %s\n", strerror(-err));
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s", d.set.dir);
	fa_stream_unpin(&d.s, false);
	fa_stream_close(&d.s);
	fa_set_close(&d.set);
	err = fa_set_remove(dir);
	printf("removed %s %d\n", dir, err);
	fa_sync_close(&d.sync);
	close(d.out);
	return 0;
}
