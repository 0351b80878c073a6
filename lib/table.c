// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The flow table as user space sees it: rows read from a flows map with
 * batch lookups, per-CPU slots merged, so both map modes look the same;
 * then sorted, grouped and filtered for output.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"

/* Rows per batch call; a hash bucket never holds more. */
#define BATCH_ROWS 8192

/* Per-CPU values come back as round_up(value_size, 8) bytes per CPU. */
static size_t percpu_stride(size_t sz)
{
	return (sz + 7) & ~(size_t)7;
}

/*
 * Merges per-CPU (or per-epoch, or per-interface) parts of one flow: counts
 * add up, the span of times widens, flags accumulate. A zero first_seen_ns
 * is a slot that never saw the flow.
 */
void fa_value_merge(struct flow_value *into, const struct flow_value *v)
{
	if (!v->packets && !v->first_seen_ns)
		return;
	into->packets += v->packets;
	into->bytes += v->bytes;
	into->tcp_flags |= v->tcp_flags;
	if (v->first_seen_ns &&
	    (!into->first_seen_ns || v->first_seen_ns < into->first_seen_ns))
		into->first_seen_ns = v->first_seen_ns;
	if (v->last_seen_ns > into->last_seen_ns)
		into->last_seen_ns = v->last_seen_ns;
}

size_t fa_map_value_size(const struct fa_tick_clock *clock)
{
	return clock ? sizeof(struct flow_map_value) :
		       sizeof(struct flow_replay_value);
}

void fa_value_merge_map(struct flow_value *into, const void *slot,
			const struct fa_tick_clock *clock)
{
	const struct flow_replay_value *rv = slot;
	const struct flow_map_value *v = slot;
	/* Both layouts start with the same two counters. */
	struct flow_value u = {
		.packets = v->packets_flags & FLOW_PACKETS_MASK,
		.bytes = v->bytes,
		.tcp_flags = v->packets_flags >> FLOW_FLAGS_SHIFT,
	};

	if (!u.packets)
		return;		/* a slot that never saw the flow */
	if (clock) {
		u.first_seen_ns = fa_ticks_to_mono(clock, v->first_seen);
		u.last_seen_ns = fa_ticks_to_mono(clock, v->last_seen);
	} else {
		u.first_seen_ns = rv->first_seen;
		u.last_seen_ns = rv->last_seen;
	}
	fa_value_merge(into, &u);
}

size_t fa_flow_value_size(bool shared, bool live)
{
	if (!live)
		return sizeof(struct flow_replay_value);
	return shared ? sizeof(struct flow_shared_value) :
			sizeof(struct flow_map_value);
}

void fa_value_merge_flow(struct flow_value *into, const void *vals,
			 int nslots, bool shared,
			 const struct fa_tick_clock *clock)
{
	size_t stride = percpu_stride(fa_map_value_size(clock));
	const struct flow_shared_value *sv = vals;
	struct flow_map_value others;
	int i;

	if (!shared || !clock) {
		for (i = 0; i < nslots; i++)
			fa_value_merge_map(into, (const char *)vals + i * stride,
					   clock);
		return;
	}
	fa_value_merge_map(into, &sv->own, clock);
	/* The other CPUs' half: the row began with the owner's insert. */
	others = (struct flow_map_value){
		.packets_flags = sv->packets_flags, .bytes = sv->bytes,
		.first_seen = sv->own.first_seen, .last_seen = sv->last_seen,
	};
	fa_value_merge_map(into, &others, clock);
}

/*
 * Large arrays of rows (a million flows: 128 MB each) are new memory on
 * every dump, and were faulted in 4 KiB at a time: asked for in huge pages
 * where the kernel's THP setting is "madvise", as Debian's is. Advice
 * only: no error.
 */
static void advise_huge(void *p, size_t len)
{
	uintptr_t page = sysconf(_SC_PAGESIZE), from, to;

	if (len < (8u << 20))
		return;
	from = ((uintptr_t)p + page - 1) & ~(page - 1);
	to = ((uintptr_t)p + len) & ~(page - 1);
	madvise((void *)from, to - from, MADV_HUGEPAGE);
}

