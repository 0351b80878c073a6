// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What the epochs and the daemon cost, for scripts/bench.sh:
 *
 *   flowbench flip [--flips N]     how long a flip's wait takes, idle and with
 *                                  both CPUs running programs; membarrier's
 *                                  grace period beside it
 *   flowbench drain [--flows N] [--rounds R]
 *                                  draining an epoch of N flows (read and
 *                                  clear) against a plain batch lookup of it
 *   flowbench records [--flows N]  the cache and the JSON lines, per record
 *
 * Each prints a markdown table.
 */
#include <errno.h>
#include <getopt.h>
#include <linux/membarrier.h>
#include <linux/pkt_cls.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "libflowacct.h"
#include "flowacct.skel.h"
#include "out.h"
#include "flowbench.h"

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* The p-th percentile (0..100) of @v, sorted in place. */
static double pct(__u64 *v, size_t n, double p)
{
	size_t i;

	qsort(v, n, sizeof(*v), cmp_u64);
	i = (size_t)(p / 100 * (n - 1) + 0.5);
	return v[i] / 1e6;
}

/* ---- flip ------------------------------------------------------------------ */

struct spinner {
	int cpu, prog_fd;
	atomic_bool *stop;
};

static unsigned char frame[64] = {
	0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
	0x45, 0, 0, 50, 0, 1, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
	0x03, 0xe8, 0x07, 0xd0, 0, 30, 0, 0,
};

/* Keeps a CPU in the program, as a busy receive path would. */
static void *spin(void *arg)
{
	struct spinner *s = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(s->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	while (!atomic_load(s->stop)) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
			    .data_size_in = sizeof(frame), .repeat = 64);

		bpf_prog_test_run_opts(s->prog_fd, &o);
	}
	return NULL;
}

static int measure(struct fa_sync *sync, int epoch_fd, bool membarrier_instead,
		   __u64 *ns, size_t n)
{
	__u64 t0;
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		t0 = fa_mono_ns();
		if (membarrier_instead) {
			err = syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) ?
				      -errno : 0;
		} else {
			err = fa_epoch_write(epoch_fd, i & 1);
			if (!err)
				err = fa_sync_wait(sync);
		}
		if (err)
			return err;
		ns[i] = fa_mono_ns() - t0;
	}
	return 0;
}

int cmd_flip(int argc, char **argv)
{
	struct fa_load_opts lo = { .max_flows = 1024, .progs = FA_PROG_TC_EGRESS };
	struct flowacct_bpf *skel;
	struct spinner sp[2];
	pthread_t th[2];
	atomic_bool stop;
	struct fa_sync sync;
	size_t flips = 200, i;
	int fd[FA_NR_PINS], load, mb, err = 0, ncpu;
	__u64 *ns;

	if (argc == 3 && !strcmp(argv[1], "--flips"))
		flips = strtoul(argv[2], NULL, 0);
	ns = calloc(flips ? flips : 1, sizeof(*ns));
	if (!ns || fa_progs_load(&lo, &skel) || fa_sync_open(&sync)) {
		fprintf(stderr, "flowbench: can't load the programs\n");
		return 1;
	}
	fa_progs_map_fds(skel, fd);
	ncpu = libbpf_num_possible_cpus() > 1 ? 2 : 1;
	printf("| wait | CPUs | flips | median ms | p99 ms | max ms |\n");
	printf("|---|---|---:|---:|---:|---:|\n");
	for (load = 0; load < 2 && !err; load++) {
		atomic_store(&stop, false);
		for (i = 0; load && i < (size_t)ncpu; i++) {
			sp[i] = (struct spinner){ (int)i,
				bpf_program__fd(skel->progs.flowacct_tc), &stop };
			pthread_create(&th[i], NULL, spin, &sp[i]);
		}
		for (mb = 0; mb < 2 && !err; mb++) {
			err = measure(&sync, fd[FA_PIN_EPOCH], mb, ns, flips);
			if (err)
				break;
			printf("| %s | %s | %zu | %.2f | %.2f | %.2f |\n",
			       mb ? "membarrier(MEMBARRIER_CMD_GLOBAL)" :
				    "flip + map-in-map update (flowacct)",
			       load ? "both running programs" : "idle", flips,
			       pct(ns, flips, 50), pct(ns, flips, 99),
			       pct(ns, flips, 100));
		}
		atomic_store(&stop, true);
		for (i = 0; load && i < (size_t)ncpu; i++)
			pthread_join(th[i], NULL);
	}
	if (err)
		fprintf(stderr, "flowbench: flip: %s\n", strerror(-err));
	fa_sync_close(&sync);
	flowacct_bpf__destroy(skel);
	free(ns);
	return err ? 1 : 0;
}

