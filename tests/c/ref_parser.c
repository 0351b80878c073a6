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
 * Tunnels, as docs/tunnels.md opens them: RFC 7348 (VXLAN), RFC 8926
 * (Geneve), RFC 2784 and RFC 2890 (GRE and its key), draft-foschiano-erspan
 * (ERSPAN types I, II and III), RFC 2003 and RFC 4213 (IP in IP), RFC 3032
 * (the MPLS label stack).
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

/* Tunnels (docs/tunnels.md). */
#define ET_TEB		0x6558	/* transparent Ethernet bridging */
#define ET_ERSPAN	0x88be	/* ERSPAN type I without a GRE sequence number, II with */
#define ET_ERSPAN3	0x22eb
#define ET_MPLS_UC	0x8847
#define ET_MPLS_MC	0x8848
#define NH_IPIP		4
#define NH_GRE		47
#define NH_IPV6		41
#define PORT_VXLAN	4789	/* IANA */
#define PORT_VXLAN_LINUX 8472	/* Linux's default, Flannel's, Cilium's */
#define PORT_GENEVE	6081
#define VXLAN_HDR	8
#define GENEVE_HDR	8
#define GRE_HDR		4
#define ERSPAN2_HDR	8
#define ERSPAN3_HDR	12
#define ERSPAN3_SUBHDR	8
#define MPLS_ENTRY	4
#define MPLS_MAX_DEPTH	8
/* The verifier's bounds on packet offsets, which the program keeps. */
#define TUNNEL_HDR_MAX_OFF 32767
#define INNER_MAX_OFF	8191

static const char *const verdict_names[REF_NR_VERDICTS] = {
#define REF_VERDICT_NAME(id, name) [REF_##id] = name,
	REF_VERDICTS(REF_VERDICT_NAME)
#undef REF_VERDICT_NAME
};

const char *ref_verdict_name(enum ref_verdict v)
{
	return (unsigned int)v < REF_NR_VERDICTS ? verdict_names[v] : "?";
}

/*
 * The frame as the parse sees it: the captured bytes and the wire length.
 * An inner packet is parsed in the same view, at its own offset, so that
 * every length of it is checked against what remains of the whole frame.
 */
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

/* Where a packet's parse starts: an Ethernet header, or an IP header. */
enum start {
	START_ETH,
	START_IPV4,
	START_IPV6,
};

/*
 * Where the parse found things, for the tunnel code: the ethertype that
 * ended the VLAN walk and the offset after it (Ethernet starts only), and
 * for an unfragmented datagram, where its transport header starts and how
 * many bytes of the datagram are left from there.
 */
struct layout {
	size_t l3;
	uint16_t ethertype;
	uint64_t l4;
	uint64_t room;
};

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
				   struct ref_result *r, struct layout *at)
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
	at->l4 = l3 + ihl;
	at->room = tot - ihl;
	return parse_transport(v, l3 + ihl, tot - ihl, r);
}

static enum ref_verdict parse_ipv6(const struct view *v, size_t l3,
				   struct ref_result *r, struct layout *at)
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
	at->l4 = off;
	at->room = room;
	return parse_transport(v, off, room, r);
}

/*
 * One packet from @start: an Ethernet header and up to two tags, or
 * straight an IP header of the version @mode says (the ethertype was
 * implied by what carried it). The outer frame and an inner packet are
 * judged by this one function, so by the same rules.
 */
static enum ref_verdict parse_packet(const struct view *v, size_t start,
				     enum start mode, struct ref_result *res,
				     struct layout *at)
{
	uint16_t ethertype;
	size_t l3;

	if (mode == START_IPV4)
		return parse_ipv4(v, start, res, at);
	if (mode == START_IPV6)
		return parse_ipv6(v, start, res, at);

