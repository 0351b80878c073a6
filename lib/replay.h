/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Replay: frames run through the programs with BPF_PROG_TEST_RUN, on
 * private maps. One frame runner that `flowacct replay`, the fuzzer and
 * the program tests share, and the loop that feeds it a capture's records.
 */
#ifndef FLOWACCT_REPLAY_H
#define FLOWACCT_REPLAY_H

#include "attach.h"
#include "table.h"

/* The program a frame runs through: each ingress hook, or TC egress. */
enum fa_replay_hook { FA_REPLAY_XDP, FA_REPLAY_TC_EGRESS, FA_REPLAY_TC_INGRESS };

/*
 * Largest frame each program type can be run with. An skb test run holds
 * one page less headroom and shared info; XDP with frags takes up to
 * MAX_SKB_FRAGS more pages. Longer frames are run cut, as if by a snaplen,
 * and judged by their wire length like any cut frame.
 */
#define FA_TC_RUN_MAX	3500
#define FA_XDP_RUN_MAX	(17 * 4096)	/* 17 pages: a whole 66000-byte jumbogram */

/* Bytes a frame's buffer needs past its cap_len, for fa_frame_run()'s padding. */
#define FA_FRAME_PAD	(14 + 40)

/* One frame, as fa_frame_run() takes it. */
struct fa_frame {
	__u8 *buf;		/* the frame, with FA_FRAME_PAD bytes of room after it */
	__u32 cap_len;		/* bytes of it we have */
	__u32 wire_len;		/* bytes it had on the wire */
	__u64 ts_ns;		/* when it was seen */
	const void *ctx;	/* TC: a struct __sk_buff to run with, or NULL */
	__u32 ctx_size;
	void *out;		/* where the frame comes back, or NULL */
	__u32 out_size;
};

/* What one run did. */
struct fa_frame_ran {
	__u32 retval;		/* the program's verdict */
	__u32 run_len;		/* bytes run (padded, or cut to the hook's limit) */
	__u32 out_len;		/* bytes that came back in f->out */
};

/**
 * fa_frame_run() - run one frame through one of a skeleton's programs
 * @skel: loaded by fa_progs_load(); with .replay, the frame is padded to
 *	what the kernel runs, cut to the hook's limit, and the program told
 *	its real and wire lengths and time (the buffer is changed)
 * @hook: enum fa_replay_hook
 * @f: the frame
 * @ran: what happened; filled in whatever the result
 *
 * Return: 0, -EBADMSG when the program returned a verdict other than pass,
 * or -errno from BPF_PROG_TEST_RUN.
 */
int fa_frame_run(struct flowacct_bpf *skel, int hook, struct fa_frame *f,
		 struct fa_frame_ran *ran);

/* The direction a hook accounts: FLOW_DIR_EGRESS or FLOW_DIR_INGRESS. */
int fa_replay_dir(int hook);

struct fa_replay_opts {
	int hook;			/* enum fa_replay_hook */
	/* The map mode, table size and sampling (ifname and ingress unused). */
	const struct fa_attach_opts *attach;
	const char *write;		/* the sampled frames go here, or NULL */
	bool pcapng;
};

struct pcap;
struct perf_buffer;

/* One replay of a capture: fa_replay_open(), _run(), _snapshot(), _close(). */
struct fa_replay {
	struct fa_replay_opts o;
	const char *file;
	struct pcap *pcap;
	int dlt;
	struct flowacct_bpf *skel;
	struct fa_sample_writer *w;
	struct perf_buffer *pb;
	struct fa_frame f;
	__u64 frames;			/* records read and run */
	int hook[FLOW_NR_DIRS];		/* enum fa_hook of each direction */
	bool libbpf_said;		/* an error: libbpf's log tells more */
};

/**
 * fa_replay_open() - open a capture and load the programs to replay it
 * @r: the replay, zeroed by the caller; fa_replay_close() it in any case
 * @file: a pcap or pcapng capture of Ethernet, Linux cooked or raw IP
 * @o: which program, maps and sampling
 * @e: on failure, one line
 *
 * Return: 0 or -errno.
 */
int fa_replay_open(struct fa_replay *r, const char *file,
		   const struct fa_replay_opts *o, struct fa_err *e);

/**
 * fa_replay_run() - every record of the capture through the program
 * @r: opened
 * @e: on failure, one line naming the frame
 *
 * Sampled frames go to the writer as they come.
 *
 * Return: 0, -EBADMSG (a verdict other than pass), or -errno.
 */
int fa_replay_run(struct fa_replay *r, struct fa_err *e);

/**
 * fa_replay_snapshot() - the flows and counters the replay left
 * @r: run
 * @s: zeroed by the caller; freed with fa_snapshot_free()
 * @e: on failure, one line
 *
 * Only the hook that ran has counters. Times are the capture's.
 *
 * Return: 0 or -errno.
 */
int fa_replay_snapshot(struct fa_replay *r, struct fa_snapshot *s, struct fa_err *e);

/* Frees what fa_replay_open() made. Returns -EIO if writing the samples
 * failed at any point. */
int fa_replay_close(struct fa_replay *r);

#endif /* FLOWACCT_REPLAY_H */
