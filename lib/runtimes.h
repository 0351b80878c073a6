/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The container runtimes' JSON files read with json-c (runtimes.c), apart
 * from the rest of the library, whose own JSON writer shares names with it.
 */
#ifndef FLOWACCT_RUNTIMES_H
#define FLOWACCT_RUNTIMES_H

#include <stdbool.h>
#include <stddef.h>

/* containers/storage's containers.json (@doc): container @id's first name. */
bool fa_storage_name(const char *doc, const char *id, char *name, size_t len);
/* docker's config.v2.json (@doc): its "Name", without the leading slash. */
bool fa_docker_name(const char *doc, char *name, size_t len);

#endif /* FLOWACCT_RUNTIMES_H */
