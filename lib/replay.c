// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Replay: a capture's records turned into the Ethernet frames the programs
 * expect and run through them with BPF_PROG_TEST_RUN on private maps; the
 * frame runner the fuzzer and the program tests use too. See replay.h.
 */
#include <errno.h>
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

#include "replay.h"
#include "internal.h"
#include "flowacct.skel.h"
#include "samplebuf.h"
#include "testrun.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

#define SLL_HDR_LEN	16
#define SLL2_HDR_LEN	20

/* Room for the longest frame, its Ethernet header and the padding. */
#define FRAME_ROOM	(FA_XDP_RUN_MAX + ETH_HLEN + FA_FRAME_PAD)

static int hook_prog_fd(struct flowacct_bpf *skel, int hook)
{
	return bpf_program__fd(hook == FA_REPLAY_XDP ? skel->progs.flowacct_xdp :
			       hook == FA_REPLAY_TC_INGRESS ? skel->progs.flowacct_tc_in :
			       skel->progs.flowacct_tc);
}

int fa_replay_dir(int hook)
{
	return hook == FA_REPLAY_TC_EGRESS ? FLOW_DIR_EGRESS : FLOW_DIR_INGRESS;
}

int fa_frame_run(struct flowacct_bpf *skel, int hook, struct fa_frame *f,
		 struct fa_frame_ran *ran)
{
	LIBBPF_OPTS(bpf_test_run_opts, topts);
	__u32 expect = hook == FA_REPLAY_XDP ? XDP_PASS : (__u32)TC_ACT_UNSPEC;

	memset(ran, 0, sizeof(*ran));
	ran->run_len = f->cap_len;
	/*
	 * Only a replay build is told how much of a padded frame is real
	 * (parse_ctx_replay); a live build runs the frame as it is.
	 */
	if (skel->rodata->flow_cfg.replay) {
		ran->run_len = test_run_pad(f->buf, f->cap_len);
		if (hook != FA_REPLAY_XDP && ran->run_len > FA_TC_RUN_MAX)
			ran->run_len = FA_TC_RUN_MAX;
		skel->bss->replay_frame.wire_len = f->wire_len;
		skel->bss->replay_frame.cap_len = f->cap_len;
		skel->bss->replay_frame.ts_ns = f->ts_ns;
	}
	topts.data_in = f->buf;
	topts.data_size_in = ran->run_len;
	topts.data_out = f->out;
	topts.data_size_out = f->out ? f->out_size : 0;
	topts.ctx_in = f->ctx;
	topts.ctx_size_in = f->ctx ? f->ctx_size : 0;
	topts.repeat = 1;
	if (bpf_prog_test_run_opts(hook_prog_fd(skel, hook), &topts))
		return -errno;
	ran->retval = topts.retval;
	ran->out_len = topts.data_size_out;
	return ran->retval == expect ? 0 : -EBADMSG;
}

/* The kernel runs test frames on the loopback device, ifindex 1. */
static void replay_state(int hook, struct fa_attach_state *st)
{
	*st = (struct fa_attach_state){
		.ifindex = 1,
		.ingress = hook == FA_REPLAY_XDP ? FA_INGRESS_XDP_NATIVE : FA_INGRESS_TC,
		.ifname = "lo",
	};
}

static void put_ethhdr(unsigned char *p, __u16 ethertype)
{
	memset(p, 0, 12);
	p[12] = ethertype >> 8;
	p[13] = ethertype & 0xff;
}

/*
 * Builds the frame for one record into f->buf (FRAME_ROOM bytes). Cooked
 * and raw-IP captures get an Ethernet header carrying their protocol; a
 * record too short to hold its own pseudo-header is a frame of no bytes.
 */
