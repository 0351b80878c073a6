// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Drops in the books: the drop program (sock/flowacct_drop.bpf.c) on the
 * kernel's kfree_skb tracepoint, loaded on a program set's epoch so that
 * its tables flip and drain with the flow tables, and the names of the
 * kernel's drop reasons, read from the running kernel's BTF: the enum's
 * members change from one kernel version to the next.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "flowacct_drop.skel.h"

/* ---- the reasons' names -------------------------------------------------------- */

#define REASON_PREFIX "SKB_DROP_REASON_"
#define SUBSYS_PREFIX "SKB_DROP_REASON_SUBSYS_"
#define SUBSYS_SHIFT 16

struct reason_name {
	__u32 value;
	char *name;
};

/*
 * The running kernel's names, read once for the process (they are the
 * kernel's, the same for every caller) on the first thread that needs them.
 */
static struct reason_name *reasons, *subsystems;
static size_t nreasons, nsubsystems;
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static int enum_read(const struct btf *btf, const char *type, const char *prefix,
		     struct reason_name **out, size_t *n)
{
	const struct btf_type *t;
	const struct btf_enum *e;
	size_t plen = strlen(prefix), i;
	const char *name;
	int id;

	id = btf__find_by_name_kind(btf, type, BTF_KIND_ENUM);
	if (id < 0)
		return id;
	t = btf__type_by_id(btf, id);
	e = btf_enum(t);
	*out = calloc(btf_vlen(t) + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < btf_vlen(t); i++) {
		name = btf__name_by_offset(btf, e[i].name_off);
		if (!name)
			continue;
		if (!strncmp(name, prefix, plen))
			name += plen;
		(*out)[*n].value = (__u32)e[i].val;
		(*out)[*n].name = strdup(name);
		if ((*out)[*n].name)
			(*n)++;
	}
	return 0;
}

static void names_read(void)
{
	struct btf *btf;

	btf = btf__load_vmlinux_btf();
	if (!btf)
		return;
	enum_read(btf, "skb_drop_reason", REASON_PREFIX, &reasons, &nreasons);
	enum_read(btf, "skb_drop_reason_subsys", SUBSYS_PREFIX, &subsystems, &nsubsystems);
	btf__free(btf);
}

static void names_load(void)
{
	pthread_once(&names_once, names_read);
}

static const char *lookup(const struct reason_name *v, size_t n, __u32 value)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].value == value)
			return v[i].name;
	return NULL;
}

const char *fa_drop_reason_name(__u32 reason, char *buf, size_t len)
{
	const char *name, *sub;

	if (reason == FA_DROP_REASONS_MORE)
		return "MORE_REASONS";
	names_load();
	/* A subsystem's reasons: its id in the high 16 bits, its code below. */
	if (reason >> SUBSYS_SHIFT) {
		sub = lookup(subsystems, nsubsystems, reason >> SUBSYS_SHIFT);
		if (sub)
			snprintf(buf, len, "%s:%u", sub, reason & 0xffff);
		else
			snprintf(buf, len, "SUBSYS_%u:%u", reason >> SUBSYS_SHIFT, reason & 0xffff);
		return buf;
	}
	name = lookup(reasons, nreasons, reason);
	if (name)
		return name;
	snprintf(buf, len, "REASON_%u", reason);
	return buf;
}

int fa_drop_reason_value(const char *name, __u32 *value)
{
	size_t i;

	names_load();
	for (i = 0; i < nreasons; i++)
		if (!strcmp(reasons[i].name, name)) {
			*value = reasons[i].value;
			return 0;
		}
	return -ENOENT;
}

const char *fa_drops_mode_name(int mode)
{
	return mode == FA_DROPS_ALL ? "all" : mode == FA_DROPS_ATTACHED ? "attached" : "off";
}

/* ---- the program ---------------------------------------------------------------- */

/*
 * The program's link is pinned beside the set's, named for how it was
 * loaded: its mode, and with --decap inner the tunnels it opens
 * ("drop_link_attached-decap-4790" has VXLAN on 4790 as well). Like the
 * hooks' links it outlives a daemon killed with kill -9, so that no drop
 * goes uncounted until the next daemon adopts the set, and with it the
 * link, if that daemon would load it the same way. Any other is unpinned
 * first, and stops.
 */
