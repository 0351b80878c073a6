// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The drain file: where an epoch's rows go when they leave the kernel, so
 * that a daemon killed at any moment loses none of them.
 *
 * A drain is bpf_map_lookup_and_delete_batch() over the table flipped away
 * from: one pass that reads and clears, about as fast as reading alone
 * (tests/bench: a lookup, then a delete by key, cost twice as much). The
 * kernel copies each batch into a buffer that is a shared mapping of a file
 * under /run/flowacct, and writes the batch's row count and resume token
 * back into the syscall's attributes, which live in the same mapping. The
 * rows are gone from the table only once the syscall has returned, and a
 * process is killed only on its way back to user space, so whatever the
 * kernel took out is in the file, with its count. The batch is then summed
 * over CPUs into the file's rows, and the file's header counts it in.
 *
 * A restarted daemon finds the file as the killed one left it: the summed
 * rows, maybe one batch not summed yet (its token tells whether the syscall
 * ran: it is set to a value the kernel never writes before each call), and
 * the rest of the table still in the table. It finishes the drain, and the
 * tick goes on with the file's rows. The file's generation, against the
 * last tick committed, says whether its rows were already merged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "flow_drop.h"

#define DF_MAGIC	0x46414446	/* "FADF" */
#define DF_VERSION	6	/* 6: the tunnel's tag; 5: drop rows (4 and 5 are converted) */
#define DF_VERSION_NO_TAG 5
#define DF_VERSION_NO_DROPS 4
#define DF_CHUNK	8192		/* rows per batch call */
#define DF_NO_TOKEN	0xffffffffu	/* a bucket index no table has */

enum df_state { DF_EMPTY, DF_DRAINING, DF_DRAINED };

struct df_head {
	__u32 magic;
	__u32 version;
	__u64 instance;		/* the daemon state's (struct fa_run_state) */
	__u64 gen;		/* the tick these rows are for */
	__u32 state;		/* enum df_state */
	__u32 table;		/* the epoch drained */
	__u64 nrows;		/* summed rows in rows[] */
	__u32 ncpus;		/* slots per key in a batch (2: a shared row) */
	__u32 overflow_saved;	/* the overflow rows are in rows[] */
	__u32 cap;		/* rows[] holds this many */
	__u32 chunk_rows;	/* DF_CHUNK */
	__u32 token;		/* out_batch of the last call, or DF_NO_TOKEN */
	__u32 resume;		/* in_batch of the next call */
	__u32 batch_drops;	/* the batch is a drop table's (struct flow_drop_key) */
	__u32 drops_state;	/* 1: the drop table's drain begun (the flows' done) */
	__u32 key_size;		/* of the batch's keys: its table's */
	__u32 pad;
	union bpf_attr attr;	/* the batch call's; the kernel writes its count */
};

struct fa_drainfile {
	int fd;
	size_t rows_off;	/* where rows[] starts in the file */
	void *map;
	size_t size;
	struct df_head *h;
	char *ckeys;		/* a batch as the kernel wrote it */
	char *cvals;
	struct fa_row *rows;	/* summed, for the cache */
	bool shared;		/* values are struct flow_shared_value */
	struct fa_tick_clock ticks;	/* this drain's: rows leave in mono ns */
};

_Static_assert(sizeof(struct flow_shared_value) ==
	       2 * sizeof(struct flow_map_value), "a shared row is two slots");

static size_t value_stride(void)
{
	return (sizeof(struct flow_map_value) + 7) & ~(size_t)7;
}

static size_t layout(__u32 cap, __u32 ncpus, size_t *ckeys, size_t *cvals,
		     size_t *rows)
{
	*ckeys = (sizeof(struct df_head) + 63) & ~(size_t)63;
	*cvals = *ckeys + DF_CHUNK * sizeof(struct flow_drop_key);
	*cvals = (*cvals + 63) & ~(size_t)63;
	*rows = *cvals + (size_t)DF_CHUNK * ncpus * value_stride();
	*rows = (*rows + 63) & ~(size_t)63;
	return *rows + (size_t)cap * sizeof(struct fa_row);
}

