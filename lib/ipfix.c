// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * IPFIX export (RFC 7011) over UDP, to one or more collectors.
 *
 * Two observation domains. Flow records go in the flow domain, whose
 * sequence numbers then count exactly the flow records: RFC 7011 counts
 * every Data Record, Options Data Records too, and Wireshark checks so, but
 * nfdump's collector counts only flow records and reports a sequence failure
 * for every Options Data Record in a domain. The options records (interface
 * names, the sampling state, the exporter's totals) go in a second domain,
 * the flow domain with its top bit set, and name the flow domain in their
 * scope (observationDomainId). Every collector then sees sequence numbers
 * that are right by the RFC and by nfdump.
 *
 * A collector's sequence numbers, and how far each interface's record
 * stream was sent, live in a small file under /run/flowacct that is a
 * shared mapping: written before each message goes out, so that a daemon
 * killed at any point and restarted continues the numbering, and a tick it
 * finishes again after a restart (see stream.c) sends none of its records
 * twice. The cost of that order: a kill between the write and the send
 * loses that one message, which the collector sees as a sequence gap, as
 * it would see a datagram lost on the way.
 *
 * Sending never blocks and never fails the caller: a message the socket
 * refuses (collector down: ECONNREFUSED on the connected socket; buffer
 * full: EAGAIN) is counted, with its records, as not sent, and templates go
 * again before the next data, since the collector may have restarted.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdlib.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "ipfix.h"
#include "internal.h"

#define STATE_MAGIC	0x46414958	/* "FAIX" */
#define STATE_VERSION	1
#define STATE_SLOTS	256		/* interfaces whose batches are tracked */
#define HEADER_LEN	((size_t)sizeof(struct ipfix_msg_header))
#define SET_LEN		((size_t)sizeof(struct ipfix_set_header))

/* ---- the persisted state of one collector ---------------------------------- */

/*
 * The batch of records (one interface, one tick) last being sent, and how
 * many of its messages went out. A batch given again whole (a restart that
 * finishes a committed tick) is packed into the same messages, so the ones
 * already sent are skipped.
 */
struct state_batch {
	__u64 instance;		/* the record stream's; 0: a free slot */
	__u64 first_seq;
	__u64 nrecs;
	__u64 sent_msgs;
};

struct ipfix_state {
	__u32 magic;
	__u32 version;
	__u32 domain;
	__u32 max_message;	/* packing depends on it */
	__u32 flow_seq;		/* flow records sent, modulo 2^32 */
	__u32 options_seq;	/* options records sent */
	__u32 pen;		/* --ipfix-pen: packing depends on it (0 before it was kept) */
	__u32 pad;
	struct state_batch batch[STATE_SLOTS];
};

/* ---- templates --------------------------------------------------------------- */

enum {
	T_V4_IN = 256, T_V4_OUT, T_V4_ICMP_IN, T_V4_ICMP_OUT,
	T_V6_IN, T_V6_OUT, T_V6_ICMP_IN, T_V6_ICMP_OUT,
	T_OVERFLOW_IN, T_OVERFLOW_OUT,
	T_OPT_IFACE, T_OPT_SAMPLING, T_OPT_TOTALS,
	/* Flows with drops: the same and the drops (after the options, so
	 * that the ids collectors knew before stay). */
	T_V4_IN_D, T_V4_OUT_D, T_V4_ICMP_IN_D, T_V4_ICMP_OUT_D,
	T_V6_IN_D, T_V6_OUT_D, T_V6_ICMP_IN_D, T_V6_ICMP_OUT_D,
	/* Flows out of a tunnel (--decap inner): with drops, and the segment. */
	T_V4_IN_T, T_V4_OUT_T, T_V4_ICMP_IN_T, T_V4_ICMP_OUT_T,
	T_V6_IN_T, T_V6_OUT_T, T_V6_ICMP_IN_T, T_V6_ICMP_OUT_T,
	/* The same with --ipfix-pen: and the tunnel in flowacct's elements. */
	T_V4_IN_E, T_V4_OUT_E, T_V4_ICMP_IN_E, T_V4_ICMP_OUT_E,
	T_V6_IN_E, T_V6_OUT_E, T_V6_ICMP_IN_E, T_V6_ICMP_OUT_E,
	T_END
};

#define NR_PLAIN_TEMPLATES	(T_OVERFLOW_OUT + 1 - T_V4_IN)
#define NR_DATA_TEMPLATES	(NR_PLAIN_TEMPLATES + T_END - T_V4_IN_D)
#define MAX_FIELDS		24

/* ie: IANA's number, or with IPFIX_ENTERPRISE_BIT one of flowacct's
 * (written with the enterprise number of --ipfix-pen). */
struct field {
	__u16 ie;
	__u16 len;
};

struct template {
	__u16 id;
	__u16 scopes;		/* options templates: scope fields first */
	__u16 nfields;
	struct field f[MAX_FIELDS];
};

#define F(ie, len) { IPFIX_IE_##ie, len }

/* What a flow record carries beyond its addresses: the same for all. */
#define FLOW_TAIL(iface)						\
	F(SOURCE_TRANSPORT_PORT, 2), F(DESTINATION_TRANSPORT_PORT, 2),	\
	F(PROTOCOL_IDENTIFIER, 1), F(IP_VERSION, 1),			\
	F(TCP_CONTROL_BITS, 2), F(FLOW_DIRECTION, 1), F(iface, 4),	\
	F(OCTET_DELTA_COUNT, 8), F(PACKET_DELTA_COUNT, 8),		\
	F(FLOW_START_MILLISECONDS, 8), F(FLOW_END_MILLISECONDS, 8),	\
	F(FLOW_END_REASON, 1)

/* RFC 7270's forwardingStatus in one byte (reduced-size encoding). */
#define DROPS	F(DROPPED_OCTET_DELTA_COUNT, 8), F(DROPPED_PACKET_DELTA_COUNT, 8), \
		F(FORWARDING_STATUS, 1)

/* The tunnel a flow came out of: VXLAN's VNI as IANA encodes it, else 0. */
#define TUNNEL	DROPS, F(LAYER2_SEGMENT_ID, 8)

/* And all of it, in flowacct's elements. */
#define E(ie, len) { IPFIX_ENTERPRISE_BIT | FA_IPFIX_IE_##ie, len }
#define TUNNEL_E TUNNEL, E(TUNNEL_TYPE, 1), E(TUNNEL_ID, 8), E(TUNNEL_SOURCE, 16), \
		 E(TUNNEL_DESTINATION, 16)

#define V4	F(SOURCE_IPV4_ADDRESS, 4), F(DESTINATION_IPV4_ADDRESS, 4)
#define V6	F(SOURCE_IPV6_ADDRESS, 16), F(DESTINATION_IPV6_ADDRESS, 16)
#define T(id, scopes, ...)						\
	{ id, scopes, ARRAY_SIZE(((struct field[]){ __VA_ARGS__ })), { __VA_ARGS__ } }

/* The eight flow templates from @base, in the order of 256 to 263, each
 * with the fields after the flow's. */
#define FLOW_TEMPLATES(base, ...)						\
	T(base, 0, V4, FLOW_TAIL(INGRESS_INTERFACE), __VA_ARGS__),		\
	T(base + 1, 0, V4, FLOW_TAIL(EGRESS_INTERFACE), __VA_ARGS__),		\
	T(base + 2, 0, V4, FLOW_TAIL(INGRESS_INTERFACE), F(ICMP_TYPE_CODE_IPV4, 2),	\
	  __VA_ARGS__),								\
	T(base + 3, 0, V4, FLOW_TAIL(EGRESS_INTERFACE), F(ICMP_TYPE_CODE_IPV4, 2),	\
	  __VA_ARGS__),								\
	T(base + 4, 0, V6, FLOW_TAIL(INGRESS_INTERFACE), __VA_ARGS__),		\
	T(base + 5, 0, V6, FLOW_TAIL(EGRESS_INTERFACE), __VA_ARGS__),		\
	T(base + 6, 0, V6, FLOW_TAIL(INGRESS_INTERFACE), F(ICMP_TYPE_CODE_IPV6, 2),	\
	  __VA_ARGS__),								\
	T(base + 7, 0, V6, FLOW_TAIL(EGRESS_INTERFACE), F(ICMP_TYPE_CODE_IPV6, 2),	\
	  __VA_ARGS__)

static const struct template templates[] = {
	T(T_V4_IN, 0, V4, FLOW_TAIL(INGRESS_INTERFACE)),
	T(T_V4_OUT, 0, V4, FLOW_TAIL(EGRESS_INTERFACE)),
	T(T_V4_ICMP_IN, 0, V4, FLOW_TAIL(INGRESS_INTERFACE), F(ICMP_TYPE_CODE_IPV4, 2)),
	T(T_V4_ICMP_OUT, 0, V4, FLOW_TAIL(EGRESS_INTERFACE), F(ICMP_TYPE_CODE_IPV4, 2)),
	T(T_V6_IN, 0, V6, FLOW_TAIL(INGRESS_INTERFACE)),
	T(T_V6_OUT, 0, V6, FLOW_TAIL(EGRESS_INTERFACE)),
	T(T_V6_ICMP_IN, 0, V6, FLOW_TAIL(INGRESS_INTERFACE), F(ICMP_TYPE_CODE_IPV6, 2)),
	T(T_V6_ICMP_OUT, 0, V6, FLOW_TAIL(EGRESS_INTERFACE), F(ICMP_TYPE_CODE_IPV6, 2)),
	/* Traffic counted while the table was full: no 5-tuple to give. */
	T(T_OVERFLOW_IN, 0, F(FLOW_DIRECTION, 1), F(INGRESS_INTERFACE, 4),
	  F(OCTET_DELTA_COUNT, 8), F(PACKET_DELTA_COUNT, 8),
	  F(FLOW_START_MILLISECONDS, 8), F(FLOW_END_MILLISECONDS, 8),
	  F(FLOW_END_REASON, 1)),
	T(T_OVERFLOW_OUT, 0, F(FLOW_DIRECTION, 1), F(EGRESS_INTERFACE, 4),
	  F(OCTET_DELTA_COUNT, 8), F(PACKET_DELTA_COUNT, 8),
	  F(FLOW_START_MILLISECONDS, 8), F(FLOW_END_MILLISECONDS, 8),
	  F(FLOW_END_REASON, 1)),
	/* Options, in the options domain, about the flow domain. */
	T(T_OPT_IFACE, 2, F(OBSERVATION_DOMAIN_ID, 4), F(INGRESS_INTERFACE, 4),
	  F(IF_NAME, IPFIX_VARLEN)),
	T(T_OPT_SAMPLING, 1, F(OBSERVATION_DOMAIN_ID, 4),
	  F(SAMPLING_PACKET_INTERVAL, 4), F(SAMPLING_PACKET_SPACE, 4),
	  F(FLOW_ACTIVE_TIMEOUT, 2), F(FLOW_IDLE_TIMEOUT, 2)),
	T(T_OPT_TOTALS, 1, F(OBSERVATION_DOMAIN_ID, 4),
	  F(IGNORED_PACKET_TOTAL_COUNT, 8), F(NOT_SENT_FLOW_TOTAL_COUNT, 8),
	  F(EXPORTED_FLOW_RECORD_TOTAL_COUNT, 8),
	  F(EXPORTED_MESSAGE_TOTAL_COUNT, 8), F(EXPORTED_OCTET_TOTAL_COUNT, 8)),
	FLOW_TEMPLATES(T_V4_IN_D, DROPS),
	FLOW_TEMPLATES(T_V4_IN_T, TUNNEL),
	FLOW_TEMPLATES(T_V4_IN_E, TUNNEL_E),
};

_Static_assert(ARRAY_SIZE(templates) == T_END - T_V4_IN, "a template per id");

static const struct template *template_of(__u16 id)
{
	return &templates[id - T_V4_IN];
}

/* A data template's place among them: the plain ones, then those with
 * drops and those out of a tunnel (which follow them). */
static int data_index(__u16 id)
{
	return id < T_OPT_IFACE ? id - T_V4_IN : NR_PLAIN_TEMPLATES + id - T_V4_IN_D;
}

static __u16 data_id(int i)
{
	return i < NR_PLAIN_TEMPLATES ? T_V4_IN + i : T_V4_IN_D + i - NR_PLAIN_TEMPLATES;
}

static size_t template_record_len(const struct template *t)
{
	size_t n = (t->scopes ? sizeof(struct ipfix_options_template_header) :
				sizeof(struct ipfix_template_header)) +
		   t->nfields * sizeof(struct ipfix_field_spec);
	int i;

	for (i = 0; i < t->nfields; i++)
		if (t->f[i].ie & IPFIX_ENTERPRISE_BIT)
			n += 4;		/* its enterprise number */
	return n;
}

/* The data templates a collector is sent: flowacct's elements only with
 * an enterprise number to put them under. */
static int nr_data_templates(const struct fa_ipfix *x)
{
	return x->cfg.pen ? NR_DATA_TEMPLATES : NR_DATA_TEMPLATES - (T_END - T_V4_IN_E);
}

/* A fixed-length template's data record length. */
static size_t data_len(const struct template *t)
{
	size_t n = 0;
	int i;

	for (i = 0; i < t->nfields; i++)
		n += t->f[i].len;
	return n;
}

static __u16 template_for(const struct fa_record *r, __u32 pen)
{
	const struct flow_key *k = &r->key;
	__u16 out = k->direction == FLOW_DIR_EGRESS;
	__u16 d = k->tunnel ? (pen ? T_V4_IN_E : T_V4_IN_T) - T_V4_IN :
		  r->drops.packets ? T_V4_IN_D - T_V4_IN : 0;

	if (!k->ip_version)
		return T_OVERFLOW_IN + out;
	if (k->ip_version == 4)
		return (k->proto == IPPROTO_ICMP ? T_V4_ICMP_IN : T_V4_IN) + out + d;
	return (k->proto == IPPROTO_ICMPV6 ? T_V6_ICMP_IN : T_V6_IN) + out + d;
}

/* ---- writing ------------------------------------------------------------------ */

static __u8 *put16(__u8 *p, __u16 v)
{
	v = htons(v);
	memcpy(p, &v, 2);
	return p + 2;
}

static __u8 *put32(__u8 *p, __u32 v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
	return p + 4;
}

static __u8 *put64(__u8 *p, __u64 v)
{
	p = put32(p, v >> 32);
	return put32(p, (__u32)v);
}

/*
 * layer2SegmentId: IANA's registry names a segment type for VXLAN (and
 * NVGRE) only: Geneve's VNI, a GRE key or a label would be passed off as
 * one, and are 0.
 */
static __u64 segment_of(const struct flow_tunnel *t)
{
	return t && t->type == FLOW_TUN_VXLAN && t->has_id ? IPFIX_L2SEG_VXLAN | t->id : 0;
}

static __u8 *put_field(__u8 *p, const struct field *f, const struct fa_record *r,
		       const struct flow_tunnel *tun, __u64 wall_off)
{
	const struct flow_key *k = &r->key;

	switch (f->ie) {
	/* In network order already; IPv4 in the last 4 bytes of the 16. */
	case IPFIX_IE_SOURCE_IPV4_ADDRESS:
		memcpy(p, k->src + 12, 4);
		return p + 4;
	case IPFIX_IE_DESTINATION_IPV4_ADDRESS:
		memcpy(p, k->dst + 12, 4);
		return p + 4;
	case IPFIX_IE_SOURCE_IPV6_ADDRESS:
		memcpy(p, k->src, 16);
		return p + 16;
	case IPFIX_IE_DESTINATION_IPV6_ADDRESS:
		memcpy(p, k->dst, 16);
		return p + 16;
	case IPFIX_IE_SOURCE_TRANSPORT_PORT:
		memcpy(p, &k->sport, 2);
		return p + 2;
	case IPFIX_IE_DESTINATION_TRANSPORT_PORT:
	case IPFIX_IE_ICMP_TYPE_CODE_IPV4:
	case IPFIX_IE_ICMP_TYPE_CODE_IPV6:
		/* ICMP rows hold type << 8 | code in the destination port */
		memcpy(p, &k->dport, 2);
		return p + 2;
	case IPFIX_IE_PROTOCOL_IDENTIFIER:
		*p = k->proto;
		return p + 1;
	case IPFIX_IE_IP_VERSION:
		*p = k->ip_version;
		return p + 1;
	case IPFIX_IE_TCP_CONTROL_BITS:
		return put16(p, r->tcp_flags & 0xfff);
	case IPFIX_IE_FLOW_DIRECTION:
		*p = k->direction == FLOW_DIR_EGRESS;	/* 0 ingress, 1 egress */
		return p + 1;
	case IPFIX_IE_INGRESS_INTERFACE:
	case IPFIX_IE_EGRESS_INTERFACE:
		return put32(p, k->ifindex);
	case IPFIX_IE_OCTET_DELTA_COUNT:
		return put64(p, r->bytes);
	case IPFIX_IE_PACKET_DELTA_COUNT:
		return put64(p, r->packets);
	case IPFIX_IE_FLOW_START_MILLISECONDS:
		return put64(p, (r->first_seen_ns + wall_off) / 1000000);
	case IPFIX_IE_FLOW_END_MILLISECONDS:
		return put64(p, (r->last_seen_ns + wall_off) / 1000000);
	case IPFIX_IE_FLOW_END_REASON:
		*p = r->end_reason;
		return p + 1;
	case IPFIX_IE_DROPPED_OCTET_DELTA_COUNT:
		return put64(p, r->drops.bytes);
	case IPFIX_IE_DROPPED_PACKET_DELTA_COUNT:
		return put64(p, r->drops.packets);
	case IPFIX_IE_FORWARDING_STATUS:
		*p = fa_drops_forwarding_status(&r->drops, r->packets);
		return p + 1;
	case IPFIX_IE_LAYER2_SEGMENT_ID:
		return put64(p, segment_of(tun));
	/* The key's type: a flow whose tunnel is not noted has no id and
	 * addresses (::). */
	case IPFIX_ENTERPRISE_BIT | FA_IPFIX_IE_TUNNEL_TYPE:
		*p = k->tunnel;
		return p + 1;
	case IPFIX_ENTERPRISE_BIT | FA_IPFIX_IE_TUNNEL_ID:
		return put64(p, tun && tun->has_id ? tun->id : FA_IPFIX_TUNNEL_NO_ID);
	case IPFIX_ENTERPRISE_BIT | FA_IPFIX_IE_TUNNEL_SOURCE:
		if (tun)
			memcpy(p, tun->outer_src, 16);
		else
			memset(p, 0, 16);
		return p + 16;
	case IPFIX_ENTERPRISE_BIT | FA_IPFIX_IE_TUNNEL_DESTINATION:
		if (tun)
			memcpy(p, tun->outer_dst, 16);
		else
			memset(p, 0, 16);
		return p + 16;
	}
	return p;	/* not a flow record's field: templates[] rules it out */
}

/* ---- one message --------------------------------------------------------------- */

struct msg {
	__u8 *buf;
	size_t len, max;
	size_t set_at;		/* where the open set starts; 0: none */
	__u16 set_id;
	__u32 records;		/* Data Records in it */
};

static void msg_begin(struct msg *m)
{
	m->len = HEADER_LEN;
	m->set_at = 0;
	m->set_id = 0;
	m->records = 0;
}

static void msg_close_set(struct msg *m)
{
	if (m->set_at)
		put16(m->buf + m->set_at + 2, m->len - m->set_at);
	m->set_at = 0;
	m->set_id = 0;
}

/* Room for @need bytes in a set of @id (opened if it is not the open one). */
static bool msg_reserve(struct msg *m, __u16 id, size_t need)
{
	size_t set = m->set_id == id ? 0 : SET_LEN;

	if (m->len + set + need > m->max)
		return false;
	if (set) {
		msg_close_set(m);
		m->set_at = m->len;
		m->set_id = id;
		put16(m->buf + m->len, id);
		m->len += SET_LEN;
	}
	return true;
}

static void msg_finish(struct msg *m, __u32 seq, __u32 domain)
{
	__u8 *p = m->buf;

	msg_close_set(m);
	p = put16(p, IPFIX_VERSION);
	p = put16(p, m->len);
	p = put32(p, (__u32)time(NULL));
	p = put32(p, seq);
	put32(p, domain);
}

static bool add_template(struct msg *m, const struct template *t, __u32 pen)
{
	__u8 *p;
	int i;

	if (!msg_reserve(m, t->scopes ? IPFIX_SET_OPTIONS_TEMPLATE : IPFIX_SET_TEMPLATE,
			 template_record_len(t)))
		return false;
	p = put16(m->buf + m->len, t->id);
	p = put16(p, t->nfields);
	if (t->scopes)
		p = put16(p, t->scopes);
	for (i = 0; i < t->nfields; i++) {
		p = put16(p, t->f[i].ie);
		p = put16(p, t->f[i].len);
		if (t->f[i].ie & IPFIX_ENTERPRISE_BIT)
			p = put32(p, pen);
	}
	m->len = p - m->buf;
	return true;
}

static bool add_record(struct msg *m, const struct fa_record *r, __u32 pen,
		       const struct flow_tunnel *tun, __u64 wall_off)
{
	const struct template *t = template_of(template_for(r, pen));
	__u8 *p;
	int i;

	if (!msg_reserve(m, t->id, data_len(t)))
		return false;
	p = m->buf + m->len;
	for (i = 0; i < t->nfields; i++)
		p = put_field(p, &t->f[i], r, tun, wall_off);
	m->len = p - m->buf;
	m->records++;
	return true;
}

/* ---- targets ----------------------------------------------------------------- */

int fa_ipfix_target_parse(const char *spec, struct fa_ipfix_target *t)
{
	int err;

	memset(t, 0, sizeof(*t));
	if (strlen(spec) >= sizeof(t->name))
		return -ENAMETOOLONG;
	snprintf(t->name, sizeof(t->name), "%s", spec);
	err = fa_hostport_parse(spec, t->host, sizeof(t->host), &t->port, IPFIX_PORT);
	return !err && !*t->host ? -EINVAL : err;
}

int fa_ipfix_target_resolve(struct fa_ipfix_target *t)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG };
	struct addrinfo *res;
	char port[8];
	int rc;

	snprintf(port, sizeof(port), "%u", t->port);
	rc = getaddrinfo(t->host, port, &hints, &res);
	if (rc == EAI_AGAIN)
		return -EAGAIN;
	if (rc == EAI_SYSTEM)
		return -errno;
	if (rc)
		return -ENOENT;
	memcpy(&t->addr, res->ai_addr, res->ai_addrlen);
	t->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* ---- the observation domain ---------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

