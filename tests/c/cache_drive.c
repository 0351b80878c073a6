// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Runs a trace of drains and expiries through libflowacct's flow cache and
 * prints the records it makes, for tests/checkers/check_expiry.py to compare with the
 * independent model (tests/checkers/expiry_model.py). Reads lines on stdin:
 *
 *   config IDLE_NS ACTIVE_NS QUIET_NS SIZE
 *   drain NOW N      then N lines:
 *   row IFINDEX DIR IPVER PROTO SRC DST SPORT DPORT PACKETS BYTES FIRST LAST FLAGS
 *   expire NOW
 *   tick NOW N       a drain and an expiry at NOW in one op, as a daemon's tick
 *   shutdown NOW
 *   leave NOW IFINDEX  every flow of that interface leaves, forced
 *
 * (DIR 0 ingress, 1 egress; SRC and DST as 32 hex digits, the key's 16
 * bytes; IPVER 0 an overflow row). Writes one line per record:
 *
 *   OP IFINDEX DIR IPVER PROTO SRC DST SPORT DPORT PACKETS BYTES FIRST LAST START FLAGS REASON
 *
 * where OP is the 0-based line number of the op that made it, as the model
 * numbers ops. The cache lives in a store as a daemon's does (lib/cachefile.c
 * maps it from a file), each op a tick, and after every op it checks what a
 * restart would find: a copy of the store opened with its undo log rolled
 * back holds what the cache held before the op (a kill before the commit),
 * one opened without holds what it holds after (a kill after), both in the
 * same order; then the tick commits and the op after it runs on the cache
 * opened again from the store, as a restarted daemon's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "libflowacct.h"

static unsigned int op;

static void hex16(const char *s, __u8 *out)
{
	unsigned int i, v;

	for (i = 0; i < 16; i++) {
		sscanf(s + 2 * i, "%2x", &v);
		out[i] = v;
	}
}

static void put_hex(const __u8 *a)
{
	int i;

	for (i = 0; i < 16; i++)
		printf("%02x", a[i]);
}

static int print_record(void *ctx, const struct fa_record *r)
{
	(void)ctx;
	printf("%u %u %u %u %u ", op, r->key.ifindex, r->key.direction,
	       r->key.ip_version, r->key.proto);
	put_hex(r->key.src);
	putchar(' ');
	put_hex(r->key.dst);
	printf(" %u %u %llu %llu %llu %llu %llu %u %s\n", ntohs(r->key.sport),
	       ntohs(r->key.dport), (unsigned long long)r->packets,
	       (unsigned long long)r->bytes, (unsigned long long)r->first_seen_ns,
	       (unsigned long long)r->last_seen_ns,
	       (unsigned long long)r->flow_start_ns, r->tcp_flags,
	       fa_end_reason_name(r->end_reason));
	return 0;
}

/* ---- what a restart finds ---- */

struct store {
	struct fa_cache_store st;
	__u64 undo_n;
	size_t size;
};

static int store_new(struct store *s, size_t size)
{
	s->size = size;
	s->st.slots = calloc(size, sizeof(*s->st.slots));
	s->st.drops = calloc(size, sizeof(*s->st.drops));
	/* A slot and a drop slot may each be saved once a tick. */
	s->st.undo = calloc(2 * size, sizeof(*s->st.undo));
	s->st.undo_n = &s->undo_n;
	s->st.fd = -1;
	s->undo_n = 0;
	return s->st.slots && s->st.drops && s->st.undo ? 0 : -ENOMEM;
}

static void store_free(struct store *s)
{
	free(s->st.slots);
	free(s->st.drops);
	free(s->st.undo);
}

static int store_copy(struct store *to, const struct store *from)
{
	if (store_new(to, from->size))
		return -ENOMEM;
	memcpy(to->st.slots, from->st.slots, from->size * sizeof(*to->st.slots));
	memcpy(to->st.drops, from->st.drops, from->size * sizeof(*to->st.drops));
	memcpy(to->st.undo, from->st.undo, 2 * from->size * sizeof(*to->st.undo));
	to->undo_n = from->undo_n;
	return 0;
}

/* A cache's entries in touch order. */
struct entries {
	struct fa_cache_slot *v;
	size_t n, cap;
};

static void add_entry(void *ctx, const struct flow_key *k,
		      const struct fa_cache_entry *e)
{
	struct entries *es = ctx;

	if (es->n == es->cap) {
		es->cap = es->cap ? es->cap * 2 : 64;
		es->v = realloc(es->v, es->cap * sizeof(*es->v));
		if (!es->v)
			exit(2);
	}
	memset(&es->v[es->n], 0, sizeof(es->v[es->n]));
	es->v[es->n].key = *k;
	es->v[es->n].e = *e;
	es->n++;
}

