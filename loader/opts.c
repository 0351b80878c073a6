// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The option values and parsers several commands share. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const struct opt_value map_modes[] = {
	{ "shared", 1 }, { "percpu", 0 }, { NULL, 0 },
};

const struct opt_value sample_modes[] = {
	{ "every", FLOW_SAMPLE_EVERY }, { "random", FLOW_SAMPLE_RANDOM },
	{ "hash", FLOW_SAMPLE_HASH }, { NULL, 0 },
};

const struct opt_value sort_keys[] = {
	{ "bytes", FA_SORT_BYTES }, { "packets", FA_SORT_PACKETS },
	{ "last", FA_SORT_LAST }, { "first", FA_SORT_FIRST },
	{ "duration", FA_SORT_DURATION }, { NULL, 0 },
};

const struct opt_value ingress_hooks[] = {
	{ "auto", 0 }, { "xdp", FA_INGRESS_XDP_NATIVE }, { "tc", FA_INGRESS_TC },
	{ NULL, 0 },
};

const struct opt_value xdp_modes[] = {
	{ "native", FA_INGRESS_XDP_NATIVE }, { "skb", FA_INGRESS_XDP_SKB },
	{ NULL, 0 },
};

const struct opt_value tc_apis[] = {
	{ "auto", FA_TC_ASK_AUTO }, { "tcx", FA_TC_ASK_TCX },
	{ "clsact", FA_TC_ASK_CLSACT }, { NULL, 0 },
};

const struct opt_value decap_modes[] = {
	{ "off", FLOW_DECAP_OFF }, { "inner", FLOW_DECAP_INNER }, { NULL, 0 },
};

const struct opt_value formats[] = {
	{ "pcap", 0 }, { "pcapng", 1 }, { NULL, 0 },
};

static const struct {
	const char *name;
	unsigned int bit;
} group_fields[] = {
	{ "src", FA_GROUP_SRC }, { "dst", FA_GROUP_DST }, { "sport", FA_GROUP_SPORT },
	{ "dport", FA_GROUP_DPORT }, { "proto", FA_GROUP_PROTO },
	{ "iface", FA_GROUP_IFACE }, { "direction", FA_GROUP_DIR },
	{ "process", FA_GROUP_PROCESS }, { "cgroup", FA_GROUP_CGROUP },
	{ "container", FA_GROUP_CONTAINER }, { "drop_reason", FA_GROUP_DROP_REASON },
	{ "tunnel", FA_GROUP_TUNNEL },
};

/* "src,dst,proto" -> FA_GROUP_* bits. */
int parse_group(const char *arg, void *field, char *why, size_t len)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	unsigned int *mask = field;
	size_t i;

	if (!copy)
		return -ENOMEM;
	*mask = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < ARRAY_SIZE(group_fields); i++)
			if (!strcmp(tok, group_fields[i].name))
				break;
		if (i == ARRAY_SIZE(group_fields)) {
			*mask = 0;
			break;
		}
		*mask |= group_fields[i].bit;
	}
	free(copy);
	if (!*mask)
		snprintf(why, len, "give one or more of src, dst, sport, dport, proto, iface, direction, process, cgroup, container, drop_reason, tunnel, comma-separated");
	return *mask ? 0 : -EINVAL;
}

int parse_prefix(const char *arg, void *field, char *why, size_t len)
{
	if (fa_prefix_parse(arg, field)) {
		snprintf(why, len, "give an address or a prefix (192.0.2.0/24, 2001:db8::/32)");
		return -EINVAL;
	}
	return 0;
}

/* A protocol by name (tcp, udp, icmp, icmpv6, ...) or number. */
int parse_proto(const char *arg, void *field, char *why, size_t len)
{
	int *proto = field, i;
	char *end;
	long v;

	v = strtol(arg, &end, 10);
	if (*arg && !*end && v >= 0 && v <= 255) {
		*proto = v;
		return 0;
	}
	for (i = 0; i < 256; i++) {
		const char *n = fa_proto_name(i);

		if (n && !strcmp(n, arg)) {
			*proto = i;
			return 0;
		}
	}
	snprintf(why, len, "give a protocol name (tcp, udp, icmp, icmpv6, ...) or number");
	return -EINVAL;
}

/* Column names, as lib's one table of columns has them. */
int parse_columns(const char *arg, void *field, char *why, size_t len)
{
	char names[512];

	if (fa_cols_parse(arg, field)) {
		fa_col_names(names, sizeof(names));
		snprintf(why, len, "give columns from: %s (comma-separated; '+' first to add to the default ones)",
			 names);
		return -EINVAL;
	}
	return 0;
}

int parse_sample_rate(const char *arg, void *field, char *why, size_t len)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (!*arg || *arg == '-' || *end || errno || v > 0xffffffffull) {
		snprintf(why, len, "give N from 0 (off) to 4294967295");
		return -EINVAL;
	}
	*(__u32 *)field = v;
	return 0;
}

int parse_snaplen(const char *arg, void *field, char *why, size_t len)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (!*arg || *arg == '-' || *end || errno || !v || v > FLOW_MAX_SNAPLEN) {
		snprintf(why, len, "give a number of bytes from 1 to %d", FLOW_MAX_SNAPLEN);
		return -EINVAL;
	}
	*(__u32 *)field = v;
	return 0;
}

/* "4790,8000" -> up to FLOW_VXLAN_EXTRA_PORTS ports, host order. */
int parse_vxlan_ports(const char *arg, void *field, char *why, size_t len)
{
	__u16 *ports = ((struct fa_vxlan_ports *)field)->port;
	const char *p = arg;
	unsigned long v;
	char *end;
	int n = 0;

	memset(ports, 0, FLOW_VXLAN_EXTRA_PORTS * sizeof(*ports));
	for (;;) {
		errno = 0;
		v = strtoul(p, &end, 10);
		if (end == p || *p == '-' || errno || !v || v > 65535 ||
		    (*end && *end != ',') || n == FLOW_VXLAN_EXTRA_PORTS) {
			snprintf(why, len, "give up to %d UDP ports from 1 to 65535, "
				 "separated by commas", FLOW_VXLAN_EXTRA_PORTS);
			return -EINVAL;
		}
		ports[n++] = v;
		if (!*end)
			return 0;
		p = end + 1;
	}
}

int cli_attach_args(const struct fa_attach_args *a, struct fa_attach_opts *o,
		    unsigned int *flags)
{
	struct fa_err e = {};
	int err;

	err = fa_attach_args_resolve(a, o, flags, &e);
	if (err)
		cli_err(&e);
	return err;
}

int cli_err_bpf(const struct fa_err *e, bool libbpf_said)
{
	pr_err("%s%s", e->msg[0] ? e->msg : strerror(-e->code),
	       libbpf_said && !cli.verbose ? " (-v shows libbpf's log)" : "");
	return e->code;
}
