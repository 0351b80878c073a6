// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The flow cache of a daemon: drained rows merge into it, and records leave
 * it under RFC 5470's rules (section 5.1.1), with IPFIX's flowEndReason:
 * idle timeout, active timeout, end of flow (TCP FIN seen in both directions
 * of the connection, or RST, then a quiet period), lack of resources (the
 * least recently seen flow makes room for a new one), forced (shutdown).
 *
 * Entries live in one array, chained from a power-of-two bucket array by
 * index, and on a list in the order they were last touched: the head is the
 * least recently seen. tests/checkers/expiry_model.py is the same rules written
 * independently; tests/suites/test_run.sh (test_run_expiry_model) runs both
 * on the same traces.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "internal.h"

#define NIL 0xffffffffu

#define TCP_FIN 0x01
#define TCP_RST 0x04

struct ent {
	struct flow_key key;
	__u32 hnext;		/* bucket chain */
	struct fa_cache_entry e;
	__u32 prev, next;	/* touch order */
	__u8 used;
	__u8 dirty;		/* changed since fa_cache_changes() */
	__u8 persisted;		/* maybe in the pinned cache: see remove_ent() */
};

struct fa_cache {
	struct fa_cache_cfg cfg;
	struct ent *ents;
	__u32 *buckets;
	__u32 mask;
	__u32 free_head;	/* unused entries, chained by hnext */
	__u32 head, tail;	/* least and most recently touched */
	size_t count;
	__u64 touch;
	__u32 *dirty;		/* entries with dirty set, maybe twice */
	size_t ndirty;
	bool dirty_lost;	/* more than dirty[] holds: look at every entry */
	struct flow_key *gone;	/* keys that left */
	size_t ngone, gone_cap;
	struct flow_key *ending;	/* TCP flows that gained FIN or RST */
	size_t nending, ending_cap;
	bool ending_lost;	/* more than ending[] holds: look at every entry */
};

static __u32 key_hash(const struct flow_key *k)
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

int fa_cache_new(const struct fa_cache_cfg *cfg, struct fa_cache **out)
{
	struct fa_cache *c;
	__u32 nb = 1, i;

	*out = NULL;
	if (!cfg->size || cfg->size > 1u << 30)
		return -EINVAL;
	while (nb < cfg->size * 2)
		nb <<= 1;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->cfg = *cfg;
	c->ents = calloc(cfg->size, sizeof(*c->ents));
	c->buckets = malloc(nb * sizeof(*c->buckets));
	c->dirty = malloc(cfg->size * 2 * sizeof(*c->dirty));
	if (!c->ents || !c->buckets || !c->dirty) {
		fa_cache_free(c);
		return -ENOMEM;
	}
	memset(c->buckets, 0xff, nb * sizeof(*c->buckets));
	c->mask = nb - 1;
	for (i = 0; i < cfg->size; i++)
		c->ents[i].hnext = i + 1 < cfg->size ? i + 1 : NIL;
	c->free_head = 0;
	c->head = c->tail = NIL;
	*out = c;
	return 0;
}

void fa_cache_free(struct fa_cache *c)
{
	if (!c)
		return;
	free(c->ents);
	free(c->buckets);
	free(c->dirty);
	free(c->gone);
	free(c->ending);
	free(c);
}

size_t fa_cache_count(const struct fa_cache *c)
{
	return c->count;
}

__u64 fa_cache_touch(const struct fa_cache *c)
{
	return c->touch;
}

void fa_cache_set_touch(struct fa_cache *c, __u64 touch)
{
	c->touch = touch;
}

static __u32 find(const struct fa_cache *c, const struct flow_key *k)
{
	__u32 i;

	/* Empty (a daemon just started): no bucket to miss in memory. */
	if (!c->count)
		return NIL;
	i = c->buckets[key_hash(k) & c->mask];

	while (i != NIL && memcmp(&c->ents[i].key, k, sizeof(*k)))
		i = c->ents[i].hnext;
	return i;
}

