// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Hand-built frames through BPF_PROG_TEST_RUN, for what captures cannot
 * carry: GSO frames at TC (gso_segs in the test context), BIG TCP's and
 * TSO's zero IP lengths, XDP multi-buffer frames, and the live (not replay) length checks.
 * Each case also checks that the verdict is "pass", that the frame comes
 * back unchanged, and that the books balance.
 *
 * Expected packets and bytes are worked out here from how the frame was
 * built (header sizes, payload, segment count), never from the programs.
 * Prints TAP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "libflowacct.h"
#include "flowacct.skel.h"

#define MAX_FRAME (17 * 4096)

struct tcase {
	const char *name;
	enum flow_direction hook;
	__u32 gso_segs;		/* TC context; 0: not GSO */
	__u32 gso_size;
	int reason;		/* expected counter, or 0 for "accounted" */
	__u64 packets;		/* expected, when accounted */
	__u64 bytes;
	__u16 sport, dport;
	int info;		/* an informational counter the packets also go to */
};

static int tests_run, tests_failed;

/*
 * Non-zero: the programs run in the replay configuration, on a frame that
 * was this long on the wire (only its head is run), as a capture cut by a
 * snaplen. For GSO frames longer than a test run can hold.
 */
static __u64 replay_wire;

static void ok(bool cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	tests_run++;
	if (!cond)
		tests_failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", tests_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* ---- frame builders: each returns the bytes it wrote ---- */

static size_t put_eth(unsigned char *p, __u16 ethertype)
{
	memset(p, 0x02, 12);
	p[12] = ethertype >> 8;
	p[13] = ethertype & 0xff;
	return ETH_HLEN;
}

static size_t put_ipv4(unsigned char *p, __u8 proto, __u16 tot_len)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = tot_len >> 8;
	p[3] = tot_len & 0xff;
	p[8] = 64;
	p[9] = proto;
	p[12] = 192, p[13] = 0, p[14] = 2, p[15] = 1;
	p[16] = 192, p[17] = 0, p[18] = 2, p[19] = 2;
	return 20;
}

static size_t put_ipv6(unsigned char *p, __u8 nexthdr, __u16 plen)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	p[4] = plen >> 8;
	p[5] = plen & 0xff;
	p[6] = nexthdr;
	p[7] = 64;
	p[8] = 0x20, p[9] = 0x01, p[10] = 0x0d, p[11] = 0xb8, p[23] = 1;
	p[24] = 0x20, p[25] = 0x01, p[26] = 0x0d, p[27] = 0xb8, p[39] = 2;
	return 40;
}

/* TCP header of @hlen bytes (options are NOPs) with ACK|PSH. */
static size_t put_tcp(unsigned char *p, __u16 sport, __u16 dport, size_t hlen)
{
	memset(p, 0, hlen);
	memset(p + 20, 1, hlen - 20);
	p[0] = sport >> 8, p[1] = sport & 0xff;
	p[2] = dport >> 8, p[3] = dport & 0xff;
	p[12] = (hlen / 4) << 4;
	p[13] = 0x18;
	return hlen;
}

/* RFC 2675: a hop-by-hop header with only the Jumbo Payload option. */
static size_t put_jumbo_hbh(unsigned char *p, __u8 nexthdr, __u32 len)
{
	p[0] = nexthdr;
	p[1] = 0;
	p[2] = 0xc2;
	p[3] = 4;
	p[4] = len >> 24, p[5] = len >> 16, p[6] = len >> 8, p[7] = len;
	return 8;
}

static size_t put_udp(unsigned char *p, __u16 sport, __u16 dport, __u16 len)
{
	p[0] = sport >> 8, p[1] = sport & 0xff;
	p[2] = dport >> 8, p[3] = dport & 0xff;
	p[4] = len >> 8, p[5] = len & 0xff;
	p[6] = p[7] = 0;
	return 8;
}

static size_t put_payload(unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = i * 7;
	return n;
}

/* ---- running ---- */