#define DROP_LINK_PREFIX "drop_link_"

static void link_pin_name(const struct fa_drop_opts *o, char *buf, size_t len)
{
	size_t n;
	int i;

	n = snprintf(buf, len, DROP_LINK_PREFIX "%s%s", fa_drops_mode_name(o->mode),
		     o->decap ? "-decap" : "");
	for (i = 0; o->decap && i < FLOW_VXLAN_EXTRA_PORTS && n < len; i++)
		if (o->vxlan.port[i])
			n += snprintf(buf + n, len - n, "-%u", o->vxlan.port[i]);
}

struct fa_drop_prog {
	struct flowacct_drop_bpf *skel;	/* NULL: adopted */
	struct bpf_link *link;		/* loaded here */
	int link_fd;			/* adopted: the pinned link's */
	int fd[4];			/* the tables, FA_PIN_DROPS_0 on */
	bool own_fds;			/* fd[] are dups of ours */
	bool raw;			/* raw_tp: the kernel has no BTF-typed tracing */
	bool adopted;
	char pin[PATH_MAX];
};

static const int drop_pins[] = { FA_PIN_DROPS_0, FA_PIN_DROPS_1, FA_PIN_DROP_STATS,
				 FA_PIN_DROP_WATCH };

static struct bpf_map *pin_map(struct flowacct_drop_bpf *skel, int pin)
{
	switch (pin) {
	case FA_PIN_DROPS_0: return skel->maps.drops_0;
	case FA_PIN_DROPS_1: return skel->maps.drops_1;
	case FA_PIN_DROP_STATS: return skel->maps.drop_stats;
	default: return skel->maps.drop_watch;
	}
}

static int books_of_none(int fd)
{
	int ncpus = libbpf_num_possible_cpus();
	__u32 zero = 0;
	void *v;
	int err;

	if (ncpus < 0)
		return ncpus;
	v = calloc(ncpus, sizeof(struct flow_drop_stats));
	if (!v)
		return -ENOMEM;
	err = bpf_map_update_elem(fd, &zero, v, BPF_NOEXIST) && errno != EEXIST ? -errno : 0;
	free(v);
	return err;
}

/* Loads and attaches with one of the two program types: the BTF-typed one
 * where the kernel has BTF-typed tracing, else raw_tp. */
static int load(struct fa_drop_prog *d, const struct fa_drop_opts *o, __u32 entries,
		int epoch_fd, const int *reuse, bool raw)
{
	struct stat st;
	size_t i;
	__u32 v;
	int err;

	d->raw = raw;
	d->skel = flowacct_drop_bpf__open();
	if (!d->skel)
		return -errno;
	if (stat("/proc/self/ns/net", &st))
		return -errno;
	d->skel->rodata->drop_cfg.netns_ino = st.st_ino;
	d->skel->rodata->drop_cfg.all = o->mode == FA_DROPS_ALL;
	d->skel->rodata->drop_cfg.decap = o->decap;
	for (i = 0; i < FLOW_VXLAN_EXTRA_PORTS; i++)
		d->skel->rodata->drop_cfg.vxlan_ports[i] = htons(o->vxlan.port[i]);
	if (!fa_drop_reason_value("PACKET_SOCK_ERROR", &v))
		d->skel->rodata->drop_cfg.packet_sock_reason = v;
	if (!fa_drop_reason_value("SKB_CONSUMED", &v))
		d->skel->rodata->drop_cfg.consumed_reason = v;
	bpf_program__set_autoload(d->skel->progs.flowacct_drop_btf, !raw);
	bpf_program__set_autoload(d->skel->progs.flowacct_drop_raw, raw);
	err = bpf_map__set_max_entries(d->skel->maps.drops_0, entries);
	if (!err)
		err = bpf_map__set_max_entries(d->skel->maps.drops_1, entries);
	/* Keyed as the flow tables are: with the tunnel's tag, or not. */
	for (i = 0; i < 2 && !err; i++)
		err = bpf_map__set_key_size(i ? d->skel->maps.drops_1 : d->skel->maps.drops_0,
					    o->decap && !o->keys_untagged ?
					    sizeof(struct flow_drop_key) : FLOW_DROP_KEY_SIZE_OFF);
	if (!err && bpf_map__reuse_fd(d->skel->maps.data_epoch, epoch_fd))
		err = -errno;
	for (i = 0; i < ARRAY_SIZE(drop_pins) && !err; i++)
		if (reuse[i] >= 0 && bpf_map__reuse_fd(pin_map(d->skel, drop_pins[i]), reuse[i]))
			err = -errno;
	if (!err)
		err = flowacct_drop_bpf__load(d->skel);
	/* The books of none first: a drop that finds the table full of
	 * interfaces' books falls back to them, and must find them. */
	if (!err)
		err = books_of_none(bpf_map__fd(d->skel->maps.drop_stats));
	if (!err) {
		d->link = bpf_program__attach(raw ? d->skel->progs.flowacct_drop_raw :
						    d->skel->progs.flowacct_drop_btf);
		if (!d->link)
			err = -errno;
	}
	for (i = 0; i < ARRAY_SIZE(drop_pins) && !err; i++)
		d->fd[i] = bpf_map__fd(pin_map(d->skel, drop_pins[i]));
	return err;
}

