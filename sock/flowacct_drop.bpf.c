// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The packets the kernel drops, by flow and by the reason it gives: on the
 * kfree_skb tracepoint, which every skb freed as a drop passes with its
 * enum skb_drop_reason (5.17 on). Each drop is keyed as the packet hooks
 * would have keyed the packet (common/parsing.h's rules), with the
 * interface and the path it was dropped on, and added to the epoch's
 * table, which user space drains with the flow tables. The skb is kernel
 * memory, read with CO-RE: the object is built against vmlinux.h, like the
 * socket programs. Two entry points, of which user space loads one: the
 * BTF-typed tracepoint, and the raw one for kernels that cannot trace with
 * BTF. Both read the skb with probe reads only, so one body serves both.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "flow_drop.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* vmlinux.h has the kernel's types, not its macros. */
#define FLOW_ETH_P_IP		0x0800
#define FLOW_ETH_P_IPV6		0x86DD
#define FLOW_ETH_P_8021Q	0x8100
#define FLOW_ETH_P_8021AD	0x88A8
#define FLOW_IPPROTO_HOPOPTS	0
#define FLOW_IPPROTO_ICMP	1
#define FLOW_IPPROTO_IPIP	4
#define FLOW_IPPROTO_TCP	6
#define FLOW_IPPROTO_UDP	17
#define FLOW_IPPROTO_IPV6	41
#define FLOW_IPPROTO_ROUTING	43
#define FLOW_IPPROTO_FRAGMENT	44
#define FLOW_IPPROTO_GRE	47
#define FLOW_IPPROTO_AH		51
#define FLOW_IPPROTO_ICMPV6	58
#define FLOW_IPPROTO_DSTOPTS	60
#define FLOW_IP_MF		0x2000
#define FLOW_IP_OFFSET		0x1fff
#define FLOW_IP6_OFFSET		0xfff8
#define FLOW_PACKET_OUTGOING	4
#define FLOW_EEXIST		17

/* The kernel's unset header offset ((u16)~0U); a network header left at 0
 * where none was set is caught by the IP version check instead. */
#define FLOW_NH_UNSET		0xffff

/* parsing.h's IPV6_EXT_MAX_CHAIN: a drop is keyed as the hooks key it. */
#define FLOW_DROP_EXT_MAX_CHAIN	8

#define DROP_TABLE(name)						\
	struct {							\
		__uint(type, BPF_MAP_TYPE_HASH);			\
		__uint(max_entries, FLOW_DROP_DEFAULT_ENTRIES);		\
		__uint(key_size, sizeof(struct flow_drop_key));		\
		__uint(value_size, sizeof(struct flow_drop_value));	\
	} name SEC(".maps")

/* Preallocated: a drop may come in any context, NMI aside. */
DROP_TABLE(drops_0);
DROP_TABLE(drops_1);

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, FLOW_DROP_STATS_ENTRIES);
	__type(key, __u32);
	__type(value, struct flow_drop_stats);
} drop_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FLOW_DROP_WATCH_ENTRIES);
	__type(key, __u32);
	__type(value, __u8);
} drop_watch SEC(".maps");

/*
 * The next skb on the frag_list of the last skb dropped on this CPU. The
 * kernel frees a dropped skb's frag_list (the later fragments of a
 * reassembled datagram, the packets a GRO list holds) right after it,
 * each through this tracepoint as a drop of its own, with reason
 * NOT_SPECIFIED and, for fragments, no device. They are parts of the drop
 * just counted, in its length and its gso_segs: not counted again.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drop_frag_next SEC(".maps");

const volatile struct flow_drop_config drop_cfg;

/*
 * The packet programs' epoch: user space makes this section's map theirs
 * (bpf_map__reuse_fd), so that a drop goes to the table of the epoch the
 * flows of that moment go to, and is drained with them.
 */
volatile __u32 flow_epoch SEC(".data.epoch");

/* What the body reads of the skb's buffer, as offsets from its head. */
struct drop_skb {
	unsigned char *head;
	__u64 data_off;
	__u64 nh_off;
	__u64 tail_off;
	__u32 len;
	__u16 nh;
};

/*
 * sk_buff_data_t (tail, end): an offset from head where pointers are 64
 * bits (NET_SKBUFF_DATA_USES_OFFSET), and so narrower than head; a pointer
 * where they are not.
 */
static __always_inline __u64 skb_data_off(struct sk_buff *skb,
					   unsigned char *head, __u64 v)
{
	if (bpf_core_field_size(skb->tail) < bpf_core_field_size(skb->head))
		return v;
	return v - (__u64)head;
}

/* skb_shinfo(): the shared info sits at the end of the buffer. */
static __always_inline struct skb_shared_info *
drop_shinfo(struct sk_buff *skb, unsigned char *head)
{
	return (void *)(head + skb_data_off(skb, head, BPF_CORE_READ(skb, end)));
}