/* Map writes persist across test runs: every case starts from empty maps. */
static void reset_maps(struct flowacct_bpf *skel)
{
	int fd = bpf_map__fd(skel->maps.flows_0);
	static struct flow_stats zero[256];
	static struct flow_map_value zero_ov[256];
	struct flow_key key, next;
	__u32 i;

	while (!bpf_map_get_next_key(fd, NULL, &next)) {
		key = next;
		bpf_map_delete_elem(fd, &key);
	}
	for (i = 0; i < FLOW_NR_DIRS; i++)
		bpf_map_update_elem(bpf_map__fd(skel->maps.flow_stats), &i,
				    zero, BPF_ANY);
	for (i = 0; i < FLOW_NR_OVERFLOW_SLOTS; i++)
		bpf_map_update_elem(bpf_map__fd(skel->maps.flow_overflow), &i,
				    zero_ov, BPF_ANY);
}

static void run_case(struct flowacct_bpf *skel, const char *mode,
		     const struct tcase *tc, unsigned char *frame, size_t len)
{
	static unsigned char out[MAX_FRAME];
	struct __sk_buff skb_ctx = {};
	struct fa_frame f = {
		.buf = frame, .cap_len = len, .wire_len = replay_wire, .ts_ns = 1,
		.out = out, .out_size = sizeof(out),
	};
	struct fa_frame_ran ran;
	struct fa_hook_stats st[FLOW_NR_DIRS] = {};
	struct fa_table t = {};
	struct fa_tick_clock clock;
	const __u64 *c;
	__u64 reasons = 0;
	__u32 expect_ret;
	int hook, err, i;

	reset_maps(skel);
	if (tc->hook == FLOW_DIR_EGRESS) {
		hook = FA_REPLAY_TC_EGRESS;
		skb_ctx.gso_segs = tc->gso_segs;
		skb_ctx.gso_size = tc->gso_size;
		f.ctx = &skb_ctx;
		f.ctx_size = sizeof(skb_ctx);
		expect_ret = (__u32)TC_ACT_UNSPEC;
	} else {
		hook = FA_REPLAY_XDP;
		expect_ret = XDP_PASS;
	}

	/* The runner replay, the fuzzer and these tests share. */
	err = fa_frame_run(skel, hook, &f, &ran);
	ok(!err || err == -EBADMSG, "%s %s: test run (%s)", mode, tc->name,
	   err && err != -EBADMSG ? strerror(-err) : "ran");
	if (err && err != -EBADMSG)
		return;
	ok(!err, "%s %s: verdict %d, want %d", mode,
	   tc->name, (int)ran.retval, (int)expect_ret);
	ok(ran.out_len == len && !memcmp(out, frame, len),
	   "%s %s: frame comes back unchanged (%u of %zu bytes)", mode,
	   tc->name, ran.out_len, len);

	if ((!skel->rodata->flow_cfg.replay && fa_tick_clock_read(&clock)) ||
	    fa_table_read(bpf_map__fd(skel->maps.flows_0),
			  skel->rodata->flow_cfg.replay ? NULL : &clock, &t,
			  NULL, NULL) ||
	    fa_stats_read(bpf_map__fd(skel->maps.flow_stats), 0, st)) {
		ok(false, "%s %s: read maps", mode, tc->name);
		return;
	}
	c = st[tc->hook].c;
	for (i = 0; i < FLOW_NR_COUNTERS; i++)
		if (fa_counter_kind(i) == FLOW_CK_REASON)
			reasons += c[i];
	ok(c[FLOW_C_SEEN] == c[FLOW_C_ACCOUNTED] + reasons,
	   "%s %s: seen %llu = accounted %llu + reasons %llu", mode, tc->name,
	   (unsigned long long)c[FLOW_C_SEEN],
	   (unsigned long long)c[FLOW_C_ACCOUNTED],
	   (unsigned long long)reasons);

	if (tc->reason) {
		ok(c[tc->reason] == c[FLOW_C_SEEN] && c[FLOW_C_SEEN] &&
		   t.n == 0, "%s %s: counted as %s (%llu of %llu), %zu rows",
		   mode, tc->name, fa_counter_name(tc->reason),
		   (unsigned long long)c[tc->reason],
		   (unsigned long long)c[FLOW_C_SEEN], t.n);
	} else {
		bool one = t.n == 1;

		ok(one && t.rows[0].val.packets == tc->packets &&
		   t.rows[0].val.bytes == tc->bytes &&
		   ntohs(t.rows[0].key.sport) == tc->sport &&
		   ntohs(t.rows[0].key.dport) == tc->dport &&
		   t.rows[0].key.direction == tc->hook,
		   "%s %s: one flow %u->%u with %llu packets %llu bytes (got %zu rows: %llu packets %llu bytes)",
		   mode, tc->name, tc->sport, tc->dport,
		   (unsigned long long)tc->packets,
		   (unsigned long long)tc->bytes, t.n,
		   one ? (unsigned long long)t.rows[0].val.packets : 0,
		   one ? (unsigned long long)t.rows[0].val.bytes : 0);
		ok(c[FLOW_C_SEEN] == tc->packets &&
		   c[FLOW_C_ACCOUNTED_BYTES] == tc->bytes &&
		   c[FLOW_C_GSO_FRAMES] == (tc->packets > 1),
		   "%s %s: counters seen %llu bytes %llu gso_frames %llu",
		   mode, tc->name, (unsigned long long)c[FLOW_C_SEEN],
		   (unsigned long long)c[FLOW_C_ACCOUNTED_BYTES],
		   (unsigned long long)c[FLOW_C_GSO_FRAMES]);
		for (i = 0; i < FLOW_NR_COUNTERS; i++)
			if (fa_counter_kind(i) == FLOW_CK_INFO &&
			    i != FLOW_C_GSO_FRAMES &&
			    !(replay_wire && i == FLOW_C_CUT_FRAMES) &&
			    c[i] != (i == tc->info ? tc->packets : 0))
				break;
		ok(i == FLOW_NR_COUNTERS, "%s %s: informational counters: %s",
		   mode, tc->name, i == FLOW_NR_COUNTERS ? "as expected" :
		   fa_counter_name(i));
	}
	fa_table_free(&t);
}

