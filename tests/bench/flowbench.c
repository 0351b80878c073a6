// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowbench: the driver of `make bench` (scripts/bench.sh).
 *
 *   flowbench pkt [--quick] [options]  per-packet cost, BPF_PROG_TEST_RUN
 *   flowbench mem                      bytes per flow of each map mode
 *   flowbench fill PIN FLOWS IFINDEX   synthetic flows into a pinned table
 *   flowbench pcap FILE PACKETS FLOWS SNAPLEN   the mix as a capture
 *   flowbench xdp-attach noop|minimal IFACE   attach a reference XDP program
 *   flowbench flip | drain | records   what epochs and the daemon cost (epochs.c)
 *   flowbench ipfix [--records N] [--to HOST:PORT]   the IPFIX exporter (export.c)
 *   flowbench verifier LABEL=OBJECT...   the verifier's statistics (verifier.c)
 *   flowbench contend [--secs S]   one flow from both CPUs at once (contend.c)
 *
 * pkt and mem print markdown for tests/bench/RESULTS.md.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>

#include "libflowacct.h"
#include "flowacct.skel.h"
#include "bench.h"
#include "bench_progs.skel.h"
#include "flowbench.h"
#include "samplebuf.h"

enum hook {
	HOOK_XDP,
	HOOK_TC,
	HOOK_NR,
};

static const char *const hook_names[HOOK_NR] = { "XDP", "TC" };

/*
 * Which flowacct instance a variant runs: none, its map mode, or a baseline
 * (another build of flowacct's programs, from a file: --baseline).
 */
enum ours {
	OURS_NONE,
	OURS_PERCPU,
	OURS_SHARED,
	OURS_RETRANS,		/* percpu, --retrans */
	OURS_PRTT,		/* percpu, --passive-rtt */
	OURS_ALL,		/* percpu, --attribution --retrans --passive-rtt */
	OURS_SET,		/* shared, in a program set (per-interface counters) */
	OURS_BASE_PERCPU,
	OURS_BASE_SHARED,
	OURS_NR,
};

enum variant {
	V_NOOP,
	V_MIN,
	V_MIN_ATOMIC,
	V_MIN_SPIN,
	V_MIN_WIDE,
	V_PERCPU,
	V_SHARED,
	V_PERCPU_S100,
	V_PERCPU_S1,
	V_SHARED_S100,
	V_SHARED_S1,
	V_RETRANS,
	V_PRTT,
	V_ALL,
	V_SET,
	V_BASE_PERCPU,
	V_BASE_SHARED,
	V_NR,
};
_Static_assert(V_NR <= 32, "--only keeps the variants in a __u32");

static const struct {
	const char *name;
	enum ours ours;
	__u32 sample;	/* 1 in N; 0: off */
} variants[V_NR] = {
	[V_NOOP] = { "no-op" },
	[V_MIN] = { "minimal (percpu)" },
	[V_MIN_ATOMIC] = { "minimal, shared, atomic adds" },
	[V_MIN_SPIN] = { "minimal, shared, spin lock" },
	[V_MIN_WIDE] = { "minimal, 24-byte value (percpu)" },
	[V_PERCPU] = { "flowacct percpu", OURS_PERCPU, 0 },
	[V_SHARED] = { "flowacct shared", OURS_SHARED, 0 },
	[V_PERCPU_S100] = { "flowacct percpu, sample 1/100", OURS_PERCPU, 100 },
	[V_PERCPU_S1] = { "flowacct percpu, sample 1/1", OURS_PERCPU, 1 },
	[V_SHARED_S100] = { "flowacct shared, sample 1/100", OURS_SHARED, 100 },
	[V_SHARED_S1] = { "flowacct shared, sample 1/1", OURS_SHARED, 1 },
	[V_RETRANS] = { "flowacct percpu, --retrans", OURS_RETRANS, 0 },
	[V_PRTT] = { "flowacct percpu, --passive-rtt", OURS_PRTT, 0 },
	[V_ALL] = { "flowacct percpu, all three", OURS_ALL, 0 },
	[V_SET] = { "flowacct shared, in a program set", OURS_SET, 0 },
	[V_BASE_PERCPU] = { "baseline percpu", OURS_BASE_PERCPU, 0 },
	[V_BASE_SHARED] = { "baseline shared", OURS_BASE_SHARED, 0 },
};

/*
 * Sampling every frame costs microseconds a packet (see RESULTS.md): those
 * variants run a twentieth of the packets, and not the update and insert
 * paths, which are about the table, not the perf buffer.
 */
static bool samples_every_frame(enum variant v)
{
	return variants[v].sample == 1;
}

/* The first six are single frames, in enum frame_kind's order. */
enum workload {
	W_IPV4_TCP,
	W_IPV6_TCP,
	W_UDP,
	W_VLAN,
	W_IPV6_EXT,
	W_ICMP,
	W_MIX,
	W_UPDATE,
	W_INSERT,
	W_NR,
};

static const char *workload_name(enum workload w)
{
	switch (w) {
	case W_MIX:
		return "mix";
	case W_UPDATE:
		return "update path";
	case W_INSERT:
		return "insert path";
	default:
		return frame_kind_name((enum frame_kind)w);
	}
}

/* Transport payload of each single-frame workload: small frames. */
static const unsigned int single_payload[W_MIX] = {
	[W_IPV4_TCP] = 0, [W_IPV6_TCP] = 0, [W_UDP] = 18,
	[W_VLAN] = 0, [W_IPV6_EXT] = 0, [W_ICMP] = 56,
};

/* Largest perf record a sample of ours can make, header and 256 bytes. */
#define SAMPLE_RECORD_MAX	400

struct pkt_opts {
	unsigned int rounds;
	unsigned int best_of;	/* runs of each case a round; the least kept */
	__u32 repeat;		/* single-frame workloads */
	__u32 mix_frames;
	__u32 mix_repeat;	/* per mix frame and round */
	__u32 flows;		/* update and insert paths */
	__u32 passes;		/* update path: passes over the flows */
	__u32 pages;		/* perf buffer pages per CPU */
	int cpu;
	int only[2];		/* hook, workload to run; -1: all */
	__u32 only_variants;	/* bit per variant to run; 0: all */
	const char *baseline;	/* a build of flowacct's programs, or NULL */
	const char *baseline_name;
	const char *ours_file;	/* this build's programs from a file (another
				 * compiler's), not the skeleton's; or NULL */
	bool tc_ingress;	/* TC runs flowacct_tc_in, not flowacct_tc */
	bool decap;		/* this build's programs with --decap inner */
	bool baseline_decap;	/* the baseline's too (a build that has it) */
	bool vxlan;		/* the mix's frames each in VXLAN */
};

struct bench {
	struct pkt_opts o;
	struct bench_progs_bpf *ref;
	struct bpf_object *ours[OURS_NR];
	struct flowacct_bpf *skel[OURS_NR];
	struct perf_buffer *pb[OURS_NR];
	struct sample_count {
		__u64 read;
		__u64 lost;	/* by the perf buffer */
	} samples[OURS_NR];
	int prog_fd[HOOK_NR][V_NR];
	int table_fd[V_NR];
	int cycle_fd[HOOK_NR];
	int target_fd[HOOK_NR];
	int links[V_NR + 1];
	int nlinks;
	struct frame single[W_MIX];
	struct frame *mix;
	struct frame cycle_frame;
	double *res;		/* [hook][workload][variant][round], ns/packet */
};