/* Wire packets the skb stands for: a GSO skb's segments, else one. */
static __always_inline __u32 drop_segs(struct skb_shared_info *shinfo)
{
	__u16 segs;

	if (!BPF_CORE_READ(shinfo, gso_size))
		return 1;
	segs = BPF_CORE_READ(shinfo, gso_segs);
	return segs > 1 ? segs : 1;
}

/*
 * Where the IP header of a dropped packet is: the kernel drops packets
 * before and after it pulled the headers, so skb->data may be before the
 * network header (the MAC header on the send path) or after it (the
 * transport header in a protocol's receive function). Returns the bytes
 * from the network header to the end, 0 if there is no network header in
 * the data (then the drop is unreadable).
 */
static __always_inline __u64 drop_l3_bytes(struct sk_buff *skb,
					   struct drop_skb *d)
{
	unsigned char *data = BPF_CORE_READ(skb, data);
	__s64 l3;

	d->head = BPF_CORE_READ(skb, head);
	d->len = BPF_CORE_READ(skb, len);
	d->nh = BPF_CORE_READ(skb, network_header);
	d->tail_off = skb_data_off(skb, d->head, BPF_CORE_READ(skb, tail));
	d->data_off = data - d->head;
	d->nh_off = d->nh;
	if (d->nh == FLOW_NH_UNSET || d->nh_off >= d->tail_off)
		return 0;
	l3 = (__s64)d->nh_off - (__s64)d->data_off;
	if (l3 >= (__s64)d->len)
		return 0;
	return d->len - l3;
}

/*
 * The namespace of whatever the drop happened on: the device, else the
 * socket. 0 if neither can be read: dev and sk share their words with
 * other fields in some places (UDP keeps dev_scratch in dev while the skb
 * waits in a socket's queue; older kernels' defragmentation keeps an
 * offset in sk), where a probe read of them fails and reads 0.
 */
static __always_inline __u32 drop_netns(struct sk_buff *skb,
					struct net_device *dev, __u32 iif,
					__u32 *ifindex)
{
	struct dst_entry *dst;
	struct sock *sk;
	__u32 ns;

	if (dev) {
		ns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
		if (ns) {
			*ifindex = BPF_CORE_READ(dev, ifindex);
			return ns;
		}
	}
	/*
	 * No device yet: a local packet dropped before ip_output() set it
	 * (a firewall's output chain) has its route, whose device it was to
	 * leave by (bit 0 of _skb_refdst says "no reference held"). Not a
	 * received one: its input route's device is lo or a VRF's.
	 */
	dst = iif ? NULL : (struct dst_entry *)(BPF_CORE_READ(skb, _skb_refdst) & ~1UL);
	if (dst) {
		dev = BPF_CORE_READ(dst, dev);
		ns = dev ? BPF_CORE_READ(dev, nd_net.net, ns.inum) : 0;
		if (ns) {
			*ifindex = BPF_CORE_READ(dev, ifindex);
			return ns;
		}
	}
	sk = BPF_CORE_READ(skb, sk);
	if (sk)
		return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	return 0;
}

static __always_inline struct flow_drop_stats *drop_stats_get(__u32 key)
{
	struct flow_drop_stats zero = {};
	struct flow_drop_stats *st;

	st = bpf_map_lookup_elem(&drop_stats, &key);
	if (st)
		return st;
	/* The first drop on the interface: its row, as another CPU may. */
	bpf_map_update_elem(&drop_stats, &key, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&drop_stats, &key);
}

/* The books for @ifindex; key 0's once the map is full. */
static __always_inline struct flow_drop_stats *drop_stats_of(__u32 ifindex)
{
	struct flow_drop_stats *st;

	st = drop_stats_get(ifindex);
	if (st || !ifindex)
		return st;
	return drop_stats_get(0);
}

/* Every drop: seen, its bytes, and exactly one of attributed or a reason. */
static __always_inline void drop_count(struct flow_drop_stats *st, __u32 counter,
				       __u32 segs, __u64 bytes)
{
	if (!st || counter >= FLOW_NR_DROP_COUNTERS)
		return;
	st->c[FLOW_DC_SEEN] += segs;
	st->c[FLOW_DC_SEEN_BYTES] += bytes;
	st->c[counter] += segs;
}

static __always_inline void addr_mapped(__u8 out[16], __be32 v4)
{
	__builtin_memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	__builtin_memcpy(out + 12, &v4, 4);
}

static __always_inline int ipv6_is_ext(__u8 nexthdr)
{
	return nexthdr == FLOW_IPPROTO_HOPOPTS ||
	       nexthdr == FLOW_IPPROTO_ROUTING ||
	       nexthdr == FLOW_IPPROTO_DSTOPTS ||
	       nexthdr == FLOW_IPPROTO_FRAGMENT || nexthdr == FLOW_IPPROTO_AH;
}

