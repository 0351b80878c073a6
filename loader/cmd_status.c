// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* flowacct status: the status document (lib/status.c), printed. */
#include "cmds.h"

static int do_status(void *opts, int argc, char **argv)
{
	struct fa_err e = {};
	struct fa_out o;

	(void)opts;
	(void)argc;
	(void)argv;
	cli_out(&o);
	if (fa_status_render(&o, fa_status_ask_daemon, NULL, &e))
		return cli_err(&e);
	return 0;
}

const struct command cmd_status = {
	.name = "status",
	.summary = "which interfaces are attached, how, and whether it is live",
	.need = NEED_ROOT | NEED_BPFFS_SEEN,
	.max_args = 0,
	.run = do_status,
};
