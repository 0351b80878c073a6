/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Inside libflowacct only: what the .c files of lib/ call in one another and
 * nothing outside lib/ does. The command (loader/) never includes it; a
 * white-box test may, and says why. Sections as in the area headers, each
 * naming the file that defines what it declares.
 */
#ifndef FLOWACCT_INTERNAL_H
#define FLOWACCT_INTERNAL_H

#include <string.h>

#include "libflowacct.h"

/* ---- names (names.c) ---------------------------------------------------- */

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

/* A flow key's hash for user space's own indexes (the cache, a table's
 * rows of one flow): a word at a time, mixed. */
static inline __u32 fa_key_hash(const struct flow_key *k)
{
	const __u32 *w = (const __u32 *)k;
	__u64 h = 0x9e3779b97f4a7c15ull;
	size_t i;

	for (i = 0; i < sizeof(*k) / 4; i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return (__u32)h;
}

/* FNV-1a, 32 bits: hashes that must come out the same from run to run. */
#define FA_FNV1A_BASIS 2166136261u
static inline __u32 fa_fnv1a(__u32 h, const void *data, size_t len)
{
	const __u8 *p = data;

	while (len--) {
		h ^= *p++;
		h *= 16777619u;
	}
	return h;
}

/* ---- host and port (hostport.c) ------------------------------------------ */

/*
 * HOST, HOST:PORT, [IPV6]:PORT, [IPV6] or a bare IPv6 address (no port).
 * An empty HOST (":PORT") is left empty. -EINVAL: malformed; -ERANGE: the
 * port; -EDESTADDRREQ: no port and no @default_port (0), or no host.
 */
int fa_hostport_parse(const char *spec, char *host, size_t hostlen, __u16 *port,
		      __u16 default_port);

/* ---- time (clock.c) ----------------------------------------------------- */

/* What to add to a CLOCK_MONOTONIC time to get ns since the epoch, now. */
__u64 fa_mono_to_wall_offset(void);

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
/* Whether program @id is named @want (BPF_OBJ_NAME_LEN). */
bool fa_prog_is(__u32 id, const char *want);
/* Removes clsact if no filter, ours or not, is left on it. */
int fa_tc_remove_qdisc(int ifindex);
/* "net4026531840-if3": the pin directory's and lock file's name. */
void fa_ifid_dirname(const struct fa_ifid *id, char *buf, size_t len);
/* The driver (ETHTOOL_GDRVINFO), "" if the device has none to tell. */
int fa_iface_driver(const char *ifname, char *buf, size_t len);

/* ---- privileges and bpffs (pins.c) ------------------------------------- */

#define FA_RUN_DIR	"/run/flowacct"

/* ---- the pins of one attached interface (pins.c) ------------------------ */

const char *fa_pin_name(int pin);
/* The pin of the TCX link of one side, in an attachment's directory. */
const char *fa_tcx_pin_name(bool egress);
/*
 * Opens every pin under @dirname and checks each map's type, key and value
 * size against what this build expects before anything is read. Returns 0,
 * -ENOENT (no such attachment), -EPROTO (another layout: attached by another
 * flowacct version), -EINPROGRESS (an attach that has not finished, or was
 * killed) or another -errno.
 */
int fa_pinned_open_dir(const char *dirname, struct fa_pinned *p);
/* Rows in @dirname's two tables: what releasing it loses unwritten. */
__u64 fa_pinned_count_rows(const char *dirname);
/* The attach record pinned in @dirname (any state of completion). */
int fa_state_read(const char *dirname, struct fa_attach_state *st);
/* Whether the namespace @st names is this process's (set.c). */
bool fa_state_netns_self(const struct fa_attach_state *st);
int fa_pinned_open(const struct fa_ifid *id, struct fa_pinned *p);
/*
 * The names of the directories under FA_PIN_ROOT that @want keeps, in
 * name order (none without FA_PIN_ROOT). Caller frees *names.
 */
int fa_pin_dirs(bool (*want)(const char *name), char (**names)[64], size_t *n);
/* Whether the directory @name under FA_PIN_ROOT is a pinned program set's. */
bool fa_pin_dir_is_set(const char *name);
/* Every attachment's pin directory, in name order. */
int fa_pins_list(struct fa_pin_entry **list, size_t *n);
/* The attachment of @ifname (its name now, or its name at attach if it is
 * gone) in this namespace; -ENOENT if none. */
int fa_pins_find(const char *ifname, struct fa_pin_entry *out);

void fa_pin_path(char *buf, size_t len, const char *dirname, const char *name);
/* Whether @dirname is there under FA_PIN_ROOT. */
bool fa_pin_dir_exists(const char *dirname);
/* Removes what attach pinned, and the directory. Returns how many. */
int fa_pins_remove(const char *dirname);

int fa_state_map_create(const struct fa_attach_state *st);
int fa_state_map_read(int fd, struct fa_attach_state *st);

/* ---- what an attachment holds in memory (memory.c) ---------------------- */

/* Bytes the kernel charges for a map (its fdinfo's memlock), or 0. */
__u64 fa_map_memory(int fd);
__u64 fa_pins_memory(const char *dirname);
__u64 fa_run_files_bytes(const char *dirname);
__u64 fa_pid_rss(int pid);
__u64 fa_map_estimate(__u32 type, __u32 key_size, __u32 value_size, __u32 max_entries,
		      __u32 flags, __u32 ncpus);
struct bpf_object;
__u64 fa_obj_estimate(const struct bpf_object *obj);
__u64 fa_fd_estimate(int fd);
struct fa_err;
int fa_memory_guard(const char *ifname, __u64 kernel, __u64 files, __u64 process,
		    struct fa_err *e);

/* ---- stale attachments (stale.c) ------------------------------------------- */

/*
 * The living network namespaces and a path holding each, read once for
 * many verdicts (a dead one is known dead only once every fd of every
 * process was read). NULL: out of memory.
 */
struct fa_netns_set;
struct fa_netns_set *fa_netns_set_new(void);
void fa_netns_set_free(struct fa_netns_set *s);
/* fa_stale_why() against @s (NULL: no verdict but the lock's). */
int fa_stale_why_in(const struct fa_netns_set *s, const struct fa_pin_entry *pin);
/* What fa_stale_why() would say if no one held @pin's lock: whether its
 * namespace or interface is there, whoever uses it. */
int fa_stale_verdict(const struct fa_netns_set *s, const struct fa_pin_entry *pin);
/*
 * An fd on the network namespace that this one knows as @nsid (the id an
 * RTM_DELLINK of a move names), found among every namespace
 * fa_netns_set_new() sees; -ENOENT if none of them is it.
 */
int fa_netns_open_nsid(int nsid);
/*
 * The id this namespace has for the namespace @nsfd (RTM_GETNSID): >= 0;
 * -1 (NETNSA_NSID_NOT_ASSIGNED) if it has none; or -errno.
 */
int fa_netns_nsid(int nsfd);
/* @dirname's files under FA_RUN_DIR but its locks (a daemon's drain and
 * cache files), removed; the caller holds its lock and its pins are gone. */
void fa_run_daemon_files_remove(const char *dirname);

/* ---- IPFIX state files (ipfix.c) ------------------------------------------ */

/* Removes the IPFIX state files no daemon holds, unless a killed daemon
 * left an attachment whose successor may need its numbering. */
void fa_ipfix_remove_stale_states(void);

/* ---- locks (lock.c) ----------------------------------------------------- */

/* -EBUSY with *holder (pid) and *kind filled when someone else holds it. */
int fa_lock_take(const char *dirname, enum fa_lock_kind kind, struct fa_lock *l,
		 int *holder, int *holder_kind);
/*
 * Removes @dirname's lock file of @kind if no one holds it (taken, then
 * removed while held): 0 (removed, or there was none), -EBUSY, or -errno.
 */
int fa_lock_file_remove(const char *dirname, enum fa_lock_kind kind);
/* Whether anyone holds @dirname's lock of @kind (FA_LOCK_ADMIN and
 * FA_LOCK_RUN are one file), whether or not it has said who yet. */
bool fa_lock_held(const char *dirname, enum fa_lock_kind kind);
/* Whether a daemon holds @dirname's run lock: its pid, or 0. */
int fa_lock_owner(const char *dirname, enum fa_lock_kind kind);
const char *fa_lock_kind_name(int kind);

/* ---- the programs (progs.c) --------------------------------------------- */

/* The largest --max-flows a table can have (the kernel's limits on a
 * preallocated hash's memory). */
__u32 fa_max_flows_limit(bool shared);

/* Opens the skeleton and configures it; the caller loads it (or libxdp does). */
int fa_progs_open(const struct fa_load_opts *o, struct flowacct_bpf **skel);

/* ---- reading the maps (table.c) ------------------------------------------ */

void fa_value_merge(struct flow_value *into, const struct flow_value *v);
/* The size of such a slot. */
size_t fa_map_value_size(const struct fa_tick_clock *clock);
/* The size of a flows map's value: a slot, or a live shared row. */
size_t fa_flow_value_size(bool shared, bool live);
/*
 * Adds a flows map's value to @into: @nslots per-CPU slots, or (@shared,
 * live) one struct flow_shared_value.
 */
void fa_value_merge_flow(struct flow_value *into, const void *vals,
			 int nslots, bool shared,
			 const struct fa_tick_clock *clock);
/* Rows with equal keys (and kinds), one flow's, become one, values
 * merged. */
void fa_table_merge_equal(struct fa_table *t, size_t from);
void fa_stats_add(struct fa_hook_stats *into, const struct fa_hook_stats *from);

/* Checks a map against what this build expects. -EPROTO if it differs. */
int fa_map_check(int fd, const __u32 *types, size_t ntypes, __u32 key_size,
		 __u32 value_size);
/* A map's key size; 0 when @fd is none (-1) or can't be asked. */
__u32 fa_map_key_size(int fd);
/*
 * A key as a table of @ks-byte keys holds it: a whole struct flow_key, or
 * without the tunnel's tag (FLOW_KEY_SIZE_OFF: a table without --decap
 * inner, or an earlier release's), which then reads 0.
 */
static inline void fa_key_load(struct flow_key *k, const void *raw, __u32 ks)
{
	memcpy(k, raw, ks < sizeof(*k) ? ks : sizeof(*k));
	if (ks < sizeof(*k))
		k->tunnel_tag = 0;
}
/* The flow a drop row's key names (its tag 0 in a table keyed without). */
static inline void fa_drop_flow_key(struct flow_key *k, const struct flow_drop_key *d)
{
	memcpy(k, d, FLOW_KEY_SIZE_OFF);
	k->tunnel_tag = d->tunnel_tag;
}
/* Every key and value of a hash map (not per-CPU) in two arrays, read in
 * batches; *keys and *vals are the caller's to free. */
int fa_map_read_all(int fd, size_t ksz, size_t vsz, void **keys,
		    void **vals, size_t *n);

/* ---- sorting, grouping, filtering (table.c) ------------------------------ */

/*
 * One row per connection: each flow row with its other direction on the same
 * interface (addresses and ports swapped, the opposite hook; ICMP echo
 * request with its reply), whose counts go to t->rev. The row kept is the
 * direction seen first. Sorted by @by over both directions; not for a
 * grouped table.
 */
int fa_table_biflow(struct fa_table *t, enum fa_sort by);
void fa_table_group(struct fa_table *t, unsigned int group);
struct fa_filter {
	struct fa_prefix src, dst;
	int port;		/* -1: any; else sport or dport */
	int proto;		/* -1: any */
};
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

const char *fa_names_get(const struct fa_names *m, __u32 ifindex);

/* ---- snapshots (snapshot.c) ----------------------------------------------- */

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
/*
 * A set member as an attachment of its own: the set's state @set with the
 * member's ifindex, hooks and name at join (attached_at stays the set's,
 * which says whether the set is still there).
 */
void fa_member_state(const struct fa_attach_state *set, const struct fa_set_member_rec *rec,
		     struct fa_attach_state *st);
/* The same of the interface @st says, from the maps @fd of @dir (a set
 * member's counters, keyed by its ifindex in its set's map). */
int fa_snapshot_add_iface(struct fa_snapshot *s, const int *fd,
			  const struct fa_attach_state *st, const char *dir);
/*
 * The members @m (@n of them, all of the set whose pins are @p) read from
 * the set's maps: each one's counters, and with @rows its rows of the
 * shared tables (by the key's ifindex: the set's tables are read once for
 * all of them) and its overflow rows.
 */
int fa_snapshot_add_members(struct fa_snapshot *s, const struct fa_pinned *p,
			    const struct fa_member_entry *m, size_t n, bool rows);
/* The hook of each direction of an attachment (names.c). */
void fa_state_hooks(const struct fa_attach_state *st, int hook[FLOW_NR_DIRS]);
/* Of an ingress at @ingress (enum fa_ingress_hook): a set member's. */
void fa_ingress_hooks(int ingress, int hook[FLOW_NR_DIRS]);
/* Shifts the times of rows [from, n) by @off (0 stays 0). */
void fa_table_shift_times(struct fa_table *t, size_t from, __u64 off);

/* ---- epochs (epoch.c) -------------------------------------------------------- */

int fa_epoch_read(int epoch_fd, __u32 *epoch);
int fa_table_delete(int map_fd, const struct flow_key *keys, size_t n);
/* Zeroes @epoch's overflow rows (a table no program writes). */
int fa_overflow_zero(int ov_fd, __u32 ifindex, __u32 epoch);
/* Per-CPU rows of @fd at slots @first to @first + @n - 1 of @ifindex
 * (struct flow_slot_key), zeroed, with bpf_map_update_elem()'s @flags. */
int fa_slot_rows_zero(int fd, __u32 ifindex, __u32 first, __u32 n,
		      size_t value_size, __u64 flags);

/* ---- the flow cache (cache.c) --------------------------------------------------- */

size_t fa_cache_count(const struct fa_cache *c);
/* Slots from this one on were never used: a tick of @n rows uses at most
 * @n more. */
__u32 fa_cache_fresh(const struct fa_cache *c);
/* Drop slots ever used: the first this many. */
__u32 fa_cache_drops_fresh(const struct fa_cache *c);
__u64 fa_cache_touch(const struct fa_cache *c);
void fa_cache_set_touch(struct fa_cache *c, __u64 touch);
/*
 * The rows a daemon shows for its cache: totals since each flow started,
 * with @extra (rows of the kernel's tables not yet drained) added to the
 * flows they belong to, found through the cache's own hash.
 */
int fa_cache_dump(const struct fa_cache *c, struct fa_table *t,
		  const struct fa_row *extra, size_t nextra);

/* ---- crash points (a test build only) ------------------------------------------ */

/*
 * Where a tick has no syscall to be killed at (stores into the cache file),
 * the crash-point build (FA_CRASH_POINTS, build/tests/flowacct-crash) kills
 * itself with SIGKILL the Nth time it passes the point FLOWACCT_CRASH_AT
 * ("NAME:N") names. Nothing in the release build.
 */
#ifdef FA_CRASH_POINTS
void fa_crash_point(const char *name);
#define FA_CRASH_POINT(name) fa_crash_point(name)
#else
#define FA_CRASH_POINT(name) do { } while (0)
#endif

/* ---- the cache file (cachefile.c) ---------------------------------------------- */

struct fa_cachefile;
enum fa_cachefile_mode {
	FA_CACHEFILE_EXISTING,	/* the file a daemon of @instance left */
	FA_CACHEFILE_NEW,	/* anew, every slot free */
	FA_CACHEFILE_TMP,	/* anew beside it, for fa_cachefile_publish() */
};
/*
 * Opens (or makes) @dirname's cache file under FA_RUN_DIR for a cache of
 * @size slots and ticks of at most @rec_cap records: -EUCLEAN for a file not
 * of @instance, -ERANGE for one of another size, -ENOENT for none.
 */
/* The slots of @dirname's cache file, as its header says: -ENOENT, -EUCLEAN. */
int fa_cachefile_size(const char *dirname, __u32 *size);
int fa_cachefile_open(const char *dirname, __u32 size, __u32 rec_cap,
		      __u64 instance, enum fa_cachefile_mode mode,
		      struct fa_cachefile **cf);
void fa_cachefile_close(struct fa_cachefile *cf);
/* The slots and undo log, for fa_cache_open(). */
void fa_cachefile_store(const struct fa_cachefile *cf, struct fa_cache_store *st);
/* Where a tick's records go before its commit; *cap of them. */
struct fa_record *fa_cachefile_records(const struct fa_cachefile *cf, __u32 *cap);
/*
 * Allocates the pages a tick may write: slots [0, @slots), drop slots
 * [0, @drops), @nundo undo entries, @nrec records. -ENOSPC (or -ENOMEM)
 * when the filesystem can't: nothing was changed.
 */
int fa_cachefile_reserve(struct fa_cachefile *cf, __u32 slots, __u32 drops, size_t nundo,
			 size_t nrec);
/* A FA_CACHEFILE_TMP file becomes the cache file, in one rename. */
int fa_cachefile_publish(struct fa_cachefile *cf, const char *dirname);
/* After a finished tick of @nundo saved slots and @nrec records: the memory
 * of ticks much larger than the recent ones goes back to the system. */
void fa_cachefile_trim(struct fa_cachefile *cf, size_t nundo, size_t nrec);
bool fa_cachefile_exists(const char *dirname);
/* A record of an older cache file or journal (@old_size bytes:
 * FA_RECORD_V1_SIZE or FA_RECORD_V2_SIZE) as this release lays it out. */
void fa_record_load(struct fa_record *to, const void *old, size_t old_size);
/*
 * A cache file of an earlier release (version 1, before drops, or 2,
 * before the tunnel's tag) rewritten as this one's, through a temporary
 * file renamed over it; with its first @nrec records (a committed tick's).
 * 0 when it is this version's already.
 */
int fa_cachefile_upgrade(const char *dirname, __u32 size, __u32 rec_cap, __u64 instance,
			 __u32 nrec);
void fa_cachefile_remove(const char *dirname);
void fa_cachefile_remove_tmp(const char *dirname);
/* The file's size (sparse: what it may take at most). */
size_t fa_cachefile_bytes(__u32 size, __u32 rec_cap);
__u64 fa_cache_memory(__u32 size);
size_t fa_drainfile_bytes(__u32 max_flows, bool shared);

/* ---- the drain file (drainfile.c) ---------------------------------------------- */

/* Whether the file holds rows of a tick later than @committed_gen. */
int fa_drainfile_pending(const struct fa_drainfile *df, __u64 committed_gen,
			 __u32 *table);
int fa_drainfile_rows(const struct fa_drainfile *df, __u64 committed_gen,
		      const struct fa_row **rows, size_t *n);

/* ---- a daemon's stream of records for one interface (stream.c) -------------- */

/*
 * Opens @dirname's attachment as a daemon's stream: creates (or finds, after
 * a restart) the daemon's pinned state, finishes a tick a killed daemon had
 * committed (its records go to @sink again: duplicates, with the same
 * instance and sequence numbers), and loads the persisted cache. On
 * failure it holds nothing (no fd, no memory): no fa_stream_close() needed.
 */
int fa_stream_open(struct fa_stream *s, const char *dirname,
		   const struct fa_cache_cfg *cfg, const struct fa_sink *sink);
void fa_stream_close(struct fa_stream *s);
void fa_stream_estimate(__u32 cache_size, __u32 max_flows, bool shared, __u64 *files,
			__u64 *process);
/* Removes the daemon's state (not the attachment's); @keep_run_state: after a
 * clean stop, run_state stays, saying the cache is empty (STOPPED). */
void fa_stream_unpin(struct fa_stream *s, bool keep_run_state);

/* Flips the epoch (unless the inactive table must be drained first); the
 * caller then waits (fa_sync_wait) before fa_stream_drain(). */
int fa_stream_flip(struct fa_stream *s);
/* The next drains walk both tables (a stop's, an interface's last). */
void fa_stream_forget_marks(struct fa_stream *s);
/* The tick's work on the table flipped away from: drain, merge, expire
 * at @now, journal, commit, write, apply, clear. @flush: every flow leaves
 * (forced) too. */
int fa_stream_drain(struct fa_stream *s, __u64 now, bool flush,
		    const struct fa_sink *sink);
/* Drains both tables (shutdown, once no program writes them): what a
 * restart or a failed tick left first, then the table written last. */
int fa_stream_drain_other(struct fa_stream *s, __u64 now, bool flush,
			  const struct fa_sink *sink);

/*
 * The daemon's view for dump: counters first, then the cache (totals since
 * each flow started), the tables not yet drained, and one exported row per
 * direction with what left in records of flows no longer in the cache.
 * Of an attachment's stream, its one interface (@st and @n unused); of a
 * set's, the @n members whose states (ifindex, hooks) are @st: only their
 * rows, each one's exported rows from its books.
 */
int fa_stream_snapshot(const struct fa_stream *s, const struct fa_attach_state *st,
		       size_t n, struct fa_snapshot *snap);

/*
 * A program set's stream: records name each interface as its books say
 * (set with fa_stream_iface_name(), renames included); an interface's
 * counters line takes its records and exported totals from its books.
 * For an attachment's stream these answer with the stream's own.
 */
const char *fa_stream_ifname(const struct fa_stream *s, __u32 ifindex);
int fa_stream_iface_name(struct fa_stream *s, __u32 ifindex, const char *name);
/* The hook its ingress is at (enum fa_ingress_hook), for its counters line:
 * once linked, after its name. */
int fa_stream_iface_ingress(struct fa_stream *s, __u32 ifindex, int ingress);
int fa_stream_iface_books(const struct fa_stream *s, __u32 ifindex, struct fa_iface_books *b);
/* The stream's figures as @ifindex's: its records by end reason its own
 * (a set's interface), the drains' its set's. */
void fa_stream_iface_stats(const struct fa_stream *s, __u32 ifindex, struct fa_stream_stats *st);
/* Its books dropped: once its last records and counters line are out. */
void fa_stream_iface_forget(struct fa_stream *s, __u32 ifindex);
/* The interfaces whose rows the set's tables hold (read now; 0 among them),
 * valid until the next call or drain. */
int fa_stream_rows_of(struct fa_stream *s, const __u32 **ifindex, size_t *n);

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
	__u64 tick_lag_ns, last_tick_ns, delayed_records;	/* health */
};

