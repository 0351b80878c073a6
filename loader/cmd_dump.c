// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowacct dump / stats: the flows and counters of attached interfaces,
 * from their pinned maps or, for an interface a `flowacct run` owns, from
 * the daemon (lib/query.c): the options, the query, the document.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"

const struct opt dump_options[] = {
	OPTION("sort", 's', OPT_ENUM, struct fa_dump_opts, sort, NULL,
	       "largest (or latest, earliest, longest) first",
	       .values = sort_keys),
	OPTION("top", 'n', OPT_UINT, struct fa_dump_opts, top, "N",
	       "only the first N rows",
	       .min = 1, .max = ~0ull),
	OPTION("group-by", 'g', OPT_FUNC, struct fa_dump_opts, group, "FIELD,...",
	       "merge the rows that agree on src, dst, sport, dport, proto, iface, direction, process, cgroup, container, drop_reason",
	       .parse = parse_group),
	OPTION("columns", 'o', OPT_FUNC, struct fa_dump_opts, view, "COL,...",
	       "the table's columns ('+COL,...' adds to the default ones)",
	       .parse = parse_columns),
	OPTION("human", 'H', OPT_FLAG, struct fa_dump_opts, human, NULL,
	       "packets and bytes in k, M, G"),
	OPTION("biflow", 'b', OPT_FLAG, struct fa_dump_opts, biflow, NULL,
	       "one row per connection: both directions (rpackets, rbytes: the other one)"),
	OPTION("src", 0, OPT_FUNC, struct fa_dump_opts, src, "NET",
	       "only flows from NET (an address or a prefix)",
	       .parse = parse_prefix),
	OPTION("dst", 0, OPT_FUNC, struct fa_dump_opts, dst, "NET",
	       "only flows to NET",
	       .parse = parse_prefix),
	OPTION("port", 0, OPT_UINT, struct fa_dump_opts, port, "N",
	       "only TCP and UDP flows from or to port N",
	       .min = 0, .max = 65535),
	OPTION("proto", 0, OPT_FUNC, struct fa_dump_opts, proto, "P",
	       "only flows of protocol P (name or number)",
	       .parse = parse_proto),
	OPT_END
};

int snapshot_gather(const char *ifname, struct fa_snapshot *s)
{
	struct fa_query q = { .kind = FA_QUERY_DUMP };
	struct fa_err e = {};

	snprintf(q.iface, sizeof(q.iface), "%s", ifname ? ifname : "");
	return fa_snapshot_gather(&q, s, NULL, &e) ? cli_err(&e) : 0;
}

static void log_note(void *ctx, enum fa_log_level level, const char *line)
{
	(void)ctx;
	(void)level;
	pr_note("%s", line);
}

/*
 * dump and stats: a daemon that owns every interface asked for answers
 * the query itself (its document on our stdout); else the rows or counters
 * are read here, some of them from daemons.
 */
static int query(enum fa_query_kind kind, const struct fa_dump_opts *o,
		 const char *ifname)
{
	struct fa_query q = { .kind = kind, .json = cli.json };
	const struct fa_log log = { .fn = log_note };
	struct fa_snapshot s = {};
	struct fa_err e = {};
	struct fa_out out;
	int err;

	if (o)
		q.dump = *o;
	snprintf(q.iface, sizeof(q.iface), "%s", ifname ? ifname : "");
	if (ifname && strlen(ifname) >= sizeof(q.iface)) {
		pr_err("'%s' is not an interface name", ifname);
		return -EINVAL;
	}
	err = fa_snapshot_gather(&q, &s, stdout, &e);
	fflush(stdout);
	if (!err) {
		cli_out(&out);
		if (kind == FA_QUERY_DUMP)
			err = fa_dump_render(o, &s, &out, &log, &e);
		else
			fa_print_stats_doc(&out, &s);
	}
	fa_snapshot_free(&s);
	if (err < 0)
		return cli_err(&e);
	return 0;
}

static int do_dump(void *opts, int argc, char **argv)
{
	return query(FA_QUERY_DUMP, opts, argc ? argv[0] : NULL);
}

const struct command cmd_dump = {
	.name = "dump",
	.args = "[IFACE]",
	.summary = "the flows of IFACE, or of every interface attached here",
	.details = "COL: dir, iface, ifindex, proto, src, sport, dst, dport, flows, packets,\n"
		   "bytes, flags, first, last (UTC), age, idle, duration; of the socket\n"
		   "(flowacct sockets attach): cookie, process, pid, comm, cgroup, container,\n"
		   "srtt, rttvar, minrtt, cwnd, state, sretrans; of the packets (--retrans):\n"
		   "retrans, retrans_bytes; from TCP timestamps (--passive-rtt): prtt, prtt_min.",
	.opts = dump_options,
	.opts_size = sizeof(struct fa_dump_opts),
	.defaults = &fa_dump_defaults,
	.need = NEED_ROOT | NEED_BPFFS_SEEN,
	.max_args = 1,
	.run = do_dump,
};

static int do_stats(void *opts, int argc, char **argv)
{
	(void)opts;
	return query(FA_QUERY_STATS, NULL, argc ? argv[0] : NULL);
}

const struct command cmd_stats = {
	.name = "stats",
	.args = "[IFACE]",
	.summary = "the counters of IFACE, or of every interface attached here",
	.need = NEED_ROOT | NEED_BPFFS_SEEN,
	.max_args = 1,
	.run = do_stats,
};
