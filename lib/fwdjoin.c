// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Forwarded flows joined to the interface they were seen on first: a
 * container's traffic routed from its veth to an uplink has no socket on
 * the uplink, but the same five-tuple on both. Each tuple seen on a
 * container's interface is noted with that interface; a row of the same
 * tuple elsewhere, without a container of its own, takes that interface's.
 * An open-addressing table of tuples (no interface, no direction: the
 * request is ingress on the veth and egress on the uplink, the reply the
 * other way), each kept for a window after it was last noted.
 *
 * Where the host rewrites a flow (masquerade, SNAT, DNAT), the uplink sees
 * another tuple: conntrack knows the pair. A TCP or UDP tuple noted is
 * looked up there (libnetfilter_conntrack, in this namespace), and the
 * reply tuple, as it comes in and reversed as it goes out, is noted with
 * it. ICMP is not: flowacct's key has no echo id, so a NATed ping's
 * tuple is the host's own pings' too.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include "internal.h"

/* A tuple as the table keys it: a flow key with no interface, no direction. */
static void tuple_of(const struct flow_key *k, struct flow_key *t)
{
	*t = *k;
	t->ifindex = 0;
	t->direction = 0;
	t->tunnel = 0;
	t->tunnel_tag = 0;
}

struct fwd_entry {
	struct flow_key t;		/* tuple_of() */
	__u32 ifindex;			/* 0: empty */
	__u64 noted_ns;
};

struct fa_fwd_join {
	struct fwd_entry *v;
	size_t cap, n;			/* cap: a power of two */
	size_t max;			/* past it, nothing new is noted */
	struct nfct_handle *ct;		/* NULL: no conntrack here */
	struct nf_conntrack *got;	/* the entry a lookup found */
	bool found;
};

/* Tuple @t's slot in @v: its entry, or the empty one it would take. */
static struct fwd_entry *slot(struct fwd_entry *v, size_t cap, const struct flow_key *t)
{
	size_t i = fa_fnv1a(FA_FNV1A_BASIS, t, sizeof(*t)) & (cap - 1);

	while (v[i].ifindex && memcmp(&v[i].t, t, sizeof(*t)))
		i = (i + 1) & (cap - 1);
	return &v[i];
}

struct fa_fwd_join *fa_fwd_join_new(size_t max)
{
	struct fa_fwd_join *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->cap = 1024;
	j->max = max;
	j->v = calloc(j->cap, sizeof(*j->v));
	if (!j->v) {
		free(j);
		return NULL;
	}
	return j;
}

static int on_conntrack(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data)
{
	struct fa_fwd_join *j = data;

	(void)type;
	nfct_copy(j->got, ct, NFCT_CP_OVERRIDE);
	j->found = true;
	return NFCT_CB_CONTINUE;
}

/* Conntrack, once: without nf_conntrack_netlink (or privileges), no NAT join. */
static bool conntrack_open(struct fa_fwd_join *j)
{
	if (j->ct)
		return true;
	j->ct = nfct_open(CONNTRACK, 0);
	if (!j->ct)
		return false;
	j->got = nfct_new();
	if (!j->got || nfct_callback_register(j->ct, NFCT_T_ALL, on_conntrack, j)) {
		nfct_close(j->ct);
		j->ct = NULL;
		return false;
	}
	return true;
}

void fa_fwd_join_free(struct fa_fwd_join *j)
{
	if (!j)
		return;
	if (j->ct)
		nfct_close(j->ct);
	if (j->got)
		nfct_destroy(j->got);
	free(j->v);
	free(j);
}

/* Into a table of @cap, the entries noted within @window of @now. */
static int rebuild(struct fa_fwd_join *j, size_t cap, __u64 now, __u64 window)
{
	struct fwd_entry *v = calloc(cap, sizeof(*v)), *e;
	size_t i, n = 0;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < j->cap; i++) {
		e = &j->v[i];
		if (!e->ifindex || now - e->noted_ns > window)
			continue;
		*slot(v, cap, &e->t) = *e;
		n++;
	}
	free(j->v);
	j->v = v;
	j->cap = cap;
	j->n = n;
	return 0;
}

void fa_fwd_join_sweep(struct fa_fwd_join *j, __u64 now, __u64 window)
{
	size_t cap = j->cap;

	/* Half as large when a quarter full at most: it shrinks after a burst. */
	while (cap > 1024 && j->n * 4 <= cap / 2)
		cap /= 2;
	rebuild(j, cap, now, window);
}

/*
 * Whether a router may forward it: not an address of the link alone
 * (unspecified, link-local, multicast, broadcast). Those tuples are every
 * link's (an MLD report from :: to ff02::16 is the same on all of them)
 * and must not join one interface's rows to another's.
 */
static bool routable(const struct flow_key *k)
{
	const __u8 *a[2] = { k->src, k->dst };
	static const __u8 zero[16];
	int i;

	for (i = 0; i < 2; i++) {
		if (k->ip_version == 4) {
			const __u8 *v4 = a[i] + 12;

			if (!v4[0] || (v4[0] & 0xf0) == 0xe0 || (v4[0] == 169 && v4[1] == 254) ||
			    (v4[0] == 255 && v4[1] == 255 && v4[2] == 255 && v4[3] == 255))
				return false;
		} else if (!memcmp(a[i], zero, 16) || a[i][0] == 0xff ||
			   (a[i][0] == 0xfe && (a[i][1] & 0xc0) == 0x80)) {
			return false;
		}
	}
	return true;
}

