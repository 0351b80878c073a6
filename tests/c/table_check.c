// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The table's sort and its JSON, against references of this file's own.
 *
 *   table_check ROWS SEED DIR [small]
 *
 * Makes ROWS random rows (IPv4 and IPv6 keys, the IPv6 forms inet_ntop
 * treats specially, counts with many ties and counts near 2^64, or with
 * "small" all under 2^24 as real counts are, so that the sort skips the
 * bytes every row has zero; overflow and exported rows, an interface whose
 * name needs escaping and one with no name). It checks fa_table_sort() by
 * packets, first seen and duration against this file's comparator and
 * fails if they differ, then sorts by bytes and writes into DIR:
 *
 *   expected.tsv  the rows in the order of this file's comparator (bytes,
 *                 then packets, largest first; then kind, then key bytes),
 *                 each field as printf and inet_ntop write it;
 *   plain.json    fa_print_flow_doc(), as dump -j writes it;
 *   ordered.json  the same from the unsorted rows and fa_table_order();
 *   columns.json  the same with every row written column by column;
 *   top.json      only the first rows, fewer than the two-thread writer
 *                 takes, so written by one thread.
 *
 * tests/suites/test_replay.sh (test_table_check) compares them.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libflowacct.h"
#include "out.h"

static __u64 rng_state;
static bool small;

static __u64 rnd(void)
{
	/* splitmix64 */
	__u64 z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void make_key(struct flow_key *k, __u64 n)
{
	static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };
	unsigned int form = rnd() % 10, i;

	memset(k, 0, sizeof(*k));
	k->ifindex = 1 + rnd() % 3;
	k->direction = rnd() % 2;
	k->proto = (const __u8[]){ 6, 17, 1, 58, 132 }[rnd() % 5];
	k->sport = htons(rnd() % 65536);
	k->dport = htons(rnd() % 65536);
	if (form < 6) {
		k->ip_version = 4;
		memcpy(k->src, mapped, 12);
		memcpy(k->dst, mapped, 12);
		for (i = 12; i < 16; i++)
			k->src[i] = rnd(), k->dst[i] = rnd();
	} else {
		k->ip_version = 6;
		for (i = 0; i < 16; i++) {
			/* Runs of zero groups, so that "::" lands anywhere. */
			k->src[i] = rnd() % 3 ? 0 : rnd();
			k->dst[i] = rnd();
		}
		if (form == 8)	/* ::ffff:a.b.c.d */
			memcpy(k->dst, mapped, 12);
		if (form == 9)	/* ::a.b.c.d, and the all-zero address */
			memset(k->dst, 0, n % 2 ? 12 : 16);
	}
	/* The row number makes every key unique. */
	memcpy(k->src, &n, 4);
	if (k->ip_version == 4)
		memcpy(k->src + 12, &n, 4);
}

static __u64 count(void)
{
	if (small)
		return rnd() % 4 ? rnd() % 64 : rnd() % (1u << 24);
	switch (rnd() % 4) {
	case 0:
		return rnd() % 4;		/* ties, and zero */
	case 1:
		return rnd() % 1000;
	case 2:
		return ~0ull - rnd() % 3;	/* the top bits */
	default:
		return rnd() >> (rnd() % 64);
	}
}

static enum fa_sort sort_by;

/* The order fa_table_sort() documents: the field, largest first (earliest
 * first for the first seen), then packets, then kind, then key bytes. */
static int cmp_expected(const void *pa, const void *pb)
{
	const struct fa_row *a = pa, *b = pb;
	__u64 x, y;

	switch (sort_by) {
	case FA_SORT_PACKETS:
		x = a->val.packets, y = b->val.packets;
		break;
	case FA_SORT_FIRST:
		x = ~a->val.first_seen_ns, y = ~b->val.first_seen_ns;
		break;
	case FA_SORT_DURATION:
		x = a->val.last_seen_ns - a->val.first_seen_ns;
		y = b->val.last_seen_ns - b->val.first_seen_ns;
		break;
	default:
		x = a->val.bytes, y = b->val.bytes;
	}
	if (x != y)
		return x > y ? -1 : 1;
	if (a->val.packets != b->val.packets)
		return a->val.packets > b->val.packets ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return memcmp(&a->key, &b->key, sizeof(a->key));
}

/* fa_table_sort(@by) on a copy of @t, against qsort with cmp_expected. */
static int check_order(const struct fa_table *t, enum fa_sort by,
		       const char *name)
{
	struct fa_table c = {};
	struct fa_row *want;
	size_t i;

	want = malloc(t->n * sizeof(*want) + 1);
	if (!want || fa_table_reserve(&c, t->n))
		return -1;
	memcpy(c.rows, t->rows, t->n * sizeof(*want));
	c.n = t->n;
	memcpy(want, t->rows, t->n * sizeof(*want));
	sort_by = by;
	qsort(want, t->n, sizeof(*want), cmp_expected);
	fa_table_sort(&c, by);
	for (i = 0; i < t->n; i++) {
		if (memcmp(&c.rows[i], &want[i], sizeof(*want))) {
			fprintf(stderr, "table_check: sorted by %s, row %zu differs\n",
				name, i);
			return -1;
		}
	}
	free(want);
	fa_table_free(&c);
	return 0;
}

