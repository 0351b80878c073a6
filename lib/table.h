/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libflowacct's tables and snapshots: the rows read from the maps (struct
 * fa_table), sorted, grouped and filtered; the counters of each hook; and a
 * snapshot of one or more interfaces' rows and counters.
 */
#ifndef FLOWACCT_TABLE_H
#define FLOWACCT_TABLE_H

#include "iface.h"

/* What rows gain from fa_enrich() (internal.h), and their cgroups' paths. */
struct fa_ext;
struct fa_cgroups;

/* ---- reading the maps (table.c) ------------------------------------------ */

enum fa_row_kind {
	FA_ROW_FLOW = 0,
	FA_ROW_OVERFLOW = 1,	/* packets accounted while the table was full */
	FA_ROW_EXPORTED = 2,	/* what a daemon already exported, per hook */
	FA_ROW_DROP = 3,	/* a drop row as drained: drops only, merged into its flow's */
};

/* A flow row as user space sees it, whatever the map mode. */
struct fa_row {
	struct flow_key key;
	__u32 flows;		/* flows merged into this row by --group-by */
	struct flow_value val;
	__u8 kind;		/* enum fa_row_kind */
	__u8 pad[3];
	__u32 ext;		/* 1 + its index in the table's ext, or 0 */
	struct fa_drops drops;	/* what the kernel dropped of it */
};

/* @d less what it was @before (an interval's drops; by reason as near as
 * two named reasons tell). */
void fa_drops_sub(struct fa_drops *d, const struct fa_drops *before);
/* The reason most of @d's packets had; 0: no drops. */
__u32 fa_drops_top(const struct fa_drops *d);
/* Adds @from's drops to @into, reason by reason (struct fa_drops). */
void fa_drops_add(struct fa_drops *into, const struct fa_drops *from);

struct fa_table {
	struct fa_row *rows;
	size_t n;
	size_t cap;
	/* After fa_table_biflow(): rows[i]'s other direction (zero if none). */
	struct flow_value *rev;
	/* After fa_enrich(): what rows gained, by their ext index. */
	struct fa_ext *ext;
	size_t next;
	struct fa_cgroups *cgroups;	/* the paths ext points into, or NULL */
};

/* Counters of one hook, summed over CPUs (and over interfaces in a dump). */
struct fa_hook_stats {
	__u64 c[FLOW_NR_COUNTERS];
	bool present;
};

/* The drop rows from @from on merged into their flows' rows (or made flow
 * rows of their own), rows of one key merged. */
void fa_table_fold_drops(struct fa_table *t, size_t from);
/* Room for @more rows past t->n, so that appends do not move the rows. */
int fa_table_reserve(struct fa_table *t, size_t more);
int fa_table_append(struct fa_table *t, const struct flow_key *key,
		    const struct flow_value *val, enum fa_row_kind kind);
void fa_table_free(struct fa_table *t);
/*
 * One slot of a flows map or an overflow row, as read: a live table's
 * (struct flow_map_value) with the clock read before it, replay's (struct
 * flow_replay_value) with @clock NULL.
 */
void fa_value_merge_map(struct flow_value *into, const void *slot,
			const struct fa_tick_clock *clock);

/*
 * Appends every flow of a flows map (either mode) to @t, one row each:
 * per-CPU values summed, a shared table's rows of one flow from several
 * CPUs added together (flow_key_set_row_cpu), times in CLOCK_MONOTONIC ns
 * (a live table's: @clock, read before it) or capture ns (replay's: @clock
 * NULL). If @keys is not NULL, also returns the keys read as the table
 * holds them, in *keys (an array the caller frees), for a drain to delete.
 */
int fa_table_read(int map_fd, const struct fa_tick_clock *clock,
		  struct fa_table *t, struct flow_key **keys, size_t *nkeys);
/*
 * Adds the per-CPU slots of a flow_stats map to @st (both directions): an
 * attachment's array, or @ifindex's rows in a program set's hash (an array
 * ignores @ifindex). A map of an older layout (fewer counters,
 * fa_stats_map_check()) adds 0 to those it lacks.
 */
int fa_stats_read(int map_fd, __u32 ifindex, struct fa_hook_stats st[FLOW_NR_DIRS]);
/*
 * Checks a flow_stats map: this build's layout, or an older one that holds
 * the first FLOW_NR_COUNTERS_STABLE or more of our counters and its own
 * sample tick after them. Returns its value size, or -EPROTO for another
 * layout.
 */
