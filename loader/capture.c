// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Sampled packets: the writer both `flowacct capture` (live, from the pinned
 * perf buffer) and `flowacct replay -w` use, and the `capture` and `set`
 * commands. pcap goes through libpcap. pcapng is written here, because
 * libpcap 1.10 reads it but cannot write it; its packet blocks carry what
 * pcap can't: direction, interface and hook, and a comment naming the
 * packet's flow and the sampling rate, so a sample leads back to its row.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* pcap's classic-BPF header clashes with linux/bpf.h; we need neither. */
#define PCAP_DONT_INCLUDE_PCAP_BPF_H
#include <pcap/pcap.h>
#include <pcap/dlt.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "flowacct.h"
#include "pins.h"
#include "samplebuf.h"

#define PCAPNG_SHB	0x0A0D0D0A
#define PCAPNG_IDB	1
#define PCAPNG_EPB	6
#define MAX_IFACES	64
#define SAMPLE_BUF_PAGES 64	/* per CPU */

struct sample_writer {
	bool pcapng;
	/* pcap */
	pcap_t *dead;
	pcap_dumper_t *dumper;
	/* pcapng */
	FILE *f;
	struct {
		__u32 ifindex;
		__u8 direction;
	} ifaces[MAX_IFACES];
	int nr_ifaces;
	const char *ifname;	/* names the interfaces in pcapng */
	__u64 written;
};

const char *sample_mode_name(int mode)
{
	switch (mode) {
	case FLOW_SAMPLE_EVERY:		return "every";
	case FLOW_SAMPLE_RANDOM:	return "random";
	case FLOW_SAMPLE_HASH:		return "hash";
	default:			return "?";
	}
}

int parse_sample_mode(const char *s, __u32 *mode)
{
	if (!strcmp(s, "every"))
		*mode = FLOW_SAMPLE_EVERY;
	else if (!strcmp(s, "random"))
		*mode = FLOW_SAMPLE_RANDOM;
	else if (!strcmp(s, "hash"))
		*mode = FLOW_SAMPLE_HASH;
	else {
		pr_err("unknown sampling mode '%s': use every, random or hash", s);
		return -EINVAL;
	}
	return 0;
}

int parse_sample_rate(const char *s, __u32 *rate)
{
	__u64 v;

	if (parse_u64(s, 0, 0xffffffff, &v)) {
		pr_err("sampling takes N from 0 (off) to 4294967295, not '%s'", s);
		return -EINVAL;
	}
	*rate = v;
	return 0;
}

int parse_snaplen(const char *s, __u32 *snaplen)
{
	__u64 v;

	if (parse_u64(s, 1, FLOW_MAX_SNAPLEN, &v)) {
		pr_err("--snaplen takes a number from 1 to %d, not '%s'",
		       FLOW_MAX_SNAPLEN, s);
		return -EINVAL;
	}
	*snaplen = v;
	return 0;
}

/* ---- pcapng ---- */

static void put_block(FILE *f, __u32 type, const void *body, size_t len)
{
	static const char zero[4];
	__u32 total = 12 + ((len + 3) & ~3u);

	fwrite(&type, 4, 1, f);
	fwrite(&total, 4, 1, f);
	fwrite(body, 1, len, f);
	fwrite(zero, 1, ((len + 3) & ~3u) - len, f);
	fwrite(&total, 4, 1, f);
}

/* Appends one option (code, length, value padded to 4) to buf at *off. */
static void put_opt(char *buf, size_t *off, __u16 code, const void *val,
		    __u16 len)
{
	memcpy(buf + *off, &code, 2);
	memcpy(buf + *off + 2, &len, 2);
	memcpy(buf + *off + 4, val, len);
	memset(buf + *off + 4 + len, 0, ((len + 3) & ~3u) - len);
	*off += 4 + ((len + 3) & ~3u);
}

static void put_end_opt(char *buf, size_t *off)
{
	memset(buf + *off, 0, 4);
	*off += 4;
}

