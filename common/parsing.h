/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Bounds-checked packet parsers for the BPF programs, built around a cursor
 * over [data, data_end). Each parse_* helper:
 *  - reads nothing before checking it lies below data_end;
 *  - returns 0 on success and leaves the cursor on the next header, or
 *    returns the flow_counter that names why the frame is not accountable
 *    (all such values are > 0, FLOW_C_SEEN being 0), cursor unspecified;
 *  - stores addresses and ports in network byte order, lengths in host order.
 * Lengths claimed by headers are checked twice: against what the frame held
 * on the wire (so a short frame cannot claim a large datagram) and against
 * the captured bytes before any read.
 */
#ifndef FLOW_PARSING_H
#define FLOW_PARSING_H

#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "flow_kern_user.h"

/* The load-time configuration (flow_maps.h defines it): --decap's ports. */
extern const volatile struct flow_config flow_cfg;

/* Tags walked before the frame is called vlan_too_deep: 802.1ad + 802.1Q. */
#ifndef VLAN_MAX_DEPTH
#define VLAN_MAX_DEPTH 2
#endif

/* IPv6 extension headers walked before the frame is ipv6_ext_too_many. */
#ifndef IPV6_EXT_MAX_CHAIN
#define IPV6_EXT_MAX_CHAIN 8
#endif

#define IP_MF		0x2000
#define IP_OFFSET	0x1fff
#define IP6_OFFSET	0xfff8

struct hdr_cursor {
	void *pos;
};

/* Not in the UAPI headers (linux/if_vlan.h is kernel-internal). */
struct vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

/* Same: the kernel's struct frag_hdr is in net/ipv6.h. */
struct ipv6_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 identification;
};

/* What the hook knows about the frame before parsing it. */
struct parse_ctx {
	void *data;
	void *data_end;
	__u64 wire_len;	/* frame length on the wire, from the MAC header */
	/*
	 * Replay only: the kernel runs no frame shorter than an Ethernet
	 * header, nor an untagged IP frame shorter than its fixed IP header,
	 * so such frames are run padded. Only cap_len bytes are real.
	 */
	__u32 cap_len;
	__u8 padded;
	__u8 gso;	/* a GSO frame: a zero IP length means "the rest" */
	/*
	 * XDP, live: wire_len is the linear part until a header claims more;
	 * only then is a multi-buffer frame's whole length asked for (a
	 * helper call most frames do not need). NULL once asked, and
	 * elsewhere.
	 */
	struct xdp_md *xdp;
};

/* The bytes the frame held on the wire from @l3_off on, fragments and all. */
static __always_inline __u64 parse_room_all(struct parse_ctx *pc, __u64 l3_off)
{
	if (pc->xdp) {
		pc->wire_len = bpf_xdp_get_buff_len(pc->xdp);
		pc->xdp = NULL;
	}
	return pc->wire_len > l3_off ? pc->wire_len - l3_off : 0;
}

/* A padded frame whose real bytes end before @need: nothing to read there. */
static __always_inline int cap_short(struct parse_ctx *pc, __u64 need)
{
	return pc->padded && pc->cap_len < need;
}

/* What parsing one accountable frame yields. */
struct flow_pkt {
	struct flow_key key;
	__u32 ip_len;	/* IP-layer octets: IPv4 total length, IPv6 40 + payload */
	__u32 hdr_len;	/* IP, extension and transport header bytes */
	__u32 l4_room;	/* bytes of the datagram after the IP headers */
	__u32 invariant; /* a field no router changes, for hash sampling */
	__u32 frag_id;	/* IPv4 ID or IPv6 Identification of a fragment */
	__u8 frag_proto; /* IPv4 protocol, or the fragment header's next header */
	__u32 l4_off;	/* where the transport header starts, from data */
	__u8 tcp_flags;
	__u8 frag;	/* enum flow_frag */
	__u8 odd;	/* FLOW_ODD_*: accounted, and worth a counter */
	struct flow_tunnel tun;	/* key.tunnel set: what it came through */
};

/*
 * Accounted packets with something unusual about them, each counted in an
 * informational counter: a reason would take them out of their flow.
 */
#define FLOW_ODD_JUMBO		1	/* IPv6 payload length 0: RFC 2675 or BIG TCP */
#define FLOW_ODD_TCP_DOFF	2	/* TCP data offset < 5 or past the datagram */
#define FLOW_ODD_V4_LEN		4	/* IPv4 total length 0: TSO or BIG TCP */
#define FLOW_ODD_TUN_NESTED	8	/* the inner packet is a tunnel too */
#define FLOW_ODD_TUN_UNDECODED	16	/* to a tunnel's port, not one: the outer flow */

/* RFC 2675's Jumbo Payload option type (linux/ipv6.h has it too, lately). */
#ifndef IPV6_TLV_JUMBO
#define IPV6_TLV_JUMBO 0xc2
#endif

enum flow_frag {
	FLOW_FRAG_NONE = 0,
	FLOW_FRAG_FIRST,	/* offset 0, more to come: carries the ports */
	FLOW_FRAG_LATER,	/* offset > 0: no transport header here */
};

