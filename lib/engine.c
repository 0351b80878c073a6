// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The daemon's engine: it attaches each interface that is not attached (or
 * adopts one that is), then every interval flips the epoch of every
 * interface, waits one RCU grace period for all of them, drains the old
 * tables into its flow cache and hands the records that leave it to its
 * sinks, with nothing lost: see stream.c for why a kill at any moment loses
 * no count. One loop on a timerfd, the caller's fd (its signals), the
 * control socket and the sinks' fds; nothing happens in a signal handler.
 */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "engine.h"
#include "internal.h"

#define NOTE(e, ...) fa_log(&(e)->cfg.log, FA_LOG_NOTE, __VA_ARGS__)

/*
 * A dump or `top` of a million flows builds arrays of about 150 MB. Left to
 * glibc, each one is a fresh mmap that the kernel zeroes, a sixth of the
 * request's time, on every request. The daemon keeps freed memory in its
 * heap instead, for the next request of a series: requests closer than
 * REQUEST_SERIES_NS (`top` refreshes every 2 s by default). A request that
 * came alone gives its memory back before its connection closes, so that
 * a daemon dumped now and then is as large after each dump as before it.
 * What a tick freed (the drain's arrays of a burst of flows) is given back
 * at the end of the tick when it freed more than HEAP_SLACK (a tick that
 * a busy machine delayed took thousands of records at once: the soak saw
 * 5 MB more for a minute), else at most HEAP_KEEP_NS after the last trim,
 * outside a series. Steady churn then faults its arrays in afresh each
 * tick, a page fault per 4 KiB (about 1 % of a tick of 200,000 flows).
 */
#define HEAP_KEEP_NS 10000000000ull
#define REQUEST_SERIES_NS 5000000000ull
#define HEAP_SLACK (4u << 20)

/* How long an interface's container is looked for, from the first look:
 * this, or three ticks if longer. */
#define CONTAINER_LOOK_NS 10000000000ull

static void heap_keep(void)
{
	mallopt(M_MMAP_MAX, 0);
	mallopt(M_TRIM_THRESHOLD, INT_MAX);
}

static void heap_trim(struct fa_engine *e, __u64 now)
{
	malloc_trim(0);
	e->last_trim_ns = now;
	e->trimmed_free = mallinfo2().fordblks;
}

static void heap_release_when_idle(struct fa_engine *e, __u64 now)
{
	size_t free_now;

	if (now - e->last_request_ns < REQUEST_SERIES_NS)
		return;
	/*
	 * A trim gives free chunks' pages back, not the chunks: they stay
	 * free (fordblks) below a live block. What a tick freed is what free
	 * grew by from its least since the trim (a chunk taken again is
	 * resident again).
	 */
	free_now = mallinfo2().fordblks;
	if (free_now < e->trimmed_free)
		e->trimmed_free = free_now;
	if (now - e->last_trim_ns >= HEAP_KEEP_NS || free_now - e->trimmed_free > HEAP_SLACK)
		heap_trim(e, now);
}

void fa_engine_request_done(struct fa_engine *e)
{
	__u64 now = fa_mono_ns();

	if (now - e->last_request_ns >= REQUEST_SERIES_NS)
		heap_trim(e, now);
	e->last_request_ns = now;
}

/* ---- records to the sinks ------------------------------------------------------ */

/*
 * Each sink in turn, the first that fails stopping the rest: the records
 * stay in the journal and all of them get the records again.
 */
static void fwd_note(struct fa_engine *e, const struct fa_record *recs, size_t n);

static int write_records(void *ctx, const struct fa_stream *s,
			 const struct fa_record *recs, size_t n, __u64 wall_off)
{
	const struct fa_attach_state *st = &s->p.state;
	struct fa_engine *e = ctx;
	size_t i;
	int err;

	fwd_note(e, recs, n);
	for (i = 0; i < e->nsinks; i++) {
		if (!e->sinks[i].ops->records)
			continue;
		err = e->sinks[i].ops->records(e->sinks[i].priv, s, recs, n, wall_off);
		if (err) {
			e->failed_sink = i;
			e->sinks[i].errors++;
			e->sinks[i].last_err = err;
			return err;
		}
	}
	/*
	 * A connection that ended (FIN or RST): a later one on its tuple
	 * starts afresh. Not on an idle timeout: a connection in RTO backoff
	 * must keep its highest sequence, or its retransmissions would look
	 * like a first segment.
	 */
	if (st->owners || st->retrans || st->passive_rtt)
		for (i = 0; i < n; i++)
			if (recs[i].end_reason == FA_END_END)
				fa_enrich_forget(s->p.fd, &recs[i].key);
	/* A tunnelled flow's tunnel, once it left the cache: a later flow on
	 * its key notes its own. */
	if (s->p.fd[FA_PIN_TUNNELS] >= 0)
		for (i = 0; i < n; i++)
			if (recs[i].key.tunnel && recs[i].end_reason != FA_END_ACTIVE)
				bpf_map_delete_elem(s->p.fd[FA_PIN_TUNNELS], &recs[i].key);
	return 0;
}

/*
 * A sink that keeps failing is said once a minute, not every tick. Until it
 * takes them, the tick's records wait in the cache file and the interface's
 * tables keep counting; no flow expires meanwhile.
 */
static void sink_trouble(struct fa_engine *e, struct fa_engine_iface *w, int err)
{
	const struct fa_engine_sink *k = &e->sinks[e->failed_sink];
	__u64 now = fa_mono_ns();

	if (!w->trouble_since_ns)
		w->trouble_since_ns = now;
	w->trouble_errors++;
	if (e->last_sink_error_ns && now - e->last_sink_error_ns < 60000000000ull)
		return;
	e->last_sink_error_ns = now;
	NOTE(e, "can't write the records of '%s' to %s: %s; they wait in the journal",
	     w->name, k->ops->where ? k->ops->where(k->priv) : "a sink", strerror(-err));
}

/* A tick whose records all went out: the end of any trouble, said. */
static void tick_done(struct fa_engine *e, struct fa_engine_iface *w)
{
	__u64 now = fa_mono_ns();

	if (w->trouble_since_ns)
		NOTE(e, "the records of '%s' go out again, after %.1f s and %llu failed writes; none was lost",
		     w->name, (now - w->trouble_since_ns) / 1e9,
		     (unsigned long long)w->trouble_errors);
	w->trouble_since_ns = 0;
	w->trouble_errors = 0;
	w->last_tick_ns = now;
}

const struct fa_engine_iface *fa_engine_ticker(const struct fa_engine *e,
					       const struct fa_engine_iface *w)
{
	return w->member ? e->setw : w;
}

struct fa_stream *fa_engine_stream(const struct fa_engine *e, const struct fa_engine_iface *w)
{
	return (struct fa_stream *)&fa_engine_ticker(e, w)->s;
}

bool fa_engine_counting(const struct fa_engine *e, const struct fa_engine_iface *w)
{
	return fa_engine_ticker(e, w)->open && !(w->member && w->leaving);
}

__u64 fa_engine_tick_lag_ns(const struct fa_engine *e, const struct fa_engine_iface *w)
{
	__u64 since;

	w = fa_engine_ticker(e, w);
	since = w->last_tick_ns ? w->last_tick_ns : e->started_ns;
	return fa_mono_ns() - since;
}

__u64 fa_engine_delayed_records(const struct fa_engine *e, const struct fa_engine_iface *w)
{
	w = fa_engine_ticker(e, w);
	return w->open && w->s.rs.phase == FA_PHASE_COMMITTED ? w->s.rs.nr_records : 0;
}

/* ---- interfaces ----------------------------------------------------------------- */

static const char *map_name(int shared)
{
	return shared ? "shared" : "percpu";
}

/* Adopts what is attached, if it is what was asked for; attaches if not. */
static int take_iface(struct fa_engine *e, struct fa_engine_iface *w, struct fa_err *err)
{
	struct fa_attach_opts ao = e->cfg.attach;
	struct fa_iface_result res;
	__u64 files, process;
	int r;

	ao.ifname = w->name;
	ao.by_run = true;
	/* The memory guard's: this stream, full, and what the interfaces
	 * taken before will still take as they fill. */
	fa_stream_estimate(e->cfg.cache_size, ao.max_flows, ao.shared, &files, &process);
	ao.more_files = files;
	ao.more_process = process + e->promised;
	r = fa_iface_attach(&ao, FA_IFACE_ADOPT | e->cfg.attach_flags, &res, err);
	if (r)
		return r;
	w->lock = res.lock;
	w->ifindex = res.attach.state.ifindex;
	snprintf(w->dirname, sizeof(w->dirname), "%s", res.attach.dirname);
	if (res.adopted) {
		/* Its tables exist; a cache file not yet (or a killed daemon's).
		 * A refusal leaves it as it is. */
		fa_stream_estimate(e->cfg.cache_size, res.attach.state.max_flows,
				   res.attach.state.shared_map, &files, &process);
		if (fa_cachefile_exists(w->dirname))
			files = process = 0;
		if (!(e->cfg.attach_flags & FA_IFACE_ANY_MEMORY)) {
			r = fa_memory_guard(w->name, 0, files, process + e->promised, err);
			if (r)
				return r;
		}
		e->promised += files + process;
		/* Ours if a `run` attached it, even one that was killed. */
		w->ours = res.attach.state.by_run;
		NOTE(e, "adopted '%s' (attached %s)", w->name,
		     w->ours ? "by flowacct run" : "by flowacct attach");
		return 0;
	}
	e->promised += files + process;
	w->ours = true;
	w->attached_now = true;
	NOTE(e, "attached to '%s': ingress at %s, TC by %s, %s map, 2 tables of %u flows",
	     w->name, fa_ingress_name(res.attach.state.ingress),
	     fa_tc_api_name(res.attach.state.tc_api),
	     map_name(res.attach.state.shared_map), res.attach.state.max_flows);
	return 0;
}