_Static_assert(sizeof(struct flow_drop_key) == sizeof(struct flow_key) + 4 &&
	       offsetof(struct flow_drop_key, reason) == FLOW_KEY_SIZE_OFF &&
	       offsetof(struct flow_drop_key, ifindex) == offsetof(struct flow_key, ifindex) &&
	       offsetof(struct flow_drop_key, direction) == offsetof(struct flow_key, direction) &&
	       offsetof(struct flow_drop_key, tunnel) == offsetof(struct flow_key, tunnel) &&
	       sizeof(struct flow_drop_value) == sizeof(struct flow_map_value) &&
	       offsetof(struct flow_drop_value, last_seen) == offsetof(struct flow_map_value, last_seen),
	       "a drop row is a flow row and its reason");

/* The drain file's bytes for an attachment of @max_flows. */
size_t fa_drainfile_bytes(__u32 max_flows, bool shared)
{
	int ncpus = shared ? 1 : libbpf_num_possible_cpus();
	size_t ckeys, cvals, rows;

	return layout(max_flows + FLOW_NR_DIRS + FLOW_DROP_DEFAULT_ENTRIES, ncpus < 1 ? 1 : ncpus,
		      &ckeys, &cvals, &rows);
}

void fa_drainfile_close(struct fa_drainfile *df)
{
	if (!df)
		return;
	if (df->map && df->map != MAP_FAILED)
		munmap(df->map, df->size);
	if (df->fd >= 0)
		close(df->fd);
	free(df);
}

/* What the headers of versions 4 and 5 begin with, as this one's does. */
struct df_head_old {
	__u32 magic;
	__u32 version;
	__u64 instance;
	__u64 gen;
	__u32 state;
	__u32 table;
	__u64 nrows;
	__u32 ncpus;
	__u32 overflow_saved;
	__u32 cap;
	__u32 chunk_rows;
	__u32 token;
	__u32 resume;
};

/* Version 5's: then the drop fields, without the batch's key size. */
struct df_head_v5 {
	struct df_head_old o;
	__u32 batch_drops;
	__u32 drops_state;
	union bpf_attr attr;
};

/* Version 4's: no drop fields either. */
struct df_head_v4 {
	struct df_head_old o;
	union bpf_attr attr;
};

_Static_assert(offsetof(struct df_head_v5, batch_drops) == offsetof(struct df_head, batch_drops) &&
	       offsetof(struct df_head_v4, attr) == offsetof(struct df_head, batch_drops),
	       "the old headers as they were");

/*
 * struct fa_row before the tunnel's tag: the key's 44 bytes, flows, the
 * value, kind, ext, and (from version 5) the drops.
 */
#define ROW_V4_SIZE 96
#define ROW_V5_SIZE 128

static void row_load(struct fa_row *to, const __u8 *o, size_t osize)
{
	memset(to, 0, sizeof(*to));
	fa_key_load(&to->key, o, FLOW_KEY_SIZE_OFF);
	memcpy(&to->flows, o + 44, sizeof(to->flows));
	memcpy(&to->val, o + 48, sizeof(to->val));
	to->kind = o[88];
	memcpy(&to->ext, o + 92, sizeof(to->ext));
	if (osize >= ROW_V5_SIZE)
		memcpy(&to->drops, o + 96, sizeof(to->drops));
}

/*
 * A drain a daemon of version 4 or 5 left unfinished (killed between the
 * drain and the commit), rewritten as this version's in a file renamed
 * over it: its summed rows, and the batch it took last if it was not
 * summed yet (its keys and values as the kernel wrote them: its table's
 * keys then had no tag). A kill before the rename leaves the old file as
 * it was; anything else is no drain of this state's, and the file starts
 * afresh as before.
 */
