/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A small streaming JSON writer: every value is written with one call that
 * takes its key (NULL inside arrays; a name of the program's own, written as
 * it is), and commas are the writer's business.
 * Output reaches the FILE when a top-level value ends (or the buffer
 * fills): a document left unfinished is not written. A writer may fill
 * memory instead (json_init_mem), for a part formatted apart.
 */
#ifndef FA_JSON_H
#define FA_JSON_H

#include <stdbool.h>
#include <stdio.h>

#include <linux/types.h>

#define JSON_MAX_DEPTH 16

/* Memory a writer fills: grown as needed, and kept from one use to the next. */
struct json_mem {
	char *buf;
	size_t len, cap;
	bool nomem;	/* something did not fit, and the buffer could not grow */
};

struct json {
	FILE *f;		/* or */
	struct json_mem *mem;
	int depth;
	bool has_items[JSON_MAX_DEPTH];
	size_t len;		/* of buf, not yet written to f */
	char buf[65536];
};

void json_init(struct json *j, FILE *f);
/* Writes into @m from its start, keeping its buffer. */
void json_init_mem(struct json *j, struct json_mem *m);
void json_obj_open(struct json *j, const char *key);
void json_obj_close(struct json *j);
void json_arr_open(struct json *j, const char *key);
void json_arr_close(struct json *j);
void json_u64(struct json *j, const char *key, __u64 v);
void json_str(struct json *j, const char *key, const char *s);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
/* A value that is JSON text already (a document from elsewhere). */
void json_raw(struct json *j, const char *key, const char *text);
/* The same, @n bytes long: a value its caller formatted whole. */
void json_raw_n(struct json *j, const char *key, const char *text, size_t n);
/*
 * Values written between these are items of an array whose brackets are
 * written elsewhere (a part of a long array, formatted apart): commas
 * between them, and no flush after each.
 */
void json_items_begin(struct json *j);
void json_items_end(struct json *j);
void json_end(struct json *j);
/* The same without the flush: for a stream of many small documents. */
void json_end_line(struct json *j);
void json_double(struct json *j, const char *key, double v);

#endif
