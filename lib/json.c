// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A document can be hundreds of MB (a dump of a million flows), so text goes
 * out through putc_unlocked, which is a store into stdio's buffer, and
 * numbers are formatted here: fputc, fprintf and fwrite cost several times
 * that per call, and were most of what a large dump cost.
 */

#include "json.h"

void json_init(struct json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->has_items[0] = false;
}

static void put_string(FILE *f, const char *s)
{
	const unsigned char *p;

	putc_unlocked('"', f);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			putc_unlocked('\\', f);
			putc_unlocked(*p, f);
		} else if (*p < 0x20) {
			fprintf(f, "\\u%04x", *p);
		} else {
			putc_unlocked(*p, f);
		}
	}
	putc_unlocked('"', f);
}

/* Decimal, as "%" PRIu64 prints it. */
static void put_u64(FILE *f, __u64 v)
{
	char buf[20], *p = buf + sizeof(buf);

	do {
		*--p = '0' + v % 10;
		v /= 10;
	} while (v);
	while (p < buf + sizeof(buf))
		putc_unlocked(*p++, f);
}

/* The separator and key that come before any value. */
static void begin_value(struct json *j, const char *key)
{
	if (j->has_items[j->depth])
		putc_unlocked(',', j->f);
	j->has_items[j->depth] = true;
	if (key) {
		put_string(j->f, key);
		putc_unlocked(':', j->f);
	}
}

static void open_container(struct json *j, const char *key, char c)
{
	begin_value(j, key);
	putc_unlocked(c, j->f);
	if (j->depth < JSON_MAX_DEPTH - 1)
		j->depth++;
	j->has_items[j->depth] = false;
}

void json_obj_open(struct json *j, const char *key)
{
	open_container(j, key, '{');
}

void json_arr_open(struct json *j, const char *key)
{
	open_container(j, key, '[');
}

void json_obj_close(struct json *j)
{
	putc_unlocked('}', j->f);
	if (j->depth > 0)
		j->depth--;
}

void json_arr_close(struct json *j)
{
	putc_unlocked(']', j->f);
	if (j->depth > 0)
		j->depth--;
}

void json_u64(struct json *j, const char *key, __u64 v)
{
	begin_value(j, key);
	put_u64(j->f, v);
}

void json_str(struct json *j, const char *key, const char *s)
{
	begin_value(j, key);
	put_string(j->f, s);
}

void json_bool(struct json *j, const char *key, bool v)
{
	begin_value(j, key);
	fputs(v ? "true" : "false", j->f);
}

void json_end(struct json *j)
{
	fputc('\n', j->f);
	fflush(j->f);
}

void json_end_line(struct json *j)
{
	putc_unlocked('\n', j->f);
}

/* Enough digits to read back the same double; JSON has no NaN or inf. */
void json_double(struct json *j, const char *key, double v)
{
	begin_value(j, key);
	if (v != v || v - v != 0)
		fputs("null", j->f);
	else
		fprintf(j->f, "%.17g", v);
}

void json_null(struct json *j, const char *key)
{
	begin_value(j, key);
	fputs("null", j->f);
}

void json_raw(struct json *j, const char *key, const char *text)
{
	begin_value(j, key);
	fputs(text, j->f);
}
