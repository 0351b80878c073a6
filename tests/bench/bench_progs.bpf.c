// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What `make bench` measures flowacct's programs against, and the harness
 * that gives every packet of a test run a different flow.
 *
 *  - noop_*: return the pass verdict. Their cost is the floor: what a
 *    BPF_PROG_TEST_RUN iteration costs with no program work at all.
 *  - min_*: the minimal accountant. Ethernet, one optional VLAN tag,
 *    IPv4 or IPv6 without extension headers, TCP/UDP ports, then exactly
 *    one lookup and an add (or an insert on a miss): no counters, no
 *    timestamps, no flags, no sampling. The percpu variant is the
 *    comparison the benchmark is defined by; the atomic and spin-lock
 *    variants on one shared hash tell which way of sharing a row is cheaper.
 *  - cycle_*: rewrite the frame's source port and the last byte of its
 *    IPv4 source address from a counter, then tail-call the program under
 *    test, so that a test run's repeats walk over many flows.
 *
 * The parser here is deliberately not common/parsing.h: it is the least
 * that yields the project's flow key, which is the point of the comparison.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "flow_kern_user.h"
#include "bench.h"

struct min_value {
	__u64 packets;
	__u64 bytes;
};

/*
 * The minimal accountant's work with a value as wide as flowacct's (struct
 * flow_map_value): what the per-CPU value's size alone costs on paths that
 * miss the cache.
 */
struct wide_value {
	__u64 packets;
	__u64 bytes;
	__u64 unused;
};
_Static_assert(sizeof(struct wide_value) == sizeof(struct flow_map_value),
	       "as wide as flowacct's value");

struct spin_value {
	struct bpf_spin_lock lock;
	__u32 pad;
	__u64 packets;
	__u64 bytes;
};

/* max_entries are set by the driver before load. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct flow_key);
	__type(value, struct min_value);
} min_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct flow_key);
	__type(value, struct min_value);
} min_flows_atomic SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct flow_key);
	__type(value, struct spin_value);
} min_flows_spin SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct flow_key);
	__type(value, struct wide_value);
} min_flows_wide SEC(".maps");

/* One slot each: the program the cycler hands every frame to. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cycle_xdp_target SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cycle_tc_target SEC(".maps");

/* A permutation of the flow numbers; max_entries set by the driver. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cycle_order SEC(".maps");

/*
 * Set by the driver before each run. A test run keeps its CPU for all its
 * repeats, so a plain global is enough.
 */
struct cycle_state cycle;

enum min_variant {
	MIN_PERCPU,
	MIN_ATOMIC,
	MIN_SPIN,
	MIN_WIDE,
};

struct vlan_tag {
	__be16 tci;
	__be16 encap_proto;
};

/* Fills in the addresses, ports and protocol; returns the IP length or 0. */
static __always_inline __u64 min_parse(void *data, void *data_end,
				       struct flow_key *key)
{
	struct ethhdr *eth = data;
	void *l3 = eth + 1, *l4;
	__be16 *ports;
	__be16 proto;
	__u64 len;

	if (l3 > data_end)
		return 0;
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		struct vlan_tag *tag = l3;

		if ((void *)(tag + 1) > data_end)
			return 0;
		proto = tag->encap_proto;
		l3 = tag + 1;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;

		if ((void *)(ip + 1) > data_end || ip->ihl < 5)
			return 0;
		key->src[10] = key->src[11] = 0xff;
		key->dst[10] = key->dst[11] = 0xff;
		__builtin_memcpy(&key->src[12], &ip->saddr, 4);
		__builtin_memcpy(&key->dst[12], &ip->daddr, 4);
		key->ip_version = 4;
		key->proto = ip->protocol;
		len = bpf_ntohs(ip->tot_len);
		l4 = l3 + ip->ihl * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > data_end)
			return 0;
		__builtin_memcpy(key->src, &ip6->saddr, 16);
		__builtin_memcpy(key->dst, &ip6->daddr, 16);
		key->ip_version = 6;
		key->proto = ip6->nexthdr;
		len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
		l4 = ip6 + 1;
	} else {
		return 0;
	}

	if (key->proto == IPPROTO_TCP || key->proto == IPPROTO_UDP) {
		ports = l4;
		if ((void *)(ports + 2) > data_end)
			return 0;
		key->sport = ports[0];
		key->dport = ports[1];
	}
	return len;
}

/* One packet into a per-CPU row: add, or insert the flow's first. */
#define PERCPU_ADD(map, type, key, bytes)					\
	do {									\
		type *v = bpf_map_lookup_elem(&(map), &(key));			\
		type init = { .packets = 1, .bytes = (bytes) };			\
										\
		if (v) {							\
			v->packets++;						\
			v->bytes += (bytes);					\
		} else {							\
			bpf_map_update_elem(&(map), &(key), &init, BPF_NOEXIST); \
		}								\
	} while (0)