/*
 * Reads @len bytes of the packet at @off from head. Only the linear data,
 * below tail, is the packet's: a header beyond it is in the pages, which a
 * probe read cannot follow, and the bytes there are stale.
 */
static __always_inline int drop_read(const struct drop_skb *d, void *dst,
				     __u32 len, __u64 off)
{
	if (off + len > d->tail_off)
		return -1;
	return bpf_probe_read_kernel(dst, len, d->head + off);
}

/* Where a parsed IP header's packet goes on, as offsets from head. */
struct drop_ip {
	__u64 l4_off;	/* the transport header */
	__u64 end;	/* the datagram's end: what its header says, within the skb */
	__u8 frag;	/* a first fragment: its tunnel, if any, stays closed */
};

/* The end a datagram's IP length gives, never past the skb's (0: none
 * given, as in a BIG TCP packet's header: the skb's). */
static __always_inline __u64 drop_ip_end(__u64 off, __u32 len, __u64 end)
{
	return len && off + len < end ? off + len : end;
}

/*
 * The IPv4 header at @off, of a packet that ends at @end. Returns 0 with
 * @key's addresses and protocol and @ip filled in, or the counter that
 * says why the drop has no flow. An @inner packet's header and length
 * must lie within its outer datagram, and a length of 0 stands for the
 * rest only for TCP, as in the hooks' inner parse (bad_ipv4_len there);
 * an outer one's are taken as the skb has them, whatever stage it was
 * dropped at.
 */
static __always_inline __u32 drop_parse_ipv4(const struct drop_skb *d, __u64 off,
					     __u64 end, bool inner,
					     struct flow_drop_key *key,
					     struct drop_ip *ip)
{
	struct iphdr iph;
	__u16 frag, tot;
	__u8 vihl;

	if (drop_read(d, &iph, sizeof(iph), off))
		return FLOW_DC_UNREADABLE;
	/* Byte 0 by hand: the bitfields' order is the build host's. */
	vihl = *(__u8 *)&iph;
	/* A stale network header (skb->protocol says IP, the bytes do not). */
	if (vihl >> 4 != 4 || (vihl & 0xf) < 5)
		return FLOW_DC_UNREADABLE;
	tot = bpf_ntohs(iph.tot_len);
	if (inner && (off + (vihl & 0xf) * 4 > end ||
		      (tot ? tot < (vihl & 0xf) * 4 || off + tot > end :
			     iph.protocol != FLOW_IPPROTO_TCP)))
		return FLOW_DC_UNREADABLE;
	addr_mapped(key->src, iph.saddr);
	addr_mapped(key->dst, iph.daddr);
	key->ip_version = 4;
	key->proto = iph.protocol;
	frag = bpf_ntohs(iph.frag_off);
	if (frag & FLOW_IP_OFFSET)
		return FLOW_DC_LATER_FRAGMENT;
	ip->frag = !!(frag & FLOW_IP_MF);
	ip->l4_off = off + (vihl & 0xf) * 4;
	ip->end = drop_ip_end(off, tot, end);
	return 0;
}

/*
 * The IPv6 header at @off and its extension headers, walked as parsing.h
 * walks them: the last next header is the protocol, the last fragment
 * header says whether it is a fragment (an atomic one, M clear at offset
 * 0, is none). @inner as for IPv4 (a payload length of 0 stands for the
 * rest for TCP and a jumbogram's hop-by-hop header, else for none).
 */
static __always_inline __u32 drop_parse_ipv6(const struct drop_skb *d, __u64 off,
					     __u64 end, bool inner,
					     struct flow_drop_key *key,
					     struct drop_ip *ip)
{
	struct ipv6hdr ip6h;
	__u8 nexthdr, ext[8];
	__u16 plen;
	int i;

	if (drop_read(d, &ip6h, sizeof(ip6h), off) || *(__u8 *)&ip6h >> 4 != 6)
		return FLOW_DC_UNREADABLE;
	__builtin_memcpy(key->src, &ip6h.saddr, 16);
	__builtin_memcpy(key->dst, &ip6h.daddr, 16);
	key->ip_version = 6;
	plen = bpf_ntohs(ip6h.payload_len);
	if (inner && off + sizeof(ip6h) + plen > end)
		return FLOW_DC_UNREADABLE;
	if (inner && !plen && ip6h.nexthdr != FLOW_IPPROTO_TCP &&
	    ip6h.nexthdr != FLOW_IPPROTO_HOPOPTS)
		ip->end = off + sizeof(ip6h);	/* a bare header, as the hooks take it */
	else
		ip->end = drop_ip_end(off, plen ? plen + sizeof(ip6h) : 0, end);
	ip->frag = 0;
	nexthdr = ip6h.nexthdr;
	off += sizeof(ip6h);

