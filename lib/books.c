// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The books of a hook: every packet it saw is accounted or counted under
 * one named reason, and this is where that is checked and shown.
 */
#include <inttypes.h>

#include "cells.h"

bool fa_books_balance(const struct fa_hook_stats *st)
{
	__u64 reasons = 0;
	int i;

	for (i = 0; i < FLOW_NR_COUNTERS; i++)
		if (fa_counter_kind(i) == FLOW_CK_REASON)
			reasons += st->c[i];
	return st->c[FLOW_C_SEEN] == st->c[FLOW_C_ACCOUNTED] + reasons;
}
/* The books of one hook: seen must equal accounted plus every named reason. */
void fa_books_text(struct fa_out *o, int dir, int hook,
		   const struct fa_hook_stats *st)
{
	const __u64 *c = st->c;
	__u64 reasons = 0;
	int i;

	for (i = 0; i < FLOW_NR_COUNTERS; i++)
		if (fa_counter_kind(i) == FLOW_CK_REASON)
			reasons += c[i];
	out_text(o, "\n%s %s: seen %" PRIu64 " = accounted %" PRIu64
		 " (%" PRIu64 " bytes) + not accounted %" PRIu64 "%s\n",
		 fa_hook_name(hook), fa_direction_name(dir),
		 (uint64_t)c[FLOW_C_SEEN], (uint64_t)c[FLOW_C_ACCOUNTED],
		 (uint64_t)c[FLOW_C_ACCOUNTED_BYTES], (uint64_t)reasons,
		 fa_books_balance(st) ? "" : "  (DOES NOT ADD UP)");
	for (i = 0; i < FLOW_NR_COUNTERS; i++) {
		if (fa_counter_kind(i) == FLOW_CK_TOTAL || !c[i])
			continue;
		out_text(o, "  %-22s %12" PRIu64 "%s\n", fa_counter_name(i),
			 (uint64_t)c[i],
			 fa_counter_kind(i) == FLOW_CK_REASON ? "  not accounted" : "");
	}
}