/* ---- drain ------------------------------------------------------------------ */

enum drain_way { PLAIN, DRAIN, LOOKUP_DELETE, NR_WAYS };

static const char *const way_names[NR_WAYS] = {
	"plain batch lookup (no clear)",
	"flowacct's drain: lookup and delete, into the drain file",
	"batch lookup, then delete by key",
};

static int time_way(const int *fd, struct fa_drainfile *df, enum drain_way way,
		    __u32 flows, double *s)
{
	static __u64 gen;
	struct fa_tick_clock clock;
	struct fa_table t = {};
	struct flow_key *keys = NULL;
	struct fa_row *drained;
	size_t nkeys = 0, n;
	__u64 t0, rows = 0;
	int err;

	err = fill_table(fd[FA_PIN_FLOWS_0], flows, 2);
	if (err)
		return err;
	t0 = fa_mono_ns();
	switch (way) {
	case PLAIN:
		err = fa_tick_clock_read(&clock);
		if (!err)
			err = fa_table_read(fd[FA_PIN_FLOWS_0], &clock, &t, NULL,
					    NULL);
		rows = t.n;
		break;
	case DRAIN:
		err = fa_drainfile_drain(df, NULL, fd, 0, false, &(__u32){ 2 }, 1, ++gen, &drained, &n);
		rows = n;
		break;
	default:
		err = fa_epoch_read_rows(fd, 0, 2, &t, &keys, &nkeys);
		if (!err)
			err = fa_epoch_clear(fd, 0, 0, keys, nkeys);
		rows = t.n;
	}
	*s = (fa_mono_ns() - t0) / 1e9;
	fa_table_free(&t);
	free(keys);
	if (!err && rows != flows)
		err = -EUCLEAN;
	/* Empty for the next one, whatever this one left. */
	if (!err)
		err = map_clear(fd[FA_PIN_FLOWS_0]);
	return err;
}

int cmd_drain(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "flows", required_argument, NULL, 'f' },
		{ "rounds", required_argument, NULL, 'r' },
		{}
	};
	__u32 flows = 1000000, rounds = 3, r, w;
	double res[2][NR_WAYS][16], med[NR_WAYS];
	int c, m, err = 0, fd[FA_NR_PINS];

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'f')
			flows = strtoul(optarg, NULL, 0);
		else if (c == 'r')
			rounds = strtoul(optarg, NULL, 0);
		else
			return 1;
	}
	if (!rounds || rounds > 16 || !flows) {
		fprintf(stderr, "flowbench: drain: rounds 1-16, flows > 0\n");
		return 1;
	}
	printf("| map | way | median s | min | max | x plain lookup |\n");
	printf("|---|---|---:|---:|---:|---:|\n");
	for (m = 0; m < 2 && !err; m++) {
		struct fa_load_opts lo = { .shared = m, .max_flows = flows,
					   .progs = FA_PROG_TC_EGRESS };
		struct flowacct_bpf *skel;
		struct fa_drainfile *df;
		char name[32];

		snprintf(name, sizeof(name), "flowbench-%d", (int)getpid());
		err = fa_progs_load(&lo, &skel);
		if (err)
			break;
		err = fa_drainfile_open(name, flows, 1, m, getpid(), &df);
		if (err) {
			flowacct_bpf__destroy(skel);
			break;
		}
		fa_progs_map_fds(skel, fd);
		/* Interleaved: each round runs each way, in a rotating order. */
		for (r = 0; r < rounds && !err; r++)
			for (w = 0; w < NR_WAYS && !err; w++)
				err = time_way(fd, df, (w + r) % NR_WAYS, flows,
					       &res[m][(w + r) % NR_WAYS][r]);
		fa_drainfile_close(df);
		fa_drainfile_remove(name);
		for (w = 0; w < NR_WAYS && !err; w++)
			med[w] = median(res[m][w], rounds);
		for (w = 0; w < NR_WAYS && !err; w++)
			printf("| %s | %s | %.3f | %.3f | %.3f | %.2f |\n",
			       m ? "shared" : "percpu", way_names[w], med[w],
			       min_of(res[m][w], rounds), max_of(res[m][w], rounds),
			       med[w] / med[PLAIN]);
		flowacct_bpf__destroy(skel);
	}
	if (err)
		fprintf(stderr, "flowbench: drain: %s\n", strerror(-err));
	return err ? 1 : 0;
}

