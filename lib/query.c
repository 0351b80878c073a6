// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Queries, the reading side of dump, stats and top: which attachments a
 * query reads, whether a daemon that owns them answers instead (its view:
 * flows since they started, plus what it already exported), and the
 * pipeline from a snapshot to the dump document.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "out.h"
#include "query.h"

const struct fa_dump_opts fa_dump_defaults = {
	.sort = FA_SORT_BYTES,
	.port = -1,
	.proto = -1,
};

/* ---- which attachments ------------------------------------------------------ */

static int why_not(const char *ifname, int err, struct fa_err *e)
{
	switch (err) {
	case -ENOENT:
		return fa_err_set(e, err, "'%s' is not attached", ifname);
	case -EINVAL:
		return fa_err_set(e, err, "'%s' is not an interface name", ifname);
	case -EPROTO:
		return fa_err_set(e, err, "'%s' was attached by another version of flowacct (its maps have another layout); detach it with that version",
				  ifname);
	case -EINPROGRESS:
		return fa_err_set(e, err, "attaching '%s' did not finish (killed?): run 'flowacct detach %s'",
				  ifname, ifname);
	}
	return fa_err_set(e, err, "can't open the pins of '%s': %s", ifname, strerror(-err));
}

/*
 * The attachment of @ifname, as fa_open_iface(); where there is none but
 * a member of a set has that name here, -EOPNOTSUPP with *m that member
 * (and @e saying so, for a command that does not serve members).
 */
static int open_iface(const char *ifname, struct fa_pinned *p, struct fa_member_entry *m,
		      struct fa_err *e)
{
	struct fa_pin_entry pe;
	char now[FA_IFNAMSIZ];
	struct fa_ifid was;
	int err;

	memset(p, 0, sizeof(*p));
	err = fa_pins_find(ifname, &pe);
	/* An attachment first: a member is found only where there is none. */
	if (err == -ENOENT && !fa_set_member_find(ifname, m))
		return fa_err_set(e, -EOPNOTSUPP, "'%s' is a member of the program set '%s', not attached alone: not supported for a set member yet",
				  ifname, m->set);
	if (err == -EEXIST) {
		was = (struct fa_ifid){ pe.state.netns_ino, pe.state.netns_cookie,
					pe.state.ifindex };
		fa_ifid_name(&was, now);
		return fa_err_set(e, err, "no interface '%s' here: the one attached as '%s' is called '%s' now",
				  ifname, ifname, now);
	}
	if (!err)
		err = pe.err;
	if (!err)
		err = fa_pinned_open_dir(pe.dirname, p);
	return err ? why_not(ifname, err, e) : 0;
}

int fa_open_iface(const char *ifname, struct fa_pinned *p, struct fa_err *e)
{
	struct fa_member_entry m;

	return open_iface(ifname, p, &m, e);
}

int fa_open_iface_or_member(const char *ifname, struct fa_pinned *p, bool *member,
			    struct fa_err *e)
{
	struct fa_member_entry m;
	int err = open_iface(ifname, p, &m, e);

	*member = err == -EOPNOTSUPP;
	if (!*member)
		return err;
	fa_err_clear(e);	/* served here: not the refusal */
	err = fa_pinned_open_dir(m.set, p);
	if (err)
		return why_not(ifname, err, e);
	fa_member_state(&p->state, &m.rec, &p->state);
	return 0;
}

int fa_iface_state(const char *ifname, struct fa_attach_state *st, struct fa_err *e)
{
	struct fa_pinned p;
	bool member;
	int err = fa_open_iface_or_member(ifname, &p, &member, e);

	if (err)
		return err;
	*st = p.state;
	fa_pinned_close(&p);
	return 0;
}

bool fa_attached_iface_exists(const struct fa_attach_state *st)
{
	struct fa_ifid id = { st->netns_ino, st->netns_cookie, st->ifindex };
	char name[FA_IFNAMSIZ];

	return fa_ifid_name(&id, name) != -ENODEV;
}