	if (!captured(v, start, ETH_HDR))
		return reject(res, REF_TRUNC_ETH);
	ethertype = be16_at(v, start + 12);
	l3 = start + ETH_HDR;
	/* 802.1ad and 802.1Q tags, in any order, each ending in the next type. */
	while (res->vlan_tags < MAX_TAGS &&
	       (ethertype == ET_CTAG || ethertype == ET_STAG)) {
		if (!captured(v, l3, VLAN_TAG))
			return reject(res, REF_TRUNC_VLAN);
		ethertype = be16_at(v, l3 + 2);
		l3 += VLAN_TAG;
		res->vlan_tags++;
	}
	if (ethertype == ET_CTAG || ethertype == ET_STAG)
		return reject(res, REF_VLAN_TOO_DEEP);
	/*
	 * An inner frame's Ethernet header may run past the outer datagram
	 * (its wire length here) while the capture holds the bytes after it:
	 * the frame ends inside its Ethernet header. The outer frame's wire
	 * length is never below what was captured.
	 */
	if (l3 > v->wire)
		return reject(res, REF_TRUNC_ETH);
	at->l3 = l3;
	at->ethertype = ethertype;

	switch (ethertype) {
	case ET_IPV4:
		return parse_ipv4(v, l3, res, at);
	case ET_IPV6:
		return parse_ipv6(v, l3, res, at);
	default:
		return reject(res, REF_NON_IP);
	}
}

enum ref_verdict ref_parse(const uint8_t *frame, size_t cap_len,
			   uint64_t wire_len, struct ref_result *res)
{
	struct view v = {
		.p = frame,
		.cap = cap_len,
		.wire = wire_len > cap_len ? wire_len : cap_len,
	};
	struct layout at = { 0 };

	memset(res, 0, sizeof(*res));
	return parse_packet(&v, 0, START_ETH, res, &at);
}

/*
 * ---- Tunnels ---------------------------------------------------------------
 *
 * ref_parse_decap() parses the frame as ref_parse() does, then, if the
 * outer packet is a tunnel's, parses the inner packet with parse_packet()
 * from where the tunnel header ends: the same rules, the same reasons.
 */

/* What looking at a tunnel header came to. */
enum tunnel_state {
	TUN_OPEN,	/* a tunnel: parse the inner packet */
	TUN_UNDECODED,	/* to a tunnel's port or protocol, but not one */
	TUN_TRUNCATED,	/* inside the datagram, not inside the capture */
};

/* A tunnel header, as open_*() read it. */
struct tunnel {
	uint8_t type;		/* enum ref_tunnel */
	bool has_id;
	uint32_t id;
	uint64_t len;		/* the whole header, options and all */
	enum start inner;	/* what the inner packet starts with */
};

static bool is_vxlan_port(uint16_t port, const uint16_t *extra, size_t n)
{
	size_t i;

	if (port == PORT_VXLAN || port == PORT_VXLAN_LINUX)
		return true;
	for (i = 0; i < n; i++)
		if (extra[i] != 0 && extra[i] == port)
			return true;
	return false;
}

/*
 * Which tunnel an accounted packet's headers point at, if any. A fragment
 * is none: only a first fragment holds the tunnel header, and all of a
 * datagram's fragments must go to one row (the outer flow). An IPv6
 * atomic fragment (offset 0, no more to come) is a whole datagram and is
 * not a fragment in that sense.
 */
static uint8_t tunnel_candidate(const struct ref_result *r,
				const uint16_t *extra, size_t n)
{
	if (r->verdict != REF_ACCOUNTED || r->first_fragment || r->later_fragment)
		return REF_TUNNEL_NONE;
	switch (r->proto) {
	case NH_UDP:
		/* VXLAN's ports first: a --vxlan-port of 6081 means VXLAN. */
		if (is_vxlan_port(r->dport, extra, n))
			return REF_TUNNEL_VXLAN;
		return r->dport == PORT_GENEVE ? REF_TUNNEL_GENEVE
					       : REF_TUNNEL_NONE;
	case NH_GRE:
		return REF_TUNNEL_GRE;	/* or ERSPAN: its header says */
	case NH_IPIP:
	case NH_IPV6:
		return REF_TUNNEL_IPIP;
	default:
		return REF_TUNNEL_NONE;
	}
}

/*
 * Can the first @len bytes of the tunnel header at @hdr be read? Bytes
 * past the datagram's @room belong to no one (the outer packet is whole,
 * and a tunnel header it cannot hold makes it no tunnel); bytes inside it
 * but past the capture are the snap length's, as a transport header cut
 * short is trunc_l4. The datagram first: it decides what the packet is.
 */
static enum tunnel_state header_fits(const struct view *v, uint64_t hdr,
				     uint64_t room, uint64_t len)
{
	if (len > room)
		return TUN_UNDECODED;
	if (!captured(v, hdr, len))
		return TUN_TRUNCATED;
	return TUN_OPEN;
}

