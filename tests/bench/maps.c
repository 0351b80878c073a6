// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Map-level parts of the benchmark: emptying a table between runs, the
 * kernel's own memory accounting of each map mode (flowbench mem), and
 * filling an attached interface's table for the dump benchmark
 * (flowbench fill).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <endian.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "libflowacct.h"
#include "flowacct.skel.h"
#include "bench.h"
#include "bench_progs.skel.h"
#include "flowbench.h"

#define BATCH_ROWS 8192

static size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static bool map_type_percpu(__u32 type)
{
	return type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_PERCPU_ARRAY;
}

/* Bytes one value takes in a batch buffer: every CPU's copy if per-CPU. */
static int value_stride(const struct bpf_map_info *info, size_t *stride)
{
	int ncpus = 1;

	if (map_type_percpu(info->type)) {
		ncpus = libbpf_num_possible_cpus();
		if (ncpus < 0)
			return ncpus;
	}
	*stride = round8(info->value_size) * ncpus;
	return 0;
}

/**
 * map_clear - delete every entry of a hash map
 *
 * Batch lookup-and-delete: a bucket at a time, so it is linear in the
 * table, where get_next_key from the start after each delete is not.
 * Returns 0 or -errno.
 */
int map_clear(int fd)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info), count, in = 0, out = 0;
	bool first = true;
	void *keys, *vals;
	size_t stride;
	int err;

	if (bpf_obj_get_info_by_fd(fd, &info, &info_len))
		return -errno;
	err = value_stride(&info, &stride);
	if (err)
		return err;
	keys = calloc(BATCH_ROWS, info.key_size);
	vals = calloc(BATCH_ROWS, stride);
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		count = BATCH_ROWS;
		err = bpf_map_lookup_and_delete_batch(fd, first ? NULL : &in,
						      &out, keys, vals, &count,
						      &opts);
		if (err) {
			err = errno == ENOENT ? 0 : -errno;
			break;
		}
		first = false;
		in = out;
	}
out:
	free(keys);
	free(vals);
	return err;
}

/* What the kernel charges for the map (fdinfo "memlock"), in bytes. */
int map_memlock(int fd, __u64 *bytes)
{
	char path[64], line[256];
	unsigned long long v;
	int err = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "memlock: %llu", &v) == 1) {
			*bytes = v;
			err = 0;
			break;
		}
	}
	fclose(f);
	return err;
}

/* ---- flowbench mem ------------------------------------------------------ */

struct mem_sample {
	__u64 flows;		/* memlock of the flows map */
	__u64 others;		/* every other map of the object */
	__u64 others_percpu;	/* the per-CPU part of others */
};

static int flowacct_mem(bool shared, __u32 entries, struct mem_sample *m)
{
	struct fa_load_opts lo = {
		.shared = shared,
		.max_flows = entries,
		.progs = FA_PROG_XDP | FA_PROG_TC_EGRESS,
	};
	struct flowacct_bpf *skel;
	struct bpf_map *map;
	__u64 b;
	int err;

	err = fa_progs_load(&lo, &skel);
	if (err)
		return err;
	memset(m, 0, sizeof(*m));
	bpf_object__for_each_map(map, skel->obj) {
		err = map_memlock(bpf_map__fd(map), &b);
		if (err)
			goto out;
		/* Both epochs' tables: a flow slot is paid twice. */
		if (map == skel->maps.flows_0 || map == skel->maps.flows_1) {
			m->flows += b;
			continue;
		}
		m->others += b;
		if (map_type_percpu(bpf_map__type(map)))
			m->others_percpu += (__u64)bpf_map__max_entries(map) *
					    round8(bpf_map__value_size(map)) *
					    libbpf_num_possible_cpus();
	}
out:
	flowacct_bpf__destroy(skel);
	return err;
}

static int minimal_mem(struct bpf_map *(*pick)(struct bench_progs_bpf *),
		       __u32 entries, __u64 *bytes)
{
	struct bench_progs_bpf *skel = bench_progs_bpf__open();
	int err;

	if (!skel)
		return -errno;
	err = bpf_map__set_max_entries(pick(skel), entries);
	if (!err)
		err = bench_progs_bpf__load(skel);
	if (!err)
		err = map_memlock(bpf_map__fd(pick(skel)), bytes);
	bench_progs_bpf__destroy(skel);
	return err;
}

static struct bpf_map *pick_min_percpu(struct bench_progs_bpf *s)
{
	return s->maps.min_flows;
}

static struct bpf_map *pick_min_shared(struct bench_progs_bpf *s)
{
	return s->maps.min_flows_atomic;
}

/*
 * Per-flow bytes from two table sizes whose bucket arrays scale alike
 * (powers of two): the slope is what one more flow costs, bucket share
 * included; the intercept is the table's fixed part.
 */
#define MEM_SMALL	65536
#define MEM_LARGE	262144
#define MEM_CPUS	64

