// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The cache file: a daemon's flow cache, the undo log of the tick in
 * progress and the tick's records, in one file under /run/flowacct that the
 * daemon maps shared.
 *
 * A store into a shared mapping of a tmpfs file is the file's as soon as it
 * is made: a daemon killed at any instruction leaves the file as its last
 * store left it, as a pinned map outlives its process, without a syscall a
 * record. The cache (lib/cache.c) changes its slots here, each saved to the
 * undo log first; the tick's records are written to the records area before
 * the commit (lib/stream.c), which says how many there are. The file is
 * sized for the largest tick and is sparse: only pages written take memory,
 * and those of a tick much larger than usual are given back afterwards.
 * Before a tick changes anything, the pages it may write are allocated
 * (fa_cachefile_reserve()): a store into a page a full filesystem can't
 * give would kill the daemon with SIGBUS; a failed allocation is an error
 * the tick returns before it began.
 *
 * It belongs to the daemon state of one instance (struct fa_run_state's):
 * a file of another instance or another size is not this daemon's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define CF_MAGIC	0x46414346	/* "FACF" */
/*
 * 3: the tunnel's tag in keys, and records laid out for it; 2: drops in
 * entries and records. Versions 1 and 2 are converted on open.
 */
#define CF_VERSION	3
#define CF_VERSION_NO_TAG 2
#define CF_VERSION_NO_DROPS 1
#define CF_PAGE		4096
/* Pages of an area kept past what recent ticks used, at least. */
#define CF_SLACK	(1u << 20)

struct cf_head {
	__u32 magic;		/* written last: a file without it is unfinished */
	__u32 version;
	__u64 instance;
	__u32 size;		/* slots */
	__u32 rec_cap;		/* records a tick may make */
	__u64 undo_n;		/* the undo log's entries */
};

/*
 * How much of the undo log or the records area ticks use: pages a tick
 * wrote stay while ticks of about its size follow (giving them back each
 * tick would cost a page fault every 4 KiB of the next), and go back to
 * the system once ticks have been smaller for a while.
 */
struct cf_area {
	size_t off, end;	/* in the file */
	size_t resident;	/* bytes from off that may hold pages */
	size_t recent;		/* what ticks used lately: decays by 1/16 a tick */
};

struct fa_cachefile {
	int fd;
	void *map;
	size_t len;
	struct cf_head *h;
	size_t slots_off, drops_off, undo_off, rec_off;
	struct cf_area undo, recs;
	char path[PATH_MAX];
	bool tmp;
};

static size_t page_up(size_t n)
{
	return (n + CF_PAGE - 1) & ~(size_t)(CF_PAGE - 1);
}

static size_t layout(struct fa_cachefile *cf, __u32 size, __u32 rec_cap)
{
	cf->slots_off = CF_PAGE;
	cf->drops_off = page_up(cf->slots_off + (size_t)size * sizeof(struct fa_cache_slot));
	cf->undo_off = page_up(cf->drops_off + (size_t)size * sizeof(struct fa_cache_drops));
	cf->rec_off = page_up(cf->undo_off + 2 * (size_t)size * sizeof(struct fa_cache_undo));
	cf->len = page_up(cf->rec_off + (size_t)rec_cap * sizeof(struct fa_record));
	/* Whatever an earlier daemon left there may be resident. */
	cf->undo = (struct cf_area){ cf->undo_off, cf->rec_off, cf->rec_off - cf->undo_off, 0 };
	cf->recs = (struct cf_area){ cf->rec_off, cf->len, cf->len - cf->rec_off, 0 };
	return cf->len;
}

static void cf_path(char *buf, size_t len, const char *dirname, bool tmp)
{
	snprintf(buf, len, "%s/%s.cache%s", FA_RUN_DIR, dirname, tmp ? ".tmp" : "");
}

void fa_cachefile_close(struct fa_cachefile *cf)
{
	if (!cf)
		return;
	if (cf->map && cf->map != MAP_FAILED)
		munmap(cf->map, cf->len);
	if (cf->fd >= 0)
		close(cf->fd);
	free(cf);
}

int fa_cachefile_size(const char *dirname, __u32 *size)
{
	char path[PATH_MAX];
	struct cf_head h;
	ssize_t n;
	int fd;

	cf_path(path, sizeof(path), dirname, false);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, &h, sizeof(h), 0);
	close(fd);
	/* The header is the same in every version. */
	if (n != sizeof(h) || h.magic != CF_MAGIC ||
	    (h.version != CF_VERSION && h.version != CF_VERSION_NO_TAG &&
	     h.version != CF_VERSION_NO_DROPS))
		return -EUCLEAN;
	*size = h.size;
	return 0;
}

