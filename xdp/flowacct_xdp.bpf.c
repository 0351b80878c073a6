// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Ingress: account every frame the interface receives, then pass it on. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <xdp/xdp_helpers.h>

#include "flow_account.h"

/*
 * For libxdp's dispatcher: run early, and let the next program run when we
 * return XDP_PASS, which is always.
 */
struct {
	__uint(priority, 10);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(flowacct_xdp);

/* What the full parses know of the frame: all of it, for a multi-buffer one. */
static __always_inline void xdp_parse_ctx(struct xdp_md *ctx, struct parse_ctx *pc)
{
	*pc = (struct parse_ctx){
		.data = (void *)(long)ctx->data,
		.data_end = (void *)(long)ctx->data_end,
	};
	if (flow_cfg.replay) {
		parse_ctx_replay(pc);
	} else {
		pc->wire_len = pc->data_end - pc->data;
		pc->xdp = ctx;
	}
}

/*
 * --decap inner: the packet inside the tunnel the full parse found, or in
 * the MPLS frame it called non_ip. Global, for the verifier, like the
 * full parse: its second parse is checked once, on its own.
 */
__noinline int flowacct_decap_xdp(struct xdp_md *ctx, struct flow_pkt *pkt)
{
	struct parse_ctx pc = {
		.data = (void *)(long)ctx->data,
		.data_end = (void *)(long)ctx->data_end,
	};

	if (!pkt)
		return FLOW_C_TRUNC_ETH;
	/*
	 * Never padded: replay pads only frames too short for an IP header,
	 * and those never reach a tunnel. Known to the verifier, that halves
	 * its work here.
	 */
	if (flow_cfg.replay) {
		pc.wire_len = replay_frame.wire_len;
	} else {
		pc.wire_len = pc.data_end - pc.data;
		pc.xdp = ctx;
	}
	return parse_decap(&pc, pkt);
}

/*
 * The full parse, for what the fast parse leaves. Returns 0 with pkt filled
 * in, or the counter naming why not. A global function is verified once, on
 * its own: the many packet-pointer states the extension-header walk ends in
 * do not multiply through the accounting after it.
 */
__noinline int flowacct_parse_xdp(struct xdp_md *ctx, struct flow_pkt *pkt)
{
	struct parse_ctx pc;
	int err;

	if (!pkt)
		return FLOW_C_TRUNC_ETH;
	xdp_parse_ctx(ctx, &pc);
	err = parse_frame_l3(&pc, pkt);
	if (err || pkt->frag == FLOW_FRAG_LATER)
		return err;
	return parse_frame_l4(&pc, pkt);
}

/*
 * With --decap inner, the full parse and then the tunnel's packet. A
 * function of its own, so that neither the parse's many end states nor the
 * hook's split on the choice.
 */
__noinline int flowacct_parse_decap_xdp(struct xdp_md *ctx, struct flow_pkt *pkt)
{
	int err;

	if (!pkt)
		return FLOW_C_TRUNC_ETH;
	err = flowacct_parse_xdp(ctx, pkt);
	if (err == FLOW_C_NON_IP || (!err && pkt_is_tunnel(pkt)))
		return flowacct_decap_xdp(ctx, pkt);
	return err;
}

/* xdp.frags: attachable with a large MTU; lengths come from the IP header. */
SEC("xdp.frags")
int flowacct_xdp(struct xdp_md *ctx)
{
	struct flow_pkt pkt;
	const struct flow_sample_config *cfg;
	struct flow_stats *st;
	struct parse_ctx pc = {
		.data = (void *)(long)ctx->data,
		.data_end = (void *)(long)ctx->data_end,
	};
	int reason;

	st = flow_stats_slot(FLOW_DIR_INGRESS, ctx->ingress_ifindex);
	if (!st)
		return XDP_PASS;
	/* The linear part: a frame longer than that goes the full way. */
	pc.wire_len = pc.data_end - pc.data;
	parse_ctx_replay(&pc);
	if (parse_frame_fast(&pc, &pkt)) {
		reason = 0;
	} else {
		__builtin_memset(&pkt, 0, sizeof(pkt));
		reason = flow_cfg.decap ? flowacct_parse_decap_xdp(ctx, &pkt) :
					  flowacct_parse_xdp(ctx, &pkt);
		pkt_tag_tunnel(&pkt, reason);
	}
	flow_account(st, &pkt, reason, 1, ctx->ingress_ifindex,
		     FLOW_DIR_INGRESS);
	if (flow_cfg.passive_rtt)
		flow_passive_rtt((void *)(long)ctx->data,
				 (void *)(long)ctx->data_end, &pkt, reason);
	cfg = flow_sample_pick(st, &pkt, reason);
	if (cfg)
		flow_sample_send(ctx, st, cfg, &pkt, reason,
				 bpf_xdp_get_buff_len(ctx),
				 ctx->ingress_ifindex, FLOW_DIR_INGRESS);
	return XDP_PASS;
}