static __always_inline int proto_is_vlan(__be16 h_proto)
{
	return h_proto == bpf_htons(ETH_P_8021Q) ||
	       h_proto == bpf_htons(ETH_P_8021AD);
}

/**
 * parse_ethhdr - Ethernet header and up to VLAN_MAX_DEPTH tags
 * @ethertype: out, the ethertype after the tags, network byte order
 */
static __always_inline int parse_ethhdr(struct hdr_cursor *nh, void *data_end,
					__be16 *ethertype)
{
	struct ethhdr *eth = nh->pos;
	struct vlan_hdr *vh;
	__be16 proto;
	int i;

	if ((void *)(eth + 1) > data_end)
		return FLOW_C_TRUNC_ETH;
	proto = eth->h_proto;
	nh->pos = eth + 1;

#pragma unroll
	for (i = 0; i < VLAN_MAX_DEPTH; i++) {
		if (!proto_is_vlan(proto))
			break;
		vh = nh->pos;
		if ((void *)(vh + 1) > data_end)
			return FLOW_C_TRUNC_VLAN;
		proto = vh->encap_proto;
		nh->pos = vh + 1;
	}
	if (proto_is_vlan(proto))
		return FLOW_C_VLAN_TOO_DEEP;
	*ethertype = proto;
	return 0;
}

/* IPv4 addresses go into the low 4 bytes of an IPv4-mapped IPv6 address. */
static __always_inline void addr_map_v4(__u8 *dst, __be32 addr)
{
	__u32 *w = (__u32 *)dst;

	w[0] = 0;
	w[1] = 0;
	w[2] = bpf_htonl(0x0000ffff);
	w[3] = addr;
}

/**
 * parse_iphdr - IPv4 header with options
 * @l3_off: where it starts in the frame
 *
 * On success the cursor is past the options, pkt->ip_len is the total length
 * (for TCP, or any GSO frame, with a total length of 0: the frame's length
 * from the IP header on) and pkt->key.proto the protocol; pkt->frag says
 * whether this is a first or a later fragment (whose transport header is
 * not here).
 */
static __always_inline int parse_iphdr(struct hdr_cursor *nh, void *data_end,
				       struct parse_ctx *pc, __u64 l3_off,
				       struct flow_pkt *pkt)
{
	struct iphdr *iph = nh->pos;
	__u64 room = pc->wire_len - l3_off;
	__u32 hlen, tot_len;

	if ((void *)(iph + 1) > data_end)
		return FLOW_C_TRUNC_IPV4;
	if (iph->version != 4)
		return FLOW_C_BAD_IP_VERSION;
	hlen = iph->ihl * 4;
	if (hlen < sizeof(*iph))
		return FLOW_C_BAD_IHL;
	tot_len = bpf_ntohs(iph->tot_len);
	if (tot_len == 0 && (pc->gso || iph->protocol == IPPROTO_TCP) &&
	    (room = parse_room_all(pc, l3_off)) > hlen && room <= 0xffffffff) {
		/*
		 * BIG TCP sends GSO frames over 64 KiB with tot_len 0, and a
		 * capture taken before TSO or GSO split a segment holds it
		 * with tot_len 0 too (the NIC or GSO writes each segment's):
		 * the frame's length stands in, as in tshark. Without GSO
		 * only TCP is taken so, as for IPv6; anything else stays
		 * bad_ipv4_len.
		 */
		tot_len = room;
		pkt->odd |= FLOW_ODD_V4_LEN;
	}
	if (tot_len > room)
		room = parse_room_all(pc, l3_off);
	if (tot_len < hlen || tot_len > room)
		return FLOW_C_BAD_IPV4_LEN;
	if (nh->pos + hlen > data_end)
		return FLOW_C_TRUNC_IPV4;

	addr_map_v4(pkt->key.src, iph->saddr);
	addr_map_v4(pkt->key.dst, iph->daddr);
	pkt->key.ip_version = 4;
	pkt->key.proto = iph->protocol;
	pkt->invariant = iph->id;
	if (bpf_ntohs(iph->frag_off) & IP_OFFSET)
		pkt->frag = FLOW_FRAG_LATER;
	else if (bpf_ntohs(iph->frag_off) & IP_MF)
		pkt->frag = FLOW_FRAG_FIRST;
	pkt->frag_id = iph->id;
	pkt->frag_proto = iph->protocol;
	pkt->ip_len = tot_len;
	pkt->hdr_len = hlen;
	pkt->l4_room = tot_len - hlen;
	nh->pos += hlen;
	return 0;
}

static __always_inline int ipv6_is_ext(__u8 nexthdr)
{
	return nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
	       nexthdr == IPPROTO_DSTOPTS || nexthdr == IPPROTO_FRAGMENT ||
	       nexthdr == IPPROTO_AH;
}