static double *result(struct bench *b, enum hook h, enum workload w,
		      enum variant v, unsigned int round)
{
	return &b->res[((h * W_NR + w) * V_NR + v) * b->o.rounds + round];
}

/* ---- statistics ---------------------------------------------------------- */

/* A figure for the tables: "-" for a case not run. */
static const char *fmt(double v, int decimals)
{
	static char ring[16][32];
	static unsigned int at;
	char *s = ring[at++ % ARRAY_SIZE(ring)];

	if (isnan(v))
		return "-";
	snprintf(s, sizeof(ring[0]), "%.*f", decimals, v);
	return s;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double median(double *v, size_t n)
{
	double s[64];

	if (n > ARRAY_SIZE(s))
		n = ARRAY_SIZE(s);
	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

double min_of(const double *v, size_t n)
{
	double m = v[0];
	size_t i;

	for (i = 1; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

double max_of(const double *v, size_t n)
{
	double m = v[0];
	size_t i;

	for (i = 1; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

/* The median over rounds of (v / ref) measured in the same round. */
static double ratio(struct bench *b, enum hook h, enum workload w,
		    enum variant v, enum variant ref)
{
	double r[64];
	unsigned int i;

	for (i = 0; i < b->o.rounds; i++)
		r[i] = *result(b, h, w, v, i) / *result(b, h, w, ref, i);
	return median(r, b->o.rounds);
}

/*
 * The same, with the no-op's cost taken off both: how the work each
 * program adds compares, without the test run's own cost.
 */
static double net_ratio(struct bench *b, enum hook h, enum workload w,
			enum variant v, enum variant ref)
{
	double r[64], floor;
	unsigned int i;

	for (i = 0; i < b->o.rounds; i++) {
		floor = *result(b, h, w, V_NOOP, i);
		r[i] = (*result(b, h, w, v, i) - floor) /
		       (*result(b, h, w, ref, i) - floor);
	}
	return median(r, b->o.rounds);
}

/* The median of per-round differences, ns. */
static double diff(struct bench *b, enum hook h, enum workload w,
		   enum variant v, enum variant ref)
{
	double r[64];
	unsigned int i;

	for (i = 0; i < b->o.rounds; i++)
		r[i] = *result(b, h, w, v, i) - *result(b, h, w, ref, i);
	return median(r, b->o.rounds);
}

static double med(struct bench *b, enum hook h, enum workload w, enum variant v)
{
	return median(result(b, h, w, v, 0), b->o.rounds);
}

/* ---- running programs ---------------------------------------------------- */

/*
 * One BPF_PROG_TEST_RUN of @repeat iterations. The kernel times the
 * iterations themselves (not the syscall, the copy of the frame in, or the
 * skb or xdp_buff setup) and reports the mean per iteration, in whole ns.
 */
static int test_run(int fd, enum hook h, const struct frame *f, __u32 repeat,
		    double *mean_ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = f->buf,
		    .data_size_in = f->len, .repeat = repeat);
	__u32 pass = h == HOOK_XDP ? XDP_PASS : (__u32)TC_ACT_UNSPEC;

	if (bpf_prog_test_run_opts(fd, &t))
		return -errno;
	if (t.retval != pass)
		return -EBADMSG;
	*mean_ns = t.duration;
	return 0;
}

/*
 * Packets per test run: unlimited without sampling; with it, no more
 * samples than half the perf buffer holds, so every sample is written
 * (a full buffer would make the helper fail fast and flatter the figure).
 */
static __u64 chunk_max(struct bench *b, enum variant v)
{
	__u64 room;

	if (!variants[v].sample)
		return 1u << 30;
	room = (__u64)b->o.pages * 4096 / SAMPLE_RECORD_MAX / 2;
	return room * variants[v].sample;
}

static void drain_samples(struct bench *b, enum variant v)
{
	enum ours o = variants[v].ours;

	if (o && variants[v].sample)
		perf_buffer__consume(b->pb[o]);
}

/* @packets iterations of @f in as few runs as sampling allows; adds ns. */
static int run_packets(struct bench *b, int fd, enum hook h, enum variant v,
		       const struct frame *f, __u64 packets, double *total_ns)
{
	__u64 chunk = chunk_max(b, v), done, n;
	double mean;
	int err;

	for (done = 0; done < packets; done += n) {
		n = packets - done < chunk ? packets - done : chunk;
		err = test_run(fd, h, f, n, &mean);
		if (err)
			return err;
		*total_ns += mean * n;
		drain_samples(b, v);
	}
	return 0;
}

static int set_sampling(struct bench *b, enum variant v)
{
	struct flow_sample_config c = {
		.rate = variants[v].sample,
		.mode = FLOW_SAMPLE_EVERY,
		.snaplen = FLOW_DEFAULT_SNAPLEN,
	};
	__u32 zero = 0;
	enum ours o = variants[v].ours;

	if (!o)
		return 0;
	if (bpf_map_update_elem(bpf_object__find_map_fd_by_name(b->ours[o],
								"flow_sample_cfg"),
				&zero, &c, BPF_ANY))
		return -errno;
	return 0;
}

/* A single frame, many times: every packet the same flow. */
static int job_single(struct bench *b, enum hook h, enum workload w,
		      enum variant v, double *ns)
{
	const struct frame *f = &b->single[w];
	int fd = b->prog_fd[h][v], err;
	double total = 0, warm = 0;
	__u32 repeat = b->o.repeat;

	if (samples_every_frame(v) && repeat >= 20)
		repeat /= 20;
	/* The first packet may insert the flow; time only updates. */
	err = test_run(fd, h, f, 1, &warm);
	if (!err)
		err = run_packets(b, fd, h, v, f, repeat, &total);
	*ns = total / repeat;
	return err;
}

/*
 * The mix: each frame (its own flow) run mix_repeat times in turn, so the
 * table holds mix_frames flows and consecutive runs touch different ones.
 */
static int job_mix(struct bench *b, enum hook h, enum variant v, double *ns)
{
	int fd = b->prog_fd[h][v], err = 0;
	__u32 i, repeat = b->o.mix_repeat;
	double total = 0, warm;

	if (samples_every_frame(v) && repeat >= 16)
		repeat /= 16;
	for (i = 0; i < b->o.mix_frames && !err; i++)
		err = test_run(fd, h, &b->mix[i], 1, &warm);
	for (i = 0; i < b->o.mix_frames && !err; i++)
		err = run_packets(b, fd, h, v, &b->mix[i], repeat, &total);
	*ns = total / ((double)b->o.mix_frames * repeat);
	return err;
}

/*
 * Insert, then update: from an empty table, the cycler gives each packet
 * of a run a new flow until `flows` are in; then it walks them again,
 * `passes` times, a different flow every packet.
 */
static int job_cycle(struct bench *b, enum hook h, enum variant v,
		     double *insert_ns, double *update_ns)
{
	int fd = b->cycle_fd[h], slot = 0, prog = b->prog_fd[h][v], err;
	__u64 flows = b->o.flows;
	double total = 0;

	if (bpf_map_update_elem(b->target_fd[h], &slot, &prog, BPF_ANY))
		return -errno;
	if (b->table_fd[v] >= 0) {
		err = map_clear(b->table_fd[v]);
		if (err)
			return err;
	}
	b->ref->bss->cycle.next = 0;
	b->ref->bss->cycle.flows = flows;
	b->ref->bss->cycle.shuffled = 0;
	err = run_packets(b, fd, h, v, &b->cycle_frame, flows, &total);
	if (err)
		return err;
	*insert_ns = total / flows;

	total = 0;
	b->ref->bss->cycle.next = 0;
	b->ref->bss->cycle.shuffled = 1;
	err = run_packets(b, fd, h, v, &b->cycle_frame, flows * b->o.passes,
			  &total);
	*update_ns = total / (flows * b->o.passes);
	return err;
}

/* ---- setup --------------------------------------------------------------- */

static enum bpf_perf_event_ret on_event(void *ctx, int cpu,
					struct perf_event_header *e)
{
	struct sample_count *n = ctx;

	(void)cpu;
	if (e->type == PERF_RECORD_SAMPLE)
		n->read++;
	else if (e->type == PERF_RECORD_LOST)
		n->lost += ((struct perf_lost *)e)->lost;
	return LIBBPF_PERF_EVENT_CONT;
}

/* Where BPF_PROG_TEST_RUN's packets arrive: the namespace's loopback. */
#define TEST_RUN_IFINDEX 1

static bool is_baseline(enum ours o)
{
	return o == OURS_BASE_PERCPU || o == OURS_BASE_SHARED;
}

static bool loaded(const struct bench *b, enum variant v)
{
	return !variants[v].ours || b->ours[variants[v].ours];
}

/*
 * flow_cfg.shared_map in the .rodata of a build we have no skeleton for:
 * found through its BTF, as a skeleton would.
 */
static int set_cfg_rodata(struct bpf_object *obj, bool shared, bool decap)
{
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec, *var;
	struct bpf_map *rodata = NULL, *m;
	struct btf *btf = bpf_object__btf(obj);
	size_t size, at;
	const char *init;
	char *data;
	int id, i, err;

	bpf_object__for_each_map(m, obj)
		if (strstr(bpf_map__name(m), ".rodata"))
			rodata = m;
	id = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -1;
	if (!rodata || id < 0)
		return -ENOENT;
	init = bpf_map__initial_value(rodata, &size);
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vs++) {
		var = btf__type_by_id(btf, vs->type);
		if (strcmp(btf__name_by_offset(btf, var->name_off), "flow_cfg"))
			continue;
		at = vs->offset + offsetof(struct flow_config, shared_map);
		if (!init || at >= size)
			return -EINVAL;
		data = malloc(size);
		if (!data)
			return -ENOMEM;
		memcpy(data, init, size);
		data[at] = shared;
		/* A baseline's flow_config has padding there. */
		if (decap)
			data[vs->offset + offsetof(struct flow_config, decap)] = FLOW_DECAP_INNER;
		err = bpf_map__set_initial_value(rodata, data, size);
		free(data);
		return err;
	}
	return -ENOENT;
}

/* The program the TC hook's cases run: egress's, or ingress's. */
static const char *tc_prog_name(const struct bench *b)
{
	return b->o.tc_ingress ? "flowacct_tc_in" : "flowacct_tc";
}

/*
 * A build of flowacct's programs from a file, loaded as attach loads ours:
 * @shared map mode, same table size. A build from before the epochs has one
 * table, "flows"; one from after has two.
 */
static int load_file(struct bench *b, enum ours o, const char *path, bool shared,
		     bool decap, __u32 max_flows)
{
	struct fa_load_opts lo = { .shared = shared, .max_flows = max_flows, .decap = decap };
	struct bpf_program *p;
	struct bpf_object *obj;
	struct bpf_map *m;
	int err;

	obj = bpf_object__open_file(path, NULL);
	err = libbpf_get_error(obj);
	if (err)
		return err;
	b->ours[o] = obj;
	err = fa_obj_configure(obj, &lo);
	m = bpf_object__find_map_by_name(obj, "flows");
	if (!err && m) {
		err = bpf_map__set_type(m, lo.shared ? BPF_MAP_TYPE_HASH :
				       BPF_MAP_TYPE_PERCPU_HASH);
		if (!err)
			err = bpf_map__set_max_entries(m, max_flows);
	}
	if (!err)
		err = set_cfg_rodata(obj, lo.shared, decap);
	bpf_object__for_each_program(p, obj)
		if (strcmp(bpf_program__name(p), "flowacct_xdp") &&
		    strcmp(bpf_program__name(p), tc_prog_name(b)))
			bpf_program__set_autoload(p, false);
	if (!err)
		err = bpf_object__load(obj);
	return err;
}

static int load_ours(struct bench *b, enum ours o, __u32 max_flows)
{
	/* Live behaviour: lengths from the frame, the live clock. */
	struct fa_load_opts lo = {
		.shared = o == OURS_SHARED || o == OURS_SET,
		.max_flows = max_flows,
		.per_iface = o == OURS_SET,
		.progs = FA_PROG_XDP | (b->o.tc_ingress ? FA_PROG_TC_INGRESS :
							  FA_PROG_TC_EGRESS),
		.owners = o == OURS_ALL,
		.retrans = o == OURS_RETRANS || o == OURS_ALL,
		.passive_rtt = o == OURS_PRTT || o == OURS_ALL,
		.decap = b->o.decap ? FLOW_DECAP_INNER : FLOW_DECAP_OFF,
	};
	struct flowacct_bpf *skel;
	int err;

	if (is_baseline(o)) {
		if (!b->o.baseline)
			return 0;
		err = load_file(b, o, b->o.baseline, o == OURS_BASE_SHARED,
				b->o.baseline_decap, max_flows);
	} else if (b->o.ours_file) {
		/* Another compiler's build: the map modes, no options. */
		if (o != OURS_PERCPU && o != OURS_SHARED)
			return 0;
		err = load_file(b, o, b->o.ours_file, o == OURS_SHARED, b->o.decap,
				max_flows);
	} else {
		err = fa_progs_load(&lo, &skel);
		if (!err) {
			b->skel[o] = skel;
			b->ours[o] = skel->obj;
		}
		/*
		 * A test run's packet arrives on loopback (index 1): its rows
		 * made, as a join makes them, and interface 0's, which must
		 * stay empty (check_counters()).
		 */
		if (!err && o == OURS_SET) {
			struct fa_set set = { .skel = skel, .members_fd = -1 };

			fa_progs_map_fds(skel, set.fd);
			err = fa_set_rows_make(&set, 0);
			if (!err)
				err = fa_set_rows_make(&set, TEST_RUN_IFINDEX);
		}
	}
	if (err)
		return err;
	/* Read as flowacct capture reads them. */
	b->pb[o] = sample_buffer_open(bpf_object__find_map_fd_by_name(b->ours[o],
								      "flow_samples"),
				      b->o.pages, on_event, &b->samples[o]);
	if (!b->pb[o])
		return -errno;
	return 0;
}

/* The update path's order: a fixed random permutation of the flows. */
static int shuffle_order(struct bench *b)
{
	int fd = bpf_map__fd(b->ref->maps.cycle_order), err = 0;
	__u32 *order = calloc(b->o.flows, sizeof(*order)), i, k, t;
	__u64 rng = 99;

	if (!order)
		return -ENOMEM;
	for (i = 0; i < b->o.flows; i++)
		order[i] = i;
	for (i = b->o.flows - 1; i > 0; i--) {
		k = prng_next(&rng) % (i + 1);
		t = order[i], order[i] = order[k], order[k] = t;
	}
	for (i = 0; i < b->o.flows && !err; i++)
		if (bpf_map_update_elem(fd, &i, &order[i], BPF_ANY))
			err = -errno;
	free(order);
	return err;
}

/*
 * An XDP test run of more than one repeat puts its program into the
 * kernel's XDP dispatcher and takes it out again, and each change waits for
 * an RCU grace period: about 20 ms a call here, whatever the repeat count,
 * which would make the mix (a run per frame) take hours. A program the dispatcher already holds is
 * not changed, so every XDP program is attached, in generic mode through a
 * bpf_link, to a veth of a network namespace of our own: both vanish with
 * this process, however it ends, and no other interface is touched.
 * Nothing is ever sent on those veths.
 */
static int hold_in_dispatcher(struct bench *b)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = XDP_FLAGS_SKB_MODE);
	int fds[V_NR + 1], n = 0, i, v;
	char cmd[128], name[IF_NAMESIZE];

	for (v = 0; v < V_NR; v++) {
		if (b->prog_fd[HOOK_XDP][v] < 0)
			continue;
		for (i = 0; i < n; i++)
			if (fds[i] == b->prog_fd[HOOK_XDP][v])
				break;
		if (i == n)
			fds[n++] = b->prog_fd[HOOK_XDP][v];
	}
	fds[n++] = b->cycle_fd[HOOK_XDP];

	if (unshare(CLONE_NEWNET))
		return -errno;
	for (i = 0; i < n; i += 2) {
		snprintf(cmd, sizeof(cmd),
			 "ip link add fbench%d type veth peer name fbench%d",
			 i, i + 1);
		if (system(cmd))
			return -ECHILD;
	}
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "fbench%d", i);
		b->links[i] = bpf_link_create(fds[i], if_nametoindex(name),
					      BPF_XDP, &opts);
		if (b->links[i] < 0)
			return -errno;
		b->nlinks = i + 1;
	}
	return 0;
}

