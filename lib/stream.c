// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A daemon's stream of records for one interface, and what keeps it whole
 * whatever kills the daemon.
 *
 * The daemon keeps its state on bpffs beside the attachment, in maps only
 * user space writes: run_state (one entry: instance, sequence numbers,
 * progress), cache (the flow cache), and a journal of one tick
 * (journal_records, journal_changes); and the rows of the epoch it drains
 * in a drain file under /run/flowacct (lib/drainfile.c). A tick is a
 * transaction:
 *
 *   1. flip the epoch, wait (fa_sync_wait);
 *   2. drain the old table into the drain file (read and cleared in one
 *      pass: from here its rows live in the file);
 *   3. merge and expire in memory: the records, and the cache's changes;
 *   4. write records and changes to the journal;
 *   5. commit: one update of run_state says COMMITTED (with the tick's
 *      generation, which marks the drain file's rows as merged, and the new
 *      sequence number and totals);
 *   6. write the records out (the sink);
 *   7. apply the changes to the pinned cache; run_state says IDLE again;
 *      the journal is emptied.
 *
 * A daemon killed before 5 loses nothing: the drained rows are in the
 * drain file (the rest still in the table, which nothing else writes until
 * the drain is finished) and the pinned cache is as it was, so a restarted
 * daemon finishes the drain and does the tick again. Killed after 5, the
 * restarted daemon finishes the tick from the journal: it writes the records
 * again (identical, with the same instance and sequence numbers: duplicates
 * a reader can drop), then 7. No table a program can write is ever cleared.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"

enum { DPIN_RUN_STATE, DPIN_CACHE, DPIN_JREC, DPIN_JCHG, NR_DPINS };

static const char *const dpin_names[NR_DPINS] = {
	"run_state", "cache", "journal_records", "journal_changes",
};

/* Rows per batch call on our own maps. */
#define BATCH 4096