/**
 * parse_ipv6_exthdrs - walk extension headers to the transport header
 *
 * Walks at most IPV6_EXT_MAX_CHAIN hop-by-hop, routing, destination-options,
 * fragment and AH headers, each inside the payload length. Stops at the first
 * other next-header value (transport, ESP, no-next-header, ...), which becomes
 * the flow's protocol, or at a fragment header with a non-zero offset, whose
 * own next-header value becomes the protocol (pkt->frag set to LATER).
 */
static __always_inline int parse_ipv6_exthdrs(struct hdr_cursor *nh,
					      void *data_end, __u8 nexthdr,
					      struct flow_pkt *pkt)
{
	struct ipv6_frag_hdr *fh;
	__u8 *opt;
	__u32 len;
	int i;

	for (i = 0; i < IPV6_EXT_MAX_CHAIN; i++) {
		if (!ipv6_is_ext(nexthdr))
			break;

		opt = nh->pos;
		if (nexthdr == IPPROTO_FRAGMENT) {
			fh = nh->pos;
			if (pkt->l4_room < sizeof(*fh) ||
			    (void *)(fh + 1) > data_end)
				return FLOW_C_TRUNC_IPV6_EXT;
			nexthdr = fh->nexthdr;
			len = sizeof(*fh);
			pkt->frag_id = fh->identification;
			pkt->frag_proto = fh->nexthdr;
			if (bpf_ntohs(fh->frag_off) & IP6_OFFSET) {
				pkt->frag = FLOW_FRAG_LATER;
				pkt->key.proto = nexthdr;
				return 0;
			}
			/*
			 * M set: a first fragment; clear: atomic, not
			 * fragmented. Of several fragment headers (RFC 8200
			 * allows one) the last walked decides, as for the ID.
			 */
			pkt->frag = bpf_ntohs(fh->frag_off) & 1 ?
				    FLOW_FRAG_FIRST : FLOW_FRAG_NONE;
		} else {
			/* Every header here starts with next header, length. */
			if (pkt->l4_room < 8 || (void *)(opt + 2) > data_end)
				return FLOW_C_TRUNC_IPV6_EXT;
			if (nexthdr == IPPROTO_AH)
				len = ((__u32)opt[1] + 2) * 4;
			else
				len = ((__u32)opt[1] + 1) * 8;
			nexthdr = opt[0];
			if (len > pkt->l4_room)
				return FLOW_C_TRUNC_IPV6_EXT;
		}
		nh->pos += len;
		pkt->l4_room -= len;
		pkt->hdr_len += len;
	}
	if (ipv6_is_ext(nexthdr))
		return FLOW_C_IPV6_EXT_TOO_MANY;
	pkt->key.proto = nexthdr;
	return 0;
}

/**
 * parse_ipv6hdr - IPv6 header and its extension headers
 * @l3_off: where it starts in the frame
 */
static __always_inline int parse_ipv6hdr(struct hdr_cursor *nh, void *data_end,
					 struct parse_ctx *pc, __u64 l3_off,
					 struct flow_pkt *pkt)
{
	struct ipv6hdr *ip6h = nh->pos;
	__u64 room = pc->wire_len - l3_off;
	__u32 plen;
	int strip = 0, err;

	if ((void *)(ip6h + 1) > data_end)
		return FLOW_C_TRUNC_IPV6;
	if (ip6h->version != 6)
		return FLOW_C_BAD_IP_VERSION;
	plen = bpf_ntohs(ip6h->payload_len);
	if (plen == 0 && ip6h->nexthdr == IPPROTO_HOPOPTS) {
		/*
		 * RFC 2675: the length is in a Jumbo Payload option. It is
		 * read where BIG TCP and every stack put it, first in its
		 * hop-by-hop header (its 4n+2 alignment puts it there).
		 */
		__u8 *hbh = (__u8 *)(ip6h + 1);
		__be32 jumbo;

		if ((void *)(hbh + 8) > data_end)
			return FLOW_C_TRUNC_IPV6_EXT;
		if (hbh[2] != IPV6_TLV_JUMBO || hbh[3] != 4)
			return FLOW_C_BAD_IPV6_LEN;
		__builtin_memcpy(&jumbo, hbh + 4, sizeof(jumbo));
		plen = bpf_ntohl(jumbo);
		/* Under 64 KiB it is an error (RFC 2675, section 3). */
		if (plen <= 0xffff)
			return FLOW_C_BAD_IPV6_LEN;
		pkt->odd |= FLOW_ODD_JUMBO;
		strip = pc->gso;
	} else if (plen == 0 && (pc->gso || ip6h->nexthdr == IPPROTO_TCP) &&
		   (room = parse_room_all(pc, l3_off)) > sizeof(*ip6h) &&
		   room <= 0xffffffff) {
		/*
		 * BIG TCP without the option (newer kernels leave payload_len
		 * 0 alone): the frame's length stands in, as in tcpdump.
		 * Without GSO only TCP is taken so: a bare zero-length header
		 * (no next header, Ethernet padding after it) stays 40 bytes.
		 */
		plen = room - sizeof(*ip6h);
		pkt->odd |= FLOW_ODD_JUMBO;
	}
	if (sizeof(*ip6h) + (__u64)plen > room)
		room = parse_room_all(pc, l3_off);
	if (sizeof(*ip6h) + (__u64)plen > room)
		return FLOW_C_BAD_IPV6_LEN;

