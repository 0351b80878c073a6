// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * TC: account every frame the interface sends (egress), and, where TC is
 * the ingress hook, every frame it receives; then let it go.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "flow_account.h"

/* Enough for Ethernet, two tags, IPv6 with a few extension headers and TCP. */
#define TC_PULL_LEN 256
/* The same twice, with a tunnel's headers (Geneve's options up to 252) between. */
#define TC_PULL_LEN_DECAP 640

static __always_inline int reason_is_truncation(int reason)
{
	return reason == FLOW_C_TRUNC_ETH || reason == FLOW_C_TRUNC_VLAN ||
	       reason == FLOW_C_TRUNC_IPV4 || reason == FLOW_C_TRUNC_IPV6 ||
	       reason == FLOW_C_TRUNC_IPV6_EXT || reason == FLOW_C_TRUNC_L4 ||
	       reason == FLOW_C_TRUNC_TUNNEL || reason == FLOW_C_TRUNC_MPLS;
}

/* --decap inner: as flowacct_decap_xdp(). */
__noinline int flowacct_decap_skb(struct __sk_buff *skb, struct flow_pkt *pkt)
{
	struct parse_ctx pc = {
		.data = (void *)(long)skb->data,
		.data_end = (void *)(long)skb->data_end,
		.wire_len = skb->len,
		/*
		 * Not .gso: an inner length of 0 is taken from the frame for
		 * TCP (BIG TCP) only; for any protocol it doubled the
		 * verifier's work here, and a tunnel's GSO frames carry their
		 * inner lengths.
		 */
	};

	if (!pkt)
		return FLOW_C_TRUNC_ETH;
	/* Never padded: see flowacct_decap_xdp(). */
	if (flow_cfg.replay)
		pc.wire_len = replay_frame.wire_len;
	return parse_decap(&pc, pkt);
}

/*
 * Global, so verified once on its own (see flowacct_parse_xdp); called a
 * second time only for a frame whose headers had to be pulled.
 */