struct fa_metrics {
	const struct fa_metrics_iface *ifs;
	size_t nifs;
	__u64 flips, flip_ns_total, flip_ns_max;
	__u64 json_records;
	__u64 ifaces_taken, ifaces_left, ifaces_refused;
	const struct fa_ipfix *ipfix;		/* NULL: no export */
	const struct fa_engine_sink *sinks;
	size_t nsinks;
};

/* The daemon's metrics in Prometheus' text format. */
void fa_print_metrics(FILE *f, const struct fa_metrics *m);

/* ---- the control socket (ctl.c) ------------------------------------------------ */

void fa_ctl_path(int pid, char *buf, size_t len);
/* Whether @pid has a control socket: a daemon, not another holder of a
 * program set's lock (a program of the library's own). */
bool fa_ctl_serves(int pid);
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

/*
 * Takes our programs off a device moved to another network namespace, where
 * the kernel leaves its XDP program and TCX links (its clsact qdisc it
 * destroys): the TCX links through their pins in @dirname, from here; the
 * XDP program, by @st's ids (NULL: by name) at @ifindex, from inside the
 * namespace this one knows as @nsid. Returns how many things came off, or
 * -errno; -ENOENT: that namespace was not found (@nsid -1: not known), and
 * an XDP program of ours may stay there. The pins stay (fa_detach()).
 */
