/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * How the library tells its caller what went wrong, and what a long-running
 * engine has to say, without printing anything itself.
 *
 * A function that knows more than an errno (which interface, which option,
 * what to do about it) fills a struct fa_err and returns its code; the
 * command prints e->msg once, in its own shape (text or JSON). An engine
 * that runs for hours (the daemon) says what happens through a struct
 * fa_log the command hands it, as libbpf does through its print callback.
 */
#ifndef FLOWACCT_DIAG_H
#define FLOWACCT_DIAG_H

#include <stdarg.h>
#include <stddef.h>

/* One failure: a negative errno and one line (no "flowacct: ", no '\n'). */
struct fa_err {
	int code;
	char msg[512];
};

/*
 * Sets @e (when not NULL) to @code and the formatted line, and returns
 * @code, so that `return fa_err_set(e, -EEXIST, "...", ...);` reads as one
 * step. A line already set is kept: the first, innermost cause wins.
 */
int fa_err_set(struct fa_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Clears @e, for a caller that reuses one across calls. */
void fa_err_clear(struct fa_err *e);

enum fa_log_level {
	FA_LOG_ERR,	/* something failed; the engine goes on if it can */
	FA_LOG_NOTE,	/* what an operator wants in the daemon's log */
	FA_LOG_DEBUG,	/* only with -v */
};

/* Where an engine's lines go: a NULL fn says nothing. */
struct fa_log {
	void (*fn)(void *ctx, enum fa_log_level level, const char *line);
	void *ctx;
};

void fa_log(const struct fa_log *l, enum fa_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The levels of libbpf's and libxdp's messages (both number them so). */
enum fa_lib_level {
	FA_LIB_WARN,
	FA_LIB_INFO,
	FA_LIB_DEBUG,
};

typedef int (*fa_lib_print_fn)(enum fa_lib_level level, const char *fmt, va_list ap);

/*
 * Routes what libbpf says to @bpf and what libxdp says to @xdp. Their print callbacks are
 * process-wide and take no context, so this is the one setting of the
 * library that is the process's rather than an object's.
 */
void fa_lib_print_set(fa_lib_print_fn bpf, fa_lib_print_fn xdp);

#endif /* FLOWACCT_DIAG_H */
