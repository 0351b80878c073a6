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
#include <unistd.h>

#include <bpf/bpf.h>

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
 * Programs pinned there are not maps and are skipped.
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

/**
 * fa_pid_rss() - resident memory of a process
 * @pid: its pid
 *
 * Return: bytes (VmRSS of /proc/@pid/status), or 0 if it is gone.
 */
__u64 fa_pid_rss(int pid)
{
	char path[64], line[128];
	unsigned long long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}
