// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * journalcost: what writing a tick's journal costs per record, the way the
 * daemon does it today and the ways it could. A standalone tool of
 * tests/bench (tests/bench/profile_run.sh's companion), not part of the
 * daemon.
 *
 *   journalcost [--records N] [--ticks T] [--max-entries M]
 *
 * A tick writes N records (struct fa_record, keyed by sequence number) and
 * N changes (struct fa_journal_change, keyed by struct flow_key), then
 * empties both, as lib/stream.c's steps 4 and 7 do; T ticks, CPU time per
 * record (user + system, getrusage) for each way. The maps are sized M
 * (default 2N + 16); the daemon sizes them 2 x cache size + 2 x max flows +
 * 16 (lib/stream.c journal_size(): 1048592 with the defaults), and a
 * larger table spreads the same entries over more buckets.
 *
 *  - hash maps with BPF_F_NO_PREALLOC, batch update and batch delete
 *    (today's journal_records and journal_changes);
 *  - the same maps preallocated;
 *  - an append-only log in a file on tmpfs (/run) mapped MAP_SHARED: the
 *    records and changes copied in, then a count published with a release
 *    store (what a commit would flip); emptying is resetting the count.
 *    Pages of a MAP_SHARED tmpfs mapping outlive a killed process, as a
 *    pinned map does.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "flow_kern_user.h"
#include "flow_pins.h"

#define BATCH 4096	/* lib/stream.c's */

struct tick {
	__u64 *seqs;
	struct fa_record *recs;
	struct flow_key *keys;
	struct fa_journal_change *chg;
	__u32 n;
	__u32 max;	/* the maps' max_entries */
};

static double cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int batch_update(int fd, const void *keys, const void *vals, __u32 n,
			size_t ksz, size_t vsz)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 done = 0, count;

	while (done < n) {
		count = n - done > BATCH ? BATCH : n - done;
		if (bpf_map_update_batch(fd, (const char *)keys + done * ksz,
					 (const char *)vals + done * vsz, &count, &opts))
			return -errno;
		done += count;
	}
	return 0;
}

static int batch_delete(int fd, const void *keys, __u32 n, size_t ksz)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 done = 0, count;

	while (done < n) {
		count = n - done > BATCH ? BATCH : n - done;
		if (bpf_map_delete_batch(fd, (const char *)keys + done * ksz, &count, &opts))
			return -errno;
		done += count;
	}
	return 0;
}

/* Today's journal, in maps created with @flags. */
static int maps_way(const struct tick *t, __u32 ticks, __u32 flags, double *cpu)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
	int rfd, cfd, err = 0;
	double c0;
	__u32 i;

	rfd = bpf_map_create(BPF_MAP_TYPE_HASH, "jc_records", sizeof(__u64),
			     sizeof(struct fa_record), t->max, &opts);
	cfd = bpf_map_create(BPF_MAP_TYPE_HASH, "jc_changes", sizeof(struct flow_key),
			     sizeof(struct fa_journal_change), t->max, &opts);
	if (rfd < 0 || cfd < 0) {
		err = -errno;
		goto out;
	}
	c0 = cpu_now();
	for (i = 0; i < ticks && !err; i++) {
		err = batch_update(rfd, t->seqs, t->recs, t->n, sizeof(*t->seqs),
				   sizeof(*t->recs));
		if (!err)
			err = batch_update(cfd, t->keys, t->chg, t->n, sizeof(*t->keys),
					   sizeof(*t->chg));
		if (!err)
			err = batch_delete(rfd, t->seqs, t->n, sizeof(*t->seqs));
		if (!err)
			err = batch_delete(cfd, t->keys, t->n, sizeof(*t->keys));
	}
	*cpu = cpu_now() - c0;
out:
	if (rfd >= 0)
		close(rfd);
	if (cfd >= 0)
		close(cfd);
	return err;
}

/* A log in a MAP_SHARED mapping of a tmpfs file. */
struct log_head {
	__u64 committed;	/* entries of the tick, published last */
	__u64 gen;
};

