/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Attaching an interface as the commands and the daemon do it: the attach
 * options as given on a command line, checked and turned into struct
 * fa_attach_opts once, and one function that locks the interface, clears
 * what a killed attach left, adopts or attaches, and says why it could not;
 * detaching it, its sampling settings, and the socket programs (attached
 * once per host) and their tables; which attachments are stale (their
 * namespace or interface gone) and the files they leave. The hooks
 * themselves are attached by attach.c, which only lib calls (internal.h).
 */
#ifndef FLOWACCT_ATTACH_H
#define FLOWACCT_ATTACH_H

#include "iface.h"

/* ---- attach and detach (attach.c) ------------------------------------------ */

/* Which TC API the TC hooks are attached with (--tc-api). */
enum fa_tc_ask {
	FA_TC_ASK_AUTO = 0,	/* TCX where the kernel has it, else clsact */
	FA_TC_ASK_TCX,
	FA_TC_ASK_CLSACT,
};

struct fa_attach_opts {
	const char *ifname;
	int ingress;		/* enum fa_ingress_hook; 0: choose by driver */
	int tc_api;		/* enum fa_tc_ask */
	bool shared;
	__u32 max_flows;
	struct flow_sample_config sample;
	bool by_run;
	bool owners;		/* --attribution */
	bool retrans;		/* --retrans */
	bool passive_rtt;	/* --passive-rtt */
	__u8 decap;		/* enum flow_decap (--decap) */
	struct fa_vxlan_ports vxlan;	/* --vxlan-port */
	int drops;		/* enum fa_drops_mode: a drop program of its own */
	/* What the caller adds for this interface (a daemon's cache), for
	 * fa_iface_attach()'s memory guard: files under FA_RUN_DIR, and its
	 * own memory. */
	__u64 more_files, more_process;
};

/* How far attach got: where it failed, for the caller's message. */
enum fa_attach_step {
	FA_STEP_RECORD = 1,	/* pinning the attach record */
	FA_STEP_LOAD,		/* loading the programs */
	FA_STEP_XDP,		/* attaching XDP */
	FA_STEP_SAMPLING,
	FA_STEP_QDISC,		/* creating clsact (the clsact API only) */
	FA_STEP_TC_INGRESS,
	FA_STEP_TC_EGRESS,
	FA_STEP_PIN,		/* pinning the maps */
	FA_STEP_DROPS,		/* the drop program (--drops) */
};

struct fa_attach_result {
	struct fa_attach_state state;
	char dirname[64];
	enum fa_attach_step step;	/* the step that failed */
};

/* ---- the socket programs (sockets.c) ---------------------------------------- */

/* Host-wide, apart from the interfaces' pins. */
#define FA_SOCK_PIN_ROOT	"/sys/fs/bpf/flowacct-sockets"
/* Held (shared) by each daemon that uses them; taken (exclusive) while a
 * daemon decides to attach them or to detach them; there while a daemon's
 * attachment of them stands: detached when the last of them exits. */
#define FA_SOCK_LOCK		"/run/flowacct/sockets.lock"
#define FA_SOCK_DECIDE		"/run/flowacct/sockets.decide"

struct fa_sockets_result {
	char cgroup_root[256];	/* the cgroup v2 mount attached to */
	size_t namespaces;	/* network namespaces walked for existing sockets */
	int procs_filled;	/* existing sockets whose process /proc named */
	const char *step;	/* where it failed, or NULL */
};

/* Where cgroup v2 is mounted (/sys/fs/cgroup, or .../unified on a hybrid). */
int fa_cgroup2_mount(char *buf, size_t len);
/*
 * Attaches the socket programs at the cgroup v2 root and pins them; adopts
 * the TCP connections of every network namespace. -EEXIST if attached.
 * On failure nothing stays attached or pinned.
 */
