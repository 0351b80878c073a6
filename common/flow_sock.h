/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the socket programs (sock/) and user space exchange: the socket
 * table, keyed by socket cookie, and the listeners whose accepted
 * connections inherit their process. Kept apart from flow_kern_user.h
 * because the socket programs are built against vmlinux.h, whose kernel
 * types (struct flow_stats among them) would clash with ours.
 */
#ifndef FLOW_SOCK_H
#define FLOW_SOCK_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define FLOW_COMM_LEN 16

/* Where a socket's process came from. */
enum flow_sock_origin {
	FLOW_SOCK_CONNECT = 1,	/* TCP_CONNECT_CB, in connect()'s context */
	FLOW_SOCK_ACCEPTED,	/* the listener's, recorded at listen() */
	FLOW_SOCK_CREATE,	/* cgroup/sock_create (UDP), in socket()'s context */
	FLOW_SOCK_ADOPTED,	/* there before we attached; user space fills it */
};

/*
 * One local socket. Addresses are IPv4-mapped for IPv4, as in flow_key;
 * ports are in host order; the TCP fields are those of tcp_info (ss -ti):
 * srtt and rttvar in us, unscaled. A UDP socket has its process and no
 * tuple (it may never connect). Zero means "not known" for pid (an adopted
 * socket whose process user space has not found), netns and cgroup_id.
 */
struct flow_sock {
	__u64 cgroup_id;	/* the socket's cgroup v2 (its kernfs inode) */
	__u64 bytes_acked;
	__u64 bytes_received;
	__u64 bytes_retrans;
	__u64 updated_ns;	/* CLOCK_MONOTONIC of the last callback */
	__u32 netns;		/* inode of its network namespace */
	__u32 pid;		/* tgid */
	__u32 ino;		/* socket inode: how user space finds an adopted one's process */
	__u32 srtt_us;
	__u32 rttvar_us;
	__u32 min_rtt_us;
	__u32 snd_cwnd;		/* segments */
	__u32 total_retrans;	/* segments, the kernel's count */
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 lport;
	__u16 rport;
	__u8 ip_version;	/* 4 or 6; 0 when no tuple is known */
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 state;		/* TCP_ESTABLISHED, ... (include/net/tcp_states.h) */
	__u8 origin;		/* enum flow_sock_origin */
	char comm[FLOW_COMM_LEN];
};
_Static_assert(sizeof(struct flow_sock) == 128, "flow_sock layout changed");
/* include/net/tcp_states.h's TCP_CLOSE: a closed connection's last state. */
#define FLOW_TCP_STATE_CLOSE	7

/* A listening socket, by what its accepted connections share with it. */
struct flow_listen_key {
	__u32 netns;
	__u16 port;		/* host order */
	__u16 pad;
};

struct flow_listener {
	__u64 cgroup_id;
	__u32 pid;		/* 0: there before we attached, not yet found */
	__u32 ino;		/* its socket inode, for user space to find it by */
	char comm[FLOW_COMM_LEN];
};

#define FLOW_SOCK_ENTRIES	65536
#define FLOW_LISTEN_ENTRIES	4096

#endif /* FLOW_SOCK_H */