static void mark_dirty(struct fa_cache *c, __u32 i)
{
	if (c->ents[i].dirty)
		return;
	c->ents[i].dirty = 1;
	if (c->ndirty < (size_t)c->cfg.size * 2)
		c->dirty[c->ndirty++] = i;
	else
		c->dirty_lost = true;
}

static void list_unlink(struct fa_cache *c, __u32 i)
{
	struct ent *e = &c->ents[i];

	if (e->prev != NIL)
		c->ents[e->prev].next = e->next;
	else
		c->head = e->next;
	if (e->next != NIL)
		c->ents[e->next].prev = e->prev;
	else
		c->tail = e->prev;
}

static void list_append(struct fa_cache *c, __u32 i)
{
	struct ent *e = &c->ents[i];

	e->prev = c->tail;
	e->next = NIL;
	if (c->tail != NIL)
		c->ents[c->tail].next = i;
	else
		c->head = i;
	c->tail = i;
}

static void touched(struct fa_cache *c, __u32 i)
{
	c->ents[i].e.touch = ++c->touch;
	list_unlink(c, i);
	list_append(c, i);
	mark_dirty(c, i);
}

static int remember_gone(struct fa_cache *c, const struct flow_key *k)
{
	struct flow_key *grown;
	size_t cap;

	if (c->ngone == c->gone_cap) {
		cap = c->gone_cap ? c->gone_cap * 2 : 256;
		grown = realloc(c->gone, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		c->gone = grown;
		c->gone_cap = cap;
	}
	c->gone[c->ngone++] = *k;
	return 0;
}

/*
 * Only an entry the pinned cache may hold leaves a removal to journal: one
 * merged and gone again before any fa_cache_changes() was never written
 * there, and deleting it cost the daemon a failed syscall per key (ENOENT
 * ends a batch delete). "Persisted" is set when fa_cache_changes() reports
 * the entry, before the tick that writes it commits: if that tick fails, a
 * later removal of a key the pinned cache lacks is one skipped delete. The
 * other error, a removal dropped for a key the pinned cache holds, would
 * leave a stale row a restart counts twice, so the flag never starts clear
 * on an entry that may be stored: restored ones are persisted.
 */
static int remove_ent(struct fa_cache *c, __u32 i)
{
	struct ent *e = &c->ents[i];
	__u32 *pp = &c->buckets[key_hash(&e->key) & c->mask];
	int err;

	if (e->persisted) {
		err = remember_gone(c, &e->key);
		if (err)
			return err;
	}
	while (*pp != i)
		pp = &c->ents[*pp].hnext;
	*pp = e->hnext;
	list_unlink(c, i);
	e->used = 0;
	e->dirty = 0;
	e->hnext = c->free_head;
	c->free_head = i;
	c->count--;
	return 0;
}

static __u32 insert(struct fa_cache *c, const struct flow_key *k,
		    const struct fa_cache_entry *v)
{
	__u32 i = c->free_head, *b;
	struct ent *e = &c->ents[i];

	c->free_head = e->hnext;
	b = &c->buckets[key_hash(k) & c->mask];
	e->key = *k;
	e->e = *v;
	e->hnext = *b;
	*b = i;
	e->used = 1;
	e->dirty = 0;
	e->persisted = 0;
	list_append(c, i);
	c->count++;
	mark_dirty(c, i);
	return i;
}

/* The record of an entry's period; none for an empty one. */
static int leave_record(const struct ent *e, int reason, fa_record_fn emit,
			void *ctx)
{
	struct fa_record r = {};

	if (!e->e.packets)
		return 0;
	r.key = e->key;
	r.packets = e->e.packets;
	r.bytes = e->e.bytes;
	r.first_seen_ns = e->e.period_first_ns;
	r.last_seen_ns = e->e.period_last_ns;
	r.flow_start_ns = e->e.flow_start_ns;
	r.tcp_flags = e->e.flags;
	r.end_reason = reason;
	return emit(ctx, &r);
}

/* The order rows are merged in, and the canonical order of keys. */
static int cmp_key(const struct flow_key *a, const struct flow_key *b)
{
	int c;

	if (a->ifindex != b->ifindex)
		return a->ifindex < b->ifindex ? -1 : 1;
	if (a->direction != b->direction)
		return a->direction < b->direction ? -1 : 1;
	if (a->ip_version != b->ip_version)
		return a->ip_version < b->ip_version ? -1 : 1;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	c = memcmp(a->src, b->src, 16);
	if (!c)
		c = memcmp(a->dst, b->dst, 16);
	if (c)
		return c;
	if (a->sport != b->sport)
		return ntohs(a->sport) < ntohs(b->sport) ? -1 : 1;
	if (a->dport != b->dport)
		return ntohs(a->dport) < ntohs(b->dport) ? -1 : 1;
	return 0;
}

static int cmp_rows_seen(const void *pa, const void *pb)
{
	const struct fa_row *a = pa, *b = pb;

	if (a->val.last_seen_ns != b->val.last_seen_ns)
		return a->val.last_seen_ns < b->val.last_seen_ns ? -1 : 1;
	return cmp_key(&a->key, &b->key);
}

static void merge_row(struct fa_cache_entry *e, const struct flow_value *v)
{
	bool empty = !e->packets;

	e->packets += v->packets;
	e->bytes += v->bytes;
	e->total_packets += v->packets;
	e->total_bytes += v->bytes;
	e->flags |= v->tcp_flags;
	e->flags_all |= v->tcp_flags;
	if (empty || v->first_seen_ns < e->period_first_ns)
		e->period_first_ns = v->first_seen_ns;
	if (v->last_seen_ns > e->period_last_ns)
		e->period_last_ns = v->last_seen_ns;
	if (v->last_seen_ns > e->last_seen_ns)
		e->last_seen_ns = v->last_seen_ns;
	if (v->first_seen_ns < e->flow_start_ns)
		e->flow_start_ns = v->first_seen_ns;
}

static bool is_tcp_flow(const struct flow_key *k)
{
	return k->proto == 6 && (k->ip_version == 4 || k->ip_version == 6);
}

static void set_end_pending(struct fa_cache *c, __u32 i)
{
	if (c->ents[i].e.end_pending)
		return;
	c->ents[i].e.end_pending = 1;
	mark_dirty(c, i);
}

/*
 * A TCP flow is ending once it saw a RST, or once it and its reverse, both
 * in the cache, saw a FIN; decided at each expiry against the cache as it
 * stands. Only flows whose flags gained FIN or RST since the last expiry
 * can change the answer, so merge notes those and expiry looks at them and
 * their reverses: looking up every FIN'd flow's reverse on every tick cost
 * a million-flow cache 0.2 s a tick.
 */
static void mark_ending(struct fa_cache *c, __u32 i)
{
	struct flow_key rk;
	__u32 j;

	if (!is_tcp_flow(&c->ents[i].key))
		return;
	if (c->ents[i].e.flags_all & TCP_RST)
		set_end_pending(c, i);
	if (!(c->ents[i].e.flags_all & TCP_FIN))
		return;
	fa_key_reverse(&c->ents[i].key, &rk);
	j = find(c, &rk);
	if (j != NIL && (c->ents[j].e.flags_all & TCP_FIN)) {
		set_end_pending(c, i);
		set_end_pending(c, j);
	}
}

static void note_ending(struct fa_cache *c, const struct flow_key *k)
{
	struct flow_key *grown;
	size_t cap;

	if (c->ending_lost)
		return;
	if (c->nending == c->ending_cap) {
		cap = c->ending_cap ? c->ending_cap * 2 : 256;
		grown = realloc(c->ending, cap * sizeof(*grown));
		if (!grown) {
			c->ending_lost = true;
			return;
		}
		c->ending = grown;
		c->ending_cap = cap;
	}
	c->ending[c->nending++] = *k;
}

static void mark_all_ending(struct fa_cache *c)
{
	size_t n;
	__u32 i;

	if (c->ending_lost) {
		for (i = c->head; i != NIL; i = c->ents[i].next)
			mark_ending(c, i);
	} else {
		for (n = 0; n < c->nending; n++) {
			i = find(c, &c->ending[n]);
			if (i != NIL)
				mark_ending(c, i);
		}
	}
	c->nending = 0;
	c->ending_lost = false;
}

int fa_cache_merge(struct fa_cache *c, struct fa_row *rows, size_t n,
		   fa_record_fn emit, void *ctx)
{
	struct fa_cache_entry fresh;
	size_t r;
	__u32 i;
	int err;

	if (n > 1)
		qsort(rows, n, sizeof(*rows), cmp_rows_seen);
	for (r = 0; r < n; r++) {
		const struct flow_value *v = &rows[r].val;

		i = find(c, &rows[r].key);
		if (i != NIL) {
			merge_row(&c->ents[i].e, v);
			touched(c, i);
			if (v->tcp_flags & (TCP_FIN | TCP_RST))
				note_ending(c, &rows[r].key);
			continue;
		}
		if (c->count == c->cfg.size) {
			err = leave_record(&c->ents[c->head], FA_END_LACK_OF_RESOURCES,
					   emit, ctx);
			if (!err)
				err = remove_ent(c, c->head);
			if (err)
				return err;
		}
		memset(&fresh, 0, sizeof(fresh));
		fresh.flow_start_ns = v->first_seen_ns;
		fresh.last_seen_ns = v->last_seen_ns;
		fresh.period_start_ns = v->first_seen_ns;
		fresh.period_first_ns = v->first_seen_ns;
		fresh.period_last_ns = v->last_seen_ns;
		fresh.packets = fresh.total_packets = v->packets;
		fresh.bytes = fresh.total_bytes = v->bytes;
		fresh.flags = fresh.flags_all = v->tcp_flags;
		fresh.touch = ++c->touch;
		insert(c, &rows[r].key, &fresh);
		if (v->tcp_flags & (TCP_FIN | TCP_RST))
			note_ending(c, &rows[r].key);
	}
	return 0;
}

static __u64 since(__u64 now, __u64 t)
{
	return now > t ? now - t : 0;
}

int fa_cache_expire(struct fa_cache *c, __u64 now, fa_record_fn emit, void *ctx)
{
	__u32 i, next;
	struct ent *e;
	int err;

	/* First mark, against the cache as it stands, then decide. */
	mark_all_ending(c);
	for (i = c->head; i != NIL; i = next) {
		e = &c->ents[i];
		next = e->next;
		if (e->e.end_pending && since(now, e->e.last_seen_ns) >= c->cfg.quiet_ns) {
			err = leave_record(e, FA_END_END, emit, ctx);
		} else if (since(now, e->e.last_seen_ns) >= c->cfg.idle_ns) {
			err = leave_record(e, FA_END_IDLE, emit, ctx);
		} else {
			if (since(now, e->e.period_start_ns) < c->cfg.active_ns)
				continue;
			err = leave_record(e, FA_END_ACTIVE, emit, ctx);
			if (err)
				return err;
			e->e.packets = e->e.bytes = 0;
			e->e.flags = 0;
			e->e.period_first_ns = e->e.period_last_ns = 0;
			e->e.period_start_ns = now;
			mark_dirty(c, i);
			continue;
		}
		if (!err)
			err = remove_ent(c, i);
		if (err)
			return err;
	}
	return 0;
}

int fa_cache_flush(struct fa_cache *c, fa_record_fn emit, void *ctx)
{
	int err;

	while (c->head != NIL) {
		err = leave_record(&c->ents[c->head], FA_END_FORCED, emit, ctx);
		if (!err)
			err = remove_ent(c, c->head);
		if (err)
			return err;
	}
	return 0;
}

int fa_cache_restore(struct fa_cache *c, const struct flow_key *key,
		     const struct fa_cache_entry *e)
{
	__u32 i;

	if (find(c, key) != NIL)
		return -EEXIST;
	if (c->count == c->cfg.size)
		return -ENOSPC;
	i = insert(c, key, e);
	c->ents[i].dirty = 0;	/* as persisted */
	c->ents[i].persisted = 1;
	/* Saved between a merge and its expiry, it may be owed a mark. */
	if (e->flags_all & (TCP_FIN | TCP_RST))
		note_ending(c, key);
	if (e->touch > c->touch)
		c->touch = e->touch;
	return 0;
}

void fa_cache_foreach(const struct fa_cache *c,
		      void (*fn)(void *ctx, const struct flow_key *key,
				 const struct fa_cache_entry *e),
		      void *ctx)
{
	__u32 i;

	for (i = c->head; i != NIL; i = c->ents[i].next)
		fn(ctx, &c->ents[i].key, &c->ents[i].e);
}

static int cmp_keys_raw(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct flow_key));
}

