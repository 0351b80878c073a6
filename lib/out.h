/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One emitter for both outputs, in the manner of iproute2's json_print:
 * every field is written by one call that takes its JSON key and its text
 * form; JSON mode writes "key":value, text mode the formatted cell, and
 * calls that have no meaning in a mode write nothing there.
 */
#ifndef FA_OUT_H
#define FA_OUT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include <linux/types.h>

#include "json.h"

struct fa_out {
	FILE *f;
	bool json;
	struct json j;
};

void out_init(struct fa_out *o, FILE *f, bool json);
/* JSON into memory (json_init_mem). */
void out_init_mem(struct fa_out *o, struct json_mem *m);
/* Ends the document: JSON gets its newline; both are flushed. */
void out_end(struct fa_out *o);

/* Containers exist only in JSON. */
void out_obj_open(struct fa_out *o, const char *key);
void out_obj_close(struct fa_out *o);
void out_arr_open(struct fa_out *o, const char *key);
void out_arr_close(struct fa_out *o);

/*
 * A value: JSON "key":v; text printf(fmt, v) unless fmt is NULL (then the
 * field is JSON only). A NULL key writes a JSON value in an array.
 */
void out_u64(struct fa_out *o, const char *key, const char *fmt, __u64 v);
void out_str(struct fa_out *o, const char *key, const char *fmt, const char *s);
void out_bool(struct fa_out *o, const char *key, const char *fmt, bool v);
void out_double(struct fa_out *o, const char *key, const char *fmt, double v);
/* JSON null; in text, printf(fmt, text) (e.g. "-"). */
void out_null(struct fa_out *o, const char *key, const char *fmt, const char *text);

/* JSON only: a value that is JSON text already. */
void out_raw(struct fa_out *o, const char *key, const char *json);
void out_raw_n(struct fa_out *o, const char *key, const char *json, size_t n);

/* Text only (headers, separators, prose). */
void out_text(struct fa_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A table cell of @width columns (negative: left-aligned) followed by a
 * space, or "key":value in JSON. */
void out_cell_str(struct fa_out *o, const char *key, int width, const char *s);
void out_cell_u64(struct fa_out *o, const char *key, int width, __u64 v);

#endif /* FA_OUT_H */
