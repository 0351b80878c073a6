// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Cgroup v2 ids as paths under the mount, and the containers of cgroups and
 * of interfaces (containers.c names them).
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
	memset(&c->v[c->n], 0, sizeof(c->v[c->n]));
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

	for (i = 0; i < c->n; i++) {
		free(c->v[i].path);
		free(c->v[i].container);
	}
	free(c->v);
	free(c->ifs);
	memset(c, 0, sizeof(*c));
}

const struct fa_container *fa_cgroup_container(struct fa_cgroups *c, __u64 id)
{
	struct fa_container found;
	size_t i;

	for (i = 0; i < c->n && c->v[i].id != id; i++)
		;
	if (i == c->n)
		return NULL;
	/* Named once per cgroup and table: the runtimes' files are read once. */
	if (!c->v[i].parsed) {
		c->v[i].parsed = true;
		if (fa_container_parse(c->v[i].path, &found)) {
			fa_container_name(&found);
			c->v[i].container = malloc(sizeof(found));
			if (c->v[i].container)
				*c->v[i].container = found;
		}
	}
	return c->v[i].container;
}

int fa_cgroups_ifaces(struct fa_cgroups *c, const __u32 *ifindex, size_t n, bool *settled)
{
	struct fa_container *out = NULL;
	struct fa_link *links = NULL;
	size_t nlinks = 0, i, k, m = 0;
	bool *found = NULL, *done = NULL;
	int *nsids = NULL, err;

	err = fa_links_list(&links, &nlinks);
	if (err)
		return err;
	nsids = calloc(n + 1, sizeof(*nsids));
	out = calloc(n + 1, sizeof(*out));
	found = calloc(n + 1, sizeof(*found));
	done = calloc(n + 1, sizeof(*done));
	if (!nsids || !out || !found || !done) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		nsids[i] = -1;
		for (k = 0; k < nlinks; k++)
			if ((__u32)links[k].ifindex == ifindex[i]) {
				nsids[i] = links[k].link_nsid;
				m += nsids[i] >= 0;
			}
	}
	/* No interface with a peer elsewhere: /proc is not read. */
	if (m) {
		err = fa_iface_containers(nsids, n, out, found, done);
	} else {
		for (i = 0; i < n; i++)
			done[i] = true;
	}
	for (i = 0; i < n && settled; i++)
		settled[i] = !err && done[i];
	for (i = 0; i < n && !err; i++) {
		struct fa_iface_container *grown;

		if (!found[i])
			continue;
		grown = realloc(c->ifs, (c->nifs + 1) * sizeof(*c->ifs));
		if (!grown) {
			err = -ENOMEM;
			break;
		}
		c->ifs = grown;
		c->ifs[c->nifs].ifindex = ifindex[i];
		c->ifs[c->nifs++].c = out[i];
	}
out:
	free(links);
	free(nsids);
	free(out);
	free(found);
	free(done);
	return err;
}

const struct fa_container *fa_cgroups_iface(const struct fa_cgroups *c, __u32 ifindex)
{
	size_t i;

	for (i = 0; i < c->nifs; i++)
		if (c->ifs[i].ifindex == ifindex)
			return &c->ifs[i].c;
	return NULL;
}