static int upgrade_old(const char *path, __u64 instance, __u32 ncpus, __u32 cap)
{
	size_t ckeys, cvals, rows, size, o_ckeys, o_cvals, o_rows, o_size, o_row, o_key, i;
	char tmp[PATH_MAX + 8];
	struct df_head_v5 o = {};
	struct df_head_v4 o4;
	struct df_head *h;
	struct stat st;
	char *old = MAP_FAILED, *new = MAP_FAILED;
	int fd, nfd = -1, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (pread(fd, &o, sizeof(o), 0) != sizeof(o) || o.o.magic != DF_MAGIC ||
	    (o.o.version != DF_VERSION_NO_TAG && o.o.version != DF_VERSION_NO_DROPS))
		goto out;
	if (o.o.version == DF_VERSION_NO_DROPS) {
		if (pread(fd, &o4, sizeof(o4), 0) != sizeof(o4))
			goto out;
		o.batch_drops = o.drops_state = 0;
		o.attr = o4.attr;
		o_ckeys = (sizeof(o4) + 63) & ~(size_t)63;
		o_key = FLOW_KEY_SIZE_OFF;
		o_row = ROW_V4_SIZE;
	} else {
		o_ckeys = (sizeof(o) + 63) & ~(size_t)63;
		o_key = FLOW_DROP_KEY_SIZE_OFF;
		o_row = ROW_V5_SIZE;
	}
	if (o.o.instance != instance || o.o.state == DF_EMPTY || o.o.ncpus != ncpus || fstat(fd, &st))
		goto out;
	o_cvals = (o_ckeys + DF_CHUNK * o_key + 63) & ~(size_t)63;
	o_rows = (o_cvals + (size_t)DF_CHUNK * ncpus * value_stride() + 63) & ~(size_t)63;
	o_size = o_rows + (size_t)o.o.cap * o_row;
	if ((size_t)st.st_size != o_size || o.o.nrows > o.o.cap || o.o.nrows > cap)
		goto out;
	old = mmap(NULL, o_size, PROT_READ, MAP_SHARED, fd, 0);
	size = layout(cap, ncpus, &ckeys, &cvals, &rows);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	nfd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (old == MAP_FAILED || nfd < 0 || ftruncate(nfd, size)) {
		err = -errno;
		goto out;
	}
	new = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, nfd, 0);
	if (new == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	h = (struct df_head *)new;
	h->version = DF_VERSION;
	h->instance = o.o.instance;
	h->gen = o.o.gen;
	h->state = o.o.state;
	h->table = o.o.table;
	h->nrows = o.o.nrows;
	h->ncpus = o.o.ncpus;
	h->overflow_saved = o.o.overflow_saved;
	h->cap = cap;
	h->chunk_rows = DF_CHUNK;
	h->token = o.o.token;
	h->resume = o.o.resume;
	h->batch_drops = o.batch_drops;
	h->drops_state = o.drops_state;
	h->key_size = o.batch_drops ? FLOW_DROP_KEY_SIZE_OFF : FLOW_KEY_SIZE_OFF;
	h->attr = o.attr;
	memcpy(new + ckeys, old + o_ckeys, DF_CHUNK * o_key);
	memcpy(new + cvals, old + o_cvals, (size_t)DF_CHUNK * ncpus * value_stride());
	for (i = 0; i < o.o.nrows; i++)
		row_load((struct fa_row *)(new + rows) + i, (const __u8 *)old + o_rows + i * o_row,
			 o_row);
	h->magic = DF_MAGIC;
	if (rename(tmp, path))
		err = -errno;
out:
	if (new != MAP_FAILED)
		munmap(new, size);
	if (old != MAP_FAILED)
		munmap(old, o_size);
	if (nfd >= 0)
		close(nfd);
	if (err)
		unlink(tmp);
	close(fd);
	return err;
}