static int setup(struct bench *b)
{
	__u32 max_flows = b->o.flows + b->o.mix_frames + 1024;
	struct bench_progs_bpf *ref;
	enum variant v;
	int err, w, o;
	size_t n;

	ref = bench_progs_bpf__open();
	if (!ref)
		return -errno;
	b->ref = ref;
	err = bpf_map__set_max_entries(ref->maps.min_flows, max_flows);
	if (!err)
		err = bpf_map__set_max_entries(ref->maps.min_flows_atomic, max_flows);
	if (!err)
		err = bpf_map__set_max_entries(ref->maps.min_flows_spin, max_flows);
	if (!err)
		err = bpf_map__set_max_entries(ref->maps.min_flows_wide, max_flows);
	if (!err)
		err = bpf_map__set_max_entries(ref->maps.cycle_order, b->o.flows);
	if (!err)
		err = bench_progs_bpf__load(ref);
	if (!err)
		err = shuffle_order(b);
	for (o = OURS_PERCPU; o < OURS_NR && !err; o++)
		err = load_ours(b, o, max_flows);
	if (err)
		return err;

	b->prog_fd[HOOK_XDP][V_NOOP] = bpf_program__fd(ref->progs.noop_xdp);
	b->prog_fd[HOOK_TC][V_NOOP] = bpf_program__fd(ref->progs.noop_tc);
	b->prog_fd[HOOK_XDP][V_MIN] = bpf_program__fd(ref->progs.min_percpu_xdp);
	b->prog_fd[HOOK_TC][V_MIN] = bpf_program__fd(ref->progs.min_percpu_tc);
	b->prog_fd[HOOK_XDP][V_MIN_ATOMIC] = bpf_program__fd(ref->progs.min_atomic_xdp);
	b->prog_fd[HOOK_TC][V_MIN_ATOMIC] = bpf_program__fd(ref->progs.min_atomic_tc);
	b->prog_fd[HOOK_XDP][V_MIN_SPIN] = bpf_program__fd(ref->progs.min_spin_xdp);
	b->prog_fd[HOOK_TC][V_MIN_SPIN] = bpf_program__fd(ref->progs.min_spin_tc);
	b->prog_fd[HOOK_XDP][V_MIN_WIDE] = bpf_program__fd(ref->progs.min_wide_xdp);
	b->prog_fd[HOOK_TC][V_MIN_WIDE] = bpf_program__fd(ref->progs.min_wide_tc);
	b->table_fd[V_NOOP] = -1;
	b->table_fd[V_MIN] = bpf_map__fd(ref->maps.min_flows);
	b->table_fd[V_MIN_ATOMIC] = bpf_map__fd(ref->maps.min_flows_atomic);
	b->table_fd[V_MIN_SPIN] = bpf_map__fd(ref->maps.min_flows_spin);
	b->table_fd[V_MIN_WIDE] = bpf_map__fd(ref->maps.min_flows_wide);
	for (v = V_PERCPU; v < V_NR; v++) {
		struct bpf_object *obj = b->ours[variants[v].ours];
		int fd;

		if (!obj) {
			b->prog_fd[HOOK_XDP][v] = b->prog_fd[HOOK_TC][v] = -1;
			b->table_fd[v] = -1;
			continue;
		}
		b->prog_fd[HOOK_XDP][v] = bpf_program__fd(
			bpf_object__find_program_by_name(obj, "flowacct_xdp"));
		b->prog_fd[HOOK_TC][v] = bpf_program__fd(
			bpf_object__find_program_by_name(obj, tc_prog_name(b)));
		fd = bpf_object__find_map_fd_by_name(obj, "flows_0");
		b->table_fd[v] = fd >= 0 ? fd : bpf_object__find_map_fd_by_name(obj, "flows");
	}
	b->cycle_fd[HOOK_XDP] = bpf_program__fd(ref->progs.cycle_xdp);
	b->cycle_fd[HOOK_TC] = bpf_program__fd(ref->progs.cycle_tc);
	b->target_fd[HOOK_XDP] = bpf_map__fd(ref->maps.cycle_xdp_target);
	b->target_fd[HOOK_TC] = bpf_map__fd(ref->maps.cycle_tc_target);
	err = hold_in_dispatcher(b);
	if (err)
		return err;

	for (w = 0; w < W_MIX; w++)
		b->single[w].len = frame_build(b->single[w].buf, (enum frame_kind)w,
					       1, single_payload[w]);
	b->cycle_frame.len = frame_build(b->cycle_frame.buf, FK_IPV4_TCP, 0, 0);
	b->mix = mix_build(b->o.mix_frames, 20240601);
	for (size_t i = 0; b->mix && b->o.vxlan && i < b->o.mix_frames; i++)
		frame_vxlan_wrap(&b->mix[i], 1024 + i);
	n = (size_t)HOOK_NR * W_NR * V_NR * b->o.rounds;
	b->res = calloc(n, sizeof(*b->res));
	if (!b->mix || !b->res)
		return -ENOMEM;
	while (n--)
		b->res[n] = NAN;
	return 0;
}

