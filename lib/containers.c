// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The container a cgroup or an interface belongs to, named from what the
 * kernel and the runtimes leave on disk: no runtime's API, no control
 * plane.
 *
 * A cgroup path says the runtime and the container's id (each runtime
 * names its cgroups its own way) and, under kubepods, the pod's UID. The
 * names come from the runtimes' files: containers/storage's
 * containers.json (podman, CRI-O), docker's config.v2.json, and kubelet's
 * log directories (/var/log/pods/NAMESPACE_POD_UID/CONTAINER/, and the
 * /var/log/containers/POD_NAMESPACE_CONTAINER-ID.log links), all read
 * under a root that is "/" unless fa_containers_root() says otherwise.
 *
 * An interface's container is its peer's: IFLA_LINK_NETNSID names the
 * peer's network namespace, /proc/PID/ns/net finds the processes living
 * there, and their cgroup the container. It is looked up when an interface
 * appears, not per packet.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "runtimes.h"

static char root_dir[PATH_MAX] = "";

void fa_containers_root(const char *dir)
{
	/* "/" and "" are the same: paths are joined as root + "/var/...". */
	snprintf(root_dir, sizeof(root_dir), "%s", dir && strcmp(dir, "/") ? dir : "");
}

/* ---- cgroup paths ------------------------------------------------------------- */

static bool all_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* A path segment's runtime prefix and the runtime it means. */
static const struct {
	const char *prefix;
	const char *runtime;
} prefixes[] = {
	{ "docker-", "docker" },
	{ "cri-containerd-", "containerd" },
	{ "crio-", "cri-o" },
	{ "libpod-", "podman" },
};

/*
 * Whether segment [@s, @s + @n) names a container: "<prefix><id>[.scope]"
 * or a bare id. Sets the id and, from the prefix, the runtime. The
 * monitors' own scopes ("libpod-conmon-<id>", "crio-conmon-<id>") hold
 * the monitor, not the container: they name none.
 */
static bool segment_id(const char *s, size_t n, struct fa_container *c)
{
	const char *runtime = NULL;
	size_t i;

	if (n > 6 && !strncmp(s + n - 6, ".scope", 6))
		n -= 6;
	for (i = 0; i < ARRAY_SIZE(prefixes); i++) {
		size_t p = strlen(prefixes[i].prefix);

		if (n > p && !strncmp(s, prefixes[i].prefix, p)) {
			runtime = prefixes[i].runtime;
			s += p;
			n -= p;
			break;
		}
	}
	if (n != 64 || !all_hex(s, 64))
		return false;
	memcpy(c->id, s, 64);
	c->id[64] = '\0';
	snprintf(c->runtime, sizeof(c->runtime), "%s", runtime ? runtime : "");
	return true;
}

/*
 * The pod UID in a kubepods path: "pod<uid>" (cgroupfs driver) or
 * "kubepods[-<qos>]-pod<uid_with_underscores>.slice" (systemd driver).
 */
static bool segment_pod(const char *s, size_t n, struct fa_container *c)
{
	const char *p;
	size_t i;

	if (n > 6 && !strncmp(s + n - 6, ".slice", 6))
		n -= 6;
	for (p = s; p + 3 + 36 <= s + n; p++) {
		if (strncmp(p, "pod", 3) || (p != s && p[-1] != '-') || p + 3 + 36 != s + n)
			continue;
		for (i = 0; i < 36; i++) {
			char ch = p[3 + i];

			if (i == 8 || i == 13 || i == 18 || i == 23) {
				if (ch != '-' && ch != '_') {
					c->pod_uid[0] = '\0';
					return false;
				}
				c->pod_uid[i] = '-';
			} else if (all_hex(&ch, 1)) {
				c->pod_uid[i] = ch;
			} else {
				c->pod_uid[0] = '\0';
				return false;
			}
		}
		c->pod_uid[36] = '\0';
		return true;
	}
	return false;
}

