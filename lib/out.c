// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>
#include <stdio.h>

#include "out.h"

void out_init(struct fa_out *o, FILE *f, bool json)
{
	o->f = f;
	o->json = json;
	json_init(&o->j, f);
}

void out_init_mem(struct fa_out *o, struct json_mem *m)
{
	o->f = NULL;
	o->json = true;
	json_init_mem(&o->j, m);
}

void out_end(struct fa_out *o)
{
	if (o->json)
		json_end(&o->j);
	else
		fflush(o->f);
}

void out_obj_open(struct fa_out *o, const char *key)
{
	if (o->json)
		json_obj_open(&o->j, key);
}

void out_obj_close(struct fa_out *o)
{
	if (o->json)
		json_obj_close(&o->j);
}

void out_arr_open(struct fa_out *o, const char *key)
{
	if (o->json)
		json_arr_open(&o->j, key);
}

void out_arr_close(struct fa_out *o)
{
	if (o->json)
		json_arr_close(&o->j);
}

/* The format strings are the callers' and carry one conversion of the
 * value's type; clang and gcc cannot see that through the pointer. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

void out_u64(struct fa_out *o, const char *key, const char *fmt, __u64 v)
{
	if (o->json)
		json_u64(&o->j, key, v);
	else if (fmt)
		fprintf(o->f, fmt, (uint64_t)v);
}

void out_str(struct fa_out *o, const char *key, const char *fmt, const char *s)
{
	if (o->json)
		json_str(&o->j, key, s);
	else if (fmt)
		fprintf(o->f, fmt, s);
}

void out_bool(struct fa_out *o, const char *key, const char *fmt, bool v)
{
	if (o->json)
		json_bool(&o->j, key, v);
	else if (fmt)
		fprintf(o->f, fmt, v ? "yes" : "no");
}

void out_double(struct fa_out *o, const char *key, const char *fmt, double v)
{
	if (o->json)
		json_double(&o->j, key, v);
	else if (fmt)
		fprintf(o->f, fmt, v);
}

void out_null(struct fa_out *o, const char *key, const char *fmt, const char *text)
{
	if (o->json)
		json_null(&o->j, key);
	else if (fmt)
		fprintf(o->f, fmt, text);
}

void out_raw(struct fa_out *o, const char *key, const char *json)
{
	if (o->json)
		json_raw(&o->j, key, json);
}

void out_raw_n(struct fa_out *o, const char *key, const char *json, size_t n)
{
	if (o->json)
		json_raw_n(&o->j, key, json, n);
}

void out_text(struct fa_out *o, const char *fmt, ...)
{
	va_list ap;

	if (o->json)
		return;
	va_start(ap, fmt);
	vfprintf(o->f, fmt, ap);
	va_end(ap);
}

#pragma GCC diagnostic pop

void out_cell_str(struct fa_out *o, const char *key, int width, const char *s)
{
	if (o->json)
		json_str(&o->j, key, s);
	else
		fprintf(o->f, "%*s ", width, s);
}

void out_cell_u64(struct fa_out *o, const char *key, int width, __u64 v)
{
	if (o->json)
		json_u64(&o->j, key, v);
	else
		fprintf(o->f, "%*" PRIu64 " ", width, (uint64_t)v);
}
