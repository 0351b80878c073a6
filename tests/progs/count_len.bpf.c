// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Test only: a clsact filter (tc ... bpf da) that counts the packets of one
 * length and lets every packet go on (TC_ACT_UNSPEC: the next filter, or
 * the default). test_tcx.sh puts it after TCX programs, to show that they
 * return TCX_NEXT: it counts only what they let through. The length is
 * that of the test's datagrams as TC sees them: 14 (Ethernet) + 20 (IPv4)
 * + 8 (UDP) + 333 (udp_send.py --size 333).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define COUNT_LEN	375

__u64 packets;

SEC("tc")
int count_len(struct __sk_buff *skb)
{
	if (skb->len == COUNT_LEN)
		__sync_fetch_and_add(&packets, 1);
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
