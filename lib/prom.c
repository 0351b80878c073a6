// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Prometheus' text exposition format (version 0.0.4): a family's HELP and
 * TYPE once, then its samples together, as the format asks.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "sink.h"

static void escaped(FILE *f, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '"' && quote)
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

void fa_prom_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s ", name);
	escaped(f, help, false);
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

static void name_and_labels(FILE *f, const char *name, const char *const *labels)
{
	const char *sep = "{";

	fputs(name, f);
	for (; labels && labels[0]; labels += 2) {
		fprintf(f, "%s%s=\"", sep, labels[0]);
		escaped(f, labels[1], true);
		fputc('"', f);
		sep = ",";
	}
	if (*sep == ',')
		fputc('}', f);
}

void fa_prom_u64(FILE *f, const char *name, const char *const *labels, __u64 v)
{
	name_and_labels(f, name, labels);
	fprintf(f, " %" PRIu64 "\n", (uint64_t)v);
}

void fa_prom_f64(FILE *f, const char *name, const char *const *labels, double v)
{
	name_and_labels(f, name, labels);
	fprintf(f, " %.15g\n", v);
}

/* ---- flowacct's metrics ------------------------------------------------------- */

/*
 * A hook counter's family, and its "reason" label where the family has one.
 * The reasons a seen packet was not accounted make one family, so that
 * seen == accounted + sum(flowacct_packets_not_accounted_total) per hook.
 */
static const char *counter_family(int c, const char **reason)
{
	*reason = NULL;
	switch (c) {
	case FLOW_C_SEEN:		return "flowacct_packets_seen_total";
	case FLOW_C_ACCOUNTED:		return "flowacct_packets_accounted_total";
	case FLOW_C_ACCOUNTED_BYTES:	return "flowacct_accounted_bytes_total";
	case FLOW_C_FRAGMENTS:		return "flowacct_fragments_total";
	case FLOW_C_FRAG_ORPHANS:	return "flowacct_fragment_orphans_total";
	case FLOW_C_OVERFLOW:		return "flowacct_overflow_packets_total";
	case FLOW_C_GSO_FRAMES:		return "flowacct_gso_frames_total";
	case FLOW_C_CUT_FRAMES:		return "flowacct_cut_frames_total";
	case FLOW_C_IPV6_JUMBOGRAMS:	return "flowacct_ipv6_jumbograms_total";
	case FLOW_C_TCP_DOFF_INVALID:	return "flowacct_tcp_doff_invalid_total";
	case FLOW_C_IPV4_LEN_FROM_FRAME: return "flowacct_ipv4_len_from_frame_total";
	case FLOW_C_SAMPLES:		return "flowacct_samples_total";
	case FLOW_C_INSERT_FULL:	*reason = "full";
					return "flowacct_insert_failures_total";
	case FLOW_C_INSERT_NOMEM:	*reason = "nomem";
					return "flowacct_insert_failures_total";
	case FLOW_C_INSERT_OTHER:	*reason = "other";
					return "flowacct_insert_failures_total";
	case FLOW_C_SAMPLE_NO_READER:	*reason = "no_reader";
					return "flowacct_samples_lost_total";
	case FLOW_C_SAMPLE_FULL:	*reason = "full";
					return "flowacct_samples_lost_total";
	case FLOW_C_SAMPLE_OTHER:	*reason = "other";
					return "flowacct_samples_lost_total";
	case FLOW_C_TUNNEL_DECAP:	*reason = "decap";
					return "flowacct_tunnel_packets_total";
	case FLOW_C_TUNNEL_NESTED:	*reason = "nested";
					return "flowacct_tunnel_packets_total";
	case FLOW_C_TUNNEL_UNDECODED:	*reason = "undecoded";
					return "flowacct_tunnel_packets_total";
	case FLOW_C_TUNNEL_SHARED:	*reason = "shared";
					return "flowacct_tunnel_packets_total";
	}
	/* Only a reason belongs here: the family must add up to seen - accounted. */
	if (fa_counter_kind(c) != FLOW_CK_REASON)
		return "";
	*reason = fa_counter_name(c);
	return "flowacct_packets_not_accounted_total";
}

