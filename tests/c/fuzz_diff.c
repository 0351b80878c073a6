// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Differential fuzzing of the data plane's parsers against an independent
 * reference (ref_parser.c). Frames of every kind the parsers know are built
 * from a seeded PRNG, then damaged in the ways hostile or broken senders
 * damage them; each frame runs through an ingress and the egress program with
 * BPF_PROG_TEST_RUN in replay configuration, exactly as `flowacct replay`
 * runs a capture record, and whatever the program counted must be what the
 * reference says: the one counter that moved, or the flow row that grew,
 * by how much. Every disagreement is printed and kept in a pcap for
 * `flowacct replay`.
 *
 *   fuzz_diff [--frames N] [--seed S] [--map percpu|shared] [--pcap FILE]
 *             [--tshark-sample FILE [--sample-every K]] [--max-flows N]
 *             [--check-every N] [--max-print N] [--save FILE]
 *             [--ingress xdp|tc] [--decap]
 *
 * --ingress picks the ingress program: XDP (the default) or TC ingress
 * (the same parser behind an skb); TC egress always runs too.
 *
 * --decap loads the programs with --decap inner and judges each frame by
 * the reference's ref_parse_decap(); most frames are then put in a tunnel
 * first (VXLAN, Geneve, GRE, ERSPAN, IP in IP, MPLS, now and then one in
 * another), broken in the tunnels' own ways, and damaged as usual.
 *
 * --max-flows sizes the table; once it is full the overflow path is
 * checked for a while, then the table is emptied (its rows added to the
 * books first). --save keeps every frame, to replay with `flowacct replay`.
 *
 * Ends with "N passed, M failed" (runs of a frame through a hook, plus
 * bookkeeping checks); exits 1 if anything failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
/* pcap's classic-BPF header clashes with linux/bpf.h; we need neither. */
#define PCAP_DONT_INCLUDE_PCAP_BPF_H
#include <pcap/pcap.h>
#include <pcap/dlt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "libflowacct.h"
/* White-box: fa_table_delete() deletes keys at the table's own size. */
#include "internal.h"
#include "flowacct.skel.h"
#include "ref_parser.h"
#include "testrun.h"

/*
 * Well below the 3500 bytes a TC test run takes, so both hooks always see
 * the whole frame and the TC cut of run_frame() never comes into play.
 */
#define FRAME_MAX	2048
#define MAX_EXT		24
#define TEST_IFINDEX	1	/* the loopback device test runs happen on */
#define BASE_TS_NS	1700000000000000000ull
/*
 * A full table is part of what is checked: once it fills, this many runs
 * go to the overflow row before the table is emptied again.
 */
#define OVERFLOW_RUNS_PER_FILL	256
/*
 * First fragments modelled before flow_frags is emptied: far below its size,
 * so that its LRU never has to evict and the model stays exact.
 */
#define FRAG_MODEL_MAX		1024

/* ---- PRNG: splitmix64, so that a seed names a run on any machine ---- */

struct rng {
	uint64_t s;
};

static uint64_t next64(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) without modulo bias worth caring about. */
static uint32_t below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((next64(r) >> 32) * (uint64_t)n) >> 32);
}

static bool chance(struct rng *r, uint32_t percent)
{
	return below(r, 100) < percent;
}

static void fill_random(struct rng *r, uint8_t *p, size_t n)
{
	while (n--)
		*p++ = (uint8_t)next64(r);
}

/* ---- frames ---- */

struct frame {
	uint8_t buf[FRAME_MAX];
	size_t len;		/* bytes built */
	size_t cap;		/* bytes captured: what the programs get */
	uint64_t wire;		/* bytes on the wire, >= cap */
	uint64_t jumbo_wire;	/* a jumbogram's or TSO frame's wire length, 0: len */

	/* Where the generator put things, for mutations aimed at fields. */
	int tags;
	size_t type_off;	/* the ethertype that names the L3 protocol */
	int ipver;		/* 4, 6 or 0 */
	size_t l3;
	size_t l4;		/* 0: no transport header was built */
	uint8_t l4proto;
	size_t nh_at[MAX_EXT + 1];	/* IPv6: bytes holding a next header */
	int n_nh;
	size_t ext[MAX_EXT];
	int n_ext;
	size_t ext_end;		/* where the last extension header ends */
	size_t frag_at;		/* IPv6 fragment header, 0: none */
	uint32_t muts;		/* MUT_* bits, and shapes, for the reports */
};