__noinline int flowacct_parse_skb(struct __sk_buff *skb, struct flow_pkt *pkt)
{
	struct parse_ctx pc = {
		.data = (void *)(long)skb->data,
		.data_end = (void *)(long)skb->data_end,
		.wire_len = skb->len,
		/*
		 * Not a host-GSO frame with gso_segs 0 (tc_segments() counts
		 * its segments): the zero lengths this flag is for come with
		 * frames over 64 KiB, which virtio's host TSO does not make,
		 * and testing gso_size here too doubled the verifier's work.
		 */
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
	return parse_frame_l4(&pc, pkt);
}

/* With --decap inner: as flowacct_parse_decap_xdp(). */
__noinline int flowacct_parse_decap_skb(struct __sk_buff *skb, struct flow_pkt *pkt)
{
	int err;

	if (!pkt)
		return FLOW_C_TRUNC_ETH;
	err = flowacct_parse_skb(skb, pkt);
	if (err == FLOW_C_NON_IP || (!err && pkt_is_tunnel(pkt)))
		return flowacct_decap_skb(skb, pkt);
	return err;
}

/* Returns 0 with pkt filled in, or the counter naming why not. */
static __always_inline int flowacct_parse_tc(struct __sk_buff *skb,
					     struct flow_pkt *pkt)
{
	__u32 linear, pull = flow_cfg.decap ? TC_PULL_LEN_DECAP : TC_PULL_LEN;
	int reason;

	reason = flow_cfg.decap ? flowacct_parse_decap_skb(skb, pkt) :
				  flowacct_parse_skb(skb, pkt);

	/*
	 * Headers may sit partly in the non-linear part. Pull only then: most
	 * egress TCP skbs are clones with a short linear head, and pulling
	 * unconditionally would copy the head of every one of them. Pulling
	 * moves bytes into the head; it changes none of them.
	 */
	if (!reason_is_truncation(reason))
		return reason;
	linear = skb->data_end - skb->data;
	if (linear < skb->len && linear < pull) {
		bpf_skb_pull_data(skb, skb->len < pull ? skb->len : pull);
		__builtin_memset(pkt, 0, sizeof(*pkt));
		reason = flow_cfg.decap ? flowacct_parse_decap_skb(skb, pkt) :
					  flowacct_parse_skb(skb, pkt);
	}
	return reason;
}

/*
 * The wire packets a frame stands for. A GSO frame leaves (or a GRO'd one
 * arrived) as gso_segs packets, each with its own headers. A frame a tap or
 * virtio device handed in with host GSO (SKB_GSO_DODGY) may carry gso_segs
 * 0 until the stack recounts it: count its segments from the payload and
 * gso_size then, as qdisc_pkt_len_init() does.
 */
static __always_inline __u32 tc_segments(struct __sk_buff *skb,
					 const struct flow_pkt *pkt, int reason)
{
	__u64 payload, segs;

	if (skb->gso_segs > 1)
		return skb->gso_segs;
	if (skb->gso_segs || !skb->gso_size || reason ||
	    pkt->ip_len <= pkt->hdr_len)
		return 1;
	payload = pkt->ip_len - pkt->hdr_len;
	segs = (payload + skb->gso_size - 1) / skb->gso_size;
	return segs > 0xffff ? 0xffff : segs;	/* gso_segs is 16 bits */
}

/*
 * The socket a locally sent flow came from, noted when its row is inserted:
 * a helper call or two per new row, none per packet. Forwarded packets have
 * no socket (cookie 0) and leave nothing.
 */
static __always_inline void flow_owner_note(struct __sk_buff *skb,
					    const struct flow_key *key)
{
	struct flow_owner o = { .cookie = bpf_get_socket_cookie(skb) };

	if (!o.cookie)
		return;
	o.cgroup_id = bpf_skb_cgroup_id(skb);
	bpf_map_update_elem(&flow_owners, key, &o, BPF_ANY);
}

/*
 * TC_ACT_UNSPEC: with direct-action it means "no verdict", so the filters
 * after ours still run and the packet goes on as if we were not there.
 */
static __always_inline int flowacct_tc_hook(struct __sk_buff *skb, __u8 dir)
{
	struct flow_pkt pkt;
	const struct flow_sample_config *cfg;
	struct flow_stats *st;
	struct parse_ctx pc = {
		.data = (void *)(long)skb->data,
		.data_end = (void *)(long)skb->data_end,
		.wire_len = skb->len,
	};
	int reason, inserted;

	st = flow_stats_slot(dir, skb->ifindex);
	if (!st)
		return TC_ACT_UNSPEC;
	parse_ctx_replay(&pc);
	if (parse_frame_fast(&pc, &pkt)) {
		reason = 0;
	} else {
		__builtin_memset(&pkt, 0, sizeof(pkt));
		reason = flowacct_parse_tc(skb, &pkt);
		pkt_tag_tunnel(&pkt, reason);
	}
	inserted = flow_account(st, &pkt, reason, tc_segments(skb, &pkt, reason),
				skb->ifindex, dir);
	if (flow_cfg.owners && dir == FLOW_DIR_EGRESS && inserted)
		flow_owner_note(skb, &pkt.key);
	if (flow_cfg.passive_rtt)
		flow_passive_rtt((void *)(long)skb->data,
				 (void *)(long)skb->data_end, &pkt, reason);
	cfg = flow_sample_pick(st, &pkt, reason);
	if (cfg)
		flow_sample_send(skb, st, cfg, &pkt, reason, skb->len,
				 skb->ifindex, dir);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int flowacct_tc(struct __sk_buff *skb)
{
	return flowacct_tc_hook(skb, FLOW_DIR_EGRESS);
}

/* Ingress at TC, for devices where XDP would cost offloads or miss segments. */
SEC("tc")
int flowacct_tc_in(struct __sk_buff *skb)
{
	return flowacct_tc_hook(skb, FLOW_DIR_INGRESS);
}