static int dpin_open(const char *dirname, int which)
{
	char path[PATH_MAX];
	int fd;

	fa_pin_path(path, sizeof(path), dirname, dpin_names[which]);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

static int dpin_create(const char *dirname, int which, __u32 type,
		       __u32 key_size, __u32 value_size, __u32 max)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	char path[PATH_MAX], name[16];
	int fd, err;

	/* Only what is used takes memory: most ticks change few flows. */
	if (type == BPF_MAP_TYPE_HASH)
		opts.map_flags = BPF_F_NO_PREALLOC;
	snprintf(name, sizeof(name), "fa_%s", dpin_names[which]);
	fd = bpf_map_create(type, name, key_size, value_size, max, &opts);
	if (fd < 0)
		return -errno;
	fa_pin_path(path, sizeof(path), dirname, dpin_names[which]);
	if (bpf_obj_pin(fd, path)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int map_max_entries(int fd, __u32 *max)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*max = info.max_entries;
	return 0;
}

static int write_run_state(struct fa_stream *s)
{
	__u32 zero = 0;

	return bpf_map_update_elem(s->rs_fd, &zero, &s->rs, BPF_ANY) ? -errno : 0;
}

/* The journal holds at most a tick's records and changes. */
static __u32 journal_size(const struct fa_stream *s)
{
	return s->cfg.size * 2 + s->p.state.max_flows * 2 + 16;
}

/* Opens the daemon's pins, or makes them on a first run. */
static int open_dpins(struct fa_stream *s)
{
	static const __u32 hash[] = { BPF_MAP_TYPE_HASH };
	static const __u32 array[] = { BPF_MAP_TYPE_ARRAY };
	const char *dir = s->p.dir;
	__u32 zero = 0, max = 0;
	int err;

	s->rs_fd = dpin_open(dir, DPIN_RUN_STATE);
	if (s->rs_fd == -ENOENT) {
		memset(&s->rs, 0, sizeof(s->rs));
		s->rs.version = FA_RUN_STATE_VERSION;
		if (getrandom(&s->rs.instance, sizeof(s->rs.instance), 0) !=
		    sizeof(s->rs.instance))
			return -errno;
		s->rs.next_seq = 1;
		s->rs_fd = dpin_create(dir, DPIN_RUN_STATE, BPF_MAP_TYPE_ARRAY, 4,
				       sizeof(s->rs), 1);
		if (s->rs_fd < 0)
			return s->rs_fd;
		err = write_run_state(s);
		if (err)
			return err;
	} else if (s->rs_fd < 0) {
		return s->rs_fd;
	} else {
		err = fa_map_check(s->rs_fd, array, 1, 4, sizeof(s->rs));
		if (!err && bpf_map_lookup_elem(s->rs_fd, &zero, &s->rs))
			err = -errno;
		if (!err && s->rs.version != FA_RUN_STATE_VERSION)
			err = -EPROTO;
		if (err)
			return err;
	}

	s->cache_fd = dpin_open(dir, DPIN_CACHE);
	if (s->cache_fd == -ENOENT)
		s->cache_fd = dpin_create(dir, DPIN_CACHE, BPF_MAP_TYPE_HASH,
					  sizeof(struct flow_key),
					  sizeof(struct fa_cache_entry), s->cfg.size);
	if (s->cache_fd < 0)
		return s->cache_fd;
	err = fa_map_check(s->cache_fd, hash, 1, sizeof(struct flow_key),
			   sizeof(struct fa_cache_entry));
	if (!err)
		err = map_max_entries(s->cache_fd, &max);
	if (err)
		return err;
	if (max != s->cfg.size)
		return -ERANGE;	/* a killed daemon's cache of another size */

	s->jrec_fd = dpin_open(dir, DPIN_JREC);
	if (s->jrec_fd == -ENOENT)
		s->jrec_fd = dpin_create(dir, DPIN_JREC, BPF_MAP_TYPE_HASH,
					 sizeof(__u64), sizeof(struct fa_record),
					 journal_size(s));
	if (s->jrec_fd < 0)
		return s->jrec_fd;
	s->jchg_fd = dpin_open(dir, DPIN_JCHG);
	if (s->jchg_fd == -ENOENT)
		s->jchg_fd = dpin_create(dir, DPIN_JCHG, BPF_MAP_TYPE_HASH,
					 sizeof(struct flow_key),
					 sizeof(struct fa_journal_change),
					 journal_size(s));
	if (s->jchg_fd < 0)
		return s->jchg_fd;
	err = fa_map_check(s->jrec_fd, hash, 1, sizeof(__u64),
			   sizeof(struct fa_record));
	if (!err)
		err = fa_map_check(s->jchg_fd, hash, 1, sizeof(struct flow_key),
				   sizeof(struct fa_journal_change));
	return err;
}

/*
 * Every key and value of one of our hash maps (not per-CPU), with batch
 * lookups. *keys and *vals are the caller's to free.
 */
static int read_all(int fd, size_t ksz, size_t vsz, void **keys_out,
		    void **vals_out, size_t *n_out)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	char *keys = NULL, *vals = NULL, *grown;
	size_t n = 0, cap = 0;
	__u32 batch, count;
	void *in = NULL;
	int err;

	for (;;) {
		if (cap - n < BATCH) {
			cap = cap ? cap * 2 : BATCH * 2;
			grown = realloc(keys, cap * ksz);
			if (!grown)
				goto nomem;
			keys = grown;
			grown = realloc(vals, cap * vsz);
			if (!grown)
				goto nomem;
			vals = grown;
		}
		count = BATCH;
		err = bpf_map_lookup_batch(fd, in, &batch, keys + n * ksz,
					   vals + n * vsz, &count, &opts);
		if (err && errno != ENOENT) {
			err = -errno;
			free(keys);
			free(vals);
			return err;
		}
		n += count;
		if (err)
			break;
		in = &batch;
	}
	*keys_out = keys;
	*vals_out = vals;
	*n_out = n;
	return 0;
nomem:
	free(keys);
	free(vals);
	return -ENOMEM;
}

static int update_all(int fd, const void *keys, const void *vals, size_t n,
		      size_t ksz, size_t vsz)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t done = 0;
	__u32 count;

	while (done < n) {
		count = n - done > BATCH ? BATCH : n - done;
		if (bpf_map_update_batch(fd, (const char *)keys + done * ksz,
					 (const char *)vals + done * vsz, &count,
					 &opts))
			return -errno;
		done += count;
	}
	return 0;
}