static int open_stream(struct fa_engine *e, struct fa_engine_iface *w, struct fa_err *err)
{
	struct fa_cache_cfg cfg = {
		.idle_ns = e->cfg.idle_ms * 1000000ull,
		.active_ns = e->cfg.active_ms * 1000000ull,
		.quiet_ns = e->cfg.quiet_ms * 1000000ull,
		.size = w->cache_size ? w->cache_size : e->cfg.cache_size,
	};
	int r;

	r = fa_stream_open(&w->s, w->dirname, &cfg, &e->records);
	if (r == -ERANGE)
		return fa_err_set(err, r, "'%s' holds the cache of a daemon that was killed, of another --cache-size: run with the size it had until it has stopped cleanly once",
				  w->name);
	if (r == -EUCLEAN)
		return fa_err_set(err, r, "the daemon's state of '%s' is not whole (its files under %s missing, or not its own): 'flowacct detach %s' removes it with the attachment",
				  w->name, FA_RUN_DIR, w->name);
	if (r)
		return fa_err_set(err, r, "can't open the daemon's state of '%s': %s", w->name,
				  strerror(-r));
	w->open = true;
	if (w->s.stats.replayed)
		NOTE(e, "'%s': wrote again the %llu records of a tick a killed daemon had not finished",
		     w->name, (unsigned long long)w->s.stats.replayed);
	return 0;
}

/*
 * What fa_engine_close() releases of one interface. @failed: the start
 * failed, and what this engine attached goes again, programs, pins and
 * files: a start is all or nothing.
 */
static void iface_release(struct fa_engine *e, struct fa_engine_iface *w, bool failed)
{
	struct fa_attach_state st = w->s.p.state;

	if (failed && w->member && w->attached_now && !w->leaving) {
		/* Unlinked and forgotten at once: no tick will drain it. */
		fa_set_unlink(e->set, &w->m);
		fa_sync_wait(&e->sync);
		fa_set_forget(e->set, w->ifindex);
		fa_stream_iface_forget(&e->setw->s, w->ifindex);
		free(w);
		return;
	}
	if (w->member) {
		free(w);
		return;
	}
	if (w->open)
		fa_stream_close(&w->s);
	if (failed && w->attached_now) {
		fa_detach(w->dirname, w->open ? &st : NULL, w->ifindex);
		w->released = true;
	}
	fa_lock_release(&w->lock);
	if (w->released)
		fa_run_files_remove(w->dirname);
	free(w);
}

/* ---- the daemon's program set (cfg.one_set) ---------------------------------------- */