int fa_detach_moved(const char *dirname, const struct fa_attach_state *st, int nsid,
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

enum fa_sock_pin {
	FA_SOCK_PIN_SOCKS,
	FA_SOCK_PIN_LISTENERS,
	FA_SOCK_PIN_SOCKOPS,	/* the links: while pinned, attached */
	FA_SOCK_PIN_CREATE,
	FA_SOCK_PIN_BY_RUN,	/* a daemon attached them: the last to exit detaches */
	FA_NR_SOCK_PINS,
};
int fa_sockets_open(int *socks_fd, int *listeners_fd);
/*
 * Fills in the process of sockets (and listeners) that have only their
 * inode, from /proc (walked only if one has). @cookies and @socks: the
 * sockets map as the caller read it, updated with the map; NULL: read here.
 * Returns how many sockets it filled, or -errno.
 */
int fa_sockets_fill_procs(int socks_fd, int listeners_fd, const __u64 *cookies,
			  struct flow_sock *socks, size_t nsocks);

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
	/* The cgroup's container, else the interface's (a veth's host end):
	 * in a struct fa_cgroups, or NULL. */
	const struct fa_container *container;
	struct flow_tunnel tun;	/* with FA_EXT_TUNNEL */
};

#define FA_EXT_SOCK	(1u << 0)	/* sock is the row's socket */
#define FA_EXT_RETRANS	(1u << 1)	/* retransmissions were tracked */
#define FA_EXT_PRTT	(1u << 2)	/* passive RTT has samples */
#define FA_EXT_TUNNEL	(1u << 3)	/* tun is the tunnelled flow's tunnel */