int fa_table_reserve(struct fa_table *t, size_t more)
{
	struct fa_row *rows;
	size_t cap = t->cap ? t->cap : 1024;

	while (cap - t->n < more)
		cap *= 2;
	if (cap == t->cap)
		return 0;
	rows = realloc(t->rows, cap * sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	advise_huge(rows + t->n, (cap - t->n) * sizeof(*rows));
	t->rows = rows;
	t->cap = cap;
	return 0;
}

int fa_table_append(struct fa_table *t, const struct flow_key *key,
		    const struct flow_value *val, enum fa_row_kind kind)
{
	struct fa_row *r;

	if (t->n == t->cap && fa_table_reserve(t, 1))
		return -ENOMEM;
	r = &t->rows[t->n++];
	memset(r, 0, sizeof(*r));
	r->key = *key;
	r->val = *val;
	r->kind = kind;
	/* What a daemon already exported is a total, not a flow: grouped, it
	 * adds no flow to its group. */
	r->flows = kind != FA_ROW_EXPORTED;
	return 0;
}

void fa_table_free(struct fa_table *t)
{
	free(t->rows);
	free(t->rev);
	free(t->ext);
	if (t->cgroups)
		fa_cgroups_free(t->cgroups);
	free(t->cgroups);
	t->cgroups = NULL;
	t->rows = NULL;
	t->rev = NULL;
	t->ext = NULL;
	t->n = t->cap = t->next = 0;
}

/* How a flows map's values come back: slots per lookup, one row or not. */
struct map_layout {
	int ncpus;
	bool shared;
	size_t stride;		/* bytes per slot */
	__u32 key_size;		/* the table's: FLOW_KEY_SIZE_OFF without the tag */
	/* The CPU bits of the first row read, and whether another row had
	 * others: only then can a flow have several rows. */
	int first_cpu;
	bool cpus;
};

static int append_merged(struct fa_table *t, const struct flow_key *key,
			 const void *vals, struct map_layout *l,
			 const struct fa_tick_clock *clock)
{
	struct flow_value sum = {};
	struct flow_key k = *key;
	int cpu = flow_key_row_cpu(&k);

	if (l->first_cpu < 0)
		l->first_cpu = cpu;
	else if (cpu != l->first_cpu)
		l->cpus = true;
	flow_key_strip_row_cpu(&k);
	fa_value_merge_flow(&sum, vals, l->ncpus, l->shared, clock);
	return fa_table_append(t, &k, &sum, FA_ROW_FLOW);
}

/*
 * A flow's rows from several CPUs (flow_key_set_row_cpu), among rows
 * [@from, t->n), become one, in the place of its first: one pass over an
 * index of the rows kept, which a sort of a million rows would not be.
 */
#define ROW_NIL UINT32_MAX

static int merge_cpu_rows(struct fa_table *t, size_t from)
{
	struct fa_row *r = t->rows + from;
	size_t n = t->n - from, cap = 2, i, out = 0;
	__u32 *idx, h, j;

	if (n < 2)
		return 0;
	while (cap < 2 * n)
		cap *= 2;
	idx = malloc(cap * sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	memset(idx, 0xff, cap * sizeof(*idx));
	for (i = 0; i < n; i++) {
		for (h = fa_key_hash(&r[i].key) & (cap - 1);
		     (j = idx[h]) != ROW_NIL && memcmp(&r[j].key, &r[i].key, sizeof(r[i].key));
		     h = (h + 1) & (cap - 1))
			;
		if (j != ROW_NIL) {
			fa_value_merge(&r[j].val, &r[i].val);
			continue;
		}
		idx[h] = out;
		if (out != i)
			r[out] = r[i];
		out++;
	}
	free(idx);
	t->n = from + out;
	return 0;
}

static int keep_key(struct flow_key **keys, size_t *n, size_t *cap,
		    const struct flow_key *k)
{
	struct flow_key *grown;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		grown = realloc(*keys, *cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		*keys = grown;
	}
	(*keys)[(*n)++] = *k;
	return 0;
}

static int map_layout(int fd, const struct fa_tick_clock *clock,
		      struct map_layout *l)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);

	l->first_cpu = -1;
	l->cpus = false;

	if (bpf_obj_get_info_by_fd(fd, &info, &info_len))
		return -errno;
	l->shared = info.type != BPF_MAP_TYPE_PERCPU_HASH;
	if ((info.key_size != sizeof(struct flow_key) && info.key_size != FLOW_KEY_SIZE_OFF) ||
	    info.value_size != fa_flow_value_size(l->shared, clock != NULL))
		return -EPROTO;	/* built for another layout */
	l->key_size = info.key_size;
	l->stride = percpu_stride(info.value_size);
	l->ncpus = 1;
	if (!l->shared) {
		l->ncpus = libbpf_num_possible_cpus();
		if (l->ncpus < 0)
			return l->ncpus;
	}
	return 0;
}

/* For kernels without batch operations on hash maps (before 5.6). */
static int read_by_key(int fd, const struct fa_tick_clock *clock,
		       struct fa_table *t, void *vals, struct map_layout *l,
		       struct flow_key **keys, size_t *nkeys, size_t *kcap)
{
	struct flow_key key, next;
	struct flow_key *prev = NULL;
	int err;

	memset(&next, 0, sizeof(next));
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		fa_key_load(&key, &next, l->key_size);
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, vals))
			continue;	/* deleted since get_next_key */
		err = append_merged(t, &key, vals, l, clock);
		if (!err && keys)
			err = keep_key(keys, nkeys, kcap, &key);
		if (err)
			return err;
	}
	return errno == ENOENT ? 0 : -errno;
}

int fa_table_read(int fd, const struct fa_tick_clock *clock, struct fa_table *t,
		  struct flow_key **keys_out, size_t *nkeys)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct flow_key *kept = NULL, key;
	char *keys = NULL;
	__u32 batch, count, i, rows = BATCH_ROWS;
	void *vals = NULL, *in = NULL;
	struct map_layout l = {};
	size_t kcap = 0, from = t->n;
	int err;

	if (keys_out) {
		*keys_out = NULL;
		*nkeys = 0;
	}
	err = map_layout(fd, clock, &l);
	if (err)
		return err;
	keys = calloc(rows, sizeof(struct flow_key));
	vals = calloc((size_t)rows * l.ncpus, l.stride);
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}

	for (;;) {
		count = rows;
		err = bpf_map_lookup_batch(fd, in, &batch, keys, vals, &count,
					   &opts);
		if (err && errno != ENOENT) {
			err = -errno;
			break;
		}
		for (i = 0; i < count; i++) {
			int e;

			fa_key_load(&key, keys + (size_t)i * l.key_size, l.key_size);
			e = append_merged(t, &key, (char *)vals + (size_t)i * l.ncpus * l.stride,
					  &l, clock);
			if (!e && keys_out)
				e = keep_key(&kept, nkeys, &kcap, &key);
			if (e) {
				err = e;
				goto out;
			}
		}
		if (err) {	/* ENOENT: that was the last batch */
			err = 0;
			break;
		}
		in = &batch;
	}
	if (err == -EINVAL || err == -ENOTSUP || err == -524 /* ENOTSUPP */)
		err = in ? err : read_by_key(fd, clock, t, vals, &l,
					     keys_out ? &kept : NULL, nkeys, &kcap);
	if (!err && l.cpus)
		err = merge_cpu_rows(t, from);
