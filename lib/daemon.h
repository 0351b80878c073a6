/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libflowacct's parts of a daemon: the two epochs of the tables and the
 * grace period between them, the flow cache and its expiry, the drain file
 * that makes a drain survive a kill, and the stream of records of one
 * interface (struct fa_stream). engine.h puts them together.
 */
#ifndef FLOWACCT_DAEMON_H
#define FLOWACCT_DAEMON_H

#include "table.h"

/* ---- epochs (epoch.c) -------------------------------------------------------- */

/* An ARRAY_OF_MAPS of our own whose update is an RCU grace period. */
struct fa_sync {
	int outer_fd;
	int inner_fd;
};
int fa_sync_open(struct fa_sync *s);
void fa_sync_close(struct fa_sync *s);
/* Returns once every program run that began before the call has ended. */
int fa_sync_wait(struct fa_sync *s);

int fa_epoch_write(int epoch_fd, __u32 epoch);
/*
 * Appends the rows of @epoch's table and its overflow rows (key: @ifindex
 * and the direction) to @t; the table's keys in *keys if @keys.
 */
int fa_epoch_read_rows(const int *fd, __u32 epoch, __u32 ifindex,
		       struct fa_table *t, struct flow_key **keys, size_t *nkeys);
/* Deletes @keys from @epoch's table and zeroes its overflow rows. Only for
 * a table no program writes (after a flip and a wait). */
int fa_epoch_clear(const int *fd, __u32 epoch, __u32 ifindex,
		   const struct flow_key *keys, size_t n);

/* ---- the flow cache (cache.c) --------------------------------------------------- */

struct fa_cache_cfg {
	__u64 idle_ns;		/* not seen for this long: idle */
	__u64 active_ns;	/* a record at least this often: active */
	__u64 quiet_ns;		/* after FIN both ways or RST: end */
	__u32 size;		/* flows; a new one past it evicts the least recent */
};

#define FA_DEFAULT_IDLE_MS	15000
#define FA_DEFAULT_ACTIVE_MS	60000
#define FA_DEFAULT_QUIET_MS	2000
#define FA_DEFAULT_CACHE_SIZE	262144

struct fa_cache;
struct fa_cachefile;

/* Where records go as the cache makes them; a non-zero return stops it. */
typedef int (*fa_record_fn)(void *ctx, const struct fa_record *r);

/*
 * A cache's entries as a daemon persists them: the slots, and the undo log
 * of the tick in progress. A slot is free when its touch is 0.
 */
struct fa_cache_slot {
	struct flow_key key;	/* its tunnel_tag was this slot's padding before */
	struct fa_cache_entry e;
};
_Static_assert(sizeof(struct fa_cache_slot) == 48 + sizeof(struct fa_cache_entry),
	       "the cache file's slots keep their layout");

/* FA_CACHE_UNDO_DROPS in an undo entry's slot: old is a drop slot's. */
#define FA_CACHE_UNDO_DROPS 0x80000000u

struct fa_cache_undo {
	__u32 slot;		/* | FA_CACHE_UNDO_DROPS: a drop slot's index */
	__u32 pad;
	union {
		struct fa_cache_slot old;	/* as it was before the tick */
		struct fa_cache_drops old_drops;
	};
};

struct fa_cache_store {
	struct fa_cache_slot *slots;	/* cfg.size of them */
	struct fa_cache_drops *drops;	/* cfg.size of them, used from the first on */
	/* 2 * cfg.size of them: a slot, and a drop slot, is saved once a tick. */
	struct fa_cache_undo *undo;
	__u64 *undo_n;			/* entries in undo */
	int fd;				/* the file the slots are mapped from, or -1 */
	__u64 slots_off;		/* where in it */
	__u64 drops_off;
};

/* A cache in memory of its own, persisted nowhere. */
int fa_cache_new(const struct fa_cache_cfg *cfg, struct fa_cache **c);
/*
 * A cache whose slots are @st's (a mapped file that outlives the process):
 * every change is made there, after the slot's old self went to the undo
 * log. @rollback: the log's tick never committed, and is undone first;
 * otherwise the log is dropped (its tick committed).
 */
int fa_cache_open(const struct fa_cache_cfg *cfg, const struct fa_cache_store *st,
		  bool rollback, struct fa_cache **c);
/* The tick's changes are committed: its undo log is emptied. */
void fa_cache_commit(struct fa_cache *c);
void fa_cache_free(struct fa_cache *c);

/*
 * Merges drained rows (counts since the previous drain) into the cache, in
 * the order of their last_seen (then key), so that "least recently seen" is
 * well defined; a new flow in a full cache evicts the least recently seen
 * one first, which leaves as a lack_of_resources record. @rows are left as
 * they are (a drain file's: a kill in the middle of sorting them in place
 * would leave them neither sorted nor whole); the cache sorts a copy.
 */
int fa_cache_merge(struct fa_cache *c, const struct fa_row *rows, size_t n,
		   fa_record_fn emit, void *ctx);
