// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowacct attach / detach / status: the programs on a live interface. XDP
 * goes through libxdp (its dispatcher lets other XDP programs stay), TC
 * through libbpf's TC API on clsact egress. What detach needs is pinned
 * beside the maps, so any later process can undo exactly what attach did.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "flowacct.h"
#include "flowacct.skel.h"
#include "json.h"
#include "pins.h"
#include "tcfilter.h"

#define XDP_PROG_NAME	"flowacct_xdp"
#define TC_PROG_NAME	"flowacct_tc"
#define MAX_FILTERS	64

static const char *const pin_names[] = {
	"flows", "flow_stats", "flow_sample_cfg", "flow_samples", "state",
};

struct attach_opts {
	const char *ifname;
	enum xdp_attach_mode mode;
	bool shared;
	__u32 max_flows;
	struct flow_sample_config sample;
};

static const char *xdp_mode_name(int mode)
{
	switch (mode) {
	case XDP_MODE_NATIVE:	return "native";
	case XDP_MODE_SKB:	return "skb";
	case XDP_MODE_HW:	return "hw";
	default:		return "none";
	}
}

/* Kept quiet like libbpf, but kept: it knows why its dispatcher failed. */
static int libxdp_print(enum libxdp_print_level level, const char *fmt,
			va_list ap)
{
	if (verbose >= (level == LIBXDP_WARN ? 1 : 2))
		return vfprintf(stderr, fmt, ap);
	log_keep(fmt, ap);
	return 0;
}

static int prog_name_by_id(__u32 id, char *name, size_t len)
{
	struct bpf_prog_info info = {};
	__u32 info_len = sizeof(info);
	int fd, err;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &info_len);
	close(fd);
	if (err)
		return -errno;
	snprintf(name, len, "%s", info.name);
	return 0;
}

/*
 * Removes flowacct's XDP program from @ifindex: the one with @prog_id, or if
 * that is 0 (no state survived), any program named flowacct_xdp. Other
 * programs in the dispatcher stay. Returns how many were removed, or -errno.
 */
static int xdp_remove(int ifindex, __u32 prog_id)
{
	struct xdp_program *p, *targets[8];
	struct xdp_multiprog *mp;
	int n = 0, i, err = 0;
	enum xdp_attach_mode mode;

	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (libxdp_get_error(mp) || !mp)
		return 0;	/* no XDP program at all */
	mode = xdp_multiprog__attach_mode(mp);

	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p)
			targets[n++] = p;
	} else {
		for (p = xdp_multiprog__next_prog(NULL, mp); p && n < 8;
		     p = xdp_multiprog__next_prog(p, mp))
			targets[n++] = p;
	}

	for (i = 0; i < n; i++) {
		p = targets[i];
		if (prog_id ? xdp_program__id(p) != prog_id :
			      strcmp(xdp_program__name(p), XDP_PROG_NAME))
			continue;
		err = xdp_program__detach(p, ifindex, mode, 0);
		if (err)
			break;
		err = 1;
		break;
	}
	xdp_multiprog__close(mp);
	return err;
}

/*
 * Removes flowacct's TC filter from @ifindex's egress: the one with
 * @prog_id, or any filter running a program named flowacct_tc. Returns how
 * many were removed, or -errno.
 */
static int tc_remove(int ifindex, __u32 prog_id)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_EGRESS);
	struct tc_filter_info f[MAX_FILTERS];
	char name[BPF_OBJ_NAME_LEN];
	int n, i, err, removed = 0;

	err = tc_filters_list(ifindex, true, f, MAX_FILTERS, &n);
	if (err)
		return err;
	for (i = 0; i < n && i < MAX_FILTERS; i++) {
		if (!f[i].is_bpf)
			continue;
		if (prog_id ? f[i].prog_id != prog_id :
			      prog_name_by_id(f[i].prog_id, name, sizeof(name)) ||
				      strcmp(name, TC_PROG_NAME))
			continue;
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = f[i].handle,
				    .priority = f[i].priority);
		err = bpf_tc_detach(&hook, &opts);
		if (err)
			return err;
		removed++;
	}
	return removed;
}

