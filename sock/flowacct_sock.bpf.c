// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Who owns a local socket and how its TCP connection is doing, by socket
 * cookie: the key the TC egress program records on a flow row. Attached
 * once per host, at the cgroup v2 root, so every socket of every cgroup
 * passes here. Unlike the packet programs these read kernel structures
 * (rttvar and bytes_retrans exist only in struct tcp_sock), so they are
 * built against the running kernel's BTF, with CO-RE.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "flow_sock.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Not in the 6.1 UAPI headers Debian 12 builds against. */
#define FLOW_SOL_TCP			6
#define FLOW_TCP_BPF_SOCK_OPS_CB_FLAGS	1008
#define FLOW_AF_INET			2
#define FLOW_AF_INET6			10
#define FLOW_SOCK_DGRAM			2
#define FLOW_IPPROTO_UDP		17
#define FLOW_TCP_LISTEN			10
#define FLOW_TCP_NEW_SYN_RECV		12
#define FLOW_TCP_TIME_WAIT		6

/* RTT, retransmit and state changes: what keeps the row's metrics fresh. */
#define FLOW_SOCK_CB_FLAGS \
	(BPF_SOCK_OPS_RTT_CB_FLAG | BPF_SOCK_OPS_RETRANS_CB_FLAG | \
	 BPF_SOCK_OPS_STATE_CB_FLAG)

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FLOW_SOCK_ENTRIES);
	__type(key, __u64);
	__type(value, struct flow_sock);
} flow_socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FLOW_LISTEN_ENTRIES);
	__type(key, struct flow_listen_key);
	__type(value, struct flow_listener);
} flow_listeners SEC(".maps");

static __always_inline __u32 current_netns(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
}

static __always_inline __u32 sk_netns(struct tcp_sock *tp)
{
	return BPF_CORE_READ(tp, inet_conn.icsk_inet.sk.__sk_common.skc_net.net, ns.inum);
}

static __always_inline __u32 sk_ino(struct sock *sk)
{
	struct socket *so = sk->sk_socket;

	return so ? BPF_CORE_READ(so, file, f_inode, i_ino) : 0;
}

static __always_inline __u64 sk_cgroup_id(struct sock *sk)
{
	return BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
}

static __always_inline void addr_mapped(__u8 out[16], const __u32 v4)
{
	__builtin_memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	__builtin_memcpy(out + 12, &v4, 4);
}

/* The tuple, the TCP metrics and the state of @tp, as tcp_info has them. */
static __always_inline void sock_fill(struct flow_sock *s, struct tcp_sock *tp)
{
	struct sock_common *skc = &tp->inet_conn.icsk_inet.sk.__sk_common;

	s->proto = IPPROTO_TCP;
	if (skc->skc_family == FLOW_AF_INET6) {
		s->ip_version = 6;
		BPF_CORE_READ_INTO(&s->laddr, skc, skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&s->raddr, skc, skc_v6_daddr.in6_u.u6_addr8);
	} else {
		s->ip_version = 4;
		addr_mapped(s->laddr, skc->skc_rcv_saddr);
		addr_mapped(s->raddr, skc->skc_daddr);
	}
	s->lport = skc->skc_num;
	s->rport = bpf_ntohs(skc->skc_dport);
	s->state = skc->skc_state;
	s->srtt_us = tp->srtt_us >> 3;
	s->rttvar_us = tp->mdev_us >> 2;
	s->min_rtt_us = tp->rtt_min.s[0].v;
	s->snd_cwnd = tp->snd_cwnd;
	s->total_retrans = tp->total_retrans;
	s->bytes_retrans = tp->bytes_retrans;
	s->bytes_acked = tp->bytes_acked;
	s->bytes_received = tp->bytes_received;
	s->updated_ns = bpf_ktime_get_ns();
}

static __always_inline void sock_own_current(struct flow_sock *s)
{
	s->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(s->comm, sizeof(s->comm));
	s->netns = current_netns();
}