/* "vxlan", "gre", ...: a key's tunnel type, or NULL for none. */
const char *fa_tunnel_type_name(__u8 type);
/*
 * "tunnel": {"type", "id", "outer_src", "outer_dst"} of a flow whose key has
 * tunnel type @type (null for none), from @x's tunnel if it has one (else
 * id and addresses null: its entry was evicted); text: "vxlan:100".
 */
void fa_print_tunnel(struct fa_out *o, __u8 type, const struct fa_ext *x);
/*
 * The tunnels of @t's tunnelled rows from @from on, from @tunnels_fd (a
 * flow_tunnels map; -1: none): each gains an ext with its tunnel. For a
 * table fa_enrich() does not join (replay's).
 */
int fa_join_tunnels(struct fa_table *t, size_t from, int tunnels_fd);
/* @fd, a flow_tunnels map, if --decap inner made it (more than the one
 * entry it has without): -1 otherwise (and for -1). */
int fa_tunnels_fd(int fd);
/* @k's tunnel into @e (FA_EXT_TUNNEL) from flow_tunnels @fd (-1: none);
 * true if it was there. */
bool fa_tunnel_join(int fd, const struct flow_key *k, struct fa_ext *e);
/* The tunnel of the flow @k as @fd's flow_tunnels notes it, or zeros
 * (not a tunnelled flow, or its tunnel not noted). */
