// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * churn_send: new UDP flows at a fixed rate out of one interface, each flow
 * known from its index, for the churn test and the bench's churn section.
 *
 *   churn_send IFACE --flows N [--rate PPS] [--first I] [--count C]
 *              [--size S] [--src ADDR] [--dst ADDR] [--batch B]
 *
 * Flow i (FIRST <= i < FIRST + N) is SRC:sport -> DST:dport, UDP, with
 * sport = 1 + i % 65535 and dport = 10000 + i / 65535, so no two indexes
 * share a flow below 3.6e9. Each flow gets C datagrams of S payload bytes
 * (IP-layer bytes 28 + S each), sent one after the other. Frames leave an
 * AF_PACKET socket through the qdisc (so TC egress sees them) to a MAC that
 * is not the peer's: the peer drops them at the IP layer, and nothing
 * answers. They go in sendmmsg() batches of B (64) frames, paced to PPS
 * frames a second overall (0: as fast as it can): a syscall per batch, not
 * per frame, which is how it goes past udp_send.py (a syscall and a sleep a
 * datagram) and holds a rate that trafgen -b falls short of (asked for
 * 200000 a second on this VM, it sent 197000 with nothing attached and
 * 168000 with flowacct attached; as fast as they can, the two are alike).
 *
 * Prints one JSON object: what it sent (so a checker can rebuild every
 * flow's packets and bytes), the seconds it took, the rate it achieved and
 * its own CPU seconds (user + system, which hold most of the frames' way
 * through the stack: the veth's receive side runs on the sending CPU).
 *
 * A frame that failed in sendmmsg() still counts as sent. A veth drops a
 * frame when the peer's backlog is full (NET_XMIT_DROP, ENOBUFS), after TC
 * egress has counted it; sendmmsg() stops at the frame that failed without
 * saying why, so the sender checks that the interface's tx_dropped grew by
 * at least the frames that failed: if not, some failed before TC egress,
 * and it says so and exits 2.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 1024
#define MAX_SIZE 1400
#define PORTS 65535
#define DPORT_BASE 10000

struct frame {
	struct ether_header eth;
	struct iphdr ip;
	struct udphdr udp;
	uint8_t payload[MAX_SIZE];
} __attribute__((packed));

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint16_t ip_checksum(const void *hdr, size_t len)
{
	const uint16_t *p = hdr;
	uint32_t sum = 0;

	for (; len > 1; len -= 2)
		sum += *p++;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* The interface's tx_dropped in this namespace (the veth's drops after TC). */
static long long tx_dropped(const char *ifname)
{
	struct ifaddrs *all, *a;
	long long n = -1;

	if (getifaddrs(&all))
		return -1;
	for (a = all; a; a = a->ifa_next)
		if (a->ifa_addr && a->ifa_addr->sa_family == AF_PACKET && a->ifa_data &&
		    !strcmp(a->ifa_name, ifname))
			n = ((struct rtnl_link_stats *)a->ifa_data)->tx_dropped;
	freeifaddrs(all);
	return n;
}

static void usage(void)
{
	fprintf(stderr, "usage: churn_send IFACE --flows N [--rate PPS] [--first I] [--count C]\n"
			"                  [--size S] [--src ADDR] [--dst ADDR] [--batch B]\n");
	exit(1);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "flows", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },
		{ "first", required_argument, NULL, 'f' },
		{ "count", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 's' },
		{ "src", required_argument, NULL, 'S' },
		{ "dst", required_argument, NULL, 'D' },
		{ "batch", required_argument, NULL, 'b' },
		{ 0 },
	};
	const char *src = "192.0.2.1", *dst = "192.0.2.2", *ifname;
	unsigned long long flows = 0, first = 0, count = 1, total, sent = 0, failed = 0;
	unsigned int size = 18, batch = 64, i;
	double rate = 0;
	static struct frame frames[MAX_BATCH];
	static struct mmsghdr msgs[MAX_BATCH];
	static struct iovec iov[MAX_BATCH];
	struct sockaddr_ll to = { 0 };
	struct frame proto = { 0 };
	long long drop0, drop1;
	struct rusage ru;
	uint64_t t0, t1;
	int c, fd;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': flows = strtoull(optarg, NULL, 0); break;
		case 'r': rate = atof(optarg); break;
		case 'f': first = strtoull(optarg, NULL, 0); break;
		case 'c': count = strtoull(optarg, NULL, 0); break;
		case 's': size = atoi(optarg); break;
		case 'S': src = optarg; break;
		case 'D': dst = optarg; break;
		case 'b': batch = atoi(optarg); break;
		default: usage();
		}
	}
	if (optind != argc - 1 || !flows || !count || size > MAX_SIZE || size < 18 ||
	    !batch || batch > MAX_BATCH)
		usage();
	ifname = argv[optind];
	/* Bursts of at most a millisecond's frames at low rates. */
	if (rate > 0 && batch > rate / 1000)
		batch = rate / 1000 > 1 ? rate / 1000 : 1;

	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("churn_send: socket");
		return 1;
	}
	to.sll_family = AF_PACKET;
	to.sll_protocol = htons(ETH_P_IP);
	to.sll_ifindex = if_nametoindex(ifname);
	if (!to.sll_ifindex) {
		fprintf(stderr, "churn_send: no interface %s\n", ifname);
		return 1;
	}

	/* Not the peer's MAC: it drops them as not for this host. */
	memcpy(proto.eth.ether_dhost, "\x02\x00\x00\x00\x00\x02", ETH_ALEN);
	memcpy(proto.eth.ether_shost, "\x02\x00\x00\x00\x00\x01", ETH_ALEN);
	proto.eth.ether_type = htons(ETHERTYPE_IP);
	proto.ip.version = 4;
	proto.ip.ihl = 5;
	proto.ip.ttl = 64;
	proto.ip.protocol = IPPROTO_UDP;
	proto.ip.tot_len = htons(sizeof(proto.ip) + sizeof(proto.udp) + size);
	if (inet_pton(AF_INET, src, &proto.ip.saddr) != 1 ||
	    inet_pton(AF_INET, dst, &proto.ip.daddr) != 1) {
		fprintf(stderr, "churn_send: --src and --dst are IPv4 addresses\n");
		return 1;
	}
	/* Only the ports change from frame to frame: one checksum for all. */
	proto.ip.check = ip_checksum(&proto.ip, sizeof(proto.ip));
	proto.udp.len = htons(sizeof(proto.udp) + size);
	for (i = 0; i < MAX_BATCH; i++) {
		frames[i] = proto;
		iov[i].iov_base = &frames[i];
		iov[i].iov_len = sizeof(proto.eth) + sizeof(proto.ip) + sizeof(proto.udp) + size;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &to;
		msgs[i].msg_hdr.msg_namelen = sizeof(to);
	}

	total = flows * count;
	drop0 = tx_dropped(ifname);
	t0 = now_ns();
	while (sent < total) {
		unsigned int n = total - sent < batch ? total - sent : batch, done = 0;
		int r;

		if (rate > 0) {
			uint64_t due = t0 + (uint64_t)(sent * 1e9 / rate);
			struct timespec ts = { due / 1000000000ull, due % 1000000000ull };

			if (now_ns() < due)
				clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		}
		for (i = 0; i < n; i++) {
			unsigned long long f = first + (sent + i) / count;

			frames[i].udp.source = htons(1 + f % PORTS);
			frames[i].udp.dest = htons(DPORT_BASE + f / PORTS);
		}
		while (done < n) {
			r = sendmmsg(fd, msgs + done, n - done, 0);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 && errno != ENOBUFS) {
				perror("churn_send: sendmmsg");
				return 1;
			}
			/* The frame after the last sent failed, after TC egress. */
			done += r > 0 ? (unsigned int)r : 0;
			if (done < n) {
				failed++;
				done++;
			}
		}
		sent += n;
	}
	t1 = now_ns();
	drop1 = tx_dropped(ifname);
	getrusage(RUSAGE_SELF, &ru);

	printf("{\"first\":%llu,\"flows\":%llu,\"count\":%llu,\"size\":%u,\"bytes\":%u,"
	       "\"src\":\"%s\",\"dst\":\"%s\",\"sport\":\"1 + i %% %d\",\"dport\":\"%d + i / %d\","
	       "\"packets\":%llu,\"seconds\":%.3f,\"rate\":%.0f,\"cpu_s\":%.2f,\"failed\":%llu,"
	       "\"tx_dropped\":%lld}\n",
	       first, flows, count, size, 28 + size, src, dst, PORTS, DPORT_BASE, PORTS, sent,
	       (t1 - t0) / 1e9, sent * 1e9 / (t1 - t0 ? t1 - t0 : 1),
	       ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6, failed,
	       drop0 >= 0 && drop1 >= 0 ? drop1 - drop0 : -1);
	if (failed && (drop0 < 0 || drop1 < 0 || (unsigned long long)(drop1 - drop0) < failed)) {
		fprintf(stderr, "churn_send: %llu frames failed, the interface dropped %lld: "
				"some failed before TC egress\n", failed, drop1 - drop0);
		return 2;
	}
	return 0;
}