/* Deletes @keys, skipping those already gone (a tick applied twice). */
static int delete_all(int fd, const void *keys, size_t n, size_t ksz)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t done = 0;
	__u32 count;

	while (done < n) {
		count = n - done > BATCH ? BATCH : n - done;
		if (!bpf_map_delete_batch(fd, (const char *)keys + done * ksz,
					  &count, &opts)) {
			done += count;
			continue;
		}
		if (errno != ENOENT)
			return -errno;
		done += count + 1;
	}
	return 0;
}

static int empty_map(int fd, size_t ksz, size_t vsz)
{
	void *keys, *vals;
	size_t n;
	int err;

	err = read_all(fd, ksz, vsz, &keys, &vals, &n);
	if (err)
		return err;
	err = delete_all(fd, keys, n, ksz);
	free(keys);
	free(vals);
	return err;
}

/*
 * The journal maps are sized for the largest tick, and a scan of one walks
 * every bucket whether it holds anything or not: scanned only when what they
 * hold is not known (a restart, a failed emptying).
 */
static int empty_journal(struct fa_stream *s)
{
	int err;

	if (s->journal_empty)
		return 0;
	err = empty_map(s->jrec_fd, sizeof(__u64), sizeof(struct fa_record));
	if (!err)
		err = empty_map(s->jchg_fd, sizeof(struct flow_key),
				sizeof(struct fa_journal_change));
	s->journal_empty = !err;
	return err;
}

/* Empties the journal of the tick that wrote exactly these keys. */
static int forget_journal(struct fa_stream *s, const __u64 *seqs, size_t nrec,
			  const struct flow_key *ckeys, size_t nchg)
{
	int err;

	err = delete_all(s->jrec_fd, seqs, nrec, sizeof(*seqs));
	if (!err)
		err = delete_all(s->jchg_fd, ckeys, nchg, sizeof(*ckeys));
	s->journal_empty = !err;
	return err;
}

/*
 * Step 7 of a tick: the journal's changes into the pinned cache, run_state
 * IDLE, the journal emptied. IDLE comes before emptying: a daemon killed
 * while emptying leaves an IDLE state with what is left of a journal, which
 * the next one empties; the other order would leave a COMMITTED state with
 * half a journal.
 */
static int apply_changes(struct fa_stream *s, const struct flow_key *ckeys,
			 const struct fa_journal_change *chg, size_t nchg,
			 const __u64 *seqs, size_t nrec)
{
	struct flow_key *del, *upk;
	struct fa_cache_entry *upv;
	size_t i, nd = 0, nu = 0;
	int err;

	del = malloc((nchg ? nchg : 1) * sizeof(*del));
	upk = malloc((nchg ? nchg : 1) * sizeof(*upk));
	upv = malloc((nchg ? nchg : 1) * sizeof(*upv));
	if (!del || !upk || !upv) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nchg; i++) {
		if (chg[i].removed) {
			del[nd++] = ckeys[i];
		} else {
			upk[nu] = ckeys[i];
			upv[nu++] = chg[i].entry;
		}
	}
	err = delete_all(s->cache_fd, del, nd, sizeof(*del));
	if (!err)
		err = update_all(s->cache_fd, upk, upv, nu, sizeof(*upk), sizeof(*upv));
	if (!err) {
		s->rs.phase = FA_PHASE_IDLE;
		err = write_run_state(s);
	}
	if (!err)
		err = forget_journal(s, seqs, nrec, ckeys, nchg);
out:
	free(del);
	free(upk);
	free(upv);
	return err;
}

