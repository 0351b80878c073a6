// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The flow table and the counters, for people (one row per flow, then the
 * books) or for scripts (one JSON object whose field names are a public
 * interface: replay and dump print the same ones).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <string.h>

#include "flowacct.h"
#include "json.h"

static const struct {
	const char *name;
	int kind;
} counters[FLOW_NR_COUNTERS] = {
#define COUNTER_ROW(id, name, kind) [FLOW_C_##id] = { name, kind },
	FLOW_COUNTERS(COUNTER_ROW)
#undef COUNTER_ROW
};

const char *counter_name(int idx)
{
	return counters[idx].name;
}

int counter_kind(int idx)
{
	return counters[idx].kind;
}

const char *direction_name(int dir)
{
	return dir == FLOW_DIR_EGRESS ? "egress" : "ingress";
}

const char *hook_name(int dir)
{
	return dir == FLOW_DIR_EGRESS ? "tc" : "xdp";
}

/* Our own table: /etc/protocols is not on every minimal system. */
static const char *proto_name(__u8 proto)
{
	switch (proto) {
	case IPPROTO_ICMP:	return "icmp";
	case IPPROTO_IGMP:	return "igmp";
	case IPPROTO_TCP:	return "tcp";
	case IPPROTO_UDP:	return "udp";
	case IPPROTO_IPV6:	return "ipv6";
	case IPPROTO_GRE:	return "gre";
	case IPPROTO_ESP:	return "esp";
	case IPPROTO_AH:	return "ah";
	case IPPROTO_ICMPV6:	return "icmpv6";
	case IPPROTO_NONE:	return "ipv6-nonxt";
	case IPPROTO_PIM:	return "pim";
	case IPPROTO_SCTP:	return "sctp";
	case IPPROTO_UDPLITE:	return "udplite";
	case 89:		return "ospf";
	case 112:		return "vrrp";
	default:		return NULL;
	}
}

/* Bit 0 (FIN) to bit 7 (CWR), one letter each, in that order. */
static void tcp_flags_str(__u32 flags, char *buf)
{
	static const char letters[] = "FSRPAUEC";
	int i, n = 0;

	for (i = 0; i < 8; i++)
		if (flags & (1u << i))
			buf[n++] = letters[i];
	buf[n] = '\0';
}

/* "192.0.2.1" into @p; returns the end. */
static char *put_ipv4(char *p, const __u8 *a)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (i)
			*p++ = '.';
		if (a[i] >= 100)
			*p++ = '0' + a[i] / 100;
		if (a[i] >= 10)
			*p++ = '0' + a[i] / 10 % 10;
		*p++ = '0' + a[i] % 10;
	}
	*p = '\0';
	return p;
}

/*
 * The text inet_ntop(AF_INET6) gives, written here because glibc's
 * formats every group with sprintf, which was a large part of dumping a big
 * table. The same rules: groups in lowercase hex without leading zeros; the
 * longest run of two or more zero groups (the first of equal runs) becomes
 * "::"; ::a.b.c.d and ::ffff:a.b.c.d keep their IPv4 tail dotted.
 */
static void put_ipv6(char *p, const __u8 *a)
{
	static const char hex[] = "0123456789abcdef";
	int best = -1, best_len = 0, run = -1, run_len = 0, i, sh;
	__u16 w[8];

	for (i = 0; i < 8; i++) {
		w[i] = a[2 * i] << 8 | a[2 * i + 1];
		if (!w[i]) {
			if (run < 0)
				run = i, run_len = 0;
			if (++run_len > best_len)
				best = run, best_len = run_len;
		} else {
			run = -1;
		}
	}
	if (best_len < 2)
		best = -1;

	for (i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				*p++ = ':';
			continue;
		}
		if (i)
			*p++ = ':';
		if (i == 6 && best == 0 &&
		    (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
			put_ipv4(p, a + 12);
			return;
		}
		for (sh = 12; sh > 0 && !(w[i] >> sh); sh -= 4)
			;
		for (; sh >= 0; sh -= 4)
			*p++ = hex[(w[i] >> sh) & 0xf];
	}
	if (best >= 0 && best + best_len == 8)
		*p++ = ':';
	*p = '\0';
}

static void addr_str(const struct flow_key *k, const __u8 *addr, char *buf,
		     size_t len)
{
	if (len < INET6_ADDRSTRLEN) {
		inet_ntop(k->ip_version == 4 ? AF_INET : AF_INET6,
			  k->ip_version == 4 ? addr + 12 : addr, buf, len);
		return;
	}
	if (k->ip_version == 4)
		put_ipv4(buf, addr + 12);
	else
		put_ipv6(buf, addr);
}