void fa_tunnel_of(const int *fd, const struct flow_key *k, struct flow_tunnel *t);

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

const char *fa_hook_name(int hook);
/* The text cells of @v's columns for row @r (NULL: their headers), in @buf. */
void fa_format_cols(char *buf, size_t len, const struct fa_table *t,
		    const struct fa_row *r, const struct fa_view *v);
/* "counters" and "hooks" (JSON), or each present hook's books (text). */
void fa_print_counters(struct fa_out *o, const struct fa_hook_stats st[FLOW_NR_DIRS],
		       const struct fa_view *v);
/* One attachment as status shows it. */
struct fa_status {
	struct fa_pin_entry pin;
	char ifname[FA_IFNAMSIZ];	/* its name now; "" if gone or elsewhere */
	bool here;			/* in this network namespace */
	bool gone;			/* the interface no longer exists */
	int stale;			/* enum fa_stale_why */
	struct fa_live live;
	struct flow_sample_config sample;
	__u64 memory;			/* bytes of both epochs' tables */
	__u64 estimate;			/* the same by fa_map_estimate() */
	__u64 pins_memory;		/* kernel bytes of every pinned map */
	__u64 run_files;		/* bytes of its files under /run */
	__u64 daemon_rss;		/* resident bytes of its daemon, 0 if none */
	int daemon;			/* pid of the `flowacct run` that owns it */
};