/* The members that left, whose last flows go out in the next tick. */
static int leave_add(struct fa_engine *e, __u32 ifindex)
{
	__u32 *grown;
	size_t i;

	for (i = 0; i < e->nleave; i++)
		if (e->leave[i] == ifindex)
			return 0;
	if (e->nleave == e->leave_cap) {
		grown = realloc(e->leave, (e->leave_cap * 2 + 16) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		e->leave = grown;
		e->leave_cap = e->leave_cap * 2 + 16;
	}
	e->leave[e->nleave++] = ifindex;
	return 0;
}

static struct fa_engine_iface *iface_new(const char *name)
{
	struct fa_engine_iface *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->lock.fd = -1;
	snprintf(w->name, sizeof(w->name), "%s", name);
	return w;
}

const struct fa_container *fa_engine_container(const struct fa_engine *e, __u32 ifindex)
{
	size_t i;

	for (i = 0; i < e->n && e->with_container; i++)
		if (e->ifs[i]->ifindex == (int)ifindex && e->ifs[i]->has_container)
			return &e->ifs[i]->container;
	return NULL;
}

/* How long a container's flow's tuple is kept for the same flow elsewhere:
 * as long as its rows can stay in the cache, and two ticks to leave. */
static __u64 fwd_window_ns(const struct fa_engine *e)
{
	return (e->cfg.active_ms + e->cfg.idle_ms + 2 * e->cfg.interval_ms) * 1000000ull;
}

const struct fa_container *fa_engine_flow_container(const struct fa_engine *e,
						    const struct flow_key *k)
{
	const struct fa_container *c = fa_engine_container(e, k->ifindex);
	__u32 ifindex;

	if (c || !e->fwd)
		return c;
	ifindex = fa_fwd_join_find(e->fwd, k, fa_mono_ns(), fwd_window_ns(e));
	return ifindex && ifindex != k->ifindex ? fa_engine_container(e, ifindex) : NULL;
}

/* Each record of a container's interface: its tuple noted, before any sink
 * reads the batch (the uplink's record may come first in it). */
static void fwd_note(struct fa_engine *e, const struct fa_record *recs, size_t n)
{
	__u64 now = fa_mono_ns();
	size_t i;

	if (!e->fwd)
		return;
	for (i = 0; i < n; i++)
		if (fa_engine_container(e, recs[i].key.ifindex)) {
			fa_fwd_join_note(e->fwd, &recs[i].key, recs[i].key.ifindex, now);
			fa_fwd_join_note_nat(e->fwd, &recs[i].key, recs[i].key.ifindex, now);
		}
	if (now - e->fwd_swept_ns >= 1000000000ull) {
		fa_fwd_join_sweep(e->fwd, now, fwd_window_ns(e));
		e->fwd_swept_ns = now;
	}
}

/*
 * The containers of the interfaces taken since the last tick (and of those
 * not found yet): one look at the links and /proc for all of them.
 */
static __u64 container_window(const struct fa_engine *e)
{
	__u64 window = e->cfg.interval_ms * 3000000ull;

	return window < CONTAINER_LOOK_NS ? CONTAINER_LOOK_NS : window;
}

static bool container_looked_for(const struct fa_engine_iface *w, __u64 now)
{
	return !w->has_container && !w->container_settled && w->ifindex > 0 &&
	       now >= w->container_next_look_ns;
}

/*
 * After a look that found no container: processes there in none, the next
 * tick settles it; no process there, a look after twice the last gap (one
 * interval first), the last one at the window's end: 5 looks in 10 s at
 * --interval 1 instead of 10, a late process found within about the time it
 * took to come, and an interval.
 */
static void container_look_again(const struct fa_engine *e, struct fa_engine_iface *w,
				 bool processes, __u64 now)
{
	__u64 interval = e->cfg.interval_ms * 1000000ull, end;

	end = w->container_first_look_ns + container_window(e);
	if (now >= end) {
		w->container_settled = true;
		return;
	}
	if (processes) {
		w->container_next_look_ns = now;
		return;
	}
	w->container_gap_ns = w->container_gap_ns ? 2 * w->container_gap_ns : interval;
	/* Half an interval early: a tick may come a little before its time. */
	w->container_next_look_ns = now + w->container_gap_ns - interval / 2;
	if (w->container_next_look_ns > end)
		w->container_next_look_ns = end;
}

static void containers_look(struct fa_engine *e, __u64 now)
{
	struct fa_cgroups cg = {};
	const struct fa_container *c;
	struct fa_engine_iface **w;
	bool *settled;
	__u32 *ifindex;
	size_t i, n = 0;

	e->with_container = 0;
	for (i = 0; i < e->n; i++) {
		n += container_looked_for(e->ifs[i], now);
		e->with_container += e->ifs[i]->has_container;
	}
	if (!n)
		return;
	ifindex = calloc(n, sizeof(*ifindex));
	settled = calloc(n, sizeof(*settled));
	w = calloc(n, sizeof(*w));
	if (!ifindex || !settled || !w)
		goto out;
	n = 0;
	for (i = 0; i < e->n; i++)
		if (container_looked_for(e->ifs[i], now)) {
			w[n] = e->ifs[i];
			ifindex[n++] = e->ifs[i]->ifindex;
		}
	if (fa_cgroups_ifaces(&cg, ifindex, n, settled))
		goto out;
	for (i = 0; i < n; i++) {
		if (!w[i]->container_first_look_ns)
			w[i]->container_first_look_ns = now;
		c = fa_cgroups_iface(&cg, w[i]->ifindex);
		if (c) {
			w[i]->container = *c;
			w[i]->has_container = true;
			e->with_container++;
			continue;
		}
		/* None found where processes are: twice in a row, none to find. */
		w[i]->container_nones = settled[i] ? w[i]->container_nones + 1 : 0;
		w[i]->container_settled = w[i]->container_nones >= 2;
		if (!w[i]->container_settled)
			container_look_again(e, w[i], settled[i], now);
	}
out:
	fa_cgroups_free(&cg);
	free(ifindex);
	free(settled);
	free(w);
}

static int ifs_append(struct fa_engine *e, struct fa_engine_iface *w)
{
	struct fa_engine_iface **grown = realloc(e->ifs, (e->n + 1) * sizeof(*e->ifs));

	if (!grown)
		return -ENOMEM;
	e->ifs = grown;
	e->ifs[e->n++] = w;
	return 0;
}

/* A member that went while no daemon held the set (its device deleted, or
 * renamed out of the match): its flows go out in the first tick. */
static void set_left_alone(struct fa_engine *e, __u32 ifindex)
{
	leave_add(e, ifindex);
	NOTE(e, "'%s' (index %u) left the program set while no daemon ran: its flows go out",
	     fa_stream_ifname(&e->setw->s, ifindex), ifindex);
}

/*
 * A member found in the set a killed daemon left: taken again if its
 * device is still wanted, else unlinked, and its flows go in the first
 * tick as any leaving member's.
 */
static void set_readopt(struct fa_engine *e, struct fa_set_member *m)
{
	struct fa_link l = { .ifindex = m->ifindex, .flags = IFF_UP };
	struct fa_engine_iface *w;

	if (if_indextoname(m->ifindex, l.name) && fa_iface_wanted(&e->cfg.match, &l)) {
		w = iface_new(l.name);
		if (w) {
			w->ifindex = m->ifindex;
			w->m = *m;
			w->member = w->ours = true;
			/* Records carry the name it has now. */
			fa_stream_iface_name(&e->setw->s, m->ifindex, l.name);
			fa_stream_iface_ingress(&e->setw->s, m->ifindex, m->ingress);
			fa_drop_watch(e->drop_watch_fd, m->ifindex, true);
			if (!ifs_append(e, w)) {
				e->ifaces_taken++;
				NOTE(e, "adopted '%s' in the program set", l.name);
				return;
			}
			free(w);
		}
	}
	fa_set_unlink(e->set, m);
	fa_drop_watch(e->drop_watch_fd, m->ifindex, false);
	set_left_alone(e, m->ifindex);
}

/*
 * The set's sampling, every member's: as this daemon's options say, on a
 * set it made or adopted alike (it is the only writer: `flowacct set` on
 * a member is refused).
 */
static int set_sampling(struct fa_engine *e, struct fa_err *err)
{
	struct flow_sample_config cfg = e->cfg.attach.sample, was;
	int r;

	if (!cfg.snaplen)
		cfg.snaplen = FLOW_DEFAULT_SNAPLEN;
	r = fa_pinned_sample_get(&e->setw->s.p, &was);
	if (!r && !memcmp(&was, &cfg, sizeof(cfg)))
		return 0;
	r = fa_pinned_sample_set(&e->setw->s.p, &cfg);
	if (r)
		return fa_err_set(err, r, "can't set the sampling of the program set %s: %s",
				  e->setw->dirname, strerror(-r));
	if (cfg.rate)
		NOTE(e, "sampling 1 in %u frames of every member of %s ('flowacct capture IFACE' writes a member's)",
		     cfg.rate, e->setw->dirname);
	return 0;
}

/*
 * The drop program on the set's epoch, with the tables a killed daemon
 * pinned (their rows not drained yet are the stream's to drain), or new
 * ones, pinned beside the set's before the stream opens them.
 */
static int drops_start(struct fa_engine *e, const char *dir, struct fa_err *err)
{
	/* The set's tunnels, which an adopted set keeps: its drops are
	 * keyed as its hooks key its packets. */
	struct fa_drop_opts o = {
		.mode = e->cfg.drops, .decap = e->set->opts.decap,
		.keys_untagged = e->set->opts.keys_untagged, .vxlan = e->set->opts.vxlan,
	};
	int fd[FA_NR_PINS], r;

	r = fa_drop_prog_start(dir, &o, e->set->fd[FA_PIN_EPOCH], &e->drops);
	if (r)
		return fa_err_set(err, r, "can't load the drop program on kfree_skb: %s (--drops off runs without)",
				  r == -EOPNOTSUPP ?
				  "this kernel has no SKB_NOT_DROPPED_YET, its drop reasons would mix with none" :
				  strerror(-r));
	fa_drop_prog_fds(e->drops, fd);
	e->drop_watch_fd = fd[FA_PIN_DROP_WATCH];
	/* A program loaded anew watches the set's members, whom the set's
	 * start takes again: not those of a daemon before (of another mode). */
	if (!fa_drop_prog_adopted(e->drops))
		fa_drop_watch_clear(e->drop_watch_fd);
	NOTE(e, "drops in the books: %s, by %s", e->cfg.drops == FA_DROPS_ALL ?
	     "every interface of this network namespace" : "the interfaces in the set",
	     fa_drop_prog_adopted(e->drops) ? "the drop program a killed daemon left" :
	     fa_drop_prog_raw(e->drops) ? "raw_tp/kfree_skb" : "tp_btf/kfree_skb");
	return 0;
}

/*
 * The daemon's program set: the one a killed daemon of the same namespace
 * and IPFIX domain left (its tick finished, its members taken again), or
 * a new one, pinned so that a kill loses nothing.
 */
static int set_start(struct fa_engine *e, struct fa_err *err)
{
	const struct fa_attach_opts *a = &e->cfg.attach;
	struct fa_load_opts lo = {
		.shared = a->shared, .max_flows = a->max_flows, .owners = a->owners,
		.retrans = a->retrans, .passive_rtt = a->passive_rtt,
		.decap = a->decap,
		.vxlan = a->vxlan,
	};
	struct fa_set_member *m = NULL;
	const __u32 *rows;
	size_t n = 0, nrows, i, k;
	__u64 ino, cookie;
	char dir[64];
	int r;

	r = fa_netns_self(&ino, &cookie);
	if (r)
		return fa_err_set(err, r, "can't tell the network namespace: %s", strerror(-r));
	snprintf(dir, sizeof(dir), "run-net%llu-d%u", (unsigned long long)ino,
		 e->cfg.ipfix_domain);
	e->set = calloc(1, sizeof(*e->set));
	e->setw = iface_new("program set");
	m = calloc(FLOW_SET_MAX_IFACES, sizeof(*m));
	if (!e->set || !e->setw || !m) {
		free(m);
		return fa_err_set(err, -ENOMEM, "out of memory");
	}
	snprintf(e->setw->dirname, sizeof(e->setw->dirname), "%s", dir);
	e->setw->ours = true;
	r = fa_set_adopt(e->set, dir, m, FLOW_SET_MAX_IFACES, &n, &a->vxlan);
	if (!r && e->set->opts.nr_counters && a->decap)
		NOTE(e, "the program set is the release before's: it opens no tunnel until a clean stop releases it");
	else if (!r && e->set->opts.decap != a->decap)
		NOTE(e, "the program set was made with --decap %s and keeps it: a clean stop releases it",
		     e->set->opts.decap ? "inner" : "off");
	if (!r && (e->set->opts.shared != lo.shared || e->set->opts.max_flows != lo.max_flows)) {
		fa_set_close(e->set);
		free(m);
		return fa_err_set(err, -EINVAL, "the program set %s a killed daemon left has %s tables of %u flows, not %s of %u: run with those until it has stopped cleanly once",
				  dir, map_name(e->set->opts.shared), e->set->opts.max_flows,
				  map_name(lo.shared), lo.max_flows);
	}
	if (r == -ENOENT && !(e->cfg.attach_flags & FA_IFACE_ANY_MEMORY)) {
		/* The set's tables and its cache, full, before they are made. */
		struct fa_attach_opts g = *a;
		__u64 files, process;

		g.ifname = dir;
		fa_stream_estimate(e->cfg.cache_size, lo.max_flows, lo.shared, &files, &process);
		g.more_files = files;
		g.more_process = process;
		r = fa_attach_guard(&g, err);
		if (r) {
			free(m);
			return r;
		}
		r = -ENOENT;
	}
	if (r == -ENOENT) {
		r = fa_set_open(e->set, &lo);
		if (!r) {
			r = fa_set_pin(e->set, dir);
			if (r)
				fa_set_close(e->set);
		}
		e->set_made = !r;
	}
	if (r) {
		free(m);
		if (r == -EBUSY)
			return fa_err_set(err, r, "the program set %s is another daemon's (pid %d): give this one another --ipfix-domain",
					  dir, fa_lock_owner(dir, FA_LOCK_RUN));
		return fa_err_set(err, r, "can't %s the program set %s: %s",
				  e->set_made ? "make" : "adopt", dir, strerror(-r));
	}
	if (e->cfg.drops) {
		r = drops_start(e, dir, err);
		/* By default, a kernel without drop reasons runs without. */
		if (r && !e->cfg.drops_asked) {
			NOTE(e, "%s: running without drops", err->msg);
			memset(err, 0, sizeof(*err));
			e->cfg.drops = FA_DROPS_OFF;
			fa_drop_prog_unpin(dir, NULL);
			r = 0;
		}
		if (r) {
			free(m);
			return r;
		}
	} else {
		/* A killed daemon's drop program: no more drops counted. */
		fa_drop_prog_unpin(dir, NULL);
	}
	r = open_stream(e, e->setw, err);
	if (!r)
		r = set_sampling(e, err);
	if (r) {
		free(m);
		return r;
	}
	if (e->set_made)
		NOTE(e, "made the program set %s: ingress at %s, TC by %s, %s map, 2 tables of %u flows for every interface",
		     dir, a->ingress ? fa_ingress_name(a->ingress) : "the driver's choice",
		     a->tc_api == FA_TC_ASK_CLSACT ? "clsact" :
		     a->tc_api == FA_TC_ASK_TCX ? "tcx" : "tcx where the kernel has it",
		     map_name(lo.shared), lo.max_flows);
	else
		NOTE(e, "adopted the program set %s (%zu members)", dir, n);
	for (i = 0; i < n; i++)
		set_readopt(e, &m[i]);
	/* Rows without a member: a leave a kill cut short, finished now. */
	r = fa_stream_rows_of(&e->setw->s, &rows, &nrows);
	for (k = 0; !r && k < nrows; k++) {
		for (i = 0; i < n && (__u32)m[i].ifindex != rows[k]; i++)
			;
		if (rows[k] && i == n)
			set_left_alone(e, rows[k]);
	}
	free(m);
	return 0;
}

/*
 * The set's stream closed, and the set: removed with its files once its
 * last drain went out (or a start that made it failed), else kept for the
 * next daemon, which adopts it.
 */
static void set_close(struct fa_engine *e)
{
	bool remove = e->set_made && !e->started;
	char dir[64];

	if (!e->set)
		return;
	snprintf(dir, sizeof(dir), "%s", e->setw->dirname);
	if (e->setw->released)
		remove = true;
	if (e->setw->open) {
		if (remove)
			fa_stream_unpin(&e->setw->s, false);
		fa_stream_close(&e->setw->s);
	}
	fa_drop_prog_close(e->drops);
	e->drops = NULL;
	e->drop_watch_fd = -1;
	fa_set_close(e->set);
	if (remove) {
		fa_set_remove(dir);
		fa_run_files_remove(dir);
	}
	free(e->set);
	free(e->setw);
	free(e->leave);
	e->set = NULL;
	e->setw = NULL;
	e->leave = NULL;
	e->nleave = e->leave_cap = 0;
}

/* Links @w to the set (named first: no record of it is written before). */
static int set_join(struct fa_engine *e, struct fa_engine_iface *w, struct fa_err *err)
{
	const struct fa_attach_opts *a = &e->cfg.attach;
	struct fa_member_entry other;
	int r;

	w->ifindex = if_nametoindex(w->name);
	if (!w->ifindex)
		return fa_err_set(err, -ENODEV, "no interface '%s' in this network namespace",
				  w->name);
	/* Another daemon's set has it (their patterns overlap). */
	if (!fa_set_member_linked(w->ifindex, e->setw->dirname, &other))
		return fa_set_member_taken_err(&other, w->name, err);
	r = fa_stream_iface_name(&e->setw->s, w->ifindex, w->name);
	/* Watched before its hooks count: its drops are its flows'. */
	if (!r)
		r = fa_drop_watch(e->drop_watch_fd, w->ifindex, true);
	if (!r)
		r = fa_set_join(e->set, w->ifindex, a->ingress, a->tc_api, &w->m);
	if (r == -EEXIST)
		return fa_err_set(err, r, "'%s' has rows in the program set still (index %d): later",
				  w->name, w->ifindex);
	if (r) {
		/* A hook made before the failure may have counted: its rows go
		 * after a grace period, with its books. */
		fa_sync_wait(&e->sync);
		fa_set_forget(e->set, w->ifindex);
		fa_stream_iface_forget(&e->setw->s, w->ifindex);
		fa_drop_watch(e->drop_watch_fd, w->ifindex, false);
		return fa_err_set(err, r, "can't link '%s' to the program set: %s", w->name,
				  strerror(-r));
	}
	w->member = w->ours = w->attached_now = true;
	fa_stream_iface_ingress(&e->setw->s, w->ifindex, w->m.ingress);
	NOTE(e, "linked '%s' to the program set: ingress at %s, TC by %s", w->name,
	     fa_ingress_name(w->m.ingress), fa_tc_api_name(w->m.tc_api));
	return 0;
}

/* Unlinked now; its last flows go out in the next tick. */
static void set_leave(struct fa_engine *e, struct fa_engine_iface *w)
{
	int r = fa_set_unlink(e->set, &w->m);

	fa_drop_watch(e->drop_watch_fd, w->ifindex, false);
	if (r < 0 && r != -ENODEV)
		NOTE(e, "can't unlink '%s' from the program set: %s", w->name, strerror(-r));
	w->leaving = true;
	if (leave_add(e, w->ifindex))
		NOTE(e, "out of memory: the flows of '%s' go out at shutdown", w->name);
}

/* Whether an interface is attached on its own (by `flowacct attach`, or
 * by a daemon without a set): adopted as it is. */
static bool attached_alone(const char *name)
{
	struct fa_attach_state st;
	struct fa_ifid id;
	char dir[64];

	if (fa_ifid_by_name(name, &id))
		return false;
	fa_ifid_dirname(&id, dir, sizeof(dir));
	return !fa_state_read(dir, &st);
}

int fa_engine_add_iface(struct fa_engine *e, const char *ifname, struct fa_err *err)
{
	struct fa_engine_iface *w, **grown;
	int r;

	if (e->cfg.one_set && !e->set) {
		r = set_start(e, err);
		if (r)
			return r;
	}
	grown = realloc(e->ifs, (e->n + 1) * sizeof(*e->ifs));
	if (!grown)
		return fa_err_set(err, -ENOMEM, "out of memory");
	e->ifs = grown;
	w = iface_new(ifname);
	if (!w)
		return fa_err_set(err, -ENOMEM, "out of memory");
	if (e->set && !attached_alone(ifname)) {
		r = set_join(e, w, err);
	} else {
		r = take_iface(e, w, err);
		if (!r)
			r = open_stream(e, w, err);
	}
	if (r) {
		iface_release(e, w, true);
		return r;
	}
	e->ifs[e->n++] = w;
	e->ifaces_taken++;
	/*
	 * A signal while interfaces are taken (each can take seconds): seen
	 * now, so that the caller takes no more and the run ends at once.
	 */
	if (e->cfg.on_wake && e->cfg.wake_fd >= 0 &&
	    poll(&(struct pollfd){ .fd = e->cfg.wake_fd, .events = POLLIN }, 1, 0) > 0)
		e->cfg.on_wake(e->cfg.ctx, e);
	return 0;
}

/* ---- interfaces that leave, interfaces that come ---------------------------------- */

static void sinks_counters(struct fa_engine *e, const struct fa_stream *s, __u32 ifindex);

static struct fa_engine_iface *by_ifindex(struct fa_engine *e, int ifindex)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (e->ifs[i]->ifindex == ifindex && !e->ifs[i]->leaving)
			return e->ifs[i];
	return NULL;
}

