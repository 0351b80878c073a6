/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The layouts of what user space keeps on bpffs beside the programs' maps:
 * the attach record, and the state of a `flowacct run` daemon (its flow
 * cache, its journal and its progress), which outlive the process so that a
 * restarted daemon loses nothing. Only programs in user space read or write
 * these maps; they are defined once, here, because every command and every
 * restarted daemon must agree on them byte for byte.
 */
#ifndef FLOW_PINS_H
#define FLOW_PINS_H

#include <linux/types.h>

#include "flow_kern_user.h"

#define FA_IFNAMSIZ 16

/* How the ingress hook is attached. */
enum fa_ingress_hook {
	FA_INGRESS_XDP_NATIVE = 1,
	FA_INGRESS_XDP_SKB = 2,
	FA_INGRESS_TC = 3,
};

/* Why attach chose that ingress hook (status shows it). */
enum fa_ingress_reason {
	FA_WHY_ASKED = 1,	/* --ingress xdp|tc, or --mode */
	FA_WHY_VIRTUAL = 2,	/* a virtual device: XDP would cost offloads or see GSO frames */
	FA_WHY_NATIVE_XDP = 3,	/* a NIC whose driver runs XDP natively */
	FA_WHY_NO_NATIVE = 4,	/* a driver without native XDP */
};

/*
 * How a TC hook is attached. Records from before TCX have 0 in its place:
 * clsact.
 */
enum fa_tc_api {
	FA_TC_CLSACT = 0,	/* a bpf filter on the clsact qdisc */
	FA_TC_TCX = 1,		/* a TCX link (Linux 6.6+), pinned beside the maps */
};

/*
 * What detach needs to remove exactly what attach added, kept in a
 * one-entry array map pinned beside the data maps (bpffs holds no regular
 * files). Attach pins it before it changes anything and updates it after
 * each step, so that whatever kills attach, the record says what there is
 * to undo. A new layout gets a new version: a command refuses a record it
 * does not know rather than misread it.
 */
struct fa_attach_state {
	__u32 version;
	__u32 ifindex;
	__u64 netns_ino;	/* the network namespace ifindex belongs to */
	__u64 netns_cookie;	/* the same, never reused (SO_NETNS_COOKIE); 0: unknown */
	__u64 attached_at;	/* CLOCK_REALTIME, s */
	__u32 xdp_prog_id;	/* 0 unless the ingress hook is XDP */
	__u32 tc_prog_id;	/* egress */
	/* clsact: the filter's handle and priority; TCX: the link's id, and 0
	 * (a TCX link has no handle: the record keeps its layout). */
	union {
		__u32 tc_handle;
		__u32 tc_link_id;
	};
	__u32 tc_priority;
	__u32 tci_prog_id;	/* TC ingress; 0 unless the ingress hook is TC */
	union {
		__u32 tci_handle;
		__u32 tci_link_id;
	};
	__u32 tci_priority;
	__u32 max_flows;	/* of each of the two epoch tables */
	__u16 key_size;		/* sizeof(struct flow_key) at attach */
	__u16 value_size;	/* sizeof(struct flow_map_value) at attach */
	__u8 ingress;		/* enum fa_ingress_hook */
	__u8 ingress_why;	/* enum fa_ingress_reason: why that hook */
	__u8 xdp_legacy;	/* attached directly, not through libxdp's dispatcher */
	__u8 created_qdisc;	/* clsact was not there before attach (recorded before
				 * attach creates it, so a killed attach still knows) */
	__u8 shared_map;
	__u8 by_run;		/* attached by `flowacct run`, which detaches on exit */
	__u8 complete;		/* attach finished; until then the record says how far
				 * it got, for detach to undo */
	__u8 tc_api;		/* egress: enum fa_tc_api (recorded before the
				 * link is made, as created_qdisc is) */
	char ifname[FA_IFNAMSIZ];	/* at attach; the interface may be renamed since */
	char driver[32];		/* ETHTOOL_GDRVINFO at attach */
	__u8 owners;		/* TC egress notes each new row's socket (--attribution) */
	__u8 retrans;		/* TCP retransmissions tracked (--retrans) */
	__u8 passive_rtt;	/* RTT from TCP timestamps (--passive-rtt) */
	__u8 tci_api;		/* TC ingress: enum fa_tc_api */
};
_Static_assert(sizeof(struct fa_attach_state) == 128, "attach record layout changed");

