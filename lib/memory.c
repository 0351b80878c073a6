// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What an attachment holds in memory as found: the kernel memory of every
 * map pinned in its directory, the files under /run/flowacct named after it,
 * and the resident memory of the daemon that owns it. Read generically (the
 * directory's and /run's contents, not a list of names) so that maps and
 * files added or removed later are counted without a change here.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"

/* A map's fdinfo names its type; a program's does not. */
static bool is_map(int fd)
{
	char path[64], line[128];
	bool map = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!map && fgets(line, sizeof(line), f))
		map = !strncmp(line, "map_type:", 9);
	fclose(f);
	return map;
}

/**
 * fa_pins_memory() - kernel memory of the maps pinned under one attachment
 * @dirname: the pin directory's name ("net4026531840-if3")
 *
 * Sums each pinned map's fdinfo memlock (the kernel's own accounting).
 * The TCX links pinned there are not maps and are skipped.
 *
 * Return: bytes, or 0 if the directory can't be read.
 */
__u64 fa_pins_memory(const char *dirname)
{
	char path[PATH_MAX];
	struct dirent *d;
	__u64 sum = 0;
	DIR *dir;
	int fd;

	fa_pin_path(path, sizeof(path), dirname, NULL);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		fa_pin_path(path, sizeof(path), dirname, d->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		if (is_map(fd))
			sum += fa_map_memory(fd);
		close(fd);
	}
	closedir(dir);
	return sum;
}

/**
 * fa_run_files_bytes() - bytes of the files under /run/flowacct of one attachment
 * @dirname: the pin directory's name, which those files' names start with
 *
 * Counts allocated blocks (st_blocks * 512): a sparse or mapped file costs
 * what tmpfs holds of it, not its length.
 *
 * Return: bytes, or 0 if there are none.
 */
__u64 fa_run_files_bytes(const char *dirname)
{
	size_t n = strlen(dirname);
	struct dirent *d;
	struct stat sb;
	__u64 sum = 0;
	DIR *dir;

	dir = opendir(FA_RUN_DIR);
	if (!dir)
		return 0;
	while ((d = readdir(dir)))
		if (!strncmp(d->d_name, dirname, n) &&
		    (d->d_name[n] == '.' || d->d_name[n] == '-') &&
		    !fstatat(dirfd(dir), d->d_name, &sb, AT_SYMLINK_NOFOLLOW) &&
		    S_ISREG(sb.st_mode))
			sum += (__u64)sb.st_blocks * 512;
	closedir(dir);
	return sum;
}

/* The number of the first line of @path that @fmt ("key: %llu") reads; 0 if none. */
static __u64 proc_field(const char *path, const char *fmt)
{
	unsigned long long v = 0;
	char line[128];
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, fmt, &v) == 1)
			break;
	fclose(f);
	return v;
}

__u64 fa_map_memory(int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	return proc_field(path, "memlock: %llu");
}

/**
 * fa_pid_rss() - resident memory of a process
 * @pid: its pid
 *
 * Return: bytes (VmRSS of /proc/@pid/status), or 0 if it is gone.
 */
__u64 fa_pid_rss(int pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	return proc_field(path, "VmRSS: %llu kB") * 1024;
}

/* ---- what maps will take, before they are made --------------------------- */

/*
 * The kernel's own accounting of a map (the memlock its fdinfo shows), from
 * its definition: htab_map_mem_usage() and array_map_mem_usage() in
 * kernel/bpf/hashtab.c and arraymap.c. The structure sizes are those of a
 * 64-bit kernel without lock debugging; the header structures (a few hundred
 * bytes a map) are left out. status shows the result next to the kernel's
 * figure, and a test holds them within 5 %.
 */
#define HTAB_ELEM_BYTES 48	/* struct htab_elem, up to its key */
#define HTAB_BUCKET_BYTES 16	/* struct bucket */
#define HTAB_LOCKS 8		/* HASHTAB_MAP_LOCK_COUNT ints a CPU */
#define LLIST_NODE_BYTES 8

static __u64 round8(__u64 v)
{
	return (v + 7) & ~7ull;
}