int fa_drainfile_open(const char *dirname, __u32 max_flows, __u32 nifaces, bool shared,
		      __u64 instance, struct fa_drainfile **out)
{
	size_t ckeys, cvals, rows, size;
	struct fa_drainfile *df;
	char path[PATH_MAX];
	struct stat st;
	int ncpus, err;
	/*
	 * A full table, each interface's overflow rows and a full drop table
	 * (whether there is one or not: a file of another size is started
	 * afresh, and the drop program may come or go between two daemons).
	 */
	__u32 cap = max_flows + FLOW_NR_DIRS * nifaces + FLOW_DROP_DEFAULT_ENTRIES;

	*out = NULL;
	/* A shared row is two slots wide (struct flow_shared_value). */
	ncpus = shared ? 2 : libbpf_num_possible_cpus();
	if (ncpus < 0)
		return ncpus;
	df = calloc(1, sizeof(*df));
	if (!df)
		return -ENOMEM;
	df->fd = -1;
	df->shared = shared;
	if (mkdir(FA_RUN_DIR, 0700) && errno != EEXIST) {
		err = -errno;
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/%s.drain", FA_RUN_DIR, dirname);
	err = upgrade_old(path, instance, ncpus, cap);
	if (err)
		goto fail;
	df->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (df->fd < 0 || fstat(df->fd, &st)) {
		err = -errno;
		goto fail;
	}
	size = layout(cap, ncpus, &ckeys, &cvals, &rows);
	/* A file of another size is another attachment's: start it afresh. */
	if ((size_t)st.st_size != size &&
	    (ftruncate(df->fd, 0) || ftruncate(df->fd, size))) {
		err = -errno;
		goto fail;
	}
	df->size = size;
	df->rows_off = rows;
	/*
	 * The pages the kernel copies batches into, allocated now: a copy into
	 * a page a full filesystem can't give fails after the batch left the
	 * table. Rows' pages are allocated before each batch (drain_table()).
	 */
	if (fallocate(df->fd, FALLOC_FL_KEEP_SIZE, 0, rows)) {
		err = -errno;
		goto fail;
	}
	df->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, df->fd, 0);
	if (df->map == MAP_FAILED) {
		err = -errno;
		goto fail;
	}
	df->h = df->map;
	df->ckeys = (char *)df->map + ckeys;
	df->cvals = (char *)df->map + cvals;
	df->rows = (struct fa_row *)((char *)df->map + rows);
	/*
	 * Rows are only ever the state's they were drained for: a file left by
	 * an attachment since detached (its state gone with its pins) starts
	 * afresh, whatever generation it was at.
	 */
	if (df->h->magic != DF_MAGIC || df->h->version != DF_VERSION ||
	    df->h->instance != instance || df->h->ncpus != (__u32)ncpus ||
	    df->h->cap != cap) {
		memset(df->h, 0, sizeof(*df->h));
		df->h->magic = DF_MAGIC;
		df->h->version = DF_VERSION;
		df->h->instance = instance;
		df->h->ncpus = ncpus;
		df->h->cap = cap;
		df->h->chunk_rows = DF_CHUNK;
		df->h->state = DF_EMPTY;
	}
	*out = df;
	return 0;
fail:
	fa_drainfile_close(df);
	return err;
}

void fa_drainfile_remove(const char *dirname)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s.drain", FA_RUN_DIR, dirname);
	unlink(path);
}

/* Rows that left a table for tick @gen and were not merged yet: 1, or 0. */
int fa_drainfile_pending(const struct fa_drainfile *df, __u64 committed_gen,
			 __u32 *table)
{
	if (df->h->state == DF_EMPTY || df->h->gen <= committed_gen)
		return 0;
	*table = df->h->table;
	return 1;
}

/* Sums the batch the kernel wrote into rows[], if the call that wrote it
 * returned (its token is set); then forgets the batch. */
