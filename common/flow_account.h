/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one accounting function both hooks call once a frame is parsed. It
 * keeps the books: seen == accounted + sum(reasons), and every accounted
 * packet is in exactly one flow row, the overflow row included.
 */
#ifndef FLOW_ACCOUNT_H
#define FLOW_ACCOUNT_H

#include <linux/errno.h>

#include "flow_maps.h"
#include "parsing.h"

FLOW_MAPS(extern);

/*
 * Live: jiffies. The verifier inlines bpf_jiffies64() into one load, where
 * the coarse clock is a helper call (about 6 ns a packet); a tick is as
 * fine as the coarse clock, and plenty for flow first/last-seen times. The
 * library turns them into CLOCK_MONOTONIC ns as it reads a table
 * (lib/clock.c).
 * Replay: the capture's own timestamp, so the output does not depend on
 * when the replay ran.
 */
static __always_inline __u64 flow_now(void)
{
	if (flow_cfg.replay)
		return replay_frame.ts_ns;
	return bpf_jiffies64();
}

/*
 * Fills in what replay knows better than the program's context: the frame's
 * length on the wire (the capture may hold less), and how much of what we
 * run was captured when the replayer had to pad it.
 */
static __always_inline void parse_ctx_replay(struct parse_ctx *pc)
{
	if (!flow_cfg.replay)
		return;
	pc->wire_len = replay_frame.wire_len;
	if (replay_frame.cap_len < (__u64)(pc->data_end - pc->data)) {
		pc->padded = 1;
		pc->cap_len = replay_frame.cap_len;
	}
}

/* The counters flow_stats holds: a constant to the verifier. */
static __always_inline __u32 flow_nr_counters(void)
{
	return flow_cfg.nr_counters && flow_cfg.nr_counters < FLOW_NR_COUNTERS ?
	       flow_cfg.nr_counters : FLOW_NR_COUNTERS;
}

/*
 * Adds to a counter whose index the verifier cannot see bounded (a global
 * function's return value). The empty asm keeps clang from checking a copy
 * of idx and indexing with the unchecked original.
 */
static __always_inline void flow_count(struct flow_stats *st, __u32 idx,
				       __u64 n)
{
	asm volatile("" : "+r"(idx));
	if (idx < flow_nr_counters())
		st->counters[idx] += n;
}

/* Right after the counters, however many the map holds. */
static __always_inline __u64 *flow_sample_tick(struct flow_stats *st)
{
	return &st->counters[flow_nr_counters()];
}

/*
 * A live value's times are 32-bit ticks. A per-CPU slot, or a shared row's
 * owner half, has one writer, to which jiffies never go back: its last time
 * is simply now. The other CPUs of a shared row may store times a tick
 * apart in either order, so they compare, by the difference, which stays
 * right across the wrap.
 */
static __always_inline void flow_slot_add(struct flow_map_value *v, __u32 segs,
					  __u64 bytes, __u32 now, __u64 f)
{
	/* A per-CPU slot this CPU has not used yet is all zero. */
	int unused = !(v->packets_flags & FLOW_PACKETS_MASK);

	v->packets_flags = (v->packets_flags + segs) | f;
	v->bytes += bytes;
	if (unused)
		v->first_seen = now;
	v->last_seen = now;
}

static __always_inline void flow_shared_value_add(struct flow_shared_value *v,
						  __u32 segs, __u64 bytes,
						  __u32 now, __u64 f)
{
	if (v->owner == bpf_get_smp_processor_id()) {
		flow_slot_add(&v->own, segs, bytes, now, f);
		return;
	}
	__sync_fetch_and_add(&v->packets_flags, segs);
	__sync_fetch_and_add(&v->bytes, bytes);
	/* Most segments add no new flag: skip the locked op then. */
	if ((v->packets_flags | f) != v->packets_flags)
		__sync_fetch_and_or(&v->packets_flags, f);
	if ((__s32)(now - v->own.first_seen) < 0)
		v->own.first_seen = now;
	if ((__s32)(now - v->last_seen) > 0)
		v->last_seen = now;
}

static __always_inline void flow_live_value_add(void *v, __u32 segs,
						__u64 bytes, __u32 now,
						__u64 f, int shared)
{
	if (shared)
		flow_shared_value_add(v, segs, bytes, now, f);
	else
		flow_slot_add(v, segs, bytes, now, f);
}

