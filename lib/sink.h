/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Where a daemon's records and numbers go: JSON lines (sink_json.c), IPFIX
 * (sink_ipfix.c), Prometheus (sink_metrics.c). A new sink fills a struct
 * fa_sink_ops and is opened by fa_engine_open(); the engine calls it, it
 * never calls the engine back except to read it and to log.
 */
#ifndef FLOWACCT_SINK_H
#define FLOWACCT_SINK_H

#include "daemon.h"

struct fa_engine;

/* Every operation is optional (NULL: nothing to do). */
struct fa_sink_ops {
	const char *name;	/* "json", "ipfix", "metrics": in status and metrics */
	/*
	 * Records of @s leave: 0 once written (to the kernel: a killed daemon
	 * loses nothing it wrote), or -errno; the stream then keeps them in its
	 * journal and every sink gets them again, before anything else.
	 */
	int (*records)(void *priv, const struct fa_stream *s,
		       const struct fa_record *recs, size_t n, __u64 wall_off);
	/* @ifindex's counters in @s, once its last records left. */
	void (*counters)(void *priv, const struct fa_stream *s, __u32 ifindex);
	/* Once the interfaces are taken, before the first tick. */
	void (*start)(void *priv);
	/* After every tick; @final: the last, at shutdown, state still open. */
	void (*tick)(void *priv, bool final);
	/* SIGHUP: a file moved away by log rotation is written anew. */
	void (*reopen)(void *priv);
	/* An fd for the engine's poll, and what to do when it is ready. */
	int (*poll_fd)(void *priv);
	void (*poll_run)(void *priv);
	/* Appends "; records to ..." for the line that says where all goes. */
	void (*describe)(void *priv, char *buf, size_t len);
	/* Where the records go, for a line about records that wait. */
	const char *(*where)(void *priv);
	void (*close)(void *priv);
};

struct fa_engine_sink {
	const struct fa_sink_ops *ops;
	void *priv;
	/* Its writes that failed (records, or its own file), the last one's
	 * -errno; the engine's to read for status and metrics. */
	__u64 errors;
	int last_err;
};

/*
 * The sinks the engine has, each opened from e->cfg: 0 with *@sink set
 * (ops NULL: not configured), or -errno with @err said. They are opened in
 * this order, before anything is attached, so that a bad option leaves
 * nothing behind.
 */
int fa_sink_json_open(struct fa_engine *e, struct fa_engine_sink *sink, struct fa_err *err);
int fa_sink_ipfix_open(struct fa_engine *e, struct fa_engine_sink *sink, struct fa_err *err);
int fa_sink_metrics_open(struct fa_engine *e, struct fa_engine_sink *sink, struct fa_err *err);

#endif /* FLOWACCT_SINK_H */
