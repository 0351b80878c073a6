// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mapmem: what a flow costs in kernel memory in each candidate map layout,
 * measured from the kernel's own accounting. A standalone tool of
 * tests/bench (tests/bench/profile_run.sh's companion), not part of the
 * daemon.
 *
 *   mapmem [--entries N] [--fill N]
 *
 * For each map type (HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH), with
 * and without BPF_F_NO_PREALLOC where the kernel allows it, and each
 * key/value pair (flowacct's struct flow_key and struct flow_map_value, and
 * smaller or atomically updated candidates), it creates a map of N entries,
 * fills FILL of them, and prints the map's memlock (the kernel's
 * map_mem_usage, /proc/self/fdinfo) per filled entry; then the same figure
 * computed with the kernel's formula (kernel/bpf/hashtab.c,
 * htab_map_mem_usage) for this machine's possible CPUs (a check of the
 * formula against the measurement) and for 2, 64 and 256. memlock counts
 * what the map asks for; the allocators round each object up to their size
 * classes on top of it (not counted here).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "flow_kern_user.h"

#define ROUND8(x) (((x) + 7ULL) & ~7ULL)

/*
 * The sizes hashtab.c adds up (Linux 6.x): struct htab_elem before the key
 * (an hlist_nulls_node, a union of pointers and an LRU node, the hash),
 * struct bucket (an hlist_nulls_head and a lock), struct llist_node per
 * element of a map that allocates as it goes, and the per-CPU lock counters.
 */
#define HTAB_ELEM_HDR	48
#define BUCKET_SIZE	16
#define LLIST_NODE	8
#define LOCK_COUNT	8	/* HASHTAB_MAP_LOCK_COUNT */

struct layout {
	const char *what;
	__u32 key_size;
	__u32 value_size;
};

static const struct layout layouts[] = {
	{ "flowacct: flow_key 44 + flow_map_value 24", FLOW_KEY_SIZE_OFF,
	  sizeof(struct flow_map_value) },
	{ "flowacct shared: flow_key 44 + flow_shared_value 48", FLOW_KEY_SIZE_OFF,
	  sizeof(struct flow_shared_value) },
	{ "atomic counters: key 44 + packets, bytes, two u64 times 32", FLOW_KEY_SIZE_OFF,
	  32 },
	{ "smaller key (no ifindex, direction in the table) 40 + 24", 40, 24 },
	{ "minimal: key 44 + packets, bytes 16", FLOW_KEY_SIZE_OFF, 16 },
};

struct mtype {
	const char *name;
	__u32 type;
	int percpu;
	int lru;
};

static const struct mtype mtypes[] = {
	{ "HASH", BPF_MAP_TYPE_HASH, 0, 0 },
	{ "PERCPU_HASH", BPF_MAP_TYPE_PERCPU_HASH, 1, 0 },
	{ "LRU_HASH", BPF_MAP_TYPE_LRU_HASH, 0, 1 },
	{ "LRU_PERCPU_HASH", BPF_MAP_TYPE_LRU_PERCPU_HASH, 1, 1 },
};