int fa_cache_changes(struct fa_cache *c, struct flow_key **keys_out,
		     struct fa_journal_change **chg_out, size_t *n_out)
{
	struct fa_journal_change *chg;
	struct flow_key *keys;
	size_t i, n = 0, max = c->ngone + (c->dirty_lost ? c->cfg.size : c->ndirty);

	*keys_out = NULL;
	*chg_out = NULL;
	*n_out = 0;
	keys = malloc((max ? max : 1) * sizeof(*keys));
	chg = calloc(max ? max : 1, sizeof(*chg));
	if (!keys || !chg) {
		free(keys);
		free(chg);
		return -ENOMEM;
	}
	/* Keys that left and did not come back, each once. */
	if (c->ngone > 1)
		qsort(c->gone, c->ngone, sizeof(*c->gone), cmp_keys_raw);
	for (i = 0; i < c->ngone; i++) {
		if (i && !memcmp(&c->gone[i], &c->gone[i - 1], sizeof(c->gone[i])))
			continue;
		if (find(c, &c->gone[i]) != NIL)
			continue;
		keys[n] = c->gone[i];
		chg[n].removed = 1;
		n++;
	}
	for (i = 0; i < (c->dirty_lost ? c->cfg.size : c->ndirty); i++) {
		struct ent *e = &c->ents[c->dirty_lost ? i : c->dirty[i]];

		if (!e->used || !e->dirty)
			continue;
		e->dirty = 0;
		e->persisted = 1;
		keys[n] = e->key;
		chg[n].entry = e->e;
		n++;
	}
	c->ndirty = 0;
	c->dirty_lost = false;
	c->ngone = 0;
	*keys_out = keys;
	*chg_out = chg;
	*n_out = n;
	return 0;
}

