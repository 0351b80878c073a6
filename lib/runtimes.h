/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The container runtimes' JSON files read with json-c (runtimes.c), apart
 * from the rest of the library, whose own JSON writer shares names with it.
 */
#ifndef FLOWACCT_RUNTIMES_H
#define FLOWACCT_RUNTIMES_H

#include <stdbool.h>
#include <stddef.h>

/* containers/storage's containers.json (@doc): @fn for each container's
 * id and first name. -1 if @doc is not such a document. */
int fa_storage_names(const char *doc, void (*fn)(void *ctx, const char *id, const char *name),
		     void *ctx);
/* docker's config.v2.json (@doc): its "Name", without the leading slash. */
bool fa_docker_name(const char *doc, char *name, size_t len);

#endif /* FLOWACCT_RUNTIMES_H */