out:
	free(keys);
	free(vals);
	if (keys_out && !err)
		*keys_out = kept;
	else
		free(kept);
	return err;
}

static int stats_map_info(int fd, struct bpf_map_info *out)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (out)
		*out = info;
	/* An attachment's array, or a program set's hash (flow_slot_key). */
	if (!((info.type == BPF_MAP_TYPE_PERCPU_ARRAY && info.key_size == 4) ||
	      (info.type == BPF_MAP_TYPE_PERCPU_HASH &&
	       info.key_size == sizeof(struct flow_slot_key))) ||
	    info.value_size % 8 ||
	    info.value_size < (FLOW_NR_COUNTERS_STABLE + 1) * 8 ||
	    info.value_size > sizeof(struct flow_stats))
		return -EPROTO;
	return info.value_size;
}

int fa_stats_map_check(int fd)
{
	return stats_map_info(fd, NULL);
}

int fa_stats_accounted_sum(int fd, size_t max_values, void **buf, size_t *buf_size,
			   __u64 *sum)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct bpf_map_info info;
	__u32 want, count, cap, i;
	int vsz, ncpus, cpu, err;
	size_t stride, need;
	__u64 total, batch;
	char *vals;
	void *grown;

	vsz = stats_map_info(fd, &info);
	if (vsz < 0)
		return vsz;
	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 0)
		return ncpus;
	stride = percpu_stride(vsz);
	/* A program set's hash holds rows for the interfaces it has, a
	 * fraction of its size: a few first, more when there are. */
	cap = max_values / ncpus < info.max_entries ? max_values / ncpus : info.max_entries;
	for (want = cap < 64 ? cap : 64; want; want = want < cap / 2 ? want * 2 : cap) {
		need = (size_t)want * (info.key_size + ncpus * stride);
		if (need > *buf_size) {
			grown = realloc(*buf, need);
			if (!grown)
				return -ENOMEM;
			*buf = grown;
			*buf_size = need;
		}
		vals = (char *)*buf + (size_t)want * info.key_size;
		count = want;
		err = bpf_map_lookup_batch(fd, NULL, &batch, *buf, vals, &count, &opts) ? -errno : 0;
		/* 0 from a hash asked for fewer than it may hold: more remain. */
		if (err == -ENOENT || (!err && want == info.max_entries)) {
			total = 0;
			for (i = 0; i < count; i++)
				for (cpu = 0; cpu < ncpus; cpu++)
					total += ((const __u64 *)(vals + ((size_t)i * ncpus + cpu) *
								     stride))[FLOW_C_ACCOUNTED];
			*sum = total;
			return 0;
		}
		if (err && err != -ENOSPC)
			return err;
		if (want == cap)
			break;
	}
	return -E2BIG;
}

int fa_stats_read(int fd, __u32 ifindex, struct fa_hook_stats st[FLOW_NR_DIRS])
{
	struct flow_slot_key k = { .ifindex = ifindex };
	const __u64 *counters;
	int ncpus, cpu, i, n;
	size_t stride;
	__u32 dir;
	char *vals;

	/*
	 * An adopted attachment of an older version counts fewer counters
	 * (they are only ever appended): it counts none of the others.
	 */
	n = fa_stats_map_check(fd);
	if (n < 0)
		return n;
	stride = percpu_stride(n);
	n = n / 8 - 1;
	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 0)
		return ncpus;
	vals = calloc(ncpus, stride);
	if (!vals)
		return -ENOMEM;
	for (dir = 0; dir < FLOW_NR_DIRS; dir++) {
		k.slot = dir;
		if (bpf_map_lookup_elem(fd, &k, vals)) {
			free(vals);
			return -errno;
		}
		for (cpu = 0; cpu < ncpus; cpu++) {
			counters = (const __u64 *)(vals + cpu * stride);
			for (i = 0; i < n; i++)
				st[dir].c[i] += counters[i];
		}
		if (st[dir].c[FLOW_C_SEEN])
			st[dir].present = true;
	}
	free(vals);
	return 0;
}

int fa_overflow_read(int fd, __u32 ifindex, unsigned int epoch_mask,
		     const struct fa_tick_clock *clock,
		     struct flow_value ov[FLOW_NR_DIRS])
{
	size_t stride = percpu_stride(fa_map_value_size(clock));
	struct flow_slot_key k = { .ifindex = ifindex };
	__u32 epoch, dir;
	int ncpus, cpu;
	char *vals;

	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 0)
		return ncpus;
	vals = calloc(ncpus, stride);
	if (!vals)
		return -ENOMEM;
	for (epoch = 0; epoch < FLOW_NR_EPOCHS; epoch++) {
		if (!(epoch_mask & (1u << epoch)))
			continue;
		for (dir = 0; dir < FLOW_NR_DIRS; dir++) {
			k.slot = FLOW_OVERFLOW_SLOT(epoch, dir);
			if (bpf_map_lookup_elem(fd, &k, vals)) {
				free(vals);
				return -errno;
			}
			for (cpu = 0; cpu < ncpus; cpu++)
				fa_value_merge_map(&ov[dir], vals + cpu * stride,
						   clock);
		}
	}
	free(vals);
	return 0;
}