static uint8_t *grow(struct frame *f, size_t n)
{
	uint8_t *p = f->buf + f->len;

	if (f->len + n > FRAME_MAX) {
		fprintf(stderr, "fuzz_diff: generator overran its frame (%zu + %zu)\n",
			f->len, n);
		abort();
	}
	memset(p, 0, n);
	f->len += n;
	return p;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Makes room for @n bytes at @at; everything the generator noted moves. */
static bool insert_bytes(struct frame *f, size_t at, size_t n)
{
	int i;

	if (f->len + n > FRAME_MAX || at > f->len)
		return false;
	memmove(f->buf + at + n, f->buf + at, f->len - at);
	f->len += n;
#define SHIFT(x) do { if ((x) >= at && (x)) (x) += n; } while (0)
	SHIFT(f->type_off);
	SHIFT(f->l3);
	SHIFT(f->l4);
	SHIFT(f->frag_at);
	SHIFT(f->ext_end);
	for (i = 0; i < f->n_nh; i++)
		SHIFT(f->nh_at[i]);
	for (i = 0; i < f->n_ext; i++)
		SHIFT(f->ext[i]);
#undef SHIFT
	return true;
}

/* ---- generator: valid frames of every kind ---- */

static const uint8_t v4_pool[][4] = {
	{ 192, 0, 2, 1 }, { 192, 0, 2, 2 }, { 198, 51, 100, 1 },
	{ 198, 51, 100, 2 }, { 203, 0, 113, 7 }, { 10, 0, 0, 1 },
	{ 0, 0, 0, 0 }, { 255, 255, 255, 255 },
};

static const uint8_t v6_pool[][16] = {
	{ 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
	{ 0x20, 0x01, 0x0d, 0xb8, [15] = 2 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 3 },
	{ 0xfe, 0x80, [15] = 1 },
	{ 0xff, 0x02, [15] = 1 },
	{ [15] = 1 },
	{ 0 },
	/* IPv4-mapped in an IPv6 header: must stay an IPv6 flow. */
	{ [10] = 0xff, [11] = 0xff, 192, 0, 2, 1 },
};

static const uint16_t port_pool[] = { 80, 443, 22, 53, 123, 8080, 0, 1, 65535 };

#define POOL_PICK(r, pool) (pool)[below((r), sizeof(pool) / sizeof((pool)[0]))]

static void pick_v4(struct rng *r, uint8_t *out)
{
	if (chance(r, 75))
		memcpy(out, POOL_PICK(r, v4_pool), 4);
	else
		fill_random(r, out, 4);
}

static void pick_v6(struct rng *r, uint8_t *out)
{
	if (chance(r, 75))
		memcpy(out, POOL_PICK(r, v6_pool), 16);
	else
		fill_random(r, out, 16);
}

static uint16_t pick_port(struct rng *r)
{
	return chance(r, 60) ? POOL_PICK(r, port_pool) : (uint16_t)next64(r);
}

/*
 * The transport of a generated datagram. Crossed ICMP numbers (58 in IPv4,
 * 1 in IPv6) are "other protocols" to the accountant: they must get no
 * type/code ports.
 */
static uint8_t pick_proto(struct rng *r, int ipver)
{
	static const uint8_t others[] = { 47, 50, 132, 41, 4, 89, 103, 255, 2, 33 };
	uint32_t x = below(r, 100);
	uint8_t p;

	if (x < 35)
		return IPPROTO_TCP;
	if (x < 65)
		return IPPROTO_UDP;
	if (x < 80)
		return ipver == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	if (x < 84)
		return ipver == 4 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	if (ipver == 6 && x < 88)
		return IPPROTO_NONE;
	if (x < 95)
		return POOL_PICK(r, others);
	do
		p = (uint8_t)next64(r);
	while (p == 0 || p == 43 || p == 44 || p == 51 || p == 60);
	return p;
}

static void put_tcp(struct rng *r, struct frame *f)
{
	unsigned int doff = chance(r, 60) ? 5 : 5 + below(r, 11);
	uint8_t *p;
	unsigned int i;

	f->l4 = f->len;
	p = grow(f, doff * 4);
	put_be16(p, pick_port(r));
	put_be16(p + 2, pick_port(r));
	fill_random(r, p + 4, 8);	/* sequence and acknowledgment numbers */
	p[12] = doff << 4;
	p[13] = (uint8_t)next64(r);	/* all eight flags, any combination */
	fill_random(r, p + 14, 4);	/* window, checksum */
	for (i = 20; i < doff * 4; i++)
		p[i] = chance(r, 70) ? 1 /* NOP */ : (uint8_t)next64(r);
}

static void put_udp(struct rng *r, struct frame *f)
{
	uint8_t *p;

	f->l4 = f->len;
	p = grow(f, 8);
	put_be16(p, pick_port(r));
	put_be16(p + 2, pick_port(r));
	fill_random(r, p + 6, 2);
}

static void put_icmp(struct rng *r, struct frame *f, bool v6)
{
	static const uint8_t t4[][2] = { { 0, 0 }, { 8, 0 }, { 3, 0 }, { 3, 1 },
		{ 3, 3 }, { 3, 4 }, { 11, 0 }, { 5, 1 }, { 13, 0 } };
	static const uint8_t t6[][2] = { { 128, 0 }, { 129, 0 }, { 1, 4 },
		{ 2, 0 }, { 3, 0 }, { 4, 1 }, { 133, 0 }, { 134, 0 }, { 135, 0 },
		{ 136, 0 } };
	const uint8_t *tc;
	uint8_t *p;

	f->l4 = f->len;
	p = grow(f, 8);
	if (chance(r, 80)) {
		tc = v6 ? POOL_PICK(r, t6) : POOL_PICK(r, t4);
		p[0] = tc[0];
		p[1] = tc[1];
	} else {
		fill_random(r, p, 2);
	}
	fill_random(r, p + 2, 6);
}

static void put_transport(struct rng *r, struct frame *f, uint8_t proto)
{
	f->l4proto = proto;
	if (proto == IPPROTO_TCP)
		put_tcp(r, f);
	else if (proto == IPPROTO_UDP)
		put_udp(r, f);
	else if ((f->ipver == 4 && proto == IPPROTO_ICMP) ||
		 (f->ipver == 6 && proto == IPPROTO_ICMPV6))
		put_icmp(r, f, f->ipver == 6);
}

static void put_payload(struct rng *r, struct frame *f)
{
	uint32_t x = below(r, 100);
	size_t n, room = FRAME_MAX - 128 - f->len;

	if (x < 60)
		n = below(r, 65);
	else if (x < 90)
		n = 64 + below(r, 449);
	else
		n = 512 + below(r, 889);
	if (n > room)
		n = room;
	fill_random(r, grow(f, n), n);
}

static void ipv4_checksum(uint8_t *ip, unsigned int hlen)
{
	uint32_t sum = 0;
	unsigned int i;

	ip[10] = ip[11] = 0;
	for (i = 0; i < hlen; i += 2)
		sum += get_be16(ip + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put_be16(ip + 10, (uint16_t)~sum);
}

static void gen_l2(struct rng *r, struct frame *f, int tags, uint16_t type)
{
	int i;

	fill_random(r, grow(f, 12), 12);
	for (i = 0; i < tags; i++) {
		uint8_t *t = grow(f, 4);

		put_be16(t, chance(r, 50) ? ETH_P_8021Q : ETH_P_8021AD);
		put_be16(t + 2, (uint16_t)next64(r));	/* PCP, DEI, VID */
	}
	f->tags = tags;
	f->type_off = f->len;
	put_be16(grow(f, 2), type);
	f->l3 = f->len;
}

/*
 * First fragments the reference accounted lately. The generator sends later
 * fragments of these datagrams too: attributing a later fragment to its
 * first is only tested if some later fragments have one.
 */
struct recent_first {
	int ipver;
	uint8_t src[16], dst[16];
	uint32_t id;
	uint8_t frag_proto;
};

#define RECENT_FIRSTS 16
static struct recent_first recent_firsts[RECENT_FIRSTS];
static unsigned int n_recent_firsts;

static void remember_first(const struct ref_result *ref)
{
	struct recent_first *rf = &recent_firsts[n_recent_firsts++ % RECENT_FIRSTS];

	rf->ipver = ref->ip_version;
	memcpy(rf->src, ref->src, 16);
	memcpy(rf->dst, ref->dst, 16);
	rf->id = ref->frag_id;
	rf->frag_proto = ref->frag_proto;
}

/* Now and then one of them, of IP version @ipver. */
static const struct recent_first *pick_first(struct rng *r, int ipver)
{
	unsigned int n = n_recent_firsts < RECENT_FIRSTS ? n_recent_firsts : RECENT_FIRSTS;
	const struct recent_first *rf;

	if (!n || !chance(r, 60))
		return NULL;
	rf = &recent_firsts[below(r, n)];
	return rf->ipver == ipver ? rf : NULL;
}

/*
 * @tso: total length 0, as a capture before TSO or BIG TCP's GSO holds a
 * TCP segment; mostly TCP, whose length is then the frame's, and now and
 * then another protocol, for which it is not.
 */
static void gen_ipv4(struct rng *r, struct frame *f, bool tso)
{
	unsigned int ihl = chance(r, 70) ? 5 : 5 + below(r, 11), i;
	uint32_t fk = below(r, 100);
	uint8_t proto = tso && chance(r, 70) ? IPPROTO_TCP : pick_proto(r, 4);
	uint16_t frag;
	uint8_t *ip;

	f->ipver = 4;
	ip = grow(f, ihl * 4);
	ip[0] = 0x40 | ihl;
	ip[1] = (uint8_t)next64(r);
	fill_random(r, ip + 4, 2);	/* identification */
	ip[8] = 1 + below(r, 255);
	ip[9] = proto;
	pick_v4(r, ip + 12);
	pick_v4(r, ip + 16);
	/* Options: mostly NOPs, some arbitrary bytes; the parser must skip them whole. */
	for (i = 20; i < ihl * 4; i++)
		ip[i] = chance(r, 60) ? 1 : (uint8_t)next64(r);

	if (fk < 70)
		frag = chance(r, 50) ? 0x4000 : 0;		/* DF or nothing */
	else if (fk < 85)
		frag = 0x2000;					/* first fragment */
	else
		frag = (chance(r, 50) ? 0x2000 : 0) | (1 + below(r, 0x1fff));
	put_be16(ip + 6, frag);
	if (frag & 0x1fff) {
		const struct recent_first *rf = pick_first(r, 4);

		if (rf) {
			memcpy(ip + 12, rf->src + 12, 4);
			memcpy(ip + 16, rf->dst + 12, 4);
			put_be16(ip + 4, (uint16_t)rf->id);
			ip[9] = proto = rf->frag_proto;
		}
	}
	f->l4proto = proto;
	if (!(frag & 0x1fff))
		put_transport(r, f, proto);
	put_payload(r, f);
	ip = f->buf + f->l3;
	put_be16(ip + 2, tso ? 0 : (uint16_t)(f->len - f->l3));
	ipv4_checksum(ip, ihl * 4);
	/* A super-frame: the capture holds its head, the wire length all. */
	if (tso && chance(r, 50))
		f->jumbo_wire = f->len + 1 + below(r, 1u << 17);
}

enum v6_shape { V6_NORMAL, V6_LONG_CHAIN, V6_JUMBO };

/* One extension header of type @type; @small: the 8-byte form of each. */
static void put_ext(struct rng *r, struct frame *f, uint8_t type, bool small,
		    bool later_fragment)
{
	unsigned int units, len;
	uint8_t *p;

	f->ext[f->n_ext++] = f->len;
	switch (type) {
	case IPPROTO_FRAGMENT:
		p = grow(f, 8);
		put_be16(p + 2, later_fragment ?
			 (uint16_t)((1 + below(r, 0x1fff)) << 3 | below(r, 2)) :
			 (uint16_t)(chance(r, 70) ? 1 : 0));	/* first, or atomic */
		fill_random(r, p + 4, 4);
		f->frag_at = p - f->buf;
		break;
	case IPPROTO_AH:
		/* RFC 4302: in IPv6 a multiple of 8 bytes; 12 of them fixed. */
		len = small ? 8 : 16 + 8 * below(r, 3);
		p = grow(f, len);
		p[1] = len / 4 - 2;
		fill_random(r, p + 4, len - 4);
		break;
	case IPPROTO_ROUTING:
		units = small ? 0 : 2 * below(r, 3);
		p = grow(f, (units + 1) * 8);
		p[1] = units;
		p[2] = POOL_PICK(r, ((const uint8_t[]){ 0, 2, 3, 4 }));
		fill_random(r, p + 4, (units + 1) * 8 - 4);
		break;
	default:	/* hop-by-hop, destination options: PadN to the end */
		units = small || chance(r, 60) ? 0 : below(r, 4);
		len = (units + 1) * 8;
		p = grow(f, len);
		p[1] = units;
		p[2] = 1;
		p[3] = len - 4;
		break;
	}
	f->nh_at[f->n_nh++] = p - f->buf;	/* its byte 0 names what follows */
}

static void gen_ipv6(struct rng *r, struct frame *f, enum v6_shape shape)
{
	static const uint8_t ext_types[] = { IPPROTO_HOPOPTS, IPPROTO_ROUTING,
		IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_AH };
	uint32_t x = below(r, 100);
	int n_ext, i;
	bool later = false;
	uint8_t *ip, proto;

	f->ipver = 6;
	ip = grow(f, 40);
	ip[0] = 0x60 | below(r, 16);
	fill_random(r, ip + 1, 3);	/* traffic class, flow label */
	ip[7] = 1 + below(r, 255);
	pick_v6(r, ip + 8);
	pick_v6(r, ip + 24);
	f->nh_at[f->n_nh++] = f->l3 + 6;

	if (shape == V6_LONG_CHAIN)
		n_ext = 6 + below(r, 7);	/* around the walk's limit of 8 */
	else if (x < 45)
		n_ext = 0;
	else if (x < 75)
		n_ext = 1;
	else if (x < 90)
		n_ext = 2 + below(r, 2);
	else
		n_ext = 4 + below(r, 5);

	if (shape == V6_JUMBO) {
		/* RFC 2675: hop-by-hop first, carrying the Jumbo Payload option. */
		uint8_t *p;

		f->buf[f->nh_at[f->n_nh - 1]] = IPPROTO_HOPOPTS;
		f->ext[f->n_ext++] = f->len;
		p = grow(f, 8);
		p[2] = 0xc2;
		p[3] = 4;
		f->nh_at[f->n_nh++] = p - f->buf;
		n_ext = below(r, 2);
	}
	for (i = 0; i < n_ext && !later; i++) {
		uint8_t type = POOL_PICK(r, ext_types);

		later = type == IPPROTO_FRAGMENT && chance(r, 30);
		f->buf[f->nh_at[f->n_nh - 1]] = type;
		put_ext(r, f, type, shape == V6_LONG_CHAIN, later);
	}
	f->ext_end = f->len;
	proto = pick_proto(r, 6);
	if (later) {
		const struct recent_first *rf = pick_first(r, 6);
		uint8_t *id = f->buf + f->frag_at + 4;

		if (rf) {
			memcpy(f->buf + f->l3 + 8, rf->src, 16);
			memcpy(f->buf + f->l3 + 24, rf->dst, 16);
			id[0] = rf->id >> 24, id[1] = rf->id >> 16;
			id[2] = rf->id >> 8, id[3] = rf->id;
			proto = rf->frag_proto;
		}
	}
	f->buf[f->nh_at[f->n_nh - 1]] = proto;
	f->l4proto = proto;
	/* A later fragment holds the middle of a datagram: no header to build. */
	if (!later)
		put_transport(r, f, proto);
	put_payload(r, f);
	put_be16(f->buf + f->l3 + 4, shape == V6_JUMBO ? 0 :
		 (uint16_t)(f->len - f->l3 - 40));
	if (shape == V6_JUMBO) {
		uint32_t jl = (uint32_t)(f->len - f->l3 - 40);
		uint8_t *o = f->buf + f->ext[0] + 4;

		/*
		 * A real jumbogram is over 64 KiB: the capture holds its
		 * head, the wire length the rest. Else the option gives the
		 * frame's own length, which RFC 2675 forbids under 64 KiB.
		 */
		if (chance(r, 60)) {
			jl = 65536 + below(r, 1u << 20);
			f->jumbo_wire = f->l3 + 40 + jl;
		}

		o[0] = jl >> 24, o[1] = jl >> 16, o[2] = jl >> 8, o[3] = jl;
	}
}

static void gen_non_ip(struct rng *r, struct frame *f)
{
	size_t n = below(r, 101);

	fill_random(r, grow(f, n), n);
}

/* Shapes, recorded with the mutations. */
#define SHAPE_LONG_CHAIN	(1u << 30)
#define SHAPE_JUMBO		(1u << 31)
#define SHAPE_TSO		(1u << 29)
#define SHAPE_TUNNEL		(1u << 28)

static void gen_frame(struct rng *r, struct frame *f)
{
	static const uint16_t non_ip[] = { ETH_P_ARP, 0x88cc, 0x8035, 0x0842,
		0x88e5, 0x8847, 0x9100, 0x0000, 0x05dc, 0x0600, 0xffff };
	int tags = below(r, 100) < 60 ? 0 : 1 + below(r, 2);
	uint32_t kind = below(r, 100);
	uint16_t type;

	/* Everything but the bytes, which are written before they are read. */
	memset((uint8_t *)f + offsetof(struct frame, len), 0,
	       sizeof(*f) - offsetof(struct frame, len));
	if (kind < 44)
		type = ETH_P_IP;
	else if (kind < 88)
		type = ETH_P_IPV6;
	else
		type = chance(r, 80) ? POOL_PICK(r, non_ip) : (uint16_t)next64(r);
	gen_l2(r, f, tags, type);

	if (type == ETH_P_IP) {
		bool tso = chance(r, 5);

		if (tso)
			f->muts |= SHAPE_TSO;
		gen_ipv4(r, f, tso);
	} else if (type == ETH_P_IPV6) {
		uint32_t s = below(r, 100);

		if (s < 6) {
			f->muts |= SHAPE_LONG_CHAIN;
			gen_ipv6(r, f, V6_LONG_CHAIN);
		} else if (s < 10) {
			f->muts |= SHAPE_JUMBO;
			gen_ipv6(r, f, V6_JUMBO);
		} else {
			gen_ipv6(r, f, V6_NORMAL);
		}
	} else {
		gen_non_ip(r, f);
	}
	/* Senders pad to the Ethernet minimum; the pad is not IP bytes. */
	if (f->len < 60 && chance(r, 60)) {
		size_t n = 60 - f->len;
		uint8_t *p = grow(f, n);

		if (chance(r, 30))
			fill_random(r, p, n);
	}
	f->cap = f->len;
	f->wire = f->jumbo_wire ? f->jumbo_wire : f->len;
}


/* ---- tunnels (--decap) ---- */

/* Room left for the outer headers a wrap puts in front of a frame. */
#define TUNNEL_HDR_MAX	(14 + 40 + 8 + 8 + 252 + 20 + 36)

/* A UDP port a tunnel listens on, or the ports around them. */
static uint16_t pick_tunnel_port(struct rng *r)
{
	static const uint16_t ports[] = { 4789, 4789, 8472, 6081, 6081, 4790, 6080 };

	return POOL_PICK(r, ports);
}

/*
 * A GRE header at @h: @flags' checksum, key and sequence words (random),
 * broken now and then by the routing bit or version 1. Returns its end.
 */
static size_t put_gre(struct rng *r, uint8_t *hdr, size_t h, uint32_t flags,
		      uint16_t proto, bool broken)
{
	static const uint16_t words[] = { 0x8000, 0x2000, 0x1000 };
	size_t i;

	if (broken)
		flags |= chance(r, 50) ? 0x4000 : 1;
	put_be16(hdr + h, (uint16_t)flags);
	put_be16(hdr + h + 2, proto);
	h += 4;
	for (i = 0; i < 3; i++)
		if (flags & words[i]) {
			fill_random(r, hdr + h, 4);
			h += 4;
		}
	return h;
}

/*
 * Puts @f (as generated, and maybe damaged) inside a tunnel: the whole frame
 * for those that carry Ethernet, the bytes from its L3 header on for those
 * that carry IP, as captured; the outer lengths say what the inner frame
 * was on the wire. Now and then the tunnel's own header is broken: a flag
 * or version it must not have, a length past the datagram, a stack without
 * its bottom. The layout fields then describe the outer packet, for the
 * mutations that may follow.
 */
static void wrap_tunnel(struct rng *r, struct frame *f)
{
	static uint8_t inner[FRAME_MAX];
	uint8_t hdr[TUNNEL_HDR_MAX], *ip, *p;
	size_t from, in_cap, h = 0, l3, l4 = 0, i, opts;
	uint64_t in_wire;
	uint32_t kind = below(r, 100), flags;
	bool v6 = chance(r, 30), eth_inside = true, broken = chance(r, 8), mpls = false;
	uint8_t proto = IPPROTO_UDP;
	uint16_t etype, gre_proto = 0x6558;

	/* IP inside: the inner frame from its L3 header (or where one would be). */
	if (kind >= 50)
		eth_inside = false;
	from = eth_inside ? 0 : (f->l3 && f->l3 <= f->cap ? f->l3 : 14 < f->cap ? 14 : f->cap);
	in_cap = f->cap - from;
	in_wire = f->wire - from;
	/* Wire lengths stay 32-bit, as a capture record's are. */
	if (in_wire > UINT32_MAX - TUNNEL_HDR_MAX)
		in_wire = in_cap;
	if (in_cap + TUNNEL_HDR_MAX > FRAME_MAX)
		return;
	memcpy(inner, f->buf + from, in_cap);

	/* Ethernet, then the outer IP header, written once its length is known. */
	fill_random(r, hdr, 12);
	l3 = 14;
	h = l3 + (v6 ? 40 : 20);
	if (kind < 30) {			/* VXLAN, Geneve */
		uint16_t port = kind < 20 ? (chance(r, 70) ? 4789 : 8472) : 6081;

		if (chance(r, 10))
			port = pick_tunnel_port(r);
		l4 = h;
		put_be16(hdr + h, (uint16_t)next64(r));
		put_be16(hdr + h + 2, port);
		put_be16(hdr + h + 6, 0);
		h += 8;
		p = hdr + h;
		memset(p, 0, 8);
		if (port != 6081) {
			p[0] = broken && chance(r, 50) ? 0x00 : 0x08;
			fill_random(r, p + 4, 3);
			h += 8;
		} else {
			opts = chance(r, 50) ? below(r, 6) : 0;
			p[0] = (broken && chance(r, 30) ? 0x40 : 0) | (uint8_t)opts;
			put_be16(p + 2, chance(r, 90) ? 0x6558 : (uint16_t)next64(r));
			fill_random(r, p + 4, 3);
			h += 8;
			fill_random(r, hdr + h, opts * 4);
			h += opts * 4;
			if (broken && chance(r, 50))
				p[0] = (p[0] & 0xc0) | 0x3f;	/* options past the packet */
		}
	} else if (kind < 50) {			/* GRE with Ethernet, ERSPAN I, II, III */
		uint32_t e = below(r, 4);

		proto = 47;
		flags = e == 1 ? 0 : e >= 2 ? 0x1000 : (chance(r, 50) ? 0x2000 : 0) |
			(chance(r, 30) ? 0x8000 : 0) | (chance(r, 30) ? 0x1000 : 0);
		gre_proto = e == 0 ? 0x6558 : e == 3 ? 0x22eb : 0x88be;
		h = put_gre(r, hdr, h, flags, gre_proto, broken);
		if (e >= 2) {			/* ERSPAN II and III headers */
			size_t n = e == 2 ? 8 : 12;

			fill_random(r, hdr + h, n);
			hdr[h] = (uint8_t)((e == 2 ? 1 : 2) << 4 | (hdr[h] & 0x0f));
			if (broken && chance(r, 30))
				hdr[h] ^= 0x30;
			if (e == 3)
				hdr[h + 11] &= 0xfe;
			if (e == 3 && chance(r, 40)) {
				hdr[h + 11] |= 1;
				fill_random(r, hdr + h + 12, 8);
				n += 8;
			}
			h += n;
		}
	} else if (kind < 65) {			/* GRE with IP inside */
		proto = 47;
		flags = (chance(r, 50) ? 0x2000 : 0) | (chance(r, 30) ? 0x8000 : 0) |
			(chance(r, 30) ? 0x1000 : 0);
		gre_proto = f->ipver == 6 ? 0x86dd : 0x0800;
		if (chance(r, 5))
			gre_proto = (uint16_t)next64(r);
		h = put_gre(r, hdr, h, flags, gre_proto, broken);
	} else if (kind < 85) {			/* IP in IP */
		proto = (f->ipver == 6) != chance(r, 5) ? 41 : 4;
	} else {				/* MPLS: no outer IP header */
		size_t n = broken ? FLOW_MPLS_MAX_DEPTH + below(r, 2) : 1 + below(r, 3);

		mpls = true;
		h = l3;
		for (i = 0; i < n; i++) {
			uint32_t lbl = (uint32_t)next64(r) & 0xfffff;
			bool bos = i == n - 1 && !broken;

			put_be16(hdr + h, (uint16_t)(lbl >> 4));
			put_be16(hdr + h + 2, (uint16_t)((lbl & 0xf) << 12 | bos << 8 | 64));
			h += 4;
		}
		put_be16(hdr + 12, chance(r, 70) ? 0x8847 : 0x8848);
		goto out;
	}
	/* The outer IP header: its lengths from what the inner frame was on the wire. */
	etype = v6 ? ETH_P_IPV6 : ETH_P_IP;
	put_be16(hdr + 12, etype);
	ip = hdr + l3;
	if (v6) {
		memset(ip, 0, 40);
		ip[0] = 0x60;
		put_be16(ip + 4, (uint16_t)(h - l3 - 40 + in_wire));
		ip[6] = proto;
		ip[7] = 64;
		pick_v6(r, ip + 8);
		pick_v6(r, ip + 24);
	} else {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		put_be16(ip + 2, (uint16_t)(h - l3 + in_wire));
		ip[8] = 64;
		ip[9] = proto;
		pick_v4(r, ip + 12);
		pick_v4(r, ip + 16);
		ipv4_checksum(ip, 20);
	}
	if (l4)
		put_be16(hdr + l4 + 4, (uint16_t)(h - l4 + in_wire));
out:
	memcpy(f->buf, hdr, h);
	memcpy(f->buf + h, inner, in_cap);
	f->len = h + in_cap;
	f->cap = f->len;
	f->wire = h + in_wire;
	f->jumbo_wire = 0;
	/* Now the outer packet's layout, for what may damage it next. */
	f->tags = 0;
	f->type_off = 12;
	f->ipver = mpls ? 0 : v6 ? 6 : 4;
	f->l3 = l3;
	f->l4 = l4;
	f->l4proto = l4 ? IPPROTO_UDP : 0;
	f->n_nh = f->ipver == 6;
	f->nh_at[0] = l3 + 6;
	f->n_ext = 0;
	f->ext_end = 0;
	f->frag_at = 0;
	f->muts |= SHAPE_TUNNEL;
}

/* ---- mutations ---- */

/*
 * In the order they are applied: first what changes the layout, then
 * fields, then what was captured of it and how long it was on the wire.
 */
#define MUTATIONS(X)				\
	X(VLAN_DEEP,	"vlan_deep")		\
	X(TRAILER,	"trailer")		\
	X(EXT_FLOOD,	"ext_flood")		\
	X(ETYPE,	"ethertype")		\
	X(IPVER,	"ip_version")		\
	X(IHL,		"ihl")			\
	X(TOTLEN,	"tot_len")		\
	X(FRAG,		"frag_offset")		\
	X(PROTO,	"proto")		\
	X(PLEN,		"payload_len")		\
	X(NEXTHDR,	"next_header")		\
	X(EXTLEN,	"ext_len")		\
	X(TCPDOFF,	"tcp_doff")		\
	X(L4ROOM,	"l4_room")		\
	X(FLIP,		"bit_flip")		\
	X(RANDBYTES,	"random_bytes")		\
	X(TRUNC,	"snaplen_cut")		\
	X(SHORT,	"short_frame")		\
	X(WIRE,		"wire_len")

enum mutation {
#define MUT_ENUM(id, name) M_##id,
	MUTATIONS(MUT_ENUM)
#undef MUT_ENUM
	M_NR
};

static const char *const mut_names[M_NR] = {
#define MUT_NAME(id, name) [M_##id] = name,
	MUTATIONS(MUT_NAME)
#undef MUT_NAME
};

static bool mut_applies(const struct frame *f, enum mutation m)
{
	switch (m) {
	case M_IPVER:
		return f->ipver;
	case M_IHL:
	case M_TOTLEN:
		return f->ipver == 4;
	case M_FRAG:
		return f->ipver == 4 || f->frag_at;
	case M_PROTO:
		return f->ipver;
	case M_PLEN:
	case M_NEXTHDR:
	case M_EXT_FLOOD:
		return f->ipver == 6;
	case M_EXTLEN:
		return f->n_ext > 0;
	case M_TCPDOFF:
		return f->l4 && f->l4proto == IPPROTO_TCP;
	case M_L4ROOM:
		return f->l4;
	default:
		return true;
	}
}

/* The end of the headers, where damage does most harm. */
static size_t header_end(const struct frame *f)
{
	size_t end = f->l4 ? f->l4 + 24 : f->l3 + 64;

	return end < f->len ? end : f->len;
}

/* A cut point, mostly inside the headers. */
static size_t cut_point(struct rng *r, const struct frame *f)
{
	if (chance(r, 70))
		return below(r, header_end(f) + 9 < f->len ?
				(uint32_t)header_end(f) + 9 : (uint32_t)f->len + 1);
	return below(r, f->len + 1);
}

static void set_l3_be16(struct frame *f, size_t field, uint16_t v)
{
	if (f->l3 + field + 2 <= f->len)
		put_be16(f->buf + f->l3 + field, v);
}

static uint16_t pick_length(struct rng *r, uint16_t cur, uint64_t fits,
			    unsigned int floor)
{
	uint16_t c[] = { 0, 1, 7, 8, floor - 1, floor, floor + 1, cur - 1,
			 cur + 1, cur + 8, (uint16_t)fits, (uint16_t)(fits + 1),
			 0xffff, (uint16_t)next64(r) };

	return POOL_PICK(r, c);
}

static void mutate_one(struct rng *r, struct frame *f, enum mutation m)
{
	static const uint8_t nh_values[] = { 0, 1, 4, 6, 17, 41, 43, 44, 50,
		51, 58, 59, 60, 132, 255 };
	static const uint8_t ext_types[] = { 0, 43, 44, 51, 60 };
	uint8_t *ip = f->buf + f->l3;
	size_t at;
	uint32_t i, n;

	switch (m) {
	case M_VLAN_DEEP: {
		/* Three to five tags where the walk takes two. */
		int want = 3 + below(r, 3), k = want - f->tags;

		/* The tags go where the ethertype was; it moves past them. */
		at = f->type_off;
		if (k <= 0 || !insert_bytes(f, at, 4 * k))
			break;
		for (i = 0; i < (uint32_t)k; i++) {
			uint8_t *t = f->buf + at + 4 * i;

			put_be16(t, chance(r, 50) ? ETH_P_8021Q : ETH_P_8021AD);
			put_be16(t + 2, (uint16_t)next64(r));
		}
		f->tags = want;
		break;
	}
	case M_TRAILER:
		n = 1 + below(r, 40);
		if (f->len + n <= FRAME_MAX)
			fill_random(r, grow(f, n), n);
		break;
	case M_EXT_FLOOD: {
		/*
		 * Headers that keep naming another header, over whatever
		 * followed: chains longer than the walk, and chains into
		 * bytes that were never meant as headers.
		 */
		size_t start = f->ext_end;
		uint8_t prev;

		n = 2 + below(r, 10);
		f->buf[f->nh_at[f->n_nh - 1]] = prev = POOL_PICK(r, ext_types);
		for (i = 0; i < n && start + 8 <= f->len; i++, start += 8) {
			uint8_t *h = f->buf + start;
			uint8_t nxt = i + 1 < n || chance(r, 50) ?
				      POOL_PICK(r, ext_types) : POOL_PICK(r, nh_values);

			h[0] = nxt;
			h[1] = 0;	/* 8 bytes, AH or not */
			if (prev == IPPROTO_FRAGMENT)
				put_be16(h + 2, chance(r, 80) ? 0 : 8);
			prev = nxt;
		}
		break;
	}
	case M_ETYPE: {
		static const uint16_t v[] = { ETH_P_8021Q, ETH_P_8021AD, ETH_P_IP,
			ETH_P_IPV6, 0x9100, ETH_P_ARP };

		at = chance(r, 70) ? f->type_off : 12;
		put_be16(f->buf + at, chance(r, 85) ? POOL_PICK(r, v) :
			 (uint16_t)next64(r));
		break;
	}
	case M_IPVER:
		if (f->l3 < f->len)
			ip[0] = (uint8_t)(below(r, 16) << 4 | (ip[0] & 0x0f));
		break;
	case M_IHL: {
		unsigned int cur = ip[0] & 0x0f;
		uint8_t v[] = { 0, 1, 4, 5, 6, 15, cur - 1, cur + 1, below(r, 16) };

		ip[0] = (ip[0] & 0xf0) | (POOL_PICK(r, v) & 0x0f);
		break;
	}
	case M_TOTLEN:
		set_l3_be16(f, 2, pick_length(r, get_be16(ip + 2), f->len - f->l3,
					      (ip[0] & 0x0f) * 4));
		break;
	case M_FRAG:
		if (f->ipver == 4) {
			static const uint16_t flags[] = { 0, 0x2000, 0x4000, 0x6000, 0x8000 };
			uint16_t off[] = { 0, 1, 2, 3, 0x1fff, 0x1ffe,
					   (uint16_t)(below(r, 0x1000) * 2 + 1),
					   (uint16_t)below(r, 0x2000) };

			put_be16(ip + 6, POOL_PICK(r, flags) | POOL_PICK(r, off));
		} else {
			uint16_t off[] = { 0, 1, 0x1fff, (uint16_t)below(r, 0x2000) };

			put_be16(f->buf + f->frag_at + 2,
				 (uint16_t)(POOL_PICK(r, off) << 3 | below(r, 8)));
		}
		break;
	case M_PROTO: {
		uint8_t v = chance(r, 80) ? POOL_PICK(r, nh_values) : (uint8_t)next64(r);

		if (f->ipver == 4)
			ip[9] = v;
		else
			f->buf[f->nh_at[f->n_nh - 1]] = v;
		break;
	}
	case M_PLEN:
		set_l3_be16(f, 4, pick_length(r, get_be16(ip + 4),
					      f->len - f->l3 - 40, 8));
		/* A payload that ends on, just before or just after a header's edge. */
		if (f->n_ext && chance(r, 40)) {
			int e = below(r, f->n_ext);
			size_t s = f->ext[e], end = e + 1 < f->n_ext ? f->ext[e + 1] : f->ext_end;
			size_t v[] = { s, s + 1, s + 2, s + 7, s + 8, end - 1, end, end + 1 };

			set_l3_be16(f, 4, (uint16_t)(POOL_PICK(r, v) - f->l3 - 40));
		}
		/* RFC 2675 without the option: length 0, hop-by-hop next. */
		if (chance(r, 15)) {
			set_l3_be16(f, 4, 0);
			ip[6] = chance(r, 70) ? IPPROTO_HOPOPTS : POOL_PICK(r, nh_values);
		}
		break;
	case M_NEXTHDR:
		at = f->nh_at[below(r, f->n_nh)];
		f->buf[at] = chance(r, 70) ? POOL_PICK(r, ext_types) : (uint8_t)next64(r);
		break;
	case M_EXTLEN: {
		uint8_t *h = f->buf + f->ext[below(r, f->n_ext)];
		uint8_t v[] = { 0, 1, 2, 255, h[1] + 1, h[1] - 1, (uint8_t)next64(r) };

		h[1] = POOL_PICK(r, v);
		break;
	}
	case M_TCPDOFF: {
		uint8_t v[] = { 0, 1, 4, 5, 15, below(r, 16) };

		f->buf[f->l4 + 12] = POOL_PICK(r, v) << 4 | (f->buf[f->l4 + 12] & 0x0f);
		break;
	}
	case M_L4ROOM:
		/* The datagram ends inside or just after the transport header. */
		n = below(r, 25);
		if (f->ipver == 4)
			set_l3_be16(f, 2, (uint16_t)(f->l4 - f->l3 + n));
		else
			set_l3_be16(f, 4, (uint16_t)(f->l4 - f->l3 - 40 + n));
		break;
	case M_FLIP:
		n = 1 + below(r, 4);
		for (i = 0; i < n && f->len; i++)
			f->buf[below(r, header_end(f) ? header_end(f) : f->len)] ^=
				1u << below(r, 8);
		break;
	case M_RANDBYTES:
		n = 1 + below(r, 4);
		for (i = 0; i < n && f->len; i++) {
			size_t lim = chance(r, 70) && header_end(f) ? header_end(f) : f->len;

			f->buf[below(r, lim)] = (uint8_t)next64(r);
		}
		break;
	case M_TRUNC:
		f->cap = cut_point(r, f);	/* snaplen: the wire had it all */
		break;
	case M_SHORT:
		f->cap = f->wire = cut_point(r, f);
		break;
	case M_WIRE: {
		uint64_t v[] = { f->cap + 1 + below(r, 64), 0xffffffffull,
				 f->cap + 65536, f->cap + below(r, 3), f->cap };

		f->wire = POOL_PICK(r, v);
		break;
	}
	case M_NR:
		break;
	}
}

static void mutate(struct rng *r, struct frame *f, bool lengths_too)
{
	bool pick[M_NR] = {};
	int n = 1 + below(r, 3), tries;
	int m;

	for (tries = 0; n > 0 && tries < 20; tries++) {
		m = below(r, M_NR);
		if (!lengths_too && (m == M_TRUNC || m == M_SHORT || m == M_WIRE))
			continue;
		if (pick[m] || !mut_applies(f, m))
			continue;
		pick[m] = true;
		n--;
	}
	for (m = 0; m < M_NR; m++) {
		if (!pick[m])
			continue;
		mutate_one(r, f, m);
		f->muts |= 1u << m;
		if (m == M_VLAN_DEEP || m == M_TRAILER) {
			f->cap = f->len;
			f->wire = f->len;
		}
	}
}

static void describe_muts(uint32_t muts, char *out, size_t n)
{
	size_t used = 0;
	int m;

	out[0] = 0;
	for (m = 0; m < M_NR; m++)
		if (muts & (1u << m))
			used += snprintf(out + used, used < n ? n - used : 0, "%s%s",
					 used ? "," : "", mut_names[m]);
	if (muts & SHAPE_LONG_CHAIN)
		used += snprintf(out + used, used < n ? n - used : 0, "%slong_chain",
				 used ? "," : "");
	if (muts & SHAPE_JUMBO)
		used += snprintf(out + used, used < n ? n - used : 0, "%sjumbo",
				 used ? "," : "");
	if (muts & SHAPE_TSO)
		used += snprintf(out + used, used < n ? n - used : 0, "%stso",
				 used ? "," : "");
	if (muts & SHAPE_TUNNEL)
		used += snprintf(out + used, used < n ? n - used : 0, "%stunnel",
				 used ? "," : "");
	if (!used)
		snprintf(out, n, "none");
}

/* ---- the programs ---- */

struct snap {
	__u64 c[FLOW_NR_COUNTERS];
	__u64 ov_packets, ov_bytes;
};

struct fuzz {
	struct flowacct_bpf *skel;
	int run_hook[FLOW_NR_DIRS];	/* enum fa_replay_hook of each slot */
	bool tc_ingress;	/* TC ingress runs the ingress slot, not XDP */
	bool decap;		/* --decap inner, and tunnels generated */
	int flows_fd, stats_fd, overflow_fd, tunnels_fd;
	bool shared;
	int ncpus;		/* value slots per flows lookup */
	int stats_ncpus;
	void *flow_vals, *stats_vals;
	__u32 max_flows;

	/* The model of the maps. */
	__u64 entries;		/* keys in flows */
	__u64 unsure;		/* failed runs since entries was last read */
	__u64 overflow_runs;	/* runs into the overflow row since it filled */
	struct snap last[FLOW_NR_DIRS];
	__u64 runs[FLOW_NR_DIRS];
	__u64 cleared_packets[FLOW_NR_DIRS], cleared_bytes[FLOW_NR_DIRS];
	int reason_counter[REF_NR_VERDICTS];
	bool checked[FLOW_NR_COUNTERS];	/* counters the model predicts */
	struct frag_model {		/* flow_frags: first fragments seen */
		int ipver;
		uint8_t tunnel;		/* an inner datagram's tunnel type */
		uint8_t frag_proto;
		uint8_t src[16], dst[16];
		uint32_t id;
		uint8_t flow_proto;
		uint16_t sport, dport;
	} frags[FRAG_MODEL_MAX];
	size_t n_frags;
	bool frag_orphan;		/* this frame is a later fragment without */
	__u64 unchecked_moves[FLOW_NR_COUNTERS];

	/* Results. */
	__u64 frames, passed, failed, bad_runs[FLOW_NR_DIRS];
	__u64 books_checks, books_failed, clears, overflows_seen;
	__u64 verdicts[REF_NR_VERDICTS];
	__u64 later_fragments, with_ext, jumbograms, tso_frames, bad_doffs;
	__u64 tunnels[8], nested, undecoded;	/* --decap: by enum ref_tunnel */
	__u64 vlan_hist[3], cut, padded;
	__u64 frags_attributed, frag_orphans, frag_clears;
	__u64 accounted_bytes;
	__u64 mut_hist[M_NR];
	unsigned int printed, max_print;

	const char *pcap_path;
	pcap_t *pcap_dead;
	pcap_dumper_t *bad_dump;
	pcap_dumper_t *save_dump;	/* --save: every frame */

	/* --tshark-sample */
	pcap_dumper_t *sample_dump;
	FILE *sample_expect;
	__u64 sample_eligible, sample_written;
	unsigned int sample_every;
};

/* The program a direction's frames go through here. */
static const char *hook_name(const struct fuzz *z, int dir)
{
	return dir == FLOW_DIR_EGRESS ? "tc" : z->tc_ingress ? "tc-ingress" : "xdp";
}

/* libbpf's messages only matter when a load fails. */
static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && getenv("V"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static size_t stride8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static int load(struct fuzz *z)
{
	struct flowacct_bpf *skel;
	int err, i, v;

	err = fa_progs_load(&(struct fa_load_opts){
				    .shared = z->shared,
				    .max_flows = z->max_flows,
				    .replay = true,
				    .progs = (z->tc_ingress ? FA_PROG_TC_INGRESS : FA_PROG_XDP) |
					     FA_PROG_TC_EGRESS,
				    .decap = z->decap ? FLOW_DECAP_INNER : FLOW_DECAP_OFF,
			    }, &skel);
	if (err)
		return err;
	z->skel = skel;
	z->run_hook[FLOW_DIR_INGRESS] = z->tc_ingress ? FA_REPLAY_TC_INGRESS :
							FA_REPLAY_XDP;
	z->run_hook[FLOW_DIR_EGRESS] = FA_REPLAY_TC_EGRESS;
	/* Replay never flips the epoch: everything goes to table 0. */
	z->flows_fd = bpf_map__fd(skel->maps.flows_0);
	z->overflow_fd = bpf_map__fd(skel->maps.flow_overflow);
	z->stats_fd = bpf_map__fd(skel->maps.flow_stats);
	z->tunnels_fd = bpf_map__fd(skel->maps.flow_tunnels);
	z->stats_ncpus = libbpf_num_possible_cpus();
	if (z->stats_ncpus < 0)
		return z->stats_ncpus;
	z->ncpus = z->shared ? 1 : z->stats_ncpus;
	z->flow_vals = calloc(z->ncpus, stride8(sizeof(struct flow_replay_value)));
	z->stats_vals = calloc(z->stats_ncpus, stride8(sizeof(struct flow_stats)));
	if (!z->flow_vals || !z->stats_vals)
		return -ENOMEM;

	/* Verdicts map to counters by their README names, and all of them must. */
	for (v = 1; v < REF_NR_VERDICTS; v++) {
		z->reason_counter[v] = -1;
		for (i = 0; i < FLOW_NR_COUNTERS; i++)
			if (fa_counter_kind(i) == FLOW_CK_REASON &&
			    !strcmp(fa_counter_name(i), ref_verdict_name(v)))
				z->reason_counter[v] = i;
		if (z->reason_counter[v] < 0) {
			fprintf(stderr, "fuzz_diff: the programs have no counter '%s'\n",
				ref_verdict_name(v));
			return -ENOENT;
		}
	}
	/*
	 * Every total and reason, and the informational counters whose
	 * meaning the README gives; one added later is reported, not judged.
	 */
	for (i = 0; i < FLOW_NR_COUNTERS; i++)
		z->checked[i] = fa_counter_kind(i) != FLOW_CK_INFO;
	z->checked[FLOW_C_FRAGMENTS] = z->checked[FLOW_C_OVERFLOW] = true;
	z->checked[FLOW_C_INSERT_FULL] = z->checked[FLOW_C_INSERT_NOMEM] = true;
	z->checked[FLOW_C_INSERT_OTHER] = z->checked[FLOW_C_GSO_FRAMES] = true;
	z->checked[FLOW_C_CUT_FRAMES] = z->checked[FLOW_C_FRAG_ORPHANS] = true;
	z->checked[FLOW_C_IPV6_JUMBOGRAMS] = true;
	z->checked[FLOW_C_TCP_DOFF_INVALID] = true;
	z->checked[FLOW_C_IPV4_LEN_FROM_FRAME] = true;
	/* tunnel_shared depends on which tunnel a flow's row noted first. */
	z->checked[FLOW_C_TUNNEL_DECAP] = z->checked[FLOW_C_TUNNEL_NESTED] = true;
	z->checked[FLOW_C_TUNNEL_UNDECODED] = true;

	for (i = 0; i < FLOW_NR_COUNTERS; i++) {
		bool known = false;

		if (fa_counter_kind(i) != FLOW_CK_REASON)
			continue;
		for (v = 1; v < REF_NR_VERDICTS; v++)
			known |= z->reason_counter[v] == i;
		if (!known) {
			fprintf(stderr, "fuzz_diff: the reference has no verdict for counter '%s'\n",
				fa_counter_name(i));
			return -ENOENT;
		}
	}
	return 0;
}

static int read_slot(struct fuzz *z, __u32 dir, struct snap *s)
{
	size_t stride = stride8(sizeof(struct flow_stats));
	struct flow_value ov[FLOW_NR_DIRS] = {};
	int cpu, i, err;

	if (bpf_map_lookup_elem(z->stats_fd, &dir, z->stats_vals))
		return -errno;
	memset(s, 0, sizeof(*s));
	for (cpu = 0; cpu < z->stats_ncpus; cpu++) {
		const struct flow_stats *st = (const void *)
			((const char *)z->stats_vals + cpu * stride);

		for (i = 0; i < FLOW_NR_COUNTERS; i++)
			s->c[i] += st->counters[i];
	}
	err = fa_overflow_read(z->overflow_fd, 0, 1, NULL, ov);
	if (err)
		return err;
	s->ov_packets = ov[dir].packets;
	s->ov_bytes = ov[dir].bytes;
	return 0;
}

static bool read_flow(struct fuzz *z, const struct flow_key *k,
		      struct flow_value *out)
{
	size_t stride = stride8(sizeof(struct flow_replay_value));
	int cpu;

	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(z->flows_fd, k, z->flow_vals))
		return false;
	for (cpu = 0; cpu < z->ncpus; cpu++)
		fa_value_merge_map(out, (const char *)z->flow_vals + cpu * stride,
				   NULL);
	return true;
}

static void make_key(const struct ref_result *ref, int hook, struct flow_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->src, ref->src, 16);
	memcpy(k->dst, ref->dst, 16);
	k->sport = htons(ref->sport);
	k->dport = htons(ref->dport);
	k->ifindex = TEST_IFINDEX;
	k->proto = ref->proto;
	k->ip_version = ref->ip_version;
	k->direction = hook;
	k->tunnel = ref->tunnel;
	if (ref->tunnel) {
		/* The tag of the tunnel the reference read, digested as the
		 * key's is (common/flow_tunnel.h). */
		struct flow_tunnel t = {
			.id = ref->tunnel_has_id ? ref->tunnel_id : 0,
			.type = ref->tunnel,
			.outer_ip_version = ref->outer_ip_version,
			.has_id = ref->tunnel_has_id,
		};

		memcpy(t.outer_src, ref->outer_src, 16);
		memcpy(t.outer_dst, ref->outer_dst, 16);
		k->tunnel_tag = flow_tunnel_tag(&t);
	}
}

static void fmt_key(const struct flow_key *k, char *out, size_t n)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int af = k->ip_version == 4 ? AF_INET : AF_INET6;
	size_t off = k->ip_version == 4 ? 12 : 0;

	inet_ntop(af, k->src + off, s, sizeof(s));
	inet_ntop(af, k->dst + off, d, sizeof(d));
	snprintf(out, n, "v%u proto %u %s:%u -> %s:%u (ifindex %u, %s%s)",
		 k->ip_version, k->proto, s, ntohs(k->sport), d, ntohs(k->dport),
		 k->ifindex, fa_direction_name(k->direction), k->tunnel ? ", tunnel set" : "");
}

static void fmt_ref(const struct ref_result *ref, char *out, size_t n)
{
	struct flow_key k;
	char ks[256];

	if (ref->verdict != REF_ACCOUNTED) {
		snprintf(out, n, "counter %s", ref_verdict_name(ref->verdict));
		return;
	}
	make_key(ref, 0, &k);
	fmt_key(&k, ks, sizeof(ks));
	/* The direction is the hook's; leave it out here. */
	*strstr(ks, " (ifindex") = 0;
	snprintf(out, n, "accounted: %s, %u bytes, tcp flags 0x%02x%s", ks,
		 ref->bytes, ref->tcp_flags,
		 ref->later_fragment ? ", later fragment" : "");
}

static void hexdump(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%s%02x%s", i % 16 ? "" : "    ", p[i],
		       i % 16 == 15 || i + 1 == n ? "\n" : " ");
	if (!n)
		printf("    (no bytes)\n");
}