/* The link a killed daemon loading it the same way left, with its tables. */
static int adopt(struct fa_drop_prog *d, const int *reuse)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(drop_pins); i++)
		if (reuse[i] < 0)
			return -ENOENT;
	d->link_fd = bpf_obj_get(d->pin);
	if (d->link_fd < 0)
		return -errno;
	for (i = 0; i < ARRAY_SIZE(drop_pins); i++) {
		d->fd[i] = fcntl(reuse[i], F_DUPFD_CLOEXEC, 0);
		if (d->fd[i] < 0)
			return -errno;
	}
	d->own_fds = d->adopted = true;
	return 0;
}

void fa_drop_prog_unpin(const char *dir, const struct fa_drop_opts *keep)
{
	char path[PATH_MAX], name[NAME_MAX + 1] = "";
	struct dirent *de;
	DIR *dh;

	if (keep)
		link_pin_name(keep, name, sizeof(name));
	fa_pin_path(path, sizeof(path), dir, NULL);
	dh = opendir(path);
	if (!dh)
		return;
	while ((de = readdir(dh))) {
		if (strncmp(de->d_name, DROP_LINK_PREFIX, strlen(DROP_LINK_PREFIX)) ||
		    !strcmp(de->d_name, name))
			continue;
		fa_pin_path(path, sizeof(path), dir, de->d_name);
		unlink(path);
	}
	closedir(dh);
}

static void prog_free(struct fa_drop_prog *d)
{
	size_t i;

	bpf_link__destroy(d->link);
	d->link = NULL;
	if (d->link_fd >= 0)
		close(d->link_fd);
	d->link_fd = -1;
	for (i = 0; i < ARRAY_SIZE(d->fd); i++) {
		if (d->own_fds && d->fd[i] >= 0)
			close(d->fd[i]);
		d->fd[i] = -1;
	}
	flowacct_drop_bpf__destroy(d->skel);
	d->skel = NULL;
	d->own_fds = false;
}

/*
 * The program of @dir loaded as @o says: the one a killed daemon left
 * running there loaded the same way, adopted, or one loaded on @epoch_fd
 * and attached to kfree_skb (BTF-typed, else raw_tp), on the tables @reuse
 * names (-1: made anew, of @entries rows each epoch). Its link is not
 * pinned yet.
 */