static void run_all(struct flowacct_bpf *skel, const char *mode)
{
	static unsigned char f[MAX_FRAME];
	size_t n, ip, l4, pay;

	/* TCP/IPv4 TSO: 3 segments of 1000 bytes, 40 header bytes each. */
	pay = 3000;
	n = put_eth(f, ETH_P_IP);
	n += put_ipv4(f + n, IPPROTO_TCP, 20 + 20 + pay);
	n += put_tcp(f + n, 40000, 80, 20);
	n += put_payload(f + n, pay);
	run_case(skel, mode, &(struct tcase){ "tc gso tcp4", FLOW_DIR_EGRESS, 3, 1000,
		 0, 3, 3 * (20 + 20) + pay, 40000, 80, 0 }, f, n);

	/* The same frame not marked GSO: one packet of 3040 bytes. */
	run_case(skel, mode, &(struct tcase){ "tc tcp4 no gso", FLOW_DIR_EGRESS, 0, 0,
		 0, 1, 20 + 20 + pay, 40000, 80, 0 }, f, n);

	/* TCP/IPv6 with 12 option bytes: 4 segments of 700. */
	pay = 2800;
	n = put_eth(f, ETH_P_IPV6);
	n += put_ipv6(f + n, IPPROTO_TCP, 32 + pay);
	n += put_tcp(f + n, 50000, 443, 32);
	n += put_payload(f + n, pay);
	run_case(skel, mode, &(struct tcase){ "tc gso tcp6", FLOW_DIR_EGRESS, 4, 700,
		 0, 4, 4 * (40 + 32) + pay, 50000, 443, 0 }, f, n);

	/* UDP GSO (UDP_SEGMENT): each segment has its own UDP header. */
	pay = 2400;
	n = put_eth(f, ETH_P_IP);
	n += put_ipv4(f + n, IPPROTO_UDP, 20 + 8 + pay);
	n += put_udp(f + n, 4433, 4434, 8 + pay);
	n += put_payload(f + n, pay);
	run_case(skel, mode, &(struct tcase){ "tc gso udp4", FLOW_DIR_EGRESS, 3, 800,
		 0, 3, 3 * (20 + 8) + pay, 4433, 4434, 0 }, f, n);

	/* BIG TCP: a GSO frame's IPv4 total length and IPv6 payload length
	 * are 0; the frame's length stands in. */
	pay = 3000;
	n = put_eth(f, ETH_P_IP);
	ip = put_ipv4(f + n, IPPROTO_TCP, 0);
	n += ip;
	n += put_tcp(f + n, 40001, 80, 20);
	n += put_payload(f + n, pay);
	run_case(skel, mode, &(struct tcase){ "tc big tcp4", FLOW_DIR_EGRESS, 3, 1000,
		 0, 3, 3 * (20 + 20) + pay, 40001, 80, FLOW_C_IPV4_LEN_FROM_FRAME }, f, n);
	/* Not GSO (a capture before TSO, replayed or forwarded): TCP with
	 * total length 0 takes the frame's length at every hook. */
	run_case(skel, mode, &(struct tcase){ "tc tcp4 tot_len 0 without gso",
		 FLOW_DIR_EGRESS, 0, 0, 0, 1, 20 + 20 + pay, 40001, 80,
		 FLOW_C_IPV4_LEN_FROM_FRAME }, f, n);
	run_case(skel, mode, &(struct tcase){ "xdp tcp4 tot_len 0", FLOW_DIR_INGRESS,
		 0, 0, 0, 1, 20 + 20 + pay, 40001, 80, FLOW_C_IPV4_LEN_FROM_FRAME }, f, n);
	/* With 12 bytes of TCP options: the header still counts whole. */
	pay = 1448;
	n = put_eth(f, ETH_P_IP);
	n += put_ipv4(f + n, IPPROTO_TCP, 0);
	n += put_tcp(f + n, 40003, 88, 32);
	n += put_payload(f + n, pay);
	run_case(skel, mode, &(struct tcase){ "xdp tcp4 tot_len 0, options", FLOW_DIR_INGRESS,
		 0, 0, 0, 1, 20 + 32 + pay, 40003, 88, FLOW_C_IPV4_LEN_FROM_FRAME }, f, n);
	run_case(skel, mode, &(struct tcase){ "tc tcp4 tot_len 0, options", FLOW_DIR_EGRESS,
		 0, 0, 0, 1, 20 + 32 + pay, 40003, 88, FLOW_C_IPV4_LEN_FROM_FRAME }, f, n);
	/* Only TCP: UDP with total length 0 stays malformed, unless GSO. */
	n = put_eth(f, ETH_P_IP);
	n += put_ipv4(f + n, IPPROTO_UDP, 0);
	n += put_udp(f + n, 4435, 4436, 8 + pay);
	n += put_payload(f + n, pay);
	run_case(skel, mode, &(struct tcase){ .name = "xdp udp4 tot_len 0",
		 .hook = FLOW_DIR_INGRESS, .reason = FLOW_C_BAD_IPV4_LEN }, f, n);
	run_case(skel, mode, &(struct tcase){ .name = "tc udp4 tot_len 0",
		 .hook = FLOW_DIR_EGRESS, .reason = FLOW_C_BAD_IPV4_LEN }, f, n);
	run_case(skel, mode, &(struct tcase){ "tc gso udp4 tot_len 0", FLOW_DIR_EGRESS,
		 2, 724, 0, 2, 2 * (20 + 8) + pay, 4435, 4436,
		 FLOW_C_IPV4_LEN_FROM_FRAME }, f, n);
	/* A bare header: nothing after it to take for TCP. */
	n = put_eth(f, ETH_P_IP);
	n += put_ipv4(f + n, IPPROTO_TCP, 0);
	run_case(skel, mode, &(struct tcase){ .name = "xdp tcp4 tot_len 0, header only",
		 .hook = FLOW_DIR_INGRESS, .reason = FLOW_C_BAD_IPV4_LEN }, f, n);
	pay = 3000;
	n = put_eth(f, ETH_P_IPV6);
	n += put_ipv6(f + n, IPPROTO_TCP, 0);
	n += put_tcp(f + n, 50001, 443, 20);
	n += put_payload(f + n, pay);
	run_case(skel, mode, &(struct tcase){ "tc big tcp6", FLOW_DIR_EGRESS, 3, 1000,
		 0, 3, 3 * (40 + 20) + pay, 50001, 443, FLOW_C_IPV6_JUMBOGRAMS }, f, n);

	/* An RFC 2675 jumbogram, live at XDP (a multi-buffer frame). */
	pay = 66000 - 40 - 8 - 8;
	n = put_eth(f, ETH_P_IPV6);
	n += put_ipv6(f + n, IPPROTO_HOPOPTS, 0);
	n += put_jumbo_hbh(f + n, IPPROTO_UDP, 8 + 8 + pay);
	n += put_udp(f + n, 5000, 5001, 0);
	n += put_payload(f + n, pay);
	run_case(skel, mode, &(struct tcase){ "xdp jumbogram", FLOW_DIR_INGRESS,
		 0, 0, 0, 1, 66000, 5000, 5001, FLOW_C_IPV6_JUMBOGRAMS }, f, n);
	/* One byte short of what the option says. */
	run_case(skel, mode, &(struct tcase){ .name = "xdp jumbogram short",
		 .hook = FLOW_DIR_INGRESS, .reason = FLOW_C_BAD_IPV6_LEN }, f, n - 1);

	/* BIG TCP's payload length 0 without the option, not GSO: TCP
	 * takes the frame's length. */
	pay = 1000;
	n = put_eth(f, ETH_P_IPV6);
	n += put_ipv6(f + n, IPPROTO_TCP, 0);
	n += put_tcp(f + n, 50002, 443, 20);
	n += put_payload(f + n, pay);
	run_case(skel, mode, &(struct tcase){ "xdp tcp6 payload length 0", FLOW_DIR_INGRESS,
		 0, 0, 0, 1, 40 + 20 + pay, 50002, 443, FLOW_C_IPV6_JUMBOGRAMS }, f, n);

	/* A TCP data offset of 3 words: still its flow, counted as odd. */
	n = put_eth(f, ETH_P_IP);
	n += put_ipv4(f + n, IPPROTO_TCP, 20 + 20 + 10);
	n += put_tcp(f + n, 40002, 80, 20);
	f[n - 20 + 12] = 3 << 4;
	n += put_payload(f + n, 10);
	run_case(skel, mode, &(struct tcase){ "xdp tcp doff 3", FLOW_DIR_INGRESS,
		 0, 0, 0, 1, 50, 40002, 80, FLOW_C_TCP_DOFF_INVALID }, f, n);
	run_case(skel, mode, &(struct tcase){ "tc tcp doff 3", FLOW_DIR_EGRESS,
		 0, 0, 0, 1, 50, 40002, 80, FLOW_C_TCP_DOFF_INVALID }, f, n);

	/* Live, a length larger than the frame is malformed at both hooks. */
	n = put_eth(f, ETH_P_IP);
	n += put_ipv4(f + n, IPPROTO_UDP, 1500);
	n += put_udp(f + n, 1, 2, 1480);
	n += put_payload(f + n, 100);
	run_case(skel, mode, &(struct tcase){ .name = "xdp length beyond frame",
		 .hook = FLOW_DIR_INGRESS, .reason = FLOW_C_BAD_IPV4_LEN }, f, n);
	run_case(skel, mode, &(struct tcase){ .name = "tc length beyond frame",
		 .hook = FLOW_DIR_EGRESS, .reason = FLOW_C_BAD_IPV4_LEN }, f, n);

	/* Ethernet padding is not counted: bytes are the IP total length. */
	n = put_eth(f, ETH_P_IP);
	n += put_ipv4(f + n, IPPROTO_UDP, 20 + 8 + 2);
	n += put_udp(f + n, 7, 9, 10);
	n += put_payload(f + n, 2 + 18);
	run_case(skel, mode, &(struct tcase){ "xdp padded runt", FLOW_DIR_INGRESS,
		 0, 0, 0, 1, 30, 7, 9, 0 }, f, n);

	/* A 9000-byte MTU frame: the test run hands XDP a multi-buffer frame
	 * (linear part plus page fragments), whose length is all of them. */
	pay = 9000 - 20 - 8;
	n = put_eth(f, ETH_P_IP);
	ip = put_ipv4(f + n, IPPROTO_UDP, 9000);
	n += ip;
	l4 = put_udp(f + n, 9000, 9001, 8 + pay);
	n += l4;
	n += put_payload(f + n, pay);
	run_case(skel, mode, &(struct tcase){ "xdp multi-buffer 9000", FLOW_DIR_INGRESS,
		 0, 0, 0, 1, 9000, 9000, 9001, 0 }, f, n);
	/* Cut by one byte: now the IP length claims more than arrived. */
	run_case(skel, mode, &(struct tcase){ .name = "xdp multi-buffer short",
		 .hook = FLOW_DIR_INGRESS, .reason = FLOW_C_BAD_IPV4_LEN }, f, n - 1);

	/* A 9000-byte TSO frame of total length 0: all of its buffers. */
	pay = 9000 - 20 - 20;
	n = put_eth(f, ETH_P_IP);
	n += put_ipv4(f + n, IPPROTO_TCP, 0);
	n += put_tcp(f + n, 40004, 80, 20);
	n += put_payload(f + n, pay);
	run_case(skel, mode, &(struct tcase){ "xdp multi-buffer tcp4 tot_len 0",
		 FLOW_DIR_INGRESS, 0, 0, 0, 1, 9000, 40004, 80,
		 FLOW_C_IPV4_LEN_FROM_FRAME }, f, n);
}