/* The row this run wrote, if any: its last_seen is this frame's time. */
static void print_rows_stamped(struct fuzz *z, int hook, __u64 ts)
{
	struct fa_table t = {};
	char ks[256];
	size_t i;
	bool any = false;

	if (fa_table_read(z->flows_fd, NULL, &t, NULL, NULL))
		return;
	for (i = 0; i < t.n; i++) {
		if (t.rows[i].key.direction != hook || t.rows[i].val.last_seen_ns != ts)
			continue;
		fmt_key(&t.rows[i].key, ks, sizeof(ks));
		printf("  program's row: %s: %llu packets %llu bytes flags 0x%02x\n",
		       ks, (unsigned long long)t.rows[i].val.packets,
		       (unsigned long long)t.rows[i].val.bytes, t.rows[i].val.tcp_flags);
		any = true;
	}
	if (!any)
		printf("  program's row: none written by this frame\n");
	fa_table_free(&t);
}

/*
 * A run that disagreed may have inserted a key the model does not know of
 * (one at most). The count only matters near a full table, so it is read
 * back only then, not after every failure.
 */
static void resync_entries(struct fuzz *z)
{
	struct fa_table t = {};

	if (!fa_table_read(z->flows_fd, NULL, &t, NULL, NULL)) {
		z->entries = t.n;
		z->unsure = 0;
	}
	fa_table_free(&t);
}

