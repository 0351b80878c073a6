// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowacct sockets attach|detach|status: the host-wide socket programs that
 * give flow rows their process, cgroup and TCP metrics.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "cmds.h"

static size_t map_count(int fd, size_t key_size)
{
	char key[64], prev[64];
	size_t n = 0;
	void *p = NULL;

	if (key_size > sizeof(key))
		return 0;
	while (!bpf_map_get_next_key(fd, p, key)) {
		memcpy(prev, key, key_size);
		p = prev;
		n++;
	}
	return n;
}

static int sockets_status(void)
{
	struct fa_out o;
	int sfd, lfd, err;
	char root[256];

	cli_out(&o);
	out_obj_open(&o, NULL);
	out_bool(&o, "attached", NULL, fa_sockets_attached());
	if (!fa_sockets_attached()) {
		out_text(&o, "socket programs: not attached (flowacct sockets attach)\n");
		out_obj_close(&o);
		out_end(&o);
		return 0;
	}
	err = fa_sockets_open(&sfd, &lfd);
	if (err) {
		pr_err("can't open the socket tables in %s: %s", FA_SOCK_PIN_ROOT,
		       strerror(-err));
		return err;
	}
	if (fa_cgroup2_mount(root, sizeof(root)))
		snprintf(root, sizeof(root), "?");
	out_str(&o, "cgroup", "socket programs: attached at %s", root);
	out_u64(&o, "sockets", ", %llu sockets", map_count(sfd, sizeof(__u64)));
	out_u64(&o, "listeners", ", %llu listeners\n",
		map_count(lfd, sizeof(struct flow_listen_key)));
	out_obj_close(&o);
	out_end(&o);
	close(sfd);
	close(lfd);
	return 0;
}

static int do_sockets(void *opts, int argc, char **argv)
{
	struct fa_sockets_result res;
	int err;

	(void)opts;
	(void)argc;
	if (!strcmp(argv[0], "status"))
		return sockets_status();
	if (!strcmp(argv[0], "detach")) {
		if (!fa_sockets_detach()) {
			pr_err("the socket programs are not attached");
			return -ENOENT;
		}
		printf("socket programs detached\n");
		return 0;
	}
	if (strcmp(argv[0], "attach")) {
		pr_err("'%s': give attach, detach or status", argv[0]);
		return -EINVAL;
	}
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
	printf("socket programs attached at %s; existing sockets adopted in %zu network namespaces, %d of them given their process from /proc; pins in %s\n",
	       res.cgroup_root, res.namespaces, res.procs_filled, FA_SOCK_PIN_ROOT);
	return 0;
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