void fa_stats_add(struct fa_hook_stats *into, const struct fa_hook_stats *from)
{
	int dir, i;

	for (dir = 0; dir < FLOW_NR_DIRS; dir++) {
		for (i = 0; i < FLOW_NR_COUNTERS; i++)
			into[dir].c[i] += from[dir].c[i];
		into[dir].present |= from[dir].present;
	}
}

/* ---- order ---------------------------------------------------------------- */

static int cmp_key_kind(const struct fa_row *a, const struct fa_row *b)
{
	if (a->kind != b->kind)
		return a->kind - b->kind;
	/* Grouped by process or cgroup, rows of one share an ext (else 0). */
	if (a->ext != b->ext)
		return a->ext < b->ext ? -1 : 1;
	/* 0 but in a table grouped by drop reason. */
	if (a->val.pad != b->val.pad)
		return a->val.pad < b->val.pad ? -1 : 1;
	return memcmp(&a->key, &b->key, sizeof(a->key));
}

static int cmp_key_kind_q(const void *a, const void *b)
{
	return cmp_key_kind(a, b);
}

/*
 * Rows of equal key and kind into one. Grouped rows add their flows; a
 * flow's rows (in both epochs, in a drain's rows from several CPUs and in
 * the table) are one flow.
 */
static void merge_equal(struct fa_table *t, size_t from, bool grouped)
{
	struct fa_row *r = t->rows + from;
	size_t i, n = t->n - from, out = 0;

	if (n < 2)
		return;
	qsort(r, n, sizeof(*r), cmp_key_kind_q);
	for (i = 0; i < n; i++) {
		if (out && !cmp_key_kind(&r[out - 1], &r[i])) {
			fa_value_merge(&r[out - 1].val, &r[i].val);
			fa_drops_add(&r[out - 1].drops, &r[i].drops);
			if (grouped)
				r[out - 1].flows += r[i].flows;
			else if (r[i].flows > r[out - 1].flows)
				r[out - 1].flows = r[i].flows;
		} else {
			r[out++] = r[i];
		}
	}
	t->n = from + out;
}

void fa_table_merge_equal(struct fa_table *t, size_t from)
{
	merge_equal(t, from, false);
}

/*
 * Sorting a million 128-byte rows through qsort's comparator touched both
 * rows of every comparison and copied rows around; this sorts small
 * records that carry what the order needs, then moves each row once.
 */
struct sort_rec {
	__u64 primary;		/* the field sorted by */
	__u64 packets;		/* the first tie-break */
	size_t idx;		/* the row, for the key tie-break */
};

static inline bool rec_before(const struct fa_row *rows,
			      const struct sort_rec *a, const struct sort_rec *b)
{
	int c;

	if (a->primary != b->primary)
		return a->primary > b->primary;
	if (a->packets != b->packets)
		return a->packets > b->packets;
	c = cmp_key_kind(&rows[a->idx], &rows[b->idx]);
	/* Rows that compare equal keep their order, as a stable sort would. */
	return c ? c < 0 : a->idx < b->idx;
}

/*
 * A bottom-up merge sort with the comparison inlined (qsort's indirect
 * call per comparison was most of the sort). Returns the sorted array,
 * which is @a or @tmp.
 */
static struct sort_rec *sort_recs(const struct fa_row *rows, struct sort_rec *a,
				  struct sort_rec *tmp, size_t n)
{
	struct sort_rec *from = a, *to = tmp, *t;
	size_t width, lo, mid, hi, i, j, k;

	for (width = 1; width < n; width *= 2) {
		for (lo = 0; lo < n; lo += 2 * width) {
			mid = lo + width < n ? lo + width : n;
			hi = lo + 2 * width < n ? lo + 2 * width : n;
			i = lo, j = mid, k = lo;
			while (i < mid && j < hi)
				to[k++] = rec_before(rows, &from[j], &from[i]) ?
						  from[j++] : from[i++];
			while (i < mid)
				to[k++] = from[i++];
			while (j < hi)
				to[k++] = from[j++];
		}
		t = from, from = to, to = t;
	}
	return from;
}

/*
 * The records in order of primary, then packets, both largest first: a
 * stable LSD radix sort over their 16 bytes, a byte at a time, skipping the
 * bytes in which all records agree (most of a count's high bytes). Then
 * each run of records equal in both is put in key order. Returns the
 * sorted array, which is @a or @tmp. (11-bit digits, fewer passes, were
 * slower here: 2048 buckets to scatter to.)
 */
static struct sort_rec *radix_sort_recs(const struct fa_row *rows,
					struct sort_rec *a,
					struct sort_rec *tmp, size_t n)
{
	static const unsigned int nbytes = 2 * sizeof(__u64);
	struct sort_rec *from = a, *to = tmp, *t;
	size_t (*count)[256], i, j, sum, c;
	unsigned int b;

