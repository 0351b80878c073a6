/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libflowacct: everything flowacct does, for the command-line tool, the
 * daemon, the tests, the fuzzer and the bench alike. It prints nothing and
 * keeps no global state: every function returns 0 (or a count) or -errno,
 * and the caller reports an error once, with its own context.
 */
#ifndef LIBFLOWACCT_H
#define LIBFLOWACCT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#include <linux/types.h>

#include "flow_kern_user.h"
#include "flow_pins.h"
#include "flow_sock.h"
#include "diag.h"

/* Poison the kernel's short type names: user space says __u32 or uint32_t. */
#pragma GCC poison u8 u16 u32 u64 s8 s16 s32 s64

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct flowacct_bpf;
struct json;

/* ---- names (names.c) ---------------------------------------------------- */

const char *fa_counter_name(int idx);
int fa_counter_kind(int idx);
const char *fa_direction_name(int dir);
const char *fa_proto_name(__u8 proto);	/* NULL when we have none */
const char *fa_end_reason_name(int reason);
const char *fa_ingress_name(int hook);
const char *fa_ingress_reason_name(int why);
const char *fa_sample_mode_name(int mode);
void fa_tcp_flags_str(__u32 flags, char buf[9]);
/* The same at @p (9 bytes of room); returns the end (a NUL). */
char *fa_tcp_flags_put(__u32 flags, char *p);
/* The text of an address of @k (IPv4 dotted, IPv6 as inet_ntop). */
void fa_addr_str(const struct flow_key *k, const __u8 *addr, char *buf, size_t len);
/* The same into @p, room for INET6_ADDRSTRLEN; returns the end (a NUL). */
char *fa_addr_put(const struct flow_key *k, const __u8 *addr, char *p);
/* "tcp 192.0.2.1:40000 > 192.0.2.2:80", "icmp 192.0.2.1 > 192.0.2.2 type 8 code 0" */
void fa_flow_key_str(const struct flow_key *k, char *buf, size_t len);
bool fa_key_is_icmp(const struct flow_key *k);
/* The other direction of @k's flow on the same interface: addresses and
 * ports swapped, the opposite hook. */
void fa_key_reverse(const struct flow_key *k, struct flow_key *r);
bool fa_key_has_ports(const struct flow_key *k);

/* ---- host and port (hostport.c) ------------------------------------------ */

/*
 * HOST, HOST:PORT, [IPV6]:PORT, [IPV6] or a bare IPv6 address (no port).
 * An empty HOST (":PORT") is left empty. -EINVAL: malformed; -ERANGE: the
 * port; -EDESTADDRREQ: no port and no @default_port (0), or no host.
 */
int fa_hostport_parse(const char *spec, char *host, size_t hostlen, __u16 *port,
		      __u16 default_port);

/* ---- time (clock.c) ----------------------------------------------------- */

/* CLOCK_MONOTONIC ns: the clock the programs stamp flows with. */
__u64 fa_mono_ns(void);
/* What to add to a CLOCK_MONOTONIC time to get ns since the epoch, now. */
__u64 fa_mono_to_wall_offset(void);

/* ---- the programs' clock (clock.c) -------------------------------------- */

/*
 * Live tables hold the low 32 bits of jiffies (replay's hold capture ns);
 * a clock read before a table turns them into CLOCK_MONOTONIC ns as it is
 * read. A pair read now, and the kernel's HZ.
 */
struct fa_tick_clock {
	__u64 ticks;
	__u64 mono_ns;
	unsigned int hz;
};

int fa_tick_clock_read(struct fa_tick_clock *c);
/*
 * @ticks, the low 32 bits of a tick count from less than 2^32 - 2^20 ticks
 * before the clock was read to 2^20 ticks after it, in CLOCK_MONOTONIC ns.
 */
__u64 fa_ticks_to_mono(const struct fa_tick_clock *c, __u32 ticks);

/* ---- identity of an interface (iface.c) --------------------------------- */

/*
 * An interface is its index in a network namespace: that survives a rename,
 * and a namespace inode tells namespaces apart. The cookie (never reused,
 * unlike an inode number) tells a live namespace from a dead one whose inode
 * number a new one got.
 */
struct fa_ifid {
	__u64 netns_ino;
	__u64 netns_cookie;	/* 0 where the kernel has no SO_NETNS_COOKIE */
	__u32 ifindex;
};

int fa_netns_self(__u64 *ino, __u64 *cookie);
/* -EINVAL: not an interface name; -ENODEV: none here by that name. */
int fa_ifid_by_name(const char *ifname, struct fa_ifid *id);
/* The name @id has now in this namespace; -ENODEV if it is gone. */
int fa_ifid_name(const struct fa_ifid *id, char name[FA_IFNAMSIZ]);
/* "net4026531840-if3": the pin directory's and lock file's name. */
void fa_ifid_dirname(const struct fa_ifid *id, char *buf, size_t len);
/* The driver (ETHTOOL_GDRVINFO), "" if the device has none to tell. */
int fa_iface_driver(const char *ifname, char *buf, size_t len);

/* ---- privileges and bpffs (pins.c) ------------------------------------- */

#define FA_PIN_ROOT	"/sys/fs/bpf/flowacct"
#define FA_RUN_DIR	"/run/flowacct"

enum fa_need {
	FA_NEED_BPF = 1 << 0,	/* CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON (or CAP_SYS_ADMIN) */
	FA_NEED_ROOT = 1 << 1,	/* uid 0: the pins are root's, mode 0700 */
};
/* 0, or -EPERM with @missing naming what is missing ("CAP_PERFMON"). */
int fa_check_privileges(unsigned int need, char *missing, size_t len);

