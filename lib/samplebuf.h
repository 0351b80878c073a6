/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reading the programs' sampled frames from their perf event array. */
#ifndef FLOWACCT_SAMPLEBUF_H
#define FLOWACCT_SAMPLEBUF_H

#include <linux/perf_event.h>
#include <bpf/libbpf.h>

/* The records of a PERF_TYPE_SOFTWARE/BPF_OUTPUT event with PERF_SAMPLE_RAW. */
struct perf_sample_raw {
	struct perf_event_header header;
	__u32 size;
	char data[];
};

struct perf_lost {
	struct perf_event_header header;
	__u64 id;
	__u64 lost;
};

/*
 * A reader of @pages pages per CPU on the perf event array @map_fd that is
 * woken when a quarter of a CPU's buffer is full, not per sample; call
 * perf_buffer__consume() after every poll for what is under that mark.
 */
struct perf_buffer *sample_buffer_open(int map_fd, size_t pages,
				       perf_buffer_event_fn cb, void *ctx);

#endif /* FLOWACCT_SAMPLEBUF_H */