/* clsact goes only if we made it and no filter, ours or not, is left on it. */
static int tc_remove_qdisc(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	struct tc_filter_info f[1];
	int in, out, err;

	err = tc_filters_list(ifindex, false, f, 0, &in);
	if (!err)
		err = tc_filters_list(ifindex, true, f, 0, &out);
	if (err)
		return err;
	if (in || out)
		return 0;
	return bpf_tc_hook_destroy(&hook);
}

/* Unpins whatever attach pinned, and the directory. Returns how many. */
static int pins_remove(const char *ifname)
{
	char path[PATH_MAX];
	size_t i;
	int n = 0;

	for (i = 0; i < ARRAY_SIZE(pin_names); i++) {
		pin_path(path, sizeof(path), ifname, pin_names[i]);
		if (!unlink(path))
			n++;
	}
	pin_path(path, sizeof(path), ifname, NULL);
	if (!rmdir(path))
		n++;
	rmdir(PIN_ROOT);	/* only if no other interface is attached */
	return n;
}

/**
 * remove_attachment - undo an attach of @ifname, whole or partial
 * @st: what attach recorded, or NULL if nothing survived (killed attach)
 *
 * Returns how many things were removed (0: nothing of ours was there), or
 * -errno with an error printed.
 */
static int remove_attachment(const char *ifname, int ifindex,
			     const struct attach_state *st)
{
	int removed = 0, err;

	if (ifindex) {
		err = xdp_remove(ifindex, st ? st->xdp_prog_id : 0);
		if (err < 0) {
			pr_err("can't remove the XDP program from '%s': %s",
			       ifname, strerror(-err));
			return err;
		}
		removed += err;
		err = tc_remove(ifindex, st ? st->tc_prog_id : 0);
		if (err < 0) {
			pr_err("can't remove the TC filter from '%s': %s",
			       ifname, strerror(-err));
			return err;
		}
		removed += err;
		if (st && st->created_qdisc) {
			err = tc_remove_qdisc(ifindex);
			if (err < 0) {
				pr_err("can't remove the clsact qdisc from '%s': %s",
				       ifname, strerror(-err));
				return err;
			}
		}
	}
	return removed + pins_remove(ifname);
}

static int pin_maps(struct flowacct_bpf *skel, const struct attach_state *st)
{
	char path[PATH_MAX];
	int fd, err;

	if (mkdir(PIN_ROOT, 0700) && errno != EEXIST)
		return -errno;
	pin_path(path, sizeof(path), st->ifname, NULL);
	if (mkdir(path, 0700))
		return -errno;
	pin_path(path, sizeof(path), st->ifname, "flows");
	err = bpf_map__pin(skel->maps.flows, path);
	if (err)
		return err;
	pin_path(path, sizeof(path), st->ifname, "flow_stats");
	err = bpf_map__pin(skel->maps.flow_stats, path);
	if (err)
		return err;
	pin_path(path, sizeof(path), st->ifname, "flow_sample_cfg");
	err = bpf_map__pin(skel->maps.flow_sample_cfg, path);
	if (err)
		return err;
	pin_path(path, sizeof(path), st->ifname, "flow_samples");
	err = bpf_map__pin(skel->maps.flow_samples, path);
	if (err)
		return err;
	/* The state goes last: its presence means the attach completed. */
	fd = state_map_create(st);
	if (fd < 0)
		return fd;
	pin_path(path, sizeof(path), st->ifname, "state");
	err = bpf_obj_pin(fd, path) ? -errno : 0;
	close(fd);
	return err;
}

static void xdp_attach_error(const char *ifname, int err,
			     enum xdp_attach_mode mode)
{
	char buf[256];

