// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A snapshot of attached interfaces, read straight from their pinned maps
 * (no daemon): the counters, then the rows of both epochs' tables and the
 * overflow rows, in that order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void fa_table_shift_times(struct fa_table *t, size_t from, __u64 off)
{
	size_t i;

	for (i = from; i < t->n; i++) {
		if (t->rows[i].val.first_seen_ns)
			t->rows[i].val.first_seen_ns += off;
		if (t->rows[i].val.last_seen_ns)
			t->rows[i].val.last_seen_ns += off;
	}
}

static int add_iface(struct fa_snapshot *s, const int *fd,
		     const struct fa_attach_state *state, const char *dirname,
		     struct fa_iface_snap **out)
{
	struct fa_iface_snap *grown, *is;
	struct fa_ifid id = {
		.netns_ino = state->netns_ino,
		.netns_cookie = state->netns_cookie,
		.ifindex = state->ifindex,
	};
	int hook[FLOW_NR_DIRS], dir, err;

	grown = realloc(s->ifs, (s->nifs + 1) * sizeof(*s->ifs));
	if (!grown)
		return -ENOMEM;
	s->ifs = grown;
	is = &s->ifs[s->nifs];
	memset(is, 0, sizeof(*is));
	snprintf(is->dirname, sizeof(is->dirname), "%s", dirname);
	is->state = *state;
	if (!state->netns_ino || fa_ifid_name(&id, is->ifname))
		snprintf(is->ifname, sizeof(is->ifname), "%s", state->ifname);
	err = fa_names_add(&s->names, state->ifindex, is->ifname);
	if (err)
		return err;
	err = fa_stats_read(fd[FA_PIN_STATS], state->ifindex, is->st);
	if (err)
		return err;
	/* No row yet: no drop seen there. */
	if (fd[FA_PIN_DROP_STATS] >= 0) {
		is->has_drops = true;
		fa_drop_stats_read(fd[FA_PIN_DROP_STATS], state->ifindex, &is->drops);
	}
	fa_state_hooks(state, hook);
	for (dir = 0; dir < FLOW_NR_DIRS; dir++) {
		/* Both hooks are attached, whether or not they saw anything. */
		is->st[dir].present = true;
		if (!s->hook[dir])
			s->hook[dir] = hook[dir];
		else if (s->hook[dir] != hook[dir])
			s->hook[dir] = FA_HOOK_MIXED;
	}
	fa_stats_add(s->total, is->st);
	s->nifs++;
	*out = is;
	return 0;
}

void fa_member_state(const struct fa_attach_state *set, const struct fa_set_member_rec *rec,
		     struct fa_attach_state *st)
{
	if (st != set)
		*st = *set;
	st->ifindex = rec->ifindex;
	st->ingress = rec->ingress;
	st->tc_api = st->tci_api = rec->tc_api;
	snprintf(st->ifname, sizeof(st->ifname), "%s", rec->ifname);
}

int fa_snapshot_add_iface(struct fa_snapshot *s, const int *fd,
			  const struct fa_attach_state *st, const char *dir)
{
	struct fa_iface_snap *is;

	return add_iface(s, fd, st, dir, &is);
}

int fa_snapshot_add_stats(struct fa_snapshot *s, const struct fa_pinned *p)
{
	struct fa_iface_snap *is;

	return add_iface(s, p->fd, &p->state, p->dir, &is);
}

int fa_snapshot_add(struct fa_snapshot *s, const struct fa_pinned *p)
{
	struct fa_tick_clock ticks;
	int err = fa_tick_clock_read(&ticks);

	if (err)
		return err;
	return fa_snapshot_add_maps(s, p->fd, &p->state, p->dir, &ticks,
				    fa_mono_to_wall_offset());
}

/*
 * Both epochs' tables into @s; with @ifx, only the rows of those @nifx
 * interfaces (a set's members). A flow in both tables (a daemon stopped
 * mid-epoch) is one row.
 */