static __always_inline void flow_replay_value_add(struct flow_replay_value *v,
						  __u32 segs, __u64 bytes,
						  __u64 now, __u64 f)
{
	int unused = !(v->packets_flags & FLOW_PACKETS_MASK);

	v->packets_flags = (v->packets_flags + segs) | f;
	v->bytes += bytes;
	if (unused || now < v->first_seen)
		v->first_seen = now;
	if (now > v->last_seen)
		v->last_seen = now;
}

/*
 * Adds a packet to a row of either layout; flow_cfg.replay is a constant to
 * the verifier, which drops the other branch. Replay runs on one CPU at a
 * time, so its rows need no atomics.
 */
static __always_inline void flow_value_add(void *v, __u32 segs, __u64 bytes,
					   __u64 now, __u8 flags, int atomic)
{
	__u64 f = (__u64)flags << FLOW_FLAGS_SHIFT;

	if (flow_cfg.replay)
		flow_replay_value_add(v, segs, bytes, now, f);
	else
		flow_live_value_add(v, segs, bytes, now, f, atomic);
}

/* Inserts a flow with its first packet, in the layout of flow_value_add. */
static __always_inline long flow_value_insert(void *table,
					      const struct flow_pkt *pkt,
					      __u32 segs, __u64 bytes, __u64 now)
{
	__u64 pf = segs | (__u64)pkt->tcp_flags << FLOW_FLAGS_SHIFT;

	if (flow_cfg.replay) {
		struct flow_replay_value init = {
			.packets_flags = pf, .bytes = bytes,
			.first_seen = now, .last_seen = now,
		};

		return bpf_map_update_elem(table, &pkt->key, &init, BPF_NOEXIST);
	} else if (flow_cfg.shared_map) {
		struct flow_shared_value init = {
			.own = { .packets_flags = pf, .bytes = bytes,
				 .first_seen = now, .last_seen = now },
			.owner = bpf_get_smp_processor_id(),
		};

		return bpf_map_update_elem(table, &pkt->key, &init, BPF_NOEXIST);
	} else {
		struct flow_map_value init = {
			.packets_flags = pf, .bytes = bytes,
			.first_seen = now, .last_seen = now,
		};

		return bpf_map_update_elem(table, &pkt->key, &init, BPF_NOEXIST);
	}
}

/*
 * A first fragment leaves its ports (and, for IPv6, its transport protocol)
 * for the later fragments of its datagram; a later fragment takes them, or
 * stays on ports 0 as an orphan if its first fragment was not seen (lost,
 * out of order, or evicted). Fragments are rare: the map is touched only
 * for them.
 */
static __always_inline void flow_frag_attribute(struct flow_stats *st,
						struct flow_pkt *pkt, __u32 segs)
{
	struct frag_key fk = {};
	struct frag_flow *ff;

	__builtin_memcpy(fk.src, pkt->key.src, sizeof(fk.src));
	__builtin_memcpy(fk.dst, pkt->key.dst, sizeof(fk.dst));
	fk.id = pkt->frag_id;
	fk.proto = pkt->frag_proto;
	fk.ip_version = pkt->key.ip_version;
	fk.tunnel = pkt->key.tunnel;

	if (pkt->frag == FLOW_FRAG_FIRST) {
		struct frag_flow f = {
			.sport = pkt->key.sport,
			.dport = pkt->key.dport,
			.proto = pkt->key.proto,
		};

		/* A repeated first fragment replaces the entry: newest wins. */
		bpf_map_update_elem(&flow_frags, &fk, &f, BPF_ANY);
		return;
	}
	st->counters[FLOW_C_FRAGMENTS] += segs;
	ff = bpf_map_lookup_elem(&flow_frags, &fk);
	if (ff) {
		pkt->key.sport = ff->sport;
		pkt->key.dport = ff->dport;
		pkt->key.proto = ff->proto;
	} else {
		st->counters[FLOW_C_FRAG_ORPHANS] += segs;
	}
}

