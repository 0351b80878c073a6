// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The flip itself, hammered: one thread per CPU runs the same flow through
 * the TC egress program with BPF_PROG_TEST_RUN, without a pause, while
 * another thread flips the epoch and drains the old table back to back. At
 * the end every packet a run counted must be in what the drains read,
 * exactly. (TC, not XDP: an XDP test run installs the program in the XDP
 * dispatcher and takes it out again, about 16 ms a run on this kernel; the
 * accounting both hooks do is the same function.)
 *
 *   epoch_hammer [--map percpu|shared] [--seconds S] [--repeat R] [--no-wait]
 *
 * --no-wait drains right after the flip, without waiting for an RCU grace
 * period: a run that read the old epoch just before the flip then adds to
 * the old table after it was read (a per-CPU value or an atomic add through
 * a pointer it holds), and what it added is deleted with the entry. In the
 * real program that window is the few instructions between reading the
 * epoch and the add: an interrupt, or preemption on a kernel that allows
 * it there, stretches it, but a few seconds of this test rarely see one.
 * --slow runs a build of the same program that spins there, for about half
 * a millisecond here (FLOW_EPOCH_TEST_DELAY calls of an empty function):
 * longer than a flip and a drain take, so that without the wait the loss is
 * seen at once, and with it, the wait is shown to cover a flip in the middle
 * of nearly every run. (A spin of a few µs, shorter than a drain's
 * syscalls on a slow VM, lost a count only now and then.)
 *
 * With --map shared each CPU keeps its own row of the flow (the key's CPU
 * bits, flow_key_set_row_cpu): a drain must find a row from each CPU that
 * ran it and read them as the flow's one row.
 *
 * Prints one line; exits 0 if the totals agree, 1 if not, 3 if they do
 * and the rows do not.
 */
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "libflowacct.h"
#include "flowacct.skel.h"
#include "epoch_slow.skel.h"

struct runner {
	int cpu;
	int prog_fd;
	__u32 repeat;
	atomic_bool *stop;
	__u64 packets;		/* counted by successful runs */
	__u64 failed;
};

/* A UDP/IPv4 frame of one flow, 192.0.2.1:1000 > 192.0.2.2:2000. */
static unsigned char frame[64] = {
	0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
	0x45, 0, 0, 50, 0, 1, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
	0x03, 0xe8, 0x07, 0xd0, 0, 30, 0, 0,
};

static void *run_frames(void *arg)
{
	struct runner *r = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(r->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	while (!atomic_load(r->stop)) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
			    .data_size_in = sizeof(frame), .repeat = r->repeat);

		/*
		 * Small repeat counts: the kernel holds the RCU read lock
		 * across a run's repeats, and the flips wait for it.
		 */
		if (bpf_prog_test_run_opts(r->prog_fd, &o) ||
		    o.retval != (__u32)TC_ACT_UNSPEC)
			r->failed++;
		else
			r->packets += r->repeat;
	}
	return NULL;
}

/* The most table rows (keys) and flows one drain read. */
static size_t max_keys, max_flows;

static __u64 drain(const int *fd, __u32 epoch)
{
	struct fa_table t = {};
	struct flow_key *keys = NULL;
	size_t nkeys, i;
	__u64 packets = 0;

	if (fa_epoch_read_rows(fd, epoch, 1, &t, &keys, &nkeys) ||
	    fa_epoch_clear(fd, epoch, 0, keys, nkeys)) {
		fprintf(stderr, "epoch_hammer: drain failed\n");
		exit(2);
	}
	for (i = 0; i < t.n; i++)
		packets += t.rows[i].val.packets;
	if (nkeys > max_keys)
		max_keys = nkeys;
	if (t.n > max_flows)
		max_flows = t.n;
	fa_table_free(&t);
	free(keys);
	return packets;
}