int fa_stats_map_check(int map_fd);
/*
 * The accounted packets of every row of a counters map (an attachment's
 * array, a program set's hash), summed over rows and CPUs, into *sum.
 * *buf (of *buf_size bytes) is the caller's, grown as needed, to free.
 * -E2BIG when it has more rows than max_values per-CPU values hold.
 */
int fa_stats_accounted_sum(int map_fd, size_t max_values, void **buf, size_t *buf_size,
			   __u64 *sum);
/*
 * Adds the overflow rows of the epochs in @epoch_mask (bit 0, bit 1), times
 * as fa_table_read's; @ifindex's in a program set, as fa_stats_read().
 */
int fa_overflow_read(int map_fd, __u32 ifindex, unsigned int epoch_mask,
		     const struct fa_tick_clock *clock,
		     struct flow_value ov[FLOW_NR_DIRS]);

/* ---- sorting, grouping, filtering (table.c) ------------------------------ */

enum fa_sort { FA_SORT_BYTES, FA_SORT_PACKETS, FA_SORT_LAST, FA_SORT_FIRST,
	       FA_SORT_DURATION };

/* Key fields rows can be grouped by. */
#define FA_GROUP_SRC	(1u << 0)
#define FA_GROUP_DST	(1u << 1)
#define FA_GROUP_SPORT	(1u << 2)
#define FA_GROUP_DPORT	(1u << 3)
#define FA_GROUP_PROTO	(1u << 4)
#define FA_GROUP_IFACE	(1u << 5)
#define FA_GROUP_DIR	(1u << 6)
#define FA_GROUP_PROCESS (1u << 7)	/* after fa_enrich() */
#define FA_GROUP_CGROUP	(1u << 8)	/* after fa_enrich() */
#define FA_GROUP_CONTAINER (1u << 9)	/* after fa_enrich() */
/* By the reason most of a row's drops had: the group's in val.pad (0: none). */
#define FA_GROUP_DROP_REASON (1u << 10)
#define FA_GROUP_TUNNEL	(1u << 11)	/* type, id, outer addresses: after a join */

void fa_table_sort(struct fa_table *t, enum fa_sort by);
/*
 * The same order as indices into t->rows, leaving the rows where they
 * are (for fa_view.order): a million rows need not be moved to be printed
 * once. The caller frees *@order.
 */
int fa_table_order(const struct fa_table *t, enum fa_sort by, size_t **order);

struct fa_prefix {
	__u8 addr[16];		/* IPv4-mapped for IPv4 */
	__u8 len;		/* bits, of the 128 */
	__u8 set;
};

int fa_prefix_parse(const char *s, struct fa_prefix *p);

/* ---- snapshots (snapshot.c) ----------------------------------------------- */

struct fa_iface_snap {
	char dirname[64];
	char ifname[FA_IFNAMSIZ];	/* its name now, or at attach if gone */
	struct fa_attach_state state;
	struct fa_hook_stats st[FLOW_NR_DIRS];
	bool has_drops;			/* a program set's with the drop program */
	struct flow_drop_stats drops;
};

/* A container, or the pod of one, as rows name it; "" where not known. */
struct fa_container {
	char id[65];
	char runtime[16];	/* docker, containerd, cri-o, podman */
	char name[128];
	char pod[254];
	char pod_uid[37];
	char qos[12];		/* the pod's QoS class: guaranteed, burstable, besteffort */
	char ns[64];		/* the pod's Kubernetes namespace */
	/* The cgroup it was found by, under the v2 mount ("" if longer):
	 * while it is there, so is the container. */
	char cgroup[512];
};

/* Rows and counters of one or more interfaces, times in ns since the epoch. */
struct fa_snapshot {
	struct fa_table t;
	struct fa_hook_stats total[FLOW_NR_DIRS];
	struct fa_names names;
	int hook[FLOW_NR_DIRS];		/* enum fa_hook per direction */
	struct fa_iface_snap *ifs;
	size_t nifs;
	/* A program set's drops on no interface of it (its drop books' row 0:
	 * no device, another namespace, an interface not watched). */
	bool has_drops_elsewhere;
	struct flow_drop_stats drops_elsewhere;
};

void fa_snapshot_free(struct fa_snapshot *s);

#endif /* FLOWACCT_TABLE_H */