static void pcapng_section(FILE *f)
{
	char buf[128];
	size_t off = 0;
	__u32 bom = 0x1A2B3C4D;
	__u16 major = 1, minor = 0;
	__s64 section_len = -1;
	static const char app[] = "flowacct";

	memcpy(buf, &bom, 4);
	memcpy(buf + 4, &major, 2);
	memcpy(buf + 6, &minor, 2);
	memcpy(buf + 8, &section_len, 8);
	off = 16;
	put_opt(buf, &off, 4 /* shb_userappl */, app, strlen(app));
	put_end_opt(buf, &off);
	put_block(f, PCAPNG_SHB, buf, off);
}

/* The interface block of (ifindex, direction), written on first use. */
static int pcapng_iface(struct sample_writer *w, __u32 ifindex, __u8 direction)
{
	char buf[256], name[IF_NAMESIZE + 8], desc[96];
	__u16 linktype = 1 /* Ethernet */, reserved = 0;
	__u32 snaplen = FLOW_MAX_SNAPLEN;
	__u8 tsresol = 9;	/* ns */
	size_t off = 8;
	int i;

	for (i = 0; i < w->nr_ifaces; i++)
		if (w->ifaces[i].ifindex == ifindex &&
		    w->ifaces[i].direction == direction)
			return i;
	if (w->nr_ifaces == MAX_IFACES)
		return 0;

	memcpy(buf, &linktype, 2);
	memcpy(buf + 2, &reserved, 2);
	memcpy(buf + 4, &snaplen, 4);
	snprintf(name, sizeof(name), "%s", w->ifname ? w->ifname : "?");
	snprintf(desc, sizeof(desc), "flowacct %s %s hook, ifindex %u",
		 hook_name(direction), direction_name(direction), ifindex);
	put_opt(buf, &off, 2 /* if_name */, name, strlen(name));
	put_opt(buf, &off, 3 /* if_description */, desc, strlen(desc));
	put_opt(buf, &off, 9 /* if_tsresol */, &tsresol, 1);
	put_end_opt(buf, &off);
	put_block(w->f, PCAPNG_IDB, buf, off);

	w->ifaces[w->nr_ifaces].ifindex = ifindex;
	w->ifaces[w->nr_ifaces].direction = direction;
	return w->nr_ifaces++;
}

static void pcapng_packet(struct sample_writer *w, const struct flow_sample_hdr *h,
			  const void *data, __u64 ts_ns)
{
	char comment[256], key[160];
	/* epb_flags bits 0-1: 01 inbound, 10 outbound */
	__u32 flags = h->direction == FLOW_DIR_INGRESS ? 1 : 2;
	size_t body_len = 20 + ((h->cap_len + 3) & ~3u) + 512, off;
	__u32 id, hi = ts_ns >> 32, lo = (__u32)ts_ns;
	char *body;

	body = malloc(body_len);
	if (!body)
		return;
	id = pcapng_iface(w, h->ifindex, h->direction);
	memcpy(body, &id, 4);
	memcpy(body + 4, &hi, 4);
	memcpy(body + 8, &lo, 4);
	memcpy(body + 12, &h->cap_len, 4);
	memcpy(body + 16, &h->frame_len, 4);
	memcpy(body + 20, data, h->cap_len);
	memset(body + 20 + h->cap_len, 0, ((h->cap_len + 3) & ~3u) - h->cap_len);
	off = 20 + ((h->cap_len + 3) & ~3u);

	if (h->verdict)
		snprintf(key, sizeof(key), "not accounted: %s", counter_name(h->verdict));
	else
		flow_key_str(&h->key, key, sizeof(key));
	snprintf(comment, sizeof(comment), "flow %s; %s hook; sampled 1 in %u (%s)",
		 key, hook_name(h->direction), h->rate, sample_mode_name(h->mode));
	put_opt(body, &off, 2 /* epb_flags */, &flags, 4);
	put_opt(body, &off, 1 /* opt_comment */, comment, strlen(comment));
	put_end_opt(body, &off);
	put_block(w->f, PCAPNG_EPB, body, off);
	free(body);
}

