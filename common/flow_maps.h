/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The maps and globals the XDP and TC programs share. The programs are built
 * as separate objects and linked by `bpftool gen object`, so every object
 * needs the same declaration: flow_maps.bpf.c expands FLOW_MAPS() to define
 * them once, everything else expands it with `extern`.
 */
#ifndef FLOW_MAPS_H
#define FLOW_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "flow_kern_user.h"

/*
 * flows_0, flows_1: the two epochs' tables (FLOW_NR_EPOCHS). Type, value
 * size and max_entries are set by the loader before load (percpu:
 * BPF_MAP_TYPE_PERCPU_HASH of struct flow_map_value, shared:
 * BPF_MAP_TYPE_HASH of struct flow_shared_value). Preallocated, so a
 * full table fails an insert with -E2BIG instead of allocating on the
 * packet path, and nothing is ever evicted.
 * flow_frags may evict: it holds no counts, only which ports later
 * fragments belong to, and a fragment that finds none is an orphan.
 * flow_owners, flow_tcp_seq, flow_rtt and flow_tunnels (sized by the loader
 * like the tables, and created only when their option is on) may evict
 * too: an evicted owner leaves a row without its process, an evicted
 * sequence restarts its flow's retransmission count or its RTT, an evicted
 * tunnel is noted again by the flow's next packet; none loses a packet.
 * Every table keyed by the flow (the epochs', owners, sequences, RTTs,
 * tunnels) has its key size set by the loader, flow_key_size(): the
 * whole key with --decap inner, the key of earlier releases without, so
 * none carries BTF types (the kernel refuses a key type of another size).
 * flow_stats and flow_overflow are arrays keyed by slot; in a program set
 * (flow_cfg.per_iface) the loader makes them hashes keyed by struct
 * flow_slot_key, so their keys carry no BTF type either.
 * The tables and the overflow rows carry no BTF type for their values: replay
 * sizes them for struct flow_replay_value, and the kernel refuses a map
 * whose BTF type disagrees with its size (libbpf then creates it again
 * without BTF, with a warning on every replay).
 * flow_epoch lives in a section (and so a map) of its own, which user space
 * writes without touching any other global.
 */
#define FLOW_TABLE(storage, name)					\
	storage struct {						\
		__uint(type, BPF_MAP_TYPE_PERCPU_HASH);			\
		__uint(max_entries, FLOW_DEFAULT_MAX_FLOWS);		\
		__uint(key_size, sizeof(struct flow_key));		\
		__uint(value_size, sizeof(struct flow_map_value));	\
	} name SEC(".maps")

#define FLOW_MAPS(storage)						\
	FLOW_TABLE(storage, flows_0);					\
	FLOW_TABLE(storage, flows_1);					\
	storage struct {						\
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);		\
		__uint(max_entries, FLOW_NR_OVERFLOW_SLOTS);		\
		__uint(key_size, sizeof(__u32));			\
		__uint(value_size, sizeof(struct flow_map_value));	\
	} flow_overflow SEC(".maps");					\
	storage struct {						\
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);		\
		__uint(max_entries, FLOW_NR_DIRS);			\
		__uint(key_size, sizeof(__u32));			\
		__uint(value_size, sizeof(struct flow_stats));		\
	} flow_stats SEC(".maps");					\
	storage struct {						\
		__uint(type, BPF_MAP_TYPE_ARRAY);			\
		__uint(max_entries, 1);					\
		__type(key, __u32);					\
		__type(value, struct flow_sample_config);		\
	} flow_sample_cfg SEC(".maps");					\
	storage struct {						\
		__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);		\
		__uint(key_size, sizeof(__u32));			\
		__uint(value_size, sizeof(__u32));			\
	} flow_samples SEC(".maps");					\
	storage struct {						\
		__uint(type, BPF_MAP_TYPE_LRU_HASH);			\
		__uint(max_entries, FLOW_FRAG_ENTRIES);			\
		__type(key, struct frag_key);				\
		__type(value, struct frag_flow);			\
	} flow_frags SEC(".maps");					\
	storage struct {						\
		__uint(type, BPF_MAP_TYPE_LRU_HASH);			\
		__uint(max_entries, FLOW_DEFAULT_MAX_FLOWS);		\
		__uint(key_size, sizeof(struct flow_key));		\
		__uint(value_size, sizeof(struct flow_owner));		\
	} flow_owners SEC(".maps");					\
	storage struct {						\
		__uint(type, BPF_MAP_TYPE_LRU_HASH);			\
		__uint(max_entries, FLOW_DEFAULT_MAX_FLOWS);		\
		__uint(key_size, sizeof(struct flow_key));		\
		__uint(value_size, sizeof(struct flow_tcp_seq));	\
	} flow_tcp_seq SEC(".maps");					\
	storage struct {						\
		__uint(type, BPF_MAP_TYPE_LRU_HASH);			\
		__uint(max_entries, FLOW_DEFAULT_MAX_FLOWS);		\
		__uint(key_size, sizeof(struct flow_key));		\
		__uint(value_size, sizeof(struct flow_rtt));		\
	} flow_rtt SEC(".maps");					\
	storage struct {						\
		__uint(type, BPF_MAP_TYPE_LRU_HASH);			\
		__uint(max_entries, FLOW_DEFAULT_MAX_FLOWS);		\
		__uint(key_size, sizeof(struct flow_key));		\
		__uint(value_size, sizeof(struct flow_tunnel));		\
	} flow_tunnels SEC(".maps");					\
	storage const volatile struct flow_config flow_cfg;		\
	storage struct flow_replay_frame replay_frame;			\
	storage volatile __u32 flow_epoch SEC(".data.epoch")

#endif /* FLOW_MAPS_H */
