// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowacct dump / stats: read the pinned maps of attached interfaces and
 * print them as replay does (same table, same JSON field names).
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flowacct.h"
#include "json.h"
#include "pins.h"

struct dump_opts {
	const char *ifname;	/* NULL: every interface attached here */
	enum flow_sort sort;
	__u64 top;
	unsigned int group;	/* GROUP_* bits; 0: no grouping */
};

static const struct {
	const char *name;
	unsigned int bit;
} group_fields[] = {
	{ "src", GROUP_SRC }, { "dst", GROUP_DST }, { "sport", GROUP_SPORT },
	{ "dport", GROUP_DPORT }, { "proto", GROUP_PROTO },
	{ "iface", GROUP_IFACE }, { "direction", GROUP_DIR },
};

/* "src,dst,proto" -> bits. */
static int parse_group(const char *arg, unsigned int *mask)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	size_t i;

	if (!copy)
		return -ENOMEM;
	*mask = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < ARRAY_SIZE(group_fields); i++)
			if (!strcmp(tok, group_fields[i].name))
				break;
		if (i == ARRAY_SIZE(group_fields)) {
			pr_err("can't group by '%s': use src, dst, sport, dport, proto, iface, direction (comma-separated)",
			       tok);
			free(copy);
			return -EINVAL;
		}
		*mask |= group_fields[i].bit;
	}
	free(copy);
	return *mask ? 0 : -EINVAL;
}

/*
 * Live times are CLOCK_MONOTONIC_COARSE ns; shown as ns since the epoch like
 * replay's, with the offset between the two clocks taken now.
 */
static __u64 monotonic_to_realtime_offset(void)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return ((__u64)rt.tv_sec - mono.tv_sec) * 1000000000ull +
	       rt.tv_nsec - mono.tv_nsec;
}

static void table_to_realtime(struct flow_table *t, size_t from)
{
	__u64 off = monotonic_to_realtime_offset();
	size_t i;

	for (i = from; i < t->n; i++) {
		if (t->rows[i].val.first_seen_ns)
			t->rows[i].val.first_seen_ns += off;
		if (t->rows[i].val.last_seen_ns)
			t->rows[i].val.last_seen_ns += off;
	}
}

/* The interfaces to read: the one named, or all attached in this netns. */
static int open_ifaces(const char *ifname, struct pinned_iface **out, size_t *n)
{
	char (*names)[IF_NAMESIZE] = NULL;
	struct pinned_iface *p;
	size_t i, cnt = 0, total;
	int err;

	err = bpffs_prepare(false);
	if (err && err != -ENOENT)
		return err;
	if (ifname) {
		names = malloc(sizeof(*names));
		if (!names)
			return -ENOMEM;
		snprintf(names[0], IF_NAMESIZE, "%s", ifname);
		total = 1;
	} else {
		err = pinned_ifaces_list(&names, &total);
		if (err) {
			pr_err("can't list %s: %s", PIN_ROOT, strerror(-err));
			return err;
		}
	}
	p = calloc(total ? total : 1, sizeof(*p));
	if (!p) {
		free(names);
		return -ENOMEM;
	}
	for (i = 0; i < total; i++) {
		err = pinned_iface_open(names[i], &p[cnt]);
		if (err == -ENOENT && ifname) {
			pr_err("'%s' is not attached", ifname);
			goto fail;
		}
		if (err) {
			if (ifname) {
				pr_err("can't open the pins of '%s': %s", ifname,
				       strerror(-err));
				goto fail;
			}
			continue;	/* a half-made attach; status shows it */
		}
		if (p[cnt].state.netns_ino != current_netns_ino()) {
			pinned_iface_close(&p[cnt]);
			if (ifname) {
				pr_err("'%s' is attached in another network namespace; run dump there",
				       ifname);
				err = -EXDEV;
				goto fail;
			}
			continue;
		}
		cnt++;
	}
	free(names);
	if (!cnt) {
		pr_err("no interface is attached in this network namespace");
		free(p);
		return -ENOENT;
	}
	*out = p;
	*n = cnt;
	return 0;
fail:
	free(names);
	free(p);
	return err;
}

static void close_ifaces(struct pinned_iface *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		pinned_iface_close(&p[i]);
	free(p);
}

static void stats_add(struct hook_stats *into, const struct hook_stats *from)
{
	int dir, i;

	for (dir = 0; dir < FLOW_NR_DIRS; dir++) {
		for (i = 0; i < FLOW_NR_COUNTERS; i++)
			into[dir].counters[i] += from[dir].counters[i];
		flow_value_merge(&into[dir].overflow, &from[dir].overflow);
		into[dir].present |= from[dir].present;
	}
}

/*
 * Reads one interface: its counters first, then its rows, so the rows hold
 * at least what the counters say (traffic keeps coming while we read).
 */
static int read_iface(const struct pinned_iface *p, struct flow_table *t,
		      struct hook_stats *st)
{
	size_t from = t->n;
	int dir, err;

