// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The flow table as user space sees it: rows read from the flows map with
 * batch lookups, per-CPU slots merged, so both map modes look the same.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "flowacct.h"

/* Rows per batch call; a hash bucket never holds more. */
#define BATCH_ROWS 8192

/* Per-CPU values come back as round_up(value_size, 8) bytes per CPU. */
static size_t percpu_stride(size_t sz)
{
	return (sz + 7) & ~(size_t)7;
}

/*
 * Merges per-CPU (or per-interface) parts of one flow: counts add up, the
 * span of times widens, flags accumulate. A zero first_seen_ns is a slot
 * that never saw the flow.
 */
void flow_value_merge(struct flow_value *into, const struct flow_value *v)
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

int flow_table_append(struct flow_table *t, const struct flow_key *key,
		      const struct flow_value *val, bool overflow)
{
	struct flow_row *rows;
	size_t cap;

	if (t->n == t->cap) {
		cap = t->cap ? t->cap * 2 : 1024;
		rows = realloc(t->rows, cap * sizeof(*rows));
		if (!rows)
			return -ENOMEM;
		t->rows = rows;
		t->cap = cap;
	}
	t->rows[t->n].key = *key;
	t->rows[t->n].val = *val;
	t->rows[t->n].overflow = overflow;
	t->rows[t->n].flows = 1;
	t->n++;
	return 0;
}

static int append_merged(struct flow_table *t, const struct flow_key *key,
			 const void *vals, int ncpus)
{
	struct flow_value sum = {};
	size_t stride = percpu_stride(sizeof(struct flow_value));
	int cpu;

	for (cpu = 0; cpu < ncpus; cpu++)
		flow_value_merge(&sum, (const struct flow_value *)
				 ((const char *)vals + cpu * stride));
	return flow_table_append(t, key, &sum, false);
}

/* For kernels without batch operations on hash maps (before 5.6). */
static int read_by_key(int fd, struct flow_table *t, void *vals, int ncpus)
{
	struct flow_key key, next;
	struct flow_key *prev = NULL;
	int err;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, vals))
			continue;	/* deleted since get_next_key */
		err = append_merged(t, &key, vals, ncpus);
		if (err)
			return err;
	}
	return errno == ENOENT ? 0 : -errno;
}

/**
 * flow_table_read - append every row of a flows map to @t
 *
 * Returns 0 or -errno.
 */
int flow_table_read(int fd, struct flow_table *t)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	size_t stride = percpu_stride(sizeof(struct flow_value));
	struct flow_key *keys = NULL;
	__u32 batch, count, i, rows = BATCH_ROWS;
	void *vals = NULL, *in = NULL;
	int ncpus = 1, err;

	err = bpf_obj_get_info_by_fd(fd, &info, &info_len);
	if (err)
		return -errno;
	if (info.key_size != sizeof(struct flow_key) ||
	    info.value_size != sizeof(struct flow_value))
		return -EPROTO;	/* built for another layout */
	if (info.type == BPF_MAP_TYPE_PERCPU_HASH) {
		ncpus = libbpf_num_possible_cpus();
		if (ncpus < 0)
			return ncpus;
	}

	keys = calloc(rows, sizeof(*keys));
	vals = calloc((size_t)rows * ncpus, stride);
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
			int e = append_merged(t, &keys[i],
					      (char *)vals + (size_t)i * ncpus * stride,
					      ncpus);
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
		err = in ? err : read_by_key(fd, t, vals, ncpus);
out:
	free(keys);
	free(vals);
	return err;
}

/* The overflow row of one hook, if anything went there. */
void flow_table_add_overflow(struct flow_table *t, const struct hook_stats *st,
			     __u32 ifindex, __u8 direction)
{
	struct flow_key key = {};

	if (!st->overflow.packets)
		return;
	key.ifindex = ifindex;
	key.direction = direction;
	flow_table_append(t, &key, &st->overflow, true);
}

/*
 * Sorting a million 96-byte rows through qsort's comparator touched both
 * rows of every comparison and copied rows around; this sorts small
 * records that carry what the order needs, then moves each row once.
 */
struct sort_rec {
	__u64 primary;		/* the field sorted by */
	__u64 packets;		/* the first tie-break */
	size_t idx;		/* the row, for the key tie-break */
};

static const struct flow_row *sort_rows;

static int cmp_u64_desc(__u64 a, __u64 b)
{
	return a < b ? 1 : a > b ? -1 : 0;
}

static inline bool rec_before(const struct sort_rec *a, const struct sort_rec *b)
{
	int c;

	if (a->primary != b->primary)
		return a->primary > b->primary;
	if (a->packets != b->packets)
		return a->packets > b->packets;
	c = memcmp(&sort_rows[a->idx].key, &sort_rows[b->idx].key,
		   sizeof(struct flow_key));
	/* Rows that compare equal keep their order, as a stable sort would. */
	return c ? c < 0 : a->idx < b->idx;
}

/*
 * A bottom-up merge sort with the comparison inlined (qsort's indirect
 * call per comparison was most of the sort). Returns the sorted array,
 * which is @a or @tmp.
 */