int fa_sockets_attach(struct fa_sockets_result *res);
/* Unpins (and so detaches) them. Returns how many pins it removed. */
int fa_sockets_detach(void);
bool fa_sockets_attached(void);
/*
 * A daemon's use of the socket programs: attached now unless they are
 * (by hand, or by another daemon), and held (a shared lock on
 * FA_SOCK_LOCK) while the returned fd is open. *@attached: this call
 * attached them. -errno (with @res->step) if they are not and can't be.
 */
int fa_sockets_hold(struct fa_sockets_result *res, bool *attached);
/*
 * Lets go of them: detached if a daemon attached them and no other daemon
 * holds them now (a daemon killed holds nothing: the next one adopts
 * them). Returns whether it detached them.
 */
bool fa_sockets_release(int fd);
/* Whether a daemon attached them (not a hand's `sockets attach`). */
bool fa_sockets_by_run(void);

/* ---- attaching an interface (iface_attach.c) ------------------------------- */

/*
 * The attach options as parsed, before any default is applied: what attach,
 * run and replay embed in their own options. For a daemon, a value left
 * "unset" means "as attached, or the default".
 */
struct fa_attach_args {
	int ingress;		/* enum fa_ingress_hook; 0 auto; -1 unset */
	int xdp_mode;		/* 0, FA_INGRESS_XDP_NATIVE or FA_INGRESS_XDP_SKB */
	int tc_api;		/* enum fa_tc_ask; a daemon adopts any under auto */
	int shared;		/* 0 percpu, 1 shared; -1 unset (shared) */
	__u32 max_flows;	/* 0 unset (FLOW_DEFAULT_MAX_FLOWS) */
	__u32 sample_rate;	/* 0: off */
	int sample_mode;	/* FLOW_SAMPLE_* */
	__u32 snaplen;
	bool attribution;	/* TC egress notes the socket of new rows */
	bool retrans;
	bool passive_rtt;
	int decap;		/* enum flow_decap */
	struct fa_vxlan_ports vxlan;
	bool force_memory;	/* attach what the memory guard would refuse */
};

/* What `attach` starts from; a daemon starts from FA_ATTACH_ARGS_UNSET. */
#define FA_ATTACH_ARGS_DEFAULTS					\
	{ .shared = 1, .max_flows = FLOW_DEFAULT_MAX_FLOWS,		\
	  .snaplen = FLOW_DEFAULT_SNAPLEN }
#define FA_ATTACH_ARGS_UNSET					\
	{ .ingress = -1, .shared = -1, .snaplen = FLOW_DEFAULT_SNAPLEN }

/* How fa_iface_attach() treats an interface that is attached already. */
enum fa_iface_flags {
	/* Take a complete attachment that matches as it is (a daemon). */
	FA_IFACE_ADOPT = 1 << 0,
	/* With FA_IFACE_ADOPT, whatever map mode and table size it has. */
	FA_IFACE_ANY_MAP = 1 << 1,
	FA_IFACE_ANY_MAX_FLOWS = 1 << 2,
	/* No refusal of what would take more memory than is available. */
	FA_IFACE_ANY_MEMORY = 1 << 3,
};

/**
 * fa_attach_args_resolve() - check the attach options and apply defaults
 * @a: the options as parsed
 * @o: filled in, all but ifname and by_run
 * @flags: gets FA_IFACE_ANY_* for each option left unset (for a daemon's
 *	FA_IFACE_ADOPT)
 * @e: the reason, when refused
 *
 * Return: 0, or -EINVAL when the options contradict each other (--mode
 * with --ingress tc).
 */
int fa_attach_args_resolve(const struct fa_attach_args *a,
			   struct fa_attach_opts *o, unsigned int *flags,
			   struct fa_err *e);

