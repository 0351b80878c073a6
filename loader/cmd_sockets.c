// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowacct sockets attach|detach|status: the host-wide socket programs that
 * give flow rows their process, cgroup and TCP metrics.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cmds.h"

static int sockets_status(void)
{
	size_t socks, listeners;
	struct fa_out o;
	char root[256];
	int err;

	if (!fa_sockets_attached()) {
		cli_out(&o);
		out_obj_open(&o, NULL);
		out_bool(&o, "attached", NULL, false);
		out_text(&o, "socket programs: not attached (flowacct sockets attach)\n");
		out_obj_close(&o);
		out_end(&o);
		return 0;
	}
	err = fa_sockets_count(&socks, &listeners);
	if (err) {
		pr_err("can't open the socket tables in %s: %s", FA_SOCK_PIN_ROOT,
		       strerror(-err));
		return err;
	}
	if (fa_cgroup2_mount(root, sizeof(root)))
		snprintf(root, sizeof(root), "?");
	cli_out(&o);
	out_obj_open(&o, NULL);
	out_bool(&o, "attached", NULL, true);
	out_str(&o, "cgroup", "socket programs: attached at %s", root);
	out_u64(&o, "sockets", ", %" PRIu64 " sockets", socks);
	out_u64(&o, "listeners", ", %" PRIu64 " listeners", listeners);
	out_bool(&o, "by_run", NULL, fa_sockets_by_run());
	out_text(&o, fa_sockets_by_run() ?
		     "; by flowacct run: detached when the last daemon using them exits\n" : "\n");
	out_obj_close(&o);
	out_end(&o);
	return 0;
}

static int sockets_detach(void)
{
	struct fa_out o;

	if (!fa_sockets_detach()) {
		pr_err("the socket programs are not attached");
		return -ENOENT;
	}
	cli_out(&o);
	out_obj_open(&o, NULL);
	out_bool(&o, "detached", "socket programs detached\n", true);
	out_obj_close(&o);
	out_end(&o);
	return 0;
}

static int sockets_attach(void)
{
	struct fa_sockets_result res;
	struct fa_out o;
	int err;

	err = fa_sockets_attach(&res);
	if (err == -EEXIST) {
		pr_err("the socket programs are attached already (%s)", FA_SOCK_PIN_ROOT);
		return err;
	}
	if (err) {
		pr_err("can't attach the socket programs (%s): %s",
		       res.step ? res.step : "cgroup v2", strerror(-err));
		return err;
	}
	cli_out(&o);
	out_obj_open(&o, NULL);
	out_str(&o, "cgroup", "socket programs attached at %s", res.cgroup_root);
	out_u64(&o, "namespaces", "; existing sockets adopted in %" PRIu64 " network namespaces",
		res.namespaces);
	out_u64(&o, "procs_filled", ", %" PRIu64 " of them given their process from /proc",
		res.procs_filled);
	out_str(&o, "pins", "; pins in %s\n", FA_SOCK_PIN_ROOT);
	out_obj_close(&o);
	out_end(&o);
	return 0;
}

static int do_sockets(void *opts, int argc, char **argv)
{
	(void)opts;
	(void)argc;
	if (!strcmp(argv[0], "status"))
		return sockets_status();
	if (!strcmp(argv[0], "detach"))
		return sockets_detach();
	if (!strcmp(argv[0], "attach"))
		return sockets_attach();
	pr_err("'%s': give attach, detach or status", argv[0]);
	return -EINVAL;
}

const struct command cmd_sockets = {
	.name = "sockets",
	.args = "attach|detach|status",
	.summary = "the host's socket programs: process, cgroup and TCP metrics of flows",
	.details = "attach: sockops and cgroup/sock_create at the cgroup v2 root, and the\n"
		   "TCP connections already there, in every network namespace.",
	.need = NEED_ROOT | NEED_BPFFS,
	.min_args = 1,
	.max_args = 1,
	.run = do_sockets,
};