__u32 fa_ipfix_default_domain(const char *const *ifnames, size_t n)
{
	const char **sorted;
	char id[256] = "";
	__u32 h = FA_FNV1A_BASIS;
	ssize_t len;
	size_t i;
	int fd;

	/* The host: its machine id, else its name. */
	fd = open("/etc/machine-id", O_RDONLY | O_CLOEXEC);
	len = fd >= 0 ? read(fd, id, sizeof(id) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (len <= 0)
		gethostname(id, sizeof(id) - 1);
	h = fa_fnv1a(h, id, strnlen(id, sizeof(id)));
	/* The interfaces, in an order that does not depend on the command. */
	sorted = malloc((n ? n : 1) * sizeof(*sorted));
	if (sorted) {
		memcpy(sorted, ifnames, n * sizeof(*sorted));
		qsort(sorted, n, sizeof(*sorted), cmp_str);
		ifnames = sorted;
	}
	for (i = 0; i < n; i++)
		h = fa_fnv1a(h, ifnames[i], strlen(ifnames[i]) + 1);
	free(sorted);
	h &= ~FA_IPFIX_OPTIONS_DOMAIN;
	return h ? h : 1;
}

/* ---- collectors ---------------------------------------------------------------- */

static void state_path(const struct fa_ipfix *x, const struct fa_ipfix_target *t,
		       char *buf, size_t len)
{
	char name[sizeof(t->name) + 8], *c;

	snprintf(name, sizeof(name), "%s_%u", t->host, t->port);
	for (c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '.' || *c == '-'))
			*c = '_';
	snprintf(buf, len, "%s/ipfix-%08x-%s.state", FA_RUN_DIR, x->cfg.domain, name);
}

