// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The pins of attached interfaces, bpffs, and the privileges both need.
 * An attachment lives in /sys/fs/bpf/flowacct/net<ino>-if<index>/: named by
 * what survives a rename, and apart per network namespace.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>
#include <bpf/bpf.h>

#include "internal.h"

#define BPFFS_ROOT "/sys/fs/bpf"

/* CAP_* bit numbers, from linux/capability.h */
#define CAP_NET_ADMIN_BIT	12
#define CAP_SYS_ADMIN_BIT	21
#define CAP_PERFMON_BIT		38
#define CAP_BPF_BIT		39

static __u64 effective_caps(void)
{
	unsigned long long caps = 0;
	char line[256];
	FILE *f;

	f = fopen("/proc/self/status", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps;
}

/*
 * Loading networking programs needs CAP_BPF and CAP_NET_ADMIN, and the
 * verifier wants CAP_PERFMON for what ours do (or CAP_SYS_ADMIN for all
 * three, as older kernels asked). The pins are root's, mode 0700: every
 * command that uses them needs uid 0 as well. Checked up front so that the
 * user gets one line instead of an EPERM halfway through.
 */
int fa_check_privileges(unsigned int need, char *missing, size_t len)
{
	__u64 caps = effective_caps();
	bool sys = caps & (1ull << CAP_SYS_ADMIN_BIT);
	size_t off = 0;

	missing[0] = '\0';
	if ((need & FA_NEED_ROOT) && geteuid() != 0)
		off += snprintf(missing + off, len - off, "uid 0");
	if (need & FA_NEED_BPF) {
		static const struct { int bit; const char *name; } want[] = {
			{ CAP_BPF_BIT, "CAP_BPF" },
			{ CAP_NET_ADMIN_BIT, "CAP_NET_ADMIN" },
			{ CAP_PERFMON_BIT, "CAP_PERFMON" },
		};
		size_t i;

		for (i = 0; i < ARRAY_SIZE(want) && off < len; i++) {
			if ((caps & (1ull << want[i].bit)) ||
			    (sys && want[i].bit != CAP_NET_ADMIN_BIT))
				continue;
			off += snprintf(missing + off, len - off, "%s%s",
					off ? ", " : "", want[i].name);
		}
	}
	return off ? -EPERM : 0;
}

static __u64 ns_ino(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_ino;
}

static bool is_bpffs(const char *path)
{
	struct statfs sfs;

	return !statfs(path, &sfs) && sfs.f_type == BPF_FS_MAGIC;
}

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

int fa_bpffs_prepare(bool mount_if_missing)
{
	if (is_bpffs(BPFFS_ROOT))
		return 0;
	/* Mounting one here would hide the machine's pins, and ours would
	 * vanish with this command. */
	if (in_fresh_mount_ns())
		return -EXDEV;
	if (!mount_if_missing)
		return -ENOENT;
	if (mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700"))
		return -errno;
	return 0;
}

static const char *const pin_names[FA_NR_PINS] = {
	[FA_PIN_FLOWS_0] = "flows_0",
	[FA_PIN_FLOWS_1] = "flows_1",
	[FA_PIN_OVERFLOW] = "flow_overflow",
	[FA_PIN_STATS] = "flow_stats",
	[FA_PIN_SAMPLE_CFG] = "flow_sample_cfg",
	[FA_PIN_SAMPLES] = "flow_samples",
	[FA_PIN_EPOCH] = "epoch",
	[FA_PIN_STATE] = "state",
	[FA_PIN_OWNERS] = "flow_owners",
	[FA_PIN_TCP_SEQ] = "flow_tcp_seq",
	[FA_PIN_RTT] = "flow_rtt",
	[FA_PIN_DROPS_0] = "drops_0",
	[FA_PIN_DROPS_1] = "drops_1",
	[FA_PIN_DROP_STATS] = "drop_stats",
	[FA_PIN_DROP_WATCH] = "drop_watch",
	[FA_PIN_TUNNELS] = "flow_tunnels",
};

/* What a daemon pins beside them (lib/stream.c; the last three only daemons
 * before the cache file); detach removes them too. */
static const char *const daemon_pin_names[] = {
	"run_state", "cache", "journal_records", "journal_changes",
};

/* The TCX links, pinned beside the maps (lib/attach.c). */
static const char *const link_pin_names[] = { "tcx_ingress", "tcx_egress" };

const char *fa_tcx_pin_name(bool egress)
{
	return link_pin_names[egress];
}

const char *fa_pin_name(int pin)
{
	return pin >= 0 && pin < FA_NR_PINS ? pin_names[pin] : "?";
}

void fa_pin_path(char *buf, size_t len, const char *dirname, const char *name)
{
	if (name)
		snprintf(buf, len, "%s/%s/%s", FA_PIN_ROOT, dirname, name);
	else
		snprintf(buf, len, "%s/%s", FA_PIN_ROOT, dirname);
}

int fa_map_check(int fd, const __u32 *types, size_t ntypes, __u32 key_size,
		 __u32 value_size)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	size_t i;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.key_size != key_size || info.value_size != value_size)
		return -EPROTO;
	for (i = 0; i < ntypes; i++)
		if (info.type == types[i])
			return 0;
	return -EPROTO;
}

