/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What one command shares with another: dump's option table (the options
 * of a query, lib/query.h) and the reading of rows that dump and top share.
 */
#ifndef FLOWACCT_CMDS_H
#define FLOWACCT_CMDS_H

#include "cli.h"

/*
 * The rows of IFACE (NULL: of every interface attached here), from the
 * daemon that owns one or from its pins. 0 with @s filled, or -errno, said.
 */
int snapshot_gather(const char *ifname, struct fa_snapshot *s);

#endif /* FLOWACCT_CMDS_H */