	count = calloc(nbytes, sizeof(*count));
	if (!count)
		return sort_recs(rows, a, tmp, n);
	/* Complemented, so that ascending bytes sort largest first. */
	for (i = 0; i < n; i++) {
		__u64 p = ~a[i].primary, q = ~a[i].packets;

		for (b = 0; b < 8; b++) {
			count[b][q >> (8 * b) & 0xff]++;
			count[8 + b][p >> (8 * b) & 0xff]++;
		}
	}
	for (b = 0; b < nbytes; b++) {
		unsigned int shift = 8 * (b & 7);
		bool high = b >= 8;

		if (count[b][((high ? ~from[0].primary : ~from[0].packets) >>
			      shift) & 0xff] == n)
			continue;	/* every record has the same byte here */
		for (c = 0, sum = 0; c < 256; c++) {
			size_t k = count[b][c];

			count[b][c] = sum;
			sum += k;
		}
		for (i = 0; i < n; i++) {
			__u64 v = high ? ~from[i].primary : ~from[i].packets;

			to[count[b][(v >> shift) & 0xff]++] = from[i];
		}
		t = from, from = to, to = t;
	}
	free(count);
	/* Runs of equal counts, in key order (stable: idx breaks ties). */
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && from[j].primary == from[i].primary &&
				from[j].packets == from[i].packets; j++)
			;
		if (j - i > 1 &&
		    sort_recs(rows, from + i, to + i, j - i) != from + i)
			memcpy(from + i, to + i, (j - i) * sizeof(*from));
	}
	return from;
}

/* Puts row recs[i].idx at position i, following each cycle once. */
static void permute_rows(struct fa_row *rows, struct sort_rec *recs, size_t n)
{
	struct fa_row tmp;
	size_t i, j, k;

	for (i = 0; i < n; i++) {
		if (recs[i].idx == i)
			continue;
		tmp = rows[i];
		j = i;
		for (;;) {
			k = recs[j].idx;
			recs[j].idx = j;
			if (k == i) {
				rows[j] = tmp;
				break;
			}
			rows[j] = rows[k];
			j = k;
		}
	}
}

/*
 * The rows copied in order into a new array: reads at random but ahead of
 * use (prefetched), writes in sequence. Following the permutation's cycles
 * in place waited on a miss for every row, two thirds of a million-row
 * sort; this needs the rows' memory twice for a moment, and without it
 * the caller permutes in place.
 */