/* ---- the writer ---- */

int sample_writer_open(struct sample_writer **out, const char *path,
		       bool pcapng, const char *ifname)
{
	struct sample_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->pcapng = pcapng;
	w->ifname = ifname;
	if (pcapng) {
		w->f = strcmp(path, "-") ? fopen(path, "wb") : stdout;
		if (!w->f) {
			pr_err("can't write '%s': %s", path, strerror(errno));
			free(w);
			return -errno;
		}
		pcapng_section(w->f);
	} else {
		w->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB,
				FLOW_MAX_SNAPLEN, PCAP_TSTAMP_PRECISION_NANO);
		w->dumper = w->dead ? pcap_dump_open(w->dead, path) : NULL;
		if (!w->dumper) {
			pr_err("can't write '%s': %s", path,
			       w->dead ? pcap_geterr(w->dead) : "out of memory");
			if (w->dead)
				pcap_close(w->dead);
			free(w);
			return -EIO;
		}
	}
	*out = w;
	return 0;
}

/*
 * Writes one sample (its header as the programs sent it, then cap_len
 * bytes). @ts_off turns the header's clock into ns since the epoch (0 if it
 * already is). Returns 0, or -EINVAL for a record too short for what it
 * claims.
 */
int sample_writer_write(struct sample_writer *w, const void *rec, __u32 size,
			__u64 ts_off)
{
	const struct flow_sample_hdr *h = rec;
	const unsigned char *data = (const unsigned char *)rec + sizeof(*h);
	struct pcap_pkthdr ph;
	__u64 ts;

	if (size < sizeof(*h) || h->cap_len > size - sizeof(*h))
		return -EINVAL;
	ts = h->ts_ns + ts_off;
	if (w->pcapng) {
		pcapng_packet(w, h, data, ts);
	} else {
		ph.ts.tv_sec = ts / 1000000000ull;
		ph.ts.tv_usec = ts % 1000000000ull;	/* ns: nano precision */
		ph.caplen = h->cap_len;
		ph.len = h->frame_len;
		pcap_dump((unsigned char *)w->dumper, &ph, data);
	}
	w->written++;
	return 0;
}

__u64 sample_writer_count(const struct sample_writer *w)
{
	return w->written;
}

void sample_writer_close(struct sample_writer *w)
{
	if (!w)
		return;
	if (w->pcapng) {
		if (w->f == stdout)
			fflush(stdout);
		else
			fclose(w->f);
	} else {
		pcap_dump_close(w->dumper);
		pcap_close(w->dead);
	}
	free(w);
}

/* ---- flowacct capture ---- */

static volatile sig_atomic_t capture_stop;

static void on_signal(int sig)
{
	(void)sig;
	capture_stop = 1;
}

struct capture_ctx {
	struct sample_writer *w;
	__u64 ts_off;
	__u64 lost;
	__u64 bad;
	__u64 count;
};

static enum bpf_perf_event_ret on_event(void *ctx, int cpu,
					struct perf_event_header *e)
{
	struct capture_ctx *c = ctx;

	(void)cpu;
	if (e->type == PERF_RECORD_LOST) {
		c->lost += ((struct perf_lost *)e)->lost;
	} else if (e->type == PERF_RECORD_SAMPLE) {
		struct perf_sample_raw *s = (struct perf_sample_raw *)e;

		if (c->count && sample_writer_count(c->w) >= c->count)
			return LIBBPF_PERF_EVENT_CONT;
		if (sample_writer_write(c->w, s->data, s->size, c->ts_off))
			c->bad++;
	}
	return LIBBPF_PERF_EVENT_CONT;
}

/* CLOCK_MONOTONIC ns -> ns since the epoch, offset taken now. */
static __u64 realtime_offset(void)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return ((__u64)rt.tv_sec - mono.tv_sec) * 1000000000ull +
	       rt.tv_nsec - mono.tv_nsec;
}