	err = hook_stats_read(p->stats_fd, st);
	if (!err)
		err = flow_table_read(p->flows_fd, t);
	if (err) {
		pr_err("can't read the maps of '%s': %s", p->ifname, strerror(-err));
		return err;
	}
	for (dir = 0; dir < FLOW_NR_DIRS; dir++) {
		st[dir].present = true;	/* both hooks are attached */
		flow_table_add_overflow(t, &st[dir], p->state.ifindex, dir);
	}
	table_to_realtime(t, from);
	return 0;
}

static void dump_usage(FILE *f)
{
	fprintf(f,
		"Usage: flowacct dump [IFACE] [-j] [--sort bytes|packets|last] [--top N]\n"
		"                     [--group-by FIELD[,FIELD...]]\n"
		"The flows of IFACE, or of every interface attached in this network namespace.\n"
		"FIELD: src, dst, sport, dport, proto, iface, direction.\n");
}

int do_dump(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sort", required_argument, NULL, 's' },
		{ "top", required_argument, NULL, 't' },
		{ "group-by", required_argument, NULL, 'g' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct dump_opts o = { .sort = SORT_BYTES };
	struct hook_stats total[FLOW_NR_DIRS] = {};
	struct flow_table t = {};
	struct pinned_iface *ifs;
	size_t i, n;
	int c, err = 0;

	while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!strcmp(optarg, "bytes"))
				o.sort = SORT_BYTES;
			else if (!strcmp(optarg, "packets"))
				o.sort = SORT_PACKETS;
			else if (!strcmp(optarg, "last"))
				o.sort = SORT_LAST;
			else {
				pr_err("can't sort by '%s': use bytes, packets or last", optarg);
				return -1;
			}
			break;
		case 't':
			if (parse_u64(optarg, 1, ~0ull, &o.top)) {
				pr_err("--top takes a positive number, not '%s'", optarg);
				return -1;
			}
			break;
		case 'g':
			if (parse_group(optarg, &o.group))
				return -1;
			break;
		case 'j':
			json_output = true;
			break;
		case 'h':
			dump_usage(stdout);
			return 0;
		default:
			dump_usage(stderr);
			return -1;
		}
	}
	if (optind < argc - 1) {
		pr_err("dump takes at most one interface");
		return -1;
	}
	o.ifname = optind < argc ? argv[optind] : NULL;
	if (check_privileges() || open_ifaces(o.ifname, &ifs, &n))
		return -1;

	for (i = 0; i < n && !err; i++) {
		struct hook_stats st[FLOW_NR_DIRS] = {};

		err = read_iface(&ifs[i], &t, st);
		stats_add(total, st);
	}
	close_ifaces(ifs, n);
	if (!err) {
		if (o.group)
			flow_table_group(&t, o.group);
		flow_table_sort(&t, o.sort);
		report_print(&(struct report){ .flows = &t, .stats = total,
					       .top = o.top, .group = o.group });
	}
	flow_table_free(&t);
	return err ? -1 : 0;
}

int do_stats(int argc, char **argv)
{
	struct hook_stats total[FLOW_NR_DIRS] = {};
	struct pinned_iface *ifs;
	const char *ifname = NULL;
	struct json j;
	size_t i, n;
	int a, err = 0;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "-j") || !strcmp(argv[a], "--json")) {
			json_output = true;
		} else if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help")) {
			printf("Usage: flowacct stats [IFACE] [-j]\n"
			       "The counters of IFACE, or of every interface attached here.\n");
			return 0;
		} else if (!ifname && argv[a][0] != '-') {
			ifname = argv[a];
		} else {
			pr_err("stats takes at most one interface, and -j");
			return -1;
		}
	}
	if (check_privileges() || open_ifaces(ifname, &ifs, &n))
		return -1;

	if (json_output) {
		json_init(&j, stdout);
		json_obj_open(&j, NULL);
		json_arr_open(&j, "interfaces");
	}
	for (i = 0; i < n; i++) {
		struct hook_stats st[FLOW_NR_DIRS] = {};

		err = hook_stats_read(ifs[i].stats_fd, st);
		if (err) {
			pr_err("can't read the counters of '%s': %s", ifs[i].ifname,
			       strerror(-err));
			break;
		}
		st[FLOW_DIR_INGRESS].present = st[FLOW_DIR_EGRESS].present = true;
		stats_add(total, st);
		if (json_output) {
			json_obj_open(&j, NULL);
			json_str(&j, "ifname", ifs[i].ifname);
			json_u64(&j, "ifindex", ifs[i].state.ifindex);
			report_counters_json(&j, st);
			json_obj_close(&j);
		} else {
			printf("%s%s (ifindex %u)\n", i ? "\n" : "", ifs[i].ifname,
			       ifs[i].state.ifindex);
			report_counters(st);
		}
	}
	if (json_output) {
		json_arr_close(&j);
		report_counters_json(&j, total);
		json_obj_close(&j);
		json_end(&j);
	}
	close_ifaces(ifs, n);
	return err ? -1 : 0;
}
