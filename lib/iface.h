/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libflowacct's pins and interfaces: the names every output prints, the
 * clocks, privileges and bpffs, the pins of an attached interface, its
 * lock, the programs, and interface names as a snapshot saw them. Every
 * other area header builds on this one: it brings the structs shared with
 * the programs (common/) and the rules of user space (no u32).
 */
#ifndef FLOWACCT_IFACE_H
#define FLOWACCT_IFACE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#include <linux/types.h>

#include "flow_kern_user.h"
#include "flow_pins.h"
#include "flow_sock.h"
#include "flow_drop.h"
#include "diag.h"

/* Poison the kernel's short type names: user space says __u32 or uint32_t. */
#pragma GCC poison u8 u16 u32 u64 s8 s16 s32 s64

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct flowacct_bpf;

/* ---- names (names.c) ---------------------------------------------------- */

const char *fa_counter_name(int idx);
int fa_counter_kind(int idx);
const char *fa_direction_name(int dir);
const char *fa_proto_name(__u8 proto);	/* NULL when we have none */
const char *fa_end_reason_name(int reason);
const char *fa_ingress_name(int hook);
const char *fa_ingress_reason_name(int why);
const char *fa_tc_api_name(int api);	/* enum fa_tc_api: "clsact", "tcx" */
const char *fa_sample_mode_name(int mode);

/* ---- time (clock.c) ----------------------------------------------------- */

/* CLOCK_MONOTONIC ns: the clock the programs stamp flows with. */
__u64 fa_mono_ns(void);

/* ---- the programs' clock (clock.c) -------------------------------------- */

/*
 * Live tables hold the low 32 bits of jiffies (replay's hold capture ns);
 * a clock read before a table turns them into CLOCK_MONOTONIC ns as it is
 * read. A pair read now, and the kernel's HZ.
 */
struct fa_tick_clock {
	__u64 ticks;
	__u64 mono_ns;
	unsigned int hz;
};

/*
 * The clock is read by running a small BPF program once. A caller that
 * reads it every tick (a daemon's stream) loads the program once and owns
 * it here; prog_fd is -1 when closed.
 */
struct fa_tick_src {
	int prog_fd;
};

/**
 * fa_tick_src_open() - load the program that reads the programs' clock
 * @src: set to the loaded program; close with fa_tick_src_close()
 *
 * Return: 0, or -errno of the load (no BPF privileges: -EPERM).
 */
int fa_tick_src_open(struct fa_tick_src *src);
/* Closes @src's program, if open, and marks it closed; again is harmless. */
void fa_tick_src_close(struct fa_tick_src *src);

/**
 * fa_tick_src_read() - read jiffies and the monotonic clock together
 * @src: a program from fa_tick_src_open(), or NULL to load one for this read
 * @c: set to the pair and the kernel's HZ
 *
 * Return: 0, -errno of the load or the test run, -EPROTO if the program
 * returned no time.
 */
int fa_tick_src_read(const struct fa_tick_src *src, struct fa_tick_clock *c);
/* fa_tick_src_read(NULL, @c): for one read. */
int fa_tick_clock_read(struct fa_tick_clock *c);
/*
 * @ticks, the low 32 bits of a tick count from less than 2^32 - 2^20 ticks
 * before the clock was read to 2^20 ticks after it, in CLOCK_MONOTONIC ns.
 */
__u64 fa_ticks_to_mono(const struct fa_tick_clock *c, __u32 ticks);

/* ---- privileges and bpffs (pins.c) ------------------------------------- */

#define FA_PIN_ROOT	"/sys/fs/bpf/flowacct"

enum fa_need {
	FA_NEED_BPF = 1 << 0,	/* CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON (or CAP_SYS_ADMIN) */
	FA_NEED_ROOT = 1 << 1,	/* uid 0: the pins are root's, mode 0700 */
};
/* 0, or -EPERM with @missing naming what is missing ("CAP_PERFMON"). */
int fa_check_privileges(unsigned int need, char *missing, size_t len);

/*
 * Makes sure pins can be made and found at /sys/fs/bpf. Returns 0, -ENOENT
 * (not mounted and not asked to mount), -EXDEV (a mount namespace made for
 * this one command, as 'ip netns exec' gives, where pins would vanish with
 * it), or another -errno.
 */
int fa_bpffs_prepare(bool mount_if_missing);

/* ---- the pins of one attached interface (pins.c) ------------------------ */

