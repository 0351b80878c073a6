// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Joining flow rows to what the maps beside the tables know: each map is
 * read whole once (a lookup per row would be a syscall per row) and
 * searched in memory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "internal.h"

/* Every entry of a hash map, keys and values in two arrays. */
struct map_copy {
	void *keys;
	void *vals;
	size_t n;
	size_t ksz;
	size_t vsz;
};

static int map_copy_read(int fd, size_t ksz, size_t vsz, struct map_copy *c)
{
	memset(c, 0, sizeof(*c));
	c->ksz = ksz;
	c->vsz = vsz;
	/* An LRU map changes while read: an entry may be missed or gone. */
	return fa_map_read_all(fd, ksz, vsz, &c->keys, &c->vals, &c->n);
}

/* Two indices into @ctx's keys, compared by key. */
static int cmp_idx(const void *a, const void *b, void *ctx)
{
	const struct map_copy *c = ctx;

	return memcmp((const char *)c->keys + *(const size_t *)a * c->ksz,
		      (const char *)c->keys + *(const size_t *)b * c->ksz, c->ksz);
}

/* An index of @c sorted by key, for find(). */
static size_t *map_copy_index(const struct map_copy *c)
{
	size_t *idx = malloc((c->n ? c->n : 1) * sizeof(*idx)), i;

	if (!idx)
		return NULL;
	for (i = 0; i < c->n; i++)
		idx[i] = i;
	qsort_r(idx, c->n, sizeof(*idx), cmp_idx, (void *)c);
	return idx;
}