__u32 fa_map_key_size(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.key_size;
}

/*
 * Every key and value of a hash map (not per-CPU), 4096 entries a syscall
 * with batch lookups (hash maps have them since 5.6; the programs need
 * 6.1). A map that changes meanwhile may show an entry twice or not at
 * all, as any walk of a live map does. *keys and *vals are the caller's to
 * free.
 */
int fa_map_read_all(int fd, size_t ksz, size_t vsz, void **keys_out,
		    void **vals_out, size_t *n_out)
{
	enum { CHUNK = 4096 };
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	char *keys = NULL, *vals = NULL, *grown;
	size_t n = 0, cap = 0;
	__u32 batch, count;
	void *in = NULL;
	int err;

	for (;;) {
		if (cap - n < CHUNK) {
			cap = cap ? cap * 2 : CHUNK * 2;
			grown = realloc(keys, cap * ksz);
			if (!grown)
				goto nomem;
			keys = grown;
			grown = realloc(vals, cap * vsz);
			if (!grown)
				goto nomem;
			vals = grown;
		}
		count = CHUNK;
		err = bpf_map_lookup_batch(fd, in, &batch, keys + n * ksz,
					   vals + n * vsz, &count, &opts);
		if (err && errno != ENOENT) {
			err = -errno;
			free(keys);
			free(vals);
			return err;
		}
		n += count;
		if (err)
			break;
		in = &batch;
	}
	*keys_out = keys;
	*vals_out = vals;
	*n_out = n;
	return 0;
nomem:
	free(keys);
	free(vals);
	return -ENOMEM;
}

/*
 * A table keyed by the flow: its keys with --decap inner's tag, or the
 * shorter keys of an attachment without it (and of earlier releases).
 */
static int check_keyed(int fd, const __u32 *types, size_t ntypes, __u32 whole,
		       __u32 value_size)
{
	int err = fa_map_check(fd, types, ntypes, whole, value_size);

	return err ? fa_map_check(fd, types, ntypes, whole - 4, value_size) : 0;
}

_Static_assert(sizeof(struct flow_key) - 4 == FLOW_KEY_SIZE_OFF &&
	       sizeof(struct flow_drop_key) - 4 == FLOW_DROP_KEY_SIZE_OFF,
	       "the tag is the keys' last word");

