// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ifindex -> interface name, for the rows of one snapshot (one network
 * namespace): what a table's iface column shows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

int fa_names_add(struct fa_names *m, __u32 ifindex, const char *name)
{
	void *grown;

	if (fa_names_get(m, ifindex))
		return 0;
	grown = realloc(m->v, (m->n + 1) * sizeof(*m->v));
	if (!grown)
		return -ENOMEM;
	m->v = grown;
	m->v[m->n].ifindex = ifindex;
	snprintf(m->v[m->n].name, sizeof(m->v[m->n].name), "%s", name);
	m->n++;
	return 0;
}

const char *fa_names_get(const struct fa_names *m, __u32 ifindex)
{
	size_t i;

	for (i = 0; m && i < m->n; i++)
		if (m->v[i].ifindex == ifindex)
			return m->v[i].name;
	return NULL;
}

void fa_names_free(struct fa_names *m)
{
	free(m->v);
	m->v = NULL;
	m->n = 0;
}
