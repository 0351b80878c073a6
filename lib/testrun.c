// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <sched.h>
#include <string.h>
#include <linux/if_ether.h>

#include "testrun.h"

/*
 * The kernel runs no frame shorter than an Ethernet header, and no untagged
 * IP skb shorter than its fixed IP header. Such frames run padded; the
 * program is told how much is real (parse_ctx_replay).
 */
__u32 test_run_pad(__u8 *buf, __u32 cap_len)
{
	__u32 run_len = cap_len, min_len = ETH_HLEN;

	if (run_len < ETH_HLEN) {
		memset(buf + run_len, 0, ETH_HLEN - run_len);
		run_len = ETH_HLEN;
	}
	if (buf[12] == 0x08 && buf[13] == 0x00)
		min_len = ETH_HLEN + 20;
	else if (buf[12] == 0x86 && buf[13] == 0xdd)
		min_len = ETH_HLEN + 40;
	if (run_len < min_len) {
		memset(buf + run_len, 0, min_len - run_len);
		run_len = min_len;
	}
	return run_len;
}

void pin_to_current_cpu(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}