bool fa_container_parse(const char *path, struct fa_container *c)
{
	const char *seg = path, *end, *slash, *parent;
	bool kube = strstr(path, "kubepods") != NULL, found = false;

	memset(c, 0, sizeof(*c));
	/* The innermost segment that names one: a container in a container's
	 * cgroup (docker in docker) is the inner one. */
	for (end = path + strlen(path); end > path && !found; end = seg - 1) {
		slash = memrchr(path, '/', end - path);
		seg = slash ? slash + 1 : path;
		if (seg == end)
			continue;
		if (!strncmp(seg, "libpod-conmon-", 14) || !strncmp(seg, "crio-conmon-", 12))
			return false;
		found = segment_id(seg, end - seg, c);
		if (seg == path)
			break;
	}
	if (!found)
		return false;
	if (strlen(path) < sizeof(c->cgroup))
		strcpy(c->cgroup, path);
	/* The cgroupfs driver's bare ids: the parent says whose (only the
	 * parent: a kind node's /docker/<node>/kubepods/... is not docker's). */
	if (!c->runtime[0] && seg > path) {
		parent = seg - 1;
		while (parent > path && parent[-1] != '/')
			parent--;
		if (!strncmp(parent, "docker/", 7))
			snprintf(c->runtime, sizeof(c->runtime), "docker");
	}
	if (kube) {
		/* kubelet puts a pod under its QoS class's cgroup, a guaranteed
		 * one right under kubepods. */
		snprintf(c->qos, sizeof(c->qos), "%s",
			 strstr(path, "besteffort") ? "besteffort" :
			 strstr(path, "burstable") ? "burstable" : "guaranteed");
		for (end = path + strlen(path); end > path; end = seg - 1) {
			slash = memrchr(path, '/', end - path);
			seg = slash ? slash + 1 : path;
			if (segment_pod(seg, end - seg, c) || seg == path)
				break;
		}
	}
	return true;
}

/* ---- names ---------------------------------------------------------------------- */

/* A file under the root, read whole (NULL: none, or too large). */
static char *read_under_root(const char *rel, size_t max)
{
	char path[PATH_MAX];
	struct stat sb;
	char *buf;
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s%s", root_dir, rel) >= (int)sizeof(path))
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) || (size_t)sb.st_size > max || !(buf = malloc(sb.st_size + 1))) {
		close(fd);
		return NULL;
	}
	n = read(fd, buf, sb.st_size);
	close(fd);
	if (n != sb.st_size) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/*
 * podman's and CRI-O's names: containers/storage keeps every container's
 * id and names in one containers.json per storage driver. A store of a
 * thousand containers is a few hundred kB: parsed once, and again only
 * when the file changes (its mtime or size), the process's to keep.
 */
struct storage_file {
	struct timespec mtime;
	off_t size;
	bool read;
	struct storage_name {
		char id[65];
		char name[128];
	} *v;
	size_t n;
};

static void storage_add(void *ctx, const char *id, const char *name)
{
	struct storage_file *f = ctx;
	struct storage_name *grown;

	if (strlen(id) != 64 || strlen(name) >= sizeof(f->v->name))
		return;
	grown = realloc(f->v, (f->n + 1) * sizeof(*f->v));
	if (!grown)
		return;
	f->v = grown;
	strcpy(f->v[f->n].id, id);
	strcpy(f->v[f->n++].name, name);
}

static bool storage_name(const char *id, char *name, size_t len)
{
	static const char *const drivers[] = { "overlay", "vfs", "btrfs", "zfs" };
	static struct storage_file files[ARRAY_SIZE(drivers)];
	char rel[128], path[PATH_MAX], *buf;
	struct storage_file *f;
	struct stat sb;
	size_t i, k;

	for (i = 0; i < ARRAY_SIZE(drivers); i++) {
		f = &files[i];
		snprintf(rel, sizeof(rel), "/var/lib/containers/storage/%s-containers/containers.json",
			 drivers[i]);
		if (snprintf(path, sizeof(path), "%s%s", root_dir, rel) >= (int)sizeof(path) ||
		    stat(path, &sb))
			continue;
		if (!f->read || f->size != sb.st_size || f->mtime.tv_sec != sb.st_mtim.tv_sec ||
		    f->mtime.tv_nsec != sb.st_mtim.tv_nsec) {
			free(f->v);
			f->v = NULL;
			f->n = 0;
			buf = read_under_root(rel, 64 << 20);
			f->read = buf && !fa_storage_names(buf, storage_add, f);
			free(buf);
			f->size = sb.st_size;
			f->mtime = sb.st_mtim;
		}
		for (k = 0; k < f->n; k++)
			if (!strcmp(f->v[k].id, id)) {
				snprintf(name, len, "%s", f->v[k].name);
				return true;
			}
	}
	return false;
}

