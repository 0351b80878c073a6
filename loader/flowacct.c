// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowacct: per-flow packet and byte accounting with eBPF. This file holds
 * the command table and the global options, and runs a command: its
 * options (parse.c), what it needs, then the command, in its own file.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "version.h"	/* FLOWACCT_VERSION, written by the Makefile */

static const struct command *const commands[] = {
	&cmd_attach, &cmd_detach, &cmd_dump, &cmd_top, &cmd_stats, &cmd_status,
	&cmd_run, &cmd_capture, &cmd_set, &cmd_replay, &cmd_sockets,
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: flowacct [-j] [-v] COMMAND [ARGS]\n\nCommands:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f, "\nOptions:\n"
		   "  -j, --json     print JSON (errors too, as {\"error\": ...})\n"
		   "  -v, --verbose  show libbpf's messages (-vv, -vvv: more)\n"
		   "  -V, --version  the version\n"
		   "  -h, --help     this text; COMMAND --help for a command's\n");
}

/* An exact name, or a prefix of exactly one name; NULL and *ambiguous. */
static const struct command *find_command(const char *name, bool *ambiguous)
{
	const struct command *found = NULL;
	size_t i, len = strlen(name);

	*ambiguous = false;
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (!strcmp(commands[i]->name, name))
			return commands[i];
		if (len && !strncmp(commands[i]->name, name, len)) {
			if (found)
				*ambiguous = true;
			found = commands[i];
		}
	}
	return *ambiguous ? NULL : found;
}

static int preamble(const struct command *c)
{
	char missing[128];
	unsigned int need = 0;
	int err;

	if (c->need & NEED_ROOT)
		need = FA_NEED_ROOT | FA_NEED_BPF;
	else if (c->need & NEED_BPF)
		need = FA_NEED_BPF;
	if (need && fa_check_privileges(need, missing, sizeof(missing))) {
		pr_err("%s needs %s (missing: %s)", c->name,
		       need & FA_NEED_ROOT ?
			       "root: uid 0 with CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON" :
			       "CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON",
		       missing);
		return -EPERM;
	}
	if (!(c->need & (NEED_BPFFS | NEED_BPFFS_SEEN)))
		return 0;
	err = fa_bpffs_prepare(c->need & NEED_BPFFS);
	if (err == -EXDEV) {
		pr_err("/sys/fs/bpf is not mounted in this mount namespace (as under 'ip netns exec', which mounts a fresh /sys for each command), so flowacct's pins can't be seen or kept here; run it with 'nsenter --net=/run/netns/NAME' instead");
		return err;
	}
	if (err == -ENOENT)
		return 0;	/* nothing attached anywhere */
	if (err)
		pr_err("can't mount bpffs at /sys/fs/bpf: %s", strerror(-err));
	return err;
}

static int run_command(const struct command *c, int argc, char **argv)
{
	void *opts;
	char **pos = NULL;
	int npos, err;
	bool help;

	opts = calloc(1, c->opts_size ? c->opts_size : 1);
	if (!opts) {
		pr_err("out of memory");
		return -ENOMEM;
	}
	if (c->defaults)
		memcpy(opts, c->defaults, c->opts_size);
	err = cli_parse(c, argc, argv, opts, &npos, &pos, &help);
	if (err)
		goto out;
	if (help) {
		cli_usage(c);
		goto out;
	}
	if (npos < c->min_args || (c->max_args >= 0 && npos > c->max_args)) {
		if (npos < c->min_args)
			pr_err("%s needs %s; see 'flowacct %s --help'", c->name,
			       c->args, c->name);
		else
			pr_err("%s: unexpected argument '%s'; see 'flowacct %s --help'",
			       c->name, pos[c->max_args], c->name);
		err = -EINVAL;
		goto out;
	}
	err = preamble(c);
	if (!err)
		err = c->run(opts, npos, pos);
out:
	free(pos);
	free(opts);
	return err;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const struct command *c;
	struct fa_out o;
	bool ambiguous;
	int ch;

	opterr = 0;
	/* "+": stop at the command; its own options are its business. */
	while ((ch = getopt_long(argc, argv, "+jvVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			cli.json = true;
			break;
		case 'v':
			cli.verbose++;
			break;
		case 'V':
			cli_out(&o);
			out_obj_open(&o, NULL);
			out_str(&o, "version", "flowacct %s\n", FLOWACCT_VERSION);
			out_obj_close(&o);
			out_end(&o);
			return EXIT_SUCCESS;
		case 'h':
			if (cli.json)
				puts("null");
			else
				usage(stdout);
			return EXIT_SUCCESS;
		default:
			pr_err("unknown option '%s'; see 'flowacct --help'",
			       argv[optind - 1]);
			return EXIT_FAILURE;
		}
	}
	if (optind >= argc) {
		pr_err("no command given; see 'flowacct --help'");
		return EXIT_FAILURE;
	}
	c = find_command(argv[optind], &ambiguous);
	if (!c) {
		pr_err("%s command '%s'; see 'flowacct --help'",
		       ambiguous ? "ambiguous" : "unknown", argv[optind]);
		return EXIT_FAILURE;
	}
	cli_log_setup();
	return run_command(c, argc - optind, argv + optind) ?
		       EXIT_FAILURE : EXIT_SUCCESS;
}