static int prog_open(const char *dir, const struct fa_drop_opts *o, __u32 entries,
		     int epoch_fd, const int reuse[4], struct fa_drop_prog **out)
{
	char name[NAME_MAX + 1];
	struct fa_drop_prog *d;
	__u32 v;
	int err;

	*out = NULL;
	if (o->mode != FA_DROPS_ATTACHED && o->mode != FA_DROPS_ALL)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->link_fd = d->fd[0] = d->fd[1] = d->fd[2] = d->fd[3] = -1;
	/* One loaded otherwise stops; one loaded so goes on, adopted. */
	fa_drop_prog_unpin(dir, o);
	link_pin_name(o, name, sizeof(name));
	fa_pin_path(d->pin, sizeof(d->pin), dir, name);
	if (!access(d->pin, F_OK)) {
		err = adopt(d, reuse);
		if (!err) {
			*out = d;
			return 0;
		}
		/* Half a set's drop state: what is there goes, anew. */
		prog_free(d);
		unlink(d->pin);
	}
	/*
	 * Reason 0 must be no drop's: kernels whose enum begins with
	 * NOT_SPECIFIED (5.17, 5.18) would have the drops' books mix it with
	 * "none".
	 */
	if (fa_drop_reason_value("SKB_NOT_DROPPED_YET", &v) || v) {
		fa_drop_prog_close(d);
		return -EOPNOTSUPP;
	}
	err = load(d, o, entries, epoch_fd, reuse, false);
	if (err) {
		prog_free(d);
		err = load(d, o, entries, epoch_fd, reuse, true);
	}
	if (err) {
		fa_drop_prog_close(d);
		return err;
	}
	*out = d;
	return 0;
}

void fa_drop_prog_fds(const struct fa_drop_prog *d, int fd[FA_NR_PINS])
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(drop_pins); i++)
		fd[drop_pins[i]] = d->fd[i];
}

bool fa_drop_prog_raw(const struct fa_drop_prog *d)
{
	return d->raw;
}

bool fa_drop_prog_adopted(const struct fa_drop_prog *d)
{
	return d->adopted;
}

void fa_drop_prog_detach(struct fa_drop_prog *d)
{
	if (!d)
		return;
	/* The pin and our references: the program runs no more. */
	unlink(d->pin);
	bpf_link__destroy(d->link);
	d->link = NULL;
	if (d->link_fd >= 0)
		close(d->link_fd);
	d->link_fd = -1;
}

void fa_drop_prog_close(struct fa_drop_prog *d)
{
	if (!d)
		return;
	prog_free(d);
	free(d);
}

int fa_drop_prog_start(const char *dir, const struct fa_drop_opts *o, int epoch_fd,
		       struct fa_drop_prog **out)
{
	int reuse[ARRAY_SIZE(drop_pins)], fd[FA_NR_PINS], err;
	char path[PATH_MAX];
	size_t i;

	*out = NULL;
	for (i = 0; i < ARRAY_SIZE(drop_pins); i++) {
		fa_pin_path(path, sizeof(path), dir, fa_pin_name(drop_pins[i]));
		reuse[i] = bpf_obj_get(path);
	}
	/* The tables' size is fixed: the state's files are sized for it. */
	err = prog_open(dir, o, FLOW_DROP_DEFAULT_ENTRIES, epoch_fd, reuse, out);
	if (!err)
		fa_drop_prog_fds(*out, fd);
	for (i = 0; i < ARRAY_SIZE(drop_pins) && !err; i++) {
		if (reuse[i] >= 0)
			continue;
		fa_pin_path(path, sizeof(path), dir, fa_pin_name(drop_pins[i]));
		if (bpf_obj_pin(fd[drop_pins[i]], path))
			err = -errno;
	}
	/* The link last: a kill before leaves no program writing tables
	 * no one will find. */
	if (!err && !(*out)->adopted && bpf_link__pin((*out)->link, (*out)->pin))
		err = -errno;
	for (i = 0; i < ARRAY_SIZE(drop_pins); i++)
		if (reuse[i] >= 0)
			close(reuse[i]);
	if (err) {
		fa_drop_prog_close(*out);
		*out = NULL;
	}
	return err;
}

int fa_drop_attach_iface(const char *dir, const struct fa_drop_opts *o, int epoch_fd,
			 __u32 ifindex)
{
	int fd[FA_NR_PINS], err;
	struct fa_drop_prog *d;

	err = fa_drop_prog_start(dir, o, epoch_fd, &d);
	if (err)
		return err;
	fa_drop_prog_fds(d, fd);
	err = fa_drop_watch(fd[FA_PIN_DROP_WATCH], ifindex, true);
	/* The link and tables pinned keep the program there. */
	fa_drop_prog_close(d);
	return err;
}

int fa_drop_watch_clear(int watch_fd)
{
	__u32 k, next;

	while (!bpf_map_get_next_key(watch_fd, NULL, &next)) {
		k = next;
		if (bpf_map_delete_elem(watch_fd, &k) && errno != ENOENT)
			return -errno;
	}
	return 0;
}

