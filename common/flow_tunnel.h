/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The tunnels --decap inner opens, as the packet hooks (common/parsing.h)
 * and the drop program (sock/flowacct_drop.bpf.c) both recognise them. No
 * includes: the drop program is built against vmlinux.h, the rest against
 * the UAPI headers, and both include this.
 */
#ifndef FLOW_TUNNEL_H
#define FLOW_TUNNEL_H

/*
 * --decap. With FLOW_DECAP_INNER a packet inside one of these is
 * accounted as its inner packet: the key's addresses, ports and protocol
 * are the inner ones, its bytes the inner IP-layer length, and key.tunnel
 * the type, key.tunnel_tag which tunnel of the type (flow_tunnel_tag()).
 * What identifies the tunnel (VNI, key, outer addresses) is noted per
 * flow in flow_tunnels. One level: a tunnel inside the tunnel is
 * accounted as the first inner packet (tunnel_nested counts it).
 */
enum flow_decap {
	FLOW_DECAP_OFF = 0,	/* the outer headers are the flow, as without tunnels */
	FLOW_DECAP_INNER = 1,
};

/* A row's key.tunnel: the type of the tunnel its flow came out of. */
enum flow_tunnel_type {
	FLOW_TUN_NONE = 0,
	FLOW_TUN_VXLAN,		/* UDP 4789, 8472 and --vxlan-port, I flag set */
	FLOW_TUN_GENEVE,	/* UDP 6081, version 0 */
	FLOW_TUN_GRE,		/* IP protocol 47: IPv4, IPv6, Ethernet inside */
	FLOW_TUN_ERSPAN,	/* GRE 0x88be (types I and II) and 0x22eb (type III) */
	FLOW_TUN_IPIP,		/* IPv4 or IPv6 in IPv4 or IPv6 (protocols 4, 41) */
	FLOW_TUN_MPLS,		/* ethertypes 0x8847, 0x8848: a label stack, then IP */
	FLOW_NR_TUN_TYPES
};

#define FLOW_VXLAN_EXTRA_PORTS	4
/* MPLS labels walked for the bottom of the stack before mpls_too_deep. */
#define FLOW_MPLS_MAX_DEPTH	8

#define VXLAN_PORT	4789	/* IANA's */
#define VXLAN_PORT_LINUX 8472	/* Linux's default, Flannel's and Cilium's */
#define GENEVE_PORT	6081

#define ETH_P_TEB_	0x6558	/* transparent Ethernet bridging: Ethernet inside */
#define ETH_P_ERSPAN12	0x88be	/* ERSPAN types I and II */
#define ETH_P_ERSPAN3	0x22eb
#define ETH_P_MPLS_UC_	0x8847
#define ETH_P_MPLS_MC_	0x8848

#define GRE_F_CSUM	0x8000
#define GRE_F_ROUTING	0x4000	/* RFC 1701's source routing: not decoded */
#define GRE_F_KEY	0x2000
#define GRE_F_SEQ	0x1000
#define GRE_VERSION	0x0007	/* 1 is PPTP's enhanced GRE: not decoded */

/* Farther than any transport header can start: 22 + 40 + 8 * 2048. A
 * tunnel header past it is not opened. */
#define L4_OFF_MAX	0x7fff

/*
 * An inner packet starts at most this far into the frame (past that, the
 * tunnel is not opened: tunnel_undecoded). Every packet pointer the hooks'
 * inner parse makes then stays within the 64 KiB the verifier allows.
 */
#define INNER_OFF_MAX	0x1fff

/*
 * A tunnelled flow's tunnel: noted per flow in flow_tunnels by the packet
 * that finds none, and digested into the key's tunnel_tag. pad is 0.
 */
struct flow_tunnel {
	__u8 outer_src[16];	/* IPv4-mapped like the key's; zero for MPLS */
	__u8 outer_dst[16];
	__u32 id;		/* VNI, GRE key, ERSPAN session, top MPLS label */
	__u8 type;		/* enum flow_tunnel_type */
	__u8 outer_ip_version;	/* 4, 6, or 0 (MPLS: no outer IP header) */
	__u8 has_id;		/* GRE without a key has no id */
	__u8 pad;
};
_Static_assert(sizeof(struct flow_tunnel) == 40, "flow_tunnel layout changed");

/* MurmurHash3's mixing of a word into @h, and its finish. */
static inline __attribute__((always_inline)) __u32 flow_tag_mix(__u32 h, __u32 k)
{
	k *= 0xcc9e2d51;
	k = (k << 15) | (k >> 17);
	h ^= k * 0x1b873593;
	h = (h << 13) | (h >> 19);
	return h * 5 + 0xe6546b64;
}

static inline __attribute__((always_inline)) __u32 flow_tag_fmix(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	return h ^ (h >> 16);
}

static inline __attribute__((always_inline)) __u32 flow_tag_addr(const __u8 *a)
{
	const __u32 *w = (const __u32 *)a;

	return flow_tag_fmix(flow_tag_mix(flow_tag_mix(flow_tag_mix(flow_tag_mix(
		0x9747b28c, w[0]), w[1]), w[2]), w[3]));
}

/*
 * The key's tunnel_tag: the whole of @t (type, id, outer addresses, whether
 * it has an id) in 32 bits, so that the same inner flow through two
 * tunnels of a type is two rows without the key growing by the tunnel's 37
 * bytes. The outer addresses go in as a pair, whichever is the source: a
 * tunnel's two directions have one tag, so that a flow's two directions
 * (through them) pair up as they do outside tunnels (biflow rows, a TCP
 * connection's end, the RTT), the reverse key being the key with its
 * addresses and ports swapped. Two tunnels whose tags collide and that
 * carry the same inner flow share its row: flow_tunnels keeps the first,
 * and tunnel_shared counts the other's packets. The hooks and the drop
 * program compute it alike, so a drop joins its flow's row.
 */
static inline __attribute__((always_inline)) __u32
flow_tunnel_tag(const struct flow_tunnel *t)
{
	__u32 h = flow_tag_addr(t->outer_src) + flow_tag_addr(t->outer_dst);

	h = flow_tag_mix(h, t->id);
	h = flow_tag_mix(h, (__u32)t->type | (__u32)t->outer_ip_version << 8 |
			    (__u32)t->has_id << 16);
	return flow_tag_fmix(h);
}

#endif /* FLOW_TUNNEL_H */