static int cmp_seq(const void *a, const void *b)
{
	const struct fa_record *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * A committed tick that was not finished: its records out again, then its
 * changes. Also after a sink failure, with the cache in memory already past
 * the tick.
 */
static int finish_committed(struct fa_stream *s, const struct fa_sink *sink,
			    bool replay)
{
	struct flow_key *ckeys = NULL;
	struct fa_journal_change *chg = NULL;
	struct fa_record *recs = NULL;
	__u64 *seqs = NULL;
	size_t nrec, nchg;
	int err;

	err = read_all(s->jrec_fd, sizeof(__u64), sizeof(*recs), (void **)&seqs,
		       (void **)&recs, &nrec);
	if (!err)
		err = read_all(s->jchg_fd, sizeof(*ckeys), sizeof(*chg),
			       (void **)&ckeys, (void **)&chg, &nchg);
	if (err)
		goto out;
	if (nrec != s->rs.nr_records) {
		err = -EUCLEAN;	/* the commit says otherwise: not ours to guess */
		goto out;
	}
	if (nrec > 1)
		qsort(recs, nrec, sizeof(*recs), cmp_seq);
	if (nrec) {
		err = sink->write(sink->ctx, s, recs, nrec, s->rs.wall_off);
		if (err) {
			s->stats.sink_errors++;
			goto out;
		}
		if (replay)
			s->stats.replayed += nrec;
	}
	err = apply_changes(s, ckeys, chg, nchg, seqs, nrec);
out:
	free(seqs);
	free(recs);
	free(ckeys);
	free(chg);
	return err;
}

static int cmp_touch(const void *a, const void *b, void *arg)
{
	const struct fa_cache_entry *v = arg;
	__u64 x = v[*(const size_t *)a].touch, y = v[*(const size_t *)b].touch;

	return x < y ? -1 : x > y;
}

/* The persisted cache into memory, in the order it was touched. */
static int load_cache(struct fa_stream *s)
{
	struct flow_key *keys;
	struct fa_cache_entry *vals;
	size_t n, i, *order;
	int err;

	err = read_all(s->cache_fd, sizeof(*keys), sizeof(*vals), (void **)&keys,
		       (void **)&vals, &n);
	if (err)
		return err;
	order = malloc((n ? n : 1) * sizeof(*order));
	if (!order) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		order[i] = i;
	if (n > 1)
		qsort_r(order, n, sizeof(*order), cmp_touch, vals);
	for (i = 0; i < n && !err; i++)
		err = fa_cache_restore(s->cache, &keys[order[i]], &vals[order[i]]);
	if (s->rs.touch > fa_cache_touch(s->cache))
		fa_cache_set_touch(s->cache, s->rs.touch);
out:
	free(order);
	free(keys);
	free(vals);
	return err;
}

/* Whether @epoch's table (or its overflow rows) holds anything. */
static int table_has_rows(const struct fa_stream *s, __u32 epoch)
{
	struct flow_value ov[FLOW_NR_DIRS] = {};
	struct fa_tick_clock ticks;
	struct flow_key k;
	int fd = s->p.fd[epoch ? FA_PIN_FLOWS_1 : FA_PIN_FLOWS_0], err;

	if (!bpf_map_get_next_key(fd, NULL, &k))
		return 1;
	err = fa_tick_src_read(&s->ticks, &ticks);
	if (!err)
		err = fa_overflow_read(s->p.fd[FA_PIN_OVERFLOW], 1u << epoch,
				       &ticks, ov);
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
	s->rs_fd = s->cache_fd = s->jrec_fd = s->jchg_fd = -1;
	s->ticks.prog_fd = -1;
	s->cfg = *cfg;
	err = fa_pinned_open_dir(dirname, &s->p);
	if (err) {
		for (int k = 0; k < FA_NR_PINS; k++)
			s->p.fd[k] = -1;
		return err;
	}
	id = (struct fa_ifid){ s->p.state.netns_ino, s->p.state.netns_cookie,
			       s->p.state.ifindex };
	if (fa_ifid_name(&id, s->ifname))
		snprintf(s->ifname, sizeof(s->ifname), "%s", s->p.state.ifname);
	err = open_dpins(s);
	if (!err)
		err = fa_tick_src_open(&s->ticks);
	if (err)
		return err;
	err = fa_cache_new(cfg, &s->cache);
	if (err)
		return err;
	if (s->rs.phase == FA_PHASE_COMMITTED) {
		err = finish_committed(s, sink, true);
	} else {
		/* What an uncommitted tick wrote: the tick will be done again. */
		err = empty_journal(s);
	}
	if (!err)
		err = load_cache(s);
	if (!err)
		err = fa_drainfile_open(dirname, s->p.state.max_flows,
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
	if (s->cache_fd >= 0)
		close(s->cache_fd);
	if (s->jrec_fd >= 0)
		close(s->jrec_fd);
	if (s->jchg_fd >= 0)
		close(s->jchg_fd);
	s->rs_fd = s->cache_fd = s->jrec_fd = s->jchg_fd = -1;
	fa_tick_src_close(&s->ticks);
	fa_cache_free(s->cache);
	s->cache = NULL;
	fa_drainfile_close(s->df);
	s->df = NULL;
	fa_pinned_close(&s->p);
}

void fa_stream_unpin(struct fa_stream *s, bool keep_run_state)
{
	char path[PATH_MAX];
	int i;

	for (i = keep_run_state ? DPIN_CACHE : DPIN_RUN_STATE; i < NR_DPINS; i++) {
		fa_pin_path(path, sizeof(path), s->p.dir, dpin_names[i]);
		unlink(path);
	}
	fa_drainfile_remove(s->p.dir);
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
		return 0;
	}
	err = fa_epoch_write(s->p.fd[FA_PIN_EPOCH], s->epoch ^ 1);
	if (err)
		return err;
	s->draining = s->epoch;
	s->epoch ^= 1;
	return 0;
}

/* Records made during a tick, before they have sequence numbers. */
struct tick_records {
	struct fa_record *v;
	size_t n, cap;
};

static int collect(void *ctx, const struct fa_record *r)
{
	struct tick_records *t = ctx;
	struct fa_record *grown;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		grown = realloc(t->v, t->cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		t->v = grown;
	}
	t->v[t->n++] = *r;
	return 0;
}

static int do_drain(struct fa_stream *s, __u64 now, bool flush,
		    const struct fa_sink *sink)
{
	struct tick_records recs = {};
	struct flow_key *ckeys = NULL;
	struct fa_journal_change *chg = NULL;
	struct fa_run_state before;
	struct fa_row *rows;
	__u64 start = fa_mono_ns(), *seqs = NULL;
	size_t nrows, nchg, i;
	int err, dir;

	/* A tick a failed sink left committed: out with it first. */
	if (s->rs.phase == FA_PHASE_COMMITTED) {
		err = finish_committed(s, sink, false);
		if (err)
			return err;
	}
	/* Whatever a failed emptying left: the journal holds one tick only. */
	err = empty_journal(s);
	if (!err)
		err = fa_drainfile_drain(s->df, &s->ticks, s->p.fd, s->draining,
					 s->p.state.ifindex, s->rs.gen + 1, &rows,
					 &nrows);
	if (err)
		return err;
	s->drain_other = false;	/* the table is empty now: the file has it */
	before = s->rs;
	s->stats.rows += nrows;
	s->stats.last_table_flows = 0;
	for (i = 0; i < nrows; i++)
		s->stats.last_table_flows += rows[i].kind == FA_ROW_FLOW;
	err = fa_cache_merge(s->cache, rows, nrows, collect, &recs);
	if (!err)
		err = fa_cache_expire(s->cache, now, collect, &recs);
	if (!err && flush)
		err = fa_cache_flush(s->cache, collect, &recs);
	if (!err)
		err = fa_cache_changes(s->cache, &ckeys, &chg, &nchg);
	if (err)
		goto out;

	seqs = malloc((recs.n ? recs.n : 1) * sizeof(*seqs));
	if (!seqs) {
		err = -ENOMEM;
		goto out;
	}
	s->rs.seq_base = s->rs.next_seq;
	for (i = 0; i < recs.n; i++) {
		recs.v[i].seq = s->rs.next_seq++;
		seqs[i] = recs.v[i].seq;
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

	/* 4. the journal; 5. the commit. */
	s->journal_empty = false;
	err = update_all(s->jrec_fd, seqs, recs.v, recs.n, sizeof(*seqs),
			 sizeof(*recs.v));
	if (!err)
		err = update_all(s->jchg_fd, ckeys, chg, nchg, sizeof(*ckeys),
				 sizeof(*chg));
	if (!err) {
		s->rs.phase = FA_PHASE_COMMITTED;
		err = write_run_state(s);
	}
	if (err) {
		/*
		 * Not committed: the pinned state is as before the tick, but the
		 * cache in memory is past it. Only a restart (which reloads
		 * the pinned cache and merges the drain file again) makes them
		 * one.
		 */
		s->rs = before;
		err = -EUCLEAN;
		goto out;
	}
	/* 6. out. From here a failure leaves the tick committed, to finish. */
	if (recs.n) {
		err = sink->write(sink->ctx, s, recs.v, recs.n, s->rs.wall_off);
		if (err) {
			s->stats.sink_errors++;
			goto out;
		}
	}
	/* 7. */
	err = apply_changes(s, ckeys, chg, nchg, seqs, recs.n);
	if (!err) {
		s->stats.ticks++;
		s->stats.last_drain_ns = fa_mono_ns() - start;
		s->stats.drain_ns_total += s->stats.last_drain_ns;
	}
out:
	free(ckeys);
	free(chg);
	free(seqs);
	free(recs.v);
	return err;
}

int fa_stream_drain(struct fa_stream *s, __u64 now, bool flush,
		    const struct fa_sink *sink)
{
	return do_drain(s, now, flush, sink);
}

int fa_stream_drain_other(struct fa_stream *s, __u64 now, bool flush,
			  const struct fa_sink *sink)
{
	s->draining = s->epoch ^ 1;
	return do_drain(s, now, flush, sink);
}

struct exported {
	__u64 packets[FLOW_NR_DIRS];
	__u64 bytes[FLOW_NR_DIRS];
};

static void less_exported(void *ctx, const struct flow_key *key,
			  const struct fa_cache_entry *e)
{
	struct exported *ex = ctx;
	int dir = key->direction & 1;

	ex->packets[dir] -= e->total_packets - e->packets;
	ex->bytes[dir] -= e->total_bytes - e->bytes;
}

int fa_stream_snapshot(const struct fa_stream *s, struct fa_snapshot *snap)
{
	struct exported ex;
	struct fa_table live = {};
	struct flow_value ov[FLOW_NR_DIRS] = {};
	struct fa_tick_clock ticks;
	struct fa_iface_snap *is;
	struct flow_key key;
	size_t from = snap->t.n;
	int err, dir;

	/* Counters first: the rows then hold at least what they say. */
	err = fa_snapshot_add_stats(snap, &s->p);
	if (err)
		return err;
	is = &snap->ifs[snap->nifs - 1];
	snprintf(is->ifname, sizeof(is->ifname), "%s", s->ifname);
	err = fa_tick_src_read(&s->ticks, &ticks);
	if (!err)
		err = fa_table_read(s->p.fd[s->epoch ? FA_PIN_FLOWS_1 : FA_PIN_FLOWS_0],
				    &ticks, &live, NULL, NULL);
	if (!err && s->drain_other)
		err = fa_table_read(s->p.fd[s->epoch ? FA_PIN_FLOWS_0 : FA_PIN_FLOWS_1],
				    &ticks, &live, NULL, NULL);
	if (!err)
		err = fa_overflow_read(s->p.fd[FA_PIN_OVERFLOW],
				       s->drain_other ? 3 : 1u << s->epoch,
				       &ticks, ov);
	for (dir = 0; !err && dir < FLOW_NR_DIRS; dir++) {
		if (!ov[dir].packets)
			continue;
		memset(&key, 0, sizeof(key));
		key.ifindex = s->p.state.ifindex;
		key.direction = dir;
		err = fa_table_append(&live, &key, &ov[dir], FA_ROW_OVERFLOW);
	}
	if (!err && s->drain_other) {
		const struct fa_row *pending;
		size_t npending, i;

		/* Rows a killed daemon drained and no tick merged yet. */
		fa_drainfile_rows(s->df, s->rs.gen, &pending, &npending);
		for (i = 0; i < npending && !err; i++)
			err = fa_table_append(&live, &pending[i].key, &pending[i].val,
					      pending[i].kind);
		fa_table_merge_equal(&live, 0);
	}
	if (!err)
		err = fa_cache_dump(s->cache, &snap->t, live.rows, live.n);
	fa_table_free(&live);
	if (err)
		return err;

	/*
	 * What left in records: the records' totals, less what flows still
	 * in the cache already exported (their rows show their whole life).
	 */
	for (dir = 0; dir < FLOW_NR_DIRS; dir++) {
		ex.packets[dir] = s->rs.exported_packets[dir];
		ex.bytes[dir] = s->rs.exported_bytes[dir];
	}
	fa_cache_foreach(s->cache, less_exported, &ex);
	for (dir = 0; dir < FLOW_NR_DIRS && !err; dir++) {
		struct flow_value v = { .packets = ex.packets[dir],
					.bytes = ex.bytes[dir] };

		if (!v.packets)
			continue;
		memset(&key, 0, sizeof(key));
		key.ifindex = s->p.state.ifindex;
		key.direction = dir;
		err = fa_table_append(&snap->t, &key, &v, FA_ROW_EXPORTED);
	}
	fa_table_shift_times(&snap->t, from, fa_mono_to_wall_offset());
	return err;
}