static struct sort_rec *sort_recs(struct sort_rec *a, struct sort_rec *tmp,
				  size_t n)
{
	struct sort_rec *from = a, *to = tmp, *t;
	size_t width, lo, mid, hi, i, j, k;

	for (width = 1; width < n; width *= 2) {
		for (lo = 0; lo < n; lo += 2 * width) {
			mid = lo + width < n ? lo + width : n;
			hi = lo + 2 * width < n ? lo + 2 * width : n;
			i = lo, j = mid, k = lo;
			while (i < mid && j < hi)
				to[k++] = rec_before(&from[j], &from[i]) ?
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

/* Puts row recs[i].idx at position i, following each cycle once. */
static void permute_rows(struct flow_row *rows, struct sort_rec *recs, size_t n)
{
	struct flow_row tmp;
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

static enum flow_sort sort_by;

static __u64 sort_field(const struct flow_row *r, enum flow_sort by)
{
	switch (by) {
	case SORT_PACKETS:
		return r->val.packets;
	case SORT_LAST:
		return r->val.last_seen_ns;
	case SORT_BYTES:
	default:
		return r->val.bytes;
	}
}

static int cmp_rows(const void *pa, const void *pb)
{
	const struct flow_row *a = pa, *b = pb;
	int c = cmp_u64_desc(sort_field(a, sort_by), sort_field(b, sort_by));

	if (!c)
		c = cmp_u64_desc(a->val.packets, b->val.packets);
	if (!c)
		c = memcmp(&a->key, &b->key, sizeof(a->key));
	return c;
}

/*
 * Sorts by @by, largest first; ties break on packets, then on the key.
 * Without memory for the records it sorts the rows themselves, slower,
 * into the same order.
 */
void flow_table_sort(struct flow_table *t, enum flow_sort by)
{
	struct sort_rec *recs, *sorted;
	size_t i;

	if (t->n < 2)
		return;
	recs = malloc(2 * t->n * sizeof(*recs));
	if (!recs) {
		sort_by = by;
		qsort(t->rows, t->n, sizeof(*t->rows), cmp_rows);
		return;
	}
	for (i = 0; i < t->n; i++) {
		recs[i].primary = sort_field(&t->rows[i], by);
		recs[i].packets = t->rows[i].val.packets;
		recs[i].idx = i;
	}
	sort_rows = t->rows;
	sorted = sort_recs(recs, recs + t->n, t->n);
	permute_rows(t->rows, sorted, t->n);
	free(recs);
}

static int cmp_keys(const void *pa, const void *pb)
{
	const struct flow_row *a = pa, *b = pb;

	if (a->overflow != b->overflow)
		return a->overflow - b->overflow;
	return memcmp(&a->key, &b->key, sizeof(a->key));
}

/*
 * Merges rows that agree on the @group fields: the other key fields are
 * zeroed, equal keys end up adjacent after a sort, and each run becomes one
 * row counting its flows. Overflow rows merge only with overflow rows.
 */
void flow_table_group(struct flow_table *t, unsigned int group)
{
	size_t i, out = 0;

	for (i = 0; i < t->n; i++) {
		struct flow_key *k = &t->rows[i].key;

		if (!(group & GROUP_SRC))
			memset(k->src, 0, sizeof(k->src));
		if (!(group & GROUP_DST))
			memset(k->dst, 0, sizeof(k->dst));
		if (!(group & (GROUP_SRC | GROUP_DST)))
			k->ip_version = 0;
		if (!(group & GROUP_SPORT))
			k->sport = 0;
		if (!(group & GROUP_DPORT))
			k->dport = 0;
		if (!(group & GROUP_PROTO))
			k->proto = 0;
		if (!(group & GROUP_IFACE))
			k->ifindex = 0;
		if (!(group & GROUP_DIR))
			k->direction = 0;
	}
	if (t->n)
		qsort(t->rows, t->n, sizeof(*t->rows), cmp_keys);
	for (i = 0; i < t->n; i++) {
		if (out && !cmp_keys(&t->rows[out - 1], &t->rows[i])) {
			flow_value_merge(&t->rows[out - 1].val, &t->rows[i].val);
			t->rows[out - 1].flows += t->rows[i].flows;
		} else {
			t->rows[out++] = t->rows[i];
		}
	}
	t->n = out;
}

void flow_table_free(struct flow_table *t)
{
	free(t->rows);
	t->rows = NULL;
	t->n = t->cap = 0;
}

/**
 * hook_stats_read - add the per-CPU stats slots of a flow_stats map to @st
 *
 * Adds rather than assigns, so the stats of several interfaces can be
 * summed. A slot whose hook saw nothing stays !present.
 */
int hook_stats_read(int fd, struct hook_stats st[FLOW_NR_DIRS])
{
	size_t stride = percpu_stride(sizeof(struct flow_stats));
	const struct flow_stats *s;
	int ncpus, cpu, i;
	__u32 dir;
	char *vals;

	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 0)
		return ncpus;
	vals = calloc(ncpus, stride);
	if (!vals)
		return -ENOMEM;

	for (dir = 0; dir < FLOW_NR_DIRS; dir++) {
		if (bpf_map_lookup_elem(fd, &dir, vals)) {
			free(vals);
			return -errno;
		}
		for (cpu = 0; cpu < ncpus; cpu++) {
			s = (const struct flow_stats *)(vals + cpu * stride);
			for (i = 0; i < FLOW_NR_COUNTERS; i++)
				st[dir].counters[i] += s->counters[i];
			flow_value_merge(&st[dir].overflow, &s->overflow);
		}
		if (st[dir].counters[FLOW_C_SEEN])
			st[dir].present = true;
	}
	free(vals);
	return 0;
}
