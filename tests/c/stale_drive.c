// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The stale-attachment API as a caller other than status uses it (the
 * daemon at start, `detach --stale`): fa_stale_list() printed, and
 * fa_run_files_remove() run on one attachment's name.
 *
 *   stale_drive list                 one line per stale attachment: "DIRNAME WHY"
 *   stale_drive remove-files DIRNAME
 *   stale_drive alive INO COOKIE     "alive" or "dead"
 *
 * Exits 0, or 1 when the library failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libflowacct.h"

int main(int argc, char **argv)
{
	struct fa_stale *l;
	size_t i, n;
	int err;

	if (argc == 2 && !strcmp(argv[1], "list")) {
		err = fa_stale_list(&l, &n);
		if (err) {
			fprintf(stderr, "fa_stale_list: %s\n", strerror(-err));
			return 1;
		}
		for (i = 0; i < n; i++)
			printf("%s %s\n", l[i].pin.dirname, fa_stale_why_name(l[i].why));
		free(l);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "remove-files")) {
		fa_run_files_remove(argv[2]);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "alive")) {
		printf("%s\n", fa_netns_alive(strtoull(argv[2], NULL, 0),
					      strtoull(argv[3], NULL, 0)) ? "alive" : "dead");
		return 0;
	}
	fprintf(stderr, "usage: stale_drive list | remove-files DIRNAME | alive INO COOKIE\n");
	return 2;
}
