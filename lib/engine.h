/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The daemon as a library engine (engine.c): it takes interfaces (adopts
 * what is attached, or attaches), and every interval flips the epoch of
 * each, waits one RCU grace period for all of them, drains the old tables
 * into its flow caches and hands the records that leave to its sinks
 * (sink.h). One loop on a timerfd, the control socket (ctl_server.c), the
 * sinks' fds and an fd of the caller's (its signals); a clean shutdown
 * loses nothing. It prints nothing: what happens goes to cfg.log, errors
 * to a struct fa_err.
 */
#ifndef FLOWACCT_ENGINE_H
#define FLOWACCT_ENGINE_H

#include "attach.h"
#include "daemon.h"
#include "export.h"
#include "query.h"
#include "sink.h"

#define FA_ENGINE_MAX_SINKS 4

/* ---- which interfaces a daemon follows (ifwatch.c) ------------------------------ */

/*
 * Named interfaces must exist when the daemon starts and are taken under
 * any name they are renamed to; the others are taken while their name
 * matches a glob (or any name but loopback's with all) and no exclude.
 */
struct fa_iface_match {
	const char *const *names;
	size_t nnames;
	const char *const *globs;	/* fnmatch(3) patterns */
	size_t nglobs;
	const char *const *exclude;
	size_t nexclude;
	bool all;
};

/* An interface of this network namespace, as rtnetlink says it. */
struct fa_link {
	int ifindex;
	unsigned int flags;		/* IFF_* */
	char name[FA_IFNAMSIZ];
	/*
	 * An RTM_DELLINK that is a move to another network namespace: the id
	 * this namespace has for that one (-1: not said) and the index the
	 * device has there (0: not said).
	 */
	bool moved;
	int new_nsid;
	int new_ifindex;
	/* The id this namespace has for the peer's (a veth's other end in
	 * another namespace: a container's); -1: none, or the same. */
	int link_nsid;
};

bool fa_iface_named(const struct fa_iface_match *m, const char *name);
bool fa_iface_wanted(const struct fa_iface_match *m, const struct fa_link *l);

struct fa_engine_cfg {
	__u64 interval_ms;		/* a flip every */
	__u64 idle_ms, active_ms, quiet_ms;	/* the cache's timeouts */
	__u32 cache_size;		/* flows per interface; the set's, with one_set */
	/*
	 * How to attach an interface that is not attached (ifname unused),
	 * and what an attachment must be to be adopted: fa_iface_attach()'s
	 * FA_IFACE_ANY_* of the options left unset.
	 */
	struct fa_attach_opts attach;
	unsigned int attach_flags;
	/*
	 * The interfaces it attaches join one program set, the daemon's
	 * (loaded once, one pair of tables and one cache for all of them),
	 * pinned as "run-net<ino>-d<ipfix_domain>"; an interface attached by
	 * `flowacct attach` is still adopted as it is.
	 */
	bool one_set;
	/* The socket programs attached (unless they are) and held while it
	 * runs: the rows' processes and containers. */
	bool sockets;
	/* Drops in the books (enum fa_drops_mode): the program set's only.
	 * Unless asked for, a kernel that can't gives none, with a note. */
	int drops;
	bool drops_asked;
	/* The interfaces fa_engine_follow() takes and follows. */
	struct fa_iface_match match;
	int link_events_buffer;		/* bytes; 0: the default (a test makes it small) */
	/* Sinks: each NULL or 0 when not wanted. */
	const char *json;		/* a file, "-" standard output */
	const char *ipfix[FA_IPFIX_MAX_COLLECTORS];	/* HOST[:PORT] */
	size_t nipfix;
	__u32 ipfix_domain;
	__u32 ipfix_max_message;
	__u64 ipfix_refresh_ms;
	__u32 ipfix_pen;		/* flowacct's elements under it; 0: none */
	const char *metrics;		/* ADDR:PORT */
	const char *metrics_file;	/* PATH.prom */
	/* Containers with Prometheus series of their own; past it "other". */
	__u32 metrics_containers;
	/* Where the container runtimes' files are read (NULL: /). */
	const char *container_root;
	/* Polled with the rest: @on_wake runs when it is readable (the
	 * caller's signalfd, which calls fa_engine_stop or _reopen). */
	int wake_fd;
	void (*on_wake)(void *ctx, struct fa_engine *e);
	void *ctx;
	struct fa_log log;
};

