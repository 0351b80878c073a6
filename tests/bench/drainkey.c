// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * drainkey: what a tick's drain of a table with few rows costs, by the
 * batch lookup-and-delete the daemon uses (the kernel walks every bucket:
 * 16 bytes each, a power of two at least max_entries, cold after a
 * second's sleep) against taking the rows out by key in the kernel (a
 * syscall program, tests/bench/drainkey.bpf.c, given the keys as the
 * programs could log each new row's key on insert).
 *
 * Each round fills the table with the same rows, sleeps as a daemon sleeps
 * between ticks, and drains it each way in turn (the order turns each
 * round; the third way only reads the rows, to tell what deleting costs); CPU time of this thread (the syscalls' kernel time is in
 * it). Every drain must take every row and leave the table empty.
 *
 * Usage: drainkey [--max-flows N] [--rows N] [--rounds N] [--sleep-ms N]
 *                 [--obj FILE]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "flow_kern_user.h"

#define ROW_SIZE	96
#define BATCH		4096	/* the daemon's batch */

struct drainkey_args {
	__u32 n;
	__u32 taken;
};

static double thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Row i's key: an IPv4 UDP flow of 192.0.2.0/24 to 198.51.100.0/24. */
static void make_key(__u32 i, struct flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->src[10] = k->src[11] = 0xff;
	k->src[12] = 192, k->src[13] = 0, k->src[14] = 2, k->src[15] = i & 0xff;
	k->dst[10] = k->dst[11] = 0xff;
	k->dst[12] = 198, k->dst[13] = 51, k->dst[14] = 100, k->dst[15] = 7;
	k->sport = htons(1024 + (i >> 8));
	k->dport = htons(53);
	k->ifindex = 2;
	k->proto = 17;
	k->ip_version = 4;
}

static int fill(int fd, __u32 n, const char *keys, const char *vals)
{
	__u32 count = n;

	if (bpf_map_update_batch(fd, keys, vals, &count, NULL))
		return -errno;
	return count == n ? 0 : -EIO;
}

static int empty(int fd)
{
	char key[FLOW_KEY_SIZE_OFF];

	return bpf_map_get_next_key(fd, NULL, key) && errno == ENOENT;
}

/*
 * The daemon's way: batches of BATCH until the walk reaches the end. With
 * @keep, the rows are only read (a lookup batch), to tell the delete's
 * share; the table is emptied after, untimed.
 */
static int drain_walk(int fd, __u32 n, char *keys, char *vals, bool keep,
		      double *ns)
{
	__u32 in = 0, out, count, got = 0;
	void *inp = NULL;
	double t0 = thread_ns();
	__u64 sum = 0;
	int err;

	for (;;) {
		count = BATCH;
		err = keep ? bpf_map_lookup_batch(fd, inp, &out, keys, vals,
						  &count, NULL) :
			     bpf_map_lookup_and_delete_batch(fd, inp, &out, keys,
							     vals, &count, NULL);
		if (err && errno != ENOENT)
			return -errno;
		for (__u32 i = 0; i < count; i++)
			sum += ((struct flow_shared_value *)
				(vals + (size_t)i * sizeof(struct flow_shared_value)))->bytes;
		got += count;
		if (err)
			break;
		in = out;
		inp = &in;
	}
	*ns = thread_ns() - t0;
	if (sum != (__u64)n * 100 || got != n)
		return -EIO;
	if (keep)
		return drain_walk(fd, n, keys, vals, false, &(double){ 0 });
	return 0;
}

/* By key: the keys already in the mapped rows, as insert-time logging
 * would leave them; one run of the program, then the rows read. */
static int drain_bykey(int prog_fd, volatile char *rows, __u32 n, double *ns)
{
	struct drainkey_args a = { .n = n };
	LIBBPF_OPTS(bpf_test_run_opts, t, .ctx_in = &a, .ctx_size_in = sizeof(a));
	double t0 = thread_ns();
	__u64 sum = 0;

	if (bpf_prog_test_run_opts(prog_fd, &t))
		return -errno;
	for (__u32 i = 0; i < n; i++)
		sum += ((volatile struct flow_shared_value *)
			(rows + (size_t)i * ROW_SIZE + 48))->bytes;
	*ns = thread_ns() - t0;
	if (a.taken != n || sum != (__u64)n * 100)
		return -EIO;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "max-flows", required_argument, NULL, 'm' },
		{ "rows", required_argument, NULL, 'n' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "sleep-ms", required_argument, NULL, 's' },
		{ "obj", required_argument, NULL, 'o' },
		{}
	};
	__u32 max_flows = 262144, n = 13000, rounds = 9, sleep_ms = 1000, r;
	char obj_path[PATH_MAX], *keys, *vals, *fill_keys, *fill_vals;
	const char *obj_file = NULL;
	double walk[64], bykey[64], read[64], mw, mk, mr;
	struct bpf_object *obj;
	struct bpf_map *m_table, *m_rows;
	int c, table_fd, rows_fd, prog_fd, err = 0;
	size_t rows_len;
	char *rows;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': max_flows = strtoul(optarg, NULL, 0); break;
		case 'n': n = strtoul(optarg, NULL, 0); break;
		case 'r': rounds = strtoul(optarg, NULL, 0); break;
		case 's': sleep_ms = strtoul(optarg, NULL, 0); break;
		case 'o': obj_file = optarg; break;
		default: return 2;
		}
	}
	if (!n || n > max_flows || !rounds || rounds > 64) {
		fprintf(stderr, "drainkey: 0 < rows <= max-flows, rounds 1-64\n");
		return 2;
	}
	if (!obj_file) {
		snprintf(obj_path, sizeof(obj_path), "%s/drainkey.bpf.o",
			 dirname(strdup(argv[0])));
		obj_file = obj_path;
	}
	obj = bpf_object__open_file(obj_file, NULL);
	if (!obj) {
		fprintf(stderr, "drainkey: %s: %s\n", obj_file, strerror(errno));
		return 1;
	}
	m_table = bpf_object__find_map_by_name(obj, "table");
	m_rows = bpf_object__find_map_by_name(obj, "rows");
	bpf_map__set_max_entries(m_table, max_flows);
	bpf_map__set_max_entries(m_rows, n);
	if (bpf_object__load(obj)) {
		fprintf(stderr, "drainkey: load: %s\n", strerror(errno));
		return 1;
	}
	table_fd = bpf_map__fd(m_table);
	rows_fd = bpf_map__fd(m_rows);
	prog_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, "drainkey"));
	rows_len = ((size_t)n * ROW_SIZE + 4095) & ~4095ul;
	rows = mmap(NULL, rows_len, PROT_READ | PROT_WRITE, MAP_SHARED, rows_fd, 0);
	keys = calloc(n > BATCH ? n : BATCH, FLOW_KEY_SIZE_OFF);
	vals = calloc(n > BATCH ? n : BATCH, sizeof(struct flow_shared_value));
	if (rows == MAP_FAILED || !keys || !vals) {
		fprintf(stderr, "drainkey: memory\n");
		return 1;
	}
	for (__u32 i = 0; i < n; i++) {
		struct flow_key k;
		struct flow_shared_value *v = (void *)(vals + (size_t)i * sizeof(*v));

		make_key(i, &k);
		memcpy(keys + (size_t)i * FLOW_KEY_SIZE_OFF, &k, FLOW_KEY_SIZE_OFF);
		memset(v, 0, sizeof(*v));
		v->bytes = 100;
		memcpy(rows + (size_t)i * ROW_SIZE, &k, FLOW_KEY_SIZE_OFF);
	}
	/* Kept apart: the walk's buffers are overwritten by its drains. */
	fill_keys = malloc((size_t)n * FLOW_KEY_SIZE_OFF);
	fill_vals = malloc((size_t)n * sizeof(struct flow_shared_value));
	if (!fill_keys || !fill_vals)
		return 1;
	memcpy(fill_keys, keys, (size_t)n * FLOW_KEY_SIZE_OFF);
	memcpy(fill_vals, vals, (size_t)n * sizeof(struct flow_shared_value));

	for (r = 0; r < rounds && !err; r++) {
		for (int w = 0; w < 3 && !err; w++) {
			int way = (w + r) % 3;

			err = fill(table_fd, n, fill_keys, fill_vals);
			if (err)
				break;
			usleep(sleep_ms * 1000);
			if (way == 0)
				err = drain_walk(table_fd, n, keys, vals, false, &walk[r]);
			else if (way == 1)
				err = drain_bykey(prog_fd, rows, n, &bykey[r]);
			else
				err = drain_walk(table_fd, n, keys, vals, true, &read[r]);
			if (!err && !empty(table_fd))
				err = -EIO;
		}
	}
	if (err) {
		fprintf(stderr, "drainkey: %s\n", strerror(-err));
		return 1;
	}
	mw = median(walk, rounds);
	mk = median(bykey, rounds);
	mr = median(read, rounds);
	printf("max-flows %u, rows %u, %u rounds, %u ms between fill and drain\n",
	       max_flows, n, rounds, sleep_ms);
	printf("| way | µs a drain, median (min to max) | ns a row |\n");
	printf("|---|---:|---:|\n");
	printf("| batch lookup-and-delete (the walk) | %.0f (%.0f to %.0f) | %.0f |\n",
	       mw / 1e3, walk[0] / 1e3, walk[rounds - 1] / 1e3, mw / n);
	printf("| by key, a syscall program | %.0f (%.0f to %.0f) | %.0f |\n",
	       mk / 1e3, bykey[0] / 1e3, bykey[rounds - 1] / 1e3, mk / n);
	printf("| the walk's lookup batch alone, no delete | %.0f (%.0f to %.0f) | %.0f |\n",
	       mr / 1e3, read[0] / 1e3, read[rounds - 1] / 1e3, mr / n);
	return 0;
}