/* --decap inner's counters of an accounted packet, overflow or not. */
static __always_inline void flow_tunnel_count(struct flow_stats *st,
					      const struct flow_pkt *pkt, __u32 segs)
{
	if (pkt->odd & FLOW_ODD_TUN_UNDECODED)
		st->counters[FLOW_C_TUNNEL_UNDECODED] += segs;
	if (!pkt->key.tunnel)
		return;
	st->counters[FLOW_C_TUNNEL_DECAP] += segs;
	if (pkt->odd & FLOW_ODD_TUN_NESTED)
		st->counters[FLOW_C_TUNNEL_NESTED] += segs;
}

/*
 * A tunnelled flow's tunnel, noted by the packet that finds none once it
 * is on its row; a packet of the flow through another tunnel of its type
 * stays on the row and is counted.
 */
static __always_inline void flow_tunnel_note(struct flow_stats *st,
					     const struct flow_pkt *pkt, __u32 segs)
{
	const __u32 *a, *b;
	struct flow_tunnel *t;
	__u32 diff = 0;
	int i;

	t = bpf_map_lookup_elem(&flow_tunnels, &pkt->key);
	if (!t) {
		bpf_map_update_elem(&flow_tunnels, &pkt->key, &pkt->tun, BPF_NOEXIST);
		return;
	}
	a = (const __u32 *)t;
	b = (const __u32 *)&pkt->tun;
	/* All of it: addresses, id, type, whether it has an id (pad 0). */
#pragma unroll
	for (i = 0; i < (int)(sizeof(struct flow_tunnel) / 4); i++)
		diff |= a[i] ^ b[i];
	if (diff)
		st->counters[FLOW_C_TUNNEL_SHARED] += segs;
}

#ifdef FLOW_EPOCH_TEST_DELAY
static long flow_epoch_test_spin(__u32 i __attribute__((unused)),
				 void *ctx __attribute__((unused)))
{
	return 0;
}
#endif

/*
 * Adds a packet to its flow in @table, inserting the flow if it is new.
 * Returns 0, 1 if it inserted the row, or the insert's error when the table
 * is full (or another failure), for the overflow path.
 */
static __always_inline long flow_table_add(void *table, struct flow_pkt *pkt,
					   __u32 segs, __u64 bytes, __u64 now)
{
	void *v;
	long err;

	v = bpf_map_lookup_elem(table, &pkt->key);
	if (v) {
#ifdef FLOW_EPOCH_TEST_DELAY
		/*
		 * Only in the test build tests/epoch_hammer uses to show that
		 * a drain without the wait loses counts: the window in which
		 * the program holds a pointer into its epoch's table, tens of
		 * ns here, made wider than a flip and a drain take (bpf_loop:
		 * a loop of its own the verifier would walk to the end).
		 */
		bpf_loop(FLOW_EPOCH_TEST_DELAY, flow_epoch_test_spin, NULL, 0);
#endif
		flow_value_add(v, segs, bytes, now, pkt->tcp_flags,
			       flow_cfg.shared_map);
		return 0;
	}
	err = flow_value_insert(table, pkt, segs, bytes, now);
	if (!err)
		return 1;
	if (err != -EEXIST)
		return err;
	/* Another CPU inserted the same flow between our two calls. */
	v = bpf_map_lookup_elem(table, &pkt->key);
	if (!v)
		return err;
	flow_value_add(v, segs, bytes, now, pkt->tcp_flags, flow_cfg.shared_map);
	return 0;
}

/*
 * One lookup call site per table: the verifier inlines a hash lookup
 * (htab_map_gen_lookup) only at a call site that sees a single map, so the
 * two tables must not share one. With only the lookup in each branch and the
 * insert on a selected table, clang 14 merged the two lookups into one call
 * on a selected map. With each table's whole path in its own branch neither
 * clang 14 nor 19 merges them, but nothing forbids it: the asm statements,
 * which differ in an immediate that a merge would have to turn into a
 * register, make it impossible. tests/suites/test_run.sh
 * (test_run_two_lookup_sites) checks the object for two lookup calls, one on
 * each table.
 */
static __always_inline long flow_table_add_epoch(__u32 epoch,
						 struct flow_pkt *pkt,
						 __u32 segs, __u64 bytes,
						 __u64 now)
{
	__u8 direction = pkt->key.direction, ip_version = pkt->key.ip_version;
	int row_cpu = flow_cfg.shared_map && !flow_cfg.replay;
	long err;

	/* This CPU's row of the flow (flow_key_set_row_cpu); the other maps
	 * keyed by the flow see its key as it was. */
	if (row_cpu)
		flow_key_set_row_cpu(&pkt->key, bpf_get_smp_processor_id());
	if (epoch) {
		err = flow_table_add(&flows_1, pkt, segs, bytes, now);
		asm volatile("" : "+r"(err) : "i"(1));
	} else {
		err = flow_table_add(&flows_0, pkt, segs, bytes, now);
		asm volatile("" : "+r"(err) : "i"(0));
	}
	if (row_cpu) {
		pkt->key.direction = direction;
		pkt->key.ip_version = ip_version;
	}
	return err;
}