	if (err == -EOPNOTSUPP && mode == XDP_MODE_NATIVE) {
		pr_err("the driver of '%s' does not support native XDP; try --mode skb",
		       ifname);
		return;
	}
	if (err == -EEXIST || err == -EBUSY) {
		pr_err("'%s' has an XDP program that libxdp can't share (attached in another mode, or not through libxdp's dispatcher)",
		       ifname);
		return;
	}
	libxdp_strerror(err, buf, sizeof(buf));
	pr_err("can't attach XDP to '%s': %s", ifname, buf);
	libbpf_log_tail(20);
}

static void print_attached(const struct attach_state *st)
{
	if (json_output) {
		struct json j;

		json_init(&j, stdout);
		json_obj_open(&j, NULL);
		json_str(&j, "ifname", st->ifname);
		json_u64(&j, "ifindex", st->ifindex);
		json_str(&j, "xdp_mode", xdp_mode_name(st->xdp_mode));
		json_bool(&j, "xdp_dispatcher", !st->xdp_legacy);
		json_u64(&j, "xdp_prog_id", st->xdp_prog_id);
		json_u64(&j, "tc_prog_id", st->tc_prog_id);
		json_obj_close(&j);
		json_end(&j);
		return;
	}
	printf("flowacct attached to %s: XDP ingress (%s mode%s, prog id %u), TC egress (prog id %u); maps at %s/%s\n",
	       st->ifname, xdp_mode_name(st->xdp_mode),
	       st->xdp_legacy ? ", direct" : ", libxdp dispatcher",
	       st->xdp_prog_id, st->tc_prog_id, PIN_ROOT, st->ifname);
}

/*
 * libxdp attaches directly, with no dispatcher, when it can't build one and
 * nothing else is attached: then no other XDP program can join while we are
 * there. Say so, with libxdp's own reason.
 */
static void note_no_dispatcher(const char *ifname)
{
	const char *why = log_find("Compatibility check for dispatcher");

	if (!why)
		why = log_find("dispatcher");
	fprintf(stderr,
		"flowacct: note: libxdp's dispatcher is not usable here (%s), so flowacct's XDP program is attached to '%s' directly: no other XDP program can share the interface until detach\n",
		why ? why : "no reason given", ifname);
}

static int attach(const struct attach_opts *o, int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, tc_opts);
	DECLARE_LIBXDP_OPTS(xdp_program_opts, xdp_opts,
			    .prog_name = XDP_PROG_NAME);
	struct attach_state st = {
		.version = ATTACH_STATE_VERSION,
		.ifindex = ifindex,
		.netns_ino = current_netns_ino(),
		.attached_at = time(NULL),
		.max_flows = o->max_flows,
		.shared_map = o->shared,
		.xdp_mode = o->mode,
	};
	struct xdp_program *xp = NULL;
	struct xdp_multiprog *mp;
	struct flowacct_bpf *skel;
	int err;

	snprintf(st.ifname, sizeof(st.ifname), "%s", o->ifname);
	skel = flowacct_bpf__open();
	if (!skel) {
		pr_err("can't open the BPF object: %s", strerror(errno));
		return -errno;
	}
	skel->rodata->flow_cfg.shared_map = o->shared;
	err = bpf_map__set_type(skel->maps.flows, o->shared ? BPF_MAP_TYPE_HASH :
				BPF_MAP_TYPE_PERCPU_HASH);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.flows, o->max_flows);
	if (err) {
		pr_err("can't configure the flow table: %s", strerror(-err));
		goto out_destroy;
	}

	/* libxdp loads the whole object (both programs) as it attaches. */
	xdp_opts.obj = skel->obj;
	xp = xdp_program__create(&xdp_opts);
	err = libxdp_get_error(xp);
	if (err) {
		pr_err("can't prepare the XDP program: %s", strerror(-err));
		xp = NULL;
		goto out_destroy;
	}
	err = xdp_program__attach(xp, ifindex, o->mode, 0);
	if (err) {
		xdp_attach_error(o->ifname, err, o->mode);
		goto out_destroy;
	}
	st.xdp_prog_id = xdp_program__id(xp);
	err = bpf_map_update_elem(bpf_map__fd(skel->maps.flow_sample_cfg),
				  &(__u32){ 0 }, &o->sample, BPF_ANY);
	if (err) {
		err = -errno;
		pr_err("can't set sampling: %s", strerror(-err));
		goto out_detach;
	}
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (!libxdp_get_error(mp) && mp) {
		st.xdp_legacy = xdp_multiprog__is_legacy(mp);
		xdp_multiprog__close(mp);
	}

	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		pr_err("can't create a clsact qdisc on '%s': %s", o->ifname,
		       strerror(-err));
		goto out_detach;
	}
	st.created_qdisc = !err;
	tc_opts.prog_fd = bpf_program__fd(skel->progs.flowacct_tc);
	err = bpf_tc_attach(&hook, &tc_opts);
	if (err) {
		pr_err("can't attach the TC program to '%s' egress: %s",
		       o->ifname, strerror(-err));
		goto out_detach;
	}
	st.tc_prog_id = tc_opts.prog_id;
	st.tc_handle = tc_opts.handle;
	st.tc_priority = tc_opts.priority;

	err = pin_maps(skel, &st);
	if (err) {
		pr_err("can't pin the maps under %s/%s: %s", PIN_ROOT,
		       o->ifname, strerror(-err));
		goto out_detach;
	}
	print_attached(&st);
	if (st.xdp_legacy)
		note_no_dispatcher(o->ifname);
	goto out_destroy;

