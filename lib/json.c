// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A document can be hundreds of MB (a dump of a million flows), so the
 * writer keeps its own buffer: a key or a value is a memcpy into it, and
 * stdio sees one fwrite per 64 KiB. Per-character putc_unlocked and
 * per-string fwrite each cost several times that, and were most of what a
 * large dump cost. The buffer is written out whenever a top-level value
 * ends, so writes to the same FILE between documents stay in order.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"

void json_init(struct json *j, FILE *f)
{
	j->f = f;
	j->mem = NULL;
	j->depth = 0;
	j->has_items[0] = false;
	j->len = 0;
}

void json_init_mem(struct json *j, struct json_mem *m)
{
	json_init(j, NULL);
	j->mem = m;
	m->len = 0;
	m->nomem = false;
}

static void mem_write(struct json_mem *m, const void *p, size_t n)
{
	size_t cap = m->cap ? m->cap : 65536;
	char *grown;

	while (cap - m->len < n)
		cap *= 2;
	if (cap != m->cap) {
		grown = realloc(m->buf, cap);
		if (!grown) {
			m->nomem = true;
			return;
		}
		m->buf = grown;
		m->cap = cap;
	}
	memcpy(m->buf + m->len, p, n);
	m->len += n;
}

static void write_out(struct json *j, const void *p, size_t n)
{
	if (j->mem)
		mem_write(j->mem, p, n);
	else
		fwrite(p, 1, n, j->f);
}

static void flush_buf(struct json *j)
{
	if (j->len)
		write_out(j, j->buf, j->len);
	j->len = 0;
}

static void put_bytes(struct json *j, const void *p, size_t n)
{
	if (j->len + n > sizeof(j->buf)) {
		flush_buf(j);
		if (n > sizeof(j->buf)) {
			write_out(j, p, n);
			return;
		}
	}
	memcpy(j->buf + j->len, p, n);
	j->len += n;
}

static void put_char(struct json *j, char c)
{
	if (j->len == sizeof(j->buf))
		flush_buf(j);
	j->buf[j->len++] = c;
}

/* A value that ended at the top level: the document may be followed by
 * writes of the caller's own. */
static void value_done(struct json *j)
{
	if (!j->depth)
		flush_buf(j);
}

/* Runs of characters that need no escape go in with one copy each. */
static void put_string(struct json *j, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run = p;
	char esc[8];

	put_char(j, '"');
	for (;; p++) {
		if (*p >= 0x20 && *p != '"' && *p != '\\')
			continue;
		put_bytes(j, run, p - run);
		if (!*p)
			break;
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\', esc[1] = *p;
			put_bytes(j, esc, 2);
		} else {
			put_bytes(j, esc, snprintf(esc, sizeof(esc), "\\u%04x", *p));
		}
		run = p + 1;
	}
	put_char(j, '"');
}

/* Decimal, as "%" PRIu64 prints it. */
static void put_u64(struct json *j, __u64 v)
{
	char buf[20], *p = buf + sizeof(buf);

	do {
		*--p = '0' + v % 10;
		v /= 10;
	} while (v);
	put_bytes(j, p, buf + sizeof(buf) - p);
}

/*
 * A key is one of the program's own short names: nothing to escape, and
 * copied as it is scanned (a strlen() call per key was a seventh of a large
 * dump's time).
 */
#define KEY_ROOM 128

static void put_key(struct json *j, const char *key)
{
	char *d;
	size_t n;

	if (j->len + KEY_ROOM + 3 > sizeof(j->buf))
		flush_buf(j);
	d = j->buf + j->len;
	*d++ = '"';
	for (n = 0; key[n] && n < KEY_ROOM; n++)
		d[n] = key[n];
	j->len += 1 + n;
	if (key[n])	/* longer than any name of ours */
		put_bytes(j, key + n, strlen(key + n));
	put_bytes(j, "\":", 2);
}

static void begin_value(struct json *j, const char *key)
{
	if (j->has_items[j->depth])
		put_char(j, ',');
	j->has_items[j->depth] = true;
	if (key)
		put_key(j, key);
}

static void open_container(struct json *j, const char *key, char c)
{
	begin_value(j, key);
	put_char(j, c);
	if (j->depth < JSON_MAX_DEPTH - 1)
		j->depth++;
	j->has_items[j->depth] = false;
}

static void close_container(struct json *j, char c)
{
	put_char(j, c);
	if (j->depth > 0)
		j->depth--;
	value_done(j);
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
	close_container(j, '}');
}

void json_arr_close(struct json *j)
{
	close_container(j, ']');
}

/* Text that needs no escape (literals, numbers formatted here). */
static void put_text(struct json *j, const char *key, const char *text)
{
	begin_value(j, key);
	put_bytes(j, text, strlen(text));
	value_done(j);
}

void json_u64(struct json *j, const char *key, __u64 v)
{
	begin_value(j, key);
	put_u64(j, v);
	value_done(j);
}

void json_str(struct json *j, const char *key, const char *s)
{
	begin_value(j, key);
	put_string(j, s);
	value_done(j);
}

void json_bool(struct json *j, const char *key, bool v)
{
	put_text(j, key, v ? "true" : "false");
}

void json_items_begin(struct json *j)
{
	if (j->depth < JSON_MAX_DEPTH - 1)
		j->depth++;
	j->has_items[j->depth] = false;
}

void json_items_end(struct json *j)
{
	if (j->depth > 0)
		j->depth--;
	value_done(j);
}

void json_end(struct json *j)
{
	put_char(j, '\n');
	flush_buf(j);
	if (j->f)
		fflush(j->f);
}

void json_end_line(struct json *j)
{
	put_char(j, '\n');
	flush_buf(j);
}

/* Enough digits to read back the same double; JSON has no NaN or inf. */
void json_double(struct json *j, const char *key, double v)
{
	char buf[32];

	if (v != v || v - v != 0)
		snprintf(buf, sizeof(buf), "null");
	else
		snprintf(buf, sizeof(buf), "%.17g", v);
	put_text(j, key, buf);
}

void json_null(struct json *j, const char *key)
{
	put_text(j, key, "null");
}

void json_raw(struct json *j, const char *key, const char *text)
{
	put_text(j, key, text);
}

void json_raw_n(struct json *j, const char *key, const char *text, size_t n)
{
	begin_value(j, key);
	put_bytes(j, text, n);
	value_done(j);
}