	__builtin_memcpy(pkt->key.src, &ip6h->saddr, 16);
	__builtin_memcpy(pkt->key.dst, &ip6h->daddr, 16);
	pkt->key.ip_version = 6;
	pkt->ip_len = sizeof(*ip6h) + plen;
	pkt->hdr_len = sizeof(*ip6h);
	pkt->l4_room = plen;
	nh->pos = ip6h + 1;
	err = parse_ipv6_exthdrs(nh, data_end, ip6h->nexthdr, pkt);
	/*
	 * GSO takes the option out of each segment it sends when it is the
	 * whole hop-by-hop header and TCP follows (the kernel's
	 * ipv6_has_hopopt_jumbo()): the walk then went through 8 bytes of
	 * headers to TCP. Any other header stays in each segment. Decided
	 * after the walk, so that the walk's states do not split on it (the
	 * verifier's budget).
	 */
	if (!err && strip && pkt->key.proto == IPPROTO_TCP &&
	    pkt->hdr_len == sizeof(*ip6h) + 8) {
		pkt->ip_len -= 8;
		pkt->hdr_len -= 8;
	}
	return err;
}

/**
 * parse_l4hdr - ports (or ICMP type and code) and TCP flags
 *
 * The transport header must lie inside the datagram (pkt->l4_room) and inside
 * the captured bytes. Protocols without ports keep ports 0.
 */
static __always_inline int parse_l4hdr(struct hdr_cursor *nh, void *data_end,
				       struct flow_pkt *pkt)
{
	__u8 proto = pkt->key.proto;
	struct tcphdr *th;
	struct udphdr *uh;
	__u8 *icmp;
	__u32 doff;

	if (proto == IPPROTO_TCP) {
		th = nh->pos;
		if (pkt->l4_room < sizeof(*th) || (void *)(th + 1) > data_end)
			return FLOW_C_TRUNC_L4;
		/*
		 * A bogus data offset must not take a segment out of its
		 * flow: the ports are in the first four bytes. Its header
		 * counts as the 20 bytes that are surely there.
		 */
		doff = th->doff * 4;
		if (doff < sizeof(*th) || doff > pkt->l4_room) {
			pkt->odd |= FLOW_ODD_TCP_DOFF;
			doff = sizeof(*th);
		}
		pkt->key.sport = th->source;
		pkt->key.dport = th->dest;
		/* Byte 13 holds all eight flags, FIN in bit 0 to CWR in bit 7. */
		pkt->tcp_flags = ((__u8 *)th)[13];
		pkt->invariant = th->seq;
		pkt->hdr_len += doff;
	} else if (proto == IPPROTO_UDP) {
		uh = nh->pos;
		if (pkt->l4_room < sizeof(*uh) || (void *)(uh + 1) > data_end)
			return FLOW_C_TRUNC_L4;
		pkt->key.sport = uh->source;
		pkt->key.dport = uh->dest;
		pkt->invariant = uh->check;
		pkt->hdr_len += sizeof(*uh);
	} else if ((proto == IPPROTO_ICMP && pkt->key.ip_version == 4) ||
		   (proto == IPPROTO_ICMPV6 && pkt->key.ip_version == 6)) {
		/* Type, code, checksum and 4 more bytes: the smallest message. */
		icmp = nh->pos;
		if (pkt->l4_room < 8 || (void *)(icmp + 8) > data_end)
			return FLOW_C_TRUNC_L4;
		pkt->key.dport = bpf_htons(((__u16)icmp[0] << 8) | icmp[1]);
		/* Echo identifier and sequence, or what the type puts there. */
		pkt->invariant = *(__u32 *)(icmp + 4);
		pkt->hdr_len += 8;
	}
	return 0;
}

/* A UDP destination port a tunnel listens on (@port in network order). */
static __always_inline int udp_port_is_vxlan(__be16 port)
{
	int i;

	if (port == bpf_htons(VXLAN_PORT) || port == bpf_htons(VXLAN_PORT_LINUX))
		return 1;
#pragma unroll
	for (i = 0; i < FLOW_VXLAN_EXTRA_PORTS; i++)
		if (flow_cfg.vxlan_ports[i] && port == flow_cfg.vxlan_ports[i])
			return 1;
	return 0;
}

static __always_inline int udp_port_is_tunnel(__be16 port)
{
	return port == bpf_htons(GENEVE_PORT) || udp_port_is_vxlan(port);
}

/**
 * parse_frame_fast - the common frame in a third of the full parse's work
 *
 * Ethernet without tags; IPv4 without options and not a fragment, or IPv6
 * without extension headers, with a non-zero length inside the frame; TCP
 * with a data offset inside the datagram, or UDP; every header inside the
 * captured bytes. For such a frame it fills in pkt as parse_frame_l3() and
 * parse_frame_l4() would (fields only a fragment needs aside), on a pkt
 * that need not have been zeroed, and returns 1. Anything else, however slightly odd, returns 0 having written
 * nothing that the full parse does not write again: the full parse then
 * decides, with its reasons. Replay runs it too, so the fuzzer holds it to
 * the reference parser like the rest.
 */