static __u64 mono_ms(void)
{
	return fa_mono_ns() / 1000000;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "map", required_argument, NULL, 'm' },
		{ "seconds", required_argument, NULL, 's' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "no-wait", no_argument, NULL, 'n' },
		{ "slow", no_argument, NULL, 'S' },
		{}
	};
	struct fa_load_opts lo = { .max_flows = 1024, .progs = FA_PROG_TC_EGRESS };
	struct runner run[2];
	pthread_t th[2];
	atomic_bool stop = false;
	struct flowacct_bpf *skel = NULL;
	struct epoch_slow_bpf *slow = NULL;
	struct fa_sync sync;
	int fd[FA_NR_PINS], c, i, ncpu;
	double seconds = 3;
	__u32 repeat = 16, epoch = 0;
	__u64 drained = 0, counted = 0, flips = 0, end, t0;
	bool wait = true, slowed = false;
	int prog_fd, err;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			lo.shared = !strcmp(optarg, "shared");
			break;
		case 's':
			seconds = atof(optarg);
			break;
		case 'r':
			repeat = atoi(optarg);
			break;
		case 'n':
			wait = false;
			break;
		case 'S':
			slowed = true;
			break;
		default:
			fprintf(stderr, "Usage: epoch_hammer [--map percpu|shared] [--seconds S] [--repeat R] [--no-wait]\n");
			return 2;
		}
	}
	libbpf_set_print(NULL);
	if (slowed) {
		slow = epoch_slow_bpf__open();
		err = slow ? 0 : -errno;
		if (!err) {
			slow->rodata->flow_cfg.shared_map = lo.shared;
			err = fa_obj_configure(slow->obj, &lo);
		}
		if (!err)
			err = epoch_slow_bpf__load(slow);
		if (!err) {
			fa_obj_map_fds(slow->obj, fd);
			prog_fd = bpf_program__fd(slow->progs.flowacct_tc);
		}
	} else {
		err = fa_progs_load(&lo, &skel);
		if (!err) {
			fa_progs_map_fds(skel, fd);
			prog_fd = bpf_program__fd(skel->progs.flowacct_tc);
		}
	}
	if (err || fa_sync_open(&sync)) {
		fprintf(stderr, "epoch_hammer: can't load the programs\n");
		return 2;
	}
	ncpu = libbpf_num_possible_cpus() > 1 ? 2 : 1;
	for (i = 0; i < ncpu; i++) {
		run[i] = (struct runner){ .cpu = i, .repeat = repeat, .stop = &stop,
					  .prog_fd = prog_fd };
		pthread_create(&th[i], NULL, run_frames, &run[i]);
	}
	t0 = mono_ms();
	end = t0 + (__u64)(seconds * 1000);
	while (mono_ms() < end) {
		if (fa_epoch_write(fd[FA_PIN_EPOCH], epoch ^ 1))
			return 2;
		if (wait && fa_sync_wait(&sync))
			return 2;
		drained += drain(fd, epoch);
		epoch ^= 1;
		flips++;
	}
	atomic_store(&stop, true);
	for (i = 0; i < ncpu; i++) {
		pthread_join(th[i], NULL);
		counted += run[i].packets;
		if (run[i].failed)
			fprintf(stderr, "epoch_hammer: %llu runs failed on CPU %d\n",
				(unsigned long long)run[i].failed, i);
	}
	/* The runners have returned: both tables are still, drain them. */
	drained += drain(fd, epoch ^ 1) + drain(fd, epoch);
	printf("%s%s map, %s: %llu flips in %.1f s (%.0f per second), %llu packets run on %d CPUs, %llu drained, %lld lost; at most %zu rows read as %zu flows in a drain\n",
	       slowed ? "slowed program, " : "", lo.shared ? "shared" : "percpu",
	       wait ? "wait" : "no wait",
	       (unsigned long long)flips, (mono_ms() - t0) / 1000.0,
	       flips * 1000.0 / (end - t0), (unsigned long long)counted, ncpu,
	       (unsigned long long)drained, (long long)(counted - drained),
	       max_keys, max_flows);
	fa_sync_close(&sync);
	flowacct_bpf__destroy(skel);
	epoch_slow_bpf__destroy(slow);
	if (counted != drained)
		return 1;
	if (max_flows != 1 || max_keys != (lo.shared ? (size_t)ncpu : 1)) {
		fprintf(stderr, "epoch_hammer: the flow's rows: at most %zu in a drain, read as %zu flows; %d expected, read as 1\n",
			max_keys, max_flows, lo.shared ? ncpu : 1);
		return 3;
	}
	return 0;
}