static __u64 lost_in_programs(const struct hook_stats *st)
{
	return st[0].counters[FLOW_C_SAMPLE_FULL] + st[1].counters[FLOW_C_SAMPLE_FULL] +
	       st[0].counters[FLOW_C_SAMPLE_OTHER] + st[1].counters[FLOW_C_SAMPLE_OTHER];
}

static void capture_usage(FILE *f)
{
	fprintf(f,
		"Usage: flowacct capture IFACE -w FILE [--count K] [--duration S]\n"
		"                        [--format pcap|pcapng]\n"
		"Writes the packets IFACE's programs sample (see attach --sample and\n"
		"flowacct set) to FILE ('-': standard output) until Ctrl-C, SIGTERM,\n"
		"K packets or S seconds.\n");
}

int do_capture(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "write", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct hook_stats before[FLOW_NR_DIRS] = {}, after[FLOW_NR_DIRS] = {};
	struct capture_ctx c = {};
	struct flow_sample_config cfg;
	struct perf_buffer *pb = NULL;
	struct pinned_iface p;
	struct sigaction sa = { .sa_handler = on_signal };
	const char *path = NULL, *ifname;
	__u64 duration = 0, end = 0, dropped;
	struct timespec now;
	bool pcapng = false;
	char pinp[PATH_MAX];
	int ch, fd = -1, cfg_fd = -1, err, ret = -1;
	__u32 zero = 0;

	while ((ch = getopt_long(argc, argv, "w:c:d:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'w':
			path = optarg;
			break;
		case 'c':
			if (parse_u64(optarg, 1, ~0ull, &c.count)) {
				pr_err("--count takes a positive number, not '%s'", optarg);
				return -1;
			}
			break;
		case 'd':
			if (parse_u64(optarg, 1, 86400 * 365, &duration)) {
				pr_err("--duration takes seconds, not '%s'", optarg);
				return -1;
			}
			break;
		case 'f':
			if (!strcmp(optarg, "pcapng"))
				pcapng = true;
			else if (strcmp(optarg, "pcap")) {
				pr_err("unknown format '%s': use pcap or pcapng", optarg);
				return -1;
			}
			break;
		case 'h':
			capture_usage(stdout);
			return 0;
		default:
			capture_usage(stderr);
			return -1;
		}
	}
	if (optind != argc - 1 || !path) {
		pr_err("capture takes one interface and -w FILE");
		return -1;
	}
	ifname = argv[optind];
	if (check_privileges())
		return -1;
	err = bpffs_prepare(false);
	if (err == -ENOENT || (!err && pinned_iface_open(ifname, &p))) {
		pr_err("'%s' is not attached; attach it with --sample N first", ifname);
		return -1;
	}
	if (err)
		return -1;
	if (p.state.netns_ino != current_netns_ino()) {
		pr_err("'%s' is attached in another network namespace; capture there", ifname);
		goto out;
	}

	pin_path(pinp, sizeof(pinp), ifname, "flow_sample_cfg");
	cfg_fd = bpf_obj_get(pinp);
	if (cfg_fd < 0 || bpf_map_lookup_elem(cfg_fd, &zero, &cfg)) {
		pr_err("can't read the sampling settings of '%s': %s", ifname,
		       strerror(errno));
		goto out;
	}
	if (!cfg.rate) {
		pr_err("sampling is off on '%s': turn it on with 'flowacct set %s sample N'",
		       ifname, ifname);
		goto out;
	}
	pin_path(pinp, sizeof(pinp), ifname, "flow_samples");
	fd = bpf_obj_get(pinp);
	if (fd < 0) {
		pr_err("can't open the sample buffer of '%s': %s", ifname, strerror(errno));
		goto out;
	}
	if (sample_writer_open(&c.w, path, pcapng, ifname))
		goto out;
	c.ts_off = realtime_offset();
	pb = sample_buffer_open(fd, SAMPLE_BUF_PAGES, on_event, &c);
	if (!pb) {
		pr_err("can't read the sample buffer of '%s': %s", ifname, strerror(errno));
		goto out_close;
	}
	hook_stats_read(p.stats_fd, before);

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (duration) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		end = now.tv_sec + duration;
	}
	while (!capture_stop) {
		err = perf_buffer__poll(pb, 100);
		if (err >= 0 || err == -EINTR)
			err = perf_buffer__consume(pb);
		if (err < 0 && err != -EINTR) {
			pr_err("reading samples of '%s': %s", ifname, strerror(-err));
			break;
		}
		if (c.count && sample_writer_count(c.w) >= c.count)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (end && (__u64)now.tv_sec >= end)
			break;
	}
	/* What is under the wakeup watermark. */
	perf_buffer__consume(pb);
	hook_stats_read(p.stats_fd, after);
	dropped = lost_in_programs(after) - lost_in_programs(before);
	fprintf(stderr,
		"flowacct: %" PRIu64 " samples written to %s, %" PRIu64 " lost (%" PRIu64
		" by the perf buffer, %" PRIu64 " counted by the programs)%s\n",
		(uint64_t)sample_writer_count(c.w), strcmp(path, "-") ? path : "stdout",
		(uint64_t)(c.lost + dropped), (uint64_t)c.lost, (uint64_t)dropped,
		c.bad ? " (some records were malformed)" : "");
	ret = 0;
	perf_buffer__free(pb);
out_close:
	sample_writer_close(c.w);
out:
	if (fd >= 0)
		close(fd);
	if (cfg_fd >= 0)
		close(cfg_fd);
	pinned_iface_close(&p);
	return ret;
}