/* What fa_iface_attach() did. */
struct fa_iface_result {
	struct fa_attach_result attach;	/* the state, dirname, failed step */
	/*
	 * Held on success, the caller releases it: FA_LOCK_RUN when
	 * by_run (for as long as the daemon runs), else FA_LOCK_ADMIN.
	 */
	struct fa_lock lock;
	bool adopted;		/* it was attached already: taken as it is */
	bool libbpf_said;	/* on error: libbpf's log tells more */
	/*
	 * A stale attachment under the same name, released before attaching
	 * (0: none): a dead namespace's whose inode this one got
	 * (FA_STALE_NETNS_GONE), or an attach killed half-way
	 * (FA_STALE_HALF_MADE); the caller says so. Its rows were not written.
	 */
	int released_why;	/* enum fa_stale_why */
	char released_ifname[FA_IFNAMSIZ];	/* its name at attach, "" if unknown */
	__u64 released_rows;	/* rows its two tables held */
};

/**
 * fa_iface_attach() - attach one interface, or adopt its attachment
 * @o: what to attach (fa_attach_args_resolve()); o->by_run takes the
 *	daemon's lock instead of attach's
 * @flags: enum fa_iface_flags
 * @res: filled in; res->lock is held on success
 * @e: on failure, one line: which interface, what failed, what to try
 *
 * Takes the interface's lock, clears what a killed attach or a dead
 * namespace left under its name, then, with FA_IFACE_ADOPT, takes a
 * complete attachment as it is when it matches @o (and says how it differs
 * when it does not), or attaches both hooks. Safe to call for many
 * interfaces from one process: it keeps nothing between calls.
 *
 * Return: 0, or -errno: -EEXIST (attached already, or attached otherwise
 * than @o asks when adopting), -EBUSY (the lock is held), -ENODEV, -EINVAL,
 * -EPROTO (attached by another version), or attach's own.
 */
int fa_iface_attach(const struct fa_attach_opts *o, unsigned int flags,
		    struct fa_iface_result *res, struct fa_err *e);
/* fa_iface_attach()'s memory guard alone: the maps @o asks for, its
 * more_files and more_process, against what the machine has (@o's ifname
 * names it in the refusal). 0, or -ENOMEM with @e said. */
int fa_attach_guard(const struct fa_attach_opts *o, struct fa_err *e);

/**
 * fa_pinned_sample_get() - the sampling settings of an attached interface
 * @p: its pins
 * @cfg: filled in
 *
 * Return: 0 or -errno.
 */
int fa_pinned_sample_get(const struct fa_pinned *p, struct flow_sample_config *cfg);

/**
 * fa_pinned_sample_set() - change them, at once
 * @p: its pins
 * @cfg: the new settings, all fields
 *
 * The programs read each field once per packet: one racing this update
 * may see, field by field, old or new values, all of them valid.
 *
 * Return: 0 or -errno.
 */
int fa_pinned_sample_set(const struct fa_pinned *p, const struct flow_sample_config *cfg);

/* fa_iface_detach() found no record, only programs of ours, and removed them. */
#define FA_DETACHED_UNRECORDED 1

/**
 * fa_iface_detach() - remove what attach added to an interface
 * @ifname: its name now, or its name at attach if it is gone
 * @e: on failure, one line
 *
 * Takes the interface's lock while it works. The programs, the clsact qdisc
 * if attach created it and nothing else uses it, and the pins; also what a
 * killed attach left, found by name.
 *
 * Return: 0, FA_DETACHED_UNRECORDED, or -errno: -ENOENT (not attached),
 * -ENODEV, -EEXIST (the interface has another name now: @e says which),
 * -EBUSY (its lock is held).
 */
int fa_iface_detach(const char *ifname, struct fa_err *e);

/**
 * fa_lock_take_err() - fa_lock_take() with the refusal as one line
 * @dirname: the interface's pin directory name
 * @ifname: its name, for the line
 * @kind: the lock to take
 * @l: the lock, held on success
 * @e: who holds it, or why it can't be taken
 *
 * Return: 0, -EBUSY (held by someone else) or another -errno.
 */