/*
 * A packet whose new flow could not be inserted into its epoch's full table
 * is accounted in that epoch's overflow row for its direction: counted, not
 * lost, and drained with the epoch like every row.
 */
static __always_inline void flow_overflow_add(__u32 epoch, __u8 direction,
					      __u32 ifindex, __u32 segs,
					      __u64 bytes, __u64 now, __u8 flags)
{
	struct flow_slot_key k = {
		.slot = FLOW_OVERFLOW_SLOT(epoch, direction & 1),
		.ifindex = ifindex,
	};
	void *ov;

	ov = bpf_map_lookup_elem(&flow_overflow, &k);
	if (!ov && flow_cfg.per_iface) {
		k.ifindex = 0;
		ov = bpf_map_lookup_elem(&flow_overflow, &k);
	}
	if (ov)
		flow_value_add(ov, segs, bytes, now, flags, 0);
}

/*
 * Wireshark's rule, on one entry per flow that every CPU shares: a segment
 * that takes sequence space (payload, or a FIN's one number) and starts
 * below the highest end seen is a retransmission, unless it is a keepalive
 * (at most one byte, one below that end, no SYN, FIN or RST). Two CPUs
 * racing on one flow may store high_end out of order; that can only make
 * the later segment's check run against an older, lower end. A SYN starts
 * the sequence space afresh (a new connection on a tuple used before), so
 * a retransmitted SYN is not counted; the kernel counts it.
 */
static __always_inline void flow_tcp_track(const struct flow_pkt *pkt,
					   __u32 segs)
{
	struct flow_tcp_seq *ts, init = {};
	__u32 seq, payload, end;
	__u8 flags = pkt->tcp_flags;

	if (pkt->key.proto != IPPROTO_TCP || pkt->frag ||
	    (pkt->odd & FLOW_ODD_TCP_DOFF))
		return;
	payload = pkt->ip_len > pkt->hdr_len ? pkt->ip_len - pkt->hdr_len : 0;
	seq = bpf_ntohl(pkt->invariant);
	/* SYN and FIN each take one sequence number. */
	end = seq + payload + !!(flags & 0x02) + !!(flags & 0x01);
	if (end == seq)
		return;		/* a pure ACK or RST: no sequence space */
	ts = bpf_map_lookup_elem(&flow_tcp_seq, &pkt->key);
	if (flags & 0x02) {
		if (!ts) {
			init.high_end = end;
			bpf_map_update_elem(&flow_tcp_seq, &pkt->key, &init, BPF_NOEXIST);
			return;
		}
		/* In place: another CPU may hold this entry. */
		ts->high_end = end;
		ts->retrans_segs = 0;
		ts->retrans_bytes = 0;
		return;
	}
	if (!ts) {
		init.high_end = end;
		bpf_map_update_elem(&flow_tcp_seq, &pkt->key, &init, BPF_NOEXIST);
		return;
	}
	if ((__s32)(seq - ts->high_end) < 0) {
		if (payload <= 1 && seq == ts->high_end - 1 && !(flags & 0x07))
			return;
		__sync_fetch_and_add(&ts->retrans_segs, segs);
		__sync_fetch_and_add(&ts->retrans_bytes, payload);
	}
	if ((__s32)(end - ts->high_end) > 0)
		ts->high_end = end;
}

/* The reverse flow's key at this interface: what its echoes come back on. */
static __always_inline void flow_key_reverse(const struct flow_key *k,
					     struct flow_key *r)
{
	__builtin_memcpy(r->src, k->dst, sizeof(r->src));
	__builtin_memcpy(r->dst, k->src, sizeof(r->dst));
	r->sport = k->dport;
	r->dport = k->sport;
	r->ifindex = k->ifindex;
	r->proto = k->proto;
	r->ip_version = k->ip_version;
	r->direction = !k->direction;
	r->tunnel = k->tunnel;
	r->tunnel_tag = k->tunnel_tag;	/* a tunnel's two directions share it */
}

