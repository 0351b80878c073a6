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
#define FLOW_IPPROTO_HOPOPTS	0
#define FLOW_IPPROTO_ICMP	1
#define FLOW_IPPROTO_TCP	6
#define FLOW_IPPROTO_UDP	17
#define FLOW_IPPROTO_ROUTING	43
#define FLOW_IPPROTO_FRAGMENT	44
#define FLOW_IPPROTO_AH		51
#define FLOW_IPPROTO_ICMPV6	58
#define FLOW_IPPROTO_DSTOPTS	60
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
		__type(key, struct flow_drop_key);			\
		__type(value, struct flow_drop_value);			\
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

/*
 * The IPv4 header at the network header. Returns where the transport
 * header starts, or 0 with *counter set to why there is none to read.
 */
static __always_inline __u64 drop_parse_ipv4(const struct drop_skb *d,
					     struct flow_drop_key *key,
					     __u32 *counter)
{
	struct iphdr iph;
	__u8 vihl;

	if (drop_read(d, &iph, sizeof(iph), d->nh_off)) {
		*counter = FLOW_DC_UNREADABLE;
		return 0;
	}
	/* Byte 0 by hand: the bitfields' order is the build host's. */
	vihl = *(__u8 *)&iph;
	/* A stale network header (skb->protocol says IP, the bytes do not). */
	if (vihl >> 4 != 4 || (vihl & 0xf) < 5) {
		*counter = FLOW_DC_UNREADABLE;
		return 0;
	}
	addr_mapped(key->src, iph.saddr);
	addr_mapped(key->dst, iph.daddr);
	key->ip_version = 4;
	key->proto = iph.protocol;
	if (bpf_ntohs(iph.frag_off) & FLOW_IP_OFFSET) {
		*counter = FLOW_DC_LATER_FRAGMENT;
		return 0;
	}
	return d->nh_off + (vihl & 0xf) * 4;
}

/*
 * The IPv6 header and its extension headers, walked as parsing.h walks
 * them: the last next header is the protocol.
 */
static __always_inline __u64 drop_parse_ipv6(const struct drop_skb *d,
					     struct flow_drop_key *key,
					     __u32 *counter)
{
	struct ipv6hdr ip6h;
	__u8 nexthdr, ext[8];
	__u64 off;
	int i;

	if (drop_read(d, &ip6h, sizeof(ip6h), d->nh_off) ||
	    *(__u8 *)&ip6h >> 4 != 6) {
		*counter = FLOW_DC_UNREADABLE;
		return 0;
	}
	__builtin_memcpy(key->src, &ip6h.saddr, 16);
	__builtin_memcpy(key->dst, &ip6h.daddr, 16);
	key->ip_version = 6;
	nexthdr = ip6h.nexthdr;
	off = d->nh_off + sizeof(ip6h);

	for (i = 0; i < FLOW_DROP_EXT_MAX_CHAIN; i++) {
		if (!ipv6_is_ext(nexthdr))
			break;
		/* Every one of them is at least 8 bytes: one read each. */
		if (drop_read(d, ext, sizeof(ext), off)) {
			*counter = FLOW_DC_UNREADABLE;
			return 0;
		}
		if (nexthdr == FLOW_IPPROTO_FRAGMENT) {
			nexthdr = ext[0];
			if (((__u16)ext[2] << 8 | ext[3]) & FLOW_IP6_OFFSET) {
				*counter = FLOW_DC_LATER_FRAGMENT;
				return 0;
			}
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
	if (ipv6_is_ext(nexthdr)) {
		*counter = FLOW_DC_UNREADABLE;
		return 0;
	}
	key->proto = nexthdr;
	return off;
}

/*
 * Fills in the flow part of @key from the packet, and *@hdr_len with the
 * headers each segment of a GSO skb repeats (the IP and transport
 * headers, as the hooks count them). Returns 0, or the counter naming why
 * the drop has no flow.
 */
static __always_inline __u32 drop_parse(struct sk_buff *skb,
					const struct drop_skb *d,
					__u64 l3_bytes,
					struct flow_drop_key *key,
					__u64 *hdr_len)
{
	__be16 proto = BPF_CORE_READ(skb, protocol);
	__u32 counter = 0;
	__u64 l4_off;
	__u8 l4[4], doff;

	if (proto != bpf_htons(FLOW_ETH_P_IP) &&
	    proto != bpf_htons(FLOW_ETH_P_IPV6))
		return FLOW_DC_NOT_IP;
	if (!l3_bytes)
		return FLOW_DC_UNREADABLE;
	if (proto == bpf_htons(FLOW_ETH_P_IP))
		l4_off = drop_parse_ipv4(d, key, &counter);
	else
		l4_off = drop_parse_ipv6(d, key, &counter);
	if (!l4_off)
		return counter;

	*hdr_len = l4_off - d->nh_off;
	if (key->proto == FLOW_IPPROTO_TCP || key->proto == FLOW_IPPROTO_UDP) {
		if (drop_read(d, l4, 4, l4_off))
			return FLOW_DC_UNREADABLE;
		__builtin_memcpy(&key->sport, l4, 2);
		__builtin_memcpy(&key->dport, l4 + 2, 2);
		/* TCP's data offset, or the 20 bytes that are surely there. */
		if (key->proto == FLOW_IPPROTO_UDP)
			*hdr_len += 8;
		else if (!drop_read(d, &doff, 1, l4_off + 12) && doff >> 4 >= 5)
			*hdr_len += (doff >> 4) * 4;
		else
			*hdr_len += 20;
	} else if ((key->proto == FLOW_IPPROTO_ICMP && key->ip_version == 4) ||
		   (key->proto == FLOW_IPPROTO_ICMPV6 && key->ip_version == 6)) {
		if (drop_read(d, l4, 2, l4_off))
			return FLOW_DC_UNREADABLE;
		key->dport = bpf_htons((__u16)l4[0] << 8 | l4[1]);
		*hdr_len += 8;
	}
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
	counter = drop_parse(skb, &d, l3_bytes, &key, &hdr_len);
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