int fa_lock_take_err(const char *dirname, const char *ifname,
		     enum fa_lock_kind kind, struct fa_lock *l, struct fa_err *e);

/**
 * fa_sockets_count() - what the socket programs' tables hold now
 * @sockets: sockets known
 * @listeners: listening sockets known
 *
 * Return: 0, or -errno from opening the tables (-ENOENT: not attached).
 */
int fa_sockets_count(size_t *sockets, size_t *listeners);

/* ---- a program set: one load, many interfaces (set.c) --------------------- */

/* The hooks of one interface in a set. */
enum fa_set_hook { FA_SET_XDP, FA_SET_TC_INGRESS, FA_SET_TC_EGRESS, FA_SET_NR_HOOKS };

/*
 * The programs loaded once (per-interface counters and overflow rows:
 * struct flow_slot_key), the maps' fds in enum fa_pin order and the
 * programs' by enum fa_set_hook.
 */
struct fa_set {
	struct flowacct_bpf *skel;
	int fd[FA_NR_PINS];
	int prog[FA_SET_NR_HOOKS];
	/* Pinned (fa_set_pin(), fa_set_adopt()): its directory under
	 * FA_PIN_ROOT, "" if not, and the members' records. */
	char dir[64];
	int members_fd;
	struct fa_lock lock;		/* a pinned set's, held while it is ours */
	struct fa_load_opts opts;	/* as loaded */
};

/* The pin of a pinned set's members' records: what marks a directory
 * under FA_PIN_ROOT as a set's. */
#define FA_SET_MEMBERS_PIN	"members"

/*
 * What a pinned set keeps of each member (a hash keyed by ifindex, pinned
 * as "members"), so that a process that adopts the set finds its links
 * (pinned beside it: "if<ifindex>_<hook>") or its clsact filters again.
 */
struct fa_set_member_rec {
	__u32 ifindex;
	__u8 ingress;		/* enum fa_ingress_hook */
	__u8 tc_api;		/* enum fa_tc_api */
	__u8 created_qdisc;
	__u8 linked;		/* every hook made: until then, a join in progress */
	__u32 tc_handle[FA_SET_NR_HOOKS];
	__u32 tc_priority[FA_SET_NR_HOOKS];
	__u64 joined_at;	/* CLOCK_REALTIME, s */
	char ifname[FA_IFNAMSIZ];	/* at join */
};

/* One interface linked to a set: its links' fds (-1: none), or its clsact
 * filters' handles (0: none) on a kernel without TCX. */
struct fa_set_member {
	int ifindex;
	int ingress;		/* enum fa_ingress_hook */
	__u8 tc_api;		/* enum fa_tc_api */
	bool created_qdisc;
	int link[FA_SET_NR_HOOKS];
	__u32 tc_handle[FA_SET_NR_HOOKS];
	__u32 tc_priority[FA_SET_NR_HOOKS];
};

/*
 * Loads the programs as @o says, for many interfaces (@o's per_iface,
 * replay and progs are the set's own). 0, or -errno of the load.
 */
int fa_set_open(struct fa_set *s, const struct fa_load_opts *o);
/* Unloads, and lets go of a pinned set's lock; links still held by members
 * keep the programs until closed (and a pinned set's pins keep everything). */
void fa_set_close(struct fa_set *s);
/*
 * Pins an open set as @dirname under FA_PIN_ROOT, before any join: its
 * maps, its record (an attach record of interface 0) and its members'
 * records; from then on a join pins its links there too, so that the set,
 * links and counts outlive the process (kill -9 included) until
 * fa_set_remove(). The set's lock (under FA_RUN_DIR, by the directory's
 * name) is held until fa_set_close(). 0, or -errno (-EINVAL: a name that
 * begins with "net", which status and detach would take for an
 * attachment's, or has a slash or a dot; -EBUSY: interfaces joined
 * already, or a process holds a set of that name; -EEXIST: the directory
 * exists).
 */