out_detach:
	/* Everything attach did, and only that, is in st so far. */
	remove_attachment(o->ifname, ifindex, &st);
out_destroy:
	xdp_program__close(xp);
	flowacct_bpf__destroy(skel);
	return err;
}

static int parse_ifname(const char *ifname, int *ifindex)
{
	if (strlen(ifname) >= IF_NAMESIZE || strchr(ifname, '/') ||
	    !strcmp(ifname, ".") || !strcmp(ifname, "..")) {
		pr_err("'%s' is not an interface name", ifname);
		return -EINVAL;
	}
	*ifindex = if_nametoindex(ifname);
	return 0;
}

static void attach_usage(FILE *f)
{
	fprintf(f,
		"Usage: flowacct attach IFACE [--mode native|skb] [--map percpu|shared]\n"
		"                       [--max-flows N] [--sample N]\n"
		"                       [--sample-mode every|random|hash] [--snaplen S]\n"
		"Accounts every packet in (XDP) and out (TC egress) of IFACE until detach.\n");
}

int do_attach(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'M' },
		{ "map", required_argument, NULL, 'm' },
		{ "max-flows", required_argument, NULL, 'n' },
		{ "sample", required_argument, NULL, 'S' },
		{ "sample-mode", required_argument, NULL, 'T' },
		{ "snaplen", required_argument, NULL, 'L' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct attach_opts o = {
		.mode = XDP_MODE_NATIVE,
		.max_flows = FLOW_DEFAULT_MAX_FLOWS,
		.sample = { .snaplen = FLOW_DEFAULT_SNAPLEN },
	};
	struct pinned_iface p;
	int c, ifindex, err;

	while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'M':
			if (!strcmp(optarg, "native"))
				o.mode = XDP_MODE_NATIVE;
			else if (!strcmp(optarg, "skb"))
				o.mode = XDP_MODE_SKB;
			else {
				pr_err("unknown XDP mode '%s': use native or skb", optarg);
				return -1;
			}
			break;
		case 'm':
			if (parse_map_mode(optarg, &o.shared))
				return -1;
			break;
		case 'n':
			if (parse_max_flows(optarg, &o.max_flows))
				return -1;
			break;
		case 'S':
			if (parse_sample_rate(optarg, &o.sample.rate))
				return -1;
			break;
		case 'T':
			if (parse_sample_mode(optarg, &o.sample.mode))
				return -1;
			break;
		case 'L':
			if (parse_snaplen(optarg, &o.sample.snaplen))
				return -1;
			break;
		case 'j':
			json_output = true;
			break;
		case 'h':
			attach_usage(stdout);
			return 0;
		default:
			attach_usage(stderr);
			return -1;
		}
	}
	if (optind != argc - 1) {
		pr_err("attach takes one interface");
		return -1;
	}
	o.ifname = argv[optind];
	if (parse_ifname(o.ifname, &ifindex))
		return -1;
	if (!ifindex) {
		pr_err("no interface '%s' in this network namespace", o.ifname);
		return -1;
	}
	if (check_privileges() || bpffs_prepare(true))
		return -1;
	libxdp_set_print(libxdp_print);

	err = pinned_iface_open(o.ifname, &p);
	if (!err) {
		pinned_iface_close(&p);
		if (p.state.netns_ino != current_netns_ino())
			pr_err("'%s' of another network namespace is attached (pins in %s/%s); detach it there first",
			       o.ifname, PIN_ROOT, o.ifname);
		else
			pr_err("'%s' is already attached; see 'flowacct status'",
			       o.ifname);
		return -1;
	}
	/* No state: anything of ours here is what a killed attach left. */
	if (remove_attachment(o.ifname, ifindex, NULL) < 0)
		return -1;
	return attach(&o, ifindex) ? -1 : 0;
}