/* Programs of ours on an interface that no record names. */
struct fa_orphan {
	char ifname[FA_IFNAMSIZ];
	__u32 ifindex;
	struct fa_found found;
};

/* @daemon_info, when not NULL, adds a "daemon" object to an interface a
 * daemon owns (it is the daemon that prints the document then). The
 * pinned sets and their members follow the attachments. */
void fa_print_status_doc(struct fa_out *o, const struct fa_status *st, size_t n,
			 const struct fa_orphan *orph, size_t norph,
			 const struct fa_set_entry *sets, size_t nsets,
			 const struct fa_member_entry *m, size_t nm,
			 void (*daemon_info)(struct fa_out *o, const char *dirname,
					     void *ctx),
			 void *ctx);
/* The counters of one interface as a JSON line: {"type":"counters",...}. */
void fa_print_counters_line(struct fa_out *o, const struct fa_stream *s, __u32 ifindex,
			    const struct fa_hook_stats st[FLOW_NR_DIRS]);
/* The same line of @ifindex's counters as read now, in *@buf (the caller
 * frees it): 0, or -errno. */
int fa_counters_line(const struct fa_stream *s, __u32 ifindex, char **buf, size_t *len);

/* Whether the books of a hook balance: seen == accounted + sum(reasons). */
bool fa_books_balance(const struct fa_hook_stats *st);

/* ---- cgroup paths (cgroups.c) ------------------------------------------------ */

/* Cgroup v2 ids seen as paths under the mount; zeroed: empty. */
struct fa_cgroups {
	struct fa_cgroup_path {
		__u64 id;
		char *path;
		struct fa_container *container;	/* NULL: none */
		bool parsed;
	} *v;
	size_t n, cap;
	__u64 last_scan_ns;	/* a walk at most once a second */
	/* Interfaces' containers: for rows that have no cgroup's. */
	struct fa_iface_container {
		__u32 ifindex;
		struct fa_container c;
	} *ifs;
	size_t nifs;
};

/*
 * Cgroup @id as a path under the mount ("/" for the root), or NULL; valid
 * until fa_cgroups_free(@c). @rescan: walk the hierarchy again if the id is
 * not in @c.
 */
