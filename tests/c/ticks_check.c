// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A live table keeps times as the low 32 bits of jiffies; the library
 * unwraps them against a tick count read with the table. This checks that
 * against 64-bit tick counts of its own choosing, with clocks just before,
 * on and just after a 32-bit wrap (jiffies wrap five minutes after boot,
 * INITIAL_JIFFIES, and every 2^32 ticks after), at the HZ values kernels
 * use:
 *
 * - fa_ticks_to_mono() of a count from less than 2^32 - 2^20 ticks before
 *   the clock to 2^20 after it gives the count's own time, to the ns (exact integer
 *   arithmetic here, in 128 bits);
 * - fa_value_merge_map() of per-CPU slots, one stamped before the wrap and
 *   one after, gives the earliest first and the latest last, skips a slot
 *   with no packets, and reads replay's 64-bit layout without a clock.
 *
 * Prints what differs and exits 1; 0 when all agree. Run by
 * tests/suites/test_run.sh (test_run_ticks_wrap).
 */
#include <stdio.h>
#include <string.h>

#include "libflowacct.h"

static int failures;

static __u64 expected_mono(const struct fa_tick_clock *c, __u64 ticks)
{
	__int128 d = (__int128)ticks - (__int128)c->ticks;

	return (__u64)((__int128)c->mono_ns + d * 1000000000 / c->hz);
}

static void check_one(const struct fa_tick_clock *c, __u64 ticks)
{
	__u64 got = fa_ticks_to_mono(c, (__u32)ticks);
	__u64 want = expected_mono(c, ticks);

	if (got != want && failures++ < 10)
		fprintf(stderr, "HZ %u, clock at tick %#llx: tick %#llx read as "
			"%llu ns, want %llu\n", c->hz, (unsigned long long)c->ticks,
			(unsigned long long)ticks, (unsigned long long)got,
			(unsigned long long)want);
}

/* The 32-bit wrap nearest the clock, before or after it. */
static __u64 nearest_wrap(const struct fa_tick_clock *c)
{
	return (c->ticks + (1ull << 31)) & ~(__u64)0xffffffff;
}

/* Ticks at the ends of the window, around its middle and around the wrap. */
static void check_clock(const struct fa_tick_clock *c)
{
	static const __s64 offsets[] = {
		-(((__s64)1 << 32) - (1 << 20)) + 1, -(((__s64)1 << 32) - (1 << 20)) + 2,
		-((__s64)1 << 31), -((__s64)1 << 31) + 1, -1000000, -300 * 1000,
		-1, 0, 1, 1000, (1 << 20) - 1, 1 << 20,
	};
	size_t i;
	__s64 k;

	for (i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++)
		check_one(c, c->ticks + offsets[i]);
	/* Every tick count near the wrap nearest the clock. */
	for (k = -4096; k <= 4096; k++) {
		__u64 wrap = nearest_wrap(c);

		if ((__s64)(wrap + k - c->ticks) > -(((__s64)1 << 32) - (1 << 20)) &&
		    (__s64)(wrap + k - c->ticks) <= (1 << 20))
			check_one(c, wrap + k);
	}
}

static void check_merge(const struct fa_tick_clock *c)
{
	__u64 before = nearest_wrap(c) - 7;
	__u64 after = before + 20;
	struct flow_map_value slots[3] = {
		{ .packets_flags = 3 | (__u64)0x02 << FLOW_FLAGS_SHIFT, .bytes = 180,
		  .first_seen = (__u32)before, .last_seen = (__u32)(before + 5) },
		{ 0 },	/* a CPU that never saw the flow */
		{ .packets_flags = 2 | (__u64)0x11 << FLOW_FLAGS_SHIFT, .bytes = 120,
		  .first_seen = (__u32)(after - 3), .last_seen = (__u32)after },
	};
	struct flow_value v = {};
	size_t i;

	if (before + (1ull << 32) - (1 << 20) <= c->ticks || after > c->ticks + (1 << 20))
		return;	/* the wrap is outside this clock's window */
	for (i = 0; i < 3; i++)
		fa_value_merge_map(&v, &slots[i], c);
	if (v.packets != 5 || v.bytes != 300 || v.tcp_flags != 0x13 ||
	    v.first_seen_ns != expected_mono(c, before) ||
	    v.last_seen_ns != expected_mono(c, after)) {
		failures++;
		fprintf(stderr, "HZ %u, clock at tick %#llx: slots across the wrap "
			"merged to %llu packets, %llu bytes, flags %#x, %llu..%llu ns; "
			"want 5, 300, 0x13, %llu..%llu\n", c->hz,
			(unsigned long long)c->ticks, (unsigned long long)v.packets,
			(unsigned long long)v.bytes, v.tcp_flags,
			(unsigned long long)v.first_seen_ns,
			(unsigned long long)v.last_seen_ns,
			(unsigned long long)expected_mono(c, before),
			(unsigned long long)expected_mono(c, after));
	}
}

static void check_replay_merge(void)
{
	struct flow_replay_value slots[2] = {
		{ .packets_flags = 1, .bytes = 60, .first_seen = 1700000000123456789ull,
		  .last_seen = 1700000000123456789ull },
		{ .packets_flags = 4, .bytes = 400, .first_seen = 1700000005000000001ull,
		  .last_seen = 1700000099000000000ull },
	};
	struct flow_value v = {};

	fa_value_merge_map(&v, &slots[0], NULL);
	fa_value_merge_map(&v, &slots[1], NULL);
	if (v.packets != 5 || v.bytes != 460 ||
	    v.first_seen_ns != 1700000000123456789ull ||
	    v.last_seen_ns != 1700000099000000000ull) {
		failures++;
		fprintf(stderr, "replay slots merged to %llu packets, %llu bytes, "
			"%llu..%llu ns\n", (unsigned long long)v.packets,
			(unsigned long long)v.bytes,
			(unsigned long long)v.first_seen_ns,
			(unsigned long long)v.last_seen_ns);
	}
}

int main(void)
{
	static const unsigned int hzs[] = { 100, 250, 300, 1000, 1024 };
	/* INITIAL_JIFFIES at HZ 250 and a clock months into a second wrap. */
	static const __s64 around[] = { -75000, -1, 0, 1, 75000, 1 << 30 };
	struct fa_tick_clock c;
	size_t h, a, wrap;

	for (h = 0; h < sizeof(hzs) / sizeof(hzs[0]); h++) {
		for (wrap = 1; wrap <= 3; wrap++) {
			for (a = 0; a < sizeof(around) / sizeof(around[0]); a++) {
				c.hz = hzs[h];
				c.ticks = (wrap << 32) + around[a];
				/* Any time far enough from 0 for the window. */
				c.mono_ns = 1000000000000000000ull + wrap * 1000 + a;
				check_clock(&c);
				check_merge(&c);
			}
		}
	}
	check_replay_merge();
	if (failures) {
		fprintf(stderr, "%d failures\n", failures);
		return 1;
	}
	printf("ticks: unwrap and merge agree with 64-bit counts\n");
	return 0;
}