int fa_cachefile_open(const char *dirname, __u32 size, __u32 rec_cap,
		      __u64 instance, enum fa_cachefile_mode mode,
		      struct fa_cachefile **out)
{
	bool fresh = mode != FA_CACHEFILE_EXISTING;
	struct fa_cachefile *cf;
	struct stat st;
	int err;

	*out = NULL;
	cf = calloc(1, sizeof(*cf));
	if (!cf)
		return -ENOMEM;
	cf->fd = -1;
	cf->tmp = mode == FA_CACHEFILE_TMP;
	cf->len = layout(cf, size, rec_cap);
	if (mkdir(FA_RUN_DIR, 0700) && errno != EEXIST) {
		err = -errno;
		goto fail;
	}
	cf_path(cf->path, sizeof(cf->path), dirname, cf->tmp);
	cf->fd = open(cf->path, O_RDWR | O_CLOEXEC | (fresh ? O_CREAT : 0), 0600);
	if (cf->fd < 0 || fstat(cf->fd, &st)) {
		err = -errno;
		goto fail;
	}
	/* Anew: every byte zero (every slot free) before the header says so. */
	if (fresh && (ftruncate(cf->fd, 0) || ftruncate(cf->fd, cf->len))) {
		err = -errno;
		goto fail;
	}
	if (!fresh && (size_t)st.st_size < CF_PAGE) {
		err = -EUCLEAN;
		goto fail;
	}
	cf->map = mmap(NULL, fresh ? cf->len : (size_t)st.st_size,
		       PROT_READ | PROT_WRITE, MAP_SHARED, cf->fd, 0);
	if (cf->map == MAP_FAILED) {
		err = -errno;
		goto fail;
	}
	cf->h = cf->map;
	if (fresh) {
		cf->h->version = CF_VERSION;
		cf->h->instance = instance;
		cf->h->size = size;
		cf->h->rec_cap = rec_cap;
		__atomic_store_n(&cf->h->magic, CF_MAGIC, __ATOMIC_RELEASE);
	} else {
		if (cf->h->magic != CF_MAGIC || cf->h->version != CF_VERSION ||
		    cf->h->instance != instance) {
			err = -EUCLEAN;	/* not this daemon state's */
			goto fail;
		}
		if (cf->h->size != size || cf->h->rec_cap != rec_cap ||
		    (size_t)st.st_size != cf->len) {
			err = -ERANGE;	/* a cache of another size */
			goto fail;
		}
		if (cf->h->undo_n > size) {
			err = -EUCLEAN;
			goto fail;
		}
	}
	*out = cf;
	return 0;
fail:
	if (fresh && cf->fd >= 0)
		unlink(cf->path);
	fa_cachefile_close(cf);
	return err;
}

void fa_cachefile_store(const struct fa_cachefile *cf, struct fa_cache_store *st)
{
	st->slots = (void *)((char *)cf->map + cf->slots_off);
	st->drops = (void *)((char *)cf->map + cf->drops_off);
	st->drops_off = cf->drops_off;
	st->undo = (void *)((char *)cf->map + cf->undo_off);
	st->undo_n = &cf->h->undo_n;
	st->fd = cf->fd;
	st->slots_off = cf->slots_off;
}

struct fa_record *fa_cachefile_records(const struct fa_cachefile *cf, __u32 *cap)
{
	*cap = cf->h->rec_cap;
	return (void *)((char *)cf->map + cf->rec_off);
}