int fa_set_pin(struct fa_set *s, const char *dirname);
/*
 * Opens the set pinned as @dirname: its maps reused by programs loaded
 * again as its record says, and its members (@m, up to @max; *n of them)
 * with their links. A member that is not whole (a join a kill cut short, a
 * link detached or on a device gone, a filter that is not ours) is undone
 * and not returned; its rows stay (fa_set_rows_list()). 0, or -errno
 * Its lock is held until fa_set_close(). 0, or -errno (-ENOENT: no such
 * set; -EBUSY: a live process holds it; -EXDEV: pinned from another
 * network namespace; -E2BIG: more than @max members).
 * The programs open tunnels as the set was made to (--decap inner: its
 * flow_tunnels is sized for it), on VXLAN's ports and @vxlan's (NULL: none).
 */
int fa_set_adopt(struct fa_set *s, const char *dirname, struct fa_set_member *m,
		 size_t max, size_t *n, const struct fa_vxlan_ports *vxlan);
/*
 * Unlinks every member of the set pinned as @dirname and removes its pins:
 * the maps go with the last fd. From another network namespace than the
 * set's, only the pins go (and with them the links). 0, or -errno
 * (-EBUSY: a live process holds it, this one's own open set included:
 * close it first).
 */
int fa_set_remove(const char *dirname);
/*
 * The interfaces that have rows in the set (interface 0 aside): its
 * members, and those whose rows wait to be drained and forgotten (a join
 * or a leave a kill cut short, a member whose device went while no one
 * held the set). 0, or -E2BIG when more than @max.
 */
int fa_set_rows_list(const struct fa_set *s, __u32 *ifindex, size_t max, size_t *n);
/*
 * Links @ifindex: its counters and overflow rows made (-EEXIST: they are
 * there, the interface was not forgotten, and they are left as they are),
 * then ingress (XDP in @ingress's mode, or TC; 0: chosen by the driver,
 * and TC where native XDP is refused, as attach does) and TC egress, TCX
 * or clsact as @tc_ask says (enum fa_tc_ask). On failure no hook stays;
 * the rows stay too once a hook was made (a program may still be counting
 * there): the caller forgets them after a grace period.
 */
int fa_set_join(struct fa_set *s, int ifindex, int ingress, int tc_ask,
		struct fa_set_member *m);
/* Off the device: no program of the set runs for it once a grace period
 * (fa_sync_wait()) has passed. Its rows stay until fa_set_forget(). */
int fa_set_unlink(struct fa_set *s, struct fa_set_member *m);
/* Its rows made, zeroed (fa_set_join() does it); deleted, once drained. */
int fa_set_rows_make(struct fa_set *s, __u32 ifindex);
int fa_set_forget(struct fa_set *s, __u32 ifindex);
/*
 * Whether the member @r of the set pinned as @dir is whole on its device
 * (true: every hook it uses there, a link on its device or a filter of
 * ours), with its links' ids in @link_id (0: no link, or a filter). Only
 * from the set's own network namespace: a filter is found by index.
 */
int fa_set_member_probe(const char *dir, const struct fa_set_member_rec *r,
			__u32 link_id[FA_SET_NR_HOOKS]);

/* ---- pinned sets as status, stats, dump and detach see them (setpins.c) ---- */

/* A pinned set as found under FA_PIN_ROOT. */
struct fa_set_entry {
	char dir[64];
	int err;			/* 0, or -errno from reading its record */
	struct fa_attach_state state;	/* its record: namespace, tables, map mode */
	bool here;			/* pinned from this network namespace */
	int holder;			/* pid of the process holding its lock, 0: none */
	size_t members;
};

