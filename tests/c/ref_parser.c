// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reference parser: see ref_parser.h. Deliberately written in the most
 * obvious way (offsets into one array, every length checked with
 * subtraction-free comparisons) rather than the data plane's cursor style,
 * so that the two do not share mistakes. Sources: IEEE 802.3 and 802.1Q
 * (Ethernet, C-tags and S-tags), RFC 791 (IPv4), RFC 8200 (IPv6 and its
 * extension headers), RFC 4302 (AH length), RFC 2675 (jumbograms),
 * tshark's IPv4 dissector (a total length of 0 under TSO),
 * RFC 9293 (TCP), RFC 768 (UDP), RFC 792 and RFC 4443 (ICMP, ICMPv6).
 */
#include <string.h>

#include "ref_parser.h"

#define ETH_HDR		14
#define VLAN_TAG	4
#define MAX_TAGS	2
#define IPV4_MIN_HDR	20
#define IPV6_HDR	40
#define EXT_MAX_CHAIN	8
#define TCP_MIN_HDR	20
#define UDP_HDR		8
#define ICMP_MIN	8	/* type, code, checksum and 4 bytes: the smallest message */
#define FRAG_HDR	8

#define ET_IPV4		0x0800
#define ET_IPV6		0x86dd
#define ET_CTAG		0x8100
#define ET_STAG		0x88a8

#define NH_HOPOPTS	0
#define NH_ICMP		1
#define NH_TCP		6
#define NH_UDP		17
#define NH_ROUTING	43
#define NH_FRAGMENT	44
#define NH_AH		51
#define NH_ICMPV6	58
#define NH_DSTOPTS	60

static const char *const verdict_names[REF_NR_VERDICTS] = {
#define REF_VERDICT_NAME(id, name) [REF_##id] = name,
	REF_VERDICTS(REF_VERDICT_NAME)
#undef REF_VERDICT_NAME
};

const char *ref_verdict_name(enum ref_verdict v)
{
	return (unsigned int)v < REF_NR_VERDICTS ? verdict_names[v] : "?";
}

/* The frame as the parse sees it: the captured bytes and the wire length. */
struct view {
	const uint8_t *p;
	size_t cap;
	uint64_t wire;
};

/* Are @n bytes at @off all captured? Written so that nothing can wrap. */
static bool captured(const struct view *v, uint64_t off, uint64_t n)
{
	return off <= v->cap && n <= v->cap - off;
}

static uint16_t be16_at(const struct view *v, size_t off)
{
	return (uint16_t)(v->p[off] << 8 | v->p[off + 1]);
}

static enum ref_verdict reject(struct ref_result *r, enum ref_verdict why)
{
	r->verdict = why;
	return why;
}

static enum ref_verdict accept(struct ref_result *r)
{
	r->verdict = REF_ACCOUNTED;
	return REF_ACCOUNTED;
}

static bool is_ipv6_ext(uint8_t nh)
{
	return nh == NH_HOPOPTS || nh == NH_ROUTING || nh == NH_DSTOPTS ||
	       nh == NH_FRAGMENT || nh == NH_AH;
}

/*
 * The transport header at @off, of which the IP datagram leaves @room
 * bytes. The header has to fit in both the datagram and the capture: the
 * datagram because bytes past it belong to no one (RFC 1858's tiny
 * fragments, or lying length fields), the capture because they are not
 * there to read.
 */