static struct fa_engine_iface *by_name(struct fa_engine *e, const char *name)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (!strcmp(e->ifs[i]->name, name) && !e->ifs[i]->leaving)
			return e->ifs[i];
	return NULL;
}

/* Out of the engine; the caller released what it held. */
static void drop(struct fa_engine *e, struct fa_engine_iface *w)
{
	size_t i;

	for (i = 0; i < e->n && e->ifs[i] != w; i++)
		;
	if (i == e->n)
		return;
	memmove(&e->ifs[i], &e->ifs[i + 1], (e->n - i - 1) * sizeof(*e->ifs));
	e->n--;
	free(w);
	e->ifaces_left++;
	/* Its index may be another interface's by now, which waited for it. */
	e->need_resync = e->wfd >= 0;
}

/*
 * A leaving interface's last drain, every flow out as forced, then its
 * counters line and everything of it released. 0 once done; else the
 * drain's error, and the next tick tries again (the records wait in the
 * journal as any tick's do).
 */
static int leave_finish(struct fa_engine *e, struct fa_engine_iface *w)
{
	/* Nothing writes its tables any more. */
	bool quiet = w->ours || w->device_gone;
	struct fa_attach_state st;
	struct fa_err err = {};
	int r;

	if (!w->open && open_stream(e, w, &err)) {
		fa_log(&e->cfg.log, FA_LOG_ERR, "%s", err.msg);
		return -EUCLEAN;
	}
	r = fa_stream_drain(&w->s, fa_mono_ns(), true, &e->records);
	if (r) {
		if (w->s.rs.phase == FA_PHASE_COMMITTED) {
			sink_trouble(e, w, r);
			return r;
		}
		/* Not committed: again from the pinned state, next tick. */
		NOTE(e, "'%s': its last drain failed (%s); reloading its state", w->name,
		     strerror(-r));
		fa_stream_close(&w->s);
		w->open = false;
		return r;
	}
	tick_done(e, w);
	sinks_counters(e, &w->s, w->ifindex);
	st = w->s.p.state;
	if (!quiet)
		/* Attached by `flowacct attach`: it stays, counting. */
		fa_stream_unpin(&w->s, true);
	fa_stream_close(&w->s);
	w->open = false;
	if (quiet)
		/* The programs went with the device, or were detached. */
		fa_detach(w->dirname, &st, 0);
	fa_lock_release(&w->lock);
	if (quiet)
		fa_run_files_remove(w->dirname);
	NOTE(e, "'%s': its flows are out and its counters written; %s", w->name,
	     quiet ? "its pins and files are removed" : "its attachment stays");
	return 0;
}