	for (i = 0; i < FLOW_DROP_EXT_MAX_CHAIN; i++) {
		if (!ipv6_is_ext(nexthdr))
			break;
		/* Every one of them is at least 8 bytes: one read each. */
		if (drop_read(d, ext, sizeof(ext), off))
			return FLOW_DC_UNREADABLE;
		if (nexthdr == FLOW_IPPROTO_FRAGMENT) {
			nexthdr = ext[0];
			if (((__u16)ext[2] << 8 | ext[3]) & FLOW_IP6_OFFSET)
				return FLOW_DC_LATER_FRAGMENT;
			ip->frag = ext[3] & 1;	/* M */
			off += 8;
		} else if (nexthdr == FLOW_IPPROTO_AH) {
			nexthdr = ext[0];
			off += ((__u32)ext[1] + 2) * 4;
		} else {
			nexthdr = ext[0];
			off += ((__u32)ext[1] + 1) * 8;
		}
	}
	/* The hooks' ipv6_ext_too_many. */
	if (ipv6_is_ext(nexthdr))
		return FLOW_DC_UNREADABLE;
	key->proto = nexthdr;
	ip->l4_off = off;
	return 0;
}

/*
 * The IP packet of @ethertype at @off (@inner: in a tunnel): @key's flow,
 * @ip, and *@hdr_len with the headers each segment of a GSO skb repeats
 * (the IP and transport headers, as the hooks count them). Returns 0 or
 * the counter.
 */
static __always_inline __u32 drop_parse_ip(const struct drop_skb *d, __be16 ethertype,
					   __u64 off, __u64 end, bool inner,
					   struct flow_drop_key *key,
					   struct drop_ip *ip, __u64 *hdr_len)
{
	__u32 counter;
	__u8 l4[4], doff;

	if (ethertype == bpf_htons(FLOW_ETH_P_IP))
		counter = drop_parse_ipv4(d, off, end, inner, key, ip);
	else if (ethertype == bpf_htons(FLOW_ETH_P_IPV6))
		counter = drop_parse_ipv6(d, off, end, inner, key, ip);
	else
		counter = FLOW_DC_NOT_IP;
	if (counter)
		return counter;

	*hdr_len = ip->l4_off - off;
	if (key->proto == FLOW_IPPROTO_TCP || key->proto == FLOW_IPPROTO_UDP) {
		if (drop_read(d, l4, 4, ip->l4_off))
			return FLOW_DC_UNREADABLE;
		__builtin_memcpy(&key->sport, l4, 2);
		__builtin_memcpy(&key->dport, l4 + 2, 2);
		/* TCP's data offset, or the 20 bytes that are surely there. */
		if (key->proto == FLOW_IPPROTO_UDP)
			*hdr_len += 8;
		else if (!drop_read(d, &doff, 1, ip->l4_off + 12) && doff >> 4 >= 5)
			*hdr_len += (doff >> 4) * 4;
		else
			*hdr_len += 20;
	} else if ((key->proto == FLOW_IPPROTO_ICMP && key->ip_version == 4) ||
		   (key->proto == FLOW_IPPROTO_ICMPV6 && key->ip_version == 6)) {
		if (drop_read(d, l4, 2, ip->l4_off))
			return FLOW_DC_UNREADABLE;
		key->dport = bpf_htons((__u16)l4[0] << 8 | l4[1]);
		*hdr_len += 8;
	}
	return 0;
}

/* ---- tunnels: --decap inner, as common/parsing.h's parse_decap() ---- */

/* The tunnel header says it is none: the drop is the outer packet's. */
#define DROP_TUN_NONE	((__u32)-1)

/* Where the inner packet starts, what it is, and the tunnel, as the hooks
 * note it (its tag is the key's). */
struct drop_tun {
	__u64 off;
	__be16 ethertype;	/* ETH_P_TEB_ (Ethernet), IPv4 or IPv6 */
	struct flow_tunnel tun;
};

static __always_inline int drop_port_is_vxlan(__be16 port)
{
	int i;

	if (port == bpf_htons(VXLAN_PORT) || port == bpf_htons(VXLAN_PORT_LINUX))
		return 1;
	for (i = 0; i < FLOW_VXLAN_EXTRA_PORTS; i++)
		if (drop_cfg.vxlan_ports[i] && port == drop_cfg.vxlan_ports[i])
			return 1;
	return 0;
}