/* A member of a pinned set, as its record says and its device shows. */
struct fa_member_entry {
	char set[64];			/* the set's directory under FA_PIN_ROOT */
	struct fa_set_member_rec rec;
	char ifname[FA_IFNAMSIZ];	/* its name now; "" if gone or elsewhere */
	bool here;			/* the set is this network namespace's */
	bool gone;			/* here, and its device is gone */
	bool live;			/* here, and whole on its device */
	__u32 link_id[FA_SET_NR_HOOKS];	/* its links' ids (0: none, or a filter) */
	int holder;			/* as its set's */
	__u64 netns_ino;		/* its set's */
};

/*
 * Every pinned set under FA_PIN_ROOT, of any network namespace, by
 * directory name, and every member of each, by set and ifindex. The
 * caller frees *sets and *members. 0, or -errno (-ENOMEM; no FA_PIN_ROOT
 * is no set).
 */
int fa_sets_list(struct fa_set_entry **sets, size_t *nsets,
		 struct fa_member_entry **members, size_t *n);
/* The members of this network namespace's sets, by set. Caller frees *m. */
int fa_set_members_here(struct fa_member_entry **m, size_t *n);
/*
 * The member of a set of this network namespace called @ifname now; else
 * one that had that name at join and whose device is gone. 0, or -ENOENT.
 */
int fa_set_member_find(const char *ifname, struct fa_member_entry *out);
/*
 * The member of a set of this network namespace, other than the set @except
 * (NULL: any), that the device of @ifindex is (its device not gone): 0, or
 * -ENOENT. Linked to a set, a device taken again (attached alone, or joined
 * to another set) would have its packets counted twice.
 */
int fa_set_member_linked(__u32 ifindex, const char *except, struct fa_member_entry *out);
/* Refuses to take @ifname, the member @m of another set (-EBUSY), in a line. */
int fa_set_member_taken_err(const struct fa_member_entry *m, const char *ifname,
			    struct fa_err *e);
/*
 * Refuses to detach the member @m (-EBUSY): its links are its set's, and
 * unlinking it is the set holder's, never half done from here.
 */
int fa_set_member_detach_err(const struct fa_member_entry *m, const char *ifname,
			     struct fa_err *e);

/* ---- stale attachments (stale.c) ------------------------------------------- */

/* Why an attachment's pins are left to no one. */
enum fa_stale_why {
	FA_STALE_NONE = 0,
	FA_STALE_NETNS_GONE,	/* no process, bind mount or open fd holds its namespace */
	FA_STALE_IFACE_GONE,	/* the namespace lives, the interface index does not (or is another interface) */
	FA_STALE_HALF_MADE,	/* an attach killed before it completed, no attach holding its lock */
};

/*
 * Whether the network namespace with this inode (and, when both are known,
 * this cookie) still exists. What holds a namespace and is not seen (a
 * socket's reference alone, a bind mount in another mount namespace) makes
 * it look dead: see stale.c.
 */
bool fa_netns_alive(__u64 ino, __u64 cookie);
/* Why @pin is stale, or FA_STALE_NONE (also when a live daemon or attach
 * holds its lock). */
int fa_stale_why(const struct fa_pin_entry *pin);
/* "netns-gone", "iface-gone", "half-made"; NULL for FA_STALE_NONE. */
const char *fa_stale_why_name(int why);

struct fa_stale {
	struct fa_pin_entry pin;
	int why;		/* enum fa_stale_why */
};

/* Every stale attachment under FA_PIN_ROOT, any namespace. Caller frees *list. */
int fa_stale_list(struct fa_stale **list, size_t *n);
/* Every program set whose network namespace is gone and that no one holds
 * (why: FA_STALE_NETNS_GONE). Caller frees *list. */
int fa_stale_sets_list(struct fa_stale **list, size_t *n);
/*
 * Removes @dirname's files under FA_RUN_DIR that nothing holds (its lock
 * files when no one holds them; a daemon's drain and cache files once the
 * pins are gone too), IPFIX state files no daemon holds (unless a killed
 * daemon's successor may need one), and FA_RUN_DIR itself when empty.
 */
void fa_run_files_remove(const char *dirname);

#endif /* FLOWACCT_ATTACH_H */