static enum ref_verdict parse_transport(const struct view *v, uint64_t off,
					uint64_t room, struct ref_result *r)
{
	const uint8_t *h;
	unsigned int doff;
	bool icmp = (r->ip_version == 4 && r->proto == NH_ICMP) ||
		    (r->ip_version == 6 && r->proto == NH_ICMPV6);

	switch (r->proto) {
	case NH_TCP:
		if (room < TCP_MIN_HDR || !captured(v, off, TCP_MIN_HDR))
			return reject(r, REF_TRUNC_L4);
		h = v->p + off;
		/* Ports are ports whatever the data offset says (tshark and
		 * softflowd agree): a bad one is noted, not rejected. */
		doff = (h[12] >> 4) * 4u;
		r->tcp_doff_invalid = doff < TCP_MIN_HDR || doff > room;
		r->sport = (uint16_t)(h[0] << 8 | h[1]);
		r->dport = (uint16_t)(h[2] << 8 | h[3]);
		r->tcp_flags = h[13];
		r->transport_parsed = true;
		return accept(r);
	case NH_UDP:
		if (room < UDP_HDR || !captured(v, off, UDP_HDR))
			return reject(r, REF_TRUNC_L4);
		h = v->p + off;
		r->sport = (uint16_t)(h[0] << 8 | h[1]);
		r->dport = (uint16_t)(h[2] << 8 | h[3]);
		r->transport_parsed = true;
		return accept(r);
	default:
		if (!icmp)
			return accept(r);	/* no ports to speak of */
		if (room < ICMP_MIN || !captured(v, off, ICMP_MIN))
			return reject(r, REF_TRUNC_L4);
		h = v->p + off;
		r->sport = 0;
		r->dport = (uint16_t)(h[0] << 8 | h[1]);
		r->transport_parsed = true;
		return accept(r);
	}
}

static enum ref_verdict parse_ipv4(const struct view *v, size_t l3,
				   struct ref_result *r)
{
	const uint8_t *ip = v->p + l3;
	unsigned int ihl;
	uint64_t tot;
	uint16_t frag;

	if (!captured(v, l3, IPV4_MIN_HDR))
		return reject(r, REF_TRUNC_IPV4);
	if (ip[0] >> 4 != 4)
		return reject(r, REF_BAD_IP_VERSION);
	ihl = (ip[0] & 0x0f) * 4u;
	if (ihl < IPV4_MIN_HDR)
		return reject(r, REF_BAD_IHL);
	tot = be16_at(v, l3 + 2);
	/*
	 * TSO (a capture before the NIC cut the segment) and BIG TCP: TCP
	 * with a total length of 0 is as long as the frame, as tshark
	 * presumes. wire >= cap >= l3, so wire - l3 cannot wrap.
	 */
	if (tot == 0 && ip[9] == NH_TCP && v->wire - l3 > ihl) {
		tot = v->wire - l3;
		r->ipv4_len_from_frame = true;
	}
	if (tot < ihl || tot > v->wire - l3)
		return reject(r, REF_BAD_IPV4_LEN);
	if (!captured(v, l3, ihl))
		return reject(r, REF_TRUNC_IPV4);

	r->ip_version = 4;
	r->proto = ip[9];
	r->src[10] = r->src[11] = 0xff;
	r->dst[10] = r->dst[11] = 0xff;
	memcpy(r->src + 12, ip + 12, 4);
	memcpy(r->dst + 12, ip + 16, 4);
	r->bytes = tot;

	frag = be16_at(v, l3 + 6);
	r->fragmented = (frag & 0x3fff) != 0;	/* MF or an offset */
	r->frag_id = be16_at(v, l3 + 4);
	r->frag_proto = ip[9];
	r->first_fragment = (frag & 0x3fff) == 0x2000;
	if (frag & 0x1fff) {
		/* Only the first fragment carries the transport header. */
		r->later_fragment = true;
		return accept(r);
	}
	return parse_transport(v, l3 + ihl, tot - ihl, r);
}

static enum ref_verdict parse_ipv6(const struct view *v, size_t l3,
				   struct ref_result *r)
{
	const uint8_t *ip = v->p + l3;
	const uint8_t *h;
	uint64_t off, room, len, plen;
	uint16_t fo;
	uint8_t nh;
	int i;

	if (!captured(v, l3, IPV6_HDR))
		return reject(r, REF_TRUNC_IPV6);
	if (ip[0] >> 4 != 6)
		return reject(r, REF_BAD_IP_VERSION);
	plen = be16_at(v, l3 + 4);
	nh = ip[6];
	if (plen == 0 && nh == NH_HOPOPTS) {
		/*
		 * RFC 2675: a hop-by-hop header whose first option is Jumbo
		 * Payload (type 0xC2, 4 bytes), of a length over 65535.
		 */
		if (!captured(v, l3 + IPV6_HDR, 8))
			return reject(r, REF_TRUNC_IPV6_EXT);
		h = ip + IPV6_HDR;
		if (h[2] != 0xc2 || h[3] != 4)
			return reject(r, REF_BAD_IPV6_LEN);
		plen = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | h[6] << 8 | h[7];
		if (plen <= 0xffff)
			return reject(r, REF_BAD_IPV6_LEN);
		r->jumbogram = true;
	} else if (plen == 0 && nh == NH_TCP && v->wire - l3 > IPV6_HDR) {
		/* BIG TCP as newer kernels send it: the frame's length. */
		plen = v->wire - l3 - IPV6_HDR;
		r->jumbogram = true;
	}
	if (IPV6_HDR + plen > v->wire - l3)
		return reject(r, REF_BAD_IPV6_LEN);