/* One interface under the engine. */
struct fa_engine_iface {
	char name[FA_IFNAMSIZ];		/* as given */
	char dirname[64];
	int ifindex;
	__u32 cache_size;		/* a stale attachment's cache file's; 0: cfg's */
	struct fa_lock lock;
	struct fa_stream s;
	bool open;
	bool ours;			/* attached by a `run`: detached on exit */
	bool keep_state;		/* the last drain failed: for the next run */
	bool attached_now;		/* attached by this engine, not adopted */
	/*
	 * Followed no more (gone, or renamed out of the match): detached,
	 * its last drain not yet out, retried each tick until it is.
	 */
	bool leaving;
	bool device_gone;
	bool released;			/* its pins removed at shutdown: its files go too */
	/* Linked to the daemon's program set: its records and rows are in
	 * the set's stream (fa_engine_stream()), s is not used. */
	bool member;
	struct fa_set_member m;
	__u64 last_tick_ns;		/* the last tick whose records all went out */
	__u64 trouble_since_ns;		/* a sink first refused the records; 0: none */
	__u64 trouble_errors;		/* failed writes since */
	/*
	 * Its peer's container (a veth's host end), looked up at the first
	 * tick after it was taken and at each tick after until found, until
	 * two looks in a row found processes there in no container (one may
	 * be a tool's, passing: nsenter, a CNI plugin), or for the window
	 * (a container's process may join its namespace after the veth is
	 * made); not kept across a restart. A namespace with no process in
	 * it is looked at again after gaps that double from one interval
	 * (a look walks /proc: milliseconds on a busy host).
	 */
	bool has_container;
	bool container_settled;
	int container_nones;		/* looks in a row that found none */
	__u64 container_first_look_ns;	/* 0: not looked yet */
	__u64 container_next_look_ns;	/* not before */
	__u64 container_gap_ns;		/* the last gap between two looks */
	struct fa_container container;
};

struct fa_engine_stats {
	__u64 flips, flip_ns_total, flip_ns_max;
	__u64 json_records;		/* JSON lines of records written */
};

struct fa_engine {
	struct fa_engine_cfg cfg;
	struct fa_engine_iface **ifs;
	size_t n;
	struct fa_sync sync;
	int tfd, lfd;
	struct fa_engine_sink sinks[FA_ENGINE_MAX_SINKS];
	size_t nsinks;
	int failed_sink;		/* the sink the last records write failed in */
	struct fa_sink records;		/* the streams' way to the sinks */
	const struct fa_ipfix *ipfix;	/* the IPFIX sink's, for metrics */
	struct fa_engine_stats stats;
	__u64 last_sink_error_ns;
	__u64 last_request_ns, last_trim_ns;
	size_t trimmed_free;	/* heap free (fordblks) after the last trim, or less since */
	/* Files and memory the interfaces taken will take as they fill (the
	 * memory guard's part of them not yet in use). */
	__u64 promised;
	__u64 started_ns;		/* fa_engine_open() */
	int wfd;			/* link events, when following; else -1 */
	int sockfd;			/* the socket programs held (fa_sockets_hold); -1: not */
	/* The tuples of the flows of containers' interfaces, for the same
	 * flows forwarded on to other interfaces (NULL: not joined). */
	struct fa_fwd_join *fwd;
	__u64 fwd_swept_ns;
	/* Interfaces with a container, as of the last tick's look (only a
	 * look sets one): 0 spares a plain host's records any lookup. */
	size_t with_container;
	struct fa_link *refused;	/* wanted, but could not be taken: not retried */
	size_t nrefused;
	__u64 ifaces_taken, ifaces_left, ifaces_refused;
	bool need_resync;		/* a full dump, after lost events or a leave */
	/*
	 * cfg.one_set: the set, and its stream as an interface of its own
	 * (not in ifs: its name and dirname are the set's); the members
	 * that left, whose last flows go out in the next tick.
	 */
	struct fa_set *set;
	struct fa_engine_iface *setw;
	struct fa_drop_prog *drops;	/* the set's drop program, or NULL */
	int drop_watch_fd;		/* its interfaces (borrowed), or -1 */
	bool set_made;			/* by this engine, not adopted */
	bool set_final;			/* its last drain is done (or failed): no more ticks */
	__u32 *leave;
	size_t nleave, leave_cap;
	bool started;			/* fa_engine_run(): interfaces are no longer rolled back */
	bool stop;
};

