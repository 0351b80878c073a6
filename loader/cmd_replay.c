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

#include "cli.h"
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
#define XDP_RUN_MAX	(17 * 4096)	/* 17 pages: a whole 66000-byte jumbogram */

/* The program a replay runs: each ingress hook, or TC egress. */
enum replay_hook { REPLAY_XDP, REPLAY_TC_EGRESS, REPLAY_TC_INGRESS };

struct replay_opts {
	int hook;		/* enum replay_hook */
	int shared;
	__u32 max_flows;
	__u32 sample_rate;
	int sample_mode;
	__u32 snaplen;
	const char *write;	/* -w: where sampled frames go */
	int pcapng;
};

static const struct opt_value replay_hooks[] = {
	{ "xdp", REPLAY_XDP }, { "tc-ingress", REPLAY_TC_INGRESS },
	{ "tc-egress", REPLAY_TC_EGRESS }, { "tc", REPLAY_TC_EGRESS }, { NULL, 0 },
};

static int replay_dir(const struct replay_opts *o)
{
	return o->hook == REPLAY_TC_EGRESS ? FLOW_DIR_EGRESS : FLOW_DIR_INGRESS;
}

static const struct replay_opts defaults_replay = {
	.hook = REPLAY_XDP,
	.max_flows = FLOW_DEFAULT_MAX_FLOWS,
	.snaplen = FLOW_DEFAULT_SNAPLEN,
};