/* VXLAN (RFC 7348) or Geneve (RFC 8926) in the UDP datagram at @off. */
static __always_inline __u32 drop_tun_udp(const struct drop_skb *d, __be16 dport,
					  __u64 off, __u64 room, struct drop_tun *t)
{
	__u8 h[8];
	__u32 olen;

	if (room < 16)
		return DROP_TUN_NONE;
	if (drop_read(d, h, sizeof(h), off + 8))
		return FLOW_DC_UNREADABLE;
	t->tun.id = (__u32)h[4] << 16 | (__u32)h[5] << 8 | h[6];
	t->tun.has_id = 1;
	if (drop_port_is_vxlan(dport)) {
		if (!(h[0] & 0x08))
			return DROP_TUN_NONE;	/* the I flag: a valid VNI */
		t->tun.type = FLOW_TUN_VXLAN;
		t->off = off + 16;
		t->ethertype = bpf_htons(ETH_P_TEB_);
		return 0;
	}
	if (h[0] >> 6)
		return DROP_TUN_NONE;	/* a Geneve version not known */
	olen = (h[0] & 0x3f) * 4;
	if (16 + olen > room)
		return DROP_TUN_NONE;	/* options past the datagram */
	__builtin_memcpy(&t->ethertype, h + 2, 2);
	if (t->ethertype != bpf_htons(ETH_P_TEB_) && t->ethertype != bpf_htons(FLOW_ETH_P_IP) &&
	    t->ethertype != bpf_htons(FLOW_ETH_P_IPV6))
		return DROP_TUN_NONE;
	t->tun.type = FLOW_TUN_GENEVE;
	t->off = off + 16 + olen;
	return 0;
}

/* GRE (RFC 2784, RFC 2890) at @off, and ERSPAN's header after it. */
static __always_inline __u32 drop_tun_gre(const struct drop_skb *d, __u64 off,
					  __u64 room, struct drop_tun *t)
{
	__u32 len = 4, elen;
	__u8 h[4], e[12];
	__u16 flags;
	__be16 proto;
	int v3;

	if (room < 4)
		return DROP_TUN_NONE;
	if (drop_read(d, h, sizeof(h), off))
		return FLOW_DC_UNREADABLE;
	flags = (__u16)h[0] << 8 | h[1];
	__builtin_memcpy(&proto, h + 2, 2);
	if (flags & (GRE_F_ROUTING | GRE_VERSION))
		return DROP_TUN_NONE;
	if (proto != bpf_htons(FLOW_ETH_P_IP) && proto != bpf_htons(FLOW_ETH_P_IPV6) &&
	    proto != bpf_htons(ETH_P_TEB_) && proto != bpf_htons(ETH_P_ERSPAN12) &&
	    proto != bpf_htons(ETH_P_ERSPAN3))
		return DROP_TUN_NONE;
	len += (flags & GRE_F_CSUM ? 4 : 0) + (flags & GRE_F_KEY ? 4 : 0) +
	       (flags & GRE_F_SEQ ? 4 : 0);
	if (len > room)
		return DROP_TUN_NONE;	/* flags announce fields past the datagram */
	if (flags & GRE_F_KEY) {
		/* The key follows the checksum word, if there is one. */
		if (drop_read(d, e, 4, off + (flags & GRE_F_CSUM ? 8 : 4)))
			return FLOW_DC_UNREADABLE;
		t->tun.id = (__u32)e[0] << 24 | (__u32)e[1] << 16 | (__u32)e[2] << 8 | e[3];
		t->tun.has_id = 1;
	}
	t->tun.type = FLOW_TUN_GRE;
	t->off = off + len;
	t->ethertype = proto;
	if (proto == bpf_htons(FLOW_ETH_P_IP) || proto == bpf_htons(FLOW_ETH_P_IPV6) ||
	    proto == bpf_htons(ETH_P_TEB_))
		return 0;
	t->tun.type = FLOW_TUN_ERSPAN;
	t->ethertype = bpf_htons(ETH_P_TEB_);
	/* Type I: Ethernet right after a bare GRE header, no session. */
	if (proto == bpf_htons(ETH_P_ERSPAN12) && !(flags & GRE_F_SEQ)) {
		t->tun.id = 0;
		t->tun.has_id = 0;
		return 0;
	}
	/* Type II (version 1) has 8 bytes of header, type III (2) 12. */
	v3 = proto == bpf_htons(ETH_P_ERSPAN3);
	elen = v3 ? 12 : 8;
	if (len + 8 > room)
		return DROP_TUN_NONE;
	if (drop_read(d, e, 8, off + len))
		return FLOW_DC_UNREADABLE;
	if (e[0] >> 4 != (v3 ? 2 : 1))
		return DROP_TUN_NONE;
	t->tun.id = (__u32)(e[2] & 3) << 8 | e[3];	/* the 10-bit session ID */
	t->tun.has_id = 1;
	if (v3) {
		if (len + 12 > room)
			return DROP_TUN_NONE;
		if (drop_read(d, e, 12, off + len))
			return FLOW_DC_UNREADABLE;
		/* O: a platform-specific subheader of 8 bytes follows. */
		elen = e[11] & 1 ? 20 : 12;
		if (len + elen > room)
			return DROP_TUN_NONE;
	}
	t->off = off + len + elen;
	return 0;
}

/*
 * An MPLS label stack at the network header: the first nibble after the
 * bottom of the stack says which IP follows.
 */
static __always_inline __u32 drop_tun_mpls(const struct drop_skb *d, __u64 end,
					   struct drop_tun *t)
{
	__u64 off = d->nh_off;
	__u8 lbl[4] = {};
	int i;