static int add_tables(struct fa_snapshot *s, const int *fd, const struct fa_tick_clock *ticks,
		      const __u32 *ifx, size_t nifx)
{
	size_t from = s->t.n, mid, i, j, out;
	int err;

	size_t dfrom;
	bool drops;

	err = fa_table_read(fd[FA_PIN_FLOWS_0], ticks, &s->t, NULL, NULL);
	mid = s->t.n;
	if (!err)
		err = fa_table_read(fd[FA_PIN_FLOWS_1], ticks, &s->t, NULL, NULL);
	/* The drop tables of an attachment with a drop program of its own. */
	dfrom = s->t.n;
	if (!err)
		err = fa_drop_table_read(fd[FA_PIN_DROPS_0], ticks, &s->t);
	if (!err)
		err = fa_drop_table_read(fd[FA_PIN_DROPS_1], ticks, &s->t);
	if (err)
		return err;
	drops = s->t.n > dfrom;
	if (ifx) {
		for (i = out = from; i < s->t.n; i++) {
			for (j = 0; j < nifx && ifx[j] != s->t.rows[i].key.ifindex; j++)
				;
			if (i == mid)
				mid = out;
			if (j < nifx)
				s->t.rows[out++] = s->t.rows[i];
		}
		if (mid > out)
			mid = out;
		s->t.n = out;
	}
	if (drops)
		fa_table_fold_drops(&s->t, from);
	else if (mid > from && s->t.n > mid)
		fa_table_merge_equal(&s->t, from);
	return 0;
}

/* @ifindex's overflow rows of both epochs, one row a direction. */
static int add_overflow(struct fa_snapshot *s, int fd, __u32 ifindex,
			const struct fa_tick_clock *ticks)
{
	struct flow_value ov[FLOW_NR_DIRS] = {};
	struct flow_key key;
	int dir, err;

	err = fa_overflow_read(fd, ifindex, 3, ticks, ov);
	for (dir = 0; dir < FLOW_NR_DIRS && !err; dir++) {
		if (!ov[dir].packets)
			continue;
		memset(&key, 0, sizeof(key));
		key.ifindex = ifindex;
		key.direction = dir;
		err = fa_table_append(&s->t, &key, &ov[dir], FA_ROW_OVERFLOW);
	}
	return err;
}

int fa_snapshot_add_maps(struct fa_snapshot *s, const int *fd,
			 const struct fa_attach_state *state, const char *dirname,
			 const struct fa_tick_clock *ticks, __u64 time_offset)
{
	struct fa_iface_snap *is;
	size_t from = s->t.n;
	int err;

	err = add_iface(s, fd, state, dirname, &is);
	if (!err)
		err = add_tables(s, fd, ticks, NULL, 0);
	if (!err)
		err = add_overflow(s, fd[FA_PIN_OVERFLOW], state->ifindex, ticks);
	if (err)
		return err;
	if (time_offset)
		fa_table_shift_times(&s->t, from, time_offset);
	return 0;
}

int fa_snapshot_add_members(struct fa_snapshot *s, const struct fa_pinned *p,
			    const struct fa_member_entry *m, size_t n, bool rows)
{
	struct fa_tick_clock ticks;
	struct fa_attach_state st;
	struct fa_iface_snap *is;
	size_t from = s->t.n, i;
	__u32 *ifx;
	int err = 0;

	ifx = calloc(n ? n : 1, sizeof(*ifx));
	if (!ifx)
		return -ENOMEM;
	if (rows)
		err = fa_tick_clock_read(&ticks);
	/* Each member as an attachment of its own: the set's record, its hooks. */
	for (i = 0; i < n && !err; i++) {
		fa_member_state(&p->state, &m[i].rec, &st);
		st.attached_at = m[i].rec.joined_at;
		ifx[i] = st.ifindex;
		err = add_iface(s, p->fd, &st, p->dir, &is);
	}
	if (rows && !err)
		err = add_tables(s, p->fd, &ticks, ifx, n);
	for (i = 0; rows && i < n && !err; i++)
		err = add_overflow(s, p->fd[FA_PIN_OVERFLOW], ifx[i], &ticks);
	if (rows && !err)
		fa_table_shift_times(&s->t, from, fa_mono_to_wall_offset());
	free(ifx);
	return err;
}

void fa_snapshot_free(struct fa_snapshot *s)
{
	fa_table_free(&s->t);
	fa_names_free(&s->names);
	free(s->ifs);
	memset(s, 0, sizeof(*s));
}
