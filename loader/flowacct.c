// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowacct: per-flow packet and byte accounting with XDP at ingress and TC at
 * egress. This file holds the command table and global options; each
 * command lives in its own file.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "flowacct.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "attach", do_attach, "account IFACE: XDP at ingress, TC at egress" },
	{ "detach", do_detach, "remove what attach added to IFACE" },
	{ "dump", do_dump, "the flow table of one or all attached interfaces" },
	{ "stats", do_stats, "the counters of one or all attached interfaces" },
	{ "status", do_status, "which interfaces are attached, and how" },
	{ "capture", do_capture, "write IFACE's sampled packets to pcap or pcapng" },
	{ "set", do_set, "change sampling on an attached interface" },
	{ "replay", do_replay, "run a capture through the programs (BPF_PROG_TEST_RUN)" },
};

/* A whole unsigned number in [min, max], decimal or 0x-prefixed. */
int parse_u64(const char *s, __u64 min, __u64 max, __u64 *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	v = strtoull(s, &end, 0);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_map_mode(const char *s, bool *shared)
{
	if (!strcmp(s, "percpu"))
		*shared = false;
	else if (!strcmp(s, "shared"))
		*shared = true;
	else {
		pr_err("unknown map mode '%s': use percpu or shared", s);
		return -EINVAL;
	}
	return 0;
}

int parse_max_flows(const char *s, __u32 *max_flows)
{
	__u64 v;

	if (parse_u64(s, 1, 0xffffffff, &v)) {
		pr_err("--max-flows takes a number from 1 to 4294967295, not '%s'", s);
		return -EINVAL;
	}
	*max_flows = v;
	return 0;
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: flowacct [-j] [-v] COMMAND [ARGS]\n\nCommands:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nOptions:\n"
		   "  -j, --json     print JSON (errors too, as {\"error\": ...})\n"
		   "  -v, --verbose  show libbpf's messages (-vv, -vvv: more)\n"
		   "  -h, --help     this text; COMMAND --help for a command's\n");
}

/* An exact name, or a prefix of exactly one name. */
static const struct command *find_command(const char *name)
{
	const struct command *found = NULL;
	size_t i, len = strlen(name);

	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (!strcmp(commands[i].name, name))
			return &commands[i];
		if (!strncmp(commands[i].name, name, len)) {
			if (found)
				return NULL;
			found = &commands[i];
		}
	}
	return found;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const struct command *cmd;
	int c;

	/* "+": stop at the command; its own options are its business. */
	while ((c = getopt_long(argc, argv, "+jvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json_output = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_FAILURE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_FAILURE;
	}
	cmd = find_command(argv[optind]);
	if (!cmd) {
		pr_err("unknown or ambiguous command '%s'; see flowacct --help",
		       argv[optind]);
		return EXIT_FAILURE;
	}
	libbpf_log_setup();
	argc -= optind;
	argv += optind;
	/* 0, not 1: glibc then forgets the "+" mode of the parse above. */
	optind = 0;
	return cmd->fn(argc, argv) ? EXIT_FAILURE : EXIT_SUCCESS;
}