const char *fa_cgroup_path(struct fa_cgroups *c, __u64 id, bool rescan);
void fa_cgroups_free(struct fa_cgroups *c);
/* The container of cgroup @id (after fa_cgroup_path() found it), or NULL. */
const struct fa_container *fa_cgroup_container(struct fa_cgroups *c, __u64 id);
/*
 * Looks up the containers of interfaces @ifindex (those whose peer lives
 * in another namespace) into @c, by one look at the links and /proc.
 * @settled (NULL, or one per interface): as fa_iface_containers() says.
 */
int fa_cgroups_ifaces(struct fa_cgroups *c, const __u32 *ifindex, size_t n, bool *settled);
/* Interface @ifindex's container, from fa_cgroups_ifaces(), or NULL. */
const struct fa_container *fa_cgroups_iface(const struct fa_cgroups *c, __u32 ifindex);

/*
 * A batch of a stream's records joined as fa_enrich_key() joins one: the
 * socket table opened once (only if the stream's attachment joins), and one
 * cgroup cache for the batch. open, then fa_records_join_key() per record.
 */
struct fa_records_join {
	const struct fa_stream *s;
	bool joined;
	int socks_fd, listeners_fd;
	struct fa_cgroups cg;
};
void fa_records_join_open(struct fa_records_join *j, const struct fa_stream *s);
/* @k's ext; its container, if none of the socket's, is left NULL. */
void fa_records_join_key(struct fa_records_join *j, const struct flow_key *k, struct fa_ext *x);
void fa_records_join_close(struct fa_records_join *j);

/* ---- containers (containers.c) ------------------------------------------------- */

/* struct fa_container is in table.h. */

/* Where the runtimes' files are read: "/" unless a test makes a tree. */
void fa_containers_root(const char *dir);
/*
 * The container a cgroup path names, if it follows a runtime's layout
 * (docker-<id>.scope, cri-containerd-<id>.scope, crio-<id>.scope,
 * libpod-<id>.scope, /libpod_parent/libpod-<id>, bare ids under /docker/
 * and /kubepods/...), and the pod's UID under kubepods: no names yet.
 */
bool fa_container_parse(const char *path, struct fa_container *c);
/* Fills in the names the runtimes' files give @c (those it can). */
void fa_container_name(struct fa_container *c);
/*
 * The containers of the peers' namespaces @nsids (IFLA_LINK_NETNSID, -1:
 * none) by one look at /proc: out[i] when found[i]. settled[i]: found, or
 * known to be none (no peer elsewhere, or processes there in no container
 * or in several); else a look later may find one (no process there yet).
 * 0, or -errno.
 */
int fa_iface_containers(const int *nsids, size_t n, struct fa_container *out, bool *found,
			bool *settled);

/* ---- forwarded flows joined to a container's interface (fwdjoin.c) ------------- */

struct fa_fwd_join;
/* Empty; @max: the tuples it keeps at most (twice as many slots). */
struct fa_fwd_join *fa_fwd_join_new(size_t max);
void fa_fwd_join_free(struct fa_fwd_join *j);
/* Tuple @k (no interface, no direction) seen on @ifindex at @now. */
void fa_fwd_join_note(struct fa_fwd_join *j, const struct flow_key *k, __u32 ifindex, __u64 now);
/*
 * The tuples conntrack says @k's connection has on the far side of a
 * rewrite (NAT), noted with @ifindex; TCP and UDP only. How many it noted
 * (0: no entry, not rewritten, or no conntrack).
 */
int fa_fwd_join_note_nat(struct fa_fwd_join *j, const struct flow_key *k, __u32 ifindex, __u64 now);
/* The interface @k was noted on within @window of @now, or 0. */
__u32 fa_fwd_join_find(const struct fa_fwd_join *j, const struct flow_key *k, __u64 now,
		       __u64 window);
/* Forgets the tuples not noted within @window; shrinks after a burst. */
void fa_fwd_join_sweep(struct fa_fwd_join *j, __u64 now, __u64 window);

/* ---- link events (ifwatch.c) ---------------------------------------------------- */

/* The interfaces of this network namespace now. Caller frees *list. */
int fa_links_list(struct fa_link **list, size_t *n);
/*
 * An rtnetlink socket (non-blocking) subscribed to link events, or -errno.
 * @rcvbuf: its buffer, 0 for the default (4 MiB).
 */
int fa_ifwatch_open(int rcvbuf);
enum fa_link_event { FA_LINK_NEW, FA_LINK_DEL };
typedef void fa_link_fn(void *ctx, enum fa_link_event ev, const struct fa_link *l);
/*
 * Calls @fn for each event waiting on @fd, then 0. -ENOBUFS: the kernel
 * dropped events; what was read was said, start over from fa_links_list().
 */
int fa_ifwatch_read(int fd, fa_link_fn *fn, void *ctx);

/* ---- the daemon engine (engine.c, ctl_server.c) ---------------------------- */

/* One flip, wait and drain of every interface (@flush: every flow out). */
void fa_engine_tick(struct fa_engine *e, bool flush);

/* The control socket's server (ctl_server.c): answers every waiting
 * client. */
void fa_engine_serve(struct fa_engine *e);
/* After each request, before its connection closes: what it freed goes
 * back to the kernel unless requests are coming in a series. */