static bool proto_is_icmp(const struct flow_key *k)
{
	return (k->ip_version == 4 && k->proto == IPPROTO_ICMP) ||
	       (k->ip_version == 6 && k->proto == IPPROTO_ICMPV6);
}

static bool proto_has_ports(const struct flow_key *k)
{
	return k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP;
}

/* "tcp 192.0.2.1:40000 > 192.0.2.2:80", "icmp 192.0.2.1 > 192.0.2.2 type 8 code 0" */
void flow_key_str(const struct flow_key *k, char *buf, size_t len)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], proto[16];
	const char *pn = proto_name(k->proto);
	__u16 sp = ntohs(k->sport), dp = ntohs(k->dport);

	addr_str(k, k->src, src, sizeof(src));
	addr_str(k, k->dst, dst, sizeof(dst));
	if (pn)
		snprintf(proto, sizeof(proto), "%s", pn);
	else
		snprintf(proto, sizeof(proto), "proto %u", k->proto);
	if (proto_is_icmp(k))
		snprintf(buf, len, "%s %s > %s type %u code %u", proto, src, dst,
			 dp >> 8, dp & 0xff);
	else if (proto_has_ports(k) && k->ip_version == 6)
		snprintf(buf, len, "%s [%s]:%u > [%s]:%u", proto, src, sp, dst, dp);
	else if (proto_has_ports(k))
		snprintf(buf, len, "%s %s:%u > %s:%u", proto, src, sp, dst, dp);
	else
		snprintf(buf, len, "%s %s > %s", proto, src, dst);
}

static void print_row_json(struct json *j, const struct flow_row *r)
{
	const struct flow_key *k = &r->key;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], flags[9];

	json_obj_open(j, NULL);
	json_u64(j, "ifindex", k->ifindex);
	json_str(j, "direction", direction_name(k->direction));
	json_u64(j, "ip_version", k->ip_version);
	json_u64(j, "proto", k->proto);
	if (r->overflow) {
		json_null(j, "src");
		json_null(j, "dst");
	} else {
		addr_str(k, k->src, src, sizeof(src));
		addr_str(k, k->dst, dst, sizeof(dst));
		json_str(j, "src", src);
		json_str(j, "dst", dst);
	}
	json_u64(j, "sport", ntohs(k->sport));
	json_u64(j, "dport", ntohs(k->dport));
	json_u64(j, "packets", r->val.packets);
	json_u64(j, "bytes", r->val.bytes);
	json_u64(j, "first_seen_ns", r->val.first_seen_ns);
	json_u64(j, "last_seen_ns", r->val.last_seen_ns);
	tcp_flags_str(r->val.tcp_flags, flags);
	json_str(j, "tcp_flags", flags);
	json_bool(j, "overflow", r->overflow);
	json_obj_close(j);
}

/* A --group-by row: only the fields grouped by, and how many flows. */
static void print_group_row_json(struct json *j, const struct flow_row *r,
				 unsigned int group)
{
	const struct flow_key *k = &r->key;
	char addr[INET6_ADDRSTRLEN], flags[9];

	json_obj_open(j, NULL);
	if (group & GROUP_IFACE)
		json_u64(j, "ifindex", k->ifindex);
	if (group & GROUP_DIR)
		json_str(j, "direction", direction_name(k->direction));
	if (group & (GROUP_SRC | GROUP_DST))
		json_u64(j, "ip_version", k->ip_version);
	if (group & GROUP_PROTO)
		json_u64(j, "proto", k->proto);
	if (group & GROUP_SRC) {
		addr_str(k, k->src, addr, sizeof(addr));
		if (r->overflow)
			json_null(j, "src");
		else
			json_str(j, "src", addr);
	}
	if (group & GROUP_DST) {
		addr_str(k, k->dst, addr, sizeof(addr));
		if (r->overflow)
			json_null(j, "dst");
		else
			json_str(j, "dst", addr);
	}
	if (group & GROUP_SPORT)
		json_u64(j, "sport", ntohs(k->sport));
	if (group & GROUP_DPORT)
		json_u64(j, "dport", ntohs(k->dport));
	json_u64(j, "flows", r->flows);
	json_u64(j, "packets", r->val.packets);
	json_u64(j, "bytes", r->val.bytes);
	json_u64(j, "first_seen_ns", r->val.first_seen_ns);
	json_u64(j, "last_seen_ns", r->val.last_seen_ns);
	tcp_flags_str(r->val.tcp_flags, flags);
	json_str(j, "tcp_flags", flags);
	json_bool(j, "overflow", r->overflow);
	json_obj_close(j);
}