static __always_inline int parse_frame_fast(const struct parse_ctx *pc,
					    struct flow_pkt *pkt)
{
	void *data = pc->data, *data_end = pc->data_end, *l4;
	struct ethhdr *eth = data;
	__u32 ip_len, l3_hlen, l4_room, doff;
	__u8 proto;

	if (pc->padded || (void *)(eth + 1) > data_end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end || *(__u8 *)iph != 0x45 ||
		    (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET)))
			return 0;
		ip_len = bpf_ntohs(iph->tot_len);
		if (ip_len < sizeof(*iph) || ETH_HLEN + (__u64)ip_len > pc->wire_len)
			return 0;
		l3_hlen = sizeof(*iph);
		proto = iph->protocol;
		l4 = iph + 1;
		addr_map_v4(pkt->key.src, iph->saddr);
		addr_map_v4(pkt->key.dst, iph->daddr);
		pkt->key.ip_version = 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = (void *)(eth + 1);

		if ((void *)(ip6h + 1) > data_end || ip6h->version != 6 ||
		    !ip6h->payload_len)
			return 0;
		ip_len = sizeof(*ip6h) + bpf_ntohs(ip6h->payload_len);
		if (ETH_HLEN + (__u64)ip_len > pc->wire_len)
			return 0;
		l3_hlen = sizeof(*ip6h);
		proto = ip6h->nexthdr;
		l4 = ip6h + 1;
		__builtin_memcpy(pkt->key.src, &ip6h->saddr, 16);
		__builtin_memcpy(pkt->key.dst, &ip6h->daddr, 16);
		pkt->key.ip_version = 6;
	} else {
		return 0;
	}
	l4_room = ip_len - l3_hlen;
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if (l4_room < sizeof(*th) || (void *)(th + 1) > data_end)
			return 0;
		doff = th->doff * 4;
		if (doff < sizeof(*th) || doff > l4_room)
			return 0;
		pkt->key.sport = th->source;
		pkt->key.dport = th->dest;
		pkt->tcp_flags = ((__u8 *)th)[13];
		pkt->invariant = th->seq;
	} else if (proto == IPPROTO_UDP) {
		struct udphdr *uh = l4;

		if (l4_room < sizeof(*uh) || (void *)(uh + 1) > data_end)
			return 0;
		/* With --decap, the tunnels' ports go the full way. */
		if (flow_cfg.decap && udp_port_is_tunnel(uh->dest))
			return 0;
		doff = sizeof(*uh);
		pkt->key.sport = uh->source;
		pkt->key.dport = uh->dest;
		pkt->tcp_flags = 0;
		pkt->invariant = uh->check;
	} else {
		return 0;
	}
	pkt->key.proto = proto;
	pkt->key.tunnel = 0;
	pkt->key.tunnel_tag = 0;
	pkt->ip_len = ip_len;
	pkt->hdr_len = l3_hlen + doff;
	pkt->l4_off = ETH_HLEN + l3_hlen;
	pkt->frag = FLOW_FRAG_NONE;
	pkt->odd = 0;
	return 1;
}

/*
 * The IP header at the cursor, whose ethertype says which, and its
 * extension headers: the part of parse_frame_l3() that a tunnel's inner
 * packet goes through again.
 */
static __always_inline int parse_frame_ip(struct parse_ctx *pc,
					  struct hdr_cursor *nh,
					  __be16 ethertype, struct flow_pkt *pkt)
{
	__u64 l3_off = nh->pos - pc->data;
	int err;

	if (l3_off > pc->wire_len)
		return FLOW_C_TRUNC_ETH;
	if (ethertype == bpf_htons(ETH_P_IP)) {
		if (cap_short(pc, l3_off + sizeof(struct iphdr)))
			return FLOW_C_TRUNC_IPV4;
		err = parse_iphdr(nh, pc->data_end, pc, l3_off, pkt);
	} else if (ethertype == bpf_htons(ETH_P_IPV6)) {
		if (cap_short(pc, l3_off + sizeof(struct ipv6hdr)))
			return FLOW_C_TRUNC_IPV6;
		err = parse_ipv6hdr(nh, pc->data_end, pc, l3_off, pkt);
	} else {
		return FLOW_C_NON_IP;
	}
	pkt->l4_off = nh->pos - pc->data;
	return err;
}

/**
 * parse_frame_l3 - Ethernet, VLAN tags, IP and IPv6 extension headers
 *
 * Returns 0 with pkt filled in up to the transport header, whose offset from
 * data is pkt->l4_off, or the counter naming why the frame is not
 * accountable. parse_frame_l4() goes on from there, unless pkt->frag is
 * FLOW_FRAG_LATER (there is no transport header then).
 */