static __always_inline void min_account(void *data, void *data_end,
					__u32 ifindex, __u8 direction,
					enum min_variant variant)
{
	struct flow_key key = {};
	__u64 bytes;

	bytes = min_parse(data, data_end, &key);
	if (!bytes)
		return;
	key.ifindex = ifindex;
	key.direction = direction;

	if (variant == MIN_PERCPU) {
		PERCPU_ADD(min_flows, struct min_value, key, bytes);
	} else if (variant == MIN_ATOMIC) {
		struct min_value *v = bpf_map_lookup_elem(&min_flows_atomic, &key);
		struct min_value init = { .packets = 1, .bytes = bytes };

		if (v) {
			__sync_fetch_and_add(&v->packets, 1);
			__sync_fetch_and_add(&v->bytes, bytes);
		} else {
			bpf_map_update_elem(&min_flows_atomic, &key, &init,
					    BPF_NOEXIST);
		}
	} else if (variant == MIN_WIDE) {
		PERCPU_ADD(min_flows_wide, struct wide_value, key, bytes);
	} else {
		struct spin_value *v = bpf_map_lookup_elem(&min_flows_spin, &key);
		struct spin_value init = { .packets = 1, .bytes = bytes };

		if (v) {
			bpf_spin_lock(&v->lock);
			v->packets++;
			v->bytes += bytes;
			bpf_spin_unlock(&v->lock);
		} else {
			bpf_map_update_elem(&min_flows_spin, &key, &init,
					    BPF_NOEXIST);
		}
	}
}

/*
 * The XDP programs are xdp.frags like flowacct_xdp: a program array only
 * takes programs that agree on it, and the cycler must reach them all.
 */
SEC("xdp.frags")
int noop_xdp(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

SEC("tc")
int noop_tc(struct __sk_buff *skb)
{
	(void)skb;
	return TC_ACT_UNSPEC;
}

#define MIN_XDP(name, variant)							\
	SEC("xdp.frags")							\
	int name(struct xdp_md *ctx)						\
	{									\
		min_account((void *)(long)ctx->data,				\
			    (void *)(long)ctx->data_end,			\
			    ctx->ingress_ifindex, FLOW_DIR_INGRESS, variant);	\
		return XDP_PASS;						\
	}

#define MIN_TC(name, variant)							\
	SEC("tc")								\
	int name(struct __sk_buff *skb)						\
	{									\
		min_account((void *)(long)skb->data,				\
			    (void *)(long)skb->data_end,			\
			    skb->ifindex, FLOW_DIR_EGRESS, variant);		\
		return TC_ACT_UNSPEC;						\
	}

MIN_XDP(min_percpu_xdp, MIN_PERCPU)
MIN_XDP(min_atomic_xdp, MIN_ATOMIC)
MIN_XDP(min_spin_xdp, MIN_SPIN)
MIN_XDP(min_wide_xdp, MIN_WIDE)
MIN_TC(min_percpu_tc, MIN_PERCPU)
MIN_TC(min_atomic_tc, MIN_ATOMIC)
MIN_TC(min_spin_tc, MIN_SPIN)
MIN_TC(min_wide_tc, MIN_WIDE)

/*
 * The frame is an untagged IPv4 TCP or UDP frame; see bench.h. The order is
 * shuffled for updates: inserting flows in order lays their elements out in
 * that order, and walking them again in the same order would be a
 * sequential scan of memory that real traffic never makes.
 */
static __always_inline int cycle_rewrite(void *data, void *data_end)
{
	__u8 *p = data;
	__u32 idx, *shuffled;

	if ((void *)(p + CYCLE_FRAME_MIN) > data_end)
		return -1;
	idx = cycle.next;
	cycle.next = idx + 1 < cycle.flows ? idx + 1 : 0;
	if (cycle.shuffled) {
		shuffled = bpf_map_lookup_elem(&cycle_order, &idx);
		if (!shuffled)
			return -1;
		idx = *shuffled;
	}
	p[CYCLE_OFF_SRC_LAST] = idx >> 16;
	p[CYCLE_OFF_SPORT] = idx >> 8;
	p[CYCLE_OFF_SPORT + 1] = idx;
	return 0;
}

/* A verdict other than pass tells the driver the tail call did not happen. */
SEC("xdp.frags")
int cycle_xdp(struct xdp_md *ctx)
{
	if (cycle_rewrite((void *)(long)ctx->data, (void *)(long)ctx->data_end))
		return XDP_ABORTED;
	bpf_tail_call(ctx, &cycle_xdp_target, 0);
	return XDP_ABORTED;
}

SEC("tc")
int cycle_tc(struct __sk_buff *skb)
{
	if (cycle_rewrite((void *)(long)skb->data, (void *)(long)skb->data_end))
		return TC_ACT_SHOT;
	bpf_tail_call(skb, &cycle_tc_target, 0);
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
