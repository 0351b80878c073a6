/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Inside libflowacct only: what columns.c (the cells of each column) gives
 * rows.c (a table's rows as text or JSON) and documents.c.
 */
#ifndef FLOWACCT_CELLS_H
#define FLOWACCT_CELLS_H

#include "internal.h"
#include "out.h"

/* What every column's function gets: the row and what is known around it. */
struct cell_ctx {
	const struct fa_row *r;
	const struct flow_value *rev;	/* a biflow's other direction, or NULL */
	const struct fa_ext *x;		/* what fa_enrich() joined, or NULL */
	const struct fa_view *v;
	int addr_width;
};

/* A flow's row (not an overflow or exported total). */
static inline bool fa_flow_row(const struct fa_row *r)
{
	return r->kind == FA_ROW_FLOW;
}

/*
 * The columns of @v's text table, in @cols (room for FA_MAX_COLS): those
 * asked for, or the defaults. Returns how many.
 */
size_t fa_cells_text_cols(const struct fa_view *v, unsigned char *cols);
/* The width of the address columns for the first @n rows. */
int fa_cells_addr_width(const struct fa_table *t, size_t n);
/* The header line of @cols. */
void fa_cells_header(struct fa_out *o, const unsigned char *cols, size_t ncols,
		     int addr_width);
/* One row: a JSON object of every field @c->v shows, column by column,
 * or its text line of @cols. */
void fa_cells_row(struct fa_out *o, const struct cell_ctx *c,
		  const unsigned char *cols, size_t ncols);
/* The rows of @t as @v shows them (at most v->top): a text table with its
 * header, or the JSON array "flows". */
void fa_rows_print(struct fa_out *o, const struct fa_table *t,
		   const struct fa_view *v);
/* The text of one hook's books (books.c). */
void fa_books_text(struct fa_out *o, int dir, int hook,
		   const struct fa_hook_stats *st);
/* The JSON fields of what fa_enrich() joined, as a dump's rows have them. */
void fa_cells_joined(struct fa_out *o, const struct fa_ext *x);
/* A row's "container" object (null: @ct NULL). */
void fa_print_container(struct fa_out *o, const struct fa_container *ct);
/* What a table's cell calls @ct: pod/name, pod/short id, or "-". */
const char *fa_container_label(const struct fa_container *ct, char *buf, size_t len);

#endif /* FLOWACCT_CELLS_H */