static void print_counters_json(struct json *j, const char *key,
				const struct hook_stats *st)
{
	int i;

	json_obj_open(j, key);
	for (i = 0; i < FLOW_NR_COUNTERS; i++)
		json_u64(j, counter_name(i), st->counters[i]);
	json_obj_close(j);
}

/* The counters of all present hooks added together. */
static void stats_sum(const struct hook_stats *st, struct hook_stats *sum)
{
	int dir, i;

	memset(sum, 0, sizeof(*sum));
	for (dir = 0; dir < FLOW_NR_DIRS; dir++)
		for (i = 0; i < FLOW_NR_COUNTERS; i++)
			sum->counters[i] += st[dir].counters[i];
}

/* "counters": the sum over present hooks; "hooks": each one's own. */
void report_counters_json(struct json *j, const struct hook_stats *st)
{
	struct hook_stats sum;
	int dir;

	stats_sum(st, &sum);
	print_counters_json(j, "counters", &sum);
	json_arr_open(j, "hooks");
	for (dir = 0; dir < FLOW_NR_DIRS; dir++) {
		if (!st[dir].present)
			continue;
		json_obj_open(j, NULL);
		json_str(j, "hook", hook_name(dir));
		json_str(j, "direction", direction_name(dir));
		print_counters_json(j, "counters", &st[dir]);
		json_obj_close(j);
	}
	json_arr_close(j);
}

static void report_json(const struct report *r)
{
	struct json j;
	size_t i, n = r->flows->n;

	if (r->top && r->top < n)
		n = r->top;
	json_init(&j, stdout);
	json_obj_open(&j, NULL);
	json_arr_open(&j, "flows");
	for (i = 0; i < n; i++) {
		if (r->group)
			print_group_row_json(&j, &r->flows->rows[i], r->group);
		else
			print_row_json(&j, &r->flows->rows[i]);
	}
	json_arr_close(&j);
	report_counters_json(&j, r->stats);
	json_obj_close(&j);
	json_end(&j);
}

static void endpoint_str(const struct flow_row *r, bool src, char *addr,
			 size_t alen, char *port, size_t plen)
{
	const struct flow_key *k = &r->key;
	__u16 p = ntohs(src ? k->sport : k->dport);

	if (r->overflow) {
		snprintf(addr, alen, "%s", src ? "(overflow:" : "table full)");
		snprintf(port, plen, "-");
		return;
	}
	addr_str(k, src ? k->src : k->dst, addr, alen);
	if (proto_is_icmp(k))
		snprintf(port, plen, src ? "-" : "%u/%u", p >> 8, p & 0xff);
	else if (proto_has_ports(k))
		snprintf(port, plen, "%u", p);
	else
		snprintf(port, plen, "-");
}

static void report_table(const struct report *r)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	char sport[16], dport[16], flags[9], proto[16];
	size_t i, n = r->flows->n;
	int aw = 15, w;

	if (r->top && r->top < n)
		n = r->top;
	for (i = 0; i < n; i++) {
		const struct flow_row *row = &r->flows->rows[i];

		if (row->key.ip_version == 6 && !row->overflow) {
			addr_str(&row->key, row->key.src, src, sizeof(src));
			addr_str(&row->key, row->key.dst, dst, sizeof(dst));
			w = strlen(src) > strlen(dst) ? strlen(src) : strlen(dst);
			if (w > aw)
				aw = w;
		}
	}

	printf("%-7s %-3s %-10s %-*s %5s  %-*s %7s %12s %14s %-8s\n", "DIR",
	       "IF", "PROTO", aw, "SRC", "SPORT", aw, "DST", "DPORT",
	       "PACKETS", "BYTES", "FLAGS");
	for (i = 0; i < n; i++) {
		const struct flow_row *row = &r->flows->rows[i];
		const char *pn = proto_name(row->key.proto);

		endpoint_str(row, true, src, sizeof(src), sport, sizeof(sport));
		endpoint_str(row, false, dst, sizeof(dst), dport, sizeof(dport));
		if (row->overflow)
			snprintf(proto, sizeof(proto), "-");
		else if (pn)
			snprintf(proto, sizeof(proto), "%s", pn);
		else
			snprintf(proto, sizeof(proto), "%u", row->key.proto);
		tcp_flags_str(row->val.tcp_flags, flags);
		printf("%-7s %-3u %-10s %-*s %5s  %-*s %7s %12" PRIu64
		       " %14" PRIu64 " %-8s\n",
		       direction_name(row->key.direction), row->key.ifindex,
		       proto, aw, src, sport, aw, dst, dport,
		       (uint64_t)row->val.packets, (uint64_t)row->val.bytes,
		       flags);
	}
	if (n < r->flows->n)
		printf("(%zu more flows)\n", r->flows->n - n);
}

