/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * An independent reference for what flowacct must make of one Ethernet
 * frame: the flow it is accounted to, or the reason it is not. Written from
 * the RFCs and the README's policy, in plain C over a byte array, sharing
 * nothing with common/ so that a bug there cannot hide in here too.
 */
#ifndef REF_PARSER_H
#define REF_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The names are the JSON counter names of the README's table, so that a
 * harness can map a verdict onto the program's counters by name alone.
 */
#define REF_VERDICTS(X)						\
	X(ACCOUNTED,		"accounted")			\
	X(NON_IP,		"non_ip")			\
	X(TRUNC_ETH,		"trunc_eth")			\
	X(TRUNC_VLAN,		"trunc_vlan")			\
	X(VLAN_TOO_DEEP,	"vlan_too_deep")		\
	X(BAD_IP_VERSION,	"bad_ip_version")		\
	X(TRUNC_IPV4,		"trunc_ipv4")			\
	X(BAD_IHL,		"bad_ihl")			\
	X(BAD_IPV4_LEN,		"bad_ipv4_len")			\
	X(TRUNC_IPV6,		"trunc_ipv6")			\
	X(BAD_IPV6_LEN,		"bad_ipv6_len")			\
	X(TRUNC_IPV6_EXT,	"trunc_ipv6_ext")		\
	X(IPV6_EXT_TOO_MANY,	"ipv6_ext_too_many")		\
	X(TRUNC_L4,		"trunc_l4")			\
	X(TRUNC_TUNNEL,		"trunc_tunnel")			\
	X(TRUNC_MPLS,		"trunc_mpls")			\
	X(MPLS_TOO_DEEP,	"mpls_too_deep")

/*
 * The verdicts after TRUNC_L4 come only from ref_parse_decap(): like the
 * program's counters, new ones are only ever added at the end.
 */
enum ref_verdict {
#define REF_VERDICT_ENUM(id, name) REF_##id,
	REF_VERDICTS(REF_VERDICT_ENUM)
#undef REF_VERDICT_ENUM
	REF_NR_VERDICTS
};

/* The tunnel a packet came through: docs/tunnels.md's types, in its order. */
enum ref_tunnel {
	REF_TUNNEL_NONE = 0,
	REF_TUNNEL_VXLAN,
	REF_TUNNEL_GENEVE,
	REF_TUNNEL_GRE,
	REF_TUNNEL_ERSPAN,
	REF_TUNNEL_IPIP,
	REF_TUNNEL_MPLS,
};

struct ref_result {
	enum ref_verdict verdict;

	/* The flow, when verdict is REF_ACCOUNTED. */
	uint8_t ip_version;	/* 4 or 6 */
	uint8_t proto;		/* transport, or what ended the header walk */
	uint8_t src[16];	/* IPv4 as ::ffff:a.b.c.d */
	uint8_t dst[16];
	uint16_t sport;		/* host byte order */
	uint16_t dport;		/* ICMP/ICMPv6: type << 8 | code */
	uint32_t bytes;		/* IP-layer octets */
	uint8_t tcp_flags;	/* byte 13 of the TCP header, else 0 */
	bool later_fragment;	/* IPv4 offset or IPv6 fragment offset != 0 */
	bool first_fragment;	/* offset 0 and more fragments to come */
	uint32_t frag_id;	/* of a first or later fragment: IPv4 ID, or
				 * the Identification of the last IPv6
				 * fragment header walked */
	uint8_t frag_proto;	/* IPv4 protocol, or that fragment header's
				 * next header */

	/* What the parse went through: for statistics and for sampling. */
	uint8_t vlan_tags;
	uint8_t ext_headers;	/* IPv6 extension headers walked */
	bool fragmented;	/* any fragment, first or later */
	bool transport_parsed;	/* ports come from a TCP/UDP/ICMP header */

	/* Accounted, but unusual: the README's informational counters. */
	bool jumbogram;		/* IPv6 payload length 0 (RFC 2675, BIG TCP) */
	bool tcp_doff_invalid;	/* data offset < 5 or past the datagram */
	bool ipv4_len_from_frame; /* IPv4 TCP with total length 0 (TSO) */

	/*
	 * ref_parse_decap() only; ref_parse() leaves all of these 0. When a
	 * tunnel was opened, every field above is the inner packet's (its
	 * verdict included) and these say which tunnel it came through; on
	 * REF_TRUNC_TUNNEL the fields above are the outer packet's.
	 */
	uint8_t tunnel;		/* enum ref_tunnel */
	uint32_t tunnel_id;	/* VNI, GRE key, ERSPAN session, top MPLS label */
	bool tunnel_has_id;	/* GRE without a key, ERSPAN I, IP in IP: none */
	uint8_t outer_ip_version; /* 4 or 6; 0 for MPLS */
	uint8_t outer_src[16];	/* IPv4-mapped as src; zero for MPLS */
	uint8_t outer_dst[16];
	bool tunnel_nested;	/* the accounted inner packet is itself a
				 * tunnel candidate, left unopened */
	bool tunnel_undecoded;	/* to a tunnel's port or protocol but not
				 * one: everything else is ref_parse()'s */
};

/*
 * Judges a frame of which @cap_len bytes are at @frame and which was
 * @wire_len bytes long on the wire (taken as @cap_len if smaller). Fills in
 * @res and returns its verdict.
 */
enum ref_verdict ref_parse(const uint8_t *frame, size_t cap_len,
			   uint64_t wire_len, struct ref_result *res);

/*
 * As ref_parse(), with docs/tunnels.md's --decap inner: a frame in one of
 * its tunnels is judged as the packet inside it, one level deep. VXLAN is
 * UDP to 4789, 8472 or one of the @n_ports @vxlan_ports (host byte order,
 * zeros ignored; @vxlan_ports may be NULL when @n_ports is 0). A frame in
 * no tunnel gets exactly ref_parse()'s result.
 */
enum ref_verdict ref_parse_decap(const uint8_t *frame, size_t cap_len,
				 uint64_t wire_len, const uint16_t *vxlan_ports,
				 size_t n_ports, struct ref_result *res);

const char *ref_verdict_name(enum ref_verdict v);

#endif /* REF_PARSER_H */