int fa_drop_watch(int watch_fd, __u32 ifindex, bool on)
{
	__u8 one = 1;

	if (watch_fd < 0)
		return 0;
	if (on)
		return bpf_map_update_elem(watch_fd, &ifindex, &one, BPF_ANY) ? -errno : 0;
	return bpf_map_delete_elem(watch_fd, &ifindex) && errno != ENOENT ? -errno : 0;
}

int fa_drop_stats_read(int fd, __u32 ifindex, struct flow_drop_stats *sum)
{
	int ncpus = libbpf_num_possible_cpus(), cpu, i;
	struct flow_drop_stats *v;

	memset(sum, 0, sizeof(*sum));
	if (fd < 0)
		return -ENOENT;
	if (ncpus < 0)
		return ncpus;
	v = calloc(ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &ifindex, v)) {
		free(v);
		return -errno;
	}
	for (cpu = 0; cpu < ncpus; cpu++)
		for (i = 0; i < FLOW_NR_DROP_COUNTERS; i++)
			sum->c[i] += v[cpu].c[i];
	free(v);
	return 0;
}

int fa_drop_stats_forget(int fd, __u32 ifindex)
{
	if (fd < 0)
		return 0;
	return bpf_map_delete_elem(fd, &ifindex) && errno != ENOENT ? -errno : 0;
}

int fa_drop_table_read(int fd, const struct fa_tick_clock *ticks, struct fa_table *t)
{
	struct flow_drop_key k, next = {};	/* the tag stays 0 in a table without */
	struct flow_drop_value v;
	struct flow_value val;
	struct flow_key fk;
	const void *prev = NULL;
	int err;

	if (fd < 0)
		return 0;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v))
			continue;	/* drained meanwhile */
		memset(&val, 0, sizeof(val));
		fa_value_merge_map(&val, &v, ticks);
		fa_drop_flow_key(&fk, &k);
		err = fa_table_append(t, &fk, &val, FA_ROW_DROP);
		if (err)
			return err;
		t->rows[t->n - 1].val.packets = t->rows[t->n - 1].val.bytes = 0;
		t->rows[t->n - 1].val.tcp_flags = 0;
		t->rows[t->n - 1].drops = (struct fa_drops){
			.packets = v.packets, .bytes = v.bytes, .reason = { k.reason, 0 },
		};
	}
	return 0;
}

/*
 * RFC 7270's forwardingStatus (section 4.12): the status in the top two
 * bits (01 forwarded, 10 dropped), a reason code below. A record whose
 * every packet was dropped (or that has drops only: dropped before the
 * hook) is "dropped", with the code of its main reason where one of the
 * RFC's fits; one with some dropped is "forwarded, unknown". The kernel
 * has many more reasons than the RFC's codes: docs/drops.md has the table.
 */
#define FWD_FORWARDED_UNKNOWN	64
#define FWD_DROPPED_UNKNOWN	128

static const struct {
	const char *name;	/* the kernel's, without SKB_DROP_REASON_ */
	__u8 code;
} rfc7270_codes[] = {
	{ "NETFILTER_DROP", 129 },	/* ACL deny */
	{ "TC_INGRESS", 129 },
	{ "TC_EGRESS", 129 },
	{ "BPF_CGROUP_EGRESS", 129 },
	{ "XDP", 129 },
	{ "IP_INNOROUTES", 131 },	/* unroutable */
	{ "IP_OUTNOROUTES", 131 },
	{ "IP_INADDRERRORS", 131 },
	{ "NEIGH_FAILED", 132 },	/* adjacency */
	{ "NEIGH_QUEUEFULL", 132 },
	{ "NEIGH_DEAD", 132 },
	{ "NEIGH_CREATEFAIL", 132 },
	{ "PKT_TOO_BIG", 133 },		/* fragmentation and DF set */
	{ "IP_CSUM", 134 },		/* bad header checksum */
	{ "TCP_CSUM", 134 },
	{ "UDP_CSUM", 134 },
	{ "ICMP_CSUM", 134 },
	{ "PKT_TOO_SMALL", 135 },	/* bad total length */
	{ "IP_INHDR", 136 },		/* bad header length */
	{ "IP_RPFILTER", 140 },		/* RPF */
	{ "NO_SOCKET", 141 },		/* for us */
	{ "SOCKET_RCVBUFF", 141 },
	{ "SOCKET_FILTER", 141 },
	{ "SOCKET_CLOSE", 141 },
	{ "SOCKET_BACKLOG", 141 },
	{ "PROTO_MEM", 141 },
	{ "TCP_CLOSE", 141 },
	{ "TCP_FLAGS", 141 },
	{ "TCP_OLD_DATA", 141 },
	{ "TCP_OVERWINDOW", 141 },
	{ "TCP_INVALID_SEQUENCE", 141 },
	{ "TCP_RESET", 141 },
	{ "UNHANDLED_PROTO", 141 },
	{ "IP_NOPROTO", 141 },
};

