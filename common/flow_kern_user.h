/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one definition of what the data plane and user space exchange: the flow
 * key and value, the counters and the load-time configuration. Only __u* and
 * __be* types, so that it compiles for -target bpf and for the host alike.
 */
#ifndef FLOW_KERN_USER_H
#define FLOW_KERN_USER_H

#include <linux/types.h>

#include "flow_tunnel.h"

/* The hook a packet was seen at; it is also the index of the stats slot. */
enum flow_direction {
	FLOW_DIR_INGRESS = 0,	/* XDP */
	FLOW_DIR_EGRESS = 1,	/* TC clsact egress */
	FLOW_NR_DIRS,
};

/*
 * Addresses are 16 bytes for both families; IPv4 is stored IPv4-mapped
 * (::ffff:a.b.c.d) so the two families can never share a key, and
 * ip_version says how to print it. Ports are in network byte order as they
 * were on the wire; for ICMP and ICMPv6 sport is 0 and dport is
 * type << 8 | code, as NetFlow v5 and IPFIX exporters report them.
 * tunnel is the enum flow_tunnel_type a flow was taken out of with
 * --decap inner (its addresses and ports are then the inner packet's), 0
 * otherwise: a flow inside a tunnel and the same 5-tuple outside it are
 * two flows. tunnel_tag is which tunnel of that type
 * (flow_tunnel_tag(): its id and outer addresses, digested), so the same
 * inner flow through two tunnels is two rows; 0 when tunnel is. Every
 * byte of the key is hashed.
 */
struct flow_key {
	__u8 src[16];
	__u8 dst[16];
	__be16 sport;
	__be16 dport;
	__u32 ifindex;
	__u8 proto;
	__u8 ip_version;
	__u8 direction;
	__u8 tunnel;
	__u32 tunnel_tag;
};
_Static_assert(sizeof(struct flow_key) == 48, "flow_key layout changed");

/*
 * The key's bytes in a table: all of them with --decap inner, where
 * tunnel_tag tells the tunnels of one type apart; without it the first
 * FLOW_KEY_SIZE_OFF, as every table of an earlier release was keyed, so
 * that such tables stay readable and adoptable as they are. A lookup with
 * a whole struct flow_key in a table of the shorter keys reads their
 * bytes only; user space reads a table's keys at the table's own size
 * (the tag then 0).
 */
#define FLOW_KEY_SIZE_OFF	44
_Static_assert(__builtin_offsetof(struct flow_key, tunnel_tag) == FLOW_KEY_SIZE_OFF,
	       "the tag follows the key of earlier releases");

static inline __u32 flow_key_size(int decap)
{
	return decap ? sizeof(struct flow_key) : FLOW_KEY_SIZE_OFF;
}

/*
 * In a shared live table each CPU keeps a row of its own for a flow: the
 * key of a table row carries the CPU that inserted it in bits the flow
 * itself never uses, the direction byte's top seven (the CPU's low seven
 * bits) and the IP version byte's top five (its next five). A flow that
 * one CPU sees is one row, as before; one that several CPUs see at once
 * is a row on each, which none of the others reads or writes, so they
 * never share a cache line (one shared row cost each CPU 3.8 times its
 * time alone). User space strips the bits when it reads a row and adds a
 * flow's rows together. The key keeps its size, so every pinned table and
 * file keeps its layout, and a table that programs of an earlier release
 * filled (rows without the bits) reads the same. CPUs 4096 apart share a
 * row, which the owner check of struct flow_shared_value keeps exact.
 */
#define FLOW_ROW_CPU_DIR_SHIFT	1
#define FLOW_ROW_CPU_VER_SHIFT	3
#define FLOW_ROW_CPU_DIR_BITS	7
#define FLOW_ROW_CPU_VER_BITS	5

static inline void flow_key_set_row_cpu(struct flow_key *k, __u32 cpu)
{
	k->direction |= (cpu & ((1u << FLOW_ROW_CPU_DIR_BITS) - 1)) << FLOW_ROW_CPU_DIR_SHIFT;
	k->ip_version |= ((cpu >> FLOW_ROW_CPU_DIR_BITS) &
			  ((1u << FLOW_ROW_CPU_VER_BITS) - 1)) << FLOW_ROW_CPU_VER_SHIFT;
}