/*
 * Makes sure pins can be made and found at /sys/fs/bpf. Returns 0, -ENOENT
 * (not mounted and not asked to mount), -EXDEV (a mount namespace made for
 * this one command, as 'ip netns exec' gives, where pins would vanish with
 * it), or another -errno.
 */
int fa_bpffs_prepare(bool mount_if_missing);

/* ---- the pins of one attached interface (pins.c) ------------------------ */

enum fa_pin {
	FA_PIN_FLOWS_0,
	FA_PIN_FLOWS_1,
	FA_PIN_OVERFLOW,
	FA_PIN_STATS,
	FA_PIN_SAMPLE_CFG,
	FA_PIN_SAMPLES,
	FA_PIN_EPOCH,
	FA_PIN_STATE,
	FA_PIN_OWNERS,
	FA_PIN_TCP_SEQ,
	FA_PIN_RTT,
	FA_NR_PINS,
};

const char *fa_pin_name(int pin);

struct fa_pinned {
	char dir[64];			/* its directory under FA_PIN_ROOT */
	struct fa_attach_state state;
	int fd[FA_NR_PINS];
};

/*
 * Opens every pin under @dirname and checks each map's type, key and value
 * size against what this build expects before anything is read. Returns 0,
 * -ENOENT (no such attachment), -EPROTO (another layout: attached by another
 * flowacct version), -EINPROGRESS (an attach that has not finished, or was
 * killed) or another -errno.
 */
int fa_pinned_open_dir(const char *dirname, struct fa_pinned *p);
int fa_pinned_open(const struct fa_ifid *id, struct fa_pinned *p);
void fa_pinned_close(struct fa_pinned *p);

/* One pin directory as found: its record, or why it could not be read. */
struct fa_pin_entry {
	char dirname[64];
	int err;			/* 0, or -errno from reading the record */
	struct fa_attach_state state;	/* when !err */
};
/* Every pin directory, in name order. */
int fa_pins_list(struct fa_pin_entry **list, size_t *n);
/* The attachment of @ifname (its name now, or its name at attach if it is
 * gone) in this namespace; -ENOENT if none. */
int fa_pins_find(const char *ifname, struct fa_pin_entry *out);

void fa_pin_path(char *buf, size_t len, const char *dirname, const char *name);
/* Removes what attach pinned, and the directory. Returns how many. */
int fa_pins_remove(const char *dirname);

int fa_state_map_create(const struct fa_attach_state *st);
int fa_state_map_read(int fd, struct fa_attach_state *st);

/* Bytes the kernel charges for a map (its fdinfo's memlock), or 0. */
__u64 fa_map_memory(int fd);

/* ---- locks (lock.c) ----------------------------------------------------- */

/*
 * A per-interface lock under /run/flowacct, held by attach and detach while
 * they work and by `flowacct run` for as long as it runs. The lock file
 * holds the holder's pid and what it is, so a refusal can name it. The
 * kernel drops the lock when the holder dies, kill -9 included.
 */
struct fa_lock {
	int fd;
};

enum fa_lock_kind { FA_LOCK_ADMIN, FA_LOCK_RUN, FA_LOCK_CAPTURE };

/* -EBUSY with *holder (pid) and *kind filled when someone else holds it. */
int fa_lock_take(const char *dirname, enum fa_lock_kind kind, struct fa_lock *l,
		 int *holder, int *holder_kind);
void fa_lock_release(struct fa_lock *l);
/* Whether a daemon holds @dirname's run lock: its pid, or 0. */
int fa_lock_owner(const char *dirname, enum fa_lock_kind kind);
const char *fa_lock_kind_name(int kind);

/* ---- the programs (progs.c) --------------------------------------------- */

enum fa_prog {
	FA_PROG_XDP = 1 << 0,
	FA_PROG_TC_EGRESS = 1 << 1,
	FA_PROG_TC_INGRESS = 1 << 2,
};

struct fa_load_opts {
	bool shared;		/* BPF_MAP_TYPE_HASH with atomic adds */
	__u32 max_flows;	/* of each epoch's table */
	bool replay;		/* lengths and time from flow_replay_frame */
	unsigned int progs;	/* FA_PROG_*: only these are loaded */
	bool owners;		/* TC egress notes new rows' sockets (flow_owners) */
	bool retrans;		/* TCP retransmissions tracked (flow_tcp_seq) */
	bool passive_rtt;	/* RTT from TCP timestamps (flow_ts_seen, flow_rtt) */
};

/* The largest --max-flows a table can have (the kernel's limits on a
 * preallocated hash's memory). */
__u32 fa_max_flows_limit(bool shared);

/* Opens the skeleton and configures it; the caller loads it (or libxdp does). */
int fa_progs_open(const struct fa_load_opts *o, struct flowacct_bpf **skel);
/* fa_progs_open() and load. */
int fa_progs_load(const struct fa_load_opts *o, struct flowacct_bpf **skel);
/* The fd of each pinnable map of a loaded skeleton, in enum fa_pin order
 * (FA_PIN_STATE: -1). */
void fa_progs_map_fds(struct flowacct_bpf *skel, int fd[FA_NR_PINS]);
struct bpf_object;
void fa_obj_map_fds(struct bpf_object *obj, int fd[FA_NR_PINS]);
/* The tables' type and size in another build of the same programs. */
int fa_obj_configure(struct bpf_object *obj, const struct fa_load_opts *o);

/* ---- reading the maps (table.c) ------------------------------------------ */

