// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Errors and log lines the library hands to its caller: see diag.h. */
#include <stdarg.h>
#include <stdio.h>

#include "diag.h"

int fa_err_set(struct fa_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e || e->msg[0])
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

void fa_err_clear(struct fa_err *e)
{
	e->code = 0;
	e->msg[0] = '\0';
}

void fa_log(const struct fa_log *l, enum fa_log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!l || !l->fn)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	l->fn(l->ctx, level, line);
}