int fa_open_all(struct fa_pinned **out, size_t *n, struct fa_err *e)
{
	struct fa_pin_entry *l;
	struct fa_pinned *ps;
	__u64 ino, cookie;
	size_t i, cnt = 0, total;
	int err;

	*out = NULL;
	*n = 0;
	err = fa_pins_list(&l, &total);
	if (!err && (err = fa_netns_self(&ino, &cookie)))
		free(l);
	if (err)
		return fa_err_set(e, err, "can't list %s: %s", FA_PIN_ROOT, strerror(-err));
	ps = calloc(total ? total : 1, sizeof(*ps));
	if (!ps) {
		free(l);
		return fa_err_set(e, -ENOMEM, "out of memory");
	}
	for (i = 0; i < total; i++) {
		if (l[i].err || l[i].state.netns_ino != ino ||
		    (cookie && l[i].state.netns_cookie &&
		     cookie != l[i].state.netns_cookie))
			continue;	/* elsewhere, or half-made: status shows it */
		if (fa_pinned_open_dir(l[i].dirname, &ps[cnt]))
			continue;
		cnt++;
	}
	free(l);
	if (!cnt) {
		free(ps);
		return fa_err_set(e, -ENOENT, "no interface is attached in this network namespace");
	}
	*out = ps;
	*n = cnt;
	return 0;
}

void fa_close_all(struct fa_pinned *ps, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fa_pinned_close(&ps[i]);
	free(ps);
}

/* ---- from a daemon, or from the pins -------------------------------------------- */

/*
 * When every interface asked for is owned by one daemon (the members @m
 * held by it too), it answers the whole query into @forward. 1 if it did,
 * 0 (read the interfaces here), or -errno with @e said (the daemon's own
 * error included).
 */
static int ask_daemon(const struct fa_query *q, struct fa_pinned *ps, size_t n,
		      const struct fa_member_entry *m, size_t nm, FILE *forward,
		      struct fa_err *e)
{
	int pid = 0, p, err;
	size_t i;

	for (i = 0; i < n + nm; i++) {
		p = i < n ? fa_lock_owner(ps[i].dir, FA_LOCK_RUN) : m[i - n].holder;
		if (!p || (pid && p != pid) || (i >= n && !fa_ctl_serves(p)))
			return 0;
		pid = p;
	}
	if (!pid)
		return 0;
	err = fa_ctl_ask(pid, q, forward, e);
	return err == 1 ? -EINVAL : err ? err : 1;
}

/*
 * A daemon's view of the interface whose pins are @dir, merged into @s; of
 * a set's members (@dir the set's), the one of @member (0: every one).
 */
static int daemon_rows(const char *dir, __u32 member, int pid, struct fa_snapshot *s,
		       struct fa_err *e)
{
	struct fa_query q = { .kind = FA_QUERY_ROWS, .member = member };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	snprintf(q.iface, sizeof(q.iface), "%s", dir);
	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	err = fa_ctl_ask(pid, &q, f, e);
	fclose(f);
	if (err == 1)
		err = -EPROTO;
	if (!err)
		err = fa_snapshot_decode(buf, len, s);
	free(buf);
	return err;
}

/*
 * Members' books (@m ordered by set): of a set a daemon holds (one with a
 * control socket), the daemon's view (its cache, and what left in
 * records), asked once for all of the set's members here, or for the one
 * asked (@one); of a set no one holds, its pins, each set's maps opened
 * and its tables read once.
 */
static int members_add(struct fa_snapshot *s, const struct fa_member_entry *m, size_t n,
		       bool rows, bool one, struct fa_err *e)
{
	struct fa_pinned p;
	size_t i, j;
	int err = 0;

	for (i = 0; i < n && !err; i = j) {
		for (j = i + 1; j < n && !strcmp(m[j].set, m[i].set); j++)
			;
		if (rows && m[i].holder && fa_ctl_serves(m[i].holder)) {
			err = daemon_rows(m[i].set, one ? m[i].rec.ifindex : 0, m[i].holder, s, e);
			if (err && err != -EINVAL)
				fa_err_set(e, err, "can't read the program set '%s': %s",
					   m[i].set, strerror(-err));
			continue;
		}
		err = fa_pinned_open_dir(m[i].set, &p);
		if (!err) {
			err = fa_snapshot_add_members(s, &p, &m[i], j - i, rows);
			fa_pinned_close(&p);
		}
		if (err)
			fa_err_set(e, err, "can't read the program set '%s': %s", m[i].set,
				   strerror(-err));
	}
	return err;
}