static void dump_frame(pcap_dumper_t *d, const struct frame *f, __u64 ts)
{
	struct pcap_pkthdr h = {};

	h.ts.tv_sec = ts / 1000000000ull;
	h.ts.tv_usec = ts % 1000000000ull / 1000;
	h.caplen = f->cap;
	h.len = f->wire;
	pcap_dump((u_char *)d, &h, f->buf);
}

static void dump_bad_frame(struct fuzz *z, const struct frame *f, __u64 ts)
{
	if (!z->pcap_path)
		return;
	if (!z->bad_dump) {
		z->bad_dump = pcap_dump_open(z->pcap_dead, z->pcap_path);
		if (!z->bad_dump) {
			fprintf(stderr, "fuzz_diff: can't write '%s': %s\n",
				z->pcap_path, pcap_geterr(z->pcap_dead));
			z->pcap_path = NULL;
			return;
		}
	}
	dump_frame(z->bad_dump, f, ts);
	pcap_dump_flush(z->bad_dump);
}

struct problems {
	char text[2048];
	size_t used;
};

static void problem(struct problems *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void problem(struct problems *p, const char *fmt, ...)
{
	va_list ap;

	if (p->used >= sizeof(p->text))
		return;
	va_start(ap, fmt);
	p->used += vsnprintf(p->text + p->used, sizeof(p->text) - p->used, fmt, ap);
	va_end(ap);
	if (p->used < sizeof(p->text))
		p->used += snprintf(p->text + p->used, sizeof(p->text) - p->used, "\n");
}

/*
 * One frame through one hook. Returns true when the program did what the
 * reference says, and explains on stdout when it did not.
 */
/* A new tunnelled row's tunnel, as the program noted it in flow_tunnels. */
static void check_tunnel(struct fuzz *z, const struct flow_key *k,
			 const struct ref_result *ref, struct problems *pr)
{
	struct flow_tunnel t;

	if (bpf_map_lookup_elem(z->tunnels_fd, k, &t)) {
		problem(pr, "no flow_tunnels entry for the new row");
		return;
	}
	if (t.type != ref->tunnel || t.has_id != ref->tunnel_has_id ||
	    (ref->tunnel_has_id && t.id != ref->tunnel_id) ||
	    t.outer_ip_version != ref->outer_ip_version ||
	    memcmp(t.outer_src, ref->outer_src, 16) || memcmp(t.outer_dst, ref->outer_dst, 16))
		problem(pr, "tunnel noted: type %u id %u (has %u) outer v%u; want type %u id %u (has %u) outer v%u",
			t.type, t.id, t.has_id, t.outer_ip_version, ref->tunnel,
			ref->tunnel_id, ref->tunnel_has_id, ref->outer_ip_version);
}

static bool run_hook(struct fuzz *z, const struct frame *f,
		     const struct ref_result *ref, int hook, __u64 ts)
{
	static uint8_t in[FRAME_MAX + FA_FRAME_PAD], out[sizeof(in)];
	struct fa_frame fr = {
		.buf = in, .cap_len = f->cap, .wire_len = f->wire, .ts_ns = ts,
		.out = out, .out_size = sizeof(out),
	};
	struct fa_frame_ran ran;
	bool accounted = ref->verdict == REF_ACCOUNTED, had = false, ovf = false;
	struct flow_value before = {}, after = {};
	__u64 want[FLOW_NR_COUNTERS] = {};
	struct problems pr = { .used = 0 };
	struct flow_key key;
	struct snap now;
	int err, i;

	memcpy(in, f->buf, f->cap);
	if (accounted) {
		make_key(ref, hook, &key);
		had = read_flow(z, &key, &before);
		if (!had && z->unsure && z->entries + z->unsure >= z->max_flows)
			resync_entries(z);
	}

	/* Padded and run as flowacct replay runs a capture record. */
	err = fa_frame_run(z->skel, z->run_hook[hook], &fr, &ran);
	if (ran.run_len != f->cap)
		z->padded++;
	z->runs[hook]++;
	if (err && err != -EBADMSG) {
		problem(&pr, "BPF_PROG_TEST_RUN failed: %s", strerror(-err));
		z->runs[hook]--;	/* it never ran */
	} else {
		if (err)
			problem(&pr, "verdict %d, want %d", (int)ran.retval,
				z->run_hook[hook] == FA_REPLAY_XDP ? XDP_PASS :
								     TC_ACT_UNSPEC);
		if (ran.out_len != ran.run_len || memcmp(out, in, ran.run_len))
			problem(&pr, "frame came back changed (%u of %u bytes)",
				ran.out_len, ran.run_len);
	}

	if (read_slot(z, hook, &now)) {
		problem(&pr, "can't read flow_stats: %s", strerror(errno));
		now = z->last[hook];
	}

	want[FLOW_C_SEEN] = 1;
	want[FLOW_C_CUT_FRAMES] = f->cap < f->wire;
	if (accounted) {
		want[FLOW_C_ACCOUNTED] = 1;
		want[FLOW_C_ACCOUNTED_BYTES] = ref->bytes;
		want[FLOW_C_FRAGMENTS] = ref->later_fragment;
		want[FLOW_C_FRAG_ORPHANS] = z->frag_orphan;
		want[FLOW_C_IPV6_JUMBOGRAMS] = ref->jumbogram;
		want[FLOW_C_TCP_DOFF_INVALID] = ref->tcp_doff_invalid;
		want[FLOW_C_IPV4_LEN_FROM_FRAME] = ref->ipv4_len_from_frame;
		want[FLOW_C_TUNNEL_DECAP] = ref->tunnel != 0;
		want[FLOW_C_TUNNEL_NESTED] = ref->tunnel_nested;
		want[FLOW_C_TUNNEL_UNDECODED] = ref->tunnel_undecoded;
		if (!had && z->entries >= z->max_flows) {
			ovf = true;
			want[FLOW_C_OVERFLOW] = 1;
			want[FLOW_C_INSERT_FULL] = 1;
		}
	} else {
		want[z->reason_counter[ref->verdict]] = 1;
	}
	if (err)
		memset(want, 0, sizeof(want));
	for (i = 0; i < FLOW_NR_COUNTERS; i++) {
		__u64 d = now.c[i] - z->last[hook].c[i];

		if (!z->checked[i]) {
			z->unchecked_moves[i] += d;
			continue;
		}
		if (d != want[i])
			problem(&pr, "counter %s moved by %lld, want %llu",
				fa_counter_name(i), (long long)d,
				(unsigned long long)want[i]);
	}
	if (now.ov_packets - z->last[hook].ov_packets != (ovf && !err) ||
	    now.ov_bytes - z->last[hook].ov_bytes != (ovf && !err ? ref->bytes : 0))
		problem(&pr, "overflow row moved by %lld packets %lld bytes, want %d and %u",
			(long long)(now.ov_packets - z->last[hook].ov_packets),
			(long long)(now.ov_bytes - z->last[hook].ov_bytes),
			ovf, ovf ? ref->bytes : 0);
	z->last[hook] = now;

	if (accounted && !err && !ovf) {
		if (!read_flow(z, &key, &after)) {
			problem(&pr, "no row for the reference's key");
		} else {
			if (after.packets != before.packets + 1 ||
			    after.bytes != before.bytes + ref->bytes)
				problem(&pr, "row went from %llu packets %llu bytes to %llu %llu, want +1 +%u",
					(unsigned long long)before.packets,
					(unsigned long long)before.bytes,
					(unsigned long long)after.packets,
					(unsigned long long)after.bytes, ref->bytes);
			if (after.tcp_flags != (before.tcp_flags | ref->tcp_flags))
				problem(&pr, "row flags 0x%02x, want 0x%02x | 0x%02x",
					after.tcp_flags, before.tcp_flags, ref->tcp_flags);
			if (after.last_seen_ns != ts ||
			    after.first_seen_ns != (had ? before.first_seen_ns : ts))
				problem(&pr, "row times %llu..%llu, want %llu..%llu",
					(unsigned long long)after.first_seen_ns,
					(unsigned long long)after.last_seen_ns,
					(unsigned long long)(had ? before.first_seen_ns : ts),
					(unsigned long long)ts);
			if (!had)
				z->entries++;
			if (!had && ref->tunnel)
				check_tunnel(z, &key, ref, &pr);
		}
	}
	if (ovf && !err)
		z->overflow_runs++, z->overflows_seen++;

	if (!pr.used) {
		z->passed++;
		return true;
	}

	z->failed++;
	z->bad_runs[hook]++;
	if (z->printed < z->max_print) {
		char rs[512], ms[512];

		z->printed++;
		fmt_ref(ref, rs, sizeof(rs));
		describe_muts(f->muts, ms, sizeof(ms));
		printf("DISAGREE frame %llu through %s (mutations: %s): %zu bytes captured, %llu on the wire%s\n",
		       (unsigned long long)z->frames, hook_name(z, hook), ms, f->cap,
		       (unsigned long long)f->wire,
		       ran.run_len != f->cap ? ", run padded" : "");
		printf("  reference: %s\n", rs);
		printf("  program:   verdict %d, and where it differs:\n",
		       (int)ran.retval);
		for (const char *p = pr.text, *e; *p; p = e + 1) {
			e = strchr(p, '\n');
			printf("    %.*s\n", (int)(e - p), p);
		}
		print_rows_stamped(z, hook, ts);
		printf("  frame:\n");
		hexdump(f->buf, f->cap);
	}
	z->unsure++;
	return false;
}

/*
 * The books: every packet in seen is in accounted or one reason, the
 * program saw every run, and the rows (with what was cleared and the
 * overflow row) hold exactly the accounted packets and bytes.
 */
static void check_books(struct fuzz *z, struct fa_table *t)
{
	__u64 rows_p[FLOW_NR_DIRS] = {}, rows_b[FLOW_NR_DIRS] = {};
	struct fa_table own = {};
	bool ok = true;
	size_t r;
	int dir, i;

	if (!t) {
		t = &own;
		if (fa_table_read(z->flows_fd, NULL, t, NULL, NULL)) {
			printf("BOOKS: can't read the flow table\n");
			z->books_checks++;
			z->books_failed++;
			z->failed++;
			return;
		}
	}
	for (r = 0; r < t->n; r++) {
		dir = t->rows[r].key.direction;
		if (dir >= FLOW_NR_DIRS) {
			printf("BOOKS: row with direction %d\n", dir);
			ok = false;
			continue;
		}
		rows_p[dir] += t->rows[r].val.packets;
		rows_b[dir] += t->rows[r].val.bytes;
	}
	for (dir = 0; dir < FLOW_NR_DIRS; dir++) {
		const __u64 *c = z->last[dir].c;
		__u64 reasons = 0;

		for (i = 0; i < FLOW_NR_COUNTERS; i++)
			if (fa_counter_kind(i) == FLOW_CK_REASON)
				reasons += c[i];
		if (c[FLOW_C_SEEN] != c[FLOW_C_ACCOUNTED] + reasons) {
			printf("BOOKS %s: seen %llu != accounted %llu + reasons %llu\n",
			       hook_name(z, dir), (unsigned long long)c[FLOW_C_SEEN],
			       (unsigned long long)c[FLOW_C_ACCOUNTED],
			       (unsigned long long)reasons);
			ok = false;
		}
		if (c[FLOW_C_SEEN] != z->runs[dir]) {
			printf("BOOKS %s: seen %llu, but %llu frames were run\n",
			       hook_name(z, dir), (unsigned long long)c[FLOW_C_SEEN],
			       (unsigned long long)z->runs[dir]);
			ok = false;
		}
		if (rows_p[dir] + z->cleared_packets[dir] + z->last[dir].ov_packets !=
			    c[FLOW_C_ACCOUNTED] ||
		    rows_b[dir] + z->cleared_bytes[dir] + z->last[dir].ov_bytes !=
			    c[FLOW_C_ACCOUNTED_BYTES]) {
			printf("BOOKS %s: rows %llu packets %llu bytes (+ cleared %llu %llu, overflow %llu %llu) != accounted %llu %llu\n",
			       hook_name(z, dir), (unsigned long long)rows_p[dir],
			       (unsigned long long)rows_b[dir],
			       (unsigned long long)z->cleared_packets[dir],
			       (unsigned long long)z->cleared_bytes[dir],
			       (unsigned long long)z->last[dir].ov_packets,
			       (unsigned long long)z->last[dir].ov_bytes,
			       (unsigned long long)c[FLOW_C_ACCOUNTED],
			       (unsigned long long)c[FLOW_C_ACCOUNTED_BYTES]);
			ok = false;
		}
	}
	if (t->n != z->entries && !z->unsure) {
		printf("BOOKS: the table has %zu rows, %llu were inserted\n", t->n,
		       (unsigned long long)z->entries);
		ok = false;
	}
	z->entries = t->n;
	z->unsure = 0;
	z->books_checks++;
	if (ok) {
		z->passed++;
	} else {
		z->books_failed++;
		z->failed++;
	}
	fa_table_free(&own);
}

/* Empties the table after balancing the books on what it held. */
static void clear_flows(struct fuzz *z)
{
	struct fa_table t = {};
	struct flow_key *keys;
	__u32 count;
	size_t r;

	if (fa_table_read(z->flows_fd, NULL, &t, NULL, NULL)) {
		fprintf(stderr, "fuzz_diff: can't read the flow table\n");
		exit(2);
	}
	check_books(z, &t);
	keys = calloc(t.n ? t.n : 1, sizeof(*keys));
	if (!keys)
		exit(2);
	for (r = 0; r < t.n; r++) {
		int dir = t.rows[r].key.direction;

		keys[r] = t.rows[r].key;
		if (dir < FLOW_NR_DIRS) {
			z->cleared_packets[dir] += t.rows[r].val.packets;
			z->cleared_bytes[dir] += t.rows[r].val.bytes;
		}
	}
	count = t.n;
	if (count && fa_table_delete(z->flows_fd, keys, count))
		for (r = 0; r < t.n; r++)
			bpf_map_delete_elem(z->flows_fd, &keys[r]);
	free(keys);
	fa_table_free(&t);
	z->entries = 0;
	/* The daemon forgets a tunnel with its flow: so does the model. */
	if (z->decap) {
		struct flow_key k;

		while (!bpf_map_get_next_key(z->tunnels_fd, NULL, &k))
			bpf_map_delete_elem(z->tunnels_fd, &k);
	}
	z->overflow_runs = 0;
	z->clears++;
}

/* ---- tshark sample ---- */

static void sample_frame(struct fuzz *z, const struct frame *f,
			 const struct ref_result *ref, __u64 ts)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	struct pcap_pkthdr h = {};
	int af = ref->ip_version == 4 ? AF_INET : AF_INET6;
	size_t off = ref->ip_version == 4 ? 12 : 0;

	/*
	 * Only where tshark's fields mean what ours do: whole frames, no
	 * fragments (with defragmentation off tshark stops at them), no IPv6
	 * extension headers (ipv6.nxt names the first one), no bad TCP data
	 * offset (tshark stops at it, before the flags, and where the offset
	 * runs past the segment it names no ports either), no IPv6 payload
	 * length 0 (tshark does not take BIG TCP's frame length for it).
	 */
	if (!z->sample_dump || ref->verdict != REF_ACCOUNTED || ref->fragmented ||
	    ref->ext_headers || ref->tcp_doff_invalid || ref->jumbogram ||
	    f->cap != f->wire)
		return;
	if (z->sample_eligible++ % z->sample_every)
		return;
	h.ts.tv_sec = ts / 1000000000ull;
	h.ts.tv_usec = ts % 1000000000ull / 1000;
	h.caplen = h.len = f->cap;
	pcap_dump((u_char *)z->sample_dump, &h, f->buf);
	z->sample_written++;
	inet_ntop(af, ref->src + off, s, sizeof(s));
	inet_ntop(af, ref->dst + off, d, sizeof(d));
	fprintf(z->sample_expect,
		"{\"n\":%llu,\"frame\":%llu,\"ip_version\":%u,\"src\":\"%s\",\"dst\":\"%s\","
		"\"proto\":%u,\"sport\":%u,\"dport\":%u,\"bytes\":%u,\"tcp_flags\":%u,"
		"\"transport\":%s}\n",
		(unsigned long long)z->sample_written, (unsigned long long)z->frames,
		ref->ip_version, s, d, ref->proto, ref->sport, ref->dport, ref->bytes,
		ref->tcp_flags, ref->transport_parsed ? "true" : "false");
}