static void teardown(struct bench *b)
{
	int o, i;

	for (i = 0; i < b->nlinks; i++)
		close(b->links[i]);

	for (o = OURS_PERCPU; o < OURS_NR; o++) {
		perf_buffer__free(b->pb[o]);
		if (b->skel[o])
			flowacct_bpf__destroy(b->skel[o]);
		else if (b->ours[o])
			bpf_object__close(b->ours[o]);
	}
	bench_progs_bpf__destroy(b->ref);
	free(b->mix);
	free(b->res);
}

/* ---- the rounds ---------------------------------------------------------- */

struct job {
	enum hook h;
	enum workload w;	/* W_UPDATE stands for the insert+update pair */
	enum variant v;
};

static int run_job_into(struct bench *b, const struct job *j, double *ns,
			double *update_ns)
{
	int err = set_sampling(b, j->v);

	if (err)
		return err;
	if (j->w < W_MIX)
		return job_single(b, j->h, j->w, j->v, ns);
	if (j->w == W_MIX)
		return job_mix(b, j->h, j->v, ns);
	return job_cycle(b, j->h, j->v, ns, update_ns);
}

/*
 * The round's figure of a case: the least of its best_of runs. Interference
 * (another guest on the host, an interrupt) only ever adds time, and on some
 * VMs it comes in phases of a second or more in which every program runs
 * up to 1.4 times slower; the least of a few passes keeps a case's run from
 * outside such a phase when there is one, for every case alike.
 */