/* ---- records ------------------------------------------------------------------ */

static int count_record(void *ctx, const struct fa_record *r)
{
	struct fa_record **at = ctx;

	*(*at)++ = *r;
	return 0;
}

int cmd_records(int argc, char **argv)
{
	__u32 flows = 1000000, i;
	struct fa_cache_cfg cfg = { .idle_ns = 1000000000ull, .active_ns = ~0ull / 2,
				    .quiet_ns = 1000000000ull };
	struct fa_record *recs, *at;
	struct fa_table t = {};
	struct fa_cache *c;
	struct fa_out o;
	__u64 rng = 7, t0, t1, t2, t3;
	FILE *f;

	if (argc == 3 && !strcmp(argv[1], "--flows"))
		flows = strtoul(argv[2], NULL, 0);
	cfg.size = flows;
	recs = calloc(flows, sizeof(*recs));
	if (!recs || fa_cache_new(&cfg, &c))
		return 1;
	for (i = 0; i < flows; i++) {
		struct flow_key k = { .ip_version = 4, .proto = 17, .ifindex = 2 };
		struct flow_value v = { .packets = 1 + prng_next(&rng) % 1000,
					.first_seen_ns = 1000000000ull,
					.last_seen_ns = 1500000000ull };

		k.src[10] = k.src[11] = k.dst[10] = k.dst[11] = 0xff;
		memcpy(k.src + 12, &i, 4);
		k.dst[12] = 198, k.dst[13] = 51, k.dst[14] = 100, k.dst[15] = 7;
		k.sport = htobe16(1024 + i % 60000);
		k.dport = htobe16(53);
		v.bytes = v.packets * 100;
		fa_table_append(&t, &k, &v, FA_ROW_FLOW);
	}
	at = recs;
	t0 = fa_mono_ns();
	fa_cache_merge(c, t.rows, t.n, count_record, &at);
	t1 = fa_mono_ns();
	fa_cache_expire(c, 10000000000ull, count_record, &at);
	t2 = fa_mono_ns();
	f = fopen("/dev/null", "w");
	if (!f)
		return 1;
	out_init(&o, f, true);
	for (i = 0; i < (__u32)(at - recs); i++) {
		json_init(&o.j, f);
		fa_print_record(&o, &recs[i], "eth0", 0x1234, 1700000000000000000ull, NULL);
		json_end_line(&o.j);
	}
	fflush(f);
	t3 = fa_mono_ns();
	fclose(f);
	printf("| step (%u flows) | seconds | per second |\n|---|---:|---:|\n", flows);
	printf("| merge the rows into an empty cache | %.3f | %.0f rows |\n",
	       (t1 - t0) / 1e9, flows / ((t1 - t0) / 1e9));
	printf("| expire them all (idle) | %.3f | %.0f records |\n",
	       (t2 - t1) / 1e9, (at - recs) / ((t2 - t1) / 1e9));
	printf("| write them as JSON lines | %.3f | %.0f records |\n",
	       (t3 - t2) / 1e9, (at - recs) / ((t3 - t2) / 1e9));
	i = at - recs;
	fa_cache_free(c);
	fa_table_free(&t);
	free(recs);
	return i == flows ? 0 : 1;
}
