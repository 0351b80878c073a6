// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The flow cache of a daemon: drained rows merge into it, and records leave
 * it under RFC 5470's rules (section 5.1.1), with IPFIX's flowEndReason:
 * idle timeout, active timeout, end of flow (TCP FIN seen in both directions
 * of the connection, or RST, then a quiet period), lack of resources (the
 * least recently seen flow makes room for a new one), forced (shutdown).
 *
 * An entry is a slot (struct fa_cache_slot: the key and its counts) and a
 * link (chained from a power-of-two bucket array by index, and on a list in
 * the order they were last touched: the head is the least recently seen).
 * Only the slots are state: the links and buckets are rebuilt from them when
 * a cache opens. A daemon's slots live in a file it maps (lib/cachefile.c),
 * so the cache is its own persisted copy; what a tick in progress changed is
 * saved first, once per slot, in the store's undo log, and a tick that never
 * committed is undone from it (fa_cache_open() with @rollback).
 *
 * Drops live apart, in drop slots (struct fa_cache_drops) an entry with
 * drops points to: few flows have any, and a flow without costs no byte
 * more. Drop slots are taken from the first on, so that the pages they use
 * are as few as the flows with drops; they are saved to the same undo log.
 * tests/checkers/expiry_model.py is the same rules written independently;
 * tests/suites/test_run.sh (test_run_expiry_model) runs both on the same
 * traces.
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "internal.h"

#define NIL 0xffffffffu

#define TCP_FIN 0x01
#define TCP_RST 0x04

/* Where an entry is chained; rebuilt from the slots when a cache opens. */
struct link {
	__u32 hnext;		/* bucket chain, or the free list */
	__u32 prev, next;	/* touch order */
	__u32 saved;		/* the tick whose undo log has this slot */
};

struct fa_cache {
	struct fa_cache_cfg cfg;
	struct fa_cache_slot *slots;
	struct link *links;
	__u32 *buckets;		/* a chain's first index + 1: 0 (NIL + 1) is empty */
	__u32 mask;
	__u32 free_head;	/* entries that left, chained by hnext */
	__u32 fresh;		/* slots from here on were never used */
	__u32 head, tail;	/* least and most recently touched */
	size_t count;
	__u64 touch;
	struct fa_cache_store store;	/* undo NULL: nothing persisted */
	bool own_slots;		/* slots are ours to free */
	__u32 tick;		/* the tick in progress, for links' saved */
	struct flow_key *ending;	/* TCP flows that gained FIN or RST */
	size_t nending, ending_cap;
	bool ending_lost;	/* more than ending[] holds: look at every entry */
	const struct fa_row **sorted;	/* a tick's rows in merge order (sort_rows()) */
	size_t sorted_cap;
	struct time_group *groups;	/* sort_rows()'s table of distinct times */
	struct fa_cache_drops *drops;	/* cfg.size drop slots */
	bool own_drops;
	__u32 dfresh;			/* drop slots from here on were never used */
	__u32 *dfree;			/* free ones below dfresh */
	size_t ndfree, dfree_cap;
	__u32 *dsaved;			/* the tick each drop slot was saved in */
	size_t dsaved_cap;
};

/* One distinct last_seen of a tick's rows, and where its rows go. */
struct time_group {
	__u64 t;
	__u32 n;		/* rows with it; 0: a free entry */
	__u32 at;		/* the next of them goes to sorted[at] */
};

static __u32 key_hash(const struct flow_key *k)
{
	return fa_key_hash(k);
}

static void note_ending(struct fa_cache *c, const struct flow_key *k);

/* Chains slot @i, whose key hashes to @h, into its bucket. */
static void index_slot_h(struct fa_cache *c, __u32 i, __u32 h)
{
	__u32 *b = &c->buckets[h & c->mask];

	c->links[i].hnext = *b - 1;
	*b = i + 1;
	c->count++;
}

static void index_slot(struct fa_cache *c, __u32 i)
{
	index_slot_h(c, i, key_hash(&c->slots[i].key));
}

static int cmp_touch(const void *a, const void *b, void *arg)
{
	const struct fa_cache_slot *s = arg;
	__u64 x = s[*(const __u32 *)a].e.touch, y = s[*(const __u32 *)b].e.touch;

	return x < y ? -1 : x > y;
}

static void list_append(struct fa_cache *c, __u32 i);

#define TOUCH_OFF offsetof(struct fa_cache_slot, e.touch)