static void frame_from_record(int dlt, const struct pcap_pkthdr *h,
			      const unsigned char *data, struct fa_frame *f)
{
	const __u32 room = FRAME_ROOM - FA_FRAME_PAD;
	__u32 caplen = h->caplen, len = h->len > h->caplen ? h->len : h->caplen;
	__u32 hdr = 0, copy;
	__u16 ethertype = 0;

	f->ts_ns = (__u64)h->ts.tv_sec * 1000000000ull + (__u64)h->ts.tv_usec * 1000ull;
	switch (dlt) {
	case DLT_EN10MB:
		copy = caplen < room ? caplen : room;
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
	if (copy > room - ETH_HLEN)
		copy = room - ETH_HLEN;
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

static enum bpf_perf_event_ret on_replay_event(void *ctx, int cpu,
					       struct perf_event_header *e)
{
	struct perf_sample_raw *s = (struct perf_sample_raw *)e;

	(void)cpu;
	if (e->type == PERF_RECORD_SAMPLE)
		fa_sample_writer_write(ctx, s->data, s->size, 0);
	return LIBBPF_PERF_EVENT_CONT;
}

/* The programs, their sampling, and where the samples go. */
static int replay_load(struct fa_replay *r, struct fa_err *e)
{
	const struct fa_attach_opts *ao = r->o.attach;
	struct fa_load_opts lo = {
		.shared = ao->shared,
		.max_flows = ao->max_flows,
		.replay = true,
		.progs = r->o.hook == FA_REPLAY_XDP ? FA_PROG_XDP :
			 r->o.hook == FA_REPLAY_TC_INGRESS ? FA_PROG_TC_INGRESS :
			 FA_PROG_TC_EGRESS,
		.decap = ao->decap,
		.vxlan = ao->vxlan,
	};
	struct fa_attach_state st;
	int err;

	err = fa_progs_load(&lo, &r->skel);
	if (!err && bpf_map_update_elem(bpf_map__fd(r->skel->maps.flow_sample_cfg),
					&(__u32){ 0 }, &ao->sample, BPF_ANY))
		err = -errno;
	if (err) {
		r->libbpf_said = true;
		return fa_err_set(e, err, "can't load the BPF programs: %s", strerror(-err));
	}
	r->f.buf = malloc(FRAME_ROOM);
	if (!r->f.buf)
		return fa_err_set(e, -ENOMEM, "out of memory");
	replay_state(r->o.hook, &st);
	fa_state_hooks(&st, r->hook);
	if (!r->o.write)
		return 0;
	err = fa_sample_writer_open(&r->w, r->o.write, r->o.pcapng, "replay", r->hook);
	if (err)
		return fa_err_set(e, err, "can't write '%s': %s", r->o.write, strerror(-err));
	r->pb = sample_buffer_open(bpf_map__fd(r->skel->maps.flow_samples), 256,
				   on_replay_event, r->w);
	if (!r->pb)
		return fa_err_set(e, -errno, "can't read the sample buffer: %s",
				  strerror(errno));
	return 0;
}

int fa_replay_open(struct fa_replay *r, const char *file,
		   const struct fa_replay_opts *o, struct fa_err *e)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	const char *name;

	r->o = *o;
	r->file = file;
	r->pcap = pcap_open_offline(file, errbuf);
	if (!r->pcap)
		return fa_err_set(e, -EINVAL, "can't read capture '%s': %s", file, errbuf);
	r->dlt = pcap_datalink(r->pcap);
	if (!dlt_supported(r->dlt)) {
		name = pcap_datalink_val_to_name(r->dlt);
		return fa_err_set(e, -EINVAL, "capture '%s' has link type %s (%d): replay takes Ethernet, Linux cooked (SLL, SLL2) or raw IP",
				  file, name ? name : "unknown", r->dlt);
	}
	return replay_load(r, e);
}

int fa_replay_run(struct fa_replay *r, struct fa_err *e)
{
	struct fa_frame_ran ran;
	const unsigned char *data;
	struct pcap_pkthdr *h;
	int err;

	pin_to_current_cpu();
	while ((err = pcap_next_ex(r->pcap, &h, &data)) == 1) {
		r->frames++;
		frame_from_record(r->dlt, h, data, &r->f);
		err = fa_frame_run(r->skel, r->o.hook, &r->f, &ran);
		if (err == -EBADMSG)
			return fa_err_set(e, err, "frame %llu of '%s': the program returned a verdict other than pass",
					  (unsigned long long)r->frames, r->file);
		if (err)
			return fa_err_set(e, err, "frame %llu of '%s': BPF_PROG_TEST_RUN failed: %s",
					  (unsigned long long)r->frames, r->file,
					  strerror(-err));
		/* Drain as we go: the buffer holds a few MiB, a capture more. */
		if (r->pb)
			perf_buffer__consume(r->pb);
	}
	if (err == PCAP_ERROR)
		return fa_err_set(e, -EIO, "reading '%s' after frame %llu: %s", r->file,
				  (unsigned long long)r->frames, pcap_geterr(r->pcap));
	return 0;
}

int fa_replay_snapshot(struct fa_replay *r, struct fa_snapshot *s, struct fa_err *e)
{
	struct fa_attach_state st;
	int fd[FA_NR_PINS], err;
	size_t from;

	replay_state(r->o.hook, &st);
	/* Replay's times are the capture's: already ns since the epoch. */
	fa_progs_map_fds(r->skel, fd);
	from = s->t.n;
	err = fa_snapshot_add_maps(s, fd, &st, "replay", NULL, 0);
	if (!err)
		err = fa_join_tunnels(&s->t, from, fa_tunnels_fd(fd[FA_PIN_TUNNELS]));
	if (err)
		return fa_err_set(e, err, "can't read the flow table: %s", strerror(-err));
	/* Only the hook we ran: the other one's slot is all zeros. */
	s->total[!fa_replay_dir(r->o.hook)].present = false;
	return 0;
}

int fa_replay_close(struct fa_replay *r)
{
	int err;

	perf_buffer__free(r->pb);
	err = fa_sample_writer_close(r->w);
	free(r->f.buf);
	flowacct_bpf__destroy(r->skel);
	if (r->pcap)
		pcap_close(r->pcap);
	memset(r, 0, sizeof(*r));
	return err;
}