static uint32_t be24_at(const struct view *v, uint64_t off)
{
	return (uint32_t)v->p[off] << 16 | (uint32_t)v->p[off + 1] << 8 |
	       v->p[off + 2];
}

static uint32_t be32_at(const struct view *v, uint64_t off)
{
	return (uint32_t)v->p[off] << 24 | be24_at(v, off + 1);
}

/* RFC 7348: flags (I = 0x08), 24 reserved bits, the VNI, 8 reserved bits. */
static enum tunnel_state open_vxlan(const struct view *v, uint64_t hdr,
				    uint64_t room, struct tunnel *t)
{
	enum tunnel_state st = header_fits(v, hdr, room, VXLAN_HDR);

	if (st != TUN_OPEN)
		return st;
	/* Without the I flag the VNI is not valid: no VXLAN packet. */
	if (!(v->p[hdr] & 0x08))
		return TUN_UNDECODED;
	t->has_id = true;
	t->id = be24_at(v, hdr + 4);
	t->len = VXLAN_HDR;
	t->inner = START_ETH;
	return TUN_OPEN;
}

/*
 * RFC 8926: version (2 bits), option length in 4-byte words (6 bits),
 * O and C flags, protocol type, VNI, reserved; then the options, skipped
 * by their length whatever they say.
 */
static enum tunnel_state open_geneve(const struct view *v, uint64_t hdr,
				     uint64_t room, struct tunnel *t)
{
	enum tunnel_state st = header_fits(v, hdr, room, GENEVE_HDR);

	if (st != TUN_OPEN)
		return st;
	if (v->p[hdr] >> 6 != 0)	/* a version we do not know the layout of */
		return TUN_UNDECODED;
	t->len = GENEVE_HDR + (v->p[hdr] & 0x3f) * 4u;
	switch (be16_at(v, hdr + 2)) {
	case ET_TEB:
		t->inner = START_ETH;
		break;
	case ET_IPV4:
		t->inner = START_IPV4;
		break;
	case ET_IPV6:
		t->inner = START_IPV6;
		break;
	default:
		return TUN_UNDECODED;
	}
	t->has_id = true;
	t->id = be24_at(v, hdr + 4);
	return TUN_OPEN;	/* the options are checked with the whole header */
}

/*
 * RFC 2784 and RFC 2890: C (0x8000), R (0x4000, RFC 1701's routing), K
 * (0x2000), S (0x1000), version (0x0007), the protocol; then the checksum
 * word, the key and the sequence number, each if its flag is set, in that
 * order. ERSPAN rides on GRE (draft-foschiano-erspan): 0x88be without S is
 * type I (no header of its own), with S type II (8 bytes, version 1),
 * 0x22eb type III (12 bytes, version 2, then an 8-byte platform subheader
 * when the O bit, bit 0 of its last byte, is set).
 */