static int gather_rows(struct fa_table *t, const struct sort_rec *recs)
{
	enum { AHEAD = 8 };
	struct fa_row *rows;
	size_t i;

	rows = malloc(t->n * sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	advise_huge(rows, t->n * sizeof(*rows));
	for (i = 0; i < t->n; i++) {
		if (i + AHEAD < t->n)
			__builtin_prefetch(&t->rows[recs[i + AHEAD].idx]);
		rows[i] = t->rows[recs[i].idx];
	}
	free(t->rows);
	t->rows = rows;
	t->cap = t->n;
	return 0;
}

static __u64 sort_field(const struct fa_row *r, enum fa_sort by)
{
	switch (by) {
	case FA_SORT_PACKETS:
		return r->val.packets;
	case FA_SORT_LAST:
		return r->val.last_seen_ns;
	case FA_SORT_FIRST:
		/* Earliest first: the complement keeps "largest first" below. */
		return ~r->val.first_seen_ns;
	case FA_SORT_DURATION:
		return r->val.last_seen_ns - r->val.first_seen_ns;
	case FA_SORT_BYTES:
	default:
		return r->val.bytes;
	}
}

static int cmp_rows(const void *pa, const void *pb, void *arg)
{
	const struct fa_row *a = pa, *b = pb;
	enum fa_sort by = *(const enum fa_sort *)arg;
	__u64 x = sort_field(a, by), y = sort_field(b, by);

	if (x != y)
		return x < y ? 1 : -1;
	if (a->val.packets != b->val.packets)
		return a->val.packets < b->val.packets ? 1 : -1;
	return cmp_key_kind(a, b);
}

/* The records of @t's rows in order, in memory the caller frees (@buf). */
static struct sort_rec *sorted_recs(const struct fa_table *t, enum fa_sort by,
				    struct sort_rec **buf)
{
	struct sort_rec *recs;
	size_t i;

	recs = malloc(2 * t->n * sizeof(*recs));
	*buf = recs;
	if (!recs)
		return NULL;
	advise_huge(recs, 2 * t->n * sizeof(*recs));
	for (i = 0; i < t->n; i++) {
		recs[i].primary = sort_field(&t->rows[i], by);
		recs[i].packets = t->rows[i].val.packets;
		recs[i].idx = i;
	}
	return radix_sort_recs(t->rows, recs, recs + t->n, t->n);
}

/*
 * Sorts by @by, largest first; ties break on packets, then on the key.
 * Without memory for the records it sorts the rows themselves, slower,
 * into the same order.
 */
void fa_table_sort(struct fa_table *t, enum fa_sort by)
{
	struct sort_rec *recs, *sorted;

	if (t->n < 2)
		return;
	sorted = sorted_recs(t, by, &recs);
	if (!sorted) {
		qsort_r(t->rows, t->n, sizeof(*t->rows), cmp_rows, &by);
		return;
	}
	if (gather_rows(t, sorted))
		permute_rows(t->rows, sorted, t->n);
	free(recs);
}

int fa_table_order(const struct fa_table *t, enum fa_sort by, size_t **order)
{
	struct sort_rec *recs, *sorted;
	size_t i, *idx;

	*order = NULL;
	if (t->n < 2) {
		idx = calloc(1, sizeof(*idx));
		if (!idx)
			return -ENOMEM;
		*order = idx;
		return 0;
	}
	sorted = sorted_recs(t, by, &recs);
	if (!sorted) {
		free(recs);
		return -ENOMEM;
	}
	/* In place: an index is narrower than the record it is read from. */
	idx = (size_t *)recs;
	for (i = 0; i < t->n; i++)
		idx[i] = sorted[i].idx;
	*order = idx;
	return 0;
}

/* What a --group-by process or cgroup compares rows' exts with. */
struct ext_identity {
	const struct fa_ext *ext;	/* the table's */
	unsigned int group_by;
};

/* Whether the ext says who (and through which tunnel), as @group_by asks. */
static bool known(const struct fa_ext *x, unsigned int group_by)
{
	if ((group_by & FA_GROUP_TUNNEL) && !(x->flags & FA_EXT_TUNNEL))
		return false;
	if (group_by & FA_GROUP_PROCESS)
		return (x->flags & FA_EXT_SOCK) && x->sock.pid;
	if (group_by & FA_GROUP_CGROUP)
		return x->cgroup_id;
	if (group_by & FA_GROUP_CONTAINER)
		return x->container;
	return true;
}

/* A container is its id, or its pod's UID for a pod's interface; none
 * (a row known by its process or cgroup only) first. */
static int cmp_container(const struct fa_container *a, const struct fa_container *b)
{
	int c;

	if (!a || !b)
		return !!a - !!b;
	c = strcmp(a->id, b->id);
	return c ? c : strcmp(a->pod_uid, b->pod_uid);
}

/* Who a row is (ext indices @pa, @pb): rows whose identity is not known
 * are equal, and first. */
static int cmp_ext_identity(const void *pa, const void *pb, void *ctx)
{
	const struct ext_identity *id = ctx;
	const struct fa_ext *group_ext = id->ext;
	unsigned int group_by = id->group_by;
	__u32 a = *(const __u32 *)pa, b = *(const __u32 *)pb;
	const struct fa_ext *x = a ? &group_ext[a - 1] : NULL;
	const struct fa_ext *y = b ? &group_ext[b - 1] : NULL;
	bool kx = x && known(x, group_by), ky = y && known(y, group_by);
	int c;

	if (kx != ky || !kx)
		return kx - ky;
	if (group_by & FA_GROUP_PROCESS) {
		if (x->sock.pid != y->sock.pid)
			return x->sock.pid < y->sock.pid ? -1 : 1;
		c = strncmp(x->sock.comm, y->sock.comm, sizeof(x->sock.comm));
		if (c)
			return c;
	}
	if ((group_by & FA_GROUP_CGROUP) && x->cgroup_id != y->cgroup_id)
		return x->cgroup_id < y->cgroup_id ? -1 : 1;
	if (group_by & FA_GROUP_CONTAINER) {
		c = cmp_container(x->container, y->container);
		if (c)
			return c;
	}
	/* The key keeps the type; the rest is the tunnel's (its pad is 0). */
	if (group_by & FA_GROUP_TUNNEL)
		return memcmp(&x->tun, &y->tun, sizeof(x->tun));
	return 0;
}

/*
 * Rows of one process (or cgroup) get one ext: the first's of their run
 * once sorted by identity; rows with none known get 0 and merge as one.
 * Other groupings drop the ext: a merged row has no one socket.
 */
static int group_exts(struct fa_table *t, unsigned int group)
{
	struct ext_identity id = { .ext = t->ext, .group_by = group };
	__u32 *ids, *canon, first = 0;
	size_t i;

	if (!(group & (FA_GROUP_PROCESS | FA_GROUP_CGROUP | FA_GROUP_CONTAINER |
		       FA_GROUP_TUNNEL)) || !t->ext) {
		for (i = 0; i < t->n; i++)
			t->rows[i].ext = 0;
		return 0;
	}
	ids = malloc(t->n * sizeof(*ids));
	canon = calloc(t->next + 1, sizeof(*canon));
	if (!ids || !canon) {
		free(ids);
		free(canon);
		return -ENOMEM;
	}
	for (i = 0; i < t->n; i++)
		ids[i] = t->rows[i].ext;
	qsort_r(ids, t->n, sizeof(*ids), cmp_ext_identity, &id);
	for (i = 0; i < t->n; i++) {
		if (!i || cmp_ext_identity(&ids[i - 1], &ids[i], &id))
			first = cmp_ext_identity(&(__u32){ 0 }, &ids[i], &id) ? ids[i] : 0;
		canon[ids[i]] = first;
	}
	for (i = 0; i < t->n; i++)
		t->rows[i].ext = canon[t->rows[i].ext];
	free(ids);
	free(canon);
	return 0;
}

/*
 * Merges rows that agree on the @group fields: the other key fields are
 * zeroed, equal keys end up adjacent after a sort, and each run becomes one
 * row counting its flows. Overflow rows merge only with overflow rows.
 */
void fa_table_group(struct fa_table *t, unsigned int group)
{
	size_t i;

	group_exts(t, group);

	for (i = 0; i < t->n; i++) {
		struct flow_key *k = &t->rows[i].key;

		if (!(group & FA_GROUP_SRC))
			memset(k->src, 0, sizeof(k->src));
		if (!(group & FA_GROUP_DST))
			memset(k->dst, 0, sizeof(k->dst));
		if (!(group & (FA_GROUP_SRC | FA_GROUP_DST)))
			k->ip_version = 0;
		if (!(group & FA_GROUP_SPORT))
			k->sport = 0;
		if (!(group & FA_GROUP_DPORT))
			k->dport = 0;
		if (!(group & FA_GROUP_PROTO))
			k->proto = 0;
		if (!(group & FA_GROUP_IFACE))
			k->ifindex = 0;
		if (!(group & FA_GROUP_DIR))
			k->direction = 0;
		if (group & FA_GROUP_DROP_REASON)
			t->rows[i].val.pad = fa_drops_top(&t->rows[i].drops);
		if (!(group & FA_GROUP_TUNNEL)) {
			k->tunnel = 0;
			k->tunnel_tag = 0;
		}
	}
	merge_equal(t, 0, true);
}

/* ---- filters -------------------------------------------------------------- */

/* "192.0.2.0/24", "2001:db8::/32", or a single address. */
int fa_prefix_parse(const char *s, struct fa_prefix *p)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long len;
	__u8 v4[4];

	memset(p, 0, sizeof(*p));
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, v4) == 1) {
		p->addr[10] = p->addr[11] = 0xff;
		memcpy(p->addr + 12, v4, 4);
		p->len = 128;
		if (slash) {
			len = strtoul(slash, &end, 10);
			if (!*slash || *end || len > 32)
				return -EINVAL;
			p->len = 96 + len;
		}
	} else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
		p->len = 128;
		if (slash) {
			len = strtoul(slash, &end, 10);
			if (!*slash || *end || len > 128)
				return -EINVAL;
			p->len = len;
		}
	} else {
		return -EINVAL;
	}
	p->set = 1;
	return 0;
}