/*
 * Passive RTT from the timestamp option, read only where RFC 7323's
 * Appendix A puts it (NOP, NOP, TS first), as Linux and the BSDs send it on
 * every segment after the handshake; elsewhere it is not looked for. The
 * clock is the precise one (the coarse clock's jiffy is too long for an
 * RTT), read only when a timestamp becomes pending or is echoed.
 */
static __always_inline void flow_passive_rtt(void *data, void *data_end,
					     const struct flow_pkt *pkt,
					     int reason)
{
	struct flow_rtt *fr, *rev, init = {};
	struct flow_key rk;
	__u32 tsval, tsecr, rtt_us;
	__u64 now;
	__u8 *th;

	if (reason || pkt->key.proto != IPPROTO_TCP || pkt->frag ||
	    (pkt->odd & FLOW_ODD_TCP_DOFF))
		return;
	th = data + (pkt->l4_off & L4_OFF_MAX);
	if ((void *)(th + 32) > data_end)
		return;
	/*
	 * A SYN or SYN-ACK begins a connection on the tuple again, with a
	 * timestamp clock of its own: what the entry holds is the last one's.
	 * Looked for before the option's place, which a SYN's seldom has. A
	 * new tuple's SYN finds nothing: the lookup, not the delete's bucket
	 * lock, is what a flood of them costs.
	 */
	if (th[13] & 0x02) {
		if (bpf_map_lookup_elem(&flow_rtt, &pkt->key))
			bpf_map_delete_elem(&flow_rtt, &pkt->key);
		return;
	}
	if ((th[12] >> 4) < 8 || *(__u32 *)(th + 20) != bpf_htonl(0x0101080a))
		return;
	tsval = *(__u32 *)(th + 24);
	tsecr = *(__u32 *)(th + 28);

	fr = bpf_map_lookup_elem(&flow_rtt, &pkt->key);

	/*
	 * An echo of the reverse flow's pending TSval. A TSecr changes about
	 * once a round trip: the reverse flow is looked up only then.
	 */
	if (tsecr && (th[13] & 0x10) && (!fr || fr->last_tsecr != tsecr)) {
		if (fr)
			fr->last_tsecr = tsecr;
		flow_key_reverse(&pkt->key, &rk);
		rev = bpf_map_lookup_elem(&flow_rtt, &rk);
		if (rev && rev->pending_ns && rev->pending_tsval == tsecr) {
			now = flow_cfg.replay ? replay_frame.ts_ns : bpf_ktime_get_ns();
			rtt_us = now > rev->pending_ns ? (now - rev->pending_ns) / 1000 : 0;
			rev->pending_ns = 0;
			if (!rev->samples || rtt_us < rev->min_us)
				rev->min_us = rtt_us;
			rev->srtt_us = rev->samples ?
				rev->srtt_us - (rev->srtt_us >> 3) + (rtt_us >> 3) : rtt_us;
			rev->samples++;
		} else if (rev && rev->pending_ns &&
			   (__s32)(bpf_ntohl(tsecr) - bpf_ntohl(rev->pending_tsval)) > 0) {
			rev->pending_ns = 0;	/* a later one echoed: this one will not be */
		}
	}
	/*
	 * A TSval's first packet, none of the flow's pending: time it. Only
	 * its first: the echo answers the first packet that carried it.
	 */
	if (fr) {
		/*
		 * Only a TSval later than every one before it: a segment
		 * reordered on the way, or forwarded by another CPU, carrying
		 * an earlier one would make the next packet of the later
		 * TSval look like its first, timed after the peer had it.
		 */
		if ((__s32)(bpf_ntohl(tsval) - bpf_ntohl(fr->last_tsval)) <= 0)
			return;
		fr->last_tsval = tsval;
		if (fr->pending_ns)
			return;
		fr->pending_tsval = tsval;
		fr->pending_ns = flow_cfg.replay ? replay_frame.ts_ns : bpf_ktime_get_ns();
		return;
	}
	now = flow_cfg.replay ? replay_frame.ts_ns : bpf_ktime_get_ns();
	init.pending_tsval = tsval;
	init.last_tsval = tsval;
	init.last_tsecr = tsecr;
	init.pending_ns = now;
	bpf_map_update_elem(&flow_rtt, &pkt->key, &init, BPF_NOEXIST);
}

