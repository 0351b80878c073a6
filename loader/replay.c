// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowacct replay: every frame of a capture through the XDP or TC program
 * with BPF_PROG_TEST_RUN, on private maps, then the flow table and counters.
 */
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
/* pcap's classic-BPF header clashes with linux/bpf.h; we need neither. */
#define PCAP_DONT_INCLUDE_PCAP_BPF_H
#include <pcap/pcap.h>
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "flowacct.h"
#include "flowacct.skel.h"
#include "samplebuf.h"
#include "testrun.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

#define SLL_HDR_LEN	16
#define SLL2_HDR_LEN	20

/*
 * Largest frame each program type can be run with. An skb test run holds
 * one page less headroom and shared info; XDP with frags takes up to
 * MAX_SKB_FRAGS more pages. Longer frames are run cut, as if by a snaplen,
 * and judged by their wire length like any cut frame.
 */
#define TC_RUN_MAX	3500
#define XDP_RUN_MAX	(16 * 4096)

struct replay_opts {
	const char *file;
	enum flow_direction hook;
	bool shared;
	__u32 max_flows;
	struct flow_sample_config sample;
	const char *out;	/* -w: where sampled frames go */
	bool pcapng;
};

/* One capture record turned into the Ethernet frame the programs expect. */
struct frame {
	unsigned char buf[XDP_RUN_MAX + ETH_HLEN];
	__u32 cap_len;	/* bytes of the frame we have */
	__u32 wire_len;	/* bytes it had on the wire */
};

static void put_ethhdr(unsigned char *p, __u16 ethertype)
{
	memset(p, 0, 12);
	p[12] = ethertype >> 8;
	p[13] = ethertype & 0xff;
}

/*
 * Builds the frame for one record. Cooked and raw-IP captures get an
 * Ethernet header carrying their protocol; a record too short to hold its
 * own pseudo-header is a frame of no bytes at all.
 */
static void frame_from_record(int dlt, const struct pcap_pkthdr *h,
			      const unsigned char *data, struct frame *f)
{
	__u32 caplen = h->caplen, len = h->len > h->caplen ? h->len : h->caplen;
	__u32 hdr = 0, copy;
	__u16 ethertype = 0;

	switch (dlt) {
	case DLT_EN10MB:
		copy = caplen < sizeof(f->buf) ? caplen : sizeof(f->buf);
		memcpy(f->buf, data, copy);
		f->cap_len = copy;
		f->wire_len = len;
		return;
	case DLT_LINUX_SLL:
		hdr = SLL_HDR_LEN;
		if (caplen >= hdr)
			ethertype = data[14] << 8 | data[15];
		break;
	case DLT_LINUX_SLL2:
		hdr = SLL2_HDR_LEN;
		if (caplen >= hdr)
			ethertype = data[0] << 8 | data[1];
		break;
	case DLT_RAW:
		ethertype = caplen && (data[0] >> 4) == 6 ? ETH_P_IPV6 : ETH_P_IP;
		break;
	case DLT_IPV4:
		ethertype = ETH_P_IP;
		break;
	case DLT_IPV6:
		ethertype = ETH_P_IPV6;
		break;
	}
	if (caplen < hdr) {
		f->cap_len = 0;
		f->wire_len = len > hdr ? len - hdr + ETH_HLEN : 0;
		return;
	}
	put_ethhdr(f->buf, ethertype);
	copy = caplen - hdr;
	if (copy > sizeof(f->buf) - ETH_HLEN)
		copy = sizeof(f->buf) - ETH_HLEN;
	memcpy(f->buf + ETH_HLEN, data + hdr, copy);
	f->cap_len = ETH_HLEN + copy;
	f->wire_len = len - hdr + ETH_HLEN;
}

static bool dlt_supported(int dlt)
{
	return dlt == DLT_EN10MB || dlt == DLT_LINUX_SLL ||
	       dlt == DLT_LINUX_SLL2 || dlt == DLT_RAW || dlt == DLT_IPV4 ||
	       dlt == DLT_IPV6;
}