/* The CPU whose row @k is (0 for a key without a CPU's bits). */
static inline int flow_key_row_cpu(const struct flow_key *k)
{
	return (k->direction >> FLOW_ROW_CPU_DIR_SHIFT) |
	       (k->ip_version >> FLOW_ROW_CPU_VER_SHIFT) << FLOW_ROW_CPU_DIR_BITS;
}

static inline void flow_key_strip_row_cpu(struct flow_key *k)
{
	k->direction &= (1u << FLOW_ROW_CPU_DIR_SHIFT) - 1;
	k->ip_version &= (1u << FLOW_ROW_CPU_VER_SHIFT) - 1;
}

/*
 * A flow's counts as a live table's flows maps and overflow rows hold them,
 * one per CPU in a per-CPU map. 24 bytes, where a row as user space keeps it
 * (struct flow_value) is 40: the flags ride in the top byte of
 * packets_flags (packets in the low 56 bits, more than a CPU forwards in
 * years), and the times are the low 32 bits of jiffies. Each byte is paid
 * per CPU per flow, and over 100k flows most of flowacct's gap to the
 * minimal accountant's 16-byte value was this value's size (tests/bench,
 * README "The hot path"). bytes are IP-layer octets (IPFIX
 * octetDeltaCount). The library unwraps the ticks against a tick count it
 * reads with the table (struct fa_tick_clock, lib/clock.c), which holds for
 * times up to nearly 2^32 ticks old: 198 days at HZ 250, 49 days at HZ
 * 1000. A daemon drains every row within a tick of its interval; only a
 * table that nothing drains keeps rows that long. A slot with no packets
 * never saw the flow.
 */
struct flow_map_value {
	__u64 packets_flags;
	__u64 bytes;
	__u32 first_seen;
	__u32 last_seen;
};
_Static_assert(sizeof(struct flow_map_value) == 24, "flow_map_value layout changed");

/*
 * A flow's counts in a shared (BPF_MAP_TYPE_HASH) live table: one value for
 * every CPU, 48 bytes at any CPU count. The CPU that inserted the row owns
 * @own and adds to it with plain stores, as to a per-CPU slot: an
 * uncontended lock-prefixed add costs that CPU about 9 ns a packet on the
 * mix. Each CPU has rows of its own (flow_key_set_row_cpu), so another CPU
 * writes a row only when its number is 4096 away, or in a table that
 * programs of an earlier release, one row a flow, filled. Such a CPU adds
 * to the second half with atomic adds, and keeps its own last time there;
 * it writes @own only to move first_seen back, which the owner never
 * writes after the insert. So no word has a plain writer and another
 * writer at once, and no packet is lost. Its second half reads as a
 * flow_map_value whose first_seen is the owner's CPU.
 */
struct flow_shared_value {
	struct flow_map_value own;
	__u64 packets_flags;	/* other CPUs', atomic */
	__u64 bytes;		/* other CPUs', atomic */
	__u32 owner;		/* bpf_get_smp_processor_id() of the insert */
	__u32 last_seen;	/* other CPUs' latest */
};
_Static_assert(sizeof(struct flow_shared_value) == 48, "flow_shared_value layout changed");

/*
 * The same in replay, whose times are a capture's timestamps (ns since the
 * epoch) and keep every bit of them. The loader sizes replay's tables for
 * it; the programs pick the layout from flow_cfg.replay.
 */
struct flow_replay_value {
	__u64 packets_flags;
	__u64 bytes;
	__u64 first_seen;
	__u64 last_seen;
};
_Static_assert(sizeof(struct flow_replay_value) == 32, "flow_replay_value layout changed");

#define FLOW_FLAGS_SHIFT	56
#define FLOW_PACKETS_MASK	((1ULL << FLOW_FLAGS_SHIFT) - 1)

/*
 * A flow as user space keeps it once read from the maps, its per-CPU slots
 * merged: times in CLOCK_MONOTONIC ns (capture time in replay). tcp_flags
 * is the OR of the flag byte of every TCP segment, bit 0 FIN to bit 7 CWR.
 */
struct flow_value {
	__u64 packets;
	__u64 bytes;
	__u64 first_seen_ns;
	__u64 last_seen_ns;
	__u32 tcp_flags;
	__u32 pad;
};

enum flow_counter_kind {
	FLOW_CK_TOTAL,		/* seen, accounted and their bytes */
	FLOW_CK_REASON,		/* why a seen packet was not accounted */
	FLOW_CK_INFO,		/* about accounted packets or events; not in the sum */
};