static int take_batch(struct fa_drainfile *df)
{
	__u32 n = df->h->attr.batch.count, ks = df->h->key_size, i;
	struct fa_row *r;

	if (df->h->token == DF_NO_TOKEN)
		return 0;	/* no call ran since the last batch was taken */
	if (n > DF_CHUNK || df->h->nrows + n > df->h->cap)
		return -EUCLEAN;
	if (ks != (df->h->batch_drops ? sizeof(struct flow_drop_key) : sizeof(struct flow_key)) &&
	    ks != (df->h->batch_drops ? FLOW_DROP_KEY_SIZE_OFF : FLOW_KEY_SIZE_OFF))
		return -EUCLEAN;
	for (i = 0; i < n; i++) {
		r = &df->rows[df->h->nrows + i];
		memset(r, 0, sizeof(*r));
		if (df->h->batch_drops) {
			struct flow_drop_key k = {};

			/* One value for every CPU, laid out as a flow row's slot:
			 * its packets and bytes are the drops', its times theirs. */
			memcpy(&k, df->ckeys + i * ks, ks);
			fa_drop_flow_key(&r->key, &k);
			r->kind = FA_ROW_DROP;
			fa_value_merge_flow(&r->val, df->cvals + (size_t)i * value_stride(),
					    1, false, &df->ticks);
			r->drops.packets = r->val.packets;
			r->drops.bytes = r->val.bytes;
			r->drops.reason[0] = k.reason;
			r->val.packets = r->val.bytes = 0;
			r->val.tcp_flags = 0;
			continue;
		}
		fa_key_load(&r->key, df->ckeys + i * ks, ks);
		/* A flow's rows from several CPUs stay apart: the cache adds
		 * them together as it merges. */
		flow_key_strip_row_cpu(&r->key);
		r->flows = 1;
		r->kind = FA_ROW_FLOW;
		fa_value_merge_flow(&r->val, df->cvals +
				    (size_t)i * df->h->ncpus * value_stride(),
				    df->h->ncpus, df->shared, &df->ticks);
	}
	/* The count last: a kill before it takes the batch again, whole. */
	df->h->nrows += n;
	df->h->token = DF_NO_TOKEN;
	return 0;
}

/* Room for a batch's rows and the overflow rows after it. */
static int reserve_rows(const struct fa_drainfile *df, size_t rows)
{
	size_t off = df->rows_off + df->h->nrows * sizeof(struct fa_row);
	size_t len = rows * sizeof(struct fa_row);

	if (off >= df->size)
		return 0;
	if (len > df->size - off)
		len = df->size - off;
	return fallocate(df->fd, FALLOC_FL_KEEP_SIZE, off, len) ? -errno : 0;
}

static int drain_table(struct fa_drainfile *df, int map_fd, bool drops)
{
	union bpf_attr *a = &df->h->attr;
	bool first = true;
	/* The table's keys: with the tunnel's tag, or an earlier release's. */
	__u32 key_size = fa_map_key_size(map_fd);
	long ret;
	int err;

	if (!key_size)
		return -EBADF;
	for (;;) {
		/* Room for this batch's rows and the overflow rows after it. */
		err = reserve_rows(df, DF_CHUNK + FLOW_NR_DIRS);
		if (err)
			return err;
		memset(a, 0, sizeof(*a));
		a->batch.map_fd = map_fd;
		a->batch.keys = (__u64)(unsigned long)df->ckeys;
		a->batch.values = (__u64)(unsigned long)df->cvals;
		a->batch.count = DF_CHUNK;
		/* From the start on the first call (after a restart too): what
		 * earlier calls took is gone from the table. */
		a->batch.in_batch = first ? 0 : (__u64)(unsigned long)&df->h->resume;
		a->batch.out_batch = (__u64)(unsigned long)&df->h->token;
		df->h->batch_drops = drops;
		df->h->key_size = key_size;
		df->h->token = DF_NO_TOKEN;
		ret = syscall(__NR_bpf, BPF_MAP_LOOKUP_AND_DELETE_BATCH, a, sizeof(*a));
		err = ret < 0 ? -errno : 0;
		if (err && err != -ENOENT) {
			/* Nothing was taken on a failed call. */
			df->h->token = DF_NO_TOKEN;
			return err;
		}
		if (df->h->token == DF_NO_TOKEN)
			df->h->token = 0;	/* returned, even with no rows */
		/* The token of this call is the next call's starting point. */
		df->h->resume = df->h->token;
		ret = take_batch(df);
		if (ret)
			return ret;
		if (err == -ENOENT)
			return 0;
		first = false;
	}
}

/*
 * The epoch's overflow rows of each interface into rows[], then zeroed in
 * the kernel. All are saved (one flag says so) before any is zeroed:
 * zeroing again after a restart loses nothing, as long as the restart
 * names the same interfaces.
 */
