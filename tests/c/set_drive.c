// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * set_drive: one program set (lib/set.c) linked to many interfaces, its
 * books read per interface, for test_set.sh and the bench.
 *
 *   set_drive [--tc-api auto|tcx|clsact] [--ingress auto|tc|xdp|xdp-skb]
 *             [--max-flows N] [--options all] IFNAME...
 *
 * Loads the programs once (tables of N flows, 65536 by default, shared),
 * then joins each interface in turn and prints "joined NAME IFINDEX MS
 * HOOK API" (the milliseconds the join took) and, once all have joined,
 * "memlock BYTES MAPS" (the kernel's accounting of the set's maps, from
 * /proc/self/fdinfo) and "ready". The programs are not loaded again: the
 * load's own time is printed first, as "loaded MS". When its standard input ends, or
 * on SIGTERM, it unlinks every interface, waits for a grace period, reads
 * both tables and every interface's counters and overflow rows, forgets
 * the interfaces, and prints one JSON line per interface:
 *   {"iface","ifindex","seen":[in,out],"accounted":[in,out],
 *    "accounted_bytes":[in,out],"reasons":[in,out],"rows":[in,out],
 *    "row_packets":[in,out],"row_bytes":[in,out],"overflow":[in,out],
 *    "balanced":bool}
 * rows counting the overflow row as one (the rows come through a drain
 * file, as a daemon drains them); then one line for interface 0
 * (what came from no interface of the set: must be all zero) and
 * {"left_rows": N, "left_overflow_rows": M}: the counters and overflow rows
 * the set still holds after forgetting (must be only interface 0's: 2, 4).
 * Interfaces with rows and no member (a member undone at adopt) are said
 * ("orphan IFINDEX"), and their books printed with an empty name.
 * --go-on yes: a join that fails is said, and the others go on.
 *
 * --pin NAME pins the set (under /sys/fs/bpf/flowacct/NAME) before the
 * joins; --adopt NAME opens a pinned set instead of loading one ("adopted
 * MS", then "member NAME IFINDEX" for each member it finds), joins the
 * interfaces given, if any, and ends as above with every member. A pinned
 * set is removed at the end ("removed NAME ERR"); killed, it stays, its
 * links counting, for the next --adopt.
 */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "libflowacct.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static double ms_since(__u64 t0)
{
	return (fa_mono_ns() - t0) / 1e6;
}

struct books {
	struct fa_hook_stats st[FLOW_NR_DIRS];
	__u64 rows[FLOW_NR_DIRS], packets[FLOW_NR_DIRS], bytes[FLOW_NR_DIRS];
};

static __u64 reasons(const struct fa_hook_stats *st)
{
	__u64 sum = 0;
	int i;

	for (i = 0; i < FLOW_NR_COUNTERS; i++)
		if (fa_counter_kind(i) == FLOW_CK_REASON)
			sum += st->c[i];
	return sum;
}

static bool balanced(const struct fa_hook_stats *st)
{
	return st->c[FLOW_C_SEEN] == st->c[FLOW_C_ACCOUNTED] + reasons(st);
}

/* @ifindex's counters, and its rows among the drained (overflow rows too). */
static int read_books(const struct fa_set *s, __u32 ifindex, const struct fa_table *t,
		      struct books *b)
{
	size_t i;
	int dir, err;

	memset(b, 0, sizeof(*b));
	err = fa_stats_read(s->fd[FA_PIN_STATS], ifindex, b->st);
	if (err)
		return err;
	for (i = 0; i < t->n; i++) {
		const struct fa_row *r = &t->rows[i];

		if (r->key.ifindex != ifindex)
			continue;
		dir = r->key.direction & 1;
		b->rows[dir]++;
		b->packets[dir] += r->val.packets;
		b->bytes[dir] += r->val.bytes;
	}
	return 0;
}

/*
 * Both tables through a drain file, as a daemon drains a set: the rows
 * and every interface's overflow rows (interface 0's too), into @t.
 */
static int drain_all(const struct fa_set *s, const __u32 *ifx, size_t n, struct fa_table *t)
{
	struct fa_drainfile *df;
	struct fa_row *rows;
	char name[64];
	size_t i, nrows;
	int err, table;

	snprintf(name, sizeof(name), "set-drive-%d", (int)getpid());
	/* Sized for the set's bound: the file's size never follows its members. */
	err = fa_drainfile_open(name, s->opts.max_flows, FLOW_SET_MAX_IFACES + 1,
				s->opts.shared, getpid(), &df);
	for (table = 0; table < FLOW_NR_EPOCHS && !err; table++) {
		err = fa_drainfile_drain(df, NULL, s->fd, table, false, ifx, n, table + 1,
					 &rows, &nrows);
		for (i = 0; i < nrows && !err; i++)
			err = fa_table_append(t, &rows[i].key, &rows[i].val, rows[i].kind);
	}
	if (df)
		fa_drainfile_close(df);
	fa_drainfile_remove(name);
	return err;
}

static void print_books(const char *name, __u32 ifindex, const struct books *b)
{
	const struct fa_hook_stats *st = b->st;

#define PAIR(x) (uint64_t)(x)[FLOW_DIR_INGRESS], (uint64_t)(x)[FLOW_DIR_EGRESS]
	printf("{\"iface\":\"%s\",\"ifindex\":%u,"
	       "\"seen\":[%" PRIu64 ",%" PRIu64 "],"
	       "\"accounted\":[%" PRIu64 ",%" PRIu64 "],"
	       "\"accounted_bytes\":[%" PRIu64 ",%" PRIu64 "],"
	       "\"reasons\":[%" PRIu64 ",%" PRIu64 "],"
	       "\"rows\":[%" PRIu64 ",%" PRIu64 "],"
	       "\"row_packets\":[%" PRIu64 ",%" PRIu64 "],"
	       "\"row_bytes\":[%" PRIu64 ",%" PRIu64 "],"
	       "\"overflow\":[%" PRIu64 ",%" PRIu64 "],"
	       "\"balanced\":%s}\n",
	       name, ifindex,
	       (uint64_t)st[FLOW_DIR_INGRESS].c[FLOW_C_SEEN],
	       (uint64_t)st[FLOW_DIR_EGRESS].c[FLOW_C_SEEN],
	       (uint64_t)st[FLOW_DIR_INGRESS].c[FLOW_C_ACCOUNTED],
	       (uint64_t)st[FLOW_DIR_EGRESS].c[FLOW_C_ACCOUNTED],
	       (uint64_t)st[FLOW_DIR_INGRESS].c[FLOW_C_ACCOUNTED_BYTES],
	       (uint64_t)st[FLOW_DIR_EGRESS].c[FLOW_C_ACCOUNTED_BYTES],
	       (uint64_t)reasons(&st[FLOW_DIR_INGRESS]),
	       (uint64_t)reasons(&st[FLOW_DIR_EGRESS]),
	       PAIR(b->rows), PAIR(b->packets), PAIR(b->bytes),
	       (uint64_t)st[FLOW_DIR_INGRESS].c[FLOW_C_OVERFLOW],
	       (uint64_t)st[FLOW_DIR_EGRESS].c[FLOW_C_OVERFLOW],
	       balanced(&st[0]) && balanced(&st[1]) ? "true" : "false");
#undef PAIR
}

/* Rows a per-interface hash of the set holds (interface 0's among them). */
static long count_rows(int fd)
{
	struct flow_slot_key k, next;
	long n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

/* The set's maps as the kernel accounts them: fdinfo's memlock. */
static void print_memlock(const struct fa_set *s)
{
	unsigned long long total = 0, v;
	char path[64], line[256];
	int i, maps = 0;
	FILE *f;

	for (i = 0; i < FA_NR_PINS; i++) {
		if (s->fd[i] < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", s->fd[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "memlock: %llu", &v) == 1) {
				total += v;
				maps++;
			}
		fclose(f);
	}
	printf("memlock %llu %d\n", total, maps);
	printf("map_ids");
	for (i = 0; i < FA_NR_PINS; i++) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);

		if (s->fd[i] >= 0 && !bpf_obj_get_info_by_fd(s->fd[i], &info, &len))
			printf(" %u", info.id);
	}
	printf("\n");
}

/*
 * libbpf's warnings, but for the one every open of the programs gives (the
 * section libxdp reads): a test expects one line for an error.
 */
static int lib_quiet(enum fa_lib_level level, const char *fmt, va_list ap)
{
	if (level != FA_LIB_WARN || strstr(fmt, "skipping unrecognized data section"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int parse_ingress(const char *s)
{
	if (!strcmp(s, "tc"))
		return FA_INGRESS_TC;
	if (!strcmp(s, "xdp"))
		return FA_INGRESS_XDP_NATIVE;
	if (!strcmp(s, "xdp-skb"))
		return FA_INGRESS_XDP_SKB;
	return 0;
}

int main(int argc, char **argv)
{
	struct fa_load_opts lo = { .shared = true, .max_flows = 65536 };
	const char *pin = NULL, *adopt = NULL;
	char (*names)[IF_NAMESIZE];
	struct fa_set_member *m;
	struct fa_table t = {};
	struct fa_sync sync;
	struct fa_set s;
	int tc_ask = FA_TC_ASK_AUTO, ingress = 0, first = 1, i, err;
	size_t n = 0, cap, nrows = 0, nall, j;
	bool go_on = false;
	char dir[64];
	__u32 *rows, *all;
	__u64 t0;

	for (; first + 1 < argc && argv[first][0] == '-'; first += 2) {
		if (!strcmp(argv[first], "--tc-api"))
			tc_ask = !strcmp(argv[first + 1], "tcx") ? FA_TC_ASK_TCX :
				 !strcmp(argv[first + 1], "clsact") ? FA_TC_ASK_CLSACT :
								     FA_TC_ASK_AUTO;
		else if (!strcmp(argv[first], "--ingress"))
			ingress = parse_ingress(argv[first + 1]);
		else if (!strcmp(argv[first], "--max-flows"))
			lo.max_flows = strtoul(argv[first + 1], NULL, 0);
		else if (!strcmp(argv[first], "--options"))
			/* "all": --attribution, --retrans and --passive-rtt. */
			lo.owners = lo.retrans = lo.passive_rtt = !strcmp(argv[first + 1], "all");
		else if (!strcmp(argv[first], "--go-on"))
			/* "yes": a join that fails is said, and the rest go on. */
			go_on = !strcmp(argv[first + 1], "yes");
		else if (!strcmp(argv[first], "--pin"))
			pin = argv[first + 1];
		else if (!strcmp(argv[first], "--adopt"))
			adopt = argv[first + 1];
	}
	if (argc - first < 1 && !adopt) {
		fprintf(stderr, "usage: set_drive [--tc-api API] [--ingress HOOK] [--max-flows N] [--options all] [--pin NAME | --adopt NAME] IFNAME...\n");
		return 2;
	}
	fa_lib_print_set(lib_quiet, lib_quiet);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	cap = argc - first + FLOW_SET_MAX_IFACES;
	m = calloc(cap, sizeof(*m));
	names = calloc(cap, sizeof(*names));
	if (!m || !names || fa_sync_open(&sync)) {
		fprintf(stderr, "set_drive: can't make the grace-period map\n");
		return 1;
	}
	/* bpffs mounted where it is not, as the command does. */
	if (fa_bpffs_prepare(true)) {
		fprintf(stderr, "%s: can't mount bpffs\n", argv[0]);
		return 1;
	}
	t0 = fa_mono_ns();
	err = adopt ? fa_set_adopt(&s, adopt, m, FLOW_SET_MAX_IFACES, &n, NULL) : fa_set_open(&s, &lo);
	if (err) {
		fprintf(stderr, "set_drive: can't %s the programs: %s\n", adopt ? "adopt" : "load",
			strerror(-err));
		return 1;
	}
	printf("%s %.3f\n", adopt ? "adopted" : "loaded", ms_since(t0));
	for (i = 0; i < (int)n; i++) {
		if_indextoname(m[i].ifindex, names[i]);
		printf("member %s %d\n", names[i], m[i].ifindex);
	}
	/* Rows no member has: a member undone at adopt, to be read and forgotten. */
	rows = calloc(FLOW_SET_MAX_IFACES, sizeof(*rows));
	all = calloc(FLOW_SET_MAX_IFACES + cap + 1, sizeof(*all));
	if (!rows || !all || fa_set_rows_list(&s, rows, FLOW_SET_MAX_IFACES, &nrows))
		return 1;
	for (j = 0; j < nrows; j++) {
		for (i = 0; i < (int)n && (__u32)m[i].ifindex != rows[j]; i++)
			;
		if (i == (int)n)
			printf("orphan %u\n", rows[j]);
	}
	if (pin) {
		err = fa_set_pin(&s, pin);
		if (err) {
			fprintf(stderr, "set_drive: can't pin the set: %s\n", strerror(-err));
			return 1;
		}
	}
	for (i = first; i < argc; i++, n++) {
		int ifindex = if_nametoindex(argv[i]);

		if (!ifindex) {
			fprintf(stderr, "set_drive: no interface '%s'\n", argv[i]);
			return 1;
		}
		snprintf(names[n], sizeof(names[n]), "%s", argv[i]);
		t0 = fa_mono_ns();
		err = fa_set_join(&s, ifindex, ingress, tc_ask, &m[n]);
		if (err) {
			fprintf(stderr, "set_drive: can't join '%s': %s\n", argv[i], strerror(-err));
			if (!go_on)
				return 1;
			n--;
			continue;
		}
		printf("joined %s %d %.3f %s %s\n", argv[i], ifindex, ms_since(t0),
		       fa_ingress_name(m[n].ingress), fa_tc_api_name(m[n].tc_api));
	}
	print_memlock(&s);
	printf("ready\n");
	fflush(stdout);

	while (!stop) {
		struct pollfd p = { .fd = 0, .events = POLLIN };
		char buf[256];

		if (poll(&p, 1, 200) > 0 && read(0, buf, sizeof(buf)) <= 0)
			break;
	}

	for (i = 0; i < (int)n; i++)
		if (fa_set_unlink(&s, &m[i]))
			fprintf(stderr, "set_drive: can't unlink '%s'\n", names[i]);
	/* No program run that saw one of them is still adding to the tables. */
	err = fa_sync_wait(&sync);
	/* Every interface with rows: the members, then any other, then 0. */
	nall = 0;
	for (i = 0; i < (int)n; i++)
		all[nall++] = m[i].ifindex;
	if (!err)
		err = fa_set_rows_list(&s, rows, FLOW_SET_MAX_IFACES, &nrows);
	for (j = 0; !err && j < nrows; j++) {
		for (i = 0; i < (int)nall && all[i] != rows[j]; i++)
			;
		if (i == (int)nall)
			all[nall++] = rows[j];
	}
	all[nall++] = 0;
	if (!err)
		err = drain_all(&s, all, nall, &t);
	if (err) {
		fprintf(stderr, "set_drive: can't read the tables: %s\n", strerror(-err));
		return 1;
	}
	for (j = 0; j < nall; j++) {
		struct books b;

		err = read_books(&s, all[j], &t, &b);
		if (err) {
			fprintf(stderr, "set_drive: can't read the books of %u: %s\n", all[j],
				strerror(-err));
			return 1;
		}
		print_books(j < n ? names[j] : "", all[j], &b);
		if (all[j] && fa_set_forget(&s, all[j]))
			fprintf(stderr, "set_drive: can't forget %u\n", all[j]);
	}
	printf("{\"left_rows\":%ld,\"left_overflow_rows\":%ld}\n",
	       count_rows(s.fd[FA_PIN_STATS]), count_rows(s.fd[FA_PIN_OVERFLOW]));
	snprintf(dir, sizeof(dir), "%s", s.dir);
	fa_table_free(&t);
	fa_set_close(&s);
	if (dir[0]) {
		err = fa_set_remove(dir);
		printf("removed %s %d\n", dir, err);
	}
	fa_sync_close(&sync);
	free(rows);
	free(all);
	free(names);
	free(m);
	return 0;
}
