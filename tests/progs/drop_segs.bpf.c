// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Test only: a receiver's TC ingress program that drops TCP data segments
 * DROP_FIRST .. DROP_FIRST + DROP_COUNT - 1 (counting full-sized data
 * segments to DROP_PORT, in arrival order) once, so that the sender
 * retransmits a known set. Its retransmissions arrive later, with higher
 * numbers, and pass.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define DROP_PORT	5201
#define DROP_FIRST	200
#define DROP_COUNT	5
#define DATA_MIN	1000	/* bulk segments only, not iperf3's control talk */

__u64 data_segs;
__u64 dropped;

SEC("tc")
int drop_segs(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct tcphdr *th;
	__u32 ip_len, hdrs;
	__u64 n;

	if ((void *)(eth + 1) > end)
		return TC_ACT_OK;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_TCP || ip->ihl != 5)
			return TC_ACT_OK;
		th = (void *)(ip + 1);
		ip_len = bpf_ntohs(ip->tot_len);
		hdrs = sizeof(*ip);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_TCP)
			return TC_ACT_OK;
		th = (void *)(ip6 + 1);
		ip_len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
		hdrs = sizeof(*ip6);
	} else {
		return TC_ACT_OK;
	}
	if ((void *)(th + 1) > end || th->dest != bpf_htons(DROP_PORT))
		return TC_ACT_OK;
	if (ip_len < hdrs + th->doff * 4 + DATA_MIN)
		return TC_ACT_OK;
	n = __sync_fetch_and_add(&data_segs, 1);
	if (n >= DROP_FIRST && n < DROP_FIRST + DROP_COUNT) {
		__sync_fetch_and_add(&dropped, 1);
		return TC_ACT_SHOT;
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
