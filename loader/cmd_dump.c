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

#include "cmds.h"

const struct dump_opts defaults_dump = {
	.sort = FA_SORT_BYTES,
	.port = -1,
	.proto = -1,
};

const struct opt dump_options[] = {
	OPTION("sort", 's', OPT_ENUM, struct dump_opts, sort, NULL,
	       "largest (or latest, earliest, longest) first",
	       .values = sort_keys),
	OPTION("top", 'n', OPT_UINT, struct dump_opts, top, "N",
	       "only the first N rows",
	       .min = 1, .max = ~0ull),
	OPTION("group-by", 'g', OPT_FUNC, struct dump_opts, group, "FIELD,...",
	       "merge the rows that agree on src, dst, sport, dport, proto, iface, direction, process, cgroup",
	       .parse = parse_group),
	OPTION("columns", 'o', OPT_FUNC, struct dump_opts, view, "COL,...",
	       "the table's columns ('+COL,...' adds to the default ones)",
	       .parse = parse_columns),
	OPTION("human", 'H', OPT_FLAG, struct dump_opts, human, NULL,
	       "packets and bytes in k, M, G"),
	OPTION("biflow", 'b', OPT_FLAG, struct dump_opts, biflow, NULL,
	       "one row per connection: both directions (rpackets, rbytes: the other one)"),
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

/*
 * When every interface asked for is owned by one daemon, it answers the
 * whole command: its view, in the same form. Returns 1 if it did (0: read
 * the interfaces here), or -errno with the error printed.
 */
static int ask_daemon(struct fa_pinned *ps, size_t n)
{
	char req[4096];
	size_t i, off = 0;
	bool ok;
	int pid = 0, p, err;

	for (i = 0; i < n; i++) {
		p = fa_lock_owner(ps[i].dir, FA_LOCK_RUN);
		if (!p || (pid && p != pid))
			return 0;
		pid = p;
	}
	if (!pid)
		return 0;
	for (i = 0; i < (size_t)cli.argc && off < sizeof(req) - 4; i++)
		off += snprintf(req + off, sizeof(req) - off, "%s%s", i ? " " : "",
				cli.argv[i]);
	if (cli.json && off < sizeof(req) - 4)
		off += snprintf(req + off, sizeof(req) - off, " -j");
	err = fa_ctl_call(pid, req, stdout, &ok);
	fflush(stdout);
	if (err) {
		pr_err("can't ask flowacct run (pid %d), which owns the interface: %s",
		       pid, strerror(-err));
		return err;
	}
	return ok ? 1 : -EINVAL;	/* its error is on our stdout already */
}

/* A daemon's view of one interface it owns, merged into @s. */
static int daemon_rows(const struct fa_pinned *p, int pid, struct fa_snapshot *s)
{
	char req[128], *buf = NULL;
	size_t len = 0;
	FILE *f;
	bool ok;
	int err;

	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	snprintf(req, sizeof(req), "rows --pins %s", p->dir);
	err = fa_ctl_call(pid, req, f, &ok);
	fclose(f);
	if (!err && !ok)
		err = -EPROTO;
	if (!err)
		err = fa_snapshot_decode(buf, len, s);
	free(buf);
	return err;
}

int snapshot_gather(const char *ifname, struct fa_snapshot *s, bool rows,
		    bool forward)
{
	struct fa_pinned *ps, one;
	size_t i, n;
	int err = 0, pid;

	if (ifname) {
		if (cli_open_iface(ifname, &one))
			return -ENOENT;
		ps = &one;
		n = 1;
	} else if (cli_open_all(&ps, &n)) {
		return -ENOENT;
	}
	if (forward)
		err = ask_daemon(ps, n);
	for (i = 0; i < n && !err; i++) {
		pid = fa_lock_owner(ps[i].dir, FA_LOCK_RUN);
		if (pid)
			err = daemon_rows(&ps[i], pid, s);
		else if (rows)
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

int dump_render(const struct dump_opts *o, struct fa_snapshot *s,
		struct fa_out *out)
{
	struct fa_filter f = { .src = o->src, .dst = o->dst, .port = o->port,
			       .proto = o->proto };
	struct fa_view v = o->view;
	size_t *order = NULL;
	int err;

	if (o->biflow && o->group) {
		pr_err("--biflow pairs the two directions of each flow: not with --group-by");
		return -EINVAL;
	}
	/* Without it the rows are whole; only the joined fields stay null. */
	err = fa_enrich(s);
	if (err)
		pr_note("can't join the flows to their sockets (the fields stay null): %s",
			strerror(-err));
	/* A connection is filtered by its first direction, once paired. */
	if (o->biflow) {
		err = fa_table_biflow(&s->t, o->sort);
		if (err) {
			pr_err("can't pair the directions: %s", strerror(-err));
			return err;
		}
	}
	if (f.src.set || f.dst.set || f.port >= 0 || f.proto >= 0)
		fa_table_filter(&s->t, &f);
	if (o->group)
		fa_table_group(&s->t, o->group);
	/*
	 * JSON rows are printed in order from an index: a million of them
	 * need not be moved into order to be printed once.
	 */
	if (!o->biflow && out->json && !fa_table_order(&s->t, o->sort, &order))
		v.order = order;
	else if (!o->biflow)
		fa_table_sort(&s->t, o->sort);
	v.group = o->group;
	v.biflow = o->biflow;
	v.human = o->human;
	v.top = o->top;
	v.now_ns = fa_mono_ns() + fa_mono_to_wall_offset();
	v.names = &s->names;
	memcpy(v.hook, s->hook, sizeof(v.hook));
	fa_print_flow_doc(out, &s->t, s->total, &v);
	free(order);
	return 0;
}

static int do_dump(void *opts, int argc, char **argv)
{
	struct fa_snapshot s = {};
	struct fa_out out;
	int err;

	err = snapshot_gather(argc ? argv[0] : NULL, &s, true, true);
	if (!err) {
		cli_out(&out);
		err = dump_render(opts, &s, &out);
	}
	fa_snapshot_free(&s);
	return err < 0 ? err : 0;
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
	err = snapshot_gather(argc ? argv[0] : NULL, &s, false, true);
	if (!err) {
		cli_out(&out);
		fa_print_stats_doc(&out, &s);
	}
	fa_snapshot_free(&s);
	return err < 0 ? err : 0;
}

const struct command cmd_stats = {
	.name = "stats",
	.args = "[IFACE]",
	.summary = "the counters of IFACE, or of every interface attached here",
	.need = NEED_ROOT | NEED_BPFFS_SEEN,
	.max_args = 1,
	.run = do_stats,
};
