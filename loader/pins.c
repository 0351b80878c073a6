// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Pins, bpffs and the checks every command that touches them makes first. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>
#include <bpf/bpf.h>

#include "flowacct.h"
#include "pins.h"

/* CAP_* bit numbers, from linux/capability.h */
#define CAP_NET_ADMIN_BIT	12
#define CAP_SYS_ADMIN_BIT	21
#define CAP_BPF_BIT		39

static __u64 effective_caps(void)
{
	unsigned long long caps = 0;
	char line[256];
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps;
}

/*
 * Attaching needs CAP_BPF and CAP_NET_ADMIN (or CAP_SYS_ADMIN, which older
 * kernels asked for instead). Checked up front so the user gets one clear
 * line instead of a libbpf EPERM halfway through.
 */
int check_privileges(void)
{
	__u64 caps = effective_caps();

	if (caps & (1ull << CAP_SYS_ADMIN_BIT))
		return 0;
	if ((caps & (1ull << CAP_BPF_BIT)) && (caps & (1ull << CAP_NET_ADMIN_BIT)))
		return 0;
	pr_err("flowacct needs root (or CAP_BPF and CAP_NET_ADMIN)");
	return -EPERM;
}

static __u64 ns_ino(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_ino;
}

__u64 current_netns_ino(void)
{
	return ns_ino("/proc/self/ns/net");
}

static bool is_bpffs(const char *path)
{
	struct statfs sfs;

	return !statfs(path, &sfs) && sfs.f_type == BPF_FS_MAGIC;
}

/**
 * bpffs_prepare - make sure pins can be made and found at /sys/fs/bpf
 *
 * Mounts bpffs if it is missing and @mount_if_missing, but not in a mount
 * namespace made for this one command: under 'ip netns exec', pins made
 * there would vanish with it, leaving programs attached that no later
 * command can find. Returns 0, -ENOENT (not mounted, not asked to mount)
 * or another -errno with an error printed.
 */
/*
 * Whether this process got a mount namespace of its own just before it ran,
 * as 'ip netns exec' gives each command (with a fresh /sys, where bpffs is
 * not mounted). PID 1 is not always visible (containers, sandboxes); the
 * parent is.
 */
static bool in_fresh_mount_ns(void)
{
	char path[64];
	__u64 self = ns_ino("/proc/self/ns/mnt"), other;

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)getppid());
	other = ns_ino(path);
	if (!other)
		other = ns_ino("/proc/1/ns/mnt");
	return self && other && self != other;
}

int bpffs_prepare(bool mount_if_missing)
{
	if (is_bpffs(BPFFS_ROOT))
		return 0;
	/* Mounting one here would hide the machine's pins, and ours would
	 * vanish with this command. */
	if (in_fresh_mount_ns()) {
		pr_err("%s is not mounted in this mount namespace (as under 'ip netns exec', which mounts a fresh /sys for each command), so flowacct's pins can't be seen or kept here; run it with 'nsenter --net=/run/netns/NAME' instead",
		       BPFFS_ROOT);
		return -EXDEV;
	}
	if (!mount_if_missing)
		return -ENOENT;
	if (mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700")) {
		pr_err("can't mount bpffs at %s: %s", BPFFS_ROOT, strerror(errno));
		return -errno;
	}
	return 0;
}

void pin_path(char *buf, size_t len, const char *ifname, const char *name)
{
	if (name)
		snprintf(buf, len, "%s/%s/%s", PIN_ROOT, ifname, name);
	else
		snprintf(buf, len, "%s/%s", PIN_ROOT, ifname);
}

int state_map_create(const struct attach_state *st)
{
	__u32 zero = 0;
	int fd;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "flowacct_state", sizeof(zero),
			    sizeof(*st), 1, NULL);
	if (fd < 0)
		return -errno;
	if (bpf_map_update_elem(fd, &zero, st, BPF_ANY)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int state_map_read(int fd, struct attach_state *st)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(fd, &zero, st))
		return -errno;
	return st->version == ATTACH_STATE_VERSION ? 0 : -EPROTO;
}

static int obj_get(const char *ifname, const char *name)
{
	char path[PATH_MAX];

	pin_path(path, sizeof(path), ifname, name);
	return bpf_obj_get(path);
}

/* Opens what attach pinned for @ifname. Returns 0 or -errno (-ENOENT: none). */
int pinned_iface_open(const char *ifname, struct pinned_iface *p)
{
	int fd, err;

	memset(p, 0, sizeof(*p));
	p->flows_fd = p->stats_fd = -1;
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);

	fd = obj_get(ifname, "state");
	if (fd < 0)
		return -errno;
	err = state_map_read(fd, &p->state);
	close(fd);
	if (err)
		return err;
	p->flows_fd = obj_get(ifname, "flows");
	p->stats_fd = obj_get(ifname, "flow_stats");
	if (p->flows_fd < 0 || p->stats_fd < 0) {
		err = -errno;
		pinned_iface_close(p);
		return err;
	}
	return 0;
}

void pinned_iface_close(struct pinned_iface *p)
{
	if (p->flows_fd >= 0)
		close(p->flows_fd);
	if (p->stats_fd >= 0)
		close(p->stats_fd);
	p->flows_fd = p->stats_fd = -1;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The interfaces with a pin directory, sorted by name. */
int pinned_ifaces_list(char (**names)[IF_NAMESIZE], size_t *n)
{
	char (*list)[IF_NAMESIZE] = NULL, (*grown)[IF_NAMESIZE];
	struct dirent *de;
	size_t cnt = 0;
	DIR *d;

	*names = NULL;
	*n = 0;
	d = opendir(PIN_ROOT);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= IF_NAMESIZE)
			continue;
		grown = realloc(list, (cnt + 1) * sizeof(*list));
		if (!grown) {
			free(list);
			closedir(d);
			return -ENOMEM;
		}
		list = grown;
		snprintf(list[cnt++], IF_NAMESIZE, "%s", de->d_name);
	}
	closedir(d);
	if (cnt)
		qsort(list, cnt, sizeof(*list), cmp_names);
	*names = list;
	*n = cnt;
	return 0;
}