/*
 * The books of one hook: seen must equal accounted plus every named reason,
 * and the flow rows must hold exactly what was accounted.
 */
static void report_hook_counters(int dir, const struct hook_stats *st)
{
	const __u64 *c = st->counters;
	__u64 reasons = 0;
	int i;

	for (i = 0; i < FLOW_NR_COUNTERS; i++)
		if (counter_kind(i) == FLOW_CK_REASON)
			reasons += c[i];

	printf("\n%s %s: seen %" PRIu64 " = accounted %" PRIu64
	       " (%" PRIu64 " bytes) + not accounted %" PRIu64 "%s\n",
	       hook_name(dir), direction_name(dir),
	       (uint64_t)c[FLOW_C_SEEN], (uint64_t)c[FLOW_C_ACCOUNTED],
	       (uint64_t)c[FLOW_C_ACCOUNTED_BYTES], (uint64_t)reasons,
	       c[FLOW_C_SEEN] == c[FLOW_C_ACCOUNTED] + reasons ?
		       "" : "  (DOES NOT ADD UP)");
	for (i = 0; i < FLOW_NR_COUNTERS; i++) {
		if (counter_kind(i) == FLOW_CK_TOTAL || !c[i])
			continue;
		printf("  %-20s %12" PRIu64 "%s\n", counter_name(i),
		       (uint64_t)c[i],
		       counter_kind(i) == FLOW_CK_REASON ? "  not accounted" : "");
	}
}

void report_counters(const struct hook_stats *st)
{
	int dir;

	for (dir = 0; dir < FLOW_NR_DIRS; dir++)
		if (st[dir].present)
			report_hook_counters(dir, &st[dir]);
}

/* A --group-by table: the grouped fields, then flows, packets, bytes. */
static void report_group_table(const struct report *r)
{
	char addr[INET6_ADDRSTRLEN];
	size_t i, n = r->flows->n;
	unsigned int g = r->group;

	if (r->top && r->top < n)
		n = r->top;
	if (g & GROUP_IFACE)
		printf("%-3s ", "IF");
	if (g & GROUP_DIR)
		printf("%-7s ", "DIR");
	if (g & GROUP_PROTO)
		printf("%-10s ", "PROTO");
	if (g & GROUP_SRC)
		printf("%-39s ", "SRC");
	if (g & GROUP_SPORT)
		printf("%5s ", "SPORT");
	if (g & GROUP_DST)
		printf("%-39s ", "DST");
	if (g & GROUP_DPORT)
		printf("%5s ", "DPORT");
	printf("%8s %12s %14s\n", "FLOWS", "PACKETS", "BYTES");
	for (i = 0; i < n; i++) {
		const struct flow_row *row = &r->flows->rows[i];
		const struct flow_key *k = &row->key;
		const char *pn = proto_name(k->proto);

		if (g & GROUP_IFACE)
			printf("%-3u ", k->ifindex);
		if (g & GROUP_DIR)
			printf("%-7s ", direction_name(k->direction));
		if (g & GROUP_PROTO) {
			if (row->overflow)
				printf("%-10s ", "-");
			else if (pn)
				printf("%-10s ", pn);
			else
				printf("%-10u ", k->proto);
		}
		if (g & GROUP_SRC) {
			addr_str(k, k->src, addr, sizeof(addr));
			printf("%-39s ", row->overflow ? "(overflow: table full)" : addr);
		}
		if (g & GROUP_SPORT)
			printf("%5u ", ntohs(k->sport));
		if (g & GROUP_DST) {
			addr_str(k, k->dst, addr, sizeof(addr));
			printf("%-39s ", row->overflow ? "(overflow: table full)" : addr);
		}
		if (g & GROUP_DPORT)
			printf("%5u ", ntohs(k->dport));
		printf("%8u %12" PRIu64 " %14" PRIu64 "%s\n", row->flows,
		       (uint64_t)row->val.packets, (uint64_t)row->val.bytes,
		       row->overflow && !(g & (GROUP_SRC | GROUP_DST)) ?
			       "  (overflow: table full)" : "");
	}
	if (n < r->flows->n)
		printf("(%zu more rows)\n", r->flows->n - n);
}

void report_print(const struct report *r)
{
	if (json_output) {
		report_json(r);
		return;
	}
	if (r->group)
		report_group_table(r);
	else
		report_table(r);
	report_counters(r->stats);
	fflush(stdout);
}
