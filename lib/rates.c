// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What flows did between two snapshots, for `flowacct top`. Rows are matched
 * by key and kind; a row's counts are cumulative while the row exists (in
 * the kernel's tables, which never lose a row between drains; in a daemon's
 * cache, until the flow leaves it), so their difference is what the flow
 * did in between. A row that is new, or smaller than before (a flow that
 * left a daemon's cache and came back), counts whole.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libflowacct.h"

static int cmp_row(const void *a, const void *b)
{
	const struct fa_row *x = *(const struct fa_row *const *)a;
	const struct fa_row *y = *(const struct fa_row *const *)b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

int fa_table_delta(const struct fa_table *prev, const struct fa_table *cur,
		   struct fa_table *out)
{
	const struct fa_row **idx, *const *hit, *r;
	struct flow_value v;
	size_t i;
	int err = 0;

	idx = malloc((prev->n ? prev->n : 1) * sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (i = 0; i < prev->n; i++)
		idx[i] = &prev->rows[i];
	qsort(idx, prev->n, sizeof(*idx), cmp_row);
	for (i = 0; i < cur->n && !err; i++) {
		r = &cur->rows[i];
		/* What a daemon already exported is in no flow any more. */
		if (r->kind == FA_ROW_EXPORTED)
			continue;
		v = r->val;
		hit = bsearch(&r, idx, prev->n, sizeof(*idx), cmp_row);
		if (hit && (*hit)->val.packets <= v.packets &&
		    (*hit)->val.bytes <= v.bytes) {
			v.packets -= (*hit)->val.packets;
			v.bytes -= (*hit)->val.bytes;
		}
		if (!v.packets)
			continue;
		err = fa_table_append(out, &r->key, &v, r->kind);
	}
	free(idx);
	return err;
}

void fa_human(double v, const char *unit, char *buf, size_t len)
{
	static const char prefix[] = " kMGTPE";
	int i = 0;

	while (v >= 999.5 && i < 6) {
		v /= 1000;
		i++;
	}
	if (!i && v == (double)(__u64)v)
		snprintf(buf, len, "%llu%s", (unsigned long long)v, unit);
	else
		snprintf(buf, len, "%.*f%s%s", v < 9.995 ? 2 : v < 99.95 ? 1 : 0, v,
			 i ? (char[]){ prefix[i], 0 } : "", unit);
}
