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

/*
 * The full parse, for what the fast parse leaves. Returns 0 with pkt filled
 * in, or the counter naming why not. A global function is verified once, on
 * its own: the many packet-pointer states the extension-header walk ends in
 * do not multiply through the accounting after it.
 */
__noinline int flowacct_parse_xdp(struct xdp_md *ctx, struct flow_pkt *pkt)
{
	struct parse_ctx pc = {
		.data = (void *)(long)ctx->data,
		.data_end = (void *)(long)ctx->data_end,
	};
	int err;

	if (!pkt)
		return FLOW_C_TRUNC_ETH;
	if (flow_cfg.replay) {
		parse_ctx_replay(&pc);
	} else {
		pc.wire_len = pc.data_end - pc.data;
		pc.xdp = ctx;
	}
	err = parse_frame_l3(&pc, pkt);
	if (err || pkt->frag == FLOW_FRAG_LATER)
		return err;
	return parse_frame_l4(&pc, pkt);
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
		reason = flowacct_parse_xdp(ctx, &pkt);
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
