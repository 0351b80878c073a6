/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the benchmark driver and its BPF programs (bench_progs.bpf.c) share.
 * Only __u* types: it compiles for -target bpf and for the host alike.
 */
#ifndef FLOWACCT_BENCH_H
#define FLOWACCT_BENCH_H

#include <linux/types.h>

/*
 * The cycler's counter: repeat i of a test run gets flow number
 * (next + i) % flows, written into the frame; with shuffled set, the
 * number at that position of the cycle_order map instead.
 */
struct cycle_state {
	__u32 next;
	__u32 flows;
	__u32 shuffled;
	__u32 pad;
};

/*
 * Where the cycler writes the flow number in an untagged IPv4 frame with
 * a 20-byte header: bits 0-15 into the source port, bits 16-23 into the
 * last byte of the source address (so up to 2^24 flows, all within one
 * documentation /24).
 */
#define CYCLE_OFF_SRC_LAST	(14 + 15)
#define CYCLE_OFF_SPORT		(14 + 20)
#define CYCLE_FRAME_MIN		(14 + 20 + 4)

#endif /* FLOWACCT_BENCH_H */