/* docker's: /var/lib/docker/containers/<id>/config.v2.json. */
static bool docker_name(const char *id, char *name, size_t len)
{
	char rel[192], *buf;
	bool found;

	snprintf(rel, sizeof(rel), "/var/lib/docker/containers/%s/config.v2.json", id);
	buf = read_under_root(rel, 16 << 20);
	found = buf && fa_docker_name(buf, name, len);
	free(buf);
	return found;
}

static DIR *opendir_under_root(const char *rel)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s%s", root_dir, rel) >= (int)sizeof(path))
		return NULL;
	return opendir(path);
}

/*
 * kubelet's names, without its API: the pod's log directory
 * NAMESPACE_POD_UID gives namespace and pod; the container's name is the
 * link /var/log/containers/POD_NAMESPACE_CONTAINER-ID.log when there is
 * one, else the pod directory's only container directory.
 */
static void kube_names(struct fa_container *c)
{
	char dir[PATH_MAX], prefix[sizeof(c->pod) + sizeof(c->ns) + 2], suffix[80];
	size_t ulen = strlen(c->pod_uid), n, plen, slen;
	const char *us1, *us2;
	struct dirent *d;
	int subdirs = 0;
	DIR *dp;

	dp = opendir_under_root("/var/log/pods");
	if (!dp)
		return;
	while ((d = readdir(dp))) {
		n = strlen(d->d_name);
		us1 = strchr(d->d_name, '_');
		if (n < ulen + 1 || d->d_name[n - ulen - 1] != '_' ||
		    strcmp(d->d_name + n - ulen, c->pod_uid) || !us1)
			continue;
		us2 = d->d_name + n - ulen - 1;
		if (us2 <= us1)
			continue;
		snprintf(c->ns, sizeof(c->ns), "%.*s", (int)(us1 - d->d_name), d->d_name);
		snprintf(c->pod, sizeof(c->pod), "%.*s", (int)(us2 - us1 - 1), us1 + 1);
		snprintf(dir, sizeof(dir), "/var/log/pods/%s", d->d_name);
		break;
	}
	closedir(dp);
	if (!c->pod[0])
		return;

	if (c->id[0]) {
		snprintf(prefix, sizeof(prefix), "%s_%s_", c->pod, c->ns);
		snprintf(suffix, sizeof(suffix), "-%s.log", c->id);
		plen = strlen(prefix);
		slen = strlen(suffix);
		dp = opendir_under_root("/var/log/containers");
		while (dp && (d = readdir(dp))) {
			n = strlen(d->d_name);
			if (n > plen + slen && !strncmp(d->d_name, prefix, plen) &&
			    !strcmp(d->d_name + n - slen, suffix)) {
				snprintf(c->name, sizeof(c->name), "%.*s",
					 (int)(n - plen - slen), d->d_name + plen);
				break;
			}
		}
		if (dp)
			closedir(dp);
	}
	if (c->name[0] || !c->id[0])
		return;
	dp = opendir_under_root(dir);
	while (dp && (d = readdir(dp))) {
		if (d->d_type != DT_DIR || d->d_name[0] == '.')
			continue;
		if (!subdirs++ && strlen(d->d_name) < sizeof(c->name))
			strcpy(c->name, d->d_name);
	}
	if (dp)
		closedir(dp);
	if (subdirs != 1)
		c->name[0] = '\0';
}

void fa_container_name(struct fa_container *c)
{
	if (c->pod_uid[0])
		kube_names(c);
	if (c->name[0] || !c->id[0])
		return;
	if (!strcmp(c->runtime, "docker"))
		docker_name(c->id, c->name, sizeof(c->name));
	else if ((!strcmp(c->runtime, "podman") || !strcmp(c->runtime, "cri-o") ||
		  !c->runtime[0]) && !storage_name(c->id, c->name, sizeof(c->name)))
		docker_name(c->id, c->name, sizeof(c->name));
}

/* ---- interfaces ----------------------------------------------------------------- */