enum fa_pin {
	FA_PIN_FLOWS_0,
	FA_PIN_FLOWS_1,
	FA_PIN_OVERFLOW,
	FA_PIN_STATS,
	FA_PIN_SAMPLE_CFG,
	FA_PIN_SAMPLES,
	FA_PIN_EPOCH,
	FA_PIN_STATE,
	FA_PIN_OWNERS,
	FA_PIN_TCP_SEQ,
	FA_PIN_RTT,
	/* The drop program's (a daemon's program set with --drops). */
	FA_PIN_DROPS_0,
	FA_PIN_DROPS_1,
	FA_PIN_DROP_STATS,
	FA_PIN_DROP_WATCH,
	/* --decap inner's tunnels (an attachment from before has none). */
	FA_PIN_TUNNELS,
	FA_NR_PINS,
};

/* Which drops a daemon's drop program puts in the books (--drops). */
enum fa_drops_mode {
	FA_DROPS_OFF = 0,
	FA_DROPS_ATTACHED = 1,	/* on the interfaces it watches */
	FA_DROPS_ALL = 2,	/* on every interface of its network namespace */
};

struct fa_pinned {
	char dir[64];			/* its directory under FA_PIN_ROOT */
	struct fa_attach_state state;
	int fd[FA_NR_PINS];
};

void fa_pinned_close(struct fa_pinned *p);

/* One pin directory as found: its record, or why it could not be read. */
struct fa_pin_entry {
	char dirname[64];
	int err;			/* 0, or -errno from reading the record */
	struct fa_attach_state state;	/* when !err */
};

/* ---- locks (lock.c) ----------------------------------------------------- */

/*
 * A per-interface lock under /run/flowacct, held by attach and detach while
 * they work and by `flowacct run` for as long as it runs. The lock file
 * holds the holder's pid and what it is, so a refusal can name it. The
 * kernel drops the lock when the holder dies, kill -9 included.
 */
enum fa_lock_kind { FA_LOCK_ADMIN, FA_LOCK_RUN, FA_LOCK_CAPTURE };

/*
 * fd -1: not held. The file is removed on release when nothing is left for
 * it to guard (a capture's always; attach's and a daemon's once the
 * attachment's pins are gone), so that no file stays for every interface
 * ever seen.
 */
struct fa_lock {
	int fd;
	enum fa_lock_kind kind;
	char dirname[64];
};

void fa_lock_release(struct fa_lock *l);

/* ---- the programs (progs.c) --------------------------------------------- */

enum fa_prog {
	FA_PROG_XDP = 1 << 0,
	FA_PROG_TC_EGRESS = 1 << 1,
	FA_PROG_TC_INGRESS = 1 << 2,
};

/* --vxlan-port: VXLAN's ports besides 4789 and 8472, host order; 0: none. */
struct fa_vxlan_ports {
	__u16 port[FLOW_VXLAN_EXTRA_PORTS];
};

struct fa_load_opts {
	bool shared;		/* BPF_MAP_TYPE_HASH with atomic adds */
	__u32 max_flows;	/* of each epoch's table */
	bool replay;		/* lengths and time from flow_replay_frame */
	unsigned int progs;	/* FA_PROG_*: only these are loaded */
	bool owners;		/* TC egress notes new rows' sockets (flow_owners) */
	bool retrans;		/* TCP retransmissions tracked (flow_tcp_seq) */
	bool passive_rtt;	/* RTT from TCP timestamps (flow_ts_seen, flow_rtt) */
	bool per_iface;		/* a program set: counters and overflow rows per interface */
	__u8 decap;		/* enum flow_decap */
	/* With decap: the tables an earlier release keyed without the tunnel's
	 * tag (an adopted program set's), loaded on as they are. */
	bool keys_untagged;
	struct fa_vxlan_ports vxlan;
	/* flow_stats' counters, if fewer than this release's (an adopted
	 * program set of the release before); 0: all of them. */
	__u8 nr_counters;
};

/* fa_progs_open() and load. */
int fa_progs_load(const struct fa_load_opts *o, struct flowacct_bpf **skel);
/* The fd of each pinnable map of a loaded skeleton, in enum fa_pin order
 * (FA_PIN_STATE: -1). */
void fa_progs_map_fds(struct flowacct_bpf *skel, int fd[FA_NR_PINS]);
struct bpf_object;
void fa_obj_map_fds(struct bpf_object *obj, int fd[FA_NR_PINS]);
/* The tables' type and size in another build of the same programs. */
int fa_obj_configure(struct bpf_object *obj, const struct fa_load_opts *o);

/* ---- interface names (ifnames.c) -------------------------------------------- */

/* ifindex -> name, for the rows of one snapshot (one network namespace). */
struct fa_names {
	size_t n;
	struct {
		__u32 ifindex;
		char name[FA_IFNAMSIZ];
	} *v;
};
int fa_names_add(struct fa_names *m, __u32 ifindex, const char *name);
void fa_names_free(struct fa_names *m);

#endif /* FLOWACCT_IFACE_H */