enum fa_row_kind {
	FA_ROW_FLOW = 0,
	FA_ROW_OVERFLOW = 1,	/* packets accounted while the table was full */
	FA_ROW_EXPORTED = 2,	/* what a daemon already exported, per hook */
};

/* A flow row as user space sees it, whatever the map mode. */
struct fa_row {
	struct flow_key key;
	__u32 flows;		/* flows merged into this row by --group-by */
	struct flow_value val;
	__u8 kind;		/* enum fa_row_kind */
	__u8 pad[3];
	__u32 ext;		/* 1 + its index in the table's ext, or 0 */
};

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

/* Room for @more rows past t->n, so that appends do not move the rows. */
int fa_table_reserve(struct fa_table *t, size_t more);
int fa_table_append(struct fa_table *t, const struct flow_key *key,
		    const struct flow_value *val, enum fa_row_kind kind);
void fa_table_free(struct fa_table *t);
void fa_value_merge(struct flow_value *into, const struct flow_value *v);
/*
 * One slot of a flows map or an overflow row, as read: a live table's
 * (struct flow_map_value) with the clock read before it, replay's (struct
 * flow_replay_value) with @clock NULL.
 */
void fa_value_merge_map(struct flow_value *into, const void *slot,
			const struct fa_tick_clock *clock);
/* The size of such a slot. */
size_t fa_map_value_size(const struct fa_tick_clock *clock);
/* Rows with equal keys (and kinds) become one, values merged. */
void fa_table_merge_equal(struct fa_table *t, size_t from);

/*
 * Appends every row of a flows map (either mode) to @t, per-CPU values
 * summed, times in CLOCK_MONOTONIC ns (a live table's: @clock, read before
 * it) or capture ns (replay's: @clock NULL). If @keys is not NULL, also
 * returns the keys read, in *keys (an array the caller frees), for a drain
 * to delete.
 */
int fa_table_read(int map_fd, const struct fa_tick_clock *clock,
		  struct fa_table *t, struct flow_key **keys, size_t *nkeys);
/*
 * Adds the per-CPU slots of a flow_stats map to @st (both directions). A map
 * of an older layout (fewer counters, fa_stats_map_check()) adds 0 to those
 * it lacks.
 */
int fa_stats_read(int map_fd, struct fa_hook_stats st[FLOW_NR_DIRS]);
/*
 * Checks a flow_stats map: this build's layout, or an older one that holds
 * the first FLOW_NR_COUNTERS_STABLE or more of our counters and its own
 * sample tick after them. Returns its value size, or -EPROTO for another
 * layout.
 */
int fa_stats_map_check(int map_fd);
/*
 * Adds the overflow rows of the epochs in @epoch_mask (bit 0, bit 1), times
 * as fa_table_read's.
 */
int fa_overflow_read(int map_fd, unsigned int epoch_mask,
		     const struct fa_tick_clock *clock,
		     struct flow_value ov[FLOW_NR_DIRS]);
void fa_stats_add(struct fa_hook_stats *into, const struct fa_hook_stats *from);

/* Checks a map against what this build expects. -EPROTO if it differs. */
int fa_map_check(int fd, const __u32 *types, size_t ntypes, __u32 key_size,
		 __u32 value_size);

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

void fa_table_sort(struct fa_table *t, enum fa_sort by);
/*
 * The same order as indices into t->rows, leaving the rows where they
 * are (for fa_view.order): a million rows need not be moved to be printed
 * once. The caller frees *@order.
 */
int fa_table_order(const struct fa_table *t, enum fa_sort by, size_t **order);
/*
 * One row per connection: each flow row with its other direction on the same
 * interface (addresses and ports swapped, the opposite hook; ICMP echo
 * request with its reply), whose counts go to t->rev. The row kept is the
 * direction seen first. Sorted by @by over both directions; not for a
 * grouped table.
 */
int fa_table_biflow(struct fa_table *t, enum fa_sort by);
void fa_table_group(struct fa_table *t, unsigned int group);

struct fa_prefix {
	__u8 addr[16];		/* IPv4-mapped for IPv4 */
	__u8 len;		/* bits, of the 128 */
	__u8 set;
};

struct fa_filter {
	struct fa_prefix src, dst;
	int port;		/* -1: any; else sport or dport */
	int proto;		/* -1: any */
};
int fa_prefix_parse(const char *s, struct fa_prefix *p);
bool fa_filter_match(const struct fa_filter *f, const struct fa_row *r);
void fa_table_filter(struct fa_table *t, const struct fa_filter *f);

/* ---- rates (rates.c) ------------------------------------------------------------ */

/* The rows of @cur with what each did since @prev (packets and bytes as
 * differences), appended to @out; rows that did nothing are left out. */
int fa_table_delta(const struct fa_table *prev, const struct fa_table *cur,
		   struct fa_table *out);
/* 1234567 -> "1.23M" (three significant digits, SI prefixes) and @unit. */
void fa_human(double v, const char *unit, char *buf, size_t len);

/* ---- interface names (ifnames.c) -------------------------------------------- */

/* ifindex -> name, for the rows of one snapshot (one network namespace). */
struct fa_names {
	size_t n;
	struct {
		__u32 ifindex;
		char name[FA_IFNAMSIZ];
	} *v;
};
int fa_names_add(struct fa_names *m, __u32 ifindex, const char *name);
const char *fa_names_get(const struct fa_names *m, __u32 ifindex);
void fa_names_free(struct fa_names *m);

/* ---- snapshots (snapshot.c) ----------------------------------------------- */