/*
 * @w is followed no more: @device_gone, or renamed out of the match (then
 * what we attached is detached now, so that the last drain is the last).
 */
static void leave(struct fa_engine *e, struct fa_engine_iface *w, bool device_gone,
		  const char *why)
{
	int r;

	NOTE(e, "'%s' %s", w->name, why);
	if (w->member) {
		set_leave(e, w);
		return;
	}
	w->leaving = true;
	w->device_gone = device_gone;
	fa_stream_forget_marks(&w->s);
	if (w->ours && !device_gone) {
		r = fa_detach(NULL, &w->s.p.state, w->ifindex);
		if (r < 0)
			NOTE(e, "can't detach from '%s': %s", w->name, strerror(-r));
	}
	if (w->open) {
		fa_stream_flip(&w->s);
		fa_sync_wait(&e->sync);
	}
	if (!leave_finish(e, w))
		drop(e, w);
}

/*
 * @w's device went to another network namespace (@l: its RTM_DELLINK; NULL:
 * gone from a dump, deleted or moved, which the dump does not say). A
 * moved device keeps its XDP program and TCX links, and they would count
 * there until their pins went: taken off first, so that the last drain is
 * the last. On a deleted device nothing is left to take off.
 */
static void take_off_moved(struct fa_engine *e, struct fa_engine_iface *w,
			   const struct fa_link *l)
{
	int r;

	if (w->member)
		return;	/* unlinked as it leaves */
	r = fa_detach_moved(w->dirname, w->open ? &w->s.p.state : NULL,
			    l ? l->new_nsid : -1, l ? l->new_ifindex : 0);
	if (r == -ENOENT && l)
		NOTE(e, "can't find the network namespace '%s' was moved to: its XDP program stays on it there, until 'flowacct detach' is run on it there",
		     w->name);
	else if (r < 0 && r != -ENOENT)
		NOTE(e, "can't take our programs off '%s', moved to another network namespace: %s",
		     w->name, strerror(-r));
}

static void leaving_retry(struct fa_engine *e)
{
	size_t i;

	for (i = e->n; i-- > 0;)
		if (e->ifs[i]->leaving && !e->ifs[i]->member && !leave_finish(e, e->ifs[i]))
			drop(e, e->ifs[i]);
}

static bool refused(const struct fa_engine *e, const struct fa_link *l)
{
	size_t i;

	for (i = 0; i < e->nrefused; i++)
		if (e->refused[i].ifindex == l->ifindex &&
		    !strcmp(e->refused[i].name, l->name))
			return true;
	return false;
}

static void unrefuse(struct fa_engine *e, int ifindex)
{
	size_t i;

	for (i = e->nrefused; i-- > 0;)
		if (e->refused[i].ifindex == ifindex)
			e->refused[i] = e->refused[--e->nrefused];
}

/*
 * A wanted interface that can't be taken (another daemon's, an attach of
 * other options, a device the programs refuse) is said once, and tried
 * again only under another name or index: each of its link events (up,
 * down, carrier) would otherwise say it again.
 */
static void take_link(struct fa_engine *e, const struct fa_link *l)
{
	struct fa_link *grown;
	struct fa_err err = {};
	size_t i;

	for (i = 0; i < e->n; i++)
		if (e->ifs[i]->ifindex == l->ifindex)
			return;	/* the leaving one of its index holds its pins: later */
	if (refused(e, l))
		return;
	if (!fa_engine_add_iface(e, l->name, &err))
		return;
	NOTE(e, "can't take '%s': %s", l->name, err.msg);
	e->ifaces_refused++;
	unrefuse(e, l->ifindex);
	grown = realloc(e->refused, (e->nrefused + 1) * sizeof(*grown));
	if (!grown)
		return;
	e->refused = grown;
	e->refused[e->nrefused++] = *l;
}

/*
 * Taking an interface costs about a quarter of a second (its programs are
 * loaded and verified): in a burst of hundreds, the interfaces already
 * held still get their ticks, between two takes, when they are due.
 */
static void tick_if_due(struct fa_engine *e)
{
	__u64 expirations;

	if (e->started && !e->stop &&
	    read(e->tfd, &expirations, sizeof(expirations)) > 0)
		fa_engine_tick(e, false);
}

static void on_link(void *ctx, enum fa_link_event ev, const struct fa_link *l)
{
	struct fa_engine *e = ctx;
	struct fa_engine_iface *w = by_ifindex(e, l->ifindex);
	bool wanted = fa_iface_wanted(&e->cfg.match, l);

	fa_log(&e->cfg.log, FA_LOG_DEBUG, "link %s: '%s', index %d%s%s",
	       ev == FA_LINK_DEL ? "deleted" : "new or changed", l->name, l->ifindex,
	       w ? ", taken" : "", wanted ? ", wanted" : "");

	if (ev == FA_LINK_DEL) {
		unrefuse(e, l->ifindex);
		if (w && l->moved) {
			take_off_moved(e, w, l);
			leave(e, w, true, "was moved to another network namespace");
		} else if (w) {
			leave(e, w, true, "is gone");
		}
		return;
	}
	if (!w) {
		if (wanted) {
			take_link(e, l);
			tick_if_due(e);
		}
		return;
	}
	if (!strcmp(w->name, l->name))
		return;	/* up, down, carrier, mtu: the same interface */
	if (!wanted) {
		char why[64];

		snprintf(why, sizeof(why), "was renamed '%s', which is not followed", l->name);
		leave(e, w, false, why);
		return;
	}
	/* Records carry the name the interface has when they are written. */
	NOTE(e, "'%s' is now '%s'", w->name, l->name);
	snprintf(w->name, sizeof(w->name), "%s", l->name);
	if (w->member)
		fa_stream_iface_name(&e->setw->s, w->ifindex, l->name);
	else
		snprintf(w->s.ifname, sizeof(w->s.ifname), "%s", l->name);
}

/*
 * From a full dump: after lost events, or once an interface that held an
 * index has left. An index whose device is not the one we attached to
 * (no program of ours on it) is a new interface.
 */
static void resync(struct fa_engine *e)
{
	struct fa_link *l;
	struct fa_live live;
	size_t n, i, k;
	int r;

	e->need_resync = false;
	r = fa_links_list(&l, &n);
	if (r) {
		NOTE(e, "can't list the interfaces: %s", strerror(-r));
		return;
	}
	for (i = e->n; i-- > 0;) {
		struct fa_engine_iface *w = e->ifs[i];

		if (w->leaving)
			continue;
		for (k = 0; k < n && l[k].ifindex != w->ifindex; k++)
			;
		if (k == n) {
			take_off_moved(e, w, NULL);
			leave(e, w, true, "is gone");
			continue;
		}
		memset(&live, 0, sizeof(live));
		if (w->open && w->ours && !fa_attach_live(&w->s.p.state, &live) &&
		    !live.ingress && !live.egress) {
			leave(e, w, true, "is gone (its index is another interface's now)");
			continue;
		}
		on_link(e, FA_LINK_NEW, &l[k]);
	}
	for (i = e->nrefused; i-- > 0;) {
		for (k = 0; k < n && l[k].ifindex != e->refused[i].ifindex; k++)
			;
		if (k == n)
			e->refused[i] = e->refused[--e->nrefused];
	}
	for (k = 0; k < n && !e->stop; k++)
		if (!by_ifindex(e, l[k].ifindex))
			on_link(e, FA_LINK_NEW, &l[k]);
	free(l);
}