static const struct {
	const char *name;
	const char *help;
} hook_families[] = {
	{ "flowacct_packets_seen_total", "Packets the hook saw (a GSO frame counts its segments)." },
	{ "flowacct_packets_accounted_total", "Packets added to a flow or to an overflow row." },
	{ "flowacct_accounted_bytes_total", "IP-layer bytes of the accounted packets." },
	{ "flowacct_packets_not_accounted_total", "Seen packets not accounted, by reason; seen = accounted + the sum of these." },
	{ "flowacct_overflow_packets_total", "Accounted packets that went to the overflow row (the table was full)." },
	{ "flowacct_insert_failures_total", "Flows the table could not take, by the kernel's reason." },
	{ "flowacct_fragments_total", "IP fragments accounted." },
	{ "flowacct_fragment_orphans_total", "Non-first fragments whose first fragment was not seen." },
	{ "flowacct_gso_frames_total", "GSO frames accounted as their segments." },
	{ "flowacct_cut_frames_total", "Frames shorter than their IP length (cut by a snap length)." },
	{ "flowacct_ipv6_jumbograms_total", "Accounted IPv6 packets with payload length 0 (RFC 2675 jumbograms, BIG TCP)." },
	{ "flowacct_tcp_doff_invalid_total", "Accounted TCP segments whose data offset is below 5 or past the datagram." },
	{ "flowacct_ipv4_len_from_frame_total", "Accounted IPv4 packets with total length 0 (TCP in TSO captures, BIG TCP), their length taken from the frame." },
	{ "flowacct_samples_total", "Packets sampled to the perf buffer." },
	{ "flowacct_samples_lost_total", "Samples lost, by reason." },
	{ "flowacct_tunnel_packets_total", "--decap inner: packets accounted as their inner packet (decap), of those a tunnel inside (nested) or through another tunnel than their row's (shared), and to a tunnel's port or protocol that were none (undecoded, accounted as the outer packet)." },
};

static void hook_samples(FILE *f, const char *family, const struct fa_metrics *m)
{
	const char *labels[9], *fam, *reason;
	size_t i;
	int dir, c;

	for (c = 0; c < FLOW_NR_COUNTERS; c++) {
		fam = counter_family(c, &reason);
		if (strcmp(fam, family))
			continue;
		for (i = 0; i < m->nifs; i++) {
			const struct fa_metrics_iface *mi = &m->ifs[i];

			for (dir = 0; dir < FLOW_NR_DIRS; dir++) {
				labels[0] = "iface";
				labels[1] = mi->iface;
				labels[2] = "hook";
				labels[3] = fa_hook_name(mi->hook[dir]);
				labels[4] = "direction";
				labels[5] = fa_direction_name(dir);
				labels[6] = reason ? "reason" : NULL;
				labels[7] = reason;
				labels[8] = NULL;
				fa_prom_u64(f, fam, labels, mi->st[dir].c[c]);
			}
		}
	}
}

/* One sample per interface of a per-interface figure. */
#define PER_IFACE(f, m, name, type, help, expr)				\
	do {								\
		fa_prom_family(f, name, type, help);			\
		for (size_t _i = 0; _i < (m)->nifs; _i++) {		\
			const struct fa_metrics_iface *mi = &(m)->ifs[_i]; \
			const char *_l[] = { "iface", mi->iface, NULL }; \
			fa_prom_u64(f, name, _l, (expr));		\
		}							\
	} while (0)

static void iface_samples(FILE *f, const struct fa_metrics *m)
{
	size_t i;
	int r;

	PER_IFACE(f, m, "flowacct_table_flows", "gauge",
		  "Rows an epoch's table held when it was last drained (its fill over one interval; a flow has a row for each CPU that saw it).",
		  mi->ss->last_table_flows);
	PER_IFACE(f, m, "flowacct_table_capacity_flows", "gauge",
		  "Rows each epoch's table holds (--max-flows).", mi->table_size);
	PER_IFACE(f, m, "flowacct_cache_flows", "gauge",
		  "Flows in the daemon's flow cache.", mi->cache_flows);
	PER_IFACE(f, m, "flowacct_cache_capacity_flows", "gauge",
		  "Flows the cache holds (--cache-size).", mi->cache_size);
	fa_prom_family(f, "flowacct_records_total", "counter",
		       "Flow records that left the cache, by end reason (overflow rows included).");
	for (i = 0; i < m->nifs; i++)
		for (r = FA_END_IDLE; r <= FA_END_LACK_OF_RESOURCES; r++) {
			const char *l[] = { "iface", m->ifs[i].iface, "end_reason",
					    fa_end_reason_name(r), NULL };

			fa_prom_u64(f, "flowacct_records_total", l, m->ifs[i].ss->records[r]);
		}
	PER_IFACE(f, m, "flowacct_delayed_records", "gauge",
		  "Records of a tick that wait in the cache file for a sink that refused them.",
		  mi->delayed_records);
	fa_prom_family(f, "flowacct_tick_lag_seconds", "gauge",
		       "Time since the last tick whose records all went out (since the start before the first): above the interval, a sink is failing.");
	for (i = 0; i < m->nifs; i++) {
		const char *l[] = { "iface", m->ifs[i].iface, NULL };

		fa_prom_f64(f, "flowacct_tick_lag_seconds", l, m->ifs[i].tick_lag_ns / 1e9);
	}
	fa_prom_family(f, "flowacct_last_tick_timestamp_seconds", "gauge",
		       "When the last tick whose records all went out ended (Unix time; absent before the first).");
	for (i = 0; i < m->nifs; i++) {
		const char *l[] = { "iface", m->ifs[i].iface, NULL };

		if (m->ifs[i].last_tick_ns)
			fa_prom_f64(f, "flowacct_last_tick_timestamp_seconds", l,
				    (m->ifs[i].last_tick_ns + fa_mono_to_wall_offset()) / 1e9);
	}
	fa_prom_family(f, "flowacct_drain_seconds", "summary",
		       "Time a tick took per interface: drain, merge, expire, journal, records out.");
	for (i = 0; i < m->nifs; i++) {
		const char *l[] = { "iface", m->ifs[i].iface, NULL };

		fa_prom_f64(f, "flowacct_drain_seconds_sum", l,
			    m->ifs[i].ss->drain_ns_total / 1e9);
		fa_prom_u64(f, "flowacct_drain_seconds_count", l, m->ifs[i].ss->ticks);
	}
}