__u8 fa_drop_reason_rfc7270(__u32 reason)
{
	char buf[48];
	const char *name = fa_drop_reason_name(reason, buf, sizeof(buf));
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rfc7270_codes); i++)
		if (!strcmp(name, rfc7270_codes[i].name))
			return rfc7270_codes[i].code;
	return FWD_DROPPED_UNKNOWN;
}

__u8 fa_drops_forwarding_status(const struct fa_drops *d, __u64 packets)
{
	if (d->packets < packets)
		return FWD_FORWARDED_UNKNOWN;
	return fa_drop_reason_rfc7270(fa_drops_top(d));
}

/* ---- in documents ----------------------------------------------------------------- */

static const char *const counter_names[FLOW_NR_DROP_COUNTERS] = {
#define FLOW_DROP_COUNTER_NAME(id, name, kind) [FLOW_DC_##id] = name,
	FLOW_DROP_COUNTERS(FLOW_DROP_COUNTER_NAME)
#undef FLOW_DROP_COUNTER_NAME
};

const char *fa_drop_counter_name(int i)
{
	return i >= 0 && i < FLOW_NR_DROP_COUNTERS ? counter_names[i] : "?";
}

void fa_print_drops(struct fa_out *o, const struct fa_drops *d)
{
	char buf[2][48];
	const char *n0, *n1;

	if (!d->packets) {
		out_null(o, "drops", NULL, "-");
		return;
	}
	out_obj_open(o, "drops");
	out_u64(o, "packets", NULL, d->packets);
	out_u64(o, "bytes", NULL, d->bytes);
	out_obj_open(o, "reasons");
	n0 = fa_drop_reason_name(d->reason[0], buf[0], sizeof(buf[0]));
	if (d->packets > d->second)
		out_u64(o, n0, NULL, d->packets - d->second);
	if (d->second) {
		n1 = fa_drop_reason_name(d->reason[1], buf[1], sizeof(buf[1]));
		out_u64(o, n1, NULL, d->second);
	}
	out_obj_close(o);
	out_obj_close(o);
}

const char *fa_drops_top_reason(const struct fa_drops *d, char *buf, size_t len)
{
	if (!d->packets)
		return NULL;
	return fa_drop_reason_name(fa_drops_top(d), buf, len);
}

void fa_print_drop_books(struct fa_out *o, const struct flow_drop_stats *st)
{
	int i;

	if (!o->json) {
		/* The sum as it adds up: seen = attributed + each reason. */
		out_text(o, "  drops    %llu seen (%llu bytes) = %llu attributed",
			 (unsigned long long)st->c[FLOW_DC_SEEN],
			 (unsigned long long)st->c[FLOW_DC_SEEN_BYTES],
			 (unsigned long long)st->c[FLOW_DC_ATTRIBUTED]);
		for (i = FLOW_DC_ATTRIBUTED + 1; i < FLOW_NR_DROP_COUNTERS; i++)
			if (st->c[i])
				out_text(o, " + %llu %s", (unsigned long long)st->c[i],
					 counter_names[i]);
		out_text(o, "\n");
		return;
	}
	out_obj_open(o, "drops");
	for (i = 0; i < FLOW_NR_DROP_COUNTERS; i++)
		out_u64(o, counter_names[i], NULL, st->c[i]);
	out_obj_close(o);
}