int do_detach(int argc, char **argv)
{
	struct pinned_iface p;
	const char *ifname;
	bool have_state;
	int ifindex, err;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("Usage: flowacct detach IFACE\n"
		       "Removes what attach added to IFACE: the XDP program, the TC filter,\n"
		       "the clsact qdisc if attach created it and nothing else uses it, the pins.\n");
		return 0;
	}
	if (argc != 2) {
		pr_err("detach takes one interface");
		return -1;
	}
	ifname = argv[1];
	if (parse_ifname(ifname, &ifindex))
		return -1;
	if (check_privileges())
		return -1;
	err = bpffs_prepare(false);
	if (err && err != -ENOENT)
		return -1;
	if (err && ifindex == 0) {
		pr_err("no interface '%s' in this network namespace", ifname);
		return -1;
	}
	libxdp_set_print(libxdp_print);

	have_state = !pinned_iface_open(ifname, &p);
	if (have_state) {
		pinned_iface_close(&p);
		if (p.state.netns_ino != current_netns_ino()) {
			pr_err("'%s' was attached from another network namespace; detach it there",
			       ifname);
			return -1;
		}
		/* The interface may be gone, or a new one may have its name. */
		if (ifindex && (__u32)ifindex != p.state.ifindex)
			ifindex = 0;
	}
	err = remove_attachment(ifname, ifindex, have_state ? &p.state : NULL);
	if (err < 0)
		return -1;
	if (!err) {
		pr_err("'%s' is not attached", ifname);
		return -1;
	}
	if (!json_output)
		printf("flowacct detached from %s\n", ifname);
	return 0;
}

/* Whether what the state says is attached is still there. */
static bool xdp_live(const struct attach_state *st)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	bool live = false;

	mp = xdp_multiprog__get_from_ifindex(st->ifindex);
	if (libxdp_get_error(mp) || !mp)
		return false;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		live = p && xdp_program__id(p) == st->xdp_prog_id;
	} else {
		for (p = xdp_multiprog__next_prog(NULL, mp); p;
		     p = xdp_multiprog__next_prog(p, mp))
			live |= xdp_program__id(p) == st->xdp_prog_id;
	}
	xdp_multiprog__close(mp);
	return live;
}

static bool tc_live(const struct attach_state *st)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = st->ifindex,
			    .attach_point = BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = st->tc_handle,
			    .priority = st->tc_priority);

	return !bpf_tc_query(&hook, &opts) && opts.prog_id == st->tc_prog_id;
}