static void mem_row(const char *what, const char *type, __u64 small,
		    __u64 large, size_t percpu_value, int ncpus)
{
	double slope = (double)(large - small) / (MEM_LARGE - MEM_SMALL);
	double fixed = small - slope * MEM_SMALL;
	double at64 = slope + (double)percpu_value * (MEM_CPUS - ncpus);

	printf("| %s | %s | %.1f | %.1f | %.0f | %.1f |\n", what, type, slope,
	       at64, fixed, small / 1048576.0 + (at64 - slope) * MEM_SMALL / 1048576.0);
}

int cmd_mem(int argc, char **argv)
{
	struct mem_sample pc_s, pc_l, sh_s, sh_l;
	__u64 min_s, min_l, mins_s, mins_l;
	int ncpus = libbpf_num_possible_cpus();
	int err;

	(void)argc;
	(void)argv;
	err = flowacct_mem(false, MEM_SMALL, &pc_s);
	if (!err)
		err = flowacct_mem(false, MEM_LARGE, &pc_l);
	if (!err)
		err = flowacct_mem(true, MEM_SMALL, &sh_s);
	if (!err)
		err = flowacct_mem(true, MEM_LARGE, &sh_l);
	if (!err)
		err = minimal_mem(pick_min_percpu, MEM_SMALL, &min_s);
	if (!err)
		err = minimal_mem(pick_min_percpu, MEM_LARGE, &min_l);
	if (!err)
		err = minimal_mem(pick_min_shared, MEM_SMALL, &mins_s);
	if (!err)
		err = minimal_mem(pick_min_shared, MEM_LARGE, &mins_l);
	if (err) {
		fprintf(stderr, "flowbench: can't load the maps: %s\n", strerror(-err));
		return 1;
	}

	printf("Bytes per flow from the kernel's accounting of each table "
	       "(memlock in /proc/PID/fdinfo), measured at %d and %d entries on "
	       "this machine's %d possible CPUs; the slope between the two is the "
	       "cost of one more flow (its element, its share of the bucket "
	       "array and, per-CPU, one value per possible CPU). flowacct's rows "
	       "are both epoch tables together (a flow slot in each). %d CPUs: "
	       "the per-CPU value (%zu bytes) times %d more CPUs, for each table.\n\n",
	       MEM_SMALL, MEM_LARGE, ncpus, MEM_CPUS,
	       round8(sizeof(struct flow_map_value)), MEM_CPUS - ncpus);
	printf("| table | map type | bytes/flow, %d CPUs | bytes/flow, %d CPUs (computed) "
	       "| fixed bytes | MiB at %d flows, %d CPUs |\n",
	       ncpus, MEM_CPUS, MEM_SMALL, MEM_CPUS);
	printf("|---|---|---:|---:|---:|---:|\n");
	mem_row("flowacct --map percpu", "PERCPU_HASH", pc_s.flows, pc_l.flows,
		FLOW_NR_EPOCHS * round8(sizeof(struct flow_map_value)), ncpus);
	mem_row("flowacct --map shared", "HASH", sh_s.flows, sh_l.flows, 0, ncpus);
	mem_row("minimal accountant, percpu (packets, bytes)", "PERCPU_HASH",
		min_s, min_l, 16, ncpus);
	mem_row("minimal accountant, shared (packets, bytes)", "HASH", mins_s,
		mins_l, 0, ncpus);
	printf("\nEvery attached interface also has flowacct's other maps (counters, "
	       "sampling, fragments, globals): %llu bytes at %d CPUs, of which "
	       "%llu per-CPU, so %llu at %d CPUs.\n",
	       (unsigned long long)pc_s.others, ncpus,
	       (unsigned long long)pc_s.others_percpu,
	       (unsigned long long)(pc_s.others + pc_s.others_percpu / ncpus *
				    (MEM_CPUS - ncpus)),
	       MEM_CPUS);
	return 0;
}

/* ---- flowbench fill ----------------------------------------------------- */

/*
 * Flow @i of a synthetic table: 7 in 10 IPv4 (TCP and UDP), the rest IPv6
 * (TCP, UDP and ICMPv6), both directions, documentation addresses only.
 * Unique by construction for i < 2^22: i is in the IPv4 source address and
 * port, or in the IPv6 source address.
 */
