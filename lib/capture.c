// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Capture: an attached interface's samples from its pinned perf buffer to a
 * file. One capture per interface (a second would take the perf buffer's
 * events over), and it stops at the first write error, when the interface
 * is detached, at a count, a time or the caller's stop flag.
 */
#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture.h"
#include "internal.h"
#include "samplebuf.h"

#define SAMPLE_BUF_PAGES 64	/* per CPU */

struct capture_ctx {
	struct fa_sample_writer *w;
	__u32 ifindex;		/* only this interface's frames; 0: all */
	__u64 ts_off;
	__u64 lost;
	__u64 bad;
	__u64 count;
	int write_err;
};

static enum bpf_perf_event_ret on_event(void *ctx, int cpu,
					struct perf_event_header *e)
{
	struct capture_ctx *c = ctx;
	int err;

	(void)cpu;
	if (e->type == PERF_RECORD_LOST) {
		c->lost += ((struct perf_lost *)e)->lost;
	} else if (e->type == PERF_RECORD_SAMPLE) {
		struct perf_sample_raw *s = (struct perf_sample_raw *)e;
		__u32 ifindex;

		/* Another member's (the data is not 8-byte aligned: copied);
		 * the writer judges a short one. */
		if (c->ifindex && s->size >= sizeof(struct flow_sample_hdr)) {
			memcpy(&ifindex, s->data + offsetof(struct flow_sample_hdr, ifindex),
			       sizeof(ifindex));
			if (ifindex != c->ifindex)
				return LIBBPF_PERF_EVENT_CONT;
		}
		if (c->write_err ||
		    (c->count && fa_sample_writer_count(c->w) >= c->count))
			return LIBBPF_PERF_EVENT_CONT;
		err = fa_sample_writer_write(c->w, s->data, s->size, c->ts_off);
		if (err == -EINVAL)
			c->bad++;
		else if (err)
			c->write_err = err;
	}
	return LIBBPF_PERF_EVENT_CONT;
}

static __u64 lost_in_programs(const struct fa_hook_stats *st)
{
	__u64 n = 0;
	int dir;

	for (dir = 0; dir < FLOW_NR_DIRS; dir++)
		n += st[dir].c[FLOW_C_SAMPLE_FULL] + st[dir].c[FLOW_C_SAMPLE_OTHER] +
		     st[dir].c[FLOW_C_SAMPLE_NO_READER];
	return n;
}

/* Whether a member of the set @p still has its record there. */
static bool still_member(const struct fa_pinned *p)
{
	struct fa_set_member_rec rec;
	char path[PATH_MAX];
	int fd, err;

	fa_pin_path(path, sizeof(path), p->dir, FA_SET_MEMBERS_PIN);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	err = bpf_map_lookup_elem(fd, &p->state.ifindex, &rec);
	close(fd);
	return !err;
}

/* Whether the attachment we read is still there (detach unpins it); a
 * member, whether it is still in its set. */
static bool still_attached(const struct fa_pinned *p, bool member)
{
	struct fa_attach_state st;
	char path[PATH_MAX];
	int fd, err;

	if (member && !still_member(p))
		return false;
	fa_pin_path(path, sizeof(path), p->dir, fa_pin_name(FA_PIN_STATE));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	err = fa_state_map_read(fd, &st);
	close(fd);
	return !err && st.attached_at == p->state.attached_at;
}

static const char *out_name(const struct fa_capture_opts *o)
{
	return strcmp(o->write, "-") ? o->write : "standard output";
}