struct fa_iface_snap {
	char dirname[64];
	char ifname[FA_IFNAMSIZ];	/* its name now, or at attach if gone */
	struct fa_attach_state state;
	struct fa_hook_stats st[FLOW_NR_DIRS];
};

/* Rows and counters of one or more interfaces, times in ns since the epoch. */
struct fa_snapshot {
	struct fa_table t;
	struct fa_hook_stats total[FLOW_NR_DIRS];
	struct fa_names names;
	int hook[FLOW_NR_DIRS];		/* enum fa_hook per direction */
	struct fa_iface_snap *ifs;
	size_t nifs;
};

/*
 * Adds one attached interface: its counters first, then the rows of both
 * epochs' tables and overflow rows, so that while traffic flows the rows
 * hold at least what the counters say. Times are turned into ns since the
 * epoch with the clocks' offset taken now.
 */
int fa_snapshot_add(struct fa_snapshot *s, const struct fa_pinned *p);
/* The same from a set of map fds (enum fa_pin order), e.g. a loaded
 * skeleton's; times from jiffies by @ticks if not NULL (live tables), then
 * shifted by @time_offset. */
int fa_snapshot_add_maps(struct fa_snapshot *s, const int *fd,
			 const struct fa_attach_state *state, const char *dir,
			 const struct fa_tick_clock *ticks, __u64 time_offset);
/* Adds the counters only. */
int fa_snapshot_add_stats(struct fa_snapshot *s, const struct fa_pinned *p);
void fa_snapshot_free(struct fa_snapshot *s);
/* The hook of each direction of an attachment (names.c). */
void fa_state_hooks(const struct fa_attach_state *st, int hook[FLOW_NR_DIRS]);
/* Shifts the times of rows [from, n) by @off (0 stays 0). */
void fa_table_shift_times(struct fa_table *t, size_t from, __u64 off);

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

int fa_epoch_read(int epoch_fd, __u32 *epoch);
int fa_epoch_write(int epoch_fd, __u32 epoch);
/*
 * Appends the rows of @epoch's table and its overflow rows (key: @ifindex
 * and the direction) to @t; the table's keys in *keys if @keys.
 */
int fa_epoch_read_rows(const int *fd, __u32 epoch, __u32 ifindex,
		       struct fa_table *t, struct flow_key **keys, size_t *nkeys);
/* Deletes @keys from @epoch's table and zeroes its overflow rows. Only for
 * a table no program writes (after a flip and a wait). */
int fa_epoch_clear(const int *fd, __u32 epoch, const struct flow_key *keys,
		   size_t n);
int fa_table_delete(int map_fd, const struct flow_key *keys, size_t n);
/* Zeroes @epoch's overflow rows (a table no program writes). */
int fa_overflow_zero(int ov_fd, __u32 epoch);

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

/* Where records go as the cache makes them; a non-zero return stops it. */
typedef int (*fa_record_fn)(void *ctx, const struct fa_record *r);

int fa_cache_new(const struct fa_cache_cfg *cfg, struct fa_cache **c);
void fa_cache_free(struct fa_cache *c);
size_t fa_cache_count(const struct fa_cache *c);

/*
 * Merges drained rows (counts since the previous drain) into the cache, in
 * the order of their last_seen (then key), so that "least recently seen" is
 * well defined; a new flow in a full cache evicts the least recently seen
 * one first, which leaves as a lack_of_resources record. Sorts @rows.
 */
int fa_cache_merge(struct fa_cache *c, struct fa_row *rows, size_t n,
		   fa_record_fn emit, void *ctx);
/* Applies the timeouts at @now (CLOCK_MONOTONIC ns): idle, active, end. */
int fa_cache_expire(struct fa_cache *c, __u64 now, fa_record_fn emit, void *ctx);
/* Every flow leaves: forced. */
int fa_cache_flush(struct fa_cache *c, fa_record_fn emit, void *ctx);

/* Puts back an entry a daemon persisted. */
int fa_cache_restore(struct fa_cache *c, const struct flow_key *key,
		     const struct fa_cache_entry *e);
__u64 fa_cache_touch(const struct fa_cache *c);
void fa_cache_set_touch(struct fa_cache *c, __u64 touch);

/* The entries as they are: @fn gets each one. */
void fa_cache_foreach(const struct fa_cache *c,
		      void (*fn)(void *ctx, const struct flow_key *key,
				 const struct fa_cache_entry *e),
		      void *ctx);

/*
 * What changed since the last call: the entries now in the cache that
 * changed (removed 0) and the keys that left and are not back (removed 1).
 * The caller frees *keys and *chg.
 */
int fa_cache_changes(struct fa_cache *c, struct flow_key **keys,
		     struct fa_journal_change **chg, size_t *n);

/*
 * The rows a daemon shows for its cache: totals since each flow started,
 * with @extra (rows of the kernel's tables not yet drained) added to the
 * flows they belong to, found through the cache's own hash.
 */
int fa_cache_dump(const struct fa_cache *c, struct fa_table *t,
		  const struct fa_row *extra, size_t nextra);

/* ---- the drain file (drainfile.c) ---------------------------------------------- */

struct fa_drainfile;
int fa_drainfile_open(const char *dirname, __u32 max_flows, bool shared,
		      __u64 instance, struct fa_drainfile **df);
void fa_drainfile_close(struct fa_drainfile *df);
void fa_drainfile_remove(const char *dirname);
/* Whether the file holds rows of a tick later than @committed_gen. */
int fa_drainfile_pending(const struct fa_drainfile *df, __u64 committed_gen,
			 __u32 *table);