static bool prefix_match(const struct fa_prefix *p, const __u8 *addr)
{
	unsigned int full = p->len / 8, rest = p->len % 8;

	if (!p->set)
		return true;
	if (memcmp(p->addr, addr, full))
		return false;
	if (rest && ((p->addr[full] ^ addr[full]) & (0xff00 >> rest)))
		return false;
	return true;
}

bool fa_filter_match(const struct fa_filter *f, const struct fa_row *r)
{
	const struct flow_key *k = &r->key;

	if (r->kind != FA_ROW_FLOW)
		/* Overflow and exported rows have no addresses to match. */
		return !f->src.set && !f->dst.set && f->port < 0 && f->proto < 0;
	if (!prefix_match(&f->src, k->src) || !prefix_match(&f->dst, k->dst))
		return false;
	if (f->proto >= 0 && k->proto != f->proto)
		return false;
	if (f->port >= 0 && (!fa_key_has_ports(k) ||
			     (ntohs(k->sport) != f->port && ntohs(k->dport) != f->port)))
		return false;
	return true;
}

void fa_table_filter(struct fa_table *t, const struct fa_filter *f)
{
	size_t i, out = 0;

	for (i = 0; i < t->n; i++) {
		if (!fa_filter_match(f, &t->rows[i]))
			continue;
		if (t->rev)
			t->rev[out] = t->rev[i];
		t->rows[out++] = t->rows[i];
	}
	t->n = out;
}

/* ---- biflows ------------------------------------------------------------------ */

/* The key of the other direction of @k's connection; false if it has none
 * that can be told (ICMP other than echo). */
static bool reverse_key(const struct flow_key *k, struct flow_key *r)
{
	__u16 type;

	fa_key_reverse(k, r);
	if (!fa_key_is_icmp(k))
		return true;
	/* ICMP rows hold type << 8 | code in dport, and no sport. */
	type = ntohs(k->dport) >> 8;
	r->sport = 0;
	switch (type) {
	case 8:   type = 0; break;	/* echo request, reply */
	case 0:   type = 8; break;
	case 128: type = 129; break;	/* ICMPv6 */
	case 129: type = 128; break;
	default:  return false;
	}
	r->dport = htons((__u16)(type << 8 | (ntohs(k->dport) & 0xff)));
	return true;
}

static int cmp_key_only(const void *a, const void *b)
{
	const struct fa_row *x = *(const struct fa_row *const *)a;
	const struct fa_row *y = *(const struct fa_row *const *)b;

	return memcmp(&x->key, &y->key, sizeof(x->key));
}

struct bi_order {
	const struct fa_table *t;
	enum fa_sort by;
};

static __u64 bi_field(const struct fa_table *t, size_t i, enum fa_sort by)
{
	const struct fa_row *r = &t->rows[i];
	const struct flow_value *v = &t->rev[i];

	switch (by) {
	case FA_SORT_PACKETS:
		return r->val.packets + v->packets;
	case FA_SORT_BYTES:
		return r->val.bytes + v->bytes;
	default:
		return sort_field(r, by);	/* times: merged into the row */
	}
}

static int cmp_bi(const void *a, const void *b, void *arg)
{
	const struct bi_order *o = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	__u64 x = bi_field(o->t, i, o->by), y = bi_field(o->t, j, o->by);

	if (x != y)
		return x < y ? 1 : -1;
	return cmp_key_kind(&o->t->rows[i], &o->t->rows[j]);
}