void fa_engine_request_done(struct fa_engine *e);
struct fa_engine_iface *fa_engine_find(struct fa_engine *e, const char *name,
				       bool dirname);

/* ---- the request on the wire (ctl.c) --------------------------------------- */

/* @q as the request's text, FA_CTL_VERSION first, into @f. */
int fa_query_encode(const struct fa_query *q, FILE *f);
/*
 * Parses a request (NUL-terminated, its empty last line included). -EPROTO
 * with *@version set when it is another protocol version's (0: not a
 * request of any version); -EINVAL with @e said when it is malformed.
 */
int fa_query_decode(const char *req, struct fa_query *q, int *version,
		    struct fa_err *e);

/*
 * Asks the daemon @pid: the answer's body goes to @body. 0 when it
 * answered, -errno when it could not be asked or another protocol answered
 * (@e says which, with its version: the caller must not read @body then),
 * or 1 when it answered with an error (the line in @e).
 */
int fa_ctl_ask(int pid, const struct fa_query *q, FILE *body, struct fa_err *e);

/* ---- drops in the books (drops.c) ------------------------------------------------ */

struct fa_drop_prog;
/* What a drop program is loaded with: its mode, and the hooks' tunnels. */
struct fa_drop_opts {
	int mode;		/* FA_DROPS_ATTACHED or FA_DROPS_ALL */
	__u8 decap;		/* the program set's or attachment's --decap */
	bool keys_untagged;	/* its flow tables an earlier release's: no tunnel tag */
	struct fa_vxlan_ports vxlan;
};
/*
 * The drop program of @dir (a program set's or an attachment's pins),
 * loaded as @o says: the one a killed daemon left running there loaded the
 * same way, adopted, or one loaded on @epoch_fd (the programs' epoch) and
 * attached to kfree_skb, BTF-typed else raw_tp. Its tables are the ones
 * pinned there, or new ones, pinned; its link is pinned last, under a name
 * that says how it was loaded: from then on a kill leaves it running, for
 * the next daemon to adopt.
 */
int fa_drop_prog_start(const char *dir, const struct fa_drop_opts *o, int epoch_fd,
		       struct fa_drop_prog **d);
/* Every drop program's link in @dir unpinned, but the one loaded as @keep
 * (NULL: none): they stop. */
void fa_drop_prog_unpin(const char *dir, const struct fa_drop_opts *keep);
/* Its tables' fds into @fd at their pins' places (the program owns them). */
void fa_drop_prog_fds(const struct fa_drop_prog *d, int fd[FA_NR_PINS]);
bool fa_drop_prog_raw(const struct fa_drop_prog *d);
bool fa_drop_prog_adopted(const struct fa_drop_prog *d);
/* No more drops counted from here: unpinned and its link let go (the
 * tables stay until closed). */
void fa_drop_prog_detach(struct fa_drop_prog *d);
void fa_drop_prog_close(struct fa_drop_prog *d);
/*
 * An attachment's own drop program (attach --drops): loaded on its epoch
 * (@epoch_fd), its tables and its link pinned in @dir, @ifindex watched;
 * it runs until the pins go (detach).
 */
int fa_drop_attach_iface(const char *dir, const struct fa_drop_opts *o, int epoch_fd,
			 __u32 ifindex);
/* No interface watched. */
int fa_drop_watch_clear(int watch_fd);
/* @ifindex watched (--drops attached), or not. */
int fa_drop_watch(int watch_fd, __u32 ifindex, bool on);
/* @ifindex's drop books summed over CPUs (0: what no watched interface had). */
int fa_drop_stats_read(int fd, __u32 ifindex, struct flow_drop_stats *sum);
int fa_drop_stats_forget(int fd, __u32 ifindex);
/* A drop table's rows appended to @t as FA_ROW_DROP rows (read, not drained). */
int fa_drop_table_read(int fd, const struct fa_tick_clock *ticks, struct fa_table *t);
/* The kernel's name of a drop reason without SKB_DROP_REASON_ (its own BTF's),
 * "SUBSYS:code" for a subsystem's, in @buf if made up. */
const char *fa_drop_reason_name(__u32 reason, char *buf, size_t len);
int fa_drop_reason_value(const char *name, __u32 *value);
const char *fa_drops_mode_name(int mode);
/* RFC 7270's forwardingStatus "dropped" code for a reason (128: unknown). */
__u8 fa_drop_reason_rfc7270(__u32 reason);
/* A record's forwardingStatus: dropped, with its main reason's code, when
 * no fewer packets were dropped than accounted; forwarded (64) else. */
__u8 fa_drops_forwarding_status(const struct fa_drops *d, __u64 packets);
const char *fa_drop_counter_name(int i);
/* The reason with the most packets; NULL without drops. */
const char *fa_drops_top_reason(const struct fa_drops *d, char *buf, size_t len);
struct fa_out;
/* "drops": {packets, bytes, reasons: {NAME: n}}, or null. */
void fa_print_drops(struct fa_out *o, const struct fa_drops *d);
/* "drops": the books of one interface. */
void fa_print_drop_books(struct fa_out *o, const struct flow_drop_stats *st);

#endif /* FLOWACCT_INTERNAL_H */