static void entries_of(const struct fa_cache *c, struct entries *es)
{
	es->n = 0;
	fa_cache_foreach(c, add_entry, es);
}

static bool entries_equal(const struct entries *a, const struct entries *b)
{
	return a->n == b->n && !memcmp(a->v, b->v, a->n * sizeof(*a->v));
}

/* A copy of @s opened as a restart would: must hold @want. */
static void check_restart(const struct fa_cache_cfg *cfg, const struct store *s,
			  bool rollback, const struct entries *want)
{
	struct entries got = {};
	struct fa_cache *c;
	struct store copy;

	if (store_copy(&copy, s) || fa_cache_open(cfg, &copy.st, rollback, &c))
		exit(2);
	entries_of(c, &got);
	if (!entries_equal(&got, want)) {
		fprintf(stderr, "cache_drive: op %u: a restart %s the commit finds %zu entries, not the %zu it should\n",
			op, rollback ? "before" : "after", got.n, want->n);
		exit(1);
	}
	fa_cache_free(c);
	store_free(&copy);
	free(got.v);
}

int main(void)
{
	struct fa_cache_cfg cfg = {};
	struct fa_cache *c = NULL;
	struct fa_table t = {};
	struct entries before = {}, after = {};
	struct store store = {};
	char line[512], src[40], dst[40];
	unsigned long long now, n, i, pk, by, first, last;
	unsigned int ifx, dir, ver, proto, sp, dp, flags;
	unsigned long long size;
	int err;

	for (op = 0; fgets(line, sizeof(line), stdin); op++) {
		if (sscanf(line, "config %llu %llu %llu %llu", (unsigned long long *)&cfg.idle_ns,
			   (unsigned long long *)&cfg.active_ns,
			   (unsigned long long *)&cfg.quiet_ns, &size) == 4) {
			cfg.size = size;
			if (store_new(&store, size) ||
			    fa_cache_open(&cfg, &store.st, false, &c))
				return 2;
			continue;
		}
		if (!c) {
			fprintf(stderr, "cache_drive: an op before config\n");
			return 2;
		}
		entries_of(c, &before);
		if (sscanf(line, "drain %llu %llu", &now, &n) == 2 ||
			   sscanf(line, "tick %llu %llu", &now, &n) == 2) {
			bool tick = line[0] == 't';

			t.n = 0;
			for (i = 0; i < n; i++) {
				struct flow_key k = {};
				struct flow_value v = {};

				if (!fgets(line, sizeof(line), stdin) ||
				    sscanf(line, "row %u %u %u %u %32s %32s %u %u %llu %llu %llu %llu %u",
					   &ifx, &dir, &ver, &proto, src, dst, &sp, &dp,
					   &pk, &by, &first, &last, &flags) != 13) {
					fprintf(stderr, "cache_drive: bad row: %s", line);
					return 2;
				}
				k.ifindex = ifx;
				k.direction = dir;
				k.ip_version = ver;
				k.proto = proto;
				hex16(src, k.src);
				hex16(dst, k.dst);
				k.sport = htons(sp);
				k.dport = htons(dp);
				v.packets = pk;
				v.bytes = by;
				v.first_seen_ns = first;
				v.last_seen_ns = last;
				v.tcp_flags = flags;
				fa_table_append(&t, &k, &v, ver ? FA_ROW_FLOW : FA_ROW_OVERFLOW);
			}
			err = fa_cache_merge(c, t.rows, t.n, print_record, NULL);
			if (!err && tick)
				err = fa_cache_expire(c, now, print_record, NULL);
			if (err)
				return 2;
		} else if (sscanf(line, "expire %llu", &now) == 1) {
			if (fa_cache_expire(c, now, print_record, NULL))
				return 2;
		} else if (sscanf(line, "leave %llu %u", &now, &ifx) == 2) {
			if (fa_cache_flush_iface(c, ifx, print_record, NULL))
				return 2;
		} else if (sscanf(line, "shutdown %llu", &now) == 1) {
			if (fa_cache_flush(c, print_record, NULL))
				return 2;
		} else {
			fprintf(stderr, "cache_drive: bad op: %s", line);
			return 2;
		}
		entries_of(c, &after);
		check_restart(&cfg, &store, true, &before);
		check_restart(&cfg, &store, false, &after);
		fa_cache_commit(c);
		fa_cache_free(c);
		if (fa_cache_open(&cfg, &store.st, false, &c))
			return 2;
	}
	fa_table_free(&t);
	fa_cache_free(c);
	store_free(&store);
	free(before.v);
	free(after.v);
	return 0;
}
