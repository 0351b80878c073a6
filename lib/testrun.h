/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Running recorded frames through BPF_PROG_TEST_RUN, as replay does. */
#ifndef FLOWACCT_TESTRUN_H
#define FLOWACCT_TESTRUN_H

#include <linux/types.h>

/*
 * Pads the frame of @cap_len bytes at @buf, which must have room for
 * ETH_HLEN + 40 bytes, to what the kernel will run; returns that length.
 */
__u32 test_run_pad(__u8 *buf, __u32 cap_len);

/* Sampling and per-CPU counters should not depend on where we run. */
void pin_to_current_cpu(void);

#endif /* FLOWACCT_TESTRUN_H */
