// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowacct dump / stats: the flows and counters of attached interfaces,
 * from their pinned maps or, for an interface a `flowacct run` owns, from
 * the daemon's control socket (its view: flows since they started, plus what
 * it already exported).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct dump_opts {
	int sort;
	__u64 top;
	unsigned int group;
	bool human;
	struct fa_view view;		/* the columns */
	struct fa_prefix src, dst;
	int port;
	int proto;
};

static const struct dump_opts defaults_dump = {
	.sort = FA_SORT_BYTES,
	.port = -1,
	.proto = -1,
};

static const struct opt dump_options[] = {
	OPTION("sort", 's', OPT_ENUM, struct dump_opts, sort, NULL,
	       "largest (or latest, earliest, longest) first",
	       .values = sort_keys),
	OPTION("top", 'n', OPT_UINT, struct dump_opts, top, "N",
	       "only the first N rows",
	       .min = 1, .max = ~0ull),
	OPTION("group-by", 'g', OPT_FUNC, struct dump_opts, group, "FIELD,...",
	       "merge the rows that agree on src, dst, sport, dport, proto, iface, direction",
	       .parse = parse_group),
	OPTION("columns", 'o', OPT_FUNC, struct dump_opts, view, "COL,...",
	       "the table's columns ('+COL,...' adds to the default ones)",
	       .parse = parse_columns),
	OPTION("human", 'H', OPT_FLAG, struct dump_opts, human, NULL,
	       "packets and bytes in k, M, G"),
	OPTION("src", 0, OPT_FUNC, struct dump_opts, src, "NET",
	       "only flows from NET (an address or a prefix)",
	       .parse = parse_prefix),
	OPTION("dst", 0, OPT_FUNC, struct dump_opts, dst, "NET",
	       "only flows to NET",
	       .parse = parse_prefix),
	OPTION("port", 0, OPT_UINT, struct dump_opts, port, "N",
	       "only TCP and UDP flows from or to port N",
	       .min = 0, .max = 65535),
	OPTION("proto", 0, OPT_FUNC, struct dump_opts, proto, "P",
	       "only flows of protocol P (name or number)",
	       .parse = parse_proto),
	OPT_END
};

/* The rows and counters of the interfaces asked for, however they are read. */
static int gather(const char *ifname, struct fa_snapshot *s, bool rows)
{
	struct fa_pinned *ps, one;
	size_t i, n;
	int err = 0;

	if (ifname) {
		if (cli_open_iface(ifname, &one))
			return -ENOENT;
		ps = &one;
		n = 1;
	} else if (cli_open_all(&ps, &n)) {
		return -ENOENT;
	}
	for (i = 0; i < n && !err; i++) {
		if (rows)
			err = fa_snapshot_add(s, &ps[i]);
		else
			err = fa_snapshot_add_stats(s, &ps[i]);
		if (err)
			pr_err("can't read '%s': %s", ps[i].state.ifname,
			       strerror(-err));
	}
	if (ifname)
		fa_pinned_close(&one);
	else
		cli_close_all(ps, n);
	return err;
}

static int do_dump(void *opts, int argc, char **argv)
{
	struct dump_opts *o = opts;
	struct fa_snapshot s = {};
	struct fa_filter f = { .src = o->src, .dst = o->dst, .port = o->port,
			       .proto = o->proto };
	struct fa_view v = o->view;
	struct fa_out out;
	int err;

	err = gather(argc ? argv[0] : NULL, &s, true);
	if (err)
		goto out;
	if (f.src.set || f.dst.set || f.port >= 0 || f.proto >= 0)
		fa_table_filter(&s.t, &f);
	if (o->group)
		fa_table_group(&s.t, o->group);
	fa_table_sort(&s.t, o->sort);
	v.group = o->group;
	v.human = o->human;
	v.top = o->top;
	v.now_ns = fa_mono_ns() + fa_mono_to_wall_offset();
	v.names = &s.names;
	memcpy(v.hook, s.hook, sizeof(v.hook));
	cli_out(&out);
	fa_print_flow_doc(&out, &s.t, s.total, &v);
out:
	fa_snapshot_free(&s);
	return err;
}

const struct command cmd_dump = {
	.name = "dump",
	.args = "[IFACE]",
	.summary = "the flows of IFACE, or of every interface attached here",
	.details = "COL: dir, iface, ifindex, proto, src, sport, dst, dport, flows, packets,\n"
		   "bytes, flags, first, last (UTC), age, idle, duration.",
	.opts = dump_options,
	.opts_size = sizeof(struct dump_opts),
	.defaults = &defaults_dump,
	.need = NEED_ROOT | NEED_BPFFS_SEEN,
	.max_args = 1,
	.run = do_dump,
};

static int do_stats(void *opts, int argc, char **argv)
{
	struct fa_snapshot s = {};
	struct fa_out out;
	int err;

	(void)opts;
	err = gather(argc ? argv[0] : NULL, &s, false);
	if (!err) {
		cli_out(&out);
		fa_print_stats_doc(&out, &s);
	}
	fa_snapshot_free(&s);
	return err;
}

const struct command cmd_stats = {
	.name = "stats",
	.args = "[IFACE]",
	.summary = "the counters of IFACE, or of every interface attached here",
	.need = NEED_ROOT | NEED_BPFFS_SEEN,
	.max_args = 1,
	.run = do_stats,
};