void fa_fwd_join_note(struct fa_fwd_join *j, const struct flow_key *k, __u32 ifindex, __u64 now)
{
	struct flow_key t;
	struct fwd_entry *e;

	if (!k->ip_version || !ifindex || !routable(k))
		return;
	tuple_of(k, &t);
	/* Half full at most; at its largest, a new tuple waits for room. */
	if ((j->n + 1) * 2 > j->cap && (j->cap >= 2 * j->max || rebuild(j, j->cap * 2, now, ~0ull)) &&
	    !slot(j->v, j->cap, &t)->ifindex)
		return;
	e = slot(j->v, j->cap, &t);
	if (!e->ifindex) {
		e->t = t;
		j->n++;
	}
	e->ifindex = ifindex;
	e->noted_ns = now;
}

__u32 fa_fwd_join_find(const struct fa_fwd_join *j, const struct flow_key *k, __u64 now,
		       __u64 window)
{
	const struct fwd_entry *e;
	struct flow_key t;

	if (!k->ip_version || !routable(k))
		return 0;
	tuple_of(k, &t);
	e = slot(j->v, j->cap, &t);
	return e->ifindex && now - e->noted_ns <= window ? e->ifindex : 0;
}

/* The conntrack entry that has @k as one of its two tuples, into j->got. */
static bool conntrack_get(struct fa_fwd_join *j, const struct flow_key *k)
{
	struct nf_conntrack *q = nfct_new();
	__u32 a;

	if (!q)
		return false;
	if (k->ip_version == 4) {
		nfct_set_attr_u8(q, ATTR_L3PROTO, AF_INET);
		memcpy(&a, k->src + 12, 4);
		nfct_set_attr_u32(q, ATTR_IPV4_SRC, a);
		memcpy(&a, k->dst + 12, 4);
		nfct_set_attr_u32(q, ATTR_IPV4_DST, a);
	} else {
		nfct_set_attr_u8(q, ATTR_L3PROTO, AF_INET6);
		nfct_set_attr(q, ATTR_IPV6_SRC, k->src);
		nfct_set_attr(q, ATTR_IPV6_DST, k->dst);
	}
	nfct_set_attr_u8(q, ATTR_L4PROTO, k->proto);
	nfct_set_attr_u16(q, ATTR_PORT_SRC, k->sport);
	nfct_set_attr_u16(q, ATTR_PORT_DST, k->dport);
	j->found = false;
	nfct_query(j->ct, NFCT_Q_GET, q);
	nfct_destroy(q);
	return j->found;
}

/* One of the entry's tuples (@orig: the original direction's) as a key. */
static void conntrack_tuple(const struct nf_conntrack *ct, bool orig, const struct flow_key *like,
			    struct flow_key *out)
{
	__u32 a;

	*out = *like;
	if (like->ip_version == 4) {
		a = nfct_get_attr_u32(ct, orig ? ATTR_ORIG_IPV4_SRC : ATTR_REPL_IPV4_SRC);
		memcpy(out->src + 12, &a, 4);
		a = nfct_get_attr_u32(ct, orig ? ATTR_ORIG_IPV4_DST : ATTR_REPL_IPV4_DST);
		memcpy(out->dst + 12, &a, 4);
	} else {
		memcpy(out->src, nfct_get_attr(ct, orig ? ATTR_ORIG_IPV6_SRC : ATTR_REPL_IPV6_SRC), 16);
		memcpy(out->dst, nfct_get_attr(ct, orig ? ATTR_ORIG_IPV6_DST : ATTR_REPL_IPV6_DST), 16);
	}
	out->sport = nfct_get_attr_u16(ct, orig ? ATTR_ORIG_PORT_SRC : ATTR_REPL_PORT_SRC);
	out->dport = nfct_get_attr_u16(ct, orig ? ATTR_ORIG_PORT_DST : ATTR_REPL_PORT_DST);
}

static bool same_key(const struct flow_key *a, const struct flow_key *b)
{
	return a->sport == b->sport && a->dport == b->dport && !memcmp(a->src, b->src, 16) &&
	       !memcmp(a->dst, b->dst, 16);
}

int fa_fwd_join_note_nat(struct fa_fwd_join *j, const struct flow_key *k, __u32 ifindex, __u64 now)
{
	struct flow_key rk, tuples[4];
	int noted = 0, i;

	if ((k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP) || !conntrack_open(j))
		return 0;
	/* The row's tuple is the original's, or the original's reversed (the
	 * veth's egress of a connection the container opened). */
	fa_key_reverse(k, &rk);
	if (!conntrack_get(j, k) && !conntrack_get(j, &rk))
		return 0;
	/* The connection's four tuples: each way, on each side of the rewrite. */
	conntrack_tuple(j->got, true, k, &tuples[0]);
	fa_key_reverse(&tuples[0], &tuples[1]);
	conntrack_tuple(j->got, false, k, &tuples[2]);
	fa_key_reverse(&tuples[2], &tuples[3]);
	if (same_key(&tuples[1], &tuples[2]))
		return 0;	/* not rewritten: the row's own tuples */
	for (i = 0; i < 4; i++) {
		if (same_key(&tuples[i], k) || same_key(&tuples[i], &rk))
			continue;
		fa_fwd_join_note(j, &tuples[i], ifindex, now);
		noted++;
	}
	return noted;
}