static __u64 pow2_at_least(__u64 v)
{
	__u64 p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

/**
 * fa_map_estimate() - the kernel memory a map will be charged, at its fullest
 * @type: enum bpf_map_type
 * @key_size: bytes
 * @value_size: bytes
 * @max_entries: entries
 * @flags: map_flags (BPF_F_NO_PREALLOC: counted as if full)
 * @ncpus: possible CPUs
 *
 * Return: bytes. A type this does not know is counted as its entries' keys
 * and values, per CPU for the per-CPU ones.
 */
__u64 fa_map_estimate(__u32 type, __u32 key_size, __u32 value_size, __u32 max_entries,
		      __u32 flags, __u32 ncpus)
{
	bool percpu = type == BPF_MAP_TYPE_PERCPU_HASH ||
		      type == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
		      type == BPF_MAP_TYPE_PERCPU_ARRAY;
	bool lru = type == BPF_MAP_TYPE_LRU_HASH || type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	__u64 value = round8(value_size), n = max_entries, elem, usage;

	switch (type) {
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
		elem = HTAB_ELEM_BYTES + round8(key_size) + (percpu ? 8 : value);
		usage = HTAB_BUCKET_BYTES * pow2_at_least(n) +
			4ull * ncpus * HTAB_LOCKS;
		if (flags & BPF_F_NO_PREALLOC)
			return usage + (elem + LLIST_NODE_BYTES) * n +
			       (percpu ? (LLIST_NODE_BYTES + 8 + value * ncpus) * n : 0);
		/* A plain hash keeps one spare element a CPU. */
		if (!percpu && !lru)
			n += ncpus;
		usage += elem * n;
		if (percpu)
			usage += value * ncpus * n;
		else if (!lru)
			usage += 8ull * ncpus;
		return usage;
	case BPF_MAP_TYPE_ARRAY:
		return value * n;
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		return (8 + value * ncpus) * n;
	default:
		return (round8(key_size) + value) * n * (percpu ? ncpus : 1);
	}
}

/**
 * fa_obj_estimate() - the kernel memory an opened, not loaded, object's maps will take
 * @obj: after bpf_object__open() and the sizes set, before the load
 *
 * Return: bytes, every map at its fullest.
 */
__u64 fa_obj_estimate(const struct bpf_object *obj)
{
	int ncpus = libbpf_num_possible_cpus();
	const struct bpf_map *m;
	__u64 sum = 0;

	if (ncpus < 1)
		ncpus = 1;
	bpf_object__for_each_map(m, obj)
		sum += fa_map_estimate(bpf_map__type(m), bpf_map__key_size(m),
				       bpf_map__value_size(m), bpf_map__max_entries(m),
				       bpf_map__map_flags(m), ncpus);
	return sum;
}

/**
 * fa_fd_estimate() - fa_map_estimate() of a map that exists
 * @fd: the map
 *
 * Return: bytes, or 0 if its information can't be read.
 */
__u64 fa_fd_estimate(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int ncpus = libbpf_num_possible_cpus();

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return fa_map_estimate(info.type, info.key_size, info.value_size,
			       info.max_entries, info.map_flags, ncpus < 1 ? 1 : ncpus);
}

/**
 * fa_mem_available() - what the machine can still give, for a guard
 * @dir: a directory whose filesystem's free space also bounds files there, or NULL
 * @mem: MemAvailable of /proc/meminfo, bytes (0 if unknown)
 * @fs: bytes free in @dir's filesystem (0 if unknown)
 */
void fa_mem_available(const char *dir, __u64 *mem, __u64 *fs)
{
	struct statvfs sv;

	*fs = 0;
	*mem = proc_field("/proc/meminfo", "MemAvailable: %llu kB") * 1024;
	if (dir && !statvfs(dir, &sv))
		*fs = (__u64)sv.f_bfree * sv.f_frsize;
}

/**
 * fa_memory_guard() - refuse what would take more than the machine has
 * @ifname: the interface, for the message
 * @kernel: bytes of maps to be made
 * @files: bytes of files to be made under FA_RUN_DIR (tmpfs: memory too)
 * @process: bytes of a process's own memory
 * @e: the refusal, one line
 *
 * All of it at its fullest against MemAvailable, and the files against the
 * free space of FA_RUN_DIR's filesystem (of /run, before it exists). A
 * figure that can't be read refuses nothing.
 *
 * Return: 0, or -ENOMEM with @e said.
 */
int fa_memory_guard(const char *ifname, __u64 kernel, __u64 files, __u64 process,
		    struct fa_err *e)
{
	char need[16], have[16], k[16], f[16], p[16];
	__u64 mem, fs;

	fa_mem_available(access(FA_RUN_DIR, F_OK) ? "/run" : FA_RUN_DIR, &mem, &fs);
	fa_human(kernel + files + process, "B", need, sizeof(need));
	fa_human(kernel, "B", k, sizeof(k));
	fa_human(files, "B", f, sizeof(f));
	fa_human(process, "B", p, sizeof(p));
	if (mem && kernel + files + process > mem) {
		fa_human(mem, "B", have, sizeof(have));
		return fa_err_set(e, -ENOMEM, "'%s' would take up to %s (maps %s, files under %s %s, daemon %s) and %s is available: ask for fewer flows (--max-flows, --cache-size), or --force-memory",
				  ifname, need, k, FA_RUN_DIR, f, p, have);
	}
	if (fs && files > fs) {
		fa_human(fs, "B", have, sizeof(have));
		return fa_err_set(e, -ENOSPC, "'%s' would keep up to %s of files under %s and its filesystem has %s free: ask for fewer flows (--max-flows, --cache-size), or --force-memory",
				  ifname, f, FA_RUN_DIR, have);
	}
	return 0;
}