static int run_frame(int prog_fd, struct flowacct_bpf *skel,
		     const struct replay_opts *o, struct frame *f,
		     const struct pcap_pkthdr *h)
{
	LIBBPF_OPTS(bpf_test_run_opts, topts);
	__u32 run_len;
	__u32 expect = o->hook == FLOW_DIR_INGRESS ? XDP_PASS :
						     (__u32)TC_ACT_UNSPEC;
	int err;

	run_len = test_run_pad(f->buf, f->cap_len);
	if (o->hook == FLOW_DIR_EGRESS && run_len > TC_RUN_MAX)
		run_len = TC_RUN_MAX;

	skel->bss->replay_frame.wire_len = f->wire_len;
	skel->bss->replay_frame.cap_len = f->cap_len;
	skel->bss->replay_frame.ts_ns = (__u64)h->ts.tv_sec * 1000000000ull +
					(__u64)h->ts.tv_usec * 1000ull;

	topts.data_in = f->buf;
	topts.data_size_in = run_len;
	topts.repeat = 1;
	err = bpf_prog_test_run_opts(prog_fd, &topts);
	if (err)
		return -errno;
	if (topts.retval != expect)
		return -EBADMSG;
	return 0;
}

static int load_programs(struct flowacct_bpf **out, const struct replay_opts *o)
{
	struct flowacct_bpf *skel;
	int err;

	skel = flowacct_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->flow_cfg.replay = 1;
	skel->rodata->flow_cfg.shared_map = o->shared;
	err = bpf_map__set_type(skel->maps.flows, o->shared ?
				BPF_MAP_TYPE_HASH : BPF_MAP_TYPE_PERCPU_HASH);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.flows, o->max_flows);
	if (!err)
		err = flowacct_bpf__load(skel);
	if (!err && bpf_map_update_elem(bpf_map__fd(skel->maps.flow_sample_cfg),
					&(__u32){ 0 }, &o->sample, BPF_ANY))
		err = -errno;
	if (err) {
		flowacct_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

static enum bpf_perf_event_ret on_replay_event(void *ctx, int cpu,
					       struct perf_event_header *e)
{
	struct perf_sample_raw *s = (struct perf_sample_raw *)e;

	(void)cpu;
	if (e->type == PERF_RECORD_SAMPLE)
		sample_writer_write(ctx, s->data, s->size, 0);
	return LIBBPF_PERF_EVENT_CONT;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: flowacct replay FILE [--hook xdp|tc] [--map percpu|shared]\n"
		"                       [--max-flows N] [-j] [--sample N -w OUT\n"
		"                       [--sample-mode every|random|hash] [--snaplen S]\n"
		"                       [--format pcap|pcapng]]\n"
		"Runs every frame of a pcap or pcapng capture through the XDP (default)\n"
		"or TC program with BPF_PROG_TEST_RUN and prints the flows and counters;\n"
		"with --sample, writes the frames the program samples to OUT.\n");
}