/*
 * The used slots (touch not 0), in ascending order, into @order; returns
 * how many. Of a file's slots only pages that hold data are read: a read
 * of a hole in a tmpfs file takes a page, or kills the reader with SIGBUS
 * when the filesystem is full, and a hole is zeros, free slots. A used
 * slot was written whole, so its touch in data is enough to know it.
 */
static __u32 used_slots(const struct fa_cache *c, __u32 *order)
{
	off_t base = c->store.slots_off, end, pos, data, hole;
	__u64 i, last;
	__u32 n = 0;

	end = base + (off_t)c->cfg.size * sizeof(*c->slots);
	for (pos = base; pos < end; pos = hole) {
		if (c->store.fd < 0) {
			data = base;
			hole = end;
		} else {
			data = lseek(c->store.fd, pos, SEEK_DATA);
			if (data < 0 || data >= end)
				break;
			hole = lseek(c->store.fd, data, SEEK_HOLE);
			if (hole < 0 || hole > end)
				hole = end;
		}
		/* Slots whose touch lies wholly in [data, hole). */
		if (hole - base < (off_t)(TOUCH_OFF + sizeof(__u64)))
			continue;
		i = data - base <= (off_t)TOUCH_OFF ? 0 :
			(data - base - TOUCH_OFF + sizeof(*c->slots) - 1) / sizeof(*c->slots);
		last = (hole - base - TOUCH_OFF - sizeof(__u64)) / sizeof(*c->slots);
		for (; i <= last && i < c->cfg.size; i++)
			if (c->slots[i].e.touch)
				order[n++] = i;
	}
	return n;
}