SEC("sockops")
int flowacct_sockops(struct bpf_sock_ops *skops)
{
	struct flow_sock fresh = {}, *s;
	struct flow_listen_key lk = {};
	struct flow_listener *l, nl = {};
	struct bpf_sock *sk = skops->sk;
	struct tcp_sock *tp;
	__u64 cookie;
	int op = skops->op;

	if (!sk)
		return 1;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return 1;
	cookie = bpf_get_socket_cookie(skops);

	switch (op) {
	case BPF_SOCK_OPS_TCP_LISTEN_CB:
		/* In listen()'s context: remember who listens where. */
		lk.netns = sk_netns(tp);
		lk.port = skops->local_port;
		nl.pid = bpf_get_current_pid_tgid() >> 32;
		nl.cgroup_id = sk_cgroup_id(&tp->inet_conn.icsk_inet.sk);
		bpf_get_current_comm(nl.comm, sizeof(nl.comm));
		bpf_map_update_elem(&flow_listeners, &lk, &nl, BPF_ANY);
		return 1;
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		/* In connect()'s context: the process is current. */
		sock_own_current(&fresh);
		fresh.origin = FLOW_SOCK_CONNECT;
		fresh.cgroup_id = sk_cgroup_id(&tp->inet_conn.icsk_inet.sk);
		sock_fill(&fresh, tp);
		bpf_map_update_elem(&flow_socks, &cookie, &fresh, BPF_ANY);
		/* Added to what other programs of the cgroup asked for. */
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags |
						 FLOW_SOCK_CB_FLAGS);
		return 1;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		/* In softirq: the process is the listener's. */
		fresh.origin = FLOW_SOCK_ACCEPTED;
		fresh.netns = sk_netns(tp);
		fresh.cgroup_id = sk_cgroup_id(&tp->inet_conn.icsk_inet.sk);
		lk.netns = fresh.netns;
		lk.port = skops->local_port;
		l = bpf_map_lookup_elem(&flow_listeners, &lk);
		if (l) {
			fresh.pid = l->pid;
			__builtin_memcpy(fresh.comm, l->comm, sizeof(fresh.comm));
		}
		sock_fill(&fresh, tp);
		bpf_map_update_elem(&flow_socks, &cookie, &fresh, BPF_ANY);
		/* Added to what other programs of the cgroup asked for. */
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags |
						 FLOW_SOCK_CB_FLAGS);
		return 1;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_RTT_CB:
	case BPF_SOCK_OPS_RETRANS_CB:
	case BPF_SOCK_OPS_STATE_CB:
		s = bpf_map_lookup_elem(&flow_socks, &cookie);
		if (!s)
			return 1;	/* evicted, or not ours to know */
		sock_fill(s, tp);
		/* Accepted before its listener's process was known: by inode later. */
		if (!s->pid && !s->ino)
			s->ino = sk_ino(&tp->inet_conn.icsk_inet.sk);
		/* STATE_CB runs before the change: args[1] is the new state. */
		if (op == BPF_SOCK_OPS_STATE_CB)
			s->state = skops->args[1];
		return 1;
	}
	return 1;
}

/* UDP has no connect callback: its process is the one that creates it. */
SEC("cgroup/sock_create")
int flowacct_sock_create(struct bpf_sock *sk)
{
	struct flow_sock fresh = {};
	__u64 cookie;

	if (sk->type != FLOW_SOCK_DGRAM || sk->protocol != FLOW_IPPROTO_UDP)
		return 1;
	cookie = bpf_get_socket_cookie(sk);
	sock_own_current(&fresh);
	fresh.origin = FLOW_SOCK_CREATE;
	fresh.proto = FLOW_IPPROTO_UDP;
	fresh.cgroup_id = bpf_get_current_cgroup_id();
	fresh.updated_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&flow_socks, &cookie, &fresh, BPF_ANY);
	return 1;
}

/*
 * Connections that were there before we attached: ask for their callbacks
 * and note them, with their socket inode for user space to find the
 * process by. Walks only the network namespace of whoever reads the
 * iterator: user space enters each in turn.
 */
SEC("iter/tcp")
int flowacct_sock_adopt(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct flow_sock fresh = {}, *s;
	int flags;
	struct tcp_sock *tp;
	__u64 cookie;

	if (!skc || skc->skc_state == FLOW_TCP_TIME_WAIT ||
	    skc->skc_state == FLOW_TCP_NEW_SYN_RECV)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	if (skc->skc_state == FLOW_TCP_LISTEN) {
		/* Its connections to come inherit it, as if seen at listen(). */
		struct flow_listen_key lk = {
			.netns = sk_netns(tp),
			.port = skc->skc_num,
		};
		struct flow_listener nl = {
			.cgroup_id = sk_cgroup_id(&tp->inet_conn.icsk_inet.sk),
			.ino = sk_ino(&tp->inet_conn.icsk_inet.sk),
		};

		bpf_map_update_elem(&flow_listeners, &lk, &nl, BPF_NOEXIST);
		return 0;
	}
	cookie = bpf_get_socket_cookie(tp);
	/* Added to what other programs asked for; refused on older kernels,
	 * which leaves the connection with the values read here. */
	flags = tp->bpf_sock_ops_cb_flags | FLOW_SOCK_CB_FLAGS;
	bpf_setsockopt(tp, FLOW_SOL_TCP, FLOW_TCP_BPF_SOCK_OPS_CB_FLAGS,
		       &flags, sizeof(flags));
	s = bpf_map_lookup_elem(&flow_socks, &cookie);
	if (s) {
		sock_fill(s, tp);
		return 0;
	}
	fresh.origin = FLOW_SOCK_ADOPTED;
	fresh.netns = sk_netns(tp);
	fresh.cgroup_id = sk_cgroup_id(&tp->inet_conn.icsk_inet.sk);
	fresh.ino = sk_ino(&tp->inet_conn.icsk_inet.sk);
	sock_fill(&fresh, tp);
	bpf_map_update_elem(&flow_socks, &cookie, &fresh, BPF_NOEXIST);
	return 0;
}

/*
 * UDP sockets that were there before we attached: their process is found
 * by inode, as for TCP; their flows' rows reach them through the cookie
 * TC egress notes (--attribution).
 */
SEC("iter/udp")
int flowacct_sock_adopt_udp(struct bpf_iter__udp *ctx)
{
	struct udp_sock *udp = ctx->udp_sk;
	struct flow_sock fresh = {};
	struct sock *sk;
	__u64 cookie;

	if (!udp)
		return 0;
	sk = &udp->inet.sk;
	cookie = bpf_get_socket_cookie(sk);
	fresh.origin = FLOW_SOCK_ADOPTED;
	fresh.proto = FLOW_IPPROTO_UDP;
	fresh.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	fresh.cgroup_id = sk_cgroup_id(sk);
	fresh.ino = sk_ino(sk);
	fresh.updated_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&flow_socks, &cookie, &fresh, BPF_NOEXIST);
	return 0;
}
