/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the drop program (sock/flowacct_drop.bpf.c, on the kfree_skb
 * tracepoint) and user space exchange. Kept apart from flow_kern_user.h
 * for the reason flow_sock.h is: the drop program is built against
 * vmlinux.h. It uses struct flow_key's layout, repeated here as
 * struct flow_drop_key's first 44 bytes (lib/drainfile.c asserts they agree),
 * its tunnel_tag after the reason.
 */
#ifndef FLOW_DROP_H
#define FLOW_DROP_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "flow_tunnel.h"

/*
 * A drop row's key: the flow, as the hooks key it (addresses IPv4-mapped,
 * ports as on the wire, ICMP's type << 8 | code in dport, the interface
 * and direction of the drop, with --decap inner the inner packet of a
 * tunnel and the tunnel's type and tag), and the kernel's enum
 * skb_drop_reason, as the running kernel numbers it (user space names it
 * from its BTF). The tag comes after the reason: without --decap inner a
 * drop table's keys are the first FLOW_DROP_KEY_SIZE_OFF bytes, as an
 * earlier release's were.
 */
struct flow_drop_key {
	__u8 src[16];
	__u8 dst[16];
	__be16 sport;
	__be16 dport;
	__u32 ifindex;
	__u8 proto;
	__u8 ip_version;
	__u8 direction;		/* 0: the drop happened on the receive path, 1: on send */
	__u8 tunnel;		/* with --decap inner: the flow key's tunnel type */
	__u32 reason;
	__u32 tunnel_tag;	/* and its tunnel_tag */
};

#define FLOW_DROP_KEY_SIZE_OFF	48

/*
 * A drop row's value: packets (a GSO skb counts gso_segs) and IP-layer
 * bytes, added atomically (one value for every CPU), and the first and
 * last drop's time as the low 32 bits of jiffies, like a flow row's
 * struct flow_map_value, which it is laid out as (packets_flags holds no
 * flags here).
 */
struct flow_drop_value {
	__u64 packets;
	__u64 bytes;
	__u32 first_seen;
	__u32 last_seen;
};

/*
 * The drop books of one interface (per CPU; key: its ifindex; 0 for drops
 * on no interface of this namespace, and in `attached` mode on an
 * interface not watched). Every drop the program sees is counted in seen
 * and in exactly one of attributed or a FLOW_DC_REASON counter.
 */
#define FLOW_DROP_COUNTERS(X)						\
	X(SEEN,		"seen",		FLOW_DC_TOTAL)			\
	X(SEEN_BYTES,	"seen_bytes",	FLOW_DC_TOTAL)			\
	X(ATTRIBUTED,	"attributed",	FLOW_DC_TOTAL)			\
	X(NO_DEVICE,	"no_device",	FLOW_DC_REASON)			\
	X(OTHER_NETNS,	"other_netns",	FLOW_DC_REASON)			\
	X(NOT_WATCHED,	"not_watched",	FLOW_DC_REASON)			\
	X(PACKET_SOCKET, "packet_socket", FLOW_DC_REASON)		\
	X(NOT_IP,	"not_ip",	FLOW_DC_REASON)			\
	X(UNREADABLE,	"unreadable",	FLOW_DC_REASON)			\
	X(LATER_FRAGMENT, "later_fragment", FLOW_DC_REASON)		\
	X(TABLE_FULL,	"table_full",	FLOW_DC_REASON)

enum flow_drop_counter_kind { FLOW_DC_TOTAL, FLOW_DC_REASON };

enum flow_drop_counter {
#define FLOW_DROP_COUNTER_ENUM(id, name, kind) FLOW_DC_##id,
	FLOW_DROP_COUNTERS(FLOW_DROP_COUNTER_ENUM)
#undef FLOW_DROP_COUNTER_ENUM
	FLOW_NR_DROP_COUNTERS
};

struct flow_drop_stats {
	__u64 c[FLOW_NR_DROP_COUNTERS];
};

/* Set at load (.rodata). */
struct flow_drop_config {
	__u64 netns_ino;	/* the daemon's network namespace: drops elsewhere are not ours */
	__u32 all;		/* --drops all: every interface of the namespace */
	__u32 packet_sock_reason;	/* PACKET_SOCK_ERROR's value here; 0: none */
	__u32 consumed_reason;		/* SKB_CONSUMED's value here; 0: none */
	__u8 decap;			/* enum flow_decap: the program set's */
	__u8 pad[3];
	/* VXLAN's UDP destination ports besides 4789 and 8472 (the set's); 0: none */
	__be16 vxlan_ports[FLOW_VXLAN_EXTRA_PORTS];
};

#define FLOW_DROP_DEFAULT_ENTRIES 16384

/*
 * drop_watch holds as many interfaces as a program set serves
 * (FLOW_SET_MAX_IFACES); drop_stats a row for each watched one and key 0,
 * the books of none (every interface not watched). The program inserts a
 * watched interface's row at its first drop; key 0 user space inserts
 * before it attaches, so that it is always there.
 */
#define FLOW_DROP_WATCH_ENTRIES 4096
#define FLOW_DROP_STATS_ENTRIES (FLOW_DROP_WATCH_ENTRIES + 1)

/* direction in struct flow_drop_key */
#define FLOW_DROP_DIR_RX 0
#define FLOW_DROP_DIR_TX 1

_Static_assert(sizeof(struct flow_drop_key) == 52, "flow_drop_key layout changed");
_Static_assert(__builtin_offsetof(struct flow_drop_key, tunnel_tag) == FLOW_DROP_KEY_SIZE_OFF,
	       "the tag follows the key of earlier releases");
_Static_assert(sizeof(struct flow_drop_value) == 24, "flow_drop_value layout changed");
_Static_assert(sizeof(struct flow_drop_stats) % 8 == 0, "per-CPU values need 8-byte size");
_Static_assert(sizeof(struct flow_drop_config) == 32, "flow_drop_config layout changed");

#endif /* FLOW_DROP_H */