static int parse_replay_opts(int argc, char **argv, struct replay_opts *o)
{
	static const struct option longopts[] = {
		{ "hook", required_argument, NULL, 'H' },
		{ "map", required_argument, NULL, 'm' },
		{ "max-flows", required_argument, NULL, 'n' },
		{ "sample", required_argument, NULL, 'S' },
		{ "sample-mode", required_argument, NULL, 'T' },
		{ "snaplen", required_argument, NULL, 'L' },
		{ "write", required_argument, NULL, 'w' },
		{ "format", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	while ((c = getopt_long(argc, argv, "w:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'H':
			if (!strcmp(optarg, "xdp"))
				o->hook = FLOW_DIR_INGRESS;
			else if (!strcmp(optarg, "tc"))
				o->hook = FLOW_DIR_EGRESS;
			else {
				pr_err("unknown hook '%s': use xdp or tc", optarg);
				return -EINVAL;
			}
			break;
		case 'm':
			if (parse_map_mode(optarg, &o->shared))
				return -EINVAL;
			break;
		case 'n':
			if (parse_max_flows(optarg, &o->max_flows))
				return -EINVAL;
			break;
		case 'S':
			if (parse_sample_rate(optarg, &o->sample.rate))
				return -EINVAL;
			break;
		case 'T':
			if (parse_sample_mode(optarg, &o->sample.mode))
				return -EINVAL;
			break;
		case 'L':
			if (parse_snaplen(optarg, &o->sample.snaplen))
				return -EINVAL;
			break;
		case 'w':
			o->out = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "pcapng"))
				o->pcapng = true;
			else if (strcmp(optarg, "pcap")) {
				pr_err("unknown format '%s': use pcap or pcapng", optarg);
				return -EINVAL;
			}
			break;
		case 'j':
			json_output = true;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_SUCCESS);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc - 1) {
		pr_err("replay takes one capture file");
		usage(stderr);
		return -EINVAL;
	}
	o->file = argv[optind];
	if (o->out && !o->sample.rate) {
		pr_err("-w writes sampled frames: give --sample N too");
		return -EINVAL;
	}
	if (o->out && !strcmp(o->out, "-") && !json_output) {
		pr_err("-w - writes the capture to standard output: add -j so the report stays out of it, or write to a file");
		return -EINVAL;
	}
	return 0;
}

int do_replay(int argc, char **argv)
{
	struct replay_opts o = {
		.hook = FLOW_DIR_INGRESS,
		.max_flows = FLOW_DEFAULT_MAX_FLOWS,
		.sample = { .snaplen = FLOW_DEFAULT_SNAPLEN },
	};
	struct sample_writer *w = NULL;
	struct perf_buffer *pb = NULL;
	struct hook_stats stats[FLOW_NR_DIRS] = {};
	struct flow_table table = {};
	struct flowacct_bpf *skel = NULL;
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const unsigned char *data;
	struct frame *f = NULL;
	__u64 frames = 0;
	pcap_t *pcap;
	int err, dlt, prog_fd, ret = -1;

	if (parse_replay_opts(argc, argv, &o))
		return -1;

	pcap = pcap_open_offline(o.file, errbuf);
	if (!pcap) {
		pr_err("can't read capture '%s': %s", o.file, errbuf);
		return -1;
	}
	dlt = pcap_datalink(pcap);
	if (!dlt_supported(dlt)) {
		const char *name = pcap_datalink_val_to_name(dlt);

		pr_err("capture '%s' has link type %s (%d): replay takes Ethernet, Linux cooked (SLL, SLL2) or raw IP",
		       o.file, name ? name : "unknown", dlt);
		goto out;
	}

	err = load_programs(&skel, &o);
	if (err) {
		pr_err("can't load the BPF programs: %s", strerror(-err));
		libbpf_log_tail(20);
		goto out;
	}
	prog_fd = bpf_program__fd(o.hook == FLOW_DIR_INGRESS ?
				  skel->progs.flowacct_xdp :
				  skel->progs.flowacct_tc);

	f = malloc(sizeof(*f));
	if (!f) {
		pr_err("out of memory");
		goto out;
	}
	pin_to_current_cpu();
	if (o.out) {
		if (sample_writer_open(&w, o.out, o.pcapng, "replay"))
			goto out;
		pb = sample_buffer_open(bpf_map__fd(skel->maps.flow_samples), 256,
					on_replay_event, w);
		if (!pb) {
			pr_err("can't read the sample buffer: %s", strerror(errno));
			goto out;
		}
	}

	while ((err = pcap_next_ex(pcap, &h, &data)) == 1) {
		frames++;
		frame_from_record(dlt, h, data, f);
		err = run_frame(prog_fd, skel, &o, f, h);
		if (err == -EBADMSG) {
			pr_err("frame %llu of '%s': the program returned a verdict other than pass",
			       (unsigned long long)frames, o.file);
			goto out;
		}
		if (err) {
			pr_err("frame %llu of '%s': BPF_PROG_TEST_RUN failed: %s",
			       (unsigned long long)frames, o.file, strerror(-err));
			goto out;
		}
		/* Drain as we go: the buffer holds a few MiB, a capture more. */
		if (pb)
			perf_buffer__consume(pb);
	}
	if (err == PCAP_ERROR) {
		pr_err("reading '%s' after frame %llu: %s", o.file,
		       (unsigned long long)frames, pcap_geterr(pcap));
		goto out;
	}

	err = flow_table_read(bpf_map__fd(skel->maps.flows), &table);
	if (!err)
		err = hook_stats_read(bpf_map__fd(skel->maps.flow_stats), stats);
	if (err) {
		pr_err("can't read the flow table: %s", strerror(-err));
		goto out;
	}
	/* Only the hook we ran: the other one's slot is all zeros. */
	stats[o.hook].present = true;
	stats[!o.hook].present = false;
	flow_table_add_overflow(&table, &stats[o.hook], 1, o.hook);
	flow_table_sort(&table, SORT_BYTES);
	report_print(&(struct report){ .flows = &table, .stats = stats });
	if (stats[o.hook].counters[FLOW_C_SEEN] != frames) {
		pr_err("'%s' has %llu frames but the program saw %llu",
		       o.file, (unsigned long long)frames,
		       (unsigned long long)stats[o.hook].counters[FLOW_C_SEEN]);
		goto out;
	}
	ret = 0;
out:
	perf_buffer__free(pb);
	sample_writer_close(w);
	flow_table_free(&table);
	free(f);
	flowacct_bpf__destroy(skel);
	pcap_close(pcap);
	return ret;
}
