// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A daemon's stream of records for one interface, and what keeps it whole
 * whatever kills the daemon.
 *
 * The daemon keeps its state beside the attachment: run_state, a one-entry
 * map on bpffs only user space writes (instance, sequence numbers,
 * progress: its one update is the commit); the cache file under
 * /run/flowacct (lib/cachefile.c: the flow cache's slots, the undo log of
 * the tick in progress, the tick's records), mapped shared, so each store
 * into it outlives a kill; and the rows of the epoch it drains in the drain
 * file (lib/drainfile.c). A tick is a transaction:
 *
 *   1. flip the epoch, wait (fa_sync_wait);
 *   2. drain the old table into the drain file (read and cleared in one
 *      pass: from here its rows live in the file);
 *   3. merge and expire, in the cache file: each slot's old self goes to
 *      the undo log before it first changes; the records go to the file's
 *      records area;
 *   4. commit: one update of run_state says COMMITTED (with the tick's
 *      generation, which marks the drain file's rows as merged, the number
 *      of records, the new sequence number and totals);
 *   5. write the records out (the sink);
 *   6. empty the undo log; run_state says IDLE again.
 *
 * A daemon killed before 4 loses nothing: the drained rows are in the drain
 * file (the rest still in the table, which nothing else writes until the
 * drain is finished), and the undo log turns the cache back into what it
 * was, so a restarted daemon finishes the drain and does the tick again.
 * Killed after 4, the restarted daemon finishes the tick: it writes the
 * records again (identical, with the same instance and sequence numbers:
 * duplicates a reader can drop), then 6. Killed between emptying the undo
 * log and IDLE, it writes them once more. No table a program can write is
 * ever cleared.
 *
 * Daemons before the cache file kept the cache and the journal in pinned
 * hash maps (two to five hash operations a record): a restart converts what
 * one left (adopt_pinned_cache()).
 */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"

#ifdef FA_CRASH_POINTS
void fa_crash_point(const char *name)
{
	static const char *at;
	static long left = -1;
	static size_t len;
	const char *colon;

	if (left < 0) {
		at = getenv("FLOWACCT_CRASH_AT");
		colon = at ? strrchr(at, ':') : NULL;
		left = colon ? strtol(colon + 1, NULL, 10) : 0;
		len = colon ? (size_t)(colon - at) : 0;
	}
	if (!len || strlen(name) != len || strncmp(name, at, len))
		return;
	if (--left == 0)
		raise(SIGKILL);
}
#endif

enum { DPIN_RUN_STATE, DPIN_CACHE, DPIN_JREC, DPIN_JCHG, NR_DPINS };

/* run_state; the rest are the pinned cache and journal of older daemons. */
static const char *const dpin_names[NR_DPINS] = {
	"run_state", "cache", "journal_records", "journal_changes",
};

static int dpin_open(const char *dirname, int which)
{
	char path[PATH_MAX];
	int fd;

	fa_pin_path(path, sizeof(path), dirname, dpin_names[which]);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

static void dpin_unlink(const char *dirname, int from)
{
	char path[PATH_MAX];
	int i;

	for (i = from; i < NR_DPINS; i++) {
		fa_pin_path(path, sizeof(path), dirname, dpin_names[i]);
		unlink(path);
	}
}

static int write_run_state(struct fa_stream *s)
{
	__u32 zero = 0;

	return bpf_map_update_elem(s->rs_fd, &zero, &s->rs, BPF_ANY) ? -errno : 0;
}

/* ---- a program set's interfaces ------------------------------------------------ */

#define IFACES_PIN "ifaces"

static int cmp_iface(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = ((const struct fa_stream_iface *)b)->ifindex;

	return x < y ? -1 : x > y;
}

static struct fa_stream_iface *iface_find(const struct fa_stream *s, __u32 ifindex)
{
	return s->nifs ? bsearch(&ifindex, s->ifs, s->nifs, sizeof(*s->ifs), cmp_iface) : NULL;
}

/* @ifindex's books, made empty (as of tick @gen) if it has none. */
static struct fa_stream_iface *iface_get(struct fa_stream *s, __u32 ifindex, __u64 gen)
{
	struct fa_stream_iface *w = iface_find(s, ifindex), *grown;
	size_t i;

	if (w)
		return w;
	if (s->nifs == s->ifs_cap) {
		grown = realloc(s->ifs, (s->ifs_cap ? s->ifs_cap * 2 : 16) * sizeof(*grown));
		if (!grown)
			return NULL;
		s->ifs = grown;
		s->ifs_cap = s->ifs_cap ? s->ifs_cap * 2 : 16;
	}
	for (i = s->nifs; i > 0 && s->ifs[i - 1].ifindex > ifindex; i--)
		s->ifs[i] = s->ifs[i - 1];
	s->nifs++;
	w = &s->ifs[i];
	memset(w, 0, sizeof(*w));
	w->ifindex = ifindex;
	w->b.gen = gen;
	snprintf(w->b.ifname, sizeof(w->b.ifname), "if%u", ifindex);
	return w;
}

static int iface_write(struct fa_stream *s, const struct fa_stream_iface *w)
{
	return bpf_map_update_elem(s->books_fd, &w->ifindex, &w->b, BPF_ANY) ? -errno : 0;
}

/* The set's books, pinned beside run_state: found, or made empty. */
static int books_open(struct fa_stream *s)
{
	static const __u32 hash[] = { BPF_MAP_TYPE_HASH };
	struct fa_stream_iface *w;
	char path[PATH_MAX];
	__u32 k, next;
	const void *prev = NULL;
	int err;

	fa_pin_path(path, sizeof(path), s->p.dir, IFACES_PIN);
	s->books_fd = bpf_obj_get(path);
	if (s->books_fd < 0 && errno == ENOENT) {
		s->books_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "fa_iface_books", sizeof(__u32),
					     sizeof(struct fa_iface_books),
					     FLOW_SET_MAX_IFACES + 1, NULL);
		if (s->books_fd < 0 || bpf_obj_pin(s->books_fd, path))
			return -errno;
		return 0;
	}
	if (s->books_fd < 0)
		return -errno;
	err = fa_map_check(s->books_fd, hash, 1, sizeof(__u32), sizeof(struct fa_iface_books));
	while (!err && !bpf_map_get_next_key(s->books_fd, prev, &next)) {
		k = next;
		prev = &k;
		w = iface_get(s, k, 0);
		if (!w)
			return -ENOMEM;
		if (bpf_map_lookup_elem(s->books_fd, &k, &w->b) && errno != ENOENT)
			err = -errno;
	}
	return err;
}

/* The interfaces the counters hash has rows of: the ones a drain takes. */
static int rows_of_read(struct fa_stream *s)
{
	struct flow_slot_key k, next;
	const void *prev = NULL;
	__u32 *grown;

	s->nrows_of = 0;
	while (!bpf_map_get_next_key(s->p.fd[FA_PIN_STATS], prev, &next)) {
		k = next;
		prev = &k;
		if (k.slot)
			continue;
		if (s->nrows_of == s->rows_of_cap) {
			grown = realloc(s->rows_of, (s->rows_of_cap ? s->rows_of_cap * 2 : 64) *
							    sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			s->rows_of = grown;
			s->rows_of_cap = s->rows_of_cap ? s->rows_of_cap * 2 : 64;
		}
		s->rows_of[s->nrows_of++] = k.ifindex;
	}
	return errno == ENOENT ? 0 : -errno;
}

/*
 * The committed tick's records into each interface's books, once: an entry
 * as of this tick already has them (a kill after its update). Called after
 * each commit, and again before a committed tick is finished (a restart, a
 * sink that failed): what a kill cut short is done then.
 */
static int books_commit(struct fa_stream *s)
{
	const struct fa_record *r;
	struct fa_stream_iface *w;
	size_t i;
	int err = 0, dir;

	for (i = 0; i < s->rs.nr_records; i++) {
		r = &s->recs[i];
		/* Without books (a join a kill cut short): from this tick on. */
		w = iface_get(s, r->key.ifindex, s->rs.gen - 1);
		if (!w)
			return -ENOMEM;
		if (w->b.gen >= s->rs.gen)
			continue;
		dir = r->key.direction & 1;
		w->records[r->end_reason <= FA_END_LACK_OF_RESOURCES ? r->end_reason : 0]++;
		w->b.records++;
		w->b.exported_packets[dir] += r->packets;
		w->b.exported_bytes[dir] += r->bytes;
	}
	for (i = 0; i < s->nifs && !err; i++) {
		w = &s->ifs[i];
		if (w->b.gen >= s->rs.gen)
			continue;
		w->b.gen = s->rs.gen;
		err = iface_write(s, w);
		FA_CRASH_POINT("booked");
	}
	return err;
}

const char *fa_stream_ifname(const struct fa_stream *s, __u32 ifindex)
{
	static __thread char other[IF_NAMESIZE];
	const struct fa_stream_iface *w;

	if (!s->set)
		return s->ifname;
	w = iface_find(s, ifindex);
	if (w)
		return w->b.ifname;
	/* Not a member: an interface whose drops --drops all books. */
	return ifindex && if_indextoname(ifindex, other) ? other : "";
}

int fa_stream_iface_name(struct fa_stream *s, __u32 ifindex, const char *name)
{
	struct fa_stream_iface *w;

	if (!s->set)
		return -EINVAL;
	/* A new interface's books start after the last committed tick. */
	w = iface_get(s, ifindex, s->rs.gen);
	if (!w)
		return -ENOMEM;
	snprintf(w->b.ifname, sizeof(w->b.ifname), "%s", name);
	return iface_write(s, w);
}

int fa_stream_iface_ingress(struct fa_stream *s, __u32 ifindex, int ingress)
{
	struct fa_stream_iface *w = s->set ? iface_find(s, ifindex) : NULL;

	if (!w)
		return -ENOENT;
	if (w->b.ingress == (__u32)ingress)
		return 0;
	w->b.ingress = ingress;
	return iface_write(s, w);
}

void fa_stream_iface_stats(const struct fa_stream *s, __u32 ifindex, struct fa_stream_stats *st)
{
	const struct fa_stream_iface *w = s->set ? iface_find(s, ifindex) : NULL;

	*st = s->stats;
	if (!s->set)
		return;
	memset(st->records, 0, sizeof(st->records));
	if (w)
		memcpy(st->records, w->records, sizeof(st->records));
}

int fa_stream_iface_books(const struct fa_stream *s, __u32 ifindex, struct fa_iface_books *b)
{
	const struct fa_stream_iface *w;

	if (!s->set) {
		memset(b, 0, sizeof(*b));
		b->gen = s->rs.gen;
		b->records = s->rs.records;
		memcpy(b->exported_packets, s->rs.exported_packets, sizeof(b->exported_packets));
		memcpy(b->exported_bytes, s->rs.exported_bytes, sizeof(b->exported_bytes));
		snprintf(b->ifname, sizeof(b->ifname), "%s", s->ifname);
		return 0;
	}
	w = iface_find(s, ifindex);
	if (!w)
		return -ENOENT;
	*b = w->b;
	return 0;
}

void fa_stream_iface_forget(struct fa_stream *s, __u32 ifindex)
{
	struct fa_stream_iface *w = iface_find(s, ifindex);

	/* Its counters' rows went with it: the sums went down. */
	fa_stream_forget_marks(s);

	if (!s->set || !w)
		return;
	bpf_map_delete_elem(s->books_fd, &ifindex);
	/* An index used again is another interface: its drops start at 0. */
	fa_drop_stats_forget(s->p.fd[FA_PIN_DROP_STATS], ifindex);
	memmove(w, w + 1, (s->nifs - (w - s->ifs) - 1) * sizeof(*w));
	s->nifs--;
}

int fa_stream_rows_of(struct fa_stream *s, const __u32 **ifindex, size_t *n)
{
	int err = s->set ? rows_of_read(s) : 0;

	*ifindex = s->set ? s->rows_of : &s->p.state.ifindex;
	*n = s->set ? s->nrows_of : 1;
	return err;
}

/* The records a tick may make: each drained row evicts at most one flow,
 * and each flow in the cache leaves at most once; sparse beyond that. */
static __u32 records_cap(__u32 cache_size, __u32 max_flows)
{
	return cache_size * 2 + max_flows * 2 + 16;
}

/*
 * A drain's rows are a full table's and a full drop table's at most. The
 * drop table counts whether or not there is one: the file's size must not
 * change when a daemon with drops adopts the state of one without.
 */
static __u32 journal_size(const struct fa_stream *s)
{
	return records_cap(s->cfg.size, s->p.state.max_flows + FLOW_DROP_DEFAULT_ENTRIES);
}

/**
 * fa_stream_estimate() - what a daemon's stream of one interface takes, full
 * @cache_size: its cache's flows
 * @max_flows: the attachment's tables' flows
 * @shared: the attachment's map layout
 * @files: set to the bytes of its files under /run/flowacct
 * @process: set to its bytes in the daemon's own memory (beyond the files)
 */
void fa_stream_estimate(__u32 cache_size, __u32 max_flows, bool shared, __u64 *files,
			__u64 *process)
{
	/*
	 * Fullest as it happens: every slot used and changed in one tick, and
	 * every flow of the cache and of a table leaving in it. The file's
	 * record area is longer (a bound no tick reaches) and sparse.
	 */
	*files = fa_cachefile_bytes(cache_size, cache_size + max_flows) +
		 fa_drainfile_bytes(max_flows, shared);
	*process = fa_cache_memory(cache_size);
}

static int read_pinned(const char *dir, int which, size_t ksz, size_t vsz,
		       void **keys, void **vals, size_t *n)
{
	static const __u32 hash[] = { BPF_MAP_TYPE_HASH };
	int fd = dpin_open(dir, which), err;

	if (fd < 0)
		return fd;
	err = fa_map_check(fd, hash, 1, ksz, vsz);
	if (!err)
		err = fa_map_read_all(fd, ksz, vsz, keys, vals, n);
	close(fd);
	return err;
}

static int cmp_seq(const void *a, const void *b)
{
	const struct fa_record *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Puts @e into the first slot that holds @key, or the first free one. */
static int slot_put(struct fa_cache_slot *slots, __u32 size, size_t *used,
		    const struct flow_key *key, const struct fa_cache_entry *e,
		    bool removed)
{
	size_t i;

	for (i = 0; i < *used; i++)
		if (!memcmp(&slots[i].key, key, sizeof(*key)))
			break;
	if (removed) {
		if (i < *used) {
			slots[i] = slots[--*used];
			memset(&slots[*used], 0, sizeof(slots[*used]));
		}
		return 0;
	}
	if (i == *used) {
		if (*used == size)
			return -ERANGE;	/* a killed daemon's cache of another size */
		slots[(*used)++].key = *key;
	}
	slots[i].e = *e;
	return 0;
}

/*
 * An older daemon's pinned cache and journal as a cache file, which a
 * rename makes the daemon's in one step: until then the pins are the state,
 * after it the file (and the pins, left over, are removed). A committed
 * tick's changes are applied to the cache in the file and its records put
 * in the file's records area, still COMMITTED: the tick is finished as any
 * other.
 */
static int adopt_pinned_cache(struct fa_stream *s)
{
	__u8 *keys = NULL, *ckeys = NULL;	/* FLOW_KEY_SIZE_OFF bytes each */
	struct flow_key key;
	struct fa_cache_entry *vals = NULL;
	struct fa_journal_change *chg = NULL;
	__u8 *recs = NULL;
	struct fa_record *to;
	struct fa_cachefile *cf = NULL;
	struct fa_cache_store st;
	size_t n, nchg = 0, nrec = 0, used = 0, i;
	__u64 *seqs = NULL;
	__u32 cap;
	int err;

	/* Their keys have no tunnel tag; their records are converted. */
	err = read_pinned(s->p.dir, DPIN_CACHE, FLOW_KEY_SIZE_OFF, sizeof(*vals),
			  (void **)&keys, (void **)&vals, &n);
	if (!err && s->rs.phase == FA_PHASE_COMMITTED) {
		err = read_pinned(s->p.dir, DPIN_JREC, sizeof(*seqs), FA_RECORD_V1_SIZE,
				  (void **)&seqs, (void **)&recs, &nrec);
		if (!err)
			err = read_pinned(s->p.dir, DPIN_JCHG, FLOW_KEY_SIZE_OFF,
					  sizeof(*chg), (void **)&ckeys,
					  (void **)&chg, &nchg);
		if (!err && nrec != s->rs.nr_records)
			err = -EUCLEAN;	/* the commit says otherwise: not ours to guess */
	}
	if (!err)
		err = fa_cachefile_open(s->p.dir, s->cfg.size, journal_size(s),
					s->rs.instance, FA_CACHEFILE_TMP, &cf);
	if (err)
		goto out;
	fa_cachefile_store(cf, &st);
	for (i = 0; i < n && !err; i++) {
		fa_key_load(&key, keys + i * FLOW_KEY_SIZE_OFF, FLOW_KEY_SIZE_OFF);
		err = slot_put(st.slots, s->cfg.size, &used, &key, &vals[i], false);
	}
	for (i = 0; i < nchg && !err; i++) {
		fa_key_load(&key, ckeys + i * FLOW_KEY_SIZE_OFF, FLOW_KEY_SIZE_OFF);
		err = slot_put(st.slots, s->cfg.size, &used, &key, &chg[i].entry,
			       chg[i].removed);
	}
	/* A slot's touch 0 means free: an entry always had one. */
	for (i = 0; i < used; i++)
		if (!st.slots[i].e.touch)
			st.slots[i].e.touch = 1;
	to = fa_cachefile_records(cf, &cap);
	if (!err && nrec > cap)
		err = -EUCLEAN;
	if (!err && nrec) {
		for (i = 0; i < nrec; i++)
			fa_record_load(&to[i], recs + i * FA_RECORD_V1_SIZE, FA_RECORD_V1_SIZE);
		qsort(to, nrec, sizeof(*to), cmp_seq);
	}
	if (!err)
		err = fa_cachefile_publish(cf, s->p.dir);
	if (!err)
		dpin_unlink(s->p.dir, DPIN_CACHE);
	else
		fa_cachefile_remove_tmp(s->p.dir);
out:
	fa_cachefile_close(cf);
	free(keys);
	free(vals);
	free(ckeys);
	free(chg);
	free(seqs);
	free(recs);
	return err;
}

/*
 * Opens the daemon's state, or makes it on a first run: the cache file
 * before run_state, so that a run_state always has its file.
 */
static int open_state(struct fa_stream *s)
{
	static const __u32 array[] = { BPF_MAP_TYPE_ARRAY };
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	const char *dir = s->p.dir;
	char path[PATH_MAX];
	__u32 zero = 0;
	int err;

	s->rs_fd = dpin_open(dir, DPIN_RUN_STATE);
	if (s->rs_fd == -ENOENT) {
		memset(&s->rs, 0, sizeof(s->rs));
		s->rs.version = FA_RUN_STATE_VERSION;
		if (getrandom(&s->rs.instance, sizeof(s->rs.instance), 0) !=
		    sizeof(s->rs.instance))
			return -errno;
		s->rs.next_seq = 1;
		/* An older daemon's pins without their run_state: no one's. */
		dpin_unlink(dir, DPIN_CACHE);
		err = fa_cachefile_open(dir, s->cfg.size, journal_size(s),
					s->rs.instance, FA_CACHEFILE_NEW, &s->cf);
		if (err)
			return err;
		s->rs_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "fa_run_state", 4,
					  sizeof(s->rs), 1, &opts);
		if (s->rs_fd < 0)
			return -errno;
		err = write_run_state(s);
		fa_pin_path(path, sizeof(path), dir, dpin_names[DPIN_RUN_STATE]);
		if (!err && bpf_obj_pin(s->rs_fd, path))
			err = -errno;
		return err;
	}
	if (s->rs_fd < 0)
		return s->rs_fd;
	err = fa_map_check(s->rs_fd, array, 1, 4, sizeof(s->rs));
	if (!err && bpf_map_lookup_elem(s->rs_fd, &zero, &s->rs))
		err = -errno;
	if (!err && s->rs.version != FA_RUN_STATE_VERSION)
		err = -EPROTO;
	if (err)
		return err;
	if (s->rs.phase == FA_PHASE_STOPPED) {
		/* An empty cache, of whatever size this daemon asks for. */
		dpin_unlink(dir, DPIN_CACHE);
		err = fa_cachefile_open(dir, s->cfg.size, journal_size(s),
					s->rs.instance, FA_CACHEFILE_NEW, &s->cf);
		if (err)
			return err;
		s->rs.phase = FA_PHASE_IDLE;
		return write_run_state(s);
	}
	if (fa_cachefile_exists(dir)) {
		/* Left over once a conversion was done. */
		dpin_unlink(dir, DPIN_CACHE);
		/* A file of an earlier release: made this one's. */
		err = fa_cachefile_upgrade(dir, s->cfg.size, journal_size(s), s->rs.instance,
					   s->rs.phase == FA_PHASE_COMMITTED ?
					   s->rs.nr_records : 0);
		if (err)
			return err;
	} else {
		err = adopt_pinned_cache(s);
		if (err == -ENOENT)
			err = -EUCLEAN;	/* a run_state without its cache */
		if (err)
			return err;
	}
	return fa_cachefile_open(dir, s->cfg.size, journal_size(s), s->rs.instance,
				 FA_CACHEFILE_EXISTING, &s->cf);
}

/*
 * The end of a tick (6.): its undo log emptied, run_state IDLE. Emptied
 * first: an IDLE state with an undo log is a tick that never committed,
 * which the next start would undo.
 */
static int finish_tick(struct fa_stream *s, size_t nrec)
{
	size_t nundo = *s->store.undo_n;
	int err;

	fa_cache_commit(s->cache);
	FA_CRASH_POINT("undone");
	s->rs.phase = FA_PHASE_IDLE;
	err = write_run_state(s);
	FA_CRASH_POINT("idle");
	if (!err)
		fa_cachefile_trim(s->cf, nundo, nrec);
	return err;
}

/*
 * A committed tick that was not finished: its records out again, then its
 * end. Also after a sink failure.
 */
static int finish_committed(struct fa_stream *s, const struct fa_sink *sink,
			    bool replay)
{
	size_t nrec = s->rs.nr_records;
	int err;

	if (nrec > s->rec_cap)
		return -EUCLEAN;
	if (s->set) {
		err = books_commit(s);
		if (err)
			return err;
	}
	if (nrec) {
		err = sink->write(sink->ctx, s, s->recs, nrec, s->rs.wall_off);
		if (err) {
			s->stats.sink_errors++;
			return err;
		}
		if (replay)
			s->stats.replayed += nrec;
	}
	return finish_tick(s, nrec);
}

/* Whether @epoch's table (or its overflow rows) holds anything. */
static int table_has_rows(const struct fa_stream *s, __u32 epoch)
{
	struct flow_value ov[FLOW_NR_DIRS] = {};
	struct fa_tick_clock ticks;
	const __u32 *ifs;
	struct flow_key k;
	int fd = s->p.fd[epoch ? FA_PIN_FLOWS_1 : FA_PIN_FLOWS_0], err;
	size_t n, i;

	if (!bpf_map_get_next_key(fd, NULL, &k))
		return 1;
	err = fa_tick_src_read(&s->ticks, &ticks);
	if (!err)
		err = fa_stream_rows_of((struct fa_stream *)s, &ifs, &n);
	for (i = 0; i < n && !err; i++) {
		err = fa_overflow_read(s->p.fd[FA_PIN_OVERFLOW], ifs[i], 1u << epoch, &ticks, ov);
		if (err == -ENOENT)
			err = 0;
	}
	if (err)
		return err;
	return ov[0].packets || ov[1].packets;
}

static int stream_open(struct fa_stream *s, const char *dirname,
		       const struct fa_cache_cfg *cfg, const struct fa_sink *sink)
{
	struct fa_ifid id;
	int err;

	memset(s, 0, sizeof(*s));
	s->rs_fd = -1;
	s->books_fd = -1;
	s->ticks.prog_fd = -1;
	s->cfg = *cfg;
	err = fa_pinned_open_dir(dirname, &s->p);
	if (err) {
		for (int k = 0; k < FA_NR_PINS; k++)
			s->p.fd[k] = -1;
		return err;
	}
	/* A set's record is interface 0's; an attachment's directory is "net...". */
	s->set = !s->p.state.ifindex && strncmp(dirname, "net", 3);
	id = (struct fa_ifid){ s->p.state.netns_ino, s->p.state.netns_cookie,
			       s->p.state.ifindex };
	if (!s->set && fa_ifid_name(&id, s->ifname))
		snprintf(s->ifname, sizeof(s->ifname), "%s", s->p.state.ifname);
	err = open_state(s);
	if (!err && s->set)
		err = books_open(s);
	if (!err)
		err = fa_tick_src_open(&s->ticks);
	if (err)
		return err;
	fa_cachefile_store(s->cf, &s->store);
	s->recs = fa_cachefile_records(s->cf, &s->rec_cap);
	/* Not committed: what the tick changed is undone, and it is done again. */
	err = fa_cache_open(cfg, &s->store, s->rs.phase != FA_PHASE_COMMITTED,
			    &s->cache);
	if (err)
		return err;
	if (s->rs.touch > fa_cache_touch(s->cache))
		fa_cache_set_touch(s->cache, s->rs.touch);
	if (s->rs.phase == FA_PHASE_COMMITTED)
		err = finish_committed(s, sink, true);
	if (!err)
		err = fa_drainfile_open(dirname, s->p.state.max_flows,
					s->set ? FLOW_SET_MAX_IFACES + 1 : 1,
					s->p.state.shared_map, s->rs.instance,
					&s->df);
	if (!err)
		err = fa_epoch_read(s->p.fd[FA_PIN_EPOCH], &s->epoch);
	if (err)
		return err;
	/*
	 * A daemon killed after a flip leaves rows in the table it flipped
	 * away from, or in the drain file (a drain it began): they are
	 * drained and merged before the next flip.
	 */
	if (fa_drainfile_pending(s->df, s->rs.gen, &s->draining)) {
		s->drain_other = s->draining != s->epoch;
		if (!s->drain_other)
			return -EUCLEAN;	/* programs write what it was draining */
		return 0;
	}
	err = table_has_rows(s, s->epoch ^ 1);
	if (err < 0)
		return err;
	s->drain_other = err;
	return 0;
}

/* A failed open holds nothing: its caller closes only streams that opened. */
int fa_stream_open(struct fa_stream *s, const char *dirname,
		   const struct fa_cache_cfg *cfg, const struct fa_sink *sink)
{
	int err = stream_open(s, dirname, cfg, sink);

	if (err)
		fa_stream_close(s);
	return err;
}

void fa_stream_close(struct fa_stream *s)
{
	if (s->rs_fd >= 0)
		close(s->rs_fd);
	s->rs_fd = -1;
	if (s->books_fd >= 0)
		close(s->books_fd);
	s->books_fd = -1;
	free(s->ifs);
	s->ifs = NULL;
	s->nifs = s->ifs_cap = 0;
	free(s->rows_of);
	s->rows_of = NULL;
	s->nrows_of = s->rows_of_cap = 0;
	fa_tick_src_close(&s->ticks);
	free(s->sum_buf);
	s->sum_buf = NULL;
	s->sum_buf_size = 0;
	fa_cache_free(s->cache);
	s->cache = NULL;
	fa_cachefile_close(s->cf);
	s->cf = NULL;
	s->recs = NULL;
	fa_drainfile_close(s->df);
	s->df = NULL;
	fa_pinned_close(&s->p);
}

void fa_stream_unpin(struct fa_stream *s, bool keep_run_state)
{
	/*
	 * run_state stays for the next daemon's sequence numbers, saying that
	 * the cache is empty and has no file (the next one makes its own, of
	 * its size). A cache that is not empty stays, with its file.
	 */
	if (keep_run_state && s->rs.phase == FA_PHASE_IDLE &&
	    !(s->cache && fa_cache_count(s->cache))) {
		s->rs.phase = FA_PHASE_STOPPED;
		if (write_run_state(s))
			return;
	} else if (keep_run_state) {
		return;
	}
	dpin_unlink(s->p.dir, keep_run_state ? DPIN_CACHE : DPIN_RUN_STATE);
	if (!keep_run_state) {
		char path[PATH_MAX];

		fa_pin_path(path, sizeof(path), s->p.dir, IFACES_PIN);
		unlink(path);
	}
	fa_drainfile_remove(s->p.dir);
	fa_cachefile_remove(s->p.dir);
}

/*
 * A table's walk reads every bucket, a row or not (4 MiB at the default
 * 262144 flows: 2 to 3 ms a tick, cold, on a 2-vCPU VM; most of an idle
 * daemon's CPU). A program puts a packet on a row only after adding it to
 * its hook's accounted counter, in the same run (flow_account.h). So when a
 * table was emptied by a drain since it was last the programs', and those
 * counters, summed, read after the flip away from it and its wait, equal
 * what they were before the flip that made it theirs again, no packet went
 * into it: it is empty, and the walk is left out. Counters' rows only go
 * (an interface forgotten) with fa_stream_iface_forget(), which drops the
 * marks. Above 4096 per-CPU values (a program set of more than 1023
 * interfaces at 2 CPUs, 31 at 64) the sum would cost more than the walk: no
 * marks. The last drains (a stop, an interface leaving) walk
 * (fa_stream_forget_marks()).
 */
#define MARK_MAX_VALUES 4096
/* Only where the CPU keeps a load before a later store (x86's total store
 * order): elsewhere no mark is taken and every table is walked. */
#if defined(__x86_64__) || defined(__i386__)
#define QUIET_TABLES 1
#else
#define QUIET_TABLES 0
#endif

static int accounted_sum(struct fa_stream *s, __u64 *sum)
{
	return fa_stats_accounted_sum(s->p.fd[FA_PIN_STATS], MARK_MAX_VALUES, &s->sum_buf,
				      &s->sum_buf_size, sum);
}

static void mark_table(struct fa_stream *s, __u32 table)
{
	s->mark[table].valid = QUIET_TABLES && s->mark[table].emptied &&
			       !accounted_sum(s, &s->mark[table].accounted);
	/* Until its next drain, it is the programs'. */
	s->mark[table].emptied = false;
}

/* Whether @table is known empty; its mark is used up either way. */
static bool table_quiet(struct fa_stream *s, __u32 table)
{
	__u64 now;
	bool quiet;

	quiet = s->mark[table].valid && !accounted_sum(s, &now) &&
		now == s->mark[table].accounted;
	s->mark[table].valid = false;
	return quiet;
}

void fa_stream_forget_marks(struct fa_stream *s)
{
	s->mark[0].valid = s->mark[1].valid = false;
}

int fa_stream_flip(struct fa_stream *s)
{
	int err;

	/*
	 * The table flipped away from last time still holds rows (a restart,
	 * or a tick whose records could not be written yet): it must be
	 * drained before the programs may write it again.
	 */
	if (s->drain_other || s->rs.phase == FA_PHASE_COMMITTED) {
		if (!fa_drainfile_pending(s->df, s->rs.gen, &s->draining))
			s->draining = s->epoch ^ 1;
		s->mark[s->draining].valid = false;
		return 0;
	}
	mark_table(s, s->epoch ^ 1);
	err = fa_epoch_write(s->p.fd[FA_PIN_EPOCH], s->epoch ^ 1);
	if (err)
		return err;
	s->draining = s->epoch;
	s->epoch ^= 1;
	return 0;
}

/* Records made during a tick, in the cache file's records area. */
struct tick_records {
	struct fa_record *v;
	size_t n, cap;
};

static int collect(void *ctx, const struct fa_record *r)
{
	struct tick_records *t = ctx;

	if (t->n == t->cap)
		return -ENOSPC;	/* journal_size() says a tick can't */
	t->v[t->n++] = *r;
	return 0;
}

static int do_drain(struct fa_stream *s, __u64 now, bool flush,
		    const struct fa_sink *sink)
{
	struct tick_records recs = { .v = s->recs, .cap = s->rec_cap };
	struct fa_run_state before;
	struct fa_row *rows;
	__u64 start = fa_mono_ns();
	const __u32 *ifs;
	size_t nrows, count, i, nifs, ndrops;
	__u32 fresh, dused;
	int err, dir;

	/* A tick a failed sink left committed: out with it first. */
	if (s->rs.phase == FA_PHASE_COMMITTED) {
		err = finish_committed(s, sink, false);
		if (err)
			return err;
	}
	/* The same interfaces as a drain a kill cut short: no one joined or
	 * forgot one meanwhile (the daemon does, between ticks). */
	err = fa_stream_rows_of(s, &ifs, &nifs);
	if (!err)
		err = fa_drainfile_drain(s->df, &s->ticks, s->p.fd, s->draining,
					 table_quiet(s, s->draining) && !flush, ifs, nifs,
					 s->rs.gen + 1, &rows, &nrows);
	if (err)
		return err;
	s->drain_other = false;	/* the table is empty now: the file has it */
	s->mark[s->draining].emptied = true;
	before = s->rs;
	s->stats.rows += nrows;
	s->stats.last_table_flows = 0;
	ndrops = 0;
	for (i = 0; i < nrows; i++) {
		s->stats.last_table_flows += rows[i].kind == FA_ROW_FLOW;
		ndrops += rows[i].kind == FA_ROW_DROP;
	}
	/*
	 * The cache file's pages the tick may write, before it writes any:
	 * a filesystem too full for them fails the tick here, before it began
	 * (the rows stay in the drain file), and not with SIGBUS at a store.
	 */
	count = fa_cache_count(s->cache);
	fresh = fa_cache_fresh(s->cache);
	/* Drop slots: those in use may change (a record, a removal), and a
	 * drop row may take a new one. */
	dused = fa_cache_drops_fresh(s->cache);
	dused = dused + ndrops < s->cfg.size ? dused + ndrops : s->cfg.size;
	err = fa_cachefile_reserve(s->cf, fresh + nrows < s->cfg.size ?
					  fresh + nrows : s->cfg.size, dused,
				   (count + nrows < s->cfg.size ? count + nrows : s->cfg.size) +
				   dused,
				   count + nrows < recs.cap ? count + nrows : recs.cap);
	if (err)
		return err;
	/* 3. From here until the commit a failure leaves a tick to undo. */
	FA_CRASH_POINT("drained");
	err = fa_cache_merge(s->cache, rows, nrows, collect, &recs);
	FA_CRASH_POINT("merged");
	if (!err)
		err = fa_cache_expire(s->cache, now, collect, &recs);
	if (!err && flush)
		err = fa_cache_flush(s->cache, collect, &recs);
	for (i = 0; i < s->nleave && !err; i++)
		err = fa_cache_flush_iface(s->cache, s->leave[i], collect, &recs);
	if (err)
		goto undo;
	FA_CRASH_POINT("expired");

	s->rs.seq_base = s->rs.next_seq;
	for (i = 0; i < recs.n; i++) {
		recs.v[i].seq = s->rs.next_seq++;
		dir = recs.v[i].key.direction & 1;
		s->rs.exported_packets[dir] += recs.v[i].packets;
		s->rs.exported_bytes[dir] += recs.v[i].bytes;
		s->stats.records[recs.v[i].end_reason <= FA_END_LACK_OF_RESOURCES ?
				 recs.v[i].end_reason : 0]++;
	}
	s->rs.records += recs.n;
	s->rs.nr_records = recs.n;
	s->rs.table = s->draining;
	s->rs.touch = fa_cache_touch(s->cache);
	s->rs.wall_off = fa_mono_to_wall_offset();
	s->rs.gen++;

	/* 4. the commit. */
	s->rs.phase = FA_PHASE_COMMITTED;
	err = write_run_state(s);
	if (err) {
		s->rs = before;
		goto undo;
	}
	FA_CRASH_POINT("committed");
	if (s->set) {
		err = books_commit(s);
		if (err)
			return err;
	}
	/* 5. out. From here a failure leaves the tick committed, to finish. */
	if (recs.n) {
		err = sink->write(sink->ctx, s, recs.v, recs.n, s->rs.wall_off);
		if (err) {
			s->stats.sink_errors++;
			return err;
		}
	}
	FA_CRASH_POINT("written");
	/* 6. */
	err = finish_tick(s, recs.n);
	if (!err) {
		s->stats.ticks++;
		s->stats.last_drain_ns = fa_mono_ns() - start;
		s->stats.drain_ns_total += s->stats.last_drain_ns;
	}
	return err;
undo:
	/*
	 * Not committed: the cache is part way through the tick. A reopen of
	 * the stream undoes it from the undo log, as a restart would, and
	 * merges the drain file's rows again.
	 */
	return -EUCLEAN;
}

int fa_stream_drain(struct fa_stream *s, __u64 now, bool flush,
		    const struct fa_sink *sink)
{
	return do_drain(s, now, flush, sink);
}

int fa_stream_drain_other(struct fa_stream *s, __u64 now, bool flush,
			  const struct fa_sink *sink)
{
	int err;

	/*
	 * Nothing writes either table now. A table a restart found full, or
	 * a tick left committed, is drained first: a tick after that would
	 * not have flipped, and the table the programs wrote last would be
	 * left with its rows (a stop before a restarted daemon's first tick).
	 */
	if (s->drain_other || s->rs.phase == FA_PHASE_COMMITTED) {
		err = fa_stream_flip(s);
		if (!err)
			err = do_drain(s, now, false, sink);
		if (err)
			return err;
	}
	err = fa_stream_flip(s);
	return err ? err : do_drain(s, now, flush, sink);
}

/* What left in records, per interface asked for (ordered by ifindex). */
struct exported {
	__u32 ifindex;
	__u64 packets[FLOW_NR_DIRS];
	__u64 bytes[FLOW_NR_DIRS];
};

struct exported_all {
	struct exported *ex;
	size_t n;
	/* An attachment's stream: every row is its one interface's, whatever
	 * index its key holds (XDP on a bond keys a port's). */
	bool one;
};

static int cmp_exported(const void *a, const void *b)
{
	const struct exported *x = a, *y = b;

	return x->ifindex < y->ifindex ? -1 : x->ifindex > y->ifindex;
}

static struct exported *exported_find(const struct exported_all *a, __u32 ifindex)
{
	struct exported k = { .ifindex = ifindex };

	if (a->one)
		return a->n ? a->ex : NULL;
	return bsearch(&k, a->ex, a->n, sizeof(k), cmp_exported);
}

static void less_exported(void *ctx, const struct flow_key *key,
			  const struct fa_cache_entry *e)
{
	struct exported *ex = exported_find(ctx, key->ifindex);
	int dir = key->direction & 1;

	if (!ex)
		return;
	ex->packets[dir] -= e->total_packets - e->packets;
	ex->bytes[dir] -= e->total_bytes - e->bytes;
}

/* Keeps rows [from, n) of @t whose interface is one asked for. */
static void keep_asked(struct fa_table *t, size_t from, const struct exported_all *a)
{
	size_t i, out = from;

	for (i = from; i < t->n; i++)
		if (exported_find(a, t->rows[i].key.ifindex))
			t->rows[out++] = t->rows[i];
	t->n = out;
}

/* The rows not yet in the cache: the live tables, overflow rows, and
 * those a killed daemon drained and no tick merged yet. */
static int live_rows(const struct fa_stream *s, const struct exported_all *a,
		     struct fa_table *live)
{
	struct flow_value ov[FLOW_NR_DIRS];
	struct fa_tick_clock ticks;
	const struct fa_row *pending;
	struct flow_key key;
	size_t npending, i;
	int err, dir;

	err = fa_tick_src_read(&s->ticks, &ticks);
	if (!err)
		err = fa_table_read(s->p.fd[s->epoch ? FA_PIN_FLOWS_1 : FA_PIN_FLOWS_0],
				    &ticks, live, NULL, NULL);
	if (!err && s->drain_other)
		err = fa_table_read(s->p.fd[s->epoch ? FA_PIN_FLOWS_0 : FA_PIN_FLOWS_1],
				    &ticks, live, NULL, NULL);
	if (!err)
		err = fa_drop_table_read(s->p.fd[s->epoch ? FA_PIN_DROPS_1 : FA_PIN_DROPS_0],
					 &ticks, live);
	if (!err && s->drain_other)
		err = fa_drop_table_read(s->p.fd[s->epoch ? FA_PIN_DROPS_0 : FA_PIN_DROPS_1],
					 &ticks, live);
	if (!err && s->set)
		keep_asked(live, 0, a);
	for (i = 0; i < a->n && !err; i++) {
		memset(ov, 0, sizeof(ov));
		err = fa_overflow_read(s->p.fd[FA_PIN_OVERFLOW], a->ex[i].ifindex,
				       s->drain_other ? 3 : 1u << s->epoch, &ticks, ov);
		for (dir = 0; dir < FLOW_NR_DIRS && !err; dir++) {
			if (!ov[dir].packets)
				continue;
			memset(&key, 0, sizeof(key));
			key.ifindex = a->ex[i].ifindex;
			key.direction = dir;
			err = fa_table_append(live, &key, &ov[dir], FA_ROW_OVERFLOW);
		}
	}
	if (!err && s->drain_other) {
		fa_drainfile_rows(s->df, s->rs.gen, &pending, &npending);
		for (i = 0; i < npending && !err; i++)
			if (exported_find(a, pending[i].key.ifindex)) {
				err = fa_table_append(live, &pending[i].key, &pending[i].val,
						      pending[i].kind);
				if (!err)
					live->rows[live->n - 1].drops = pending[i].drops;
			}
	}
	if (!err)
		fa_table_fold_drops(live, 0);
	return err;
}

int fa_stream_snapshot(const struct fa_stream *s, const struct fa_attach_state *st,
		       size_t n, struct fa_snapshot *snap)
{
	struct exported_all a = {};
	struct fa_table live = {};
	struct fa_iface_books b;
	struct fa_iface_snap *is;
	struct flow_key key;
	size_t from = snap->t.n, i;
	int err = 0, dir;

	if (!s->set) {
		st = &s->p.state;
		n = 1;
	}
	a.ex = calloc(n ? n : 1, sizeof(*a.ex));
	if (!a.ex)
		return -ENOMEM;
	a.one = !s->set;
	/* Counters first: the rows then hold at least what they say. */
	for (i = 0; i < n && !err; i++) {
		err = fa_snapshot_add_iface(snap, s->p.fd, &st[i], s->p.dir);
		if (err)
			break;
		is = &snap->ifs[snap->nifs - 1];
		if (*fa_stream_ifname(s, st[i].ifindex))
			snprintf(is->ifname, sizeof(is->ifname), "%s",
				 fa_stream_ifname(s, st[i].ifindex));
		a.ex[a.n].ifindex = st[i].ifindex;
		/* One that never made a record has no books yet. */
		if (!fa_stream_iface_books(s, st[i].ifindex, &b))
			for (dir = 0; dir < FLOW_NR_DIRS; dir++) {
				a.ex[a.n].packets[dir] = b.exported_packets[dir];
				a.ex[a.n].bytes[dir] = b.exported_bytes[dir];
			}
		a.n++;
	}
	qsort(a.ex, a.n, sizeof(*a.ex), cmp_exported);
	if (!err)
		err = live_rows(s, &a, &live);
	if (!err)
		err = fa_cache_dump(s->cache, &snap->t, live.rows, live.n);
	fa_table_free(&live);
	if (!err && s->set)
		keep_asked(&snap->t, from, &a);

	/*
	 * What left in records: the records' totals, less what flows still
	 * in the cache already exported (their rows show their whole life).
	 */
	if (!err)
		fa_cache_foreach(s->cache, less_exported, &a);
	for (i = 0; i < a.n && !err; i++)
		for (dir = 0; dir < FLOW_NR_DIRS && !err; dir++) {
			struct flow_value v = { .packets = a.ex[i].packets[dir],
						.bytes = a.ex[i].bytes[dir] };

			if (!v.packets)
				continue;
			memset(&key, 0, sizeof(key));
			key.ifindex = a.ex[i].ifindex;
			key.direction = dir;
			err = fa_table_append(&snap->t, &key, &v, FA_ROW_EXPORTED);
		}
	free(a.ex);
	if (!err)
		fa_table_shift_times(&snap->t, from, fa_mono_to_wall_offset());
	return err;
}