static int state_open(struct fa_ipfix *x, struct fa_ipfix_collector *c)
{
	char path[PATH_MAX];
	struct stat st;
	int fd, err;

	if (mkdir(FA_RUN_DIR, 0700) && errno != EEXIST)
		return -errno;
	state_path(x, &c->target, path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) ||
	    ((size_t)st.st_size != sizeof(*c->st) &&
	     (ftruncate(fd, 0) || ftruncate(fd, sizeof(*c->st))))) {
		err = -errno;
		close(fd);
		return err;
	}
	c->st = mmap(NULL, sizeof(*c->st), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	err = c->st == MAP_FAILED ? -errno : 0;
	/* Held for the daemon's life: a file no one holds is no one's. */
	if (err || flock(fd, LOCK_SH)) {
		err = err ? err : -errno;
		if (c->st != MAP_FAILED)
			munmap(c->st, sizeof(*c->st));
		close(fd);
		c->st = NULL;
		return err;
	}
	c->state_fd = fd;
	if (c->st->magic != STATE_MAGIC || c->st->version != STATE_VERSION ||
	    c->st->domain != x->cfg.domain) {
		memset(c->st, 0, sizeof(*c->st));
		c->st->magic = STATE_MAGIC;
		c->st->version = STATE_VERSION;
		c->st->domain = x->cfg.domain;
	}
	if (c->st->max_message != x->cfg.max_message || c->st->pen != x->cfg.pen) {
		/* Batches would pack otherwise: none can be skipped safely. */
		memset(c->st->batch, 0, sizeof(c->st->batch));
		c->st->max_message = x->cfg.max_message;
		c->st->pen = x->cfg.pen;
	}
	return 0;
}