	for (i = 0; i < FLOW_MPLS_MAX_DEPTH; i++) {
		if (off + 4 > end || drop_read(d, lbl, 4, off))
			return FLOW_DC_UNREADABLE;
		off += 4;
		if (i == 0)	/* the top label is the id */
			t->tun.id = (__u32)lbl[0] << 12 | (__u32)lbl[1] << 4 | lbl[2] >> 4;
		if (lbl[2] & 1)
			break;
	}
	/* No bottom within the walk (the hooks' mpls_too_deep). */
	if (!(lbl[2] & 1))
		return FLOW_DC_UNREADABLE;
	if (off + 1 > end || drop_read(d, lbl, 1, off))
		return FLOW_DC_UNREADABLE;
	if (lbl[0] >> 4 == 4)
		t->ethertype = bpf_htons(FLOW_ETH_P_IP);
	else if (lbl[0] >> 4 == 6)
		t->ethertype = bpf_htons(FLOW_ETH_P_IPV6);
	else
		return FLOW_DC_NOT_IP;	/* a pseudowire's Ethernet, or so */
	t->tun.type = FLOW_TUN_MPLS;
	t->tun.has_id = 1;
	t->off = off;
	return 0;
}

/*
 * The tunnel the parsed outer packet (@key, @ip) is, if --decap inner
 * opens it. Returns 0 with @t set, DROP_TUN_NONE if it is none, or the
 * counter that says why the drop has no flow.
 */
static __always_inline __u32 drop_tunnel(const struct drop_skb *d,
					 const struct flow_drop_key *key,
					 const struct drop_ip *ip, __u64 frame_off,
					 struct drop_tun *t)
{
	__u64 room = ip->end > ip->l4_off ? ip->end - ip->l4_off : 0;
	__u32 r;

	/* A fragmented datagram stays the outer flow, as at the hooks. */
	if (ip->frag || ip->l4_off - frame_off > L4_OFF_MAX)
		return DROP_TUN_NONE;
	if (key->proto == FLOW_IPPROTO_UDP &&
	    (key->dport == bpf_htons(GENEVE_PORT) || drop_port_is_vxlan(key->dport)))
		r = drop_tun_udp(d, key->dport, ip->l4_off, room, t);
	else if (key->proto == FLOW_IPPROTO_GRE)
		r = drop_tun_gre(d, ip->l4_off, room, t);
	else if (key->proto == FLOW_IPPROTO_IPIP || key->proto == FLOW_IPPROTO_IPV6) {
		t->tun.type = FLOW_TUN_IPIP;
		t->off = ip->l4_off;
		t->ethertype = key->proto == FLOW_IPPROTO_IPIP ? bpf_htons(FLOW_ETH_P_IP) :
								 bpf_htons(FLOW_ETH_P_IPV6);
		r = room < (key->proto == FLOW_IPPROTO_IPIP ? 20 : 40) ? DROP_TUN_NONE : 0;
	} else
		return DROP_TUN_NONE;
	if (!r && t->off - frame_off > INNER_OFF_MAX)
		return DROP_TUN_NONE;
	return r;
}

/*
 * The inner packet of @t, which ends where its outer datagram does
 * (@end): @key becomes its flow. Returns 0 or the counter.
 */
static __always_inline __u32 drop_parse_inner(const struct drop_skb *d,
					      const struct drop_tun *t, __u64 end,
					      struct flow_drop_key *key,
					      struct drop_ip *ip, __u64 *hdr_len,
					      __u64 *inner_off)
{
	__be16 ethertype = t->ethertype;
	__u64 off = t->off;
	__u8 eth[4];
	int i;

	__builtin_memset(key, 0, sizeof(*key));
	if (ethertype == bpf_htons(ETH_P_TEB_)) {
		if (off + 14 > end || drop_read(d, eth, 2, off + 12))
			return FLOW_DC_UNREADABLE;
		__builtin_memcpy(&ethertype, eth, 2);
		off += 14;
		/* Up to two tags, as parsing.h's parse_ethhdr() reads them. */
		for (i = 0; i < 2; i++) {
			if (ethertype != bpf_htons(FLOW_ETH_P_8021Q) &&
			    ethertype != bpf_htons(FLOW_ETH_P_8021AD))
				break;
			if (off + 4 > end || drop_read(d, eth, 4, off))
				return FLOW_DC_UNREADABLE;
			__builtin_memcpy(&ethertype, eth + 2, 2);
			off += 4;
		}
	}
	*inner_off = off;
	key->tunnel = t->tun.type;
	return drop_parse_ip(d, ethertype, off, end, true, key, ip, hdr_len);
}

/*
 * Fills in the flow part of @key from the packet, *@hdr_len with the
 * headers each segment of a GSO skb repeats, and *@bytes with the
 * IP-layer bytes of an inner packet (else left as they are). Returns 0,
 * or the counter naming why the drop has no flow.
 */
