// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Sampled packets to a file: the writer both `flowacct capture` (live, from
 * the pinned perf buffer) and `flowacct replay -w` use. pcap goes through
 * libpcap. pcapng is written here, because libpcap 1.10 reads it but cannot
 * write it; its packet blocks carry what pcap can't: direction, interface
 * and hook, and a comment naming the packet's flow and the sampling rate,
 * so a sample leads back to its row. Every write error is reported, so that
 * a capture into a closed pipe stops.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

/* pcap's classic-BPF header clashes with linux/bpf.h; we need neither. */
#define PCAP_DONT_INCLUDE_PCAP_BPF_H
#include <pcap/pcap.h>
#include <pcap/dlt.h>

#include "internal.h"

#define PCAPNG_SHB	0x0A0D0D0A
#define PCAPNG_IDB	1
#define PCAPNG_EPB	6
#define MAX_IFACES	64
#define SAMPLE_BUF_PAGES 64	/* per CPU */

struct fa_sample_writer {
	bool pcapng;
	int hook[FLOW_NR_DIRS];	/* enum fa_hook, for the names in pcapng */
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
static int pcapng_iface(struct fa_sample_writer *w, __u32 ifindex, __u8 direction)
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
		 fa_hook_name(w->hook[direction & 1]), fa_direction_name(direction),
		 ifindex);
	put_opt(buf, &off, 2 /* if_name */, name, strlen(name));
	put_opt(buf, &off, 3 /* if_description */, desc, strlen(desc));
	put_opt(buf, &off, 9 /* if_tsresol */, &tsresol, 1);
	put_end_opt(buf, &off);
	put_block(w->f, PCAPNG_IDB, buf, off);

	w->ifaces[w->nr_ifaces].ifindex = ifindex;
	w->ifaces[w->nr_ifaces].direction = direction;
	return w->nr_ifaces++;
}

static void pcapng_packet(struct fa_sample_writer *w, const struct flow_sample_hdr *h,
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
		snprintf(key, sizeof(key), "not accounted: %s", fa_counter_name(h->verdict));
	else
		fa_flow_key_str(&h->key, key, sizeof(key));
	snprintf(comment, sizeof(comment), "flow %s; %s hook; sampled 1 in %u (%s)",
		 key, fa_hook_name(w->hook[h->direction & 1]), h->rate,
		 fa_sample_mode_name(h->mode));
	put_opt(body, &off, 2 /* epb_flags */, &flags, 4);
	put_opt(body, &off, 1 /* opt_comment */, comment, strlen(comment));
	put_end_opt(body, &off);
	put_block(w->f, PCAPNG_EPB, body, off);
	free(body);
}

/* ---- the writer ---- */

int fa_sample_writer_open(struct fa_sample_writer **out, const char *path,
			  bool pcapng, const char *ifname,
			  const int hook[FLOW_NR_DIRS])
{
	struct fa_sample_writer *w = calloc(1, sizeof(*w));
	int err;

	*out = NULL;
	if (!w)
		return -ENOMEM;
	w->pcapng = pcapng;
	w->ifname = ifname;
	memcpy(w->hook, hook, sizeof(w->hook));
	w->f = strcmp(path, "-") ? fopen(path, "wbe") : stdout;
	if (!w->f) {
		err = -errno;
		free(w);
		return err;
	}
	if (pcapng) {
		pcapng_section(w->f);
	} else {
		w->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB,
				FLOW_MAX_SNAPLEN, PCAP_TSTAMP_PRECISION_NANO);
		/* Our FILE, so that write errors are ours to see. */
		w->dumper = w->dead ? pcap_dump_fopen(w->dead, w->f) : NULL;
		if (!w->dumper) {
			if (w->dead)
				pcap_close(w->dead);
			if (w->f != stdout)
				fclose(w->f);
			free(w);
			return -ENOMEM;
		}
	}
	*out = w;
	return 0;
}

int fa_sample_writer_write(struct fa_sample_writer *w, const void *rec,
			   __u32 size, __u64 ts_off)
{
	const unsigned char *data = (const unsigned char *)rec + sizeof(struct flow_sample_hdr);
	struct flow_sample_hdr hdr, *h = &hdr;
	struct pcap_pkthdr ph;
	__u64 ts;

	if (size < sizeof(hdr))
		return -EINVAL;
	/* A perf record's data is 4-byte aligned, the header's fields 8. */
	memcpy(&hdr, rec, sizeof(hdr));
	if (h->cap_len > size - sizeof(hdr))
		return -EINVAL;
	ts = h->ts_ns + ts_off;
	/* stdio buffers: the write that fails may be any of them, so errno is
	 * cleared to tell the call that failed here (EPIPE) from a stale one. */
	errno = 0;
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
	if (ferror(w->f))
		return errno ? -errno : -EIO;
	return 0;
}

int fa_sample_writer_flush(struct fa_sample_writer *w)
{
	errno = 0;
	if (fflush(w->f) || ferror(w->f))
		return errno ? -errno : -EIO;
	return 0;
}

__u64 fa_sample_writer_count(const struct fa_sample_writer *w)
{
	return w->written;
}

int fa_sample_writer_close(struct fa_sample_writer *w)
{
	int err = 0;

	if (!w)
		return 0;
	if (fflush(w->f) || ferror(w->f))
		err = errno ? -errno : -EIO;
	/*
	 * libpcap's dumper is our FILE under another name: pcap_dump_close()
	 * would fclose it, standard output too, so it is closed here instead.
	 */
	if (!w->pcapng)
		pcap_close(w->dead);
	if (w->f != stdout && fclose(w->f) && !err)
		err = -errno;
	free(w);
	return err;
}