int fa_ipfix_init(struct fa_ipfix *x, const struct fa_ipfix_cfg *cfg)
{
	memset(x, 0, sizeof(*x));
	if (!cfg->domain || (cfg->domain & FA_IPFIX_OPTIONS_DOMAIN))
		return -EINVAL;
	if (cfg->max_message < FA_IPFIX_MIN_MESSAGE || cfg->max_message > 65527)
		return -ERANGE;
	x->cfg = *cfg;
	x->buf = malloc(cfg->max_message);
	return x->buf ? 0 : -ENOMEM;
}

int fa_ipfix_add(struct fa_ipfix *x, const struct fa_ipfix_target *t)
{
	struct fa_ipfix_collector *c;
	int err;

	if (x->n == FA_IPFIX_MAX_COLLECTORS)
		return -E2BIG;
	/* What one UDP datagram carries over the collector's family. */
	if (x->cfg.max_message > (t->addr.ss_family == AF_INET6 ? 65527u : 65507u))
		return -EMSGSIZE;
	c = &x->c[x->n];
	memset(c, 0, sizeof(*c));
	c->target = *t;
	c->state_fd = -1;
	c->fd = socket(t->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	/*
	 * Connected: a collector that is down answers with ICMP port
	 * unreachable, which the next send reports (ECONNREFUSED), so that
	 * it is counted rather than silent.
	 */
	if (connect(c->fd, (struct sockaddr *)&t->addr, t->addrlen)) {
		err = -errno;
		close(c->fd);
		return err;
	}
	err = state_open(x, c);
	if (err) {
		close(c->fd);
		return err;
	}
	c->templates_due = FA_IPFIX_INITIAL_TEMPLATES;
	x->n++;
	return 0;
}

void fa_ipfix_remove_state(struct fa_ipfix *x)
{
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < x->n; i++) {
		/* Ours alone, or kept for whoever else has it. */
		if (x->c[i].state_fd < 0 || flock(x->c[i].state_fd, LOCK_EX | LOCK_NB))
			continue;
		state_path(x, &x->c[i].target, path, sizeof(path));
		unlink(path);
	}
	rmdir(FA_RUN_DIR);	/* only if nothing else is there */
}