static void fill_key(struct flow_key *k, __u32 i, __u32 ifindex, __u64 *rng)
{
	static const __u16 dports[] = { 443, 80, 53, 22, 8080, 5201 };
	__u64 r = prng_next(rng);

	memset(k, 0, sizeof(*k));
	k->ifindex = ifindex;
	k->direction = r & 1;
	k->dport = htobe16(dports[(r >> 8) % ARRAY_SIZE(dports)]);
	if (r % 10 < 7) {
		k->ip_version = 4;
		k->proto = (r >> 16) % 8 < 5 ? 6 : 17;
		k->src[10] = k->src[11] = k->dst[10] = k->dst[11] = 0xff;
		k->src[12] = 192, k->src[13] = 0, k->src[14] = 2;
		k->src[15] = i & 0xff;
		k->dst[12] = 198, k->dst[13] = 51, k->dst[14] = 100;
		k->dst[15] = r >> 24;
		k->sport = htobe16(1024 + (i >> 8));
		return;
	}
	k->ip_version = 6;
	k->proto = (r >> 16) % 8 < 4 ? 6 : (r >> 16) % 8 < 7 ? 17 : 58;
	k->src[0] = 0x20, k->src[1] = 0x01, k->src[2] = 0x0d, k->src[3] = 0xb8;
	memcpy(k->dst, k->src, 4);
	k->src[12] = i >> 24, k->src[13] = i >> 16;
	k->src[14] = i >> 8, k->src[15] = i;
	k->dst[5] = 1;
	k->dst[15] = r >> 24;
	k->sport = htobe16(1024 + (r >> 32) % 60000);
	if (k->proto == 58) {
		k->sport = 0;
		k->dport = htobe16(128 << 8);	/* echo request */
	}
}

/* Times in ticks, as the programs write them: up to 10 minutes old. */
static void fill_value(struct flow_map_value *v, const struct fa_tick_clock *now,
		       __u8 proto, __u64 *rng)
{
	__u64 r = prng_next(rng), packets = 1 + r % 100000;
	__u64 flags = proto == 6 ? 0x10 | ((r >> 48) & 0x1b) : 0;
	__u64 first = now->ticks - (r >> 32) % (600 * now->hz);

	v->packets_flags = packets | flags << FLOW_FLAGS_SHIFT;
	v->bytes = packets * (60 + (r >> 20) % 1441);
	v->first_seen = first;	/* the low 32 bits, as the programs keep */
	v->last_seen = first + (r >> 40) % (now->ticks - first + 1);
}

/*
 * Adds @n synthetic flows to the flows map @fd through batch updates. For a
 * per-CPU map every CPU gets a share, as real traffic would leave it.
 */
int fill_table(int fd, __u32 n, __u32 ifindex)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info), i, done, count;
	struct flow_key key;
	char *keys = NULL, *vals = NULL;
	struct fa_tick_clock now;
	__u64 rng = 20240601;
	size_t stride, vsz;
	int err = 0, ncpus, cpu;

	if (bpf_obj_get_info_by_fd(fd, &info, &info_len))
		return -errno;
	/* A shared row's counts as its owner's: the first slot of its two.
	 * The keys at the table's size: without the tunnel's tag but with
	 * --decap inner. */
	if ((info.key_size != sizeof(struct flow_key) && info.key_size != FLOW_KEY_SIZE_OFF) ||
	    info.value_size != (map_type_percpu(info.type) ?
				sizeof(struct flow_map_value) :
				sizeof(struct flow_shared_value)))
		return -EPROTO;
	if (value_stride(&info, &stride))
		return -EINVAL;
	vsz = round8(info.value_size);
	ncpus = stride / vsz;
	keys = calloc(BATCH_ROWS, info.key_size);
	vals = calloc(BATCH_ROWS, stride);
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	err = fa_tick_clock_read(&now);
	if (err)
		goto out;
	for (done = 0; done < n; done += count) {
		count = n - done < BATCH_ROWS ? n - done : BATCH_ROWS;
		memset(vals, 0, (size_t)count * stride);
		for (i = 0; i < count; i++) {
			fill_key(&key, done + i, ifindex, &rng);
			memcpy(keys + (size_t)i * info.key_size, &key, info.key_size);
			for (cpu = 0; cpu < ncpus; cpu++)
				fill_value((struct flow_map_value *)(vals + i * stride +
								     cpu * vsz),
					   &now, key.proto, &rng);
		}
		if (bpf_map_update_batch(fd, keys, vals, &count, &opts)) {
			err = -errno;
			break;
		}
	}
out:
	free(keys);
	free(vals);
	return err;
}

/*
 * flowbench fill PIN FLOWS IFINDEX: adds FLOWS synthetic flows to the
 * pinned flows map of an attached interface.
 */
int cmd_fill(int argc, char **argv)
{
	__u32 n;
	int fd, err;

	if (argc != 4) {
		fprintf(stderr, "Usage: flowbench fill PIN FLOWS IFINDEX\n");
		return 1;
	}
	n = strtoul(argv[2], NULL, 0);
	if (n > 1u << 22) {
		fprintf(stderr, "flowbench: at most %u flows\n", 1u << 22);
		return 1;
	}
	fd = bpf_obj_get(argv[1]);
	if (fd < 0) {
		fprintf(stderr, "flowbench: can't open '%s': %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	err = fill_table(fd, n, strtoul(argv[3], NULL, 0));
	if (err)
		fprintf(stderr, "flowbench: can't fill '%s': %s\n", argv[1],
			strerror(-err));
	close(fd);
	return err ? 1 : 0;
}