static int run_job(struct bench *b, const struct job *j, unsigned int round,
		   bool first)
{
	enum workload w = j->w == W_UPDATE ? W_INSERT : j->w;
	double *ns = result(b, j->h, w, j->v, round);
	double *update_ns = result(b, j->h, W_UPDATE, j->v, round);
	double now = 0, now_update = 0;
	int err;

	if (first)
		return run_job_into(b, j, ns, update_ns);
	err = run_job_into(b, j, &now, &now_update);
	if (err)
		return err;
	if (now < *ns)
		*ns = now;
	if (j->w == W_UPDATE && now_update < *update_ns)
		*update_ns = now_update;
	return 0;
}

/*
 * Every round runs every job best_of times, each time all of them in a new
 * random order, so drift and neighbours' noise spread over all figures
 * instead of a few.
 */
static int run_rounds(struct bench *b)
{
	struct job jobs[HOOK_NR * (W_UPDATE + 1) * V_NR];
	size_t n = 0, i, k;
	__u64 rng = 1;
	unsigned int r, pass;
	int h, w, v, err;

	for (h = 0; h < HOOK_NR; h++)
		for (w = 0; w <= W_UPDATE; w++)
			for (v = 0; v < V_NR; v++)
				if ((b->o.only[0] < 0 || b->o.only[0] == h) &&
				    (b->o.only[1] < 0 || b->o.only[1] == w) &&
				    (!b->o.only_variants ||
				     (b->o.only_variants & (1u << v))) &&
				    loaded(b, v) &&
				    !(w == W_UPDATE && samples_every_frame(v)))
					jobs[n++] = (struct job){ h, w, v };
	if (!n)
		return -ENOENT;
	for (r = 0; r < b->o.rounds * b->o.best_of; r++) {
		pass = r % b->o.best_of;
		for (i = n - 1; i > 0; i--) {
			struct job t;

			k = prng_next(&rng) % (i + 1);
			t = jobs[i], jobs[i] = jobs[k], jobs[k] = t;
		}
		for (i = 0; i < n; i++) {
			err = run_job(b, &jobs[i], r / b->o.best_of, !pass);
			if (err) {
				fprintf(stderr, "flowbench: %s %s %s: %s\n",
					hook_names[jobs[i].h],
					workload_name(jobs[i].w),
					variants[jobs[i].v].name,
					err == -EBADMSG ? "verdict other than pass" :
							  strerror(-err));
				return err;
			}
		}
		if (pass == b->o.best_of - 1)
			fprintf(stderr, "flowbench: round %u of %u done\n",
				r / b->o.best_of + 1, b->o.rounds);
	}
	return 0;
}

/* Failed inserts would turn the insert path into the overflow path. */
static int check_counters(struct bench *b, __u64 *samples, __u64 *lost)
{
	int ncpus = libbpf_num_possible_cpus(), o, cpu;
	size_t stride = (sizeof(struct flow_stats) + 7) & ~7ul;
	char *vals = calloc(ncpus, stride);
	struct flow_slot_key k = {};
	__u32 dir;

	if (!vals)
		return -ENOMEM;
	*samples = *lost = 0;
	for (o = OURS_PERCPU; o < OURS_NR; o++) {
		int fd;

		/* A baseline's counters may have another layout. */
		if (!b->ours[o] || is_baseline(o))
			continue;
		fd = bpf_object__find_map_fd_by_name(b->ours[o], "flow_stats");

		/* The set's counted on their interface, not on the fallback. */
		if (o == OURS_SET) {
			for (k.slot = 0; k.slot < FLOW_NR_DIRS; k.slot++) {
				if (bpf_map_lookup_elem(fd, &k, vals)) {
					free(vals);
					return -errno;
				}
				for (cpu = 0; cpu < ncpus; cpu++)
					if (((const struct flow_stats *)(vals + cpu * stride))
						    ->counters[FLOW_C_SEEN]) {
						free(vals);
						return -EXDEV;
					}
			}
		}
		k.ifindex = o == OURS_SET ? TEST_RUN_IFINDEX : 0;
		for (dir = 0; dir < FLOW_NR_DIRS; dir++) {
			k.slot = dir;
			if (bpf_map_lookup_elem(fd, &k, vals)) {
				free(vals);
				return -errno;
			}
			for (cpu = 0; cpu < ncpus; cpu++) {
				const __u64 *c = ((const struct flow_stats *)
						  (vals + cpu * stride))->counters;

				if (c[FLOW_C_INSERT_FULL] || c[FLOW_C_INSERT_NOMEM] ||
				    c[FLOW_C_INSERT_OTHER] || c[FLOW_C_OVERFLOW]) {
					free(vals);
					return -ENOSPC;
				}
				*samples += c[FLOW_C_SAMPLES];
				*lost += c[FLOW_C_SAMPLE_FULL] +
					 c[FLOW_C_SAMPLE_NO_READER] +
					 c[FLOW_C_SAMPLE_OTHER];
			}
		}
	}
	free(vals);
	return 0;
}

/* ---- the report ---------------------------------------------------------- */

static void print_method(struct bench *b)
{
	char mix[1024];

	mix_describe(mix, sizeof(mix));
	printf("Every figure is the kernel's own timing of BPF_PROG_TEST_RUN "
	       "(`duration`: the mean time of one iteration, measured around "
	       "the program runs, so the syscall, the copy of the frame and "
	       "the skb or xdp_buff setup are not in it), in ns per packet, on "
	       "CPU %d. Each figure is the median of %u rounds, with min and max; "
	       "every round runs every case %u time(s), each time all of them in "
	       "a new random order, and keeps the least of a case's runs. "
	       "Ratios are medians of per-round ratios: x no-op against the "
	       "no-op program measured the same way in the same round (the "
	       "floor: what a test-run iteration costs by itself), x minimal "
	       "against the minimal accountant (parse, one lookup and add or "
	       "insert on a per-CPU hash, nothing else). The kernel reports "
	       "whole ns, so single figures carry up to 1 ns of truncation.\n\n",
	       b->o.cpu, b->o.rounds, b->o.best_of);
	printf("- Single frames (IPv4 TCP ... ICMP): one frame of that kind, "
	       "%u iterations per run, every packet the same flow (its first, "
	       "which may insert, is run and not timed before).\n",
	       b->o.repeat);
	printf("- mix: %u frames, each its own flow, drawn from the mix (%s); "
	       "each frame run %u times in turn, after one untimed pass "
	       "that inserts their flows.\n",
	       b->o.mix_frames, mix, b->o.mix_repeat);
	printf("- insert path and update path: a cycler program rewrites the "
	       "source port and address of an IPv4 TCP frame from a counter "
	       "and tail-calls the program under test, so every iteration is a "
	       "different flow. From an empty table, %u iterations insert %u "
	       "new flows in order (insert path); then %u passes over those %u "
	       "flows, in a fixed random order (inserting in order lays the "
	       "elements out in that order, and walking them so again would "
	       "scan memory sequentially, as no traffic does), update a "
	       "different flow every packet (update path). The no-op figure of "
	       "these rows is the cycler and the tail call (and, for updates, "
	       "its array lookup of the order).\n",
	       b->o.flows, b->o.flows, b->o.passes, b->o.flows);
	printf("- Sampling: every-Nth mode, snaplen %d, with a perf buffer "
	       "reader of %u pages per CPU drained after every run; runs are cut "
	       "so that a run's samples fit in half the buffer, so every sample "
	       "is really written. flowacct is loaded as attach loads it (live "
	       "lengths, the live clock), with tables of %u entries.\n\n",
	       FLOW_DEFAULT_SNAPLEN, b->o.pages,
	       b->o.flows + b->o.mix_frames + 1024);
}

