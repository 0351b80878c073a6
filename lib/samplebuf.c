// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <unistd.h>

#include "samplebuf.h"

/*
 * libbpf's perf_buffer__new() asks for a wakeup per sample: an interrupt
 * for every bpf_perf_event_output(), several µs each (a VM exit under KVM;
 * see tests/bench/RESULTS.md). A watermark costs the programs nothing per
 * sample and delays a sample by at most the reader's poll timeout.
 */
struct perf_buffer *sample_buffer_open(int map_fd, size_t pages,
				       perf_buffer_event_fn cb, void *ctx)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_BPF_OUTPUT,
		.sample_type = PERF_SAMPLE_RAW,
		.sample_period = 1,
		.watermark = 1,
		.wakeup_watermark = pages * sysconf(_SC_PAGESIZE) / 4,
	};

	return perf_buffer__new_raw(map_fd, pages, &attr, cb, ctx, NULL);
}
