// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Frames for the benchmark: one builder per packet kind, the "realistic
 * mix" (kinds and sizes drawn with fixed weights from a seeded PRNG), and a
 * pcap of the mix for the user-space peer. Addresses are documentation
 * addresses only: 192.0.2.0/24 to 198.51.100.0/24, 2001:db8::/32.
 */
#include <errno.h>
#include <linux/if_ether.h>
#include <stdlib.h>
#include <string.h>
/* pcap's classic-BPF header clashes with linux/bpf.h; we need neither. */
#define PCAP_DONT_INCLUDE_PCAP_BPF_H
#include <pcap/pcap.h>
#include <pcap/dlt.h>

#include "flowbench.h"

#define ETH_MIN_FRAME	60	/* without FCS; shorter frames are padded */

/* splitmix64: small, seedable, good enough to draw frames. */
__u64 prng_next(__u64 *state)
{
	__u64 z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void put16(unsigned char *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static size_t put_eth(unsigned char *p, __u16 ethertype)
{
	static const unsigned char dst[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const unsigned char src[6] = { 0x02, 0, 0, 0, 0, 0x01 };

	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	put16(p + 12, ethertype);
	return ETH_HLEN;
}

/*
 * Flow number @flow picks the source: bits 0-15 the source port (see
 * put_l4), bits 16-23 the last byte of the IPv4 source address, the same
 * place the cycler writes it (bench.h).
 */
static size_t put_ipv4(unsigned char *p, __u8 proto, __u32 flow,
		       unsigned int l4_len)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	put16(p + 2, 20 + l4_len);
	put16(p + 4, flow & 0xffff);	/* ID */
	p[6] = 0x40;			/* DF */
	p[8] = 64;
	p[9] = proto;
	p[12] = 192, p[13] = 0, p[14] = 2, p[15] = (flow >> 16) & 0xff;
	p[16] = 198, p[17] = 51, p[18] = 100, p[19] = 1;
	return 20;
}

static size_t put_ipv6(unsigned char *p, __u8 nexthdr, __u32 flow,
		       unsigned int payload_len)
{
	static const unsigned char prefix[4] = { 0x20, 0x01, 0x0d, 0xb8 };

	memset(p, 0, 40);
	p[0] = 0x60;
	put16(p + 4, payload_len);
	p[6] = nexthdr;
	p[7] = 64;
	memcpy(p + 8, prefix, 4);
	p[8 + 12] = flow >> 24;
	p[8 + 13] = flow >> 16;
	p[8 + 15] = 1;
	memcpy(p + 24, prefix, 4);
	p[24 + 5] = 1;
	p[24 + 15] = 2;
	return 40;
}

/*
 * TCP (ACK, or PSH+ACK with data, with the timestamp option as Linux sends
 * it: NOP, NOP, TS), UDP, ICMP or ICMPv6 echo request.
 */
static size_t put_l4(unsigned char *p, __u8 proto, __u32 flow,
		     unsigned int payload)
{
	size_t hl = proto == 6 ? 32 : 8;

	memset(p, 0, hl + payload);
	switch (proto) {
	case 6:
		put16(p, flow & 0xffff);
		put16(p + 2, 443);
		p[4] = 0x12, p[7] = 0x01;	/* seq */
		p[8] = 0x34, p[11] = 0x01;	/* ack */
		p[12] = 8 << 4;
		p[13] = payload ? 0x18 : 0x10;
		put16(p + 14, 502);
		p[20] = 1, p[21] = 1, p[22] = 8, p[23] = 10;
		put16(p + 26, flow & 0xffff);	/* TSval */
		p[31] = 0x07;			/* TSecr */
		break;
	case 17:
		put16(p, flow & 0xffff);
		put16(p + 2, 53);
		put16(p + 4, 8 + payload);
		break;
	case 1:
	case 58:
		p[0] = proto == 1 ? 8 : 128;
		put16(p + 4, flow & 0xffff);	/* identifier */
		put16(p + 6, 1);		/* sequence */
		break;
	}
	return hl + payload;
}

static size_t l4_len(__u8 proto, unsigned int payload)
{
	return (proto == 6 ? 32 : 8) + payload;
}

/**
 * frame_build - one frame of @kind for flow number @flow
 * @payload: transport payload bytes (ignored for ARP)
 *
 * Returns the frame's length: at least 60 (padded as on the wire), at most
 * BENCH_FRAME_MAX for payloads up to an Ethernet MTU.
 */
size_t frame_build(unsigned char *buf, enum frame_kind kind, __u32 flow,
		   unsigned int payload)
{
	unsigned char *p = buf;
	__u8 proto;

	switch (kind) {
	case FK_IPV4_TCP:
	case FK_UDP:
	case FK_ICMP:
	case FK_VLAN:
		if (kind == FK_VLAN) {
			p += put_eth(p, ETH_P_8021Q);
			put16(p, 100);			/* VLAN 100 */
			put16(p + 2, ETH_P_IP);
			p += 4;
		} else {
			p += put_eth(p, ETH_P_IP);
		}
		proto = kind == FK_UDP ? 17 : kind == FK_ICMP ? 1 : 6;
		p += put_ipv4(p, proto, flow, l4_len(proto, payload));
		p += put_l4(p, proto, flow, payload);
		break;
	case FK_IPV6_TCP:
	case FK_IPV6_UDP:
	case FK_ICMPV6:
		proto = kind == FK_IPV6_UDP ? 17 : kind == FK_ICMPV6 ? 58 : 6;
		p += put_eth(p, ETH_P_IPV6);
		p += put_ipv6(p, proto, flow, l4_len(proto, payload));
		p += put_l4(p, proto, flow, payload);
		break;
	case FK_IPV6_EXT:
		p += put_eth(p, ETH_P_IPV6);
		p += put_ipv6(p, 0 /* hop-by-hop */, flow, 16 + l4_len(6, payload));
		/* Hop-by-hop, then destination options: 8 bytes each, PadN. */
		memset(p, 0, 16);
		p[0] = 60;
		p[2] = 1, p[3] = 4;
		p[8] = 6;
		p[10] = 1, p[11] = 4;
		p += 16;
		p += put_l4(p, 6, flow, payload);
		break;
	case FK_ARP:
		p += put_eth(p, ETH_P_ARP);
		memset(p, 0, 28);
		put16(p, 1);		/* Ethernet */
		put16(p + 2, ETH_P_IP);
		p[4] = 6, p[5] = 4;
		put16(p + 6, 1);	/* request */
		p[14] = 192, p[15] = 0, p[16] = 2, p[17] = 1;
		p[24] = 192, p[25] = 0, p[26] = 2, p[27] = 2;
		p += 28;
		break;
	default:
		return 0;
	}
	while (p - buf < ETH_MIN_FRAME)
		*p++ = 0;
	return p - buf;
}

void frame_vxlan_wrap(struct frame *f, __u32 flow)
{
	enum { OUTER = ETH_HLEN + 20 + 8 + 8 };
	unsigned char *p = f->buf;
	size_t len = f->len;

	if (len + OUTER > sizeof(f->buf))
		return;
	memmove(f->buf + OUTER, f->buf, len);
	p += put_eth(p, ETH_P_IP);
	p += put_ipv4(p, 17, flow, 8 + 8 + len);
	put16(p, 32768 + (flow & 0x7fff));	/* the source port hashes the inner flow */
	put16(p + 2, 4789);
	put16(p + 4, 8 + 8 + len);
	put16(p + 6, 0);
	p += 8;
	memset(p, 0, 8);
	p[0] = 0x08;				/* I: the VNI is valid */
	p[6] = 42;				/* VNI 42 */
	f->len = len + OUTER;
}

const char *frame_kind_name(enum frame_kind kind)
{
	static const char *const names[FK_NR] = {
		[FK_IPV4_TCP] = "IPv4 TCP",
		[FK_IPV6_TCP] = "IPv6 TCP",
		[FK_UDP] = "UDP",
		[FK_VLAN] = "VLAN-tagged",
		[FK_IPV6_EXT] = "IPv6 ext hdrs",
		[FK_ICMP] = "ICMP",
		[FK_IPV6_UDP] = "IPv6 UDP",
		[FK_ICMPV6] = "ICMPv6",
		[FK_ARP] = "ARP",
	};

	return kind < FK_NR ? names[kind] : "?";
}

/*
 * The mix, in frames per 100: mostly TCP, bulk data and its ACKs, over both
 * families; DNS-sized UDP; some tagged traffic, pings, IPv6 with options,
 * ARP. Sizes matter only to sampling (what is copied) and to the peer.
 */
static const struct {
	enum frame_kind kind;
	unsigned int weight;
	unsigned int payload;
} mix_table[] = {
	{ FK_IPV4_TCP,	30, 1460 },
	{ FK_IPV4_TCP,	22, 0 },
	{ FK_IPV6_TCP,	10, 1440 },
	{ FK_IPV6_TCP,	8, 0 },
	{ FK_UDP,	12, 100 },
	{ FK_IPV6_UDP,	6, 200 },
	{ FK_VLAN,	5, 512 },
	{ FK_ICMP,	2, 56 },
	{ FK_ICMPV6,	1, 56 },
	{ FK_IPV6_EXT,	2, 100 },
	{ FK_ARP,	2, 0 },
};

/* "30 IPv4 TCP 1514 B, 22 IPv4 TCP 60 B, ..." into @buf. */
void mix_describe(char *buf, size_t len)
{
	unsigned char tmp[BENCH_FRAME_MAX];
	size_t k, at = 0;

	buf[0] = 0;
	for (k = 0; k < ARRAY_SIZE(mix_table) && at < len; k++)
		at += snprintf(buf + at, len - at, "%s%u %s %zu B", k ? ", " : "",
			       mix_table[k].weight,
			       frame_kind_name(mix_table[k].kind),
			       frame_build(tmp, mix_table[k].kind, 0,
					   mix_table[k].payload));
}

/* @n frames of the mix, each its own flow; NULL if out of memory. */
struct frame *mix_build(size_t n, __u64 seed)
{
	struct frame *f = calloc(n ? n : 1, sizeof(*f));
	unsigned int total = 0, pick;
	size_t i, k;

	if (!f)
		return NULL;
	for (k = 0; k < ARRAY_SIZE(mix_table); k++)
		total += mix_table[k].weight;
	for (i = 0; i < n; i++) {
		pick = prng_next(&seed) % total;
		for (k = 0; pick >= mix_table[k].weight; k++)
			pick -= mix_table[k].weight;
		f[i].len = frame_build(f[i].buf, mix_table[k].kind, 1024 + i,
				       mix_table[k].payload);
	}
	return f;
}

/*
 * @packets frames of the mix over @flows flows, 1 us apart, each captured
 * up to @snaplen bytes: the same traffic for a user-space peer and for
 * `flowacct replay`.
 */
int mix_write_pcap(const char *path, size_t packets, size_t flows,
		   unsigned int snaplen, __u64 seed)
{
	struct frame *f = mix_build(flows, seed);
	struct pcap_pkthdr h = {};
	pcap_dumper_t *d;
	pcap_t *p;
	size_t i;
	int err = 0;

	if (!f)
		return -ENOMEM;
	p = pcap_open_dead(DLT_EN10MB, snaplen);
	d = p ? pcap_dump_open(p, path) : NULL;
	if (!d) {
		err = -EIO;
		goto out;
	}
	h.ts.tv_sec = 1700000000;
	for (i = 0; i < packets; i++) {
		const struct frame *fr = &f[prng_next(&seed) % flows];

		h.ts.tv_usec = i % 1000000;
		h.ts.tv_sec = 1700000000 + i / 1000000;
		h.len = fr->len;
		h.caplen = fr->len < snaplen ? fr->len : snaplen;
		pcap_dump((u_char *)d, &h, fr->buf);
	}
	if (pcap_dump_flush(d))
		err = -EIO;
	pcap_dump_close(d);
out:
	if (p)
		pcap_close(p);
	free(f);
	return err;
}