static void print_targets(struct bench *b)
{
	static const enum workload ws[] = { W_MIX, W_UPDATE, W_INSERT };
	int h;
	size_t i;

	printf("#### Targets: flowacct at most 1.25 x the minimal accountant\n\n");
	printf("| hook | workload | no-op | minimal | flowacct percpu | x minimal | "
	       "net x | flowacct shared | x minimal | net x | met (percpu / shared) |\n");
	printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
	for (h = 0; h < HOOK_NR; h++) {
		for (i = 0; i < ARRAY_SIZE(ws); i++) {
			enum workload w = ws[i];
			double rp = ratio(b, h, w, V_PERCPU, V_MIN);
			double rs = ratio(b, h, w, V_SHARED, V_MIN);

			printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s |\n",
			       hook_names[h], workload_name(w),
			       fmt(med(b, h, w, V_NOOP), 1), fmt(med(b, h, w, V_MIN), 1),
			       fmt(med(b, h, w, V_PERCPU), 1), fmt(rp, 2),
			       fmt(net_ratio(b, h, w, V_PERCPU, V_MIN), 2),
			       fmt(med(b, h, w, V_SHARED), 1), fmt(rs, 2),
			       fmt(net_ratio(b, h, w, V_SHARED, V_MIN), 2),
			       rp <= 1.25 ? "yes" : "no", rs <= 1.25 ? "yes" : "no");
		}
	}
	printf("\nx minimal: flowacct / minimal accountant, both with the "
	       "test run's own cost (the no-op) in them, as the issue's reference "
	       "figures are. net x: (flowacct - no-op) / (minimal - no-op), the "
	       "work each adds to the floor; stricter, and shown so the first "
	       "does not flatter.\n\n");
}

/* A program set's counters row, looked up in a hash by interface. */
static void print_set(struct bench *b)
{
	int h, w;

	if (!loaded(b, V_SET))
		return;
	printf("#### In a program set\n\n");
	printf("flowacct shared as a program set loads it (lib/set.c: the "
	       "counters and overflow rows per interface, in per-CPU hashes "
	       "keyed by slot and interface, one lookup a packet where an "
	       "attachment of one interface reads an array), against flowacct "
	       "shared as `attach` loads it; ns per packet (median), the median "
	       "of per-round differences and of per-round ratios. The rounds "
	       "check that the set's packets were counted on their interface's "
	       "rows (loopback's: a test run's packet arrives there), not on "
	       "interface 0's.\n\n");
	printf("| hook | workload | flowacct shared | in a set | + ns | x |\n");
	printf("|---|---|---:|---:|---:|---:|\n");
	for (h = 0; h < HOOK_NR; h++)
		for (w = 0; w < W_NR; w++)
			printf("| %s | %s | %s | %s | %s | %s |\n", hook_names[h],
			       workload_name(w), fmt(med(b, h, w, V_SHARED), 1),
			       fmt(med(b, h, w, V_SET), 1),
			       fmt(diff(b, h, w, V_SET, V_SHARED), 1),
			       fmt(ratio(b, h, w, V_SET, V_SHARED), 3));
	printf("\n");
}

/* What each load-time option adds, in the same rounds. */
static void print_options(struct bench *b)
{
	static const enum variant vs[] = { V_RETRANS, V_PRTT, V_ALL };
	int h, w;
	size_t i;

	if (!loaded(b, V_ALL))
		return;
	printf("#### Load-time options (percpu)\n\n");
	printf("flowacct loaded with `--retrans`, with `--passive-rtt`, and with "
	       "both and `--attribution`, against it without them; ns per packet "
	       "(median) and the median of per-round differences. The test frames "
	       "repeat: every repeat of a data segment is a retransmission to "
	       "`--retrans` (its dearest path, two atomic adds), every repeat of "
	       "a TSval and TSecr is one `--passive-rtt` has seen (one lookup: "
	       "its common path; the reverse flow's lookup and the clock run "
	       "when TSecr or TSval change, about once a round trip and once a "
	       "millisecond per flow in real traffic, never in these frames). A test run's skb has no socket, so `--attribution` costs "
	       "here only its check on insert; its live cost is in the live "
	       "section.\n\n");
	printf("| hook | workload | flowacct | --retrans | + ns | --passive-rtt | + ns "
	       "| all three | + ns |\n");
	printf("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (h = 0; h < HOOK_NR; h++)
		for (w = 0; w < W_NR; w++) {
			printf("| %s | %s | %s", hook_names[h], workload_name(w),
			       fmt(med(b, h, w, V_PERCPU), 1));
			for (i = 0; i < ARRAY_SIZE(vs); i++)
				printf(" | %s | %s", fmt(med(b, h, w, vs[i]), 1),
				       fmt(diff(b, h, w, vs[i], V_PERCPU), 1));
			printf(" |\n");
		}
	printf("\n");
}

/*
 * flowacct against another build of its programs, same rounds: each one's
 * net ratio to the minimal accountant, and how much of the baseline's
 * overhead over the floor this build took off.
 */
static void print_baseline(struct bench *b)
{
	int h, w, m;

	if (!b->o.baseline)
		return;
	printf("#### flowacct against %s\n\n", b->o.baseline_name);
	printf("The same cases, this build and `%s` (%s) loaded side by side and "
	       "run in the same interleaved rounds. Ratio: the median of "
	       "per-round ratios. net x: (program - no-op) / (minimal - no-op), "
	       "each in its round; cut: 1 - net x (this build) / net x (%s), "
	       "the share of the baseline's work over the floor this build "
	       "does not do.\n\n", b->o.baseline_name, b->o.baseline,
	       b->o.baseline_name);
	printf("| hook | workload | map | flowacct | %s | ratio | net x | net x, %s | cut |\n",
	       b->o.baseline_name, b->o.baseline_name);
	printf("|---|---|---|---:|---:|---:|---:|---:|---:|\n");
	for (h = 0; h < HOOK_NR; h++)
		for (w = 0; w < W_NR; w++)
			for (m = 0; m < 2; m++) {
				enum variant v = m ? V_SHARED : V_PERCPU;
				enum variant base = m ? V_BASE_SHARED : V_BASE_PERCPU;
				double now = net_ratio(b, h, w, v, V_MIN);
				double then = net_ratio(b, h, w, base, V_MIN);

				printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				       hook_names[h], workload_name(w),
				       m ? "shared" : "percpu",
				       fmt(med(b, h, w, v), 1),
				       fmt(med(b, h, w, base), 1),
				       fmt(ratio(b, h, w, v, base), 3),
				       fmt(now, 2), fmt(then, 2),
				       fmt(1 - now / then, 3));
			}
	printf("\n");
}