/* ---- flowacct set ---- */

int do_set(int argc, char **argv)
{
	struct flow_sample_config cfg;
	struct pinned_iface p;
	char pinp[PATH_MAX];
	const char *ifname;
	__u32 zero = 0;
	int i, fd, err;

	if (argc < 4 || (argc - 2) % 2) {
		printf("Usage: flowacct set IFACE [sample N] [sample-mode every|random|hash]\n"
		       "                          [snaplen S]\n"
		       "Changes sampling on an attached interface, at once, without reloading.\n");
		return argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) ? 0 : -1;
	}
	ifname = argv[1];
	if (check_privileges())
		return -1;
	err = bpffs_prepare(false);
	if (err == -ENOENT || (!err && pinned_iface_open(ifname, &p))) {
		pr_err("'%s' is not attached", ifname);
		return -1;
	}
	if (err)
		return -1;
	pinned_iface_close(&p);
	pin_path(pinp, sizeof(pinp), ifname, "flow_sample_cfg");
	fd = bpf_obj_get(pinp);
	if (fd < 0 || bpf_map_lookup_elem(fd, &zero, &cfg)) {
		pr_err("can't read the sampling settings of '%s': %s", ifname,
		       strerror(errno));
		return -1;
	}
	for (i = 2; i < argc; i += 2) {
		if (!strcmp(argv[i], "sample"))
			err = parse_sample_rate(argv[i + 1], &cfg.rate);
		else if (!strcmp(argv[i], "sample-mode"))
			err = parse_sample_mode(argv[i + 1], &cfg.mode);
		else if (!strcmp(argv[i], "snaplen"))
			err = parse_snaplen(argv[i + 1], &cfg.snaplen);
		else {
			pr_err("can't set '%s': use sample, sample-mode or snaplen", argv[i]);
			err = -EINVAL;
		}
		if (err) {
			close(fd);
			return -1;
		}
	}
	/*
	 * The programs read each field once per packet: one racing this update
	 * may see, field by field, old or new values, all of them valid.
	 */
	err = bpf_map_update_elem(fd, &zero, &cfg, BPF_EXIST);
	close(fd);
	if (err) {
		pr_err("can't change the sampling of '%s': %s", ifname, strerror(errno));
		return -1;
	}
	if (!json_output)
		printf("%s: sampling %s%u (%s), snaplen %u\n", ifname,
		       cfg.rate ? "1 in " : "off, ", cfg.rate,
		       sample_mode_name(cfg.mode), cfg.snaplen);
	return 0;
}