/*
 * Every packet is counted in seen, and then in exactly one of accounted or a
 * FLOW_CK_REASON counter, so seen == accounted + sum(reasons). Packets here
 * are wire packets: a GSO frame at TC counts gso_segs. The X-macro gives
 * both sides the same order and user space the names printed in JSON.
 * Counters are only ever added at the end: an attachment of an older
 * version, adopted, has a stats map with fewer of them, in the same order
 * (FLOW_NR_COUNTERS_STABLE).
 */
#define FLOW_COUNTERS(X)						\
	X(SEEN,			"seen",			FLOW_CK_TOTAL)	\
	X(ACCOUNTED,		"accounted",		FLOW_CK_TOTAL)	\
	X(ACCOUNTED_BYTES,	"accounted_bytes",	FLOW_CK_TOTAL)	\
	X(NON_IP,		"non_ip",		FLOW_CK_REASON)	\
	X(TRUNC_ETH,		"trunc_eth",		FLOW_CK_REASON)	\
	X(TRUNC_VLAN,		"trunc_vlan",		FLOW_CK_REASON)	\
	X(VLAN_TOO_DEEP,	"vlan_too_deep",	FLOW_CK_REASON)	\
	X(BAD_IP_VERSION,	"bad_ip_version",	FLOW_CK_REASON)	\
	X(TRUNC_IPV4,		"trunc_ipv4",		FLOW_CK_REASON)	\
	X(BAD_IHL,		"bad_ihl",		FLOW_CK_REASON)	\
	X(BAD_IPV4_LEN,		"bad_ipv4_len",		FLOW_CK_REASON)	\
	X(TRUNC_IPV6,		"trunc_ipv6",		FLOW_CK_REASON)	\
	X(BAD_IPV6_LEN,		"bad_ipv6_len",		FLOW_CK_REASON)	\
	X(TRUNC_IPV6_EXT,	"trunc_ipv6_ext",	FLOW_CK_REASON)	\
	X(IPV6_EXT_TOO_MANY,	"ipv6_ext_too_many",	FLOW_CK_REASON)	\
	X(TRUNC_L4,		"trunc_l4",		FLOW_CK_REASON)	\
	X(FRAGMENTS,		"fragments",		FLOW_CK_INFO)	\
	X(FRAG_ORPHANS,		"frag_orphans",		FLOW_CK_INFO)	\
	X(OVERFLOW,		"overflow",		FLOW_CK_INFO)	\
	X(INSERT_FULL,		"insert_fail_full",	FLOW_CK_INFO)	\
	X(INSERT_NOMEM,		"insert_fail_nomem",	FLOW_CK_INFO)	\
	X(INSERT_OTHER,		"insert_fail_other",	FLOW_CK_INFO)	\
	X(GSO_FRAMES,		"gso_frames",		FLOW_CK_INFO)	\
	X(CUT_FRAMES,		"cut_frames",		FLOW_CK_INFO)	\
	X(IPV6_JUMBOGRAMS,	"ipv6_jumbograms",	FLOW_CK_INFO)	\
	X(TCP_DOFF_INVALID,	"tcp_doff_invalid",	FLOW_CK_INFO)	\
	X(SAMPLES,		"samples",		FLOW_CK_INFO)	\
	X(SAMPLE_NO_READER,	"sample_lost_no_reader", FLOW_CK_INFO)	\
	X(SAMPLE_FULL,		"sample_lost_full",	FLOW_CK_INFO)	\
	X(SAMPLE_OTHER,		"sample_lost_other",	FLOW_CK_INFO)	\
	X(IPV4_LEN_FROM_FRAME,	"ipv4_len_from_frame",	FLOW_CK_INFO)	\
	X(TUNNEL_DECAP,		"tunnel_decap",		FLOW_CK_INFO)	\
	X(TUNNEL_NESTED,	"tunnel_nested",	FLOW_CK_INFO)	\
	X(TUNNEL_UNDECODED,	"tunnel_undecoded",	FLOW_CK_INFO)	\
	X(TUNNEL_SHARED,	"tunnel_shared",	FLOW_CK_INFO)	\
	X(TRUNC_TUNNEL,		"trunc_tunnel",		FLOW_CK_REASON)	\
	X(TRUNC_MPLS,		"trunc_mpls",		FLOW_CK_REASON)	\
	X(MPLS_TOO_DEEP,	"mpls_too_deep",	FLOW_CK_REASON)