static void print_sharing(struct bench *b)
{
	int h, w;

	printf("#### One shared row: atomic adds against bpf_spin_lock\n\n");
	printf("The minimal accountant on one shared hash (BPF_MAP_TYPE_HASH), "
	       "its row updated with `__sync_fetch_and_add` (lock xadd, what "
	       "`--map shared` does) or under a bpf_spin_lock in the value; the "
	       "per-CPU minimal for reference. One CPU runs the test, so this is "
	       "the uncontended cost.\n\n");
	printf("| hook | workload | minimal percpu | shared, atomic | shared, spin lock "
	       "| spin / atomic |\n");
	printf("|---|---|---:|---:|---:|---:|\n");
	for (h = 0; h < HOOK_NR; h++)
		for (w = 0; w < W_NR; w++)
			printf("| %s | %s | %s | %s | %s | %s |\n",
			       hook_names[h], workload_name(w),
			       fmt(med(b, h, w, V_MIN), 1),
			       fmt(med(b, h, w, V_MIN_ATOMIC), 1),
			       fmt(med(b, h, w, V_MIN_SPIN), 1),
			       fmt(ratio(b, h, w, V_MIN_SPIN, V_MIN_ATOMIC), 2));
	printf("\n");
}

static void print_full(struct bench *b)
{
	int h, w, v;

	for (h = 0; h < HOOK_NR; h++) {
		printf("#### %s, every case (ns per packet)\n\n", hook_names[h]);
		printf("| workload | program | median | min | max | x no-op | x minimal |\n");
		printf("|---|---|---:|---:|---:|---:|---:|\n");
		for (w = 0; w < W_NR; w++) {
			for (v = 0; v < V_NR; v++) {
				double *r = result(b, h, w, v, 0);

				printf("| %s | %s | %s | %s | %s | %s | %s |\n",
				       workload_name(w), variants[v].name,
				       fmt(median(r, b->o.rounds), 1),
				       fmt(min_of(r, b->o.rounds), 1),
				       fmt(max_of(r, b->o.rounds), 1),
				       fmt(ratio(b, h, w, v, V_NOOP), 2),
				       fmt(ratio(b, h, w, v, V_MIN), 2));
			}
		}
		printf("\n");
	}
}

/* Sizes after verification and JIT, and what the verifier walked. */
static void print_sizes(struct bench *b)
{
	static const struct {
		const char *name;
		enum hook h;
		enum variant v;
	} progs[] = {
		{ "flowacct_xdp", HOOK_XDP, V_PERCPU },
		{ "flowacct_xdp (shared)", HOOK_XDP, V_SHARED },
		{ "flowacct_tc", HOOK_TC, V_PERCPU },
		{ "flowacct_tc (shared)", HOOK_TC, V_SHARED },
		{ "min_percpu_xdp", HOOK_XDP, V_MIN },
		{ "min_percpu_tc", HOOK_TC, V_MIN },
		{ "min_atomic_xdp", HOOK_XDP, V_MIN_ATOMIC },
		{ "min_spin_xdp", HOOK_XDP, V_MIN_SPIN },
		{ "noop_xdp", HOOK_XDP, V_NOOP },
	};
	size_t i;

	printf("#### Program sizes\n\n");
	printf("From bpf_prog_info, as `bpftool prog show` prints them; flowacct's "
	       "include its global (verified-alone) functions.\n\n");
	printf("| program | xlated bytes | jited bytes | verified insns |\n");
	printf("|---|---:|---:|---:|\n");
	for (i = 0; i < ARRAY_SIZE(progs); i++) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(b->prog_fd[progs[i].h][progs[i].v],
					    &info, &len))
			continue;
		printf("| %s | %u | %u | %u |\n", progs[i].name,
		       info.xlated_prog_len, info.jited_prog_len,
		       info.verified_insns);
	}
	printf("\n");
}

/* hook, workload, variant, round, ns: one line per figure measured. */
static int print_raw(struct bench *b, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	unsigned int r;
	int h, w, v;

	if (!f)
		return -errno;
	for (h = 0; h < HOOK_NR; h++)
		for (w = 0; w < W_NR; w++)
			for (v = 0; v < V_NR; v++)
				for (r = 0; r < b->o.rounds; r++)
					if (!isnan(*result(b, h, w, v, r)))
						fprintf(f, "%s\t%s\t%s\t%u\t%.2f\n",
							hook_names[h], workload_name(w),
							variants[v].name, r,
							*result(b, h, w, v, r));
	if (f != stdout && fclose(f))
		return -errno;
	return 0;
}

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fprintf(stderr, "flowbench: can't pin to CPU %d: %s\n", cpu,
			strerror(errno));
}

static void pkt_usage(FILE *f)
{
	fprintf(f,
		"Usage: flowbench pkt [--quick] [--rounds N] [--best-of N] [--repeat N]\n"
		"                     [--mix-frames N]\n"
		"                     [--mix-repeat N] [--flows N] [--passes N] [--pages N]\n"
		"                     [--cpu N] [--raw FILE] [--only HOOK,WORKLOAD,VARIANT]\n"
		"                     [--baseline NAME=BPF-OBJECT] [--ours BPF-OBJECT]\n"
		"                     [--tc-ingress] [--decap] [--baseline-decap] [--vxlan]\n"
		"--best-of: each case run N times a round, the least kept (default 1).\n"
		"--raw: every round's figure, tab-separated. --only: run one case (numbers\n"
		"as in the enums, -1 for all; variants joined by +), e.g. under perf;\n"
		"prints raw figures only.\n"
		"--baseline: another build of flowacct's programs, run in the same rounds.\n"
		"--ours: this build's programs from a file (another compiler's) instead of\n"
		"the built-in ones; the map modes only, no options. --tc-ingress: the TC\n"
		"cases run the ingress program (flowacct_tc_in), not egress's. --decap:\n"
		"this build's programs with --decap inner; --baseline-decap: the\n"
		"baseline's too (a build that has it). --vxlan: each of the mix's\n"
		"frames in VXLAN.\n");
}

/*
 * HOOK,WORKLOAD,VARIANT[+VARIANT...], numbers as in the enums, -1 for all.
 * Two variants alone (ours and a baseline) run back to back in each pass of
 * a round: their ratio then compares runs a few ms apart, not up to a
 * second apart among the other cases.
 */
static int parse_only(const char *arg, struct pkt_opts *o)
{
	char *end;
	long v;
	int n;

	if (sscanf(arg, "%d,%d,%n", &o->only[0], &o->only[1], &n) != 2)
		return -1;
	arg += n;
	o->only_variants = 0;
	if (!strcmp(arg, "-1"))
		return 0;
	for (;;) {
		v = strtol(arg, &end, 10);
		if (end == arg || v < 0 || v >= V_NR)
			return -1;
		o->only_variants |= 1u << v;
		if (!*end)
			return 0;
		if (*end != '+')
			return -1;
		arg = end + 1;
	}
}