/* The unified hierarchy's path of process @pid ("0::/path"), or "". */
static void proc_cgroup(const char *pid, char *out, size_t len)
{
	char path[64], line[PATH_MAX + 8];
	FILE *f;

	*out = '\0';
	snprintf(path, sizeof(path), "/proc/%s/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = '\0';
			if (strlen(line + 3) < len)
				strcpy(out, line + 3);
			break;
		}
	fclose(f);
}

struct netns_seen {
	ino_t ino;
	int nsid;		/* -1: none here (not a peer's) */
	bool any;		/* a process in a container found */
	bool mixed;		/* processes of more than one container */
	bool host;		/* a process in no container: not a container's */
	struct fa_container c;
};

/*
 * Folds process @pid's container into its namespace's: one container, or
 * the pod (a pod's containers share its namespace: the interface is the
 * pod's), or the first one found. A process in no
 * container makes it no container's: the host's namespace, seen from a
 * container's end, holds host-network containers among the host's own.
 */
static void fold(struct netns_seen *s, const char *pid)
{
	char cg[PATH_MAX], *slash;
	struct fa_container c;

	proc_cgroup(pid, cg, sizeof(cg));
	/* Gone meanwhile: no say. */
	if (!*cg)
		return;
	if (!fa_container_parse(cg, &c)) {
		s->host = true;
		return;
	}
	/* A pod's namespace is the pod's: its sandbox (pause) is the first
	 * process there, its containers join later. Named as the pod, and
	 * there while the pod's cgroup is. */
	if (c.pod_uid[0]) {
		c.id[0] = c.runtime[0] = c.name[0] = '\0';
		slash = strrchr(c.cgroup, '/');
		if (slash && slash > c.cgroup)
			*slash = '\0';
	}
	if (!s->any) {
		s->c = c;
		s->any = true;
		return;
	}
	if (!strcmp(s->c.id, c.id) || s->mixed)
		return;
	if (s->c.pod_uid[0] && !strcmp(s->c.pod_uid, c.pod_uid)) {
		s->c.id[0] = s->c.runtime[0] = s->c.name[0] = '\0';
		s->mixed = true;
	}
}

int fa_iface_containers(const int *nsids, size_t n, struct fa_container *out, bool *found,
			bool *settled)
{
	struct netns_seen *seen = NULL, *s, *grown;
	size_t nseen = 0, cap = 0, i, k;
	char path[sizeof("/proc//ns/net") + 256];
	struct stat own, sb;
	struct dirent *d;
	int fd, err = 0;
	DIR *proc;

	for (i = 0; i < n; i++) {
		found[i] = false;
		settled[i] = nsids[i] < 0;
	}
	if (stat("/proc/self/ns/net", &own))
		return -errno;
	proc = opendir("/proc");
	if (!proc)
		return -errno;
	while ((d = readdir(proc))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", d->d_name);
		/* A process gone: not there; one in our namespace: no peer's. */
		if (stat(path, &sb) || sb.st_ino == own.st_ino)
			continue;
		for (s = seen; s < seen + nseen && s->ino != sb.st_ino; s++)
			;
		if (s == seen + nseen) {
			if (nseen == cap) {
				cap = cap ? 2 * cap : 32;
				grown = realloc(seen, cap * sizeof(*seen));
				if (!grown) {
					err = -ENOMEM;
					break;
				}
				seen = grown;
				s = seen + nseen;
			}
			memset(s, 0, sizeof(*s));
			s->ino = sb.st_ino;
			fd = open(path, O_RDONLY | O_CLOEXEC);
			s->nsid = fd < 0 ? -1 : fa_netns_nsid(fd);
			if (fd >= 0)
				close(fd);
			nseen++;
		}
		for (i = 0; i < n; i++)
			if (s->nsid >= 0 && nsids[i] == s->nsid) {
				fold(s, d->d_name);
				break;
			}
	}
	closedir(proc);
	for (i = 0; i < n && !err; i++)
		for (k = 0; k < nseen; k++) {
			if (nsids[i] < 0 || seen[k].nsid != nsids[i])
				continue;
			/* A process there: what it says stands. */
			settled[i] = seen[k].any || seen[k].host;
			if (seen[k].any && !seen[k].host) {
				out[i] = seen[k].c;
				fa_container_name(&out[i]);
				found[i] = true;
			}
		}
	free(seen);
	return err;
}