static int open_sample(struct fuzz *z, const char *path)
{
	char exp[4096];

	z->sample_dump = pcap_dump_open(z->pcap_dead, path);
	if (!z->sample_dump) {
		fprintf(stderr, "fuzz_diff: can't write '%s': %s\n", path,
			pcap_geterr(z->pcap_dead));
		return -1;
	}
	snprintf(exp, sizeof(exp), "%s.expected.jsonl", path);
	z->sample_expect = fopen(exp, "w");
	if (!z->sample_expect) {
		fprintf(stderr, "fuzz_diff: can't write '%s': %s\n", exp, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- the model of flow_frags ---- */

static void clear_frags(struct fuzz *z)
{
	int fd = bpf_map__fd(z->skel->maps.flow_frags);
	struct frag_key k;

	while (!bpf_map_get_next_key(fd, NULL, &k))
		if (bpf_map_delete_elem(fd, &k)) {
			fprintf(stderr, "fuzz_diff: can't empty flow_frags: %s\n",
				strerror(errno));
			exit(2);
		}
	z->n_frags = 0;
	z->frag_clears++;
}

static bool same_datagram(const struct frag_model *m, const struct ref_result *ref)
{
	return m->ipver == ref->ip_version && m->id == ref->frag_id &&
	       m->frag_proto == ref->frag_proto && m->tunnel == ref->tunnel &&
	       !memcmp(m->src, ref->src, 16) && !memcmp(m->dst, ref->dst, 16);
}

/*
 * README, "Fragments": an accounted first fragment leaves its flow for the
 * later fragments of its datagram, the newest first fragment winning; a
 * later fragment takes that flow, or is an orphan on ports 0.
 */
static void model_frags(struct fuzz *z, struct ref_result *ref)
{
	struct frag_model *m = NULL;
	size_t i;

	z->frag_orphan = false;
	if (ref->verdict != REF_ACCOUNTED ||
	    (!ref->first_fragment && !ref->later_fragment))
		return;
	for (i = 0; i < z->n_frags; i++)
		if (same_datagram(&z->frags[i], ref)) {
			m = &z->frags[i];
			break;
		}
	if (ref->later_fragment) {
		if (m) {
			ref->proto = m->flow_proto;
			ref->sport = m->sport;
			ref->dport = m->dport;
			z->frags_attributed++;
		} else {
			z->frag_orphan = true;
			z->frag_orphans++;
		}
		return;
	}
	remember_first(ref);
	if (!m) {
		if (z->n_frags == FRAG_MODEL_MAX)
			clear_frags(z);
		m = &z->frags[z->n_frags++];
		m->ipver = ref->ip_version;
		m->tunnel = ref->tunnel;
		m->frag_proto = ref->frag_proto;
		memcpy(m->src, ref->src, 16);
		memcpy(m->dst, ref->dst, 16);
		m->id = ref->frag_id;
	}
	m->flow_proto = ref->proto;
	m->sport = ref->sport;
	m->dport = ref->dport;
}

/* ---- driving ---- */

static void run_frame(struct fuzz *z, struct frame *f, __u64 check_every)
{
	struct ref_result ref;
	__u64 ts = BASE_TS_NS + z->frames * 1000;	/* whole µs: pcap keeps it */
	bool bad = false;
	int hook, m;

	if (z->entries >= z->max_flows && z->overflow_runs >= OVERFLOW_RUNS_PER_FILL)
		clear_flows(z);

	if (z->decap) {
		ref_parse_decap(f->buf, f->cap, f->wire, NULL, 0, &ref);
		z->tunnels[ref.tunnel & 7]++;
		z->nested += ref.tunnel_nested;
		z->undecoded += ref.tunnel_undecoded;
	} else {
		ref_parse(f->buf, f->cap, f->wire, &ref);
	}
	model_frags(z, &ref);
	z->verdicts[ref.verdict]++;
	if (ref.verdict == REF_ACCOUNTED) {
		z->accounted_bytes += ref.bytes;
		z->later_fragments += ref.later_fragment;
		z->with_ext += ref.ext_headers > 0;
		z->jumbograms += ref.jumbogram;
		z->tso_frames += ref.ipv4_len_from_frame;
		z->bad_doffs += ref.tcp_doff_invalid;
	}
	z->vlan_hist[ref.vlan_tags < 3 ? ref.vlan_tags : 2]++;
	z->cut += f->cap < f->wire;
	for (m = 0; m < M_NR; m++)
		z->mut_hist[m] += !!(f->muts & (1u << m));
	sample_frame(z, f, &ref, ts);
	if (z->save_dump)
		dump_frame(z->save_dump, f, ts);

	for (hook = 0; hook < FLOW_NR_DIRS; hook++)
		bad |= !run_hook(z, f, &ref, hook, ts);
	if (bad) {
		dump_bad_frame(z, f, ts);
		/* The program may have kept a first fragment the model did not. */
		clear_frags(z);
	}
	z->frames++;
	if (check_every && z->frames % check_every == 0)
		check_books(z, NULL);
}

/* The verdicts only --decap inner can give. */
static bool verdict_is_tunnels(int v)
{
	return v == REF_TRUNC_TUNNEL || v == REF_TRUNC_MPLS || v == REF_MPLS_TOO_DEEP;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: fuzz_diff [--frames N] [--seed S] [--map percpu|shared]\n"
		"                 [--pcap FILE] [--tshark-sample FILE] [--sample-every K]\n"
		"                 [--max-flows N] [--check-every N] [--max-print N]\n"
		"                 [--save FILE] [--ingress xdp|tc] [--decap]\n"
		"Generates and damages frames from a seeded PRNG, runs each through the\n"
		"XDP and TC programs and compares what they count with the reference\n"
		"parser. Disagreements are printed and appended to --pcap FILE;\n"
		"--save FILE keeps every frame, --tshark-sample FILE every K-th\n"
		"accounted one tshark can judge, with FILE.expected.jsonl.\n");
}

static int parse_num(const char *opt, const char *s, __u64 min, __u64 max,
		     __u64 *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || !*s || *end || *s == '-' || v < min || v > max) {
		fprintf(stderr, "fuzz_diff: bad value for --%s: '%s'\n", opt, s);
		return -1;
	}
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "frames", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "map", required_argument, NULL, 'm' },
		{ "pcap", required_argument, NULL, 'p' },
		{ "tshark-sample", required_argument, NULL, 't' },
		{ "sample-every", required_argument, NULL, 'k' },
		{ "max-flows", required_argument, NULL, 'f' },
		{ "check-every", required_argument, NULL, 'c' },
		{ "max-print", required_argument, NULL, 'P' },
		{ "save", required_argument, NULL, 'S' },
		{ "ingress", required_argument, NULL, 'i' },
		{ "decap", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	static struct frame base, f;
	struct fuzz z = { .max_flows = FLOW_DEFAULT_MAX_FLOWS, .max_print = 20,
			  .sample_every = 5 };
	__u64 frames = 100000, seed = 1, check_every = 10000, v;
	const char *sample_path = NULL, *save_path = NULL;
	struct rng rng;
	double t0, secs;
	int c, err, v_i, missing = 0;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_num("frames", optarg, 1, UINT64_MAX / 2, &frames))
				return 2;
			break;
		case 's':
			if (parse_num("seed", optarg, 0, UINT64_MAX, &seed))
				return 2;
			break;
		case 'm':
			if (!strcmp(optarg, "percpu")) {
				z.shared = false;
			} else if (!strcmp(optarg, "shared")) {
				z.shared = true;
			} else {
				fprintf(stderr, "fuzz_diff: --map is percpu or shared\n");
				return 2;
			}
			break;
		case 'p':
			z.pcap_path = optarg;
			break;
		case 'i':
			if (strcmp(optarg, "xdp") && strcmp(optarg, "tc")) {
				fprintf(stderr, "fuzz_diff: --ingress is xdp or tc\n");
				return 2;
			}
			z.tc_ingress = !strcmp(optarg, "tc");
			break;
		case 'd':
			z.decap = true;
			break;
		case 't':
			sample_path = optarg;
			break;
		case 'k':
			if (parse_num("sample-every", optarg, 1, 1000000, &v))
				return 2;
			z.sample_every = v;
			break;
		case 'f':
			if (parse_num("max-flows", optarg, 1, 1u << 24, &v))
				return 2;
			z.max_flows = v;
			break;
		case 'c':
			if (parse_num("check-every", optarg, 0, UINT64_MAX, &check_every))
				return 2;
			break;
		case 'P':
			if (parse_num("max-print", optarg, 0, 1000000, &v))
				return 2;
			z.max_print = v;
			break;
		case 'S':
			save_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	libbpf_set_print(quiet);
	z.pcap_dead = pcap_open_dead(DLT_EN10MB, 65535);
	if (!z.pcap_dead)
		return 2;
	if (sample_path && open_sample(&z, sample_path))
		return 2;
	if (save_path) {
		z.save_dump = pcap_dump_open(z.pcap_dead, save_path);
		if (!z.save_dump) {
			fprintf(stderr, "fuzz_diff: can't write '%s': %s\n", save_path,
				pcap_geterr(z.pcap_dead));
			return 2;
		}
	}
	err = load(&z);
	if (err) {
		fprintf(stderr, "fuzz_diff: can't load the BPF programs: %s (V=1 shows libbpf's log)\n",
			strerror(-err));
		return 2;
	}
	pin_to_current_cpu();
	for (c = 0; c < FLOW_NR_DIRS; c++)
		if (read_slot(&z, c, &z.last[c])) {
			fprintf(stderr, "fuzz_diff: can't read flow_stats\n");
			return 2;
		}

	rng.s = seed;
	t0 = now_s();
	while (z.frames < frames) {
		bool wrapped = false;

		gen_frame(&rng, &base);
		if (z.decap && chance(&rng, 85)) {
			/* The inner frame damaged as usual, then (maybe) the outer. */
			if (chance(&rng, 50))
				mutate(&rng, &base, true);
			wrap_tunnel(&rng, &base);
			if (chance(&rng, 5))
				wrap_tunnel(&rng, &base);
			wrapped = true;
		}
		if (below(&rng, 256) == 0) {
			/* Every cut of one frame, as a snaplen and as a short frame. */
			size_t cut, end = header_end(&base) + 8;

			if (chance(&rng, 50))
				mutate(&rng, &base, false);
			if (end > base.len)
				end = base.len;
			for (cut = 0; cut <= end && z.frames < frames; cut++) {
				f = base;
				f.cap = cut;
				f.wire = base.len;
				f.muts |= 1u << M_TRUNC;
				run_frame(&z, &f, check_every);
				if (z.frames >= frames)
					break;
				f.wire = cut;
				f.muts = (f.muts & ~(1u << M_TRUNC)) | 1u << M_SHORT;
				run_frame(&z, &f, check_every);
			}
			continue;
		}
		if (chance(&rng, wrapped ? 25 : 75))
			mutate(&rng, &base, true);
		run_frame(&z, &base, check_every);
	}
	check_books(&z, NULL);
	secs = now_s() - t0;

	printf("fuzz_diff: seed %llu, map %s, max-flows %u: %llu frames through xdp and tc in %.2f s (%.1f us per frame)\n",
	       (unsigned long long)seed, z.shared ? "shared" : "percpu", z.max_flows,
	       (unsigned long long)z.frames, secs, secs * 1e6 / (double)z.frames);
	printf("reference verdicts:\n");
	for (v_i = 0; v_i < REF_NR_VERDICTS; v_i++) {
		printf("  %-18s %10llu\n", ref_verdict_name(v_i),
		       (unsigned long long)z.verdicts[v_i]);
		missing += !z.verdicts[v_i] && (z.decap || !verdict_is_tunnels(v_i));
	}
	printf("  accounted_bytes    %10llu\n", (unsigned long long)z.accounted_bytes);
	printf("  (accounted: %llu later fragments, %llu with IPv6 extension headers, "
	       "%llu jumbograms, %llu IPv4 of total length 0, %llu with a bad TCP data offset)\n",
	       (unsigned long long)z.later_fragments, (unsigned long long)z.with_ext,
	       (unsigned long long)z.jumbograms, (unsigned long long)z.tso_frames,
	       (unsigned long long)z.bad_doffs);
	printf("frames: %llu cut by a snaplen, %llu runs padded, VLAN tags 0/1/2+: %llu/%llu/%llu\n",
	       (unsigned long long)z.cut, (unsigned long long)z.padded,
	       (unsigned long long)z.vlan_hist[0], (unsigned long long)z.vlan_hist[1],
	       (unsigned long long)z.vlan_hist[2]);
	printf("mutations:");
	for (v_i = 0; v_i < M_NR; v_i++)
		printf(" %s %llu", mut_names[v_i], (unsigned long long)z.mut_hist[v_i]);
	printf("\n");
	if (missing) {
		printf("coverage: %d verdicts never seen:", missing);
		for (v_i = 0; v_i < REF_NR_VERDICTS; v_i++)
			if (!z.verdicts[v_i] && (z.decap || !verdict_is_tunnels(v_i)))
				printf(" %s", ref_verdict_name(v_i));
		printf("\n");
	} else {
		printf("coverage: all %d verdicts seen\n",
		       z.decap ? REF_NR_VERDICTS : REF_NR_VERDICTS - 3);
	if (z.decap)
		printf("tunnels: vxlan %llu, geneve %llu, gre %llu, erspan %llu, ipip %llu, mpls %llu; "
		       "%llu nested, %llu undecoded\n",
		       (unsigned long long)z.tunnels[1], (unsigned long long)z.tunnels[2],
		       (unsigned long long)z.tunnels[3], (unsigned long long)z.tunnels[4],
		       (unsigned long long)z.tunnels[5], (unsigned long long)z.tunnels[6],
		       (unsigned long long)z.nested, (unsigned long long)z.undecoded);
	}
	printf("counters not checked (the reference does not model them):");
	for (v_i = 0; v_i < FLOW_NR_COUNTERS; v_i++)
		if (!z.checked[v_i])
			printf(" %s %llu", fa_counter_name(v_i),
			       (unsigned long long)z.unchecked_moves[v_i]);
	printf("\n");
	printf("fragments: %llu later ones attributed to their first, %llu orphans, "
	       "%llu clears of flow_frags\n", (unsigned long long)z.frags_attributed,
	       (unsigned long long)z.frag_orphans, (unsigned long long)z.frag_clears);
	printf("table: %llu clears, %llu runs into the overflow row\n",
	       (unsigned long long)z.clears, (unsigned long long)z.overflows_seen);
	printf("books: %llu checks, %llu unbalanced\n",
	       (unsigned long long)z.books_checks, (unsigned long long)z.books_failed);
	if (z.sample_dump)
		printf("tshark sample: %llu frames in %s\n",
		       (unsigned long long)z.sample_written, sample_path);
	printf("disagreements: %llu (%s %llu, tc %llu)%s%s\n",
	       (unsigned long long)(z.failed - z.books_failed),
	       hook_name(&z, FLOW_DIR_INGRESS),
	       (unsigned long long)z.bad_runs[FLOW_DIR_INGRESS],
	       (unsigned long long)z.bad_runs[FLOW_DIR_EGRESS],
	       z.bad_dump ? ", frames in " : "", z.bad_dump ? z.pcap_path : "");
	printf("%llu passed, %llu failed\n", (unsigned long long)z.passed,
	       (unsigned long long)z.failed);

	if (z.bad_dump)
		pcap_dump_close(z.bad_dump);
	if (z.sample_dump)
		pcap_dump_close(z.sample_dump);
	if (z.save_dump)
		pcap_dump_close(z.save_dump);
	if (z.sample_expect)
		fclose(z.sample_expect);
	pcap_close(z.pcap_dead);
	flowacct_bpf__destroy(z.skel);
	free(z.flow_vals);
	free(z.stats_vals);
	return z.failed ? 1 : 0;
}
