// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Names of counters, directions, protocols and reasons, and the text of
 * addresses and flow keys, as every output (tables, JSON, records, pcapng
 * comments) prints them.
 */
#include <stdlib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const struct {
	const char *name;
	int kind;
} counters[FLOW_NR_COUNTERS] = {
#define COUNTER_ROW(id, name, kind) [FLOW_C_##id] = { name, kind },
	FLOW_COUNTERS(COUNTER_ROW)
#undef COUNTER_ROW
};

const char *fa_counter_name(int idx)
{
	return idx >= 0 && idx < FLOW_NR_COUNTERS ? counters[idx].name : "?";
}

int fa_counter_kind(int idx)
{
	return counters[idx].kind;
}

const char *fa_direction_name(int dir)
{
	return dir == FLOW_DIR_EGRESS ? "egress" : "ingress";
}

const char *fa_end_reason_name(int reason)
{
	switch (reason) {
	case FA_END_IDLE:		return "idle";
	case FA_END_ACTIVE:		return "active";
	case FA_END_END:		return "end";
	case FA_END_FORCED:		return "forced";
	case FA_END_LACK_OF_RESOURCES:	return "lack_of_resources";
	default:			return "?";
	}
}

const char *fa_ingress_name(int hook)
{
	switch (hook) {
	case FA_INGRESS_XDP_NATIVE:	return "xdp";
	case FA_INGRESS_XDP_SKB:	return "xdp-skb";
	case FA_INGRESS_TC:		return "tc";
	default:			return "none";
	}
}

const char *fa_tc_api_name(int api)
{
	return api == FA_TC_TCX ? "tcx" : "clsact";
}

const char *fa_ingress_reason_name(int why)
{
	switch (why) {
	case FA_WHY_ASKED:	return "asked";
	case FA_WHY_VIRTUAL:	return "virtual device";
	case FA_WHY_NATIVE_XDP:	return "driver runs XDP natively";
	case FA_WHY_NO_NATIVE:	return "driver without native XDP";
	default:		return "?";
	}
}

const char *fa_sample_mode_name(int mode)
{
	switch (mode) {
	case FLOW_SAMPLE_EVERY:		return "every";
	case FLOW_SAMPLE_RANDOM:	return "random";
	case FLOW_SAMPLE_HASH:		return "hash";
	default:			return "?";
	}
}

/* Our own table: /etc/protocols is not on every minimal system. */
const char *fa_proto_name(__u8 proto)
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
char *fa_tcp_flags_put(__u32 flags, char *p)
{
	static const char letters[] = "FSRPAUEC";
	int i;

	for (i = 0; i < 8; i++)
		if (flags & (1u << i))
			*p++ = letters[i];
	*p = '\0';
	return p;
}

void fa_tcp_flags_str(__u32 flags, char buf[9])
{
	fa_tcp_flags_put(flags, buf);
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
static char *put_ipv6(char *p, const __u8 *a)
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
		    (best_len == 6 || (best_len == 5 && w[5] == 0xffff)))
			return put_ipv4(p, a + 12);
		for (sh = 12; sh > 0 && !(w[i] >> sh); sh -= 4)
			;
		for (; sh >= 0; sh -= 4)
			*p++ = hex[(w[i] >> sh) & 0xf];
	}
	if (best >= 0 && best + best_len == 8)
		*p++ = ':';
	*p = '\0';
	return p;
}

char *fa_addr_put(const struct flow_key *k, const __u8 *addr, char *p)
{
	return k->ip_version == 4 ? put_ipv4(p, addr + 12) : put_ipv6(p, addr);
}

void fa_addr_str(const struct flow_key *k, const __u8 *addr, char *buf,
		 size_t len)
{
	if (len < INET6_ADDRSTRLEN) {
		inet_ntop(k->ip_version == 4 ? AF_INET : AF_INET6,
			  k->ip_version == 4 ? addr + 12 : addr, buf, len);
		return;
	}
	fa_addr_put(k, addr, buf);
}

bool fa_key_is_icmp(const struct flow_key *k)
{
	return (k->ip_version == 4 && k->proto == IPPROTO_ICMP) ||
	       (k->ip_version == 6 && k->proto == IPPROTO_ICMPV6);
}

void fa_key_reverse(const struct flow_key *k, struct flow_key *r)
{
	*r = *k;
	memcpy(r->src, k->dst, sizeof(r->src));
	memcpy(r->dst, k->src, sizeof(r->dst));
	r->sport = k->dport;
	r->dport = k->sport;
	r->direction = k->direction == FLOW_DIR_INGRESS ? FLOW_DIR_EGRESS :
							  FLOW_DIR_INGRESS;
}

bool fa_key_has_ports(const struct flow_key *k)
{
	return k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP;
}

void fa_flow_key_str(const struct flow_key *k, char *buf, size_t len)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], proto[16];
	const char *pn = fa_proto_name(k->proto);
	__u16 sp = ntohs(k->sport), dp = ntohs(k->dport);

	fa_addr_str(k, k->src, src, sizeof(src));
	fa_addr_str(k, k->dst, dst, sizeof(dst));
	if (pn)
		snprintf(proto, sizeof(proto), "%s", pn);
	else
		snprintf(proto, sizeof(proto), "proto %u", k->proto);
	if (fa_key_is_icmp(k))
		snprintf(buf, len, "%s %s > %s type %u code %u", proto, src, dst,
			 dp >> 8, dp & 0xff);
	else if (fa_key_has_ports(k) && k->ip_version == 6)
		snprintf(buf, len, "%s [%s]:%u > [%s]:%u", proto, src, sp, dst, dp);
	else if (fa_key_has_ports(k))
		snprintf(buf, len, "%s %s:%u > %s:%u", proto, src, sp, dst, dp);
	else
		snprintf(buf, len, "%s %s > %s", proto, src, dst);
}

const char *fa_hook_name(int hook)
{
	switch (hook) {
	case FA_HOOK_XDP:	return "xdp";
	case FA_HOOK_TC:	return "tc";
	case FA_HOOK_MIXED:	return "xdp+tc";
	default:		return "none";
	}
}

void fa_ingress_hooks(int ingress, int hook[FLOW_NR_DIRS])
{
	hook[FLOW_DIR_INGRESS] = ingress == FA_INGRESS_TC ? FA_HOOK_TC : FA_HOOK_XDP;
	hook[FLOW_DIR_EGRESS] = FA_HOOK_TC;
}

void fa_state_hooks(const struct fa_attach_state *st, int hook[FLOW_NR_DIRS])
{
	fa_ingress_hooks(st->ingress, hook);
}