int fa_cachefile_publish(struct fa_cachefile *cf, const char *dirname)
{
	char path[PATH_MAX];

	if (!cf->tmp)
		return 0;
	cf_path(path, sizeof(path), dirname, false);
	if (rename(cf->path, path))
		return -errno;
	snprintf(cf->path, sizeof(cf->path), "%s", path);
	cf->tmp = false;
	return 0;
}

static void give_back(const struct fa_cachefile *cf, struct cf_area *a, size_t used)
{
	size_t keep;

	a->recent = used > a->recent ? used : a->recent - a->recent / 16;
	if (used > a->resident)
		a->resident = used;
	keep = page_up(a->recent + a->recent / 4 + CF_SLACK);
	if (a->resident <= keep + CF_SLACK || a->off + keep >= a->end)
		return;
	/* Only memory is at stake: a failure leaves the pages in use. */
	if (!fallocate(cf->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		       a->off + keep, a->end - a->off - keep))
		a->resident = keep;
}

void fa_cachefile_trim(struct fa_cachefile *cf, size_t nundo, size_t nrec)
{
	give_back(cf, &cf->undo, nundo * sizeof(struct fa_cache_undo));
	give_back(cf, &cf->recs, nrec * sizeof(struct fa_record));
}

/* Pages for [off, off + len) of the file, allocated now or already there. */
static int reserve(const struct fa_cachefile *cf, size_t off, size_t len, size_t end)
{
	if (off + len > end)
		len = end - off;
	if (!len || !fallocate(cf->fd, FALLOC_FL_KEEP_SIZE, off, len))
		return 0;
	return -errno;
}

int fa_cachefile_reserve(struct fa_cachefile *cf, __u32 slots, __u32 drops, size_t nundo,
			 size_t nrec)
{
	int err;

	err = reserve(cf, cf->slots_off, (size_t)slots * sizeof(struct fa_cache_slot),
		      cf->drops_off);
	if (!err)
		err = reserve(cf, cf->drops_off, (size_t)drops * sizeof(struct fa_cache_drops),
			      cf->undo_off);
	if (!err)
		err = reserve(cf, cf->undo_off, nundo * sizeof(struct fa_cache_undo),
			      cf->rec_off);
	if (!err)
		err = reserve(cf, cf->rec_off, nrec * sizeof(struct fa_record), cf->len);
	if (!err && nundo * sizeof(struct fa_cache_undo) > cf->undo.resident)
		cf->undo.resident = nundo * sizeof(struct fa_cache_undo);
	if (!err && nrec * sizeof(struct fa_record) > cf->recs.resident)
		cf->recs.resident = nrec * sizeof(struct fa_record);
	return err;
}

bool fa_cachefile_exists(const char *dirname)
{
	char path[PATH_MAX];

	cf_path(path, sizeof(path), dirname, false);
	return !access(path, F_OK);
}

void fa_cachefile_remove_tmp(const char *dirname)
{
	char path[PATH_MAX];

	cf_path(path, sizeof(path), dirname, true);
	unlink(path);
}

void fa_cachefile_remove(const char *dirname)
{
	char path[PATH_MAX];

	cf_path(path, sizeof(path), dirname, false);
	unlink(path);
	fa_cachefile_remove_tmp(dirname);
}

void fa_record_load(struct fa_record *to, const void *old, size_t old_size)
{
	const __u8 *o = old;

	memset(to, 0, sizeof(*to));
	fa_key_load(&to->key, o, FLOW_KEY_SIZE_OFF);
	memcpy(&to->tcp_flags, o + FA_RECORD_V2_TCP_FLAGS, sizeof(to->tcp_flags));
	/* seq to end_reason are where they were; the drops too, if any. */
	memcpy(&to->seq, o + offsetof(struct fa_record, seq),
	       offsetof(struct fa_record, pad) - offsetof(struct fa_record, seq));
	if (old_size >= FA_RECORD_V2_SIZE)
		memcpy(&to->drops, o + offsetof(struct fa_record, drops), sizeof(to->drops));
}