static enum tunnel_state open_gre(const struct view *v, uint64_t hdr,
				  uint64_t room, struct tunnel *t)
{
	enum tunnel_state st = header_fits(v, hdr, room, GRE_HDR);
	uint16_t flags, proto;
	uint64_t len, key = 0, e;

	if (st != TUN_OPEN)
		return st;
	flags = be16_at(v, hdr);
	proto = be16_at(v, hdr + 2);
	/* Routing (RFC 1701) puts a variable list before the payload;
	 * version 1 is PPTP's enhanced GRE: neither is opened. */
	if (flags & 0x4000 || flags & 0x0007)
		return TUN_UNDECODED;
	/* All that the base header can tell comes before any length. */
	switch (proto) {
	case ET_IPV4:
		t->type = REF_TUNNEL_GRE;
		t->inner = START_IPV4;
		break;
	case ET_IPV6:
		t->type = REF_TUNNEL_GRE;
		t->inner = START_IPV6;
		break;
	case ET_TEB:
		t->type = REF_TUNNEL_GRE;
		t->inner = START_ETH;
		break;
	case ET_ERSPAN:
	case ET_ERSPAN3:
		t->type = REF_TUNNEL_ERSPAN;
		t->inner = START_ETH;
		break;
	default:
		return TUN_UNDECODED;
	}
	len = GRE_HDR;
	if (flags & 0x8000)
		len += 4;
	if (flags & 0x2000) {
		key = len;
		len += 4;
	}
	if (flags & 0x1000)
		len += 4;
	/* The flags announce words the datagram does not hold. */
	st = header_fits(v, hdr, room, len);
	if (st != TUN_OPEN)
		return st;
	t->len = len;
	if (t->type == REF_TUNNEL_GRE) {
		if (key) {
			t->has_id = true;
			t->id = be32_at(v, hdr + key);
		}
		return TUN_OPEN;
	}

	/* ERSPAN: the session ID is the id, not the GRE key. */
	if (proto == ET_ERSPAN && !(flags & 0x1000))
		return TUN_OPEN;	/* type I: Ethernet right after GRE */
	e = hdr + len;
	if (proto == ET_ERSPAN) {
		st = header_fits(v, hdr, room, len + ERSPAN2_HDR);
		if (st != TUN_OPEN)
			return st;
		if (v->p[e] >> 4 != 1)
			return TUN_UNDECODED;
		t->len = len + ERSPAN2_HDR;
	} else {
		st = header_fits(v, hdr, room, len + ERSPAN3_HDR);
		if (st != TUN_OPEN)
			return st;
		if (v->p[e] >> 4 != 2)
			return TUN_UNDECODED;
		t->len = len + ERSPAN3_HDR;
		if (v->p[e + 11] & 0x01)	/* O: the platform subheader */
			t->len += ERSPAN3_SUBHDR;
	}
	/* Version (4), VLAN (12), COS (3), En or BSO (2), T (1), session (10). */
	t->has_id = true;
	t->id = (uint32_t)(v->p[e + 2] & 0x03) << 8 | v->p[e + 3];
	return TUN_OPEN;
}

/*
 * The tunnel of an accounted, unfragmented outer packet of candidate
 * @type, its transport header (or, for IP in IP and GRE, its payload) at
 * @at->l4 with @at->room bytes of the datagram from there.
 */
static enum tunnel_state open_tunnel(const struct view *v,
				     const struct ref_result *outer,
				     const struct layout *at, uint8_t type,
				     struct tunnel *t)
{
	uint64_t hdr = at->l4, room = at->room;
	enum tunnel_state st;

	memset(t, 0, sizeof(*t));
	t->type = type;
	if (type == REF_TUNNEL_VXLAN || type == REF_TUNNEL_GENEVE) {
		/* The UDP header was accounted, so the datagram holds it. */
		hdr += UDP_HDR;
		room -= UDP_HDR;
	}
	if (hdr > TUNNEL_HDR_MAX_OFF)
		return TUN_UNDECODED;

	switch (type) {
	case REF_TUNNEL_VXLAN:
		st = open_vxlan(v, hdr, room, t);
		break;
	case REF_TUNNEL_GENEVE:
		st = open_geneve(v, hdr, room, t);
		break;
	case REF_TUNNEL_GRE:
		st = open_gre(v, hdr, room, t);
		break;
	default:	/* IP in IP: no header, the protocol says the version */
		t->inner = outer->proto == NH_IPIP ? START_IPV4 : START_IPV6;
		/* docs/tunnels.md: the inner IP header must fit in the datagram. */
		st = room < (outer->proto == NH_IPIP ? IPV4_MIN_HDR : IPV6_HDR) ?
		     TUN_UNDECODED : TUN_OPEN;
		break;
	}
	if (st != TUN_OPEN)
		return st;
	/*
	 * The whole header, options and skipped words included: inside the
	 * datagram, or the packet is none of the tunnel's; not too far into
	 * the frame to open; and captured, or it is trunc_tunnel.
	 */
	if (t->len > room)
		return TUN_UNDECODED;
	if (hdr + t->len > INNER_MAX_OFF)
		return TUN_UNDECODED;
	if (!captured(v, hdr, t->len))
		return TUN_TRUNCATED;
	t->len += hdr - at->l4;		/* from the transport header on */
	return TUN_OPEN;
}

/*
 * RFC 3032: 4-byte entries (label 20 bits, traffic class 3, bottom of
 * stack 1, TTL 8) down to the one with S set, then a packet that says
 * nothing of its type: its first nibble is the IP version, and anything
 * else (a pseudowire's control word or Ethernet) is not IP.
 */