int do_status(int argc, char **argv)
{
	char (*names)[IF_NAMESIZE];
	struct pinned_iface p;
	__u64 netns = current_netns_ino();
	struct json j;
	size_t i, n;
	int err;

	if (argc > 1 && (!strcmp(argv[1], "-j") || !strcmp(argv[1], "--json")))
		json_output = true;
	else if (argc > 1) {
		printf("Usage: flowacct status [-j]\nThe attached interfaces.\n");
		return strcmp(argv[1], "-h") && strcmp(argv[1], "--help") ? -1 : 0;
	}
	if (check_privileges())
		return -1;
	err = bpffs_prepare(false);
	if (err && err != -ENOENT)
		return -1;
	libxdp_set_print(libxdp_print);
	if (pinned_ifaces_list(&names, &n)) {
		pr_err("can't list %s: %s", PIN_ROOT, strerror(errno));
		return -1;
	}

	if (json_output) {
		json_init(&j, stdout);
		json_obj_open(&j, NULL);
		json_arr_open(&j, "interfaces");
	} else if (!n) {
		printf("no interface is attached\n");
	} else {
		printf("%-16s %-7s %-7s %-10s %-6s %9s %6s %6s %-5s %-20s %s\n", "IFACE",
		       "IFINDEX", "XDP", "DISPATCH", "MAP", "MAX-FLOWS", "XDP-ID",
		       "TC-ID", "LIVE", "SINCE", "SAMPLING");
	}
	for (i = 0; i < n; i++) {
		struct flow_sample_config sc = {};
		char since[32], path[PATH_MAX], sampling[48];
		bool here, live;
		int fd;
		time_t t;

		if (pinned_iface_open(names[i], &p)) {
			if (!json_output)
				printf("%-16s (incomplete: run 'flowacct detach %s')\n",
				       names[i], names[i]);
			continue;
		}
		pinned_iface_close(&p);
		pin_path(path, sizeof(path), names[i], "flow_sample_cfg");
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			bpf_map_lookup_elem(fd, &(__u32){ 0 }, &sc);
			close(fd);
		}
		if (sc.rate)
			snprintf(sampling, sizeof(sampling), "1/%u %s snaplen %u", sc.rate,
				 sample_mode_name(sc.mode), sc.snaplen);
		else
			snprintf(sampling, sizeof(sampling), "off");
		here = p.state.netns_ino == netns;
		live = here && xdp_live(&p.state) && tc_live(&p.state);
		t = p.state.attached_at;
		strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
		if (json_output) {
			json_obj_open(&j, NULL);
			json_str(&j, "ifname", p.ifname);
			json_u64(&j, "ifindex", p.state.ifindex);
			json_bool(&j, "this_netns", here);
			json_str(&j, "xdp_mode", xdp_mode_name(p.state.xdp_mode));
			json_bool(&j, "xdp_dispatcher", !p.state.xdp_legacy);
			json_str(&j, "map", p.state.shared_map ? "shared" : "percpu");
			json_u64(&j, "max_flows", p.state.max_flows);
			json_u64(&j, "xdp_prog_id", p.state.xdp_prog_id);
			json_u64(&j, "tc_prog_id", p.state.tc_prog_id);
			json_bool(&j, "live", live);
			json_u64(&j, "attached_at", p.state.attached_at);
			json_obj_open(&j, "sampling");
			json_u64(&j, "rate", sc.rate);
			json_str(&j, "mode", sample_mode_name(sc.mode));
			json_u64(&j, "snaplen", sc.snaplen);
			json_obj_close(&j);
			json_obj_close(&j);
		} else {
			printf("%-16s %-7u %-7s %-10s %-6s %9u %6u %6u %-5s %-20s %s\n",
			       p.ifname, p.state.ifindex,
			       xdp_mode_name(p.state.xdp_mode),
			       p.state.xdp_legacy ? "direct" : "libxdp",
			       p.state.shared_map ? "shared" : "percpu",
			       p.state.max_flows, p.state.xdp_prog_id,
			       p.state.tc_prog_id,
			       !here ? "other-netns" : live ? "yes" : "NO", since,
			       sampling);
		}
	}
	if (json_output) {
		json_arr_close(&j);
		json_obj_close(&j);
		json_end(&j);
	}
	free(names);
	return 0;
}