int fa_snapshot_gather(const struct fa_query *q, struct fa_snapshot *s,
		       FILE *forward, struct fa_err *e)
{
	bool rows = q->kind == FA_QUERY_DUMP;
	struct fa_member_entry *m = NULL, one_m;
	struct fa_pinned *ps = NULL, one;
	size_t i, n = 0, nm = 0;
	int err = 0, pid;

	if (q->iface[0]) {
		err = open_iface(q->iface, &one, &one_m, e);
		if (!err) {
			ps = &one;
			n = 1;
		} else if (err == -EOPNOTSUPP) {
			m = &one_m;
			nm = 1;
			err = 0;
			fa_err_clear(e);
		}
	} else {
		err = fa_open_all(&ps, &n, e);
		if (!err || err == -ENOENT) {
			if (fa_set_members_here(&m, &nm))
				nm = 0;
			if (nm)
				err = 0;
		}
	}
	if (err)
		goto out;
	if (forward && m == &one_m) {
		/* A member by its set and index: its name may have moved on. */
		struct fa_query mq = *q;

		snprintf(mq.iface, sizeof(mq.iface), "%s", one_m.set);
		mq.member = one_m.rec.ifindex;
		err = ask_daemon(&mq, ps, n, m, nm, forward, e);
	} else if (forward) {
		err = ask_daemon(q, ps, n, m, nm, forward, e);
	}
	for (i = 0; i < n && !err; i++) {
		pid = fa_lock_owner(ps[i].dir, FA_LOCK_RUN);
		if (pid)
			err = daemon_rows(ps[i].dir, 0, pid, s, e);
		else if (rows)
			err = fa_snapshot_add(s, &ps[i]);
		else
			err = fa_snapshot_add_stats(s, &ps[i]);
		if (err)
			fa_err_set(e, err, "can't read '%s': %s", ps[i].state.ifname,
				   strerror(-err));
	}
	if (!err && nm)
		err = members_add(s, m, nm, rows, m == &one_m, e);
out:
	if (ps == &one)
		fa_pinned_close(&one);
	else if (ps)
		fa_close_all(ps, n);
	if (m != &one_m)
		free(m);
	return err;
}

/* ---- the dump pipeline ------------------------------------------------------------ */

int fa_dump_render(const struct fa_dump_opts *o, struct fa_snapshot *s,
		   struct fa_out *out, const struct fa_log *log, struct fa_err *e)
{
	struct fa_filter f = { .src = o->src, .dst = o->dst, .port = o->port,
			       .proto = o->proto };
	struct fa_view v = o->view;
	size_t *order = NULL;
	int err;

	if (o->biflow && o->group)
		return fa_err_set(e, -EINVAL, "--biflow pairs the two directions of each flow: not with --group-by");
	/* Without it the rows are whole; only the joined fields stay null. */
	err = fa_enrich(s);
	if (err)
		fa_log(log, FA_LOG_NOTE, "can't join the flows to their sockets (the fields stay null): %s",
		       strerror(-err));
	/* A connection is filtered by its first direction, once paired. */
	if (o->biflow) {
		err = fa_table_biflow(&s->t, o->sort);
		if (err)
			return fa_err_set(e, err, "can't pair the directions: %s", strerror(-err));
	}
	if (f.src.set || f.dst.set || f.port >= 0 || f.proto >= 0)
		fa_table_filter(&s->t, &f);
	if (o->group)
		fa_table_group(&s->t, o->group);
	/*
	 * JSON rows are printed in order from an index: a million of them
	 * need not be moved into order to be printed once.
	 */
	if (!o->biflow && out->json && !fa_table_order(&s->t, o->sort, &order))
		v.order = order;
	else if (!o->biflow)
		fa_table_sort(&s->t, o->sort);
	v.group = o->group;
	v.biflow = o->biflow;
	v.human = o->human;
	v.top = o->top;
	v.now_ns = fa_mono_ns() + fa_mono_to_wall_offset();
	v.names = &s->names;
	memcpy(v.hook, s->hook, sizeof(v.hook));
	fa_print_flow_doc(out, &s->t, s->total, &v);
	free(order);
	return 0;
}