/* What each pinned map must be, for this build. */
static int check_pin(int pin, int fd)
{
	static const __u32 pcpu_hash[] = { BPF_MAP_TYPE_PERCPU_HASH };
	static const __u32 hash[] = { BPF_MAP_TYPE_HASH };
	static const __u32 pcpu[] = { BPF_MAP_TYPE_PERCPU_ARRAY };
	static const __u32 array[] = { BPF_MAP_TYPE_ARRAY };
	static const __u32 perf[] = { BPF_MAP_TYPE_PERF_EVENT_ARRAY };
	static const __u32 lru[] = { BPF_MAP_TYPE_LRU_HASH };
	int err;

	switch (pin) {
	case FA_PIN_FLOWS_0:
	case FA_PIN_FLOWS_1:
		/* A shared table of 24-byte rows is an older version's. */
		err = check_keyed(fd, pcpu_hash, 1, sizeof(struct flow_key),
				  sizeof(struct flow_map_value));
		return err ? check_keyed(fd, hash, 1, sizeof(struct flow_key),
					 sizeof(struct flow_shared_value)) : 0;
	case FA_PIN_OVERFLOW:
		/* An attachment's array, or a program set's hash (flow_slot_key). */
		err = fa_map_check(fd, pcpu, 1, 4, sizeof(struct flow_map_value));
		return err ? fa_map_check(fd, pcpu_hash, 1, sizeof(struct flow_slot_key),
					  sizeof(struct flow_map_value)) : 0;
	case FA_PIN_STATS:
		/* An older version's, with fewer counters, is adopted too. */
		err = fa_stats_map_check(fd);
		return err < 0 ? err : 0;
	case FA_PIN_SAMPLE_CFG:
		return fa_map_check(fd, array, 1, 4, sizeof(struct flow_sample_config));
	case FA_PIN_SAMPLES:
		return fa_map_check(fd, perf, 1, 4, 4);
	case FA_PIN_EPOCH:
		return fa_map_check(fd, array, 1, 4, sizeof(__u32));
	case FA_PIN_STATE:
		return fa_map_check(fd, array, 1, 4, sizeof(struct fa_attach_state));
	case FA_PIN_OWNERS:
		return check_keyed(fd, lru, 1, sizeof(struct flow_key),
				   sizeof(struct flow_owner));
	case FA_PIN_TCP_SEQ:
		return check_keyed(fd, lru, 1, sizeof(struct flow_key),
				   sizeof(struct flow_tcp_seq));
	case FA_PIN_RTT:
		return check_keyed(fd, lru, 1, sizeof(struct flow_key),
				   sizeof(struct flow_rtt));
	case FA_PIN_DROPS_0:
	case FA_PIN_DROPS_1:
		return check_keyed(fd, hash, 1, sizeof(struct flow_drop_key),
				   sizeof(struct flow_drop_value));
	case FA_PIN_DROP_STATS:
		return fa_map_check(fd, pcpu_hash, 1, sizeof(__u32),
				    sizeof(struct flow_drop_stats));
	case FA_PIN_DROP_WATCH:
		return fa_map_check(fd, hash, 1, sizeof(__u32), 1);
	case FA_PIN_TUNNELS:
		return check_keyed(fd, lru, 1, sizeof(struct flow_key),
				   sizeof(struct flow_tunnel));
	}
	return -EINVAL;
}

int fa_state_map_create(const struct fa_attach_state *st)
{
	__u32 zero = 0;
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "flowacct_state", sizeof(zero),
			    sizeof(*st), 1, NULL);
	if (fd < 0)
		return -errno;
	if (bpf_map_update_elem(fd, &zero, st, BPF_ANY)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int fa_state_map_read(int fd, struct fa_attach_state *st)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(fd, &zero, st))
		return -errno;
	if ((st->version != FA_ATTACH_STATE_VERSION &&
	     st->version != FA_ATTACH_STATE_VERSION_TCX &&
	     st->version != FA_ATTACH_STATE_VERSION_CLSACT) ||
	    (st->version == FA_ATTACH_STATE_VERSION_CLSACT &&
	     (st->tc_api || st->tci_api)) ||
	    (st->key_size != sizeof(struct flow_key) && st->key_size != FLOW_KEY_SIZE_OFF) ||
	    st->value_size != sizeof(struct flow_map_value))
		return -EPROTO;
	return 0;
}

/* The attach record alone: what status needs. */
/*
 * The attach record of @dirname. Without one (an attach killed before it
 * wrote it), what the directory's name says: the namespace and ifindex, so
 * that the interface can still be named, and its pins removed.
 */
