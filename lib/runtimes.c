// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The container runtimes' JSON files, parsed with json-c: what names a
 * container where its runtime keeps it (containers.c reads the files).
 */
#include <json.h>
#include <stdio.h>
#include <string.h>

#include "runtimes.h"

int fa_storage_names(const char *doc, void (*fn)(void *ctx, const char *id, const char *name),
		     void *ctx)
{
	json_object *all = json_tokener_parse(doc), *c, *v, *names;
	const char *id, *name;
	size_t k, n;

	if (!all)
		return -1;
	if (!json_object_is_type(all, json_type_array)) {
		json_object_put(all);
		return -1;
	}
	n = json_object_array_length(all);
	for (k = 0; k < n; k++) {
		c = json_object_array_get_idx(all, k);
		if (!json_object_object_get_ex(c, "id", &v) || !(id = json_object_get_string(v)) ||
		    !json_object_object_get_ex(c, "names", &names) ||
		    !json_object_is_type(names, json_type_array) ||
		    !json_object_array_length(names))
			continue;
		name = json_object_get_string(json_object_array_get_idx(names, 0));
		if (name && *name)
			fn(ctx, id, name);
	}
	json_object_put(all);
	return 0;
}

bool fa_docker_name(const char *doc, char *name, size_t len)
{
	json_object *o = json_tokener_parse(doc), *v;
	const char *s;
	bool found = false;

	if (!o)
		return false;
	if (json_object_object_get_ex(o, "Name", &v) && (s = json_object_get_string(v)) &&
	    s[*s == '/'])  {
		snprintf(name, len, "%s", s + (*s == '/'));
		found = true;
	}
	json_object_put(o);
	return found;
}