enum flow_counter {
#define FLOW_COUNTER_ENUM(id, name, kind) FLOW_C_##id,
	FLOW_COUNTERS(FLOW_COUNTER_ENUM)
#undef FLOW_COUNTER_ENUM
	FLOW_NR_COUNTERS
};

/*
 * The counters of the first layout that later ones only append to (commit
 * 286335c): a stats map holding fewer is from a layout that differs.
 */
#define FLOW_NR_COUNTERS_STABLE 30

/*
 * One per-CPU slot per direction. The counters are cumulative: nothing ever
 * clears them, so they are what every drained row adds up to.
 */
struct flow_stats {
	__u64 counters[FLOW_NR_COUNTERS];
	__u64 sample_tick;	/* frames since this CPU's last every-Nth sample */
};

/*
 * Epochs. Each attached interface has two flow tables; the programs read
 * flow_epoch once per packet and add to table flow_epoch & 1. User space
 * flips the index, waits for an RCU grace period (after which no program
 * can still be adding to the old table), then reads and clears the old
 * table. The overflow row (packets whose new flow could not be inserted
 * into a full table) belongs to the epoch too: flow_overflow holds one per
 * epoch and direction, at FLOW_OVERFLOW_SLOT().
 */
#define FLOW_NR_EPOCHS 2
#define FLOW_OVERFLOW_SLOT(epoch, dir) ((epoch) * FLOW_NR_DIRS + (dir))
#define FLOW_NR_OVERFLOW_SLOTS (FLOW_NR_EPOCHS * FLOW_NR_DIRS)
_Static_assert(sizeof(struct flow_stats) % 8 == 0, "per-CPU values need 8-byte size");

/*
 * The key of a counters row (flow_stats: slot is the direction) and of an
 * overflow row (flow_overflow: FLOW_OVERFLOW_SLOT()). An attachment of one
 * interface keeps them in arrays, which read only the slot: the first four
 * bytes. A program set that serves many interfaces (flow_cfg.per_iface, a
 * daemon's) keeps them in hashes keyed by both, a row per interface that
 * user space inserts before it links the programs to the interface and
 * deletes after it unlinked them. Slot and ifindex 0 hold what arrives on
 * an interface that has no row (never, while user space keeps that order).
 */
struct flow_slot_key {
	__u32 slot;
	__u32 ifindex;
};
_Static_assert(sizeof(struct flow_slot_key) == 8, "flow_slot_key layout changed");

/*
 * The most interfaces one program set serves: its counters and overflow
 * hashes are sized for them (their rows are allocated as interfaces are
 * linked, so the bound costs only the buckets).
 */
#define FLOW_SET_MAX_IFACES 4096

/*
 * What a later fragment needs of its first. A datagram is its source,
 * destination, protocol and ID (RFC 791); for IPv6 the protocol is the
 * fragment header's next header, the same in every fragment, and the
 * transport protocol, known only from the first fragment (AH may come
 * between), travels with the ports.
 */
struct frag_key {
	__u8 src[16];
	__u8 dst[16];
	__u32 id;		/* IPv4 ID or IPv6 Identification, as on the wire */
	__u8 proto;		/* IPv4 protocol, IPv6 fragment next header */
	__u8 ip_version;
	__u8 tunnel;		/* the tunnel type an inner datagram came through */
	__u8 pad;
};
_Static_assert(sizeof(struct frag_key) == 40, "frag_key layout changed");