_Static_assert(offsetof(struct fa_record, seq) == 48 &&
	       offsetof(struct fa_record, pad) == 97 &&
	       offsetof(struct fa_record, drops) == FA_RECORD_V1_SIZE,
	       "the fields of older records that did not move");

int fa_cachefile_upgrade(const char *dirname, __u32 size, __u32 rec_cap, __u64 instance,
			 __u32 nrec)
{
	size_t slots_off = CF_PAGE, drops_off = 0, undo_off, rec_off, rec_size, len, i;
	struct fa_cachefile *cf = NULL, lay;
	struct fa_cache_store st;
	struct fa_record *to;
	char path[PATH_MAX];
	struct cf_head h;
	const char *old;
	struct stat sb;
	__u32 cap;
	int fd, err;

	cf_path(path, sizeof(path), dirname, false);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pread(fd, &h, sizeof(h), 0) != sizeof(h) || fstat(fd, &sb)) {
		close(fd);
		return -EUCLEAN;
	}
	if (h.magic != CF_MAGIC ||
	    (h.version != CF_VERSION_NO_DROPS && h.version != CF_VERSION_NO_TAG)) {
		close(fd);
		return 0;	/* this version's, or not a cache file: open says */
	}
	if (h.version == CF_VERSION_NO_DROPS) {
		undo_off = page_up(slots_off + (size_t)h.size * sizeof(struct fa_cache_slot));
		rec_off = page_up(undo_off + (size_t)h.size * sizeof(struct fa_cache_undo));
		rec_size = FA_RECORD_V1_SIZE;
		len = page_up(rec_off + (size_t)h.rec_cap * rec_size);
	} else {
		/* Version 2 is laid out as this one: only its records differ. */
		len = layout(&lay, h.size, h.rec_cap);
		drops_off = lay.drops_off;
		undo_off = lay.undo_off;
		rec_off = lay.rec_off;
		rec_size = FA_RECORD_V2_SIZE;
	}
	if (h.instance != instance || h.size != size || (size_t)sb.st_size != len ||
	    h.undo_n > 2 * (size_t)h.size || nrec > h.rec_cap || nrec > rec_cap) {
		close(fd);
		return -EUCLEAN;
	}
	old = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (old == MAP_FAILED)
		return -errno;
	err = fa_cachefile_open(dirname, size, rec_cap, instance, FA_CACHEFILE_TMP, &cf);
	if (err)
		goto out;
	fa_cachefile_store(cf, &st);
	/*
	 * Slots and undo entries are the same (the key's tunnel tag was
	 * padding, and an entry's drop slot too: 0 in every one written
	 * before); version 1 had no drop slots; records are converted. Only
	 * slots holding data are copied: the holes of a sparse file are zeros
	 * already.
	 */
	for (i = 0; i < size; i++) {
		const struct fa_cache_slot *o = (const void *)(old + slots_off + i * sizeof(*o));

		if (o->e.touch)
			st.slots[i] = *o;
	}
	for (i = 0; drops_off && i < size; i++) {
		const struct fa_cache_drops *o = (const void *)(old + drops_off + i * sizeof(*o));

		if (o->owner)
			st.drops[i] = *o;
	}
	memcpy(st.undo, old + undo_off, h.undo_n * sizeof(struct fa_cache_undo));
	*st.undo_n = h.undo_n;
	to = fa_cachefile_records(cf, &cap);
	for (i = 0; i < nrec; i++)
		fa_record_load(&to[i], old + rec_off + i * rec_size, rec_size);
	err = fa_cachefile_publish(cf, dirname);
	if (err)
		fa_cachefile_remove_tmp(dirname);
out:
	fa_cachefile_close(cf);
	munmap((void *)old, len);
	return err;
}

size_t fa_cachefile_bytes(__u32 size, __u32 rec_cap)
{
	struct fa_cachefile cf;

	return layout(&cf, size, rec_cap);
}