static void ipfix_samples(FILE *f, const struct fa_ipfix *x)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} fams[] = {
#define IPFIX_FAMILY(name, field, help) \
	{ "flowacct_ipfix_" name, help, offsetof(struct fa_ipfix_stats, field) }
		IPFIX_FAMILY("messages_total", messages, "IPFIX messages sent, of every kind."),
		IPFIX_FAMILY("sent_bytes_total", octets, "Bytes of the IPFIX messages sent."),
		IPFIX_FAMILY("records_total", records, "Flow records sent."),
		IPFIX_FAMILY("options_records_total", options_records, "Options records sent."),
		IPFIX_FAMILY("send_errors_total", send_errors, "Messages the socket refused (collector down or unreachable, buffer full)."),
		IPFIX_FAMILY("records_not_sent_total", records_not_sent, "Flow records in the messages the socket refused."),
#undef IPFIX_FAMILY
	};
	size_t i, k;

	for (k = 0; k < ARRAY_SIZE(fams); k++) {
		fa_prom_family(f, fams[k].name, "counter", fams[k].help);
		for (i = 0; i < x->n; i++) {
			const char *l[] = { "collector", x->c[i].target.name, NULL };

			fa_prom_u64(f, fams[k].name, l,
				    *(const __u64 *)((const char *)&x->c[i].stats + fams[k].off));
		}
	}
}

void fa_print_metrics(FILE *f, const struct fa_metrics *m)
{
	size_t k;

	for (k = 0; k < ARRAY_SIZE(hook_families); k++) {
		fa_prom_family(f, hook_families[k].name, "counter", hook_families[k].help);
		hook_samples(f, hook_families[k].name, m);
	}
	iface_samples(f, m);
	fa_prom_family(f, "flowacct_sink_write_errors_total", "counter",
		       "Writes a sink failed (records that then wait, or its own file).");
	for (k = 0; k < m->nsinks; k++) {
		const char *l[] = { "sink", m->sinks[k].ops->name, NULL };

		fa_prom_u64(f, "flowacct_sink_write_errors_total", l, m->sinks[k].errors);
	}
	fa_prom_family(f, "flowacct_interfaces_taken_total", "counter",
		       "Interfaces the daemon took (attached or adopted), at start and as they appeared.");
	fa_prom_u64(f, "flowacct_interfaces_taken_total", NULL, m->ifaces_taken);
	fa_prom_family(f, "flowacct_interfaces_left_total", "counter",
		       "Interfaces that left (deleted, renamed out, stale), their flows out.");
	fa_prom_u64(f, "flowacct_interfaces_left_total", NULL, m->ifaces_left);
	fa_prom_family(f, "flowacct_interfaces_refused_total", "counter",
		       "Interfaces followed that could not be taken (said in the log).");
	fa_prom_u64(f, "flowacct_interfaces_refused_total", NULL, m->ifaces_refused);
	fa_prom_family(f, "flowacct_flips_total", "counter", "Epoch flips (ticks) of the daemon.");
	fa_prom_u64(f, "flowacct_flips_total", NULL, m->flips);
	fa_prom_family(f, "flowacct_flip_wait_seconds", "summary",
		       "The wait after a flip until no program can still write the old table (an RCU grace period).");
	fa_prom_f64(f, "flowacct_flip_wait_seconds_sum", NULL, m->flip_ns_total / 1e9);
	fa_prom_u64(f, "flowacct_flip_wait_seconds_count", NULL, m->flips);
	fa_prom_family(f, "flowacct_flip_wait_max_seconds", "gauge",
		       "The longest flip wait since the daemon started.");
	fa_prom_f64(f, "flowacct_flip_wait_max_seconds", NULL, m->flip_ns_max / 1e9);
	fa_prom_family(f, "flowacct_json_records_total", "counter",
		       "Flow records written as JSON lines.");
	fa_prom_u64(f, "flowacct_json_records_total", NULL, m->json_records);
	if (m->ipfix)
		ipfix_samples(f, m->ipfix);
}
