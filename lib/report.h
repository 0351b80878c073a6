/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libflowacct's declarations for reports, in files with one job each:
 * cgroup paths (cgroups.c), the columns of the flow table (columns.c),
 * what top shows of an interval (rates.c). Included by libflowacct.h.
 */
#ifndef FLOWACCT_REPORT_H
#define FLOWACCT_REPORT_H

/* ---- cgroup paths (cgroups.c) ------------------------------------------------ */

/* Cgroup v2 ids seen as paths under the mount; zeroed: empty. */
struct fa_cgroups {
	struct fa_cgroup_path {
		__u64 id;
		char *path;
	} *v;
	size_t n, cap;
	__u64 last_scan_ns;	/* a walk at most once a second */
};

/*
 * Cgroup @id as a path under the mount ("/" for the root), or NULL; valid
 * until fa_cgroups_free(@c). @rescan: walk the hierarchy again if the id is
 * not in @c.
 */
const char *fa_cgroup_path(struct fa_cgroups *c, __u64 id, bool rescan);
void fa_cgroups_free(struct fa_cgroups *c);
/* The container id a cgroup path names, if it follows a runtime's layout. */
bool fa_container_id(const char *path, char *out, size_t len);

#endif /* FLOWACCT_REPORT_H */