/*
 * Opens the sinks (records file, IPFIX collectors, metrics), the timer,
 * the control socket and the grace-period map. Keeps freed memory in the
 * process's heap for the next request (see engine.c). 0, or -errno with
 * @err said; fa_engine_close() either way.
 */
int fa_engine_open(struct fa_engine *e, const struct fa_engine_cfg *cfg,
		   struct fa_err *err);
/*
 * Takes @ifname: adopts what is attached there if it is what cfg asks for
 * (refuses with a line saying what differs), else clears what a killed
 * attach left and attaches; then opens its stream (finishing a tick a
 * killed daemon had not). Callable before fa_engine_run() and from the
 * loop. 0, or -errno with @err said and nothing of @ifname kept.
 */
int fa_engine_add_iface(struct fa_engine *e, const char *ifname, struct fa_err *err);
/*
 * Takes every interface cfg.match names (all or nothing: one that does not
 * exist or can't be taken fails the start, and fa_engine_close() detaches
 * what was attached for it) and every one its patterns match (one that
 * can't be taken is said and skipped), then follows the namespace's
 * interfaces through rtnetlink: one that appears and is wanted is taken, one
 * that goes (or is renamed out of the match) leaves: its last drain, its
 * flows out as forced, its counters, its pins and files removed.
 */
int fa_engine_follow(struct fa_engine *e, struct fa_err *err);
/*
 * Attachments whose interface or network namespace is gone and that no one
 * holds (a daemon killed, then its namespace deleted), found in every
 * namespace: their tables' and cache's rows go out as records to the
 * sinks, under their own instance and sequence numbers, with a counters
 * line each; then everything of them is removed. fa_engine_follow() does
 * it first. Returns how many could not be released (their records could
 * not be written: they stay, for a next try), or -errno with @err said.
 */
int fa_engine_release_stale(struct fa_engine *e, struct fa_err *err);
/* Logs where everything goes, then runs the loop until fa_engine_stop(),
 * then shuts down: every flow out, nothing lost. */
void fa_engine_run(struct fa_engine *e);
void fa_engine_stop(struct fa_engine *e);
/* Whose ticks @w's are: its own, or (a member) the set's stream's. */
const struct fa_engine_iface *fa_engine_ticker(const struct fa_engine *e,
					       const struct fa_engine_iface *w);
/* The stream @w's records, rows and books are in: its own, or the set's. */
struct fa_stream *fa_engine_stream(const struct fa_engine *e, const struct fa_engine_iface *w);
/* The container of the interface @ifindex, leaving or not; NULL: none known. */
const struct fa_container *fa_engine_container(const struct fa_engine *e, __u32 ifindex);
/*
 * The container of a record's flow when its socket names none: its
 * interface's, else (a flow forwarded from a container's interface) the
 * container of the interface its tuple was seen on; NULL: none.
 */
const struct fa_container *fa_engine_flow_container(const struct fa_engine *e,
						    const struct flow_key *k);
/* Whether @w's stream is open (its counters and records can be read). */
bool fa_engine_counting(const struct fa_engine *e, const struct fa_engine_iface *w);
/* Health: how long since @w's last tick whose records all went out (since
 * the start before the first), and the records that wait for a sink. */
__u64 fa_engine_tick_lag_ns(const struct fa_engine *e, const struct fa_engine_iface *w);
__u64 fa_engine_delayed_records(const struct fa_engine *e, const struct fa_engine_iface *w);
/* Stopped: take no more interfaces (fa_engine_add_iface() looks for the
 * caller's signals after each), run to shut down at once. */
bool fa_engine_stopping(const struct fa_engine *e);
/* Log rotation: each sink reopens its file. */
void fa_engine_reopen(struct fa_engine *e);
/* Releases everything (an interface attached for a run that failed to
 * start, before fa_engine_run(), is detached again). */
void fa_engine_close(struct fa_engine *e);

#endif /* FLOWACCT_ENGINE_H */