/**
 * flow_account - add one parsed frame to the books
 * @st: this CPU's stats slot for the hook's direction
 * @reason: parse_frame()'s verdict: 0, or the counter naming why not
 * @segs: wire packets the frame stands for (gso_segs), >= 1
 *
 * Reads flow_epoch once: every write this packet makes goes to the table
 * (and overflow row) of that epoch, which user space will not read until an
 * RCU grace period after it flipped the index, so after this program ended.
 * Returns 1 if it inserted the flow's row in that epoch's table, else 0.
 */
static __always_inline int flow_account(struct flow_stats *st,
					 struct flow_pkt *pkt, int reason,
					 __u32 segs, __u32 ifindex,
					 __u8 direction)
{
	__u64 bytes, now;
	__u32 epoch;
	long err;

	st->counters[FLOW_C_SEEN] += segs;
	if (flow_cfg.replay && replay_frame.cap_len < replay_frame.wire_len)
		st->counters[FLOW_C_CUT_FRAMES]++;
	if (segs > 1)
		st->counters[FLOW_C_GSO_FRAMES]++;
	if (reason) {
		flow_count(st, reason, segs);
		return 0;
	}

	/* Each segment of a GSO frame repeats the headers on the wire. */
	bytes = pkt->ip_len + (__u64)(segs - 1) * pkt->hdr_len;
	pkt->key.ifindex = ifindex;
	pkt->key.direction = direction;
	now = flow_now();
#ifdef FLOW_NO_EPOCHS
	/* Only in make bench's build without epochs, to measure what they cost. */
	epoch = 0;
#else
	epoch = flow_epoch & 1;
	/*
	 * The epoch is read before the packet is counted, in the object as in
	 * the source: a daemon that finds the counters unchanged over a
	 * table's turn leaves the table unread (lib/stream.c table_quiet()).
	 */
	asm volatile("" ::: "memory");
#endif

	st->counters[FLOW_C_ACCOUNTED] += segs;
	st->counters[FLOW_C_ACCOUNTED_BYTES] += bytes;
	if (pkt->odd) {
		if (pkt->odd & FLOW_ODD_JUMBO)
			st->counters[FLOW_C_IPV6_JUMBOGRAMS] += segs;
		if (pkt->odd & FLOW_ODD_TCP_DOFF)
			st->counters[FLOW_C_TCP_DOFF_INVALID] += segs;
		if (pkt->odd & FLOW_ODD_V4_LEN)
			st->counters[FLOW_C_IPV4_LEN_FROM_FRAME] += segs;
	}
	if (pkt->frag)
		flow_frag_attribute(st, pkt, segs);
	if (flow_cfg.decap)
		flow_tunnel_count(st, pkt, segs);

	if (flow_cfg.retrans)
		flow_tcp_track(pkt, segs);
	err = flow_table_add_epoch(epoch, pkt, segs, bytes, now);
	/* On a row: an overflowed packet's tunnel would outlive every record. */
	if (flow_cfg.decap && err >= 0 && pkt->key.tunnel)
		flow_tunnel_note(st, pkt, segs);
	if (err >= 0)
		return err;
	if (err == -E2BIG)
		st->counters[FLOW_C_INSERT_FULL]++;
	else if (err == -ENOMEM)
		st->counters[FLOW_C_INSERT_NOMEM]++;
	else
		st->counters[FLOW_C_INSERT_OTHER]++;
	st->counters[FLOW_C_OVERFLOW] += segs;
	flow_overflow_add(epoch, direction, ifindex, segs, bytes, now,
			  pkt->tcp_flags);
	return 0;
}

/*
 * A 32-bit hash of what two hosts see alike of a packet: addresses, ports,
 * protocol and an invariant field, not the interface or the direction. The
 * XDP side of one host and the TC side of another then sample the same
 * packets (PSAMP hash-based selection, RFC 5475).
 */
