// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Pinned program sets as the commands see them: each set's directory under
 * FA_PIN_ROOT (any name that does not begin with "net" and holds a
 * "members" pin), the process holding its lock, and each member's record,
 * name and hooks, so that status lists members beside attachments, stats
 * and dump read a member's books from its set's maps, and detach refuses a
 * member by name. Reading only: nothing here takes a set's lock, so a
 * process holding the set is never in the way, and never waits.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "internal.h"

static int cmp_members(const void *a, const void *b)
{
	const struct fa_member_entry *x = a, *y = b;
	int c = strcmp(x->set, y->set);

	return c ? c : (x->rec.ifindex > y->rec.ifindex) - (x->rec.ifindex < y->rec.ifindex);
}

/* What a member's record says, and what its device shows, of @set. */
static void member_fill(struct fa_member_entry *m, const struct fa_set_entry *set,
			const struct fa_set_member_rec *r)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->set, sizeof(m->set), "%s", set->dir);
	m->rec = *r;
	m->here = set->here;
	m->holder = set->holder;
	m->netns_ino = set->state.netns_ino;
	if (!m->here)
		return;
	m->gone = !if_indextoname(r->ifindex, m->ifname);
	if (m->gone)
		m->ifname[0] = '\0';
	else
		m->live = fa_set_member_probe(set->dir, r, m->link_id) > 0;
}

/* Appends @set's members to *l (*n of them, room for *cap). */
static int members_read(const struct fa_set_entry *set, struct fa_member_entry **l,
			size_t *n, size_t *cap)
{
	struct fa_set_member_rec r;
	struct fa_member_entry *grown;
	char path[PATH_MAX];
	__u32 k, next, *prev = NULL;
	int fd, err = 0;

	fa_pin_path(path, sizeof(path), set->dir, FA_SET_MEMBERS_PIN);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &r))
			continue;	/* unlinked meanwhile */
		if (*n == *cap) {
			*cap = *cap ? 2 * *cap : 16;
			grown = realloc(*l, *cap * sizeof(**l));
			if (!grown) {
				err = -ENOMEM;
				break;
			}
			*l = grown;
		}
		member_fill(&(*l)[(*n)++], set, &r);
	}
	close(fd);
	return err;
}

/* Whether @name under FA_PIN_ROOT is a set's directory. */
bool fa_pin_dir_is_set(const char *name)
{
	char path[PATH_MAX];

	if (!strncmp(name, "net", 3))
		return false;
	fa_pin_path(path, sizeof(path), name, FA_SET_MEMBERS_PIN);
	return !access(path, F_OK);
}

int fa_sets_list(struct fa_set_entry **sets, size_t *nsets,
		 struct fa_member_entry **members, size_t *n)
{
	char (*names)[64];
	struct fa_set_entry *s;
	size_t cnt, i, from, cap = 0;
	int err;

	*sets = NULL;
	*members = NULL;
	*nsets = *n = 0;
	err = fa_pin_dirs(fa_pin_dir_is_set, &names, &cnt);
	if (err)
		return err;
	s = calloc(cnt ? cnt : 1, sizeof(*s));
	if (!s) {
		free(names);
		return -ENOMEM;
	}
	for (i = 0; i < cnt && !err; i++) {
		snprintf(s[i].dir, sizeof(s[i].dir), "%s", names[i]);
		s[i].err = fa_state_read(s[i].dir, &s[i].state);
		s[i].here = !s[i].err && fa_state_netns_self(&s[i].state);
		/* A set's lock is taken as a daemon's (set.c): by its dir's name. */
		s[i].holder = fa_lock_owner(s[i].dir, FA_LOCK_RUN);
		from = *n;
		/* A set being removed loses its members' pin first: no members. */
		if (members_read(&s[i], members, n, &cap) == -ENOMEM)
			err = -ENOMEM;
		s[i].members = *n - from;
		qsort(*members + from, *n - from, sizeof(**members), cmp_members);
	}
	free(names);
	if (err) {
		free(s);
		free(*members);
		*members = NULL;
		*n = 0;
		return err;
	}
	*sets = s;
	*nsets = cnt;
	return 0;
}

int fa_set_members_here(struct fa_member_entry **out, size_t *n)
{
	struct fa_member_entry *m;
	struct fa_set_entry *sets;
	size_t i, total, nsets;
	int err;

	*n = 0;
	err = fa_sets_list(&sets, &nsets, &m, &total);
	if (err)
		return err;
	free(sets);
	for (i = 0; i < total; i++)
		if (m[i].here)
			m[(*n)++] = m[i];
	*out = m;
	return 0;
}

int fa_set_member_find(const char *ifname, struct fa_member_entry *out)
{
	struct fa_member_entry *m;
	size_t i, n;
	int err;

	err = fa_set_members_here(&m, &n);
	if (err)
		return err;
	err = -ENOENT;
	for (i = 0; i < n; i++) {
		if (!strcmp(m[i].ifname, ifname)) {
			*out = m[i];
			err = 0;
			break;
		}
		/* A gone one by its name at join, unless a live one has it. */
		if (err && m[i].gone && !strcmp(m[i].rec.ifname, ifname)) {
			*out = m[i];
			err = 1;
		}
	}
	free(m);
	return err > 0 ? 0 : err;
}

int fa_set_member_linked(__u32 ifindex, const char *except, struct fa_member_entry *out)
{
	struct fa_set_member_rec r;
	struct fa_set_entry set;
	char (*names)[64], path[PATH_MAX];
	size_t cnt, i;
	int fd, err;

	/* One lookup a set, not a listing of every member: a join asks. */
	err = fa_pin_dirs(fa_pin_dir_is_set, &names, &cnt);
	if (err)
		return err;
	err = -ENOENT;
	for (i = 0; i < cnt && err; i++) {
		if (except && !strcmp(names[i], except))
			continue;
		memset(&set, 0, sizeof(set));
		snprintf(set.dir, sizeof(set.dir), "%s", names[i]);
		if (fa_state_read(set.dir, &set.state) || !fa_state_netns_self(&set.state))
			continue;
		fa_pin_path(path, sizeof(path), set.dir, FA_SET_MEMBERS_PIN);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		if (!bpf_map_lookup_elem(fd, &ifindex, &r)) {
			set.here = true;
			set.holder = fa_lock_owner(set.dir, FA_LOCK_RUN);
			member_fill(out, &set, &r);
			if (!out->gone)
				err = 0;
		}
		close(fd);
	}
	free(names);
	return err;
}

/* -EBUSY, @e saying @ifname is @m's and @why. */
static int refuse(const struct fa_member_entry *m, const char *ifname, const char *why,
		  struct fa_err *e)
{
	char held[32] = "held by no process";

	if (m->holder)
		snprintf(held, sizeof(held), "held by pid %d", m->holder);
	return fa_err_set(e, -EBUSY, "'%s' is linked by the program set '%s' (%s): %s", ifname,
			  m->set, held, why);
}

int fa_set_member_taken_err(const struct fa_member_entry *m, const char *ifname,
			    struct fa_err *e)
{
	return refuse(m, ifname, "taken again here, its packets would be counted twice", e);
}

int fa_set_member_detach_err(const struct fa_member_entry *m, const char *ifname,
			     struct fa_err *e)
{
	return refuse(m, ifname,
		      "a member's links are its set's, and only the set's holder unlinks it", e);
}