/*
 * Drains @table (its rows and overflow rows) into the file for tick @gen,
 * or finishes a drain for @gen a killed daemon began; *rows are the file's
 * (summed over CPUs), valid until the next drain.
 */
int fa_drainfile_drain(struct fa_drainfile *df, const int *fd, __u32 table,
		       __u32 ifindex, __u64 gen, struct fa_row **rows, size_t *n);
int fa_drainfile_rows(const struct fa_drainfile *df, __u64 committed_gen,
		      const struct fa_row **rows, size_t *n);

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

struct fa_stream {
	struct fa_pinned p;
	char ifname[FA_IFNAMSIZ];
	int rs_fd, cache_fd, jrec_fd, jchg_fd;
	struct fa_run_state rs;
	struct fa_cache *cache;
	struct fa_cache_cfg cfg;
	struct fa_drainfile *df;
	__u32 epoch;		/* the table the programs write */
	__u32 draining;		/* the table this tick drains */
	bool drain_other;	/* the inactive table has rows to drain first */
	bool journal_empty;	/* the pinned journal is known to hold nothing */
	struct fa_stream_stats stats;
};

/*
 * Opens @dirname's attachment as a daemon's stream: creates (or finds, after
 * a restart) the daemon's pinned state, finishes a tick a killed daemon had
 * committed (its records go to @sink again: duplicates, with the same
 * instance and sequence numbers), and loads the persisted cache.
 */
int fa_stream_open(struct fa_stream *s, const char *dirname,
		   const struct fa_cache_cfg *cfg, const struct fa_sink *sink);
void fa_stream_close(struct fa_stream *s);
/* Removes the daemon's pinned state (not the attachment's). */
void fa_stream_unpin(struct fa_stream *s, bool keep_run_state);

/* Flips the epoch (unless the inactive table must be drained first); the
 * caller then waits (fa_sync_wait) before fa_stream_drain(). */
int fa_stream_flip(struct fa_stream *s);
/* The tick's work on the table flipped away from: drain, merge, expire
 * at @now, journal, commit, write, apply, clear. @flush: every flow leaves
 * (forced) too. */
int fa_stream_drain(struct fa_stream *s, __u64 now, bool flush,
		    const struct fa_sink *sink);
/* Drains the table the programs are not writing, without a flip (shutdown,
 * after the programs are gone). */
int fa_stream_drain_other(struct fa_stream *s, __u64 now, bool flush,
			  const struct fa_sink *sink);

/*
 * The daemon's view for dump: counters first, then the cache (totals since
 * each flow started), the tables not yet drained, and one exported row per
 * direction with what left in records of flows no longer in the cache.
 */
int fa_stream_snapshot(const struct fa_stream *s, struct fa_snapshot *snap);

/* ---- IPFIX export (ipfix.c) ---------------------------------------------------- */

/* The options records' domain: the flow domain with this bit set. */
#define FA_IPFIX_OPTIONS_DOMAIN		0x80000000u
#define FA_IPFIX_MAX_COLLECTORS		8
#define FA_IPFIX_MIN_MESSAGE		256	/* holds any one template or record */
#define FA_IPFIX_DEFAULT_MESSAGE	1400
#define FA_IPFIX_DEFAULT_REFRESH_MS	60000
#define FA_IPFIX_REFRESH_MESSAGES	100	/* templates again after this many */
#define FA_IPFIX_INITIAL_TEMPLATES	3	/* copies before the first data */