static __always_inline __u32 drop_parse(struct sk_buff *skb,
					const struct drop_skb *d,
					__u64 l3_bytes,
					struct flow_drop_key *key,
					__u64 *hdr_len, __u64 *bytes)
{
	__be16 proto = BPF_CORE_READ(skb, protocol);
	__u64 end = d->nh_off + l3_bytes, frame_off, inner_off = 0;
	__u16 mac = BPF_CORE_READ(skb, mac_header);
	struct drop_tun t = {};
	struct drop_ip ip = {};
	__u32 counter;

	if (!l3_bytes)
		return proto == bpf_htons(FLOW_ETH_P_IP) || proto == bpf_htons(FLOW_ETH_P_IPV6) ?
		       FLOW_DC_UNREADABLE : FLOW_DC_NOT_IP;
	/* The hooks' offsets are from the frame's start. */
	frame_off = mac != FLOW_NH_UNSET && mac <= d->nh_off ? mac : d->nh_off;
	if (drop_cfg.decap && (proto == bpf_htons(ETH_P_MPLS_UC_) ||
			       proto == bpf_htons(ETH_P_MPLS_MC_)))
		counter = drop_tun_mpls(d, end, &t);
	else {
		counter = drop_parse_ip(d, proto, d->nh_off, end, false, key, &ip, hdr_len);
		if (counter || !drop_cfg.decap)
			return counter;
		counter = drop_tunnel(d, key, &ip, frame_off, &t);
		if (counter == DROP_TUN_NONE)
			return 0;
		/* The tunnel as the hooks note it: its outer addresses. */
		__builtin_memcpy(t.tun.outer_src, key->src, 16);
		__builtin_memcpy(t.tun.outer_dst, key->dst, 16);
		t.tun.outer_ip_version = key->ip_version;
	}
	if (counter)
		return counter;
	/* The inner datagram ends where the outer one does. */
	counter = drop_parse_inner(d, &t, ip.end ? ip.end : end, key, &ip, hdr_len, &inner_off);
	if (counter)
		return counter;
	*bytes = ip.end - inner_off;
	key->tunnel_tag = flow_tunnel_tag(&t.tun);
	return 0;
}

/*
 * Adds the drop to its row in @table, inserting the row if it is new.
 * Returns 0, or the insert's error (-E2BIG: the table is full).
 */
static __always_inline long drop_row_add(void *table, struct flow_drop_key *key,
					 __u32 segs, __u64 bytes, __u32 now)
{
	struct flow_drop_value *v, init = {
		.packets = segs,
		.bytes = bytes,
		.first_seen = now,
		.last_seen = now,
	};
	long err;

	v = bpf_map_lookup_elem(table, key);
	if (!v) {
		err = bpf_map_update_elem(table, key, &init, BPF_NOEXIST);
		if (err != -FLOW_EEXIST)
			return err;
		/* Another CPU inserted the same row between our two calls. */
		v = bpf_map_lookup_elem(table, key);
		if (!v)
			return err;
	}
	/* One row for every CPU: their drops of one flow add up here. */
	__sync_fetch_and_add(&v->packets, segs);
	__sync_fetch_and_add(&v->bytes, bytes);
	v->last_seen = now;
	return 0;
}

/*
 * One lookup call site per table, as flow_account.h's
 * flow_table_add_epoch() keeps them (the verifier inlines a hash lookup
 * only where a single map is seen): the immediates keep clang from merging
 * the two paths into one on a selected map.
 */
static __always_inline long drop_row_add_epoch(__u32 epoch,
					       struct flow_drop_key *key,
					       __u32 segs, __u64 bytes,
					       __u32 now)
{
	long err;

	if (epoch) {
		err = drop_row_add(&drops_1, key, segs, bytes, now);
		asm volatile("" : "+r"(err) : "i"(1));
	} else {
		err = drop_row_add(&drops_0, key, segs, bytes, now);
		asm volatile("" : "+r"(err) : "i"(0));
	}
	return err;
}

