// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * An interface's lock, hammered: P processes take and release the same lock
 * (FA_LOCK_ADMIN of a made-up attachment with no pins, so that each release
 * removes the lock file, as a detach's does) as fast as they can, and count
 * in shared memory how many hold it at once. Removing a lock file another
 * process has open and is about to flock is the classic race: without the
 * check that the locked file is still the one at the path, a process locks
 * the removed file while another locks the new one, and both hold "the"
 * lock. Uses lib/internal.h (fa_lock_take() is the library's own): it tests
 * the lock, not a command.
 *
 *   lock_hammer [--procs P] [--rounds N]
 *
 * Prints one line; exits 0 if no two processes ever held it at once and the
 * lock file is gone at the end, 1 if not.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

struct shared {
	int holders;
	int overlaps;		/* times a taker found another holding it */
	int taken;
	int busy;
	int errors;
};

static void hammer(struct shared *sh, const char *dirname, int rounds)
{
	struct fa_lock l;
	int i, holder, kind, err;

	srand(getpid());
	for (i = 0; i < rounds; i++) {
		err = fa_lock_take(dirname, FA_LOCK_ADMIN, &l, &holder, &kind);
		if (err == -EBUSY) {
			__atomic_add_fetch(&sh->busy, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		if (err) {
			__atomic_add_fetch(&sh->errors, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		if (__atomic_add_fetch(&sh->holders, 1, __ATOMIC_SEQ_CST) > 1)
			__atomic_add_fetch(&sh->overlaps, 1, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&sh->taken, 1, __ATOMIC_SEQ_CST);
		usleep(rand() % 300);
		__atomic_sub_fetch(&sh->holders, 1, __ATOMIC_SEQ_CST);
		fa_lock_release(&l);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "procs", required_argument, NULL, 'p' },
		{ "rounds", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	int procs = 3, rounds = 2000, i, c, status;
	char dirname[64], path[PATH_MAX];
	struct shared *sh;
	struct stat st;
	bool left;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'p')
			procs = atoi(optarg);
		else if (c == 'r')
			rounds = atoi(optarg);
		else
			return 2;
	}
	/* No namespace has inode 0: these are no one's pins. */
	snprintf(dirname, sizeof(dirname), "net0-if%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/%s.lock", FA_RUN_DIR, dirname);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	if (sh == MAP_FAILED)
		return 2;
	for (i = 0; i < procs; i++) {
		if (fork() == 0) {
			hammer(sh, dirname, rounds);
			_exit(0);
		}
	}
	for (i = 0; i < procs; i++)
		wait(&status);
	left = !stat(path, &st);
	if (left)
		unlink(path);
	printf("%d processes, %d rounds each: taken %d, busy %d, errors %d, held by two at once %d, lock file %s\n",
	       procs, rounds, sh->taken, sh->busy, sh->errors, sh->overlaps,
	       left ? "left" : "removed");
	return sh->overlaps || sh->errors || left || !sh->taken ? 1 : 0;
}