static int file_way(const struct tick *t, __u32 ticks, double *cpu)
{
	char path[] = "/run/flowacct-journalcost-XXXXXX";
	size_t size = sizeof(struct log_head) +
		      (size_t)t->n * (sizeof(*t->recs) + sizeof(*t->keys) + sizeof(*t->chg));
	struct log_head *h;
	char *p;
	double c0;
	__u32 i;
	int fd;

	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	unlink(path);	/* the mapping keeps it; nothing is left behind */
	if (ftruncate(fd, size)) {
		close(fd);
		return -errno;
	}
	h = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (h == MAP_FAILED)
		return -errno;
	c0 = cpu_now();
	for (i = 0; i < ticks; i++) {
		p = (char *)(h + 1);
		memcpy(p, t->recs, t->n * sizeof(*t->recs));
		p += t->n * sizeof(*t->recs);
		memcpy(p, t->keys, t->n * sizeof(*t->keys));
		p += t->n * sizeof(*t->keys);
		memcpy(p, t->chg, t->n * sizeof(*t->chg));
		/* The commit: the count after the entries it covers. */
		__atomic_store_n(&h->committed, t->n, __ATOMIC_RELEASE);
		h->gen++;
		/* Emptied: the next tick overwrites it. */
		__atomic_store_n(&h->committed, 0, __ATOMIC_RELEASE);
	}
	*cpu = cpu_now() - c0;
	munmap(h, size);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "records", required_argument, NULL, 'n' },
		{ "ticks", required_argument, NULL, 't' },
		{ "max-entries", required_argument, NULL, 'm' },
		{}
	};
	struct tick t = { .n = 20000 };
	__u32 ticks = 20, i;
	double cpu;
	int c, err;

	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			t.n = strtoul(optarg, NULL, 0);
			break;
		case 't':
			ticks = strtoul(optarg, NULL, 0);
			break;
		case 'm':
			t.max = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "Usage: journalcost [--records N] [--ticks T] [--max-entries M]\n");
			return EXIT_FAILURE;
		}
	}
	if (!t.max)
		t.max = t.n * 2 + 16;
	if (!t.n || !ticks || t.max < t.n) {
		fprintf(stderr, "journalcost: --records and --ticks must be positive, --max-entries at least --records\n");
		return EXIT_FAILURE;
	}
	t.seqs = calloc(t.n, sizeof(*t.seqs));
	t.recs = calloc(t.n, sizeof(*t.recs));
	t.keys = calloc(t.n, sizeof(*t.keys));
	t.chg = calloc(t.n, sizeof(*t.chg));
	if (!t.seqs || !t.recs || !t.keys || !t.chg) {
		fprintf(stderr, "journalcost: out of memory\n");
		return EXIT_FAILURE;
	}
	for (i = 0; i < t.n; i++) {
		t.seqs[i] = i + 1;
		t.recs[i].seq = i + 1;
		memcpy(t.keys[i].src, &i, sizeof(i));	/* distinct keys */
		t.keys[i].proto = 17;
		t.recs[i].key = t.keys[i];
	}
	printf("A tick of %u records and %u changes written and emptied, %u ticks, maps of %u entries; CPU per record:\n\n",
	       t.n, t.n, ticks, t.max);
	printf("| journal | ns per record (a record and a change) |\n|---|---:|\n");
	err = maps_way(&t, ticks, BPF_F_NO_PREALLOC, &cpu);
	if (err)
		goto fail;
	printf("| hash maps, BPF_F_NO_PREALLOC (today) | %.0f |\n", cpu * 1e9 / ((double)t.n * ticks));
	err = maps_way(&t, ticks, 0, &cpu);
	if (err)
		goto fail;
	printf("| hash maps, preallocated | %.0f |\n", cpu * 1e9 / ((double)t.n * ticks));
	err = file_way(&t, ticks, &cpu);
	if (err)
		goto fail;
	printf("| a log in a MAP_SHARED file on tmpfs | %.0f |\n", cpu * 1e9 / ((double)t.n * ticks));
	return EXIT_SUCCESS;
fail:
	fprintf(stderr, "journalcost: %s\n", strerror(-err));
	return EXIT_FAILURE;
}