struct frag_flow {
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

#define FLOW_FRAG_ENTRIES 8192


/* Fixed when the programs are loaded (.rodata); the verifier prunes on it. */
struct flow_config {
	__u8 shared_map;	/* flows is a BPF_MAP_TYPE_HASH updated atomically */
	__u8 replay;		/* lengths and time come from flow_replay_frame */
	__u8 owners;		/* TC egress notes each new row's socket */
	__u8 retrans;		/* track TCP sequence numbers for retransmissions */
	__u8 passive_rtt;	/* RTT from TCP timestamps echoed back */
	__u8 per_iface;		/* counters and overflow rows per interface (a program set) */
	__u8 decap;		/* enum flow_decap */
	/*
	 * Counters flow_stats holds (0: FLOW_NR_COUNTERS). A program set of
	 * the release before, adopted, has fewer: the programs loaded again
	 * on it count no further, and sample_tick follows them.
	 */
	__u8 nr_counters;
	/* VXLAN's UDP destination ports besides 4789 and 8472; 0: none */
	__be16 vxlan_ports[FLOW_VXLAN_EXTRA_PORTS];
};

/*
 * The socket a locally sent flow came from, noted by TC egress when it
 * inserts the flow's row (once per epoch, not per packet). Forwarded
 * packets have no socket and leave no entry. Keyed by the flow's key, so
 * that it outlives the epochs' tables; an LRU, as nothing counts on it.
 */
struct flow_owner {
	__u64 cookie;		/* bpf_get_socket_cookie(): the socket table's key */
	__u64 cgroup_id;	/* bpf_skb_cgroup_id(): the socket's cgroup v2 */
};

/*
 * Passive RTT (pping's method, one timestamp in flight per flow): a TSval
 * seen on a flow at this hook, then echoed as TSecr by a packet of the
 * reverse flow at this interface, gives the round trip from here to the
 * host that echoed it and back. The first packet with a new TSval (its
 * first: the echo answers that one), when none is pending, leaves it and
 * its time here; the first echo of it takes
 * it and adds a sample. An echo of a later TSval drops it unsampled (the
 * time would be too long). One sample per round trip is plenty for the
 * minimum and a smoothed value, and keeps the state to one entry per flow
 * in one map, without pping's second map of timestamps.
 */
struct flow_rtt {
	__u64 samples;
	__u64 pending_ns;	/* when pending_tsval was first seen; 0: none */
	__u32 pending_tsval;	/* as on the wire */
	__u32 last_tsval;	/* the last TSval seen on the flow */
	__u32 last_tsecr;	/* the last TSecr looked up in the reverse flow */
	__u32 min_us;
	__u32 srtt_us;		/* smoothed as TCP does: 7/8 old + 1/8 new */
	__u32 pad;
};

/*
 * Packet-level retransmissions of one TCP flow, by Wireshark's rule: a
 * segment with payload that starts below the highest end sequence seen
 * (keepalives aside). One entry per flow shared by every CPU, since one
 * flow's segments leave from several, and kept across epochs. Counts are
 * the flow's totals since its first payload was seen.
 */
struct flow_tcp_seq {
	__u64 retrans_segs;	/* wire segments (a GSO frame's gso_segs) */
	__u64 retrans_bytes;	/* TCP payload octets */
	__u32 high_end;		/* highest sequence + payload seen, host order */
	__u32 pad;
};

/*
 * Written by `flowacct replay` into .bss before each BPF_PROG_TEST_RUN: what
 * the capture record says of the frame being run.
 */
struct flow_replay_frame {
	__u64 wire_len;		/* original length on the wire */
	__u64 cap_len;		/* bytes captured; fewer than are run if padded */
	__u64 ts_ns;		/* capture timestamp, ns since the epoch */
};

/*
 * Sampling, changeable while attached (a one-entry array map, pinned).
 * A sampled frame goes to the perf buffer as a flow_sample_hdr followed by
 * its first cap_len bytes.
 */
enum flow_sample_mode {
	FLOW_SAMPLE_EVERY = 0,	/* every Nth frame, per CPU */
	FLOW_SAMPLE_RANDOM = 1,	/* each frame with probability 1/N */
	FLOW_SAMPLE_HASH = 2,	/* hash of flow and invariant field under 1/N */
};

struct flow_sample_config {
	__u32 rate;		/* N; 0: off */
	__u32 mode;		/* enum flow_sample_mode */
	__u32 snaplen;		/* bytes of each frame to copy */
	__u32 pad;
};

struct flow_sample_hdr {
	__u64 ts_ns;		/* CLOCK_MONOTONIC live; capture time in replay */
	__u32 ifindex;
	__u32 frame_len;	/* the frame's whole length on the wire */
	__u32 cap_len;		/* bytes of the frame after this header */
	__u32 rate;		/* N when it was taken */
	__u8 mode;
	__u8 direction;
	__u16 verdict;		/* 0: accounted to key; else the reason counter */
	__u32 pad;
	struct flow_key key;	/* the flow it was accounted to */
};

#define FLOW_DEFAULT_SNAPLEN	256
#define FLOW_MAX_SNAPLEN	65000	/* a perf record holds under 64 KiB */

#define FLOW_DEFAULT_MAX_FLOWS 65536

#endif /* FLOW_KERN_USER_H */