static int read_state(const char *dirname, struct fa_attach_state *st);

int fa_state_read(const char *dirname, struct fa_attach_state *st)
{
	return read_state(dirname, st);
}

static int read_state(const char *dirname, struct fa_attach_state *st)
{
	unsigned long long ino;
	char path[PATH_MAX];
	unsigned int ifindex;
	int fd, err;

	fa_pin_path(path, sizeof(path), dirname, pin_names[FA_PIN_STATE]);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		if (sscanf(dirname, "net%llu-if%u", &ino, &ifindex) == 2) {
			st->netns_ino = ino;
			st->ifindex = ifindex;
		}
		return err;
	}
	err = check_pin(FA_PIN_STATE, fd);
	if (!err)
		err = fa_state_map_read(fd, st);
	close(fd);
	return err;
}

void fa_pinned_close(struct fa_pinned *p)
{
	int i;

	for (i = 0; i < FA_NR_PINS; i++) {
		if (p->fd[i] >= 0)
			close(p->fd[i]);
		p->fd[i] = -1;
	}
}

int fa_pinned_open_dir(const char *dirname, struct fa_pinned *p)
{
	char path[PATH_MAX];
	int i, err;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < FA_NR_PINS; i++)
		p->fd[i] = -1;
	snprintf(p->dir, sizeof(p->dir), "%s", dirname);
	err = read_state(dirname, &p->state);
	if (err)
		return err;
	if (!p->state.complete)
		return -EINPROGRESS;	/* an attach running, or one killed */
	for (i = 0; i < FA_NR_PINS; i++) {
		fa_pin_path(path, sizeof(path), dirname, pin_names[i]);
		p->fd[i] = bpf_obj_get(path);
		/* An attachment from before the options has no maps for them. */
		if (p->fd[i] < 0 && errno == ENOENT &&
		    (i == FA_PIN_OWNERS || i == FA_PIN_TCP_SEQ || i == FA_PIN_RTT ||
		     i >= FA_PIN_DROPS_0)) {
			err = 0;
			continue;
		}
		if (p->fd[i] < 0) {
			err = -errno;
			break;
		}
		err = check_pin(i, p->fd[i]);
		if (err)
			break;
	}
	if (err)
		fa_pinned_close(p);
	return err;
}

int fa_pinned_open(const struct fa_ifid *id, struct fa_pinned *p)
{
	char dirname[64];

	fa_ifid_dirname(id, dirname, sizeof(dirname));
	return fa_pinned_open_dir(dirname, p);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

int fa_pin_dirs(bool (*want)(const char *name), char (**names)[64], size_t *n)
{
	char (*l)[64] = NULL, (*grown)[64];
	struct dirent *de;
	size_t cnt = 0;
	DIR *d;

	*names = NULL;
	*n = 0;
	d = opendir(FA_PIN_ROOT);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(*l) ||
		    !want(de->d_name))
			continue;
		grown = realloc(l, (cnt + 1) * sizeof(*l));
		if (!grown) {
			free(l);
			closedir(d);
			return -ENOMEM;
		}
		l = grown;
		snprintf(l[cnt++], sizeof(*l), "%s", de->d_name);
	}
	closedir(d);
	if (cnt)
		qsort(l, cnt, sizeof(*l), cmp_names);
	*names = l;
	*n = cnt;
	return 0;
}

/* An attachment's directory: "net<ino>-if<index>" (a set's never begins so). */
static bool is_attachment_dir(const char *name)
{
	return !strncmp(name, "net", 3);
}

int fa_pins_list(struct fa_pin_entry **list, size_t *n)
{
	char (*names)[64];
	struct fa_pin_entry *l;
	size_t i, cnt;
	int err;

	*list = NULL;
	*n = 0;
	err = fa_pin_dirs(is_attachment_dir, &names, &cnt);
	if (err)
		return err;
	l = calloc(cnt ? cnt : 1, sizeof(*l));
	if (!l) {
		free(names);
		return -ENOMEM;
	}
	for (i = 0; i < cnt; i++) {
		snprintf(l[i].dirname, sizeof(l[i].dirname), "%s", names[i]);
		l[i].err = read_state(names[i], &l[i].state);
	}
	free(names);
	*list = l;
	*n = cnt;
	return 0;
}