static void links_changed(struct fa_engine *e)
{
	int r = fa_ifwatch_read(e->wfd, on_link, e);

	if (r == -ENOBUFS) {
		NOTE(e, "interface events were lost (the socket's buffer was full): reading them all again");
		e->need_resync = true;
	} else if (r) {
		NOTE(e, "can't read interface events: %s", strerror(-r));
	}
	if (e->need_resync)
		resync(e);
}

/*
 * A stale attachment or set whose daemon's state is not whole (its files
 * under FA_RUN_DIR gone: removed by hand, or on a filesystem of its own
 * that went): its cache is lost, and what of its tables' rows its last
 * tick had written is not known. Writing them could count twice; it is
 * removed with them unwritten, and says how many there were.
 */
static void unwritten(struct fa_engine *e, const char *what, const char *name,
		      const char *dir, __u64 rows)
{
	NOTE(e, "released the stale %s '%s' (%s): its daemon's files under %s are gone (its cache with them), so its tables' %llu rows could not be written exactly, and were not",
	     what, name, dir, FA_RUN_DIR, (unsigned long long)rows);
}

/* One stale attachment out: see fa_engine_release_stale(). 1: it stays. */
static int release_stale(struct fa_engine *e, const struct fa_stale *st)
{
	const char *dir = st->pin.dirname;
	struct fa_engine_iface *w, **grown;
	struct fa_err err = {};
	char why[160];
	int holder, holder_kind;
	bool no_cache;
	size_t taken;
	__u64 rows;
	__u32 size;
	int r;

	w = calloc(1, sizeof(*w));
	grown = realloc(e->ifs, (e->n + 1) * sizeof(*e->ifs));
	if (!w || !grown) {
		free(w);
		return -ENOMEM;
	}
	e->ifs = grown;
	w->lock.fd = -1;
	snprintf(w->dirname, sizeof(w->dirname), "%s", dir);
	/* Its name at attach; the directory's, cut, if its record is unread. */
	snprintf(w->name, sizeof(w->name), "%.15s",
		 !st->pin.err && st->pin.state.ifname[0] ? st->pin.state.ifname : dir);
	w->ifindex = st->pin.state.ifindex;
	/* Whoever else releases it now goes first. */
	r = fa_lock_take(dir, FA_LOCK_RUN, &w->lock, &holder, &holder_kind);
	if (r) {
		free(w);
		return 0;
	}
	if (st->why == FA_STALE_HALF_MADE || st->pin.err) {
		fa_detach(dir, NULL, 0);
		fa_lock_release(&w->lock);
		fa_run_files_remove(dir);
		NOTE(e, "removed what a killed attach left of '%s' (%s)", w->name, dir);
		free(w);
		return 0;
	}
	r = fa_cachefile_size(dir, &size);
	if (!r)
		w->cache_size = size;
	no_cache = r == -ENOENT;
	w->ours = true;
	r = open_stream(e, w, &err);
	if (r == -EUCLEAN && no_cache) {
		rows = fa_pinned_count_rows(dir);
		r = fa_detach(dir, &st->pin.state, 0);
		fa_lock_release(&w->lock);
		if (r >= 0) {
			fa_run_files_remove(dir);
			unwritten(e, "attachment of", w->name, dir, rows);
		} else {
			NOTE(e, "can't remove the stale attachment of '%s' (%s): %s", w->name, dir,
			     strerror(-r));
		}
		free(w);
		return r < 0;
	}
	if (r) {
		NOTE(e, "can't release the stale attachment of '%s' (%s): %s", w->name, dir,
		     err.msg);
		fa_lock_release(&w->lock);
		free(w);
		return 1;
	}
	e->ifs[e->n++] = w;
	taken = e->n;
	snprintf(why, sizeof(why), "(%.63s) is stale: its %s is gone; its rows go out as records",
		 dir, st->why == FA_STALE_NETNS_GONE ? "network namespace" : "interface");
	leave(e, w, true, why);
	/* Released, or left leaving: its records wait for a sink. */
	return e->n == taken;
}

/*
 * A stale program set out: every row of its tables and cache out as
 * records (forced), a counters line per interface it has rows or books of,
 * then its pins and files removed. 1: it stays (its records could not be
 * written), for a next try.
 */
static int release_stale_set(struct fa_engine *e, const struct fa_stale *st)
{
	const char *dir = st->pin.dirname;
	struct fa_engine_iface *w = iface_new("program set");
	struct fa_err err = {};
	int holder, holder_kind, r;
	const __u32 *rows;
	__u32 *leave = NULL;
	size_t nrows = 0, i;
	bool no_cache;
	__u32 size;

	if (!w)
		return -ENOMEM;
	snprintf(w->dirname, sizeof(w->dirname), "%s", dir);
	/* Whoever else releases it now goes first. */
	if (fa_lock_take(dir, FA_LOCK_RUN, &w->lock, &holder, &holder_kind)) {
		free(w);
		return 0;
	}
	r = fa_cachefile_size(dir, &size);
	if (!r)
		w->cache_size = size;
	no_cache = r == -ENOENT;
	r = open_stream(e, w, &err);
	if (r == -EUCLEAN && no_cache) {
		__u64 lost = fa_pinned_count_rows(dir);

		fa_lock_release(&w->lock);
		r = fa_set_remove(dir);
		if (!r) {
			fa_run_files_remove(dir);
			unwritten(e, "program set", dir, dir, lost);
		} else {
			NOTE(e, "can't remove the stale program set %s: %s", dir, strerror(-r));
		}
		free(w);
		return r != 0;
	}
	if (!r)
		r = fa_stream_rows_of(&w->s, &rows, &nrows);
	if (!r && nrows) {
		leave = malloc(nrows * sizeof(*leave));
		r = leave ? 0 : -ENOMEM;
		if (leave)
			memcpy(leave, rows, nrows * sizeof(*leave));
	}
	if (!r) {
		NOTE(e, "the program set %s is stale: its network namespace is gone; its rows go out as records",
		     dir);
		w->s.leave = leave;
		w->s.nleave = nrows;
		r = fa_stream_drain_other(&w->s, fa_mono_ns(), true, &e->records);
		w->s.leave = NULL;
		w->s.nleave = 0;
	}
	if (r) {
		NOTE(e, "can't release the stale program set %s: %s", dir,
		     err.msg[0] ? err.msg : strerror(-r));
		if (w->open)
			fa_stream_close(&w->s);
		fa_lock_release(&w->lock);
		free(leave);
		free(w);
		return 1;
	}
	for (i = 0; i < nrows; i++)
		if (leave[i])
			sinks_counters(e, &w->s, leave[i]);
	fa_stream_unpin(&w->s, false);
	fa_stream_close(&w->s);
	fa_lock_release(&w->lock);
	/* From another namespace than the set's, only its pins go: its
	 * links went with its devices. */
	r = fa_set_remove(dir);
	if (r)
		NOTE(e, "can't remove the stale program set %s: %s", dir, strerror(-r));
	fa_run_files_remove(dir);
	free(leave);
	free(w);
	return 0;
}

/* Each stale thing @list finds, released: how many stay, or -errno. */
static int release_all(struct fa_engine *e, int (*list)(struct fa_stale **, size_t *),
		       int (*release)(struct fa_engine *, const struct fa_stale *),
		       const char *what, struct fa_err *err)
{
	struct fa_stale *l;
	size_t n, i;
	int r, kept = 0;

	r = list(&l, &n);
	if (r)
		return fa_err_set(err, r, "can't look for stale %s: %s", what, strerror(-r));
	for (i = 0; i < n && !e->stop; i++) {
		r = release(e, &l[i]);
		if (r < 0) {
			free(l);
			return fa_err_set(err, r, "out of memory");
		}
		kept += r;
	}
	free(l);
	return kept;
}

int fa_engine_release_stale(struct fa_engine *e, struct fa_err *err)
{
	int sets, r;

	sets = release_all(e, fa_stale_sets_list, release_stale_set, "program sets", err);
	if (sets < 0)
		return sets;
	r = release_all(e, fa_stale_list, release_stale, "attachments", err);
	return r < 0 ? r : sets + r;
}

int fa_engine_follow(struct fa_engine *e, struct fa_err *err)
{
	const struct fa_iface_match *m = &e->cfg.match;
	struct fa_link *l;
	size_t n, i, k;
	int r;

	/* Subscribed before the dump: nothing that happens between is missed. */
	e->wfd = fa_ifwatch_open(e->cfg.link_events_buffer);
	if (e->wfd < 0)
		return fa_err_set(err, e->wfd, "can't follow the interfaces (rtnetlink): %s",
				  strerror(-e->wfd));
	r = fa_engine_release_stale(e, err);
	if (r < 0)
		return r;
	if (e->cfg.one_set && !e->set) {
		r = set_start(e, err);
		if (r)
			return r;
	}
	r = fa_links_list(&l, &n);
	if (r)
		return fa_err_set(err, r, "can't list the interfaces: %s", strerror(-r));
	/* Every named one first, so that a missing one attaches nothing. */
	for (i = 0; i < m->nnames; i++) {
		for (k = 0; k < n && strcmp(l[k].name, m->names[i]); k++)
			;
		if (k == n) {
			free(l);
			return fa_err_set(err, -ENODEV, "no interface '%s' in this network namespace",
					  m->names[i]);
		}
	}
	for (i = 0; i < m->nnames && !r && !e->stop; i++)
		if (!by_name(e, m->names[i]))
			r = fa_engine_add_iface(e, m->names[i], err);
	for (k = 0; k < n && !r && !e->stop; k++)
		if (!fa_iface_named(m, l[k].name) && fa_iface_wanted(m, &l[k]) &&
		    !by_ifindex(e, l[k].ifindex))
			take_link(e, &l[k]);
	free(l);
	return r;
}

