// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The rows of a flow table, as a document's "flows": a text table, or a
 * JSON array written fast, since a dump may have a million rows. A plain
 * row (most of them) is formatted in one piece, and a large table's rows
 * on two threads.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cells.h"

/*
 * A row with nothing joined to it, in a table neither grouped nor paired,
 * is most rows of a large dump, and all its fields are known in advance:
 * it is formatted here into one buffer and written with one call. Column
 * by column, through the writer's per-key and per-value calls, a row cost
 * about 1 us, most of a million-flow dump. The fields and their order are
 * the columns' (json_order), and tests/table_check holds the two writers
 * to the same bytes.
 */
#define PUT_LIT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)

/* Decimal digits in @v: counted first, so they go straight into place. */
static unsigned int dec_digits(__u64 v)
{
	unsigned int n = 1;

	for (; v >= 10000; v /= 10000)
		n += 4;
	return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

/* Decimal, two digits a step. */
static char *put_dec(char *p, __u64 v)
{
	static const char pairs[] =
		"00010203040506070809101112131415161718192021222324"
		"25262728293031323334353637383940414243444546474849"
		"50515253545556575859606162636465666768697071727374"
		"75767778798081828384858687888990919293949596979899";
	char *end = p + dec_digits(v), *t = end;

	while (v >= 100) {
		t -= 2;
		memcpy(t, pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10) {
		t -= 2;
		memcpy(t, pairs + 2 * v, 2);
	} else {
		*--t = '0' + v;
	}
	return end;
}

static char *put_cstr(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

static char *put_addr_field(char *p, const struct fa_row *r, bool src)
{
	const struct flow_key *k = &r->key;

	if (!fa_flow_row(r))
		return src ? PUT_LIT(p, ",\"src\":null") : PUT_LIT(p, ",\"dst\":null");
	p = src ? PUT_LIT(p, ",\"src\":\"") : PUT_LIT(p, ",\"dst\":\"");
	p = fa_addr_put(k, src ? k->src : k->dst, p);
	*p++ = '"';
	return p;
}

/* A name JSON needs no escape in, as interface names nearly always are. */
static bool plain_name(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == '"' || *s == '\\')
			return false;
	return true;
}

static bool plain_json_row(const struct cell_ctx *c, const char *name)
{
	return !c->v->group && !c->v->biflow && !c->x && !c->v->by_column &&
	       !c->v->rate_secs && !c->r->drops.packets && !c->r->key.tunnel &&
	       (!name || plain_name(name));
}

static void print_plain_json_row(struct fa_out *o, const struct cell_ctx *c,
				 const char *name)
{
	const struct fa_row *r = c->r;
	char buf[1024], *p = buf;	/* a row is at most about 560 */

	p = PUT_LIT(p, "{\"ifindex\":");
	p = put_dec(p, r->key.ifindex);
	if (name) {
		p = PUT_LIT(p, ",\"iface\":\"");
		p = put_cstr(p, name);
		*p++ = '"';
	} else {
		p = PUT_LIT(p, ",\"iface\":null");
	}
	p = r->key.direction == FLOW_DIR_EGRESS ?
		    PUT_LIT(p, ",\"direction\":\"egress\",\"ip_version\":") :
		    PUT_LIT(p, ",\"direction\":\"ingress\",\"ip_version\":");
	p = put_dec(p, r->key.ip_version);
	p = PUT_LIT(p, ",\"proto\":");
	p = put_dec(p, r->key.proto);
	p = put_addr_field(p, r, true);
	p = put_addr_field(p, r, false);
	p = PUT_LIT(p, ",\"sport\":");
	p = put_dec(p, ntohs(r->key.sport));
	p = PUT_LIT(p, ",\"dport\":");
	p = put_dec(p, ntohs(r->key.dport));
	p = PUT_LIT(p, ",\"packets\":");
	p = put_dec(p, r->val.packets);
	p = PUT_LIT(p, ",\"bytes\":");
	p = put_dec(p, r->val.bytes);
	p = PUT_LIT(p, ",\"first_seen_ns\":");
	p = put_dec(p, r->val.first_seen_ns);
	p = PUT_LIT(p, ",\"last_seen_ns\":");
	p = put_dec(p, r->val.last_seen_ns);
	p = PUT_LIT(p, ",\"tcp_flags\":\"");
	p = fa_tcp_flags_put(r->val.tcp_flags, p);
	p = PUT_LIT(p, "\",\"socket_cookie\":null,\"netns\":null,\"process\":null,"
		       "\"cgroup\":null,\"container\":null,\"tcp\":null,\"retrans_segs\":null,"
		       "\"retrans_bytes\":null,\"passive_rtt\":null,\"drops\":null,"
		       "\"drop_reason\":null,\"tunnel\":null,\"overflow\":");
	p = r->kind == FA_ROW_OVERFLOW ? PUT_LIT(p, "true") : PUT_LIT(p, "false");
	p = PUT_LIT(p, ",\"exported\":");
	p = r->kind == FA_ROW_EXPORTED ? PUT_LIT(p, "true}") : PUT_LIT(p, "false}");
	out_raw_n(o, NULL, buf, p - buf);
}
/* One JSON row: in one piece if it can be, else column by column. */
static void print_json_row(struct fa_out *o, const struct cell_ctx *c)
{
	const char *name = fa_names_get(c->v->names, c->r->key.ifindex);

	if (plain_json_row(c, name))
		print_plain_json_row(o, c, name);
	else
		fa_cells_row(o, c, NULL, 0);
}

/*
 * A large table's JSON rows are formatted on two threads: a helper takes
 * some chunks of rows into memory, this thread the rest, and writes all of
 * them out in order. Formatting was most of a million-flow dump;
 * this machine has two CPUs and the client reading the answer needs little.
 * Each chunk is "row,row,...": rows as print_json_row writes them.
 */
#define CHUNK_ROWS	4096
#define PARALLEL_ROWS	(8 * CHUNK_ROWS)
/*
 * The helper takes 3 chunks of every 5: this thread also writes every
 * chunk to the socket or pipe, which costs about as much as formatting a
 * fifth of them.
 */
#define CYCLE		5
#define HELPER_SHARE	3
#define SLOTS		4

struct chunk {
	struct json_mem text;	/* kept for the helper's next chunk in this slot */
	bool ready;
};

struct row_pool {
	const struct fa_table *t;
	const struct fa_view *v;
	size_t n, nchunks;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct chunk slot[SLOTS];	/* the helper's chunks, in turn */
};

static bool helpers_chunk(size_t k)
{
	return k % CYCLE < HELPER_SHARE;
}

/* Where the helper puts chunk @k, one of its own. */
static struct chunk *slot_of(struct row_pool *p, size_t k)
{
	return &p->slot[(k / CYCLE * HELPER_SHARE + k % CYCLE) % SLOTS];
}

/* The @i-th JSON row, in v->order if there is one. */
static void print_one(struct fa_out *o, const struct fa_table *t,
		      const struct fa_view *v, size_t i)
{
	enum { AHEAD = 8 };	/* rows read at random: fetched ahead */
	struct cell_ctx c = { .v = v };
	size_t r = i;

	if (v->order) {
		r = v->order[i];
		if (i + AHEAD < t->n)
			__builtin_prefetch(&t->rows[v->order[i + AHEAD]]);
	}
	c.r = &t->rows[r];
	c.rev = t->rev ? &t->rev[r] : NULL;
	c.x = fa_row_ext(t, c.r);
	print_json_row(o, &c);
}

/*
 * Rows [k * CHUNK_ROWS, ...) into @m as "row,row,..."; false if they did not
 * fit and @m could not grow. Each slot keeps its memory from chunk to chunk:
 * a stream opened for each chunk grew it by copying, which was a third of
 * the formatting.
 */
static bool format_chunk(const struct row_pool *p, size_t k, struct json_mem *m)
{
	size_t i, end = (k + 1) * CHUNK_ROWS < p->n ? (k + 1) * CHUNK_ROWS : p->n;
	struct fa_out o;

	out_init_mem(&o, m);
	json_items_begin(&o.j);
	for (i = k * CHUNK_ROWS; i < end; i++)
		print_one(&o, p->t, p->v, i);
	json_items_end(&o.j);
	return !m->nomem;
}

static void *helper_main(void *arg)
{
	struct row_pool *p = arg;
	struct chunk *s;
	size_t k;

	for (k = 0; k < p->nchunks; k++) {
		if (!helpers_chunk(k))
			continue;
		s = slot_of(p, k);
		pthread_mutex_lock(&p->lock);
		while (s->ready)
			pthread_cond_wait(&p->cond, &p->lock);
		pthread_mutex_unlock(&p->lock);
		/* Without memory, the slot says so: the writer writes it itself. */
		format_chunk(p, k, &s->text);
		pthread_mutex_lock(&p->lock);
		s->ready = true;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

/* The helper's chunk @k, waited for. */
static struct chunk *wait_chunk(struct row_pool *p, size_t k)
{
	struct chunk *s = slot_of(p, k);

	pthread_mutex_lock(&p->lock);
	while (!s->ready)
		pthread_cond_wait(&p->cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
	return s;
}

/* Its slot back to the helper, once written out. */
static void release_chunk(struct row_pool *p, struct chunk *s)
{
	pthread_mutex_lock(&p->lock);
	s->ready = false;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/* Returns -1, having written nothing, if the helper can't start. */
static int print_json_rows_parallel(struct fa_out *o, const struct fa_table *t,
				    const struct fa_view *v, size_t n)
{
	struct row_pool p = { .t = t, .v = v, .n = n,
			      .nchunks = (n + CHUNK_ROWS - 1) / CHUNK_ROWS };
	struct json_mem own = {}, *text;
	struct chunk *s;
	pthread_t helper;
	size_t k, i;
	bool done;

	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.cond, NULL);
	if (pthread_create(&helper, NULL, helper_main, &p)) {
		pthread_cond_destroy(&p.cond);
		pthread_mutex_destroy(&p.lock);
		return -1;
	}
	for (k = 0; k < p.nchunks; k++) {
		s = NULL;
		text = &own;
		if (helpers_chunk(k)) {
			s = wait_chunk(&p, k);
			text = &s->text;
			done = !text->nomem;
		} else {
			done = format_chunk(&p, k, text);
		}
		if (done) {
			/* Items to the writer: it puts the comma between. */
			out_raw_n(o, NULL, text->buf, text->len);
		} else {
			/* No memory for the chunk: its rows straight out. */
			for (i = k * CHUNK_ROWS; i < (k + 1) * CHUNK_ROWS && i < n; i++)
				print_one(o, t, v, i);
		}
		if (s)
			release_chunk(&p, s);
	}
	/* Every chunk was taken: the helper has left its loop. */
	pthread_join(helper, NULL);
	for (k = 0; k < SLOTS; k++)
		free(p.slot[k].text.buf);
	free(own.buf);
	pthread_cond_destroy(&p.cond);
	pthread_mutex_destroy(&p.lock);
	return 0;
}
void fa_rows_print(struct fa_out *o, const struct fa_table *t,
		   const struct fa_view *v)
{
	unsigned char cols[FA_MAX_COLS];
	size_t i, n = t->n, ncols = 0;
	struct cell_ctx c = { .v = v };

	if (v->top && v->top < n)
		n = v->top;
	if (!o->json) {
		ncols = fa_cells_text_cols(v, cols);
		c.addr_width = fa_cells_addr_width(t, n);
		fa_cells_header(o, cols, ncols, c.addr_width);
	}
	out_arr_open(o, "flows");
	if (o->json && n >= PARALLEL_ROWS && !print_json_rows_parallel(o, t, v, n)) {
		/* written */
	} else if (o->json) {
		for (i = 0; i < n; i++)
			print_one(o, t, v, i);
	} else {
		for (i = 0; i < n; i++) {
			c.r = &t->rows[i];
			c.rev = t->rev ? &t->rev[i] : NULL;
			c.x = fa_row_ext(t, c.r);
			fa_cells_row(o, &c, cols, ncols);
		}
	}
	out_arr_close(o);
	if (n < t->n)
		out_text(o, "(%zu more %s)\n", t->n - n, v->group ? "rows" : "flows");
}