static __always_inline __u32 flow_hash(const struct flow_pkt *pkt, int reason)
{
	const __u32 *w = (const __u32 *)&pkt->key;
	__u32 h = 0x5bd1e995 ^ (__u32)reason;
	int i;

	/* src, dst, then sport and dport in one word */
#pragma unroll
	for (i = 0; i < 9; i++) {
		h ^= w[i];
		h *= 0x9e3779b1;
		h = (h << 13) | (h >> 19);
	}
	h ^= pkt->key.proto | (__u32)pkt->key.ip_version << 8;
	h *= 0x9e3779b1;
	h ^= pkt->invariant;
	/* murmur3's finaliser: every input bit moves every output bit */
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

/**
 * flow_sample_pick - is this frame a sample?
 *
 * Every frame is a candidate, IP or not, accounted or not: a malformed frame
 * is just what an operator wants to look at. With sampling off this is one
 * inlined array lookup and a compare. Returns the sampling configuration
 * for flow_sample_send(), or NULL.
 */
static __always_inline const struct flow_sample_config *
flow_sample_pick(struct flow_stats *st, const struct flow_pkt *pkt, int reason)
{
	struct flow_sample_config *cfg;
	__u32 zero = 0, rate;

	cfg = bpf_map_lookup_elem(&flow_sample_cfg, &zero);
	if (!cfg || !cfg->rate)
		return NULL;
	rate = cfg->rate;
	if (cfg->mode == FLOW_SAMPLE_EVERY) {
		if (++*flow_sample_tick(st) < rate)
			return NULL;
		*flow_sample_tick(st) = 0;
	} else if (cfg->mode == FLOW_SAMPLE_RANDOM) {
		if (bpf_get_prandom_u32() > 0xffffffffu / rate)
			return NULL;
	} else if (flow_hash(pkt, reason) > 0xffffffffu / rate) {
		return NULL;
	}
	return cfg;
}

/**
 * flow_sample_send - send a picked frame to the perf buffer
 * @avail: bytes of the frame the program can copy (live: all of it); asked
 *	only for a sample, since at XDP it costs a helper call
 */
static __always_inline void flow_sample_send(void *ctx, struct flow_stats *st,
					     const struct flow_sample_config *cfg,
					     const struct flow_pkt *pkt, int reason,
					     __u64 avail, __u32 ifindex,
					     __u8 direction)
{
	struct flow_sample_hdr hdr;
	__u64 frame_len = avail, snap;
	__u32 rate = cfg->rate;
	long err;

	if (flow_cfg.replay) {
		/* Only the captured bytes, never the replayer's padding. */
		if (replay_frame.cap_len < avail)
			avail = replay_frame.cap_len;
		frame_len = replay_frame.wire_len;
	}
	snap = cfg->snaplen < avail ? cfg->snaplen : avail;
	if (snap > FLOW_MAX_SNAPLEN)
		snap = FLOW_MAX_SNAPLEN;

	__builtin_memset(&hdr, 0, sizeof(hdr));
	hdr.ts_ns = flow_cfg.replay ? replay_frame.ts_ns : bpf_ktime_get_ns();
	hdr.ifindex = ifindex;
	hdr.frame_len = frame_len;
	hdr.cap_len = snap;
	hdr.rate = rate;
	hdr.mode = cfg->mode;
	hdr.direction = direction;
	hdr.verdict = reason;
	if (!reason)
		hdr.key = pkt->key;

	/* The upper 32 bits of flags: packet bytes for the helper to append. */
	err = bpf_perf_event_output(ctx, &flow_samples,
				    BPF_F_CURRENT_CPU | (snap << 32), &hdr,
				    sizeof(hdr));
	if (!err)
		st->counters[FLOW_C_SAMPLES]++;
	else if (err == -ENOENT)
		st->counters[FLOW_C_SAMPLE_NO_READER]++;
	else if (err == -ENOSPC)
		st->counters[FLOW_C_SAMPLE_FULL]++;
	else
		st->counters[FLOW_C_SAMPLE_OTHER]++;
}

/* An array reads the slot alone; a program set's hash both (flow_slot_key). */
static __always_inline struct flow_stats *flow_stats_slot(__u32 direction,
							  __u32 ifindex)
{
	struct flow_slot_key k = { .slot = direction, .ifindex = ifindex };
	struct flow_stats *st;

	st = bpf_map_lookup_elem(&flow_stats, &k);
	if (!st && flow_cfg.per_iface) {
		k.ifindex = 0;
		st = bpf_map_lookup_elem(&flow_stats, &k);
	}
	return st;
}

#endif /* FLOW_ACCOUNT_H */