/* Applies the timeouts at @now (CLOCK_MONOTONIC ns): idle, active, end. */
int fa_cache_expire(struct fa_cache *c, __u64 now, fa_record_fn emit, void *ctx);
/* Every flow leaves: forced. */
int fa_cache_flush(struct fa_cache *c, fa_record_fn emit, void *ctx);
/* Every flow of one interface leaves, forced (it is followed no more). */
int fa_cache_flush_iface(struct fa_cache *c, __u32 ifindex, fa_record_fn emit, void *ctx);

/* The entries as they are: @fn gets each one. */
void fa_cache_foreach(const struct fa_cache *c,
		      void (*fn)(void *ctx, const struct flow_key *key,
				 const struct fa_cache_entry *e),
		      void *ctx);

/* ---- the drain file (drainfile.c) ---------------------------------------------- */

struct fa_drainfile;
/* Room for a full table of @max_flows, the overflow rows of @nifaces and a
 * full drop table. */
int fa_drainfile_open(const char *dirname, __u32 max_flows, __u32 nifaces, bool shared,
		      __u64 instance, struct fa_drainfile **df);
void fa_drainfile_close(struct fa_drainfile *df);
void fa_drainfile_remove(const char *dirname);
/*
 * Drains @table (its rows, and the overflow rows of the @nif interfaces
 * @ifindex: one for an attachment, a program set's members) into the file
 * for tick @gen, or finishes a drain for @gen a killed daemon began; *rows
 * are the file's (summed over CPUs), valid until the next drain. @ticks
 * reads the clock the rows' times are turned by (NULL: a program loaded
 * for this drain). @flows_empty: the caller knows the table's flow rows
 * are none, and it is not walked (its overflow and drop rows still are).
 */
int fa_drainfile_drain(struct fa_drainfile *df, const struct fa_tick_src *ticks,
		       const int *fd, __u32 table, bool flows_empty, const __u32 *ifindex,
		       size_t nif, __u64 gen, struct fa_row **rows, size_t *n);

/* ---- a daemon's stream of records for one interface (stream.c) -------------- */

struct fa_stream;

/*
 * Where records go: JSON lines, IPFIX, counters. Returns 0 once they are
 * written (to the kernel: a killed daemon loses nothing it wrote), or
 * -errno; the stream then keeps them in its journal and writes them again
 * before anything else.
 */
struct fa_sink {
	int (*write)(void *ctx, const struct fa_stream *s,
		     const struct fa_record *recs, size_t n, __u64 wall_off);
	void *ctx;
};

struct fa_stream_stats {
	__u64 ticks;		/* drains committed */
	__u64 rows;		/* rows drained */
	__u64 last_table_flows;	/* flows the table held when last drained */
	__u64 records[FA_END_LACK_OF_RESOURCES + 1];	/* by end reason */
	__u64 sink_errors;
	__u64 replayed;		/* records written again after a restart */
	__u64 last_drain_ns;	/* how long the last drain took */
	__u64 drain_ns_total;
};

/* A program set's interface in its stream: its books, as pinned. */
struct fa_stream_iface {
	__u32 ifindex;
	struct fa_iface_books b;
	/* Its records by end reason, since the stream was opened. */
	__u64 records[FA_END_LACK_OF_RESOURCES + 1];
};

struct fa_stream {
	struct fa_pinned p;
	char ifname[FA_IFNAMSIZ];	/* an attachment's; a set's are in ifs */
	/*
	 * A program set's stream (its record is interface 0's): the books of
	 * each interface (sorted by ifindex), and the interfaces whose rows
	 * the tables hold (the counters hash's; 0 among them: what arrives
	 * on an interface without rows).
	 */
	bool set;
	int books_fd;
	struct fa_stream_iface *ifs;
	size_t nifs, ifs_cap;
	__u32 *rows_of;
	size_t nrows_of, rows_of_cap;
	/* The interfaces whose every flow leaves (forced) in the next drain,
	 * the caller's: interfaces that left the set. */
	const __u32 *leave;
	size_t nleave;
	int rs_fd;
	struct fa_run_state rs;
	struct fa_cache *cache;
	struct fa_cachefile *cf;	/* the cache's slots, its undo log, the records */
	struct fa_cache_store store;
	struct fa_record *recs;	/* a tick's records, in the cache file */
	__u32 rec_cap;
	struct fa_cache_cfg cfg;
	struct fa_drainfile *df;
	__u32 epoch;		/* the table the programs write */
	__u32 draining;		/* the table this tick drains */
	bool drain_other;	/* the inactive table has rows to drain first */
	/*
	 * Per table: the programs' accounted packets (all counters' rows) read
	 * before the flip that made it the one they write, valid when it was
	 * emptied by a drain before that flip, until its next drain
	 * (table_quiet()); none after a restart, a forgotten interface, or
	 * fa_stream_forget_marks().
	 */
	struct {
		__u64 accounted;
		bool valid;
		bool emptied;	/* drained since it was last the programs' */
	} mark[FLOW_NR_EPOCHS];
	void *sum_buf;		/* the counters' rows, read for the sums */
	size_t sum_buf_size;
	struct fa_tick_src ticks;	/* loaded once: the clock is read every tick */
	struct fa_stream_stats stats;
};

#endif /* FLOWACCT_DAEMON_H */