/*
 * 4: a shared table keeps a row of a flow for each CPU, the CPU in key bits
 * no flow uses (flow_key_set_row_cpu). A record of 3 is read as one whose
 * programs set no such bits; an older flowacct refuses a 4 rather than read
 * those bits as the key's (an unknown IP version, a flow's rows apart).
 * 3: TCX (tc_api, tci_api, the link ids in the handles' place). A record of
 * 2 has the same layout with clsact hooks, and is read as one; an older
 * flowacct refuses a 3 rather than take a link id for a filter's handle.
 */
#define FA_ATTACH_STATE_VERSION 4
#define FA_ATTACH_STATE_VERSION_TCX 3
#define FA_ATTACH_STATE_VERSION_CLSACT 2

/*
 * What the kernel dropped of a flow (the drop program, sock/flowacct_drop.bpf.c):
 * packets (a GSO skb's gso_segs) and IP-layer bytes, and why, by the
 * running kernel's enum skb_drop_reason. Two reasons are kept by name: the
 * first seen holds packets - second, the next holds second. A third makes
 * reason[1] FA_DROP_REASONS_MORE, "more than one other reason", whose
 * packets are then second: the sum stays exact, the names past the first
 * are lost (a flow rarely drops for more than one reason in a period).
 * reason[0] 0: no drops (0 is the kernel's NOT_DROPPED_YET, never a drop's).
 */
struct fa_drops {
	__u64 packets;
	__u64 bytes;
	__u64 second;		/* packets of reason[1] */
	__u32 reason[2];
};
_Static_assert(sizeof(struct fa_drops) == 32, "drops layout changed");

#define FA_DROP_REASONS_MORE 0xffffffffu

/*
 * One flow of a daemon's cache (struct flow_key is the key). The period is
 * what the flow's next record will carry; the totals are everything since the
 * flow started, for `dump`. touch orders the entries for eviction (smallest
 * first: least recently seen); it is kept so that a restarted daemon evicts
 * in the same order.
 */
struct fa_cache_entry {
	__u64 flow_start_ns;	/* all times: CLOCK_MONOTONIC ns, as the programs stamp them */
	__u64 last_seen_ns;
	__u64 period_start_ns;	/* for the active timeout */
	__u64 period_first_ns;	/* first and last packet of the period; 0: empty */
	__u64 period_last_ns;
	__u64 packets;		/* of the period */
	__u64 bytes;
	__u64 total_packets;	/* since flow start */
	__u64 total_bytes;
	__u64 touch;
	__u32 flags;		/* TCP flags of the period */
	__u32 flags_all;	/* TCP flags since flow start */
	__u8 end_pending;	/* FIN both ways or RST seen: ends once quiet */
	__u8 pad[3];
	/*
	 * 1 + the index of its drops in the cache's drop slots (struct
	 * fa_cache_drops), 0: none. Few flows have drops: they are kept
	 * apart, so that a flow without costs no byte more (the field was
	 * padding, zero in every entry written before drops).
	 */
	__u32 drop_slot;
};
_Static_assert(sizeof(struct fa_cache_entry) == 96, "cache entry layout changed");

/* The drops of one cache entry: its period's, for the next record, and all
 * since the flow started, for dump. */
struct fa_cache_drops {
	__u32 owner;		/* 1 + its entry's slot; 0: free */
	__u32 pad;
	struct fa_drops period;
	struct fa_drops all;
};
_Static_assert(sizeof(struct fa_cache_drops) == 72, "cache drops layout changed");

