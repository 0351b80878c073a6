// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A table's rows taken out by key in the kernel, in one BPF_PROG_RUN of a
 * syscall program, against the drain's batch lookup-and-delete, which walks
 * every bucket of the table (tests/bench/drainkey.c measures both).
 *
 * The keys come from keylog, as a program would log each new row's key on
 * insert; each row's key and value go to rows, an array user space maps.
 * The table, its sizes and the arrays' lengths are set before load.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "flow_kern_user.h"

struct drainkey_row {
	__u8 key[FLOW_KEY_SIZE_OFF];
	__u32 found;
	struct flow_shared_value value;
};
_Static_assert(sizeof(struct drainkey_row) == 96, "a row is 96 bytes");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__uint(key_size, FLOW_KEY_SIZE_OFF);
	__uint(value_size, sizeof(struct flow_shared_value));
} table SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct drainkey_row));
} rows SEC(".maps");

struct drainkey_args {
	__u32 n;	/* rows of keylog to take */
	__u32 taken;	/* out: rows found and deleted */
};

static long take_one(__u32 i, void *c)
{
	struct drainkey_args *a = c;
	struct drainkey_row *r;
	struct flow_shared_value *v;

	r = bpf_map_lookup_elem(&rows, &i);
	if (!r)
		return 1;
	v = bpf_map_lookup_elem(&table, r->key);
	r->found = !!v;
	if (!v)
		return 0;
	r->value = *v;
	bpf_map_delete_elem(&table, r->key);
	a->taken++;
	return 0;
}

SEC("syscall")
int drainkey(struct drainkey_args *ctx)
{
	struct drainkey_args a = { .n = ctx->n };

	bpf_loop(a.n, take_one, &a, 0);
	ctx->taken = a.taken;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
