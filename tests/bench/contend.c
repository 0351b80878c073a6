// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowbench contend [--secs S]: one flow's packets run through the TC
 * program by a thread on each CPU at once, against one thread alone, per
 * map mode. With `shared`, each CPU adds to a row of its own (the CPU in
 * the key's spare bits, flow_key_set_row_cpu), read back as the flow's one
 * row; with `percpu`, each to its own copy in one row. The README's advice
 * on map modes rests on this number. Cases run in interleaved rounds;
 * medians are printed, and for both CPUs the ratio to one CPU alone of the
 * same map, taken per round (a round's cases run seconds apart,
 * under the same load) with its median, min and max. Each run also checks
 * that the flow counted every packet the threads ran. Prints a markdown
 * table.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "libflowacct.h"
#include "flowacct.skel.h"
#include "flowbench.h"

#define CONTEND_REPEAT 256	/* runs per call: short, since a call holds RCU */

struct runner {
	int cpu, prog_fd;
	double secs;
	const unsigned char *frame;
	size_t len;
	__u64 packets, ns;	/* run, and the kernel's time for them */
	int err;
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *run(void *arg)
{
	struct runner *r = arg;
	double end = mono_s() + r->secs;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(r->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		r->err = -errno;
		return NULL;
	}
	while (mono_s() < end) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = r->frame,
			    .data_size_in = r->len, .repeat = CONTEND_REPEAT);

		if (bpf_prog_test_run_opts(r->prog_fd, &o)) {
			r->err = -errno;
			return NULL;
		}
		r->packets += CONTEND_REPEAT;
		r->ns += (__u64)o.duration * CONTEND_REPEAT;
	}
	return NULL;
}

/* The one flow's packets in the table, summed over CPUs. */
static __u64 counted(struct flowacct_bpf *skel)
{
	struct fa_tick_clock clock;
	struct fa_table t = {};
	__u64 n = 0;
	size_t i;

	if (fa_tick_clock_read(&clock) ||
	    fa_table_read(bpf_map__fd(skel->maps.flows_0), &clock, &t, NULL, NULL))
		return 0;
	for (i = 0; i < t.n; i++)
		n += t.rows[i].val.packets;
	fa_table_free(&t);
	return n;
}

struct contend_result {
	double ns, mpps;
};

static int contend_case(bool shared, int threads, double secs,
			const unsigned char *frame, size_t len,
			struct contend_result *res)
{
	struct fa_load_opts lo = { .shared = shared, .max_flows = 1024,
				   .progs = FA_PROG_TC_EGRESS };
	struct runner r[2] = {};
	struct flowacct_bpf *skel;
	pthread_t th[2];
	__u64 packets = 0, ns = 0, got;
	double t0, wall;
	int i, err;

	err = fa_progs_load(&lo, &skel);
	if (err) {
		fprintf(stderr, "flowbench: can't load the programs: %s\n", strerror(-err));
		return err;
	}
	t0 = mono_s();
	for (i = 0; i < threads; i++) {
		r[i] = (struct runner){ .cpu = i, .secs = secs, .frame = frame, .len = len,
					.prog_fd = bpf_program__fd(skel->progs.flowacct_tc) };
		pthread_create(&th[i], NULL, run, &r[i]);
	}
	for (i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		if (r[i].err)
			err = r[i].err;
		packets += r[i].packets;
		ns += r[i].ns;
	}
	wall = mono_s() - t0;
	got = counted(skel);
	flowacct_bpf__destroy(skel);
	if (err) {
		fprintf(stderr, "flowbench: test run: %s\n", strerror(-err));
		return err;
	}
	if (got != packets) {
		fprintf(stderr, "flowbench: %s, %d threads: ran %llu packets, the flow counted %llu\n",
			shared ? "shared" : "percpu", threads,
			(unsigned long long)packets, (unsigned long long)got);
		return -EPROTO;
	}
	res->ns = (double)ns / (double)packets;
	res->mpps = packets / wall / 1e6;
	return 0;
}

#define CONTEND_ROUNDS_MAX 15

int cmd_contend(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "secs", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{}
	};
	static struct contend_result res[2][2][CONTEND_ROUNDS_MAX];
	unsigned char frame[BENCH_FRAME_MAX];
	double secs = 1, ns[CONTEND_ROUNDS_MAX], mpps[CONTEND_ROUNDS_MAX];
	double ratio[CONTEND_ROUNDS_MAX];
	char x[64], span[64];
	int c, i, t, m, rounds = 5, err;
	size_t len;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 's')
			secs = atof(optarg);
		else if (c == 'r')
			rounds = atoi(optarg);
		else
			return 1;
	}
	if (rounds < 1 || rounds > CONTEND_ROUNDS_MAX || secs <= 0) {
		fprintf(stderr, "flowbench: contend: 1 to %d rounds of a positive time\n",
			CONTEND_ROUNDS_MAX);
		return 1;
	}
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		fprintf(stderr, "flowbench: contend needs two CPUs\n");
		return 1;
	}
	len = frame_build(frame, FK_IPV4_TCP, 1, 64);
	for (i = 0; i < rounds; i++)
		for (t = 0; t < 2; t++)
			for (m = 0; m < 2; m++) {
				err = contend_case(m, t + 1, secs, frame, len, &res[t][m][i]);
				if (err)
					return 1;
			}
	printf("| map | threads (one per CPU) | ns per packet, each thread | x one thread | min to max | Mpackets/s, all threads | every packet counted |\n");
	printf("|---|---:|---:|---:|---:|---:|---|\n");
	for (t = 0; t < 2; t++)
		for (m = 0; m < 2; m++) {
			for (i = 0; i < rounds; i++) {
				ns[i] = res[t][m][i].ns;
				mpps[i] = res[t][m][i].mpps;
				ratio[i] = ns[i] / res[0][m][i].ns;
			}
			x[0] = span[0] = '\0';
			if (t) {
				snprintf(x, sizeof(x), "%.2f", median(ratio, rounds));
				snprintf(span, sizeof(span), "%.2f to %.2f",
					 min_of(ratio, rounds), max_of(ratio, rounds));
			}
			printf("| %s | %d | %.1f | %s | %s | %.2f | yes |\n",
			       m ? "shared" : "percpu", t + 1, median(ns, rounds), x,
			       span, median(mpps, rounds));
		}
	return 0;
}