static void addr_text(const struct fa_row *r, const __u8 *a, char *buf)
{
	if (r->kind != FA_ROW_FLOW)
		strcpy(buf, "-");
	else
		inet_ntop(r->key.ip_version == 4 ? AF_INET : AF_INET6,
			  r->key.ip_version == 4 ? a + 12 : a, buf,
			  INET6_ADDRSTRLEN);
}

static int write_expected(const char *path, const struct fa_row *rows, size_t n)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	FILE *f = fopen(path, "w");
	size_t i;

	if (!f)
		return -1;
	for (i = 0; i < n; i++) {
		const struct fa_row *r = &rows[i];

		addr_text(r, r->key.src, src);
		addr_text(r, r->key.dst, dst);
		fprintf(f, "%u\t%u\t%u\t%u\t%s\t%s\t%u\t%u\t%llu\t%llu\t%llu\t%llu\t%u\t%u\n",
			r->key.ifindex, r->key.direction, r->key.ip_version,
			r->key.proto, src, dst, ntohs(r->key.sport),
			ntohs(r->key.dport), (unsigned long long)r->val.packets,
			(unsigned long long)r->val.bytes,
			(unsigned long long)r->val.first_seen_ns,
			(unsigned long long)r->val.last_seen_ns, r->val.tcp_flags,
			r->kind);
	}
	return fclose(f);
}

static int write_doc(const char *dir, const char *name,
		     const struct fa_table *t, const struct fa_view *v)
{
	struct fa_hook_stats st[FLOW_NR_DIRS] = {};
	char path[4096];
	struct fa_out o;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	out_init(&o, f, true);
	fa_print_flow_doc(&o, t, st, v);
	return fclose(f);
}

int main(int argc, char **argv)
{
	struct fa_table t = {};
	struct fa_names names = {};
	struct fa_view v = { .names = &names };
	struct fa_row *expected;
	size_t *order;
	char path[4096];
	size_t n, i;

	if (argc != 4 && !(argc == 5 && !strcmp(argv[4], "small"))) {
		fprintf(stderr, "usage: table_check ROWS SEED DIR [small]\n");
		return 2;
	}
	n = strtoull(argv[1], NULL, 0);
	rng_state = strtoull(argv[2], NULL, 0);
	small = argc == 5;
	if (fa_names_add(&names, 1, "veth0") ||
	    fa_names_add(&names, 2, "a\"b\\c"))
		return 1;
	for (i = 0; i < n; i++) {
		struct flow_key k;
		struct flow_value val = {};
		unsigned int kind = rnd() % 50;

		make_key(&k, i);
		val.packets = count();
		val.bytes = count();
		val.first_seen_ns = rnd();
		val.last_seen_ns = rnd();
		val.tcp_flags = k.proto == 6 ? rnd() % 256 : 0;
		if (fa_table_append(&t, &k, &val, kind == 0 ? FA_ROW_OVERFLOW :
						  kind == 1 ? FA_ROW_EXPORTED :
							      FA_ROW_FLOW))
			return 1;
	}
	if (check_order(&t, FA_SORT_PACKETS, "packets") ||
	    check_order(&t, FA_SORT_FIRST, "first seen") ||
	    check_order(&t, FA_SORT_DURATION, "duration"))
		return 1;
	expected = malloc(n * sizeof(*expected) + 1);
	if (!expected)
		return 1;
	memcpy(expected, t.rows, n * sizeof(*expected));
	sort_by = FA_SORT_BYTES;
	qsort(expected, n, sizeof(*expected), cmp_expected);

	/* Printed through an index first (fa_table_order), rows unmoved. */
	if (fa_table_order(&t, FA_SORT_BYTES, &order))
		return 1;
	v.order = order;
	if (write_doc(argv[3], "ordered.json", &t, &v))
		return 1;
	v.order = NULL;
	free(order);
	fa_table_sort(&t, FA_SORT_BYTES);

	snprintf(path, sizeof(path), "%s/expected.tsv", argv[3]);
	if (write_expected(path, expected, n) ||
	    write_doc(argv[3], "plain.json", &t, &v))
		return 1;
	v.by_column = true;
	if (write_doc(argv[3], "columns.json", &t, &v))
		return 1;
	v.by_column = false;
	v.top = 4096;
	if (write_doc(argv[3], "top.json", &t, &v))
		return 1;
	free(expected);
	fa_table_free(&t);
	fa_names_free(&names);
	return 0;
}
