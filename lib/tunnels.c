// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Tunnels (--decap inner): the names of their types, the "tunnel" field of
 * rows and records, and the join of a table's tunnelled rows to the
 * tunnels the programs noted in flow_tunnels (common/flow_kern_user.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "internal.h"
#include "out.h"

static const char *const type_names[FLOW_NR_TUN_TYPES] = {
	[FLOW_TUN_VXLAN] = "vxlan",
	[FLOW_TUN_GENEVE] = "geneve",
	[FLOW_TUN_GRE] = "gre",
	[FLOW_TUN_ERSPAN] = "erspan",
	[FLOW_TUN_IPIP] = "ipip",
	[FLOW_TUN_MPLS] = "mpls",
};

const char *fa_tunnel_type_name(__u8 type)
{
	if (!type)
		return NULL;
	return type < FLOW_NR_TUN_TYPES ? type_names[type] : "unknown";
}

/* An outer address as the key's addresses print (IPv4-mapped for IPv4). */
static void outer_str(const struct flow_tunnel *t, const __u8 *addr, char *buf,
		      size_t len)
{
	struct flow_key k = { .ip_version = t->outer_ip_version };

	fa_addr_str(&k, addr, buf, len);
}

void fa_print_tunnel(struct fa_out *o, __u8 type, const struct fa_ext *x)
{
	const struct flow_tunnel *t = x && (x->flags & FA_EXT_TUNNEL) ? &x->tun : NULL;
	const char *name = fa_tunnel_type_name(type);
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], cell[32];

	if (!o->json) {
		if (!name)
			snprintf(cell, sizeof(cell), "-");
		else if (t && t->has_id)
			snprintf(cell, sizeof(cell), "%s:%u", name, t->id);
		else
			snprintf(cell, sizeof(cell), "%s", name);
		out_cell_str(o, NULL, -18, cell);
		return;
	}
	if (!name) {
		out_null(o, "tunnel", NULL, NULL);
		return;
	}
	out_obj_open(o, "tunnel");
	out_str(o, "type", NULL, name);
	if (t && t->has_id)
		out_u64(o, "id", NULL, t->id);
	else
		out_null(o, "id", NULL, NULL);
	if (t && t->outer_ip_version) {
		outer_str(t, t->outer_src, src, sizeof(src));
		outer_str(t, t->outer_dst, dst, sizeof(dst));
		out_str(o, "outer_src", NULL, src);
		out_str(o, "outer_dst", NULL, dst);
	} else {
		out_null(o, "outer_src", NULL, NULL);
		out_null(o, "outer_dst", NULL, NULL);
	}
	out_obj_close(o);
}

int fa_join_tunnels(struct fa_table *t, size_t from, int tunnels_fd)
{
	struct fa_ext found = {};
	size_t i;

	if (tunnels_fd < 0)
		return 0;
	for (i = from; i < t->n; i++) {
		struct fa_row *r = &t->rows[i];
		struct fa_ext *e;

		if (r->kind != FA_ROW_FLOW || !fa_tunnel_join(tunnels_fd, &r->key, &found))
			continue;
		if (!t->ext) {
			t->ext = calloc(t->n + 1, sizeof(*t->ext));
			if (!t->ext)
				return -ENOMEM;
		}
		if (r->ext) {
			e = &t->ext[r->ext - 1];
		} else {
			/* fa_enrich() and this allocate n + 1: one ext a row at most. */
			if (t->next > t->n)
				return -EOVERFLOW;
			e = &t->ext[t->next];
			memset(e, 0, sizeof(*e));
			r->ext = ++t->next;
		}
		e->tun = found.tun;
		e->flags |= FA_EXT_TUNNEL;
	}
	return 0;
}

bool fa_tunnel_join(int fd, const struct flow_key *k, struct fa_ext *e)
{
	if (!k->tunnel || fd < 0 || bpf_map_lookup_elem(fd, k, &e->tun))
		return false;
	e->flags |= FA_EXT_TUNNEL;
	return true;
}

int fa_tunnels_fd(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) || info.max_entries <= 1)
		return -1;
	return fd;
}

void fa_tunnel_of(const int *fd, const struct flow_key *k, struct flow_tunnel *t)
{
	if (!k->tunnel || fd[FA_PIN_TUNNELS] < 0 ||
	    bpf_map_lookup_elem(fd[FA_PIN_TUNNELS], k, t))
		memset(t, 0, sizeof(*t));
}