static unsigned long long roundup_pow2(unsigned long long n)
{
	unsigned long long p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

/*
 * htab_map_mem_usage() without sizeof(struct bpf_htab) (a constant), for
 * @ncpus possible CPUs and @filled elements.
 */
static unsigned long long formula(const struct mtype *t, int prealloc,
				  const struct layout *l, unsigned long long max,
				  unsigned long long filled, unsigned long long ncpus)
{
	unsigned long long v = ROUND8(l->value_size), n, elem, usage;

	elem = HTAB_ELEM_HDR + ROUND8(l->key_size) + (t->percpu ? 8 : v);
	usage = BUCKET_SIZE * roundup_pow2(max) + 4 * ncpus * LOCK_COUNT;
	if (prealloc) {
		n = max;
		if (!t->percpu && !t->lru)
			n += ncpus;	/* a spare element per CPU for updates */
		usage += elem * n;
		if (t->percpu)
			usage += v * ncpus * n;
		else if (!t->lru)
			usage += 8 * ncpus;
	} else {
		usage += (elem + LLIST_NODE) * filled;
		/* The per-CPU part: its own allocation and a pointer to it. */
		if (t->percpu)
			usage += (LLIST_NODE + 8 + v * ncpus) * filled;
	}
	return usage;
}

static long long fdinfo_memlock(int fd)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static int measure(const struct mtype *t, int prealloc, const struct layout *l,
		   __u32 max, __u32 fill, int ncpus)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	size_t vsz = ROUND8(l->value_size) * (t->percpu ? ncpus : 1);
	unsigned char key[64] = {}, *val;
	long long lock;
	int fd, err = 0;
	__u32 i;

	if (!prealloc)
		opts.map_flags = BPF_F_NO_PREALLOC;
	val = calloc(1, vsz);
	if (!val)
		return -ENOMEM;
	fd = bpf_map_create(t->type, "mapmem", l->key_size, l->value_size, max, &opts);
	if (fd < 0) {
		err = -errno;
		/* ENOTSUPP (524, kernel-internal): LRU maps always preallocate. */
		printf("| %s | %s | %s | refused (errno %d) | | | | |\n",
		       t->name, prealloc ? "prealloc" : "NO_PREALLOC", l->what,
		       -err);
		free(val);
		return 0;
	}
	for (i = 0; i < fill; i++) {
		memcpy(key, &i, sizeof(i));
		val[0] = 1;
		if (bpf_map_update_elem(fd, key, val, BPF_NOEXIST)) {
			err = -errno;
			break;
		}
	}
	lock = fdinfo_memlock(fd);
	printf("| %s | %s | %s | %.0f | %.0f | %.0f | %.0f | %.0f |\n",
	       t->name, prealloc ? "prealloc" : "NO_PREALLOC", l->what,
	       (double)lock / i,
	       (double)formula(t, prealloc, l, max, i, ncpus) / i,
	       (double)formula(t, prealloc, l, max, i, 2) / i,
	       (double)formula(t, prealloc, l, max, i, 64) / i,
	       (double)formula(t, prealloc, l, max, i, 256) / i);
	fflush(stdout);
	close(fd);
	free(val);
	if (err)
		fprintf(stderr, "mapmem: %s filled %u of %u: %s\n", t->name, i, fill,
			strerror(-err));
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "entries", required_argument, NULL, 'n' },
		{ "fill", required_argument, NULL, 'f' },
		{}
	};
	__u32 max = 262144, fill = 0;
	int ncpus, c, p;
	size_t t, l;

	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			max = strtoul(optarg, NULL, 0);
			break;
		case 'f':
			fill = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "Usage: mapmem [--entries N] [--fill N]\n");
			return EXIT_FAILURE;
		}
	}
	if (!fill || fill > max)
		fill = max;
	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 0) {
		fprintf(stderr, "mapmem: can't count the possible CPUs\n");
		return EXIT_FAILURE;
	}
	printf("Maps of %u entries, %u filled, %d possible CPUs here. Bytes per filled entry:\n"
	       "memlock (the kernel's map_mem_usage), and htab_map_mem_usage's formula here\n"
	       "and for 2, 64 and 256 possible CPUs (without sizeof(struct bpf_htab), about\n"
	       "1 KiB a map).\n\n", max, fill, ncpus);
	printf("| map type | allocation | key + value | memlock | formula here | 2 CPUs | 64 CPUs | 256 CPUs |\n");
	printf("|---|---|---|---:|---:|---:|---:|---:|\n");
	for (l = 0; l < sizeof(layouts) / sizeof(layouts[0]); l++)
		for (t = 0; t < sizeof(mtypes) / sizeof(mtypes[0]); t++)
			for (p = 1; p >= 0; p--)
				measure(&mtypes[t], p, &layouts[l], max, fill, ncpus);
	return EXIT_SUCCESS;
}
