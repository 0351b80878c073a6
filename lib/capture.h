/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Capture: the frames an attached interface's programs sample, from its
 * pinned perf buffer to a pcap or pcapng file, until told to stop.
 */
#ifndef FLOWACCT_CAPTURE_H
#define FLOWACCT_CAPTURE_H

#include <signal.h>

#include "iface.h"

struct fa_capture_opts {
	const char *write;	/* the file; "-": standard output */
	bool pcapng;
	__u64 count;		/* stop after this many samples (0: no limit) */
	__u64 duration_ms;	/* stop after this long (0: no limit) */
	/* A program set's member (the pins its set's, their state its own):
	 * only its frames of the set's buffer, and stop when it leaves. */
	bool member;
	/* Stop when it becomes non-zero (a signal handler sets it). */
	const volatile sig_atomic_t *stop;
};

struct fa_capture_result {
	__u64 written;		/* samples written */
	__u64 lost_buffer;	/* lost by the perf buffer (reader too slow) */
	__u64 lost_programs;	/* counted by the programs as not sent */
	__u64 bad;		/* malformed records, skipped */
};

/*
 * The capture lock of @p (one reader of a sample buffer at a time): of a
 * set's member (@member), its set's, which all its members share. 0, or
 * -errno (-EBUSY: a capture runs) with @e said.
 */
int fa_capture_lock(const struct fa_pinned *p, const char *ifname, bool member,
		    struct fa_lock *l, struct fa_err *e);

/**
 * fa_capture() - write an interface's samples to a file until stopped
 * @p: its pins (the caller holds its capture lock: one reader at a time)
 * @ifname: its name, for @e and the file's interface description
 * @o: where to, and when to stop
 * @res: what was written and lost; filled in whatever happens
 * @e: on failure, one line
 *
 * Stops at @o's count or duration, when *o->stop is set, at the first read
 * or write error, or when the interface is detached or, a member, leaves
 * its set (-ENOENT).
 *
 * Return: 0, or -errno.
 */
int fa_capture(const struct fa_pinned *p, const char *ifname,
	       const struct fa_capture_opts *o, struct fa_capture_result *res,
	       struct fa_err *e);

#endif /* FLOWACCT_CAPTURE_H */
