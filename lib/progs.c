// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Opening the programs: the one place the skeleton is configured (map mode,
 * table size, replay, which programs load), for attach, run, replay, the
 * tests and the bench alike.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "flowacct.skel.h"

/*
 * A hash map's buckets are a power of two at least max_entries, and the
 * kernel refuses more than U32_MAX / sizeof(struct bucket) (16 bytes) of
 * them (htab_map_alloc() in kernel/bpf/hashtab.c): 2^27 flows. Memory runs
 * out long before on most machines; the load says so then.
 */
__u32 fa_max_flows_limit(bool shared)
{
	(void)shared;
	return 1u << 27;
}

static int set_table(struct bpf_map *m, const struct fa_load_opts *o)
{
	int err;

	err = bpf_map__set_type(m, o->shared ? BPF_MAP_TYPE_HASH :
				BPF_MAP_TYPE_PERCPU_HASH);
	if (!err)
		err = bpf_map__set_max_entries(m, o->max_flows);
	/*
	 * A build of another version (the bench loads old ones) may declare
	 * another value: only this version's is made a shared row.
	 */
	if (!err && (o->replay ||
		     (o->shared && bpf_map__value_size(m) == sizeof(struct flow_map_value))))
		err = bpf_map__set_value_size(m, fa_flow_value_size(o->shared,
								    !o->replay));
	return err;
}

/*
 * A program set's counters and overflow rows: hashes keyed by slot and
 * interface (struct flow_slot_key), with a row for interface 0 (what comes
 * from an interface without rows of its own). Not preallocated: user space
 * inserts an interface's rows before it links it, so the programs only
 * look up, and the bound of FLOW_SET_MAX_IFACES costs only the buckets.
 */
static int set_per_iface(struct bpf_map *m, __u32 slots)
{
	int err;

	err = bpf_map__set_type(m, BPF_MAP_TYPE_PERCPU_HASH);
	if (!err)
		err = bpf_map__set_key_size(m, sizeof(struct flow_slot_key));
	if (!err)
		err = bpf_map__set_map_flags(m, BPF_F_NO_PREALLOC);
	if (!err)
		err = bpf_map__set_max_entries(m, (FLOW_SET_MAX_IFACES + 1) * slots);
	return err;
}

/*
 * The tables keyed by the flow take the tunnel's tag only with --decap
 * inner (and not on an earlier release's tables, adopted as they are):
 * otherwise their keys are as short as an earlier release's. A map
 * another build declared with shorter keys already is.
 */
static int set_key_sizes(struct bpf_object *obj, const struct fa_load_opts *o)
{
	static const char *const keyed[] = { "flows_0", "flows_1", "flow_owners",
					     "flow_tcp_seq", "flow_rtt", "flow_tunnels" };
	struct bpf_map *m;
	size_t i;
	int err;

	for (i = 0; i < sizeof(keyed) / sizeof(keyed[0]); i++) {
		m = bpf_object__find_map_by_name(obj, keyed[i]);
		if (!m || bpf_map__key_size(m) != sizeof(struct flow_key))
			continue;
		err = bpf_map__set_key_size(m, flow_key_size(o->decap && !o->keys_untagged));
		if (err)
			return err;
	}
	return 0;
}

int fa_progs_open(const struct fa_load_opts *o, struct flowacct_bpf **out)
{
	struct flowacct_bpf *skel;
	int err;

	*out = NULL;
	if (!o->max_flows || o->max_flows > fa_max_flows_limit(o->shared))
		return -E2BIG;
	skel = flowacct_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->flow_cfg.shared_map = o->shared;
	skel->rodata->flow_cfg.replay = o->replay;
	skel->rodata->flow_cfg.owners = o->owners;
	skel->rodata->flow_cfg.retrans = o->retrans;
	skel->rodata->flow_cfg.passive_rtt = o->passive_rtt;
	skel->rodata->flow_cfg.per_iface = o->per_iface;
	skel->rodata->flow_cfg.decap = o->decap;
	skel->rodata->flow_cfg.nr_counters = o->nr_counters;
	for (int i = 0; i < FLOW_VXLAN_EXTRA_PORTS; i++)
		skel->rodata->flow_cfg.vxlan_ports[i] = htons(o->vxlan.port[i]);
	err = set_table(skel->maps.flows_0, o);
	if (!err)
		err = set_table(skel->maps.flows_1, o);
	if (!err && o->replay)
		err = bpf_map__set_value_size(skel->maps.flow_overflow,
					      sizeof(struct flow_replay_value));
	if (!err && o->per_iface && !o->replay)
		err = set_per_iface(skel->maps.flow_stats, FLOW_NR_DIRS);
	if (!err && o->per_iface && !o->replay)
		err = set_per_iface(skel->maps.flow_overflow, FLOW_NR_OVERFLOW_SLOTS);
	/* Off, a map stays (the programs name it) but holds next to nothing. */
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.flow_owners,
					       o->owners ? o->max_flows : 1);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.flow_tcp_seq,
					       o->retrans ? o->max_flows : 1);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.flow_rtt,
					       o->passive_rtt ? o->max_flows : 1);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.flow_tunnels,
					       o->decap ? o->max_flows : 1);
	if (!err)
		err = set_key_sizes(skel->obj, o);
	/* Loading only what is attached: less to verify, nothing idle. */
	if (!err)
		err = bpf_program__set_autoload(skel->progs.flowacct_xdp,
						!!(o->progs & FA_PROG_XDP));
	if (!err)
		err = bpf_program__set_autoload(skel->progs.flowacct_tc,
						!!(o->progs & FA_PROG_TC_EGRESS));
	if (!err)
		err = bpf_program__set_autoload(skel->progs.flowacct_tc_in,
						!!(o->progs & FA_PROG_TC_INGRESS));
	if (err) {
		flowacct_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

int fa_progs_load(const struct fa_load_opts *o, struct flowacct_bpf **out)
{
	int err;

	err = fa_progs_open(o, out);
	if (err)
		return err;
	err = flowacct_bpf__load(*out);
	if (err) {
		flowacct_bpf__destroy(*out);
		*out = NULL;
	}
	return err;
}

void fa_progs_map_fds(struct flowacct_bpf *skel, int fd[FA_NR_PINS])
{
	fa_obj_map_fds(skel->obj, fd);
}

/* By name, so that a test build of the programs (another skeleton) works too. */
void fa_obj_map_fds(struct bpf_object *obj, int fd[FA_NR_PINS])
{
	struct bpf_map *m;
	const char *name;
	int i;

	/* Pinned under their own names, but for the epoch's section. */
	for (i = 0; i < FA_NR_PINS; i++) {
		name = i == FA_PIN_EPOCH ? ".data.epoch" : fa_pin_name(i);
		m = i == FA_PIN_STATE ? NULL : bpf_object__find_map_by_name(obj, name);
		fd[i] = m ? bpf_map__fd(m) : -1;
	}
}

int fa_obj_configure(struct bpf_object *obj, const struct fa_load_opts *o)
{
	struct bpf_map *m;
	int err = 0;

	if (!o->max_flows || o->max_flows > fa_max_flows_limit(o->shared))
		return -E2BIG;
	bpf_object__for_each_map(m, obj) {
		if (strcmp(bpf_map__name(m), "flows_0") &&
		    strcmp(bpf_map__name(m), "flows_1"))
			continue;
		err = set_table(m, o);
		if (err)
			break;
	}
	return err ? err : set_key_sizes(obj, o);
}