int fa_cache_dump(const struct fa_cache *c, struct fa_table *t,
		  const struct fa_row *extra, size_t nextra)
{
	size_t from = t->n, r;
	__u32 *row_of, i;
	struct flow_value v;
	int err = 0;

	row_of = malloc((c->cfg.size ? c->cfg.size : 1) * sizeof(*row_of));
	if (!row_of || fa_table_reserve(t, c->count + nextra)) {
		free(row_of);
		return -ENOMEM;
	}
	for (i = c->head; i != NIL && !err; i = c->ents[i].next) {
		const struct fa_cache_entry *e = &c->ents[i].e;

		v = (struct flow_value){
			.packets = e->total_packets,
			.bytes = e->total_bytes,
			.first_seen_ns = e->flow_start_ns,
			.last_seen_ns = e->last_seen_ns,
			.tcp_flags = e->flags_all,
		};
		row_of[i] = t->n - from;
		err = fa_table_append(t, &c->ents[i].key, &v,
				      c->ents[i].key.ip_version ? FA_ROW_FLOW :
								  FA_ROW_OVERFLOW);
	}
	for (r = 0; r < nextra && !err; r++) {
		i = find(c, &extra[r].key);
		if (i == NIL)
			err = fa_table_append(t, &extra[r].key, &extra[r].val,
					      extra[r].kind);
		else
			fa_value_merge(&t->rows[from + row_of[i]].val, &extra[r].val);
	}
	free(row_of);
	return err;
}
