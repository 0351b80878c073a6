/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What one command shares with another: the daemon answers dump, stats and
 * status requests on its control socket with the same options and the same
 * output as the commands themselves.
 */
#ifndef FLOWACCT_CMDS_H
#define FLOWACCT_CMDS_H

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
	bool biflow;
};

/*
 * The rows (or only the counters) of IFACE, or of every interface attached
 * here: from the daemon that owns one, or from its pins. With @forward, when
 * one daemon owns them all it answers the whole command line instead
 * (returns 1, its answer printed). 0 with @s filled, or -errno, said.
 */
int snapshot_gather(const char *ifname, struct fa_snapshot *s, bool rows,
		    bool forward);

/* Filters, groups, sorts and prints @s as `flowacct dump` does; -errno
 * (said) if it can't. */
int dump_render(const struct dump_opts *o, struct fa_snapshot *s,
		struct fa_out *out);

/*
 * The status document: every attachment's pins here, with @daemon_info
 * (when not NULL) adding what a daemon knows of the interfaces it owns.
 */
int status_render(struct fa_out *o,
		  void (*daemon_info)(struct fa_out *o, const char *dirname, void *ctx),
		  void *ctx);

#endif /* FLOWACCT_CMDS_H */
