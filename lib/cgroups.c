// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Cgroup v2 ids as paths under the mount, and the container a path names.
 * A cgroup v2 id is its directory's inode number (kernfs node id): the
 * paths are found by walking the hierarchy, into a cache the caller owns
 * (a snapshot's table for a dump, the daemon for its records).
 */
#include <errno.h>
#include <fts.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

static const char *cached(const struct fa_cgroups *c, __u64 id)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->v[i].id == id)
			return c->v[i].path;
	return NULL;
}

/* Adds cgroup @id, at @rel under the mount, unless known. */
static int cache_add(struct fa_cgroups *c, __u64 id, const char *rel)
{
	struct fa_cgroup_path *grown;
	size_t cap;

	if (cached(c, id))
		return 0;
	if (c->n == c->cap) {
		cap = c->cap ? c->cap * 2 : 64;
		grown = realloc(c->v, cap * sizeof(*c->v));
		if (!grown)
			return -ENOMEM;
		c->v = grown;
		c->cap = cap;
	}
	c->v[c->n].id = id;
	c->v[c->n].path = strdup(*rel ? rel : "/");
	if (!c->v[c->n].path)
		return -ENOMEM;
	c->n++;
	return 0;
}

/* Every directory under @root, not crossing into other mounts. */
static int walk(struct fa_cgroups *c, char *root)
{
	char *const roots[] = { root, NULL };
	size_t root_len = strlen(root);
	FTSENT *e;
	FTS *fts;
	int err = 0;

	fts = fts_open(roots, FTS_PHYSICAL | FTS_XDEV | FTS_NOCHDIR, NULL);
	if (!fts)
		return -errno;
	while (!err && (e = fts_read(fts)))
		if (e->fts_info == FTS_D)
			err = cache_add(c, e->fts_statp->st_ino, e->fts_path + root_len);
	fts_close(fts);
	return err;
}

const char *fa_cgroup_path(struct fa_cgroups *c, __u64 id, bool rescan)
{
	char root[PATH_MAX];
	__u64 now = fa_mono_ns();
	const char *path = cached(c, id);

	if (path)
		return path;
	/* A cgroup gone (a container that exited) would walk it every time. */
	if (!rescan || (c->last_scan_ns && now - c->last_scan_ns < 1000000000ull) ||
	    fa_cgroup2_mount(root, sizeof(root)))
		return NULL;
	c->last_scan_ns = now;
	walk(c, root);
	return cached(c, id);
}

void fa_cgroups_free(struct fa_cgroups *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->v[i].path);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static bool all_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/*
 * The 64-hex-digit id that container runtimes put in a cgroup's name:
 * "docker-<id>.scope", "cri-containerd-<id>.scope", "crio-<id>.scope",
 * "libpod-<id>.scope" (systemd driver) or a bare "<id>" under /docker/ or
 * /kubepods/... (cgroupfs driver). The innermost one wins.
 */
bool fa_container_id(const char *path, char *out, size_t len)
{
	const char *end = path + strlen(path), *start, *dash;
	size_t n;

	while (end > path) {
		start = end;
		while (start > path && start[-1] != '/')
			start--;
		n = end - start;
		if (n > 6 && !strncmp(end - 6, ".scope", 6))
			n -= 6;
		dash = memrchr(start, '-', n);
		if (dash) {
			n -= dash + 1 - start;
			start = dash + 1;
		}
		if (n == 64 && all_hex(start, 64)) {
			snprintf(out, len, "%.64s", start);
			return true;
		}
		end = start;
		while (end > path && end[-1] != '/')
			end--;
		if (end > path)
			end--;	/* the slash */
	}
	return false;
}