/* IPFIX flowEndReason (RFC 7011 / IANA IE 136) values. */
enum fa_end_reason {
	FA_END_IDLE = 1,
	FA_END_ACTIVE = 2,
	FA_END_END = 3,
	FA_END_FORCED = 4,
	FA_END_LACK_OF_RESOURCES = 5,
};

/* A flow record, as the journal keeps it until it has been written out. */
struct fa_record {
	struct flow_key key;	/* ip_version 0: an overflow row */
	__u64 seq;
	__u64 packets;
	__u64 bytes;
	__u64 first_seen_ns;	/* CLOCK_MONOTONIC ns, like the cache */
	__u64 last_seen_ns;
	__u64 flow_start_ns;
	__u8 end_reason;	/* enum fa_end_reason */
	__u8 pad[3];
	__u32 tcp_flags;
	struct fa_drops drops;	/* of the period */
};
_Static_assert(sizeof(struct fa_record) == 136, "record layout changed");

/*
 * A record as older daemons' pinned journals and cache files hold it:
 * the key without the tunnel's tag, tcp_flags in its place, and (before
 * drops, FA_RECORD_V1_SIZE) no drops; the rest where it is now.
 */
#define FA_RECORD_V1_SIZE 104
#define FA_RECORD_V2_SIZE 136
#define FA_RECORD_V2_TCP_FLAGS 44

/* A change to one cache entry in the journal of older daemons. */
struct fa_journal_change {
	struct fa_cache_entry entry;
	__u8 removed;		/* the entry leaves the cache */
	__u8 pad[7];
};

/* Where a daemon is in its tick; see lib/stream.c. */
enum fa_tick_phase {
	FA_PHASE_IDLE = 0,
	FA_PHASE_COMMITTED = 1,	/* the journal holds a whole tick: replay it */
	FA_PHASE_STOPPED = 2,	/* stopped cleanly: the cache is empty, its file gone */
};

/*
 * A daemon's progress on one interface: a one-entry array map. Updated with
 * one bpf_map_update_elem() each time, so it is always either the old or the
 * new state, whatever kills the daemon when.
 */
struct fa_run_state {
	__u32 version;
	__u32 phase;		/* enum fa_tick_phase */
	__u64 instance;		/* names this interface's record stream; survives restarts */
	__u64 next_seq;		/* the sequence number of the next record */
	__u64 gen;		/* ticks committed */
	__u64 touch;		/* the cache's touch counter */
	__u32 table;		/* the table being drained while COMMITTED */
	__u32 nr_records;	/* in the journal while COMMITTED */
	__u64 seq_base;		/* of the journal's records */
	/* Records written, per direction, since the instance began. */
	__u64 exported_packets[FLOW_NR_DIRS];
	__u64 exported_bytes[FLOW_NR_DIRS];
	__u64 records;
	/*
	 * The clocks' offset the journal's records were converted with: a
	 * record written again after a kill is the same, byte for byte.
	 */
	__u64 wall_off;
};
_Static_assert(sizeof(struct fa_run_state) == 104, "run state layout changed");

#define FA_RUN_STATE_VERSION 1

/*
 * A program set's stream serves many interfaces: each one's share of its
 * records, pinned beside run_state as "ifaces" (a hash keyed by ifindex),
 * so that an interface's counters line adds up after any kill. An entry is
 * as of tick @gen: the commit of a tick with an interface's records is
 * followed by the update of its entry, and a restart that finds an entry
 * older than a committed tick adds that tick's records to it.
 */
struct fa_iface_books {
	__u64 gen;
	__u64 records;
	__u64 exported_packets[FLOW_NR_DIRS];
	__u64 exported_bytes[FLOW_NR_DIRS];
	char ifname[16];	/* as the records name it: renames follow */
	__u32 ingress;		/* enum fa_ingress_hook its ingress is at; 0: not said */
	__u32 pad;
};
_Static_assert(sizeof(struct fa_iface_books) == 72, "iface books layout changed");

#endif /* FLOW_PINS_H */
