// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Epochs: flip which of two tables the programs write, wait until no
 * program can still be writing the old one, then read and clear it.
 *
 * The wait is an RCU grace period. XDP and TC programs run inside RCU
 * read-side critical sections (the driver's NAPI poll and the qdisc path
 * hold rcu_read_lock or run with bottom halves off, which RCU counts the
 * same since 4.20; BPF_PROG_TEST_RUN takes rcu_read_lock itself), so once
 * a grace period that began after the flip has ended, every run that could
 * have read the old index has returned, and every later run reads the new
 * one. Updating an ARRAY_OF_MAPS slot from user space is a documented way
 * to wait for one: map_update_elem() calls maybe_wait_bpf_programs(), which
 * calls synchronize_rcu() for map-in-map types (kernel/bpf/syscall.c, since
 * Linux 4.18). The map is ours alone and no program uses it: the update is
 * done only for that wait.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"

int fa_sync_open(struct fa_sync *s)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	int err;

	s->outer_fd = -1;
	s->inner_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "flowacct_sync_i", 4, 4,
				     1, NULL);
	if (s->inner_fd < 0)
		return -errno;
	opts.inner_map_fd = s->inner_fd;
	s->outer_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "flowacct_sync",
				     4, 4, 1, &opts);
	if (s->outer_fd < 0) {
		err = -errno;
		close(s->inner_fd);
		s->inner_fd = -1;
		return err;
	}
	return 0;
}

void fa_sync_close(struct fa_sync *s)
{
	if (s->outer_fd >= 0)
		close(s->outer_fd);
	if (s->inner_fd >= 0)
		close(s->inner_fd);
	s->outer_fd = s->inner_fd = -1;
}

int fa_sync_wait(struct fa_sync *s)
{
	__u32 zero = 0;

	return bpf_map_update_elem(s->outer_fd, &zero, &s->inner_fd, BPF_ANY) ?
		       -errno : 0;
}

int fa_epoch_read(int epoch_fd, __u32 *epoch)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(epoch_fd, &zero, epoch))
		return -errno;
	*epoch &= 1;
	return 0;
}

int fa_epoch_write(int epoch_fd, __u32 epoch)
{
	__u32 zero = 0;

	return bpf_map_update_elem(epoch_fd, &zero, &epoch, BPF_ANY) ? -errno : 0;
}

int fa_epoch_read_rows(const int *fd, __u32 epoch, __u32 ifindex,
		       struct fa_table *t, struct flow_key **keys, size_t *nkeys)
{
	struct flow_value ov[FLOW_NR_DIRS] = {};
	struct fa_tick_clock ticks;
	struct flow_key key;
	int dir, err;

	err = fa_tick_clock_read(&ticks);
	if (!err)
		err = fa_table_read(fd[epoch ? FA_PIN_FLOWS_1 : FA_PIN_FLOWS_0],
				    &ticks, t, keys, nkeys);
	if (!err)
		err = fa_overflow_read(fd[FA_PIN_OVERFLOW], ifindex, 1u << epoch,
				       &ticks, ov);
	for (dir = 0; !err && dir < FLOW_NR_DIRS; dir++) {
		if (!ov[dir].packets)
			continue;
		memset(&key, 0, sizeof(key));
		key.ifindex = ifindex;
		key.direction = dir;
		err = fa_table_append(t, &key, &ov[dir], FA_ROW_OVERFLOW);
	}
	return err;
}

/*
 * Deletes @keys from a table no program writes any more. A key that is
 * already gone (a drain finished again after a restart) is skipped.
 */
int fa_table_delete(int map_fd, const struct flow_key *keys, size_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count, ks = fa_map_key_size(map_fd);
	const char *packed = (const char *)keys;
	char *buf = NULL;
	size_t done = 0, i;
	int err = 0;

	if (!ks)
		return -EBADF;
	/* A table keyed without the tunnel's tag takes its keys that long. */
	if (ks < sizeof(*keys) && n) {
		buf = malloc(n * ks);
		if (!buf)
			return -ENOMEM;
		for (i = 0; i < n; i++)
			memcpy(buf + i * ks, &keys[i], ks);
		packed = buf;
	}
	while (done < n) {
		count = n - done > 0x100000 ? 0x100000 : n - done;
		if (!bpf_map_delete_batch(map_fd, packed + done * ks, &count, &opts)) {
			done += count;
			continue;
		}
		if (errno != ENOENT) {
			err = -errno;
			break;
		}
		done += count + 1;	/* count were deleted, then one missing */
	}
	free(buf);
	return err;
}

int fa_slot_rows_zero(int fd, __u32 ifindex, __u32 first, __u32 n,
		      size_t value_size, __u64 flags)
{
	size_t stride = (value_size + 7) & ~(size_t)7;
	struct flow_slot_key k = { .ifindex = ifindex };
	int ncpus, err = 0;
	void *zero;

	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 0)
		return ncpus;
	zero = calloc(ncpus, stride);
	if (!zero)
		return -ENOMEM;
	for (k.slot = first; k.slot < first + n && !err; k.slot++)
		if (bpf_map_update_elem(fd, &k, zero, flags))
			err = -errno;
	free(zero);
	return err;
}

int fa_overflow_zero(int ov_fd, __u32 ifindex, __u32 epoch)
{
	/* BPF_EXIST: zeroing a set's rows never makes one. */
	return fa_slot_rows_zero(ov_fd, ifindex, FLOW_OVERFLOW_SLOT(epoch, 0), FLOW_NR_DIRS,
				 sizeof(struct flow_map_value), BPF_EXIST);
}

int fa_epoch_clear(const int *fd, __u32 epoch, __u32 ifindex,
		   const struct flow_key *keys, size_t n)
{
	int err;

	err = fa_table_delete(fd[epoch ? FA_PIN_FLOWS_1 : FA_PIN_FLOWS_0], keys, n);
	return err ? err : fa_overflow_zero(fd[FA_PIN_OVERFLOW], ifindex, epoch);
}