static int drain_overflow(struct fa_drainfile *df, int ov_fd, const __u32 *ifindex,
			  size_t nif)
{
	struct flow_value ov[FLOW_NR_DIRS];
	__u32 dir;
	size_t i;
	int err;

	if (!df->h->overflow_saved) {
		/*
		 * Overflow rows a killed or failed pass appended are still in
		 * the kernel (nothing is zeroed before all are saved): taken
		 * again, from where the table's rows end.
		 */
		while (df->h->nrows && df->rows[df->h->nrows - 1].kind == FA_ROW_OVERFLOW)
			df->h->nrows--;
		if (df->h->nrows + FLOW_NR_DIRS * nif > df->h->cap)
			return -E2BIG;
		err = reserve_rows(df, FLOW_NR_DIRS * nif);
		if (err)
			return err;
		for (i = 0; i < nif; i++) {
			memset(ov, 0, sizeof(ov));
			err = fa_overflow_read(ov_fd, ifindex[i], 1u << df->h->table,
					       &df->ticks, ov);
			/* An interface without rows (forgotten) has none to save. */
			if (err == -ENOENT)
				continue;
			if (err)
				return err;
			for (dir = 0; dir < FLOW_NR_DIRS; dir++) {
				struct fa_row *r = &df->rows[df->h->nrows];

				if (!ov[dir].packets)
					continue;
				memset(r, 0, sizeof(*r));
				r->key.ifindex = ifindex[i];
				r->key.direction = dir;
				r->val = ov[dir];
				r->flows = 1;
				r->kind = FA_ROW_OVERFLOW;
				df->h->nrows++;
			}
		}
		df->h->overflow_saved = 1;
	}
	for (i = 0; i < nif; i++) {
		err = fa_overflow_zero(ov_fd, ifindex[i], df->h->table);
		if (err && err != -ENOENT)
			return err;
	}
	return 0;
}

int fa_drainfile_drain(struct fa_drainfile *df, const struct fa_tick_src *ticks,
		       const int *fd, __u32 table, bool flows_empty, const __u32 *ifindex,
		       size_t nif, __u64 gen, struct fa_row **rows, size_t *n)
{
	int err;

	err = fa_tick_src_read(ticks, &df->ticks);
	if (err)
		return err;
	if (df->h->state == DF_EMPTY || df->h->gen != gen) {
		/* A new drain. The header goes last: a kill before it leaves
		 * the file as it was, and the table untouched. */
		df->h->nrows = 0;
		df->h->overflow_saved = 0;
		df->h->drops_state = 0;
		df->h->token = DF_NO_TOKEN;
		df->h->table = table;
		df->h->gen = gen;
		df->h->state = DF_DRAINING;
	} else if (df->h->state == DF_DRAINING) {
		/* A killed daemon's: its last batch, then the rest. */
		err = take_batch(df);
		if (err)
			return err;
	}
	if (df->h->state == DF_DRAINING) {
		int dfd = fd[df->h->table ? FA_PIN_DROPS_1 : FA_PIN_DROPS_0];

		/* A restart in the drop table's drain has the flows' drained. */
		err = df->h->drops_state || flows_empty ? 0 :
		      drain_table(df, fd[df->h->table ? FA_PIN_FLOWS_1 : FA_PIN_FLOWS_0], false);
		if (!err && !df->h->drops_state)
			err = drain_overflow(df, fd[FA_PIN_OVERFLOW], ifindex, nif);
		/* The drops last: the overflow rows' restart takes rows from
		 * the end while they are not saved. */
		if (!err && dfd >= 0) {
			df->h->drops_state = 1;
			err = drain_table(df, dfd, true);
		}
		if (err)
			return err;
		df->h->state = DF_DRAINED;
	}
	*rows = df->rows;
	*n = df->h->nrows;
	return 0;
}

/* The rows of a drain not merged yet, for dump (read only). */
int fa_drainfile_rows(const struct fa_drainfile *df, __u64 committed_gen,
		      const struct fa_row **rows, size_t *n)
{
	*n = 0;
	if (df->h->state == DF_EMPTY || df->h->gen <= committed_gen)
		return 0;
	*rows = df->rows;
	*n = df->h->nrows;
	return 0;
}