bool fa_pin_dir_exists(const char *dirname)
{
	char path[PATH_MAX];
	struct stat st;

	fa_pin_path(path, sizeof(path), dirname, NULL);
	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/*
 * The attachment of the interface called @ifname here now; failing that,
 * one attached under that name in this namespace whose interface is gone
 * (0, out->state names it) or was renamed (-EEXIST: the caller says which
 * name it has now). -ENOENT: none.
 */
int fa_pins_find(const char *ifname, struct fa_pin_entry *out)
{
	struct fa_pin_entry *l;
	struct fa_ifid id, was;
	char name[FA_IFNAMSIZ];
	size_t i, n;
	int err;

	memset(out, 0, sizeof(*out));
	err = fa_ifid_by_name(ifname, &id);
	if (err == -EINVAL)
		return err;
	if (!err) {
		fa_ifid_dirname(&id, out->dirname, sizeof(out->dirname));
		out->err = read_state(out->dirname, &out->state);
		/* No record but the directory: an attach killed early. */
		if (out->err != -ENOENT || fa_pin_dir_exists(out->dirname))
			return 0;
	} else {
		err = fa_netns_self(&id.netns_ino, &id.netns_cookie);
		if (err)
			return err;
	}
	err = fa_pins_list(&l, &n);
	if (err)
		return err;
	err = -ENOENT;
	for (i = 0; i < n; i++) {
		if (l[i].err || strcmp(l[i].state.ifname, ifname) ||
		    l[i].state.netns_ino != id.netns_ino)
			continue;
		was.netns_ino = l[i].state.netns_ino;
		was.netns_cookie = l[i].state.netns_cookie;
		was.ifindex = l[i].state.ifindex;
		if (fa_ifid_name(&was, name) == 0 && strcmp(name, ifname)) {
			*out = l[i];
			err = -EEXIST;
			continue;	/* a gone one, if any, is a better answer */
		}
		if (fa_ifid_name(&was, name) == -ENODEV) {
			*out = l[i];
			err = 0;
			break;
		}
	}
	free(l);
	return err;
}

int fa_pins_remove(const char *dirname)
{
	char path[PATH_MAX];
	size_t i;
	int n = 0;

	for (i = 0; i < FA_NR_PINS; i++) {
		fa_pin_path(path, sizeof(path), dirname, pin_names[i]);
		if (!unlink(path))
			n++;
	}
	for (i = 0; i < ARRAY_SIZE(daemon_pin_names); i++) {
		fa_pin_path(path, sizeof(path), dirname, daemon_pin_names[i]);
		if (!unlink(path))
			n++;
	}
	/* A link's last reference: its program (and with it the maps) go. */
	for (i = 0; i < ARRAY_SIZE(link_pin_names); i++) {
		fa_pin_path(path, sizeof(path), dirname, link_pin_names[i]);
		if (!unlink(path))
			n++;
	}
	/* A drop program's link (attach --drops): it stops. */
	fa_drop_prog_unpin(dirname, NULL);
	/* The drain file holds rows of the state just unpinned: no one's now. */
	fa_drainfile_remove(dirname);
	fa_cachefile_remove(dirname);
	fa_pin_path(path, sizeof(path), dirname, NULL);
	if (!rmdir(path))
		n++;
	rmdir(FA_PIN_ROOT);	/* only if no other interface is attached */
	return n;
}

int fa_pinned_sample_get(const struct fa_pinned *p, struct flow_sample_config *cfg)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(p->fd[FA_PIN_SAMPLE_CFG], &zero, cfg) ? -errno : 0;
}

int fa_pinned_sample_set(const struct fa_pinned *p, const struct flow_sample_config *cfg)
{
	__u32 zero = 0;

	return bpf_map_update_elem(p->fd[FA_PIN_SAMPLE_CFG], &zero, cfg, BPF_EXIST) ?
		       -errno : 0;
}