int cmd_pkt(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "best-of", required_argument, NULL, 'k' },
		{ "repeat", required_argument, NULL, 'R' },
		{ "mix-frames", required_argument, NULL, 'm' },
		{ "mix-repeat", required_argument, NULL, 'M' },
		{ "flows", required_argument, NULL, 'f' },
		{ "passes", required_argument, NULL, 'p' },
		{ "pages", required_argument, NULL, 'P' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "raw", required_argument, NULL, 'w' },
		{ "only", required_argument, NULL, 'o' },
		{ "baseline", required_argument, NULL, 'b' },
		{ "ours", required_argument, NULL, 'O' },
		{ "tc-ingress", no_argument, NULL, 'I' },
		{ "decap", no_argument, NULL, 'D' },
		{ "baseline-decap", no_argument, NULL, 'B' },
		{ "vxlan", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct bench b = {
		.o = {
			.rounds = 5, .best_of = 1, .repeat = 200000, .mix_frames = 1024,
			.mix_repeat = 64, .flows = 100000, .passes = 5,
			.pages = 4096, .cpu = libbpf_num_possible_cpus() - 1,
			.only = { -1, -1 },
		},
	};
	const char *raw = NULL;
	__u64 samples, lost;
	bool only = false;
	int c, err;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			b.o.rounds = 3, b.o.repeat = 100, b.o.mix_frames = 64;
			b.o.mix_repeat = 4, b.o.flows = 2000, b.o.passes = 2;
			b.o.pages = 64;
			break;
		case 'r':
			b.o.rounds = strtoul(optarg, NULL, 0);
			break;
		case 'k':
			b.o.best_of = strtoul(optarg, NULL, 0);
			break;
		case 'R':
			b.o.repeat = strtoul(optarg, NULL, 0);
			break;
		case 'm':
			b.o.mix_frames = strtoul(optarg, NULL, 0);
			break;
		case 'M':
			b.o.mix_repeat = strtoul(optarg, NULL, 0);
			break;
		case 'f':
			b.o.flows = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			b.o.passes = strtoul(optarg, NULL, 0);
			break;
		case 'P':
			b.o.pages = strtoul(optarg, NULL, 0);
			break;
		case 'c':
			b.o.cpu = atoi(optarg);
			break;
		case 'w':
			raw = optarg;
			break;
		case 'o':
			if (parse_only(optarg, &b.o)) {
				pkt_usage(stderr);
				return 1;
			}
			only = true;
			break;
		case 'b':
			b.o.baseline = strchr(optarg, '=');
			if (!b.o.baseline) {
				pkt_usage(stderr);
				return 1;
			}
			*(char *)b.o.baseline++ = '\0';
			b.o.baseline_name = optarg;
			break;
		case 'O':
			b.o.ours_file = optarg;
			break;
		case 'I':
			b.o.tc_ingress = true;
			break;
		case 'D':
			b.o.decap = true;
			break;
		case 'B':
			b.o.baseline_decap = true;
			break;
		case 'V':
			b.o.vxlan = true;
			break;
		case 'h':
			pkt_usage(stdout);
			return 0;
		default:
			pkt_usage(stderr);
			return 1;
		}
	}
	if (!b.o.rounds || b.o.rounds > 64 || !b.o.best_of || b.o.best_of > 16 ||
	    !b.o.repeat || !b.o.mix_frames ||
	    !b.o.mix_repeat || !b.o.flows || b.o.flows > (1u << 24) ||
	    !b.o.passes || b.o.pages < 8 || (b.o.pages & (b.o.pages - 1))) {
		fprintf(stderr, "flowbench: rounds 1-64, best-of 1-16, counts > 0, flows <= 2^24, "
			"pages a power of two >= 8\n");
		return 1;
	}
	pin_cpu(b.o.cpu);
	err = setup(&b);
	if (err) {
		fprintf(stderr, "flowbench: can't load the programs: %s\n",
			strerror(-err));
		teardown(&b);
		return 1;
	}
	/* For a profiler to start only now: loading is verification. */
	fprintf(stderr, "flowbench: loaded, running\n");
	err = run_rounds(&b);
	if (!err) {
		err = check_counters(&b, &samples, &lost);
		if (err == -EXDEV)
			fprintf(stderr, "flowbench: the program set's packets were "
				"counted on interface 0, not on loopback's rows\n");
		else if (err == -ENOSPC)
			fprintf(stderr, "flowbench: flowacct's table overflowed: the "
				"insert path was not measured\n");
		else if (err)
			fprintf(stderr, "flowbench: can't read flowacct's counters: %s\n",
				strerror(-err));
	}
	if (!err && (raw || only))
		err = print_raw(&b, only ? "-" : raw);
	if (!err && !only) {
		print_method(&b);
		print_targets(&b);
		print_baseline(&b);
		print_options(&b);
		print_set(&b);
		print_sharing(&b);
		print_full(&b);
		print_sizes(&b);
		printf("Samples written by flowacct: %llu; lost (counted by the "
		       "programs: full buffer, no reader, other): %llu; read back: "
		       "%llu; lost by the perf buffer: %llu.\n\n",
		       (unsigned long long)samples, (unsigned long long)lost,
		       (unsigned long long)(b.samples[OURS_PERCPU].read +
					    b.samples[OURS_SHARED].read),
		       (unsigned long long)(b.samples[OURS_PERCPU].lost +
					    b.samples[OURS_SHARED].lost));
	}
	teardown(&b);
	return err ? 1 : 0;
}

/* ---- main ---------------------------------------------------------------- */

static int cmd_pcap(int argc, char **argv)
{
	int err;

	if (argc != 5) {
		fprintf(stderr, "Usage: flowbench pcap FILE PACKETS FLOWS SNAPLEN\n");
		return 1;
	}
	err = mix_write_pcap(argv[1], strtoul(argv[2], NULL, 0),
			     strtoul(argv[3], NULL, 0), strtoul(argv[4], NULL, 0),
			     7);
	if (err)
		fprintf(stderr, "flowbench: can't write '%s': %s\n", argv[1],
			strerror(-err));
	return err ? 1 : 0;
}

/*
 * The references of the live benchmark: an XDP program that only passes
 * (the veth then runs its XDP path, NAPI, as under flowacct), and the
 * minimal accountant. Attached in native mode through netlink, a program
 * stays after we exit; `ip link set IFACE xdp off` removes it.
 */
static int cmd_xdp_attach(int argc, char **argv)
{
	struct bench_progs_bpf *skel;
	struct bpf_program *prog, *want;
	int ifindex, err;

	if (argc != 3 || (strcmp(argv[1], "noop") && strcmp(argv[1], "minimal"))) {
		fprintf(stderr, "Usage: flowbench xdp-attach noop|minimal IFACE\n");
		return 1;
	}
	ifindex = if_nametoindex(argv[2]);
	if (!ifindex) {
		fprintf(stderr, "flowbench: no interface '%s'\n", argv[2]);
		return 1;
	}
	skel = bench_progs_bpf__open();
	if (!skel)
		return 1;
	want = strcmp(argv[1], "noop") ? skel->progs.min_percpu_xdp :
					 skel->progs.noop_xdp;
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, prog == want);
	err = bench_progs_bpf__load(skel);
	if (!err)
		err = bpf_xdp_attach(ifindex, bpf_program__fd(want),
				     XDP_FLAGS_DRV_MODE, NULL);
	if (err)
		fprintf(stderr, "flowbench: can't attach to '%s': %s\n", argv[2],
			strerror(-err));
	bench_progs_bpf__destroy(skel);
	return err ? 1 : 0;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "pkt", cmd_pkt }, { "mem", cmd_mem }, { "fill", cmd_fill },
		{ "pcap", cmd_pcap }, { "xdp-attach", cmd_xdp_attach },
		{ "flip", cmd_flip }, { "drain", cmd_drain }, { "records", cmd_records },
		{ "ipfix", cmd_ipfix }, { "verifier", cmd_verifier },
		{ "contend", cmd_contend },
	};
	size_t i;

	libbpf_set_print(libbpf_quiet);
	if (argc >= 2)
		for (i = 0; i < ARRAY_SIZE(cmds); i++)
			if (!strcmp(argv[1], cmds[i].name))
				return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "Usage: flowbench pkt|mem|fill|pcap|xdp-attach|flip|drain|records|ipfix|verifier|contend ...\n");
	return 1;
}