static __always_inline int drop_account(struct sk_buff *skb, __u32 reason)
{
	struct skb_shared_info *shinfo;
	struct flow_drop_key key;
	struct flow_drop_stats *st;
	struct net_device *dev;
	struct drop_skb d;
	__u32 segs, counter, ifindex = 0, iif, ns, zero = 0;
	bool watched;
	__u64 l3_bytes, bytes, hdr_len = 0, *frag_next;
	__u8 direction;

	/* A part of the skb dropped just before: counted with it. */
	frag_next = bpf_map_lookup_elem(&drop_frag_next, &zero);
	if (frag_next && *frag_next == (__u64)skb) {
		*frag_next = (__u64)BPF_CORE_READ(skb, next);
		return 0;
	}
	l3_bytes = drop_l3_bytes(skb, &d);
	shinfo = drop_shinfo(skb, d.head);
	/*
	 * Any other drop ends the list: this one's parts come next. One in
	 * between (an interrupt's, or a list the skb's clones still hold)
	 * leaves the rest counted as drops of their own.
	 */
	if (frag_next)
		*frag_next = (__u64)BPF_CORE_READ(shinfo, frag_list);

	/* Older kernels pass freed, not dropped, skbs here too. */
	if (reason == drop_cfg.consumed_reason && drop_cfg.consumed_reason)
		return 0;

	bytes = l3_bytes ? l3_bytes : d.len;
	segs = drop_segs(shinfo);

	dev = BPF_CORE_READ(skb, dev);
	iif = BPF_CORE_READ(skb, skb_iif);
	ns = drop_netns(skb, dev, iif, &ifindex);
	if (!ifindex)
		ifindex = iif;
	if (!ns) {
		/*
		 * No device, no route, no socket: nothing says where it was,
		 * not even its namespace (a fragment freed from a reassembly
		 * queue has skb_iif, an index every namespace may have).
		 */
		drop_count(drop_stats_of(0), FLOW_DC_NO_DEVICE, segs, bytes);
		return 0;
	}
	/* Another namespace's ifindex would name one of ours. */
	if (ns != drop_cfg.netns_ino) {
		drop_count(drop_stats_of(0), FLOW_DC_OTHER_NETNS, segs, bytes);
		return 0;
	}
	/*
	 * The books are kept per watched interface; with drops_cfg.all, the
	 * drops on the others are attributed too, in the books of none (key
	 * 0), which user space reads: no row for each of them to outlive it.
	 */
	watched = bpf_map_lookup_elem(&drop_watch, &ifindex) != NULL;
	if (!drop_cfg.all && !watched) {
		drop_count(drop_stats_of(0), FLOW_DC_NOT_WATCHED, segs, bytes);
		return 0;
	}
	st = drop_stats_of(watched ? ifindex : 0);

	/*
	 * The direction: __netif_receive_skb_core() sets skb_iif to the
	 * device it receives on. A packet dropped on the device it came in
	 * on was on the receive path (0); one on another device, or with no
	 * skb_iif (sent from this host), was on its way out: sent, or
	 * forwarded (1). A drop after receive with no device left (a
	 * socket's queue, a reassembly queue) is on the receive path too.
	 */
	direction = iif && iif == ifindex ? FLOW_DROP_DIR_RX : FLOW_DROP_DIR_TX;
	/*
	 * A packet a veth handed its peer, dropped before the stack took it
	 * (the backlog full): skb_iif is not set yet, or was scrubbed, but
	 * its Ethernet header is pulled already, where one on its way out
	 * still has it (or none yet: then it has no device, only a route).
	 */
	if (!iif && dev && BPF_CORE_READ(dev, header_ops) && d.nh_off == d.data_off &&
	    d.nh != FLOW_NH_UNSET)
		direction = FLOW_DROP_DIR_RX;

	/*
	 * What a packet socket drops (tcpdump's ring full) is its own copy,
	 * as is a clone dev_queue_xmit_nit() hands the taps of an outgoing
	 * packet: not a drop of the packet.
	 */
	if ((reason == drop_cfg.packet_sock_reason && drop_cfg.packet_sock_reason) ||
	    BPF_CORE_READ_BITFIELD_PROBED(skb, pkt_type) == FLOW_PACKET_OUTGOING) {
		drop_count(st, FLOW_DC_PACKET_SOCKET, segs, bytes);
		return 0;
	}

	/* Every byte is hashed, the holes between fields too. */
	__builtin_memset(&key, 0, sizeof(key));
	counter = drop_parse(skb, &d, l3_bytes, &key, &hdr_len, &bytes);
	if (counter) {
		drop_count(st, counter, segs, bytes);
		return 0;
	}
	/* Each segment of a GSO skb repeats the headers on the wire. */
	if (segs > 1)
		bytes += (__u64)(segs - 1) * hdr_len;
	key.ifindex = ifindex;
	key.direction = direction;
	key.reason = reason;
	if (drop_row_add_epoch(flow_epoch & 1, &key, segs, bytes,
			       (__u32)bpf_jiffies64()))
		counter = FLOW_DC_TABLE_FULL;
	else
		counter = FLOW_DC_ATTRIBUTED;
	drop_count(st, counter, segs, bytes);
	return 0;
}

/*
 * The tracepoint's arguments, in both: skb, location, reason (and the
 * receiving socket, 6.11 on). By hand rather than BPF_PROG(), which would
 * name the unused ones.
 */
SEC("tp_btf/kfree_skb")
int flowacct_drop_btf(__u64 *ctx)
{
	return drop_account((struct sk_buff *)ctx[0], ctx[2]);
}

SEC("raw_tp/kfree_skb")
int flowacct_drop_raw(__u64 *ctx)
{
	return drop_account((struct sk_buff *)ctx[0], ctx[2]);
}
