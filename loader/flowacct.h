/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Internal interfaces of the flowacct command-line tool. */
#ifndef FLOWACCT_H
#define FLOWACCT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <linux/types.h>

#include "flow_kern_user.h"

/* Poison the kernel's short type names: user space says __u32 or uint32_t. */
#pragma GCC poison u8 u16 u32 u64 s8 s16 s32 s64

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* log.c */
extern int verbose;
extern bool json_output;
void pr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void libbpf_log_setup(void);
void libbpf_log_tail(int lines);
void log_keep(const char *fmt, va_list ap);
const char *log_find(const char *needle);

/* flowtab.c: the flow table as user space sees it, whatever the map mode */
struct flow_row {
	struct flow_key key;
	struct flow_value val;
	__u32 flows;		/* flows merged into this row by --group-by */
	bool overflow;
};

/* Key fields rows can be grouped by. */
#define GROUP_SRC	(1u << 0)
#define GROUP_DST	(1u << 1)
#define GROUP_SPORT	(1u << 2)
#define GROUP_DPORT	(1u << 3)
#define GROUP_PROTO	(1u << 4)
#define GROUP_IFACE	(1u << 5)
#define GROUP_DIR	(1u << 6)

struct flow_table {
	struct flow_row *rows;
	size_t n;
	size_t cap;
};

/* Counters of one hook, summed over CPUs (and over interfaces in a dump). */
struct hook_stats {
	__u64 counters[FLOW_NR_COUNTERS];
	struct flow_value overflow;
	bool present;
};

enum flow_sort { SORT_BYTES, SORT_PACKETS, SORT_LAST };

int flow_table_read(int map_fd, struct flow_table *t);
int flow_table_append(struct flow_table *t, const struct flow_key *key,
		      const struct flow_value *val, bool overflow);
void flow_table_add_overflow(struct flow_table *t,
			     const struct hook_stats *st, __u32 ifindex,
			     __u8 direction);
void flow_table_sort(struct flow_table *t, enum flow_sort by);
void flow_table_group(struct flow_table *t, unsigned int group);
void flow_table_free(struct flow_table *t);
void flow_value_merge(struct flow_value *into, const struct flow_value *v);
int hook_stats_read(int map_fd, struct hook_stats st[FLOW_NR_DIRS]);

/* report.c */
struct report {
	struct flow_table *flows;
	struct hook_stats *stats;	/* FLOW_NR_DIRS slots */
	size_t top;			/* 0: all rows */
	unsigned int group;		/* GROUP_* of a grouped table, or 0 */
};

struct json;
void report_print(const struct report *r);
void report_counters(const struct hook_stats *st);
void report_counters_json(struct json *j, const struct hook_stats *st);
const char *counter_name(int idx);
int counter_kind(int idx);
const char *direction_name(int dir);
const char *hook_name(int dir);
void flow_key_str(const struct flow_key *k, char *buf, size_t len);

/* capture.c: sampled packets to pcap or pcapng */
struct sample_writer;
int sample_writer_open(struct sample_writer **w, const char *path, bool pcapng,
		       const char *ifname);
int sample_writer_write(struct sample_writer *w, const void *rec, __u32 size,
			__u64 ts_off);
__u64 sample_writer_count(const struct sample_writer *w);
void sample_writer_close(struct sample_writer *w);
const char *sample_mode_name(int mode);
int parse_sample_mode(const char *s, __u32 *mode);
int parse_sample_rate(const char *s, __u32 *rate);
int parse_snaplen(const char *s, __u32 *snaplen);

/* flowacct.c: option values shared by several commands */
int parse_u64(const char *s, __u64 min, __u64 max, __u64 *out);
int parse_map_mode(const char *s, bool *shared);
int parse_max_flows(const char *s, __u32 *max_flows);

/* the commands */
int do_replay(int argc, char **argv);
int do_attach(int argc, char **argv);
int do_detach(int argc, char **argv);
int do_status(int argc, char **argv);
int do_dump(int argc, char **argv);
int do_stats(int argc, char **argv);
int do_capture(int argc, char **argv);
int do_set(int argc, char **argv);

#endif /* FLOWACCT_H */
