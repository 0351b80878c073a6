// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The containers cgroup paths name, and their names from a runtimes' tree.
 *
 *   container_names ROOT < PATHS
 *
 * For each cgroup path on standard input (one a line), one line on
 * standard output: the path, then id, runtime, pod_uid, qos, name, pod and
 * namespace as lib/containers.c finds them (each "-" when not known), or
 * the path and "none", tab-separated. ROOT is where the runtimes' files
 * are read (a tree the test makes). tests/suites/test_containers.sh
 * compares the lines with what each runtime's documented layout says.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const char *or_dash(const char *s)
{
	return *s ? s : "-";
}

int main(int argc, char **argv)
{
	struct fa_container c;
	char line[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: container_names ROOT < PATHS\n");
		return 2;
	}
	fa_containers_root(argv[1]);
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (!fa_container_parse(line, &c)) {
			printf("%s\tnone\n", line);
			continue;
		}
		fa_container_name(&c);
		printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", line, or_dash(c.id), or_dash(c.runtime),
		       or_dash(c.pod_uid), or_dash(c.qos), or_dash(c.name), or_dash(c.pod), or_dash(c.ns));
	}
	return 0;
}