struct fa_ipfix_target {
	char name[300];		/* as given */
	char host[256];
	__u16 port;
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

/* HOST, HOST:PORT, [IPV6]:PORT or a bare IPv6 address; the port defaults to
 * 4739. -EINVAL: malformed; -ERANGE: the port. */
int fa_ipfix_target_parse(const char *spec, struct fa_ipfix_target *t);
/* -ENOENT: no such host; -EAGAIN: the resolver could not answer now. */
int fa_ipfix_target_resolve(struct fa_ipfix_target *t);
/* Stable per host and set of interfaces; never 0, top bit clear. */
__u32 fa_ipfix_default_domain(const char *const *ifnames, size_t n);

struct fa_ipfix_cfg {
	__u32 domain;			/* of the flow records */
	__u32 max_message;		/* bytes, header included */
	__u64 refresh_ns;		/* templates and options again after */
	__u32 refresh_messages;		/* templates again after this many */
	__u16 active_timeout_s, idle_timeout_s;	/* told in the options */
};

struct fa_ipfix_stats {
	__u64 messages;		/* sent, of every kind */
	__u64 octets;
	__u64 records;		/* flow records sent */
	__u64 options_records;
	__u64 template_sends;
	__u64 send_errors;	/* messages the socket refused */
	__u64 records_not_sent;	/* the flow records in those */
	__u64 skipped;		/* records a killed daemon had sent already */
	int last_error;
};

struct ipfix_state;

struct fa_ipfix_collector {
	struct fa_ipfix_target target;
	int fd;
	struct ipfix_state *st;		/* persisted: see ipfix.c */
	__u64 templates_ns, options_ns;	/* last sent */
	__u32 since_templates;		/* data messages since */
	__u32 templates_due;		/* copies to send before data */
	bool resend_templates;		/* after a send error */
	struct fa_ipfix_stats stats;
};

struct fa_ipfix {
	struct fa_ipfix_cfg cfg;
	struct fa_ipfix_collector c[FA_IPFIX_MAX_COLLECTORS];
	size_t n;
	__u8 *buf;
	size_t *order, order_cap;
};

struct fa_ipfix_iface {
	__u32 ifindex;
	const char *name;
};

int fa_ipfix_init(struct fa_ipfix *x, const struct fa_ipfix_cfg *cfg);
/* A resolved target: its socket and its persisted numbering. */
int fa_ipfix_add(struct fa_ipfix *x, const struct fa_ipfix_target *t);
void fa_ipfix_free(struct fa_ipfix *x);
/* Forgets the collectors' persisted numbering (a run that wants none). */
void fa_ipfix_remove_state(struct fa_ipfix *x);
/* One interface's records (sorted by seq) to every collector. Never fails
 * and never blocks: what cannot be sent is counted in the stats. */
void fa_ipfix_export(struct fa_ipfix *x, __u64 instance, const struct fa_record *recs,
		     size_t n, __u64 wall_off);
/* Templates and options records when due, or now with @force. */
void fa_ipfix_refresh(struct fa_ipfix *x, const struct fa_ipfix_iface *ifs, size_t nifs,
		      __u64 ignored_packets, bool force);

/* ---- the metrics page (http.c, prom.c) ----------------------------------------- */

struct fa_http;
/* Fills *@body (malloc'd, freed by the server) for @url and sets *@type;
 * non-zero: not found. */
typedef int (*fa_http_page)(void *ctx, const char *url, char **body, size_t *len,
			    const char **type);
/* Listens on @host (empty: every address) and @port; answers from the
 * caller's loop: poll fa_http_fd() and call fa_http_run(). */
int fa_http_open(const char *host, __u16 port, fa_http_page page, void *ctx,
		 struct fa_http **h);
int fa_http_fd(const struct fa_http *h);
void fa_http_run(struct fa_http *h);
__u64 fa_http_requests(const struct fa_http *h);
void fa_http_close(struct fa_http *h);

/* Prometheus text format: a family's HELP and TYPE, then its samples;
 * @labels is name, value, ..., NULL (or NULL for none). */
void fa_prom_family(FILE *f, const char *name, const char *type, const char *help);
void fa_prom_u64(FILE *f, const char *name, const char *const *labels, __u64 v);
void fa_prom_f64(FILE *f, const char *name, const char *const *labels, double v);

/* What the metrics page shows of one interface of a daemon. */
struct fa_metrics_iface {
	const char *iface;
	int hook[FLOW_NR_DIRS];			/* enum fa_hook */
	struct fa_hook_stats st[FLOW_NR_DIRS];
	const struct fa_stream_stats *ss;
	__u64 cache_flows, cache_size, table_size;
};

struct fa_metrics {
	const struct fa_metrics_iface *ifs;
	size_t nifs;
	__u64 flips, flip_ns_total, flip_ns_max;
	__u64 json_records;
	const struct fa_ipfix *ipfix;		/* NULL: no export */
};

/* The daemon's metrics in Prometheus' text format. */
void fa_print_metrics(FILE *f, const struct fa_metrics *m);

/* ---- the control socket (ctl.c) ------------------------------------------------ */

void fa_ctl_path(int pid, char *buf, size_t len);
/* The daemon's listening socket (non-blocking). */
int fa_ctl_listen(int pid);
void fa_ctl_unlink(int pid);
/* One request from a client, whole (fa_query_decode() reads it). */
int fa_ctl_read_request(int fd, char *buf, size_t len);
int fa_ctl_reply(int fd, bool ok, const void *body, size_t len);
/* Refuses a request of protocol @version (0: not a request of any
 * version, as the first clients sent) with @msg, in a form it reads. */
int fa_ctl_refuse(int fd, int version, const char *msg);
/*
 * An answer streamed as it is written to @f: the status line goes before
 * the body's first bytes. fa_ctl_reply_end() sends "ERR" and @err instead
 * if the answer failed before any of it went out (-EPROTO after: the
 * client has a truncated body).
 */
struct fa_ctl_reply {
	FILE *f;
	int fd;
	bool started;
	bool discard;
	int err;
};

int fa_ctl_reply_begin(struct fa_ctl_reply *r, int fd);
int fa_ctl_reply_end(struct fa_ctl_reply *r, bool ok, const char *err);
/* A snapshot in binary, for a client to merge (same build only). */
int fa_snapshot_encode(const struct fa_snapshot *s, FILE *f);
int fa_snapshot_decode(const void *buf, size_t len, struct fa_snapshot *s);

/* ---- attach and detach (attach.c) ------------------------------------------ */

#define FA_XDP_PROG_NAME	"flowacct_xdp"
#define FA_TC_PROG_NAME		"flowacct_tc"
#define FA_TC_IN_PROG_NAME	"flowacct_tc_in"

struct fa_attach_opts {
	const char *ifname;
	int ingress;		/* enum fa_ingress_hook; 0: choose by driver */
	bool shared;
	__u32 max_flows;
	struct flow_sample_config sample;
	bool by_run;
	bool owners;		/* --attribution */
	bool retrans;		/* --retrans */
	bool passive_rtt;	/* --passive-rtt */
};

/* How far attach got: where it failed, for the caller's message. */
enum fa_attach_step {
	FA_STEP_RECORD = 1,	/* pinning the attach record */
	FA_STEP_LOAD,		/* loading the programs */
	FA_STEP_XDP,		/* attaching XDP */
	FA_STEP_SAMPLING,
	FA_STEP_QDISC,		/* creating clsact */
	FA_STEP_TC_INGRESS,
	FA_STEP_TC_EGRESS,
	FA_STEP_PIN,		/* pinning the maps */
};

struct fa_attach_result {
	struct fa_attach_state state;
	char dirname[64];
	enum fa_attach_step step;	/* the step that failed */
};

/* The hook "auto" picks for a driver, and why. */
int fa_ingress_auto(const char *driver, int *why);

/*
 * Attaches both hooks and pins everything. On failure, everything it did is
 * undone, and res->step says where it failed. Takes no lock: the caller
 * holds the interface's (fa_lock_take).
 */
int fa_attach(const struct fa_attach_opts *o, struct fa_attach_result *res);

/*
 * Undoes an attach, whole or partial: what @st records (NULL: no record
 * survived), and any program of ours found on the interface by name.
 * @ifindex 0: the interface is gone; only the pins go. Returns how many
 * things were removed (0: nothing of ours was there), or -errno.
 */
int fa_detach(const char *dirname, const struct fa_attach_state *st,
	      int ifindex);

struct fa_live {
	bool ingress;		/* the recorded ingress program is attached */
	bool egress;
};
int fa_attach_live(const struct fa_attach_state *st, struct fa_live *live);

/* Programs of ours on @ifindex, recorded or not (a killed attach's). */
struct fa_found {
	__u32 xdp_id, tc_id, tci_id;
};
int fa_find_ours(int ifindex, struct fa_found *f);

/* ---- sampled packets to a file (sample.c) ------------------------------------ */

struct fa_sample_writer;
/* @path "-": standard output. @hook: each direction's enum fa_hook. */
int fa_sample_writer_open(struct fa_sample_writer **w, const char *path,
			  bool pcapng, const char *ifname,
			  const int hook[FLOW_NR_DIRS]);
/*
 * Writes one sample (its header as the programs sent it, then cap_len
 * bytes). @ts_off turns the header's clock into ns since the epoch (0 if it
 * already is). Returns 0, -EINVAL for a record too short for what it
 * claims, or -EIO once writing failed.
 */
int fa_sample_writer_write(struct fa_sample_writer *w, const void *rec,
			   __u32 size, __u64 ts_off);
int fa_sample_writer_flush(struct fa_sample_writer *w);
__u64 fa_sample_writer_count(const struct fa_sample_writer *w);
int fa_sample_writer_close(struct fa_sample_writer *w);

/* ---- the socket programs (sockets.c) ---------------------------------------- */

/* Host-wide, apart from the interfaces' pins. */
#define FA_SOCK_PIN_ROOT	"/sys/fs/bpf/flowacct-sockets"

enum fa_sock_pin {
	FA_SOCK_PIN_SOCKS,
	FA_SOCK_PIN_LISTENERS,
	FA_SOCK_PIN_SOCKOPS,	/* the links: while pinned, attached */
	FA_SOCK_PIN_CREATE,
	FA_NR_SOCK_PINS,
};

struct fa_sockets_result {
	char cgroup_root[256];	/* the cgroup v2 mount attached to */
	size_t namespaces;	/* network namespaces walked for existing sockets */
	int procs_filled;	/* existing sockets whose process /proc named */
	const char *step;	/* where it failed, or NULL */
};

/* Where cgroup v2 is mounted (/sys/fs/cgroup, or .../unified on a hybrid). */
int fa_cgroup2_mount(char *buf, size_t len);
/*
 * Attaches the socket programs at the cgroup v2 root and pins them; adopts
 * the TCP connections of every network namespace. -EEXIST if attached.
 * On failure nothing stays attached or pinned.
 */
int fa_sockets_attach(struct fa_sockets_result *res);
/* Unpins (and so detaches) them. Returns how many pins it removed. */
int fa_sockets_detach(void);
bool fa_sockets_attached(void);
int fa_sockets_open(int *socks_fd, int *listeners_fd);
/* Fills in the process of sockets (and listeners) that have only their
 * inode, from /proc. Returns how many sockets it filled, or -errno. */
int fa_sockets_fill_procs(int socks_fd, int listeners_fd);

/* ---- enrichment (enrich.c) ---------------------------------------------------- */

/* What a flow row gains from the socket programs and the per-flow maps. */
struct fa_ext {
	__u64 cookie;		/* 0: no local socket known */
	__u64 cgroup_id;	/* 0: not known */
	__u64 retrans_segs;
	__u64 retrans_bytes;
	struct flow_rtt prtt;	/* with FA_EXT_PRTT */
	unsigned int flags;	/* FA_EXT_* */
	struct flow_sock sock;	/* with FA_EXT_SOCK */
	const char *cgroup_path;	/* in a struct fa_cgroups, or NULL */
	char container[65];
};

#define FA_EXT_SOCK	(1u << 0)	/* sock is the row's socket */
#define FA_EXT_RETRANS	(1u << 1)	/* retransmissions were tracked */
#define FA_EXT_PRTT	(1u << 2)	/* passive RTT has samples */

/*
 * Joins each flow row of @s to what the maps know of it: the socket a TC
 * egress program noted (or, for a received flow, the one its reply came
 * from), the socket table's process, cgroup and TCP metrics, and the
 * packet-level retransmissions. Rows gain an ext index into s->t.ext.
 */
int fa_enrich(struct fa_snapshot *s);
/*
 * The same for one key, by lookups in an interface's pins (@fd, enum
 * fa_pin order) and the socket table (@socks_fd, or -1): what a daemon's
 * records carry. Without the TC egress owners, no socket. The cgroup's
 * path comes from @cg (NULL: none), the caller's cache, kept from call to
 * call: the path stays valid until fa_cgroups_free(@cg).
 */
void fa_enrich_key(const int *fd, const struct fa_attach_state *st, int socks_fd,
		   const struct flow_key *k, struct fa_ext *e, struct fa_cgroups *cg);
/* Drops what the maps beside the tables keep of a flow that ended. */
void fa_enrich_forget(const int *fd, const struct flow_key *k);
/* The row's extension, or NULL. */
const struct fa_ext *fa_row_ext(const struct fa_table *t, const struct fa_row *r);

/* ---- output documents (columns.c, rows.c, documents.c, books.c) ------------------------------------------ */

struct fa_out;

/* The columns of the flow table (dump -o, top -o). */
enum fa_col {
	FA_COL_DIR, FA_COL_IFACE, FA_COL_IFINDEX, FA_COL_PROTO, FA_COL_SRC,
	FA_COL_SPORT, FA_COL_DST, FA_COL_DPORT, FA_COL_FLOWS, FA_COL_PACKETS,
	FA_COL_BYTES, FA_COL_RPACKETS, FA_COL_RBYTES, FA_COL_FLAGS, FA_COL_FIRST, FA_COL_LAST, FA_COL_AGE,
	FA_COL_IDLE, FA_COL_DURATION, FA_COL_COOKIE, FA_COL_PROCESS, FA_COL_PID,
	FA_COL_COMM, FA_COL_CGROUP, FA_COL_CONTAINER, FA_COL_SRTT, FA_COL_RTTVAR,
	FA_COL_MINRTT, FA_COL_CWND, FA_COL_STATE, FA_COL_SOCK_RETRANS, FA_COL_RETRANS,
	FA_COL_RETRANS_BYTES, FA_COL_PRTT, FA_COL_PRTT_MIN,
	FA_COL_BPS, FA_COL_PPS,	/* rates: a view over an interval only */
	FA_NR_COLS,
};

#define FA_MAX_COLS 48

struct fa_view {
	unsigned int group;	/* FA_GROUP_* of a grouped table, or 0 */
	bool human;		/* -H: packets and bytes in k, M, G */
	bool biflow;		/* rows are connections (fa_table_biflow) */
	size_t top;		/* 0: all rows */
	__u64 now_ns;		/* wall clock, for age and idle */
	const struct fa_names *names;
	unsigned char cols[FA_MAX_COLS];	/* text columns, enum fa_col */
	size_t ncols;		/* 0: the default ones */
	int hook[FLOW_NR_DIRS];	/* enum fa_hook of each direction, for names */
	bool by_column;		/* JSON rows column by column (tests compare) */
	const size_t *order;	/* JSON: rows in this order (fa_table_order) */
	double rate_secs;	/* > 0: rows are what flows did in so many seconds */
};

/* Hooks, for the "hook" field of counters. */
enum fa_hook { FA_HOOK_NONE, FA_HOOK_XDP, FA_HOOK_TC, FA_HOOK_MIXED };
const char *fa_hook_name(int hook);

/* "dir,iface,src" or "+age,idle" (added to the default ones). */
int fa_cols_parse(const char *s, struct fa_view *v);
/* The names fa_cols_parse() takes, ", " between, into @buf. */
void fa_col_names(char *buf, size_t len);

/* The text cells of @v's columns for row @r (NULL: their headers), in @buf. */
void fa_format_cols(char *buf, size_t len, const struct fa_table *t,
		    const struct fa_row *r, const struct fa_view *v);
/* {"flows":[...],"counters":{...},"hooks":[...]}, or the table and books. */
void fa_print_flow_doc(struct fa_out *o, const struct fa_table *t,
		       const struct fa_hook_stats st[FLOW_NR_DIRS],
		       const struct fa_view *v);
/* "counters" and "hooks" (JSON), or each present hook's books (text). */
void fa_print_counters(struct fa_out *o, const struct fa_hook_stats st[FLOW_NR_DIRS],
		       const struct fa_view *v);
/* {"interfaces":[...],"counters":...,"hooks":...}, or each interface's books. */
void fa_print_stats_doc(struct fa_out *o, const struct fa_snapshot *s);

/* One attachment as status shows it. */
struct fa_status {
	struct fa_pin_entry pin;
	char ifname[FA_IFNAMSIZ];	/* its name now; "" if gone or elsewhere */
	bool here;			/* in this network namespace */
	bool gone;			/* the interface no longer exists */
	struct fa_live live;
	struct flow_sample_config sample;
	__u64 memory;			/* bytes of both epochs' tables */
	int daemon;			/* pid of the `flowacct run` that owns it */
};

/* Programs of ours on an interface that no record names. */
struct fa_orphan {
	char ifname[FA_IFNAMSIZ];
	__u32 ifindex;
	struct fa_found found;
};

/* @daemon_info, when not NULL, adds a "daemon" object to an interface a
 * daemon owns (it is the daemon that prints the document then). */
void fa_print_status_doc(struct fa_out *o, const struct fa_status *st, size_t n,
			 const struct fa_orphan *orph, size_t norph,
			 void (*daemon_info)(struct fa_out *o, const char *dirname,
					     void *ctx),
			 void *ctx);

/* One record as a JSON line (no newline): {"type":"flow",...}. */
void fa_print_record(struct fa_out *o, const struct fa_record *r,
		     const char *ifname, __u64 instance, __u64 wall_off,
		     const struct fa_ext *x);
/* The counters of one interface as a JSON line: {"type":"counters",...}. */
void fa_print_counters_line(struct fa_out *o, const struct fa_stream *s,
			    const struct fa_hook_stats st[FLOW_NR_DIRS]);

/* Whether the books of a hook balance: seen == accounted + sum(reasons). */
bool fa_books_balance(const struct fa_hook_stats *st);

#include "report.h"
#include "attach.h"
#include "capture.h"
#include "replay.h"
#include "engine.h"

#endif /* LIBFLOWACCT_H */