static int dfree_push(struct fa_cache *c, __u32 d)
{
	__u32 *grown;

	if (c->ndfree == c->dfree_cap) {
		c->dfree_cap = c->dfree_cap ? 2 * c->dfree_cap : 64;
		grown = realloc(c->dfree, c->dfree_cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		c->dfree = grown;
	}
	c->dfree[c->ndfree++] = d;
	return 0;
}

/* Whether drop slot @d is in use: its owner is an entry that points back. */
static bool drop_slot_used(const struct fa_cache *c, __u32 d)
{
	__u32 owner = c->drops[d].owner;

	return owner && owner <= c->cfg.size && c->slots[owner - 1].e.touch &&
	       c->slots[owner - 1].e.drop_slot == d + 1;
}

/*
 * Which drop slots are in use: those from the first up to where the file's
 * data ends (they are taken from the first on, and their pages allocated
 * before a tick writes them) whose owner's entry points back to them.
 */
static int drops_index(struct fa_cache *c)
{
	off_t base = c->store.drops_off, end, data, hole;
	__u32 d, n;
	int err;

	end = base + (off_t)c->cfg.size * sizeof(*c->drops);
	if (c->store.fd < 0) {
		hole = end;	/* slots in memory: all of them */
	} else {
		data = lseek(c->store.fd, base, SEEK_DATA);
		if (data != base)
			return 0;	/* none ever used */
		hole = lseek(c->store.fd, base, SEEK_HOLE);
		if (hole < 0 || hole > end)
			hole = end;
	}
	n = (hole - base) / sizeof(*c->drops);
	for (d = 0; d < n; d++)
		if (drop_slot_used(c, d))
			c->dfresh = d + 1;
	for (d = 0; d < c->dfresh; d++) {
		if (drop_slot_used(c, d))
			continue;
		err = dfree_push(c, d);
		if (err)
			return err;
	}
	return 0;
}

/*
 * The links and buckets from the slots: the used ones chained by key and
 * listed in the order they were touched, the rest free. When no slot holds
 * data (a new file, or one emptied), none is read and no link written: a
 * cache takes memory as it fills, not at its size.
 */
static int build_index(struct fa_cache *c)
{
	__u32 i, j, n, *order;
	int err;

	c->head = c->tail = NIL;
	c->free_head = NIL;
	c->count = 0;
	c->nending = 0;
	c->ending_lost = false;
	c->fresh = 0;
	c->dfresh = 0;
	c->ndfree = 0;
	if (c->own_slots)
		return 0;	/* calloc's: zero */
	err = drops_index(c);
	if (err)
		return err;
	order = malloc((c->cfg.size ? c->cfg.size : 1) * sizeof(*order));
	if (!order)
		return -ENOMEM;
	n = used_slots(c, order);
	if (!n) {
		free(order);
		return 0;
	}
	/* Below the last used slot, the free ones on the list; above, fresh. */
	c->fresh = order[n - 1] + 1;
	for (i = c->fresh, j = n; i-- > 0;) {
		c->links[i].saved = 0;
		if (j && order[j - 1] == i) {
			j--;
			continue;
		}
		c->links[i].hnext = c->free_head;
		c->free_head = i;
	}
	if (n > 1)
		qsort_r(order, n, sizeof(*order), cmp_touch, c->slots);
	for (i = 0; i < n; i++) {
		struct fa_cache_slot *sl = &c->slots[order[i]];

		index_slot(c, order[i]);
		list_append(c, order[i]);
		if (sl->e.touch > c->touch)
			c->touch = sl->e.touch;
		/* Persisted between a merge and its expiry, it may be owed a mark. */
		if (sl->e.flags_all & (TCP_FIN | TCP_RST))
			note_ending(c, &sl->key);
	}
	free(order);
	return 0;
}

/* Puts back the slots a tick that never committed changed, newest first. */
static void roll_back(struct fa_cache *c)
{
	__u64 n = *c->store.undo_n;

	while (n-- > 0) {
		const struct fa_cache_undo *u = &c->store.undo[n];

		FA_CRASH_POINT("rollback");
		if (u->slot & FA_CACHE_UNDO_DROPS) {
			if ((u->slot & ~FA_CACHE_UNDO_DROPS) < c->cfg.size)
				c->drops[u->slot & ~FA_CACHE_UNDO_DROPS] = u->old_drops;
		} else if (u->slot < c->cfg.size) {
			c->slots[u->slot] = u->old;
		}
	}
	__atomic_store_n(c->store.undo_n, 0, __ATOMIC_RELEASE);
}

/**
 * fa_cache_memory() - the process memory a cache of @size flows takes, at its fullest
 * @size: flows
 *
 * Its links and its buckets; the slots are the cache file's (see
 * fa_cachefile_bytes()).
 *
 * Return: bytes.
 */
__u64 fa_cache_memory(__u32 size)
{
	__u64 nb = 1;

	while (nb < (__u64)size * 2)
		nb <<= 1;
	return (__u64)size * sizeof(struct link) + nb * sizeof(__u32);
}

static int cache_new(const struct fa_cache_cfg *cfg, const struct fa_cache_store *st,
		     bool rollback, struct fa_cache **out)
{
	struct fa_cache *c;
	__u32 nb = 1;
	int err;

	*out = NULL;
	if (!cfg->size || cfg->size > 1u << 30)
		return -EINVAL;
	while (nb < cfg->size * 2)
		nb <<= 1;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->cfg = *cfg;
	if (st) {
		c->store = *st;
		c->slots = st->slots;
		c->drops = st->drops;
	} else {
		c->slots = calloc(cfg->size, sizeof(*c->slots));
		c->drops = calloc(cfg->size, sizeof(*c->drops));
		c->own_slots = c->own_drops = true;
	}
	c->links = malloc(cfg->size * sizeof(*c->links));
	/* Untouched pages of zeros until flows come: calloc of large sizes maps them. */
	c->buckets = calloc(nb, sizeof(*c->buckets));
	if (!c->slots || !c->drops || !c->links || !c->buckets) {
		fa_cache_free(c);
		return -ENOMEM;
	}
	c->mask = nb - 1;
	c->tick = 1;
	if (st && rollback)
		roll_back(c);
	else if (st)
		__atomic_store_n(st->undo_n, 0, __ATOMIC_RELEASE);
	err = build_index(c);
	if (err) {
		fa_cache_free(c);
		return err;
	}
	*out = c;
	return 0;
}

int fa_cache_new(const struct fa_cache_cfg *cfg, struct fa_cache **out)
{
	return cache_new(cfg, NULL, false, out);
}

int fa_cache_open(const struct fa_cache_cfg *cfg, const struct fa_cache_store *st,
		  bool rollback, struct fa_cache **out)
{
	if (!st || !st->slots || !st->drops || !st->undo || !st->undo_n)
		return -EINVAL;
	return cache_new(cfg, st, rollback, out);
}

void fa_cache_commit(struct fa_cache *c)
{
	__u32 i;

	if (!c->store.undo)
		return;
	__atomic_store_n(c->store.undo_n, 0, __ATOMIC_RELEASE);
	/* A new tick: every slot may be saved again. Marks of 4e9 ticks ago
	 * would pass for this one's: cleared at the wrap. */
	if (++c->tick == 0) {
		for (i = 0; i < c->cfg.size; i++)
			c->links[i].saved = 0;
		if (c->dsaved)
			memset(c->dsaved, 0, c->dsaved_cap * sizeof(*c->dsaved));
		c->tick = 1;
	}
}

void fa_cache_free(struct fa_cache *c)
{
	if (!c)
		return;
	if (c->own_slots)
		free(c->slots);
	if (c->own_drops)
		free(c->drops);
	free(c->dfree);
	free(c->dsaved);
	free(c->links);
	free(c->buckets);
	free(c->ending);
	free(c->sorted);
	free(c->groups);
	free(c);
}

size_t fa_cache_count(const struct fa_cache *c)
{
	return c->count;
}

__u32 fa_cache_fresh(const struct fa_cache *c)
{
	return c->fresh;
}

__u32 fa_cache_drops_fresh(const struct fa_cache *c)
{
	return c->dfresh;
}

__u64 fa_cache_touch(const struct fa_cache *c)
{
	return c->touch;
}

void fa_cache_set_touch(struct fa_cache *c, __u64 touch)
{
	c->touch = touch;
}

/* The slot of key @k, whose hash is @h, or NIL. */
static __u32 find_h(const struct fa_cache *c, const struct flow_key *k, __u32 h)
{
	__u32 i;

	/* Empty (a daemon just started): no bucket to miss in memory. */
	if (!c->count)
		return NIL;
	i = c->buckets[h & c->mask] - 1;

	while (i != NIL && memcmp(&c->slots[i].key, k, sizeof(*k)))
		i = c->links[i].hnext;
	return i;
}

static __u32 find(const struct fa_cache *c, const struct flow_key *k)
{
	return c->count ? find_h(c, k, key_hash(k)) : NIL;
}

/*
 * Before a slot of a persisted cache changes for the first time in a tick:
 * its old self into the undo log, then the log's count. A kill lands
 * between two stores, and stores into the mapping are the file's at once,
 * so a count never covers an entry not yet written.
 */
static void save(struct fa_cache *c, __u32 i)
{
	struct fa_cache_undo *u;
	__u64 n;

	if (!c->store.undo || c->links[i].saved == c->tick)
		return;
	n = *c->store.undo_n;
	u = &c->store.undo[n];
	u->slot = i;
	u->old = c->slots[i];
	FA_CRASH_POINT("save-entry");
	__atomic_store_n(c->store.undo_n, n + 1, __ATOMIC_RELEASE);
	FA_CRASH_POINT("save-count");
	c->links[i].saved = c->tick;
}

/* The same for drop slot @d, once a tick. */
static void save_drops(struct fa_cache *c, __u32 d)
{
	struct fa_cache_undo *u;
	size_t cap;
	__u32 *grown;
	__u64 n;

	if (!c->store.undo)
		return;
	if (d >= c->dsaved_cap) {
		cap = c->dsaved_cap ? c->dsaved_cap : 64;
		while (cap <= d)
			cap *= 2;
		grown = realloc(c->dsaved, cap * sizeof(*grown));
		/* Without the mark it is saved again each time: the log holds it. */
		if (grown) {
			memset(grown + c->dsaved_cap, 0, (cap - c->dsaved_cap) * sizeof(*grown));
			c->dsaved = grown;
			c->dsaved_cap = cap;
		}
	}
	if (d < c->dsaved_cap && c->dsaved[d] == c->tick)
		return;
	n = *c->store.undo_n;
	u = &c->store.undo[n];
	u->slot = d | FA_CACHE_UNDO_DROPS;
	u->old_drops = c->drops[d];
	FA_CRASH_POINT("save-entry");
	__atomic_store_n(c->store.undo_n, n + 1, __ATOMIC_RELEASE);
	if (d < c->dsaved_cap)
		c->dsaved[d] = c->tick;
}

static struct fa_cache_drops *drops_of(const struct fa_cache *c, const struct fa_cache_entry *e)
{
	return e->drop_slot ? &c->drops[e->drop_slot - 1] : NULL;
}

static __u64 period_drops(const struct fa_cache *c, const struct fa_cache_entry *e)
{
	return e->drop_slot ? c->drops[e->drop_slot - 1].period.packets : 0;
}

/* Entry @i's drop slot, saved, taken for it if it has none (the entry was
 * saved already). */
static int drops_get(struct fa_cache *c, __u32 i, struct fa_cache_drops **out)
{
	struct fa_cache_entry *e = &c->slots[i].e;
	__u32 d;

	if (e->drop_slot) {
		d = e->drop_slot - 1;
		save_drops(c, d);
		*out = &c->drops[d];
		return 0;
	}
	if (c->ndfree)
		d = c->dfree[--c->ndfree];
	else if (c->dfresh < c->cfg.size)
		d = c->dfresh++;
	else
		return -ENOSPC;	/* one for each entry at most: never */
	save_drops(c, d);
	memset(&c->drops[d], 0, sizeof(c->drops[d]));
	c->drops[d].owner = i + 1;
	e->drop_slot = d + 1;
	*out = &c->drops[d];
	return 0;
}

static void list_unlink(struct fa_cache *c, __u32 i)
{
	struct link *l = &c->links[i];

	if (l->prev != NIL)
		c->links[l->prev].next = l->next;
	else
		c->head = l->next;
	if (l->next != NIL)
		c->links[l->next].prev = l->prev;
	else
		c->tail = l->prev;
}

static void list_append(struct fa_cache *c, __u32 i)
{
	struct link *l = &c->links[i];

	l->prev = c->tail;
	l->next = NIL;
	if (c->tail != NIL)
		c->links[c->tail].next = i;
	else
		c->head = i;
	c->tail = i;
}

/* The slot was saved: it changed, and is now the most recently touched. */
static void touched(struct fa_cache *c, __u32 i)
{
	c->slots[i].e.touch = ++c->touch;
	list_unlink(c, i);
	list_append(c, i);
}

/* Entry @i leaves; @h is its key's hash. */
static void remove_ent_h(struct fa_cache *c, __u32 i, __u32 h)
{
	__u32 *b = &c->buckets[h & c->mask], j = *b - 1, d;

	save(c, i);
	if (c->slots[i].e.drop_slot) {
		d = c->slots[i].e.drop_slot - 1;
		save_drops(c, d);
		c->drops[d].owner = 0;
		c->slots[i].e.drop_slot = 0;
		/* Out of memory: the slot is lost until the cache is opened again. */
		dfree_push(c, d);
	}
	if (j == i) {
		*b = c->links[i].hnext + 1;
	} else {
		while (c->links[j].hnext != i)
			j = c->links[j].hnext;
		c->links[j].hnext = c->links[i].hnext;
	}
	list_unlink(c, i);
	c->slots[i].e.touch = 0;	/* free */
	c->links[i].hnext = c->free_head;
	c->free_head = i;
	c->count--;
}

static void remove_ent(struct fa_cache *c, __u32 i)
{
	remove_ent_h(c, i, key_hash(&c->slots[i].key));
}

/* A new entry for key @k, whose hash is @h (merge's find had it). */
static __u32 insert(struct fa_cache *c, const struct flow_key *k,
		    const struct fa_cache_entry *v, __u32 h)
{
	__u32 i = c->free_head;

	if (i != NIL) {
		c->free_head = c->links[i].hnext;
	} else {
		i = c->fresh++;	/* the caller made room: count < size */
		c->links[i].saved = 0;
	}
	save(c, i);
	c->slots[i].key = *k;
	c->slots[i].e = *v;
	index_slot_h(c, i, h);
	list_append(c, i);
	return i;
}

/* The record of an entry's period; none for an empty one. */
static int leave_record(const struct fa_cache *c, const struct fa_cache_slot *e, int reason,
			fa_record_fn emit, void *ctx)
{
	const struct fa_cache_drops *d = drops_of(c, &e->e);
	struct fa_record r = {};

	/* A period of drops only is not empty: the drops are its news. */
	if (!e->e.packets && !(d && d->period.packets))
		return 0;
	r.key = e->key;
	if (d)
		r.drops = d->period;
	r.packets = e->e.packets;
	r.bytes = e->e.bytes;
	r.first_seen_ns = e->e.period_first_ns;
	r.last_seen_ns = e->e.period_last_ns;
	r.flow_start_ns = e->e.flow_start_ns;
	r.tcp_flags = e->e.flags;
	r.end_reason = reason;
	return emit(ctx, &r);
}

/* The 8 bytes at @a and @b compared as memcmp() would. */
static int cmp_be64(const __u8 *a, const __u8 *b)
{
	__u64 x, y;

	memcpy(&x, a, 8);
	memcpy(&y, b, 8);
	x = be64toh(x);
	y = be64toh(y);
	return x < y ? -1 : x > y;
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
	/* memcmp()'s order, eight bytes at a time (called inline, not through
	 * the PLT: the sort of a tick's rows compares keys mostly here). */
	c = cmp_be64(a->src, b->src);
	if (!c)
		c = cmp_be64(a->src + 8, b->src + 8);
	if (!c)
		c = cmp_be64(a->dst, b->dst);
	if (!c)
		c = cmp_be64(a->dst + 8, b->dst + 8);
	if (c)
		return c;
	if (a->sport != b->sport)
		return ntohs(a->sport) < ntohs(b->sport) ? -1 : 1;
	if (a->dport != b->dport)
		return ntohs(a->dport) < ntohs(b->dport) ? -1 : 1;
	if (a->tunnel != b->tunnel)
		return a->tunnel < b->tunnel ? -1 : 1;
	if (a->tunnel_tag != b->tunnel_tag)
		return a->tunnel_tag < b->tunnel_tag ? -1 : 1;
	return 0;
}

static int cmp_rows_seen(const void *pa, const void *pb)
{
	const struct fa_row *a = *(const struct fa_row *const *)pa;
	const struct fa_row *b = *(const struct fa_row *const *)pb;

	if (a->val.last_seen_ns != b->val.last_seen_ns)
		return a->val.last_seen_ns < b->val.last_seen_ns ? -1 : 1;
	return cmp_key(&a->key, &b->key);
}

/* Row @row's drops into entry @i's drop slot (the entry saved). */
static int merge_drops(struct fa_cache *c, __u32 i, const struct fa_row *row)
{
	struct fa_cache_drops *d;
	int err;

	if (!row->drops.packets)
		return 0;
	err = drops_get(c, i, &d);
	if (err)
		return err;
	fa_drops_add(&d->period, &row->drops);
	fa_drops_add(&d->all, &row->drops);
	return 0;
}

static void merge_row(struct fa_cache_entry *e, const struct fa_row *row, bool empty)
{
	const struct flow_value *v = &row->val;

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
	if (c->slots[i].e.end_pending)
		return;
	save(c, i);
	c->slots[i].e.end_pending = 1;
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

	if (!is_tcp_flow(&c->slots[i].key))
		return;
	if (c->slots[i].e.flags_all & TCP_RST)
		set_end_pending(c, i);
	if (!(c->slots[i].e.flags_all & TCP_FIN))
		return;
	fa_key_reverse(&c->slots[i].key, &rk);
	j = find(c, &rk);
	if (j != NIL && (c->slots[j].e.flags_all & TCP_FIN)) {
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
		for (i = c->head; i != NIL; i = c->links[i].next)
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

static int cmp_rows_key(const void *pa, const void *pb)
{
	return cmp_key(&(*(const struct fa_row *const *)pa)->key,
		       &(*(const struct fa_row *const *)pb)->key);
}

/*
 * Distinct times sort_rows() sorts by counting; past that many, it sorts
 * the copy by comparison. A tick's rows carry few: their times come from
 * jiffies (250 to 1000 values a second), not from a nanosecond clock.
 */
#define SORT_GROUPS	4096
#define SORT_TABLE	(2 * SORT_GROUPS)	/* open addressing, a power of two */

static struct time_group *group_of(struct time_group *tab, __u64 t)
{
	__u32 j = (__u32)((t * 0x9e3779b97f4a7c15ull) >> 32) & (SORT_TABLE - 1);

	while (tab[j].n && tab[j].t != t)
		j = (j + 1) & (SORT_TABLE - 1);
	return &tab[j];
}

static int cmp_group_t(const void *pa, const void *pb)
{
	__u64 x = (*(struct time_group *const *)pa)->t, y = (*(struct time_group *const *)pb)->t;

	return x < y ? -1 : x > y;
}

/*
 * Pointers to @rows in merge order (cmp_rows_seen's) into c->sorted. qsort
 * of the rows was 6 % of the daemon's CPU at one-datagram flows: here rows
 * are counted by time, each pointed to once where its time's rows start,
 * and only rows of one time are sorted (by key) among themselves, a few
 * dozen. Pointers, not copies of the 128-byte rows: the copy and the
 * sort's moves of whole rows were half the sort's time live. @rows stays
 * untouched (see fa_cache_merge()).
 */
static int sort_rows(struct fa_cache *c, const struct fa_row *rows, size_t n)
{
	struct time_group *order[SORT_GROUPS], *g;
	size_t r, d = 0, at = 0, k;
	const struct fa_row **grown;

	if (n > c->sorted_cap) {
		/* Kept from tick to tick: the next one is about the size. */
		grown = realloc(c->sorted, n * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		c->sorted = grown;
		c->sorted_cap = n;
	}
	if (!c->groups) {
		c->groups = calloc(SORT_TABLE, sizeof(*c->groups));
		if (!c->groups)
			return -ENOMEM;
	}
	for (r = 0; r < n && d <= SORT_GROUPS; r++) {
		g = group_of(c->groups, rows[r].val.last_seen_ns);
		if (!g->n++) {
			g->t = rows[r].val.last_seen_ns;
			if (d < SORT_GROUPS)
				order[d] = g;
			d++;
		}
	}
	if (d > SORT_GROUPS) {
		/* Times too many to count: every row compared. */
		memset(c->groups, 0, SORT_TABLE * sizeof(*c->groups));
		for (r = 0; r < n; r++)
			c->sorted[r] = &rows[r];
		qsort(c->sorted, n, sizeof(*c->sorted), cmp_rows_seen);
		return 0;
	}
	qsort(order, d, sizeof(*order), cmp_group_t);
	for (k = 0; k < d; k++) {
		order[k]->at = at;
		at += order[k]->n;
	}
	for (r = 0; r < n; r++)
		c->sorted[group_of(c->groups, rows[r].val.last_seen_ns)->at++] = &rows[r];
	for (k = 0; k < d; k++) {
		g = order[k];
		/* at is now one past its rows. */
		if (g->n > 1)
			qsort(&c->sorted[g->at - g->n], g->n, sizeof(*c->sorted), cmp_rows_key);
		g->n = 0;	/* the table empty again for the next tick */
	}
	return 0;
}

#define MERGE_AHEAD 8

int fa_cache_merge(struct fa_cache *c, const struct fa_row *in, size_t n,
		   fa_record_fn emit, void *ctx)
{
	struct fa_cache_entry fresh;
	const struct fa_row *const *order = &in;
	size_t r;
	__u32 i, h, ahead[MERGE_AHEAD];
	bool empty;
	int err;

	if (n > 1) {
		err = sort_rows(c, in, n);
		if (err)
			return err;
		order = c->sorted;
	}
	for (r = 0; r < n; r++) {
		const struct fa_row *row = order[r];
		const struct flow_value *v = &row->val;

		/* The bucket of a row MERGE_AHEAD on, fetched while this one
		 * is merged: ticks run between the sinks and the drain, which
		 * leave the buckets out of the CPU's caches. */
		h = r < MERGE_AHEAD ? key_hash(&row->key) : ahead[r % MERGE_AHEAD];
		if (r + MERGE_AHEAD < n) {
			ahead[r % MERGE_AHEAD] = key_hash(&order[r + MERGE_AHEAD]->key);
			__builtin_prefetch(&c->buckets[ahead[r % MERGE_AHEAD] & c->mask]);
		}
		i = find_h(c, &row->key, h);
		if (i != NIL) {
			save(c, i);
			empty = !c->slots[i].e.packets && !period_drops(c, &c->slots[i].e);
			err = merge_drops(c, i, row);
			if (err)
				return err;
			merge_row(&c->slots[i].e, row, empty);
			touched(c, i);
			if (v->tcp_flags & (TCP_FIN | TCP_RST))
				note_ending(c, &row->key);
			continue;
		}
		if (c->count == c->cfg.size) {
			err = leave_record(c, &c->slots[c->head], FA_END_LACK_OF_RESOURCES,
					   emit, ctx);
			if (err)
				return err;
			remove_ent(c, c->head);
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
		i = insert(c, &row->key, &fresh, h);
		err = merge_drops(c, i, row);
		if (err)
			return err;
		if (v->tcp_flags & (TCP_FIN | TCP_RST))
			note_ending(c, &row->key);
	}
	return 0;
}

static __u64 since(__u64 now, __u64 t)
{
	return now > t ? now - t : 0;
}

/* Whether entry @e leaves at @now by idle timeout or end of flow. */
static bool leaves(const struct fa_cache *c, const struct fa_cache_slot *e, __u64 now)
{
	return (e->e.end_pending && since(now, e->e.last_seen_ns) >= c->cfg.quiet_ns) ||
	       since(now, e->e.last_seen_ns) >= c->cfg.idle_ns;
}

int fa_cache_expire(struct fa_cache *c, __u64 now, fa_record_fn emit, void *ctx)
{
	__u32 i, next, h = 0, h_next = 0;
	bool hashed = false, hashed_next;
	struct fa_cache_slot *e;
	int err;

	/* First mark, against the cache as it stands, then decide. */
	mark_all_ending(c);
	for (i = c->head; i != NIL; i = next, h = h_next, hashed = hashed_next) {
		e = &c->slots[i];
		next = c->links[i].next;
		/*
		 * The bucket of the next entry, if it leaves too, fetched while
		 * this one is dealt with (its removal needs it): with flows of
		 * one datagram, most of a tick's expiry is removals, each a
		 * bucket out of the CPU's caches. Only a hash is carried over.
		 */
		hashed_next = next != NIL && leaves(c, &c->slots[next], now);
		if (hashed_next) {
			h_next = key_hash(&c->slots[next].key);
			__builtin_prefetch(&c->buckets[h_next & c->mask]);
		}
		if (e->e.end_pending && since(now, e->e.last_seen_ns) >= c->cfg.quiet_ns) {
			err = leave_record(c, e, FA_END_END, emit, ctx);
		} else if (since(now, e->e.last_seen_ns) >= c->cfg.idle_ns) {
			err = leave_record(c, e, FA_END_IDLE, emit, ctx);
		} else {
			if (since(now, e->e.period_start_ns) < c->cfg.active_ns)
				continue;
			err = leave_record(c, e, FA_END_ACTIVE, emit, ctx);
			if (err)
				return err;
			save(c, i);
			e->e.packets = e->e.bytes = 0;
			if (e->e.drop_slot) {
				save_drops(c, e->e.drop_slot - 1);
				memset(&c->drops[e->e.drop_slot - 1].period, 0,
				       sizeof(struct fa_drops));
			}
			e->e.flags = 0;
			e->e.period_first_ns = e->e.period_last_ns = 0;
			e->e.period_start_ns = now;
			continue;
		}
		if (err)
			return err;
		remove_ent_h(c, i, hashed ? h : key_hash(&e->key));
	}
	return 0;
}

int fa_cache_flush(struct fa_cache *c, fa_record_fn emit, void *ctx)
{
	int err;

	while (c->head != NIL) {
		err = leave_record(c, &c->slots[c->head], FA_END_FORCED, emit, ctx);
		if (err)
			return err;
		remove_ent(c, c->head);
	}
	return 0;
}

int fa_cache_flush_iface(struct fa_cache *c, __u32 ifindex, fa_record_fn emit, void *ctx)
{
	__u32 i, next;
	int err;

	for (i = c->head; i != NIL; i = next) {
		next = c->links[i].next;
		if (c->slots[i].key.ifindex != ifindex)
			continue;
		err = leave_record(c, &c->slots[i], FA_END_FORCED, emit, ctx);
		if (err)
			return err;
		remove_ent(c, i);
	}
	return 0;
}

void fa_cache_foreach(const struct fa_cache *c,
		      void (*fn)(void *ctx, const struct flow_key *key,
				 const struct fa_cache_entry *e),
		      void *ctx)
{
	__u32 i;

	for (i = c->head; i != NIL; i = c->links[i].next)
		fn(ctx, &c->slots[i].key, &c->slots[i].e);
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
	for (i = c->head; i != NIL && !err; i = c->links[i].next) {
		const struct fa_cache_entry *e = &c->slots[i].e;

		v = (struct flow_value){
			.packets = e->total_packets,
			.bytes = e->total_bytes,
			.first_seen_ns = e->flow_start_ns,
			.last_seen_ns = e->last_seen_ns,
			.tcp_flags = e->flags_all,
		};
		row_of[i] = t->n - from;
		err = fa_table_append(t, &c->slots[i].key, &v,
				      c->slots[i].key.ip_version ? FA_ROW_FLOW :
								  FA_ROW_OVERFLOW);
		if (!err && e->drop_slot)
			t->rows[t->n - 1].drops = c->drops[e->drop_slot - 1].all;
	}
	for (r = 0; r < nextra && !err; r++) {
		i = find(c, &extra[r].key);
		if (i == NIL) {
			err = fa_table_append(t, &extra[r].key, &extra[r].val,
					      extra[r].kind == FA_ROW_DROP ? FA_ROW_FLOW :
									  extra[r].kind);
			if (!err)
				t->rows[t->n - 1].drops = extra[r].drops;
		} else {
			fa_value_merge(&t->rows[from + row_of[i]].val, &extra[r].val);
			fa_drops_add(&t->rows[from + row_of[i]].drops, &extra[r].drops);
		}
	}
	free(row_of);
	return err;
}
