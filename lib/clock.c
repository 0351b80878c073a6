// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The programs stamp live flows with jiffies: bpf_jiffies64() is inlined by
 * the verifier into one load, where bpf_ktime_get_coarse_ns() is a call
 * that cost about 6 ns a packet (tests/bench/RESULTS.md). Jiffies advance
 * one per tick of CLOCK_MONOTONIC (tick_do_update_jiffies64() counts them
 * from it), so a tick count and a monotonic time taken together give every
 * other tick count's time; the tick's length is the kernel's HZ. Also the
 * clocks user space reads: CLOCK_MONOTONIC, and its offset to the wall clock.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "internal.h"

/*
 * XDP, run once by BPF_PROG_TEST_RUN: writes jiffies and the coarse
 * monotonic time, the clock the tick updates, into the frame it is given.
 * Hand-assembled: thirteen instructions do not need an object file, and any
 * kernel that runs XDP test runs can load them.
 */
static const struct bpf_insn tick_prog[] = {
	/* r6 = data, r7 = data_end (the context's first two words) */
	{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = 6, .src_reg = 1, .off = 0 },
	{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = 7, .src_reg = 1, .off = 4 },
	/* if (data + 16 > data_end) return XDP_ABORTED */
	{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 2, .src_reg = 6 },
	{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 2, .imm = 16 },
	{ .code = BPF_JMP | BPF_JGT | BPF_X, .dst_reg = 2, .src_reg = 7, .off = 6 },
	{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_jiffies64 },
	{ .code = BPF_STX | BPF_MEM | BPF_DW, .dst_reg = 6, .src_reg = 0, .off = 0 },
	{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_ktime_get_coarse_ns },
	{ .code = BPF_STX | BPF_MEM | BPF_DW, .dst_reg = 6, .src_reg = 0, .off = 8 },
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = XDP_PASS },
	{ .code = BPF_JMP | BPF_EXIT },
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = XDP_ABORTED },
	{ .code = BPF_JMP | BPF_EXIT },
};

/* The HZ values Kconfig offers, and the odd ones some architectures use. */
static const unsigned int hz_choices[] = { 100, 250, 300, 1000, 24, 32, 48,
					   64, 128, 256, 512, 1024, 1200 };

/*
 * HZ from one pair: the kernel starts jiffies at INITIAL_JIFFIES, 300 s
 * worth of ticks below a 32-bit wrap, when the monotonic clock is near 0.
 * The right HZ puts boot within a second or so of monotonic 0; the others
 * miss by tens of percent of the uptime.
 */
static unsigned int guess_hz(__u64 ticks, __u64 mono_ns)
{
	double best_err = 0, up = mono_ns / 1e9, err;
	unsigned int i, hz, best = 0;
	__u64 initial;

	for (i = 0; i < sizeof(hz_choices) / sizeof(hz_choices[0]); i++) {
		hz = hz_choices[i];
		initial = (__u64)(__u32)(-300 * (int)hz);
		err = (double)(__s64)(ticks - initial) / hz - up;
		if (err < 0)
			err = -err;
		if (!best || err < best_err)
			best = hz, best_err = err;
	}
	return best;
}

int fa_tick_src_open(struct fa_tick_src *src)
{
	src->prog_fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "flowacct_ticks", "GPL",
				     tick_prog,
				     sizeof(tick_prog) / sizeof(tick_prog[0]), NULL);
	if (src->prog_fd < 0)
		return -errno;
	return 0;
}

void fa_tick_src_close(struct fa_tick_src *src)
{
	if (src->prog_fd >= 0)
		close(src->prog_fd);
	src->prog_fd = -1;
}

/*
 * Without @src, the program is loaded for this read and closed again (the
 * library keeps no globals): enough for a dump's one read, where a daemon
 * reading every tick paid a load and its verification each time.
 */
int fa_tick_src_read(const struct fa_tick_src *src, struct fa_tick_clock *c)
{
	__u64 frame[8] = {};
	LIBBPF_OPTS(bpf_test_run_opts, run,
		    .data_in = frame, .data_size_in = sizeof(frame),
		    .data_out = frame, .data_size_out = sizeof(frame));
	struct fa_tick_src once = { .prog_fd = -1 };
	int err = 0;

	if (!src) {
		err = fa_tick_src_open(&once);
		if (err)
			return err;
		src = &once;
	}
	if (bpf_prog_test_run_opts(src->prog_fd, &run))
		err = -errno;
	fa_tick_src_close(&once);
	if (err)
		return err;
	if (run.retval != XDP_PASS || !frame[0])
		return -EPROTO;
	c->ticks = frame[0];
	c->mono_ns = frame[1];
	c->hz = guess_hz(c->ticks, c->mono_ns);
	return 0;
}

int fa_tick_clock_read(struct fa_tick_clock *c)
{
	return fa_tick_src_read(NULL, c);
}

/*
 * How far past the clock a row's time may be: its packets go on while the
 * table is read (a million rows take about a second), and a stored 32-bit
 * time only says where it is modulo 2^32.
 */
#define TICKS_AHEAD	(1u << 20)

__u64 fa_ticks_to_mono(const struct fa_tick_clock *c, __u32 ticks)
{
	__u32 back = (__u32)c->ticks + TICKS_AHEAD - ticks;
	__s64 d = (__s64)TICKS_AHEAD - back;

	return c->mono_ns + d * (__s64)(1000000000 / c->hz) +
	       d * (__s64)(1000000000 % c->hz) / (__s64)c->hz;
}

/* ---- the clocks user space reads ------------------------------------------ */

__u64 fa_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * Taken on every read, never once per process: the wall clock is stepped
 * and slewed (NTP) while a daemon runs for months, the monotonic one is not.
 * Read between two monotonic reads, so the pair is as close as it can be.
 */
__u64 fa_mono_to_wall_offset(void)
{
	struct timespec m1, rt, m2;
	__u64 mono;

	clock_gettime(CLOCK_MONOTONIC, &m1);
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &m2);
	mono = ((__u64)m1.tv_sec * 1000000000ull + m1.tv_nsec +
		(__u64)m2.tv_sec * 1000000000ull + m2.tv_nsec) / 2;
	return (__u64)rt.tv_sec * 1000000000ull + rt.tv_nsec - mono;
}

void fa_local_hms(__u64 wall_ns, char *buf, size_t len)
{
	time_t wall = wall_ns / 1000000000ull;
	struct tm tm;

	localtime_r(&wall, &tm);
	strftime(buf, len, "%H:%M:%S", &tm);
}