/*
 * GSO jumbograms and IPv4 BIG TCP at TC: a test run cannot hold 70 KB, so
 * these run in the replay configuration, the frame's head with its wire
 * length. 70
 * segments of 1000 bytes; GSO takes an 8-byte hop-by-hop header (the Jumbo
 * Payload option alone, then TCP) out of each segment, and leaves a longer
 * one in each.
 */
static void run_replay(struct flowacct_bpf *skel, const char *mode)
{
	static unsigned char f[MAX_FRAME];
	const size_t pay = 70000, head = 200;
	size_t n, hbh;

	n = put_eth(f, ETH_P_IPV6);
	n += put_ipv6(f + n, IPPROTO_HOPOPTS, 0);
	hbh = n;
	n += put_jumbo_hbh(f + n, IPPROTO_TCP, 8 + 20 + pay);
	n += put_tcp(f + n, 50003, 443, 20);
	n += put_payload(f + n, head);
	replay_wire = n - head + pay;
	run_case(skel, mode, &(struct tcase){ "tc gso jumbogram", FLOW_DIR_EGRESS,
		 70, 1000, 0, 70, 70 * (40 + 20) + pay, 50003, 443,
		 FLOW_C_IPV6_JUMBOGRAMS }, f, n);

	/* A 16-byte hop-by-hop header (the option, then PadN): kept. */
	n = hbh;
	n += put_jumbo_hbh(f + n, IPPROTO_TCP, 16 + 20 + pay);
	f[hbh + 1] = 1;
	f[n] = 1, f[n + 1] = 6;
	memset(f + n + 2, 0, 6);
	n += 8;
	n += put_tcp(f + n, 50003, 443, 20);
	n += put_payload(f + n, head);
	replay_wire = n - head + pay;
	run_case(skel, mode, &(struct tcase){ "tc gso jumbogram, 16-byte hop-by-hop",
		 FLOW_DIR_EGRESS, 70, 1000, 0, 70, 70 * (40 + 16 + 20) + pay, 50003, 443,
		 FLOW_C_IPV6_JUMBOGRAMS }, f, n);

	/* IPv4 BIG TCP: total length 0 over 64 KiB, GSO or not. */
	n = put_eth(f, ETH_P_IP);
	n += put_ipv4(f + n, IPPROTO_TCP, 0);
	n += put_tcp(f + n, 40005, 80, 20);
	n += put_payload(f + n, head);
	replay_wire = n - head + pay;
	run_case(skel, mode, &(struct tcase){ "tc gso big tcp4", FLOW_DIR_EGRESS,
		 70, 1000, 0, 70, 70 * (20 + 20) + pay, 40005, 80,
		 FLOW_C_IPV4_LEN_FROM_FRAME }, f, n);
	run_case(skel, mode, &(struct tcase){ "xdp big tcp4", FLOW_DIR_INGRESS,
		 0, 0, 0, 1, 20 + 20 + pay, 40005, 80,
		 FLOW_C_IPV4_LEN_FROM_FRAME }, f, n);
	replay_wire = 0;
}