	r->ip_version = 6;
	memcpy(r->src, ip + 8, 16);
	memcpy(r->dst, ip + 24, 16);
	r->bytes = IPV6_HDR + plen;

	off = l3 + IPV6_HDR;
	room = plen;
	for (i = 0; i < EXT_MAX_CHAIN && is_ipv6_ext(nh); i++) {
		if (nh == NH_FRAGMENT) {
			if (room < FRAG_HDR || !captured(v, off, FRAG_HDR))
				return reject(r, REF_TRUNC_IPV6_EXT);
			h = v->p + off;
			r->fragmented = true;
			r->ext_headers++;
			fo = (uint16_t)(h[2] << 8 | h[3]);
			r->frag_id = (uint32_t)h[4] << 24 | h[5] << 16 | h[6] << 8 | h[7];
			r->frag_proto = h[0];
			/*
			 * RFC 8200 allows one fragment header; of several,
			 * the last one walked is the one that counts.
			 */
			r->first_fragment = !(fo & 0xfff8) && (fo & 1);
			if (fo & 0xfff8) {
				/*
				 * What follows is the middle of the original
				 * packet: its next header is all we know.
				 */
				r->proto = h[0];
				r->later_fragment = true;
				return accept(r);
			}
			len = FRAG_HDR;
		} else {
			/* All of these are at least 8 bytes long. */
			if (room < 8 || !captured(v, off, 2))
				return reject(r, REF_TRUNC_IPV6_EXT);
			h = v->p + off;
			if (nh == NH_AH)	/* RFC 4302: in 4-byte units, minus 2 */
				len = (h[1] + 2u) * 4u;
			else			/* RFC 8200: in 8-byte units, minus 1 */
				len = (h[1] + 1u) * 8u;
			if (len > room)
				return reject(r, REF_TRUNC_IPV6_EXT);
			r->ext_headers++;
		}
		nh = h[0];
		off += len;
		room -= len;
	}
	if (is_ipv6_ext(nh))
		return reject(r, REF_IPV6_EXT_TOO_MANY);
	r->proto = nh;
	return parse_transport(v, off, room, r);
}

enum ref_verdict ref_parse(const uint8_t *frame, size_t cap_len,
			   uint64_t wire_len, struct ref_result *res)
{
	struct view v = {
		.p = frame,
		.cap = cap_len,
		.wire = wire_len > cap_len ? wire_len : cap_len,
	};
	uint16_t ethertype;
	size_t l3;

	memset(res, 0, sizeof(*res));
	if (!captured(&v, 0, ETH_HDR))
		return reject(res, REF_TRUNC_ETH);
	ethertype = be16_at(&v, 12);
	l3 = ETH_HDR;
	/* 802.1ad and 802.1Q tags, in any order, each ending in the next type. */
	while (res->vlan_tags < MAX_TAGS &&
	       (ethertype == ET_CTAG || ethertype == ET_STAG)) {
		if (!captured(&v, l3, VLAN_TAG))
			return reject(res, REF_TRUNC_VLAN);
		ethertype = be16_at(&v, l3 + 2);
		l3 += VLAN_TAG;
		res->vlan_tags++;
	}
	if (ethertype == ET_CTAG || ethertype == ET_STAG)
		return reject(res, REF_VLAN_TOO_DEEP);

	switch (ethertype) {
	case ET_IPV4:
		return parse_ipv4(&v, l3, res);
	case ET_IPV6:
		return parse_ipv6(&v, l3, res);
	default:
		return reject(res, REF_NON_IP);
	}
}
