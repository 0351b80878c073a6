// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Per-interface locks: flock(2) on a file under /run/flowacct. attach and
 * detach hold FA_LOCK_ADMIN's file while they work, a daemon holds the same
 * file (as FA_LOCK_RUN) for its whole life, so neither can change an
 * interface under the other; a capture holds its own file, so that two
 * captures do not share one perf buffer. The file says who holds it; the
 * kernel drops a lock when its holder dies, whatever kills it.
 *
 * A lock file is removed by whoever holds it, on release, once there is
 * nothing left for it to guard (the attachment's pins are gone; a capture's
 * at once): one file per interface ever seen would pile up otherwise. A
 * taker that opened the file before it was removed gets the lock on a file
 * no longer there, so after flock it checks that the path still names the
 * file it locked, and opens again if not.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static const char *const kind_names[] = {
	[FA_LOCK_ADMIN] = "attach/detach",
	[FA_LOCK_RUN] = "flowacct run",
	[FA_LOCK_CAPTURE] = "flowacct capture",
};

const char *fa_lock_kind_name(int kind)
{
	return kind >= 0 && kind <= FA_LOCK_CAPTURE ? kind_names[kind] : "?";
}

static void lock_path(char *buf, size_t len, const char *dirname,
		      enum fa_lock_kind kind)
{
	snprintf(buf, len, "%s/%s%s.lock", FA_RUN_DIR, dirname,
		 kind == FA_LOCK_CAPTURE ? ".capture" : "");
}

static int open_lock_file(const char *dirname, enum fa_lock_kind kind, bool create)
{
	char path[PATH_MAX];
	int fd;

	if (create && mkdir(FA_RUN_DIR, 0700) && errno != EEXIST)
		return -errno;
	lock_path(path, sizeof(path), dirname, kind);
	fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
	return fd < 0 ? -errno : fd;
}

static void read_holder(int fd, int *pid, int *kind)
{
	char buf[64] = "";
	ssize_t n;

	*pid = 0;
	*kind = -1;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n > 0) {
		buf[n] = '\0';
		if (sscanf(buf, "%d %d", pid, kind) != 2)
			*pid = 0;
	}
}

/*
 * Whether @fd is still the file at @path: a holder that released it may
 * have removed it between our open and our flock, and a lock on a removed
 * file guards nothing (the next taker creates a new one).
 */
static bool still_linked(int fd, const char *path)
{
	struct stat a, b;

	return !fstat(fd, &a) && !stat(path, &b) && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

static bool pid_alive(int pid)
{
	return !kill(pid, 0) || errno == EPERM;
}

int fa_lock_take(const char *dirname, enum fa_lock_kind kind, struct fa_lock *l,
		 int *holder, int *holder_kind)
{
	char buf[64], path[PATH_MAX];
	int fd, len, tries, reopened;

	*holder = 0;
	*holder_kind = -1;
	l->fd = -1;
	lock_path(path, sizeof(path), dirname, kind);
	for (reopened = 0;; reopened++) {
		fd = open_lock_file(dirname, kind, true);
		if (fd < 0)
			return fd;
		/*
		 * Another attach or detach is over in well under a second:
		 * wait that long for it. A daemon or a capture holds on: say
		 * who, at once.
		 */
		for (tries = 0; flock(fd, LOCK_EX | LOCK_NB); tries++) {
			if (errno != EWOULDBLOCK) {
				int err = -errno;

				close(fd);
				return err;
			}
			read_holder(fd, holder, holder_kind);
			/*
			 * An empty file: its holder is writing or releasing it.
			 * A pid no longer alive: what holds it is a command
			 * looking who does (status), for a moment.
			 */
			if ((*holder && *holder_kind != FA_LOCK_ADMIN && pid_alive(*holder)) ||
			    tries >= 40) {
				close(fd);
				return -EBUSY;
			}
			usleep(50000);
		}
		if (still_linked(fd, path))
			break;
		close(fd);
		/* Each round means another process took and released it. */
		if (reopened >= 100)
			return -EAGAIN;
	}
	len = snprintf(buf, sizeof(buf), "%d %d\n", (int)getpid(), kind);
	if (ftruncate(fd, 0) || pwrite(fd, buf, len, 0) != len) {
		int err = -errno;

		close(fd);
		return err;
	}
	l->fd = fd;
	l->kind = kind;
	snprintf(l->dirname, sizeof(l->dirname), "%s", dirname);
	return 0;
}

void fa_lock_release(struct fa_lock *l)
{
	char path[PATH_MAX];

	if (l->fd < 0)
		return;
	/* Emptied first: a stale pid must never name a live process. */
	if (ftruncate(l->fd, 0)) {
		/* nothing to do: the lock goes with the fd all the same */
	}
	/*
	 * Removed while held, so no one holds it then; a taker that opened
	 * it before sees it gone once it has the lock, and opens anew.
	 */
	if (l->dirname[0] && (l->kind == FA_LOCK_CAPTURE || !fa_pin_dir_exists(l->dirname))) {
		lock_path(path, sizeof(path), l->dirname, l->kind);
		unlink(path);
	}
	close(l->fd);
	l->fd = -1;
}

int fa_lock_file_remove(const char *dirname, enum fa_lock_kind kind)
{
	char path[PATH_MAX];
	int fd, tries;

	lock_path(path, sizeof(path), dirname, kind);
	fd = open_lock_file(dirname, kind, false);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	/* A command that looks who holds it (status) holds it a moment. */
	for (tries = 0; flock(fd, LOCK_EX | LOCK_NB); tries++) {
		if (errno != EWOULDBLOCK || tries >= 20) {
			close(fd);
			return -EBUSY;
		}
		usleep(10000);
	}
	if (still_linked(fd, path))
		unlink(path);
	close(fd);
	return 0;
}

bool fa_lock_held(const char *dirname, enum fa_lock_kind kind)
{
	bool held;
	int fd;

	fd = open_lock_file(dirname, kind, false);
	if (fd < 0)
		return false;
	held = flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

int fa_lock_owner(const char *dirname, enum fa_lock_kind kind)
{
	int fd, pid, held_kind;

	fd = open_lock_file(dirname, kind, false);
	if (fd < 0)
		return 0;
	if (!flock(fd, LOCK_SH | LOCK_NB)) {
		close(fd);	/* nobody holds it */
		return 0;
	}
	read_holder(fd, &pid, &held_kind);
	close(fd);
	if (kind == FA_LOCK_RUN && held_kind != FA_LOCK_RUN)
		return 0;
	return pid;
}

int fa_lock_take_err(const char *dirname, const char *ifname,
		     enum fa_lock_kind kind, struct fa_lock *l, struct fa_err *e)
{
	int holder, holder_kind, err;

	err = fa_lock_take(dirname, kind, l, &holder, &holder_kind);
	if (err == -EBUSY)
		return fa_err_set(e, err, "'%s' is in use by %s (pid %d)%s", ifname,
				  fa_lock_kind_name(holder_kind), holder,
				  holder_kind == FA_LOCK_RUN ? ": stop it first" : "");
	if (err)
		return fa_err_set(e, err, "can't lock '%s' under %s: %s", ifname,
				  FA_RUN_DIR, strerror(-err));
	return 0;
}
