// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowbench ipfix [--records N] [--to HOST:PORT]: the IPFIX exporter alone.
 * N synthetic records (the mix of families: 6 in 10 IPv4, 3 IPv6, 1 ICMP)
 * encoded and sent in batches of 1000, as the daemon hands them over, to
 * HOST:PORT, or to a UDP socket of our own that is never read (the kernel
 * drops what overflows it, so only encoding and sending are timed). Prints
 * a markdown row: records, messages, seconds, records per second, and the
 * send errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "libflowacct.h"
#include "flowbench.h"

static void synth(struct fa_record *r, __u64 i, __u64 *rng)
{
	__u64 x = prng_next(rng) % 10;
	struct flow_key *k = &r->key;

	memset(r, 0, sizeof(*r));
	k->ifindex = 2;
	k->direction = i & 1;
	k->ip_version = x < 7 ? 4 : 6;
	k->proto = x == 9 ? IPPROTO_ICMP : x < 5 ? IPPROTO_TCP : IPPROTO_UDP;
	if (k->ip_version == 4) {
		k->src[10] = k->src[11] = k->dst[10] = k->dst[11] = 0xff;
		memcpy(k->src + 12, (__u8[]){ 192, 0, 2, i }, 4);
		memcpy(k->dst + 12, (__u8[]){ 198, 51, 100, i >> 8 }, 4);
	} else {
		memcpy(k->src, (__u8[]){ 0x20, 0x01, 0x0d, 0xb8 }, 4);
		memcpy(k->dst, k->src, 16);
		memcpy(k->src + 8, &i, 8);
		k->dst[15] = 1;
	}
	if (k->proto == IPPROTO_ICMP && k->ip_version == 6)
		k->proto = IPPROTO_ICMPV6;
	k->sport = htons(1024 + i % 60000);
	k->dport = htons(k->proto == IPPROTO_ICMP || k->proto == IPPROTO_ICMPV6 ? 8 << 8 : 443);
	r->seq = i + 1;
	r->packets = 1 + prng_next(rng) % 1000;
	r->bytes = r->packets * 700;
	r->first_seen_ns = 1000000000ull;
	r->last_seen_ns = 2000000000ull;
	r->flow_start_ns = 1000000000ull;
	r->tcp_flags = k->proto == IPPROTO_TCP ? 0x1b : 0;
	r->end_reason = FA_END_IDLE;
}

int cmd_ipfix(int argc, char **argv)
{
	struct fa_ipfix_cfg cfg = { .domain = 4242, .max_message = FA_IPFIX_DEFAULT_MESSAGE,
				    .refresh_ns = 60000000000ull,
				    .refresh_messages = FA_IPFIX_REFRESH_MESSAGES };
	const char *to = NULL;
	struct fa_ipfix_target t;
	struct fa_ipfix x;
	struct fa_record *recs;
	struct sockaddr_in sink = { .sin_family = AF_INET };
	socklen_t len = sizeof(sink);
	__u64 n = 1000000, i, rng = 11, t0, t1;
	char spec[64];
	int i_arg, sfd = -1, err;

	for (i_arg = 1; i_arg + 1 < argc; i_arg += 2) {
		if (!strcmp(argv[i_arg], "--records"))
			n = strtoull(argv[i_arg + 1], NULL, 0);
		else if (!strcmp(argv[i_arg], "--to"))
			to = argv[i_arg + 1];
	}
	if (!to) {
		sfd = socket(AF_INET, SOCK_DGRAM, 0);
		sink.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (sfd < 0 || bind(sfd, (struct sockaddr *)&sink, sizeof(sink)) ||
		    getsockname(sfd, (struct sockaddr *)&sink, &len))
			return 1;
		snprintf(spec, sizeof(spec), "127.0.0.1:%u", ntohs(sink.sin_port));
		to = spec;
	}
	recs = calloc(n, sizeof(*recs));
	if (!recs)
		return 1;
	for (i = 0; i < n; i++)
		synth(&recs[i], i, &rng);
	err = fa_ipfix_init(&x, &cfg);
	if (!err)
		err = fa_ipfix_target_parse(to, &t);
	if (!err)
		err = fa_ipfix_target_resolve(&t);
	if (!err)
		err = fa_ipfix_add(&x, &t);
	if (err) {
		fprintf(stderr, "flowbench ipfix: %s: %s\n", to, strerror(-err));
		return 1;
	}
	fa_ipfix_refresh(&x, NULL, 0, 0, true);
	t0 = fa_mono_ns();
	for (i = 0; i < n; i += 1000)
		fa_ipfix_export(&x, 1, recs + i, NULL, n - i < 1000 ? n - i : 1000,
				1700000000000000000ull);
	t1 = fa_mono_ns();
	printf("| %llu | %llu | %.3f | %.0f | %llu |\n", (unsigned long long)n,
	       (unsigned long long)x.c[0].stats.messages, (t1 - t0) / 1e9,
	       n / ((t1 - t0) / 1e9), (unsigned long long)x.c[0].stats.send_errors);
	/* Numbering kept for a restart is not wanted here. */
	fa_ipfix_remove_state(&x);
	fa_ipfix_free(&x);
	free(recs);
	if (sfd >= 0)
		close(sfd);
	return 0;
}
