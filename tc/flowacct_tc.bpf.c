// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Egress: account every frame the interface sends, then let it go. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "flow_account.h"

/* Enough for Ethernet, two tags, IPv6 with a few extension headers and TCP. */
#define TC_PULL_LEN 256

static __always_inline int reason_is_truncation(int reason)
{
	return reason == FLOW_C_TRUNC_ETH || reason == FLOW_C_TRUNC_VLAN ||
	       reason == FLOW_C_TRUNC_IPV4 || reason == FLOW_C_TRUNC_IPV6 ||
	       reason == FLOW_C_TRUNC_IPV6_EXT || reason == FLOW_C_TRUNC_L4;
}

/* Global, so verified once on its own (see flowacct_parse_xdp). */
__noinline int flowacct_parse_l4_tc(struct __sk_buff *skb, struct flow_pkt *pkt)
{
	struct parse_ctx pc = {
		.data = (void *)(long)skb->data,
		.data_end = (void *)(long)skb->data_end,
	};

	if (!pkt)
		return FLOW_C_TRUNC_L4;
	return parse_frame_l4(&pc, pkt);
}

__noinline int flowacct_parse_skb(struct __sk_buff *skb, struct flow_pkt *pkt)
{
	struct parse_ctx pc = {
		.data = (void *)(long)skb->data,
		.data_end = (void *)(long)skb->data_end,
		.wire_len = skb->len,
		.gso = skb->gso_segs > 1,
	};
	int err;

	if (!pkt)
		return FLOW_C_TRUNC_ETH;
	if (flow_cfg.replay)
		parse_ctx_replay(&pc);
	err = parse_frame_l3(&pc, pkt);
	if (err || pkt->frag == FLOW_FRAG_LATER)
		return err;
	return flowacct_parse_l4_tc(skb, pkt);
}

/* Returns 0 with pkt filled in, or the counter naming why not. */
__noinline int flowacct_parse_tc(struct __sk_buff *skb, struct flow_pkt *pkt)
{
	__u32 linear;
	int reason;

	if (!pkt)
		return FLOW_C_TRUNC_ETH;
	reason = flowacct_parse_skb(skb, pkt);

	/*
	 * Headers may sit partly in the non-linear part. Pull only then: most
	 * egress TCP skbs are clones with a short linear head, and pulling
	 * unconditionally would copy the head of every one of them. Pulling
	 * moves bytes into the head; it changes none of them.
	 */
	linear = skb->data_end - skb->data;
	if (reason_is_truncation(reason) && linear < skb->len &&
	    linear < TC_PULL_LEN) {
		bpf_skb_pull_data(skb, skb->len < TC_PULL_LEN ?
					       skb->len : TC_PULL_LEN);
		__builtin_memset(pkt, 0, sizeof(*pkt));
		reason = flowacct_parse_skb(skb, pkt);
	}
	return reason;
}

/*
 * TC_ACT_UNSPEC: with direct-action it means "no verdict", so the filters
 * after ours still run and the packet goes out as if we were not there.
 */
SEC("tc")
int flowacct_tc(struct __sk_buff *skb)
{
	struct flow_pkt pkt = {};
	const struct flow_sample_config *cfg;
	struct flow_stats *st;
	__u32 segs = 1;
	int reason;

	st = flow_stats_slot(FLOW_DIR_EGRESS);
	if (!st)
		return TC_ACT_UNSPEC;
	/* A GSO frame leaves as gso_segs packets, each with its own headers. */
	if (skb->gso_segs > 1)
		segs = skb->gso_segs;
	reason = flowacct_parse_tc(skb, &pkt);
	flow_account(st, &pkt, reason, segs, skb->ifindex, FLOW_DIR_EGRESS);
	cfg = flow_sample_pick(st, &pkt, reason);
	if (cfg)
		flow_sample_send(skb, st, cfg, &pkt, reason, skb->len,
				 skb->ifindex, FLOW_DIR_EGRESS);
	return TC_ACT_UNSPEC;
}