static const struct opt replay_options[] = {
	OPTION("hook", 0, OPT_ENUM, struct replay_opts, hook, NULL,
	       "the program to run the frames through",
	       .values = replay_hooks),
	OPTION("map", 0, OPT_ENUM, struct replay_opts, shared, NULL,
	       "per-CPU values, or one value updated atomically",
	       .values = map_modes),
	OPTION("max-flows", 0, OPT_UINT, struct replay_opts, max_flows, "N",
	       "flows the table holds",
	       .min = 1, .max = 1u << 27),
	OPTION("sample", 0, OPT_FUNC, struct replay_opts, sample_rate, "N",
	       "sample 1 in N frames into -w's file",
	       .parse = parse_sample_rate),
	OPTION("sample-mode", 0, OPT_ENUM, struct replay_opts, sample_mode, NULL,
	       "which frames are samples",
	       .values = sample_modes),
	OPTION("snaplen", 0, OPT_FUNC, struct replay_opts, snaplen, "BYTES",
	       "bytes of each sampled frame",
	       .parse = parse_snaplen),
	OPTION("write", 'w', OPT_STRING, struct replay_opts, write, "OUT",
	       "write the sampled frames here"),
	OPTION("format", 'f', OPT_ENUM, struct replay_opts, pcapng, NULL,
	       "the format of -w's file",
	       .values = formats),
	OPT_END
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
	__u32 expect = o->hook == REPLAY_XDP ? XDP_PASS : (__u32)TC_ACT_UNSPEC;

	int err;

	run_len = test_run_pad(f->buf, f->cap_len);
	if (o->hook != REPLAY_XDP && run_len > TC_RUN_MAX)
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

static enum bpf_perf_event_ret on_replay_event(void *ctx, int cpu,
					       struct perf_event_header *e)
{
	struct perf_sample_raw *s = (struct perf_sample_raw *)e;

	(void)cpu;
	if (e->type == PERF_RECORD_SAMPLE)
		fa_sample_writer_write(ctx, s->data, s->size, 0);
	return LIBBPF_PERF_EVENT_CONT;
}

static int do_replay(void *opts, int argc, char **argv)
{
	struct replay_opts *o = opts;
	const char *file = argv[0];
	struct fa_load_opts lo = {
		.shared = o->shared,
		.max_flows = o->max_flows,
		.replay = true,
		.progs = o->hook == REPLAY_XDP ? FA_PROG_XDP :
			 o->hook == REPLAY_TC_INGRESS ? FA_PROG_TC_INGRESS : FA_PROG_TC_EGRESS,
	};
	/* The kernel runs test frames on the loopback device, ifindex 1. */
	struct fa_attach_state st = {
		.ifindex = 1,
		.ingress = o->hook == REPLAY_XDP ? FA_INGRESS_XDP_NATIVE : FA_INGRESS_TC,
		.ifname = "lo",
	};
	struct flow_sample_config sample = {
		.rate = o->sample_rate, .mode = o->sample_mode, .snaplen = o->snaplen,
	};
	struct fa_sample_writer *w = NULL;
	struct perf_buffer *pb = NULL;
	struct flowacct_bpf *skel = NULL;
	struct fa_snapshot s = {};
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const unsigned char *data;
	struct frame *f = NULL;
	int fd[FA_NR_PINS], hook[FLOW_NR_DIRS];
	__u64 frames = 0;
	struct fa_view v = {};
	struct fa_out out;
	pcap_t *pcap;
	int err, dlt, prog_fd, ret = -1;

	(void)argc;
	if (o->write && !o->sample_rate) {
		pr_err("-w writes sampled frames: give --sample N too");
		return -EINVAL;
	}
	if (o->write && !strcmp(o->write, "-") && !cli.json) {
		pr_err("-w - writes the capture to standard output: add -j so the report stays out of it, or write to a file");
		return -EINVAL;
	}
	pcap = pcap_open_offline(file, errbuf);
	if (!pcap) {
		pr_err("can't read capture '%s': %s", file, errbuf);
		return -EINVAL;
	}
	dlt = pcap_datalink(pcap);
	if (!dlt_supported(dlt)) {
		const char *name = pcap_datalink_val_to_name(dlt);

		pr_err("capture '%s' has link type %s (%d): replay takes Ethernet, Linux cooked (SLL, SLL2) or raw IP",
		       file, name ? name : "unknown", dlt);
		goto out;
	}
	err = fa_progs_load(&lo, &skel);
	if (!err && bpf_map_update_elem(bpf_map__fd(skel->maps.flow_sample_cfg),
					&(__u32){ 0 }, &sample, BPF_ANY))
		err = -errno;
	if (err) {
		pr_err("can't load the BPF programs: %s%s", strerror(-err),
		       cli.verbose ? "" : " (-v shows libbpf's log)");
		goto out;
	}
	prog_fd = bpf_program__fd(o->hook == REPLAY_XDP ? skel->progs.flowacct_xdp :
				  o->hook == REPLAY_TC_INGRESS ? skel->progs.flowacct_tc_in :
				  skel->progs.flowacct_tc);
	f = malloc(sizeof(*f));
	if (!f) {
		pr_err("out of memory");
		goto out;
	}
	pin_to_current_cpu();
	fa_state_hooks(&st, hook);
	if (o->write) {
		err = fa_sample_writer_open(&w, o->write, o->pcapng, "replay", hook);
		if (err) {
			pr_err("can't write '%s': %s", o->write, strerror(-err));
			goto out;
		}
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
		err = run_frame(prog_fd, skel, o, f, h);
		if (err == -EBADMSG) {
			pr_err("frame %llu of '%s': the program returned a verdict other than pass",
			       (unsigned long long)frames, file);
			goto out;
		}
		if (err) {
			pr_err("frame %llu of '%s': BPF_PROG_TEST_RUN failed: %s",
			       (unsigned long long)frames, file, strerror(-err));
			goto out;
		}
		/* Drain as we go: the buffer holds a few MiB, a capture more. */
		if (pb)
			perf_buffer__consume(pb);
	}
	if (err == PCAP_ERROR) {
		pr_err("reading '%s' after frame %llu: %s", file,
		       (unsigned long long)frames, pcap_geterr(pcap));
		goto out;
	}

	/* Replay's times are the capture's: already ns since the epoch. */
	fa_progs_map_fds(skel, fd);
	err = fa_snapshot_add_maps(&s, fd, &st, "replay", NULL, 0);
	if (err) {
		pr_err("can't read the flow table: %s", strerror(-err));
		goto out;
	}
	/* Only the hook we ran: the other one's slot is all zeros. */
	s.total[!replay_dir(o)].present = false;
	fa_table_sort(&s.t, FA_SORT_BYTES);
	v.names = &s.names;
	memcpy(v.hook, hook, sizeof(v.hook));
	cli_out(&out);
	fa_print_flow_doc(&out, &s.t, s.total, &v);
	if (s.total[replay_dir(o)].c[FLOW_C_SEEN] != frames) {
		pr_err("'%s' has %llu frames but the program saw %llu",
		       file, (unsigned long long)frames,
		       (unsigned long long)s.total[replay_dir(o)].c[FLOW_C_SEEN]);
		goto out;
	}
	ret = 0;
out:
	perf_buffer__free(pb);
	if (fa_sample_writer_close(w) && !ret) {
		pr_err("can't write '%s'", o->write);
		ret = -EIO;
	}
	fa_snapshot_free(&s);
	free(f);
	flowacct_bpf__destroy(skel);
	pcap_close(pcap);
	return ret;
}

const struct command cmd_replay = {
	.name = "replay",
	.args = "FILE",
	.summary = "run a capture through the programs (BPF_PROG_TEST_RUN)",
	.details = "Every frame of a pcap or pcapng capture through the XDP (default) or TC\n"
		   "program, on private maps; prints the flows and counters. With --sample N\n"
		   "-w OUT, the frames the program samples go to OUT.",
	.opts = replay_options,
	.opts_size = sizeof(struct replay_opts),
	.defaults = &defaults_replay,
	.need = NEED_BPF,
	.min_args = 1,
	.max_args = 1,
	.run = do_replay,
};
