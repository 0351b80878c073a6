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
 *
 * (DIR 0 ingress, 1 egress; SRC and DST as 32 hex digits, the key's 16
 * bytes; IPVER 0 an overflow row). Writes one line per record:
 *
 *   OP IFINDEX DIR IPVER PROTO SRC DST SPORT DPORT PACKETS BYTES FIRST LAST START FLAGS REASON
 *
 * where OP is the 0-based line number of the op that made it, as the model
 * numbers ops. After every op it also checks what a daemon persists: the
 * changes fa_cache_changes() reports, applied to a copy, give the cache, and
 * no removal names a key the copy never had (a daemon's delete of a key its
 * pinned cache lacks costs a failed syscall).
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

/* ---- a copy of the cache as a daemon would persist it ---- */

struct copy {
	struct flow_key *keys;
	struct fa_cache_entry *vals;
	size_t n, cap;
};

static long copy_find(const struct copy *p, const struct flow_key *k)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (!memcmp(&p->keys[i], k, sizeof(*k)))
			return i;
	return -1;
}

static void copy_apply(struct copy *p, struct fa_cache *c)
{
	struct fa_journal_change *chg;
	struct flow_key *keys;
	size_t n, i;
	long at;

	if (fa_cache_changes(c, &keys, &chg, &n)) {
		fprintf(stderr, "cache_drive: fa_cache_changes failed\n");
		exit(2);
	}
	for (i = 0; i < n; i++) {
		at = copy_find(p, &keys[i]);
		if (chg[i].removed) {
			if (at < 0) {
				fprintf(stderr, "cache_drive: op %u: a removal of a key never persisted\n",
					op);
				exit(1);
			}
			p->keys[at] = p->keys[p->n - 1];
			p->vals[at] = p->vals[p->n - 1];
			p->n--;
			continue;
		}
		if (at < 0) {
			if (p->n == p->cap) {
				p->cap = p->cap ? p->cap * 2 : 64;
				p->keys = realloc(p->keys, p->cap * sizeof(*p->keys));
				p->vals = realloc(p->vals, p->cap * sizeof(*p->vals));
				if (!p->keys || !p->vals)
					exit(2);
			}
			at = p->n++;
			p->keys[at] = keys[i];
		}
		p->vals[at] = chg[i].entry;
	}
	free(keys);
	free(chg);
}

struct check {
	const struct copy *p;
	size_t seen;
	bool bad;
};

static void check_one(void *ctx, const struct flow_key *k,
		      const struct fa_cache_entry *e)
{
	struct check *ck = ctx;
	long at = copy_find(ck->p, k);

	ck->seen++;
	if (at < 0 || memcmp(&ck->p->vals[at], e, sizeof(*e)))
		ck->bad = true;
}

static void copy_check(struct copy *p, struct fa_cache *c)
{
	struct check ck = { .p = p };

	copy_apply(p, c);
	fa_cache_foreach(c, check_one, &ck);
	if (ck.bad || ck.seen != p->n) {
		fprintf(stderr, "cache_drive: op %u: the persisted changes do not give the cache (%zu entries, %zu persisted)\n",
			op, ck.seen, p->n);
		exit(1);
	}
}

int main(void)
{
	struct fa_cache_cfg cfg = {};
	struct fa_cache *c = NULL;
	struct fa_table t = {};
	struct copy persisted = {};
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
			if (fa_cache_new(&cfg, &c))
				return 2;
		} else if (sscanf(line, "drain %llu %llu", &now, &n) == 2 ||
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
		} else if (sscanf(line, "shutdown %llu", &now) == 1) {
			if (fa_cache_flush(c, print_record, NULL))
				return 2;
		} else {
			fprintf(stderr, "cache_drive: bad op: %s", line);
			return 2;
		}
		copy_check(&persisted, c);
	}
	fa_table_free(&t);
	fa_cache_free(c);
	free(persisted.keys);
	free(persisted.vals);
	return 0;
}