/* ---- the tick --------------------------------------------------------------------- */

static void sinks_tick(struct fa_engine *e, bool final)
{
	size_t i;

	for (i = 0; i < e->nsinks; i++)
		if (e->sinks[i].ops->tick)
			e->sinks[i].ops->tick(e->sinks[i].priv, final);
}

/*
 * The set's drain: one for every member, the leaving ones' flows out as
 * forced; once their records are out, each one's counters line, then its
 * rows and books go and it is out of the engine. @last: at shutdown, every
 * member unlinked, both tables drained and every flow out. 0, or the
 * drain's error (the records wait in the journal, as any tick's do).
 */
static int set_drain(struct fa_engine *e, __u64 now, bool flush, bool last)
{
	struct fa_engine_iface *w = e->setw, *x;
	struct fa_err err = {};
	size_t i, k;
	int r;

	w->s.leave = e->leave;
	w->s.nleave = e->nleave;
	r = last ? fa_stream_drain_other(&w->s, now, true, &e->records) :
		   fa_stream_drain(&w->s, now, flush, &e->records);
	w->s.leave = NULL;
	w->s.nleave = 0;
	if (r && w->s.rs.phase == FA_PHASE_COMMITTED) {
		sink_trouble(e, w, r);
		return r;
	}
	if (r) {
		/* Not committed: again from the pinned state, which the tables
		 * still complete. */
		NOTE(e, "the program set: a drain failed (%s); reloading its state",
		     strerror(-r));
		fa_stream_close(&w->s);
		w->open = false;
		if (!last && open_stream(e, w, &err)) {
			fa_log(&e->cfg.log, FA_LOG_ERR, "%s", err.msg);
			e->stop = true;
		}
		return r;
	}
	tick_done(e, w);
	for (i = 0; i < e->nleave; i++) {
		sinks_counters(e, &w->s, e->leave[i]);
		fa_set_forget(e->set, e->leave[i]);
		fa_stream_iface_forget(&w->s, e->leave[i]);
		for (k = 0; k < e->n; k++) {
			x = e->ifs[k];
			if (x->member && x->leaving && (__u32)x->ifindex == e->leave[i]) {
				if (!last)
					NOTE(e, "'%s': its flows are out and its counters written; its links and rows are removed",
					     x->name);
				drop(e, x);
				break;
			}
		}
	}
	e->nleave = 0;
	return 0;
}

void fa_engine_tick(struct fa_engine *e, bool flush)
{
	struct fa_err err;
	__u64 t0, t1, now;
	size_t i;
	int r;

	containers_look(e, fa_mono_ns());
	if (e->setw && e->setw->open && !e->set_final) {
		r = fa_stream_flip(&e->setw->s);
		if (r)
			NOTE(e, "can't flip the epoch of the program set: %s", strerror(-r));
	}
	for (i = 0; i < e->n; i++) {
		if (e->ifs[i]->leaving || e->ifs[i]->member)
			continue;
		r = fa_stream_flip(&e->ifs[i]->s);
		if (r)
			NOTE(e, "can't flip the epoch of '%s': %s", e->ifs[i]->name,
			     strerror(-r));
	}
	t0 = fa_mono_ns();
	r = fa_sync_wait(&e->sync);
	t1 = fa_mono_ns();
	if (r) {
		/* Without the wait a drain could lose counts: not this tick. */
		NOTE(e, "can't wait for an RCU grace period: %s", strerror(-r));
		return;
	}
	e->stats.flips++;
	e->stats.flip_ns_total += t1 - t0;
	if (t1 - t0 > e->stats.flip_ns_max)
		e->stats.flip_ns_max = t1 - t0;
	now = fa_mono_ns();
	for (i = 0; i < e->n; i++) {
		struct fa_engine_iface *w = e->ifs[i];

		if (w->leaving || w->member)
			continue;
		r = fa_stream_drain(&w->s, now, flush, &e->records);
		if (!r) {
			tick_done(e, w);
			continue;
		}
		if (w->s.rs.phase == FA_PHASE_COMMITTED) {
			sink_trouble(e, w, r);
			continue;
		}
		/*
		 * Not committed: the cache in memory may be past what is
		 * pinned. Start over from the pinned state, which the tables
		 * still complete.
		 */
		NOTE(e, "'%s': a drain failed (%s); reloading its state", w->name,
		     strerror(-r));
		fa_stream_close(&w->s);
		w->open = false;
		fa_err_clear(&err);
		if (open_stream(e, w, &err)) {
			fa_log(&e->cfg.log, FA_LOG_ERR, "%s", err.msg);
			e->stop = true;
		}
	}
	if (e->setw && e->setw->open && !e->set_final)
		set_drain(e, now, flush, false);
	leaving_retry(e);
	sinks_tick(e, false);
	heap_release_when_idle(e, fa_mono_ns());
}

/* ---- open, the loop, shutdown --------------------------------------------------- */

static int (*const sink_open[])(struct fa_engine *, struct fa_engine_sink *,
				struct fa_err *) = {
	fa_sink_json_open, fa_sink_ipfix_open, fa_sink_metrics_open,
};

/*
 * The socket programs, for the rows' processes and containers: a daemon
 * without them runs on, its rows without a process, as it would have been
 * run with --no-sockets.
 */
static void sockets_hold(struct fa_engine *e)
{
	struct fa_sockets_result res;
	bool attached;
	int fd;

	fd = fa_sockets_hold(&res, &attached);
	if (fd < 0) {
		NOTE(e, "runs without the socket programs (no process or container of a socket on the rows): %s%s%s",
		     res.step ? res.step : "", res.step ? ": " : "", strerror(-fd));
		return;
	}
	e->sockfd = fd;
	if (attached)
		NOTE(e, "socket programs attached at %s (detached when the last daemon using them exits)",
		     res.cgroup_root);
}

int fa_engine_open(struct fa_engine *e, const struct fa_engine_cfg *cfg,
		   struct fa_err *err)
{
	struct itimerspec its = {};
	size_t i;
	int r;

	memset(e, 0, sizeof(*e));
	e->cfg = *cfg;
	/* Without the set, each interface it attaches has a drop program of
	 * its own, as attach --drops gives it: of its own drops only. */
	if (!cfg->one_set && cfg->drops == FA_DROPS_ALL) {
		e->tfd = e->lfd = e->wfd = e->sockfd = e->drop_watch_fd = -1;
		e->sync.outer_fd = e->sync.inner_fd = -1;
		return fa_err_set(err, -EINVAL, "--drops all needs the program set (--layout set): with --layout iface each interface books its own");
	}
	if (!cfg->one_set)
		e->cfg.attach.drops = cfg->drops;
	e->tfd = e->lfd = e->wfd = e->sockfd = e->drop_watch_fd = -1;
	e->sync.outer_fd = e->sync.inner_fd = -1;
	e->started_ns = fa_mono_ns();
	e->records.write = write_records;
	e->records.ctx = e;
	/* The process's: the rows the control socket serves name them too. */
	fa_containers_root(cfg->container_root);
	for (i = 0; i < ARRAY_SIZE(sink_open); i++) {
		r = sink_open[i](e, &e->sinks[e->nsinks], err);
		if (r)
			return r;
		if (e->sinks[e->nsinks].ops)
			e->nsinks++;
	}
	heap_keep();
	e->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (e->tfd < 0)
		return fa_err_set(err, -errno, "can't make a timer: %s", strerror(errno));
	its.it_interval.tv_sec = cfg->interval_ms / 1000;
	its.it_interval.tv_nsec = cfg->interval_ms % 1000 * 1000000;
	its.it_value = its.it_interval;
	if (timerfd_settime(e->tfd, 0, &its, NULL))
		return fa_err_set(err, -errno, "can't set the timer: %s", strerror(errno));
	e->lfd = fa_ctl_listen(getpid());
	if (e->lfd < 0)
		return fa_err_set(err, e->lfd, "can't make the control socket under %s: %s",
				  FA_RUN_DIR, strerror(-e->lfd));
	r = fa_sync_open(&e->sync);
	if (r)
		return fa_err_set(err, r, "can't make the map whose update waits for programs: %s",
				  strerror(-r));
	/* As many tuples as the cache holds flows; without it, no join. */
	e->fwd = fa_fwd_join_new(cfg->cache_size);
	return 0;
}