int fa_table_biflow(struct fa_table *t, enum fa_sort by)
{
	const struct fa_row **idx = NULL, *const *hit, *want;
	struct fa_row key = {}, *rows = NULL, *a, *b;
	struct flow_value *rev = NULL, *nrev = NULL;
	bool *gone = NULL;
	size_t i, n = 0, *order = NULL;
	struct bi_order o = { .t = t, .by = by };
	int err = -ENOMEM;

	idx = malloc((t->n ? t->n : 1) * sizeof(*idx));
	rev = calloc(t->n ? t->n : 1, sizeof(*rev));
	gone = calloc(t->n ? t->n : 1, sizeof(*gone));
	if (!idx || !rev || !gone)
		goto out;
	for (i = 0; i < t->n; i++)
		if (t->rows[i].kind == FA_ROW_FLOW)
			idx[n++] = &t->rows[i];
	qsort(idx, n, sizeof(*idx), cmp_key_only);
	for (i = 0; i < t->n; i++) {
		a = &t->rows[i];
		if (gone[i] || a->kind != FA_ROW_FLOW || !reverse_key(&a->key, &key.key))
			continue;
		want = &key;
		hit = bsearch(&want, idx, n, sizeof(*idx), cmp_key_only);
		if (!hit || *hit == a || gone[*hit - t->rows])
			continue;
		b = (struct fa_row *)*hit;
		/* The direction seen first opened the connection. */
		if (b->val.first_seen_ns < a->val.first_seen_ns ||
		    (b->val.first_seen_ns == a->val.first_seen_ns &&
		     b->key.direction == FLOW_DIR_EGRESS)) {
			struct fa_row *x = a;

			a = b;
			b = x;
		}
		rev[a - t->rows] = b->val;
		/* A connection's drops are both ways'. */
		fa_drops_add(&a->drops, &b->drops);
		if (b->val.first_seen_ns && (!a->val.first_seen_ns ||
					     b->val.first_seen_ns < a->val.first_seen_ns))
			a->val.first_seen_ns = b->val.first_seen_ns;
		if (b->val.last_seen_ns > a->val.last_seen_ns)
			a->val.last_seen_ns = b->val.last_seen_ns;
		gone[b - t->rows] = true;
	}
	/* Compact, then sort both arrays by the total of the two directions. */
	for (i = n = 0; i < t->n; i++) {
		if (gone[i])
			continue;
		t->rows[n] = t->rows[i];
		rev[n++] = rev[i];
	}
	t->n = n;
	free(t->rev);
	t->rev = rev;
	rev = NULL;
	order = malloc((n ? n : 1) * sizeof(*order));
	rows = malloc((n ? n : 1) * sizeof(*rows));
	nrev = malloc((n ? n : 1) * sizeof(*nrev));
	if (!order || !rows || !nrev)
		goto out;
	for (i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), cmp_bi, &o);
	for (i = 0; i < n; i++) {
		rows[i] = t->rows[order[i]];
		nrev[i] = t->rev[order[i]];
	}
	memcpy(t->rows, rows, n * sizeof(*rows));
	memcpy(t->rev, nrev, n * sizeof(*nrev));
	err = 0;
out:
	free(idx);
	free(rev);
	free(gone);
	free(order);
	free(rows);
	free(nrev);
	return err;
}

void fa_table_fold_drops(struct fa_table *t, size_t from)
{
	size_t i;

	for (i = from; i < t->n; i++)
		if (t->rows[i].kind == FA_ROW_DROP) {
			t->rows[i].kind = FA_ROW_FLOW;
			t->rows[i].flows = 0;
		}
	fa_table_merge_equal(t, from);
	/* A flow known only by its drops is a flow all the same. */
	for (i = from; i < t->n; i++)
		if (!t->rows[i].flows && t->rows[i].kind == FA_ROW_FLOW)
			t->rows[i].flows = 1;
}

static void drops_add_reason(struct fa_drops *d, __u32 reason, __u64 n)
{
	if (!n)
		return;
	if (!d->packets || !d->reason[0]) {
		d->reason[0] = reason;
	} else if (d->reason[0] != reason) {
		if (!d->reason[1])
			d->reason[1] = reason;
		else if (d->reason[1] != reason)
			d->reason[1] = FA_DROP_REASONS_MORE;
		d->second += n;
	}
	d->packets += n;
}

__u32 fa_drops_top(const struct fa_drops *d)
{
	if (!d->packets)
		return 0;
	return d->second > d->packets - d->second ? d->reason[1] : d->reason[0];
}

void fa_drops_sub(struct fa_drops *d, const struct fa_drops *before)
{
	__u64 second;

	if (before->packets > d->packets || before->bytes > d->bytes)
		return;		/* not the same flow's (it left and came back) */
	/* A third reason folded the second into MORE: its count went too. */
	second = before->reason[1] == d->reason[1] || d->reason[1] == FA_DROP_REASONS_MORE ?
		 before->second : 0;
	d->packets -= before->packets;
	d->bytes -= before->bytes;
	d->second = d->second > second ? d->second - second : 0;
	if (d->second > d->packets)
		d->second = d->packets;
	if (!d->packets)
		memset(d, 0, sizeof(*d));
}

void fa_drops_add(struct fa_drops *into, const struct fa_drops *from)
{
	if (!from->packets)
		return;
	drops_add_reason(into, from->reason[0], from->packets - from->second);
	drops_add_reason(into, from->reason[1], from->second);
	into->bytes += from->bytes;
}
