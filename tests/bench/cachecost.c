// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cachecost: what the daemon's flow cache costs per record in user space,
 * the merge and the expiry of a tick, in a cache file as a daemon's (under
 * /run/flowacct, undo log and all). A standalone tool of tests/bench
 * (tests/bench/profile_run.sh's companion), not part of the daemon.
 *
 *   cachecost [--flows N] [--ticks T] [--size S]
 *
 * The steady state of the bench's live comparison: every tick N new flows
 * of one packet are merged, and the N of the tick before leave idle (a 1 s
 * idle timeout, ticks a second apart, expiry half a second after the
 * rows), so the cache holds N to 2N flows and a tick makes N records. Each tick reserves the file's pages,
 * merges, expires and commits, as lib/stream.c's tick does, without the
 * drain and the sinks. CPU time of the thread per record for the merge and
 * the expiry apart, the median of the ticks after the first three.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "internal.h"

#define SEC 1000000000ull
#define HZ 250ull	/* Debian's kernels' */

struct records {
	size_t n;
};

static int count_record(void *ctx, const struct fa_record *r)
{
	(void)r;
	((struct records *)ctx)->n++;
	return 0;
}

static __u64 cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * SEC + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* Flow @id as the drain gives it: one UDP datagram, IPv4, seen at @t. */
static void make_row(struct fa_row *r, __u32 id, __u64 t)
{
	memset(r, 0, sizeof(*r));
	r->key.ifindex = 2;
	r->key.ip_version = 4;
	r->key.proto = 17;
	r->key.src[10] = r->key.src[11] = 0xff;
	r->key.src[12] = 192;
	r->key.src[14] = 2;
	r->key.src[15] = 1;
	memcpy(r->key.dst, r->key.src, 16);
	r->key.dst[15] = 2;
	r->key.sport = htons(10000 + id % 50000);
	r->key.dport = htons(1 + id / 50000);
	r->val.packets = 1;
	r->val.bytes = 60;
	r->val.first_seen_ns = r->val.last_seen_ns = t;
	r->kind = FA_ROW_FLOW;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "flows", required_argument, NULL, 'n' },
		{ "ticks", required_argument, NULL, 't' },
		{ "size", required_argument, NULL, 's' },
		{}
	};
	__u32 flows = 20000, ticks = 20, size = 0;
	struct fa_cache_cfg cfg = { .idle_ns = SEC, .active_ns = 60 * SEC,
				    .quiet_ns = 2 * SEC };
	__u64 *merge_ns, *expire_ns, t0, t1, t2;
	char dirname[64];
	struct fa_cachefile *cf;
	struct fa_cache_store st;
	struct fa_cache *c;
	struct fa_row *rows;
	struct records recs;
	__u32 tick, i;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'n')
			flows = strtoul(optarg, NULL, 0);
		else if (opt == 't')
			ticks = strtoul(optarg, NULL, 0);
		else if (opt == 's')
			size = strtoul(optarg, NULL, 0);
		else
			return 2;
	}
	if (!flows || ticks < 5) {
		fprintf(stderr, "cachecost: --flows of 1 at least, --ticks of 5 at least\n");
		return 2;
	}
	cfg.size = size ? size : flows * 4;
	snprintf(dirname, sizeof(dirname), "cachecost-%d", (int)getpid());
	err = fa_cachefile_open(dirname, cfg.size, cfg.size * 2 + 2 * flows + 16, 1,
				FA_CACHEFILE_NEW, &cf);
	if (err) {
		fprintf(stderr, "cachecost: can't make the cache file: %s\n", strerror(-err));
		return 1;
	}
	fa_cachefile_store(cf, &st);
	err = fa_cache_open(&cfg, &st, false, &c);
	rows = calloc(flows, sizeof(*rows));
	merge_ns = calloc(ticks, sizeof(*merge_ns));
	expire_ns = calloc(ticks, sizeof(*expire_ns));
	if (err || !rows || !merge_ns || !expire_ns) {
		fprintf(stderr, "cachecost: out of memory\n");
		fa_cachefile_remove(dirname);
		return 1;
	}
	for (tick = 0; tick < ticks; tick++) {
		/* In no order of time, as a hash table gives them, and at
		 * the times a drain gives: jiffies (HZ), a few hundred a second. */
		for (i = 0; i < flows; i++)
			make_row(&rows[i], tick * flows + i,
				 tick * SEC + (__u64)((i * 2654435761u) % flows) * HZ / flows *
						      (SEC / HZ));
		recs.n = 0;
		/* No drops: no drop slot is taken. */
		err = fa_cachefile_reserve(cf, fa_cache_fresh(c) + flows < cfg.size ?
						   fa_cache_fresh(c) + flows : cfg.size, 0,
					   fa_cache_count(c) + flows,
					   fa_cache_count(c) + flows);
		t0 = cpu_ns();
		if (!err)
			err = fa_cache_merge(c, rows, flows, count_record, &recs);
		t1 = cpu_ns();
		if (!err)
			err = fa_cache_expire(c, tick * SEC + SEC / 2, count_record, &recs);
		fa_cache_commit(c);
		fa_cachefile_trim(cf, flows * 2, recs.n);
		t2 = cpu_ns();
		if (err) {
			fprintf(stderr, "cachecost: tick %u: %s\n", tick, strerror(-err));
			break;
		}
		merge_ns[tick] = t1 - t0;
		expire_ns[tick] = t2 - t1;
	}
	fa_cache_free(c);
	fa_cachefile_close(cf);
	fa_cachefile_remove(dirname);
	if (err)
		return 1;
	qsort(merge_ns + 3, ticks - 3, sizeof(__u64), cmp_u64);
	qsort(expire_ns + 3, ticks - 3, sizeof(__u64), cmp_u64);
	printf("cachecost: %u flows a tick, cache of %u, %u ticks: merge %.0f ns a row, expiry and commit %.0f ns a record (medians)\n",
	       flows, cfg.size, ticks, (double)merge_ns[3 + (ticks - 3) / 2] / flows,
	       (double)expire_ns[3 + (ticks - 3) / 2] / flows);
	return 0;
}