/*
 * Whether a killed daemon's successor may still need a numbering: an
 * attachment no one holds that has a daemon's drain or cache file left.
 * Which domain that daemon had is not written anywhere, so any one may be.
 */
static bool killed_daemon_left(void)
{
	struct fa_pin_entry *l;
	char path[PATH_MAX];
	struct stat st;
	bool left = false;
	size_t i, n;

	if (fa_pins_list(&l, &n))
		return true;	/* can't tell: keep them */
	for (i = 0; i < n && !left; i++) {
		if (fa_lock_held(l[i].dirname, FA_LOCK_ADMIN))
			continue;
		snprintf(path, sizeof(path), "%s/%s.cache", FA_RUN_DIR, l[i].dirname);
		left = !stat(path, &st);
		snprintf(path, sizeof(path), "%s/%s.drain", FA_RUN_DIR, l[i].dirname);
		left = left || !stat(path, &st);
	}
	free(l);
	return left;
}

void fa_ipfix_remove_stale_states(void)
{
	char path[PATH_MAX];
	struct stat a, b;
	struct dirent *de;
	size_t len;
	DIR *d;
	int fd;

	if (killed_daemon_left())
		return;
	d = opendir(FA_RUN_DIR);
	if (!d)
		return;
	while ((de = readdir(d))) {
		len = strlen(de->d_name);
		if (strncmp(de->d_name, "ipfix-", 6) || len < 6 ||
		    strcmp(de->d_name + len - 6, ".state"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", FA_RUN_DIR, de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* No daemon holds it: removed while we hold it. */
		if (!flock(fd, LOCK_EX | LOCK_NB) && !fstat(fd, &a) && !stat(path, &b) &&
		    a.st_ino == b.st_ino)
			unlink(path);
		close(fd);
	}
	closedir(d);
}

void fa_ipfix_free(struct fa_ipfix *x)
{
	size_t i;

	for (i = 0; i < x->n; i++) {
		close(x->c[i].fd);
		if (x->c[i].st)
			munmap(x->c[i].st, sizeof(*x->c[i].st));
		if (x->c[i].state_fd >= 0)
			close(x->c[i].state_fd);
	}
	free(x->buf);
	free(x->order);
	memset(x, 0, sizeof(*x));
}

/* Sends the message; the records in it are counted either way. */
static void send_msg(struct fa_ipfix_collector *c, const struct msg *m,
		     __u32 flow_records)
{
	ssize_t n;

	do
		n = send(c->fd, m->buf, m->len, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)m->len) {
		c->stats.messages++;
		c->stats.octets += m->len;
		c->stats.records += flow_records;
		c->stats.options_records += m->records - flow_records;
		return;
	}
	c->stats.send_errors++;
	c->stats.records_not_sent += flow_records;
	c->stats.last_error = n < 0 ? errno : EMSGSIZE;
	/* It may restart, without our templates. */
	c->resend_templates = true;
}

static void send_data_templates(struct fa_ipfix *x, struct fa_ipfix_collector *c,
				__u64 now)
{
	struct msg m = { .buf = x->buf, .max = x->cfg.max_message };
	int i;

	c->resend_templates = false;	/* unless these fail too */
	msg_begin(&m);
	for (i = 0; i < nr_data_templates(x); i++) {
		if (add_template(&m, template_of(data_id(i)), x->cfg.pen))
			continue;
		msg_finish(&m, c->st->flow_seq, x->cfg.domain);
		send_msg(c, &m, 0);
		msg_begin(&m);
		/* fits: FA_IPFIX_MIN_MESSAGE */
		add_template(&m, template_of(data_id(i)), x->cfg.pen);
	}
	msg_finish(&m, c->st->flow_seq, x->cfg.domain);
	send_msg(c, &m, 0);
	c->stats.template_sends++;
	c->templates_ns = now;
	c->since_templates = 0;
	if (c->templates_due)
		c->templates_due--;
}

static bool templates_due(const struct fa_ipfix *x, const struct fa_ipfix_collector *c,
			  __u64 now)
{
	return c->templates_due || c->resend_templates ||
	       now - c->templates_ns >= x->cfg.refresh_ns ||
	       c->since_templates >= x->cfg.refresh_messages;
}

static struct state_batch *batch_slot(struct ipfix_state *st, __u64 instance)
{
	struct state_batch *free_slot = NULL;
	int i;

	for (i = 0; i < STATE_SLOTS; i++) {
		if (st->batch[i].instance == instance)
			return &st->batch[i];
		if (!st->batch[i].instance && !free_slot)
			free_slot = &st->batch[i];
	}
	if (!free_slot) {
		/* More interfaces than slots: the first taken is forgotten. */
		memmove(&st->batch[0], &st->batch[1],
			(STATE_SLOTS - 1) * sizeof(st->batch[0]));
		free_slot = &st->batch[STATE_SLOTS - 1];
	}
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->instance = instance;
	return free_slot;
}

/* The records in template order (and sequence order within one): fewer
 * sets per message, and the same packing every time for the same batch. */
static int order_records(struct fa_ipfix *x, const struct fa_record *recs, size_t n)
{
	size_t count[NR_DATA_TEMPLATES] = {}, at[NR_DATA_TEMPLATES], i, sum = 0;
	int t;

	if (n > x->order_cap) {
		size_t *o = realloc(x->order, n * sizeof(*o));

		if (!o)
			return -ENOMEM;
		x->order = o;
		x->order_cap = n;
	}
	for (i = 0; i < n; i++)
		count[data_index(template_for(&recs[i], x->cfg.pen))]++;
	for (t = 0; t < NR_DATA_TEMPLATES; t++) {
		at[t] = sum;
		sum += count[t];
	}
	for (i = 0; i < n; i++)
		x->order[at[data_index(template_for(&recs[i], x->cfg.pen))]++] = i;
	return 0;
}

static void export_to(struct fa_ipfix *x, struct fa_ipfix_collector *c, __u64 instance,
		      const struct fa_record *recs, const struct flow_tunnel *tuns, size_t n,
		      __u64 wall_off, __u64 now)
{
	struct msg m = { .buf = x->buf, .max = x->cfg.max_message };
	struct state_batch *b = batch_slot(c->st, instance);
	__u64 skip = 0, msgs = 0;
	size_t i = 0;

	if (b->first_seq == recs[0].seq && b->nrecs == n)
		skip = b->sent_msgs;	/* a batch given again: what went, stays */
	b->first_seq = recs[0].seq;
	b->nrecs = n;
	b->sent_msgs = skip;
	while (i < n) {
		/* Templates first, in a message of their own: x->buf is free
		 * only until the records are packed into it. */
		if (msgs >= skip && templates_due(x, c, now))
			send_data_templates(x, c, now);
		msg_begin(&m);
		while (i < n && add_record(&m, &recs[x->order[i]], x->cfg.pen,
					   tuns && tuns[x->order[i]].type ? &tuns[x->order[i]] : NULL,
					   wall_off))
			i++;
		if (msgs++ < skip) {
			c->stats.skipped += m.records;
			continue;
		}
		msg_finish(&m, c->st->flow_seq, x->cfg.domain);
		/* The numbering first: a kill between the two loses this
		 * message (a gap the collector sees), never sends it twice. */
		c->st->flow_seq += m.records;
		b->sent_msgs = msgs;
		send_msg(c, &m, m.records);
		c->since_templates++;
	}
}

void fa_ipfix_export(struct fa_ipfix *x, __u64 instance, const struct fa_record *recs,
		     const struct flow_tunnel *tuns, size_t n, __u64 wall_off)
{
	__u64 now = fa_mono_ns();
	size_t i;

	if (!n)
		return;
	if (order_records(x, recs, n)) {
		for (i = 0; i < x->n; i++) {
			x->c[i].stats.records_not_sent += n;
			x->c[i].stats.last_error = ENOMEM;
		}
		return;
	}
	for (i = 0; i < x->n; i++)
		export_to(x, &x->c[i], instance, recs, tuns, n, wall_off, now);
}

/* ---- options ------------------------------------------------------------------- */

static void opt_send(struct fa_ipfix *x, struct fa_ipfix_collector *c, struct msg *m)
{
	msg_finish(m, c->st->options_seq, x->cfg.domain | FA_IPFIX_OPTIONS_DOMAIN);
	c->st->options_seq += m->records;
	send_msg(c, m, 0);
	msg_begin(m);
}

/* Adds an options record of @len bytes, sending what is full first. */
static __u8 *opt_record(struct fa_ipfix *x, struct fa_ipfix_collector *c,
			struct msg *m, __u16 id, size_t len)
{
	__u8 *p;

	if (!msg_reserve(m, id, len)) {
		opt_send(x, c, m);
		if (!msg_reserve(m, id, len))
			return NULL;
	}
	p = m->buf + m->len;
	m->len += len;
	m->records++;
	return p;
}

static void send_options(struct fa_ipfix *x, struct fa_ipfix_collector *c,
			 const struct fa_ipfix_iface *ifs, size_t nifs,
			 __u64 ignored_packets)
{
	struct msg m = { .buf = x->buf, .max = x->cfg.max_message };
	__u32 dom = x->cfg.domain;
	size_t i, nlen;
	__u8 *p;
	int t;

	msg_begin(&m);
	for (t = T_OPT_IFACE; t <= T_OPT_TOTALS; t++)
		if (!add_template(&m, template_of(t), x->cfg.pen)) {
			opt_send(x, c, &m);
			add_template(&m, template_of(t), x->cfg.pen);
		}
	for (i = 0; i < nifs; i++) {
		nlen = strnlen(ifs[i].name, FA_IFNAMSIZ);
		p = opt_record(x, c, &m, T_OPT_IFACE, 4 + 4 + 1 + nlen);
		if (!p)
			continue;
		p = put32(p, dom);
		p = put32(p, ifs[i].ifindex);
		*p++ = nlen;	/* a variable-length field: its length first */
		memcpy(p, ifs[i].name, nlen);
	}
	p = opt_record(x, c, &m, T_OPT_SAMPLING, data_len(template_of(T_OPT_SAMPLING)));
	if (p) {
		p = put32(p, dom);
		p = put32(p, 1);	/* every packet is accounted */
		p = put32(p, 0);
		p = put16(p, x->cfg.active_timeout_s);
		put16(p, x->cfg.idle_timeout_s);
	}
	p = opt_record(x, c, &m, T_OPT_TOTALS, data_len(template_of(T_OPT_TOTALS)));
	if (p) {
		p = put32(p, dom);
		p = put64(p, ignored_packets);
		p = put64(p, c->stats.records_not_sent);
		p = put64(p, c->stats.records);
		p = put64(p, c->stats.messages);
		put64(p, c->stats.octets);
	}
	opt_send(x, c, &m);
	c->options_ns = fa_mono_ns();
}

void fa_ipfix_refresh(struct fa_ipfix *x, const struct fa_ipfix_iface *ifs, size_t nifs,
		      __u64 ignored_packets, bool force)
{
	__u64 now = fa_mono_ns();
	size_t i;

	for (i = 0; i < x->n; i++) {
		struct fa_ipfix_collector *c = &x->c[i];

		/* Several copies before any data: UDP may lose one. */
		while (c->templates_due)
			send_data_templates(x, c, now);
		if (c->resend_templates || now - c->templates_ns >= x->cfg.refresh_ns)
			send_data_templates(x, c, now);
		if (force || !c->options_ns || now - c->options_ns >= x->cfg.refresh_ns)
			send_options(x, c, ifs, nifs, ignored_packets);
	}
}