static enum ref_verdict decap_mpls(const struct view *v, size_t l3,
				   struct ref_result *res)
{
	struct layout at = { 0 };
	uint32_t entry = 0;
	uint64_t off = l3;
	enum start inner;
	int i;

	memset(res, 0, sizeof(*res));
	res->tunnel = REF_TUNNEL_MPLS;
	for (i = 0; i < MPLS_MAX_DEPTH; i++) {
		/* wire >= cap: a label inside the capture is inside the frame */
		if (!captured(v, off, MPLS_ENTRY))
			return reject(res, REF_TRUNC_MPLS);
		entry = be32_at(v, off);
		if (i == 0) {		/* the top label: the id */
			res->tunnel_has_id = true;
			res->tunnel_id = entry >> 12;
		}
		off += MPLS_ENTRY;
		if (entry & 0x100)
			break;
	}
	if (!(entry & 0x100))
		return reject(res, REF_MPLS_TOO_DEEP);
	if (!captured(v, off, 1))
		return reject(res, REF_TRUNC_MPLS);
	switch (v->p[off] >> 4) {
	case 4:
		inner = START_IPV4;
		break;
	case 6:
		inner = START_IPV6;
		break;
	default:
		return reject(res, REF_NON_IP);
	}
	/* At most 14 + 8 + 32 bytes in: never past INNER_MAX_OFF. */
	parse_packet(v, off, inner, res, &at);
	return res->verdict;
}

/* The tunnel fields of a packet that came through @t from @outer. */
static void note_tunnel(struct ref_result *res, const struct tunnel *t,
			const struct ref_result *outer)
{
	res->tunnel = t->type;
	res->tunnel_id = t->id;
	res->tunnel_has_id = t->has_id;
	res->outer_ip_version = outer->ip_version;
	memcpy(res->outer_src, outer->src, 16);
	memcpy(res->outer_dst, outer->dst, 16);
}

enum ref_verdict ref_parse_decap(const uint8_t *frame, size_t cap_len,
				 uint64_t wire_len, const uint16_t *vxlan_ports,
				 size_t n_ports, struct ref_result *res)
{
	struct view v = {
		.p = frame,
		.cap = cap_len,
		.wire = wire_len > cap_len ? wire_len : cap_len,
	};
	struct layout at = { 0 }, inner_at = { 0 };
	struct view iv;
	struct ref_result outer;
	struct tunnel t;
	enum ref_verdict verdict;
	uint8_t type;

	if (!vxlan_ports)
		n_ports = 0;
	memset(res, 0, sizeof(*res));
	verdict = parse_packet(&v, 0, START_ETH, res, &at);

	if (verdict == REF_NON_IP &&
	    (at.ethertype == ET_MPLS_UC || at.ethertype == ET_MPLS_MC)) {
		/* No IP header outside, so no outer addresses. */
		verdict = decap_mpls(&v, at.l3, res);
	} else {
		type = tunnel_candidate(res, vxlan_ports, n_ports);
		if (type == REF_TUNNEL_NONE)
			return verdict;		/* exactly ref_parse() */
		outer = *res;
		switch (open_tunnel(&v, &outer, &at, type, &t)) {
		case TUN_UNDECODED:
			/* ref_parse()'s outer flow, with the note. */
			res->tunnel_undecoded = true;
			return verdict;
		case TUN_TRUNCATED:
			/* The outer packet's fields, and no id: the
			 * header it would be in was not all there. */
			t.has_id = false;
			t.id = 0;
			note_tunnel(res, &t, &outer);
			return reject(res, REF_TRUNC_TUNNEL);
		case TUN_OPEN:
			break;
		}
		memset(res, 0, sizeof(*res));
		/*
		 * docs/tunnels.md: the inner packet ends with the outer
		 * datagram, whatever the frame holds after it.
		 */
		iv = v;
		if (at.l4 + at.room < iv.wire)
			iv.wire = at.l4 + at.room;
		verdict = parse_packet(&iv, at.l4 + t.len, t.inner, res, &inner_at);
		note_tunnel(res, &t, &outer);
	}
	/* One level: a tunnel inside is the flow, noted, not opened. */
	if (tunnel_candidate(res, vxlan_ports, n_ports) != REF_TUNNEL_NONE)
		res->tunnel_nested = true;
	return verdict;
}