static const void *find(const struct map_copy *c, const size_t *idx,
			const void *key)
{
	size_t lo = 0, hi = c->n, mid;
	int r;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		r = memcmp((const char *)c->keys + idx[mid] * c->ksz, key, c->ksz);
		if (!r)
			return (const char *)c->vals + idx[mid] * c->vsz;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void map_copy_free(struct map_copy *c)
{
	free(c->keys);
	free(c->vals);
}

/* The maps of one interface of the snapshot. */
struct iface_maps {
	__u32 ifindex;
	__u32 netns;
	struct map_copy owners, seq, rtt;
	size_t *owners_idx, *seq_idx, *rtt_idx;
	bool has_owners, has_seq, has_rtt;
	int tunnels_fd;		/* --decap inner's flow_tunnels, or -1 */
};

/* A TCP socket's tuple as a flow of it would have it, for the fallback. */
struct tuple_key {
	__u32 netns;
	__u8 local[16];
	__u8 remote[16];
	__u16 lport;
	__u16 rport;
};

static int open_pin(const char *dir, int pin)
{
	char path[PATH_MAX];

	fa_pin_path(path, sizeof(path), dir, fa_pin_name(pin));
	return bpf_obj_get(path);
}

/* An option's map of one interface, keyed by flow, read and indexed; none
 * pinned (an attachment from before the option) is no error. */
static int pin_copy_read(const struct fa_iface_snap *is, int pin, size_t vsz,
			 struct map_copy *c, size_t **idx)
{
	int fd = open_pin(is->dirname, pin), err;

	if (fd < 0)
		return 0;
	/* Keyed as its tables are: found by a key's first key_size bytes. */
	err = map_copy_read(fd, fa_map_key_size(fd) ?: sizeof(struct flow_key), vsz, c);
	close(fd);
	if (!err) {
		*idx = map_copy_index(c);
		if (!*idx)
			err = -ENOMEM;
	}
	return err;
}

static int iface_maps_read(const struct fa_iface_snap *is, struct iface_maps *m)
{
	int err = 0;

	memset(m, 0, sizeof(*m));
	m->ifindex = is->state.ifindex;
	m->netns = is->state.netns_ino;
	if (is->state.owners)
		err = pin_copy_read(is, FA_PIN_OWNERS, sizeof(struct flow_owner),
				    &m->owners, &m->owners_idx);
	if (!err && is->state.retrans)
		err = pin_copy_read(is, FA_PIN_TCP_SEQ, sizeof(struct flow_tcp_seq),
				    &m->seq, &m->seq_idx);
	if (!err && is->state.passive_rtt)
		err = pin_copy_read(is, FA_PIN_RTT, sizeof(struct flow_rtt),
				    &m->rtt, &m->rtt_idx);
	m->has_owners = !!m->owners_idx;
	m->has_seq = !!m->seq_idx;
	m->has_rtt = !!m->rtt_idx;
	/* Looked up row by row: it holds only the tunnelled flows. */
	m->tunnels_fd = -1;
	if (!err) {
		int fd = open_pin(is->dirname, FA_PIN_TUNNELS);

		m->tunnels_fd = fa_tunnels_fd(fd);
		if (m->tunnels_fd < 0 && fd >= 0)
			close(fd);
	}
	return err;
}

static void iface_maps_free(struct iface_maps *m)
{
	map_copy_free(&m->owners);
	map_copy_free(&m->seq);
	map_copy_free(&m->rtt);
	free(m->owners_idx);
	free(m->seq_idx);
	free(m->rtt_idx);
	if (m->tunnels_fd >= 0)
		close(m->tunnels_fd);
}

struct sock_tables {
	struct map_copy socks;		/* cookie -> flow_sock */
	size_t *socks_idx;
	struct map_copy tuples;		/* tuple_key -> cookie */
	size_t *tuples_idx;
};

static const struct flow_sock *sock_of(const struct sock_tables *st, __u64 cookie)
{
	return find(&st->socks, st->socks_idx, &cookie);
}

/*
 * A tuple may be several sockets' (closed ones stay in the LRU until
 * evicted): each of them answers with the one last updated.
 */
static void tuples_newest(struct sock_tables *st)
{
	__u64 *cookies = st->tuples.vals;
	size_t i, j, best;

	for (i = 0; i < st->tuples.n; i = j) {
		best = st->tuples_idx[i];
		for (j = i + 1; j < st->tuples.n &&
		     !memcmp((char *)st->tuples.keys + st->tuples_idx[j] * st->tuples.ksz,
			     (char *)st->tuples.keys + st->tuples_idx[i] * st->tuples.ksz,
			     st->tuples.ksz); j++) {
			const struct flow_sock *a = sock_of(st, cookies[st->tuples_idx[j]]);
			const struct flow_sock *b = sock_of(st, cookies[best]);

			if (a && (!b || a->updated_ns > b->updated_ns))
				best = st->tuples_idx[j];
		}
		for (size_t k = i; k < j; k++)
			cookies[st->tuples_idx[k]] = cookies[best];
	}
}

/*
 * How long after its close a TCP socket may still be a row's: the last
 * packets of a connection (a FIN answered in TIME_WAIT, a retransmission)
 * come within TIME_WAIT's minute of the close.
 */
#define CLOSED_SOCK_NS (60 * 1000000000ull)

/*
 * Leaves out of @c the TCP sockets closed more than CLOSED_SOCK_NS before
 * @oldest_ns (CLOCK_MONOTONIC), the last packet of the rows' least recent
 * TCP flow: no row can be theirs. The LRU keeps up to 65536 closed ones on
 * a host of short connections, and each would be sorted twice at every
 * look (a dump, a refresh of top).
 */
static void socks_drop_closed(struct map_copy *c, __u64 oldest_ns)
{
	const struct flow_sock *v = c->vals;
	size_t i, n = 0;

	for (i = 0; i < c->n; i++) {
		if (v[i].proto == IPPROTO_TCP && v[i].state == FLOW_TCP_STATE_CLOSE &&
		    v[i].updated_ns + CLOSED_SOCK_NS < oldest_ns)
			continue;
		if (n != i) {
			((__u64 *)c->keys)[n] = ((const __u64 *)c->keys)[i];
			((struct flow_sock *)c->vals)[n] = v[i];
		}
		n++;
	}
	c->n = n;
}

static int sock_tables_read(struct sock_tables *st, __u64 oldest_ns)
{
	int sfd, lfd, err;
	size_t i;

	memset(st, 0, sizeof(*st));
	err = fa_sockets_open(&sfd, &lfd);
	if (err)
		return err == -ENOENT ? 0 : err;
	err = map_copy_read(sfd, sizeof(__u64), sizeof(struct flow_sock), &st->socks);
	/* Sockets whose process is not known yet: from /proc, into the copy
	 * too. Not finding them is no error: the rows show no process. */
	if (!err)
		fa_sockets_fill_procs(sfd, lfd, st->socks.keys, st->socks.vals, st->socks.n);
	close(sfd);
	close(lfd);
	if (err)
		return err;
	socks_drop_closed(&st->socks, oldest_ns);
	st->socks_idx = map_copy_index(&st->socks);
	st->tuples.ksz = sizeof(struct tuple_key);
	st->tuples.vsz = sizeof(__u64);
	st->tuples.keys = calloc(st->socks.n + 1, sizeof(struct tuple_key));
	st->tuples.vals = calloc(st->socks.n + 1, sizeof(__u64));
	if (!st->socks_idx || !st->tuples.keys || !st->tuples.vals)
		return -ENOMEM;
	for (i = 0; i < st->socks.n; i++) {
		const struct flow_sock *s = (const struct flow_sock *)st->socks.vals + i;
		struct tuple_key *t = (struct tuple_key *)st->tuples.keys + st->tuples.n;

		if (s->proto != IPPROTO_TCP || !s->ip_version)
			continue;
		t->netns = s->netns;
		memcpy(t->local, s->laddr, 16);
		memcpy(t->remote, s->raddr, 16);
		t->lport = s->lport;
		t->rport = s->rport;
		((__u64 *)st->tuples.vals)[st->tuples.n++] =
			((const __u64 *)st->socks.keys)[i];
	}
	st->tuples_idx = map_copy_index(&st->tuples);
	if (!st->tuples_idx)
		return -ENOMEM;
	tuples_newest(st);
	return 0;
}

static void sock_tables_free(struct sock_tables *st)
{
	map_copy_free(&st->socks);
	map_copy_free(&st->tuples);
	free(st->socks_idx);
	free(st->tuples_idx);
}

/* The local socket of a TCP flow row by its addresses and ports. */
static const __u64 *tuple_cookie(const struct sock_tables *st,
				 const struct flow_key *k, __u32 netns)
{
	struct tuple_key t = { .netns = netns };
	bool out = k->direction == FLOW_DIR_EGRESS;

	memcpy(t.local, out ? k->src : k->dst, 16);
	memcpy(t.remote, out ? k->dst : k->src, 16);
	t.lport = ntohs(out ? k->sport : k->dport);
	t.rport = ntohs(out ? k->dport : k->sport);
	return find(&st->tuples, st->tuples_idx, &t);
}

static void join_row(const struct fa_row *r, const struct iface_maps *m,
		     const struct sock_tables *st, struct fa_ext *e)
{
	const struct flow_key *k = &r->key;
	const struct flow_owner *o = NULL;
	const struct flow_tcp_seq *ts;
	const struct flow_rtt *rtt;
	const struct flow_sock *s = NULL;
	const __u64 *cookie;
	struct flow_key rk;

	if (m && m->has_seq && k->proto == IPPROTO_TCP) {
		e->flags |= FA_EXT_RETRANS;
		ts = find(&m->seq, m->seq_idx, k);
		if (ts) {
			e->retrans_segs = ts->retrans_segs;
			e->retrans_bytes = ts->retrans_bytes;
		}
	}
	if (m && m->has_rtt && k->proto == IPPROTO_TCP) {
		rtt = find(&m->rtt, m->rtt_idx, k);
		if (rtt && rtt->samples) {
			e->flags |= FA_EXT_PRTT;
			e->prtt = *rtt;
		}
	}
	if (m && m->has_owners) {
		if (k->direction == FLOW_DIR_EGRESS) {
			o = find(&m->owners, m->owners_idx, k);
		} else {
			fa_key_reverse(k, &rk);
			o = find(&m->owners, m->owners_idx, &rk);
		}
	}
	if (o) {
		e->cookie = o->cookie;
		e->cgroup_id = o->cgroup_id;
	} else if (m && st->tuples_idx && k->proto == IPPROTO_TCP &&
		   (cookie = tuple_cookie(st, k, m->netns))) {
		e->cookie = *cookie;
	}
	if (e->cookie && st->socks_idx)
		s = sock_of(st, e->cookie);
	if (s) {
		e->flags |= FA_EXT_SOCK;
		e->sock = *s;
		if (!e->cgroup_id)
			e->cgroup_id = s->cgroup_id;
	}
}

/* Fills in what the flow's cgroup id says, the path from @cg. */
static void ext_cgroup(struct fa_cgroups *cg, struct fa_ext *e, bool rescan)
{
	if (!e->cgroup_id || !cg)
		return;
	e->cgroup_path = fa_cgroup_path(cg, e->cgroup_id, rescan);
	if (e->cgroup_path)
		e->container = fa_cgroup_container(cg, e->cgroup_id);
}

void fa_enrich_key(const int *fd, const struct fa_attach_state *st, int socks_fd,
		   const struct flow_key *k, struct fa_ext *e, struct fa_cgroups *cg)
{
	struct flow_tcp_seq ts;
	struct flow_owner o;
	struct flow_key rk;

	memset(e, 0, sizeof(*e));
	if (!k->ip_version)
		return;
	fa_tunnel_join(fd[FA_PIN_TUNNELS], k, e);
	if (st->retrans && k->proto == IPPROTO_TCP && fd[FA_PIN_TCP_SEQ] >= 0) {
		e->flags |= FA_EXT_RETRANS;
		if (!bpf_map_lookup_elem(fd[FA_PIN_TCP_SEQ], k, &ts)) {
			e->retrans_segs = ts.retrans_segs;
			e->retrans_bytes = ts.retrans_bytes;
		}
	}
	if (st->passive_rtt && k->proto == IPPROTO_TCP && fd[FA_PIN_RTT] >= 0 &&
	    !bpf_map_lookup_elem(fd[FA_PIN_RTT], k, &e->prtt) && e->prtt.samples)
		e->flags |= FA_EXT_PRTT;
	if (st->owners && fd[FA_PIN_OWNERS] >= 0) {
		if (k->direction == FLOW_DIR_EGRESS)
			rk = *k;
		else
			fa_key_reverse(k, &rk);
		if (!bpf_map_lookup_elem(fd[FA_PIN_OWNERS], &rk, &o)) {
			e->cookie = o.cookie;
			e->cgroup_id = o.cgroup_id;
		}
	}
	if (e->cookie && socks_fd >= 0 &&
	    !bpf_map_lookup_elem(socks_fd, &e->cookie, &e->sock)) {
		e->flags |= FA_EXT_SOCK;
		if (!e->cgroup_id)
			e->cgroup_id = e->sock.cgroup_id;
	}
	ext_cgroup(cg, e, true);
}

void fa_records_join_open(struct fa_records_join *j, const struct fa_stream *s)
{
	const struct fa_attach_state *st = &s->p.state;

	memset(j, 0, sizeof(*j));
	j->s = s;
	j->joined = st->owners || st->retrans || st->passive_rtt;
	j->socks_fd = j->listeners_fd = -1;
	if (j->joined)
		fa_sockets_open(&j->socks_fd, &j->listeners_fd);
}

void fa_records_join_key(struct fa_records_join *j, const struct flow_key *k, struct fa_ext *x)
{
	const int *fd = j->s->p.fd;

	if (j->joined) {
		fa_enrich_key(fd, &j->s->p.state, j->socks_fd, k, x, &j->cg);
		return;
	}
	memset(x, 0, sizeof(*x));
	fa_tunnel_join(fd[FA_PIN_TUNNELS], k, x);
}

void fa_records_join_close(struct fa_records_join *j)
{
	if (j->socks_fd >= 0)
		close(j->socks_fd);
	if (j->listeners_fd >= 0)
		close(j->listeners_fd);
	fa_cgroups_free(&j->cg);
}

void fa_enrich_forget(const int *fd, const struct flow_key *k)
{
	if (fd[FA_PIN_TCP_SEQ] >= 0)
		bpf_map_delete_elem(fd[FA_PIN_TCP_SEQ], k);
	if (fd[FA_PIN_RTT] >= 0)
		bpf_map_delete_elem(fd[FA_PIN_RTT], k);
	if (fd[FA_PIN_OWNERS] >= 0 && k->direction == FLOW_DIR_EGRESS)
		bpf_map_delete_elem(fd[FA_PIN_OWNERS], k);
}

const struct fa_ext *fa_row_ext(const struct fa_table *t, const struct fa_row *r)
{
	return t->ext && r->ext ? &t->ext[r->ext - 1] : NULL;
}

/*
 * Rows of flows forwarded from a container's interface (the same tuple on
 * an uplink, without a socket): the container of the interface the tuple
 * was seen on, as a daemon's records have it.
 */
static int join_forwarded(struct fa_snapshot *s)
{
	struct fa_cgroups *cg = s->t.cgroups;
	const struct fa_container *c;
	struct fa_fwd_join *j;
	struct fa_ext *e;
	size_t i;
	__u32 via;

	j = fa_fwd_join_new(s->t.n);
	if (!j)
		return -ENOMEM;
	for (i = 0; i < s->t.n; i++) {
		const struct fa_row *r = &s->t.rows[i];

		if (r->kind == FA_ROW_FLOW && fa_cgroups_iface(cg, r->key.ifindex)) {
			fa_fwd_join_note(j, &r->key, r->key.ifindex, 0);
			fa_fwd_join_note_nat(j, &r->key, r->key.ifindex, 0);
		}
	}
	for (i = 0; i < s->t.n; i++) {
		struct fa_row *r = &s->t.rows[i];

		e = r->ext ? &s->t.ext[r->ext - 1] : NULL;
		if (r->kind != FA_ROW_FLOW || (e && e->container))
			continue;
		via = fa_fwd_join_find(j, &r->key, 0, 0);
		if (!via || via == r->key.ifindex || !(c = fa_cgroups_iface(cg, via)))
			continue;
		if (!e) {
			/* A row skipped above may have left its join here. */
			e = &s->t.ext[s->t.next];
			memset(e, 0, sizeof(*e));
			r->ext = ++s->t.next;
		}
		e->container = c;
	}
	fa_fwd_join_free(j);
	return 0;
}

int fa_enrich(struct fa_snapshot *s)
{
	struct iface_maps *maps;
	struct sock_tables st;
	__u64 oldest_tcp = ~0ull, wall_off;
	bool any = false, rescanned = false;
	size_t n = 0;
	__u32 *ifindex;
	size_t i, j;
	int err;

	maps = calloc(s->nifs + 1, sizeof(*maps));
	ifindex = calloc(s->nifs + 1, sizeof(*ifindex));
	/* Freed all, read or not: none holds an fd until its read opens one. */
	for (i = 0; maps && i <= s->nifs; i++)
		maps[i].tunnels_fd = -1;
	/* The exts' cgroup paths and containers are the table's, as long as
	 * it is. */
	if (!s->t.cgroups)
		s->t.cgroups = calloc(1, sizeof(*s->t.cgroups));
	if (!maps || !ifindex || !s->t.cgroups) {
		free(maps);
		free(ifindex);
		return -ENOMEM;
	}
	for (i = 0; i < s->t.n; i++)
		if (s->t.rows[i].kind == FA_ROW_FLOW && s->t.rows[i].key.proto == IPPROTO_TCP &&
		    s->t.rows[i].val.last_seen_ns < oldest_tcp)
			oldest_tcp = s->t.rows[i].val.last_seen_ns;
	/* A snapshot's times are the wall clock's (fa_table_shift_times), the
	 * sockets' CLOCK_MONOTONIC; one below the offset (none) leaves every
	 * socket in. */
	wall_off = fa_mono_to_wall_offset();
	oldest_tcp = oldest_tcp > wall_off ? oldest_tcp - wall_off : 0;
	err = sock_tables_read(&st, oldest_tcp);
	any = st.socks.n > 0;
	for (i = 0; i < s->nifs && !err; i++) {
		err = iface_maps_read(&s->ifs[i], &maps[i]);
		any |= maps[i].has_owners || maps[i].has_seq || maps[i].has_rtt ||
		       maps[i].tunnels_fd >= 0;
		/* Another namespace's interfaces: its indices are not ours. */
		if (fa_state_netns_self(&s->ifs[i].state))
			ifindex[n++] = s->ifs[i].state.ifindex;
	}
	/* A veth's host end: its rows are its peer's container's. A failed
	 * look (no /proc, no rtnetlink) names none, as for a plain NIC. */
	if (!err && n && !fa_cgroups_ifaces(s->t.cgroups, ifindex, n, NULL))
		any |= s->t.cgroups->nifs > 0;
	if (!err && any) {
		s->t.ext = calloc(s->t.n + 1, sizeof(*s->t.ext));
		if (!s->t.ext)
			err = -ENOMEM;
	}
	for (i = 0; !err && any && i < s->t.n; i++) {
		struct fa_row *r = &s->t.rows[i];
		const struct iface_maps *m = NULL;
		struct fa_ext *e = &s->t.ext[s->t.next];

		if (r->kind != FA_ROW_FLOW)
			continue;
		for (j = 0; j < s->nifs; j++)
			if (maps[j].ifindex == r->key.ifindex)
				m = &maps[j];
		join_row(r, m, &st, e);
		if (m)
			fa_tunnel_join(m->tunnels_fd, &r->key, e);
		ext_cgroup(s->t.cgroups, e, !rescanned);
		rescanned |= e->cgroup_id && !e->cgroup_path;
		if (!e->container)
			e->container = fa_cgroups_iface(s->t.cgroups, r->key.ifindex);
		if (!e->flags && !e->cookie && !e->container)
			continue;
		r->ext = ++s->t.next;
	}
	if (!err && any && s->t.cgroups->nifs)
		err = join_forwarded(s);
	for (i = 0; i < s->nifs; i++)
		iface_maps_free(&maps[i]);
	free(maps);
	free(ifindex);
	sock_tables_free(&st);
	return err;
}