static int capture_loop(struct capture_ctx *c, struct perf_buffer *pb,
			const struct fa_pinned *p, const struct fa_capture_opts *o,
			const char *ifname, struct fa_err *e)
{
	__u64 end = o->duration_ms ? fa_mono_ns() + o->duration_ms * 1000000ull : 0;
	__u64 now, next_check = 0;
	int timeout, err;

	while (!(o->stop && *o->stop)) {
		now = fa_mono_ns();
		if (end && now >= end)
			return 0;
		timeout = 100;
		if (end && (end - now) / 1000000 < (__u64)timeout)
			timeout = (end - now + 999999) / 1000000;
		err = perf_buffer__poll(pb, timeout);
		if (err >= 0 || err == -EINTR)
			err = perf_buffer__consume(pb);
		if (err < 0 && err != -EINTR)
			return fa_err_set(e, err, "reading the samples of '%s': %s",
					  ifname, strerror(-err));
		if (!c->write_err)
			c->write_err = fa_sample_writer_flush(c->w);
		if (c->write_err)
			return fa_err_set(e, c->write_err, "can't write the samples of '%s' to %s: %s",
					  ifname, out_name(o), strerror(-c->write_err));
		if (c->count && fa_sample_writer_count(c->w) >= c->count)
			return 0;
		if (now >= next_check) {
			next_check = now + 200000000ull;
			if (!still_attached(p, o->member))
				return fa_err_set(e, -ENOENT, "'%s' was %s: capture stopped",
						  ifname, o->member ? "unlinked from its program set" :
						  "detached");
		}
	}
	return 0;
}

int fa_capture_lock(const struct fa_pinned *p, const char *ifname, bool member,
		    struct fa_lock *l, struct fa_err *e)
{
	int holder, holder_kind, err;

	if (!member)
		return fa_lock_take_err(p->dir, ifname, FA_LOCK_CAPTURE, l, e);
	err = fa_lock_take(p->dir, FA_LOCK_CAPTURE, l, &holder, &holder_kind);
	if (err == -EBUSY)
		return fa_err_set(e, err, "'%s' shares the sample buffer of its program set '%s' with a capture that runs (pid %d): one capture of a set at a time",
				  ifname, p->dir, holder);
	return err ? fa_err_set(e, err, "can't lock the program set '%s' under %s: %s",
				p->dir, FA_RUN_DIR, strerror(-err)) : 0;
}

int fa_capture(const struct fa_pinned *p, const char *ifname,
	       const struct fa_capture_opts *o, struct fa_capture_result *res,
	       struct fa_err *e)
{
	struct fa_hook_stats before[FLOW_NR_DIRS] = {}, after[FLOW_NR_DIRS] = {};
	struct capture_ctx c = { .count = o->count, .ifindex = o->member ? p->state.ifindex : 0 };
	struct perf_buffer *pb;
	int hook[FLOW_NR_DIRS], err, cerr;

	memset(res, 0, sizeof(*res));
	fa_state_hooks(&p->state, hook);
	err = fa_sample_writer_open(&c.w, o->write, o->pcapng, ifname, hook);
	if (err)
		return fa_err_set(e, err, "can't write '%s': %s", o->write, strerror(-err));
	c.ts_off = fa_mono_to_wall_offset();
	pb = sample_buffer_open(p->fd[FA_PIN_SAMPLES], SAMPLE_BUF_PAGES, on_event, &c);
	if (!pb) {
		err = fa_err_set(e, -errno, "can't read the sample buffer of '%s': %s",
				 ifname, strerror(errno));
		goto out;
	}
	fa_stats_read(p->fd[FA_PIN_STATS], p->state.ifindex, before);
	err = capture_loop(&c, pb, p, o, ifname, e);
	/* What is under the wakeup watermark. */
	perf_buffer__consume(pb);
	fa_stats_read(p->fd[FA_PIN_STATS], p->state.ifindex, after);
	perf_buffer__free(pb);
	res->written = fa_sample_writer_count(c.w);
	res->lost_buffer = c.lost;
	res->lost_programs = lost_in_programs(after) - lost_in_programs(before);
	res->bad = c.bad;
out:
	cerr = fa_sample_writer_close(c.w);
	if (!err && cerr)
		err = fa_err_set(e, cerr, "can't write '%s': %s", o->write, strerror(-cerr));
	return err;
}
