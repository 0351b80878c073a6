// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What flows did between two snapshots, for `flowacct top`. Rows are matched
 * by key and kind; a row's counts are cumulative while the row exists (in
 * the kernel's tables, which never lose a row between drains; in a daemon's
 * cache, until the flow leaves it), so their difference is what the flow
 * did in between. A row that is new, or smaller than before (a flow that
 * left a daemon's cache and came back), counts whole. An interval keeps
 * the snapshot it began with, and its rows are what top shows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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
	struct fa_drops d;
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
		d = r->drops;
		hit = bsearch(&r, idx, prev->n, sizeof(*idx), cmp_row);
		if (hit && (*hit)->val.packets <= v.packets &&
		    (*hit)->val.bytes <= v.bytes) {
			v.packets -= (*hit)->val.packets;
			v.bytes -= (*hit)->val.bytes;
		}
		if (hit)
			fa_drops_sub(&d, &(*hit)->drops);
		if (!v.packets && !d.packets)
			continue;
		err = fa_table_append(out, &r->key, &v, r->kind);
		if (!err)
			out->rows[out->n - 1].drops = d;
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

void fa_interval_free(struct fa_interval *iv)
{
	fa_table_free(&iv->rows);
	fa_names_free(&iv->names);
	memset(iv, 0, sizeof(*iv));
}

void fa_rates_free(struct fa_rates *r)
{
	fa_snapshot_free(&r->prev);
	r->have_prev = false;
}

int fa_rates_next(struct fa_rates *r, struct fa_snapshot *cur, __u64 now_ns,
		  unsigned int group, enum fa_sort sort, bool enrich,
		  struct fa_interval *iv)
{
	struct fa_snapshot joined;
	size_t i;
	int err, dir;

	if (!r->have_prev) {
		r->prev = *cur;
		r->prev_ns = now_ns;
		r->have_prev = true;
		return 1;
	}
	fa_interval_free(iv);
	iv->secs = (now_ns - r->prev_ns) / 1e9;
	iv->wall_ns = now_ns + fa_mono_to_wall_offset();
	for (dir = 0; dir < FLOW_NR_DIRS; dir++) {
		iv->pkts[dir] = cur->total[dir].c[FLOW_C_ACCOUNTED] -
				r->prev.total[dir].c[FLOW_C_ACCOUNTED];
		iv->bytes[dir] = cur->total[dir].c[FLOW_C_ACCOUNTED_BYTES] -
				 r->prev.total[dir].c[FLOW_C_ACCOUNTED_BYTES];
	}
	/* Per interface, each against its own books before (one that joined
	 * since counts from 0), and what fell on none of them. */
	iv->drops = 0;
	iv->has_drops = cur->has_drops_elsewhere;
	for (i = 0; i < cur->nifs; i++) {
		const struct fa_iface_snap *is = &cur->ifs[i];
		__u64 before = 0;
		size_t k;

		iv->has_drops |= is->has_drops;
		for (k = 0; k < r->prev.nifs; k++)
			if (r->prev.ifs[k].state.ifindex == is->state.ifindex &&
			    r->prev.ifs[k].drops.c[FLOW_DC_SEEN] <= is->drops.c[FLOW_DC_SEEN])
				before = r->prev.ifs[k].drops.c[FLOW_DC_SEEN];
		iv->drops += is->drops.c[FLOW_DC_SEEN] - before;
	}
	if (cur->has_drops_elsewhere && r->prev.has_drops_elsewhere &&
	    cur->drops_elsewhere.c[FLOW_DC_SEEN] >= r->prev.drops_elsewhere.c[FLOW_DC_SEEN])
		iv->drops += cur->drops_elsewhere.c[FLOW_DC_SEEN] -
			     r->prev.drops_elsewhere.c[FLOW_DC_SEEN];
	err = fa_table_delta(&r->prev.t, &cur->t, &iv->rows);
	if (!err && enrich) {
		/* The interval's rows joined to their sockets, as dump's are. */
		joined = (struct fa_snapshot){ .t = iv->rows, .ifs = cur->ifs,
					       .nifs = cur->nifs };
		err = fa_enrich(&joined);
		iv->rows = joined.t;
	}
	if (!err) {
		iv->nflows = iv->rows.n;
		if (group)
			fa_table_group(&iv->rows, group);
		fa_table_sort(&iv->rows, sort);
		/* The names go with the interval; the snapshot keeps none. */
		iv->names = cur->names;
		memset(&cur->names, 0, sizeof(cur->names));
	}
	fa_snapshot_free(&r->prev);
	r->prev = *cur;
	r->prev_ns = now_ns;
	return err;
}