void fa_engine_stop(struct fa_engine *e)
{
	e->stop = true;
}

bool fa_engine_stopping(const struct fa_engine *e)
{
	return e->stop;
}

void fa_engine_reopen(struct fa_engine *e)
{
	size_t i;

	for (i = 0; i < e->nsinks; i++)
		if (e->sinks[i].ops->reopen)
			e->sinks[i].ops->reopen(e->sinks[i].priv);
}

/* What the daemon takes as interfaces appear: ", following 'veth*' but not 'vethx*'". */
static const char *following(struct fa_engine *e, char *buf, size_t len)
{
	const struct fa_iface_match *m = &e->cfg.match;
	size_t i, n;

	buf[0] = '\0';
	if (e->wfd < 0 || (!m->nglobs && !m->all))
		return buf;
	snprintf(buf, len, ", following %s", m->all ? "every interface but lo" : "");
	for (i = 0; i < m->nglobs; i++) {
		n = strlen(buf);
		snprintf(buf + n, len - n, "%s'%s'", i ? ", " : "", m->globs[i]);
	}
	for (i = 0; i < m->nexclude; i++) {
		n = strlen(buf);
		snprintf(buf + n, len - n, "%s'%s'", i ? ", " : " but not ", m->exclude[i]);
	}
	return buf;
}

/* "running on ...": where everything goes, once. */
static void describe(struct fa_engine *e)
{
	char to[1024] = "", fol[512];
	size_t i, n;

	for (i = 0; i < e->nsinks; i++) {
		n = strlen(to);
		if (e->sinks[i].ops->describe && n < sizeof(to) - 1)
			e->sinks[i].ops->describe(e->sinks[i].priv, to + n, sizeof(to) - n);
	}
	NOTE(e, "running on %zu interface%s%s, a flip every %.3g s%s", e->n,
	     e->n != 1 ? "s" : "", following(e, fol, sizeof(fol)), e->cfg.interval_ms / 1000.0, to);
}

#define POLL_FIXED 4

static void loop(struct fa_engine *e)
{
	struct pollfd p[POLL_FIXED + FA_ENGINE_MAX_SINKS] = {
		{ .fd = e->cfg.wake_fd, .events = POLLIN },
		{ .fd = e->tfd, .events = POLLIN },
		{ .fd = e->lfd, .events = POLLIN },
		{ .fd = e->wfd, .events = POLLIN },
	};
	const struct fa_engine_sink *k;
	__u64 expirations;
	size_t i;

	for (i = 0; i < e->nsinks; i++) {
		k = &e->sinks[i];
		p[POLL_FIXED + i].fd = k->ops->poll_fd ? k->ops->poll_fd(k->priv) : -1;
		p[POLL_FIXED + i].events = POLLIN;
	}
	while (!e->stop) {
		/* The metrics server's connection timeouts are checked on each
		 * of its runs, and the timer runs us at least every interval. */
		if (poll(p, POLL_FIXED + e->nsinks, -1) < 0) {
			if (errno == EINTR)
				continue;
			NOTE(e, "poll: %s", strerror(errno));
			break;
		}
		if (p[0].revents && e->cfg.on_wake)
			e->cfg.on_wake(e->cfg.ctx, e);
		if (e->stop)
			break;
		if (p[1].revents && read(e->tfd, &expirations, sizeof(expirations)) > 0)
			fa_engine_tick(e, false);
		if (p[2].revents)
			fa_engine_serve(e);
		if (p[3].revents)
			links_changed(e);
		for (i = 0; i < e->nsinks; i++)
			if (e->sinks[i].ops->poll_run)
				e->sinks[i].ops->poll_run(e->sinks[i].priv);
	}
}

static void sinks_counters(struct fa_engine *e, const struct fa_stream *s, __u32 ifindex)
{
	size_t i;

	for (i = 0; i < e->nsinks; i++)
		if (e->sinks[i].ops->counters)
			e->sinks[i].ops->counters(e->sinks[i].priv, s, ifindex);
}

/*
 * Shutdown loses nothing: what we attached is detached first and a grace
 * period lets the last program runs end, so that nothing more is counted;
 * then the last flip and drain, every flow out as forced, and per interface
 * a counters line that the records add up to.
 */
static void shutdown_all(struct fa_engine *e)
{
	__u64 now;
	size_t i;
	int r;

	/* The last drains walk both tables, whatever the counters say. */
	if (e->setw)
		fa_stream_forget_marks(&e->setw->s);
	for (i = 0; i < e->n; i++) {
		struct fa_engine_iface *w = e->ifs[i];

		fa_stream_forget_marks(&w->s);
		if (w->open && w->ours && !w->leaving) {
			r = fa_detach(NULL, &w->s.p.state, w->s.p.state.ifindex);
			/* Deleted, its event not read yet: its programs went with it. */
			if (r == -ENODEV || !if_indextoname(w->ifindex, (char[IF_NAMESIZE]){ 0 }))
				w->device_gone = true;
			else if (r < 0)
				NOTE(e, "can't detach from '%s': %s", w->name, strerror(-r));
		}
	}
	/* The set's members: unlinked, every flow of theirs out below. */
	for (i = 0; e->set && i < e->n; i++)
		if (e->ifs[i]->member && !e->ifs[i]->leaving)
			set_leave(e, e->ifs[i]);
	/* No drop counted after the last drain. */
	fa_drop_prog_detach(e->drops);
	fa_sync_wait(&e->sync);
	if (e->setw && e->setw->open) {
		r = set_drain(e, fa_mono_ns(), true, true);
		e->set_final = true;
		e->setw->keep_state = r != 0;
		if (r)
			NOTE(e, "the program set: the last drain failed (%s): what it had is kept for the next run",
			     strerror(-r));
		else
			e->setw->released = true;
	}
	/* Its leaving ones are tried once more; what still fails stays. */
	fa_engine_tick(e, false);
	now = fa_mono_ns();
	for (i = 0; i < e->n; i++) {
		struct fa_engine_iface *w = e->ifs[i];

		if (w->leaving) {
			w->keep_state = true;
			NOTE(e, "'%s': its last records could not be written: they are kept for the next run",
			     w->name);
		}
		if (!w->open || w->leaving)
			continue;
		/* Detached: the table flipped to has no writer left. */
		if (w->ours)
			r = fa_stream_drain_other(&w->s, now, true, &e->records);
		else
			r = fa_stream_drain(&w->s, now, true, &e->records);
		w->keep_state = r != 0;
		if (r)
			NOTE(e, "'%s': the last drain failed (%s): what it had is kept for the next run",
			     w->name, strerror(-r));
		sinks_counters(e, &w->s, w->s.p.state.ifindex);
	}
	/* The final totals, to every collector, while the state is open. */
	sinks_tick(e, true);
	for (i = 0; i < e->n; i++) {
		struct fa_engine_iface *w = e->ifs[i];

		if (!w->open || w->keep_state)
			continue;
		if (w->ours) {
			fa_detach(w->dirname, &w->s.p.state,
				  w->device_gone ? 0 : w->s.p.state.ifindex);
			w->released = true;
		} else {
			fa_stream_unpin(&w->s, true);
		}
	}
}

void fa_engine_run(struct fa_engine *e)
{
	size_t i;

	e->started = true;
	/* Once started: a start that fails says one line and leaves them. */
	if (e->cfg.sockets)
		sockets_hold(e);
	describe(e);
	for (i = 0; i < e->nsinks; i++)
		if (e->sinks[i].ops->start)
			e->sinks[i].ops->start(e->sinks[i].priv);
	loop(e);
	shutdown_all(e);
}

void fa_engine_close(struct fa_engine *e)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		if (!e->started && e->ifs[i]->attached_now)
			NOTE(e, "'%s' detached again: the start failed", e->ifs[i]->name);
		iface_release(e, e->ifs[i], !e->started);
	}
	free(e->ifs);
	set_close(e);
	free(e->refused);
	e->refused = NULL;
	e->nrefused = 0;
	if (e->wfd >= 0)
		close(e->wfd);
	e->wfd = -1;
	e->ifs = NULL;
	e->n = 0;
	if (e->lfd >= 0) {
		close(e->lfd);
		fa_ctl_unlink(getpid());
	}
	if (e->tfd >= 0)
		close(e->tfd);
	if (e->sockfd >= 0 && fa_sockets_release(e->sockfd))
		NOTE(e, "socket programs detached: no other daemon uses them");
	e->sockfd = -1;
	fa_fwd_join_free(e->fwd);
	e->fwd = NULL;
	fa_sync_close(&e->sync);
	for (i = 0; i < e->nsinks; i++)
		if (e->sinks[i].ops->close)
			e->sinks[i].ops->close(e->sinks[i].priv);
	e->nsinks = 0;
}