static __always_inline int parse_frame_l3(struct parse_ctx *pc,
					  struct flow_pkt *pkt)
{
	struct hdr_cursor nh = { .pos = pc->data };
	__be16 ethertype;
	int err;

	if (cap_short(pc, ETH_HLEN))
		return FLOW_C_TRUNC_ETH;
	err = parse_ethhdr(&nh, pc->data_end, &ethertype);
	if (err)
		return err;
	return parse_frame_ip(pc, &nh, ethertype, pkt);
}

/**
 * parse_frame_l4 - the transport header at pkt->l4_off
 *
 * It starts again from a scalar offset, so the many cursor states
 * parse_frame_l3() ends in do not each run through it in the verifier.
 */
static __always_inline int parse_frame_l4(struct parse_ctx *pc,
					  struct flow_pkt *pkt)
{
	__u64 off = pkt->l4_off;
	struct hdr_cursor nh;

	if (off > L4_OFF_MAX)
		return FLOW_C_TRUNC_L4;
	/*
	 * Inlined after parse_frame_l3(), clang would reuse the 32-bit
	 * pointer difference, whose upper half the verifier does not know:
	 * the mask, which the barrier keeps, bounds it.
	 */
	asm volatile("" : "+r"(off));
	nh.pos = pc->data + (off & L4_OFF_MAX);
	return parse_l4hdr(&nh, pc->data_end, pkt);
}


/* ---- tunnels: --decap inner ------------------------------------------ */

/* A tunnel's header says it is not one, or lies past its datagram. */
#define TUN_UNDECODED	(-1)

/* Where the inner packet starts and what it is: Ethernet, or IP. */
struct tun_inner {
	__u64 off;
	__be16 type;	/* ETH_P_TEB_, ETH_P_IP or ETH_P_IPV6 */
};

/* Is this parsed outer packet one that --decap inner opens? */
static __always_inline int pkt_is_tunnel(const struct flow_pkt *pkt)
{
	/*
	 * A fragmented outer datagram stays the outer flow: only its first
	 * fragment holds the tunnel header, and its fragments must share
	 * one row.
	 */
	if (pkt->frag != FLOW_FRAG_NONE)
		return 0;
	if (pkt->key.proto == IPPROTO_UDP)
		return udp_port_is_tunnel(pkt->key.dport);
	return pkt->key.proto == IPPROTO_GRE || pkt->key.proto == IPPROTO_IPIP ||
	       pkt->key.proto == IPPROTO_IPV6;
}

/*
 * @len bytes of tunnel header at @off: inside the datagram (@room bytes
 * left in it), else not a tunnel; inside the captured bytes, else a
 * truncation (at TC, the program pulls the headers and parses again).
 * Returns the header, or NULL with *err set.
 */
static __always_inline __u8 *tun_hdr(struct parse_ctx *pc, __u64 off,
				     __u32 len, __u32 room, int *err)
{
	__u8 *h;

	/* Past 32 KiB (a long IPv6 header chain): not opened. */
	if (len > room || off > L4_OFF_MAX) {
		*err = TUN_UNDECODED;
		return NULL;
	}
	asm volatile("" : "+r"(off));
	h = pc->data + (off & L4_OFF_MAX);
	if ((void *)(h + len) > pc->data_end) {
		*err = FLOW_C_TRUNC_TUNNEL;
		return NULL;
	}
	return h;
}

/*
 * The GRE header at the outer transport offset (RFC 2784, RFC 2890), and
 * ERSPAN's after it: fills in @t and @in, or returns why not.
 */
static __always_inline int tun_gre(struct parse_ctx *pc, const struct flow_pkt *pkt,
				   struct flow_tunnel *t, struct tun_inner *in)
{
	__u64 off = pkt->l4_off;
	__u32 room = pkt->l4_room, len = 4, elen;
	__u16 flags;
	__be16 proto;
	__u8 *h, *e;
	int err = 0, v3;