static int run_mode(bool shared)
{
	const char *mode = shared ? "shared" : "percpu";
	struct fa_load_opts lo = {
		.shared = shared,
		.max_flows = FLOW_DEFAULT_MAX_FLOWS,
		.progs = FA_PROG_XDP | FA_PROG_TC_EGRESS | FA_PROG_TC_INGRESS,
	};
	struct flowacct_bpf *skel;
	int err;

	err = fa_progs_load(&lo, &skel);
	ok(!err, "%s: programs load (live configuration)", mode);
	if (err)
		return err;
	run_all(skel, mode);
	flowacct_bpf__destroy(skel);

	lo.replay = true;
	err = fa_progs_load(&lo, &skel);
	ok(!err, "%s: programs load (replay configuration)", mode);
	if (err)
		return err;
	run_replay(skel, mode);
	flowacct_bpf__destroy(skel);
	return 0;
}

/*
 * The stats map of an older version (counters are only appended): read by
 * its own value size, the counters it lacks 0, its sample tick not taken
 * for a counter. Any other size is another layout.
 */
static void run_stats_layouts(void)
{
	static const struct {
		__u32 counters;
		bool ok;
	} sizes[] = {
		{ FLOW_NR_COUNTERS, true },
		{ FLOW_NR_COUNTERS_STABLE, true },
		{ FLOW_NR_COUNTERS_STABLE - 1, false },
		{ FLOW_NR_COUNTERS + 1, false },
	};
	struct fa_hook_stats st[FLOW_NR_DIRS];
	int ncpus = libbpf_num_possible_cpus();
	__u32 i, dir, vsize;
	__u64 *vals;
	int fd, err;

	vals = calloc(ncpus > 0 ? ncpus : 1, sizeof(struct flow_stats) + 8);
	ok(ncpus > 0 && vals, "stats layouts: %d CPUs", ncpus);
	if (ncpus <= 0 || !vals) {
		free(vals);
		return;
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		vsize = (sizes[i].counters + 1) * 8;
		fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "fa_stats_test", 4,
				    vsize, FLOW_NR_DIRS, NULL);
		ok(fd >= 0, "stats layout of %u counters: map", sizes[i].counters);
		if (fd < 0)
			continue;
		/* Counter k reads k + 1 on CPU 0; the sample tick 1000. */
		memset(vals, 0, (size_t)ncpus * vsize);
		for (dir = 0; dir < sizes[i].counters; dir++)
			vals[dir] = dir + 1;
		vals[sizes[i].counters] = 1000;
		for (dir = 0; dir < FLOW_NR_DIRS; dir++)
			bpf_map_update_elem(fd, &dir, vals, BPF_ANY);
		err = fa_stats_map_check(fd);
		ok(sizes[i].ok ? err == (int)vsize : err == -EPROTO,
		   "stats layout of %u counters: %s (%d)", sizes[i].counters,
		   sizes[i].ok ? "adopted" : "refused", err);
		memset(st, 0, sizeof(st));
		err = fa_stats_read(fd, 0, st);
		if (sizes[i].ok) {
			for (dir = 0; dir < FLOW_NR_COUNTERS; dir++)
				if (st[FLOW_DIR_EGRESS].c[dir] !=
				    (dir < sizes[i].counters ? dir + 1 : 0))
					break;
			ok(!err && dir == FLOW_NR_COUNTERS,
			   "stats layout of %u counters: read (counter %u)",
			   sizes[i].counters, dir);
		} else {
			ok(err == -EPROTO, "stats layout of %u counters: not read (%d)",
			   sizes[i].counters, err);
		}
		close(fd);
	}
	free(vals);
}

/* libbpf's messages only matter when a load fails, and then -v is there. */
static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && getenv("V"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

int main(void)
{
	libbpf_set_print(quiet);
	run_mode(false);
	run_mode(true);
	run_stats_layouts();
	printf("1..%d\n", tests_run);
	printf("%d passed, %d failed\n", tests_run - tests_failed, tests_failed);
	return tests_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
