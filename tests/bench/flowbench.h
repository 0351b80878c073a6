/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The benchmark driver's own declarations (user space only). */
#ifndef FLOWBENCH_H
#define FLOWBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <linux/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The largest frame the benchmark builds; a TC test run holds 3500 bytes. */
/* The mix's largest frame, 1514 bytes, in VXLAN (--vxlan): 1564. */
#define BENCH_FRAME_MAX 1600

enum frame_kind {
	FK_IPV4_TCP,
	FK_IPV6_TCP,
	FK_UDP,		/* over IPv4 */
	FK_VLAN,	/* 802.1Q tag, then IPv4 TCP */
	FK_IPV6_EXT,	/* hop-by-hop and destination options, then TCP */
	FK_ICMP,	/* IPv4 echo request */
	FK_IPV6_UDP,
	FK_ICMPV6,
	FK_ARP,
	FK_NR,
};

struct frame {
	unsigned char buf[BENCH_FRAME_MAX];
	size_t len;
};

/* @f's frame in VXLAN (VNI 42, UDP 4789) from VTEP 192.0.2.x of @flow. */
void frame_vxlan_wrap(struct frame *f, __u32 flow);

/* frames.c */
size_t frame_build(unsigned char *buf, enum frame_kind kind, __u32 flow,
		   unsigned int payload);
const char *frame_kind_name(enum frame_kind kind);
struct frame *mix_build(size_t n, __u64 seed);
void mix_describe(char *buf, size_t len);
int mix_write_pcap(const char *path, size_t packets, size_t flows,
		   unsigned int snaplen, __u64 seed);
__u64 prng_next(__u64 *state);

/* flowbench.c */
double median(double *v, size_t n);
double min_of(const double *v, size_t n);
double max_of(const double *v, size_t n);
int cmd_pkt(int argc, char **argv);

/* maps.c */
int map_clear(int fd);
int map_memlock(int fd, __u64 *bytes);
int cmd_mem(int argc, char **argv);
int cmd_fill(int argc, char **argv);
int fill_table(int fd, __u32 n, __u32 ifindex);

/* epochs.c */
int cmd_flip(int argc, char **argv);
int cmd_drain(int argc, char **argv);
int cmd_records(int argc, char **argv);
int cmd_ipfix(int argc, char **argv);

/* verifier.c */
int cmd_verifier(int argc, char **argv);

/* contend.c */
int cmd_contend(int argc, char **argv);

#endif /* FLOWBENCH_H */