	h = tun_hdr(pc, off, 4, room, &err);
	if (!h)
		return err;
	flags = ((__u16)h[0] << 8) | h[1];
	proto = *(__be16 *)(h + 2);
	if (flags & (GRE_F_ROUTING | GRE_VERSION))
		return TUN_UNDECODED;
	/* What the base header says is judged before any length. */
	if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6) &&
	    proto != bpf_htons(ETH_P_TEB_) && proto != bpf_htons(ETH_P_ERSPAN12) &&
	    proto != bpf_htons(ETH_P_ERSPAN3))
		return TUN_UNDECODED;
	len += (flags & GRE_F_CSUM ? 4 : 0) + (flags & GRE_F_KEY ? 4 : 0) +
	       (flags & GRE_F_SEQ ? 4 : 0);
	if (len > room)
		return TUN_UNDECODED;	/* flags announce fields past the datagram */
	if (flags & GRE_F_KEY) {
		/* The key follows the checksum word, if there is one. */
		h = tun_hdr(pc, off + (flags & GRE_F_CSUM ? 8 : 4), 4, room, &err);
		if (!h)
			return err;
		t->id = bpf_ntohl(*(__be32 *)h);
		t->has_id = 1;
	}
	t->type = FLOW_TUN_GRE;
	in->off = off + len;
	if (proto == bpf_htons(ETH_P_IP) || proto == bpf_htons(ETH_P_IPV6) ||
	    proto == bpf_htons(ETH_P_TEB_)) {
		in->type = proto;
		return 0;
	}
	t->type = FLOW_TUN_ERSPAN;
	in->type = bpf_htons(ETH_P_TEB_);
	if (proto == bpf_htons(ETH_P_ERSPAN12) && !(flags & GRE_F_SEQ)) {
		/* Type I: Ethernet right after a bare GRE header, no session. */
		t->id = 0;
		t->has_id = 0;
		return 0;
	}
	/* Type II (version 1) has 8 bytes of header, type III (2) 12. */
	v3 = proto == bpf_htons(ETH_P_ERSPAN3);
	e = tun_hdr(pc, off + len, 8, room - len, &err);
	if (!e)
		return err;
	if ((e[0] >> 4) != (v3 ? 2 : 1))
		return TUN_UNDECODED;
	t->id = ((__u32)(e[2] & 3) << 8) | e[3];	/* the 10-bit session ID */
	t->has_id = 1;
	elen = 8;
	if (v3) {
		e = tun_hdr(pc, off + len, 12, room - len, &err);
		if (!e)
			return err;
		/* O: a platform-specific subheader of 8 bytes follows. */
		elen = e[11] & 1 ? 20 : 12;
		if (len + elen > room)
			return TUN_UNDECODED;
	}
	in->off = off + len + elen;
	return 0;
}

/* VXLAN (RFC 7348) or Geneve (RFC 8926) after the outer UDP header. */
static __always_inline int tun_udp(struct parse_ctx *pc, const struct flow_pkt *pkt,
				   struct flow_tunnel *t, struct tun_inner *in)
{
	__u64 off = pkt->l4_off + 8;
	__u32 room = pkt->l4_room - 8, olen;
	__u8 *h;
	int err = 0;

	h = tun_hdr(pc, off, 8, room, &err);
	if (!h)
		return err;
	t->id = ((__u32)h[4] << 16) | ((__u32)h[5] << 8) | h[6];
	t->has_id = 1;
	if (udp_port_is_vxlan(pkt->key.dport)) {
		if (!(h[0] & 0x08))
			return TUN_UNDECODED;	/* the I flag: a valid VNI */
		t->type = FLOW_TUN_VXLAN;
		in->off = off + 8;
		in->type = bpf_htons(ETH_P_TEB_);
		return 0;
	}
	if (h[0] >> 6)
		return TUN_UNDECODED;	/* a Geneve version not known */
	olen = (h[0] & 0x3f) * 4;
	if (8 + olen > room)
		return TUN_UNDECODED;	/* options past the datagram */
	in->type = *(__be16 *)(h + 2);
	if (in->type != bpf_htons(ETH_P_TEB_) && in->type != bpf_htons(ETH_P_IP) &&
	    in->type != bpf_htons(ETH_P_IPV6))
		return TUN_UNDECODED;
	t->type = FLOW_TUN_GENEVE;
	in->off = off + 8 + olen;
	return 0;
}

/*
 * An MPLS label stack after the Ethernet header (and its tags), the frame
 * having no IP header of its own: the top label is the id, and the first
 * nibble after the bottom of the stack says which IP follows.
 */
static __always_inline int tun_mpls(struct parse_ctx *pc, struct flow_tunnel *t,
				    struct tun_inner *in)
{
	struct hdr_cursor nh = { .pos = pc->data };
	void *data_end = pc->data_end;
	__be16 ethertype;
	__u32 lbl;
	__u64 at;
	__u8 *p;
	int i, err, bottom = 0;

	err = parse_ethhdr(&nh, data_end, &ethertype);
	if (err)
		return err;
	if (ethertype != bpf_htons(ETH_P_MPLS_UC_) &&
	    ethertype != bpf_htons(ETH_P_MPLS_MC_))
		return FLOW_C_NON_IP;
	/* Where the labels are, as a number: the wire length is one. */
	at = nh.pos - pc->data;
#pragma unroll
	for (i = 0; i < FLOW_MPLS_MAX_DEPTH; i++) {
		p = nh.pos;
		at += 4;
		if ((void *)(p + 4) > data_end || at > pc->wire_len)
			return FLOW_C_TRUNC_MPLS;
		lbl = bpf_ntohl(*(__be32 *)p);
		nh.pos = p + 4;
		if (i == 0)
			t->id = lbl >> 12;
		if (lbl & 0x100) {
			bottom = 1;
			break;
		}
	}
	if (!bottom)
		return FLOW_C_MPLS_TOO_DEEP;
	p = nh.pos;
	if ((void *)(p + 1) > data_end)
		return FLOW_C_TRUNC_MPLS;
	if ((p[0] >> 4) == 4)
		in->type = bpf_htons(ETH_P_IP);
	else if ((p[0] >> 4) == 6)
		in->type = bpf_htons(ETH_P_IPV6);
	else
		return FLOW_C_NON_IP;	/* a pseudowire's Ethernet, or so */
	t->type = FLOW_TUN_MPLS;
	t->has_id = 1;
	in->off = at;
	return 0;
}

/**
 * parse_decap - the packet inside a tunnel, for --decap inner
 * @pc: never a padded replay frame (too short for a tunnel): the tunnel's
 *	headers are checked against data_end alone
 * @pkt: the outer packet as parsed (or, its frame not being IP, zero)
 *
 * Returns 0 with @pkt the inner packet, pkt->key.tunnel its tunnel's type
 * and pkt->tun the tunnel (pkt_tag_tunnel() then sets the key's tag); or 0
 * with @pkt the outer packet as it was and FLOW_ODD_TUN_UNDECODED set,
 * when its tunnel header says it is none (no VXLAN I flag, an unknown
 * version, fields past the datagram); or the
 * counter that names why the frame is not accountable, as for an outer
 * packet: the inner headers follow the outer rules.
 */
static __always_inline int parse_decap(struct parse_ctx *pc, struct flow_pkt *pkt)
{
	struct flow_tunnel t = {};
	struct tun_inner in = {};
	struct hdr_cursor nh;
	__be16 ethertype;
	__u64 off;
	int err;

	if (!pkt->key.ip_version) {
		err = tun_mpls(pc, &t, &in);
	} else {
		__builtin_memcpy(t.outer_src, pkt->key.src, 16);
		__builtin_memcpy(t.outer_dst, pkt->key.dst, 16);
		t.outer_ip_version = pkt->key.ip_version;
		/*
		 * The inner packet ends where the outer datagram does, not with
		 * the frame's padding or trailer. The outer parse found the
		 * datagram inside the frame, so this is never past its end
		 * (and a multi-buffer frame's length need not be asked for).
		 */
		pc->wire_len = pkt->l4_off + (__u64)pkt->l4_room;
		pc->xdp = NULL;
		if (pkt->key.proto == IPPROTO_UDP) {
			err = tun_udp(pc, pkt, &t, &in);
		} else if (pkt->key.proto == IPPROTO_GRE) {
			err = tun_gre(pc, pkt, &t, &in);
		} else {
			/* The inner IP header is IP in IP's: within the datagram. */
			t.type = FLOW_TUN_IPIP;
			in.off = pkt->l4_off;
			in.type = pkt->key.proto == IPPROTO_IPIP ?
				  bpf_htons(ETH_P_IP) : bpf_htons(ETH_P_IPV6);
			err = pkt->l4_room < (pkt->key.proto == IPPROTO_IPIP ?
					      sizeof(struct iphdr) : sizeof(struct ipv6hdr)) ?
			      TUN_UNDECODED : 0;
		}
	}
	if (err == TUN_UNDECODED || (!err && in.off > INNER_OFF_MAX)) {
		pkt->odd |= FLOW_ODD_TUN_UNDECODED;
		return 0;
	}
	if (err)
		return err;
	/*
	 * Every byte of the tunnel header captured, the words only skipped
	 * (options, checksum, sequence) too: else the inner packet's
	 * truncation would be blamed on its own headers. A pointer compare:
	 * one on the offset split the inner parse's states (1.7 times the
	 * verifier's work).
	 */
	off = in.off;
	asm volatile("" : "+r"(off));
	if ((void *)((__u8 *)pc->data + (off & INNER_OFF_MAX)) > pc->data_end)
		return FLOW_C_TRUNC_TUNNEL;

	__builtin_memset(pkt, 0, sizeof(*pkt));
	off = in.off;
	asm volatile("" : "+r"(off));
	nh.pos = pc->data + (off & INNER_OFF_MAX);
	ethertype = in.type;
	if (in.type == bpf_htons(ETH_P_TEB_)) {
		if (cap_short(pc, in.off + ETH_HLEN))
			return FLOW_C_TRUNC_ETH;
		err = parse_ethhdr(&nh, pc->data_end, &ethertype);
		if (err)
			return err;
	}
	err = parse_frame_ip(pc, &nh, ethertype, pkt);
	if (!err && pkt->frag != FLOW_FRAG_LATER)
		err = parse_frame_l4(pc, pkt);
	if (err)
		return err;
	if (pkt_is_tunnel(pkt))
		pkt->odd |= FLOW_ODD_TUN_NESTED;
	pkt->key.tunnel = t.type;
	pkt->tun = t;
	return 0;
}

/*
 * The key's tunnel_tag of a packet parse_decap() took out of a tunnel,
 * set by the hook once the parse has returned: at the end of the parse it
 * would be verified once for each of the inner parse's end states, which
 * the limit does not allow.
 */
static __always_inline void pkt_tag_tunnel(struct flow_pkt *pkt, int reason)
{
	if (flow_cfg.decap && !reason && pkt->key.tunnel)
		pkt->key.tunnel_tag = flow_tunnel_tag(&pkt->tun);
}

#endif /* FLOW_PARSING_H */
